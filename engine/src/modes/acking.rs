//! Acking: Apache Storm's record-at-a-time model with per-tuple acks.
//!
//! Spouts emit tuples one at a time, in order of creation (a spout that was down catches up
//! when it is back). Each tuple runs through the bolts at once (no buffering: a tuple crosses
//! a network edge after the serialization cost and the channel latency) and is visible when
//! a sink receives it. Every subtask is one thread: a tuple waits while its thread is busy.
//!
//! **Acks.** A spout tuple's tree is complete when every tuple derived from it has been
//! processed (by a sink, or absorbed into a window or an aggregate). The acker then spends
//! `ack_cost` per tuple of the tree and tells the spout after a local channel hop. Storm keeps
//! no checkpoints: at-least-once comes from replay alone.
//!
//! **Backpressure.** The acker is one executor with a bounded receive queue
//! ([`ACKER_QUEUE`] ack messages, Storm 2's `topology.executor.receive.buffer.size`). When
//! it is full, the bolts that send acks block, and Storm's backpressure stops the spouts: a
//! spout emits its next tuple only once the acker's queue has room. An overloaded acker (or
//! bolt) therefore holds records back at the source, where they wait past the time they
//! were due.
//!
//! **Latency** is the same as in every mode: from a record's creation at its source (when it
//! was due, for a source with a `rate`) to the moment a sink receives the result, so a spout
//! that falls behind its input shows as latency.
//!
//! **Event time.** Storm's windowed bolts move on watermarks the spouts' timestamps give;
//! here every `auto_watermark_interval` the operators get the watermark of the sources' own
//! generators (the streaming engine's [`crate::flink::watermark::Generator`]: largest event time −
//! bound − 1 ms), the minimum over the source subtasks as an operator's watermark is in
//! Flink (a subtask that has produced everything no longer holds it back), then +∞ when the
//! input ends.
//!
//! **Failure.** A crash at `at` kills the workers: every tuple still in flight — emitted but
//! not yet acked — loses what it had not done yet, and bolts lose their in-memory state. The
//! spout replays each lost tuple when its message timeout expires (`emit + message_timeout`,
//! or after the restart if that is later). Outputs a lost tuple had already delivered before
//! the crash are delivered again by the replay: duplicates, at-least-once. A replayed tuple
//! keeps its creation time, so its latency includes the timeout.

use super::dataflow::{Dataflow, Exchange, SinkOutputs};
use super::faults::CrashSettings;
use super::{FailureReport, ModeError, ModeRun, report};
use crate::core::time::{EventTime, SimDuration, SimTime};
use crate::ops::batch::Batch;
use crate::plan::Plan;
use crate::report::Status;
use crate::scenario::Scenario;
use crate::scenario::modes::AckingSettings;
use std::collections::VecDeque;

/// Ack messages the acker's receive queue holds before its senders block (Storm 2's
/// `topology.executor.receive.buffer.size`, 32 768).
pub const ACKER_QUEUE: u64 = crate::core::defaults::baselines::STORM_RECEIVE_BUFFER;

/// The acker's receive queue: per tuple tree, when the acker starts on its acks and how many
/// ack messages it sent, in acker order (FIFO, so the start times never decrease).
#[derive(Default)]
struct AckerQueue {
    trees: VecDeque<(SimTime, u64)>,
    waiting: u64,
}

impl AckerQueue {
    /// The earliest time at or after `t` at which the queue has room: the acks of trees the
    /// acker has started on by then have left it.
    fn room_at(&mut self, mut t: SimTime) -> SimTime {
        loop {
            while let Some(&(start, msgs)) = self.trees.front()
                && start <= t
            {
                self.trees.pop_front();
                self.waiting -= msgs;
            }
            match self.trees.front() {
                Some(&(start, _)) if self.waiting >= ACKER_QUEUE => t = start,
                _ => return t,
            }
        }
    }

