//! The CEP pattern operator (Flink's `CepOperator` in event time) over the NFA of
//! [`crate::flink::cep`].
//!
//! Per key it keeps a queue of buffered elements by timestamp (`elementQueueState`) and the
//! NFA's partial matches (`computationStates`):
//! - an element with `timestamp <= currentWatermark` is **late**: with a late-data side
//!   output (`CEP.pattern(…).sideOutputLateData(tag)`, `late_output` in a scenario) it goes
//!   there as it came (counted as `late_side_output`), otherwise it is dropped (counted;
//!   Flink's `numLateRecordsDropped`);
//! - otherwise it is buffered and an event-time timer is registered at its timestamp;
//! - when the watermark passes timers (`onEventTime`), the key's buffered elements with
//!   `timestamp <= watermark` go to the NFA in timestamp order (elements of one timestamp in
//!   arrival order), each after `advanceTime(timestamp)`; then `advanceTime(watermark)`. A
//!   partial match started with `within` set registers a timer at `start + within`, so it
//!   times out even if no later element of its key arrives.
//!
//! Output, one row per match: `(key, start_ts, end_ts, events)` — the key, the timestamps of
//! the first and last event and the number of events — with the last event's timestamp (as
//! `CepOperator.processMatchedSequences`). Timed-out partial matches, if a `side_output` is
//! set, go there as the same four fields (events so far, `end_ts` the latest one's
//! timestamp) with the timestamp `start + within`; otherwise they are discarded, as Flink
//! does without a `TimedOutPartialMatchHandler`.
//!
//! State: everything above is in the operator (keyed by key, sorted), so a checkpoint's copy
//! and a rescale's key-group split carry buffered elements, partial matches and timers. The
//! watermark is not state: after a restore it starts again from `EventTime::MIN`, as Flink's
//! timer service's does.

use super::batch::{Batch, View};
use super::element::RecMeta;
use super::state::{OperatorState, checkpoint_entries_bytes};
use super::timers::TimerQueue;
use crate::core::time::{EventTime, SimTime};
use crate::core::value::{OrdValue, Value};
use crate::expr::Expr;
use crate::expr::eval::EvalCx;
use crate::flink::cep::{MatchSummary, Nfa, NfaState, PatternDef};
use std::collections::BTreeMap;

/// A buffered element: its fields and its birth.
#[derive(Debug, Clone)]
struct Buffered {
    row: Vec<Value>,
    born: SimTime,
}

/// One key's state.
#[derive(Debug, Clone, Default)]
struct KeyState {
    /// Elements waiting for the watermark, by timestamp (ms), arrival order within one.
    queue: BTreeMap<i64, Vec<Buffered>>,
    /// The NFA's partial matches.
    nfa: NfaState,
    /// Birth of the latest element given to the NFA: what a timeout row is "created" from.
    last_born: SimTime,
}

/// A pattern operator subtask.
#[derive(Debug, Clone)]
pub struct PatternOp {
    key: Expr,
    /// Per step, its condition over the input record.
    conditions: Vec<Expr>,
    def: PatternDef,
    /// `def` compiled into Flink's state graph.
    nfa: Nfa,
    keys: BTreeMap<OrdValue, KeyState>,
    timers: TimerQueue<OrdValue>,
    /// Whether timed-out partial matches go to the side output.
    timeouts_to_side: bool,
    /// Whether late elements go to the side output (`sideOutputLateData`).
    late_to_side: bool,
    /// The operator's watermark.
    pub watermark: EventTime,
    /// Matches emitted.
    pub matches: u64,
    /// Partial matches timed out.
    pub timed_out: u64,
    /// Late elements dropped.
    pub late_dropped: u64,
    /// Late elements sent to the side output.
    pub late_side_output: u64,
}

impl PatternOp {
    /// An operator matching `def` (one condition per step) on the stream keyed by `key`.
    pub fn new(key: Expr, conditions: Vec<Expr>, def: PatternDef, timeouts_to_side: bool) -> Self {
        PatternOp {
            key,
            conditions,
            nfa: Nfa::compile(&def),
            def,
            keys: BTreeMap::new(),
            timers: TimerQueue::default(),
            timeouts_to_side,
            late_to_side: false,
            watermark: EventTime::MIN,
            matches: 0,
            timed_out: 0,
            late_dropped: 0,
            late_side_output: 0,
        }
    }

