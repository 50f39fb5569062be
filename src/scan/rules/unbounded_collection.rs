//! unbounded_collection: a class attribute or module container that is only ever grown.
//! Also home of the shared choice of kind for such containers (threads, tensors, caches).

use super::{Ctx, Hit, array_accumulation, thread_task, values};
use crate::leak_kind::{Confidence, LeakKind};
use crate::scan::ast::{self as a, Node};
use crate::scan::model::{Container, Init};
use ruff_python_ast::comparable::ComparableExpr;
use ruff_python_ast::{Expr, Stmt, StmtFunctionDef, UnaryOp};
use ruff_text_size::Ranged;

/// Attribute names that say "this keeps a record of everything".
const HOARD: &[&str] = &[
    "history", "log", "logs", "events", "records", "seen", "results", "messages", "calls",
    "entries", "samples", "buffer", "items", "cache", "memo", "visited", "pending",
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

/// Which kind a grown-only container is: what it holds decides (a thread, a resource, a
/// figure, an array, a closure), then how it is used (memoised by key: a cache).
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
    // The container is itself an array (`array.array("d")` grown by append/extend).
    if let Some((_, r)) = c.init
        && ctx.src[r].contains("array(")
        && ctx.src[r].contains("array")
        && !ctx.src[r].contains("np.")
        && !ctx.src[r].contains("numpy.")
        && crate::scan::model::container_init_text_is_array(&ctx.src[r])
    {
        return LeakKind::ArrayAccumulation;
    }
    // A memo (`if k not in c: c[k] = make(k)`) is a cache whatever it holds, unless what it
    // holds is a thread, an open resource, a figure or an array.
    let bucketed = c.grows.iter().any(|g| g.how == "[key].append()");
    let memo = c.grows.iter().any(|g| c.checked(g)) && !bucketed;
    let stored = values().filter_map(|(g, v)| values::value_kind(ctx, v, g.func));
    if let Some(k) = stored.min_by_key(|k| {
        [
            LeakKind::ThreadTask,
            LeakKind::UnclosedResource,
            LeakKind::FigureAccumulation,
            LeakKind::ArrayAccumulation,
            LeakKind::ClosureCapture,
            LeakKind::EventHandler,
        ]
        .iter()
        .position(|x| x == k)
    }) && !(memo && matches!(k, LeakKind::ClosureCapture | LeakKind::EventHandler))
    {
        return k;
    }
    if memo {
        return LeakKind::CacheNoEviction;
    }
    // Filled only by reading new keys: a memo of default values.
    if c.grows.iter().all(|g| g.how.starts_with("[key] read")) {
        return LeakKind::UnboundedCollection;
    }
    let lname = c.name.to_ascii_lowercase();
    if c.grows.iter().any(|g| g.key.is_some())
        && (lname.contains("cache") || lname.contains("memo"))
    {
        return LeakKind::CacheNoEviction;
    }
    LeakKind::UnboundedCollection
}

/// True for the kinds decided by what is stored (each stored object is a leak of its own).
fn heavy(k: LeakKind) -> bool {
    matches!(
        k,
        LeakKind::ThreadTask
            | LeakKind::UnclosedResource
            | LeakKind::FigureAccumulation
            | LeakKind::ArrayAccumulation
            | LeakKind::ClosureCapture
            | LeakKind::EventHandler
    )
}

