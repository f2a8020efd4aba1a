//! What a sink's changelog means for comparing runs: which subtasks feed an operator, whether
//! a rolling reduce's intermediate values depend on the order its input channels interleave
//! in, and which column of a sink's rows holds the key whose final value is what a replay
//! keeps. The simulator tracks that column while a run writes (the sink's ledger); the oracle
//! compares runs by it (`oracle::reference`).

use super::model::{NodeDef, NodeKind, ReduceFn, Scenario};
use super::query::parallelism_of;

/// Flink's changelog row kinds, in the order its `RowKind` lists them.
pub const ROW_KINDS: [&str; 4] = ["+I", "-U", "+U", "-D"];

/// How many rows of each row kind a SQL query's sink captured (its rows have the kind in a
/// first column `op`): `+I 2 · -U 4 · +U 4 · -D 1`, or `None` when `fields` has no `op`
/// first.
pub fn row_kind_counts(fields: &[String], rows: &[Vec<serde_json::Value>]) -> Option<String> {
    if fields.first().map(String::as_str) != Some("op") {
        return None;
    }
    let mut counts = [0u64; 4];
    for r in rows {
        if let Some(i) = r
            .first()
            .and_then(|v| v.as_str())
            .and_then(|k| ROW_KINDS.iter().position(|x| *x == k))
        {
            counts[i] += 1;
        }
    }
    Some(
        ROW_KINDS
            .iter()
            .zip(counts)
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(" · "),
    )
}

/// The subtasks that send records into node `i`: the parallelism of its producers, looking
/// through virtual nodes (key_by, union, side outputs).
pub fn senders(s: &Scenario, i: usize) -> u32 {
    s.nodes[i]
        .inputs
        .iter()
        .map(|inp| {
            let n = &s.nodes[inp.node];
            match &n.kind {
                NodeKind::KeyBy { .. } | NodeKind::Union => senders(s, inp.node),
                NodeKind::SideOutput { of } => parallelism_of(&s.job, &s.nodes[*of]),
                _ => parallelism_of(&s.job, n),
            }
        })
        .sum()
}

/// Whether a rolling reduce's intermediate values depend on the order its records arrive
/// in: a count's n-th update is n whatever the order; a sum, min, max or expression keeps
/// the first record's other fields and passes through other partial results.
pub fn order_dependent(n: &NodeDef) -> bool {
    matches!(&n.kind, NodeKind::Reduce { function, .. } if *function != ReduceFn::Count)
}

/// The rolling reduce whose changelog sink `sink` reads directly, and the column of the sink's
/// rows that holds its key — when the reduce reads more than one subtask (so its intermediate
/// values depend on the order of arrival) and its key is a plain field.
pub fn final_key_column(s: &Scenario, sink: usize) -> Option<usize> {
    let node = &s.nodes[sink];
    let [input] = node.inputs.as_slice() else {
        return None;
    };
    let r = &s.nodes[input.node];
    if !order_dependent(r) || senders(s, input.node) < 2 {
        return None;
    }
    let kb = r.inputs.first()?;
    let NodeKind::KeyBy { key } = &s.nodes[kb.node].kind else {
        return None;
    };
    let name = key.text.trim();
    node.schema.fields.iter().position(|f| &*f.name == name)
}

#[cfg(test)]
mod tests {
    use super::row_kind_counts;

    #[test]
    fn row_kinds_are_counted_in_flinks_order() {
        let rows: Vec<Vec<serde_json::Value>> = ["+I", "-U", "+U", "+I", "-D"]
            .iter()
            .map(|k| vec![serde_json::Value::from(*k), serde_json::Value::from(1)])
            .collect();
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            row_kind_counts(&f(&["op", "n"]), &rows).as_deref(),
            Some("+I 2 · -U 1 · +U 1 · -D 1")
        );
        assert_eq!(row_kind_counts(&f(&["n", "op"]), &rows), None);
    }
}