    /// The same operator sending late elements to its side output instead of dropping them
    /// (Flink's `PatternStream.sideOutputLateData`; the side output then carries late
    /// elements, not timeouts).
    pub fn with_late_side_output(mut self, late_to_side: bool) -> Self {
        self.late_to_side = late_to_side;
        self
    }

    /// Buffers the batch's elements; late ones go to `side` (with a late-data side output)
    /// or are dropped. Emits no match.
    pub fn process(&mut self, input: View<'_>, side: &mut Batch, ev: &mut EvalCx<'_>) {
        for i in 0..input.len() {
            let row = input.row(i);
            let meta = input.meta[i];
            if meta.ts <= self.watermark {
                if self.late_to_side {
                    side.push(row, meta, i as u32);
                    self.late_side_output += 1;
                } else {
                    self.late_dropped += 1;
                }
                continue;
            }
            let key = match self.key.as_field() {
                Some(f) => row[f],
                None => self.key.eval(row, &[], ev),
            };
            let ts = meta.ts.as_millis();
            let ks = self.keys.entry(OrdValue(key)).or_default();
            let at = ks.queue.entry(ts).or_default();
            if at.is_empty() {
                self.timers.register(meta.ts, OrdValue(key));
            }
            at.push(Buffered {
                row: row.to_vec(),
                born: meta.born,
            });
        }
    }

    /// The watermark advanced to `wm`: runs the keys whose timers are due.
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
        while let Some((_, OrdValue(key))) = self.timers.pop_due(wm) {
            self.on_event_time(key, out, side, ev);
        }
    }

    /// `CepOperator.onEventTime` for `key`.
    fn on_event_time(
        &mut self,
        key: Value,
        out: &mut Batch,
        side: &mut Batch,
        ev: &mut EvalCx<'_>,
    ) {
        let wm = self.watermark.as_millis();
        let Some(mut ks) = self.keys.remove(&OrdValue(key)) else {
            return;
        };
        while let Some(entry) = ks.queue.first_entry() {
            if *entry.key() > wm {
                break;
            }
            let (ts, elements) = entry.remove_entry();
            self.advance_time(key, &mut ks, ts, out, side);
            for e in elements {
                ks.last_born = e.born;
                let conditions = &self.conditions;
                let processed = ks.nfa.process(&self.nfa, ts, &mut |i| {
                    conditions[i].eval(&e.row, &[], ev).as_bool()
                });
                if processed.started
                    && let Some(w) = self.def.within
                {
                    self.timers
                        .register(EventTime::from_millis(ts.saturating_add(w)), OrdValue(key));
                }
                self.emit_matches(key, processed.matches, ts, e.born, out);
            }
        }
        self.advance_time(key, &mut ks, wm, out, side);
        if !ks.queue.is_empty() || !ks.nfa.is_empty() {
            // (a key without state is dropped; its event numbering restarts, which changes
            // no comparison: none of its partial matches is left)
            self.keys.insert(OrdValue(key), ks);
        }
    }

    /// `CepOperator.advanceTime`: matches the NFA frees at `ts` (held back by a skip
    /// strategy, or a pending `not_followed_by`) are emitted with the timestamp `ts`, then the
    /// timed-out partial matches.
    fn advance_time(
        &mut self,
        key: Value,
        ks: &mut KeyState,
        ts: i64,
        out: &mut Batch,
        side: &mut Batch,
    ) {
        let advanced = ks.nfa.advance_time(&self.nfa, ts);
        self.emit_matches(key, advanced.matches, ts, ks.last_born, out);
        self.emit_timeouts(key, advanced.timeouts, ks.last_born, out, side);
    }

    /// Matches to the main output with the timestamp `ts` (`processMatchedSequences`).
    fn emit_matches(
        &mut self,
        key: Value,
        matches: Vec<MatchSummary>,
        ts: i64,
        born: SimTime,
        out: &mut Batch,
    ) {
        let meta = RecMeta {
            ts: EventTime::from_millis(ts),
            born,
        };
        for m in matches {
            self.matches += 1;
            let parent = out.len() as u32;
            out.push(&row(key, &m), meta, parent);
        }
    }

    fn emit_timeouts(
        &mut self,
        key: Value,
        timed_out: Vec<(MatchSummary, i64)>,
        born: SimTime,
        out: &Batch,
        side: &mut Batch,
    ) {
        for (m, at) in timed_out {
            self.timed_out += 1;
            if self.timeouts_to_side {
                let meta = RecMeta {
                    ts: EventTime::from_millis(at),
                    born,
                };
                // a timeout's row takes the place of the next main row
                side.push(&row(key, &m), meta, out.len() as u32);
            }
        }
    }

    /// Elements buffered and partial matches held, over all keys.
    fn entries(&self) -> (usize, usize) {
        self.keys.values().fold((0, 0), |(e, p), k| {
            (
                e + k.queue.values().map(Vec::len).sum::<usize>(),
                p + k.nfa.partial.len() + k.nfa.held.len(),
            )
        })
    }
}

