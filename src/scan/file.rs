//! One file: parse, build the model, run the rules, honour suppressions, place findings.

use super::fixtures::TestCleanup;
use super::rules::{self, Ctx, Hit};
use super::{ScanOptions, StaticFinding, SyntaxErrorLine};
use crate::leak_kind::LeakKind;
use ruff_python_ast::token::TokenKind;
use ruff_text_size::{Ranged, TextSize};
use std::collections::HashMap;
use std::path::Path;

/// What scanning one file gave.
#[derive(Debug, Clone, Default)]
pub struct FileScan {
    /// Its findings, in source order.
    pub findings: Vec<StaticFinding>,
    /// Set when the file does not parse (then there are no findings).
    pub syntax_error: Option<SyntaxErrorLine>,
    /// How many lines it has.
    pub lines: usize,
}

/// Line starts of a text, for turning byte offsets into 1-based line and column.
pub struct LineIndex<'a> {
    src: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Index `src`.
    pub fn new(src: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { src, starts }
    }

    /// 1-based line and character column of a byte offset.
    pub fn place(&self, at: TextSize) -> (u32, u32) {
        let at = (u32::from(at) as usize).min(self.src.len());
        let line = self.starts.partition_point(|&s| s <= at).max(1);
        let start = self.starts[line - 1];
        let col = self
            .src
            .get(start..at)
            .map_or(at - start, |s| s.chars().count());
        (line as u32, col as u32 + 1)
    }

    /// The text of 1-based lines `from..=to`, without the final newline.
    pub fn lines(&self, from: u32, to: u32) -> String {
        let n = self.starts.len();
        let a = (from as usize).clamp(1, n);
        let b = (to as usize).clamp(a, n);
        let start = self.starts[a - 1];
        let end = if b < n {
            self.starts[b]
        } else {
            self.src.len()
        };
        self.src
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
            .to_string()
    }

    /// How many lines the text has.
    pub fn count(&self) -> usize {
        self.starts.len() - usize::from(self.src.ends_with('\n'))
    }
}

/// The evidence shown for a finding: at most this many lines.
const MAX_CODE_LINES: u32 = 4;

/// Scan the text of one file.
pub fn scan_source(path: &Path, text: &str, opts: &ScanOptions) -> FileScan {
    let tests = super::fixtures::is_test_file(path).then(TestCleanup::default);
    scan_source_in(path, text, opts, tests)
}

/// Scan the text of one file; `tests` is the fixtures' clean-up when it is a test file.
pub fn scan_source_in(
    path: &Path,
    text: &str,
    opts: &ScanOptions,
    tests: Option<TestCleanup>,
) -> FileScan {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let index = LineIndex::new(text);
    let parsed = match ruff_python_parser::parse_module(text) {
        Ok(p) => p,
        Err(e) => {
            let (line, col) = index.place(e.location.start());
            return FileScan {
                findings: Vec::new(),
                syntax_error: Some(SyntaxErrorLine {
                    file: path.to_path_buf(),
                    line,
                    col,
                    message: e.error.to_string(),
                }),
                lines: index.count(),
            };
        }
    };
    let module = parsed.syntax();
    let suppressed = suppressions(parsed.tokens(), text, &index);
    let mut ctx = Ctx::new(module, text);
    ctx.tests = tests;
    let mut hits: Vec<Hit> = Vec::new();
    rules::run_all(&ctx, opts, &mut hits);
    let mut findings: Vec<StaticFinding> = Vec::new();
    for h in hits {
        if !opts.wants(h.kind) {
            continue;
        }
        let (line, col) = index.place(h.range.start());
        let (end_line, end_col) = index.place(h.range.end());
        let quiet = [line, end_line].iter().any(|l| {
            suppressed
                .get(l)
                .is_some_and(|kinds| kinds.as_ref().is_none_or(|k| k.contains(&h.kind)))
        });
        if quiet {
            continue;
        }
        let code = index.lines(line, end_line.min(line + MAX_CODE_LINES - 1));
        let fix = if h.fix.is_empty() {
            h.kind.fix().to_string()
        } else {
            format!("{} {}", h.kind.fix(), h.fix)
        };
        findings.push(StaticFinding {
            kind: h.kind,
            confidence: h.confidence,
            file: path.to_path_buf(),
            line,
            col,
            end_line,
            end_col,
            code,
            why: h.why,
            fix,
            rule: h.rule,
        });
    }
    findings.sort_by_key(|f| (f.line, f.col, f.kind));
    // One finding per place: the first rule to claim a spot keeps it.
    findings.dedup_by(|b, a| a.line == b.line && a.col == b.col);
    FileScan {
        findings,
        syntax_error: None,
        lines: index.count(),
    }
}

/// Lines carrying `# leakhunt: ignore` (None: every kind) or `# leakhunt: ignore[k, k]`.
fn suppressions(
    tokens: &ruff_python_ast::token::Tokens,
    text: &str,
    index: &LineIndex,
) -> HashMap<u32, Option<Vec<LeakKind>>> {
    let mut out = HashMap::new();
    for t in tokens.iter() {
        if t.kind() != TokenKind::Comment {
            continue;
        }
        let Some(c) = text.get(t.range().start().to_usize()..t.range().end().to_usize()) else {
            continue;
        };
        let Some(pos) = c.find("leakhunt:") else {
            continue;
        };
        let rest = c[pos + "leakhunt:".len()..].trim_start();
        let Some(rest) = rest.strip_prefix("ignore") else {
            continue;
        };
        let kinds = rest
            .strip_prefix('[')
            .and_then(|r| r.split_once(']'))
            .map(|(list, _)| {
                list.split(',')
                    .filter_map(LeakKind::parse)
                    .collect::<Vec<_>>()
            });
        let (line, _) = index.place(t.range().start());
        out.insert(line, kinds);
    }
    out
}
