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
use super::element::RecMeta;
use super::state::{
    OperatorState, WINDOW_BYTES, checkpoint_entries_bytes, distinct_keys, over_limit,
};
use super::timers::TimerQueue;
use super::window_acc::{Acc, WindowAgg, WindowState};
use super::window_capture::WindowCapture;
use super::window_table::WindowTable;
use super::window_trigger::{TimerKey, TriggerContext};
use crate::core::time::{EventTime, SimTime};
use crate::core::value::{OrdValue, Value};
use crate::expr::Expr;
use crate::expr::eval::EvalCx;
use crate::flink::window::assign::{Assigner, Window};
use crate::flink::window::merging::MergingWindowSet;
use crate::flink::window::trigger::TriggerResult;
use crate::flink::window::trigger::{self, Evictor, Trigger, TriggerKind, TriggerState};
use crate::report::WindowReport;
use crate::report::event_time::DotKind;
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
    /// A trigger decided something other than CONTINUE on an element, or decided anything
    /// when a timer fired.
    Trigger {
        /// The window's key.
        key: Value,
        /// The window.
        window: Window,
        /// What asked: `None` for an element, `Some(true)` for an event-time timer,
        /// `Some(false)` for a processing-time timer.
        timer: Option<bool>,
        /// The element's timestamp or the timer's time.
        time: EventTime,
        /// The decision.
        result: TriggerResult,
        /// The operator's watermark then.
        watermark: EventTime,
    },
    /// The window's cleanup timer fired (its end − 1 + allowed lateness): its contents
    /// and trigger state are gone, later elements for it are late.
    Cleared {
        /// The window's key.
        key: Value,
        /// The window.
        window: Window,
        /// The operator's watermark then.
        watermark: EventTime,
    },
    /// An element was added to a window the watermark had passed (it arrived within the
    /// allowed lateness): the window fires again.
    LateAdded {
        /// The window's key.
        key: Value,
        /// The window.
        window: Window,
        /// The element.
        row: Vec<Value>,
        /// Its timestamp.
        ts: EventTime,
        /// The operator's watermark then.
        watermark: EventTime,
    },
    /// A late element no window took, dropped (no side output): Flink's
    /// `numLateRecordsDropped`.
    Dropped {
        /// The element.
        row: Vec<Value>,
        /// Its timestamp.
        ts: EventTime,
        /// The operator's watermark then.
        watermark: EventTime,
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

/// One input element on its way into its windows: the row, its metadata, its position in
/// the input batch and the timestamp the windows use.
#[derive(Clone, Copy)]
struct Element<'a> {
    row: &'a [Value],
    meta: RecMeta,
    index: u32,
    ts: EventTime,
}

/// A keyed window operator subtask.
#[derive(Debug, Clone)]
pub struct WindowOp {
    cfg: WindowConfig,
    state: WindowTable,
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
    /// What the event-time diagram needs, when the run captures it
    /// ([`WindowOp::capture_event_time`]).
    pub capture: Option<Box<WindowCapture>>,
    /// Set when the job must fail (a Flink exception).
    pub failure: Option<String>,
    /// Most windows the state may hold (its share of the memory limit,
    /// [`OperatorState::set_memory_share`]); beyond it the task fails before the windows are
    /// created.
    pub max_windows: usize,
    last_input: Vec<Value>,
    windows: Vec<Window>,
    result: Vec<Value>,
    /// Whether [`WindowOp::add_quick`] may take records (off only in the test that compares
    /// it with the general path).
    quick: bool,
}

impl WindowOp {
    /// A window operator with empty state.
    pub fn new(cfg: WindowConfig, annotate: bool) -> Self {
        WindowOp {
            cfg,
            state: WindowTable::default(),
            triggers: FxHashMap::default(),
            merging: FxHashMap::default(),
            event_timers: TimerQueue::default(),
            proc_timers: TimerQueue::default(),
            watermark: EventTime::MIN,
            now_ms: EventTime::ZERO,
            stats: WindowStats::default(),
            log: annotate.then(Vec::new),
            capture: None,
            failure: None,
            max_windows: usize::MAX,
            last_input: Vec::new(),
            windows: Vec::new(),
            result: Vec::new(),
            quick: true,
        }
    }

