//! "What did checkpoint N spend its time on — and why did it fail?"
//!
//! Flink's checkpoint protocol: the coordinator triggers the checkpoint at the sources, which
//! snapshot and send a barrier downstream; a subtask with several input channels aligns
//! (aligned checkpoints: it waits until the barrier arrived on every channel, holding back
//! the channels that delivered theirs), snapshots its state synchronously, uploads it
//! asynchronously and acknowledges; when every subtask acknowledged, the checkpoint is
//! complete and the sinks are notified (two-phase commit sinks commit then). A checkpoint not
//! complete after `execution.checkpointing.timeout` expires. Under backpressure an aligned
//! barrier waits behind every buffer queued ahead of it on its channel — the reason
//! unaligned checkpoints exist.

use super::recorder::{BarrierSeen, Recording};
use super::{Answer, ExplainError};
use crate::core::time::{SimDuration, SimTime};
use crate::plan::Plan;
use crate::report::{CheckpointReport, RunReport};
use crate::scenario::Scenario;
use serde_json::json;

/// The sentence of Flink's rule.
pub const RULE: &str = "a checkpoint completes when every subtask has acknowledged it: a subtask snapshots when the barrier has arrived on all its input channels (aligned) or on the first one (unaligned, the in-flight buffers are stored with the state); it expires when it is not complete after execution.checkpointing.timeout";

/// Answers the question about checkpoint `id` of the run; with `compare_aligned`, also about
/// the same checkpoint of the aligned comparison run.
pub fn answer(s: &Scenario, p: &Plan, seed: Option<u64>, id: u64) -> Result<Answer, ExplainError> {
    let (report, rec) = super::rerun(s, p, seed, Recording::checkpoint(id))?;
    let Some(ck) = report.checkpoints.iter().find(|c| c.id == id) else {
        return Err(ExplainError::Unknown(unknown(&report, id)));
    };
    let mut a = explain_one(s, &rec, ck, "");
    if let Some(aligned) = crate::oracle::aligned::variant(s) {
        let (r2, rec2) = super::rerun(&aligned, p, seed, Recording::checkpoint(id))?;
        match r2.checkpoints.iter().find(|c| c.id == id) {
            Some(ck2) => {
                let b = explain_one(&aligned, &rec2, ck2, "with aligned checkpoints, ");
                a.evidence.push(format!(
                    "The same job with aligned checkpoints (compare_aligned): {}",
                    b.headline
                ));
                a.evidence
                    .extend(b.evidence.into_iter().map(|e| format!("(aligned run) {e}")));
                if a.change.is_none() {
                    a.change = b.change;
                }
                a.data["aligned_run"] = b.data;
            }
            None => a.evidence.push(format!(
                "The same job with aligned checkpoints (compare_aligned) had no checkpoint {id}."
            )),
        }
    }
    Ok(a)
}

fn unknown(report: &RunReport, id: u64) -> String {
    match (report.checkpoints.first(), report.checkpoints.last()) {
        (Some(f), Some(l)) => format!(
            "the run has no checkpoint {id}; its checkpoints are {}..={}",
            f.id, l.id
        ),
        _ => format!("the run took no checkpoint (asked for {id}); is checkpointing on?"),
    }
}

fn ms_since(t: SimTime, trigger_ms: f64) -> f64 {
    t.as_secs_f64() * 1000.0 - trigger_ms
}

/// One subtask's part in the checkpoint.
struct Part {
    task: u32,
    /// Its barriers, one per input channel that delivered one.
    barriers: Vec<BarrierSeen>,
    inputs: usize,
    /// When it read its first barrier (the alignment began).
    aligned_from: Option<SimTime>,
    snapshot: Option<SimTime>,
}

impl Part {
    fn first_read(&self) -> Option<SimTime> {
        self.aligned_from
            .or_else(|| self.barriers.iter().filter_map(|b| b.read).min())
    }
    fn reads(&self) -> usize {
        self.barriers.iter().filter(|b| b.read.is_some()).count()
    }
    /// The longest a barrier of this subtask waited in its input queue (behind the records
    /// ahead of it) — until read, or until `until` if never read.
    fn longest_queue(&self, until: SimTime) -> Option<(SimDuration, BarrierSeen)> {
        self.barriers
            .iter()
            .map(|b| (b.read.unwrap_or(until).since(b.arrived), *b))
            .max_by_key(|x| x.0)
    }
}

