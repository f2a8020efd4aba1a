//! Fault tolerance: checkpoints, failures and recovery, the job's status changes, the
//! rescale, and the aligned-vs-unaligned comparison.

use super::de;
use serde::{Deserialize, Serialize};

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
