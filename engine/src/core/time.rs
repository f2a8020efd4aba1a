//! The two time axes of a streaming job, kept apart by type.
//!
//! * [`SimTime`] is **processing time**: the simulated wall clock of the cluster, in integer
//!   nanoseconds since the job started. Only the event queue advances it.
//! * [`EventTime`] is **event time**: the timestamp a record carries, in integer milliseconds
//!   like Flink's `long` timestamps. It may be negative. Watermarks live on this axis.
//! * [`SimDuration`] is a span of processing time. Event-time spans are plain `i64`
//!   milliseconds, as in Flink's window sizes (why: see [`super::event_time`]).
//!
//! Nothing converts between the axes implicitly: ingestion time and processing-time windows
//! call [`SimTime::as_event_time`] explicitly.
//!
//! Event time lives in [`super::event_time`] (re-exported here) with its own overflow rules.
//! The processing-time types keep their nanoseconds private. Arithmetic is by named methods
//! that say what happens at the edge of the representable range:
//!
//! * `plus` / `times` **saturate**: the engine reads [`SimTime::MAX`] as "end of time" (a
//!   deadline that never comes, a source that never closes), so running past it stays there.
//! * `since` / `saturating_sub` **saturate at zero**: a span from a later instant is empty.
//! * `checked_add` returns `None` on overflow, for callers where overflow would be a bug.
//! * The operators `+`, `+=` (instant + span, span + span) and `*` (span × count) are plain
//!   integer arithmetic, exactly like `u64`: overflow panics in debug builds and wraps in
//!   release builds. They are for the per-record hot paths (the depth-first times of a chain,
//!   network writes), where the run's time limit keeps values far from the edge and one
//!   `add` instruction, with no branch, is what the loop can afford.
//! * The unit constructors (`from_millis`, `from_secs`, …) **panic** on overflow: they take
//!   constants and already-validated configuration, so an overflow there is a bug
//!   (user-written durations go through `scenario::units::parse_duration`, which reports
//!   "too large" instead).
//!
//! Conversions from floats (a size at a bandwidth, a record every 1/rate seconds) are each
//! written once here and **truncate** toward zero, like Rust's `as u64` (negative and NaN
//! give zero, values past the range saturate).
//!
//! Serialization is the bare integer of nanoseconds (`#[serde(transparent)]`).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Mul};

const NANOS_PER_MICRO: u64 = 1_000;
const NANOS_PER_MILLI: u64 = 1_000_000;
const NANOS_PER_SEC: u64 = 1_000_000_000;

/// `n * scale` for the unit constructors; overflow is a programming error (see module doc).
const fn scaled(n: u64, scale: u64) -> u64 {
    match n.checked_mul(scale) {
        Some(v) => v,
        None => panic!("time value overflows u64 nanoseconds"),
    }
}

/// A point in simulated processing time, in nanoseconds since the job started.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
#[repr(transparent)]
pub struct SimTime(u64);

/// A span of simulated processing time, in nanoseconds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
#[repr(transparent)]
pub struct SimDuration(u64);

pub use super::event_time::EventTime;

impl SimTime {
    /// The start of the run.
    pub const ZERO: SimTime = SimTime(0);
    /// The end of representable time: a deadline that never comes.
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// The instant `n` nanoseconds after the start of the run.
    #[inline]
    pub const fn from_nanos(n: u64) -> SimTime {
        SimTime(n)
    }
    /// The instant `n` milliseconds after the start; panics on overflow (a bug, see module doc).
    #[inline]
    pub const fn from_millis(n: u64) -> SimTime {
        SimTime(scaled(n, NANOS_PER_MILLI))
    }
    /// The instant `n` seconds after the start; panics on overflow (a bug, see module doc).
    #[inline]
    pub const fn from_secs(n: u64) -> SimTime {
        SimTime(scaled(n, NANOS_PER_SEC))
    }
    /// The instant `n` (fractional) nanoseconds after the start, rounded toward zero; negative
    /// and NaN give the start, values past the range [`SimTime::MAX`] (Rust's `as`).
    #[inline]
    pub fn from_nanos_f64(n: f64) -> SimTime {
        SimTime(n as u64)
    }
    /// The instant `ms` (fractional) milliseconds after the start — a time a report shows in
    /// milliseconds, read back — rounded toward zero like [`SimTime::from_nanos_f64`].
    #[inline]
    pub fn from_millis_f64(ms: f64) -> SimTime {
        SimTime::from_nanos_f64(ms * 1e6)
    }
    /// The instant that lies `d` after the start of the run.
    #[inline]
    pub const fn at(d: SimDuration) -> SimTime {
        SimTime(d.0)
    }

