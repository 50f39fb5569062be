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
        .find(|f| BREAKERS.contains(&f.name.id.as_str()))
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
fn links_broken<'a>(cls: &'a StmtClassDef, attr: &str, slot: &str) -> Option<&'a str> {
    let hit = |t: &Expr| match t {
        Expr::Attribute(x) => {
            let n = x.attr.id.as_str();
            n == attr || (n == slot && a::name(&x.value) == Some("self"))
        }
        _ => false,
    };
    a::defs_in(&cls.body).into_iter().find_map(|f| {
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
                        None => match links_broken(cls, &attr, slot) {
                            Some(m) => (
                                Confidence::Low,
                                format!(" unless {m}() runs (it deletes the link)"),
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
    }
}
