//! Small questions about ruff AST nodes: dotted names, keywords, literals, and a scope walker.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, ExprCall, Stmt};

/// The dotted name of a Name/Attribute chain (`plt.figure`, `self.cache`), if it is one.
pub fn dotted(e: &Expr) -> Option<String> {
    match e {
        Expr::Name(n) => Some(n.id.as_str().to_string()),
        Expr::Attribute(a) => dotted(&a.value).map(|v| format!("{v}.{}", a.attr.id.as_str())),
        _ => None,
    }
}

/// The last segment of a call's callee (`open` for `io.open(...)`, `append` for `x.append(...)`).
pub fn callee_last(c: &ExprCall) -> Option<&str> {
    match &*c.func {
        Expr::Name(n) => Some(n.id.as_str()),
        Expr::Attribute(a) => Some(a.attr.id.as_str()),
        _ => None,
    }
}

/// The receiver and method of `recv.method(...)`.
pub fn method_call(c: &ExprCall) -> Option<(&Expr, &str)> {
    match &*c.func {
        Expr::Attribute(a) => Some((&a.value, a.attr.id.as_str())),
        _ => None,
    }
}

/// The value of keyword `name` in a call.
pub fn keyword<'a>(c: &'a ExprCall, name: &str) -> Option<&'a Expr> {
    c.arguments
        .keywords
        .iter()
        .find(|k| k.arg.as_ref().is_some_and(|a| a.id.as_str() == name))
        .map(|k| &k.value)
}

/// `name` if `e` is the plain name `name`.
pub fn name(e: &Expr) -> Option<&str> {
    match e {
        Expr::Name(n) => Some(n.id.as_str()),
        _ => None,
    }
}

/// The attribute of `base.attr` when `base` is the plain name `base`.
pub fn attr_of<'a>(e: &'a Expr, base: &str) -> Option<&'a str> {
    match e {
        Expr::Attribute(a) if name(&a.value) == Some(base) => Some(a.attr.id.as_str()),
        _ => None,
    }
}

/// True for `None`.
pub fn is_none(e: &Expr) -> bool {
    matches!(e, Expr::NoneLiteral(_))
}

/// True for an expression that is a string for sure (literal, f-string, `str(...)`, `'..' % x`,
/// `'..'.format(...)`, `'..'.join(...)`, or `+` with a string side).
pub fn is_stringy(e: &Expr) -> bool {
    match e {
        Expr::StringLiteral(_) | Expr::FString(_) => true,
        Expr::Call(c) => match &*c.func {
            Expr::Name(n) => matches!(n.id.as_str(), "str" | "repr" | "chr" | "format"),
            Expr::Attribute(a) => {
                matches!(&*a.value, Expr::StringLiteral(_))
                    || matches!(
                        a.attr.id.as_str(),
                        "decode"
                            | "strip"
                            | "lstrip"
                            | "rstrip"
                            | "lower"
                            | "upper"
                            | "rjust"
                            | "ljust"
                    )
            }
            _ => false,
        },
        Expr::BinOp(b) => is_stringy(&b.left) || is_stringy(&b.right),
        _ => false,
    }
}

/// True for a string built at run time from non-constant parts (f-string with fields, `%`,
/// `.format`, `+` with a non-literal side).
pub fn is_built_string(e: &Expr) -> bool {
    match e {
        Expr::FString(f) => f.value.elements().any(|el| el.is_interpolation()),
        Expr::BinOp(b) => {
            (is_stringy(&b.left) || is_stringy(&b.right))
                && !(is_const(&b.left) && is_const(&b.right))
        }
        Expr::Call(c) => matches!(&*c.func, Expr::Attribute(a)
            if a.attr.id.as_str() == "format" && matches!(&*a.value, Expr::StringLiteral(_))),
        _ => false,
    }
}

/// True for literals and tuples of literals.
pub fn is_const(e: &Expr) -> bool {
    match e {
        Expr::StringLiteral(_)
        | Expr::BytesLiteral(_)
        | Expr::NumberLiteral(_)
        | Expr::BooleanLiteral(_)
        | Expr::NoneLiteral(_) => true,
        Expr::Tuple(t) => t.elts.iter().all(is_const),
        _ => false,
    }
}

/// Every plain name loaded anywhere inside `e` (its lambdas and comprehensions included).
pub fn names_in<'a>(e: &'a Expr, out: &mut Vec<&'a str>) {
    struct N<'a, 'b>(&'b mut Vec<&'a str>);
    impl<'a> Visitor<'a> for N<'a, '_> {
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Name(n) = e {
                self.0.push(n.id.as_str());
            }
            visitor::walk_expr(self, e);
        }
    }
    N(out).visit_expr(e);
}