    /// Nanoseconds since the start of the run.
    #[inline]
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// The span from the start of the run to this instant.
    #[inline]
    pub const fn since_start(self) -> SimDuration {
        SimDuration(self.0)
    }

    /// This instant plus a duration; saturates at [`SimTime::MAX`], the end of time.
    #[inline]
    pub const fn plus(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
    /// This instant plus a duration, or `None` if that passes the end of representable time.
    #[inline]
    pub const fn checked_add(self, d: SimDuration) -> Option<SimTime> {
        match self.0.checked_add(d.0) {
            Some(n) => Some(SimTime(n)),
            None => None,
        }
    }
    /// This instant minus a duration, saturating at the start of the run.
    #[inline]
    pub const fn saturating_sub(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_sub(d.0))
    }

    /// The span from `earlier` to `self` (zero if `earlier` is later).
    #[inline]
    pub const fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// The last instant at or before `self` on the grid of multiples of `period` (a periodic
    /// timer's previous tick). A zero period is read as 1 ns.
    #[inline]
    pub const fn floor_to(self, period: SimDuration) -> SimTime {
        let p = if period.0 == 0 { 1 } else { period.0 };
        SimTime(self.0 - self.0 % p)
    }
    /// The first instant at or after `self` on the grid of multiples of `period` (a trigger
    /// boundary). `period` must not be zero; integer arithmetic like `+` (see the module doc).
    #[inline]
    pub const fn ceil_to(self, period: SimDuration) -> SimTime {
        SimTime(self.0.div_ceil(period.0) * period.0)
    }
    /// The first instant strictly after `self` on the grid of multiples of `period` (a periodic
    /// timer's next tick, like Flink's auto-watermark and buffer-flush timers). Saturates at
    /// the end of time. `period` must not be zero.
    #[inline]
    pub const fn next_multiple_of(self, period: SimDuration) -> SimTime {
        SimTime((self.0 / period.0 + 1).saturating_mul(period.0))
    }

    /// How many whole `period`s lie between the start of the run and this instant (the index
    /// of the bucket of width `period` it falls in). `period` must not be zero.
    #[inline]
    pub const fn whole_periods(self, period: SimDuration) -> u64 {
        self.0 / period.0
    }

    /// Processing time read as an event-time timestamp (milliseconds, rounded down): what
    /// ingestion time and processing-time windows use.
    #[inline]
    pub const fn as_event_time(self) -> EventTime {
        EventTime::from_millis((self.0 / NANOS_PER_MILLI) as i64)
    }

    /// The processing-time instant of a timestamp on Flink's millisecond clock — a
    /// processing-time timer's due time (`TimerService.registerProcessingTimeTimer` takes
    /// `long` milliseconds): the start of that millisecond, the inverse of
    /// [`SimTime::as_event_time`]. Before the start of the run means the start; beyond the
    /// representable range saturates at [`SimTime::MAX`] (a timer that never comes).
    #[inline]
    pub const fn from_event_time(t: EventTime) -> SimTime {
        let ms = t.as_millis();
        let ms = if ms < 0 { 0 } else { ms as u64 };
        SimTime(ms.saturating_mul(NANOS_PER_MILLI))
    }

