//! The `[limits]` of a run, all checked here before each event: `max_events` (counting the
//! timers fired inside events), `max_sim_time`, `max_records`, and `max_memory` against the
//! two estimates of [`super::memory`] — the detailed one every [`memory::check_every`]
//! events, the footprint the progress line shows every [`CHECK_EVERY`] events. Whichever
//! limit is passed first stops the run with `LIMIT_REACHED` and says which.
//!
//! The checks that walk the tasks and channels run every so many events, so that their cost
//! spread over the events is a few instructions each.

use super::memory::{self, Held};
use crate::core::cost::{Limits, human_bytes};
use crate::core::time::SimTime;

/// Events between two checks of `max_records` (and progress calls). An event may move
/// hundreds of records, so checks are frequent; each one sums the sources' counters.
pub const CHECK_EVERY: u64 = 1 << 10;

/// How far a run has got, for a progress line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Simulated time so far.
    pub sim_time: SimTime,
    /// Events processed.
    pub events: u64,
    /// Records the sources have produced.
    pub records: u64,
    /// The estimated memory of the run, in bytes.
    pub memory_bytes: u64,
}

/// The checks' memory between events.
#[derive(Debug, Clone, Default)]
pub struct Watch {
    /// Events between two detailed memory checks (set when the run starts).
    pub check_memory: u64,
    /// The last footprint computed.
    last_footprint: u64,
}

impl Watch {
    /// Checks the limits before event number `events` (with `work` units done inside events
    /// so far) at `t`, for a run that holds `held`; reports progress. `Some(why)` stops the
    /// run.
    pub fn before_event(
        &mut self,
        limits: &Limits,
        (events, work): (u64, u64),
        t: SimTime,
        held: &Held<'_>,
        progress: &mut Option<&mut dyn FnMut(&Progress)>,
    ) -> Option<String> {
        if events + work > limits.max_events {
            return Some(format!(
                "the run processed {} events, counting the timers fired inside them (limits.max_events); raise it in [limits] or shorten the input",
                limits.max_events
            ));
        }
        if events.is_multiple_of(self.check_memory) {
            let bytes = held.bytes();
            if bytes > limits.max_memory {
                return Some(format!(
                    "the run holds about {} (operator state, buffers, snapshots, captured rows), more than limits.max_memory ({}); raise it in [limits] or shorten the input",
                    memory::human_bytes(bytes),
                    memory::human_bytes(limits.max_memory)
                ));
            }
        }
        if t.since(SimTime::ZERO) > limits.max_sim_time {
            return Some(format!(
                "simulated time passed {} (limits.max_sim_time); raise it in [limits] or shorten the input",
                limits.max_sim_time
            ));
        }
        if events.is_multiple_of(CHECK_EVERY) {
            return self.every_few_thousand(limits, events, t, held, progress);
        }
        None
    }

    /// `max_records` and the footprint against `max_memory`, with a progress report.
    fn every_few_thousand(
        &mut self,
        limits: &Limits,
        events: u64,
        now: SimTime,
        held: &Held<'_>,
        progress: &mut Option<&mut dyn FnMut(&Progress)>,
    ) -> Option<String> {
        let records: u64 = held
            .tasks
            .iter()
            .filter_map(|t| t.source.as_ref())
            .map(|s| s.emitted)
            .sum();
        // The footprint walks every channel: compute it less often in a wide job, so that it
        // costs about one step per event.
        let every =
            CHECK_EVERY * (1 + (held.tasks.len() + held.channels.len()) as u64 / CHECK_EVERY);
        if events.is_multiple_of(every) {
            self.last_footprint = held.footprint();
        }
        let memory_bytes = self.last_footprint;
        if let Some(f) = progress.as_mut() {
            f(&Progress {
                sim_time: now,
                events,
                records,
                memory_bytes,
            });
        }
        if records > limits.max_records {
            return Some(format!(
                "the sources produced more than {} records (limits.max_records); raise it in [limits] or shorten the input",
                limits.max_records
            ));
        }
        if memory_bytes > limits.max_memory {
            return Some(format!(
                "the run's estimated memory ({}: state, buffers, tasks and channels) passed {} (limits.max_memory); raise it in [limits], or shrink the state (fewer keys, shorter windows) or the parallelism",
                human_bytes(memory_bytes),
                human_bytes(limits.max_memory)
            ));
        }
        None
    }
}
