//! "What happened to this record?" — one input record's way through the job.
//!
//! The record is found by its offset: the run marks record `N` of the source partition
//! (`RunOptions::follow_record`) with a birth no other record has, which it keeps on its
//! way (`RecMeta::born`) and hands on to what it becomes. The answer
//! follows it over every channel it crossed (from its source subtask, then from each subtask
//! it reached), and at a window operator applies Flink's rules: the windows its timestamp is
//! assigned to, whether they were already late by the watermark on its arrival (last
//! timestamp + allowed lateness ≤ watermark: dropped, or sent to the late-data side output),
//! and the firings that counted it. Sink rows that carry its birth, or a window result it was
//! counted in, are the rows it contributed to.

use super::recorder::{Arrival, Fire, Recording, Watch};
use super::window::{idle_at, row_text, wm_text};
use super::{Answer, ExplainError, Question};
use crate::core::time::{EventTime, SimDuration, SimTime};
use crate::flink::window::{Assigner, Window};
use crate::ops::sink_lineage::{LineageRow, SinkLineage};
use crate::plan::Plan;
use crate::scenario::{NodeKind, Scenario, WindowSpec};
use serde_json::json;

/// How a record travels when no window holds it (the rule of an answer without windows).
pub const TRAVEL_RULE: &str = "a record goes through the operators of its chain one after another within a subtask, and crosses to the next subtask in a network buffer: a keyed exchange sends it to the subtask that owns its key's key group, a forward exchange to the subtask of the same index";

/// The sentence of Flink's rule: windows, lateness.
pub const RULE: &str = "a record is assigned to the windows its timestamp falls in; a window whose last timestamp plus the allowed lateness is at or below the operator's watermark is late, and a record only for late windows is dropped (or sent to the late-data side output)";

/// How many sink rows an answer names in words.
const MAX_ROWS_IN_WORDS: usize = 6;

