//! Test code judged as test code: the pytest fixtures (in `conftest.py` files above a test
//! file, and the modules they import fixtures from) that close figures, files or threads
//! after each test, so that what a test makes and leaves open is not a leak.

use super::ast::{self as a, Node};
use crate::leak_kind::LeakKind;
use ruff_python_ast::{Expr, Stmt, StmtFunctionDef};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// How far up from a test file `conftest.py` files are looked for.
const MAX_UP: usize = 12;

/// One fixture's clean-up.
#[derive(Debug, Clone, Default)]
pub struct Fixture {
    /// Runs around every test below its conftest without being asked for.
    pub autouse: bool,
    /// The kinds whose objects it closes after the test.
    pub cleans: HashSet<LeakKind>,
}

/// What the fixtures above one test file clean up.
#[derive(Debug, Clone, Default)]
pub struct TestCleanup {
    /// Kinds cleaned after every test (autouse fixtures).
    pub always: HashSet<LeakKind>,
    /// Kinds cleaned for the tests that take the fixture of this name.
    pub named: HashMap<String, HashSet<LeakKind>>,
    /// Where the autouse clean-up is defined (for the reader).
    pub by: Option<String>,
}

impl TestCleanup {
    /// True when a test taking parameters `params` has objects of `kind` cleaned after it.
    pub fn covers(&self, kind: LeakKind, params: &[&str]) -> bool {
        self.always.contains(&kind)
            || params
                .iter()
                .any(|p| self.named.get(*p).is_some_and(|k| k.contains(&kind)))
    }
}

/// True for a file pytest collects tests from, or a conftest.
pub fn is_test_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    name.starts_with("test_") || name.ends_with("_test.py") || name == "conftest.py"
}

/// The conftest fixtures seen so far, by file (each conftest and fixture module parsed once).
#[derive(Default)]
pub struct FixtureCache {
    files: Mutex<HashMap<PathBuf, HashMap<String, Fixture>>>,
}

impl FixtureCache {
    /// The clean-up that the conftest files above `test_file` give its tests.
    pub fn cleanup_for(&self, test_file: &Path) -> TestCleanup {
        let mut out = TestCleanup::default();
        let mut dir = test_file.parent();
        for _ in 0..MAX_UP {
            let Some(d) = dir else { break };
            let conftest = d.join("conftest.py");
            if conftest.is_file() {
                for (name, fx) in self.fixtures_of(&conftest, true) {
                    if fx.autouse {
                        if !fx.cleans.is_empty() && out.by.is_none() {
                            out.by = Some(format!("{} ({})", name, conftest.display()));
                        }
                        out.always.extend(fx.cleans.iter().copied());
                    }
                    out.named.entry(name).or_default().extend(fx.cleans);
                }
            }
            dir = d.parent();
        }
        out
    }

    /// The fixtures a file defines, plus (for a conftest) those it imports by name from a
    /// module found beside or above it.
    fn fixtures_of(&self, file: &Path, follow: bool) -> HashMap<String, Fixture> {
        if let Ok(seen) = self.files.lock()
            && let Some(f) = seen.get(file)
        {
            return f.clone();
        }
        let mut out = HashMap::new();
        let Ok(text) = std::fs::read_to_string(file) else {
            return out;
        };
        let Ok(parsed) = ruff_python_parser::parse_module(&text) else {
            return out;
        };
        let body = &parsed.syntax().body;
        for f in a::defs_in(body) {
            if let Some(fx) = fixture(f) {
                out.insert(f.name.id.as_str().to_string(), fx);
            }
        }
        if follow {
            for s in body {
                let Stmt::ImportFrom(i) = s else { continue };
                let Some(m) = i.module.as_ref() else { continue };
                let Some(src) = module_file(file, m.id.as_str()) else {
                    continue;
                };
                let there = self.fixtures_of(&src, false);
                for n in &i.names {
                    if let Some(fx) = there.get(n.name.id.as_str()) {
                        let local = n.asname.as_ref().unwrap_or(&n.name).id.as_str();
                        out.insert(local.to_string(), fx.clone());
                    }
                }
            }
        }
        if let Ok(mut seen) = self.files.lock() {
            seen.insert(file.to_path_buf(), out.clone());
        }
        out
    }
}

/// The file of module `dotted` as seen from `from`: the first ancestor directory holding it.
fn module_file(from: &Path, dotted: &str) -> Option<PathBuf> {
    let rel: PathBuf = dotted.split('.').collect();
    let mut dir = from.parent();
    for _ in 0..MAX_UP {
        let d = dir?;
        let cand = d.join(&rel).with_extension("py");
        if cand.is_file() {
            return Some(cand);
        }
        dir = d.parent();
    }
    None
}

/// The clean-up of a `@pytest.fixture` function, if it is one.
fn fixture(f: &StmtFunctionDef) -> Option<Fixture> {
    let mut autouse = false;
    let mut is_fixture = false;
    for d in &f.decorator_list {
        let (callee, call) = match &d.expression {
            Expr::Call(c) => (&*c.func, Some(c)),
            e => (e, None),
        };
        if a::dotted(callee).is_some_and(|n| n == "fixture" || n.ends_with(".fixture")) {
            is_fixture = true;
            autouse |= call
                .and_then(|c| a::keyword(c, "autouse"))
                .is_some_and(|v| matches!(v, Expr::BooleanLiteral(b) if b.value));
        }
    }
    is_fixture.then(|| Fixture {
        autouse,
        cleans: cleans(&f.body),
    })
}

/// The kinds a body closes: figures (`plt.close`, `close("all")`, a `*cleanup*` context),
/// threads (`.join()`), files and connections (`.close()` on anything else).
pub fn cleans(body: &[Stmt]) -> HashSet<LeakKind> {
    let mut out = HashSet::new();
    a::walk(body, true, &mut |node, _| {
        let Node::Expr(Expr::Call(c)) = node else {
            return;
        };
        let Some(mut d) = a::dotted(&c.func) else {
            return;
        };
        // `self.addCleanup(plt.close, fig)`: the clean-up is the first argument.
        if d.ends_with("addCleanup")
            && let Some(first) = c.arguments.args.first().and_then(a::dotted)
        {
            d = first;
        }
        let last = d.rsplit('.').next().unwrap_or(&d); // ok: one item at least
        let recv = d.rsplit_once('.').map_or("", |(r, _)| r);
        let all = c
            .arguments
            .args
            .first()
            .is_some_and(|x| matches!(x, Expr::StringLiteral(s) if s.value.to_str() == "all"));
        if (last == "close" && (recv.ends_with("plt") || recv.ends_with("pyplot") || all))
            || last.to_ascii_lowercase().contains("cleanup")
        {
            out.insert(LeakKind::FigureAccumulation);
        }
        if last == "close" && !recv.is_empty() {
            out.insert(LeakKind::UnclosedResource);
        }
        if last == "join" && !recv.is_empty() && !recv.ends_with("path") {
            out.insert(LeakKind::ThreadTask);
        }
    });
    out
}
