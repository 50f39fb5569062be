//! What a `.snap` holds: totals, the types with most objects and most bytes, roots by kind.

use crate::graph::{HeapGraph, flag, kind, root_kind};
use std::path::PathBuf;

/// Count and bytes of one type.
#[derive(Debug, Clone)]
pub struct TypeRow {
    /// `module.qualname` (bare name for builtins).
    pub name: String,
    /// Objects of the type.
    pub count: u64,
    /// Their `sys.getsizeof` bytes.
    pub size: u64,
}

/// Summary of one snapshot.
#[derive(Debug, Clone)]
pub struct SnapStats {
    /// The file.
    pub path: PathBuf,
    /// Objects.
    pub objects: u64,
    /// Edges (references), weak ones included.
    pub edges: u64,
    /// Weak references among the edges.
    pub weak_edges: u64,
    /// Sum of `sys.getsizeof`.
    pub bytes: u64,
    /// Objects tracked by the cyclic GC.
    pub gc_tracked: u64,
    /// Distinct types.
    pub types: u64,
    /// Strings in the table.
    pub strings: u64,
    /// Objects with a recorded allocation site.
    pub with_alloc_site: u64,
    /// Types by object count, most first.
    pub by_count: Vec<TypeRow>,
    /// Types by bytes, most first.
    pub by_size: Vec<TypeRow>,
    /// Root kind name and how many roots of it.
    pub roots: Vec<(String, u64)>,
    /// The META object as written by the dumper.
    pub meta: serde_json::Value,
}

/// Summarise a snapshot.
pub fn stats(path: PathBuf, g: &HeapGraph) -> SnapStats {
    let mut count = vec![0u64; g.type_count()];
    let mut size = vec![0u64; g.type_count()];
    for (&t, &s) in g.type_of.iter().zip(g.size) {
        count[t as usize] += 1;
        size[t as usize] += s;
    }
    let rows: Vec<TypeRow> = (0..g.type_count())
        .filter(|&t| count[t] > 0)
        .map(|t| TypeRow {
            name: g.type_name(t as u32),
            count: count[t],
            size: size[t],
        })
        .collect();
    let mut by_count = rows.clone();
    by_count.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(b.size.cmp(&a.size))
            .then(a.name.cmp(&b.name))
    });
    let mut by_size = rows;
    by_size.sort_by(|a, b| {
        b.size
            .cmp(&a.size)
            .then(b.count.cmp(&a.count))
            .then(a.name.cmp(&b.name))
    });
    let mut roots: Vec<(String, u64)> = Vec::new();
    for r in g.roots() {
        let name = root_kind::name(r.kind);
        match roots.iter_mut().find(|(n, _)| n == name) {
            Some((_, c)) => *c += 1,
            None => roots.push((name.to_string(), 1)),
        }
    }
    SnapStats {
        path,
        objects: g.object_count() as u64,
        edges: g.edge_count() as u64,
        weak_edges: g.edge_kind.iter().filter(|&&k| k == kind::WEAK).count() as u64,
        bytes: g.total_size(),
        gc_tracked: g
            .flags
            .iter()
            .filter(|&&f| f & flag::GC_TRACKED != 0)
            .count() as u64,
        types: g.type_count() as u64,
        strings: g.strings.len() as u64,
        with_alloc_site: g.alloc.map_or(0, |a| {
            a.object_tb
                .iter()
                .filter(|&&t| t != crate::graph::NONE)
                .count() as u64
        }),
        by_count,
        by_size,
        roots,
        meta: g.meta.clone(),
    }
}
