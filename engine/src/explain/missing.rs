//! "Which rows of this sink are missing — and why?"
//!
//! Missing is measured as `streamlab run` measures it: against the fault-free run of the same
//! scenario and seed (`oracle::reference`), content by content. A row the fault-free run made
//! visible `r` times and this run `m < r` times is missing `r − m` times; the copies named
//! missing are the fault-free run's last `r − m` (the earlier ones are taken as the ones that
//! did appear).
//!
//! Flink's rule: while a job restarts nothing is lost — the restore rewinds every source to the
//! offsets of the latest completed checkpoint and the records after them are read again. A job
//! that fails for good (no checkpointing, so Flink's `NoRestartBackoffTimeStrategy`; or a
//! restart strategy that gave up) stops: whatever the fault-free run made visible after that
//! never appears. A run stopped at a `[limits]` bound ends the same way.

use super::recorder::Recording;
use super::sink::{is_two_phase, origin, secs, sink_node};
use super::window::row_text;
use super::{Answer, ExplainError};
use crate::core::time::SimTime;
use crate::ops::sink_lineage::{LineageRow, SinkLineage};
use crate::oracle::reference;
use crate::plan::Plan;
use crate::report::{RunReport, Status};
use crate::scenario::Scenario;
use serde_json::json;
use std::collections::BTreeMap;

/// The sentence of Flink's rule.
pub const RULE: &str = "a restart loses nothing — the sources rewind to the latest completed checkpoint and read the rest again — but a job that fails for good (no restart strategy, or one that gave up) stops, so what it would have made visible afterwards never appears";

/// How many missing rows an answer lists in words (all of them in `--json`).
const MAX_ROWS_IN_WORDS: usize = 12;

/// Answers [`super::Question::SinkMissing`]: the rows of sink `sink` that the fault-free run
/// made visible and this run did not, each with why.
pub fn answer(
    s: &Scenario,
    p: &Plan,
    seed: Option<u64>,
    sink: &str,
) -> Result<Answer, ExplainError> {
    let node = sink_node(s, p, sink)?;
    let log = SinkLineage::default();
    let (mut out, rec) = super::rerun_output(s, p, seed, Recording::lineage(log.clone()))?;
    let reference_log = SinkLineage::default();
    let (base, _) = super::rerun_output(
        &reference::scenario(s),
        p,
        seed,
        Recording::lineage(reference_log.clone()),
    )?;
    // The report's own comparison, as `streamlab run` makes it (after a rescale the job that
    // ran last is the resubmitted one).
    let last = match (&p.rescaled, out.resubmitted) {
        (Some(r), true) => &r.scenario,
        _ => s,
    };
    reference::compare(&mut out.report, last, &out.visible, &base);
    let mine = rows_of(&log, node);
    let theirs = rows_of(&reference_log, node);
    let missing = missing_rows(&mine, &theirs);
    let cx = Cx {
        rec: &rec,
        report: &out.report,
        stop: stop_of(&out.report),
    };
    let stories: Vec<Story> = missing.iter().map(|&i| cx.story(&theirs[i])).collect();
    let counted = out
        .report
        .sinks
        .iter()
        .find(|x| x.name == sink)
        .and_then(|x| x.compared_by.clone().map(|b| (b, x.missing)));
    let mut evidence = vec![format!(
        "Sink `{sink}` made {} rows visible in this run and {} in the fault-free run of the same scenario and seed.",
        mine.len(),
        theirs.len()
    )];
    evidence.extend(basis_note(&counted, missing.len()));
    if !stories.is_empty() {
        evidence.push("Each row below is traced to its latest record: for a window result, its newest input or the record whose watermark fired the window.".into());
    }
    for st in stories.iter().take(MAX_ROWS_IN_WORDS) {
        evidence.push(st.text.clone());
    }
    if stories.len() > MAX_ROWS_IN_WORDS {
        evidence.push(format!(
            "… and {} rows more (all of them in --json).",
            stories.len() - MAX_ROWS_IN_WORDS
        ));
    }
    let after_stop = stories.iter().filter(|x| x.after_stop).count();
    Ok(Answer {
        question: format!("Which rows of sink `{sink}` are missing, and why?"),
        headline: cx.headline(sink, stories.len(), after_stop),
        rules: vec![RULE.to_string()],
        evidence,
        change: cx.change(s, stories.len()),
        data: json!({
            "sink": sink,
            "guarantee": if is_two_phase(s, sink) { "exactly_once" } else { "at_least_once" },
            "rows_visible": mine.len(),
            "rows_visible_without_faults": theirs.len(),
            "compared_by": counted.as_ref().map(|c| c.0.clone()),
            "missing_in_report": counted.as_ref().and_then(|c| c.1),
            "stopped": cx.stop.as_ref().map(|st| json!({
                "status": out.report.outcome.status.name(),
                "at_ms": st.at.as_millis_f64(),
                "message": st.message,
            })),
            "missing": stories.iter().map(|x| x.data.clone()).collect::<Vec<_>>(),
        }),
    })
}

