//! The keyed process operator: runs a [`KeyedProcessFunction`] per element and per timer,
//! with the key's state and timers (Flink's `KeyedProcessOperator`).

use super::batch::{Batch, View};
use super::element::RecMeta;
use super::state::{OperatorState, checkpoint_entries_bytes};
use crate::core::time::{EVENT_TIME_MIN, EventTime, SimTime};
use crate::core::value::OrdValue;
use crate::expr::Expr;
use crate::expr::eval::EvalCx;
use crate::process::{Collector, Context, KeyedProcessFunction, StateStore, TimeDomain, Timers};

/// A keyed process operator subtask.
#[derive(Debug)]
pub struct ProcessOp {
    key: Expr,
    func: Box<dyn KeyedProcessFunction>,
    store: StateStore,
    timers: Timers,
    /// Per key, the birth of its latest element: what a timer's output is "created" from
    /// for latency (as a window result counts from its latest element).
    last_born: rustc_hash::FxHashMap<crate::core::value::Value, SimTime>,
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

    fn fire(
        &mut self,
        ts: EventTime,
        key: crate::core::value::Value,
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
        let mut col = Collector {
            out,
            side,
            meta,
            parent: u32::MAX,
            emitted: 0,
        };
        self.func.on_timer(ts, domain, &mut ctx, &mut col);
        self.emitted += col.emitted;
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

#[cfg(test)]
mod tests {
    use crate::api::{Source, StreamEnv, WatermarkStrategy};
    use crate::core::value::{Type, Value as V};
    use crate::process::{Collector, Context, KeyedProcessFunction, TimeDomain};
    use crate::row;

    /// Remembers a key's last record; 1 s (event time) after it, sends it to the side output
    /// (`stale`), and emits a count on the main output only for keys seen more than once.
    #[derive(Debug, Clone)]
    struct StaleToSide;

    impl KeyedProcessFunction for StaleToSide {
        fn process_element(&mut self, row: &[V], ctx: &mut Context<'_>, _: &mut Collector<'_>) {
            let n = ctx.value("n").map_or(0, |v| v[0].as_int());
            ctx.set_value("n", &[V::Int(n + 1)]);
            ctx.set_value("last", row);
            ctx.register_event_time_timer(ctx.timestamp().unwrap_or(0) + 1_000);
        }
        fn on_timer(
            &mut self,
            ts: i64,
            _: TimeDomain,
            ctx: &mut Context<'_>,
            out: &mut Collector<'_>,
        ) {
            let Some(last) = ctx.value("last").map(<[V]>::to_vec) else {
                return;
            };
            if last[2].as_int() + 1_000 != ts {
                return; // a newer record came since
            }
            let n = ctx.value("n").map_or(0, |v| v[0].as_int());
            if n > 1 {
                out.collect(&[ctx.key(), V::Int(n)]);
            }
            out.side_output(&last);
        }
        fn fresh(&self) -> Box<dyn KeyedProcessFunction> {
            Box::new(self.clone())
        }
    }

    /// Item 8 of issue 11: rows a process function sends to its side output from `on_timer`
    /// reach the side output's sink — with and without main output from the same firing.
    #[test]
    fn side_output_from_on_timer_is_delivered() {
        let env = StreamEnv::new("stale");
        let main = env
            .source(
                "clicks",
                Source::elements([
                    row! { user = "ann", n = 1, ts = 1_000 },
                    row! { user = "bob", n = 2, ts = 1_500 },
                    row! { user = "ann", n = 3, ts = 1_800 },
                    row! { user = "cid", n = 4, ts = 5_000 },
                ])
                .timestamp("ts")
                .watermarks(WatermarkStrategy::for_monotonous_timestamps().per_event()),
            )
            .key_by("user")
            .process("stale", &[("count", Type::Int)], StaleToSide)
            .with_side_output("stale");
        main.collect("counts");
        main.side_output("stale").collect("stale_records");
        let r = env.execute().unwrap();
        let json =
            |name: &str| serde_json::to_string(r.rows(name).expect("a sink of the job")).unwrap();
        // bob's timer (2.5 s) and ann's (2.8 s) fire at cid's watermark, cid's at the end;
        // only ann had two records, so only her firing has main output too.
        assert_eq!(json("counts"), r#"[["ann",2]]"#);
        assert_eq!(
            json("stale_records"),
            r#"[["bob",2,1500],["ann",3,1800],["cid",4,5000]]"#
        );
    }
}
