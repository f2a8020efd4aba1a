//! The run report: everything a run measured, as serde JSON and as a readable summary.
//!
//! Units go last in field names (`latency_ms_p99`, `busy_ms`). The report holds no wall-clock
//! figure, so the same scenario and seed give a byte-identical report.

pub mod compare;
mod de;
pub mod mode;

pub use compare::{
    CompareReport, InvalidSetting, PlanChain, PlanEdge, PlanSlot, PlanSubtask, PlanView,
    SweepPoint, SweepReport,
};
pub use mode::{BatchReport, ModeDetails, ModeRun, SinkCorrectness};

use crate::core::time::human_nanos;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// How the run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every task finished: all input was processed.
    Finished,
    /// The job failed (and, without a restart strategy, stayed failed).
    Failed,
    /// A hard limit of the run was reached.
    LimitReached,
}

impl Status {
    /// The name the report gives it (`finished`, `failed`, `limit_reached`).
    pub fn name(&self) -> &'static str {
        match self {
            Status::Finished => "finished",
            Status::Failed => "failed",
            Status::LimitReached => "limit_reached",
        }
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    /// Finished, failed or stopped at a limit.
    pub status: Status,
    /// Why, when it did not finish.
    #[serde(deserialize_with = "de::required")]
    pub message: Option<String>,
    /// Simulated time at which it ended, in nanoseconds.
    pub at_ns: u64,
}

/// Latency percentiles, in milliseconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Latency {
    /// Records measured.
    pub count: u64,
    /// Mean.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Maximum.
    pub max_ms: f64,
    /// The distribution: `[latency ms, fraction of records at or below it]` at every
    /// percentile (and 99.5, 99.9), for CDF charts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cdf_ms: Vec<(f64, f64)>,
}

impl Latency {
    /// Percentiles of a histogram of nanoseconds.
    pub fn from_histogram(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Latency::default();
        }
        let ms = |ns: u64| round3(ns as f64 / 1e6);
        Latency {
            count: h.len(),
            mean_ms: round3(h.mean() / 1e6),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
            cdf_ms: (0..=100)
                .map(|q| f64::from(q) / 100.0)
                .chain([0.995, 0.999])
                .map(|q| (q.to_bits(), ms(h.value_at_quantile(q))))
                .collect::<std::collections::BTreeMap<_, _>>()
                .into_iter()
                .map(|(q, v)| (v, f64::from_bits(q)))
                .collect(),
        }
    }
}

/// Rounds to three decimals so that reports stay readable (and stable).
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Records in and out of one subtask of an operator.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubtaskCounts {
    /// Subtask index.
    pub subtask: u32,
    /// A subtask of the job before a rescale.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub before_rescale: bool,
    /// Records received.
    pub records_in: u64,
    /// Records emitted.
    pub records_out: u64,
}

/// One operator.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OperatorReport {
    /// Name.
    pub name: String,
    /// What it does.
    pub kind: String,
    /// Parallelism.
    pub parallelism: u32,
    /// Records received, all subtasks.
    pub records_in: u64,
    /// Records emitted, all subtasks.
    pub records_out: u64,
    /// Per subtask.
    pub subtasks: Vec<SubtaskCounts>,
    /// For window operators: what fired and what was late.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows: Option<WindowReport>,
}

/// What a window operator did, over all its subtasks.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct WindowReport {
    /// Window results emitted.
    pub fired: u64,
    /// Of those, late firings (a late element within the allowed lateness re-fired a window).
    pub late_firings: u64,
    /// Late elements dropped (Flink's `numLateRecordsDropped`).
    pub late_dropped: u64,
    /// Late elements sent to the late-data side output.
    pub late_side_output: u64,
    /// Windows still holding state at the end (never fired or waiting for cleanup).
    pub windows_left_open: u64,
}

/// The watermark a task received on one input channel.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChannelWatermark {
    /// The sending subtask.
    pub from: String,
    /// Its last watermark (`null` before the first).
    #[serde(deserialize_with = "de::required")]
    pub watermark: Option<i64>,
    /// Whether it is marked idle.
    pub idle: bool,
}

