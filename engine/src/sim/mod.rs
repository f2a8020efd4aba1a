//! The simulator: a discrete-event loop in processing time.
//!
//! Tasks (subtasks of chains) run *work items* on the cores of their TaskManager: a source
//! produces a batch of records, any other task processes one input buffer. A work item runs
//! its records through the chain at once, advancing the task's local clock by the cost model
//! per record, and its effects — buffers finished and sent, credits, arrivals — are scheduled
//! at the local times they happen. The core is busy until the item's end (`WorkDone`). Records
//! cross tasks only in buffers, so the queue holds one event per buffer, not per record.
//!
//! Flow control is Flink's: a task starts a work item only if every output has a free buffer;
//! remote channels send only under credit. A task that has input but no free output buffer is
//! backpressured until credit or a consumed local buffer frees one.
//!
//! Determinism: the queue orders by `(time, insertion)`, all randomness comes from named
//! seeded streams, and nothing iterates a hash map where order could leak into the output.
//!
//! [`run()`] runs one simulation ([`Simulation`]); the fault-free reference run a faulty run is
//! compared with, and the aligned variant of an unaligned one, are started by
//! [`crate::oracle::run`].
//!
//! # Map
//!
//! **The kernel** is the folder `kernel/`, the only place with `impl Simulation`: the world
//! of one run (tasks, channels, cores, the event queue) and its loop —
//! [`Simulation::new`], [`Simulation::step`], [`Simulation::run`] — with the scheduling of
//! work items on cores and the network events (`cpu.rs`, `work.rs`), and the kernel's side of
//! each subsystem (`checkpoints.rs`, `unaligned.rs`, `failover.rs`, `savepoints.rs`): it hands
//! a subsystem the pieces of the world it needs and carries out what follows from its answer.
//! At the end of a run the kernel lends `reporting.rs` a read-only view of the world
//! (`reporting::EndState`), from which it builds the report.
//!
//! **The world's parts**, used by the kernel and the subsystems: [`queue`] (the clock and the
//! event queue), [`task`] (a subtask: gate, chain, writers), [`channel`] and [`buffer`],
//! [`net`] (writing records into buffers, flushing, credit), [`source`], [`trace`] (with
//! [`notes`] and [`trace_lines`]: what a work item did, as trace lines), and [`build`] (the
//! job's tasks and channels from its plan).
//!
//! **Subsystems**, each with its own state, called through narrow parameters and importing
//! neither the kernel nor each other in a cycle:
//! - [`checkpoint`]: the checkpoint coordinator ([`checkpoint::Coordinator`]) and task
//!   snapshots, on Flink's rules in [`crate::flink::checkpoint`];
//! - [`unaligned`] and [`channel_state`]: unaligned checkpoints, the aligned timeout, the
//!   in-flight data they persist;
//! - [`recovery`]: the job's status, failures, the restart strategy
//!   ([`crate::flink::restart`]), failover regions, restoring tasks;
//! - [`faults`] and [`heartbeat`]: scripted faults and lost TaskManagers;
//! - [`savepoint`] and [`rescale`]: savepoints, stop-with-savepoint and the state
//!   redistribution of a rescaled job;
//! - `limits` and [`memory`]: every `[limits]` check, and the memory estimates and guards;
//! - [`report_parts`]: what operators and sinks hand to the report assembler.

pub mod buffer;
pub mod build;
pub mod channel;
pub mod channel_state;
pub mod checkpoint;
pub mod event_time;
pub mod faults;
pub mod heartbeat;
mod kernel;
mod limits;
pub mod memory;
pub mod net;
pub mod notes;
pub mod observe;
pub mod queue;
pub mod recovery;
pub mod report_parts;
mod reporting;
pub mod rescale;
pub mod savepoint;
pub mod source;
pub mod task;
pub mod trace;
pub mod trace_lines;
pub mod unaligned;

// What `reporting` reads through `use super::*`.
use crate::ops::Operator;
use crate::plan::Plan;
use crate::report::*;
use crate::scenario::Scenario;
use net::NetStats;

