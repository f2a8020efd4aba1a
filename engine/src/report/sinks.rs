//! What each sink received: counts, latency, checksum, rows, and how it compared with the
//! fault-free run.

use super::Latency;
use serde::{Deserialize, Serialize};

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
    /// Records of pre-committed transactions the broker aborted because they stayed open
    /// longer than `transaction_timeout`: their commit found them aborted, they are lost.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub timed_out: u64,
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
