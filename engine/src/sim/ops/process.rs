//! The keyed process operator: runs a [`KeyedProcessFunction`] per element and per timer,
//! with the key's state and timers (Flink's `KeyedProcessOperator`).

use super::batch::{Batch, View};
use crate::expr::Expr;
use crate::expr::eval::EvalCx;
use crate::process::{Collector, Context, KeyedProcessFunction, StateStore, TimeDomain, Timers};
use crate::sim::buffer::RecMeta;
use crate::time::{EVENT_TIME_MIN, EventTime, SimTime};
use crate::value::OrdValue;

/// A keyed process operator subtask.
#[derive(Debug)]
pub struct ProcessOp {
    key: Expr,
    func: Box<dyn KeyedProcessFunction>,
    store: StateStore,
    timers: Timers,
    /// Per key, the birth of its latest element: what a timer's output is "created" from
    /// for latency (as a window result counts from its latest element).
    last_born: rustc_hash::FxHashMap<crate::value::Value, SimTime>,
    discard: Batch,
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
            discard: self.discard.clone(),
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
            discard: Batch::new(0),
            watermark: EVENT_TIME_MIN,
            now_ms: 0,
            emitted: 0,
            timers_fired: 0,
        }
    }

    /// The earliest processing-time timer (ms).
    pub fn next_processing_timer(&self) -> Option<EventTime> {
        self.timers.processing.next()
    }

    /// Rescaling: keeps the state, timers and latest births of the keys that pass `keep`.
    pub fn retain_keys(&mut self, keep: &dyn Fn(crate::value::Value) -> bool) {
        self.store.retain_keys(keep);
        self.timers.event.retain(|k| keep(k.0));
        self.timers.processing.retain(|k| keep(k.0));
        self.last_born.retain(|k, _| keep(*k));
    }

    /// Rescaling: adds the keyed state and timers of `other`.
    pub fn absorb(&mut self, other: ProcessOp) {
        self.store.absorb(other.store);
        self.timers.event.absorb(other.timers.event);
        self.timers.processing.absorb(other.timers.processing);
        self.last_born.extend(other.last_born);
    }

    /// Rescaling: keys holding state.
    pub fn keys_in_state(&self) -> usize {
        self.store.keys()
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
                timestamp: (meta.ts != EVENT_TIME_MIN).then_some(meta.ts),
                watermark: self.watermark,
                now: self.now_ms,
                state: &mut self.store,
                timers: &mut self.timers,
                interner: ev.interner,
            };
            let mut col = Collector {
                out,
                side,
                meta,
                parent: i as u32,
                emitted: 0,
            };
            self.func.process_element(row, &mut ctx, &mut col);
            self.emitted += col.emitted;
        }
    }

    /// Event time advanced: fires the due event-time timers into `out`.
    pub fn advance_watermark(&mut self, wm: EventTime, out: &mut Batch, ev: &mut EvalCx<'_>) {
        if wm <= self.watermark {
            return;
        }
        self.watermark = wm;
        while let Some((ts, OrdValue(key))) = self.timers.event.pop_due(wm) {
            self.fire(ts, key, TimeDomain::EventTime, out, ev);
        }
    }

    /// Processing time advanced: fires the due processing-time timers into `out`.
    pub fn advance_processing_time(
        &mut self,
        now_ms: EventTime,
        out: &mut Batch,
        ev: &mut EvalCx<'_>,
    ) {
        self.now_ms = self.now_ms.max(now_ms);
        while let Some((ts, OrdValue(key))) = self.timers.processing.pop_due(self.now_ms) {
            self.fire(ts, key, TimeDomain::ProcessingTime, out, ev);
        }
    }

    fn fire(
        &mut self,
        ts: EventTime,
        key: crate::value::Value,
        domain: TimeDomain,
        out: &mut Batch,
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
        // Side outputs from timers are not routed (yet): they go to a discarded batch.
        self.discard.clear();
        let meta = RecMeta {
            ts,
            born: self.last_born.get(&key).copied().unwrap_or(SimTime::ZERO),
        };
        let mut col = Collector {
            out,
            side: &mut self.discard,
            meta,
            parent: u32::MAX,
            emitted: 0,
        };
        self.func.on_timer(ts, domain, &mut ctx, &mut col);
        self.emitted += col.emitted;
    }
}
