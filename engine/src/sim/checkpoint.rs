//! The checkpoint coordinator (Flink's `CheckpointCoordinator`) and task snapshots.
//!
//! Every `interval` the coordinator triggers checkpoint n — the first one after a random delay
//! between `min_pause` and `interval`, as Flink does — unless `max_concurrent` checkpoints are
//! pending or the `min_pause` since the last completion has not passed (then it triggers as
//! soon as it may). Triggering asks every source task to inject barrier n; each task snapshots
//! when the barrier has passed it (see [`crate::flink::barrier`]), pre-commits its two-phase-commit
//! sinks, and acknowledges once the asynchronous part — writing the state to the checkpoint
//! storage, `storage_latency` plus size over `storage_bandwidth` — is done. A task that
//! finishes acknowledges with its final state. When every task has acknowledged, the
//! checkpoint completes and the sinks commit. A checkpoint that does not complete within
//! `timeout` expires; more than `tolerable_failures` failed checkpoints in a row fail the job.
//!
//! The [`Coordinator`] is the subsystem's state; its methods take the pieces of the world they
//! need (the tasks, the event queue, the trace) and say what follows for the rest of the
//! simulator (a phase reached, a checkpoint complete, older ones subsumed), which the kernel
//! carries out. The rules themselves are Flink's, in [`crate::flink::checkpoint`].

use super::channel_state::ChannelState;
use super::queue::{Event, EventQueue};
use super::savepoint::Kind as SavepointKind;
use super::source::SourceState;
use super::task::Task;
use super::trace::Trace;
use crate::core::time::{SimDuration, SimTime};
use crate::flink::checkpoint::{self as rules, BarrierKind, FailureCounter};
use crate::ops::Operator;
use crate::ops::chain::Chain;
use crate::ops::sink::Commits;
use crate::ops::sink_txn::TimedOut;
use crate::ops::state::OperatorState;
use crate::report::CheckpointReport;
use crate::scenario::{CheckpointConfig, CheckpointMode};
use serde_json::json;

/// Bytes per second a task copies its state at in the synchronous part of a snapshot.
const SYNC_COPY_BYTES_PER_S: f64 = crate::core::defaults::checkpointing::SYNC_COPY_BYTES_PER_S;

/// The state of one task in a checkpoint.
#[derive(Debug, Clone)]
pub struct TaskSnapshot {
    /// Its operators' state.
    pub chain: Chain,
    /// The source's offsets (and generator state).
    pub source: Option<SourceState>,
    /// State size in bytes (channel state included).
    pub bytes: u64,
    /// In-flight data of an unaligned checkpoint, replayed on restore before new data.
    pub channel_state: ChannelState,
}

/// A checkpoint in progress.
#[derive(Debug)]
struct Pending {
    id: u64,
    /// Per task: an acknowledgement is still expected.
    waiting: Vec<bool>,
    left: usize,
    /// Per task: the snapshot taken (acknowledged or not).
    snapshots: Vec<Option<TaskSnapshot>>,
    /// Tasks that still have to take their snapshot (for the pre-commit phase).
    to_snapshot: usize,
    /// The longest alignment, synchronous and asynchronous snapshot part over its tasks (what
    /// Flink's checkpoint statistics show per checkpoint).
    align: SimDuration,
    sync: SimDuration,
    async_part: SimDuration,
    bytes: u64,
    /// Index in the history.
    row: usize,
    /// How its barriers travel.
    kind: BarrierKind,
    /// When its aligned barriers switch to unaligned (`aligned_timeout` after the trigger).
    deadline: Option<SimTime>,
    /// Per task: acknowledgements still expected besides the snapshot's own (uploads of
    /// channel state).
    extra_acks: Vec<u32>,
    /// Bytes of in-flight data persisted.
    channel_bytes: u64,
    /// Some barrier switched from aligned to unaligned.
    switched: bool,
    /// A savepoint (see [`super::savepoint`]), or `None` for a periodic checkpoint.
    savepoint: Option<SavepointKind>,
}

/// A completed checkpoint, ready to restore.
#[derive(Debug)]
pub struct Completed {
    /// Checkpoint id.
    pub id: u64,
    /// Per task its state (`None`: the task finished before and keeps nothing).
    pub snapshots: Vec<Option<TaskSnapshot>>,
}

