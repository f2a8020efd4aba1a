//! `streamlab export FILE --out DIR`: the scenario as a self-contained Apache Flink project —
//! a Java DataStream job (`src/main/java/streamlab/Main.java`) with the same graph, the
//! scenario's rows as data files, a Maven `pom.xml` and a README saying how to run it.
//!
//! Modules: [`graph`] walks the nodes, [`expr`] prints expressions as Java, [`sources`]
//! writes the data and the watermark strategies, [`config`] the job-wide configuration,
//! [`project`] the files around the job, [`sql`] the SQL queries as a Flink SQL script,
//! [`flink_plan`] `streamlab plan --flink`. What has no Flink equivalent (yet) is refused,
//! naming each operator and why; nothing is written then — except that a scenario made of SQL
//! queries whose DataStream translation has no Flink counterpart (`CUMULATE`, a regular join)
//! is exported as its SQL script alone (no `Main`).

mod config;
pub mod expr;
pub mod flink_plan;
mod generated;
mod graph;
mod project;
mod sources;
mod sql;

use std::path::Path;
use streamlab_engine::flink::window::Assigner;
use streamlab_engine::plan::Plan;
use streamlab_engine::scenario::model::Scenario;

pub use graph::Refusal;

/// Flink versions the export writes projects for.
pub const FLINK_VERSIONS: [&str; 1] = ["2.3"];

/// Why a scenario cannot be exported.
#[derive(Debug)]
pub enum ExportError {
    /// Operators (or scenario features) with no Flink equivalent in the export.
    Refused(Vec<Refusal>),
    /// The project could not be written.
    Io(String),
}

/// The project's files: relative path → content, in a fixed order.
pub fn project_files(
    s: &Scenario,
    plan: &Plan,
    flink: &str,
    inject_failure: bool,
) -> Result<Vec<(String, String)>, ExportError> {
    let mut refusals = Vec::new();
    let whole = |why: &str| Refusal {
        node: s.name.clone(),
        kind: "scenario".into(),
        why: why.into(),
    };
    if plan.rescaled.is_some() {
        refusals.push(whole(
            "[rescale] (stop with a savepoint and resubmit with new parallelism) is not exported",
        ));
    }
    if !s.fault_tolerance.savepoints.is_empty() {
        refusals.push(whole("[[savepoint]] tables are not exported"));
    }
    let fail_at = if inject_failure {
        match failure_record(s, plan) {
            Some(f) => Some(f),
            None => {
                refusals.push(whole(
                    "--inject-failure: the scenario has no failure (a killed subtask, TaskManager or JobManager, a network partition) on a job with a source",
                ));
                None
            }
        }
    } else {
        None
    };
    let mut sql_only: Vec<Refusal> = Vec::new();
    let job = match graph::walk(s, plan, fail_at) {
        Ok(j) => Some(j),
        Err(r) if refusals.is_empty() && fail_at.is_none() && sql_made_only(s, &r) => {
            // the DataStream translation of a SQL query has no Flink counterpart: the project
            // is the SQL script alone, with the sources' data files
            match graph::walk_sources(s, plan) {
                Ok(mut j) => {
                    sql_only = r;
                    // what the sources' DataStream statements would do (their watermark
                    // emission) is not in a project without `Main`; the script says its own
                    j.notes.clear();
                    j.processing_time.clear();
                    Some(j)
                }
                Err(src) => {
                    refusals.extend(r);
                    refusals.extend(src);
                    None
                }
            }
        }
        Err(r) => {
            refusals.extend(r);
            None
        }
    };
    if !refusals.is_empty() {
        return Err(ExportError::Refused(refusals));
    }
    let mut job = job.unwrap_or_default();
    if !s.fault_tolerance.faults.is_empty() {
        job.notes.push(format!(
            "the scenario scripts {} fault(s); the exported job runs without them (faults belong to the cluster, not the job)",
            s.fault_tolerance.faults.len()
        ));
    }
    if !sql_only.is_empty() {
        let why: Vec<String> = sql_only
            .iter()
            .map(|r| format!("`{}` ({}): {}", r.node, r.kind, r.why))
            .collect();
        job.notes.push(format!(
            "SQL only: the scenario's operators are its SQL queries' and their DataStream translation has no Flink counterpart ({}), so the project is `sql/job.sql`, run by `SqlMain` on Flink's own planner; there is no `Main`",
            why.join("; ")
        ));
    } else if !s.sql.is_empty() {
        let names: Vec<String> = s.sql.iter().map(|q| format!("`{}`", q.query)).collect();
        job.notes.push(format!(
            "SQL queries {}: `Main` runs them as the DataStream operators streamlab translates them to (`streamlab plan` shows which; `sql/QUERY.plan.txt` holds each query's plan); `sql/job.sql` holds them as Flink SQL, which `SqlMain` runs on Flink's own planner (its operators and chains are Flink's)",
            names.join(", ")
        ));
    }
    let script = sql::script(s, plan, &mut job);
    if !sql_only.is_empty() && script.is_none() {
        // no script either (see the job's notes): nothing to export
        let mut r = sql_only;
        r.extend(
            job.notes
                .iter()
                .filter(|n| n.starts_with("no SQL script"))
                .map(|n| Refusal {
                    node: s.name.clone(),
                    kind: "scenario".into(),
                    why: n.clone(),
                }),
        );
        return Err(ExportError::Refused(r));
    }
    let layout = if sql_only.is_empty() {
        project::Layout::DataStream {
            sql: script.is_some(),
        }
    } else {
        project::Layout::SqlOnly
    };
    let mut files = project::files(s, &job, &config::entries(s), flink, layout);
    for q in &s.sql {
        files.push((format!("sql/{}.plan.txt", q.query), q.render()));
    }
    if let Some(sc) = &script {
        files.push(("sql/job.sql".into(), sc.text.clone()));
    }
    files.push(("streamlab-chains.jsonl".into(), chains(plan)));
    files.push((
        "streamlab-export.json".into(),
        manifest(s, &job, script.as_ref(), &sql_only),
    ));
    Ok(files)
}

