//! Cores, work items and the network events: a task with work and free output queues for
//! a core of its TaskManager; a core runs one work item at a time; buffers arriving, credits
//! and flush ticks wake the tasks they concern.

use super::Simulation;
use super::work::{inject_item, input_item, source_item};
use crate::core::time::{EventTime, SimDuration, SimTime};
use crate::expr::eval::EvalCx;
use crate::ops::Operator;
use crate::sim::buffer;
use crate::sim::net::Cx;
use crate::sim::net::{self, FlushCause, Net};
use crate::sim::queue::Event;
use crate::sim::task::{Sched, Task};
use serde_json::json;

impl Simulation<'_> {
    /// Queues a task for a core if it has work and free output; otherwise notes why not.
    pub(in crate::sim) fn try_schedule(&mut self, ti: u32) {
        let now = self.queue.now();
        let task = &mut self.tasks[ti as usize];
        if task.finished || task.cancelled || task.sched != Sched::Idle {
            return;
        }
        if task.has_work(now) {
            // Priority work (unaligned barriers) runs even under backpressure.
            if task.output_available() || !task.priority.is_empty() {
                if let Some(since) = task.backpressured_since.take() {
                    task.time.backpressured = task.time.backpressured.plus(now.since(since));
                    if let Some(tr) = self.trace.as_mut() {
                        tr.event(now, "backpressure_end", vec![("task", json!(task.label))]);
                    }
                }
                task.sched = Sched::Queued(now);
                let tm = task.tm as usize;
                self.tms[tm].ready.push_back(ti);
                self.dispatch(tm);
            } else if task.backpressured_since.is_none() {
                task.backpressured_since = Some(now);
                if let Some(tr) = self.trace.as_mut() {
                    tr.event(now, "backpressure_start", vec![("task", json!(task.label))]);
                }
            }
        } else {
            if let Some(src) = &task.source {
                // Wake for the next due record or the next periodic watermark.
                let due = src.next_wake(now);
                let tick = src.watermarks.next_tick.filter(|t| *t > now);
                let wake = match (due, tick) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                if let Some(w) = wake
                    && task.source_wake.is_none_or(|s| s > w || s <= now)
                {
                    task.source_wake = Some(w);
                    self.queue.schedule(w, Event::SourceDue { task: ti });
                }
            }
            if let Some(ms) = task.chain.next_processing_timer() {
                let at = SimTime::from_event_time(ms);
                if at > now && task.timer_wake.is_none_or(|w| w > at || w <= now) {
                    task.timer_wake = Some(at);
                    self.queue.schedule(at, Event::TimerDue { task: ti });
                }
            }
        }
    }

    /// Starts work items on free cores.
    pub(in crate::sim) fn dispatch(&mut self, tm: usize) {
        // A failed task stops the job at once: nothing more starts.
        while self.tms[tm].free > 0 && self.failure.is_none() {
            let Some(ti) = self.tms[tm].ready.pop_front() else {
                break;
            };
            self.tms[tm].free -= 1;
            let now = self.queue.now();
            let task = &mut self.tasks[ti as usize];
            if let Sched::Queued(since) = task.sched {
                task.time.cpu_wait = task.time.cpu_wait.plus(now.since(since));
            }
            task.sched = Sched::Running;
            let mut d = self.work_item(ti);
            let task = &mut self.tasks[ti as usize];
            if task.slowdown != 1.0 {
                d = d.mul_f64(task.slowdown);
            }
            task.time.busy = task.time.busy.plus(d);
            self.queue
                .schedule(now.plus(d), Event::WorkDone { task: ti });
        }
    }

    /// Runs one work item of a task at the current time; returns its CPU time.
    pub(in crate::sim) fn work_item(&mut self, ti: u32) -> SimDuration {
        if let Some(c) = self.event_time.as_mut() {
            c.attach(&mut self.tasks[ti as usize]);
        }
        if !self.tasks[ti as usize].priority.is_empty() {
            return self.priority_item(ti);
        }
        let now = self.queue.now();
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
        let Task {
            chain,
            writers,
            flusher,
            stats,
            gate,
            source,
            consumed,
            watermark_trail: trail,
            ..
        } = task;
        let mut error = None;
        let mut end_of_input = false;
        let mut snapshot = None;
        let inject = task.inject_barrier.take();
        let mut cx = Cx {
            ev: EvalCx {
                interner,
                scratch,
                error: &mut error,
            },
            net: Net {
                writers,
                channels,
                pool: &mut *pool,
                queue,
                cost,
                flusher,
                stats,
                task: ti,
                blocked: false,
            },
        };
        let mut end = now;
        // Processing-time timers that are due fire first.
        let now_ms = now.as_event_time();
        if chain.next_processing_timer().is_some_and(|t| t <= now_ms) {
            chain.set_processing_time(now_ms);
            end = chain.processing_time(now_ms, end, &mut cx);
        }
        if chain.failed() {
            // a processing-time timer failed the task: nothing more runs
        } else if let Some(id) = inject {
            end = inject_item(chain, id, end, &mut cx, &mut gate.notes);
            snapshot = Some((id, end));
        } else if let Some(src) = source {
            end = source_item(
                src,
                chain,
                now,
                end,
                &mut cx,
                &mut end_of_input,
                &mut gate.notes,
            );
        } else {
            end = input_item(
                gate,
                chain,
                consumed,
                end,
                cost.deserialize_record,
                &mut cx,
                &mut end_of_input,
                trail,
                &mut snapshot,
            );
        }
        if end_of_input && !chain.failed() && cx.ev.error.is_none() {
            cx.net.end_of_input(end);
        }

        let error = error.or_else(|| task.chain.take_failure());
        if let Some(e) = error {
            let label = task.label.clone();
            self.failure = Some(format!("task {label} failed at {end}: {e}"));
        }
        let end = self.after_work_item(ti, end, snapshot, end_of_input);
        end.since(now)
    }

    /// The end of task `ti`'s work item at local time `end`: window firings go to the trace,
    /// the snapshot of a barrier passed is taken (its synchronous part prolongs the item),
    /// and a task at the end of its input is ending. Returns when the item is done.
    fn after_work_item(
        &mut self,
        ti: u32,
        end: SimTime,
        snapshot: Option<(u64, SimTime)>,
        end_of_input: bool,
    ) -> SimTime {
        if let Some(c) = self.event_time.as_mut() {
            c.drain(&mut self.tasks[ti as usize], &self.interner);
        }
        if let Some(o) = self.observer.as_mut() {
            let (task, drain) = (&mut self.tasks[ti as usize], self.trace.is_none());
            o.work_item_done(end, ti, task, &self.interner, drain);
        }
        if let Some(tr) = self.trace.as_mut() {
            let notes = self.tasks[ti as usize].gate.notes.take();
            if let Some(mut notes) = notes {
                crate::sim::trace_lines::gate_notes(tr, ti, &notes, &self.tasks, &self.channels);
                notes.clear();
                self.tasks[ti as usize].gate.notes = Some(notes);
            }
            crate::sim::trace_lines::window_log(
                tr,
                &mut self.tasks[ti as usize],
                &self.interner,
                end,
            );
        } else if let Some(notes) = self.tasks[ti as usize].gate.notes.as_mut() {
            notes.clear(); // kept for the checkers' runs, which read none of them
        }
        if self.first_barrier_seen.is_some()
            && let Some(id) = self.tasks[ti as usize]
                .gate
                .barriers
                .align
                .as_ref()
                .map(|a| a.id)
        {
            self.first_barrier(ti, id);
        }
        let mut end = end;
        if let Some((id, started)) = snapshot {
            let sync = self.take_snapshot(ti, id, started, end);
            end = end.plus(sync);
        }
        let task = &mut self.tasks[ti as usize];
        if end_of_input {
            task.ending = true;
            if let Some(tr) = self.trace.as_mut() {
                tr.event(end, "end_of_input", vec![("task", json!(task.label))]);
            }
        }
        end
    }

    /// Watermark alignment: a source whose watermark is more than its group's maximum drift
    /// ahead of the group's lowest watermark pauses until the others catch up.
    pub(in crate::sim) fn align(&mut self) {
        for (_, drift, members) in &self.alignment {
            let current = |t: &Task| {
                t.source
                    .as_ref()
                    .map_or(EventTime::MAX, |s| s.watermarks.last())
            };
            let min = members
                .iter()
                .map(|&m| &self.tasks[m as usize])
                .filter(|t| !t.finished)
                .map(current)
                .min();
            let Some(min) = min else { continue };
            let limit = min.plus_millis(drift.as_millis() as i64);
            for &m in members {
                let t = &mut self.tasks[m as usize];
                let w = current(t);
                if let Some(s) = t.source.as_mut() {
                    s.paused = w > limit;
                }
            }
        }
        for m in self
            .alignment
            .iter()
            .flat_map(|(_, _, ms)| ms.clone())
            .collect::<Vec<_>>()
        {
            self.try_schedule(m);
        }
    }

    pub(in crate::sim) fn on_work_done(&mut self, ti: u32) {
        let task = &mut self.tasks[ti as usize];
        task.sched = Sched::Idle;
        let tm = task.tm as usize;
        self.tms[tm].free += 1;
        // The list goes back to the task once walked, so that work items do not allocate.
        let mut consumed = std::mem::take(&mut self.tasks[ti as usize].consumed);
        for &ch in &consumed {
            self.recycle(ti, ch);
        }
        consumed.clear();
        let task = &mut self.tasks[ti as usize];
        debug_assert!(
            task.consumed.is_empty(),
            "recycling a consumed buffer consumed another"
        );
        task.consumed = consumed;
        if task.ending && !task.finished && !task.awaiting_final {
            let uncommitted = task.chain.ops.iter().any(|s| match &s.op {
                Operator::Sink(k) => !k.all_committed(),
                _ => false,
            });
            if uncommitted && self.coord.is_some() {
                // Its last transaction commits with the next checkpoint.
                task.awaiting_final = true;
                self.snapshot_at_end(ti);
            } else {
                self.finish_task(ti);
            }
        }
        self.try_schedule(ti);
        self.dispatch(tm);
    }

    /// Task `ti` is done; pending checkpoints take its final state.
    pub(in crate::sim) fn finish_task(&mut self, ti: u32) {
        let now = self.queue.now();
        let task = &mut self.tasks[ti as usize];
        task.finished = true;
        self.finished += 1;
        if let Some(since) = task.backpressured_since.take() {
            task.time.backpressured = task.time.backpressured.plus(now.since(since));
        }
        if let Some(tr) = self.trace.as_mut() {
            tr.event(now, "task_finished", vec![("task", json!(task.label))]);
        }
        self.ack_finished(ti);
    }

    /// A consumed buffer frees its receiver buffer: a credit back to the sender (remote) or a
    /// slot back in the sender's pool (local).
    pub(in crate::sim) fn recycle(&mut self, ti: u32, ch: u32) {
        let now = self.queue.now();
        let c = &mut self.channels[ch as usize];
        if c.remote {
            let gate = &mut self.tasks[ti as usize].gate;
            let credit = c.rx.on_consumed(&mut gate.pool);
            send_credit(&mut self.queue, now, c, ch, credit);
            // A floating buffer returned to the gate may serve another channel's backlog:
            // offered, in gate order, to the channels that may want one (`Wanting`). Once
            // the pool is empty no channel can borrow — `ReceiverCredits::lend` on an empty
            // pool is a no-op, tested in `channel.rs` — so the offers stop there.
            debug_assert!(
                self.tasks[ti as usize].gate.channels.iter().all(|&o| {
                    let oc = &self.channels[o as usize];
                    let gate = &self.tasks[ti as usize].gate;
                    !(oc.remote && oc.rx.wants_floating())
                        || gate.wanting.next_from(oc.gate_pos) == Some(oc.gate_pos)
                }),
                "every remote channel that wants floating buffers is in its gate's `wanting`"
            );
            let mut from = 0;
            loop {
                let gate = &mut self.tasks[ti as usize].gate;
                if gate.pool.free == 0 {
                    break;
                }
                let Some(pos) = gate.wanting.next_from(from) else {
                    break;
                };
                from = pos + 1;
                let other = gate.channels[pos as usize];
                let oc = &mut self.channels[other as usize];
                let granted = oc.rx.lend(&mut gate.pool);
                if !oc.rx.wants_floating() {
                    gate.wanting.remove(pos);
                }
                send_credit(&mut self.queue, now, oc, other, granted);
            }
        } else {
            let (from, w) = (c.from_task, c.writer);
            self.tasks[from as usize].writers[w as usize].in_use -= 1;
            self.try_schedule(from);
        }
    }

    pub(in crate::sim) fn on_arrival(&mut self, ch: u32) {
        let now = self.queue.now();
        let c = &mut self.channels[ch as usize];
        let b = c
            .in_flight
            .pop_front()
            .expect("an arrival has a buffer in flight");
        if b.end_of_partition {
            crate::sim::channel::shed(&mut c.in_flight);
        }
        if let Some(o) = self.observer.as_mut() {
            o.buffer_arrived(now, ch, &b, &self.channels, &self.tasks);
        }
        let c = &mut self.channels[ch as usize];
        if b.priority {
            self.on_priority_arrival(ch, b);
            return;
        }
        let to = c.to_task;
        let gate = &mut self.tasks[to as usize].gate;
        if c.remote {
            let granted = c.rx.on_arrival(b.backlog, &mut gate.pool);
            if c.rx.wants_floating() {
                gate.wanting.insert(c.gate_pos);
            }
            send_credit(&mut self.queue, now, c, ch, granted);
        }
        if let Some(tr) = self.trace.as_mut() {
            let from = &self.tasks[c.from_task as usize].label;
            let to_label = &self.tasks[to as usize].label;
            tr.event(
                now,
                "buffer",
                vec![
                    ("from", json!(from)),
                    ("to", json!(to_label)),
                    ("records", json!(b.len())),
                    ("bytes", json!(b.bytes)),
                    ("sent_ns", json!(b.finished_at.as_nanos())),
                    ("end_of_partition", json!(b.end_of_partition)),
                ],
            );
            for &(pos, m) in &b.markers {
                if let buffer::Marker::Barrier(id) = m {
                    // Records the receiver reads before it reaches the barrier: the rest of
                    // the channel's buffer it is reading, the queued ones, its own before it.
                    let reading = match &self.tasks[to as usize].gate.current {
                        Some((cur, cb, at, _)) if *cur == ch => cb.len() - at,
                        _ => 0,
                    };
                    let queued: usize = reading + c.queue.iter().map(|q| q.len()).sum::<usize>();
                    tr.event(
                        now,
                        "barrier_arrived",
                        vec![
                            ("from", json!(from)),
                            ("to", json!(to_label)),
                            ("checkpoint", json!(id)),
                            ("records_ahead", json!(queued + pos as usize)),
                        ],
                    );
                }
            }
        }
        let Some(b) = self.intercept_arrival(ch, b) else {
            return;
        };
        let c = &mut self.channels[ch as usize];
        let was_empty = c.queue.is_empty();
        crate::sim::channel::enqueue(&mut c.queue, b);
        if was_empty {
            self.tasks[to as usize].gate.available.push_back(ch);
        }
        self.try_schedule(to);
    }

    pub(in crate::sim) fn on_credit(&mut self, ch: u32, credits: u32) {
        let c = &mut self.channels[ch as usize];
        c.credits += credits;
        let (from, w) = (c.from_task, c.writer as usize);
        net::send_ready(
            &mut self.tasks[from as usize].writers[w],
            c,
            ch,
            &mut self.queue,
            &self.cost,
        );
        self.try_schedule(from);
    }

    pub(in crate::sim) fn on_flush_tick(&mut self, ti: u32) {
        let now = self.queue.now();
        let Simulation {
            tasks,
            channels,
            queue,
            pool,
            cost,
            ..
        } = self;
        let task = &mut tasks[ti as usize];
        if task.flusher.deadline != now || !task.flusher.tick_scheduled {
            return; // stale: the flush already happened inside a work item
        }
        task.flusher.tick_scheduled = false;
        let mut net = Net {
            writers: &mut task.writers,
            channels,
            pool,
            queue,
            cost,
            flusher: &mut task.flusher,
            stats: &mut task.stats,
            task: ti,
            blocked: false,
        };
        net.flush_all(now, FlushCause::Timeout);
        net.flusher.deadline = net.flusher.next_after(now);
        self.try_schedule(ti);
    }
}

/// The receiver of remote channel `ch` (`c`) gives its sender `credits` buffers: the credit
/// arrives one network latency later (none is sent for 0).
fn send_credit(
    queue: &mut crate::sim::queue::EventQueue,
    now: SimTime,
    c: &crate::sim::channel::Channel,
    ch: u32,
    credits: u32,
) {
    if credits > 0 {
        queue.schedule(
            now.plus(c.latency),
            Event::CreditArrives {
                channel: ch,
                credits,
            },
        );
    }
}
