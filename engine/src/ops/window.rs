//! The keyed window operator — Flink's `WindowOperator` (and `EvictingWindowOperator`).
//!
//! For every element: assign windows (merging sessions first), skip windows that are late
//! (`maxTimestamp + allowedLateness <= watermark`), add the element to each remaining window,
//! ask the trigger, fire and/or purge, register the window's cleanup timer. An element whose
//! windows were all late and that is itself late (`ts + allowedLateness <= watermark`) goes to
//! the late side output, or is counted as dropped. Timers fire when the watermark (event time)
//! or the clock (processing time) passes them: the trigger decides, and at cleanup time the
//! window's state is cleared. Windows with no state emit nothing.
//!
//! The operator keeps an optional log of what it emitted together with the last record it had
//! received and its watermark at that moment — the annotations the Flink golden cases record.

use super::batch::{Batch, View};
use super::timers::TimerQueue;
use super::window_acc::{Acc, WindowAgg, WindowState};
use crate::core::time::{EVENT_TIME_MAX, EVENT_TIME_MIN, EventTime, SimTime};
use crate::core::value::{OrdValue, Value};
use crate::expr::Expr;
use crate::expr::eval::EvalCx;
use crate::flink::window::assign::{Assigner, Window};
use crate::flink::window::merging::MergingWindowSet;
use crate::flink::window::trigger::{
    self, Evictor, Trigger, TriggerKind, TriggerResult, TriggerState,
};
use crate::sim::buffer::RecMeta;
use rustc_hash::FxHashMap;

/// Counters reported per window operator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowStats {
    /// Window results emitted.
    pub fired: u64,
    /// Of those, firings caused by a late element within the allowed lateness.
    pub late_firings: u64,
    /// Late elements dropped (Flink's `numLateRecordsDropped`).
    pub late_dropped: u64,
    /// Late elements sent to the side output.
    pub late_side_output: u64,
}

/// One entry of the emission log.
#[derive(Debug, Clone, PartialEq)]
pub enum Emitted {
    /// A window result.
    Fire {
        /// The window's key.
        key: Value,
        /// The window.
        window: Window,
        /// The result fields.
        result: Vec<Value>,
        /// The operator's watermark then.
        watermark: EventTime,
        /// The last record the operator had received.
        last_input: Option<Vec<Value>>,
    },
    /// A late element sent to the side output.
    Late {
        /// The element.
        row: Vec<Value>,
        /// Its timestamp.
        ts: EventTime,
        /// The operator's watermark then.
        watermark: EventTime,
        /// The last record the operator had received (the element itself).
        last_input: Option<Vec<Value>>,
    },
}

/// How the window operator is configured.
#[derive(Debug, Clone)]
pub struct WindowConfig {
    /// The key of the keyed stream.
    pub key: Expr,
    /// Window assignment.
    pub assigner: Assigner,
    /// Dynamic session gap (milliseconds) per element.
    pub gap: Option<Expr>,
    /// Windows in processing time instead of event time.
    pub processing_time: bool,
    /// The trigger.
    pub trigger: Trigger,
    /// An evictor (the window then keeps every element).
    pub evictor: Option<Evictor>,
    /// Allowed lateness in ms.
    pub allowed_lateness: i64,
    /// The aggregation.
    pub agg: WindowAgg,
    /// Late elements go to a side output.
    pub side_output: bool,
    /// Fields per input element.
    pub input_arity: usize,
    /// Whether results carry `window_start`, `window_end` (not for global windows).
    pub with_bounds: bool,
    /// Whether results carry the key first (not for non-keyed windows).
    pub with_key: bool,
}

type TimerKey = (OrdValue, Window);

