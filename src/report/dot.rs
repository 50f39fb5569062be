//! The DOT face: the top retention chains and cycle shapes as a Graphviz graph.

use crate::analysis::snap_diff::SnapDiff;
use crate::text;

fn quote(s: &str) -> String {
    format!(
        "\"{}\"",
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    )
}

/// A `.snap` diff as DOT: one chain per suspect, one cluster per cycle shape.
pub fn snap_diff(d: &SnapDiff, top: usize) -> String {
    let mut out = String::from(
        "digraph leakhunt {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
    );
    for (i, s) in super::top(&d.suspects, top).iter().enumerate() {
        for (k, step) in s.chain.iter().enumerate() {
            let label = if k == 0 {
                step.label.clone()
            } else {
                format!("{}\n{}", step.type_name, step.label)
            };
            let style = if k + 1 == s.chain.len() {
                ", style=filled, fillcolor=\"#f4cccc\""
            } else {
                ""
            };
            out.push_str(&format!("  s{i}_{k} [label={}{style}];\n", quote(&label)));
            if k > 0 {
                out.push_str(&format!("  s{i}_{} -> s{i}_{k};\n", k - 1));
            }
        }
        out.push_str(&format!(
            "  s{i}_{} [xlabel={}];\n",
            s.chain.len().saturating_sub(1),
            quote(&format!(
                "{} new, {}",
                s.new_objects,
                text::size(s.retained_growth_bytes as i64, false)
            ))
        ));
    }
    for (c, cyc) in super::top(&d.cycles, top).iter().enumerate() {
        out.push_str(&format!(
            "  subgraph cluster_c{c} {{\n    label={};\n",
            quote(&format!(
                "{} cycle x{} ({})",
                cyc.status,
                cyc.count,
                text::size(cyc.bytes as i64, false)
            ))
        ));
        for edge in cyc.signature.split(", ") {
            if let Some((from, to)) = edge.split_once(" -> ") {
                let (ty, label) = from.rsplit_once('.').unwrap_or((from, ""));
                out.push_str(&format!(
                    "    c{c}_{} -> c{c}_{} [label={}];\n",
                    sanitize(ty),
                    sanitize(to),
                    quote(label)
                ));
            }
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect()
}
