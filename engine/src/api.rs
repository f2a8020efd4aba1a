//! Building jobs in Rust, the way Flink's DataStream API does:
//!
//! ```
//! use std::time::Duration;
//! use streamlab_engine::api::{Source, StreamEnv, Tumbling, WatermarkStrategy};
//! use streamlab_engine::row;
//!
//! let env = StreamEnv::new("clicks_per_user").parallelism(2).cluster(1, 2);
//! env.source(
//!     "clicks",
//!     Source::elements([
//!         row! { user = "ann", ts = 1_000 },
//!         row! { user = "bob", ts = 2_000 },
//!         row! { user = "ann", ts = 6_500 },
//!     ])
//!     .timestamp("ts")
//!     .watermarks(WatermarkStrategy::for_bounded_out_of_orderness(Duration::from_secs(1))),
//! )
//! .key_by("user")
//! .window(Tumbling::of(Duration::from_secs(5)))
//! .count()
//! .collect("per_user");
//! let result = env.execute().unwrap();
//! assert_eq!(result.rows("per_user").map(<[_]>::len), Some(3));
//! assert!(result.sink("no_such_sink").is_none());
//! ```
//!
//! A builder call is one transformation; nothing runs until [`StreamEnv::execute`]. The job
//! is turned into the scenario-file form ([`StreamEnv::to_toml`] shows it) and checked by the
//! same checker as a file, so a mistake — an unknown field in an expression, a keyed
//! operation on an unkeyed stream — is reported the same way, with the line of the generated
//! scenario it sits on. Keyed process functions written in Rust
//! ([`crate::flink::process::KeyedProcessFunction`]) join the job through
//! [`KeyedStream::process`].
//!
//! Over 800 lines because it is the whole Rust API on one page, as Flink's `DataStream`
//! reference is: each builder type (`StreamEnv`, `Source`, `DataStream`, `KeyedStream`,
//! `WindowedStream`, the window assigners, `JoinBuilder`) next to the others so that their
//! docs read in order; every method is a thin call that writes one scenario table, and the
//! logic lives in `check`.

use crate::check;
use crate::core::diag::Diagnostics;
use crate::core::value::Type;
use crate::flink::process::{CustomProcess, KeyedProcessFunction};
use crate::oracle;
use crate::plan::{self, Plan};
use crate::report::{RunReport, SinkReport};
use crate::scenario::Scenario;
use crate::sim::RunOptions;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use toml::{Table, Value};

/// One input record: field name → value, in order. Build it with [`row!`](crate::row).
pub type Row = Vec<(String, Value)>;

/// A field value of a [`Row`] (made from `&str`, `i64`, `f64` or `bool`).
pub use toml::Value as FieldValue;

/// A record for [`Source::elements`]: `row! { user = "ann", amount = 3, ts = 1_000 }`.
#[macro_export]
macro_rules! row {
    ($($field:ident = $value:expr),* $(,)?) => {
        vec![$((stringify!($field).to_string(), $crate::api::FieldValue::from($value))),*]
    };
}

/// A duration the way scenario files write it (`"1500 ms"`).
fn ms(d: Duration) -> Value {
    Value::from(format!("{} ms", d.as_millis()))
}

/// Turns `[("a", "x + 1")]` into a TOML table of expressions.
fn exprs(pairs: &[(&str, &str)]) -> Value {
    Value::Table(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect(),
    )
}

/// The job under construction, shared by every stream handle.
#[derive(Default)]
struct Job {
    top: Table,
    cluster: Table,
    job: Table,
    sources: Vec<Table>,
    operators: Vec<Table>,
    sinks: Vec<Table>,
    /// `[[table]]`: sources declared as SQL tables.
    tables: Vec<Table>,
    /// `[[query]]`: SQL queries.
    queries: Vec<Table>,
    custom: Vec<CustomProcess>,
    counter: usize,
}

impl Job {
    fn fresh_name(&mut self, what: &str) -> String {
        self.counter += 1;
        format!("{what}_{}", self.counter)
    }

    /// The table of the node called `name`.
    fn node(&mut self, name: &str) -> Option<&mut Table> {
        self.sources
            .iter_mut()
            .chain(self.operators.iter_mut())
            .chain(self.sinks.iter_mut())
            .find(|t| t.get("name").and_then(Value::as_str) == Some(name))
    }
}

/// `StreamExecutionEnvironment`: the job, its cluster and its settings.
#[derive(Clone)]
pub struct StreamEnv {
    job: Rc<RefCell<Job>>,
}

impl StreamEnv {
    /// A new job called `name` (a scenario name: letters, digits, `_`, `-`).
    pub fn new(name: &str) -> Self {
        let mut job = Job::default();
        job.top.insert("name".into(), Value::from(name));
        StreamEnv {
            job: Rc::new(RefCell::new(job)),
        }
    }