/// A keyed window operator subtask.
#[derive(Debug, Clone)]
pub struct WindowOp {
    cfg: WindowConfig,
    state: FxHashMap<(Value, Window), WindowState>,
    triggers: FxHashMap<(Value, Window), TriggerState>,
    merging: FxHashMap<Value, MergingWindowSet>,
    event_timers: TimerQueue<TimerKey>,
    proc_timers: TimerQueue<TimerKey>,
    /// The operator's event-time watermark.
    pub watermark: EventTime,
    /// Processing time in ms, set by the task before each batch.
    pub now_ms: EventTime,
    /// Counters.
    pub stats: WindowStats,
    /// The emission log, when annotations are on.
    pub log: Option<Vec<Emitted>>,
    /// Set when the job must fail (a Flink exception).
    pub failure: Option<String>,
    /// Most windows the state may hold (the memory limit's share, [`crate::sim::memory`]);
    /// beyond it the task fails before the windows are created.
    pub max_windows: usize,
    last_input: Vec<Value>,
    windows: Vec<Window>,
    result: Vec<Value>,
}

impl WindowOp {
    /// A window operator with empty state.
    pub fn new(cfg: WindowConfig, annotate: bool) -> Self {
        WindowOp {
            cfg,
            state: FxHashMap::default(),
            triggers: FxHashMap::default(),
            merging: FxHashMap::default(),
            event_timers: TimerQueue::default(),
            proc_timers: TimerQueue::default(),
            watermark: EVENT_TIME_MIN,
            now_ms: 0,
            stats: WindowStats::default(),
            log: annotate.then(Vec::new),
            failure: None,
            max_windows: usize::MAX,
            last_input: Vec::new(),
            windows: Vec::new(),
            result: Vec::new(),
        }
    }

    /// The earliest pending processing-time timer, in ms.
    pub fn next_processing_timer(&self) -> Option<EventTime> {
        self.proc_timers.next()
    }

    /// Rescaling: keeps the windows, triggers, session sets and timers of the keys that pass
    /// `keep` (state and timers move together, by key group).
    pub fn retain_keys(&mut self, keep: &dyn Fn(Value) -> bool) {
        self.state.retain(|(k, _), _| keep(*k));
        self.triggers.retain(|(k, _), _| keep(*k));
        self.merging.retain(|k, _| keep(*k));
        self.event_timers.retain(|(k, _)| keep(k.0));
        self.proc_timers.retain(|(k, _)| keep(k.0));
    }

    /// Rescaling: adds the keyed state and timers of `other`.
    pub fn absorb(&mut self, other: WindowOp) {
        self.state.extend(other.state);
        self.triggers.extend(other.triggers);
        self.merging.extend(other.merging);
        self.event_timers.absorb(other.event_timers);
        self.proc_timers.absorb(other.proc_timers);
    }

    /// Keys holding state.
    pub fn keys_in_state(&self) -> usize {
        let mut k: Vec<Value> = self.state.keys().map(|(k, _)| *k).collect();
        k.sort_unstable_by_key(|v| OrdValue(*v));
        k.dedup();
        k.len()
    }

    /// Number of windows holding state.
    pub fn windows_in_state(&self) -> usize {
        self.state.len()
    }

    fn is_event_time(&self) -> bool {
        !self.cfg.processing_time
    }

    fn cleanup_time(&self, w: &Window) -> EventTime {
        if self.cfg.processing_time {
            return w.max_timestamp();
        }
        let t = w.max_timestamp().saturating_add(self.cfg.allowed_lateness);
        if t >= w.max_timestamp() {
            t
        } else {
            EVENT_TIME_MAX
        }
    }

    fn is_window_late(&self, w: &Window) -> bool {
        self.is_event_time() && self.cleanup_time(w) <= self.watermark
    }

    fn timers(&mut self, event: bool) -> &mut TimerQueue<TimerKey> {
        if event {
            &mut self.event_timers
        } else {
            &mut self.proc_timers
        }
    }

    fn register_cleanup(&mut self, key: Value, w: Window) {
        let c = self.cleanup_time(&w);
        if c != EVENT_TIME_MAX {
            let ev = self.is_event_time();
            self.timers(ev).register(c, (OrdValue(key), w));
        }
    }

