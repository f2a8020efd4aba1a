//! Stage two of reading a scenario: from the raw file to a [`Scenario`] that makes sense.
//!
//! Every check reports at the position of the offending text and keeps going, so one run
//! of `streamlab validate` lists every mistake in the file, not just the first.

use super::model::*;
use super::raw::*;
use super::recovery::FaultTolerance;
use super::sources::{SourceCx, check_source};
use super::units::{parse_bandwidth, parse_duration, parse_size};
use crate::core::cost::{BufferTimeout, CostModel, Limits};
use crate::core::diag::{Diagnostic, Diagnostics, SourceFile};
use crate::core::time::SimDuration;
use crate::core::value::{Field, Interner, Schema, Type};
use crate::expr::{self, ExprError, Scope, SelectItem, closest, compile_select, compile_typed};
use crate::flink::keygroup::UPPER_BOUND_MAX_PARALLELISM;
use crate::flink::watermark::Emission;
use crate::process::CustomProcess;
use petgraph::algo::toposort;
use petgraph::graph::DiGraph;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use toml::Spanned as TSpanned;

/// Reads scenario text. `base_dir` resolves relative CSV paths.
pub fn parse_scenario(
    file: Arc<SourceFile>,
    base_dir: Option<&Path>,
    custom: &[CustomProcess],
) -> Result<Scenario, Diagnostics> {
    let mut cx = Checker {
        diags: Diagnostics::new(file.clone()),
        base_dir: base_dir.map(Path::to_path_buf),
        auto_watermark_interval: SimDuration::from_millis(200),
        job_parallelism: 1,
        custom: custom.to_vec(),
    };
    if file.text.trim().is_empty() {
        cx.error(
            Some(0..0),
            "the scenario file is empty",
            "a scenario needs at least one [[source]] and one [[sink]]; see docs/scenario-format.md",
        );
        return Err(cx.diags);
    }
    let raw: RawScenario = match toml::from_str(&file.text) {
        Ok(r) => r,
        Err(e) => {
            let msg = e.message().trim().to_string();
            let (mut msg, mut label) = explain_toml_error(&msg);
            if msg == "duplicate key"
                && let Some(span) = e.span()
            {
                (msg, label) = explain_duplicate_key(&file.text, span);
            }
            cx.diags
                .push(Diagnostic::error(msg, e.span()).with_label(label));
            return Err(cx.diags);
        }
    };
    let scenario = cx.scenario(raw);
    match scenario {
        Some(s) if !cx.diags.has_errors() => {
            let mut s = s;
            s.warnings = cx.diags.items.clone();
            Ok(s)
        }
        _ => Err(cx.diags),
    }
}

/// toml says only "duplicate key": name the key and the line where it first appears (in the
/// same table: after the last `[header]` before the duplicate).
fn explain_duplicate_key(text: &str, span: Range<usize>) -> (String, String) {
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[line_start..];
    let line = &line[..line.find('\n').unwrap_or(line.len())];
    let key_of = |l: &str| -> Option<String> {
        let (k, _) = l.split_once('=')?;
        let k = k.trim();
        (!k.is_empty() && !k.starts_with('#') && !k.starts_with('[')).then(|| k.to_string())
    };
    let Some(key) = key_of(line) else {
        return (
            "duplicate key".into(),
            "each key may appear once in a table".into(),
        );
    };
    let mut first = None;
    let before: Vec<&str> = text[..line_start].lines().collect();
    for (i, l) in before.iter().enumerate().rev() {
        let t = l.trim_start();
        if t.starts_with('[') {
            break;
        }
        if key_of(t).as_deref() == Some(key.as_str()) {
            first = Some(i + 1);
            break;
        }
    }
    match first {
        Some(n) => (
            format!("duplicate key `{key}`: it is already set on line {n}"),
            "each key may appear once in a table: delete one of them".into(),
        ),
        None => (
            format!("duplicate key `{key}`"),
            "each key may appear once in a table".into(),
        ),
    }
}

/// serde's messages are good; make the two most common ones friendlier.
fn explain_toml_error(msg: &str) -> (String, String) {
    if let Some(rest) = msg.strip_prefix("invalid type: integer `")
        && let Some((n, _)) = rest.split_once("` as i128")
    {
        return (
            format!("integer too large: {n}"),
            format!("the largest integer is {}", i64::MAX),
        );
    }
    if let Some(rest) = msg.strip_prefix("unknown field ") {
        let (field, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return (
            format!("unknown field {field}"),
            if expected.is_empty() {
                String::new()
            } else {
                format!("expected {expected}")
            },
        );
    }
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        let (found, expected) = rest
            .split_once(", expected ")
            .unwrap_or((rest, "something else"));
        let expected = match expected {
            "i64" | "u64" | "i32" | "u32" => "an integer",
            "f64" | "a number written as an integer or a float" => "a number",
            "a boolean" | "bool" => "true or false",
            "a string" => "a string in quotes",
            "a sequence" => "a list [ … ]",
            other => other,
        };
        return (
            format!("wrong type: found {found}, expected {expected}"),
            format!("write {expected} here"),
        );
    }
    (msg.to_string(), String::new())
}

pub(super) struct Checker {
    pub diags: Diagnostics,
    pub base_dir: Option<std::path::PathBuf>,
    /// The job's periodic watermark interval (sources default to it).
    pub auto_watermark_interval: SimDuration,
    /// The job's default parallelism.
    pub job_parallelism: u32,
    /// Process functions registered by the Rust program, usable by name.
    pub custom: Vec<CustomProcess>,
}

/// A node before its inputs are resolved.
struct Draft {
    name: String,
    name_span: Range<usize>,
    span: Range<usize>,
    role: Role,
    inputs: Vec<(String, Range<usize>)>,
    common: Common,
}

enum Role {
    Source(Box<RawSource>),
    Operator(Box<RawOperator>),
    Sink(Box<RawSink>),
    /// The late-data stream of the window operator named in `inputs[0]`.
    SideOutput,
}

struct Common {
    parallelism: Option<TSpanned<i64>>,
    chaining: Option<TSpanned<bool>>,
    start_new_chain: Option<TSpanned<bool>>,
    slot_sharing_group: Option<TSpanned<String>>,
    partitioner: Option<TSpanned<String>>,
    cost: Option<TSpanned<String>>,
}

impl Checker {
    pub fn error(
        &mut self,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) {
        self.diags
            .push(Diagnostic::error(message, span).with_label(label));
    }

    pub fn warn(
        &mut self,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) {
        self.diags
            .push(Diagnostic::warning(message, span).with_label(label));
    }

    fn file(&self) -> Arc<SourceFile> {
        self.diags.file.clone()
    }

    /// A positive count that fits in u32.
    pub fn count(&mut self, v: &TSpanned<i64>, what: &str, max: i64) -> Option<u32> {
        let n = *v.get_ref();
        if n < 1 {
            self.error(
                Some(v.span()),
                format!("{what} must be at least 1, found {n}"),
                format!("write a number from 1 to {max}"),
            );
            None
        } else if n > max {
            self.error(
                Some(v.span()),
                format!("{what} must be at most {max}, found {n}"),
                "",
            );
            None
        } else {
            Some(n as u32)
        }
    }

    pub fn duration(&mut self, v: &TSpanned<String>, what: &str) -> Option<SimDuration> {
        match parse_duration(v.get_ref()) {
            Ok(d) => Some(d),
            Err(e) => {
                self.error(
                    Some(v.span()),
                    format!("{what}: {e}"),
                    "durations look like \"200 ms\", \"10 s\", \"1 min\"",
                );
                None
            }
        }
    }

