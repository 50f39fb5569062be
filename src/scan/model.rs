//! The scope model: containers (per class attribute, per module name), how each one is created,
//! where it grows, and whether anything trims it or lets it escape the model's sight.

use super::ast::{self as a, At, Node};
use ruff_python_ast::comparable::ComparableExpr;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{CmpOp, Expr, ExprContext, ModModule, Operator, Stmt, StmtFunctionDef};
use ruff_text_size::{Ranged, TextRange, TextSize};
use std::collections::{HashMap, HashSet};

/// What a container was created as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// `[]`, `list()`, a list comprehension.
    List,
    /// `{}`, `dict()`, `defaultdict(...)`, `OrderedDict()`, `Counter()`.
    Dict,
    /// `set()`.
    Set,
    /// `deque()` without `maxlen`.
    Deque,
    /// A container that bounds or drops its entries itself (`deque(maxlen=N)`, `Weak*`).
    Bounded,
}

impl Init {
    /// How a reader names it.
    pub fn describe(self) -> &'static str {
        match self {
            Init::List => "list",
            Init::Dict => "dict",
            Init::Set => "set",
            Init::Deque => "deque() without maxlen",
            Init::Bounded => "bounded container",
        }
    }
}

/// One place a container grows.
#[derive(Debug, Clone)]
pub struct Grow<'a> {
    /// The growing expression or statement.
    pub range: TextRange,
    /// How: `.append()`, `[k] = v`, `+=`...
    pub how: &'static str,
    /// The value added, when one is visible.
    pub value: Option<&'a Expr>,
    /// The key used (`c[k] = v`, `c.setdefault(k, ...)`).
    pub key: Option<&'a Expr>,
    /// The function it happens in (None: module or class body).
    pub func: Option<&'a StmtFunctionDef>,
    /// Loops around it within that function.
    pub loops: u32,
    /// Guarded by an emptiness test of the same container (`if not c:` fill once).
    pub fill_once: bool,
    /// Guarded by a debug switch (`if self.debug`, `if __debug__`, `if verbose`).
    pub debug_only: bool,
    /// Guarded by `value not in c` (a list kept free of duplicates).
    pub dedup: bool,
}

/// Everything the model knows about one container.
#[derive(Debug, Clone)]
pub struct Container<'a> {
    /// How code names it: `self.history` or `_cache`.
    pub name: String,
    /// The class it belongs to (None for module names).
    pub class: Option<&'a str>,
    /// What it was created as, and where.
    pub init: Option<(Init, TextRange)>,
    /// Assignments to it other than the creation (each resets it).
    pub assigns: u32,
    /// The function each such assignment is in (None: module or class body).
    pub assign_in: Vec<Option<&'a StmtFunctionDef>>,
    /// Places it grows.
    pub grows: Vec<Grow<'a>>,
    /// Places that remove entries (`pop`, `clear`, `del x[k]`, slice assignment...).
    pub trims: u32,
    /// The function each removal is in (None: module or class body).
    pub trim_in: Vec<Option<&'a StmtFunctionDef>>,
    /// Uses the model cannot follow (passed to a call, returned, aliased).
    pub escapes: u32,
    /// The function each such use is in.
    pub escape_in: Vec<Option<&'a StmtFunctionDef>>,
    /// Membership tests or lookups by key (`k in c`, `c.get(k)`, `c[k]`).
    pub keyed_reads: u32,
    /// Reads of the whole or of entries (iteration, `len`, tests, lookups, other methods).
    pub reads: u32,
    /// The keys looked up, with the function they are looked up in.
    pub lookups: Vec<(Option<TextRange>, &'a Expr)>,
    /// Reached through the class (class body, `cls.x`, `ClassName.x`): one per class,
    /// living as long as the class does.
    pub class_level: bool,
    /// Created as a `collections.defaultdict`: reading a missing key inserts it.
    pub defaultdict: bool,
    /// A mutable default argument: one object shared by every call of its function.
    pub default_arg: bool,
}

impl<'a> Container<'a> {
    fn new(name: String, class: Option<&'a str>) -> Self {
        Container {
            name,
            class,
            init: None,
            assigns: 0,
            assign_in: Vec::new(),
            grows: Vec::new(),
            trims: 0,
            trim_in: Vec::new(),
            escapes: 0,
            escape_in: Vec::new(),
            keyed_reads: 0,
            lookups: Vec::new(),
            reads: 0,
            class_level: false,
            defaultdict: false,
            default_arg: false,
        }
    }

    /// True when `g` stores under a key that the same function looked up first (the memo
    /// idiom `if k not in c: c[k] = ...`), or by `setdefault`.
    pub fn checked(&self, g: &Grow) -> bool {
        let Some(key) = g.key else { return false };
        if g.how == ".setdefault()" {
            // `c.setdefault(k, [])` memoises; `c.setdefault(k, 0)` counts.
            return g.value.is_some_and(|v| !a::is_const(v));
        }
        // The lookup comes first: a read after the store (`c[k] = v; return c.get(k)`) is a
        // setter, not a memo.
        let func = g.func.map(|f| f.range);
        let want = ComparableExpr::from(key);
        self.lookups.iter().any(|(f, k)| {
            *f == func && k.start() < g.range.start() && ComparableExpr::from(*k) == want
        })
    }

    /// Created as an unbounded container, grown, never trimmed, reset or let out of sight.
    pub fn only_grows(&self) -> bool {
        self.grows_unless(|_| false)
    }