    fn delete_cleanup(&mut self, key: Value, w: Window) {
        let c = self.cleanup_time(&w);
        if c != EVENT_TIME_MAX {
            let ev = self.is_event_time();
            self.timers(ev).delete(c, (OrdValue(key), w));
        }
    }

    /// Processes a batch of elements; results go to `out`, late elements to `side`.
    pub fn process(
        &mut self,
        input: View<'_>,
        out: &mut Batch,
        side: &mut Batch,
        ev: &mut EvalCx<'_>,
    ) {
        if self.failure.is_some() {
            return; // a failed task processes nothing more
        }
        for i in 0..input.len() {
            let row = input.row(i);
            let meta = input.meta[i];
            if self.log.is_some() {
                self.last_input.clear();
                self.last_input.extend_from_slice(row);
            }
            let key = match self.cfg.key.as_field() {
                Some(f) => row[f],
                None => self.cfg.key.eval(row, &[], ev),
            };
            let ts = if self.cfg.processing_time {
                self.now_ms
            } else {
                meta.ts
            };
            if ts == EVENT_TIME_MIN
                && !self.cfg.processing_time
                && self.cfg.assigner != Assigner::Global
            {
                self.failure.get_or_insert_with(|| {
                    "java.lang.RuntimeException: Record has Long.MIN_VALUE timestamp (= no timestamp marker). \
                     Is the time characteristic set to 'ProcessingTime', or did you forget to call \
                     'DataStream.assignTimestampsAndWatermarks(...)'?"
                        .into()
                });
                return;
            }
            let gap = match &self.cfg.gap {
                Some(g) => {
                    let v = g.eval(row, &[], ev).as_int();
                    if v <= 0 {
                        self.failure.get_or_insert_with(|| {
                            format!("java.lang.IllegalArgumentException: Dynamic session time gap must satisfy 0 < gap, found {v}")
                        });
                        return;
                    }
                    v
                }
                None => 0,
            };
            let fan_out = self.cfg.assigner.windows_per_element();
            if (self.state.len() as u64).saturating_add(fan_out) > self.max_windows as u64 {
                // checked before the windows are assigned: a sliding window with a huge
                // size/slide would otherwise allocate them all for one record
                self.failure.get_or_insert_with(|| {
                    crate::sim::memory::over_limit(
                        &format!(
                            "a record would open {fan_out} windows, {} are held already",
                            self.state.len()
                        ),
                        &format!("{} windows per subtask", self.max_windows),
                    )
                });
                return;
            }
            let mut windows = std::mem::take(&mut self.windows);
            self.cfg.assigner.assign(ts, gap, &mut windows);
            let mut skipped = true;
            for &w in &windows {
                let (actual, state_window) = if self.cfg.assigner.is_merging() {
                    let actual = match self.add_merging_window(key, w, ev) {
                        Ok(a) => a,
                        Err(e) => {
                            self.failure.get_or_insert(e);
                            return;
                        }
                    };
                    if self.is_window_late(&actual) {
                        if let Some(m) = self.merging.get_mut(&key) {
                            m.retire(&actual);
                        }
                        continue;
                    }
                    let sw = self
                        .merging
                        .get(&key)
                        .and_then(|m| m.state_window(&actual))
                        .unwrap_or(actual);
                    (actual, sw)
                } else {
                    if self.is_window_late(&w) {
                        continue;
                    }
                    (w, w)
                };
                skipped = false;
                let keep_elements = self.cfg.evictor.is_some();
                match self.state.get_mut(&(key, state_window)) {
                    Some(st) => {
                        self.cfg.agg.add(&mut st.acc, row, ts, ev);
                        st.max_born = st.max_born.max(meta.born);
                    }
                    None => {
                        let acc = self.cfg.agg.first(row, ts, keep_elements);
                        self.state.insert(
                            (key, state_window),
                            WindowState {
                                acc,
                                max_born: meta.born,
                            },
                        );
                    }
                }
                let r = self.trigger_on_element(key, actual, ts);
                if r.fire {
                    let late = self.is_event_time() && actual.max_timestamp() <= self.watermark;
                    if self.emit(key, actual, state_window, out, meta, i as u32, ev) && late {
                        self.stats.late_firings += 1;
                    }
                }
                if r.purge {
                    self.state.remove(&(key, state_window));
                }
                self.register_cleanup(key, actual);
            }
            self.windows = windows;
            if skipped
                && self.is_event_time()
                && ts.saturating_add(self.cfg.allowed_lateness) <= self.watermark
            {
                if self.cfg.side_output {
                    side.push(row, meta, i as u32);
                    self.stats.late_side_output += 1;
                    if let Some(log) = &mut self.log {
                        log.push(Emitted::Late {
                            row: row.to_vec(),
                            ts,
                            watermark: self.watermark,
                            last_input: Some(row.to_vec()),
                        });
                    }
                } else {
                    self.stats.late_dropped += 1;
                }
            }
        }
    }

