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
//! ```toml
//! [chaos]
//! kinds = ["kill_subtask", "kill_task_manager", "straggler"]  # default: every kind
//! mean_interval = "20 s"    # average time between faults
//! min_stable = "5 s"        # no fault sooner than this after the start or the previous one
//! until = "60 s"            # end of the faulty phase (default: when the input ends)
//! ```

use super::recovery::{Fault, FaultKind, FaultTime};
use super::{NodeDef, Scenario};
use crate::core::rng::{SeedTree, SimRng};
use crate::core::time::{SimDuration, SimTime};

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

/// Draws the faults of `profile` for scenario `s` from `seed`.
pub fn draw(s: &Scenario, profile: &ChaosProfile, seed: u64) -> Result<Vec<Fault>, ChaosError> {
    let until = match profile.until {
        Some(t) => t,
        None => super::input_end(&s.nodes).ok_or(ChaosError::NoEnd)?,
    };
    let kinds: Vec<ChaosKind> = profile
        .kinds
        .iter()
        .copied()
        .filter(|k| !k.between_task_managers() || s.cluster.task_managers >= 2)
        .collect();
    let targets: Vec<(usize, u32)> = s
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| !n.is_virtual())
        .map(|(i, n)| (i, parallelism(n, s)))
        .collect();
    let mut rng = SeedTree::new(seed).stream("chaos");
    let mut faults = Vec::new();
    if kinds.is_empty() || targets.is_empty() {
        return Ok(faults);
    }
    let extra_mean = SimDuration::from_nanos(
        profile
            .mean_interval
            .as_nanos()
            .saturating_sub(profile.min_stable.as_nanos()),
    );
    let mut at = SimTime::ZERO;
    loop {
        let wait = -(1.0 - rng.unit_f64()).ln() * extra_mean.as_nanos() as f64;
        at = at
            .plus(profile.min_stable)
            .plus(SimDuration::from_nanos(wait as u64));
        if at >= until {
            break;
        }
        let kind = kinds[rng.below(kinds.len() as u64) as usize];
        faults.push(Fault {
            at: FaultTime::At(at),
            kind: fault_kind(kind, s, &targets, &mut rng),
            span: 0..0,
        });
    }
    Ok(faults)
}

fn parallelism(n: &NodeDef, s: &Scenario) -> u32 {
    n.parallelism
        .as_ref()
        .map_or(s.job.parallelism, |p| p.value)
}

/// Uniform in `[lo, hi]` milliseconds.
fn millis(rng: &mut SimRng, lo: u64, hi: u64) -> SimDuration {
    SimDuration::from_millis(lo + rng.below(hi - lo + 1))
}

