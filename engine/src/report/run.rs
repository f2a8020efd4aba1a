//! The report of a whole run: how it ended ([`Outcome`]) and every part of it
//! ([`RunReport`]), with the network totals and the throughput series.

use super::de;
use super::{
    CheckpointReport, FailureReport, JobTransition, Latency, OperatorReport, RescaleReport,
    SinkReport, TaskReport, VariantReport,
};
use serde::{Deserialize, Serialize};

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
    /// How the job got onto the cluster and its start-up timeline (`[deployment]`; absent
    /// without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<super::DeploymentReport>,
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
    /// Late records dropped over all window and join operators.
    pub fn late_dropped(&self) -> u64 {
        self.operators
            .iter()
            .filter_map(|o| o.windows.as_ref())
            .map(|w| w.late_dropped)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_is_named_as_the_report_writes_it() {
        for s in [Status::Finished, Status::Failed, Status::LimitReached] {
            assert_eq!(serde_json::to_value(&s).unwrap(), s.name());
        }
    }
}
