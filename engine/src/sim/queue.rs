//! The event queue: the only owner of the simulated clock.
//!
//! Events are ordered by `(time, seq)` where `seq` is an insertion counter, so events due at
//! the same instant run in the order they were scheduled — the rule that makes every run of
//! a scenario replay identically.

use crate::core::time::SimTime;
use dary_heap::QuaternaryHeap;
use std::cmp::Reverse;
use std::collections::VecDeque;

/// Something that happens at a point in simulated time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Event {
    /// The oldest in-flight buffer of a channel reaches the receiver.
    BufferArrives {
        /// Channel index.
        channel: u32,
    },
    /// Credits announced by a receiver reach the sender of a channel.
    CreditArrives {
        /// Channel index.
        channel: u32,
        /// How many buffers the sender may now send.
        credits: u32,
    },
    /// A task finishes the work item it started; its core is free again.
    WorkDone {
        /// Task index.
        task: u32,
    },
    /// A rate-limited source has records due.
    SourceDue {
        /// Task index.
        task: u32,
    },
    /// The output flusher of a task fires (`execution.buffer-timeout.interval`).
    FlushTick {
        /// Task index.
        task: u32,
    },
    /// A processing-time timer of a task is due.
    TimerDue {
        /// Task index.
        task: u32,
    },
    /// Watermark alignment: sources compare their watermarks with their group's minimum.
    AlignmentTick,
    /// The checkpoint coordinator may trigger (`periodic`: the regular tick).
    CheckpointTick {
        /// The regular interval tick (schedules the next one).
        periodic: bool,
    },
    /// A task's asynchronous snapshot part is done: its acknowledgement arrives.
    CheckpointAck {
        /// Task index.
        task: u32,
        /// Checkpoint id.
        id: u64,
    },
    /// A checkpoint's timeout.
    CheckpointTimeout {
        /// Checkpoint id.
        id: u64,
    },
    /// The completion of a checkpoint reaches the tasks (sinks commit).
    CheckpointNotify {
        /// Checkpoint id.
        id: u64,
    },
    /// `aligned_timeout` after the trigger of checkpoint `id`: its barriers still waiting in
    /// output queues or being aligned switch to unaligned.
    AlignedTimeout {
        /// Checkpoint id.
        id: u64,
    },
    /// A scripted fault strikes.
    Fault {
        /// Index in the scenario's faults.
        index: u32,
    },
    /// The JobManager has had no heartbeat from a TaskManager for `heartbeat.timeout`.
    HeartbeatTimeout {
        /// The TaskManager cut off.
        tm: u32,
        /// When the partition that cut it off heals.
        heal: crate::core::time::SimTime,
    },
    /// A temporary fault (network, straggler, storage) ends.
    FaultEnd {
        /// Index in the scenario's faults.
        index: u32,
    },
    /// Failed tasks are redeployed and restored.
    Restart {
        /// Which restart (stale ones are ignored).
        generation: u32,
    },
    /// A `[[savepoint]]` is triggered.
    Savepoint {
        /// Index in the scenario's savepoints.
        index: u32,
    },
    /// `[rescale]`: the stop-with-savepoint is triggered.
    StopWithSavepoint,
    /// `[rescale]`: the job is resubmitted from the savepoint with its new parallelism.
    Resubmit,
}

impl Event {
    /// The task an event belongs to, if any.
    pub fn task(&self) -> Option<u32> {
        match *self {
            Event::WorkDone { task }
            | Event::SourceDue { task }
            | Event::FlushTick { task }
            | Event::TimerDue { task }
            | Event::CheckpointAck { task, .. } => Some(task),
            _ => None,
        }
    }

    /// The channel an event belongs to, if any.
    pub fn channel(&self) -> Option<u32> {
        match *self {
            Event::BufferArrives { channel } | Event::CreditArrives { channel, .. } => {
                Some(channel)
            }
            _ => None,
        }
    }
}

/// A min-queue of events by `(time, insertion order)`.
///
/// The heap is 4-ary (`dary_heap`): half the depth of a binary heap, a node's children in
/// two cache lines, which matters when a wide job keeps ~90 000 events pending. No two events
/// share a key, so the order they come out in does not depend on the heap's shape.
#[derive(Debug, Default)]
pub struct EventQueue {
    heap: QuaternaryHeap<Reverse<(SimTime, u64, Event)>>,
    /// Events scheduled for the current instant while the clock stood there, in insertion
    /// order. They come after the heap's events of this instant (scheduled earlier, when the
    /// clock was behind) and before any later one, so they need no place in the heap: a
    /// third of a wide job's events skip its O(log n) push and pop.
    now_lane: VecDeque<Event>,
    seq: u64,
    now: SimTime,
    /// Events of the same time in reverse insertion order (`run --check-determinism`: a
    /// result that changes with it depends on how simultaneous events interleave).
    lifo_ties: bool,
}

