//! "Why did this window fire — or not?"
//!
//! Flink's rule: an event-time window `[start, end)` fires when the watermark of its operator
//! subtask reaches `end − 1` (`EventTimeTrigger`), and that watermark is the minimum over the
//! subtask's input channels, idle channels left out (`StatusWatermarkValve`). So the answer
//! follows the watermark back: which channel was the last to pass `end − 1` (the one the
//! window waited for), which upstream subtask sent it, and how that subtask got its
//! watermark — a source partition, its out-of-orderness bound, or the end of its input. A
//! window that never fired is blocked by the channel whose watermark stayed behind, by a
//! trigger that was not satisfied, or it never existed (no element of the key fell into it).

use super::recorder::{Arrival, Fire, Recording, Watch, WmEvent};
use super::{Answer, ExplainError};
use crate::core::time::{EventTime, SimTime};
use crate::flink::window::Assigner;
use crate::flink::window::trigger::TriggerKind;
use crate::plan::Plan;
use crate::scenario::{NodeKind, Scenario, WindowSpec};
use serde_json::json;

/// The sentence of Flink's rule for event-time windows.
pub const RULE_FIRE: &str = "an event-time window [start, end) fires when its operator's watermark reaches end − 1 (EventTimeTrigger); the watermark of a subtask is the minimum over its input channels, idle channels left out (StatusWatermarkValve)";
/// The sentence of Flink's lateness rule.
pub const RULE_LATE: &str = "an element is late when its window's end − 1 + allowed lateness is at or below the watermark: it is dropped, or sent to the late side output if there is one";

/// Answers "why did (or didn't) window `[start, …)` of `key` in `operator` fire?".
pub fn answer(
    s: &Scenario,
    p: &Plan,
    seed: Option<u64>,
    operator: &str,
    key: &str,
    start: EventTime,
) -> Result<Answer, ExplainError> {
    let (node, spec) = window_operator(s, p, operator)?;
    let size = fixed_size(&spec.assigner);
    let watch = Watch {
        node,
        key: key.to_string(),
        from: start,
        to: match spec.assigner {
            Assigner::Global => EventTime::MAX,
            Assigner::Session { gap, .. } => start.plus_millis(gap),
            _ => start.plus_millis(size.unwrap_or(1)),
        },
    };
    let (_, rec) = super::rerun(s, p, seed, Recording::new(Some(watch)))?;
    let cx = Cx { s, p, rec: &rec };
    let global = matches!(spec.assigner, Assigner::Global);
    let fires: Vec<&Fire> = rec
        .fires
        .iter()
        .filter(|f| global || f.start == start)
        .collect();
    let question = format!(
        "Why did window {} of key {key} in {operator} fire (or not)?",
        window_text(start, size.map(|z| start.plus_millis(z)), global)
    );
    if spec.processing_time {
        return Ok(processing_time(question, &fires));
    }
    Ok(if fires.is_empty() {
        not_fired(&cx, question, spec, key, start, size)
    } else {
        fired(&cx, question, spec, &fires)
    })
}

/// What the answer needs to name things.
struct Cx<'a> {
    s: &'a Scenario,
    p: &'a Plan,
    rec: &'a Recording,
}

fn window_operator<'a>(
    s: &'a Scenario,
    p: &Plan,
    name: &str,
) -> Result<(usize, &'a WindowSpec), ExplainError> {
    let g = &p.logical.graph;
    let mut windows = Vec::new();
    for n in g.node_indices() {
        let ln = &g[n];
        if let NodeKind::Window(spec) = &s.nodes[ln.scenario_node].kind {
            if ln.name == name {
                return Ok((n.index(), spec));
            }
            windows.push(ln.name.clone());
        }
    }
    Err(ExplainError::Unknown(if windows.is_empty() {
        format!("`{name}` is not a window operator, and this job has none")
    } else {
        format!(
            "`{name}` is not a window operator of this job; its window operators: {}",
            windows.join(", ")
        )
    }))
}