/// The coordinator.
#[derive(Debug)]
pub struct Coordinator {
    cfg: CheckpointConfig,
    next_id: u64,
    pending: Vec<Pending>,
    /// Retained completed checkpoints, newest last.
    pub completed: Vec<Completed>,
    last_completion: Option<SimTime>,
    /// A periodic trigger found the coordinator busy: trigger as soon as allowed.
    postponed: bool,
    failures: FailureCounter,
    /// Every checkpoint, for the report.
    pub history: Vec<CheckpointReport>,
    /// Checkpoint storage writes fail until this time.
    pub storage_down_until: SimTime,
    /// Coordinator paused (job restarting, or the job's end).
    pub suspended: bool,
    /// Periodic checkpoints are on (off: a coordinator only for savepoints).
    pub periodic: bool,
    /// Completed savepoints, newest last (never used for failover: Flink keeps them out of
    /// the completed-checkpoint store).
    pub savepoints: Vec<Completed>,
}

/// What the acknowledgement of a task's snapshot part does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    /// The checkpoint storage is down: the checkpoint fails.
    StorageDown,
    /// Another part of the task's snapshot (its channel state) is still uploading.
    Partial,
    /// The task's acknowledgement counts.
    Counts,
}

/// A checkpoint that just completed.
#[derive(Debug)]
pub struct Completion {
    /// Older pending checkpoints it subsumes (to abort).
    pub older: Vec<u64>,
    /// It was a savepoint.
    pub savepoint: Option<SavepointKind>,
    /// A periodic trigger was postponed meanwhile.
    postponed: bool,
}

impl Coordinator {
    /// A coordinator that has triggered nothing yet.
    pub fn new(cfg: CheckpointConfig) -> Self {
        Coordinator {
            cfg,
            next_id: 1,
            pending: Vec::new(),
            completed: Vec::new(),
            last_completion: None,
            postponed: false,
            failures: FailureCounter::default(),
            history: Vec::new(),
            storage_down_until: SimTime::ZERO,
            suspended: false,
            periodic: true,
            savepoints: Vec::new(),
        }
    }

    /// Sets the next checkpoint id (after a restore from savepoint `id`: `id + 1`, Flink's
    /// `checkpointIdCounter.setCount(savepointId + 1)`).
    pub fn set_next_id(&mut self, id: u64) {
        self.next_id = id;
    }

    /// Drops pending state for a new job: nothing pending, no pause, no failures counted.
    pub fn reset_for_new_job(&mut self) {
        self.pending.clear();
        self.last_completion = None;
        self.postponed = false;
        self.failures = FailureCounter::default();
        self.suspended = false;
    }

    /// State bytes held in snapshots: pending, retained and savepoints.
    pub fn snapshot_bytes(&self) -> u64 {
        let sum = |v: &[Option<TaskSnapshot>]| v.iter().flatten().map(|s| s.bytes).sum::<u64>();
        self.pending.iter().map(|p| sum(&p.snapshots)).sum::<u64>()
            + self
                .completed
                .iter()
                .chain(&self.savepoints)
                .map(|c| sum(&c.snapshots))
                .sum::<u64>()
    }

    /// The configuration.
    pub fn config(&self) -> &CheckpointConfig {
        &self.cfg
    }

    /// Forgets the completed checkpoints: a new job (its `main` ran again) has none.
    pub fn forget_completed(&mut self) {
        self.completed.clear();
    }

    /// The latest completed checkpoint.
    pub fn latest(&self) -> Option<&Completed> {
        self.completed.last()
    }

    /// The ids of the pending checkpoints.
    pub fn pending_ids(&self) -> Vec<u64> {
        self.pending.iter().map(|p| p.id).collect()
    }

    fn pending_mut(&mut self, id: u64) -> Option<&mut Pending> {
        self.pending.iter_mut().find(|p| p.id == id)
    }