/// The output row of a match or timeout.
fn row(key: Value, m: &MatchSummary) -> [Value; 4] {
    [
        key,
        Value::Int(m.start_ts),
        Value::Int(m.end_ts),
        Value::Int(m.events as i64),
    ]
}

/// Keyed: buffered elements, partial matches and timers per key.
impl OperatorState for PatternOp {
    fn is_keyed(&self) -> bool {
        true
    }

    fn keys(&self) -> u64 {
        self.keys.len() as u64
    }

    /// A buffered element: its fields and its timestamp; a partial match: key and six
    /// fields.
    fn checkpointed_bytes(&self) -> u64 {
        let (elements, partial) = self.entries();
        let arity = self
            .keys
            .values()
            .flat_map(|k| k.queue.values().flatten())
            .map(|b| b.row.len())
            .next()
            .unwrap_or(0);
        checkpoint_entries_bytes(elements, arity + 1) + checkpoint_entries_bytes(partial, 7)
    }

    fn heap_bytes(&self) -> u64 {
        let (elements, partial) = self.entries();
        (elements * 96 + partial * 64 + self.keys.len() * 96) as u64
    }

    /// The copy a checkpoint keeps: all of the state, but not the watermark — Flink's timer
    /// service restores its timers and starts its watermark again at `Long.MIN_VALUE`, so
    /// after a restore nothing is late until the first watermark arrives.
    fn snapshot_state(&mut self) -> Self {
        PatternOp {
            watermark: EventTime::MIN,
            ..self.clone()
        }
    }

    fn retain_keys(&mut self, keep: &dyn Fn(Value) -> bool) {
        self.keys.retain(|k, _| keep(k.0));
        self.timers.retain(|k| keep(k.0));
    }

    /// Late elements dropped, as a window operator reports its own (`late_dropped`); a
    /// pattern fires no windows.
    fn window_report(&self) -> Option<crate::report::WindowReport> {
        Some(crate::report::WindowReport {
            late_dropped: self.late_dropped,
            late_side_output: self.late_side_output,
            ..Default::default()
        })
    }

