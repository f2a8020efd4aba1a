//! Stage two's result: a scenario that is known to make sense.
//!
//! Names are resolved to node indices, types are known for every stream, durations are
//! [`SimDuration`]s and expressions are compiled: each keeps its text and file position (for
//! plans and messages) and its compiled form for the records it reads, which a run binds to its
//! string interner ([`crate::expr::Compiled`]) — nothing is compiled again, nothing left to
//! fail. Spans are kept so that planning errors can still point into the file.

use crate::core::cost::{BufferTimeout, CostModel, Limits};
use crate::core::diag::{Diagnostic, SourceFile};
use crate::core::time::SimDuration;
use crate::core::value::Schema;
use crate::expr::{Assign, Compiled, Expr, SelectItem};
use std::ops::Range;
use std::sync::Arc;

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The file it came from (for messages).
    pub file: Arc<SourceFile>,
    /// Short name.
    pub name: String,
    /// What the scenario shows.
    pub description: String,
    /// The master seed (overridable with `--seed`).
    pub seed: u64,
    /// TaskManagers and slots.
    pub cluster: Cluster,
    /// How the job gets onto the cluster (`[deployment]`); `None`: the table is absent and
    /// the job starts at once, with no start-up timeline.
    pub deployment: Option<crate::flink::startup::DeploymentSpec>,
    /// Job-wide settings.
    pub job: JobConfig,
    /// The cost model.
    pub cost: CostModel,
    /// Hard limits of a run.
    pub limits: Limits,
    /// Sources, operators and sinks in the order the file declares them.
    pub nodes: Vec<NodeDef>,
    /// Checkpoints, restarts and scripted faults.
    pub fault_tolerance: super::recovery::FaultTolerance,
    /// Findings that do not stop the run.
    pub warnings: Vec<Diagnostic>,
    /// Settings of the baseline execution modes (`[modes]`).
    pub modes: super::modes::ModeSettings,
    /// The random fault profile of `[chaos]`, drawn when the run asks for chaos
    /// (`streamlab run --chaos`); `None`: the table is absent.
    pub chaos: Option<super::chaos::ChaosProfile>,
    /// What a run must show (`[[expect]]`, graded by `streamlab check`; `run` ignores it).
    pub expectations: Vec<super::expect::Expectation>,
    /// The logical plans of its `[[query]]` tables (SQL), shown by `streamlab plan`.
    pub sql: Vec<super::sql::SqlPlan>,
}

impl Scenario {
    /// Index of a node by name.
    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }
}

/// The simulated cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cluster {
    /// Number of TaskManagers.
    pub task_managers: u32,
    /// Slots per TaskManager (`taskmanager.numberOfTaskSlots`, Flink default 1).
    pub slots_per_tm: u32,
    /// CPU cores per TaskManager, shared by every subtask placed on it (slots isolate memory,
    /// not CPU). Default: one per slot.
    pub cores_per_tm: u32,
}

impl Cluster {
    /// Total number of slots.
    pub fn total_slots(&self) -> u32 {
        self.task_managers * self.slots_per_tm
    }
}

/// Job-wide settings.
#[derive(Debug, Clone, PartialEq)]
pub struct JobConfig {
    /// Parallelism of the operators that set none: the environment's, else the client's
    /// `-p`, else `parallelism.default` (Flink default 1) — see [`crate::flink::parallelism`].
    pub parallelism: u32,
    /// Which level set [`Self::parallelism`].
    pub parallelism_level: crate::flink::parallelism::ParallelismLevel,
    /// The client's `-p` the job was submitted with, whether it won or not.
    pub client_parallelism: Option<u32>,
    /// Where the level that won was written in the file (`None` for the client or Flink's
    /// default).
    pub parallelism_span: Option<Range<usize>>,
    /// Explicit max parallelism (number of key groups); `None` = Flink's default rule.
    pub max_parallelism: Option<Spanned<u32>>,
    /// `pipeline.operator-chaining.enabled` (default true).
    pub chaining: bool,
    /// `execution.buffer-timeout.interval` (default 100 ms).
    pub buffer_timeout: BufferTimeout,
    /// `pipeline.auto-watermark-interval` (Flink default 200 ms): how often sources emit
    /// periodic watermarks, unless a source sets its own `interval`.
    pub auto_watermark_interval: SimDuration,
}

