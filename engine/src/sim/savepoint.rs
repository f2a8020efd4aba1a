//! Savepoints and stop-with-savepoint (Flink's `triggerSavepoint` / `stopWithSavepoint`).
//!
//! A savepoint goes through the checkpoint coordinator like a checkpoint, with Flink's
//! differences:
//! - it is **forced**: it is triggered even when `max_concurrent` checkpoints are pending or
//!   the `min_pause` has not passed (`CheckpointProperties.forSavepoint`, forced = true);
//! - it is **aligned** whenever the mode is exactly-once, even with unaligned checkpoints on
//!   (`CheckpointOptions.forConfig`: "Savepoints can not be unaligned"); under at-least-once
//!   mode Flink's barrier tracker handles it like any checkpoint, and so does streamlab;
//! - it needs no periodic checkpointing: a streaming job always has a coordinator;
//! - it is **not** a restore point for failover and an intermediate savepoint commits no
//!   side effects: Flink ≥ 1.15 keeps savepoints out of the completed-checkpoint store
//!   (`CheckpointCoordinator.completePendingCheckpoint`: `if (!props.isSavepoint())`) and
//!   sends no completion notification for them, so pre-committed transactions wait for the
//!   next checkpoint.
//!
//! Stop-with-savepoint (`flink stop`, without `--drain`) first stops the periodic scheduler
//! (pending checkpoints are aborted), then triggers a synchronous savepoint: every source
//! emits the barrier and then nothing more — no records, no watermarks, so no window fires
//! after the snapshot. When the savepoint completes, its notification commits the sinks'
//! transactions and the job ends FINISHED. `[rescale]` then resubmits the job from that
//! savepoint ([`super::rescale`]).

use super::queue::{Event, EventQueue};
use super::trace::Trace;
use crate::core::time::{SimDuration, SimTime};
use crate::scenario::Scenario;
use serde_json::json;

/// What kind of savepoint a checkpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `flink savepoint`: the job keeps running.
    Intermediate,
    /// `flink stop`: synchronous; the job ends when it completes.
    Stop,
}

impl Kind {
    /// The name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Intermediate => "savepoint",
            Kind::Stop => "stop-with-savepoint",
        }
    }
}

/// A task of the job before a rescale, kept for the report.
#[derive(Debug)]
pub struct Retired {
    /// The task as it stopped.
    pub task: super::task::Task,
    /// Its chain's name.
    pub chain: String,
}

/// Savepoint and rescale bookkeeping of a run.
#[derive(Debug, Default)]
pub struct State {
    /// The stop-with-savepoint in flight (or done).
    pub stop_id: Option<u64>,
    /// When it was triggered.
    pub triggered: SimTime,
    /// When the old job ended.
    pub stopped: Option<SimTime>,
    /// The job was resubmitted with its new parallelism.
    pub resubmitted: bool,
    /// From the stop to the resubmission.
    pub downtime: SimDuration,
    /// Tasks of the job before the rescale.
    pub retired: Vec<Retired>,
    /// Buffers and bytes its channels sent.
    pub retired_net: (u64, u64),
    /// The rescale, for the report.
    pub report: Option<crate::report::RescaleReport>,
    /// Why the stop-with-savepoint failed, if it did (the job then keeps running at its old
    /// parallelism and the rescale does not happen).
    pub stop_failed: Option<String>,
    /// Failure rows of TaskManagers lost during the downtime (their downtime ends with the
    /// resubmission).
    pub downtime_failures: Vec<usize>,
}

impl State {
    /// The old job has stopped and the new one is not running yet.
    pub fn down(&self) -> bool {
        self.stopped.is_some() && !self.resubmitted
    }
}

impl State {
    /// Schedules the `[[savepoint]]`s and the `[rescale]`'s stop.
    pub fn schedule(&mut self, s: &Scenario, queue: &mut EventQueue) {
        for (i, sp) in s.fault_tolerance.savepoints.iter().enumerate() {
            queue.schedule(sp.at, Event::Savepoint { index: i as u32 });
        }
        if let Some(r) = &s.fault_tolerance.rescale {
            self.downtime = r.downtime;
            queue.schedule(r.at, Event::StopWithSavepoint);
        }
    }

    /// A savepoint of `kind` requested at `now` is declined: the job is not running (it
    /// `finished`, or is recovering; `failed`: it failed for good). A declined stop fails the
    /// rescale.
    pub fn decline(
        &mut self,
        kind: Kind,
        now: SimTime,
        (finished, failed): (bool, bool),
        trace: &mut Option<Trace>,
    ) {
        // Flink declines: "Not all required tasks are currently running."
        if kind == Kind::Stop && self.stop_failed.is_none() && !failed {
            self.stop_failed = Some(format!(
                "the stop-with-savepoint at {now} was declined: not all required tasks were running{}",
                if finished {
                    " (the job had finished)"
                } else {
                    " (the job was recovering from a failure)"
                }
            ));
        }
        if let Some(tr) = trace.as_mut() {
            tr.event(
                now,
                "savepoint_declined",
                vec![("kind", json!(kind.name()))],
            );
        }
    }