    /// Like [`Container::only_grows`], with the removals for which `idle` holds (clean-up
    /// that never runs while the program serves) not counted.
    pub fn grows_unless(&self, idle: impl Fn(Option<&StmtFunctionDef>) -> bool) -> bool {
        matches!(self.init, Some((i, _)) if i != Init::Bounded)
            && !self.grows.is_empty()
            && self.trim_in.iter().all(|f| idle(*f))
            && self.assign_in.iter().all(|f| idle(*f))
            && self.escape_in.iter().all(|f| idle(*f))
            && self.escapes as usize == self.escape_in.len()
    }
}

const GROW: &[&str] = &[
    "append",
    "appendleft",
    "extend",
    "extendleft",
    "add",
    "update",
    "insert",
    "setdefault",
    "__setitem__",
];
const TRIM: &[&str] = &[
    "pop",
    "popleft",
    "popitem",
    "remove",
    "discard",
    "clear",
    "__delitem__",
    "difference_update",
    "intersection_update",
    "symmetric_difference_update",
    "move_to_end",
    "rotate",
    "subtract",
];
const KEYED: &[&str] = &["get", "__contains__", "__getitem__", "setdefault"];
const READ_FUNCS: &[&str] = &[
    "len",
    "list",
    "sorted",
    "tuple",
    "set",
    "frozenset",
    "iter",
    "enumerate",
    "reversed",
    "any",
    "all",
    "sum",
    "min",
    "max",
    "repr",
    "str",
    "print",
    "bool",
    "zip",
    "map",
    "filter",
    "isinstance",
    "id",
    "hash",
    "dict",
];

/// True when a creation's text makes an `array.array` (`x = array.array("d")`).
pub fn container_init_text_is_array(text: &str) -> bool {
    let rhs = text.split_once('=').map_or(text, |(_, r)| r).trim_start();
    rhs.starts_with("array.array(") || rhs.starts_with("array(")
}

/// True for `collections.defaultdict(...)`.
fn is_defaultdict(e: &Expr) -> bool {
    matches!(e, Expr::Call(c) if a::callee_last(c) == Some("defaultdict"))
}

/// True when a key is made from the function's parameters (other than `self`/`cls`).
fn key_from_params(f: &StmtFunctionDef, key: &Expr) -> bool {
    let p = &f.parameters;
    let params: Vec<&str> = p
        .posonlyargs
        .iter()
        .chain(&p.args)
        .chain(&p.kwonlyargs)
        .map(|x| x.parameter.name.id.as_str())
        .filter(|n| !matches!(*n, "self" | "cls"))
        .collect();
    let mut names = Vec::new();
    a::names_in(key, &mut names);
    names.iter().any(|n| params.contains(n))
}

/// Functions and methods, by last name, that only read their arguments.
const READ_DOTTED: &[&str] = &[
    "islice", "chain", "dumps", "join", "deepcopy", "copy", "pformat", "pprint", "Counter",
];

