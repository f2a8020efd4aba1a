//! Sinks: where records leave the job and latency is measured.
//!
//! Latency is the processing time from a record's creation at its source to its arrival at
//! the sink (the same definition in every execution mode). Every sink keeps a latency
//! histogram, a count and an order-independent checksum of what it received (so runs can be
//! compared without storing their output). A `collect` sink also keeps its first records; an
//! `upsert` sink maintains a table with the latest row per key.

use crate::core::time::SimTime;
use crate::core::value::{Interner, Value};
use crate::expr::Expr;
use crate::expr::eval::EvalCx;
use crate::sim::buffer::RecMeta;
use hdrhistogram::Histogram;
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
    pub txn: Option<Box<super::sink_txn::Transactions>>,
    /// Content hash → times seen, of everything made visible; kept when the run is compared
    /// with a fault-free reference run (duplicates and missing records).
    pub ledger: Option<Box<super::sink_txn::Ledger>>,
}

/// A count per bucket of processing time that stays small: when it would exceed
/// [`Series::MAX_BUCKETS`] buckets, neighbouring buckets merge and the width doubles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    /// Bucket width in nanoseconds.
    pub bucket_ns: u64,
    /// Counts.
    pub counts: Vec<u64>,
    /// The last bucket counted into covers `[.., until)`; times before it need no division.
    until: u64,
}

impl Series {
    /// Most buckets kept.
    pub const MAX_BUCKETS: usize = 2000;
    /// Width of the first buckets: 10 ms.
    pub const BASE_NS: u64 = 10_000_000;

    /// An empty series.
    pub fn new() -> Self {
        Series {
            bucket_ns: Self::BASE_NS,
            counts: Vec::new(),
            until: 0,
        }
    }

    /// Counts one event at `t`. Events come in time order per task, so the common case is
    /// the current last bucket.
    #[inline]
    pub fn add(&mut self, t: SimTime) {
        if t.0 < self.until
            && t.0 + self.bucket_ns >= self.until
            && let Some(last) = self.counts.last_mut()
        {
            *last += 1;
            return;
        }
        let mut b = (t.0 / self.bucket_ns) as usize;
        while b >= Self::MAX_BUCKETS {
            self.coarsen();
            b = (t.0 / self.bucket_ns) as usize;
        }
        if b >= self.counts.len() {
            self.counts.resize(b + 1, 0);
        }
        self.counts[b] += 1;
        if b + 1 == self.counts.len() {
            self.until = (b as u64 + 1) * self.bucket_ns;
        }
    }

    /// The last bucket as `[lo, hi)` and its count (an empty range if there is none).
    #[inline]
    pub fn last_bucket(&self) -> (u64, u64, u64) {
        match self.counts.last() {
            Some(&c) => (self.until - self.bucket_ns, self.until, c),
            None => (1, 0, 0),
        }
    }

    /// Sets the count of the last bucket (if any).
    #[inline]
    pub fn set_last(&mut self, n: u64) {
        if let Some(last) = self.counts.last_mut() {
            *last = n;
        }
    }

    fn coarsen(&mut self) {
        self.counts = self.counts.chunks(2).map(|c| c.iter().sum()).collect();
        self.bucket_ns *= 2;
        self.until = self.counts.len() as u64 * self.bucket_ns;
    }

    /// Adds another series into this one (at the coarser of the two widths).
    pub fn merge(&mut self, other: &Series) {
        let mut o = other.clone();
        while o.bucket_ns < self.bucket_ns {
            o.coarsen();
        }
        while self.bucket_ns < o.bucket_ns {
            self.coarsen();
        }
        if o.counts.len() > self.counts.len() {
            self.counts.resize(o.counts.len(), 0);
        }
        for (a, b) in self.counts.iter_mut().zip(&o.counts) {
            *a += b;
        }
    }
}

impl Default for Series {
    fn default() -> Self {
        Self::new()
    }
}

/// Latency counts in log-linear buckets, 2048 steps per power of two — at least as fine as
/// a 3-significant-digit HdrHistogram, so converting them into one ([`LatencyCounts::histogram`])
/// gives exactly the histogram that recording every value would have given. Counting is a
/// shift and an increment, which keeps the per-record cost of a sink small.
#[derive(Debug, Clone, Default)]
pub struct LatencyCounts {
    counts: Vec<u64>,
}

impl LatencyCounts {
    #[inline(always)]
    fn index(v: u64) -> usize {
        let shift = (64 - v.leading_zeros()).saturating_sub(11);
        if shift == 0 {
            v as usize
        } else {
            2048 + (shift as usize - 1) * 1024 + ((v >> shift) as usize - 1024)
        }
    }

    fn lowest(idx: usize) -> u64 {
        if idx < 2048 {
            idx as u64
        } else {
            let shift = (idx - 2048) / 1024 + 1;
            (((idx - 2048) % 1024 + 1024) as u64) << shift
        }
    }

    /// Counts one latency in nanoseconds.
    #[inline(always)]
    pub fn record(&mut self, v: u64) {
        let i = Self::index(v.min(MAX_LATENCY_NS));
        if i >= self.counts.len() {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] += 1;
    }

    /// Adds these counts into an HdrHistogram.
    pub fn add_to(&self, h: &mut Histogram<u64>) {
        for (i, &c) in self.counts.iter().enumerate() {
            if c > 0 {
                h.saturating_record_n(Self::lowest(i).max(1), c);
            }
        }
    }

    /// The counts as an HdrHistogram.
    pub fn histogram(&self) -> Histogram<u64> {
        let mut h = latency_histogram();
        self.add_to(&mut h);
        h
    }
}

/// Highest latency the histograms resolve (24 h in ns); above it values saturate.
const MAX_LATENCY_NS: u64 = 86_400_000_000_000;

