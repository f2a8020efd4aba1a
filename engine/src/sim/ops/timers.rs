//! Timers of keyed operators (Flink's `InternalTimerService`).
//!
//! A timer is a timestamp plus what it is for (a key and, for windows, a window). Timers are
//! de-duplicated — registering the same one twice keeps one — and fire in timestamp order
//! (equal timestamps in a fixed, deterministic order: Flink's heap order there is arbitrary).

use std::collections::BTreeSet;

/// Pending timers of one kind (event time or processing time).
#[derive(Debug, Clone)]
pub struct TimerQueue<T: Ord + Copy> {
    set: BTreeSet<(i64, T)>,
}

impl<T: Ord + Copy> Default for TimerQueue<T> {
    fn default() -> Self {
        TimerQueue {
            set: BTreeSet::new(),
        }
    }
}

impl<T: Ord + Copy> TimerQueue<T> {
    /// Registers a timer (no-op if it exists).
    pub fn register(&mut self, ts: i64, what: T) {
        self.set.insert((ts, what));
    }

    /// Deletes a timer (no-op if absent).
    pub fn delete(&mut self, ts: i64, what: T) {
        self.set.remove(&(ts, what));
    }

    /// Removes and returns the earliest timer at or before `upto`.
    pub fn pop_due(&mut self, upto: i64) -> Option<(i64, T)> {
        let first = *self.set.iter().next()?;
        if first.0 <= upto {
            self.set.remove(&first);
            Some(first)
        } else {
            None
        }
    }

    /// The earliest timestamp.
    pub fn next(&self) -> Option<i64> {
        self.set.iter().next().map(|t| t.0)
    }

    /// Keeps the timers whose target passes `keep` (rescaling: timers move with their key).
    pub fn retain(&mut self, keep: impl Fn(&T) -> bool) {
        self.set.retain(|(_, w)| keep(w));
    }

    /// Adds every timer of `other`.
    pub fn absorb(&mut self, other: Self) {
        self.set.extend(other.set);
    }

    /// Number of pending timers.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether no timer is pending.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Whether this exact timer is pending.
    pub fn contains(&self, ts: i64, what: T) -> bool {
        self.set.contains(&(ts, what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_deduplicate_and_fire_in_order() {
        let mut q: TimerQueue<u32> = TimerQueue::default();
        q.register(20, 1);
        q.register(10, 2);
        q.register(20, 1);
        q.register(10, 1);
        assert_eq!(q.len(), 3, "the duplicate (20, 1) is kept once");
        q.delete(10, 2);
        assert_eq!(q.pop_due(5), None);
        assert_eq!(q.pop_due(20), Some((10, 1)));
        assert_eq!(q.next(), Some(20));
        assert_eq!(q.pop_due(i64::MAX), Some((20, 1)));
        assert!(q.is_empty());
    }
}
