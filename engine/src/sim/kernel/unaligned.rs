//! The kernel's side of unaligned checkpoints and the aligned-checkpoint timeout
//! ([`crate::sim::unaligned`]): priority barriers arriving, a task's priority work, barriers
//! pulled ahead of the data they were queued behind — each sequenced with the checkpoint
//! coordinator and the scheduler (a consumed buffer can start the sender's next work item).

use super::Simulation;
use crate::core::time::{SimDuration, SimTime};
use crate::expr::eval::EvalCx;
use crate::flink::checkpoint::BarrierKind;
use crate::sim::buffer::{Buffer, Marker};
use crate::sim::channel_state::{ChannelState, Collect, barrier_of, persistable};
use crate::sim::net::Cx;
use crate::sim::net::{FlushCause, Net};
use crate::sim::task::Priority;
use crate::sim::unaligned;
use serde_json::json;

impl Simulation<'_> {
    /// A priority barrier reached the receiver of channel `ch`.
    pub(in crate::sim) fn on_priority_arrival(&mut self, ch: u32, b: Buffer) {
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
    pub(in crate::sim) fn intercept_arrival(&mut self, ch: u32, b: Buffer) -> Option<Buffer> {
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
        if unaligned::record_arrival(&mut self.tasks[to as usize].gate, slot, ch, &b) {
            self.mark_seen(to, slot);
        }
        Some(b)
    }

    /// Gate slot `slot` of task `ti` delivered the barrier being collected; the last one
    /// completes the task's channel state.
    fn mark_seen(&mut self, ti: u32, slot: usize) {
        if unaligned::mark_seen(&mut self.tasks[ti as usize].gate, slot) {
            self.finish_collect_if_done(ti);
        }
    }

    fn finish_collect_if_done(&mut self, ti: u32) {
        if let Some(col) = unaligned::collected(&mut self.tasks[ti as usize].gate, &self.channels) {
            let now = self.queue.now();
            self.add_channel_state(ti, col.id, col.state, now, true, false);
        }
    }

    /// Runs a task's priority work (all of it, in order); returns the CPU time it took.
    pub(in crate::sim) fn priority_item(&mut self, ti: u32) -> SimDuration {
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

    /// Slots of task `ti` that need no recording: their barrier is already in (`aligned`) or
    /// they ended.
    fn initially_seen(&self, ti: u32, aligned: Option<&Vec<bool>>) -> Vec<bool> {
        let gate = &self.tasks[ti as usize].gate;
        unaligned::initially_seen(gate, &self.channels, aligned.map(Vec::as_slice))
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
        let gate = &self.tasks[ti as usize].gate;
        let mut state = unaligned::rest_of_current(gate);
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
            unaligned::record_queued(&mut state, ch, &self.channels[ch as usize], upto);
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
        let end = task.chain.status(0, marker, t, &mut cx);
        (end, out)
    }

    /// `aligned_timeout` after the trigger of checkpoint `id`: aligned barriers still queued at
    /// outputs become priority events, barriers queued at inputs are pulled ahead, and tasks
    /// still aligning switch to unaligned.
    pub(in crate::sim) fn on_aligned_timeout(&mut self, id: u64) {
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
            let out = unaligned::convert_queued_barriers(
                &mut self.tasks[ti as usize].writers,
                &mut self.channels,
                id,
                now,
                &mut self.queue,
                &self.cost,
            );
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
    pub(in crate::sim) fn inputs_finished(&self, ti: u32) -> bool {
        unaligned::inputs_finished(&self.tasks, &self.channels, ti)
    }

    /// After a restore: tasks `restored` send their output channel state before any new
    /// output and read their input channel state before any new input.
    pub(in crate::sim) fn replay_channel_state(&mut self, restored: &[u32]) {
        let Some(c) = self.coord.as_ref().and_then(|c| c.latest()) else {
            return;
        };
        unaligned::replay(
            c,
            restored,
            (&mut self.tasks, &mut self.channels),
            &mut self.queue,
            &self.cost,
            &mut self.trace,
        );
    }
}
