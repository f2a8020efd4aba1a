//! One pass: every subtask processes the records waiting for it, on its thread's clock.

use super::{Dataflow, Exchange, Pending};
use crate::core::time::{EventTime, SimDuration, SimTime};
use crate::core::value::Value;
use crate::expr::eval::EvalCx;
use crate::ops::Operator;
use crate::ops::batch::Batch;

impl Dataflow {
    /// Runs one pass at processing time `now`: every operator processes what waits for it;
    /// with `watermark`, event-time operators then advance to it (after processing what
    /// their inputs fired). Returns the operators' new watermark if it advanced.
    pub fn pass(&mut self, now: SimTime, watermark: Option<EventTime>) {
        if self.failure.is_some() {
            return;
        }
        let order = self.order.clone();
        self.pass_done = SimTime::ZERO;
        self.pass_records = 0;
        let mut error: Option<String> = None;
        let now_ms = now.as_event_time();
        for &n in &order {
            let par = self.nodes[n].inst.len();
            for st in 0..par {
                let v = self.nodes[n].vertex;
                // A blocking exchange: a chain head fed over the network waits for its
                // upstream chains to finish the pass.
                let barrier = if self.exchange == Exchange::Blocking && self.nodes[n].network_in {
                    self.upstream[v]
                        .iter()
                        .flat_map(|&u| self.free[u].iter())
                        .copied()
                        .max()
                        .unwrap_or(SimTime::ZERO)
                } else {
                    SimTime::ZERO
                };
                let ports = self.nodes[n].pending[st].len();
                for port in 0..ports {
                    if self.nodes[n].pending[st][port].at.is_empty() || error.is_some() {
                        continue;
                    }
                    let arity = self.nodes[n].pending[st][port].batch.arity;
                    let pend = std::mem::replace(
                        &mut self.nodes[n].pending[st][port],
                        Pending {
                            batch: Batch::new(arity),
                            at: Vec::new(),
                        },
                    );
                    self.process(n, st, port, pend, barrier, &mut error);
                }
                if let Some(wm) = watermark
                    && error.is_none()
                {
                    self.advance(n, st, now, now_ms, wm, &mut error);
                }
                if error.is_some() {
                    break;
                }
            }
            if let Some(wm) = watermark {
                let nr = &mut self.nodes[n];
                nr.watermark = nr.watermark.max(wm);
            }
            if let Some(e) = error.take() {
                self.failure = Some(format!("operator `{}` failed: {e}", self.nodes[n].name));
                return;
            }
        }
        if let Some(wm) = watermark
            && wm != crate::core::time::EventTime::MAX
            && self.trail.last().is_none_or(|&(_, w)| wm > w)
        {
            self.trail.push((now, wm));
        }
    }

    /// One subtask processes a batch of waiting records.
    fn process(
        &mut self,
        n: usize,
        st: usize,
        port: usize,
        pend: Pending,
        barrier: SimTime,
        error: &mut Option<String>,
    ) {
        let pend = in_arrival_order(pend);
        let len = pend.at.len();
        self.nodes[n].records_in[st] += len as u64;
        let done = self.occupy_thread(n, st, &pend.at, barrier);
        let free = self.free[self.nodes[n].vertex][st];
        let nr = &mut self.nodes[n];
        if nr.is_sink {
            let arr = &mut nr.arrivals[st];
            arr.batch.values.extend_from_slice(&pend.batch.values);
            arr.batch.meta.extend_from_slice(&pend.batch.meta);
            arr.at.extend_from_slice(&done);
            return;
        }
        // BATCH runtime: the key of every row a keyed reduce emits, read from its input row
        // (the aggregate may have changed a field the key is made of)
        let (out, side, reduce_keys) = if nr.is_source {
            let mut out = pend.batch;
            out.parent = (0..len as u32).collect();
            (out, Batch::new(nr.side_arity), None)
        } else {
            self.call_operator(n, st, port, &pend, error)
        };
        if error.is_some() {
            return;
        }
        if let Some(keys) = reduce_keys {
            self.keep_finals(n, st, &keys, &out);
            return;
        }
        let t_out: Vec<SimTime> = out
            .parent
            .iter()
            .map(|&i| done.get(i as usize).copied().unwrap_or(free))
            .collect();
        let t_side: Vec<SimTime> = side
            .parent
            .iter()
            .map(|&i| done.get(i as usize).copied().unwrap_or(free))
            .collect();
        self.nodes[n].records_out[st] += out.len() as u64;
        self.route(n, st, false, &out, &t_out, error);
        self.route(n, st, true, &side, &t_side, error);
    }

