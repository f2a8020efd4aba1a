//! Rolling reduce on a keyed stream (`keyBy(…).sum(…)` and friends): for every input record,
//! update the key's aggregate and emit it.
//!
//! Semantics follow Flink's `StreamGroupedReduceOperator` with its built-in aggregators:
//! `sum`, `min` and `max` keep the *first* record of the key and replace only the aggregated
//! field (`SumAggregator`, `ComparableAggregator`); `count` emits `(key, count)`; an
//! expression reduce computes the listed fields from `acc.*` and the new record and keeps the
//! accumulated value of the others. State is one row per key in a flat slab: no allocation per
//! record, one per new key.

use crate::expr::Expr;
use crate::expr::eval::EvalCx;
use crate::value::{Interner, Value};
use rustc_hash::FxHashMap;
use std::cmp::Ordering;

/// The aggregation.
#[derive(Debug, Clone)]
pub enum Aggregate {
    /// Running sum of a field.
    Sum(usize),
    /// Running minimum of a field.
    Min(usize),
    /// Running maximum of a field.
    Max(usize),
    /// Number of records: output `(key, count)`.
    Count,
    /// `(field position, expression over acc.* and the record)`.
    Expr(Vec<(usize, Expr)>),
}

/// A keyed rolling reduce and its state.
#[derive(Debug, Clone)]
pub struct ReduceOp {
    /// The key of the keyed stream.
    pub key: Expr,
    /// What to compute.
    pub agg: Aggregate,
    /// Fields of the output (and state) row.
    pub arity: usize,
    /// Key → slot in `slab`.
    pub index: FxHashMap<Value, u32>,
    /// One state row per key, `arity` values each.
    pub slab: Vec<Value>,
    /// Scratch row for expression reduces.
    pub scratch: Vec<Value>,
}

impl ReduceOp {
    /// A reduce with empty state.
    pub fn new(key: Expr, agg: Aggregate, arity: usize) -> Self {
        ReduceOp {
            key,
            agg,
            arity,
            index: FxHashMap::default(),
            slab: Vec::new(),
            scratch: vec![Value::Int(0); arity],
        }
    }

    /// Folds a batch into the state, emitting the updated aggregate for every record.
    #[inline]
    pub fn process(
        &mut self,
        input: super::batch::View<'_>,
        out: &mut super::batch::Batch,
        ev: &mut EvalCx<'_>,
    ) {
        let n = input.len();
        out.values.reserve(n * self.arity);
        if let (Aggregate::Sum(f), Some(kf)) = (&self.agg, self.key.as_field()) {
            // The commonest case, `keyBy(field).sum(field)`, without per-record dispatch.
            let (f, a) = (*f, self.arity);
            for i in 0..n {
                let row = input.row(i);
                let key = row[kf];
                let slot = match self.index.get(&key) {
                    Some(&s) => {
                        let s = s as usize;
                        let acc = &mut self.slab[s * a + f];
                        *acc = add(*acc, row[f]);
                        s
                    }
                    None => {
                        let s = self.slab.len() / a;
                        self.slab.extend_from_slice(row);
                        self.index.insert(key, s as u32);
                        s
                    }
                };
                crate::value::push_row(&mut out.values, &self.slab[slot * a..(slot + 1) * a]);
            }
        } else {
            let before = ev.error.is_some();
            for i in 0..n {
                let row = self.apply(input.row(i), ev);
                if !before && ev.error.is_some() {
                    // An expression failed (Flink would throw): the task stops at this record.
                    out.meta.extend_from_slice(&input.meta[..i]);
                    out.parent.extend(0..i as u32);
                    return;
                }
                crate::value::push_row(&mut out.values, row);
            }
        }
        out.meta.extend_from_slice(input.meta);
        out.parent.extend(0..n as u32);
    }

    /// Folds a record into its key's state and returns the updated aggregate row.
    #[inline]
    pub fn apply(&mut self, row: &[Value], ev: &mut EvalCx<'_>) -> &[Value] {
        let key = match self.key.as_field() {
            Some(i) => row[i],
            None => self.key.eval(row, &[], ev),
        };
        let a = self.arity;
        let slot = match self.index.get(&key) {
            Some(&s) => s as usize,
            None => {
                let s = self.slab.len() / a;
                match self.agg {
                    Aggregate::Count => self.slab.extend_from_slice(&[key, Value::Int(1)]),
                    _ => self.slab.extend_from_slice(row),
                }
                self.index.insert(key, s as u32);
                return &self.slab[s * a..(s + 1) * a];
            }
        };
        let acc = &mut self.slab[slot * a..(slot + 1) * a];
        match &self.agg {
            Aggregate::Sum(i) => acc[*i] = add(acc[*i], row[*i]),
            Aggregate::Min(i) => {
                if compare(row[*i], acc[*i], ev.interner) == Ordering::Less {
                    acc[*i] = row[*i];
                }
            }
            Aggregate::Max(i) => {
                if compare(row[*i], acc[*i], ev.interner) == Ordering::Greater {
                    acc[*i] = row[*i];
                }
            }
            Aggregate::Count => acc[1] = Value::Int(acc[1].as_int().wrapping_add(1)),
            Aggregate::Expr(fields) => {
                for (pos, e) in fields {
                    self.scratch[*pos] = e.eval(row, acc, ev);
                }
                for (pos, _) in fields {
                    acc[*pos] = widen_like(acc[*pos], self.scratch[*pos]);
                }
            }
        }
        &self.slab[slot * a..(slot + 1) * a]
    }

