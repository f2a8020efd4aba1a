//! Unaligned checkpoints and the aligned-checkpoint timeout (Flink's FLIP-76 and FLIP-183).
//!
//! **Unaligned** (`execution.checkpointing.unaligned.enabled`, exactly-once only): a barrier
//! does not wait behind buffered data.
//! - *At an output* it is a priority event: the partly filled buffer is finished, and the
//!   barrier is sent at once, without credit, ahead of every buffer still queued for credit
//!   ([`super::net::Net::write_priority_barrier`]). The overtaken buffers are recorded as the
//!   sender's **output channel state**.
//! - *At an input* the first barrier of a checkpoint is handled as soon as it arrives — before
//!   any queued buffer, even while the task is backpressured: the task snapshots at once and
//!   forwards the barrier (again as a priority event). Nothing is blocked. Every buffer that
//!   was queued before a channel's barrier, and every buffer that arrives on a channel before
//!   that channel's barrier, is recorded as **input channel state** (Flink's
//!   `AlternatingWaitingForFirstBarrierUnaligned`, `ChannelStatePersister`). The data is still
//!   processed normally; its effect is just not in the snapshot.
//! - The channel state is part of the task's snapshot: its bytes are written to the
//!   checkpoint storage, and the task acknowledges once its barrier has arrived on every
//!   channel and both the operator state and the channel state are written.
//! - On restore ([`Simulation::replay_channel_state`]) a task's output channel state is sent
//!   again before any new output, and its input channel state is processed before any new
//!   input.
//!
//! **Aligned checkpoint timeout** (`execution.checkpointing.aligned-checkpoint-timeout`, with
//! unaligned enabled): a checkpoint starts aligned; once `aligned_timeout` has passed **since
//! the checkpoint was triggered** (Flink measures from the barrier's timestamp,
//! `BarrierAlignmentUtil.getTimerDelay`), its barriers switch to unaligned: aligned barriers
//! still queued at an output become priority events (overtaking the buffers ahead of them),
//! barriers already queued at an input are pulled ahead, and a task still aligning snapshots
//! at once and records the rest as channel state. A task whose first barrier arrives after
//! that time handles it as unaligned right away.
//!
//! Savepoints are always aligned ([`barrier_kind`] with `aligned_only`).
//!
//! Simplifications: every exchange may persist in-flight data (Flink forces pointwise and
//! broadcast exchanges to stay aligned); a task that switches on timeout reads its blocked
//! channels again at once (Flink keeps them blocked until the checkpoint's barriers are in).

use super::Simulation;
use super::buffer::{Buffer, Marker};
use super::channel_state::{ChannelState, Collect, barrier_of, persistable};
use super::net::{FlushCause, Net};
use super::task::Priority;
use crate::core::time::{SimDuration, SimTime};
use crate::expr::eval::EvalCx;
use crate::flink::checkpoint::BarrierKind;
use crate::ops::Cx;
use serde_json::json;