pub use super::spanned::Spanned;

/// An expression as written, with the file offset of its first character, and as the checker
/// compiled it: an [`Expr`] over the records it reads (each field holding one says which), or
/// another compiled form — a flat_map column ([`SelectItem`]), a reduce's field update
/// ([`Assign`]), a gap computed on both inputs of a join (`[Expr; 2]`).
#[derive(Debug, Clone)]
pub struct ExprSrc<T = Expr> {
    /// The SQL text.
    pub text: String,
    /// Byte offset in the scenario file where the text starts (inside the quotes).
    pub offset: usize,
    /// The compiled form; a run calls [`Compiled::bind`] to evaluate it.
    pub compiled: Compiled<T>,
}

/// Two expressions are the same when they were written the same at the same place (the
/// compiled form follows from the text and the records it reads).
impl<T> PartialEq for ExprSrc<T> {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text && self.offset == other.offset
    }
}

impl<T> Eq for ExprSrc<T> {}

/// Flink's `ChainingStrategy` for an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainingStrategy {
    /// May chain to its predecessor and successors (the default of map, filter, sinks…).
    Always,
    /// Starts a new chain: may chain to successors, never to its predecessor
    /// (`startNewChain()`; also what sources are).
    Head,
    /// Never chains (`disableChaining()`).
    Never,
}

pub use crate::flink::partition::Partitioner;

/// A reference to an input stream, with where it was named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputRef {
    /// The producing node.
    pub node: usize,
    /// Where the name was written.
    pub span: Range<usize>,
}

/// A source, operator or sink.
#[derive(Debug, Clone)]
pub struct NodeDef {
    /// Unique name; other nodes use it as their `input`.
    pub name: String,
    /// The whole `[[…]]` table.
    pub span: Range<usize>,
    /// What the node does.
    pub kind: NodeKind,
    /// The streams it reads.
    pub inputs: Vec<InputRef>,
    /// The fields of the records it emits (its input's, for sinks).
    pub schema: Schema,
    /// Explicit parallelism, if set.
    pub parallelism: Option<Spanned<u32>>,
    /// Chaining strategy.
    pub chaining: ChainingStrategy,
    /// Slot-sharing group as written; `None`: not set, so the operator takes its inputs'
    /// group (Flink's `StreamGraphGenerator.determineSlotSharingGroup`, computed by
    /// [`crate::plan::logical`]).
    pub slot_sharing_group: Option<String>,
    /// Explicit partitioner of its input edges.
    pub partitioner: Option<Spanned<Partitioner>>,
    /// Per-record CPU cost override.
    pub cost: Option<SimDuration>,
}

impl NodeDef {
    /// The fields of the node's side output, given the scenario's `nodes`: a window's late
    /// data and a process function's side output have the fields of its input; a CEP
    /// pattern's timed-out partial matches have the pattern's own.
    pub fn side_output_schema<'a>(
        &'a self,
        nodes: &'a [NodeDef],
    ) -> &'a crate::core::value::Schema {
        match &self.kind {
            NodeKind::Process(p) if matches!(&p.function, ProcessFn::Pattern(s) if !s.late_to_side) => {
                &self.schema
            }
            _ => &nodes[self.inputs[0].node].schema,
        }
    }

    /// Whether the node is folded into the edges of the graph rather than run as an operator
    /// (Flink's `PartitionTransformation` and `UnionTransformation`).
    pub fn is_virtual(&self) -> bool {
        matches!(
            self.kind,
            NodeKind::KeyBy { .. } | NodeKind::Union | NodeKind::SideOutput { .. }
        )
    }

    /// The kind's name as written in scenario files.
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Source(s) => match s.data {
                SourceData::Generator { .. } => "generator source",
                SourceData::Rows { .. } => "source",
            },
            NodeKind::Map { .. } => "map",
            NodeKind::Filter { .. } => "filter",
            NodeKind::FlatMap { .. } => "flat_map",
            NodeKind::KeyBy { .. } => "key_by",
            NodeKind::Reduce { .. } => "reduce",
            NodeKind::Union => "union",
            NodeKind::Window(_) => "window",
            NodeKind::CoMap { .. } => "co_map",
            NodeKind::Process(_) => "process",
            NodeKind::Join(j) => match j.kind {
                JoinKind::Window(_) => "window_join",
                JoinKind::Interval { .. } => "interval_join",
                JoinKind::Regular => "join",
            },
            NodeKind::SideOutput { .. } => "side output",
            NodeKind::Sink(..) => "sink",
        }
    }
}