    fn set(self, section: &str, key: &str, v: Value) -> Self {
        {
            let mut j = self.job.borrow_mut();
            let t = match section {
                "cluster" => &mut j.cluster,
                "job" => &mut j.job,
                _ => &mut j.top,
            };
            t.insert(key.into(), v);
        }
        self
    }

    /// Default parallelism of every operator that sets none (`env.setParallelism`: the
    /// environment level, `[job] environment_parallelism`, which a client's `-p` does not
    /// override).
    pub fn parallelism(self, p: u32) -> Self {
        self.set("job", "environment_parallelism", Value::from(i64::from(p)))
    }
    /// Maximum parallelism: the number of key groups.
    pub fn max_parallelism(self, p: u32) -> Self {
        self.set("job", "max_parallelism", Value::from(i64::from(p)))
    }
    /// `env.disableOperatorChaining()`.
    pub fn disable_chaining(self) -> Self {
        self.set("job", "chaining", Value::from(false))
    }
    /// How long a partly filled network buffer waits before it is sent (`setBufferTimeout`).
    pub fn buffer_timeout(self, d: Duration) -> Self {
        self.set("job", "buffer_timeout", ms(d))
    }
    /// `pipeline.auto-watermark-interval`: how often periodic watermarks are emitted.
    pub fn auto_watermark_interval(self, d: Duration) -> Self {
        self.set("job", "auto_watermark_interval", ms(d))
    }
    /// The simulated cluster: TaskManagers and slots per TaskManager.
    pub fn cluster(self, task_managers: u32, slots_per_task_manager: u32) -> Self {
        self.set(
            "cluster",
            "task_managers",
            Value::from(i64::from(task_managers)),
        )
        .set(
            "cluster",
            "slots_per_task_manager",
            Value::from(i64::from(slots_per_task_manager)),
        )
    }
    /// The master seed of the run.
    pub fn seed(self, seed: u64) -> Self {
        self.set("top", "seed", Value::from(seed as i64))
    }

    /// Adds a source (`env.fromSource(...)`).
    pub fn source(&self, name: &str, source: Source) -> DataStream {
        let mut t = Table::new();
        t.insert("name".into(), Value::from(name));
        t.extend(source.table);
        self.job.borrow_mut().sources.push(t);
        DataStream {
            job: self.job.clone(),
            name: name.into(),
            partitioner: None,
        }
    }

    /// Declares source `source` as a SQL table of the same name and fields (the Table API's
    /// `tEnv.fromDataStream`, or `CREATE TABLE` over the source): `watermark` is Flink's DDL
    /// clause, `WATERMARK FOR ts AS ts - INTERVAL '2' SECOND`, which gives the table its
    /// event-time attribute. Writes a `[[table]]`.
    pub fn create_table(&self, source: &str, watermark: Option<&str>) -> &Self {
        let mut t = Table::new();
        t.insert("name".into(), Value::from(source));
        if let Some(w) = watermark {
            t.insert("watermark".into(), Value::from(w));
        }
        self.job.borrow_mut().tables.push(t);
        self
    }

    /// A streaming SQL statement (`tEnv.executeSql`): a `SELECT` whose result goes to a
    /// sink called `name`, or `INSERT INTO sink SELECT …`. The planner translates it onto
    /// the same operators a scenario's `[[query]]` gets — windowed aggregations append,
    /// a `GROUP BY` without a window updates (`+I`, `-U`, `+U`, `-D`). Writes a `[[query]]`.
    pub fn sql(&self, name: &str, sql: &str) -> &Self {
        let mut t = Table::new();
        t.insert("name".into(), Value::from(name));
        t.insert("sql".into(), Value::from(sql));
        self.job.borrow_mut().queries.push(t);
        self
    }

    /// The job as a scenario file.
    pub fn to_toml(&self) -> String {
        let j = self.job.borrow();
        let mut doc = j.top.clone();
        if !j.cluster.is_empty() {
            doc.insert("cluster".into(), Value::Table(j.cluster.clone()));
        }
        if !j.job.is_empty() {
            doc.insert("job".into(), Value::Table(j.job.clone()));
        }
        for (key, list) in [
            ("source", &j.sources),
            ("operator", &j.operators),
            ("sink", &j.sinks),
            ("table", &j.tables),
            ("query", &j.queries),
        ] {
            if !list.is_empty() {
                doc.insert(
                    key.into(),
                    Value::Array(list.iter().cloned().map(Value::Table).collect()),
                );
            }
        }
        render(&doc)
    }

    /// The job checked, as the scenario model the engine runs.
    pub fn scenario(&self) -> Result<Scenario, Diagnostics> {
        let name = format!(
            "{} (built in Rust)",
            self.job.borrow().top["name"].as_str().unwrap_or("job")
        );
        let custom = self.job.borrow().custom.clone();
        check::parse_str_with(&name, &self.to_toml(), None, &custom)
    }

