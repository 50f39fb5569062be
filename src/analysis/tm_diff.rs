//! The tracemalloc views a user asks for: a diff of two snapshots, statistics of one.

use super::tm_compare::{self, Catalog, GroupBy, GroupOptions, StatRow};
use crate::input::tracemalloc::TmSnapshot;
use std::path::PathBuf;

/// Facts about one input snapshot.
#[derive(Debug, Clone)]
pub struct SnapshotInfo {
    /// The file.
    pub path: PathBuf,
    /// Traces in the file.
    pub traces: u64,
    /// Bytes in the file's traces.
    pub size: u64,
    /// Traces kept by the filters.
    pub kept_traces: i64,
    /// Bytes kept by the filters.
    pub kept_size: i64,
    /// `traceback_limit` recorded in the dump.
    pub traceback_limit: i64,
    /// Distinct tracebacks.
    pub tracebacks: usize,
    /// Distinct frames.
    pub frames: usize,
    /// Distinct file names.
    pub files: usize,
}

/// A comparison of two snapshots (or the statistics of one): rows in CPython's order.
pub struct TmView<'a> {
    /// The snapshots: `[new]` for statistics, `[old, new]` for a diff.
    pub snapshots: Vec<SnapshotInfo>,
    /// How traces were grouped and filtered.
    pub options: GroupOptions,
    /// Keys and their frames.
    pub catalog: Catalog<'a>,
    /// Every row (before `--top`).
    pub rows: Vec<StatRow>,
}

impl TmView<'_> {
    /// Whether this is a diff of two snapshots.
    pub fn is_diff(&self) -> bool {
        self.snapshots.len() == 2
    }

    /// Kept bytes in the newest snapshot minus the oldest.
    pub fn total_size_diff(&self) -> i64 {
        self.last().kept_size - self.first().kept_size
    }

    /// Kept traces in the newest snapshot minus the oldest.
    pub fn total_count_diff(&self) -> i64 {
        self.last().kept_traces - self.first().kept_traces
    }

    /// The oldest snapshot.
    pub fn first(&self) -> &SnapshotInfo {
        &self.snapshots[0] // ok: always one or two
    }

    /// The newest snapshot.
    pub fn last(&self) -> &SnapshotInfo {
        &self.snapshots[self.snapshots.len() - 1] // ok: always one or two
    }
}

fn info(path: PathBuf, snap: &TmSnapshot, g: &tm_compare::Grouped) -> SnapshotInfo {
    SnapshotInfo {
        path,
        traces: snap.trace_count,
        size: snap.total_size(),
        kept_traces: g.total_count,
        kept_size: g.total_size,
        traceback_limit: snap.traceback_limit,
        tracebacks: snap.traceback_count(),
        frames: snap.frames.len(),
        files: snap.filenames.len(),
    }
}

/// `new.compare_to(old, ...)` with filters applied to both, as `filter_traces` would.
pub fn diff<'a>(
    old: (PathBuf, &TmSnapshot<'a>),
    new: (PathBuf, &TmSnapshot<'a>),
    options: GroupOptions,
) -> TmView<'a> {
    let mut catalog = Catalog::new();
    let old_ids = catalog.add(old.1);
    let new_ids = catalog.add(new.1);
    let g_old = tm_compare::group(old.1, &old_ids, &catalog, &options);
    let g_new = tm_compare::group(new.1, &new_ids, &catalog, &options);
    let rows = tm_compare::compare(&g_old, &g_new, &catalog, options.by);
    TmView {
        snapshots: vec![info(old.0, old.1, &g_old), info(new.0, new.1, &g_new)],
        options,
        catalog,
        rows,
    }
}

/// `snapshot.statistics(...)` with filters applied.
pub fn statistics<'a>(snap: (PathBuf, &TmSnapshot<'a>), options: GroupOptions) -> TmView<'a> {
    let mut catalog = Catalog::new();
    let ids = catalog.add(snap.1);
    let g = tm_compare::group(snap.1, &ids, &catalog, &options);
    let rows = tm_compare::statistics(&g, &catalog, options.by);
    TmView {
        snapshots: vec![info(snap.0, snap.1, &g)],
        options,
        catalog,
        rows,
    }
}

/// Whether `cumulative` may be used with a key (CPython refuses it for tracebacks).
pub fn cumulative_allowed(by: GroupBy) -> bool {
    by != GroupBy::Traceback
}
