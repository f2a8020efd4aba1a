//! Running records through a chain, with Flink's timing.
//!
//! Flink hands a record through a chain depth first: the head processes record 1, passes it
//! to the next operator, which passes it on, until it is written to the network or consumed
//! by a sink; only then does the head take record 2. A record therefore leaves the chain at
//! `start + (CPU time of all work done before it, in depth-first order) + (its own path)`.
//!
//! Executing that literally costs a function call per operator per record. Instead,
//! [`Chain::run`] executes operator by operator over the whole slice (phase 1), then recovers
//! the depth-first times exactly: every output record remembers its input record (`parent`),
//! so phase 2 sums, bottom-up, the CPU time each record causes in its operator and everything
//! downstream (its *subtree*), and phase 3 lays the subtrees end to end in depth-first order.
//! Phase 4 hands records to network writers and sinks at those times. Phases 2 and 3, and the
//! one-pass fast path for linear chains, are in `chain/timing.rs`; the tests (`chain/tests.rs`)
//! check [`Chain::run`] against a literal record-at-a-time executor.
//!
//! Records can also enter in the middle of a chain: a window that fires on a watermark or a
//! timer emits results that run through the operators below it only ([`Chain::watermark`]).
//! Watermarks and idleness markers themselves travel depth first along every output.
//!
//! One simplification: an operator that reads processing time sees the slice's start time.

mod timing;

use super::batch::View;
use super::element::Marker;
use super::output::{Cx, NetworkOutput};
use super::{OpSlot, Operator, Out, Port};
use crate::core::time::{EventTime, SimDuration, SimTime};
use crate::expr::eval::EvalCx;
use timing::{linear_times, start_times, subtree_costs};

/// How an operator's outputs relate to its inputs (decides the fast paths of the timing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Output `i` comes from input `i` (source, map, reduce).
    OneToOne,
    /// Zero or one output per input (filter).
    Select,
    /// Any number of outputs per input (flat_map, window).
    Fan,
    /// No outputs (sink).
    Consume,
}

/// Where records enter the chain.
#[derive(Clone, Copy)]
enum Entry<'v> {
    /// At the head, from the network (or, for a source chain, already in the head's `out`).
    Head(Option<View<'v>>),
    /// From operator `j`, whose `out` already holds what it emitted.
    Emitted(usize),
}

/// A chain of operators with its precomputed wiring.
#[derive(Debug, Clone)]
pub struct Chain {
    /// Operators in topological order; the head is at 0.
    pub ops: Vec<OpSlot>,
    /// CPU time to serialize one record for each network writer (all copies of a broadcast).
    pub ser: Vec<SimDuration>,
    /// For every operator: itself and everything downstream of it, in topological order.
    below: Vec<Vec<usize>>,
    /// Scratch for merging the writes of several network outputs by time.
    merge: Vec<(SimTime, u32, u32, u16, bool)>,
    /// Which logical input the records handed to [`Chain::run`] come from (two-input heads).
    pub head_port: usize,
}

impl Chain {
    /// A chain of these operators; `ser[w]` is the serialization cost of writer `w`.
    pub fn new(ops: Vec<OpSlot>, ser: Vec<SimDuration>) -> Self {
        let n = ops.len();
        // Parents come before children, so one forward sweep collects each subtree.
        let below: Vec<Vec<usize>> = (0..n)
            .map(|j| {
                let mut sub = vec![j];
                for (k, op) in ops.iter().enumerate().skip(j + 1) {
                    if op.parent.is_some_and(|(p, _)| sub.contains(&p)) {
                        sub.push(k);
                    }
                }
                sub
            })
            .collect();
        Chain {
            ops,
            ser,
            below,
            merge: Vec::new(),
            head_port: 0,
        }
    }

