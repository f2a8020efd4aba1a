//! Sinks: where records leave the job and latency is measured.
//!
//! Latency is the processing time from a record's creation at its source to its arrival at
//! the sink (the same definition in every execution mode). Every sink keeps a latency
//! histogram, a count and an order-independent checksum of what it received (so runs can be
//! compared without storing their output). A `collect` sink also keeps its first records; an
//! `upsert` sink maintains a table with the latest row per key.

use crate::expr::Expr;
use crate::expr::eval::EvalCx;
use crate::rng::fnv1a64;
use crate::sim::buffer::RecMeta;
use crate::time::SimTime;
use crate::value::{Interner, Value};
use hdrhistogram::Histogram;
use rustc_hash::FxHashMap;

/// What the sink keeps.
#[derive(Debug)]
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
#[derive(Debug)]
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
    pub latency: Histogram<u64>,
    /// Sum of the records' content hashes (wrapping): equal multisets give equal checksums.
    pub checksum: u64,
    /// Arrival time of the last record.
    pub last: SimTime,
    /// Records per bucket of processing time.
    pub series: Series,
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
        Series { bucket_ns: Self::BASE_NS, counts: Vec::new(), until: 0 }
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

    fn coarsen(&mut self) {
        self.counts = self.counts.chunks(2).map(|c| c.iter().sum()).collect();
        self.bucket_ns *= 2;
        self.until = 0;
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

/// Highest latency the histograms resolve (24 h in ns); above it values saturate.
const MAX_LATENCY_NS: u64 = 86_400_000_000_000;

/// An empty latency histogram (3 significant digits).
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid histogram bounds")
}

impl SinkOp {
    /// A sink with nothing received.
    pub fn new(mode: SinkMode, arity: usize) -> Self {
        SinkOp { mode, arity, rows: Vec::new(), count: 0, latency: latency_histogram(), checksum: 0, last: SimTime::ZERO, series: Series::new() }
    }

    /// Receives a record at local time `t`.
    #[inline]
    pub fn consume(&mut self, row: &[Value], meta: RecMeta, t: SimTime, ev: &mut EvalCx<'_>) {
        self.count += 1;
        self.last = t;
        self.series.add(t);
        self.latency.saturating_record(t.since(meta.born).as_nanos().max(1));
        self.checksum = self.checksum.wrapping_add(row_hash(row, ev.interner));
        match &mut self.mode {
            SinkMode::Collect { limit } => {
                if self.rows.len() < *limit * self.arity {
                    self.rows.extend_from_slice(row);
                }
            }
            SinkMode::Upsert { key, index } => {
                let k = match key.as_field() {
                    Some(i) => row[i],
                    None => key.eval(row, &[], ev),
                };
                let a = self.arity;
                match index.get(&k) {
                    Some(&s) => self.rows[s as usize * a..(s as usize + 1) * a].copy_from_slice(row),
                    None => {
                        index.insert(k, (self.rows.len() / a) as u32);
                        self.rows.extend_from_slice(row);
                    }
                }
            }
            SinkMode::Discard => {}
        }
    }
}

/// A content hash of a row (strings by their text, so it does not depend on interning order).
pub fn row_hash(row: &[Value], interner: &Interner) -> u64 {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
    for v in row {
        let x = match *v {
            Value::Int(i) => i as u64,
            Value::Float(f) => f.to_bits() ^ 0x5555,
            Value::Str(s) => fnv1a64(interner.resolve(s).as_bytes()),
            Value::Bool(b) => u64::from(b) ^ 0xb001,
        };
        h = (h ^ x).wrapping_mul(0x0100_0000_01b3).rotate_left(29);
    }
    h ^ (h >> 31)
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
        assert_eq!(a.counts[0], 3);
    }
    use crate::expr::{compile, Scope};
    use crate::value::{Schema, Type};

    #[test]
    fn upsert_keeps_the_latest_row_per_key_and_checksums_ignore_order() {
        let s = Schema::new([("k", Type::String), ("n", Type::Int)]);
        let mut i = Interner::new();
        let key = compile("k", &Scope::Record(&s), &mut i).unwrap();
        let mut sink = SinkOp::new(SinkMode::Upsert { key, index: FxHashMap::default() }, 2);
        let (a, b) = (Value::Str(i.intern("a")), Value::Str(i.intern("b")));
        let rows = [[a, Value::Int(1)], [b, Value::Int(1)], [a, Value::Int(2)]];
        let (mut scratch, mut err) = (String::new(), None);
        let mut ev = EvalCx { interner: &mut i, scratch: &mut scratch, error: &mut err };
        for (n, r) in rows.iter().enumerate() {
            sink.consume(r, RecMeta::untimed(SimTime(0)), SimTime(1000 * (n as u64 + 1)), &mut ev);
        }
        assert_eq!(sink.rows, vec![a, Value::Int(2), b, Value::Int(1)]);
        assert_eq!(sink.count, 3);
        assert_eq!(sink.latency.max(), 3000);
        let fwd: u64 = rows.iter().fold(0u64, |h, r| h.wrapping_add(row_hash(r, &i)));
        let rev: u64 = rows.iter().rev().fold(0u64, |h, r| h.wrapping_add(row_hash(r, &i)));
        assert_eq!(fwd, rev);
        assert_eq!(sink.checksum, fwd);
    }
}
