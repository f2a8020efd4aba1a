//! Sub-plan reuse: the queries of one scenario are planned together, as Flink's table planner
//! plans the statements of one statement set, and a piece of plan two queries have in common
//! (or the two sides of a self-join) runs once.
//!
//! Flink's rule (`SubplanReuser` in flink-table-planner,
//! `org.apache.flink.table.planner.plan.reuse.SubplanReuser`; option
//! `table.optimizer.reuse-sub-plan-enabled`, default `true`):
//!
//! - two sub-plans are **identical** when their `RelNode` digests are equal: a node's digest
//!   is its own definition (kind and every attribute `EXPLAIN` shows: keys, expressions,
//!   windows…) and its inputs' digests, so a node is identical to another when it is defined
//!   the same and reads identical inputs — the same sub-plan all the way down to the
//!   sources, whichever query it sits in, and whatever the query calls it;
//! - of a group of identical sub-plans, the first one of the first query (Flink's "leftmost
//!   sub-plan in the earlier visited tree") is kept and the others are replaced by it: its
//!   output feeds every consumer;
//! - never reused: a `Sink` (each query keeps its own), a `TableFunctionScan`, and a table
//!   source scan when `table.optimizer.reuse-source-enabled` (default `true`) is off.
//!
//! In streamlab a query's plan is a list of operators, each naming its input(s), built
//! bottom-up; the rule becomes: going through the queries' operators in order, an operator
//! whose definition (every field but its name) equals an earlier operator's — once its inputs
//! are renamed to the operators they were replaced by — is dropped, and whatever read it reads
//! the earlier one. Sinks are not operators here, so they are never reused. A table's scan is
//! its `[[source]]`, one node whatever the number of queries reading it (the default,
//! `reuse-source-enabled = true`). An operator with a side output (`late_output`,
//! `side_output`) names a stream of its own and is not reused.

use crate::scenario::raw::{RawOperator, RawSink};
use crate::scenario::sql::SqlPlan;
use std::collections::BTreeMap;
use toml::Spanned;

/// Drops every SQL-made operator (`operators[sql_from..]`) identical to an earlier SQL-made
/// one and points its readers — operators, sinks — at the one kept; renames the dropped
/// operators in the queries' `plans` too. Gives the renaming, dropped name → kept name.
pub(super) fn reuse_subplans(
    operators: &mut Vec<Spanned<RawOperator>>,
    sql_from: usize,
    sinks: &mut [Spanned<RawSink>],
    plans: &mut [SqlPlan],
) -> BTreeMap<String, String> {
    let mut renamed: BTreeMap<String, String> = BTreeMap::new();
    let sql: Vec<Spanned<RawOperator>> = operators.drain(sql_from.min(operators.len())..).collect();
    let mut kept: Vec<Spanned<RawOperator>> = Vec::with_capacity(sql.len());
    for mut op in sql {
        rename_inputs(op.get_mut(), &renamed);
        let same = if reusable(op.get_ref()) {
            kept.iter()
                .find(|k| reusable(k.get_ref()) && same_definition(k.get_ref(), op.get_mut()))
        } else {
            None
        };
        match same {
            Some(k) => {
                renamed.insert(
                    op.get_ref().name.get_ref().clone(),
                    k.get_ref().name.get_ref().clone(),
                );
            }
            None => kept.push(op),
        }
    }
    operators.extend(kept);
    if renamed.is_empty() {
        return renamed;
    }
    for op in operators.iter_mut() {
        rename_inputs(op.get_mut(), &renamed);
    }
    for sink in sinks.iter_mut() {
        let input = &mut sink.get_mut().input;
        if let Some(to) = renamed.get(input.get_ref()) {
            *input.get_mut() = to.clone();
        }
    }
    for plan in plans.iter_mut() {
        for node in &mut plan.nodes {
            for o in &mut node.operators {
                *o = rename_in_plan(o, &renamed);
            }
        }
    }
    renamed
}

/// Whether the operator may be replaced by, or replace, an identical one: not when it has a
/// side output, a stream named after it that readers name.
fn reusable(op: &RawOperator) -> bool {
    op.late_output.is_none() && op.side_output.is_none()
}

/// Whether `a` and `b` are defined the same: every field equal but the name (positions in the
/// file are not compared).
fn same_definition(a: &RawOperator, b: &mut RawOperator) -> bool {
    let own = std::mem::replace(&mut b.name, a.name.clone());
    let same = *a == *b;
    b.name = own;
    same
}

