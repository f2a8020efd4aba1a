//! The keyed process operator: runs a [`KeyedProcessFunction`] per element and per timer,
//! with the key's state and timers (Flink's `KeyedProcessOperator`).

use super::batch::{Batch, View};
use super::element::RecMeta;
use super::state::{OperatorState, checkpoint_entries_bytes};
use super::timers::TimerQueue;
use crate::core::time::{EventTime, SimTime};
use crate::core::value::{OrdValue, Value};
use crate::expr::Expr;
use crate::expr::eval::EvalCx;
use crate::flink::process::{
    Collector, Context, KeyedProcessFunction, Output, StateStore, TimeDomain, TimerService,
};

/// The timers of one operator subtask: `(timestamp, key)`, de-duplicated.
#[derive(Debug, Default, Clone)]
pub struct Timers {
    /// Event-time timers.
    pub event: TimerQueue<OrdValue>,
    /// Processing-time timers.
    pub processing: TimerQueue<OrdValue>,
}

impl Timers {
    fn queue(&mut self, domain: TimeDomain) -> &mut TimerQueue<OrdValue> {
        match domain {
            TimeDomain::EventTime => &mut self.event,
            TimeDomain::ProcessingTime => &mut self.processing,
        }
    }
}

impl TimerService for Timers {
    fn register(&mut self, domain: TimeDomain, ts: EventTime, key: Value) {
        self.queue(domain).register(ts, OrdValue(key));
    }
    fn delete(&mut self, domain: TimeDomain, ts: EventTime, key: Value) {
        self.queue(domain).delete(ts, OrdValue(key));
    }
}

/// A function's output into the operator's batches: every row carries `meta` (the element's
/// timestamp and birth, or the timer's) and the place `parent` in the input (`u32::MAX`: a
/// timer's row is its own place).
struct BatchOutput<'a> {
    out: &'a mut Batch,
    side: &'a mut Batch,
    meta: RecMeta,
    parent: u32,
}

impl BatchOutput<'_> {
    /// Appends `row` to `batch` in the output's place.
    fn push(batch: &mut Batch, row: &[Value], meta: RecMeta, parent: u32) {
        let parent = if parent == u32::MAX {
            batch.len() as u32
        } else {
            parent
        };
        batch.push(row, meta, parent);
    }
}

impl Output for BatchOutput<'_> {
    fn collect(&mut self, row: &[Value]) {
        Self::push(self.out, row, self.meta, self.parent);
    }
    fn side_output(&mut self, row: &[Value]) {
        Self::push(self.side, row, self.meta, self.parent);
    }
}

/// A keyed process operator subtask.
#[derive(Debug)]
pub struct ProcessOp {
    key: Expr,
    func: Box<dyn KeyedProcessFunction>,
    store: StateStore,
    timers: Timers,
    /// Per key, the birth of its latest element: what a timer's output is "created" from
    /// for latency (as a window result counts from its latest element).
    last_born: rustc_hash::FxHashMap<Value, SimTime>,
    /// The operator's watermark.
    pub watermark: EventTime,
    /// Processing time in ms, set by the task before each batch.
    pub now_ms: EventTime,
    /// Records emitted.
    pub emitted: u64,
    /// Timers fired.
    pub timers_fired: u64,
}

/// A copy for a checkpoint: the same state and timers with a fresh instance of the
/// function (a function keeps no state of its own: it lives in the runtime's store).
impl Clone for ProcessOp {
    fn clone(&self) -> Self {
        ProcessOp {
            key: self.key.clone(),
            func: self.func.fresh(),
            store: self.store.clone(),
            timers: self.timers.clone(),
            last_born: self.last_born.clone(),
            watermark: self.watermark,
            now_ms: self.now_ms,
            emitted: self.emitted,
            timers_fired: self.timers_fired,
        }
    }
}

impl ProcessOp {
    /// An operator running `func`, keyed by `key`.
    pub fn new(key: Expr, func: Box<dyn KeyedProcessFunction>) -> Self {
        ProcessOp {
            key,
            func,
            store: StateStore::default(),
            timers: Timers::default(),
            last_born: rustc_hash::FxHashMap::default(),
            watermark: EventTime::MIN,
            now_ms: EventTime::ZERO,
            emitted: 0,
            timers_fired: 0,
        }
    }

    /// The earliest processing-time timer (ms).
    pub fn next_processing_timer(&self) -> Option<EventTime> {
        self.timers.processing.next()
    }

    /// State entries held.
    pub fn state_entries(&self) -> usize {
        self.store.entries()
    }

    /// Processes a batch of elements.
    pub fn process(
        &mut self,
        input: View<'_>,
        out: &mut Batch,
        side: &mut Batch,
        ev: &mut EvalCx<'_>,
    ) {
        for i in 0..input.len() {
            let row = input.row(i);
            let meta = input.meta[i];
            let key = match self.key.as_field() {
                Some(f) => row[f],
                None => self.key.eval(row, &[], ev),
            };
            self.last_born.insert(key, meta.born);
            let mut ctx = Context {
                key,
                timestamp: (meta.ts != EventTime::MIN).then_some(meta.ts),
                watermark: self.watermark,
                now: self.now_ms,
                state: &mut self.store,
                timers: &mut self.timers,
                interner: ev.interner,
            };
            let mut sink = BatchOutput {
                out,
                side,
                meta,
                parent: i as u32,
            };
            let mut col = Collector::new(&mut sink);
            self.func.process_element(row, &mut ctx, &mut col);
            self.emitted += col.emitted();
        }
    }

