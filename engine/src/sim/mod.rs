//! The simulator: a discrete-event loop in processing time.
//!
//! Tasks (subtasks of chains) run *work items* on the cores of their TaskManager: a source
//! produces a batch of records, any other task processes one input buffer. A work item runs
//! its records through the chain at once, advancing the task's local clock by the cost model
//! per record, and its effects — buffers finished and sent, credits, arrivals — are scheduled
//! at the local times they happen. The core is busy until the item's end (`WorkDone`). Records
//! cross tasks only in buffers, so the queue holds one event per buffer, not per record.
//!
//! Flow control is Flink's: a task starts a work item only if every output has a free buffer;
//! remote channels send only under credit. A task that has input but no free output buffer is
//! backpressured until credit or a consumed local buffer frees one.
//!
//! Determinism: the queue orders by `(time, insertion)`, all randomness comes from named
//! seeded streams, and nothing iterates a hash map where order could leak into the output.

pub mod buffer;
pub mod build;
pub mod channel;
pub mod checkpoint;
pub mod heartbeat;
mod limits;
pub mod memory;
pub mod net;
pub mod queue;
pub mod recovery;
pub mod report_parts;
mod reporting;
pub mod rescale;
pub mod savepoint;
pub mod source;
pub mod task;
pub mod trace;
pub mod unaligned;

use crate::core::cost::CostModel;
use crate::core::time::{SimDuration, SimTime};
use crate::core::value::Interner;
use crate::expr::eval::EvalCx;
use crate::ops::batch::View;
use crate::ops::chain::Chain;
use crate::ops::{Cx, Operator};
use crate::plan::Plan;
use crate::report::*;
use crate::scenario::{NodeKind, Scenario};
use net::{FlushCause, Net, NetStats};
use queue::{Event, EventQueue};
use serde_json::json;
use std::collections::VecDeque;
use task::{Sched, Task};
use trace::Trace;

pub use limits::Progress;

/// How often watermark alignment compares the sources of a group (Flink's default
/// `updateInterval` of `withWatermarkAlignment`: 1 s).
const ALIGNMENT_INTERVAL: SimDuration = SimDuration::from_secs(1);

/// Records a source produces per work item at most.
const SOURCE_BATCH: usize = 512;
/// Records of an input buffer run through the chain at once; the task checks for output
/// backpressure between slices.
const RECEIVE_BATCH: usize = 256;

/// Options of one run.
#[derive(Default)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Where to write the trace (JSON lines); `None`: no trace.
    pub trace: Option<Box<dyn std::io::Write>>,
    /// Compute the trace hash even without a trace file (for determinism checks).
    pub hash_trace: bool,
}

/// What a run produced.
pub struct RunOutput {
    /// The report.
    pub report: RunReport,
    /// Hash of the trace lines (when tracing or hashing).
    pub trace_hash: Option<u64>,
    /// Trace lines written.
    pub trace_lines: u64,
    /// Per sink (by name), what it made visible — kept when the scenario has faults, to
    /// compare with the reference run.
    pub visible: Vec<(String, crate::ops::sink_txn::Ledger)>,
}

/// Runs a planned scenario to the end (or to a limit). A scenario with faults is first run
/// without them (same seed): each sink's `duplicates` and `missing` compare with that
/// reference run.
pub fn run(s: &Scenario, p: &Plan, opts: RunOptions) -> Result<RunOutput, std::io::Error> {
    run_with_progress(s, p, opts, None)
}

/// [`run`], calling `progress` every few thousand events of the run the report describes
/// (not of the reference runs before it) — for a progress line.
pub fn run_with_progress(
    s: &Scenario,
    p: &Plan,
    opts: RunOptions,
    progress: Option<&mut dyn FnMut(&Progress)>,
) -> Result<RunOutput, std::io::Error> {
    if let Some(aligned) = unaligned::aligned_variant(s) {
        // `compare_aligned`: the same job with aligned checkpoints first, then this one.
        let base = run(
            &aligned,
            p,
            RunOptions {
                seed: opts.seed,
                ..Default::default()
            },
        )?;
        let mut me = s.clone();
        if let Some(c) = me.fault_tolerance.checkpointing.as_mut() {
            c.compare_aligned = false;
        }
        let mut out = run_with_progress(&me, p, opts, progress)?;
        out.report.comparison = unaligned::compare(&base.report, &out.report);
        return Ok(out);
    }
    if !s.fault_tolerance.disturbed() {
        return run_once(s, p, opts, None, progress);
    }
    let mut reference = s.clone();
    reference.fault_tolerance.faults.clear();
    reference.fault_tolerance.savepoints.clear();
    reference.fault_tolerance.rescale = None;
    reference.fault_tolerance.record_output = true;
    let base = run_once(
        &reference,
        p,
        RunOptions {
            seed: opts.seed,
            ..Default::default()
        },
        None,
        None,
    )?;
    run_once(s, p, opts, Some(&base), progress)
}

fn run_once(
    s: &Scenario,
    p: &Plan,
    opts: RunOptions,
    reference: Option<&RunOutput>,
    mut progress: Option<&mut dyn FnMut(&Progress)>,
) -> Result<RunOutput, std::io::Error> {
    let seed = opts.seed.unwrap_or(s.seed);
    let mut interner = Interner::new();
    let annotate = opts.trace.is_some() || opts.hash_trace;
    let rt = build::build(s, p, seed, &mut interner, annotate);
    let trace = if annotate {
        Some(Trace::new(opts.trace))
    } else {
        None
    };
    let region = recovery::regions(rt.tasks.len(), &rt.channels);
    let g = &p.logical.graph;
    let scenario_node = g.node_indices().map(|n| g[n].scenario_node).collect();
    let mut sim = Simulation {
        coord: coordinator(s),
        recovery: recovery::Recovery::new(s, region, seed),
        faults: s.fault_tolerance.faults.clone(),
        fault_names: s
            .fault_tolerance
            .faults
            .iter()
            .map(|f| f.describe(s))
            .collect(),
        failover: s.fault_tolerance.restart.failover,
        scenario_node,
        seed,
        annotate,
        cost: s.cost.clone(),
        queue: EventQueue::new(),
        tms: (0..s.cluster.task_managers)
            .map(|_| Cpu {
                free: s.cluster.cores_per_tm,
                ready: VecDeque::new(),
            })
            .collect(),
        tasks: rt.tasks,
        channels: rt.channels,
        interner,
        pool: buffer::BufferPool::default(),
        scratch: String::new(),
        trace,
        finished: 0,
        failure: None,
        alignment: alignment_groups(s, p, &rt.task_of),
        sp: savepoint::State::default(),
        last_memory: std::cell::Cell::new(0),
    };
    let status = sim.run_loop(s, p, &mut progress);
    // After a rescale the job that ran last is the resubmitted one.
    let (s, p) = match (&p.rescaled, sim.sp.resubmitted) {
        (Some(r), true) => (&r.scenario, &r.plan),
        _ => (s, p),
    };
    let mut trace = sim.trace.take();
    if let Some(t) = trace.as_mut() {
        t.finish()?;
    }
    let visible = sim.visible_output(s, p);
    let mut report = sim.report(s, p, seed, status);
    if let Some(reference) = reference {
        crate::oracle::reference::compare(&mut report, s, &visible, reference);
    }
    Ok(RunOutput {
        report,
        trace_hash: trace.as_ref().map(Trace::hash),
        trace_lines: trace.as_ref().map_or(0, Trace::lines),
        visible,
    })
}