    /// How the barriers of a checkpoint (`savepoint`: of a savepoint) travel.
    fn barrier_kind(&self, savepoint: bool) -> BarrierKind {
        rules::barrier_kind(
            self.cfg.mode == CheckpointMode::ExactlyOnce,
            self.cfg.unaligned,
            self.cfg.aligned_timeout,
            savepoint,
        )
    }

    /// Schedules the first periodic trigger at a random delay in `[min_pause, interval]`
    /// from `now` (`label` names the random stream: a resubmitted job draws its own delay).
    pub fn start(&self, now: SimTime, seed: u64, label: &str, queue: &mut EventQueue) {
        if !self.periodic {
            return;
        }
        let mut rng = crate::core::rng::SeedTree::new(seed).stream(label);
        let first = rules::initial_delay(self.cfg.min_pause, self.cfg.interval, &mut rng);
        queue.schedule(now.plus(first), Event::CheckpointTick { periodic: true });
    }

    /// A trigger is due at `now` (`periodic`: the regular tick, which schedules the next one
    /// while the job `runs`). Returns whether to trigger now: not if the coordinator is busy
    /// (the trigger is postponed until it may) or not `all_running` (Flink: "Not all required
    /// tasks are currently running").
    pub fn on_tick(
        &mut self,
        periodic: bool,
        now: SimTime,
        runs: bool,
        all_running: bool,
        queue: &mut EventQueue,
    ) -> bool {
        if periodic && runs {
            queue.schedule(
                now.plus(self.cfg.interval),
                Event::CheckpointTick { periodic: true },
            );
        }
        let may = !self.suspended
            && rules::may_trigger(
                now,
                self.pending.len(),
                self.cfg.max_concurrent,
                self.last_completion,
                self.cfg.min_pause,
            );
        if !may {
            self.postponed = true;
            return false;
        }
        if !all_running {
            return false;
        }
        self.postponed = false;
        true
    }

    /// Triggers checkpoint (or savepoint) n at `now`: finished tasks are in it with their
    /// final state (FLIP-147), the others are expected to acknowledge. Schedules its timeout
    /// (and aligned timeout). Returns its id and how its barriers travel; the kernel then
    /// has the sources inject them.
    pub fn begin(
        &mut self,
        now: SimTime,
        savepoint: Option<SavepointKind>,
        tasks: &mut [Task],
        queue: &mut EventQueue,
        trace: &mut Option<Trace>,
    ) -> (u64, BarrierKind) {
        let n = tasks.len();
        let id = self.next_id;
        self.next_id += 1;
        let waiting: Vec<bool> = tasks.iter().map(|t| !t.finished && !t.cancelled).collect();
        let left = waiting.iter().filter(|w| **w).count();
        // Finished tasks are in the checkpoint with their final state (FLIP-147).
        let snapshots: Vec<Option<TaskSnapshot>> = tasks
            .iter_mut()
            .map(|t| t.finished.then(|| final_snapshot(t)))
            .collect();
        self.history.push(CheckpointReport {
            id,
            trigger_ms: now.as_secs_f64() * 1e3,
            completed_ms: None,
            alignment_ms: 0.0,
            sync_ms: 0.0,
            async_ms: 0.0,
            size_bytes: 0,
            in_flight_bytes: 0,
            barriers: String::new(),
            outcome: "pending".into(),
            savepoint: savepoint.map(|k| k.name().into()),
        });
        let row = self.history.len() - 1;
        // Savepoints are always aligned (Flink's `CheckpointOptions.forConfig`).
        let kind = self.barrier_kind(savepoint.is_some());
        let deadline = match kind {
            BarrierKind::Timeoutable(d) => Some(now.plus(d)),
            _ => None,
        };
        self.history[row].barriers = kind.name();
        self.pending.push(Pending {
            id,
            waiting,
            left,
            snapshots,
            to_snapshot: left,
            align: SimDuration::ZERO,
            sync: SimDuration::ZERO,
            async_part: SimDuration::ZERO,
            bytes: 0,
            row,
            kind,
            deadline,
            extra_acks: vec![0; n],
            channel_bytes: 0,
            switched: false,
            savepoint,
        });
        queue.schedule(now.plus(self.cfg.timeout), Event::CheckpointTimeout { id });
        if let Some(d) = deadline {
            queue.schedule(d, Event::AlignedTimeout { id });
        }
        if let Some(tr) = trace.as_mut() {
            tr.event(now, "checkpoint_triggered", vec![("id", json!(id))]);
        }
        (id, kind)
    }

