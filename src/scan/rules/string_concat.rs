//! string_concat: a `str`/`bytes` that lives long and grows by `+=` without bound: an
//! attribute grown in a method and never reset, a module global grown in a function and never
//! reset, or a local grown inside a loop that never ends.
//!
//! A local built in one call and returned or dropped is not reported: it is freed with the
//! call, and CPython resizes it in place while nothing else refers to it (at worst the build is
//! quadratic, which is a speed matter, not a leak).

use super::{Ctx, Hit};
use crate::leak_kind::{Confidence, LeakKind};
use crate::scan::ast::{self as a, Node};
use ruff_python_ast::comparable::ComparableExpr;
use ruff_python_ast::{Expr, Operator, Stmt, StmtFunctionDef};
use ruff_text_size::{Ranged, TextRange};
use std::collections::{HashMap, HashSet};

/// Methods that run once per object: growth there is bounded.
const INIT_LIKE: &[&str] = &[
    "__init__",
    "__new__",
    "__post_init__",
    "setUp",
    "setUpClass",
];

fn string_init(e: &Expr) -> bool {
    a::is_stringy(e) || matches!(e, Expr::BytesLiteral(_))
}

/// True for a literal that is not a string (`0`, `None`, `[]`): the name is not (only) text.
fn other_literal(e: &Expr) -> bool {
    matches!(
        e,
        Expr::NumberLiteral(_)
            | Expr::BooleanLiteral(_)
            | Expr::NoneLiteral(_)
            | Expr::List(_)
            | Expr::Dict(_)
            | Expr::Set(_)
            | Expr::Tuple(_)
    )
}

/// The piece added when `value` is `target` extended at its end: `x = x + y`,
/// `x = "".join((x, y))`, `x = "%s%s" % (x, y)`.
fn extends_itself<'a>(target: &Expr, value: &'a Expr) -> Option<&'a Expr> {
    let same = |e: &Expr| ComparableExpr::from(e) == ComparableExpr::from(target);
    match value {
        Expr::BinOp(b) if b.op == Operator::Add && same(&b.left) => Some(&b.right),
        Expr::BinOp(b)
            if b.op == Operator::Mod
                && matches!(&*b.left, Expr::StringLiteral(_))
                && matches!(&*b.right, Expr::Tuple(t) if t.elts.first().is_some_and(same)) =>
        {
            Some(value)
        }
        Expr::Call(c)
            if a::method_call(c).is_some_and(|(r, m)| {
                m == "join" && matches!(r, Expr::StringLiteral(_) | Expr::BytesLiteral(_))
            }) =>
        {
            let first = match c.arguments.args.first()? {
                Expr::Tuple(t) => t.elts.first(),
                Expr::List(t) => t.elts.first(),
                _ => None,
            }?;
            same(first).then_some(value)
        }
        _ => None,
    }
}

/// The plain names and `recv.attr` attributes an assignment target binds.
fn bound<'a>(t: &'a Expr, out: &mut Vec<&'a Expr>) {
    match t {
        Expr::Tuple(x) => x.elts.iter().for_each(|e| bound(e, out)),
        Expr::List(x) => x.elts.iter().for_each(|e| bound(e, out)),
        Expr::Starred(x) => bound(&x.value, out),
        e => out.push(e),
    }
}

/// One attribute or global: where it grows, whether it is text, whether it is reset.
#[derive(Default)]
struct Text<'a> {
    /// `+=` statements outside once-per-object methods: (statement, the function).
    grows: Vec<(TextRange, &'a str, &'a Expr)>,
    /// Assigned a string or bytes literal somewhere.
    text: bool,
    /// Assigned a literal of another type somewhere.
    other: bool,
    /// Assigned or deleted where growth can follow (a reset or a truncation).
    reset: bool,
}

impl Text<'_> {
    fn is_text(&self) -> bool {
        !self.other && (self.text || self.grows.iter().any(|(_, _, v)| string_init(v)))
    }
}