/// Answers a [`Question::Record`].
pub fn answer(
    s: &Scenario,
    p: &Plan,
    seed: Option<u64>,
    q: &Question,
) -> Result<Answer, ExplainError> {
    let Question::Record {
        source,
        partition,
        n,
    } = q
    else {
        return Err(ExplainError::Unknown("not a record question".into()));
    };
    let (node, parallelism) = source_node(s, p, source)?;
    let partition = source_partition(source, *partition, parallelism, *n)?;
    let question = format!("What happened to record {n} of partition {partition} of `{source}`?");
    // First run: the record's way, and the window operator it reached.
    let log = SinkLineage::default();
    let (_, rec) = super::rerun(
        s,
        p,
        seed,
        Recording::follow(node, partition, *n, None, log.clone()),
    )?;
    let (Some((src_task, born)), Some(&(created, _))) = (rec.follow, rec.reads.first()) else {
        return Err(never_emitted(source, partition, *n));
    };
    let window_hop = window_hop(&rec);
    // Second run, when it reached a window operator: that key's firings and late records.
    let mut windowing = None;
    if let Some((hop, head, Some(kf))) = &window_hop
        && let Some(spec) = window_spec(s, p, *head)
    {
        let (ws, key, watch) = window_watch(spec, hop, *head, *kf);
        let follow = Recording::follow(node, partition, *n, Some(watch), SinkLineage::default());
        let (_, rec) = super::rerun(s, p, seed, follow)?;
        windowing = Some(Windowing { spec, ws, key, rec });
    }
    let rows = std::mem::take(&mut *log.lock().unwrap_or_else(|e| e.into_inner()));
    let label = |t: u32| rec.tasks.get(t as usize).map_or("?", |x| x.label.as_str());
    let mut evidence = Vec::new();
    let first_row = rec.hops.first().map(|h| h.row.clone());
    evidence.push(created_text(&rec.reads, label(src_task), rec.hops.first()));
    let (window_at, late) = window_position(&rec, window_hop.as_ref(), windowing.as_ref());
    let window_at = window_at.map(|w| (w, late));
    hop_evidence(&rec, first_row.as_ref(), window_at, &label, &mut evidence);
    if rec.hops.is_empty() {
        let in_a_sink = rows.iter().any(|r| r.born == born);
        evidence.push(stayed_in_chain_text(label(src_task), in_a_sink));
    }
    let mut reached: Vec<u32> = rec
        .hops
        .iter()
        .map(|h| rec.channels[h.channel as usize].to)
        .collect();
    reached.sort_unstable();
    reached.dedup();
    let mut headline = format!(
        "Record {n} of partition {partition} of `{source}` reached {} subtask(s) after its source.",
        reached.len()
    );
    let mut data_window = serde_json::Value::Null;
    let mut contributed: Vec<&LineageRow> = rows.iter().filter(|r| r.born == born).collect();
    if let (Some((hop, _, _)), Some(w)) = (&window_hop, &windowing) {
        let to = rec.channels[hop.channel as usize].to;
        let wm = watermark_on_arrival(&w.rec, to, hop);
        let (text, fate, results) = window_fate(w, hop, to, wm, &label);
        headline = text;
        evidence.extend(fate);
        for r in rows.iter() {
            if results.contains(&r.row) && !contributed.contains(&r) {
                contributed.push(r);
            }
        }
        data_window = w.json(hop, to, wm, label(to));
    }
    contributed.sort_by_key(|r| r.visible);
    let sink_name = |node: usize| sink_name(p, node);
    sink_row_evidence(&contributed, &sink_name, &mut evidence);
    // The window rule only where the record met a window; else how records travel.
    let mut rules = vec![match &windowing {
        Some(_) => RULE.to_string(),
        None => TRAVEL_RULE.to_string(),
    }];
    if rec.reads.len() > 1 {
        headline.push_str(&format!(
            " A restore made its source read it {} time(s) more: it was replayed.",
            rec.reads.len() - 1
        ));
        rules.push(super::sink::RULE.to_string());
    }
    Ok(Answer {
        question,
        headline,
        rules,
        evidence,
        change: None,
        data: json!({
            "source": source,
            "partition": partition,
            "position": n,
            "born_ms": created.as_millis_f64(),
            "replayed_at_ms": rec.reads[1..].iter().map(|r| r.1.as_millis_f64()).collect::<Vec<_>>(),
            "row": first_row,
            "hops": hops_json(&rec, &label),
            "window": data_window,
            "sink_rows": sink_rows_json(&contributed, &sink_name),
        }),
    })
}

/// What the second run found at the window operator the record reached.
struct Windowing<'s> {
    spec: &'s WindowSpec,
    /// The windows the record's timestamp is assigned to.
    ws: Vec<Window>,
    /// The record's key, as the user types it.
    key: String,
    /// The second run's recording, watching that key and those windows.
    rec: Recording,
}

