//! Checkpoint barriers at a task's input gate (Flink's `SingleCheckpointBarrierHandler`).
//!
//! Exactly-once (aligned): when barrier n arrives on a channel, that channel is **blocked** —
//! the task reads no more from it — until barrier n has arrived on every channel. Then the
//! task snapshots its state, forwards the barrier and unblocks its channels. The snapshot
//! therefore holds exactly the effect of the records before barrier n on every input.
//!
//! At-least-once: nothing is blocked; the task snapshots when the last barrier arrives, so
//! records that came after the barrier on a fast channel are already in the snapshot — a
//! restore replays them, and they count twice.
//!
//! A channel that has ended (end of partition) counts as having delivered every barrier
//! (Flink's checkpoints after tasks finish, FLIP-147).
//!
//! [`Aligner`] knows the gate only by its slots (one per input channel, `0..n`): which ones
//! ended is asked through a function, and the channels it parked (had data but were blocked)
//! go back to the caller's queue of readable channels when the alignment ends.

use crate::core::time::SimTime;
use std::collections::VecDeque;

/// Alignment of one barrier at one task.
#[derive(Debug, Clone)]
pub struct Align {
    /// Checkpoint id.
    pub id: u64,
    /// Per gate slot: the barrier arrived.
    pub seen: Vec<bool>,
    /// When the first barrier arrived.
    pub started: SimTime,
}

/// What the task does after a barrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Keep reading.
    Continue,
    /// The channel is blocked until the other barriers arrive: stop reading it.
    Block,
    /// Every input delivered the barrier: snapshot and forward it now.
    Snapshot {
        /// When alignment began.
        started: SimTime,
    },
}

/// The barrier handler of one input gate.
#[derive(Debug, Clone)]
pub struct Aligner {
    /// The checkpoint barrier being aligned, if any.
    pub align: Option<Align>,
    /// The newest checkpoint this gate finished aligning or aborted (Flink's
    /// `currentCheckpointId`): its remaining barriers, and older ones, are obsolete.
    pub last_done: u64,
    /// Per slot: blocked by barrier alignment (exactly-once) — not read until every input
    /// delivered the barrier.
    blocked: Vec<bool>,
    /// Channels with data that were skipped because blocked, in the order they were.
    parked: Vec<u32>,
    /// Barriers are aligned (exactly-once) rather than just counted (at-least-once).
    exactly_once: bool,
}

impl Aligner {
    /// A gate of `slots` input channels, aligning nothing yet.
    pub fn new(slots: usize, exactly_once: bool) -> Self {
        Aligner {
            align: None,
            last_done: 0,
            blocked: vec![false; slots],
            parked: Vec::new(),
            exactly_once,
        }
    }

    /// Whether slot `slot` is blocked by the alignment.
    pub fn is_blocked(&self, slot: usize) -> bool {
        self.blocked[slot]
    }

    /// Channel `ch` had data but its slot is blocked: it is read again when the alignment
    /// ends.
    pub fn park(&mut self, ch: u32) {
        if !self.parked.contains(&ch) {
            self.parked.push(ch);
        }
    }

    /// Whether a barrier of checkpoint `id` is ignored: this gate already aligned or aborted
    /// it (or a newer one), or is aligning a newer one (`id` was abandoned).
    pub fn is_obsolete(&self, id: u64) -> bool {
        id <= self.last_done || self.align.as_ref().is_some_and(|a| a.id > id)
    }

    /// Barrier `id` arrived on slot `slot` at `t`; `ended(s)`: whether slot `s` has ended.
    /// Channels released by the end of an alignment go to the back of `readable`.
    pub fn on_barrier(
        &mut self,
        slot: usize,
        id: u64,
        t: SimTime,
        ended: &dyn Fn(usize) -> bool,
        readable: &mut VecDeque<u32>,
    ) -> Step {
        if self.is_obsolete(id) {
            return Step::Continue;
        }
        match &self.align {
            Some(a) if a.id == id => {}
            _ => {
                // A newer checkpoint subsumes an unfinished alignment.
                self.unblock(readable);
                self.align = Some(Align {
                    id,
                    seen: vec![false; self.blocked.len()],
                    started: t,
                });
            }
        }
        let a = self.align.as_mut().expect("set above");
        a.seen[slot] = true;
        if let Some(started) = self.complete(ended, readable) {
            return Step::Snapshot { started };
        }
        if self.exactly_once {
            self.blocked[slot] = true;
            Step::Block
        } else {
            Step::Continue
        }
    }