/// One task (subtask of a chain).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskReport {
    /// Chain name.
    pub chain: String,
    /// A task of the job before a rescale (stopped with the savepoint).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub before_rescale: bool,
    /// Subtask index.
    pub subtask: u32,
    /// TaskManager.
    pub task_manager: u32,
    /// Time processing records.
    pub busy_ms: f64,
    /// Time waiting for a core of its TaskManager.
    pub cpu_wait_ms: f64,
    /// Time blocked on a full output (backpressured).
    pub backpressured_ms: f64,
    /// The rest: waiting for input.
    pub idle_ms: f64,
    /// Buffers it sent.
    pub buffers_out: u64,
    /// The task's input watermark at the end (`null`: none yet; absent for sources).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::present"
    )]
    pub watermark: Option<Option<i64>>,
    /// The watermark of each input channel at the end: a stalled watermark can be traced to
    /// the channel that holds it back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channel_watermarks: Vec<ChannelWatermark>,
    /// Watermark lag over time: `[processing time ms, processing time − watermark in ms]`
    /// whenever the input watermark advanced (a final +∞ watermark is left out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub watermark_lag_ms: Vec<(f64, f64)>,
}

impl TaskReport {
    /// The longest stretch of processing time in which the task's input watermark did not
    /// advance — from the start of the run to its first advance, between advances, and from
    /// the last advance to `end_ms` — at the resolution of the watermark trail. `None` when it
    /// never advanced (before a final +∞ watermark): a stall for the whole run.
    pub fn longest_watermark_stall_ms(&self, end_ms: f64) -> Option<f64> {
        let times: Vec<f64> = self.watermark_lag_ms.iter().map(|p| p.0).collect();
        let (first, last) = (*times.first()?, *times.last()?);
        let between = times.windows(2).map(|w| w[1] - w[0]);
        Some(between.fold(first.max(end_ms - last), f64::max))
    }
}

/// One sink.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SinkReport {
    /// Name.
    pub name: String,
    /// `collect`, `upsert` or `discard`.
    pub kind: String,
    /// Records received.
    pub records: u64,
    /// When the first record arrived, in milliseconds of processing time.
    pub first_ms: f64,
    /// When the last record arrived, in milliseconds of processing time.
    pub last_ms: f64,
    /// Records per second of simulated time, from the start of the run to the last record.
    pub throughput_per_s: f64,
    /// Creation-to-sink latency.
    pub latency: Latency,
    /// Order-independent checksum of everything received (hex).
    pub checksum: String,
    /// Field names of `rows`.
    pub fields: Vec<String>,
    /// Collect: the first records; upsert: the final table, sorted.
    pub rows: Vec<Vec<serde_json::Value>>,
    /// Rows in the full table (upsert) or records kept (collect).
    pub rows_total: u64,
    /// `at_least_once` (visible on arrival), `exactly_once` (two-phase commit) or
    /// `idempotent` (upsert by key).
    pub guarantee: String,
    /// Records made visible (committed, for a two-phase-commit sink) — the same as `records`.
    pub committed: u64,
    /// Records still in open or pre-committed transactions when the run ended.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub uncommitted: u64,
    /// Records of open transactions lost to failures (replayed from the checkpoint).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub aborted: u64,
    /// Compared with the fault-free reference run: records visible more often than there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicates: Option<u64>,
    /// Compared with the fault-free reference run: records of the reference never visible.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<u64>,
    /// How the sink was compared with the fault-free run: `rows` (duplicates and missing),
    /// `final value per key` (the changelog of a rolling reduce whose intermediate values
    /// depend on arrival order) or `not row by row` (results that depend on when lateness was
    /// judged, on processing time, or on at-least-once state).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compared_by: Option<String>,
    /// Keys whose final value differs (final value per key), or rows that differ either way
    /// (not row by row) — these are not duplicates or missing records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub differing: Option<u64>,
    /// Why the sink was compared as it was, and what the result means.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison_note: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointReport {
    /// Checkpoint id (ids continue across restarts).
    pub id: u64,
    /// When the coordinator triggered it (ms of processing time).
    pub trigger_ms: f64,
    /// When it completed, failed or was aborted.
    #[serde(deserialize_with = "de::required")]
    pub completed_ms: Option<f64>,
    /// Longest barrier alignment at any task.
    pub alignment_ms: f64,
    /// Longest synchronous snapshot part at any task.
    pub sync_ms: f64,
    /// Longest asynchronous part (writing to the checkpoint storage) at any task.
    pub async_ms: f64,
    /// State size over all tasks, in bytes (in-flight data included).
    pub size_bytes: u64,
    /// In-flight data (channel state) persisted by an unaligned checkpoint, in bytes: the
    /// buffers its barriers overtook at outputs and inputs.
    pub in_flight_bytes: u64,
    /// How its barriers travelled: `aligned`, `unaligned`, `aligned (timeout …)` (switches to
    /// unaligned after `aligned_timeout`), `aligned → unaligned` (it did switch) or
    /// `at-least-once`.
    pub barriers: String,
    /// `completed`, `failed: <reason>`, `aborted: <reason>` or `pending`.
    pub outcome: String,
    /// `savepoint` or `stop-with-savepoint`; absent for a periodic checkpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub savepoint: Option<String>,
}

