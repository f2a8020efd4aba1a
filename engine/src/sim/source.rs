//! Source subtasks: where records are born.
//!
//! A source subtask owns a share of its source's data — every p-th row of an inline or CSV
//! source, or `count / p` generated records — and paces it: with a `rate`, record `k` of a
//! subtask is due at `k / (rate / p)` seconds of processing time and is *born* then, so a
//! source that falls behind (backpressure, too little CPU) shows it as latency; without a rate
//! it produces as fast as its CPU and its output allow, and records are born when produced.
//!
//! Generated records take their event time from their birth minus a delay drawn from the
//! scenario's delay distribution, which is what makes them arrive out of order.

use super::buffer::RecMeta;
use crate::core::rng::SimRng;
use crate::core::time::{EventTime, Pace, SimDuration, SimTime};
use crate::core::value::{Interner, Sym, Value};
use crate::flink::watermark::Generator;
use crate::ops::batch::Batch;
use crate::scenario::{Delay, GenField, Lit, Skew, Timestamps};
use std::sync::Arc;

/// How one generated field draws its values (strings interned up front).
#[derive(Debug, Clone)]
pub enum FieldGen {
    /// Key index drawn uniformly or by a Zipf CDF; mapped to ints or interned strings.
    Key {
        /// Number of keys.
        count: u64,
        /// Cumulative probabilities (Zipf), or `None` for uniform.
        cdf: Option<Arc<Vec<f64>>>,
        /// Interned key strings, or `None` for integer keys.
        names: Option<Arc<Vec<Sym>>>,
    },
    /// Uniform integer `lo + [0, span)`; `span == 0` means the full 64-bit range.
    Int(i64, u64),
    /// Uniform float in `[lo, hi)`.
    Float(f64, f64),
    /// Global sequence number.
    Sequence,
    /// One of these values.
    OneOf(Arc<Vec<Value>>),
    /// Always this value.
    Constant(Value),
}

/// Where a source subtask's records come from.
#[derive(Debug, Clone)]
pub enum SourceData {
    /// Random records.
    Generated {
        /// Field generators.
        fields: Vec<FieldGen>,
        /// Event-time delay.
        delay: Delay,
        /// One random stream per field, then one for the delay. Each stream gives its field
        /// one draw sequence in record order, so record k is the same however the records
        /// are batched: the generated data is a log with offsets, which a restore replays
        /// exactly from a checkpointed offset.
        rngs: Box<[SimRng]>,
    },
    /// Fixed rows: this subtask's share.
    Rows {
        /// All rows of the source, interned.
        rows: Arc<Vec<Vec<Value>>>,
        /// Indices of this subtask's rows, in arrival order.
        mine: Vec<u32>,
        /// Where the event time comes from.
        timestamps: Timestamps,
    },
}

/// One split of a source subtask at one moment: how many records it had read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SplitOffset {
    /// The split (source partition).
    pub split: u32,
    /// Records read from it (the offset of the next one).
    pub offset: u64,
    /// Its pace, if paced (record `k` is born at `k × interval`).
    pub pace: Option<Pace>,
}

/// The state of one source subtask.
#[derive(Debug, Clone)]
pub struct SourceState {
    /// The data.
    pub data: SourceData,
    /// Records produced so far.
    pub emitted: u64,
    /// Records this subtask produces in all (`None`: until `until`).
    pub total: Option<u64>,
    /// Processing time after which it produces nothing more.
    pub until: Option<SimTime>,
    /// An unbounded source that has run out of data stays open (silent, not finished)
    /// until this processing time — what an idle Kafka partition looks like.
    pub open_until: Option<SimTime>,
    /// The pace of this subtask's records, if rate-limited.
    pub pace: Option<Pace>,
    /// Subtask index and parallelism (for sequences).
    pub subtask: u32,
    /// Parallelism of the source.
    pub parallelism: u32,
    /// The record being built.
    pub row: Vec<Value>,
    /// The watermark generator.
    pub watermarks: Generator,
    /// Paused by watermark alignment: too far ahead of its group.
    pub paused: bool,
    /// Stopped by a stop-with-savepoint: it injected the savepoint's barrier and produces
    /// nothing more, not even watermarks (Flink's `stop` without `--drain`).
    pub stopped: bool,
    /// Further splits (partitions of the replayable log) this reader owns after a rescale
    /// moved several onto it: their own data, offsets and pacing; the fields above are the
    /// first split's, and the watermark generator is shared. Read interleaved by due time.
    pub more: Vec<SourceState>,
    /// The record of this split that `explain --record` follows, if any (see [`Followed`]).
    pub followed: Option<Box<Followed>>,
}

