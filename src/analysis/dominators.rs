//! Dominators of a heap graph: iterative Semi-NCA over a CSR with `u32` ids and a virtual
//! super-root above every root, so each object's immediate dominator is the one object (or
//! the super-root) that all its strong paths from the roots pass through. No recursion; linear
//! in practice, also on long chains.
//!
//! Built for heaps whose references point anywhere: every random access costs a cache (and
//! TLB) miss, so the work is arranged to need few of them. The strong edges are first copied
//! into a compact CSR whose per-object slot holds both the row start and the preorder number
//! (one miss answers "visited?" and, on descent, "where are its edges?"). The DFS settles the
//! semidominator candidates of tree and forward edges on the spot, so only back and cross
//! edges are kept for the semidominator pass, which — like everything after the DFS — works
//! on arrays indexed by preorder number. Large arrays ask for transparent huge pages.

use super::phase::mark;
use crate::graph::{NONE, kind};
use crate::memory::{huge_vec, huge_with_capacity, prefetch};

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
}

/// The dominator tree: for every object its immediate dominator, the depth-first preorder
/// that produced it, and which objects are reachable at all.
pub struct Dominators {
    /// Immediate dominator per object; [`SUPER_ROOT`] for objects dominated only by the
    /// super-root (roots and objects reachable from several roots), [`NONE`] when unreachable.
    pub idom: Vec<u32>,
    /// Preorder position 0 is the super-root; reachable objects follow in depth-first
    /// preorder (parents before children in the tree).
    vertex: Vec<u32>,
    /// Immediate dominator per preorder position, as a preorder position (0: super-root).
    idom_pre: Vec<u32>,
}

/// How many items ahead the sequential loops prefetch what they will touch at random.
const PREFETCH_AHEAD: usize = 8;

/// The super-root's id in [`Dominators::idom`].
pub const SUPER_ROOT: u32 = NONE - 1;

impl Dominators {
    /// Whether an object is reachable from a root through strong references.
    pub fn reachable(&self, v: u32) -> bool {
        self.idom[v as usize] != NONE
    }

    /// Reachable objects in depth-first preorder (every dominator before what it dominates).
    pub fn preorder(&self) -> &[u32] {
        &self.vertex[1..]
    }

    /// The tree by preorder position, position 0 being the super-root: the object at each
    /// position ([`SUPER_ROOT`] at 0) and the position of its immediate dominator (0 for the
    /// super-root). Dominators come before what they dominate.
    pub fn tree(&self) -> (&[u32], &[u32]) {
        (&self.vertex, &self.idom_pre)
    }

    /// Retained size of every object: its own size plus the sizes of all it dominates.
    /// Unreachable objects retain nothing (0).
    pub fn retained(&self, size: &[u64]) -> Vec<u64> {
        let count = self.vertex.len();
        // Summed in preorder space (dominators come before what they dominate), then
        // scattered back to object ids; gathering and scattering split over two threads.
        let mut r: Vec<u64> = huge_vec(count, 0);
        let vertex = &self.vertex;
        let gather = |from: usize, part: &mut [u64]| {
            for (i, x) in part.iter_mut().enumerate() {
                if let Some(&ahead) = vertex.get(from + i + PREFETCH_AHEAD) {
                    prefetch(size.as_ptr().wrapping_add(ahead as usize));
                }
                *x = size[vertex[from + i] as usize];
            }
        };
        let mid = count / 2;
        let (low, high) = r[1..].split_at_mut(mid.saturating_sub(1));
        both(count, || gather(1, low), || gather(mid.max(1), high));
        for w in (1..count).rev() {
            let d = self.idom_pre[w] as usize;
            r[d] += r[w];
        }
        mark("retained: sums");
        let n = self.idom.len();
        let mut out = huge_vec(n, 0u64);
        let scatter = |from: usize, part: &mut [u64]| {
            let end = from + part.len();
            for (&v, &x) in vertex[1..].iter().zip(&r[1..]) {
                let v = v as usize;
                if (from..end).contains(&v) {
                    part[v - from] = x;
                }
            }
        };
        let (low, high) = out.split_at_mut(n / 2);
        both(count, || scatter(0, low), || scatter(n / 2, high));
        mark("retained: by object");
        out
    }
}