    /// Event time advanced: fires the due event-time timers into `out` (main output) and
    /// `side` (side output).
    pub fn advance_watermark(
        &mut self,
        wm: EventTime,
        out: &mut Batch,
        side: &mut Batch,
        ev: &mut EvalCx<'_>,
    ) {
        if wm <= self.watermark {
            return;
        }
        self.watermark = wm;
        while let Some((ts, OrdValue(key))) = self.timers.event.pop_due(wm) {
            self.fire(ts, key, TimeDomain::EventTime, out, side, ev);
            if !super::timers::budget::charge(1) {
                super::timers::budget::stop(format!(
                    "a keyed process function fired more than the remaining [limits] max_events of event-time timers at one watermark ({wm}): its on_timer keeps registering timers that are already due"
                ));
                break;
            }
        }
    }

    /// Processing time advanced: fires the due processing-time timers into `out` and `side`.
    pub fn advance_processing_time(
        &mut self,
        now_ms: EventTime,
        out: &mut Batch,
        side: &mut Batch,
        ev: &mut EvalCx<'_>,
    ) {
        self.now_ms = self.now_ms.max(now_ms);
        while let Some((ts, OrdValue(key))) = self.timers.processing.pop_due(self.now_ms) {
            self.fire(ts, key, TimeDomain::ProcessingTime, out, side, ev);
            if !super::timers::budget::charge(1) {
                super::timers::budget::stop(format!(
                    "a keyed process function fired more than the remaining [limits] max_events of processing-time timers at {} ms: its on_timer keeps registering timers that are already due",
                    self.now_ms
                ));
                break;
            }
        }
    }

    /// BATCH runtime, end of input: fires every processing-time timer, in timestamp order,
    /// with the timer service quiesced (Flink's `BatchExecutionInternalTimeService`: a timer
    /// registered from `on_timer` is ignored). The clock does not move.
    pub fn fire_all_processing_timers(
        &mut self,
        out: &mut Batch,
        side: &mut Batch,
        ev: &mut EvalCx<'_>,
    ) {
        self.timers.event.set_quiesced(true);
        self.timers.processing.set_quiesced(true);
        while let Some((ts, OrdValue(key))) = self.timers.processing.pop_due(EventTime::MAX) {
            self.fire(ts, key, TimeDomain::ProcessingTime, out, side, ev);
        }
        self.timers.event.set_quiesced(false);
        self.timers.processing.set_quiesced(false);
    }

    fn fire(
        &mut self,
        ts: EventTime,
        key: Value,
        domain: TimeDomain,
        out: &mut Batch,
        side: &mut Batch,
        ev: &mut EvalCx<'_>,
    ) {
        self.timers_fired += 1;
        let mut ctx = Context {
            key,
            timestamp: Some(ts),
            watermark: self.watermark,
            now: self.now_ms,
            state: &mut self.store,
            timers: &mut self.timers,
            interner: ev.interner,
        };
        let meta = RecMeta {
            ts,
            born: self.last_born.get(&key).copied().unwrap_or(SimTime::ZERO),
        };
        let (out_before, side_before) = (out.len(), side.len());
        let mut sink = BatchOutput {
            out,
            side,
            meta,
            parent: u32::MAX,
        };
        let mut col = Collector::new(&mut sink);
        self.func.on_timer(ts, domain, &mut ctx, &mut col);
        self.emitted += col.emitted();
        // A timer's main rows are their own places; its side rows take the place of the
        // firing's first main row, or of the next firing's (after all main rows at the
        // end): their order stays the firing order.
        for p in &mut side.parent[side_before..] {
            *p = out_before as u32;
        }
    }
}

/// Keyed: the function's state in the runtime's store, its timers, and per key the birth of
/// its latest element.
impl OperatorState for ProcessOp {
    fn is_keyed(&self) -> bool {
        true
    }

    fn keys(&self) -> u64 {
        self.store.keys() as u64
    }

    /// Two fields an entry: key and value.
    fn checkpointed_bytes(&self) -> u64 {
        checkpoint_entries_bytes(self.state_entries(), 2)
    }

    fn heap_bytes(&self) -> u64 {
        (self.state_entries() * (3 * size_of::<crate::core::value::Value>() + 32)) as u64
    }

    /// Keeps the state, timers and latest births of the keys that pass `keep`.
    fn retain_keys(&mut self, keep: &dyn Fn(crate::core::value::Value) -> bool) {
        self.store.retain_keys(keep);
        self.timers.event.retain(|k| keep(k.0));
        self.timers.processing.retain(|k| keep(k.0));
        self.last_born.retain(|k, _| keep(*k));
    }

    fn absorb(&mut self, other: ProcessOp) {
        self.store.absorb(other.store);
        self.timers.event.absorb(other.timers.event);
        self.timers.processing.absorb(other.timers.processing);
        self.last_born.extend(other.last_born);
    }
}
