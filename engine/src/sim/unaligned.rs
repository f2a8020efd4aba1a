//! Unaligned checkpoints and the aligned-checkpoint timeout (Flink's FLIP-76 and FLIP-183).
//!
//! **Unaligned** (`execution.checkpointing.unaligned.enabled`, exactly-once only): a barrier
//! does not wait behind buffered data.
//! - *At an output* it is a priority event: the partly filled buffer is finished, and the
//!   barrier is sent at once, without credit, ahead of every buffer still queued for credit
//!   ([`super::net::Net::write_priority_barrier`]). The overtaken buffers are recorded as the
//!   sender's **output channel state**.
//! - *At an input* the first barrier of a checkpoint is handled as soon as it arrives — before
//!   any queued buffer, even while the task is backpressured: the task snapshots at once and
//!   forwards the barrier (again as a priority event). Nothing is blocked. Every buffer that
//!   was queued before a channel's barrier, and every buffer that arrives on a channel before
//!   that channel's barrier, is recorded as **input channel state** (Flink's
//!   `AlternatingWaitingForFirstBarrierUnaligned`, `ChannelStatePersister`). The data is still
//!   processed normally; its effect is just not in the snapshot.
//! - The channel state is part of the task's snapshot: its bytes are written to the
//!   checkpoint storage, and the task acknowledges once its barrier has arrived on every
//!   channel and both the operator state and the channel state are written.
//! - On restore ([`replay`]) a task's output channel state is sent
//!   again before any new output, and its input channel state is processed before any new
//!   input.
//!
//! **Aligned checkpoint timeout** (`execution.checkpointing.aligned-checkpoint-timeout`, with
//! unaligned enabled): a checkpoint starts aligned; once `aligned_timeout` has passed **since
//! the checkpoint was triggered** (Flink measures from the barrier's timestamp,
//! `BarrierAlignmentUtil.getTimerDelay`), its barriers switch to unaligned: aligned barriers
//! still queued at an output become priority events (overtaking the buffers ahead of them),
//! barriers already queued at an input are pulled ahead, and a task still aligning snapshots
//! at once and records the rest as channel state. A task whose first barrier arrives after
//! that time handles it as unaligned right away.
//!
//! Savepoints are always aligned ([`crate::flink::checkpoint::barrier_kind`]).
//!
//! Simplifications: every exchange may persist in-flight data (Flink forces pointwise and
//! broadcast exchanges to stay aligned); a task that switches on timeout reads its blocked
//! channels again at once (Flink keeps them blocked until the checkpoint's barriers are in).
//!
//! This module holds what a gate, a writer or a restored task does, as functions of those
//! pieces; the kernel (`sim/kernel/unaligned.rs`) sequences them with the coordinator and the
//! scheduler.

use super::buffer::Buffer;
use super::channel::Channel;
use super::channel_state::{ChannelState, Collect, barrier_of, persistable};
use super::checkpoint::Completed;
use super::net::RecordWriter;
use super::queue::EventQueue;
use super::task::{Gate, Task};
use super::trace::Trace;
use crate::core::cost::CostModel;
use crate::core::time::SimTime;
use serde_json::json;

/// Slots of `gate` that need no recording: their barrier is already in (`aligned`) or they
/// ended.
pub fn initially_seen(gate: &Gate, channels: &[Channel], aligned: Option<&[bool]>) -> Vec<bool> {
    gate.channels
        .iter()
        .enumerate()
        .map(|(i, &ch)| channels[ch as usize].ended || aligned.is_some_and(|s| s[i]))
        .collect()
}

/// Slot `slot` of `gate` delivered the barrier being recorded (or ended): its recording
/// stops. Returns whether a recording is under way.
pub fn mark_seen(gate: &mut Gate, slot: usize) -> bool {
    let Some(col) = gate.collect.as_mut() else {
        return false;
    };
    col.seen[slot] = true;
    true
}