    /// A tree's acks join the queue; the acker starts on them at `start`.
    fn push(&mut self, start: SimTime, msgs: u64) {
        self.trees.push_back((start, msgs));
        self.waiting += msgs;
    }

    /// A crash: the acker restarts empty.
    fn clear(&mut self) {
        self.trees.clear();
        self.waiting = 0;
    }
}

/// A tuple the spout may have to replay.
struct InFlight {
    src: usize,
    tuple: Batch,
    emitted: SimTime,
    acked: SimTime,
}

/// The acker executor: its receive queue, when it is next free, and what an ack costs.
struct Acker {
    queue: AckerQueue,
    free: SimTime,
    /// The hop from a bolt to the acker and from the acker to the spout (a local channel).
    hop: SimDuration,
    /// CPU time per ack message.
    cost: SimDuration,
}

impl Acker {
    /// Idle, with an empty queue; acks hop over a local channel.
    fn new(s: &Scenario) -> Self {
        Acker {
            queue: AckerQueue::default(),
            free: SimTime::ZERO,
            hop: s.cost.local_channel_latency,
            cost: s.modes.acking.ack_cost,
        }
    }

    /// A spout tuple's tree of `tree` tuples was done at `done`: its acks reach the acker
    /// after a hop and wait for it; the acker spends `cost` per tuple. Returns when the
    /// spout learns the tuple is acked.
    fn ack(&mut self, done: SimTime, tree: u64) -> SimTime {
        let start = (done + self.hop).max(self.free);
        self.queue.push(start, tree);
        self.free = start + self.cost * tree;
        self.free + self.hop
    }

    /// A crash: the acker comes back empty at `restart_at`.
    fn restart(&mut self, restart_at: SimTime) {
        self.queue.clear();
        self.free = self.free.min(restart_at);
    }
}

/// Runs the scenario in acking mode.
pub fn run(
    s: &Scenario,
    p: &Plan,
    seed: Option<u64>,
    mut crash: Option<CrashSettings>,
    collect: bool,
) -> Result<(ModeRun, SinkOutputs), ModeError> {
    let seed = seed.unwrap_or(s.seed);
    let cfg = &s.modes.acking;
    let mut df = Dataflow::new(s, p, seed, Exchange::Pipelined);
    df.collect = collect;
    let event_time = df.has_event_time();
    let tick = s
        .job
        .auto_watermark_interval
        .max(SimDuration::from_millis(1));
    let mut next_tick = SimTime::at(tick);
    let mut acker = Acker::new(s);
    let mut spout_free: Vec<SimTime> = vec![SimTime::ZERO; df.sources.len()];
    let mut restart_at = SimTime::ZERO;
    let mut replay = Replay::default();
    let mut failures = Vec::new();
    let mut events = 0u64;
    let mut now = SimTime::ZERO;
    let mut status = Status::Finished;
    let mut message = None;
    loop {
        // The next tuple: the earliest due replay or the earliest created record.
        let next_src = next_record(&df, &spout_free);
        let next_replay = replay.next_due();
        let next = earliest(next_src.map(|(b, _)| b), next_replay);
        // Backpressure from the acker: the spouts wait for room in its queue.
        let next = next.map(|n| acker.queue.room_at(n.max(restart_at)));
        // Crash before the next tuple?
        if let Some(c) = crash
            && next.is_none_or(|n| n.max(restart_at) >= c.at)
        {
            crash = None;
            restart_at = c.at + c.downtime;
            acker.restart(restart_at);
            // bolts restart empty; sinks are external systems and keep what they have
            df.restart_from(Dataflow::new(s, p, seed, Exchange::Pipelined), restart_at);
            replay.lose_in_flight(c, cfg.message_timeout, restart_at);
            failures.push(failure(c, replay.replayed, cfg));
            continue;
        }
        let Some(at) = next else { break };
        let at = at.max(restart_at);
        // Watermarks due before this tuple.
        while event_time && next_tick <= at {
            watermark_tick(&mut df, next_tick, crash, &mut replay);
            next_tick += tick;
        }
        if at > SimTime::at(s.limits.max_sim_time) || events > s.limits.max_events {
            status = Status::LimitReached;
            message = Some(limit_message(s));
            break;
        }
        events += 1;
        let (src, tuple) = match (next_src, next_replay) {
            (Some((b, i)), r) if r.is_none_or(|r| b <= r) => (i, spout_read(&mut df, i, b, at)),
            _ => replay.take_due(),
        };
        if tuple.is_empty() {
            continue;
        }
        // the tuple is emitted at `at`
        let acked = emit(&mut df, &mut acker, &mut spout_free, src, &tuple, at);
        now = now.max(acked);
        if crash.is_some_and(|c| at < c.at) {
            replay.track(src, tuple, at, acked);
        }
        deliver(&mut df, crash, &mut replay.in_flight);
        if let Some(f) = &df.failure {
            status = Status::Failed;
            message = Some(f.clone());
            break;
        }
    }
    if status == Status::Finished && event_time {
        end_of_input(&mut df, now, &mut replay);
    }
    let end = df.all_free().max(now).max(acker.free);
    let r = report::build(
        s,
        p,
        &df,
        super::Mode::Acking.name(),
        seed,
        end,
        status,
        message,
        events,
    );
    let mut details = report::details(&r, settings(cfg));
    details.failures = failures;
    details.replayed = Some(replay.replayed);
    Ok(report::finish(super::Mode::Acking, r, details, &df))
}

