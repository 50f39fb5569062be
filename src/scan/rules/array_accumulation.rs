//! array_accumulation: a tensor (a model output, a `loss`, anything `.backward()` was called
//! on) appended or summed without `.detach()`/`.item()`, keeping its autograd graph alive.

use super::unbounded_collection::container_hits;
use super::{Ctx, Hit};
use crate::leak_kind::{Confidence, LeakKind};
use crate::scan::ast::{self as a, Node};
use crate::scan::model;
use ruff_python_ast::{Expr, Operator, Stmt};
use ruff_text_size::Ranged;

/// Methods and functions whose result is a plain number or a detached copy.
const SAFE: &[&str] = &[
    "item", "detach", "tolist", "numpy", "float", "int", "len", "str", "round",
];

fn tensor_name(n: &str) -> bool {
    let n = n.trim_start_matches('_');
    n == "loss"
        || n.ends_with("_loss")
        || n.starts_with("loss_")
        || matches!(
            n,
            "logits" | "output" | "outputs" | "pred" | "preds" | "prediction" | "predictions"
        )
}

fn model_call(e: &Expr) -> bool {
    match e {
        Expr::Call(c) => match a::dotted(&c.func) {
            Some(d) => {
                let last = d.rsplit('.').next().unwrap_or(&d); // ok: one item at least
                matches!(
                    last,
                    "model" | "net" | "criterion" | "loss_fn" | "forward" | "module"
                ) || last.ends_with("_model")
                    || last.ends_with("loss")
            }
            None => false,
        },
        _ => false,
    }
}

fn backward_on(body: &[Stmt], n: &str) -> bool {
    let mut found = false;
    a::walk(body, false, &mut |node, _at| match node {
        Node::Stmt(_) => {}
        Node::Expr(e) => {
            if let Expr::Call(c) = e
                && let Some((recv, "backward")) = a::method_call(c)
                && a::name(recv) == Some(n)
            {
                found = true;
            }
        }
    });
    found
}

/// True when `v` is a tensor with a graph: a model call, or a name that is a loss/output,
/// was assigned from a model call, or had `.backward()` called on it in `body`.
pub fn is_tensor_value(v: &Expr, body: Option<&[Stmt]>) -> bool {
    if let Expr::Call(c) = v
        && a::callee_last(c).is_some_and(|n| SAFE.contains(&n))
    {
        return false;
    }
    if model_call(v) {
        return true;
    }
    let Some(n) = a::name(v) else { return false };
    if tensor_name(n) {
        return true;
    }
    body.is_some_and(|b| backward_on(b, n) || model::assigned(b, n).iter().any(|x| model_call(x)))
}

fn scopes<'a>(ctx: &Ctx<'a>) -> Vec<&'a [Stmt]> {
    let mut out: Vec<&[Stmt]> = vec![&ctx.module.body];
    out.extend(ctx.functions.iter().map(|f| &f.body[..]));
    out
}

/// Report tensors kept with their graph: in never-pruned containers, and appended or summed
/// inside a loop.
pub fn check(ctx: &Ctx, out: &mut Vec<Hit>) {
    container_hits(ctx, LeakKind::ArrayAccumulation, out);
    if !ctx.tensors {
        return;
    }
    for body in scopes(ctx) {
        a::walk(body, false, &mut |node, at| match node {
            Node::Stmt(s) => {
                if at.loops == 0 {
                    return;
                }
                if let Stmt::AugAssign(x) = s
                    && x.op == Operator::Add
                    && is_tensor_value(&x.value, Some(body))
                {
                    out.push(Hit {
                        kind: LeakKind::ArrayAccumulation,
                        confidence: Confidence::High,
                        range: s.range(),
                        why: format!(
                            "`{}` is a tensor with its autograd graph, summed with += inside a loop, so every step's graph stays reachable.",
                            &ctx.src[x.value.range()]
                        ),
                        fix: "Here: add `.item()` (or `.detach()`) to the summed value.".into(),
                        rule: "tensor-summed",
                    });
                }
            }
            Node::Expr(e) => {
                if at.loops == 0 {
                    return;
                }
                if let Expr::Call(c) = e
                    && let Some((_, "append" | "extend")) = a::method_call(c)
                    && let Some(v) = c.arguments.args.first()
                    && is_tensor_value(v, Some(body))
                {
                    out.push(Hit {
                        kind: LeakKind::ArrayAccumulation,
                        confidence: Confidence::High,
                        range: e.range(),
                        why: format!(
                            "`{}` is a tensor with its autograd graph, appended inside a loop without .detach()/.item().",
                            &ctx.src[v.range()]
                        ),
                        fix: "Here: append `.item()` for a scalar or `.detach().cpu()` for a tensor.".into(),
                        rule: "tensor-appended",
                    });
                }
            }
        });
    }
}
