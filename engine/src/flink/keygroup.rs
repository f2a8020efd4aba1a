//! Key groups: how Flink spreads keys over the subtasks of a keyed operator.
//!
//! A key's group is `murmurHash(key.hashCode()) % maxParallelism`
//! (`KeyGroupRangeAssignment.assignToKeyGroup`, `MathUtils.murmurHash`); the group's subtask is
//! `keyGroup * parallelism / maxParallelism`; subtask `i` owns the contiguous range
//! `[ceil(i * maxP / p), floor(((i + 1) * maxP - 1) / p)]`. Key groups are the unit of keyed
//! state: rescaling moves whole groups, which is why max parallelism can never change for a
//! job with keyed state.

pub use crate::core::defaults::keygroups::{
    DEFAULT_LOWER_BOUND_MAX_PARALLELISM, UPPER_BOUND_MAX_PARALLELISM,
};

/// Flink's `MathUtils.murmurHash(int)`: one Murmur3 round plus the finaliser, made
/// non-negative (`Integer.MIN_VALUE` maps to 0).
#[inline]
pub fn murmur_hash(code: i32) -> i32 {
    let mut code = code;
    code = code.wrapping_mul(0xcc9e_2d51_u32 as i32);
    code = code.rotate_left(15);
    code = code.wrapping_mul(0x1b87_3593);
    code = code.rotate_left(13);
    code = code.wrapping_mul(5).wrapping_add(0xe654_6b64_u32 as i32);
    code ^= 4;
    // bitMix (Murmur3 fmix32); `>>>` is a logical shift
    code ^= ((code as u32) >> 16) as i32;
    code = code.wrapping_mul(0x85eb_ca6b_u32 as i32);
    code ^= ((code as u32) >> 13) as i32;
    code = code.wrapping_mul(0xc2b2_ae35_u32 as i32);
    code ^= ((code as u32) >> 16) as i32;
    if code >= 0 {
        code
    } else if code != i32::MIN {
        -code
    } else {
        0
    }
}

/// The key group of a key whose Java `hashCode()` is `hash`.
#[inline]
pub fn key_group_for_hash(hash: i32, max_parallelism: u32) -> u32 {
    let h = murmur_hash(hash) as u32;
    // the default max parallelism is a power of two: a mask instead of a division
    if max_parallelism.is_power_of_two() {
        h & (max_parallelism - 1)
    } else {
        h % max_parallelism
    }
}

/// The subtask of a key whose Java `hashCode()` is `hash` (Flink's
/// `assignKeyToParallelOperator`): its key group's subtask.
pub fn subtask_for_hash(hash: i32, max_parallelism: u32, parallelism: u32) -> u32 {
    subtask_for_key_group(
        key_group_for_hash(hash, max_parallelism),
        parallelism,
        max_parallelism,
    )
}

/// The subtask that owns a key group (`computeOperatorIndexForKeyGroup`).
#[inline]
pub fn subtask_for_key_group(key_group: u32, parallelism: u32, max_parallelism: u32) -> u32 {
    ((u64::from(key_group) * u64::from(parallelism)) / u64::from(max_parallelism)) as u32
}

/// The inclusive key-group range of a subtask (`computeKeyGroupRangeForOperatorIndex`).
pub fn key_group_range(max_parallelism: u32, parallelism: u32, subtask: u32) -> (u32, u32) {
    let (m, p, i) = (
        u64::from(max_parallelism),
        u64::from(parallelism),
        u64::from(subtask),
    );
    let start = (i * m).div_ceil(p);
    let end = ((i + 1) * m - 1) / p;
    (start as u32, end as u32)
}

/// Flink's default max parallelism for an operator of parallelism `p`
/// (`computeDefaultMaxParallelism`): `min(max(roundUpToPowerOfTwo(p + p/2), 128), 32768)`.
pub fn default_max_parallelism(p: u32) -> u32 {
    let want = (p + p / 2).max(1).next_power_of_two();
    want.clamp(
        DEFAULT_LOWER_BOUND_MAX_PARALLELISM,
        UPPER_BOUND_MAX_PARALLELISM,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::value::java_string_hash;

    #[test]
    fn murmur_matches_flink_for_known_inputs() {
        // MathUtils.murmurHash values computed with Flink's Java code.
        assert_eq!(murmur_hash(0), 593_689_054);
        assert_eq!(murmur_hash(1), 68_075_478);
        assert_eq!(murmur_hash(2), 1_085_422_463);
        assert_eq!(murmur_hash(-12345), 1_626_926_666);
    }

    #[test]
    fn subtask_assignment_agrees_with_ranges() {
        for p in [1u32, 2, 3, 4, 7, 128] {
            for kg in 0..128 {
                let s = subtask_for_key_group(kg, p, 128);
                let (lo, hi) = key_group_range(128, p, s);
                assert!(
                    lo <= kg && kg <= hi,
                    "p={p} kg={kg} s={s} range={lo}..={hi}"
                );
            }
        }
        assert_eq!(key_group_range(128, 4, 0), (0, 31));
        assert_eq!(key_group_range(128, 4, 3), (96, 127));
        assert_eq!(key_group_range(128, 3, 1), (43, 85));
    }

    #[test]
    fn default_max_parallelism_follows_flink() {
        assert_eq!(default_max_parallelism(1), 128);
        assert_eq!(default_max_parallelism(85), 128);
        assert_eq!(default_max_parallelism(86), 256);
        assert_eq!(default_max_parallelism(1000), 2048);
        assert_eq!(default_max_parallelism(30_000), 32_768);
    }

    #[test]
    fn string_keys_land_where_flink_puts_them() {
        // From the golden cases at parallelism 2 (tests/flink-golden/r11, r12): Flink put
        // these keys on these window subtasks with max parallelism 128.
        let kg = |k: &str| key_group_for_hash(java_string_hash(k), 128);
        let sub = |k: &str| subtask_for_key_group(kg(k), 2, 128);
        assert_eq!((kg("k0"), kg("k1"), kg("k2"), kg("k3")), (97, 19, 82, 10));
        assert_eq!((sub("k0"), sub("k1"), sub("k2")), (1, 0, 1));
        assert_eq!(kg("hello"), 35);
        assert_eq!(subtask_for_hash(java_string_hash("k0"), 128, 2), 1);
    }

    #[test]
    fn key_groups_of_any_max_parallelism() {
        // (Java hashCode, max parallelism, key group = murmurHash(hash) % max parallelism)
        let table = [
            (0, 128, 94),
            (1, 128, 86),
            (2, 128, 127),
            (-12345, 128, 74),
            (0, 100, 54),
            (1, 100, 78),
            (0, 1, 0),
        ];
        for (hash, m, want) in table {
            assert_eq!(key_group_for_hash(hash, m), want, "hash {hash}, max {m}");
            assert_eq!(key_group_for_hash(hash, m), murmur_hash(hash) as u32 % m);
        }
    }
}
