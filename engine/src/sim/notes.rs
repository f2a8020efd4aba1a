//! What happened at a subtask's inputs during one work item — its watermark, each input
//! channel's watermark and idleness, the checkpoint barriers it read and its alignment —
//! noted only while the run is traced (or checked). The kernel writes the notes to the trace
//! when the work item ends, each at the local time it happened
//! ([`crate::sim::trace_lines`]); `docs/trace-format.md` describes the lines they become.
//!
//! Flink's rules behind them: a channel's watermark only moves forward (the valve keeps the
//! largest seen); the subtask's watermark is the minimum over its active channels; aligned
//! barriers block the channel they arrived on until every channel delivered theirs.

use crate::core::time::{EventTime, SimTime};

/// One note; `t` is the task's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// The subtask's watermark advanced: a source's generator emitted it, or the minimum over
    /// the subtask's active input channels rose.
    Watermark {
        /// Local time.
        t: SimTime,
        /// The new watermark.
        watermark: EventTime,
    },
    /// The subtask told downstream it is idle (or active again).
    Status {
        /// Local time.
        t: SimTime,
        /// Idle rather than active.
        idle: bool,
    },
    /// The watermark of the channel in gate slot `slot` rose.
    ChannelWatermark {
        /// Local time.
        t: SimTime,
        /// Gate slot of the channel.
        slot: u32,
        /// The channel's new watermark.
        watermark: EventTime,
    },
    /// The channel in gate slot `slot` became idle, or active again.
    ChannelStatus {
        /// Local time.
        t: SimTime,
        /// Gate slot of the channel.
        slot: u32,
        /// Idle rather than active.
        idle: bool,
    },
    /// The source subtask injected the barrier of `checkpoint` between two records (the
    /// coordinator's trigger, run as a mailbox action) and snapshots its offsets.
    BarrierInjected {
        /// Local time.
        t: SimTime,
        /// Checkpoint id.
        checkpoint: u64,
    },
    /// The subtask read the aligned barrier of `checkpoint` from the channel in `slot`.
    BarrierRead {
        /// Local time.
        t: SimTime,
        /// Gate slot of the channel.
        slot: u32,
        /// Checkpoint id.
        checkpoint: u64,
        /// The barrier belongs to a checkpoint this gate already aligned, aborted or
        /// abandoned for a newer one: it is ignored.
        obsolete: bool,
        /// It was the first barrier of `checkpoint`: alignment began.
        first: bool,
        /// The channel is blocked until the alignment ends (exactly-once).
        blocked: bool,
        /// Channels that have not delivered the barrier yet (and have not ended).
        waiting_for: u32,
    },
    /// Every channel delivered the barrier of `checkpoint` (or ended): alignment is over,
    /// the subtask snapshots and forwards the barrier.
    Aligned {
        /// Local time.
        t: SimTime,
        /// Checkpoint id.
        checkpoint: u64,
        /// When alignment began (the first barrier was read).
        started: SimTime,
    },
}

/// The notes of one work item, or `None` when the run keeps none.
pub type Notes = Option<Vec<Note>>;

/// Adds `note` if notes are kept.
pub fn push(notes: &mut Notes, note: Note) {
    if let Some(n) = notes {
        n.push(note);
    }
}
