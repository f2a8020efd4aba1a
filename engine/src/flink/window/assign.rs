//! Window assigners: which windows a record belongs to (Flink's `WindowAssigner`s).

use crate::core::time::EventTime;

/// A time window `[start, end)` (Flink's `TimeWindow`), or the single global window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    /// First timestamp in the window.
    pub start: EventTime,
    /// First timestamp after the window.
    pub end: EventTime,
}

impl Window {
    /// The window `[start, end)` given in milliseconds.
    pub const fn of_millis(start: i64, end: i64) -> Window {
        Window {
            start: EventTime::from_millis(start),
            end: EventTime::from_millis(end),
        }
    }

    /// Flink's `GlobalWindow`: everything, never ending.
    pub const GLOBAL: Window = Window {
        start: EventTime::MIN,
        end: EventTime::MAX,
    };

    /// The last timestamp inside: `end − 1` (`Long.MAX_VALUE` for the global window).
    pub fn max_timestamp(&self) -> EventTime {
        if *self == Window::GLOBAL {
            EventTime::MAX
        } else {
            self.end.minus_millis(1)
        }
    }

    /// When an event-time window's state is cleared (`WindowOperator.cleanupTime`): its last
    /// timestamp plus the allowed lateness (never, if that overflows). A window whose cleanup
    /// time the watermark has reached is late (`isWindowLate`): a record assigned only to
    /// late windows is dropped (or sent to the late-data side output).
    pub fn cleanup_time(&self, allowed_lateness: i64) -> EventTime {
        let t = self.max_timestamp().plus_millis(allowed_lateness);
        if t >= self.max_timestamp() {
            t
        } else {
            EventTime::MAX
        }
    }

    /// Whether two windows overlap or touch (`TimeWindow.intersects`: sessions that touch merge).
    pub fn intersects(&self, o: &Window) -> bool {
        self.start <= o.end && self.end >= o.start
    }

    /// The smallest window covering both.
    pub fn cover(&self, o: &Window) -> Window {
        Window {
            start: self.start.min(o.start),
            end: self.end.max(o.end),
        }
    }
}

/// Flink's `TimeWindow.getWindowStartWithOffset`: `ts − ((ts − offset) mod size)` with a
/// non-negative modulo, so negative timestamps work (overflow rule: [`EventTime::align_down`]).
pub fn window_start(ts: EventTime, offset: i64, size: i64) -> EventTime {
    ts.align_down(offset, size)
}

/// How records are assigned to windows.
#[derive(Debug, Clone, PartialEq)]
pub enum Assigner {
    /// Fixed, non-overlapping windows of `size` ms.
    Tumbling {
        /// Window length.
        size: i64,
        /// Shift of the window grid.
        offset: i64,
    },
    /// Windows of `size` ms starting every `slide` ms.
    Sliding {
        /// Window length.
        size: i64,
        /// Distance between window starts.
        slide: i64,
        /// Shift of the window grid.
        offset: i64,
    },
    /// `[ts, ts + gap)` per record, merged when they overlap. With `dynamic`, the gap comes
    /// from each record (an expression evaluated by the operator).
    Session {
        /// Gap in ms (ignored when dynamic).
        gap: i64,
        /// The gap is computed per record.
        dynamic: bool,
    },
    /// Flink SQL's `CUMULATE` window (`CumulativeWindowAssigner` of the table runtime):
    /// windows that all start at the start of a `size` ms grid cell and end every `step` ms
    /// in it — `[s, s + step)`, `[s, s + 2·step)`, …, `[s, s + size)`. A record belongs to
    /// every window of its cell that ends after it (see [`cumulative_windows`]).
    Cumulative {
        /// The largest window's length (a whole multiple of `step`, as Flink requires).
        size: i64,
        /// The distance between two windows' ends.
        step: i64,
        /// Shift of the window grid.
        offset: i64,
    },
    /// One window holding everything (for count windows and custom triggers).
    Global,
}