fn fixed_size(a: &Assigner) -> Option<i64> {
    match a {
        Assigner::Tumbling { size, .. }
        | Assigner::Sliding { size, .. }
        | Assigner::Cumulative { size, .. } => Some(*size),
        Assigner::Session { .. } | Assigner::Global => None,
    }
}

fn window_text(start: EventTime, end: Option<EventTime>, global: bool) -> String {
    match (global, end) {
        (true, _) => "(the global window)".to_string(),
        (false, Some(e)) => format!("[{start}, {e})"),
        (false, None) => format!("[{start}, …)"),
    }
}

/// An event-time value as the summary prints it.
pub fn wm_text(w: EventTime) -> String {
    match w {
        EventTime::MIN => "−∞".to_string(),
        EventTime::MAX => "+∞ (end of input)".to_string(),
        w => w.to_string(),
    }
}

fn secs(t: SimTime) -> String {
    format!("{:.3} s", t.as_secs_f64())
}

impl Cx<'_> {
    fn task(&self, t: u32) -> &str {
        self.rec
            .tasks
            .get(t as usize)
            .map_or("an earlier subtask", |x| x.label.as_str())
    }

    fn channel(&self, ch: u32) -> String {
        let c = self.rec.channels[ch as usize];
        format!("{} → {}", self.task(c.from), self.task(c.to))
    }

    /// The scenario's source behind a subtask, if the subtask is a source's.
    fn source_of(&self, t: u32) -> Option<(&str, &crate::scenario::SourceSpec, usize)> {
        let info = self.rec.tasks.get(t as usize)?;
        let ln = &self.p.logical.graph[petgraph::graph::NodeIndex::new(*info.nodes.first()?)];
        let n = &self.s.nodes[ln.scenario_node];
        match &n.kind {
            NodeKind::Source(spec) => Some((n.name.as_str(), spec, ln.scenario_node)),
            _ => None,
        }
    }

    /// Which part of its source a source subtask reads.
    fn partition_text(&self, t: u32) -> String {
        let Some((name, spec, node)) = self.source_of(t) else {
            return String::new();
        };
        let info = &self.rec.tasks[t as usize];
        match &spec.data {
            crate::scenario::SourceData::Rows {
                partition: Some(f), ..
            } => {
                let field = &self.s.nodes[node].schema.fields[*f].name;
                let what = if info.has_data {
                    format!("{} rows", info.source_rows.as_ref().map_or(0, Vec::len))
                } else {
                    "no data".to_string()
                };
                format!(
                    "{} reads partition {} of `{name}` (rows whose `{field}` mod the parallelism is {}), which has {what}",
                    info.label, info.subtask, info.subtask
                )
            }
            crate::scenario::SourceData::Rows { .. } => format!(
                "{} reads its round-robin share of `{name}`'s rows ({} rows)",
                info.label,
                info.source_rows.as_ref().map_or(0, Vec::len)
            ),
            _ => format!("{} generates its share of `{name}`'s records", info.label),
        }
    }

    /// How a source subtask makes its watermarks.
    fn strategy_text(&self, t: u32) -> Option<String> {
        let (_, spec, _) = self.source_of(t)?;
        let w = spec.watermarks.as_ref()?;
        let st = &w.strategy;
        let bound = match st.bound_ms {
            Some(0) => "the largest timestamp it has read − 1 ms (monotonous)".to_string(),
            Some(b) => format!(
                "the largest timestamp it has read − {b} ms (the out-of-orderness bound) − 1 ms"
            ),
            None => "none until its input ends (no watermarks)".to_string(),
        };
        let emit = match st.emission {
            crate::flink::watermark::Emission::PerEvent(_) => "after every record".to_string(),
            crate::flink::watermark::Emission::Periodic(Some(d)) if d.as_nanos() > 0 => {
                format!("every {d} of processing time")
            }
            crate::flink::watermark::Emission::Periodic(_) => {
                "only at the end of its input".to_string()
            }
        };
        let idle = st
            .idleness
            .map(|d| format!("; it declares itself idle after {d} without records"))
            .unwrap_or_default();
        Some(format!("its watermark is {bound}, emitted {emit}{idle}"))
    }

    /// Where a record that reached a subtask came from, as a sentence.
    fn origin_text(&self, a: &Arrival) -> String {
        let c = self.rec.channels[a.channel as usize];
        let mut out = format!(
            "on channel {} at {}, timestamp {}",
            self.channel(a.channel),
            secs(a.at),
            wm_text(a.meta.ts)
        );
        if let Some((name, _, _)) = self.source_of(c.from) {
            let info = &self.rec.tasks[c.from as usize];
            let pos = info.pace.and_then(|p| p.position_of(a.meta.born));
            match (pos, &info.source_rows) {
                (Some(k), Some(rows)) if !rows.is_empty() => out.push_str(&format!(
                    "; it is record {k} of {} (row {} of `{name}`'s data, from 0), created at {}",
                    info.label,
                    rows[(k % rows.len() as u64) as usize],
                    secs(a.meta.born)
                )),
                (Some(k), _) => out.push_str(&format!(
                    "; it is record {k} of {}, created at {}",
                    info.label,
                    secs(a.meta.born)
                )),
                (None, _) => out.push_str(&format!(
                    "; {} created it at {}",
                    info.label,
                    secs(a.meta.born)
                )),
            }
        }
        out
    }

    /// How the upstream subtask of channel `ch` came to send watermark `w`.
    fn upstream_text(&self, ch: u32, w: EventTime) -> String {
        let from = self.rec.channels[ch as usize].from;
        if self.source_of(from).is_none() {
            return format!(
                "{} forwards the minimum of its own input channels",
                self.task(from)
            );
        }
        let mut out = self.partition_text(from);
        if let Some(st) = self.strategy_text(from) {
            out.push_str(&format!("; {st}"));
        }
        if w == EventTime::MAX {
            out.push_str("; +∞ is the final watermark a source sends when its input ends");
        }
        out
    }
}

