//! Registries that grow with their keys: `logging.getLogger(name)` with a name built at run
//! time (the logging manager keeps every logger forever) and `warnings.warn(msg)` with a
//! message that varies (the module's `__warningregistry__` keeps one entry per text).
//! Both are reported as cache_no_eviction.

use super::{Ctx, Hit};
use crate::leak_kind::{Confidence, LeakKind};
use crate::scan::ast::{self as a, Node};
use ruff_python_ast::{Expr, Stmt, StmtFunctionDef};
use ruff_text_size::{Ranged, TextRange};
use std::collections::{HashMap, HashSet};

/// Categories whose warnings are ignored by the default filters (nothing is registered).
const IGNORED: &[&str] = &[
    "DeprecationWarning",
    "PendingDeprecationWarning",
    "ResourceWarning",
    "ImportWarning",
];

/// True when a built string's varying parts come only from names of code (`__name__`,
/// `cls.__name__`, `self.__class__`...) or constants (`ZIP_MAX_COMMENT`, a module name bound
/// to a literal) rather than from data.
fn varies_with_code_only(e: &Expr, consts: &HashSet<&str>) -> bool {
    let mut names = Vec::new();
    a::names_in(e, &mut names);
    let mut ok = true;
    ruff_python_ast::visitor::walk_expr(&mut DunderOnly(&mut ok, consts), e);
    names.is_empty() || ok
}

