//! Expressions → Java: a compiled expression ([`Node`]) printed as a Java expression over the
//! current record `r` (a Flink `Row`) and, in reduces, the accumulated record `a`.
//!
//! The translation keeps streamlab's semantics, which already follow Java: `long` arithmetic
//! wraps and throws on integer division by zero, `double` arithmetic is IEEE 754, `%` keeps the
//! sign of the dividend. Field reads go through `X.l/d/s/b` (typed reads of a `Row` field).

use streamlab_engine::core::value::{Interner, Schema, Type, Value};
use streamlab_engine::expr::eval::{Arith, Cmp, CmpKind, Node, RoundMode};
use streamlab_engine::expr::{Expr, SelectItem};

/// The records an expression reads: `r` (row 0) and, for reduces, `a` (row 1).
pub struct Rows<'a> {
    /// The current record's fields.
    pub cur: &'a Schema,
    /// The accumulated record's fields (reduce), if any.
    pub acc: Option<&'a Schema>,
}

/// The Java expression of `e` (its value boxed where a `Row` field needs an object).
pub fn java(e: &Expr, rows: &Rows<'_>, strings: &Interner) -> String {
    node(&e.node, rows, strings).0
}

/// A Java string literal.
pub fn string_lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The Java literal of a value.
pub fn value_lit(v: Value, strings: &Interner) -> String {
    match v {
        Value::Int(i) if i == i64::MIN => "Long.MIN_VALUE".into(),
        Value::Int(i) => format!("{i}L"),
        Value::Float(f) if f.is_nan() => "Double.NaN".into(),
        Value::Float(f) if f.is_infinite() && f > 0.0 => "Double.POSITIVE_INFINITY".into(),
        Value::Float(f) if f.is_infinite() => "Double.NEGATIVE_INFINITY".into(),
        Value::Float(f) => format!("{f:?}d"),
        Value::Str(s) => string_lit(strings.resolve(s)),
        Value::Bool(b) => b.to_string(),
    }
}

/// The Java statement body of one flat_map column: a scalar expression, or the split's
/// `X.split(text, delimiter)` (a `List<String>`).
pub fn select_item(item: &SelectItem, rows: &Rows<'_>, strings: &Interner) -> (String, bool) {
    match item {
        SelectItem::Scalar(e) => (java(e, rows, strings), false),
        SelectItem::Split { input, delimiter } => (
            format!(
                "X.split({}, {})",
                java(input, rows, strings),
                delimiter
                    .as_deref()
                    .map_or_else(|| "null".to_string(), string_lit)
            ),
            true,
        ),
    }
}

fn arith(op: Arith) -> &'static str {
    match op {
        Arith::Add => "+",
        Arith::Sub => "-",
        Arith::Mul => "*",
        Arith::Div => "/",
        Arith::Rem => "%",
    }
}

fn cmp(op: Cmp) -> &'static str {
    match op {
        Cmp::Eq => "==",
        Cmp::Ne => "!=",
        Cmp::Lt => "<",
        Cmp::Le => "<=",
        Cmp::Gt => ">",
        Cmp::Ge => ">=",
    }
}

fn field(row: u8, idx: usize, rows: &Rows<'_>) -> (String, Type) {
    let (var, schema) = if row == 0 {
        ("r", rows.cur)
    } else {
        ("a", rows.acc.unwrap_or(rows.cur))
    };
    let ty = schema.fields.get(idx).map_or(Type::Int, |f| f.ty);
    let read = match ty {
        Type::Int => "l",
        Type::Float => "d",
        Type::String => "s",
        Type::Bool => "b",
    };
    (format!("X.{read}({var}, {idx})"), ty)
}