/// The birth every emission of a followed record carries instead of its own: no record is
/// born this late, so the record and what it becomes (a mapped row, a rolling result, a
/// window result it was counted in, whose birth is the latest of its elements) can be told
/// from every other record on every channel and in every sink. A birth only feeds latency
/// (which saturates at zero) and lineage, so nothing else in the run changes; `explain`
/// reports the true births it keeps in [`Followed::reads`].
pub const FOLLOWED_BIRTH: SimTime = SimTime::from_nanos(u64::MAX - 1);

/// A record followed through the run for `explain --record`: found by its offset in the
/// split (its position in the replayable log), so it is the same record however the source
/// is paced or batched, and again when a restore replays it.
#[derive(Debug, Clone, Default)]
pub struct Followed {
    /// Its offset in the split.
    pub offset: u64,
    /// Each time it was read: its birth and when the source emitted it (more than once when
    /// a restore replayed it — a paced source replays it with its first birth). Taken out
    /// by the observer as they come.
    pub reads: Vec<(SimTime, SimTime)>,
}

impl SourceState {
    /// When the next record of any split is due (`SimTime::ZERO` for unpaced: always).
    #[inline]
    pub fn next_due(&self) -> SimTime {
        if self.more.is_empty() {
            return self.own_next_due();
        }
        self.splits()
            .filter(|s| !s.own_data_done(s.own_next_due()))
            .map(SourceState::own_next_due)
            .min()
            .unwrap_or(SimTime::ZERO)
    }

    /// Whether it reads from a pace (every split does if the first does).
    #[inline]
    pub fn paced(&self) -> bool {
        self.pace.is_some()
    }

    /// Follows record `offset` of split `split` if this reader owns that split (see
    /// [`Followed`]). Called whenever tasks were (re)built, between work items: reads a
    /// split restored from a checkpoint brings back were taken out before, so they go.
    pub fn follow(&mut self, split: u32, offset: u64) {
        if self.subtask == split {
            match self.followed.as_deref_mut() {
                Some(f) => f.reads.clear(),
                None => {
                    self.followed = Some(Box::new(Followed {
                        offset,
                        reads: Vec::new(),
                    }))
                }
            }
        }
        for sp in &mut self.more {
            sp.follow(split, offset);
        }
    }

    /// Moves the reads of the followed record seen since the last call into `to`, in order.
    pub fn take_reads(&mut self, to: &mut Vec<(SimTime, SimTime)>) {
        if let Some(f) = self.followed.as_deref_mut() {
            to.append(&mut f.reads);
        }
        for sp in &mut self.more {
            sp.take_reads(to);
        }
    }

    /// This split and the further ones.
    pub fn splits(&self) -> impl Iterator<Item = &SourceState> {
        std::iter::once(self).chain(self.more.iter())
    }

    /// Where this reader stands in each split it owns, in reader order: the offset a
    /// checkpoint stores for it and a restore rewinds it to.
    pub fn offsets(&self) -> Vec<SplitOffset> {
        self.splits()
            .map(|s| SplitOffset {
                split: s.subtask,
                offset: s.emitted,
                pace: s.pace,
            })
            .collect()
    }

    /// Every split in reader order (the first, then the further ones), taken out of this
    /// reader: what a savepoint's list state holds for it.
    pub fn into_splits(mut self) -> Vec<SourceState> {
        let more = std::mem::take(&mut self.more);
        let mut all = vec![self];
        all.extend(more);
        all
    }

    /// When this split's next record is due.
    #[inline]
    fn own_next_due(&self) -> SimTime {
        match self.pace {
            Some(p) => p.nth(self.emitted),
            None => SimTime::ZERO,
        }
    }

    /// Whether every record of every split has been produced (at local time `t`).
    #[inline]
    pub fn data_done(&self, t: SimTime) -> bool {
        self.own_data_done(t) && self.more.iter().all(|s| s.own_data_done(t))
    }

