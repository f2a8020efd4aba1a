//! Event time: the timestamps records carry and watermarks measure, in integer milliseconds
//! like Flink's `long` timestamps (`StreamRecord.getTimestamp`, `Watermark.getTimestamp`).
//!
//! [`EventTime`] is a point on the event-time axis. It keeps its milliseconds private so that
//! it cannot be mixed silently with processing time ([`super::time::SimTime`], nanoseconds)
//! or with a record's field values; the one conversion from processing time is
//! [`super::time::SimTime::as_event_time`], the one from a record field is the timestamp
//! assigner. Flink stores processing-time timers as `long` milliseconds too, so the timer
//! queues and processing-time windows hold their instants as `EventTime` after that explicit
//! conversion.
//!
//! **Spans stay `i64` milliseconds.** Window size, slide, offset, session gap, allowed
//! lateness, out-of-orderness bound and evictor sizes are Flink `long` millisecond
//! configuration values that are only ever *added to* a point, never compared with one. A
//! separate `EventDuration` type would wrap every configuration field and every formula in
//! conversions without preventing a mistake the point type does not already catch (adding two
//! points, comparing a point with a span, mixing milliseconds with nanoseconds). Every method
//! that takes a span says so in its name (`…_millis`).
//!
//! Overflow rules, per method (the range is Flink's `Long.MIN_VALUE ..= Long.MAX_VALUE`):
//!
//! * [`EventTime::plus_millis`] / [`EventTime::minus_millis`] **saturate**: [`EventTime::MAX`]
//!   is the final watermark ("end of event time") and [`EventTime::MIN`] the watermark before
//!   any element, so running past either end stays there. Flink's `cleanupTime` does the
//!   same with an explicit overflow check.
//! * [`EventTime::wrapping_plus_millis`] and [`EventTime::trunc_to_multiple`] reproduce
//!   Java's `long` arithmetic exactly, for the formulas whose Flink original wraps
//!   (continuous triggers' fire times).
//! * [`EventTime::checked_plus_millis`] returns `None` on overflow.
//! * [`EventTime::millis_since`] gives a span, saturating at the `i64` range.
//! * [`EventTime::align_down`] is Flink's `getWindowStartWithOffset`; see there.
//!
//! Serialization is the bare integer of milliseconds (`#[serde(transparent)]`), and `Display`
//! and `Debug` print that integer (honouring width and alignment), so reports and traces read
//! as they did when event time was a plain `i64`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A point in event time: milliseconds since the epoch (may be negative), as in Flink.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
#[repr(transparent)]
pub struct EventTime(i64);

impl EventTime {
    /// Event time before any element: Flink's `Long.MIN_VALUE` watermark.
    pub const MIN: EventTime = EventTime(i64::MIN);
    /// The end of event time: the final watermark a bounded source emits (`Long.MAX_VALUE`),
    /// and the maximum timestamp of the global window.
    pub const MAX: EventTime = EventTime(i64::MAX);
    /// The epoch.
    pub const ZERO: EventTime = EventTime(0);

    /// The timestamp `ms` milliseconds after the epoch.
    #[inline]
    pub const fn from_millis(ms: i64) -> EventTime {
        EventTime(ms)
    }
    /// Milliseconds since the epoch (Flink's `long` timestamp).
    #[inline]
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// This point plus a span of `ms` milliseconds (negative moves back); saturates at
    /// [`EventTime::MIN`] / [`EventTime::MAX`].
    #[inline]
    pub const fn plus_millis(self, ms: i64) -> EventTime {
        EventTime(self.0.saturating_add(ms))
    }
    /// This point minus a span of `ms` milliseconds; saturates at either end.
    #[inline]
    pub const fn minus_millis(self, ms: i64) -> EventTime {
        EventTime(self.0.saturating_sub(ms))
    }
    /// This point plus `ms`, or `None` if that leaves the range.
    #[inline]
    pub const fn checked_plus_millis(self, ms: i64) -> Option<EventTime> {
        match self.0.checked_add(ms) {
            Some(t) => Some(EventTime(t)),
            None => None,
        }
    }
    /// This point plus `ms` with Java's wrapping `long` addition, for Flink formulas that
    /// wrap (a continuous trigger's next fire time).
    #[inline]
    pub const fn wrapping_plus_millis(self, ms: i64) -> EventTime {
        EventTime(self.0.wrapping_add(ms))
    }
    /// The span from `earlier` to `self` in milliseconds (negative if `earlier` is later);
    /// saturates at the `i64` range.
    #[inline]
    pub const fn millis_since(self, earlier: EventTime) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// Java's `t − t % interval`: rounds toward zero onto the grid of multiples of
    /// `interval` (so negative timestamps round *up*), as Flink's continuous triggers align
    /// their first fire time. Never overflows; `interval` must not be zero.
    #[inline]
    pub const fn trunc_to_multiple(self, interval: i64) -> EventTime {
        EventTime(self.0 - self.0 % interval)
    }

