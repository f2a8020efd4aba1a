//! Event time in the pass-form job: the sources' watermark and the operators advancing to it.

use super::Dataflow;
use crate::core::time::{EventTime, SimTime};
use crate::expr::eval::EvalCx;
use crate::flink::valve::Valve;
use crate::ops::batch::Batch;

impl Dataflow {
    /// Event time advances to `wm` at subtask `st` of node `n`.
    pub(super) fn advance(
        &mut self,
        n: usize,
        st: usize,
        now: SimTime,
        now_ms: EventTime,
        wm: EventTime,
        error: &mut Option<String>,
    ) {
        let v = self.nodes[n].vertex;
        let end_of_input = self.batch_runtime && wm == crate::core::time::EventTime::MAX;
        if end_of_input {
            self.emit_finals(n, st, now, error);
        }
        let nr = &mut self.nodes[n];
        let op = &mut nr.inst[st];
        // Under the BATCH runtime processing time does not move timers during the job: they
        // all fire at the end of the input, after the event-time ones.
        let timers = !self.batch_runtime && op.next_processing_timer().is_some_and(|t| t <= now_ms);
        if !(timers || op.has_event_time() && wm > nr.watermark) {
            return;
        }
        let mut out = Batch::new(nr.arity);
        let mut side = Batch::new(nr.side_arity);
        let mut ev = EvalCx {
            interner: &mut self.interner,
            scratch: &mut self.scratch,
            error,
        };
        op.set_processing_time(now_ms);
        if timers {
            op.advance_processing_time(now_ms, &mut out, &mut side, &mut ev);
        }
        if op.has_event_time() && wm > nr.watermark {
            op.advance_watermark(wm, &mut out, &mut side, &mut ev);
            if end_of_input {
                op.fire_all_processing_timers(&mut out, &mut side, &mut ev);
            }
        }
        if let Some(f) = op.take_failure() {
            *ev.error = Some(f);
        }
        if error.is_some() || (out.is_empty() && side.is_empty()) {
            return;
        }
        let t = now.max(self.free[v][st]);
        let times = vec![t; out.len()];
        self.nodes[n].records_out[st] += out.len() as u64;
        self.route(n, st, false, &out, &times, error);
        if !side.is_empty() {
            // side output from timers (process functions' on_timer)
            let times = vec![t; side.len()];
            self.route(n, st, true, &side, &times, error);
        }
    }

    /// Flink's rule: the watermark the operators get is what a [`Valve`] over the source
    /// subtasks gives — the minimum over every active subtask's generator
    /// ([`crate::flink::watermark::Generator::current`]); a subtask that has produced all its
    /// records has sent the final watermark and no longer holds it back. `None` while a
    /// running subtask has no watermark yet (nothing produced, or a source without a
    /// strategy).
    pub fn source_watermark(&self) -> Option<EventTime> {
        if self.sources.is_empty() {
            return None;
        }
        let mut valve = Valve::new(self.sources.len());
        for (c, s) in self.sources.iter().enumerate() {
            let g = &s.state.watermarks;
            let wm = if s.done() {
                crate::core::time::EventTime::MAX
            } else {
                g.current()?
            };
            valve.watermark(c, wm);
            if g.is_idle() {
                valve.status(c, true);
            }
        }
        Some(valve.output)
    }

    /// Spark's rule (`spark.sql.streaming.multipleWatermarkPolicy = min`): per source (stream),
    /// the largest event time over all its partitions − bound, through each subtask's
    /// generator; over sources, the minimum. `None` while a source has no watermark yet.
    pub fn source_watermark_per_stream(&self) -> Option<EventTime> {
        let mut per_node: Vec<(usize, Option<EventTime>)> = Vec::new();
        for s in &self.sources {
            let w = s.state.watermarks.current();
            match per_node.iter_mut().find(|x| x.0 == s.node) {
                Some(x) => x.1 = x.1.max(w),
                None => per_node.push((s.node, w)),
            }
        }
        per_node
            .into_iter()
            .map(|(_, w)| w)
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .min()
    }
}