/// The rows of sink node `node` in `log`, in the order they became visible.
fn rows_of(log: &SinkLineage, node: usize) -> Vec<LineageRow> {
    let mut rows: Vec<LineageRow> = log
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|r| r.node == node)
        .cloned()
        .collect();
    rows.sort_by_key(|r| r.visible);
    rows
}

/// Indices into `theirs` of the rows missing from `mine`: per content, the fault-free run's
/// last copies beyond the number this run made visible (in order of visibility).
fn missing_rows(mine: &[LineageRow], theirs: &[LineageRow]) -> Vec<usize> {
    let content = |r: &LineageRow| serde_json::to_string(&r.row).unwrap_or_default();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for r in mine {
        *seen.entry(content(r)).or_default() += 1;
    }
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, r) in theirs.iter().enumerate() {
        groups.entry(content(r)).or_default().push(i);
    }
    let mut out: Vec<usize> = groups
        .into_iter()
        .flat_map(|(c, idx)| {
            let have = seen.get(&c).copied().unwrap_or(0);
            idx.into_iter().skip(have)
        })
        .collect();
    out.sort_unstable();
    out
}

/// Where the run stopped before its input was done: when and why.
struct Stop {
    at: SimTime,
    message: String,
    limit: bool,
}

/// The stop of a run that did not finish.
fn stop_of(r: &RunReport) -> Option<Stop> {
    match r.outcome.status {
        Status::Finished => None,
        Status::Failed | Status::LimitReached => Some(Stop {
            at: SimTime::from_nanos(r.outcome.at_ns),
            message: r.outcome.message.clone().unwrap_or_default(),
            limit: r.outcome.status == Status::LimitReached,
        }),
    }
}

/// The count the report's comparison gives, beside this answer's — and what it means when the
/// sink is not compared row by row.
fn basis_note(counted: &Option<(String, Option<u64>)>, found: usize) -> Option<String> {
    match counted {
        None => Some(
            "The scenario has no faults, so the run is its own fault-free run: nothing can be missing."
                .into(),
        ),
        Some((b, Some(m))) if b == "rows" && *m as usize == found => None,
        Some((b, m)) if b == "rows" => Some(format!(
            "The report counts {} missing rows; this answer finds {found} (a difference is a bug worth reporting).",
            m.unwrap_or(0)
        )),
        Some((b, _)) => Some(format!(
            "The report compares this sink by {b}, not row by row: its rows depend on arrival order, processing time or when lateness was judged, so rows listed here can be absent without a record being lost."
        )),
    }
}

struct Cx<'a> {
    rec: &'a Recording,
    report: &'a RunReport,
    stop: Option<Stop>,
}

/// One missing row's answer.
struct Story {
    text: String,
    after_stop: bool,
    data: serde_json::Value,
}

