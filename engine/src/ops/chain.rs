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
//! Phase 4 hands records to network writers and sinks at those times. The test at the bottom
//! checks the result against a literal record-at-a-time executor.
//!
//! Records can also enter in the middle of a chain: a window that fires on a watermark or a
//! timer emits results that run through the operators below it only ([`Chain::watermark`]).
//! Watermarks and idleness markers themselves travel depth first along every output.
//!
//! One simplification: an operator that reads processing time sees the slice's start time.

use super::batch::View;
use super::{Cx, OpSlot, Operator, Out, Port};
use crate::core::time::{EventTime, SimTime};
use crate::expr::eval::EvalCx;
use crate::sim::buffer::Marker;
use crate::sim::net::RouteMemo;

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

impl Operator {
    /// The operator's [`Shape`].
    pub fn shape(&self) -> Shape {
        match self {
            Operator::Source | Operator::Map(_) | Operator::Reduce(_) | Operator::CoMap(_) => {
                Shape::OneToOne
            }
            Operator::Filter(_) => Shape::Select,
            Operator::FlatMap(_)
            | Operator::Window(_)
            | Operator::WindowJoin(_)
            | Operator::IntervalJoin(_)
            | Operator::Process(_) => Shape::Fan,
            Operator::Sink(_) => Shape::Consume,
        }
    }
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
    pub ser_ns: Vec<u64>,
    /// For every operator: itself and everything downstream of it, in topological order.
    below: Vec<Vec<usize>>,
    /// Scratch for merging the writes of several network outputs by time.
    merge: Vec<(u64, u32, u32, u16, bool)>,
    /// Per network writer: channels of recently written keys (HASH writers).
    routes: Vec<RouteMemo>,
    /// Which logical input the records handed to [`Chain::run`] come from (two-input heads).
    pub head_port: usize,
}