/// The recording of `gate`, taken out once every slot has delivered its barrier or ended.
pub fn collected(gate: &mut Gate, channels: &[Channel]) -> Option<Collect> {
    let col = gate.collect.as_ref()?;
    let done = gate
        .channels
        .iter()
        .zip(&col.seen)
        .all(|(&ch, &seen)| seen || channels[ch as usize].ended);
    if done { gate.collect.take() } else { None }
}

/// Data buffer `b` reached slot `slot` (channel `ch`) of `gate`: if the gate records that
/// slot, a copy is channel state. Returns whether the slot ended with it (it is then seen).
pub fn record_arrival(gate: &mut Gate, slot: usize, ch: u32, b: &Buffer) -> bool {
    let Some(col) = gate.collect.as_mut() else {
        return false;
    };
    if col.seen[slot] {
        return false;
    }
    if let Some(copy) = persistable(b, 0, 0) {
        col.state.input.push((ch, copy));
    }
    b.end_of_partition
}

/// What a recording starts with: the rest of the buffer `gate` is reading.
pub fn rest_of_current(gate: &Gate) -> ChannelState {
    let mut state = ChannelState::default();
    if let Some((ch, b, pos, mi)) = &gate.current
        && let Some(copy) = persistable(b, *pos, *mi)
    {
        state.input.push((*ch, copy));
    }
    state
}

/// Records the first `upto` buffers queued on channel `c` (id `ch`) as input channel state.
pub fn record_queued(state: &mut ChannelState, ch: u32, c: &Channel, upto: usize) {
    for b in c.queue.iter().take(upto) {
        if let Some(copy) = persistable(b, 0, 0) {
            state.input.push((ch, copy));
        }
    }
}

/// `aligned_timeout` passed for checkpoint `id` at `now`: on the output side of a task
/// (`writers`), an aligned barrier still queued for credit becomes a priority event, sent at
/// once; the buffers it overtakes are output channel state (returned). Flink converts the
/// barrier in the subpartition's queue.
pub fn convert_queued_barriers(
    writers: &mut [RecordWriter],
    channels: &mut [Channel],
    id: u64,
    now: SimTime,
    queue: &mut EventQueue,
    cost: &CostModel,
) -> ChannelState {
    let mut out = ChannelState::default();
    for w in writers.iter_mut() {
        for i in 0..w.channels.len() {
            let ch = w.channels[i];
            let c = &mut channels[ch as usize];
            let Some(k) = c.backlog.iter().position(|b| barrier_of(b) == Some(id)) else {
                continue;
            };
            for b in c.backlog.iter().take(k) {
                if let Some(copy) = persistable(b, 0, 0) {
                    out.output.push((ch, copy));
                }
            }
            let mut b = c.backlog.remove(k).expect("found");
            w.in_use -= 1;
            b.finished_at = now;
            super::net::send_priority(c, ch, b, queue, cost);
        }
    }
    out
}

/// Whether every task feeding task `ti` has finished (it then gets no barrier).
pub fn inputs_finished(tasks: &[Task], channels: &[Channel], ti: u32) -> bool {
    let gate = &tasks[ti as usize].gate;
    !gate.channels.is_empty()
        && gate
            .channels
            .iter()
            .all(|&ch| tasks[channels[ch as usize].from_task as usize].finished)
}

