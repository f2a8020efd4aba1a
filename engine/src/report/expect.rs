//! Grading a run against the scenario's expectations (`[[expect]]`,
//! [`crate::scenario::expect`]): each check becomes a [`Verdict`] — met or not, with what the
//! run actually showed, in the words of the report (sink, operator, edge, checkpoint).

use super::RunReport;
use crate::plan::Plan;
use crate::scenario::Scenario;
use crate::scenario::expect::{Check, Measure, RowMatch, Subject, Unit};
use petgraph::visit::EdgeRef;
use serde::Serialize;
use serde_json::Value;

/// One graded check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The line of its `[[expect]]` in the scenario file.
    pub line: usize,
    /// What was expected, e.g. ``operator `sales_5s`: late_side_output = 3``.
    pub expected: String,
    /// Whether the run showed it.
    pub met: bool,
    /// What the run showed.
    pub actual: String,
}

/// Grades every expectation of scenario `s` against run report `r` of plan `p`.
pub fn grade(s: &Scenario, p: &Plan, r: &RunReport) -> Vec<Verdict> {
    let mut out = Vec::new();
    for e in &s.expectations {
        let subject = subject_text(&e.subject);
        for c in &e.checks {
            let (expected, met, actual) = match check(&e.subject, c, (s, p), r) {
                Ok((met, actual)) => (check_text(c), met, actual),
                Err(why) => (check_text(c), false, why),
            };
            out.push(Verdict {
                line: e.line,
                expected: format!("{subject}: {expected}"),
                met,
                actual,
            });
        }
    }
    out
}

fn subject_text(s: &Subject) -> String {
    match s {
        Subject::Job => "the job".into(),
        Subject::Sink(n) => format!("sink `{n}`"),
        Subject::Operator(n) => format!("operator `{n}`"),
        Subject::Edge(a, b) => format!("edge {a} → {b}"),
        Subject::Checkpoint(id) => format!("checkpoint {id}"),
    }
}

fn check_text(c: &Check) -> String {
    match c {
        Check::Rows { rows, how } => format!(
            "rows ({} of {} row{})",
            how.name(),
            rows.len(),
            if rows.len() == 1 { "" } else { "s" }
        ),
        Check::Measure { what, bound } => format!(
            "{} {} {}",
            what.key(),
            bound.symbol(),
            value_text(bound.value, what.unit())
        ),
        Check::Status(s) => format!("status {s}"),
        Check::Chained(true) => "chained".into(),
        Check::Chained(false) => "not chained".into(),
        Check::Outcome(o) => format!("outcome {o}"),
        Check::Guarantee(g) => format!("guarantee {g}"),
        Check::Checkpointing(c) => format!("checkpointing {c}"),
    }
}

fn value_text(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Count => format!("{v}"),
        Unit::Millis => format!("{v:.3} ms"),
        Unit::PerSecond => format!("{v:.1} records/s"),
    }
}

/// Grades one check: `Ok((met, what the run showed))`, or `Err(why it cannot be graded)`
/// (then it is not met).
fn check(
    subject: &Subject,
    c: &Check,
    (s, p): (&Scenario, &Plan),
    r: &RunReport,
) -> Result<(bool, String), String> {
    match c {
        Check::Guarantee(want) => {
            let Subject::Sink(name) = subject else {
                return Err("`guarantee` is a sink's".into());
            };
            let got = &sink(r, name)?.guarantee;
            Ok((got == want, got.clone()))
        }
        Check::Checkpointing(want) => {
            let got = match &s.fault_tolerance.checkpointing {
                None => "off",
                Some(c) if c.unaligned => "unaligned",
                Some(_) => "aligned",
            };
            Ok((got == want, got.to_string()))
        }
        Check::Rows { rows, how } => {
            let Subject::Sink(name) = subject else {
                return Err("rows are a sink's".into());
            };
            sink_rows(r, name, rows, *how)
        }
        Check::Measure { what, bound } => {
            let v = measure(subject, *what, p, r)?;
            Ok((bound.holds(v), value_text(v, what.unit())))
        }
        Check::Status(want) => {
            let got = match r.outcome.status {
                super::Status::Finished => "finished",
                super::Status::Failed => "failed",
                super::Status::LimitReached => "stopped at a limit",
            };
            Ok((got == want, got.to_string()))
        }
        Check::Chained(want) => {
            let Subject::Edge(a, b) = subject else {
                return Err("`chained` is an edge's".into());
            };
            let got = edge_chained(p, a, b)?;
            Ok((
                got == *want,
                if got { "chained" } else { "not chained" }.into(),
            ))
        }
        Check::Outcome(want) => {
            let Subject::Checkpoint(id) = subject else {
                return Err("`outcome` is a checkpoint's".into());
            };
            let Some(c) = r.checkpoints.iter().find(|c| c.id == *id) else {
                return Err(format!(
                    "the run has no checkpoint {id} (it triggered {})",
                    r.checkpoints.len()
                ));
            };
            let o = c.outcome.to_ascii_lowercase();
            let met = if want == "completed" {
                o == "completed"
            } else {
                o.starts_with(want.as_str()) || o.contains(want.as_str())
            };
            Ok((met, c.outcome.clone()))
        }
    }
}

