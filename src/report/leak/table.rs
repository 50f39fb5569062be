//! The leak report as a terminal table: one row per finding, best first, then the evidence.

use super::{pattern, projection, rate};
use crate::analysis::leak_report::LeakReport;
use crate::report::top;
use crate::text::size;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets};
use std::io::IsTerminal;

/// The report as a table with the first `n` findings (0 = all).
pub fn render(r: &LeakReport, n: usize) -> String {
    let mut out = String::new();
    let what = if r.input == "tracemalloc" {
        "traces"
    } else {
        "objects"
    };
    for (i, s) in r.snapshots.iter().enumerate() {
        out.push_str(&format!(
            "snapshot {}: {} (step {}, {} {what}, {})\n",
            i + 1,
            s.path,
            s.step.map_or("-".to_string(), |v| v.to_string()),
            s.objects,
            size(s.bytes as i64, false)
        ));
    }
    let shown = top(&r.findings, n);
    out.push_str(&format!(
        "{} finding(s){}\n",
        r.findings.len(),
        if r.dismissed > 0 {
            format!(
                "; {} candidate(s) dismissed as not growing or below 2 KiB",
                r.dismissed
            )
        } else {
            String::new()
        }
    ));
    if !r.minor_findings.is_empty() {
        out.push_str(&format!("{}\n", super::below_the_line(r)));
    }
    if !shown.is_empty() {
        let mut t = Table::new();
        t.load_style(presets::UTF8_FULL_CONDENSED);
        if std::io::stdout().is_terminal() {
            t.set_content_arrangement(ContentArrangement::Dynamic);
        }
        t.set_header(vec![
            "#",
            "kind",
            "confidence",
            "growth",
            "rate",
            "pattern",
            "location",
            "retained by",
        ]);
        for (i, f) in shown.iter().enumerate() {
            t.add_row(vec![
                Cell::new(i + 1),
                Cell::new(f.kind.as_str()),
                Cell::new(f.confidence.as_str()),
                Cell::new(size(f.growth_bytes as i64, false)).set_alignment(CellAlignment::Right),
                Cell::new(rate(&f.growth)),
                Cell::new(f.growth.pattern.as_str()),
                Cell::new(&f.location),
                Cell::new(&f.chain_text),
            ]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
        for (i, f) in shown.iter().enumerate() {
            out.push_str(&format!(
                "\n{}. {} ({} confidence): {} of {} held by {}\n   growth: {}; {}\n",
                i + 1,
                f.title,
                f.confidence.as_str(),
                size(f.growth_bytes as i64, false),
                f.leaking_type,
                f.retainer_type,
                pattern(&f.growth),
                projection(&f.growth)
            ));
            for e in &f.evidence {
                out.push_str(&format!("   - {e}\n"));
            }
            if f.alloc_sites.len() > 1 {
                let sites: Vec<String> = f
                    .alloc_sites
                    .iter()
                    .map(|s| format!("{} ({:.0}%)", s.site, 100.0 * s.share))
                    .collect();
                out.push_str(&format!("   allocated at: {}\n", sites.join(", ")));
            }
            out.push_str(&format!("   fix: {}\n", f.fix));
        }
    }
    for note in &r.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}
