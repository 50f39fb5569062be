//! One rule file per leak kind. Each rule reads the module (and the shared [`Model`]) and
//! pushes [`Hit`]s; the file layer places, suppresses and orders them.

pub mod array_accumulation;
pub mod cache_no_eviction;
pub mod circular_reference;
pub mod closure_capture;
pub mod event_handler;
pub mod figure_accumulation;
pub mod registries;
pub mod string_concat;
pub mod thread_task;
pub mod unbounded_collection;
pub mod unclosed_resource;
pub mod values;

use super::ScanOptions;
use super::ast::{self as a, Node};
use super::calls::Calls;
use super::fixtures::TestCleanup;
use super::model::Model;
use crate::leak_kind::{Confidence, LeakKind};
use ruff_python_ast::{ModModule, Stmt, StmtClassDef, StmtFunctionDef};
use ruff_text_size::Ranged;
use ruff_text_size::TextRange;
use std::collections::HashSet;

/// A rule's raw finding, before it is placed in the file.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The leak kind.
    pub kind: LeakKind,
    /// How sure.
    pub confidence: Confidence,
    /// The node the evidence is.
    pub range: TextRange,
    /// One sentence naming the evidence.
    pub why: String,
    /// What to do here, after the kind's generic fix (may be empty).
    pub fix: String,
    /// The rule's short name.
    pub rule: &'static str,
}

/// What the rules share about one file.
pub struct Ctx<'a> {
    /// The parsed module.
    pub module: &'a ModModule,
    /// Its text.
    pub src: &'a str,
    /// Its containers.
    pub model: Model<'a>,
    /// Names under which `matplotlib.pyplot` is imported (`plt`), and its functions imported
    /// by name (`figure`, `subplots`).
    pub pyplot: Vec<String>,
    /// True when the file imports torch, tensorflow, jax or keras.
    pub tensors: bool,
    /// Local names of array modules (`np`, `torch`, `array`): their calls make arrays.
    pub array_modules: Vec<String>,
    /// Array constructors imported by name (`from numpy import zeros`, `from array import array`).
    pub array_names: Vec<String>,
    /// True when the file imports from matplotlib (so `Figure(...)` is a figure).
    pub mpl_figure: bool,
    /// Every class, nested ones included, in source order.
    pub classes: Vec<&'a StmtClassDef>,
    /// Every function and method, nested ones included, in source order.
    pub functions: Vec<&'a StmtFunctionDef>,
    /// The ranges of the functions defined directly in a class body.
    pub methods: HashSet<TextRange>,
    /// Names of classes instantiated at import time (`POOL = Pool()`, `Logger.manager =
    /// Manager(...)` at module level): their instances live as long as the module.
    pub singletons: HashSet<&'a str>,
    /// The singletons never instantiated inside a function of the file.
    pub import_only: HashSet<&'a str>,
    /// Set for a test file: what its fixtures clean up after each test.
    pub tests: Option<TestCleanup>,
    /// Which functions run while the file serves, and which only at shutdown.
    pub calls: Calls,
    /// Every call in the file by callee name, with the function it is in (built on first use).
    pub call_sites: std::cell::OnceCell<CallIndex<'a>>,
    /// The kind of each container of the model, in its order (worked out on first use).
    pub container_kinds: std::cell::OnceCell<Vec<std::cell::OnceCell<LeakKind>>>,
}

/// Calls by the last segment of their callee, with the function each is in (None: module code).
pub type CallIndex<'a> = std::collections::HashMap<
    &'a str,
    Vec<(&'a ruff_python_ast::ExprCall, Option<&'a StmtFunctionDef>)>,
>;

