//! unbounded_collection: a class attribute or module container that is only ever grown.
//! Also home of the shared choice of kind for such containers (threads, tensors, caches).

use super::{Ctx, Hit, array_accumulation, thread_task};
use crate::leak_kind::{Confidence, LeakKind};
use crate::scan::model::{Container, Init};
use ruff_python_ast::Expr;

/// Attribute names that say "this keeps a record of everything".
const HOARD: &[&str] = &[
    "history", "log", "logs", "events", "records", "seen", "results", "messages", "calls",
    "entries", "samples", "buffer", "items", "cache", "memo", "registry", "visited", "pending",
];

/// Methods that run once per object: growth there is bounded.
const INIT_LIKE: &[&str] = &[
    "__init__",
    "__new__",
    "__post_init__",
    "setUp",
    "setUpClass",
    "__init_subclass__",
];

/// A key that is new on every call (`id(x)`, `uuid4()`, `time.time()`, `next(counter)`).
fn fresh_key(k: &Expr) -> bool {
    let call = match k {
        Expr::Call(c) => c,
        Expr::Tuple(t) => return t.elts.iter().any(fresh_key),
        _ => return false,
    };
    crate::scan::ast::callee_last(call).is_some_and(|n| {
        matches!(
            n,
            "id" | "uuid4"
                | "uuid1"
                | "time"
                | "monotonic"
                | "perf_counter"
                | "time_ns"
                | "next"
                | "count"
        )
    })
}

/// Which kind a grown-only container is: what it holds and how it is used decide.
pub fn kind_of(ctx: &Ctx, c: &Container) -> LeakKind {
    let values = || c.grows.iter().filter_map(|g| g.value.map(|v| (g, v)));
    if values().any(|(g, v)| thread_task::is_thread_value(v, g.func.map(|f| &f.body[..]))) {
        return LeakKind::ThreadTask;
    }
    if ctx.tensors
        && values()
            .any(|(g, v)| array_accumulation::is_tensor_value(v, g.func.map(|f| &f.body[..])))
    {
        return LeakKind::ArrayAccumulation;
    }
    if c.grows.iter().any(|g| c.checked(g)) {
        return LeakKind::CacheNoEviction;
    }
    let lname = c.name.to_ascii_lowercase();
    if c.grows.iter().any(|g| g.key.is_some())
        && (lname.contains("cache") || lname.contains("memo"))
    {
        return LeakKind::CacheNoEviction;
    }
    LeakKind::UnboundedCollection
}

/// The hits for containers of `kind` that only grow (grown inside a function or method).
pub fn container_hits(ctx: &Ctx, kind: LeakKind, out: &mut Vec<Hit>) {
    for c in &ctx.model.containers {
        if !c.only_grows() {
            continue;
        }
        // Growth at import time (module level, class body) or once per instance (__init__)
        // is bounded.
        let Some(g) = c.grows.iter().find(|g| {
            g.func
                .is_some_and(|f| !INIT_LIKE.contains(&f.name.id.as_str()))
        }) else {
            continue;
        };
        let found = kind_of(ctx, c);
        if found != kind {
            continue;
        }
        let short = c
            .name
            .rsplit('.')
            .next()
            .unwrap_or(&c.name)
            .to_ascii_lowercase(); // ok: one item at least
        let hoard = HOARD
            .iter()
            .any(|h| short.trim_start_matches('_').contains(h));
        let keyed = g.key.is_some();
        if found == LeakKind::UnboundedCollection
            && keyed
            && !hoard
            && !g.key.is_some_and(fresh_key)
        {
            continue; // A dict keyed by names or types: a registry bounded by its keys.
        }
        // An instance's dict filled by key is its data unless it is named as a cache: it
        // lives and dies with the instance.
        let named_cache = short.contains("cache") || short.contains("memo");
        if found == LeakKind::CacheNoEviction && c.class.is_some() && !named_cache {
            continue;
        }
        if c.class.is_none() && found == LeakKind::UnboundedCollection && !hoard && g.loops == 0 {
            continue; // A module list grown by a registration function.
        }
        let Some((init, _)) = c.init else { continue };
        let func = g
            .func
            .map_or(String::new(), |f| f.name.id.as_str().to_string());
        let short = c
            .name
            .rsplit('.')
            .next()
            .unwrap_or(&c.name)
            .to_ascii_lowercase(); // ok: one item at least
        let hoard = HOARD
            .iter()
            .any(|h| short.trim_start_matches('_').contains(h));
        let owner = match c.class {
            Some(cl) => format!("no method of {cl} ever trims it"),
            None => "nothing in the module ever trims it".to_string(),
        };
        let what = match kind {
            LeakKind::ThreadTask => "threads/tasks are added",
            LeakKind::ArrayAccumulation => "tensors are added",
            LeakKind::CacheNoEviction => "entries are stored by key",
            _ => "it is grown",
        };
        let write_only = c.reads == 0;
        let why = format!(
            "{} is created as a {} and {what} by {} in {func}(), but {owner} (no pop/clear/del/slice/reassignment){}.",
            c.name,
            init.describe(),
            g.how,
            if write_only {
                " and nothing ever reads it"
            } else {
                ""
            },
        );
        let confidence = match kind {
            // Written and never read: nothing consumes the entries at all.
            LeakKind::UnboundedCollection if write_only => Confidence::High,
            LeakKind::UnboundedCollection if hoard || g.loops > 0 => Confidence::Medium,
            LeakKind::UnboundedCollection => Confidence::Low,
            // An instance's memo dies with the instance; a module's lives forever.
            LeakKind::CacheNoEviction if c.class.is_some() => Confidence::Low,
            _ => Confidence::High,
        };
        let fix = match (kind, init) {
            (LeakKind::UnboundedCollection, Init::List | Init::Deque) => format!(
                "Here: create {} as deque(maxlen=N) or trim it where entries are consumed.",
                c.name
            ),
            (LeakKind::CacheNoEviction, _) => format!(
                "Here: bound {} (evict the oldest entry when it exceeds N) or use functools.lru_cache(maxsize=N).",
                c.name
            ),
            (LeakKind::ThreadTask, _) => format!(
                "Here: prune {} of finished entries before adding (is_alive()/done()).",
                c.name
            ),
            _ => format!(
                "Here: remove entries from {} when they are done with.",
                c.name
            ),
        };
        out.push(Hit {
            kind,
            confidence,
            range: g.range,
            why,
            fix,
            rule: "only-grown",
        });
    }
}

/// Report containers that only grow and hold plain values.
pub fn check(ctx: &Ctx, out: &mut Vec<Hit>) {
    container_hits(ctx, LeakKind::UnboundedCollection, out);
}

/// True for `x` when `x` is a call of one of `names` (by last dotted segment).
pub fn is_call_of(e: &Expr, names: &[&str]) -> bool {
    match e {
        Expr::Call(c) => crate::scan::ast::callee_last(c).is_some_and(|n| names.contains(&n)),
        _ => false,
    }
}
