//! closure_capture: a lambda or nested function that outlives its call (returned, stored,
//! registered) and captures a large argument of the enclosing function.

use super::event_handler::SUBSCRIBE;
use super::{Ctx, Hit};
use crate::leak_kind::{Confidence, LeakKind};
use crate::scan::ast::{self as a, Node};
use ruff_python_ast::{Expr, ExprContext, Stmt, StmtFunctionDef};
use ruff_text_size::{Ranged, TextRange};
use std::collections::HashSet;

const BULK: &[&str] = &[
    "data",
    "df",
    "dataframe",
    "buf",
    "buffer",
    "payload",
    "content",
    "contents",
    "blob",
    "array",
    "arr",
    "matrix",
    "image",
    "img",
    "tensor",
    "tensors",
    "batch",
    "dataset",
    "rows",
    "records",
    "raw",
    "frames",
    "samples",
];

fn bulky(n: &str) -> bool {
    let n = n.trim_start_matches('_');
    BULK.contains(&n)
        || ["large_", "big_", "huge_", "all_"]
            .iter()
            .any(|p| n.starts_with(p))
        || ["_data", "_df", "_buffer", "_array", "_bytes", "_matrix"]
            .iter()
            .any(|s| n.ends_with(s))
}

/// How a closure uses a captured name: only through len()/.shape-like summaries, or wholly.
fn only_summarised(uses: &[&Expr], n: &str) -> bool {
    let mut whole = false;
    for e in uses {
        struct V<'n>(&'n str, bool, HashSet<ruff_text_size::TextSize>);
        impl<'a> ruff_python_ast::visitor::Visitor<'a> for V<'_> {
            fn visit_expr(&mut self, e: &'a Expr) {
                match e {
                    Expr::Call(c) if a::name(&c.func) == Some("len") => {
                        for x in c.arguments.args.iter() {
                            self.2.insert(x.start());
                        }
                    }
                    Expr::Attribute(x)
                        if matches!(
                            x.attr.id.as_str(),
                            "shape" | "size" | "nbytes" | "dtype" | "ndim"
                        ) =>
                    {
                        self.2.insert(x.value.start());
                    }
                    Expr::Name(m) if m.id.as_str() == self.0 && !self.2.contains(&e.start()) => {
                        self.1 = true
                    }
                    _ => {}
                }
                ruff_python_ast::visitor::walk_expr(self, e);
            }
        }
        let mut v = V(n, false, HashSet::new());
        ruff_python_ast::visitor::Visitor::visit_expr(&mut v, e);
        whole |= v.1;
    }
    !whole
}

/// Free names of a closure and the expressions it evaluates.
fn closure_body(e: Closure<'_>) -> (Vec<&Expr>, HashSet<&str>) {
    let mut exprs: Vec<&Expr> = Vec::new();
    let mut bound: HashSet<&str> = HashSet::new();
    let params = match e {
        Closure::Lambda(l, body) => {
            exprs.push(body);
            l
        }
        Closure::Def(f) => {
            a::walk(&f.body, true, &mut |node, _at| match node {
                Node::Stmt(_) => {}
                Node::Expr(x) => {
                    if let Expr::Name(n) = x
                        && n.ctx == ExprContext::Store
                    {
                        bound.insert(n.id.as_str());
                    }
                }
            });
            // Top-level expressions of the body: every statement's own expressions.
            a::walk(&f.body, true, &mut |node, _at| match node {
                Node::Stmt(_) => {}
                Node::Expr(x) => {
                    if matches!(x, Expr::Name(_) | Expr::Call(_) | Expr::Attribute(_)) {
                        exprs.push(x);
                    }
                }
            });
            Some(&*f.parameters)
        }
    };
    if let Some(p) = params {
        for x in p.posonlyargs.iter().chain(&p.args).chain(&p.kwonlyargs) {
            bound.insert(x.parameter.name.id.as_str());
        }
        for x in p.vararg.iter().chain(&p.kwarg) {
            bound.insert(x.name.id.as_str());
        }
    }
    (exprs, bound)
}