    /// Plans the job and runs it on the simulated cluster (`env.execute()`).
    pub fn execute(&self) -> Result<JobResult, ApiError> {
        let s = self.scenario().map_err(ApiError::Invalid)?;
        let p = plan::plan(&s).map_err(|e| ApiError::Plan(e.to_string()))?;
        let out = oracle::run(&s, &p, RunOptions::default())
            .map_err(|e| ApiError::Plan(e.to_string()))?;
        Ok(JobResult {
            report: out.report,
            plan: p,
            scenario: s,
        })
    }
}

/// Writes a scenario the way people write them: sections for `[cluster]` and `[job]`,
/// `[[source]]`/`[[operator]]`/`[[sink]]` entries, nested tables inline and lists of
/// records one per line.
fn render(doc: &Table) -> String {
    fn entries(out: &mut String, t: &Table) {
        for (k, v) in t {
            match v {
                Value::Array(items) if items.len() > 1 && items.iter().all(Value::is_table) => {
                    out.push_str(&format!("{k} = [\n"));
                    for i in items {
                        out.push_str(&format!("  {i},\n"));
                    }
                    out.push_str("]\n");
                }
                v => out.push_str(&format!("{k} = {v}\n")),
            }
        }
    }
    let mut out = String::new();
    let mut top = Table::new();
    let mut sections = Vec::new();
    for (k, v) in doc {
        match v {
            Value::Table(t) => sections.push((format!("[{k}]"), t)),
            Value::Array(items) => {
                for i in items {
                    if let Value::Table(t) = i {
                        sections.push((format!("[[{k}]]"), t));
                    }
                }
            }
            v => {
                top.insert(k.clone(), v.clone());
            }
        }
    }
    entries(&mut out, &top);
    for (header, t) in sections {
        out.push_str(&format!("\n{header}\n"));
        entries(&mut out, t);
    }
    out
}

/// Why a built job could not run.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The job is not valid; the diagnostics point into [`StreamEnv::to_toml`].
    #[error("{0}")]
    Invalid(Diagnostics),
    /// It is valid but cannot be deployed (e.g. not enough slots).
    #[error("{0}")]
    Plan(String),
}

/// What a run produced.
#[derive(Debug)]
pub struct JobResult {
    /// The full report (what `streamlab run --json` prints).
    pub report: RunReport,
    /// The plan that ran.
    pub plan: Plan,
    /// The job as the engine ran it.
    pub scenario: Scenario,
}

impl JobResult {
    /// The sink called `name`, or `None` if the job has no sink of that name.
    pub fn sink(&self, name: &str) -> Option<&SinkReport> {
        self.report.sinks.iter().find(|s| s.name == name)
    }

    /// Answers "why?" about this run — a window, a record, a sink row, the bottleneck, a
    /// checkpoint — as `streamlab explain` does: the run is deterministic, so the answer
    /// re-runs the job with recording on and describes exactly this run.
    pub fn explain(
        &self,
        q: &crate::explain::Question,
    ) -> Result<crate::explain::Answer, crate::explain::ExplainError> {
        crate::explain::explain(&self.scenario, &self.plan, None, q)
    }

    /// The records a collecting sink received (as JSON values, in arrival order), or `None`
    /// if the job has no sink of that name.
    pub fn rows(&self, name: &str) -> Option<&[Vec<serde_json::Value>]> {
        self.sink(name).map(|s| s.rows.as_slice())
    }
}

/// Where a source's records come from, and its time settings.
#[derive(Debug, Clone)]
pub struct Source {
    table: Table,
}

impl Source {
    fn of_kind(kind: &str) -> Self {
        let mut table = Table::new();
        table.insert("kind".into(), Value::from(kind));
        Source { table }
    }

    /// Fixed records, in arrival order (`env.fromData(...)`).
    pub fn elements(rows: impl IntoIterator<Item = Row>) -> Self {
        let mut s = Self::of_kind("inline");
        let events = rows
            .into_iter()
            .map(|r| Value::Table(r.into_iter().collect()))
            .collect();
        s.table.insert("events".into(), Value::Array(events));
        s
    }

    /// A CSV file with a header line (`path` relative to the working directory).
    pub fn csv(path: &str) -> Self {
        let mut s = Self::of_kind("csv");
        s.table.insert("path".into(), Value::from(path));
        s
    }

    /// `count` random records; add fields with [`Source::field`].
    pub fn generator(count: u64) -> Self {
        let mut s = Self::of_kind("generator");
        s.table.insert("count".into(), Value::from(count as i64));
        s
    }

    fn with(mut self, key: &str, v: Value) -> Self {
        self.table.insert(key.into(), v);
        self
    }

