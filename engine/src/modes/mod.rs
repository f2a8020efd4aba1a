//! Execution modes: the same job under four execution models (DESIGN §6).
//!
//! - [`Mode::Streaming`] — Flink: the simulator of [`crate::sim`], pipelined, record batches in
//!   network buffers, watermarks.
//! - [`Mode::MicroBatch`] — Spark: every trigger the records that have arrived form a bounded
//!   job run stage by stage; the watermark is computed at the end of a batch and used in the
//!   next; results become visible when the batch ends ([`microbatch`]).
//! - [`Mode::Batch`] — Flink's BATCH runtime mode: the bounded input is processed once it is
//!   complete, stage by stage with blocking exchanges; keyed reduces emit one final row per
//!   key, event-time windows fire once at the end; results are visible when the job ends
//!   ([`batch`]).
//! - [`Mode::Acking`] — Storm: record at a time, per-tuple acks, replay of tuples that were not
//!   acked within the message timeout: at-least-once ([`acking`]).
//!
//! All four use the same operator implementations, partitioners and watermark generators
//! (the baselines drive the streaming simulator's operator instances and record writers
//! through [`dataflow::Dataflow`]) and the same cost model: only scheduling differs.
//!
//! **Latency** is defined once for all of them: from a record's creation at its source (its
//! birth in processing time) to the moment its result is *visible* at the sink — when the
//! sink receives it in streaming and acking, when the batch that produced it commits in
//! micro-batch, when the job ends in batch. A result made from several records (a window)
//! carries the creation time the operator gives it (the latest input it saw); a BATCH-mode
//! reduce's final row, the creation time of the oldest record it reflects.

pub mod acking;
pub mod batch;
pub mod dataflow;
pub mod faults;
pub mod microbatch;
mod report;

use crate::plan::Plan;
pub use crate::report::mode::{BatchReport, FailureReport, ModeDetails, ModeRun, SinkCorrectness};
use crate::scenario::Scenario;

/// An execution model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// Flink streaming.
    Streaming,
    /// Spark micro-batch (Structured Streaming or DStream).
    MicroBatch,
    /// Bounded batch, stage by stage.
    Batch,
    /// Storm record-at-a-time with acking.
    Acking,
}

impl Mode {
    /// Every mode, in the order charts show them.
    pub const ALL: [Mode; 4] = [Mode::Streaming, Mode::MicroBatch, Mode::Batch, Mode::Acking];

    /// The name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Streaming => "streaming",
            Mode::MicroBatch => "micro-batch",
            Mode::Batch => "batch",
            Mode::Acking => "acking",
        }
    }

    /// Parses a name (`micro_batch` and `microbatch` are accepted too).
    pub fn parse(s: &str) -> Option<Mode> {
        match s.trim() {
            "streaming" => Some(Mode::Streaming),
            "micro-batch" | "micro_batch" | "microbatch" => Some(Mode::MicroBatch),
            "batch" => Some(Mode::Batch),
            "acking" => Some(Mode::Acking),
            _ => None,
        }
    }

    /// Parses a comma-separated list, in the order given, without repeats.
    pub fn parse_list(list: &str) -> Result<Vec<Mode>, String> {
        let mut v = Vec::new();
        for part in list.split(',') {
            match Mode::parse(part) {
                Some(m) if !v.contains(&m) => v.push(m),
                Some(_) => {}
                None => {
                    return Err(format!(
                        "unknown mode `{}`; valid modes: {}",
                        part.trim(),
                        Mode::ALL.map(Mode::name).join(", ")
                    ));
                }
            }
        }
        if v.is_empty() {
            return Err(format!(
                "no mode given; valid modes: {}",
                Mode::ALL.map(Mode::name).join(", ")
            ));
        }
        Ok(v)
    }
}

/// Options of one run in a mode.
#[derive(Debug, Clone, Default)]
pub struct ModeOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Leave out the scenario's crash (the reference run of a baseline's correctness check;
    /// streaming runs its own fault-free reference).
    pub without_crash: bool,
}