/// After a restore from checkpoint `latest`: tasks `restored` send their output channel
/// state before any new output and read their input channel state before any new input.
pub fn replay(
    latest: &Completed,
    restored: &[u32],
    (tasks, channels): (&mut [Task], &mut [Channel]),
    queue: &mut EventQueue,
    cost: &CostModel,
    trace: &mut Option<Trace>,
) {
    let states: Vec<(u32, ChannelState)> = restored
        .iter()
        .filter_map(|&ti| {
            let s = latest.snapshots[ti as usize].as_ref()?;
            (!s.channel_state.is_empty()).then(|| (ti, s.channel_state.clone()))
        })
        .collect();
    for (ti, st) in states {
        for (ch, mut b) in st.input {
            b.unpooled = true;
            let c = &mut channels[ch as usize];
            c.queue.push_back(b);
            let gate = &mut tasks[ti as usize].gate;
            if !gate.available.contains(&ch) {
                gate.available.push_back(ch);
            }
        }
        for (ch, b) in st.output {
            let c = &mut channels[ch as usize];
            let w = c.writer as usize;
            c.backlog.push_back(b);
            let writer = &mut tasks[ti as usize].writers[w];
            writer.in_use += 1;
            super::net::send_ready(writer, c, ch, queue, cost);
        }
        if let Some(tr) = trace.as_mut() {
            tr.event(
                queue.now(),
                "channel_state_replayed",
                vec![("task", json!(tasks[ti as usize].label))],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::time::SimDuration;
    use crate::core::value::Value;
    use crate::sim::buffer::RecMeta;
    use crate::sim::channel::{Ends, FloatingPool, Wanting};
    use std::collections::VecDeque;

    /// A gate over channels 0..n (slot = channel id), recording checkpoint 7.
    fn gate(n: usize) -> Gate {
        Gate {
            channels: (0..n as u32).collect(),
            available: VecDeque::new(),
            pool: FloatingPool { free: 0 },
            wanting: Wanting::default(),
            ended: 0,
            current: None,
            slots: (0..n).map(|s| (0, s)).collect(),
            valves: Vec::new(),
            watermark: crate::core::time::EventTime::MIN,
            idle: false,
            barriers: crate::flink::barrier::Aligner::new(n, true),
            collect: Some(Collect {
                id: 7,
                seen: vec![false; n],
                state: ChannelState::default(),
            }),
            notes: None,
        }
    }

    fn channels(n: usize) -> Vec<Channel> {
        (0..n as u32)
            .map(|i| {
                let ends = Ends {
                    edge: 0,
                    from_task: i,
                    writer: 0,
                    to_task: 9,
                    input: 0,
                };
                Channel::new(ends, false, SimDuration::ZERO, 2)
            })
            .collect()
    }

    fn data(n: i64) -> Buffer {
        let mut b = Buffer {
            arity: 1,
            ..Default::default()
        };
        for r in 0..n {
            b.push(&[Value::Int(r)], RecMeta::untimed(SimTime::ZERO), 21);
        }
        b
    }

    #[test]
    fn a_recording_keeps_what_arrives_before_each_channels_barrier_and_ends_with_the_last() {
        let mut chs = channels(3);
        chs[2].ended = true;
        let mut g = gate(3);
        assert_eq!(
            initially_seen(&g, &chs, Some(&[true, false, false])),
            [true, false, true]
        );
        // data on slot 1 is recorded; its end of partition marks it seen
        assert!(!record_arrival(&mut g, 1, 1, &data(2)));
        let eop = Buffer {
            end_of_partition: true,
            ..data(1)
        };
        assert!(record_arrival(&mut g, 1, 1, &eop));
        assert!(mark_seen(&mut g, 1));
        // after the barrier, nothing more from that slot
        assert!(!record_arrival(&mut g, 1, 1, &data(5)));
        assert!(collected(&mut g, &chs).is_none(), "slot 0 is still open");
        assert!(mark_seen(&mut g, 0));
        let col = collected(&mut g, &chs).expect("every slot seen or ended");
        assert_eq!(col.id, 7);
        assert_eq!(col.state.input.len(), 2);
        assert_eq!(col.state.bytes(), 63);
        assert!(g.collect.is_none() && !mark_seen(&mut g, 0));
    }

    #[test]
    fn queued_buffers_up_to_the_barrier_are_input_channel_state() {
        let mut chs = channels(1);
        chs[0].queue.extend([data(1), data(2), data(3)]);
        let mut state = ChannelState::default();
        record_queued(&mut state, 0, &chs[0], 2);
        assert_eq!(
            state.input.iter().map(|(_, b)| b.len()).collect::<Vec<_>>(),
            [1, 2]
        );
        let mut g = gate(1);
        g.current = Some((0, data(4), 3, 0));
        let rest = rest_of_current(&g);
        assert_eq!(rest.input.len(), 1);
        assert_eq!(
            rest.input[0].1.len(),
            1,
            "one record left of the buffer being read"
        );
    }
}
