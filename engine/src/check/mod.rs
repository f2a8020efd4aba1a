//! Stage two of reading a scenario: from the raw file ([`crate::scenario::raw`]) to a
//! [`Scenario`] that makes sense — names resolved, types known, options checked, expressions
//! compiled, so that planning and running have nothing left to fail on.
//!
//! Every check reports at the position of the offending text and keeps going, so one run of
//! `streamlab validate` lists every mistake in the file, not just the first. The checks share
//! one [`Checker`] (the diagnostics and the job-wide settings, in [`checker`]); each other
//! file is free functions over it, one per part of the file:
//!
//! | file | checks |
//! |---|---|
//! | [`cluster`] | `[cluster]`, `[job]` |
//! | [`deployment`] | `[deployment]`: mode, platform, HA, start-up costs |
//! | [`cost`], [`limits`] | `[cost]`; `[limits]` and what they will stop |
//! | [`graph`] | names, inputs, cycles, the options every node has; each node in data-flow order |
//! | [`source`] ([`rows`], [`generator`], [`watermarks`]) | `[[source]]` |
//! | [`operator`] | which options each operator kind takes; then one file per kind: |
//! | [`map`], [`key_by`], [`reduce`], [`window`] ([`assigner`], [`trigger`]), [`join`], [`process`] | the operators |
//! | [`sink`] | `[[sink]]` |
//! | [`sql`] | `[[table]]`, `[[query]]`: SQL translated into the tables above |
//! | [`event_time`], [`pitfalls`] | whole-job findings: timestamps and watermarks, unread streams, commits |
//! | [`checkpointing`], [`restart`], [`faults`], [`savepoint`] | fault tolerance |
//! | [`modes`], [`chaos`] | `[modes]`, `[chaos]` |
//!
//! Files use [`checker`] (and the files of smaller parts: [`operator`] the operator files,
//! [`graph`] those and [`source`], [`sink`]); none uses this module, which only ties them
//! together — there is no cycle among them.

pub mod assigner;
pub mod chaos;
pub mod checker;
pub mod checkpointing;
pub mod cluster;
pub mod cost;
pub mod deployment;
pub mod event_time;
pub mod expect;
pub mod faults;
pub mod generator;
pub mod graph;
pub mod join;
pub mod key_by;
pub mod limits;
pub mod map;
pub mod modes;
pub mod operator;
pub mod pattern;
pub mod pitfalls;
pub mod process;
pub mod reduce;
pub mod restart;
pub mod rows;
pub mod savepoint;
pub mod sink;
pub mod source;
pub mod sql;
#[cfg(test)]
mod testing;
pub mod toml_errors;
pub mod trigger;
pub mod watermarks;
pub mod window;

pub use checker::{Checker, Client};

use crate::core::diag::{Diagnostic, Diagnostics, SourceFile};
use crate::core::time::SimTime;
use crate::flink::process::CustomProcess;
use crate::scenario::raw::{
    RawCheckpointing, RawFault, RawRescale, RawRestart, RawSavepoint, RawScenario,
};
use crate::scenario::{
    Cluster, FaultTolerance, JobConfig, LoadError, NodeDef, Scenario, input_end,
};
use std::path::Path;
use std::sync::Arc;
use toml::Spanned as TSpanned;

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    load_as(path, &Client::default())
}

/// Reads and validates a scenario file submitted by a client with options (`-p`).
pub fn load_as(path: &Path, client: &Client) -> Result<Scenario, LoadError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| LoadError::Unreadable {
        path: shown.clone(),
        reason: match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".into(),
            std::io::ErrorKind::PermissionDenied => "permission denied".into(),
            std::io::ErrorKind::IsADirectory => "it is a directory".into(),
            _ => e.to_string(),
        },
    })?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let file = SourceFile::new(shown, String::from_utf8_lossy(e.as_bytes()).into_owned());
            let mut d = Diagnostics::new(file);
            d.push(
                Diagnostic::error("the file is not valid UTF-8 text", Some(at..at + 1))
                    .with_label("scenario files are TOML, which is UTF-8"),
            );
            return Err(LoadError::Invalid(d));
        }
    };
    let file = SourceFile::new(shown, text);
    parse_scenario_as(file, path.parent(), &[], client).map_err(LoadError::Invalid)
}