    /// Advances event time; fires and cleans up the windows whose timers are due. Results go
    /// to `out` (their parent index is their own position: they start the batch).
    pub fn advance_watermark(&mut self, wm: EventTime, out: &mut Batch, ev: &mut EvalCx<'_>) {
        if wm <= self.watermark || self.failure.is_some() {
            return;
        }
        self.watermark = wm;
        while let Some((ts, (OrdValue(key), w))) = self.event_timers.pop_due(wm) {
            self.on_timer(ts, key, w, true, out, ev);
            if wm == EVENT_TIME_MAX
                && w == Window::GLOBAL
                && ts != EVENT_TIME_MAX
                && matches!(self.cfg.trigger.kind, TriggerKind::ContinuousEventTime(_))
                && self.event_timers.contains(
                    trigger::next_continuous_fire(ts, self.interval(), EVENT_TIME_MAX),
                    (OrdValue(key), w),
                )
            {
                // Flink loops here for ever: at Long.MAX_VALUE the trigger registers
                // min(t + interval, Long.MAX_VALUE) again and again, each due at once.
                super::timers::budget::stop(
                    "a global window with a continuous event-time trigger fires without end at the final watermark \
                     (in Flink too: at Long.MAX_VALUE the trigger registers min(t + interval, Long.MAX_VALUE) again and again); \
                     give the window an end (tumbling, sliding, session) or use a count trigger"
                        .into(),
                );
                break;
            }
            if !super::timers::budget::charge(1) {
                super::timers::budget::stop(format!(
                    "a window operator fired more timers at one watermark ({wm}) than [limits] max_events has left"
                ));
                break;
            }
        }
    }

    fn interval(&self) -> i64 {
        match self.cfg.trigger.kind {
            TriggerKind::ContinuousEventTime(i) | TriggerKind::ContinuousProcessingTime(i) => i,
            _ => 0,
        }
    }

    /// Fires the processing-time timers due at `now_ms`.
    pub fn advance_processing_time(
        &mut self,
        now_ms: EventTime,
        out: &mut Batch,
        ev: &mut EvalCx<'_>,
    ) {
        self.now_ms = self.now_ms.max(now_ms);
        if self.failure.is_some() {
            return;
        }
        while let Some((ts, (OrdValue(key), w))) = self.proc_timers.pop_due(self.now_ms) {
            self.on_timer(ts, key, w, false, out, ev);
            if !super::timers::budget::charge(1) {
                super::timers::budget::stop(format!(
                    "a window operator fired more processing-time timers at {} ms than [limits] max_events has left",
                    self.now_ms
                ));
                break;
            }
        }
    }

