//! figure_accumulation: `plt.figure()`/`plt.subplots()` in a function with no `plt.close`.

use super::{Ctx, Hit};
use crate::leak_kind::{Confidence, LeakKind};
use crate::scan::ast::{self as a, Node};
use ruff_python_ast::{Expr, Stmt, StmtFunctionDef};
use ruff_text_size::{Ranged, TextRange};

const MAKERS: &[&str] = &["figure", "subplots", "subplot_mosaic"];

/// Report pyplot figures a function makes and never closes.
pub fn check(ctx: &Ctx, out: &mut Vec<Hit>) {
    super::unbounded_collection::container_hits(ctx, LeakKind::FigureAccumulation, out);
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
    let mut bodies: Vec<(&[Stmt], Option<&StmtFunctionDef>)> = vec![(&ctx.module.body, None)];
    bodies.extend(ctx.functions.iter().map(|f| (&f.body[..], Some(*f))));
    for (body, func) in bodies {
        let module = func.is_none();
        if ctx.test_cleaned(LeakKind::FigureAccumulation, func) {
            continue; // A fixture or tearDown closes the test's figures.
        }
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
            // Handed to callers: a leak when the file's callers keep it and none closes it.
            let mut note = String::new();
            if handed {
                let Some(f) = func else { continue };
                match careless_callers(ctx, f, &pyplot_fn) {
                    Some(callers) => {
                        note =
                            format!(" It returns the figure to {callers}, which never closes it.")
                    }
                    None => continue,
                }
            }
            out.push(Hit {
                kind: LeakKind::FigureAccumulation,
                confidence: if loops > 0 { Confidence::High } else { Confidence::Medium },
                range,
                why: format!(
                    "plt.{f}() registers a figure with pyplot's figure manager, and this {} never calls plt.close, so every call leaves one more figure alive.{note}",
                    if module { "module" } else { "function" }
                ),
                fix: "Here: plt.close(fig) once the figure is saved or shown.".into(),
                rule: "figure-not-closed",
            });
        }
    }
}

/// The callers (in this file) of a function that returns a new figure, when there are some
/// and none of them closes it or hands it on: `render()` for `fig = self._plot(); ...`.
fn careless_callers(
    ctx: &Ctx,
    f: &StmtFunctionDef,
    pyplot_fn: &dyn Fn(&Expr) -> Option<String>,
) -> Option<String> {
    let want = f.name.id.as_str();
    let mut callers = Vec::new();
    for g in &ctx.functions {
        if g.range == f.range {
            continue;
        }
        let mut calls = false;
        let mut closes = false;
        let mut kept: Vec<&str> = Vec::new();
        let mut returned: Vec<&Expr> = Vec::new();
        a::walk(&g.body, false, &mut |node, _| match node {
            Node::Expr(e) => {
                if let Expr::Call(c) = e {
                    if a::callee_last(c) == Some(want) {
                        calls = true;
                    }
                    if pyplot_fn(e).as_deref() == Some("close")
                        || a::callee_last(c) == Some("close")
                    {
                        closes = true;
                    }
                }
            }
            Node::Stmt(Stmt::Assign(x)) => {
                if matches!(&*x.value, Expr::Call(c) if a::callee_last(c) == Some(want)) {
                    for t in &x.targets {
                        a::names_in(t, &mut kept);
                    }
                }
            }
            Node::Stmt(Stmt::Return(r)) => {
                if let Some(v) = &r.value {
                    returned.push(v);
                }
            }
            _ => {}
        });
        // Returned on (`return fig`, `return self._plot(...)`): the caller's caller decides.
        let returns_it = returned.iter().any(|v| {
            let mut names = Vec::new();
            a::names_in(v, &mut names);
            names.iter().any(|n| kept.contains(n))
                || matches!(v, Expr::Call(c) if a::callee_last(c) == Some(want))
        });
        if calls {
            if closes || returns_it {
                return None;
            }
            callers.push(format!("{}()", g.name.id.as_str()));
        }
    }
    (!callers.is_empty()).then(|| callers.join(", "))
}
