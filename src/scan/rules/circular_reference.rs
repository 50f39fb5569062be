//! circular_reference: a method that stores another object on `self` and `self` on that
//! object (`self.parent = parent; parent.children.append(self)`), with no weakref between.

use super::{Ctx, Hit};
use crate::leak_kind::{Confidence, LeakKind};
use crate::scan::ast::{self as a, Node};
use ruff_python_ast::{Expr, Stmt, StmtClassDef};
use ruff_text_size::{Ranged, TextRange};
use std::collections::HashMap;

const STORE: &[&str] = &["append", "add", "insert", "setdefault", "appendleft"];

/// The name stored in `e` when it is `self.attr` (or `self.attr[...]`) on self `me`.
fn self_slot(e: &Expr, me: &str) -> Option<String> {
    match e {
        Expr::Attribute(x) if a::name(&x.value) == Some(me) => Some(x.attr.id.as_str().to_string()),
        Expr::Attribute(x) => self_slot(&x.value, me),
        Expr::Subscript(x) => self_slot(&x.value, me),
        _ => None,
    }
}

/// The base name and attribute path of `other.attr...` when `other` is not `me`.
fn other_slot<'e>(e: &'e Expr, me: &str) -> Option<(&'e str, String)> {
    match e {
        Expr::Attribute(x) => match a::name(&x.value) {
            Some(n) if n != me => Some((n, x.attr.id.as_str().to_string())),
            Some(_) => None,
            None => other_slot(&x.value, me),
        },
        Expr::Subscript(x) => other_slot(&x.value, me),
        _ => None,
    }
}

/// Methods that break links by hand.
const BREAKERS: &[&str] = &[
    "unlink", "destroy", "close", "dispose", "detach", "cleanup", "release", "remove",
];

/// The breaker method of `cls` or of a base class defined in the same file, if any.
fn breaker<'a>(ctx: &Ctx<'a>, cls: &'a StmtClassDef, depth: u32) -> Option<&'a str> {
    if let Some(f) = a::defs_in(&cls.body)
        .into_iter()
        .find(|f| BREAKERS.contains(&f.name.id.as_str()) && ctx.calls.idle(Some(f)).is_none())
    {
        return Some(f.name.id.as_str());
    }
    if depth > 4 {
        return None;
    }
    let args = cls.arguments.as_ref()?;
    args.args.iter().find_map(|b| {
        let n = a::dotted(b)?;
        let base = ctx.classes.iter().find(|c| c.name.id.as_str() == n)?;
        breaker(ctx, base, depth + 1)
    })
}

/// True when some method of the class deletes or clears a link by hand: `del x.attr` or
/// `x.attr = None` for the attribute holding self on the other object, or `del self.slot` /
/// `self.slot = None` for the one holding the other object.
fn links_broken<'a>(ctx: &Ctx, cls: &'a StmtClassDef, attr: &str, slot: &str) -> Option<&'a str> {
    let hit = |t: &Expr| match t {
        Expr::Attribute(x) => {
            let n = x.attr.id.as_str();
            n == attr || (n == slot && a::name(&x.value) == Some("self"))
        }
        _ => false,
    };
    a::defs_in(&cls.body).into_iter().find_map(|f| {
        // Setting a link to None while building the object, or in code that never runs while
        // serving, breaks nothing.
        if matches!(f.name.id.as_str(), "__init__" | "__new__" | "__post_init__")
            || ctx.calls.idle(Some(f)).is_some()
        {
            return None;
        }
        let mut broken = false;
        a::walk(&f.body, false, &mut |node, _at| match node {
            Node::Stmt(Stmt::Delete(d)) => broken |= d.targets.iter().any(hit),
            Node::Stmt(Stmt::Assign(x)) if a::is_none(&x.value) => {
                broken |= x.targets.iter().any(hit)
            }
            _ => {}
        });
        broken.then(|| f.name.id.as_str())
    })
}

