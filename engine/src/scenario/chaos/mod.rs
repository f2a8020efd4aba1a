//! Random fault profiles (`[chaos]`, `streamlab run --chaos`): faults drawn from the seed
//! instead of written one by one.
//!
//! A profile says which kinds of fault may strike, how often on average, the minimum stable
//! time between two faults, and when the faulty phase ends. The run then has two phases, as
//! a chaos test on a real cluster would: faults while the input runs, then none until the job
//! finishes, so every recovery can complete and the outputs can be compared with the
//! fault-free run the engine performs itself.
//!
//! Drawing (stream `chaos` of the run's seed, so the same seed gives the same faults and
//! another seed other ones):
//! - the first fault comes `min_stable` after the start, later ones at least `min_stable`
//!   after the previous one, plus an exponentially distributed wait of mean
//!   `mean_interval − min_stable` (a Poisson process with a dead time), while before `until`;
//! - each fault's kind is uniform over the kinds allowed (network faults need two
//!   TaskManagers); its target (operator and subtask, TaskManager, pair of TaskManagers) is
//!   uniform too; its parameters are drawn from fixed ranges written below.
//!
//! `streamlab chaos` runs a campaign of such runs: [`swarm_run`] gives run `i` its own seed
//! and a random subset of the allowed kinds (swarm testing) before drawing.
//!
//! ```toml
//! [chaos]
//! kinds = ["kill_subtask", "kill_task_manager", "straggler"]  # default: every kind
//! mean_interval = "20 s"    # average time between faults
//! min_stable = "5 s"        # no fault sooner than this after the start or the previous one
//! until = "60 s"            # end of the faulty phase (default: when the input ends)
//! ```

use crate::core::time::{SimDuration, SimTime};

mod draw;
mod swarm;
pub use draw::draw;
pub use swarm::{SwarmRun, run_seed, subset, swarm_run, usable_kinds};

/// A kind of fault a profile may draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChaosKind {
    /// A subtask throws.
    KillSubtask,
    /// A TaskManager dies; a replacement comes after 1–10 s.
    KillTaskManager,
    /// The JobManager fails over to a standby (high availability).
    JobManager,
    /// 50–500 ms extra latency between two TaskManagers for 1–5 s.
    NetworkDelay,
    /// No traffic between two TaskManagers for 1–5 s.
    NetworkPartition,
    /// A subtask runs 2–10× slower for 1–5 s.
    Straggler,
    /// Checkpoint storage unavailable for 1–5 s.
    StorageFailure,
}

impl ChaosKind {
    /// Every kind, in the order of the names.
    pub const ALL: [ChaosKind; 7] = [
        ChaosKind::KillSubtask,
        ChaosKind::KillTaskManager,
        ChaosKind::JobManager,
        ChaosKind::NetworkDelay,
        ChaosKind::NetworkPartition,
        ChaosKind::Straggler,
        ChaosKind::StorageFailure,
    ];

    /// The name in scenario files (the `kind` of the matching `[[fault]]`).
    pub fn name(self) -> &'static str {
        match self {
            ChaosKind::KillSubtask => "kill_subtask",
            ChaosKind::KillTaskManager => "kill_task_manager",
            ChaosKind::JobManager => "job_manager",
            ChaosKind::NetworkDelay => "network_delay",
            ChaosKind::NetworkPartition => "network_partition",
            ChaosKind::Straggler => "straggler",
            ChaosKind::StorageFailure => "storage_failure",
        }
    }

    /// The kind named `name` (as in scenario files; `-` for `_` and any case accepted).
    pub fn from_name(name: &str) -> Option<ChaosKind> {
        let n = name.trim().to_ascii_lowercase().replace('-', "_");
        ChaosKind::ALL.into_iter().find(|k| k.name() == n)
    }

    fn between_task_managers(self) -> bool {
        matches!(self, ChaosKind::NetworkDelay | ChaosKind::NetworkPartition)
    }
}

/// A random fault profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ChaosProfile {
    /// The kinds that may strike.
    pub kinds: Vec<ChaosKind>,
    /// Average time between faults. Default 20 s.
    pub mean_interval: SimDuration,
    /// Minimum time from the start, and between two faults. Default 5 s.
    pub min_stable: SimDuration,
    /// End of the faulty phase; `None`: when the input ends.
    pub until: Option<SimTime>,
}

impl Default for ChaosProfile {
    fn default() -> Self {
        ChaosProfile {
            kinds: ChaosKind::ALL.to_vec(),
            mean_interval: crate::core::defaults::chaos::MEAN_INTERVAL,
            min_stable: crate::core::defaults::chaos::MIN_STABLE,
            until: None,
        }
    }
}

/// Why a profile cannot be drawn for a scenario.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChaosError {
    /// No end of the faulty phase is known.
    #[error(
        "--chaos needs to know when the faulty phase ends: the input has no known end (a source without `duration`, or without `count` and `rate`); give [chaos] an `until`, such as until = \"60 s\""
    )]
    NoEnd,
}