    /// Seconds as a float, for reports.
    #[inline]
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// Milliseconds as a float, for reports.
    #[inline]
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);
    /// The longest representable span ("forever").
    pub const MAX: SimDuration = SimDuration(u64::MAX);

    /// From nanoseconds.
    #[inline]
    pub const fn from_nanos(n: u64) -> Self {
        SimDuration(n)
    }
    /// From microseconds; panics on overflow (a bug, see module doc).
    #[inline]
    pub const fn from_micros(n: u64) -> Self {
        SimDuration(scaled(n, NANOS_PER_MICRO))
    }
    /// From milliseconds; panics on overflow (a bug, see module doc).
    #[inline]
    pub const fn from_millis(n: u64) -> Self {
        SimDuration(scaled(n, NANOS_PER_MILLI))
    }
    /// From seconds; panics on overflow (a bug, see module doc).
    #[inline]
    pub const fn from_secs(n: u64) -> Self {
        SimDuration(scaled(n, NANOS_PER_SEC))
    }
    /// From seconds as a float (a size divided by a rate), rounded toward zero. Negative
    /// and NaN give zero, values past the range give [`SimDuration::MAX`] (Rust's `as`
    /// conversion).
    #[inline]
    pub fn from_secs_f64(s: f64) -> Self {
        SimDuration((s * 1e9) as u64)
    }
    /// From nanoseconds as a float, rounded toward zero; saturates like
    /// [`SimDuration::from_secs_f64`].
    #[inline]
    pub fn from_nanos_f64(n: f64) -> Self {
        SimDuration(n as u64)
    }

    /// Nanoseconds.
    #[inline]
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// Whole milliseconds (rounded down), the unit of event time.
    #[inline]
    pub const fn as_millis(self) -> u64 {
        self.0 / NANOS_PER_MILLI
    }
    /// Seconds as a float, for reports.
    #[inline]
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// Milliseconds as a float, for reports.
    #[inline]
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    /// The shortest whole number of `period`s at least as long as this span. `period` must
    /// not be zero; integer arithmetic like `+` (see the module doc).
    #[inline]
    pub const fn ceil_to(self, period: SimDuration) -> SimDuration {
        SimDuration(self.0.div_ceil(period.0) * period.0)
    }
    /// Whether this span is empty.
    #[inline]
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The duration times `n`, saturating at [`SimDuration::MAX`].
    #[inline]
    pub const fn times(self, n: u64) -> SimDuration {
        SimDuration(self.0.saturating_mul(n))
    }
    /// The duration scaled by a float factor (a slowdown), rounded toward zero; saturates
    /// like [`SimDuration::from_secs_f64`].
    #[inline]
    pub fn mul_f64(self, factor: f64) -> SimDuration {
        SimDuration((self.0 as f64 * factor) as u64)
    }
    /// The time to move `bytes` at `bytes_per_sec` (a checkpoint upload, a state copy):
    /// `bytes / bytes_per_sec` seconds, rounded toward zero like
    /// [`SimDuration::from_secs_f64`]. A zero bandwidth gives [`SimDuration::MAX`].
    #[inline]
    pub fn for_bytes(bytes: u64, bytes_per_sec: f64) -> SimDuration {
        SimDuration::from_secs_f64(bytes as f64 / bytes_per_sec)
    }
    /// The time `count` records take at `per_sec` records per second (a rate-limited
    /// source): `count / per_sec` seconds, rounded toward zero like
    /// [`SimDuration::from_secs_f64`].
    #[inline]
    pub fn for_records(count: u64, per_sec: f64) -> SimDuration {
        SimDuration::from_secs_f64(count as f64 / per_sec)
    }
    /// Sum of two spans, saturating at [`SimDuration::MAX`].
    #[inline]
    pub const fn plus(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(other.0))
    }
    /// Sum of two spans, or `None` on overflow.
    #[inline]
    pub const fn checked_add(self, other: SimDuration) -> Option<SimDuration> {
        match self.0.checked_add(other.0) {
            Some(n) => Some(SimDuration(n)),
            None => None,
        }
    }
    /// This span minus another, saturating at zero.
    #[inline]
    pub const fn saturating_sub(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_sub(other.0))
    }
}

/// Plain integer `+` (see the module doc: panics on overflow in debug builds, wraps in
/// release builds; for hot paths whose values the run's time limit bounds).
impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    #[inline(always)]
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0 + d.0)
    }
}

/// Plain integer `+=`, as [`SimTime`]` + `[`SimDuration`].
impl AddAssign<SimDuration> for SimTime {
    #[inline(always)]
    fn add_assign(&mut self, d: SimDuration) {
        self.0 += d.0;
    }
}

/// Plain integer `+` of two spans (see the module doc).
impl Add for SimDuration {
    type Output = SimDuration;
    #[inline(always)]
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0 + d.0)
    }
}

/// Plain integer `+=` of two spans (see the module doc).
impl AddAssign for SimDuration {
    #[inline(always)]
    fn add_assign(&mut self, d: SimDuration) {
        self.0 += d.0;
    }
}

/// Plain integer `*`: `n` back-to-back copies of the span (see the module doc; [`SimDuration::times`]
/// saturates instead).
impl Mul<u64> for SimDuration {
    type Output = SimDuration;
    #[inline(always)]
    fn mul(self, n: u64) -> SimDuration {
        SimDuration(self.0 * n)
    }
}