fn parts(rec: &Recording) -> Vec<Part> {
    (0..rec.tasks.len() as u32)
        .map(|t| {
            let ins = rec.inputs_of(t);
            Part {
                task: t,
                barriers: rec
                    .barriers
                    .iter()
                    .filter(|b| ins.contains(&b.channel))
                    .copied()
                    .collect(),
                inputs: ins.len(),
                aligned_from: rec.alignments.iter().find(|x| x.0 == t).map(|x| x.1),
                snapshot: rec.snapshots.iter().find(|x| x.0 == t).map(|x| x.1),
            }
        })
        .collect()
}

/// `+a ms` or `+a … +b ms` for a set of times relative to the trigger.
fn span(times: impl Iterator<Item = SimTime>, trigger_ms: f64) -> String {
    let v: Vec<SimTime> = times.collect();
    match (v.iter().min(), v.iter().max()) {
        (Some(a), Some(b)) if a == b => format!("+{:.1} ms", ms_since(*a, trigger_ms)),
        (Some(a), Some(b)) => format!(
            "+{:.1} … +{:.1} ms",
            ms_since(*a, trigger_ms),
            ms_since(*b, trigger_ms)
        ),
        _ => "—".into(),
    }
}

/// One subtask's line: barrier arrivals and reads per input, alignment, snapshot.
fn part_line(part: &Part, label: &str, trigger_ms: f64) -> String {
    let mut bits = Vec::new();
    if part.inputs == 0 {
        bits.push("a source: emits the barrier between two records and takes its snapshot".into());
    } else if !part.barriers.is_empty() && part.barriers.iter().all(|b| b.overtook) {
        bits.push(format!(
            "unaligned barrier overtook the queued buffers and reached {} of {} inputs at {}; the in-flight records stay queued and go into the snapshot",
            part.barriers.len(),
            part.inputs,
            span(part.barriers.iter().map(|b| b.arrived), trigger_ms),
        ));
    } else {
        let queued = part.barriers.iter().map(|b| b.records_ahead).max();
        bits.push(format!(
            "barrier reached the queues of {} of {} inputs at {}{}",
            part.barriers.len(),
            part.inputs,
            span(part.barriers.iter().map(|b| b.arrived), trigger_ms),
            match queued {
                Some(q) if q > 0 => format!(" behind up to {q} queued records"),
                _ => String::new(),
            }
        ));
        bits.push(match part.reads() {
            0 => "read on none of them".to_string(),
            n => format!(
                "read on {n} of {} at {}",
                part.inputs,
                span(part.barriers.iter().filter_map(|b| b.read), trigger_ms)
            ),
        });
        if let (Some(f), Some(sn)) = (part.first_read(), part.snapshot)
            && part.inputs > 1
        {
            bits.push(format!("alignment {:.1} ms", sn.since(f).as_millis_f64()));
        } else if let Some(f) = part.aligned_from
            && part.snapshot.is_none()
        {
            bits.push(format!("aligning since +{:.1} ms", ms_since(f, trigger_ms)));
        }
    }
    bits.push(match part.snapshot {
        Some(t) => format!("snapshot at +{:.1} ms", ms_since(t, trigger_ms)),
        None => "no snapshot".to_string(),
    });
    if let (Some(sn), Some(first)) = (
        part.snapshot,
        part.barriers
            .iter()
            .filter(|b| b.overtook)
            .map(|b| b.arrived)
            .min(),
    ) && sn.since(first) > SimDuration::from_millis(1)
    {
        bits.push("after the records it was processing when the barrier arrived".into());
    }
    if part.inputs == 0
        && let Some(sn) = part.snapshot
        && ms_since(sn, trigger_ms) > 1.0
    {
        bits.push("later than the trigger: the source was backpressured and in this simulation waits for a free output buffer before it emits the barrier".into());
    }
    format!("{label}: {}", bits.join(", "))
}