/// Report parent/child links made strong in both directions.
pub fn check(ctx: &Ctx, out: &mut Vec<Hit>) {
    let gc_off = collector_off(ctx);
    for &cls in &ctx.classes {
        // A back-pointer to an object made only at import time (`Logger.manager =
        // Manager()`) ties each child to something that lives forever anyway: no cycle
        // that could ever be collected is made.
        if ctx.import_only.contains(cls.name.id.as_str()) {
            continue;
        }
        let mut unlink: Option<Option<&str>> = None;
        for f in a::defs_in(&cls.body) {
            let Some(me) = a::first_param(f) else {
                continue;
            };
            if a::has_decorator(f, &["staticmethod", "classmethod"]) {
                continue;
            }
            // other name -> self attribute holding it
            let mut held: HashMap<&str, String> = HashMap::new();
            // other name -> (attribute of other holding self, where)
            let mut back: Vec<(&str, String, TextRange)> = Vec::new();
            a::walk(&f.body, false, &mut |node, _at| match node {
                Node::Stmt(s) => {
                    if let Stmt::Assign(x) = s {
                        for t in &x.targets {
                            if let Some(n) = a::name(&x.value)
                                && n != me
                                && let Some(slot) = self_slot(t, me)
                            {
                                held.insert(n, slot);
                            }
                            if a::name(&x.value) == Some(me)
                                && let Some((n, attr)) = other_slot(t, me)
                            {
                                back.push((n, attr, s.range()));
                            }
                        }
                    }
                }
                Node::Expr(e) => {
                    let Expr::Call(c) = e else { return };
                    let Some((recv, m)) = a::method_call(c) else {
                        return;
                    };
                    if !STORE.contains(&m) {
                        return;
                    }
                    for arg in c.arguments.args.iter() {
                        if a::name(arg) == Some(me)
                            && let Some((n, attr)) = other_slot(recv, me)
                        {
                            back.push((n, attr, e.range()));
                        } else if let Some(n) = a::name(arg)
                            && n != me
                            && let Some(slot) = self_slot(recv, me)
                        {
                            held.insert(n, slot);
                        }
                    }
                }
            });
            for (n, attr, range) in back {
                let Some(slot) = held.get(n) else { continue };
                let (confidence, unlinked) =
                    match *unlink.get_or_insert_with(|| breaker(ctx, cls, 0)) {
                        Some(m) => (
                            Confidence::Low,
                            format!(" unless {m}() is called (it is there to break such links)"),
                        ),
                        None => match links_broken(ctx, cls, &attr, slot) {
                            Some(m) => (
                                Confidence::Low,
                                format!(" unless {m}() runs (it deletes the link)"),
                            ),
                            None if gc_off.is_some() => (
                                Confidence::High,
                                format!(
                                    ", and this program turns that collector off ({})",
                                    gc_off.unwrap_or_default()
                                ),
                            ),
                            None => (Confidence::Medium, String::new()),
                        },
                    };
                out.push(Hit {
                    kind: LeakKind::CircularReference,
                    confidence,
                    range,
                    why: format!(
                        "{}.{}() stores {n} as {me}.{slot} and {me} into {n}.{attr}: a strong cycle between {} and {n} that only the cyclic collector can free{unlinked}.",
                        cls.name.id.as_str(),
                        f.name.id.as_str(),
                        cls.name.id.as_str()
                    ),
                    fix: format!("Here: hold {me}.{slot} as weakref.ref({n}) (or weakref.proxy), or clear the links in close()."),
                    rule: "back-reference",
                });
            }
        }
        if gc_off.is_some() {
            self_bound_methods(ctx, cls, gc_off, out);
        }
    }
}

/// The call that turns the cyclic collector off (`gc.disable()`, `gc.set_threshold(0)`).
fn collector_off(ctx: &Ctx) -> Option<&'static str> {
    if ctx.src.contains("gc.disable()") {
        Some("gc.disable()")
    } else if ctx.src.contains("set_threshold(0") {
        Some("gc.set_threshold(0)")
    } else {
        None
    }
}

/// `self.on_x = self.handle` in a class made per call: instance -> bound method -> instance,
/// a cycle only the collector frees (a leak where the program turns it off).
fn self_bound_methods(ctx: &Ctx, cls: &StmtClassDef, gc_off: Option<&str>, out: &mut Vec<Hit>) {
    let methods: Vec<&str> = crate::scan::model::family_of(cls, &ctx.classes)
        .iter()
        .flat_map(|c| a::defs_in(&c.body))
        .map(|f| f.name.id.as_str())
        .collect();
    for f in a::defs_in(&cls.body) {
        let Some(me) = a::first_param(f) else {
            continue;
        };
        if a::has_decorator(f, &["staticmethod", "classmethod"]) {
            continue;
        }
        a::walk(&f.body, false, &mut |node, _| {
            let Node::Stmt(Stmt::Assign(x)) = node else {
                return;
            };
            let Some(m) = a::attr_of(&x.value, me) else {
                return;
            };
            if !methods.contains(&m) {
                return;
            }
            let Some(slot) = x.targets.iter().find_map(|t| a::attr_of(t, me)) else {
                return;
            };
            let (confidence, tail) = match gc_off {
                Some(off) => (
                    Confidence::High,
                    format!(
                        ", and this program turns that collector off ({off}), so every {} made stays",
                        cls.name.id.as_str()
                    ),
                ),
                None => (Confidence::Low, String::new()),
            };
            out.push(Hit {
                kind: LeakKind::CircularReference,
                confidence,
                range: x.range(),
                why: format!(
                    "{}.{}() stores its own bound method {me}.{m} in {me}.{slot}: the instance holds the method and the method holds the instance, a cycle only the cyclic collector frees{tail}.",
                    cls.name.id.as_str(),
                    f.name.id.as_str()
                ),
                fix: format!("Here: call {me}.{m} through a flag or a method that dispatches, or hold weakref.WeakMethod({me}.{m})."),
                rule: "self-bound-method",
            });
        });
    }
}
