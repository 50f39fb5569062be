//! The scan driver: expand paths into `.py` files and scan them on two threads.

use super::file::{FileScan, scan_source_in};
use super::fixtures::{FixtureCache, is_test_file};
use super::{ScanOptions, ScanResult, sort_best_first};
use crate::error::{Error, Result};
use crate::input::source::io_error;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Worker threads: the machine has two cores.
const THREADS: usize = 2;
/// Stack of each worker: deeply nested expressions recurse in the parser and the rules.
const STACK: usize = 256 << 20;

/// Directories never entered when walking (as linters skip them).
const SKIP_DIRS: &[&str] = &["__pycache__", "node_modules", "site-packages", "venv"];

/// Every `.py` file under the given paths (files named directly are taken whatever their
/// name), sorted; a path that does not exist is an error.
pub fn python_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| {
            let found = io_error(p, &e).message;
            let found = found.rsplit("found ").next().unwrap_or(&found).to_string(); // ok: one item at least
            Error::expected(p, 0, "a Python file or directory", found)
        })?;
        if meta.is_dir() {
            walk(p, &mut out);
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(ft) = entry.file_type() else { continue };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = entry.path();
        if ft.is_dir() {
            if !name.starts_with('.') && !SKIP_DIRS.contains(&name.as_ref()) {
                walk(&path, out);
            }
        } else if (ft.is_file() || ft.is_symlink()) && name.ends_with(".py") && path.is_file() {
            out.push(path);
        }
    }
}

fn scan_one(path: &Path, opts: &ScanOptions, fixtures: &FixtureCache) -> FileScan {
    match std::fs::read(path) {
        Ok(bytes) => {
            let tests = is_test_file(path).then(|| fixtures.cleanup_for(path));
            scan_source_in(path, &String::from_utf8_lossy(&bytes), opts, tests)
        }
        Err(e) => FileScan {
            syntax_error: Some(super::SyntaxErrorLine {
                file: path.to_path_buf(),
                line: 1,
                col: 1,
                message: format!("cannot read: {e}"),
            }),
            ..FileScan::default()
        },
    }
}

/// Scan files and directories: findings best first, plus the files that did not parse.
pub fn scan_paths(paths: &[PathBuf], opts: &ScanOptions) -> Result<ScanResult> {
    let files = python_files(paths)?;
    let next = AtomicUsize::new(0);
    let fixtures = FixtureCache::default();
    let mut scans: Vec<(usize, FileScan)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                std::thread::Builder::new()
                    .stack_size(STACK)
                    .spawn_scoped(s, || {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(f) = files.get(i) else { break };
                            done.push((i, scan_one(f, opts, &fixtures)));
                        }
                        done
                    })
            })
            .collect();
        let mut all = Vec::new();
        for w in workers {
            match w {
                Ok(h) => all.extend(h.join().unwrap_or_default()),
                Err(e) => return Err(Error::usage(format!("cannot start a scan thread: {e}"))),
            }
        }
        Ok(all)
    })?;
    if scans.len() < files.len() {
        return Err(Error::usage("a scan thread failed"));
    }
    scans.sort_by_key(|(i, _)| *i);
    let mut result = ScanResult {
        files_scanned: files.len(),
        ..ScanResult::default()
    };
    for (_, s) in scans {
        result.lines_scanned += s.lines;
        result.findings.extend(s.findings);
        result.syntax_errors.extend(s.syntax_error);
    }
    sort_best_first(&mut result.findings);
    Ok(result)
}