fn fault_kind(k: ChaosKind, s: &Scenario, targets: &[(usize, u32)], rng: &mut SimRng) -> FaultKind {
    let tms = s.cluster.task_managers;
    let subtask = |rng: &mut SimRng| {
        let (node, par) = targets[rng.below(targets.len() as u64) as usize];
        (node, rng.below_u32(par))
    };
    let pair = |rng: &mut SimRng| {
        let a = rng.below_u32(tms);
        let b = (a + 1 + rng.below_u32(tms - 1)) % tms;
        (a.min(b), a.max(b))
    };
    match k {
        ChaosKind::KillSubtask => {
            let (node, subtask) = subtask(rng);
            FaultKind::KillSubtask { node, subtask }
        }
        ChaosKind::KillTaskManager => FaultKind::KillTaskManager {
            tm: rng.below_u32(tms),
            replacement_delay: millis(rng, 1_000, 10_000),
        },
        ChaosKind::JobManager => FaultKind::JobManager { ha: true },
        ChaosKind::NetworkDelay => FaultKind::NetworkDelay {
            between: pair(rng),
            extra: millis(rng, 50, 500),
            duration: millis(rng, 1_000, 5_000),
        },
        ChaosKind::NetworkPartition => FaultKind::NetworkPartition {
            between: pair(rng),
            duration: millis(rng, 1_000, 5_000),
        },
        ChaosKind::Straggler => {
            let (node, subtask) = subtask(rng);
            FaultKind::Straggler {
                node,
                subtask,
                factor: (2 + rng.below(9)) as f64,
                duration: millis(rng, 1_000, 5_000),
            }
        }
        ChaosKind::StorageFailure => FaultKind::StorageFailure {
            duration: millis(rng, 1_000, 5_000),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse_str;

    fn scenario(extra: &str) -> Scenario {
        let text = format!(
            r#"
name = "c"
[cluster]
task_managers = 3
slots_per_task_manager = 2
[job]
parallelism = 2
[checkpointing]
interval = "1 s"
[[source]]
name = "s"
kind = "generator"
rate = 1000
duration = "120 s"
fields.n = {{ kind = "sequence" }}
[[operator]]
name = "m"
kind = "map"
input = "s"
parallelism = 3
select = {{ n = "n" }}
[[sink]]
name = "out"
input = "m"
{extra}
"#
        );
        parse_str("c.toml", &text, None).unwrap_or_else(|d| panic!("{}", d.render()))
    }

    #[test]
    fn faults_keep_the_minimum_stable_time_and_stop_at_the_end_of_the_input() {
        let s = scenario("");
        let p = ChaosProfile {
            mean_interval: SimDuration::from_secs(8),
            ..ChaosProfile::default()
        };
        let f = draw(&s, &p, 7).unwrap();
        assert!(f.len() >= 5, "about 120 / 8 faults: {}", f.len());
        let mut last = SimTime::ZERO;
        for x in &f {
            let FaultTime::At(t) = x.at else { panic!() };
            assert!(t.since(last) >= p.min_stable, "{t} after {last}");
            assert!(t < SimTime::ZERO.plus(SimDuration::from_secs(120)));
            last = t;
        }
    }

    #[test]
    fn the_same_seed_draws_the_same_faults_and_another_seed_others() {
        let s = scenario("");
        let p = ChaosProfile::default();
        assert_eq!(draw(&s, &p, 1).unwrap(), draw(&s, &p, 1).unwrap());
        assert_ne!(draw(&s, &p, 1).unwrap(), draw(&s, &p, 2).unwrap());
    }

    #[test]
    fn targets_exist_and_only_allowed_kinds_strike() {
        let s = scenario("");
        let p = ChaosProfile {
            kinds: vec![ChaosKind::KillSubtask, ChaosKind::NetworkPartition],
            mean_interval: SimDuration::from_secs(5),
            min_stable: SimDuration::from_secs(1),
            until: None,
        };
        for seed in 0..20 {
            for f in draw(&s, &p, seed).unwrap() {
                match f.kind {
                    FaultKind::KillSubtask { node, subtask } => {
                        let par = parallelism(&s.nodes[node], &s);
                        assert!(subtask < par, "{} #{subtask}", s.nodes[node].name);
                        assert!(!s.nodes[node].is_virtual());
                    }
                    FaultKind::NetworkPartition { between, .. } => {
                        assert!(between.0 < between.1 && between.1 < 3, "{between:?}");
                    }
                    other => panic!("{other:?} was not allowed"),
                }
            }
        }
    }

    #[test]
    fn an_endless_input_needs_until() {
        // no rate: as fast as the job can go, so the end is not known before running
        let text = "name = \"c\"\n[[source]]\nname = \"s\"\nkind = \"generator\"\ncount = 10\n\
                    fields.n = { kind = \"sequence\" }\n[[sink]]\nname = \"o\"\ninput = \"s\"\n";
        let s = parse_str("c.toml", text, None).unwrap();
        assert_eq!(
            draw(&s, &ChaosProfile::default(), 1),
            Err(ChaosError::NoEnd)
        );
    }
}
