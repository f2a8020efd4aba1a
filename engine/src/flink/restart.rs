//! Restart strategies and the job's life cycle (Flink's `RestartBackoffTimeStrategy`s and
//! `JobStatus`).
//!
//! After a failure the restart strategy decides whether the job may restart and after which
//! delay, with Flink's algorithms and, when it gives up, Flink's message ("Recovery is
//! suppressed by …" with the strategy's `toString`):
//! - **no-restart**: never;
//! - **fixed-delay**: `attempts` times, each after `delay`;
//! - **failure-rate**: after `delay`, unless more than `max_failures` failures fall within
//!   `interval` (the oldest of the last `max_failures + 1` is less than `interval` ago);
//! - **exponential-delay** (Flink ≥ 1.19): `initial_delay · multiplierⁿ` for attempt n,
//!   capped at `max_delay`, ± `jitter`; a failure before the planned restart joins that
//!   attempt; `reset_threshold` after the planned restart without failure starts again at
//!   `initial_delay`.

use crate::core::rng::SimRng;
use crate::core::time::{SimDuration, SimTime};

/// `restart-strategy.type`: the restart strategy and its options.
#[derive(Debug, Clone, PartialEq)]
pub enum RestartStrategy {
    /// No restart: the first failure fails the job.
    None,
    /// Restart after `delay`, at most `attempts` times (`None` = unlimited).
    FixedDelay {
        /// Attempts before giving up.
        attempts: Option<u32>,
        /// Wait before each restart.
        delay: SimDuration,
    },
    /// Restart after `delay` unless more than `max_failures` happened within `interval`.
    FailureRate {
        /// Failures allowed per interval.
        max_failures: u32,
        /// The measuring interval.
        interval: SimDuration,
        /// Wait before each restart.
        delay: SimDuration,
    },
    /// Delays that grow by `multiplier` up to `max_delay`, back to `initial_delay` after
    /// `reset_threshold` without failure, with ± `jitter` of random spread.
    ExponentialDelay {
        /// First delay.
        initial_delay: SimDuration,
        /// Largest delay.
        max_delay: SimDuration,
        /// Growth factor.
        multiplier: f64,
        /// Quiet time after which the delay resets.
        reset_threshold: SimDuration,
        /// Relative spread of each delay.
        jitter: f64,
    },
}

/// Flink's `JobStatus` (the states streamlab reaches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Submitted, not yet running.
    Created,
    /// Running (also while a region restarts).
    Running,
    /// Failing: no restart is possible; tasks are being cancelled.
    Failing,
    /// A global failover: every task cancelled, waiting to restart.
    Restarting,
    /// Terminally failed.
    Failed,
    /// Every task finished.
    Finished,
}

impl JobStatus {
    /// The name in the report and the trace.
    pub fn name(self) -> &'static str {
        match self {
            JobStatus::Created => "created",
            JobStatus::Running => "running",
            JobStatus::Failing => "failing",
            JobStatus::Restarting => "restarting",
            JobStatus::Failed => "failed",
            JobStatus::Finished => "finished",
        }
    }

    /// Whether the state machine allows `self → to`.
    pub fn can_go_to(self, to: JobStatus) -> bool {
        use JobStatus::*;
        matches!(
            (self, to),
            (Created, Running)
                | (Running, Finished)
                | (Running, Failing)
                | (Running, Restarting)
                | (Restarting, Running)
                | (Restarting, Failing)
                | (Failing, Failed)
        )
    }
}

/// The restart strategy's memory (Flink's backoff-time strategies).
#[derive(Debug)]
pub struct Backoff {
    strategy: RestartStrategy,
    /// fixed-delay: restarts so far; exponential: the current attempt.
    attempts: u32,
    /// failure-rate: failure times.
    failures: std::collections::VecDeque<SimTime>,
    /// exponential-delay: when the planned restart is (Flink's `nextRestartTimestamp`).
    next_restart: Option<SimTime>,
    rng: SimRng,
}

impl Backoff {
    /// A strategy with no failure seen.
    pub fn new(strategy: RestartStrategy, rng: SimRng) -> Self {
        Backoff {
            strategy,
            attempts: 0,
            failures: Default::default(),
            next_restart: None,
            rng,
        }
    }

