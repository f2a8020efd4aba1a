//! The scenario's SQL queries as a Flink SQL script, `sql/job.sql`, that `SqlMain` runs
//! through a `TableEnvironment`:
//!
//! - `SET` statements: parallelism 1 (each table is one file, one split: a second reader
//!   subtask would stay idle and hold the watermark back), the session time zone UTC (window
//!   bounds of a `TIMESTAMP_LTZ` rowtime are computed in it), and the auto-watermark interval.
//!   Interval `0 ms` makes Flink SQL's watermark assigner emit after every record that moves the
//!   watermark — per event, deterministic — which is what streamlab does when its source emits
//!   per event or paces its records no faster than its periodic watermark. Otherwise the
//!   scenario's interval is kept and the results depend on Flink's wall clock.
//! - `CREATE TABLE` for each table a query reads, over the data file the export writes for its
//!   source (`filesystem` connector, tab-separated `csv`), the columns with Flink types. The
//!   event-time column is a milliseconds integer in streamlab; in Flink it must be a timestamp,
//!   so the file's integer is the physical column `COL_ms` and the column itself is computed,
//!   `COL AS TO_TIMESTAMP_LTZ(COL_ms, 3)`, with the `[[table]]`'s `WATERMARK FOR …` as written.
//! - `CREATE TABLE` for each query's sink: an append-only result into `out/SINK/` (filesystem,
//!   csv; `SqlMain --out` says where `out/` is, by default `out-sql/`), an updating one (`GroupAggregate`: `+I`/`-U`/`+U`) to the `print` connector, which
//!   writes every change with its row kind (`SINK> +U[ann, 2]`); streamlab's `op` column is
//!   that row kind, not a column of the Flink table.
//! - `EXECUTE STATEMENT SET BEGIN … END;`: each query's SQL as written, behind
//!   `INSERT INTO SINK` when it is a bare `SELECT` — one job, like the DataStream job.

use super::graph::Job;
use streamlab_engine::core::value::Type;
use streamlab_engine::flink::watermark::Emission;
use streamlab_engine::plan::Plan;
use streamlab_engine::scenario::model::{NodeKind, Scenario, SourceData, Timestamps};

/// What `tools/flink-diff` needs to read the SQL script's output: per sink, where it goes,
/// whether it is a changelog, its column types and the column of its key.
pub struct SqlSink {
    /// The sink table's name.
    pub name: String,
    /// `filesystem` (csv files in `out/NAME/`) or `print` (changelog lines on stdout).
    pub connector: &'static str,
    /// An updating query's sink: streamlab's rows carry the row kind in a first column `op`.
    pub updating: bool,
    /// Flink types of the sink's columns (without `op`).
    pub types: Vec<String>,
    /// The position of the key column (`GROUP BY` key) in streamlab's rows, if any.
    pub key_column: Option<usize>,
}

/// The script, its sinks, and whether its watermarks follow the wall clock.
pub struct SqlScript {
    /// `sql/job.sql`.
    pub text: String,
    /// The sinks the script inserts into.
    pub sinks: Vec<SqlSink>,
    /// Why the script's results may depend on processing time (empty: they do not).
    pub processing_time: Vec<String>,
}

/// A `[[table]]` or `[[query]]` as the scenario file writes it (the model keeps only their
/// compiled form; the script needs the text).
struct Written {
    tables: Vec<(String, String)>,
    queries: Vec<(String, String)>,
}

fn written(s: &Scenario) -> Written {
    let doc: toml::Table = toml::from_str(&s.file.text).unwrap_or_default();
    let list = |key: &str, field: &str| -> Vec<(String, String)> {
        doc.get(key)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|t| {
                        Some((
                            t.get("name")?.as_str()?.to_string(),
                            t.get(field)?.as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    Written {
        tables: list("table", "watermark"),
        queries: list("query", "sql"),
    }
}

/// The Flink SQL type of a streamlab field.
fn flink_type(ty: Type) -> &'static str {
    match ty {
        Type::Int => "BIGINT",
        Type::Float => "DOUBLE",
        Type::String => "STRING",
        Type::Bool => "BOOLEAN",
    }
}

/// `` `name` `` quoted as a Flink SQL identifier.
fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// The text between `start` and the next `end` in `s`.
fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(&s[i..j])
}

/// The event-time column of `WATERMARK FOR col AS …`.
fn rowtime_column(watermark: &str) -> Option<String> {
    let mut words = watermark.split_whitespace();
    let w = words.next()?;
    let f = words.next()?;
    if !w.eq_ignore_ascii_case("WATERMARK") || !f.eq_ignore_ascii_case("FOR") {
        return None;
    }
    Some(words.next()?.trim_matches('`').to_string())
}

/// Whether a result column named `name` is the event-time column `rowtime` (a timestamp in
/// Flink): the same name, or the name with the digits the planner appends when a join's result
/// holds the column of both inputs (`ts`, `ts0`).
fn is_rowtime_column(name: &str, rowtime: &str) -> bool {
    name.strip_prefix(rowtime)
        .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit()))
}

