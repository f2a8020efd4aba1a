//! Operators and the chain that runs them.
//!
//! A chain is a list of [`OpSlot`]s in topological order; each slot knows which operator
//! feeds it and where its output goes — to chained operators (a direct hand-over, no
//! serialization) or to network writers ([`output::NetworkOutput`], implemented by the
//! kernel). [`chain::Chain::run`] executes a slice of input through the whole chain operator
//! by operator over batches (tight loops, enum dispatch once per batch), then reconstructs the
//! exact per-record processing times that Flink's record-at-a-time, depth-first chaining
//! would give.
//!
//! One operator per file; each implements [`state::OperatorState`] (keys, checkpointed and
//! in-memory bytes, snapshot, key-group redistribution, memory share, window counters), and
//! the kernel reaches it only through [`Operator`], which dispatches here.
//!
//! ## Adding an operator
//!
//! 1. Its file in `ops/`: the operator struct, its `process` over a [`batch::View`] into a
//!    [`batch::Batch`], and `impl OperatorState` (the defaults fit a stateless operator).
//! 2. Here: a variant of [`Operator`] and its arm in the dispatch `match`es below — `process`,
//!    [`Operator::shape`], the `with_op!` macro (every [`state::OperatorState`] call), and
//!    `snapshot_state`/`absorb`; the timer and failure methods if it has timers or can fail.
//! 3. Its checker (the second-stage validation of its scenario-file kind) and the compiled
//!    config the kernel's builder turns into the [`Operator`] (`sim/build.rs` today).
//! 4. Its documentation page and a scenario showing it.
//!
//! The kernel (checkpoints, rescale, memory limit, reporting) needs no change.

pub mod batch;
pub mod chain;
pub mod co_map;
pub mod combine;
pub mod element;
pub mod filter;
pub mod flat_map;
pub mod join;
pub mod map;
pub mod output;
pub mod pattern;
pub mod process;
pub mod reduce;
pub mod sink;
pub mod sink_lineage;
pub mod sink_metrics;
pub mod sink_txn;
pub mod state;
pub mod timers;
pub mod window;
pub mod window_acc;
pub mod window_capture;
mod window_table;
mod window_trigger;

use crate::core::time::{SimDuration, SimTime};
use crate::core::value::Value;
use crate::expr::eval::EvalCx;
pub use crate::plan::logical::Port;
use crate::report::WindowReport;
use batch::{Batch, View};
pub use output::{Cx, NetworkOutput};
use state::OperatorState;

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
    /// a CEP pattern on a keyed stream
    Pattern(Box<pattern::PatternOp>),
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
            Operator::Pattern(p) => p.advance_watermark(wm, out, side, ev),
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
                | Operator::Pattern(_)
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

    /// Sets the local time a capturing window operator notes what it does at
    /// ([`window_capture::WindowCapture::now`]); nothing for other operators.
    #[inline]
    pub fn set_capture_clock(&mut self, t: SimTime) {
        if let Operator::Window(w) = self
            && let Some(c) = w.capture.as_deref_mut()
        {
            c.now = t;
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
            Operator::Pattern(p) => p.process(input, side, ev),
            Operator::Map(m) => m.process(input, out, ev),
            Operator::Filter(f) => f.process(input, out, ev),
            Operator::FlatMap(f) => f.process(input, out, ev),
            Operator::Reduce(r) => r.process(input, out, ev),
        }
    }
}

impl Operator {
    /// The operator's [`chain::Shape`]: how its outputs relate to its inputs.
    pub fn shape(&self) -> chain::Shape {
        match self {
            Operator::Source | Operator::Map(_) | Operator::Reduce(_) | Operator::CoMap(_) => {
                chain::Shape::OneToOne
            }
            Operator::Filter(_) => chain::Shape::Select,
            Operator::FlatMap(_)
            | Operator::Window(_)
            | Operator::WindowJoin(_)
            | Operator::IntervalJoin(_)
            | Operator::Process(_)
            | Operator::Pattern(_) => chain::Shape::Fan,
            Operator::Sink(_) => chain::Shape::Consume,
        }
    }
}

/// Binds `$x` to the operator inside every variant but `Source` (each type implements
/// [`OperatorState`]) and evaluates `$body`; `Source`, which holds nothing, gives `$source`.
/// The one place the state calls are dispatched by kind.
macro_rules! with_op {
    ($op:expr, $x:ident => $body:expr, Source => $source:expr) => {
        match $op {
            Operator::Source => $source,
            Operator::Map($x) => $body,
            Operator::Filter($x) => $body,
            Operator::FlatMap($x) => $body,
            Operator::Reduce($x) => $body,
            Operator::Sink($x) => $body,
            Operator::Window($x) => $body,
            Operator::CoMap($x) => $body,
            Operator::WindowJoin($x) => $body,
            Operator::IntervalJoin($x) => $body,
            Operator::Process($x) => $body,
            Operator::Pattern($x) => $body,
        }
    };
}

