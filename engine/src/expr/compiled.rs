//! Expressions compiled once, when a scenario is checked, and bound to each run.
//!
//! The checker compiles every expression of a scenario to type-check it. A run needs the
//! same compiled tree, but with its string literals as symbols of the run's own
//! [`Interner`]. A [`Compiled`] keeps the tree with its literals numbered in a table of their
//! own, in the order the compiler met them; [`Compiled::bind`] interns that table into the
//! run's interner, in that order, and renumbers the tree. The run gets the symbols it would
//! get by compiling the text against its interner — the same ones, added in the same order —
//! and binding cannot fail: a scenario that was checked runs without compiling anything.
//!
//! ```
//! use streamlab_engine::expr::{Compiled, Scope};
//! use streamlab_engine::expr::eval::EvalCx;
//! use streamlab_engine::core::value::{Interner, Schema, Type, Value};
//!
//! let schema = Schema::new([("word", Type::String)]);
//! let checked = Compiled::expr("word = 'to'", &Scope::Record(&schema)).unwrap();
//! let mut interner = Interner::new();
//! let to = interner.intern("be");
//! let e = checked.bind(&mut interner);
//! let (mut scratch, mut error) = (String::new(), None);
//! let mut cx = EvalCx { interner: &mut interner, scratch: &mut scratch, error: &mut error };
//! assert_eq!(e.eval(&[Value::Str(to)], &[], &mut cx), Value::Bool(false));
//! ```

use super::eval::Node;
use super::{Expr, ExprError, Scope, SelectItem};
use crate::core::value::{Interner, Sym, Type, Value};

/// A compiled expression (or a compiled flat_map column, reduce update, … — see [`Relink`])
/// not yet bound to a run.
#[derive(Debug, Clone)]
pub struct Compiled<T = Expr> {
    /// The compiled form, its string symbols numbered in `strings`.
    item: T,
    /// The string literals, in the order the compiler interned them.
    strings: Vec<Box<str>>,
}

/// A compiled form whose string symbols can be renumbered.
pub trait Relink: Clone {
    /// Replaces every string symbol `s` by `to[s]`.
    fn relink(&mut self, to: &[Sym]);
}

/// One field a reduce sets: the position of the accumulated record's field and the
/// expression whose value it takes.
#[derive(Debug, Clone)]
pub struct Assign {
    /// The field's position in the record.
    pub index: usize,
    /// Its new value, over `acc.*` and the incoming record.
    pub expr: Expr,
}

impl<T: Relink> Compiled<T> {
    /// Runs `compile` against an interner of its own and keeps the strings it interned.
    pub fn with(
        compile: impl FnOnce(&mut Interner) -> Result<T, ExprError>,
    ) -> Result<Self, ExprError> {
        let mut local = Interner::new();
        let item = compile(&mut local)?;
        let strings = (0..local.len())
            .map(|i| local.resolve(Sym(i as u32)).into())
            .collect();
        Ok(Compiled { item, strings })
    }

    /// The compiled form, with symbols of this expression's own table (for its type and
    /// shape; to evaluate it, [`bind`](Compiled::bind) it).
    pub fn get(&self) -> &T {
        &self.item
    }

    /// The runnable form for a run whose strings are in `interner`.
    pub fn bind(&self, interner: &mut Interner) -> T {
        let mut item = self.item.clone();
        if !self.strings.is_empty() {
            let to: Vec<Sym> = self.strings.iter().map(|s| interner.intern(s)).collect();
            item.relink(&to);
        }
        item
    }

    /// The same compiled form with another item built from this one (symbols unchanged).
    pub fn map<U: Relink>(self, f: impl FnOnce(T) -> U) -> Compiled<U> {
        Compiled {
            item: f(self.item),
            strings: self.strings,
        }
    }
}

impl Compiled<Expr> {
    /// Compiles an expression over `scope` ([`super::compile`]).
    pub fn expr(text: &str, scope: &Scope<'_>) -> Result<Self, ExprError> {
        Self::with(|i| super::compile(text, scope, i))
    }

    /// Compiles an expression that must have type `want` ([`super::compile_typed`]).
    pub fn typed(text: &str, scope: &Scope<'_>, want: Type, what: &str) -> Result<Self, ExprError> {
        Self::with(|i| super::compile_typed(text, scope, i, want, what))
    }

    /// The result type.
    pub fn ty(&self) -> Type {
        self.item.ty
    }

    /// If the expression is a plain field of the current record, its position.
    pub fn as_field(&self) -> Option<usize> {
        self.item.as_field()
    }
}

impl Compiled<SelectItem> {
    /// Compiles a flat_map column, where a top-level `split` is allowed
    /// ([`super::compile_select`]).
    pub fn select(text: &str, scope: &Scope<'_>) -> Result<Self, ExprError> {
        Self::with(|i| super::compile_select(text, scope, i))
    }
}

impl Relink for Expr {
    fn relink(&mut self, to: &[Sym]) {
        relink_node(&mut self.node, to);
    }
}

impl Relink for SelectItem {
    fn relink(&mut self, to: &[Sym]) {
        match self {
            SelectItem::Scalar(e) | SelectItem::Split { input: e, .. } => e.relink(to),
        }
    }
}

