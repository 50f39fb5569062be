//! What a stored value is, from the call that made it: a thread or task, an open resource,
//! an array, a figure or a closure. The kind of a container's leak is decided by what flows
//! into it (through local names, tuples, and the arguments of the file's own callers).

use super::{Ctx, thread_task, unclosed_resource};
use crate::leak_kind::LeakKind;
use crate::scan::ast::{self as a, Node};
use crate::scan::model;
use ruff_python_ast::{Expr, Stmt, StmtFunctionDef};
use ruff_text_size::Ranged;

/// How many callers deep a parameter is followed.
const DEPTH: u8 = 4;

/// The kind that a value stored from `func` gives its container, when what it is decides one.
pub fn value_kind(ctx: &Ctx, v: &Expr, func: Option<&StmtFunctionDef>) -> Option<LeakKind> {
    BUDGET.with(|b| b.set(STEPS));
    kind_at(ctx, v, func, DEPTH)
}

/// How many expressions one question may look at (names assigned from themselves, and
/// callers of callers, would otherwise recurse without end).
const STEPS: u32 = 400;

thread_local! {
    static BUDGET: std::cell::Cell<u32> = const { std::cell::Cell::new(STEPS) };
}

fn kind_at(ctx: &Ctx, v: &Expr, func: Option<&StmtFunctionDef>, depth: u8) -> Option<LeakKind> {
    let spent = BUDGET.with(|b| {
        let left = b.get();
        b.set(left.saturating_sub(1));
        left == 0
    });
    if spent {
        return None;
    }
    match v {
        Expr::Lambda(_) => Some(LeakKind::ClosureCapture),
        Expr::Tuple(t) => best(t.elts.iter().filter_map(|e| kind_at(ctx, e, func, depth))),
        Expr::List(t) => best(t.elts.iter().filter_map(|e| kind_at(ctx, e, func, depth))),
        Expr::Dict(d) => best(
            d.items
                .iter()
                .filter_map(|i| kind_at(ctx, &i.value, func, depth)),
        ),
        Expr::ListComp(x) => kind_at(ctx, &x.elt, func, depth),
        Expr::SetComp(x) => kind_at(ctx, &x.elt, func, depth),
        Expr::DictComp(x) => kind_at(ctx, &x.value, func, depth),
        Expr::Call(c) => call_kind(ctx, c, func, depth),
        // A bound method of a class of this file (`widget.on_click`): a handler.
        Expr::Attribute(x)
            if matches!(&*x.value, Expr::Name(_))
                && ctx
                    .methods_of_classes()
                    .iter()
                    .any(|m| m.name.id == x.attr.id) =>
        {
            Some(LeakKind::EventHandler)
        }
        // `x @ w` is an array product; other arithmetic is an array when a side is one.
        Expr::BinOp(b)
            if b.op == ruff_python_ast::Operator::MatMult && !ctx.array_modules.is_empty() =>
        {
            Some(LeakKind::ArrayAccumulation)
        }
        Expr::BinOp(b) => {
            let side = |e: &Expr| kind_at(ctx, e, func, depth) == Some(LeakKind::ArrayAccumulation);
            (side(&b.left) || side(&b.right)).then_some(LeakKind::ArrayAccumulation)
        }
        Expr::Name(n) => {
            let n = n.id.as_str();
            let f = func?;
            // An inner function: a closure over the caller's locals.
            if a::defs_in(&f.body).iter().any(|d| d.name.id.as_str() == n) {
                return Some(LeakKind::ClosureCapture);
            }
            if a::first_param(f) == Some(n) && ctx.methods.contains(&f.range()) {
                return thread_class_of(ctx, f).then_some(LeakKind::ThreadTask);
            }
            let assigned = assigned_any(&f.body, n);
            // A local list filled here (`tasks = []; tasks.append(t)`): what goes in.
            if assigned
                .iter()
                .any(|(x, _)| model::container_init(x).is_some())
            {
                let filled = filled_with(&f.body, n);
                if let Some(k) = best(filled.iter().filter_map(|x| kind_at(ctx, x, func, depth))) {
                    return Some(k);
                }
            }
            if !assigned.is_empty() {
                return best(
                    assigned
                        .iter()
                        .filter_map(|(x, pos)| kind_in(ctx, x, *pos, func, depth)),
                );
            }
            if depth == 0 {
                return None;
            }
            let pos = param_index(f, n)?;
            best(
                callers(ctx, f, pos, n)
                    .into_iter()
                    .filter_map(|(arg, caller)| kind_at(ctx, arg, caller, depth - 1)),
            )
        }
        _ => None,
    }
}

/// The most telling of several kinds (a thread over a closure over an array...).
fn best(kinds: impl Iterator<Item = LeakKind>) -> Option<LeakKind> {
    kinds.min_by_key(|k| {
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
        .unwrap_or(usize::MAX)
    })
}

