//! Failures and recovery: the job's life cycle, restart strategies, failover regions, and
//! restoring tasks from the latest completed checkpoint.
//!
//! A failure cancels the tasks of its **failover region** — with the region strategy the
//! pipelined region of the failed task (tasks connected by channels; a job with a keyBy or
//! rebalance is one region, a forward-only job has one region per subtask index), with the
//! full strategy the whole job. The restart strategy decides whether and when they restart
//! (Flink's `RestartBackoffTimeStrategy`s, with their exact algorithms and messages). A
//! restart redeploys the region's tasks fresh and restores each from its snapshot in the
//! latest completed checkpoint: operator state, keyed state, timers and source offsets, so
//! the sources replay from their checkpointed offsets. Sinks keep what they already made
//! visible — that left the job. Without a completed checkpoint the region starts over.
//!
//! With the region strategy the job stays RUNNING while a region restarts (as in Flink); a
//! global failover (full strategy, a JobManager failover, too many failed checkpoints) goes
//! through RESTARTING.

use super::Simulation;
use super::queue::Event;
use crate::core::time::{SimDuration, SimTime};
use crate::flink::restart::{Backoff, JobStatus};
use crate::ops::Operator;
use crate::report::{FailureReport, JobTransition};
use crate::scenario::{Failover, FaultKind, FaultTime, Scenario};
use serde_json::json;

/// Recovery bookkeeping of a run.
#[derive(Debug)]
pub struct Recovery {
    /// The job's status.
    pub status: JobStatus,
    /// Its changes.
    pub transitions: Vec<JobTransition>,
    /// Failures, for the report.
    pub failures: Vec<FailureReport>,
    /// The restart strategy.
    pub backoff: Backoff,
    /// Region (connected component) of every task.
    pub region: Vec<u32>,
    /// Tasks waiting for the pending restart, and the failure rows it answers.
    waiting: Vec<u32>,
    waiting_failures: Vec<usize>,
    /// The restart generation (stale restart events are ignored).
    generation: u32,
    /// When the pending restart is planned.
    pending_at: Option<SimTime>,
    /// Temporary faults on the network or on machines that are active, by fault index, with
    /// their end: they outlive a restart (the rebuilt channels and tasks get them again).
    pub active: Vec<Option<SimTime>>,
    /// TaskManagers lost and when their replacement is available.
    pub tm_back: Vec<SimTime>,
    /// Scripted faults that struck.
    pub struck: Vec<bool>,
    /// Scripted faults that struck when every task they aim at had already finished (Flink
    /// does not fail a finished task), with when they struck and what they aimed at.
    pub hit_finished: Vec<(usize, SimTime, String)>,
}

impl Recovery {
    /// A job about to run.
    pub fn new(s: &Scenario, region: Vec<u32>, seed: u64) -> Self {
        let rng = crate::core::rng::SeedTree::new(seed).stream("restart/jitter");
        Recovery {
            status: JobStatus::Created,
            transitions: Vec::new(),
            failures: Vec::new(),
            backoff: Backoff::new(s.fault_tolerance.restart.strategy.clone(), rng),
            region,
            waiting: Vec::new(),
            waiting_failures: Vec::new(),
            generation: 0,
            pending_at: None,
            active: vec![None; s.fault_tolerance.faults.len()],
            tm_back: vec![SimTime::ZERO; s.cluster.task_managers as usize],
            struck: vec![false; s.fault_tolerance.faults.len()],
            hit_finished: Vec::new(),
        }
    }
}

/// The subtask a "subtask X#n killed" description names (the description itself otherwise).
fn cause_target(cause: &str) -> &str {
    cause
        .strip_prefix("subtask ")
        .and_then(|c| c.strip_suffix(" killed"))
        .unwrap_or(cause)
}

/// Connected components of the tasks over their channels: Flink's pipelined regions for a
/// streaming job (every exchange is pipelined).
pub fn regions(n_tasks: usize, channels: &[super::channel::Channel]) -> Vec<u32> {
    let mut uf = petgraph::unionfind::UnionFind::<usize>::new(n_tasks);
    for c in channels {
        uf.union(c.from_task as usize, c.to_task as usize);
    }
    let labels = uf.into_labeling();
    // Number regions by first appearance so they are stable.
    let mut ids: Vec<Option<u32>> = vec![None; n_tasks];
    let mut next = 0;
    labels
        .iter()
        .map(|&l| {
            *ids[l].get_or_insert_with(|| {
                next += 1;
                next - 1
            })
        })
        .collect()
}

