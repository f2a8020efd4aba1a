//! Micro-batch: Spark Structured Streaming (and, as a variant, Spark Streaming's DStreams).
//!
//! **Structured** (`variant = "structured"`). A trigger fires every `trigger` of processing
//! time (`0 s`: as fast as possible — the next batch starts as soon as the previous one
//! ends). A batch takes every record that has arrived by its start and runs as a bounded job,
//! chain by chain with blocking exchanges, after a fixed `overhead` (planning, scheduling,
//! the offset log). If a batch overruns its interval, the next starts as soon as it ends.
//! There is no batch without data, except one to move the watermark when event-time
//! operators are waiting for it (Spark's no-data batches).
//!
//! **DStream** (`variant = "dstream"`). Batch `k` holds exactly the records that arrived in
//! `[(k−1)·interval, k·interval)` and is due at `k·interval`; batches run even when empty and
//! queue up when processing falls behind.
//!
//! **Watermark.** At the end of each batch, `max event time − bound − 1 ms` over everything
//! read so far (the bound of each source's watermark strategy; the minimum over sources); the
//! next batch applies it first, so windows fire one batch after the data that closed them,
//! and records behind it are late. When the bounded input is exhausted, a last batch applies
//! the final watermark (+∞), as Flink's bounded sources and Spark's `AvailableNow` do.
//!
//! **Visibility.** Results are committed when the batch ends: every record a batch delivers
//! is visible at the batch's end. The output mode decides what a sink receives: `append`
//! every record the operators emitted (windows only when final), `update` per key of an
//! `upsert` sink only the batch's latest record, `complete` the whole table of an `upsert`
//! sink at every batch end.
//!
//! **Failure.** A crash during a batch discards its uncommitted results and re-runs the same
//! batch (the offset log fixes its input; state is restored from the previous batch's
//! version) after the downtime: exactly-once. Because operators are deterministic, the re-run
//! produces exactly what the first attempt would have; only its end moves.

use super::dataflow::{Dataflow, Exchange, SinkOutputs};
use super::faults::CrashSettings;
use super::{BatchReport, FailureReport, ModeError, ModeRun, report};
use crate::core::time::{EventTime, SimDuration, SimTime};
use crate::core::value::Value;
use crate::ops::batch::Batch;
use crate::plan::Plan;
use crate::report::Status;
use crate::scenario::modes::{MicroBatchSettings, MicroBatchVariant, OutputMode};
use crate::scenario::{NodeKind, Scenario, SinkSpec};
use std::collections::BTreeMap;

/// Per upsert sink (node): key → its latest record.
type Tables = BTreeMap<usize, BTreeMap<Vec<u8>, (Vec<Value>, crate::sim::buffer::RecMeta)>>;

/// Most records one batch reads from one source subtask (bounds memory).
const MAX_BATCH_RECORDS: usize = 2_000_000;

