//! The [`RunReport`] of a streaming run, read from the simulation's state at its end: every
//! task's operators, time split and watermarks, the sinks, then what only streaming has —
//! network totals, checkpoints, failures, the rescale. The report itself is put together by
//! the one assembler every mode uses ([`RunReport::assemble`]).
//!
//! The kernel hands this module a read-only view of the world at the end of the run
//! ([`EndState`]: the tasks, channels, subsystems' records), never the `Simulation` itself.

use super::channel::Channel;
use super::report_parts::{self, sink_input, window_counts};
use super::task::Task;
use super::*;
use crate::core::time::EventTime;
use crate::core::time::SimTime;
use crate::core::value::Interner;
use crate::ops::sink::{Series as Arrivals, SinkOp};
use crate::report::DeploymentReport;

/// What the report reads of the world when the run has ended (a read-only view the kernel
/// lends: the tasks of the running job, the channels between them, the savepoint/rescale
/// state with the tasks a rescale retired, and the records of checkpoints, failures and
/// scripted faults).
pub(super) struct EndState<'w> {
    /// The simulated time the run ended at.
    pub end: SimTime,
    /// The subtasks of the running job.
    pub tasks: &'w [Task],
    /// The network channels between them (counters, senders).
    pub channels: &'w [Channel],
    /// The strings interned by the run, to print keys and values.
    pub interner: &'w Interner,
    /// Savepoint/rescale state: the report of a rescale, the tasks it retired.
    pub sp: &'w savepoint::State,
    /// The checkpoint coordinator, when checkpointing is on (its history).
    pub coord: Option<&'w checkpoint::Coordinator>,
    /// Failures, job-status transitions and which scripted faults struck.
    pub recovery: &'w recovery::Recovery,
    /// The scenario's scripted faults.
    pub faults: &'w [crate::scenario::Fault],
}