/// The checkpoint coordinator: with periodic checkpointing, or only for savepoints (a
/// streaming job in Flink always has one, so `flink savepoint` works without checkpointing).
fn coordinator(s: &Scenario) -> Option<checkpoint::Coordinator> {
    let ft = &s.fault_tolerance;
    if let Some(cfg) = &ft.checkpointing {
        return Some(checkpoint::Coordinator::new(cfg.clone()));
    }
    if ft.savepoints.is_empty() && ft.rescale.is_none() {
        return None;
    }
    let mut c = checkpoint::Coordinator::new(crate::scenario::CheckpointConfig::savepoints_only());
    c.periodic = false;
    Some(c)
}

/// The cores of one TaskManager.
struct Cpu {
    free: u32,
    ready: VecDeque<u32>,
}

struct Simulation {
    cost: CostModel,
    queue: EventQueue,
    tms: Vec<Cpu>,
    tasks: Vec<Task>,
    channels: Vec<channel::Channel>,
    interner: Interner,
    pool: buffer::BufferPool,
    scratch: String,
    trace: Option<Trace>,
    finished: usize,
    failure: Option<String>,
    /// Watermark alignment groups: name, maximum drift, member source tasks.
    alignment: Vec<(String, SimDuration, Vec<u32>)>,
    /// The checkpoint coordinator, when checkpointing is on.
    coord: Option<checkpoint::Coordinator>,
    /// Job status, restarts and failures.
    recovery: recovery::Recovery,
    /// The scripted faults and their descriptions.
    faults: Vec<crate::scenario::Fault>,
    fault_names: Vec<String>,
    /// Failover strategy.
    failover: crate::scenario::Failover,
    /// Logical node → scenario node.
    scenario_node: Vec<usize>,
    /// The run's seed (a restart rebuilds tasks from it).
    seed: u64,
    /// Whether operators annotate their output for the trace.
    annotate: bool,
    /// Savepoints and the rescale.
    sp: savepoint::State,
    /// The last memory estimate (see `limits`).
    last_memory: std::cell::Cell<u64>,
}