/// Validates scenario text (no file system access except CSV sources under `base_dir`).
pub fn parse_str(name: &str, text: &str, base_dir: Option<&Path>) -> Result<Scenario, Diagnostics> {
    parse_scenario(SourceFile::new(name, text), base_dir, &[])
}

/// Validates scenario text whose `process` operators may use the Rust process functions in
/// `custom` by name.
pub fn parse_str_with(
    name: &str,
    text: &str,
    base_dir: Option<&Path>,
    custom: &[CustomProcess],
) -> Result<Scenario, Diagnostics> {
    parse_scenario(SourceFile::new(name, text), base_dir, custom)
}

/// Reads scenario text. `base_dir` resolves relative CSV paths.
pub fn parse_scenario(
    file: Arc<SourceFile>,
    base_dir: Option<&Path>,
    custom: &[CustomProcess],
) -> Result<Scenario, Diagnostics> {
    parse_scenario_as(file, base_dir, custom, &Client::default())
}

/// Reads scenario text submitted by a client with options (`-p`).
pub fn parse_scenario_as(
    file: Arc<SourceFile>,
    base_dir: Option<&Path>,
    custom: &[CustomProcess],
    client: &Client,
) -> Result<Scenario, Diagnostics> {
    let mut ck = Checker {
        client: client.clone(),
        diags: Diagnostics::new(file.clone()),
        base_dir: base_dir.map(Path::to_path_buf),
        auto_watermark_interval: crate::core::defaults::watermarks::AUTO_WATERMARK_INTERVAL,
        job_parallelism: crate::core::defaults::cluster::PARALLELISM,
        custom: custom.to_vec(),
    };
    if file.text.trim().is_empty() {
        ck.error(
            Some(0..0),
            "the scenario file is empty",
            "a scenario needs at least one [[source]] and one [[sink]]; see docs/scenario-format.md",
        );
        return Err(ck.diags);
    }
    let raw: RawScenario = match toml::from_str(&file.text) {
        Ok(r) => r,
        Err(e) => {
            ck.diags.push(toml_errors::diagnostic(&file.text, &e));
            return Err(ck.diags);
        }
    };
    match scenario(&mut ck, raw) {
        Some(mut s) if !ck.has_errors() => {
            s.warnings = ck.diags.items.clone();
            Ok(s)
        }
        _ => Err(ck.diags),
    }
}