    /// Whether every record of this split has been produced.
    #[inline]
    fn own_data_done(&self, t: SimTime) -> bool {
        if self.total.is_some_and(|n| self.emitted >= n) {
            return true;
        }
        let next_birth = if self.pace.is_some() {
            self.own_next_due()
        } else {
            t
        };
        self.until.is_some_and(|u| next_birth >= u)
    }

    /// Whether the source has ended at local time `t`: every record produced and no longer
    /// held open.
    #[inline]
    pub fn exhausted(&self, t: SimTime) -> bool {
        self.splits()
            .all(|s| s.own_data_done(t) && s.open_until.is_none_or(|u| t >= u))
    }

    /// When a source with nothing to do now must look again: its next due record, or the
    /// end of its open period once its data is used up.
    pub fn next_wake(&self, now: SimTime) -> Option<SimTime> {
        if !self.more.is_empty() {
            return self.splits().filter_map(|s| s.own_next_wake(now)).min();
        }
        self.own_next_wake(now)
    }

    fn own_next_wake(&self, now: SimTime) -> Option<SimTime> {
        if self.own_data_done(now) {
            self.open_until
        } else if self.pace.is_some() {
            Some(self.own_next_due())
        } else {
            None
        }
        .filter(|d| *d > now)
    }

    /// Appends up to `max` records to `out` that are due at `now` (all of them for unpaced
    /// sources, born at `now`); generation runs field by field over the whole batch.
    pub fn fill(&mut self, now: SimTime, max: usize, out: &mut Batch) {
        if self.more.is_empty() {
            return self.own_fill(now, max, out);
        }
        // Several splits: the one due first goes first (unpaced: the one read least), until
        // `max` records or nothing is due — a reader polling all its partitions.
        loop {
            let room = max.saturating_sub(out.len());
            if room == 0 {
                break;
            }
            let pick = self
                .splits()
                .enumerate()
                .filter(|(_, s)| !s.own_data_done(now) && s.own_next_due() <= now)
                .min_by_key(|(_, s)| (s.own_next_due(), s.emitted))
                .map(|(i, _)| i);
            let Some(i) = pick else { break };
            let before = out.len();
            // Paced splits give what is due; unpaced ones a fair share per round.
            let take = if self.paced() {
                room
            } else {
                room.div_ceil(self.more.len() + 1)
            };
            if i == 0 {
                self.own_fill(now, take, out);
            } else {
                self.more[i - 1].own_fill(now, take, out);
            }
            if out.len() == before {
                break;
            }
        }
    }

    /// Emits this split's records that are due at `now`, at most `max`: for a paced source
    /// record `k` is born at `k × interval`, an unpaced one emits what `max` allows, all born
    /// now. The records go to `out` with their event time and birth.
    fn own_fill(&mut self, now: SimTime, max: usize, out: &mut Batch) {
        let first = self.emitted;
        let n = self.due(now, max);
        if n == 0 {
            return;
        }
        let n = n as usize;
        let a = out.arity;
        let base = out.len();
        out.values.resize((base + n) * a, Value::Int(0));
        let pace = self.pace;
        let born = |i: usize| match pace {
            Some(p) => p.nth(first + i as u64),
            None => now,
        };
        let rows_out = &mut out.values[base * a..];
        match &mut self.data {
            SourceData::Generated {
                fields,
                delay,
                rngs,
            } => {
                let (field_rngs, delay_rng) = rngs.split_at_mut(fields.len());
                let at = Offsets {
                    first,
                    subtask: self.subtask,
                    parallelism: self.parallelism,
                };
                draw_columns(fields, field_rngs, rows_out, a, &at);
                match (pace, *delay) {
                    (None, Delay::None) => {
                        let m = RecMeta {
                            ts: now.as_event_time(),
                            born: now,
                        };
                        out.meta.resize(base + n, m);
                    }
                    _ => {
                        for i in 0..n {
                            let b = born(i);
                            let d = draw_delay(*delay, &mut delay_rng[0]);
                            out.meta.push(RecMeta {
                                ts: b.as_event_time().minus_millis(d.as_millis() as i64),
                                born: b,
                            });
                        }
                    }
                }
            }
            SourceData::Rows {
                rows,
                mine,
                timestamps,
            } => {
                for (i, dst) in rows_out.chunks_exact_mut(a).enumerate() {
                    let k = first + i as u64;
                    let row = &rows[mine[(k % mine.len() as u64) as usize] as usize];
                    dst.copy_from_slice(row);
                    let b = born(i);
                    let ts = match timestamps {
                        // the timestamp assigner: a record field becomes its event time
                        Timestamps::Field(f) => EventTime::from_millis(row[*f].as_int()),
                        Timestamps::Ingestion => b.as_event_time(),
                        Timestamps::None | Timestamps::Generated => EventTime::MIN,
                    };
                    out.meta.push(RecMeta { ts, born: b });
                }
            }
        }
        out.parent.extend(base as u32..(base + n) as u32);
        if let Some(f) = self.followed.as_deref_mut()
            && (first..first + n as u64).contains(&f.offset)
        {
            let m = &mut out.meta[base + (f.offset - first) as usize];
            f.reads.push((m.born, now));
            m.born = FOLLOWED_BIRTH;
        }
        self.emitted += n as u64;
    }

