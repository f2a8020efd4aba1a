//! The kernel: [`Simulation`] — the world of one run (tasks, channels, cores, the event
//! queue) and the loop that takes one event at a time from the queue and hands it to the
//! part of the simulator it concerns.
//!
//! Its shape is turmoil's: [`Simulation::new`] builds the job's tasks and channels and
//! schedules what starts the run; [`Simulation::step`] processes one event and returns it
//! (`None` once the run has ended); [`Simulation::run`] steps to the end and returns the
//! report. A driver that wants to look between events (a stepper, an explainer) calls
//! `step` itself.
//!
//! The kernel files are this folder: `mod.rs` (the world and the loop), `cpu.rs` (cores,
//! work items and the network events), `work.rs` (what one work item does, as functions of
//! the task's pieces), and the kernel's side of each subsystem — `checkpoints.rs`,
//! `unaligned.rs`, `failover.rs`, `savepoints.rs` — which hands the subsystem the pieces of
//! the world it needs and carries out what follows (a task scheduled, a checkpoint aborted,
//! a job failed over) in the order the simulation depends on. The subsystems themselves
//! (`sim/checkpoint.rs`, `sim/recovery.rs`, …) hold their own state and import no kernel
//! file.

mod checkpoints;
mod cpu;
mod failover;
mod savepoints;
mod unaligned;
mod work;

use super::limits::{self, Progress};
use super::queue::{Event, EventQueue};
use super::task::Task;
use super::trace::Trace;
use super::{RunOptions, RunOutput};
use super::{buffer, build, channel, checkpoint, memory, recovery, savepoint};
use crate::core::cost::CostModel;
use crate::core::time::{SimDuration, SimTime};
use crate::core::value::Interner;
use crate::ops::Operator;
use crate::plan::Plan;
use crate::report::Status;
use crate::scenario::{NodeKind, Scenario};
use std::collections::VecDeque;

/// How often watermark alignment compares the sources of a group (Flink's default
/// `updateInterval` of `withWatermarkAlignment`: 1 s).
pub(in crate::sim) const ALIGNMENT_INTERVAL: SimDuration =
    crate::core::defaults::watermarks::ALIGNMENT_UPDATE_INTERVAL;

/// How a run ended: its status, the message, and the events processed.
pub(in crate::sim) type Ending = (Status, Option<String>, u64);

/// The cores of one TaskManager.
pub(in crate::sim) struct Cpu {
    pub(in crate::sim) free: u32,
    pub(in crate::sim) ready: VecDeque<u32>,
}