    fn scenario(&mut self, raw: RawScenario) -> Option<Scenario> {
        let file = self.file();
        let name = match &raw.name {
            Some(n) => n.get_ref().clone(),
            None => Path::new(&file.name)
                .file_stem()
                .map_or("scenario".into(), |s| s.to_string_lossy().into_owned()),
        };
        let seed = match &raw.seed {
            Some(s) if *s.get_ref() < 0 => {
                self.error(
                    Some(s.span()),
                    "seed must not be negative",
                    "any whole number from 0 up",
                );
                0
            }
            Some(s) => *s.get_ref() as u64,
            None => 0,
        };
        let cluster = self.cluster(raw.cluster.as_ref());
        let job = self.job(raw.job.as_ref());
        self.auto_watermark_interval = job.auto_watermark_interval;
        self.job_parallelism = job.parallelism;
        let cost = self.cost(raw.cost.as_ref());
        let limits = self.limits(raw.limits.as_ref());
        if raw.sources.is_empty() {
            self.error(
                None,
                "the job has no source",
                "add a [[source]] table: a generator, inline events or a CSV file",
            );
        }
        if raw.sinks.is_empty() {
            self.error(
                None,
                "the job has no sink",
                "add a [[sink]] table reading the stream whose results you want to see",
            );
        }
        let description = raw.description.clone().unwrap_or_default();
        let modes = self.modes(raw.modes.as_ref());
        let chaos = self.chaos(raw.chaos.as_ref());
        let chaos_span = raw.chaos.as_ref().map(|c| c.span());
        let mut raw = raw;
        let raw_cp = raw.checkpointing.take();
        let raw_restart = raw.restart.take();
        let raw_faults = std::mem::take(&mut raw.faults);
        let raw_savepoints = std::mem::take(&mut raw.savepoints);
        let raw_rescale = raw.rescale.take();
        let drafts = self.drafts(raw);
        let nodes = self.nodes(drafts)?;
        let fault_tolerance = self.fault_tolerance(
            raw_cp.as_ref(),
            raw_restart.as_ref(),
            &raw_faults,
            &nodes,
            &cluster,
            crate::core::time::SimTime::ZERO.plus(limits.max_sim_time),
        );
        let mut fault_tolerance = fault_tolerance;
        fault_tolerance.savepoints = self.savepoints(&raw_savepoints, &nodes);
        fault_tolerance.rescale = raw_rescale
            .as_ref()
            .and_then(|r| self.rescale(r, &nodes, &job));
        self.exactly_once_sinks_need_checkpoints(&nodes, &fault_tolerance);
        self.pitfalls(&nodes, &fault_tolerance);
        // `run` draws the faults of [chaos] from the input's end: refuse here what it would.
        if let Some(p) = &chaos
            && p.until.is_none()
            && super::recovery::input_end(&nodes).is_none()
        {
            self.error(
                chaos_span.map(|s| s.start..s.start + 1),
                super::chaos::ChaosError::NoEnd.to_string(),
                "",
            );
        }
        self.check_size(&nodes, &job, &limits);
        Some(Scenario {
            file,
            name,
            description,
            seed,
            cluster,
            job,
            cost,
            limits,
            nodes,
            fault_tolerance,
            warnings: Vec::new(),
            modes,
            chaos,
        })
    }

    /// What `[limits]` will stop: an input with more records than `max_records` (and, when
    /// it is large, how many records it holds), a job whose tasks and channels alone need
    /// more than `max_memory`, and windows that put a record into millions of windows.
    fn check_size(&mut self, nodes: &[NodeDef], job: &JobConfig, limits: &Limits) {
        use crate::core::cost::{CHANNEL_MEMORY_BYTES, TASK_MEMORY_BYTES, human_bytes};
        // Records.
        let mut total = 0u64;
        let mut biggest: Option<(&NodeDef, u64)> = None;
        for n in nodes {
            if let NodeKind::Source(s) = &n.kind
                && let Some(r) = s.records()
            {
                total = total.saturating_add(r);
                if biggest.is_none_or(|(_, b)| r > b) {
                    biggest = Some((n, r));
                }
            }
        }
        if let Some((src, _)) = biggest
            && total > limits.max_records / 5
        {
            let span = Some(src.span.start..src.span.start + 1);
            if total > limits.max_records {
                self.warn(
                    span,
                    format!(
                        "the input holds {total} records, more than limits.max_records ({}): the run will stop there",
                        limits.max_records
                    ),
                    "shorten the input (repeat, count, duration or rate), or raise max_records in [limits]",
                );
            } else {
                self.warn(
                    span,
                    format!("the input holds {total} records: a long run"),
                    "streamlab simulates some 10 million records per second",
                );
            }
        }
        // Tasks and channels.
        let par = |n: &NodeDef| n.parallelism.as_ref().map_or(job.parallelism, |p| p.value);
        let mut tasks = 0u64;
        let mut channels = 0u64;
        let mut widest: Option<&NodeDef> = None;
        for n in nodes {
            if n.is_virtual() {
                continue;
            }
            let p = u64::from(par(n));
            tasks += p;
            if widest.is_none_or(|w| par(w) < par(n)) {
                widest = Some(n);
            }
            for i in &n.inputs {
                let up = u64::from(par(&nodes[i.node]));
                let forward = n
                    .partitioner
                    .as_ref()
                    .is_some_and(|x| x.value == Partitioner::Forward)
                    || (n.partitioner.is_none()
                        && up == p
                        && !matches!(nodes[i.node].kind, NodeKind::KeyBy { .. }));
                channels += if forward { p } else { up * p };
            }
        }
        let fixed = tasks * TASK_MEMORY_BYTES + channels * CHANNEL_MEMORY_BYTES;
        if fixed > limits.max_memory {
            let span = widest
                .and_then(|w| w.parallelism.as_ref().map(|p| p.span.clone()))
                .or(job.parallelism_span.clone())
                .or(widest.map(|w| w.span.clone()));
            self.error(
                span,
                format!(
                    "the job cannot fit in limits.max_memory ({}): its {tasks} tasks and {channels} network channels alone need about {}",
                    human_bytes(limits.max_memory),
                    human_bytes(fixed)
                ),
                "lower the parallelism (an all-to-all connection has upstream × downstream channels), or raise max_memory in [limits]",
            );
        }
        // Windows per record: each takes state (about 96 bytes in memory) when a record
        // of a key arrives.
        for n in nodes {
            if let NodeKind::Window(w) = &n.kind
                && let crate::flink::window::Assigner::Sliding { size, slide, .. } = w.assigner
                && slide > 0
                && size / slide > 100_000
            {
                let windows = (size / slide) as u64;
                if windows.saturating_mul(96) > limits.max_memory {
                    self.error(
                        Some(n.span.start..n.span.start + 1),
                        format!(
                            "every record of `{}` belongs to {windows} sliding windows (size / slide): the state of one record alone (about {}) cannot fit in limits.max_memory ({})",
                            n.name,
                            human_bytes(windows.saturating_mul(96)),
                            human_bytes(limits.max_memory)
                        ),
                        "make the slide larger or the window shorter",
                    );
                    continue;
                }
                self.warn(
                    Some(n.span.start..n.span.start + 1),
                    format!(
                        "every record of `{}` belongs to {} sliding windows (size / slide): state and time grow with that for each record",
                        n.name,
                        size / slide
                    ),
                    "make the slide larger or the window shorter; the run stops at limits.max_memory",
                );
            }
        }
    }

    fn cluster(&mut self, raw: Option<&TSpanned<RawCluster>>) -> Cluster {
        let mut c = Cluster {
            task_managers: 1,
            slots_per_tm: 1,
            cores_per_tm: 1,
        };
        let Some(raw) = raw else { return c };
        let raw = raw.get_ref();
        if let Some(v) = &raw.task_managers {
            c.task_managers = self.count(v, "task_managers", 1024).unwrap_or(1);
        }
        if let Some(v) = &raw.slots_per_task_manager {
            c.slots_per_tm = self.count(v, "slots_per_task_manager", 1024).unwrap_or(1);
        }
        c.cores_per_tm = match &raw.cores_per_task_manager {
            Some(v) => self.count(v, "cores_per_task_manager", 1024).unwrap_or(1),
            None => c.slots_per_tm,
        };
        c
    }

