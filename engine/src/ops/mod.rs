//! Operators and the chain that runs them.
//!
//! A chain is a list of [`OpSlot`]s in topological order; each slot knows which operator
//! feeds it and where its output goes — to chained operators (a direct hand-over, no
//! serialization) or to network writers. [`chain::run`] executes a slice of input through the
//! whole chain operator by operator over batches (tight loops, enum dispatch once per batch),
//! then reconstructs the exact per-record processing times that Flink's record-at-a-time,
//! depth-first chaining would give.

pub mod batch;
pub mod chain;
pub mod co_map;
pub mod filter;
pub mod flat_map;
pub mod join;
pub mod map;
pub mod process;
pub mod reduce;
pub mod sink;
pub mod sink_txn;
pub mod timers;
pub mod window;
pub mod window_acc;

use crate::core::value::Value;
use crate::expr::eval::EvalCx;
pub use crate::plan::logical::Port;
use crate::sim::net::Net;
use batch::{Batch, View};

/// What an operator in a chain does.
#[derive(Debug, Clone)]
pub enum Operator {
    /// A source's head: passes generated records on.
    Source,
    /// `map`
    Map(map::MapOp),
    /// `filter`
    Filter(filter::FilterOp),
    /// `flat_map`
    FlatMap(flat_map::FlatMapOp),
    /// rolling `reduce`
    Reduce(reduce::ReduceOp),
    /// a sink
    Sink(sink::SinkOp),
    /// keyed (or non-keyed) windows
    Window(Box<window::WindowOp>),
    /// two inputs mapped to one
    CoMap(Box<co_map::CoMapOp>),
    /// window join of two keyed inputs
    WindowJoin(Box<join::WindowJoinOp>),
    /// interval join of two keyed inputs
    IntervalJoin(Box<join::IntervalJoinOp>),
    /// a keyed process function
    Process(Box<process::ProcessOp>),
}

impl Operator {
    /// Event time advanced to `wm`: operators with timers emit into `out` (and `side`) what
    /// became due.
    pub fn advance_watermark(
        &mut self,
        wm: crate::core::time::EventTime,
        out: &mut Batch,
        side: &mut Batch,
        ev: &mut EvalCx<'_>,
    ) {
        match self {
            Operator::Window(w) => w.advance_watermark(wm, out, ev),
            Operator::WindowJoin(j) => j.advance_watermark(wm, out, ev),
            Operator::IntervalJoin(j) => j.advance_watermark(wm),
            Operator::Process(p) => p.advance_watermark(wm, out, side, ev),
            _ => {}
        }
    }

    /// Whether the operator reacts to watermarks (windows, joins, process functions).
    pub fn has_event_time(&self) -> bool {
        matches!(
            self,
            Operator::Window(_)
                | Operator::WindowJoin(_)
                | Operator::IntervalJoin(_)
                | Operator::Process(_)
        )
    }

    /// The earliest processing-time timer (ms).
    pub fn next_processing_timer(&self) -> Option<crate::core::time::EventTime> {
        match self {
            Operator::Window(w) => w.next_processing_timer(),
            Operator::Process(p) => p.next_processing_timer(),
            _ => None,
        }
    }

    /// Fires processing-time timers due at `now_ms` into `out`.
    pub fn advance_processing_time(
        &mut self,
        now_ms: crate::core::time::EventTime,
        out: &mut Batch,
        side: &mut Batch,
        ev: &mut EvalCx<'_>,
    ) {
        match self {
            Operator::Window(w) => w.advance_processing_time(now_ms, out, ev),
            Operator::Process(p) => p.advance_processing_time(now_ms, out, side, ev),
            _ => {}
        }
    }