/// Checks every part of the file, in the order of the file format's reference.
fn scenario(ck: &mut Checker, mut raw: RawScenario) -> Option<Scenario> {
    let file = ck.diags.file.clone();
    let name = match &raw.name {
        Some(n) => n.get_ref().clone(),
        None => Path::new(&file.name)
            .file_stem()
            .map_or("scenario".into(), |s| s.to_string_lossy().into_owned()),
    };
    let seed = match &raw.seed {
        Some(s) if *s.get_ref() < 0 => {
            ck.error(
                Some(s.span()),
                "seed must not be negative",
                "any whole number from 0 up",
            );
            0
        }
        Some(s) => *s.get_ref() as u64,
        None => 0,
    };
    let cluster = cluster::cluster(ck, raw.cluster.as_ref());
    let deployment = deployment::deployment(ck, raw.deployment.as_ref());
    let job = cluster::job(ck, raw.job.as_ref());
    ck.auto_watermark_interval = job.auto_watermark_interval;
    ck.job_parallelism = job.parallelism;
    let cost = cost::cost(ck, raw.cost.as_ref());
    let limits = limits::limits(ck, raw.limits.as_ref());
    let has_queries = !raw.queries.is_empty();
    let sql = sql::lower(ck, &mut raw);
    if raw.sources.is_empty() {
        ck.error(
            None,
            "the job has no source",
            "add a [[source]] table: a generator, inline events or a CSV file",
        );
    }
    if raw.sinks.is_empty() && !has_queries {
        ck.error(
            None,
            "the job has no sink",
            "add a [[sink]] table reading the stream whose results you want to see",
        );
    }
    let description = raw.description.clone().unwrap_or_default();
    let modes = modes::modes(ck, raw.modes.as_ref());
    let chaos = chaos::chaos(ck, raw.chaos.as_ref());
    let chaos_span = raw.chaos.as_ref().map(|c| c.span());
    let recovery = RawRecovery {
        checkpointing: raw.checkpointing.take(),
        restart: raw.restart.take(),
        faults: std::mem::take(&mut raw.faults),
        savepoints: std::mem::take(&mut raw.savepoints),
        rescale: raw.rescale.take(),
    };
    let raw_expects = std::mem::take(&mut raw.expects);
    let drafts = graph::drafts(ck, raw);
    let nodes = graph::nodes(ck, drafts);
    sql::drop_cascades(ck, &sql.spans);
    let nodes = nodes?;
    let max_sim_time = SimTime::ZERO.plus(limits.max_sim_time);
    let mut fault_tolerance = fault_tolerance(ck, &recovery, &nodes, &cluster, &job, max_sim_time);
    deployment::jobmanager_faults(
        ck,
        deployment.as_ref(),
        &recovery.faults,
        &mut fault_tolerance.faults,
    );
    pitfalls::exactly_once_sinks_need_checkpoints(ck, &nodes, &fault_tolerance);
    pitfalls::pitfalls(ck, &nodes, &fault_tolerance);
    // `run` draws the faults of [chaos] from the input's end: refuse here what it would.
    if let Some(p) = &chaos
        && p.until.is_none()
        && input_end(&nodes).is_none()
    {
        ck.error(
            chaos_span.map(|s| s.start..s.start + 1),
            crate::scenario::chaos::ChaosError::NoEnd.to_string(),
            "",
        );
    }
    limits::check_size(ck, &nodes, &job, &limits);
    let expectations = expect::expectations(ck, &raw_expects, &nodes);
    Some(Scenario {
        file,
        name,
        description,
        seed,
        cluster,
        deployment,
        job,
        cost,
        limits,
        nodes,
        fault_tolerance,
        warnings: Vec::new(),
        modes,
        chaos,
        expectations,
        sql: sql.plans,
    })
}

/// The tables about failures and recovery, read after the nodes (faults, savepoints and
/// rescales name operators).
struct RawRecovery {
    checkpointing: Option<TSpanned<RawCheckpointing>>,
    restart: Option<TSpanned<RawRestart>>,
    faults: Vec<TSpanned<RawFault>>,
    savepoints: Vec<TSpanned<RawSavepoint>>,
    rescale: Option<TSpanned<RawRescale>>,
}

/// `[checkpointing]`, `[restart]`, `[[fault]]`, `[[savepoint]]` and `[rescale]`.
fn fault_tolerance(
    ck: &mut Checker,
    raw: &RawRecovery,
    nodes: &[NodeDef],
    cluster: &Cluster,
    job: &JobConfig,
    max_sim_time: SimTime,
) -> FaultTolerance {
    let checkpointing = raw
        .checkpointing
        .as_ref()
        .and_then(|c| checkpointing::checkpointing(ck, c));
    let restart = restart::restart(ck, raw.restart.as_ref(), checkpointing.is_some());
    let faults = faults::faults(
        ck,
        &raw.faults,
        nodes,
        cluster,
        checkpointing.as_ref(),
        max_sim_time,
    );
    FaultTolerance {
        checkpointing,
        restart,
        faults,
        record_output: false,
        savepoints: savepoint::savepoints(ck, &raw.savepoints, nodes),
        rescale: raw
            .rescale
            .as_ref()
            .and_then(|r| savepoint::rescale(ck, r, nodes, job)),
    }
}
