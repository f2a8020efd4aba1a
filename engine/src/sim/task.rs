//! A task: one subtask of a chain, with its input gate, its chain of operators and its
//! record writers — the unit that runs on a core.

use super::buffer::Buffer;
use super::channel::{FloatingPool, Wanting};
use super::net::{Flusher, NetStats, RecordWriter};
use super::source::SourceState;
use crate::core::time::{SimDuration, SimTime};
use crate::ops::chain::Chain;
use std::collections::VecDeque;

/// A task's input: its channels and which of them have data (Flink's `SingleInputGate`).
#[derive(Debug)]
pub struct Gate {
    /// Input channel ids.
    pub channels: Vec<u32>,
    /// Channels with queued buffers, in the order they became non-empty (Flink's
    /// `inputChannelsWithData`): the task reads them round-robin in arrival order.
    pub available: VecDeque<u32>,
    /// Floating buffers shared by the remote channels.
    pub pool: FloatingPool,
    /// The remote channels that may want floating buffers.
    pub wanting: Wanting,
    /// Channels whose end-of-partition was consumed.
    pub ended: u32,
    /// The buffer being processed: channel, buffer, next record, next marker.
    pub current: Option<(u32, Buffer, usize, usize)>,
    /// For each channel (in `channels` order): its logical input and its index in that
    /// input's valve.
    pub slots: Vec<(usize, usize)>,
    /// One watermark valve per logical input.
    pub valves: Vec<crate::flink::valve::Valve>,
    /// The combined input watermark the chain has seen.
    pub watermark: crate::core::time::EventTime,
    /// Whether the task told downstream it is idle.
    pub idle: bool,
    /// The checkpoint barrier handler: alignment, blocked and parked channels.
    pub barriers: crate::flink::barrier::Aligner,
    /// The unaligned checkpoint whose in-flight input this gate is recording, if any.
    pub collect: Option<super::channel_state::Collect>,
    /// What the current work item did at the inputs, kept for the trace.
    pub notes: super::notes::Notes,
}

/// Work a task does before anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// A source injects the barrier of checkpoint `id` (the trigger is a mailbox action).
    Inject(u64),
    /// An unaligned barrier arrived on channel `ch` at `at`, with `pre` buffers queued ahead
    /// of it on that channel.
    Barrier {
        /// Channel id.
        ch: u32,
        /// Checkpoint id.
        id: u64,
        /// Buffers of the channel's queue that arrived before the barrier.
        pre: usize,
        /// Arrival time.
        at: SimTime,
    },
    /// The aligned checkpoint `id` this task is aligning timed out.
    Switch(u64),
    /// Every upstream task has finished: the coordinator triggers checkpoint `id` at this
    /// task directly (FLIP-147), and it starts as if its first barrier had arrived.
    Trigger(u64),
}

impl Priority {
    /// The checkpoint it belongs to.
    pub fn checkpoint(self) -> u64 {
        match self {
            Priority::Inject(id)
            | Priority::Barrier { id, .. }
            | Priority::Switch(id)
            | Priority::Trigger(id) => id,
        }
    }
}

/// Where a task is in the CPU's life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sched {
    /// Nothing to do, or blocked on output.
    Idle,
    /// Waiting for a core since this time.
    Queued(SimTime),
    /// Running a work item.
    Running,
}

/// Time accounting, as Flink's task metrics split it.
#[derive(Debug, Clone, Copy, Default)]
pub struct TaskTime {
    /// Processing (Flink's `busyTimeMsPerSecond`).
    pub busy: SimDuration,
    /// Waiting for a core: the TaskManager's CPU was shared with other subtasks.
    pub cpu_wait: SimDuration,
    /// Blocked on a full output (Flink's `backPressuredTimeMsPerSecond`).
    pub backpressured: SimDuration,
}