/// What a node does.
#[derive(Debug, Clone)]
pub enum NodeKind {
    /// Produces records.
    Source(SourceSpec),
    /// One record out per record in, fields computed by expressions.
    Map {
        /// Output fields in order.
        select: Vec<(String, ExprSrc)>,
    },
    /// Keeps records for which the condition holds.
    Filter {
        /// A boolean expression.
        condition: ExprSrc,
    },
    /// Zero or more records out per record in: one select expression may be a `split`.
    FlatMap {
        /// Output fields in order.
        select: Vec<(String, ExprSrc<SelectItem>)>,
    },
    /// Partitions by key: hash partitioning on the edge to the next operator, which becomes
    /// keyed. Virtual.
    KeyBy {
        /// The key expression.
        key: ExprSrc,
    },
    /// A rolling aggregation per key: emits the updated aggregate for every input record.
    Reduce {
        /// The key of the keyed stream it reads (its key_by's, over the reduce's input).
        key: ExprSrc,
        /// The aggregation.
        function: ReduceFn,
    },
    /// Merges streams with the same fields. Virtual.
    Union,
    /// Keyed windows (Flink's `WindowOperator`); non-keyed when `key` is `None` (windowAll).
    Window(Box<WindowSpec>),
    /// Two streams mapped to one (`connect(…).map(CoMapFunction)`): records of the first input
    /// through `map1`, of the second through `map2`; its watermark is the minimum of both.
    CoMap {
        /// Output fields for the first input.
        map1: Vec<(String, ExprSrc)>,
        /// Output fields for the second input.
        map2: Vec<(String, ExprSrc)>,
    },
    /// A window join or an interval join of two keyed streams.
    Join(Box<JoinSpec>),
    /// A keyed process function (state and timers per key).
    Process(Box<ProcessSpec>),
    /// The late-data side output of a window operator, as a stream. Virtual.
    SideOutput {
        /// The window operator.
        of: usize,
    },
    /// Consumes records.
    Sink(SinkSpec, Guarantee),
}

/// The aggregation of a rolling reduce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReduceFn {
    /// `sum(field)`: the first record of the key with the field replaced by the running sum
    /// (Flink's `SumAggregator`).
    Sum(usize),
    /// `min(field)`: the first record with the field replaced by the running minimum.
    Min(usize),
    /// `max(field)`: the first record with the field replaced by the running maximum.
    Max(usize),
    /// `count`: the key and the number of records seen for it.
    Count,
    /// A reduce function written as expressions over `acc.<field>` and the new record's
    /// fields; fields it does not list keep the accumulated value.
    Expr(Vec<(String, ExprSrc<Assign>)>),
}

/// A source's data and pacing.
#[derive(Debug, Clone)]
pub struct SourceSpec {
    /// Records per second of processing time, over all subtasks; `None` = as fast as the
    /// source's CPU and backpressure allow.
    pub rate: Option<f64>,
    /// Where the records come from.
    pub data: SourceData,
    /// Where records get their event-time timestamp.
    pub timestamps: Timestamps,
    /// The watermark strategy; `None`: the source emits no watermarks except the final one.
    pub watermarks: Option<WatermarkSpec>,
}

