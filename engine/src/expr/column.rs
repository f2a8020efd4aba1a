//! Column-at-a-time evaluation of an expression over a whole batch.
//!
//! [`Expr::eval_each`](super::Expr::eval_each) evaluates a map's or a filter's expression
//! for every record of a batch. Walking the tree once per record costs a dispatch per node
//! per record; walking it once per batch, each node computing its values for every record
//! into a column, costs one tight loop per node instead. The two give the same values when
//! the order in which records and nodes are evaluated cannot be seen, that is when the
//! expression is [`columnar`]: it reads only the current record, nothing in it can fail (an
//! error must name the first failing record), and it makes no strings (interning gives
//! symbols in the order strings are met).

use super::eval::{self, Arith, EvalCx, Node};
use crate::core::value::{Interner, Value};
use std::cell::RefCell;

/// Whether `node` can be evaluated a column at a time with the same results as record by
/// record: only the current record's fields, no division or remainder (which can fail),
/// no string made. Comparisons of strings only read them.
pub(super) fn columnar(node: &Node) -> bool {
    use Node::*;
    match node {
        Field { row, .. } => *row == 0,
        Const(_) | CompareIntFieldConst(..) => true,
        IntArithFieldConst(op, ..) | IntArithFieldField(op, ..) => !divides(*op),
        IntArith(op, a, b) => !divides(*op) && columnar(a) && columnar(b),
        FloatArith(_, a, b) | Compare(_, _, a, b) | And(a, b) | Or(a, b) => {
            columnar(a) && columnar(b)
        }
        IntNeg(a)
        | FloatNeg(a)
        | ToFloat(a)
        | ToInt(a)
        | Not(a)
        | IntAbs(a)
        | FloatAbs(a)
        | FloatRound(_, a)
        | InList(a, _) => columnar(a),
        ToStr(_) | Lower(_) | Upper(_) | Concat(_) | Length(_) | Case(..) => false,
    }
}

fn divides(op: Arith) -> bool {
    matches!(op, Arith::Div | Arith::Rem)
}

thread_local! {
    /// Intermediate columns, reused from batch to batch.
    static POOL: RefCell<Vec<Vec<Value>>> = const { RefCell::new(Vec::new()) };
}

/// Evaluates a [`columnar`] `node` for every record of a row-major batch (`arity` values per
/// record) and calls `f(i, value)` in record order.
pub(super) fn each(
    node: &Node,
    values: &[Value],
    arity: usize,
    cx: &mut EvalCx<'_>,
    mut f: impl FnMut(usize, Value),
) {
    debug_assert!(columnar(node));
    let batch = Batch {
        values,
        arity: arity.max(1),
    };
    let mut pool = POOL.with_borrow_mut(std::mem::take);
    let mut out = pool.pop().unwrap_or_default();
    batch.fill(node, &mut out, &mut pool, cx.interner);
    for (i, v) in out.iter().enumerate() {
        f(i, *v);
    }
    pool.push(out);
    POOL.with_borrow_mut(|p| *p = pool);
}

/// The records a column is computed for.
struct Batch<'a> {
    values: &'a [Value],
    arity: usize,
}

