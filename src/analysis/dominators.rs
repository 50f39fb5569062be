//! Dominators of a heap graph: iterative Semi-NCA over a CSR with `u32` ids and a virtual
//! super-root above every root, so each object's immediate dominator is the one object (or
//! the super-root) that all its strong paths from the roots pass through. No recursion; linear
//! in practice, also on long chains.

use crate::graph::{NONE, kind};

/// A graph given as CSR successor lists plus, optionally, edge kinds (weak edges are skipped).
pub struct Csr<'a> {
    /// Row starts: successors of `v` are `targets[offsets[v]..offsets[v + 1]]`.
    pub offsets: &'a [u64],
    /// Successor ids.
    pub targets: &'a [u32],
    /// Edge kinds, parallel to `targets`; edges of kind [`kind::WEAK`] do not count.
    pub kinds: Option<&'a [u8]>,
}

impl Csr<'_> {
    fn nodes(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    fn edges(&self, v: u32) -> std::ops::Range<usize> {
        self.offsets[v as usize] as usize..self.offsets[v as usize + 1] as usize
    }

    #[inline]
    fn kept(&self, e: usize) -> bool {
        self.kinds.is_none_or(|k| k.get(e) != Some(&kind::WEAK))
    }
}

/// The dominator tree: for every object its immediate dominator, the depth-first preorder
/// that produced it, and which objects are reachable at all.
pub struct Dominators {
    /// Immediate dominator per object; [`SUPER_ROOT`] for objects dominated only by the
    /// super-root (roots and objects reachable from several roots), [`NONE`] when unreachable.
    pub idom: Vec<u32>,
    /// Reachable objects in depth-first preorder (parents before children in the tree).
    pub preorder: Vec<u32>,
}

/// How many edges ahead the DFS prefetches target slots.
const PREFETCH_AHEAD: usize = 4;

