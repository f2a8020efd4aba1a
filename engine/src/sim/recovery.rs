//! Failures and recovery: the job's life cycle, restart strategies, failover regions, and
//! restoring tasks from the latest completed checkpoint.
//!
//! A failure cancels the tasks of its **failover region** — with the region strategy the
//! pipelined region of the failed task (tasks connected by channels; a job with a keyBy or
//! rebalance is one region, a forward-only job has one region per subtask index), with the
//! full strategy the whole job. The restart strategy decides whether and when they restart
//! (Flink's `RestartBackoffTimeStrategy`s, with their exact algorithms and messages). A
//! restart redeploys the region's tasks fresh and restores each from its snapshot in the
//! latest completed checkpoint: operator state, keyed state, timers and source offsets, so
//! the sources replay from their checkpointed offsets. Sinks keep what they already made
//! visible — that left the job. Without a completed checkpoint the region starts over.
//!
//! With the region strategy the job stays RUNNING while a region restarts (as in Flink); a
//! global failover (full strategy, a JobManager failover, too many failed checkpoints) goes
//! through RESTARTING.
//!
//! [`Recovery`] is the subsystem's state; the kernel decides when a task fails (scripted
//! faults, lost heartbeats, failed checkpoints) and carries out cancelling and redeploying.

use super::build::Runtime;
use super::channel::Channel;
use super::checkpoint::Completed;
use super::queue::{Event, EventQueue};
use super::task::Task;
use super::trace::Trace;
use crate::core::time::SimTime;
use crate::flink::restart::{Backoff, JobStatus};
use crate::ops::Operator;
use crate::report::{FailureReport, JobTransition};
use crate::scenario::Scenario;
use serde_json::json;

/// Recovery bookkeeping of a run.
#[derive(Debug)]
pub struct Recovery {
    /// The job's status.
    pub status: JobStatus,
    /// Its changes.
    pub transitions: Vec<JobTransition>,
    /// Failures, for the report.
    pub failures: Vec<FailureReport>,
    /// The restart strategy.
    pub backoff: Backoff,
    /// Region (connected component) of every task.
    pub region: Vec<u32>,
    /// Tasks waiting for the pending restart, and the failure rows it answers.
    waiting: Vec<u32>,
    waiting_failures: Vec<usize>,
    /// The restart generation (stale restart events are ignored).
    generation: u32,
    /// When the pending restart is planned.
    pending_at: Option<SimTime>,
    /// Temporary faults on the network or on machines that are active, by fault index, with
    /// their end: they outlive a restart (the rebuilt channels and tasks get them again).
    pub active: Vec<Option<SimTime>>,
    /// TaskManagers lost and when their replacement is available.
    pub tm_back: Vec<SimTime>,
    /// Scripted faults that struck.
    pub struck: Vec<bool>,
    /// Scripted faults that struck when every task they aim at had already finished (Flink
    /// does not fail a finished task), with when they struck and what they aimed at.
    pub hit_finished: Vec<(usize, SimTime, String)>,
    /// The pending restart starts a new job from scratch (`main` ran again after a
    /// JobManager failure without HA): nothing is restored.
    pub from_scratch: bool,
}

impl Recovery {
    /// A job about to run.
    pub fn new(s: &Scenario, region: Vec<u32>, seed: u64) -> Self {
        let rng = crate::core::rng::SeedTree::new(seed).stream("restart/jitter");
        Recovery {
            status: JobStatus::Created,
            transitions: Vec::new(),
            failures: Vec::new(),
            backoff: Backoff::new(s.fault_tolerance.restart.strategy.clone(), rng),
            region,
            waiting: Vec::new(),
            waiting_failures: Vec::new(),
            generation: 0,
            pending_at: None,
            active: vec![None; s.fault_tolerance.faults.len()],
            tm_back: vec![SimTime::ZERO; s.cluster.task_managers as usize],
            struck: vec![false; s.fault_tolerance.faults.len()],
            hit_finished: Vec::new(),
            from_scratch: false,
        }
    }

