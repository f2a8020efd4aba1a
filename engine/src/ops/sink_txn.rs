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
//!
//! A transaction does not keep its records: making them visible needs their number, their
//! checksum and their latency to the commit, so it keeps a count, the wrapping sum of their
//! content hashes and their births run-length encoded (records of one source batch share a
//! birth) — memory grows with the distinct births of a checkpoint interval, not with the
//! records. Per-record content hashes are kept only when the sink has a [`Ledger`] (the run is
//! compared with a fault-free reference), rows as JSON only when the sink keeps its lineage
//! (`explain`), and the first rows only up to the sink's `capture`. Debug builds also keep
//! every record's hash and birth and check the summaries against them at each commit
//! ([`Txn::check_summary`]).
//!
//! **Transaction timeouts** (Kafka's `transaction.timeout.ms`, `transaction_timeout`): a
//! transaction begins on the broker with its first record; the broker aborts it when it is
//! still not committed `timeout` later. Its commit — on `notifyCheckpointComplete`, or on
//! `recoverAndCommit` after a restore — then finds it aborted: Flink's `KafkaCommitter` logs
//! the `ProducerFencedException` / `InvalidTxnStateException` and goes on, and the records are
//! lost ([`TimedOut`]). An empty transaction never began on the broker and cannot time out.

use super::batch::View;
use super::sink_metrics::{checksum_rows, row_hash};
use crate::core::defaults::transactions::WARNING_RATIO;
use crate::core::time::{SimDuration, SimTime};
use crate::core::value::{Interner, Value};
use rustc_hash::FxHashMap;

/// What a transaction keeps of one record when the sink's [`Ledger`] needs it (the run is
/// compared with a reference run): its content hash, and its key's hash when the ledger tracks
/// the final row per key. Without a ledger a transaction keeps no per-record data at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Staged {
    /// Its content hash ([`row_hash`]).
    pub hash: u64,
    /// Hash of the key column, when the sink's ledger tracks the final row per key.
    pub key: u64,
}

/// One transaction: how many records it holds, their checksum and births — what making them
/// visible needs (count, checksum, latency to the commit) — and the first rows (for the
/// report). Its memory is the number of distinct births, not the number of records: records of
/// one source batch are born together and arrive together.
#[derive(Debug, Clone, Default)]
pub struct Txn {
    /// Records written into it.
    pub len: u64,
    /// The wrapping sum of their content hashes ([`row_hash`]), as the sink's checksum.
    pub checksum: u64,
    /// When its records were created at their sources, run-length encoded in write order:
    /// `(birth, records born then)`.
    pub births: Vec<(SimTime, u64)>,
    /// Per record, in write order, what the sink's ledger needs (empty when it has none).
    pub staged: Vec<Staged>,
    /// The first rows, flat (at most `keep_rows` of them).
    pub rows: Vec<Value>,
    /// Every row as JSON, when the sink keeps its lineage.
    pub lineage: Vec<Vec<serde_json::Value>>,
    /// When its first record was written — when the broker began it and its timeout started.
    /// `None`: empty so far.
    pub opened: Option<SimTime>,
    /// Debug builds only: every record's (content hash, birth), the full capture the summaries
    /// above are checked against ([`Txn::check_summary`]).
    #[cfg(debug_assertions)]
    pub full: Vec<(u64, SimTime)>,
}

impl Txn {
    /// Counts `n` records born at `born` (run-length: a run of equal births is one entry).
    #[inline]
    fn add_births(&mut self, born: SimTime, n: u64) {
        match self.births.last_mut() {
            Some((b, c)) if *b == born => *c += n,
            _ => self.births.push((born, n)),
        }
    }

    /// Bytes it holds in memory: its run-length births, the ledger's per-record hashes and
    /// its kept rows, 16 bytes an entry (a lineage row counted as its `arity` fields).
    pub fn heap_bytes(&self, arity: usize) -> u64 {
        let entries = self.births.len()
            + self.staged.len()
            + self.rows.len()
            + self.lineage.len() * arity.max(1);
        (entries * 16) as u64
    }