impl<'a> Ctx<'a> {
    /// Gather the import facts of a module.
    pub fn new(module: &'a ModModule, src: &'a str) -> Self {
        let mut pyplot = Vec::new();
        let mut tensors = false;
        let mut array_modules = Vec::new();
        let mut array_names = Vec::new();
        let mut mpl_figure = false;
        let array_mod = |m: &str| {
            matches!(
                m.split('.').next(),
                Some("numpy" | "torch" | "tensorflow" | "jax" | "cupy" | "array")
            )
        };
        let mut classes = Vec::new();
        let mut functions = Vec::new();
        let tensor_mod = |m: &str| {
            matches!(
                m.split('.').next(),
                Some("torch" | "tensorflow" | "jax" | "keras")
            )
        };
        // Calls by callee name, everywhere in the file.
        let mut calls: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
        a::walk(&module.body, true, &mut |node, _at| match node {
            Node::Stmt(s) => match s {
                Stmt::Import(i) => {
                    for n in &i.names {
                        let m = n.name.id.as_str();
                        tensors |= tensor_mod(m);
                        mpl_figure |= m.starts_with("matplotlib");
                        if array_mod(m) {
                            let local = n.asname.as_ref().map_or_else(
                                || m.split('.').next().unwrap_or(m).to_string(), // ok: one item at least
                                |x| x.id.as_str().to_string(),
                            );
                            array_modules.push(local);
                        }
                        if m == "matplotlib.pyplot" {
                            pyplot.push(
                                n.asname
                                    .as_ref()
                                    .map_or(m.to_string(), |x| x.id.as_str().to_string()),
                            );
                        }
                    }
                }
                Stmt::ClassDef(c) => classes.push(c),
                Stmt::FunctionDef(f) => functions.push(f),
                Stmt::ImportFrom(i) => {
                    let m = i.module.as_ref().map_or("", |x| x.id.as_str());
                    tensors |= tensor_mod(m);
                    mpl_figure |= m.starts_with("matplotlib");
                    for n in &i.names {
                        let local = n.asname.as_ref().unwrap_or(&n.name).id.as_str().to_string();
                        if array_mod(m) && !m.starts_with("numpy.typing") {
                            array_names.push(local);
                        } else if m == "jax" && n.name.id.as_str() == "numpy" {
                            array_modules.push(local);
                        }
                    }
                    for n in &i.names {
                        let local = n.asname.as_ref().unwrap_or(&n.name).id.as_str().to_string();
                        if m == "matplotlib" && n.name.id.as_str() == "pyplot" {
                            pyplot.push(local);
                        } else if m == "matplotlib.pyplot" {
                            pyplot.push(format!("={local}"));
                        }
                    }
                }
                _ => {}
            },
            Node::Expr(e) => {
                if let ruff_python_ast::Expr::Call(c) = e
                    && let Some(n) = a::callee_last(c)
                {
                    *calls.entry(n).or_insert(0u32) += 1;
                }
            }
        });
        // Classes instantiated outside any function (module level, class bodies), and those
        // of them never instantiated anywhere else.
        let class_names: HashSet<&str> = classes.iter().map(|c| c.name.id.as_str()).collect();
        let mut top_calls: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
        let mut note = |body: &'a [Stmt]| {
            a::walk(body, false, &mut |node, _at| {
                if let Node::Expr(ruff_python_ast::Expr::Call(c)) = node
                    && let Some(n) = a::callee_last(c)
                    && let Some(&n) = class_names.get(n)
                {
                    *top_calls.entry(n).or_insert(0) += 1;
                }
            });
        };
        note(&module.body);
        for c in &classes {
            note(&c.body);
        }
        let mut singletons: HashSet<&str> = top_calls.keys().copied().collect();
        // What a lasting object makes in its constructor lives as long as it does.
        let mut grew = true;
        while grew {
            grew = false;
            for c in &classes {
                if !singletons.contains(c.name.id.as_str()) {
                    continue;
                }
                for f in a::defs_in(&c.body) {
                    if !matches!(f.name.id.as_str(), "__init__" | "__post_init__" | "setup") {
                        continue;
                    }
                    a::walk(&f.body, false, &mut |node, _at| {
                        if let Node::Expr(ruff_python_ast::Expr::Call(call)) = node
                            && let Some(n) = a::callee_last(call)
                            && let Some(&n) = class_names.get(n)
                        {
                            grew |= singletons.insert(n);
                        }
                    });
                }
            }
        }
        let import_only = top_calls
            .iter()
            .filter(|(n, k)| calls.get(*n) == Some(k))
            .map(|(n, _)| *n)
            .collect();
        let methods = classes
            .iter()
            .flat_map(|c| a::defs_in(&c.body))
            .map(|f| f.range())
            .collect();
        let calls = Calls::new(module, &classes, &functions);
        Ctx {
            module,
            src,
            model: super::model::build(module, src, &classes, &functions),
            pyplot,
            tensors,
            array_modules,
            array_names,
            mpl_figure,
            classes,
            functions,
            methods,
            singletons,
            import_only,
            tests: None,
            calls,
            call_sites: std::cell::OnceCell::new(),
            container_kinds: std::cell::OnceCell::new(),
        }
    }
}

impl<'a> Ctx<'a> {
    /// The leak kind of one of the model's containers (what it holds decides; see
    /// [`unbounded_collection::kind_of`]), worked out once per file.
    pub fn kind_of_container(&self, c: &super::model::Container) -> LeakKind {
        let kinds = self.container_kinds.get_or_init(|| {
            (0..self.model.containers.len())
                .map(|_| std::cell::OnceCell::new())
                .collect()
        });
        match self
            .model
            .containers
            .iter()
            .position(|x| std::ptr::eq(x, c))
            .and_then(|i| kinds.get(i))
        {
            Some(k) => *k.get_or_init(|| unbounded_collection::kind_of(self, c)),
            None => unbounded_collection::kind_of(self, c),
        }
    }

