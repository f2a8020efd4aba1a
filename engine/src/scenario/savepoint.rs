//! `[[savepoint]]` and `[rescale]`: savepoints at a time, and rescaling a job through
//! stop-with-savepoint and a restart from that savepoint with new parallelism.
//!
//! Flink semantics (Flink 2.3; see docs/scenario-format.md and docs/scenarios/
//! rescale_from_savepoint.md):
//! - A savepoint needs no periodic checkpointing: the checkpoint coordinator of a streaming
//!   job exists either way (`flink savepoint <jobId>` works on a job without
//!   `execution.checkpointing.interval`).
//! - `[rescale]` is `flink stop --savepointPath … <jobId>` at `at`, then, `downtime` later,
//!   `flink run -s <savepoint> -p …` with the new parallelism per operator.
//! - The savepoint keeps each operator's max parallelism (the number of key groups). A new
//!   job that sets a different max parallelism explicitly cannot restore it; one that sets
//!   none adopts the savepoint's. A parallelism above the adopted max parallelism cannot
//!   restore either. Both are rejected by [`crate::check::savepoint`] with Flink's messages,
//!   pointing at the file.

use super::spanned::Spanned;
use crate::core::time::{SimDuration, SimTime};
use std::ops::Range;

/// Default time between the old job stopping and the new one being submitted.
pub const DEFAULT_DOWNTIME: SimDuration = SimDuration::from_secs(1);

/// One `[[savepoint]]`: an intermediate savepoint; the job keeps running.
#[derive(Debug, Clone, PartialEq)]
pub struct SavepointSpec {
    /// When it is triggered (processing time).
    pub at: SimTime,
    /// Where the table was written.
    pub span: Range<usize>,
}

/// `[rescale]`: stop-with-savepoint at `at`, resubmit `downtime` after the stop.
#[derive(Debug, Clone, PartialEq)]
pub struct RescaleSpec {
    /// When the stop-with-savepoint is triggered.
    pub at: SimTime,
    /// From the old job's end to the new job's submission.
    pub downtime: SimDuration,
    /// New parallelism per scenario node (nodes not named keep theirs).
    pub parallelism: Vec<(usize, Spanned<u32>)>,
    /// A new explicit max parallelism (`pipeline.max-parallelism`), if set.
    pub max_parallelism: Option<Spanned<u32>>,
    /// Where the table was written.
    pub span: Range<usize>,
}
