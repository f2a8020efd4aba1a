//! The kernel's side of savepoints and the rescale: when a savepoint may be taken, the stop
//! that ends the old job, and the resubmission of the new one ([`crate::sim::savepoint`],
//! [`crate::sim::rescale`]).

use super::Simulation;
use crate::core::time::SimTime;
use crate::flink::restart::JobStatus;
use crate::plan::Plan;
use crate::report::{RescaleReport, RescaledOperator};
use crate::scenario::Scenario;
use crate::sim::channel::Channel;
use crate::sim::checkpoint::TaskSnapshot;
use crate::sim::queue::Event;
use crate::sim::savepoint::{self, Kind};
use crate::sim::task::Task;
use crate::sim::{build, recovery, rescale};
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
        self.phase_reached(crate::scenario::CheckpointPhase::SavepointStop, 0);
        self.queue
            .schedule(now.plus(self.sp.downtime), Event::Resubmit);
    }

    /// Resubmits the stopped job (planned as `p1`) as `s2`/`p2`, restoring the savepoint with
    /// its state redistributed. Returns false if the job cannot be deployed yet: a
    /// TaskManager it needs was lost during the downtime, and the resubmission waits for the
    /// replacement (Flink deploys a job once all its slots are there).
    pub(in crate::sim) fn resubmit(&mut self, p1: &Plan, s2: &Scenario, p2: &Plan) -> bool {
        let now = self.queue.now();
        let Some(sp_id) = self.sp.stop_id else {
            return false;
        };
        let savepoint: Vec<Option<TaskSnapshot>> = self
            .coord
            .as_ref()
            .and_then(|c| c.savepoints.iter().find(|c| c.id == sp_id))
            .map(|c| c.snapshots.clone())
            .unwrap_or_default();
        let rt = build::build(s2, p2, self.seed, &mut self.interner, self.annotate);
        let slots_at = rt
            .tasks
            .iter()
            .map(|t| self.recovery.tm_back[t.tm as usize])
            .max()
            .unwrap_or(now);
        if slots_at > now {
            self.queue.schedule(slots_at, Event::Resubmit);
            return false;
        }
        let mut old = std::mem::take(&mut self.tasks);
        let mut tasks = rt.tasks;
        let report_ops = rescale::redistribute(
            &mut old,
            &savepoint,
            (p1, p2),
            &mut tasks,
            &self.interner,
            now,
        );
        self.retire_old_job(p1, old);
        self.deploy_new_job(s2, p2, tasks, rt.channels, &rt.task_of);
        self.restore_point_from_savepoint(s2, sp_id, now, report_ops);
        self.start_resubmitted_job(s2, sp_id, now);
        true
    }

    /// Retires the old job's tasks and channels: the network figures of its channels are
    /// kept for the report, its tasks (with their final counters) under their chain's name.
    fn retire_old_job(&mut self, p1: &Plan, old: Vec<Task>) {
        for c in &self.channels {
            self.sp.retired_net.0 += c.buffers_sent;
            self.sp.retired_net.1 += c.bytes_sent;
        }
        for t in old {
            let chain = p1.execution.vertices[t.vertex].name.clone();
            self.sp.retired.push(savepoint::Retired { task: t, chain });
        }
    }

    /// Deploys the new job's tasks and channels in place of the old ones: every
    /// TaskManager's cores free again, failover regions and source alignment groups computed
    /// for the new job graph.
    fn deploy_new_job(
        &mut self,
        s2: &Scenario,
        p2: &Plan,
        tasks: Vec<Task>,
        channels: Vec<Channel>,
        task_of: &[Vec<u32>],
    ) {
        self.tasks = tasks;
        self.tap_sinks();
        self.tag_followed();
        self.channels = channels;
        self.finished = 0;
        for cpu in &mut self.tms {
            cpu.free = s2.cluster.cores_per_tm;
            cpu.ready.clear();
        }
        self.recovery.region = recovery::regions(self.tasks.len(), &self.channels);
        self.alignment = super::alignment_groups(s2, p2, task_of);
    }

    /// The savepoint becomes the new job's first restore point: the checkpoint coordinator
    /// starts afresh with ids continuing after the savepoint's, and the rescale report
    /// records when the savepoint was triggered, the old job stopped and the new one
    /// restarted, with each operator's redistributed state.
    fn restore_point_from_savepoint(
        &mut self,
        s2: &Scenario,
        sp_id: u64,
        now: SimTime,
        report_ops: Vec<RescaledOperator>,
    ) {
        // The savepoint is the new job's first restore point; ids continue after it.
        if let Some(c) = self.coord.as_mut() {
            c.reset_for_new_job();
            c.set_next_id(sp_id + 1);
            c.periodic = s2.fault_tolerance.checkpointing.is_some();
            c.completed = vec![rescale::first_restore_point(&mut self.tasks, sp_id)];
        }
        let stopped = self.sp.stopped.unwrap_or(now);
        self.sp.report = Some(RescaleReport {
            savepoint: sp_id,
            triggered_ms: self.sp.triggered.as_secs_f64() * 1e3,
            stopped_ms: stopped.as_secs_f64() * 1e3,
            restarted_ms: now.as_secs_f64() * 1e3,
            downtime_ms: now.since(self.sp.triggered).as_secs_f64() * 1e3,
            operators: report_ops,
        });
        self.recovery
            .restored(&self.sp.downtime_failures, now, Some(sp_id));
    }

    /// Starts the resubmitted job: CREATED then RUNNING, every source restored from the
    /// savepoint, periodic checkpoints and source alignment started, faults that outlast the
    /// downtime applied again, and every task scheduled.
    fn start_resubmitted_job(&mut self, s2: &Scenario, sp_id: u64, now: SimTime) {
        if let Some(o) = self.observer.as_mut() {
            o.resubmitted(now, sp_id, &self.tasks, self.channels.len());
        }
        self.sp.resubmitted = true;
        self.recovery.restate(
            JobStatus::Created,
            now,
            format!("resubmitted from savepoint {sp_id}"),
        );
        if let Some(tr) = self.trace.as_mut() {
            tr.event(
                now,
                "resubmit",
                vec![
                    ("savepoint", json!(sp_id)),
                    ("tasks", json!(self.tasks.len())),
                ],
            );
        }
        let every_task: Vec<u32> = (0..self.tasks.len() as u32).collect();
        self.trace_source_restores(now, Some(sp_id), &every_task, &[]);
        self.set_status(JobStatus::Running);
        self.start_checkpointing("checkpoint/first-trigger/resubmitted");
        if !self.alignment.is_empty() {
            self.align();
            self.queue
                .schedule(now.plus(super::ALIGNMENT_INTERVAL), Event::AlignmentTick);
        }
        let all_tasks = vec![true; self.tasks.len()];
        let all_channels = vec![true; self.channels.len()];
        self.reapply_lasting_faults(&all_tasks, &all_channels);
        self.apply_memory_limit(s2.limits.max_memory);
        for t in 0..self.tasks.len() as u32 {
            self.try_schedule(t);
        }
    }
}
