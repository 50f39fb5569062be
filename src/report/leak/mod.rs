//! Faces of the leak report: a table of findings, JSON (`formats/leak-report-json.md`),
//! Markdown in the bug-report layout, and a self-contained HTML page.

pub mod html;
pub mod json;
pub mod markdown;
pub mod table;

use crate::analysis::growth::Growth;
use crate::text::size;

fn amount(b: f64) -> String {
    if b.abs() >= 1.0 {
        size(b.round() as i64, false)
    } else {
        format!("{b:.2} B")
    }
}

/// "~96.0 KiB per minute" while it grew (from wall time), else per step / second / snapshot.
pub fn rate(g: &Growth) -> String {
    if g.unit == "step" {
        let per_step = format!("~{} per step", amount(g.bytes_per_step));
        return match g.per_minute {
            Some(m) => format!("{per_step} (~{} per minute)", amount(m)),
            None => per_step,
        };
    }
    match (g.per_minute, g.per_cpu_second) {
        (Some(m), Some(c)) => format!("~{} per minute (~{} per CPU-second)", amount(m), amount(c)),
        (Some(m), None) => format!("~{} per minute", amount(m)),
        _ => format!(
            "~{} per {}",
            amount(g.bytes_per_step),
            g.unit.replace('_', "-")
        ),
    }
}

/// The projection over a horizon the evidence carries, or why there is none.
pub fn projection(g: &Growth) -> String {
    use crate::analysis::clock::duration;
    use crate::analysis::growth::Pattern;
    let story = g.story.as_ref().map_or(String::new(), |s| format!("{s}; "));
    let ahead = match (
        g.projected_bytes,
        g.projection_horizon_seconds,
        g.projected_1m_steps,
    ) {
        (Some(p), Some(h), _) => format!(
            "at this rate, {} over the next {} of this load",
            size(p as i64, true),
            duration(h)
        ),
        (_, _, Some(p)) => format!(
            "{} over the next 1,000,000 {}s",
            size(p as i64, true),
            g.unit
        ),
        _ if g.pattern == Pattern::Exponential => "unbounded: it multiplies every step".into(),
        _ if g.unit == "snapshot" => "no projection: the snapshots carry no step or time".into(),
        _ if g.pattern.is_growing() => {
            "no projection: the fit is too poor or the growth was seen too briefly".into()
        }
        _ => "no further growth expected".into(),
    };
    format!("{story}{ahead}")
}

/// "3 more below the line (...): --all shows them".
pub fn below_the_line(r: &crate::analysis::leak_report::LeakReport) -> String {
    format!(
        "{} more below the line (a fit under r² {}, under {}% of the largest finding's growth, or the same growth seen from another retainer): --all shows them",
        r.minor_findings.len(),
        crate::analysis::leak_report::MIN_FIT,
        crate::analysis::leak_report::MIN_SHARE_PERCENT
    )
}

/// Growth pattern with its fit quality, `linear (r² 0.99, 3 snapshots)`.
pub fn pattern(g: &Growth) -> String {
    format!(
        "{} (r² {:.2}, {} snapshots)",
        g.pattern.as_str(),
        g.fit,
        g.x.len()
    )
}