impl Chain {
    /// A chain of these operators; `ser_ns[w]` is the serialization cost of writer `w`.
    pub fn new(ops: Vec<OpSlot>, ser_ns: Vec<u64>) -> Self {
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
            ser_ns,
            below,
            merge: Vec::new(),
            routes: Vec::new(),
            head_port: 0,
        }
    }

    /// Runs `input` (or, for a source chain, the records already in the head's `out`) through
    /// the chain starting at local time `t0`; `in_cost` is charged before each head record
    /// (deserialization). Returns the local time when the last record is done.
    pub fn run(&mut self, input: Option<View<'_>>, t0: u64, in_cost: u64, cx: &mut Cx<'_>) -> u64 {
        self.run_entry(Entry::Head(input), t0, in_cost, cx)
    }

    fn run_entry(&mut self, entry: Entry<'_>, t0: u64, in_cost: u64, cx: &mut Cx<'_>) -> u64 {
        let (root, input, emitted) = match entry {
            Entry::Head(i) => (0, i, None),
            Entry::Emitted(j) => (j, None, Some(j)),
        };
        let scope = std::mem::take(&mut self.below[root]);
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
            &self.ser_ns,
        ) {
            Some(end) => end,
            None => {
                subtree_costs(&mut self.ops, &scope, input, emitted, &self.ser_ns);
                start_times(
                    &mut self.ops,
                    &scope,
                    input,
                    emitted,
                    t0,
                    in_cost,
                    &self.ser_ns,
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
    pub fn watermark(&mut self, j: usize, wm: EventTime, t: u64, cx: &mut Cx<'_>) -> u64 {
        let mut t = t;
        if self.failed() {
            return t;
        }
        let slot = &mut self.ops[j];
        slot.watermark = wm;
        if slot.op.has_event_time() {
            slot.out.clear();
            slot.side.clear();
            slot.op
                .advance_watermark(wm, &mut slot.out, &mut slot.side, &mut cx.ev);
            if !(slot.out.is_empty() && slot.side.is_empty()) {
                t = self.run_entry(Entry::Emitted(j), t, 0, cx);
            }
            if self.failed() {
                return t;
            }
        }
        self.forward_marker(j, Marker::Watermark(wm), t, cx)
    }

    /// An idleness marker reaches operator `j`: it goes on along every output.
    pub fn status(&mut self, j: usize, m: Marker, t: u64, cx: &mut Cx<'_>) -> u64 {
        self.forward_marker(j, m, t, cx)
    }

    fn forward_marker(&mut self, j: usize, m: Marker, t: u64, cx: &mut Cx<'_>) -> u64 {
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
                    t += self.ser_ns[w as usize];
                    match m {
                        Marker::Barrier(id) => cx.net.write_barrier(w as usize, id, SimTime(t)),
                        Marker::UnalignedBarrier(id) => {
                            cx.net.write_priority_barrier(w as usize, id, SimTime(t))
                        }
                        _ => cx.net.write_marker(w as usize, m, SimTime(t)),
                    }
                }
            }
        }
        t
    }

    /// Fires the processing-time timers due at `now_ms` (local time `t`); returns when done.
    pub fn processing_time(&mut self, now_ms: EventTime, t: u64, cx: &mut Cx<'_>) -> u64 {
        let mut t = t;
        for j in 0..self.ops.len() {
            if self.failed() {
                break;
            }
            let slot = &mut self.ops[j];
            if slot.op.next_processing_timer().is_some_and(|n| n <= now_ms) {
                slot.out.clear();
                slot.side.clear();
                slot.op
                    .advance_processing_time(now_ms, &mut slot.out, &mut slot.side, &mut cx.ev);
                if !(slot.out.is_empty() && slot.side.is_empty()) {
                    t = self.run_entry(Entry::Emitted(j), t, 0, cx);
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

    /// Whether an operator has raised a failure (the task must stop: nothing more goes in
    /// or out).
    pub fn failed(&self) -> bool {
        self.ops.iter().any(|s| s.op.failed())
    }

    /// A failure an operator raised (Flink would throw), taken once.
    pub fn take_failure(&mut self) -> Option<String> {
        self.ops.iter_mut().find_map(|s| s.op.take_failure())
    }

    #[inline(never)]
    fn emit(&mut self, scope: &[usize], input: Option<View<'_>>, cx: &mut Cx<'_>) {
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
                (&s.side, &s.side_write_ns, s.side_network_outs)
            } else {
                (&s.out, &s.write_ns, s.network_outs)
            };
            if nets == 1 {
                let w = w as usize;
                if self.routes.len() <= w {
                    self.routes.resize_with(w + 1, RouteMemo::default);
                }
                let routes = &mut self.routes[w];
                cx.net
                    .write_batch(w, batch.view(), times, routes, &mut cx.ev);
            } else {
                let view = batch.view();
                for i in 0..view.len() {
                    cx.net.write(
                        w as usize,
                        view.row(i),
                        view.meta[i],
                        SimTime(times[i * nets + q]),
                        &mut cx.ev,
                    );
                }
            }
        } else if count > 1 {
            for &j in scope {
                let s = &ops[j];
                for (side, outs) in [(false, &s.outs), (true, &s.side_outs)] {
                    let (batch, times, nets) = if side {
                        (&s.side, &s.side_write_ns, s.side_network_outs)
                    } else {
                        (&s.out, &s.write_ns, s.network_outs)
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
                cx.net.write(
                    w as usize,
                    view.row(i),
                    view.meta[i],
                    SimTime(t),
                    &mut cx.ev,
                );
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
            sink.consume_batch(view, &slot.start_ns, slot.cost_ns, &mut cx.ev);
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

/// Phases 2 and 3 at once for a *linear* scope: every operator has one output, chained to
/// the next operator of the scope, except the last, which is a sink or has one network
/// output; no side outputs; every operator is one-to-one except at most one selecting
/// operator (filter). Then a record's subtree is a constant sum of costs (two constants:
/// dropped by the filter or not), and only the times the last operator needs — its records'
/// start times (sink) or write times (network) — are computed, in one pass over the head's
/// records. Sums of the same costs as [`subtree_costs`] and [`start_times`], so the times
/// are identical. Returns `None` (nothing written) when the scope is not linear.
#[inline(never)]
fn linear_times(
    ops: &mut [OpSlot],
    scope: &[usize],
    input: Option<View<'_>>,
    emitted: Option<usize>,
    t0: u64,
    in_cost: u64,
    ser: &[u64],
) -> Option<u64> {
    let root = scope[0];
    let n = input_len(ops, root, input, emitted);
    let mut select = None;
    // Time from a record's start at the head to its start at operator `k` of the scope.
    let mut before_last = 0u64;
    let mut before_select = 0u64;
    let last = *scope.last()?;
    for (k, &j) in scope.iter().enumerate() {
        let s = &ops[j];
        if !(s.side_outs.is_empty() || s.side.is_empty()) {
            return None;
        }
        let n_in = input_len(ops, j, input, emitted);
        let one_to_one =
            prefilled(ops, j, emitted) || (s.shape == Shape::OneToOne && s.out.len() == n_in);
        if j == last {
            match (s.shape, &s.outs[..]) {
                (Shape::Consume, _) => {}
                (Shape::OneToOne | Shape::Select, [Out::Network(_)]) if s.network_outs == 1 => {}
                _ => return None,
            }
        } else if s.outs[..] != [Out::Chained(scope[k + 1] as u16)] {
            return None;
        }
        if !one_to_one && s.shape != Shape::Consume {
            if s.shape != Shape::Select || select.is_some() {
                return None;
            }
            select = Some(j);
            before_select = before_last;
        }
        if j != last {
            before_last += s.cost_ns;
        }
    }
    let ls = &ops[last];
    // Head start → the last operator's time of interest (its start, or its write).
    let (to_out, total) = match ls.outs[..] {
        [Out::Network(w)] => {
            let d = before_last + ls.cost_ns + ser[w as usize];
            (d, d)
        }
        _ => (before_last, before_last + ls.cost_ns),
    };
    let network = ls.shape != Shape::Consume;
    let mut out = if network {
        std::mem::take(&mut ops[last].write_ns)
    } else {
        std::mem::take(&mut ops[last].start_ns)
    };
    out.clear();
    let mut t = t0;
    match select {
        None => {
            out.extend((0..n).map(|_| {
                t += in_cost;
                let start = t;
                t += total;
                start + to_out
            }));
        }
        Some(s) => {
            // A record the filter drops costs the operators up to and including it.
            let dropped = before_select + ops[s].cost_ns;
            let parents = ops[s].out.parent.as_slice();
            let mut next = 0;
            for p in parents {
                let p = *p as usize;
                // Records `next..p` are dropped.
                let gap = (p - next) as u64;
                t += gap * (in_cost + dropped);
                t += in_cost;
                out.push(t + to_out);
                t += total;
                next = p + 1;
            }
            t += (n - next) as u64 * (in_cost + dropped);
        }
    }
    let ls = &mut ops[last];
    if network {
        ls.write_ns = out;
    } else {
        ls.start_ns = out;
    }
    ls.side_write_ns.clear();
    Some(t)
}

/// Phase 2: for every operator and input record, the CPU time the record causes there and
/// downstream — computed bottom-up.
#[inline(never)]
fn subtree_costs(
    ops: &mut [OpSlot],
    scope: &[usize],
    input: Option<View<'_>>,
    emitted: Option<usize>,
    ser: &[u64],
) {
    for &j in scope.iter().rev() {
        let n_in = input_len(ops, j, input, emitted);
        let identity = prefilled(ops, j, emitted);
        let (head, tail) = ops.split_at_mut(j + 1);
        let slot = &mut head[j];
        let base = j + 1;
        let c = slot.cost_ns;
        // (A one-to-one operator that failed mid-slice has fewer outputs than inputs.)
        let one_to_one = identity || (slot.shape == Shape::OneToOne && slot.out.len() == n_in);
        let st = &mut slot.subtree_ns;
        st.clear();
        let no_side = slot.side_outs.is_empty() || slot.side.is_empty();
        match (slot.shape, &slot.outs[..], no_side) {
            (Shape::Consume, _, _) | (_, [], true) => st.resize(n_in, c),
            (_, [Out::Chained(k)], true) if one_to_one => {
                st.extend(tail[*k as usize - base].subtree_ns.iter().map(|x| x + c))
            }
            (_, [Out::Network(w)], true) if one_to_one => st.resize(n_in, c + ser[*w as usize]),
            (Shape::Select, [Out::Chained(k)], true) => {
                st.resize(n_in, c);
                for (p, x) in slot
                    .out
                    .parent
                    .iter()
                    .zip(&tail[*k as usize - base].subtree_ns)
                {
                    st[*p as usize] += x;
                }
            }
            (Shape::Select | Shape::Fan, [Out::Network(w)], true) => {
                // Each output costs its serialization on top of the operator's own cost.
                st.resize(n_in, c);
                let sc = ser[*w as usize];
                // (A slice, not the vector: its pointer and length stay in registers.)
                let st = st.as_mut_slice();
                for p in &slot.out.parent {
                    st[*p as usize] += sc;
                }
            }
            _ => {
                st.resize(n_in, c);
                for i in 0..slot.out.len() {
                    let mut add = 0;
                    for o in &slot.outs {
                        add += match *o {
                            Out::Chained(k) => tail[k as usize - base].subtree_ns[i],
                            Out::Network(w) => ser[w as usize],
                        };
                    }
                    let x = if one_to_one {
                        i
                    } else {
                        slot.out.parent[i] as usize
                    };
                    st[x] += add;
                }
                for i in 0..slot.side.len() {
                    let mut add = 0;
                    for o in &slot.side_outs {
                        add += match *o {
                            Out::Chained(k) => tail[k as usize - base].subtree_ns[i],
                            Out::Network(w) => ser[w as usize],
                        };
                    }
                    st[slot.side.parent[i] as usize] += add;
                }
            }
        }
    }
}

/// Phase 3: start times, top-down in depth-first order. Returns the end of the slice.
#[inline(never)]
fn start_times(
    ops: &mut [OpSlot],
    scope: &[usize],
    input: Option<View<'_>>,
    emitted: Option<usize>,
    t0: u64,
    in_cost: u64,
    ser: &[u64],
) -> u64 {
    let root = scope[0];
    let root_len = input_len(ops, root, input, emitted);
    let mut t = t0;
    {
        let h = &mut ops[root];
        h.start_ns.clear();
        h.start_ns.extend(h.subtree_ns[..root_len].iter().map(|s| {
            t += in_cost;
            let start = t;
            t += s;
            start
        }));
    }
    for &j in scope {
        let n_in = input_len(ops, j, input, emitted);
        let identity = prefilled(ops, j, emitted);
        let (head, tail) = ops.split_at_mut(j + 1);
        let slot = &mut head[j];
        let base = j + 1;
        let c = slot.cost_ns;
        let one_to_one = identity || (slot.shape == Shape::OneToOne && slot.out.len() == n_in);
        slot.write_ns.clear();
        slot.side_write_ns.clear();
        let no_side = slot.side_outs.is_empty() || slot.side.is_empty();
        match (slot.shape, &slot.outs[..], no_side) {
            (Shape::Consume, _, _) | (_, [], true) => {}
            (_, [Out::Chained(k)], true) if one_to_one => {
                let child = &mut tail[*k as usize - base];
                child.start_ns.clear();
                child.start_ns.extend(slot.start_ns.iter().map(|s| s + c));
            }
            (_, [Out::Network(w)], true) if one_to_one => {
                let d = c + ser[*w as usize];
                slot.write_ns.extend(slot.start_ns.iter().map(|s| s + d));
            }
            (Shape::Select, [Out::Chained(k)], true) => {
                let child = &mut tail[*k as usize - base];
                child.start_ns.clear();
                child.start_ns.extend(
                    slot.out
                        .parent
                        .iter()
                        .map(|p| slot.start_ns[*p as usize] + c),
                );
            }
            (Shape::Select, [Out::Network(w)], true) => {
                let d = c + ser[*w as usize];
                let starts = slot.start_ns.as_slice();
                slot.write_ns
                    .extend(slot.out.parent.iter().map(|p| starts[*p as usize] + d));
            }
            (Shape::Fan, [Out::Network(w)], true) if slot.out.parent.is_sorted() => {
                // The outputs of one input leave one after the other once the operator has
                // done its work: the k-th is written after k + 1 serializations.
                let sc = ser[*w as usize];
                let starts = slot.start_ns.as_slice();
                let (mut prev, mut running) = (u32::MAX, 0);
                slot.write_ns.extend(slot.out.parent.iter().map(|&p| {
                    if p != prev {
                        prev = p;
                        running = starts[p as usize] + c;
                    }
                    running += sc;
                    running
                }));
            }
            _ => general_start_times(slot, tail, base, one_to_one, ser),
        }
    }
    t
}

/// Start times for operators with fan-out, side outputs or several outputs: each input
/// record's outputs (main, then side) are laid out one after the other, each followed by all
/// the work it causes downstream.
fn general_start_times(
    slot: &mut OpSlot,
    tail: &mut [OpSlot],
    base: usize,
    one_to_one: bool,
    ser: &[u64],
) {
    for (outs, len) in [
        (&slot.outs, slot.out.len()),
        (&slot.side_outs, slot.side.len()),
    ] {
        for o in outs {
            if let Out::Chained(k) = *o {
                let c = &mut tail[k as usize - base];
                c.start_ns.clear();
                c.start_ns.resize(len, 0);
            }
        }
    }
    slot.running_ns.clear();
    slot.running_ns
        .extend(slot.start_ns.iter().map(|s| s + slot.cost_ns));
    let nets = slot.network_outs;
    slot.write_ns.resize(slot.out.len() * nets, 0);
    for i in 0..slot.out.len() {
        let x = if one_to_one {
            i
        } else {
            slot.out.parent[i] as usize
        };
        let mut running = slot.running_ns[x];
        let mut q = 0;
        for o in &slot.outs {
            match *o {
                Out::Chained(k) => {
                    let c = &mut tail[k as usize - base];
                    c.start_ns[i] = running;
                    running += c.subtree_ns[i];
                }
                Out::Network(w) => {
                    running += ser[w as usize];
                    slot.write_ns[i * nets + q] = running;
                    q += 1;
                }
            }
        }
        slot.running_ns[x] = running;
    }
    let nets = slot.side_network_outs;
    slot.side_write_ns.resize(slot.side.len() * nets, 0);
    for i in 0..slot.side.len() {
        let x = slot.side.parent[i] as usize;
        let mut running = slot.running_ns[x];
        let mut q = 0;
        for o in &slot.side_outs {
            match *o {
                Out::Chained(k) => {
                    let c = &mut tail[k as usize - base];
                    c.start_ns[i] = running;
                    running += c.subtree_ns[i];
                }
                Out::Network(w) => {
                    running += ser[w as usize];
                    slot.side_write_ns[i * nets + q] = running;
                    q += 1;
                }
            }
        }
        slot.running_ns[x] = running;
    }
}

#[cfg(test)]
mod tests {
    //! [`Chain::run`]'s times must equal those of a literal record-at-a-time, depth-first
    //! executor — Flink's chaining — on arbitrary chains and on linear ones (the one-pass
    //! fast path); two tiny chains pin absolute times.
    use super::super::batch::Batch;
    use super::super::{
        filter::FilterOp, flat_map::FlatMapOp, map::MapOp, sink::SinkMode, sink::SinkOp,
    };
    use super::*;
    use crate::core::cost::CostModel;
    use crate::core::rng::SeedTree;
    use crate::core::time::SimDuration;
    use crate::core::time::SimTime;
    use crate::core::value::{Interner, Schema, Type, Value};
    use crate::expr::{Scope, SelectItem, compile, compile_select};
    use crate::scenario::Partitioner;
    use crate::sim::buffer::BufferPool;
    use crate::sim::buffer::RecMeta;
    use crate::sim::channel::{Channel, Ends};
    use crate::sim::net::{Flusher, Net, NetStats, RecordWriter};
    use crate::sim::queue::EventQueue;
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;

    /// One operator of a random chain: (kind, cost, parent).
    #[derive(Debug, Clone)]
    enum Kind {
        Map,
        Filter(i64),
        Split,
        Sink,
    }

    fn schema() -> Schema {
        Schema::new([("line", Type::String), ("n", Type::Int)])
    }

    fn operator(k: &Kind, i: &mut Interner) -> Operator {
        let s = schema();
        let sc = Scope::Record(&s);
        match k {
            Kind::Map => Operator::Map(MapOp::new(vec![
                compile("line", &sc, i).unwrap(),
                compile("n + 1", &sc, i).unwrap(),
            ])),
            Kind::Filter(m) => Operator::Filter(FilterOp::new(
                compile(&format!("n % 3 <> {m}"), &sc, i).unwrap(),
            )),
            Kind::Split => {
                let SelectItem::Split { input, delimiter } =
                    compile_select("split(line)", &sc, i).unwrap()
                else {
                    unreachable!()
                };
                Operator::FlatMap(FlatMapOp {
                    scalars: vec![(1, compile("n", &sc, i).unwrap())],
                    split: Some((0, input, delimiter)),
                    out: vec![Value::Int(0); 2],
                    pieces: vec![],
                    max_out: usize::MAX,
                })
            }
            Kind::Sink => Operator::Sink(SinkOp::new(SinkMode::Discard, 2)),
        }
    }

    /// Depth-first reference: returns the time after record `row` went through op `j`.
    #[allow(clippy::too_many_arguments)]
    fn dfs(
        j: usize,
        row: &[Value],
        t: u64,
        kinds: &[Kind],
        outs: &[Vec<Out>],
        costs: &[u64],
        ser: &[u64],
        i: &mut Interner,
        writes: &mut Vec<Vec<u64>>,
        sinks: &mut Vec<Vec<u64>>,
    ) -> u64 {
        let mut t = t + costs[j];
        let n = row[1].as_int();
        let produced: Vec<Vec<Value>> = match &kinds[j] {
            Kind::Map => vec![vec![row[0], Value::Int(n + 1)]],
            Kind::Filter(m) => {
                if n % 3 != *m {
                    vec![row.to_vec()]
                } else {
                    vec![]
                }
            }
            Kind::Split => {
                let text = i
                    .resolve(match row[0] {
                        Value::Str(s) => s,
                        _ => unreachable!(),
                    })
                    .to_string();
                let mut v = Vec::new();
                crate::expr::split_pieces(&text, None, |p| v.push(p.to_string()));
                v.into_iter()
                    .map(|p| vec![Value::Str(i.intern(&p)), Value::Int(n)])
                    .collect()
            }
            Kind::Sink => {
                sinks[j].push(t);
                vec![]
            }
        };
        for y in produced {
            for o in &outs[j] {
                match *o {
                    Out::Chained(k) => {
                        t = dfs(k as usize, &y, t, kinds, outs, costs, ser, i, writes, sinks)
                    }
                    Out::Network(w) => {
                        t += ser[w as usize];
                        writes[j].push(t);
                    }
                }
            }
        }
        t
    }

    /// A [`Net`] for the chain under test: writer `w` feeds channel `w`, buffers large enough
    /// that nothing is sent, no flusher — the test reads the times the chain computed.
    struct NetRig {
        writers: Vec<RecordWriter>,
        channels: Vec<Channel>,
        pool: BufferPool,
        queue: EventQueue,
        cost: CostModel,
        flusher: Flusher,
        stats: NetStats,
    }

    impl NetRig {
        fn new(writers: usize) -> Self {
            NetRig {
                writers: (0..writers)
                    .map(|w| RecordWriter {
                        partitioner: Partitioner::Forward,
                        channels: vec![w as u32],
                        key: None,
                        key_field: None,
                        key_group_target: vec![],
                        max_parallelism: 128,
                        downstream_parallelism: 1,
                        next: 0,
                        rng: SeedTree::new(0).stream("chain-test"),
                        pool_size: 10,
                        in_use: 0,
                        arity: 2,
                        fixed_bytes: None,
                        records: 0,
                    })
                    .collect(),
                channels: (0..writers)
                    .map(|w| {
                        let ends = Ends {
                            edge: w as u32,
                            from_task: 0,
                            writer: w as u32,
                            to_task: 1,
                            input: 0,
                        };
                        Channel::new(ends, false, SimDuration::from_micros(10), 2)
                    })
                    .collect(),
                pool: BufferPool::default(),
                queue: EventQueue::new(),
                cost: CostModel::default(),
                flusher: Flusher::new(None),
                stats: NetStats::default(),
            }
        }
    }

    /// Runs `lines` through the chain with [`Chain::run`] — the entry point the simulator
    /// uses, fast paths included — and returns the local time the slice ends.
    fn run_chain(
        chain: &mut Chain,
        input: &Batch,
        interner: &mut Interner,
        t0: u64,
        deser: u64,
    ) -> u64 {
        let mut rig = NetRig::new(chain.ser_ns.len());
        let (mut scratch, mut error) = (String::new(), None);
        let mut cx = Cx {
            ev: EvalCx {
                interner,
                scratch: &mut scratch,
                error: &mut error,
            },
            net: Net {
                writers: &mut rig.writers,
                channels: &mut rig.channels,
                pool: &mut rig.pool,
                queue: &mut rig.queue,
                cost: &rig.cost,
                flusher: &mut rig.flusher,
                stats: &mut rig.stats,
                task: 0,
                blocked: false,
            },
        };
        let end = chain.run(Some(input.view()), t0, deser, &mut cx);
        assert!(
            !cx.net.blocked,
            "the test network never runs out of buffers"
        );
        end
    }

    /// Builds the chain `kinds` wired by `parent`/`outs`, runs `lines` through it with
    /// [`Chain::run`] and through the depth-first reference, and compares every time.
    #[allow(clippy::too_many_arguments)]
    fn check_against_reference(
        kinds: &[Kind],
        parent: &[Option<(usize, Port)>],
        outs: &[Vec<Out>],
        costs: &[u64],
        ser: &[u64],
        lines: &[(String, i64)],
    ) -> Result<(), TestCaseError> {
        let n = kinds.len();
        let mut interner = Interner::new();
        let ops: Vec<OpSlot> = (0..n)
            .map(|j| {
                OpSlot::new(
                    operator(&kinds[j], &mut interner),
                    outs[j].clone(),
                    parent[j],
                    costs[j],
                    j,
                    2,
                )
            })
            .collect();
        let mut chain = Chain::new(ops, ser.to_vec());
        let mut input = Batch::new(2);
        for (k, (l, v)) in lines.iter().enumerate() {
            input.push(
                &[Value::Str(interner.intern(l)), Value::Int(*v)],
                RecMeta::untimed(SimTime(0)),
                k as u32,
            );
        }
        let (t0, deser) = (1_000, 13);
        let end = run_chain(&mut chain, &input, &mut interner, t0, deser);
        // reference
        let mut writes = vec![Vec::new(); n];
        let mut sinks = vec![Vec::new(); n];
        let mut t = t0;
        for k in 0..input.len() {
            t += deser;
            t = dfs(
                0,
                input.view().row(k),
                t,
                kinds,
                outs,
                costs,
                ser,
                &mut interner,
                &mut writes,
                &mut sinks,
            );
        }
        prop_assert_eq!(end, t, "end of the slice");
        for j in 0..n {
            let nets = chain.ops[j].network_outs;
            if nets > 0 {
                // reference writes of op j are in depth-first order: per output record, per network out
                prop_assert_eq!(
                    &chain.ops[j].write_ns[..],
                    &writes[j][..],
                    "network writes of op {}",
                    j
                );
                prop_assert_eq!(chain.ops[j].write_ns.len(), chain.ops[j].out.len() * nets);
            }
            if matches!(kinds[j], Kind::Sink) {
                let got: Vec<u64> = chain.ops[j].start_ns.iter().map(|s| s + costs[j]).collect();
                prop_assert_eq!(got, sinks[j].clone(), "sink {} arrivals", j);
            }
        }
        Ok(())
    }

    /// A random tree-shaped chain: op 0 is the head; op j > 0 hangs under a random earlier
    /// non-sink op; every non-sink op may also have network outputs.
    fn chain_strategy() -> impl Strategy<Value = (Vec<Kind>, Vec<usize>, Vec<u64>, Vec<u8>)> {
        (2usize..7).prop_flat_map(|n| {
            let kinds = proptest::collection::vec(
                prop_oneof![
                    Just(Kind::Map),
                    (0i64..3).prop_map(Kind::Filter),
                    Just(Kind::Split),
                    Just(Kind::Sink)
                ],
                n,
            );
            let parents = proptest::collection::vec(0usize..100, n);
            let costs = proptest::collection::vec(0u64..500, n);
            let nets = proptest::collection::vec(0u8..3, n);
            (kinds, parents, costs, nets)
        })
    }

    /// A random *linear* chain — the shape the one-pass timing (`linear_times`) serves:
    /// maps and filters one after the other, ending in a sink or in one network output.
    fn linear_strategy() -> impl Strategy<Value = (Vec<Kind>, Vec<u64>, bool, u64)> {
        (1usize..6).prop_flat_map(|n| {
            let kinds = proptest::collection::vec(
                prop_oneof![3 => Just(Kind::Map), 1 => (0i64..3).prop_map(Kind::Filter)],
                n,
            );
            let costs = proptest::collection::vec(0u64..500, n + 1);
            (kinds, costs, any::<bool>(), 1u64..200)
        })
    }

    fn lines_strategy() -> impl Strategy<Value = Vec<(String, i64)>> {
        proptest::collection::vec(("[a-c ]{0,12}", 0i64..50), 1..20)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn chain_run_times_equal_depth_first_times((mut kinds, parents, costs, nets) in chain_strategy(), lines in lines_strategy()) {
            if matches!(kinds[0], Kind::Sink) { kinds[0] = Kind::Map; }
            // Wire op j under a random earlier op that is not a sink.
            let n = kinds.len();
            let mut parent: Vec<Option<(usize, Port)>> = vec![None; n];
            let mut outs: Vec<Vec<Out>> = vec![Vec::new(); n];
            for j in 1..n {
                let candidates: Vec<usize> = (0..j).filter(|&p| !matches!(kinds[p], Kind::Sink)).collect();
                let p = candidates[parents[j] % candidates.len()];
                parent[j] = Some((p, Port::Main));
                outs[p].push(Out::Chained(j as u16));
            }
            let mut w = 0u16;
            let mut ser = Vec::new();
            for j in 0..n {
                if matches!(kinds[j], Kind::Sink) { continue; }
                for _ in 0..nets[j] {
                    outs[j].push(Out::Network(w));
                    ser.push(37 + u64::from(w) * 11);
                    w += 1;
                }
            }
            check_against_reference(&kinds, &parent, &outs, &costs, &ser, &lines)?;
        }

        #[test]
        fn linear_chain_run_times_equal_depth_first_times((mut kinds, costs, to_sink, ser_ns) in linear_strategy(), lines in lines_strategy()) {
            if to_sink { kinds.push(Kind::Sink); }
            let n = kinds.len();
            let parent: Vec<Option<(usize, Port)>> = (0..n).map(|j| j.checked_sub(1).map(|p| (p, Port::Main))).collect();
            let mut outs: Vec<Vec<Out>> = (0..n).map(|j| if j + 1 < n { vec![Out::Chained((j + 1) as u16)] } else { vec![] }).collect();
            let ser = if to_sink { vec![] } else { outs[n - 1].push(Out::Network(0)); vec![ser_ns] };
            check_against_reference(&kinds, &parent, &outs, &costs[..n], &ser, &lines)?;
        }
    }

    /// Two records through `map (100 ns) → sink (50 ns)` from t0 = 1 000 with 13 ns of
    /// deserialization each: record 1 reaches the sink at 1 013 + 100, the slice ends after
    /// both records' whole paths.
    #[test]
    fn tiny_chain_into_a_sink_has_these_times() {
        let kinds = [Kind::Map, Kind::Sink];
        let mut interner = Interner::new();
        let ops = vec![
            OpSlot::new(
                operator(&kinds[0], &mut interner),
                vec![Out::Chained(1)],
                None,
                100,
                0,
                2,
            ),
            OpSlot::new(
                operator(&kinds[1], &mut interner),
                vec![],
                Some((0, Port::Main)),
                50,
                1,
                2,
            ),
        ];
        let mut chain = Chain::new(ops, vec![]);
        let mut input = Batch::new(2);
        for k in 0..2 {
            input.push(
                &[Value::Str(interner.intern("a")), Value::Int(k)],
                RecMeta::untimed(SimTime(0)),
                k as u32,
            );
        }
        let end = run_chain(&mut chain, &input, &mut interner, 1_000, 13);
        assert_eq!(chain.ops[1].start_ns, vec![1_113, 1_276]);
        assert_eq!(end, 1_326);
    }

    /// `map (100 ns)` writing to the network (serialization 37 ns): a record is written after
    /// its deserialization, the map and its serialization.
    #[test]
    fn tiny_chain_into_the_network_has_these_times() {
        let mut interner = Interner::new();
        let ops = vec![OpSlot::new(
            operator(&Kind::Map, &mut interner),
            vec![Out::Network(0)],
            None,
            100,
            0,
            2,
        )];
        let mut chain = Chain::new(ops, vec![37]);
        let mut input = Batch::new(2);
        for k in 0..2 {
            input.push(
                &[Value::Str(interner.intern("a")), Value::Int(k)],
                RecMeta::untimed(SimTime(0)),
                k as u32,
            );
        }
        let end = run_chain(&mut chain, &input, &mut interner, 1_000, 13);
        assert_eq!(chain.ops[0].write_ns, vec![1_150, 1_300]);
        assert_eq!(end, 1_300);
    }
}
