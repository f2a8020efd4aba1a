//! What one work item does, as functions of the pieces of the task it runs: a source's batch
//! of records and watermarks, or (the rest of) one input buffer through the gate's barrier
//! aligner and watermark valves.

use crate::core::time::{SimDuration, SimTime};
use crate::ops::batch::View;
use crate::ops::chain::Chain;
use crate::sim::net::Cx;
use crate::sim::notes::{self, Note, Notes};
use crate::sim::{buffer, source, task};

/// Records a source produces per work item at most.
const SOURCE_BATCH: usize = 512;
/// Records of an input buffer run through the chain at once; the task checks for output
/// backpressure between slices.
const RECEIVE_BATCH: usize = 256;

/// The coordinator's trigger at a source, a mailbox action between two records: the source
/// sends barrier `id` downstream; its offsets are snapshotted as the work item ends. Returns
/// the local time.
pub(super) fn inject_item(
    chain: &mut Chain,
    id: u64,
    t: SimTime,
    cx: &mut Cx<'_>,
    notes: &mut Notes,
) -> SimTime {
    notes::push(notes, Note::BarrierInjected { t, checkpoint: id });
    chain.status(0, buffer::Marker::Barrier(id), t, cx)
}

/// A source's work item: a due periodic watermark, then a batch of records (one at a time
/// for a punctuated generator, each followed by its watermark), then — at the end of the
/// input — the final watermark. Returns the local time when done.
pub(super) fn source_item(
    src: &mut source::SourceState,
    chain: &mut Chain,
    now: SimTime,
    t0: SimTime,
    cx: &mut Cx<'_>,
    end_of_input: &mut bool,
    notes: &mut Notes,
) -> SimTime {
    use crate::flink::watermark::Emit;
    let mut t = t0;
    let mut emit = |chain: &mut Chain, e: Emit, t: SimTime, cx: &mut Cx<'_>| -> SimTime {
        match e {
            Emit::Watermark(watermark) => {
                notes::push(notes, Note::Watermark { t, watermark });
                chain.watermark(0, watermark, t, cx)
            }
            Emit::Idle => {
                notes::push(notes, Note::Status { t, idle: true });
                chain.status(0, buffer::Marker::Idle, t, cx)
            }
            Emit::Active => {
                notes::push(notes, Note::Status { t, idle: false });
                chain.status(0, buffer::Marker::Active, t, cx)
            }
        }
    };
    if let Some(tick) = src.watermarks.next_tick
        && tick <= now
        && let Some(e) = src.watermarks.on_tick(now)
    {
        t = emit(chain, e, t, cx);
    }
    chain.set_processing_time(now.as_event_time());
    if src.paused {
        // held back by watermark alignment: only watermarks and idleness go out
    } else if src.watermarks.per_event() {
        let mut n = 0;
        while n < SOURCE_BATCH && !cx.net.blocked && cx.ev.error.is_none() && !chain.failed() {
            let head = &mut chain.ops[0];
            head.out.clear();
            src.fill(now, 1, &mut head.out);
            if head.out.is_empty() {
                break;
            }
            let ts = head.out.meta[0].ts;
            if let Some(e) = src.watermarks.wake(now) {
                t = emit(chain, e, t, cx);
            }
            t = chain.run(None, t, SimDuration::ZERO, cx);
            if let Some(e) = src.watermarks.observe(ts, now) {
                t = emit(chain, e, t, cx);
            }
            n += 1;
        }
    } else {
        let head = &mut chain.ops[0];
        head.out.clear();
        src.fill(now, SOURCE_BATCH, &mut head.out);
        if !head.out.is_empty() {
            if let Some(e) = src.watermarks.wake(now) {
                t = emit(chain, e, t, cx);
            }
            // Periodic generators only track the largest timestamp: one call per batch.
            let max_ts = chain.ops[0].out.meta.iter().map(|m| m.ts).max();
            if let Some(ts) = max_ts {
                src.watermarks.observe(ts, now);
            }
            t = chain.run(None, t, SimDuration::ZERO, cx);
        }
    }
    if chain.failed() || cx.ev.error.is_some() {
        // the task failed: it emits nothing more, not even the final watermark
        return t;
    }
    if src.exhausted(t) {
        // A bounded source ends with the final watermark, then end-of-partition.
        if let Some(e) = src.watermarks.wake(now) {
            t = emit(chain, e, t, cx);
        }
        let e = src.watermarks.on_end();
        t = emit(chain, e, t, cx);
        *end_of_input = true;
    }
    t
}

