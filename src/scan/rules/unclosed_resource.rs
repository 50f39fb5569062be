//! unclosed_resource: `open`/`socket`/`connect`/`Session`/executors/`Popen` bound outside a
//! `with` and never closed in that scope (nor returned, stored or handed on).

use super::{Ctx, Hit};
use crate::leak_kind::{Confidence, LeakKind};
use crate::scan::ast::{self as a, Node};
use ruff_python_ast::{Expr, ExprCall, ExprContext, Stmt, StmtFunctionDef};
use ruff_text_size::{Ranged, TextRange, TextSize};
use std::collections::{HashMap, HashSet};

/// Methods that release a resource (or reap a process).
const CLOSERS: &[&str] = &[
    "close",
    "shutdown",
    "terminate",
    "kill",
    "wait",
    "communicate",
    "detach",
    "release",
    "cleanup",
    "__exit__",
    "quit",
    "aclose",
    "join",
];

/// Functions that read or write through a resource without keeping it.
const CONSUMERS: &[&str] = &[
    "json.load",
    "json.dump",
    "pickle.load",
    "pickle.dump",
    "print",
    "csv.reader",
    "csv.writer",
    "csv.DictReader",
    "csv.DictWriter",
    "shutil.copyfileobj",
    "len",
    "iter",
    "next",
    "enumerate",
    "isinstance",
    "repr",
    "str",
    "id",
    "hash",
    "marshal.load",
    "marshal.dump",
    "plistlib.load",
    "tomllib.load",
    "os.fstat",
];

/// The last name segments `resource` knows, to refuse other calls without allocating.
const RESOURCE_NAMES: &[&str] = &[
    "open",
    "fdopen",
    "popen",
    "ZipFile",
    "TarFile",
    "socket",
    "create_connection",
    "connect",
    "Session",
    "ClientSession",
    "Client",
    "AsyncClient",
    "urlopen",
    "ThreadPoolExecutor",
    "ProcessPoolExecutor",
    "Pool",
    "Popen",
    "NamedTemporaryFile",
    "TemporaryFile",
    "SpooledTemporaryFile",
];

/// True when a text names a resource maker at all (a cheap test before the walks).
fn opens_something(text: &str) -> bool {
    RESOURCE_NAMES.iter().any(|n| text.contains(n))
}

/// What kind of resource a call makes, if it makes one.
pub fn resource(c: &ExprCall) -> Option<&'static str> {
    let quick = a::callee_last(c)?;
    if !RESOURCE_NAMES.contains(&quick) {
        return None;
    }
    let name = a::dotted(&c.func)?;
    let last = name.rsplit('.').next().unwrap_or(&name); // ok: one item at least
    let module = name.rsplit_once('.').map(|(m, _)| m);
    Some(match (module, last) {
        (None | Some("io" | "codecs" | "gzip" | "bz2" | "lzma" | "tarfile"), "open") => "file",
        (Some("os"), "fdopen" | "popen") => "file",
        (_, "ZipFile" | "TarFile") => "archive",
        (Some("socket"), "socket" | "create_connection") | (None, "create_connection") => "socket",
        (Some("sqlite3" | "psycopg2" | "pymysql" | "MySQLdb" | "psycopg"), "connect") => {
            "database connection"
        }
        (Some("dbm" | "shelve"), "open") => "database",
        (Some("requests"), "Session") | (None, "Session") => "HTTP session",
        (Some("aiohttp"), "ClientSession") | (Some("httpx"), "Client" | "AsyncClient") => {
            "HTTP session"
        }
        (Some("urllib.request" | "request") | None, "urlopen") => "HTTP response",
        (_, "ThreadPoolExecutor" | "ProcessPoolExecutor") => "executor",
        (Some("multiprocessing" | "mp"), "Pool") => "process pool",
        (Some("subprocess") | None, "Popen") => "process",
        (Some("tempfile"), "NamedTemporaryFile" | "TemporaryFile" | "SpooledTemporaryFile") => {
            "temporary file"
        }
        _ => return None,
    })
}

struct Bound<'a> {
    name: &'a str,
    range: TextRange,
    what: &'static str,
    callee: String,
}

