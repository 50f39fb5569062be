//! Capture without touching the code: `record` runs a target with the dumper started inside
//! it, `attach` injects a dump into a running CPython, `python-path` shows the embedded
//! dumper. The Python side is `python/leakhunt/capture.py`.

pub mod attach;
pub mod canary;
pub mod duration;
pub mod embed;
pub mod inject;
pub mod record;
pub mod signals;

use crate::error::Result;
use std::path::{Path, PathBuf};

/// `leakhunt python-path`: the directory holding the embedded `leakhunt` package, written if
/// needed, as a line for `PYTHONPATH=$(leakhunt python-path)`.
pub fn python_path() -> Result<String> {
    Ok(format!("{}\n", embed::python_dir()?.display()))
}

/// The snapshots named `snap-<seq>-<time>.snap` in `dir`, by sequence number.
pub fn snapshots(dir: &Path) -> Vec<(u64, PathBuf)> {
    let mut found: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            seq_of(&name).map(|s| (s, e.path()))
        })
        .collect();
    found.sort();
    found
}

/// The sequence number in `snap-<seq>-<time>.snap`, as the Python side names files.
fn seq_of(name: &str) -> Option<u64> {
    let body = name.strip_prefix("snap-")?.strip_suffix(".snap")?;
    let (seq, time) = body.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(seq) || !digits(time) {
        return None;
    }
    seq.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::seq_of;

    #[test]
    fn names() {
        assert_eq!(seq_of("snap-000012-1796154953.snap"), Some(12));
        assert_eq!(seq_of("snap-000012-1796154953.snap.tmp-77"), None);
        assert_eq!(seq_of("snap-x-1.snap"), None);
        assert_eq!(seq_of("other.snap"), None);
    }
}
