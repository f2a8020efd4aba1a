//! The interval join — `a.keyBy(ka).intervalJoin(b.keyBy(kb)).between(lower, upper)`
//! (Flink's `IntervalJoinOperator`): each element is buffered per key and timestamp and
//! joined at once with the buffered elements of the other side whose timestamps lie in the
//! interval (`left.ts + lower <= right.ts <= left.ts + upper`); buffers are cleaned up when
//! the watermark passes the point where no future element can match; elements behind the
//! watermark are late and dropped. Results carry the larger of the two timestamps.
//!
//! The same operator runs Flink SQL's regular inner join ([`IntervalJoinOp::regular`]):
//! every element pairs with every buffered element of the other side with its key, the
//! buffers are never cleaned up (the state grows with the input, as Flink's `Join` without a
//! state TTL), elements need no timestamp and none is late.

use super::super::batch::{Batch, View};
use super::super::element::RecMeta;
use super::super::state::{OperatorState, checkpoint_entries_bytes, distinct_keys};
use super::super::timers::TimerQueue;
use super::{NO_TIMESTAMP, Pairing, Side};
use crate::core::time::EventTime;
use crate::core::value::{OrdValue, Value};
use crate::expr::eval::EvalCx;
use crate::report::WindowReport;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
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
    /// A regular join: no bounds, no cleanup, nothing late.
    regular: bool,
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
            watermark: EventTime::MIN,
            late_dropped: 0,
            pairs: 0,
            failure: None,
            regular: false,
        }
    }

    /// A regular inner join: pairs of equal keys whatever their timestamps, state kept.
    pub fn regular(pairing: Pairing) -> Self {
        IntervalJoinOp {
            regular: true,
            ..IntervalJoinOp::new(pairing, 0, 0)
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
            if self.regular {
                self.pair_and_buffer(input, row, meta, i as u32, ..=EventTime::MAX, out, ev);
                continue;
            }
            if ts == EventTime::MIN {
                self.failure.get_or_insert_with(|| NO_TIMESTAMP.into());
                return;
            }
            if self.watermark != EventTime::MIN && ts < self.watermark {
                self.late_dropped += 1;
                continue;
            }
            let range = ts.plus_millis(rel_lower)..=ts.plus_millis(rel_upper);
            let key = self.pair_and_buffer(input, row, meta, i as u32, range, out, ev);
            let cleanup = if rel_upper > 0 {
                ts.plus_millis(rel_upper)
            } else {
                ts
            };
            self.timers.register(cleanup, (OrdValue(key), input as u8));
        }
    }

    /// Pairs an element of input `input` with the other side's buffered elements of its key
    /// whose timestamps are in `range` (in timestamp order), then buffers it; gives its key.
    /// Outputs carry the larger timestamp and count the element (`parent`) as their parent.
    #[allow(clippy::too_many_arguments)]
    fn pair_and_buffer(
        &mut self,
        input: usize,
        row: &[Value],
        meta: RecMeta,
        parent: u32,
        range: impl std::ops::RangeBounds<EventTime>,
        out: &mut Batch,
        ev: &mut EvalCx<'_>,
    ) -> Value {
        let key = self.pairing.key(input, row, ev);
        let other = 1 - input;
        let arity = if other == 0 {
            self.pairing.left_arity
        } else {
            self.pairing.right_arity
        }
        .max(1);
        let matches: Vec<(Vec<Value>, RecMeta)> = self.buffers[other]
            .get(&key)
            .map(|buf| {
                buf.range(range)
                    .flat_map(|(_, s)| {
                        s.values
                            .chunks_exact(arity)
                            .zip(&s.meta)
                            .map(|(r, m)| (r.to_vec(), *m))
                    })
                    .collect()
            })
            .unwrap_or_default();
        for (orow, om) in matches {
            let m = RecMeta {
                ts: meta.ts.max(om.ts),
                born: meta.born.max(om.born),
            };
            let before = out.len();
            if input == 0 {
                self.pairing.emit(row, &orow, m, out, ev);
            } else {
                self.pairing.emit(&orow, row, m, out, ev);
            }
            // emit() numbers outputs as their own parents; these come from the input element
            out.parent[before] = parent;
            self.pairs += 1;
        }
        let side = self.buffers[input]
            .entry(key)
            .or_default()
            .entry(meta.ts)
            .or_default();
        side.values.extend_from_slice(row);
        side.meta.push(meta);
        key
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
                    t.minus_millis(self.upper)
                }
            } else if self.lower <= 0 {
                t.plus_millis(self.lower)
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

/// Keyed: both sides' buffered elements per key and timestamp, and cleanup timers.
impl OperatorState for IntervalJoinOp {
    fn is_keyed(&self) -> bool {
        true
    }

    fn keys(&self) -> u64 {
        distinct_keys(self.buffers.iter().flat_map(|b| b.keys().copied()))
    }

    fn checkpointed_bytes(&self) -> u64 {
        checkpoint_entries_bytes(self.buffered(), 4)
    }

    fn heap_bytes(&self) -> u64 {
        (self.buffered() * (4 * size_of::<Value>() + 32)) as u64
    }

    /// Keeps the buffered elements and timers of the keys that pass `keep`.
    fn retain_keys(&mut self, keep: &dyn Fn(Value) -> bool) {
        for b in &mut self.buffers {
            b.retain(|k, _| keep(*k));
        }
        self.timers.retain(|(k, _)| keep(k.0));
    }

    fn absorb(&mut self, other: IntervalJoinOp) {
        let [l, r] = other.buffers;
        self.buffers[0].extend(l);
        self.buffers[1].extend(r);
        self.timers.absorb(other.timers);
    }

    /// Pairs count as firings; the buffered elements as what is left open.
    fn window_report(&self) -> Option<WindowReport> {
        Some(WindowReport {
            fired: self.pairs,
            late_dropped: self.late_dropped,
            windows_left_open: self.buffered() as u64,
            ..WindowReport::default()
        })
    }
}