/// The state of whichever operator it is (a source's state — its offsets — is the task's,
/// not the operator's: none here).
impl OperatorState for Operator {
    fn is_keyed(&self) -> bool {
        with_op!(self, x => x.is_keyed(), Source => false)
    }

    fn keys(&self) -> u64 {
        with_op!(self, x => x.keys(), Source => 0)
    }

    fn checkpointed_bytes(&self) -> u64 {
        with_op!(self, x => x.checkpointed_bytes(), Source => 0)
    }

    fn heap_bytes(&self) -> u64 {
        with_op!(self, x => x.heap_bytes(), Source => 0)
    }

    fn snapshot_state(&mut self) -> Self {
        match self {
            Operator::Source => Operator::Source,
            Operator::Map(x) => Operator::Map(x.snapshot_state()),
            Operator::Filter(x) => Operator::Filter(x.snapshot_state()),
            Operator::FlatMap(x) => Operator::FlatMap(x.snapshot_state()),
            Operator::Reduce(x) => Operator::Reduce(x.snapshot_state()),
            Operator::Sink(x) => Operator::Sink(x.snapshot_state()),
            Operator::Window(x) => Operator::Window(Box::new(x.snapshot_state())),
            Operator::CoMap(x) => Operator::CoMap(Box::new(x.snapshot_state())),
            Operator::WindowJoin(x) => Operator::WindowJoin(Box::new(x.snapshot_state())),
            Operator::IntervalJoin(x) => Operator::IntervalJoin(Box::new(x.snapshot_state())),
            Operator::Process(x) => Operator::Process(Box::new(x.snapshot_state())),
            Operator::Pattern(x) => Operator::Pattern(Box::new(x.snapshot_state())),
        }
    }

    fn retain_keys(&mut self, keep: &dyn Fn(Value) -> bool) {
        with_op!(self, x => x.retain_keys(keep), Source => {})
    }

    /// Absorbs `other` if it is the same kind of operator; otherwise (never in a rescale,
    /// whose old and new operators come from the same node) nothing.
    fn absorb(&mut self, other: Self) {
        match (self, other) {
            (Operator::Map(n), Operator::Map(x)) => n.absorb(x),
            (Operator::Filter(n), Operator::Filter(x)) => n.absorb(x),
            (Operator::FlatMap(n), Operator::FlatMap(x)) => n.absorb(x),
            (Operator::Reduce(n), Operator::Reduce(x)) => n.absorb(x),
            (Operator::Sink(n), Operator::Sink(x)) => n.absorb(x),
            (Operator::Window(n), Operator::Window(x)) => n.absorb(*x),
            (Operator::CoMap(n), Operator::CoMap(x)) => n.absorb(*x),
            (Operator::WindowJoin(n), Operator::WindowJoin(x)) => n.absorb(*x),
            (Operator::IntervalJoin(n), Operator::IntervalJoin(x)) => n.absorb(*x),
            (Operator::Process(n), Operator::Process(x)) => n.absorb(*x),
            (Operator::Pattern(n), Operator::Pattern(x)) => n.absorb(*x),
            _ => {}
        }
    }

    fn set_memory_share(&mut self, limit_bytes: u64, out_arity: usize) {
        with_op!(self, x => x.set_memory_share(limit_bytes, out_arity), Source => {})
    }

    fn window_report(&self) -> Option<WindowReport> {
        with_op!(self, x => x.window_report(), Source => None)
    }
}

impl Operator {
    /// Adds the operator's window counters ([`OperatorState::window_report`]) to its
    /// node's `report`, started on the first operator that has some; the windows it still
    /// holds count as left open only if `count_open` (not for a subtask whose state moved
    /// to the new subtasks of a rescale).
    pub fn report_windows(&self, report: &mut Option<WindowReport>, count_open: bool) {
        let Some(w) = self.window_report() else {
            return;
        };
        let r = report.get_or_insert_with(Default::default);
        r.fired += w.fired;
        r.late_firings += w.late_firings;
        r.late_dropped += w.late_dropped;
        r.late_side_output += w.late_side_output;
        if count_open {
            r.windows_left_open += w.windows_left_open;
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
    /// CPU time per input record.
    pub cost: SimDuration,
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
    pub subtree: Vec<SimDuration>,
    /// Per input record: when it enters this operator.
    pub start_at: Vec<SimTime>,
    /// Per output record and network output: when it is written.
    pub write_at: Vec<SimTime>,
    /// Per side-output record and network output: when it is written.
    pub side_write_at: Vec<SimTime>,
    /// Per input record: scratch for laying out its outputs.
    pub running: Vec<SimTime>,
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
        cost: SimDuration,
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
            cost,
            records_in: 0,
            records_out: 0,
            node,
            out: Batch::new(out_arity),
            side: Batch::new(0),
            subtree: Vec::new(),
            start_at: Vec::new(),
            write_at: Vec::new(),
            side_write_at: Vec::new(),
            running: Vec::new(),
            side_network_outs: 0,
            watermark: crate::core::time::EventTime::MIN,
        }
    }

