//! The JSON face. Schemas are documented in `formats/json.md`; fields are only ever added.

use super::site;
use crate::analysis::tm_compare::GroupBy;
use crate::analysis::tm_diff::{SnapshotInfo, TmView};
use crate::text;
use serde::Serialize;
use serde_json::value::RawValue;

/// Schema id of `leakhunt diff` on tracemalloc dumps.
pub const TM_DIFF_SCHEMA: &str = "leakhunt.tracemalloc-diff/1";
/// Schema id of `leakhunt stats` on a tracemalloc dump.
pub const TM_STATS_SCHEMA: &str = "leakhunt.tracemalloc-stats/1";

/// A JSON string that keeps lone surrogates as `\udcxx` escapes.
fn name(bytes: &[u8]) -> Box<RawValue> {
    RawValue::from_string(text::json_string(bytes)).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

#[derive(Serialize)]
struct Filters {
    include: Vec<String>,
    exclude: Vec<String>,
    all_frames: bool,
}

#[derive(Serialize)]
struct Snapshot {
    path: String,
    traces: u64,
    size: u64,
    kept_traces: i64,
    kept_size: i64,
    traceback_limit: i64,
    tracebacks: usize,
    frames: usize,
    files: usize,
}

#[derive(Serialize)]
struct Row {
    site: Box<RawValue>,
    filename: Box<RawValue>,
    lineno: Option<u32>,
    size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    size_diff: Option<i64>,
    count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    count_diff: Option<i64>,
    traceback: Vec<Box<RawValue>>,
}

#[derive(Serialize)]
struct Doc {
    schema: &'static str,
    key: &'static str,
    cumulative: bool,
    filters: Filters,
    snapshots: Vec<Snapshot>,
    total_size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_size_diff: Option<i64>,
    total_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_count_diff: Option<i64>,
    rows_total: usize,
    rows: Vec<Row>,
}

fn snapshot(s: &SnapshotInfo) -> Snapshot {
    Snapshot {
        path: s.path.display().to_string(),
        traces: s.traces,
        size: s.size,
        kept_traces: s.kept_traces,
        kept_size: s.kept_size,
        traceback_limit: s.traceback_limit,
        tracebacks: s.tracebacks,
        frames: s.frames,
        files: s.files,
    }
}

/// A tracemalloc diff or statistics view as JSON, with the first `top` rows (0 = all).
pub fn tm_view(view: &TmView, top: usize) -> String {
    let diff = view.is_diff();
    let by = view.options.by;
    let rows = view.rows[..site::shown(view, top)]
        .iter()
        .map(|r| {
            let frames = view.catalog.key_frames(by, r.key);
            let (file, line) = frames.last().copied().unwrap_or((&[], 0));
            Row {
                site: name(&site::site_bytes(view, r.key)),
                filename: name(file),
                lineno: (by != GroupBy::Filename).then_some(line),
                size: r.size,
                size_diff: diff.then_some(r.size_diff),
                count: r.count,
                count_diff: diff.then_some(r.count_diff),
                traceback: frames
                    .iter()
                    .map(|(f, l)| name(&site::frame_bytes(f, *l)))
                    .collect(),
            }
        })
        .collect();
    let doc = Doc {
        schema: if diff {
            TM_DIFF_SCHEMA
        } else {
            TM_STATS_SCHEMA
        },
        key: by.name(),
        cumulative: view.options.cumulative,
        filters: Filters {
            include: view
                .options
                .filter
                .include
                .iter()
                .map(|g| g.as_str().to_string())
                .collect(),
            exclude: view
                .options
                .filter
                .exclude
                .iter()
                .map(|g| g.as_str().to_string())
                .collect(),
            all_frames: view.options.filter.all_frames,
        },
        snapshots: view.snapshots.iter().map(snapshot).collect(),
        total_size: view.last().kept_size,
        total_size_diff: diff.then(|| view.total_size_diff()),
        total_count: view.last().kept_traces,
        total_count_diff: diff.then(|| view.total_count_diff()),
        rows_total: view.rows.len(),
        rows,
    };
    let mut s =
        serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// Schema id of `leakhunt stats` on a `.snap`.
pub const SNAP_STATS_SCHEMA: &str = "leakhunt.snap-stats/1";

#[derive(Serialize)]
struct TypeJson<'a> {
    #[serde(rename = "type")]
    name: &'a str,
    count: u64,
    size: u64,
}

/// `.snap` statistics as JSON, with the first `top` types of each list (0 = all).
pub fn snap_stats(s: &crate::analysis::snap_stats::SnapStats, top: usize) -> String {
    let cut = |v: &'_ [crate::analysis::snap_stats::TypeRow]| -> Vec<serde_json::Value> {
        super::top(v, top)
            .iter()
            .map(|r| {
                serde_json::json!(TypeJson {
                    name: &r.name,
                    count: r.count,
                    size: r.size
                })
            })
            .collect()
    };
    let roots: serde_json::Map<String, serde_json::Value> = s
        .roots
        .iter()
        .map(|(k, c)| (k.clone(), serde_json::json!(c)))
        .collect();
    let doc = serde_json::json!({
        "schema": SNAP_STATS_SCHEMA,
        "path": s.path.display().to_string(),
        "objects": s.objects,
        "edges": s.edges,
        "weak_edges": s.weak_edges,
        "bytes": s.bytes,
        "gc_tracked": s.gc_tracked,
        "types": s.types,
        "strings": s.strings,
        "with_alloc_site": s.with_alloc_site,
        "roots": roots,
        "types_by_count": cut(&s.by_count),
        "types_by_size": cut(&s.by_size),
        "meta": s.meta,
    });
    let mut out =
        serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    out.push('\n');
    out
}

/// Schema id of `leakhunt diff` on `.snap` files.
pub const SNAP_DIFF_SCHEMA: &str = "leakhunt.snap-diff/1";

/// A `.snap` diff as JSON (formats/snap-diff-json.md).
pub fn snap_diff(d: &crate::analysis::snap_diff::SnapDiff, top: usize) -> String {
    let mut doc = serde_json::to_value(d).unwrap_or_default();
    if let Some(obj) = doc.as_object_mut() {
        for key in ["growth_by_type", "growth_by_site"] {
            if let Some(serde_json::Value::Array(rows)) = obj.get_mut(key) {
                rows.truncate(if top == 0 { rows.len() } else { top.max(20) });
            }
        }
        obj.insert("schema".into(), serde_json::json!(SNAP_DIFF_SCHEMA));
    }
    let mut out =
        serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    out.push('\n');
    out
}