/// What `tools/flink-diff` needs to know: the sinks — name, kind (collect, upsert, discard),
/// fields, and for an upsert sink keyed by a plain field, that field's position — and why the
/// results depend on processing time, if they do.
///
/// With a SQL script (`sql/job.sql`), `sql` says where each of its sinks writes and how to read
/// it (see [`sql::manifest`]).
///
/// `sql_only`: the refusals that made the project SQL-only (`"sql_only"`: why; no `Main`).
fn manifest(
    s: &Scenario,
    job: &graph::Job,
    script: Option<&sql::SqlScript>,
    sql_only: &[Refusal],
) -> String {
    use streamlab_engine::scenario::model::{NodeKind, SinkSpec};
    let mut out = Vec::new();
    for n in &s.nodes {
        if let NodeKind::Sink(spec, guarantee) = &n.kind {
            let (kind, key) = match spec {
                SinkSpec::Collect { .. } => ("collect", None),
                SinkSpec::Upsert { key, .. } => ("upsert", key.compiled.as_field()),
                SinkSpec::Discard => ("discard", None),
            };
            let fields: Vec<&str> = n.schema.fields.iter().map(|f| f.name.as_ref()).collect();
            // Behind an operator with two inputs (join, co_map, union) the order in which
            // Flink interleaves them depends on thread timing, so rows of one key may come in
            // another order.
            let ordered = !merges_upstream(s, n);
            let key_column = key_column(s, n.inputs[0].node);
            // a sink a SQL query made (INSERT INTO / a query's own result), not a [[sink]]
            // table: `--set sinks.NAME…` cannot reach it
            let from_sql = s.sql.iter().any(|q| {
                q.nodes
                    .iter()
                    .any(|r| r.operators.iter().any(|o| *o == format!("sink {}", n.name)))
            });
            out.push(serde_json::json!({"name": n.name, "kind": kind, "key_field": key, "fields": fields, "guarantee": guarantee.name(),
                "ordered": ordered,
                "key_column": key_column,
                "from_sql": from_sql,
                "transaction_timeout": matches!(guarantee, streamlab_engine::scenario::model::Guarantee::ExactlyOnce(t) if t.timeout.is_some()),
            }));
        }
    }
    let mut m = serde_json::json!({
        "scenario": s.name,
        "sinks": out,
        "processing_time": job.processing_time,
        "failure_at": job.fail_at.map(|(n, at)| serde_json::json!({"source": s.nodes[n].name, "record": at})),
        // faults that can fail tasks and make the job restart (a straggler or a network delay
        // only slows it down)
        "faults": s
            .fault_tolerance
            .faults
            .iter()
            .filter(|f| {
                !matches!(
                    f.kind,
                    streamlab_engine::scenario::recovery::FaultKind::Straggler { .. }
                        | streamlab_engine::scenario::recovery::FaultKind::NetworkDelay { .. }
                )
            })
            .count()
            + usize::from(s.chaos.is_some()),
    });
    if let (Some(sc), Some(obj)) = (script, m.as_object_mut()) {
        obj.insert("sql".into(), sql::manifest(s, sc));
        if !sql_only.is_empty() {
            let why: Vec<String> = sql_only
                .iter()
                .map(|r| format!("`{}` ({}): {}", r.node, r.kind, r.why))
                .collect();
            obj.insert("sql_only".into(), serde_json::json!(why));
        }
    }
    let mut text = serde_json::to_string_pretty(&m).unwrap_or_default();
    text.push('\n');
    text
}

