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
//!   restore either. Both are rejected here with Flink's messages, pointing at the file.

use super::model::{Scenario, Spanned};
use super::raw::{RawRescale, RawSavepoint};
use super::validate::Checker;
use super::{JobConfig, NodeDef};
use crate::core::time::{SimDuration, SimTime};
use crate::flink::keygroup::{UPPER_BOUND_MAX_PARALLELISM, default_max_parallelism};
use std::ops::Range;
use toml::Spanned as TSpanned;

/// Default time between the old job stopping and the new one being submitted.
pub const DEFAULT_DOWNTIME: SimDuration = crate::core::defaults::savepoint::RESCALE_DOWNTIME;

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
        super::CheckpointConfig {
            interval: SimDuration::from_secs(u64::from(u32::MAX)),
            mode: super::CheckpointMode::ExactlyOnce,
            timeout: crate::core::defaults::checkpointing::TIMEOUT,
            min_pause: crate::core::defaults::checkpointing::MIN_PAUSE,
            max_concurrent: crate::core::defaults::checkpointing::MAX_CONCURRENT,
            tolerable_failures: crate::core::defaults::checkpointing::TOLERABLE_FAILURES,
            unaligned: false,
            aligned_timeout: crate::core::defaults::checkpointing::ALIGNED_TIMEOUT,
            compare_aligned: false,
            storage_bandwidth: crate::core::defaults::checkpointing::STORAGE_BANDWIDTH_BYTES_PER_S,
            storage_latency: crate::core::defaults::checkpointing::STORAGE_LATENCY,
            retained: crate::core::defaults::checkpointing::NUM_RETAINED,
            span: 0..0,
        }
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

impl Checker {
    /// Reads the `[[savepoint]]` tables (times before the input's end, when it is known).
    pub(super) fn savepoints(
        &mut self,
        raw: &[TSpanned<RawSavepoint>],
        nodes: &[NodeDef],
    ) -> Vec<SavepointSpec> {
        let end = super::recovery::input_end(nodes);
        raw.iter()
            .filter_map(|r| {
                let at = SimTime::ZERO.plus(self.duration(&r.get_ref().at, "savepoint.at")?);
                self.before_end(at, end, r.get_ref().at.span(), "savepoint")?;
                Some(SavepointSpec { at, span: r.span() })
            })
            .collect()
    }

    fn before_end(
        &mut self,
        at: SimTime,
        end: Option<SimTime>,
        span: Range<usize>,
        what: &str,
    ) -> Option<()> {
        if let Some(end) = end
            && at >= end
        {
            self.error(
                Some(span),
                format!(
                    "this {what} at {at} comes after the input ends (at {end}): the job will have finished"
                ),
                "Flink cannot take a savepoint of a finished job; pick a time while the sources still produce",
            );
            return None;
        }
        Some(())
    }