/// A non-source work item: (the rest of) one input buffer — records in slices, and every
/// marker through the channel's watermark valve. Returns the local time when done.
#[allow(clippy::too_many_arguments)]
pub(super) fn input_item(
    gate: &mut task::Gate,
    chain: &mut Chain,
    consumed: &mut Vec<u32>,
    t0: SimTime,
    deser: SimDuration,
    cx: &mut Cx<'_>,
    end_of_input: &mut bool,
    trail: &mut task::WatermarkTrail,
    snapshot: &mut Option<(u64, SimTime)>,
) -> SimTime {
    let mut t = t0;
    while gate.current.is_none()
        && let Some(ch) = gate.available.pop_front()
    {
        let c = &mut cx.net.channels[ch as usize];
        if gate.barriers.is_blocked(c.gate_pos as usize) {
            // blocked by barrier alignment: read it again once the checkpoint is aligned
            gate.barriers.park(ch);
            continue;
        }
        let b = c
            .queue
            .pop_front()
            .expect("available channels have buffers");
        if !c.queue.is_empty() {
            gate.available.push_back(ch);
        }
        gate.current = Some((ch, b, 0, 0));
    }
    let Some((ch, b, mut pos, mut mi)) = gate.current.take() else {
        return t;
    };
    let all = View {
        arity: b.arity as usize,
        values: &b.values,
        meta: &b.meta,
    };
    let slot = cx.net.channels[ch as usize].gate_pos as usize;
    loop {
        let next_marker = b.markers.get(mi).map_or(b.len(), |m| m.0 as usize);
        if pos < next_marker {
            let to = (pos + RECEIVE_BATCH).min(next_marker);
            chain.set_processing_time(t.as_event_time());
            chain.head_port = cx.net.channels[ch as usize].input as usize;
            t = chain.run(Some(all.slice(pos, to)), t, deser, cx);
            pos = to;
        } else if let Some(&(_, m)) = b.markers.get(mi) {
            mi += 1;
            if let buffer::Marker::Barrier(id) = m {
                let step = read_barrier(gate, slot, id, t, cx.net.channels);
                match step {
                    crate::flink::barrier::Step::Continue => {}
                    crate::flink::barrier::Step::Block => break,
                    crate::flink::barrier::Step::Snapshot { started } => {
                        // Forward the barrier, then stop: the snapshot is taken as the work
                        // item ends, before any record behind the barrier.
                        t = chain.status(0, m, t, cx);
                        *snapshot = Some((id, started));
                        break;
                    }
                }
            } else {
                t = on_marker(gate, chain, slot, m, t, cx, trail);
            }
        } else {
            break;
        }
        if cx.net.blocked || cx.ev.error.is_some() || chain.failed() {
            break;
        }
    }
    if pos >= b.len() && mi >= b.markers.len() {
        if b.end_of_partition {
            cx.net.channels[ch as usize].ended = true;
            crate::sim::channel::shed(&mut cx.net.channels[ch as usize].queue);
            gate.ended += 1;
            *end_of_input = gate.ended as usize == gate.channels.len();
            t = aligned_by_end(gate, chain, t, cx, snapshot);
        }
        if !b.unpooled {
            consumed.push(ch);
        }
        cx.net.pool.give(b);
    } else {
        gate.current = Some((ch, b, pos, mi));
    }
    t
}

/// An input channel ended: it counts as having delivered the barrier being aligned
/// (FLIP-147), so the alignment may be complete now — then the barrier is forwarded and the
/// snapshot taken as the work item ends. Returns the local time.
fn aligned_by_end(
    gate: &mut task::Gate,
    chain: &mut Chain,
    t: SimTime,
    cx: &mut Cx<'_>,
    snapshot: &mut Option<(u64, SimTime)>,
) -> SimTime {
    let mut t = t;
    if snapshot.is_none()
        && let Some(id) = gate.barriers.align.as_ref().map(|a| a.id)
        && let Some(started) = {
            let channels = &*cx.net.channels;
            let ended = |s: usize| channels[gate.channels[s] as usize].ended;
            gate.barriers.complete(&ended, &mut gate.available)
        }
    {
        notes::push(
            &mut gate.notes,
            Note::Aligned {
                t,
                checkpoint: id,
                started,
            },
        );
        t = chain.status(0, buffer::Marker::Barrier(id), t, cx);
        *snapshot = Some((id, started));
    }
    t
}