    /// Moves the job to `to` at `now` (if the state machine allows it) and records it.
    pub fn set_status(&mut self, to: JobStatus, now: SimTime, trace: &mut Option<Trace>) {
        if self.status == to || !self.status.can_go_to(to) {
            return;
        }
        self.status = to;
        self.transitions.push(JobTransition {
            at_ms: now.as_secs_f64() * 1e3,
            status: to.name().into(),
            note: None,
        });
        if let Some(tr) = trace.as_mut() {
            tr.event(now, "job_status", vec![("status", json!(to.name()))]);
        }
    }

    /// The tasks (of `n`) a failure of tasks `live` cancels: the whole job (`full`), or the
    /// failover regions of `live`.
    pub fn to_cancel(&self, live: &[u32], full: bool, n: usize) -> Vec<u32> {
        if full {
            return (0..n as u32).collect();
        }
        let regions: Vec<u32> = live.iter().map(|&t| self.region[t as usize]).collect();
        (0..n as u32)
            .filter(|&t| regions.contains(&self.region[t as usize]))
            .collect()
    }

    /// Records a failure at `now`; returns its row in the report.
    pub fn record_failure(&mut self, now: SimTime, cause: String, tasks_restarted: u32) -> usize {
        self.failures.push(FailureReport {
            at_ms: now.as_secs_f64() * 1e3,
            cause,
            tasks_restarted,
            downtime_ms: None,
            restored_checkpoint: None,
        });
        self.failures.len() - 1
    }

    /// Tasks `cancel` wait for the pending restart, which answers failure row `row`.
    pub fn wait(&mut self, cancel: &[u32], row: usize) {
        for &t in cancel {
            if !self.waiting.contains(&t) {
                self.waiting.push(t);
            }
        }
        self.waiting_failures.push(row);
    }

    /// How many of tasks `failed` wait for a restart already.
    pub fn waiting_among(&self, failed: &[u32]) -> usize {
        failed.iter().filter(|t| self.waiting.contains(t)).count()
    }

    /// A failure row answered by the pending restart too.
    pub fn answers(&mut self, row: usize) {
        self.waiting_failures.push(row);
    }

    /// When the pending restart is planned, if one is.
    pub fn pending_at(&self) -> Option<SimTime> {
        self.pending_at
    }

    /// When the TaskManagers (`tm_of` a task) of the tasks waiting for the restart are
    /// available.
    pub fn resources(&self, tm_of: impl Fn(u32) -> u32) -> SimTime {
        self.waiting
            .iter()
            .map(|&t| self.tm_back[tm_of(t) as usize])
            .max()
            .unwrap_or(SimTime::ZERO)
    }

    /// (Re)plans the pending restart for `at`; an earlier plan goes stale.
    pub fn plan(&mut self, at: SimTime, queue: &mut EventQueue) {
        self.generation += 1;
        self.pending_at = Some(at);
        let generation = self.generation;
        queue.schedule(at, Event::Restart { generation });
    }

    /// Whether restart `generation` is the one planned last.
    pub fn is_current(&self, generation: u32) -> bool {
        generation == self.generation
    }

    /// The restart happens: the tasks it redeploys and the failure rows it answers.
    pub fn take_waiting(&mut self) -> (Vec<u32>, Vec<usize>) {
        self.pending_at = None;
        (
            std::mem::take(&mut self.waiting),
            std::mem::take(&mut self.waiting_failures),
        )
    }

    /// The job is back at `now`, restored from checkpoint `restored`: the failures in `rows`
    /// get their downtime.
    pub fn restored(&mut self, rows: &[usize], now: SimTime, restored: Option<u64>) {
        for &row in rows {
            let f = &mut self.failures[row];
            f.downtime_ms = Some(now.as_secs_f64() * 1e3 - f.at_ms);
            f.restored_checkpoint = restored;
        }
    }

