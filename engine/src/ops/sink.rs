//! Sinks: where records leave the job and latency is measured.
//!
//! Latency is the processing time from a record's creation at its source to its arrival at
//! the sink (the same definition in every execution mode). Every sink keeps a latency
//! histogram, a count and an order-independent checksum of what it received (so runs can be
//! compared without storing their output). A `collect` sink also keeps its first records; an
//! `upsert` sink maintains a table with the latest row per key.
//!
//! An exactly-once sink writes into transactions ([`super::sink_txn`]) and makes their
//! records visible when their checkpoint completes ([`SinkOp::commit_until`]). What a sink
//! made visible left the job: a snapshot leaves it out and a restore carries it over from the
//! live sink ([`SinkOp::carry_visible`]). The measures themselves are in
//! [`super::sink_metrics`].

use super::element::RecMeta;
use super::sink_lineage::LineageTap;
use super::sink_metrics::checksum_rows;
pub use super::sink_metrics::{LatencyCounts, Series, latency_histogram, row_hash};
use super::sink_txn::{Ledger, TimedOut, Transactions, Txn};
use super::state::{OperatorState, checkpoint_entries_bytes};
use crate::core::time::{SimDuration, SimTime};
use crate::core::value::Value;
use crate::expr::Expr;
use crate::expr::eval::EvalCx;
use rustc_hash::FxHashMap;

/// What the sink keeps.
#[derive(Debug, Clone)]
pub enum SinkMode {
    /// The first `limit` records.
    Collect {
        /// How many to keep.
        limit: usize,
    },
    /// Latest row per key.
    Upsert {
        /// The key expression.
        key: Expr,
        /// Key → slot in `rows`.
        index: FxHashMap<Value, u32>,
    },
    /// Nothing.
    Discard,
}

/// One sink subtask.
#[derive(Debug, Clone)]
pub struct SinkOp {
    /// What it keeps.
    pub mode: SinkMode,
    /// Record arity.
    pub arity: usize,
    /// Kept rows (collect: in arrival order; upsert: one per key, flat).
    pub rows: Vec<Value>,
    /// Records received.
    pub count: u64,
    /// Latency from creation to arrival, in nanoseconds.
    pub latency: LatencyCounts,
    /// Sum of the records' content hashes (wrapping): equal multisets give equal checksums.
    pub checksum: u64,
    /// Arrival time of the first record.
    pub first: Option<SimTime>,
    /// Arrival time of the last record.
    pub last: SimTime,
    /// Records per bucket of processing time.
    pub series: Series,
    /// Two-phase commit (exactly-once sinks): records wait in transactions until their
    /// checkpoint completes. `None`: at-least-once, visible on arrival.
    pub txn: Option<Box<Transactions>>,
    /// Content hash → times seen, of everything made visible; kept when the run is compared
    /// with a fault-free reference run (duplicates and missing records).
    pub ledger: Option<Box<Ledger>>,
    /// Every row made visible, for `explain --sink` (see [`super::sink_lineage`]).
    pub lineage: Option<LineageTap>,
}

impl SinkOp {
    /// A sink with nothing received.
    pub fn new(mode: SinkMode, arity: usize) -> Self {
        SinkOp {
            mode,
            arity,
            rows: Vec::new(),
            count: 0,
            latency: LatencyCounts::default(),
            checksum: 0,
            first: None,
            last: SimTime::ZERO,
            series: Series::new(),
            txn: None,
            ledger: None,
            lineage: None,
        }
    }

    /// Receives records arriving at `start[i] + cost`.
    #[inline(never)]
    pub fn consume_batch(
        &mut self,
        view: super::batch::View<'_>,
        start: &[SimTime],
        cost: SimDuration,
        ev: &mut EvalCx<'_>,
    ) {
        let n = view.len().min(start.len());
        if n == 0 {
            return;
        }
        if let Some(txn) = &mut self.txn {
            txn.stage(view, n, ev.interner, start[0] + cost, self.ledger.is_some());
            return;
        }
        if let Some(l) = &mut self.ledger {
            l.add_rows_at(view.values, self.arity, n, ev.interner, |i| start[i] + cost);
        }
        if let Some(tap) = &self.lineage {
            for (i, (m, s)) in view.meta.iter().zip(start).take(n).enumerate() {
                let at = *s + cost;
                tap.push(view.row(i), ev.interner, at, m.born, Some(m.ts));
            }
        }
        self.count += n as u64;
        self.first.get_or_insert(start[0] + cost);
        self.last = start[n - 1] + cost;
        self.count_arrivals(&view.meta[..n], &start[..n], cost);
        let values = &view.values[..n * self.arity];
        let sum = match self.arity {
            1 => checksum_rows::<1>(values, ev.interner),
            2 => checksum_rows::<2>(values, ev.interner),
            3 => checksum_rows::<3>(values, ev.interner),
            4 => checksum_rows::<4>(values, ev.interner),
            a => values
                .chunks_exact(a.max(1))
                .fold(0u64, |h, row| h.wrapping_add(row_hash(row, ev.interner))),
        };
        self.checksum = self.checksum.wrapping_add(sum);
        match &mut self.mode {
            SinkMode::Collect { limit } => {
                let want =
                    (*limit * self.arity).saturating_sub(self.rows.len()) / self.arity.max(1);
                for x in 0..n.min(want) {
                    self.rows.extend_from_slice(view.row(x));
                }
            }
            SinkMode::Upsert { key, index } => match key.as_field() {
                // The common `key = "field"`: read the field, no expression per record.
                Some(f) => {
                    for row in view.values[..n * self.arity].chunks_exact(self.arity) {
                        upsert(&mut self.rows, index, row[f], self.arity, row);
                    }
                }
                None => {
                    for x in 0..n {
                        let row = view.row(x);
                        let k = key.eval(row, &[], ev);
                        upsert(&mut self.rows, index, k, self.arity, row);
                    }
                }
            },
            SinkMode::Discard => {}
        }
    }

