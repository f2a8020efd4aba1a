//! `[[expect]]`: expectations checked by `streamlab check` (the model is
//! [`crate::scenario::expect`]). Names must exist, each measure must fit its subject, bounds
//! must read as a number or a comparison with a unit; every mistake points at its value.

use super::checker::Checker;
use crate::scenario::NodeDef;
use crate::scenario::expect::{
    Bound, Check, Cmp, Expectation, Measure, RowMatch, Subject, SubjectKind, Unit,
};
use crate::scenario::raw::RawExpect;
use crate::scenario::units::parse_duration;
use toml::Spanned as TSpanned;

/// Reads every `[[expect]]` table.
pub fn expectations(
    ck: &mut Checker,
    raw: &[TSpanned<RawExpect>],
    nodes: &[NodeDef],
) -> Vec<Expectation> {
    raw.iter()
        .filter_map(|r| expectation(ck, r, nodes))
        .collect()
}

fn expectation(
    ck: &mut Checker,
    raw: &TSpanned<RawExpect>,
    nodes: &[NodeDef],
) -> Option<Expectation> {
    let r = raw.get_ref();
    let errors_before = ck.diags.error_count();
    let (subject, kind) = subject(ck, raw, nodes)?;
    let mut checks = Vec::new();
    if let Some(rows) = &r.rows {
        checks.push(rows_check(ck, r, rows, &subject)?);
    } else if let Some(m) = &r.rows_match {
        ck.error(
            Some(m.span()),
            "`match` says how `rows` are compared, and there are no `rows`",
            "add `rows = [[…], …]` or remove `match`",
        );
    }
    for (what, value) in measures(r) {
        let Some(v) = value else { continue };
        let fits = Measure::ALL
            .iter()
            .find(|(m, _)| *m == what)
            .is_some_and(|(_, k)| k.contains(&kind));
        if !fits {
            ck.error(
                Some(v.span()),
                format!("`{}` cannot be expected of {}", what.key(), kind_name(kind)),
                format!("{} takes: {}", kind_name(kind), keys_of(kind)),
            );
            continue;
        }
        checks.push(Check::Measure {
            what,
            bound: bound(ck, v, what)?,
        });
    }
    word_checks(ck, r, kind, &mut checks);
    if checks.is_empty() {
        if ck.diags.error_count() > errors_before {
            return None;
        }
        ck.error(
            Some(raw.span()),
            "this [[expect]] expects nothing",
            format!("{} takes: {}", kind_name(kind), keys_of(kind)),
        );
        return None;
    }
    let line = ck.diags.file.line_col(raw.span().start).0;
    Some(Expectation {
        span: raw.span(),
        line,
        subject,
        checks,
    })
}