fn explain_one(s: &Scenario, rec: &Recording, ck: &CheckpointReport, prefix: &str) -> Answer {
    let label = |t: u32| rec.tasks.get(t as usize).map_or("?", |x| x.label.as_str());
    let done = ck.outcome == "completed";
    let headline = headline(ck, prefix);
    // The end of the checkpoint: completion, failure, or expiry.
    let end_t = ck.completed_ms.map(time_at);
    let ps = parts(rec);
    let mut evidence: Vec<String> = ps
        .iter()
        .map(|p| part_line(p, label(p.task), ck.trigger_ms))
        .collect();
    let longest = longest_phase(rec, ck, &ps, end_t, &label);
    if let Some((ms, what)) = &longest {
        evidence.push(format!("The longest phase: {what}, {ms:.1} ms."));
    }
    evidence.push(format!(
        "Longest synchronous snapshot {:.3} ms, longest asynchronous part {:.1} ms, state {} bytes{}.",
        ck.sync_ms,
        ck.async_ms,
        ck.size_bytes,
        if ck.in_flight_bytes > 0 {
            format!(" (of which {} bytes of in-flight buffers)", ck.in_flight_bytes)
        } else {
            String::new()
        }
    ));
    let mut change = None;
    let mut blocked = Vec::new();
    if !done && let Some(end) = end_t {
        let missing: Vec<&Part> = ps
            .iter()
            .filter(|p| p.snapshot.is_none_or(|t| t > end))
            .collect();
        let timeout = s.fault_tolerance.checkpointing.as_ref().map(|c| c.timeout);
        match timeout {
            Some(t) if ck.outcome.contains("expired") => evidence.push(format!(
                "It expired: it was not complete after execution.checkpointing.timeout = {t}; {} of {} subtasks had not taken their snapshot by then.",
                missing.len(),
                ps.len()
            )),
            _ => evidence.push(format!("It ended: {}.", ck.outcome)),
        }
        for part in &missing {
            if let Some(line) = why_not_snapshotted(rec, part, end, ck.trigger_ms) {
                blocked.push(json!({ "subtask": label(part.task), "why": line }));
                if blocked.len() <= 4 {
                    evidence.push(line);
                }
            }
        }
        change = Some(if ck.barriers.starts_with("aligned") {
            "the barriers queue behind backpressured buffers: use unaligned checkpoints (`unaligned = true`, barriers overtake in-flight buffers), or `aligned_timeout` to switch when alignment takes long; or relieve the bottleneck (`streamlab explain --bottleneck`), or raise `timeout`".to_string()
        } else {
            "raise `timeout`, or make the snapshot cheaper (less state, faster storage)".to_string()
        });
    }
    Answer {
        question: format!("What did checkpoint {} spend its time on?", ck.id),
        headline,
        rules: vec![RULE.to_string()],
        evidence,
        change,
        data: json!({
            "id": ck.id,
            "outcome": ck.outcome,
            "barriers": ck.barriers,
            "trigger_ms": ck.trigger_ms,
            "completed_ms": ck.completed_ms,
            "longest_phase": longest.as_ref().map(|x| json!({ "what": x.1, "ms": x.0 })),
            "not_snapshotted": blocked,
            "subtasks": subtasks_json(rec, ck, &ps, &label),
        }),
    }
}

/// The headline: how long after its trigger the checkpoint completed or ended (and why), or
/// that it was still pending at the end of the run.
fn headline(ck: &CheckpointReport, prefix: &str) -> String {
    let took = ck.completed_ms.map(|e| e - ck.trigger_ms);
    let done = ck.outcome == "completed";
    match (done, took) {
        (true, Some(d)) => format!(
            "{prefix}checkpoint {} completed {d:.1} ms after its trigger at {:.3} s ({} barriers).",
            ck.id,
            ck.trigger_ms / 1000.0,
            ck.barriers
        ),
        (false, Some(d)) => format!(
            "{prefix}checkpoint {} ended {d:.1} ms after its trigger at {:.3} s ({} barriers) — {}.",
            ck.id,
            ck.trigger_ms / 1000.0,
            ck.barriers,
            ck.outcome.trim_end_matches('.')
        ),
        (_, None) => format!(
            "{prefix}checkpoint {} was still pending when the run ended ({}).",
            ck.id, ck.outcome
        ),
    }
}

/// The simulated time `ms` milliseconds after the start of the run.
fn time_at(ms: f64) -> SimTime {
    SimTime::ZERO.plus(SimDuration::from_nanos((ms * 1e6) as u64))
}

