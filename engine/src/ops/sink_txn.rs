//! Exactly-once sinks by two-phase commit (Flink's `TwoPhaseCommitSinkFunction`, and the
//! `SinkWriter`/`Committer` pair of `KafkaSink` with `DeliveryGuarantee.EXACTLY_ONCE`).
//!
//! Records go into the subtask's open transaction. At the sink's snapshot for checkpoint n the
//! transaction is **pre-committed** (flushed, not yet visible) and a new one opens; when the
//! coordinator reports checkpoint n complete, every pre-committed transaction up to n is
//! **committed** and its records become visible — that moment is their visible latency. On a
//! failure the open transaction is lost (aborted); a restore from checkpoint n commits the
//! transactions pre-committed in n that were not committed yet (Flink's
//! `recoverAndCommit`), so each record is visible exactly once.
//!
//! What is visible belongs to the outside world, not to the sink's state: it survives restarts
//! (`SinkOp::carry_visible`). This module keeps the transactions and the [`Ledger`] of what
//! became visible; the sink (`sink.rs`) makes committed records visible.

use super::batch::View;
use super::sink_metrics::row_hash;
use crate::core::time::SimTime;
use crate::core::value::{Interner, Value};
use rustc_hash::FxHashMap;

/// A record waiting in a transaction.
#[derive(Debug, Clone, Copy)]
pub struct Staged {
    /// Its content hash ([`row_hash`]).
    pub hash: u64,
    /// When it was created at its source.
    pub born: SimTime,
    /// Hash of the key column, when the sink's ledger tracks the final row per key.
    pub key: u64,
}

/// One transaction: its records, and the first rows (for the report).
#[derive(Debug, Clone, Default)]
pub struct Txn {
    /// Its records, in the order they were written.
    pub records: Vec<Staged>,
    /// The first rows, flat (at most `keep_rows` of them).
    pub rows: Vec<Value>,
    /// Every row as JSON, when the sink keeps its lineage.
    pub lineage: Vec<Vec<serde_json::Value>>,
}

/// The transactions of one exactly-once sink subtask.
#[derive(Debug, Clone, Default)]
pub struct Transactions {
    arity: usize,
    /// Rows kept per transaction for the report.
    keep_rows: usize,
    open: Txn,
    /// `(checkpoint id, transaction)`, oldest first.
    precommitted: Vec<(u64, Txn)>,
    /// Checkpoint ids whose transaction was committed (the outside world's memory).
    committed: Vec<u64>,
    /// Transactions committed so far.
    pub commits: u64,
    /// The key column whose final row per key the ledger tracks (see [`Ledger::key`]).
    pub key_col: Option<usize>,
    /// Open transactions lost to failures.
    pub aborted_records: u64,
    /// Whether each row is also kept as JSON, for the sink's lineage.
    pub lineage: bool,
}

impl Transactions {
    /// No transaction yet; rows of `arity` fields, the first `keep_rows` shown.
    pub fn new(arity: usize, keep_rows: usize) -> Self {
        Transactions {
            arity,
            keep_rows,
            ..Default::default()
        }
    }

    /// Writes the first `n` records of `view` into the open transaction.
    pub fn stage(&mut self, view: View<'_>, n: usize, arity: usize, interner: &Interner) {
        for i in 0..n {
            let row = &view.values[i * arity..(i + 1) * arity];
            self.stage_one(row, view.meta[i].born, interner);
        }
    }

    /// Writes one record into the open transaction.
    pub fn stage_one(&mut self, row: &[Value], born: SimTime, interner: &Interner) {
        self.open.records.push(Staged {
            hash: row_hash(row, interner),
            born,
            key: self.key_col.map_or(0, |c| row_hash(&row[c..=c], interner)),
        });
        if self.open.rows.len() < self.keep_rows * self.arity {
            self.open.rows.extend_from_slice(row);
        }
        if self.lineage {
            let json = row.iter().map(|v| v.to_json(interner)).collect();
            self.open.lineage.push(json);
        }
    }

    /// Records written but not yet visible (open and pre-committed transactions).
    pub fn pending(&self) -> usize {
        self.open.records.len()
            + self
                .precommitted
                .iter()
                .map(|(_, t)| t.records.len())
                .sum::<usize>()
    }

    /// The snapshot for checkpoint `id` pre-commits the open transaction. Returns its
    /// records.
    pub fn pre_commit(&mut self, id: u64) -> usize {
        let t = std::mem::take(&mut self.open);
        let n = t.records.len();
        self.precommitted.push((id, t));
        n
    }

    /// Checkpoint `id` completed: commits every pre-committed transaction up to it and
    /// returns them with their checkpoint, oldest first, for their records to become visible. One already committed
    /// before a failure is not committed again (commits are idempotent).
    pub fn commit_until(&mut self, id: u64) -> Vec<(u64, Txn)> {
        let mut ready = Vec::new();
        self.precommitted.retain_mut(|(cid, tx)| {
            if *cid <= id {
                ready.push((*cid, std::mem::take(tx)));
                false
            } else {
                true
            }
        });
        let mut committed = Vec::new();
        for (cid, tx) in ready {
            if self.committed.contains(&cid) {
                continue;
            }
            self.committed.push(cid);
            self.commits += 1;
            committed.push((cid, tx));
        }
        committed
    }

