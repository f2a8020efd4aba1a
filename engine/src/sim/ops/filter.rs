//! `filter`: keeps the records for which a condition holds.

use crate::expr::Expr;
use crate::expr::eval::EvalCx;
use crate::value::Value;

/// A compiled filter.
#[derive(Debug, Clone)]
pub struct FilterOp {
    /// A boolean expression.
    pub condition: Expr,
    /// Positions of the records that pass, reused from batch to batch.
    sel: Vec<u32>,
}

impl FilterOp {
    /// A filter keeping the records for which `condition` is true.
    pub fn new(condition: Expr) -> Self {
        FilterOp {
            condition,
            sel: Vec::new(),
        }
    }

    /// Keeps the records of a batch that pass: first the positions that pass, then one
    /// gather of those rows.
    #[inline(never)]
    pub fn process(
        &mut self,
        input: super::batch::View<'_>,
        out: &mut super::batch::Batch,
        ev: &mut EvalCx<'_>,
    ) {
        let a = input.arity;
        let sel = &mut self.sel;
        sel.clear();
        self.condition.eval_each(input.values, a, ev, |i, keep| {
            if keep.as_bool() {
                sel.push(i as u32);
            }
        });
        crate::value::gather_rows(&mut out.values, input.values, a, sel);
        out.meta.extend(sel.iter().map(|&i| input.meta[i as usize]));
        out.parent.extend_from_slice(sel);
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
        let f = FilterOp::new(compile("n % 2 = 0", &Scope::Record(&s), &mut i).unwrap());
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