/// Hint that `p` will be read soon (no effect on correctness; a no-op off x86-64).
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch(p as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// The super-root's id in [`Dominators::idom`].
pub const SUPER_ROOT: u32 = NONE - 1;

impl Dominators {
    /// Whether an object is reachable from a root through strong references.
    pub fn reachable(&self, v: u32) -> bool {
        self.idom[v as usize] != NONE
    }

    /// Retained size of every object: its own size plus the sizes of all it dominates.
    /// Unreachable objects retain nothing (0).
    pub fn retained(&self, size: &[u64]) -> Vec<u64> {
        let mut r = vec![0u64; self.idom.len()];
        for &v in &self.preorder {
            r[v as usize] = size[v as usize];
        }
        for &v in self.preorder.iter().rev() {
            let d = self.idom[v as usize];
            if d != SUPER_ROOT {
                r[d as usize] += r[v as usize];
            }
        }
        r
    }
}

/// Dominators of a heap snapshot over its strong references, from all its roots.
pub fn of_heap(g: &crate::graph::HeapGraph) -> Dominators {
    let csr = Csr {
        offsets: g.edge_offsets(),
        targets: g.edge_target,
        kinds: Some(g.edge_kind),
    };
    let roots: Vec<u32> = g.roots().map(|r| r.object).collect();
    dominators(&csr, &roots)
}

/// Compute dominators of `g` from `roots` (duplicates allowed).
pub fn dominators(g: &Csr, roots: &[u32]) -> Dominators {
    let n = g.nodes();
    // Preorder numbers: 0 is the super-root, objects get 1..=reached.
    let mut pre = vec![NONE; n];
    let mut vertex: Vec<u32> = vec![SUPER_ROOT];
    let mut parent: Vec<u32> = vec![0];
    // Iterative DFS; the stack holds (preorder number, next edge index). Every edge of a
    // reached object is scanned once, so the scan also records its target's preorder number
    // and counts predecessors: the one pass over the edges that reads `pre` at random.
    let mut stack: Vec<(u32, usize)> = Vec::new();
    let mut is_root = vec![false; n];
    let mut target_pre = vec![NONE; g.targets.len()];
    let mut pred_count = vec![0u32; n + 2];
    for &r in roots {
        let r_us = r as usize;
        if r_us >= n {
            continue;
        }
        is_root[r_us] = true;
        if pre[r_us] != NONE {
            continue;
        }
        pre[r_us] = vertex.len() as u32;
        vertex.push(r);
        parent.push(0);
        stack.push((pre[r_us], g.offsets[r_us] as usize));
        while let Some(top) = stack.last_mut() {
            let (p, next) = *top;
            let v = vertex[p as usize];
            let end = g.offsets[v as usize + 1] as usize;
            let mut e = next;
            let mut descended = false;
            while e < end {
                let t = g.targets[e] as usize;
                // Ask for the next targets' preorder slots early: on a large heap every one
                // is a cache (and TLB) miss, and they are independent of each other.
                if let Some(&ahead) = g.targets.get(e + PREFETCH_AHEAD) {
                    prefetch(pre.as_ptr().wrapping_add(ahead as usize));
                }
                e += 1;
                if t >= n || !g.kept(e - 1) {
                    continue;
                }
                let mut pt = pre[t];
                if pt == NONE {
                    pt = vertex.len() as u32;
                    pre[t] = pt;
                    vertex.push(t as u32);
                    parent.push(p);
                    descended = true;
                }
                target_pre[e - 1] = pt;
                pred_count[pt as usize + 1] += 1;
                if descended {
                    top.1 = e;
                    stack.push((pt, g.offsets[t] as usize));
                    break;
                }
            }
            if !descended {
                stack.pop();
            }
        }
    }
    let count = vertex.len();
    // Predecessors as a reverse CSR in preorder space.
    let mut pred_off = pred_count;
    pred_off.truncate(count + 1);
    for i in 0..count {
        pred_off[i + 1] += pred_off[i];
    }
    let mut fill = pred_off.clone();
    let mut preds = vec![0u32; pred_off[count] as usize];
    for v in 0..n as u32 {
        let pv = pre[v as usize];
        if pv == NONE {
            continue;
        }
        let r = g.edges(v);
        for (k, &pt) in target_pre[r.clone()].iter().enumerate() {
            if let Some(&ahead) = target_pre.get(r.start + k + PREFETCH_AHEAD)
                && ahead != NONE
            {
                prefetch(fill.as_ptr().wrapping_add(ahead as usize));
            }
            if pt != NONE {
                let slot = &mut fill[pt as usize];
                preds[*slot as usize] = pv;
                *slot += 1;
            }
        }
    }
    drop(fill);
    drop(target_pre);
    // Semi-dominators, processing preorder numbers from last to first; `ancestor` links the
    // processed forest, `label` caches the minimum-semi vertex on each compressed path.
    let mut semi: Vec<u32> = (0..count as u32).collect();
    // best[x]: the smallest semi on x's compressed forest path (SNCA needs values only).
    let mut best: Vec<u32> = (0..count as u32).collect();
    let mut ancestor = vec![NONE; count];
    let mut path: Vec<u32> = Vec::new();
    for w in (1..count).rev() {
        let mut s = semi[w];
        let node = vertex[w] as usize;
        if is_root[node] {
            s = 0;
        }
        let (lo, hi) = (pred_off[w] as usize, pred_off[w + 1] as usize);
        for k in lo..hi {
            if let Some(&ahead) = preds.get(k + PREFETCH_AHEAD) {
                prefetch(ancestor.as_ptr().wrapping_add(ahead as usize));
            }
            let v = preds[k];
            s = s.min(eval(v, &mut ancestor, &mut best, &mut path));
        }
        semi[w] = s;
        best[w] = s;
        ancestor[w] = parent[w];
    }
    drop(best);
    drop(ancestor);
    drop(preds);
    // Nearest common ancestor walk: idom(w) is the deepest ancestor of parent(w) not below semi(w).
    let mut idom_pre = parent;
    for w in 1..count {
        let mut d = idom_pre[w];
        while d > semi[w] {
            d = idom_pre[d as usize];
        }
        idom_pre[w] = d;
    }
    let mut idom = vec![NONE; n];
    for w in 1..count {
        let d = idom_pre[w];
        idom[vertex[w] as usize] = if d == 0 {
            SUPER_ROOT
        } else {
            vertex[d as usize]
        };
    }
    vertex.remove(0);
    Dominators {
        idom,
        preorder: vertex,
    }
}

/// Lengauer–Tarjan's EVAL with path compression, iteratively, returning the value Semi-NCA
/// needs: the smallest semi on the forest path from `v` up to (not including) its tree's
/// root; `v` itself (its own semi) when unlinked.
fn eval(v: u32, ancestor: &mut [u32], best: &mut [u32], path: &mut Vec<u32>) -> u32 {
    if ancestor[v as usize] == NONE {
        return v;
    }
    path.clear();
    let mut x = v;
    loop {
        let a = ancestor[x as usize];
        if ancestor[a as usize] == NONE {
            break;
        }
        path.push(x);
        x = a;
    }
    // x's ancestor is a tree root; compress from the top down.
    while let Some(y) = path.pop() {
        let a = ancestor[y as usize];
        let b = best[a as usize];
        if b < best[y as usize] {
            best[y as usize] = b;
        }
        ancestor[y as usize] = ancestor[a as usize];
    }
    best[v as usize]
}
