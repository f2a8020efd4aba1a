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
use crate::core::time::{EVENT_TIME_MAX, SimTime};
use crate::ops::batch::Batch;
use crate::plan::Plan;
use crate::report::Status;
use crate::scenario::Scenario;
use std::collections::VecDeque;

/// Ack messages the acker's receive queue holds before its senders block (Storm 2's
/// `topology.executor.receive.buffer.size`, 32 768).
pub const ACKER_QUEUE: u64 = crate::core::defaults::baselines::STORM_RECEIVE_BUFFER;

/// The acker's receive queue: per tuple tree, when the acker starts on its acks and how many
/// ack messages it sent, in acker order (FIFO, so the start times never decrease).
#[derive(Default)]
struct AckerQueue {
    trees: VecDeque<(u64, u64)>,
    waiting: u64,
}

impl AckerQueue {
    /// The earliest time at or after `t` at which the queue has room: the acks of trees the
    /// acker has started on by then have left it.
    fn room_at(&mut self, mut t: u64) -> u64 {
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
    fn push(&mut self, start: u64, msgs: u64) {
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
    emitted: u64,
    acked: u64,
}

/// Runs the scenario in acking mode.
pub fn run(
    s: &Scenario,
    p: &Plan,
    seed: Option<u64>,
    crash: Option<CrashSettings>,
    collect: bool,
) -> Result<(ModeRun, SinkOutputs), ModeError> {
    let seed = seed.unwrap_or(s.seed);
    let cfg = &s.modes.acking;
    let mut df = Dataflow::new(s, p, seed, Exchange::Pipelined);
    df.collect = collect;
    let event_time = df.has_event_time();
    let tick = s.job.auto_watermark_interval.as_nanos().max(1_000_000);
    let mut next_tick = tick;
    let ack_hop = s.cost.local_channel_latency.as_nanos();
    let mut acker_free = 0u64;
    let mut acker_queue = AckerQueue::default();
    let mut spout_free: Vec<u64> = vec![0; df.sources.len()];
    let mut crash = crash;
    let mut restart_at = 0u64;
    let mut in_flight: Vec<InFlight> = Vec::new();
    // Replays due: (due time, tuple).
    let mut replays: Vec<(u64, usize, Batch)> = Vec::new();
    let mut replayed = 0u64;
    let mut failures = Vec::new();
    let mut events = 0u64;
    let mut now = 0u64;
    let mut status = Status::Finished;
    let mut message = None;
    loop {
        // The next tuple: the earliest due replay or the earliest created record.
        let next_src = df
            .sources
            .iter()
            .enumerate()
            .filter_map(|(i, x)| x.next_birth().map(|b| (b.as_nanos().max(spout_free[i]), i)))
            .min();
        let next_replay = replays.iter().map(|r| r.0).min();
        let next = match (next_src, next_replay) {
            (None, None) => None,
            (Some((b, _)), Some(r)) => Some(b.min(r)),
            (Some((b, _)), None) => Some(b),
            (None, Some(r)) => Some(r),
        };
        // Backpressure from the acker: the spouts wait for room in its queue.
        let next = next.map(|n| acker_queue.room_at(n.max(restart_at)));
        // Crash before the next tuple?
        if let Some(c) = crash
            && next.is_none_or(|n| n.max(restart_at) >= c.at.as_nanos())
        {
            crash = None;
            restart_at = c.at.as_nanos() + c.downtime.as_nanos();
            acker_queue.clear();
            acker_free = acker_free.min(restart_at);
            // bolts restart empty; sinks are external systems and keep what they have
            let fresh = Dataflow::new(s, p, seed, Exchange::Pipelined);
            df.restart_from(fresh, restart_at);
            let lost: Vec<InFlight> = std::mem::take(&mut in_flight)
                .into_iter()
                .filter(|t| t.acked > c.at.as_nanos())
                .collect();
            for t in lost {
                let due = (t.emitted + cfg.message_timeout.as_nanos()).max(restart_at);
                replays.push((due, t.src, t.tuple));
                replayed += 1;
            }
            replays.sort_by_key(|r| r.0);
            failures.push(FailureReport {
                at_ms: c.at.as_millis_f64(),
                downtime_ms: c.downtime.as_millis_f64(),
                restored_checkpoint: None,
                recovery: format!(
                    "workers restarted with empty bolts; {replayed} un-acked tuples replayed after the {} message timeout",
                    cfg.message_timeout
                ),
            });
            continue;
        }
        let Some(at) = next else { break };
        let at = at.max(restart_at);
        // Watermarks due before this tuple.
        while event_time && next_tick <= at {
            if let Some(w) = df.source_watermark() {
                df.pass(next_tick, Some(w));
                deliver(&mut df, crash, &mut in_flight);
            }
            next_tick += tick;
        }
        if at > s.limits.max_sim_time.as_nanos() || events > s.limits.max_events {
            status = Status::LimitReached;
            message = Some(format!(
                "acking run passed [limits] (simulated time {} or {} events)",
                s.limits.max_sim_time, s.limits.max_events
            ));
            break;
        }
        events += 1;
        let (src, tuple, emitted) = match (next_src, next_replay) {
            (Some((b, i)), r) if r.is_none_or(|r| b <= r) => {
                let x = &mut df.sources[i];
                let mut t = x.take_until(SimTime::from_nanos(b), 1);
                if x.state.interval_ns.is_none() {
                    // a source without a rate reads a record when the spout gets to it: that
                    // is its creation, as in streaming, where backpressure delays the read
                    for m in &mut t.meta {
                        m.born = m.born.max(SimTime::from_nanos(at));
                    }
                }
                (i, t, at)
            }
            _ => {
                let r = replays.remove(0);
                (r.1, r.2, at)
            }
        };
        if tuple.is_empty() {
            continue;
        }
        let (node, st) = (df.sources[src].node, df.sources[src].subtask);
        df.inject(node, st, &tuple, &[emitted]);
        df.pass(emitted, None);
        spout_free[src] = df.free[df.nodes[node].vertex][st as usize];
        let tree = df.pass_records;
        let done = df.pass_done.max(emitted);
        let acker_start = (done + ack_hop).max(acker_free);
        acker_queue.push(acker_start, tree);
        acker_free = acker_start + cfg.ack_cost.as_nanos() * tree;
        let acked = acker_free + ack_hop;
        now = now.max(acked);
        if crash.is_some_and(|c| emitted < c.at.as_nanos()) {
            in_flight.push(InFlight {
                src,
                tuple,
                emitted,
                acked,
            });
        }
        deliver(&mut df, crash, &mut in_flight);
        if let Some(f) = &df.failure {
            status = Status::Failed;
            message = Some(f.clone());
            break;
        }
    }
    if status == Status::Finished && event_time {
        let t = df.all_free().max(now);
        df.pass(t, Some(EVENT_TIME_MAX));
        deliver(&mut df, None, &mut in_flight);
    }
    let end = df.all_free().max(now).max(acker_free);
    let r = report::build(
        s,
        p,
        &df,
        super::Mode::Acking.name(),
        seed,
        SimTime::from_nanos(end),
        status,
        message,
        events,
    );
    let mut details = report::details(
        &r,
        vec![
            format!("message timeout {}", cfg.message_timeout),
            format!("ack cost {} per tuple", cfg.ack_cost),
        ],
    );
    details.failures = failures;
    details.replayed = Some(replayed);
    Ok(report::finish(super::Mode::Acking, r, details, &df))
}

/// Sinks show what reached them. With a crash still ahead, what would arrive after it never
/// does (the tuple is lost and replayed), so only arrivals before the crash are delivered.
fn deliver(df: &mut Dataflow, crash: Option<CrashSettings>, _in_flight: &mut [InFlight]) {
    for (node, st, a) in df.take_sink_arrivals() {
        let cut = crash.map_or(u64::MAX, |c| c.at.as_nanos());
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