/// Whether streamlab emits a watermark after every record of this source (as the DataStream
/// export's `PerEventWatermarks`): per-event emission, or paced records no faster than the
/// periodic interval.
fn per_record(s: &Scenario, plan: &Plan, i: usize) -> bool {
    let NodeKind::Source(spec) = &s.nodes[i].kind else {
        return false;
    };
    let Some(wm) = &spec.watermarks else {
        return false;
    };
    let p = plan
        .logical
        .node_of(i)
        .map_or(1, |x| plan.logical.graph[x].parallelism);
    let gap_ms = spec
        .rate
        .filter(|r| *r > 0.0)
        .map(|r| 1000.0 * f64::from(p) / r);
    match wm.strategy.emission {
        Emission::PerEvent(_) => true,
        Emission::Periodic(Some(iv)) => {
            !spec.is_instant() && !iv.is_zero() && gap_ms.is_some_and(|g| iv.as_millis_f64() <= g)
        }
        Emission::Periodic(None) => false,
    }
}

/// The script for the scenario's queries; `None` (with a note in `job`) when there are none or
/// a table cannot be read from its data file.
pub fn script(s: &Scenario, plan: &Plan, job: &mut Job) -> Option<SqlScript> {
    if s.sql.is_empty() {
        return None;
    }
    let w = written(s);
    let mut text = format!(
        "-- Generated by `streamlab export` from scenario `{}`: its SQL queries as a Flink SQL\n-- script. Run it with `streamlab.SqlMain` (see README.md); paths 'data/…' and 'out/…' are\n-- relative to the project (SqlMain resolves them against --data and --out, default out-sql).\n\n",
        s.name
    );
    // the tables the queries read, in the order the file declares their sources
    let mut scanned: Vec<usize> = Vec::new();
    for q in &s.sql {
        for n in &q.nodes {
            if let Some(t) = between(&n.relational, "TableSourceScan(table=[[", "]]")
                && let Some(i) = s.node_index(t)
                && !scanned.contains(&i)
            {
                scanned.push(i);
            }
        }
    }
    scanned.sort_unstable();
    let mut all_per_record = true;
    let mut rowtimes: Vec<String> = Vec::new();
    let mut tables = String::new();
    for &i in &scanned {
        let n = &s.nodes[i];
        let NodeKind::Source(spec) = &n.kind else {
            continue;
        };
        let repeat = match &spec.data {
            SourceData::Rows { repeat, .. } => *repeat,
            SourceData::Generator { .. } => {
                job.notes.push(format!(
                    "no SQL script: table `{}` is a generated source (its records are one file per subtask)",
                    n.name
                ));
                return None;
            }
        };
        if repeat != 1 {
            job.notes.push(format!(
                "no SQL script: table `{}` replays its rows {repeat} times, its data file holds them once",
                n.name
            ));
            return None;
        }
        let watermark = w.tables.iter().find(|(t, _)| *t == n.name).map(|x| &x.1);
        let rowtime = watermark.and_then(|wm| rowtime_column(wm));
        if let (Some(_), Timestamps::Field(_)) = (&rowtime, spec.timestamps) {
            all_per_record &= per_record(s, plan, i);
        }
        let mut cols = Vec::new();
        for f in &n.schema.fields {
            let name: &str = f.name.as_ref();
            if rowtime.as_deref() == Some(name) {
                let mut physical = format!("{name}_ms");
                while n.schema.fields.iter().any(|g| *g.name == *physical) {
                    physical.push('_');
                }
                cols.push(format!("  {} BIGINT", ident(&physical)));
                cols.push(format!(
                    "  {} AS TO_TIMESTAMP_LTZ({}, 3)",
                    ident(name),
                    ident(&physical)
                ));
                rowtimes.push(name.to_string());
            } else {
                cols.push(format!("  {} {}", ident(name), flink_type(f.ty)));
            }
        }
        if let Some(wm) = watermark {
            cols.push(format!("  {}", wm.trim()));
        }
        tables.push_str(&format!(
            "CREATE TABLE {} (\n{}\n) WITH (\n  'connector' = 'filesystem',\n  'path' = 'data/{}.tsv',\n  'format' = 'csv',\n  'csv.field-delimiter' = '\\t',\n  'csv.disable-quote-character' = 'true'\n);\n\n",
            ident(&n.name),
            cols.join(",\n"),
            n.name
        ));
    }
    let mut processing_time = Vec::new();
    let interval = if all_per_record {
        "0 ms".to_string()
    } else {
        processing_time.push(
            "the SQL tables' watermarks are periodic on Flink's wall clock (streamlab's do not follow every record)".to_string(),
        );
        format!("{} ms", s.job.auto_watermark_interval.as_millis())
    };
    text.push_str(&format!(
        "SET 'parallelism.default' = '1';\nSET 'table.local-time-zone' = 'UTC';\nSET 'pipeline.auto-watermark-interval' = '{interval}';\n\n"
    ));
    text.push_str(&tables);
    let mut sinks: Vec<SqlSink> = Vec::new();
    let mut inserts = Vec::new();
    for q in &s.sql {
        let Some(sink) = q.nodes.iter().find_map(|n| {
            n.operators
                .iter()
                .find_map(|o| o.strip_prefix("sink ").map(str::to_string))
        }) else {
            continue;
        };
        let Some(sql) = w.queries.iter().find(|(name, _)| *name == q.query) else {
            job.notes.push(format!(
                "no SQL script: the text of query `{}` is not in the scenario file",
                q.query
            ));
            return None;
        };
        let sql = sql.1.trim().trim_end_matches(';').trim_end();
        let starts_insert = sql
            .get(..6)
            .is_some_and(|w| w.eq_ignore_ascii_case("INSERT"));
        // the result's event-time columns: Flink writes at most one rowtime attribute into a
        // sink, so when a join's result holds two (`c.ts, o.ts`), all are cast to plain
        // TIMESTAMP_LTZ(3) around the query (as Flink's error message asks)
        let sink_fields = s.node_index(&sink).map(|i| &s.nodes[i].schema.fields);
        let times: Vec<&str> = sink_fields
            .map(|fs| {
                fs.iter()
                    .filter(|f| {
                        f.ty == Type::Int && rowtimes.iter().any(|r| is_rowtime_column(&f.name, r))
                    })
                    .map(|f| f.name.as_ref())
                    .collect()
            })
            .unwrap_or_default();
        inserts.push(match sink_fields {
            _ if starts_insert => format!("{sql};"),
            Some(fs) if times.len() > 1 => {
                let cols: Vec<String> = fs
                    .iter()
                    .map(|f| {
                        if times.contains(&f.name.as_ref()) {
                            format!("CAST({0} AS TIMESTAMP_LTZ(3)) AS {0}", ident(&f.name))
                        } else {
                            ident(&f.name)
                        }
                    })
                    .collect();
                // the derived table's column list names the result's columns as streamlab
                // does (Flink's own names of a join's two `ts` are ambiguous)
                let names: Vec<String> = fs.iter().map(|f| ident(&f.name)).collect();
                format!(
                    "INSERT INTO {}\nSELECT {} FROM (\n{sql}\n) AS `sql_result` ({});",
                    ident(&sink),
                    cols.join(", "),
                    names.join(", ")
                )
            }
            _ => format!("INSERT INTO {}\n{sql};", ident(&sink)),
        });
        if sinks.iter().any(|k| k.name == sink) {
            continue;
        }
        let Some(node) = s.node_index(&sink) else {
            continue;
        };
        let group = q
            .nodes
            .iter()
            .find(|n| n.relational.starts_with("GroupAggregate("));
        let updating = group.is_some();
        let key = q
            .nodes
            .iter()
            .find_map(|n| between(&n.relational, "groupBy=[", "]"));
        let fields = &s.nodes[node].schema.fields;
        let skip = usize::from(updating && fields.first().is_some_and(|f| &*f.name == "op"));
        let mut cols = Vec::new();
        let mut types = Vec::new();
        for f in &fields[skip..] {
            let name: &str = f.name.as_ref();
            let ty = if matches!(name, "window_start" | "window_end") {
                "TIMESTAMP(3)"
            } else if rowtimes.iter().any(|r| is_rowtime_column(name, r)) && f.ty == Type::Int {
                "TIMESTAMP_LTZ(3)"
            } else {
                flink_type(f.ty)
            };
            cols.push(format!("  {} {ty}", ident(name)));
            types.push(ty.to_string());
        }
        let key_column = key.and_then(|k| fields.iter().position(|f| &*f.name == k));
        let (connector, with) = if updating {
            (
                "print",
                format!(
                    "  'connector' = 'print',\n  'print-identifier' = '{}'",
                    sink.replace('\'', "''")
                ),
            )
        } else {
            (
                "filesystem",
                format!(
                    "  'connector' = 'filesystem',\n  'path' = 'out/{}',\n  'format' = 'csv'",
                    sink.replace('\'', "''")
                ),
            )
        };
        text.push_str(&format!(
            "-- {}\nCREATE TABLE {} (\n{}\n) WITH (\n{with}\n);\n\n",
            if updating {
                "an updating result (+I/-U/+U): every change, with its row kind, on stdout"
                    .to_string()
            } else {
                format!("an append-only result: csv files in out/{sink}/")
            },
            ident(&sink),
            cols.join(",\n"),
        ));
        sinks.push(SqlSink {
            name: sink,
            connector,
            updating,
            types,
            key_column,
        });
    }
    text.push_str("EXECUTE STATEMENT SET\nBEGIN\n");
    for i in &inserts {
        text.push_str(i);
        text.push('\n');
    }
    text.push_str("END;\n");
    Some(SqlScript {
        text,
        sinks,
        processing_time,
    })
}

