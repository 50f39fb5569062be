//! cache_no_eviction: `@lru_cache(maxsize=None)`/`@cache`, `@lru_cache` on a method (the cache
//! keeps every `self` alive), and dict caches (`if k not in c: c[k] = ...`) that never evict.

use super::unbounded_collection::container_hits;
use super::{Ctx, Hit};
use crate::leak_kind::{Confidence, LeakKind};
use crate::scan::ast::{self as a};
use ruff_python_ast::{Expr, StmtFunctionDef};
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
                            Confidence::Medium,
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
