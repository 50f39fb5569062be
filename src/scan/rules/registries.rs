//! Registries that grow with their keys: `logging.getLogger(name)` with a name built at run
//! time (the logging manager keeps every logger forever) and `warnings.warn(msg)` with a
//! message that varies (the module's `__warningregistry__` keeps one entry per text).
//! Both are reported as cache_no_eviction.

use super::{Ctx, Hit};
use crate::leak_kind::{Confidence, LeakKind};
use crate::scan::ast::{self as a, Node};
use ruff_python_ast::Expr;
use ruff_text_size::Ranged;

/// Categories whose warnings are ignored by the default filters (nothing is registered).
const IGNORED: &[&str] = &[
    "DeprecationWarning",
    "PendingDeprecationWarning",
    "ResourceWarning",
    "ImportWarning",
];

/// True when a built string's varying parts come only from names of code (`__name__`,
/// `cls.__name__`, `self.__class__`...) rather than from data.
fn varies_with_code_only(e: &Expr) -> bool {
    let mut names = Vec::new();
    a::names_in(e, &mut names);
    let text_has_dunder = |e: &Expr| {
        let mut ok = true;
        ruff_python_ast::visitor::walk_expr(&mut DunderOnly(&mut ok), e);
        ok
    };
    names.is_empty() || text_has_dunder(e)
}

struct DunderOnly<'b>(&'b mut bool);
impl<'a> ruff_python_ast::visitor::Visitor<'a> for DunderOnly<'_> {
    fn visit_expr(&mut self, e: &'a Expr) {
        match e {
            Expr::Attribute(x) if x.attr.id.as_str().starts_with("__") => {}
            Expr::Name(n) if n.id.as_str().starts_with("__") => {}
            Expr::Name(_) => *self.0 = false,
            _ => ruff_python_ast::visitor::walk_expr(self, e),
        }
    }
}

/// Report loggers and warnings keyed by run-time text.
pub fn check(ctx: &Ctx, out: &mut Vec<Hit>) {
    a::walk(&ctx.module.body, true, &mut |node, at| match node {
        Node::Stmt(_) => {}
        Node::Expr(e) => {
            let Expr::Call(c) = e else { return };
            if !matches!(a::callee_last(c), Some("getLogger" | "warn")) {
                return;
            }
            let Some(callee) = a::dotted(&c.func) else {
                return;
            };
            let first = c.arguments.args.first();
            match callee.as_str() {
                "logging.getLogger" | "getLogger" => {
                    let Some(n) = first.or_else(|| a::keyword(c, "name")) else {
                        return;
                    };
                    if !a::is_built_string(n) || varies_with_code_only(n) {
                        return;
                    }
                    out.push(Hit {
                        kind: LeakKind::CacheNoEviction,
                        confidence: if at.loops > 0 { Confidence::High } else { Confidence::Medium },
                        range: e.range(),
                        why: format!(
                            "logging.getLogger({}) builds the logger name at run time, and logging.Logger.manager keeps every logger it ever made.",
                            &ctx.src[n.range()]
                        ),
                        fix: "Here: use a fixed logger name (getLogger(__name__)) and put the varying part in the message or a LoggerAdapter's extra.".into(),
                        rule: "logger-per-name",
                    });
                }
                "warnings.warn" | "warn" => {
                    let Some(m) = first.or_else(|| a::keyword(c, "message")) else {
                        return;
                    };
                    let category = c
                        .arguments
                        .args
                        .get(1)
                        .or_else(|| a::keyword(c, "category"))
                        .and_then(a::dotted);
                    if category.as_deref().is_some_and(|k| {
                        IGNORED
                            .iter()
                            .any(|i| k == *i || k.ends_with(&format!(".{i}")))
                    }) {
                        return;
                    }
                    if !a::is_built_string(m) || varies_with_code_only(m) {
                        return;
                    }
                    out.push(Hit {
                        kind: LeakKind::CacheNoEviction,
                        confidence: Confidence::Low,
                        range: e.range(),
                        why: format!(
                            "warnings.warn({}) varies its message, and the default filter records every distinct text in the caller's __warningregistry__.",
                            &ctx.src[m.range()]
                        ),
                        fix: "Here: keep the message constant and pass the varying value another way (logging), or filter the warning with action 'once'.".into(),
                        rule: "warning-per-text",
                    });
                }
                _ => {}
            }
        }
    });
}
