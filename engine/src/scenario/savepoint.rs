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

use super::model::{Scenario, Spanned};
use super::{JobConfig, NodeDef};
use crate::core::time::{SimDuration, SimTime};
use crate::flink::keygroup::default_max_parallelism;
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

impl super::CheckpointConfig {
    /// The coordinator's settings when only savepoints are taken (no `[checkpointing]`):
    /// Flink's defaults, periodic triggering off.
    pub fn savepoints_only() -> Self {
        super::CheckpointConfig::with_defaults(SimDuration::from_secs(u64::from(u32::MAX)), 0..0)
    }
}

/// The max parallelism a node runs with: `[job] max_parallelism` or Flink's default for its
/// parallelism (`KeyGroupRangeAssignment.computeDefaultMaxParallelism`).
pub fn max_parallelism_of(job: &JobConfig, node: &NodeDef) -> u32 {
    job.max_parallelism.as_ref().map_or_else(
        || default_max_parallelism(parallelism_of(job, node)),
        |m| m.value,
    )
}

/// A node's parallelism (its own, else the job's default).
pub fn parallelism_of(job: &JobConfig, node: &NodeDef) -> u32 {
    node.parallelism
        .as_ref()
        .map_or(job.parallelism, |p| p.value)
}

/// The scenario the job is resubmitted as after `[rescale]`: new parallelism per operator
/// (each pointing at the rescale entry that set it, so planner errors land there) and the
/// new explicit max parallelism. `None` without a `[rescale]` table. The max parallelism a
/// node adopts from the savepoint is applied by the planner ([`crate::plan::plan`]).
pub fn rescaled(s: &Scenario) -> Option<Scenario> {
    let r = s.fault_tolerance.rescale.as_ref()?;
    let mut t = s.clone();
    for (node, p) in &r.parallelism {
        t.nodes[*node].parallelism = Some(p.clone());
    }
    if let Some(m) = &r.max_parallelism {
        t.job.max_parallelism = Some(m.clone());
    }
    t.fault_tolerance.savepoints.clear();
    t.fault_tolerance.rescale = None;
    Some(t)
}