impl Simulation<'_> {
    /// Moves the job to `to` (if the state machine allows it) and records it.
    pub(super) fn set_status(&mut self, to: JobStatus) {
        let now = self.queue.now();
        let r = &mut self.recovery;
        if r.status == to || !r.status.can_go_to(to) {
            return;
        }
        r.status = to;
        r.transitions.push(JobTransition {
            at_ms: now.as_secs_f64() * 1e3,
            status: to.name().into(),
            note: None,
        });
        if let Some(tr) = self.trace.as_mut() {
            tr.event(now, "job_status", vec![("status", json!(to.name()))]);
        }
    }

    /// Schedules the scripted faults that have a time.
    pub(super) fn schedule_faults(&mut self, s: &Scenario) {
        for (i, f) in s.fault_tolerance.faults.iter().enumerate() {
            if let FaultTime::At(t) = f.at {
                self.queue.schedule(t, Event::Fault { index: i as u32 });
            }
        }
    }

    /// A checkpoint reached `phase`: faults tied to it strike now.
    pub(super) fn phase_reached(&mut self, phase: crate::scenario::CheckpointPhase, id: u64) {
        let now = self.queue.now();
        for i in 0..self.faults.len() {
            if self.faults[i].at == FaultTime::After(phase, id) && !self.recovery.struck[i] {
                self.queue.schedule(now, Event::Fault { index: i as u32 });
            }
        }
    }

    /// A scripted fault strikes.
    pub(super) fn on_fault(&mut self, index: u32) {
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
                let tasks = self.tasks_of_node(node, Some(subtask));
                self.note_if_finished(index, &tasks, || {
                    format!("subtask {} had already finished", cause_target(&cause))
                });
                self.fail_tasks(&tasks, cause, false);
            }
            FaultKind::KillTaskManager {
                tm,
                replacement_delay,
            } => {
                self.recovery.tm_back[tm as usize] = now.plus(replacement_delay);
                let tasks: Vec<u32> = (0..self.tasks.len() as u32)
                    .filter(|&t| self.tasks[t as usize].tm == tm)
                    .collect();
                self.note_if_finished(index, &tasks, || {
                    format!("every task on TaskManager {tm} had already finished")
                });
                self.fail_tasks(&tasks, cause, false);
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
        let end = match self.faults[index as usize].kind {
            FaultKind::Straggler { duration, .. }
            | FaultKind::NetworkDelay { duration, .. }
            | FaultKind::NetworkPartition { duration, .. } => now.plus(duration),
            _ => return,
        };
        self.recovery.active[index as usize] = Some(end);
        if let FaultKind::NetworkPartition { between, .. } = self.faults[index as usize].kind {
            self.partition_heartbeats(between.1, end);
        }
        let all_tasks = vec![true; self.tasks.len()];
        let all_channels = vec![true; self.channels.len()];
        self.apply_lasting_fault(index, &all_tasks, &all_channels);
        self.queue.schedule(end, Event::FaultEnd { index });
    }

    /// Applies active fault `index` to the tasks and channels marked.
    fn apply_lasting_fault(&mut self, index: u32, tasks: &[bool], channels: &[bool]) {
        let Some(end) = self.recovery.active[index as usize] else {
            return;
        };
        match self.faults[index as usize].kind {
            FaultKind::Straggler {
                node,
                subtask,
                factor,
                ..
            } => {
                for t in self.tasks_of_node(node, Some(subtask)) {
                    if tasks[t as usize] {
                        self.tasks[t as usize].slowdown = factor;
                    }
                }
            }
            FaultKind::NetworkDelay { between, extra, .. } => {
                for c in self.channels_between(between) {
                    if channels[c as usize] {
                        let ch = &mut self.channels[c as usize];
                        ch.latency = ch.latency.plus(extra);
                    }
                }
            }
            FaultKind::NetworkPartition { between, .. } => {
                for c in self.channels_between(between) {
                    if channels[c as usize] {
                        let ch = &mut self.channels[c as usize];
                        ch.held_until = ch.held_until.max(end);
                    }
                }
            }
            _ => {}
        }
    }

    /// Tasks and channels were rebuilt (a restart, a resubmission): the faults on the
    /// network and on machines that are still active apply to them again.
    pub(super) fn reapply_lasting_faults(&mut self, tasks: &[bool], channels: &[bool]) {
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
        self.recovery.failures.push(FailureReport {
            at_ms: now.as_secs_f64() * 1e3,
            cause: format!("{cause} during the rescale downtime ({what})"),
            tasks_restarted: 0,
            downtime_ms: None,
            restored_checkpoint: None,
        });
    }

    /// A temporary fault ends.
    pub(super) fn on_fault_end(&mut self, index: u32) {
        self.recovery.active[index as usize] = None;
        let fault = self.faults[index as usize].clone();
        match fault.kind {
            FaultKind::Straggler { node, subtask, .. } => {
                for t in self.tasks_of_node(node, Some(subtask)) {
                    self.tasks[t as usize].slowdown = 1.0;
                }
            }
            FaultKind::NetworkDelay { between, extra, .. } => {
                for c in self.channels_between(between) {
                    let ch = &mut self.channels[c as usize];
                    ch.latency = SimDuration(ch.latency.0.saturating_sub(extra.0));
                }
            }
            _ => {}
        }
    }

    fn tasks_of_node(&self, node: usize, subtask: Option<u32>) -> Vec<u32> {
        (0..self.tasks.len() as u32)
            .filter(|&t| {
                let task = &self.tasks[t as usize];
                task.chain
                    .ops
                    .iter()
                    .any(|o| self.scenario_node[o.node] == node)
                    && subtask.is_none_or(|s| task.subtask == s)
            })
            .collect()
    }

    fn channels_between(&self, (a, b): (u32, u32)) -> Vec<u32> {
        (0..self.channels.len() as u32)
            .filter(|&c| {
                let ch = &self.channels[c as usize];
                let x = self.tasks[ch.from_task as usize].tm;
                let y = self.tasks[ch.to_task as usize].tm;
                (x.min(y), x.max(y)) == (a, b)
            })
            .collect()
    }

    /// Tasks `failed` failed because of `cause`; `global` fails the whole job (a global
    /// failover). Cancels the failover region and asks the restart strategy what to do.
    pub(super) fn fail_tasks(&mut self, failed: &[u32], cause: String, global: bool) {
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
        let cancel: Vec<u32> = if full {
            (0..self.tasks.len() as u32).collect()
        } else {
            let regions: Vec<u32> = live
                .iter()
                .map(|&t| self.recovery.region[t as usize])
                .collect();
            (0..self.tasks.len() as u32)
                .filter(|&t| regions.contains(&self.recovery.region[t as usize]))
                .collect()
        };
        self.abort_all_checkpoints("a task failed (failover)");
        self.cancel_tasks(&cancel);
        self.recovery.failures.push(FailureReport {
            at_ms: now.as_secs_f64() * 1e3,
            cause: cause.clone(),
            tasks_restarted: cancel.len() as u32,
            downtime_ms: None,
            restored_checkpoint: None,
        });
        let row = self.recovery.failures.len() - 1;
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
                for t in cancel {
                    if !self.recovery.waiting.contains(&t) {
                        self.recovery.waiting.push(t);
                    }
                }
                self.recovery.waiting_failures.push(row);
                // Lost TaskManagers must be replaced before their tasks can be deployed.
                let resources = self.resources_for_waiting();
                let at = now.plus(delay).max(resources);
                self.plan_restart(at);
            }
        }
    }

    /// (Re)plans the pending restart for `at`; an earlier plan goes stale.
    fn plan_restart(&mut self, at: SimTime) {
        self.recovery.generation += 1;
        self.recovery.pending_at = Some(at);
        let generation = self.recovery.generation;
        self.queue.schedule(at, Event::Restart { generation });
    }

    /// When the TaskManagers of the tasks waiting for the restart are available.
    fn resources_for_waiting(&self) -> SimTime {
        self.recovery
            .waiting
            .iter()
            .map(|&t| self.recovery.tm_back[self.tasks[t as usize].tm as usize])
            .max()
            .unwrap_or(SimTime::ZERO)
    }

    /// `failed` tasks failed because of `cause` while none of them was running. If some are
    /// waiting for a restart, the failure is reported with them and the restart re-planned
    /// for the resources it needs now.
    fn fail_while_restarting(&mut self, failed: &[u32], cause: String) {
        let now = self.queue.now();
        let hit = failed
            .iter()
            .filter(|t| self.recovery.waiting.contains(t))
            .count();
        let Some(planned) = self.recovery.pending_at.filter(|_| hit > 0) else {
            return;
        };
        let at = planned.max(self.resources_for_waiting());
        let what = if at > planned {
            format!("the restart planned for {planned} now waits for new slots until {at}")
        } else {
            "it changes nothing".to_string()
        };
        self.recovery.failures.push(FailureReport {
            at_ms: now.as_secs_f64() * 1e3,
            cause: format!(
                "{cause} while the job was restarting (its tasks were already cancelled, so the restart strategy does not count it; {what})"
            ),
            tasks_restarted: hit as u32,
            downtime_ms: None,
            restored_checkpoint: None,
        });
        let row = self.recovery.failures.len() - 1;
        self.recovery.waiting_failures.push(row);
        if let Some(tr) = self.trace.as_mut() {
            tr.event(
                now,
                "restart_replanned",
                vec![("at_ns", json!(at.0)), ("was_ns", json!(planned.0))],
            );
        }
        if at > planned {
            self.plan_restart(at);
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
                super::task::Sched::Running => self.tms[tm].free += 1,
                super::task::Sched::Queued(_) => self.tms[tm].ready.retain(|&x| x != t),
                super::task::Sched::Idle => {}
            }
            task.sched = super::task::Sched::Idle;
            if task.finished {
                self.finished -= 1;
                task.finished = false;
            }
            task.cancelled = true;
        }
    }

    /// Redeploys the waiting tasks and restores them from the latest completed checkpoint.
    pub(super) fn on_restart(&mut self, generation: u32, s: &Scenario, p: &crate::plan::Plan) {
        if generation != self.recovery.generation || self.failure.is_some() {
            return;
        }
        let now = self.queue.now();
        let tasks = std::mem::take(&mut self.recovery.waiting);
        let rows = std::mem::take(&mut self.recovery.waiting_failures);
        self.recovery.pending_at = None;
        let fresh = super::build::build(s, p, self.seed, &mut self.interner, self.annotate);
        let mut fresh_tasks: Vec<Option<super::task::Task>> =
            fresh.tasks.into_iter().map(Some).collect();
        let mut fresh_channels: Vec<Option<super::channel::Channel>> =
            fresh.channels.into_iter().map(Some).collect();
        let restored = self.coord.as_ref().and_then(|c| c.latest());
        let restored_id = restored.map(|c| c.id);
        let mut in_set = vec![false; self.tasks.len()];
        for &t in &tasks {
            in_set[t as usize] = true;
        }
        for &ti in &tasks {
            let mut task = fresh_tasks[ti as usize].take().expect("one per task");
            if let Some(snap) = restored.and_then(|c| c.snapshots[ti as usize].as_ref()) {
                task.chain = snap.chain.clone();
                if let (Some(src), Some(saved)) = (task.source.as_mut(), snap.source.as_ref()) {
                    // Offsets and generator come back; the watermark generator starts anew
                    // (Flink does not checkpoint it).
                    let wm = src.watermarks.clone();
                    *src = saved.clone();
                    src.watermarks = wm;
                    src.paused = false;
                }
                // Operators' watermarks start from the beginning after a restore.
                for slot in &mut task.chain.ops {
                    slot.watermark = crate::core::time::EVENT_TIME_MIN;
                }
            }
            let old = std::mem::replace(&mut self.tasks[ti as usize], task);
            let task = &mut self.tasks[ti as usize];
            // What the sinks made visible stays; counters and time accounting continue.
            for (slot, old_slot) in task.chain.ops.iter_mut().zip(old.chain.ops) {
                slot.records_in = old_slot.records_in;
                slot.records_out = old_slot.records_out;
                if let (Operator::Sink(new), Operator::Sink(live)) = (&mut slot.op, old_slot.op) {
                    new.carry_visible(live, restored_id, now);
                }
            }
            task.time = old.time;
            task.stats = old.stats;
            task.watermark_trail = old.watermark_trail;
        }
        let mut rebuilt = vec![false; self.channels.len()];
        for ((ch, fresh), re) in self
            .channels
            .iter_mut()
            .zip(&mut fresh_channels)
            .zip(&mut rebuilt)
        {
            if in_set[ch.from_task as usize] || in_set[ch.to_task as usize] {
                let mut new = fresh.take().expect("one per channel");
                new.buffers_sent += ch.buffers_sent;
                new.bytes_sent += ch.bytes_sent;
                *ch = new;
                *re = true;
            }
        }
        self.reapply_lasting_faults(&in_set, &rebuilt);
        for &ti in &tasks {
            super::memory::apply_to_chain(&mut self.tasks[ti as usize].chain, s.limits.max_memory);
        }
        self.replay_channel_state(&tasks);
        for &row in &rows {
            let f = &mut self.recovery.failures[row];
            f.downtime_ms = Some(now.as_secs_f64() * 1e3 - f.at_ms);
            f.restored_checkpoint = restored_id;
        }
        if let Some(tr) = self.trace.as_mut() {
            tr.event(
                now,
                "restart",
                vec![
                    ("tasks", json!(tasks.len())),
                    ("checkpoint", json!(restored_id)),
                ],
            );
        }
        if let Some(c) = self.coord.as_mut() {
            c.suspended = false;
        }
        self.set_status(JobStatus::Running);
        for ti in tasks {
            self.try_schedule(ti);
        }
    }
}
