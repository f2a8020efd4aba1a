//! `map`: one record out per record in, each output field computed by an expression.

use super::state::OperatorState;
use crate::core::value::Value;
use crate::expr::Expr;
use crate::expr::eval::EvalCx;

/// How one output field is made.
#[derive(Debug, Clone)]
pub enum Column {
    /// A plain copy of an input field.
    Copy(usize),
    /// Any other expression.
    Expr(Expr),
}

/// A compiled map.
#[derive(Debug, Clone)]
pub struct MapOp {
    /// One column per output field.
    pub columns: Vec<Column>,
    /// The output record, reused for every input.
    pub out: Vec<Value>,
    /// Every copied field stays at its position (`select = { key = "key", … }` with `key`
    /// first in both): with input and output of the same width, the output starts as a copy
    /// of the input rows and only the computed columns are written.
    copies_in_place: bool,
}

impl MapOp {
    /// A map computing `exprs` (plain fields become copies).
    pub fn new(exprs: Vec<Expr>) -> Self {
        let out = vec![Value::Int(0); exprs.len()];
        let columns: Vec<Column> = exprs
            .into_iter()
            .map(|e| match e.as_field() {
                Some(i) => Column::Copy(i),
                None => Column::Expr(e),
            })
            .collect();
        let copies_in_place = columns
            .iter()
            .enumerate()
            .all(|(c, col)| !matches!(col, &Column::Copy(i) if i != c));
        MapOp {
            columns,
            out,
            copies_in_place,
        }
    }

    /// Maps a batch: one output per input, computed column by column into place.
    #[inline]
    pub fn process(
        &mut self,
        input: super::batch::View<'_>,
        out: &mut super::batch::Batch,
        ev: &mut EvalCx<'_>,
    ) {
        let n = input.len();
        let a = out.arity;
        let base = out.len();
        let in_place = self.copies_in_place && input.arity == a;
        if in_place {
            out.values.extend_from_slice(&input.values[..n * a]);
        } else {
            out.values.resize((base + n) * a, Value::Int(0));
        }
        let dst = &mut out.values[base * a..];
        for (c, col) in self.columns.iter().enumerate() {
            match col {
                Column::Copy(_) if in_place => {}
                Column::Copy(i) => {
                    for (d, row) in dst
                        .chunks_exact_mut(a)
                        .zip(input.values.chunks_exact(input.arity.max(1)))
                    {
                        d[c] = row[*i];
                    }
                }
                Column::Expr(e) => {
                    e.eval_each(input.values, input.arity, ev, |k, v| dst[k * a + c] = v)
                }
            }
        }
        out.meta.extend_from_slice(input.meta);
        out.parent.extend(0..n as u32);
    }

    /// Computes the output record into `self.out`.
    #[inline]
    pub fn apply(&mut self, row: &[Value], ev: &mut EvalCx<'_>) {
        for (slot, c) in self.out.iter_mut().zip(&self.columns) {
            *slot = match c {
                Column::Copy(i) => row[*i],
                Column::Expr(e) => e.eval(row, &[], ev),
            };
        }
    }
}

/// Stateless.
impl OperatorState for MapOp {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::value::{Interner, Schema, Type};
    use crate::expr::{Scope, compile};

    #[test]
    fn computes_every_field_from_the_input() {
        let s = Schema::new([("a", Type::Int), ("b", Type::Int)]);
        let mut i = Interner::new();
        let exprs = vec![
            compile("a + b", &Scope::Record(&s), &mut i).unwrap(),
            compile("a * 10", &Scope::Record(&s), &mut i).unwrap(),
        ];
        let mut m = MapOp::new(exprs);
        let (mut scratch, mut err) = (String::new(), None);
        let mut ev = EvalCx {
            interner: &mut i,
            scratch: &mut scratch,
            error: &mut err,
        };
        m.apply(&[Value::Int(2), Value::Int(3)], &mut ev);
        assert_eq!(m.out, vec![Value::Int(5), Value::Int(20)]);
    }

    #[test]
    fn batch_output_equals_record_by_record_with_fields_kept_in_place_or_moved() {
        use crate::core::time::SimTime;
        use crate::ops::batch::Batch;
        use crate::ops::element::RecMeta;
        let s = Schema::new([("a", Type::Int), ("b", Type::Int)]);
        let mut i = Interner::new();
        let (mut scratch, mut err) = (String::new(), None);
        // In place (a stays first), moved (a and b swap), and a narrower output.
        for select in [&["a", "b * 3"][..], &["b", "a"], &["a + b"]] {
            let exprs = select
                .iter()
                .map(|e| compile(e, &Scope::Record(&s), &mut i).unwrap())
                .collect();
            let mut m = MapOp::new(exprs);
            let mut input = Batch::new(2);
            for k in 0..5 {
                input.push(
                    &[Value::Int(k), Value::Int(10 + k)],
                    RecMeta::untimed(SimTime::from_nanos(k as u64)),
                    0,
                );
            }
            let mut ev = EvalCx {
                interner: &mut i,
                scratch: &mut scratch,
                error: &mut err,
            };
            let mut out = Batch::new(select.len());
            m.process(input.view(), &mut out, &mut ev);
            let mut expected = Vec::new();
            for k in 0..5 {
                m.apply(input.view().row(k), &mut ev);
                expected.extend_from_slice(&m.out);
            }
            assert_eq!(out.values, expected, "{select:?}");
            assert_eq!(out.meta, input.meta);
            assert_eq!(out.parent, [0, 1, 2, 3, 4]);
        }
    }
}