    /// How many of this split's records are due at `now`, at most `max` and what is left:
    /// a paced split's records born up to `now` (and before `until`); an unpaced split's
    /// `max`, or none once `until` has passed.
    fn due(&self, now: SimTime, max: usize) -> u64 {
        let first = self.emitted;
        let left = match self.total {
            Some(t) => t.saturating_sub(first).min(max as u64),
            None => max as u64,
        };
        match self.pace {
            // Unpaced: every record is born now.
            None if self.until.is_some_and(|u| now >= u) => 0,
            None => left,
            Some(p) => {
                let mut n = 0u64;
                while n < left {
                    let birth = p.nth(first + n);
                    if birth > now || self.until.is_some_and(|u| birth >= u) {
                        break;
                    }
                    n += 1;
                }
                n
            }
        }
    }
}

/// Where a batch of generated records sits in the source's log: the offset of its first
/// record, and the subtask (of `parallelism`) that reads it — what sequence generators
/// depend on.
struct Offsets {
    first: u64,
    subtask: u32,
    parallelism: u32,
}

/// Fills the generated fields of a batch column by column (`a` fields a row), each field from
/// its own random stream so that record `k` draws the same values however records are batched.
/// Small uniform spans draw 32-bit values in bulk.
fn draw_columns(
    fields: &[FieldGen],
    rngs: &mut [SimRng],
    rows_out: &mut [Value],
    a: usize,
    at: &Offsets,
) {
    for ((f, g), rng) in fields.iter().enumerate().zip(rngs) {
        let col = rows_out.chunks_exact_mut(a).map(|r| &mut r[f]);
        match g {
            FieldGen::Key {
                count,
                cdf: None,
                names: None,
            } if small_span(*count) => {
                draw_column_u32(rng, rows_out, a, f, 0, *count as u32);
            }
            FieldGen::Int(lo, span) if small_span(*span) => {
                draw_column_u32(rng, rows_out, a, f, *lo, *span as u32);
            }
            FieldGen::Key {
                count,
                cdf: None,
                names: None,
            } => {
                for v in col {
                    *v = Value::Int(draw_below(rng, *count) as i64);
                }
            }
            FieldGen::Int(lo, span) => {
                for v in col {
                    *v = Value::Int(lo.wrapping_add(draw_below(rng, *span) as i64));
                }
            }
            g => {
                for (i, v) in col.enumerate() {
                    *v = draw(g, rng, at.first + i as u64, at.subtask, at.parallelism);
                }
            }
        }
    }
}

#[inline]
fn draw(g: &FieldGen, rng: &mut SimRng, k: u64, subtask: u32, p: u32) -> Value {
    match g {
        FieldGen::Key { count, cdf, names } => {
            let idx = match cdf {
                None => draw_below(rng, *count),
                Some(cdf) => {
                    let u = rng.unit_f64();
                    cdf.partition_point(|&c| c <= u).min(cdf.len() - 1) as u64
                }
            };
            match names {
                Some(n) => Value::Str(n[idx as usize]),
                None => Value::Int(idx as i64),
            }
        }
        FieldGen::Int(lo, span) => Value::Int(lo.wrapping_add(draw_below(rng, *span) as i64)),
        FieldGen::Float(lo, hi) => Value::Float(lo + (hi - lo) * rng.unit_f64()),
        FieldGen::Sequence => Value::Int((k * u64::from(p) + u64::from(subtask)) as i64),
        FieldGen::OneOf(vals) => vals[rng.below(vals.len() as u64) as usize],
        FieldGen::Constant(v) => *v,
    }
}

