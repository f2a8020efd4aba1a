//! `filter`: keeps the records for which a condition holds.

use super::state::OperatorState;
use crate::core::value::Value;
use crate::expr::Expr;
use crate::expr::eval::EvalCx;

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
        crate::core::value::gather_rows(&mut out.values, input.values, a, sel);
        out.meta.extend(sel.iter().map(|&i| input.meta[i as usize]));
        out.parent.extend_from_slice(sel);
    }

    /// Whether the record passes.
    #[inline]
    pub fn test(&self, row: &[Value], ev: &mut EvalCx<'_>) -> bool {
        self.condition.eval(row, &[], ev).as_bool()
    }
}

/// Stateless.
impl OperatorState for FilterOp {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::value::{Interner, Schema, Type};
    use crate::expr::{Scope, compile};

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

    #[test]
    fn batches_keep_the_passing_rows_with_their_metadata_and_parents_at_every_width() {
        use crate::core::time::SimTime;
        use crate::ops::batch::Batch;
        use crate::ops::element::RecMeta;
        for width in [1usize, 2, 4, 6] {
            let names: Vec<String> = (0..width).map(|c| format!("f{c}")).collect();
            let s = Schema::new(names.iter().map(|n| (n.as_str(), Type::Int)));
            let mut i = Interner::new();
            let mut f = FilterOp::new(compile("f0 % 3 <> 1", &Scope::Record(&s), &mut i).unwrap());
            let (mut scratch, mut err) = (String::new(), None);
            let mut ev = EvalCx {
                interner: &mut i,
                scratch: &mut scratch,
                error: &mut err,
            };
            let mut input = Batch::new(width);
            for k in 0..10i64 {
                let row: Vec<Value> = (0..width as i64).map(|c| Value::Int(k * 100 + c)).collect();
                input.push(&row, RecMeta::untimed(SimTime::from_nanos(k as u64)), 0);
            }
            // The output already holds a record: new ones are appended after it.
            let mut out = Batch::new(width);
            out.push(
                &vec![Value::Int(-1); width],
                RecMeta::untimed(SimTime::from_nanos(99)),
                0,
            );
            f.process(input.view(), &mut out, &mut ev);
            let kept: Vec<u32> = (0..10).filter(|k| k % 3 != 1).collect();
            assert_eq!(out.parent[1..], kept[..], "width {width}");
            for (r, &k) in kept.iter().enumerate() {
                assert_eq!(out.view().row(r + 1), input.view().row(k as usize));
                assert_eq!(out.meta[r + 1], input.meta[k as usize]);
            }
            assert_eq!(out.len(), 1 + kept.len());
            assert_eq!(out.values.len(), out.len() * width);
        }
    }
}