/// The longest phase of the checkpoint over all subtasks, as `(ms, what)`: a source's way
/// from the trigger to emitting the barrier; finishing the records in progress before an
/// unaligned snapshot; a barrier waiting in an input queue (until `end_t`, the checkpoint's
/// end); the alignment of a subtask with several inputs; the asynchronous upload.
fn longest_phase<'a>(
    rec: &'a Recording,
    ck: &CheckpointReport,
    ps: &[Part],
    end_t: Option<SimTime>,
    label: &dyn Fn(u32) -> &'a str,
) -> Option<(f64, String)> {
    let mut longest: Option<(f64, String)> = None;
    let mut consider = |ms: f64, what: String| {
        if longest.as_ref().is_none_or(|x| ms > x.0) {
            longest = Some((ms, what));
        }
    };
    let trigger = time_at(ck.trigger_ms);
    for part in ps {
        let who = label(part.task);
        if part.inputs == 0 {
            if let Some(sn) = part.snapshot {
                consider(
                    sn.since(trigger).as_millis_f64(),
                    format!(
                        "the trigger's way into {who} (it emits the barrier between two records)"
                    ),
                );
            }
            continue;
        }
        if let (Some(sn), Some(first)) = (
            part.snapshot,
            part.barriers
                .iter()
                .filter(|b| b.overtook)
                .map(|b| b.arrived)
                .min(),
        ) {
            consider(
                sn.since(first).as_millis_f64(),
                format!("{who} finishing the records in progress before its unaligned snapshot"),
            );
        }
        let until = end_t.unwrap_or(SimTime::MAX);
        if let Some((d, b)) = part.longest_queue(until) {
            consider(
                d.as_millis_f64(),
                format!(
                    "the barrier from {} waiting in {who}'s input queue behind {} records",
                    label(rec.channels[b.channel as usize].from),
                    b.records_ahead
                ),
            );
        }
        if part.inputs > 1
            && let (Some(f), Some(sn)) = (part.first_read(), part.snapshot)
        {
            consider(
                sn.since(f).as_millis_f64(),
                format!("alignment at {who} (its first barrier read, the last still queued)"),
            );
        }
    }
    if ck.async_ms > 0.0 {
        consider(
            ck.async_ms,
            "the asynchronous upload to the checkpoint storage".into(),
        );
    }
    longest
}

/// Every subtask's barriers, alignment and snapshot, in ms after the trigger, for `--json`.
fn subtasks_json<'a>(
    rec: &'a Recording,
    ck: &CheckpointReport,
    ps: &[Part],
    label: &dyn Fn(u32) -> &'a str,
) -> Vec<serde_json::Value> {
    let ms = |t: Option<SimTime>| t.map(|t| ms_since(t, ck.trigger_ms));
    ps.iter()
        .map(|p| {
            json!({
                "subtask": label(p.task),
                "inputs": p.inputs,
                "barriers": p.barriers.iter().map(|b| json!({
                    "from": label(rec.channels[b.channel as usize].from),
                    "arrived_ms": ms_since(b.arrived, ck.trigger_ms),
                    "records_ahead": b.records_ahead,
                    "bytes_ahead": b.bytes_ahead,
                    "read_ms": ms(b.read),
                })).collect::<Vec<_>>(),
                "alignment_start_ms": ms(p.first_read()),
                "snapshot_ms": ms(p.snapshot),
            })
        })
        .collect()
}

/// Why subtask `part` had not taken its snapshot by `end`: the first input whose barrier it
/// had not read — still queued behind records, or not arrived at all.
fn why_not_snapshotted(
    rec: &Recording,
    part: &Part,
    end: SimTime,
    trigger_ms: f64,
) -> Option<String> {
    let who = rec.tasks.get(part.task as usize)?.label.as_str();
    let from = |c: u32| {
        rec.tasks
            .get(rec.channels[c as usize].from as usize)
            .map_or("?", |t| t.label.as_str())
    };
    if part.inputs == 0 {
        return Some(format!(
            "{who}: the trigger had not reached it (a source emits the barrier between two records)."
        ));
    }
    let end_ms = ms_since(end, trigger_ms);
    let queued = part
        .barriers
        .iter()
        .filter(|b| b.arrived <= end && b.read.is_none_or(|r| r > end))
        .max_by_key(|b| b.records_ahead);
    if let Some(b) = queued {
        return Some(format!(
            "{who} had not read the barrier from {} by +{end_ms:.1} ms: it reached the input queue at +{:.1} ms behind {} records ({} bytes), and an aligned barrier is read only after every record ahead of it — the subtask was still working through them ({:.1} ms later){}.",
            from(b.channel),
            ms_since(b.arrived, trigger_ms),
            b.records_ahead,
            b.bytes_ahead,
            end.since(b.arrived).as_millis_f64(),
            match b.read {
                Some(r) => format!(
                    "; it read it at +{:.1} ms, too late",
                    ms_since(r, trigger_ms)
                ),
                None => String::new(),
            }
        ));
    }
    let ins = rec.inputs_of(part.task);
    let missing = ins.iter().find(|c| {
        !part
            .barriers
            .iter()
            .any(|b| b.channel == **c && b.arrived <= end)
    })?;
    Some(format!(
        "{who}: the barrier from {} had not reached its input queue by +{end_ms:.1} ms — it was still behind the buffers queued upstream{}.",
        from(*missing),
        match part.aligned_from {
            Some(f) => format!(
                "; meanwhile {who} had been aligning since +{:.1} ms, its other channels blocked",
                ms_since(f, trigger_ms)
            ),
            None => String::new(),
        }
    ))
}
