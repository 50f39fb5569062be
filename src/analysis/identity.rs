//! Identity across snapshots: an object in a later snapshot is "the same" as one in an earlier
//! snapshot when it has the same address and type, since CPython reuses addresses after
//! objects are freed. For types whose contents never change (str, tuple, function, bound
//! method...) the size and the addresses of what the object refers to must match too, so a
//! new tuple at the address of a freed one is not taken for it.

use crate::graph::{HeapGraph, NONE};
use std::collections::HashMap;

/// Built-in types whose instances never change size or referents after creation.
const IMMUTABLE: &[&str] = &[
    "str",
    "bytes",
    "int",
    "float",
    "tuple",
    "frozenset",
    "complex",
    "code",
    "function",
    "method",
    "cell",
];

/// Whether two objects refer to the same addresses, in order (their class edges aside).
fn same_referents(old: &HeapGraph, o: u32, new: &HeapGraph, v: u32) -> bool {
    targets(old, o).eq(targets(new, v))
}

fn targets<'g>(g: &'g HeapGraph, x: u32) -> impl Iterator<Item = u64> + 'g {
    g.edge_range(x)
        .filter(move |&e| g.edge_kind[e] != crate::graph::kind::CLASS)
        .map(move |e| g.addr[g.edge_target[e] as usize])
}

/// For every object of `new`, the index of the same object in `old`, or [`NONE`].
pub fn match_objects(old: &HeapGraph, new: &HeapGraph) -> Vec<u32> {
    // Types are matched by (module, qualname): type ids differ between files.
    let mut by_name: HashMap<(&str, &str), u32> = HashMap::new();
    for t in 0..old.type_count() as u32 {
        let i = old.type_info(t);
        by_name
            .entry((old.strings.get(i.module), old.strings.get(i.qualname)))
            .or_insert(t);
    }
    let mut new_to_old_type = vec![NONE; new.type_count()];
    let mut immutable = vec![false; new.type_count()];
    for t in 0..new.type_count() as u32 {
        let i = new.type_info(t);
        let key = (new.strings.get(i.module), new.strings.get(i.qualname));
        new_to_old_type[t as usize] = by_name.get(&key).copied().unwrap_or(NONE);
        immutable[t as usize] = key.0 == "builtins" && IMMUTABLE.contains(&key.1);
    }
    // Old objects sorted by address; each new object is looked up by binary search.
    let mut old_by_addr: Vec<(u64, u32)> = old
        .addr
        .iter()
        .enumerate()
        .map(|(i, &a)| (a, i as u32))
        .collect();
    old_by_addr.sort_unstable();
    new.addr
        .iter()
        .enumerate()
        .map(|(i, &a)| {
            let Ok(pos) = old_by_addr.binary_search_by_key(&a, |&(addr, _)| addr) else {
                return NONE;
            };
            let o = old_by_addr[pos].1;
            let t = new.type_of[i] as usize;
            let same_type =
                new_to_old_type[t] != NONE && old.type_of[o as usize] == new_to_old_type[t];
            let same_contents = !immutable[t]
                || (old.size[o as usize] == new.size[i] && same_referents(old, o, new, i as u32));
            if same_type && same_contents { o } else { NONE }
        })
        .collect()
}