impl SourceSpec {
    /// How many records the source produces in all, when that is known before the run: the
    /// rows times `repeat`; a generator's `count`, or its `duration` times its `rate`.
    pub fn records(&self) -> Option<u64> {
        match &self.data {
            SourceData::Rows { rows, repeat, .. } => {
                Some((rows.len() as u64).saturating_mul(*repeat))
            }
            SourceData::Generator {
                count, duration, ..
            } => {
                let timed = match (duration, self.rate) {
                    (Some(d), Some(r)) => Some((d.as_secs_f64() * r).min(u64::MAX as f64) as u64),
                    _ => None,
                };
                match (count, timed) {
                    (Some(c), Some(t)) => Some((*c).min(t)),
                    (c, t) => c.or(t),
                }
            }
        }
    }

    /// Whether the source is bounded and unpaced: all its records exist at time zero and it
    /// ends as soon as they are out, so processing time barely moves while it runs.
    pub fn is_instant(&self) -> bool {
        self.rate.is_none()
            && match &self.data {
                SourceData::Rows { open_for, .. } => open_for.is_none(),
                SourceData::Generator { duration, .. } => duration.is_none(),
            }
    }
}

/// Where a source's records get their event-time timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timestamps {
    /// They have none (processing-time jobs only).
    None,
    /// From an integer field (milliseconds).
    Field(usize),
    /// Ingestion time: the processing time at which the source produces them.
    Ingestion,
    /// Generated records: birth time minus the scenario's delay.
    Generated,
}

/// A source's watermark strategy.
#[derive(Debug, Clone, PartialEq)]
pub struct WatermarkSpec {
    /// Bound, emission and idleness.
    pub strategy: crate::flink::watermark::Strategy,
    /// Watermark alignment: group name and maximum drift.
    pub alignment: Option<(String, SimDuration)>,
}

/// The configuration of a window operator.
#[derive(Debug, Clone)]
pub struct WindowSpec {
    /// The key (from the key_by it reads), or `None` for a non-keyed window (windowAll).
    pub key: Option<ExprSrc>,
    /// How elements are assigned to windows.
    pub assigner: crate::flink::window::Assigner,
    /// For dynamic session windows: the gap expression (milliseconds).
    pub gap: Option<ExprSrc>,
    /// `count_window(n)` / `count_window(n, slide)`: global windows with a count trigger.
    pub count: Option<(u64, Option<u64>)>,
    /// Processing-time windows instead of event-time ones.
    pub processing_time: bool,
    /// The trigger, if not the assigner's default.
    pub trigger: Option<crate::flink::window::trigger::Trigger>,
    /// An evictor.
    pub evictor: Option<crate::flink::window::trigger::Evictor>,
    /// Allowed lateness in ms (Flink default 0).
    pub allowed_lateness: i64,
    /// The aggregation (the reduce functions plus `Avg`).
    pub function: WindowFn,
    /// Name of the late-data side output stream.
    pub late_output: Option<String>,
}

/// A keyed process function.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    /// The key of the keyed stream it reads.
    pub key: ExprSrc,
    /// The function.
    pub function: ProcessFn,
}

/// Which keyed process function.
#[derive(Clone)]
pub enum ProcessFn {
    /// flink-training's long ride alert ([`crate::flink::process::LongRideAlert`]).
    LongRideAlert {
        /// Index of the boolean START field.
        is_start: usize,
        /// Maximum ride duration in ms.
        timeout: i64,
    },
    /// A CEP pattern (Flink's `CepOperator`, [`crate::ops::pattern`]).
    Pattern(Box<PatternSpec>),
    /// A function written in Rust (see [`crate::api`]).
    Custom {
        /// Its name, for plans and reports.
        name: String,
        /// Makes one instance per subtask.
        make: std::sync::Arc<
            dyn Fn() -> Box<dyn crate::flink::process::KeyedProcessFunction> + Send + Sync,
        >,
    },
}

impl std::fmt::Debug for ProcessFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProcessFn::LongRideAlert { is_start, timeout } => {
                write!(
                    f,
                    "LongRideAlert {{ is_start: {is_start}, timeout: {timeout} }}"
                )
            }
            ProcessFn::Custom { name, .. } => write!(f, "Custom({name})"),
            ProcessFn::Pattern(p) => write!(f, "Pattern({:?})", p.def),
        }
    }
}