    /// Task `ti` passed barrier `id` at local time `t` (alignment began at `started`): it
    /// pre-commits its sinks and copies its state; the acknowledgement is scheduled for when
    /// the state is written. Returns the synchronous part's duration, which the task spends
    /// before it goes on, and whether every task has now snapshotted (the pre-commit phase
    /// is reached); `None` if the task has nothing to snapshot for `id`.
    #[allow(clippy::too_many_arguments)]
    pub fn take_snapshot(
        &mut self,
        task: &mut Task,
        ti: u32,
        id: u64,
        started: SimTime,
        t: SimTime,
        queue: &mut EventQueue,
        trace: &mut Option<Trace>,
    ) -> Option<(SimDuration, bool)> {
        let cfg = &self.cfg;
        let p = self.pending.iter_mut().find(|p| p.id == id)?; // expired or aborted meanwhile
        if !p.waiting[ti as usize] || p.snapshots[ti as usize].is_some() {
            return None;
        }
        for slot in &mut task.chain.ops {
            if let Operator::Sink(s) = &mut slot.op
                && let Some(txn) = s.txn.as_mut()
            {
                let records = txn.pre_commit(id);
                if let Some(tr) = trace.as_mut() {
                    tr.event(
                        t,
                        "pre_commit",
                        vec![
                            ("task", json!(task.label)),
                            ("checkpoint", json!(id)),
                            ("records", json!(records)),
                        ],
                    );
                }
            }
        }
        let bytes = task_state_bytes(&task.chain, task.source.is_some());
        let sync = SimDuration::for_bytes(bytes, SYNC_COPY_BYTES_PER_S);
        let async_d = upload_time(cfg, bytes);
        p.snapshots[ti as usize] = Some(TaskSnapshot {
            chain: task.chain.snapshot_state(),
            source: task.source.clone(),
            bytes,
            channel_state: ChannelState::default(),
        });
        p.to_snapshot -= 1;
        p.bytes += bytes;
        p.align = p.align.max(t.since(started));
        p.sync = p.sync.max(sync);
        p.async_part = p.async_part.max(async_d);
        let all_snapshotted = p.to_snapshot == 0;
        let done = t.plus(sync).plus(async_d);
        queue.schedule(done, Event::CheckpointAck { task: ti, id });
        if let Some(tr) = trace.as_mut() {
            tr.event(
                t,
                "snapshot",
                vec![
                    ("task", json!(task.label)),
                    ("checkpoint", json!(id)),
                    ("bytes", json!(bytes)),
                ],
            );
        }
        Some((sync, all_snapshotted))
    }

    /// Pending checkpoints for which task `ti` still owes its snapshot.
    pub fn unsnapshotted(&self, ti: u32) -> Vec<u64> {
        self.pending
            .iter()
            .filter(|p| p.waiting[ti as usize] && p.snapshots[ti as usize].is_none())
            .map(|p| p.id)
            .collect()
    }

    /// Pending checkpoints still waiting for task `ti`'s acknowledgement.
    pub fn waiting_for(&self, ti: u32) -> Vec<u64> {
        self.pending
            .iter()
            .filter(|p| p.waiting[ti as usize])
            .map(|p| p.id)
            .collect()
    }

    /// Task `ti` finished: unless it snapshotted already, its final state goes into pending
    /// checkpoint `id`. Returns whether every task has now snapshotted (pre-commit phase).
    pub fn add_final_snapshot(&mut self, ti: u32, id: u64, task: &mut Task) -> bool {
        let Some(p) = self.pending_mut(id) else {
            return false;
        };
        if p.snapshots[ti as usize].is_some() {
            return false;
        }
        p.snapshots[ti as usize] = Some(final_snapshot(task));
        p.to_snapshot -= 1;
        p.to_snapshot == 0
    }