/// Where the injected failure goes: the first source, at the record its subtask 0 emits when
/// the scenario's first failure happens — for a paced source at `t`, record
/// `floor(t × rate / p)`; otherwise (an unpaced source, a failure tied to a checkpoint) the
/// middle of the subtask's records.
pub fn failure_record(s: &Scenario, plan: &Plan) -> Option<(usize, u64)> {
    use streamlab_engine::scenario::model::NodeKind;
    use streamlab_engine::scenario::recovery::{FaultKind, FaultTime};
    let fault = s.fault_tolerance.faults.iter().find(|f| {
        !matches!(
            f.kind,
            FaultKind::Straggler { .. } | FaultKind::NetworkDelay { .. }
        )
    })?;
    let (i, spec) = s
        .nodes
        .iter()
        .enumerate()
        .find_map(|(i, n)| match &n.kind {
            NodeKind::Source(spec) => Some((i, spec)),
            _ => None,
        })?;
    let p = plan
        .logical
        .node_of(i)
        .map_or(1, |x| plan.logical.graph[x].parallelism)
        .max(1);
    let per_subtask = spec.records().map_or(0, |r| r / u64::from(p));
    let at = match (fault.at, spec.rate) {
        (FaultTime::At(t), Some(rate)) => {
            ((t.as_secs_f64() * rate / f64::from(p)) as u64).min(per_subtask.saturating_sub(1))
        }
        _ => per_subtask / 2,
    };
    Some((i, at))
}

/// Whether every refused node was made by a SQL query (named among its plan's operators) and
/// every node but the sources is a SQL query's: then the scenario is its SQL queries, and the
/// SQL script alone can run it on Flink.
fn sql_made_only(s: &Scenario, refused: &[Refusal]) -> bool {
    use streamlab_engine::scenario::model::NodeKind;
    if s.sql.is_empty() {
        return false;
    }
    let made: std::collections::BTreeSet<String> = s
        .sql
        .iter()
        .flat_map(|q| q.nodes.iter().flat_map(|n| n.operators.iter()))
        .filter_map(|o| {
            o.split_once(' ')
                .map(|(_, name)| name.split(": ").next().unwrap_or(name).to_string())
        })
        .collect();
    refused.iter().all(|r| made.contains(&r.node))
        && s.nodes
            .iter()
            .all(|n| matches!(n.kind, NodeKind::Source(_)) || made.contains(&n.name))
}

/// Which column of a node's output holds the key its rows are partitioned by, when the node
/// is keyed and that is known: a window's key column (or the key field inside an expression
/// window's record), a rolling reduce's or process function's key, a late-data side output's
/// key field. `None`: unknown (rows are compared without their per-key order).
fn key_column(s: &Scenario, node: usize) -> Option<usize> {
    use streamlab_engine::scenario::model::{NodeKind, WindowFn};
    let n = &s.nodes[node];
    match &n.kind {
        NodeKind::Window(w) => {
            let k = w.key.as_ref()?;
            match (&w.function, k.compiled.as_field()) {
                (WindowFn::Expr(_), Some(f)) => Some(
                    f + if w.count.is_some() || w.assigner == Assigner::Global {
                        0
                    } else {
                        2
                    },
                ),
                _ => Some(0),
            }
        }
        NodeKind::Reduce { key, function } => match function {
            streamlab_engine::scenario::model::ReduceFn::Count => Some(0),
            _ => key.compiled.as_field(),
        },
        NodeKind::Process(p) => match p.function {
            streamlab_engine::scenario::model::ProcessFn::LongRideAlert { .. } => Some(0),
            _ => None,
        },
        NodeKind::SideOutput { of } => match &s.nodes[*of].kind {
            NodeKind::Window(w) => w.key.as_ref()?.compiled.as_field(),
            _ => None,
        },
        _ => None,
    }
}