/// A checked CEP pattern: the NFA's steps and one condition per step.
#[derive(Debug, Clone)]
pub struct PatternSpec {
    /// Steps, `within`, skip strategy.
    pub def: crate::flink::cep::PatternDef,
    /// Per step, its `where` over the input record.
    pub conditions: Vec<ExprSrc>,
    /// Whether timed-out partial matches go to the `side_output` stream.
    pub timeouts_to_side: bool,
    /// Whether late events go to the `late_output` stream (`sideOutputLateData`) instead
    /// of being dropped.
    pub late_to_side: bool,
}

/// A join of two keyed streams.
#[derive(Debug, Clone)]
pub struct JoinSpec {
    /// Key of the first (left) input.
    pub left_key: ExprSrc,
    /// Key of the second (right) input.
    pub right_key: ExprSrc,
    /// Which join.
    pub kind: JoinKind,
    /// For a window join with dynamic session windows: the gap expression (milliseconds),
    /// compiled over the records of each input (left, right).
    pub gap: Option<ExprSrc<[Expr; 2]>>,
    /// Output fields over `left.*` and `right.*`; `None`: every field of both, prefixed
    /// `left_` and `right_`.
    pub select: Option<Vec<(String, ExprSrc)>>,
}

/// The kind of a join.
#[derive(Debug, Clone, PartialEq)]
pub enum JoinKind {
    /// `join(…).where(…).equalTo(…).window(…)`: pairs in the same event-time window
    /// (tumbling, sliding or session).
    Window(crate::flink::window::Assigner),
    /// `intervalJoin(…).between(lower, upper)`: pairs with
    /// `left.ts + lower <= right.ts <= left.ts + upper` (ms).
    Interval {
        /// Lower bound (ms, may be negative).
        lower: i64,
        /// Upper bound (ms).
        upper: i64,
    },
    /// Flink SQL's regular inner join (`FROM a JOIN b ON a.k = b.k`): every record of both
    /// sides is kept, forever (unbounded state), and pairs with every record of the other
    /// side with the same key, whatever their times; nothing is late.
    Regular,
}

/// What a window computes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowFn {
    /// Sum of a field.
    Sum(usize),
    /// Minimum of a field.
    Min(usize),
    /// Maximum of a field.
    Max(usize),
    /// Number of elements.
    Count,
    /// Mean of a field.
    Avg(usize),
    /// Reduce by expressions over `acc.*` and the record.
    Expr(Vec<(String, ExprSrc<Assign>)>),
}

/// A literal value in a scenario (strings not yet interned).
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// Integer.
    Int(i64),
    /// Float.
    Float(f64),
    /// String.
    Str(Arc<str>),
    /// Boolean.
    Bool(bool),
}

impl Lit {
    /// The number as an integer (floats truncate toward zero), 0 for strings and booleans —
    /// the rule of [`crate::core::value::Value::as_int`].
    pub fn as_int(&self) -> i64 {
        match *self {
            Lit::Int(i) => i,
            Lit::Float(f) => f as i64,
            Lit::Str(_) | Lit::Bool(_) => 0,
        }
    }
}

/// The records of a source.
#[derive(Debug, Clone)]
pub enum SourceData {
    /// Random records drawn from the seed.
    Generator {
        /// Stop after this many records (over all subtasks).
        count: Option<u64>,
        /// Stop after this much processing time.
        duration: Option<SimDuration>,
        /// One generator per field.
        fields: Vec<GenField>,
        /// Event-time delay distribution.
        delay: Delay,
    },
    /// Fixed rows (inline `events` or a CSV file), in arrival order.
    Rows {
        /// The rows.
        rows: Arc<Vec<Vec<Lit>>>,
        /// How many times the rows are replayed.
        repeat: u64,
        /// Field whose value picks the source subtask (`value mod parallelism`), like a
        /// Kafka partition; an integer field with no negative value. `None`: rows are dealt
        /// round-robin.
        partition: Option<usize>,
        /// The source stays open (unbounded, silent) until this much processing time has
        /// passed, even when its rows are used up; `None`: it ends with its last row.
        open_for: Option<SimDuration>,
    },
}