    /// A generated field (generator sources).
    pub fn field(mut self, name: &str, generator: Gen) -> Self {
        let fields = self
            .table
            .entry("fields")
            .or_insert_with(|| Value::Table(Table::new()));
        if let Value::Table(t) = fields {
            t.insert(name.into(), Value::Table(generator.0));
        }
        self
    }
    /// Records per second of processing time, over all subtasks (default: as fast as possible).
    pub fn rate(self, per_second: f64) -> Self {
        self.with("rate", Value::from(per_second))
    }
    /// The source's own parallelism.
    pub fn parallelism(self, p: u32) -> Self {
        self.with("parallelism", Value::from(i64::from(p)))
    }
    /// Replays fixed records this many times.
    pub fn repeat(self, times: u32) -> Self {
        self.with("repeat", Value::from(i64::from(times)))
    }
    /// The integer field holding each record's event time in ms (`"ingestion"`: stamp
    /// records when the source reads them).
    pub fn timestamp(self, field: &str) -> Self {
        self.with("timestamp", Value::from(field))
    }
    /// The integer field that says which source subtask reads a record (mod parallelism),
    /// like a Kafka partition.
    pub fn partition(self, field: &str) -> Self {
        self.with("partition", Value::from(field))
    }
    /// Keeps the source open (silent) until this much processing time has passed.
    pub fn open_for(self, d: Duration) -> Self {
        self.with("duration", ms(d))
    }
    /// `WatermarkStrategy` of the source.
    pub fn watermarks(self, w: WatermarkStrategy) -> Self {
        self.with("watermarks", Value::Table(w.0))
    }
}

/// How a generated field draws its values.
#[derive(Debug, Clone)]
pub struct Gen(Table);

impl Gen {
    fn of(kind: &str, rest: &[(&str, Value)]) -> Self {
        let mut t = Table::new();
        t.insert("kind".into(), Value::from(kind));
        for (k, v) in rest {
            t.insert((*k).into(), v.clone());
        }
        Gen(t)
    }
    /// One of `count` keys, uniformly.
    pub fn key(count: u64) -> Self {
        Self::of("key", &[("count", Value::from(count as i64))])
    }
    /// A uniform integer in `[min, max]`.
    pub fn uniform(min: i64, max: i64) -> Self {
        Self::of(
            "uniform",
            &[("min", Value::from(min)), ("max", Value::from(max))],
        )
    }
    /// 0, 1, 2, … over all subtasks.
    pub fn sequence() -> Self {
        Self::of("sequence", &[])
    }
}

/// `WatermarkStrategy`: how a source tells time.
#[derive(Debug, Clone)]
pub struct WatermarkStrategy(Table);

impl WatermarkStrategy {
    fn of(strategy: &str) -> Self {
        let mut t = Table::new();
        t.insert("strategy".into(), Value::from(strategy));
        WatermarkStrategy(t)
    }
    fn with(mut self, key: &str, v: Value) -> Self {
        self.0.insert(key.into(), v);
        self
    }
    /// `forBoundedOutOfOrderness(bound)`: watermark = max timestamp − bound − 1.
    pub fn for_bounded_out_of_orderness(bound: Duration) -> Self {
        Self::of("bounded").with("max_out_of_orderness", ms(bound))
    }
    /// `forMonotonousTimestamps()`: watermark = max timestamp − 1.
    pub fn for_monotonous_timestamps() -> Self {
        Self::of("monotonous")
    }
    /// `noWatermarks()`: only the final watermark at the end of a bounded input.
    pub fn no_watermarks() -> Self {
        Self::of("none")
    }
    /// `withIdleness(timeout)`: a split silent this long stops holding the watermark back.
    pub fn with_idleness(self, timeout: Duration) -> Self {
        self.with("idleness", ms(timeout))
    }
    /// `withWatermarkAlignment(group, maxDrift)`.
    pub fn with_watermark_alignment(self, group: &str, max_drift: Duration) -> Self {
        self.with("alignment_group", Value::from(group))
            .with("max_drift", ms(max_drift))
    }
    /// Emit a watermark after every record (a punctuated generator).
    pub fn per_event(self) -> Self {
        self.with("emit", Value::from("per_event"))
    }
    /// Periodic emission interval of this source (default: the job's).
    pub fn interval(self, d: Duration) -> Self {
        self.with("interval", ms(d))
    }
}

/// A stream of records (`DataStream`).
#[derive(Clone)]
pub struct DataStream {
    job: Rc<RefCell<Job>>,
    name: String,
    /// How the next operator reads this stream (`rebalance()`, `broadcast()`, …).
    partitioner: Option<&'static str>,
}

impl DataStream {
    /// Adds an operator reading this stream; returns the new stream.
    fn then(&self, what: &str, t: Table) -> DataStream {
        let mut j = self.job.borrow_mut();
        let name = j.fresh_name(what);
        let mut head = Table::new();
        head.insert("name".into(), Value::from(name.as_str()));
        head.insert("kind".into(), Value::from(what));
        head.insert("input".into(), Value::from(self.name.as_str()));
        if let Some(p) = self.partitioner {
            head.insert("partitioner".into(), Value::from(p));
        }
        head.extend(t);
        j.operators.push(head);
        DataStream {
            job: self.job.clone(),
            name,
            partitioner: None,
        }
    }