/// The `CUMULATE` windows of a record at `ts`: the grid cell `[s, s + size)` holding `ts`
/// (`s = ts − ((ts − offset) mod size)`, as a tumbling window's start) and, in it, every
/// window `[s, e)` with `e = s + k·step` (`k = 1 … size/step`) and `e > ts` — latest end
/// first, as Flink's assigner lists them (its `CumulativeSliceAssigner` keeps the record in
/// the slice `[s + (k−1)·step, s + k·step)` and every window ending at or after that slice's
/// end reads it).
pub fn cumulative_windows(ts: EventTime, size: i64, step: i64, offset: i64, out: &mut Vec<Window>) {
    let start = window_start(ts, offset, size);
    let mut end = start.plus_millis(size);
    while end > ts && end > start {
        out.push(Window { start, end });
        end = end.minus_millis(step);
    }
}

impl Assigner {
    /// Whether windows merge (sessions).
    pub fn is_merging(&self) -> bool {
        matches!(self, Assigner::Session { .. })
    }

    /// How many windows [`Assigner::assign`] gives one element at most: `⌈size / slide⌉`
    /// for a sliding window, one otherwise.
    pub fn windows_per_element(&self) -> u64 {
        match *self {
            Assigner::Sliding { size, slide, .. } if slide > 0 => {
                (size as u64).div_ceil(slide as u64).max(1)
            }
            Assigner::Cumulative { size, step, .. } if step > 0 => {
                (size as u64).div_ceil(step as u64).max(1)
            }
            _ => 1,
        }
    }

    /// [`Assigner::assign`] for the next record, where `out` holds what this assigner gave
    /// the record before (or nothing): a tumbling assigner's windows tile the time line, so
    /// when the one window in `out` contains `ts` it is `ts`'s window, and `out` is kept as it
    /// is — no division to find the window's start. Any other case assigns afresh.
    #[inline]
    pub fn assign_next(&self, ts: EventTime, gap: i64, out: &mut Vec<Window>) {
        if let Assigner::Tumbling { size, .. } = *self
            && let [w] = out.as_slice()
            && w.start <= ts
            && ts < w.end
            && w.end.millis_since(w.start) == size
        {
            debug_assert!(
                {
                    let mut fresh = Vec::new();
                    self.assign(ts, gap, &mut fresh);
                    fresh == *out
                },
                "fast path: the window of {ts:?} is {out:?}"
            );
            return;
        }
        self.assign(ts, gap, out);
    }