    /// If every slot has the barrier or has ended, ends the alignment (unblocking every slot)
    /// and returns when it began.
    pub fn complete(
        &mut self,
        ended: &dyn Fn(usize) -> bool,
        readable: &mut VecDeque<u32>,
    ) -> Option<SimTime> {
        let a = self.align.as_ref()?;
        let done = a.seen.iter().enumerate().all(|(s, &seen)| seen || ended(s));
        if !done {
            return None;
        }
        let started = a.started;
        self.last_done = self.last_done.max(a.id);
        self.align = None;
        self.unblock(readable);
        Some(started)
    }

    /// Drops an alignment (the checkpoint was aborted) and reads every channel again.
    ///
    /// Like Flink's `SingleCheckpointBarrierHandler.abortInternal`, the gate remembers the
    /// id, so barriers of the aborted checkpoint that are still on their way start no new
    /// alignment.
    pub fn abort(&mut self, id: u64, readable: &mut VecDeque<u32>) {
        self.last_done = self.last_done.max(id);
        if self.align.as_ref().is_some_and(|a| a.id <= id) {
            self.align = None;
            self.unblock(readable);
        }
    }

    /// Unblocks every slot; parked channels become readable again.
    fn unblock(&mut self, readable: &mut VecDeque<u32>) {
        self.blocked.iter_mut().for_each(|b| *b = false);
        for ch in std::mem::take(&mut self.parked) {
            if !readable.contains(&ch) {
                readable.push_back(ch);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An aligner over `n` slots, with which slots ended and the queue of readable
    /// channels. Channel ids are `10 + slot`, so a mix-up of slots and channel ids shows.
    struct G {
        a: Aligner,
        ended: Vec<bool>,
        available: VecDeque<u32>,
    }

    impl G {
        fn on(&mut self, slot: usize, id: u64, t: SimTime) -> Step {
            let ended = self.ended.clone();
            self.a
                .on_barrier(slot, id, t, &|s| ended[s], &mut self.available)
        }

        fn complete(&mut self) -> Option<SimTime> {
            let ended = self.ended.clone();
            self.a.complete(&|s| ended[s], &mut self.available)
        }

        fn abort(&mut self, id: u64) {
            self.a.abort(id, &mut self.available);
        }
    }

    fn gate(n: usize, exactly_once: bool) -> G {
        G {
            a: Aligner::new(n, exactly_once),
            ended: vec![false; n],
            available: VecDeque::new(),
        }
    }

    fn at(ms: u64) -> SimTime {
        SimTime::from_nanos(ms * 1_000_000)
    }

    /// What each barrier of a sequence does at a gate of `slots` slots: `B` block, `C`
    /// continue, `S(ms)` snapshot with the alignment begun at `ms`.
    #[test]
    fn barrier_sequences_and_what_each_barrier_does() {
        #[derive(Debug, Clone, Copy)]
        enum E {
            B,
            C,
            S(u64),
        }
        use E::*;
        let expect = |e: E| match e {
            B => Step::Block,
            C => Step::Continue,
            S(ms) => Step::Snapshot { started: at(ms) },
        };
        // (case, slots, exactly-once, [(slot, checkpoint, ms)], what each barrier does)
        type Row = (
            &'static str,
            usize,
            bool,
            &'static [(usize, u64, u64)],
            &'static [E],
        );
        let rows: &[Row] = &[
            (
                "aligned, in slot order",
                3,
                true,
                &[(0, 1, 1), (1, 1, 2), (2, 1, 3)],
                &[B, B, S(1)],
            ),
            (
                "aligned, in any order",
                3,
                true,
                &[(2, 1, 1), (0, 1, 2), (1, 1, 3)],
                &[B, B, S(1)],
            ),
            (
                "at-least-once counts",
                3,
                false,
                &[(0, 1, 1), (1, 1, 2), (2, 1, 3)],
                &[C, C, S(1)],
            ),
            ("one slot", 1, true, &[(0, 5, 7)], &[S(7)]),
            (
                "a barrier of a completed checkpoint is obsolete",
                2,
                true,
                &[(0, 1, 1), (1, 1, 2), (0, 1, 3)],
                &[B, S(1), C],
            ),
            (
                "a newer checkpoint subsumes; the older one's barriers are ignored",
                3,
                true,
                &[(0, 1, 1), (1, 2, 3), (2, 1, 4), (0, 2, 5), (2, 2, 6)],
                &[B, B, C, B, S(3)],
            ),
            (
                "at-least-once, a newer checkpoint subsumes",
                3,
                false,
                &[(0, 1, 1), (1, 2, 2), (0, 2, 3), (2, 2, 4)],
                &[C, C, C, S(2)],
            ),
            (
                "checkpoints one after another",
                2,
                true,
                &[(0, 1, 1), (1, 1, 2), (1, 2, 3), (0, 2, 4)],
                &[B, S(1), B, S(3)],
            ),
        ];
        for (case, slots, exactly_once, barriers, want) in rows {
            let mut g = gate(*slots, *exactly_once);
            let got: Vec<Step> = barriers
                .iter()
                .map(|&(slot, id, ms)| g.on(slot, id, at(ms)))
                .collect();
            let want: Vec<Step> = want.iter().map(|&e| expect(e)).collect();
            assert_eq!(got, want, "{case}");
        }
    }

    #[test]
    fn exactly_once_blocks_each_channel_that_delivered_the_barrier_until_all_have() {
        let mut g = gate(3, true);
        assert_eq!(g.on(0, 1, at(5)), Step::Block);
        assert_eq!(g.a.blocked, [true, false, false]);
        assert_eq!(
            g.a.align.as_ref().map(|a| (a.id, a.started)),
            Some((1, at(5)))
        );
        assert_eq!(g.on(2, 1, at(7)), Step::Block);
        assert_eq!(g.a.blocked, [true, false, true]);
        assert_eq!(g.a.align.as_ref().unwrap().seen, [true, false, true]);
        // The last barrier: snapshot now; alignment began with the first barrier.
        assert_eq!(g.on(1, 1, at(9)), Step::Snapshot { started: at(5) });
        assert_eq!(
            g.a.blocked,
            [false, false, false],
            "every channel readable again"
        );
        assert!(g.a.align.is_none());
        // The next checkpoint aligns from scratch.
        assert_eq!(g.on(1, 2, at(20)), Step::Block);
        assert_eq!(g.a.blocked, [false, true, false]);
        assert_eq!(
            g.a.align.as_ref().map(|a| (a.id, a.started)),
            Some((2, at(20)))
        );
    }

    #[test]
    fn a_single_input_snapshots_at_once_without_blocking() {
        let mut g = gate(1, true);
        assert_eq!(g.on(0, 1, at(3)), Step::Snapshot { started: at(3) });
        assert_eq!(g.a.blocked, [false]);
        assert!(g.a.align.is_none());
    }

    #[test]
    fn parked_channels_are_released_in_the_order_they_were_parked() {
        let mut g = gate(4, true);
        g.available.push_back(13); // slot 3 has data and was never blocked
        assert_eq!(g.on(2, 1, at(1)), Step::Block);
        assert_eq!(g.on(0, 1, at(2)), Step::Block);
        // The task skipped the blocked channels with data (channel 12 first, then 10).
        g.a.parked = vec![12, 10];
        assert_eq!(g.on(3, 1, at(3)), Step::Block);
        assert_eq!(
            g.available,
            [13],
            "nothing released before the alignment ends"
        );
        assert_eq!(g.on(1, 1, at(4)), Step::Snapshot { started: at(1) });
        assert_eq!(
            g.available,
            [13, 12, 10],
            "parked channels queue behind, in order"
        );
        assert!(g.a.parked.is_empty());
        assert_eq!(g.a.blocked, [false; 4]);
    }

    #[test]
    fn a_released_channel_already_queued_is_not_queued_twice() {
        let mut g = gate(2, true);
        assert_eq!(g.on(0, 1, at(1)), Step::Block);
        g.a.parked = vec![10];
        g.available.push_back(10);
        assert_eq!(g.on(1, 1, at(2)), Step::Snapshot { started: at(1) });
        assert_eq!(g.available, [10]);
    }

    #[test]
    fn at_least_once_counts_barriers_without_blocking() {
        let mut g = gate(3, false);
        assert_eq!(g.on(1, 4, at(10)), Step::Continue);
        assert_eq!(g.on(0, 4, at(11)), Step::Continue);
        assert_eq!(g.a.blocked, [false; 3], "at-least-once never blocks");
        assert_eq!(g.a.align.as_ref().unwrap().seen, [true, true, false]);
        assert_eq!(g.on(2, 4, at(12)), Step::Snapshot { started: at(10) });
        assert!(g.a.align.is_none());
    }

    #[test]
    fn a_newer_barrier_cancels_the_older_alignment_and_older_barriers_are_then_ignored() {
        let mut g = gate(3, true);
        assert_eq!(g.on(0, 1, at(1)), Step::Block);
        g.a.parked = vec![10];
        // Barrier 2 overtakes: checkpoint 1 is subsumed, its blocked channel released.
        assert_eq!(g.on(1, 2, at(3)), Step::Block);
        assert_eq!(g.a.blocked, [false, true, false]);
        assert_eq!(g.available, [10]);
        let a = g.a.align.as_ref().unwrap();
        assert_eq!(
            (a.id, a.started),
            (2, at(3)),
            "alignment time counts from barrier 2"
        );
        assert_eq!(a.seen, [false, true, false]);
        // A late barrier of the subsumed checkpoint changes nothing.
        assert_eq!(g.on(2, 1, at(4)), Step::Continue);
        assert_eq!(g.a.blocked, [false, true, false]);
        assert_eq!(g.a.align.as_ref().unwrap().seen, [false, true, false]);
        // Checkpoint 2 completes on its own barriers.
        assert_eq!(g.on(0, 2, at(5)), Step::Block);
        assert_eq!(g.on(2, 2, at(6)), Step::Snapshot { started: at(3) });
    }

    #[test]
    fn an_ended_channel_counts_as_having_delivered_every_barrier() {
        let mut g = gate(3, true);
        g.ended[2] = true;
        assert_eq!(g.on(0, 1, at(1)), Step::Block);
        assert_eq!(
            g.on(1, 1, at(2)),
            Step::Snapshot { started: at(1) },
            "slot 2 ended: two barriers suffice"
        );
        // Every input ended but one: its barrier alone completes the checkpoint.
        g.ended[0] = true;
        assert_eq!(g.on(1, 2, at(8)), Step::Snapshot { started: at(8) });
    }

    #[test]
    fn a_channel_ending_mid_alignment_completes_it() {
        let mut g = gate(3, true);
        assert_eq!(g.complete(), None, "nothing being aligned");
        assert_eq!(g.on(0, 1, at(1)), Step::Block);
        assert_eq!(g.on(2, 1, at(2)), Step::Block);
        g.a.parked = vec![12, 10];
        assert_eq!(g.complete(), None, "slot 1 neither delivered nor ended");
        assert_eq!(g.a.blocked, [true, false, true]);
        g.ended[1] = true;
        assert_eq!(g.complete(), Some(at(1)));
        assert!(g.a.align.is_none());
        assert_eq!(g.a.blocked, [false; 3]);
        assert_eq!(g.available, [12, 10]);
        assert_eq!(g.complete(), None, "completes once");
    }

    #[test]
    fn aborting_drops_the_alignment_of_that_or_an_older_checkpoint_only() {
        let mut g = gate(2, true);
        assert_eq!(g.on(0, 3, at(1)), Step::Block);
        g.a.parked = vec![10];
        g.abort(2); // an older checkpoint: not the one being aligned
        assert_eq!(g.a.align.as_ref().map(|a| a.id), Some(3));
        assert_eq!(g.a.blocked, [true, false]);
        assert!(g.available.is_empty());
        g.abort(3);
        assert!(g.a.align.is_none());
        assert_eq!(g.a.blocked, [false, false]);
        assert_eq!(g.available, [10]);
        // A newer id subsumes too.
        assert_eq!(g.on(1, 4, at(2)), Step::Block);
        g.abort(5);
        assert!(g.a.align.is_none());
        assert_eq!(g.a.blocked, [false, false]);
    }

    /// Flink's `SingleCheckpointBarrierHandler.abortInternal` sets `currentCheckpointId` to the
    /// aborted id "so that no checkpoint barrier can start a new alignment": the remaining
    /// barriers of an aborted checkpoint are obsolete (`processBarrier` returns early). A gate
    /// that forgot the id would start a fresh alignment on the next barrier 3 and block its
    /// channel for a checkpoint nobody waits for, until a barrier 4 arrived on slot 0.
    #[test]
    fn barriers_of_an_aborted_checkpoint_are_obsolete() {
        let mut g = gate(2, true);
        assert_eq!(g.on(0, 3, at(1)), Step::Block);
        g.abort(3);
        assert_eq!(g.on(1, 3, at(2)), Step::Continue);
        assert_eq!(g.a.blocked, [false, false]);
        assert!(g.a.align.is_none());
    }
}