    /// Checkpoint `id` was aborted or failed at `now` for `reason`: if it was the
    /// stop-with-savepoint, the stop failed. As in Flink
    /// (`StopWithSavepointTerminationHandlerImpl`), the job keeps running — here at its old
    /// parallelism, so the rescale does not happen — and the periodic checkpoint scheduler
    /// starts again (returns `true`: the coordinator resumes); `flink stop` reports the
    /// failure.
    pub fn stop_aborted(
        &mut self,
        id: u64,
        reason: &str,
        now: SimTime,
        trace: &mut Option<Trace>,
    ) -> bool {
        if self.stop_id != Some(id) || self.stopped.is_some() || self.stop_failed.is_some() {
            return false;
        }
        self.stop_failed = Some(format!(
            "the stop-with-savepoint (savepoint {id}, triggered at {}) failed at {now}: {reason}",
            self.triggered
        ));
        if let Some(tr) = trace.as_mut() {
            tr.event(
                now,
                "stop_with_savepoint_failed",
                vec![("savepoint", json!(id)), ("reason", json!(reason))],
            );
        }
        true
    }

    /// Why the scenario's `[rescale]` did not happen, for the report (`None`: it happened,
    /// or there was none).
    pub fn rescale_missed(&self, s: &Scenario) -> Option<String> {
        let r = s.fault_tolerance.rescale.as_ref()?;
        if self.report.is_some() {
            return None;
        }
        let (line, col) = s.file.line_col(r.span.start);
        let why = match (&self.stop_failed, self.stopped) {
            (Some(why), _) => why.clone(),
            (None, Some(t)) => format!(
                "the job stopped with savepoint {} at {t} but the run ended before the resubmission",
                self.stop_id.unwrap_or_default()
            ),
            (None, None) if self.stop_id.is_some() => format!(
                "the stop-with-savepoint triggered at {} had not completed when the run ended",
                self.triggered
            ),
            (None, None) => format!("the job ended before the stop-with-savepoint at {}", r.at),
        };
        Some(format!(
            "{}:{line}:{col}: the rescale did not happen: {why}; the job ran on at its old parallelism (Flink's `flink stop` fails and the job keeps running; run the stop again)",
            s.file.name
        ))
    }

    /// The completion of checkpoint `id` reached the tasks at `now`: if it is the
    /// stop-with-savepoint, the old job is gone — none of its tasks' or channels' events
    /// remain — and the resubmission is scheduled after the downtime. Returns whether the job
    /// stopped.
    pub fn after_notify(&mut self, id: u64, now: SimTime, queue: &mut EventQueue) -> bool {
        if self.stop_id != Some(id) || self.stopped.is_some() {
            return false;
        }
        self.stopped = Some(now);
        queue.discard(|e| {
            !matches!(
                e,
                Event::Fault { .. } | Event::FaultEnd { .. } | Event::Savepoint { .. }
            )
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SimTime {
        SimTime::ZERO.plus(SimDuration::from_secs(s))
    }

    #[test]
    fn a_declined_stop_fails_the_rescale_and_says_why() {
        let mut st = State::default();
        st.decline(Kind::Intermediate, at(1), (false, false), &mut None);
        assert_eq!(
            st.stop_failed, None,
            "an intermediate savepoint is only declined"
        );
        st.decline(Kind::Stop, at(2), (true, false), &mut None);
        assert_eq!(
            st.stop_failed.as_deref(),
            Some(
                "the stop-with-savepoint at 2.000 s was declined: not all required tasks were running (the job had finished)"
            )
        );
        // the first reason stays
        st.decline(Kind::Stop, at(3), (false, false), &mut None);
        assert!(st.stop_failed.unwrap().contains("the job had finished"));
        // a job that failed for good reports its failure, not the declined stop
        let mut st = State::default();
        st.decline(Kind::Stop, at(2), (false, true), &mut None);
        assert_eq!(st.stop_failed, None);
    }

    #[test]
    fn only_the_stop_with_savepoint_ends_the_job_and_only_once() {
        let mut st = State {
            stop_id: Some(3),
            triggered: at(5),
            ..Default::default()
        };
        let mut q = EventQueue::new();
        q.schedule(at(9), Event::Resubmit);
        q.schedule(at(9), Event::Fault { index: 0 });
        assert!(
            !st.stop_aborted(2, "subsumed", at(6), &mut None),
            "not the stop"
        );
        assert!(!st.after_notify(2, at(6), &mut q));
        assert!(st.after_notify(3, at(6), &mut q));
        assert!(st.down());
        // the old job's events are gone; faults strike the cluster still
        assert_eq!(q.pop(), Some((at(9), Event::Fault { index: 0 })));
        assert_eq!(q.pop(), None);
        assert!(!st.after_notify(3, at(7), &mut q), "once");
        assert!(
            !st.stop_aborted(3, "late", at(7), &mut None),
            "it had completed"
        );
    }
}
