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
//! ([`SinkOp::carry_visible`]).

use super::batch::View;
use super::sink::{SinkMode, SinkOp, row_hash};
use crate::core::time::SimTime;
use crate::core::value::{Interner, Value};
use rustc_hash::FxHashMap;

/// A record waiting in a transaction.
#[derive(Debug, Clone, Copy)]
struct Staged {
    hash: u64,
    born: SimTime,
    /// Hash of the key column, when the sink's ledger tracks the final row per key.
    key: u64,
}

/// One transaction: its records, and the first rows (for the report).
#[derive(Debug, Clone, Default)]
struct Txn {
    records: Vec<Staged>,
    rows: Vec<Value>,
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

    /// The snapshot for checkpoint `id` pre-commits the open transaction.
    pub fn pre_commit(&mut self, id: u64) {
        let t = std::mem::take(&mut self.open);
        self.precommitted.push((id, t));
    }
}

impl SinkOp {
    /// Checkpoint `id` completed (notified at `t`): commit every pre-committed transaction up
    /// to it. Returns the records that became visible.
    pub fn commit_until(&mut self, id: u64, t: SimTime) -> u64 {
        let Some(txn) = self.txn.as_mut() else {
            return 0;
        };
        let mut ready = Vec::new();
        txn.precommitted.retain_mut(|(cid, tx)| {
            if *cid <= id {
                ready.push((*cid, std::mem::take(tx)));
                false
            } else {
                true
            }
        });
        let mut shown = 0;
        for (cid, tx) in ready {
            let txn = self.txn.as_mut().expect("checked above");
            if txn.committed.contains(&cid) {
                continue; // already committed before a failure: commits are idempotent
            }
            txn.committed.push(cid);
            txn.commits += 1;
            shown += tx.records.len() as u64;
            self.make_visible(&tx, t);
        }
        shown
    }

    /// Whether every transaction has been committed (nothing open, nothing pre-committed).
    pub fn all_committed(&self) -> bool {
        self.txn.as_ref().is_none_or(|t| t.pending() == 0)
    }

    fn make_visible(&mut self, tx: &Txn, t: SimTime) {
        let n = tx.records.len() as u64;
        if n == 0 {
            return;
        }
        self.count += n;
        self.first.get_or_insert(t);
        self.last = t;
        for r in &tx.records {
            self.series.add(t);
            self.latency.record(t.since(r.born).as_nanos().max(1));
            self.checksum = self.checksum.wrapping_add(r.hash);
            if let Some(l) = &mut self.ledger {
                *l.counts.entry(r.hash).or_default() += 1;
                if l.key.is_some() {
                    l.last.insert(r.key, (t, r.hash));
                }
            }
        }
        if let SinkMode::Collect { limit } = self.mode {
            let room = (limit * self.arity).saturating_sub(self.rows.len());
            let take = room.min(tx.rows.len());
            self.rows.extend_from_slice(&tx.rows[..take]);
        }
    }

    /// After a restore, `self` is the sink as of the checkpoint and `live` the sink that was
    /// running when the failure struck. Everything already visible stays visible (it left the
    /// job); transactions pre-committed in the checkpoint and not yet committed are committed
    /// now, at `t`. Returns the records that became visible.
    pub fn carry_visible(&mut self, live: SinkOp, restored_id: Option<u64>, t: SimTime) -> u64 {
        let lost = live.txn.as_ref().map_or(0, |x| x.open.records.len() as u64);
        self.rows = live.rows;
        self.count = live.count;
        self.latency = live.latency;
        self.checksum = live.checksum;
        self.first = live.first;
        self.last = live.last;
        self.series = live.series;
        self.ledger = live.ledger;
        if let SinkMode::Upsert { index, .. } = &mut self.mode
            && let SinkMode::Upsert {
                index: live_index, ..
            } = live.mode
        {
            *index = live_index;
        }
        if let (Some(mine), Some(theirs)) = (self.txn.as_mut(), live.txn) {
            mine.committed = theirs.committed;
            mine.commits = theirs.commits;
            mine.aborted_records = theirs.aborted_records + lost;
        }
        match restored_id {
            Some(id) => self.commit_until(id, t),
            None => 0,
        }
    }
}

/// What a sink made visible: it left the job, so it belongs to the outside world and not to
/// the sink's state. A snapshot leaves it out (a restore takes it from the live sink,
/// [`SinkOp::carry_visible`]), so a sink capturing many rows does not copy them into every
/// checkpoint.
#[derive(Debug, Default)]
pub struct Visible {
    rows: Vec<Value>,
    index: Option<FxHashMap<Value, u32>>,
    latency: super::sink::LatencyCounts,
    series: super::sink::Series,
    ledger: Option<Box<Ledger>>,
    committed: Vec<u64>,
}

