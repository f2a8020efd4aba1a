//! Crash points: the scenario run once per single failure placed at a step of one checkpoint's
//! protocol, for every subtask, every TaskManager and the JobManager. The steps, in order:
//! right after its trigger (barriers injected at the sources); after the failing subtask's
//! own snapshot (its barriers aligned, the synchronous part done, nothing uploaded yet) and
//! after its acknowledgement (the asynchronous upload done, the coordinator told) — these two
//! only for subtask targets, as they name the subtask; after every task snapshotted and every
//! two-phase-commit sink pre-committed; after its completion (before the sinks commit); after
//! the notification reached every task (the sinks committed). Each run is compared with the
//! fault-free run, sink by sink: exactly once, duplicates, missing, or the job failed. The
//! scenario's own faults are left out, so each run has exactly one crash.

use crate::core::defaults::cluster::TASK_MANAGER_REPLACEMENT_DELAY;
use crate::plan::Plan;
use crate::report::{RunReport, Status};
use crate::scenario::{CheckpointPhase, Fault, FaultKind, FaultTime, Scenario};
use serde::Serialize;

/// What may be killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Every subtask of every task (one failure per subtask).
    Task,
    /// Every TaskManager.
    TaskManager,
    /// The JobManager (with HA: the job recovers from the latest checkpoint).
    JobManager,
}

impl Target {
    /// Its name on the command line.
    pub fn parse(s: &str) -> Option<Target> {
        match s {
            "task" | "subtask" => Some(Target::Task),
            "taskmanager" | "tm" => Some(Target::TaskManager),
            "jobmanager" | "jm" => Some(Target::JobManager),
            _ => None,
        }
    }
}

/// A step of the checkpoint protocol a crash is placed right after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Barriers injected at the sources.
    Trigger,
    /// The failing subtask took its snapshot (subtask targets only).
    Snapshot,
    /// The failing subtask's acknowledgement reached the coordinator (subtask targets only).
    Ack,
    /// Every task snapshotted, every two-phase-commit sink pre-committed.
    PreCommit,
    /// The checkpoint completed; the sinks have not committed yet.
    Completion,
    /// Every task was notified; the sinks committed.
    Notified,
}

impl Step {
    /// Whether the step is one subtask's (only a crash of that subtask is placed after it).
    pub fn per_subtask(self) -> bool {
        matches!(self, Step::Snapshot | Step::Ack)
    }
}

/// The protocol steps, in their order, with their words.
pub const STEPS: [(Step, &str); 6] = [
    (Step::Trigger, "after trigger"),
    (Step::Snapshot, "after its snapshot"),
    (Step::Ack, "after its acknowledgement"),
    (Step::PreCommit, "after pre-commit"),
    (Step::Completion, "after completion"),
    (Step::Notified, "after notify"),
];

/// One crash point: a failure of `kind` right after `step` of checkpoint `checkpoint`.
#[derive(Debug, Clone)]
pub struct CrashPoint {
    /// The protocol step (index into [`STEPS`]).
    pub step: usize,
    /// The checkpoint.
    pub checkpoint: u64,
    /// What fails.
    pub kind: FaultKind,
    /// What fails, in words (`subtask per_5s #1`, `TaskManager 0`, `JobManager (HA)`).
    pub target: String,
}

impl CrashPoint {
    /// The engine's checkpoint phase the crash is tied to.
    pub fn phase(&self) -> CheckpointPhase {
        let (node, subtask) = match self.kind {
            FaultKind::KillSubtask { node, subtask } => (node, subtask),
            _ => (0, 0),
        };
        match STEPS[self.step].0 {
            Step::Trigger => CheckpointPhase::Trigger,
            Step::Snapshot => CheckpointPhase::SubtaskSnapshot { node, subtask },
            Step::Ack => CheckpointPhase::SubtaskAck { node, subtask },
            Step::PreCommit => CheckpointPhase::PreCommit,
            Step::Completion => CheckpointPhase::Completion,
            Step::Notified => CheckpointPhase::Notified,
        }
    }

    /// `subtask per_5s #1 after pre-commit of checkpoint 2`.
    pub fn label(&self) -> String {
        format!(
            "{} {} of checkpoint {}",
            self.target, STEPS[self.step].1, self.checkpoint
        )
    }
}

