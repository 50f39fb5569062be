//! Strings that grow in place: a slot of a long-lived object (an attribute, a dict value, a
//! global, a cell) that holds a larger `str` (or `bytes`) in every snapshot, as `s += part`
//! leaves it. Each rebuild makes a new object, so identity-based diffs see only churn here.

use crate::graph::{HeapGraph, NONE, kind};
use std::collections::HashMap;

/// Smallest final string worth reporting.
const MIN_BYTES: u64 = 1024;

/// One growing slot.
#[derive(Debug, Clone)]
pub struct GrowingSlot {
    /// The object that owns the slot, in the last snapshot.
    pub owner: u32,
    /// The slot's label as stored (`'body'`, `log`, `<closure acc>`).
    pub label: String,
    /// `str` or `bytes`.
    pub type_name: String,
    /// The string's size in each snapshot, oldest first.
    pub sizes: Vec<u64>,
    /// The string object in the last snapshot.
    pub object: u32,
}

fn slot_kind(k: u8) -> bool {
    matches!(
        k,
        kind::ATTRIBUTE | kind::DICT_VALUE | kind::CELL_CONTENTS | kind::FRAME_LOCAL | kind::INDEX
    )
}

/// The target of `owner`'s edge of kind `k` labelled `label`, if any.
fn slot_target(g: &HeapGraph, owner: u32, k: u8, label: &str) -> Option<u32> {
    g.edge_range(owner)
        .find(|&e| g.edge_kind[e] == k && g.edge_label_text(e) == label)
        .map(|e| g.edge_target[e])
}

/// Growing string slots: `maps[k]` gives, for each object of the last snapshot, its index in
/// snapshot `k` (or NONE); the last map is the identity and may be empty.
pub fn growing_slots(snaps: &[&HeapGraph], maps: &[Vec<u32>]) -> Vec<GrowingSlot> {
    let n = snaps.len();
    if n < 2 {
        return Vec::new();
    }
    let last = snaps[n - 1];
    let str_types: HashMap<u32, String> = (0..last.type_count() as u32)
        .filter_map(|t| {
            let name = last.type_name(t);
            (name == "str" || name == "bytes").then_some((t, name))
        })
        .collect();
    let mut out = Vec::new();
    for owner in 0..last.object_count() as u32 {
        if maps[..n - 1]
            .iter()
            .any(|m| m.get(owner as usize).copied().unwrap_or(NONE) == NONE)
        {
            continue;
        }
        for e in last.edge_range(owner) {
            let t = last.edge_target[e];
            let k = last.edge_kind[e];
            let Some(tname) = str_types.get(&last.type_of[t as usize]) else {
                continue;
            };
            if !slot_kind(k) || last.size[t as usize] < MIN_BYTES {
                continue;
            }
            let label_text = last.edge_label_text(e);
            let mut sizes = Vec::with_capacity(n);
            for (s, map) in snaps[..n - 1].iter().zip(maps) {
                let o = map[owner as usize];
                let found = slot_target(s, o, k, &label_text)
                    .filter(|&x| s.type_name(s.type_of[x as usize]) == *tname);
                match found {
                    Some(x) => sizes.push(s.size[x as usize]),
                    None => break,
                }
            }
            if sizes.len() != n - 1 {
                continue;
            }
            sizes.push(last.size[t as usize]);
            if sizes.windows(2).all(|w| w[1] > w[0]) {
                out.push(GrowingSlot {
                    owner,
                    label: label_text,
                    type_name: tname.clone(),
                    sizes,
                    object: t,
                });
            }
        }
    }
    out.sort_by(|a, b| {
        let ga = a.sizes[n - 1] - a.sizes[0];
        let gb = b.sizes[n - 1] - b.sizes[0];
        gb.cmp(&ga).then(a.owner.cmp(&b.owner))
    });
    out
}
