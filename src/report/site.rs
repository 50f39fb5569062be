//! How a tracemalloc key is named in every face: `file:line`, `file`, or a traceback.

use crate::analysis::tm_compare::GroupBy;
use crate::analysis::tm_diff::TmView;
use crate::text;

/// A frame as raw `file:line` bytes (names may hold surrogate escapes).
pub fn frame_bytes(file: &[u8], line: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity(file.len() + 8);
    v.extend_from_slice(file);
    v.push(b':');
    v.extend_from_slice(line.to_string().as_bytes());
    v
}

/// A row's site as raw bytes: `file:line`, or `file` alone when grouped by file name; for a
/// traceback, its most recent frame.
pub fn site_bytes(view: &TmView, key: u32) -> Vec<u8> {
    let frames = view.catalog.key_frames(view.options.by, key);
    match (view.options.by, frames.last()) {
        (GroupBy::Filename, Some((file, _))) => file.to_vec(),
        (_, Some((file, line))) => frame_bytes(file, *line),
        (_, None) => Vec::new(),
    }
}

/// A row's site for display.
pub fn site_text(view: &TmView, key: u32) -> String {
    text::display(&site_bytes(view, key)).into_owned()
}

/// A row's frames, oldest first, as display `file:line` lines.
pub fn traceback_text(view: &TmView, key: u32) -> Vec<String> {
    view.catalog
        .key_frames(view.options.by, key)
        .iter()
        .map(|(f, l)| text::display(&frame_bytes(f, *l)).into_owned())
        .collect()
}

/// The number of rows to show for `--top N` (0 = all).
pub fn shown(view: &TmView, top: usize) -> usize {
    super::top(&view.rows, top).len()
}

/// "lineno", "lineno, cumulative", plus the filters, for headings.
pub fn describe_grouping(view: &TmView) -> String {
    let o = &view.options;
    let mut s = o.by.name().to_string();
    if o.cumulative {
        s.push_str(", cumulative");
    }
    for g in &o.filter.include {
        s.push_str(&format!(", include {}", g.as_str()));
    }
    for g in &o.filter.exclude {
        s.push_str(&format!(", exclude {}", g.as_str()));
    }
    if o.filter.all_frames && !o.filter.is_empty() {
        s.push_str(" (any frame)");
    }
    s
}
