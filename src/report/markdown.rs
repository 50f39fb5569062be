//! The Markdown face: headings and pipe tables that render on code hosts.

use super::site;
use crate::analysis::tm_compare::GroupBy;
use crate::analysis::tm_diff::TmView;
use crate::text;

/// Text made safe inside a table cell's code span.
pub fn cell_code(s: &str) -> String {
    let s = s.replace('|', "\\|");
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

/// A tracemalloc diff or statistics view as Markdown, with the first `top` rows (0 = all).
pub fn tm_view(view: &TmView, top: usize) -> String {
    let diff = view.is_diff();
    let shown = site::shown(view, top);
    let mut out = String::new();
    let what = if diff {
        "tracemalloc diff"
    } else {
        "tracemalloc statistics"
    };
    out.push_str(&format!(
        "### leakhunt: {what}, grouped by {}\n\n",
        site::describe_grouping(view)
    ));
    out.push_str("| Snapshot | Traces | Size | Traceback limit |\n|---|---:|---:|---:|\n");
    for s in &view.snapshots {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            cell_code(&s.path.display().to_string()),
            s.traces,
            text::size(s.size as i64, false),
            s.traceback_limit
        ));
    }
    if diff {
        out.push_str(&format!(
            "\n**Growth:** {} ({} traces) after filters; top {} of {} rows.\n\n",
            text::size(view.total_size_diff(), true),
            text::count(view.total_count_diff(), true),
            shown,
            view.rows.len()
        ));
        out.push_str(
            "| # | Site | Size | Δ Size | Count | Δ Count |\n|---:|---|---:|---:|---:|---:|\n",
        );
    } else {
        out.push_str(&format!("\nTop {} of {} rows.\n\n", shown, view.rows.len()));
        out.push_str("| # | Site | Size | Count |\n|---:|---|---:|---:|\n");
    }
    for (i, r) in view.rows[..shown].iter().enumerate() {
        let site = cell_code(&site::site_text(view, r.key));
        if diff {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                i + 1,
                site,
                text::size(r.size, false),
                text::size(r.size_diff, true),
                r.count,
                text::count(r.count_diff, true)
            ));
        } else {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                i + 1,
                site,
                text::size(r.size, false),
                r.count
            ));
        }
    }
    if view.options.by == GroupBy::Traceback {
        out.push('\n');
        for (i, r) in view.rows[..shown].iter().enumerate() {
            out.push_str(&format!(
                "<details><summary>#{} traceback ({})</summary>\n\n```text\n",
                i + 1,
                site::site_text(view, r.key).replace('<', "&lt;")
            ));
            for line in site::traceback_text(view, r.key) {
                out.push_str(&format!("  {line}\n"));
            }
            out.push_str("```\n\n</details>\n\n");
        }
    }
    out
}

/// `.snap` statistics as Markdown, with the first `top` types of each list (0 = all).
pub fn snap_stats(s: &crate::analysis::snap_stats::SnapStats, top: usize) -> String {
    let mut out = format!(
        "### leakhunt: snapshot {}\n\n",
        cell_code(&s.path.display().to_string())
    );
    out.push_str(&format!("{}\n\n", super::table::describe_meta(&s.meta)));
    out.push_str(&format!(
        "**{}** objects, **{}** (`sys.getsizeof`), {} references ({} weak), {} types.\n\n",
        s.objects,
        text::size(s.bytes as i64, false),
        s.edges,
        s.weak_edges,
        s.types
    ));
    out.push_str("| Root kind | Roots |\n|---|---:|\n");
    for (k, c) in &s.roots {
        out.push_str(&format!("| {k} | {c} |\n"));
    }
    for (title, rows) in [
        ("Top types by count", &s.by_count),
        ("Top types by size", &s.by_size),
    ] {
        out.push_str(&format!(
            "\n#### {title}\n\n| # | Type | Count | Size |\n|---:|---|---:|---:|\n"
        ));
        for (i, r) in super::top(rows, top).iter().enumerate() {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                i + 1,
                cell_code(&r.name),
                r.count,
                text::size(r.size as i64, false)
            ));
        }
    }
    out
}

/// A `.snap` diff as Markdown.
pub fn snap_diff(d: &crate::analysis::snap_diff::SnapDiff, top: usize) -> String {
    let mut out = String::from(
        "### leakhunt: object-graph diff\n\n| Snapshot | Step | Objects | Size |\n|---|---:|---:|---:|\n",
    );
    for s in &d.snapshots {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            cell_code(&s.path),
            s.step.map(|x| x.to_string()).unwrap_or_default(),
            s.objects,
            text::size(s.bytes as i64, false)
        ));
    }
    out.push_str(&format!(
        "\n**New and alive:** {} objects, {} ({} unreachable, {}).\n\n#### Leak suspects\n\n",
        d.new_objects,
        text::size(d.new_bytes as i64, false),
        d.new_unreachable,
        text::size(d.new_unreachable_bytes as i64, false)
    ));
    out.push_str("| # | Retained growth | New objects | Leaking type | Retention chain |\n|---:|---:|---:|---|---|\n");
    for (i, s) in super::top(&d.suspects, top).iter().enumerate() {
        let grouped = if s.group_count > 1 {
            format!(" ({} alike)", s.group_count)
        } else {
            String::new()
        };
        let dominators = s
            .dominator_chain_text
            .as_ref()
            .map(|d| format!("<br>dominators: {}", cell_code(d)))
            .unwrap_or_default();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {}{}{} |\n",
            i + 1,
            text::size(s.retained_growth_bytes as i64, false),
            s.new_objects,
            cell_code(&s.leaking_type),
            cell_code(&s.chain_text),
            dominators,
            grouped
        ));
    }
    out.push_str("\n#### Growth by type\n\n| Type | Count | Δ Count | Δ Size | New |\n|---|---:|---:|---:|---:|\n");
    for r in super::top(&d.growth_by_type, top) {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            cell_code(&r.type_name),
            r.count_last,
            text::count(r.count_diff, true),
            text::size(r.size_diff, true),
            r.new
        ));
    }
    if !d.growth_by_site.is_empty() {
        out.push_str("\n#### New objects by allocation site\n\n| Site | New objects | New size |\n|---|---:|---:|\n");
        for r in super::top(&d.growth_by_site, top) {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                cell_code(&r.site),
                r.new,
                text::size(r.new_bytes as i64, false)
            ));
        }
    }
    if !d.cycles.is_empty() {
        out.push_str("\n#### Reference cycles among new objects\n\n| Status | Cycles | Size | Shape |\n|---|---:|---:|---|\n");
        for c in super::top(&d.cycles, top) {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                c.status,
                c.count,
                text::size(c.bytes as i64, false),
                cell_code(&c.signature)
            ));
        }
    }
    out
}