/// What a value creates, when it creates a container.
pub fn container_init(e: &Expr) -> Option<Init> {
    match e {
        Expr::List(l) if l.elts.is_empty() => Some(Init::List),
        Expr::Dict(d) if d.items.is_empty() => Some(Init::Dict),
        Expr::Call(c) => {
            let callee = a::dotted(&c.func)?;
            let last = callee.rsplit('.').next().unwrap_or(&callee); // ok: rsplit yields one item
            let no_args = c.arguments.args.is_empty();
            match last {
                "list" if no_args => Some(Init::List),
                "dict" | "OrderedDict" | "Counter"
                    if no_args && c.arguments.keywords.is_empty() =>
                {
                    Some(Init::Dict)
                }
                "defaultdict" => Some(Init::Dict),
                // `array.array("d")`: a typed list of numbers.
                "array"
                    if (callee == "array.array" || callee == "array")
                        && matches!(c.arguments.args.first(), Some(Expr::StringLiteral(_))) =>
                {
                    Some(Init::List)
                }
                "set" if no_args => Some(Init::Set),
                "deque" => {
                    let bounded = c.arguments.args.len() >= 2
                        || a::keyword(c, "maxlen").is_some_and(|m| !a::is_none(m));
                    Some(if bounded { Init::Bounded } else { Init::Deque })
                }
                "WeakValueDictionary"
                | "WeakKeyDictionary"
                | "WeakSet"
                | "LRUCache"
                | "TTLCache"
                | "LFUCache" => Some(Init::Bounded),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The containers of one file: class attributes and module names.
#[derive(Debug, Default)]
pub struct Model<'a> {
    /// Every container found, in source order of creation.
    pub containers: Vec<Container<'a>>,
}

/// Build the model of a module.
pub fn build<'a>(
    module: &'a ModModule,
    src: &str,
    classes: &[&'a ruff_python_ast::StmtClassDef],
    functions: &[&'a StmtFunctionDef],
) -> Model<'a> {
    // Worked out only for files whose classes hold containers.
    let foreign = std::cell::OnceCell::new();
    let foreign_reads = std::cell::OnceCell::new();
    let grown_outside = foreign_grows(src, functions);
    let mut model = Model::default();
    // Module names created as containers at top level.
    let mut names: HashMap<String, Container> = HashMap::new();
    for s in top_level(&module.body) {
        let (targets, value): (Vec<&Expr>, &Expr) = match s {
            Stmt::Assign(x) => (x.targets.iter().collect(), &x.value),
            Stmt::AnnAssign(x) => match &x.value {
                Some(v) => (vec![&*x.target], v),
                None => continue,
            },
            _ => continue,
        };
        for t in targets {
            if let Some(n) = a::name(t) {
                let c = names
                    .entry(n.to_string())
                    .or_insert_with(|| Container::new(n.to_string(), None));
                match (c.init, container_init(value)) {
                    (None, Some(i)) => {
                        c.init = Some((i, s.range()));
                        c.defaultdict = is_defaultdict(value);
                    }
                    _ => {
                        if c.init.is_some() {
                            c.assigns += 1;
                            c.assign_in.push(None);
                        }
                    }
                }
            }
        }
    }
    names.retain(|_, c| c.init.is_some());
    if !names.is_empty() {
        let keys: HashSet<String> = names.keys().cloned().collect();
        let mut v = Uses::new(Target::Module(keys), &mut names);
        v.top = true;
        v.visit_body(&module.body);
        let mut list: Vec<Container> = names.into_values().collect();
        list.sort_by_key(|c| c.init.map(|i| i.1.start()));
        model.containers.extend(list);
    }
    // Mutable default arguments (`def seen(x, _memo={})`): made once, when the function is
    // defined, and shared by every call.
    for &f in functions {
        let p = &f.parameters;
        for x in p.posonlyargs.iter().chain(&p.args).chain(&p.kwonlyargs) {
            let Some(d) = x.default.as_deref() else {
                continue;
            };
            let Some(i) = container_init(d) else { continue };
            let n = x.parameter.name.id.as_str().to_string();
            let mut found: HashMap<String, Container> = HashMap::new();
            let mut c = Container::new(n.clone(), None);
            c.init = Some((i, x.range()));
            c.default_arg = true;
            found.insert(n.clone(), c);
            let mut v = Uses::new(Target::Module(HashSet::from([n])), &mut found);
            v.func = Some(f);
            v.visit_body(&f.body);
            model.containers.extend(found.into_values());
        }
    }
    // Class attributes.
    let lasting = lasting_classes(&module.body);
    for &cls in classes {
        if !lasting.contains(&cls.range()) {
            continue; // A class made inside a function: its instances are local too.
        }
        let cname = cls.name.id.as_str();
        let is_test = cls.arguments.as_ref().is_some_and(|args| {
            args.args
                .iter()
                .any(|b| a::dotted(b).is_some_and(|n| n.ends_with("TestCase")))
        });
        if is_test {
            continue; // A test case lives for one test.
        }
        let mut attrs: HashMap<String, Container> = HashMap::new();
        // The class with its bases of this file: what a base creates, a subclass grows.
        let family = family_of(cls, classes);
        let bodies = || family.iter().flat_map(|c| c.body.iter());
        for s in bodies() {
            if let Stmt::Assign(x) = s
                && let [t] = &x.targets[..]
                && let Some(n) = a::name(t)
                && let Some(i) = container_init(&x.value)
            {
                let mut c = Container::new(format!("{cname}.{n}"), Some(cname));
                c.init = Some((i, s.range()));
                c.class_level = true;
                c.defaultdict = is_defaultdict(&x.value);
                attrs.insert(n.to_string(), c);
            }
            // A dataclass field `x: list = field(default_factory=list)`: one per instance.
            if let Stmt::AnnAssign(x) = s
                && let Some(n) = a::name(&x.target)
                && let Some(Expr::Call(v)) = x.value.as_deref()
                && a::callee_last(v) == Some("field")
                && let Some(factory) = a::keyword(v, "default_factory")
            {
                let init = match a::dotted(factory)
                    .as_deref()
                    .map(|d| d.rsplit('.').next().unwrap_or(d))
                {
                    Some("list") => Some(Init::List),
                    Some("dict" | "OrderedDict" | "defaultdict" | "Counter") => Some(Init::Dict),
                    Some("set") => Some(Init::Set),
                    Some("deque") => Some(Init::Deque),
                    _ => None,
                };
                if let Some(i) = init {
                    let mut c = Container::new(format!("self.{n}"), Some(cname));
                    c.init = Some((i, s.range()));
                    attrs.insert(n.to_string(), c);
                }
            }
        }
        // Bases first: their constructors create what the subclass's methods use.
        for f in family.iter().rev().flat_map(|c| a::defs_in(&c.body)) {
            let is_static = a::has_decorator(f, &["staticmethod"]);
            let mut recv = vec![cname.to_string()];
            let mut class_recv = vec![cname.to_string()];
            if !is_static && let Some(p) = a::first_param(f) {
                recv.push(p.to_string());
                if a::has_decorator(f, &["classmethod"]) || f.name.id.as_str() == "__new__" {
                    class_recv.push(p.to_string());
                }
            }
            let target = Target::Class {
                recv,
                class_recv,
                class: cname,
            };
            let mut v = Uses::new(target, &mut attrs);
            v.func = Some(f);
            v.visit_body(&f.body);
        }
        // Grown through another object (`self.state.history.append(x)`).
        for (attr, g) in &grown_outside {
            if let Some(c) = attrs.get_mut(*attr)
                && c.init.is_some()
            {
                c.grows.push(g.clone());
            }
        }
        let mut list: Vec<Container> = attrs
            .into_iter()
            .filter(|(k, c)| {
                c.init.is_some()
                    && !foreign
                        .get_or_init(|| foreign_trims(&module.body))
                        .contains(k.as_str())
            })
            .map(|(k, mut c)| {
                // Read through another receiver (`writer._stack`, a test's assertion).
                if foreign_reads
                    .get_or_init(|| self::foreign_reads(&module.body))
                    .contains(k.as_str())
                {
                    c.reads += 1;
                }
                c
            })
            .collect();
        list.sort_by_key(|c| c.init.map(|i| i.1.start()));
        model.containers.extend(list);
    }
    model
}

/// A class followed by its bases defined in the same file (nearest first, each once).
pub fn family_of<'a>(
    cls: &'a ruff_python_ast::StmtClassDef,
    classes: &[&'a ruff_python_ast::StmtClassDef],
) -> Vec<&'a ruff_python_ast::StmtClassDef> {
    let mut out = vec![cls];
    let mut i = 0;
    while i < out.len() && out.len() < 16 {
        let c = out[i];
        i += 1;
        let Some(args) = &c.arguments else { continue };
        for b in &args.args {
            let Some(d) = a::dotted(b) else { continue };
            let last = d.rsplit('.').next().unwrap_or(&d); // ok: one item at least
            if let Some(base) = classes.iter().find(|k| k.name.id.as_str() == last)
                && !out.iter().any(|o| o.range() == base.range())
            {
                out.push(base);
            }
        }
    }
    out
}

/// The classes defined at module level or inside other such classes (not inside functions).
fn lasting_classes(body: &[Stmt]) -> HashSet<TextRange> {
    let mut out = HashSet::new();
    fn go(body: &[Stmt], out: &mut HashSet<TextRange>) {
        for s in body {
            match s {
                Stmt::ClassDef(c) => {
                    out.insert(c.range());
                    go(&c.body, out);
                }
                Stmt::If(i) => {
                    go(&i.body, out);
                    for c in &i.elif_else_clauses {
                        go(&c.body, out);
                    }
                }
                Stmt::Try(t) => {
                    go(&t.body, out);
                    go(&t.orelse, out);
                    go(&t.finalbody, out);
                }
                _ => {}
            }
        }
    }
    go(body, &mut out);
    out
}

/// Statements at module level, looking through `if`/`try`/`with` blocks.
fn top_level(body: &[Stmt]) -> Vec<&Stmt> {
    let mut out = Vec::new();
    fn go<'a>(body: &'a [Stmt], out: &mut Vec<&'a Stmt>) {
        for s in body {
            match s {
                Stmt::If(i) => {
                    go(&i.body, out);
                    for c in &i.elif_else_clauses {
                        go(&c.body, out);
                    }
                }
                Stmt::Try(t) => {
                    go(&t.body, out);
                    go(&t.orelse, out);
                    go(&t.finalbody, out);
                }
                Stmt::With(w) => go(&w.body, out),
                _ => out.push(s),
            }
        }
    }
    go(body, &mut out);
    out
}

/// Every class in the module, nested ones included.
pub fn collect_classes<'a>(body: &'a [Stmt], out: &mut Vec<&'a ruff_python_ast::StmtClassDef>) {
    a::walk(body, true, &mut |node, _at| match node {
        Node::Stmt(s) => {
            if let Stmt::ClassDef(c) = s {
                out.push(c);
            }
        }
        Node::Expr(_) => {}
    });
}