    /// The windows of a record with timestamp `ts` (`gap` for dynamic sessions).
    pub fn assign(&self, ts: EventTime, gap: i64, out: &mut Vec<Window>) {
        out.clear();
        match *self {
            Assigner::Tumbling { size, offset } => {
                let s = window_start(ts, offset, size);
                out.push(Window {
                    start: s,
                    end: s.plus_millis(size),
                });
            }
            Assigner::Sliding {
                size,
                slide,
                offset,
            } => {
                let last = window_start(ts, offset, slide);
                let mut s = last;
                while s > ts.minus_millis(size) {
                    out.push(Window {
                        start: s,
                        end: s.plus_millis(size),
                    });
                    s = s.minus_millis(slide);
                }
            }
            Assigner::Session {
                gap: fixed,
                dynamic,
            } => {
                let g = if dynamic { gap } else { fixed };
                out.push(Window {
                    start: ts,
                    end: ts.plus_millis(g),
                });
            }
            Assigner::Cumulative { size, step, offset } => {
                cumulative_windows(ts, size, step, offset, out)
            }
            Assigner::Global => out.push(Window::GLOBAL),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows(a: &Assigner, ts: i64) -> Vec<(i64, i64)> {
        let mut v = Vec::new();
        a.assign(EventTime::from_millis(ts), 0, &mut v);
        v.into_iter()
            .map(|w| (w.start.as_millis(), w.end.as_millis()))
            .collect()
    }

    #[test]
    fn tumbling_with_offset_and_negative_timestamps() {
        let t = Assigner::Tumbling {
            size: 5000,
            offset: 0,
        };
        assert_eq!(windows(&t, 4999), vec![(0, 5000)]);
        assert_eq!(windows(&t, 5000), vec![(5000, 10000)]);
        assert_eq!(windows(&t, -1), vec![(-5000, 0)]);
        let o = Assigner::Tumbling {
            size: 3000,
            offset: 1000,
        };
        assert_eq!(windows(&o, 0), vec![(-2000, 1000)]);
        assert_eq!(windows(&o, -2001), vec![(-5000, -2000)]);
    }

    #[test]
    fn cumulate_gives_every_window_of_the_cell_ending_after_the_record() {
        // CUMULATE(…, INTERVAL '1' SECOND, INTERVAL '3' SECOND): cells of 3 s, ends every 1 s.
        let c = Assigner::Cumulative {
            size: 3000,
            step: 1000,
            offset: 0,
        };
        assert_eq!(windows(&c, 0), vec![(0, 3000), (0, 2000), (0, 1000)]);
        assert_eq!(windows(&c, 999), vec![(0, 3000), (0, 2000), (0, 1000)]);
        assert_eq!(windows(&c, 1000), vec![(0, 3000), (0, 2000)]);
        assert_eq!(windows(&c, 2999), vec![(0, 3000)]);
        assert_eq!(
            windows(&c, 3000),
            vec![(3000, 6000), (3000, 5000), (3000, 4000)]
        );
        assert_eq!(windows(&c, -1), vec![(-3000, 0)]);
        assert_eq!(c.windows_per_element(), 3);
    }

    #[test]
    fn sliding_gives_size_over_slide_windows_newest_first() {
        let s = Assigner::Sliding {
            size: 10_000,
            slide: 5000,
            offset: 0,
        };
        assert_eq!(windows(&s, 7000), vec![(5000, 15000), (0, 10000)]);
        let s = Assigner::Sliding {
            size: 5000,
            slide: 1250,
            offset: 0,
        };
        assert_eq!(windows(&s, 0).len(), 4);
    }

    #[test]
    fn sessions_touch_and_merge() {
        let a = Window::of_millis(0, 3000);
        let b = Window::of_millis(3000, 6000);
        assert!(a.intersects(&b), "adjacent sessions merge in Flink");
        assert_eq!(a.cover(&b), Window::of_millis(0, 6000));
        assert_eq!(Window::GLOBAL.max_timestamp(), EventTime::MAX);
        assert_eq!(a.max_timestamp(), EventTime::from_millis(2999));
    }

    #[test]
    fn a_window_is_cleaned_up_at_its_last_timestamp_plus_the_allowed_lateness() {
        let w = Window::of_millis(0, 5000);
        assert_eq!(w.cleanup_time(0), EventTime::from_millis(4999));
        assert_eq!(w.cleanup_time(2000), EventTime::from_millis(6999));
        // An overflow means never (Flink: `cleanupTime >= maxTimestamp ? … : Long.MAX_VALUE`).
        let late = Window {
            start: EventTime::ZERO,
            end: EventTime::MAX.minus_millis(10),
        };
        assert_eq!(late.cleanup_time(100), EventTime::MAX);
        assert_eq!(Window::GLOBAL.cleanup_time(0), EventTime::MAX);
    }
}

#[cfg(test)]
mod assign_next_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Reusing the previous record's tumbling window gives, record after record, the
        /// windows assigning afresh gives — whatever the timestamps' order, sign and offset.
        #[test]
        fn assigning_the_next_record_equals_assigning_afresh(
            size in 1i64..50,
            offset in -60i64..60,
            tss in proptest::collection::vec(-200i64..200, 1..80),
        ) {
            let a = Assigner::Tumbling { size, offset: offset % size };
            let mut reused = Vec::new();
            for ts in tss {
                let ts = EventTime::from_millis(ts);
                a.assign_next(ts, 0, &mut reused);
                let mut fresh = Vec::new();
                a.assign(ts, 0, &mut fresh);
                prop_assert_eq!(&reused, &fresh, "ts {:?}", ts);
            }
        }
    }
}