    /// A snapshot part of task `ti` for checkpoint `id` is written at `now`.
    pub fn on_ack(&mut self, ti: u32, id: u64, now: SimTime) -> Ack {
        if now < self.storage_down_until {
            return Ack::StorageDown;
        }
        if let Some(p) = self.pending_mut(id)
            && p.extra_acks[ti as usize] > 0
        {
            p.extra_acks[ti as usize] -= 1;
            return Ack::Partial;
        }
        Ack::Counts
    }

    /// Counts task `ti`'s acknowledgement of checkpoint `id`; returns whether it was the last
    /// one (the checkpoint completes).
    pub fn count_ack(&mut self, ti: u32, id: u64) -> bool {
        let Some(p) = self.pending_mut(id) else {
            return false;
        };
        if p.waiting[ti as usize] {
            p.waiting[ti as usize] = false;
            p.left -= 1;
            return p.left == 0;
        }
        false
    }

    /// Checkpoint `id` completed at `now`: it is retained (or kept as a savepoint), the
    /// failure count starts again, and older pending checkpoints are subsumed (the kernel
    /// aborts them, then calls [`Self::announce`]).
    pub fn complete(&mut self, id: u64, now: SimTime) -> Completion {
        let pos = self
            .pending
            .iter()
            .position(|p| p.id == id)
            .expect("pending");
        let p = self.pending.remove(pos);
        // Checkpoints older than this one that are still pending are subsumed.
        let older = rules::subsumed(self.pending.iter().map(|o| o.id), id);
        let r = &mut self.history[p.row];
        r.completed_ms = Some(now.as_secs_f64() * 1e3);
        r.alignment_ms = p.align.as_millis_f64();
        r.sync_ms = p.sync.as_millis_f64();
        r.async_ms = p.async_part.as_millis_f64();
        r.size_bytes = p.bytes;
        r.in_flight_bytes = p.channel_bytes;
        if p.switched || (matches!(p.kind, BarrierKind::Timeoutable(_)) && p.channel_bytes > 0) {
            r.barriers = "aligned → unaligned".into();
        }
        r.outcome = "completed".into();
        let savepoint = p.savepoint;
        let done = Completed {
            id,
            snapshots: p.snapshots,
        };
        if savepoint.is_some() {
            self.savepoints.push(done);
        } else {
            self.completed.push(done);
        }
        rules::retain(&mut self.completed, self.cfg.retained);
        self.last_completion = Some(now);
        self.failures.on_success();
        Completion {
            older,
            savepoint,
            postponed: self.postponed,
        }
    }

    /// After a completion (and the abort of what it subsumed): the completion notification
    /// reaches the tasks a moment later (sinks commit then; intermediate savepoints commit
    /// nothing, Flink ≥ 1.15), and a postponed trigger goes after the min pause.
    pub fn announce(
        &self,
        id: u64,
        done: &Completion,
        now: SimTime,
        queue: &mut EventQueue,
        trace: &mut Option<Trace>,
    ) {
        if let Some(tr) = trace.as_mut() {
            tr.event(now, "checkpoint_completed", vec![("id", json!(id))]);
        }
        if done.savepoint != Some(SavepointKind::Intermediate) {
            queue.schedule(
                now.plus(crate::core::defaults::checkpointing::NOTIFY_DELAY),
                Event::CheckpointNotify { id },
            );
        }
        if done.postponed {
            queue.schedule(
                now.plus(self.cfg.min_pause),
                Event::CheckpointTick { periodic: false },
            );
        }
    }

    /// Aborts pending checkpoint `id` at `now` for `reason` (`failed`: a failure, which the
    /// kernel counts). `None` if it was not pending; otherwise whether a trigger was postponed
    /// meanwhile (it may go now).
    pub fn abort(&mut self, id: u64, reason: &str, failed: bool, now: SimTime) -> Option<bool> {
        let pos = self.pending.iter().position(|p| p.id == id)?;
        let p = self.pending.remove(pos);
        let r = &mut self.history[p.row];
        r.outcome = if failed {
            format!("failed: {reason}")
        } else {
            format!("aborted: {reason}")
        };
        r.completed_ms = Some(now.as_secs_f64() * 1e3);
        Some(self.postponed)
    }

