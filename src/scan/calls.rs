//! Which functions of a file run while it serves: the ones a program's entry points reach
//! (by name, through calls and references), and the ones that run only at shutdown
//! (`shutdown()`, `close_all()`, `atexit` callbacks), whose clean-up never helps a live process.

use super::ast::{self as a, Node};
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, ModModule, Stmt, StmtClassDef, StmtFunctionDef};
use ruff_text_size::{Ranged, TextRange};
use std::collections::{HashMap, HashSet};

/// Function names that run when a service stops, not while it serves.
const SHUTDOWN: &[&str] = &[
    "shutdown",
    "close_all",
    "closeall",
    "teardown",
    "tear_down",
    "on_shutdown",
    "on_exit",
    "at_exit",
    "atexit",
    "finalize",
    "terminate",
    "dispose",
    "__del__",
    "stop_all",
    "cleanup_all",
];

/// Why a function's clean-up does not run while the program serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idle {
    /// It runs at shutdown only (by its name, or registered with `atexit`).
    Shutdown,
    /// The program defines entry points and none of them reaches it.
    Uncalled,
}

/// The reach of one file's functions.
#[derive(Debug, Default)]
pub struct Calls {
    /// Functions registered with `atexit.register` (by name).
    atexit: HashSet<String>,
    /// When the file is a program: the functions its entry points reach, and those reached
    /// only from shutdown code.
    reached: Option<(HashSet<TextRange>, HashSet<TextRange>)>,
}

impl Calls {
    /// Work out the reach of `module`'s functions.
    pub fn new<'a>(
        module: &'a ModModule,
        classes: &[&'a StmtClassDef],
        functions: &[&'a StmtFunctionDef],
    ) -> Self {
        let mut atexit = HashSet::new();
        let registers = module.body.iter().any(|s| {
            matches!(s, Stmt::Import(_) | Stmt::ImportFrom(_)) && {
                let names: Vec<&str> = match s {
                    Stmt::Import(i) => i.names.iter().map(|n| n.name.id.as_str()).collect(),
                    Stmt::ImportFrom(i) => i.module.iter().map(|m| m.id.as_str()).collect(),
                    _ => Vec::new(),
                };
                names.contains(&"atexit")
            }
        });
        a::walk(
            if registers { &module.body } else { &[] },
            true,
            &mut |node, _| {
                if let Node::Expr(Expr::Call(c)) = node
                    && a::dotted(&c.func)
                        .is_some_and(|d| d == "atexit.register" || d == "register_atexit")
                    && let Some(f) = c.arguments.args.first()
                    && let Some(d) = a::dotted(f)
                {
                    atexit.insert(d.rsplit('.').next().unwrap_or(&d).to_string()); // ok: one item at least
                }
            },
        );
        let shut = |n: &str| SHUTDOWN.contains(&n) || atexit.contains(n);
        let reached = reach(module, classes, functions, &shut);
        Calls { atexit, reached }
    }

    /// True when the file is a program: module-level code runs its functions.
    pub fn is_program(&self) -> bool {
        self.reached.is_some()
    }

    /// Why clean-up in `f` does not run while serving, if it does not.
    pub fn idle(&self, f: Option<&StmtFunctionDef>) -> Option<Idle> {
        let f = f?;
        let n = f.name.id.as_str();
        if SHUTDOWN.contains(&n) || self.atexit.contains(n) {
            return Some(Idle::Shutdown);
        }
        match &self.reached {
            Some((r, _)) if r.contains(&f.range()) => None,
            Some((_, at_exit)) if at_exit.contains(&f.range()) => Some(Idle::Shutdown),
            Some(_) => Some(Idle::Uncalled),
            None => None,
        }
    }
}

/// Every name a body mentions: loads of names, attribute names (calls included).
fn mentions<'a>(body: &'a [Stmt], out: &mut Vec<&'a str>) {
    a::walk(body, true, &mut |node, _| {
        if let Node::Expr(e) = node {
            expr_name(e, out);
        }
    });
}

