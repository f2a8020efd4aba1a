//! The compiled form of an expression and its evaluator.
//!
//! Types were resolved at compile time, so every node knows whether it adds integers or
//! floats and fields are read by position: evaluation is a walk over a small tree with no
//! string lookups and no allocation (new strings are interned into a reused scratch buffer).
//! Arithmetic follows Java, as Flink's operators would compute it: integer overflow wraps,
//! `%` is the remainder with the sign of the dividend, integer division by zero is an error
//! (Java throws `ArithmeticException`), float division by zero gives ±infinity or NaN.

use crate::core::value::{Interner, Sym, Value};

/// Arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `=`
    Eq,
    /// `<>` or `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// What a comparison compares (decided at compile time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpKind {
    /// Two integers.
    Int,
    /// Two numbers, at least one a float.
    Float,
    /// Two strings (lexicographic by Unicode scalar values, like Java's `compareTo` for BMP text).
    Str,
    /// Two booleans (`false < true`).
    Bool,
}

/// A node of a compiled expression.
#[derive(Debug, Clone)]
pub enum Node {
    /// Field `idx` of the current record (`row == 0`) or of the accumulator (`row == 1`).
    Field {
        /// 0: the record being processed; 1: the accumulated record (reduce only).
        row: u8,
        /// Field position.
        idx: u16,
    },
    /// A literal.
    Const(Value),
    /// Integer arithmetic.
    IntArith(Arith, Box<Node>, Box<Node>),
    /// Float arithmetic.
    FloatArith(Arith, Box<Node>, Box<Node>),
    /// Integer negation.
    IntNeg(Box<Node>),
    /// Float negation.
    FloatNeg(Box<Node>),
    /// Integer widened to float.
    ToFloat(Box<Node>),
    /// Float truncated to integer (Java's `(long)` cast).
    ToInt(Box<Node>),
    /// Any value printed as a string.
    ToStr(Box<Node>),
    /// A comparison.
    Compare(Cmp, CmpKind, Box<Node>, Box<Node>),
    /// `a AND b` (short-circuit).
    And(Box<Node>, Box<Node>),
    /// `a OR b` (short-circuit).
    Or(Box<Node>, Box<Node>),
    /// `NOT a`.
    Not(Box<Node>),
    /// `x IN (constants…)`.
    InList(Box<Node>, Vec<Value>),
    /// `CASE WHEN c THEN r … ELSE e END`.
    Case(Vec<(Node, Node)>, Box<Node>),
    /// `lower(s)`.
    Lower(Box<Node>),
    /// `upper(s)`.
    Upper(Box<Node>),
    /// `concat(a, b, …)` and `a || b`: every argument printed and joined.
    Concat(Vec<Node>),
    /// `length(s)`: number of characters.
    Length(Box<Node>),
    /// `abs(n)` on an integer.
    IntAbs(Box<Node>),
    /// `abs(x)` on a float.
    FloatAbs(Box<Node>),
    /// `floor`, `ceil` or `round` of a float (result is a float).
    FloatRound(RoundMode, Box<Node>),
    /// Fused `field op constant` on integers (the most common shape: `amount * 3`).
    IntArithFieldConst(Arith, u16, i64),
    /// Fused `field op field` on integers.
    IntArithFieldField(Arith, u16, u16),
    /// Fused `field cmp constant` on integers (`amount > 30`).
    CompareIntFieldConst(Cmp, u16, i64),
}

/// Rounding functions on floats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundMode {
    /// Toward −∞.
    Floor,
    /// Toward +∞.
    Ceil,
    /// Half away from zero (SQL `ROUND`).
    Round,
}

/// What an evaluation needs besides the record: the interner for new strings, a scratch
/// buffer, and a place to report a runtime error (division by zero) without unwinding.
#[derive(Debug)]
pub struct EvalCx<'a> {
    /// The run's strings.
    pub interner: &'a mut Interner,
    /// Reused buffer for building strings.
    pub scratch: &'a mut String,
    /// Set when an evaluation failed; the caller fails the task.
    pub error: &'a mut Option<String>,
}