    /// A checkpoint failed: whether that exceeds the tolerable failures (the job fails).
    pub fn count_failure(&mut self) -> bool {
        self.failures.on_failure(self.cfg.tolerable_failures)
    }

    /// How the barriers of pending checkpoint `id` travel, and when aligned ones switch to
    /// unaligned; `None` if it is not pending.
    pub fn pending_kind(&self, id: u64) -> Option<(BarrierKind, Option<SimTime>)> {
        let p = self.pending.iter().find(|p| p.id == id)?;
        Some((p.kind, p.deadline))
    }

    /// Task `ti` took its snapshot of checkpoint `id` and records in-flight input until the
    /// barrier has arrived on every channel: its acknowledgement waits for that channel state
    /// too. Returns false if the snapshot is not part of a pending checkpoint.
    pub fn await_channel_state(&mut self, ti: u32, id: u64) -> bool {
        let Some(p) = self.pending_mut(id) else {
            return false;
        };
        if !p.waiting[ti as usize] || p.snapshots[ti as usize].is_none() {
            return false;
        }
        p.extra_acks[ti as usize] += 1;
        true
    }

    /// Adds in-flight data to task `ti`'s snapshot of checkpoint `id` at `at`. It is written
    /// to the checkpoint storage like operator state (`storage_latency` plus its size over
    /// `storage_bandwidth`), and the task's acknowledgement waits for that upload. `awaited`:
    /// [`Self::await_channel_state`] announced it; otherwise it re-opens the task's
    /// acknowledgement if needed (output buffers overtaken after the task acknowledged).
    /// `label` names the task in the trace.
    #[allow(clippy::too_many_arguments)]
    pub fn add_channel_state(
        &mut self,
        ti: u32,
        id: u64,
        state: ChannelState,
        at: SimTime,
        (awaited, switched): (bool, bool),
        label: &str,
        queue: &mut EventQueue,
        trace: &mut Option<Trace>,
    ) {
        let cfg = &self.cfg;
        let Some(p) = self.pending.iter_mut().find(|p| p.id == id) else {
            return;
        };
        let Some(snap) = p.snapshots[ti as usize].as_mut() else {
            return;
        };
        let bytes = state.bytes();
        if !awaited && bytes == 0 {
            return;
        }
        p.switched |= switched;
        snap.bytes += bytes;
        snap.channel_state.append(state);
        p.bytes += bytes;
        p.channel_bytes += bytes;
        if !awaited {
            if p.waiting[ti as usize] {
                p.extra_acks[ti as usize] += 1;
            } else {
                p.waiting[ti as usize] = true;
                p.left += 1;
            }
        }
        let upload = upload_time(cfg, bytes);
        p.async_part = p.async_part.max(upload);
        queue.schedule(at.plus(upload), Event::CheckpointAck { task: ti, id });
        if let Some(tr) = trace.as_mut() {
            tr.event(
                at,
                "channel_state",
                vec![
                    ("task", json!(label)),
                    ("checkpoint", json!(id)),
                    ("bytes", json!(bytes)),
                ],
            );
        }
    }

    /// Marks pending checkpoint `id` as switched from aligned to unaligned.
    pub fn mark_switched(&mut self, id: u64) {
        if let Some(p) = self.pending_mut(id) {
            p.switched = true;
        }
    }
}

/// Writing `bytes` to the checkpoint storage: `storage_latency` plus the size over
/// `storage_bandwidth`.
fn upload_time(cfg: &CheckpointConfig, bytes: u64) -> SimDuration {
    cfg.storage_latency
        .plus(SimDuration::for_bytes(bytes, cfg.storage_bandwidth as f64))
}

/// The snapshot of a task that finished: its final state, no bytes to write.
fn final_snapshot(t: &mut Task) -> TaskSnapshot {
    TaskSnapshot {
        chain: t.chain.snapshot_state(),
        source: t.source.clone(),
        bytes: 0,
        channel_state: ChannelState::default(),
    }
}

