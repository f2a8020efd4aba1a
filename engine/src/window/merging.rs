//! Merging windows (sessions): Flink's `MergingWindowSet` and `TimeWindow.mergeWindows`.
//!
//! Per key, the set maps every *window* to the *state window* under which its contents are
//! stored. When a new window overlaps existing ones they merge into their cover; the merged
//! windows' state is combined under one state window, which keeps its name — so timers and
//! state need not move.

use super::assign::Window;
use std::collections::BTreeMap;

/// What a merge did, for the operator to update triggers, timers and state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merge {
    /// The merged window.
    pub result: Window,
    /// The windows that were merged into it (without the new window).
    pub merged: Vec<Window>,
    /// The state window the merged contents now live under.
    pub state_window: Window,
    /// The state windows whose contents must be added into `state_window`.
    pub merged_state_windows: Vec<Window>,
}

/// The windows of one key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergingWindowSet {
    /// window → state window
    pub mapping: BTreeMap<Window, Window>,
}

impl MergingWindowSet {
    /// The state window of a window.
    pub fn state_window(&self, w: &Window) -> Option<Window> {
        self.mapping.get(w).copied()
    }

    /// Forgets a window (it was purged, or is late).
    pub fn retire(&mut self, w: &Window) {
        self.mapping.remove(w);
    }

    /// Adds a new window, merging what overlaps. Returns the window the new one ended up in
    /// and the merges performed (excluding trivial ones), in window order.
    pub fn add(&mut self, new: Window) -> (Window, Vec<Merge>) {
        let mut all: Vec<Window> = self.mapping.keys().copied().collect();
        all.push(new);
        // TimeWindow.mergeWindows: sort by start, sweep, merge what intersects.
        all.sort_by_key(|w| w.start);
        let mut groups: Vec<(Window, Vec<Window>)> = Vec::new();
        for w in all {
            match groups.last_mut() {
                Some((cover, members)) if cover.intersects(&w) => {
                    *cover = cover.cover(&w);
                    members.push(w);
                }
                _ => groups.push((w, vec![w])),
            }
        }
        let mut result = new;
        let mut merged_new = false;
        let mut merges = Vec::new();
        for (cover, mut members) in groups.into_iter().filter(|(_, m)| m.len() > 1) {
            if let Some(i) = members.iter().position(|m| *m == new) {
                members.remove(i);
                merged_new = true;
                result = cover;
            }
            let state_window = self.mapping[&members[0]];
            let mut state_windows: Vec<Window> = members
                .iter()
                .filter_map(|m| self.mapping.remove(m))
                .collect();
            self.mapping.insert(cover, state_window);
            if let Some(i) = state_windows.iter().position(|s| *s == state_window) {
                state_windows.remove(i);
            }
            if !(members.len() == 1 && members[0] == cover) {
                merges.push(Merge {
                    result: cover,
                    merged: members,
                    state_window,
                    merged_state_windows: state_windows,
                });
            }
        }
        if result == new && !merged_new {
            self.mapping.insert(result, result);
        }
        (result, merges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: i64, e: i64) -> Window {
        Window { start: s, end: e }
    }

    #[test]
    fn a_lone_window_is_its_own_state_window() {
        let mut m = MergingWindowSet::default();
        assert_eq!(m.add(w(0, 3)), (w(0, 3), vec![]));
        assert_eq!(m.state_window(&w(0, 3)), Some(w(0, 3)));
    }

    #[test]
    fn overlapping_windows_merge_and_keep_the_old_state_window() {
        let mut m = MergingWindowSet::default();
        m.add(w(0, 3));
        let (r, merges) = m.add(w(2, 5));
        assert_eq!(r, w(0, 5));
        assert_eq!(
            merges,
            vec![Merge {
                result: w(0, 5),
                merged: vec![w(0, 3)],
                state_window: w(0, 3),
                merged_state_windows: vec![]
            }]
        );
        assert_eq!(m.state_window(&w(0, 5)), Some(w(0, 3)));
        assert_eq!(m.mapping.len(), 1);
    }

    #[test]
    fn a_new_window_can_bridge_two_sessions() {
        let mut m = MergingWindowSet::default();
        m.add(w(0, 3));
        m.add(w(10, 13));
        let (r, merges) = m.add(w(3, 10));
        assert_eq!(r, w(0, 13));
        assert_eq!(merges.len(), 1);
        assert_eq!(merges[0].merged, vec![w(0, 3), w(10, 13)]);
        assert_eq!(merges[0].state_window, w(0, 3));
        assert_eq!(merges[0].merged_state_windows, vec![w(10, 13)]);
        assert_eq!(m.mapping.len(), 1);
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
        assert_eq!(m.mapping.len(), 1);
    }
}
