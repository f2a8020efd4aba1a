//! Rolling reduce on a keyed stream (`keyBy(…).sum(…)` and friends): for every input record,
//! update the key's aggregate and emit it.
//!
//! Semantics follow Flink's `StreamGroupedReduceOperator` with its built-in aggregators:
//! `sum`, `min` and `max` keep the *first* record of the key and replace only the aggregated
//! field (`SumAggregator`, `ComparableAggregator`); `count` emits `(key, count)`; an
//! expression reduce computes the listed fields from `acc.*` and the new record and keeps the
//! accumulated value of the others. State is one row per key in a flat slab: no allocation per
//! record, one per new key.

use super::combine::{add, compare, reduce_fields, widen_like};
use super::state::{OperatorState, checkpoint_entries_bytes};
use crate::core::value::Value;
use crate::expr::Expr;
use crate::expr::eval::{Arith, EvalCx};
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
    /// Slot hints for the `keyBy(field).sum(field)` fast path; see [`SlotHints`].
    hints: SlotHints,
}

/// A direct-mapped table of recently used state slots, in front of the hash map: bucket
/// `bucket(key)` holds `slot + 1` of a key that fell into it (0: none). It is only a hint —
/// a slot is used only when its state row still holds the key in the key field — so it never
/// has to be kept in step with `index` (nor saved or restored with the state). Finding a key
/// this way is a multiply, a load and a compare instead of a hash-map probe.
#[derive(Debug)]
struct SlotHints(Box<[u32; SlotHints::LEN]>);

impl Clone for SlotHints {
    /// No hints: they are checked against the state before use, so a copy of the operator
    /// (a checkpoint snapshot) starts without them rather than copying the table.
    fn clone(&self) -> Self {
        SlotHints::new()
    }
}

impl SlotHints {
    const BITS: u32 = 12;
    const LEN: usize = 1 << Self::BITS;

    fn new() -> Self {
        SlotHints(Box::new([0; Self::LEN]))
    }