pub use kernel::Simulation;
pub use limits::Progress;

/// Options of one run.
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Where to write the trace (JSON lines); `None`: no trace.
    pub trace: Option<Box<dyn std::io::Write>>,
    /// Compute the trace hash even without a trace file (for determinism checks).
    pub hash_trace: bool,
    /// Run the in-run invariant checkers (`oracle::invariants`, attached by
    /// [`crate::oracle::run`]); a violation stops the run with an error. They only observe:
    /// the report and trace are the same. Default: on in debug builds (every test), off in
    /// release builds (`streamlab run --check`).
    pub check: bool,
    /// Follow one record for `explain --record`: (source logical node, split, offset). Each
    /// emission of it is born at [`source::FOLLOWED_BIRTH`], so an observer can find it and
    /// what it becomes; its true births and read times are kept in the split's [`source::Followed`]. Kept
    /// across restarts and a rescale (checkpoints and savepoints carry the mark). Nothing
    /// else of the run changes but the latency of what carries the mark.
    pub follow_record: Option<(usize, u32, u64)>,
    /// Capture what the event-time diagram draws for every event-time window operator
    /// ([`RunOutput::event_time`], [`event_time`]): each record with its arrival and
    /// timestamp, the watermarks, the windows and their firings. Off by default; it changes
    /// nothing else of the run (report and trace are the same).
    pub capture_event_time: bool,
    /// Process events of the same simulated time in reverse order
    /// (`run --check-determinism`): a result that changes then depends on the interleaving
    /// of simultaneous events — e.g. a rolling reduce fed by several channels.
    pub reverse_ties: bool,
}

// Not derived: `check` follows the build profile (clippy sees a derivable impl in release
// builds, where it is `false`).
#[allow(clippy::derivable_impls)]
impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            seed: None,
            trace: None,
            hash_trace: false,
            check: cfg!(debug_assertions),
            follow_record: None,
            capture_event_time: false,
            reverse_ties: false,
        }
    }
}

/// What a run produced.
pub struct RunOutput {
    /// The report.
    pub report: RunReport,
    /// Hash of the trace lines (when tracing or hashing).
    pub trace_hash: Option<u64>,
    /// Trace lines written.
    pub trace_lines: u64,
    /// Per sink (by name), what it made visible — kept when the scenario has faults, to
    /// compare with the reference run.
    pub visible: Vec<(String, crate::ops::sink_txn::Ledger)>,
    /// The job was stopped and resubmitted with its rescaled plan (`Plan::rescaled`): the
    /// report describes that job.
    pub resubmitted: bool,
    /// One view per event-time window operator, in plan order, when
    /// [`RunOptions::capture_event_time`] was on (else empty).
    pub event_time: Vec<crate::report::event_time::EventTimeView>,
}

