//! The kernel's side of checkpointing: it hands the coordinator ([`checkpoint::Coordinator`])
//! the pieces of the world it needs and carries out what follows — sources injecting
//! barriers, faults tied to a checkpoint phase, tasks finishing after their last commit, the
//! stop-with-savepoint, a job failure after too many failed checkpoints.

use super::Simulation;
use crate::core::time::{SimDuration, SimTime};
use crate::flink::checkpoint::BarrierKind;
use crate::scenario::CheckpointPhase;
use crate::sim::channel_state::ChannelState;
use crate::sim::checkpoint::{self, Ack};
use crate::sim::savepoint;
use crate::sim::task::Priority;
use serde_json::json;

impl Simulation<'_> {
    /// Schedules the first trigger (`label` names the random stream of its delay).
    pub(in crate::sim) fn start_checkpointing(&mut self, label: &str) {
        if let Some(c) = self.coord.as_ref() {
            c.start(self.queue.now(), self.seed, label, &mut self.queue);
        }
    }

    /// A trigger is due (`periodic`: the regular tick, which also schedules the next one).
    pub(in crate::sim) fn on_checkpoint_tick(&mut self, periodic: bool) {
        let now = self.queue.now();
        let runs = self.finished < self.tasks.len();
        let all_running = !self.tasks.iter().any(|t| t.cancelled) && self.failure.is_none();
        let Some(c) = self.coord.as_mut() else { return };
        if c.on_tick(periodic, now, runs, all_running, &mut self.queue) {
            self.trigger_checkpoint(now, None);
        }
    }

    /// Triggers checkpoint (or savepoint) n: every running source injects its barrier.
    pub(in crate::sim) fn trigger_checkpoint(
        &mut self,
        now: SimTime,
        savepoint: Option<savepoint::Kind>,
    ) -> u64 {
        let c = self.coord.as_mut().expect("checkpointing on");
        let (id, kind) = c.begin(
            now,
            savepoint,
            &mut self.tasks,
            &mut self.queue,
            &mut self.trace,
        );
        self.phase_reached(CheckpointPhase::Trigger, id);
        for ti in 0..self.tasks.len() as u32 {
            let t = &mut self.tasks[ti as usize];
            if t.finished || t.cancelled {
                continue;
            }
            if t.awaiting_final {
                // At its end: nothing more to align; it pre-commits what is left and acks.
                self.take_snapshot(ti, id, now, now);
            } else if let Some(src) = t.source.as_mut() {
                if savepoint == Some(savepoint::Kind::Stop) {
                    // stop-with-savepoint: nothing more after the barrier
                    src.stopped = true;
                }
                if kind.may_be_unaligned() {
                    // A mailbox action: runs even while the source is backpressured.
                    t.priority.push_back(Priority::Inject(id));
                } else {
                    t.inject_barrier = Some(id);
                }
                self.try_schedule(ti);
            } else if kind.may_be_unaligned() && self.inputs_finished(ti) {
                self.tasks[ti as usize]
                    .priority
                    .push_back(Priority::Trigger(id));
                self.try_schedule(ti);
            }
        }
        id
    }

    /// Task `ti` passed barrier `id` at local time `t` (alignment began at `started`).
    /// Returns the synchronous part's duration, which the task spends before it goes on.
    pub(in crate::sim) fn take_snapshot(
        &mut self,
        ti: u32,
        id: u64,
        started: SimTime,
        t: SimTime,
    ) -> SimDuration {
        let Some(c) = self.coord.as_mut() else {
            return SimDuration::ZERO;
        };
        let task = &mut self.tasks[ti as usize];
        match c.take_snapshot(task, ti, id, started, t, &mut self.queue, &mut self.trace) {
            None => SimDuration::ZERO,
            Some((sync, all_snapshotted)) => {
                if let Some(o) = self.observer.as_mut() {
                    o.snapshot_taken(t, ti, id, &self.tasks[ti as usize]);
                }
                self.first_barrier(ti, id);
                let (node, subtask) = self.chain_head(ti);
                self.phase_reached(CheckpointPhase::SubtaskSnapshot { node, subtask }, id);
                let synced = CheckpointPhase::SubtaskSyncDone { node, subtask };
                self.phase_reached_at(synced, id, t.plus(sync));
                if all_snapshotted {
                    self.phase_reached(CheckpointPhase::PreCommit, id);
                }
                sync
            }
        }
    }

    /// Task `ti` (not a source) read a barrier of checkpoint `id` — the first one if it was
    /// not seen reading one before: its alignment began. Looked for only when a fault waits
    /// for a subtask's first barrier.
    pub(in crate::sim) fn first_barrier(&mut self, ti: u32, id: u64) {
        let Some(seen) = self.first_barrier_seen.as_mut() else {
            return;
        };
        if self.tasks[ti as usize].source.is_some() {
            return;
        }
        if seen.len() <= ti as usize {
            seen.resize(ti as usize + 1, 0);
        }
        if seen[ti as usize] >= id {
            return;
        }
        seen[ti as usize] = id;
        let (node, subtask) = self.chain_head(ti);
        self.phase_reached(CheckpointPhase::SubtaskFirstBarrier { node, subtask }, id);
    }

    /// Task `ti` reached the end of its input and waits for a checkpoint to commit its last
    /// transaction. Checkpoints already pending whose barrier it has not seen will never send
    /// it one — every upstream task finished (FLIP-147) — so it takes their snapshot now, with
    /// the state after its whole input: the position of a barrier behind the upstream tasks'
    /// last records, which is where Flink's final checkpoint puts it.
    pub(in crate::sim) fn snapshot_at_end(&mut self, ti: u32) {
        let now = self.queue.now();
        let Some(c) = self.coord.as_ref() else { return };
        for id in c.unsnapshotted(ti) {
            self.take_snapshot(ti, id, now, now);
        }
    }

    /// A task's asynchronous snapshot part is done.
    pub(in crate::sim) fn on_checkpoint_ack(&mut self, ti: u32, id: u64) {
        let now = self.queue.now();
        let Some(c) = self.coord.as_mut() else { return };
        match c.on_ack(ti, id, now) {
            Ack::StorageDown => self.fail_checkpoint(id, "Asynchronous task checkpoint failed."),
            Ack::Partial => {}
            Ack::Counts => {
                let (node, subtask) = self.chain_head(ti);
                self.phase_reached(CheckpointPhase::SubtaskAck { node, subtask }, id);
                self.acknowledge(ti, id);
            }
        }
    }

    /// The scenario node at the head of task `ti`'s chain, and its subtask: how a fault
    /// names the task.
    fn chain_head(&self, ti: u32) -> (usize, u32) {
        let t = &self.tasks[ti as usize];
        (self.scenario_node[t.chain.ops[0].node], t.subtask)
    }

    /// Task `ti` finished: it acknowledges every pending checkpoint with its final state.
    pub(in crate::sim) fn ack_finished(&mut self, ti: u32) {
        let Some(c) = self.coord.as_ref() else { return };
        for id in c.waiting_for(ti) {
            let c = self.coord.as_mut().expect("checked");
            if c.add_final_snapshot(ti, id, &mut self.tasks[ti as usize]) {
                self.phase_reached(CheckpointPhase::PreCommit, id);
            }
            self.acknowledge(ti, id);
        }
    }

    /// Task `ti`'s acknowledgement of checkpoint `id` counts; the last one completes it.
    fn acknowledge(&mut self, ti: u32, id: u64) {
        if self.coord.as_mut().is_some_and(|c| c.count_ack(ti, id)) {
            self.complete_checkpoint(id);
        }
    }

    fn complete_checkpoint(&mut self, id: u64) {
        let now = self.queue.now();
        let c = self.coord.as_mut().expect("checkpointing on");
        let done = c.complete(id, now);
        for &o in &done.older {
            self.abort_checkpoint(o, "subsumed by a newer checkpoint", false);
        }
        let c = self.coord.as_ref().expect("checkpointing on");
        c.announce(id, &done, now, &mut self.queue, &mut self.trace);
        self.phase_reached(CheckpointPhase::Completion, id);
    }

    /// `notifyCheckpointComplete`: sinks commit the transactions of checkpoint `id`; sinks
    /// waiting at their end finish once everything is committed.
    ///
    /// The notification reaches the tasks one after another (in task order); a fault tied to
    /// one sink subtask's commit strikes right after that subtask committed, before the
    /// subtasks after it hear of the checkpoint.
    pub(in crate::sim) fn on_checkpoint_notify(&mut self, id: u64) {
        let now = self.queue.now();
        let per_sink = crate::sim::faults::any_tied(&self.faults, |p| {
            matches!(p, CheckpointPhase::SinkCommitted { .. })
        });
        for ti in 0..self.tasks.len() as u32 {
            let all_committed =
                checkpoint::commit(&mut self.tasks[ti as usize], id, now, &mut self.trace);
            let task = &self.tasks[ti as usize];
            let sink_committed = per_sink && !task.cancelled && task.chain.has_sink();
            if let Some(o) = self.observer.as_mut()
                && !task.cancelled
            {
                o.checkpoint_notified(now, ti, id, task);
            }
            if all_committed {
                self.finish_task(ti);
            }
            if sink_committed {
                let (node, subtask) = self.chain_head(ti);
                self.strike_inline(CheckpointPhase::SinkCommitted { node, subtask }, id);
            }
        }
        self.phase_reached(CheckpointPhase::Notified, id);
        self.after_notify(id);
    }

    /// The checkpoint expired.
    pub(in crate::sim) fn on_checkpoint_timeout(&mut self, id: u64) {
        self.fail_checkpoint(id, "Checkpoint expired before completing.");
    }

    /// A checkpoint failed for `reason` (counted against `tolerable_failures`).
    fn fail_checkpoint(&mut self, id: u64, reason: &str) {
        if !self.abort_checkpoint(id, reason, true) {
            return;
        }
        let c = self.coord.as_mut().expect("checkpointing on");
        if c.count_failure() {
            let msg = crate::flink::checkpoint::tolerable_exceeded(reason);
            let all: Vec<u32> = (0..self.tasks.len() as u32).collect();
            self.fail_tasks(&all, msg, true);
        }
    }

    /// Drops pending checkpoint `id`; returns whether it was pending.
    pub(in crate::sim) fn abort_checkpoint(&mut self, id: u64, reason: &str, failed: bool) -> bool {
        let now = self.queue.now();
        let Some(c) = self.coord.as_mut() else {
            return false;
        };
        let Some(postponed) = c.abort(id, reason, failed, now) else {
            return false;
        };
        self.stop_aborted(id, reason);
        for t in &mut self.tasks {
            t.abort_checkpoint(id);
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
            self.queue.schedule(
                now,
                crate::sim::queue::Event::CheckpointTick { periodic: false },
            );
        }
        for ti in 0..self.tasks.len() as u32 {
            self.try_schedule(ti);
        }
        true
    }

    /// Every pending checkpoint is aborted (a failover).
    pub(in crate::sim) fn abort_all_checkpoints(&mut self, reason: &str) {
        let ids = self
            .coord
            .as_ref()
            .map(checkpoint::Coordinator::pending_ids)
            .unwrap_or_default();
        for id in ids {
            self.abort_checkpoint(id, reason, false);
        }
    }

    /// How the barriers of pending checkpoint `id` travel, and when aligned ones switch to
    /// unaligned; `None` if it is not pending.
    pub(in crate::sim) fn pending_kind(&self, id: u64) -> Option<(BarrierKind, Option<SimTime>)> {
        self.coord.as_ref()?.pending_kind(id)
    }

    /// See [`checkpoint::Coordinator::await_channel_state`].
    pub(in crate::sim) fn await_channel_state(&mut self, ti: u32, id: u64) -> bool {
        self.coord
            .as_mut()
            .is_some_and(|c| c.await_channel_state(ti, id))
    }

    /// See [`checkpoint::Coordinator::add_channel_state`].
    pub(in crate::sim) fn add_channel_state(
        &mut self,
        ti: u32,
        id: u64,
        state: ChannelState,
        at: SimTime,
        awaited: bool,
        switched: bool,
    ) {
        if let Some(c) = self.coord.as_mut() {
            let label = &self.tasks[ti as usize].label;
            c.add_channel_state(
                ti,
                id,
                state,
                at,
                (awaited, switched),
                label,
                &mut self.queue,
                &mut self.trace,
            );
        }
    }

    /// Marks pending checkpoint `id` as switched from aligned to unaligned.
    pub(in crate::sim) fn mark_switched(&mut self, id: u64) {
        if let Some(c) = self.coord.as_mut() {
            c.mark_switched(id);
        }
    }
}