/// One run of a comparison (`compare_aligned`): how its checkpoints fared.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VariantReport {
    /// `aligned`, `unaligned` or `aligned (timeout …)`.
    pub barriers: String,
    /// Checkpoints that completed.
    pub completed: u32,
    /// Checkpoints that failed or were aborted.
    pub failed: u32,
    /// Median trigger-to-completion time of the completed ones.
    #[serde(deserialize_with = "de::required")]
    pub duration_ms_p50: Option<f64>,
    /// Longest trigger-to-completion time of the completed ones.
    #[serde(deserialize_with = "de::required")]
    pub duration_ms_max: Option<f64>,
    /// Longest alignment of a completed one.
    #[serde(deserialize_with = "de::required")]
    pub alignment_ms_max: Option<f64>,
    /// Largest in-flight data of a completed one.
    pub in_flight_bytes_max: u64,
    /// How the job ended (`finished`, or the failure).
    pub outcome: String,
    /// Simulated duration.
    pub sim_duration_ms: f64,
}

/// One failure and the recovery from it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FailureReport {
    /// When it struck (ms of processing time).
    pub at_ms: f64,
    /// What happened.
    pub cause: String,
    /// Tasks cancelled and restarted (the failed region, or the whole job).
    pub tasks_restarted: u32,
    /// From the failure until the restored tasks ran again (`None`: the job failed).
    #[serde(deserialize_with = "de::required")]
    pub downtime_ms: Option<f64>,
    /// The checkpoint restored (`None`: started from the beginning, or no restart).
    #[serde(deserialize_with = "de::required")]
    pub restored_checkpoint: Option<u64>,
}

/// A change of the job's status (Flink's `JobStatus`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobTransition {
    /// When (ms of processing time).
    pub at_ms: f64,
    /// The new status: created, running, restarting, failing, failed, finished, cancelled.
    pub status: String,
    /// Which job, when a rescale resubmitted it: `stopped with savepoint N` for the old
    /// job's end, `restored from savepoint N` for the new job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A rescale: stop-with-savepoint, then the job resubmitted from it with new parallelism.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RescaleReport {
    /// The savepoint the new job restored.
    pub savepoint: u64,
    /// When the stop-with-savepoint was triggered (ms).
    pub triggered_ms: f64,
    /// When the old job had stopped: the savepoint completed and the sinks committed (ms).
    pub stopped_ms: f64,
    /// When the new job was running again (ms).
    pub restarted_ms: f64,
    /// From the trigger until the new job runs: no records processed (ms).
    pub downtime_ms: f64,
    /// Per operator: old → new parallelism and where its state went.
    pub operators: Vec<RescaledOperator>,
}

