//! Sources and their data: a scenario's rows (inline `events` or a CSV file) are written to
//! `data/NAME.tsv` in the project, and the job reads them with a bounded [`RowsSource`] that
//! deals them to its subtasks as streamlab does; then the watermark strategy.
//!
//! Watermarks: Flink's periodic watermarks follow the wall clock, and a bounded source in
//! Flink reads as fast as it can, so a periodic strategy would make the job's late data depend
//! on timing. The export keeps the scenario's results deterministic:
//! - per-event emission, or a paced source whose watermark interval is no longer than the gap
//!   between two records of a subtask (so streamlab emits a watermark after every record):
//!   `PerEventWatermarks`, Flink's bounded out-of-orderness rule emitted after every record;
//! - a source with no pacing (all rows at once) or an interval of zero: no watermark until the
//!   end of input (`WatermarkStrategy.noWatermarks()` with the timestamp assigner), as in
//!   streamlab, where the whole input is out before the first periodic tick;
//! - otherwise Flink's own `forBoundedOutOfOrderness` on the auto-watermark interval (the
//!   README notes that this job's late data depends on timing).
//!
//! [`RowsSource`]: the Java class in `java/RowsSource.java`.

use super::expr::string_lit;
use super::graph::Job;
use streamlab_engine::core::value::{Interner, Type, Value};
use streamlab_engine::flink::watermark::Emission;
use streamlab_engine::plan::Plan;
use streamlab_engine::scenario::model::{Lit, Scenario, SourceData, SourceSpec, Timestamps};

/// One field as written in a data file (tabs, newlines and backslashes escaped in strings).
fn cell(l: &Lit, ty: Type) -> String {
    match (l, ty) {
        (Lit::Int(i), Type::Float) => format!("{:?}", *i as f64),
        (Lit::Int(i), _) => i.to_string(),
        (Lit::Float(f), Type::Int) => (*f as i64).to_string(),
        (Lit::Float(f), _) => format!("{f:?}"),
        (Lit::Bool(b), _) => b.to_string(),
        (Lit::Str(s), _) => {
            let mut out = String::with_capacity(s.len());
            for c in s.chars() {
                match c {
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\\' => out.push_str("\\\\"),
                    c => out.push(c),
                }
            }
            out
        }
    }
}

/// One drawn value as written in a data file.
fn value_cell(v: Value, ty: Type, strings: &Interner) -> String {
    let lit = match v {
        Value::Int(i) => Lit::Int(i),
        Value::Float(f) => Lit::Float(f),
        Value::Bool(b) => Lit::Bool(b),
        Value::Str(s) => Lit::Str(strings.resolve(s).into()),
    };
    cell(&lit, ty)
}

/// The letter of a field type in `Rows.read`'s `types`.
fn letter(ty: Type) -> char {
    match ty {
        Type::Int => 'L',
        Type::Float => 'D',
        Type::String => 'S',
        Type::Bool => 'B',
    }
}

