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

use super::Simulation;
use super::channel_state::ChannelState;
use super::queue::Event;
use super::source::SourceState;
use super::unaligned::BarrierKind;
use crate::core::time::{SimDuration, SimTime};
use crate::ops::Operator;
use crate::ops::chain::Chain;
use crate::report::CheckpointReport;
use crate::scenario::{CheckpointConfig, CheckpointPhase};
use serde_json::json;

/// Bytes per second a task copies its state at in the synchronous part of a snapshot.
const SYNC_COPY_BYTES_PER_S: f64 = 1e9;

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
    align_ns: u64,
    sync_ns: u64,
    async_ns: u64,
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
    savepoint: Option<super::savepoint::Kind>,
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
    consecutive_failures: u32,
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
            consecutive_failures: 0,
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
        self.consecutive_failures = 0;
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

    /// The latest completed checkpoint.
    pub fn latest(&self) -> Option<&Completed> {
        self.completed.last()
    }

    fn may_trigger(&self, now: SimTime) -> bool {
        !self.suspended
            && self.pending.len() < self.cfg.max_concurrent as usize
            && self
                .last_completion
                .is_none_or(|c| now >= c.plus(self.cfg.min_pause))
    }
}

/// State size estimate of one operator, in bytes (keys and values at 8 bytes a field, plus
/// a small overhead per entry, as a RocksDB or heap backend would serialize them).
fn operator_state_bytes(op: &Operator) -> u64 {
    let per = |entries: usize, fields: usize| (entries * (fields * 8 + 16)) as u64;
    match op {
        Operator::Reduce(r) => per(r.keys(), r.arity + 1),
        Operator::Window(w) => per(w.windows_in_state(), 4),
        Operator::WindowJoin(j) => per(j.windows_in_state(), 4),
        Operator::IntervalJoin(j) => per(j.buffered(), 4),
        Operator::Process(p) => per(p.state_entries(), 2),
        Operator::Sink(s) => s.txn.as_ref().map_or(0, |t| per(t.pending(), 2)),
        _ => 0,
    }
}

/// A copy of a chain's state for a snapshot. What sinks made visible is left out: it is not
/// state (a restore takes it from the live sink), and copying a large `capture` into every
/// checkpoint made a run quadratic in its checkpoints.
pub(super) fn snapshot_chain(chain: &mut Chain) -> Chain {
    let visible: Vec<Option<crate::ops::sink_txn::Visible>> = chain
        .ops
        .iter_mut()
        .map(|s| match &mut s.op {
            Operator::Sink(k) => Some(k.take_visible()),
            _ => None,
        })
        .collect();
    let copy = chain.clone();
    for (slot, v) in chain.ops.iter_mut().zip(visible) {
        if let (Operator::Sink(k), Some(v)) = (&mut slot.op, v) {
            k.put_visible(v);
        }
    }
    copy
}

/// State size of a task: its operators, plus 8 bytes of offset for a source.
pub(super) fn task_state_bytes(chain: &Chain, source: bool) -> u64 {
    chain
        .ops
        .iter()
        .map(|s| operator_state_bytes(&s.op))
        .sum::<u64>()
        + if source { 8 } else { 0 }
}

