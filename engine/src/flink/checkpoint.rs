//! The checkpoint coordinator's rules (Flink's `CheckpointCoordinator`,
//! `CheckpointRequestDecider`, `CheckpointFailureManager` and `CheckpointOptions.forConfig`).
//!
//! - The **first** periodic trigger comes after a random delay in `[min_pause, interval]`
//!   (`getRandomInitDelay`), then one every `interval`.
//! - A periodic trigger goes only if fewer than `max_concurrent` checkpoints are pending and
//!   `min_pause` has passed since the last completion; otherwise it is postponed until it may
//!   (savepoints are forced: they skip this check).
//! - A completed checkpoint **subsumes** every older one still pending; the newest `retained`
//!   completed checkpoints are kept.
//! - A checkpoint that expires (`timeout`) or fails counts as a failure; more than
//!   `tolerable_failures` in a row fail the job, and a completion resets the count.
//! - The barriers of an exactly-once checkpoint are aligned, unaligned, or aligned with a
//!   timeout after which they switch to unaligned; a savepoint is always aligned.

use crate::core::rng::SimRng;
use crate::core::time::{SimDuration, SimTime};

/// The delay of the first periodic trigger: uniform in `[min(min_pause, interval), interval]`
/// (Flink's `ThreadLocalRandom.nextLong(minPauseBetweenCheckpoints, baseInterval + 1)`).
pub fn initial_delay(
    min_pause: SimDuration,
    interval: SimDuration,
    rng: &mut SimRng,
) -> SimDuration {
    rng.duration_between(min_pause.min(interval), interval)
}

/// Whether a periodic trigger may go at `now` with `pending` checkpoints in flight and the
/// last completion at `last_completion` (Flink's "too many concurrent checkpoints" and
/// `MinimumPauseBetweenCheckpointsHasNotElapsed` checks).
pub fn may_trigger(
    now: SimTime,
    pending: usize,
    max_concurrent: u32,
    last_completion: Option<SimTime>,
    min_pause: SimDuration,
) -> bool {
    pending < max_concurrent as usize && last_completion.is_none_or(|c| now >= c.plus(min_pause))
}

/// The pending checkpoints (ids) that the completion of checkpoint `id` subsumes.
pub fn subsumed(pending: impl IntoIterator<Item = u64>, id: u64) -> Vec<u64> {
    pending.into_iter().filter(|&o| o < id).collect()
}

/// Keeps the newest `retained` of the completed checkpoints (oldest first).
pub fn retain<T>(completed: &mut Vec<T>, retained: u32) {
    let keep = retained as usize;
    if completed.len() > keep {
        let drop = completed.len() - keep;
        completed.drain(..drop);
    }
}

/// Failed checkpoints in a row (Flink's `CheckpointFailureManager`).
#[derive(Debug, Clone, Default)]
pub struct FailureCounter {
    consecutive: u32,
}

impl FailureCounter {
    /// A checkpoint completed: the count starts again.
    pub fn on_success(&mut self) {
        self.consecutive = 0;
    }

    /// A checkpoint failed: `true` when that makes more than `tolerable` in a row — the job
    /// fails, and the count starts again.
    pub fn on_failure(&mut self, tolerable: u32) -> bool {
        self.consecutive += 1;
        if self.consecutive > tolerable {
            self.consecutive = 0;
            return true;
        }
        false
    }
}

/// Flink's message when the tolerable failures are exceeded; `reason` is the last failure's.
pub fn tolerable_exceeded(reason: &str) -> String {
    format!(
        "Exceeded checkpoint tolerable failure threshold. The latest checkpoint failed due to {reason}, view the Checkpoint History tab or the Job Manager log to find out why continuous checkpoints failed."
    )
}

/// How the barriers of one checkpoint travel (Flink's `CheckpointOptions.forConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarrierKind {
    /// At-least-once: barriers are counted, not aligned.
    AtLeastOnce,
    /// Aligned: channels block until every barrier is in.
    Aligned,
    /// Unaligned from the start (`aligned_timeout` 0).
    Unaligned,
    /// Aligned, switching to unaligned this long after the trigger.
    Timeoutable(SimDuration),
}

impl BarrierKind {
    /// Whether barriers of this checkpoint may overtake data.
    pub fn may_be_unaligned(self) -> bool {
        matches!(self, BarrierKind::Unaligned | BarrierKind::Timeoutable(_))
    }

    /// For the report.
    pub fn name(self) -> String {
        match self {
            BarrierKind::AtLeastOnce => "at-least-once".into(),
            BarrierKind::Aligned => "aligned".into(),
            BarrierKind::Unaligned => "unaligned".into(),
            BarrierKind::Timeoutable(d) => format!("aligned (timeout {d})"),
        }
    }
}

