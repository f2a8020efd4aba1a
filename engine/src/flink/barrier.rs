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

use crate::core::time::SimTime;
use crate::sim::channel::Channel;
use crate::sim::task::Gate;

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

/// Barrier `id` arrived on gate slot `slot` at `t`.
pub fn on_barrier(gate: &mut Gate, slot: usize, id: u64, t: SimTime, channels: &[Channel]) -> Step {
    if id <= gate.last_done {
        return Step::Continue; // a barrier of a checkpoint this gate already aligned or aborted
    }
    match &gate.align {
        Some(a) if a.id > id => return Step::Continue, // an older, abandoned checkpoint
        Some(a) if a.id == id => {}
        _ => {
            // A newer checkpoint subsumes an unfinished alignment.
            unblock(gate);
            gate.align = Some(Align {
                id,
                seen: vec![false; gate.channels.len()],
                started: t,
            });
        }
    }
    let a = gate.align.as_mut().expect("set above");
    a.seen[slot] = true;
    if let Some(started) = complete(gate, channels) {
        return Step::Snapshot { started };
    }
    if gate.exactly_once {
        gate.blocked[slot] = true;
        Step::Block
    } else {
        Step::Continue
    }
}

/// If every slot has the barrier or has ended, ends the alignment (unblocking every slot)
/// and returns when it began.
pub fn complete(gate: &mut Gate, channels: &[Channel]) -> Option<SimTime> {
    let a = gate.align.as_ref()?;
    let done = gate
        .channels
        .iter()
        .zip(&a.seen)
        .all(|(&ch, &seen)| seen || channels[ch as usize].ended);
    if !done {
        return None;
    }
    let started = a.started;
    gate.last_done = gate.last_done.max(a.id);
    gate.align = None;
    unblock(gate);
    Some(started)
}

/// Drops an alignment (the checkpoint was aborted) and reads every channel again.
///
/// Like Flink's `SingleCheckpointBarrierHandler.abortInternal`, the gate remembers the id, so
/// barriers of the aborted checkpoint that are still on their way start no new alignment.
pub fn abort(gate: &mut Gate, id: u64) {
    gate.last_done = gate.last_done.max(id);
    if gate.align.as_ref().is_some_and(|a| a.id <= id) {
        gate.align = None;
        unblock(gate);
    }
}

