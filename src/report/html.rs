//! Pieces of the HTML face: escaping, the page around a report, and inline SVG drawings (a
//! growth curve with its fit, a retention chain as a graph, share bars). One self-contained
//! file: no scripts, no fonts, nothing fetched.

use crate::analysis::alloc_sites::SiteShare;
use crate::analysis::chain::Step;
use crate::analysis::growth::{self, Growth};
use crate::text::size;

/// Text safe anywhere in HTML: element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// At most `n` characters of `s`, with an ellipsis when cut.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

const STYLE: &str = "\
*{box-sizing:border-box}\
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;padding:12px;max-width:920px;color:#1d2228;background:#fff}\
h1{font-size:1.35em;margin:.2em 0 .4em}h2{font-size:1.15em;margin:1.6em 0 .3em;border-top:2px solid #d6dbe1;padding-top:.6em}\
h3{font-size:1em;margin:1em 0 .3em;color:#39424c}\
code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}\
pre{background:#f4f6f8;border:1px solid #dde2e7;border-radius:4px;padding:8px;white-space:pre-wrap;word-break:break-word;overflow-x:auto}\
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;margin:.3em 0}\
td,th{border-bottom:1px solid #e3e7eb;padding:4px 6px;text-align:left;vertical-align:top;word-break:break-word}\
th{background:#f4f6f8}td.n,th.n{text-align:right;white-space:nowrap}\
.kind{display:inline-block;background:#fde8e8;color:#9b1c1c;border-radius:3px;padding:0 6px;font-weight:600}\
.conf{color:#5b6570}.chain{font-family:ui-monospace,monospace;font-size:13px;word-break:break-word}\
svg{width:100%;height:auto;display:block}svg.growth{max-width:640px}svg.chain-graph{max-width:480px}.bar{background:#e3e7eb;border-radius:2px;height:10px;min-width:40px}\
.bar>span{display:block;background:#c0392b;height:10px;border-radius:2px}\
.note{color:#5b6570;font-size:.93em}.fix{background:#eef7ee;border-left:4px solid #2e7d32;padding:6px 10px}\
";

/// A whole page: `title` in the head, `body` (already HTML) inside.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n",
        esc(title)
    )
}

/// The allocation sites as a table with share bars.
pub fn share_table(rows: &[SiteShare]) -> String {
    let mut out = String::from(
        "<div class=\"scroll\"><table class=\"sites\"><tr><th>allocated at</th><th class=\"n\">bytes</th><th>share</th></tr>",
    );
    for SiteShare { site, bytes, share } in rows {
        let pct = (share * 100.0).clamp(0.0, 100.0);
        out.push_str(&format!(
            "<tr><td><code>{}</code></td><td class=\"n\">{}</td><td><div class=\"bar\" title=\"{pct:.0}%\"><span style=\"width:{pct:.0}%\"></span></div>{pct:.0}%</td></tr>",
            esc(site),
            esc(&size(*bytes as i64, false))
        ));
    }
    out.push_str("</table></div>");
    out
}

