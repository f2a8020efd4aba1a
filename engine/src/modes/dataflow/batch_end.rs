//! Flink's BATCH runtime at the end of the input: a keyed reduce's final rows, in key order.

use super::Dataflow;
use crate::core::time::SimTime;
use crate::core::value::{Interner, Value};
use crate::ops::batch::Batch;

impl Dataflow {
    /// BATCH runtime: a keyed reduce is not rolling — it keeps each key's latest aggregate
    /// (row `i` of `out` is the aggregate of key `keys[i]`) to emit at the end of the input.
    pub(super) fn keep_finals(&mut self, n: usize, st: usize, keys: &[Value], out: &Batch) {
        let f = &mut self.nodes[n].finals[st];
        for (i, &key) in keys.iter().enumerate() {
            let row = out.view().row(i);
            match f.index.get(&key) {
                Some(&j) => {
                    f.rows[j].1.clear();
                    f.rows[j].1.extend_from_slice(row);
                    // the row is as old as the oldest record it reflects: that record
                    // becomes visible only with the final row
                    f.rows[j].2.ts = out.meta[i].ts;
                }
                None => {
                    f.index.insert(key, f.rows.len());
                    f.rows.push((key, row.to_vec(), out.meta[i]));
                }
            }
        }
    }

    /// BATCH runtime, end of input: a keyed reduce emits its final row of every key, in key
    /// order (Flink sorts a keyed input by key and emits a key's result when it moves on).
    pub(super) fn emit_finals(
        &mut self,
        n: usize,
        st: usize,
        now: SimTime,
        error: &mut Option<String>,
    ) {
        let mut rows = std::mem::take(&mut self.nodes[n].finals[st].rows);
        self.nodes[n].finals[st].index.clear();
        if rows.is_empty() {
            return;
        }
        let interner = &self.interner;
        rows.sort_by(|a, b| key_order(a.0, b.0, interner));
        let mut out = Batch::new(self.nodes[n].arity);
        for (_, row, meta) in &rows {
            out.push(row, *meta, 0);
        }
        let v = self.nodes[n].vertex;
        let t = now.max(self.free[v][st]);
        let times = vec![t; out.len()];
        self.nodes[n].records_out[st] += out.len() as u64;
        self.route(n, st, false, &out, &times, error);
    }
}

/// The order of keys in a BATCH-runtime reduce's output: integers numerically, strings by
/// content, floats by value; values of different kinds by kind.
fn key_order(a: Value, b: Value, interner: &Interner) -> std::cmp::Ordering {
    fn rank(v: Value) -> u8 {
        match v {
            Value::Int(_) => 0,
            Value::Float(_) => 1,
            Value::Str(_) => 2,
            _ => 3,
        }
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(&y),
        (Value::Float(x), Value::Float(y)) => x.total_cmp(&y),
        (Value::Str(x), Value::Str(y)) => interner.resolve(x).cmp(interner.resolve(y)),
        (x, y) => rank(x).cmp(&rank(y)).then_with(|| {
            x.to_json(interner)
                .to_string()
                .cmp(&y.to_json(interner).to_string())
        }),
    }
}
