//! The comparison of a run with faults against the same run without them (the reference
//! run, same seed).
//!
//! Exactly-once is a promise about state and output consistency: every record affects the
//! state once, and what a sink makes visible is what a run without failures would have made
//! visible. It is not a promise that a replay takes the same decisions that depend on *when*
//! or *in which order* records arrived. So a sink is compared in one of three ways:
//!
//! - **rows**: the multiset of visible rows must equal the reference's; extra rows are
//!   duplicates, absent ones missing. (An upsert sink's rows are its final table.)
//! - **final value per key**: a rolling reduce that reads more than one subtask emits
//!   intermediate values that depend on the interleaving of its input channels, which a replay
//!   changes; its final value per key does not. The sink's changelog is compared by the last row
//!   per key.
//! - **not row by row**: processing-time windows (which records share a window depends on
//!   when they arrive), event-time operators where lateness was judged (after a restore the
//!   operators' watermarks start again from the sources — Flink does not checkpoint them,
//!   FLINK-5601 — so a record late before the failure can be on time after it), and state
//!   under at-least-once checkpoints (no barrier alignment: a restored state can count records
//!   twice). The rows that differ are counted and explained, never called duplicates or
//!   missing.

use crate::ops::sink_txn::Ledger;
use crate::report::{RunReport, SinkReport, Status};
use crate::scenario::changelog::{final_key_column, order_dependent, senders};
use crate::scenario::{CheckpointMode, Guarantee, NodeKind, Scenario, SinkSpec};
use crate::sim::RunOutput;

/// How a sink is compared with the reference run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// Row by row: duplicates and missing rows.
    Rows,
    /// By the final row per key; the text says why.
    FinalPerKey(String),
    /// Not row by row; the text says why, and the second what the results depend on.
    NotRowByRow(String, &'static str),
}

/// The name a basis has in the report.
pub fn basis_name(b: &Basis) -> &'static str {
    match b {
        Basis::Rows => "rows",
        Basis::FinalPerKey(_) => "final value per key",
        Basis::NotRowByRow(..) => "not row by row",
    }
}

/// How sink `sink` is compared; `late(name)` says whether operator `name` judged any record
/// late (dropped, side output or late firing) in either run.
pub fn basis(s: &Scenario, sink: usize, late: &dyn Fn(&str) -> bool) -> Basis {
    let upsert = matches!(
        s.nodes[sink].kind,
        NodeKind::Sink(SinkSpec::Upsert { .. }, _)
    );
    let at_least_once_cp = s
        .fault_tolerance
        .checkpointing
        .as_ref()
        .is_some_and(|c| c.mode == CheckpointMode::AtLeastOnce);
    let mut seen = vec![false; s.nodes.len()];
    let mut stack = vec![sink];
    let mut not_row: Option<(String, &'static str)> = None;
    let mut rolling: Option<String> = None;
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        let n = &s.nodes[i];
        stack.extend(n.inputs.iter().map(|x| x.node));
        let why = match &n.kind {
            NodeKind::Window(w) if w.processing_time => Some((
                format!(
                    "it reads the processing-time window `{}`: which records share a window depends on when they arrive, and a restart changes that",
                    n.name
                ),
                "processing time",
            )),
            NodeKind::SideOutput { of } => Some((lateness(&s.nodes[*of].name), LATENESS)),
            NodeKind::Window(_) | NodeKind::Join(_) if late(&n.name) => {
                Some((lateness(&n.name), LATENESS))
            }
            NodeKind::Window(_)
            | NodeKind::Join(_)
            | NodeKind::Reduce { .. }
            | NodeKind::Process(_)
                if at_least_once_cp && senders(s, i) > 1 =>
            {
                Some((
                    format!(
                        "checkpoints are at-least-once (no barrier alignment): after a restore the state of `{}` can count records twice, so its results can differ",
                        n.name
                    ),
                    "which replayed records a restored state counted twice",
                ))
            }
            NodeKind::Reduce { .. } if order_dependent(n) && senders(s, i) > 1 && !upsert => {
                rolling.get_or_insert_with(|| {
                    format!(
                        "it reads the rolling reduce `{}`, which reads {} subtasks: its intermediate values depend on the order in which their records interleave, which a replay changes; its final value per key does not",
                        n.name,
                        senders(s, i)
                    )
                });
                None
            }
            _ => None,
        };
        if let Some(w) = why {
            not_row.get_or_insert(w);
        }
    }
    match (not_row, rolling) {
        (Some((w, on)), _) => Basis::NotRowByRow(w, on),
        (None, Some(w)) if final_key_column(s, sink).is_some() => Basis::FinalPerKey(w),
        (None, Some(w)) => Basis::NotRowByRow(w, "the order in which records arrived"),
        (None, None) => Basis::Rows,
    }
}

