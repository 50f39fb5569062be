//! Identity across snapshots: an object in a later snapshot is "the same" as one in an earlier
//! snapshot when it has the same address and type, since CPython reuses addresses after
//! objects are freed. For types whose contents never change (str, tuple, function, bound
//! method...) the size and the addresses of what the object refers to must match too, so a
//! new tuple at the address of a freed one is not taken for it.

use crate::graph::{HeapGraph, NONE, kind};
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
    let mut instance = vec![false; new.type_count()];
    for t in 0..new.type_count() as u32 {
        let i = new.type_info(t);
        let key = (new.strings.get(i.module), new.strings.get(i.qualname));
        new_to_old_type[t as usize] = by_name.get(&key).copied().unwrap_or(NONE);
        immutable[t as usize] = key.0 == "builtins" && IMMUTABLE.contains(&key.1);
        instance[t as usize] = key.0 != "builtins";
    }
    // Both sides in address order (dumps usually are already; else sorted pairs, the two
    // sorts side by side), then one merge.
    let (old_sorted, new_sorted) = std::thread::scope(|sc| {
        let h = sc.spawn(|| by_address(old));
        let n = by_address(new);
        // ok: the thread only sorts; a panic there is a bug
        (h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)), n)
    });
    let at = |sorted: &Option<Vec<(u64, u32)>>, g: &HeapGraph, k: usize| match sorted {
        Some(p) => p[k],
        None => (g.addr[k], k as u32),
    };
    let mut out = crate::memory::huge_vec(new.object_count(), NONE);
    let (mut i, mut j) = (0usize, 0usize);
    while i < old.object_count() && j < new.object_count() {
        let (a, o) = at(&old_sorted, old, i);
        let (b, v) = at(&new_sorted, new, j);
        if a < b {
            i += 1;
            continue;
        }
        j += 1;
        if a > b {
            continue;
        }
        let t = new.type_of[v as usize] as usize;
        let same_type = new_to_old_type[t] != NONE && old.type_of[o as usize] == new_to_old_type[t];
        let same_contents = !immutable[t]
            || (old.size[o as usize] == new.size[v as usize] && same_referents(old, o, new, v));
        if same_type && same_contents {
            out[v as usize] = o;
        }
    }
    // A new instance brings its own __dict__, whatever freed dict's address that reuses:
    // else the dict reads as old and everything new in it as its growth.
    let dict_label = new.strings.find("__dict__");
    for v in 0..new.object_count() as u32 {
        if out[v as usize] != NONE || !instance[new.type_of[v as usize] as usize] {
            continue;
        }
        for e in new.edge_range(v) {
            let k = new.edge_kind[e];
            let named = kind::has_str_label(k) && Some(new.edge_label[e]) == dict_label;
            if k == kind::INSTANCE_DICT || named {
                out[new.edge_target[e] as usize] = NONE;
            }
        }
    }
    out
}

/// `(address, index)` of every object in address order, or `None` when the snapshot lists
/// its objects in address order already. Equal addresses keep the first object (a valid
/// snapshot has none).
fn by_address(g: &HeapGraph) -> Option<Vec<(u64, u32)>> {
    if g.addr.windows(2).all(|w| w[0] < w[1]) {
        return None;
    }
    let mut p: Vec<(u64, u32)> = crate::memory::huge_with_capacity(g.object_count());
    p.extend(g.addr.iter().enumerate().map(|(i, &a)| (a, i as u32)));
    p.sort_unstable();
    Some(p)
}