    fn with(self, key: &str, v: Value) -> Self {
        if let Some(t) = self.job.borrow_mut().node(&self.name) {
            t.insert(key.into(), v);
        }
        self
    }

    /// The name of the operator that produces this stream.
    pub fn name_of(&self) -> &str {
        &self.name
    }

    /// Renames the operator that produces this stream (`.name(...)`).
    pub fn name(mut self, name: &str) -> Self {
        let mut guard = self.job.borrow_mut();
        let j = &mut *guard;
        for t in j
            .sources
            .iter_mut()
            .chain(j.operators.iter_mut())
            .chain(j.sinks.iter_mut())
        {
            for key in ["name", "input"] {
                if t.get(key).and_then(Value::as_str) == Some(self.name.as_str()) {
                    t.insert(key.into(), Value::from(name));
                }
            }
            if let Some(Value::Array(ins)) = t.get_mut("inputs") {
                for i in ins {
                    if i.as_str() == Some(self.name.as_str()) {
                        *i = Value::from(name);
                    }
                }
            }
        }
        drop(guard);
        self.name = name.to_string();
        self
    }
    /// `setParallelism` of the operator that produces this stream.
    pub fn set_parallelism(self, p: u32) -> Self {
        self.with("parallelism", Value::from(i64::from(p)))
    }
    /// `disableChaining()`.
    pub fn disable_chaining(self) -> Self {
        self.with("chaining", Value::from(false))
    }
    /// `startNewChain()`.
    pub fn start_new_chain(self) -> Self {
        self.with("start_new_chain", Value::from(true))
    }
    /// `slotSharingGroup(...)`.
    pub fn slot_sharing_group(self, group: &str) -> Self {
        self.with("slot_sharing_group", Value::from(group))
    }
    /// CPU time per record of the operator (e.g. `Duration::from_micros(40)`).
    pub fn cost(self, per_record: Duration) -> Self {
        self.with("cost", Value::from(format!("{} ns", per_record.as_nanos())))
    }

    fn partitioned(&self, p: &'static str) -> Self {
        DataStream {
            partitioner: Some(p),
            ..self.clone()
        }
    }
    /// `rebalance()`: round-robin to every downstream subtask.
    pub fn rebalance(&self) -> Self {
        self.partitioned("rebalance")
    }
    /// `rescale()`: round-robin within a local group of downstream subtasks.
    pub fn rescale(&self) -> Self {
        self.partitioned("rescale")
    }
    /// `shuffle()`: to a random downstream subtask.
    pub fn shuffle(&self) -> Self {
        self.partitioned("shuffle")
    }
    /// `broadcast()`: every record to every downstream subtask.
    pub fn broadcast(&self) -> Self {
        self.partitioned("broadcast")
    }
    /// `global()`: everything to downstream subtask 0.
    pub fn global(&self) -> Self {
        self.partitioned("global")
    }

    /// `map`: one record out per record in; `select` = output field → expression.
    pub fn map(&self, select: &[(&str, &str)]) -> DataStream {
        let mut t = Table::new();
        t.insert("select".into(), exprs(select));
        self.then("map", t)
    }
    /// `filter`: keeps the records for which the condition holds.
    pub fn filter(&self, condition: &str) -> DataStream {
        let mut t = Table::new();
        t.insert("where".into(), Value::from(condition));
        self.then("filter", t)
    }
    /// `flatMap`: one expression may `split(...)` a string into several records.
    pub fn flat_map(&self, select: &[(&str, &str)]) -> DataStream {
        let mut t = Table::new();
        t.insert("select".into(), exprs(select));
        self.then("flat_map", t)
    }
    /// `keyBy`: partitions the stream by a key expression.
    pub fn key_by(&self, key: &str) -> KeyedStream {
        let mut t = Table::new();
        t.insert("key".into(), Value::from(key));
        KeyedStream(self.then("key_by", t))
    }
    /// `union`: merges streams with the same fields.
    pub fn union(&self, others: &[&DataStream]) -> DataStream {
        let mut j = self.job.borrow_mut();
        let name = j.fresh_name("union");
        let mut t = Table::new();
        t.insert("name".into(), Value::from(name.as_str()));
        t.insert("kind".into(), Value::from("union"));
        let ins = std::iter::once(self)
            .chain(others.iter().copied())
            .map(|s| Value::from(s.name.as_str()))
            .collect();
        t.insert("inputs".into(), Value::Array(ins));
        j.operators.push(t);
        DataStream {
            job: self.job.clone(),
            name,
            partitioner: None,
        }
    }
    /// `connect`: two streams side by side, for a co-map.
    pub fn connect(&self, other: &DataStream) -> ConnectedStreams {
        ConnectedStreams(self.clone(), other.clone())
    }
    /// Gives the side output of this keyed process function (what it emits with
    /// [`Collector::side_output`](crate::flink::process::Collector::side_output)) the stream name
    /// `tag`; read it with [`DataStream::side_output`]. Its records have the fields of the
    /// function's input.
    pub fn with_side_output(self, tag: &str) -> Self {
        self.with("side_output", Value::from(tag))
    }
    /// The late records of a window operator that called
    /// [`WindowedStream::side_output_late_data`] with `tag` (`getSideOutput`).
    pub fn side_output(&self, tag: &str) -> DataStream {
        DataStream {
            job: self.job.clone(),
            name: tag.into(),
            partitioner: None,
        }
    }
    /// A sink that keeps what it receives (`executeAndCollect`); read it with
    /// [`JobResult::rows`].
    pub fn collect(&self, name: &str) {
        self.sink(name, "collect");
    }
    /// A sink that throws records away (for benchmarks).
    pub fn discard(&self, name: &str) {
        self.sink(name, "discard");
    }
    /// A sink that keeps the latest record per `key` (a table updated in place, like an
    /// upsert into a database): after a rolling aggregation it holds the final answer.
    pub fn upsert(&self, name: &str, key: &str) {
        self.sink(name, "upsert");
        if let Some(t) = self.job.borrow_mut().sinks.last_mut() {
            t.insert("key".into(), Value::from(key));
        }
    }
    fn sink(&self, name: &str, kind: &str) {
        let mut t = Table::new();
        t.insert("name".into(), Value::from(name));
        t.insert("kind".into(), Value::from(kind));
        t.insert("input".into(), Value::from(self.name.as_str()));
        if let Some(p) = self.partitioner {
            t.insert("partitioner".into(), Value::from(p));
        }
        if kind != "discard" {
            t.insert("capture".into(), Value::from(1_000_000i64));
        }
        self.job.borrow_mut().sinks.push(t);
    }
}