    /// Counts records arriving at `start[i] + cost` into the throughput series and the
    /// latency counts.
    #[inline]
    fn count_arrivals(&mut self, meta: &[RecMeta], start: &[SimTime], cost: SimDuration) {
        // Arrival times are non-decreasing within a batch: count a run in the series' last
        // bucket locally and add it once.
        let (mut lo, mut hi, mut run) = self.series.last_bucket();
        for (m, s) in meta.iter().zip(start) {
            let t = *s + cost;
            if t >= lo && t < hi {
                run += 1;
            } else {
                self.series.set_last(run);
                self.series.add(t);
                (lo, hi, run) = self.series.last_bucket();
            }
            self.latency.record(t.since(m.born).as_nanos().max(1));
        }
        self.series.set_last(run);
    }

    /// Receives a record at local time `t`.
    #[inline]
    pub fn consume(&mut self, row: &[Value], meta: RecMeta, t: SimTime, ev: &mut EvalCx<'_>) {
        if let Some(txn) = &mut self.txn {
            txn.stage_one(row, meta.born, ev.interner, t, self.ledger.is_some());
            return;
        }
        if let Some(l) = &mut self.ledger {
            l.add_rows_at(row, self.arity, 1, ev.interner, |_| t);
        }
        if let Some(tap) = &self.lineage {
            tap.push(row, ev.interner, t, meta.born, Some(meta.ts));
        }
        self.count += 1;
        self.first.get_or_insert(t);
        self.last = t;
        self.series.add(t);
        self.latency.record(t.since(meta.born).as_nanos().max(1));
        self.checksum = self.checksum.wrapping_add(row_hash(row, ev.interner));
        match &mut self.mode {
            SinkMode::Collect { limit } => {
                if self.rows.len() < *limit * self.arity {
                    self.rows.extend_from_slice(row);
                }
            }
            SinkMode::Upsert { key, index } => {
                let k = key.eval(row, &[], ev);
                upsert(&mut self.rows, index, k, self.arity, row)
            }
            SinkMode::Discard => {}
        }
    }
}

/// What a sink's commit did: the transactions committed, as (checkpoint, records made
/// visible), oldest first, and those the broker had aborted by their timeout.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Commits {
    /// (checkpoint, records made visible).
    pub committed: Vec<(u64, u64)>,
    /// Found aborted: their records are lost.
    pub timed_out: Vec<TimedOut>,
}

impl Commits {
    /// Adds `other`'s.
    pub fn extend(&mut self, other: Commits) {
        self.committed.extend(other.committed);
        self.timed_out.extend(other.timed_out);
    }
}

impl SinkOp {
    /// Checkpoint `id` completed (notified at `t`): commit every pre-committed transaction up
    /// to it. Returns what it committed and what it found aborted by a transaction timeout.
    pub fn commit_until(&mut self, id: u64, t: SimTime) -> Commits {
        let Some(txn) = self.txn.as_mut() else {
            return Commits::default();
        };
        let settled = txn.commit_until(id, t);
        let mut shown = Commits {
            committed: Vec::new(),
            timed_out: settled.timed_out,
        };
        for (cid, mut tx) in settled.committed {
            shown.committed.push((cid, tx.len));
            self.make_visible(&tx, t);
            if let Some(tap) = &self.lineage {
                let rows = std::mem::take(&mut tx.lineage);
                for (born, row) in tx.each_birth().zip(rows) {
                    tap.push_json(row, t, born, None, Some(cid));
                }
            }
        }
        shown
    }

    /// Whether every transaction has been committed (nothing open, nothing pre-committed).
    pub fn all_committed(&self) -> bool {
        self.txn.as_ref().is_none_or(|t| t.pending() == 0)
    }