/// Attributes of `self` set, deleted or grown in the methods of one class.
fn class_texts<'a>(
    ctx: &Ctx<'a>,
    cls: &'a ruff_python_ast::StmtClassDef,
) -> HashMap<&'a str, Text<'a>> {
    let mut texts: HashMap<&str, Text> = HashMap::new();
    for s in &cls.body {
        if let Stmt::Assign(x) = s {
            for t in &x.targets {
                if let Some(n) = a::name(t) {
                    let e = texts.entry(n).or_default();
                    e.text |= string_init(&x.value);
                    e.other |= other_literal(&x.value);
                }
            }
        }
    }
    for f in a::defs_in(&cls.body) {
        if a::has_decorator(f, &["staticmethod"]) {
            continue;
        }
        let Some(me) = a::first_param(f) else {
            continue;
        };
        let once = INIT_LIKE.contains(&f.name.id.as_str());
        // A reset that runs only at shutdown, or that nothing calls, resets nothing.
        let live = ctx.calls.idle(Some(f)).is_none();
        let fname = f.name.id.as_str();
        a::walk(&f.body, false, &mut |node, _at| {
            let Node::Stmt(s) = node else { return };
            match s {
                Stmt::AugAssign(x) => {
                    if let Some(n) = a::attr_of(&x.target, me) {
                        let e = texts.entry(n).or_default();
                        if x.op == Operator::Add {
                            if !once {
                                e.grows.push((s.range(), fname, &x.value));
                            }
                        } else {
                            e.other = true;
                        }
                    }
                }
                Stmt::Assign(x) => {
                    if let [t] = &x.targets[..]
                        && let Some(n) = a::attr_of(t, me)
                        && let Some(piece) = extends_itself(t, &x.value)
                    {
                        if !once {
                            texts
                                .entry(n)
                                .or_default()
                                .grows
                                .push((s.range(), fname, piece));
                        }
                        return;
                    }
                    let mut ts = Vec::new();
                    x.targets.iter().for_each(|t| bound(t, &mut ts));
                    for t in ts {
                        if let Some(n) = a::attr_of(t, me) {
                            let e = texts.entry(n).or_default();
                            e.text |= string_init(&x.value);
                            e.other |= other_literal(&x.value);
                            e.reset |= !once && live;
                        }
                    }
                }
                Stmt::AnnAssign(x) => {
                    if let Some(n) = a::attr_of(&x.target, me)
                        && let Some(v) = &x.value
                    {
                        let e = texts.entry(n).or_default();
                        e.text |= string_init(v);
                        e.other |= other_literal(v);
                        e.reset |= !once && live;
                    }
                }
                Stmt::Delete(d) => {
                    for t in &d.targets {
                        if let Some(n) = a::attr_of(t, me) {
                            texts.entry(n).or_default().reset |= live;
                        }
                    }
                }
                _ => {}
            }
        });
    }
    texts
}

/// Attribute names assigned or deleted through another receiver (`conn.buf = b""`): the
/// attribute is managed from outside its class.
fn foreign_resets(body: &[Stmt]) -> HashSet<&str> {
    fn note<'a>(t: &'a Expr, out: &mut HashSet<&'a str>) {
        if let Expr::Attribute(x) = t
            && !matches!(a::name(&x.value), Some("self" | "cls"))
        {
            out.insert(x.attr.id.as_str());
        }
    }
    let mut out = HashSet::new();
    a::walk(body, true, &mut |node, _at| match node {
        Node::Stmt(Stmt::Assign(x)) => {
            let mut ts = Vec::new();
            x.targets.iter().for_each(|t| bound(t, &mut ts));
            ts.into_iter().for_each(|t| note(t, &mut out));
        }
        Node::Stmt(Stmt::Delete(d)) => d.targets.iter().for_each(|t| note(t, &mut out)),
        _ => {}
    });
    out
}