    /// Each record's birth, in write order (the run-length births expanded).
    pub fn each_birth(&self) -> impl Iterator<Item = SimTime> + '_ {
        self.births
            .iter()
            .flat_map(|&(b, c)| std::iter::repeat_n(b, c as usize))
    }

    /// The oracle of the summaries: in debug builds, panics unless the count, checksum and
    /// births equal those computed from every record written (`full`). A no-op in release.
    pub fn check_summary(&self) {
        #[cfg(debug_assertions)]
        {
            let sum = self.full.iter().fold(0u64, |s, (h, _)| s.wrapping_add(*h));
            assert_eq!(self.len, self.full.len() as u64, "transaction record count");
            assert_eq!(self.checksum, sum, "transaction checksum");
            assert!(
                self.each_birth().eq(self.full.iter().map(|(_, b)| *b)),
                "transaction births"
            );
            if !self.staged.is_empty() {
                assert!(
                    self.staged
                        .iter()
                        .map(|s| s.hash)
                        .eq(self.full.iter().map(|(h, _)| *h)),
                    "transaction ledger hashes"
                );
            }
        }
    }
}

/// A transaction the broker aborted because it was still open `transaction_timeout` after it
/// began; its commit found it aborted, and its records are lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut {
    /// The checkpoint that pre-committed it.
    pub checkpoint: u64,
    /// When it began (its first record).
    pub opened: SimTime,
    /// When the broker aborted it: `opened + transaction_timeout`.
    pub aborted: SimTime,
    /// When the commit found it aborted.
    pub commit_at: SimTime,
    /// Its records, lost.
    pub records: u64,
}

impl TimedOut {
    /// The report's warning: `who` (the sink subtask) lost this transaction to
    /// `transaction_timeout` = `limit`, with what Flink's `KafkaCommitter` logs then.
    pub fn warning(&self, who: &str, limit: SimDuration) -> String {
        format!(
            "{who}: the transaction of checkpoint {} ({} records) began at {} and was still uncommitted after transaction_timeout ({limit}): the broker aborted it at {}, and its commit at {} found it aborted — the records are lost (Flink's KafkaCommitter logs \"Unable to commit transaction … Most likely the transaction has been aborted for some reason\" and does not fail the job)",
            self.checkpoint, self.records, self.opened, self.aborted, self.commit_at
        )
    }
}

/// What one commit call settled: the transactions committed (with their checkpoint, oldest
/// first) and those the broker had aborted.
#[derive(Debug, Default)]
pub struct Settled {
    /// Committed now: their records become visible.
    pub committed: Vec<(u64, Txn)>,
    /// Found aborted by the transaction timeout.
    pub timed_out: Vec<TimedOut>,
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
    /// `transaction_timeout`: the broker aborts a transaction still uncommitted this long
    /// after it began. `None`: never.
    pub timeout: Option<SimDuration>,
    /// Transactions the broker aborted before their commit (the outside world's memory, like
    /// `committed`: an aborted transaction stays aborted).
    timed_out: Vec<TimedOut>,
    /// Commits that came after more than [`WARNING_RATIO`] of the timeout, and the oldest
    /// transaction committed (Flink's `TwoPhaseCommitSinkFunction` warns about each).
    pub near_timeout: (u64, SimDuration),
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

