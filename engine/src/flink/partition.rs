//! Partitioners: which downstream channel a record goes to (Flink's `StreamPartitioner`, a
//! `ChannelSelector`). Every execution mode routes through [`target`].
//!
//! A writer has one channel per downstream subtask it is connected to: all of them for an
//! all-to-all edge, a contiguous subset for a POINTWISE edge (FORWARD, RESCALE; see
//! [`Partitioner::is_pointwise`]). Over those channels, Flink's selectors are:
//!
//! | partitioner | Flink class | channel of the next record |
//! |---|---|---|
//! | FORWARD | `ForwardPartitioner` | 0 (the only one) |
//! | GLOBAL | `GlobalPartitioner` | 0 (the first subtask) |
//! | REBALANCE | `RebalancePartitioner` | `next = (next + 1) % n`, `next` starting at a random channel (`setup`: `ThreadLocalRandom.nextInt(n)`) |
//! | RESCALE | `RescalePartitioner` | `if ++next >= n { next = 0 }`, `next` starting at −1: channel 0 first |
//! | SHUFFLE | `ShufflePartitioner` | `random.nextInt(n)` |
//! | HASH (`keyBy`) | `KeyGroupStreamPartitioner` | the subtask of the key's key group ([`crate::flink::keygroup`]) |
//! | BROADCAST | `BroadcastPartitioner` | every channel (`broadcastEmit`; `selectChannel` is not supported) |
//!
//! The random choices draw from the writer's own seeded stream, so a run stays reproducible.

use crate::core::rng::SimRng;

/// How records are distributed over the subtasks of the next operator (`StreamPartitioner`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Partitioner {
    /// Subtask i sends to subtask i (needs equal parallelism).
    Forward,
    /// Round robin over all downstream subtasks.
    Rebalance,
    /// Round robin over a local subset of downstream subtasks (pointwise).
    Rescale,
    /// By key group of the key (`keyBy`).
    Hash,
    /// Every record to every downstream subtask.
    Broadcast,
    /// Uniformly at random.
    Shuffle,
    /// Everything to subtask 0.
    Global,
}

impl Partitioner {
    /// Flink's name for it, as the web UI shows it.
    pub fn flink_name(self) -> &'static str {
        match self {
            Partitioner::Forward => "FORWARD",
            Partitioner::Rebalance => "REBALANCE",
            Partitioner::Rescale => "RESCALE",
            Partitioner::Hash => "HASH",
            Partitioner::Broadcast => "BROADCAST",
            Partitioner::Shuffle => "SHUFFLE",
            Partitioner::Global => "GLOBAL",
        }
    }

    /// Parses the scenario-file spelling.
    pub fn parse(s: &str) -> Option<Partitioner> {
        Some(match s {
            "forward" => Partitioner::Forward,
            "rebalance" => Partitioner::Rebalance,
            "rescale" => Partitioner::Rescale,
            "broadcast" => Partitioner::Broadcast,
            "shuffle" => Partitioner::Shuffle,
            "global" => Partitioner::Global,
            _ => return None,
        })
    }

    /// Whether subtask i connects to a subset of downstream subtasks only (Flink's POINTWISE
    /// distribution pattern) rather than to all of them.
    pub fn is_pointwise(self) -> bool {
        matches!(self, Partitioner::Forward | Partitioner::Rescale)
    }

    /// Copies of each record a writer with `channels` channels sends: one, or one per
    /// channel for BROADCAST (each copy is serialized on its own).
    pub fn copies(self, channels: usize) -> usize {
        if self == Partitioner::Broadcast {
            channels
        } else {
            1
        }
    }
}

/// The round-robin position a new writer of `channels` channels starts from
/// (`StreamPartitioner.setup`): REBALANCE a random channel, drawn from `rng`, so its first
/// record goes to the channel after it; every other partitioner the last channel, so
/// RESCALE's first record goes to channel 0 (Flink's `nextChannelToSendTo = -1`). Only
/// REBALANCE draws from `rng`.
pub fn initial_position(p: Partitioner, channels: u32, rng: &mut SimRng) -> u32 {
    match p {
        Partitioner::Rebalance => rng.below(u64::from(channels)) as u32,
        _ => channels.saturating_sub(1),
    }
}

