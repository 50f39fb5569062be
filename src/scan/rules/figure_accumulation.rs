//! figure_accumulation: `plt.figure()`/`plt.subplots()` in a function with no `plt.close`.

use super::{Ctx, Hit};
use crate::leak_kind::{Confidence, LeakKind};
use crate::scan::ast::{self as a, Node};
use ruff_python_ast::{Expr, Stmt};
use ruff_text_size::{Ranged, TextRange};

const MAKERS: &[&str] = &["figure", "subplots", "subplot_mosaic"];

/// Report pyplot figures a function makes and never closes.
pub fn check(ctx: &Ctx, out: &mut Vec<Hit>) {
    if ctx.pyplot.is_empty() {
        return;
    }
    // The pyplot function a call is, when it is one (`plt.figure`, or `figure` imported by name).
    let pyplot_fn = |e: &Expr| -> Option<String> {
        let Expr::Call(c) = e else { return None };
        let d = a::dotted(&c.func)?;
        match d.rsplit_once('.') {
            Some((m, f)) if ctx.pyplot.iter().any(|p| p == m) => Some(f.to_string()),
            None if ctx
                .pyplot
                .iter()
                .any(|p| p.strip_prefix('=') == Some(d.as_str())) =>
            {
                Some(d)
            }
            _ => None,
        }
    };
    let mut bodies: Vec<(&[Stmt], bool)> = vec![(&ctx.module.body, true)];
    bodies.extend(ctx.functions.iter().map(|f| (&f.body[..], false)));
    for (body, module) in bodies {
        let mut made: Vec<(TextRange, String, u32)> = Vec::new();
        let mut closes = false;
        let mut returned: Vec<TextRange> = Vec::new();
        let mut fig_names: Vec<(String, TextRange)> = Vec::new();
        a::walk(body, false, &mut |node, at| match node {
            Node::Stmt(s) => match s {
                Stmt::Return(r) => {
                    if let Some(v) = &r.value {
                        returned.push(v.range());
                    }
                }
                Stmt::Assign(x)
                    if pyplot_fn(&x.value).is_some_and(|f| MAKERS.contains(&f.as_str())) =>
                {
                    for t in &x.targets {
                        fig_names.push((ctx.src[t.range()].to_string(), x.value.range()));
                    }
                }
                _ => {}
            },
            Node::Expr(e) => {
                if let Some(f) = pyplot_fn(e) {
                    if f == "close" {
                        closes = true;
                    } else if MAKERS.contains(&f.as_str()) {
                        made.push((e.range(), f, at.loops));
                    }
                }
            }
        });
        if closes {
            continue;
        }
        for (range, f, loops) in made {
            if module && loops == 0 {
                continue; // A script's one figure lives as long as the script anyway.
            }
            // A function that returns its figure hands the closing to the caller.
            let handed = fig_names.iter().any(|(names, r)| {
                *r == range
                    && returned.iter().any(|ret| {
                        let text = &ctx.src[*ret];
                        names
                            .split(|c: char| !c.is_alphanumeric() && c != '_')
                            .any(|n| {
                                !n.is_empty()
                                    && text
                                        .split(|c: char| !c.is_alphanumeric() && c != '_')
                                        .any(|t| t == n)
                            })
                    })
            });
            if handed {
                continue;
            }
            out.push(Hit {
                kind: LeakKind::FigureAccumulation,
                confidence: if loops > 0 { Confidence::High } else { Confidence::Medium },
                range,
                why: format!(
                    "plt.{f}() registers a figure with pyplot's figure manager, and this {} never calls plt.close, so every call leaves one more figure alive.",
                    if module { "module" } else { "function" }
                ),
                fix: "Here: plt.close(fig) once the figure is saved or shown.".into(),
                rule: "figure-not-closed",
            });
        }
    }
}
