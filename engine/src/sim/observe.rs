//! The kernel's observer seam: what an in-run checker (VOPR style) is told while the
//! simulation runs, and the error that stops a run whose invariants break.
//!
//! The kernel calls an [`Observer`] at a handful of points — a buffer reaches the receiving
//! end of a channel, a work item ends (window firings), a task snapshots, the completion of a
//! checkpoint reaches a task, tasks are restored, the job is resubmitted after a savepoint.
//! The observer only reads: with it or without it the run produces the same report and trace.
//! Without one (`RunOptions::check` off) every hook is a single `Option` test per event or
//! buffer, never per record. The checkers themselves live outside the kernel
//! (`oracle::invariants`).

use super::buffer::Buffer;
use super::channel::Channel;
use super::task::Task;
use crate::core::time::SimTime;
use crate::core::value::Interner;

/// The invariants the in-run checkers hold the kernel to (DESIGN §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invariant {
    /// Watermarks never go back on a channel.
    WatermarksNeverGoBack,
    /// Barriers keep their order per channel: checkpoint ids increase on every channel.
    BarriersInOrder,
    /// No window result is emitted twice for the same key and window unless a late firing
    /// (allowed lateness) or a replay after a restore explains it.
    WindowFiresOnce,
    /// Every row of an exactly-once sink is committed once: no row of a committed
    /// transaction is committed again.
    SinkCommitsOnce,
}

impl Invariant {
    /// The invariant as a sentence.
    pub fn describe(self) -> &'static str {
        match self {
            Invariant::WatermarksNeverGoBack => "watermarks never go back on a channel",
            Invariant::BarriersInOrder => "barriers keep their order on every channel",
            Invariant::WindowFiresOnce => {
                "a window result is emitted once per key and window (unless a late firing or a replay explains it)"
            }
            Invariant::SinkCommitsOnce => "every row of an exactly-once sink is committed once",
        }
    }
}

/// A broken invariant: the engine did something Flink never does. The run stops there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invariant violated at {at}: {} — {detail}", invariant.describe())]
pub struct Violation {
    /// Which invariant.
    pub invariant: Invariant,
    /// Simulated (processing) time when it was seen.
    pub at: SimTime,
    /// What was seen, naming the channel, operator or key.
    pub detail: String,
}

/// What the kernel tells an in-run checker. Every method only reads the kernel's state,
/// except [`Observer::work_item_done`], which may empty the window operators' emission logs.
pub trait Observer {
    /// Buffer `b` reached the receiving end of channel `ch`, before any of its records or
    /// markers is handled (also a priority buffer carrying an unaligned barrier).
    fn buffer_arrived(
        &mut self,
        now: SimTime,
        ch: u32,
        b: &Buffer,
        channels: &[Channel],
        tasks: &[Task],
    );

    /// Task `ti` ended a work item at `end`: its window operators' emission logs hold what
    /// they fired. `drain`: empty the logs afterwards (no trace will read them).
    fn work_item_done(
        &mut self,
        end: SimTime,
        ti: u32,
        task: &mut Task,
        interner: &Interner,
        drain: bool,
    );

    /// Task `ti` took its snapshot for checkpoint (or savepoint) `id`; its exactly-once
    /// sinks have just pre-committed their open transactions.
    fn snapshot_taken(&mut self, now: SimTime, ti: u32, id: u64, task: &Task);

    /// The completion of checkpoint `id` reached task `ti`; its sinks have committed.
    fn checkpoint_notified(&mut self, now: SimTime, ti: u32, id: u64, task: &Task);

    /// The tasks `restarted` were redeployed and restored from checkpoint `restored` (none:
    /// from the start); `rebuilt[c]` says whether channel `c` was replaced by a new one.
    fn restored(
        &mut self,
        now: SimTime,
        restarted: &[u32],
        restored: Option<u64>,
        tasks: &[Task],
        rebuilt: &[bool],
    );

    /// The job was resubmitted from savepoint `savepoint` (a rescale): every task and
    /// channel is new.
    fn resubmitted(&mut self, now: SimTime, savepoint: u64, tasks: &[Task], channels: usize);

    /// The first violation seen, if any.
    fn violation(&self) -> Option<&Violation>;
}
