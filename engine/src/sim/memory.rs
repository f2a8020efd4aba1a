//! How much memory a run holds: an estimate the main loop compares with `limits.max_memory`
//! every [`CHECK_EVERY`] events, and the guards that keep a single event from allocating
//! without bound before that check comes round.
//!
//! The estimate sums what grows with the input and the configuration, at the sizes the
//! simulator's own structures take (not Flink's serialized sizes, which the checkpoint
//! report gives):
//! - **operator state**: keys of rolling aggregations, windows (with their triggers and
//!   timers), join buffers, process-function state;
//! - **sinks**: captured rows, upsert tables, open and pre-committed transactions, the
//!   ledger kept to compare with a reference run;
//! - **in-flight data**: the records in every channel's buffers (being filled, queued
//!   under backpressure, on the wire, waiting at the receiver) and the operators' batches;
//! - **checkpoints**: the state copied into pending, retained and savepoint snapshots;
//! - **the run itself**: tasks, channels, pending events, interned strings.
//!
//! It is cheap — one pass over tasks and channels, counting lengths of maps and vectors —
//! except for interval joins, whose buffered elements are counted one timestamp at a time.
//!
//! Within one event a task runs up to a few hundred records through its chain, and two
//! operators can multiply them without bound: a `flat_map` splitting a row into a million
//! words, and a sliding window whose size is a huge multiple of its slide (every record
//! lands in size/slide windows). Both stop with an error as soon as they would exceed the
//! limit on their own ([`apply_limit`]), before they allocate it.

use super::channel::Channel;
use super::savepoint::Retired;
use super::task::Task;
use crate::core::cost::{CHANNEL_MEMORY_BYTES, TASK_MEMORY_BYTES};
use crate::core::value::Value;
use crate::ops::state::OperatorState;
use std::mem::size_of;

/// How often (in events) the main loop compares the estimate with the limit at least: a
/// large job checks less often, so that the estimate (one pass over its tasks and channels)
/// costs less than one step per event ([`check_every`]).
pub const CHECK_EVERY: u64 = 1 << 12;

/// In-memory state takes about twice its serialized (checkpoint) size: a field is a 16-byte
/// value in memory, 8 bytes in a snapshot.
const STATE_IN_MEMORY_FACTOR: u64 = 2;

fn buffer_bytes(b: &super::buffer::Buffer) -> u64 {
    (b.values.capacity() * size_of::<Value>()
        + b.meta.capacity() * size_of::<super::buffer::RecMeta>()
        + size_of::<super::buffer::Buffer>()) as u64
}

/// What a run holds, as the estimates see it: its tasks and channels, the bytes in
/// checkpoint snapshots, the tasks of the job before a rescale, the pending events and the
/// interned strings.
pub struct Held<'a> {
    /// The tasks.
    pub tasks: &'a [Task],
    /// The channels.
    pub channels: &'a [Channel],
    /// State bytes in pending, retained and savepoint snapshots.
    pub snapshot_bytes: u64,
    /// The tasks of the job before a rescale.
    pub retired: &'a [Retired],
    /// Pending events.
    pub queue_len: usize,
    /// Interned strings.
    pub interned: usize,
    /// The network buffer size (`taskmanager.memory.segment-size`).
    pub buffer_size: u32,
}

impl Held<'_> {
    /// An estimate of the memory the run holds, in bytes, at the sizes of the simulator's
    /// own structures (see the module docs). The main loop compares it with
    /// `limits.max_memory` every [`check_every`] events.
    pub fn bytes(&self) -> u64 {
        let mut total = 0u64;
        for t in self.tasks {
            total += size_of::<Task>() as u64;
            for slot in &t.chain.ops {
                total += slot.op.heap_bytes();
                total += ((slot.out.values.capacity() + slot.side.values.capacity())
                    * size_of::<Value>()
                    + (slot.out.meta.capacity() + slot.side.meta.capacity())
                        * size_of::<super::buffer::RecMeta>()) as u64;
            }
        }
        for c in self.channels {
            total += size_of::<Channel>() as u64;
            total += c
                .current
                .iter()
                .chain(&c.backlog)
                .chain(&c.in_flight)
                .chain(&c.queue)
                .map(buffer_bytes)
                .sum::<u64>();
        }
        total += self.snapshot_bytes;
        for r in self.retired {
            for slot in &r.task.chain.ops {
                total += slot.op.heap_bytes();
            }
        }
        total += (self.queue_len * 48) as u64;
        total += (self.interned * 48) as u64;
        total
    }

    /// The run's footprint as the progress line shows it: operator state at about twice its
    /// serialized (checkpoint) size, the buffers held by channels at the buffer size, and the
    /// tasks and channels themselves. Also compared with `limits.max_memory`, every few
    /// thousand events (`sim::limits`).
    pub fn footprint(&self) -> u64 {
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
            + buffers * u64::from(self.buffer_size)
            + self.tasks.len() as u64 * TASK_MEMORY_BYTES
            + self.channels.len() as u64 * CHANNEL_MEMORY_BYTES
    }
}

