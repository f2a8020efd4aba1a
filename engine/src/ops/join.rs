//! Joins of two keyed streams.
//!
//! * [`WindowJoinOp`] — `a.join(b).where(ka).equalTo(kb).window(…)`: elements of both sides are
//!   collected per key and window; when the watermark passes the window's end every left
//!   element is paired with every right element (Flink runs it as a co-group: left outer
//!   loop, right inner loop), and the window's state is dropped. Elements whose windows have
//!   all ended are late and dropped. Session windows merge across both sides, as in Flink
//!   (whose co-group runs a `WindowOperator` over the union of the two inputs): a merged
//!   session's elements join when the watermark passes its end.
//! * [`IntervalJoinOp`] — `a.keyBy(ka).intervalJoin(b.keyBy(kb)).between(lower, upper)`
//!   (Flink's `IntervalJoinOperator`): each element is buffered per key and timestamp and
//!   joined at once with the buffered elements of the other side whose timestamps lie in the
//!   interval (`left.ts + lower <= right.ts <= left.ts + upper`); buffers are cleaned up when
//!   the watermark passes the point where no future element can match; elements behind the
//!   watermark are late and dropped. Results carry the larger of the two timestamps.

use super::batch::{Batch, View};
use super::timers::TimerQueue;
use crate::core::time::{EVENT_TIME_MIN, EventTime};
use crate::core::value::{OrdValue, Value};
use crate::expr::Expr;
use crate::expr::eval::EvalCx;
use crate::flink::window::merging::MergingWindowSet;
use crate::flink::window::{Assigner, Window};
use crate::sim::buffer::RecMeta;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

const NO_TIMESTAMP: &str = "java.lang.RuntimeException: Record has Long.MIN_VALUE timestamp (= no timestamp marker). \
     Is the time characteristic set to 'ProcessingTime', or did you forget to call 'DataStream.assignTimestampsAndWatermarks(...)'?";

/// How a pair becomes an output record.
#[derive(Debug, Clone)]
pub struct Pairing {
    /// Key of the left input.
    pub left_key: Expr,
    /// Key of the right input.
    pub right_key: Expr,
    /// Output expressions over `left.*` and `right.*`; `None`: all fields of both.
    pub select: Option<Vec<Expr>>,
    /// Fields of a left record.
    pub left_arity: usize,
    /// Fields of a right record.
    pub right_arity: usize,
    scratch: Vec<Value>,
}

impl Pairing {
    /// A pairing.
    pub fn new(
        left_key: Expr,
        right_key: Expr,
        select: Option<Vec<Expr>>,
        left_arity: usize,
        right_arity: usize,
    ) -> Self {
        Pairing {
            left_key,
            right_key,
            select,
            left_arity,
            right_arity,
            scratch: Vec::new(),
        }
    }

    fn key(&self, input: usize, row: &[Value], ev: &mut EvalCx<'_>) -> Value {
        let k = if input == 0 {
            &self.left_key
        } else {
            &self.right_key
        };
        match k.as_field() {
            Some(i) => row[i],
            None => k.eval(row, &[], ev),
        }
    }

    fn emit(
        &mut self,
        l: &[Value],
        r: &[Value],
        meta: RecMeta,
        out: &mut Batch,
        ev: &mut EvalCx<'_>,
    ) {
        self.scratch.clear();
        match &self.select {
            Some(exprs) => {
                for e in exprs {
                    self.scratch.push(e.eval(l, r, ev));
                }
            }
            None => {
                self.scratch.extend_from_slice(l);
                self.scratch.extend_from_slice(r);
            }
        }
        let parent = out.len() as u32;
        out.push(&self.scratch, meta, parent);
    }
}

/// Elements of one side: fields (flat) and metadata.
#[derive(Debug, Default, Clone)]
struct Side {
    values: Vec<Value>,
    meta: Vec<RecMeta>,
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
}

