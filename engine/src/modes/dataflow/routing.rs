//! Routing an operator's output: chained to the same subtask, or over a channel.

use super::Dataflow;
use crate::core::time::SimTime;
use crate::expr::eval::EvalCx;
use crate::ops::batch::Batch;

impl Dataflow {
    /// Sends records from subtask `st` of node `n` along its main or side outputs.
    pub(super) fn route(
        &mut self,
        n: usize,
        st: usize,
        side: bool,
        out: &Batch,
        times: &[SimTime],
        error: &mut Option<String>,
    ) {
        if out.is_empty() {
            return;
        }
        let from_v = self.nodes[n].vertex;
        let routes = if side {
            std::mem::take(&mut self.nodes[n].side_outs)
        } else {
            std::mem::take(&mut self.nodes[n].outs)
        };
        for r in &routes {
            let Some(w) = r.writer else {
                // chained: handed over to the same subtask, at once
                let p = &mut self.nodes[r.to].pending[st][r.port];
                p.batch.values.extend_from_slice(&out.values);
                p.batch.meta.extend_from_slice(&out.meta);
                p.at.extend_from_slice(&times[..out.len()]);
                continue;
            };
            for (i, &time) in times.iter().enumerate().take(out.len()) {
                let row = out.view().row(i);
                let meta = out.meta[i];
                let mut ev = EvalCx {
                    interner: &mut self.interner,
                    scratch: &mut self.scratch,
                    error,
                };
                let writer = &mut self.writers[from_v][st][w];
                let (first, copies) = match writer.select(row, &mut ev) {
                    Some(pos) => (pos as usize, 1),
                    None => (0, writer.channels.len()),
                };
                for c in first..first + copies {
                    let end = self.channels[self.writers[from_v][st][w].channels[c] as usize];
                    let p = &mut self.nodes[r.to].pending[end.subtask][r.port];
                    p.batch.values.extend_from_slice(row);
                    p.batch.meta.push(meta);
                    p.at.push(time + end.latency);
                }
            }
        }
        if side {
            self.nodes[n].side_outs = routes;
        } else {
            self.nodes[n].outs = routes;
        }
    }
}
