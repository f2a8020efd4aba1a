//! Merging windows (sessions): Flink's `MergingWindowSet` and `TimeWindow.mergeWindows`.
//!
//! Per key, the set maps every *window* to the *state window* under which its contents are
//! stored. When a new window overlaps existing ones they merge into their cover; the merged
//! windows' state is combined under one state window, which keeps its name — so timers and
//! state need not move.

use super::assign::Window;
use smallvec::{SmallVec, smallvec};
use std::collections::BTreeMap;

/// The merges adding one window performs: none, or one (a session grows, or bridges two),
/// held inline; more only when a window bridges several runs of a general set.
pub type Merges = SmallVec<[Merge; 1]>;

/// Windows merged into one: almost always one existing window, held inline.
pub type Merged = SmallVec<[Window; 1]>;

/// What a merge did, for the operator to update triggers, timers and state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merge {
    /// The merged window.
    pub result: Window,
    /// The windows that were merged into it (without the new window).
    pub merged: Merged,
    /// The state window the merged contents now live under.
    pub state_window: Window,
    /// The state windows whose contents must be added into `state_window`.
    pub merged_state_windows: Vec<Window>,
}

/// The windows of one key.
///
/// Stored without allocating while the key has one window — a session that grows element by
/// element, the common case — and in an ordered map otherwise: exactly one of the two holds
/// the windows (`single` when there is one, `many` when there are none or several), so equal
/// sets compare equal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergingWindowSet {
    /// The only window and its state window.
    single: Option<(Window, Window)>,
    /// window → state window, when there are not exactly one.
    many: BTreeMap<Window, Window>,
}

impl MergingWindowSet {
    /// The state window of a window.
    pub fn state_window(&self, w: &Window) -> Option<Window> {
        match self.single {
            Some((one, sw)) => (one == *w).then_some(sw),
            None => self.many.get(w).copied(),
        }
    }

    /// What adding `new` will touch, when the key has exactly one window: that window, its
    /// state window, and the cover of the two when they overlap — the window the merge makes
    /// (the same window when `new` lies inside it). What the window operator reads ahead
    /// (`WindowOp::warm`).
    pub fn one_and_cover(&self, new: &Window) -> Option<(Window, Window, Option<Window>)> {
        let (w, sw) = self.single?;
        Some((w, sw, w.intersects(new).then(|| w.cover(new))))
    }

    /// Number of windows.
    pub fn len(&self) -> usize {
        if self.single.is_some() {
            1
        } else {
            self.many.len()
        }
    }

    /// Whether the key has no window left.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets a window (it was purged, or is late).
    pub fn retire(&mut self, w: &Window) {
        if self.single.is_some_and(|(one, _)| one == *w) {
            self.single = None;
        } else if self.many.remove(w).is_some() {
            self.settle();
        }
    }

    /// Moves a lone window of `many` to `single`.
    fn settle(&mut self) {
        if self.many.len() == 1 {
            self.single = self.many.pop_first();
        }
    }

    /// Adds a new window, merging what overlaps (`MergingWindowSet.addWindow`). Returns the
    /// window the new one ended up in and the merge performed, if any.
    ///
    /// `TimeWindow.mergeWindows` sorts the windows by start (a stable sort: the new window,
    /// added last, comes after an existing one with the same start) and collects each run of
    /// intersecting windows in a `java.util.HashSet`. The iteration order of that set decides
    /// which existing window's state window becomes the merged window's (the first one), and
    /// the order in which the others are cleared and their state appended: see
    /// [`java_hash_set_order`].
    pub fn add(&mut self, new: Window) -> (Window, Merges) {
        if let Some(done) = self.add_to_one(new) {
            return done;
        }
        self.add_any(new)
    }

