//! petgraph's traversal traits over a [`HeapGraph`]: nodes are object indices, neighbors are
//! the **strong** references (weak references are skipped), so petgraph's algorithms (DFS,
//! dominators, SCCs) run directly on the mapped CSR.

use super::{HeapGraph, kind};
use fixedbitset::FixedBitSet;
use petgraph::visit::{
    GraphBase, IntoNeighbors, IntoNodeIdentifiers, NodeCount, NodeIndexable, Visitable,
};

/// Strong references of one object, in CSR order.
pub struct StrongNeighbors<'a> {
    targets: std::slice::Iter<'a, u32>,
    kinds: std::slice::Iter<'a, u8>,
}

impl Iterator for StrongNeighbors<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        loop {
            let t = *self.targets.next()?;
            if self.kinds.next().copied() != Some(kind::WEAK) {
                return Some(t);
            }
        }
    }
}

impl GraphBase for HeapGraph<'_> {
    type NodeId = u32;
    type EdgeId = usize;
}

impl<'a> IntoNeighbors for &'a HeapGraph<'_> {
    type Neighbors = StrongNeighbors<'a>;

    fn neighbors(self, a: u32) -> StrongNeighbors<'a> {
        let r = self.edge_range(a);
        StrongNeighbors {
            targets: self.edge_target[r.clone()].iter(),
            kinds: self.edge_kind[r].iter(),
        }
    }
}

impl IntoNodeIdentifiers for &HeapGraph<'_> {
    type NodeIdentifiers = std::ops::Range<u32>;

    fn node_identifiers(self) -> std::ops::Range<u32> {
        0..self.object_count() as u32
    }
}

impl NodeCount for HeapGraph<'_> {
    fn node_count(&self) -> usize {
        self.object_count()
    }
}

impl NodeIndexable for HeapGraph<'_> {
    fn node_bound(&self) -> usize {
        self.object_count()
    }

    fn to_index(&self, a: u32) -> usize {
        a as usize
    }

    fn from_index(&self, i: usize) -> u32 {
        i as u32
    }
}

impl Visitable for HeapGraph<'_> {
    type Map = FixedBitSet;

    fn visit_map(&self) -> FixedBitSet {
        FixedBitSet::with_capacity(self.object_count())
    }

    fn reset_map(&self, map: &mut FixedBitSet) {
        map.clear();
        map.grow(self.object_count());
    }
}