    /// Makes the records of committed transaction `tx` visible at `t`: counted, checksummed,
    /// their latency measured to `t` (one count per run of equal births), and, with a ledger,
    /// each record's hash counted.
    fn make_visible(&mut self, tx: &Txn, t: SimTime) {
        tx.check_summary();
        let n = tx.len;
        if n == 0 {
            return;
        }
        self.count += n;
        self.first.get_or_insert(t);
        self.last = t;
        self.series.add_n(t, n);
        for &(born, c) in &tx.births {
            self.latency.record_n(t.since(born).as_nanos().max(1), c);
        }
        self.checksum = self.checksum.wrapping_add(tx.checksum);
        if let Some(l) = &mut self.ledger {
            debug_assert_eq!(
                tx.staged.len() as u64,
                n,
                "a ledger needs every record's hash"
            );
            for r in &tx.staged {
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
    /// now, at `t` (Flink's `recoverAndCommit`). Returns what that commit did.
    pub fn carry_visible(&mut self, live: SinkOp, restored_id: Option<u64>, t: SimTime) -> Commits {
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
            mine.carry_outcome(*theirs);
        }
        match restored_id {
            Some(id) => self.commit_until(id, t),
            None => Commits::default(),
        }
    }
}

/// What a sink made visible: it left the job, so it belongs to the outside world and not to
/// the sink's state. A snapshot leaves it out (a restore takes it from the live sink,
/// [`SinkOp::carry_visible`]), so a sink capturing many rows does not copy them into every
/// checkpoint.
#[derive(Debug, Default)]
struct Visible {
    rows: Vec<Value>,
    index: Option<FxHashMap<Value, u32>>,
    latency: LatencyCounts,
    series: Series,
    ledger: Option<Box<Ledger>>,
    committed: (Vec<u64>, Vec<TimedOut>),
}

impl SinkOp {
    /// Takes out what the sink made visible (see [`Visible`]); `put_visible` puts it back.
    fn take_visible(&mut self) -> Visible {
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
                .map(|t| t.take_committed())
                .unwrap_or_default(),
        }
    }

    /// Puts back what `take_visible` took.
    fn put_visible(&mut self, v: Visible) {
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
            t.put_committed(v.committed);
        }
    }
}

impl SinkOp {
    /// Keeps every row it makes visible in `tap` (and, exactly-once, every row it writes into
    /// a transaction until the transaction commits).
    pub fn keep_lineage(&mut self, tap: LineageTap) {
        if let Some(t) = self.txn.as_mut() {
            t.lineage = true;
        }
        self.lineage = Some(tap);
    }

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

/// Not keyed: its state is the transactions not yet committed (what a checkpoint holds) and,
/// in memory, what it keeps of what it made visible.
impl OperatorState for SinkOp {
    /// Two fields a pending record: its hash and its birth.
    fn checkpointed_bytes(&self) -> u64 {
        self.txn
            .as_ref()
            .map_or(0, |t| checkpoint_entries_bytes(t.pending(), 2))
    }

    /// Captured rows, the upsert table, the ledger and the pending transactions.
    fn heap_bytes(&self) -> u64 {
        let entries = |n: usize, each: usize| (n * each) as u64;
        let rows = (self.rows.capacity() * size_of::<Value>()) as u64;
        let index = match &self.mode {
            SinkMode::Upsert { index, .. } => entries(index.len(), 32),
            _ => 0,
        };
        let ledger = self
            .ledger
            .as_ref()
            .map_or(0, |l| entries(l.counts.len(), 24));
        let txn = self.txn.as_ref().map_or(0, |t| t.heap_bytes());
        rows + index + ledger + txn
    }