    /// The chain subtask's thread takes records arriving at `at` one after another, each
    /// starting at `max(arrival, free, barrier)` (`barrier`: when a blocking exchange lets it
    /// start) and costing the operator's per-record time, plus deserialization when it came
    /// over the network and serialization per copy a network output writes (every channel of
    /// a BROADCAST), as the streaming engine charges it. Updates the thread's `free`, `busy`
    /// and the pass's counters; returns when each record is done.
    fn occupy_thread(
        &mut self,
        n: usize,
        st: usize,
        at: &[SimTime],
        barrier: SimTime,
    ) -> Vec<SimTime> {
        let nr = &self.nodes[n];
        let v = nr.vertex;
        let len = at.len();
        let copies: u64 = nr
            .outs
            .iter()
            .filter_map(|r| r.writer)
            .map(|w| {
                let wr = &self.writers[v][st][w];
                wr.partitioner.copies(wr.channels.len()) as u64
            })
            .sum();
        let deser = if nr.network_in {
            self.deser
        } else {
            SimDuration::ZERO
        };
        let per = nr.cost + deser + self.ser * copies;
        let mut free = self.free[v][st];
        let mut done = Vec::with_capacity(len);
        for (i, &a) in at.iter().enumerate() {
            let start = a.max(free).max(barrier);
            if i == 0 {
                self.first_start[v] = self.first_start[v].min(start);
            }
            free = start + per;
            done.push(free);
        }
        self.free[v][st] = free;
        self.busy[v][st] += per * len as u64;
        self.pass_done = self.pass_done.max(free);
        self.pass_records += len as u64;
        done
    }

    /// Hands the waiting records to the subtask's operator instance, at the processing time
    /// of the first arrival; returns what it emitted (main and side output; a failure goes to
    /// `error`) and, under the BATCH runtime, a keyed reduce's output keys, read from the
    /// input row behind each output row.
    fn call_operator(
        &mut self,
        n: usize,
        st: usize,
        port: usize,
        pend: &Pending,
        error: &mut Option<String>,
    ) -> (Batch, Batch, Option<Vec<Value>>) {
        let nr = &mut self.nodes[n];
        let mut out = Batch::new(nr.arity);
        let mut side = Batch::new(nr.side_arity);
        let mut ev = EvalCx {
            interner: &mut self.interner,
            scratch: &mut self.scratch,
            error,
        };
        let op = &mut nr.inst[st];
        op.set_processing_time(
            pend.at
                .first()
                .copied()
                .unwrap_or(SimTime::ZERO)
                .as_event_time(),
        );
        op.process(port, pend.batch.view(), &mut out, &mut side, &mut ev);
        if let Some(f) = op.take_failure() {
            *ev.error = Some(f);
        }
        if self.batch_runtime
            && let Operator::Reduce(r) = op
        {
            let input = pend.batch.view();
            let keys = out
                .parent
                .iter()
                .map(|&i| r.key.eval(input.row(i as usize), &[], &mut ev))
                .collect();
            return (out, side, Some(keys));
        }
        (out, side, None)
    }
}

/// Records from several senders are taken in the order they arrived (a stable sort by
/// arrival time; already-sorted queues are kept as they are).
fn in_arrival_order(pend: Pending) -> Pending {
    if pend.at.is_sorted() {
        return pend;
    }
    let mut idx: Vec<usize> = (0..pend.at.len()).collect();
    idx.sort_by_key(|&i| pend.at[i]);
    let mut batch = Batch::new(pend.batch.arity);
    let view = pend.batch.view();
    for &i in &idx {
        batch.push(view.row(i), view.meta[i], 0);
    }
    let at = idx.iter().map(|&i| pend.at[i]).collect();
    Pending { batch, at }
}