/// One operator across a rescale.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RescaledOperator {
    /// Name.
    pub name: String,
    /// Parallelism before.
    pub old_parallelism: u32,
    /// Parallelism after.
    pub new_parallelism: u32,
    /// Key groups (max parallelism), kept from the savepoint.
    pub max_parallelism: u32,
    /// Keyed operators: the inclusive key-group range of every new subtask.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_groups: Vec<(u32, u32)>,
    /// Keyed operators: keys held in state per new subtask right after the restore.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<u64>,
    /// Sources: the splits (old source subtasks' partitions) every new subtask reads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub splits: Vec<Vec<u32>>,
}

/// Network totals.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NetworkReport {
    /// Buffers sent between tasks.
    pub buffers: u64,
    /// Bytes sent.
    pub bytes: u64,
    /// Buffers sent because they were full.
    pub flushed_full: u64,
    /// Buffers sent by the buffer timeout.
    pub flushed_timeout: u64,
    /// Buffers sent at end of input.
    pub flushed_end: u64,
    /// Mean records per data buffer.
    pub records_per_buffer: f64,
}

/// A series over simulated time.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Series {
    /// Width of a bucket in milliseconds.
    pub bucket_ms: u64,
    /// Records that reached a sink, per bucket.
    pub sink_records: Vec<u64>,
}