impl Node {
    /// Whether evaluating it can fail: integer division and remainder (by zero, as Java
    /// throws `ArithmeticException`); nothing else does.
    pub fn may_fail(&self) -> bool {
        use Node::*;
        let div = |op: &Arith| matches!(op, Arith::Div | Arith::Rem);
        match self {
            IntArith(op, a, b) => div(op) || a.may_fail() || b.may_fail(),
            IntArithFieldConst(op, _, c) => div(op) && *c == 0,
            IntArithFieldField(op, _, _) => div(op),
            Field { .. } | Const(_) | CompareIntFieldConst(..) => false,
            FloatArith(_, a, b) | Compare(_, _, a, b) | And(a, b) | Or(a, b) => {
                a.may_fail() || b.may_fail()
            }
            IntNeg(a)
            | FloatNeg(a)
            | ToFloat(a)
            | ToInt(a)
            | ToStr(a)
            | Not(a)
            | Lower(a)
            | Upper(a)
            | Length(a)
            | IntAbs(a)
            | FloatAbs(a)
            | FloatRound(_, a)
            | InList(a, _) => a.may_fail(),
            Concat(parts) => parts.iter().any(Node::may_fail),
            Case(arms, otherwise) => {
                otherwise.may_fail() || arms.iter().any(|(c, r)| c.may_fail() || r.may_fail())
            }
        }
    }

    /// An operand of a node: fields, literals and the fused `field op literal` leaves are
    /// computed in place, anything else is evaluated — a call (with its frame) only for
    /// inner nodes, not for the leaves that most operands are.
    #[inline(always)]
    pub(crate) fn operand(&self, row: &[Value], acc: &[Value], cx: &mut EvalCx<'_>) -> Value {
        match self {
            Node::Field { row: 0, idx } => row[*idx as usize],
            Node::Field { idx, .. } => acc[*idx as usize],
            Node::Const(v) => *v,
            Node::IntArithFieldConst(op, idx, c) => {
                int_arith(*op, row[*idx as usize].as_int(), *c, cx)
            }
            Node::CompareIntFieldConst(op, idx, c) => {
                Value::Bool(cmp_ord(*op, row[*idx as usize].as_int().cmp(c)))
            }
            _ => self.eval(row, acc, cx),
        }
    }

    /// Evaluates against the current record and, for reduce expressions, the accumulator.
    #[inline]
    pub fn eval(&self, row: &[Value], acc: &[Value], cx: &mut EvalCx<'_>) -> Value {
        match self {
            Node::Field { row: 0, idx } => row[*idx as usize],
            Node::IntArithFieldConst(op, idx, c) => {
                int_arith(*op, row[*idx as usize].as_int(), *c, cx)
            }
            Node::IntArithFieldField(op, a, b) => int_arith(
                *op,
                row[*a as usize].as_int(),
                row[*b as usize].as_int(),
                cx,
            ),
            Node::CompareIntFieldConst(op, idx, c) => {
                Value::Bool(cmp_ord(*op, row[*idx as usize].as_int().cmp(c)))
            }
            Node::Field { idx, .. } => acc[*idx as usize],
            Node::Const(v) => *v,
            Node::IntArith(op, a, b) => {
                let (x, y) = (
                    a.operand(row, acc, cx).as_int(),
                    b.operand(row, acc, cx).as_int(),
                );
                int_arith(*op, x, y, cx)
            }
            Node::FloatArith(op, a, b) => {
                let (x, y) = (
                    a.operand(row, acc, cx).as_float(),
                    b.operand(row, acc, cx).as_float(),
                );
                float_arith(*op, x, y)
            }
            Node::IntNeg(a) => Value::Int(a.operand(row, acc, cx).as_int().wrapping_neg()),
            Node::FloatNeg(a) => Value::Float(-a.operand(row, acc, cx).as_float()),
            Node::ToFloat(a) => Value::Float(a.operand(row, acc, cx).as_float()),
            Node::ToInt(a) => Value::Int(a.operand(row, acc, cx).as_float() as i64),
            Node::ToStr(a) => to_str(a, row, acc, cx),
            Node::Compare(op, kind, a, b) => {
                let (x, y) = (a.operand(row, acc, cx), b.operand(row, acc, cx));
                Value::Bool(compare(*op, *kind, x, y, cx.interner))
            }
            Node::And(a, b) => {
                Value::Bool(a.operand(row, acc, cx).as_bool() && b.operand(row, acc, cx).as_bool())
            }
            Node::Or(a, b) => {
                Value::Bool(a.operand(row, acc, cx).as_bool() || b.operand(row, acc, cx).as_bool())
            }
            Node::Not(a) => Value::Bool(!a.operand(row, acc, cx).as_bool()),
            Node::InList(a, list) => {
                let x = a.operand(row, acc, cx);
                Value::Bool(list.iter().any(|v| numeric_eq(*v, x)))
            }
            Node::Case(arms, otherwise) => case(arms, otherwise, row, acc, cx),
            Node::Lower(a) => map_str(a, row, acc, cx, lower_into),
            Node::Upper(a) => map_str(a, row, acc, cx, upper_into),
            Node::Concat(parts) => concat(parts, row, acc, cx),
            Node::Length(a) => match a.operand(row, acc, cx) {
                Value::Str(s) => Value::Int(cx.interner.resolve(s).chars().count() as i64),
                _ => Value::Int(0),
            },
            Node::IntAbs(a) => Value::Int(a.operand(row, acc, cx).as_int().wrapping_abs()),
            Node::FloatAbs(a) => Value::Float(a.operand(row, acc, cx).as_float().abs()),
            Node::FloatRound(mode, a) => float_round(*mode, a.operand(row, acc, cx).as_float()),
        }
    }
}

