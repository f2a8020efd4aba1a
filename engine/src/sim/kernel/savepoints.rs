//! The kernel's side of savepoints and the rescale: when a savepoint may be taken, the stop
//! that ends the old job, and the resubmission of the new one ([`crate::sim::savepoint`],
//! [`crate::sim::rescale`]).

use super::Simulation;
use crate::flink::restart::JobStatus;
use crate::scenario::Scenario;
use crate::sim::queue::Event;
use crate::sim::savepoint::Kind;
use serde_json::json;

impl Simulation<'_> {
    /// Schedules the `[[savepoint]]`s and the `[rescale]`'s stop.
    pub(in crate::sim) fn schedule_savepoints(&mut self, s: &Scenario) {
        self.sp.schedule(s, &mut self.queue);
    }

    /// A savepoint of `kind` is requested now.
    pub(in crate::sim) fn on_savepoint(&mut self, kind: Kind) {
        let now = self.queue.now();
        let running = self.failure.is_none()
            && !self.sp.down()
            && self.recovery.status == JobStatus::Running
            && self.tasks.iter().all(|t| !t.cancelled)
            && self.finished < self.tasks.len();
        if self.coord.is_none() || !running {
            let why = (self.finished == self.tasks.len(), self.failure.is_some());
            self.sp.decline(kind, now, why, &mut self.trace);
            return;
        }
        if kind == Kind::Stop {
            // stopWithSavepoint stops the periodic scheduler first.
            self.abort_all_checkpoints("Checkpoint Coordinator is suspending.");
            if let Some(c) = self.coord.as_mut() {
                c.suspended = true;
            }
        }
        let id = self.trigger_checkpoint(now, Some(kind));
        if kind == Kind::Stop {
            self.sp.stop_id = Some(id);
            self.sp.triggered = now;
        }
    }

    /// Checkpoint `id` was aborted or failed for `reason`: if it was the stop-with-savepoint,
    /// the stop failed and the checkpoint coordinator resumes.
    pub(in crate::sim) fn stop_aborted(&mut self, id: u64, reason: &str) {
        let now = self.queue.now();
        if self.sp.stop_aborted(id, reason, now, &mut self.trace)
            && let Some(c) = self.coord.as_mut()
        {
            c.suspended = false;
        }
    }

    /// Why the scenario's `[rescale]` did not happen, for the report.
    pub(in crate::sim) fn rescale_missed(&self, s: &Scenario) -> Option<String> {
        self.sp.rescale_missed(s)
    }

    /// The completion of checkpoint `id` reached the tasks: a stop-with-savepoint ends the
    /// job now, and the resubmission follows after the downtime.
    pub(in crate::sim) fn after_notify(&mut self, id: u64) {
        let now = self.queue.now();
        if !self.sp.after_notify(id, now, &mut self.queue) {
            return;
        }
        self.recovery.restate(
            JobStatus::Finished,
            now,
            format!("stopped with savepoint {id}"),
        );
        if let Some(tr) = self.trace.as_mut() {
            tr.event(now, "job_stopped", vec![("savepoint", json!(id))]);
        }
        self.queue
            .schedule(now.plus(self.sp.downtime), Event::Resubmit);
    }
}