    /// Writes the first `n` records of `view` into the open transaction, the first of them at
    /// `at`. `ledger`: the sink keeps a ledger, so each record's hashes are kept too.
    pub fn stage(
        &mut self,
        view: View<'_>,
        n: usize,
        interner: &Interner,
        at: SimTime,
        ledger: bool,
    ) {
        let arity = self.arity;
        if n == 0 {
            return;
        }
        if ledger || self.lineage || arity == 0 {
            for i in 0..n {
                let row = &view.values[i * arity..(i + 1) * arity];
                self.stage_one(row, view.meta[i].born, interner, at, ledger);
            }
            return;
        }
        // The common case: no per-record data, only the summaries.
        self.open.opened.get_or_insert(at);
        let values = &view.values[..n * arity];
        let sum = match arity {
            1 => checksum_rows::<1>(values, interner),
            2 => checksum_rows::<2>(values, interner),
            3 => checksum_rows::<3>(values, interner),
            4 => checksum_rows::<4>(values, interner),
            a => values
                .chunks_exact(a.max(1))
                .fold(0u64, |h, row| h.wrapping_add(row_hash(row, interner))),
        };
        self.open.checksum = self.open.checksum.wrapping_add(sum);
        self.open.len += n as u64;
        for m in &view.meta[..n] {
            self.open.add_births(m.born, 1);
        }
        #[cfg(debug_assertions)]
        for (row, m) in values.chunks_exact(arity.max(1)).zip(&view.meta[..n]) {
            self.open.full.push((row_hash(row, interner), m.born));
        }
        let want = (self.keep_rows * arity).saturating_sub(self.open.rows.len());
        let take = want.min(n * arity);
        self.open.rows.extend_from_slice(&values[..take]);
    }

    /// Writes one record into the open transaction at `at` (the transaction begins with its
    /// first record). `ledger`: the sink keeps a ledger, so the record's hashes are kept too.
    pub fn stage_one(
        &mut self,
        row: &[Value],
        born: SimTime,
        interner: &Interner,
        at: SimTime,
        ledger: bool,
    ) {
        let hash = row_hash(row, interner);
        let t = &mut self.open;
        t.opened.get_or_insert(at);
        t.len += 1;
        t.checksum = t.checksum.wrapping_add(hash);
        t.add_births(born, 1);
        #[cfg(debug_assertions)]
        t.full.push((hash, born));
        if ledger {
            t.staged.push(Staged {
                hash,
                key: self.key_col.map_or(0, |c| row_hash(&row[c..=c], interner)),
            });
        }
        if t.rows.len() < self.keep_rows * self.arity {
            t.rows.extend_from_slice(row);
        }
        if self.lineage {
            let json = row.iter().map(|v| v.to_json(interner)).collect();
            t.lineage.push(json);
        }
    }

    /// Records written but not yet visible (open and pre-committed transactions).
    pub fn pending(&self) -> usize {
        let n = self.open.len + self.precommitted.iter().map(|(_, t)| t.len).sum::<u64>();
        n as usize
    }

    /// Bytes the open and pre-committed transactions hold in memory ([`Txn::heap_bytes`]):
    /// they grow with the distinct births of their records, not with the records, unless the
    /// sink keeps a ledger or its lineage.
    pub fn heap_bytes(&self) -> u64 {
        self.open.heap_bytes(self.arity)
            + self
                .precommitted
                .iter()
                .map(|(_, t)| t.heap_bytes(self.arity))
                .sum::<u64>()
    }

    /// The snapshot for checkpoint `id` pre-commits the open transaction. Returns its
    /// records.
    pub fn pre_commit(&mut self, id: u64) -> usize {
        let t = std::mem::take(&mut self.open);
        let n = t.len as usize;
        self.precommitted.push((id, t));
        n
    }