/// The full report of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    /// streamlab version that produced it.
    pub streamlab_version: String,
    /// Scenario name.
    pub scenario: String,
    /// The seed used.
    pub seed: u64,
    /// Execution mode.
    pub mode: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Simulated duration in milliseconds.
    pub sim_duration_ms: f64,
    /// Events the simulator processed.
    pub events: u64,
    /// Records produced by all sources.
    pub source_records: u64,
    /// Records received by all sinks.
    pub sink_records: u64,
    /// Source records per second of simulated time.
    pub throughput_per_s: f64,
    /// Latency over all sinks.
    pub latency: Latency,
    /// Per operator.
    pub operators: Vec<OperatorReport>,
    /// Per task.
    pub tasks: Vec<TaskReport>,
    /// Per sink.
    pub sinks: Vec<SinkReport>,
    /// Network totals.
    pub network: NetworkReport,
    /// Throughput over time.
    pub throughput: Series,
    /// Every checkpoint (empty without checkpointing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checkpoints: Vec<CheckpointReport>,
    /// Every failure and its recovery.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<FailureReport>,
    /// The job's status changes.
    pub job_status: Vec<JobTransition>,
    /// `compare_aligned`: the same job with aligned and with unaligned checkpoints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comparison: Vec<VariantReport>,
    /// Scripted faults that never struck (the job ended first) or struck only finished tasks,
    /// as `file:line:column` notes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults_not_reached: Vec<String>,
    /// The faults a random fault profile (`--chaos`, `[chaos]`) drew from the seed, as
    /// `at <time>: <what>`; empty without chaos.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chaos: Vec<String>,
    /// The rescale, when the scenario has one and it happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rescale: Option<RescaleReport>,
    /// What the run could not do as the scenario asked (a `[rescale]` whose
    /// stop-with-savepoint failed), as `file:line:column` notes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl RunReport {
    /// Checkpoints, failures and per-sink guarantees, when there is anything to say.
    fn fault_tolerance_summary(&self, o: &mut String) {
        if !self.chaos.is_empty() {
            let _ = writeln!(
                o,
                "\nChaos (faults drawn from seed {}; the same seed draws them again)",
                self.seed
            );
            for f in &self.chaos {
                let _ = writeln!(o, "  {f}");
            }
        }
        let unaligned = self
            .checkpoints
            .iter()
            .any(|c| c.barriers != "aligned" && c.barriers != "at-least-once");
        if !self.checkpoints.is_empty() {
            // With unaligned checkpoints: how the barriers travelled and the in-flight data kept.
            let _ = writeln!(
                o,
                "\nCheckpoints   id   triggered   completed   alignment    sync   async       size{}  outcome",
                if unaligned {
                    "   in-flight  barriers            "
                } else {
                    ""
                }
            );
            for c in &self.checkpoints {
                let done = c.completed_ms.map_or("-".to_string(), fmt_ms);
                let extra = if unaligned {
                    format!(
                        " {:>11}  {:<20}",
                        format!("{} B", c.in_flight_bytes),
                        c.barriers
                    )
                } else {
                    String::new()
                };
                let _ = writeln!(
                    o,
                    "  {:>14} {:>11} {:>11} {:>11} {:>7} {:>7} {:>10}{extra}  {}",
                    c.id,
                    fmt_ms(c.trigger_ms),
                    done,
                    fmt_ms(c.alignment_ms),
                    fmt_ms(c.sync_ms),
                    fmt_ms(c.async_ms),
                    format!("{} B", c.size_bytes),
                    match &c.savepoint {
                        Some(k) => format!("{} ({k})", c.outcome),
                        None => c.outcome.clone(),
                    }
                );
            }
        }
        if !self.comparison.is_empty() {
            let _ = writeln!(
                o,
                "\nAligned vs unaligned (the same job and seed, run once with each)\n  barriers                completed  failed  duration p50 / max      alignment max   in-flight max  job"
            );
            let opt = |v: Option<f64>| v.map_or("-".to_string(), fmt_ms);
            for v in &self.comparison {
                let _ = writeln!(
                    o,
                    "  {:<22} {:>10} {:>7}  {:>10} / {:<10} {:>13} {:>15}  {} after {}",
                    v.barriers,
                    v.completed,
                    v.failed,
                    opt(v.duration_ms_p50),
                    opt(v.duration_ms_max),
                    opt(v.alignment_ms_max),
                    format!("{} B", v.in_flight_bytes_max),
                    v.outcome,
                    fmt_ms(v.sim_duration_ms)
                );
            }
        }
        for f in &self.failures {
            let tasks = plural(f.tasks_restarted as u64, "task", "tasks");
            let what = match (f.downtime_ms, f.restored_checkpoint) {
                (None, _) => format!("{tasks} cancelled · not restarted: the job failed"),
                (Some(d), Some(id)) => {
                    format!(
                        "{tasks} restarted · down {}, restored checkpoint {id}",
                        fmt_ms(d)
                    )
                }
                (Some(d), None) => format!(
                    "{tasks} restarted · down {}, restarted from the beginning",
                    fmt_ms(d)
                ),
            };
            let _ = writeln!(o, "\nFailure at {}: {} · {what}", fmt_ms(f.at_ms), f.cause);
        }
        if let Some(r) = &self.rescale {
            let _ = writeln!(
                o,
                "\nRescale     stop-with-savepoint {} triggered {} · stopped {} · running again {} · down {}",
                r.savepoint,
                fmt_ms(r.triggered_ms),
                fmt_ms(r.stopped_ms),
                fmt_ms(r.restarted_ms),
                fmt_ms(r.downtime_ms)
            );
            for op in &r.operators {
                let mut line = format!(
                    "  {:<24}{:>4} → {:<4}",
                    op.name, op.old_parallelism, op.new_parallelism
                );
                if !op.key_groups.is_empty() {
                    let kg: Vec<String> = op
                        .key_groups
                        .iter()
                        .zip(&op.keys)
                        .map(|((a, b), k)| format!("{a}-{b} ({k} keys)"))
                        .collect();
                    let _ = write!(
                        line,
                        " key groups of {}: {}",
                        op.max_parallelism,
                        kg.join(", ")
                    );
                }
                if !op.splits.is_empty() {
                    let sp: Vec<String> = op
                        .splits
                        .iter()
                        .map(|s| {
                            let p: Vec<String> = s.iter().map(|x| format!("p{x}")).collect();
                            format!("[{}]", p.join(" "))
                        })
                        .collect();
                    let _ = write!(line, " splits per subtask: {}", sp.join(" "));
                }
                let _ = writeln!(o, "{}", line.trim_end());
            }
        }
        if self.job_status.len() > 2 {
            let steps: Vec<String> = self
                .job_status
                .iter()
                .map(|t| match &t.note {
                    Some(n) => format!("{} {} ({n})", t.status, fmt_ms(t.at_ms)),
                    None => format!("{} {}", t.status, fmt_ms(t.at_ms)),
                })
                .collect();
            let _ = writeln!(o, "\nJob status  {}", steps.join(" → "));
        }
        if self
            .sinks
            .iter()
            .any(|s| s.duplicates.is_some() || s.compared_by.is_some())
        {
            let _ = writeln!(
                o,
                "\nGuarantees (compared with the same run without faults{})\n  sink                  guarantee        committed  duplicates   missing  visible latency p50 / p99",
                if self.rescale.is_some() {
                    " or rescale"
                } else {
                    ""
                }
            );
            for s in &self.sinks {
                let _ = writeln!(
                    o,
                    "  {:<20}  {:<15} {:>10} {:>11} {:>9}  {} / {}",
                    s.name,
                    s.guarantee,
                    s.committed,
                    s.duplicates.map_or("-".into(), |d| d.to_string()),
                    s.missing.map_or("-".into(), |d| d.to_string()),
                    fmt_ms(s.latency.p50_ms),
                    fmt_ms(s.latency.p99_ms)
                );
            }
            for s in &self.sinks {
                if let Some(n) = &s.comparison_note {
                    let _ = writeln!(o, "  note: `{}` {}", s.name, n);
                }
            }
        }
        for f in self.faults_not_reached.iter().chain(&self.warnings) {
            let _ = writeln!(o, "\nwarning: {f}");
        }
    }

    /// The readable summary `streamlab run` prints, with up to 10 rows of each sink.
    pub fn summary(&self) -> String {
        self.summary_with_rows(10)
    }

    /// The readable summary, with up to `rows` rows of each sink (of those the report
    /// captured).
    pub fn summary_with_rows(&self, rows: usize) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "streamlab run · scenario `{}` · mode {} · seed {}",
            self.scenario, self.mode, self.seed
        );
        let status = match self.outcome.status {
            Status::Finished => "finished".to_string(),
            Status::Failed => format!("FAILED: {}", self.outcome.message.as_deref().unwrap_or("")),
            Status::LimitReached => {
                format!("STOPPED: {}", self.outcome.message.as_deref().unwrap_or(""))
            }
        };
        let _ = writeln!(o, "outcome     {status}");
        let _ = writeln!(
            o,
            "simulated   {} of processing time, {}",
            human_nanos(self.sim_duration_ms * 1e6),
            plural(self.events, "event", "events")
        );
        let _ = writeln!(
            o,
            "records     {} from sources, {} into sinks; throughput {} records/s (simulated)",
            self.source_records,
            self.sink_records,
            fmt_rate(self.throughput_per_s)
        );
        let l = &self.latency;
        // Which records the headline latency is over: one sink's, or every sink's together.
        let over = match self.sinks.as_slice() {
            [one] => format!("record creation → sink `{}`", one.name),
            [] => "record creation → sink".to_string(),
            many => format!(
                "record creation → sink, all {} sinks together; each sink below",
                many.len()
            ),
        };
        let _ = writeln!(
            o,
            "latency     p50 {} · p90 {} · p99 {} · max {}  ({over})",
            fmt_ms(l.p50_ms),
            fmt_ms(l.p90_ms),
            fmt_ms(l.p99_ms),
            fmt_ms(l.max_ms)
        );
        let _ = writeln!(
            o,
            "\nOperators                 parallelism   records in   records out"
        );
        for op in &self.operators {
            let _ = writeln!(
                o,
                "  {:<24}{:>6}   {:>12}  {:>12}   {}",
                op.name, op.parallelism, op.records_in, op.records_out, op.kind
            );
        }
        let _ = writeln!(
            o,
            "\n{:<42} {:>11} {:>11} {:>14} {:>11}",
            "Tasks (time split of each subtask)", "busy", "cpu-wait", "backpressured", "idle"
        );
        for t in &self.tasks {
            let name = if t.before_rescale {
                format!("(old) {} #{}", t.chain, t.subtask)
            } else {
                format!("{} #{}", t.chain, t.subtask)
            };
            let name = cut_middle(&name, 40);
            let _ = writeln!(
                o,
                "  {:<40} {:>11} {:>11} {:>14} {:>11}",
                name,
                fmt_ms(t.busy_ms),
                fmt_ms(t.cpu_wait_ms),
                fmt_ms(t.backpressured_ms),
                fmt_ms(t.idle_ms)
            );
        }
        let windows: Vec<&OperatorReport> = self
            .operators
            .iter()
            .filter(|o| o.windows.is_some())
            .collect();
        if !windows.is_empty() {
            let _ = writeln!(
                o,
                "\nWindows                     fired  late firings  late dropped  late → side output  left open"
            );
            for op in windows {
                let w = op.windows.as_ref().expect("filtered");
                let _ = writeln!(
                    o,
                    "  {:<24}{:>8} {:>13} {:>13} {:>19} {:>10}",
                    op.name,
                    w.fired,
                    w.late_firings,
                    w.late_dropped,
                    w.late_side_output,
                    w.windows_left_open
                );
            }
        }
        let with_wm: Vec<&TaskReport> = self
            .tasks
            .iter()
            .filter(|t| t.watermark.is_some() && !t.before_rescale)
            .collect();
        // A job without event time only ever sees the final +∞ watermark: nothing to show.
        let event_time_moved = with_wm.iter().any(|t| {
            !t.watermark_lag_ms.is_empty()
                || t.channel_watermarks
                    .iter()
                    .any(|c| c.watermark.is_some_and(|w| w != i64::MAX))
        });
        if event_time_moved && with_wm.iter().any(|t| !t.channel_watermarks.is_empty()) {
            let _ = writeln!(o, "\nWatermarks at the end (per input channel)");
            for t in with_wm {
                let fmt = |w: Option<i64>| match w {
                    None => "none".to_string(),
                    Some(i64::MAX) => "+∞ (end of input)".to_string(),
                    Some(w) => w.to_string(),
                };
                let name = format!("{} #{}", t.chain, t.subtask);
                let end_ms = self.outcome.at_ns as f64 / 1e6;
                let stall = match t.longest_watermark_stall_ms(end_ms) {
                    None => " · it did not move before the end of the input".to_string(),
                    Some(ms) => format!(" · longest stall {}", fmt_ms(round3(ms))),
                };
                let _ = writeln!(o, "  {name}: {}{stall}", fmt(t.watermark.flatten()));
                for c in &t.channel_watermarks {
                    let idle = if c.idle { " (idle)" } else { "" };
                    let _ = writeln!(o, "      from {}: {}{idle}", c.from, fmt(c.watermark));
                }
            }
        }
        let n = &self.network;
        let _ = writeln!(
            o,
            "\nNetwork     {} buffers, {} bytes, {:.1} records/buffer; sent because full {}, by timeout {}, at end {}",
            n.buffers,
            n.bytes,
            n.records_per_buffer,
            n.flushed_full,
            n.flushed_timeout,
            n.flushed_end
        );
        self.fault_tolerance_summary(&mut o);
        for s in &self.sinks {
            let _ = writeln!(
                o,
                "\nSink `{}` ({}): {} records, {} records/s, latency p50 {} p99 {}, last record at {}, checksum {}",
                s.name,
                s.kind,
                s.records,
                fmt_rate(s.throughput_per_s),
                fmt_ms(s.latency.p50_ms),
                fmt_ms(s.latency.p99_ms),
                fmt_ms(s.last_ms),
                s.checksum
            );
            if !s.rows.is_empty() {
                let shown = s.rows.len().min(rows);
                let captured = s.rows.len() as u64;
                let what = if s.kind == "upsert" {
                    // the final table has `rows_total` rows; the report keeps `captured`
                    if captured < s.rows_total {
                        format!(
                            "final table, showing {shown} of {} captured rows ({} rows in all)",
                            captured, s.rows_total
                        )
                    } else {
                        format!("final table, showing {shown} of {} rows", s.rows_total)
                    }
                } else {
                    format!(
                        "first records, showing {shown} of {} captured rows ({} records in all)",
                        captured, s.records
                    )
                };
                let _ = writeln!(o, "  {what}: {}", s.fields.join(", "));
                for r in s.rows.iter().take(shown) {
                    let cells: Vec<String> = r
                        .iter()
                        .map(|v| match v {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect();
                    let _ = writeln!(o, "    {}", cells.join(", "));
                }
            }
        }
        o
    }
}