/// Events between two checks of [`Held::bytes`] for a job of these tasks and channels: at
/// least [`CHECK_EVERY`], more for a large job.
pub fn check_every(tasks: usize, channels: usize) -> u64 {
    ((tasks + channels) as u64)
        .next_power_of_two()
        .max(CHECK_EVERY)
}

/// Gives the operators that can multiply records within one event their share of `limit`
/// bytes: a `flat_map` may emit at most that many bytes of records per batch, a window
/// operator hold at most that many bytes of windows. Call it whenever tasks are (re)built.
pub fn apply_limit(tasks: &mut [Task], limit: u64) {
    for t in tasks {
        apply_to_chain(&mut t.chain, limit);
    }
}

/// [`apply_limit`] for one chain.
pub(super) fn apply_to_chain(chain: &mut crate::ops::chain::Chain, limit: u64) {
    for slot in &mut chain.ops {
        slot.op.set_memory_share(limit, slot.out.arity);
    }
}

/// Bytes the runtime objects of a planned job take before any record flows: its tasks and
/// channels (one per connected pair of subtasks on every edge: `p × q` for an all-to-all
/// exchange). Computed from the plan without building them, so that a parallelism of
/// thousands can be refused before the simulator allocates it.
pub fn plan_bytes(p: &crate::plan::Plan) -> u64 {
    let eg = &p.execution;
    let tasks: u64 = eg.vertices.iter().map(|v| u64::from(v.parallelism)).sum();
    let mut channels = 0u64;
    for (ei, e) in eg.edges.iter().enumerate() {
        let up = eg.vertices[e.from_vertex].parallelism;
        if e.partitioner.is_pointwise() {
            channels += (0..up).map(|i| eg.targets(ei, i).len() as u64).sum::<u64>();
        } else {
            channels += u64::from(up) * u64::from(eg.vertices[e.to_vertex].parallelism);
        }
    }
    tasks * size_of::<super::task::Task>() as u64
        + channels * (size_of::<super::channel::Channel>() + 2 * size_of::<u32>()) as u64
}