fn check_function(f: &StmtFunctionDef, out: &mut Vec<Hit>) {
    let mut bound: Vec<Bound> = Vec::new();
    let mut closed: HashSet<&str> = HashSet::new();
    let mut safe: HashSet<TextSize> = HashSet::new();
    let mut loads: Vec<(&str, TextSize)> = Vec::new();
    let mut chained: Vec<(TextRange, &'static str, String)> = Vec::new();
    let mut with_ctx: HashSet<TextSize> = HashSet::new();
    // `with self.assertRaises(...)`/`pytest.raises` blocks: the call is expected to fail.
    let mut raising: Vec<TextRange> = Vec::new();
    // Nested functions are walked too: a use there (an `async def` handing the resource on,
    // a cleanup callback closing it) is this scope's use.
    a::walk(&f.body, true, &mut |node, _at| match node {
        Node::Stmt(s) => match s {
            Stmt::Assign(x) => {
                if let [t] = &x.targets[..]
                    && let Some(n) = a::name(t)
                    && let Expr::Call(c) = &*x.value
                    && let Some(what) = resource(c)
                {
                    bound.push(Bound {
                        name: n,
                        range: s.range(),
                        what,
                        callee: a::dotted(&c.func).unwrap_or_default(),
                    });
                }
            }
            Stmt::With(w) => {
                if w.items.iter().any(|i| {
                    matches!(&i.context_expr, Expr::Call(c)
                        if matches!(a::callee_last(c), Some("assertRaises" | "assertRaisesRegex" | "raises")))
                }) {
                    raising.push(s.range());
                }
                for item in &w.items {
                    with_ctx.insert(item.context_expr.start());
                    if let Some(n) = a::name(&item.context_expr) {
                        closed.insert(n);
                    }
                    if let Expr::Call(c) = &item.context_expr {
                        for x in &c.arguments.args {
                            if let Some(n) = a::name(x) {
                                closed.insert(n);
                            }
                        }
                    }
                }
            }
            Stmt::For(x) => {
                safe.insert(x.iter.start());
            }
            _ => {}
        },
        Node::Expr(e) => match e {
            Expr::Attribute(x) => {
                if let Some(n) = a::name(&x.value) {
                    safe.insert(x.value.start());
                    if CLOSERS.contains(&x.attr.id.as_str()) {
                        closed.insert(n);
                    }
                }
            }
            Expr::Call(c) => {
                if let Some(last) = a::callee_last(c)
                    && CONSUMERS.iter().any(|x| x.ends_with(last))
                    && let Some(d) = a::dotted(&c.func)
                    && CONSUMERS.contains(&d.as_str())
                {
                    for x in c.arguments.args.iter() {
                        safe.insert(x.start());
                    }
                    for k in c.arguments.keywords.iter() {
                        safe.insert(k.value.start());
                    }
                }
                if let Some((recv, m)) = a::method_call(c)
                    && let Expr::Call(inner) = recv
                    && let Some(what) = resource(inner)
                    && !CLOSERS.contains(&m)
                    && m != "__enter__"
                    && !with_ctx.contains(&e.start())
                {
                    chained.push((
                        recv.range(),
                        what,
                        a::dotted(&inner.func).unwrap_or_default(),
                    ));
                }
            }
            Expr::Compare(c) => {
                safe.insert(c.left.start());
            }
            Expr::Name(n) if n.ctx == ExprContext::Load => loads.push((n.id.as_str(), e.start())),
            _ => {}
        },
    });
    let fname = f.name.id.as_str();
    let mut seen: HashMap<&str, ()> = HashMap::new();
    // The statements of this function itself (not of functions nested in it).
    let mut own: HashSet<TextSize> = HashSet::new();
    if !bound.is_empty() {
        a::walk(&f.body, false, &mut |node, _at| {
            if let Node::Stmt(s) = node {
                own.insert(s.start());
            }
        });
    }
    for b in bound.iter().filter(|b| own.contains(&b.range.start())) {
        if raising.iter().any(|r| r.contains_range(b.range)) {
            continue;
        }
        if closed.contains(b.name) || seen.insert(b.name, ()).is_some() {
            continue;
        }
        let escapes = loads
            .iter()
            .any(|(n, at)| *n == b.name && !safe.contains(at));
        if escapes {
            continue;
        }
        out.push(Hit {
            kind: LeakKind::UnclosedResource,
            confidence: Confidence::High,
            range: b.range,
            why: format!(
                "{} = {}(...) opens {} outside `with`, and {fname}() never closes it, returns it or hands it on.",
                b.name, b.callee, article(b.what)
            ),
            fix: format!("Here: `with {}(...) as {}:` around its uses.", b.callee, b.name),
            rule: "unclosed-local",
        });
    }
    for (range, what, callee) in chained {
        out.push(Hit {
            kind: LeakKind::UnclosedResource,
            confidence: Confidence::Low,
            range,
            why: format!(
                "{callee}(...) opens {} that is used once and dropped unclosed; it is closed only when the garbage collector gets to it (a ResourceWarning under -X dev).",
                article(what)
            ),
            fix: format!("Here: `with {callee}(...) as f:` and use f."),
            rule: "unclosed-temporary",
        });
    }
}

/// Attributes (`self.x = open(...)`) that no code of their class ever closes or hands on.
fn check_attributes(ctx: &Ctx, out: &mut Vec<Hit>) {
    for cls in &ctx.classes {
        // Made once, at import time: one resource for the life of the process.
        if ctx.import_only.contains(cls.name.id.as_str()) {
            continue;
        }
        if opens_something(&ctx.src[cls.range()]) {
            check_class(&cls.body, cls.name.id.as_str(), out);
        }
    }
}

fn check_class(body: &[Stmt], cname: &str, out: &mut Vec<Hit>) {
    let mut stored: Vec<(&str, TextRange, &'static str, String)> = Vec::new();
    let mut closed: HashSet<&str> = HashSet::new();
    let mut handed: HashSet<&str> = HashSet::new();
    // `sock = self.sock` (then `sock.close()`): local name -> attribute.
    let mut aliases: Vec<(&str, &str)> = Vec::new();
    let mut closed_names: HashSet<&str> = HashSet::new();
    a::walk(body, true, &mut |node, _at| match node {
        Node::Stmt(s) => {
            if let Stmt::Assign(x) = s
                && let Some(attr) = a::attr_of(&x.value, "self")
            {
                for t in &x.targets {
                    if let Some(n) = a::name(t) {
                        aliases.push((n, attr));
                    }
                }
            }
            if let Stmt::Assign(x) = s
                && let [Expr::Attribute(t)] = &x.targets[..]
                && a::name(&t.value) == Some("self")
                && let Expr::Call(c) = &*x.value
                && let Some(what) = resource(c)
            {
                stored.push((
                    t.attr.id.as_str(),
                    s.range(),
                    what,
                    a::dotted(&c.func).unwrap_or_default(),
                ));
            }
            if let Stmt::With(w) = s {
                for item in &w.items {
                    if let Expr::Attribute(x) = &item.context_expr {
                        closed.insert(x.attr.id.as_str());
                    }
                }
            }
        }
        Node::Expr(e) => {
            {
                if let Expr::Call(c) = e {
                    if let Some((recv, m)) = a::method_call(c)
                        && CLOSERS.contains(&m)
                    {
                        match recv {
                            Expr::Attribute(x) => {
                                closed.insert(x.attr.id.as_str());
                            }
                            Expr::Name(n) => {
                                closed_names.insert(n.id.as_str());
                            }
                            _ => {}
                        }
                    }
                    for arg in c.arguments.args.iter() {
                        if let Expr::Attribute(x) = arg {
                            handed.insert(x.attr.id.as_str());
                        }
                    }
                }
                if let Expr::Attribute(x) = e
                    && CLOSERS.contains(&x.attr.id.as_str())
                    && let Expr::Attribute(inner) = &*x.value
                {
                    // `self.f.close` taken as a callback (atexit.register(self.f.close)).
                    closed.insert(inner.attr.id.as_str());
                }
            }
        }
    });
    for (n, attr) in aliases {
        if closed_names.contains(n) {
            closed.insert(attr);
        }
    }
    for (attr, range, what, callee) in stored {
        if closed.contains(attr) || handed.contains(attr) {
            continue;
        }
        out.push(Hit {
            kind: LeakKind::UnclosedResource,
            confidence: Confidence::Medium,
            range,
            why: format!(
                "self.{attr} = {callee}(...) keeps {} on the instance, and no method of {cname} ever closes self.{attr}.",
                article(what)
            ),
            fix: format!("Here: close self.{attr} in close()/__exit__ (and make the class a context manager)."),
            rule: "unclosed-attribute",
        });
    }
}

/// Report resources opened outside `with` and never closed.
pub fn check(ctx: &Ctx, out: &mut Vec<Hit>) {
    super::unbounded_collection::container_hits(ctx, LeakKind::UnclosedResource, out);
    for f in &ctx.functions {
        if opens_something(&ctx.src[f.range()]) {
            check_function(f, out);
        }
    }
    check_attributes(ctx, out);
}

/// "a file", "an executor".
fn article(what: &str) -> String {
    if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {what}")
    } else {
        format!("a {what}")
    }
}
