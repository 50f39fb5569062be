//! `leakhunt scan`: a static audit of Python source for the ten leak kinds.
//!
//! [`scan_paths`] walks files and directories, parses every `.py` file with ruff's parser on
//! two threads, builds a scope model of each module ([`model`]) and runs one rule per leak kind
//! ([`rules`]). Findings come back sorted best first; files that do not parse are listed.

pub mod ast;
pub mod calls;
pub mod cli;
pub mod driver;
pub mod file;
pub mod fixtures;
pub mod model;
pub mod rules;

use crate::error::Result;
use crate::leak_kind::{Confidence, LeakKind};
use serde::Serialize;
use std::path::{Path, PathBuf};

pub use driver::scan_paths;
pub use file::scan_source;

/// Which kinds a scan reports.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Report only these kinds (None: all).
    pub select: Option<Vec<LeakKind>>,
    /// Never report these kinds.
    pub ignore: Vec<LeakKind>,
}

impl ScanOptions {
    /// True when findings of kind `k` are wanted.
    pub fn wants(&self, k: LeakKind) -> bool {
        self.select.as_ref().is_none_or(|s| s.contains(&k)) && !self.ignore.contains(&k)
    }
}

/// One finding of the source scan.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StaticFinding {
    /// The leak kind.
    pub kind: LeakKind,
    /// How sure the rule is.
    pub confidence: Confidence,
    /// The file, as given or found under a given directory.
    pub file: PathBuf,
    /// 1-based line of the evidence.
    pub line: u32,
    /// 1-based column (in characters) of the evidence.
    pub col: u32,
    /// 1-based last line of the evidence.
    pub end_line: u32,
    /// 1-based column just past the evidence on its last line.
    pub end_col: u32,
    /// The source lines of the evidence (at most a few).
    pub code: String,
    /// One sentence naming the evidence.
    pub why: String,
    /// The kind's fix plus what to do here.
    pub fix: String,
    /// Short name of the rule that fired (`lru-cache-method`, `only-grown`...).
    pub rule: &'static str,
}

/// A file that did not parse.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SyntaxErrorLine {
    /// The file.
    pub file: PathBuf,
    /// 1-based line of the error.
    pub line: u32,
    /// 1-based column of the error.
    pub col: u32,
    /// The parser's message.
    pub message: String,
}

impl std::fmt::Display for SyntaxErrorLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let msg = self.message.replace(['\n', '\r'], " ");
        write!(
            f,
            "{}:{}: syntax error: {msg}",
            self.file.display(),
            self.line
        )
    }
}

/// What a scan found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanResult {
    /// Findings, best first (confidence, then kind, then place).
    pub findings: Vec<StaticFinding>,
    /// Files that did not parse, in path order.
    pub syntax_errors: Vec<SyntaxErrorLine>,
    /// How many `.py` files were read.
    pub files_scanned: usize,
    /// How many lines they hold.
    pub lines_scanned: usize,
}

impl ScanResult {
    /// The findings whose evidence spans `line` of `file` (for joining with heap findings).
    pub fn at<'a>(&'a self, file: &'a Path, line: u32) -> impl Iterator<Item = &'a StaticFinding> {
        self.findings
            .iter()
            .filter(move |f| f.file == file && f.line <= line && line <= f.end_line)
    }

    /// How many findings each kind has, in the kinds' order.
    pub fn counts(&self) -> Vec<(LeakKind, usize)> {
        LeakKind::ALL
            .iter()
            .map(|&k| (k, self.findings.iter().filter(|f| f.kind == k).count()))
            .collect()
    }
}

/// Order findings best first: higher confidence, then kind order, then file, line, column.
pub fn sort_best_first(findings: &mut [StaticFinding]) {
    findings.sort_by(|a, b| {
        b.confidence
            .cmp(&a.confidence)
            .then(a.kind.cmp(&b.kind))
            .then(a.file.cmp(&b.file))
            .then(a.line.cmp(&b.line))
            .then(a.col.cmp(&b.col))
    });
}

/// Scan one file from disk (for callers that join a single site with heap evidence).
pub fn scan_file(path: &Path, opts: &ScanOptions) -> Result<file::FileScan> {
    let bytes = std::fs::read(path).map_err(|e| crate::input::source::io_error(path, &e))?;
    Ok(scan_source(path, &String::from_utf8_lossy(&bytes), opts))
}
