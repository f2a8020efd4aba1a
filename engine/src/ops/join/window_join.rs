//! The window join — `a.join(b).where(ka).equalTo(kb).window(…)`: elements of both sides are
//! collected per key and window; when the watermark passes the window's end every left
//! element is paired with every right element (Flink runs it as a co-group: left outer
//! loop, right inner loop), and the window's state is dropped. Elements whose windows have
//! all ended are late and dropped. Session windows merge across both sides, as in Flink
//! (whose co-group runs a `WindowOperator` over the union of the two inputs): a merged
//! session's elements join when the watermark passes its end.

use super::super::batch::{Batch, View};
use super::super::element::RecMeta;
use super::super::state::{OperatorState, WINDOW_BYTES, checkpoint_entries_bytes, distinct_keys};
use super::super::timers::TimerQueue;
use super::{NO_TIMESTAMP, Pairing, Side};
use crate::core::time::EventTime;
use crate::core::value::{OrdValue, Value};
use crate::expr::Expr;
use crate::expr::eval::EvalCx;
use crate::flink::window::merging::MergingWindowSet;
use crate::flink::window::{Assigner, Window};
use crate::report::WindowReport;
use rustc_hash::FxHashMap;

/// One firing of a window join's window (for the in-run checker: a window's pairs are
/// emitted once, when the watermark passes its end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinFired {
    /// The join key.
    pub key: Value,
    /// The window (for sessions, the merged session).
    pub window: Window,
    /// The operator's watermark then.
    pub watermark: EventTime,
}

/// A window join subtask.
#[derive(Debug, Clone)]
pub struct WindowJoinOp {
    pairing: Pairing,
    assigner: Assigner,
    /// Dynamic session gap per input (ms): `[left, right]`.
    gaps: Option<[Expr; 2]>,
    /// Elements per key and (state) window.
    state: FxHashMap<(Value, Window), [Side; 2]>,
    /// Session windows per key (merging assigners only).
    merging: FxHashMap<Value, MergingWindowSet>,
    timers: TimerQueue<(OrdValue, Window)>,
    windows: Vec<Window>,
    /// The operator's watermark.
    pub watermark: EventTime,
    /// Late elements dropped.
    pub late_dropped: u64,
    /// Pairs emitted.
    pub pairs: u64,
    /// A failure to report.
    pub failure: Option<String>,
    /// The windows fired since the in-run checker last read them, when annotations are on.
    pub log: Option<Vec<JoinFired>>,
}

impl WindowJoinOp {
    /// A window join with empty state; `gaps` are the dynamic session gaps of the left and
    /// right records; `annotate` keeps a log of the windows fired.
    pub fn new(
        pairing: Pairing,
        assigner: Assigner,
        gaps: Option<[Expr; 2]>,
        annotate: bool,
    ) -> Self {
        WindowJoinOp {
            pairing,
            assigner,
            gaps,
            state: FxHashMap::default(),
            merging: FxHashMap::default(),
            timers: TimerQueue::default(),
            windows: Vec::new(),
            watermark: EventTime::MIN,
            late_dropped: 0,
            pairs: 0,
            failure: None,
            log: annotate.then(Vec::new),
        }
    }