/// The barrier kind of a checkpoint: `exactly_once` mode, `unaligned` checkpoints enabled,
/// the `aligned_timeout`, and whether it is a `savepoint` (Flink: "Savepoints can not be
/// unaligned").
pub fn barrier_kind(
    exactly_once: bool,
    unaligned: bool,
    aligned_timeout: SimDuration,
    savepoint: bool,
) -> BarrierKind {
    if !exactly_once {
        BarrierKind::AtLeastOnce
    } else if savepoint || !unaligned {
        BarrierKind::Aligned
    } else if aligned_timeout.is_zero() {
        BarrierKind::Unaligned
    } else {
        BarrierKind::Timeoutable(aligned_timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> SimDuration {
        SimDuration::from_millis(n)
    }

    fn at(n: u64) -> SimTime {
        SimTime::ZERO.plus(ms(n))
    }

    #[test]
    fn the_first_trigger_comes_between_min_pause_and_the_interval() {
        let mut rng = crate::core::rng::SeedTree::new(7).stream("t");
        for _ in 0..200 {
            let d = initial_delay(ms(300), ms(1_000), &mut rng);
            assert!((ms(300)..=ms(1_000)).contains(&d), "{d}");
        }
        // a min pause longer than the interval: the interval
        assert_eq!(initial_delay(ms(5_000), ms(1_000), &mut rng), ms(1_000));
        // no spread without a range
        assert_eq!(initial_delay(ms(1_000), ms(1_000), &mut rng), ms(1_000));
    }

    /// (case, now ms, pending, max concurrent, last completion ms, min pause ms, may trigger)
    #[test]
    fn a_periodic_trigger_waits_for_concurrency_and_the_min_pause() {
        type Row = (&'static str, u64, usize, u32, Option<u64>, u64, bool);
        let rows: &[Row] = &[
            (
                "nothing pending, none completed",
                100,
                0,
                1,
                None,
                500,
                true,
            ),
            ("one pending of one allowed", 100, 1, 1, None, 0, false),
            ("one pending of two allowed", 100, 1, 2, None, 0, true),
            (
                "min pause not yet over",
                1_400,
                0,
                1,
                Some(1_000),
                500,
                false,
            ),
            ("min pause just over", 1_500, 0, 1, Some(1_000), 500, true),
            ("no min pause", 1_000, 0, 1, Some(1_000), 0, true),
            (
                "both: busy and paused",
                1_100,
                2,
                2,
                Some(1_000),
                500,
                false,
            ),
        ];
        for &(case, now, pending, max, last, pause, want) in rows {
            assert_eq!(
                may_trigger(at(now), pending, max, last.map(at), ms(pause)),
                want,
                "{case}"
            );
        }
    }

    #[test]
    fn a_completion_subsumes_older_pending_checkpoints_and_old_ones_are_dropped() {
        assert_eq!(subsumed([3, 5, 7, 8], 7), vec![3, 5]);
        assert!(subsumed([8, 9], 7).is_empty());
        let mut done = vec![1, 2, 3, 4];
        retain(&mut done, 2);
        assert_eq!(done, [3, 4]);
        retain(&mut done, 5);
        assert_eq!(done, [3, 4]);
    }

    /// Failures and completions in order (`F` / `C`) and where the job fails, for a number
    /// of tolerable failures.
    #[test]
    fn more_failures_in_a_row_than_tolerable_fail_the_job() {
        type Row = (u32, &'static str, &'static str);
        // (tolerable, outcomes, which failures fail the job: 'x', others '.')
        let rows: &[Row] = &[
            (0, "FF", "xx"),
            (1, "FFFF", ".x.x"),
            (1, "FCFCF", ".-.-."),
            (2, "FFCFFF", "..-..x"),
        ];
        for &(tolerable, outcomes, want) in rows {
            let mut c = FailureCounter::default();
            let got: String = outcomes
                .chars()
                .map(|o| match o {
                    'F' if c.on_failure(tolerable) => 'x',
                    'F' => '.',
                    _ => {
                        c.on_success();
                        '-'
                    }
                })
                .collect();
            assert_eq!(got, want, "tolerable {tolerable}, {outcomes}");
        }
        assert!(tolerable_exceeded("Checkpoint expired before completing.").starts_with(
            "Exceeded checkpoint tolerable failure threshold. The latest checkpoint failed due to Checkpoint expired before completing., "
        ));
    }

    #[test]
    fn the_barrier_kind_follows_flinks_checkpoint_options() {
        use BarrierKind::*;
        // (exactly-once, unaligned, aligned timeout ms, savepoint, kind)
        let rows = [
            (true, false, 0, false, Aligned),
            (true, true, 0, false, Unaligned),
            (true, true, 500, false, Timeoutable(ms(500))),
            (true, false, 500, false, Aligned),
            // savepoints are always aligned; at-least-once never aligns
            (true, true, 0, true, Aligned),
            (true, true, 500, true, Aligned),
            (false, true, 0, false, AtLeastOnce),
            (false, false, 0, true, AtLeastOnce),
        ];
        for (eo, un, timeout, sp, want) in rows {
            assert_eq!(barrier_kind(eo, un, ms(timeout), sp), want);
        }
        assert!(Unaligned.may_be_unaligned() && Timeoutable(ms(1)).may_be_unaligned());
        assert!(!Aligned.may_be_unaligned() && !AtLeastOnce.may_be_unaligned());
        assert_eq!(Timeoutable(ms(500)).name(), "aligned (timeout 500 ms)");
    }
}
