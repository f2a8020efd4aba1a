//! Stage one of reading a scenario: the file's shape, exactly as written.
//!
//! These structs mirror the TOML with `deny_unknown_fields`, so a misspelt key is reported
//! by the deserializer at its position with the list of valid keys. Every value that stage
//! two ([`crate::check`]) may reject is wrapped in [`Spanned`] so that its error can point
//! at it. Each kind of source, operator and sink shares one flat struct with a `kind` field:
//! stage two then says precisely which keys belong to which kind.

// The fields mirror the file format one to one; docs/scenario-format.md documents each.
#![allow(missing_docs)]

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Option<Spanned<String>>,
    pub description: Option<String>,
    pub seed: Option<Spanned<i64>>,
    pub cluster: Option<Spanned<RawCluster>>,
    pub deployment: Option<Spanned<RawDeployment>>,
    pub job: Option<Spanned<RawJob>>,
    pub cost: Option<Spanned<RawCost>>,
    pub limits: Option<Spanned<RawLimits>>,
    #[serde(default, rename = "source")]
    pub sources: Vec<Spanned<RawSource>>,
    #[serde(default, rename = "operator")]
    pub operators: Vec<Spanned<RawOperator>>,
    #[serde(default, rename = "sink")]
    pub sinks: Vec<Spanned<RawSink>>,
    #[serde(default, rename = "table")]
    pub tables: Vec<Spanned<RawTable>>,
    #[serde(default, rename = "query")]
    pub queries: Vec<Spanned<RawQuery>>,
    pub checkpointing: Option<Spanned<RawCheckpointing>>,
    pub restart: Option<Spanned<RawRestart>>,
    #[serde(default, rename = "fault")]
    pub faults: Vec<Spanned<RawFault>>,
    pub modes: Option<Spanned<RawModes>>,
    pub chaos: Option<Spanned<RawChaos>>,
    #[serde(default, rename = "savepoint")]
    pub savepoints: Vec<Spanned<RawSavepoint>>,
    pub rescale: Option<Spanned<RawRescale>>,
    #[serde(default, rename = "expect")]
    pub expects: Vec<Spanned<RawExpect>>,
}

/// One `[[expect]]`: what a run must show (`streamlab check`). At most one subject key
/// (`sink`, `operator`, `edge`, `checkpoint`; none: the job), then what is expected of it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    pub sink: Option<Spanned<String>>,
    pub operator: Option<Spanned<String>>,
    pub edge: Option<Spanned<String>>,
    pub checkpoint: Option<Spanned<i64>>,
    pub rows: Option<Spanned<Vec<Spanned<toml::Value>>>>,
    #[serde(rename = "match")]
    pub rows_match: Option<Spanned<String>>,
    pub status: Option<Spanned<String>>,
    pub outcome: Option<Spanned<String>>,
    pub chained: Option<Spanned<bool>>,
    pub guarantee: Option<Spanned<String>>,
    pub checkpointing: Option<Spanned<String>>,
    // The measures: a number (exactly) or a bound such as "< 50 ms" or ">= 3".
    pub records: Option<Spanned<toml::Value>>,
    pub duplicates: Option<Spanned<toml::Value>>,
    pub missing: Option<Spanned<toml::Value>>,
    pub latency_p50: Option<Spanned<toml::Value>>,
    pub latency_p99: Option<Spanned<toml::Value>>,
    pub latency_max: Option<Spanned<toml::Value>>,
    pub throughput: Option<Spanned<toml::Value>>,
    pub fired: Option<Spanned<toml::Value>>,
    pub late_firings: Option<Spanned<toml::Value>>,
    pub late_dropped: Option<Spanned<toml::Value>>,
    pub late_side_output: Option<Spanned<toml::Value>>,
    pub windows_left_open: Option<Spanned<toml::Value>>,
    pub records_in: Option<Spanned<toml::Value>>,
    pub records_out: Option<Spanned<toml::Value>>,
    pub slots: Option<Spanned<toml::Value>>,
    pub restarts: Option<Spanned<toml::Value>>,
    pub failures: Option<Spanned<toml::Value>>,
    pub parallelism: Option<Spanned<toml::Value>>,
}

/// One `[[savepoint]]` (`flink savepoint <jobId>` at a time).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSavepoint {
    pub at: Spanned<String>,
}

/// `[rescale]`: stop-with-savepoint, then resubmit from it with new parallelism.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRescale {
    pub at: Spanned<String>,
    pub downtime: Option<Spanned<String>>,
    pub parallelism: Option<Spanned<IndexMap<String, Spanned<i64>>>>,
    pub max_parallelism: Option<Spanned<i64>>,
}

