//! What a sink shows in the report: its rows, gathered from every sink subtask.

use super::ops::sink::SinkOp;
use crate::scenario::{NodeKind, SinkSpec};
use crate::value::Interner;

/// The sink's kind name, the rows the report keeps and how many rows there were in all.
/// An upsert sink shows its final table largest value first (the last numeric column), like
/// a top-N, ties by the rows' text; a collect sink the first `capture` records in subtask
/// order; a discard sink nothing.
pub fn sink_rows(
    kind: &NodeKind,
    parts: &[&SinkOp],
    arity: usize,
    interner: &Interner,
) -> (&'static str, Vec<Vec<serde_json::Value>>, u64) {
    let arity = arity.max(1);
    let to_json =
        |vals: &[crate::value::Value]| vals.iter().map(|v| v.to_json(interner)).collect::<Vec<_>>();
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
