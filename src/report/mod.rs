//! Report faces: render analysis results as a table, JSON, Markdown, DOT, SARIF or HTML.
//! Reports never compute.

pub mod diff_html;
pub mod dot;
pub mod html;
pub mod json;
pub mod leak;
pub mod markdown;
pub mod sarif;
pub mod scan;
pub mod site;
pub mod table;

/// The output faces a user can choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A readable table (default).
    Table,
    /// JSON with a documented, stable schema (see `formats/`).
    Json,
    /// Markdown fit to paste into a bug report.
    Markdown,
    /// Graphviz DOT (object-graph diffs: chains and cycles).
    Dot,
    /// SARIF 2.1.0, for code hosts that show findings inline (source scans).
    Sarif,
    /// One self-contained HTML page with drawn growth curves and chains (report, .snap diff).
    Html,
}

/// The first `top` items (all of them when `top` is 0), as `--top N` means everywhere.
pub fn top<T>(items: &[T], top: usize) -> &[T] {
    if top == 0 {
        items
    } else {
        &items[..top.min(items.len())]
    }
}
