//! event_handler: a bound method or lambda handed to `subscribe`/`connect`/`add_listener`/
//! `register`/`on(...)` with no matching unsubscribe anywhere in the class.

use super::{Ctx, Hit};
use crate::leak_kind::{Confidence, LeakKind};
use crate::scan::ast::{self as a, Node};
use crate::scan::model;
use ruff_python_ast::Expr;
use ruff_text_size::Ranged;
use std::collections::HashSet;

/// Method names that register a callback.
pub const SUBSCRIBE: &[&str] = &[
    "subscribe",
    "connect",
    "add_listener",
    "addListener",
    "add_handler",
    "register",
    "on",
    "add_callback",
    "add_observer",
    "addObserver",
    "observe",
    "add_event_handler",
    "addEventListener",
    "listen",
];

/// Method names that remove one.
const UNSUBSCRIBE: &[&str] = &[
    "unsubscribe",
    "disconnect",
    "remove_listener",
    "removeListener",
    "remove_handler",
    "unregister",
    "off",
    "remove_callback",
    "remove_observer",
    "removeObserver",
    "unobserve",
    "remove_event_handler",
    "removeEventListener",
    "unlisten",
    "remove_all_listeners",
    "disconnect_all",
];

/// Report callbacks registered by a class that never removes them.
pub fn check(ctx: &Ctx, out: &mut Vec<Hit>) {
    super::unbounded_collection::container_hits(ctx, LeakKind::EventHandler, out);
    per_call_registrations(ctx, out);
    let weak_bound = weak_bound_methods(ctx);
    let weak_api: HashSet<&str> = ctx
        .functions
        .iter()
        .filter(|f| {
            let text = &ctx.src[f.range()];
            text.contains("WeakMethod(")
                || text.contains("weakref.ref(")
                || text.contains("WeakSet(")
        })
        .map(|f| f.name.id.as_str())
        .collect();
    // Owned attributes of every class: a base class often makes what a subclass subscribes to.
    let owned = owned_attrs(&ctx.methods_of_classes());
    for &cls in &ctx.classes {
        let defs = a::defs_in(&cls.body);
        let methods: HashSet<&str> = defs.iter().map(|f| f.name.id.as_str()).collect();
        let mut unsubscribes = false;
        let mut subs: Vec<Hit> = Vec::new();
        for f in &defs {
            let Some(me) = a::first_param(f) else {
                continue;
            };
            let fname = f.name.id.as_str();
            // Registrations whose id or handle is kept (assigned or returned): the caller can
            // remove them.
            let mut kept: HashSet<ruff_text_size::TextRange> = HashSet::new();
            a::walk(&f.body, true, &mut |node, _at| match node {
                Node::Stmt(s) => match s {
                    ruff_python_ast::Stmt::Assign(x) => {
                        kept.insert(x.value.range());
                    }
                    ruff_python_ast::Stmt::Return(r) => {
                        if let Some(v) = &r.value {
                            kept.insert(v.range());
                        }
                    }
                    _ => {}
                },
                Node::Expr(e) => {
                    let Expr::Call(c) = e else { return };
                    let Some((recv, m)) = a::method_call(c) else {
                        return;
                    };
                    if UNSUBSCRIBE.contains(&m) {
                        // Removal that never runs while serving does not count.
                        unsubscribes |= ctx.calls.idle(Some(f)).is_none();
                        return;
                    }
                    if !SUBSCRIBE.contains(&m) {
                        return;
                    }
                    let handler = c
                        .arguments
                        .args
                        .iter()
                        .chain(c.arguments.keywords.iter().map(|k| &k.value))
                        .find_map(|x| match x {
                            Expr::Attribute(at)
                                if a::name(&at.value) == Some(me)
                                    && methods.contains(at.attr.id.as_str()) =>
                            {
                                Some(format!("the bound method {me}.{}", at.attr.id.as_str()))
                            }
                            // `register(cls, lambda ...)` is mostly dispatch-table registration.
                            Expr::Lambda(_) if m != "register" => Some("a lambda".to_string()),
                            _ => None,
                        });
                    let Some(handler) = handler else { return };
                    // An emitter that is the object itself, or that it made and owns, dies
                    // with it; a registry that holds bound methods weakly never keeps them.
                    let root = a::dotted(recv).unwrap_or_default();
                    let mut parts = root.split('.');
                    if parts.next() == Some(me) {
                        match parts.next() {
                            None => return,
                            Some(attr) if owned.contains(attr) => return,
                            _ => {}
                        }
                    }
                    if handler.starts_with("the bound method")
                        && weak_bound.iter().any(|w| w.holds(&root))
                    {
                        return;
                    }
                    // A registration method of this file that stores handlers weakly.
                    if weak_api.contains(m) {
                        return;
                    }
                    // An emitter made in this very function dies with it.
                    if let Some(r) = a::name(recv)
                        && !model::assigned(&f.body, r).is_empty()
                    {
                        return;
                    }
                    let target = a::dotted(recv).unwrap_or_else(|| "an emitter".to_string());
                    subs.push(Hit {
                        kind: LeakKind::EventHandler,
                        confidence: if kept.contains(&e.range()) {
                            Confidence::Low
                        } else if fname == "__init__" {
                            Confidence::High
                        } else {
                            Confidence::Medium
                        },
                        range: e.range(),
                        why: format!(
                            "{}.{fname}() registers {handler} with {target}.{m}(), and no method of {} ever removes it, so {target} keeps every instance alive.",
                            cls.name.id.as_str(),
                            cls.name.id.as_str()
                        ),
                        fix: format!("Here: remove the handler from {target} in close()/__exit__, or register weakref.WeakMethod(...)."),
                        rule: "never-unsubscribed",
                    });
                }
            });
        }
        if !unsubscribes {
            out.extend(subs);
        }
    }
}

