//! Triggers and evictors: when a window fires, and what it fires with.

use crate::core::time::EventTime;

/// When a window's contents are emitted (Flink's `Trigger`s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerKind {
    /// `EventTimeTrigger`: when the watermark passes the window's end (the default for
    /// event-time windows); immediately for an element arriving after that (a late firing).
    EventTime,
    /// `ProcessingTimeTrigger`: when processing time passes the window's end.
    ProcessingTime,
    /// `CountTrigger`: every `n` elements.
    Count(u64),
    /// `ContinuousEventTimeTrigger`: early firings every interval of event time, and at the end.
    ContinuousEventTime(i64),
    /// `ContinuousProcessingTimeTrigger`: firings every interval of processing time.
    ContinuousProcessingTime(i64),
    /// Never fires (the default of global windows).
    Never,
}

/// A trigger, possibly wrapped in Flink's `PurgingTrigger` (every FIRE becomes FIRE_AND_PURGE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trigger {
    /// The trigger.
    pub kind: TriggerKind,
    /// Clear the window's contents after every firing.
    pub purging: bool,
}

/// What a trigger decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TriggerResult {
    /// Emit the window's contents.
    pub fire: bool,
    /// Clear the window's contents.
    pub purge: bool,
}

impl TriggerResult {
    /// Nothing happens.
    pub const CONTINUE: TriggerResult = TriggerResult {
        fire: false,
        purge: false,
    };
    /// Emit.
    pub const FIRE: TriggerResult = TriggerResult {
        fire: true,
        purge: false,
    };

    /// The name of Flink's `TriggerResult` constant for this decision.
    pub fn name(self) -> &'static str {
        match (self.fire, self.purge) {
            (false, false) => "CONTINUE",
            (true, false) => "FIRE",
            (false, true) => "PURGE",
            (true, true) => "FIRE_AND_PURGE",
        }
    }
}

impl Trigger {
    /// Applies the purging wrapper.
    pub fn wrap(&self, r: TriggerResult) -> TriggerResult {
        if self.purging && r.fire {
            TriggerResult {
                fire: true,
                purge: true,
            }
        } else {
            r
        }
    }
}

/// Per-window state of a trigger.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TriggerState {
    /// Elements counted (count triggers).
    pub count: u64,
    /// The next early firing (continuous triggers).
    pub fire_at: Option<EventTime>,
}

impl TriggerState {
    /// Combines the states of merged windows (`mergePartitionedState`): counts add up, the
    /// earliest pending firing wins.
    pub fn merge(&mut self, o: &TriggerState) {
        self.count += o.count;
        self.fire_at = match (self.fire_at, o.fire_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// The first firing of a continuous trigger, set by `onElement` when the window has none:
/// `min(t − t % interval + interval, maxTimestamp)`, aligned to the interval grid with Java's
/// truncating `%` and Java's wrapping `long` arithmetic (Flink's
/// `registerNextFireTimestamp(timestamp − timestamp % interval, …)`).
pub fn first_continuous_fire(t: EventTime, interval: i64, window_max: EventTime) -> EventTime {
    next_continuous_fire(t.trunc_to_multiple(interval), interval, window_max)
}

/// Every later firing of a continuous trigger, set by `onEventTime` (`onProcessingTime`) when
/// the fire time `time` is reached: `min(time + interval, maxTimestamp)`, *not* re-aligned to
/// the grid — after a session merge the fire time can lie off the grid, and stays off it.
pub fn next_continuous_fire(time: EventTime, interval: i64, window_max: EventTime) -> EventTime {
    time.wrapping_plus_millis(interval).min(window_max)
}

/// Removes elements before a firing (Flink's `Evictor.evictBefore`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evictor {
    /// `CountEvictor`: keep the last `n` elements.
    Count(usize),
    /// `TimeEvictor`: keep the elements within `size` ms of the newest one.
    Time(i64),
}

impl Evictor {
    /// Which elements (in arrival order, with these timestamps) survive the eviction.
    pub fn keep(&self, timestamps: &[EventTime]) -> Vec<bool> {
        match *self {
            Evictor::Count(n) => {
                let drop = timestamps.len().saturating_sub(n);
                (0..timestamps.len()).map(|i| i >= drop).collect()
            }
            Evictor::Time(size) => {
                // Flink's TimeEvictor: drop every element with ts <= newest − size.
                let max = timestamps.iter().copied().max().unwrap_or(EventTime::ZERO);
                timestamps
                    .iter()
                    .map(|t| *t > max.minus_millis(size))
                    .collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_carry_flinks_names() {
        let r = |fire, purge| TriggerResult { fire, purge }.name();
        assert_eq!(r(false, false), "CONTINUE");
        assert_eq!(r(true, false), "FIRE");
        assert_eq!(r(false, true), "PURGE");
        assert_eq!(r(true, true), "FIRE_AND_PURGE");
    }

    #[test]
    fn purging_turns_fire_into_fire_and_purge() {
        let t = Trigger {
            kind: TriggerKind::Count(2),
            purging: true,
        };
        assert_eq!(
            t.wrap(TriggerResult::FIRE),
            TriggerResult {
                fire: true,
                purge: true
            }
        );
        assert_eq!(t.wrap(TriggerResult::CONTINUE), TriggerResult::CONTINUE);
    }

    fn first(t: i64, interval: i64, max: i64) -> i64 {
        first_continuous_fire(ms(t), interval, ms(max)).as_millis()
    }

    fn next(t: i64, interval: i64, max: i64) -> i64 {
        next_continuous_fire(ms(t), interval, ms(max)).as_millis()
    }

    fn ms(v: i64) -> EventTime {
        EventTime::from_millis(v)
    }

    #[test]
    fn continuous_firings_follow_the_interval_grid_and_stop_at_the_window_end() {
        assert_eq!(first(1234, 1000, 9999), 2000);
        assert_eq!(first(-1500, 1000, 9999), 0, "Java's % truncates");
        assert_eq!(next(2000, 1000, 9999), 3000);
        assert_eq!(next(9500, 1000, 9999), 9999);
    }

    /// Only the first fire time is aligned: from a fire time off the grid (a merged session's
    /// old end) the next one is `time + interval`, as in Flink's `onEventTime`.
    #[test]
    fn later_continuous_firings_are_not_realigned() {
        assert_eq!(next(2999, 1000, 4999), 3999);
        assert_eq!(first(2999, 1000, 4999), 3000);
        // the global window: Java's long wraps, as Flink's trigger does at Long.MAX_VALUE
        assert_eq!(next(i64::MAX - 10, 1000, i64::MAX), i64::MIN + 989);
    }

    #[test]
    fn evictors() {
        assert_eq!(
            Evictor::Count(2).keep(&[ms(1), ms(2), ms(3), ms(4)]),
            vec![false, false, true, true]
        );
        assert_eq!(Evictor::Count(9).keep(&[ms(1), ms(2)]), vec![true, true]);
        assert_eq!(
            Evictor::Time(100).keep(&[ms(150), ms(0), ms(200), ms(50)]),
            vec![true, false, true, false],
            "keep ts > 200 − 100"
        );
    }
}