impl EndState<'_> {
    /// The report of the run that ended with `outcome` (status, message, events).
    pub(super) fn report(
        &self,
        s: &Scenario,
        p: &Plan,
        seed: u64,
        (status, message, events): (Status, Option<String>, u64),
    ) -> RunReport {
        let end = self.end;
        let g = &p.logical.graph;
        // Operators, in logical-graph order.
        let mut operators: Vec<OperatorReport> = g
            .node_indices()
            .map(|n| {
                let ln = &g[n];
                let kind = crate::plan::render::describe(s, ln.scenario_node);
                OperatorReport::empty(ln.name.clone(), kind, ln.parallelism)
            })
            .collect();
        let mut tasks = Vec::new();
        let mut net = NetStats::default();
        let mut sink_parts: Vec<Vec<&SinkOp>> = vec![Vec::new(); g.node_count()];
        let mut source_records = 0;
        // The tasks of the job before a rescale come last, marked.
        let all = self.tasks.iter().map(|t| (t, None)).chain(
            self.sp
                .retired
                .iter()
                .map(|r| (&r.task, Some(r.chain.as_str()))),
        );
        for (t, retired) in all {
            for slot in &t.chain.ops {
                operators[slot.node].add_subtask(SubtaskInput {
                    subtask: t.subtask,
                    before_rescale: retired.is_some(),
                    records_in: slot.records_in,
                    records_out: slot.records_out,
                    windows: window_counts(&slot.op),
                });
                match &slot.op {
                    Operator::Source => source_records += slot.records_out,
                    Operator::Sink(sk) => sink_parts[slot.node].push(sk),
                    _ => {}
                }
            }
            tasks.push(self.task_report(t, retired, p, end));
            net.full += t.stats.full;
            net.timeout += t.stats.timeout;
            net.end += t.stats.end;
        }
        let mut arrivals = Arrivals::new();
        let sinks = g
            .node_indices()
            .filter(|n| !sink_parts[n.index()].is_empty())
            .map(|n| {
                sink_input(
                    &s.nodes[g[n].scenario_node],
                    &sink_parts[n.index()],
                    &mut arrivals,
                )
            })
            .collect();
        let report = RunReport::assemble(
            RunInputs {
                scenario: &s.name,
                seed,
                mode: "streaming",
                end,
                status,
                message,
                events,
                source_records,
                operators,
                tasks,
                sinks,
                throughput: report_parts::throughput(arrivals),
            },
            self.interner,
        );
        RunReport {
            deployment: s
                .deployment
                .as_ref()
                .map(|d| DeploymentReport::new(d, &p.deployment)),
            network: self.network_report(&net),
            checkpoints: self.coord.map(|c| c.history.clone()).unwrap_or_default(),
            failures: self.recovery.failures.clone(),
            job_status: self.recovery.transitions.clone(),
            faults_not_reached: self.faults_not_reached(s, end),
            rescale: self.sp.report.clone(),
            warnings: self
                .sp
                .rescale_missed(s)
                .into_iter()
                .chain(self.transaction_warnings(s, p))
                .collect(),
            ..report
        }
    }

    /// Per two-phase-commit sink subtask: each transaction the broker aborted by its timeout
    /// (the sink, the subtask, the checkpoint, when it began, when it was aborted and when
    /// its commit found it aborted), then the commits that came close to the timeout.
    fn transaction_warnings(&self, s: &Scenario, p: &Plan) -> Vec<String> {
        let g = &p.logical.graph;
        let all = self
            .tasks
            .iter()
            .chain(self.sp.retired.iter().map(|r| &r.task));
        let mut out = Vec::new();
        for t in all {
            for slot in &t.chain.ops {
                let Operator::Sink(sk) = &slot.op else {
                    continue;
                };
                let Some(txn) = sk.txn.as_ref() else { continue };
                let Some(limit) = txn.timeout else { continue };
                let name =
                    &s.nodes[g[petgraph::graph::NodeIndex::new(slot.node)].scenario_node].name;
                let who = format!("sink `{name}` #{}", t.subtask);
                out.extend(txn.timed_out().iter().map(|x| x.warning(&who, limit)));
                out.extend(txn.near_timeout_warning(&who));
            }
        }
        out
    }

    /// Task `t` at `end` (`retired`: the chain name of a task stopped by a rescale).
    fn task_report(&self, t: &Task, retired: Option<&str>, p: &Plan, end: SimTime) -> TaskReport {
        let before_rescale = retired.is_some();
        let mut bp = t.time.backpressured;
        if let Some(since) = t.backpressured_since {
            bp = bp.plus(end.since(since));
        }
        let input = TaskInput {
            chain: retired.map_or_else(
                || p.execution.vertices[t.vertex].name.clone(),
                str::to_string,
            ),
            before_rescale,
            subtask: t.subtask,
            task_manager: t.tm,
            busy_ms: t.time.busy.as_millis_f64(),
            cpu_wait_ms: t.time.cpu_wait.as_millis_f64(),
            backpressured_ms: bp.as_millis_f64(),
            run_ms: end.as_millis_f64(),
            buffers_out: t.stats.full + t.stats.timeout + t.stats.end,
            watermark: t.source.is_none().then_some(t.gate.watermark),
            channel_watermarks: if before_rescale {
                Vec::new()
            } else {
                self.channel_watermarks(t)
            },
        };
        // (a final +∞ watermark is no lag)
        let trail = t
            .watermark_trail
            .points
            .iter()
            .copied()
            .filter(|(_, w)| *w != EventTime::MAX);
        TaskReport::assemble(input, trail)
    }

    /// The watermark of each input channel of task `t`, with the task that sends on it.
    fn channel_watermarks(&self, t: &Task) -> Vec<ChannelWatermark> {
        t.gate
            .channels
            .iter()
            .zip(&t.gate.slots)
            .map(|(&c, &(input, idx))| {
                let v = &t.gate.valves[input];
                let w = v.channel_watermarks()[idx];
                ChannelWatermark {
                    from: self.tasks[self.channels[c as usize].from_task as usize]
                        .label
                        .clone(),
                    watermark: (w != crate::core::time::EventTime::MIN).then_some(w),
                    idle: v.channel_idle()[idx],
                }
            })
            .collect()
    }

    /// Network totals, the job before a rescale included; `net` counts the buffers by why
    /// they were sent.
    fn network_report(&self, net: &NetStats) -> NetworkReport {
        let buffers: u64 =
            self.channels.iter().map(|c| c.buffers_sent).sum::<u64>() + self.sp.retired_net.0;
        let bytes: u64 =
            self.channels.iter().map(|c| c.bytes_sent).sum::<u64>() + self.sp.retired_net.1;
        let network_records: u64 = self
            .tasks
            .iter()
            .chain(self.sp.retired.iter().map(|r| &r.task))
            .flat_map(|t| t.writers.iter())
            .map(|w| w.records)
            .sum();
        let data_buffers = net.full + net.timeout;
        NetworkReport {
            buffers,
            bytes,
            flushed_full: net.full,
            flushed_timeout: net.timeout,
            flushed_end: net.end,
            records_per_buffer: if data_buffers > 0 {
                round3(network_records as f64 / data_buffers as f64)
            } else {
                0.0
            },
        }
    }

    /// Scripted faults that never struck (the job ended at `end` first) or struck only
    /// finished tasks, as `file:line:column` notes.
    fn faults_not_reached(&self, s: &Scenario, end: SimTime) -> Vec<String> {
        self.faults
            .iter()
            .zip(&self.recovery.struck)
            .filter(|(_, struck)| !**struck)
            .map(|(f, _)| {
                let (line, col) = s.file.line_col(f.span.start);
                format!(
                    "{}:{line}:{col}: the fault never struck ({}): the job ended at {} first",
                    s.file.name,
                    match f.at {
                        crate::scenario::FaultTime::At(t) => format!("at {t}"),
                        crate::scenario::FaultTime::After(
                            crate::scenario::CheckpointPhase::SavepointStop,
                            _,
                        ) => "after the savepoint stop".to_string(),
                        crate::scenario::FaultTime::After(ph, id) =>
                            format!("after {ph} of checkpoint {id}"),
                    },
                    end
                )
            })
            .chain(self.recovery.hit_finished.iter().map(|(i, at, what)| {
                let (line, col) = s.file.line_col(self.faults[*i].span.start);
                format!(
                    "{}:{line}:{col}: the fault struck at {at} but found nothing to fail: {what} (Flink does not fail a finished task)",
                    s.file.name
                )
            }))
            .collect()
    }
}