    /// [`MergingWindowSet::add`] when the set holds one window `w` and `new` is another
    /// window (the common case of a session that grows element by element): without sorting,
    /// grouping or hash-set order, none of which can matter with two windows. `None` when the
    /// case does not apply. Debug builds check the outcome against the general path.
    fn add_to_one(&mut self, new: Window) -> Option<(Window, Merges)> {
        let (w, state_window) = self.single?;
        if w == new {
            return None;
        }
        #[cfg(debug_assertions)]
        let oracle = {
            let mut general = self.clone();
            let outcome = general.add_any(new);
            (general, outcome)
        };
        let done = if !w.intersects(&new) {
            // two groups of one window each: no merge, the new window is its own state window
            self.single = None;
            self.many.insert(w, state_window);
            self.many.insert(new, new);
            (new, Merges::new())
        } else {
            // one group {w, new}: the new window is taken out, `w` alone is merged into the
            // cover (a merge only if the cover is not `w` itself) and keeps its state window
            let cover = w.cover(&new);
            let mut merges = Merges::new();
            if cover != w {
                self.single = Some((cover, state_window));
                merges.push(Merge {
                    result: cover,
                    merged: smallvec![w],
                    state_window,
                    merged_state_windows: Vec::new(),
                });
            }
            (cover, merges)
        };
        #[cfg(debug_assertions)]
        debug_assert_eq!(
            (&*self, &done),
            (&oracle.0, &oracle.1),
            "fast path: adding {new:?} to {{{w:?}}} differs from the general merge"
        );
        Some(done)
    }

    /// [`MergingWindowSet::add`] for any set: `TimeWindow.mergeWindows` over all windows.
    fn add_any(&mut self, new: Window) -> (Window, Merges) {
        if let Some((w, sw)) = self.single.take() {
            self.many.insert(w, sw);
        }
        let done = self.merge_windows(new);
        self.settle();
        done
    }

    /// `TimeWindow.mergeWindows` over the windows of `many` and `new`.
    fn merge_windows(&mut self, new: Window) -> (Window, Merges) {
        let mut all: Vec<Window> = self.many.keys().copied().collect();
        all.push(new);
        all.sort_by_key(|w| w.start);
        let mut groups: Vec<(Window, Vec<Window>)> = Vec::new();
        for w in all {
            match groups.last_mut() {
                Some((cover, members)) if cover.intersects(&w) => {
                    *cover = cover.cover(&w);
                    if !members.contains(&w) {
                        members.push(w); // a set: an equal window is not added twice
                    }
                }
                _ => groups.push((w, vec![w])),
            }
        }
        let mut result = new;
        let mut merged_new = false;
        let mut merges = Merges::new();
        for (cover, members) in groups.into_iter().filter(|(_, m)| m.len() > 1) {
            let mut members = java_hash_set_order(&members);
            if let Some(i) = members.iter().position(|m| *m == new) {
                members.remove(i);
                merged_new = true;
                result = cover;
            }
            let state_window = self.many[&members[0]];
            let mut state_windows: Vec<Window> =
                members.iter().filter_map(|m| self.many.remove(m)).collect();
            self.many.insert(cover, state_window);
            if let Some(i) = state_windows.iter().position(|s| *s == state_window) {
                state_windows.remove(i);
            }
            if !(members.len() == 1 && members[0] == cover) {
                merges.push(Merge {
                    result: cover,
                    merged: Merged::from_vec(members),
                    state_window,
                    merged_state_windows: state_windows,
                });
            }
        }
        if result == new && !merged_new {
            self.many.insert(result, result);
        }
        (result, merges)
    }
}

/// Flink's `TimeWindow.hashCode()`: `MathUtils.longToIntWithBitMixing(start + end)` (in Flink
/// 2.3 the finaliser of SplitMix64, read from its bytecode), Java `long` arithmetic.
pub fn time_window_hash(w: &Window) -> i32 {
    let mut x = w.start.as_millis().wrapping_add(w.end.as_millis()) as u64;
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    x as u32 as i32
}