/// When channel `ch`'s watermark first reached `target` at or before `until`, and the
/// watermark then; `None`: it did not.
fn passed(
    rec: &Recording,
    ch: u32,
    target: EventTime,
    until: SimTime,
) -> Option<(SimTime, EventTime)> {
    let mut last = None;
    for &(at, e) in &rec.history[ch as usize] {
        if at > until {
            break;
        }
        match e {
            WmEvent::Watermark(w) if w >= target && last.is_none() => last = Some((at, w)),
            WmEvent::Rebuilt => last = None,
            _ => {}
        }
    }
    last
}

/// Whether channel `ch` was idle at `t`.
pub(super) fn idle_at(rec: &Recording, ch: u32, t: SimTime) -> bool {
    let mut idle = false;
    for &(at, e) in &rec.history[ch as usize] {
        if at > t {
            break;
        }
        match e {
            WmEvent::Idle => idle = true,
            WmEvent::Active | WmEvent::Rebuilt => idle = false,
            _ => {}
        }
    }
    idle
}

fn fired(cx: &Cx<'_>, question: String, spec: &WindowSpec, fires: &[&Fire]) -> Answer {
    let first = fires[0];
    let target = first.end.minus_millis(1);
    let by_watermark = first.watermark >= target;
    let sub = cx.task(first.task).to_string();
    let mut evidence = Vec::new();
    let mut change = None;
    let headline = if by_watermark {
        format!(
            "It fired at {} in {sub}, when the subtask's watermark reached {} ≥ end − 1 = {target}.",
            secs(first.at),
            wm_text(first.watermark)
        )
    } else {
        format!(
            "It fired at {} in {sub}, by its trigger ({}), before the watermark ({}) reached end − 1 = {target}.",
            secs(first.at),
            trigger_text(spec),
            wm_text(first.watermark)
        )
    };
    if let Some((row, origin)) = &first.last_input {
        let from = origin
            .as_ref()
            .map(|a| format!(", {}", cx.origin_text(a)))
            .unwrap_or_default();
        evidence.push(format!(
            "The last record {sub} received before it fired: {}{from}.",
            row_text(row)
        ));
    }
    if by_watermark {
        change = watermark_evidence(cx, first, target, &sub, &mut evidence);
    }
    for f in &fires[1..] {
        let late = f.watermark >= target;
        let why = match &f.last_input {
            Some((row, _)) if late => format!(
                " — a late firing: the record {} arrived after the watermark had passed the window's end, within the allowed lateness of {} ms",
                row_text(row),
                spec.allowed_lateness
            ),
            _ => String::new(),
        };
        evidence.push(format!(
            "It fired again at {} (watermark {}), result {}{why}.",
            secs(f.at),
            wm_text(f.watermark),
            row_text(&f.result)
        ));
    }
    for l in cx
        .rec
        .late
        .iter()
        .filter(|l| l.ts >= first.start && l.ts < first.end)
    {
        evidence.push(format!(
            "Record {} (timestamp {}) came too late at {} (watermark {}) and went to the late side output.",
            row_text(&l.row),
            l.ts,
            secs(l.at),
            wm_text(l.watermark)
        ));
    }
    let data = json!({
        "fired": true,
        "subtask": sub,
        "firings": fires.iter().map(|f| fire_json(cx, f)).collect::<Vec<_>>(),
    });
    Answer {
        question,
        headline,
        rules: vec![RULE_FIRE.to_string()],
        evidence,
        change,
        data,
    }
}