impl Simulation {
    fn run_loop<'a>(
        &mut self,
        mut s: &'a Scenario,
        mut p: &'a Plan,
        progress: &mut Option<&mut dyn FnMut(&Progress)>,
    ) -> (Status, Option<String>, u64) {
        self.apply_memory_limit(s.limits.max_memory);
        self.set_status(recovery::JobStatus::Running);
        self.start_checkpointing("checkpoint/first-trigger");
        self.schedule_faults(s);
        self.schedule_savepoints(s);
        if !self.alignment.is_empty() {
            self.align();
            self.queue
                .schedule(SimTime::ZERO.plus(ALIGNMENT_INTERVAL), Event::AlignmentTick);
        }
        for t in 0..self.tasks.len() as u32 {
            self.try_schedule(t);
        }
        let mut events = 0u64;
        // Work done inside events (timers one watermark fires) counts against max_events too.
        let mut work = 0u64;
        crate::ops::timers::budget::take_cause();
        crate::ops::timers::budget::start_event(s.limits.max_events);
        let check_memory = self.memory_check_every();
        while let Some((t, ev)) = self.queue.pop() {
            events += 1;
            crate::ops::timers::budget::start_event(
                s.limits.max_events.saturating_sub(events + work),
            );
            if events + work > s.limits.max_events {
                return (
                    Status::LimitReached,
                    Some(format!(
                        "the run processed {} events, counting the timers fired inside them (limits.max_events); raise it in [limits] or shorten the input",
                        s.limits.max_events
                    )),
                    events,
                );
            }
            if events.is_multiple_of(check_memory) {
                let held = self.memory_estimate_bytes();
                if held > s.limits.max_memory {
                    return (
                        Status::LimitReached,
                        Some(format!(
                            "the run holds about {} (operator state, buffers, snapshots, captured rows), more than limits.max_memory ({}); raise it in [limits] or shorten the input",
                            memory::human_bytes(held),
                            memory::human_bytes(s.limits.max_memory)
                        )),
                        events,
                    );
                }
            }
            if t.0 > s.limits.max_sim_time.0 {
                return (
                    Status::LimitReached,
                    Some(format!(
                        "simulated time passed {} (limits.max_sim_time); raise it in [limits] or shorten the input",
                        s.limits.max_sim_time
                    )),
                    events,
                );
            }
            if events.is_multiple_of(limits::CHECK_EVERY)
                && let Some(stop) = self.check_limits(s, t, events, progress)
            {
                return stop;
            }
            match ev {
                Event::BufferArrives { channel } => self.on_arrival(channel),
                Event::CreditArrives { channel, credits } => self.on_credit(channel, credits),
                Event::WorkDone { task } => self.on_work_done(task),
                Event::SourceDue { task } => {
                    let tk = &mut self.tasks[task as usize];
                    if tk.source_wake == Some(t) {
                        tk.source_wake = None;
                    }
                    self.try_schedule(task);
                }
                Event::FlushTick { task } => self.on_flush_tick(task),
                Event::AlignmentTick => {
                    self.align();
                    if self.finished < self.tasks.len() {
                        self.queue
                            .schedule(t.plus(ALIGNMENT_INTERVAL), Event::AlignmentTick);
                    }
                }
                Event::TimerDue { task } => {
                    let tk = &mut self.tasks[task as usize];
                    if tk.timer_wake == Some(t) {
                        tk.timer_wake = None;
                    }
                    self.try_schedule(task);
                }
                Event::CheckpointTick { periodic } => self.on_checkpoint_tick(periodic),
                Event::CheckpointAck { task, id } => self.on_checkpoint_ack(task, id),
                Event::CheckpointTimeout { id } => self.on_checkpoint_timeout(id),
                Event::CheckpointNotify { id } => self.on_checkpoint_notify(id),
                Event::AlignedTimeout { id } => self.on_aligned_timeout(id),
                Event::Fault { index } => self.on_fault(index),
                Event::FaultEnd { index } => self.on_fault_end(index),
                Event::HeartbeatTimeout { tm, heal } => self.on_heartbeat_timeout(tm, heal),
                Event::Restart { generation } => self.on_restart(generation, s, p),
                Event::Savepoint { .. } => self.on_savepoint(savepoint::Kind::Intermediate),
                Event::StopWithSavepoint => self.on_savepoint(savepoint::Kind::Stop),
                Event::Resubmit => {
                    if let Some(r) = p.rescaled.as_deref()
                        && self.resubmit(p, &r.scenario, &r.plan)
                    {
                        (s, p) = (&r.scenario, &r.plan);
                    }
                }
            }
            work += crate::ops::timers::budget::used();
            if let Some(cause) = crate::ops::timers::budget::take_cause() {
                return (
                    Status::LimitReached,
                    Some(format!("the run stopped: {cause}")),
                    events,
                );
            }
            if let Some(f) = &self.failure {
                return (Status::Failed, Some(f.clone()), events);
            }
            if self.finished == self.tasks.len() {
                self.set_status(recovery::JobStatus::Finished);
                if let Some(tr) = self.trace.as_mut() {
                    tr.event(t, "job_finished", vec![]);
                }
                return (Status::Finished, None, events);
            }
        }
        let stuck: Vec<&str> = self
            .tasks
            .iter()
            .filter(|t| !t.finished)
            .map(|t| t.label.as_str())
            .collect();
        (
            Status::Failed,
            Some(format!(
                "the job stalled with nothing left to do; unfinished tasks: {}",
                stuck.join(", ")
            )),
            events,
        )
    }

    /// Queues a task for a core if it has work and free output; otherwise notes why not.
    fn try_schedule(&mut self, ti: u32) {
        let now = self.queue.now();
        let task = &mut self.tasks[ti as usize];
        if task.finished || task.cancelled || task.sched != Sched::Idle {
            return;
        }
        if task.has_work(now) {
            // Priority work (unaligned barriers) runs even under backpressure.
            if task.output_available() || !task.priority.is_empty() {
                if let Some(since) = task.backpressured_since.take() {
                    task.time.backpressured = task.time.backpressured.plus(now.since(since));
                    if let Some(tr) = self.trace.as_mut() {
                        tr.event(now, "backpressure_end", vec![("task", json!(task.label))]);
                    }
                }
                task.sched = Sched::Queued(now);
                let tm = task.tm as usize;
                self.tms[tm].ready.push_back(ti);
                self.dispatch(tm);
            } else if task.backpressured_since.is_none() {
                task.backpressured_since = Some(now);
                if let Some(tr) = self.trace.as_mut() {
                    tr.event(now, "backpressure_start", vec![("task", json!(task.label))]);
                }
            }
        } else {
            if let Some(src) = &task.source {
                // Wake for the next due record or the next periodic watermark.
                let due = src.next_wake(now);
                let tick = src.watermarks.next_tick.filter(|t| *t > now);
                let wake = match (due, tick) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                if let Some(w) = wake
                    && task.source_wake.is_none_or(|s| s > w || s <= now)
                {
                    task.source_wake = Some(w);
                    self.queue.schedule(w, Event::SourceDue { task: ti });
                }
            }
            if let Some(ms) = task.chain.next_processing_timer() {
                let at = SimTime((ms.max(0) as u64).saturating_mul(1_000_000));
                if at > now && task.timer_wake.is_none_or(|w| w > at || w <= now) {
                    task.timer_wake = Some(at);
                    self.queue.schedule(at, Event::TimerDue { task: ti });
                }
            }
        }
    }

    /// Starts work items on free cores.
    fn dispatch(&mut self, tm: usize) {
        // A failed task stops the job at once: nothing more starts.
        while self.tms[tm].free > 0 && self.failure.is_none() {
            let Some(ti) = self.tms[tm].ready.pop_front() else {
                break;
            };
            self.tms[tm].free -= 1;
            let now = self.queue.now();
            let task = &mut self.tasks[ti as usize];
            if let Sched::Queued(since) = task.sched {
                task.time.cpu_wait = task.time.cpu_wait.plus(now.since(since));
            }
            task.sched = Sched::Running;
            let mut d = self.work_item(ti);
            let task = &mut self.tasks[ti as usize];
            if task.slowdown != 1.0 {
                d = SimDuration((d.0 as f64 * task.slowdown) as u64);
            }
            task.time.busy = task.time.busy.plus(d);
            self.queue
                .schedule(now.plus(d), Event::WorkDone { task: ti });
        }
    }

    /// Runs one work item of a task at the current time; returns its CPU time.
    fn work_item(&mut self, ti: u32) -> SimDuration {
        if !self.tasks[ti as usize].priority.is_empty() {
            return self.priority_item(ti);
        }
        let now = self.queue.now();
        let Simulation {
            tasks,
            channels,
            queue,
            pool,
            interner,
            scratch,
            cost,
            ..
        } = self;
        let task = &mut tasks[ti as usize];
        let Task {
            chain,
            writers,
            flusher,
            stats,
            gate,
            source,
            consumed,
            watermark_trail: trail,
            ..
        } = task;
        let mut error = None;
        let mut end_of_input = false;
        let mut snapshot = None;
        let inject = task.inject_barrier.take();
        let mut cx = Cx {
            ev: EvalCx {
                interner,
                scratch,
                error: &mut error,
            },
            net: Net {
                writers,
                channels,
                pool: &mut *pool,
                queue,
                cost,
                flusher,
                stats,
                task: ti,
                blocked: false,
            },
        };
        let mut end = now.0;
        // Processing-time timers that are due fire first.
        let now_ms = now.as_event_time();
        if chain.next_processing_timer().is_some_and(|t| t <= now_ms) {
            chain.set_processing_time(now_ms);
            end = chain.processing_time(now_ms, end, &mut cx);
        }
        if chain.failed() {
            // a processing-time timer failed the task: nothing more runs
        } else if let Some(id) = inject {
            // The coordinator's trigger: the source emits barrier `id` between two records
            // and snapshots its offsets.
            end = chain.status(0, buffer::Marker::Barrier(id), end, &mut cx);
            snapshot = Some((id, SimTime(end)));
        } else if let Some(src) = source {
            end = source_item(src, chain, now, end, &mut cx, &mut end_of_input);
        } else {
            end = input_item(
                gate,
                chain,
                consumed,
                end,
                cost.deserialize_record.0,
                &mut cx,
                &mut end_of_input,
                trail,
                &mut snapshot,
            );
        }
        if end_of_input && !chain.failed() && cx.ev.error.is_none() {
            cx.net.end_of_input(SimTime(end));
        }

        let error = error.or_else(|| task.chain.take_failure());
        if let Some(e) = error {
            let label = task.label.clone();
            self.failure = Some(format!("task {label} failed at {}: {e}", SimTime(end)));
        }
        if let Some(tr) = self.trace.as_mut() {
            trace_window_log(
                tr,
                &mut self.tasks[ti as usize],
                &self.interner,
                SimTime(end),
            );
        }
        if let Some((id, started)) = snapshot {
            let sync = self.take_snapshot(ti, id, started, SimTime(end));
            end += sync.0;
        }
        let task = &mut self.tasks[ti as usize];
        if end_of_input {
            task.ending = true;
            if let Some(tr) = self.trace.as_mut() {
                tr.event(
                    SimTime(end),
                    "end_of_input",
                    vec![("task", json!(task.label))],
                );
            }
        }
        SimTime(end).since(now)
    }

    /// Watermark alignment: a source whose watermark is more than its group's maximum drift
    /// ahead of the group's lowest watermark pauses until the others catch up.
    fn align(&mut self) {
        for (_, drift, members) in &self.alignment {
            let current = |t: &Task| t.source.as_ref().map_or(i64::MAX, |s| s.watermarks.last());
            let min = members
                .iter()
                .map(|&m| &self.tasks[m as usize])
                .filter(|t| !t.finished)
                .map(current)
                .min();
            let Some(min) = min else { continue };
            let limit = min.saturating_add(drift.as_millis() as i64);
            for &m in members {
                let t = &mut self.tasks[m as usize];
                let w = current(t);
                if let Some(s) = t.source.as_mut() {
                    s.paused = w > limit;
                }
            }
        }
        for m in self
            .alignment
            .iter()
            .flat_map(|(_, _, ms)| ms.clone())
            .collect::<Vec<_>>()
        {
            self.try_schedule(m);
        }
    }

    fn on_work_done(&mut self, ti: u32) {
        let task = &mut self.tasks[ti as usize];
        task.sched = Sched::Idle;
        let tm = task.tm as usize;
        self.tms[tm].free += 1;
        let consumed = std::mem::take(&mut self.tasks[ti as usize].consumed);
        for ch in consumed {
            self.recycle(ti, ch);
        }
        let task = &mut self.tasks[ti as usize];
        if task.ending && !task.finished && !task.awaiting_final {
            let uncommitted = task.chain.ops.iter().any(|s| match &s.op {
                Operator::Sink(k) => !k.all_committed(),
                _ => false,
            });
            if uncommitted && self.coord.is_some() {
                // Its last transaction commits with the next checkpoint.
                task.awaiting_final = true;
                self.snapshot_at_end(ti);
            } else {
                self.finish_task(ti);
            }
        }
        self.try_schedule(ti);
        self.dispatch(tm);
    }

    /// Task `ti` is done; pending checkpoints take its final state.
    fn finish_task(&mut self, ti: u32) {
        let now = self.queue.now();
        let task = &mut self.tasks[ti as usize];
        task.finished = true;
        self.finished += 1;
        if let Some(since) = task.backpressured_since.take() {
            task.time.backpressured = task.time.backpressured.plus(now.since(since));
        }
        if let Some(tr) = self.trace.as_mut() {
            tr.event(now, "task_finished", vec![("task", json!(task.label))]);
        }
        self.ack_finished(ti);
    }

    /// Per sink, what it made visible: the changelog for append sinks, the final table for
    /// upsert sinks (a replay that rewrites the same rows changes nothing there).
    fn visible_output(
        &self,
        s: &Scenario,
        p: &Plan,
    ) -> Vec<(String, crate::ops::sink_txn::Ledger)> {
        let g = &p.logical.graph;
        let mut out: Vec<(String, crate::ops::sink_txn::Ledger)> = Vec::new();
        for t in self
            .tasks
            .iter()
            .chain(self.sp.retired.iter().map(|r| &r.task))
        {
            for slot in &t.chain.ops {
                let Operator::Sink(sk) = &slot.op else {
                    continue;
                };
                let Some(l) = sk.ledger.as_ref() else {
                    continue;
                };
                let node = &s.nodes[g[petgraph::graph::NodeIndex::new(slot.node)].scenario_node];
                let mut mine = crate::ops::sink_txn::Ledger::default();
                if let crate::ops::sink::SinkMode::Upsert { .. } = sk.mode {
                    let a = node.schema.arity().max(1);
                    mine.add_rows(&sk.rows, a, sk.rows.len() / a, &self.interner);
                } else {
                    mine.merge(l);
                }
                match out.iter_mut().find(|(n, _)| *n == node.name) {
                    Some((_, all)) => all.merge(&mine),
                    None => out.push((node.name.clone(), mine)),
                }
            }
        }
        out
    }

    /// A consumed buffer frees its receiver buffer: a credit back to the sender (remote) or a
    /// slot back in the sender's pool (local).
    fn recycle(&mut self, ti: u32, ch: u32) {
        let now = self.queue.now();
        let c = &mut self.channels[ch as usize];
        if c.remote {
            let gate = &mut self.tasks[ti as usize].gate;
            let credit = c.rx.on_consumed(&mut gate.pool);
            if credit > 0 {
                self.queue.schedule(
                    now.plus(c.latency),
                    Event::CreditArrives {
                        channel: ch,
                        credits: credit,
                    },
                );
            }
            // A floating buffer returned to the gate may serve another channel's backlog.
            if gate.pool.free > 0 {
                let chans = gate.channels.clone();
                for other in chans {
                    let oc = &mut self.channels[other as usize];
                    if !oc.remote {
                        continue;
                    }
                    let gate = &mut self.tasks[ti as usize].gate;
                    let granted = oc.rx.lend(&mut gate.pool);
                    if granted > 0 {
                        self.queue.schedule(
                            now.plus(oc.latency),
                            Event::CreditArrives {
                                channel: other,
                                credits: granted,
                            },
                        );
                    }
                }
            }
        } else {
            let (from, w) = (c.from_task, c.writer);
            self.tasks[from as usize].writers[w as usize].in_use -= 1;
            self.try_schedule(from);
        }
    }

    fn on_arrival(&mut self, ch: u32) {
        let now = self.queue.now();
        let c = &mut self.channels[ch as usize];
        let b = c
            .in_flight
            .pop_front()
            .expect("an arrival has a buffer in flight");
        if b.priority {
            self.on_priority_arrival(ch, b);
            return;
        }
        let to = c.to_task;
        let gate = &mut self.tasks[to as usize].gate;
        if c.remote {
            let granted = c.rx.on_arrival(b.backlog, &mut gate.pool);
            if granted > 0 {
                self.queue.schedule(
                    now.plus(c.latency),
                    Event::CreditArrives {
                        channel: ch,
                        credits: granted,
                    },
                );
            }
        }
        if let Some(tr) = self.trace.as_mut() {
            let from = &self.tasks[c.from_task as usize].label;
            let to_label = &self.tasks[to as usize].label;
            tr.event(
                now,
                "buffer",
                vec![
                    ("from", json!(from)),
                    ("to", json!(to_label)),
                    ("records", json!(b.len())),
                    ("bytes", json!(b.bytes)),
                    ("sent_ns", json!(b.finished_at.0)),
                    ("end_of_partition", json!(b.end_of_partition)),
                ],
            );
        }
        let Some(b) = self.intercept_arrival(ch, b) else {
            return;
        };
        let c = &mut self.channels[ch as usize];
        let was_empty = c.queue.is_empty();
        c.queue.push_back(b);
        if was_empty {
            self.tasks[to as usize].gate.available.push_back(ch);
        }
        self.try_schedule(to);
    }

    fn on_credit(&mut self, ch: u32, credits: u32) {
        let c = &mut self.channels[ch as usize];
        c.credits += credits;
        let (from, w) = (c.from_task, c.writer as usize);
        net::send_ready(
            &mut self.tasks[from as usize].writers[w],
            c,
            ch,
            &mut self.queue,
            &self.cost,
        );
        self.try_schedule(from);
    }

    fn on_flush_tick(&mut self, ti: u32) {
        let now = self.queue.now();
        let Simulation {
            tasks,
            channels,
            queue,
            pool,
            cost,
            ..
        } = self;
        let task = &mut tasks[ti as usize];
        if task.flusher.deadline != now || !task.flusher.tick_scheduled {
            return; // stale: the flush already happened inside a work item
        }
        task.flusher.tick_scheduled = false;
        let mut net = Net {
            writers: &mut task.writers,
            channels,
            pool,
            queue,
            cost,
            flusher: &mut task.flusher,
            stats: &mut task.stats,
            task: ti,
            blocked: false,
        };
        net.flush_all(now, FlushCause::Timeout);
        net.flusher.deadline = net.flusher.next_after(now);
        self.try_schedule(ti);
    }
}