/// True for an ALL_CAPS name (`MAX_SIZE`): a constant by convention.
fn all_caps(n: &str) -> bool {
    n.chars().any(|c| c.is_ascii_uppercase())
        && n.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

struct DunderOnly<'b, 'c>(&'b mut bool, &'c HashSet<&'c str>);
impl<'a> ruff_python_ast::visitor::Visitor<'a> for DunderOnly<'_, '_> {
    fn visit_expr(&mut self, e: &'a Expr) {
        match e {
            Expr::Attribute(x) if x.attr.id.as_str().starts_with("__") => {}
            Expr::Name(n) if n.id.as_str().starts_with("__") => {}
            Expr::Name(n) if all_caps(n.id.as_str()) || self.1.contains(n.id.as_str()) => {}
            Expr::Name(_) => *self.0 = false,
            _ => ruff_python_ast::visitor::walk_expr(self, e),
        }
    }
}

/// Module names bound only to literals at module level.
fn module_constants(body: &[Stmt]) -> HashSet<&str> {
    let mut consts = HashSet::new();
    let mut other = HashSet::new();
    a::walk(body, false, &mut |node, _at| {
        if let Node::Stmt(Stmt::Assign(x)) = node {
            for t in &x.targets {
                if let Some(n) = a::name(t) {
                    if a::is_const(&x.value) {
                        consts.insert(n);
                    } else {
                        other.insert(n);
                    }
                }
            }
        }
    });
    consts.retain(|n| !other.contains(n));
    consts
}

/// The ranges where a warning is given once per process rather than per event: functions
/// run at import time (called from module level, directly or through other module
/// functions), functions registered with `atexit`, and `finally:` blocks after a loop (the
/// shutdown of a main loop).
fn once_per_process(ctx: &Ctx) -> Vec<TextRange> {
    let mut out = Vec::new();
    let defs: HashMap<&str, &StmtFunctionDef> = a::defs_in(&ctx.module.body)
        .into_iter()
        .map(|f| (f.name.id.as_str(), f))
        .collect();
    let called = |body: &[Stmt], into: &mut Vec<String>| {
        a::walk(body, false, &mut |node, _at| {
            if let Node::Expr(Expr::Call(c)) = node {
                if let Some(n) = a::name(&c.func) {
                    into.push(n.to_string());
                }
                // `atexit.register(f)`
                if a::dotted(&c.func).is_some_and(|d| d == "atexit.register")
                    && let Some(n) = c.arguments.args.first().and_then(|x| a::name(x))
                {
                    into.push(n.to_string());
                }
            }
        });
    };
    let mut todo = Vec::new();
    called(&ctx.module.body, &mut todo);
    let mut atexit = Vec::new();
    a::walk(&ctx.module.body, true, &mut |node, _at| {
        if let Node::Expr(Expr::Call(c)) = node
            && a::dotted(&c.func).is_some_and(|d| d == "atexit.register")
            && let Some(n) = c.arguments.args.first().and_then(|x| a::name(x))
        {
            atexit.push(n.to_string());
        }
    });
    todo.extend(atexit);
    for f in &ctx.functions {
        if a::has_decorator(f, &["atexit.register"]) {
            todo.push(f.name.id.as_str().to_string());
        }
    }
    let mut done: HashSet<String> = HashSet::new();
    while let Some(n) = todo.pop() {
        if !done.insert(n.clone()) {
            continue;
        }
        if let Some(f) = defs.get(n.as_str()) {
            out.push(f.range);
            called(&f.body, &mut todo);
        }
    }
    a::walk(&ctx.module.body, true, &mut |node, _at| {
        if let Node::Stmt(Stmt::Try(t)) = node
            && !t.finalbody.is_empty()
        {
            let mut looped = false;
            a::walk(&t.body, false, &mut |n, _at| {
                looped |= matches!(n, Node::Stmt(Stmt::While(_) | Stmt::For(_)));
            });
            if looped {
                out.extend(t.finalbody.iter().map(|s| s.range()));
            }
        }
    });
    out
}

/// True when a message is built from the environment (`os.environ`, `os.getenv`) read in the
/// same function: fixed for the life of the process.
fn from_environment(m: &Expr, func: Option<&StmtFunctionDef>) -> bool {
    struct Env(bool);
    impl<'a> ruff_python_ast::visitor::Visitor<'a> for Env {
        fn visit_expr(&mut self, e: &'a Expr) {
            // `os.environ`, `os.environb`, `os.getenv` (a bare `environ` is often a WSGI
            // request's dict, not the process environment).
            self.0 |= match e {
                Expr::Attribute(x) => {
                    a::name(&x.value) == Some("os")
                        && matches!(x.attr.id.as_str(), "environ" | "environb" | "getenv")
                }
                Expr::Name(x) => x.id.as_str() == "getenv",
                _ => false,
            };
            ruff_python_ast::visitor::walk_expr(self, e);
        }
    }
    let env = |e: &Expr| {
        let mut v = Env(false);
        ruff_python_ast::visitor::Visitor::visit_expr(&mut v, e);
        v.0
    };
    if env(m) {
        return true;
    }
    let Some(f) = func else { return false };
    let mut names = Vec::new();
    a::names_in(m, &mut names);
    names.retain(|n| !n.starts_with("__") && !all_caps(n));
    !names.is_empty()
        && names.iter().all(|n| {
            let vals = crate::scan::model::assigned(&f.body, n);
            !vals.is_empty() && vals.iter().all(|v| env(v))
        })
}

/// Report loggers and warnings keyed by run-time text.
pub fn check(ctx: &Ctx, out: &mut Vec<Hit>) {
    let consts = module_constants(&ctx.module.body);
    let mut once: Option<Vec<TextRange>> = None;
    // The innermost function around a range.
    let func_of = |r: TextRange| {
        ctx.functions
            .iter()
            .filter(|f| f.range.contains_range(r))
            .min_by_key(|f| f.range.len())
            .copied()
    };
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
                    if !a::is_built_string(n) || varies_with_code_only(n, &consts) {
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
                    if !a::is_built_string(m) || varies_with_code_only(m, &consts) {
                        return;
                    }
                    // Given at import time, at exit, or from the environment: a handful of
                    // texts per process, not one per event.
                    let func = func_of(e.range());
                    if func.is_none() || from_environment(m, func) {
                        return;
                    }
                    let once = once.get_or_insert_with(|| once_per_process(ctx));
                    if once.iter().any(|r| r.contains_range(e.range())) {
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
