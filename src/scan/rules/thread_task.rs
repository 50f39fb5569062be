//! thread_task: threads, timers, processes, tasks or futures added to a container that is
//! never pruned.

use super::unbounded_collection::{container_hits, is_call_of};
use super::{Ctx, Hit};
use crate::leak_kind::LeakKind;
use crate::scan::{ast as a, model};
use ruff_python_ast::{Expr, Stmt};

const MAKERS: &[&str] = &[
    "Thread",
    "Timer",
    "Process",
    "create_task",
    "ensure_future",
    "submit",
    "run_coroutine_threadsafe",
    "apply_async",
    "start_new_thread",
];

/// True when `v` is a thread/task, made right there or assigned from a maker in `body`.
pub fn is_thread_value(v: &Expr, body: Option<&[Stmt]>) -> bool {
    if is_call_of(v, MAKERS) {
        return true;
    }
    match (a::name(v), body) {
        (Some(n), Some(body)) => model::assigned(body, n)
            .iter()
            .any(|x| is_call_of(x, MAKERS)),
        _ => false,
    }
}

/// Report thread/task lists that are never pruned.
pub fn check(ctx: &Ctx, out: &mut Vec<Hit>) {
    container_hits(ctx, LeakKind::ThreadTask, out);
}
