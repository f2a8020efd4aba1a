//! Seeded randomness: one master seed, one named stream per component.
//!
//! The generator is `rand_chacha`'s ChaCha8 (portable and versioned: the same seed gives the
//! same numbers on every platform and every run). Each component that needs randomness asks
//! for a stream by a stable label, such as `"source/clicks/2"`; the label selects a ChaCha
//! stream under the master seed. Adding a new component therefore never changes the numbers
//! the existing ones draw, and the order in which components are created does not matter.

use crate::core::time::SimDuration;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

/// The master seed of a run and the factory of its named streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedTree {
    seed: u64,
}

impl SeedTree {
    /// The tree for a master seed.
    pub fn new(seed: u64) -> Self {
        SeedTree { seed }
    }

    /// The master seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The stream for a label. Same seed and label ⇒ the same sequence, always.
    pub fn stream(&self, label: &str) -> SimRng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(fnv1a64(label.as_bytes()));
        SimRng { inner: rng }
    }
}

/// A deterministic random stream (ChaCha8).
#[derive(Debug, Clone)]
pub struct SimRng {
    inner: ChaCha8Rng,
}

impl SimRng {
    /// 64 uniformly random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A uniform integer in `0..n` (Lemire's multiply-shift; `n` must be positive).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// 32 uniformly random bits (half the generator work of [`SimRng::next_u64`]).
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        self.inner.next_u32()
    }

    /// A uniform integer in `0..n` for `n < 2^32` from 32 random bits (Lemire's method; the
    /// bias is below `n / 2^32`).
    #[inline]
    pub fn below_u32(&mut self, n: u32) -> u32 {
        ((u64::from(self.next_u32()) * u64::from(n)) >> 32) as u32
    }

    /// The next `out.len()` values of [`SimRng::next_u32`], in order, drawn a block at a
    /// time (the generator hands out its words in the same order either way).
    #[inline]
    pub fn fill_u32(&mut self, out: &mut [u32]) {
        let mut bytes = [0u8; 4 * 64];
        for words in out.chunks_mut(64) {
            let bytes = &mut bytes[..4 * words.len()];
            self.inner.fill_bytes(bytes);
            for (w, b) in words.iter_mut().zip(bytes.chunks_exact(4)) {
                *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
        }
    }

    /// A uniform float in `[0, 1)` with 53 random bits.
    #[inline]
    pub fn unit_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A span drawn uniformly from `[lo, hi]`, to the nanosecond (`lo <= hi`): a uniform
    /// delay, a randomized first checkpoint trigger.
    #[inline]
    pub fn duration_between(&mut self, lo: SimDuration, hi: SimDuration) -> SimDuration {
        let span = hi.as_nanos() - lo.as_nanos() + 1;
        lo + SimDuration::from_nanos(self.below(span))
    }

    /// A span drawn from the exponential distribution with this `mean` (inverse transform,
    /// rounded toward zero): the gaps of a Poisson process.
    #[inline]
    pub fn exponential(&mut self, mean: SimDuration) -> SimDuration {
        let u = self.unit_f64();
        mean.mul_f64(-(1.0 - u).ln())
    }
}

/// FNV-1a, 64 bit: a stable hash of a label (never `std`'s randomly keyed hasher).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_between_stay_in_range_and_reach_both_ends() {
        let mut r = SeedTree::new(5).stream("d");
        let (lo, hi) = (SimDuration::from_nanos(10), SimDuration::from_nanos(12));
        let seen: std::collections::BTreeSet<u64> = (0..200)
            .map(|_| r.duration_between(lo, hi).as_nanos())
            .collect();
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![10, 11, 12]);
        assert_eq!(r.duration_between(lo, lo), lo);
    }

    #[test]
    fn exponential_spans_are_the_inverse_transform_of_one_uniform_draw() {
        let mut a = SeedTree::new(9).stream("e");
        let mut b = SeedTree::new(9).stream("e");
        let mean = SimDuration::from_millis(10);
        let u = b.unit_f64();
        let want = (-(1.0 - u).ln() * 10_000_000.0) as u64;
        assert_eq!(a.exponential(mean).as_nanos(), want);
        let n = 20_000;
        let avg = (0..n).map(|_| a.exponential(mean).as_nanos()).sum::<u64>() / n;
        assert!((9_500_000..10_500_000).contains(&avg), "mean {avg}");
    }

    #[test]
    fn same_seed_and_label_give_the_same_stream() {
        let t = SeedTree::new(42);
        let a: Vec<u64> = (0..4).map(|_| t.stream("x").next_u64()).collect();
        let mut s = t.stream("x");
        let b: Vec<u64> = (0..4).map(|_| s.next_u64()).collect();
        assert_eq!(a[0], b[0]);
        let mut s2 = SeedTree::new(42).stream("x");
        let c: Vec<u64> = (0..4).map(|_| s2.next_u64()).collect();
        assert_eq!(b, c);
    }

    #[test]
    fn labels_and_seeds_separate_streams() {
        let t = SeedTree::new(42);
        assert_ne!(t.stream("a").next_u64(), t.stream("b").next_u64());
        assert_ne!(
            SeedTree::new(1).stream("a").next_u64(),
            SeedTree::new(2).stream("a").next_u64()
        );
    }

    #[test]
    fn filled_words_are_the_words_drawn_one_by_one() {
        let t = SeedTree::new(3);
        let mut one = t.stream("w");
        let mut bulk = t.stream("w");
        // Across block boundaries, after a draw that left the block part used.
        assert_eq!(one.next_u32(), bulk.next_u32());
        for len in [0, 1, 5, 63, 64, 65, 200] {
            let mut words = vec![0u32; len];
            bulk.fill_u32(&mut words);
            let expected: Vec<u32> = (0..len).map(|_| one.next_u32()).collect();
            assert_eq!(words, expected);
        }
        assert_eq!(one.next_u64(), bulk.next_u64());
    }

    #[test]
    fn the_stream_is_pinned_across_versions() {
        // If this changes, every recorded scenario output changes: bump the report version.
        let mut s = SeedTree::new(7).stream("source/gen/0");
        assert_eq!(s.next_u64(), 9_486_456_287_331_180_812);
        assert!(s.below(10) < 10);
        let u = s.unit_f64();
        assert!((0.0..1.0).contains(&u));
    }
}
