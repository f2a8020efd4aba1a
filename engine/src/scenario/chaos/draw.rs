//! Drawing a chaos profile's faults from the run's seed (the rules are in the parent module's
//! documentation).

use super::{ChaosError, ChaosKind, ChaosProfile};
use crate::core::rng::{SeedTree, SimRng};
use crate::core::time::{SimDuration, SimTime};
use crate::scenario::model::Scenario;
use crate::scenario::query::{input_end, parallelism_of};
use crate::scenario::recovery::{Fault, FaultKind, FaultTime};

/// Draws the faults of `profile` for scenario `s` from `seed`.
pub fn draw(s: &Scenario, profile: &ChaosProfile, seed: u64) -> Result<Vec<Fault>, ChaosError> {
    let until = match profile.until {
        Some(t) => t,
        None => input_end(&s.nodes).ok_or(ChaosError::NoEnd)?,
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
        .map(|(i, n)| (i, parallelism_of(&s.job, n)))
        .collect();
    let mut rng = SeedTree::new(seed).stream("chaos");
    let mut faults = Vec::new();
    if kinds.is_empty() || targets.is_empty() {
        return Ok(faults);
    }
    let extra_mean = profile.mean_interval.saturating_sub(profile.min_stable);
    let mut at = SimTime::ZERO;
    loop {
        let wait = rng.exponential(extra_mean);
        at = at.plus(profile.min_stable).plus(wait);
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
    use crate::check::parse_str;

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
                        let par = parallelism_of(&s.job, &s.nodes[node]);
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