/// A measure of the subject, in the measure's unit.
fn measure(subject: &Subject, what: Measure, p: &Plan, r: &RunReport) -> Result<f64, String> {
    use Measure::*;
    match subject {
        Subject::Job => Ok(match what {
            Records => r.sink_records as f64,
            LatencyP50 => r.latency.p50_ms,
            LatencyP99 => r.latency.p99_ms,
            LatencyMax => r.latency.max_ms,
            Throughput => r.throughput_per_s,
            Slots => f64::from(p.deployment.slots_needed),
            // A region restart leaves the job running: count the failures after which tasks
            // ran again (a downtime); one that ended the job restarted nothing.
            Restarts => r
                .failures
                .iter()
                .filter(|f| f.tasks_restarted > 0 && f.downtime_ms.is_some())
                .count() as f64,
            Failures => r.failures.len() as f64,
            _ => return Err(format!("`{}` is not the job's", what.key())),
        }),
        Subject::Sink(name) if what == Parallelism => operator_parallelism(r, name),
        Subject::Sink(name) => {
            let s = sink(r, name)?;
            let compared = |v: Option<u64>| match v {
                Some(n) => Ok(n as f64),
                // Without faults there is nothing to compare: no duplicate, nothing missing.
                None if r.failures.is_empty() => Ok(0.0),
                None => Err(format!(
                    "not compared with the fault-free run ({})",
                    s.compared_by.as_deref().unwrap_or("no comparison")
                )),
            };
            match what {
                Records => Ok(s.records as f64),
                Duplicates => compared(s.duplicates),
                Missing => compared(s.missing),
                LatencyP50 => Ok(s.latency.p50_ms),
                LatencyP99 => Ok(s.latency.p99_ms),
                LatencyMax => Ok(s.latency.max_ms),
                Throughput => Ok(s.throughput_per_s),
                _ => Err(format!("`{}` is not a sink's", what.key())),
            }
        }
        Subject::Operator(name) => {
            let o = r
                .operators
                .iter()
                .find(|o| &o.name == name)
                .ok_or_else(|| format!("the report has no operator `{name}`"))?;
            let w = || {
                o.windows
                    .as_ref()
                    .ok_or_else(|| format!("`{name}` is not a window operator ({})", o.kind))
            };
            Ok(match what {
                Parallelism => f64::from(o.parallelism),
                RecordsIn => o.records_in as f64,
                RecordsOut => o.records_out as f64,
                Fired => w()?.fired as f64,
                LateFirings => w()?.late_firings as f64,
                LateDropped => w()?.late_dropped as f64,
                LateSideOutput => w()?.late_side_output as f64,
                WindowsLeftOpen => w()?.windows_left_open as f64,
                _ => return Err(format!("`{}` is not an operator's", what.key())),
            })
        }
        Subject::Edge(..) | Subject::Checkpoint(_) => {
            Err(format!("`{}` is not measured on this subject", what.key()))
        }
    }
}

/// A sink of the report, by name.
fn sink<'r>(r: &'r RunReport, name: &str) -> Result<&'r super::SinkReport, String> {
    r.sinks
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("the report has no sink `{name}`"))
}

/// The parallelism of an operator or sink of the report.
fn operator_parallelism(r: &RunReport, name: &str) -> Result<f64, String> {
    r.operators
        .iter()
        .find(|o| o.name == name)
        .map(|o| f64::from(o.parallelism))
        .ok_or_else(|| format!("the report has no operator `{name}`"))
}

