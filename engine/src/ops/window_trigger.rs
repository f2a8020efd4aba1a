//! The window operator's trigger calls (Flink's `Trigger.onElement`, `onEventTime`,
//! `onProcessingTime`, `onMerge`, `clear`) for the built-in triggers, through the trigger
//! context of `WindowOperator`: per key and window the trigger's state, and the operator's
//! event-time and processing-time timer services.

use super::timers::TimerQueue;
use crate::core::time::EventTime;
use crate::core::value::{OrdValue, Value};
use crate::flink::window::assign::Window;
use crate::flink::window::trigger::{self, Trigger, TriggerKind, TriggerResult, TriggerState};
use rustc_hash::FxHashMap;

/// A timer of the window operator: its key and window.
pub(super) type TimerKey = (OrdValue, Window);

/// What a trigger sees of its window operator during one call (Flink's
/// `WindowOperator.Context`).
pub(super) struct TriggerContext<'a> {
    /// The window's trigger.
    pub(super) trigger: &'a Trigger,
    /// Trigger state per key and window (counts, the next continuous fire time).
    pub(super) states: &'a mut FxHashMap<(Value, Window), TriggerState>,
    /// The event-time timer service.
    pub(super) event_timers: &'a mut TimerQueue<TimerKey>,
    /// The processing-time timer service.
    pub(super) proc_timers: &'a mut TimerQueue<TimerKey>,
    /// The operator's current watermark.
    pub(super) watermark: EventTime,
    /// The current processing time, in ms.
    pub(super) now_ms: EventTime,
}

impl TriggerContext<'_> {
    pub(super) fn on_element(&mut self, key: Value, w: Window, ts: EventTime) -> TriggerResult {
        let k = (OrdValue(key), w);
        let max = w.max_timestamp();
        let r = match self.trigger.kind {
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
                let st = self.states.entry((key, w)).or_default();
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
                    return self.trigger.wrap(TriggerResult::FIRE);
                }
                self.event_timers.register(max, k);
                let st = self.states.entry((key, w)).or_default();
                if st.fire_at.is_none() {
                    let next = trigger::first_continuous_fire(ts, interval, max);
                    st.fire_at = Some(next);
                    self.event_timers.register(next, k);
                }
                TriggerResult::CONTINUE
            }
            TriggerKind::ContinuousProcessingTime(interval) => {
                let now = self.now_ms;
                let st = self.states.entry((key, w)).or_default();
                if st.fire_at.is_none() {
                    let next = trigger::first_continuous_fire(now, interval, max);
                    st.fire_at = Some(next);
                    self.proc_timers.register(next, k);
                }
                TriggerResult::CONTINUE
            }
            TriggerKind::Never => TriggerResult::CONTINUE,
        };
        self.trigger.wrap(r)
    }

    pub(super) fn on_event_time(
        &mut self,
        key: Value,
        w: Window,
        time: EventTime,
    ) -> TriggerResult {
        let r = match self.trigger.kind {
            TriggerKind::EventTime if time == w.max_timestamp() => TriggerResult::FIRE,
            TriggerKind::ContinuousEventTime(interval) => {
                if time == w.max_timestamp() {
                    TriggerResult::FIRE
                } else {
                    let st = self.states.entry((key, w)).or_default();
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
        self.trigger.wrap(r)
    }

    pub(super) fn on_processing_time(
        &mut self,
        key: Value,
        w: Window,
        time: EventTime,
    ) -> TriggerResult {
        let r = match self.trigger.kind {
            TriggerKind::ProcessingTime => TriggerResult::FIRE,
            TriggerKind::ContinuousProcessingTime(interval) => {
                if time == w.max_timestamp() {
                    TriggerResult::FIRE
                } else {
                    let st = self.states.entry((key, w)).or_default();
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
        self.trigger.wrap(r)
    }

    /// `Trigger.onMerge` for the merged window `result`: `mergePartitionedState` moves the
    /// trigger state of the merged windows to `result` (so the `clear` that follows for each of
    /// them finds none and deletes no fire-time timer, as in Flink), then the trigger registers
    /// what it needs.
    pub(super) fn on_merge(&mut self, key: Value, result: Window, merged: &[Window]) {
        let mut st = TriggerState::default();
        for m in merged {
            if let Some(s) = self.states.remove(&(key, *m)) {
                st.merge(&s);
            }
        }
        let k = (OrdValue(key), result);
        let max = result.max_timestamp();
        match self.trigger.kind {
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
            self.states.entry((key, result)).or_default().merge(&st);
        }
    }

    pub(super) fn clear(&mut self, key: Value, w: Window) {
        let k = (OrdValue(key), w);
        let st = self.states.remove(&(key, w));
        match self.trigger.kind {
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