/// `[checkpointing]` (Flink's `execution.checkpointing.*`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCheckpointing {
    pub interval: Spanned<String>,
    pub mode: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub min_pause: Option<Spanned<String>>,
    pub max_concurrent: Option<Spanned<i64>>,
    pub tolerable_failures: Option<Spanned<i64>>,
    pub unaligned: Option<Spanned<bool>>,
    pub aligned_timeout: Option<Spanned<String>>,
    pub compare_aligned: Option<Spanned<bool>>,
    pub storage_bandwidth: Option<Spanned<String>>,
    pub storage_latency: Option<Spanned<String>>,
    pub retained: Option<Spanned<i64>>,
}

/// `[restart]` (Flink's `restart-strategy.*` and `jobmanager.execution.failover-strategy`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRestart {
    pub strategy: Option<Spanned<String>>,
    pub attempts: Option<Spanned<i64>>,
    pub delay: Option<Spanned<String>>,
    pub max_failures: Option<Spanned<i64>>,
    pub interval: Option<Spanned<String>>,
    pub initial_delay: Option<Spanned<String>>,
    pub max_delay: Option<Spanned<String>>,
    pub multiplier: Option<Spanned<f64Like>>,
    pub reset_threshold: Option<Spanned<String>>,
    pub jitter: Option<Spanned<f64Like>>,
    pub failover: Option<Spanned<String>>,
    pub flink_version: Option<Spanned<String>>,
}

/// One `[[fault]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    pub kind: Spanned<String>,
    pub at: Option<Spanned<String>>,
    pub after: Option<Spanned<String>>,
    pub operator: Option<Spanned<String>>,
    pub subtask: Option<Spanned<i64>>,
    pub task_manager: Option<Spanned<i64>>,
    pub replacement_delay: Option<Spanned<String>>,
    pub ha: Option<Spanned<bool>>,
    pub duration: Option<Spanned<String>>,
    pub factor: Option<Spanned<f64Like>>,
    pub between: Option<Spanned<Vec<i64>>>,
    pub extra: Option<Spanned<String>>,
}

/// `[cluster]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCluster {
    pub task_managers: Option<Spanned<i64>>,
    pub slots_per_task_manager: Option<Spanned<i64>>,
    pub cores_per_task_manager: Option<Spanned<i64>>,
}

/// `[deployment]`: how the job gets onto the cluster, and what each start-up step costs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeployment {
    pub mode: Option<Spanned<String>>,
    pub platform: Option<Spanned<String>>,
    pub kubernetes_mode: Option<Spanned<String>>,
    pub high_availability: Option<Spanned<String>>,
    pub client_main: Option<Spanned<String>>,
    pub upload: Option<Spanned<String>>,
    pub jobmanager_start: Option<Spanned<String>>,
    pub cluster_services: Option<Spanned<String>>,
    pub job_master: Option<Spanned<String>>,
    pub slot_request: Option<Spanned<String>>,
    pub task_manager_start: Option<Spanned<String>>,
    pub task_manager_registration: Option<Spanned<String>>,
    pub slot_offer: Option<Spanned<String>>,
    pub task_deployment: Option<Spanned<String>>,
    pub ha_timeout: Option<Spanned<String>>,
    pub slot_request_timeout: Option<Spanned<String>>,
}

/// `[job]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJob {
    pub parallelism: Option<Spanned<i64>>,
    pub environment_parallelism: Option<Spanned<i64>>,
    pub max_parallelism: Option<Spanned<i64>>,
    pub chaining: Option<bool>,
    pub buffer_timeout: Option<Spanned<String>>,
    pub auto_watermark_interval: Option<Spanned<String>>,
}

/// `[cost]`: overrides of the cost model.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCost {
    pub source_record: Option<Spanned<String>>,
    pub operator_record: Option<Spanned<String>>,
    pub keyed_record: Option<Spanned<String>>,
    pub sink_record: Option<Spanned<String>>,
    pub serialize_record: Option<Spanned<String>>,
    pub deserialize_record: Option<Spanned<String>>,
    pub local_channel_latency: Option<Spanned<String>>,
    pub remote_channel_latency: Option<Spanned<String>>,
    pub network_bandwidth: Option<Spanned<String>>,
    pub buffer_size: Option<Spanned<String>>,
    pub exclusive_buffers_per_channel: Option<Spanned<i64>>,
    pub floating_buffers_per_gate: Option<Spanned<i64>>,
    pub max_overdraft_buffers: Option<Spanned<i64>>,
    pub heartbeat_interval: Option<Spanned<String>>,
    pub heartbeat_timeout: Option<Spanned<String>>,
}

/// `[limits]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub max_sim_time: Option<Spanned<String>>,
    pub max_events: Option<Spanned<i64>>,
    pub max_records: Option<Spanned<i64>>,
    pub max_memory: Option<Spanned<String>>,
}