/// The relational operators whose place in Flink's JobGraph is compared with streamlab's chains
/// (`tools/flink-diff`, `streamlab plan --flink`): sources, stateful operators (window and
/// group aggregations, joins) and sinks. Stateless ones (`Calc`, `WatermarkAssigner`) are
/// not: Flink's optimizer merges, splits and pushes them where streamlab's translation has
/// its own maps.
const STATEFUL: [&str; 5] = [
    "WindowAggregate",
    "GroupAggregate",
    "Join",
    "IntervalJoin",
    "Deduplicate",
];

/// A stateful operator's role: its kind, the window function of a window aggregation
/// (`TUMBLE`, `CUMULATE`, …) and the `groupBy` keys, e.g. `WindowAggregate CUMULATE
/// groupBy=[player]` — what Flink's planner writes in its operator's description, so that two
/// aggregations of one job are told apart.
fn stateful_role(kind: &str, relational: &str) -> String {
    let mut role = kind.to_string();
    if let Some(w) = between(relational, "window=[", "(") {
        role.push(' ');
        role.push_str(w);
    }
    if let Some(g) = between(relational, "groupBy=[", "]").filter(|g| !g.is_empty()) {
        role.push_str(&format!(" groupBy=[{g}]"));
    }
    role
}

/// Each streamlab operator a query made, with its role in the chain comparison against Flink
/// SQL's JobGraph: `source:TABLE` (the table's scan), `sink`, a stateful relational operator's
/// role (`WindowAggregate TUMBLE groupBy=[player]`, `Join`, …, see [`stateful_role`]; given to
/// its first operator that is not a `key_by`), or `null`
/// (stateless, not compared). Sorted by operator name.
pub fn roles(s: &Scenario) -> serde_json::Map<String, serde_json::Value> {
    let mut out: std::collections::BTreeMap<String, serde_json::Value> = Default::default();
    for q in &s.sql {
        for n in &q.nodes {
            let kind = n.relational.split('(').next().unwrap_or("").trim();
            let mut stateful_taken = false;
            for o in &n.operators {
                let (verb, rest) = o.split_once(' ').unwrap_or((o, ""));
                let name = rest.split(": ").next().unwrap_or(rest).to_string();
                let role = match (kind, verb) {
                    (_, "sink") => Some("sink".to_string()),
                    ("TableSourceScan", "source") => Some(format!("source:{name}")),
                    (_, "source") => {
                        // a WatermarkAssigner run by the source: the scan's role wins
                        out.entry(name).or_insert_with(|| serde_json::Value::Null);
                        continue;
                    }
                    (k, v) if STATEFUL.contains(&k) && v != "key_by" && !stateful_taken => {
                        stateful_taken = true;
                        Some(stateful_role(k, &n.relational))
                    }
                    _ => None,
                };
                let v = role.map_or(serde_json::Value::Null, serde_json::Value::String);
                let e = out.entry(name).or_insert(serde_json::Value::Null);
                if e.is_null() {
                    *e = v;
                }
            }
        }
    }
    out.into_iter().collect()
}