    /// The bucket of a key: the top bits of a multiplicative hash of its word.
    #[inline(always)]
    fn bucket(key: Value) -> usize {
        (key.hash_word().wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - Self::BITS)) as usize
    }
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
            hints: SlotHints::new(),
        }
    }

    /// Folds a batch into the state, emitting the updated aggregate for every record.
    #[inline(never)]
    pub fn process(
        &mut self,
        input: super::batch::View<'_>,
        out: &mut super::batch::Batch,
        ev: &mut EvalCx<'_>,
    ) {
        let n = input.len();
        out.values.reserve(n * self.arity);
        let batch_path = match (&self.agg, self.key.as_field()) {
            _ if input.arity != self.arity || !(1..=4).contains(&self.arity) => None,
            (Aggregate::Sum(_), Some(kf)) => Some(kf),
            // An expression that cannot fail: no record stops the task halfway.
            (Aggregate::Expr(fields), Some(kf)) if fields.iter().all(|(_, e)| !e.may_fail()) => {
                Some(kf)
            }
            _ => None,
        };
        if let Some(kf) = batch_path {
            // `keyBy(field)` with `sum` or an expression, without per-record dispatch.
            match self.arity {
                1 => self.fold_batch::<1>(input.values, &mut out.values, kf, ev),
                2 => self.fold_batch::<2>(input.values, &mut out.values, kf, ev),
                3 => self.fold_batch::<3>(input.values, &mut out.values, kf, ev),
                _ => self.fold_batch::<4>(input.values, &mut out.values, kf, ev),
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
                crate::core::value::push_row(&mut out.values, row);
            }
        }
        out.meta.extend_from_slice(input.meta);
        out.parent.extend(0..n as u32);
    }

    /// `keyBy(field kf)` with `sum` or an expression that cannot fail, over rows of `A`
    /// fields (known at compile time, so rows are copied as whole arrays): appends the
    /// updated aggregate of every row to `out`. The same fold as [`ReduceOp::apply`] — the
    /// tests compare the two record by record.
    fn fold_batch<const A: usize>(
        &mut self,
        input: &[Value],
        out: &mut Vec<Value>,
        kf: usize,
        ev: &mut EvalCx<'_>,
    ) {
        let ReduceOp {
            index,
            slab,
            hints,
            agg,
            ..
        } = self;
        let mut keyed = Keyed {
            index,
            slab,
            hints: &mut hints.0,
        };
        match agg {
            Aggregate::Sum(f) => {
                let f = *f;
                assert!(f < A, "the summed field is a field of the row");
                keyed.fold_rows::<A>(input, out, kf, kf != f, &mut |acc, new, row| {
                    let v = add(acc[f], row[f]);
                    acc[f] = v;
                    new[f] = v;
                })
            }
            Aggregate::Expr(fields) => {
                assert!(fields.iter().all(|(p, _)| *p < A), "fields of the row");
                // With the key field assigned, state rows may not keep their key.
                let kept = fields.iter().all(|(p, _)| *p != kf);
                if let [(pos, e)] = fields.as_slice() {
                    // One field set: nothing else reads the old accumulator after it, so it
                    // is set in place (the same result as the general fold below).
                    let pos = *pos;
                    if let Some((op, x, y)) = e.int_binop() {
                        // Integer arithmetic over two operands (`acc.total + amount`): the
                        // operator chosen here, once per batch, rather than per record.
                        macro_rules! fold_with {
                            ($f:path) => {
                                keyed.fold_rows::<A>(input, out, kf, kept, &mut |acc, new, row| {
                                    let v = Value::Int($f(x.get(row, acc), y.get(row, acc)));
                                    let v = widen_like(acc[pos], v);
                                    acc[pos] = v;
                                    new[pos] = v;
                                })
                            };
                        }
                        return match op {
                            Arith::Add => fold_with!(i64::wrapping_add),
                            Arith::Sub => fold_with!(i64::wrapping_sub),
                            Arith::Mul => fold_with!(i64::wrapping_mul),
                            Arith::Div | Arith::Rem => unreachable!("int_binop cannot fail"),
                        };
                    }
                    return keyed.fold_rows::<A>(input, out, kf, kept, &mut |acc, new, row| {
                        let v = widen_like(acc[pos], e.eval(row, acc, ev));
                        acc[pos] = v;
                        new[pos] = v;
                    });
                }
                keyed.fold_rows::<A>(input, out, kf, kept, &mut |acc, new, row| {
                    // Every field from the old accumulator, then all are set (the rule of
                    // `combine`); the output row takes them from the state.
                    reduce_fields(fields, acc, row, ev);
                    for (pos, _) in fields.iter() {
                        new[*pos] = acc[*pos];
                    }
                })
            }
            _ => unreachable!("only sum and expressions take the batch path"),
        }
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
            Aggregate::Expr(fields) => reduce_fields(fields, acc, row, ev),
        }
        &self.slab[slot * a..(slot + 1) * a]
    }
}

/// A reduce's keyed state as the batch path uses it: the index, the slab and the slot hints.
struct Keyed<'a> {
    index: &'a mut FxHashMap<Value, u32>,
    slab: &'a mut Vec<Value>,
    hints: &'a mut [u32; SlotHints::LEN],
}