/// One run of one job: the world and its event loop (see the module docs).
pub struct Simulation<'a> {
    /// The job running (after a rescale: the resubmitted one).
    pub(in crate::sim) s: &'a Scenario,
    /// Its plan.
    pub(in crate::sim) p: &'a Plan,
    pub(in crate::sim) cost: CostModel,
    pub(in crate::sim) queue: EventQueue,
    pub(in crate::sim) tms: Vec<Cpu>,
    pub(in crate::sim) tasks: Vec<Task>,
    pub(in crate::sim) channels: Vec<channel::Channel>,
    pub(in crate::sim) interner: Interner,
    pub(in crate::sim) pool: buffer::BufferPool,
    pub(in crate::sim) scratch: String,
    pub(in crate::sim) trace: Option<Trace>,
    /// What the event-time diagram draws, when captured ([`RunOptions::capture_event_time`]).
    pub(in crate::sim) event_time: Option<crate::sim::event_time::Collector>,
    pub(in crate::sim) finished: usize,
    pub(in crate::sim) failure: Option<String>,
    /// Watermark alignment groups: name, maximum drift, member source tasks.
    pub(in crate::sim) alignment: Vec<(String, SimDuration, Vec<u32>)>,
    /// The checkpoint coordinator, when checkpointing is on.
    pub(in crate::sim) coord: Option<checkpoint::Coordinator>,
    /// Job status, restarts and failures.
    pub(in crate::sim) recovery: recovery::Recovery,
    /// The scripted faults and their descriptions.
    pub(in crate::sim) faults: Vec<crate::scenario::Fault>,
    pub(in crate::sim) fault_names: Vec<String>,
    /// Failover strategy.
    pub(in crate::sim) failover: crate::scenario::Failover,
    /// Logical node → scenario node.
    pub(in crate::sim) scenario_node: Vec<usize>,
    /// The run's seed (a restart rebuilds tasks from it).
    pub(in crate::sim) seed: u64,
    /// Whether operators annotate their output (for the trace or the checkers).
    pub(in crate::sim) annotate: bool,
    /// Where the sinks write every row they make visible, when kept
    /// ([`Simulation::keep_sink_lineage`]).
    pub(in crate::sim) lineage: Option<crate::ops::sink_lineage::SinkLineage>,
    /// The record followed for `explain --record` ([`RunOptions::follow_record`]).
    pub(in crate::sim) followed: Option<(usize, u32, u64)>,
    /// The in-run invariant checkers, when attached ([`Simulation::observe`]).
    pub(in crate::sim) observer: Option<Box<dyn crate::sim::observe::Observer>>,
    /// Savepoints and the rescale.
    pub(in crate::sim) sp: savepoint::State,
    /// Per task, the newest checkpoint whose first barrier it was seen reading — kept only
    /// when a fault waits for a subtask's first barrier.
    pub(in crate::sim) first_barrier_seen: Option<Vec<u64>>,
    /// Events processed so far.
    events: u64,
    /// Work done inside events (timers one watermark fires), counted against `max_events`.
    work: u64,
    /// The `[limits]` checks.
    watch: limits::Watch,
    /// How the run ended, once it has.
    ending: Option<Ending>,
    /// Whether the job was started (on the first [`Simulation::step`], so an observer
    /// attached after [`Simulation::new`] sees the tasks' first work items too).
    started: bool,
    /// Called every few thousand events, for a progress line.
    progress: Option<&'a mut dyn FnMut(&Progress)>,
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

