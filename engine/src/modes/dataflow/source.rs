//! The source subtasks of the pass-form job: what each still has to produce, and when.

use crate::core::time::{SimDuration, SimTime};
use crate::ops::batch::Batch;
use crate::sim::source::SourceState;

/// One source subtask and the records it still has to produce.
pub struct SourceRt {
    /// Logical node index.
    pub node: usize,
    /// Subtask.
    pub subtask: u32,
    /// The streaming simulator's source state (data, pacing, birth times).
    pub state: SourceState,
    /// Source CPU time per record, which paces a source without a `rate`.
    pub(super) cost: SimDuration,
    /// Fields per record.
    pub(super) arity: usize,
}

impl SourceRt {
    /// Records born at or before `t` that were not produced yet, at most `max`.
    pub fn take_until(&mut self, t: SimTime, max: usize) -> Batch {
        let mut out = Batch::new(self.arity);
        if self.state.pace.is_some() {
            self.state.fill(t, max, &mut out);
        } else {
            // No rate: the source reads as fast as its CPU allows, one record per source cost.
            while out.len() < max && !self.done() {
                let now = self.unpaced_next();
                if now > t {
                    break;
                }
                let n = (max - out.len()).min(512);
                self.state.fill(now, n, &mut out);
                if self.state.until.is_some_and(|u| now >= u) {
                    break;
                }
            }
        }
        // The streaming engine's watermark generator sees every record the source produces.
        for m in &out.meta {
            self.state.watermarks.observe(m.ts, m.born);
        }
        out
    }

    /// When a source without a rate produces its next record: one record per source cost,
    /// back to back from the start (saturating at the end of time).
    fn unpaced_next(&self) -> SimTime {
        SimTime::at(self.cost.times(self.state.emitted))
    }

    /// Whether every record has been produced.
    pub fn done(&self) -> bool {
        let next = match self.state.pace {
            Some(_) => self.state.next_due(),
            None => self.unpaced_next(),
        };
        self.state.total.is_some_and(|n| self.state.emitted >= n)
            || self.state.until.is_some_and(|u| next >= u)
    }

    /// When its next record is born (`None` when done).
    pub fn next_birth(&self) -> Option<SimTime> {
        if self.done() {
            return None;
        }
        Some(match self.state.pace {
            Some(_) => self.state.next_due(),
            None => self.unpaced_next(),
        })
    }
}