/// Module names given a string at module level, grown by `+=` under `global` in functions.
fn global_texts<'a>(ctx: &Ctx<'a>) -> HashMap<&'a str, Text<'a>> {
    let mut texts: HashMap<&str, Text> = HashMap::new();
    for s in &ctx.module.body {
        if let Stmt::Assign(x) = s {
            for t in &x.targets {
                if let Some(n) = a::name(t) {
                    let e = texts.entry(n).or_default();
                    e.text |= string_init(&x.value);
                    e.other |= other_literal(&x.value);
                }
            }
        }
    }
    texts.retain(|_, t| t.text);
    if texts.is_empty() {
        return texts;
    }
    for f in &ctx.functions {
        let mut globals: HashSet<&str> = HashSet::new();
        a::walk(&f.body, false, &mut |node, _at| {
            if let Node::Stmt(Stmt::Global(g)) = node {
                globals.extend(g.names.iter().map(|n| n.id.as_str()));
            }
        });
        globals.retain(|n| texts.contains_key(n));
        if globals.is_empty() {
            continue;
        }
        let fname = f.name.id.as_str();
        let live = ctx.calls.idle(Some(f)).is_none();
        a::walk(&f.body, false, &mut |node, _at| {
            let Node::Stmt(s) = node else { return };
            match s {
                Stmt::AugAssign(x) => {
                    if let Some(n) = a::name(&x.target)
                        && globals.contains(n)
                        && let Some(e) = texts.get_mut(n)
                    {
                        if x.op == Operator::Add {
                            e.grows.push((s.range(), fname, &x.value));
                        } else {
                            e.other = true;
                        }
                    }
                }
                Stmt::Assign(x) => {
                    if let [t] = &x.targets[..]
                        && let Some(n) = a::name(t)
                        && globals.contains(n)
                        && let Some(piece) = extends_itself(t, &x.value)
                        && let Some(e) = texts.get_mut(n)
                    {
                        e.grows.push((s.range(), fname, piece));
                        return;
                    }
                    let mut ts = Vec::new();
                    x.targets.iter().for_each(|t| bound(t, &mut ts));
                    for t in ts {
                        if let Some(n) = a::name(t)
                            && globals.contains(n)
                            && let Some(e) = texts.get_mut(n)
                        {
                            e.reset |= live;
                            e.other |= other_literal(&x.value);
                        }
                    }
                }
                Stmt::Delete(d) => {
                    for t in &d.targets {
                        if let Some(n) = a::name(t)
                            && globals.contains(n)
                            && let Some(e) = texts.get_mut(n)
                        {
                            e.reset |= live;
                        }
                    }
                }
                _ => {}
            }
        });
    }
    texts
}

/// True for `while True:` / `while 1:`.
fn endless(test: &Expr) -> bool {
    match test {
        Expr::BooleanLiteral(b) => b.value,
        Expr::NumberLiteral(n) => n.value.as_int().and_then(|i| i.as_u8()) == Some(1),
        _ => false,
    }
}

/// True when a loop body can leave the loop: a `break` of this loop, or a `return`.
fn exits(body: &[Stmt]) -> bool {
    fn go(body: &[Stmt], depth: u32) -> bool {
        body.iter().any(|s| match s {
            Stmt::Break(_) => depth == 0,
            Stmt::Return(_) => true,
            Stmt::For(f) => go(&f.body, depth + 1) || go(&f.orelse, depth),
            Stmt::While(w) => go(&w.body, depth + 1) || go(&w.orelse, depth),
            Stmt::If(i) => {
                go(&i.body, depth) || i.elif_else_clauses.iter().any(|c| go(&c.body, depth))
            }
            Stmt::Try(t) => {
                go(&t.body, depth)
                    || go(&t.orelse, depth)
                    || go(&t.finalbody, depth)
                    || t.handlers.iter().any(|h| match h {
                        ruff_python_ast::ExceptHandler::ExceptHandler(h) => go(&h.body, depth),
                    })
            }
            Stmt::With(w) => go(&w.body, depth),
            Stmt::Match(m) => m.cases.iter().any(|c| go(&c.body, depth)),
            _ => false,
        })
    }
    go(body, 0)
}

/// Locals grown by `+=` inside a `while True:` that never exits and never resets them.
fn endless_locals<'a>(f: &'a StmtFunctionDef, out: &mut Vec<(TextRange, String)>) {
    let mut loops: Vec<&'a ruff_python_ast::StmtWhile> = Vec::new();
    a::walk(&f.body, false, &mut |node, _at| {
        if let Node::Stmt(Stmt::While(w)) = node
            && endless(&w.test)
            && !exits(&w.body)
        {
            loops.push(w);
        }
    });
    for w in loops {
        let inits = |n: &str| crate::scan::model::assigned(&f.body, n);
        let mut reset: HashSet<&str> = HashSet::new();
        let mut grown: Vec<(TextRange, &str, &Expr)> = Vec::new();
        a::walk(&w.body, false, &mut |node, _at| match node {
            Node::Stmt(Stmt::Assign(x)) => {
                let mut ts = Vec::new();
                x.targets.iter().for_each(|t| bound(t, &mut ts));
                reset.extend(ts.into_iter().filter_map(a::name));
            }
            Node::Stmt(Stmt::AugAssign(x)) if x.op == Operator::Add => {
                if let Some(n) = a::name(&x.target) {
                    grown.push((x.range(), n, &x.value));
                }
            }
            _ => {}
        });
        let mut seen = HashSet::new();
        for (range, n, v) in grown {
            if reset.contains(n) || !seen.insert(n) {
                continue;
            }
            let vals = inits(n);
            let text = if vals.is_empty() {
                a::is_stringy(v)
            } else {
                vals.iter().all(|v| string_init(v))
            };
            if text {
                out.push((range, n.to_string()));
            }
        }
    }
}