/// One subtask of a chain.
#[derive(Debug)]
pub struct Task {
    /// Chain (job vertex) index.
    pub vertex: usize,
    /// Subtask index.
    pub subtask: u32,
    /// TaskManager it runs on.
    pub tm: u32,
    /// The chained operators.
    pub chain: Chain,
    /// One writer per outgoing job edge.
    pub writers: Vec<RecordWriter>,
    /// The output flusher.
    pub flusher: Flusher,
    /// Sender statistics.
    pub stats: NetStats,
    /// The input gate (empty for sources).
    pub gate: Gate,
    /// Source state, for source chains.
    pub source: Option<SourceState>,
    /// CPU state.
    pub sched: Sched,
    /// The task sent end-of-partition and will finish when its work item completes.
    pub ending: bool,
    /// The task is done.
    pub finished: bool,
    /// The coordinator asked this source task to inject this checkpoint barrier.
    pub inject_barrier: Option<u64>,
    /// The task passed the barrier of this checkpoint: it snapshots when the work item ends.
    pub snapshot_due: Option<u64>,
    /// Checkpoint work that runs before any other input and even under backpressure (Flink's
    /// priority events and mailbox actions): unaligned barriers, alignment timeouts.
    pub priority: VecDeque<Priority>,
    /// A two-phase-commit sink at the end of its input: it finishes once a final checkpoint
    /// has committed its last transaction (Flink's checkpoints after tasks finish).
    pub awaiting_final: bool,
    /// Failed or cancelled; waits for a restart.
    pub cancelled: bool,
    /// CPU slowdown (a straggler fault); 1 normally.
    pub slowdown: f64,
    /// A `SourceDue` event is pending for this time.
    pub source_wake: Option<SimTime>,
    /// A `TimerDue` event is pending for this time.
    pub timer_wake: Option<SimTime>,
    /// Input watermark over time, for the lag series: `(processing time, watermark)`.
    pub watermark_trail: WatermarkTrail,
    /// Channels whose buffer the running work item used up (recycled when it completes).
    pub consumed: Vec<u32>,
    /// Blocked on output since.
    pub backpressured_since: Option<SimTime>,
    /// Time accounting.
    pub time: TaskTime,
    /// Display name: `chain #subtask`.
    pub label: String,
}

impl Task {
    /// For a source subtask, where it stands in each split it reads (its offsets, in reader
    /// order); empty for other subtasks.
    pub fn source_offsets(&self) -> Vec<super::source::SplitOffset> {
        self.source
            .as_ref()
            .map_or_else(Vec::new, super::source::SourceState::offsets)
    }

    /// Whether every writer has a free buffer, so the task may start processing.
    pub fn output_available(&self) -> bool {
        self.writers.iter().all(RecordWriter::available)
    }

    /// Whether the task has something to do at `now`.
    pub fn has_work(&self, now: SimTime) -> bool {
        if self.finished || self.ending || self.cancelled {
            return false;
        }
        if self.inject_barrier.is_some() || !self.priority.is_empty() {
            return true;
        }
        if self
            .chain
            .next_processing_timer()
            .is_some_and(|t| t <= now.as_event_time())
        {
            return true;
        }
        match &self.source {
            Some(s) if s.stopped => false,
            Some(s) => {
                s.exhausted(now)
                    || (!s.paused && !s.data_done(now) && (s.pace.is_none() || s.next_due() <= now))
                    || s.watermarks.next_tick.is_some_and(|t| t <= now)
            }
            None => self.gate.current.is_some() || !self.gate.available.is_empty(),
        }
    }

    /// Checkpoint `id` was aborted: the gate drops its alignment (and the recording of
    /// in-flight input) for it or an older one, and a source no longer injects its barrier.
    pub fn abort_checkpoint(&mut self, id: u64) {
        self.gate.barriers.abort(id, &mut self.gate.available);
        if self.gate.collect.as_ref().is_some_and(|c| c.id <= id) {
            self.gate.collect = None;
        }
        if self.inject_barrier == Some(id) {
            self.inject_barrier = None;
        }
    }
}

/// How far behind processing time a task's watermark is, sampled whenever it advances and
/// kept small: per bucket of processing time, the watermark at the end of the bucket.
#[derive(Debug, Clone, Default)]
pub struct WatermarkTrail {
    /// Bucket width (zero before the first point: then 100 ms).
    pub bucket: SimDuration,
    /// `(end of bucket, watermark)`.
    pub points: Vec<(SimTime, crate::core::time::EventTime)>,
}

impl WatermarkTrail {
    /// Most points kept.
    pub const MAX: usize = 500;

    /// The watermark became `wm` at `t`.
    pub fn record(&mut self, t: SimTime, wm: crate::core::time::EventTime) {
        if self.bucket.is_zero() {
            self.bucket = SimDuration::from_millis(100);
        }
        let b = t.next_multiple_of(self.bucket);
        match self.points.last_mut() {
            Some(last) if last.0 == b => last.1 = wm,
            _ => self.points.push((b, wm)),
        }
        if self.points.len() > Self::MAX {
            self.bucket = self.bucket * 2;
            let bucket = self.bucket;
            let mut merged: Vec<(SimTime, crate::core::time::EventTime)> = Vec::new();
            for (t, w) in self.points.drain(..) {
                let b = t.ceil_to(bucket);
                match merged.last_mut() {
                    Some(last) if last.0 == b => last.1 = w,
                    _ => merged.push((b, w)),
                }
            }
            self.points = merged;
        }
    }
}
