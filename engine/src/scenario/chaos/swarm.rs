//! Swarm testing (Groce et al., "Swarm Testing", ISSTA 2012) for `streamlab chaos`: run `i`
//! of a campaign draws its own seed from the campaign's seed and `i`, then a random subset of
//! the allowed fault kinds — not every kind in every run, so that a fault kind that masks
//! another (a straggler slowing the job so much that a kill never meets a pending
//! transaction) is left out of some runs — and then its faults, as [`super::draw`] does.

use super::{ChaosError, ChaosKind, ChaosProfile};
use crate::core::rng::SeedTree;
use crate::scenario::model::Scenario;
use crate::scenario::recovery::Fault;

/// The seed of run `run` of a campaign with seed `seed` (stream `chaos run <i>`).
pub fn run_seed(seed: u64, run: u64) -> u64 {
    SeedTree::new(seed)
        .stream(&format!("chaos run {run}"))
        .next_u64()
}

/// The kinds of `profile` that can strike in `s` (network faults need two TaskManagers).
pub fn usable_kinds(s: &Scenario, profile: &ChaosProfile) -> Vec<ChaosKind> {
    profile
        .kinds
        .iter()
        .copied()
        .filter(|k| !k.between_task_managers() || s.cluster.task_managers >= 2)
        .collect()
}

/// A non-empty random subset of `kinds` drawn from `run_seed` (each kind in with
/// probability ½, drawn again while empty), in the order of `kinds`.
pub fn subset(kinds: &[ChaosKind], run_seed: u64) -> Vec<ChaosKind> {
    if kinds.is_empty() {
        return Vec::new();
    }
    let mut rng = SeedTree::new(run_seed).stream("chaos kinds");
    loop {
        let chosen: Vec<ChaosKind> = kinds
            .iter()
            .copied()
            .filter(|_| rng.below(2) == 1)
            .collect();
        if !chosen.is_empty() {
            return chosen;
        }
    }
}

/// One run of a campaign: its seed, the kinds it allowed and the faults it drew.
#[derive(Debug, Clone, PartialEq)]
pub struct SwarmRun {
    /// The run's seed (from the campaign's seed and the run's index).
    pub seed: u64,
    /// The subset of kinds this run drew its faults from.
    pub kinds: Vec<ChaosKind>,
    /// The faults, in time order.
    pub faults: Vec<Fault>,
}

/// Run `run` of a campaign with seed `seed` on scenario `s` under `profile`.
pub fn swarm_run(
    s: &Scenario,
    profile: &ChaosProfile,
    seed: u64,
    run: u64,
) -> Result<SwarmRun, ChaosError> {
    let rs = run_seed(seed, run);
    let kinds = subset(&usable_kinds(s, profile), rs);
    let p = ChaosProfile {
        kinds: kinds.clone(),
        ..profile.clone()
    };
    Ok(SwarmRun {
        seed: rs,
        faults: super::draw(s, &p, rs)?,
        kinds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_get_their_own_seeds_and_the_same_run_the_same_seed() {
        assert_eq!(run_seed(7, 3), run_seed(7, 3));
        assert_ne!(run_seed(7, 3), run_seed(7, 4));
        assert_ne!(run_seed(7, 3), run_seed(8, 3));
    }

    #[test]
    fn a_subset_is_never_empty_and_varies_from_run_to_run() {
        let all = ChaosKind::ALL.to_vec();
        let mut sizes = std::collections::BTreeSet::new();
        for r in 0..50 {
            let s = subset(&all, run_seed(1, r));
            assert!(!s.is_empty());
            assert!(s.iter().all(|k| all.contains(k)));
            sizes.insert(s.len());
        }
        assert!(sizes.len() >= 3, "subsets of several sizes: {sizes:?}");
        assert!(!sizes.contains(&all.len()) || sizes.len() > 1);
        assert_eq!(
            subset(&[ChaosKind::Straggler], 5),
            vec![ChaosKind::Straggler]
        );
        assert!(subset(&[], 5).is_empty());
    }
}