/// Runs one simulation of a planned scenario to the end (or to a limit). Faults strike as
/// scripted; nothing is compared with a fault-free run (that is [`crate::oracle::run`]).
pub fn run(s: &Scenario, p: &Plan, opts: RunOptions) -> Result<RunOutput, std::io::Error> {
    Simulation::new(s, p, opts).run()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_text(text: &str) -> RunReport {
        let s = crate::check::parse_str("t.toml", text, None)
            .unwrap_or_else(|d| panic!("{}", d.render()));
        let p = crate::plan::plan(&s).unwrap_or_else(|d| panic!("{}", d.render()));
        run(&s, &p, RunOptions::default()).unwrap().report
    }

    fn rows(r: &RunReport, sink: &str) -> Vec<String> {
        let s = r.sinks.iter().find(|s| s.name == sink).expect("sink");
        s.rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|v| v.to_string().trim_matches('"').to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .collect()
    }

    /// Runs `file` (a bundled scenario) once through `run` and once by stepping, with the
    /// trace hashed: the same report, the same trace, and `step` returned every event.
    fn step_matches_run(file: &str) {
        let path = format!("{}/../scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("bundled scenario");
        let s =
            crate::check::parse_str(file, &text, None).unwrap_or_else(|d| panic!("{}", d.render()));
        let p = crate::plan::plan(&s).unwrap_or_else(|d| panic!("{}", d.render()));
        let opts = || RunOptions {
            hash_trace: true,
            ..Default::default()
        };
        let whole = run(&s, &p, opts()).unwrap();
        let mut sim = Simulation::new(&s, &p, opts());
        let mut steps = 0u64;
        let mut last = crate::core::time::SimTime::ZERO;
        while let Some(_event) = sim.step() {
            assert!(sim.now() >= last, "time never goes back");
            last = sim.now();
            steps += 1;
        }
        assert!(sim.ended());
        assert_eq!(sim.step(), None, "an ended run stays ended");
        let stepped = sim.run().unwrap();
        let json = |r: &RunReport| serde_json::to_string(r).unwrap();
        assert_eq!(json(&stepped.report), json(&whole.report), "{file}");
        assert_eq!(stepped.trace_hash, whole.trace_hash, "{file}");
        assert!(
            steps > 0 && steps <= whole.report.events,
            "{file}: {steps} steps"
        );
    }

    #[test]
    fn stepping_to_the_end_gives_the_report_of_run() {
        // a plain job, checkpoints with a TaskManager crash, and a rescale
        for file in [
            "wordcount.toml",
            "tm_crash_recovery.toml",
            "rescale_from_savepoint.toml",
        ] {
            step_matches_run(file);
        }
    }

    const SESSIONS: &str = r#"
[[source]]
name = "clicks"
kind = "inline"
timestamp = "ts"
watermarks = { strategy = "monotonous", emit = "per_event" }
events = [
  { user = "ann", ts = 1_000, n = 1 },
  { user = "ann", ts = 1_500, n = 2 },
  { user = "ann", ts = 5_000, n = 1 },
  { user = "ann", ts = 9_000, n = 0 },
  { user = "ann", ts = 9_500, n = 1 },
]

[[operator]]
name = "by_user"
kind = "key_by"
input = "clicks"
key = "user"

[[operator]]
name = "w"
kind = "window"
input = "by_user"
window = { type = "session", gap_expr = "n * 1000" }
function = "count"

[[sink]]
name = "out"
input = "w"
"#;

    #[test]
    fn a_failed_task_delivers_nothing_after_the_failure() {
        // The fourth record's gap is 0: Flink throws. The session of the first two fired when
        // the third record's watermark passed it; the third record's session, the fifth
        // record and the final watermark must never get through.
        let r = run_text(SESSIONS);
        assert_eq!(r.outcome.status, Status::Failed);
        let msg = r.outcome.message.clone().unwrap_or_default();
        assert!(
            msg.contains("Dynamic session time gap must satisfy 0 < gap, found 0"),
            "{msg}"
        );
        assert_eq!(rows(&r, "out"), vec!["ann, 1000, 3500, 2"]);
        assert_eq!(r.sink_records, 1);
        // The same with a source that hands over its records in one batch (no per-event
        // watermarks): nothing fires before the failure, and the final watermark never comes.
        let r = run_text(&SESSIONS.replace(", emit = \"per_event\"", ""));
        assert_eq!(r.outcome.status, Status::Failed);
        assert_eq!(r.sink_records, 0, "{:?}", rows(&r, "out"));
    }

    #[test]
    fn an_expression_error_stops_the_task_at_the_failing_record() {
        // Records run through a chain in batches; the division by zero of the second record
        // fails the task there: the first record's result is out, nothing after it is.
        let text = |op: &str| {
            format!(
                r#"
[[source]]
name = "s"
kind = "inline"
events = [ {{ a = 1 }}, {{ a = 0 }}, {{ a = 2 }}, {{ a = 5 }} ]

[[operator]]
name = "m"
input = "s"
{op}

[[sink]]
name = "out"
input = "m"
"#
            )
        };
        for (op, want) in [
            ("kind = \"map\"\nselect = { b = \"10 / a\" }", "10"),
            ("kind = \"filter\"\nwhere = \"10 / a > 0\"", "1"),
            (
                "kind = \"flat_map\"\nselect = { b = \"split(CAST(10 / a AS VARCHAR))\" }",
                "10",
            ),
        ] {
            let r = run_text(&text(op));
            assert_eq!(r.outcome.status, Status::Failed, "{op}");
            let msg = r.outcome.message.clone().unwrap_or_default();
            assert!(msg.contains("ArithmeticException: / by zero"), "{msg}");
            assert_eq!(rows(&r, "out"), vec![want], "{op}");
        }
    }

    const IDLE: &str = r#"
[job]
parallelism = 2

[cluster]
slots_per_task_manager = 2

[[source]]
name = "clicks"
kind = "inline"
rate = 10
timestamp = "ts"
partition = "p"
duration = "10 s"
watermarks = { strategy = "bounded", max_out_of_orderness = "0 ms", emit = "per_event", idleness = "1 s" }
events = [
  { p = 0, user = "ann", ts = 1_000 },
  { p = 1, user = "bob", ts = 1_000 },
  { p = 0, user = "ann", ts = 6_000 },
  { p = 0, user = "ann", ts = 11_000 },
]

[[operator]]
name = "by_user"
kind = "key_by"
input = "clicks"
key = "user"

[[operator]]
name = "counts"
kind = "window"
input = "by_user"
window = { type = "tumbling", size = "5 s" }
function = "count"

[[sink]]
name = "out"
input = "counts"
"#;

    #[test]
    fn idleness_works_with_per_event_watermarks() {
        // Partition 1 goes silent after its first record while the source stays open for
        // 10 s. Flink probes idleness every auto-watermark interval (200 ms) also for a
        // punctuated generator, so partition 1 turns idle after about 1 s and the windows fire
        // long before the source closes.
        let r = run_text(IDLE);
        assert_eq!(r.outcome.status, Status::Finished);
        let out = r.sinks.iter().find(|s| s.name == "out").unwrap();
        assert_eq!(out.records, 4);
        assert!(
            out.first_ms < 2_000.0,
            "the first window fired at {} ms",
            out.first_ms
        );
        // Without idleness the windows wait for the end of the input.
        let r = run_text(&IDLE.replace(", idleness = \"1 s\"", ""));
        let out = r.sinks.iter().find(|s| s.name == "out").unwrap();
        assert!(out.first_ms >= 10_000.0, "{}", out.first_ms);
        // The source's `interval` sets the probe period: probing every 5 s, partition 1 is
        // idle only at the 5 s probe.
        let r = run_text(&IDLE.replace(
            "idleness = \"1 s\"",
            "idleness = \"1 s\", interval = \"5 s\"",
        ));
        let out = r.sinks.iter().find(|s| s.name == "out").unwrap();
        assert!(
            (5_000.0..6_000.0).contains(&out.first_ms),
            "{}",
            out.first_ms
        );
    }

    const JOIN: &str = r#"
[[source]]
name = "a"
kind = "inline"
timestamp = "ts"
watermarks = { strategy = "monotonous" }
events = [ { k = 1, ts = 1_000, g = 1_000 }, { k = 1, ts = 2_500, g = 1_000 } ]

[[source]]
name = "b"
kind = "inline"
timestamp = "ts"
watermarks = { strategy = "monotonous" }
events = [ { k = 1, ts = 2_100, g = 1_000 }, { k = 1, ts = 3_500, g = 1_000 } ]

[[operator]]
name = "ka"
kind = "key_by"
input = "a"
key = "k"

[[operator]]
name = "kb"
kind = "key_by"
input = "b"
key = "k"

[[operator]]
name = "j"
kind = "window_join"
inputs = ["ka", "kb"]
window = WINDOW
select = { l = "left.ts", r = "right.ts" }

[[sink]]
name = "out"
input = "j"
"#;

    fn join(window: &str) -> RunReport {
        run_text(&JOIN.replace("WINDOW", window))
    }

    #[test]
    fn a_window_join_uses_the_offset_of_its_windows() {
        let r = join(r#"{ type = "tumbling", size = "2 s" }"#);
        assert_eq!(rows(&r, "out"), vec!["2500, 2100", "2500, 3500"]);
        // windows [1 s, 3 s), [3 s, 5 s)
        let r = join(r#"{ type = "tumbling", size = "2 s", offset = "1 s" }"#);
        assert_eq!(rows(&r, "out"), vec!["1000, 2100", "2500, 2100"]);
        // windows of 2 s every 1 s starting at 500 ms + k s
        let r = join(r#"{ type = "sliding", size = "2 s", slide = "1 s", offset = "500 ms" }"#);
        assert_eq!(
            rows(&r, "out"),
            vec![
                "1000, 2100", // [500, 2500)
                "2500, 2100", // [1500, 3500)
                "2500, 3500", // [2500, 4500)
            ]
        );
    }

    #[test]
    fn a_window_join_merges_sessions_across_both_inputs() {
        // Sessions of 1 s: a1000 = [1000, 2000) alone; b2100 [2100, 3100), a2500
        // [2500, 3500) and b3500 [3500, 4500) merge (touching sessions merge) into one.
        let want = vec!["2500, 2100", "2500, 3500"];
        let r = join(r#"{ type = "session", gap = "1 s" }"#);
        assert_eq!(r.outcome.status, Status::Finished);
        assert_eq!(rows(&r, "out"), want);
        let r = join(r#"{ type = "session", gap_expr = "g" }"#);
        assert_eq!(rows(&r, "out"), want);
        // A larger gap makes one session of all four.
        let r = join(r#"{ type = "session", gap = "2 s" }"#);
        assert_eq!(
            rows(&r, "out"),
            vec!["1000, 2100", "1000, 3500", "2500, 2100", "2500, 3500"]
        );
        // A dynamic gap of 0 fails the job, as in Flink.
        let r = join(r#"{ type = "session", gap_expr = "g - 1000" }"#);
        assert_eq!(r.outcome.status, Status::Failed);
        assert_eq!(r.sink_records, 0);
    }

    #[test]
    fn a_keyed_expr_window_keeps_its_key_in_the_reduced_record() {
        let text = r#"
[[source]]
name = "clicks"
kind = "inline"
timestamp = "ts"
watermarks = { strategy = "monotonous", emit = "per_event" }
events = [
  { user = "ann", ts = 1_000, n = 1 },
  { user = "bob", ts = 2_000, n = 2 },
  { user = "ann", ts = 4_000, n = 3 },
  { user = "ann", ts = 7_000, n = 4 },
]

[[operator]]
name = "by_user"
kind = "key_by"
input = "clicks"
key = "user"

[[operator]]
name = "w"
kind = "window"
input = "by_user"
window = { type = "tumbling", size = "5 s" }
function = "expr"
select = { n = "acc.n + n" }

[[sink]]
name = "out"
input = "w"
"#;
        let r = run_text(text);
        let out = r.sinks.iter().find(|s| s.name == "out").unwrap();
        assert_eq!(
            out.fields,
            ["window_start", "window_end", "user", "ts", "n"]
        );
        assert_eq!(
            rows(&r, "out"),
            vec![
                "0, 5000, ann, 1000, 4",
                "0, 5000, bob, 2000, 2",
                "5000, 10000, ann, 7000, 4"
            ]
        );
        // A key expression is not in the record: it comes first, as `key`.
        let r = run_text(&text.replace("key = \"user\"", "key = \"upper(user)\""));
        let out = r.sinks.iter().find(|s| s.name == "out").unwrap();
        assert_eq!(
            out.fields,
            ["key", "window_start", "window_end", "user", "ts", "n"]
        );
        assert_eq!(rows(&r, "out")[0], "ANN, 0, 5000, ann, 1000, 4");
    }
}
