//! What a run in one execution mode reports beside the common [`RunReport`]: the mode's
//! settings, batches or stages, failures and recovery, and per-sink correctness against the
//! same mode without its faults (DESIGN §6, §7). The drivers in `modes/` fill these in.

use super::RunReport;
use super::de;
use crate::core::time::EventTime;
use serde::{Deserialize, Serialize};

/// A failure and the recovery of a baseline mode.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FailureReport {
    /// When it happened (processing time, ms).
    pub at_ms: f64,
    /// How long the job was down (ms).
    pub downtime_ms: f64,
    /// Checkpoint restored (streaming only; `null` in the baselines).
    #[serde(deserialize_with = "de::required")]
    pub restored_checkpoint: Option<u64>,
    /// What recovery did.
    pub recovery: String,
}

/// One micro-batch (or, in batch mode, one stage).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BatchReport {
    /// Batch id (stage: its chain's name).
    pub id: String,
    /// Start (ms).
    pub start_ms: f64,
    /// End: results visible (ms).
    pub end_ms: f64,
    /// Source records it took in.
    pub records: u64,
    /// The watermark it applied (`null`: none yet).
    #[serde(deserialize_with = "de::required")]
    pub watermark: Option<EventTime>,
}

/// Correctness of one sink against the same mode's run without the crash.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SinkCorrectness {
    /// Sink name.
    pub name: String,
    /// Records received.
    pub records: u64,
    /// Records received more often than in the reference.
    pub duplicates: u64,
    /// Records of the reference never received.
    pub missing: u64,
}

/// What a mode did beyond the common report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ModeDetails {
    /// The mode's settings, as text (`trigger = 1 s`, …).
    pub settings: Vec<String>,
    /// Batches (micro-batch) or stages (batch).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub batches: Vec<BatchReport>,
    /// Failures and their recovery.
    pub failures: Vec<FailureReport>,
    /// Tuples replayed after their message timeout (acking).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replayed: Option<u64>,
    /// Per sink: duplicates and missing records against a run without the crash (`null`:
    /// no crash, nothing to compare).
    #[serde(deserialize_with = "de::required")]
    pub correctness: Option<Vec<SinkCorrectness>>,
    /// Late records dropped by window operators, over all of them.
    pub late_dropped: u64,
    /// What this mode cannot show for this scenario.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A run in one mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModeRun {
    /// The mode.
    pub mode: String,
    /// The common report (its `mode` field says the same).
    pub report: RunReport,
    /// The mode's own findings.
    pub details: ModeDetails,
}
