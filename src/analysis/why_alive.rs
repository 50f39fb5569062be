//! `leakhunt path`: why one object is alive — its shortest chain from a root, and the chain of
//! objects that dominate it (each of which, if freed, would free it too).

use super::chain::{self, Step};
use super::dominators::{SUPER_ROOT, of_heap};
use super::paths::shortest_paths;
use crate::graph::{HeapGraph, NONE};
use serde::Serialize;

/// An object named by type and address.
#[derive(Debug, Clone, Serialize)]
pub struct ObjRef {
    /// `module.qualname`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// `0x...`.
    pub address: String,
    /// What it retains (its own size plus all it dominates).
    pub retained: u64,
}

/// The answer for one object.
#[derive(Debug, Clone, Serialize)]
pub struct WhyAlive {
    /// The object asked about.
    pub object: ObjRef,
    /// Whether any root reaches it through strong references.
    pub reachable: bool,
    /// Shortest chain from a root.
    pub chain: Vec<Step>,
    /// The same as one line.
    pub chain_text: String,
    /// Its dominators, nearest first, up to the roots.
    pub dominators: Vec<ObjRef>,
}

/// Explain why `obj` is alive.
pub fn explain(g: &HeapGraph, obj: u32) -> WhyAlive {
    let doms = of_heap(g);
    let retained = doms.retained(g.size);
    let r = |v: u32| ObjRef {
        type_name: g.type_name(g.type_of[v as usize]),
        address: format!("0x{:x}", g.addr[v as usize]),
        retained: retained[v as usize],
    };
    let paths = shortest_paths(g);
    let hops = paths.path_to(g, obj);
    let root = hops
        .first()
        .and_then(|h| paths.root_of.get(&h.object).copied());
    let steps = chain::steps(g, &hops, root);
    let mut dom_chain = Vec::new();
    let mut d = doms.idom[obj as usize];
    while d != NONE && d != SUPER_ROOT {
        dom_chain.push(r(d));
        d = doms.idom[d as usize];
    }
    WhyAlive {
        object: r(obj),
        reachable: doms.reachable(obj),
        chain_text: chain::text(&steps),
        chain: steps,
        dominators: dom_chain,
    }
}

/// The answer as text.
pub fn text(w: &WhyAlive) -> String {
    let mut out = format!(
        "{} at {} retains {} bytes\n",
        w.object.type_name, w.object.address, w.object.retained
    );
    if !w.reachable {
        out.push_str("unreachable from every root: garbage awaiting collection (a cycle the GC has not freed?)\n");
        return out;
    }
    out.push_str(&format!("shortest chain: {}\n", w.chain_text));
    if w.dominators.is_empty() {
        out.push_str("dominated only by the roots (reachable along several independent paths)\n");
    } else {
        out.push_str("dominators (freeing any one frees it):\n");
        for d in &w.dominators {
            out.push_str(&format!(
                "  {} at {} (retains {} bytes)\n",
                d.type_name, d.address, d.retained
            ));
        }
    }
    out
}