    /// The field that holds the key, when the key is a plain field: what `explain` reads to
    /// tell the records of one key apart in a buffer.
    pub fn key_field(&self) -> Option<usize> {
        self.cfg.key.as_field()
    }

    /// Starts noting what the event-time diagram needs, if the windows are in event time and
    /// it is not noting yet; returns whether it notes.
    pub fn capture_event_time(&mut self) -> bool {
        if self.is_event_time() && self.capture.is_none() {
            self.capture = Some(Box::default());
        }
        self.capture.is_some()
    }

    /// How the operator is configured.
    pub fn config(&self) -> &WindowConfig {
        &self.cfg
    }

    /// The earliest pending processing-time timer, in ms.
    pub fn next_processing_timer(&self) -> Option<EventTime> {
        self.proc_timers.next()
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
        w.cleanup_time(self.cfg.allowed_lateness)
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
        if c != EventTime::MAX {
            let ev = self.is_event_time();
            self.timers(ev).register(c, (OrdValue(key), w));
        }
    }

    fn delete_cleanup(&mut self, key: Value, w: Window) {
        let c = self.cleanup_time(&w);
        if c != EventTime::MAX {
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
        let quick = self.quick_adds();
        for start in (0..input.len()).step_by(WARM_AHEAD) {
            let end = (start + WARM_AHEAD).min(input.len());
            if self.state.len() >= WARM_FROM_WINDOWS {
                self.warm(&input, start..end);
            }
            for i in start..end {
                if let Some(f) = quick
                    && self.add_quick(&input, i, f, ev)
                {
                    continue;
                }
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
                let Some((ts, gap)) = self.admit_element(row, meta, ev) else {
                    return;
                };
                let mut windows = std::mem::take(&mut self.windows);
                self.cfg.assigner.assign_next(ts, gap, &mut windows);
                let mut skipped = true;
                for &w in &windows {
                    let element = Element {
                        row,
                        meta,
                        index: i as u32,
                        ts,
                    };
                    match self.add_to_window(key, w, element, out, ev) {
                        None => return,
                        Some(added) => skipped &= !added,
                    }
                }
                self.windows = windows;
                let late = skipped
                    && self.is_event_time()
                    && ts.plus_millis(self.cfg.allowed_lateness) <= self.watermark;
                if late {
                    self.late_element(row, meta, i as u32, ts, side);
                }
                if let Some(c) = self.capture.as_deref_mut() {
                    let kind = match (skipped, late, c.late_added) {
                        (false, _, false) => DotKind::OnTime,
                        (false, _, true) => DotKind::LateAllowed,
                        (true, true, _) if self.cfg.side_output => DotKind::LateSide,
                        (true, _, _) => DotKind::Dropped,
                    };
                    c.element(self.cfg.with_key.then_some(key), ts, self.watermark, kind);
                }
            }
        }
        // The log's last input: records the quick path took do not note it one by one
        // (nothing reads it between them: the general path notes its own record first).
        if quick.is_some()
            && self.log.is_some()
            && let Some(last) = input.len().checked_sub(1)
        {
            self.last_input.clear();
            self.last_input.extend_from_slice(input.row(last));
        }
    }

    /// The key field, when [`WindowOp::add_quick`] may take the records of a batch: keyed by
    /// a field, tumbling windows in event time with Flink's event-time trigger, and no
    /// event-time diagram to note every element for. `None` when the test switch `quick`
    /// is off.
    fn quick_adds(&self) -> Option<usize> {
        let eligible = self.quick
            && !self.cfg.processing_time
            && matches!(self.cfg.assigner, Assigner::Tumbling { .. })
            && self.cfg.gap.is_none()
            && self.cfg.trigger.kind == TriggerKind::EventTime
            && self.capture.is_none();
        eligible.then(|| self.cfg.key.as_field()).flatten()
    }

    /// Adds record `i` to its window when that is all the general path would do: the window
    /// is held, not late, and its timers are registered already ([`WindowOp::timers_known`]);
    /// returns `false`, having changed nothing the general path reads, for anything else.
    /// What it skips is only bookkeeping of the general path that this record does not need
    /// (the list of its windows, the merging and late checks' branches, the trigger call
    /// that would register timers that exist). A test runs random batches and watermarks
    /// through both and compares everything they emit and hold.
    #[inline(always)]
    fn add_quick(&mut self, input: &View<'_>, i: usize, f: usize, ev: &mut EvalCx<'_>) -> bool {
        let meta = input.meta[i];
        let ts = meta.ts;
        // `admit_element`'s checks: a timestamp, and room for one more window.
        if ts == EventTime::MIN || self.state.len() >= self.max_windows {
            return false;
        }
        self.cfg.assigner.assign_next(ts, 0, &mut self.windows);
        let w = self.windows[0];
        // (A window whose timers are known ends after the watermark: it is not late.)
        if !self.timers_known_if_held(w) {
            return false;
        }
        let row = input.row(i);
        let key = row[f];
        let Some(st) = self.state.get_mut(&(key, w)) else {
            return false;
        };
        self.cfg.agg.add(&mut st.acc, row, ts, ev);
        st.max_born = st.max_born.max(meta.born);
        debug_assert!(self.timers_known(key, w));
        true
    }

    /// Reads, ahead of processing them, the state of the windows the records `range` of
    /// `input` go to (at most [`WARM_WINDOWS`]), and does nothing with it. With many keys the
    /// window state is far larger than the cache and each record's lookup waits on memory;
    /// these reads depend on nothing but the table, so their waits overlap, and the records'
    /// own lookups then find their windows in the cache ([`WindowTable::touch`]). For merging
    /// windows, the keys' session sets are read instead.
    /// (It takes `&self`: it only reads, and what the records do is unchanged. Skipped for keys
    /// that are expressions, for elements that open many windows and for small states.)
    fn warm(&self, input: &View<'_>, range: std::ops::Range<usize>) {
        let Some(f) = self.cfg.key.as_field() else {
            return;
        };
        if self.cfg.assigner.is_merging() {
            for i in range.clone() {
                std::hint::black_box(self.merging.contains_key(&input.row(i)[f]));
            }
            self.warm_sessions(input, range, f);
            return;
        }
        if self.cfg.assigner.windows_per_element() > WARM_WINDOWS as u64 {
            // (`admit_element` refuses elements that would open too many windows before they
            // are assigned; this must not assign them either.)
            return;
        }
        // First every hash, then every touch: the touches, in a run of their own, wait on
        // memory together.
        let mut hashes = [0u64; WARM_WINDOWS];
        let mut n = 0;
        let mut windows = Vec::new();
        for i in range {
            let ts = if self.cfg.processing_time {
                self.now_ms
            } else {
                input.meta[i].ts
            };
            if ts == EventTime::MIN {
                continue;
            }
            self.cfg.assigner.assign(ts, 0, &mut windows);
            let key = input.row(i)[f];
            for &w in &windows {
                if n == WARM_WINDOWS {
                    break;
                }
                hashes[n] = WindowTable::hash_of(&(key, w));
                n += 1;
            }
        }
        for &h in &hashes[..n] {
            self.state.touch(h);
        }
    }

    /// For event-time sessions with a fixed gap, once the keys' session sets are read (the
    /// first pass of [`WindowOp::warm`]): reads what each record whose key has one session
    /// will read next — the session's state, its timer (which the merge deletes, down to its
    /// place in the timer heap) and the grown session's timer (which the merge registers). A
    /// record of the same key earlier in the run may grow the session first; then these reads
    /// miss, and change nothing.
    ///
    /// In passes: first every address, then the state's buckets, then the timers. Each pass's
    /// reads depend on nothing the pass reads, so their waits on memory overlap; one record's
    /// reads after another's, with the work of finding them in between, waited one by one.
    fn warm_sessions(&self, input: &View<'_>, range: std::ops::Range<usize>, f: usize) {
        if !matches!(self.cfg.assigner, Assigner::Session { dynamic: false, .. })
            || !self.is_event_time()
        {
            return;
        }
        let mut state = [0u64; WARM_AHEAD];
        let mut deleted = [(
            EventTime::MIN,
            (OrdValue(Value::Int(0)), Window::of_millis(0, 0)),
        ); WARM_AHEAD];
        let mut registered = deleted;
        let (mut n, mut m) = (0, 0);
        let mut windows = Vec::with_capacity(1);
        for i in range {
            let ts = input.meta[i].ts;
            if ts == EventTime::MIN || n == WARM_AHEAD {
                continue;
            }
            windows.clear();
            self.cfg.assigner.assign(ts, 0, &mut windows);
            let key = input.row(i)[f];
            let Some((w, sw, cover)) = windows
                .first()
                .and_then(|new| self.merging.get(&key)?.one_and_cover(new))
            else {
                continue;
            };
            state[n] = WindowTable::hash_of(&(key, sw));
            deleted[n] = (w.max_timestamp(), (OrdValue(key), w));
            n += 1;
            if let Some(c) = cover.filter(|&c| c != w) {
                registered[m] = (c.max_timestamp(), (OrdValue(key), c));
                m += 1;
            }
        }
        for &h in &state[..n] {
            self.state.touch(h);
        }
        self.event_timers.touch_deletes(&deleted[..n]);
        for &(ts, what) in &registered[..m] {
            self.event_timers.touch(ts, what);
        }
    }

    /// The element's timestamp (processing time for processing-time windows) and session gap,
    /// or `None` after recording the failure Flink's `WindowOperator.processElement` would
    /// throw: an element without a timestamp in an event-time window, a dynamic session gap
    /// that is not positive, or more windows than the subtask may hold.
    fn admit_element(
        &mut self,
        row: &[Value],
        meta: RecMeta,
        ev: &mut EvalCx<'_>,
    ) -> Option<(EventTime, i64)> {
        let ts = if self.cfg.processing_time {
            self.now_ms
        } else {
            meta.ts
        };
        if ts == EventTime::MIN
            && !self.cfg.processing_time
            && self.cfg.assigner != Assigner::Global
        {
            self.failure.get_or_insert_with(|| {
                "java.lang.RuntimeException: Record has Long.MIN_VALUE timestamp (= no timestamp marker). \
                 Is the time characteristic set to 'ProcessingTime', or did you forget to call \
                 'DataStream.assignTimestampsAndWatermarks(...)'?"
                    .into()
            });
            return None;
        }
        let gap = match &self.cfg.gap {
            Some(g) => {
                let v = g.eval(row, &[], ev).as_int();
                if v <= 0 {
                    self.failure.get_or_insert_with(|| {
                        format!("java.lang.IllegalArgumentException: Dynamic session time gap must satisfy 0 < gap, found {v}")
                    });
                    return None;
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
                over_limit(
                    &format!(
                        "a record would open {fan_out} windows, {} are held already",
                        self.state.len()
                    ),
                    &format!("{} windows per subtask", self.max_windows),
                )
            });
            return None;
        }
        Some((ts, gap))
    }

    /// Adds the element to one window it was assigned to (merged into its session first, for
    /// merging assigners), asks the trigger (`onElement`), fires and purges as it says and
    /// registers the cleanup timer. `Some(false)`: the window is late and the element skips
    /// it (`isWindowLate`); `None`: the task failed.
    fn add_to_window(
        &mut self,
        key: Value,
        w: Window,
        e: Element<'_>,
        out: &mut Batch,
        ev: &mut EvalCx<'_>,
    ) -> Option<bool> {
        let (actual, state_window) = if self.cfg.assigner.is_merging() {
            let (actual, sw) = match self.add_merging_window(key, w, ev) {
                Ok(a) => a,
                Err(err) => {
                    self.failure.get_or_insert(err);
                    return None;
                }
            };
            if self.is_window_late(&actual) {
                if let Some(m) = self.merging.get_mut(&key) {
                    m.retire(&actual);
                }
                return Some(false);
            }
            (actual, sw.unwrap_or(actual))
        } else {
            if self.is_window_late(&w) {
                return Some(false);
            }
            (w, w)
        };
        let (row, ts) = (e.row, e.ts);
        let keep_elements = self.cfg.evictor.is_some();
        match self.state.get_mut(&(key, state_window)) {
            Some(st) => {
                self.cfg.agg.add(&mut st.acc, row, ts, ev);
                st.max_born = st.max_born.max(e.meta.born);
                if self.timers_known(key, actual) {
                    return Some(true);
                }
            }
            None => {
                if let Some(c) = self.capture.as_deref_mut() {
                    c.opened(actual);
                }
                let acc = self.cfg.agg.first(row, ts, keep_elements);
                self.state.insert(
                    (key, state_window),
                    WindowState {
                        acc,
                        max_born: e.meta.born,
                    },
                );
            }
        }
        if self.is_event_time() && actual.max_timestamp() <= self.watermark {
            if let Some(c) = self.capture.as_deref_mut() {
                c.late_added = true;
            }
            if let Some(log) = &mut self.log {
                log.push(Emitted::LateAdded {
                    key,
                    window: actual,
                    row: row.to_vec(),
                    ts,
                    watermark: self.watermark,
                });
            }
        }
        let r = self.trigger_cx().on_element(key, actual, ts);
        if r != TriggerResult::CONTINUE
            && let Some(log) = &mut self.log
        {
            log.push(Emitted::Trigger {
                key,
                window: actual,
                timer: None,
                time: ts,
                result: r,
                watermark: self.watermark,
            });
        }
        if r.fire {
            let late = self.is_event_time() && actual.max_timestamp() <= self.watermark;
            if let Some(c) = self.capture.as_deref_mut() {
                c.late_fire = late;
            }
            if self.emit(key, actual, state_window, out, e.meta, e.index, ev) && late {
                self.stats.late_firings += 1;
            }
            if let Some(c) = self.capture.as_deref_mut() {
                c.late_fire = false;
            }
        }
        if r.purge {
            self.state.remove(&(key, state_window));
        }
        self.register_cleanup(key, actual);
        Some(true)
    }

    /// Whether window `w`'s cleanup timer is the same timer as its event-time trigger's (no
    /// allowed lateness, the default event-time trigger): deleting one deletes both.
    fn cleanup_is_trigger_timer(&self, w: &Window) -> bool {
        self.is_event_time()
            && self.cfg.trigger.kind == TriggerKind::EventTime
            && self.cleanup_time(w) == w.max_timestamp()
    }

    /// Whether `EventTimeTrigger.onElement` and the cleanup timer would register only timers
    /// that exist, for an element added to window `w` of `key` whose state already existed
    /// (the fast path: the calls are skipped, saving two timer-set lookups per element).
    ///
    /// With the default event-time trigger and a window not merged, the state was created by
    /// an element that registered the trigger's timer at `w`'s max timestamp — unless that
    /// timestamp was already at or below the watermark — and the cleanup timer; neither has
    /// fired while the max timestamp is above the watermark (the trigger fires, and so never
    /// purges, only when the watermark reaches it; restores bring timers back with the state).
    /// So while `w`'s max timestamp is above the watermark, onElement answers CONTINUE and
    /// registers nothing new.
    ///
    /// Sessions (merging windows) too when there is no allowed lateness, so that the cleanup
    /// timer is the trigger's: a session in the set either had an element of its own, which
    /// registered the timer, or came out of a merge, whose `onMerge` registered it — in both
    /// cases while its max timestamp was above the watermark, as it still is (with lateness,
    /// a merged session's cleanup timer comes only from the element after the merge, which
    /// must not be skipped). Debug builds check that the timers are there.
    fn timers_known(&self, key: Value, w: Window) -> bool {
        let known = self.timers_known_if_held(w);
        debug_assert!(
            !known
                || self
                    .event_timers
                    .contains(w.max_timestamp(), (OrdValue(key), w)),
            "fast path: the trigger's timer of {w:?} is missing"
        );
        debug_assert!(
            !known
                || self.cleanup_time(&w) == EventTime::MAX
                || self
                    .event_timers
                    .contains(self.cleanup_time(&w), (OrdValue(key), w)),
            "fast path: the cleanup timer of {w:?} is missing"
        );
        known
    }

    /// The condition of [`WindowOp::timers_known`], without its checks (for a window whose
    /// state the caller has not looked up yet).
    #[inline]
    fn timers_known_if_held(&self, w: Window) -> bool {
        self.is_event_time()
            && (!self.cfg.assigner.is_merging() || self.cfg.allowed_lateness == 0)
            && self.cfg.trigger.kind == TriggerKind::EventTime
            && w.max_timestamp() > self.watermark
    }

    /// An element that went into no window because all of them were late: to the late-data
    /// side output (`sideOutputLateData`) or dropped (`numLateRecordsDropped`).
    fn late_element(
        &mut self,
        row: &[Value],
        meta: RecMeta,
        index: u32,
        ts: EventTime,
        side: &mut Batch,
    ) {
        if self.cfg.side_output {
            side.push(row, meta, index);
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
            if let Some(log) = &mut self.log {
                log.push(Emitted::Dropped {
                    row: row.to_vec(),
                    ts,
                    watermark: self.watermark,
                });
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
        if let Some(c) = self.capture.as_deref_mut() {
            c.watermark(wm);
        }
        while let Some((ts, (OrdValue(key), w))) = self.event_timers.pop_due(wm) {
            self.on_timer(ts, key, w, true, out, ev);
            if wm == EventTime::MAX
                && w == Window::GLOBAL
                && ts != EventTime::MAX
                && matches!(self.cfg.trigger.kind, TriggerKind::ContinuousEventTime(_))
                && self.event_timers.contains(
                    trigger::next_continuous_fire(ts, self.interval(), EventTime::MAX),
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

    /// BATCH runtime, end of input: fires every processing-time timer, in timestamp order,
    /// with the queue quiesced (Flink's `BatchExecutionInternalTimeService.setCurrentKey`): a
    /// continuous trigger's next fire time is not registered. The clock does not move.
    pub fn fire_all_processing_timers(&mut self, out: &mut Batch, ev: &mut EvalCx<'_>) {
        if self.failure.is_some() {
            return;
        }
        self.proc_timers.set_quiesced(true);
        while let Some((ts, (OrdValue(key), w))) = self.proc_timers.pop_due(EventTime::MAX) {
            self.on_timer(ts, key, w, false, out, ev);
        }
        self.proc_timers.set_quiesced(false);
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
            self.trigger_cx().on_event_time(key, w, ts)
        } else {
            self.trigger_cx().on_processing_time(key, w, ts)
        };
        if let Some(log) = &mut self.log {
            log.push(Emitted::Trigger {
                key,
                window: w,
                timer: Some(event),
                time: ts,
                result: r,
                watermark: self.watermark,
            });
        }
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
            if let Some(log) = &mut self.log {
                log.push(Emitted::Cleared {
                    key,
                    window: w,
                    watermark: self.watermark,
                });
            }
            self.state.remove(&(key, state_window));
            self.trigger_cx().clear(key, w);
            if let Some(m) = self.merging.get_mut(&key) {
                m.retire(&w);
                if m.is_empty() {
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
            self.result.push(Value::Int(w.start.as_millis()));
            self.result.push(Value::Int(w.end.as_millis()));
        }
        let keep = match (&self.cfg.evictor, &mut st.acc) {
            (Some(e), Acc::Elements(els)) => {
                let (vals, tss) = (&mut els.vals, &mut els.tss);
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
        if let Some(c) = self.capture.as_deref_mut() {
            c.fired(w);
        }
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

    /// `MergingWindowSet.addWindow` with the operator's merge function: the window the new
    /// one ended up in, and that window's state window (read from the set right away: what
    /// follows changes triggers, timers and state, never the set).
    fn add_merging_window(
        &mut self,
        key: Value,
        w: Window,
        ev: &mut EvalCx<'_>,
    ) -> Result<(Window, Option<Window>), String> {
        let set = self.merging.entry(key).or_default();
        let (actual, merges) = set.add(w);
        let state_window = set.state_window(&actual);
        for m in merges {
            if self.is_event_time()
                && m.result
                    .max_timestamp()
                    .plus_millis(self.cfg.allowed_lateness)
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
            self.trigger_cx().on_merge(key, m.result, &m.merged);
            for x in &m.merged {
                self.trigger_cx().clear(key, *x);
                if self.cleanup_is_trigger_timer(x) {
                    // `clear` deleted it: the cleanup timer is the trigger's
                    debug_assert!(
                        !self
                            .event_timers
                            .contains(x.max_timestamp(), (OrdValue(key), *x)),
                        "fast path: the cleanup timer of merged {x:?} is still there"
                    );
                    continue;
                }
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
        Ok((actual, state_window))
    }

    /// The trigger's view of the operator for one call (Flink's `WindowOperator.Context`).
    fn trigger_cx(&mut self) -> TriggerContext<'_> {
        TriggerContext {
            trigger: &self.cfg.trigger,
            states: &mut self.triggers,
            event_timers: &mut self.event_timers,
            proc_timers: &mut self.proc_timers,
            watermark: self.watermark,
            now_ms: self.now_ms,
        }
    }
}

#[cfg(test)]
mod quick_tests;

/// Records whose windows [`WindowOp::warm`] looks up ahead at a time.
const WARM_AHEAD: usize = 32;

/// Most windows [`WindowOp::warm`] reads ahead at a time (a sliding window's records each go
/// to size / slide windows).
const WARM_WINDOWS: usize = 4 * WARM_AHEAD;

/// Windows a subtask must hold before [`WindowOp::warm`] looks records' windows up ahead:
/// below this the state stays in the cache and looking up twice only costs time.
const WARM_FROM_WINDOWS: usize = 4096;

/// Keyed: windows (with their triggers and session sets) and timers, per key.
impl OperatorState for WindowOp {
    fn is_keyed(&self) -> bool {
        true
    }

    fn keys(&self) -> u64 {
        distinct_keys(self.state.keys().map(|(k, _)| *k))
    }

    /// Four fields a window: key, bounds and accumulator.
    fn checkpointed_bytes(&self) -> u64 {
        checkpoint_entries_bytes(self.windows_in_state(), 4)
    }

    fn heap_bytes(&self) -> u64 {
        self.windows_in_state() as u64 * WINDOW_BYTES
    }

    /// Keeps the windows, triggers, session sets and timers of the keys that pass `keep`
    /// (state and timers move together, by key group).
    fn retain_keys(&mut self, keep: &dyn Fn(Value) -> bool) {
        self.state.retain(|(k, _), _| keep(*k));
        self.triggers.retain(|(k, _), _| keep(*k));
        self.merging.retain(|k, _| keep(*k));
        self.event_timers.retain(|(k, _)| keep(k.0));
        self.proc_timers.retain(|(k, _)| keep(k.0));
    }

    fn absorb(&mut self, other: WindowOp) {
        self.state.extend(other.state);
        self.triggers.extend(other.triggers);
        self.merging.extend(other.merging);
        self.event_timers.absorb(other.event_timers);
        self.proc_timers.absorb(other.proc_timers);
    }

    /// A record may open as many windows as its assigner gives it (size/slide for sliding
    /// windows): the whole share goes to windows.
    fn set_memory_share(&mut self, limit_bytes: u64, _out_arity: usize) {
        self.max_windows = usize::try_from(limit_bytes / WINDOW_BYTES).unwrap_or(usize::MAX);
    }

    fn window_report(&self) -> Option<WindowReport> {
        Some(WindowReport {
            fired: self.stats.fired,
            late_firings: self.stats.late_firings,
            late_dropped: self.stats.late_dropped,
            late_side_output: self.stats.late_side_output,
            windows_left_open: self.windows_in_state() as u64,
        })
    }
}
