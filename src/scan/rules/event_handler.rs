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
            a::walk(&f.body, true, &mut |node, _at| match node {
                Node::Stmt(_s) => {}
                Node::Expr(e) => {
                    let Expr::Call(c) = e else { return };
                    let Some((recv, m)) = a::method_call(c) else {
                        return;
                    };
                    if UNSUBSCRIBE.contains(&m) {
                        unsubscribes = true;
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
                    // An emitter made in this very function dies with it.
                    if let Some(r) = a::name(recv)
                        && !model::assigned(&f.body, r).is_empty()
                    {
                        return;
                    }
                    let target = a::dotted(recv).unwrap_or_else(|| "an emitter".to_string());
                    subs.push(Hit {
                        kind: LeakKind::EventHandler,
                        confidence: if fname == "__init__" { Confidence::High } else { Confidence::Medium },
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