    /// Checkpoint `id` completed (the commit runs at `t`): commits every pre-committed
    /// transaction up to it and returns them with their checkpoint, oldest first, for their
    /// records to become visible. One already committed before a failure is not committed
    /// again (commits are idempotent); one the broker aborted by its timeout before `t` is
    /// lost (see [`TimedOut`]), and stays aborted.
    pub fn commit_until(&mut self, id: u64, t: SimTime) -> Settled {
        let mut ready = Vec::new();
        self.precommitted.retain_mut(|(cid, tx)| {
            if *cid <= id {
                ready.push((*cid, std::mem::take(tx)));
                false
            } else {
                true
            }
        });
        let mut settled = Settled::default();
        for (cid, tx) in ready {
            if self.committed.contains(&cid) || self.timed_out.iter().any(|x| x.checkpoint == cid) {
                continue;
            }
            if let Some(x) = self.timed_out_at(cid, &tx, t) {
                self.timed_out.push(x);
                settled.timed_out.push(x);
                continue;
            }
            self.note_age(&tx, t);
            self.committed.push(cid);
            self.commits += 1;
            settled.committed.push((cid, tx));
        }
        settled
    }

    /// The abort of transaction `tx` (pre-committed by checkpoint `cid`) if it was still open
    /// `timeout` after it began and its commit comes at `t`, later than that. Kafka's
    /// coordinator aborts a transaction once `start + timeout < now`.
    fn timed_out_at(&self, cid: u64, tx: &Txn, t: SimTime) -> Option<TimedOut> {
        let (limit, opened) = (self.timeout?, tx.opened?);
        (t.since(opened) > limit).then(|| TimedOut {
            checkpoint: cid,
            opened,
            aborted: opened + limit,
            commit_at: t,
            records: tx.len,
        })
    }

    /// Counts a commit at `t` of a transaction older than [`WARNING_RATIO`] of the timeout.
    fn note_age(&mut self, tx: &Txn, t: SimTime) {
        let (Some(limit), Some(opened)) = (self.timeout, tx.opened) else {
            return;
        };
        let age = t.since(opened);
        if age.as_nanos() as f64 > limit.as_nanos() as f64 * WARNING_RATIO {
            self.near_timeout.0 += 1;
            self.near_timeout.1 = self.near_timeout.1.max(age);
        }
    }

    /// The transactions the broker aborted by their timeout, in the order their commits
    /// found them.
    pub fn timed_out(&self) -> &[TimedOut] {
        &self.timed_out
    }

    /// The report's warning about commits close to the timeout, if there were any (the
    /// warning of Flink's `TwoPhaseCommitSinkFunction`, on in `FlinkKafkaProducer`).
    pub fn near_timeout_warning(&self, who: &str) -> Option<String> {
        let ((n, oldest), limit) = (self.near_timeout, self.timeout?);
        (n > 0).then(|| {
            format!(
                "{who}: {n} transaction{} committed after more than {:.0}% of transaction_timeout, the oldest open for {oldest} — Flink's TwoPhaseCommitSinkFunction warns \"Transaction … has been open for {} ms. This is close to or even exceeding the transaction timeout of {} ms.\"",
                if n == 1 { " was" } else { "s were" },
                WARNING_RATIO * 100.0,
                oldest.as_nanos() / 1_000_000,
                limit.as_nanos() / 1_000_000
            )
        })
    }

    /// Records lost to transaction timeouts.
    pub fn timed_out_records(&self) -> u64 {
        self.timed_out.iter().map(|x| x.records).sum()
    }

    /// After a restore, `self` is as of the checkpoint and `live` the transactions that were
    /// running: the outside world's memory of commits carries over, and the live open
    /// transaction was aborted.
    pub fn carry_outcome(&mut self, live: Transactions) {
        let lost = live.open.len;
        self.committed = live.committed;
        self.timed_out = live.timed_out;
        self.commits = live.commits;
        self.near_timeout = live.near_timeout;
        self.aborted_records = live.aborted_records + lost;
    }

    /// Takes out the committed checkpoints and the transactions aborted by their timeout
    /// (they belong to the outside world, not to a snapshot); [`Transactions::put_committed`]
    /// puts them back.
    pub fn take_committed(&mut self) -> (Vec<u64>, Vec<TimedOut>) {
        (
            std::mem::take(&mut self.committed),
            std::mem::take(&mut self.timed_out),
        )
    }