/// Attribute names read through a receiver other than `self`/`cls` anywhere in the file.
fn foreign_reads(body: &[Stmt]) -> HashSet<&str> {
    let mut out = HashSet::new();
    a::walk(body, true, &mut |node, _at| {
        if let Node::Expr(Expr::Attribute(x)) = node
            && x.ctx == ExprContext::Load
            && !matches!(a::name(&x.value), Some("self" | "cls"))
        {
            out.insert(x.attr.id.as_str());
        }
    });
    out
}

/// Growth of an attribute through a receiver other than `self`/`cls`
/// (`self.state.history.append(x)`, `job.log.append(line)`), with the function it is in.
fn foreign_grows<'a>(src: &str, functions: &[&'a StmtFunctionDef]) -> Vec<(&'a str, Grow<'a>)> {
    let mut out = Vec::new();
    for &f in functions {
        // Only bodies that grow something through a dotted receiver (a cheap test first).
        let text = src.get(f.range().to_std_range()).unwrap_or("");
        if !text.contains(".append(")
            && !text.contains(".add(")
            && !text.contains(".extend(")
            && !text.contains(".insert(")
            && !text.contains(".appendleft(")
        {
            continue;
        }
        a::walk(&f.body, false, &mut |node, at| {
            if let Node::Expr(Expr::Call(c)) = node
                && let Some((Expr::Attribute(recv), m)) = a::method_call(c)
                && matches!(m, "append" | "appendleft" | "extend" | "add" | "insert")
                && !matches!(a::name(&recv.value), Some("self" | "cls"))
                && matches!(&*recv.value, Expr::Attribute(_) | Expr::Name(_))
                && !len_tested(&f.body, &Expr::Attribute(recv.clone()))
            {
                let value = if m == "insert" {
                    c.arguments.args.get(1)
                } else {
                    c.arguments.args.first()
                };
                out.push((
                    recv.attr.id.as_str(),
                    Grow {
                        range: c.range(),
                        how: ".append()",
                        value,
                        key: None,
                        func: Some(f),
                        loops: at.loops,
                        fill_once: false,
                        debug_only: false,
                        dedup: false,
                    },
                ));
            }
        });
    }
    out
}

/// True when a body compares `len(e)` (a size check that bounds the growth by hand).
fn len_tested(body: &[Stmt], e: &Expr) -> bool {
    let want = ComparableExpr::from(e);
    let mut found = false;
    a::walk(body, false, &mut |node, _| {
        if let Node::Expr(Expr::Compare(c)) = node {
            for x in c.comparators.iter().chain(std::iter::once(&*c.left)) {
                if let Expr::Call(call) = x
                    && a::name(&call.func) == Some("len")
                    && call
                        .arguments
                        .args
                        .first()
                        .is_some_and(|arg| ComparableExpr::from(arg) == want)
                {
                    found = true;
                }
            }
        }
    });
    found
}