/// The script's part of `streamlab-export.json`.
pub fn manifest(s: &Scenario, sql: &SqlScript) -> serde_json::Value {
    let sinks: Vec<serde_json::Value> = sql
        .sinks
        .iter()
        .map(|k| {
            serde_json::json!({"name": k.name, "connector": k.connector, "updating": k.updating,
                "types": k.types, "key_column": k.key_column})
        })
        .collect();
    serde_json::json!({"script": "sql/job.sql", "sinks": sinks, "processing_time": sql.processing_time,
        "roles": roles(s)})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rowtime_column_is_read_from_the_watermark_clause() {
        assert_eq!(
            rowtime_column("WATERMARK FOR ts AS ts - INTERVAL '2' SECOND").as_deref(),
            Some("ts")
        );
        assert_eq!(
            rowtime_column("watermark for `t` as t").as_deref(),
            Some("t")
        );
        assert_eq!(rowtime_column("ts - INTERVAL '2' SECOND"), None);
    }

    #[test]
    fn a_joins_second_event_time_column_is_a_timestamp_too() {
        assert!(is_rowtime_column("ts", "ts"));
        assert!(is_rowtime_column("ts0", "ts"));
        assert!(!is_rowtime_column("tsx", "ts"));
        assert!(!is_rowtime_column("t", "ts"));
    }
}