impl WindowJoinOp {
    /// A window join with empty state; `gaps` are the dynamic session gaps of the left and
    /// right records.
    pub fn new(pairing: Pairing, assigner: Assigner, gaps: Option<[Expr; 2]>) -> Self {
        WindowJoinOp {
            pairing,
            assigner,
            gaps,
            state: FxHashMap::default(),
            merging: FxHashMap::default(),
            timers: TimerQueue::default(),
            windows: Vec::new(),
            watermark: EVENT_TIME_MIN,
            late_dropped: 0,
            pairs: 0,
            failure: None,
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
            if meta.ts == EVENT_TIME_MIN {
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
                            if m.mapping.is_empty() {
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
                if set.mapping.is_empty() {
                    self.merging.remove(&key);
                }
                sw
            } else {
                w
            };
            let Some([l, r]) = self.state.remove(&(key, state_window)) else {
                continue;
            };
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

    /// Rescaling: keeps the windows, session sets and timers of the keys that pass `keep`.
    pub fn retain_keys(&mut self, keep: &dyn Fn(Value) -> bool) {
        self.state.retain(|(k, _), _| keep(*k));
        self.merging.retain(|k, _| keep(*k));
        self.timers.retain(|(k, _)| keep(k.0));
    }

    /// Rescaling: adds the keyed state and timers of `other`.
    pub fn absorb(&mut self, other: WindowJoinOp) {
        self.state.extend(other.state);
        self.merging.extend(other.merging);
        self.timers.absorb(other.timers);
    }

    /// Rescaling: keys holding state.
    pub fn keys_in_state(&self) -> usize {
        let mut k: Vec<Value> = self.state.keys().map(|(k, _)| *k).collect();
        k.sort_unstable_by_key(|v| OrdValue(*v));
        k.dedup();
        k.len()
    }

    /// Windows holding elements.
    pub fn windows_in_state(&self) -> usize {
        self.state.len()
    }
}

/// Buffered elements of one side: key → timestamp → elements.
type Buffer = FxHashMap<Value, BTreeMap<EventTime, Side>>;

/// An interval join subtask.
#[derive(Debug, Clone)]
pub struct IntervalJoinOp {
    pairing: Pairing,
    lower: i64,
    upper: i64,
    buffers: [Buffer; 2],
    timers: TimerQueue<(OrdValue, u8)>,
    /// The operator's watermark.
    pub watermark: EventTime,
    /// Late elements dropped.
    pub late_dropped: u64,
    /// Pairs emitted.
    pub pairs: u64,
    /// A failure to report.
    pub failure: Option<String>,
}

impl IntervalJoinOp {
    /// An interval join with empty buffers.
    pub fn new(pairing: Pairing, lower: i64, upper: i64) -> Self {
        IntervalJoinOp {
            pairing,
            lower,
            upper,
            buffers: [Buffer::default(), Buffer::default()],
            timers: TimerQueue::default(),
            watermark: EVENT_TIME_MIN,
            late_dropped: 0,
            pairs: 0,
            failure: None,
        }
    }

    /// Joins elements of input `input` with the other side's buffer, then buffers them.
    pub fn process(&mut self, input: usize, view: View<'_>, out: &mut Batch, ev: &mut EvalCx<'_>) {
        if self.failure.is_some() {
            return;
        }
        let (rel_lower, rel_upper) = if input == 0 {
            (self.lower, self.upper)
        } else {
            (-self.upper, -self.lower)
        };
        for i in 0..view.len() {
            let row = view.row(i);
            let meta = view.meta[i];
            let ts = meta.ts;
            if ts == EVENT_TIME_MIN {
                self.failure.get_or_insert_with(|| NO_TIMESTAMP.into());
                return;
            }
            if self.watermark != EVENT_TIME_MIN && ts < self.watermark {
                self.late_dropped += 1;
                continue;
            }
            let key = self.pairing.key(input, row, ev);
            let side = self.buffers[input]
                .entry(key)
                .or_default()
                .entry(ts)
                .or_default();
            side.values.extend_from_slice(row);
            side.meta.push(meta);
            // Matches in the other buffer, in timestamp order.
            let other = 1 - input;
            let arity = if other == 0 {
                self.pairing.left_arity
            } else {
                self.pairing.right_arity
            }
            .max(1);
            if let Some(buf) = self.buffers[other].get(&key) {
                let lo = ts.saturating_add(rel_lower);
                let hi = ts.saturating_add(rel_upper);
                let matches: Vec<(Vec<Value>, RecMeta)> = buf
                    .range(lo..=hi)
                    .flat_map(|(_, s)| {
                        s.values
                            .chunks_exact(arity)
                            .zip(&s.meta)
                            .map(|(r, m)| (r.to_vec(), *m))
                    })
                    .collect();
                for (orow, om) in matches {
                    let meta = RecMeta {
                        ts: ts.max(om.ts),
                        born: meta.born.max(om.born),
                    };
                    let parent = i as u32;
                    let before = out.len();
                    if input == 0 {
                        self.pairing.emit(row, &orow, meta, out, ev);
                    } else {
                        self.pairing.emit(&orow, row, meta, out, ev);
                    }
                    // emit() numbers outputs as their own parents; these come from input i
                    out.parent[before] = parent;
                    self.pairs += 1;
                }
            }
            let cleanup = if rel_upper > 0 {
                ts.saturating_add(rel_upper)
            } else {
                ts
            };
            self.timers.register(cleanup, (OrdValue(key), input as u8));
        }
    }

    /// Advances event time and drops buffered elements that can no longer match.
    pub fn advance_watermark(&mut self, wm: EventTime) {
        if wm <= self.watermark {
            return;
        }
        self.watermark = wm;
        while let Some((t, (OrdValue(key), side))) = self.timers.pop_due(wm) {
            let ts = if side == 0 {
                if self.upper <= 0 {
                    t
                } else {
                    t.saturating_sub(self.upper)
                }
            } else if self.lower <= 0 {
                t.saturating_add(self.lower)
            } else {
                t
            };
            if let Some(buf) = self.buffers[side as usize].get_mut(&key) {
                buf.remove(&ts);
                if buf.is_empty() {
                    self.buffers[side as usize].remove(&key);
                }
            }
        }
    }

    /// Rescaling: keeps the buffered elements and timers of the keys that pass `keep`.
    pub fn retain_keys(&mut self, keep: &dyn Fn(Value) -> bool) {
        for b in &mut self.buffers {
            b.retain(|k, _| keep(*k));
        }
        self.timers.retain(|(k, _)| keep(k.0));
    }

    /// Rescaling: adds the buffered elements and timers of `other`.
    pub fn absorb(&mut self, other: IntervalJoinOp) {
        let [l, r] = other.buffers;
        self.buffers[0].extend(l);
        self.buffers[1].extend(r);
        self.timers.absorb(other.timers);
    }

    /// Rescaling: keys holding state.
    pub fn keys_in_state(&self) -> usize {
        let mut k: Vec<Value> = self
            .buffers
            .iter()
            .flat_map(|b| b.keys().copied())
            .collect();
        k.sort_unstable_by_key(|v| OrdValue(*v));
        k.dedup();
        k.len()
    }

    /// Elements held in the buffers.
    pub fn buffered(&self) -> usize {
        self.buffers
            .iter()
            .flat_map(|b| b.values())
            .flat_map(|m| m.values())
            .map(|s| s.meta.len())
            .sum()
    }
}
