//! cache_no_eviction: `@lru_cache(maxsize=None)`/`@cache`, `@lru_cache` on a method (the cache
//! keeps every `self` alive), and dict caches (`if k not in c: c[k] = ...`) that never evict.

use super::unbounded_collection::container_hits;
use super::{Ctx, Hit};
use crate::leak_kind::{Confidence, LeakKind};
use crate::scan::ast::{self as a, Node};
use ruff_python_ast::comparable::ComparableExpr;
use ruff_python_ast::{Expr, Stmt, StmtFunctionDef};
use ruff_text_size::{Ranged, TextRange};

/// How a decorator caches.
enum Cache {
    /// `@cache`, `@lru_cache(maxsize=None)`.
    Unbounded,
    /// `@lru_cache`, `@lru_cache(maxsize=N)`.
    Bounded,
}

fn cache_decorator(d: &Expr) -> Option<(Cache, TextRange)> {
    let (callee, call) = match d {
        Expr::Call(c) => (&*c.func, Some(c)),
        e => (e, None),
    };
    let name = a::dotted(callee)?;
    let last = name.rsplit('.').next().unwrap_or(&name); // ok: one item at least
    match last {
        "cache" if call.is_none() && (name == "cache" || name == "functools.cache") => {
            Some((Cache::Unbounded, d.range()))
        }
        "lru_cache" => {
            let maxsize = call.and_then(|c| a::keyword(c, "maxsize").or(c.arguments.args.first()));
            let unbounded = maxsize.is_some_and(a::is_none);
            Some((
                if unbounded {
                    Cache::Unbounded
                } else {
                    Cache::Bounded
                },
                d.range(),
            ))
        }
        _ => None,
    }
}

fn takes_args(f: &StmtFunctionDef, method: bool) -> bool {
    let p = &f.parameters;
    let n = p.posonlyargs.len() + p.args.len() + p.kwonlyargs.len();
    n > usize::from(method) || p.vararg.is_some() || p.kwarg.is_some()
}

/// Report caching decorators that never evict, or that pin `self`.
pub fn check(ctx: &Ctx, out: &mut Vec<Hit>) {
    container_hits(ctx, LeakKind::CacheNoEviction, out);
    weak_keys_held_by_values(ctx, out);
    let methods = &ctx.methods;
    for &f in &ctx.functions {
        {
            {
                // `__new__` under a cache interns instances by their arguments: one object
                // per distinct value, on purpose (and no `self` exists yet to pin).
                if f.name.id.as_str() == "__new__" && methods.contains(&f.range()) {
                    continue;
                }
                let is_method = methods.contains(&f.range())
                    && !a::has_decorator(f, &["staticmethod", "classmethod"]);
                for d in &f.decorator_list {
                    let Some((cache, range)) = cache_decorator(&d.expression) else {
                        continue;
                    };
                    if !takes_args(f, is_method) && !is_method {
                        continue; // One entry at most.
                    }
                    let fname = f.name.id.as_str();
                    let (confidence, why, fix) = match (cache, is_method) {
                        (Cache::Unbounded, true) => (
                            Confidence::High,
                            format!(
                                "{fname}() is a method cached without a bound: the cache keeps every self it was called on, and every argument, forever."
                            ),
                            "Here: cache on the instance (a dict attribute or functools.cached_property), or a module-level function with maxsize=N.",
                        ),
                        (Cache::Bounded, true) => (
                            Confidence::Low,
                            format!(
                                "{fname}() is a method under @lru_cache: the class-wide cache holds self (and the arguments) strongly, so instances outlive their use."
                            ),
                            "Here: cache per instance (functools.cached_property, or a dict on self), or make it a function of plain values.",
                        ),
                        (Cache::Unbounded, false) => (
                            Confidence::Medium,
                            format!(
                                "{fname}() is cached with no maxsize: one entry per distinct argument, never evicted."
                            ),
                            "Here: use functools.lru_cache(maxsize=N).",
                        ),
                        (Cache::Bounded, false) => continue,
                    };
                    out.push(Hit {
                        kind: LeakKind::CacheNoEviction,
                        confidence,
                        range,
                        why,
                        fix: fix.to_string(),
                        rule: if is_method {
                            "cache-on-method"
                        } else {
                            "unbounded-cache"
                        },
                    });
                }
            }
        }
    }
}