/// Why a mode could not run.
#[derive(Debug, thiserror::Error)]
pub enum ModeError {
    /// The mode needs something the scenario does not have.
    #[error("{mode} mode cannot run `{scenario}`: {reason}")]
    Unsupported {
        /// The mode.
        mode: &'static str,
        /// The scenario.
        scenario: String,
        /// Why.
        reason: String,
    },
    /// Writing a trace failed (streaming).
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Runs a planned scenario in one mode. Same scenario, mode and seed ⇒ the same report.
pub fn run_mode(
    s: &Scenario,
    p: &Plan,
    mode: Mode,
    opts: &ModeOptions,
) -> Result<ModeRun, ModeError> {
    let (mut run, outputs) = run_collecting(s, p, mode, opts, opts.without_crash)?;
    // The correctness oracle (DESIGN §7): the same mode without the crash. Streaming's run
    // compares itself with a fault-free run (`oracle::run`) and reports it per sink.
    let crashes = faults::baseline_faults(s).crash.is_some();
    if mode != Mode::Streaming && crashes && !opts.without_crash {
        let (_, reference) = run_collecting(s, p, mode, opts, true)?;
        run.details.correctness = Some(report::compare_outputs(&run.report, &reference, &outputs));
    }
    Ok(run)
}

fn run_collecting(
    s: &Scenario,
    p: &Plan,
    mode: Mode,
    opts: &ModeOptions,
    without_crash: bool,
) -> Result<(ModeRun, dataflow::SinkOutputs), ModeError> {
    let baseline = faults::baseline_faults(s);
    let crash = if without_crash { None } else { baseline.crash };
    let collect = baseline.crash.is_some() && mode != Mode::Streaming;
    let (mut run, outputs) = match mode {
        Mode::Streaming => {
            let out = crate::oracle::run(
                s,
                p,
                crate::sim::RunOptions {
                    seed: opts.seed,
                    ..Default::default()
                },
            )?;
            let details = ModeDetails {
                settings: vec![match s.job.buffer_timeout {
                    crate::core::cost::BufferTimeout::Interval(d) => format!("buffer timeout {d}"),
                    crate::core::cost::BufferTimeout::Off => "buffer timeout off".into(),
                }],
                late_dropped: out.report.late_dropped(),
                // Failures and per-sink duplicates / missing come from the simulator's own
                // fault-free reference run (`oracle::run`), shown like the baselines' ones.
                failures: out
                    .report
                    .failures
                    .iter()
                    .map(|f| FailureReport {
                        at_ms: f.at_ms,
                        downtime_ms: f.downtime_ms.unwrap_or(0.0),
                        restored_checkpoint: f.restored_checkpoint,
                        recovery: f.cause.clone(),
                    })
                    .collect(),
                correctness: out
                    .report
                    .sinks
                    .iter()
                    .map(|k| {
                        Some(SinkCorrectness {
                            name: k.name.clone(),
                            records: k.records,
                            duplicates: k.duplicates?,
                            missing: k.missing?,
                        })
                    })
                    .collect(),
                ..Default::default()
            };
            let run = ModeRun {
                mode: mode.name().into(),
                report: out.report,
                details,
            };
            (run, Vec::new())
        }
        Mode::MicroBatch => microbatch::run(s, p, opts.seed, crash, collect)?,
        Mode::Batch => batch::run(s, p, opts.seed, crash, collect)?,
        Mode::Acking => acking::run(s, p, opts.seed, crash, collect)?,
    };
    if mode != Mode::Streaming && !without_crash {
        run.details.notes.extend(baseline.ignored);
    }
    Ok((run, outputs))
}

/// Every bounded source: batch mode needs its input to end.
pub(crate) fn require_bounded(s: &Scenario, mode: &'static str) -> Result<(), ModeError> {
    for n in &s.nodes {
        if let crate::scenario::NodeKind::Source(src) = &n.kind {
            let bounded = match &src.data {
                crate::scenario::SourceData::Rows { .. } => true,
                crate::scenario::SourceData::Generator {
                    count, duration, ..
                } => count.is_some() || duration.is_some(),
            };
            if !bounded {
                return Err(ModeError::Unsupported {
                    mode,
                    scenario: s.name.clone(),
                    reason: format!(
                        "source `{}` has no end (give it a `count` or a `duration`)",
                        n.name
                    ),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