/// Writes the source's data file and statements.
pub fn source(
    s: &Scenario,
    plan: &Plan,
    i: usize,
    spec: &SourceSpec,
    job: &mut Job,
) -> Result<(), String> {
    let n = &s.nodes[i];
    let parallelism = plan
        .logical
        .node_of(i)
        .map_or(1, |x| plan.logical.graph[x].parallelism);
    let settings = super::graph::settings(s, plan, i, true);
    let types: String = n.schema.fields.iter().map(|f| letter(f.ty)).collect();
    match &spec.data {
        SourceData::Rows {
            rows,
            repeat,
            partition,
            open_for,
        } => {
            let mut data = String::new();
            for r in rows.iter() {
                let cells: Vec<String> = r
                    .iter()
                    .zip(&n.schema.fields)
                    .map(|(l, f)| cell(l, f.ty))
                    .collect();
                data.push_str(&cells.join("\t"));
                data.push('\n');
            }
            let file = format!("{}.tsv", n.name);
            job.data.push((file.clone(), data));
            if open_for.is_some() {
                job.notes.push(format!(
                    "source `{}` stays open after its rows in the scenario (`open_for`); the exported source ends with its last row",
                    n.name
                ));
            }
            job.body.push(format!(
                "DataStream<Row> v{i} = env.addSource(new RowsSource(dataDir + \"/\" + {}, \"{types}\", {repeat}L, {}), {}, T{i}){settings};",
                string_lit(&file),
                partition.map_or(-1, |p| p as i64),
                string_lit(&n.name),
            ));
        }
        SourceData::Generator { .. } => {
            let mut strings = Interner::new();
            // One file per source subtask, also for a subtask that draws nothing.
            let mut files = vec![String::new(); parallelism.max(1) as usize];
            super::generated::draw(
                n,
                spec,
                parallelism,
                s.seed,
                &mut strings,
                &mut |st, row, ts, strings| {
                    let data = &mut files[st as usize];
                    for (v, f) in row.iter().zip(&n.schema.fields) {
                        data.push_str(&value_cell(*v, f.ty, strings));
                        data.push('\t');
                    }
                    data.push_str(&ts.to_string());
                    data.push('\n');
                },
            )?;
            for (st, data) in files.into_iter().enumerate() {
                job.data.push((format!("{}.{st}.tsv", n.name), data));
            }
            job.notes.push(format!(
                "source `{}`: the records streamlab's generator draws with seed {} are written to data/{}.SUBTASK.tsv (values, then the event time) and read by each source subtask in order",
                n.name, s.seed, n.name
            ));
            if spec.rate.is_none() && spec.watermarks.is_some() {
                job.processing_time.push(format!(
                    "generated source `{}` has no rate: its records' event time is when the simulation produced them",
                    n.name
                ));
            }
            job.body.push(format!(
                "DataStream<Row> v{i} = env.addSource(new SubtaskRowsSource(dataDir + \"/\" + {}, \"{types}\"), {}, T{i}){settings};",
                string_lit(&n.name),
                string_lit(&n.name),
            ));
        }
    }
    if let Some((node, at)) = job.fail_at
        && node == i
    {
        job.body.push(format!(
            "v{i} = v{i}.map(new FailOnce({at}L)).returns(T{i}).name({}).setParallelism({parallelism});",
            string_lit(&format!("{}.failure", n.name))
        ));
    }
    let assigner = match spec.timestamps {
        Timestamps::None => return Ok(()),
        Timestamps::Field(f) => format!(".withTimestampAssigner((r, t) -> X.l(r, {f}))"),
        Timestamps::Ingestion => {
            return Err("ingestion-time timestamps come from processing time, which a real run cannot reproduce".into());
        }
        // The source attached each record's event time (collectWithTimestamp).
        Timestamps::Generated => String::new(),
    };
    let strategy = match &spec.watermarks {
        None => format!("WatermarkStrategy.<Row>noWatermarks(){assigner}"),
        Some(wm) => {
            if wm.alignment.is_some() {
                job.notes.push(format!(
                    "source `{}`: watermark alignment is not exported",
                    n.name
                ));
            }
            let bound = wm.strategy.bound_ms;
            let gap_ms = spec
                .rate
                .filter(|r| *r > 0.0)
                .map(|r| 1000.0 * parallelism as f64 / r);
            let base = match (bound, wm.strategy.emission) {
                (None, _) => format!("WatermarkStrategy.<Row>noWatermarks(){assigner}"),
                (Some(b), Emission::PerEvent(_)) => format!(
                    "WatermarkStrategy.<Row>forGenerator(c -> new PerEventWatermarks({b}L)){assigner}"
                ),
                (Some(_), Emission::Periodic(iv))
                    if spec.is_instant() || iv.is_none_or(|d| d.is_zero()) =>
                {
                    job.notes.push(format!(
                        "source `{}`: all its rows are out before the first periodic watermark in the scenario, so the export emits no watermark before the end of input",
                        n.name
                    ));
                    format!("WatermarkStrategy.<Row>noWatermarks(){assigner}")
                }
                (Some(b), Emission::Periodic(Some(iv)))
                    if gap_ms.is_some_and(|g| iv.as_millis_f64() <= g) =>
                {
                    job.notes.push(format!(
                        "source `{}`: one record every {:.0} ms per subtask and a watermark every {} ms in the scenario, so a watermark follows every record; the export emits it per record (Flink's bounded-out-of-orderness rule), which keeps the results deterministic on a source that reads as fast as it can",
                        n.name,
                        gap_ms.unwrap_or_default(),
                        iv.as_millis_f64()
                    ));
                    format!(
                        "WatermarkStrategy.<Row>forGenerator(c -> new PerEventWatermarks({b}L)){assigner}"
                    )
                }
                (Some(b), Emission::Periodic(_)) => {
                    job.processing_time.push(format!(
                        "source `{}` emits periodic watermarks on the wall clock",
                        n.name
                    ));
                    job.notes.push(format!(
                        "source `{}`: periodic watermarks on Flink's wall clock; late data depends on timing",
                        n.name
                    ));
                    format!(
                        "WatermarkStrategy.<Row>forBoundedOutOfOrderness(Duration.ofMillis({b})){assigner}"
                    )
                }
            };
            match wm.strategy.idleness {
                Some(d) => format!("{base}.withIdleness(Duration.ofMillis({}))", d.as_millis()),
                None => base,
            }
        }
    };
    job.body.push(format!(
        "v{i} = v{i}.assignTimestampsAndWatermarks({strategy}).name({}).setParallelism({parallelism});",
        string_lit(&format!("{}.watermarks", n.name))
    ));
    Ok(())
}