    /// Puts back what [`Transactions::take_committed`] took.
    pub fn put_committed(&mut self, (committed, timed_out): (Vec<u64>, Vec<TimedOut>)) {
        self.committed = committed;
        self.timed_out = timed_out;
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
        // Room first: subtasks see different keys, so most entries are new, and growing the
        // tables as they come rehashed them again and again (a fifth of `crashpoints`).
        self.counts.reserve(other.counts.len());
        self.last.reserve(other.last.len());
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

    /// Two subtasks' ledgers merged in either order: counts add up, and a key seen by both
    /// keeps the row made visible last.
    #[test]
    fn merged_ledgers_add_counts_and_keep_each_keys_latest_row() {
        let i = Interner::new();
        let rows = |kv: &[(i64, i64)]| -> Vec<Value> {
            kv.iter()
                .flat_map(|&(k, v)| [Value::Int(k), Value::Int(v)])
                .collect()
        };
        let keyed = || Ledger {
            key: Some(0),
            ..Ledger::default()
        };
        let (mut a, mut b) = (keyed(), keyed());
        let a_rows = rows(&[(1, 10), (2, 20), (1, 11)]);
        let b_rows = rows(&[(2, 21), (3, 30), (1, 10)]);
        a.add_rows_at(&a_rows, 2, 3, &i, |n| SimTime::from_nanos(n as u64 * 10));
        b.add_rows_at(&b_rows, 2, 3, &i, |n| {
            SimTime::from_nanos(n as u64 * 10 + 5)
        });
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab.counts, ba.counts);
        assert_eq!(ab.last, ba.last);
        assert_eq!(ab.counts.values().sum::<u64>(), 6);
        assert_eq!(
            ab.counts[&row_hash(&[Value::Int(1), Value::Int(10)], &i)],
            2
        );
        let latest = |k: i64| ab.last[&row_hash(&[Value::Int(k)], &i)].1;
        // key 1: (1, 11) at 20 in a, (1, 10) at 25 in b — b's is later;
        // key 2: (2, 21) at 5 in b, (2, 20) at 10 in a — a's is later
        assert_eq!(latest(1), row_hash(&[Value::Int(1), Value::Int(10)], &i));
        assert_eq!(latest(2), row_hash(&[Value::Int(2), Value::Int(20)], &i));
        assert_eq!(latest(3), row_hash(&[Value::Int(3), Value::Int(30)], &i));
    }

