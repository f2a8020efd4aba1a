//! "Where does this sink row come from — and why is it there twice (or only once)?"
//!
//! Flink's rule: after a failure the job restores the latest completed checkpoint and every
//! source rewinds to the offsets stored in it, so the records read between that checkpoint
//! and the failure are read and processed again. An at-least-once sink writes whatever
//! reaches it, so the results of the replayed records appear a second time; a two-phase
//! commit (exactly-once) sink writes into a transaction that becomes visible only when the
//! checkpoint after it completes — the transaction of the first attempt was never committed
//! (the restore aborted it), so only the replay's result appears.

use super::recorder::{Recording, Restore};
use super::window::row_text;
use super::{Answer, ExplainError, Question};
use crate::core::time::SimTime;
use crate::ops::sink_lineage::{LineageRow, SinkLineage};
use crate::plan::Plan;
use crate::report::RunReport;
use crate::scenario::{Guarantee, NodeKind, Scenario};
use serde_json::json;
use std::collections::HashMap;

/// The sentence of Flink's rule.
pub const RULE: &str = "after a failure the job restores the latest completed checkpoint and the sources re-read everything after its offsets: an at-least-once sink shows the results of the re-read records again, a two-phase-commit sink only shows what a completed checkpoint committed";

/// How many rows an answer about a key lists in words (all of them in `--json`).
const MAX_ROWS_IN_WORDS: usize = 12;

/// Answers a [`Question::SinkRow`].
pub fn answer(
    s: &Scenario,
    p: &Plan,
    seed: Option<u64>,
    q: &Question,
) -> Result<Answer, ExplainError> {
    let Question::SinkRow { sink, row, key } = q else {
        return Err(ExplainError::Unknown("not a sink question".into()));
    };
    let node = sink_node(s, p, sink)?;
    let log = SinkLineage::default();
    let recording = Recording::lineage(log.clone());
    let (report, rec) = super::rerun(s, p, seed, recording)?;
    let mut rows: Vec<LineageRow> =
        std::mem::take(&mut *log.lock().unwrap_or_else(|e| e.into_inner()))
            .into_iter()
            .filter(|r| r.node == node)
            .collect();
    rows.sort_by_key(|r| r.visible);
    let two_phase = is_two_phase(s, sink);
    let guarantee = if two_phase {
        "exactly_once"
    } else {
        "at_least_once"
    };
    let cx = Cx {
        rec: &rec,
        report: &report,
        rows: &rows,
        copies: copies(&rows),
        two_phase,
    };
    let chosen = chosen_rows(sink, &rows, *row, key.as_deref())?;
    let question = match (row, key) {
        (Some(n), _) => format!("Where does row {n} of sink `{sink}` come from?"),
        (None, Some(k)) => format!("Where do the rows of key `{k}` in sink `{sink}` come from?"),
        _ => format!("Where do the rows of sink `{sink}` come from?"),
    };
    let stories: Vec<Story> = chosen.iter().map(|&i| cx.story(i)).collect();
    let dups = cx.duplicates();
    let headline = match (stories.as_slice(), key) {
        ([one], None) => one.headline.clone(),
        ([], Some(k)) => format!(
            "Sink `{sink}` made no row with `{k}` visible ({} rows in all).",
            rows.len()
        ),
        (many, _) => format!(
            "Sink `{sink}` made {} rows with `{}` visible; {} of them are duplicates.",
            many.len(),
            key.as_deref().unwrap_or_default(),
            many.iter().filter(|s| s.duplicate_of.is_some()).count()
        ),
    };
    let mut evidence = stories_in_words(&stories);
    evidence.push(dups.summary(sink, cx.two_phase));
    let change = (dups.total > 0 && !cx.two_phase).then(|| {
        "make the sink exactly-once (`guarantee = \"exactly_once\"`: two-phase commit), or make its writes idempotent (an upsert by key), so a replayed result replaces the first one instead of adding a row".to_string()
    });
    Ok(Answer {
        question,
        headline,
        rules: vec![RULE.to_string()],
        evidence,
        change,
        data: json!({
            "sink": sink,
            "guarantee": guarantee,
            "rows_visible": rows.len(),
            "rows": stories.iter().map(|s| s.data.clone()).collect::<Vec<_>>(),
            "duplicates": dups.data,
            "restores": rec.restores.iter().map(|r| restore_json(&rec, r)).collect::<Vec<_>>(),
        }),
    })
}