    /// Flink's `TimeWindow.getWindowStartWithOffset(ts, offset, size)`:
    /// `ts − ((ts − offset) mod size)` with a non-negative modulo, the start of the window of
    /// the grid `offset + k·size` that holds `self`. `ts − offset` wraps like Java's `long`
    /// (it only can when `|offset|` is beyond the timestamp range); the start saturates at
    /// [`EventTime::MIN`]. `size` must be positive.
    #[inline]
    pub const fn align_down(self, offset: i64, size: i64) -> EventTime {
        EventTime(
            self.0
                .saturating_sub(self.0.wrapping_sub(offset).rem_euclid(size)),
        )
    }
}

impl fmt::Display for EventTime {
    /// The integer milliseconds, formatted like an `i64` (width, fill and alignment apply).
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for EventTime {
    /// The integer milliseconds, as `Debug` of an `i64` printed them.
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// Shorthand for [`EventTime::from_millis`] in the crate's tests.
#[cfg(test)]
pub(crate) const fn ms(v: i64) -> EventTime {
    EventTime::from_millis(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::ms as t;

    #[test]
    fn millis_round_trip_and_bounds_are_flinks_long_range() {
        assert_eq!(t(-42).as_millis(), -42);
        assert_eq!(EventTime::MIN.as_millis(), i64::MIN);
        assert_eq!(EventTime::MAX.as_millis(), i64::MAX);
        assert_eq!(EventTime::default(), EventTime::ZERO);
        assert!(EventTime::MIN < t(0) && t(0) < EventTime::MAX);
    }

    #[test]
    fn plus_and_minus_saturate_at_the_ends_of_event_time() {
        assert_eq!(t(10).plus_millis(5), t(15));
        assert_eq!(t(10).plus_millis(-15), t(-5));
        assert_eq!(t(10).minus_millis(15), t(-5));
        assert_eq!(EventTime::MAX.plus_millis(1), EventTime::MAX);
        assert_eq!(EventTime::MIN.minus_millis(1), EventTime::MIN);
        assert_eq!(EventTime::MIN.plus_millis(-1), EventTime::MIN);
        assert_eq!(EventTime::MAX.minus_millis(-1), EventTime::MAX);
    }

    #[test]
    fn checked_and_wrapping_addition_report_or_wrap_overflow() {
        assert_eq!(t(1).checked_plus_millis(2), Some(t(3)));
        assert_eq!(EventTime::MAX.checked_plus_millis(1), None);
        assert_eq!(EventTime::MIN.checked_plus_millis(-1), None);
        assert_eq!(t(1).wrapping_plus_millis(2), t(3));
        assert_eq!(EventTime::MAX.wrapping_plus_millis(1), EventTime::MIN);
    }

    #[test]
    fn spans_between_points_saturate() {
        assert_eq!(t(10).millis_since(t(3)), 7);
        assert_eq!(t(3).millis_since(t(10)), -7);
        assert_eq!(EventTime::MAX.millis_since(EventTime::MIN), i64::MAX);
        assert_eq!(EventTime::MIN.millis_since(EventTime::MAX), i64::MIN);
    }

    #[test]
    fn truncation_rounds_toward_zero_like_java() {
        assert_eq!(t(2500).trunc_to_multiple(1000), t(2000));
        assert_eq!(t(-2500).trunc_to_multiple(1000), t(-2000));
        assert_eq!(t(3000).trunc_to_multiple(1000), t(3000));
        assert_eq!(EventTime::MIN.trunc_to_multiple(1000), t(i64::MIN + 808));
    }

    #[test]
    fn align_down_is_flinks_window_start_with_offset() {
        assert_eq!(t(4999).align_down(0, 5000), t(0));
        assert_eq!(t(5000).align_down(0, 5000), t(5000));
        assert_eq!(t(-1).align_down(0, 5000), t(-5000));
        assert_eq!(t(0).align_down(1000, 3000), t(-2000));
        assert_eq!(t(-2001).align_down(1000, 3000), t(-5000));
        // Near the bottom of the range the start saturates instead of wrapping.
        assert_eq!(EventTime::MIN.align_down(0, 5000), EventTime::MIN);
        assert_eq!(EventTime::MAX.align_down(0, 1), EventTime::MAX);
    }

    #[test]
    fn display_debug_and_json_are_the_bare_integer() {
        assert_eq!(t(-7).to_string(), "-7");
        assert_eq!(format!("{:?}", t(12)), "12");
        assert_eq!(format!("{:>5}|{:<4}|", t(3), t(-1)), "    3|-1  |");
        assert_eq!(format!("{:?}", Some(t(5))), "Some(5)");
        assert_eq!(
            serde_json::to_string(&[t(5), EventTime::MIN]).unwrap(),
            "[5,-9223372036854775808]"
        );
        let back: EventTime = serde_json::from_str("-42").unwrap();
        assert_eq!(back, t(-42));
    }
}