/// Whether the plan's edge `a → b` chained.
fn edge_chained(p: &Plan, a: &str, b: &str) -> Result<bool, String> {
    let g = &p.logical.graph;
    let mut names = Vec::new();
    for e in g.edge_references() {
        let (x, y) = (&g[e.source()].name, &g[e.target()].name);
        if x == a && y == b {
            return Ok(p.chaining.breaks[e.id().index()].is_empty());
        }
        names.push(format!("{x} → {y}"));
    }
    Err(format!(
        "the plan has no edge {a} → {b} (a key_by is folded into the edge after it); its edges: {}",
        names.join(", ")
    ))
}

/// The sink's rows against the expected ones.
fn sink_rows(
    r: &RunReport,
    name: &str,
    want: &[Vec<Value>],
    how: RowMatch,
) -> Result<(bool, String), String> {
    let s = r
        .sinks
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("the report has no sink `{name}`"))?;
    if s.kind == "discard" {
        return Err(format!(
            "sink `{name}` discards its rows: it keeps none to compare"
        ));
    }
    let got = &s.rows;
    let all_kept = got.len() as u64 >= s.rows_total;
    let (missing, extra) = differences(want, got);
    let met = match how {
        RowMatch::Exact => all_kept && same_rows(want, got),
        RowMatch::Set => all_kept && missing.is_empty() && extra.is_empty(),
        RowMatch::Subset => missing.is_empty(),
    };
    let mut actual = format!(
        "{} row{}",
        s.rows_total,
        if s.rows_total == 1 { "" } else { "s" }
    );
    if !all_kept && how != RowMatch::Subset {
        actual.push_str(&format!(
            ", of which the report keeps the first {} (raise the sink's `capture`)",
            got.len()
        ));
    }
    if !missing.is_empty() {
        actual.push_str(&format!("; missing {}", rows_text(&missing)));
    }
    if !extra.is_empty() && how != RowMatch::Subset {
        actual.push_str(&format!("; not expected {}", rows_text(&extra)));
    }
    if how == RowMatch::Exact && missing.is_empty() && extra.is_empty() && !met && all_kept {
        actual.push_str("; the same rows in another order");
    }
    Ok((met, actual))
}

/// Expected rows the sink lacks and sink rows not expected, each as often as it is short.
fn differences(want: &[Vec<Value>], got: &[Vec<Value>]) -> (Vec<Vec<Value>>, Vec<Vec<Value>>) {
    let mut left: Vec<Option<&Vec<Value>>> = got.iter().map(Some).collect();
    let mut missing = Vec::new();
    for w in want {
        match left.iter().position(|g| g.is_some_and(|g| row_eq(w, g))) {
            Some(i) => left[i] = None,
            None => missing.push(w.clone()),
        }
    }
    let extra = left.into_iter().flatten().cloned().collect();
    (missing, extra)
}

fn same_rows(a: &[Vec<Value>], b: &[Vec<Value>]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| row_eq(x, y))
}

/// Rows are equal value by value; numbers by value (`5` equals `5.0`).
fn row_eq(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => x == y,
                _ => x == y,
            })
}

/// Up to three rows, then how many more.
fn rows_text(rows: &[Vec<Value>]) -> String {
    let shown: Vec<String> = rows
        .iter()
        .take(3)
        .map(|r| serde_json::to_string(r).unwrap_or_default())
        .collect();
    let more = rows.len().saturating_sub(3);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::expect::Bound;
    use serde_json::json;

    fn rows(v: Value) -> Vec<Vec<Value>> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn rows_compare_as_a_multiset_with_numbers_by_value() {
        let got = rows(json!([["a", 1], ["b", 2.0], ["a", 1]]));
        let want = rows(json!([["a", 1], ["a", 1.0], ["b", 2]]));
        let (m, e) = differences(&want, &got);
        assert!(m.is_empty() && e.is_empty());
        assert!(!same_rows(&want, &got), "order differs");
        let (m, e) = differences(&rows(json!([["a", 1], ["c", 3]])), &got);
        assert_eq!(m, rows(json!([["c", 3]])));
        assert_eq!(e, rows(json!([["b", 2.0], ["a", 1]])));
    }

    #[test]
    fn bounds_render_in_their_units() {
        assert_eq!(value_text(50.0, Unit::Millis), "50.000 ms");
        assert_eq!(value_text(3.0, Unit::Count), "3");
        let c = Check::Measure {
            what: Measure::LatencyP99,
            bound: Bound {
                cmp: crate::scenario::expect::Cmp::Lt,
                value: 50.0,
            },
        };
        assert_eq!(check_text(&c), "latency_p99 < 50.000 ms");
    }
}