    fn on_timer(
        &mut self,
        ts: EventTime,
        key: Value,
        w: Window,
        event: bool,
        out: &mut Batch,
        ev: &mut EvalCx<'_>,
    ) {
        let state_window = if self.cfg.assigner.is_merging() {
            match self.merging.get(&key).and_then(|m| m.state_window(&w)) {
                Some(sw) => sw,
                None => return, // the window was merged away or retired
            }
        } else {
            w
        };
        let r = if event {
            self.trigger_on_event_time(key, w, ts)
        } else {
            self.trigger_on_processing_time(key, w, ts)
        };
        if r.fire {
            let meta = RecMeta {
                ts: w.max_timestamp(),
                born: SimTime::ZERO,
            };
            let i = out.len() as u32;
            self.emit(key, w, state_window, out, meta, i, ev);
        }
        if r.purge {
            self.state.remove(&(key, state_window));
        }
        if event == self.is_event_time() && ts == self.cleanup_time(&w) {
            // clearAllState
            self.state.remove(&(key, state_window));
            self.trigger_clear(key, w);
            if let Some(m) = self.merging.get_mut(&key) {
                m.retire(&w);
                if m.mapping.is_empty() {
                    self.merging.remove(&key);
                }
            }
        }
    }

    /// Emits a window's result if it has state; returns whether it did.
    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        key: Value,
        w: Window,
        sw: Window,
        out: &mut Batch,
        meta: RecMeta,
        parent: u32,
        ev: &mut EvalCx<'_>,
    ) -> bool {
        let Some(st) = self.state.get_mut(&(key, sw)) else {
            return false;
        };
        self.result.clear();
        if self.cfg.with_key {
            self.result.push(key);
        }
        if self.cfg.with_bounds {
            self.result.push(Value::Int(w.start));
            self.result.push(Value::Int(w.end));
        }
        let keep = match (&self.cfg.evictor, &mut st.acc) {
            (Some(e), Acc::Elements(vals, tss)) => {
                // evictBefore: evicted elements leave the window for good
                let keep = e.keep(tss);
                let a = self.cfg.input_arity.max(1);
                let mut k = 0;
                vals.retain(|_| {
                    let kept = keep[k / a];
                    k += 1;
                    kept
                });
                let mut k = 0;
                tss.retain(|_| {
                    let kept = keep[k];
                    k += 1;
                    kept
                });
                None
            }
            _ => None,
        };
        self.cfg
            .agg
            .result(&st.acc, self.cfg.input_arity, keep, ev, &mut self.result);
        let born = st.max_born;
        let meta = RecMeta {
            ts: w.max_timestamp(),
            born: born.max(meta.born),
        };
        out.push(&self.result, meta, parent);
        self.stats.fired += 1;
        if let Some(log) = &mut self.log {
            let n = usize::from(self.cfg.with_key) + if self.cfg.with_bounds { 2 } else { 0 };
            log.push(Emitted::Fire {
                key,
                window: w,
                result: self.result[n..].to_vec(),
                watermark: self.watermark,
                last_input: (!self.last_input.is_empty()).then(|| self.last_input.clone()),
            });
        }
        true
    }

    /// `MergingWindowSet.addWindow` with the operator's merge function.
    fn add_merging_window(
        &mut self,
        key: Value,
        w: Window,
        ev: &mut EvalCx<'_>,
    ) -> Result<Window, String> {
        let set = self.merging.entry(key).or_default();
        let (actual, merges) = set.add(w);
        for m in merges {
            if self.is_event_time()
                && m.result
                    .max_timestamp()
                    .saturating_add(self.cfg.allowed_lateness)
                    <= self.watermark
            {
                return Err(format!(
                    "java.lang.UnsupportedOperationException: The end timestamp of an event-time window cannot become \
                     earlier than the current watermark by merging. Current watermark: {} window: TimeWindow{{start={}, end={}}}",
                    self.watermark, m.result.start, m.result.end
                ));
            }
            if self.cfg.processing_time && m.result.max_timestamp() <= self.now_ms {
                return Err(format!(
                    "java.lang.UnsupportedOperationException: The end timestamp of a processing-time window cannot become \
                     earlier than the current processing time by merging. Current processing time: {} window: \
                     TimeWindow{{start={}, end={}}}",
                    self.now_ms, m.result.start, m.result.end
                ));
            }
            self.trigger_on_merge(key, m.result, &m.merged);
            for x in &m.merged {
                self.trigger_clear(key, *x);
                self.delete_cleanup(key, *x);
            }
            // mergeNamespaces: the merged state windows' contents are combined first, in the
            // merge's order, and that into the target (`AbstractHeapMergingState`): for a list
            // (evictors) target ++ s1 ++ s2, for a reduce reduce(target, reduce(s1, s2)).
            let mut merged: Option<WindowState> = None;
            for s in &m.merged_state_windows {
                if let Some(other) = self.state.remove(&(key, *s)) {
                    merged = Some(match merged {
                        None => other,
                        Some(mut a) => {
                            self.cfg.agg.merge(&mut a.acc, other.acc, ev);
                            a.max_born = a.max_born.max(other.max_born);
                            a
                        }
                    });
                }
            }
            if let Some(mg) = merged {
                match self.state.get_mut(&(key, m.state_window)) {
                    Some(t) => {
                        self.cfg.agg.merge(&mut t.acc, mg.acc, ev);
                        t.max_born = t.max_born.max(mg.max_born);
                    }
                    None => {
                        self.state.insert((key, m.state_window), mg);
                    }
                }
            }
        }
        Ok(actual)
    }

    fn trigger_on_element(&mut self, key: Value, w: Window, ts: EventTime) -> TriggerResult {
        let k = (OrdValue(key), w);
        let max = w.max_timestamp();
        let r = match self.cfg.trigger.kind {
            TriggerKind::EventTime => {
                if max <= self.watermark {
                    TriggerResult::FIRE
                } else {
                    self.event_timers.register(max, k);
                    TriggerResult::CONTINUE
                }
            }
            TriggerKind::ProcessingTime => {
                self.proc_timers.register(max, k);
                TriggerResult::CONTINUE
            }
            TriggerKind::Count(n) => {
                let st = self.triggers.entry((key, w)).or_default();
                st.count += 1;
                if st.count >= n {
                    st.count = 0;
                    TriggerResult::FIRE
                } else {
                    TriggerResult::CONTINUE
                }
            }
            TriggerKind::ContinuousEventTime(interval) => {
                if max <= self.watermark {
                    return self.cfg.trigger.wrap(TriggerResult::FIRE);
                }
                self.event_timers.register(max, k);
                let st = self.triggers.entry((key, w)).or_default();
                if st.fire_at.is_none() {
                    let next = trigger::first_continuous_fire(ts, interval, max);
                    st.fire_at = Some(next);
                    self.event_timers.register(next, k);
                }
                TriggerResult::CONTINUE
            }
            TriggerKind::ContinuousProcessingTime(interval) => {
                let now = self.now_ms;
                let st = self.triggers.entry((key, w)).or_default();
                if st.fire_at.is_none() {
                    let next = trigger::first_continuous_fire(now, interval, max);
                    st.fire_at = Some(next);
                    self.proc_timers.register(next, k);
                }
                TriggerResult::CONTINUE
            }
            TriggerKind::Never => TriggerResult::CONTINUE,
        };
        self.cfg.trigger.wrap(r)
    }

    fn trigger_on_event_time(&mut self, key: Value, w: Window, time: EventTime) -> TriggerResult {
        let r = match self.cfg.trigger.kind {
            TriggerKind::EventTime if time == w.max_timestamp() => TriggerResult::FIRE,
            TriggerKind::ContinuousEventTime(interval) => {
                if time == w.max_timestamp() {
                    TriggerResult::FIRE
                } else {
                    let st = self.triggers.entry((key, w)).or_default();
                    if st.fire_at == Some(time) {
                        let next = trigger::next_continuous_fire(time, interval, w.max_timestamp());
                        st.fire_at = Some(next);
                        self.event_timers.register(next, (OrdValue(key), w));
                        TriggerResult::FIRE
                    } else {
                        TriggerResult::CONTINUE
                    }
                }
            }
            _ => TriggerResult::CONTINUE,
        };
        self.cfg.trigger.wrap(r)
    }

    fn trigger_on_processing_time(
        &mut self,
        key: Value,
        w: Window,
        time: EventTime,
    ) -> TriggerResult {
        let r = match self.cfg.trigger.kind {
            TriggerKind::ProcessingTime => TriggerResult::FIRE,
            TriggerKind::ContinuousProcessingTime(interval) => {
                if time == w.max_timestamp() {
                    TriggerResult::FIRE
                } else {
                    let st = self.triggers.entry((key, w)).or_default();
                    if st.fire_at == Some(time) {
                        let next = trigger::next_continuous_fire(time, interval, w.max_timestamp());
                        st.fire_at = Some(next);
                        self.proc_timers.register(next, (OrdValue(key), w));
                        TriggerResult::FIRE
                    } else {
                        TriggerResult::CONTINUE
                    }
                }
            }
            _ => TriggerResult::CONTINUE,
        };
        self.cfg.trigger.wrap(r)
    }

    /// `Trigger.onMerge` for the merged window `result`: `mergePartitionedState` moves the
    /// trigger state of the merged windows to `result` (so the `clear` that follows for each of
    /// them finds none and deletes no fire-time timer, as in Flink), then the trigger registers
    /// what it needs.
    fn trigger_on_merge(&mut self, key: Value, result: Window, merged: &[Window]) {
        let mut st = TriggerState::default();
        for m in merged {
            if let Some(s) = self.triggers.remove(&(key, *m)) {
                st.merge(&s);
            }
        }
        let k = (OrdValue(key), result);
        let max = result.max_timestamp();
        match self.cfg.trigger.kind {
            TriggerKind::EventTime if max > self.watermark => self.event_timers.register(max, k),
            TriggerKind::ProcessingTime if max > self.now_ms => self.proc_timers.register(max, k),
            // ContinuousEventTimeTrigger.onMerge registers the merged fire time only (the
            // window's end comes from onElement right after the merge).
            TriggerKind::ContinuousEventTime(_) => {
                if let Some(f) = st.fire_at {
                    self.event_timers.register(f, k);
                }
            }
            TriggerKind::ContinuousProcessingTime(_) => {
                if let Some(f) = st.fire_at {
                    self.proc_timers.register(f, k);
                }
            }
            _ => {}
        }
        if st != TriggerState::default() {
            self.triggers.entry((key, result)).or_default().merge(&st);
        }
    }

    fn trigger_clear(&mut self, key: Value, w: Window) {
        let k = (OrdValue(key), w);
        let st = self.triggers.remove(&(key, w));
        match self.cfg.trigger.kind {
            TriggerKind::EventTime => self.event_timers.delete(w.max_timestamp(), k),
            TriggerKind::ProcessingTime => self.proc_timers.delete(w.max_timestamp(), k),
            TriggerKind::ContinuousEventTime(_) => {
                if let Some(f) = st.and_then(|s| s.fire_at) {
                    self.event_timers.delete(f, k);
                }
            }
            TriggerKind::ContinuousProcessingTime(_) => {
                if let Some(f) = st.and_then(|s| s.fire_at) {
                    self.proc_timers.delete(f, k);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::plan;
    use crate::report::{RunReport, Status};
    use crate::scenario::parse_str;
    use crate::sim::{self, RunOptions};

    fn job(window: &str, limits: &str, keys: usize) -> String {
        let events: Vec<String> = (0..keys)
            .map(|k| format!("{{ key = \"k{k}\", ts = {}, value = 1 }}", 1000 + k))
            .collect();
        format!(
            "name = \"w\"\n{limits}\n[[source]]\nname = \"events\"\nkind = \"inline\"\ntimestamp = \"ts\"\n\
             watermarks = {{ strategy = \"monotonous\", emit = \"per_event\" }}\nevents = [ {} ]\n\
             [[operator]]\nname = \"by_key\"\nkind = \"key_by\"\ninput = \"events\"\nkey = \"key\"\n\
             [[operator]]\nname = \"win\"\nkind = \"window\"\ninput = \"by_key\"\n{window}\n\
             function = \"sum\"\nfield = \"value\"\n[[sink]]\nname = \"out\"\ninput = \"win\"\n",
            events.join(", ")
        )
    }

    fn run(text: &str) -> (RunReport, Vec<String>) {
        let s = parse_str("w.toml", text, None).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let warnings = s.warnings.iter().map(|w| w.message.clone()).collect();
        let p = plan(&s).unwrap();
        let opts = RunOptions::default();
        (sim::run(&s, &p, opts).unwrap().report, warnings)
    }

    /// Issue 11 item 2: merged session state is combined in Flink's order — the windows in
    /// `java.util.HashSet` order (here [4000, 6000) before [0, 2000), from Java), the first
    /// one's state is the target, and `mergeNamespaces` computes reduce(target, others) — so
    /// a reduce that is not commutative gives Flink's result, not the window-start order's.
    #[test]
    fn a_non_commutative_reduce_merges_sessions_in_flinks_order() {
        let text = "name = \"m\"\n[[source]]\nname = \"events\"\nkind = \"inline\"\ntimestamp = \"ts\"\n\
             watermarks = { strategy = \"bounded\", max_out_of_orderness = \"10 s\", emit = \"per_event\" }\n\
             events = [ { key = \"a\", ts = 0, value = 1 }, { key = \"a\", ts = 4000, value = 2 }, \
             { key = \"a\", ts = 2000, value = 3 } ]\n\
             [[operator]]\nname = \"by_key\"\nkind = \"key_by\"\ninput = \"events\"\nkey = \"key\"\n\
             [[operator]]\nname = \"win\"\nkind = \"window\"\ninput = \"by_key\"\n\
             window = { type = \"session\", gap = \"2 s\" }\nfunction = \"expr\"\n\
             select = { value = \"acc.value * 10 + value\" }\n\
             [[sink]]\nname = \"out\"\ninput = \"win\"\n";
        let (r, _) = run(text);
        assert_eq!(r.outcome.status, Status::Finished, "{:?}", r.outcome);
        let sink = r.sinks.iter().find(|k| k.name == "out").unwrap();
        let at = |f: &str| sink.fields.iter().position(|x| x == f).unwrap();
        assert_eq!(sink.rows.len(), 1, "{:?}", sink.rows);
        // target [4000, 6000) holds 2, the other 1: reduce(2, 1) = 21; then 3: 213
        // (window-start order would give (1 * 10 + 2) * 10 + 3 = 123)
        assert_eq!(sink.rows[0][at("value")], serde_json::json!(213));
        assert_eq!(sink.rows[0][at("window_end")], serde_json::json!(6000));
    }

    /// Issue 11 item 10: in Flink this job never ends; the run stops at once with the cause.
    #[test]
    fn a_global_window_with_a_continuous_trigger_stops_at_the_final_watermark() {
        let text = job(
            "window = { type = \"global\" }\ntrigger = { type = \"continuous_event_time\", interval = \"1 s\" }",
            "",
            3,
        );
        let (r, warnings) = run(&text);
        assert!(
            warnings.iter().any(|w| w.contains("never stops firing")),
            "validate warns: {warnings:?}"
        );
        assert_eq!(r.outcome.status, Status::LimitReached);
        let m = r.outcome.message.unwrap_or_default();
        assert!(
            m.contains("fires without end at the final watermark"),
            "{m}"
        );
    }

    /// The timers one watermark fires count against `[limits] max_events`: 40 windows due at
    /// the final watermark are more than a budget of 30 events.
    #[test]
    fn timers_fired_by_one_watermark_count_against_max_events() {
        let window = "window = { type = \"tumbling\", size = \"1 h\" }";
        let (r, _) = run(&job(window, "[limits]\nmax_events = 30", 40));
        assert_eq!(r.outcome.status, Status::LimitReached, "{:?}", r.outcome);
        let (r, _) = run(&job(window, "", 40));
        assert_eq!(r.outcome.status, Status::Finished, "{:?}", r.outcome);
        assert!(
            r.events < 30,
            "the queue events alone ({}) stay below the limit",
            r.events
        );
    }
}
