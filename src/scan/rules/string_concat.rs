//! string_concat: `s += ...` on a string inside a loop, a local or an attribute.

use super::{Ctx, Hit};
use crate::leak_kind::{Confidence, LeakKind};
use crate::scan::ast::{self as a, Node};
use crate::scan::model;
use ruff_python_ast::{Expr, Operator, Stmt};
use ruff_text_size::Ranged;
use std::collections::HashSet;

fn string_init(e: &Expr) -> bool {
    a::is_stringy(e) || matches!(e, Expr::BytesLiteral(_))
}

/// True for a piece made by formatting a value: `str(x)`, `repr(x)`, an f-string with fields,
/// `'...' % x`, `'...'.format(x)`.
fn formats(e: &Expr) -> bool {
    match e {
        Expr::Call(c) => matches!(a::callee_last(c), Some("str" | "repr" | "format")),
        Expr::FString(_) => a::is_built_string(e),
        Expr::BinOp(b) => {
            (b.op == Operator::Mod && matches!(&*b.left, Expr::StringLiteral(_)))
                || formats(&b.left)
                || formats(&b.right)
        }
        _ => false,
    }
}

/// True when `name` is also stored somewhere in `body` (assigned to another target, appended,
/// put in a container), so a second reference defeats CPython's in-place resize.
fn kept_elsewhere(body: &[Stmt], name: &str) -> bool {
    let mut kept = false;
    a::walk(body, false, &mut |node, _at| match node {
        Node::Stmt(Stmt::Assign(x)) if a::name(&x.value) == Some(name) => kept = true,
        Node::Expr(Expr::Call(c))
            if matches!(
                a::callee_last(c),
                Some("append" | "add" | "insert" | "extend" | "setdefault")
            ) && c.arguments.args.iter().any(|v| a::name(v) == Some(name)) =>
        {
            kept = true
        }
        _ => {}
    });
    kept
}

/// Report string building by `+=` in loops.
pub fn check(ctx: &Ctx, out: &mut Vec<Hit>) {
    // Attributes ever assigned a string (`self.buf = ""`) anywhere in the file.
    let mut str_attrs: HashSet<&str> = HashSet::new();
    let mut bodies: Vec<&[Stmt]> = vec![&ctx.module.body];
    bodies.extend(ctx.functions.iter().map(|f| &f.body[..]));
    for f in &ctx.methods_of_classes() {
        for s in &f.body {
            if let Stmt::Assign(x) = s
                && string_init(&x.value)
            {
                for t in &x.targets {
                    if let Some(n) = a::attr_of(t, "self") {
                        str_attrs.insert(n);
                    }
                }
            }
        }
    }
    for body in bodies {
        let mut seen: HashSet<&str> = HashSet::new();
        a::walk(body, false, &mut |node, at| match node {
            Node::Stmt(s) => {
                {
                    let Stmt::AugAssign(x) = s else { return };
                    if x.op != Operator::Add || at.loops == 0 {
                        return;
                    }
                    let (label, local) = if let Some(n) = a::name(&x.target) {
                        (n.to_string(), true)
                    } else if let Some(n) = a::attr_of(&x.target, "self") {
                        (format!("self.{n}"), false)
                    } else {
                        return;
                    };
                    let mut bytes = false;
                    let evidence = if local {
                        let inits = model::assigned(body, &label);
                        if inits.iter().any(|v| !string_init(v)) {
                            return; // Sometimes not a string: a list, a number...
                        }
                        bytes = !inits.is_empty()
                            && inits.iter().all(|v| matches!(v, Expr::BytesLiteral(_)));
                        !inits.is_empty() || a::is_stringy(&x.value)
                    } else {
                        str_attrs.contains(&label[5..]) || a::is_stringy(&x.value)
                    };
                    // Padding and separators (`s += ' '`, `s += '-' * n`) add constants, not data.
                    let constant = match &*x.value {
                        Expr::BinOp(b) => a::is_const(&b.left) || a::is_const(&b.right),
                        v => a::is_const(v),
                    };
                    if local && !bytes && constant {
                        return;
                    }
                    // CPython grows a local str in place while nothing else refers to it, so a
                    // local is reported when it is built by formatting items (the
                    // `result += str(item)` pattern) or when another reference is kept.
                    if local && !bytes && !formats(&x.value) && !kept_elsewhere(body, &label) {
                        return;
                    }
                    if !evidence || !seen.insert(&ctx.src[x.target.range()]) {
                        return;
                    }
                    // CPython resizes a local str in place when nothing else refers to it;
                    // bytes and attributes are copied every time.
                    let (confidence, why) = if bytes {
                        (
                            Confidence::Medium,
                            format!(
                                "{label} is a bytes object rebuilt by += inside a loop: every step copies everything built so far (quadratic)."
                            ),
                        )
                    } else if local {
                        (
                            Confidence::Low,
                            format!(
                                "{label} is a string rebuilt by += inside a loop: each step may copy everything built so far (quadratic when another reference exists)."
                            ),
                        )
                    } else {
                        (
                            Confidence::Medium,
                            format!(
                                "{label} is a string attribute grown by += inside a loop: every step copies the whole text, and the attribute keeps it all."
                            ),
                        )
                    };
                    out.push(Hit {
                        kind: LeakKind::StringConcat,
                        confidence,
                        range: s.range(),
                        why,
                        fix: format!("Here: append the pieces to a list and b''.join()/''.join() them once instead of `{label} += ...`."),
                        rule: "str-plus-equals",
                    });
                }
            }
            Node::Expr(_) => {}
        });
    }
}
