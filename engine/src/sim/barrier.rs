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

use super::channel::Channel;
use super::task::Gate;
use crate::time::SimTime;

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
    gate.align = None;
    unblock(gate);
    Some(started)
}

/// Drops an alignment (the checkpoint was aborted) and reads every channel again.
pub fn abort(gate: &mut Gate, id: u64) {
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