/// The Java text and type of a node.
fn node(n: &Node, rows: &Rows<'_>, strings: &Interner) -> (String, Type) {
    let sub = |n: &Node| node(n, rows, strings).0;
    match n {
        Node::Field { row, idx } => field(*row, *idx as usize, rows),
        Node::Const(v) => (value_lit(*v, strings), v.ty()),
        Node::IntArith(op, a, b) => (format!("({} {} {})", sub(a), arith(*op), sub(b)), Type::Int),
        Node::FloatArith(op, a, b) => (
            format!("((double) {} {} (double) {})", sub(a), arith(*op), sub(b)),
            Type::Float,
        ),
        Node::IntNeg(a) => (format!("(-{})", sub(a)), Type::Int),
        Node::FloatNeg(a) => (format!("(-{})", sub(a)), Type::Float),
        Node::ToFloat(a) => (format!("((double) {})", sub(a)), Type::Float),
        Node::ToInt(a) => (format!("((long) {})", sub(a)), Type::Int),
        Node::ToStr(a) => (format!("String.valueOf({})", sub(a)), Type::String),
        Node::Compare(op, kind, a, b) => {
            let (x, y) = (sub(a), sub(b));
            let text = match kind {
                CmpKind::Int | CmpKind::Bool if matches!(op, Cmp::Eq | Cmp::Ne) => {
                    format!("({x} {} {y})", cmp(*op))
                }
                CmpKind::Int => format!("({x} {} {y})", cmp(*op)),
                CmpKind::Float => format!("((double) {x} {} (double) {y})", cmp(*op)),
                CmpKind::Str => format!("({x}.compareTo({y}) {} 0)", cmp(*op)),
                CmpKind::Bool => format!("(Boolean.compare({x}, {y}) {} 0)", cmp(*op)),
            };
            (text, Type::Bool)
        }
        Node::And(a, b) => (format!("({} && {})", sub(a), sub(b)), Type::Bool),
        Node::Or(a, b) => (format!("({} || {})", sub(a), sub(b)), Type::Bool),
        Node::Not(a) => (format!("(!{})", sub(a)), Type::Bool),
        Node::InList(a, list) => {
            let items: Vec<String> = list.iter().map(|v| value_lit(*v, strings)).collect();
            (
                format!("X.in({}, {})", sub(a), items.join(", ")),
                Type::Bool,
            )
        }
        Node::Case(arms, otherwise) => {
            let (other, ty) = node(otherwise, rows, strings);
            let mut text = String::new();
            for (c, r) in arms {
                text.push_str(&format!(
                    "({} ? {} : ",
                    sub(c),
                    cast(node(r, rows, strings), ty)
                ));
            }
            text.push_str(&other);
            text.push_str(&")".repeat(arms.len()));
            (text, ty)
        }
        Node::Lower(a) => (format!("X.lower({})", sub(a)), Type::String),
        Node::Upper(a) => (format!("X.upper({})", sub(a)), Type::String),
        Node::Concat(parts) => {
            let items: Vec<String> = parts
                .iter()
                .map(|p| format!("String.valueOf({})", sub(p)))
                .collect();
            (format!("({})", items.join(" + ")), Type::String)
        }
        Node::Length(a) => (format!("X.length({})", sub(a)), Type::Int),
        Node::IntAbs(a) => (format!("Math.abs({})", sub(a)), Type::Int),
        Node::FloatAbs(a) => (format!("Math.abs({})", sub(a)), Type::Float),
        Node::FloatRound(mode, a) => {
            let f = match mode {
                RoundMode::Floor => "Math.floor",
                RoundMode::Ceil => "Math.ceil",
                RoundMode::Round => "X.round",
            };
            (format!("{f}({})", sub(a)), Type::Float)
        }
        Node::IntArithFieldConst(op, idx, c) => (
            format!(
                "({} {} {})",
                field(0, *idx as usize, rows).0,
                arith(*op),
                value_lit(Value::Int(*c), strings)
            ),
            Type::Int,
        ),
        Node::IntArithFieldField(op, a, b) => (
            format!(
                "({} {} {})",
                field(0, *a as usize, rows).0,
                arith(*op),
                field(0, *b as usize, rows).0
            ),
            Type::Int,
        ),
        Node::CompareIntFieldConst(op, idx, c) => (
            format!(
                "({} {} {})",
                field(0, *idx as usize, rows).0,
                cmp(*op),
                value_lit(Value::Int(*c), strings)
            ),
            Type::Bool,
        ),
    }
}

/// A CASE arm's value in the CASE's type (an integer arm of a float CASE widens).
fn cast((text, ty): (String, Type), want: Type) -> String {
    if ty == Type::Int && want == Type::Float {
        format!("((double) {text})")
    } else {
        text
    }
}

/// The Java boxed type of a field type.
pub fn boxed(ty: Type) -> &'static str {
    match ty {
        Type::Int => "Long",
        Type::Float => "Double",
        Type::String => "String",
        Type::Bool => "Boolean",
    }
}

/// Flink's `TypeInformation` of a field type.
pub fn type_info(ty: Type) -> &'static str {
    match ty {
        Type::Int => "Types.LONG",
        Type::Float => "Types.DOUBLE",
        Type::String => "Types.STRING",
        Type::Bool => "Types.BOOLEAN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use streamlab_engine::expr::{Scope, compile};

    fn j(text: &str) -> String {
        let schema = Schema::new([("word", Type::String), ("n", Type::Int), ("x", Type::Float)]);
        let mut i = Interner::new();
        let e = compile(text, &Scope::Record(&schema), &mut i).unwrap();
        java(
            &e,
            &Rows {
                cur: &schema,
                acc: None,
            },
            &i,
        )
    }

    #[test]
    fn expressions_read_row_fields_and_keep_java_arithmetic() {
        assert_eq!(j("n * 3"), "(X.l(r, 1) * 3L)");
        assert_eq!(j("n > 30"), "(X.l(r, 1) > 30L)");
        assert_eq!(j("lower(word)"), "X.lower(X.s(r, 0))");
        assert!(j("x + n").contains("(double)"), "{}", j("x + n"));
        assert_eq!(j("word = 'a'"), "(X.s(r, 0).compareTo(\"a\") == 0)");
    }
}
