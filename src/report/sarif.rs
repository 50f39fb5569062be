//! SARIF 2.1.0: a source scan as code hosts read it, one rule per leak kind.

use crate::leak_kind::{Confidence, LeakKind};
use crate::scan::ScanResult;
use serde_json::json;

/// The SARIF level of a confidence.
fn level(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "error",
        Confidence::Medium => "warning",
        Confidence::Low => "note",
    }
}

/// A file path as a SARIF URI reference (relative paths stay relative, `/` separators).
fn uri(p: &std::path::Path) -> String {
    let s = p.display().to_string().replace('\\', "/");
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'.' | b'-' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The scan as a SARIF 2.1.0 log.
pub fn scan(r: &ScanResult) -> String {
    let rules: Vec<_> = LeakKind::ALL
        .iter()
        .map(|k| {
            json!({
                "id": k.as_str(),
                "name": k.title().replace([' ', '/'], ""),
                "shortDescription": {"text": k.title()},
                "fullDescription": {"text": format!("{}: {}", k.title(), k.fix())},
                "help": {"text": k.fix(), "markdown": format!("{}\n\n```python\n{}\n```", k.fix(), k.fix_example())},
                "defaultConfiguration": {"level": "warning"},
            })
        })
        .collect();
    let results: Vec<_> = r
        .findings
        .iter()
        .map(|f| {
            let index = LeakKind::ALL.iter().position(|k| *k == f.kind).unwrap_or(0);
            json!({
                "ruleId": f.kind.as_str(),
                "ruleIndex": index,
                "level": level(f.confidence),
                "message": {"text": format!("{} Fix: {}", f.why, f.fix)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(&f.file)},
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.col,
                            "endLine": f.end_line,
                            "endColumn": f.end_col,
                            "snippet": {"text": f.code},
                        },
                    },
                }],
                "properties": {"confidence": f.confidence.as_str(), "rule": f.rule},
            })
        })
        .collect();
    let notes: Vec<_> = r
        .syntax_errors
        .iter()
        .map(|e| {
            json!({
                "level": "error",
                "message": {"text": format!("syntax error: {}", e.message)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(&e.file)},
                        "region": {"startLine": e.line, "startColumn": e.col},
                    },
                }],
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "leakhunt",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/leakhunt/leakhunt",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notes,
            }],
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