/// The earlier of two optional times.
fn earliest(a: Option<SimTime>, b: Option<SimTime>) -> Option<SimTime> {
    a.into_iter().chain(b).min()
}

/// The input has ended (the job finished, no crash ahead): once every thread is free (and
/// not before `now`), the operators get the final watermark (+∞) and the sinks show what it
/// fired.
fn end_of_input(df: &mut Dataflow, now: SimTime, replay: &mut Replay) {
    let t = df.all_free().max(now);
    df.pass(t, Some(EventTime::MAX));
    deliver(df, None, &mut replay.in_flight);
}

/// The earliest record a spout can emit: the source subtask with the earliest born record
/// (at the earliest when its spout is free), as `(time, source index)`.
fn next_record(df: &Dataflow, spout_free: &[SimTime]) -> Option<(SimTime, usize)> {
    df.sources
        .iter()
        .enumerate()
        .filter_map(|(i, x)| x.next_birth().map(|b| (b.max(spout_free[i]), i)))
        .min()
}

/// Spout `src` emits `tuple` at `emitted`: it runs through the bolts at once, the spout is
/// free again when its chain is, and the acker acks the tuple's tree once every tuple of it
/// is done. Returns when the spout learns the tuple is acked.
fn emit(
    df: &mut Dataflow,
    acker: &mut Acker,
    spout_free: &mut [SimTime],
    src: usize,
    tuple: &Batch,
    emitted: SimTime,
) -> SimTime {
    let (node, st) = (df.sources[src].node, df.sources[src].subtask);
    df.inject(node, st, tuple, &[emitted]);
    df.pass(emitted, None);
    spout_free[src] = df.free[df.nodes[node].vertex][st as usize];
    acker.ack(df.pass_done.max(emitted), df.pass_records)
}

/// An `auto_watermark_interval` tick at `t`: the operators get the sources' watermark (when
/// there is one) and the sinks show what it fired.
fn watermark_tick(
    df: &mut Dataflow,
    t: SimTime,
    crash: Option<CrashSettings>,
    replay: &mut Replay,
) {
    if let Some(w) = df.source_watermark() {
        df.pass(t, Some(w));
        deliver(df, crash, &mut replay.in_flight);
    }
}

/// Spout `i` reads its next record (born by `b`) at `at`.
fn spout_read(df: &mut Dataflow, i: usize, b: SimTime, at: SimTime) -> Batch {
    let x = &mut df.sources[i];
    let mut t = x.take_until(b, 1);
    if x.state.pace.is_none() {
        // a source without a rate reads a record when the spout gets to it: that
        // is its creation, as in streaming, where backpressure delays the read
        for m in &mut t.meta {
            m.born = m.born.max(at);
        }
    }
    t
}