#[derive(Clone, Copy)]
enum Closure<'a> {
    Lambda(Option<&'a ruff_python_ast::Parameters>, &'a Expr),
    Def(&'a StmtFunctionDef),
}

fn check_function(f: &StmtFunctionDef, out: &mut Vec<Hit>) {
    let p = &f.parameters;
    let params: Vec<&str> = p
        .posonlyargs
        .iter()
        .chain(&p.args)
        .chain(&p.kwonlyargs)
        .map(|x| x.parameter.name.id.as_str())
        .filter(|n| !matches!(*n, "self" | "cls"))
        .collect();
    if params.is_empty() {
        return;
    }
    let nested: Vec<&StmtFunctionDef> = a::defs_in(&f.body);
    let by_name = |n: &str| nested.iter().find(|d| d.name.id.as_str() == n).copied();
    // Closures that escape the call, with where and how.
    let mut escaping: Vec<(Closure, TextRange, &'static str)> = Vec::new();
    fn as_closure(e: &Expr) -> Option<Closure<'_>> {
        match e {
            Expr::Lambda(l) => Some(Closure::Lambda(l.parameters.as_deref(), &l.body)),
            _ => None,
        }
    }
    let mut pending: Vec<(&Expr, TextRange, &'static str)> = Vec::new();
    a::walk(&f.body, false, &mut |node, _at| match node {
        Node::Stmt(s) => match s {
            Stmt::Return(r) => {
                if let Some(v) = &r.value {
                    pending.push((v, s.range(), "is returned"));
                }
            }
            Stmt::Assign(x) if x.targets.iter().any(|t| matches!(t, Expr::Attribute(_))) => {
                pending.push((&x.value, s.range(), "is stored on an object"));
            }
            _ => {}
        },
        Node::Expr(e) => {
            if let Expr::Call(c) = e
                && let Some(m) = a::callee_last(c)
                && (SUBSCRIBE.contains(&m)
                    || matches!(
                        m,
                        "append"
                            | "add"
                            | "call_later"
                            | "call_soon"
                            | "Timer"
                            | "add_done_callback"
                    ))
            {
                for x in c.arguments.args.iter() {
                    pending.push((x, e.range(), "is registered as a callback"));
                }
            }
        }
    });
    for (v, range, how) in pending {
        if let Some(c) = as_closure(v) {
            escaping.push((c, range, how));
        } else if let Some(n) = a::name(v)
            && let Some(d) = by_name(n)
        {
            escaping.push((Closure::Def(d), range, how));
        }
    }
    for (c, range, how) in escaping {
        let (exprs, bound) = closure_body(c);
        let mut names = Vec::new();
        for e in &exprs {
            a::names_in(e, &mut names);
        }
        let free: HashSet<&str> = names.into_iter().filter(|n| !bound.contains(n)).collect();
        for p in &params {
            if !free.contains(p) {
                continue;
            }
            let summary = only_summarised(&exprs, p);
            if !summary && !bulky(p) {
                continue;
            }
            let what = match c {
                Closure::Lambda(..) => "a lambda".to_string(),
                Closure::Def(d) => format!("{}()", d.name.id.as_str()),
            };
            let (confidence, uses) = if summary {
                (Confidence::High, "only to take its size")
            } else {
                (Confidence::Medium, "")
            };
            out.push(Hit {
                kind: LeakKind::ClosureCapture,
                confidence,
                range,
                why: format!(
                    "{what} {how} and outlives {}(), and it captures the argument {p}{}{uses}, keeping the whole object alive.",
                    f.name.id.as_str(),
                    if uses.is_empty() { "" } else { " " }
                ),
                fix: if summary {
                    format!("Here: compute the size before (`n = len({p})`) and capture n, not {p}.")
                } else {
                    format!("Here: capture only the part of {p} the closure needs.")
                },
                rule: "captures-argument",
            });
        }
    }
}

/// Report escaping closures over large arguments.
pub fn check(ctx: &Ctx, out: &mut Vec<Hit>) {
    super::unbounded_collection::container_hits(ctx, LeakKind::ClosureCapture, out);
    for f in &ctx.functions {
        check_function(f, out);
    }
}