/// True when a key can take only a few values: literals, flags (`bool(...)`, comparisons,
/// `not x`, parameters defaulting to True/False/0/1), and tuples of those.
fn bounded_key(k: &Expr, func: Option<&StmtFunctionDef>) -> bool {
    match k {
        Expr::Tuple(t) => t.elts.iter().all(|e| bounded_key(e, func)),
        Expr::Compare(_) | Expr::BooleanLiteral(_) => true,
        Expr::UnaryOp(u) => u.op == UnaryOp::Not,
        Expr::Call(c) => a::name(&c.func) == Some("bool"),
        Expr::Name(n) => func.is_some_and(|f| {
            let p = &f.parameters;
            p.posonlyargs
                .iter()
                .chain(&p.args)
                .chain(&p.kwonlyargs)
                .any(|x| {
                    x.parameter.name.id.as_str() == n.id.as_str()
                        && x.default.as_deref().is_some_and(|d| match d {
                            Expr::BooleanLiteral(_) => true,
                            Expr::NumberLiteral(v) => {
                                matches!(v.value.as_int().and_then(|i| i.as_u8()), Some(0 | 1))
                            }
                            _ => false,
                        })
                })
        }),
        e => a::is_const(e),
    }
}

/// True when the key is an index that the same function winds back (`self.i = 0` next to
/// `c[self.i] = v`): a ring buffer over a fixed range of slots.
fn ring_index(k: &Expr, func: Option<&StmtFunctionDef>) -> bool {
    let Some(f) = func else { return false };
    if !matches!(k, Expr::Name(_) | Expr::Attribute(_)) {
        return false;
    }
    let want = ComparableExpr::from(k);
    let mut wound = false;
    a::walk(&f.body, false, &mut |node, _at| {
        if let Node::Stmt(Stmt::Assign(x)) = node
            && matches!(&*x.value, Expr::NumberLiteral(_))
            && x.targets.iter().any(|t| ComparableExpr::from(t) == want)
        {
            wound = true;
        }
    });
    wound
}

/// The last segment of a container's name, lower case: `history` for `self.history`.
fn short_name(c: &Container) -> String {
    c.name
        .rsplit('.')
        .next()
        .unwrap_or(&c.name)
        .to_ascii_lowercase() // ok: one item at least
}