/// How the watermark made window firing `first` fire: the state of every input channel of
/// the subtask when it fired (idle ones left out), and the last channel to pass `target`
/// (end − 1), which decided the moment; when the others had passed it earlier, how long the
/// window waited for it. Returns what to change when that channel's source partition had no
/// data (declare idleness).
fn watermark_evidence(
    cx: &Cx<'_>,
    first: &Fire,
    target: EventTime,
    sub: &str,
    evidence: &mut Vec<String>,
) -> Option<String> {
    let inputs = cx.rec.inputs_of(first.task);
    let mut change = None;
    if !inputs.is_empty() {
        let mut states = Vec::new();
        let mut decider: Option<(u32, SimTime, EventTime)> = None;
        let mut earliest: Option<SimTime> = None;
        for &ch in &inputs {
            if idle_at(cx.rec, ch, first.at) {
                states.push(format!("{}: idle (left out)", cx.channel(ch)));
                continue;
            }
            let now = cx.rec.watermark_at(ch, first.at);
            states.push(format!("{}: {}", cx.channel(ch), wm_text(now)));
            if let Some((at, w)) = passed(cx.rec, ch, target, first.at) {
                earliest = Some(earliest.map_or(at, |e: SimTime| e.min(at)));
                if decider.is_none_or(|(_, t, _)| at > t) {
                    decider = Some((ch, at, w));
                }
            }
        }
        evidence.push(format!(
            "{sub}'s watermark is the minimum over its {} input channels; by the time it fired they had brought: {}.",
            inputs.len(),
            states.join("; ")
        ));
        if let Some((ch, at, w)) = decider {
            let from = cx.rec.channels[ch as usize].from;
            let before = history_before(cx.rec, ch, at);
            evidence.push(format!(
                "The last channel to pass {target} was {} at {} (watermark {}; before that it was at {}): {}.",
                cx.channel(ch),
                secs(at),
                wm_text(w),
                wm_text(before),
                cx.upstream_text(ch, w)
            ));
            if let Some(e) = earliest.filter(|e| *e < at) {
                let waited = at.since(e);
                evidence.push(format!(
                    "The other channels had passed {target} by {}: the window waited {:.3} s for {}.",
                    secs(e),
                    waited.as_secs_f64(),
                    cx.task(from)
                ));
                if let Some(info) = cx.rec.tasks.get(from as usize)
                    && !info.has_data
                    && let Some((name, _, _)) = cx.source_of(from)
                {
                    change = Some(format!(
                        "{} has no data, so its watermark stayed at −∞ until its input ended; set `idleness` in the watermarks of source `{name}` (e.g. `idleness = \"3 s\"`, Flink's `withIdleness`) so an idle partition stops holding the windows back.",
                        cx.task(from)
                    ));
                }
            }
        }
    }
    change
}

