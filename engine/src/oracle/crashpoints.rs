//! Crash points: the scenario run once per single failure placed at a step of one checkpoint's
//! protocol, for every subtask, every TaskManager and the JobManager. The steps, in order:
//! - right after its trigger (barriers injected at the sources);
//! - the failing subtask's own steps (only a crash of that subtask is placed after them): its
//!   first barrier read (alignment began; subtasks with network input), its last barrier and
//!   snapshot (aligned, the synchronous part begins), the synchronous part done (the upload
//!   runs), the upload done and acknowledged;
//! - every task snapshotted and every two-phase-commit sink pre-committed;
//! - its completion (before the sinks commit);
//! - a sink subtask's own commit, before the subtasks after it hear of the completion;
//! - the notification reached every task (the sinks committed);
//! - with a `[rescale]`, the stop-with-savepoint ending the job (TaskManagers, JobManager).
//!
//! A source's barrier is injected and its snapshot taken in the same mailbox action, so a
//! source has no separate "barrier injected" step: its snapshot step is that moment. The
//! upload and the acknowledgement are one step: the engine sends the acknowledgement as the
//! upload ends.
//!
//! Each run is compared with the fault-free run, sink by sink: exactly once, duplicates,
//! missing, or the job failed. The scenario's own faults are left out, so each run has exactly
//! one crash.

use crate::core::defaults::cluster::TASK_MANAGER_REPLACEMENT_DELAY;
use crate::plan::Plan;
use crate::report::{RunReport, Status};
use crate::scenario::{CheckpointPhase, Fault, FaultKind, FaultTime, NodeKind, Scenario};
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
    /// The failing subtask read the checkpoint's first barrier: its alignment began
    /// (subtasks with network input only).
    FirstBarrier,
    /// The failing subtask's last barrier arrived (aligned) and it took its snapshot.
    Snapshot,
    /// The failing subtask's synchronous snapshot part is done; the upload runs.
    SyncDone,
    /// The failing subtask's upload is done and its acknowledgement reached the coordinator.
    Ack,
    /// Every task snapshotted, every two-phase-commit sink pre-committed.
    PreCommit,
    /// The checkpoint completed; the sinks have not committed yet.
    Completion,
    /// The failing subtask's sink committed the checkpoint's transactions; the subtasks
    /// after it have not heard of the completion yet (sink subtasks only).
    Commit,
    /// Every task was notified; the sinks committed.
    Notified,
    /// The stop-with-savepoint ended the job; the resubmission has not run (TaskManagers
    /// and the JobManager, in scenarios with a `[rescale]`).
    SavepointStop,
}

/// Which targets a step is crossed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    /// Every target: each subtask, each TaskManager, the JobManager.
    EveryTarget,
    /// Each subtask (the step is the subtask's own).
    EverySubtask,
    /// Each subtask that reads barriers from the network (not a source).
    NetworkInputSubtask,
    /// Each subtask whose chain holds a sink.
    SinkSubtask,
    /// Each TaskManager and the JobManager, when the job is stopped with a savepoint.
    ClusterWhenStopped,
}

impl Step {
    /// Which targets the step is crossed with.
    pub fn applies(self) -> Applies {
        match self {
            Step::Trigger | Step::PreCommit | Step::Completion | Step::Notified => {
                Applies::EveryTarget
            }
            Step::Snapshot | Step::SyncDone | Step::Ack => Applies::EverySubtask,
            Step::FirstBarrier => Applies::NetworkInputSubtask,
            Step::Commit => Applies::SinkSubtask,
            Step::SavepointStop => Applies::ClusterWhenStopped,
        }
    }

    /// Whether the step is one subtask's (only a crash of that subtask is placed after it).
    pub fn per_subtask(self) -> bool {
        !matches!(
            self.applies(),
            Applies::EveryTarget | Applies::ClusterWhenStopped
        )
    }
}