/// What the spouts may have to replay: the tuples in flight (emitted before a crash still
/// ahead), the replays due, and how many tuples were replayed.
#[derive(Default)]
struct Replay {
    in_flight: Vec<InFlight>,
    /// Replays due: `(due time, source index, tuple)`, by due time.
    due: Vec<(SimTime, usize, Batch)>,
    replayed: u64,
}

impl Replay {
    /// A tuple emitted at `emitted` and acked at `acked` may have to be replayed.
    fn track(&mut self, src: usize, tuple: Batch, emitted: SimTime, acked: SimTime) {
        self.in_flight.push(InFlight {
            src,
            tuple,
            emitted,
            acked,
        });
    }

    /// Takes the earliest due replay: `(source index, tuple)`.
    fn take_due(&mut self) -> (usize, Batch) {
        let r = self.due.remove(0);
        (r.1, r.2)
    }

    /// When the earliest replay is due.
    fn next_due(&self) -> Option<SimTime> {
        self.due.iter().map(|r| r.0).min()
    }

    /// A crash at `c.at`: every tuple in flight that was not acked by then is lost, and its
    /// spout replays it when its message timeout expires (`emit + timeout`, or at the restart
    /// if that is later).
    fn lose_in_flight(&mut self, c: CrashSettings, timeout: SimDuration, restart_at: SimTime) {
        let lost: Vec<InFlight> = std::mem::take(&mut self.in_flight)
            .into_iter()
            .filter(|t| t.acked > c.at)
            .collect();
        for t in lost {
            let due = (t.emitted + timeout).max(restart_at);
            self.due.push((due, t.src, t.tuple));
            self.replayed += 1;
        }
        self.due.sort_by_key(|r| r.0);
    }
}

/// The report of a crash: workers restart, un-acked tuples are replayed (`replayed` so far).
fn failure(c: CrashSettings, replayed: u64, cfg: &AckingSettings) -> FailureReport {
    FailureReport {
        at_ms: c.at.as_millis_f64(),
        downtime_ms: c.downtime.as_millis_f64(),
        restored_checkpoint: None,
        recovery: format!(
            "workers restarted with empty bolts; {replayed} un-acked tuples replayed after the {} message timeout",
            cfg.message_timeout
        ),
    }
}

/// The settings an acking report lists.
fn settings(cfg: &AckingSettings) -> Vec<String> {
    vec![
        format!("message timeout {}", cfg.message_timeout),
        format!("ack cost {} per tuple", cfg.ack_cost),
    ]
}

/// Why the run stopped at the `[limits]`.
fn limit_message(s: &Scenario) -> String {
    format!(
        "acking run passed [limits] (simulated time {} or {} events)",
        s.limits.max_sim_time, s.limits.max_events
    )
}

/// Sinks show what reached them. With a crash still ahead, what would arrive after it never
/// does (the tuple is lost and replayed), so only arrivals before the crash are delivered.
fn deliver(df: &mut Dataflow, crash: Option<CrashSettings>, _in_flight: &mut [InFlight]) {
    for (node, st, a) in df.take_sink_arrivals() {
        let cut = crash.map_or(SimTime::MAX, |c| c.at);
        let keep: Vec<usize> = (0..a.at.len()).filter(|&i| a.at[i] < cut).collect();
        if keep.len() == a.at.len() {
            df.deliver(node, st, a.batch.view(), &a.at);
        } else {
            let mut b = Batch::new(a.batch.arity);
            let mut ts = Vec::new();
            for i in keep {
                b.push(a.batch.view().row(i), a.batch.meta[i], 0);
                ts.push(a.at[i]);
            }
            df.deliver(node, st, b.view(), &ts);
        }
    }
}