impl Cx<'_> {
    /// Why the fault-free run's row `r` is missing here.
    fn story(&self, r: &LineageRow) -> Story {
        let row = format!(
            "Row {} (sink subtask #{}) became visible at {} in the fault-free run; its latest record was {}.",
            row_text(&r.row),
            r.subtask,
            secs(r.visible),
            origin(self.rec, r.born)
        );
        let (why, after_stop, read) = match &self.stop {
            Some(st) if r.born >= st.at => (
                format!(
                    "This run stopped at {}, before that record was created: it was never read, so the row could not be produced.",
                    secs(st.at)
                ),
                true,
                false,
            ),
            Some(st) => (
                format!(
                    "This run stopped at {}: that record had been created by then, but the row was not yet visible — still in an operator's state (an open window, a pending transaction) or in a network buffer — and the stopped job never finished it.",
                    secs(st.at)
                ),
                true,
                true,
            ),
            None => (
                self.finished_text(r),
                false,
                r.born <= SimTime::from_nanos(self.report.outcome.at_ns),
            ),
        };
        Story {
            text: format!("{row} {why}"),
            after_stop,
            data: json!({
                "values": r.row,
                "subtask": r.subtask,
                "visible_without_faults_ms": r.visible.as_millis_f64(),
                "born_ms": r.born.as_millis_f64(),
                "after_stop": after_stop,
                "record_created_before_stop": read,
            }),
        }
    }

    /// A missing row of a run that finished: the restores before it, if any.
    fn finished_text(&self, r: &LineageRow) -> String {
        let restores: Vec<String> = self
            .rec
            .restores
            .iter()
            .filter(|x| x.at <= r.visible)
            .map(|x| {
                format!(
                    "{} at {}",
                    x.checkpoint
                        .map_or("a restart from the beginning".into(), |c| format!(
                            "the restore of checkpoint {c}"
                        )),
                    secs(x.at)
                )
            })
            .collect();
        if restores.is_empty() {
            "This run finished and no restore came before it: no failure explains it.".into()
        } else {
            format!(
                "This run finished; before the row's time came {}: a replay judged by other watermarks or in another order can give other rows.",
                restores.join(", ")
            )
        }
    }

    fn headline(&self, sink: &str, missing: usize, after_stop: usize) -> String {
        match (&self.stop, missing) {
            (_, 0) => format!(
                "Sink `{sink}` misses no row of the fault-free run{}.",
                match &self.stop {
                    Some(st) => format!(" even though the job stopped at {}", secs(st.at)),
                    None => String::new(),
                }
            ),
            (Some(st), n) if after_stop == n => format!(
                "Sink `{sink}` misses {n} rows of the fault-free run: the job {} at {} ({}) and never made them visible.",
                if st.limit {
                    "stopped at a limit"
                } else {
                    "failed for good"
                },
                secs(st.at),
                st.message
            ),
            (_, n) => format!(
                "Sink `{sink}` misses {n} rows of the fault-free run ({after_stop} of them after the job stopped)."
            ),
        }
    }

    /// The smallest change that keeps the rows: let the job restart (with checkpointing,
    /// Flink's default restart strategy is exponential-delay), or allow more restarts.
    fn change(&self, s: &Scenario, missing: usize) -> Option<String> {
        let st = self.stop.as_ref()?;
        if missing == 0 {
            return None;
        }
        if st.limit {
            return Some("raise the `[limits]` bound the run reached".into());
        }
        let restart = &s.fault_tolerance.restart;
        Some(match (&s.fault_tolerance.checkpointing, restart.explicit) {
            (None, _) => "enable checkpointing (`[checkpointing] interval = \"1 s\"`): with it, Flink's default restart strategy (exponential-delay) restarts the job from the latest completed checkpoint, and the sources re-read what the failure interrupted".into(),
            (Some(_), _) if st.message.contains("NoRestartBackoffTimeStrategy") => "give the job a restart strategy (`[restart] strategy = \"exponential-delay\"` or `\"fixed-delay\"`): the restart restores the latest completed checkpoint and nothing is lost".into(),
            _ => "allow more restarts (`[restart] attempts`, or `max_failures` for failure-rate), or remove the cause of the repeated failures".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(v: i64, t: u64) -> LineageRow {
        LineageRow {
            node: 0,
            subtask: 0,
            visible: SimTime::from_millis(t),
            born: SimTime::from_millis(t),
            ts: None,
            row: vec![json!(v)],
            checkpoint: None,
        }
    }

    #[test]
    fn missing_copies_are_the_fault_free_runs_last_ones_beyond_this_runs_count() {
        let theirs = [row(1, 1), row(2, 2), row(1, 3), row(3, 4), row(1, 5)];
        let mine = [row(1, 9), row(3, 9)];
        // `1` three times there, once here: its 2nd and 3rd copies; `2` never here.
        assert_eq!(missing_rows(&mine, &theirs), vec![1, 2, 4]);
        assert_eq!(missing_rows(&theirs, &theirs), Vec::<usize>::new());
        // More copies here than there are duplicates, not missing rows.
        assert!(missing_rows(&[row(1, 1), row(1, 1)], &[row(1, 1)]).is_empty());
    }
}