/// Whether sink `sink` is exactly-once (a two-phase-commit sink).
pub(super) fn is_two_phase(s: &Scenario, sink: &str) -> bool {
    let guarantee = s
        .nodes
        .iter()
        .find(|n| n.name == sink)
        .and_then(|n| match &n.kind {
            NodeKind::Sink(_, g) => Some(*g),
            _ => None,
        });
    guarantee.is_some_and(Guarantee::is_exactly_once)
}

/// The rows asked about, by position among the `rows` the sink made visible: row `row`
/// (an error when there is no such row), or every row with a field matching `key`.
fn chosen_rows(
    sink: &str,
    rows: &[LineageRow],
    row: Option<u64>,
    key: Option<&str>,
) -> Result<Vec<usize>, ExplainError> {
    Ok(match (row, key) {
        (Some(n), _) => {
            if n as usize >= rows.len() {
                return Err(ExplainError::Unknown(format!(
                    "sink `{sink}` made {} rows visible; --row takes 0..={}",
                    rows.len(),
                    rows.len().saturating_sub(1)
                )));
            }
            vec![n as usize]
        }
        (None, Some(k)) => (0..rows.len())
            .filter(|&i| {
                rows[i]
                    .row
                    .iter()
                    .any(|v| super::recorder::key_matches(v, k))
            })
            .collect(),
        (None, None) => Vec::new(),
    })
}

/// The rows' stories in words, at most [`MAX_ROWS_IN_WORDS`]: the duplicates and the rows
/// they repeat first; each with its headline when there are several.
fn stories_in_words(stories: &[Story]) -> Vec<String> {
    let mut evidence = Vec::new();
    let mut in_words: Vec<&Story> = stories.iter().collect();
    in_words.sort_by_key(|s| (s.duplicate_of.is_none(), !s.repeated));
    for st in in_words.into_iter().take(MAX_ROWS_IN_WORDS) {
        if stories.len() > 1 {
            evidence.push(st.headline.clone());
        }
        evidence.extend(st.evidence.iter().cloned());
    }
    if stories.len() > MAX_ROWS_IN_WORDS {
        evidence.push(format!(
            "… and {} rows more (all of them in --json).",
            stories.len() - MAX_ROWS_IN_WORDS
        ));
    }
    evidence
}

/// The plan node of sink `name`.
pub(super) fn sink_node(s: &Scenario, p: &Plan, name: &str) -> Result<usize, ExplainError> {
    let g = &p.logical.graph;
    let mut sinks = Vec::new();
    for n in g.node_indices() {
        let ln = &g[n];
        if let NodeKind::Sink(..) = &s.nodes[ln.scenario_node].kind {
            if ln.name == name {
                return Ok(n.index());
            }
            sinks.push(ln.name.clone());
        }
    }
    Err(ExplainError::Unknown(format!(
        "`{name}` is not a sink of this job; its sinks: {}",
        sinks.join(", ")
    )))
}

/// Per row: the indices of the rows with the same content, in order of visibility.
fn copies(rows: &[LineageRow]) -> Vec<std::rc::Rc<Vec<usize>>> {
    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        groups
            .entry(serde_json::to_string(&r.row).unwrap_or_default())
            .or_default()
            .push(i);
    }
    let empty = std::rc::Rc::new(Vec::new());
    let mut out = vec![empty; rows.len()];
    for g in groups.into_values() {
        let g = std::rc::Rc::new(g);
        for &i in g.iter() {
            out[i] = g.clone();
        }
    }
    out
}