    /// Buffers elements of input `input` in their windows.
    pub fn process(&mut self, input: usize, view: View<'_>, ev: &mut EvalCx<'_>) {
        if self.failure.is_some() {
            return;
        }
        for i in 0..view.len() {
            let row = view.row(i);
            let meta = view.meta[i];
            if meta.ts == EventTime::MIN {
                self.failure.get_or_insert_with(|| NO_TIMESTAMP.into());
                return;
            }
            let key = self.pairing.key(input, row, ev);
            let gap = match &self.gaps {
                Some(g) => {
                    let v = g[input].eval(row, &[], ev).as_int();
                    if v <= 0 {
                        self.failure = Some(format!(
                            "java.lang.IllegalArgumentException: Dynamic session time gap must satisfy 0 < gap, found {v}"
                        ));
                        return;
                    }
                    v
                }
                None => 0,
            };
            let mut windows = std::mem::take(&mut self.windows);
            self.assigner.assign(meta.ts, gap, &mut windows);
            let mut kept = false;
            for &w in &windows {
                let (actual, state_window) = if self.assigner.is_merging() {
                    let actual = match self.add_merging_window(key, w) {
                        Ok(a) => a,
                        Err(e) => {
                            self.failure = Some(e);
                            return;
                        }
                    };
                    if actual.max_timestamp() <= self.watermark {
                        // late: a new session of its own that already ended
                        if let Some(m) = self.merging.get_mut(&key) {
                            m.retire(&actual);
                            if m.is_empty() {
                                self.merging.remove(&key);
                            }
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
                    if w.max_timestamp() <= self.watermark {
                        continue; // this window already fired
                    }
                    (w, w)
                };
                kept = true;
                let sides = self.state.entry((key, state_window)).or_default();
                sides[input].values.extend_from_slice(row);
                sides[input].meta.push(meta);
                self.timers
                    .register(actual.max_timestamp(), (OrdValue(key), actual));
            }
            self.windows = windows;
            if !kept {
                self.late_dropped += 1;
            }
        }
    }

    /// Adds a session window of `key`, merging what it overlaps (Flink's
    /// `MergingWindowSet.addWindow` with the `WindowOperator`'s merge function and
    /// `EventTimeTrigger.onMerge`); returns the session the window ended up in.
    fn add_merging_window(&mut self, key: Value, w: Window) -> Result<Window, String> {
        let set = self.merging.entry(key).or_default();
        let (actual, merges) = set.add(w);
        for m in merges {
            if m.result.max_timestamp() <= self.watermark {
                return Err(format!(
                    "java.lang.UnsupportedOperationException: The end timestamp of an event-time window cannot become \
                     earlier than the current watermark by merging. Current watermark: {} window: TimeWindow{{start={}, end={}}}",
                    self.watermark, m.result.start, m.result.end
                ));
            }
            self.timers
                .register(m.result.max_timestamp(), (OrdValue(key), m.result));
            for x in &m.merged {
                self.timers.delete(x.max_timestamp(), (OrdValue(key), *x));
            }
            // mergeNamespaces: the merged state windows' elements go after the target's.
            let mut target = self.state.remove(&(key, m.state_window));
            for sw in &m.merged_state_windows {
                if let Some(other) = self.state.remove(&(key, *sw)) {
                    let t = target.get_or_insert_with(Default::default);
                    for (side, o) in t.iter_mut().zip(other) {
                        side.values.extend(o.values);
                        side.meta.extend(o.meta);
                    }
                }
            }
            if let Some(t) = target {
                self.state.insert((key, m.state_window), t);
            }
        }
        Ok(actual)
    }

    /// Advances event time: windows that ended emit their pairs into `out`.
    pub fn advance_watermark(&mut self, wm: EventTime, out: &mut Batch, ev: &mut EvalCx<'_>) {
        if wm <= self.watermark || self.failure.is_some() {
            return;
        }
        self.watermark = wm;
        while let Some((_, (OrdValue(key), w))) = self.timers.pop_due(wm) {
            let state_window = if self.assigner.is_merging() {
                let Some(set) = self.merging.get_mut(&key) else {
                    continue;
                };
                let Some(sw) = set.state_window(&w) else {
                    continue; // merged away
                };
                set.retire(&w);
                if set.is_empty() {
                    self.merging.remove(&key);
                }
                sw
            } else {
                w
            };
            let Some([l, r]) = self.state.remove(&(key, state_window)) else {
                continue;
            };
            if let Some(log) = &mut self.log {
                log.push(JoinFired {
                    key,
                    window: w,
                    watermark: wm,
                });
            }
            let (la, ra) = (
                self.pairing.left_arity.max(1),
                self.pairing.right_arity.max(1),
            );
            for (lrow, lm) in l.values.chunks_exact(la).zip(&l.meta) {
                for (rrow, rm) in r.values.chunks_exact(ra).zip(&r.meta) {
                    let meta = RecMeta {
                        ts: w.max_timestamp(),
                        born: lm.born.max(rm.born),
                    };
                    self.pairing.emit(lrow, rrow, meta, out, ev);
                    self.pairs += 1;
                }
            }
        }
    }

    /// Windows holding elements.
    pub fn windows_in_state(&self) -> usize {
        self.state.len()
    }
}

/// Keyed: both sides' elements per key and window, session sets and timers.
impl OperatorState for WindowJoinOp {
    fn is_keyed(&self) -> bool {
        true
    }

    fn keys(&self) -> u64 {
        distinct_keys(self.state.keys().map(|(k, _)| *k))
    }

    fn checkpointed_bytes(&self) -> u64 {
        checkpoint_entries_bytes(self.windows_in_state(), 4)
    }

    fn heap_bytes(&self) -> u64 {
        self.windows_in_state() as u64 * WINDOW_BYTES
    }

    /// Keeps the windows, session sets and timers of the keys that pass `keep`.
    fn retain_keys(&mut self, keep: &dyn Fn(Value) -> bool) {
        self.state.retain(|(k, _), _| keep(*k));
        self.merging.retain(|k, _| keep(*k));
        self.timers.retain(|(k, _)| keep(k.0));
    }

    fn absorb(&mut self, other: WindowJoinOp) {
        self.state.extend(other.state);
        self.merging.extend(other.merging);
        self.timers.absorb(other.timers);
    }

    /// A window's pairs count as its firings; the windows still holding elements are open.
    fn window_report(&self) -> Option<WindowReport> {
        Some(WindowReport {
            fired: self.pairs,
            late_dropped: self.late_dropped,
            windows_left_open: self.windows_in_state() as u64,
            ..WindowReport::default()
        })
    }
}