fn call_kind(
    ctx: &Ctx,
    c: &ruff_python_ast::ExprCall,
    func: Option<&StmtFunctionDef>,
    depth: u8,
) -> Option<LeakKind> {
    let v = Expr::Call(c.clone());
    if thread_task::is_thread_value(&v, None) || local_thread_class(ctx, c) {
        return Some(LeakKind::ThreadTask);
    }
    if unclosed_resource::resource(c).is_some() {
        return Some(LeakKind::UnclosedResource);
    }
    let dotted = a::dotted(&c.func).unwrap_or_default();
    let last = dotted.rsplit('.').next().unwrap_or(&dotted); // ok: one item at least
    if last == "partial" {
        return Some(LeakKind::ClosureCapture);
    }
    if figure_call(ctx, &dotted) {
        return Some(LeakKind::FigureAccumulation);
    }
    if array_call(ctx, &dotted) {
        return Some(LeakKind::ArrayAccumulation);
    }
    // A random generator's draws are arrays (`rng.normal(...)`, `self._rng.standard_normal`).
    if !ctx.array_modules.is_empty()
        && let Some((recv, _)) = dotted.rsplit_once('.')
        && recv
            .rsplit('.')
            .next()
            .is_some_and(|r| r.to_ascii_lowercase().contains("rng"))
    {
        return Some(LeakKind::ArrayAccumulation);
    }
    // A method of an array is an array (`np.square(e).mean(axis=1)`, `x.copy()`).
    if let Expr::Attribute(at) = &*c.func
        && !matches!(
            at.attr.id.as_str(),
            "item" | "tolist" | "sum" | "any" | "all"
        )
        && kind_at(ctx, &at.value, func, depth) == Some(LeakKind::ArrayAccumulation)
    {
        return Some(LeakKind::ArrayAccumulation);
    }
    // A function or method of this file: what it returns.
    if depth > 0 {
        return best(
            returns_of(ctx, c)
                .into_iter()
                .filter_map(|(r, f)| kind_at(ctx, r, Some(f), depth - 1)),
        );
    }
    None
}

/// The kind of element `pos` of what `v` gives (`a, b = v`), or of `v` itself.
fn kind_in(
    ctx: &Ctx,
    v: &Expr,
    pos: Option<usize>,
    func: Option<&StmtFunctionDef>,
    depth: u8,
) -> Option<LeakKind> {
    let Some(i) = pos else {
        return kind_at(ctx, v, func, depth);
    };
    match v {
        Expr::Tuple(t) => t.elts.get(i).and_then(|e| kind_at(ctx, e, func, depth)),
        Expr::Call(c) if depth > 0 => best(returns_of(ctx, c).into_iter().filter_map(|(r, f)| {
            match r {
                Expr::Tuple(t) => t
                    .elts
                    .get(i)
                    .and_then(|e| kind_at(ctx, e, Some(f), depth - 1)),
                r => kind_at(ctx, r, Some(f), depth - 1),
            }
        })),
        v => kind_at(ctx, v, func, depth),
    }
}

/// The returned expressions of the file's functions a call may run (by name; a method name
/// shared by more than three definitions is not followed).
fn returns_of<'a>(
    ctx: &Ctx<'a>,
    c: &ruff_python_ast::ExprCall,
) -> Vec<(&'a Expr, &'a StmtFunctionDef)> {
    let Some(name) = a::callee_last(c) else {
        return Vec::new();
    };
    let defs: Vec<&StmtFunctionDef> = ctx
        .functions
        .iter()
        .copied()
        .filter(|f| f.name.id.as_str() == name)
        .collect();
    if defs.len() > 3
        || (matches!(&*c.func, Expr::Name(_))
            && defs.iter().any(|f| ctx.methods.contains(&f.range())))
    {
        return Vec::new();
    }
    let mut out = Vec::new();
    for f in defs {
        a::walk(&f.body, false, &mut |node, _| {
            if let Node::Stmt(Stmt::Return(r)) = node
                && let Some(v) = &r.value
            {
                out.push((&**v, f));
            }
        });
    }
    out
}

/// True for a call that makes a matplotlib figure.
fn figure_call(ctx: &Ctx, dotted: &str) -> bool {
    let (module, last) = dotted.rsplit_once('.').unwrap_or(("", dotted));
    let pyplot = ctx.pyplot.iter().any(|p| p == module)
        || ctx.pyplot.iter().any(|p| p.strip_prefix('=') == Some(last)) && module.is_empty();
    (pyplot && matches!(last, "figure" | "subplots" | "subplot_mosaic"))
        || (last == "Figure" && (module.is_empty() || module.ends_with("figure")) && ctx.mpl_figure)
}