/// Points the operator's `input` / `inputs` at the operators the dropped ones were replaced by.
fn rename_inputs(op: &mut RawOperator, renamed: &BTreeMap<String, String>) {
    let rename = |s: &mut Spanned<String>| {
        if let Some(to) = renamed.get(s.get_ref()) {
            *s.get_mut() = to.clone();
        }
    };
    if let Some(i) = &mut op.input {
        rename(i);
    }
    if let Some(is) = &mut op.inputs {
        is.get_mut().iter_mut().for_each(rename);
    }
}

/// A plan line's operator (`map q.calc`, `source t: timestamp = …`) with its name renamed.
fn rename_in_plan(o: &str, renamed: &BTreeMap<String, String>) -> String {
    let Some((kind, rest)) = o.split_once(' ') else {
        return o.to_string();
    };
    let (name, tail) = match rest.split_once(": ") {
        Some((n, t)) => (n, format!(": {t}")),
        None => (rest, String::new()),
    };
    match renamed.get(name) {
        Some(to) => format!("{kind} {to}{tail}"),
        None => o.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::check::testing::parsed;

    const CLICKS: &str = "[[source]]\nname = \"clicks\"\nkind = \"inline\"\nevents = [{ k = \"a\", n = 1, ts = 1000 }, { k = \"b\", n = 4, ts = 2000 }]\n";

    fn scenario(queries: &[(&str, &str)]) -> String {
        let mut s = CLICKS.to_string();
        for (name, sql) in queries {
            s.push_str(&format!("[[query]]\nname = \"{name}\"\nsql = \"{sql}\"\n"));
        }
        s
    }

    /// Every node of a valid scenario and what it reads: `name <- input, input`.
    fn graph(text: &str) -> Vec<String> {
        let s = parsed(text).unwrap_or_else(|e| panic!("{e}"));
        s.nodes
            .iter()
            .map(|n| {
                let ins: Vec<&str> = n
                    .inputs
                    .iter()
                    .map(|i| s.nodes[i.node].name.as_str())
                    .collect();
                format!("{} <- {}", n.name, ins.join(", "))
            })
            .collect()
    }

    #[test]
    fn a_group_by_two_queries_share_runs_once_and_feeds_both() {
        let text = scenario(&[
            (
                "histogram",
                "SELECT c, COUNT(*) AS players FROM (SELECT k, COUNT(*) AS c FROM clicks GROUP BY k) GROUP BY c",
            ),
            (
                "busy",
                "SELECT k, COUNT(*) AS c FROM clicks GROUP BY k HAVING COUNT(*) >= 2",
            ),
        ]);
        let g = graph(&text);
        // histogram's inner GROUP BY is kept (the first query's), busy reads it.
        assert!(
            g.contains(&"histogram.in.key_by <- histogram.in.pre".to_string()),
            "{g:#?}"
        );
        assert!(
            g.contains(&"busy.having <- histogram.in.calc".to_string()),
            "{g:#?}"
        );
        assert!(g.iter().all(|n| !n.starts_with("busy.reduce")), "{g:#?}");
        assert!(g.iter().all(|n| !n.starts_with("busy.key_by")), "{g:#?}");
        assert!(g.contains(&"busy <- busy.having".to_string()), "{g:#?}");
        assert!(
            g.contains(&"histogram <- histogram.calc".to_string()),
            "{g:#?}"
        );
        // and the plan busy prints names the operators it runs on
        let s = parsed(&text).unwrap();
        let busy = s.sql.iter().find(|q| q.query == "busy").unwrap().render();
        assert!(busy.contains("reduce histogram.in.reduce"), "{busy}");
        assert!(!busy.contains("busy.reduce"), "{busy}");
    }

    #[test]
    fn a_sub_plan_defined_differently_is_not_shared() {
        // Another key, then another aggregate: nothing but the source in common.
        let g = graph(&scenario(&[
            ("a", "SELECT k, COUNT(*) AS c FROM clicks GROUP BY k"),
            ("b", "SELECT n, COUNT(*) AS c FROM clicks GROUP BY n"),
            ("c", "SELECT k, SUM(n) AS c FROM clicks GROUP BY k"),
        ]));
        for q in ["a", "b", "c"] {
            assert!(
                g.iter().any(|n| n.starts_with(&format!("{q}.reduce <- "))),
                "{g:#?}"
            );
        }
    }

    #[test]
    fn the_same_query_twice_keeps_two_sinks() {
        // Flink never reuses a sink: each query writes its own, from the one shared plan.
        let g = graph(&scenario(&[
            ("a", "SELECT k, n FROM clicks WHERE n > 2"),
            ("b", "SELECT k, n FROM clicks WHERE n > 2"),
        ]));
        assert!(g.contains(&"a <- a.calc".to_string()), "{g:#?}");
        assert!(g.contains(&"b <- a.calc".to_string()), "{g:#?}");
        assert!(g.iter().all(|n| !n.starts_with("b.")), "{g:#?}");
    }
}
