//! The default face: a summary and a comfy-table, readable in a terminal.

use super::site;
use crate::analysis::tm_compare::GroupBy;
use crate::analysis::tm_diff::{SnapshotInfo, TmView};
use crate::text;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets};
use std::io::IsTerminal;

fn new_table() -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    if std::io::stdout().is_terminal() {
        t.set_content_arrangement(ContentArrangement::Dynamic);
    }
    t
}

fn num(s: String) -> Cell {
    Cell::new(s).set_alignment(CellAlignment::Right)
}

fn describe(s: &SnapshotInfo) -> String {
    format!(
        "{} ({} traces, {}, traceback limit {})",
        s.path.display(),
        s.traces,
        text::size(s.size as i64, false),
        s.traceback_limit
    )
}

/// A tracemalloc diff or statistics view as a table, with the first `top` rows (0 = all).
pub fn tm_view(view: &TmView, top: usize) -> String {
    let diff = view.is_diff();
    let shown = site::shown(view, top);
    let mut out = String::new();
    if diff {
        out.push_str(&format!(
            "old: {}\nnew: {}\n",
            describe(view.first()),
            describe(view.last())
        ));
        out.push_str(&format!(
            "grouped by {}: total {} ({}), {} traces ({}); top {} of {} rows\n",
            site::describe_grouping(view),
            text::size(view.last().kept_size, false),
            text::size(view.total_size_diff(), true),
            view.last().kept_traces,
            text::count(view.total_count_diff(), true),
            shown,
            view.rows.len()
        ));
    } else {
        let s = view.first();
        out.push_str(&format!("{}\n", describe(s)));
        out.push_str(&format!(
            "{} distinct tracebacks, {} frames, {} files\ngrouped by {}: {} in {} traces; top {} of {} rows\n",
            s.tracebacks,
            s.frames,
            s.files,
            site::describe_grouping(view),
            text::size(s.kept_size, false),
            s.kept_traces,
            shown,
            view.rows.len()
        ));
    }
    let mut t = new_table();
    let site_header = match view.options.by {
        GroupBy::Traceback => "Traceback (most recent call last)",
        GroupBy::Filename => "File",
        GroupBy::Lineno => "Site",
    };
    let mut header = vec!["#", site_header, "Size"];
    if diff {
        header.push("Δ Size");
    }
    header.push("Count");
    if diff {
        header.push("Δ Count");
    }
    header.push("Average");
    t.set_header(header);
    for (i, r) in view.rows[..shown].iter().enumerate() {
        let place = match view.options.by {
            GroupBy::Traceback => site::traceback_text(view, r.key).join("\n"),
            _ => site::site_text(view, r.key),
        };
        let mut row = vec![
            num((i + 1).to_string()),
            Cell::new(place),
            num(text::size(r.size, false)),
        ];
        if diff {
            row.push(num(text::size(r.size_diff, true)));
        }
        row.push(num(r.count.to_string()));
        if diff {
            row.push(num(text::count(r.count_diff, true)));
        }
        let avg = if r.count > 0 { r.size / r.count } else { 0 };
        row.push(num(text::size(avg, false)));
        t.add_row(row);
    }
    out.push_str(&t.to_string());
    out.push('\n');
    out
}

/// One line describing a snapshot's META: Python, pid, step, label.
pub fn describe_meta(meta: &serde_json::Value) -> String {
    let get = |k: &str| meta.get(k).cloned().unwrap_or(serde_json::Value::Null);
    let mut parts = vec![format!(
        "{} {}",
        get("implementation").as_str().unwrap_or("python"),
        get("python_version").as_str().unwrap_or("?")
    )];
    if let Some(pid) = get("pid").as_u64() {
        parts.push(format!("pid {pid}"));
    }
    if let Some(step) = get("step").as_i64() {
        parts.push(format!("step {step}"));
    }
    if let Some(label) = get("label").as_str() {
        parts.push(format!("label {label:?}"));
    }
    if let Some(t) = get("time").as_f64() {
        parts.push(format!("time {t:.0}"));
    }
    if get("fork").as_bool() == Some(true) {
        parts.push("forked dump".into());
    }
    if get("tracemalloc").as_bool() == Some(true) {
        parts.push("with allocation sites".into());
    }
    parts.join(", ")
}