/// The watermark alignment groups of a job and their source tasks.
fn alignment_groups(
    s: &Scenario,
    p: &Plan,
    task_of: &[Vec<u32>],
) -> Vec<(String, SimDuration, Vec<u32>)> {
    let mut groups: Vec<(String, SimDuration, Vec<u32>)> = Vec::new();
    for (vi, v) in p.execution.vertices.iter().enumerate() {
        let node = &s.nodes[p.logical.graph[v.ops[0]].scenario_node];
        let NodeKind::Source(src) = &node.kind else {
            continue;
        };
        let Some((group, drift)) = src.watermarks.as_ref().and_then(|w| w.alignment.clone()) else {
            continue;
        };
        match groups.iter_mut().find(|g| g.0 == group) {
            Some(g) => {
                g.1 = g.1.min(drift);
                g.2.extend(&task_of[vi]);
            }
            None => groups.push((group, drift, task_of[vi].clone())),
        }
    }
    groups
}

/// A source's work item: a due periodic watermark, then a batch of records (one at a time
/// for a punctuated generator, each followed by its watermark), then — at the end of the
/// input — the final watermark. Returns the local time when done.
fn source_item(
    src: &mut source::SourceState,
    chain: &mut Chain,
    now: SimTime,
    t0: u64,
    cx: &mut Cx<'_>,
    end_of_input: &mut bool,
) -> u64 {
    use crate::flink::watermark::Emit;
    let mut t = t0;
    let emit = |chain: &mut Chain, e: Emit, t: u64, cx: &mut Cx<'_>| -> u64 {
        match e {
            Emit::Watermark(w) => chain.watermark(0, w, t, cx),
            Emit::Idle => chain.status(0, buffer::Marker::Idle, t, cx),
            Emit::Active => chain.status(0, buffer::Marker::Active, t, cx),
        }
    };
    if let Some(tick) = src.watermarks.next_tick
        && tick <= now
        && let Some(e) = src.watermarks.on_tick(now)
    {
        t = emit(chain, e, t, cx);
    }
    chain.set_processing_time(now.as_event_time());
    if src.paused {
        // held back by watermark alignment: only watermarks and idleness go out
    } else if src.watermarks.per_event() {
        let mut n = 0;
        while n < SOURCE_BATCH && !cx.net.blocked && cx.ev.error.is_none() && !chain.failed() {
            let head = &mut chain.ops[0];
            head.out.clear();
            src.fill(now, 1, &mut head.out);
            if head.out.is_empty() {
                break;
            }
            let ts = head.out.meta[0].ts;
            if let Some(e) = src.watermarks.wake(now) {
                t = emit(chain, e, t, cx);
            }
            t = chain.run(None, t, 0, cx);
            if let Some(e) = src.watermarks.observe(ts, now) {
                t = emit(chain, e, t, cx);
            }
            n += 1;
        }
    } else {
        let head = &mut chain.ops[0];
        head.out.clear();
        src.fill(now, SOURCE_BATCH, &mut head.out);
        if !head.out.is_empty() {
            if let Some(e) = src.watermarks.wake(now) {
                t = emit(chain, e, t, cx);
            }
            // Periodic generators only track the largest timestamp: one call per batch.
            let max_ts = chain.ops[0].out.meta.iter().map(|m| m.ts).max();
            if let Some(ts) = max_ts {
                src.watermarks.observe(ts, now);
            }
            t = chain.run(None, t, 0, cx);
        }
    }
    if chain.failed() || cx.ev.error.is_some() {
        // the task failed: it emits nothing more, not even the final watermark
        return t;
    }
    if src.exhausted(SimTime(t)) {
        // A bounded source ends with the final watermark, then end-of-partition.
        if let Some(e) = src.watermarks.wake(now) {
            t = emit(chain, e, t, cx);
        }
        let e = src.watermarks.on_end();
        t = emit(chain, e, t, cx);
        *end_of_input = true;
    }
    t
}