/// A `WeakKeyDictionary` whose value is built from its key (`d[k] = State(k, ...)`): the value
/// refers back to the key, the dictionary holds the value strongly, so no key ever dies.
fn weak_keys_held_by_values(ctx: &Ctx, out: &mut Vec<Hit>) {
    for c in &ctx.model.containers {
        let Some((_, init)) = c.init else { continue };
        if !ctx.src[init].contains("WeakKeyDictionary") {
            continue;
        }
        for g in &c.grows {
            let (Some(key), Some(value)) = (g.key, g.value) else {
                continue;
            };
            let made = match value {
                Expr::Name(n) => g
                    .func
                    .map(|f| crate::scan::model::assigned(&f.body, n.id.as_str()))
                    .unwrap_or_default(),
                v => vec![v],
            };
            let want = ComparableExpr::from(key);
            let refers_back = made.iter().any(|v| match v {
                // A lookup in the dictionary itself (`d.get(k)`) builds nothing.
                Expr::Call(call)
                    if a::method_call(call)
                        .is_some_and(|(_, m)| matches!(m, "get" | "pop" | "setdefault")) =>
                {
                    false
                }
                Expr::Call(call) => {
                    let pos = call
                        .arguments
                        .args
                        .iter()
                        .position(|x| ComparableExpr::from(x) == want);
                    let kw = call
                        .arguments
                        .keywords
                        .iter()
                        .find(|k| ComparableExpr::from(&k.value) == want)
                        .and_then(|k| k.arg.as_ref().map(|a| a.id.as_str()));
                    (pos.is_some() || kw.is_some()) && keeps_argument(ctx, call, pos, kw)
                }
                _ => false,
            });
            if !refers_back {
                continue;
            }
            let k = &ctx.src[key.range()];
            out.push(Hit {
                kind: LeakKind::CacheNoEviction,
                confidence: Confidence::High,
                range: g.range,
                why: format!(
                    "{} is a WeakKeyDictionary, but the value stored under {k} is built from {k} and keeps it: the dictionary holds the value strongly, the value holds the key, so no entry is ever dropped.",
                    c.name
                ),
                fix: format!(
                    "Here: keep only what the value needs from {k} (an id, a weakref.ref({k})), never {k} itself."
                ),
                rule: "weak-key-held",
            });
        }
    }
}

/// True unless `call` makes an instance of a class of this file whose `__init__` does not
/// store the argument at `pos` (or keyword `kw`) as an attribute.
fn keeps_argument(
    ctx: &Ctx,
    call: &ruff_python_ast::ExprCall,
    pos: Option<usize>,
    kw: Option<&str>,
) -> bool {
    let Some(name) = a::callee_last(call) else {
        return true;
    };
    let Some(cls) = ctx.classes.iter().find(|c| c.name.id.as_str() == name) else {
        return true;
    };
    let Some(init) = a::defs_in(&cls.body)
        .into_iter()
        .find(|f| f.name.id.as_str() == "__init__")
    else {
        return true;
    };
    let params: Vec<&str> = init
        .parameters
        .posonlyargs
        .iter()
        .chain(&init.parameters.args)
        .map(|p| p.parameter.name.id.as_str())
        .collect();
    let Some(param) = kw.or_else(|| pos.and_then(|i| params.get(i + 1).copied())) else {
        return true;
    };
    let mut kept = false;
    a::walk(&init.body, false, &mut |node, _| {
        if let Node::Stmt(Stmt::Assign(x)) = node {
            let mut names = Vec::new();
            a::names_in(&x.value, &mut names);
            // `self.request = request`, `self.meta = (request, ...)`: kept; `id(request)` is not.
            let direct = matches!(&*x.value, Expr::Name(n) if n.id.as_str() == param)
                || (names.contains(&param)
                    && !matches!(&*x.value, Expr::Call(_) | Expr::Attribute(_)));
            kept |= direct;
        }
    });
    kept
}