/// The reference run's scenario: `s` without faults, savepoints or rescale, recording what
/// its sinks make visible.
pub fn scenario(s: &Scenario) -> Scenario {
    let mut reference = s.clone();
    reference.fault_tolerance.faults.clear();
    reference.fault_tolerance.savepoints.clear();
    reference.fault_tolerance.rescale = None;
    reference.fault_tolerance.record_output = true;
    // The reference is what exactly-once promises: no transaction aborted by a broker's
    // timeout either, so rows lost that way count as missing.
    for n in &mut reference.nodes {
        if let NodeKind::Sink(_, Guarantee::ExactlyOnce(t)) = &mut n.kind {
            t.timeout = None;
        }
    }
    reference
}

fn rows(n: u64) -> String {
    if n == 1 {
        "1 row".into()
    } else {
        format!("{n} rows")
    }
}

/// What a result judged against a watermark depends on.
const LATENESS: &str = "when lateness was judged";

fn lateness(op: &str) -> String {
    format!(
        "its rows depend on when lateness was judged in `{op}`: after a restore the operators' watermarks start again from the sources (Flink does not checkpoint them, FLINK-5601), so a record that was late before the failure can be on time after it, and a late firing can happen or not"
    )
}

/// Whether operator `name` judged a record late in `r`.
fn judged_late(r: &RunReport, name: &str) -> bool {
    r.operators
        .iter()
        .filter(|o| o.name == name)
        .filter_map(|o| o.windows.as_ref())
        .any(|w| w.late_dropped + w.late_side_output + w.late_firings > 0)
}

/// Fills in each sink's comparison with the reference run.
pub fn compare(
    report: &mut RunReport,
    s: &Scenario,
    visible: &[(String, Ledger)],
    reference: &RunOutput,
) {
    let status = report.outcome.status.clone();
    let judged: Vec<String> = report
        .operators
        .iter()
        .map(|o| o.name.clone())
        .filter(|n| judged_late(report, n) || judged_late(&reference.report, n))
        .collect();
    let late = |name: &str| judged.iter().any(|n| n == name);
    for sink in &mut report.sinks {
        let mine = visible.iter().find(|(n, _)| *n == sink.name);
        let theirs = reference.visible.iter().find(|(n, _)| *n == sink.name);
        let Some(idx) = s.nodes.iter().position(|n| n.name == sink.name) else {
            continue;
        };
        if let (Some((_, a)), Some((_, b))) = (mine, theirs) {
            // A job that did not finish keeps no guarantee: what it never produced is missing.
            let basis = match status {
                Status::Finished => basis(s, idx, &late),
                _ => Basis::Rows,
            };
            compare_sink(sink, &basis, a, b, &status);
        }
    }
}