/// A non-source work item: (the rest of) one input buffer — records in slices, and every
/// marker through the channel's watermark valve. Returns the local time when done.
#[allow(clippy::too_many_arguments)]
fn input_item(
    gate: &mut task::Gate,
    chain: &mut Chain,
    consumed: &mut Vec<u32>,
    t0: u64,
    deser: u64,
    cx: &mut Cx<'_>,
    end_of_input: &mut bool,
    trail: &mut task::WatermarkTrail,
    snapshot: &mut Option<(u64, SimTime)>,
) -> u64 {
    let mut t = t0;
    while gate.current.is_none()
        && let Some(ch) = gate.available.pop_front()
    {
        let c = &mut cx.net.channels[ch as usize];
        if gate.blocked[c.gate_pos as usize] {
            // blocked by barrier alignment: read it again once the checkpoint is aligned
            if !gate.parked.contains(&ch) {
                gate.parked.push(ch);
            }
            continue;
        }
        let b = c
            .queue
            .pop_front()
            .expect("available channels have buffers");
        if !c.queue.is_empty() {
            gate.available.push_back(ch);
        }
        gate.current = Some((ch, b, 0, 0));
    }
    let Some((ch, b, mut pos, mut mi)) = gate.current.take() else {
        return t;
    };
    let all = View {
        arity: b.arity as usize,
        values: &b.values,
        meta: &b.meta,
    };
    let slot = cx.net.channels[ch as usize].gate_pos as usize;
    loop {
        let next_marker = b.markers.get(mi).map_or(b.len(), |m| m.0 as usize);
        if pos < next_marker {
            let to = (pos + RECEIVE_BATCH).min(next_marker);
            chain.set_processing_time(SimTime(t).as_event_time());
            chain.head_port = cx.net.channels[ch as usize].input as usize;
            t = chain.run(Some(all.slice(pos, to)), t, deser, cx);
            pos = to;
        } else if let Some(&(_, m)) = b.markers.get(mi) {
            mi += 1;
            if let buffer::Marker::Barrier(id) = m {
                match crate::flink::barrier::on_barrier(gate, slot, id, SimTime(t), cx.net.channels)
                {
                    crate::flink::barrier::Step::Continue => {}
                    crate::flink::barrier::Step::Block => break,
                    crate::flink::barrier::Step::Snapshot { started } => {
                        // Forward the barrier, then stop: the snapshot is taken as the work
                        // item ends, before any record behind the barrier.
                        t = chain.status(0, m, t, cx);
                        *snapshot = Some((id, started));
                        break;
                    }
                }
            } else {
                t = on_marker(gate, chain, slot, m, t, cx, trail);
            }
        } else {
            break;
        }
        if cx.net.blocked || cx.ev.error.is_some() || chain.failed() {
            break;
        }
    }
    if pos >= b.len() && mi >= b.markers.len() {
        if b.end_of_partition {
            cx.net.channels[ch as usize].ended = true;
            gate.ended += 1;
            *end_of_input = gate.ended as usize == gate.channels.len();
            // An ended channel counts as aligned: the barrier may be complete now.
            if snapshot.is_none()
                && let Some(id) = gate.align.as_ref().map(|a| a.id)
                && let Some(started) = crate::flink::barrier::complete(gate, cx.net.channels)
            {
                t = chain.status(0, buffer::Marker::Barrier(id), t, cx);
                *snapshot = Some((id, started));
            }
        }
        if !b.unpooled {
            consumed.push(ch);
        }
        cx.net.pool.give(b);
    } else {
        gate.current = Some((ch, b, pos, mi));
    }
    t
}