    fn job(&mut self, raw: Option<&TSpanned<RawJob>>) -> JobConfig {
        let mut j = JobConfig {
            parallelism: 1,
            parallelism_span: None,
            max_parallelism: None,
            chaining: true,
            buffer_timeout: BufferTimeout::default(),
            auto_watermark_interval: SimDuration::from_millis(200),
        };
        let Some(raw) = raw else { return j };
        let raw = raw.get_ref();
        if let Some(v) = &raw.parallelism {
            j.parallelism_span = Some(v.span());
            j.parallelism = self
                .count(v, "parallelism", i64::from(UPPER_BOUND_MAX_PARALLELISM))
                .unwrap_or(1);
        }
        if let Some(v) = &raw.max_parallelism
            && let Some(m) =
                self.count(v, "max_parallelism", i64::from(UPPER_BOUND_MAX_PARALLELISM))
        {
            j.max_parallelism = Some(Spanned {
                value: m,
                span: v.span(),
            });
        }
        if let Some(c) = raw.chaining {
            j.chaining = c;
        }
        if let Some(t) = &raw.auto_watermark_interval
            && let Some(d) = self.duration(t, "auto_watermark_interval")
        {
            j.auto_watermark_interval = d;
        }
        if let Some(t) = &raw.buffer_timeout {
            let text = t.get_ref().trim();
            if text.eq_ignore_ascii_case("off") || text.eq_ignore_ascii_case("none") {
                j.buffer_timeout = BufferTimeout::Off;
            } else if let Some(d) = self.duration(t, "buffer_timeout") {
                j.buffer_timeout = BufferTimeout::Interval(d);
            }
        }
        j
    }

    fn cost(&mut self, raw: Option<&TSpanned<RawCost>>) -> CostModel {
        let mut c = CostModel::default();
        let Some(raw) = raw else { return c };
        let raw = raw.get_ref();
        let durations: [(&Option<TSpanned<String>>, &mut SimDuration, &str); 10] = [
            (
                &raw.source_record,
                &mut c.source_record,
                "cost.source_record",
            ),
            (
                &raw.operator_record,
                &mut c.operator_record,
                "cost.operator_record",
            ),
            (&raw.keyed_record, &mut c.keyed_record, "cost.keyed_record"),
            (&raw.sink_record, &mut c.sink_record, "cost.sink_record"),
            (
                &raw.serialize_record,
                &mut c.serialize_record,
                "cost.serialize_record",
            ),
            (
                &raw.deserialize_record,
                &mut c.deserialize_record,
                "cost.deserialize_record",
            ),
            (
                &raw.local_channel_latency,
                &mut c.local_channel_latency,
                "cost.local_channel_latency",
            ),
            (
                &raw.remote_channel_latency,
                &mut c.remote_channel_latency,
                "cost.remote_channel_latency",
            ),
            (
                &raw.heartbeat_interval,
                &mut c.heartbeat_interval,
                "cost.heartbeat_interval",
            ),
            (
                &raw.heartbeat_timeout,
                &mut c.heartbeat_timeout,
                "cost.heartbeat_timeout",
            ),
        ];
        let mut parsed = Vec::new();
        for (src, _, what) in &durations {
            if let Some(v) = src {
                parsed.push(self.duration(v, what));
            } else {
                parsed.push(None);
            }
        }
        for ((_, dst, _), p) in durations.into_iter().zip(parsed) {
            if let Some(d) = p {
                *dst = d;
            }
        }
        if let Some(v) = &raw.network_bandwidth {
            match parse_bandwidth(v.get_ref()) {
                Ok(0) => self.error(
                    Some(v.span()),
                    "network_bandwidth must be more than zero",
                    "",
                ),
                Ok(b) => c.network_bandwidth_bytes_per_s = b,
                Err(e) => self.error(Some(v.span()), e, ""),
            }
        }
        if let Some(v) = &raw.buffer_size {
            match parse_size(v.get_ref()) {
                Ok(b) if (256..=16 << 20).contains(&b) => c.buffer_size_bytes = b as u32,
                Ok(b) => self.error(
                    Some(v.span()),
                    format!("buffer_size must be between 256 bytes and 16 mb, found {b} bytes"),
                    "",
                ),
                Err(e) => self.error(Some(v.span()), e, "sizes look like \"32 kb\""),
            }
        }
        if let Some(v) = &raw.exclusive_buffers_per_channel {
            c.exclusive_buffers_per_channel = self
                .count(v, "exclusive_buffers_per_channel", 1024)
                .unwrap_or(2);
        }
        if let Some(v) = &raw.floating_buffers_per_gate {
            match *v.get_ref() {
                n @ 0..=1024 => c.floating_buffers_per_gate = n as u32,
                n => self.error(
                    Some(v.span()),
                    format!("floating_buffers_per_gate must be 0 to 1024, found {n}"),
                    "",
                ),
            }
        }
        if let Some(v) = &raw.max_overdraft_buffers {
            match *v.get_ref() {
                n @ 0..=1024 => c.max_overdraft_buffers = n as u32,
                n => self.error(
                    Some(v.span()),
                    format!("max_overdraft_buffers must be 0 to 1024, found {n}"),
                    "",
                ),
            }
        }
        c
    }

    fn limits(&mut self, raw: Option<&TSpanned<RawLimits>>) -> Limits {
        let mut l = Limits::default();
        let Some(raw) = raw else { return l };
        let raw = raw.get_ref();
        if let Some(v) = &raw.max_sim_time
            && let Some(d) = self.duration(v, "limits.max_sim_time")
        {
            l.max_sim_time = d;
        }
        if let Some(v) = &raw.max_events {
            if *v.get_ref() < 1 {
                self.error(Some(v.span()), "limits.max_events must be at least 1", "");
            } else {
                l.max_events = *v.get_ref() as u64;
            }
        }
        if let Some(v) = &raw.max_records {
            if *v.get_ref() < 1 {
                self.error(Some(v.span()), "limits.max_records must be at least 1", "");
            } else {
                l.max_records = *v.get_ref() as u64;
            }
        }
        if let Some(v) = &raw.max_memory {
            match parse_size(v.get_ref()) {
                Ok(0) => self.error(
                    Some(v.span()),
                    "limits.max_memory must be more than zero",
                    "",
                ),
                Ok(b) => l.max_memory = b,
                Err(e) => self.error(
                    Some(v.span()),
                    format!("limits.max_memory: {e}"),
                    "sizes look like \"512 mb\", \"4 gb\"",
                ),
            }
        }
        l
    }

    fn drafts(&mut self, raw: RawScenario) -> Vec<Draft> {
        let mut drafts = Vec::new();
        for s in raw.sources {
            let span = s.span();
            let s = s.into_inner();
            let common = Common {
                parallelism: s.parallelism.clone(),
                chaining: None,
                start_new_chain: None,
                slot_sharing_group: s.slot_sharing_group.clone(),
                partitioner: None,
                cost: s.cost.clone(),
            };
            drafts.push(Draft {
                name: s.name.get_ref().clone(),
                name_span: s.name.span(),
                span,
                inputs: Vec::new(),
                role: Role::Source(Box::new(s)),
                common,
            });
        }
        for o in raw.operators {
            let span = o.span();
            let o = o.into_inner();
            let mut inputs = Vec::new();
            match (&o.input, &o.inputs) {
                (Some(i), None) => inputs.push((i.get_ref().clone(), i.span())),
                (None, Some(list)) => {
                    for i in list.get_ref() {
                        inputs.push((i.get_ref().clone(), i.span()));
                    }
                    if list.get_ref().is_empty() {
                        self.error(
                            Some(list.span()),
                            format!("operator `{}` lists no inputs", o.name.get_ref()),
                            "",
                        );
                    }
                }
                (Some(i), Some(_)) => self.error(
                    Some(i.span()),
                    format!(
                        "operator `{}` has both `input` and `inputs`",
                        o.name.get_ref()
                    ),
                    "use `input` for one stream, `inputs` for a union",
                ),
                (None, None) => self.error(
                    Some(o.name.span()),
                    format!("operator `{}` has no `input`", o.name.get_ref()),
                    "name the stream it reads: input = \"…\"",
                ),
            }
            let common = Common {
                parallelism: o.parallelism.clone(),
                chaining: o.chaining.clone(),
                start_new_chain: o.start_new_chain.clone(),
                slot_sharing_group: o.slot_sharing_group.clone(),
                partitioner: o.partitioner.clone(),
                cost: o.cost.clone(),
            };
            // A window's late data or a process function's side output: a stream of its own,
            // with the fields of the operator's input.
            let side = o
                .late_output
                .clone()
                .or_else(|| o.side_output.clone())
                .map(|l| (l, o.name.get_ref().clone(), o.name.span()));
            drafts.push(Draft {
                name: o.name.get_ref().clone(),
                name_span: o.name.span(),
                span,
                inputs,
                role: Role::Operator(Box::new(o)),
                common,
            });
            if let Some((late, window, window_span)) = side {
                drafts.push(Draft {
                    name: late.get_ref().clone(),
                    name_span: late.span(),
                    span: late.span(),
                    inputs: vec![(window, window_span)],
                    role: Role::SideOutput,
                    common: Common {
                        parallelism: None,
                        chaining: None,
                        start_new_chain: None,
                        slot_sharing_group: None,
                        partitioner: None,
                        cost: None,
                    },
                });
            }
        }
        for k in raw.sinks {
            let span = k.span();
            let k = k.into_inner();
            let common = Common {
                parallelism: k.parallelism.clone(),
                chaining: k.chaining.clone(),
                start_new_chain: k.start_new_chain.clone(),
                slot_sharing_group: k.slot_sharing_group.clone(),
                partitioner: k.partitioner.clone(),
                cost: k.cost.clone(),
            };
            drafts.push(Draft {
                name: k.name.get_ref().clone(),
                name_span: k.name.span(),
                span,
                inputs: vec![(k.input.get_ref().clone(), k.input.span())],
                role: Role::Sink(Box::new(k)),
                common,
            });
        }
        drafts
    }