/// Run `a` and `b`, on two threads when the pass covers at least [`PARALLEL_MIN`] items.
fn both(items: usize, a: impl FnOnce() + Send, b: impl FnOnce() + Send) {
    if items < PARALLEL_MIN {
        a();
        b();
        return;
    }
    std::thread::scope(|sc| {
        let h = sc.spawn(b);
        a();
        // ok: the thread runs safe code over in-range slices; a panic there is a bug
        h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
    });
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

/// An edge index type for the compact CSR: `u32` when the edges fit, else `u64`.
trait EdgeIx: Copy {
    fn of(i: usize) -> Self;
    fn ix(self) -> usize;
}

impl EdgeIx for u32 {
    #[inline(always)]
    fn of(i: usize) -> Self {
        i as u32
    }
    #[inline(always)]
    fn ix(self) -> usize {
        self as usize
    }
}

impl EdgeIx for u64 {
    #[inline(always)]
    fn of(i: usize) -> Self {
        i as u64
    }
    #[inline(always)]
    fn ix(self) -> usize {
        self as usize
    }
}

/// Per object: its preorder number (NONE: not yet seen), its first two strong targets inline
/// (NONE when absent) and where the rest start in the overflow array. One miss on a slot
/// answers "visited?" and names the next objects to visit, so the DFS can ask for them at once.
#[derive(Clone, Copy)]
#[repr(C)]
struct Slot<S> {
    pre: u32,
    inline: [u32; 2],
    rest: S,
}

/// Compute dominators of `g` from `roots` (duplicates allowed).
pub fn dominators(g: &Csr, roots: &[u32]) -> Dominators {
    if g.targets.len() < u32::MAX as usize {
        dominators_with::<u32>(g, roots)
    } else {
        dominators_with::<u64>(g, roots)
    }
}

/// Below this many objects, passes that could split over two threads stay on one.
const PARALLEL_MIN: usize = 1 << 20;

/// The strong edges of `g` (in range, not weak) as [`Slot`]s plus the overflow targets; the
/// two halves of the objects are compacted on two threads.
fn compact<S: EdgeIx + Send>(g: &Csr) -> (Vec<Slot<S>>, Vec<u32>) {
    let n = g.nodes();
    if n < PARALLEL_MIN {
        let (mut slots, rest) = compact_range::<S>(g, 0..n, n + 1);
        slots.push(Slot {
            pre: NONE,
            inline: [NONE; 2],
            rest: S::of(rest.len()),
        });
        return (slots, rest);
    }
    let mid = n / 2;
    let ((mut slots, mut rest), (high, high_rest)) = std::thread::scope(|sc| {
        let h = sc.spawn(|| compact_range::<S>(g, mid..n, 0));
        let low = compact_range::<S>(g, 0..mid, n + 1);
        // ok: the thread only runs safe code over validated slices; a panic there is a bug
        (
            low,
            h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
        )
    });
    let shift = rest.len();
    slots.extend(high.iter().map(|s| Slot {
        rest: S::of(s.rest.ix() + shift),
        ..*s
    }));
    drop(high);
    rest.extend_from_slice(&high_rest);
    slots.push(Slot {
        pre: NONE,
        inline: [NONE; 2],
        rest: S::of(rest.len()),
    });
    (slots, rest)
}

/// Slots of objects `range` (overflow starts relative to its own overflow array), in a
/// vector with room for `room` slots.
fn compact_range<S: EdgeIx>(
    g: &Csr,
    range: std::ops::Range<usize>,
    room: usize,
) -> (Vec<Slot<S>>, Vec<u32>) {
    let n = g.nodes();
    let mut slots: Vec<Slot<S>> = huge_with_capacity(room.max(range.len()));
    let (lo, hi) = (
        g.offsets[range.start] as usize,
        g.offsets[range.end] as usize,
    );
    let mut rest: Vec<u32> = huge_with_capacity((hi - lo).saturating_sub(range.len()));
    for v in range {
        let (lo, hi) = (g.offsets[v] as usize, g.offsets[v + 1] as usize);
        let mut slot = Slot {
            pre: NONE,
            inline: [NONE; 2],
            rest: S::of(rest.len()),
        };
        let mut k = 0;
        let mut keep = |t: u32| {
            if (t as usize) < n {
                if k < 2 {
                    slot.inline[k] = t;
                    k += 1;
                } else {
                    rest.push(t);
                }
            }
        };
        match g.kinds {
            Some(kinds) => {
                for (&t, &kd) in g.targets[lo..hi].iter().zip(&kinds[lo..hi]) {
                    if kd != kind::WEAK {
                        keep(t);
                    }
                }
            }
            None => g.targets[lo..hi].iter().for_each(|&t| keep(t)),
        }
        slots.push(slot);
    }
    (slots, rest)
}

/// One object whose edges the DFS is scanning: its inline targets not yet scanned (NONE
/// when done), then its overflow targets `next..end`.
struct Frame {
    pre: u32,
    pending: [u32; 2],
    next: usize,
    end: usize,
}

impl Frame {
    /// The frame of a newly visited object, asking for the slots of what it refers to.
    #[inline(always)]
    fn open<S: EdgeIx>(pre: u32, v: usize, slots: &[Slot<S>], rest: &[u32]) -> Frame {
        let s = slots[v];
        let (next, end) = (s.rest.ix(), slots[v + 1].rest.ix());
        for &c in s.inline.iter().filter(|&&c| c != NONE) {
            prefetch(slots.as_ptr().wrapping_add(c as usize));
        }
        for &c in &rest[next..end.min(next + PREFETCH_AHEAD)] {
            prefetch(slots.as_ptr().wrapping_add(c as usize));
        }
        Frame {
            pre,
            pending: s.inline,
            next,
            end,
        }
    }

    /// The next target to scan, if any.
    #[inline(always)]
    fn pop(&mut self, rest: &[u32]) -> Option<u32> {
        let t = self.pending[0];
        if t != NONE {
            self.pending = [self.pending[1], NONE];
            return Some(t);
        }
        if self.next < self.end {
            self.next += 1;
            return Some(rest[self.next - 1]);
        }
        None
    }

    /// The target [`Frame::pop`] will give next, if any.
    #[inline(always)]
    fn peek(&self, rest: &[u32]) -> Option<u32> {
        if self.pending[0] != NONE {
            Some(self.pending[0])
        } else {
            rest.get(self.next)
                .filter(|_| self.next < self.end)
                .copied()
        }
    }
}

fn dominators_with<S: EdgeIx + Send>(g: &Csr, roots: &[u32]) -> Dominators {
    let n = g.nodes();
    mark("before dominators");
    let (mut slots, rest) = compact::<S>(g);
    mark("dominators: compact CSR");
    // Preorder arrays; position 0 is the super-root, the parent of every root.
    let mut vertex: Vec<u32> = huge_with_capacity(n + 1);
    let mut parent: Vec<u32> = huge_with_capacity(n + 1);
    // The smallest predecessor preorder number seen so far: the parent, lowered by forward
    // edges (from an ancestor, so it is the candidate itself) and by being a root (0).
    let mut semi: Vec<u32> = huge_with_capacity(n + 1);
    vertex.push(SUPER_ROOT);
    parent.push(0);
    semi.push(0);
    // Back and cross edges (from a later preorder number): the only ones EVAL must see.
    // Stored as (target's preorder, source's preorder).
    // Room for every strong edge: only the pages used are ever touched.
    let mut late: Vec<(u32, u32)> = huge_with_capacity(rest.len() + 2 * n);
    let mut stack: Vec<Frame> = Vec::new();
    for &r in roots {
        let r = r as usize;
        if r >= n || slots[r].pre != NONE {
            continue;
        }
        let p = vertex.len() as u32;
        slots[r].pre = p;
        vertex.push(r as u32);
        parent.push(0);
        semi.push(0);
        stack.push(Frame::open(p, r, &slots, &rest));
        while let Some(top) = stack.last_mut() {
            let pv = top.pre;
            let mut child = NONE;
            while let Some(t) = top.pop(&rest) {
                // On long rows, ask for later targets' slots early (opening asked for the
                // first few): each is a miss, and they are independent.
                if top.next + PREFETCH_AHEAD < top.end {
                    prefetch(
                        slots
                            .as_ptr()
                            .wrapping_add(rest[top.next + PREFETCH_AHEAD] as usize),
                    );
                }
                let pt = slots[t as usize].pre;
                if pt == NONE {
                    child = t;
                    break;
                }
                if pt > pv {
                    // Forward edge: the source is an ancestor, itself the candidate.
                    let s = &mut semi[pt as usize];
                    *s = (*s).min(pv);
                } else if pt < pv {
                    late.push((pt, pv));
                }
            }
            if child == NONE {
                stack.pop();
                continue;
            }
            // The next sibling's slot was asked for with this child's: if it is still unseen,
            // it will be opened when the DFS comes back here, so ask for its targets now.
            if let Some(sib) = top.peek(&rest) {
                let sib = slots[sib as usize];
                if sib.pre == NONE {
                    for &c in sib.inline.iter().filter(|&&c| c != NONE) {
                        prefetch(slots.as_ptr().wrapping_add(c as usize));
                    }
                }
            }
            let t = child as usize;
            let pt = vertex.len() as u32;
            slots[t].pre = pt;
            vertex.push(child);
            parent.push(pv);
            semi.push(pv);
            stack.push(Frame::open(pt, t, &slots, &rest));
        }
    }
    drop(stack);
    mark("dominators: DFS");
    for &r in roots {
        if let Some(s) = slots.get(r as usize)
            && s.pre != NONE
        {
            semi[s.pre as usize] = 0;
        }
    }
    drop(slots);
    drop(rest);
    let count = vertex.len();
    let (late_per, late_src) = group_by_target(&late, count);
    drop(late);
    mark("dominators: group late edges");
    let semi = semidominators(&parent, semi, &late_per, &late_src);
    drop(late_per);
    drop(late_src);
    mark("dominators: semidominators");
    // Nearest common ancestor walk: idom(w) is the deepest ancestor of parent(w) not below
    // semi(w); ancestors come first, so theirs are final when w is reached.
    let mut idom_pre = parent;
    for w in 1..count {
        let mut d = idom_pre[w];
        while d > semi[w] {
            d = idom_pre[d as usize];
        }
        idom_pre[w] = d;
    }
    drop(semi);
    mark("dominators: NCA");
    let mut idom = huge_vec(n, NONE);
    for w in 1..count {
        if let Some(&ahead) = vertex.get(w + PREFETCH_AHEAD) {
            prefetch(idom.as_ptr().wrapping_add(ahead as usize));
        }
        let d = idom_pre[w] as usize;
        idom[vertex[w] as usize] = if d == 0 { SUPER_ROOT } else { vertex[d] };
    }
    mark("dominators: idom by object");
    Dominators {
        idom,
        vertex,
        idom_pre,
    }
}

/// The sources of `(target, source)` pairs grouped by target, highest target first (the order
/// the semidominator pass takes them): returns the sources and, per target `t`, how many
/// it has (a counting sort).
fn group_by_target(pairs: &[(u32, u32)], count: usize) -> (Vec<u32>, Vec<u32>) {
    let mut per = huge_vec(count, 0u32);
    for &(t, _) in pairs {
        per[t as usize] += 1;
    }
    // Start of each target's group, targets descending.
    let mut fill = huge_vec(count, 0u32);
    let mut at = 0u32;
    for t in (0..count).rev() {
        fill[t] = at;
        at += per[t];
    }
    let mut src = huge_vec(pairs.len(), 0u32);
    for (k, &(t, s)) in pairs.iter().enumerate() {
        if let Some(&(ahead, _)) = pairs.get(k + PREFETCH_AHEAD) {
            prefetch(fill.as_ptr().wrapping_add(ahead as usize));
        }
        let slot = &mut fill[t as usize];
        src[*slot as usize] = s;
        *slot += 1;
    }
    (per, src)
}

/// How many late predecessors ahead EVAL's upward walks are started by a prefetching cursor.
const CURSORS: usize = 8;

/// EVAL's state per preorder position once linked into the forest: its forest ancestor and
/// the smallest semidominator on the (compressed) path up to it. Together, so one miss
/// fetches both.
#[derive(Clone, Copy)]
#[repr(C)]
struct Link {
    ancestor: u32,
    best: u32,
}

/// Semidominators by preorder position, from each position's best early candidate `semi`
/// and its late predecessors (`late_off`/`late_src`), processing positions last to first.
fn semidominators(
    parent: &[u32],
    mut semi: Vec<u32>,
    late_per: &[u32],
    late_src: &[u32],
) -> Vec<u32> {
    let count = semi.len();
    let mut link = huge_vec(
        count,
        Link {
            ancestor: 0,
            best: 0,
        },
    );
    let mut path: Vec<u32> = Vec::new();
    // EVAL walks up from each late predecessor: a chain of dependent misses. Cursors walk
    // the paths of the next predecessors one step per EVAL, asking for each link ahead, so
    // several chains are in flight at once. They only prefetch: a stale step (the forest is
    // compressed meanwhile) still lands on an ancestor on the path, and unlinked positions
    // read ancestor 0, which stops a cursor.
    let mut cursor = [0u32; CURSORS];
    for (c, &v) in cursor.iter_mut().zip(late_src) {
        *c = v;
        prefetch(link.as_ptr().wrapping_add(v as usize));
    }
    let mut k = 0usize;
    for w in (1..count).rev() {
        let mut s = semi[w];
        for _ in 0..late_per[w] {
            s = s.min(eval(late_src[k], w as u32, &mut link, &mut path));
            for c in cursor.iter_mut() {
                if *c as usize > w {
                    let a = link[*c as usize].ancestor;
                    prefetch(link.as_ptr().wrapping_add(a as usize));
                    *c = a;
                }
            }
            let next = late_src.get(k + CURSORS).copied().unwrap_or(0);
            prefetch(link.as_ptr().wrapping_add(next as usize));
            cursor[k % CURSORS] = next;
            k += 1;
        }
        semi[w] = s;
        link[w] = Link {
            ancestor: parent[w],
            best: s,
        };
    }
    semi
}

/// Lengauer–Tarjan's EVAL with path compression, iteratively, returning the value Semi-NCA
/// needs: the smallest semi on the forest path from `v` up to (not including) its tree's
/// root. Positions above `w` are linked; `v` is one of them (a late predecessor of `w`).
#[inline]
fn eval(v: u32, w: u32, link: &mut [Link], path: &mut Vec<u32>) -> u32 {
    let mut x = v;
    loop {
        let a = link[x as usize].ancestor;
        if a <= w {
            break;
        }
        path.push(x);
        x = a;
    }
    // x's ancestor is a tree root (unlinked); compress from the top down.
    while let Some(y) = path.pop() {
        let a = link[y as usize].ancestor;
        let up = link[a as usize];
        let me = &mut link[y as usize];
        if up.best < me.best {
            me.best = up.best;
        }
        me.ancestor = up.ancestor;
    }
    link[v as usize].best
}
