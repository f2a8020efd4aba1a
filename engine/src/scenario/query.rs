//! Questions asked of a whole checked scenario, answered from its parts: when the input ends,
//! how a fault reads in a report, a node's parallelism and max parallelism, the scenario a
//! `[rescale]` resubmits. (The parts — `recovery`, `savepoint`, `chaos` — are data the model
//! holds; what reads the whole model lives here, so the parts never read it back.)

use super::model::{JobConfig, NodeDef, NodeKind, Scenario, SourceData};
use super::recovery::{Fault, FaultKind};
use crate::core::time::{SimDuration, SimTime};
use crate::flink::keygroup::default_max_parallelism;
use crate::flink::parallelism::ParallelismLevel;

impl Fault {
    /// Short description for reports and traces.
    pub fn describe(&self, s: &Scenario) -> String {
        let name = |n: usize| s.nodes[n].name.clone();
        match &self.kind {
            FaultKind::KillSubtask { node, subtask } => {
                format!("subtask {}#{subtask} killed", name(*node))
            }
            FaultKind::KillTaskManager { tm, .. } => format!("TaskManager {tm} lost"),
            FaultKind::JobManager { ha } => format!(
                "JobManager failed ({})",
                if *ha { "HA on" } else { "no HA" }
            ),
            FaultKind::NetworkDelay { between, extra, .. } => format!(
                "network between TaskManagers {} and {} slowed by {extra}",
                between.0, between.1
            ),
            FaultKind::NetworkPartition { between, .. } => format!(
                "network partition between TaskManagers {} and {}",
                between.0, between.1
            ),
            FaultKind::Straggler {
                node,
                subtask,
                factor,
                ..
            } => format!("subtask {}#{subtask} slowed {factor}×", name(*node)),
            FaultKind::StorageFailure { .. } => "checkpoint storage unavailable".into(),
        }
    }
}

/// When every source has produced its last record, if that is known before running: every
/// source is bounded and paced (a `duration`, or a `count` or rows at a `rate`).
pub fn input_end(nodes: &[NodeDef]) -> Option<SimTime> {
    let mut end = SimTime::ZERO;
    for n in nodes {
        let NodeKind::Source(src) = &n.kind else {
            continue;
        };
        let d = match (&src.data, src.rate) {
            (
                SourceData::Generator {
                    duration: Some(d), ..
                },
                _,
            ) => *d,
            (SourceData::Generator { count: Some(c), .. }, Some(r)) => {
                SimDuration::for_records(*c, r)
            }
            (
                SourceData::Rows {
                    rows,
                    repeat,
                    open_for: None,
                    ..
                },
                Some(r),
            ) => SimDuration::for_records(rows.len() as u64 * repeat, r),
            _ => return None,
        };
        end = end.max(SimTime::ZERO.plus(d));
    }
    Some(end)
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

/// The level of Flink's precedence that set a node's parallelism: its own (or `windowAll`'s
/// fixed 1), else the one that set the job's default.
pub fn parallelism_level_of(job: &JobConfig, node: &NodeDef) -> ParallelismLevel {
    match (&node.kind, &node.parallelism) {
        (crate::scenario::NodeKind::Window(w), _) if w.key.is_none() => ParallelismLevel::WindowAll,
        (_, Some(_)) => ParallelismLevel::Operator,
        (_, None) => job.parallelism_level,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::parse_str;

    fn nodes(src: &str) -> Vec<NodeDef> {
        let text =
            format!("[[source]]\nname = \"a\"\n{src}\n[[sink]]\nname = \"out\"\ninput = \"a\"\n");
        parse_str("t.toml", &text, None).unwrap().nodes
    }

    #[test]
    fn the_input_ends_when_every_source_is_bounded_and_paced() {
        let at = |s: u64| Some(SimTime::ZERO.plus(SimDuration::from_secs(s)));
        let generator = "kind = \"generator\"\nfields.k = { kind = \"sequence\" }";
        assert_eq!(
            input_end(&nodes(&format!("{generator}\ncount = 50\nrate = 10"))),
            at(5)
        );
        assert_eq!(
            input_end(&nodes(&format!(
                "{generator}\nduration = \"7 s\"\nrate = 10"
            ))),
            at(7)
        );
        // as fast as it can: the end is not known before running
        assert_eq!(input_end(&nodes(&format!("{generator}\ncount = 50"))), None);
        let rows = "kind = \"inline\"\nevents = [{ k = 1 }, { k = 2 }]\nrepeat = 3\nrate = 2";
        assert_eq!(input_end(&nodes(rows)), at(3));
    }
}
