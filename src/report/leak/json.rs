//! The leak report as JSON (schema `leakhunt.leak-report/1`, `formats/leak-report-json.md`).

use crate::analysis::leak_report::LeakReport;

/// The schema name written into every report.
pub const SCHEMA: &str = "leakhunt.leak-report/1";

/// The report as pretty JSON, with the first `top` findings (0 = all).
pub fn render(r: &LeakReport, top: usize) -> String {
    let mut doc = serde_json::to_value(r).unwrap_or_default();
    if let Some(obj) = doc.as_object_mut() {
        if let (Some(serde_json::Value::Array(rows)), true) = (obj.get_mut("findings"), top > 0) {
            rows.truncate(top);
        }
        obj.insert("schema".into(), serde_json::json!(SCHEMA));
    }
    let mut out =
        serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    out.push('\n');
    out
}