    #[test]
    fn a_checkpoint_commits_its_transactions_once() {
        let i = Interner::new();
        let mut t = Transactions::new(1, 10);
        t.stage_one(&[Value::Int(1)], SimTime::ZERO, &i, SimTime::ZERO, false);
        t.pre_commit(1);
        t.stage_one(&[Value::Int(2)], SimTime::ZERO, &i, SimTime::ZERO, false);
        t.pre_commit(2);
        let done = t.commit_until(1, SimTime::ZERO).committed;
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].1.rows, vec![Value::Int(1)]);
        assert_eq!((t.commits, t.pending()), (1, 1));
        // a restored copy that still holds checkpoint 1 does not commit it again
        let mut restored = Transactions::new(1, 10);
        restored.stage_one(&[Value::Int(1)], SimTime::ZERO, &i, SimTime::ZERO, false);
        restored.pre_commit(1);
        restored.carry_outcome(t);
        assert!(restored.commit_until(1, SimTime::ZERO).committed.is_empty());
        assert_eq!(restored.commits, 1);
    }

    #[test]
    fn a_transaction_holds_its_births_not_its_records_unless_a_ledger_needs_them() {
        let i = Interner::new();
        let fill = |ledger: bool| {
            let mut t = Transactions::new(1, 0);
            for k in 0..10_000u64 {
                let born = SimTime::from_nanos(k / 1000); // ten source batches
                t.stage_one(&[Value::Int(k as i64)], born, &i, SimTime::ZERO, ledger);
            }
            t
        };
        let t = fill(false);
        assert_eq!(t.pending(), 10_000);
        assert_eq!(t.heap_bytes(), 10 * 16, "one entry per run of births");
        let t = fill(true);
        assert_eq!(t.heap_bytes(), (10 + 10_000) * 16, "and a hash per record");
        assert_eq!(t.open.staged.len(), 10_000);
    }

    fn secs(s: f64) -> SimTime {
        SimTime::from_nanos((s * 1e9) as u64)
    }

    /// A transaction with records, begun at `opened` and pre-committed by checkpoint 1, under
    /// a 2 s transaction timeout.
    fn pre_committed(opened: f64) -> Transactions {
        let i = Interner::new();
        let mut t = Transactions::new(1, 10);
        t.timeout = Some(SimDuration::from_secs(2));
        t.stage_one(&[Value::Int(1)], secs(opened), &i, secs(opened), false);
        t.stage_one(
            &[Value::Int(2)],
            secs(opened),
            &i,
            secs(opened + 0.5),
            false,
        );
        t.pre_commit(1);
        t
    }

    #[test]
    fn a_transaction_still_open_after_its_timeout_is_aborted_by_the_broker_and_lost() {
        let mut t = pre_committed(1.0);
        let done = t.commit_until(1, secs(3.5));
        assert!(done.committed.is_empty());
        let x = TimedOut {
            checkpoint: 1,
            opened: secs(1.0), // its first record, not its last
            aborted: secs(3.0),
            commit_at: secs(3.5),
            records: 2,
        };
        assert_eq!(done.timed_out, [x]);
        assert_eq!((t.commits, t.timed_out_records(), t.pending()), (0, 2, 0));
        let w = x.warning("sink `out` #0", SimDuration::from_secs(2));
        assert!(
            w.contains("checkpoint 1 (2 records) began at 1.000 s"),
            "{w}"
        );
        assert!(w.contains("the broker aborted it at 3.000 s"), "{w}");
        // a restored copy that still holds the transaction finds it aborted, once
        let mut restored = pre_committed(1.0);
        restored.carry_outcome(t);
        let again = restored.commit_until(1, secs(9.0));
        assert!(again.committed.is_empty() && again.timed_out.is_empty());
        assert_eq!(restored.timed_out(), [x]);
    }

    #[test]
    fn a_commit_within_the_timeout_commits_and_a_late_one_is_warned_about() {
        // Kafka aborts once start + timeout < now: at exactly the timeout it still commits
        let mut t = pre_committed(1.0);
        assert_eq!(t.commit_until(1, secs(3.0)).committed.len(), 1);
        assert_eq!(t.near_timeout, (1, SimDuration::from_secs(2)));
        let w = t.near_timeout_warning("sink `out` #0").unwrap();
        assert!(
            w.contains("has been open for 2000 ms. This is close to or even exceeding the transaction timeout of 2000 ms."),
            "{w}"
        );
        // under 80 % of the timeout: no warning
        let mut t = pre_committed(1.0);
        assert_eq!(t.commit_until(1, secs(2.6)).committed.len(), 1);
        assert_eq!(t.near_timeout_warning("x"), None);
        // no timeout: never aborted, never warned about
        let mut t = pre_committed(1.0);
        t.timeout = None;
        assert_eq!(t.commit_until(1, secs(3600.0)).committed.len(), 1);
        assert_eq!(t.near_timeout_warning("x"), None);
    }

    #[test]
    fn an_empty_transaction_never_began_on_the_broker_and_cannot_time_out() {
        let mut t = Transactions::new(1, 10);
        t.timeout = Some(SimDuration::from_secs(2));
        t.pre_commit(1);
        let done = t.commit_until(1, secs(100.0));
        assert!(done.timed_out.is_empty());
        assert_eq!(done.committed.len(), 1);
    }
}