    /// Runs `input` (or, for a source chain, the records already in the head's `out`) through
    /// the chain starting at local time `t0`; `in_cost` is charged before each head record
    /// (deserialization). Returns the local time when the last record is done.
    pub fn run<O: NetworkOutput>(
        &mut self,
        input: Option<View<'_>>,
        t0: SimTime,
        in_cost: SimDuration,
        cx: &mut Cx<'_, O>,
    ) -> SimTime {
        self.run_entry(Entry::Head(input), t0, in_cost, cx)
    }

    fn run_entry<O: NetworkOutput>(
        &mut self,
        entry: Entry<'_>,
        t0: SimTime,
        in_cost: SimDuration,
        cx: &mut Cx<'_, O>,
    ) -> SimTime {
        let (root, input, emitted) = match entry {
            Entry::Head(i) => (0, i, None),
            Entry::Emitted(j) => (j, None, Some(j)),
        };
        let scope = std::mem::take(&mut self.below[root]);
        for &j in &scope {
            self.ops[j].op.set_capture_clock(t0);
        }
        forward(
            &mut self.ops,
            &scope,
            input,
            emitted,
            self.head_port,
            &mut cx.ev,
        );
        let end = match linear_times(
            &mut self.ops,
            &scope,
            input,
            emitted,
            t0,
            in_cost,
            &self.ser,
        ) {
            Some(end) => end,
            None => {
                subtree_costs(&mut self.ops, &scope, input, emitted, &self.ser);
                start_times(
                    &mut self.ops,
                    &scope,
                    input,
                    emitted,
                    t0,
                    in_cost,
                    &self.ser,
                )
            }
        };
        self.emit(&scope, input, cx);
        self.below[root] = scope;
        end
    }

    /// A watermark reaches operator `j` at local time `t`: windows fire (their results run
    /// through the operators below), then the watermark goes on along every output.
    /// Returns the local time when everything it caused is done.
    pub fn watermark<O: NetworkOutput>(
        &mut self,
        j: usize,
        wm: EventTime,
        t: SimTime,
        cx: &mut Cx<'_, O>,
    ) -> SimTime {
        let mut t = t;
        if self.failed() {
            return t;
        }
        let slot = &mut self.ops[j];
        slot.watermark = wm;
        if slot.op.has_event_time() {
            slot.op.set_capture_clock(t);
            slot.out.clear();
            slot.side.clear();
            slot.op
                .advance_watermark(wm, &mut slot.out, &mut slot.side, &mut cx.ev);
            if !(slot.out.is_empty() && slot.side.is_empty()) {
                t = self.run_entry(Entry::Emitted(j), t, SimDuration::ZERO, cx);
            }
            if self.failed() {
                return t;
            }
        }
        self.forward_marker(j, Marker::Watermark(wm), t, cx)
    }

    /// An idleness marker reaches operator `j`: it goes on along every output.
    pub fn status<O: NetworkOutput>(
        &mut self,
        j: usize,
        m: Marker,
        t: SimTime,
        cx: &mut Cx<'_, O>,
    ) -> SimTime {
        self.forward_marker(j, m, t, cx)
    }

    fn forward_marker<O: NetworkOutput>(
        &mut self,
        j: usize,
        m: Marker,
        t: SimTime,
        cx: &mut Cx<'_, O>,
    ) -> SimTime {
        let mut t = t;
        let n_main = self.ops[j].outs.len();
        for i in 0..n_main + self.ops[j].side_outs.len() {
            let o = if i < n_main {
                self.ops[j].outs[i]
            } else {
                self.ops[j].side_outs[i - n_main]
            };
            match o {
                Out::Chained(k) => {
                    t = match m {
                        Marker::Watermark(wm) => self.watermark(k as usize, wm, t, cx),
                        _ => self.status(k as usize, m, t, cx),
                    }
                }
                Out::Network(w) => {
                    t += self.ser[w as usize];
                    cx.net.broadcast_marker(w as usize, m, t);
                }
            }
        }
        t
    }

