//! Report faces: render analysis results as a table, JSON or Markdown. Reports never compute.

pub mod dot;
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
}

/// The first `top` items (all of them when `top` is 0), as `--top N` means everywhere.
pub fn top<T>(items: &[T], top: usize) -> &[T] {
    if top == 0 {
        items
    } else {
        &items[..top.min(items.len())]
    }
}
