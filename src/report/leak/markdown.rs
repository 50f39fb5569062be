//! The leak report as Markdown in the bug-report layout: a summary table, then per finding
//! File:line, Leak Type, Growth Pattern, Memory Impact, Evidence, Detection and Fix.

use super::{pattern, projection, rate};
use crate::analysis::leak_report::LeakReport;
use crate::report::top;
use crate::text::size;

/// Text safe inside a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// A fenced block that no line of `body` can close early.
fn fence(lang: &str, body: &str) -> String {
    let mut ticks = "```".to_string();
    while body.contains(&ticks) {
        ticks.push('`');
    }
    format!("{ticks}{lang}\n{body}\n{ticks}\n")
}

/// The report as Markdown with the first `n` findings (0 = all).
pub fn render(r: &LeakReport, n: usize) -> String {
    let mut out = String::from("## Memory Leak Report\n\n");
    let snaps: Vec<String> = r
        .snapshots
        .iter()
        .map(|s| match s.step {
            Some(step) => format!("`{}` (step {step})", cell(&s.path)),
            None => format!("`{}`", cell(&s.path)),
        })
        .collect();
    out.push_str(&format!(
        "{} snapshot(s) ({} input): {}\n\n",
        r.snapshots.len(),
        r.input,
        snaps.join(", ")
    ));
    let shown = top(&r.findings, n);
    if !r.minor_findings.is_empty() {
        out.push_str(&format!("{}\n\n", super::below_the_line(r)));
    }
    if shown.is_empty() {
        out.push_str("No leak found: nothing held by a root grows across the snapshots.\n\n");
    } else {
        out.push_str("| # | Leak type | Confidence | Location | Growth | Rate | Pattern |\n");
        out.push_str("|---:|---|---|---|---:|---|---|\n");
        for (i, f) in shown.iter().enumerate() {
            out.push_str(&format!(
                "| {} | {} | {} | `{}` | {} | {} | {} |\n",
                i + 1,
                f.title,
                f.confidence.as_str(),
                cell(&f.location),
                size(f.growth_bytes as i64, false),
                rate(&f.growth),
                f.growth.pattern.as_str()
            ));
        }
        out.push('\n');
    }
    for (i, f) in shown.iter().enumerate() {
        out.push_str(&format!("### {}. File: `{}`\n\n", i + 1, cell(&f.location)));
        out.push_str(&format!(
            "#### Leak Type\n{} (`{}`, {} confidence)\n\n",
            f.title,
            f.kind.as_str(),
            f.confidence.as_str()
        ));
        out.push_str(&format!("#### Growth Pattern\n{}\n\n", pattern(&f.growth)));
        out.push_str(&format!(
            "#### Memory Impact\n{} ({} held now by {} new objects); {}\n\n",
            rate(&f.growth),
            size(f.growth_bytes as i64, false),
            f.new_objects,
            projection(&f.growth)
        ));
        out.push_str("#### Evidence\n");
        out.push_str(&format!(
            "Retention chain: `{}`\n\n",
            f.chain_text.replace('`', "'")
        ));
        for e in &f.evidence {
            out.push_str(&format!("- {}\n", e.replace('\n', " ")));
        }
        for st in f.static_findings.iter().filter(|s| !s.agrees) {
            out.push_str(&format!(
                "- the source scan also flags `{}` at `{}`: {}\n",
                st.kind,
                cell(&st.site),
                st.why.replace('\n', " ")
            ));
        }
        if f.group_count > 1 {
            out.push_str(&format!(
                "- {} retainers with this same chain are grouped here\n",
                f.group_count
            ));
        }
        out.push('\n');
        if f.alloc_sites.len() > 1 {
            out.push_str("Allocation sites (share of the new bytes):\n\n");
            for s in &f.alloc_sites {
                out.push_str(&format!(
                    "- `{}`: {} ({:.0}%)\n",
                    cell(&s.site),
                    size(s.bytes as i64, false),
                    100.0 * s.share
                ));
            }
            out.push('\n');
        }
        if let Some(code) = &f.code {
            out.push_str("Allocated here:\n\n");
            out.push_str(&fence("python", code));
            out.push('\n');
        }
        if let Some(def) = &f.retainer_definition {
            out.push_str(&format!(
                "The retainer is defined at `{}`:\n\n",
                cell(&def.site)
            ));
            out.push_str(&fence("python", &def.code));
            out.push('\n');
        }
        out.push_str("#### Detection\n");
        out.push_str(&fence("python", &f.detection));
        out.push_str("\n#### Fix\n");
        out.push_str(&format!("{}\n\n", f.fix));
        out.push_str(&fence("python", &f.fix_example));
        out.push('\n');
    }
    for note in &r.notes {
        out.push_str(&format!("> Note: {note}\n>\n"));
    }
    out
}