/// The growth series as an SVG line chart, observed points joined, the fitted curve dashed.
pub fn growth_chart(g: &Growth) -> String {
    let (w, h) = (420.0, 210.0);
    let (left, right, top, bottom) = (62.0, 10.0, 12.0, 44.0);
    let n = g.x.len().min(g.bytes.len());
    if n == 0 {
        return String::new();
    }
    let x0 = g.x[0];
    let xs: Vec<f64> = g.x[..n].iter().map(|v| v - x0).collect();
    let xmax = xs
        .iter()
        .cloned()
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let fit = growth::fitted(g);
    let ymax = g.bytes[..n]
        .iter()
        .chain(fit.iter().flatten())
        .cloned()
        .fold(0.0f64, f64::max)
        .max(1.0);
    let px = |x: f64| left + (w - left - right) * (x / xmax);
    let py = |y: f64| top + (h - top - bottom) * (1.0 - (y.max(0.0) / ymax).min(1.05));
    let mut out = format!(
        "<svg class=\"growth\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"growth of the retained bytes\"><rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#fff\"/>"
    );
    // axes and their labels
    for (frac, label) in [(0.0, "0 B".to_string()), (1.0, size(ymax as i64, false))] {
        let y = py(ymax * frac);
        out.push_str(&format!(
            "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#e3e7eb\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\" fill=\"#5b6570\">{}</text>",
            w - right,
            left - 6.0,
            y + 4.0,
            esc(&label)
        ));
    }
    let unit = match g.unit {
        "cpu_second" => "CPU seconds of the process",
        "second" => "seconds",
        "step" => "steps",
        _ => "snapshots",
    };
    out.push_str(&format!(
        "<text x=\"{left}\" y=\"{:.1}\" font-size=\"12\" fill=\"#5b6570\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\" fill=\"#5b6570\">{} {}</text>",
        h - 22.0,
        if g.unit == "step" { format!("{x0}") } else { "0".to_string() },
        w - right,
        h - 22.0,
        if g.unit == "step" { format!("{:.0}", g.x[n - 1]) } else { format!("{xmax:.1}") },
        esc(unit)
    ));
    if let Some(f) = &fit {
        let pts: Vec<String> = xs
            .iter()
            .zip(f)
            .map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y)))
            .collect();
        out.push_str(&format!(
            "<polyline class=\"fit\" points=\"{}\" fill=\"none\" stroke=\"#7f8c8d\" stroke-width=\"1.5\" stroke-dasharray=\"5 4\"/>",
            pts.join(" ")
        ));
    }
    let pts: Vec<String> = xs
        .iter()
        .zip(&g.bytes[..n])
        .map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y)))
        .collect();
    out.push_str(&format!(
        "<polyline class=\"observed\" points=\"{}\" fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\"/>",
        pts.join(" ")
    ));
    for (x, y) in xs.iter().zip(&g.bytes[..n]) {
        out.push_str(&format!(
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"#c0392b\"><title>{}</title></circle>",
            px(*x),
            py(*y),
            esc(&size(*y as i64, false))
        ));
    }
    let legend = if fit.is_some() {
        format!(
            "— observed  - - fit: {} (r² {:.2})",
            g.pattern.as_str(),
            g.fit
        )
    } else {
        format!("— observed: {} (r² {:.2})", g.pattern.as_str(), g.fit)
    };
    out.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#5b6570\">{}</text></svg>",
        left,
        h - 6.0,
        esc(&legend)
    ));
    out
}

/// A retention chain as a graph: one box per step from the root down to the leaking
/// objects, each with its label, type and size, joined by arrows. `held` says what the last
/// step stands for (`1,200 new objects, 4.1 MiB`); `id` keeps its ids unique in the page.
pub fn chain_graph(steps: &[Step], held: &str, id: usize) -> String {
    if steps.is_empty() {
        return String::new();
    }
    let (w, box_h, gap) = (360.0, 46.0, 22.0);
    let h = steps.len() as f64 * (box_h + gap) - gap + 4.0;
    let mut out = format!(
        "<svg class=\"chain-graph\" viewBox=\"0 0 {w} {h:.0}\" role=\"img\" aria-label=\"retention chain\"><defs><marker id=\"arr{id}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#5b6570\"/></marker></defs>"
    );
    let last = steps.len() - 1;
    for (i, s) in steps.iter().enumerate() {
        let y = 2.0 + i as f64 * (box_h + gap);
        let (fill, stroke) = if i == last {
            ("#fde8e8", "#c0392b")
        } else if i == 0 {
            ("#eef2f7", "#5b6570")
        } else {
            ("#f7f8fa", "#9aa5b1")
        };
        let head = if i == last && s.label == "[*]" {
            format!("[*] {}", s.type_name)
        } else {
            s.label.clone()
        };
        let sub = if i == last && s.label == "[*]" {
            held.to_string()
        } else if i == 0 || s.type_name.is_empty() {
            String::new()
        } else if s.bytes > 0 {
            format!("{} · {}", s.type_name, size(s.bytes as i64, false))
        } else {
            s.type_name.clone()
        };
        out.push_str(&format!(
            "<g class=\"step\"><title>{}</title><rect x=\"2\" y=\"{y:.0}\" width=\"{}\" height=\"{box_h}\" rx=\"6\" fill=\"{fill}\" stroke=\"{stroke}\"/><text x=\"12\" y=\"{:.0}\" font-size=\"13\" font-weight=\"600\" fill=\"#1d2228\">{}</text><text x=\"12\" y=\"{:.0}\" font-size=\"12\" fill=\"#5b6570\">{}</text></g>",
            esc(&format!("{} ({})", s.label, s.type_name)),
            w - 4.0,
            y + 19.0,
            esc(&clip(&head, 46)),
            y + 36.0,
            esc(&clip(&sub, 52))
        ));
        if i < last {
            out.push_str(&format!(
                "<line x1=\"{:.0}\" y1=\"{:.0}\" x2=\"{:.0}\" y2=\"{:.0}\" stroke=\"#5b6570\" stroke-width=\"1.5\" marker-end=\"url(#arr{id})\"/>",
                w / 2.0,
                y + box_h,
                w / 2.0,
                y + box_h + gap - 3.0
            ));
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_could_open_markup() {
        assert_eq!(
            esc("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(esc("a\u{0}b"), "a\u{fffd}b");
    }
}