/// A marker from gate slot `slot`: through its input's valve; if the combined watermark
/// advances, the chain sees it; if every input goes idle (or comes back), downstream is told.
fn on_marker(
    gate: &mut task::Gate,
    chain: &mut Chain,
    slot: usize,
    m: buffer::Marker,
    t: u64,
    cx: &mut Cx<'_>,
    trail: &mut task::WatermarkTrail,
) -> u64 {
    use crate::flink::valve::ValveOutput;
    let (input, idx) = gate.slots[slot];
    let outputs = match m {
        buffer::Marker::Watermark(w) => gate.valves[input].watermark(idx, w).into_iter().collect(),
        buffer::Marker::Idle => gate.valves[input].status(idx, true),
        buffer::Marker::Active => gate.valves[input].status(idx, false),
        buffer::Marker::Barrier(_) | buffer::Marker::UnalignedBarrier(_) => {
            unreachable!("barriers are handled by the caller")
        }
    };
    let mut t = t;
    for o in outputs {
        match o {
            ValveOutput::Watermark(_) => {
                // Two-input operators take the minimum over their active inputs.
                let combined = gate
                    .valves
                    .iter()
                    .filter(|v| !v.output_idle)
                    .map(|v| v.output)
                    .min();
                if let Some(c) = combined
                    && c > gate.watermark
                {
                    gate.watermark = c;
                    trail.record(SimTime(t), c);
                    t = chain.watermark(0, c, t, cx);
                }
            }
            ValveOutput::Idle => {
                if gate.valves.iter().all(|v| v.output_idle) && !gate.idle {
                    gate.idle = true;
                    t = chain.status(0, buffer::Marker::Idle, t, cx);
                }
            }
            ValveOutput::Active => {
                if gate.idle {
                    gate.idle = false;
                    t = chain.status(0, buffer::Marker::Active, t, cx);
                }
            }
        }
    }
    t
}