    fn nodes(&mut self, drafts: Vec<Draft>) -> Option<Vec<NodeDef>> {
        // Names must be unique and non-empty.
        let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
        for (i, d) in drafts.iter().enumerate() {
            if d.name.trim().is_empty() {
                self.error(Some(d.name_span.clone()), "a name must not be empty", "");
            } else if let Some(&first) = by_name.get(&d.name) {
                let (l, _) = self.diags.file.line_col(drafts[first].name_span.start);
                self.error(
                    Some(d.name_span.clone()),
                    format!("the name `{}` is used twice (first on line {l})", d.name),
                    "every source, operator and sink needs its own name",
                );
            } else {
                by_name.insert(d.name.clone(), i);
            }
        }
        // Resolve inputs.
        let streams: Vec<&str> = drafts
            .iter()
            .filter(|d| !matches!(d.role, Role::Sink(_)))
            .map(|d| d.name.as_str())
            .collect();
        let mut inputs: Vec<Vec<InputRef>> = vec![Vec::new(); drafts.len()];
        let mut unresolved = vec![false; drafts.len()];
        for (i, d) in drafts.iter().enumerate() {
            for (name, span) in &d.inputs {
                match by_name.get(name) {
                    Some(&j) if matches!(drafts[j].role, Role::Sink(_)) => {
                        self.error(
                            Some(span.clone()),
                            format!("`{name}` is a sink; sinks end a stream and cannot be read"),
                            format!("known streams: {}", streams.join(", ")),
                        );
                        unresolved[i] = true;
                    }
                    Some(&j) => inputs[i].push(InputRef {
                        node: j,
                        span: span.clone(),
                    }),
                    None => {
                        let mut msg = format!(
                            "unknown input `{name}` in {} `{}`",
                            role_name(&d.role),
                            d.name
                        );
                        if let Some(s) = closest(name, &streams) {
                            msg.push_str(&format!(" (did you mean `{s}`?)"));
                        }
                        self.error(
                            Some(span.clone()),
                            msg,
                            format!("known streams: {}", streams.join(", ")),
                        );
                        unresolved[i] = true;
                    }
                }
            }
        }
        // Cycles.
        let mut g: DiGraph<usize, ()> = DiGraph::new();
        let ids: Vec<_> = (0..drafts.len()).map(|i| g.add_node(i)).collect();
        for (i, ins) in inputs.iter().enumerate() {
            for inp in ins {
                g.add_edge(ids[inp.node], ids[i], ());
            }
        }
        let order = match toposort(&g, None) {
            Ok(o) => o.into_iter().map(|n| g[n]).collect::<Vec<_>>(),
            Err(cycle) => {
                let start = g[cycle.node_id()];
                let path = find_cycle(&inputs, start);
                let names: Vec<&str> = path.iter().map(|&i| drafts[i].name.as_str()).collect();
                let last = path[path.len() - 2];
                let span = inputs[path[path.len() - 1]]
                    .iter()
                    .find(|r| r.node == last)
                    .map(|r| r.span.clone());
                self.error(
                    span,
                    format!("the job has a cycle: {}", names.join(" → ")),
                    "a Flink job is a directed acyclic graph; streamlab has no iterations",
                );
                return None;
            }
        };
        // Kind-specific checks and schemas, in topological order.
        let mut interner = Interner::new();
        let mut schemas: Vec<Option<Schema>> = vec![None; drafts.len()];
        let mut kinds: Vec<Option<NodeKind>> = (0..drafts.len()).map(|_| None).collect();
        for &i in &order {
            let d = &drafts[i];
            if unresolved[i] {
                continue;
            }
            let in_schemas: Option<Vec<&Schema>> =
                inputs[i].iter().map(|r| schemas[r.node].as_ref()).collect();
            let Some(in_schemas) = in_schemas else {
                continue;
            };
            let result = match &d.role {
                Role::Source(s) => {
                    let mut scx = SourceCx {
                        ck: self,
                        interner: &mut interner,
                    };
                    check_source(&mut scx, s).map(|(spec, schema)| (NodeKind::Source(spec), schema))
                }
                Role::Operator(o) => {
                    self.operator(o, &in_schemas, &inputs[i], &drafts, &kinds, &mut interner)
                }
                Role::Sink(k) => self.sink(k, in_schemas[0], &mut interner),
                Role::SideOutput => {
                    // Late elements have the fields of the window operator's input.
                    let w = inputs[i][0].node;
                    inputs[w]
                        .first()
                        .and_then(|r| schemas[r.node].clone())
                        .map(|s| (NodeKind::SideOutput { of: w }, s))
                }
            };
            if let Some((kind, schema)) = result {
                kinds[i] = Some(kind);
                schemas[i] = Some(schema);
            }
        }
        self.check_event_time(&drafts, &inputs, &kinds);
        // Common options.
        let mut nodes = Vec::with_capacity(drafts.len());
        for (i, d) in drafts.into_iter().enumerate() {
            let common = self.common(&d);
            let (Some(kind), Some(schema), Some(common)) =
                (kinds[i].take(), schemas[i].take(), common)
            else {
                continue;
            };
            let (parallelism, chaining, slot_sharing_group, partitioner, cost) = common;
            let mut node = NodeDef {
                name: d.name,
                span: d.span,
                kind,
                inputs: std::mem::take(&mut inputs[i]),
                schema,
                parallelism,
                chaining,
                slot_sharing_group,
                partitioner,
                cost,
            };
            if matches!(node.kind, NodeKind::Source(_)) {
                node.chaining = ChainingStrategy::Head;
            }
            if let NodeKind::Window(w) = &node.kind
                && w.key.is_none()
                && node.parallelism.is_none()
            {
                // windowAll runs with parallelism 1, whatever the job default.
                node.parallelism = Some(Spanned {
                    value: 1,
                    span: node.span.clone(),
                });
            }
            nodes.push(node);
        }
        if self.diags.has_errors() {
            None
        } else {
            Some(nodes)
        }
    }

