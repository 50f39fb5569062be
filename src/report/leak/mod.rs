//! Faces of the leak report: a table of findings, JSON (`formats/leak-report-json.md`), and
//! Markdown in the bug-report layout.

pub mod json;
pub mod markdown;
pub mod table;

use crate::analysis::growth::Growth;
use crate::text::size;

/// "~96.0 KiB per step" (or per second / per snapshot).
pub fn rate(g: &Growth) -> String {
    let b = g.bytes_per_step;
    let magnitude = if b.abs() >= 1.0 {
        size(b.round() as i64, false)
    } else {
        format!("{b:.2} B")
    };
    format!("~{magnitude} per {}", g.unit)
}

/// The projection over 1,000,000 units, or why there is none.
pub fn projection(g: &Growth) -> String {
    match g.projected_1m_steps {
        Some(p) => format!(
            "{} over the next 1,000,000 {}s",
            size(p as i64, true),
            g.unit
        ),
        None if g.pattern == crate::analysis::growth::Pattern::Exponential => {
            "unbounded: it multiplies every step".to_string()
        }
        None if g.unit == "snapshot" => {
            "no projection: the snapshots carry no step or time".to_string()
        }
        None => "no further growth expected".to_string(),
    }
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