/// A steady pace of processing time: one record every `1 / rate` seconds, kept as
/// fractional nanoseconds so that record `k` is due at `k × interval`, truncated — the `k`-th
/// record of a rate-limited source (`rate` records per second over its subtasks) is born
/// then, without the drift that adding a rounded interval `k` times would cause.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Pace {
    /// Nanoseconds between two records (fractional).
    interval_nanos: f64,
}

impl Pace {
    /// One record every `1 / per_sec` seconds (`per_sec` > 0).
    #[inline]
    pub fn per_sec(per_sec: f64) -> Pace {
        Pace {
            interval_nanos: 1e9 / per_sec,
        }
    }
    /// When record `k` (counting from 0) is due: `k × interval` after the start, rounded
    /// toward zero.
    #[inline]
    pub fn nth(self, k: u64) -> SimTime {
        SimTime::from_nanos_f64(k as f64 * self.interval_nanos)
    }
    /// The interval in (fractional) nanoseconds.
    #[inline]
    pub fn interval_nanos(self) -> f64 {
        self.interval_nanos
    }
    /// Which record was born at `born`: the `k` with [`Pace::nth`]`(k) == born`, or `None`
    /// when no record of this pace is born then (how `explain` recognises a paced record).
    pub fn position_of(self, born: SimTime) -> Option<u64> {
        let guess = (born.0 as f64 / self.interval_nanos).round() as u64;
        (guess.saturating_sub(1)..=guess + 1).find(|&k| self.nth(k) == born)
    }
}

impl fmt::Display for SimDuration {
    /// Prints the way Flink's configuration writes durations: the largest unit that divides
    /// the value exactly ("200 ms", "10 s", "1.5 us" is printed as "1500 ns").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        let units: [(u64, &str); 6] = [
            (3_600_000_000_000, "h"),
            (60_000_000_000, "min"),
            (NANOS_PER_SEC, "s"),
            (NANOS_PER_MILLI, "ms"),
            (NANOS_PER_MICRO, "us"),
            (1, "ns"),
        ];
        if n == 0 {
            return write!(f, "0 ms");
        }
        for (scale, unit) in units {
            if n.is_multiple_of(scale) {
                return write!(f, "{} {}", n / scale, unit);
            }
        }
        unreachable!("every value is a multiple of 1 ns")
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3} s", self.as_secs_f64())
    }
}

