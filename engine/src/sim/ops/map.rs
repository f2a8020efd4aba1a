//! `map`: one record out per record in, each output field computed by an expression.

use crate::expr::Expr;
use crate::expr::eval::EvalCx;
use crate::value::Value;

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
}

impl MapOp {
    /// A map computing `exprs` (plain fields become copies).
    pub fn new(exprs: Vec<Expr>) -> Self {
        let out = vec![Value::Int(0); exprs.len()];
        let columns = exprs
            .into_iter()
            .map(|e| match e.as_field() {
                Some(i) => Column::Copy(i),
                None => Column::Expr(e),
            })
            .collect();
        MapOp { columns, out }
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
        out.values.resize((base + n) * a, Value::Int(0));
        let dst = &mut out.values[base * a..];
        for (c, col) in self.columns.iter().enumerate() {
            match col {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{Scope, compile};
    use crate::value::{Interner, Schema, Type};

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
}