/// How a generated field's values are drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum GenField {
    /// A key out of `count` distinct keys (integers 0..count, or strings `prefix` + n).
    Key {
        /// Number of distinct keys.
        count: u64,
        /// Uniform or Zipf.
        skew: Skew,
        /// If set, keys are strings with this prefix.
        prefix: Option<Arc<str>>,
    },
    /// Uniform integer in `[min, max]`.
    IntRange(i64, i64),
    /// Uniform float in `[min, max)`.
    FloatRange(f64, f64),
    /// 0, 1, 2, … per subtask interleaved into one global sequence.
    Sequence,
    /// One of the listed values, uniformly.
    OneOf(Vec<Lit>),
    /// Always the same value.
    Constant(Lit),
}

/// Key popularity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Skew {
    /// Every key equally likely.
    Uniform,
    /// Key k (1-based) has probability ∝ 1 / k^exponent.
    Zipf(f64),
}

/// Event-time delay of generated records (timestamp = creation time − delay).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Delay {
    /// In order: timestamp = creation time.
    None,
    /// Always the same delay.
    Fixed(SimDuration),
    /// Uniform in `[min, max]`.
    Uniform(SimDuration, SimDuration),
    /// Exponential with this mean.
    Exponential(SimDuration),
}

/// When a sink's output becomes visible to the outside world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guarantee {
    /// Visible as soon as the sink receives it; a replay after a failure repeats it.
    AtLeastOnce,
    /// Two-phase commit: written into a transaction that is pre-committed at the sink's
    /// snapshot and committed when the checkpoint completes; visible only after the commit.
    /// The system it writes to may abort a transaction that stays open too long.
    ExactlyOnce(TransactionTimeout),
}

impl Guarantee {
    /// The name used in scenario files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Guarantee::AtLeastOnce => "at_least_once",
            Guarantee::ExactlyOnce(_) => "exactly_once",
        }
    }

    /// Whether the sink commits by two-phase commit.
    pub fn is_exactly_once(self) -> bool {
        matches!(self, Guarantee::ExactlyOnce(_))
    }
}

/// The transaction timeout of a two-phase-commit sink, as Kafka has it: the producer's
/// `transaction.timeout.ms` (`transaction_timeout`) and the broker's cap on it,
/// `transaction.max.timeout.ms` (`transaction_max_timeout`). The broker aborts a transaction
/// still uncommitted `timeout` after it began (its first record); a later commit finds it
/// aborted and its records are lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionTimeout {
    /// `None` (the default): transactions never time out — streamlab's two-phase-commit sink
    /// is not bound to Kafka, and the defaults Kafka and Flink would give it (Flink's
    /// `KafkaSink` sets 1 h, above the broker's 15 min cap) would fail the job at start.
    pub timeout: Option<SimDuration>,
    /// The broker's cap (Kafka default 15 min,
    /// [`crate::core::defaults::transactions::BROKER_MAX_TIMEOUT`]).
    pub max_timeout: SimDuration,
}

impl Default for TransactionTimeout {
    fn default() -> Self {
        TransactionTimeout {
            timeout: None,
            max_timeout: crate::core::defaults::transactions::BROKER_MAX_TIMEOUT,
        }
    }
}

/// What a sink does with records.
#[derive(Debug, Clone)]
pub enum SinkSpec {
    /// Appends every record; the report keeps the first `capture` of them.
    Collect {
        /// How many records the report shows.
        capture: usize,
    },
    /// A table upserted by key: the report shows the final row of every key.
    Upsert {
        /// The key expression.
        key: ExprSrc,
        /// How many rows the report shows.
        capture: usize,
    },
    /// Drops records (counts and latency only).
    Discard,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_literal_as_an_integer_follows_the_values_rule() {
        assert_eq!(Lit::Int(-3).as_int(), -3);
        assert_eq!(Lit::Float(2.9).as_int(), 2);
        assert_eq!(Lit::Str("7".into()).as_int(), 0);
        assert_eq!(Lit::Bool(true).as_int(), 0);
    }
}