/// `1.5 GiB`, `300 MiB`, `12 KiB`, `17 B`.
pub fn human_bytes(b: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (name, size) in UNITS {
        if b >= size {
            let v = b as f64 / size as f64;
            return if v.fract() == 0.0 {
                format!("{v:.0} {name}")
            } else {
                format!("{v:.1} {name}")
            };
        }
    }
    format!("{b} B")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{RunReport, Status};

    /// Runs `text` with `limits.max_memory` set to `limit` bytes.
    fn run_with_limit(text: &str, limit: u64) -> RunReport {
        let mut s = crate::check::parse_str("t.toml", text, None)
            .unwrap_or_else(|d| panic!("{}", d.render()));
        s.limits.max_memory = limit;
        let p = crate::plan::plan(&s).unwrap_or_else(|d| panic!("{}", d.render()));
        super::super::run(&s, &p, super::super::RunOptions::default())
            .unwrap()
            .report
    }

    fn words_job(words: usize, repeat: u32) -> String {
        let line = vec!["w"; words].join(" ");
        format!(
            r#"
[[source]]
name = "lines"
kind = "inline"
repeat = {repeat}
events = [ {{ line = "{line}" }} ]

[[operator]]
name = "words"
kind = "flat_map"
input = "lines"
select = {{ word = "split(line)" }}

[[sink]]
name = "out"
input = "words"
"#
        )
    }

    // issue 21 item 8: a flat_map of many words per row multiplied records within one event
    // without bound.
    #[test]
    fn a_flat_map_that_would_exceed_the_memory_limit_in_one_batch_stops_first() {
        let r = run_with_limit(&words_job(100_000, 20), 64 << 20);
        assert_eq!(r.outcome.status, Status::Failed);
        let m = r.outcome.message.unwrap();
        assert!(
            m.contains("a flat_map row splits into 100000 pieces"),
            "{m}"
        );
        assert!(
            m.contains("more than limits.max_memory allows (at most"),
            "{m}"
        );
        // under the default limit the same job runs
        let r = run_with_limit(
            &words_job(1_000, 20),
            crate::core::cost::Limits::default().max_memory,
        );
        assert_eq!(r.outcome.status, Status::Finished);
        assert_eq!(r.sink_records, 20_000);
    }

    // issue 21 item 8: a sliding window with a huge size/slide created size/slide windows per
    // record at once.
    #[test]
    fn a_sliding_window_with_more_windows_per_record_than_fit_stops_before_creating_them() {
        let text = r#"
[[source]]
name = "events"
kind = "generator"
rate = 10
duration = "1 s"
fields.k = { kind = "key", count = 3 }

[[operator]]
name = "by_k"
kind = "key_by"
input = "events"
key = "k"

[[operator]]
name = "w"
kind = "window"
input = "by_k"
window = { type = "sliding", size = "10 min", slide = "1 ms" }
function = "count"

[[sink]]
name = "out"
input = "w"
"#;
        let r = run_with_limit(text, 64 << 20);
        assert_eq!(r.outcome.status, Status::Failed);
        let m = r.outcome.message.unwrap();
        assert!(m.contains("a record would open 600000 windows"), "{m}");
        assert!(m.contains("(at most 419430 windows per subtask)"), "{m}");
    }

    // issue 21 item 8: keyed state growing record by record is caught by the periodic check.
    #[test]
    fn state_that_outgrows_the_limit_stops_the_run_with_limit_reached() {
        let text = r#"
[[source]]
name = "events"
kind = "generator"
rate = 1000000
duration = "2 s"
fields.k = { kind = "sequence" }

[[operator]]
name = "by_k"
kind = "key_by"
input = "events"
key = "k"

[[operator]]
name = "c"
kind = "reduce"
input = "by_k"
function = "count"

[[sink]]
name = "out"
input = "c"
"#;
        let r = run_with_limit(text, 16 << 20);
        assert_eq!(r.outcome.status, Status::LimitReached);
        let m = r.outcome.message.unwrap();
        assert!(m.contains("more than limits.max_memory (16 MiB)"), "{m}");
        let r = run_with_limit(text, crate::core::cost::Limits::default().max_memory);
        assert_eq!(r.outcome.status, Status::Finished);
    }

    // issue 21 item 8: parallelism 10 000 built 10⁸ channels before anything could check.
    #[test]
    fn the_plan_of_an_all_to_all_job_at_parallelism_ten_thousand_does_not_fit_by_default() {
        let job = |p: u32| {
            let text = format!(
                r#"
[cluster]
task_managers = 100
slots_per_task_manager = 100

[job]
parallelism = {p}

# Validation refuses this job under the default limit; lift it to reach the plan.
[limits]
max_memory = "1000 gb"

[[source]]
name = "events"
kind = "generator"
rate = 10
duration = "1 s"
fields.k = {{ kind = "key", count = 3 }}

[[operator]]
name = "by_k"
kind = "key_by"
input = "events"
key = "k"

[[operator]]
name = "c"
kind = "reduce"
input = "by_k"
function = "count"

[[sink]]
name = "out"
input = "c"
"#
            );
            let s = crate::check::parse_str("t.toml", &text, None)
                .unwrap_or_else(|d| panic!("{}", d.render()));
            crate::plan::plan(&s).unwrap_or_else(|d| panic!("{}", d.render()))
        };
        let limit = crate::core::cost::Limits::default().max_memory;
        let small = plan_bytes(&job(4));
        // 4 + 4 tasks, 16 channels on the keyBy
        assert_eq!(
            small,
            8 * size_of::<super::super::task::Task>() as u64
                + 16 * (size_of::<super::super::channel::Channel>() + 8) as u64
        );
        assert!(plan_bytes(&job(10_000)) > limit);
    }

    #[test]
    fn bytes_read_as_people_write_them() {
        assert_eq!(human_bytes(4 << 30), "4 GiB");
        assert_eq!(human_bytes(3 << 29), "1.5 GiB");
        assert_eq!(human_bytes(300 << 20), "300 MiB");
        assert_eq!(human_bytes(17), "17 B");
    }
}