/// One `[[source]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    pub name: Spanned<String>,
    pub kind: Spanned<String>,
    pub parallelism: Option<Spanned<i64>>,
    pub slot_sharing_group: Option<Spanned<String>>,
    pub cost: Option<Spanned<String>>,
    /// Records per second of processing time, over all subtasks; absent = as fast as possible.
    pub rate: Option<Spanned<f64Like>>,
    // generator
    pub count: Option<Spanned<i64>>,
    pub duration: Option<Spanned<String>>,
    pub fields: Option<Spanned<IndexMap<String, Spanned<toml::Value>>>>,
    pub delay: Option<Spanned<RawDelay>>,
    // inline
    pub events: Option<Spanned<Vec<RawEvent>>>,
    pub repeat: Option<Spanned<i64>>,
    // csv
    pub path: Option<Spanned<String>>,
    // inline and csv
    pub timestamp: Option<Spanned<String>>,
    /// Integer field naming the partition (source subtask = value mod parallelism).
    pub partition: Option<Spanned<String>>,
    pub watermarks: Option<Spanned<RawWatermarks>>,
}

/// `watermarks = { strategy = "bounded", max_out_of_orderness = "2 s", … }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWatermarks {
    pub strategy: Spanned<String>,
    pub max_out_of_orderness: Option<Spanned<String>>,
    pub emit: Option<Spanned<String>>,
    pub interval: Option<Spanned<String>>,
    pub idleness: Option<Spanned<String>>,
    pub alignment_group: Option<Spanned<String>>,
    pub max_drift: Option<Spanned<String>>,
}

/// `window = { type = "tumbling", size = "5 s" }`
#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    pub size: Option<Spanned<toml::Value>>,
    pub slide: Option<Spanned<toml::Value>>,
    pub offset: Option<Spanned<String>>,
    pub gap: Option<Spanned<String>>,
    pub gap_expr: Option<Spanned<String>>,
}

/// `trigger = { type = "count", count = 3, purging = true }`
#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrigger {
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    pub count: Option<Spanned<i64>>,
    pub interval: Option<Spanned<String>>,
    pub purging: Option<bool>,
}

/// `evictor = { type = "count", count = 10 }`
#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvictor {
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    pub count: Option<Spanned<i64>>,
    pub size: Option<Spanned<String>>,
}

/// One inline event: field name → value, with positions.
pub type RawEvent = Spanned<IndexMap<String, Spanned<toml::Value>>>;

/// A number written as an integer or a float (`rate = 1000` or `rate = 2.5`).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
#[allow(non_camel_case_types)]
pub enum f64Like {
    Int(i64),
    Float(f64),
}

impl f64Like {
    pub fn get(self) -> f64 {
        match self {
            f64Like::Int(i) => i as f64,
            f64Like::Float(f) => f,
        }
    }
}

/// A generated field: `{ kind = "key", count = 1000, skew = "zipf", exponent = 1.1 }`.
/// Read from an already parsed TOML value, so its parts carry no positions of their own:
/// errors point at the whole field table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGenField {
    pub kind: String,
    pub count: Option<i64>,
    pub skew: Option<String>,
    pub exponent: Option<f64Like>,
    pub prefix: Option<String>,
    pub min: Option<toml::Value>,
    pub max: Option<toml::Value>,
    pub values: Option<Vec<toml::Value>>,
    pub value: Option<toml::Value>,
}

/// The event-time delay of generated records: how far behind processing time they are
/// stamped, which is what makes them arrive out of order.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDelay {
    pub distribution: Spanned<String>,
    pub value: Option<Spanned<String>>,
    pub min: Option<Spanned<String>>,
    pub max: Option<Spanned<String>>,
    pub mean: Option<Spanned<String>>,
}

/// One `[[operator]]`.
#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOperator {
    pub name: Spanned<String>,
    pub kind: Spanned<String>,
    pub input: Option<Spanned<String>>,
    pub inputs: Option<Spanned<Vec<Spanned<String>>>>,
    pub parallelism: Option<Spanned<i64>>,
    pub chaining: Option<Spanned<bool>>,
    pub start_new_chain: Option<Spanned<bool>>,
    pub slot_sharing_group: Option<Spanned<String>>,
    pub partitioner: Option<Spanned<String>>,
    pub cost: Option<Spanned<String>>,
    // map / flat_map / reduce(expr)
    pub select: Option<Spanned<IndexMap<String, Spanned<String>>>>,
    // filter
    #[serde(rename = "where")]
    pub where_: Option<Spanned<String>>,
    // key_by
    pub key: Option<Spanned<String>>,
    // reduce and window
    pub function: Option<Spanned<String>>,
    pub field: Option<Spanned<String>>,
    // window
    pub window: Option<Spanned<RawWindow>>,
    pub time: Option<Spanned<String>>,
    pub allowed_lateness: Option<Spanned<String>>,
    pub late_output: Option<Spanned<String>>,
    pub trigger: Option<Spanned<RawTrigger>>,
    pub evictor: Option<Spanned<RawEvictor>>,
    #[serde(rename = "as")]
    pub as_: Option<Spanned<String>>,
    // co_map
    pub map1: Option<Spanned<IndexMap<String, Spanned<String>>>>,
    pub map2: Option<Spanned<IndexMap<String, Spanned<String>>>>,
    // interval_join
    pub lower: Option<Spanned<String>>,
    pub upper: Option<Spanned<String>>,
    // process (long_ride_alert)
    pub is_start: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    // process: the stream its side output (`ctx.output(tag, …)`) goes to
    pub side_output: Option<Spanned<String>>,
    // pattern (CEP)
    pub pattern: Option<Spanned<Vec<Spanned<RawStep>>>>,
    pub within: Option<Spanned<String>>,
    pub skip: Option<Spanned<String>>,
}