/// The names an expression mentions.
fn expr_mentions<'a>(e: &'a Expr, out: &mut Vec<&'a str>) {
    struct V<'o, 'a>(&'o mut Vec<&'a str>);
    impl<'a> Visitor<'a> for V<'_, 'a> {
        fn visit_expr(&mut self, e: &'a Expr) {
            expr_name(e, self.0);
            visitor::walk_expr(self, e);
        }
    }
    V(out).visit_expr(e);
}

fn expr_name<'a>(e: &'a Expr, out: &mut Vec<&'a str>) {
    match e {
        Expr::Name(n) => out.push(n.id.as_str()),
        Expr::Attribute(x) => out.push(x.attr.id.as_str()),
        _ => {}
    }
}

/// For a program (module-level code that calls a function of the file or hands one out),
/// the functions reached from it by name; None for a library module.
fn reach<'a>(
    module: &'a ModModule,
    classes: &[&'a StmtClassDef],
    functions: &[&'a StmtFunctionDef],
    shut: &dyn Fn(&str) -> bool,
) -> Option<(HashSet<TextRange>, HashSet<TextRange>)> {
    let mut defs: HashMap<&'a str, Vec<&'a StmtFunctionDef>> = HashMap::new();
    for f in functions {
        defs.entry(f.name.id.as_str()).or_default().push(f);
    }
    let class_names: HashSet<&'a str> = classes.iter().map(|c| c.name.id.as_str()).collect();
    let local = |n: &str| defs.contains_key(n) || class_names.contains(n);
    // Module-level statements other than definitions: the entry points' code.
    let top: Vec<&Stmt> = module
        .body
        .iter()
        .filter(|s| {
            !matches!(
                s,
                Stmt::FunctionDef(_) | Stmt::ClassDef(_) | Stmt::Import(_) | Stmt::ImportFrom(_)
            )
        })
        .collect();
    let mut queue: Vec<&str> = Vec::new();
    let mut driver = false;
    for s in &top {
        a::walk(std::slice::from_ref(*s), false, &mut |node, _| {
            if let Node::Expr(Expr::Call(c)) = node {
                let calls_local = a::name(&c.func).is_some_and(|n| defs.contains_key(n));
                let hands = c
                    .arguments
                    .args
                    .iter()
                    .any(|x| a::name(x).is_some_and(local));
                driver |= calls_local || hands;
            }
        });
        mentions(std::slice::from_ref(*s), &mut queue);
    }
    if !driver {
        return None;
    }
    // Decorators run at import time, and class bodies too.
    for f in functions {
        for d in &f.decorator_list {
            expr_mentions(&d.expression, &mut queue);
        }
    }
    // A class whose base is not in the file: the framework may call any of its methods.
    let external_base = |c: &StmtClassDef| {
        c.arguments.as_ref().is_some_and(|args| {
            args.args.iter().any(|b| {
                a::dotted(b).is_some_and(|d| {
                    let last = d.rsplit('.').next().unwrap_or(&d); // ok: one item at least
                    !class_names.contains(last) && last != "object"
                })
            })
        })
    };
    let walk_from = |mut queue: Vec<&'a str>, enter_shutdown: bool| {
        let mut reached: HashSet<TextRange> = HashSet::new();
        let mut done: HashSet<&str> = HashSet::new();
        while let Some(n) = queue.pop() {
            if !done.insert(n) || (!enter_shutdown && shut(n)) {
                continue;
            }
            let mut run: Vec<&StmtFunctionDef> = defs.get(n).cloned().unwrap_or_default();
            for c in classes.iter().filter(|c| c.name.id.as_str() == n) {
                let ext = external_base(c);
                for f in a::defs_in(&c.body) {
                    let m = f.name.id.as_str();
                    if (ext || (m.starts_with("__") && m.ends_with("__"))) && !shut(m) {
                        run.push(f);
                    }
                }
                // Its bases are made with it.
                if let Some(args) = &c.arguments {
                    for b in &args.args {
                        expr_mentions(b, &mut queue);
                    }
                }
            }
            for f in run {
                if reached.insert(f.range()) {
                    mentions(&f.body, &mut queue);
                }
            }
        }
        reached
    };
    let serving = walk_from(queue, false);
    let exits: Vec<&str> = functions
        .iter()
        .map(|f| f.name.id.as_str())
        .filter(|n| shut(n))
        .collect();
    let at_exit = walk_from(exits, true);
    Some((serving, at_exit))
}