fn fire_json(cx: &Cx<'_>, f: &Fire) -> serde_json::Value {
    json!({
        "at_ns": f.at.as_nanos(),
        "subtask": cx.task(f.task),
        "window_start": f.start,
        "window_end": f.end,
        "watermark": f.watermark,
        "result": f.result,
        "last_input": f.last_input.as_ref().map(|(row, o)| json!({
            "row": row,
            "channel": o.as_ref().map(|a| cx.channel(a.channel)),
            "timestamp": o.as_ref().map(|a| a.meta.ts),
        })),
    })
}

fn history_before(rec: &Recording, ch: u32, at: SimTime) -> EventTime {
    let mut wm = EventTime::MIN;
    for &(t, e) in &rec.history[ch as usize] {
        if t >= at {
            break;
        }
        if let WmEvent::Watermark(w) = e {
            wm = w;
        }
    }
    wm
}

/// A row as the summary prints it: `(alice, 3)`.
pub(super) fn row_text(row: &[serde_json::Value]) -> String {
    let parts: Vec<String> = row
        .iter()
        .map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            v => v.to_string(),
        })
        .collect();
    format!("({})", parts.join(", "))
}

fn trigger_text(spec: &WindowSpec) -> String {
    match spec.trigger.map(|t| t.kind) {
        None if spec.count.is_some() => {
            format!(
                "a count trigger of {} elements",
                spec.count.map_or(0, |c| c.0)
            )
        }
        None => "its default trigger".to_string(),
        Some(TriggerKind::EventTime) => "EventTimeTrigger".to_string(),
        Some(TriggerKind::ProcessingTime) => "ProcessingTimeTrigger".to_string(),
        Some(TriggerKind::Count(n)) => format!("CountTrigger of {n} elements"),
        Some(TriggerKind::ContinuousEventTime(i)) => {
            format!("ContinuousEventTimeTrigger every {i} ms of event time")
        }
        Some(TriggerKind::ContinuousProcessingTime(i)) => {
            format!("ContinuousProcessingTimeTrigger every {i} ms of processing time")
        }
        Some(TriggerKind::Never) => "a trigger that never fires".to_string(),
    }
}

