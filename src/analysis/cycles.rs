//! Reference cycles among new objects: strongly connected components (iterative Tarjan over
//! the CSR), each retained (reachable from a root) or garbage (unreachable: left for a
//! collector that is off, slow, or blocked by finalizers), grouped by shape.

use super::dominators::Dominators;
use crate::graph::{HeapGraph, NONE, kind};
use crate::memory::huge_vec;
use serde::Serialize;
use std::collections::HashMap;

/// Cycles of one shape.
#[derive(Debug, Clone, Serialize)]
pub struct CycleGroup {
    /// Types and labels around the cycle, sorted: `Node.parent -> Node, Node.children -> list, ...`.
    pub signature: String,
    /// `retained` or `garbage`.
    pub status: &'static str,
    /// Cycles of this shape.
    pub count: u64,
    /// Objects in them.
    pub objects: u64,
    /// Their `sys.getsizeof` bytes.
    pub bytes: u64,
    /// One cycle's addresses and types, as an example.
    pub example: String,
}

/// Distinct references listed in a cycle's signature before it is cut.
pub const MAX_SIGNATURE_EDGES: usize = 12;

fn collapse(label: &str) -> &str {
    if label.starts_with('[') { "[*]" } else { label }
}

/// Strongly connected components of more than one object (or with a self-loop) among the
/// objects marked in `member`, over strong references: `(component of each object, components)`.
pub fn components(g: &HeapGraph, member: &[bool]) -> (Vec<u32>, Vec<Vec<u32>>) {
    let n = g.object_count();
    let strong = |e: usize| g.edge_kind[e] != kind::WEAK;
    let mut index = huge_vec(n, NONE);
    let mut low = huge_vec(n, 0u32);
    let mut on_stack = huge_vec(n, false);
    let mut stack: Vec<u32> = Vec::new();
    let mut call: Vec<(u32, usize)> = Vec::new();
    let mut next = 0u32;
    let mut comp_of = huge_vec(n, NONE);
    let mut comps: Vec<Vec<u32>> = Vec::new();
    for s in 0..n as u32 {
        if !member[s as usize] || index[s as usize] != NONE {
            continue;
        }
        index[s as usize] = next;
        low[s as usize] = next;
        next += 1;
        stack.push(s);
        on_stack[s as usize] = true;
        call.push((s, g.edge_range(s).start));
        while let Some(&mut (v, ref mut e)) = call.last_mut() {
            let end = g.edge_range(v).end;
            let mut pushed = false;
            while *e < end {
                let edge = *e;
                *e += 1;
                let w = g.edge_target[edge];
                if !member[w as usize] || !strong(edge) {
                    continue;
                }
                if index[w as usize] == NONE {
                    index[w as usize] = next;
                    low[w as usize] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w as usize] = true;
                    call.push((w, g.edge_range(w).start));
                    pushed = true;
                    break;
                } else if on_stack[w as usize] {
                    low[v as usize] = low[v as usize].min(index[w as usize]);
                }
            }
            if pushed {
                continue;
            }
            call.pop();
            if let Some(&(p, _)) = call.last() {
                low[p as usize] = low[p as usize].min(low[v as usize]);
            }
            if low[v as usize] == index[v as usize] {
                let mut comp = Vec::new();
                while let Some(x) = stack.pop() {
                    on_stack[x as usize] = false;
                    comp.push(x);
                    if x == v {
                        break;
                    }
                }
                let self_loop = comp.len() == 1 && g.targets(v).contains(&v);
                if comp.len() > 1 || self_loop {
                    for &x in &comp {
                        comp_of[x as usize] = comps.len() as u32;
                    }
                    comps.push(comp);
                }
            }
        }
    }
    (comp_of, comps)
}

/// Cycles whose members are all marked in `member`, grouped by signature, most bytes first.
pub fn cycles(g: &HeapGraph, member: &[bool], doms: &Dominators) -> Vec<CycleGroup> {
    let strong = |e: usize| g.edge_kind[e] != kind::WEAK;
    let (comp_of, comps) = components(g, member);
    let mut groups: HashMap<(String, &'static str), CycleGroup> = HashMap::new();
    for (c, comp) in comps.iter().enumerate() {
        // Instance dicts inside the cycle read as their owner's attributes (Node.parent), so a
        // cycle has the same shape whether attributes live in a __dict__ or inline (3.11+).
        let mut owner: HashMap<u32, u32> = HashMap::new();
        for &v in comp {
            for e in g.edge_range(v) {
                let w = g.edge_target[e];
                if g.edge_kind[e] == kind::INSTANCE_DICT && comp_of[w as usize] == c as u32 {
                    owner.insert(w, v);
                }
            }
        }
        let mut edges: Vec<String> = Vec::new();
        for &v in comp {
            for e in g.edge_range(v) {
                let w = g.edge_target[e];
                if comp_of[w as usize] != c as u32
                    || !strong(e)
                    || g.edge_kind[e] == kind::INSTANCE_DICT
                {
                    continue;
                }
                let raw = g.edge_label_text(e);
                let (from, label) = match owner.get(&v) {
                    Some(&o) if g.edge_kind[e] == kind::DICT_VALUE => {
                        let name = raw.trim_matches('\'').to_string();
                        (o, name)
                    }
                    _ if raw.is_empty() => (v, kind::name(g.edge_kind[e]).to_string()),
                    _ => (v, collapse(&raw).to_string()),
                };
                edges.push(format!(
                    "{}.{} -> {}",
                    g.type_name(g.type_of[from as usize]),
                    label,
                    g.type_name(g.type_of[w as usize])
                ));
            }
        }
        edges.sort();
        edges.dedup();
        let more = edges.len().saturating_sub(MAX_SIGNATURE_EDGES);
        edges.truncate(MAX_SIGNATURE_EDGES);
        let mut signature = edges.join(", ");
        if more > 0 {
            signature.push_str(&format!(", ... {more} more kinds of reference"));
        }
        let status = if comp.iter().any(|&v| doms.reachable(v)) {
            "retained"
        } else {
            "garbage"
        };
        let bytes: u64 = comp.iter().map(|&v| g.size[v as usize]).sum();
        let entry = groups
            .entry((signature.clone(), status))
            .or_insert_with(|| CycleGroup {
                signature,
                status,
                count: 0,
                objects: 0,
                bytes: 0,
                example: comp
                    .iter()
                    .take(6)
                    .map(|&v| {
                        format!(
                            "{} at 0x{:x}",
                            g.type_name(g.type_of[v as usize]),
                            g.addr[v as usize]
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        entry.count += 1;
        entry.objects += comp.len() as u64;
        entry.bytes += bytes;
    }
    let mut out: Vec<CycleGroup> = groups.into_values().collect();
    out.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then(b.count.cmp(&a.count))
            .then(a.signature.cmp(&b.signature))
    });
    out
}