    fn absorb(&mut self, other: PatternOp) {
        self.keys.extend(other.keys);
        self.timers.absorb(other.timers);
        self.matches += other.matches;
        self.timed_out += other.timed_out;
        self.late_dropped += other.late_dropped;
        self.late_side_output += other.late_side_output;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::value::{Interner, Schema, Type};
    use crate::expr::{Scope, compile};
    use crate::flink::cep::{Contiguity, SkipStrategy, Step};

    /// `begin(fail).where(!ok).times(3).within(10 ms)` keyed by `user`.
    fn op(i: &mut Interner, side: bool) -> PatternOp {
        let s = Schema::new([("user", Type::Int), ("ok", Type::Bool)]);
        let key = compile("user", &Scope::Record(&s), i).unwrap();
        let cond = compile("not ok", &Scope::Record(&s), i).unwrap();
        let def = PatternDef {
            steps: vec![Step {
                name: "fail".into(),
                contiguity: Contiguity::Relaxed,
                times: 3,
                max: Some(3),
                inner: Contiguity::Relaxed,
                ..Step::default()
            }],
            within: Some(10),
            skip: SkipStrategy::SkipPastLastEvent,
        };
        PatternOp::new(key, vec![cond], def, side)
    }

    fn feed(op: &mut PatternOp, i: &mut Interner, rows: &[(i64, bool, i64)]) {
        let mut b = Batch::new(2);
        for &(user, ok, ts) in rows {
            let meta = RecMeta {
                ts: EventTime::from_millis(ts),
                born: SimTime::ZERO,
            };
            b.push(&[Value::Int(user), Value::Bool(ok)], meta, 0);
        }
        let (mut scratch, mut error) = (String::new(), None);
        let mut ev = EvalCx {
            interner: i,
            scratch: &mut scratch,
            error: &mut error,
        };
        let mut side = Batch::new(2);
        op.process(b.view(), &mut side, &mut ev);
    }

    fn watermark(op: &mut PatternOp, i: &mut Interner, wm: i64) -> (Vec<Vec<i64>>, Vec<Vec<i64>>) {
        let (mut out, mut side) = (Batch::new(4), Batch::new(4));
        let (mut scratch, mut error) = (String::new(), None);
        let mut ev = EvalCx {
            interner: i,
            scratch: &mut scratch,
            error: &mut error,
        };
        op.advance_watermark(EventTime::from_millis(wm), &mut out, &mut side, &mut ev);
        let rows = |b: &Batch| {
            (0..b.len())
                .map(|r| b.view().row(r).iter().map(Value::as_int).collect())
                .collect()
        };
        (rows(&out), rows(&side))
    }

    #[test]
    fn elements_wait_for_the_watermark_and_are_sorted_by_timestamp() {
        let mut i = Interner::new();
        let mut p = op(&mut i, true);
        // out of order: 3 arrives before 2; a success at 4 is ignored (relaxed)
        feed(
            &mut p,
            &mut i,
            &[(7, false, 1), (7, false, 3), (7, true, 4), (7, false, 2)],
        );
        let (m, _) = watermark(&mut p, &mut i, 1);
        assert!(m.is_empty(), "nothing complete at watermark 1");
        let (m, _) = watermark(&mut p, &mut i, 5);
        assert_eq!(m, vec![vec![7, 1, 3, 3]]);
    }

    #[test]
    fn late_elements_are_dropped_and_counted() {
        let mut i = Interner::new();
        let mut p = op(&mut i, true);
        watermark(&mut p, &mut i, 5);
        feed(&mut p, &mut i, &[(7, false, 5), (7, false, 6)]);
        assert_eq!(p.late_dropped, 1, "timestamp == watermark is late");
        assert_eq!(p.entries(), (1, 0));
    }

    #[test]
    fn a_partial_match_times_out_to_the_side_output_when_the_watermark_passes() {
        let mut i = Interner::new();
        let mut p = op(&mut i, true);
        feed(&mut p, &mut i, &[(1, false, 100), (1, false, 104)]);
        let (m, side) = watermark(&mut p, &mut i, 105);
        assert!(m.is_empty() && side.is_empty());
        let (_, side) = watermark(&mut p, &mut i, 110);
        assert_eq!(side, vec![vec![1, 100, 104, 2]], "at 100 + 10");
        let (_, side) = watermark(&mut p, &mut i, 114);
        assert_eq!(side, vec![vec![1, 104, 104, 1]]);
        assert_eq!(p.keys(), 0, "no state left");
        let mut q = op(&mut i, false);
        feed(&mut q, &mut i, &[(1, false, 100)]);
        let (_, side) = watermark(&mut q, &mut i, 200);
        assert!(side.is_empty(), "without a side output, discarded");
        assert_eq!(q.timed_out, 1);
    }

    #[test]
    fn a_snapshot_restores_buffered_elements_and_partial_matches() {
        let mut i = Interner::new();
        let mut p = op(&mut i, true);
        feed(&mut p, &mut i, &[(1, false, 1), (1, false, 2)]);
        watermark(&mut p, &mut i, 1);
        let mut copy = p.snapshot_state();
        assert_eq!(copy.entries(), (1, 1), "one buffered, one partial match");
        assert_eq!(copy.watermark, EventTime::MIN, "the watermark starts again");
        feed(&mut copy, &mut i, &[(1, false, 3)]);
        let (m, _) = watermark(&mut copy, &mut i, 3);
        assert_eq!(m, vec![vec![1, 1, 3, 3]]);
    }

    #[test]
    fn a_rescale_keeps_the_keys_of_its_range() {
        let mut i = Interner::new();
        let mut p = op(&mut i, true);
        feed(&mut p, &mut i, &[(1, false, 1), (2, false, 1)]);
        let mut old = p.clone();
        old.retain_keys(&|k| k.as_int() == 2);
        let mut new = op(&mut i, true);
        new.absorb(old);
        assert_eq!(new.keys(), 1);
        feed(&mut new, &mut i, &[(2, false, 2), (2, false, 3)]);
        let (m, _) = watermark(&mut new, &mut i, 3);
        assert_eq!(m, vec![vec![2, 1, 3, 3]], "the timer moved with the key");
    }
}