    /// Event-time operators — windows, joins, process functions with event-time timers — need
    /// timestamps and, to act before the input ends, watermarks; processing-time windows need
    /// input that takes time to arrive.
    fn check_event_time(
        &mut self,
        drafts: &[Draft],
        inputs: &[Vec<InputRef>],
        kinds: &[Option<NodeKind>],
    ) {
        use crate::flink::window::trigger::TriggerKind;
        for (i, k) in kinds.iter().enumerate() {
            let name = &drafts[i].name;
            // What the operator needs: (what it is, for messages; timestamps required;
            // what waits for the watermark).
            let (what, needs_timestamps, waits) = match k {
                Some(NodeKind::Window(w)) => {
                    let processing_timers = w.processing_time
                        || w.trigger.is_some_and(|t| {
                            matches!(
                                t.kind,
                                TriggerKind::ProcessingTime
                                    | TriggerKind::ContinuousProcessingTime(_)
                            )
                        });
                    let sources = upstream_sources(i, inputs, kinds);
                    if processing_timers
                        && !sources.is_empty()
                        && sources.iter().all(|(_, s)| s.is_instant())
                    {
                        self.warn(
                            Some(drafts[i].name_span.clone()),
                            format!("`{name}` uses processing-time timers, but its sources are bounded and have no `rate`"),
                            "all input arrives at one instant and the job ends right after; processing-time timers still pending at the end never fire (Flink drops them), so these windows may never fire — give the sources a `rate` (or a `duration`)",
                        );
                    }
                    if w.processing_time {
                        continue;
                    }
                    // The global window ends at +∞: an event-time trigger fires it only with
                    // the final watermark, whatever the records' timestamps (the batch-style
                    // "one result per key at the end"); other triggers do not look at event
                    // time at all.
                    if w.assigner == crate::flink::window::Assigner::Global
                        && w.trigger
                            .is_none_or(|t| !matches!(t.kind, TriggerKind::ContinuousEventTime(_)))
                    {
                        continue;
                    }
                    (
                        format!("event-time window `{name}`"),
                        true,
                        format!("the event-time windows of `{name}` will never fire"),
                    )
                }
                Some(NodeKind::Join(j)) => match j.kind {
                    JoinKind::Window(_) => (
                        format!("window join `{name}`"),
                        true,
                        format!("the windows of the window join `{name}` will never fire"),
                    ),
                    JoinKind::Interval { .. } => (
                        format!("interval join `{name}`"),
                        true,
                        format!(
                            "the interval join `{name}` keeps every record buffered (and drops none as late)"
                        ),
                    ),
                },
                Some(NodeKind::Process(p)) => match p.function {
                    ProcessFn::LongRideAlert { .. } => (
                        format!(
                            "process function `{name}` (long_ride_alert, which uses event-time timers)"
                        ),
                        true,
                        format!("the event-time timers of `{name}` will never fire"),
                    ),
                    // A Rust function may use processing time only: it needs no timestamps,
                    // but if it has them, event-time timers wait for watermarks.
                    ProcessFn::Custom { .. } => (
                        String::new(),
                        false,
                        format!("the event-time timers of `{name}` will never fire"),
                    ),
                },
                _ => continue,
            };
            let span = Some(drafts[i].name_span.clone());
            for (n, s) in upstream_sources(i, inputs, kinds) {
                let src = &drafts[n].name;
                if s.timestamps == Timestamps::None {
                    if needs_timestamps {
                        self.error(
                            span.clone(),
                            format!("the {what} reads records without timestamps from source `{src}`"),
                            if matches!(k, Some(NodeKind::Window(_))) {
                                "set `timestamp` on the source (a field, or \"ingestion\"), or use time = \"processing\""
                            } else {
                                "set `timestamp` on the source (a field, or \"ingestion\"): it works in event time"
                            },
                        );
                    }
                    continue;
                }
                let (why, fix) = match &s.watermarks {
                    None => (
                        "emits no watermarks",
                        "add `watermarks = { strategy = \"bounded\", max_out_of_orderness = \"…\" }` to the source",
                    ),
                    Some(w) if w.strategy.bound_ms.is_none() => (
                        "emits no watermarks (strategy = \"none\")",
                        "use strategy = \"bounded\" (with `max_out_of_orderness`) or \"monotonous\"",
                    ),
                    Some(w)
                        if !matches!(w.strategy.emission, Emission::PerEvent(_))
                            && w.strategy.emission.interval().is_none() =>
                    {
                        (
                            "emits no watermark before the end of its input (its watermark interval is 0 ms)",
                            "give the watermarks an `interval` more than zero, or emit = \"per_event\"",
                        )
                    }
                    Some(_) => continue,
                };
                self.warn(
                    span.clone(),
                    format!("source `{src}` {why}, so {waits} until the input ends"),
                    fix,
                );
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn common(
        &mut self,
        d: &Draft,
    ) -> Option<(
        Option<Spanned<u32>>,
        ChainingStrategy,
        Option<String>,
        Option<Spanned<Partitioner>>,
        Option<SimDuration>,
    )> {
        let c = &d.common;
        let parallelism = match &c.parallelism {
            Some(p) => self
                .count(
                    p,
                    &format!("parallelism of `{}`", d.name),
                    i64::from(UPPER_BOUND_MAX_PARALLELISM),
                )
                .map(|v| {
                    Some(Spanned {
                        value: v,
                        span: p.span(),
                    })
                })?,
            None => None,
        };
        let mut chaining = ChainingStrategy::Always;
        if let Some(s) = &c.start_new_chain
            && *s.get_ref()
        {
            chaining = ChainingStrategy::Head;
        }
        if let Some(ch) = &c.chaining
            && !*ch.get_ref()
        {
            chaining = ChainingStrategy::Never;
        }
        let ssg = c.slot_sharing_group.as_ref().map(|s| s.get_ref().clone());
        let partitioner = match &c.partitioner {
            None => None,
            Some(p) => match Partitioner::parse(p.get_ref()) {
                Some(part) => Some(Spanned {
                    value: part,
                    span: p.span(),
                }),
                None if p.get_ref() == "hash" => {
                    self.error(
                        Some(p.span()),
                        "hash partitioning comes from a key_by",
                        "add a [[operator]] with kind = \"key_by\" and read from it",
                    );
                    return None;
                }
                None => {
                    self.error(
                        Some(p.span()),
                        format!("unknown partitioner `{}`", p.get_ref()),
                        "expected one of forward, rebalance, rescale, shuffle, broadcast, global",
                    );
                    return None;
                }
            },
        };
        let cost = match &c.cost {
            Some(v) => Some(self.duration(v, "cost")?),
            None => None,
        };
        Some((parallelism, chaining, ssg, partitioner, cost))
    }

    fn operator(
        &mut self,
        o: &RawOperator,
        ins: &[&Schema],
        refs: &[InputRef],
        drafts: &[Draft],
        kinds: &[Option<NodeKind>],
        interner: &mut Interner,
    ) -> Option<(NodeKind, Schema)> {
        let kind = o.kind.get_ref().as_str();
        let name = o.name.get_ref();
        const KINDS: &str = "map, filter, flat_map, key_by, reduce, window, union, co_map, window_join, \
                             interval_join, process";
        let allowed: &[&str] = match kind {
            "map" | "flat_map" => &["select"],
            "filter" => &["where"],
            "key_by" => &["key"],
            "reduce" => &["function", "field", "select"],
            "window" => &[
                "window",
                "time",
                "function",
                "field",
                "select",
                "allowed_lateness",
                "late_output",
                "trigger",
                "evictor",
                "as",
            ],
            "union" => &[],
            "co_map" => &["map1", "map2"],
            "window_join" => &["window", "select"],
            "interval_join" => &["lower", "upper", "select"],
            "process" => &["function", "is_start", "timeout", "side_output"],
            other => {
                let mut msg = format!("unknown operator kind `{other}`");
                if let Some(s) = closest(other, &KINDS.split(", ").collect::<Vec<_>>()) {
                    msg.push_str(&format!(" (did you mean `{s}`?)"));
                }
                self.error(Some(o.kind.span()), msg, format!("expected one of {KINDS}"));
                return None;
            }
        };
        let given: [(&str, Option<Range<usize>>); 20] = [
            ("side_output", o.side_output.as_ref().map(|v| v.span())),
            ("is_start", o.is_start.as_ref().map(|v| v.span())),
            ("timeout", o.timeout.as_ref().map(|v| v.span())),
            ("map1", o.map1.as_ref().map(|v| v.span())),
            ("map2", o.map2.as_ref().map(|v| v.span())),
            ("lower", o.lower.as_ref().map(|v| v.span())),
            ("upper", o.upper.as_ref().map(|v| v.span())),
            ("select", o.select.as_ref().map(|v| v.span())),
            ("where", o.where_.as_ref().map(|v| v.span())),
            ("key", o.key.as_ref().map(|v| v.span())),
            ("function", o.function.as_ref().map(|v| v.span())),
            ("field", o.field.as_ref().map(|v| v.span())),
            ("window", o.window.as_ref().map(|v| v.span())),
            ("time", o.time.as_ref().map(|v| v.span())),
            (
                "allowed_lateness",
                o.allowed_lateness.as_ref().map(|v| v.span()),
            ),
            ("late_output", o.late_output.as_ref().map(|v| v.span())),
            ("trigger", o.trigger.as_ref().map(|v| v.span())),
            ("evictor", o.evictor.as_ref().map(|v| v.span())),
            ("as", o.as_.as_ref().map(|v| v.span())),
            ("inputs", None),
        ];
        let mut bad = false;
        for (key, span) in given {
            if let Some(span) = span
                && !allowed.contains(&key)
            {
                let takes = if allowed.is_empty() {
                    "no options of its own".to_string()
                } else {
                    allowed.join(", ")
                };
                self.error(
                    Some(span),
                    format!("`{key}` is not an option of a {kind}"),
                    format!("a {kind} takes {takes}"),
                );
                bad = true;
            }
        }
        let two_inputs = matches!(kind, "co_map" | "window_join" | "interval_join");
        if two_inputs && refs.len() != 2 {
            self.error(
                o.inputs.as_ref().map(|v| v.span()).or(Some(o.name.span())),
                format!("a {kind} reads two streams: inputs = [\"first\", \"second\"], but `{name}` lists {}", refs.len()),
                "",
            );
            return None;
        }
        if kind != "union" && !two_inputs && refs.len() > 1 {
            self.error(
                o.inputs.as_ref().map(|v| v.span()),
                format!(
                    "a {kind} reads one stream, but `{name}` lists {}",
                    refs.len()
                ),
                "merge streams with a union first",
            );
            return None;
        }
        if bad {
            return None;
        }
        // No input at all (`input` left out, or `inputs = []`): reported when the inputs were
        // gathered; nothing more to check here.
        let &input = ins.first()?;
        match kind {
            "map" | "flat_map" => {
                let Some(select) = &o.select else {
                    self.error(
                        Some(o.name.span()),
                        format!("{kind} `{name}` needs a `select` table"),
                        "select = { out_field = \"expression\", … }",
                    );
                    return None;
                };
                let mut fields = Vec::new();
                let mut exprs = Vec::new();
                let mut splits = 0;
                for (field, text) in select.get_ref() {
                    let src = self.expr_src(text);
                    let item = if kind == "flat_map" {
                        compile_select(text.get_ref(), &Scope::Record(input), interner)
                    } else {
                        expr::compile(text.get_ref(), &Scope::Record(input), interner)
                            .map(SelectItem::Scalar)
                    };
                    match item {
                        Ok(SelectItem::Scalar(e)) => fields.push(Field {
                            name: field.as_str().into(),
                            ty: e.ty,
                        }),
                        Ok(SelectItem::Split { .. }) => {
                            splits += 1;
                            if splits > 1 {
                                self.error(
                                    Some(text.span()),
                                    "a flat_map may split only one field",
                                    "",
                                );
                            }
                            fields.push(Field {
                                name: field.as_str().into(),
                                ty: Type::String,
                            });
                        }
                        Err(e) => self.expr_error(&src, e),
                    }
                    exprs.push((field.clone(), src));
                }
                if select.get_ref().is_empty() {
                    self.error(
                        Some(select.span()),
                        format!("`{name}` selects no fields"),
                        "",
                    );
                }
                let schema = Schema { fields };
                let node = if kind == "map" {
                    NodeKind::Map { select: exprs }
                } else {
                    NodeKind::FlatMap { select: exprs }
                };
                Some((node, schema))
            }
            "filter" => {
                let Some(cond) = &o.where_ else {
                    self.error(
                        Some(o.name.span()),
                        format!("filter `{name}` needs a `where` condition"),
                        "where = \"amount > 100\"",
                    );
                    return None;
                };
                let src = self.expr_src(cond);
                match compile_typed(
                    cond.get_ref(),
                    &Scope::Record(input),
                    interner,
                    Type::Bool,
                    "a filter's `where`",
                ) {
                    Ok(_) => Some((NodeKind::Filter { condition: src }, input.clone())),
                    // A filter passes its input's fields whatever its condition: go on
                    // checking what reads it, so every type error is reported.
                    Err(e) => {
                        self.expr_error(&src, e);
                        Some((NodeKind::Filter { condition: src }, input.clone()))
                    }
                }
            }
            "key_by" => {
                let Some(key) = &o.key else {
                    self.error(
                        Some(o.name.span()),
                        format!("key_by `{name}` needs a `key`"),
                        "key = \"user\"",
                    );
                    return None;
                };
                let src = self.expr_src(key);
                match expr::compile(key.get_ref(), &Scope::Record(input), interner) {
                    Ok(_) => Some((NodeKind::KeyBy { key: src }, input.clone())),
                    Err(e) => {
                        self.expr_error(&src, e);
                        None
                    }
                }
            }
            "reduce" => self.reduce(o, input, &refs[0], drafts, kinds, interner),
            "process" => self.process(o, input, &refs[0], kinds),
            "co_map" | "window_join" | "interval_join" => {
                super::joins::check_two_input(self, o, ins, refs, kinds, interner)
            }
            "window" => super::windows::check_window(
                self,
                o,
                input,
                &refs[0],
                drafts_names(drafts),
                kinds,
                interner,
            ),
            "union" => {
                if refs.len() < 2 {
                    self.warn(
                        Some(o.name.span()),
                        format!("union `{name}` has a single input"),
                        "a union merges two or more streams",
                    );
                }
                for (r, s) in refs.iter().zip(ins).skip(1) {
                    if *s != input {
                        self.error(
                            Some(r.span.clone()),
                            format!("union `{name}` needs inputs with the same fields: `{}` has {s}, `{}` has {input}",
                                drafts[r.node].name, drafts[refs[0].node].name),
                            "add a map to one side to line the fields up",
                        );
                        return None;
                    }
                }
                Some((NodeKind::Union, input.clone()))
            }
            _ => unreachable!("kinds are checked above"),
        }
    }

    fn process(
        &mut self,
        o: &RawOperator,
        input: &Schema,
        r: &InputRef,
        kinds: &[Option<NodeKind>],
    ) -> Option<(NodeKind, Schema)> {
        let name = o.name.get_ref();
        let Some(NodeKind::KeyBy { key }) = &kinds[r.node] else {
            self.error(
                Some(r.span.clone()),
                format!("process `{name}` must read a keyed stream (a key_by)"),
                "keyed state and timers belong to a key",
            );
            return None;
        };
        let Some(function) = &o.function else {
            self.error(
                Some(o.name.span()),
                format!("process `{name}` needs a `function`"),
                "function = \"long_ride_alert\"",
            );
            return None;
        };
        let key_field = |key: &ExprSrc| -> Option<Field> {
            let mut interner = Interner::new();
            let k = expr::compile(&key.text, &Scope::Record(input), &mut interner).ok()?;
            let kname = k
                .as_field()
                .map_or_else(|| "key".to_string(), |i| input.fields[i].name.to_string());
            Some(Field {
                name: kname.into(),
                ty: k.ty,
            })
        };
        if let Some(c) = self.custom.iter().find(|c| c.name == *function.get_ref()) {
            if let Some((k, span)) = [("is_start", &o.is_start), ("timeout", &o.timeout)]
                .into_iter()
                .find_map(|(k, v)| v.as_ref().map(|v| (k, v.span())))
            {
                self.error(
                    Some(span),
                    format!("`{k}` is an option of long_ride_alert, not of `{}`", c.name),
                    "",
                );
                return None;
            }
            let mut fields = vec![key_field(key)?];
            fields.extend(c.output.iter().map(|(n, t)| Field {
                name: n.as_str().into(),
                ty: *t,
            }));
            let spec = ProcessSpec {
                key: key.clone(),
                function: ProcessFn::Custom {
                    name: c.name.clone(),
                    make: c.make.clone(),
                },
            };
            return Some((NodeKind::Process(Box::new(spec)), Schema { fields }));
        }
        match function.get_ref().as_str() {
            "long_ride_alert" => {
                let (Some(s), Some(t)) = (&o.is_start, &o.timeout) else {
                    self.error(
                        Some(function.span()),
                        "long_ride_alert needs `is_start` (a boolean field) and `timeout`",
                        "is_start = \"is_start\", timeout = \"2 h\"",
                    );
                    return None;
                };
                let is_start = match input.index_of(s.get_ref()) {
                    Some(i) if input.fields[i].ty == Type::Bool => i,
                    Some(i) => {
                        self.error(
                            Some(s.span()),
                            format!(
                                "`{}` must be a boolean field, but it is {}",
                                s.get_ref(),
                                input.fields[i].ty
                            ),
                            "",
                        );
                        return None;
                    }
                    None => {
                        self.error(
                            Some(s.span()),
                            format!("unknown field `{}`", s.get_ref()),
                            format!("known fields: {}", input.names()),
                        );
                        return None;
                    }
                };
                let timeout = self.duration(t, "timeout")?;
                if timeout.0 == 0 {
                    self.error(Some(t.span()), "the timeout must be more than zero", "");
                    return None;
                }
                let schema = Schema {
                    fields: vec![
                        key_field(key)?,
                        Field {
                            name: "started_at".into(),
                            ty: Type::Int,
                        },
                    ],
                };
                let spec = ProcessSpec {
                    key: key.clone(),
                    function: ProcessFn::LongRideAlert {
                        is_start,
                        timeout: timeout.as_millis() as i64,
                    },
                };
                Some((NodeKind::Process(Box::new(spec)), schema))
            }
            other => {
                let mut known = vec!["long_ride_alert".to_string()];
                known.extend(self.custom.iter().map(|c| c.name.clone()));
                self.error(
                    Some(function.span()),
                    format!("unknown process function `{other}`"),
                    format!(
                        "known: {} (Rust programs can register their own)",
                        known.join(", ")
                    ),
                );
                None
            }
        }
    }

    fn reduce(
        &mut self,
        o: &RawOperator,
        input: &Schema,
        r: &InputRef,
        drafts: &[Draft],
        kinds: &[Option<NodeKind>],
        interner: &mut Interner,
    ) -> Option<(NodeKind, Schema)> {
        let name = o.name.get_ref();
        let key = match &kinds[r.node] {
            Some(NodeKind::KeyBy { key }) => key.clone(),
            _ => {
                self.error(
                    Some(r.span.clone()),
                    format!(
                        "reduce `{name}` must read a keyed stream, but `{}` is not a key_by",
                        drafts[r.node].name
                    ),
                    "insert a [[operator]] with kind = \"key_by\" between them",
                );
                return None;
            }
        };
        let Some(function) = &o.function else {
            self.error(
                Some(o.name.span()),
                format!("reduce `{name}` needs a `function`"),
                "function = \"sum\" | \"count\" | \"min\" | \"max\" | \"expr\"",
            );
            return None;
        };
        let f = function.get_ref().as_str();
        let field_of = |ck: &mut Checker, numeric: bool| -> Option<usize> {
            let Some(field) = &o.field else {
                ck.error(
                    Some(function.span()),
                    format!("`{f}` needs a `field` to aggregate"),
                    format!("field = \"…\"; fields: {}", input.names()),
                );
                return None;
            };
            let Some(idx) = input.index_of(field.get_ref()) else {
                ck.error(
                    Some(field.span()),
                    format!("unknown field `{}`", field.get_ref()),
                    format!("known fields: {}", input.names()),
                );
                return None;
            };
            let ty = input.fields[idx].ty;
            if numeric && !matches!(ty, Type::Int | Type::Float) {
                ck.error(
                    Some(field.span()),
                    format!("`{f}` needs a number, but `{}` is {ty}", field.get_ref()),
                    "",
                );
                return None;
            }
            if ty == Type::Bool {
                ck.error(
                    Some(field.span()),
                    format!("`{f}` cannot order booleans"),
                    "",
                );
                return None;
            }
            Some(idx)
        };
        let no_extra = |ck: &mut Checker, select: bool, field: bool| {
            if select && let Some(s) = &o.select {
                ck.error(
                    Some(s.span()),
                    format!("`select` is for function = \"expr\", not `{f}`"),
                    "",
                );
            }
            if field && let Some(s) = &o.field {
                ck.error(Some(s.span()), format!("`{f}` takes no `field`"), "");
            }
        };
        let function = match f {
            "sum" => {
                no_extra(self, true, false);
                ReduceFn::Sum(field_of(self, true)?)
            }
            "min" => {
                no_extra(self, true, false);
                ReduceFn::Min(field_of(self, false)?)
            }
            "max" => {
                no_extra(self, true, false);
                ReduceFn::Max(field_of(self, false)?)
            }
            "count" => {
                no_extra(self, true, true);
                ReduceFn::Count
            }
            "expr" => {
                no_extra(self, false, true);
                let Some(select) = &o.select else {
                    self.error(
                        Some(function.span()),
                        "function = \"expr\" needs a `select` table",
                        "select = { total = \"acc.total + total\" }",
                    );
                    return None;
                };
                let mut out = Vec::new();
                for (field, text) in select.get_ref() {
                    let src = self.expr_src(text);
                    let Some(idx) = input.index_of(field) else {
                        self.error(
                            Some(text.span()),
                            format!(
                                "a reduce keeps its input's fields; `{field}` is not one of them"
                            ),
                            format!("fields: {}", input.names()),
                        );
                        continue;
                    };
                    match expr::compile(
                        text.get_ref(),
                        &Scope::Reduce {
                            acc: input,
                            cur: input,
                        },
                        interner,
                    ) {
                        Ok(e) => {
                            let want = input.fields[idx].ty;
                            if !(e.ty == want || (want == Type::Float && e.ty == Type::Int)) {
                                self.error(
                                    Some(text.span()),
                                    format!(
                                        "`{field}` is {want}, but `{}` is {}",
                                        text.get_ref(),
                                        e.ty
                                    ),
                                    "",
                                );
                            }
                        }
                        Err(e) => self.expr_error(&src, e),
                    }
                    out.push((field.clone(), src));
                }
                ReduceFn::Expr(out)
            }
            other => {
                self.error(
                    Some(function.span()),
                    format!("unknown reduce function `{other}`"),
                    "expected one of sum, count, min, max, expr",
                );
                return None;
            }
        };
        let schema = if function == ReduceFn::Count {
            // A key_by passes its input through, so the key is computed over `input`.
            let key_expr = expr::compile(&key.text, &Scope::Record(input), interner).ok()?;
            let key_name: String = match key_expr.as_field() {
                Some(i) => input.fields[i].name.to_string(),
                None => "key".into(),
            };
            Schema {
                fields: vec![
                    Field {
                        name: key_name.into(),
                        ty: key_expr.ty,
                    },
                    Field {
                        name: "count".into(),
                        ty: Type::Int,
                    },
                ],
            }
        } else {
            input.clone()
        };
        Some((NodeKind::Reduce { function }, schema))
    }

    fn sink(
        &mut self,
        k: &RawSink,
        input: &Schema,
        interner: &mut Interner,
    ) -> Option<(NodeKind, Schema)> {
        let kind = k.kind.as_ref().map_or("collect", |s| s.get_ref().as_str());
        let capture = match &k.capture {
            Some(c) if *c.get_ref() < 0 => {
                self.error(
                    Some(c.span()),
                    "capture must not be negative",
                    "how many records the report keeps",
                );
                return None;
            }
            Some(c) => *c.get_ref() as usize,
            None => 20,
        };
        let spec = match kind {
            "collect" | "print" => {
                if let Some(key) = &k.key {
                    self.error(
                        Some(key.span()),
                        "a collect sink takes no `key`",
                        "use kind = \"upsert\" for a table by key",
                    );
                }
                SinkSpec::Collect { capture }
            }
            "upsert" => {
                let Some(key) = &k.key else {
                    self.error(
                        Some(k.name.span()),
                        format!("upsert sink `{}` needs a `key`", k.name.get_ref()),
                        "key = \"word\"",
                    );
                    return None;
                };
                let src = self.expr_src(key);
                if let Err(e) = expr::compile(key.get_ref(), &Scope::Record(input), interner) {
                    self.expr_error(&src, e);
                    return None;
                }
                SinkSpec::Upsert { key: src, capture }
            }
            "discard" => SinkSpec::Discard,
            other => {
                self.error(
                    k.kind.as_ref().map(|s| s.span()),
                    format!("unknown sink kind `{other}`"),
                    "expected one of collect, upsert, discard",
                );
                return None;
            }
        };
        let guarantee = match &k.guarantee {
            None => Guarantee::AtLeastOnce,
            Some(g) => match g.get_ref().to_ascii_lowercase().replace('-', "_").as_str() {
                "at_least_once" => Guarantee::AtLeastOnce,
                "exactly_once" | "two_phase_commit" => {
                    if matches!(spec, SinkSpec::Upsert { .. }) {
                        self.error(
                            Some(g.span()),
                            "an upsert sink is idempotent by key: it takes no guarantee",
                            "a replay overwrites rows with the same values; use kind = \"collect\" for a two-phase-commit sink",
                        );
                    }
                    Guarantee::ExactlyOnce
                }
                other => {
                    self.error(
                        Some(g.span()),
                        format!("unknown sink guarantee `{other}`"),
                        "expected at_least_once or exactly_once (two-phase commit)",
                    );
                    Guarantee::AtLeastOnce
                }
            },
        };
        Some((NodeKind::Sink(spec, guarantee), input.clone()))
    }

    /// A two-phase-commit sink commits when a checkpoint completes: without checkpoints its
    /// output would never become visible.
    /// Jobs that run but not as meant: a stream nothing reads, faults with nothing to
    /// restore, exactly-once sinks that commit rarely or not exactly once.
    fn pitfalls(&mut self, nodes: &[NodeDef], ft: &FaultTolerance) {
        use super::recovery::CheckpointMode;
        for (i, n) in nodes.iter().enumerate() {
            if matches!(n.kind, NodeKind::Sink(..)) {
                continue;
            }
            if !nodes.iter().any(|m| m.inputs.iter().any(|r| r.node == i)) {
                self.warn(
                    Some(n.span.start..n.span.start + 1),
                    format!(
                        "no sink reads the output of `{}`: its results are computed and dropped",
                        n.name
                    ),
                    format!("add a [[sink]] with input = \"{}\", or remove it", n.name),
                );
            }
        }
        let Some(cp) = &ft.checkpointing else {
            if let Some(f) = ft.faults.first() {
                self.warn(
                    Some(f.span.clone()),
                    "the job has faults but no checkpointing: nothing is restored after a failure — with a [restart] strategy the job starts again from the beginning of its input, with empty state; without one it fails (Flink restarts only checkpointed jobs by default)",
                    "add a [checkpointing] table with an interval to see recovery from a checkpoint",
                );
            }
            return;
        };
        let end = super::recovery::input_end(nodes);
        for n in nodes {
            if !matches!(n.kind, NodeKind::Sink(_, Guarantee::ExactlyOnce)) {
                continue;
            }
            let at = Some(n.span.start..n.span.start + 1);
            if cp.mode == CheckpointMode::AtLeastOnce {
                self.warn(
                    at.clone(),
                    format!(
                        "sink `{}` is exactly-once, but checkpoints are at_least_once: without aligned barriers a restore replays records already in the committed output, so it gives duplicates",
                        n.name
                    ),
                    "use mode = \"exactly_once\" in [checkpointing], or make the sink at_least_once",
                );
            }
            if let Some(end) = end
                && cp.interval.0 > end.0
            {
                self.warn(
                    at,
                    format!(
                        "sink `{}` is exactly-once and commits at each checkpoint, but the checkpoint interval ({}) is longer than the input ({}): no checkpoint completes while it runs, so everything is committed at the end",
                        n.name, cp.interval, end
                    ),
                    "make the checkpoint interval shorter than the job",
                );
            }
        }
    }

    fn exactly_once_sinks_need_checkpoints(&mut self, nodes: &[NodeDef], ft: &FaultTolerance) {
        if ft.checkpointing.is_some() {
            return;
        }
        for n in nodes {
            if let NodeKind::Sink(_, Guarantee::ExactlyOnce) = n.kind {
                self.error(
                    Some(n.span.clone()),
                    format!(
                        "sink `{}` is exactly-once (two-phase commit), but checkpointing is off: it would never commit",
                        n.name
                    ),
                    "add a [checkpointing] table with an interval, or make the sink at_least_once",
                );
            }
        }
    }

    /// The expression text with the file offset of its first character.
    pub fn expr_src(&self, s: &TSpanned<String>) -> ExprSrc {
        ExprSrc {
            text: s.get_ref().clone(),
            offset: content_offset(&self.diags.file.text, s.span()),
        }
    }

    /// Reports an expression error at its place inside the file.
    pub fn expr_error(&mut self, src: &ExprSrc, e: ExprError) {
        let start = src.offset + e.span.start;
        let end = (src.offset + e.span.end).max(start + 1);
        self.diags.push(
            Diagnostic::error(e.message, Some(start..end))
                .with_label(e.label)
                .with_note(format!("in the expression `{}`", src.text)),
        );
    }
}

/// Byte offset of the first content character of a TOML string whose span includes quotes.
pub(super) fn content_offset(text: &str, span: Range<usize>) -> usize {
    let s = &text[span.start.min(text.len())..span.end.min(text.len())];
    if s.starts_with("\"\"\"") || s.starts_with("'''") {
        let after = span.start + 3;
        if text[after..].starts_with('\n') {
            after + 1
        } else if text[after..].starts_with("\r\n") {
            after + 2
        } else {
            after
        }
    } else if s.starts_with('"') || s.starts_with('\'') {
        span.start + 1
    } else {
        span.start
    }
}

/// The sources a node reads through any path, in declaration order.
fn upstream_sources<'k>(
    node: usize,
    inputs: &[Vec<InputRef>],
    kinds: &'k [Option<NodeKind>],
) -> Vec<(usize, &'k SourceSpec)> {
    let mut sources = Vec::new();
    let mut stack = vec![node];
    let mut seen = vec![false; inputs.len()];
    while let Some(n) = stack.pop() {
        for r in &inputs[n] {
            if !seen[r.node] {
                seen[r.node] = true;
                if let Some(NodeKind::Source(s)) = &kinds[r.node] {
                    sources.push((r.node, s));
                }
                stack.push(r.node);
            }
        }
    }
    sources.sort_by_key(|(n, _)| *n);
    sources
}

fn drafts_names(drafts: &[Draft]) -> Vec<&str> {
    drafts.iter().map(|d| d.name.as_str()).collect()
}

fn role_name(r: &Role) -> &'static str {
    match r {
        Role::Source(_) => "source",
        Role::Operator(_) => "operator",
        Role::Sink(_) => "sink",
        Role::SideOutput => "side output",
    }
}

/// A cycle through `start`, as node indices with the first repeated at the end.
fn find_cycle(inputs: &[Vec<InputRef>], start: usize) -> Vec<usize> {
    // Follow input edges backwards from `start` until we come back to it (DFS).
    fn dfs(
        inputs: &[Vec<InputRef>],
        at: usize,
        target: usize,
        seen: &mut Vec<bool>,
        path: &mut Vec<usize>,
    ) -> bool {
        for r in &inputs[at] {
            if r.node == target {
                path.push(r.node);
                return true;
            }
            if !seen[r.node] {
                seen[r.node] = true;
                path.push(r.node);
                if dfs(inputs, r.node, target, seen, path) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start];
    let mut seen = vec![false; inputs.len()];
    dfs(inputs, start, start, &mut seen, &mut path);
    // path goes downstream→upstream; show it in data-flow order.
    path.reverse();
    path
}
