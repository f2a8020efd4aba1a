//! Answers to "why?" about one run: why a window fired (or did not), what happened to a
//! record, where a sink row came from (and why it is a duplicate, or which rows are missing), which subtask is the
//! bottleneck, what a checkpoint spent its time on.
//!
//! A run is deterministic, so every answer comes from re-running the scenario with the
//! recording it needs switched on and reading what the kernel saw. Each question lives in its
//! own module and returns an [`Answer`]: a headline, the Flink rule it applied in one sentence,
//! the evidence, and the smallest change that would give another outcome — as text
//! (`streamlab explain`) and as data (`--json`, the Rust API).

pub mod answer;
pub mod bottleneck;
pub mod checkpoint;
pub mod missing;
pub mod record;
pub mod recorder;
pub mod sink;
pub mod window;

pub use answer::{Answer, ExplainError};

use crate::core::time::EventTime;
use crate::plan::Plan;
use crate::scenario::Scenario;

/// One question about a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    /// The window `[start, start + size)` of window operator `operator` for key `key` (the key
    /// as the summary prints it).
    Window {
        /// Operator name, as in the plan.
        operator: String,
        /// The key, as printed in the summary (`alice`, `3`).
        key: String,
        /// The window's start (event time, ms).
        start: EventTime,
    },
    /// The `n`-th record (from 0) a source emitted, or of one of its partitions.
    Record {
        /// Source name.
        source: String,
        /// A source partition (split); `None`: the source's records in emission order.
        partition: Option<u32>,
        /// Position, from 0.
        n: u64,
    },
    /// A row of a sink: by its position among the rows the sink received, or by key.
    SinkRow {
        /// Sink name.
        sink: String,
        /// Position among the rows the sink received (from 0).
        row: Option<u64>,
        /// Or the rows of this key.
        key: Option<String>,
    },
    /// The rows of a sink that the fault-free run of the same scenario and seed made visible
    /// and this run did not, each with why.
    SinkMissing {
        /// Sink name.
        sink: String,
    },
    /// Which subtask limits the job (Flink's way of locating backpressure).
    Bottleneck,
    /// Checkpoint `id`: its phases per subtask, and why it failed or expired if it did.
    Checkpoint {
        /// Checkpoint id, as in the summary.
        id: u64,
    },
}

/// Re-runs the scenario (the run `streamlab run` shows: same scenario, same seed) with the
/// recorder attached, and returns its report and what it recorded.
pub fn rerun(
    s: &Scenario,
    p: &Plan,
    seed: Option<u64>,
    recording: recorder::Recording,
) -> Result<(crate::report::RunReport, recorder::Recording), ExplainError> {
    let (out, recording) = rerun_output(s, p, seed, recording)?;
    Ok((out.report, recording))
}

/// [`rerun`], keeping the whole output: also what each sink made visible, to compare with
/// another run.
pub fn rerun_output(
    s: &Scenario,
    p: &Plan,
    seed: Option<u64>,
    recording: recorder::Recording,
) -> Result<(crate::sim::RunOutput, recorder::Recording), ExplainError> {
    let lineage = recording.lineage.clone();
    let rec = recorder::Recorder(std::rc::Rc::new(std::cell::RefCell::new(recording)));
    let opts = crate::sim::RunOptions {
        seed,
        // Annotations on: window operators log what they fire.
        check: true,
        follow_record: rec.0.borrow().follow_spec,
        ..Default::default()
    };
    let mut sim = crate::sim::Simulation::new(s, p, opts);
    sim.observe(Box::new(rec.clone()));
    if let Some(l) = lineage {
        sim.keep_sink_lineage(l);
    }
    let out = sim.run()?;
    let recording = std::mem::take(&mut *rec.0.borrow_mut());
    Ok((out, recording))
}

/// Answers `q` about the run of scenario `s` (planned as `p`) with `seed` (default: the
/// scenario's). Faults (also drawn ones, `--chaos`) must already be in `s`.
pub fn explain(
    s: &Scenario,
    p: &Plan,
    seed: Option<u64>,
    q: &Question,
) -> Result<Answer, ExplainError> {
    match q {
        Question::Window {
            operator,
            key,
            start,
        } => window::answer(s, p, seed, operator, key, *start),
        Question::Record { .. } => record::answer(s, p, seed, q),
        Question::SinkRow { .. } => sink::answer(s, p, seed, q),
        Question::SinkMissing { sink } => missing::answer(s, p, seed, sink),
        Question::Bottleneck => bottleneck::answer(s, p, seed),
        Question::Checkpoint { id } => checkpoint::answer(s, p, seed, *id),
    }
}