fn not_fired(
    cx: &Cx<'_>,
    question: String,
    spec: &WindowSpec,
    key: &str,
    start: EventTime,
    size: Option<i64>,
) -> Answer {
    let rec = cx.rec;
    let others: Vec<String> = {
        let mut v: Vec<EventTime> = rec.fires.iter().map(|f| f.start).collect();
        v.sort_unstable();
        v.dedup();
        v.iter().map(|s| s.to_string()).collect()
    };
    let Some(first) = rec.arrivals.first() else {
        return never_existed(question, key, &others, rec.arrivals_seen);
    };
    let task = rec.channels[first.channel as usize].to;
    let sub = cx.task(task).to_string();
    let end = size.map(|z| start.plus_millis(z));
    let target = end.map_or(EventTime::MAX, |e| e.minus_millis(1));
    let mut evidence = vec![format!(
        "{} record(s) of key {key} in the window reached {sub}; the first: {}, {}.",
        rec.arrivals.len(),
        row_text(&first.row),
        cx.origin_text(first)
    )];
    // Where the subtask's watermark ended.
    let inputs = rec.inputs_of(task);
    let lowest = lowest_channel(rec, &inputs);
    let mut change = None;
    let headline;
    match lowest {
        Some((ch, w)) if w < target => {
            let from = rec.channels[ch as usize].from;
            headline = format!(
                "It did not fire: the run ended with {sub}'s watermark at {}, short of end − 1 = {target}; channel {} held it back.",
                wm_text(w),
                cx.channel(ch)
            );
            evidence.push(format!("{}.", cx.upstream_text(ch, w)));
            let has_data = rec.tasks.get(from as usize).is_none_or(|t| t.has_data);
            let source = cx.source_of(from).map(|x| x.0.to_string());
            change = Some(match (has_data, source) {
                (false, Some(name)) => format!(
                    "{} has no data, so its watermark stays at −∞; set `idleness` in the watermarks of source `{name}` (e.g. `idleness = \"3 s\"`, Flink's `withIdleness`) so the window's watermark follows the other partitions.",
                    cx.task(from)
                ),
                _ => format!(
                    "the watermark must reach {target} on every input channel: a later record on {} (with the out-of-orderness bound added), or a source whose input ends (its final watermark is +∞).",
                    cx.channel(ch)
                ),
            });
        }
        _ => {
            let late: Vec<&Arrival> = rec
                .arrivals
                .iter()
                .filter(|a| {
                    end.is_some_and(|e| {
                        e.minus_millis(1).plus_millis(spec.allowed_lateness)
                            <= combined_at(rec, &inputs, a.at)
                    })
                })
                .collect();
            if late.len() == rec.arrivals.len() {
                headline = format!(
                    "It did not fire: every record of key {key} for it arrived after the watermark had passed its end − 1 + allowed lateness ({} ms), so each was late.",
                    spec.allowed_lateness
                );
                evidence.push(RULE_LATE.to_string());
                change = Some("allow more lateness (`allowed_lateness`), or a larger out-of-orderness bound at the source, so these records are not late".to_string());
            } else {
                headline = format!(
                    "It did not fire although the watermark passed end − 1 = {target}: its trigger ({}) did not fire.",
                    trigger_text(spec)
                );
            }
        }
    }
    Answer {
        question,
        headline,
        rules: vec![RULE_FIRE.to_string()],
        evidence,
        change,
        data: json!({
            "fired": false,
            "existed": true,
            "subtask": sub,
            "records": rec.arrivals.len(),
            "blocking_channel": lowest.map(|(c, _)| cx.channel(c)),
            "watermark_at_end": lowest.map(|(_, w)| w),
        }),
    }
}

/// No record of the key with a timestamp in the window reached the operator: the window
/// never existed (Flink creates a window only when an element is assigned to it). `others`:
/// the starts of the key's windows that did fire; `arrivals_seen`: whether the operator's
/// input buffers were read (not when it is chained behind another operator).
fn never_existed(question: String, key: &str, others: &[String], arrivals_seen: bool) -> Answer {
    let mut evidence = Vec::new();
    if !arrivals_seen {
        evidence.push("The operator is chained behind another operator, so the records reaching it were not read off its input buffers.".to_string());
    }
    evidence.push(if others.is_empty() {
        format!("No window of key {key} fired in this operator at all.")
    } else {
        format!(
            "Windows of key {key} that did fire start at: {}.",
            others.join(", ")
        )
    });
    Answer {
        question,
        headline: format!(
            "The window never existed: no record of key {key} with a timestamp in it reached the operator."
        ),
        rules: vec![
            "Flink creates a window only when an element is assigned to it; a window with no element never fires".to_string(),
        ],
        evidence,
        change: Some(format!(
            "send a record of key {key} with a timestamp in the window, or ask about a window that exists (--start {})",
            others.first().cloned().unwrap_or_else(|| "…".to_string())
        )),
        data: json!({ "fired": false, "existed": false, "windows_of_key": others }),
    }
}