/// An empty latency histogram (3 significant digits).
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid histogram bounds")
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
        }
    }

    /// Receives records arriving at `start[i] + cost`.
    #[inline(never)]
    pub fn consume_batch(
        &mut self,
        view: super::batch::View<'_>,
        start: &[u64],
        cost: u64,
        ev: &mut EvalCx<'_>,
    ) {
        let n = view.len().min(start.len());
        if n == 0 {
            return;
        }
        if let Some(txn) = &mut self.txn {
            txn.stage(view, n, self.arity, ev.interner);
            return;
        }
        if let Some(l) = &mut self.ledger {
            l.add_rows_at(view.values, self.arity, n, ev.interner, |i| {
                SimTime(start[i] + cost)
            });
        }
        self.count += n as u64;
        self.first.get_or_insert(SimTime(start[0] + cost));
        self.last = SimTime(start[n - 1] + cost);
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
    fn count_arrivals(&mut self, meta: &[RecMeta], start: &[u64], cost: u64) {
        // Arrival times are non-decreasing within a batch: count a run in the series' last
        // bucket locally and add it once.
        let (mut lo, mut hi, mut run) = self.series.last_bucket();
        for (m, s) in meta.iter().zip(start) {
            let t = s + cost;
            if t >= lo && t < hi {
                run += 1;
            } else {
                self.series.set_last(run);
                self.series.add(SimTime(t));
                (lo, hi, run) = self.series.last_bucket();
            }
            self.latency.record(t.saturating_sub(m.born.0).max(1));
        }
        self.series.set_last(run);
    }

    /// Receives a record at local time `t`.
    #[inline]
    pub fn consume(&mut self, row: &[Value], meta: RecMeta, t: SimTime, ev: &mut EvalCx<'_>) {
        if let Some(txn) = &mut self.txn {
            txn.stage_one(row, meta.born, ev.interner);
            return;
        }
        if let Some(l) = &mut self.ledger {
            l.add_rows_at(row, self.arity, 1, ev.interner, |_| t);
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

/// A content hash of a row (strings by their text, so it does not depend on interning order).
#[inline]
pub fn row_hash(row: &[Value], interner: &Interner) -> u64 {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
    for v in row {
        h = (h.rotate_left(5) ^ value_word(*v, interner)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    h ^ (h >> 29)
}

/// The word a value contributes to [`row_hash`]. Integers, the common case, get a branch of
/// their own (the rest is out of line, or the compiler makes a jump table of it again).
#[inline(always)]
fn value_word(v: Value, interner: &Interner) -> u64 {
    match v {
        Value::Int(i) => i as u64,
        _ => other_value_word(v, interner),
    }
}

#[inline(never)]
fn other_value_word(v: Value, interner: &Interner) -> u64 {
    match v {
        Value::Int(i) => i as u64,
        Value::Float(f) => f.to_bits() ^ 0x5555,
        Value::Str(s) => interner.content_hash(s),
        Value::Bool(b) => u64::from(b) ^ 0xb001,
    }
}

/// The wrapping sum of [`row_hash`] over rows of `A` fields (`A` known at compile time, so
/// the per-row loop unrolls).
#[inline]
fn checksum_rows<const A: usize>(values: &[Value], interner: &Interner) -> u64 {
    let (rows, _) = values.as_chunks::<A>();
    rows.iter()
        .fold(0u64, |sum, row| sum.wrapping_add(row_hash(row, interner)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_coarsen_instead_of_growing() {
        let mut s = Series::new();
        s.add(SimTime(5_000_000));
        s.add(SimTime(25_000_000));
        assert_eq!(s.counts, vec![1, 0, 1]);
        s.add(SimTime(Series::BASE_NS * Series::MAX_BUCKETS as u64));
        assert_eq!(s.bucket_ns, 2 * Series::BASE_NS);
        assert_eq!(s.counts.iter().sum::<u64>(), 3);
        assert!(s.counts.len() <= Series::MAX_BUCKETS);
        let mut a = Series::new();
        a.add(SimTime(1));
        a.merge(&s);
        assert_eq!(a.bucket_ns, s.bucket_ns);
        // at 20 ms buckets: 1 ms (a) and 5 ms fall into bucket 0, 25 ms into bucket 1
        assert_eq!(a.counts[..2], [2, 1]);
    }
    use crate::core::value::{Schema, Type};
    use crate::expr::{Scope, compile};

    #[test]
    fn latency_counts_give_the_same_histogram_as_recording_each_value() {
        let mut values: Vec<u64> = (0..20_000u64)
            .map(|i| 1_000_000 + i * 37 + (i % 7) * 1000)
            .collect();
        values.extend([
            1,
            2,
            3,
            3,
            2047,
            2048,
            2049,
            4095,
            4096,
            4097,
            123_456_789,
            86_400_000_000_001,
        ]);
        values.extend((0..40).map(|k| (1u64 << k) + 7));
        let mut direct = latency_histogram();
        let mut counts = LatencyCounts::default();
        for &v in &values {
            direct.saturating_record(v);
            counts.record(v);
        }
        let batched = counts.histogram();
        assert_eq!(direct.len(), batched.len());
        for q in [0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(
                direct.value_at_quantile(q),
                batched.value_at_quantile(q),
                "q={q}"
            );
        }
        assert_eq!(direct.max(), batched.max());
        assert_eq!(direct.min(), batched.min());
        assert_eq!(direct.mean(), batched.mean());
        for i in [0usize, 1, 2047, 2048, 3071, 3072, 10_000] {
            assert_eq!(LatencyCounts::index(LatencyCounts::lowest(i)), i);
        }
    }

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
                RecMeta::untimed(SimTime(0)),
                SimTime(1000 * (n as u64 + 1)),
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
}