/// `.snap` statistics as tables, with the first `top` types of each list (0 = all).
pub fn snap_stats(s: &crate::analysis::snap_stats::SnapStats, top: usize) -> String {
    let mut out = format!("{}\n{}\n", s.path.display(), describe_meta(&s.meta));
    out.push_str(&format!(
        "{} objects ({} tracked by the GC), {} in sys.getsizeof, {} references ({} weak), {} types\n",
        s.objects,
        s.gc_tracked,
        text::size(s.bytes as i64, false),
        s.edges,
        s.weak_edges,
        s.types
    ));
    let roots: Vec<String> = s.roots.iter().map(|(k, c)| format!("{c} {k}")).collect();
    out.push_str(&format!("roots: {}\n", roots.join(", ")));
    for (title, rows) in [
        ("Top types by count", &s.by_count),
        ("Top types by size", &s.by_size),
    ] {
        let mut t = new_table();
        t.set_header(vec!["#", "Type", "Count", "Size", "Average"]);
        for (i, r) in super::top(rows, top).iter().enumerate() {
            t.add_row(vec![
                num((i + 1).to_string()),
                Cell::new(&r.name),
                num(r.count.to_string()),
                num(text::size(r.size as i64, false)),
                num(text::size((r.size / r.count.max(1)) as i64, false)),
            ]);
        }
        out.push_str(&format!("\n{title}\n{t}\n"));
    }
    out
}

/// A `.snap` diff as tables: snapshots, growth by type, suspects with chains, cycles.
pub fn snap_diff(d: &crate::analysis::snap_diff::SnapDiff, top: usize) -> String {
    let mut out = String::new();
    for s in &d.snapshots {
        let step = s.step.map(|x| format!(", step {x}")).unwrap_or_default();
        out.push_str(&format!(
            "{} ({} objects, {}{step})\n",
            s.path,
            s.objects,
            text::size(s.bytes as i64, false)
        ));
    }
    out.push_str(&format!(
        "new and alive: {} objects, {}; of these unreachable (garbage): {} objects, {}\n",
        d.new_objects,
        text::size(d.new_bytes as i64, false),
        d.new_unreachable,
        text::size(d.new_unreachable_bytes as i64, false)
    ));
    let mut t = new_table();
    t.set_header(vec!["Type", "Count", "Δ Count", "Δ Size", "New", "Freed"]);
    for r in super::top(&d.growth_by_type, top) {
        t.add_row(vec![
            Cell::new(&r.type_name),
            num(r.count_last.to_string()),
            num(text::count(r.count_diff, true)),
            num(text::size(r.size_diff, true)),
            num(r.new.to_string()),
            num(r.freed.to_string()),
        ]);
    }
    out.push_str(&format!("\nGrowth by type\n{t}\n"));
    if !d.growth_by_site.is_empty() {
        let mut t = new_table();
        t.set_header(vec!["Allocation site", "New objects", "New size"]);
        for r in super::top(&d.growth_by_site, top) {
            t.add_row(vec![
                Cell::new(&r.site),
                num(r.new.to_string()),
                num(text::size(r.new_bytes as i64, false)),
            ]);
        }
        out.push_str(&format!("\nNew objects by allocation site\n{t}\n"));
    }
    let mut t = new_table();
    t.set_header(vec![
        "#",
        "Retained growth",
        "New objects",
        "Leaking type",
        "Retention chain",
    ]);
    for (i, s) in super::top(&d.suspects, top).iter().enumerate() {
        let mut chain = s.chain_text.clone();
        if let Some(dom) = &s.dominator_chain_text {
            chain.push_str(&format!("\ndominators: {dom}"));
        }
        if s.group_count > 1 {
            chain.push_str(&format!("\n({} retainers with this chain)", s.group_count));
        }
        if let Some(site) = &s.alloc_site {
            chain.push_str(&format!("\nallocated at {site}"));
        }
        t.add_row(vec![
            num((i + 1).to_string()),
            num(text::size(s.retained_growth_bytes as i64, false)),
            num(s.new_objects.to_string()),
            Cell::new(&s.leaking_type),
            Cell::new(chain),
        ]);
    }
    out.push_str(&format!("\nLeak suspects\n{t}\n"));
    if !d.cycles.is_empty() {
        let mut t = new_table();
        t.set_header(vec!["Status", "Cycles", "Objects", "Size", "Shape"]);
        for c in super::top(&d.cycles, top) {
            t.add_row(vec![
                Cell::new(c.status),
                num(c.count.to_string()),
                num(c.objects.to_string()),
                num(text::size(c.bytes as i64, false)),
                Cell::new(&c.signature),
            ]);
        }
        out.push_str(&format!("\nReference cycles among new objects\n{t}\n"));
    }
    out
}
