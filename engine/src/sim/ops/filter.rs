//! `filter`: keeps the records for which a condition holds.

use crate::expr::eval::EvalCx;
use crate::expr::Expr;
use crate::value::Value;

/// A compiled filter.
#[derive(Debug)]
pub struct FilterOp {
    /// A boolean expression.
    pub condition: Expr,
}

impl FilterOp {
    /// Whether the record passes.
    #[inline]
    pub fn test(&self, row: &[Value], ev: &mut EvalCx<'_>) -> bool {
        self.condition.eval(row, &[], ev).as_bool()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{compile, Scope};
    use crate::value::{Interner, Schema, Type};

    #[test]
    fn keeps_only_matching_records() {
        let s = Schema::new([("n", Type::Int)]);
        let mut i = Interner::new();
        let f = FilterOp { condition: compile("n % 2 = 0", &Scope::Record(&s), &mut i).unwrap() };
        let (mut scratch, mut err) = (String::new(), None);
        let mut ev = EvalCx { interner: &mut i, scratch: &mut scratch, error: &mut err };
        let kept: Vec<i64> = (0..6).filter(|n| f.test(&[Value::Int(*n)], &mut ev)).collect();
        assert_eq!(kept, vec![0, 2, 4]);
    }
}