/// `1 event`, `2 events`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `name` in at most `max` characters, cut in the middle (`Source: a -> … -> Sink: b #1`) so
/// that its end — the subtask index — stays.
pub fn cut_middle(name: &str, max: usize) -> String {
    let n = name.chars().count();
    if n <= max || max < 3 {
        return name.to_string();
    }
    let tail = (max - 1) / 2;
    let head = max - 1 - tail;
    let start: String = name.chars().take(head).collect();
    let end: String = name.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

/// "12.345 ms" or "1.200 s".
pub fn fmt_ms(ms: f64) -> String {
    human_nanos(ms * 1e6)
}

/// "1.23 M" style rate.
pub fn fmt_rate(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.2} M", r / 1e6)
    } else if r >= 1e3 {
        format!("{:.1} k", r / 1e3)
    } else {
        format!("{r:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(trail: Vec<(f64, f64)>) -> TaskReport {
        TaskReport {
            before_rescale: false,
            chain: "w".into(),
            subtask: 0,
            task_manager: 0,
            busy_ms: 0.0,
            cpu_wait_ms: 0.0,
            backpressured_ms: 0.0,
            idle_ms: 0.0,
            buffers_out: 0,
            watermark: Some(Some(i64::MAX)),
            channel_watermarks: Vec::new(),
            watermark_lag_ms: trail,
        }
    }

    #[test]
    fn a_status_is_named_as_the_report_writes_it() {
        for s in [Status::Finished, Status::Failed, Status::LimitReached] {
            assert_eq!(serde_json::to_value(&s).unwrap(), s.name());
        }
    }

    #[test]
    fn the_longest_stall_counts_the_start_the_gaps_and_the_end() {
        // advances at 1 s, 1.1 s, 5 s; the run ends at 6 s: the longest stall is 3.9 s
        let t = task(vec![(1000.0, 0.0), (1100.0, 0.0), (5000.0, 0.0)]);
        assert_eq!(t.longest_watermark_stall_ms(6000.0), Some(3900.0));
        // a late first watermark and a long tail count too
        assert_eq!(
            task(vec![(7000.0, 0.0)]).longest_watermark_stall_ms(8000.0),
            Some(7000.0)
        );
        assert_eq!(
            task(vec![(1000.0, 0.0)]).longest_watermark_stall_ms(9000.0),
            Some(8000.0)
        );
        assert_eq!(task(vec![]).longest_watermark_stall_ms(9000.0), None);
    }

    #[test]
    fn long_task_names_are_cut_in_the_middle_and_keep_their_subtask() {
        let a = cut_middle("clicks_per_user -> Sink: at_once -> Sink: committed #0", 40);
        let b = cut_middle("clicks_per_user -> Sink: at_once -> Sink: committed #1", 40);
        assert_eq!(a.chars().count(), 40);
        assert!(
            a.ends_with("committed #0") && b.ends_with("committed #1"),
            "{a} / {b}"
        );
        assert!(a.starts_with("clicks_per_user") && a.contains('…'), "{a}");
        assert_eq!(cut_middle("short #3", 40), "short #3");
        assert_eq!(plural(1, "chain", "chains"), "1 chain");
        assert_eq!(plural(0, "event", "events"), "0 events");
    }
}