    /// A copy without what the sink made visible: that is not state (a restore takes it from
    /// the live sink), and copying a large `capture` into every checkpoint would make a run
    /// quadratic in its checkpoints.
    fn snapshot_state(&mut self) -> Self {
        let visible = self.take_visible();
        let copy = self.clone();
        self.put_visible(visible);
        copy
    }
}

/// Replaces (or adds) the row of key `k` in the table.
#[inline]
fn upsert(
    rows: &mut Vec<Value>,
    index: &mut FxHashMap<Value, u32>,
    k: Value,
    a: usize,
    row: &[Value],
) {
    match index.get(&k) {
        Some(&s) => rows[s as usize * a..(s as usize + 1) * a].copy_from_slice(row),
        None => {
            index.insert(k, (rows.len() / a) as u32);
            rows.extend_from_slice(row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::value::{Interner, Schema, Type};
    use crate::expr::{Scope, compile};

    #[test]
    fn upsert_keeps_the_latest_row_per_key_and_checksums_ignore_order() {
        let s = Schema::new([("k", Type::String), ("n", Type::Int)]);
        let mut i = Interner::new();
        let key = compile("k", &Scope::Record(&s), &mut i).unwrap();
        let mut sink = SinkOp::new(
            SinkMode::Upsert {
                key,
                index: FxHashMap::default(),
            },
            2,
        );
        let (a, b) = (Value::Str(i.intern("a")), Value::Str(i.intern("b")));
        let rows = [[a, Value::Int(1)], [b, Value::Int(1)], [a, Value::Int(2)]];
        let (mut scratch, mut err) = (String::new(), None);
        let mut ev = EvalCx {
            interner: &mut i,
            scratch: &mut scratch,
            error: &mut err,
        };
        for (n, r) in rows.iter().enumerate() {
            sink.consume(
                r,
                RecMeta::untimed(SimTime::from_nanos(0)),
                SimTime::from_nanos(1000 * (n as u64 + 1)),
                &mut ev,
            );
        }
        assert_eq!(sink.rows, vec![a, Value::Int(2), b, Value::Int(1)]);
        assert_eq!(sink.count, 3);
        let h = sink.latency.histogram();
        assert!(h.equivalent(h.max(), 3000), "max latency {}", h.max());
        let fwd: u64 = rows
            .iter()
            .fold(0u64, |h, r| h.wrapping_add(row_hash(r, &i)));
        let rev: u64 = rows
            .iter()
            .rev()
            .fold(0u64, |h, r| h.wrapping_add(row_hash(r, &i)));
        assert_eq!(fwd, rev);
        assert_eq!(sink.checksum, fwd);
    }

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
        let born = SimTime::from_nanos(born_ms * 1_000_000);
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
        assert_eq!(
            s.commit_until(1, SimTime::from_nanos(1_000_000_000))
                .committed,
            [(1, 2)]
        );
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
        assert_eq!(
            restored
                .carry_visible(s, Some(1), SimTime::from_nanos(7))
                .committed,
            [(1, 1)]
        );
        assert_eq!(restored.count, 1);
        assert_eq!(restored.txn.as_ref().unwrap().aborted_records, 1);
        // a second restore from the same checkpoint commits nothing again
        let mut again = snapshot;
        assert_eq!(
            again.carry_visible(restored, Some(1), SimTime::from_nanos(9)),
            Commits::default()
        );
        assert_eq!(again.count, 1);
    }

    /// The oracle of the summary path: an exactly-once sink fed in batches keeps per
    /// transaction only a count, a checksum and run-length births, and must make visible
    /// exactly what a capture of every record computes — count, checksum, latency counts,
    /// throughput series, first rows.
    #[test]
    fn committed_summaries_equal_a_capture_of_every_record() {
        let mut i = Interner::new();
        let mut s = SinkOp::new(SinkMode::Collect { limit: 3 }, 2);
        s.txn = Some(Box::new(Transactions::new(2, 3)));
        let names = [i.intern("a"), i.intern("b")];
        let (mut count, mut checksum) = (0u64, 0u64);
        let (mut latency, mut series) = (LatencyCounts::default(), Series::new());
        let mut first_rows = Vec::new();
        let cost = SimDuration::from_micros(3);
        for cp in 1..=3u64 {
            let mut written = Vec::new();
            for part in 0..4u64 {
                let mut b = super::super::batch::Batch::new(2);
                for k in 0..40u64 {
                    // births in runs (a source batch), interleaved from two sources, one
                    // repeated after a different one
                    let born = SimTime::from_millis(cp * 1000 + part * 10 + (k / 9) % 3 + k % 2);
                    let row = [
                        Value::Str(names[(k % 2) as usize]),
                        Value::Int((cp * k) as i64),
                    ];
                    b.push(&row, RecMeta::untimed(born), k as u32);
                    written.push((row_hash(&row, &i), born));
                    if first_rows.len() < 6 {
                        first_rows.extend_from_slice(&row);
                    }
                }
                let start = vec![SimTime::from_millis(cp * 1000 + 100); b.len()];
                let (mut scratch, mut err) = (String::new(), None);
                let mut ev = EvalCx {
                    interner: &mut i,
                    scratch: &mut scratch,
                    error: &mut err,
                };
                s.consume_batch(b.view(), &start, cost, &mut ev);
            }
            s.txn.as_mut().unwrap().pre_commit(cp);
            let t = SimTime::from_millis(cp * 1000 + 500 + 37 * cp);
            assert_eq!(s.commit_until(cp, t).committed, [(cp, 160)]);
            for (h, born) in written {
                count += 1;
                checksum = checksum.wrapping_add(h);
                latency.record(t.since(born).as_nanos().max(1));
                series.add(t);
            }
        }
        assert_eq!(s.count, count);
        assert_eq!(s.checksum, checksum);
        assert_eq!(s.latency, latency);
        assert_eq!(s.series, series);
        assert_eq!(s.rows, first_rows);
    }
}