/// A keyed stream (`KeyedStream`): state, windows and timers are per key.
#[derive(Clone)]
pub struct KeyedStream(DataStream);

impl KeyedStream {
    fn rolling(&self, function: &str, field: Option<&str>) -> DataStream {
        let mut t = Table::new();
        t.insert("function".into(), Value::from(function));
        if let Some(f) = field {
            t.insert("field".into(), Value::from(f));
        }
        self.0.then("reduce", t)
    }
    /// Rolling `sum(field)`: one updated record per input record.
    pub fn sum(&self, field: &str) -> DataStream {
        self.rolling("sum", Some(field))
    }
    /// Rolling `min(field)`.
    pub fn min(&self, field: &str) -> DataStream {
        self.rolling("min", Some(field))
    }
    /// Rolling `max(field)`.
    pub fn max(&self, field: &str) -> DataStream {
        self.rolling("max", Some(field))
    }
    /// Rolling count per key.
    pub fn count(&self) -> DataStream {
        self.rolling("count", None)
    }
    /// Rolling `reduce`: `select` gives each field of the new value from `acc.<f>` and `<f>`.
    pub fn reduce(&self, select: &[(&str, &str)]) -> DataStream {
        let mut t = Table::new();
        t.insert("function".into(), Value::from("expr"));
        t.insert("select".into(), exprs(select));
        self.0.then("reduce", t)
    }
    /// `window(assigner)`.
    pub fn window(&self, assigner: impl Into<WindowAssigner>) -> WindowedStream {
        let a = assigner.into();
        let mut t = Table::new();
        t.insert("window".into(), Value::Table(a.table));
        if a.processing_time {
            t.insert("time".into(), Value::from("processing"));
        }
        WindowedStream {
            input: self.0.clone(),
            table: t,
        }
    }
    /// `countWindow(size)`: fires every `size` records of a key.
    pub fn count_window(&self, size: u64) -> WindowedStream {
        self.window(WindowAssigner::count(size, None))
    }
    /// `countWindow(size, slide)`: the last `size` records, every `slide` records.
    pub fn count_window_sliding(&self, size: u64, slide: u64) -> WindowedStream {
        self.window(WindowAssigner::count(size, Some(slide)))
    }
    /// `process(function)`: a keyed process function written in Rust, with keyed state and
    /// timers. It emits the key followed by `output` fields; `name` identifies it in plans.
    pub fn process<F: KeyedProcessFunction + Clone + Sync + 'static>(
        &self,
        name: &str,
        output: &[(&str, Type)],
        function: F,
    ) -> DataStream {
        let custom = CustomProcess::new(name, output, function);
        self.0.job.borrow_mut().custom.push(custom);
        let mut t = Table::new();
        t.insert("function".into(), Value::from(name));
        self.0.then("process", t)
    }
    /// A window join with another keyed stream: pairs with equal keys in the same window.
    pub fn join(&self, other: &KeyedStream) -> JoinBuilder {
        JoinBuilder {
            left: self.0.clone(),
            right: other.0.clone(),
            table: Table::new(),
        }
    }
    /// An interval join: pairs where `right.ts ∈ [left.ts + lower, left.ts + upper]`.
    pub fn interval_join(&self, other: &KeyedStream, lower: i64, upper: i64) -> JoinBuilder {
        let mut table = Table::new();
        table.insert("lower".into(), Value::from(format!("{lower} ms")));
        table.insert("upper".into(), Value::from(format!("{upper} ms")));
        JoinBuilder {
            left: self.0.clone(),
            right: other.0.clone(),
            table,
        }
    }
}