/// Runs the scenario in micro-batch mode.
pub fn run(
    s: &Scenario,
    p: &Plan,
    seed: Option<u64>,
    mut crash: Option<CrashSettings>,
    collect: bool,
) -> Result<(ModeRun, SinkOutputs), ModeError> {
    let seed = seed.unwrap_or(s.seed);
    let cfg = &s.modes.micro_batch;
    let mut df = Dataflow::new(s, p, seed, Exchange::Blocking);
    df.collect = collect;
    let trigger = cfg.trigger;
    let overhead = cfg.overhead;
    let dstream = cfg.variant == MicroBatchVariant::Dstream;
    let mut wm = Watermarks::new(df.has_event_time());
    let upsert_keys = upsert_keys(s, p, &mut df);
    // Per upsert sink (node): the full result table (complete mode).
    let mut tables: Tables = BTreeMap::new();
    let mut batches: Vec<BatchReport> = Vec::new();
    let mut failures = Vec::new();
    let mut t = SimTime::ZERO; // earliest start of the next batch
    let mut prev_start: Option<SimTime> = None;
    let mut k: u64 = 0;
    let mut events = 0u64;
    let mut status = Status::Finished;
    let mut message = None;
    loop {
        if t > SimTime::at(s.limits.max_sim_time) || events > s.limits.max_events {
            status = Status::LimitReached;
            message = Some(limit_message(s, events));
            break;
        }
        let Some((mut start, mut read_until)) =
            next_batch(&df, &wm, dstream, trigger, k, t, prev_start)
        else {
            break;
        };
        // A crash while no batch ran: the next batch waits for the restart.
        if let Some(c) = crash
            && c.at < start
        {
            failures.push(failure(
                c,
                "between batches: the next batch starts after the restart",
            ));
            start = start.max(c.at + c.downtime);
            if !dstream {
                read_until = start;
            }
            crash = None;
        }
        k += 1;
        events += 1;
        let begin = start + overhead;
        let records = run_batch(&mut df, &mut wm, read_until, begin);
        let mut end = df.all_free().max(begin);
        // A crash inside this batch: it runs again after the downtime.
        if let Some(c) = crash
            && c.at >= start
            && c.at < end
        {
            let recovery = format!("batch {k} re-run from the offset log; its results commit once");
            failures.push(failure(c, &recovery));
            end = rerun_batch(&mut df, c, start, end);
            crash = None;
        }
        deliver(&mut df, end, cfg.output_mode, &upsert_keys, &mut tables);
        batches.push(batch_report(k, start, end, records, &wm));
        if let Some(f) = &df.failure {
            status = Status::Failed;
            message = Some(f.clone());
            t = end;
            break;
        }
        wm.pending = df.source_watermark_per_stream();
        prev_start = Some(start);
        t = end;
        if !dstream && df.sources_done() && !df.has_pending() && !wm.final_due() {
            break;
        }
    }
    let r = report::build(
        s,
        p,
        &df,
        super::Mode::MicroBatch.name(),
        seed,
        t,
        status,
        message,
        events,
    );
    let mut details = report::details(&r, settings(cfg));
    details.batches = batches;
    details.failures = failures;
    Ok(report::finish(super::Mode::MicroBatch, r, details, &df))
}

/// Event time across batches: the watermark computed at the end of a batch is applied first
/// by the next one; a last batch applies the final watermark (+∞) once the input is exhausted.
struct Watermarks {
    /// Whether the job has event-time operators (otherwise no batch moves a watermark).
    event_time: bool,
    /// The watermark the operators have.
    applied: EventTime,
    /// The watermark computed at the end of the last batch, for the next one.
    pending: Option<EventTime>,
    /// Whether the final watermark has been applied.
    final_done: bool,
}

impl Watermarks {
    /// Before the first batch: no watermark yet.
    fn new(event_time: bool) -> Self {
        Watermarks {
            event_time,
            applied: crate::core::time::EventTime::MIN,
            pending: None,
            final_done: false,
        }
    }

    /// Whether the next batch moves the watermark (Spark runs a no-data batch for this).
    fn moves(&self) -> bool {
        self.event_time && self.pending.is_some_and(|w| w > self.applied)
    }

    /// Whether a batch applying the final watermark is still due.
    fn final_due(&self) -> bool {
        self.event_time && !self.final_done
    }

    /// The watermark a batch applies before its records: +∞ when `finishing` (the bounded
    /// input is exhausted), the pending one when it `moves`.
    fn for_batch(&mut self, finishing: bool, moves: bool) -> Option<EventTime> {
        let w = if finishing {
            self.final_done = true;
            Some(EventTime::MAX)
        } else if moves {
            self.pending
        } else {
            None
        };
        if let Some(w) = w {
            self.applied = w;
        }
        w
    }

    /// The watermark a batch report shows: none before the first or after the final one.
    fn reported(&self) -> Option<EventTime> {
        (self.applied != crate::core::time::EventTime::MIN && self.applied != EventTime::MAX)
            .then_some(self.applied)
    }
}

/// When batch `k + 1` starts and up to when it reads (processing time), not before `t`;
/// `None` when the run is over. DStream: batch `k + 1` is due at `(k + 1)·interval` and reads
/// what arrived before; it runs even when empty, until the input is exhausted and processed.
/// Structured: see [`structured_start`]; a batch reads what arrived by its start.
fn next_batch(
    df: &Dataflow,
    wm: &Watermarks,
    dstream: bool,
    trigger: SimDuration,
    k: u64,
    t: SimTime,
    prev_start: Option<SimTime>,
) -> Option<(SimTime, SimTime)> {
    let sources_done = df.sources_done();
    if dstream {
        if sources_done && !df.has_pending() && !wm.final_due() {
            return None;
        }
        let due = SimTime::at(trigger * (k + 1));
        Some((due.max(t), due.saturating_sub(SimDuration::from_nanos(1))))
    } else {
        let no_data_batch = wm.moves() || sources_done && wm.final_due();
        let start = structured_start(df, trigger, prev_start, t, no_data_batch)?;
        Some((start, start))
    }
}