/// The iteration order of a `java.util.HashSet<TimeWindow>` (default capacity 16, load factor
/// 0.75) filled with `items` in this order: by bucket `(h ^ (h >>> 16)) & (capacity − 1)` of
/// the final table, and within a bucket in insertion order (Java's `HashMap` appends to a
/// bucket's chain and keeps the chains' order when it doubles the table). A chain reaching 8
/// entries in a table smaller than 64 also doubles it, as `treeifyBin` does; a chain that long
/// in a larger table becomes a tree bin in Java, whose order is not modelled (it would take
/// nine merged sessions of one key colliding in the same bucket).
pub fn java_hash_set_order(items: &[Window]) -> Vec<Window> {
    let spread = |w: &Window| {
        let h = time_window_hash(w) as u32;
        h ^ (h >> 16)
    };
    let mut cap: usize = 16;
    let mut kept: Vec<(u32, Window)> = Vec::with_capacity(items.len());
    for w in items {
        if kept.iter().any(|(_, k)| k == w) {
            continue;
        }
        let h = spread(w);
        let chain = kept
            .iter()
            .filter(|(k, _)| (*k as usize) & (cap - 1) == (h as usize) & (cap - 1))
            .count();
        kept.push((h, *w));
        if chain >= 8 && cap < 64 {
            cap *= 2; // treeifyBin on a small table resizes instead
        }
        if kept.len() > cap * 3 / 4 {
            cap *= 2;
        }
    }
    let mut order: Vec<(usize, Window)> = kept
        .into_iter()
        .map(|(h, w)| ((h as usize) & (cap - 1), w))
        .collect();
    order.sort_by_key(|(b, _)| *b); // stable: insertion order within a bucket
    order.into_iter().map(|(_, w)| w).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: i64, e: i64) -> Window {
        Window::of_millis(s, e)
    }

    proptest::proptest! {
        /// The read-ahead's prediction for a key with one session is what `add` does: no
        /// merge when they do not overlap, none either when the new window lies inside, and
        /// otherwise one merge of the session into the cover.
        #[test]
        fn one_and_cover_predicts_the_merge(
            s in -50i64..50, len in 1i64..20, ns in -50i64..50, nlen in 1i64..20,
        ) {
            let mut m = MergingWindowSet::default();
            m.add(w(s, s + len));
            let new = w(ns, ns + nlen);
            let (one, sw, cover) = m.one_and_cover(&new).expect("one window");
            proptest::prop_assert_eq!((one, sw), (w(s, s + len), w(s, s + len)));
            let (actual, merges) = m.clone().add(new);
            match cover {
                None => proptest::prop_assert!(merges.is_empty() && actual == new),
                Some(c) if c == one => proptest::prop_assert!(merges.is_empty() && actual == one),
                Some(c) => {
                    proptest::prop_assert_eq!(actual, c);
                    proptest::prop_assert_eq!(merges.len(), 1);
                    proptest::prop_assert_eq!(merges[0].result, c);
                    proptest::prop_assert_eq!(merges[0].merged.as_slice(), &[one][..]);
                    proptest::prop_assert_eq!(merges[0].state_window, sw);
                }
            }
        }
    }

    #[test]
    fn a_lone_window_is_its_own_state_window() {
        let mut m = MergingWindowSet::default();
        assert_eq!(m.add(w(0, 3)), (w(0, 3), Merges::new()));
        assert_eq!(m.state_window(&w(0, 3)), Some(w(0, 3)));
    }

    #[test]
    fn overlapping_windows_merge_and_keep_the_old_state_window() {
        let mut m = MergingWindowSet::default();
        m.add(w(0, 3));
        let (r, merges) = m.add(w(2, 5));
        assert_eq!(r, w(0, 5));
        assert_eq!(
            merges.to_vec(),
            vec![Merge {
                result: w(0, 5),
                merged: smallvec![w(0, 3)],
                state_window: w(0, 3),
                merged_state_windows: vec![]
            }]
        );
        assert_eq!(m.state_window(&w(0, 5)), Some(w(0, 3)));
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn a_new_window_can_bridge_two_sessions() {
        let mut m = MergingWindowSet::default();
        m.add(w(0, 3));
        m.add(w(10, 13));
        let (r, merges) = m.add(w(3, 10));
        assert_eq!(r, w(0, 13));
        assert_eq!(merges.len(), 1);
        // java.util.HashSet order of {[0,3), [3,10), [10,13)} (from Java): 0,3  3,10  10,13
        assert_eq!(merges[0].merged.to_vec(), vec![w(0, 3), w(10, 13)]);
        assert_eq!(merges[0].state_window, w(0, 3));
        assert_eq!(merges[0].merged_state_windows, vec![w(10, 13)]);
        assert_eq!(m.len(), 1);
    }

    /// The state window that survives a merge is the first in HashSet order, not the
    /// earliest: here the later session's.
    #[test]
    fn the_surviving_state_window_is_the_first_in_java_hash_set_order() {
        // Java: a HashSet of [100,110), [110,120), [120,130) iterates 120,130  110,120  100,110
        assert_eq!(
            java_hash_set_order(&[w(100, 110), w(110, 120), w(120, 130)]),
            vec![w(120, 130), w(110, 120), w(100, 110)]
        );
        let mut m = MergingWindowSet::default();
        m.add(w(100, 110));
        m.add(w(120, 130));
        let (r, merges) = m.add(w(110, 120));
        assert_eq!(r, w(100, 130));
        assert_eq!(merges[0].merged.to_vec(), vec![w(120, 130), w(100, 110)]);
        assert_eq!(merges[0].state_window, w(120, 130));
        assert_eq!(merges[0].merged_state_windows, vec![w(100, 110)]);
        assert_eq!(m.state_window(&w(100, 130)), Some(w(120, 130)));
    }

    /// Hash codes and iteration orders printed by Java (Flink 2.3's `TimeWindow` in a
    /// `java.util.HashSet`).
    #[test]
    fn hash_codes_and_hash_set_order_agree_with_java() {
        assert_eq!(time_window_hash(&w(0, 3)), -485218064);
        assert_eq!(time_window_hash(&w(10, 13)), -1101448027);
        assert_eq!(time_window_hash(&w(3, 10)), -1242005039);
        assert_eq!(time_window_hash(&w(0, 10)), -1456339591);
        assert_eq!(time_window_hash(&w(2, 4)), 1886925676);
        assert_eq!(time_window_hash(&Window::GLOBAL), -221528709);
        assert_eq!(
            java_hash_set_order(&[w(0, 3), w(2, 5)]),
            vec![w(2, 5), w(0, 3)]
        );
        assert_eq!(
            java_hash_set_order(&[w(0, 10), w(2, 4)]),
            vec![w(2, 4), w(0, 10)]
        );
        // 20 windows: the table grows from 16 to 32 buckets on the 13th
        let input = [
            (-92397, -91561),
            (-86407, -81705),
            (-70324, -68281),
            (-58883, -58775),
            (-35363, -33587),
            (-34713, -31369),
            (-33037, -30747),
            (-6013, -4521),
            (-2537, 654),
            (-187, 1121),
            (22060, 22650),
            (22963, 24100),
            (38946, 42591),
            (42543, 43581),
            (63289, 64373),
            (70124, 70139),
            (70926, 70970),
            (80996, 82712),
            (93959, 95725),
            (94455, 95814),
        ];
        let java = [
            (-92397, -91561),
            (-33037, -30747),
            (-86407, -81705),
            (80996, 82712),
            (70926, 70970),
            (93959, 95725),
            (-58883, -58775),
            (94455, 95814),
            (-35363, -33587),
            (-2537, 654),
            (70124, 70139),
            (38946, 42591),
            (-70324, -68281),
            (22963, 24100),
            (-6013, -4521),
            (63289, 64373),
            (-34713, -31369),
            (-187, 1121),
            (22060, 22650),
            (42543, 43581),
        ];
        let ws: Vec<Window> = input.iter().map(|&(s, e)| w(s, e)).collect();
        let want: Vec<Window> = java.iter().map(|&(s, e)| w(s, e)).collect();
        assert_eq!(java_hash_set_order(&ws), want);
    }

    /// The lone-window fast path against the general merge, over random sessions: every add
    /// is checked by the debug oracle in `add_to_one`, and here the whole sequence against a
    /// set that never takes the fast path.
    #[test]
    fn the_lone_window_fast_path_agrees_with_the_general_merge() {
        use rand_core::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20);
        let mut fast_hits = 0;
        for _ in 0..300 {
            let mut fast = MergingWindowSet::default();
            let mut general = MergingWindowSet::default();
            for _ in 0..30 {
                let start = (rng.next_u64() % 60) as i64;
                let gap = 1 + (rng.next_u64() % 8) as i64;
                let new = w(start, start + gap);
                if rng.next_u64() % 6 == 0 {
                    fast.retire(&new);
                    general.retire(&new);
                } else {
                    fast_hits +=
                        usize::from(fast.single.is_some() && fast.single.unwrap().0 != new);
                    let want = general.add_any(new);
                    assert_eq!(fast.add(new), want, "adding {new:?}");
                }
                assert_eq!(fast, general);
            }
        }
        assert!(fast_hits > 200, "the fast path ran {fast_hits} times");
    }

    #[test]
    fn a_window_inside_an_existing_one_is_absorbed() {
        let mut m = MergingWindowSet::default();
        m.add(w(0, 10));
        let (r, merges) = m.add(w(2, 4));
        assert_eq!(r, w(0, 10));
        assert!(
            merges.is_empty(),
            "merging into an unchanged window needs no callback"
        );
        assert_eq!(m.len(), 1);
    }
}
