//! The limits checked while a run goes: records read and estimated memory (`[limits]`), and
//! the progress a caller may show.
//!
//! The main loop calls [`Simulation::check_limits`] every [`CHECK_EVERY`] events: each check
//! walks the tasks and channels once, so its cost spread over the events is a few
//! instructions each.

use super::Simulation;
use crate::core::cost::human_bytes;
use crate::core::time::SimTime;
use crate::report::Status;
use crate::scenario::Scenario;

/// Events between two checks of `max_records` (and progress calls). An event may move
/// hundreds of records, so checks are frequent; each one sums the sources' counters.
pub const CHECK_EVERY: u64 = 1 << 10;

/// In-memory state takes about twice its serialized (checkpoint) size: a field is a 16-byte
/// value in memory, 8 bytes in a snapshot.
const STATE_IN_MEMORY_FACTOR: u64 = 2;

use crate::core::cost::{CHANNEL_MEMORY_BYTES as CHANNEL_BYTES, TASK_MEMORY_BYTES as TASK_BYTES};

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

impl Simulation<'_> {
    /// Records produced by the sources so far.
    fn records_read(&self) -> u64 {
        self.tasks
            .iter()
            .filter_map(|t| t.source.as_ref())
            .map(|s| s.emitted)
            .sum()
    }

    /// Estimated memory: operator state, buffers held by channels, and the tasks and
    /// channels themselves.
    pub(super) fn memory_estimate(&self) -> u64 {
        let state: u64 = self
            .tasks
            .iter()
            .map(|t| super::checkpoint::task_state_bytes(&t.chain, t.source.is_some()))
            .sum();
        let buffers: u64 = self
            .channels
            .iter()
            .map(|c| {
                (c.current.is_some() as usize + c.backlog.len() + c.in_flight.len() + c.queue.len())
                    as u64
            })
            .sum();
        state * STATE_IN_MEMORY_FACTOR
            + buffers * u64::from(self.cost.buffer_size_bytes)
            + self.tasks.len() as u64 * TASK_BYTES
            + self.channels.len() as u64 * CHANNEL_BYTES
    }

    /// Checks `max_records` and `max_memory`, and reports progress. `Some` stops the run.
    pub(super) fn check_limits(
        &self,
        s: &Scenario,
        now: SimTime,
        events: u64,
        progress: &mut Option<&mut dyn FnMut(&Progress)>,
    ) -> Option<(Status, Option<String>, u64)> {
        let records = self.records_read();
        // The memory estimate walks every channel: check it less often in a wide job, so
        // that it costs about one step per event.
        let every =
            CHECK_EVERY * (1 + (self.tasks.len() + self.channels.len()) as u64 / CHECK_EVERY);
        let memory_bytes = if events.is_multiple_of(every) {
            self.memory_estimate()
        } else {
            self.last_memory.get()
        };
        self.last_memory.set(memory_bytes);
        if let Some(f) = progress.as_mut() {
            f(&Progress {
                sim_time: now,
                events,
                records,
                memory_bytes,
            });
        }
        let stop = |msg: String| Some((Status::LimitReached, Some(msg), events));
        if records > s.limits.max_records {
            return stop(format!(
                "the sources produced more than {} records (limits.max_records); raise it in [limits] or shorten the input",
                s.limits.max_records
            ));
        }
        if memory_bytes > s.limits.max_memory {
            return stop(format!(
                "the run's estimated memory ({}: state, buffers, tasks and channels) passed {} (limits.max_memory); raise it in [limits], or shrink the state (fewer keys, shorter windows) or the parallelism",
                human_bytes(memory_bytes),
                human_bytes(s.limits.max_memory)
            ));
        }
        None
    }
}