/// A crash at `c.at` inside a batch that ran from `start` to `end`: the batch runs again
/// after the downtime, as long as before, and every thread is busy until it ends. Returns the
/// re-run's end.
fn rerun_batch(df: &mut Dataflow, c: CrashSettings, start: SimTime, end: SimTime) -> SimTime {
    // (`end` is never before `start`.)
    let rerun = c.at + c.downtime + end.since(start);
    for f in df.free.iter_mut().flatten() {
        *f = (*f).max(rerun);
    }
    rerun
}

/// Structured Streaming's trigger: the start of the next batch, not before `t`, on a trigger
/// boundary. A batch starts only with data to read, or when `no_data_batch` (a watermark to
/// move); otherwise it waits for the next record's birth. `None`: no record will come.
fn structured_start(
    df: &Dataflow,
    trigger: SimDuration,
    prev_start: Option<SimTime>,
    t: SimTime,
    no_data_batch: bool,
) -> Option<SimTime> {
    let next_birth = df.sources.iter().filter_map(|x| x.next_birth()).min();
    let mut start = trigger_boundary(trigger, prev_start, t);
    let has_data = next_birth.is_some_and(|b| b <= start);
    if !(has_data || no_data_batch) {
        start = trigger_boundary(trigger, prev_start, next_birth?.max(t));
    }
    Some(start)
}

/// The first trigger boundary at or after `at` (every boundary with `trigger` 0, as fast as
/// possible). After a batch that started at `prev_start`, boundaries count from it; a batch
/// that overran its interval lets the next start at once.
fn trigger_boundary(trigger: SimDuration, prev_start: Option<SimTime>, at: SimTime) -> SimTime {
    match prev_start {
        _ if trigger.is_zero() => at,
        None => at.ceil_to(trigger),
        Some(ps) => {
            let next = ps + trigger;
            if at <= next {
                next
            } else {
                // the previous batch overran: start at once, or at the next
                // boundary after the data arrives
                at.max(next + at.since(next).ceil_to(trigger))
            }
        }
    }
}

/// One batch, starting its work at `begin`: it reads the sources up to `read_until`, applies
/// the watermark first (see [`Watermarks::for_batch`]), then processes what it read, chain by
/// chain. Returns the number of records read.
fn run_batch(df: &mut Dataflow, wm: &mut Watermarks, read_until: SimTime, begin: SimTime) -> u64 {
    let moves = wm.moves();
    let (records, reads) = read_sources(df, read_until);
    let finishing = df.sources_done() && records == 0 && wm.final_due();
    if let Some(w) = wm.for_batch(finishing, moves) {
        df.pass(begin, Some(w));
    }
    for (node, st, b) in &reads {
        let at = vec![begin; b.len()];
        df.inject(*node, *st, b, &at);
    }
    if !reads.is_empty() {
        df.pass(begin, None);
    }
    records
}

/// The report of a crash and how the job recovered from it.
fn failure(c: CrashSettings, recovery: &str) -> FailureReport {
    FailureReport {
        at_ms: c.at.as_millis_f64(),
        downtime_ms: c.downtime.as_millis_f64(),
        restored_checkpoint: None,
        recovery: recovery.into(),
    }
}

/// A batch reads every source subtask up to `read_until` (at most [`MAX_BATCH_RECORDS`]
/// each): the records read, and what each subtask produced, as `(node, subtask, records)`.
fn read_sources(df: &mut Dataflow, read_until: SimTime) -> (u64, Vec<(usize, u32, Batch)>) {
    let mut records = 0u64;
    let mut reads: Vec<(usize, u32, Batch)> = Vec::new();
    for src in &mut df.sources {
        let b = src.take_until(read_until, MAX_BATCH_RECORDS);
        if !b.is_empty() {
            records += b.len() as u64;
            reads.push((src.node, src.subtask, b));
        }
    }
    (records, reads)
}