/// A window assigner with its time domain.
#[derive(Debug, Clone)]
pub struct WindowAssigner {
    table: Table,
    processing_time: bool,
}

impl WindowAssigner {
    fn of(kind: &str, rest: &[(&str, Value)]) -> Self {
        let mut table = Table::new();
        table.insert("type".into(), Value::from(kind));
        for (k, v) in rest {
            table.insert((*k).into(), v.clone());
        }
        WindowAssigner {
            table,
            processing_time: false,
        }
    }
    fn count(size: u64, slide: Option<u64>) -> Self {
        let mut a = Self::of("count", &[("size", Value::from(size as i64))]);
        if let Some(s) = slide {
            a.table.insert("slide".into(), Value::from(s as i64));
        }
        a
    }
    /// The processing-time variant (`TumblingProcessingTimeWindows`, …).
    pub fn processing_time(mut self) -> Self {
        self.processing_time = true;
        self
    }
    /// Shifts the window grid (`of(size, offset)`), e.g. for time zones.
    pub fn with_offset(mut self, offset: Duration) -> Self {
        self.table.insert("offset".into(), ms(offset));
        self
    }
}

/// `TumblingEventTimeWindows`: fixed, non-overlapping windows.
#[derive(Debug, Clone, Copy)]
pub struct Tumbling;
impl Tumbling {
    /// Windows of `size`, aligned to the epoch.
    pub fn of(size: Duration) -> WindowAssigner {
        WindowAssigner::of("tumbling", &[("size", ms(size))])
    }
}

/// `SlidingEventTimeWindows`: windows of `size` starting every `slide`.
#[derive(Debug, Clone, Copy)]
pub struct Sliding;
impl Sliding {
    /// Windows of `size` every `slide`.
    pub fn of(size: Duration, slide: Duration) -> WindowAssigner {
        WindowAssigner::of("sliding", &[("size", ms(size)), ("slide", ms(slide))])
    }
}

/// `EventTimeSessionWindows`: a key's records closer than the gap share a window.
#[derive(Debug, Clone, Copy)]
pub struct Session;
impl Session {
    /// A fixed gap.
    pub fn with_gap(gap: Duration) -> WindowAssigner {
        WindowAssigner::of("session", &[("gap", ms(gap))])
    }
    /// A gap in ms computed from each record (`withDynamicGap`).
    pub fn with_dynamic_gap(expr: &str) -> WindowAssigner {
        WindowAssigner::of("session", &[("gap_expr", Value::from(expr))])
    }
}

/// `GlobalWindows`: one window per key; needs a trigger to fire.
#[derive(Debug, Clone, Copy)]
pub struct GlobalWindows;
impl GlobalWindows {
    /// The global window assigner.
    pub fn create() -> WindowAssigner {
        WindowAssigner::of("global", &[])
    }
}

/// A trigger: when a window fires.
#[derive(Debug, Clone)]
pub struct Trigger(Table);

impl Trigger {
    fn of(kind: &str, rest: &[(&str, Value)]) -> Self {
        let mut t = Table::new();
        t.insert("type".into(), Value::from(kind));
        for (k, v) in rest {
            t.insert((*k).into(), v.clone());
        }
        Trigger(t)
    }
    /// `EventTimeTrigger`.
    pub fn event_time() -> Self {
        Self::of("event_time", &[])
    }
    /// `ProcessingTimeTrigger`.
    pub fn processing_time() -> Self {
        Self::of("processing_time", &[])
    }
    /// `CountTrigger.of(n)`.
    pub fn count(n: u64) -> Self {
        Self::of("count", &[("count", Value::from(n as i64))])
    }
    /// `ContinuousEventTimeTrigger.of(interval)`.
    pub fn continuous_event_time(interval: Duration) -> Self {
        Self::of("continuous_event_time", &[("interval", ms(interval))])
    }
    /// `ContinuousProcessingTimeTrigger.of(interval)`.
    pub fn continuous_processing_time(interval: Duration) -> Self {
        Self::of("continuous_processing_time", &[("interval", ms(interval))])
    }
    /// `PurgingTrigger.of(...)`: clear the window at every firing.
    pub fn purging(mut self) -> Self {
        self.0.insert("purging".into(), Value::from(true));
        self
    }
}

/// An evictor: removes elements from a window before its function runs.
#[derive(Debug, Clone)]
pub struct Evictor(Table);