/// The task reads barrier `id` from gate slot `slot` at local time `t`: the gate's aligner
/// decides what follows, and the read is noted for the trace.
fn read_barrier(
    gate: &mut task::Gate,
    slot: usize,
    id: u64,
    t: SimTime,
    channels: &[crate::sim::channel::Channel],
) -> crate::flink::barrier::Step {
    let ended = |s: usize| channels[gate.channels[s] as usize].ended;
    let obsolete = gate.barriers.is_obsolete(id);
    let first = !obsolete && gate.barriers.align.as_ref().is_none_or(|a| a.id != id);
    let step = gate
        .barriers
        .on_barrier(slot, id, t, &ended, &mut gate.available);
    if gate.notes.is_some() {
        note_barrier(
            &mut gate.notes,
            &gate.barriers,
            slot,
            id,
            (obsolete, first),
            step,
            t,
            &ended,
        );
    }
    step
}

/// Notes the read of barrier `id` from gate slot `slot`: whether it was obsolete or began
/// the alignment (`kind`, as the aligner saw it before the read), whether it blocked its
/// channel, how many channels still owe the barrier, and the end of the alignment if it
/// was the last.
#[allow(clippy::too_many_arguments)]
fn note_barrier(
    notes: &mut Notes,
    aligner: &crate::flink::barrier::Aligner,
    slot: usize,
    id: u64,
    (obsolete, first): (bool, bool),
    step: crate::flink::barrier::Step,
    t: SimTime,
    ended: &dyn Fn(usize) -> bool,
) {
    use crate::flink::barrier::Step;
    let waiting_for = aligner.align.as_ref().map_or(0, |a| {
        a.seen
            .iter()
            .enumerate()
            .filter(|&(s, &seen)| !seen && !ended(s))
            .count() as u32
    });
    notes::push(
        notes,
        Note::BarrierRead {
            t,
            slot: slot as u32,
            checkpoint: id,
            obsolete,
            first,
            blocked: step == Step::Block,
            waiting_for,
        },
    );
    if let Step::Snapshot { started } = step {
        notes::push(
            notes,
            Note::Aligned {
                t,
                checkpoint: id,
                started,
            },
        );
    }
}

/// A marker from gate slot `slot`: through its input's valve; if the combined watermark
/// advances, the chain sees it; if every input goes idle (or comes back), downstream is told.
pub(super) fn on_marker(
    gate: &mut task::Gate,
    chain: &mut Chain,
    slot: usize,
    m: buffer::Marker,
    t: SimTime,
    cx: &mut Cx<'_>,
    trail: &mut task::WatermarkTrail,
) -> SimTime {
    use crate::flink::valve::ValveOutput;
    let (input, idx) = gate.slots[slot];
    let before = gate.notes.is_some().then(|| {
        let v = &gate.valves[input];
        (v.channel_watermarks()[idx], v.channel_idle()[idx])
    });
    let outputs = match m {
        buffer::Marker::Watermark(w) => gate.valves[input].watermark(idx, w).into_iter().collect(),
        buffer::Marker::Idle => gate.valves[input].status(idx, true),
        buffer::Marker::Active => gate.valves[input].status(idx, false),
        buffer::Marker::Barrier(_) | buffer::Marker::UnalignedBarrier(_) => {
            unreachable!("barriers are handled by the caller")
        }
    };
    if let Some((wm, idle)) = before {
        let v = &gate.valves[input];
        let (slot, now_wm, now_idle) = (
            slot as u32,
            v.channel_watermarks()[idx],
            v.channel_idle()[idx],
        );
        if now_wm > wm {
            notes::push(
                &mut gate.notes,
                Note::ChannelWatermark {
                    t,
                    slot,
                    watermark: now_wm,
                },
            );
        }
        if now_idle != idle {
            notes::push(
                &mut gate.notes,
                Note::ChannelStatus {
                    t,
                    slot,
                    idle: now_idle,
                },
            );
        }
    }
    let mut t = t;
    for o in outputs {
        match o {
            ValveOutput::Watermark(_) => {
                // Two-input operators take the minimum over their active inputs.
                let combined = gate
                    .valves
                    .iter()
                    .filter(|v| !v.output_idle)
                    .map(|v| v.output)
                    .min();
                if let Some(c) = combined
                    && c > gate.watermark
                {
                    gate.watermark = c;
                    trail.record(t, c);
                    notes::push(&mut gate.notes, Note::Watermark { t, watermark: c });
                    t = chain.watermark(0, c, t, cx);
                }
            }
            ValveOutput::Idle => {
                if gate.valves.iter().all(|v| v.output_idle) && !gate.idle {
                    gate.idle = true;
                    notes::push(&mut gate.notes, Note::Status { t, idle: true });
                    t = chain.status(0, buffer::Marker::Idle, t, cx);
                }
            }
            ValveOutput::Active => {
                if gate.idle {
                    gate.idle = false;
                    notes::push(&mut gate.notes, Note::Status { t, idle: false });
                    t = chain.status(0, buffer::Marker::Active, t, cx);
                }
            }
        }
    }
    t
}