/// Attribute names trimmed or reassigned through a receiver other than `self`/`cls`
/// (`node.children.clear()`, `obj.history = []`): such an attribute is managed from outside.
fn foreign_trims(body: &[Stmt]) -> HashSet<&str> {
    let mut out = HashSet::new();
    fn foreign_attr(e: &Expr) -> Option<&str> {
        match e {
            Expr::Attribute(x) if !matches!(a::name(&x.value), Some("self" | "cls")) => {
                Some(x.attr.id.as_str())
            }
            _ => None,
        }
    }
    a::walk(body, true, &mut |node, _at| match node {
        Node::Stmt(s) => match s {
            Stmt::Assign(x) => {
                for t in &x.targets {
                    if let Some(n) = foreign_attr(t) {
                        out.insert(n);
                    }
                    if let Expr::Subscript(sub) = t
                        && matches!(&*sub.slice, Expr::Slice(_))
                        && let Some(n) = foreign_attr(&sub.value)
                    {
                        out.insert(n);
                    }
                }
            }
            Stmt::Delete(d) => {
                for t in &d.targets {
                    if let Expr::Subscript(sub) = t
                        && let Some(n) = foreign_attr(&sub.value)
                    {
                        out.insert(n);
                    }
                }
            }
            _ => {}
        },
        Node::Expr(e) => {
            if let Expr::Call(c) = e
                && let Some((recv, m)) = a::method_call(c)
                && TRIM.contains(&m)
                && let Some(n) = foreign_attr(recv)
            {
                out.insert(n);
            }
        }
    });
    out
}

enum Target<'a> {
    /// Module names (the set of container names).
    Module(HashSet<String>),
    /// Attributes of these receivers (`self`, the class name); `class_recv` are the ones
    /// that name the class itself (its name, `cls` in a classmethod).
    Class {
        recv: Vec<String>,
        class_recv: Vec<String>,
        class: &'a str,
    },
}

/// What an `if` test says about the containers it guards.
#[derive(Default)]
struct Guard<'a> {
    /// Containers tested for emptiness (`not c`, `len(c) == 0`).
    empty: Vec<String>,
    /// `(value, container)` of `value not in c`.
    absent: Vec<(&'a Expr, String)>,
    /// The test reads a debug switch.
    debug: bool,
}

struct Uses<'a, 'm> {
    target: Target<'a>,
    found: &'m mut HashMap<String, Container<'a>>,
    consumed: HashSet<TextSize>,
    func: Option<&'a StmtFunctionDef>,
    loops: u32,
    /// Names a function makes local (module mode): uses there are not the module's.
    shadow: Vec<HashSet<String>>,
    /// Walking module-level statements (not inside any function).
    top: bool,
    /// The `if` tests around the current statement, within the current function.
    guards: Vec<Guard<'a>>,
    /// Local names holding a container's size in the current function (`n = len(c)`).
    sizes: HashMap<String, String>,
}

impl<'a, 'm> Uses<'a, 'm> {
    fn new(target: Target<'a>, found: &'m mut HashMap<String, Container<'a>>) -> Self {
        Uses {
            target,
            found,
            consumed: HashSet::new(),
            func: None,
            loops: 0,
            shadow: Vec::new(),
            top: false,
            guards: Vec::new(),
            sizes: HashMap::new(),
        }
    }

    /// The container key when `e` names a tracked container here.
    fn key(&self, e: &Expr) -> Option<String> {
        match &self.target {
            Target::Module(names) => {
                let n = a::name(e)?;
                (names.contains(n) && !self.shadow.last().is_some_and(|s| s.contains(n)))
                    .then(|| n.to_string())
            }
            Target::Class { recv, .. } => match e {
                // `type(self).entries`: the class's own attribute.
                Expr::Attribute(x)
                    if matches!(&*x.value, Expr::Call(c) if a::name(&c.func) == Some("type")
                        && c.arguments.args.first().and_then(a::name).is_some_and(|b| recv.iter().any(|r| r == b))) =>
                {
                    Some(x.attr.id.as_str().to_string())
                }
                Expr::Attribute(x) => {
                    let base = a::name(&x.value)?;
                    recv.iter()
                        .any(|r| r == base)
                        .then(|| x.attr.id.as_str().to_string())
                }
                _ => None,
            },
        }
    }