    /// Fires the processing-time timers due at `now_ms` (local time `t`); returns when done.
    pub fn processing_time<O: NetworkOutput>(
        &mut self,
        now_ms: EventTime,
        t: SimTime,
        cx: &mut Cx<'_, O>,
    ) -> SimTime {
        let mut t = t;
        for j in 0..self.ops.len() {
            if self.failed() {
                break;
            }
            let slot = &mut self.ops[j];
            if slot.op.next_processing_timer().is_some_and(|n| n <= now_ms) {
                slot.op.set_capture_clock(t);
                slot.out.clear();
                slot.side.clear();
                slot.op
                    .advance_processing_time(now_ms, &mut slot.out, &mut slot.side, &mut cx.ev);
                if !(slot.out.is_empty() && slot.side.is_empty()) {
                    t = self.run_entry(Entry::Emitted(j), t, SimDuration::ZERO, cx);
                }
            }
        }
        t
    }

    /// Tells every processing-time operator what time it is (before a slice runs).
    pub fn set_processing_time(&mut self, now_ms: EventTime) {
        for s in &mut self.ops {
            s.op.set_processing_time(now_ms);
        }
    }

    /// The earliest processing-time timer of any operator, in ms.
    pub fn next_processing_timer(&self) -> Option<EventTime> {
        self.ops
            .iter()
            .filter_map(|s| s.op.next_processing_timer())
            .min()
    }

    /// The copy of the chain a checkpoint keeps: its wiring and counters, and every
    /// operator's [`super::state::OperatorState::snapshot_state`].
    pub fn snapshot_state(&mut self) -> Chain {
        let ops = std::mem::take(&mut self.ops);
        let mut copy = self.clone();
        self.ops = ops;
        copy.ops = self.ops.iter_mut().map(OpSlot::snapshot_state).collect();
        copy
    }

    /// Whether an operator has raised a failure (the task must stop: nothing more goes in
    /// or out).
    pub fn failed(&self) -> bool {
        self.ops.iter().any(|s| s.op.failed())
    }

    /// Whether the chain holds a sink (its subtask commits on `notifyCheckpointComplete`).
    pub fn has_sink(&self) -> bool {
        self.ops.iter().any(|s| matches!(s.op, Operator::Sink(_)))
    }

    /// A failure an operator raised (Flink would throw), taken once.
    pub fn take_failure(&mut self) -> Option<String> {
        self.ops.iter_mut().find_map(|s| s.op.take_failure())
    }

    #[inline(never)]
    fn emit<O: NetworkOutput>(
        &mut self,
        scope: &[usize],
        input: Option<View<'_>>,
        cx: &mut Cx<'_, O>,
    ) {
        let ops = &mut self.ops;
        // Network writes, in time order.
        self.merge.clear();
        let mut single: Option<(usize, bool, usize, u16)> = None;
        let mut count = 0;
        for &j in scope {
            let s = &ops[j];
            for (side, outs) in [(false, &s.outs), (true, &s.side_outs)] {
                let mut q = 0;
                for o in outs {
                    if let Out::Network(w) = *o {
                        count += 1;
                        single = Some((j, side, q, w));
                        q += 1;
                    }
                }
            }
        }
        if count == 1 {
            let (j, side, q, w) = single.expect("one network output");
            let s = &ops[j];
            let (batch, times, nets) = if side {
                (&s.side, &s.side_write_at, s.side_network_outs)
            } else {
                (&s.out, &s.write_at, s.network_outs)
            };
            if nets == 1 {
                cx.net
                    .write_batch(w as usize, batch.view(), times, &mut cx.ev);
            } else {
                let view = batch.view();
                for i in 0..view.len() {
                    cx.net.write_record(
                        w as usize,
                        view.row(i),
                        view.meta[i],
                        times[i * nets + q],
                        &mut cx.ev,
                    );
                }
            }
        } else if count > 1 {
            for &j in scope {
                let s = &ops[j];
                for (side, outs) in [(false, &s.outs), (true, &s.side_outs)] {
                    let (batch, times, nets) = if side {
                        (&s.side, &s.side_write_at, s.side_network_outs)
                    } else {
                        (&s.out, &s.write_at, s.network_outs)
                    };
                    let mut q = 0;
                    for o in outs {
                        if let Out::Network(w) = *o {
                            for i in 0..batch.len() {
                                self.merge
                                    .push((times[i * nets + q], j as u32, i as u32, w, side));
                            }
                            q += 1;
                        }
                    }
                }
            }
            // Stable: ties keep depth-first order.
            self.merge.sort_by_key(|e| e.0);
            for &(t, j, i, w, side) in &self.merge {
                let s = &ops[j as usize];
                let view = if side { s.side.view() } else { s.out.view() };
                let i = i as usize;
                cx.net
                    .write_record(w as usize, view.row(i), view.meta[i], t, &mut cx.ev);
            }
        }
        // Sinks.
        for &j in scope {
            if !matches!(ops[j].op, Operator::Sink(_)) {
                continue;
            }
            let (before, rest) = ops.split_at_mut(j);
            let slot = &mut rest[0];
            let view = input_of(before, slot.parent, input);
            let Operator::Sink(sink) = &mut slot.op else {
                unreachable!("checked above")
            };
            sink.consume_batch(view, &slot.start_at, slot.cost, &mut cx.ev);
        }
    }
}