/// The subject: at most one of `sink`, `operator`, `edge`, `checkpoint`.
fn subject(
    ck: &mut Checker,
    raw: &TSpanned<RawExpect>,
    nodes: &[NodeDef],
) -> Option<(Subject, SubjectKind)> {
    let r = raw.get_ref();
    let given = [
        r.sink.is_some(),
        r.operator.is_some(),
        r.edge.is_some(),
        r.checkpoint.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        ck.error(
            Some(raw.span()),
            "an [[expect]] is about one thing: give at most one of `sink`, `operator`, `edge`, `checkpoint`",
            "split it into one [[expect]] per subject",
        );
        return None;
    }
    let named = |ck: &mut Checker, n: &TSpanned<String>, sink: bool| -> Option<String> {
        let name = n.get_ref();
        let found = nodes.iter().find(|d| &d.name == name);
        let is_sink = |d: &NodeDef| matches!(d.kind, crate::scenario::NodeKind::Sink(..));
        match found {
            Some(d) if is_sink(d) == sink => Some(name.clone()),
            _ => {
                let names: Vec<&str> = nodes
                    .iter()
                    .filter(|d| is_sink(d) == sink)
                    .map(|d| d.name.as_str())
                    .collect();
                let what = if sink { "sink" } else { "operator" };
                ck.error(
                    Some(n.span()),
                    format!("no {what} named `{name}`"),
                    format!("the {what}s are: {}", names.join(", ")),
                );
                None
            }
        }
    };
    if let Some(n) = &r.sink {
        return Some((Subject::Sink(named(ck, n, true)?), SubjectKind::Sink));
    }
    if let Some(n) = &r.operator {
        return Some((
            Subject::Operator(named(ck, n, false)?),
            SubjectKind::Operator,
        ));
    }
    if let Some(e) = &r.edge {
        let text = e.get_ref();
        let Some((a, b)) = text.split_once("->") else {
            ck.error(
                Some(e.span()),
                format!("`{text}` is not an edge"),
                "write it as \"FROM -> TO\", with the names of two operators the plan connects",
            );
            return None;
        };
        let (a, b) = (a.trim(), b.trim());
        for n in [a, b] {
            if !nodes.iter().any(|d| d.name == n) {
                ck.error(
                    Some(e.span()),
                    format!("no source, operator or sink named `{n}`"),
                    format!(
                        "the names are: {}",
                        nodes
                            .iter()
                            .map(|d| d.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                return None;
            }
        }
        return Some((Subject::Edge(a.into(), b.into()), SubjectKind::Edge));
    }
    if let Some(c) = &r.checkpoint {
        let id = ck.count(c, "checkpoint", i64::from(u32::MAX))?;
        return Some((Subject::Checkpoint(u64::from(id)), SubjectKind::Checkpoint));
    }
    Some((Subject::Job, SubjectKind::Job))
}

/// `rows` and `match` of a sink.
fn rows_check(
    ck: &mut Checker,
    r: &RawExpect,
    rows: &TSpanned<Vec<TSpanned<toml::Value>>>,
    subject: &Subject,
) -> Option<Check> {
    let Subject::Sink(_) = subject else {
        ck.error(
            Some(rows.span()),
            "`rows` can be expected of a sink only",
            "add `sink = \"NAME\"`",
        );
        return None;
    };
    let how = match r.rows_match.as_ref().map(|m| (m, m.get_ref().as_str())) {
        None | Some((_, "set")) => RowMatch::Set,
        Some((_, "exact")) => RowMatch::Exact,
        Some((_, "subset")) => RowMatch::Subset,
        Some((m, other)) => {
            ck.error(
                Some(m.span()),
                format!("unknown `match` `{other}`"),
                "expected exact (same rows, same order), set (same rows, any order; the default) or subset (these rows among the sink's)",
            );
            return None;
        }
    };
    let mut out = Vec::new();
    for row in rows.get_ref() {
        let toml::Value::Array(values) = row.get_ref() else {
            ck.error(
                Some(row.span()),
                "a row is an array of values in the sink's field order",
                "write e.g. [\"north\", 0, 5000, 82]",
            );
            return None;
        };
        let mut vals = Vec::new();
        for v in values {
            match json_of(v) {
                Some(j) => vals.push(j),
                None => {
                    ck.error(
                        Some(row.span()),
                        "a row value is a string, a number or a boolean",
                        "",
                    );
                    return None;
                }
            }
        }
        out.push(vals);
    }
    Some(Check::Rows { rows: out, how })
}

/// A row value as the report writes it.
fn json_of(v: &toml::Value) -> Option<serde_json::Value> {
    Some(match v {
        toml::Value::String(s) => serde_json::Value::from(s.as_str()),
        toml::Value::Integer(i) => serde_json::Value::from(*i),
        toml::Value::Float(f) => serde_json::Value::from(*f),
        toml::Value::Boolean(b) => serde_json::Value::from(*b),
        _ => return None,
    })
}

/// `status`, `outcome` and `chained`, each where it belongs.
fn word_checks(ck: &mut Checker, r: &RawExpect, kind: SubjectKind, checks: &mut Vec<Check>) {
    if let Some(s) = &r.status {
        let word = s.get_ref().trim().to_ascii_lowercase();
        if kind != SubjectKind::Job {
            ck.error(
                Some(s.span()),
                "`status` is the job's: expect it in an [[expect]] without a subject",
                "",
            );
        } else if !["finished", "failed", "stopped at a limit"].contains(&word.as_str()) {
            ck.error(
                Some(s.span()),
                format!("unknown job status `{word}`"),
                "expected finished, failed or stopped at a limit",
            );
        } else {
            checks.push(Check::Status(word));
        }
    }
    if let Some(o) = &r.outcome {
        let word = o.get_ref().trim().to_ascii_lowercase();
        if kind != SubjectKind::Checkpoint {
            ck.error(
                Some(o.span()),
                "`outcome` is a checkpoint's: add `checkpoint = N`",
                "",
            );
        } else if !["completed", "failed", "aborted", "expired"].contains(&word.as_str()) {
            ck.error(
                Some(o.span()),
                format!("unknown checkpoint outcome `{word}`"),
                "expected completed, failed, aborted or expired",
            );
        } else {
            checks.push(Check::Outcome(word));
        }
    }
    word(
        ck,
        r.guarantee.as_ref(),
        (kind, SubjectKind::Sink, "a sink's: add `sink = \"NAME\"`"),
        &["at_least_once", "exactly_once", "idempotent"],
        Check::Guarantee,
        checks,
    );
    word(
        ck,
        r.checkpointing.as_ref(),
        (
            kind,
            SubjectKind::Job,
            "the job's: expect it in an [[expect]] without a subject",
        ),
        &["aligned", "unaligned", "off"],
        Check::Checkpointing,
        checks,
    );
    if let Some(c) = &r.chained {
        if kind == SubjectKind::Edge {
            checks.push(Check::Chained(*c.get_ref()));
        } else {
            ck.error(
                Some(c.span()),
                "`chained` is an edge's: add `edge = \"FROM -> TO\"`",
                "",
            );
        }
    }
}

/// A key whose value is one of `words`, of the subject `of.1` only (`of.0`: the table's;
/// `of.2`: what to say otherwise).
fn word(
    ck: &mut Checker,
    value: Option<&TSpanned<String>>,
    of: (SubjectKind, SubjectKind, &str),
    words: &[&str],
    check: fn(String) -> Check,
    checks: &mut Vec<Check>,
) {
    let Some(v) = value else { return };
    let w = v.get_ref().trim().to_ascii_lowercase();
    if of.0 != of.1 {
        ck.error(Some(v.span()), format!("this key is {}", of.2), "");
    } else if !words.contains(&w.as_str()) {
        ck.error(
            Some(v.span()),
            format!("unknown value `{w}`"),
            format!("expected {}", words.join(", ")),
        );
    } else {
        checks.push(check(w));
    }
}

/// Every measure key of the table with its value, in [`Measure::ALL`] order.
fn measures(r: &RawExpect) -> [(Measure, Option<&TSpanned<toml::Value>>); 18] {
    use Measure::*;
    [
        (Records, r.records.as_ref()),
        (Duplicates, r.duplicates.as_ref()),
        (Missing, r.missing.as_ref()),
        (LatencyP50, r.latency_p50.as_ref()),
        (LatencyP99, r.latency_p99.as_ref()),
        (LatencyMax, r.latency_max.as_ref()),
        (Throughput, r.throughput.as_ref()),
        (Fired, r.fired.as_ref()),
        (LateFirings, r.late_firings.as_ref()),
        (LateDropped, r.late_dropped.as_ref()),
        (LateSideOutput, r.late_side_output.as_ref()),
        (WindowsLeftOpen, r.windows_left_open.as_ref()),
        (RecordsIn, r.records_in.as_ref()),
        (RecordsOut, r.records_out.as_ref()),
        (Slots, r.slots.as_ref()),
        (Restarts, r.restarts.as_ref()),
        (Failures, r.failures.as_ref()),
        (Parallelism, r.parallelism.as_ref()),
    ]
}

/// A bound: a bare number (exactly), or a string `"OP VALUE"` with OP one of `=`, `<`,
/// `<=`, `>`, `>=`; latencies take a duration (`"< 50 ms"`), throughput records per second.
fn bound(ck: &mut Checker, v: &TSpanned<toml::Value>, what: Measure) -> Option<Bound> {
    let unit = what.unit();
    let example = match unit {
        Unit::Millis => "a duration with a comparison, e.g. \"< 50 ms\" or \"<= 2 s\"",
        Unit::PerSecond => "records per second, e.g. 1000 or \">= 1000\"",
        Unit::Count => "a count, e.g. 3, or a comparison such as \">= 1\" or \"< 10\"",
    };
    let bad = |ck: &mut Checker, msg: String| {
        ck.error(Some(v.span()), msg, example);
        None
    };
    let (cmp, text) = match v.get_ref() {
        toml::Value::Integer(i) if unit != Unit::Millis => {
            return Some(Bound {
                cmp: Cmp::Eq,
                value: *i as f64,
            });
        }
        toml::Value::Float(f) if unit == Unit::PerSecond => {
            return Some(Bound {
                cmp: Cmp::Eq,
                value: *f,
            });
        }
        toml::Value::String(s) => split_cmp(s.trim()),
        other => {
            return bad(ck, format!("`{}` = {other}: not a bound", what.key()));
        }
    };
    let value = match unit {
        Unit::Millis => match parse_duration(text) {
            Ok(d) => d.as_millis_f64(),
            Err(e) => return bad(ck, format!("`{}`: {e}", what.key())),
        },
        _ => match text.replace('_', "").parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 => x,
            _ => return bad(ck, format!("`{}`: `{text}` is not a number", what.key())),
        },
    };
    Some(Bound { cmp, value })
}

/// The comparison at the start of `text` (none: `=`) and the rest.
fn split_cmp(text: &str) -> (Cmp, &str) {
    for (op, cmp) in [
        ("<=", Cmp::Le),
        (">=", Cmp::Ge),
        ("≤", Cmp::Le),
        ("≥", Cmp::Ge),
        ("<", Cmp::Lt),
        (">", Cmp::Gt),
        ("==", Cmp::Eq),
        ("=", Cmp::Eq),
    ] {
        if let Some(rest) = text.strip_prefix(op) {
            return (cmp, rest.trim());
        }
    }
    (Cmp::Eq, text)
}

fn kind_name(k: SubjectKind) -> &'static str {
    match k {
        SubjectKind::Job => "the job (no subject key)",
        SubjectKind::Sink => "a sink",
        SubjectKind::Operator => "an operator",
        SubjectKind::Edge => "an edge",
        SubjectKind::Checkpoint => "a checkpoint",
    }
}

/// The keys a subject takes.
fn keys_of(k: SubjectKind) -> String {
    let mut keys: Vec<&str> = Measure::ALL
        .iter()
        .filter(|(_, ks)| ks.contains(&k))
        .map(|(m, _)| m.key())
        .collect();
    match k {
        SubjectKind::Job => keys.extend(["status", "checkpointing"]),
        SubjectKind::Sink => keys.extend(["rows", "match", "guarantee"]),
        SubjectKind::Edge => keys.push("chained"),
        SubjectKind::Checkpoint => keys.push("outcome"),
        SubjectKind::Operator => {}
    }
    keys.join(", ")
}

#[cfg(test)]
mod tests {
    use crate::scenario::expect::{Check, Cmp, Measure, RowMatch, Subject};

    const BASE: &str = r#"
name = "t"
[[source]]
name = "src"
kind = "inline"
events = [{ k = "a", v = 1 }, { k = "b", v = 2 }]
[[sink]]
name = "out"
input = "src"
"#;

    fn parse(expect: &str) -> Result<crate::scenario::Scenario, String> {
        crate::check::parse_str("t.toml", &format!("{BASE}{expect}"), None).map_err(|d| d.render())
    }

    #[test]
    fn each_subject_takes_its_measures_and_bounds_read_with_units() {
        let s = parse(
            r#"
[[expect]]
sink = "out"
rows = [["a", 1], ["b", 2]]
match = "exact"
latency_p99 = "< 50 ms"
records = 2
[[expect]]
status = "finished"
slots = ">= 1"
[[expect]]
edge = "src -> out"
chained = true
[[expect]]
sink = "out"
parallelism = 1
guarantee = "at_least_once"
[[expect]]
checkpointing = "off"
"#,
        )
        .unwrap();
        let e = &s.expectations;
        assert_eq!(e.len(), 5);
        assert_eq!(
            e[3].checks,
            vec![
                Check::Measure {
                    what: Measure::Parallelism,
                    bound: crate::scenario::expect::Bound {
                        cmp: Cmp::Eq,
                        value: 1.0
                    }
                },
                Check::Guarantee("at_least_once".into())
            ]
        );
        assert_eq!(e[4].checks, vec![Check::Checkpointing("off".into())]);
        assert_eq!(e[0].subject, Subject::Sink("out".into()));
        assert!(
            matches!(&e[0].checks[0], Check::Rows { rows, how: RowMatch::Exact } if rows.len() == 2)
        );
        assert!(
            matches!(e[0].checks[1], Check::Measure { what: Measure::Records, bound } if bound.cmp == Cmp::Eq && bound.value == 2.0)
        );
        assert!(
            matches!(e[0].checks[2], Check::Measure { what: Measure::LatencyP99, bound } if bound.cmp == Cmp::Lt && bound.value == 50.0)
        );
        assert_eq!(
            e[1].checks[0],
            Check::Measure {
                what: Measure::Slots,
                bound: crate::scenario::expect::Bound {
                    cmp: Cmp::Ge,
                    value: 1.0
                }
            }
        );
        assert_eq!(e[1].checks[1], Check::Status("finished".into()));
        assert_eq!(e[2].subject, Subject::Edge("src".into(), "out".into()));
        assert!(e[2].line > e[1].line && e[1].line > e[0].line);
    }

    #[test]
    fn mistakes_point_at_their_value_and_say_what_fits() {
        let cases = [
            (
                "[[expect]]\nsink = \"nope\"\nrecords = 1\n",
                "no sink named `nope`",
            ),
            (
                "[[expect]]\nsink = \"out\"\nfired = 1\n",
                "`fired` cannot be expected of a sink",
            ),
            (
                "[[expect]]\nsink = \"out\"\nlatency_p99 = \"fast\"\n",
                "`latency_p99`",
            ),
            (
                "[[expect]]\nsink = \"out\"\nlatency_p99 = 5\n",
                "not a bound",
            ),
            (
                "[[expect]]\nsink = \"out\"\noperator = \"src\"\nrecords = 1\n",
                "at most one of",
            ),
            ("[[expect]]\nsink = \"out\"\n", "expects nothing"),
            (
                "[[expect]]\nedge = \"src out\"\nchained = true\n",
                "is not an edge",
            ),
            (
                "[[expect]]\nstatus = \"done\"\n",
                "unknown job status `done`",
            ),
            (
                "[[expect]]\nsink = \"out\"\nrows = [1]\n",
                "a row is an array",
            ),
            (
                "[[expect]]\nsink = \"out\"\nrecord = 1\n",
                "unknown field `record`",
            ),
            (
                "[[expect]]\nguarantee = \"exactly_once\"\n",
                "this key is a sink's",
            ),
            (
                "[[expect]]\ncheckpointing = \"sometimes\"\n",
                "unknown value `sometimes`",
            ),
        ];
        for (text, want) in cases {
            let err = parse(text).expect_err(text);
            assert!(err.contains(want), "{text}: {err}");
            assert!(err.contains("t.toml:"), "{err}");
        }
    }
}
