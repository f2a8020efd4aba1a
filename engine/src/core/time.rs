//! The two time axes of a streaming job, kept apart by type.
//!
//! * [`SimTime`] is **processing time**: the simulated wall clock of the cluster, in integer
//!   nanoseconds since the job started. Only the event queue advances it.
//! * [`EventTime`] is **event time**: the timestamp a record carries, in integer milliseconds
//!   like Flink's `long` timestamps. It may be negative. Watermarks live on this axis.
//! * [`SimDuration`] is a span of processing time. Event-time spans are plain `i64`
//!   milliseconds, as in Flink's window sizes.
//!
//! Nothing converts between the axes implicitly: ingestion time and processing-time windows
//! call [`SimTime::as_event_time`] explicitly.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A point in simulated processing time, in nanoseconds since the job started.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct SimTime(pub u64);

/// A span of simulated processing time, in nanoseconds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct SimDuration(pub u64);

/// An event-time timestamp in milliseconds (Flink's `long` timestamp).
pub type EventTime = i64;

/// Event time before any element: Flink's `Long.MIN_VALUE` watermark.
pub const EVENT_TIME_MIN: EventTime = i64::MIN;
/// The final watermark a bounded source emits: Flink's `Long.MAX_VALUE`.
pub const EVENT_TIME_MAX: EventTime = i64::MAX;

impl SimTime {
    /// The start of the run.
    pub const ZERO: SimTime = SimTime(0);

    /// Nanoseconds since the start of the run.
    pub fn as_nanos(self) -> u64 {
        self.0
    }

    /// This instant plus a duration; saturates at the end of representable time.
    pub fn plus(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }

    /// The span from `earlier` to `self` (zero if `earlier` is later).
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// Processing time read as an event-time timestamp (milliseconds, rounded down): what
    /// ingestion time and processing-time windows use.
    pub fn as_event_time(self) -> EventTime {
        (self.0 / 1_000_000) as EventTime
    }

    /// Seconds as a float, for reports.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// From nanoseconds.
    pub const fn from_nanos(n: u64) -> Self {
        SimDuration(n)
    }
    /// From microseconds.
    pub const fn from_micros(n: u64) -> Self {
        SimDuration(n * 1_000)
    }
    /// From milliseconds.
    pub const fn from_millis(n: u64) -> Self {
        SimDuration(n * 1_000_000)
    }
    /// From seconds.
    pub const fn from_secs(n: u64) -> Self {
        SimDuration(n * 1_000_000_000)
    }
    /// Nanoseconds.
    pub fn as_nanos(self) -> u64 {
        self.0
    }
    /// Whole milliseconds (rounded down), the unit of event time.
    pub fn as_millis(self) -> u64 {
        self.0 / 1_000_000
    }
    /// Seconds as a float, for reports.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// Milliseconds as a float, for reports.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    /// This span times `n`, saturating.
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// The duration times `n`.
    pub fn times(self, n: u64) -> SimDuration {
        SimDuration(self.0.saturating_mul(n))
    }
    /// Sum of two spans, saturating.
    pub fn plus(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(other.0))
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
            (1_000_000_000, "s"),
            (1_000_000, "ms"),
            (1_000, "us"),
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
        assert_eq!(SimDuration::ZERO.to_string(), "0 ms");
    }

    #[test]
    fn processing_time_reads_as_event_time_in_whole_milliseconds() {
        assert_eq!(SimTime(1_999_999).as_event_time(), 1);
        assert_eq!(SimTime(2_000_000).as_event_time(), 2);
    }

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        assert_eq!(SimTime(u64::MAX).plus(SimDuration(5)), SimTime(u64::MAX));
        assert_eq!(SimTime(3).since(SimTime(10)), SimDuration::ZERO);
    }
}