    /// The job is `status` from `now` outside the state machine (stopped with a savepoint,
    /// resubmitted), as `note` explains.
    pub fn restate(&mut self, status: JobStatus, now: SimTime, note: String) {
        self.status = status;
        self.transitions.push(JobTransition {
            at_ms: now.as_secs_f64() * 1e3,
            status: status.name().into(),
            note: Some(note),
        });
    }
}

/// Connected components of the tasks over their channels: Flink's pipelined regions for a
/// streaming job (every exchange is pipelined).
pub fn regions(n_tasks: usize, channels: &[super::channel::Channel]) -> Vec<u32> {
    let mut uf = petgraph::unionfind::UnionFind::<usize>::new(n_tasks);
    for c in channels {
        uf.union(c.from_task as usize, c.to_task as usize);
    }
    let labels = uf.into_labeling();
    // Number regions by first appearance so they are stable.
    let mut ids: Vec<Option<u32>> = vec![None; n_tasks];
    let mut next = 0;
    labels
        .iter()
        .map(|&l| {
            *ids[l].get_or_insert_with(|| {
                next += 1;
                next - 1
            })
        })
        .collect()
}

/// Redeploys tasks `redeploy` from the freshly built job `fresh` and restores each from its
/// snapshot in checkpoint `restored` (none: it starts over), at `now`: operator state,
/// keyed state, timers and source offsets come back; the watermark generator and the
/// operators' watermarks start anew (Flink checkpoints neither); what the sinks made visible,
/// the counters and the time accounting carry on. The channels of those tasks are rebuilt.
/// What a restore did.
#[derive(Debug, Default)]
pub struct Restored {
    /// Per task: redeployed.
    pub in_set: Vec<bool>,
    /// Per channel: rebuilt.
    pub rebuilt: Vec<bool>,
    /// Transactions the restored sinks committed (pre-committed in the checkpoint, not yet
    /// committed: Flink's `recoverAndCommit`), as (task, checkpoint, records).
    pub commits: Vec<(u32, u64, u64)>,
    /// Transactions those commits found aborted by the broker's transaction timeout, with
    /// their task: their records are lost.
    pub timed_out: Vec<(u32, crate::ops::sink_txn::TimedOut)>,
}