/// Whether [`draw_below`] draws from `0..span` with 32 random bits.
#[inline(always)]
fn small_span(span: u64) -> bool {
    span != 0 && span <= u64::from(u32::MAX)
}

/// Field `f` of every row of `rows` (rows of `a` fields): `lo + draw_below(rng, span)` for a
/// [`small_span`], with the random words drawn a block at a time — the same numbers, in the
/// same order, as drawing them one by one.
#[inline(never)]
fn draw_column_u32(rng: &mut SimRng, rows: &mut [Value], a: usize, f: usize, lo: i64, span: u32) {
    const CHUNK: usize = 64;
    let mut words = [0u32; CHUNK];
    for block in rows.chunks_mut(CHUNK * a) {
        let words = &mut words[..block.len() / a];
        rng.fill_u32(words);
        for (row, &w) in block.chunks_exact_mut(a).zip(&*words) {
            let x = (u64::from(w) * u64::from(span)) >> 32;
            row[f] = Value::Int(lo.wrapping_add(x as i64));
        }
    }
}

/// Uniform in `0..span` (`span == 0`: any 64-bit value), with 32 random bits when they suffice.
#[inline(always)]
fn draw_below(rng: &mut SimRng, span: u64) -> u64 {
    if span == 0 {
        rng.next_u64()
    } else if span <= u64::from(u32::MAX) {
        u64::from(rng.below_u32(span as u32))
    } else {
        rng.below(span)
    }
}

#[inline]
fn draw_delay(d: Delay, rng: &mut SimRng) -> SimDuration {
    match d {
        Delay::None => SimDuration::ZERO,
        Delay::Fixed(v) => v,
        Delay::Uniform(lo, hi) => rng.duration_between(lo, hi),
        Delay::Exponential(mean) => rng.exponential(mean),
    }
}

/// Turns a scenario field generator into a runtime one, interning its strings.
pub fn field_gen(g: &GenField, interner: &mut Interner) -> FieldGen {
    match g {
        GenField::Key {
            count,
            skew,
            prefix,
        } => {
            let cdf = match skew {
                Skew::Uniform => None,
                Skew::Zipf(s) => Some(Arc::new(zipf_cdf(*count, *s))),
            };
            let names = prefix.as_ref().map(|p| {
                Arc::new(
                    (0..*count)
                        .map(|i| interner.intern(&format!("{p}{i}")))
                        .collect(),
                )
            });
            FieldGen::Key {
                count: *count,
                cdf,
                names,
            }
        }
        GenField::IntRange(a, b) => FieldGen::Int(*a, (*b as i128 - *a as i128 + 1) as u64),
        GenField::FloatRange(a, b) => FieldGen::Float(*a, *b),
        GenField::Sequence => FieldGen::Sequence,
        GenField::OneOf(v) => {
            FieldGen::OneOf(Arc::new(v.iter().map(|l| lit_value(l, interner)).collect()))
        }
        GenField::Constant(l) => FieldGen::Constant(lit_value(l, interner)),
    }
}

/// A literal as a runtime value.
pub fn lit_value(l: &Lit, interner: &mut Interner) -> Value {
    match l {
        Lit::Int(i) => Value::Int(*i),
        Lit::Float(f) => Value::Float(*f),
        Lit::Str(s) => Value::Str(interner.intern(s)),
        Lit::Bool(b) => Value::Bool(*b),
    }
}

