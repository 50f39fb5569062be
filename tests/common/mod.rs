//! Helpers shared by the integration tests: running the binary, finding CPythons.
#![allow(dead_code)]

pub mod target;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The CPython minor versions leakhunt supports.
pub const VERSIONS: [&str; 6] = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"];

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path under `testdata/`.
pub fn testdata(rel: &str) -> PathBuf {
    root().join("testdata").join(rel)
}

/// Run the leakhunt binary with arguments.
pub fn leakhunt<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_leakhunt"))
        .args(args)
        .output()
        .expect("run leakhunt")
}

/// The pyenv interpreter for a minor version, or None (with a SKIP line) when absent.
pub fn python(version: &str) -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    let dir = home.join(".pyenv/versions");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            name.strip_prefix(version).is_some_and(|rest| {
                rest.starts_with('.') && rest[1..].chars().all(|c| c.is_ascii_digit())
            })
        })
        .map(|e| e.path().join("bin/python3"))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    let py = found.pop();
    if py.is_none() {
        eprintln!("SKIP CPython {version}: not installed under ~/.pyenv/versions");
    }
    py
}

/// Every supported CPython present, oldest first, as (minor version, interpreter).
pub fn pythons() -> Vec<(&'static str, PathBuf)> {
    VERSIONS
        .iter()
        .filter_map(|v| python(v).map(|p| (*v, p)))
        .collect()
}

/// Run `f` for each (version, interpreter), two at a time (the machines have two cores);
/// a panic in one fails the caller once both of its pair are done.
pub fn two_at_a_time<F>(pythons: &[(&'static str, PathBuf)], f: F)
where
    F: Fn(&'static str, &Path) + Sync,
{
    for pair in pythons.chunks(2) {
        std::thread::scope(|s| {
            for (v, py) in pair {
                let f = &f;
                s.spawn(move || f(v, py));
            }
        });
    }
}

/// Parse JSON that may hold lone surrogate escapes (`\udc80`), which serde_json refuses:
/// they are turned into the visible text `\udc80` on both sides of a comparison.
pub fn parse_json_lenient(text: &str) -> serde_json::Value {
    let fixed = text.replace("\\udc", "\\\\udc").replace("\\ud8", "\\\\ud8");
    serde_json::from_str(&fixed)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", &text[..text.len().min(300)]))
}

/// Read a file to a string.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