/// Java `double` arithmetic: IEEE 754, so division by zero gives an infinity or NaN rather
/// than an error, and `%` keeps the sign of the dividend.
#[inline(always)]
pub(super) fn float_arith(op: Arith, x: f64, y: f64) -> Value {
    Value::Float(match op {
        Arith::Add => x + y,
        Arith::Sub => x - y,
        Arith::Mul => x * y,
        Arith::Div => x / y,
        Arith::Rem => x % y,
    })
}

/// `CAST(x AS VARCHAR)`: a string stays itself; any other value is printed as Java's
/// `String.valueOf` would and interned.
#[inline]
fn to_str(a: &Node, row: &[Value], acc: &[Value], cx: &mut EvalCx<'_>) -> Value {
    let v = a.operand(row, acc, cx);
    if let Value::Str(_) = v {
        return v;
    }
    cx.scratch.clear();
    push_display(cx.scratch, v, cx.interner);
    Value::Str(cx.interner.intern(cx.scratch))
}

/// `CASE WHEN … THEN … ELSE … END`: the result of the first arm whose condition holds,
/// else the ELSE branch; later arms are not evaluated.
#[inline]
fn case(
    arms: &[(Node, Node)],
    otherwise: &Node,
    row: &[Value],
    acc: &[Value],
    cx: &mut EvalCx<'_>,
) -> Value {
    for (cond, result) in arms {
        if cond.operand(row, acc, cx).as_bool() {
            return result.operand(row, acc, cx);
        }
    }
    otherwise.operand(row, acc, cx)
}

/// `lower(s)` into `out`: every character lowercased by its Unicode mapping.
fn lower_into(s: &str, out: &mut String) {
    if s.is_ascii() {
        // ASCII maps byte for byte; the same result as the char-wise path, faster.
        out.push_str(s);
        out.make_ascii_lowercase();
    } else {
        out.extend(s.chars().flat_map(char::to_lowercase));
    }
}

/// `upper(s)` into `out`: every character uppercased by its Unicode mapping.
fn upper_into(s: &str, out: &mut String) {
    if s.is_ascii() {
        out.push_str(s);
        out.make_ascii_uppercase();
    } else {
        out.extend(s.chars().flat_map(char::to_uppercase));
    }
}

/// `concat(a, b, …)`: every argument printed as Java's `String.valueOf` would, joined and
/// interned. Up to 8 arguments go through the reused scratch buffer without allocating.
#[inline]
fn concat(parts: &[Node], row: &[Value], acc: &[Value], cx: &mut EvalCx<'_>) -> Value {
    // Evaluate first (arguments may intern strings), then print into the scratch.
    let mut vals = [Value::Int(0); 8];
    let mut out = String::new();
    let many = parts.len() > vals.len();
    if many {
        for p in parts {
            let v = p.operand(row, acc, cx);
            push_display(&mut out, v, cx.interner);
        }
        return Value::Str(cx.interner.intern(&out));
    }
    for (slot, p) in vals.iter_mut().zip(parts) {
        *slot = p.operand(row, acc, cx);
    }
    cx.scratch.clear();
    for v in &vals[..parts.len()] {
        push_display(cx.scratch, *v, cx.interner);
    }
    Value::Str(cx.interner.intern(cx.scratch))
}