/// Whether a node reads, directly or further up, an operator with more than one input.
fn merges_upstream(s: &Scenario, n: &streamlab_engine::scenario::model::NodeDef) -> bool {
    let mut todo: Vec<usize> = n.inputs.iter().map(|x| x.node).collect();
    let mut seen = vec![false; s.nodes.len()];
    while let Some(k) = todo.pop() {
        if std::mem::replace(&mut seen[k], true) {
            continue;
        }
        if s.nodes[k].inputs.len() > 1 {
            return true;
        }
        todo.extend(s.nodes[k].inputs.iter().map(|x| x.node));
    }
    false
}

/// streamlab's chains, one JSON array per line: the operator names of the chain and its
/// parallelism (what `tools/flink-diff` compares with the JobGraph vertices of `Main --plan`).
pub fn chains(plan: &Plan) -> String {
    let mut out = String::new();
    for v in &plan.execution.vertices {
        let names: Vec<serde_json::Value> = v
            .ops
            .iter()
            .map(|&o| serde_json::Value::String(plan.logical.graph[o].name.clone()))
            .collect();
        out.push_str(&serde_json::json!([names, v.parallelism]).to_string());
        out.push('\n');
    }
    out
}

/// Writes the project into `out`; prints refusals and returns the exit status (0 written,
/// 2 refused or not writable).
pub fn export(
    s: &Scenario,
    plan: &Plan,
    out: &Path,
    flink: &str,
    inject_failure: bool,
) -> Result<usize, ExportError> {
    let files = project_files(s, plan, flink, inject_failure)?;
    for (rel, content) in &files {
        let path = out.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| ExportError::Io(format!("cannot create `{}`: {e}", dir.display())))?;
        }
        std::fs::write(&path, content)
            .map_err(|e| ExportError::Io(format!("cannot write `{}`: {e}", path.display())))?;
    }
    Ok(files.len())
}

/// The message for refused operators: one line per operator.
pub fn refusal_message(file: &str, refusals: &[Refusal]) -> String {
    let mut m = format!(
        "error: {file} cannot be exported to Flink: {} operator{} without a Flink equivalent in the export\n",
        refusals.len(),
        if refusals.len() == 1 { "" } else { "s" }
    );
    for r in refusals {
        m.push_str(&format!("  - `{}` ({}): {}\n", r.node, r.kind, r.why));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(file: &str) -> (Scenario, Plan) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let s = streamlab_engine::check::load_as(&path, &Default::default()).expect("scenario");
        let p = streamlab_engine::plan::plan(&s).expect("plan");
        (s, p)
    }

    #[test]
    fn the_injected_failure_is_at_the_record_the_source_reads_when_the_scenario_fails() {
        let (s, p) = load("scenarios/tm_crash_recovery.toml");
        let (node, at) = failure_record(&s, &p).expect("the scenario kills a TaskManager");
        assert_eq!(s.nodes[node].name, "readings");
        assert!(at > 0, "{at}");
        let (s, p) = load("scenarios/late_data.toml");
        assert_eq!(failure_record(&s, &p), None);
    }

    #[test]
    fn refused_operators_are_named_with_their_kind_and_reason() {
        let (s, p) = load("scenarios/csv_ingestion_time.toml");
        let Err(ExportError::Refused(r)) = project_files(&s, &p, "2.3", false) else {
            panic!("ingestion time is refused");
        };
        let m = refusal_message("f.toml", &r);
        assert!(
            m.contains(
                "`by_arrival` (source): ingestion-time timestamps come from processing time"
            ),
            "{m}"
        );
    }

    #[test]
    fn the_chains_file_lists_streamlabs_job_vertices() {
        let (_, p) = load("scenarios/late_data.toml");
        let c = chains(&p);
        assert!(c.contains("[[\"sales_5s\"],2]"), "{c}");
        assert_eq!(c.lines().count(), p.execution.vertices.len());
    }
}