/// Cumulative Zipf probabilities: key k (0-based) has weight 1 / (k+1)^s.
pub fn zipf_cdf(n: u64, s: f64) -> Vec<f64> {
    let mut acc = 0.0;
    let mut cdf: Vec<f64> = (1..=n)
        .map(|k| {
            acc += 1.0 / (k as f64).powf(s);
            acc
        })
        .collect();
    let total = acc;
    for c in &mut cdf {
        *c /= total;
    }
    cdf
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rng::SeedTree;

    fn gen_state(fields: Vec<FieldGen>, total: u64, pace: Option<Pace>) -> SourceState {
        let n = fields.len();
        SourceState {
            data: SourceData::Generated {
                fields,
                delay: Delay::None,
                rngs: (0..=n)
                    .map(|f| SeedTree::new(1).stream(&format!("t/{f}")))
                    .collect(),
            },
            emitted: 0,
            total: Some(total),
            until: None,
            pace,
            subtask: 1,
            parallelism: 4,
            row: vec![Value::Int(0); n],
            watermarks: Generator::new(crate::flink::watermark::Strategy {
                bound_ms: None,
                emission: crate::flink::watermark::Emission::PerEvent(None),
                idleness: None,
            }),
            paused: false,
            stopped: false,
            more: Vec::new(),
            followed: None,
            open_until: None,
        }
    }

    #[test]
    fn generated_records_do_not_depend_on_batching() {
        let f = || {
            vec![
                FieldGen::Int(0, 100),
                FieldGen::Float(0.0, 1.0),
                FieldGen::Key {
                    count: 7,
                    cdf: None,
                    names: None,
                },
            ]
        };
        let mut a = gen_state(f(), 12, None);
        let mut b = gen_state(f(), 12, None);
        let (mut x, mut y) = (Batch::new(3), Batch::new(3));
        a.fill(SimTime::ZERO, 12, &mut x);
        for n in [1, 5, 2, 4] {
            b.fill(SimTime::ZERO, n, &mut y);
        }
        assert_eq!(
            x.values, y.values,
            "a replay in other batch sizes gives the same log"
        );
    }

    #[test]
    fn paced_records_are_born_when_due() {
        let mut s = gen_state(vec![FieldGen::Sequence], 3, Some(Pace::per_sec(1000.0)));
        let mut b = Batch::new(1);
        s.fill(SimTime::from_nanos(1_500_000), 10, &mut b);
        assert_eq!(b.len(), 2, "records due at 0 and 1 ms, not 2 ms");
        assert_eq!(
            (b.meta[0].born, b.meta[1].born),
            (SimTime::from_nanos(0), SimTime::from_nanos(1_000_000))
        );
        assert_eq!(
            b.values[1],
            Value::Int(5),
            "sequence interleaves subtasks: 1, 5, 9, …"
        );
        assert!(!s.exhausted(SimTime::from_nanos(0)));
        s.fill(SimTime::from_nanos(9_000_000), 10, &mut b);
        assert!(s.exhausted(SimTime::from_nanos(0)));
        assert_eq!(b.len(), 3);
    }

    #[test]
    fn zipf_favours_the_first_keys() {
        let cdf = zipf_cdf(100, 1.0);
        assert!((cdf[99] - 1.0).abs() < 1e-12);
        let mut s = gen_state(
            vec![FieldGen::Key {
                count: 100,
                cdf: Some(Arc::new(cdf)),
                names: None,
            }],
            10_000,
            None,
        );
        let mut hits = [0u32; 100];
        let mut b = Batch::new(1);
        for _ in 0..20 {
            s.fill(SimTime::from_nanos(0), 512, &mut b);
        }
        for v in &b.values {
            hits[v.as_int() as usize] += 1;
        }
        assert!(
            hits[0] > 10 * hits[50],
            "key 0: {}, key 50: {}",
            hits[0],
            hits[50]
        );
    }

    #[test]
    fn uniform_ints_stay_in_range() {
        let mut s = gen_state(vec![FieldGen::Int(-3, 3)], 1000, None);
        let mut b = Batch::new(1);
        s.fill(SimTime::from_nanos(0), 1000, &mut b);
        assert_eq!(b.len(), 1000);
        assert!(b.values.iter().all(|v| (-3..=3).contains(&v.as_int())));
    }

    #[test]
    fn a_source_held_open_ends_only_when_its_open_period_is_over() {
        let mut s = gen_state(vec![FieldGen::Sequence], 2, None);
        s.open_until = Some(SimTime::from_nanos(5_000_000_000));
        let mut b = Batch::new(1);
        s.fill(SimTime::from_nanos(0), 10, &mut b);
        assert_eq!(b.len(), 2);
        assert!(s.data_done(SimTime::from_nanos(0)));
        assert!(
            !s.exhausted(SimTime::from_nanos(1_000)),
            "silent but still open"
        );
        assert_eq!(
            s.next_wake(SimTime::from_nanos(1_000)),
            Some(SimTime::from_nanos(5_000_000_000))
        );
        assert!(s.exhausted(SimTime::from_nanos(5_000_000_000)));
        assert_eq!(s.next_wake(SimTime::from_nanos(5_000_000_000)), None);
    }
}
