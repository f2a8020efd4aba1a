//! What sinks measure about the records they make visible, and how runs are compared without
//! storing their output: a throughput [`Series`], [`LatencyCounts`] that convert exactly into
//! an HdrHistogram, and a content hash per row ([`row_hash`]) whose wrapping sum is an
//! order-independent checksum.

use crate::core::time::{SimDuration, SimTime};
use crate::core::value::{Interner, Value};
use hdrhistogram::Histogram;

/// A count per bucket of processing time that stays small: when it would exceed
/// [`Series::MAX_BUCKETS`] buckets, neighbouring buckets merge and the width doubles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    /// Bucket width.
    pub bucket: SimDuration,
    /// Counts.
    pub counts: Vec<u64>,
    /// The last bucket counted into covers `[.., until)`; times before it need no division.
    until: SimTime,
}

impl Series {
    /// Most buckets kept.
    pub const MAX_BUCKETS: usize = 2000;
    /// Width of the first buckets: 10 ms.
    pub const BASE: SimDuration = SimDuration::from_millis(10);

    /// An empty series.
    pub fn new() -> Self {
        Series {
            bucket: Self::BASE,
            counts: Vec::new(),
            until: SimTime::ZERO,
        }
    }

    /// Counts one event at `t`. Events come in time order per task, so the common case is
    /// the current last bucket.
    #[inline]
    pub fn add(&mut self, t: SimTime) {
        self.add_n(t, 1);
    }

    /// Counts `n` events at `t` (the same as `n` calls of [`Series::add`]).
    #[inline]
    pub fn add_n(&mut self, t: SimTime, n: u64) {
        if t < self.until
            && t + self.bucket >= self.until
            && let Some(last) = self.counts.last_mut()
        {
            *last += n;
            return;
        }
        let mut b = t.whole_periods(self.bucket) as usize;
        while b >= Self::MAX_BUCKETS {
            self.coarsen();
            b = t.whole_periods(self.bucket) as usize;
        }
        if b >= self.counts.len() {
            self.counts.resize(b + 1, 0);
        }
        self.counts[b] += n;
        if b + 1 == self.counts.len() {
            self.until = SimTime::at(self.bucket * (b as u64 + 1));
        }
    }

    /// The last bucket as `[lo, hi)` and its count (an empty range if there is none).
    #[inline]
    pub fn last_bucket(&self) -> (SimTime, SimTime, u64) {
        match self.counts.last() {
            // (`until` is a whole number of buckets, at least one.)
            Some(&c) => (self.until.saturating_sub(self.bucket), self.until, c),
            None => (SimTime::from_nanos(1), SimTime::ZERO, 0),
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
        self.bucket = self.bucket * 2;
        self.until = SimTime::at(self.bucket * self.counts.len() as u64);
    }

    /// Adds another series into this one (at the coarser of the two widths).
    pub fn merge(&mut self, other: &Series) {
        let mut o = other.clone();
        while o.bucket < self.bucket {
            o.coarsen();
        }
        while self.bucket < o.bucket {
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
///
/// The counts are kept in rows of [`LatencyCounts::ROW`] buckets (a power of two of latencies
/// each, above 2 µs), a row allocated only when a latency falls into it: a sink's latencies
/// span a few powers of two, so a sink subtask holds a few rows, not every bucket up to its
/// largest latency (a job of 256 sink subtasks would otherwise hold tens of megabytes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LatencyCounts {
    rows: Vec<Option<Box<[u64; LatencyCounts::ROW]>>>,
}

impl LatencyCounts {
    /// Buckets per row: one power of two of latencies (above the first 2048 buckets, which
    /// are two rows).
    const ROW: usize = 1024;

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
        self.record_n(v, 1);
    }

    /// Counts `n` latencies of `v` nanoseconds (the same as `n` calls of
    /// [`LatencyCounts::record`]).
    #[inline(always)]
    pub fn record_n(&mut self, v: u64, n: u64) {
        let i = Self::index(v.min(MAX_LATENCY_NS));
        let (r, c) = (i / Self::ROW, i % Self::ROW);
        if r >= self.rows.len() {
            self.rows.resize(r + 1, None);
        }
        self.rows[r].get_or_insert_with(|| Box::new([0; Self::ROW]))[c] += n;
    }

    /// Adds these counts into an HdrHistogram.
    pub fn add_to(&self, h: &mut Histogram<u64>) {
        for (r, row) in self.rows.iter().enumerate() {
            for (c, &n) in row.iter().flat_map(|row| row.iter()).enumerate() {
                if n > 0 {
                    h.saturating_record_n(Self::lowest(r * Self::ROW + c).max(1), n);
                }
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
pub fn checksum_rows<const A: usize>(values: &[Value], interner: &Interner) -> u64 {
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
        s.add(SimTime::from_nanos(5_000_000));
        s.add(SimTime::from_nanos(25_000_000));
        assert_eq!(s.counts, vec![1, 0, 1]);
        s.add(SimTime::at(Series::BASE * Series::MAX_BUCKETS as u64));
        assert_eq!(s.bucket, Series::BASE * 2);
        assert_eq!(s.counts.iter().sum::<u64>(), 3);
        assert!(s.counts.len() <= Series::MAX_BUCKETS);
        let mut a = Series::new();
        a.add(SimTime::from_nanos(1));
        a.merge(&s);
        assert_eq!(a.bucket, s.bucket);
        // at 20 ms buckets: 1 ms (a) and 5 ms fall into bucket 0, 25 ms into bucket 1
        assert_eq!(a.counts[..2], [2, 1]);
    }

    #[test]
    fn latency_counts_allocate_only_the_rows_their_latencies_fall_in() {
        let mut counts = LatencyCounts::default();
        for v in [1_000_000, 1_040_000, 3_000_000, 13_000_000] {
            counts.record(v);
        }
        let held = counts.rows.iter().filter(|r| r.is_some()).count();
        // 1 ms and 1.04 ms share a power of two (2^19..2^20 ns); 3 ms and 13 ms have one each.
        assert_eq!(held, 3, "{} rows", counts.rows.len());
        assert_eq!(counts.histogram().len(), 4);
    }

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
}