/// Attributes a class sets from a call of its own (`self.window = Window()`): objects it made
/// and owns, which die with it.
fn owned_attrs<'a>(defs: &[&'a ruff_python_ast::StmtFunctionDef]) -> HashSet<&'a str> {
    let mut out = HashSet::new();
    for f in defs {
        let Some(me) = a::first_param(f) else {
            continue;
        };
        a::walk(&f.body, false, &mut |node, _| {
            if let Node::Stmt(ruff_python_ast::Stmt::Assign(x)) = node
                && matches!(&*x.value, Expr::Call(_))
            {
                for t in &x.targets {
                    if let Some(attr) = a::attr_of(t, me) {
                        out.insert(attr);
                    }
                }
            }
        });
    }
    out
}

/// A framework registry known to hold bound methods by weak reference.
enum WeakRegistry {
    /// Qt signals (`obj.clicked.connect(self.on_click)`): any receiver.
    QtSignals,
    /// matplotlib's `cbook.CallbackRegistry`, reached as `.callbacks`.
    MplCallbacks,
}

impl WeakRegistry {
    /// True when `recv` (dotted) is such a registry.
    fn holds(&self, recv: &str) -> bool {
        match self {
            WeakRegistry::QtSignals => true,
            WeakRegistry::MplCallbacks => recv.rsplit('.').next() == Some("callbacks"),
        }
    }
}

/// The weak registries a file's imports bring in.
fn weak_bound_methods(ctx: &Ctx) -> Vec<WeakRegistry> {
    let mut qt = false;
    let mut mpl = false;
    for s in &ctx.module.body {
        let names: Vec<&str> = match s {
            ruff_python_ast::Stmt::Import(i) => {
                i.names.iter().map(|n| n.name.id.as_str()).collect()
            }
            ruff_python_ast::Stmt::ImportFrom(i) => {
                let m = i.module.as_ref().map_or("", |m| m.id.as_str());
                std::iter::once(m)
                    .chain(i.names.iter().map(|n| n.name.id.as_str()))
                    .collect()
            }
            _ => continue,
        };
        for n in names {
            qt |= ["PyQt", "PySide", "qt_compat", "QtCore"]
                .iter()
                .any(|q| n.contains(q));
            mpl |= n.starts_with("matplotlib") || n == "cbook";
        }
    }
    let mut out = Vec::new();
    if qt {
        out.push(WeakRegistry::QtSignals);
    }
    if mpl {
        out.push(WeakRegistry::MplCallbacks);
    }
    out
}

/// True for a function that runs once per process by its name (`setup_logging`, `main`).
fn once_by_name(n: &str) -> bool {
    if n.starts_with("__") && n.ends_with("__") {
        return false; // `__init__` runs once per object, not once per process.
    }
    let n = n.trim_start_matches('_').to_ascii_lowercase();
    [
        "setup",
        "configure",
        "config",
        "init",
        "install",
        "main",
        "bootstrap",
        "register_",
        "startup",
        "start_up",
    ]
    .iter()
    .any(|p| n.starts_with(p))
        || n.ends_with("_setup")
        || n.ends_with("_logging")
}

/// The names a file calls inside functions, and at module level.
struct CallSites<'a> {
    inside: HashSet<&'a str>,
    top: HashSet<&'a str>,
}

impl<'a> CallSites<'a> {
    fn of(ctx: &Ctx<'a>) -> Self {
        let mut inside = HashSet::new();
        for g in &ctx.functions {
            a::walk(&g.body, false, &mut |node, _| {
                if let Node::Expr(Expr::Call(c)) = node
                    && let Some(n) = a::callee_last(c)
                {
                    inside.insert(n);
                }
            });
        }
        let mut top = HashSet::new();
        a::walk(&ctx.module.body, false, &mut |node, _| {
            if let Node::Expr(Expr::Call(c)) = node
                && let Some(n) = a::callee_last(c)
            {
                top.insert(n);
            }
        });
        CallSites { inside, top }
    }
}