/// `floor`, `ceil` or `round` of a double; `round` is half away from zero (SQL `ROUND`).
#[inline(always)]
pub(super) fn float_round(mode: RoundMode, x: f64) -> Value {
    Value::Float(match mode {
        RoundMode::Floor => x.floor(),
        RoundMode::Ceil => x.ceil(),
        RoundMode::Round => x.round(),
    })
}

/// Java `long` arithmetic: wrapping, and division by zero is an error.
#[inline(always)]
pub(crate) fn int_arith(op: Arith, x: i64, y: i64, cx: &mut EvalCx<'_>) -> Value {
    Value::Int(match op {
        Arith::Add => x.wrapping_add(y),
        Arith::Sub => x.wrapping_sub(y),
        Arith::Mul => x.wrapping_mul(y),
        Arith::Div | Arith::Rem if y == 0 => {
            if cx.error.is_none() {
                *cx.error = Some("java.lang.ArithmeticException: / by zero".into());
            }
            0
        }
        Arith::Div => x.wrapping_div(y),
        Arith::Rem => x.wrapping_rem(y),
    })
}

#[inline(always)]
pub(crate) fn cmp_ord(op: Cmp, ord: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering;
    match op {
        Cmp::Eq => ord == Ordering::Equal,
        Cmp::Ne => ord != Ordering::Equal,
        Cmp::Lt => ord == Ordering::Less,
        Cmp::Le => ord != Ordering::Greater,
        Cmp::Gt => ord == Ordering::Greater,
        Cmp::Ge => ord != Ordering::Less,
    }
}

fn map_str(
    a: &Node,
    row: &[Value],
    acc: &[Value],
    cx: &mut EvalCx<'_>,
    f: impl Fn(&str, &mut String),
) -> Value {
    let Value::Str(s) = a.operand(row, acc, cx) else {
        return Value::Str(Sym(0));
    };
    cx.scratch.clear();
    f(cx.interner.resolve(s), cx.scratch);
    Value::Str(cx.interner.intern(cx.scratch))
}

/// Prints a value the way Java's `String.valueOf` would (floats keep a `.0`).
pub fn push_display(out: &mut String, v: Value, interner: &Interner) {
    use std::fmt::Write;
    match v {
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => {
            if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 {
                let _ = write!(out, "{f:.1}");
            } else {
                let _ = write!(out, "{f}");
            }
        }
        Value::Str(s) => out.push_str(interner.resolve(s)),
        Value::Bool(b) => {
            let _ = write!(out, "{b}");
        }
    }
}

pub(super) fn numeric_eq(a: Value, b: Value) -> bool {
    match (a, b) {
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => (x as f64) == y,
        _ => a == b,
    }
}

#[inline]
pub(super) fn compare(op: Cmp, kind: CmpKind, x: Value, y: Value, interner: &Interner) -> bool {
    use std::cmp::Ordering;
    let ord = match kind {
        CmpKind::Int => x.as_int().cmp(&y.as_int()),
        CmpKind::Float => {
            let (a, b) = (x.as_float(), y.as_float());
            // SQL/Java comparison operators: any comparison with NaN is false except `<>`.
            match a.partial_cmp(&b) {
                Some(o) => o,
                None => return op == Cmp::Ne,
            }
        }
        CmpKind::Str => match (x, y) {
            (Value::Str(a), Value::Str(b)) if matches!(op, Cmp::Eq | Cmp::Ne) => {
                if a == b {
                    Ordering::Equal
                } else {
                    Ordering::Less
                }
            }
            (Value::Str(a), Value::Str(b)) => interner.resolve(a).cmp(interner.resolve(b)),
            _ => Ordering::Equal,
        },
        CmpKind::Bool => x.as_bool().cmp(&y.as_bool()),
    };
    cmp_ord(op, ord)
}