/// One sink's comparison on `basis`.
pub fn compare_sink(sink: &mut SinkReport, basis: &Basis, a: &Ledger, b: &Ledger, st: &Status) {
    sink.compared_by = Some(basis_name(basis).into());
    let unfinished = match st {
        Status::Finished => "",
        _ => {
            " The job did not finish, so what the fault-free run produced after it stopped is absent."
        }
    };
    match basis {
        Basis::Rows => {
            let (d, m) = a.compare(b);
            sink.duplicates = Some(d);
            sink.missing = Some(m);
            if m > 0 && !unfinished.is_empty() {
                sink.comparison_note = Some(unfinished.trim_start().into());
            }
        }
        Basis::FinalPerKey(why) => {
            let (keys, differ) = a.compare_final(b);
            sink.differing = Some(differ);
            let verdict = if differ == 0 {
                format!(
                    "All {keys} keys end with the same value as in the fault-free run: the guarantee held"
                )
            } else {
                format!(
                    "{differ} of {keys} keys end with a different value than in the fault-free run"
                )
            };
            sink.comparison_note = Some(format!(
                "compared by final value per key: {why}. {verdict}.{unfinished}"
            ));
        }
        Basis::NotRowByRow(why, on) => {
            let (extra, absent) = a.compare(b);
            if extra + absent == 0 {
                // The same rows after all: say so plainly.
                compare_sink(sink, &Basis::Rows, a, b, st);
                return;
            }
            sink.differing = Some(extra + absent);
            sink.comparison_note = Some(format!(
                "not compared row by row: {why}. {} here that the fault-free run does not have, {} of the fault-free run's not here: results that depend on {on} are not duplicates or losses of the sink's guarantee.{unfinished}",
                rows(extra),
                rows(absent)
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::time::SimTime;
    use crate::core::value::{Interner, Value};

    fn ledger(key: Option<usize>, rows: &[(i64, i64, u64)]) -> Ledger {
        let i = Interner::new();
        let mut l = Ledger {
            key,
            ..Default::default()
        };
        for &(k, v, t) in rows {
            l.add_rows_at(&[Value::Int(k), Value::Int(v)], 2, 1, &i, |_| {
                SimTime::from_nanos(t)
            });
        }
        l
    }

    #[test]
    fn a_replayed_rolling_sum_differs_row_by_row_but_not_in_its_final_values() {
        // key 1 gets +5 (subtask a) and +7 (subtask b); the replay interleaves them the other
        // way: the intermediate 5 becomes 7.
        let reference = ledger(Some(0), &[(1, 5, 1), (1, 12, 2)]);
        let replayed = ledger(Some(0), &[(1, 5, 1), (1, 7, 3), (1, 12, 4)]);
        assert_eq!(
            replayed.compare(&reference),
            (1, 0),
            "row by row: a 'duplicate'"
        );
        assert_eq!(replayed.compare_final(&reference), (1, 0));
        let wrong = ledger(Some(0), &[(1, 5, 1), (1, 17, 2)]);
        assert_eq!(wrong.compare_final(&reference), (1, 1));
    }

    #[test]
    fn no_sink_whose_guarantee_held_is_reported_with_duplicates_or_missing() {
        let reference = ledger(Some(0), &[(1, 5, 1), (1, 12, 2)]);
        let replayed = ledger(Some(0), &[(1, 7, 3), (1, 12, 4)]);
        let mut sink = crate::report::SinkReport::default();
        compare_sink(
            &mut sink,
            &Basis::FinalPerKey("rolling".into()),
            &replayed,
            &reference,
            &Status::Finished,
        );
        assert_eq!((sink.duplicates, sink.missing), (None, None));
        assert_eq!(sink.differing, Some(0));
        assert!(sink.comparison_note.unwrap().contains("the guarantee held"));
        let mut sink = crate::report::SinkReport::default();
        compare_sink(
            &mut sink,
            &Basis::NotRowByRow("lateness".into(), LATENESS),
            &replayed,
            &reference,
            &Status::Finished,
        );
        assert_eq!((sink.duplicates, sink.missing), (None, None));
        assert_eq!(sink.differing, Some(2));
        assert!(sink.comparison_note.unwrap().contains(
            "results that depend on when lateness was judged are not duplicates or losses of the sink's guarantee"
        ));
    }
}