impl Keyed<'_> {
    /// Folds every row (key in field `kf`) into its key's state row with `fold`, or gives a
    /// new key a slot holding its first row, and appends the updated row to `out`. `kept`:
    /// whether state rows keep their key in field `kf` (the slot hints need it).
    ///
    /// `fold(acc, new, row)` gets the state row, a copy of it already in place in `out`, and
    /// the record; it sets each field it changes in both. The output row is copied from the
    /// state *before* the fold, not after: a whole-row copy just after the fold's per-field
    /// stores would read them back with wider loads, which the CPU cannot forward from its
    /// store buffer (a stall of a dozen cycles on every record).
    #[inline]
    fn fold_rows<const A: usize>(
        &mut self,
        input: &[Value],
        out: &mut Vec<Value>,
        kf: usize,
        kept: bool,
        fold: &mut impl FnMut(&mut [Value; A], &mut [Value; A], &[Value; A]),
    ) {
        assert!(kf < A, "the key is a field of the row");
        let (rows, _) = input.as_chunks::<A>();
        let base = out.len();
        out.resize(base + rows.len() * A, Value::Int(0));
        let (dst, _) = out[base..].as_chunks_mut::<A>();
        if !kept {
            // State rows do not keep their key: no hints then.
            for (row, d) in rows.iter().zip(dst) {
                self.fold_by_index::<A>(row, d, kf, fold);
            }
            return;
        }
        for (row, d) in rows.iter().zip(dst) {
            let key = row[kf];
            let bucket = SlotHints::bucket(key);
            // The hinted state row, if it still holds the key (an empty bucket holds 0, whose
            // predecessor is no row).
            let (states, _) = self.slab.as_chunks_mut::<A>();
            match states.get_mut((self.hints[bucket] as usize).wrapping_sub(1)) {
                Some(acc) if acc[kf].same_as(key) => {
                    *d = *acc;
                    fold(acc, d, row);
                }
                _ => self.fold_missed::<A>(row, d, kf, bucket, fold),
            }
        }
    }

    /// [`Keyed::fold_rows`] for a row whose state row may not hold its key: through the
    /// index, or a new state slot. Writes the updated aggregate to `d`.
    #[inline]
    fn fold_by_index<const A: usize>(
        &mut self,
        row: &[Value; A],
        d: &mut [Value; A],
        kf: usize,
        fold: &mut impl FnMut(&mut [Value; A], &mut [Value; A], &[Value; A]),
    ) {
        let key = row[kf];
        match self.index.get(&key) {
            Some(&s) => {
                let (states, _) = self.slab.as_chunks_mut::<A>();
                let acc = &mut states[s as usize];
                *d = *acc;
                fold(acc, d, row);
            }
            None => {
                let s = (self.slab.len() / A) as u32;
                self.slab.extend_from_slice(row);
                self.index.insert(key, s);
                self.hints[SlotHints::bucket(key)] = s + 1;
                *d = *row;
            }
        }
    }

    /// [`Keyed::fold_rows`] for a row whose key the hints did not find: through the index
    /// (and the hint of `bucket` is set), or a new state slot. Writes the updated aggregate
    /// to `d`.
    #[inline(never)]
    fn fold_missed<const A: usize>(
        &mut self,
        row: &[Value; A],
        d: &mut [Value; A],
        kf: usize,
        bucket: usize,
        fold: &mut impl FnMut(&mut [Value; A], &mut [Value; A], &[Value; A]),
    ) {
        let key = row[kf];
        let s = match self.index.get(&key) {
            Some(&s) => s,
            None => {
                let s = (self.slab.len() / A) as u32;
                self.slab.extend_from_slice(row);
                self.index.insert(key, s);
                self.hints[bucket] = s + 1;
                *d = *row;
                return;
            }
        };
        self.hints[bucket] = s + 1;
        let (states, _) = self.slab.as_chunks_mut::<A>();
        let acc = &mut states[s as usize];
        *d = *acc;
        fold(acc, d, row);
    }
}

/// Keyed: one row per key (the key's row and its slot).
impl OperatorState for ReduceOp {
    fn is_keyed(&self) -> bool {
        true
    }

    fn keys(&self) -> u64 {
        self.index.len() as u64
    }

    fn checkpointed_bytes(&self) -> u64 {
        checkpoint_entries_bytes(self.index.len(), self.arity + 1)
    }

    fn heap_bytes(&self) -> u64 {
        (self.index.len() * ((self.arity + 1) * size_of::<Value>() + 32)) as u64
    }