    /// The calls of the file by callee name.
    pub fn calls_named(
        &self,
        name: &str,
    ) -> &[(&'a ruff_python_ast::ExprCall, Option<&'a StmtFunctionDef>)] {
        let index = self.call_sites.get_or_init(|| {
            let mut index: CallIndex<'a> = std::collections::HashMap::new();
            let mut scopes: Vec<(&'a [Stmt], Option<&'a StmtFunctionDef>)> =
                vec![(&self.module.body, None)];
            scopes.extend(self.functions.iter().map(|g| (&g.body[..], Some(*g))));
            for (body, caller) in scopes {
                a::walk(body, false, &mut |node, _| {
                    if let Node::Expr(ruff_python_ast::Expr::Call(c)) = node
                        && let Some(n) = a::callee_last(c)
                    {
                        index.entry(n).or_default().push((c, caller));
                    }
                });
            }
            index
        });
        index.get(name).map_or(&[], |v| &v[..])
    }

    /// True in a test file when the tests' clean-up (an autouse fixture, a fixture that
    /// `func` takes, or its test class's tearDown/setUp) closes the objects of `kind` it makes.
    pub fn test_cleaned(&self, kind: LeakKind, func: Option<&StmtFunctionDef>) -> bool {
        let Some(t) = &self.tests else { return false };
        let params: Vec<&str> = func.map_or_else(Vec::new, |f| {
            let p = &f.parameters;
            p.posonlyargs
                .iter()
                .chain(&p.args)
                .chain(&p.kwonlyargs)
                .map(|x| x.parameter.name.id.as_str())
                .collect()
        });
        if t.covers(kind, &params) {
            return true;
        }
        let Some(f) = func else { return false };
        self.classes.iter().any(|c| {
            let defs = a::defs_in(&c.body);
            defs.iter().any(|m| m.range == f.range)
                && defs.iter().any(|m| {
                    matches!(
                        m.name.id.as_str(),
                        "setUp" | "tearDown" | "setup_method" | "teardown_method" | "tearDownClass"
                    ) && super::fixtures::cleans(&m.body).contains(&kind)
                })
        })
    }

    /// The functions defined directly in class bodies.
    pub fn methods_of_classes(&self) -> Vec<&'a StmtFunctionDef> {
        self.functions
            .iter()
            .copied()
            .filter(|f| self.methods.contains(&f.range()))
            .collect()
    }
}

/// True for a class that derives from an exception or warning by its base's name: its
/// instances live as long as the error is handled.
pub fn is_exception_class(ctx: &Ctx, class: &str) -> bool {
    ctx.classes
        .iter()
        .filter(|c| c.name.id.as_str() == class)
        .any(|c| {
            c.arguments.as_ref().is_some_and(|args| {
                args.args.iter().any(|b| {
                    a::dotted(b).is_some_and(|n| {
                        let last = n.rsplit('.').next().unwrap_or(&n); // ok: one item at least
                        last.ends_with("Error")
                            || last.ends_with("Exception")
                            || last.ends_with("Warning")
                    })
                })
            })
        })
}

/// True for a `unittest` test case class: an instance lives for one test.
pub fn is_test_class(cls: &StmtClassDef) -> bool {
    cls.arguments.as_ref().is_some_and(|args| {
        args.args
            .iter()
            .any(|b| a::dotted(b).is_some_and(|n| n.ends_with("TestCase")))
    })
}

/// A rule: reads the file, pushes hits.
type Rule = fn(&Ctx, &mut Vec<Hit>);

/// Run every rule whose kind the options want.
pub fn run_all(ctx: &Ctx, opts: &ScanOptions, out: &mut Vec<Hit>) {
    let rules: [(LeakKind, Rule); 11] = [
        (LeakKind::ThreadTask, thread_task::check),
        (LeakKind::ArrayAccumulation, array_accumulation::check),
        (LeakKind::CacheNoEviction, cache_no_eviction::check),
        (LeakKind::CacheNoEviction, registries::check),
        (LeakKind::UnboundedCollection, unbounded_collection::check),
        (LeakKind::UnclosedResource, unclosed_resource::check),
        (LeakKind::CircularReference, circular_reference::check),
        (LeakKind::EventHandler, event_handler::check),
        (LeakKind::ClosureCapture, closure_capture::check),
        (LeakKind::StringConcat, string_concat::check),
        (LeakKind::FigureAccumulation, figure_accumulation::check),
    ];
    for (kind, rule) in rules {
        if opts.wants(kind) {
            rule(ctx, out);
        }
    }
}