    fn entry(&mut self, key: &str) -> &mut Container<'a> {
        let (name, class) = match &self.target {
            Target::Module(_) => (key.to_string(), None),
            Target::Class { class, .. } => (format!("self.{key}"), Some(*class)),
        };
        self.found
            .entry(key.to_string())
            .or_insert_with(|| Container::new(name, class))
    }

    /// Take `e` as a read of its container (iteration, test, len()...).
    fn read(&mut self, e: &Expr) -> Option<String> {
        let k = self.take(e)?;
        self.entry(&k).reads += 1;
        Some(k)
    }

    fn take(&mut self, e: &Expr) -> Option<String> {
        let k = self.key(e)?;
        self.consumed.insert(e.start());
        if let Target::Class { class_recv, .. } = &self.target
            && let Expr::Attribute(x) = e
            && a::name(&x.value).is_some_and(|b| class_recv.iter().any(|r| r == b))
        {
            self.entry(&k).class_level = true;
        }
        Some(k)
    }

    /// What an `if` test says: emptiness tests, `v not in c`, debug switches.
    fn guard_of(&self, test: &'a Expr) -> Guard<'a> {
        let mut g = Guard::default();
        let mut parts = vec![test];
        while let Some(t) = parts.pop() {
            match t {
                Expr::BoolOp(b) if b.op == ruff_python_ast::BoolOp::And => {
                    parts.extend(b.values.iter())
                }
                Expr::UnaryOp(u) if u.op == ruff_python_ast::UnaryOp::Not => {
                    let inner = match &*u.operand {
                        Expr::Call(c) if a::name(&c.func) == Some("len") => {
                            c.arguments.args.first()
                        }
                        e => Some(e),
                    };
                    if let Some(k) = inner.and_then(|e| self.key(e)) {
                        g.empty.push(k);
                    }
                }
                Expr::Compare(c) if c.ops.len() == 1 && c.comparators.len() == 1 => {
                    let right = &c.comparators[0];
                    match c.ops[0] {
                        CmpOp::NotIn => {
                            if let Some(k) = self.key(right) {
                                g.absent.push((&c.left, k));
                            }
                        }
                        CmpOp::Eq => {
                            // `len(c) == 0`
                            if let Expr::Call(call) = &*c.left
                                && a::name(&call.func) == Some("len")
                                && matches!(right, Expr::NumberLiteral(n)
                                    if n.value.as_int().and_then(|i| i.as_u8()) == Some(0))
                                && let Some(k) =
                                    call.arguments.args.first().and_then(|e| self.key(e))
                            {
                                g.empty.push(k);
                            }
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        g.debug = mentions_switch(test);
        g
    }

    fn grow(
        &mut self,
        k: &str,
        range: TextRange,
        how: &'static str,
        value: Option<&'a Expr>,
        key: Option<&'a Expr>,
    ) {
        let fill_once = self.guards.iter().any(|g| g.empty.iter().any(|e| e == k));
        let debug_only = self.guards.iter().any(|g| g.debug);
        let dedup = value.is_some_and(|v| {
            let want = ComparableExpr::from(v);
            self.guards.iter().any(|g| {
                g.absent
                    .iter()
                    .any(|(x, c)| c == k && ComparableExpr::from(*x) == want)
            })
        });
        let g = Grow {
            range,
            how,
            value,
            key,
            func: self.func,
            loops: self.loops,
            fill_once,
            debug_only,
            dedup,
        };
        self.entry(k).grows.push(g);
    }

    fn reset(&mut self, k: &str) {
        let func = self.func;
        let c = self.entry(k);
        c.assigns += 1;
        c.assign_in.push(func);
    }

    fn trim(&mut self, k: &str) {
        let func = self.func;
        let c = self.entry(k);
        c.trims += 1;
        c.trim_in.push(func);
    }

    fn lookup(&mut self, k: &str, key: Option<&'a Expr>) {
        let func = self.func.map(|f| f.range);
        let c = self.entry(k);
        c.keyed_reads += 1;
        c.reads += 1;
        if let Some(key) = key {
            c.lookups.push((func, key));
        }
    }

    fn assign(&mut self, k: &str, value: &Expr, range: TextRange) {
        let top = self.top;
        let func = self.func;
        let c = self.entry(k);
        match (c.init, container_init(value)) {
            // Module names were given their creation already; class attributes get theirs here.
            (None, Some(i)) if !top => {
                c.init = Some((i, range));
                c.defaultdict = is_defaultdict(value);
            }
            (Some((_, r)), _) if r == range => {}
            _ => {
                c.assigns += 1;
                c.assign_in.push(func);
            }
        }
    }

    fn target(&mut self, t: &'a Expr, value: Option<&'a Expr>, range: TextRange) {
        if let Some(k) = self.take(t) {
            match value {
                Some(v) => self.assign(&k, v, range),
                None => self.reset(&k),
            }
            return;
        }
        match t {
            Expr::Subscript(s) => {
                if let Some(k) = self.take(&s.value) {
                    if matches!(&*s.slice, Expr::Slice(_)) {
                        self.trim(&k);
                    } else {
                        self.grow(&k, range, "[key] = value", value, Some(&s.slice));
                    }
                }
            }
            Expr::Tuple(x) => {
                for e in &x.elts {
                    self.target(e, None, range);
                }
            }
            Expr::List(x) => {
                for e in &x.elts {
                    self.target(e, None, range);
                }
            }
            Expr::Starred(x) => self.target(&x.value, None, range),
            _ => {}
        }
    }
}

impl<'a> Visitor<'a> for Uses<'a, '_> {
    fn visit_comprehension(&mut self, c: &'a ruff_python_ast::Comprehension) {
        self.read(&c.iter);
        visitor::walk_comprehension(self, c);
    }

    fn visit_stmt(&mut self, s: &'a Stmt) {
        match s {
            Stmt::Assign(x) => {
                for t in &x.targets {
                    self.target(t, Some(&x.value), s.range());
                }
                if let [t] = &x.targets[..]
                    && let Some(n) = a::name(t)
                {
                    match &*x.value {
                        Expr::Call(call) if a::name(&call.func) == Some("len") => {
                            if let Some(k) = call.arguments.args.first().and_then(|e| self.key(e)) {
                                self.sizes.insert(n.to_string(), k);
                            }
                        }
                        _ => {
                            self.sizes.remove(n);
                        }
                    }
                }
            }
            Stmt::AnnAssign(x) => self.target(&x.target, x.value.as_deref(), s.range()),
            Stmt::AugAssign(x) => {
                if let Some(k) = self.take(&x.target) {
                    match x.op {
                        Operator::Add | Operator::BitOr => {
                            self.grow(&k, s.range(), "+=", Some(&x.value), None)
                        }
                        Operator::Sub | Operator::BitAnd => self.trim(&k),
                        _ => self.reset(&k),
                    }
                } else if let Expr::Subscript(sub) = &*x.target
                    && let Some(k) = self.take(&sub.value)
                {
                    // A counter (`c[k] += 1`) is bounded by its keys: a lookup, not a grow.
                    self.lookup(&k, Some(&sub.slice));
                }
            }
            Stmt::Delete(d) => {
                for t in &d.targets {
                    if let Some(k) = self.take(t) {
                        self.trim(&k);
                    } else if let Expr::Subscript(sub) = t
                        && let Some(k) = self.take(&sub.value)
                    {
                        self.trim(&k);
                    }
                }
            }
            Stmt::For(f) => {
                self.read(&f.iter);
                self.visit_expr(&f.iter);
                self.visit_expr(&f.target);
                self.loops += 1;
                self.visit_body(&f.body);
                self.loops -= 1;
                self.visit_body(&f.orelse);
                return;
            }
            Stmt::While(w) => {
                self.read(&w.test);
                self.loops += 1;
                self.visit_expr(&w.test);
                self.visit_body(&w.body);
                self.loops -= 1;
                self.visit_body(&w.orelse);
                return;
            }
            Stmt::If(i) => {
                self.read(&i.test);
                for c in &i.elif_else_clauses {
                    if let Some(t) = &c.test {
                        self.read(t);
                    }
                }
                self.visit_expr(&i.test);
                let g = self.guard_of(&i.test);
                self.guards.push(g);
                self.visit_body(&i.body);
                self.guards.pop();
                for c in &i.elif_else_clauses {
                    if let Some(t) = &c.test {
                        self.visit_expr(t);
                        let g = self.guard_of(t);
                        self.guards.push(g);
                    } else {
                        self.guards.push(Guard::default());
                    }
                    self.visit_body(&c.body);
                    self.guards.pop();
                }
                return;
            }
            Stmt::Return(r) => {
                if let Some(v) = &r.value
                    && self.key(v).is_some()
                    && matches!(self.target, Target::Module(_))
                {
                    // Returning the module container hands it to callers: out of sight.
                }
            }
            Stmt::Global(g) => {
                // `global X` then `X = ...` in this function is the module's X again.
                if let Some(sh) = self.shadow.last_mut() {
                    for n in &g.names {
                        sh.remove(n.id.as_str());
                    }
                }
            }
            Stmt::FunctionDef(f) => {
                for d in &f.decorator_list {
                    self.visit_expr(&d.expression);
                }
                // Defaults are evaluated here: `def h(q=self.queue)` aliases the container.
                self.visit_parameters(&f.parameters);
                let saved = (self.func, self.loops, self.top);
                let saved_guards = std::mem::take(&mut self.guards);
                let saved_sizes = std::mem::take(&mut self.sizes);
                if self.func.is_none() || matches!(self.target, Target::Module(_)) {
                    self.func = Some(f);
                }
                self.loops = 0;
                self.top = false;
                if let Target::Module(names) = &self.target {
                    let local = locals_of(f, names);
                    self.shadow.push(local);
                }
                self.visit_body(&f.body);
                if matches!(self.target, Target::Module(_)) {
                    self.shadow.pop();
                }
                (self.func, self.loops, self.top) = saved;
                self.guards = saved_guards;
                self.sizes = saved_sizes;
                return;
            }
            Stmt::ClassDef(c) if matches!(self.target, Target::Class { .. }) => {
                // A class nested in a method has its own `self`.
                let _ = c;
                return;
            }
            _ => {}
        }
        visitor::walk_stmt(self, s);
    }

    fn visit_expr(&mut self, e: &'a Expr) {
        match e {
            Expr::Call(c) => {
                // `c.setdefault(k, []).append(v)`: the bucket of k grows.
                if let Some((Expr::Call(inner), m)) = a::method_call(c)
                    && matches!(
                        m,
                        "append" | "appendleft" | "extend" | "add" | "update" | "insert"
                    )
                    && let Some((holder, "setdefault")) = a::method_call(inner)
                    && let Some(k) = self.key(holder)
                {
                    let value = if m == "insert" {
                        c.arguments.args.get(1)
                    } else {
                        c.arguments.args.first()
                    };
                    self.grow(&k, e.range(), "[key].append()", value, None);
                }
                // `c[k].append(v)`: the entry grows (a defaultdict of lists, a dict of sets).
                if let Some((Expr::Subscript(sub), m)) = a::method_call(c)
                    && matches!(
                        m,
                        "append" | "appendleft" | "extend" | "add" | "update" | "insert"
                    )
                    && !matches!(&*sub.slice, Expr::Slice(_))
                    && let Some(k) = self.key(&sub.value)
                {
                    let value = if m == "insert" {
                        c.arguments.args.get(1)
                    } else {
                        c.arguments.args.first()
                    };
                    self.grow(&k, e.range(), "[key].append()", value, None);
                }
                if let Some((recv, m)) = a::method_call(c)
                    && let Some(k) = self.take(recv)
                {
                    if GROW.contains(&m) {
                        let (key, value) = if m == "setdefault" || m == "__setitem__" {
                            (c.arguments.args.first(), c.arguments.args.get(1))
                        } else if m == "insert" {
                            (None, c.arguments.args.get(1))
                        } else {
                            (None, c.arguments.args.first())
                        };
                        let how = match m {
                            "append" => ".append()",
                            "appendleft" => ".appendleft()",
                            "extend" | "extendleft" => ".extend()",
                            "add" => ".add()",
                            "update" => ".update()",
                            "insert" => ".insert()",
                            _ => ".setdefault()",
                        };
                        self.grow(&k, e.range(), how, value, key);
                    } else if TRIM.contains(&m) {
                        self.trim(&k);
                    } else {
                        self.entry(&k).reads += 1;
                    }
                    if KEYED.contains(&m) {
                        self.lookup(&k, c.arguments.args.first());
                    }
                }
                let callee = match a::callee_last(c) {
                    Some("heappush" | "insort" | "heappop" | "heapreplace" | "heappushpop") => {
                        a::dotted(&c.func).unwrap_or_default()
                    }
                    _ => a::name(&c.func).unwrap_or_default().to_string(),
                };
                let first = c.arguments.args.first();
                match callee.as_str() {
                    "heapq.heappush" | "heappush" | "bisect.insort" | "insort" => {
                        if let Some(k) = first.and_then(|x| self.take(x)) {
                            let v = c.arguments.args.get(1);
                            let how = if callee.ends_with("insort") {
                                "bisect.insort()"
                            } else {
                                "heapq.heappush()"
                            };
                            self.grow(&k, e.range(), how, v, None);
                        }
                    }
                    "heapq.heappop" | "heappop" | "heapq.heapreplace" | "heapq.heappushpop" => {
                        if let Some(k) = first.and_then(|x| self.take(x)) {
                            self.trim(&k);
                        }
                    }
                    n if READ_FUNCS.contains(&n)
                        || a::callee_last(c).is_some_and(|l| READ_DOTTED.contains(&l)) =>
                    {
                        for x in &c.arguments.args {
                            self.read(x);
                        }
                    }
                    _ => {}
                }
            }
            Expr::Compare(c) => {
                // `if len(c) < N:` guards the growth: the container is bounded by hand.
                // So does `n = len(c)` ... `if n < N:` in the same function.
                let ordered = c
                    .ops
                    .iter()
                    .any(|o| matches!(o, CmpOp::Lt | CmpOp::LtE | CmpOp::Gt | CmpOp::GtE));
                for x in c.comparators.iter().chain(std::iter::once(&*c.left)) {
                    if let Expr::Call(call) = x
                        && a::name(&call.func) == Some("len")
                        && let Some(arg) = call.arguments.args.first()
                        && let Some(k) = self.key(arg)
                    {
                        self.trim(&k);
                    } else if ordered
                        && let Some(n) = a::name(x)
                        && let Some(k) = self.sizes.get(n).cloned()
                    {
                        self.trim(&k);
                    }
                }
                let keyed = c.ops.iter().any(|o| matches!(o, CmpOp::In | CmpOp::NotIn));
                self.read(&c.left);
                for x in c.comparators.iter() {
                    if let Some(k) = self.take(x)
                        && keyed
                    {
                        self.lookup(&k, Some(&c.left));
                    }
                }
            }
            Expr::Subscript(s) if s.ctx == ExprContext::Load => {
                if let Some(k) = self.take(&s.value) {
                    // A defaultdict read by a caller's key inserts an entry per new key.
                    if self.entry(&k).defaultdict
                        && !a::is_const(&s.slice)
                        && self.func.is_some_and(|f| key_from_params(f, &s.slice))
                    {
                        self.grow(
                            &k,
                            e.range(),
                            "[key] read (defaultdict inserts it)",
                            None,
                            Some(&s.slice),
                        );
                    }
                    self.lookup(&k, Some(&s.slice));
                }
            }
            Expr::UnaryOp(u) => {
                self.read(&u.operand);
            }
            Expr::BoolOp(b) => {
                for x in &b.values[..b.values.len().saturating_sub(1)] {
                    self.read(x);
                }
            }
            Expr::Attribute(_) | Expr::Name(_) => {
                let load = match e {
                    Expr::Attribute(x) => x.ctx == ExprContext::Load,
                    Expr::Name(x) => x.ctx == ExprContext::Load,
                    _ => false,
                };
                if load
                    && !self.consumed.contains(&e.start())
                    && let Some(k) = self.key(e)
                {
                    let func = self.func;
                    let c = self.entry(&k);
                    c.escapes += 1;
                    c.escape_in.push(func);
                }
            }
            _ => {}
        }
        visitor::walk_expr(self, e);
    }
}

/// True when a test reads a debug switch: `__debug__`, or a name or attribute containing
/// `debug` or `verbose` (`self.debug`, `DEBUG`, `verbose`).
fn mentions_switch(test: &Expr) -> bool {
    struct S(bool);
    impl<'a> Visitor<'a> for S {
        fn visit_expr(&mut self, e: &'a Expr) {
            let n = match e {
                Expr::Name(n) => Some(n.id.as_str()),
                Expr::Attribute(x) => Some(x.attr.id.as_str()),
                _ => None,
            };
            if let Some(n) = n {
                let l = n.to_ascii_lowercase();
                self.0 |= l == "__debug__" || l.contains("debug") || l.contains("verbose");
            }
            visitor::walk_expr(self, e);
        }
    }
    let mut s = S(false);
    s.visit_expr(test);
    s.0
}

/// Names a function binds locally (parameters and plain assignments), among `names`.
fn locals_of(f: &StmtFunctionDef, names: &HashSet<String>) -> HashSet<String> {
    let mut out: HashSet<String> = HashSet::new();
    let p = &f.parameters;
    for x in p.posonlyargs.iter().chain(&p.args).chain(&p.kwonlyargs) {
        let n = x.parameter.name.id.as_str();
        if names.contains(n) {
            out.insert(n.to_string());
        }
    }
    let mut globals: Vec<String> = Vec::new();
    a::walk(&f.body, false, &mut |node, _at| match node {
        Node::Stmt(s) => {
            if let Stmt::Global(g) = s {
                globals.extend(g.names.iter().map(|n| n.id.as_str().to_string()));
            }
        }
        Node::Expr(e) => {
            if let Expr::Name(n) = e
                && n.ctx == ExprContext::Store
                && names.contains(n.id.as_str())
            {
                out.insert(n.id.as_str().to_string());
            }
        }
    });
    for g in globals {
        out.remove(&g);
    }
    out
}

/// The values assigned to plain name `n` anywhere in `body` (nested scopes skipped).
pub fn assigned<'a>(body: &'a [Stmt], n: &str) -> Vec<&'a Expr> {
    let mut out = Vec::new();
    a::walk(body, false, &mut |node, at| match node {
        Node::Stmt(s) => {
            let _: At = at;
            match s {
                Stmt::Assign(x) if x.targets.iter().any(|t| a::name(t) == Some(n)) => {
                    out.push(&*x.value)
                }
                Stmt::AnnAssign(x) if a::name(&x.target) == Some(n) => {
                    if let Some(v) = &x.value {
                        out.push(&**v)
                    }
                }
                _ => {}
            }
        }
        Node::Expr(_) => {}
    });
    out
}