/// The channel (position among the writer's `channels`) of the next record: Flink's
/// `selectChannel` for every partitioner (see the module table). `next` is the writer's
/// round-robin position (from [`initial_position`]), `rng` its random stream, `key_target`
/// the subtask of the record's key group (called for HASH only). `None` for BROADCAST: every
/// channel gets a copy.
#[inline(always)]
pub fn target(
    p: Partitioner,
    channels: u32,
    next: &mut u32,
    rng: &mut SimRng,
    key_target: impl FnOnce() -> u32,
) -> Option<u32> {
    Some(match p {
        Partitioner::Forward | Partitioner::Global => 0,
        Partitioner::Rebalance | Partitioner::Rescale => {
            *next = if *next + 1 >= channels { 0 } else { *next + 1 };
            *next
        }
        Partitioner::Shuffle => rng.below(u64::from(channels)) as u32,
        Partitioner::Hash => key_target(),
        Partitioner::Broadcast => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rng::SeedTree;
    use crate::core::value::java_string_hash;
    use crate::flink::keygroup::subtask_for_hash;

    /// The channels of the first `k` records of a fresh writer.
    fn first(p: Partitioner, channels: u32, k: usize, rng: &mut SimRng) -> Vec<Option<u32>> {
        let mut next = initial_position(p, channels, rng);
        (0..k)
            .map(|i| target(p, channels, &mut next, rng, || i as u32 % channels))
            .collect()
    }

    #[test]
    fn each_partitioner_selects_as_flink_does() {
        let rng = || SeedTree::new(7).stream("partitioner");
        let some = |v: &[u32]| v.iter().map(|&c| Some(c)).collect::<Vec<_>>();
        // (partitioner, channels, the first records' channels)
        let table: &[(Partitioner, u32, Vec<Option<u32>>)] = &[
            (Partitioner::Forward, 1, some(&[0, 0, 0])),
            (Partitioner::Global, 4, some(&[0, 0, 0])),
            // RESCALE starts at -1: channel 0 first, then round robin
            (Partitioner::Rescale, 3, some(&[0, 1, 2, 0, 1])),
            (Partitioner::Rescale, 1, some(&[0, 0])),
            // HASH: whatever the key group's subtask is (here the record's index mod n)
            (Partitioner::Hash, 3, some(&[0, 1, 2, 0])),
            (Partitioner::Broadcast, 3, vec![None, None]),
        ];
        for (p, n, want) in table {
            assert_eq!(
                &first(*p, *n, want.len(), &mut rng()),
                want,
                "{p:?} over {n}"
            );
        }
    }

    #[test]
    fn rebalance_starts_after_a_random_channel_and_cycles() {
        for seed in 0..20 {
            let mut rng = SeedTree::new(seed).stream("partitioner");
            let start = rng.clone().below(5) as u32;
            let got = first(Partitioner::Rebalance, 5, 10, &mut rng);
            let want: Vec<_> = (1..=10).map(|i| Some((start + i) % 5)).collect();
            assert_eq!(got, want, "seed {seed}");
        }
        // the start is random: not every writer begins with the same channel
        let starts: std::collections::BTreeSet<_> = (0..20)
            .map(|s| {
                first(
                    Partitioner::Rebalance,
                    5,
                    1,
                    &mut SeedTree::new(s).stream("p"),
                )[0]
            })
            .collect();
        assert!(starts.len() > 1);
    }

    #[test]
    fn shuffle_draws_every_channel_from_the_writers_stream() {
        let mut rng = SeedTree::new(1).stream("partitioner");
        let got = first(Partitioner::Shuffle, 4, 400, &mut rng);
        let mut seen = [0u32; 4];
        for c in got.iter().flatten() {
            seen[*c as usize] += 1;
        }
        assert!(seen.iter().all(|&k| k > 50), "roughly uniform: {seen:?}");
        let again = first(
            Partitioner::Shuffle,
            4,
            400,
            &mut SeedTree::new(1).stream("partitioner"),
        );
        assert_eq!(got, again, "same stream, same choices");
    }

    #[test]
    fn only_rebalance_draws_at_setup() {
        for p in [
            Partitioner::Forward,
            Partitioner::Rescale,
            Partitioner::Hash,
            Partitioner::Broadcast,
            Partitioner::Shuffle,
            Partitioner::Global,
        ] {
            let mut rng = SeedTree::new(3).stream("p");
            assert_eq!(initial_position(p, 4, &mut rng), 3, "{p:?}");
            assert_eq!(rng.next_u64(), SeedTree::new(3).stream("p").next_u64());
        }
    }

    #[test]
    fn a_keyed_record_goes_to_its_key_groups_subtask() {
        // KeyGroupStreamPartitioner: assignKeyToParallelOperator(key, maxParallelism, n);
        // real Flink put these string keys on these subtasks (golden cases r11, r12)
        let mut rng = SeedTree::new(0).stream("p");
        let mut next = 0;
        for (key, want) in [("k0", 1), ("k1", 0), ("k2", 1)] {
            let got = target(Partitioner::Hash, 2, &mut next, &mut rng, || {
                subtask_for_hash(java_string_hash(key), 128, 2)
            });
            assert_eq!(got, Some(want), "key {key}");
        }
    }

    #[test]
    fn names_copies_and_patterns() {
        assert_eq!(Partitioner::Hash.flink_name(), "HASH");
        assert_eq!(Partitioner::parse("rescale"), Some(Partitioner::Rescale));
        assert_eq!(Partitioner::parse("key_by"), None);
        assert!(Partitioner::Rescale.is_pointwise() && !Partitioner::Rebalance.is_pointwise());
        assert_eq!(Partitioner::Broadcast.copies(3), 3);
        assert_eq!(Partitioner::Shuffle.copies(3), 1);
    }
}