    /// BATCH runtime, end of input: fires every processing-time timer (the timer service
    /// quiesced, the clock where it is).
    pub fn fire_all_processing_timers(
        &mut self,
        out: &mut Batch,
        side: &mut Batch,
        ev: &mut EvalCx<'_>,
    ) {
        match self {
            Operator::Window(w) => w.fire_all_processing_timers(out, ev),
            Operator::Process(p) => p.fire_all_processing_timers(out, side, ev),
            _ => {}
        }
    }

    /// Tells a processing-time operator what time it is.
    pub fn set_processing_time(&mut self, now_ms: crate::core::time::EventTime) {
        match self {
            Operator::Window(w) => w.now_ms = w.now_ms.max(now_ms),
            Operator::Process(p) => p.now_ms = p.now_ms.max(now_ms),
            _ => {}
        }
    }

    /// Whether the operator has raised a failure that is not yet taken.
    pub fn failed(&self) -> bool {
        match self {
            Operator::Window(w) => w.failure.is_some(),
            Operator::WindowJoin(j) => j.failure.is_some(),
            Operator::IntervalJoin(j) => j.failure.is_some(),
            _ => false,
        }
    }

    /// A failure the operator raised (Flink would throw), taken once.
    pub fn take_failure(&mut self) -> Option<String> {
        match self {
            Operator::Window(w) => w.failure.take(),
            Operator::WindowJoin(j) => j.failure.take(),
            Operator::IntervalJoin(j) => j.failure.take(),
            _ => None,
        }
    }

    /// After `process` set an expression error (Flink would throw): the first record of
    /// `input` whose evaluation fails, for operators that compute a whole batch before they
    /// could notice (map, filter, co_map); the chain then drops what they made of that
    /// record and the ones after it. They are stateless, so evaluating again changes nothing.
    pub fn failing_record(
        &mut self,
        port: usize,
        input: View<'_>,
        ev: &mut EvalCx<'_>,
    ) -> Option<usize> {
        let mut error = None;
        let mut cx = EvalCx {
            interner: &mut *ev.interner,
            scratch: &mut *ev.scratch,
            error: &mut error,
        };
        (0..input.len()).find(|&i| {
            let row = input.row(i);
            match self {
                Operator::Map(m) => m.apply(row, &mut cx),
                Operator::CoMap(c) if port == 0 => c.map1.apply(row, &mut cx),
                Operator::CoMap(c) => c.map2.apply(row, &mut cx),
                Operator::Filter(f) => {
                    f.test(row, &mut cx);
                }
                _ => {}
            }
            cx.error.is_some()
        })
    }

    /// Processes a batch of input records into `out` (and late records into `side`); sinks
    /// consume later, once their records' arrival times are known.
    #[inline]
    pub fn process(
        &mut self,
        port: usize,
        input: View<'_>,
        out: &mut Batch,
        side: &mut Batch,
        ev: &mut EvalCx<'_>,
    ) {
        match self {
            Operator::Source | Operator::Sink(_) => {}
            Operator::Window(w) => w.process(input, out, side, ev),
            Operator::CoMap(c) => c.process(port, input, out, ev),
            Operator::WindowJoin(j) => j.process(port, input, ev),
            Operator::IntervalJoin(j) => j.process(port, input, out, ev),
            Operator::Process(p) => p.process(input, out, side, ev),
            Operator::Map(m) => m.process(input, out, ev),
            Operator::Filter(f) => f.process(input, out, ev),
            Operator::FlatMap(f) => {
                let before = ev.error.is_some();
                for i in 0..input.len() {
                    f.prepare(input.row(i), ev);
                    if !before && ev.error.is_some() {
                        break; // an expression failed: the task stops at this record
                    }
                    match f.split.as_ref().map(|s| s.0) {
                        None => out.push(&f.out, input.meta[i], i as u32),
                        Some(pos) => {
                            if out.len() + f.pieces.len() > f.max_out {
                                // checked before the records are written: a row that
                                // splits into millions of pieces must not allocate them
                                *ev.error = Some(crate::sim::memory::over_limit(
                                    &format!(
                                        "a flat_map row splits into {} pieces, {} records in this batch",
                                        f.pieces.len(),
                                        out.len() + f.pieces.len()
                                    ),
                                    &format!("{} records per batch", f.max_out),
                                ));
                                break;
                            }
                            for k in 0..f.pieces.len() {
                                f.out[pos] = Value::Str(f.pieces[k]);
                                out.push(&f.out, input.meta[i], i as u32);
                            }
                        }
                    }
                }
            }
            Operator::Reduce(r) => r.process(input, out, ev),
        }
    }
}