/// The watermark alignment groups of a job and their source tasks.
pub(in crate::sim) fn alignment_groups(
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

impl<'a> Simulation<'a> {
    /// Builds the job's tasks and channels (with `opts.seed`, or the scenario's) and
    /// schedules what starts the run: checkpoints, faults, savepoints, the first work items.
    pub fn new(s: &'a Scenario, p: &'a Plan, opts: RunOptions) -> Self {
        let seed = opts.seed.unwrap_or(s.seed);
        let mut interner = Interner::new();
        let tracing = opts.trace.is_some() || opts.hash_trace;
        // The checkers read the window operators' emission logs, as the trace does.
        let annotate = tracing || opts.check;
        let rt = build::build(s, p, seed, &mut interner, annotate);
        let trace = if tracing {
            Some(Trace::new(opts.trace))
        } else {
            None
        };
        let region = recovery::regions(rt.tasks.len(), &rt.channels);
        let g = &p.logical.graph;
        let scenario_node = g.node_indices().map(|n| g[n].scenario_node).collect();
        let mut sim = Simulation {
            s,
            p,
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
            lineage: None,
            followed: opts.follow_record,
            observer: None,
            cost: s.cost.clone(),
            queue: if opts.reverse_ties {
                EventQueue::with_reversed_ties()
            } else {
                EventQueue::new()
            },
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
            event_time: opts
                .capture_event_time
                .then(crate::sim::event_time::Collector::default),
            finished: 0,
            failure: None,
            alignment: alignment_groups(s, p, &rt.task_of),
            sp: savepoint::State::default(),
            first_barrier_seen: crate::sim::faults::any_tied(&s.fault_tolerance.faults, |p| {
                matches!(
                    p,
                    crate::scenario::CheckpointPhase::SubtaskFirstBarrier { .. }
                )
            })
            .then(Vec::new),
            events: 0,
            work: 0,
            watch: limits::Watch::default(),
            ending: None,
            started: false,
            progress: None,
        };
        sim.tag_followed();
        sim
    }

    /// Attaches the in-run invariant checkers; they see every buffer, work item, snapshot,
    /// commit, restore and resubmission from now on (`RunOptions::check` must be on, so that
    /// operators log their window emissions).
    pub fn observe(&mut self, observer: Box<dyn crate::sim::observe::Observer>) {
        self.observer = Some(observer);
    }

    /// Every sink writes each row it makes visible into `log`, with when and from which
    /// checkpoint (for `explain --sink`); kept across restarts and a rescale.
    pub fn keep_sink_lineage(&mut self, log: crate::ops::sink_lineage::SinkLineage) {
        self.lineage = Some(log);
        self.tap_sinks();
    }

    /// Gives every sink subtask its handle on the lineage, if kept (again after tasks were
    /// rebuilt or restored).
    pub(in crate::sim) fn tap_sinks(&mut self) {
        let Some(log) = &self.lineage else { return };
        for t in &mut self.tasks {
            for slot in &mut t.chain.ops {
                if let crate::ops::Operator::Sink(op) = &mut slot.op {
                    op.keep_lineage(crate::ops::sink_lineage::LineageTap {
                        node: slot.node,
                        subtask: t.subtask,
                        log: log.clone(),
                    });
                }
            }
        }
    }

    /// Marks the followed record in the split that holds it, if not yet marked (again after
    /// tasks were rebuilt: a split restored from a checkpoint or savepoint keeps its mark, a
    /// split started over gets it anew).
    pub(in crate::sim) fn tag_followed(&mut self) {
        let Some((node, split, offset)) = self.followed else {
            return;
        };
        for t in &mut self.tasks {
            if t.chain.ops.first().map(|o| o.node) != Some(node) {
                continue;
            }
            if let Some(src) = t.source.as_mut() {
                src.follow(split, offset);
            }
        }
    }

    /// Calls `f` every few thousand events with how far the run has got.
    pub fn on_progress(&mut self, f: &'a mut dyn FnMut(&Progress)) {
        self.progress = Some(f);
    }

    /// The simulated time now.
    pub fn now(&self) -> SimTime {
        self.queue.now()
    }

    /// Whether the run has ended (`step` returns `None` from then on).
    pub fn ended(&self) -> bool {
        self.ending.is_some()
    }

    /// The job starts: memory guards, RUNNING, the first checkpoint trigger, scripted faults
    /// and savepoints, watermark alignment, and every task that has work.
    fn start(&mut self) {
        let s = self.s;
        self.apply_memory_limit(s.limits.max_memory);
        self.set_status(crate::flink::restart::JobStatus::Running);
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
        crate::ops::timers::budget::take_cause();
        crate::ops::timers::budget::start_event(s.limits.max_events);
        self.watch.check_memory = memory::check_every(self.tasks.len(), self.channels.len());
    }

    /// Processes the next event and returns it; `None` when the run has ended (the job
    /// finished or failed, a limit stopped it, or nothing is left to do).
    pub fn step(&mut self) -> Option<Event> {
        if self.ending.is_some() {
            return None;
        }
        if !self.started {
            self.started = true;
            self.start();
        }
        let Some((t, ev)) = self.queue.pop() else {
            self.ending = Some(self.stalled());
            return None;
        };
        self.events += 1;
        crate::ops::timers::budget::start_event(
            self.s
                .limits
                .max_events
                .saturating_sub(self.events + self.work),
        );
        if let Some(stop) = self.limit_before(t) {
            self.ending = Some(stop);
            return None;
        }
        if let Some(tr) = self.trace.as_mut() {
            tr.advance(t);
        }
        self.handle(t, ev);
        self.work += crate::ops::timers::budget::used();
        self.ending = self.ended_after(t);
        if self
            .observer
            .as_ref()
            .is_some_and(|o| o.violation().is_some())
        {
            // `run` turns it into an error
            self.ending = Some((Status::Failed, None, self.events));
        }
        Some(ev)
    }

    /// Steps to the end and returns what the run produced.
    pub fn run(mut self) -> Result<RunOutput, std::io::Error> {
        while self.step().is_some() {}
        if let Some(v) = self.observer.as_ref().and_then(|o| o.violation()) {
            return Err(std::io::Error::other(v.clone()));
        }
        let ending = self.ending.take().unwrap_or_else(|| self.stalled());
        let (s, p) = (self.s, self.p);
        let mut trace = self.trace.take();
        if let Some(t) = trace.as_mut() {
            t.finish()?;
        }
        let visible = self.visible_output(s, p);
        let report = super::reporting::EndState {
            end: self.queue.now(),
            tasks: &self.tasks,
            channels: &self.channels,
            interner: &self.interner,
            sp: &self.sp,
            coord: self.coord.as_ref(),
            recovery: &self.recovery,
            faults: &self.faults,
        }
        .report(s, p, self.seed, ending);
        Ok(RunOutput {
            report,
            trace_hash: trace.as_ref().map(Trace::hash),
            trace_lines: trace.as_ref().map_or(0, Trace::lines),
            visible,
            resubmitted: self.sp.resubmitted,
            event_time: self.event_time.take().map_or_else(Vec::new, |c| {
                c.finish(self.s, self.p, &self.tasks, self.queue.now())
            }),
        })
    }

    /// The `[limits]` checked before an event at `t` is processed ([`limits::Watch`]).
    fn limit_before(&mut self, t: SimTime) -> Option<Ending> {
        let mut progress = self.progress.take();
        let mut watch = std::mem::take(&mut self.watch);
        let counts = (self.events, self.work);
        let stop = watch.before_event(&self.s.limits, counts, t, &self.held(), &mut progress);
        self.watch = watch;
        self.progress = progress;
        stop.map(|why| (Status::LimitReached, Some(why), self.events))
    }

    /// What the run holds, for the memory estimates.
    fn held(&self) -> memory::Held<'_> {
        memory::Held {
            tasks: &self.tasks,
            channels: &self.channels,
            snapshot_bytes: self.coord.as_ref().map_or(0, |c| c.snapshot_bytes()),
            retired: &self.sp.retired,
            queue_len: self.queue.len(),
            interned: self.interner.len(),
            buffer_size: self.cost.buffer_size_bytes,
        }
    }

    /// An estimate of the memory the run holds now, in bytes ([`memory::Held::bytes`]).
    pub fn memory_estimate_bytes(&self) -> u64 {
        self.held().bytes()
    }

    /// Gives the operators that can multiply records within one event their share of
    /// `limit` bytes ([`memory::apply_limit`]); called whenever tasks are (re)built.
    pub(in crate::sim) fn apply_memory_limit(&mut self, limit: u64) {
        memory::apply_limit(&mut self.tasks, limit);
    }

    /// Hands event `ev` at `t` to the part of the simulator it concerns.
    fn handle(&mut self, t: SimTime, ev: Event) {
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
            Event::Restart { generation } => self.on_restart(generation, self.s, self.p),
            Event::Savepoint { .. } => self.on_savepoint(savepoint::Kind::Intermediate),
            Event::StopWithSavepoint => self.on_savepoint(savepoint::Kind::Stop),
            Event::Resubmit => {
                let p = self.p;
                if let Some(r) = p.rescaled.as_deref()
                    && self.resubmit(p, &r.scenario, &r.plan)
                {
                    (self.s, self.p) = (&r.scenario, &r.plan);
                }
            }
        }
    }

    /// Whether the event just processed at `t` ended the run: an operator stopped it, a task
    /// failed, or every task finished.
    fn ended_after(&mut self, t: SimTime) -> Option<Ending> {
        let events = self.events;
        if let Some(cause) = crate::ops::timers::budget::take_cause() {
            return Some((
                Status::LimitReached,
                Some(format!("the run stopped: {cause}")),
                events,
            ));
        }
        if let Some(f) = &self.failure {
            return Some((Status::Failed, Some(f.clone()), events));
        }
        if self.finished == self.tasks.len() {
            self.set_status(crate::flink::restart::JobStatus::Finished);
            if let Some(tr) = self.trace.as_mut() {
                tr.event(t, "job_finished", vec![]);
            }
            return Some((Status::Finished, None, events));
        }
        None
    }

    /// The queue ran empty before every task finished.
    fn stalled(&self) -> Ending {
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
            self.events,
        )
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
                let mine = if let crate::ops::sink::SinkMode::Upsert { .. } = sk.mode {
                    let mut mine = crate::ops::sink_txn::Ledger::default();
                    let a = node.schema.arity().max(1);
                    mine.add_rows(&sk.rows, a, sk.rows.len() / a, &self.interner);
                    mine
                } else {
                    crate::ops::sink_txn::Ledger::clone(l)
                };
                match out.iter_mut().find(|(n, _)| *n == node.name) {
                    Some((_, all)) => all.merge(&mine),
                    None => out.push((node.name.clone(), mine)),
                }
            }
        }
        out
    }
}