impl Windowing<'_> {
    /// Whether window `w` was late for a record arriving at watermark `wm`: its last
    /// timestamp plus the allowed lateness is at or below the watermark (never under
    /// processing time).
    fn late(&self, w: &Window, wm: EventTime) -> bool {
        !self.spec.processing_time && w.cleanup_time(self.spec.allowed_lateness) <= wm
    }

    /// Whether the record was late for every window it is assigned to (and had one).
    fn all_late(&self, wm: EventTime) -> bool {
        !self.spec.processing_time
            && !self.ws.is_empty()
            && self
                .ws
                .iter()
                .all(|w| w.cleanup_time(self.spec.allowed_lateness) <= wm)
    }

    /// The window part of the `--json` answer: the record at subtask `to` (`subtask`), the
    /// watermark on arrival, and per window whether it was late and when it fired.
    fn json(&self, hop: &Arrival, to: u32, wm: EventTime, subtask: &str) -> serde_json::Value {
        json!({
            "operator_subtask": subtask,
            "key": self.key,
            "timestamp": hop.meta.ts,
            "watermark_on_arrival": wm,
            "windows": self.ws.iter().map(|w| json!({
                "start": w.start,
                "end": w.end,
                "late": self.late(w, wm),
                "fired_at_ms": self.rec.fires.iter().filter(|f| f.start == w.start && f.task == to).map(|f| f.at.as_millis_f64()).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }
}

/// The source partition (split) asked for: `partition`, or the only one; an error when it
/// does not exist, or when the source has several and none was named.
fn source_partition(
    source: &str,
    partition: Option<u32>,
    parallelism: u32,
    n: u64,
) -> Result<u32, ExplainError> {
    match (partition, parallelism) {
        (Some(x), par) if x < par => Ok(x),
        (Some(x), par) => Err(ExplainError::Unknown(format!(
            "source `{source}` has {par} partition(s) (0..={}); there is no partition {x}",
            par - 1
        ))),
        (None, 1) => Ok(0),
        (None, par) => Err(ExplainError::Unknown(format!(
            "source `{source}` has {par} partitions: ask for one, `--record {source}:PARTITION:{n}`"
        ))),
    }
}

/// The first channel on which the record reached a window operator: the arrival, the
/// operator (the head of the receiving subtask's chain) and the field its key is read from.
fn window_hop(rec: &Recording) -> Option<(Arrival, usize, Option<usize>)> {
    rec.hops.iter().find_map(|h| {
        let to = rec.channels.get(h.channel as usize)?.to;
        let head = *rec.tasks.get(to as usize)?.nodes.first()?;
        let (_, kf) = rec.window_keys.iter().find(|w| w.0 == head)?;
        Some((h.clone(), head, *kf))
    })
}

/// What to watch at window operator `head` for the record that arrived in `hop`: the windows
/// its timestamp is assigned to, its key (field `kf`, as the user types it), and the watch
/// over that key and the span of those windows.
fn window_watch(
    spec: &WindowSpec,
    hop: &Arrival,
    head: usize,
    kf: usize,
) -> (Vec<Window>, String, Watch) {
    let mut ws = Vec::new();
    spec.assigner
        .assign(hop.meta.ts, gap_of(&spec.assigner), &mut ws);
    let key = key_text(&hop.row[kf]);
    let watch = Watch {
        node: head,
        key: key.clone(),
        from: ws.iter().map(|w| w.start).min().unwrap_or(hop.meta.ts),
        to: ws
            .iter()
            .map(|w| w.end)
            .max()
            .unwrap_or(hop.meta.ts.plus_millis(1)),
    };
    (ws, key, watch)
}

/// The record's creation: when (and when a restore made its source read it again), by which
/// source subtask, and as which row with which timestamp (from its first arrival, when it
/// crossed a channel).
fn created_text(
    reads: &[(SimTime, SimTime)],
    source_subtask: &str,
    first: Option<&Arrival>,
) -> String {
    let again = match reads.get(1..) {
        Some(r) if !r.is_empty() => format!(
            " (and read again after a restore at {})",
            r.iter().map(|b| secs(b.1)).collect::<Vec<_>>().join(", ")
        ),
        _ => String::new(),
    };
    format!(
        "It was created at {}{again} by {}{}.",
        secs(reads[0].0),
        source_subtask,
        match first {
            Some(h) => format!(
                " as {}{}",
                row_text(&h.row),
                if h.meta.ts == crate::core::time::EventTime::MIN {
                    String::new()
                } else {
                    format!(", timestamp {}", h.meta.ts)
                }
            ),
            None => String::new(),
        }
    )
}

/// Where among its hops the record reached the window operator (the first hop into a window
/// operator's subtask), and whether it was late there for every window it is assigned to (by
/// the watermark on its arrival in the first run).
fn window_position(
    rec: &Recording,
    window_hop: Option<&(Arrival, usize, Option<usize>)>,
    windowing: Option<&Windowing>,
) -> (Option<usize>, bool) {
    let window_at = window_hop.and_then(|(w, _, _)| {
        rec.hops
            .iter()
            .position(|h| h.at == w.at && h.channel == w.channel)
    });
    let late_at_window = match (windowing, window_hop) {
        (Some(w), Some((hop, _, _))) => {
            let to = rec.channels[hop.channel as usize].to;
            w.all_late(watermark_on_arrival(rec, to, hop))
        }
        _ => false,
    };
    (window_at, late_at_window)
}

/// One sentence per channel the record (or what it became) crossed, at most
/// `MAX_HOPS_IN_WORDS`: which subtask it reached, as which row when it changed, when, over
/// which channel, and that channel's watermark then. After the window operator (`window_at`:
/// its hop, and whether the record was late there), what travels on with the record's birth
/// is a result it was counted in — or the record itself, through the late-data side output.
fn hop_evidence<'a>(
    rec: &'a Recording,
    first_row: Option<&Vec<serde_json::Value>>,
    window_at: Option<(usize, bool)>,
    label: &dyn Fn(u32) -> &'a str,
    evidence: &mut Vec<String>,
) {
    const MAX_HOPS_IN_WORDS: usize = 8;
    for (i, h) in rec.hops.iter().enumerate() {
        if i == MAX_HOPS_IN_WORDS {
            evidence.push(format!(
                "… and {} arrivals more (all in --json).",
                rec.hops.len() - MAX_HOPS_IN_WORDS
            ));
            break;
        }
        let c = rec.channels[h.channel as usize];
        let as_row = if first_row == Some(&h.row) {
            String::new()
        } else {
            format!(" as {}", row_text(&h.row))
        };
        let what = match window_at {
            Some((w, late)) if i > w && late => "It went on, through the late-data side output, to",
            Some((w, _)) if i > w => "A window result it was counted in reached",
            _ => "It reached",
        };
        evidence.push(format!(
            "{what} {}{as_row} at {} over channel {} → {} (that channel's watermark then: {}).",
            label(c.to),
            secs(h.at),
            label(c.from),
            label(c.to),
            wm_text(h.channel_watermark)
        ));
    }
}

/// A record that never crossed a channel: it stayed in its source's chain; `in_a_sink`:
/// whether a sink row carries it.
fn stayed_in_chain_text(source_subtask: &str, in_a_sink: bool) -> String {
    format!(
        "It never crossed a channel: it stayed in {}'s chain (chained operators hand records on by method call){}.",
        source_subtask,
        if in_a_sink {
            ""
        } else {
            ", and no sink row carries it — a filter may have dropped it, or it went into state"
        }
    )
}

/// The sink rows the record contributed to, for `--json`.
fn sink_rows_json(
    contributed: &[&LineageRow],
    sink_name: &dyn Fn(usize) -> String,
) -> Vec<serde_json::Value> {
    contributed
        .iter()
        .map(|r| {
            json!({
                "sink": sink_name(r.node),
                "subtask": r.subtask,
                "values": r.row,
                "visible_ms": r.visible.as_millis_f64(),
            })
        })
        .collect()
}

/// The name of logical node `node` (a sink).
fn sink_name(p: &Plan, node: usize) -> String {
    p.logical.graph[petgraph::graph::NodeIndex::new(node)]
        .name
        .clone()
}

/// The record's arrivals, for `--json`.
fn hops_json<'a>(rec: &'a Recording, label: &dyn Fn(u32) -> &'a str) -> Vec<serde_json::Value> {
    rec.hops
        .iter()
        .map(|h| {
            let c = rec.channels[h.channel as usize];
            json!({
                "from": label(c.from),
                "to": label(c.to),
                "at_ms": h.at.as_millis_f64(),
                "row": h.row,
                "channel_watermark": h.channel_watermark,
            })
        })
        .collect()
}

/// One sentence per sink row the record contributed to (at most [`MAX_ROWS_IN_WORDS`]).
fn sink_row_evidence(
    contributed: &[&LineageRow],
    sink_name: &dyn Fn(usize) -> String,
    evidence: &mut Vec<String>,
) {
    for r in contributed.iter().take(MAX_ROWS_IN_WORDS) {
        evidence.push(format!(
            "It contributed to {} in sink `{}` (subtask #{}), visible at {}.",
            row_text(&r.row),
            sink_name(r.node),
            r.subtask,
            secs(r.visible)
        ));
    }
    if contributed.len() > MAX_ROWS_IN_WORDS {
        evidence.push(format!(
            "… and {} sink rows more (all in --json).",
            contributed.len() - MAX_ROWS_IN_WORDS
        ));
    }
}

/// What a window operator did with the record: its windows, lateness by the watermark on
/// arrival, the firings that counted it. Returns the headline, the evidence and the results
/// of the firings that counted it.
fn window_fate<'a>(
    win: &Windowing,
    hop: &Arrival,
    to: u32,
    wm: EventTime,
    label: &dyn Fn(u32) -> &'a str,
) -> (String, Vec<String>, Vec<Vec<serde_json::Value>>) {
    let (spec, ws, key) = (win.spec, &win.ws, &win.key);
    let who = label(to);
    let mut ev = Vec::new();
    let wins: Vec<String> = ws
        .iter()
        .map(|w| format!("[{}, {})", w.start, w.end))
        .collect();
    ev.push(format!(
        "At {who} its key is {key}; its timestamp {} falls in window(s) {}. The operator's watermark on its arrival: {} (the minimum over its input channels).",
        hop.meta.ts,
        wins.join(", "),
        wm_text(wm)
    ));
    let late: Vec<bool> = ws.iter().map(|w| win.late(w, wm)).collect();
    if !ws.is_empty() && late.iter().all(|l| *l) {
        let (what, sentence) = late_text(win, hop, to, wm);
        ev.push(sentence);
        return (
            format!("The record was late at {who} and was {what}."),
            ev,
            Vec::new(),
        );
    }
    let mut results = Vec::new();
    let mut counted = Vec::new();
    for (w, is_late) in ws.iter().zip(&late) {
        if *is_late {
            ev.push(format!(
                "Window [{}, {}) was already late for it (last timestamp {} + allowed lateness {} ms ≤ watermark): not counted there.",
                w.start,
                w.end,
                w.max_timestamp(),
                spec.allowed_lateness
            ));
            continue;
        }
        let (sentence, result) = firing_text(&win.rec, w, hop, to);
        ev.push(sentence);
        if let Some(result) = result {
            counted.push(format!("[{}, {})", w.start, w.end));
            results.push(result);
        }
    }
    let headline = if counted.is_empty() {
        format!("The record reached {who} but no window that holds it fired.")
    } else {
        format!(
            "The record was on time at {who} and counted in window(s) {}.",
            counted.join(", ")
        )
    };
    (headline, ev, results)
}

/// A record late for every window it is assigned to: what became of it (sent to the
/// late-data side output, when the second run saw it there, or dropped) and the sentence
/// that shows it late by its first window.
fn late_text(win: &Windowing, hop: &Arrival, to: u32, wm: EventTime) -> (String, String) {
    let spec = win.spec;
    let w = win.ws[0];
    let side = win
        .rec
        .late
        .iter()
        .any(|l| l.task == to && l.ts == hop.meta.ts && l.row == hop.row);
    let what = match (&spec.late_output, side) {
        (Some(name), true) => format!("sent to the late-data side output `{name}`"),
        (Some(name), false) => format!("late (its side output `{name}` did not show it)"),
        (None, _) => "dropped: the operator has no late-data side output".to_string(),
    };
    let sentence = format!(
        "It was late: window [{}, {}) ends at {}, plus allowed lateness {} ms gives {} ≤ watermark {} — {what}.",
        w.start,
        w.end,
        w.max_timestamp(),
        spec.allowed_lateness,
        w.cleanup_time(spec.allowed_lateness),
        wm_text(wm)
    );
    (what, sentence)
}

/// An on-time window `w` of subtask `to` that holds the record: the first firing after the
/// record arrived counted it (a late firing when the window had fired before, within the
/// allowed lateness). Returns the sentence and, when it fired, the result it counted in.
fn firing_text(
    rec: &Recording,
    w: &Window,
    hop: &Arrival,
    to: u32,
) -> (String, Option<Vec<serde_json::Value>>) {
    let fires: Vec<&Fire> = rec
        .fires
        .iter()
        .filter(|f| f.start == w.start && f.task == to)
        .collect();
    let before = fires.iter().filter(|f| f.at < hop.at).count();
    match fires.iter().find(|f| f.at >= hop.at) {
        Some(f) => {
            let how = if before > 0 {
                format!(
                    "a late firing (the window had fired {before} time(s) before it arrived; within the allowed lateness it fires again)"
                )
            } else {
                "its firing".to_string()
            };
            let sentence = format!(
                "It was counted in window [{}, {}): {how} at {}, watermark {}, result {}.",
                w.start,
                w.end,
                secs(f.at),
                wm_text(f.watermark),
                row_text(&f.result)
            );
            (sentence, Some(f.result.clone()))
        }
        None => (
            format!(
                "It went into window [{}, {}), which had not fired again when the run ended.",
                w.start, w.end
            ),
            None,
        ),
    }
}

/// The operator's watermark when the record arrived: the minimum over its input channels,
/// its own channel's as of the record's place in it (a watermark behind it in the same
/// buffer does not count yet), the others' as of just before.
fn watermark_on_arrival(rec: &Recording, task: u32, hop: &Arrival) -> EventTime {
    let before = hop.at.saturating_sub(SimDuration::from_nanos(1));
    rec.inputs_of(task)
        .into_iter()
        .filter(|&c| c != hop.channel && !idle_at(rec, c, before))
        .map(|c| rec.watermark_at(c, before))
        .min()
        .map_or(hop.channel_watermark, |m| m.min(hop.channel_watermark))
}

/// The record was never emitted: the split has fewer records, or the run ended first.
fn never_emitted(source: &str, partition: u32, n: u64) -> ExplainError {
    ExplainError::Unknown(format!(
        "record {n} of partition {partition} of `{source}` was never emitted: the partition has fewer records, or the run ended before its source read that far (records count from 0)"
    ))
}

/// The plan node of source `name` and its parallelism.
fn source_node(s: &Scenario, p: &Plan, name: &str) -> Result<(usize, u32), ExplainError> {
    let g = &p.logical.graph;
    let mut sources = Vec::new();
    for n in g.node_indices() {
        let ln = &g[n];
        if let NodeKind::Source(..) = &s.nodes[ln.scenario_node].kind {
            if ln.name == name {
                return Ok((n.index(), ln.parallelism));
            }
            sources.push(ln.name.clone());
        }
    }
    Err(ExplainError::Unknown(format!(
        "`{name}` is not a source of this job; its sources: {}",
        sources.join(", ")
    )))
}

fn window_spec<'a>(s: &'a Scenario, p: &Plan, node: usize) -> Option<&'a WindowSpec> {
    let ln = &p.logical.graph[petgraph::graph::NodeIndex::new(node)];
    match &s.nodes[ln.scenario_node].kind {
        NodeKind::Window(spec) => Some(spec),
        _ => None,
    }
}

/// The gap a session assigner gives (dynamic gaps are not known here: the static one).
fn gap_of(a: &Assigner) -> i64 {
    match a {
        Assigner::Session { gap, .. } => *gap,
        _ => 0,
    }
}

/// A key as the user types it: a string without quotes, anything else as printed.
fn key_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn secs(t: SimTime) -> String {
    format!("{:.3} s", t.as_secs_f64())
}