/// The protocol steps, in their order, with their words.
pub const STEPS: [(Step, &str); 10] = [
    (Step::Trigger, "after trigger"),
    (Step::FirstBarrier, "after its first barrier"),
    (Step::Snapshot, "after its last barrier and snapshot"),
    (Step::SyncDone, "after its synchronous part"),
    (Step::Ack, "after its upload and acknowledgement"),
    (Step::PreCommit, "after pre-commit"),
    (Step::Completion, "after completion"),
    (Step::Commit, "after its own commit"),
    (Step::Notified, "after notify"),
    (Step::SavepointStop, "after the savepoint stop"),
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
    /// The engine's checkpoint phase the crash is tied to, with its checkpoint number (0 for
    /// the savepoint stop, which the engine does not number).
    pub fn phase(&self) -> (CheckpointPhase, u64) {
        let (node, subtask) = match self.kind {
            FaultKind::KillSubtask { node, subtask } => (node, subtask),
            _ => (0, 0),
        };
        let id = self.checkpoint;
        match STEPS[self.step].0 {
            Step::Trigger => (CheckpointPhase::Trigger, id),
            Step::FirstBarrier => (CheckpointPhase::SubtaskFirstBarrier { node, subtask }, id),
            Step::Snapshot => (CheckpointPhase::SubtaskSnapshot { node, subtask }, id),
            Step::SyncDone => (CheckpointPhase::SubtaskSyncDone { node, subtask }, id),
            Step::Ack => (CheckpointPhase::SubtaskAck { node, subtask }, id),
            Step::PreCommit => (CheckpointPhase::PreCommit, id),
            Step::Completion => (CheckpointPhase::Completion, id),
            Step::Commit => (CheckpointPhase::SinkCommitted { node, subtask }, id),
            Step::Notified => (CheckpointPhase::Notified, id),
            Step::SavepointStop => (CheckpointPhase::SavepointStop, 0),
        }
    }

    /// `subtask per_5s #1 after pre-commit of checkpoint 2`.
    pub fn label(&self) -> String {
        if STEPS[self.step].0 == Step::SavepointStop {
            return format!("{} {}", self.target, STEPS[self.step].1);
        }
        format!(
            "{} {} of checkpoint {}",
            self.target, STEPS[self.step].1, self.checkpoint
        )
    }
}

/// A target and the kinds of steps it is crossed with.
struct Candidate {
    kind: FaultKind,
    target: String,
    /// A subtask: whether it reads from the network, whether its chain holds a sink.
    subtask: Option<(bool, bool)>,
}

impl Candidate {
    fn takes(&self, step: Step, stopped: bool) -> bool {
        match (step.applies(), self.subtask) {
            (Applies::EveryTarget, _) => true,
            (Applies::EverySubtask, s) => s.is_some(),
            (Applies::NetworkInputSubtask, s) => s.is_some_and(|(network, _)| network),
            (Applies::SinkSubtask, s) => s.is_some_and(|(_, sink)| sink),
            (Applies::ClusterWhenStopped, s) => s.is_none() && stopped,
        }
    }
}

