//! Timers of keyed operators (Flink's `InternalTimerService` on the heap state backend).
//! Timestamps are [`EventTime`] milliseconds in both domains: processing-time timers hold the
//! simulated clock read through `SimTime::as_event_time`, as Flink's are `long` milliseconds.
//!
//! A timer is a timestamp plus what it is for (a key and, for windows, a window). Timers are
//! de-duplicated — registering the same one twice keeps one — and fire in timestamp order.
//!
//! Timers with equal timestamps fire in the order of Flink's timer heap, reproduced here
//! operation for operation: Flink 2.3's heap backend keeps all event-time (or all
//! processing-time) timers of an operator subtask in one `HeapPriorityQueueSet`, a binary
//! heap stored in an array from index 1 (`HeapPriorityQueue`), compared by timestamp only
//! (`TimerHeapInternalTimer.comparePriority`), with a hash map for de-duplication and
//! deletes. Insert appends and sifts up; poll and delete move the last element into the hole,
//! sift it down and, if it did not move, up. The order of timers with equal timestamps thus
//! depends on the exact sequence of registrations, deletions and polls, as in Flink.
//!
//! Every operation is O(log n); a registration of a timer that exists is one hash lookup.
//! Not modelled: Flink rebuilds the heap when it restores a snapshot (key group by key group);
//! here a restored or rescaled queue keeps (or re-adds in) its array order.

use crate::core::time::EventTime;
use rustc_hash::FxHashMap;
use std::hash::Hash;

/// Index of the head in the heap array (Flink's `QUEUE_HEAD_INDEX`).
const HEAD: usize = 1;

/// Pending timers of one kind (event time or processing time).
///
/// A timer lives in a slot: `what[slot]` is its target, `pos[slot]` its position in the heap
/// array (Flink's `HeapPriorityQueueElement` index). The positions are an array of their own
/// so that sifting, which rewrites the position of every timer it moves, touches 4 bytes per
/// timer rather than the whole target — with many keys, the difference between staying in
/// the cache and not.
#[derive(Debug, Clone)]
pub struct TimerQueue<T: Copy + Eq + Hash> {
    /// The heap array: `(timestamp, slot)`; index 0 is unused, as in Flink.
    heap: Vec<(EventTime, u32)>,
    /// The timers' targets, by slot.
    what: Vec<T>,
    /// The timers' positions in `heap`, by slot.
    pos: Vec<u32>,
    /// Free slots.
    free: Vec<u32>,
    /// De-duplication and deletes: timer → slot.
    index: FxHashMap<(EventTime, T), u32>,
    /// Registrations are ignored: the BATCH runtime's timer service while it fires the
    /// timers of a key at its end (see [`TimerQueue::set_quiesced`]).
    quiesced: bool,
}

impl<T: Copy + Eq + Hash> Default for TimerQueue<T> {
    fn default() -> Self {
        TimerQueue {
            heap: vec![(EventTime::ZERO, u32::MAX)],
            what: Vec::new(),
            pos: Vec::new(),
            free: Vec::new(),
            index: FxHashMap::default(),
            quiesced: false,
        }
    }
}

impl<T: Copy + Eq + Hash> TimerQueue<T> {
    /// Quiesces the queue (`true`): registrations are ignored until it is released
    /// (`false`); deletes and polls go on. Flink's `BatchExecutionInternalTimeService` does
    /// this while it fires a key's timers at the end of the key, so that a timer that
    /// registers another cannot loop.
    pub fn set_quiesced(&mut self, quiesced: bool) {
        self.quiesced = quiesced;
    }

    /// Registers a timer (no-op if it exists, or while the queue is quiesced).
    #[inline]
    pub fn register(&mut self, ts: EventTime, what: T) {
        if self.quiesced {
            return;
        }
        let next_slot = match self.free.last() {
            Some(&s) => s,
            None => self.what.len() as u32,
        };
        let entry = self.index.entry((ts, what));
        if let std::collections::hash_map::Entry::Occupied(_) = entry {
            return;
        }
        entry.or_insert(next_slot);
        let pos = self.heap.len() as u32;
        match self.free.pop() {
            Some(s) => {
                self.what[s as usize] = what;
                self.pos[s as usize] = pos;
            }
            None => {
                self.what.push(what);
                self.pos.push(pos);
            }
        }
        self.heap.push((ts, next_slot));
        let last = self.heap.len() - 1;
        self.sift_up(last);
    }

