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

use super::recorder::Recording;
use super::{Answer, ExplainError};
use crate::core::time::SimTime;
use crate::plan::Plan;
use crate::report::{CheckpointReport, RunReport};
use crate::scenario::Scenario;
use serde_json::json;

/// The sentence of Flink's rule.
pub const RULE: &str = "a checkpoint completes when every subtask has acknowledged it: a subtask snapshots when the barrier has arrived on all its input channels (aligned) or on the first one (unaligned, the in-flight buffers are stored with the state); it expires when it is not complete after execution.checkpointing.timeout";

/// Answers the question about checkpoint `id` of the run; with `compare_aligned`, also about
/// the same checkpoint of the aligned comparison run.
pub fn answer(s: &Scenario, p: &Plan, seed: Option<u64>, id: u64) -> Result<Answer, ExplainError> {
    let (report, rec) = super::record(s, p, seed, Recording::checkpoint(id))?;
    let Some(ck) = report.checkpoints.iter().find(|c| c.id == id) else {
        return Err(ExplainError::Unknown(unknown(&report, id)));
    };
    let mut a = explain_one(s, &report, &rec, ck, "");
    if let Some(aligned) = crate::oracle::aligned::variant(s) {
        let (r2, rec2) = super::record(&aligned, p, seed, Recording::checkpoint(id))?;
        match r2.checkpoints.iter().find(|c| c.id == id) {
            Some(ck2) => {
                let b = explain_one(&aligned, &r2, &rec2, ck2, "with aligned checkpoints, ");
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
    first: Option<SimTime>,
    last: Option<SimTime>,
    inputs: usize,
    arrived: usize,
    snapshot: Option<SimTime>,
}

fn parts(rec: &Recording) -> Vec<Part> {
    (0..rec.tasks.len() as u32)
        .map(|t| {
            let ins = rec.inputs_of(t);
            let times: Vec<SimTime> = rec
                .barriers
                .iter()
                .filter(|(c, _)| ins.contains(c))
                .map(|x| x.1)
                .collect();
            Part {
                task: t,
                first: times.iter().min().copied(),
                last: times.iter().max().copied(),
                inputs: ins.len(),
                arrived: times.len(),
                snapshot: rec.snapshots.iter().find(|x| x.0 == t).map(|x| x.1),
            }
        })
        .collect()
}

fn explain_one(
    s: &Scenario,
    report: &RunReport,
    rec: &Recording,
    ck: &CheckpointReport,
    prefix: &str,
) -> Answer {
    let label = |t: u32| rec.tasks.get(t as usize).map_or("?", |x| x.label.as_str());
    let end_ms = ck.completed_ms;
    let took = end_ms.map(|e| e - ck.trigger_ms);
    let done = ck.outcome == "completed";
    let headline = match (done, took) {
        (true, Some(d)) => format!(
            "{prefix}checkpoint {} completed {d:.1} ms after its trigger at {:.3} s ({} barriers).",
            ck.id,
            ck.trigger_ms / 1000.0,
            ck.barriers
        ),
        (false, Some(d)) => format!(
            "{prefix}checkpoint {} {} {d:.1} ms after its trigger at {:.3} s ({} barriers).",
            ck.id,
            ck.outcome,
            ck.trigger_ms / 1000.0,
            ck.barriers
        ),
        (_, None) => format!(
            "{prefix}checkpoint {} was still pending when the run ended ({}).",
            ck.id, ck.outcome
        ),
    };
    let ps = parts(rec);
    let mut evidence = Vec::new();
    // Each subtask's phases, relative to the trigger.
    let mut slowest: Option<(f64, String)> = None;
    for part in &ps {
        let mut bits = Vec::new();
        if part.inputs == 0 {
            bits.push("a source: snapshots when triggered".to_string());
        } else {
            if let Some(f) = part.first {
                bits.push(format!(
                    "first barrier at +{:.1} ms",
                    ms_since(f, ck.trigger_ms)
                ));
            }
            if part.arrived < part.inputs {
                bits.push(format!(
                    "barrier on {} of {} input channels",
                    part.arrived, part.inputs
                ));
            } else if let (Some(f), Some(l)) = (part.first, part.last) {
                let align = l.since(f).as_millis_f64();
                bits.push(format!(
                    "last at +{:.1} ms (alignment {align:.1} ms)",
                    ms_since(l, ck.trigger_ms)
                ));
                if slowest.as_ref().is_none_or(|x| align > x.0) {
                    slowest = Some((align, format!("alignment at {}", label(part.task))));
                }
                let travel = ms_since(f, ck.trigger_ms);
                if slowest.as_ref().is_none_or(|x| travel > x.0) {
                    slowest = Some((
                        travel,
                        format!(
                            "the barrier's way to {} (behind queued buffers)",
                            label(part.task)
                        ),
                    ));
                }
            }
        }
        bits.push(match part.snapshot {
            Some(t) => format!("snapshot at +{:.1} ms", ms_since(t, ck.trigger_ms)),
            None => "no snapshot".to_string(),
        });
        evidence.push(format!("{}: {}", label(part.task), bits.join(", ")));
    }
    if ck.async_ms > slowest.as_ref().map_or(0.0, |x| x.0) {
        slowest = Some((
            ck.async_ms,
            "the asynchronous upload to the checkpoint storage".into(),
        ));
    }
    if let Some((ms, what)) = &slowest {
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
    let timeout = s.fault_tolerance.checkpointing.as_ref().map(|c| c.timeout);
    if !done && let Some(end) = end_ms {
        let end_t = SimTime::ZERO.plus(crate::core::time::SimDuration::from_nanos(
            (end * 1e6) as u64,
        ));
        let missing: Vec<&Part> = ps
            .iter()
            .filter(|p| p.snapshot.is_none_or(|t| t > end_t))
            .collect();
        if ck.outcome.contains("expired") {
            if let Some(t) = timeout {
                evidence.push(format!(
                    "It expired: it was not complete after execution.checkpointing.timeout = {t}; {} of {} subtasks had not snapshotted by then.",
                    missing.len(),
                    ps.len()
                ));
            }
        } else {
            evidence.push(format!("It ended: {}.", ck.outcome));
        }
        for part in missing.iter().take(4) {
            let ins = rec.inputs_of(part.task);
            for c in ins {
                let arrived = rec.barriers.iter().find(|x| x.0 == c).map(|x| x.1);
                if arrived.is_some_and(|a| a <= end_t) {
                    continue;
                }
                let ch = rec.channels[c as usize];
                let (bufs, recs) = rec.ahead[c as usize];
                evidence.push(format!(
                    "{} waited for the barrier on channel {} → {}: {} buffer(s) with {} records were queued ahead of it{}.",
                    label(part.task),
                    label(ch.from),
                    label(ch.to),
                    bufs,
                    recs,
                    match arrived {
                        Some(a) => format!(", and it arrived only at +{:.1} ms", ms_since(a, ck.trigger_ms)),
                        None => ", and it never arrived".to_string(),
                    }
                ));
                break;
            }
        }
        change = Some(if ck.barriers.starts_with("aligned") {
            "the barriers queue behind backpressured buffers: use unaligned checkpoints (`unaligned = true`, barriers overtake in-flight buffers), or `aligned_timeout` to switch when alignment takes long; or relieve the bottleneck (`streamlab explain --bottleneck`), or raise `timeout`".to_string()
        } else {
            "raise `timeout`, or make the snapshot cheaper (less state, faster storage)".to_string()
        });
    }
    let _ = report;
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
            "subtasks": ps.iter().map(|p| json!({
                "subtask": label(p.task),
                "first_barrier_ms": p.first.map(|t| ms_since(t, ck.trigger_ms)),
                "last_barrier_ms": p.last.map(|t| ms_since(t, ck.trigger_ms)),
                "inputs": p.inputs,
                "barriers_arrived": p.arrived,
                "snapshot_ms": p.snapshot.map(|t| ms_since(t, ck.trigger_ms)),
            })).collect::<Vec<_>>(),
        }),
    }
}