/// Unblocks every slot; parked channels become readable again.
fn unblock(gate: &mut Gate) {
    gate.blocked.iter_mut().for_each(|b| *b = false);
    for ch in std::mem::take(&mut gate.parked) {
        if !gate.available.contains(&ch) {
            gate.available.push_back(ch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::time::SimDuration;
    use crate::sim::channel::{Ends, FloatingPool};
    use std::collections::VecDeque;

    /// A gate over `n` channels. Channel ids are `10 + slot`, so a mix-up of gate slots and
    /// channel ids shows.
    fn gate(n: usize, exactly_once: bool) -> Gate {
        Gate {
            channels: (0..n as u32).map(|s| 10 + s).collect(),
            available: VecDeque::new(),
            pool: FloatingPool { free: 0 },
            ended: 0,
            current: None,
            slots: (0..n).map(|s| (0, s)).collect(),
            valves: Vec::new(),
            watermark: crate::core::time::EVENT_TIME_MIN,
            idle: false,
            align: None,
            last_done: 0,
            blocked: vec![false; n],
            parked: Vec::new(),
            exactly_once,
            collect: None,
        }
    }

    /// The channel table: ids 0..10 unused, then one channel per slot of [`gate`].
    fn channels(n: usize) -> Vec<Channel> {
        (0..10 + n as u32)
            .map(|i| {
                let ends = Ends {
                    edge: 0,
                    from_task: i,
                    writer: 0,
                    to_task: 99,
                    input: 0,
                };
                let mut c = Channel::new(ends, false, SimDuration::ZERO, 2);
                c.gate_pos = i.saturating_sub(10);
                c
            })
            .collect()
    }

    fn at(ms: u64) -> SimTime {
        SimTime(ms * 1_000_000)
    }

    #[test]
    fn exactly_once_blocks_each_channel_that_delivered_the_barrier_until_all_have() {
        let chs = channels(3);
        let mut g = gate(3, true);
        assert_eq!(on_barrier(&mut g, 0, 1, at(5), &chs), Step::Block);
        assert_eq!(g.blocked, [true, false, false]);
        assert_eq!(
            g.align.as_ref().map(|a| (a.id, a.started)),
            Some((1, at(5)))
        );
        assert_eq!(on_barrier(&mut g, 2, 1, at(7), &chs), Step::Block);
        assert_eq!(g.blocked, [true, false, true]);
        assert_eq!(g.align.as_ref().unwrap().seen, [true, false, true]);
        // The last barrier: snapshot now; alignment began with the first barrier.
        assert_eq!(
            on_barrier(&mut g, 1, 1, at(9), &chs),
            Step::Snapshot { started: at(5) }
        );
        assert_eq!(
            g.blocked,
            [false, false, false],
            "every channel readable again"
        );
        assert!(g.align.is_none());
        // The next checkpoint aligns from scratch.
        assert_eq!(on_barrier(&mut g, 1, 2, at(20), &chs), Step::Block);
        assert_eq!(g.blocked, [false, true, false]);
        assert_eq!(
            g.align.as_ref().map(|a| (a.id, a.started)),
            Some((2, at(20)))
        );
    }

    #[test]
    fn a_single_input_snapshots_at_once_without_blocking() {
        let chs = channels(1);
        let mut g = gate(1, true);
        assert_eq!(
            on_barrier(&mut g, 0, 1, at(3), &chs),
            Step::Snapshot { started: at(3) }
        );
        assert_eq!(g.blocked, [false]);
        assert!(g.align.is_none());
    }

    #[test]
    fn parked_channels_are_released_in_the_order_they_were_parked() {
        let chs = channels(4);
        let mut g = gate(4, true);
        g.available.push_back(13); // slot 3 has data and was never blocked
        assert_eq!(on_barrier(&mut g, 2, 1, at(1), &chs), Step::Block);
        assert_eq!(on_barrier(&mut g, 0, 1, at(2), &chs), Step::Block);
        // The task skipped the blocked channels with data (channel 12 first, then 10).
        g.parked = vec![12, 10];
        assert_eq!(on_barrier(&mut g, 3, 1, at(3), &chs), Step::Block);
        assert_eq!(
            g.available,
            [13],
            "nothing released before the alignment ends"
        );
        assert_eq!(
            on_barrier(&mut g, 1, 1, at(4), &chs),
            Step::Snapshot { started: at(1) }
        );
        assert_eq!(
            g.available,
            [13, 12, 10],
            "parked channels queue behind, in order"
        );
        assert!(g.parked.is_empty());
        assert_eq!(g.blocked, [false; 4]);
    }

    #[test]
    fn a_released_channel_already_queued_is_not_queued_twice() {
        let chs = channels(2);
        let mut g = gate(2, true);
        assert_eq!(on_barrier(&mut g, 0, 1, at(1), &chs), Step::Block);
        g.parked = vec![10];
        g.available.push_back(10);
        assert_eq!(
            on_barrier(&mut g, 1, 1, at(2), &chs),
            Step::Snapshot { started: at(1) }
        );
        assert_eq!(g.available, [10]);
    }

    #[test]
    fn at_least_once_counts_barriers_without_blocking() {
        let chs = channels(3);
        let mut g = gate(3, false);
        assert_eq!(on_barrier(&mut g, 1, 4, at(10), &chs), Step::Continue);
        assert_eq!(on_barrier(&mut g, 0, 4, at(11), &chs), Step::Continue);
        assert_eq!(g.blocked, [false; 3], "at-least-once never blocks");
        assert_eq!(g.align.as_ref().unwrap().seen, [true, true, false]);
        assert_eq!(
            on_barrier(&mut g, 2, 4, at(12), &chs),
            Step::Snapshot { started: at(10) }
        );
        assert!(g.align.is_none());
    }

    #[test]
    fn a_newer_barrier_cancels_the_older_alignment_and_older_barriers_are_then_ignored() {
        let chs = channels(3);
        let mut g = gate(3, true);
        assert_eq!(on_barrier(&mut g, 0, 1, at(1), &chs), Step::Block);
        g.parked = vec![10];
        // Barrier 2 overtakes: checkpoint 1 is subsumed, its blocked channel released.
        assert_eq!(on_barrier(&mut g, 1, 2, at(3), &chs), Step::Block);
        assert_eq!(g.blocked, [false, true, false]);
        assert_eq!(g.available, [10]);
        let a = g.align.as_ref().unwrap();
        assert_eq!(
            (a.id, a.started),
            (2, at(3)),
            "alignment time counts from barrier 2"
        );
        assert_eq!(a.seen, [false, true, false]);
        // A late barrier of the subsumed checkpoint changes nothing.
        assert_eq!(on_barrier(&mut g, 2, 1, at(4), &chs), Step::Continue);
        assert_eq!(g.blocked, [false, true, false]);
        assert_eq!(g.align.as_ref().unwrap().seen, [false, true, false]);
        // Checkpoint 2 completes on its own barriers.
        assert_eq!(on_barrier(&mut g, 0, 2, at(5), &chs), Step::Block);
        assert_eq!(
            on_barrier(&mut g, 2, 2, at(6), &chs),
            Step::Snapshot { started: at(3) }
        );
    }

    #[test]
    fn an_ended_channel_counts_as_having_delivered_every_barrier() {
        let mut chs = channels(3);
        chs[12].ended = true;
        let mut g = gate(3, true);
        assert_eq!(on_barrier(&mut g, 0, 1, at(1), &chs), Step::Block);
        assert_eq!(
            on_barrier(&mut g, 1, 1, at(2), &chs),
            Step::Snapshot { started: at(1) },
            "slot 2 ended: two barriers suffice"
        );
        // Every input ended but one: its barrier alone completes the checkpoint.
        chs[10].ended = true;
        assert_eq!(
            on_barrier(&mut g, 1, 2, at(8), &chs),
            Step::Snapshot { started: at(8) }
        );
    }

    #[test]
    fn a_channel_ending_mid_alignment_completes_it() {
        let mut chs = channels(3);
        let mut g = gate(3, true);
        assert_eq!(complete(&mut g, &chs), None, "nothing being aligned");
        assert_eq!(on_barrier(&mut g, 0, 1, at(1), &chs), Step::Block);
        assert_eq!(on_barrier(&mut g, 2, 1, at(2), &chs), Step::Block);
        g.parked = vec![12, 10];
        assert_eq!(
            complete(&mut g, &chs),
            None,
            "slot 1 neither delivered nor ended"
        );
        assert_eq!(g.blocked, [true, false, true]);
        chs[11].ended = true;
        assert_eq!(complete(&mut g, &chs), Some(at(1)));
        assert!(g.align.is_none());
        assert_eq!(g.blocked, [false; 3]);
        assert_eq!(g.available, [12, 10]);
        assert_eq!(complete(&mut g, &chs), None, "completes once");
    }

    #[test]
    fn aborting_drops_the_alignment_of_that_or_an_older_checkpoint_only() {
        let chs = channels(2);
        let mut g = gate(2, true);
        assert_eq!(on_barrier(&mut g, 0, 3, at(1), &chs), Step::Block);
        g.parked = vec![10];
        abort(&mut g, 2); // an older checkpoint: not the one being aligned
        assert_eq!(g.align.as_ref().map(|a| a.id), Some(3));
        assert_eq!(g.blocked, [true, false]);
        assert!(g.available.is_empty());
        abort(&mut g, 3);
        assert!(g.align.is_none());
        assert_eq!(g.blocked, [false, false]);
        assert_eq!(g.available, [10]);
        // A newer id subsumes too.
        assert_eq!(on_barrier(&mut g, 1, 4, at(2), &chs), Step::Block);
        abort(&mut g, 5);
        assert!(g.align.is_none());
        assert_eq!(g.blocked, [false, false]);
    }

    /// Flink's `SingleCheckpointBarrierHandler.abortInternal` sets `currentCheckpointId` to the
    /// aborted id "so that no checkpoint barrier can start a new alignment": the remaining
    /// barriers of an aborted checkpoint are obsolete (`processBarrier` returns early). A gate
    /// that forgot the id would start a fresh alignment on the next barrier 3 and block its
    /// channel for a checkpoint nobody waits for, until a barrier 4 arrived on slot 0.
    #[test]
    fn barriers_of_an_aborted_checkpoint_are_obsolete() {
        let chs = channels(2);
        let mut g = gate(2, true);
        assert_eq!(on_barrier(&mut g, 0, 3, at(1), &chs), Step::Block);
        abort(&mut g, 3);
        assert_eq!(on_barrier(&mut g, 1, 3, at(2), &chs), Step::Continue);
        assert_eq!(g.blocked, [false, false]);
        assert!(g.align.is_none());
    }
}