    /// Deletes a timer (no-op if absent).
    #[inline]
    pub fn delete(&mut self, ts: EventTime, what: T) {
        if let Some(slot) = self.index.remove(&(ts, what)) {
            let pos = self.pos[slot as usize] as usize;
            self.remove_at(pos);
            self.free.push(slot);
        }
    }

    /// Removes and returns the earliest timer at or before `upto` (Flink's `peek` + `poll`).
    pub fn pop_due(&mut self, upto: EventTime) -> Option<(EventTime, T)> {
        let &(ts, slot) = self.heap.get(HEAD)?;
        if ts > upto {
            return None;
        }
        self.remove_at(HEAD);
        let what = self.what[slot as usize];
        self.index.remove(&(ts, what));
        self.free.push(slot);
        Some((ts, what))
    }

    /// The earliest timestamp.
    pub fn next(&self) -> Option<EventTime> {
        self.heap.get(HEAD).map(|t| t.0)
    }

    /// The timers in heap-array order.
    fn in_array_order(&self) -> Vec<(EventTime, T)> {
        self.heap[HEAD..]
            .iter()
            .map(|&(ts, s)| (ts, self.what[s as usize]))
            .collect()
    }

    /// Keeps the timers whose target passes `keep` (rescaling: timers move with their key).
    /// The survivors are added again in their array order.
    pub fn retain(&mut self, keep: impl Fn(&T) -> bool) {
        let kept: Vec<(EventTime, T)> = self
            .in_array_order()
            .into_iter()
            .filter(|(_, w)| keep(w))
            .collect();
        *self = TimerQueue::default();
        for (ts, w) in kept {
            self.register(ts, w);
        }
    }

    /// Adds every timer of `other`, in its array order.
    pub fn absorb(&mut self, other: Self) {
        for (ts, w) in other.in_array_order() {
            self.register(ts, w);
        }
    }

    /// Number of pending timers.
    pub fn len(&self) -> usize {
        self.heap.len() - HEAD
    }

    /// Whether no timer is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this exact timer is pending.
    pub fn contains(&self, ts: EventTime, what: T) -> bool {
        self.index.contains_key(&(ts, what))
    }

    /// Looks a timer up and does nothing with the answer: a read ahead of a registration or
    /// delete to come, so that its wait on memory overlaps with other reads (with many keys
    /// the index is far larger than the cache).
    #[inline]
    pub fn touch(&self, ts: EventTime, what: T) {
        std::hint::black_box(self.index.get(&(ts, what)));
    }

    /// Reads ahead what deleting each of `timers` will read, at most 64 of them: the index
    /// entry, the timer's position, and its place in the heap with the first of its
    /// children (where the sift down starts). In passes, so that the reads of different
    /// timers wait on memory together. Does nothing with what it reads.
    pub fn touch_deletes(&self, timers: &[(EventTime, T)]) {
        let mut slots = [u32::MAX; 64];
        let n = timers.len().min(64);
        for (slot, t) in slots.iter_mut().zip(&timers[..n]) {
            *slot = self.index.get(t).copied().unwrap_or(u32::MAX);
        }
        let mut at = [0usize; 64];
        for (a, &slot) in at.iter_mut().zip(&slots[..n]) {
            *a = self.pos.get(slot as usize).map_or(0, |&p| p as usize);
        }
        for &a in &at[..n] {
            std::hint::black_box((self.heap.get(a), self.heap.get(2 * a)));
        }
    }

    fn put(&mut self, e: (EventTime, u32), idx: usize) {
        self.heap[idx] = e;
        self.pos[e.1 as usize] = idx as u32;
    }

    /// `HeapPriorityQueue.removeElementAtIndex`.
    fn remove_at(&mut self, idx: usize) {
        let last = self.heap.len() - 1;
        if idx != last {
            let e = self.heap[last];
            self.put(e, idx);
            self.heap.pop();
            // adjustElementAtIndex: sift down, and up if it stayed
            self.sift_down(idx);
            if self.heap[idx].1 == e.1 {
                self.sift_up(idx);
            }
        } else {
            self.heap.pop();
        }
    }