impl Batch<'_> {
    fn rows(&self) -> std::slice::ChunksExact<'_, Value> {
        self.values.chunks_exact(self.arity)
    }

    /// Computes `node`'s value for every record into `out` (replacing its contents).
    fn fill(
        &self,
        node: &Node,
        out: &mut Vec<Value>,
        pool: &mut Vec<Vec<Value>>,
        interner: &Interner,
    ) {
        use Node::*;
        out.clear();
        match node {
            Field { idx, .. } => {
                let i = *idx as usize;
                out.extend(self.rows().map(|r| r[i]));
            }
            Const(v) => out.resize(self.values.len() / self.arity, *v),
            IntArithFieldConst(op, idx, c) => {
                let (i, c) = (*idx as usize, *c);
                out.extend(self.rows().map(|r| r[i]));
                int_op(*op, out, |_| c);
            }
            IntArithFieldField(op, a, b) => {
                let i = *a as usize;
                out.extend(self.rows().map(|r| r[i]));
                let b = Field { row: 0, idx: *b };
                self.with_column(&b, pool, interner, |col| {
                    int_op(*op, out, |k| col[k].as_int())
                });
            }
            CompareIntFieldConst(op, idx, c) => {
                let (i, c) = (*idx as usize, *c);
                out.extend(
                    self.rows()
                        .map(|r| Value::Bool(eval::cmp_ord(*op, r[i].as_int().cmp(&c)))),
                );
            }
            IntArith(op, a, b) => {
                self.fill(a, out, pool, interner);
                match &**b {
                    Const(c) => {
                        let c = c.as_int();
                        int_op(*op, out, |_| c)
                    }
                    b => self.with_column(b, pool, interner, |col| {
                        int_op(*op, out, |k| col[k].as_int())
                    }),
                }
            }
            FloatArith(op, a, b) => {
                self.fill(a, out, pool, interner);
                self.with_column(b, pool, interner, |col| {
                    for (o, y) in out.iter_mut().zip(col) {
                        *o = eval::float_arith(*op, o.as_float(), y.as_float());
                    }
                })
            }
            Compare(op, kind, a, b) => {
                self.fill(a, out, pool, interner);
                self.with_column(b, pool, interner, |col| {
                    for (o, y) in out.iter_mut().zip(col) {
                        *o = Value::Bool(eval::compare(*op, *kind, *o, *y, interner));
                    }
                })
            }
            And(a, b) | Or(a, b) => {
                let and = matches!(node, And(..));
                self.fill(a, out, pool, interner);
                self.with_column(b, pool, interner, |col| {
                    for (o, y) in out.iter_mut().zip(col) {
                        *o = Value::Bool(if and {
                            o.as_bool() && y.as_bool()
                        } else {
                            o.as_bool() || y.as_bool()
                        });
                    }
                })
            }
            IntNeg(a) => self.unary(a, out, pool, interner, |v| {
                Value::Int(v.as_int().wrapping_neg())
            }),
            FloatNeg(a) => self.unary(a, out, pool, interner, |v| Value::Float(-v.as_float())),
            ToFloat(a) => self.unary(a, out, pool, interner, |v| Value::Float(v.as_float())),
            ToInt(a) => self.unary(a, out, pool, interner, |v| Value::Int(v.as_float() as i64)),
            Not(a) => self.unary(a, out, pool, interner, |v| Value::Bool(!v.as_bool())),
            IntAbs(a) => self.unary(a, out, pool, interner, |v| {
                Value::Int(v.as_int().wrapping_abs())
            }),
            FloatAbs(a) => self.unary(a, out, pool, interner, |v| Value::Float(v.as_float().abs())),
            FloatRound(mode, a) => self.unary(a, out, pool, interner, |v| {
                eval::float_round(*mode, v.as_float())
            }),
            InList(a, list) => self.unary(a, out, pool, interner, |v| {
                Value::Bool(list.iter().any(|l| eval::numeric_eq(*l, v)))
            }),
            ToStr(_) | Lower(_) | Upper(_) | Concat(_) | Length(_) | Case(..) => {
                unreachable!("not columnar: {node:?}")
            }
        }
    }

    /// `a`'s column, then `f` applied to each of its values in place.
    fn unary(
        &self,
        a: &Node,
        out: &mut Vec<Value>,
        pool: &mut Vec<Vec<Value>>,
        interner: &Interner,
        f: impl Fn(Value) -> Value,
    ) {
        self.fill(a, out, pool, interner);
        for o in out.iter_mut() {
            *o = f(*o);
        }
    }

    /// Computes `node`'s column into a pooled buffer and hands it to `f`.
    fn with_column(
        &self,
        node: &Node,
        pool: &mut Vec<Vec<Value>>,
        interner: &Interner,
        f: impl FnOnce(&[Value]),
    ) {
        let mut col = pool.pop().unwrap_or_default();
        self.fill(node, &mut col, pool, interner);
        f(&col);
        pool.push(col);
    }
}

/// `out[k] = out[k] op y(k)` on integers, with Java's wrapping (the operator is chosen once
/// per column, not per value). Division and remainder are never columnar.
#[inline(always)]
fn int_op(op: Arith, out: &mut [Value], y: impl Fn(usize) -> i64) {
    macro_rules! each {
        ($f:expr) => {
            for (k, o) in out.iter_mut().enumerate() {
                *o = Value::Int($f(o.as_int(), y(k)));
            }
        };
    }
    match op {
        Arith::Add => each!(i64::wrapping_add),
        Arith::Sub => each!(i64::wrapping_sub),
        Arith::Mul => each!(i64::wrapping_mul),
        Arith::Div | Arith::Rem => unreachable!("division is not columnar"),
    }
}

#[cfg(test)]
mod tests;