impl Simulation<'_> {
    /// A priority barrier reached the receiver of channel `ch`.
    pub(super) fn on_priority_arrival(&mut self, ch: u32, b: Buffer) {
        let id = barrier_of(&b);
        self.pool.give(b);
        let Some(id) = id else { return };
        let now = self.queue.now();
        let c = &self.channels[ch as usize];
        let (to, slot, pre) = (c.to_task, c.gate_pos as usize, c.queue.len());
        if let Some(tr) = self.trace.as_mut() {
            tr.event(
                now,
                "unaligned_barrier",
                vec![
                    ("from", json!(self.tasks[c.from_task as usize].label)),
                    ("to", json!(self.tasks[to as usize].label)),
                    ("checkpoint", json!(id)),
                    ("overtook_queued", json!(pre)),
                ],
            );
        }
        let task = &mut self.tasks[to as usize];
        if task.finished || task.cancelled || task.ending {
            return;
        }
        if task.gate.collect.as_ref().is_some_and(|c| c.id == id) {
            self.mark_seen(to, slot);
        } else {
            task.priority.push_back(Priority::Barrier {
                ch,
                id,
                pre,
                at: now,
            });
            self.try_schedule(to);
        }
    }

    /// A pooled buffer reached the receiver of `ch`: records it as channel state if the gate
    /// is collecting that channel, and takes an aligned barrier out of the stream when it
    /// belongs to a checkpoint that is (or must now become) unaligned. `Some(b)`: queue it.
    pub(super) fn intercept_arrival(&mut self, ch: u32, b: Buffer) -> Option<Buffer> {
        let now = self.queue.now();
        let c = &self.channels[ch as usize];
        let (to, slot, pre) = (c.to_task, c.gate_pos as usize, c.queue.len());
        if let Some(id) = barrier_of(&b) {
            let collecting = self.tasks[to as usize]
                .gate
                .collect
                .as_ref()
                .is_some_and(|c| c.id == id);
            let late = matches!(
                self.pending_kind(id),
                Some((BarrierKind::Timeoutable(_), Some(d))) if now >= d
            );
            if collecting || late {
                // The barrier was announced ahead of the data (Flink's `EventAnnouncement`)
                // and is handled now, not after the buffers queued before it.
                self.pool.give(b);
                self.recycle(to, ch);
                if collecting {
                    self.mark_seen(to, slot);
                } else {
                    self.tasks[to as usize]
                        .priority
                        .push_back(Priority::Barrier {
                            ch,
                            id,
                            pre,
                            at: now,
                        });
                    self.try_schedule(to);
                }
                return None;
            }
            return Some(b);
        }
        let gate = &mut self.tasks[to as usize].gate;
        if let Some(col) = gate.collect.as_mut()
            && !col.seen[slot]
        {
            if let Some(copy) = persistable(&b, 0, 0) {
                col.state.input.push((ch, copy));
            }
            if b.end_of_partition {
                self.mark_seen(to, slot);
            }
        }
        Some(b)
    }

    /// Gate slot `slot` of task `ti` delivered the barrier being collected; the last one
    /// completes the task's channel state.
    fn mark_seen(&mut self, ti: u32, slot: usize) {
        let gate = &mut self.tasks[ti as usize].gate;
        let Some(col) = gate.collect.as_mut() else {
            return;
        };
        col.seen[slot] = true;
        self.finish_collect_if_done(ti);
    }

    fn finish_collect_if_done(&mut self, ti: u32) {
        let gate = &self.tasks[ti as usize].gate;
        let Some(col) = gate.collect.as_ref() else {
            return;
        };
        let done = gate
            .channels
            .iter()
            .zip(&col.seen)
            .all(|(&ch, &seen)| seen || self.channels[ch as usize].ended);
        if done {
            let col = self.tasks[ti as usize]
                .gate
                .collect
                .take()
                .expect("checked");
            let now = self.queue.now();
            self.add_channel_state(ti, col.id, col.state, now, true, false);
        }
    }

    /// Runs a task's priority work (all of it, in order); returns the CPU time it took.
    pub(super) fn priority_item(&mut self, ti: u32) -> SimDuration {
        let now = self.queue.now();
        let mut items: Vec<Priority> = self.tasks[ti as usize].priority.drain(..).collect();
        let mut t = now;
        let mut i = 0;
        while i < items.len() {
            let item = items[i];
            i += 1;
            let Some((kind, deadline)) = self.pending_kind(item.checkpoint()) else {
                continue; // aborted or expired meanwhile
            };
            let task = &self.tasks[ti as usize];
            if task.finished || task.ending || task.cancelled {
                continue;
            }
            match item {
                Priority::Inject(id) => {
                    let unaligned =
                        kind == BarrierKind::Unaligned || deadline.is_some_and(|d| t >= d);
                    let (end, out) = self.forward_barrier(ti, id, unaligned, t);
                    let sync = self.take_snapshot(ti, id, t, end);
                    t = end.plus(sync);
                    self.add_channel_state(ti, id, out, t, false, false);
                }
                Priority::Barrier { id, at, .. } => {
                    let gate = &mut self.tasks[ti as usize].gate;
                    if gate.collect.as_ref().is_some_and(|c| c.id >= id)
                        || gate.barriers.align.as_ref().is_some_and(|a| a.id > id)
                    {
                        continue; // already collecting, or older than the current alignment
                    }
                    // An alignment of this checkpoint in progress turns unaligned, keeping
                    // what it has seen; an older one is subsumed.
                    let align = gate.barriers.align.clone().filter(|a| a.id == id);
                    gate.barriers.abort(id, &mut gate.available);
                    let seen = self.initially_seen(ti, align.as_ref().map(|a| &a.seen));
                    self.start_collect(ti, id, seen, &mut items, i - 1);
                    let started = align.as_ref().map_or(at, |a| a.started);
                    t = self.unaligned_snapshot(ti, id, started, t, align.is_some());
                }
                Priority::Trigger(id) => {
                    if self.tasks[ti as usize].gate.collect.is_some() {
                        continue;
                    }
                    let seen = self.initially_seen(ti, None);
                    self.start_collect(ti, id, seen, &mut items, i);
                    t = self.unaligned_snapshot(ti, id, t, t, false);
                }
                Priority::Switch(id) => {
                    let gate = &mut self.tasks[ti as usize].gate;
                    let Some(a) = gate.barriers.align.clone().filter(|a| a.id == id) else {
                        continue; // aligned in time after all
                    };
                    gate.barriers.abort(id, &mut gate.available);
                    let seen = self.initially_seen(ti, Some(&a.seen));
                    self.start_collect(ti, id, seen, &mut items, i);
                    if let Some(tr) = self.trace.as_mut() {
                        tr.event(
                            t,
                            "alignment_timeout",
                            vec![
                                ("task", json!(self.tasks[ti as usize].label)),
                                ("checkpoint", json!(id)),
                            ],
                        );
                    }
                    t = self.unaligned_snapshot(ti, id, a.started, t, true);
                }
            }
        }
        t.since(now)
    }

    /// Slots that need no recording: their barrier is already in (`aligned`) or they ended.
    fn initially_seen(&self, ti: u32, aligned: Option<&Vec<bool>>) -> Vec<bool> {
        let gate = &self.tasks[ti as usize].gate;
        gate.channels
            .iter()
            .enumerate()
            .map(|(i, &ch)| self.channels[ch as usize].ended || aligned.is_some_and(|s| s[i]))
            .collect()
    }

    /// Starts recording checkpoint `id` at task `ti`: the rest of the buffer being read, and
    /// on every slot not yet `seen` the buffers queued before its barrier — up to a barrier
    /// that already arrived (a `Barrier` item from `items[from..]`, which is consumed, or an
    /// aligned barrier still in the queue, which is pulled out), otherwise all of them and
    /// whatever arrives until the barrier does.
    fn start_collect(
        &mut self,
        ti: u32,
        id: u64,
        mut seen: Vec<bool>,
        items: &mut Vec<Priority>,
        from: usize,
    ) {
        let mut state = ChannelState::default();
        let gate = &self.tasks[ti as usize].gate;
        if let Some((ch, b, pos, mi)) = &gate.current
            && let Some(copy) = persistable(b, *pos, *mi)
        {
            state.input.push((*ch, copy));
        }
        let chans = gate.channels.clone();
        for (slot, &ch) in chans.iter().enumerate() {
            if seen[slot] {
                continue;
            }
            let arrived = items[from..].iter().position(
                |p| matches!(*p, Priority::Barrier { ch: c, id: i, .. } if c == ch && i == id),
            );
            let queue = &self.channels[ch as usize].queue;
            let upto = if let Some(k) = arrived {
                let Priority::Barrier { pre, .. } = items.remove(from + k) else {
                    unreachable!("matched above")
                };
                seen[slot] = true;
                pre.min(queue.len())
            } else if let Some(k) = queue.iter().position(|b| barrier_of(b) == Some(id)) {
                let c = &mut self.channels[ch as usize];
                let b = c.queue.remove(k).expect("found");
                self.pool.give(b);
                if self.channels[ch as usize].queue.is_empty() {
                    self.tasks[ti as usize].gate.available.retain(|&x| x != ch);
                }
                self.recycle(ti, ch);
                seen[slot] = true;
                k
            } else {
                if queue.iter().any(|b| b.end_of_partition) {
                    seen[slot] = true;
                }
                queue.len()
            };
            let queue = &self.channels[ch as usize].queue;
            for b in queue.iter().take(upto) {
                if let Some(copy) = persistable(b, 0, 0) {
                    state.input.push((ch, copy));
                }
            }
        }
        self.tasks[ti as usize].gate.collect = Some(Collect { id, seen, state });
    }

    /// The snapshot of an unaligned checkpoint at task `ti` at `t`: forwards the barrier as a
    /// priority event, snapshots, and waits for the channel state. Returns when done.
    fn unaligned_snapshot(
        &mut self,
        ti: u32,
        id: u64,
        started: SimTime,
        t: SimTime,
        switched: bool,
    ) -> SimTime {
        let (end, out) = self.forward_barrier(ti, id, true, t);
        let sync = self.take_snapshot(ti, id, started, end);
        let t = end.plus(sync);
        if switched {
            self.mark_switched(id);
        }
        self.add_channel_state(ti, id, out, t, false, switched);
        if self.await_channel_state(ti, id) {
            self.finish_collect_if_done(ti);
        } else {
            self.tasks[ti as usize].gate.collect = None;
        }
        t
    }

    /// Sends barrier `id` through task `ti`'s chain at `t`; `unaligned`: as a priority event,
    /// recording the buffers it overtakes (returned). Returns when it is done.
    fn forward_barrier(
        &mut self,
        ti: u32,
        id: u64,
        unaligned: bool,
        t: SimTime,
    ) -> (SimTime, ChannelState) {
        let Simulation {
            tasks,
            channels,
            queue,
            pool,
            interner,
            scratch,
            cost,
            ..
        } = self;
        let task = &mut tasks[ti as usize];
        let mut error = None;
        let mut cx = Cx {
            ev: EvalCx {
                interner,
                scratch,
                error: &mut error,
            },
            net: Net {
                writers: &mut task.writers,
                channels,
                pool,
                queue,
                cost,
                flusher: &mut task.flusher,
                stats: &mut task.stats,
                task: ti,
                blocked: false,
            },
        };
        let mut out = ChannelState::default();
        let marker = if unaligned {
            cx.net.flush_all(t, FlushCause::Event);
            for w in cx.net.writers.iter() {
                for &ch in &w.channels {
                    for b in &cx.net.channels[ch as usize].backlog {
                        if let Some(copy) = persistable(b, 0, 0) {
                            out.output.push((ch, copy));
                        }
                    }
                }
            }
            Marker::UnalignedBarrier(id)
        } else {
            Marker::Barrier(id)
        };
        let end = task.chain.status(0, marker, t.0, &mut cx);
        (SimTime(end), out)
    }

    /// `aligned_timeout` after the trigger of checkpoint `id`: aligned barriers still queued at
    /// outputs become priority events, barriers queued at inputs are pulled ahead, and tasks
    /// still aligning switch to unaligned.
    pub(super) fn on_aligned_timeout(&mut self, id: u64) {
        let now = self.queue.now();
        if self.pending_kind(id).is_none() {
            return;
        }
        for ti in 0..self.tasks.len() as u32 {
            let task = &self.tasks[ti as usize];
            if task.finished || task.cancelled {
                continue;
            }
            // Output side (Flink converts the barrier in the subpartition's queue).
            let mut out = ChannelState::default();
            for w in 0..task.writers.len() {
                for i in 0..self.tasks[ti as usize].writers[w].channels.len() {
                    let ch = self.tasks[ti as usize].writers[w].channels[i];
                    let c = &mut self.channels[ch as usize];
                    let Some(k) = c.backlog.iter().position(|b| barrier_of(b) == Some(id)) else {
                        continue;
                    };
                    for b in c.backlog.iter().take(k) {
                        if let Some(copy) = persistable(b, 0, 0) {
                            out.output.push((ch, copy));
                        }
                    }
                    let mut b = c.backlog.remove(k).expect("found");
                    self.tasks[ti as usize].writers[w].in_use -= 1;
                    b.finished_at = now;
                    super::net::send_priority(c, ch, b, &mut self.queue, &self.cost);
                }
            }
            if !out.is_empty() {
                self.add_channel_state(ti, id, out, now, false, true);
            }
            // Input side.
            let task = &mut self.tasks[ti as usize];
            if task.ending || task.gate.collect.as_ref().is_some_and(|c| c.id == id) {
                // nothing to switch
            } else if task
                .gate
                .barriers
                .align
                .as_ref()
                .is_some_and(|a| a.id == id)
            {
                task.priority.push_back(Priority::Switch(id));
            } else {
                // Barriers queued behind data at a task that has not begun to align.
                for ch in task.gate.channels.clone() {
                    let c = &mut self.channels[ch as usize];
                    let Some(k) = c.queue.iter().position(|b| barrier_of(b) == Some(id)) else {
                        continue;
                    };
                    let b = c.queue.remove(k).expect("found");
                    let empty = c.queue.is_empty();
                    self.pool.give(b);
                    let task = &mut self.tasks[ti as usize];
                    if empty {
                        task.gate.available.retain(|&x| x != ch);
                    }
                    task.priority.push_back(Priority::Barrier {
                        ch,
                        id,
                        pre: k,
                        at: now,
                    });
                    self.recycle(ti, ch);
                }
            }
            self.try_schedule(ti);
        }
    }

    /// Whether every task feeding task `ti` has finished (it then gets no barrier).
    pub(super) fn inputs_finished(&self, ti: u32) -> bool {
        let gate = &self.tasks[ti as usize].gate;
        !gate.channels.is_empty()
            && gate
                .channels
                .iter()
                .all(|&ch| self.tasks[self.channels[ch as usize].from_task as usize].finished)
    }

    /// After a restore: tasks `restored` send their output channel state before any new
    /// output and read their input channel state before any new input.
    pub(super) fn replay_channel_state(&mut self, restored: &[u32]) {
        let Some(c) = self.coord.as_ref().and_then(|c| c.latest()) else {
            return;
        };
        let states: Vec<(u32, ChannelState)> = restored
            .iter()
            .filter_map(|&ti| {
                let s = c.snapshots[ti as usize].as_ref()?;
                (!s.channel_state.is_empty()).then(|| (ti, s.channel_state.clone()))
            })
            .collect();
        for (ti, st) in states {
            for (ch, mut b) in st.input {
                b.unpooled = true;
                let c = &mut self.channels[ch as usize];
                c.queue.push_back(b);
                let gate = &mut self.tasks[ti as usize].gate;
                if !gate.available.contains(&ch) {
                    gate.available.push_back(ch);
                }
            }
            for (ch, b) in st.output {
                let c = &mut self.channels[ch as usize];
                let w = c.writer as usize;
                c.backlog.push_back(b);
                let writer = &mut self.tasks[ti as usize].writers[w];
                writer.in_use += 1;
                super::net::send_ready(writer, c, ch, &mut self.queue, &self.cost);
            }
            if let Some(tr) = self.trace.as_mut() {
                tr.event(
                    self.queue.now(),
                    "channel_state_replayed",
                    vec![("task", json!(self.tasks[ti as usize].label))],
                );
            }
        }
    }
}