impl SinkOp {
    /// Takes out what the sink made visible (see [`Visible`]); [`SinkOp::put_visible`]
    /// puts it back.
    pub fn take_visible(&mut self) -> Visible {
        Visible {
            rows: std::mem::take(&mut self.rows),
            index: match &mut self.mode {
                SinkMode::Upsert { index, .. } => Some(std::mem::take(index)),
                _ => None,
            },
            latency: std::mem::take(&mut self.latency),
            series: std::mem::take(&mut self.series),
            ledger: self
                .ledger
                .as_mut()
                .map(|l| Box::new(std::mem::take(&mut **l))),
            committed: self
                .txn
                .as_mut()
                .map(|t| std::mem::take(&mut t.committed))
                .unwrap_or_default(),
        }
    }

    /// Puts back what [`SinkOp::take_visible`] took.
    pub fn put_visible(&mut self, v: Visible) {
        self.rows = v.rows;
        if let (SinkMode::Upsert { index, .. }, Some(i)) = (&mut self.mode, v.index) {
            *index = i;
        }
        self.latency = v.latency;
        self.series = v.series;
        if let (Some(l), Some(v)) = (self.ledger.as_mut(), v.ledger) {
            *l = v;
        }
        if let Some(t) = self.txn.as_mut() {
            t.committed = v.committed;
        }
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

impl SinkOp {
    /// Keeps the final row per value of column `col` in the ledger (for the comparison by
    /// final value per key). Needs the ledger.
    pub fn track_final_per_key(&mut self, col: usize) {
        if let Some(l) = self.ledger.as_mut() {
            l.key = Some(col);
            if let Some(t) = self.txn.as_mut() {
                t.key_col = Some(col);
            }
        }
    }
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
    use crate::sim::buffer::RecMeta;

    fn sink() -> (SinkOp, Interner) {
        let mut s = SinkOp::new(SinkMode::Collect { limit: 10 }, 1);
        s.txn = Some(Box::new(Transactions::new(1, 10)));
        s.ledger = Some(Box::default());
        (s, Interner::new())
    }

    fn write(s: &mut SinkOp, i: &mut Interner, v: i64, born_ms: u64) {
        let (mut scratch, mut err) = (String::new(), None);
        let mut ev = crate::expr::eval::EvalCx {
            interner: i,
            scratch: &mut scratch,
            error: &mut err,
        };
        let born = SimTime(born_ms * 1_000_000);
        s.consume(&[Value::Int(v)], RecMeta::untimed(born), born, &mut ev);
    }

    #[test]
    fn records_become_visible_only_when_their_checkpoint_completes() {
        let (mut s, mut i) = sink();
        write(&mut s, &mut i, 1, 0);
        write(&mut s, &mut i, 2, 10);
        assert_eq!(s.count, 0, "nothing visible before a commit");
        s.txn.as_mut().unwrap().pre_commit(1);
        write(&mut s, &mut i, 3, 20);
        assert_eq!(s.commit_until(1, SimTime(1_000_000_000)), 2);
        assert_eq!(s.count, 2);
        assert_eq!(s.rows, vec![Value::Int(1), Value::Int(2)]);
        // latency runs to the commit, not to the arrival
        assert!(s.latency.histogram().max() >= 990_000_000);
        assert_eq!(
            s.txn.as_ref().unwrap().pending(),
            1,
            "record 3 is still open"
        );
    }

    #[test]
    fn a_restore_commits_the_pre_committed_transaction_once_and_drops_the_open_one() {
        let (mut s, mut i) = sink();
        write(&mut s, &mut i, 1, 0);
        s.txn.as_mut().unwrap().pre_commit(1);
        let snapshot = s.clone(); // checkpoint 1 holds the pre-committed transaction
        write(&mut s, &mut i, 2, 5); // open, lost in the failure
        let mut restored = snapshot.clone();
        assert_eq!(restored.carry_visible(s, Some(1), SimTime(7)), 1);
        assert_eq!(restored.count, 1);
        assert_eq!(restored.txn.as_ref().unwrap().aborted_records, 1);
        // a second restore from the same checkpoint commits nothing again
        let mut again = snapshot;
        assert_eq!(again.carry_visible(restored, Some(1), SimTime(9)), 0);
        assert_eq!(again.count, 1);
    }

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
}
