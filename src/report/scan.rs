//! Faces of a source scan: table, JSON (formats/scan-json.md) and the Markdown report layout.

use crate::leak_kind::LeakKind;
use crate::scan::{ScanResult, StaticFinding};
use comfy_table::{ContentArrangement, Table, presets};
use serde_json::json;
use std::io::IsTerminal;

fn place(f: &StaticFinding) -> String {
    format!("{}:{}:{}", f.file.display(), f.line, f.col)
}

fn summary(r: &ScanResult) -> String {
    let counts: Vec<String> = r
        .counts()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    format!(
        "{} findings in {} files ({} lines){}{}\n",
        r.findings.len(),
        r.files_scanned,
        r.lines_scanned,
        if counts.is_empty() {
            String::new()
        } else {
            format!(": {}", counts.join(", "))
        },
        if r.syntax_errors.is_empty() {
            String::new()
        } else {
            format!("; {} files did not parse", r.syntax_errors.len())
        }
    )
}

/// The findings as a table, best first.
pub fn table(r: &ScanResult) -> String {
    let mut out = summary(r);
    if r.findings.is_empty() {
        return out;
    }
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    if std::io::stdout().is_terminal() {
        t.set_content_arrangement(ContentArrangement::Dynamic);
    }
    t.set_header(vec!["#", "Where", "Kind", "Conf.", "Code", "Why"]);
    for (i, f) in r.findings.iter().enumerate() {
        t.add_row(vec![
            (i + 1).to_string(),
            place(f),
            f.kind.to_string(),
            f.confidence.as_str().to_string(),
            f.code.lines().next().unwrap_or("").trim().to_string(),
            f.why.clone(),
        ]);
    }
    out.push_str(&t.to_string());
    out.push('\n');
    out
}

/// The JSON document of a scan (schema: formats/scan-json.md).
pub fn json(r: &ScanResult) -> String {
    let counts: serde_json::Map<String, serde_json::Value> = r
        .counts()
        .into_iter()
        .map(|(k, n)| (k.as_str().to_string(), json!(n)))
        .collect();
    let doc = json!({
        "leakhunt_scan": 1,
        "files_scanned": r.files_scanned,
        "lines_scanned": r.lines_scanned,
        "counts": counts,
        "findings": r.findings.iter().map(|f| json!({
            "kind": f.kind,
            "title": f.kind.title(),
            "confidence": f.confidence,
            "rule": f.rule,
            "file": f.file.display().to_string(),
            "line": f.line,
            "col": f.col,
            "end_line": f.end_line,
            "end_col": f.end_col,
            "code": f.code,
            "why": f.why,
            "fix": f.fix,
        })).collect::<Vec<_>>(),
        "syntax_errors": r.syntax_errors.iter().map(|e| json!({
            "file": e.file.display().to_string(),
            "line": e.line,
            "col": e.col,
            "message": e.message,
        })).collect::<Vec<_>>(),
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// How a kind's memory grows, as the report layout's "Growth Pattern" says it.
fn growth(k: LeakKind) -> &'static str {
    match k {
        LeakKind::StringConcat => "Quadratic (each step copies everything built so far)",
        LeakKind::CircularReference => {
            "Linear (one cycle per object made; freed only by the cyclic collector, if at all)"
        }
        _ => "Linear (one more entry or object per call, event or loop step)",
    }
}

/// The scan in the reference document's report layout, one section per finding.
pub fn markdown(r: &ScanResult) -> String {
    let mut out = String::from("## Memory Leak Report\n\n");
    out.push_str(&summary(r));
    for e in &r.syntax_errors {
        out.push_str(&format!("\n- `{e}`"));
    }
    if !r.syntax_errors.is_empty() {
        out.push('\n');
    }
    for f in &r.findings {
        out.push_str(&format!(
            "\n### File: {}:{}\n\n#### Leak Type\n{} (`{}`, confidence {}, rule `{}`)\n\n\
             #### Growth Pattern\n{}\n\n#### Memory Impact\n\
             Not measured: this is a static finding. Take two snapshots around the code and run \
             `leakhunt diff` to measure the growth per call.\n\n\
             #### Evidence\n```python\n{}\n```\n{}\n\n\
             #### Detection\n```python\n# Memory profiling to confirm\nimport tracemalloc\ntracemalloc.start()\n\
             # Run the code at {}:{} many times\nsnapshot = tracemalloc.take_snapshot()\n\
             top_stats = snapshot.statistics('lineno')\n```\n\n\
             #### Fix\n```python\n{}\n```\n{}\n",
            f.file.display(),
            f.line,
            f.kind.title(),
            f.kind,
            f.confidence.as_str(),
            f.rule,
            growth(f.kind),
            f.code.replace("```", "` ` `"),
            f.why,
            f.file.display(),
            f.line,
            f.kind.fix_example(),
            f.fix,
        ));
    }
    out
}
