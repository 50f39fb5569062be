//! Shortest strong paths from the roots: for every reachable object, the edge that first
//! reached it in a breadth-first search (module, thread and interpreter roots first; objects
//! only "held from outside" are reached from those afterwards). Weak references are skipped.

use crate::graph::{HeapGraph, NONE, kind, root_kind};
use crate::memory::{huge_vec, huge_with_capacity, prefetch};
use std::collections::HashMap;

/// The BFS forest.
pub struct Paths {
    /// Edge index that reached each object; [`NONE`] for roots and unreachable objects.
    pub via: Vec<u32>,
    /// Root record index for objects reached as roots.
    pub root_of: HashMap<u32, u32>,
}

/// One hop of a path: the edge taken (or `None` for the root) and the object reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hop {
    /// Edge index into the graph's CSR, `None` at the root.
    pub edge: Option<usize>,
    /// Object reached.
    pub object: u32,
}

/// Breadth-first search from the roots over strong edges. The queue is known ahead, so the
/// rows of the objects coming up and the `seen` marks of their targets are asked for early
/// (each is a miss on a large heap, and they are independent).
pub fn shortest_paths(g: &HeapGraph) -> Paths {
    let n = g.object_count();
    let mut via = huge_vec(n, NONE);
    let mut root_of: HashMap<u32, u32> = HashMap::new();
    let mut seen = huge_vec(n, false);
    let mut queue: Vec<u32> = huge_with_capacity(n);
    let mut head = 0usize;
    let offsets = g.edge_offsets();
    let phases: [&[u32]; 2] = [
        &[root_kind::MODULE, root_kind::THREAD, root_kind::INTERPRETER],
        &[root_kind::HELD_FROM_OUTSIDE],
    ];
    for (phase, kinds) in phases.iter().enumerate() {
        for (r, root) in g.roots().enumerate() {
            let wanted =
                kinds.contains(&root.kind) || (phase == 1 && root.kind > root_kind::INTERPRETER);
            if wanted && !seen[root.object as usize] {
                seen[root.object as usize] = true;
                root_of.insert(root.object, r as u32);
                queue.push(root.object);
            }
        }
        while head < queue.len() {
            if let Some(&a) = queue.get(head + 16) {
                prefetch(offsets.as_ptr().wrapping_add(a as usize));
            }
            if let Some(&a) = queue.get(head + 8) {
                let e = offsets[a as usize] as usize;
                prefetch(g.edge_target.as_ptr().wrapping_add(e));
                prefetch(g.edge_kind.as_ptr().wrapping_add(e));
            }
            if let Some(&a) = queue.get(head + 4) {
                for &t in g.targets(a).iter().take(4) {
                    prefetch(seen.as_ptr().wrapping_add(t as usize));
                }
            }
            let v = queue[head];
            head += 1;
            for e in g.edge_range(v) {
                let t = g.edge_target[e] as usize;
                if !seen[t] && g.edge_kind[e] != kind::WEAK {
                    seen[t] = true;
                    via[t] = e as u32;
                    queue.push(t as u32);
                }
            }
        }
    }
    Paths { via, root_of }
}

impl Paths {
    /// Whether an object was reached.
    pub fn reached(&self, v: u32) -> bool {
        self.via[v as usize] != NONE || self.root_of.contains_key(&v)
    }

    /// The path from a root to `v`, root first; empty when `v` is unreachable.
    pub fn path_to(&self, g: &HeapGraph, v: u32) -> Vec<Hop> {
        let mut hops = Vec::new();
        let mut x = v;
        loop {
            if self.root_of.contains_key(&x) {
                hops.push(Hop {
                    edge: None,
                    object: x,
                });
                break;
            }
            let e = self.via[x as usize];
            if e == NONE {
                return Vec::new();
            }
            hops.push(Hop {
                edge: Some(e as usize),
                object: x,
            });
            x = source_of(g, e as usize);
        }
        hops.reverse();
        hops
    }
}

/// The object an edge leaves from (binary search in the CSR offsets).
pub fn source_of(g: &HeapGraph, e: usize) -> u32 {
    let n = g.object_count();
    // The last object whose edge range starts at or before e.
    let (mut lo, mut hi) = (0usize, n);
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        if g.edge_range(mid as u32).start <= e {
            lo = mid
        } else {
            hi = mid
        }
    }
    while lo + 1 < n && g.edge_range(lo as u32).end <= e {
        lo += 1;
    }
    lo as u32
}