/// Where an operator's output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Out {
    /// The chained operator at this index of the chain.
    Chained(u16),
    /// A network writer of the task.
    Network(u16),
}

/// An operator in its chain, with its counters and its per-batch scratch.
#[derive(Debug, Clone)]
pub struct OpSlot {
    /// The operator.
    pub op: Operator,
    /// Its outputs, in the order Flink's output collector calls them.
    pub outs: Vec<Out>,
    /// Where its late-data side output goes.
    pub side_outs: Vec<Out>,
    /// The chain index of the operator feeding it, and from which port; `None` for the head.
    pub parent: Option<(usize, Port)>,
    /// CPU time per input record, in nanoseconds.
    pub cost_ns: u64,
    /// Records received.
    pub records_in: u64,
    /// Records emitted.
    pub records_out: u64,
    /// Index of its node in the logical graph.
    pub node: usize,
    /// Its output for the current slice.
    pub out: Batch,
    /// Its side output for the current slice.
    pub side: Batch,
    /// Per input record: CPU time of everything the record causes in this operator and
    /// downstream in the chain.
    pub subtree_ns: Vec<u64>,
    /// Per input record: when it enters this operator.
    pub start_ns: Vec<u64>,
    /// Per output record and network output: when it is written.
    pub write_ns: Vec<u64>,
    /// Per side-output record and network output: when it is written.
    pub side_write_ns: Vec<u64>,
    /// Per input record: scratch for laying out its outputs.
    pub running_ns: Vec<u64>,
    /// How outputs relate to inputs.
    pub shape: chain::Shape,
    /// Number of network outputs.
    pub network_outs: usize,
    /// Number of network side outputs.
    pub side_network_outs: usize,
    /// The last watermark this operator saw.
    pub watermark: crate::core::time::EventTime,
}

impl OpSlot {
    /// A slot with empty scratch.
    pub fn new(
        op: Operator,
        outs: Vec<Out>,
        parent: Option<(usize, Port)>,
        cost_ns: u64,
        node: usize,
        out_arity: usize,
    ) -> Self {
        let shape = op.shape();
        let network_outs = outs.iter().filter(|o| matches!(o, Out::Network(_))).count();
        OpSlot {
            shape,
            network_outs,
            op,
            outs,
            side_outs: Vec::new(),
            parent,
            cost_ns,
            records_in: 0,
            records_out: 0,
            node,
            out: Batch::new(out_arity),
            side: Batch::new(0),
            subtree_ns: Vec::new(),
            start_ns: Vec::new(),
            write_ns: Vec::new(),
            side_write_ns: Vec::new(),
            running_ns: Vec::new(),
            side_network_outs: 0,
            watermark: crate::core::time::EVENT_TIME_MIN,
        }
    }

    /// Adds the late-data side output (records of `arity` fields going to `outs`).
    pub fn with_side_output(mut self, outs: Vec<Out>, arity: usize) -> Self {
        self.side_network_outs = outs.iter().filter(|o| matches!(o, Out::Network(_))).count();
        self.side_outs = outs;
        self.side = Batch::new(arity);
        self
    }
}

/// What records need on their way through a chain.
pub struct Cx<'a> {
    /// Expression evaluation context (interner, scratch, error).
    pub ev: EvalCx<'a>,
    /// The task's network output.
    pub net: Net<'a>,
}