/// Every crash point of checkpoint `checkpoint` for the targets asked: every step that
/// applies × the subtasks of every task, and the job-wide steps × the TaskManagers and the
/// JobManager (with the savepoint stop when the scenario rescales).
pub fn points(s: &Scenario, p: &Plan, checkpoint: u64, targets: &[Target]) -> Vec<CrashPoint> {
    let mut kinds: Vec<Candidate> = Vec::new();
    if targets.contains(&Target::Task) {
        for v in &p.execution.vertices {
            let Some(&head) = v.ops.first() else { continue };
            let node = p.logical.graph[head].scenario_node;
            let network = !matches!(s.nodes[node].kind, NodeKind::Source(_));
            let sink = v.ops.iter().any(|&o| {
                let n = p.logical.graph[o].scenario_node;
                matches!(s.nodes[n].kind, NodeKind::Sink(..))
            });
            for subtask in 0..v.parallelism {
                kinds.push(Candidate {
                    kind: FaultKind::KillSubtask { node, subtask },
                    target: format!("subtask {} #{subtask}", v.name),
                    subtask: Some((network, sink)),
                });
            }
        }
    }
    if targets.contains(&Target::TaskManager) {
        for tm in 0..s.cluster.task_managers {
            kinds.push(Candidate {
                kind: FaultKind::KillTaskManager {
                    tm,
                    replacement_delay: TASK_MANAGER_REPLACEMENT_DELAY,
                },
                target: format!("TaskManager {tm}"),
                subtask: None,
            });
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
        kinds.push(Candidate {
            kind: FaultKind::JobManager { ha },
            target: label.into(),
            subtask: None,
        });
    }
    let stopped = s.fault_tolerance.rescale.is_some();
    let mut out = Vec::new();
    for (step, (which, _)) in STEPS.iter().enumerate() {
        for c in kinds.iter().filter(|c| c.takes(*which, stopped)) {
            out.push(CrashPoint {
                step,
                checkpoint,
                kind: c.kind.clone(),
                target: c.target.clone(),
            });
        }
    }
    out
}

/// The scenario with the crash of `point` as its only fault, compared with a fault-free run.
pub fn scenario_with(s: &Scenario, point: &CrashPoint) -> Scenario {
    let mut s = s.clone();
    s.fault_tolerance.faults = vec![Fault {
        at: {
            let (phase, id) = point.phase();
            FaultTime::After(phase, id)
        },
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

    /// Every subtask takes the job-wide steps and its own three; subtasks with network input
    /// also their first barrier, sink subtasks their own commit; TaskManagers and the
    /// JobManager the four job-wide steps — each point the only fault of its run.
    #[test]
    fn every_step_crosses_every_target_it_applies_to() {
        let (s, p) = load("exactly_once_vs_at_least_once");
        let subtasks: u32 = p.execution.vertices.iter().map(|v| v.parallelism).sum();
        // Source: clicks ×2, then clicks_per_user -> sinks ×2 (network input and sinks).
        let (network, sinks) = (2, 2);
        let all = [Target::Task, Target::TaskManager, Target::JobManager];
        let pts = points(&s, &p, 2, &all);
        let others = s.cluster.task_managers as usize + 1;
        assert_eq!(
            pts.len(),
            7 * subtasks as usize + network + sinks + 4 * others
        );
        assert!(
            pts.iter()
                .filter(|p| STEPS[p.step].0.per_subtask())
                .all(|p| matches!(p.kind, FaultKind::KillSubtask { .. }))
        );
        assert!(!pts.iter().any(|p| STEPS[p.step].0 == Step::SavepointStop));
        let one = scenario_with(&s, &pts[0]);
        assert_eq!(one.fault_tolerance.faults.len(), 1);
        assert!(one.fault_tolerance.record_output);
        assert_eq!(
            points(&s, &p, 2, &[Target::TaskManager]).len(),
            4 * s.cluster.task_managers as usize
        );
    }

    /// A job stopped with a savepoint has one more step for the TaskManagers and the
    /// JobManager: the downtime between the stop and the resubmission.
    #[test]
    fn a_rescaled_job_can_crash_after_its_savepoint_stop() {
        let (s, p) = load("rescale_from_savepoint");
        let pts = points(&s, &p, 2, &[Target::TaskManager, Target::JobManager]);
        let stops: Vec<&CrashPoint> = pts
            .iter()
            .filter(|p| STEPS[p.step].0 == Step::SavepointStop)
            .collect();
        assert_eq!(stops.len(), s.cluster.task_managers as usize + 1);
        assert_eq!(stops[0].phase(), (CheckpointPhase::SavepointStop, 0));
        assert_eq!(stops[0].label(), "TaskManager 0 after the savepoint stop");
        let r = crate::oracle::run(&scenario_with(&s, stops[0]), &p, Default::default())
            .unwrap()
            .report;
        assert!(
            r.faults_not_reached.is_empty(),
            "{:?}",
            r.faults_not_reached
        );
        assert!(outcomes(&r).iter().all(|(_, o)| o.is_clean()));
    }

    /// A trace writer the test can read back.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The run of crash point `step` on subtask `#n` of the sink chain, as trace events.
    fn trace_of_crash(step: Step, n: &str) -> Vec<serde_json::Value> {
        let (s, p) = load("exactly_once_vs_at_least_once");
        let pts = points(&s, &p, 2, &[Target::Task]);
        let pt = pts
            .iter()
            .find(|x| STEPS[x.step].0 == step && x.target.contains("Sink") && x.target.ends_with(n))
            .unwrap();
        let buf = Shared::default();
        let opts = crate::sim::RunOptions {
            trace: Some(Box::new(buf.clone())),
            ..Default::default()
        };
        crate::sim::run(&scenario_with(&s, pt), &p, opts).unwrap();
        let bytes = buf.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Where the first event matching `f` is in the trace.
    fn first(t: &[serde_json::Value], f: impl Fn(&serde_json::Value) -> bool) -> Option<usize> {
        t.iter().position(f)
    }

    /// Event `event` of checkpoint 2 at sink subtask `n` (`#0`).
    fn is(e: &serde_json::Value, event: &str, n: &str) -> bool {
        e["event"] == event
            && e["checkpoint"] == 2
            && e["task"]
                .as_str()
                .is_some_and(|t| t.ends_with(&format!("committed {n}")))
    }

    /// After sink subtask #0's own commit, the crash strikes before subtask #1 commits
    /// checkpoint 2's transaction; after notify, both had committed.
    #[test]
    fn a_crash_after_one_sink_subtasks_commit_strikes_before_the_next_commits() {
        let t = trace_of_crash(Step::Commit, "#0");
        let fault = first(&t, |e| e["event"] == "fault").unwrap();
        let c0 = first(&t, |e| is(e, "commit", "#0")).unwrap();
        assert!(c0 < fault);
        assert!(first(&t, |e| is(e, "commit", "#1")).is_none_or(|c1| c1 > fault));
        let t = trace_of_crash(Step::Notified, "#0");
        let fault = first(&t, |e| e["event"] == "fault").unwrap();
        assert!(first(&t, |e| is(e, "commit", "#1")).unwrap() < fault);
    }

    /// After its first barrier the subtask is aligning: the crash strikes after alignment
    /// began and before its snapshot of checkpoint 2; after its synchronous part, the
    /// snapshot was taken.
    #[test]
    fn a_crash_after_the_first_barrier_strikes_while_aligning() {
        let t = trace_of_crash(Step::FirstBarrier, "#0");
        let fault = first(&t, |e| e["event"] == "fault").unwrap();
        assert!(first(&t, |e| is(e, "alignment_started", "#0")).unwrap() < fault);
        assert!(first(&t, |e| is(e, "snapshot", "#0")).is_none_or(|s| s > fault));
        let t = trace_of_crash(Step::SyncDone, "#0");
        let fault = first(&t, |e| e["event"] == "fault").unwrap();
        assert!(first(&t, |e| is(e, "snapshot", "#0")).unwrap() < fault);
    }
}