impl Simulation<'_> {
    /// Schedules the first trigger: a random delay in `[min_pause, interval]`.
    /// (`label` names the random stream: a resubmitted job draws its own delay.)
    pub(super) fn start_checkpointing(&mut self, label: &str) {
        let Some(c) = self.coord.as_ref() else { return };
        if !c.periodic {
            return;
        }
        let lo = c.cfg.min_pause.as_nanos().min(c.cfg.interval.as_nanos());
        let hi = c.cfg.interval.as_nanos();
        let mut rng = crate::core::rng::SeedTree::new(self.seed).stream(label);
        let first = lo + rng.below(hi - lo + 1);
        let at = self.queue.now().plus(SimDuration(first));
        self.queue
            .schedule(at, Event::CheckpointTick { periodic: true });
    }

    /// A trigger is due (`periodic`: the regular tick, which also schedules the next one).
    pub(super) fn on_checkpoint_tick(&mut self, periodic: bool) {
        let now = self.queue.now();
        let Some(c) = self.coord.as_mut() else { return };
        if periodic && self.finished < self.tasks.len() {
            self.queue.schedule(
                now.plus(c.cfg.interval),
                Event::CheckpointTick { periodic: true },
            );
        }
        if !c.may_trigger(now) {
            c.postponed = true;
            return;
        }
        if self.tasks.iter().any(|t| t.cancelled) || self.failure.is_some() {
            // Flink: "Not all required tasks are currently running" — no checkpoint.
            return;
        }
        c.postponed = false;
        self.trigger_checkpoint(now, None);
    }

    /// Triggers checkpoint (or savepoint) n: every running source injects its barrier.
    pub(super) fn trigger_checkpoint(
        &mut self,
        now: SimTime,
        savepoint: Option<super::savepoint::Kind>,
    ) -> u64 {
        let n = self.tasks.len();
        let c = self.coord.as_mut().expect("checkpointing on");
        let id = c.next_id;
        c.next_id += 1;
        let waiting: Vec<bool> = self
            .tasks
            .iter()
            .map(|t| !t.finished && !t.cancelled)
            .collect();
        let left = waiting.iter().filter(|w| **w).count();
        // Finished tasks are in the checkpoint with their final state (FLIP-147).
        let snapshots: Vec<Option<TaskSnapshot>> = self
            .tasks
            .iter_mut()
            .map(|t| {
                t.finished.then(|| TaskSnapshot {
                    chain: snapshot_chain(&mut t.chain),
                    source: t.source.clone(),
                    bytes: 0,
                    channel_state: ChannelState::default(),
                })
            })
            .collect();
        c.history.push(CheckpointReport {
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
        let row = c.history.len() - 1;
        // Savepoints are always aligned (Flink's `CheckpointOptions.forConfig`).
        let kind = super::unaligned::barrier_kind(&c.cfg, savepoint.is_some());
        let deadline = match kind {
            BarrierKind::Timeoutable(d) => Some(now.plus(d)),
            _ => None,
        };
        c.history[row].barriers = kind.name();
        c.pending.push(Pending {
            id,
            waiting,
            left,
            snapshots,
            to_snapshot: left,
            align_ns: 0,
            sync_ns: 0,
            async_ns: 0,
            bytes: 0,
            row,
            kind,
            deadline,
            extra_acks: vec![0; n],
            channel_bytes: 0,
            switched: false,
            savepoint,
        });
        self.queue
            .schedule(now.plus(c.cfg.timeout), Event::CheckpointTimeout { id });
        if let Some(d) = deadline {
            self.queue.schedule(d, Event::AlignedTimeout { id });
        }
        if let Some(tr) = self.trace.as_mut() {
            tr.event(now, "checkpoint_triggered", vec![("id", json!(id))]);
        }
        self.phase_reached(CheckpointPhase::Trigger, id);
        for ti in 0..n as u32 {
            let t = &mut self.tasks[ti as usize];
            if t.finished || t.cancelled {
                continue;
            }
            if t.awaiting_final {
                // At its end: nothing more to align; it pre-commits what is left and acks.
                self.take_snapshot(ti, id, now, now);
            } else if let Some(src) = t.source.as_mut() {
                if savepoint == Some(super::savepoint::Kind::Stop) {
                    // stop-with-savepoint: nothing more after the barrier
                    src.stopped = true;
                }
                if kind.may_be_unaligned() {
                    // A mailbox action: runs even while the source is backpressured.
                    t.priority.push_back(super::task::Priority::Inject(id));
                } else {
                    t.inject_barrier = Some(id);
                }
                self.try_schedule(ti);
            } else if kind.may_be_unaligned() && self.inputs_finished(ti) {
                self.tasks[ti as usize]
                    .priority
                    .push_back(super::task::Priority::Trigger(id));
                self.try_schedule(ti);
            }
        }
        id
    }

    /// Task `ti` passed barrier `id` at local time `t` (alignment began at `started`): it
    /// pre-commits its sinks and copies its state. Returns the synchronous part's duration,
    /// which the task spends before it goes on.
    pub(super) fn take_snapshot(
        &mut self,
        ti: u32,
        id: u64,
        started: SimTime,
        t: SimTime,
    ) -> SimDuration {
        let Some(c) = self.coord.as_mut() else {
            return SimDuration::ZERO;
        };
        let Some(p) = c.pending.iter_mut().find(|p| p.id == id) else {
            return SimDuration::ZERO; // expired or aborted meanwhile
        };
        if !p.waiting[ti as usize] || p.snapshots[ti as usize].is_some() {
            return SimDuration::ZERO;
        }
        let task = &mut self.tasks[ti as usize];
        for slot in &mut task.chain.ops {
            if let Operator::Sink(s) = &mut slot.op
                && let Some(txn) = s.txn.as_mut()
            {
                txn.pre_commit(id);
            }
        }
        let bytes = task_state_bytes(&task.chain, task.source.is_some());
        let sync = SimDuration((bytes as f64 / SYNC_COPY_BYTES_PER_S * 1e9) as u64);
        let async_d = c.cfg.storage_latency.plus(SimDuration(
            (bytes as f64 / c.cfg.storage_bandwidth as f64 * 1e9) as u64,
        ));
        p.snapshots[ti as usize] = Some(TaskSnapshot {
            chain: snapshot_chain(&mut task.chain),
            source: task.source.clone(),
            bytes,
            channel_state: ChannelState::default(),
        });
        p.to_snapshot -= 1;
        p.bytes += bytes;
        p.align_ns = p.align_ns.max(t.since(started).as_nanos());
        p.sync_ns = p.sync_ns.max(sync.as_nanos());
        p.async_ns = p.async_ns.max(async_d.as_nanos());
        let all_snapshotted = p.to_snapshot == 0;
        let done = t.plus(sync).plus(async_d);
        self.queue
            .schedule(done, Event::CheckpointAck { task: ti, id });
        if let Some(tr) = self.trace.as_mut() {
            tr.event(
                t,
                "snapshot",
                vec![
                    ("task", json!(self.tasks[ti as usize].label)),
                    ("checkpoint", json!(id)),
                    ("bytes", json!(bytes)),
                ],
            );
        }
        if all_snapshotted {
            self.phase_reached(CheckpointPhase::PreCommit, id);
        }
        sync
    }

    /// Task `ti` reached the end of its input and waits for a checkpoint to commit its last
    /// transaction. Checkpoints already pending whose barrier it has not seen will never send
    /// it one — every upstream task finished (FLIP-147) — so it takes their snapshot now, with
    /// the state after its whole input: the position of a barrier behind the upstream tasks'
    /// last records, which is where Flink's final checkpoint puts it.
    pub(super) fn snapshot_at_end(&mut self, ti: u32) {
        let now = self.queue.now();
        let Some(c) = self.coord.as_ref() else { return };
        let ids: Vec<u64> = c
            .pending
            .iter()
            .filter(|p| p.waiting[ti as usize] && p.snapshots[ti as usize].is_none())
            .map(|p| p.id)
            .collect();
        for id in ids {
            self.take_snapshot(ti, id, now, now);
        }
    }

    /// A task's asynchronous snapshot part is done.
    pub(super) fn on_checkpoint_ack(&mut self, ti: u32, id: u64) {
        let now = self.queue.now();
        let Some(c) = self.coord.as_mut() else { return };
        if now < c.storage_down_until {
            self.fail_checkpoint(id, "Asynchronous task checkpoint failed.");
            return;
        }
        if let Some(p) = c.pending.iter_mut().find(|p| p.id == id)
            && p.extra_acks[ti as usize] > 0
        {
            // Another part of this task's snapshot (its channel state) is still uploading.
            p.extra_acks[ti as usize] -= 1;
            return;
        }
        self.acknowledge(ti, id);
    }

    /// Task `ti` finished: it acknowledges every pending checkpoint with its final state.
    pub(super) fn ack_finished(&mut self, ti: u32) {
        let Some(c) = self.coord.as_mut() else { return };
        let ids: Vec<u64> = c
            .pending
            .iter()
            .filter(|p| p.waiting[ti as usize])
            .map(|p| p.id)
            .collect();
        for id in ids {
            let c = self.coord.as_mut().expect("checked");
            let p = c.pending.iter_mut().find(|p| p.id == id).expect("listed");
            if p.snapshots[ti as usize].is_none() {
                let task = &mut self.tasks[ti as usize];
                p.snapshots[ti as usize] = Some(TaskSnapshot {
                    chain: snapshot_chain(&mut task.chain),
                    source: task.source.clone(),
                    bytes: 0,
                    channel_state: ChannelState::default(),
                });
                p.to_snapshot -= 1;
                if p.to_snapshot == 0 {
                    self.phase_reached(CheckpointPhase::PreCommit, id);
                }
            }
            self.acknowledge(ti, id);
        }
    }

    /// Task `ti`'s acknowledgement of checkpoint `id` counts; the last one completes it.
    fn acknowledge(&mut self, ti: u32, id: u64) {
        let Some(c) = self.coord.as_mut() else { return };
        let Some(p) = c.pending.iter_mut().find(|p| p.id == id) else {
            return;
        };
        if p.waiting[ti as usize] {
            p.waiting[ti as usize] = false;
            p.left -= 1;
            if p.left == 0 {
                self.complete_checkpoint(id);
            }
        }
    }

    fn complete_checkpoint(&mut self, id: u64) {
        let now = self.queue.now();
        let c = self.coord.as_mut().expect("checkpointing on");
        let pos = c.pending.iter().position(|p| p.id == id).expect("pending");
        let p = c.pending.remove(pos);
        // Checkpoints older than this one that are still pending are subsumed.
        let older: Vec<u64> = c
            .pending
            .iter()
            .filter(|o| o.id < id)
            .map(|o| o.id)
            .collect();
        let r = &mut c.history[p.row];
        r.completed_ms = Some(now.as_secs_f64() * 1e3);
        r.alignment_ms = p.align_ns as f64 / 1e6;
        r.sync_ms = p.sync_ns as f64 / 1e6;
        r.async_ms = p.async_ns as f64 / 1e6;
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
            c.savepoints.push(done);
        } else {
            c.completed.push(done);
        }
        let keep = c.cfg.retained as usize;
        if c.completed.len() > keep {
            let drop = c.completed.len() - keep;
            c.completed.drain(..drop);
        }
        c.last_completion = Some(now);
        c.consecutive_failures = 0;
        let postponed = c.postponed;
        let min_pause = c.cfg.min_pause;
        for o in older {
            self.abort_checkpoint(o, "subsumed by a newer checkpoint", false);
        }
        if let Some(tr) = self.trace.as_mut() {
            tr.event(now, "checkpoint_completed", vec![("id", json!(id))]);
        }
        // The completion notification reaches the tasks a moment later; sinks commit then.
        // Intermediate savepoints commit nothing (Flink ≥ 1.15).
        if savepoint != Some(super::savepoint::Kind::Intermediate) {
            self.queue.schedule(
                now.plus(SimDuration::from_millis(1)),
                Event::CheckpointNotify { id },
            );
        }
        if postponed {
            self.queue.schedule(
                now.plus(min_pause),
                Event::CheckpointTick { periodic: false },
            );
        }
        self.phase_reached(CheckpointPhase::Completion, id);
    }

    /// `notifyCheckpointComplete`: sinks commit the transactions of checkpoint `id`; sinks
    /// waiting at their end finish once everything is committed.
    pub(super) fn on_checkpoint_notify(&mut self, id: u64) {
        let now = self.queue.now();
        for ti in 0..self.tasks.len() as u32 {
            let task = &mut self.tasks[ti as usize];
            if task.cancelled {
                continue;
            }
            let mut shown = 0;
            for slot in &mut task.chain.ops {
                if let Operator::Sink(s) = &mut slot.op {
                    shown += s.commit_until(id, now);
                }
            }
            if shown > 0
                && let Some(tr) = self.trace.as_mut()
            {
                tr.event(
                    now,
                    "commit",
                    vec![
                        ("task", json!(task.label)),
                        ("checkpoint", json!(id)),
                        ("records", json!(shown)),
                    ],
                );
            }
            let all = task.chain.ops.iter().all(|s| match &s.op {
                Operator::Sink(k) => k.all_committed(),
                _ => true,
            });
            if task.awaiting_final && all {
                task.awaiting_final = false;
                self.finish_task(ti);
            }
        }
        self.after_notify(id);
    }

    /// The checkpoint expired.
    pub(super) fn on_checkpoint_timeout(&mut self, id: u64) {
        self.fail_checkpoint(id, "Checkpoint expired before completing.");
    }

    /// A checkpoint failed for `reason` (counted against `tolerable_failures`).
    fn fail_checkpoint(&mut self, id: u64, reason: &str) {
        if !self.abort_checkpoint(id, reason, true) {
            return;
        }
        let c = self.coord.as_mut().expect("checkpointing on");
        c.consecutive_failures += 1;
        if c.consecutive_failures > c.cfg.tolerable_failures {
            c.consecutive_failures = 0;
            let msg = format!(
                "Exceeded checkpoint tolerable failure threshold. The latest checkpoint failed due to {reason}, view the Checkpoint History tab or the Job Manager log to find out why continuous checkpoints failed."
            );
            let all: Vec<u32> = (0..self.tasks.len() as u32).collect();
            self.fail_tasks(&all, msg, true);
        }
    }

    /// Drops pending checkpoint `id`; returns whether it was pending.
    pub(super) fn abort_checkpoint(&mut self, id: u64, reason: &str, failed: bool) -> bool {
        let now = self.queue.now();
        let Some(c) = self.coord.as_mut() else {
            return false;
        };
        let Some(pos) = c.pending.iter().position(|p| p.id == id) else {
            return false;
        };
        let p = c.pending.remove(pos);
        self.stop_aborted(id, reason);
        let Some(c) = self.coord.as_mut() else {
            return false;
        };
        let r = &mut c.history[p.row];
        r.outcome = if failed {
            format!("failed: {reason}")
        } else {
            format!("aborted: {reason}")
        };
        r.completed_ms = Some(now.as_secs_f64() * 1e3);
        let postponed = c.postponed;
        for t in &mut self.tasks {
            t.gate.barriers.abort(id, &mut t.gate.available);
            super::unaligned::abort(&mut t.gate, id);
            if t.inject_barrier == Some(id) {
                t.inject_barrier = None;
            }
        }
        // Pre-committed transactions of an aborted checkpoint wait for the next completed
        // one (Flink commits every transaction up to the completed id).
        if let Some(tr) = self.trace.as_mut() {
            tr.event(
                now,
                "checkpoint_failed",
                vec![("id", json!(id)), ("reason", json!(reason))],
            );
        }
        if postponed {
            self.queue
                .schedule(now, Event::CheckpointTick { periodic: false });
        }
        for ti in 0..self.tasks.len() as u32 {
            self.try_schedule(ti);
        }
        true
    }

    /// How the barriers of pending checkpoint `id` travel, and when aligned ones switch to
    /// unaligned; `None` if it is not pending.
    pub(super) fn pending_kind(&self, id: u64) -> Option<(BarrierKind, Option<SimTime>)> {
        let c = self.coord.as_ref()?;
        let p = c.pending.iter().find(|p| p.id == id)?;
        Some((p.kind, p.deadline))
    }

    /// Task `ti` took its snapshot of checkpoint `id` and records in-flight input until the
    /// barrier has arrived on every channel: its acknowledgement waits for that channel state
    /// too. Returns false if the snapshot is not part of a pending checkpoint.
    pub(super) fn await_channel_state(&mut self, ti: u32, id: u64) -> bool {
        let Some(p) = self
            .coord
            .as_mut()
            .and_then(|c| c.pending.iter_mut().find(|p| p.id == id))
        else {
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
    pub(super) fn add_channel_state(
        &mut self,
        ti: u32,
        id: u64,
        state: ChannelState,
        at: SimTime,
        awaited: bool,
        switched: bool,
    ) {
        let Some(c) = self.coord.as_mut() else { return };
        let Some(p) = c.pending.iter_mut().find(|p| p.id == id) else {
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
        let upload = c.cfg.storage_latency.plus(SimDuration(
            (bytes as f64 / c.cfg.storage_bandwidth as f64 * 1e9) as u64,
        ));
        p.async_ns = p.async_ns.max(upload.as_nanos());
        self.queue
            .schedule(at.plus(upload), Event::CheckpointAck { task: ti, id });
        if let Some(tr) = self.trace.as_mut() {
            tr.event(
                at,
                "channel_state",
                vec![
                    ("task", json!(self.tasks[ti as usize].label)),
                    ("checkpoint", json!(id)),
                    ("bytes", json!(bytes)),
                ],
            );
        }
    }

    /// Marks pending checkpoint `id` as switched from aligned to unaligned.
    pub(super) fn mark_switched(&mut self, id: u64) {
        if let Some(p) = self
            .coord
            .as_mut()
            .and_then(|c| c.pending.iter_mut().find(|p| p.id == id))
        {
            p.switched = true;
        }
    }

    /// Every pending checkpoint is aborted (a failover).
    pub(super) fn abort_all_checkpoints(&mut self, reason: &str) {
        let ids: Vec<u64> = self
            .coord
            .as_ref()
            .map(|c| c.pending.iter().map(|p| p.id).collect())
            .unwrap_or_default();
        for id in ids {
            self.abort_checkpoint(id, reason, false);
        }
    }
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
            vec![OpSlot::new(Operator::Sink(sink), vec![], None, 0, 0, 1)],
            vec![],
        );
        let snap = snapshot_chain(&mut chain);
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