    fn sift_up(&mut self, mut idx: usize) {
        let cur = self.heap[idx];
        let mut parent = idx >> 1;
        while parent > 0 && cur.0 < self.heap[parent].0 {
            let p = self.heap[parent];
            self.put(p, idx);
            idx = parent;
            parent >>= 1;
        }
        self.put(cur, idx);
    }

    fn sift_down(&mut self, mut idx: usize) {
        let size = self.heap.len() - 1;
        let cur = self.heap[idx];
        let mut first = idx << 1;
        let mut second = first + 1;
        if second <= size && self.heap[second].0 < self.heap[first].0 {
            first = second;
        }
        while first <= size && self.heap[first].0 < cur.0 {
            let c = self.heap[first];
            self.put(c, idx);
            idx = first;
            first = idx << 1;
            second = first + 1;
            if second <= size && self.heap[second].0 < self.heap[first].0 {
                first = second;
            }
        }
        self.put(cur, idx);
    }
}

/// The work budget of one simulation event: loops that run inside one event — the timers one
/// watermark (or one processing-time advance) fires, which can register new due timers
/// without end (a global window with a continuous event-time trigger at the final watermark
/// does, in Flink too) — charge it, and stop when it is spent. The simulation gives each
/// event what is left of `[limits] max_events`, adds what the event used to its event count,
/// and stops the run with the cause an operator gave.
///
/// Per thread: a run is simulated on one thread, event after event.
pub mod budget {
    use std::cell::{Cell, RefCell};

    thread_local! {
        static LEFT: Cell<u64> = const { Cell::new(u64::MAX) };
        static USED: Cell<u64> = const { Cell::new(0) };
        static CAUSE: RefCell<Option<String>> = const { RefCell::new(None) };
    }

    /// An event starts with `left` units of work allowed.
    pub fn start_event(left: u64) {
        LEFT.with(|l| l.set(left));
        USED.with(|u| u.set(0));
    }

    /// Charges `n` units; `false` when the budget is spent (the caller stops its loop and
    /// says why with [`stop`]).
    #[inline]
    pub fn charge(n: u64) -> bool {
        USED.with(|u| u.set(u.get() + n));
        LEFT.with(|l| {
            let v = l.get();
            l.set(v.saturating_sub(n));
            v > n
        })
    }

    /// Work the current event used.
    pub fn used() -> u64 {
        USED.with(Cell::get)
    }

    /// An operator stopped a loop: the run must stop, for this reason.
    pub fn stop(cause: String) {
        CAUSE.with(|c| {
            c.borrow_mut().get_or_insert(cause);
        });
    }