/// Returns which tasks and which channels are new, and the transactions committed.
pub fn restore(
    tasks: &mut [Task],
    channels: &mut [Channel],
    fresh: Runtime,
    redeploy: &[u32],
    restored: Option<&Completed>,
    now: SimTime,
) -> Restored {
    let mut fresh_tasks: Vec<Option<Task>> = fresh.tasks.into_iter().map(Some).collect();
    let mut fresh_channels: Vec<Option<Channel>> = fresh.channels.into_iter().map(Some).collect();
    let restored_id = restored.map(|c| c.id);
    let mut in_set = vec![false; tasks.len()];
    let mut commits = Vec::new();
    let mut timed_out = Vec::new();
    for &t in redeploy {
        in_set[t as usize] = true;
    }
    for &ti in redeploy {
        let mut task = fresh_tasks[ti as usize].take().expect("one per task");
        if let Some(snap) = restored.and_then(|c| c.snapshots[ti as usize].as_ref()) {
            task.chain = snap.chain.clone();
            if let (Some(src), Some(saved)) = (task.source.as_mut(), snap.source.as_ref()) {
                // Offsets and generator come back; the watermark generator starts anew
                // (Flink does not checkpoint it).
                let wm = src.watermarks.clone();
                *src = saved.clone();
                src.watermarks = wm;
                src.paused = false;
            }
            // Operators' watermarks start from the beginning after a restore.
            for slot in &mut task.chain.ops {
                slot.watermark = crate::core::time::EventTime::MIN;
            }
        }
        let old = std::mem::replace(&mut tasks[ti as usize], task);
        let task = &mut tasks[ti as usize];
        // What the sinks made visible stays; counters and time accounting continue.
        for (slot, old_slot) in task.chain.ops.iter_mut().zip(old.chain.ops) {
            slot.records_in = old_slot.records_in;
            slot.records_out = old_slot.records_out;
            if let (Operator::Sink(new), Operator::Sink(live)) = (&mut slot.op, old_slot.op) {
                let done = new.carry_visible(live, restored_id, now);
                commits.extend(done.committed.into_iter().map(|(cid, n)| (ti, cid, n)));
                timed_out.extend(done.timed_out.into_iter().map(|x| (ti, x)));
            }
        }
        task.time = old.time;
        task.stats = old.stats;
        task.watermark_trail = old.watermark_trail;
    }
    let mut rebuilt = vec![false; channels.len()];
    for ((ch, fresh), re) in channels
        .iter_mut()
        .zip(&mut fresh_channels)
        .zip(&mut rebuilt)
    {
        if in_set[ch.from_task as usize] || in_set[ch.to_task as usize] {
            let mut new = fresh.take().expect("one per channel");
            new.buffers_sent += ch.buffers_sent;
            new.bytes_sent += ch.bytes_sent;
            *ch = new;
            *re = true;
        }
    }
    Restored {
        in_set,
        rebuilt,
        commits,
        timed_out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::time::SimDuration;
    use crate::sim::channel::Ends;

    fn channel(from: u32, to: u32) -> Channel {
        let ends = Ends {
            edge: 0,
            from_task: from,
            writer: 0,
            to_task: to,
            input: 0,
        };
        Channel::new(ends, false, SimDuration::ZERO, 2)
    }

    #[test]
    fn failover_regions_are_the_tasks_connected_by_channels_numbered_in_order() {
        // 0 → 2, 1 → 3 (forward) and 4 alone
        let r = regions(5, &[channel(0, 2), channel(1, 3)]);
        assert_eq!(r, [0, 1, 0, 1, 2]);
        // an all-to-all exchange joins them
        let r = regions(
            4,
            &[channel(0, 2), channel(0, 3), channel(1, 2), channel(1, 3)],
        );
        assert_eq!(r, [0, 0, 0, 0]);
    }

    fn recovery(region: Vec<u32>) -> Recovery {
        let s = crate::check::parse_str(
            "t.toml",
            "[[source]]\nname = \"s\"\nkind = \"inline\"\nevents = [ { a = 1 } ]\n\n[[sink]]\nname = \"out\"\ninput = \"s\"\n",
            None,
        )
        .unwrap_or_else(|d| panic!("{}", d.render()));
        Recovery::new(&s, region, 1)
    }

    #[test]
    fn a_failure_cancels_its_regions_or_the_whole_job() {
        let r = recovery(vec![0, 1, 0, 1, 2]);
        assert_eq!(r.to_cancel(&[2], false, 5), [0, 2]);
        assert_eq!(r.to_cancel(&[3, 4], false, 5), [1, 3, 4]);
        assert_eq!(r.to_cancel(&[2], true, 5), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_replanned_restart_makes_the_earlier_plan_stale() {
        let mut r = recovery(vec![0, 0]);
        let mut q = EventQueue::new();
        let row = r.record_failure(SimTime::ZERO, "boom".into(), 2);
        r.wait(&[0, 1], row);
        assert_eq!(r.waiting_among(&[1, 5]), 1);
        r.plan(SimTime::ZERO.plus(SimDuration::from_secs(1)), &mut q);
        let first = match q.pop() {
            Some((_, Event::Restart { generation })) => generation,
            e => panic!("{e:?}"),
        };
        r.plan(SimTime::ZERO.plus(SimDuration::from_secs(2)), &mut q);
        assert!(!r.is_current(first));
        assert_eq!(
            r.pending_at(),
            Some(SimTime::ZERO.plus(SimDuration::from_secs(2)))
        );
        let (tasks, rows) = r.take_waiting();
        assert_eq!((tasks, rows.clone()), (vec![0, 1], vec![0]));
        assert_eq!(r.pending_at(), None);
        r.restored(
            &rows,
            SimTime::ZERO.plus(SimDuration::from_secs(3)),
            Some(4),
        );
        assert_eq!(r.failures[0].downtime_ms, Some(3000.0));
        assert_eq!(r.failures[0].restored_checkpoint, Some(4));
    }
}
