//! The object-graph diff (`leakhunt diff A.snap B.snap ...`) as one self-contained HTML
//! page: the snapshots, each suspect's retention chain drawn as a graph with its allocation
//! sites, growth by type and by site, and the cycles among new objects.

use crate::analysis::snap_diff::SnapDiff;
use crate::report::html::{chain_graph, esc, page, share_table};
use crate::report::top;
use crate::text::{count, size};

/// The diff as HTML with the first `n` rows of each list (0 = all).
pub fn render(d: &SnapDiff, n: usize) -> String {
    let mut body = String::from(
        "<h1>Object-graph diff</h1>\n<div class=\"scroll\"><table><tr><th>snapshot</th><th class=\"n\">step</th><th class=\"n\">objects</th><th class=\"n\">size</th></tr>",
    );
    for s in &d.snapshots {
        body.push_str(&format!(
            "<tr><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&s.path),
            s.step.map(|x| x.to_string()).unwrap_or_default(),
            s.objects,
            esc(&size(s.bytes as i64, false))
        ));
    }
    body.push_str(&format!(
        "</table></div>\n<p><b>New and alive:</b> {} objects, {} ({} unreachable, {}).</p>\n",
        d.new_objects,
        esc(&size(d.new_bytes as i64, false)),
        d.new_unreachable,
        esc(&size(d.new_unreachable_bytes as i64, false))
    ));
    body.push_str("<h2>Leak suspects</h2>\n");
    let suspects = top(&d.suspects, n);
    if suspects.is_empty() {
        body.push_str("<p id=\"no-leak\">No old object holds new memory.</p>\n");
    }
    for (i, s) in suspects.iter().enumerate() {
        body.push_str(&format!(
            "<section class=\"finding\" id=\"suspect-{k}\"><h3>{k}. {} held by <code>{}</code></h3>\n<p class=\"chain\">{}</p>\n",
            esc(&size(s.retained_growth_bytes as i64, false)),
            esc(&s.retainer_type),
            esc(&s.chain_text),
            k = i + 1
        ));
        if let Some(dom) = &s.dominator_chain_text {
            body.push_str(&format!(
                "<p class=\"chain note\">dominators: {}</p>\n",
                esc(dom)
            ));
        }
        let held = format!(
            "{} new objects, {}",
            s.new_objects,
            size(s.retained_growth_bytes as i64, false)
        );
        body.push_str(&chain_graph(&s.chain, &held, i + 1));
        if s.group_count > 1 {
            body.push_str(&format!(
                "<p class=\"note\">{} retainers alike are grouped here.</p>\n",
                s.group_count
            ));
        }
        if !s.alloc_sites.is_empty() {
            body.push_str(&share_table(&s.alloc_sites));
        }
        body.push_str("</section>\n");
    }
    body.push_str("<h2>Growth by type</h2>\n<div class=\"scroll\"><table><tr><th>type</th><th class=\"n\">count</th><th class=\"n\">Δ count</th><th class=\"n\">Δ size</th><th class=\"n\">new</th></tr>");
    for r in top(&d.growth_by_type, n) {
        body.push_str(&format!(
            "<tr><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&r.type_name),
            r.count_last,
            esc(&count(r.count_diff, true)),
            esc(&size(r.size_diff, true)),
            r.new
        ));
    }
    body.push_str("</table></div>\n");
    if !d.growth_by_site.is_empty() {
        body.push_str("<h2>New objects by allocation site</h2>\n<div class=\"scroll\"><table><tr><th>site</th><th class=\"n\">new objects</th><th class=\"n\">new size</th></tr>");
        for r in top(&d.growth_by_site, n) {
            body.push_str(&format!(
                "<tr><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&r.site),
                r.new,
                esc(&size(r.new_bytes as i64, false))
            ));
        }
        body.push_str("</table></div>\n");
    }
    if !d.cycles.is_empty() {
        body.push_str("<h2>Cycles among new objects</h2>\n<div class=\"scroll\"><table><tr><th>shape</th><th>status</th><th class=\"n\">cycles</th><th class=\"n\">objects</th><th class=\"n\">size</th></tr>");
        for c in top(&d.cycles, n) {
            body.push_str(&format!(
                "<tr><td class=\"chain\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&c.signature),
                esc(c.status),
                c.count,
                c.objects,
                esc(&size(c.bytes as i64, false))
            ));
        }
        body.push_str("</table></div>\n");
    }
    page("leakhunt: object-graph diff", &body)
}