    /// Number of keys held.
    /// Rescaling: keeps the state of the keys that pass `keep`, in slot order.
    pub fn retain_keys(&mut self, keep: &dyn Fn(Value) -> bool) {
        let mut by_slot: Vec<(u32, Value)> = self.index.iter().map(|(k, s)| (*s, *k)).collect();
        by_slot.sort_unstable_by_key(|(s, _)| *s);
        let old = std::mem::take(&mut self.slab);
        self.index.clear();
        for (slot, key) in by_slot.into_iter().filter(|(_, k)| keep(*k)) {
            let a = self.arity;
            let row = &old[slot as usize * a..(slot as usize + 1) * a];
            self.index.insert(key, (self.slab.len() / a.max(1)) as u32);
            self.slab.extend_from_slice(row);
        }
    }

    /// Rescaling: adds the state of `other` (whose keys this subtask does not hold).
    pub fn absorb(&mut self, mut other: ReduceOp) {
        other.retain_keys(&|_| true); // slot order
        let a = self.arity.max(1);
        let base = (self.slab.len() / a) as u32;
        for (k, s) in other.index {
            self.index.insert(k, base + s);
        }
        self.slab.extend(other.slab);
    }

    /// Number of keys in state.
    pub fn keys(&self) -> usize {
        self.index.len()
    }
}

fn add(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Value::Int(x.wrapping_add(y)),
        (x, y) => Value::Float(x.as_float() + y.as_float()),
    }
}

fn widen_like(old: Value, new: Value) -> Value {
    match (old, new) {
        (Value::Float(_), Value::Int(i)) => Value::Float(i as f64),
        (_, n) => n,
    }
}

fn compare(a: Value, b: Value, interner: &Interner) -> Ordering {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(&y),
        (Value::Str(x), Value::Str(y)) => interner.resolve(x).cmp(interner.resolve(y)),
        (x, y) => x
            .as_float()
            .partial_cmp(&y.as_float())
            .unwrap_or(Ordering::Equal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{Scope, compile};
    use crate::value::{Interner, Schema, Type};

    fn run(
        agg: impl Fn(&Schema, &mut Interner) -> Aggregate,
        arity: usize,
        rows: &[(&str, i64, i64)],
    ) -> Vec<Vec<String>> {
        let s = Schema::new([("k", Type::String), ("v", Type::Int), ("w", Type::Int)]);
        let mut i = Interner::new();
        let key = compile("k", &Scope::Record(&s), &mut i).unwrap();
        let agg = agg(&s, &mut i);
        let mut op = ReduceOp::new(key, agg, arity);
        let mut out = Vec::new();
        for (k, v, w) in rows {
            let row = [Value::Str(i.intern(k)), Value::Int(*v), Value::Int(*w)];
            let (mut scratch, mut err) = (String::new(), None);
            let mut ev = EvalCx {
                interner: &mut i,
                scratch: &mut scratch,
                error: &mut err,
            };
            let r: Vec<Value> = op.apply(&row, &mut ev).to_vec();
            out.push(r.iter().map(|v| v.display(&i).to_string()).collect());
        }
        out
    }

    #[test]
    fn sum_keeps_the_first_record_and_replaces_the_field() {
        let out = run(
            |_, _| Aggregate::Sum(1),
            3,
            &[("a", 1, 10), ("b", 5, 20), ("a", 2, 30)],
        );
        assert_eq!(
            out,
            vec![
                vec!["a", "1", "10"],
                vec!["b", "5", "20"],
                vec!["a", "3", "10"]
            ]
        );
    }

    #[test]
    fn min_max_and_count() {
        let out = run(
            |_, _| Aggregate::Min(1),
            3,
            &[("a", 5, 1), ("a", 3, 2), ("a", 4, 3)],
        );
        assert_eq!(
            out.iter().map(|r| r[1].clone()).collect::<Vec<_>>(),
            ["5", "3", "3"]
        );
        let out = run(
            |_, _| Aggregate::Max(1),
            3,
            &[("a", 5, 1), ("a", 3, 2), ("a", 7, 3)],
        );
        assert_eq!(
            out.iter().map(|r| r[1].clone()).collect::<Vec<_>>(),
            ["5", "5", "7"]
        );
        let out = run(
            |_, _| Aggregate::Count,
            2,
            &[("a", 0, 0), ("b", 0, 0), ("a", 0, 0)],
        );
        assert_eq!(out, vec![vec!["a", "1"], vec!["b", "1"], vec!["a", "2"]]);
    }

    #[test]
    fn expression_reduce_reads_the_accumulator() {
        let out = run(
            |s, i| {
                Aggregate::Expr(vec![(
                    1,
                    compile("acc.v + v", &Scope::Reduce { acc: s, cur: s }, i).unwrap(),
                )])
            },
            3,
            &[("a", 1, 9), ("a", 2, 8), ("a", 3, 7)],
        );
        assert_eq!(
            out.iter().map(|r| r[1].clone()).collect::<Vec<_>>(),
            ["1", "3", "6"]
        );
        assert_eq!(out[2][2], "9", "unlisted fields keep the accumulated value");
    }
}
