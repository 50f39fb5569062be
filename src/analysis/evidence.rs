//! The graph facts behind a leak suspect: what its retainer is, what the new objects it holds
//! are made of (types, closures, dict keys, cycles, back-pointers), gathered for classification.

use super::dominators::{Dominators, SUPER_ROOT};
use super::snap_diff::Suspect;
use crate::graph::{HeapGraph, NONE, kind};
use std::collections::HashMap;

/// Per-snapshot context shared by every suspect: who accumulates each new object, and which
/// new objects sit in reference cycles.
pub struct Context<'g, 'a> {
    /// The last snapshot.
    pub g: &'g HeapGraph<'a>,
    /// New objects of the last snapshot.
    pub is_new: &'g [bool],
    /// Its dominators.
    pub doms: &'g Dominators,
    /// For each object, its reference cycle among new objects, or NONE.
    comp_of: Vec<u32>,
    /// Retained size of every object.
    retained: &'g [u64],
    /// New reachable objects grouped by the old object whose dominator subtree they hang in.
    members: Vec<u32>,
    /// Each accumulator's range in `members`.
    member_range: HashMap<u32, (usize, usize)>,
}

/// A type's share of a suspect's new memory.
#[derive(Debug, Clone)]
pub struct TypeShare {
    /// `module.qualname`.
    pub name: String,
    /// Objects.
    pub count: u64,
    /// Bytes.
    pub bytes: u64,
}

/// What the graph says about one suspect group.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The retainer's type.
    pub retainer_type: String,
    /// How the retainer is reached (`handlers`, `_cache`, `['k']`).
    pub retainer_label: String,
    /// Types and labels along the chain, root first (the leaking step last).
    pub chain: Vec<(String, String)>,
    /// Types of the new objects the retainers hold directly, most bytes first.
    pub held: Vec<TypeShare>,
    /// Types of every new object in the retainers' dominator subtrees, most bytes first.
    pub subtree: Vec<TypeShare>,
    /// New objects held (directly or not).
    pub new_objects: u64,
    /// Their bytes.
    pub new_bytes: u64,
    /// Bytes of new objects that sit in reference cycles among new objects.
    pub cyclic_bytes: u64,
    /// Held objects that are themselves part of such a cycle (a record with a big payload
    /// outside the cycle still counts).
    pub cyclic_held: u64,
    /// Held objects with a reference back to the retainer or the object that owns it.
    pub back_pointers: u64,
    /// The label of such a back reference (`parent`).
    pub back_label: Option<String>,
    /// Held objects reached through a dict key (the retainer is a dict that gained keys).
    pub new_keys: u64,
    /// New keys that are atoms (str, int, bytes, float, tuple).
    pub scalar_keys: u64,
    /// Entries whose value refers to its own key (a registry keyed by the object's id).
    pub key_in_value: u64,
    /// Entries whose value is an empty container (what a `defaultdict` read inserts).
    pub empty_values: u64,
    /// Held objects that look like `threading.Thread` by their attributes.
    pub thread_like: u64,
    /// Held functions with a closure.
    pub closures: u64,
    /// Bytes kept alive by those closures' cells.
    pub cell_bytes: u64,
    /// Closure variable names holding the most bytes, most first.
    pub cell_names: Vec<String>,
    /// Bound methods among the held objects.
    pub methods: u64,
    /// The types of the bound methods' `__self__` (held or wrapped), most common first.
    pub method_self_types: Vec<String>,
    /// Partials among the held objects whose arguments keep new objects alive.
    pub partials: u64,
    /// What closures' cells and partials' arguments keep alive, by type, most bytes first.
    pub captured: Vec<TypeShare>,
}

impl Facts {
    /// The held type with the most bytes.
    pub fn top_held(&self) -> Option<&TypeShare> {
        self.held.first()
    }

    /// Bytes of subtree objects whose type satisfies `pred`.
    pub fn subtree_bytes(&self, pred: impl Fn(&str) -> bool) -> u64 {
        self.subtree
            .iter()
            .filter(|t| pred(&t.name))
            .map(|t| t.bytes)
            .sum()
    }