    /// After a restore, `self` is as of the checkpoint and `live` the transactions that were
    /// running: the outside world's memory of commits carries over, and the live open
    /// transaction was aborted.
    pub fn carry_outcome(&mut self, live: Transactions) {
        let lost = live.open.records.len() as u64;
        self.committed = live.committed;
        self.commits = live.commits;
        self.aborted_records = live.aborted_records + lost;
    }

    /// Takes out the ids of the committed checkpoints (they belong to the outside world,
    /// not to a snapshot); [`Transactions::put_committed`] puts them back.
    pub fn take_committed(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.committed)
    }

    /// Puts back what [`Transactions::take_committed`] took.
    pub fn put_committed(&mut self, committed: Vec<u64>) {
        self.committed = committed;
    }
}

/// A multiset of row contents: what a sink made visible, to compare with a reference run.
/// For a sink fed by a rolling reduce it also keeps the last row made visible per key — the
/// final state of the changelog, which is what a replay must reproduce when the intermediate
/// values depend on the order records arrive in.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    /// Content hash → times made visible.
    pub counts: FxHashMap<u64, u64>,
    /// The key column whose final row is tracked in `last` (`None`: not tracked).
    pub key: Option<usize>,
    /// Key hash → when its latest row became visible and that row's content hash.
    pub last: FxHashMap<u64, (SimTime, u64)>,
}

impl Ledger {
    /// Counts the first `n` rows of `values` (`arity` fields each), made visible at `at[i]`
    /// (the times matter only when the final row per key is tracked).
    pub fn add_rows(&mut self, values: &[Value], arity: usize, n: usize, interner: &Interner) {
        self.add_rows_at(values, arity, n, interner, |_| SimTime::ZERO);
    }

    /// [`Ledger::add_rows`] with the time row `i` became visible.
    pub fn add_rows_at(
        &mut self,
        values: &[Value],
        arity: usize,
        n: usize,
        interner: &Interner,
        at: impl Fn(usize) -> SimTime,
    ) {
        for i in 0..n {
            let row = &values[i * arity..(i + 1) * arity];
            let h = row_hash(row, interner);
            *self.counts.entry(h).or_default() += 1;
            if let Some(c) = self.key {
                self.last
                    .insert(row_hash(&row[c..=c], interner), (at(i), h));
            }
        }
    }

    /// `(keys, differing)` compared with `reference` by the final row per key: how many keys
    /// either run has, and how many of them end with a different row (or not at all) here.
    pub fn compare_final(&self, reference: &Ledger) -> (u64, u64) {
        let mut keys = reference.last.len() as u64;
        let mut differ = 0;
        for (k, (_, h)) in &reference.last {
            if self.last.get(k).is_none_or(|(_, mine)| mine != h) {
                differ += 1;
            }
        }
        for k in self.last.keys() {
            if !reference.last.contains_key(k) {
                keys += 1;
                differ += 1;
            }
        }
        (keys, differ)
    }

    /// `(duplicates, missing)` compared with `reference`: records seen more often than in the
    /// reference, and records of the reference seen less often (or never).
    pub fn compare(&self, reference: &Ledger) -> (u64, u64) {
        crate::report::duplicates_and_missing(&self.counts, &reference.counts)
    }

    /// Merges another subtask's ledger. A key seen by both keeps the row made visible last
    /// (the larger content hash on a tie, so the merge does not depend on subtask order).
    pub fn merge(&mut self, other: &Ledger) {
        for (h, c) in &other.counts {
            *self.counts.entry(*h).or_default() += c;
        }
        self.key = self.key.or(other.key);
        for (k, &v) in &other.last {
            let e = self.last.entry(*k).or_insert(v);
            if v > *e {
                *e = v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::value::Interner;

    #[test]
    fn ledgers_count_duplicates_and_missing_records() {
        let i = Interner::new();
        let mut a = Ledger::default();
        let mut r = Ledger::default();
        let v = [Value::Int(1), Value::Int(2), Value::Int(2), Value::Int(3)];
        r.add_rows(&v[..3], 1, 3, &i); // 1, 2, 2
        a.add_rows(&v[1..], 1, 3, &i); // 2, 2, 3
        a.add_rows(&v[1..2], 1, 1, &i); // 2 again
        assert_eq!(a.compare(&r), (2, 1)); // one extra 2 and the 3; the 1 is missing
    }

    #[test]
    fn a_checkpoint_commits_its_transactions_once() {
        let i = Interner::new();
        let mut t = Transactions::new(1, 10);
        t.stage_one(&[Value::Int(1)], SimTime::from_nanos(0), &i);
        t.pre_commit(1);
        t.stage_one(&[Value::Int(2)], SimTime::from_nanos(0), &i);
        t.pre_commit(2);
        let done = t.commit_until(1);
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].1.rows, vec![Value::Int(1)]);
        assert_eq!((t.commits, t.pending()), (1, 1));
        // a restored copy that still holds checkpoint 1 does not commit it again
        let mut restored = Transactions::new(1, 10);
        restored.stage_one(&[Value::Int(1)], SimTime::from_nanos(0), &i);
        restored.pre_commit(1);
        restored.carry_outcome(t);
        assert!(restored.commit_until(1).is_empty());
        assert_eq!(restored.commits, 1);
    }
}