/// The input channel holding the subtask's watermark back when the run ended: the non-idle
/// one with the lowest watermark (the first of equals), with that watermark.
fn lowest_channel(rec: &Recording, inputs: &[u32]) -> Option<(u32, EventTime)> {
    let end_t = rec
        .history
        .iter()
        .flat_map(|h| h.last().map(|x| x.0))
        .max()
        .unwrap_or(SimTime::ZERO);
    let mut lowest: Option<(u32, EventTime)> = None;
    for &ch in inputs {
        if idle_at(rec, ch, end_t) {
            continue;
        }
        let w = rec.watermark_at(ch, end_t);
        if lowest.is_none_or(|(_, l)| w < l) {
            lowest = Some((ch, w));
        }
    }
    lowest
}

/// The subtask's combined watermark at `t`: the minimum over its non-idle input channels.
pub(super) fn combined_at(rec: &Recording, inputs: &[u32], t: SimTime) -> EventTime {
    inputs
        .iter()
        .filter(|&&c| !idle_at(rec, c, t))
        .map(|&c| rec.watermark_at(c, t))
        .min()
        .unwrap_or(EventTime::MIN)
}

fn processing_time(question: String, fires: &[&Fire]) -> Answer {
    let headline = match fires.first() {
        Some(f) => format!("It fired at {} of processing time.", secs(f.at)),
        None => "It did not fire before the run ended.".to_string(),
    };
    Answer {
        question,
        headline,
        rules: vec!["a processing-time window fires when the subtask's clock passes its end − 1 (ProcessingTimeTrigger); watermarks play no part".to_string()],
        evidence: Vec::new(),
        change: None,
        data: json!({ "fired": !fires.is_empty() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event_time::ms;

    /// The amounts of the records of `key` in `[0, 5 s)` that reached `sales_5s` in
    /// late_data.toml, as the recorder kept them.
    fn arrivals_of(key: &str) -> Vec<i64> {
        let path = format!("{}/../scenarios/late_data.toml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("bundled scenario");
        let s = crate::check::parse_str("late_data", &text, None).expect("valid");
        let p = crate::plan::plan(&s).expect("plans");
        let (node, _) = window_operator(&s, &p, "sales_5s").expect("a window operator");
        let watch = Watch {
            node,
            key: key.into(),
            from: ms(0),
            to: ms(5_000),
        };
        let (_, rec) = super::super::rerun(&s, &p, None, Recording::new(Some(watch))).unwrap();
        let schema = &s.nodes.iter().find(|n| n.name == "orders").unwrap().schema;
        let field = |a: &Arrival, name: &str| a.row[schema.index_of(name).unwrap()].clone();
        assert!(rec.arrivals.iter().all(|a| field(a, "shop") == key));
        rec.arrivals
            .iter()
            .map(|a| field(a, "amount").as_i64().unwrap())
            .collect()
    }

    /// The recorder keeps exactly the asked key's records of the window's range, in the order
    /// they arrived, late ones included (the recorder skips keys it already knows are others
    /// without naming them: this is its oracle).
    #[test]
    fn the_recorder_keeps_every_record_of_the_asked_key_and_no_other() {
        assert_eq!(arrivals_of("north"), [12, 5, 8, 7, 50]);
        assert_eq!(arrivals_of("south"), [30, 25, 14, 20]);
        assert_eq!(arrivals_of("east"), Vec::<i64>::new());
    }

    #[test]
    fn watermarks_print_as_the_summary_does() {
        assert_eq!(wm_text(EventTime::MIN), "−∞");
        assert_eq!(wm_text(EventTime::MAX), "+∞ (end of input)");
        assert_eq!(wm_text(ms(9_999)), "9999");
    }
}
