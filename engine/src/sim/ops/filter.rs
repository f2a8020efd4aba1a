//! `filter`: keeps the records for which a condition holds.

use crate::expr::Expr;
use crate::expr::eval::EvalCx;
use crate::value::Value;

/// A compiled filter.
#[derive(Debug)]
pub struct FilterOp {
    /// A boolean expression.
    pub condition: Expr,
}

impl FilterOp {
    /// Keeps the records of a batch that pass.
    #[inline]
    pub fn process(
        &self,
        input: super::batch::View<'_>,
        out: &mut super::batch::Batch,
        ev: &mut EvalCx<'_>,
    ) {
        let a = input.arity;
        let values = input.values;
        self.condition.eval_each(values, a, ev, |i, keep| {
            if keep.as_bool() {
                crate::value::push_row(&mut out.values, &values[i * a..(i + 1) * a]);
                out.meta.push(input.meta[i]);
                out.parent.push(i as u32);
            }
        });
    }

    /// Whether the record passes.
    #[inline]
    pub fn test(&self, row: &[Value], ev: &mut EvalCx<'_>) -> bool {
        self.condition.eval(row, &[], ev).as_bool()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{Scope, compile};
    use crate::value::{Interner, Schema, Type};

    #[test]
    fn keeps_only_matching_records() {
        let s = Schema::new([("n", Type::Int)]);
        let mut i = Interner::new();
        let f = FilterOp {
            condition: compile("n % 2 = 0", &Scope::Record(&s), &mut i).unwrap(),
        };
        let (mut scratch, mut err) = (String::new(), None);
        let mut ev = EvalCx {
            interner: &mut i,
            scratch: &mut scratch,
            error: &mut err,
        };
        let kept: Vec<i64> = (0..6)
            .filter(|n| f.test(&[Value::Int(*n)], &mut ev))
            .collect();
        assert_eq!(kept, vec![0, 2, 4]);
    }
}
