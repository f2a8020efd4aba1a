//! The baselines' view of the scenario's `[[fault]]` tables.
//!
//! Streaming runs every fault in the simulator with Flink's checkpoints, restart strategies
//! and failover ([`crate::sim::recovery`]). The baseline models know one kind of failure: the
//! job's workers die at a moment and come back after a downtime (micro-batch re-runs its
//! batch, batch restarts its stage, acking loses its in-flight tuples and replays them).
//! This module maps the scenario's faults onto that:
//!
//! - the first fault that kills work at a processing time — a subtask, a TaskManager, or the
//!   JobManager with high availability — is the crash;
//! - its downtime is the restart delay of `[restart]` (the first delay: `delay` of fixed-delay
//!   and failure-rate, `initial_delay` of exponential-delay, 0 for `none`, since Spark and
//!   Storm restart their workers on their own), and for a lost TaskManager at least its
//!   `replacement_delay` (new workers need a machine, as Flink's restart needs slots);
//! - everything else (later crashes, faults tied to a checkpoint phase, network delays and
//!   partitions, stragglers, storage failures, a JobManager without HA) is not modelled by the
//!   baselines and is listed in the mode's notes, so nothing in the file is silently dropped;
//!   so are savepoints and a rescale.

use crate::core::time::{SimDuration, SimTime};
use crate::scenario::Scenario;
use crate::scenario::recovery::{FaultKind, FaultTime, RestartStrategy};

/// One crash of the job in a baseline mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrashSettings {
    /// When it happens, in processing time.
    pub at: SimTime,
    /// How long the job is down before it runs again.
    pub downtime: SimDuration,
}

/// The crash a baseline mode replays, and what it leaves out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BaselineFaults {
    /// The crash, if the scenario has one the baselines can model.
    pub crash: Option<CrashSettings>,
    /// Faults the baselines do not model, described for the mode's notes.
    pub ignored: Vec<String>,
}

/// Maps the scenario's `[[fault]]` tables onto the baselines' single crash.
pub fn baseline_faults(s: &Scenario) -> BaselineFaults {
    let ft = &s.fault_tolerance;
    let restart_delay = match &ft.restart.strategy {
        RestartStrategy::None => SimDuration::ZERO,
        RestartStrategy::FixedDelay { delay, .. } | RestartStrategy::FailureRate { delay, .. } => {
            *delay
        }
        RestartStrategy::ExponentialDelay { initial_delay, .. } => *initial_delay,
    };
    let mut out = BaselineFaults::default();
    for f in &ft.faults {
        let what = f.describe(s);
        let FaultTime::At(at) = f.at else {
            out.ignored.push(format!(
                "{what}: tied to a checkpoint, which the baselines do not take"
            ));
            continue;
        };
        let downtime = match &f.kind {
            FaultKind::KillSubtask { .. } | FaultKind::JobManager { ha: true } => restart_delay,
            FaultKind::KillTaskManager {
                replacement_delay, ..
            } => restart_delay.max(*replacement_delay),
            FaultKind::JobManager { ha: false } => {
                out.ignored.push(format!(
                    "{what}: without high availability the streaming job fails; the baselines do not model a lost coordinator"
                ));
                continue;
            }
            _ => {
                out.ignored
                    .push(format!("{what}: not modelled by the baselines"));
                continue;
            }
        };
        if out.crash.is_some() {
            out.ignored
                .push(format!("{what}: the baselines model only the first crash"));
            continue;
        }
        out.crash = Some(CrashSettings { at, downtime });
    }
    if !ft.savepoints.is_empty() || ft.rescale.is_some() {
        out.ignored.push(
            "[[savepoint]] / [rescale]: savepoints and rescaling are Flink's; the baselines run the job at its first parallelism throughout".into(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::parse_str;

    fn faults(extra: &str) -> BaselineFaults {
        let text = format!(
            r#"
name = "f"
[cluster]
task_managers = 2
slots_per_task_manager = 2
[job]
parallelism = 2
[checkpointing]
interval = "1 s"
[[source]]
name = "s"
kind = "generator"
rate = 1000
count = 10000
fields.n = {{ kind = "sequence" }}
[[sink]]
name = "out"
input = "s"
{extra}
"#
        );
        let s = parse_str("f.toml", &text, None).expect("valid scenario");
        baseline_faults(&s)
    }

    #[test]
    fn a_lost_task_manager_is_down_until_its_replacement_and_the_restart_delay() {
        let f = faults(
            "[restart]\nstrategy = \"fixed-delay\"\nattempts = 3\ndelay = \"500 ms\"\n\
             [[fault]]\nkind = \"kill_task_manager\"\nat = \"2 s\"\ntask_manager = 1\nreplacement_delay = \"3 s\"",
        );
        assert_eq!(
            f.crash,
            Some(CrashSettings {
                at: SimTime::from_secs(2),
                downtime: SimDuration::from_secs(3),
            })
        );
        assert!(f.ignored.is_empty());
    }

    #[test]
    fn a_killed_subtask_waits_for_the_first_exponential_delay() {
        // Flink 1.19+ default with checkpointing: exponential-delay from 1 s
        let f = faults(
            "[[fault]]\nkind = \"kill_subtask\"\nat = \"2 s\"\noperator = \"s\"\nsubtask = 0",
        );
        assert_eq!(f.crash.map(|c| c.downtime), Some(SimDuration::from_secs(1)));
    }

    #[test]
    fn only_the_first_crash_is_modelled_and_the_rest_is_listed() {
        let f = faults(
            "[[fault]]\nkind = \"kill_subtask\"\nat = \"2 s\"\noperator = \"s\"\nsubtask = 0\n\
             [[fault]]\nkind = \"kill_subtask\"\nat = \"4 s\"\noperator = \"s\"\nsubtask = 1\n\
             [[fault]]\nkind = \"storage_failure\"\nat = \"5 s\"\nduration = \"1 s\"",
        );
        assert_eq!(f.crash.map(|c| c.at), Some(SimTime::from_secs(2)));
        assert_eq!(f.ignored.len(), 2, "{:?}", f.ignored);
        assert!(
            f.ignored[0].contains("only the first crash"),
            "{:?}",
            f.ignored
        );
        assert!(f.ignored[1].contains("not modelled"), "{:?}", f.ignored);
    }
}