/// Every crash point of checkpoint `checkpoint` for the targets asked: every step × the
/// subtasks of every task, and the job-wide steps × the TaskManagers and the JobManager.
pub fn points(s: &Scenario, p: &Plan, checkpoint: u64, targets: &[Target]) -> Vec<CrashPoint> {
    let mut kinds: Vec<(FaultKind, String)> = Vec::new();
    if targets.contains(&Target::Task) {
        for v in &p.execution.vertices {
            let Some(&head) = v.ops.first() else { continue };
            let node = p.logical.graph[head].scenario_node;
            for subtask in 0..v.parallelism {
                kinds.push((
                    FaultKind::KillSubtask { node, subtask },
                    format!("subtask {} #{subtask}", v.name),
                ));
            }
        }
    }
    if targets.contains(&Target::TaskManager) {
        for tm in 0..s.cluster.task_managers {
            kinds.push((
                FaultKind::KillTaskManager {
                    tm,
                    replacement_delay: TASK_MANAGER_REPLACEMENT_DELAY,
                },
                format!("TaskManager {tm}"),
            ));
        }
    }
    if targets.contains(&Target::JobManager) {
        // With `[deployment]` the JobManager's HA is the deployment's (the run follows it).
        let ha = s
            .deployment
            .as_ref()
            .is_none_or(|d| d.ha != crate::flink::deployment::HighAvailability::None);
        let label = if ha {
            "JobManager (HA)"
        } else {
            "JobManager (no HA)"
        };
        kinds.push((FaultKind::JobManager { ha }, label.into()));
    }
    let mut out = Vec::new();
    for (step, (which, _)) in STEPS.iter().enumerate() {
        for (kind, target) in &kinds {
            if which.per_subtask() && !matches!(kind, FaultKind::KillSubtask { .. }) {
                continue;
            }
            out.push(CrashPoint {
                step,
                checkpoint,
                kind: kind.clone(),
                target: target.clone(),
            });
        }
    }
    out
}

/// The scenario with the crash of `point` as its only fault, compared with a fault-free run.
pub fn scenario_with(s: &Scenario, point: &CrashPoint) -> Scenario {
    let mut s = s.clone();
    s.fault_tolerance.faults = vec![Fault {
        at: FaultTime::After(point.phase(), point.checkpoint),
        kind: point.kind.clone(),
        span: 0..0,
    }];
    s.fault_tolerance.record_output = true;
    s
}

/// What one sink showed after a crash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The same rows as the fault-free run.
    ExactlyOnce,
    /// Rows shown more often, or never, against the fault-free run.
    Differs {
        /// Rows shown more often.
        duplicates: u64,
        /// Rows of the fault-free run never shown.
        missing: u64,
    },
    /// The job failed for good.
    JobFailed,
    /// The crash never struck: the checkpoint never reached that step.
    NotReached,
    /// The sink was not compared row by row (see its `compared_by`).
    NotCompared,
}

impl Outcome {
    /// Whether the sink kept exactly-once (or the crash never struck).
    pub fn is_clean(&self) -> bool {
        matches!(self, Outcome::ExactlyOnce | Outcome::NotReached)
    }

    /// The cell of the matrix.
    pub fn text(&self) -> String {
        match self {
            Outcome::ExactlyOnce => "exactly once".into(),
            Outcome::Differs {
                duplicates,
                missing,
            } => match (duplicates, missing) {
                (d, 0) => format!("{d} duplicates"),
                (0, m) => format!("{m} missing"),
                (d, m) => format!("{d} dup, {m} missing"),
            },
            Outcome::JobFailed => "job failed".into(),
            Outcome::NotReached => "not reached".into(),
            Outcome::NotCompared => "not compared".into(),
        }
    }
}

/// Each sink's outcome in a run's report (sinks in the report's order).
pub fn outcomes(r: &RunReport) -> Vec<(String, Outcome)> {
    r.sinks
        .iter()
        .map(|k| {
            let o = if !r.faults_not_reached.is_empty() {
                Outcome::NotReached
            } else if r.outcome.status == Status::Failed {
                Outcome::JobFailed
            } else {
                match (k.duplicates, k.missing) {
                    (Some(0), Some(0)) => Outcome::ExactlyOnce,
                    (Some(d), Some(m)) => Outcome::Differs {
                        duplicates: d,
                        missing: m,
                    },
                    _ => Outcome::NotCompared,
                }
            };
            (k.name.clone(), o)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(name: &str) -> (Scenario, Plan) {
        let path = format!("{}/../scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let s = crate::check::parse_str(name, &text, None).unwrap();
        let p = crate::plan::plan(&s).unwrap();
        (s, p)
    }

    /// 6 steps × subtasks + 4 job-wide steps × (TaskManagers + JobManager) points, each the
    /// only fault of its run.
    #[test]
    fn every_step_crosses_every_target() {
        let (s, p) = load("exactly_once_vs_at_least_once");
        let subtasks: u32 = p.execution.vertices.iter().map(|v| v.parallelism).sum();
        let all = [Target::Task, Target::TaskManager, Target::JobManager];
        let pts = points(&s, &p, 2, &all);
        let others = s.cluster.task_managers as usize + 1;
        assert_eq!(pts.len(), 6 * subtasks as usize + 4 * others);
        assert!(
            pts.iter()
                .filter(|p| STEPS[p.step].0.per_subtask())
                .all(|p| matches!(p.kind, FaultKind::KillSubtask { .. }))
        );
        let one = scenario_with(&s, &pts[0]);
        assert_eq!(one.fault_tolerance.faults.len(), 1);
        assert!(one.fault_tolerance.record_output);
        assert_eq!(
            points(&s, &p, 2, &[Target::TaskManager]).len(),
            4 * s.cluster.task_managers as usize
        );
    }
}