struct Cx<'a> {
    rec: &'a Recording,
    report: &'a RunReport,
    rows: &'a [LineageRow],
    copies: Vec<std::rc::Rc<Vec<usize>>>,
    two_phase: bool,
}

/// One row's answer.
struct Story {
    headline: String,
    /// Whether a later row repeats it.
    repeated: bool,
    evidence: Vec<String>,
    duplicate_of: Option<usize>,
    data: serde_json::Value,
}

/// Where a replayed record sat: which restore re-read it, from which split and offset range.
struct Replay<'a> {
    restore: &'a Restore,
    /// How many replayed splits hold this offset (more than one: the row does not say which).
    splits: usize,
    task: u32,
    split: u32,
    from: u64,
    reached: u64,
    offset: u64,
}

/// Where the record born at `born` came from, in words: which record of which paced source
/// subtask (found by its birth, `N × interval`), or only when it was created.
pub(super) fn origin(rec: &Recording, born: SimTime) -> String {
    let label = |t: u32| rec.tasks.get(t as usize).map_or("?", |x| x.label.as_str());
    let mut paced: Vec<(u32, u64)> = Vec::new();
    for (t, info) in rec.tasks.iter().enumerate() {
        if let Some(k) = info.pace.and_then(|p| p.position_of(born)) {
            paced.push((t as u32, k));
        }
    }
    match paced.as_slice() {
        [] => format!("created at its source at {}", secs(born)),
        [(t, k)] => format!("created at {} as record {k} of {}", secs(born), label(*t)),
        many => format!(
            "created at {} as record {} of one of {} (each paced alike; the row does not say which)",
            secs(born),
            many[0].1,
            many.iter()
                .map(|(t, _)| label(*t))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub(super) fn secs(t: SimTime) -> String {
    format!("{:.3} s", t.as_secs_f64())
}

impl Cx<'_> {
    fn label(&self, t: u32) -> &str {
        self.rec
            .tasks
            .get(t as usize)
            .map_or("?", |x| x.label.as_str())
    }

    /// The restore between `after` (exclusive) and `until` (inclusive) that re-read the
    /// record born at `born`, if any: the latest one whose rewound range holds it.
    fn replay_of(&self, born: SimTime, after: SimTime, until: SimTime) -> Option<Replay<'_>> {
        self.rec
            .restores
            .iter()
            .rev()
            .filter(|r| r.at > after && r.at <= until)
            .find_map(|r| {
                r.replayed.iter().find_map(|(task, so, reached)| {
                    let offset = so.pace?.position_of(born)?;
                    (offset >= so.offset && offset < *reached).then_some(Replay {
                        restore: r,
                        splits: r
                            .replayed
                            .iter()
                            .filter(|(_, x, until)| offset >= x.offset && offset < *until)
                            .count(),
                        task: *task,
                        split: so.split,
                        from: so.offset,
                        reached: *reached,
                        offset,
                    })
                })
            })
    }

    /// The latest restore between `after` (exclusive) and `until` (inclusive).
    fn restore_between(&self, after: SimTime, until: SimTime) -> Option<&Restore> {
        self.rec
            .restores
            .iter()
            .rev()
            .find(|r| r.at > after && r.at <= until)
    }

    /// A duplicate whose own record was not re-read: the restore rewound the operator state
    /// (here: a rolling aggregate) and the replayed records recomputed the same values, in
    /// another interleaving of the partitions.
    fn rewound_text(&self, restore: &Restore, r: &LineageRow) -> String {
        format!(
            "{}; the job restored {} at {}, which rewound the state to that checkpoint and the sources to its offsets ({}). The replayed records recomputed the same results in another interleaving of the partitions, so this value came out again — carried this time by a record read after the replay ({})",
            self.failure_text(restore),
            restore.checkpoint.map_or(
                "no checkpoint (a restart from the beginning)".to_string(),
                |c| { format!("checkpoint {c}") }
            ),
            secs(restore.at),
            self.ranges_text(restore),
            self.origin(r)
        )
    }

    /// Where the record behind a row came from, in words.
    fn origin(&self, r: &LineageRow) -> String {
        origin(self.rec, r.born)
    }

    fn failure_text(&self, restore: &Restore) -> String {
        let at_ms = restore.at.as_secs_f64() * 1000.0;
        self.report
            .failures
            .iter()
            .rev()
            .find(|f| f.at_ms <= at_ms)
            .map_or("a failure".to_string(), |f| {
                format!("{} (at {:.3} s)", f.cause, f.at_ms / 1000.0)
            })
    }

    /// The sources' rewound ranges of a restore, in words.
    fn ranges_text(&self, restore: &Restore) -> String {
        let ranges: Vec<String> = restore
            .replayed
            .iter()
            .filter(|(_, so, reached)| *reached > so.offset)
            .map(|(t, so, reached)| {
                format!(
                    "{} (split {}) from offset {reached} back to {}",
                    self.label(*t),
                    so.split,
                    so.offset
                )
            })
            .collect();
        if ranges.is_empty() {
            "nothing to re-read".into()
        } else {
            ranges.join(", ")
        }
    }

    fn replay_text(&self, rp: &Replay<'_>) -> String {
        format!(
            "{}; the job restored {} at {}, which rewound {}; the records in between were read twice — the record behind this row, offset {}, is one of them",
            self.failure_text(rp.restore),
            rp.restore.checkpoint.map_or(
                "no checkpoint (it restarted from the beginning)".to_string(),
                |c| { format!("checkpoint {c}") }
            ),
            secs(rp.restore.at),
            self.ranges_text(rp.restore),
            rp.offset
        )
    }

    /// When and how row `r` became visible: at the commit of the checkpoint whose transaction
    /// held it (two-phase commit), or when the at-least-once sink received it.
    fn visible_text(&self, r: &LineageRow) -> String {
        if self.two_phase {
            match r.checkpoint {
                Some(c) => format!(
                    "became visible at {} when checkpoint {c} completed and the sink committed the transaction its snapshot had pre-committed",
                    secs(r.visible)
                ),
                None => format!("became visible at {}", secs(r.visible)),
            }
        } else {
            format!(
                "became visible at {}, when the at-least-once sink received it",
                secs(r.visible)
            )
        }
    }

    /// Row `r` repeats row `first` (shown as `shown`): why — its record was replayed after a
    /// restore (a two-phase-commit sink should never show that), or a restore rewound the
    /// state and the replayed records recomputed it, or the job computed it twice. Adds the
    /// evidence; returns the headline and the replay's `--json`.
    fn duplicate_story(
        &self,
        r: &LineageRow,
        first: usize,
        shown: &str,
        evidence: &mut Vec<String>,
    ) -> (String, serde_json::Value) {
        let mut replay_json = serde_json::Value::Null;
        let headline;
        let prev = &self.rows[first];
        match self.replay_of(r.born, prev.visible, r.visible) {
            Some(rp) => {
                headline = format!(
                    "{shown} is a duplicate of row {first}: the record behind it was replayed after the restore of {}.",
                    rp.restore
                        .checkpoint
                        .map_or("the start".into(), |c| format!("checkpoint {c}"))
                );
                evidence.push(format!(
                    "The same row was already visible at {} (row {first}). Then {}.",
                    secs(prev.visible),
                    self.replay_text(&rp)
                ));
                evidence.push(if self.two_phase {
                    "A two-phase-commit sink should not show it twice: this is a bug worth reporting.".to_string()
                } else {
                    "The at-least-once sink had already written the first result to the outside world; it cannot take it back, so the replayed result is written again.".to_string()
                });
                replay_json = replay_json_of(self, &rp);
            }
            None => match self.restore_between(prev.visible, r.visible) {
                Some(restore) => {
                    headline = format!(
                        "{shown} is a duplicate of row {first}: the restore of {} rewound the state and replayed the records that had produced it.",
                        restore
                            .checkpoint
                            .map_or("the start".into(), |c| format!("checkpoint {c}"))
                    );
                    evidence.push(format!(
                        "The same row was already visible at {} (row {first}). Then {}.",
                        secs(prev.visible),
                        self.rewound_text(restore, r)
                    ));
                    replay_json = json!({
                        "restore_ms": restore.at.as_millis_f64(),
                        "restored_checkpoint": restore.checkpoint,
                        "record_replayed": false,
                    });
                }
                None => {
                    headline = format!(
                        "{shown} has the same values as row {first}, and no restore came between them: two results that happen to be equal, not a duplicate (a duplicate needs a replay)."
                    );
                }
            },
        }
        (headline, replay_json)
    }

    fn story(&self, i: usize) -> Story {
        let r = &self.rows[i];
        let group = &self.copies[i];
        let nth = group.iter().position(|&j| j == i).unwrap_or(0);
        let shown = format!(
            "Row {i} {} of sink subtask #{}",
            row_text(&r.row),
            r.subtask
        );
        let mut evidence = Vec::new();
        let visible = self.visible_text(r);
        evidence.push(format!(
            "{shown} {visible}; its record was {}.",
            self.origin(r)
        ));
        let mut duplicate_of = None;
        let mut replay_json = serde_json::Value::Null;
        let headline;
        if nth > 0 {
            let first = group[nth - 1];
            if self.replayed_between(&self.rows[first], r) {
                duplicate_of = Some(group[0]);
            }
            (headline, replay_json) = self.duplicate_story(r, first, &shown, &mut evidence);
        } else if group.len() > 1 {
            let next = group[1];
            headline = format!(
                "{shown} appears again as row {next} at {}{}.",
                secs(self.rows[next].visible),
                if self.replayed_between(r, &self.rows[next]) {
                    ""
                } else {
                    ": an equal result of other input, not a duplicate (no restore came between them)"
                }
            );
            if let Some(rp) = self.replay_of(r.born, r.visible, self.rows[next].visible) {
                evidence.push(format!(
                    "Its record was read again: {}.",
                    self.replay_text(&rp)
                ));
                replay_json = replay_json_of(self, &rp);
            }
        } else {
            // Once: was its record read twice all the same?
            let replayed = self.replay_of(r.born, SimTime::ZERO, r.visible);
            headline = format!("{shown} appears once.");
            if let Some(rp) = replayed {
                evidence.push(format!(
                    "Its record was read twice: {}.",
                    self.replay_text(&rp)
                ));
                evidence.push(if self.two_phase {
                    format!(
                        "The first time, before the failure, the sink wrote the result into a transaction after checkpoint {}: not committed when the failure struck, so the restore aborted it and it never became visible. Only the replay's result was committed — that is why it appears once.",
                        rp.restore.checkpoint.map_or("0".into(), |c| c.to_string())
                    )
                } else {
                    "The first result never reached the sink before the failure, so the replay's is the only one.".to_string()
                });
                replay_json = replay_json_of(self, &rp);
            }
        }
        Story {
            headline,
            repeated: nth + 1 < group.len(),
            evidence,
            duplicate_of,
            data: json!({
                "row": i,
                "values": r.row,
                "subtask": r.subtask,
                "visible_ms": r.visible.as_millis_f64(),
                "born_ms": r.born.as_millis_f64(),
                "committed_with_checkpoint": r.checkpoint,
                "copy": nth,
                "copies": group.len(),
                "duplicate_of": duplicate_of,
                "replayed": replay_json,
            }),
        }
    }

    /// Whether a restore came between the earlier copy `prev` of a row and `r`: only then
    /// is `r` a duplicate — equal rows with no replay between are different results that
    /// happen to be equal (two records with the same values, born in the same batch).
    fn replayed_between(&self, prev: &LineageRow, r: &LineageRow) -> bool {
        self.replay_of(r.born, prev.visible, r.visible).is_some()
            || self.restore_between(prev.visible, r.visible).is_some()
    }

    /// Every duplicate of the sink, attributed to the restore that re-read its record; equal
    /// rows with no restore between are counted apart, as equal results.
    fn duplicates(&self) -> Duplicates {
        let mut per_restore: Vec<(Option<u64>, u64, u64)> = Vec::new();
        let mut equal = Vec::new();
        let mut total = 0;
        for (i, group) in self.copies.iter().enumerate() {
            let Some(nth) = group.iter().position(|&j| j == i) else {
                continue;
            };
            if nth == 0 {
                continue;
            }
            let (prev, r) = (&self.rows[group[nth - 1]], &self.rows[i]);
            let (restore, replayed) = match self.replay_of(r.born, prev.visible, r.visible) {
                Some(rp) => (Some(rp.restore), true),
                None => (self.restore_between(prev.visible, r.visible), false),
            };
            total += u64::from(restore.is_some());
            let Some(restore) = restore else {
                equal.push(i);
                continue;
            };
            let c = restore.checkpoint;
            let at = match per_restore.iter().position(|x| x.0 == c) {
                Some(k) => k,
                None => {
                    per_restore.push((c, 0, 0));
                    per_restore.len() - 1
                }
            };
            if replayed {
                per_restore[at].1 += 1;
            } else {
                per_restore[at].2 += 1;
            }
        }
        Duplicates {
            total,
            per_restore: per_restore.clone(),
            equal: equal.len(),
            data: json!({
                "total": total,
                "by_restored_checkpoint": per_restore.iter().map(|(c, n, m)| json!({"checkpoint": c, "rows": n + m, "record_replayed": n, "state_rewound": m})).collect::<Vec<_>>(),
                "equal_rows_without_restore": equal,
            }),
        }
    }
}

struct Duplicates {
    total: u64,
    /// Per restored checkpoint: duplicates whose record was re-read, and those recomputed
    /// from the rewound state by other records.
    per_restore: Vec<(Option<u64>, u64, u64)>,
    /// Rows equal to an earlier one with no restore between: equal results, not duplicates.
    equal: usize,
    data: serde_json::Value,
}

impl Duplicates {
    fn summary(&self, sink: &str, two_phase: bool) -> String {
        let equal = match self.equal {
            0 => String::new(),
            n => format!(
                " {n} row(s) equal an earlier row with no restore between them: equal results of different records, not duplicates."
            ),
        };
        if self.total == 0 {
            return format!(
                "Sink `{sink}` shows no {}{}.{equal}",
                if self.equal == 0 {
                    "row twice"
                } else {
                    "duplicate"
                },
                if two_phase {
                    " (two-phase commit: only committed transactions are visible)"
                } else {
                    ""
                }
            );
        }
        let parts: Vec<String> = self
            .per_restore
            .iter()
            .map(|(c, n, m)| {
                let what = match c {
                    Some(c) => format!("the restore of checkpoint {c}"),
                    None => "a restart from the beginning".to_string(),
                };
                format!(
                    "{} after {what} ({n} from a re-read record, {m} recomputed from the rewound state by a later record)",
                    n + m
                )
            })
            .collect();
        format!(
            "Sink `{sink}` shows {} rows a second (or further) time: {}.{equal}",
            self.total,
            parts.join(", "),
        )
    }
}

fn replay_json_of(cx: &Cx<'_>, rp: &Replay<'_>) -> serde_json::Value {
    json!({
        "restore_ms": rp.restore.at.as_millis_f64(),
        "restored_checkpoint": rp.restore.checkpoint,
        "source_subtask": cx.label(rp.task),
        "split": rp.split,
        "splits_holding_the_offset": rp.splits,
        "offset": rp.offset,
        "replayed_from": rp.from,
        "replayed_until": rp.reached,
        "record_replayed": true,
    })
}

fn restore_json(rec: &Recording, r: &Restore) -> serde_json::Value {
    json!({
        "at_ms": r.at.as_millis_f64(),
        "checkpoint": r.checkpoint,
        "replayed": r.replayed.iter().map(|(t, so, reached)| json!({
            "source_subtask": rec.tasks.get(*t as usize).map(|x| x.label.clone()),
            "split": so.split,
            "from": so.offset,
            "until": reached,
        })).collect::<Vec<_>>(),
    })
}