impl Relink for Assign {
    fn relink(&mut self, to: &[Sym]) {
        self.expr.relink(to);
    }
}

impl<const N: usize> Relink for [Expr; N] {
    fn relink(&mut self, to: &[Sym]) {
        for e in self {
            e.relink(to);
        }
    }
}

fn relink_value(v: &mut Value, to: &[Sym]) {
    if let Value::Str(s) = v {
        *s = to[s.0 as usize];
    }
}

/// Renumbers the string constants of a tree.
fn relink_node(n: &mut Node, to: &[Sym]) {
    match n {
        Node::Const(v) => relink_value(v, to),
        Node::InList(x, list) => {
            relink_node(x, to);
            list.iter_mut().for_each(|v| relink_value(v, to));
        }
        Node::IntArith(_, a, b)
        | Node::FloatArith(_, a, b)
        | Node::Compare(_, _, a, b)
        | Node::And(a, b)
        | Node::Or(a, b) => {
            relink_node(a, to);
            relink_node(b, to);
        }
        Node::IntNeg(a)
        | Node::FloatNeg(a)
        | Node::ToFloat(a)
        | Node::ToInt(a)
        | Node::ToStr(a)
        | Node::Not(a)
        | Node::Lower(a)
        | Node::Upper(a)
        | Node::Length(a)
        | Node::IntAbs(a)
        | Node::FloatAbs(a)
        | Node::FloatRound(_, a) => relink_node(a, to),
        Node::Case(arms, otherwise) => {
            for (c, r) in arms {
                relink_node(c, to);
                relink_node(r, to);
            }
            relink_node(otherwise, to);
        }
        Node::Concat(parts) => parts.iter_mut().for_each(|p| relink_node(p, to)),
        Node::Field { .. }
        | Node::IntArithFieldConst(..)
        | Node::IntArithFieldField(..)
        | Node::CompareIntFieldConst(..) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::value::Schema;
    use crate::expr::compile;

    fn schema() -> Schema {
        Schema::new([("word", Type::String), ("n", Type::Int)])
    }

    #[test]
    fn binding_interns_like_compiling_against_the_run() {
        let s = schema();
        let texts = [
            "CASE WHEN word = 'b' THEN 'x' WHEN word IN ('a', 'b', 'c') THEN concat(word, 'y') ELSE 'x' END",
            "upper(word) || 'z'",
            "n + 1",
        ];
        let mut direct = Interner::new();
        direct.intern("already there");
        let mut bound = direct.clone();
        for t in texts {
            let d = compile(t, &Scope::Record(&s), &mut direct).unwrap();
            let c = Compiled::expr(t, &Scope::Record(&s)).unwrap();
            let b = c.bind(&mut bound);
            assert_eq!(format!("{:?}", d.node), format!("{:?}", b.node), "{t}");
            assert_eq!((d.ty, &*d.text), (b.ty, &*b.text));
        }
        let all = |i: &Interner| -> Vec<String> {
            (0..i.len() as u32)
                .map(|k| i.resolve(Sym(k)).to_string())
                .collect()
        };
        assert_eq!(
            all(&direct),
            ["already there", "x", "b", "a", "c", "y", "z"]
        );
        assert_eq!(all(&bound), all(&direct));
    }

    #[test]
    fn a_split_and_a_pair_bind_their_strings_too() {
        let s = schema();
        let c = Compiled::select("split(concat(word, '-'), ',')", &Scope::Record(&s)).unwrap();
        let mut i = Interner::new();
        i.intern("first");
        let SelectItem::Split { input, delimiter } = c.bind(&mut i) else {
            panic!("a split")
        };
        assert_eq!(delimiter.as_deref(), Some(","));
        assert!(format!("{:?}", input.node).contains("Str(Sym(1))"));
        assert_eq!(i.resolve(Sym(1)), "-");
        let pair = Compiled::with(|i| {
            Ok([
                compile("word = 'l'", &Scope::Record(&s), i)?,
                compile("word = 'r'", &Scope::Record(&s), i)?,
            ])
        })
        .unwrap();
        let mut i = Interner::new();
        let [l, r] = pair.bind(&mut i);
        assert_eq!((i.resolve(Sym(0)), i.resolve(Sym(1))), ("l", "r"));
        assert!(format!("{:?}", l.node).contains("Str(Sym(0))"));
        assert!(format!("{:?}", r.node).contains("Str(Sym(1))"));
    }

    #[test]
    fn an_integer_literal_is_what_compiling_its_text_gives() {
        let s = schema();
        let c = compile("0", &Scope::Record(&s), &mut Interner::new()).unwrap();
        assert_eq!(format!("{c:?}"), format!("{:?}", Expr::int(0)));
    }

    #[test]
    fn errors_are_the_compilers() {
        let s = schema();
        let e = Compiled::typed(
            "n + 1",
            &Scope::Record(&s),
            Type::Bool,
            "a filter's `where`",
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "a filter's `where` must be bool, but `n + 1` is int"
        );
        assert!(Compiled::expr("nope", &Scope::Record(&s)).is_err());
    }
}