    /// The reason to stop, if an operator gave one (taken once).
    pub fn take_cause() -> Option<String> {
        CAUSE.with(|c| c.borrow_mut().take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event_time::ms;

    #[test]
    fn the_event_budget_runs_out_and_keeps_the_first_cause() {
        budget::start_event(3);
        assert!(budget::charge(1));
        assert!(budget::charge(1));
        assert!(!budget::charge(1), "the third unit spends it");
        assert_eq!(budget::used(), 3);
        budget::stop("first".into());
        budget::stop("second".into());
        assert_eq!(budget::take_cause().as_deref(), Some("first"));
        assert_eq!(budget::take_cause(), None);
        budget::start_event(u64::MAX);
    }

    #[test]
    fn timers_deduplicate_and_fire_in_order() {
        let mut q: TimerQueue<u32> = TimerQueue::default();
        q.register(ms(20), 1);
        q.register(ms(10), 2);
        q.register(ms(20), 1);
        q.register(ms(10), 1);
        assert_eq!(q.len(), 3, "the duplicate (20, 1) is kept once");
        q.delete(ms(10), 2);
        assert_eq!(popped(q.pop_due(ms(5))), None);
        assert_eq!(popped(q.pop_due(ms(20))), Some((10, 1)));
        assert_eq!(q.next(), Some(ms(20)));
        assert_eq!(popped(q.pop_due(EventTime::MAX)), Some((20, 1)));
        assert!(q.is_empty());
    }

    /// Rough speed against the ordered set this queue replaced, on window-like loads: every
    /// element registers its window's timer, `per_window` elements per (key, window) — so
    /// most registrations find the timer there — and the watermark fires what is due.
    /// `cargo test --release -p streamlab-engine --lib -- --ignored timer_queue_speed --nocapture`.
    #[test]
    fn a_quiesced_queue_ignores_registrations_but_fires_and_deletes() {
        let mut q: TimerQueue<u32> = TimerQueue::default();
        q.register(ms(10), 1);
        q.register(ms(20), 2);
        q.set_quiesced(true);
        q.register(ms(5), 3);
        q.delete(ms(20), 2);
        assert_eq!(popped(q.pop_due(EventTime::MAX)), Some((10, 1)));
        assert_eq!(
            popped(q.pop_due(EventTime::MAX)),
            None,
            "5 was not registered, 20 was deleted"
        );
        q.set_quiesced(false);
        q.register(ms(5), 3);
        assert_eq!(popped(q.pop_due(EventTime::MAX)), Some((5, 3)));
    }

    #[test]
    #[ignore]
    fn timer_queue_speed() {
        use std::collections::BTreeSet;
        use std::time::Instant;
        const N: i64 = 5_000_000;
        for per_window in [1i64, 100] {
            let keys = 1000;
            let timer = |i: i64| {
                let key = (i % keys) as u64;
                let end = (i / (keys * per_window)) * 1000 + 10_000;
                (end, (key, end))
            };
            let due = |i: i64| (i / (keys * per_window)) * 1000;
            let t = Instant::now();
            let mut q: TimerQueue<(u64, i64)> = TimerQueue::default();
            let mut fired = 0u64;
            for i in 0..N {
                let (ts, w) = timer(i);
                q.register(ms(ts), w);
                if i % 1000 == 0 {
                    while q.pop_due(ms(due(i))).is_some() {
                        fired += 1;
                    }
                }
            }
            let heap = t.elapsed();
            let t = Instant::now();
            let mut b: BTreeSet<(i64, (u64, i64))> = BTreeSet::new();
            let mut fired2 = 0u64;
            for i in 0..N {
                b.insert(timer(i));
                if i % 1000 == 0 {
                    while b.first().is_some_and(|f| f.0 <= due(i)) {
                        b.pop_first();
                        fired2 += 1;
                    }
                }
            }
            let tree = t.elapsed();
            assert_eq!(fired, fired2);
            println!(
                "{N} registrations, {per_window} per timer: heap {:.1} ns each, ordered set {:.1} ns each",
                heap.as_nanos() as f64 / N as f64,
                tree.as_nanos() as f64 / N as f64
            );
        }
    }

    /// Reading ahead for deletes stays in bounds — timers that exist, that do not, more
    /// than 64, at the heap's last places (children past its end) — and changes nothing.
    #[test]
    fn reading_ahead_for_deletes_stays_in_bounds_and_changes_nothing() {
        let mut q: TimerQueue<u32> = TimerQueue::default();
        for i in 0..100u32 {
            q.register(ms(i64::from(i % 7)), i);
        }
        let before = q.clone();
        let asked: Vec<(EventTime, u32)> = (0..150u32).map(|i| (ms(i64::from(i % 7)), i)).collect();
        q.touch_deletes(&asked);
        q.touch_deletes(&[]);
        TimerQueue::<u32>::default().touch_deletes(&asked);
        assert_eq!(drain(&mut q), drain(&mut before.clone()));
    }

    fn drain(q: &mut TimerQueue<u32>) -> Vec<(i64, u32)> {
        std::iter::from_fn(|| q.pop_due(EventTime::MAX))
            .map(|(t, w)| (t.as_millis(), w))
            .collect()
    }

    /// A popped timer with its timestamp in milliseconds.
    fn popped<T>(p: Option<(EventTime, T)>) -> Option<(i64, T)> {
        p.map(|(t, w)| (t.as_millis(), w))
    }

    /// Equal timestamps come out in Flink's binary-heap order, worked out by hand from
    /// `HeapPriorityQueue`: not insertion order, not the order of the targets.
    #[test]
    fn equal_timestamps_fire_in_flink_heap_order() {
        let mut q: TimerQueue<u32> = TimerQueue::default();
        for w in [1, 2, 3, 4] {
            q.register(ms(100), w);
        }
        // array [1, 2, 3, 4]; poll 1: 4 moves to the head, stays (no child is smaller): [4, 2, 3]
        // poll 4: 3 moves to the head: [3, 2]; then 3, then 2.
        assert_eq!(drain(&mut q), vec![(100, 1), (100, 4), (100, 3), (100, 2)]);

        // A smaller timestamp sifts up past equal ones and reorders them.
        let mut q: TimerQueue<u32> = TimerQueue::default();
        for w in [1, 2, 3] {
            q.register(ms(100), w);
        }
        q.register(ms(50), 9); // [1,2,3,9] → 9 up to 2 → [1,9,3,2] → up to 1 → [9,1,3,2]
        assert_eq!(
            drain(&mut q),
            // poll 9: 2 to head; children 1, 3 not smaller → [2,1,3]; poll 2: 3 to head → [3,1]
            vec![(50, 9), (100, 2), (100, 3), (100, 1)]
        );
    }

    #[test]
    fn a_deletion_moves_the_last_timer_into_the_hole() {
        let mut q: TimerQueue<u32> = TimerQueue::default();
        for w in [1, 2, 3, 4, 5] {
            q.register(ms(100), w);
        }
        q.delete(ms(100), 2); // [1,2,3,4,5] → 5 into position 2 → [1,5,3,4]
        assert!(!q.contains(ms(100), 2));
        // poll 1: 4 to head → [4,5,3]; poll 4: 3 to head → [3,5]; then 3, 5
        assert_eq!(drain(&mut q), vec![(100, 1), (100, 4), (100, 3), (100, 5)]);
    }

    /// Against a straightforward model of Flink's `HeapPriorityQueueSet` (a plain 1-based
    /// array and a linear search for deletes), over random operations.
    #[test]
    fn matches_a_plain_model_of_flinks_heap() {
        use rand_core::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut below = |n: u64| rng.next_u64() % n;
        for _ in 0..200 {
            let mut q: TimerQueue<u32> = TimerQueue::default();
            let mut model: Vec<(i64, u32)> = vec![(0, 0)];
            fn up(h: &mut [(i64, u32)], mut i: usize) {
                let c = h[i];
                while i / 2 > 0 && c.0 < h[i / 2].0 {
                    h[i] = h[i / 2];
                    i /= 2;
                }
                h[i] = c;
            }
            fn down(h: &mut [(i64, u32)], mut i: usize) {
                let n = h.len() - 1;
                let c = h[i];
                loop {
                    let mut f = 2 * i;
                    if f < n && h[f + 1].0 < h[f].0 {
                        f += 1;
                    }
                    if f <= n && h[f].0 < c.0 {
                        h[i] = h[f];
                        i = f;
                    } else {
                        break;
                    }
                }
                h[i] = c;
            }
            fn remove(h: &mut Vec<(i64, u32)>, i: usize) -> (i64, u32) {
                let r = h[i];
                let last = h.pop().unwrap();
                if i < h.len() {
                    h[i] = last;
                    down(h, i);
                    if h[i] == last {
                        up(h, i);
                    }
                }
                r
            }
            for _ in 0..60 {
                let ts = below(6) as i64 * 10;
                let w = below(8) as u32;
                match below(10) {
                    0..=5 => {
                        q.register(ms(ts), w);
                        if !model[1..].contains(&(ts, w)) {
                            model.push((ts, w));
                            let n = model.len() - 1;
                            up(&mut model, n);
                        }
                    }
                    6 | 7 => {
                        q.delete(ms(ts), w);
                        if let Some(i) = model[1..].iter().position(|e| *e == (ts, w)) {
                            remove(&mut model, i + 1);
                        }
                    }
                    _ => {
                        let upto = below(6) as i64 * 10;
                        let got = popped(q.pop_due(ms(upto)));
                        let want =
                            (model.len() > 1 && model[1].0 <= upto).then(|| remove(&mut model, 1));
                        assert_eq!(got, want);
                    }
                }
                let array: Vec<(i64, u32)> = q
                    .in_array_order()
                    .into_iter()
                    .map(|(t, w)| (t.as_millis(), w))
                    .collect();
                assert_eq!(array, model[1..].to_vec());
            }
        }
    }
}