    /// A failure at `now`: `Ok(delay)` to restart after, or `Err(message)` when recovery is
    /// suppressed (Flink's "Recovery is suppressed by …" with the strategy's `toString`).
    pub fn on_failure(&mut self, now: SimTime) -> Result<SimDuration, String> {
        let suppressed = |s: String| Err(format!("Recovery is suppressed by {s}"));
        match self.strategy.clone() {
            RestartStrategy::None => suppressed("NoRestartBackoffTimeStrategy".into()),
            RestartStrategy::FixedDelay { attempts, delay } => {
                self.attempts += 1;
                if attempts.is_none_or(|max| self.attempts <= max) {
                    Ok(delay)
                } else {
                    suppressed(format!(
                        "FixedDelayRestartBackoffTimeStrategy(maxNumberRestartAttempts={}, backoffTimeMS={})",
                        attempts.map_or(i64::from(i32::MAX), i64::from),
                        delay.as_millis()
                    ))
                }
            }
            RestartStrategy::FailureRate {
                max_failures,
                interval,
                delay,
            } => {
                if self.failures.len() > max_failures as usize {
                    self.failures.pop_front();
                }
                self.failures.push_back(now);
                let can = self.failures.len() <= max_failures as usize
                    || now.since(self.failures[0]) > interval;
                if can {
                    Ok(delay)
                } else {
                    suppressed(format!(
                        "FailureRateRestartBackoffTimeStrategy(FailureRateRestartBackoffTimeStrategy(failuresIntervalMS={},backoffTimeMS={},maxFailuresPerInterval={})",
                        interval.as_millis(),
                        delay.as_millis(),
                        max_failures
                    ))
                }
            }
            RestartStrategy::ExponentialDelay {
                initial_delay,
                max_delay,
                multiplier,
                reset_threshold,
                jitter,
            } => {
                // Flink ≥ 1.19: a failure before the planned restart joins that attempt.
                if let Some(next) = self.next_restart {
                    if now <= next {
                        return Ok(next.since(now));
                    }
                    if now.since(next) >= reset_threshold {
                        self.attempts = 0;
                    }
                } else {
                    self.attempts = 0;
                }
                let b = (initial_delay.as_millis() as f64 * multiplier.powi(self.attempts as i32))
                    as i64;
                let o = (b as f64 * jitter) as i64;
                let j = if o > 0 {
                    self.rng.below(2 * o as u64 + 1) as i64 - o
                } else {
                    0
                };
                // saturating: after ~100 attempts `b` reaches i64::MAX (Java's long wraps
                // there; the result is capped at max_delay either way)
                let ms = b
                    .saturating_add(j)
                    .min(max_delay.as_millis() as i64)
                    .max(initial_delay.as_millis() as i64);
                let d = SimDuration::from_millis(ms as u64);
                self.next_restart = Some(now.plus(d));
                self.attempts += 1;
                Ok(d)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff(s: RestartStrategy) -> Backoff {
        Backoff::new(s, crate::core::rng::SeedTree::new(1).stream("t"))
    }

    const S: fn(u64) -> SimTime = |s| SimTime::from_nanos(s * 1_000_000_000);

    #[test]
    fn fixed_delay_restarts_attempts_times_then_gives_up_with_flinks_text() {
        let mut b = backoff(RestartStrategy::FixedDelay {
            attempts: Some(2),
            delay: SimDuration::from_millis(300),
        });
        assert_eq!(b.on_failure(S(1)), Ok(SimDuration::from_millis(300)));
        assert!(b.on_failure(S(2)).is_ok());
        assert_eq!(
            b.on_failure(S(3)),
            Err("Recovery is suppressed by FixedDelayRestartBackoffTimeStrategy(maxNumberRestartAttempts=2, backoffTimeMS=300)".into())
        );
    }

    #[test]
    fn failure_rate_fails_on_the_second_failure_within_the_interval() {
        let s = RestartStrategy::FailureRate {
            max_failures: 1,
            interval: SimDuration::from_secs(60),
            delay: SimDuration::from_secs(1),
        };
        let mut b = backoff(s.clone());
        assert!(b.on_failure(S(1)).is_ok());
        assert!(b.on_failure(S(30)).is_err());
        let mut b = backoff(s);
        assert!(b.on_failure(S(1)).is_ok());
        assert!(b.on_failure(S(100)).is_ok(), "a minute later is fine");
    }

    #[test]
    fn exponential_delay_grows_and_merges_failures_before_the_planned_restart() {
        let mut b = backoff(RestartStrategy::ExponentialDelay {
            initial_delay: SimDuration::from_secs(1),
            max_delay: SimDuration::from_secs(60),
            multiplier: 1.5,
            reset_threshold: SimDuration::from_secs(3600),
            jitter: 0.0,
        });
        assert_eq!(b.on_failure(S(10)), Ok(SimDuration::from_millis(1000)));
        assert_eq!(b.on_failure(S(20)), Ok(SimDuration::from_millis(1500)));
        // 21 s is before the restart planned at 21.5 s: the same attempt
        assert_eq!(b.on_failure(S(21)), Ok(SimDuration::from_millis(500)));
        assert_eq!(b.on_failure(S(30)), Ok(SimDuration::from_millis(2250)));
    }

    #[test]
    fn exponential_delay_stays_at_its_cap_however_many_attempts() {
        let mut b = backoff(RestartStrategy::ExponentialDelay {
            initial_delay: SimDuration::from_secs(1),
            max_delay: SimDuration::from_secs(60),
            multiplier: 2.0,
            reset_threshold: SimDuration::from_secs(1_000_000),
            jitter: 0.1,
        });
        let mut t = 0;
        for _ in 0..200 {
            t += 100;
            let d = b.on_failure(S(t)).expect("unlimited attempts");
            assert!(d <= SimDuration::from_secs(60), "{d}");
        }
        assert_eq!(b.on_failure(S(t + 100)), Ok(SimDuration::from_secs(60)));
    }

    #[test]
    fn the_job_state_machine_allows_only_flinks_transitions() {
        use JobStatus::*;
        assert!(Created.can_go_to(Running));
        assert!(Running.can_go_to(Restarting) && Restarting.can_go_to(Running));
        assert!(Failing.can_go_to(Failed));
        assert!(!Finished.can_go_to(Running));
        assert!(!Failed.can_go_to(Running));
        assert!(!Created.can_go_to(Finished));
    }

    /// Each strategy's answers to a series of failures (seconds), against Flink's
    /// algorithms: `Some(ms)` restart after ms, `None` recovery suppressed.
    #[test]
    fn restart_strategies_answer_a_series_of_failures_as_flink_does() {
        let d = SimDuration::from_millis;
        type Row = (
            &'static str,
            RestartStrategy,
            &'static [u64],
            &'static [Option<u64>],
        );
        let rows: Vec<Row> = vec![
            ("no-restart", RestartStrategy::None, &[5], &[None]),
            (
                "fixed-delay, 3 attempts",
                RestartStrategy::FixedDelay {
                    attempts: Some(3),
                    delay: d(10_000),
                },
                &[1, 2, 3, 4, 5],
                &[Some(10_000), Some(10_000), Some(10_000), None, None],
            ),
            (
                "fixed-delay, unlimited",
                RestartStrategy::FixedDelay {
                    attempts: None,
                    delay: d(1),
                },
                &[1, 2, 3, 4, 5, 6],
                &[Some(1); 6],
            ),
            (
                // at most 2 failures in any 10 s: the third within 10 s of the first fails
                "failure-rate, 2 per 10 s",
                RestartStrategy::FailureRate {
                    max_failures: 2,
                    interval: d(10_000),
                    delay: d(500),
                },
                &[1, 5, 12, 20, 21],
                &[Some(500), Some(500), Some(500), Some(500), None],
            ),
            (
                "failure-rate, exactly the interval apart is still within it",
                RestartStrategy::FailureRate {
                    max_failures: 1,
                    interval: d(10_000),
                    delay: d(0),
                },
                &[1, 11],
                &[Some(0), None],
            ),
            (
                // 1 s, 2 s, 4 s, 8 s, capped at 5 s; 60 s after the planned restart it resets
                "exponential-delay",
                RestartStrategy::ExponentialDelay {
                    initial_delay: d(1_000),
                    max_delay: d(5_000),
                    multiplier: 2.0,
                    reset_threshold: d(60_000),
                    jitter: 0.0,
                },
                &[10, 20, 30, 40, 50, 200],
                &[
                    Some(1_000),
                    Some(2_000),
                    Some(4_000),
                    Some(5_000),
                    Some(5_000),
                    Some(1_000),
                ],
            ),
        ];
        for (case, strategy, at_s, want) in rows {
            let mut b = backoff(strategy);
            let got: Vec<Option<u64>> = at_s
                .iter()
                .map(|&s| b.on_failure(S(s)).ok().map(|d| d.as_millis()))
                .collect();
            assert_eq!(got, want, "{case}");
        }
    }

    /// Every pair of states, against Flink's `JobStatus` transitions streamlab uses.
    #[test]
    fn job_status_transitions_table() {
        use JobStatus::*;
        let all = [Created, Running, Failing, Restarting, Failed, Finished];
        let allowed = [
            (Created, Running),
            (Running, Finished),
            (Running, Failing),
            (Running, Restarting),
            (Restarting, Running),
            (Restarting, Failing),
            (Failing, Failed),
        ];
        for from in all {
            for to in all {
                assert_eq!(
                    from.can_go_to(to),
                    allowed.contains(&(from, to)),
                    "{from:?} → {to:?}"
                );
            }
        }
        // terminal states go nowhere
        assert!(
            all.iter()
                .all(|&to| !Failed.can_go_to(to) && !Finished.can_go_to(to))
        );
        assert_eq!(Restarting.name(), "restarting");
    }
}