/// Report long-lived strings grown by `+=`.
pub fn check(ctx: &Ctx, out: &mut Vec<Hit>) {
    let fix = |label: &str| {
        format!(
            "Here: reset or truncate {label} where it is consumed, or keep the pieces in a list (a deque(maxlen=N) to bound it) and ''.join() them when the text is needed, instead of `{label} += ...` for as long as it lives."
        )
    };
    let mut foreign: Option<HashSet<&str>> = None;
    for &cls in &ctx.classes {
        let cname = cls.name.id.as_str();
        if super::is_exception_class(ctx, cname) || super::is_test_class(cls) {
            continue; // An error's text lives while it is handled; a test case for one test.
        }
        let text = &ctx.src[cls.range()];
        if !text.contains("+=")
            && !text.contains("join(")
            && !text.contains(" + ")
            && !text.contains(" % (")
        {
            continue; // Nothing grows here (a cheap test before the walk).
        }
        let classmethods: HashSet<&str> = a::defs_in(&cls.body)
            .into_iter()
            .filter(|f| a::has_decorator(f, &["classmethod"]))
            .map(|f| f.name.id.as_str())
            .collect();
        let singleton = ctx.singletons.contains(cname);
        let mut texts: Vec<(&str, Text)> = class_texts(ctx, cls).into_iter().collect();
        texts.sort_by_key(|(_, t)| t.grows.first().map(|g| g.0.start()));
        for (n, t) in texts {
            let Some(&(range, func, _)) = t.grows.first() else {
                continue;
            };
            if t.reset || !t.is_text() {
                continue;
            }
            // Grown through `cls`: the class's own text, as lasting as the class.
            let lasting = singleton || classmethods.contains(func);
            if foreign
                .get_or_insert_with(|| foreign_resets(&ctx.module.body))
                .contains(n)
            {
                continue;
            }
            let owner = if lasting {
                format!(", and {cname} is instantiated at import time")
            } else {
                String::new()
            };
            out.push(Hit {
                kind: LeakKind::StringConcat,
                confidence: if lasting {
                    Confidence::High
                } else {
                    Confidence::Medium
                },
                range,
                why: format!(
                    "self.{n} is text grown by += in {cname}.{func}() and never reset or truncated by any method of {cname}{owner}: the attribute keeps everything ever added, and every step copies it."
                ),
                fix: fix(&format!("self.{n}")),
                rule: "str-plus-equals",
            });
        }
    }
    let mut globals: Vec<(&str, Text)> = global_texts(ctx).into_iter().collect();
    globals.sort_by_key(|(_, t)| t.grows.first().map(|g| g.0.start()));
    for (n, t) in globals {
        let Some(&(range, func, _)) = t.grows.first() else {
            continue;
        };
        if t.reset || !t.is_text() {
            continue;
        }
        out.push(Hit {
            kind: LeakKind::StringConcat,
            confidence: Confidence::High,
            range,
            why: format!(
                "the module global {n} is text grown by += in {func}() and no function ever resets or truncates it: the module keeps everything ever added, and every step copies it."
            ),
            fix: fix(n),
            rule: "str-plus-equals",
        });
    }
    for &f in &ctx.functions {
        let text = &ctx.src[f.range()];
        if !text.contains("+=") || !(text.contains("while True") || text.contains("while 1")) {
            continue; // No endless loop growing anything (a cheap test before the walk).
        }
        let mut found = Vec::new();
        endless_locals(f, &mut found);
        for (range, n) in found {
            out.push(Hit {
                kind: LeakKind::StringConcat,
                confidence: Confidence::Medium,
                range,
                why: format!(
                    "{n} is text grown by += inside a `while True:` loop of {}() that never exits and never resets it: it keeps everything ever added for as long as the loop runs.",
                    f.name.id.as_str()
                ),
                fix: fix(&n),
                rule: "str-plus-equals",
            });
        }
    }
}