/// Writes what window operators emitted (with their annotations) to the trace.
fn trace_window_log(tr: &mut Trace, task: &mut Task, interner: &Interner, t: SimTime) {
    for slot in &mut task.chain.ops {
        let Operator::Window(w) = &mut slot.op else {
            continue;
        };
        let Some(log) = w.log.as_mut() else { continue };
        for e in log.drain(..) {
            let js = |v: &[crate::core::value::Value]| {
                serde_json::Value::Array(v.iter().map(|x| x.to_json(interner)).collect())
            };
            match e {
                crate::ops::window::Emitted::Fire {
                    key,
                    window,
                    result,
                    watermark,
                    last_input,
                } => tr.event(
                    t,
                    "window_fired",
                    vec![
                        ("task", json!(task.label)),
                        ("subtask", json!(task.subtask)),
                        ("key", key.to_json(interner)),
                        ("window_start", json!(window.start)),
                        ("window_end", json!(window.end)),
                        ("result", js(&result)),
                        ("watermark", json!(watermark)),
                        (
                            "last_input",
                            last_input.map_or(serde_json::Value::Null, |r| js(&r)),
                        ),
                    ],
                ),
                crate::ops::window::Emitted::Late {
                    row,
                    ts,
                    watermark,
                    last_input,
                } => tr.event(
                    t,
                    "late_record",
                    vec![
                        ("task", json!(task.label)),
                        ("subtask", json!(task.subtask)),
                        ("row", js(&row)),
                        ("ts", json!(ts)),
                        ("watermark", json!(watermark)),
                        (
                            "last_input",
                            last_input.map_or(serde_json::Value::Null, |r| js(&r)),
                        ),
                    ],
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_text(text: &str) -> RunReport {
        let s = crate::scenario::parse_str("t.toml", text, None)
            .unwrap_or_else(|d| panic!("{}", d.render()));
        let p = crate::plan::plan(&s).unwrap_or_else(|d| panic!("{}", d.render()));
        run(&s, &p, RunOptions::default()).unwrap().report
    }

    fn rows(r: &RunReport, sink: &str) -> Vec<String> {
        let s = r.sinks.iter().find(|s| s.name == sink).expect("sink");
        s.rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|v| v.to_string().trim_matches('"').to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .collect()
    }

    const SESSIONS: &str = r#"
[[source]]
name = "clicks"
kind = "inline"
timestamp = "ts"
watermarks = { strategy = "monotonous", emit = "per_event" }
events = [
  { user = "ann", ts = 1_000, n = 1 },
  { user = "ann", ts = 1_500, n = 2 },
  { user = "ann", ts = 5_000, n = 1 },
  { user = "ann", ts = 9_000, n = 0 },
  { user = "ann", ts = 9_500, n = 1 },
]

[[operator]]
name = "by_user"
kind = "key_by"
input = "clicks"
key = "user"

[[operator]]
name = "w"
kind = "window"
input = "by_user"
window = { type = "session", gap_expr = "n * 1000" }
function = "count"

[[sink]]
name = "out"
input = "w"
"#;

    #[test]
    fn a_failed_task_delivers_nothing_after_the_failure() {
        // The fourth record's gap is 0: Flink throws. The session of the first two fired when
        // the third record's watermark passed it; the third record's session, the fifth
        // record and the final watermark must never get through.
        let r = run_text(SESSIONS);
        assert_eq!(r.outcome.status, Status::Failed);
        let msg = r.outcome.message.clone().unwrap_or_default();
        assert!(
            msg.contains("Dynamic session time gap must satisfy 0 < gap, found 0"),
            "{msg}"
        );
        assert_eq!(rows(&r, "out"), vec!["ann, 1000, 3500, 2"]);
        assert_eq!(r.sink_records, 1);
        // The same with a source that hands over its records in one batch (no per-event
        // watermarks): nothing fires before the failure, and the final watermark never comes.
        let r = run_text(&SESSIONS.replace(", emit = \"per_event\"", ""));
        assert_eq!(r.outcome.status, Status::Failed);
        assert_eq!(r.sink_records, 0, "{:?}", rows(&r, "out"));
    }

    #[test]
    fn an_expression_error_stops_the_task_at_the_failing_record() {
        // Records run through a chain in batches; the division by zero of the second record
        // fails the task there: the first record's result is out, nothing after it is.
        let text = |op: &str| {
            format!(
                r#"
[[source]]
name = "s"
kind = "inline"
events = [ {{ a = 1 }}, {{ a = 0 }}, {{ a = 2 }}, {{ a = 5 }} ]

[[operator]]
name = "m"
input = "s"
{op}

[[sink]]
name = "out"
input = "m"
"#
            )
        };
        for (op, want) in [
            ("kind = \"map\"\nselect = { b = \"10 / a\" }", "10"),
            ("kind = \"filter\"\nwhere = \"10 / a > 0\"", "1"),
            (
                "kind = \"flat_map\"\nselect = { b = \"split(CAST(10 / a AS VARCHAR))\" }",
                "10",
            ),
        ] {
            let r = run_text(&text(op));
            assert_eq!(r.outcome.status, Status::Failed, "{op}");
            let msg = r.outcome.message.clone().unwrap_or_default();
            assert!(msg.contains("ArithmeticException: / by zero"), "{msg}");
            assert_eq!(rows(&r, "out"), vec![want], "{op}");
        }
    }

    const IDLE: &str = r#"
[job]
parallelism = 2

[cluster]
slots_per_task_manager = 2

[[source]]
name = "clicks"
kind = "inline"
rate = 10
timestamp = "ts"
partition = "p"
duration = "10 s"
watermarks = { strategy = "bounded", max_out_of_orderness = "0 ms", emit = "per_event", idleness = "1 s" }
events = [
  { p = 0, user = "ann", ts = 1_000 },
  { p = 1, user = "bob", ts = 1_000 },
  { p = 0, user = "ann", ts = 6_000 },
  { p = 0, user = "ann", ts = 11_000 },
]

[[operator]]
name = "by_user"
kind = "key_by"
input = "clicks"
key = "user"

[[operator]]
name = "counts"
kind = "window"
input = "by_user"
window = { type = "tumbling", size = "5 s" }
function = "count"

[[sink]]
name = "out"
input = "counts"
"#;

    #[test]
    fn idleness_works_with_per_event_watermarks() {
        // Partition 1 goes silent after its first record while the source stays open for
        // 10 s. Flink probes idleness every auto-watermark interval (200 ms) also for a
        // punctuated generator, so partition 1 turns idle after about 1 s and the windows fire
        // long before the source closes.
        let r = run_text(IDLE);
        assert_eq!(r.outcome.status, Status::Finished);
        let out = r.sinks.iter().find(|s| s.name == "out").unwrap();
        assert_eq!(out.records, 4);
        assert!(
            out.first_ms < 2_000.0,
            "the first window fired at {} ms",
            out.first_ms
        );
        // Without idleness the windows wait for the end of the input.
        let r = run_text(&IDLE.replace(", idleness = \"1 s\"", ""));
        let out = r.sinks.iter().find(|s| s.name == "out").unwrap();
        assert!(out.first_ms >= 10_000.0, "{}", out.first_ms);
        // The source's `interval` sets the probe period: probing every 5 s, partition 1 is
        // idle only at the 5 s probe.
        let r = run_text(&IDLE.replace(
            "idleness = \"1 s\"",
            "idleness = \"1 s\", interval = \"5 s\"",
        ));
        let out = r.sinks.iter().find(|s| s.name == "out").unwrap();
        assert!(
            (5_000.0..6_000.0).contains(&out.first_ms),
            "{}",
            out.first_ms
        );
    }

    const JOIN: &str = r#"
[[source]]
name = "a"
kind = "inline"
timestamp = "ts"
watermarks = { strategy = "monotonous" }
events = [ { k = 1, ts = 1_000, g = 1_000 }, { k = 1, ts = 2_500, g = 1_000 } ]

[[source]]
name = "b"
kind = "inline"
timestamp = "ts"
watermarks = { strategy = "monotonous" }
events = [ { k = 1, ts = 2_100, g = 1_000 }, { k = 1, ts = 3_500, g = 1_000 } ]

[[operator]]
name = "ka"
kind = "key_by"
input = "a"
key = "k"

[[operator]]
name = "kb"
kind = "key_by"
input = "b"
key = "k"

[[operator]]
name = "j"
kind = "window_join"
inputs = ["ka", "kb"]
window = WINDOW
select = { l = "left.ts", r = "right.ts" }

[[sink]]
name = "out"
input = "j"
"#;

    fn join(window: &str) -> RunReport {
        run_text(&JOIN.replace("WINDOW", window))
    }

    #[test]
    fn a_window_join_uses_the_offset_of_its_windows() {
        let r = join(r#"{ type = "tumbling", size = "2 s" }"#);
        assert_eq!(rows(&r, "out"), vec!["2500, 2100", "2500, 3500"]);
        // windows [1 s, 3 s), [3 s, 5 s)
        let r = join(r#"{ type = "tumbling", size = "2 s", offset = "1 s" }"#);
        assert_eq!(rows(&r, "out"), vec!["1000, 2100", "2500, 2100"]);
        // windows of 2 s every 1 s starting at 500 ms + k s
        let r = join(r#"{ type = "sliding", size = "2 s", slide = "1 s", offset = "500 ms" }"#);
        assert_eq!(
            rows(&r, "out"),
            vec![
                "1000, 2100", // [500, 2500)
                "2500, 2100", // [1500, 3500)
                "2500, 3500", // [2500, 4500)
            ]
        );
    }

    #[test]
    fn a_window_join_merges_sessions_across_both_inputs() {
        // Sessions of 1 s: a1000 = [1000, 2000) alone; b2100 [2100, 3100), a2500
        // [2500, 3500) and b3500 [3500, 4500) merge (touching sessions merge) into one.
        let want = vec!["2500, 2100", "2500, 3500"];
        let r = join(r#"{ type = "session", gap = "1 s" }"#);
        assert_eq!(r.outcome.status, Status::Finished);
        assert_eq!(rows(&r, "out"), want);
        let r = join(r#"{ type = "session", gap_expr = "g" }"#);
        assert_eq!(rows(&r, "out"), want);
        // A larger gap makes one session of all four.
        let r = join(r#"{ type = "session", gap = "2 s" }"#);
        assert_eq!(
            rows(&r, "out"),
            vec!["1000, 2100", "1000, 3500", "2500, 2100", "2500, 3500"]
        );
        // A dynamic gap of 0 fails the job, as in Flink.
        let r = join(r#"{ type = "session", gap_expr = "g - 1000" }"#);
        assert_eq!(r.outcome.status, Status::Failed);
        assert_eq!(r.sink_records, 0);
    }

    #[test]
    fn a_keyed_expr_window_keeps_its_key_in_the_reduced_record() {
        let text = r#"
[[source]]
name = "clicks"
kind = "inline"
timestamp = "ts"
watermarks = { strategy = "monotonous", emit = "per_event" }
events = [
  { user = "ann", ts = 1_000, n = 1 },
  { user = "bob", ts = 2_000, n = 2 },
  { user = "ann", ts = 4_000, n = 3 },
  { user = "ann", ts = 7_000, n = 4 },
]

[[operator]]
name = "by_user"
kind = "key_by"
input = "clicks"
key = "user"

[[operator]]
name = "w"
kind = "window"
input = "by_user"
window = { type = "tumbling", size = "5 s" }
function = "expr"
select = { n = "acc.n + n" }

[[sink]]
name = "out"
input = "w"
"#;
        let r = run_text(text);
        let out = r.sinks.iter().find(|s| s.name == "out").unwrap();
        assert_eq!(
            out.fields,
            ["window_start", "window_end", "user", "ts", "n"]
        );
        assert_eq!(
            rows(&r, "out"),
            vec![
                "0, 5000, ann, 1000, 4",
                "0, 5000, bob, 2000, 2",
                "5000, 10000, ann, 7000, 4"
            ]
        );
        // A key expression is not in the record: it comes first, as `key`.
        let r = run_text(&text.replace("key = \"user\"", "key = \"upper(user)\""));
        let out = r.sinks.iter().find(|s| s.name == "out").unwrap();
        assert_eq!(
            out.fields,
            ["key", "window_start", "window_end", "user", "ts", "n"]
        );
        assert_eq!(rows(&r, "out")[0], "ANN, 0, 5000, ann, 1000, 4");
    }
}