/// One step of a CEP `pattern`: `{ begin = "fail", where = "not ok", times = 3 }`; later
/// steps name themselves with `next` or `followed_by` instead of `begin`.
#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub begin: Option<Spanned<String>>,
    pub next: Option<Spanned<String>>,
    pub followed_by: Option<Spanned<String>>,
    pub followed_by_any: Option<Spanned<String>>,
    pub not_next: Option<Spanned<String>>,
    pub not_followed_by: Option<Spanned<String>>,
    #[serde(rename = "where")]
    pub where_: Option<Spanned<String>>,
    /// `3` (`times(3)`) or `[2, 4]` (`times(2, 4)`).
    pub times: Option<Spanned<toml::Value>>,
    pub times_or_more: Option<Spanned<i64>>,
    pub consecutive: Option<Spanned<bool>>,
    pub allow_combinations: Option<Spanned<bool>>,
    pub one_or_more: Option<Spanned<bool>>,
    pub optional: Option<Spanned<bool>>,
    pub greedy: Option<Spanned<bool>>,
    pub until: Option<Spanned<String>>,
}

/// One `[[table]]`: a source seen as a SQL table, with the event-time attribute and
/// watermark of Flink's DDL (`WATERMARK FOR ts AS ts - INTERVAL '2' SECOND`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTable {
    /// The `[[source]]` it reads (the table has the source's name and fields).
    pub name: Spanned<String>,
    pub watermark: Option<Spanned<String>>,
}

/// One `[[query]]`: a streaming SQL query whose result goes to a sink.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuery {
    pub name: Spanned<String>,
    pub sql: Spanned<String>,
    /// The sink the result is written to (default: the query's name); `INSERT INTO x`
    /// names it too.
    pub sink: Option<Spanned<String>>,
    /// The sink takes inserts only (a file, a Kafka topic): an updating query is refused.
    pub append_only: Option<Spanned<bool>>,
    /// How many rows the sink keeps for the report (as a `[[sink]]`'s `capture`).
    pub capture: Option<Spanned<i64>>,
}

/// One `[[sink]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSink {
    pub name: Spanned<String>,
    pub kind: Option<Spanned<String>>,
    pub input: Spanned<String>,
    pub parallelism: Option<Spanned<i64>>,
    pub chaining: Option<Spanned<bool>>,
    pub start_new_chain: Option<Spanned<bool>>,
    pub slot_sharing_group: Option<Spanned<String>>,
    pub partitioner: Option<Spanned<String>>,
    pub cost: Option<Spanned<String>>,
    pub key: Option<Spanned<String>>,
    pub capture: Option<Spanned<i64>>,
    pub guarantee: Option<Spanned<String>>,
    pub transaction_timeout: Option<Spanned<String>>,
    pub transaction_max_timeout: Option<Spanned<String>>,
}

/// `[modes]`: settings of the baseline execution models.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModes {
    pub micro_batch: Option<Spanned<RawMicroBatch>>,
    pub acking: Option<Spanned<RawAcking>>,
}

/// `[modes.micro_batch]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMicroBatch {
    pub trigger: Option<Spanned<String>>,
    pub variant: Option<Spanned<String>>,
    pub output_mode: Option<Spanned<String>>,
    pub overhead: Option<Spanned<String>>,
}

/// `[modes.acking]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAcking {
    pub message_timeout: Option<Spanned<String>>,
    pub ack_cost: Option<Spanned<String>>,
}

/// `[chaos]`: a random fault profile.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChaos {
    pub kinds: Option<Spanned<Vec<Spanned<String>>>>,
    pub mean_interval: Option<Spanned<String>>,
    pub min_stable: Option<Spanned<String>>,
    pub until: Option<Spanned<String>>,
}