    /// The copy a checkpoint keeps: the slot as it is, with its operator's
    /// [`OperatorState::snapshot_state`].
    pub fn snapshot_state(&mut self) -> OpSlot {
        let live = std::mem::replace(&mut self.op, Operator::Source);
        let mut copy = self.clone();
        self.op = live;
        copy.op = self.op.snapshot_state();
        copy
    }

    /// Adds the late-data side output (records of `arity` fields going to `outs`).
    pub fn with_side_output(mut self, outs: Vec<Out>, arity: usize) -> Self {
        self.side_network_outs = outs.iter().filter(|o| matches!(o, Out::Network(_))).count();
        self.side_outs = outs;
        self.side = Batch::new(arity);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::join::{IntervalJoinOp, Pairing};
    use super::reduce::{Aggregate, ReduceOp};
    use super::*;
    use crate::core::value::{Interner, Schema, Type};
    use crate::expr::{Scope, compile};

    fn reduce(i: &mut Interner) -> Operator {
        let s = Schema::new([("k", Type::Int), ("n", Type::Int)]);
        let key = compile("k", &Scope::Record(&s), i).unwrap();
        Operator::Reduce(ReduceOp::new(key, Aggregate::Count, 2))
    }

    fn interval_join(i: &mut Interner, pairs: u64) -> Operator {
        let s = Schema::new([("k", Type::Int)]);
        let left = compile("k", &Scope::Record(&s), i).unwrap();
        let right = compile("k", &Scope::Record(&s), i).unwrap();
        let mut j = IntervalJoinOp::new(Pairing::new(left, right, None, 1, 1), 0, 10);
        j.pairs = pairs;
        j.late_dropped = 1;
        Operator::IntervalJoin(Box::new(j))
    }

    /// A reduce with `keys` keys 0, 1, …
    fn with_keys(mut op: Operator, keys: i64) -> Operator {
        if let Operator::Reduce(r) = &mut op {
            for k in 0..keys {
                r.index.insert(Value::Int(k), k as u32);
                r.slab.extend([Value::Int(k), Value::Int(1)]);
            }
        }
        op
    }

    #[test]
    fn keyed_operators_report_their_keys_and_sizes_through_the_trait() {
        let mut i = Interner::new();
        let r = with_keys(reduce(&mut i), 3);
        assert!(r.is_keyed());
        assert_eq!(r.keys(), 3);
        // 3 rows of 2 fields + the key: (3 · 8 + 16) bytes each
        assert_eq!(r.checkpointed_bytes(), 3 * 40);
        assert!(r.heap_bytes() > 0);
        assert!(!Operator::Source.is_keyed());
        assert_eq!(Operator::Source.checkpointed_bytes(), 0);
        assert!(interval_join(&mut i, 0).is_keyed());
    }

    #[test]
    fn a_rescale_keeps_the_accepted_keys_and_absorbs_same_kind_state_only() {
        let mut i = Interner::new();
        let mut old = with_keys(reduce(&mut i), 4);
        old.retain_keys(&|k| k.as_int() % 2 == 0);
        let mut new = reduce(&mut i);
        new.absorb(old);
        assert_eq!(new.keys(), 2, "keys 0 and 2");
        // a different kind of operator brings nothing
        new.absorb(interval_join(&mut i, 0));
        assert_eq!(new.keys(), 2);
    }

    #[test]
    fn window_counters_add_up_and_open_windows_count_only_when_asked() {
        let mut i = Interner::new();
        let mut report = None;
        reduce(&mut i).report_windows(&mut report, true);
        assert!(report.is_none(), "a reduce fires no windows");
        interval_join(&mut i, 5).report_windows(&mut report, true);
        interval_join(&mut i, 2).report_windows(&mut report, false);
        let r = report.expect("started by the first join");
        assert_eq!((r.fired, r.late_dropped, r.windows_left_open), (7, 2, 0));
    }
}
