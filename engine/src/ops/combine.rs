//! How the built-in aggregations combine field values: the one place for the rolling reduce
//! ([`super::reduce`]) and the window aggregate ([`super::window_acc`]).
//!
//! - `sum` adds like Flink's `SumAggregator`: two `long`s as a `long` (wrapping, as Java
//!   does), anything else as `double`s.
//! - `min` and `max` compare like `ComparableAggregator`: numbers by value, strings by their
//!   text.
//! - A reduce written as expressions (`acc.total + amount`) computes every listed field from
//!   the *old* accumulator and the new record, then sets them all; an integer result stored in
//!   a float field is widened, as Java widens a `long` assigned to a `double`.

use crate::core::value::{Interner, Value};
use crate::expr::Expr;
use crate::expr::eval::EvalCx;
use std::cmp::Ordering;

/// `a + b` for `sum`.
#[inline]
pub fn add(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Value::Int(x.wrapping_add(y)),
        (x, y) => Value::Float(x.as_float() + y.as_float()),
    }
}

/// The order of two values for `min` and `max`.
pub fn compare(a: Value, b: Value, interner: &Interner) -> Ordering {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(&y),
        (Value::Str(x), Value::Str(y)) => interner.resolve(x).cmp(interner.resolve(y)),
        (x, y) => x
            .as_float()
            .partial_cmp(&y.as_float())
            .unwrap_or(Ordering::Equal),
    }
}

/// `new` as stored into a field that holds `old`: an integer into a float field is widened.
#[inline]
pub fn widen_like(old: Value, new: Value) -> Value {
    match (old, new) {
        (Value::Float(_), Value::Int(i)) => Value::Float(i as f64),
        (_, n) => n,
    }
}

/// Fields a reduce by expressions computes on the stack; more go through a vector.
const FIELDS_ON_STACK: usize = 8;

/// A reduce by expressions: each `(field, expression)` of `fields` is computed from the old
/// accumulator `acc` and the record `row`, then all are set into `acc`. Allocates nothing for
/// up to eight fields (one field, the commonest, is set in place: nothing reads the old
/// accumulator after its one expression).
pub fn reduce_fields(
    fields: &[(usize, Expr)],
    acc: &mut [Value],
    row: &[Value],
    ev: &mut EvalCx<'_>,
) {
    if let [(pos, e)] = fields {
        acc[*pos] = widen_like(acc[*pos], e.eval(row, acc, ev));
        return;
    }
    let mut on_stack = [Value::Int(0); FIELDS_ON_STACK];
    let mut on_heap = Vec::new();
    let new = if fields.len() <= FIELDS_ON_STACK {
        &mut on_stack[..fields.len()]
    } else {
        on_heap.resize(fields.len(), Value::Int(0));
        &mut on_heap[..]
    };
    for (v, (_, e)) in new.iter_mut().zip(fields) {
        *v = e.eval(row, acc, ev);
    }
    for ((pos, _), v) in fields.iter().zip(new.iter()) {
        acc[*pos] = widen_like(acc[*pos], *v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::value::{Schema, Type};
    use crate::expr::{Scope, compile};

    #[test]
    fn sums_add_longs_as_longs_and_anything_else_as_doubles() {
        assert!(matches!(
            add(Value::Int(i64::MAX), Value::Int(1)),
            Value::Int(i64::MIN)
        ));
        assert!(matches!(add(Value::Int(1), Value::Float(0.5)), Value::Float(f) if f == 1.5));
        assert!(
            matches!(widen_like(Value::Float(0.0), Value::Int(3)), Value::Float(f) if f == 3.0)
        );
        assert!(matches!(
            widen_like(Value::Int(0), Value::Int(3)),
            Value::Int(3)
        ));
    }

    #[test]
    fn strings_compare_by_their_text_and_numbers_by_value() {
        let mut i = Interner::new();
        // interned in the other order than the text's
        let (b, a) = (i.intern("b"), i.intern("a"));
        assert_eq!(compare(Value::Str(a), Value::Str(b), &i), Ordering::Less);
        assert_eq!(
            compare(Value::Int(2), Value::Float(1.5), &i),
            Ordering::Greater
        );
    }

    /// Every field reads the old accumulator, whether one field is set, a few (on the stack)
    /// or more than the stack holds.
    #[test]
    fn every_field_is_computed_from_the_old_accumulator() {
        for n in [1, 2, 3, FIELDS_ON_STACK, FIELDS_ON_STACK + 1, 12] {
            let names: Vec<String> = (0..n).map(|f| format!("f{f}")).collect();
            let s = Schema::new(names.iter().map(|f| (f.as_str(), Type::Int)));
            let mut i = Interner::new();
            let scope = Scope::Reduce { acc: &s, cur: &s };
            // field f := the old accumulator's next field (rotated) + the record's field f
            let fields: Vec<(usize, Expr)> = (0..n)
                .map(|f| {
                    let text = format!("acc.f{} + f{f}", (f + 1) % n);
                    (f, compile(&text, &scope, &mut i).unwrap())
                })
                .collect();
            let mut acc: Vec<Value> = (0..n).map(|f| Value::Int(10 * f as i64)).collect();
            let row: Vec<Value> = (0..n).map(|f| Value::Int(f as i64)).collect();
            let (mut scratch, mut error) = (String::new(), None);
            let mut ev = EvalCx {
                interner: &mut i,
                scratch: &mut scratch,
                error: &mut error,
            };
            reduce_fields(&fields, &mut acc, &row, &mut ev);
            let expected: Vec<i64> = (0..n)
                .map(|f| 10 * ((f + 1) % n) as i64 + f as i64)
                .collect();
            let got: Vec<i64> = acc.iter().map(Value::as_int).collect();
            assert_eq!(got, expected, "{n} fields");
        }
    }
}
