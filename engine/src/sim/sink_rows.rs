//! What a sink shows in the report: its counts, latency, checksum and rows, gathered from
//! every sink subtask. The streaming simulator and the baseline modes both report through
//! [`sink_report`].

use crate::core::time::SimTime;
use crate::core::value::Interner;
use crate::ops::sink::{Series, SinkOp, latency_histogram};
use crate::report::{Latency, SinkReport, round3};
use crate::scenario::{NodeDef, NodeKind, SinkSpec};
use hdrhistogram::Histogram;

/// The report of sink `node` from its subtasks `parts`, with the guarantee the sink asked
/// for (`idempotent` for upsert sinks) and its transactions' open and aborted records. Adds
/// the sink's latencies to `all` and its arrivals to `series` (the run's totals).
pub fn sink_report(
    node: &NodeDef,
    parts: &[&SinkOp],
    interner: &Interner,
    all: &mut Histogram<u64>,
    series: &mut Series,
) -> SinkReport {
    let mut h = latency_histogram();
    let mut records = 0;
    let mut checksum = 0u64;
    let first = parts
        .iter()
        .filter_map(|sk| sk.first)
        .min()
        .unwrap_or(SimTime::ZERO);
    let last = parts
        .iter()
        .map(|sk| sk.last)
        .max()
        .unwrap_or(SimTime::ZERO);
    for sk in parts {
        sk.latency.add_to(&mut h);
        records += sk.count;
        checksum = checksum.wrapping_add(sk.checksum);
        series.merge(&sk.series);
    }
    let _ = all.add(&h);
    let (kind, rows, total) = sink_rows(&node.kind, parts, node.schema.arity(), interner);
    let txns = || parts.iter().filter_map(|sk| sk.txn.as_ref());
    SinkReport {
        name: node.name.clone(),
        kind: kind.into(),
        records,
        first_ms: round3(first.0 as f64 / 1e6),
        last_ms: round3(last.0 as f64 / 1e6),
        // From the start of the run to the last record: a burst of window results after a
        // long wait is a handful of records in that time, not millions per second.
        throughput_per_s: if last > SimTime::ZERO {
            round3(records as f64 / last.as_secs_f64())
        } else {
            0.0
        },
        latency: Latency::from_histogram(&h),
        checksum: format!("{checksum:016x}"),
        fields: node
            .schema
            .fields
            .iter()
            .map(|f| f.name.to_string())
            .collect(),
        rows,
        rows_total: total,
        guarantee: match &node.kind {
            NodeKind::Sink(SinkSpec::Upsert { .. }, _) => "idempotent".into(),
            NodeKind::Sink(_, g) => g.name().into(),
            _ => String::new(),
        },
        committed: records,
        uncommitted: txns().map(|t| t.pending() as u64).sum(),
        aborted: txns().map(|t| t.aborted_records).sum(),
        duplicates: None,
        missing: None,
        compared_by: None,
        differing: None,
        comparison_note: None,
    }
}

/// The sink's kind name, the rows the report keeps and how many rows there were in all.
/// An upsert sink shows its final table largest value first (the last numeric column), like
/// a top-N, ties by the rows' text; a collect sink the first `capture` records in subtask
/// order; a discard sink nothing.
fn sink_rows(
    kind: &NodeKind,
    parts: &[&SinkOp],
    arity: usize,
    interner: &Interner,
) -> (&'static str, Vec<Vec<serde_json::Value>>, u64) {
    let arity = arity.max(1);
    let to_json = |vals: &[crate::core::value::Value]| {
        vals.iter().map(|v| v.to_json(interner)).collect::<Vec<_>>()
    };
    match kind {
        NodeKind::Sink(SinkSpec::Upsert { capture, .. }, _) => {
            let mut rows: Vec<Vec<serde_json::Value>> = parts
                .iter()
                .flat_map(|sk| sk.rows.chunks(arity).map(to_json))
                .collect();
            rows.sort_by(|a, b| {
                sort_key(b)
                    .partial_cmp(&sort_key(a))
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then_with(|| {
                        a.iter()
                            .map(|v| v.to_string())
                            .cmp(b.iter().map(|v| v.to_string()))
                    })
            });
            let total = rows.len() as u64;
            rows.truncate(*capture);
            ("upsert", rows, total)
        }
        NodeKind::Sink(SinkSpec::Collect { capture }, _) => {
            let mut rows: Vec<Vec<serde_json::Value>> = Vec::new();
            for sk in parts {
                rows.extend(sk.rows.chunks(arity).map(to_json));
            }
            rows.truncate(*capture);
            let total = rows.len() as u64;
            ("collect", rows, total)
        }
        _ => ("discard", Vec::new(), 0),
    }
}

/// The last numeric column of a row (0 when there is none).
fn sort_key(row: &[serde_json::Value]) -> f64 {
    row.iter()
        .rev()
        .find_map(serde_json::Value::as_f64)
        .unwrap_or(0.0)
}