/// True when every call of `f` in the file runs at import time (module-level code), so its
/// body runs a fixed number of times.
fn import_time_only(ctx: &Ctx, sites: &CallSites, f: &ruff_python_ast::StmtFunctionDef) -> bool {
    let want = f.name.id.as_str();
    if sites.inside.contains(want) {
        return false;
    }
    sites.top.contains(want)
        || (want == "__init__"
            && ctx.classes.iter().any(|c| {
                a::defs_in(&c.body).iter().any(|m| m.range == f.range)
                    && ctx.import_only.contains(c.name.id.as_str())
            }))
}

/// Registrations with a framework object that lives for the whole process, made on every
/// call of a function: `logger.addHandler(h)` (logging keeps each logger, and its handlers,
/// forever) and `atexit.register(self.cleanup)` (the callback and its object are kept until
/// exit).
fn per_call_registrations(ctx: &Ctx, out: &mut Vec<Hit>) {
    if !ctx.src.contains("addHandler(")
        && !ctx.src.contains("atexit.register(")
        && !ctx.src.contains("call_later(")
        && !ctx.src.contains("call_at(")
    {
        return; // Nothing registers here (a cheap test before the walks).
    }
    let removes_handlers = ctx.src.contains("removeHandler(");
    let unregisters = ctx.src.contains("atexit.unregister(");
    let sites = CallSites::of(ctx);
    for f in &ctx.functions {
        let fname = f.name.id.as_str();
        let text = &ctx.src[f.range()];
        if !["addHandler(", "atexit.register(", "call_later(", "call_at("]
            .iter()
            .any(|t| text.contains(t))
        {
            continue;
        }
        if once_by_name(fname)
            || import_time_only(ctx, &sites, f)
            || ctx.calls.idle(Some(f)).is_some()
        {
            continue;
        }
        // `if not logger.handlers:` guards a one-time set-up.
        let guarded =
            ctx.src[f.range()].contains(".handlers") || ctx.src[f.range()].contains("hasHandlers(");
        a::walk(&f.body, false, &mut |node, _| {
            let Node::Expr(Expr::Call(c)) = node else {
                return;
            };
            let Some(d) =
                a::dotted(&c.func).or_else(|| a::method_call(c).map(|(_, m)| m.to_string()))
            else {
                return;
            };
            let hit = if d.ends_with("addHandler") && !removes_handlers && !guarded {
                let logger = a::method_call(c).map_or("the logger".to_string(), |(r, _)| {
                    ctx.src[r.range()].to_string()
                });
                Some((
                    format!(
                        "{fname}() adds a handler to {logger} on every call and nothing removes it: logging keeps every logger for the life of the process, so each handler (and what it holds) stays, and every record is handled once more per call."
                    ),
                    "Here: add the handler once at start-up, or remove it (removeHandler, then close()) in a finally on the same path.".to_string(),
                ))
            } else if d == "atexit.register"
                && !unregisters
                && c.arguments
                    .args
                    .first()
                    .is_some_and(|cb| holds_object(f, cb))
            {
                let cb = &ctx.src[c.arguments.args[0].range()];
                Some((
                    format!(
                        "{fname}() registers {cb} with atexit on every call: the interpreter keeps each callback (and the object it is bound to) until the process exits."
                    ),
                    "Here: register one clean-up at start-up that handles all items, or do the clean-up on the same path (try/finally) instead of at exit.".to_string(),
                ))
            } else if matches!(d.rsplit('.').next(), Some("call_later" | "call_at"))
                && c.arguments
                    .args
                    .get(1)
                    .is_some_and(|cb| holds_object(f, cb))
            {
                let cb = &ctx.src[c.arguments.args[1].range()];
                Some((
                    format!("{fname}() schedules {cb} with the event loop's {} on every call: the loop keeps each callback, and everything it captured, until its time comes.", d.rsplit('.').next().unwrap_or(&d)),
                    "Here: schedule with a short delay and capture only ids, or keep one timer that handles all pending items.".to_string(),
                ))
            } else {
                None
            };
            if let Some((why, fix)) = hit {
                let kind = if why.contains("event loop") {
                    LeakKind::ClosureCapture
                } else {
                    LeakKind::EventHandler
                };
                out.push(Hit {
                    kind,
                    // In a library, how often the function runs is the caller's business.
                    confidence: if ctx.calls.is_program() {
                        Confidence::Medium
                    } else {
                        Confidence::Low
                    },
                    range: c.range(),
                    why,
                    fix,
                    rule: "registered-per-call",
                });
            }
        });
    }
}

/// True for a callback that keeps an object alive: a bound method (`self.cleanup`,
/// `conn.close`), a lambda, or a function defined inside `f`.
fn holds_object(f: &ruff_python_ast::StmtFunctionDef, cb: &Expr) -> bool {
    match cb {
        Expr::Lambda(_) => true,
        Expr::Attribute(x) => {
            !matches!(a::name(&x.value), Some(m) if m.chars().all(|c| c.is_ascii_lowercase() || c == '_') && matches!(m, "os" | "shutil" | "sys" | "logging" | "gc" | "time"))
        }
        Expr::Name(n) => a::defs_in(&f.body).iter().any(|d| d.name.id == n.id),
        Expr::Call(c) => a::callee_last(c) == Some("partial"),
        _ => false,
    }
}