/// Formats a span given in nanoseconds with a readable unit and three significant decimals,
/// for summaries ("12.345 ms", "1.200 s").
pub fn human_nanos(n: f64) -> String {
    if n >= 1e9 {
        format!("{:.3} s", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.3} ms", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.3} us", n / 1e3)
    } else {
        format!("{n:.0} ns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_picks_the_largest_exact_unit() {
        assert_eq!(SimDuration::from_millis(200).to_string(), "200 ms");
        assert_eq!(SimDuration::from_secs(10).to_string(), "10 s");
        assert_eq!(SimDuration::from_secs(60).to_string(), "1 min");
        assert_eq!(SimDuration::from_micros(1500).to_string(), "1500 us");
        assert_eq!(SimDuration::from_nanos(7).to_string(), "7 ns");
        assert_eq!(SimDuration::ZERO.to_string(), "0 ms");
    }

    #[test]
    fn instants_display_in_seconds_with_three_decimals() {
        assert_eq!(SimTime::from_millis(1_500).to_string(), "1.500 s");
        assert_eq!(SimTime::from_nanos(1_999_999).to_string(), "0.002 s");
    }

    #[test]
    fn a_paced_record_is_found_from_its_birth() {
        // Record k at 0.5 records per second is born at k × 2 s.
        let p = Pace::per_sec(0.5);
        assert_eq!(p.position_of(SimTime::ZERO), Some(0));
        assert_eq!(p.position_of(SimTime::from_secs(6)), Some(3));
        // A birth between two records is no record of this pace.
        assert_eq!(p.position_of(SimTime::from_secs(1)), None);
        // A fractional interval: every record is found again from its truncated birth.
        let p = Pace::per_sec(3.0);
        for k in [0, 1, 2, 1_000, 123_456_789] {
            assert_eq!(p.position_of(p.nth(k)), Some(k));
        }
    }

    #[test]
    fn a_millisecond_timestamp_is_the_start_of_that_millisecond_in_processing_time() {
        assert_eq!(
            SimTime::from_event_time(EventTime::from_millis(2)),
            SimTime::from_millis(2)
        );
        assert_eq!(
            SimTime::from_event_time(EventTime::from_millis(2)).as_event_time(),
            EventTime::from_millis(2)
        );
        assert_eq!(
            SimTime::from_event_time(EventTime::from_millis(-5)),
            SimTime::ZERO
        );
        assert_eq!(SimTime::from_event_time(EventTime::MAX), SimTime::MAX);
    }

    #[test]
    fn processing_time_reads_as_event_time_in_whole_milliseconds() {
        let ms = EventTime::from_millis;
        assert_eq!(SimTime::from_nanos(1_999_999).as_event_time(), ms(1));
        assert_eq!(
            SimTime::from_nanos(2_000_000).as_event_time(),
            EventTime::from_millis(2)
        );
        assert_eq!(
            SimTime::MAX.as_event_time(),
            ms((u64::MAX / 1_000_000) as i64)
        );
    }

    #[test]
    fn unit_constructors_agree() {
        assert_eq!(SimTime::from_secs(2), SimTime::from_millis(2_000));
        assert_eq!(SimTime::from_millis(3).as_nanos(), 3_000_000);
        assert_eq!(SimDuration::from_secs(1), SimDuration::from_millis(1_000));
        assert_eq!(SimDuration::from_millis(1), SimDuration::from_micros(1_000));
        assert_eq!(
            SimTime::at(SimDuration::from_millis(4)),
            SimTime::from_millis(4)
        );
        assert_eq!(
            SimTime::from_millis(4).since_start(),
            SimDuration::from_millis(4)
        );
    }

    #[test]
    #[should_panic(expected = "overflows")]
    fn unit_constructors_panic_on_overflow() {
        let _ = SimDuration::from_secs(u64::MAX / 1_000);
    }

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        assert_eq!(SimTime::MAX.plus(SimDuration::from_nanos(5)), SimTime::MAX);
        assert_eq!(
            SimTime::from_nanos(3).since(SimTime::from_nanos(10)),
            SimDuration::ZERO
        );
        assert_eq!(SimDuration::MAX.times(2), SimDuration::MAX);
        assert_eq!(
            SimDuration::MAX.plus(SimDuration::from_nanos(1)),
            SimDuration::MAX
        );
        assert_eq!(
            SimDuration::from_nanos(3).saturating_sub(SimDuration::from_nanos(5)),
            SimDuration::ZERO
        );
        assert_eq!(
            SimTime::from_nanos(3).saturating_sub(SimDuration::from_nanos(5)),
            SimTime::ZERO
        );
    }

    #[test]
    fn checked_arithmetic_reports_overflow() {
        assert_eq!(SimTime::MAX.checked_add(SimDuration::from_nanos(1)), None);
        assert_eq!(
            SimTime::from_nanos(1).checked_add(SimDuration::from_nanos(2)),
            Some(SimTime::from_nanos(3))
        );
        assert_eq!(
            SimDuration::MAX.checked_add(SimDuration::from_nanos(1)),
            None
        );
    }

    #[test]
    fn periodic_grid_steps_strictly_forward() {
        let p = SimDuration::from_millis(200);
        assert_eq!(SimTime::ZERO.next_multiple_of(p), SimTime::from_millis(200));
        assert_eq!(
            SimTime::from_millis(200).next_multiple_of(p),
            SimTime::from_millis(400)
        );
        assert_eq!(
            SimTime::from_millis(399).next_multiple_of(p),
            SimTime::from_millis(400)
        );
        assert_eq!(SimTime::MAX.next_multiple_of(p), SimTime::MAX);
        assert_eq!(
            SimTime::from_millis(399).floor_to(p),
            SimTime::from_millis(200)
        );
        assert_eq!(
            SimTime::from_nanos(7).floor_to(SimDuration::ZERO),
            SimTime::from_nanos(7)
        );
    }

    #[test]
    fn float_conversions_round_toward_zero_and_saturate() {
        assert_eq!(
            SimDuration::from_secs_f64(0.5),
            SimDuration::from_millis(500)
        );
        assert_eq!(SimDuration::from_secs_f64(-1.0), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(f64::NAN), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(1e300), SimDuration::MAX);
        assert_eq!(
            SimDuration::from_millis(10).mul_f64(1.5),
            SimDuration::from_millis(15)
        );
        assert_eq!(SimDuration::from_nanos_f64(2.9), SimDuration::from_nanos(2));
        assert_eq!(SimTime::from_millis(1_500).as_millis_f64(), 1_500.0);
        assert_eq!(SimDuration::from_millis(1_500).as_secs_f64(), 1.5);
    }

    #[test]
    fn ceil_to_rounds_up_to_the_grid_and_keeps_grid_points() {
        let p = SimDuration::from_millis(200);
        assert_eq!(SimTime::ZERO.ceil_to(p), SimTime::ZERO);
        assert_eq!(
            SimTime::from_millis(1).ceil_to(p),
            SimTime::from_millis(200)
        );
        assert_eq!(
            SimTime::from_millis(200).ceil_to(p),
            SimTime::from_millis(200)
        );
        assert_eq!(
            SimDuration::from_millis(201).ceil_to(p),
            SimDuration::from_millis(400)
        );
        assert_eq!(SimDuration::ZERO.ceil_to(p), SimDuration::ZERO);
    }

    #[test]
    fn whole_periods_index_buckets() {
        let p = SimDuration::from_millis(10);
        assert_eq!(SimTime::ZERO.whole_periods(p), 0);
        assert_eq!(SimTime::from_nanos(9_999_999).whole_periods(p), 0);
        assert_eq!(SimTime::from_millis(25).whole_periods(p), 2);
    }

    #[test]
    fn operators_are_plain_integer_arithmetic() {
        let mut t = SimTime::from_nanos(10) + SimDuration::from_nanos(5);
        assert_eq!(t, SimTime::from_nanos(15));
        t += SimDuration::from_nanos(1);
        assert_eq!(t, SimTime::from_nanos(16));
        let mut d = SimDuration::from_nanos(2) + SimDuration::from_nanos(3);
        d += SimDuration::from_nanos(4);
        assert_eq!(d, SimDuration::from_nanos(9));
        assert_eq!(d * 3, SimDuration::from_nanos(27));
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "overflow")]
    fn operators_panic_on_overflow_in_debug_builds() {
        let _ = SimTime::MAX + SimDuration::from_nanos(1);
    }

    #[test]
    fn sizes_at_a_bandwidth_truncate() {
        // 1 MiB at 1 GB/s: 1_048_576 ns exactly; 1000 bytes at 3 B/s: 333.33… s.
        assert_eq!(
            SimDuration::for_bytes(1 << 20, 1e9),
            SimDuration::from_nanos(1_048_576)
        );
        assert_eq!(
            SimDuration::for_bytes(1000, 3.0),
            SimDuration::from_nanos(333_333_333_333)
        );
        assert_eq!(SimDuration::for_bytes(1, 0.0), SimDuration::MAX);
        assert_eq!(SimDuration::for_bytes(0, 1e9), SimDuration::ZERO);
    }

    #[test]
    fn records_at_a_rate_truncate() {
        assert_eq!(
            SimDuration::for_records(3, 1000.0),
            SimDuration::from_millis(3)
        );
        assert_eq!(
            SimDuration::for_records(1, 3.0),
            SimDuration::from_nanos(333_333_333)
        );
    }

    #[test]
    fn a_pace_places_record_k_at_k_intervals_without_drift() {
        let p = Pace::per_sec(3.0);
        assert_eq!(p.nth(0), SimTime::ZERO);
        assert_eq!(p.nth(1), SimTime::from_nanos(333_333_333));
        // Not 3 × the truncated interval (999_999_999): the fraction is kept.
        assert_eq!(p.nth(3), SimTime::from_secs(1));
        assert_eq!(p.interval_nanos(), 1e9 / 3.0);
        assert_eq!(SimTime::from_nanos_f64(-2.0), SimTime::ZERO);
        assert_eq!(SimTime::from_nanos_f64(7.9), SimTime::from_nanos(7));
        assert_eq!(
            SimTime::from_millis_f64(1.5),
            SimTime::from_nanos(1_500_000)
        );
        assert_eq!(SimTime::from_millis_f64(0.0000019), SimTime::from_nanos(1));
    }

    #[test]
    fn serializes_as_bare_nanoseconds() {
        let json =
            serde_json::to_string(&(SimTime::from_nanos(5), SimDuration::from_nanos(7))).unwrap();
        assert_eq!(json, "[5,7]");
        let back: SimTime = serde_json::from_str("42").unwrap();
        assert_eq!(back, SimTime::from_nanos(42));
    }
}