/// Where an expression sits in the walk of one scope.
#[derive(Clone, Copy, Debug, Default)]
pub struct At {
    /// How many `for`/`while` loops (or comprehensions) of this scope enclose it.
    pub loops: u32,
}

/// A statement or an expression met by [`walk`].
#[derive(Clone, Copy, Debug)]
pub enum Node<'a> {
    /// A statement.
    Stmt(&'a Stmt),
    /// An expression.
    Expr(&'a Expr),
}

/// Visit every statement and expression of a body, parents before children; nested functions
/// and classes are skipped unless `nested`, in which case they are entered too (lambdas are
/// always entered).
pub fn walk<'a>(body: &'a [Stmt], nested: bool, on: &mut dyn FnMut(Node<'a>, At)) {
    let mut w = Walker {
        nested,
        at: At::default(),
        on,
    };
    w.visit_body(body);
}

struct Walker<'f, 'a> {
    nested: bool,
    at: At,
    on: &'f mut dyn FnMut(Node<'a>, At),
}

impl<'a> Visitor<'a> for Walker<'_, 'a> {
    fn visit_stmt(&mut self, s: &'a Stmt) {
        (self.on)(Node::Stmt(s), self.at);
        match s {
            Stmt::FunctionDef(f) => {
                for d in &f.decorator_list {
                    self.visit_expr(&d.expression);
                }
                if self.nested {
                    let saved = self.at;
                    self.at = At::default();
                    self.visit_body(&f.body);
                    self.at = saved;
                }
            }
            Stmt::ClassDef(c) => {
                for d in &c.decorator_list {
                    self.visit_expr(&d.expression);
                }
                if self.nested {
                    self.visit_body(&c.body);
                }
            }
            Stmt::For(f) => {
                self.visit_expr(&f.iter);
                self.visit_expr(&f.target);
                self.at.loops += 1;
                self.visit_body(&f.body);
                self.at.loops -= 1;
                self.visit_body(&f.orelse);
            }
            Stmt::While(w) => {
                self.at.loops += 1;
                self.visit_expr(&w.test);
                self.visit_body(&w.body);
                self.at.loops -= 1;
                self.visit_body(&w.orelse);
            }
            _ => visitor::walk_stmt(self, s),
        }
    }

    fn visit_expr(&mut self, e: &'a Expr) {
        (self.on)(Node::Expr(e), self.at);
        match e {
            Expr::ListComp(_) | Expr::SetComp(_) | Expr::DictComp(_) | Expr::Generator(_) => {
                self.at.loops += 1;
                visitor::walk_expr(self, e);
                self.at.loops -= 1;
            }
            _ => visitor::walk_expr(self, e),
        }
    }
}

/// The functions defined directly in a body (looking through `if`/`try` blocks).
pub fn defs_in(body: &[Stmt]) -> Vec<&ruff_python_ast::StmtFunctionDef> {
    let mut out = Vec::new();
    collect_defs(body, &mut out);
    out
}

fn collect_defs<'a>(body: &'a [Stmt], out: &mut Vec<&'a ruff_python_ast::StmtFunctionDef>) {
    for s in body {
        match s {
            Stmt::FunctionDef(f) => out.push(f),
            Stmt::If(i) => {
                collect_defs(&i.body, out);
                for c in &i.elif_else_clauses {
                    collect_defs(&c.body, out);
                }
            }
            Stmt::Try(t) => {
                collect_defs(&t.body, out);
                collect_defs(&t.orelse, out);
                collect_defs(&t.finalbody, out);
            }
            _ => {}
        }
    }
}

/// The name of a function's first positional parameter (`self` for methods).
pub fn first_param(f: &ruff_python_ast::StmtFunctionDef) -> Option<&str> {
    let p = &f.parameters;
    p.posonlyargs
        .first()
        .or_else(|| p.args.first())
        .map(|a| a.parameter.name.id.as_str())
}

/// True when a decorator list holds `@name` or `@x.name`.
pub fn has_decorator(f: &ruff_python_ast::StmtFunctionDef, names: &[&str]) -> bool {
    f.decorator_list.iter().any(|d| {
        let e = match &d.expression {
            Expr::Call(c) => &*c.func,
            e => e,
        };
        dotted(e).is_some_and(|n| {
            names
                .iter()
                .any(|x| n == *x || n.ends_with(&format!(".{x}")))
        })
    })
}