/// Why the run stopped at the `[limits]`.
fn limit_message(s: &Scenario, batches: u64) -> String {
    format!(
        "micro-batch run passed [limits] (simulated time {} or {} batches)",
        s.limits.max_sim_time, batches
    )
}

/// The report of batch `k`, which ran from `start` to `end` and read `records`.
fn batch_report(
    k: u64,
    start: SimTime,
    end: SimTime,
    records: u64,
    wm: &Watermarks,
) -> BatchReport {
    BatchReport {
        id: k.to_string(),
        start_ms: start.as_millis_f64(),
        end_ms: end.as_millis_f64(),
        records,
        watermark: wm.reported(),
    }
}

/// The settings a micro-batch report lists.
fn settings(cfg: &MicroBatchSettings) -> Vec<String> {
    let dstream = cfg.variant == MicroBatchVariant::Dstream;
    vec![
        format!("variant {}", if dstream { "dstream" } else { "structured" }),
        if cfg.trigger.is_zero() {
            "trigger as fast as possible".into()
        } else {
            format!("trigger {}", cfg.trigger)
        },
        format!("output mode {}", cfg.output_mode.name()),
        format!("overhead {} per batch", cfg.overhead),
    ]
}

/// The key expression of every `upsert` sink, by logical node.
fn upsert_keys(s: &Scenario, p: &Plan, df: &mut Dataflow) -> BTreeMap<usize, crate::expr::Expr> {
    let g = &p.logical.graph;
    let mut m = BTreeMap::new();
    for ix in g.node_indices() {
        let node = &s.nodes[g[ix].scenario_node];
        if let NodeKind::Sink(SinkSpec::Upsert { key, .. }, _) = &node.kind {
            m.insert(ix.index(), key.compiled.bind(&mut df.interner));
        }
    }
    m
}

/// Commits a batch: its sink records become visible at `end`, shaped by the output mode.
fn deliver(
    df: &mut Dataflow,
    end: SimTime,
    mode: OutputMode,
    keys: &BTreeMap<usize, crate::expr::Expr>,
    tables: &mut Tables,
) {
    let arrivals = df.take_sink_arrivals();
    // group per node: update/complete work per sink over all its subtasks
    for (node, st, a) in arrivals {
        let arity = df.arity(node);
        let key = keys.get(&node);
        match (mode, key) {
            (OutputMode::Append, _) | (_, None) => {
                let ts = vec![end; a.at.len()];
                df.deliver(node, st, a.batch.view(), &ts);
            }
            (OutputMode::Update, Some(k)) | (OutputMode::Complete, Some(k)) => {
                // the latest record per key of this batch (in arrival order)
                let mut latest: BTreeMap<Vec<u8>, (Vec<Value>, crate::sim::buffer::RecMeta)> =
                    BTreeMap::new();
                for i in 0..a.at.len() {
                    let row = a.batch.view().row(i).to_vec();
                    let kb = key_bytes(k, &row, df);
                    latest.insert(kb, (row, a.batch.meta[i]));
                }
                if mode == OutputMode::Update {
                    let mut b = Batch::new(arity);
                    for (row, meta) in latest.values() {
                        b.push(row, *meta, 0);
                    }
                    let ts = vec![end; b.len()];
                    df.deliver(node, st, b.view(), &ts);
                } else {
                    let t = tables.entry(node).or_default();
                    t.extend(latest);
                }
            }
        }
    }
    if mode == OutputMode::Complete {
        for (&node, table) in tables.iter() {
            let arity = df.arity(node);
            let mut b = Batch::new(arity);
            for (row, meta) in table.values() {
                b.push(row, *meta, 0);
            }
            let ts = vec![end; b.len()];
            df.deliver(node, 0, b.view(), &ts);
        }
    }
}

/// A key's value as bytes that order deterministically (strings by content).
fn key_bytes(k: &crate::expr::Expr, row: &[Value], df: &mut Dataflow) -> Vec<u8> {
    let mut scratch = String::new();
    let mut error = None;
    let mut ev = crate::expr::eval::EvalCx {
        interner: &mut df.interner,
        scratch: &mut scratch,
        error: &mut error,
    };
    let v = k.eval(row, &[], &mut ev);
    v.to_json(ev.interner).to_string().into_bytes()
}