/// `notifyCheckpointComplete` at one task: its sinks commit the transactions of checkpoint
/// `id` at `now`. Returns whether the task was waiting at its end for that commit and may
/// finish now.
pub fn commit(task: &mut Task, id: u64, now: SimTime, trace: &mut Option<Trace>) -> bool {
    if task.cancelled {
        return false;
    }
    let mut done = Commits::default();
    for slot in &mut task.chain.ops {
        if let Operator::Sink(s) = &mut slot.op {
            done.extend(s.commit_until(id, now));
        }
    }
    if let Some(tr) = trace.as_mut() {
        for x in &done.timed_out {
            trace_timed_out(tr, &task.label, x, false);
        }
    }
    let committed = done.committed;
    let shown: u64 = committed.iter().map(|c| c.1).sum();
    if shown > 0
        && let Some(tr) = trace.as_mut()
    {
        tr.event(
            now,
            "commit",
            vec![
                ("task", json!(task.label)),
                ("checkpoint", json!(id)),
                ("records", json!(shown)),
                (
                    "transactions",
                    committed
                        .iter()
                        .map(|&(cid, n)| json!({"checkpoint": cid, "records": n}))
                        .collect(),
                ),
            ],
        );
    }
    let all = task.chain.ops.iter().all(|s| match &s.op {
        Operator::Sink(k) => k.all_committed(),
        _ => true,
    });
    if task.awaiting_final && all {
        task.awaiting_final = false;
        return true;
    }
    false
}

/// A `transaction_timed_out` line: the commit of `task` at `x.commit_at` found the transaction
/// of checkpoint `x.checkpoint` aborted by the broker (`on_restore`: the commit of a restore).
pub fn trace_timed_out(tr: &mut Trace, task: &str, x: &TimedOut, on_restore: bool) {
    let mut fields = vec![
        ("task", json!(task)),
        ("checkpoint", json!(x.checkpoint)),
        ("records", json!(x.records)),
        ("opened_ns", json!(x.opened.as_nanos())),
        ("aborted_ns", json!(x.aborted.as_nanos())),
    ];
    if on_restore {
        fields.push(("on_restore", json!(true)));
    }
    tr.event(x.commit_at, "transaction_timed_out", fields);
}

/// State size of a task: its operators, plus 8 bytes of offset for a source.
pub(super) fn task_state_bytes(chain: &Chain, source: bool) -> u64 {
    chain
        .ops
        .iter()
        .map(|s| s.op.checkpointed_bytes())
        .sum::<u64>()
        + if source { 8 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::value::Value;
    use crate::ops::OpSlot;
    use crate::ops::sink::{SinkMode, SinkOp};
    use crate::ops::sink_txn::Transactions;

    fn sink_of(c: &Chain) -> &SinkOp {
        match &c.ops[0].op {
            Operator::Sink(s) => s,
            _ => unreachable!(),
        }
    }

    // issue 21 item 9: a snapshot copied every captured row, so a large `capture` with many
    // checkpoints was quadratic.
    #[test]
    fn a_snapshot_leaves_out_what_the_sink_made_visible_and_a_restore_keeps_it() {
        let mut sink = SinkOp::new(SinkMode::Collect { limit: 1_000_000 }, 1);
        sink.txn = Some(Box::new(Transactions::new(1, 10)));
        sink.rows = (0..100_000).map(Value::Int).collect();
        sink.count = 100_000;
        sink.latency.record(5);
        let mut chain = Chain::new(
            vec![OpSlot::new(
                Operator::Sink(sink),
                vec![],
                None,
                SimDuration::ZERO,
                0,
                1,
            )],
            vec![],
        );
        let snap = chain.snapshot_state();
        assert!(
            sink_of(&snap).rows.is_empty(),
            "no captured row in the snapshot"
        );
        // the live sink is untouched
        assert_eq!(sink_of(&chain).rows.len(), 100_000);
        assert_eq!(sink_of(&chain).latency.histogram().len(), 1);
        // a restore from the snapshot takes the visible rows from the live sink
        let Operator::Sink(mut restored) = snap.ops[0].op.clone() else {
            unreachable!()
        };
        let Operator::Sink(live) = chain.ops[0].op.clone() else {
            unreachable!()
        };
        restored.carry_visible(live, None, SimTime::ZERO);
        assert_eq!(restored.rows.len(), 100_000);
        assert_eq!(restored.count, 100_000);
    }
}