    /// Objects held directly whose type satisfies `pred`.
    pub fn held_count(&self, pred: impl Fn(&str) -> bool) -> u64 {
        self.held
            .iter()
            .filter(|t| pred(&t.name))
            .map(|t| t.count)
            .sum()
    }

    /// Objects held directly.
    pub fn held_total(&self) -> u64 {
        self.held.iter().map(|t| t.count).sum()
    }
}

/// The attribute name of an instance-dict value label (`'parent'` -> `parent`).
fn unquote(label: &str) -> &str {
    label
        .strip_prefix('\'')
        .and_then(|l| l.strip_suffix('\''))
        .unwrap_or(label)
}

/// An object's named attributes: inline ones and those of its `__dict__`, as (name, target).
pub fn attributes(g: &HeapGraph, v: u32) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for e in g.edge_range(v) {
        match g.edge_kind[e] {
            kind::ATTRIBUTE => out.push((g.edge_label_text(e), g.edge_target[e])),
            kind::INSTANCE_DICT => {
                let d = g.edge_target[e];
                for f in g.edge_range(d) {
                    if g.edge_kind[f] == kind::DICT_VALUE {
                        out.push((unquote(&g.edge_label_text(f)).to_string(), g.edge_target[f]));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Whether `v` has no references besides its class (an empty list, dict or set).
fn is_empty_container(g: &HeapGraph, v: u32) -> bool {
    let t = g.type_name(g.type_of[v as usize]);
    matches!(t.as_str(), "list" | "dict" | "set" | "collections.deque")
        && g.edge_range(v).all(|e| g.edge_kind[e] == kind::CLASS)
}

const ATOMS: &[&str] = &["str", "int", "bytes", "float", "tuple", "frozenset"];

fn shares(map: HashMap<u32, (u64, u64)>, g: &HeapGraph) -> Vec<TypeShare> {
    let mut v: Vec<TypeShare> = map
        .into_iter()
        .map(|(t, (count, bytes))| TypeShare {
            name: g.type_name(t),
            count,
            bytes,
        })
        .collect();
    v.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.name.cmp(&b.name)));
    v
}

impl<'g, 'a> Context<'g, 'a> {
    /// Prepare the per-snapshot context (two linear passes and one SCC pass over new objects),
    /// given the retained size of every object.
    pub fn new(
        g: &'g HeapGraph<'a>,
        is_new: &'g [bool],
        doms: &'g Dominators,
        retained: &'g [u64],
    ) -> Self {
        let n = g.object_count();
        let mut acc = vec![NONE; n];
        for &v in doms.preorder() {
            if !is_new[v as usize] {
                continue;
            }
            let d = doms.idom[v as usize];
            acc[v as usize] = if d == SUPER_ROOT || d == NONE {
                NONE
            } else if is_new[d as usize] {
                acc[d as usize]
            } else {
                d
            };
        }
        let (comp_of, _) = super::cycles::components(g, is_new);
        let mut pairs: Vec<(u32, u32)> = acc
            .iter()
            .enumerate()
            .filter(|(_, a)| **a != NONE)
            .map(|(v, &a)| (a, v as u32))
            .collect();
        pairs.sort_unstable();
        let mut member_range: HashMap<u32, (usize, usize)> = HashMap::new();
        for (i, &(a, _)) in pairs.iter().enumerate() {
            member_range.entry(a).or_insert((i, i)).1 = i + 1;
        }
        let members = pairs.into_iter().map(|(_, v)| v).collect();
        Context {
            members,
            member_range,
            g,
            is_new,
            doms,
            comp_of,
            retained,
        }
    }

    /// Gather the facts of one suspect group.
    pub fn facts(&self, s: &Suspect) -> Facts {
        let g = self.g;
        let retainers: Vec<u32> = s.retainers.iter().copied().take(64).collect();
        let mut f = Facts {
            retainer_type: s.retainer_type.clone(),
            chain: s
                .chain
                .iter()
                .map(|st| (st.type_name.clone(), st.label.clone()))
                .collect(),
            ..Facts::default()
        };
        if s.chain.len() >= 2 {
            f.retainer_label = s.chain[s.chain.len() - 2].label.clone();
        }
        // The retainers and the objects that own them (a few dominators up): back-pointers
        // to any of them close a cycle through an old object.
        let mut owners: Vec<u32> = retainers.clone();
        for &r in &retainers {
            let mut d = self.doms.idom[r as usize];
            for _ in 0..3 {
                if d == NONE || d == SUPER_ROOT {
                    break;
                }
                owners.push(d);
                d = self.doms.idom[d as usize];
            }
        }
        owners.sort_unstable();
        owners.dedup();
        let mut subtree: HashMap<u32, (u64, u64)> = HashMap::new();
        for r in &retainers {
            let Some(&(lo, hi)) = self.member_range.get(r) else {
                continue;
            };
            for &v in &self.members[lo..hi] {
                let v = v as usize;
                let size = g.size[v];
                let e = subtree.entry(g.type_of[v]).or_insert((0, 0));
                e.0 += 1;
                e.1 += size;
                f.new_objects += 1;
                f.new_bytes += size;
                if self.comp_of[v] != NONE {
                    f.cyclic_bytes += size;
                }
            }
        }
        let method_type = subtree
            .keys()
            .copied()
            .find(|&t| g.type_name(t) == "method");
        let mut self_types: HashMap<String, u64> = HashMap::new();
        if let Some(mt) = method_type {
            for r in &retainers {
                let Some(&(lo, hi)) = self.member_range.get(r) else {
                    continue;
                };
                for &v in &self.members[lo..hi] {
                    if g.type_of[v as usize] != mt {
                        continue;
                    }
                    for m in g.edge_range(v) {
                        if g.edge_kind[m] == kind::METHOD_SELF {
                            let st = g.type_name(g.type_of[g.edge_target[m] as usize]);
                            *self_types.entry(st).or_insert(0) += 1;
                        }
                    }
                }
            }
        }
        f.subtree = shares(subtree, g);
        // Held objects: the retainers' direct new children in the dominator tree, and how
        // the retainer refers to them.
        let retained = self.retained;
        let mut held: HashMap<u32, (u64, u64)> = HashMap::new();
        let mut cells: HashMap<String, u64> = HashMap::new();
        let mut captured: HashMap<u32, (u64, u64)> = HashMap::new();
        for &r in &retainers {
            // A dict lists every key, then every value, in the same order.
            let mut keys: Vec<u32> = Vec::new();
            let mut values: Vec<u32> = Vec::new();
            for e in g.edge_range(r) {
                let w = g.edge_target[e];
                match g.edge_kind[e] {
                    kind::DICT_KEY => keys.push(w),
                    kind::DICT_VALUE => values.push(w),
                    _ => {}
                }
                if !self.is_new[w as usize] || self.doms.idom[w as usize] != r {
                    continue;
                }
                let t = g.type_of[w as usize];
                let h = held.entry(t).or_insert((0, 0));
                h.0 += 1;
                h.1 += retained[w as usize];
                let tname = g.type_name(t);
                if g.edge_kind[e] == kind::DICT_KEY {
                    f.new_keys += 1;
                    if ATOMS.contains(&tname.as_str()) {
                        f.scalar_keys += 1;
                    }
                }
                if self.comp_of[w as usize] != NONE {
                    f.cyclic_held += 1;
                }
                self.describe_held(w, &tname, &owners, &mut f, &mut cells, &mut captured);
            }
            // Dict entries: does the value refer to its key; is it an empty container?
            let pairs = if keys.len() == values.len() {
                keys.iter().zip(&values).map(|(&k, &v)| (k, v)).collect()
            } else {
                Vec::new()
            };
            for (key, value) in pairs {
                if !self.is_new[value as usize] && !self.is_new[key as usize] {
                    continue;
                }
                if is_empty_container(g, value) {
                    f.empty_values += 1;
                }
                // A registry keeps objects that carry their own key as a named field (an
                // attribute, or a dict record's value); a list that merely contains it does
                // not count.
                let dict_field = g.type_name(g.type_of[value as usize]) == "dict"
                    && g.edge_range(value)
                        .any(|e| g.edge_kind[e] == kind::DICT_VALUE && g.edge_target[e] == key);
                let refers = dict_field || attributes(g, value).iter().any(|(_, t)| *t == key);
                if refers {
                    f.key_in_value += 1;
                }
            }
        }
        f.held = shares(held, g);
        f.captured = shares(captured, g);
        let mut cells: Vec<(String, u64)> = cells.into_iter().collect();
        cells.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        f.cell_names = cells.into_iter().map(|(n, _)| n).take(3).collect();
        let mut st: Vec<(String, u64)> = self_types.into_iter().collect();
        st.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        f.method_self_types = st.into_iter().map(|(n, _)| n).take(3).collect();
        f
    }

    /// Facts about one held object: closures, partials, bound methods, threads,
    /// back-pointers. What a closure's cells or a partial's arguments keep alive goes into
    /// `captured` by type, each object weighed by what it retains (a tuple or dict of
    /// arguments is looked into).
    fn describe_held(
        &self,
        w: u32,
        tname: &str,
        owners: &[u32],
        f: &mut Facts,
        cells: &mut HashMap<String, u64>,
        captured: &mut HashMap<u32, (u64, u64)>,
    ) {
        let g = self.g;
        let retained = self.retained;
        let mut capture = |x: u32| {
            if !self.is_new[x as usize] {
                return 0;
            }
            let e = captured.entry(g.type_of[x as usize]).or_insert((0, 0));
            e.0 += 1;
            e.1 += retained[x as usize];
            retained[x as usize]
        };
        let attrs = attributes(g, w);
        if let Some((label, _)) = attrs.iter().find(|(_, t)| owners.binary_search(t).is_ok()) {
            f.back_pointers += 1;
            f.back_label.get_or_insert_with(|| label.clone());
        }
        if ["_target", "_started", "_daemonic"]
            .iter()
            .all(|n| attrs.iter().any(|(a, _)| a == n))
        {
            f.thread_like += 1;
        }
        match tname {
            "method" => f.methods += 1,
            "function" => {
                let Some(&(_, tuple)) = attrs.iter().find(|(a, _)| a == "__closure__") else {
                    return;
                };
                f.closures += 1;
                for e in g.edge_range(tuple) {
                    if g.edge_kind[e] != kind::CLOSURE {
                        continue;
                    }
                    let cell = g.edge_target[e];
                    // What the cell holds and keeps alive only through the closure.
                    let mut bytes = 0;
                    for c in g.edge_range(cell) {
                        bytes += capture(g.edge_target[c]);
                    }
                    f.cell_bytes += bytes;
                    *cells.entry(g.edge_label_text(e)).or_insert(0) += bytes;
                }
            }
            "functools.partial" => {
                let mut bytes = 0;
                for e in g.edge_range(w) {
                    let x = g.edge_target[e];
                    if g.edge_kind[e] == kind::CLASS || !self.is_new[x as usize] {
                        continue;
                    }
                    let xt = g.type_name(g.type_of[x as usize]);
                    if xt == "tuple" || xt == "dict" {
                        for c in g.edge_range(x) {
                            if g.edge_kind[c] != kind::CLASS && g.edge_kind[c] != kind::DICT_KEY {
                                bytes += capture(g.edge_target[c]);
                            }
                        }
                    } else if !matches!(xt.as_str(), "function" | "method") {
                        bytes += capture(x);
                    }
                }
                if bytes > 0 {
                    f.partials += 1;
                    f.cell_bytes += bytes;
                }
            }
            _ => {}
        }
    }
}