    /// Keeps the rows of the keys that pass `keep`, in slot order.
    fn retain_keys(&mut self, keep: &dyn Fn(Value) -> bool) {
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

    /// Adds the rows of `other` (whose keys this subtask does not hold).
    fn absorb(&mut self, mut other: ReduceOp) {
        other.retain_keys(&|_| true); // slot order
        let a = self.arity.max(1);
        let base = (self.slab.len() / a) as u32;
        for (k, s) in other.index {
            self.index.insert(k, base + s);
        }
        self.slab.extend(other.slab);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::value::{Interner, Schema, Type};
    use crate::expr::{Scope, compile};

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
    fn batched_sums_and_expressions_match_record_at_a_time_folds() {
        use crate::ops::batch::Batch;
        use crate::ops::element::RecMeta;
        // Enough keys for hint buckets to collide; every arity of the fast paths and beyond,
        // every key and summed field (the key field summed too); some float sums.
        let mut i = Interner::new();
        let mut x: u64 = 1;
        let mut next = move || {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            x >> 33
        };
        for arity in 1..=5 {
            let names: Vec<String> = (0..arity).map(|f| format!("f{f}")).collect();
            let s = Schema::new(names.iter().map(|n| (n.as_str(), Type::Int)));
            for (kf, key_name) in names.iter().enumerate() {
                // 0: a sum; 1: two fields set from the old accumulator; 2–7: one field set,
                // by each shape of integer arithmetic the fold picks its operator for once
                // per batch (`Expr::int_binop`), and by one it does not (a division).
                for (f, expression) in (0..arity).flat_map(|f| (0..8).map(move |e| (f, e))) {
                    let key = compile(key_name, &Scope::Record(&s), &mut i).unwrap();
                    let scope = Scope::Reduce { acc: &s, cur: &s };
                    let mut c = |t: &str| compile(t, &scope, &mut i).unwrap();
                    let agg = match expression {
                        // Two fields set from the old accumulator (the key field too, when
                        // it is one of them): the batch path for expressions.
                        1 => {
                            let g = (f + 1) % arity;
                            let mut fields = vec![(f, c(&format!("acc.f{f} + f{g} * 2 - 1")))];
                            if g != f {
                                fields.push((g, c(&format!("acc.f{f}"))));
                            }
                            Aggregate::Expr(fields)
                        }
                        // One field: set in place (a float state stays a float).
                        2 => Aggregate::Expr(vec![(f, c(&format!("acc.f{f} + f{f}")))]),
                        // The record's field first, the accumulator's second.
                        3 => {
                            let g = (f + 1) % arity;
                            Aggregate::Expr(vec![(f, c(&format!("f{g} - acc.f{f}")))])
                        }
                        4 => Aggregate::Expr(vec![(f, c(&format!("acc.f{f} * 3")))]),
                        5 => Aggregate::Expr(vec![(f, c(&format!("f{f} - 2")))]),
                        6 => {
                            let g = (f + 1) % arity;
                            Aggregate::Expr(vec![(f, c(&format!("f{f} * f{g}")))])
                        }
                        7 => Aggregate::Expr(vec![(f, c(&format!("acc.f{f} / 2 + f{f}")))]),
                        _ => Aggregate::Sum(f),
                    };
                    let mut batched = ReduceOp::new(key.clone(), agg.clone(), arity);
                    let mut single = ReduceOp::new(key, agg, arity);
                    let (mut scratch, mut err) = (String::new(), None);
                    let mut ev = EvalCx {
                        interner: &mut i,
                        scratch: &mut scratch,
                        error: &mut err,
                    };
                    let mut expected = Vec::new();
                    let mut got = Vec::new();
                    for _ in 0..20 {
                        let mut input = Batch::new(arity);
                        for _ in 0..500 {
                            let row: Vec<Value> = (0..arity)
                                .map(|c| match next() % 50 {
                                    0 if c != kf => Value::Float((next() % 7) as f64 / 2.0),
                                    _ if c == kf => Value::Int((next() % 9000) as i64),
                                    _ => Value::Int((next() % 100) as i64),
                                })
                                .collect();
                            expected.extend_from_slice(single.apply(&row, &mut ev));
                            input.push(
                                &row,
                                RecMeta {
                                    ts: crate::core::time::EventTime::MIN,
                                    born: crate::core::time::SimTime::ZERO,
                                },
                                0,
                            );
                        }
                        let mut out = Batch::new(arity);
                        batched.process(input.view(), &mut out, &mut ev);
                        got.extend(out.values);
                    }
                    assert!(
                        got.iter().zip(&expected).all(|(a, b)| a == b)
                            && got.len() == expected.len(),
                        "arity {arity}, key field {kf}, field {f}, expression {expression}"
                    );
                }
            }
        }
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