impl Evictor {
    /// `CountEvictor.of(n)`: keeps the last `n`.
    pub fn count(n: u64) -> Self {
        let mut t = Table::new();
        t.insert("type".into(), Value::from("count"));
        t.insert("count".into(), Value::from(n as i64));
        Evictor(t)
    }
    /// `TimeEvictor.of(size)`: keeps those within `size` of the newest.
    pub fn time(size: Duration) -> Self {
        let mut t = Table::new();
        t.insert("type".into(), Value::from("time"));
        t.insert("size".into(), ms(size));
        Evictor(t)
    }
}

/// A windowed keyed stream (`WindowedStream`): finish it with an aggregation.
#[derive(Clone)]
pub struct WindowedStream {
    input: DataStream,
    table: Table,
}

impl WindowedStream {
    fn with(mut self, key: &str, v: Value) -> Self {
        self.table.insert(key.into(), v);
        self
    }
    /// `allowedLateness(d)`: keep windows this long past their end for late firings.
    pub fn allowed_lateness(self, d: Duration) -> Self {
        self.with("allowed_lateness", ms(d))
    }
    /// `sideOutputLateData(tag)`: records too late for any window go to the stream `tag`
    /// (read it with [`DataStream::side_output`]).
    pub fn side_output_late_data(self, tag: &str) -> Self {
        self.with("late_output", Value::from(tag))
    }
    /// `trigger(...)`.
    pub fn trigger(self, t: Trigger) -> Self {
        self.with("trigger", Value::Table(t.0))
    }
    /// `evictor(...)`.
    pub fn evictor(self, e: Evictor) -> Self {
        self.with("evictor", Value::Table(e.0))
    }
    /// Names the result field (default: the aggregated field, `count`, `avg_<field>`).
    pub fn result_as(self, name: &str) -> Self {
        self.with("as", Value::from(name))
    }
    fn finish(mut self, function: &str, field: Option<&str>) -> DataStream {
        self.table.insert("function".into(), Value::from(function));
        if let Some(f) = field {
            self.table.insert("field".into(), Value::from(f));
        }
        self.input.then("window", self.table)
    }
    /// Sum of `field` per key and window.
    pub fn sum(self, field: &str) -> DataStream {
        self.finish("sum", Some(field))
    }
    /// Smallest `field`.
    pub fn min(self, field: &str) -> DataStream {
        self.finish("min", Some(field))
    }
    /// Largest `field`.
    pub fn max(self, field: &str) -> DataStream {
        self.finish("max", Some(field))
    }
    /// Average of `field`.
    pub fn avg(self, field: &str) -> DataStream {
        self.finish("avg", Some(field))
    }
    /// Number of records.
    pub fn count(self) -> DataStream {
        self.finish("count", None)
    }
    /// `reduce`: each field of the result from `acc.<f>` and `<f>`.
    pub fn reduce(mut self, select: &[(&str, &str)]) -> DataStream {
        self.table.insert("select".into(), exprs(select));
        self.finish("expr", None)
    }
}

/// Two streams side by side (`ConnectedStreams`).
#[derive(Clone)]
pub struct ConnectedStreams(DataStream, DataStream);

impl ConnectedStreams {
    /// `CoMapFunction`: `map1` for records of the first stream, `map2` for the second; both
    /// produce the same fields.
    pub fn map(&self, map1: &[(&str, &str)], map2: &[(&str, &str)]) -> DataStream {
        two_input(
            &self.0,
            &self.1,
            "co_map",
            [("map1", exprs(map1)), ("map2", exprs(map2))]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }
}

/// A join of two keyed streams, waiting for its window (window join) and select.
#[derive(Clone)]
pub struct JoinBuilder {
    left: DataStream,
    right: DataStream,
    table: Table,
}

impl JoinBuilder {
    /// The window of a window join.
    pub fn window(mut self, assigner: impl Into<WindowAssigner>) -> Self {
        let a = assigner.into();
        self.table.insert("window".into(), Value::Table(a.table));
        self
    }
    /// The joined record: output field → expression over `left.<f>` and `right.<f>`.
    pub fn select(mut self, select: &[(&str, &str)]) -> DataStream {
        let kind = if self.table.contains_key("lower") {
            "interval_join"
        } else {
            "window_join"
        };
        self.table.insert("select".into(), exprs(select));
        two_input(&self.left, &self.right, kind, self.table)
    }
}

fn two_input(a: &DataStream, b: &DataStream, kind: &str, rest: Table) -> DataStream {
    let mut j = a.job.borrow_mut();
    let name = j.fresh_name(kind);
    let mut t = Table::new();
    t.insert("name".into(), Value::from(name.as_str()));
    t.insert("kind".into(), Value::from(kind));
    t.insert(
        "inputs".into(),
        Value::Array(vec![
            Value::from(a.name.as_str()),
            Value::from(b.name.as_str()),
        ]),
    );
    t.extend(rest);
    j.operators.push(t);
    DataStream {
        job: a.job.clone(),
        name,
        partitioner: None,
    }
}

#[cfg(test)]
mod tests;
