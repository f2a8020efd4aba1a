//! The kernel's side of failures: scripted faults striking ([`crate::sim::faults`]), lost
//! heartbeats ([`crate::sim::heartbeat`]), and failover — cancelling the tasks of a failover
//! region, asking the restart strategy, redeploying and restoring them
//! ([`crate::sim::recovery`]).

use super::Simulation;
use crate::core::time::{SimTime, human_nanos};
use crate::flink::deployment::{JobManagerLoss, Mode, Platform};
use crate::flink::restart::JobStatus;
use crate::flink::startup::{self, DeploymentSpec};
use crate::plan::Plan;
use crate::scenario::{CheckpointPhase, Failover, FaultKind, Scenario};
use crate::sim::faults::{self, Targets};
use crate::sim::source::SplitOffset;
use crate::sim::task::Sched;
use crate::sim::{build, heartbeat, memory, recovery};
use serde_json::json;

impl Simulation<'_> {
    /// Moves the job to `to` (if the state machine allows it) and records it.
    pub(in crate::sim) fn set_status(&mut self, to: JobStatus) {
        let now = self.queue.now();
        self.recovery.set_status(to, now, &mut self.trace);
    }

    /// Schedules the scripted faults that have a time.
    pub(in crate::sim) fn schedule_faults(&mut self, s: &Scenario) {
        faults::schedule(&s.fault_tolerance.faults, &mut self.queue);
    }

    /// A checkpoint reached `phase`: faults tied to it strike now.
    pub(in crate::sim) fn phase_reached(&mut self, phase: CheckpointPhase, id: u64) {
        let now = self.queue.now();
        self.phase_reached_at(phase, id, now);
    }

    /// A checkpoint reaches `phase` at `at` (not before now): faults tied to it strike then.
    pub(in crate::sim) fn phase_reached_at(
        &mut self,
        phase: CheckpointPhase,
        id: u64,
        at: SimTime,
    ) {
        let struck = &self.recovery.struck;
        faults::at_phase(&self.faults, struck, (phase, id), at, &mut self.queue);
    }

    /// A checkpoint reached `phase` in the middle of an event (between two tasks receiving
    /// the same message): faults tied to it strike at once, before the event goes on.
    pub(in crate::sim) fn strike_inline(&mut self, phase: CheckpointPhase, id: u64) {
        let tied: Vec<u32> =
            faults::tied_to(&self.faults, &self.recovery.struck, (phase, id)).collect();
        for i in tied {
            self.on_fault(i);
        }
    }

    /// A scripted fault strikes.
    pub(in crate::sim) fn on_fault(&mut self, index: u32) {
        let now = self.queue.now();
        if self.recovery.struck[index as usize] || self.failure.is_some() {
            return;
        }
        self.recovery.struck[index as usize] = true;
        let fault = self.faults[index as usize].clone();
        let cause = self.fault_names[index as usize].clone();
        if let Some(tr) = self.trace.as_mut() {
            tr.event(now, "fault", vec![("what", json!(cause))]);
        }
        if self.sp.down() {
            // Between a stop-with-savepoint and the resubmission no job runs: the fault
            // strikes the cluster, and the resubmitted job meets what is left of it.
            self.fault_in_downtime(index, cause);
            return;
        }
        match fault.kind {
            FaultKind::KillSubtask { node, subtask } => {
                let tasks =
                    faults::tasks_of_node(&self.tasks, &self.scenario_node, node, Some(subtask));
                self.note_if_finished(index, &tasks, || {
                    format!(
                        "subtask {} had already finished",
                        faults::cause_target(&cause)
                    )
                });
                self.fail_tasks(&tasks, cause, false);
            }
            FaultKind::KillTaskManager {
                tm,
                replacement_delay,
            } => {
                self.recovery.tm_back[tm as usize] = now.plus(replacement_delay);
                let tasks = faults::tasks_on(&self.tasks, tm);
                self.note_if_finished(index, &tasks, || {
                    format!("every task on TaskManager {tm} had already finished")
                });
                self.fail_tasks(&tasks, cause, false);
            }
            FaultKind::JobManager { .. } if self.s.deployment.is_some() => {
                self.jobmanager_failed(cause);
            }
            FaultKind::JobManager { ha } => {
                if ha {
                    let all: Vec<u32> = (0..self.tasks.len() as u32).collect();
                    self.fail_tasks(&all, cause, true);
                } else {
                    self.set_status(JobStatus::Failing);
                    self.set_status(JobStatus::Failed);
                    self.failure = Some(format!(
                        "{cause}: without high availability the job is lost with its JobManager"
                    ));
                }
            }
            FaultKind::Straggler { .. }
            | FaultKind::NetworkDelay { .. }
            | FaultKind::NetworkPartition { .. } => self.start_lasting_fault(index),
            FaultKind::StorageFailure { duration } => {
                if let Some(c) = self.coord.as_mut() {
                    c.storage_down_until = now.plus(duration);
                }
            }
        }
    }

    /// The JobManager fails in a scenario with `[deployment]`: Flink's rule for the mode,
    /// the platform and HA ([`startup::jobmanager_recovery`]). With HA a new leader is
    /// elected after the HA timeout and restores every task from the latest checkpoint; an
    /// application the platform restarts without HA runs `main` again — a new job from
    /// scratch; otherwise the job is lost. The restart strategy is not asked: the new
    /// JobMaster starts the job anew.
    fn jobmanager_failed(&mut self, cause: String) {
        let Some(spec) = self.s.deployment else {
            return;
        };
        let now = self.queue.now();
        let (loss, after) = startup::jobmanager_recovery(&spec);
        let Some(after) = after else {
            self.set_status(JobStatus::Failing);
            self.set_status(JobStatus::Failed);
            self.failure = Some(format!("{cause}: {}", lost_because(&spec)));
            return;
        };
        let all: Vec<u32> = (0..self.tasks.len() as u32).collect();
        self.abort_all_checkpoints("the JobManager failed");
        self.cancel_tasks(&all);
        let what = match loss {
            JobManagerLoss::RerunFromMain => format!(
                "the platform starts a new JobManager {}, which runs `main` again: a new job (new job id) from scratch, no checkpoint restored",
                spec.platform.unit()
            ),
            _ => format!(
                "a new leader is elected after the {} HA timeout; it recovers the job (same job id) from the latest checkpoint in the checkpoint store",
                human_nanos(spec.costs.ha_timeout.as_nanos() as f64)
            ),
        };
        let row = self
            .recovery
            .record_failure(now, format!("{cause}: {what}"), all.len() as u32);
        self.set_status(JobStatus::Restarting);
        if let Some(c) = self.coord.as_mut() {
            c.suspended = true;
        }
        self.recovery.from_scratch = loss == JobManagerLoss::RerunFromMain;
        self.recovery.wait(&all, row);
        let at = now.plus(after).max(self.resources_for_waiting());
        self.recovery.plan(at, &mut self.queue);
    }

    /// Records fault `index` as having struck only finished tasks (nothing to fail), with
    /// `what` saying what it aimed at.
    fn note_if_finished(&mut self, index: u32, tasks: &[u32], what: impl FnOnce() -> String) {
        if !tasks.is_empty() && tasks.iter().all(|&t| self.tasks[t as usize].finished) {
            let now = self.queue.now();
            self.recovery
                .hit_finished
                .push((index as usize, now, what()));
        }
    }

    /// A fault on the network or on a machine begins: it lasts its `duration`, whatever
    /// happens to the job meanwhile.
    fn start_lasting_fault(&mut self, index: u32) {
        let now = self.queue.now();
        let Some(end) = faults::lasting_end(&self.faults[index as usize], now) else {
            return;
        };
        self.recovery.active[index as usize] = Some(end);
        if let FaultKind::NetworkPartition { between, .. } = self.faults[index as usize].kind {
            heartbeat::cut_off(between.1, now, end, &self.cost, &mut self.queue);
        }
        let all_tasks = vec![true; self.tasks.len()];
        let all_channels = vec![true; self.channels.len()];
        self.apply_lasting_fault(index, &all_tasks, &all_channels);
        self.queue
            .schedule(end, crate::sim::queue::Event::FaultEnd { index });
    }

    /// Applies active fault `index` to the tasks and channels marked.
    fn apply_lasting_fault(&mut self, index: u32, tasks: &[bool], channels: &[bool]) {
        let Some(end) = self.recovery.active[index as usize] else {
            return;
        };
        let mut w = Targets {
            tasks: &mut self.tasks,
            channels: &mut self.channels,
            scenario_node: &self.scenario_node,
        };
        faults::apply_lasting(&self.faults[index as usize], end, &mut w, (tasks, channels));
    }

    /// Tasks and channels were rebuilt (a restart, a resubmission): the faults on the
    /// network and on machines that are still active apply to them again.
    pub(in crate::sim) fn reapply_lasting_faults(&mut self, tasks: &[bool], channels: &[bool]) {
        for i in 0..self.faults.len() as u32 {
            self.apply_lasting_fault(i, tasks, channels);
        }
    }

    /// Fault `index` strikes while no job runs (the rescale's downtime). A lost TaskManager
    /// delays the resubmission until its replacement is there; faults on the network and on
    /// machines last and meet the resubmitted job; a killed subtask or a JobManager failover
    /// finds nothing to fail.
    fn fault_in_downtime(&mut self, index: u32, cause: String) {
        let now = self.queue.now();
        let what = match self.faults[index as usize].kind {
            FaultKind::KillTaskManager {
                tm,
                replacement_delay,
            } => {
                self.recovery.tm_back[tm as usize] = now.plus(replacement_delay);
                self.sp.downtime_failures.push(self.recovery.failures.len());
                "the resubmitted job waits for its replacement"
            }
            FaultKind::KillSubtask { .. } | FaultKind::JobManager { .. } => {
                "no job was running: nothing failed"
            }
            FaultKind::Straggler { .. }
            | FaultKind::NetworkDelay { .. }
            | FaultKind::NetworkPartition { .. } => {
                self.start_lasting_fault(index);
                "it lasts into the resubmitted job"
            }
            FaultKind::StorageFailure { duration } => {
                if let Some(c) = self.coord.as_mut() {
                    c.storage_down_until = now.plus(duration);
                }
                "it lasts into the resubmitted job"
            }
        };
        self.recovery.record_failure(
            now,
            format!("{cause} during the rescale downtime ({what})"),
            0,
        );
    }

    /// A temporary fault ends.
    pub(in crate::sim) fn on_fault_end(&mut self, index: u32) {
        self.recovery.active[index as usize] = None;
        let mut w = Targets {
            tasks: &mut self.tasks,
            channels: &mut self.channels,
            scenario_node: &self.scenario_node,
        };
        faults::end_lasting(&self.faults[index as usize], &mut w);
    }

    /// The heartbeat timeout of `tm` expired: it is lost; its tasks fail over. It can take
    /// tasks again once the partition heals.
    pub(in crate::sim) fn on_heartbeat_timeout(&mut self, tm: u32, heal: SimTime) {
        if self.failure.is_some() || self.sp.down() {
            return;
        }
        let back = &mut self.recovery.tm_back[tm as usize];
        *back = (*back).max(heal);
        let tasks = faults::tasks_on(&self.tasks, tm);
        let cause = format!("Heartbeat of TaskManager with id {tm} timed out.");
        if let Some(tr) = self.trace.as_mut() {
            tr.event(
                self.queue.now(),
                "heartbeat_timeout",
                vec![("task_manager", json!(tm))],
            );
        }
        self.fail_tasks(&tasks, cause, false);
    }

    /// Tasks `failed` failed because of `cause`; `global` fails the whole job (a global
    /// failover). Cancels the failover region and asks the restart strategy what to do.
    pub(in crate::sim) fn fail_tasks(&mut self, failed: &[u32], cause: String, global: bool) {
        let now = self.queue.now();
        let live: Vec<u32> = failed
            .iter()
            .copied()
            .filter(|&t| {
                let task = &self.tasks[t as usize];
                global || (!task.finished && !task.cancelled)
            })
            .collect();
        if live.is_empty() {
            // Finished tasks cannot fail; tasks already cancelled for a pending restart
            // cannot fail again (Flink's `Execution.processFail` ignores a failure of a
            // CANCELING or CANCELED execution: the restart strategy is not asked). What a
            // lost TaskManager takes with it still matters: the pending restart needs new
            // slots and waits for the replacement.
            self.fail_while_restarting(failed, cause);
            return;
        }
        let full = global || self.failover == Failover::Full;
        let cancel = self.recovery.to_cancel(&live, full, self.tasks.len());
        self.abort_all_checkpoints("a task failed (failover)");
        self.cancel_tasks(&cancel);
        let row = self
            .recovery
            .record_failure(now, cause.clone(), cancel.len() as u32);
        match self.recovery.backoff.on_failure(now) {
            Err(msg) => {
                self.set_status(JobStatus::Failing);
                self.set_status(JobStatus::Failed);
                self.failure = Some(format!("{msg} (after: {cause})"));
            }
            Ok(delay) => {
                if full {
                    self.set_status(JobStatus::Restarting);
                    if let Some(c) = self.coord.as_mut() {
                        c.suspended = true;
                    }
                }
                self.recovery.wait(&cancel, row);
                // Lost TaskManagers must be replaced before their tasks can be deployed.
                let resources = self.resources_for_waiting();
                let at = now.plus(delay).max(resources);
                self.recovery.plan(at, &mut self.queue);
            }
        }
    }

    /// When the TaskManagers of the tasks waiting for the restart are available.
    fn resources_for_waiting(&self) -> SimTime {
        self.recovery.resources(|t| self.tasks[t as usize].tm)
    }

    /// `failed` tasks failed because of `cause` while none of them was running. If some are
    /// waiting for a restart, the failure is reported with them and the restart re-planned
    /// for the resources it needs now.
    fn fail_while_restarting(&mut self, failed: &[u32], cause: String) {
        let now = self.queue.now();
        let hit = self.recovery.waiting_among(failed);
        let Some(planned) = self.recovery.pending_at().filter(|_| hit > 0) else {
            return;
        };
        let at = planned.max(self.resources_for_waiting());
        let what = if at > planned {
            format!("the restart planned for {planned} now waits for new slots until {at}")
        } else {
            "it changes nothing".to_string()
        };
        let row = self.recovery.record_failure(
            now,
            format!(
                "{cause} while the job was restarting (its tasks were already cancelled, so the restart strategy does not count it; {what})"
            ),
            hit as u32,
        );
        self.recovery.answers(row);
        if let Some(tr) = self.trace.as_mut() {
            tr.event(
                now,
                "restart_replanned",
                vec![
                    ("at_ns", json!(at.as_nanos())),
                    ("was_ns", json!(planned.as_nanos())),
                ],
            );
        }
        if at > planned {
            self.recovery.plan(at, &mut self.queue);
        }
    }

    /// Cancels tasks: their pending events are dropped, their cores freed, their channels
    /// emptied; they wait for a restart.
    fn cancel_tasks(&mut self, cancel: &[u32]) {
        let mut is_cancelled = vec![false; self.tasks.len()];
        for &t in cancel {
            is_cancelled[t as usize] = true;
        }
        let chan_cancelled: Vec<bool> = self
            .channels
            .iter()
            .map(|c| is_cancelled[c.from_task as usize] || is_cancelled[c.to_task as usize])
            .collect();
        self.queue.discard(|e| {
            e.task().is_some_and(|t| is_cancelled[t as usize])
                || e.channel().is_some_and(|c| chan_cancelled[c as usize])
        });
        for &t in cancel {
            let task = &mut self.tasks[t as usize];
            let tm = task.tm as usize;
            match task.sched {
                Sched::Running => self.tms[tm].free += 1,
                Sched::Queued(_) => self.tms[tm].ready.retain(|&x| x != t),
                Sched::Idle => {}
            }
            task.sched = Sched::Idle;
            if task.finished {
                self.finished -= 1;
                task.finished = false;
            }
            task.cancelled = true;
        }
    }

    /// Redeploys the waiting tasks and restores them from the latest completed checkpoint.
    pub(in crate::sim) fn on_restart(&mut self, generation: u32, s: &Scenario, p: &Plan) {
        if !self.recovery.is_current(generation) || self.failure.is_some() {
            return;
        }
        let now = self.queue.now();
        let (tasks, rows) = self.recovery.take_waiting();
        let fresh = build::build(s, p, self.seed, &mut self.interner, self.annotate);
        if std::mem::take(&mut self.recovery.from_scratch)
            && let Some(c) = self.coord.as_mut()
        {
            // A new job: the old job's checkpoints are not its own.
            c.forget_completed();
        }
        let restored = self.coord.as_ref().and_then(|c| c.latest());
        let restored_id = restored.map(|c| c.id);
        // Where each restarted source had read to, for the trace's `restore` lines.
        let reached: Vec<Vec<SplitOffset>> = if self.trace.is_some() {
            tasks
                .iter()
                .map(|&ti| self.tasks[ti as usize].source_offsets())
                .collect()
        } else {
            Vec::new()
        };
        let recovery::Restored {
            in_set,
            rebuilt,
            commits,
            timed_out,
        } = recovery::restore(
            &mut self.tasks,
            &mut self.channels,
            fresh,
            &tasks,
            restored,
            now,
        );
        self.reapply_lasting_faults(&in_set, &rebuilt);
        self.tap_sinks();
        self.tag_followed();
        for &ti in &tasks {
            memory::apply_to_chain(&mut self.tasks[ti as usize].chain, s.limits.max_memory);
        }
        if let Some(o) = self.observer.as_mut() {
            o.restored(now, &tasks, restored_id, &self.tasks, &rebuilt);
        }
        self.replay_channel_state(&tasks);
        self.recovery.restored(&rows, now, restored_id);
        if let Some(tr) = self.trace.as_mut() {
            tr.event(
                now,
                "restart",
                vec![
                    ("tasks", json!(tasks.len())),
                    ("checkpoint", json!(restored_id)),
                ],
            );
            for &(ti, cid, records) in &commits {
                tr.event(
                    now,
                    "commit",
                    vec![
                        ("task", json!(self.tasks[ti as usize].label)),
                        ("checkpoint", json!(cid)),
                        ("records", json!(records)),
                        (
                            "transactions",
                            json!([{"checkpoint": cid, "records": records}]),
                        ),
                        ("on_restore", json!(true)),
                    ],
                );
            }
            for (ti, x) in &timed_out {
                crate::sim::checkpoint::trace_timed_out(
                    tr,
                    &self.tasks[*ti as usize].label,
                    x,
                    true,
                );
            }
        }
        self.trace_source_restores(now, restored_id, &tasks, &reached);
        if let Some(c) = self.coord.as_mut() {
            c.suspended = false;
        }
        self.set_status(JobStatus::Running);
        for ti in tasks {
            self.try_schedule(ti);
        }
    }

    /// Writes a `restore` line per restarted source subtask of `tasks`: from which
    /// checkpoint (or savepoint) it restored, and per split the offset it resumes at and the
    /// one it had `reached` before (the records between are replayed). A task missing from
    /// `reached` had read exactly to its restored offset.
    pub(in crate::sim) fn trace_source_restores(
        &mut self,
        now: SimTime,
        checkpoint: Option<u64>,
        tasks: &[u32],
        reached: &[Vec<SplitOffset>],
    ) {
        let Some(tr) = self.trace.as_mut() else {
            return;
        };
        for (i, &ti) in tasks.iter().enumerate() {
            let task = &self.tasks[ti as usize];
            if task.source.is_none() {
                continue;
            }
            let before = reached.get(i).map_or(&[][..], Vec::as_slice);
            let splits: Vec<_> = task
                .source_offsets()
                .into_iter()
                .map(|o| {
                    let r = before
                        .iter()
                        .find(|r| r.split == o.split)
                        .map_or(o.offset, |r| r.offset);
                    json!({"split": o.split, "offset": o.offset, "reached": r})
                })
                .collect();
            tr.event(
                now,
                "restore",
                vec![
                    ("task", json!(task.label)),
                    ("checkpoint", json!(checkpoint)),
                    ("splits", json!(splits)),
                ],
            );
        }
    }
}

/// Why a JobManager failure without HA loses the job, in Flink's terms for the mode.
fn lost_because(spec: &DeploymentSpec) -> String {
    match (spec.mode, spec.platform) {
        (Mode::Session, _) => "without high availability the session cluster's Dispatcher keeps no job graphs: every job it ran is lost (status FAILED) and must be submitted again".into(),
        (_, Platform::Yarn) => format!(
            "without high availability YARN makes one attempt of the {} cluster (yarn.application-attempts = 1): the cluster and its job are lost",
            spec.mode.name()
        ),
        _ => format!(
            "without high availability nothing restarts the JobManager of this {} cluster on {}: the job is lost",
            spec.mode.name(),
            spec.platform.name()
        ),
    }
}