/// True for a call into numpy, torch or the `array` module that makes an array.
fn array_call(ctx: &Ctx, dotted: &str) -> bool {
    let root = dotted.split('.').next().unwrap_or(dotted); // ok: one item at least
    let last = dotted.rsplit('.').next().unwrap_or(dotted); // ok: one item at least
    if matches!(
        last,
        "item"
            | "seed"
            | "default_rng"
            | "RandomState"
            | "Generator"
            | "dtype"
            | "shape"
            | "isscalar"
    ) {
        return false;
    }
    (dotted.contains('.') && ctx.array_modules.iter().any(|m| m == root))
        || (!dotted.contains('.') && ctx.array_names.iter().any(|m| m == dotted))
}

/// True when `c` makes an instance of a class of this file that derives from a thread.
fn local_thread_class(ctx: &Ctx, c: &ruff_python_ast::ExprCall) -> bool {
    let Some(n) = a::callee_last(c) else {
        return false;
    };
    derives_thread(ctx, n, 4)
}

fn derives_thread(ctx: &Ctx, class: &str, depth: u8) -> bool {
    ctx.classes
        .iter()
        .filter(|c| c.name.id.as_str() == class)
        .any(|c| {
            c.arguments.as_ref().is_some_and(|args| {
                args.args.iter().any(|b| {
                    a::dotted(b).is_some_and(|d| {
                        let last = d.rsplit('.').next().unwrap_or(&d); // ok: one item at least
                        matches!(last, "Thread" | "Process" | "Timer")
                            || (depth > 0 && last != class && derives_thread(ctx, last, depth - 1))
                    })
                })
            })
        })
}

/// True when method `f` belongs to a class that is a thread.
fn thread_class_of(ctx: &Ctx, f: &StmtFunctionDef) -> bool {
    ctx.classes
        .iter()
        .find(|c| a::defs_in(&c.body).iter().any(|m| m.range == f.range))
        .is_some_and(|c| derives_thread(ctx, c.name.id.as_str(), 4))
}

/// Values assigned to `n` in a body, with the position of `n` when the target is a tuple
/// (`fig, ax = plt.subplots()` gives the call and 0).
fn assigned_any<'a>(body: &'a [Stmt], n: &str) -> Vec<(&'a Expr, Option<usize>)> {
    let mut out: Vec<(&Expr, Option<usize>)> = model::assigned(body, n)
        .into_iter()
        .map(|v| (v, None))
        .collect();
    a::walk(body, false, &mut |node, _| {
        if let Node::Stmt(Stmt::Assign(x)) = node {
            for t in &x.targets {
                if let Expr::Tuple(tu) = t
                    && let Some(i) = tu.elts.iter().position(|e| a::name(e) == Some(n))
                {
                    out.push((&x.value, Some(i)));
                }
            }
        }
    });
    out
}

/// What a body adds to the local container `n` (`n.append(v)`, `n.add(v)`, `n[k] = v`).
fn filled_with<'a>(body: &'a [Stmt], n: &str) -> Vec<&'a Expr> {
    let mut out = Vec::new();
    a::walk(body, false, &mut |node, _| match node {
        Node::Expr(Expr::Call(c)) => {
            if let Some((recv, m)) = a::method_call(c)
                && a::name(recv) == Some(n)
                && matches!(m, "append" | "add" | "appendleft")
                && let Some(v) = c.arguments.args.first()
            {
                out.push(v);
            }
        }
        Node::Stmt(Stmt::Assign(x))
            if x.targets
                .iter()
                .any(|t| matches!(t, Expr::Subscript(sub) if a::name(&sub.value) == Some(n))) =>
        {
            out.push(&x.value);
        }
        _ => {}
    });
    out
}

/// The position of parameter `n` among a function's positional parameters, not counting
/// `self`/`cls` of a method (None for keyword-only and unknown names).
fn param_index(f: &StmtFunctionDef, n: &str) -> Option<usize> {
    let p = &f.parameters;
    let all: Vec<&str> = p
        .posonlyargs
        .iter()
        .chain(&p.args)
        .map(|x| x.parameter.name.id.as_str())
        .collect();
    let i = all.iter().position(|x| *x == n)?;
    let bound =
        matches!(all.first(), Some(&"self" | &"cls")) && !a::has_decorator(f, &["staticmethod"]);
    Some(if bound { i.checked_sub(1)? } else { i })
}

/// The arguments passed at position `pos` to `f` by the calls in this file that name it,
/// with the function each call is in.
fn callers<'a>(
    ctx: &Ctx<'a>,
    f: &StmtFunctionDef,
    pos: usize,
    name: &str,
) -> Vec<(&'a Expr, Option<&'a StmtFunctionDef>)> {
    let want = f.name.id.as_str();
    let mut out = Vec::new();
    for (c, caller) in ctx.calls_named(want) {
        if c.range() == f.range() {
            continue;
        }
        let arg = c.arguments.args.get(pos).or_else(|| a::keyword(c, name));
        if let Some(arg) = arg {
            out.push((arg, *caller));
        }
    }
    out
}