impl EventQueue {
    /// An empty queue at time zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty queue whose events of the same time come out last in, first out.
    pub fn with_reversed_ties() -> Self {
        EventQueue {
            lifo_ties: true,
            ..Self::default()
        }
    }

    /// The current simulated time: the time of the last event popped.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules an event; `at` must not be in the past.
    #[inline]
    pub fn schedule(&mut self, at: SimTime, event: Event) {
        debug_assert!(
            at >= self.now,
            "event {event:?} scheduled at {at:?} before now {:?}",
            self.now
        );
        let at = at.max(self.now);
        if at == self.now && !self.lifo_ties {
            self.now_lane.push_back(event);
            self.seq += 1;
            return;
        }
        let order = if self.lifo_ties {
            u64::MAX - self.seq
        } else {
            self.seq
        };
        self.heap.push(Reverse((at, order, event)));
        self.seq += 1;
    }

    /// Removes the next event and advances the clock to it.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, Event)> {
        let heap_first = self
            .heap
            .peek()
            .is_some_and(|Reverse((t, _, _))| *t == self.now);
        if !heap_first && let Some(e) = self.now_lane.pop_front() {
            return Some((self.now, e));
        }
        let Reverse((t, _, e)) = self.heap.pop()?;
        self.now = t;
        Some((t, e))
    }

    /// Drops every pending event for which `drop` is true (a failover cancels tasks).
    pub fn discard(&mut self, mut drop: impl FnMut(&Event) -> bool) {
        self.heap.retain(|Reverse((_, _, e))| !drop(e));
        self.now_lane.retain(|e| !drop(e));
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len() + self.now_lane.len()
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty() && self.now_lane.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T5: SimTime = SimTime::from_nanos(5);
    const T10: SimTime = SimTime::from_nanos(10);

    /// Schedules two events at 10 ns and two at 5 ns, interleaved, and pops them all.
    fn popped(mut q: EventQueue) -> (Vec<(SimTime, Event)>, SimTime) {
        q.schedule(T10, Event::WorkDone { task: 1 });
        q.schedule(T5, Event::WorkDone { task: 2 });
        q.schedule(T10, Event::WorkDone { task: 0 });
        q.schedule(T5, Event::FlushTick { task: 9 });
        let order = std::iter::from_fn(|| q.pop()).collect();
        (order, q.now())
    }

    #[test]
    fn orders_by_time_then_by_insertion() {
        let (order, now) = popped(EventQueue::new());
        let want = vec![
            (T5, Event::WorkDone { task: 2 }),
            (T5, Event::FlushTick { task: 9 }),
            (T10, Event::WorkDone { task: 1 }),
            (T10, Event::WorkDone { task: 0 }),
        ];
        assert_eq!(order, want);
        assert_eq!(now, T10);
    }

    /// One step of a random schedule: schedule an event `delta` ns from now, pop one, or
    /// discard the events of tasks with `task % 3 == r`.
    #[derive(Debug, Clone)]
    enum Op {
        Schedule { delta: u64, task: u32 },
        Pop,
        Discard { r: u32 },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u64..3, 0u32..50).prop_map(|(delta, task)| Op::Schedule { delta, task }),
            2 => Just(Op::Pop),
            1 => (0u32..3).prop_map(|r| Op::Discard { r }),
        ]
    }

    proptest! {
        /// The same-instant lane is invisible: under any interleaving of schedules (many at
        /// the current instant), pops and discards, events come out exactly as from one
        /// list sorted by time and then insertion order.
        #[test]
        fn events_come_out_by_time_then_insertion_whatever_lane_they_took(
            ops in proptest::collection::vec(op(), 0..200)
        ) {
            let mut q = EventQueue::new();
            let mut model: Vec<(SimTime, u64, Event)> = Vec::new();
            let mut seq = 0;
            for op in ops {
                match op {
                    Op::Schedule { delta, task } => {
                        let at = SimTime::from_nanos(q.now().as_nanos() + delta);
                        q.schedule(at, Event::WorkDone { task });
                        model.push((at, seq, Event::WorkDone { task }));
                        seq += 1;
                    }
                    Op::Pop => {
                        model.sort();
                        let want = (!model.is_empty()).then(|| model.remove(0));
                        prop_assert_eq!(q.pop(), want.map(|(t, _, e)| (t, e)));
                    }
                    Op::Discard { r } => {
                        let gone = |e: &Event| e.task().is_some_and(|t| t % 3 == r);
                        q.discard(gone);
                        model.retain(|(_, _, e)| !gone(e));
                    }
                }
                prop_assert_eq!(q.len(), model.len());
            }
        }
    }

    #[test]
    fn reversed_ties_keep_time_order_and_reverse_only_simultaneous_events() {
        let (order, _) = popped(EventQueue::with_reversed_ties());
        let want = vec![
            (T5, Event::FlushTick { task: 9 }),
            (T5, Event::WorkDone { task: 2 }),
            (T10, Event::WorkDone { task: 0 }),
            (T10, Event::WorkDone { task: 1 }),
        ];
        assert_eq!(order, want);
    }
}