/// The hits for containers of `kind` that only grow (grown inside a function or method).
pub fn container_hits(ctx: &Ctx, kind: LeakKind, out: &mut Vec<Hit>) {
    for c in &ctx.model.containers {
        // An instance attribute grows for as long as its owner lives. The owner is known to
        // live long when the container belongs to the class itself or the class is
        // instantiated at import time.
        let lasting = c
            .class
            .is_none_or(|cl| c.class_level || ctx.singletons.contains(cl));
        // Clean-up of a lasting container that runs only at shutdown, or that nothing in the
        // program calls, does not bound it while the program serves.
        let idle = |f: Option<&StmtFunctionDef>| lasting && ctx.calls.idle(f).is_some();
        if !c.grows_unless(idle) {
            continue;
        }
        let idle_note = idle_cleanup(ctx, c);
        let Some((init, init_range)) = c.init else {
            continue;
        };
        let short = short_name(c);
        let hoard = HOARD
            .iter()
            .any(|h| short.trim_start_matches('_').contains(h));
        // The growth that can repeat for the life of the container: not at import time
        // (module level, class body), not once per instance (__init__) for an instance's
        // own container, not in the method
        // that creates the container afresh on every call, not filled once under `if not c:`,
        // not only when debugging, not a flag-keyed slot or a ring index, and not a list kept
        // free of duplicates unless its name says it keeps a record of everything.
        let Some(g) = c.grows.iter().find(|g| {
            let Some(f) = g.func else { return false };
            if g.how.starts_with("[key] read") {
                return false; // Reported by `defaultdict_reads`.
            }
            if ctx.calls.idle(Some(f)) == Some(crate::scan::calls::Idle::Uncalled) {
                return false; // Code the program never runs.
            }
            if returns_a_parameter(f) || in_decorator(f, g.range) {
                return false; // A decorator's registration: once per decorated function.
            }
            // Once per instance bounds only the instance's own containers: a module or class
            // container grown in __init__ grows with every instance made.
            let per_instance = c.class.is_some() && !c.class_level;
            let bounded = (per_instance && INIT_LIKE.contains(&f.name.id.as_str()))
                || (f.range.contains_range(init_range) && !c.default_arg)
                || g.fill_once
                || g.debug_only
                || (g.dedup && !hoard)
                || g.key
                    .is_some_and(|k| bounded_key(k, g.func) || ring_index(k, g.func));
            !bounded
        }) else {
            continue;
        };
        let found = ctx.kind_of_container(c);
        if found != kind {
            continue;
        }
        let keyed = g.key.is_some() && !heavy(found) && !c.default_arg;
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
        let read_fill = c.grows.iter().any(|g| g.how.starts_with("[key] read"));
        if found == LeakKind::CacheNoEviction && c.class.is_some() && !named_cache && !read_fill {
            continue;
        }
        // A module container grown outside a loop by a function of a library: a registration
        // function (decorators, plugin tables) until a program shows it runs per request.
        let registration = c.class.is_none()
            && !c.default_arg
            && !hoard
            && g.loops == 0
            && idle_note.is_none()
            && match found {
                LeakKind::UnboundedCollection => {
                    !g.value.is_some_and(fresh_record) || !ctx.calls.is_program()
                }
                LeakKind::ThreadTask
                | LeakKind::UnclosedResource
                | LeakKind::FigureAccumulation => false,
                _ => !ctx.calls.is_program(),
            };
        if registration {
            continue;
        }
        // A short-lived owner's container: only a name that says "a record of everything"
        // makes it worth a (low) finding, and an exception's data never is.
        if found == LeakKind::UnboundedCollection
            && let Some(cl) = c.class
            && (!lasting && (!hoard || super::is_exception_class(ctx, cl)))
        {
            continue;
        }
        let func = g
            .func
            .map_or(String::new(), |f| f.name.id.as_str().to_string());
        let owner = match c.class {
            Some(cl) if c.class_level => format!("no method of {cl} ever trims it (one per class)"),
            Some(cl) if lasting => {
                format!("no method of {cl} ever trims it, and {cl} is instantiated at import time")
            }
            Some(cl) => format!("no method of {cl} ever trims it"),
            None => "nothing in the module ever trims it".to_string(),
        };
        let what = match kind {
            LeakKind::ThreadTask => "threads/tasks are added",
            LeakKind::ArrayAccumulation => "arrays are added",
            LeakKind::UnclosedResource => "open files/connections are added",
            LeakKind::FigureAccumulation => "figures are added",
            LeakKind::ClosureCapture => "closures (holding their captured locals) are added",
            LeakKind::EventHandler => "handlers (bound methods, holding their objects) are added",
            LeakKind::CacheNoEviction => "entries are stored by key",
            _ => "it is grown",
        };
        // Only a private name can be known unread: a public one is read by the callers.
        let private = short.starts_with('_');
        let write_only = c.reads == 0 && private;
        let owner = if c.default_arg {
            format!(
                "it is a mutable default argument of {func}(), made once and shared by every call, and nothing trims it"
            )
        } else {
            owner
        };
        let owner = match &idle_note {
            Some(note) => format!("it is {note}"),
            None => format!("{owner} (no pop/clear/del/slice/reassignment)"),
        };
        let why = format!(
            "{} is created as a {} and {what} by {} in {func}(), but {owner}{}.",
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
            LeakKind::UnboundedCollection if !lasting => Confidence::Low,
            LeakKind::UnboundedCollection if write_only => Confidence::High,
            LeakKind::UnboundedCollection if hoard || g.loops > 0 || c.class.is_some() => {
                Confidence::Medium
            }
            LeakKind::UnboundedCollection => Confidence::Low,
            // An instance's memo dies with the instance; a module's lives forever.
            LeakKind::CacheNoEviction if c.class.is_some() && !lasting => Confidence::Low,
            LeakKind::CacheNoEviction if c.class.is_some() => Confidence::Medium,
            // A short-lived owner: its objects go with it, unless something else keeps it.
            _ if !lasting => Confidence::Low,
            // A registry grown by handlers: the registration that feeds it is the evidence.
            LeakKind::EventHandler => Confidence::Medium,
            // Made right here (not inferred through callers): sure.
            LeakKind::ThreadTask | LeakKind::UnclosedResource | LeakKind::FigureAccumulation
                if g.value.is_some_and(
                    |v| !matches!(v, Expr::Name(n) if is_param(g.func, n.id.as_str())),
                ) =>
            {
                Confidence::High
            }
            LeakKind::CacheNoEviction => Confidence::High,
            _ => Confidence::Medium,
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
            (LeakKind::UnclosedResource, _) => format!(
                "Here: close each resource and remove it from {} on the path that finishes with it (with/try-finally).",
                c.name
            ),
            (LeakKind::FigureAccumulation, _) => format!(
                "Here: keep the rendered bytes, not the figure; plt.close(fig) and drop it from {}.",
                c.name
            ),
            (LeakKind::EventHandler, _) => format!(
                "Here: remove the handler from {} when its owner is done (or hold weakref.WeakMethod).",
                c.name
            ),
            (LeakKind::ClosureCapture, _) => format!(
                "Here: store only the values the callback needs (not the captured objects), and remove it from {} once it has run.",
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
    defaultdict_reads(ctx, out);
}

/// A lasting `defaultdict` read with a caller's key in a function that never stores to it:
/// every new key read inserts an empty entry that nothing removes (removal follows the keys
/// that were stored, not the ones only looked at).
fn defaultdict_reads(ctx: &Ctx, out: &mut Vec<Hit>) {
    for c in &ctx.model.containers {
        if !c.defaultdict {
            continue;
        }
        let lasting = c
            .class
            .is_none_or(|cl| c.class_level || ctx.singletons.contains(cl));
        if !lasting {
            continue;
        }
        for g in &c.grows {
            let Some(f) = g.func else { continue };
            if !g.how.starts_with("[key] read")
                || INIT_LIKE.contains(&f.name.id.as_str())
                || c.grows.iter().any(|o| {
                    o.func.is_some_and(|of| of.range == f.range) && !o.how.starts_with("[key] read")
                })
            {
                continue;
            }
            // `c[k][f] = v` stores through the read: an insert on purpose.
            let mut stores = false;
            a::walk(&f.body, false, &mut |node, _| {
                let targets: Vec<&Expr> = match node {
                    Node::Stmt(Stmt::Assign(x)) => x.targets.iter().collect(),
                    Node::Stmt(Stmt::AugAssign(x)) => vec![&*x.target],
                    _ => return,
                };
                stores |= targets
                    .iter()
                    .any(|t| matches!(t, Expr::Subscript(s) if s.value.range() == g.range));
            });
            if stores {
                continue;
            }
            // `c[k].remove(x)` in the same function: the removal path of registered keys.
            let mut trims_there = false;
            let mut iterated = false;
            a::walk(&f.body, false, &mut |node, _| match node {
                Node::Expr(Expr::Call(call)) => {
                    if let Some((Expr::Subscript(sub), m)) = a::method_call(call)
                        && sub.range() == g.range
                        && matches!(m, "remove" | "discard" | "pop" | "clear")
                    {
                        trims_there = true;
                    }
                    if matches!(
                        a::name(&call.func),
                        Some("list" | "tuple" | "sorted" | "iter")
                    ) && call
                        .arguments
                        .args
                        .first()
                        .is_some_and(|x| x.range() == g.range)
                    {
                        iterated = true;
                    }
                }
                Node::Stmt(Stmt::For(x)) if x.iter.range() == g.range => iterated = true,
                _ => {}
            });
            if trims_there {
                continue;
            }
            let key = g.key.map_or("the key", |k| &ctx.src[k.range()]);
            out.push(Hit {
                kind: LeakKind::UnboundedCollection,
                // Iterating a missing key's empty entry (a broadcast to nobody) is the mildest.
                confidence: if iterated { Confidence::Low } else { Confidence::Medium },
                range: g.range,
                why: format!(
                    "{} is a defaultdict and {}() only reads it, but reading {}[{key}] inserts an empty entry for every {key} not seen before, and nothing removes entries that were only read.",
                    c.name,
                    f.name.id.as_str(),
                    c.name
                ),
                fix: format!(
                    "Here: read with {}.get({key}) (or `{key} in {}`) where you do not mean to insert.",
                    c.name, c.name
                ),
                rule: "defaultdict-read",
            });
        }
    }
}

/// True for `x` when `x` is a call of one of `names` (by last dotted segment).
pub fn is_call_of(e: &Expr, names: &[&str]) -> bool {
    match e {
        Expr::Call(c) => crate::scan::ast::callee_last(c).is_some_and(|n| names.contains(&n)),
        _ => false,
    }
}

/// "cleared only in shutdown()" when every removal of a lasting container runs at shutdown
/// or in code the program never calls.
fn idle_cleanup(ctx: &Ctx, c: &Container) -> Option<String> {
    if c.trim_in.is_empty() && c.assign_in.is_empty() {
        return None;
    }
    let mut at_exit = Vec::new();
    let mut uncalled = Vec::new();
    for f in c.trim_in.iter().chain(&c.assign_in) {
        let name = f.map_or_else(
            || "module code".to_string(),
            |f| format!("{}()", f.name.id.as_str()),
        );
        match ctx.calls.idle(*f)? {
            crate::scan::calls::Idle::Shutdown => at_exit.push(name),
            crate::scan::calls::Idle::Uncalled => uncalled.push(name),
        }
    }
    at_exit.dedup();
    uncalled.dedup();
    let mut parts = Vec::new();
    if !at_exit.is_empty() {
        parts.push(format!(
            "cleared only in {}, which runs at shutdown",
            at_exit.join(", ")
        ));
    }
    if !uncalled.is_empty() {
        parts.push(format!(
            "cleared only in {}, which nothing in the program calls",
            uncalled.join(", ")
        ));
    }
    Some(parts.join(", and "))
}

/// True for a value built afresh on every call (a record): a constructor call, a literal
/// with contents, a formatted string, a comprehension.
fn fresh_record(v: &Expr) -> bool {
    match v {
        Expr::Call(c) => {
            a::callee_last(c).is_some_and(|n| n.chars().next().is_some_and(char::is_uppercase))
        }
        Expr::Dict(d) => !d.items.is_empty(),
        Expr::Tuple(t) => t.elts.len() > 1,
        Expr::FString(_) | Expr::ListComp(_) | Expr::DictComp(_) => true,
        _ => false,
    }
}

/// True when `n` is a parameter of `f`.
fn is_param(f: Option<&StmtFunctionDef>, n: &str) -> bool {
    f.is_some_and(|f| {
        let p = &f.parameters;
        p.posonlyargs
            .iter()
            .chain(&p.args)
            .chain(&p.kwonlyargs)
            .any(|x| x.parameter.name.id.as_str() == n)
    })
}

/// True for a function that returns one of its own parameters (`def deco(fn): ...; return
/// fn`): a decorator, run once per function it decorates.
fn returns_a_parameter(f: &StmtFunctionDef) -> bool {
    let mut found = false;
    a::walk(&f.body, false, &mut |node, _| {
        if let Node::Stmt(Stmt::Return(r)) = node
            && let Some(Expr::Name(n)) = r.value.as_deref()
            && is_param(Some(f), n.id.as_str())
        {
            found = true;
        }
    });
    found
}

/// True when `at` lies in a function nested in `f` that returns its own parameter.
fn in_decorator(f: &StmtFunctionDef, at: ruff_text_size::TextRange) -> bool {
    let mut found = false;
    a::walk(&f.body, true, &mut |node, _| {
        if let Node::Stmt(Stmt::FunctionDef(inner)) = node
            && inner.range.contains_range(at)
            && returns_a_parameter(inner)
        {
            found = true;
        }
    });
    found
}