/// The records entering operator `j` (whose predecessors are `before`).
fn input_of<'a>(
    before: &'a [OpSlot],
    parent: Option<(usize, Port)>,
    input: Option<View<'a>>,
) -> View<'a> {
    match parent {
        Some((p, Port::Main)) => before[p].out.view(),
        Some((p, Port::Side)) => before[p].side.view(),
        None => input.expect("the chain's head has input"),
    }
}

/// Whether op `j` starts this run with its output already filled (a source, or the operator
/// that emitted the records entering the chain).
fn prefilled(ops: &[OpSlot], j: usize, emitted: Option<usize>) -> bool {
    emitted == Some(j) || matches!(ops[j].op, Operator::Source)
}

fn input_len(ops: &[OpSlot], j: usize, input: Option<View<'_>>, emitted: Option<usize>) -> usize {
    if prefilled(ops, j, emitted) {
        // Timer firings' side-output rows may have places after the main rows.
        let side = if ops[j].side_outs.is_empty() {
            0
        } else {
            ops[j]
                .side
                .parent
                .iter()
                .max()
                .map_or(0, |p| *p as usize + 1)
        };
        return ops[j].out.len().max(side);
    }
    match ops[j].parent {
        Some((p, Port::Main)) => ops[p].out.len(),
        Some((p, Port::Side)) => ops[p].side.len(),
        None => input.map_or(0, |v| v.len()),
    }
}

/// Phase 1: each operator processes its whole input.
#[inline(never)]
fn forward(
    ops: &mut [OpSlot],
    scope: &[usize],
    input: Option<View<'_>>,
    emitted: Option<usize>,
    head_port: usize,
    ev: &mut EvalCx<'_>,
) {
    for &j in scope {
        if prefilled(ops, j, emitted) {
            let n = ops[j].out.len() as u64;
            if emitted != Some(j) {
                ops[j].records_in += n;
            }
            ops[j].records_out += n;
            continue;
        }
        let (before, rest) = ops.split_at_mut(j);
        let slot = &mut rest[0];
        slot.out.clear();
        slot.side.clear();
        let view = input_of(before, slot.parent, input);
        slot.records_in += view.len() as u64;
        let port = if j == scope[0] { head_port } else { 0 };
        let before = ev.error.is_some();
        slot.op
            .process(port, view, &mut slot.out, &mut slot.side, ev);
        if !before
            && ev.error.is_some()
            && let Some(i) = slot.op.failing_record(port, view, ev)
        {
            // The task fails at input record `i`: what it would have made of the records
            // from `i` on never happens.
            slot.out.truncate_to_parents_below(i);
        }
        slot.records_out += slot.out.len() as u64;
    }
}

#[cfg(test)]
mod tests;