    /// Reads `[rescale]` and rejects what Flink could not restore.
    pub(super) fn rescale(
        &mut self,
        raw: &TSpanned<RawRescale>,
        nodes: &[NodeDef],
        job: &JobConfig,
    ) -> Option<RescaleSpec> {
        let r = raw.get_ref();
        let at = SimTime::ZERO.plus(self.duration(&r.at, "rescale.at")?);
        self.before_end(
            at,
            super::recovery::input_end(nodes),
            r.at.span(),
            "rescale",
        )?;
        let downtime = match &r.downtime {
            Some(d) => self.duration(d, "rescale.downtime")?,
            None => DEFAULT_DOWNTIME,
        };
        let max_parallelism = match &r.max_parallelism {
            Some(m) => Some(Spanned {
                value: self.count(
                    m,
                    "rescale.max_parallelism",
                    i64::from(UPPER_BOUND_MAX_PARALLELISM),
                )?,
                span: m.span(),
            }),
            None => None,
        };
        let mut parallelism = Vec::new();
        let mut ok = true;
        if let Some(map) = &r.parallelism {
            for (name, p) in map.get_ref() {
                let Some(node) = nodes
                    .iter()
                    .position(|n| n.name == *name && !n.is_virtual())
                else {
                    let known: Vec<&str> = nodes
                        .iter()
                        .filter(|n| !n.is_virtual())
                        .map(|n| n.name.as_str())
                        .collect();
                    self.error(
                        Some(p.span()),
                        format!("unknown operator `{name}` in rescale.parallelism"),
                        format!("known operators: {}", known.join(", ")),
                    );
                    ok = false;
                    continue;
                };
                let Some(v) = self.count(
                    p,
                    "rescale.parallelism",
                    i64::from(UPPER_BOUND_MAX_PARALLELISM),
                ) else {
                    ok = false;
                    continue;
                };
                parallelism.push((
                    node,
                    Spanned {
                        value: v,
                        span: p.span(),
                    },
                ));
            }
        }
        // Flink 2.3, restoring the savepoint (Checkpoints.loadAndValidateCheckpoint): an
        // explicitly set max parallelism must equal the savepoint's.
        if let Some(m) = &max_parallelism {
            if let Some(n) = nodes
                .iter()
                .find(|n| !n.is_virtual() && max_parallelism_of(job, n) != m.value)
            {
                let old = max_parallelism_of(job, n);
                self.error(
                    Some(m.span.clone()),
                    format!(
                        "Failed to rollback to checkpoint/savepoint Checkpoint Metadata. Max parallelism mismatch between checkpoint/savepoint state and new program. Cannot map operator {} with max parallelism {old} to new program with max parallelism {}. This indicates that the program has been changed in a non-compatible way after the checkpoint/savepoint.",
                        n.name, m.value
                    ),
                    format!(
                        "the savepoint's key groups are fixed at {old}: remove max_parallelism here or set it to {old} (Flink names the operator by its id)"
                    ),
                );
                ok = false;
            }
        } else {
            // No explicit max parallelism: the savepoint's is adopted, and the new parallelism
            // must fit in it (StateAssignmentOperation.checkParallelismPreconditions).
            for (node, p) in &parallelism {
                let old = max_parallelism_of(job, &nodes[*node]);
                if p.value > old {
                    self.error(
                        Some(p.span.clone()),
                        format!(
                            "The state for task {} can not be restored. The maximum parallelism ({old}) of the restored state is lower than the configured parallelism ({}). Please reduce the parallelism of the task to be lower or equal to the maximum parallelism.",
                            nodes[*node].name, p.value
                        ),
                        format!("the savepoint has {old} key groups; at most {old} subtasks can share them"),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(RescaleSpec {
            at,
            downtime,
            parallelism,
            max_parallelism,
            span: raw.span(),
        })
    }
}

#[cfg(test)]
mod tests {
    const JOB: &str = "[job]\nparallelism = 2\n[[source]]\nname = \"a\"\nkind = \"generator\"\nrate = 100\nduration = \"10 s\"\nfields.k = { kind = \"key\", count = 5 }\n[[operator]]\nname = \"by\"\nkind = \"key_by\"\ninput = \"a\"\nkey = \"k\"\n[[operator]]\nname = \"n\"\nkind = \"reduce\"\ninput = \"by\"\nfunction = \"count\"\n[[sink]]\nname = \"out\"\ninput = \"n\"\n";

    fn errors(extra: &str) -> String {
        match crate::scenario::parse_str("t.toml", &format!("{extra}\n{JOB}"), None) {
            Ok(_) => String::new(),
            Err(d) => d.to_string(),
        }
    }

    #[test]
    fn a_changed_max_parallelism_is_rejected_with_flinks_savepoint_message() {
        let e = errors("[rescale]\nat = \"2 s\"\nmax_parallelism = 256");
        assert!(
            e.contains("Max parallelism mismatch between checkpoint/savepoint state and new program. Cannot map operator a with max parallelism 128 to new program with max parallelism 256."),
            "{e}"
        );
        assert!(e.contains("t.toml:3:19"), "{e}");
        // the same max parallelism is fine
        assert_eq!(errors("[rescale]\nat = \"2 s\"\nmax_parallelism = 128"), "");
    }

    #[test]
    fn a_parallelism_above_the_adopted_max_parallelism_cannot_restore() {
        let e = errors("[rescale]\nat = \"2 s\"\nparallelism = { n = 129 }");
        assert!(
            e.contains("The maximum parallelism (128) of the restored state is lower than the configured parallelism (129)"),
            "{e}"
        );
        assert_eq!(
            errors("[rescale]\nat = \"2 s\"\nparallelism = { n = 128 }"),
            ""
        );
    }

    #[test]
    fn savepoints_and_rescales_must_come_before_the_input_ends() {
        assert!(errors("[[savepoint]]\nat = \"10 s\"").contains("comes after the input ends"));
        assert!(errors("[rescale]\nat = \"11 s\"").contains("comes after the input ends"));
        assert_eq!(errors("[[savepoint]]\nat = \"9 s\""), "");
    }
}
