//! The leak report as one self-contained HTML page: a summary, then per finding the growth
//! curve with its fit, the retention chain drawn as a graph, the allocation sites with their
//! shares, the source lines, the evidence and the fix.

use super::{pattern, projection, rate};
use crate::analysis::leak_report::{Finding, LeakReport};
use crate::report::html::{chain_graph, esc, growth_chart, page, share_table};
use crate::report::top;
use crate::text::size;

/// The report as HTML with the first `n` findings (0 = all).
pub fn render(r: &LeakReport, n: usize) -> String {
    let shown = top(&r.findings, n);
    let mut body = String::from("<h1>Memory leak report</h1>\n");
    let files: Vec<String> = r
        .snapshots
        .iter()
        .map(|s| {
            let step = s.step.map(|x| format!(" (step {x})")).unwrap_or_default();
            format!("<code>{}</code>{}", esc(&s.path), esc(&step))
        })
        .collect();
    body.push_str(&format!(
        "<p class=\"note\">{} snapshot(s), {} input: {}</p>\n",
        r.snapshots.len(),
        esc(r.input),
        files.join(", ")
    ));
    if shown.is_empty() {
        body.push_str(
            "<p id=\"no-leak\">No leak found: nothing held by a root grows across the snapshots.</p>\n",
        );
    } else {
        body.push_str("<div class=\"scroll\"><table id=\"summary\"><tr><th>#</th><th>leak</th><th class=\"n\">held now</th></tr>");
        for (i, f) in shown.iter().enumerate() {
            body.push_str(&format!(
                "<tr><td><a href=\"#finding-{n}\">{n}</a></td><td><span class=\"kind\">{}</span><br><code>{}</code><br><span class=\"note\">{}</span></td><td class=\"n\">{}</td></tr>",
                esc(f.title),
                esc(&f.leaking_type),
                esc(&rate(&f.growth)),
                esc(&size(f.growth_bytes as i64, false)),
                n = i + 1
            ));
        }
        body.push_str("</table></div>\n");
    }
    if !r.minor_findings.is_empty() {
        body.push_str(&format!(
            "<p class=\"note\">{}</p>\n",
            esc(&super::below_the_line(r))
        ));
    }
    for (i, f) in shown.iter().enumerate() {
        body.push_str(&finding(f, i + 1));
    }
    if !r.notes.is_empty() {
        body.push_str("<h2>Notes</h2><ul class=\"notes\">");
        for note in &r.notes {
            body.push_str(&format!("<li>{}</li>", esc(note)));
        }
        body.push_str("</ul>\n");
    }
    body.push_str("<p class=\"note\">Made by leakhunt from offline heap snapshots.</p>");
    page("leakhunt: memory leak report", &body)
}

/// One finding's section.
fn finding(f: &Finding, n: usize) -> String {
    let mut out = format!(
        "<section class=\"finding\" id=\"finding-{n}\">\n<h2>{n}. {} <code>{}</code></h2>\n",
        esc(f.title),
        esc(&f.leaking_type)
    );
    out.push_str(&format!(
        "<p><span class=\"kind\">{}</span> <span class=\"conf\">{} confidence</span> · at <code>{}</code></p>\n",
        esc(f.kind.as_str()),
        esc(f.confidence.as_str()),
        esc(&f.location)
    ));
    out.push_str(&format!(
        "<p><b>{}</b> held now by {} new objects; {}. {}</p>\n",
        esc(&size(f.growth_bytes as i64, false)),
        f.new_objects,
        esc(&rate(&f.growth)),
        esc(&projection(&f.growth))
    ));
    out.push_str(&format!(
        "<h3>Growth</h3>\n<p class=\"note\">{}</p>\n{}\n",
        esc(&pattern(&f.growth)),
        growth_chart(&f.growth)
    ));
    out.push_str("<h3>Who keeps it alive</h3>\n");
    out.push_str(&format!("<p class=\"chain\">{}</p>\n", esc(&f.chain_text)));
    let mut held = format!(
        "{} new objects, {}",
        f.new_objects,
        size(f.growth_bytes as i64, false)
    );
    if f.chain
        .last()
        .is_some_and(|s| s.type_name != f.leaking_type)
    {
        held.push_str(&format!(": {}", f.leaking_type));
    }
    out.push_str(&chain_graph(&f.chain, &held, n));
    if f.group_count > 1 {
        out.push_str(&format!(
            "<p class=\"note\">{} retainers with this same chain are grouped here.</p>\n",
            f.group_count
        ));
    }
    if !f.alloc_sites.is_empty() {
        out.push_str("<h3>Allocation sites</h3>\n");
        out.push_str(&share_table(&f.alloc_sites));
    }
    if let Some(code) = &f.code {
        out.push_str(&format!(
            "<h3>Allocated here</h3>\n<pre class=\"code\">{}</pre>\n",
            esc(code)
        ));
    }
    if let Some(def) = &f.retainer_definition {
        out.push_str(&format!(
            "<h3>The retainer is defined at <code>{}</code></h3>\n<pre class=\"code\">{}</pre>\n",
            esc(&def.site),
            esc(&def.code)
        ));
    }
    out.push_str("<h3>Evidence</h3>\n<ul class=\"evidence\">");
    for e in &f.evidence {
        out.push_str(&format!("<li>{}</li>", esc(e)));
    }
    for st in f.static_findings.iter().filter(|s| !s.agrees) {
        out.push_str(&format!(
            "<li>the source scan also flags <code>{}</code> at <code>{}</code>: {}</li>",
            esc(st.kind.as_str()),
            esc(&st.site),
            esc(&st.why)
        ));
    }
    out.push_str("</ul>\n");
    out.push_str(&format!(
        "<h3>Fix</h3>\n<p class=\"fix\">{}</p>\n<pre class=\"fix-example\">{}</pre>\n",
        esc(&f.fix),
        esc(&f.fix_example)
    ));
    out.push_str(&format!(
        "<details><summary>Confirm it with tracemalloc</summary><pre>{}</pre></details>\n",
        esc(&f.detection)
    ));
    out.push_str("</section>\n");
    out
}
