//! The common [`RunReport`] of a baseline run: its [`Dataflow`] read into the inputs of the
//! one assembler every mode uses ([`RunReport::assemble`]), so every mode reads the same.

use super::dataflow::{Dataflow, SinkOutputs};
use super::{ModeDetails, SinkCorrectness};
use crate::core::time::{EventTime, SimTime};
use crate::ops::Operator;
use crate::ops::sink::{Series as Arrivals, SinkOp};
use crate::plan::Plan;
use crate::report::*;
use crate::scenario::{NodeKind, Scenario};
use crate::sim::report_parts::{sink_input, throughput, window_counts};

/// Builds the report of a baseline run that ended at `end`.
#[allow(clippy::too_many_arguments)]
pub fn build(
    s: &Scenario,
    p: &Plan,
    df: &Dataflow,
    mode: &str,
    seed: u64,
    end: SimTime,
    status: Status,
    message: Option<String>,
    events: u64,
) -> RunReport {
    let g = &p.logical.graph;
    let mut operators = Vec::new();
    let mut sinks = Vec::new();
    let mut arrivals = Arrivals::new();
    let mut source_records = 0;
    for ix in g.node_indices() {
        let ln = &g[ix];
        let nr = &df.nodes[ix.index()];
        let node = &s.nodes[ln.scenario_node];
        if matches!(node.kind, NodeKind::Source(_)) {
            source_records += nr.records_out.iter().sum::<u64>();
        }
        let kind = crate::plan::render::describe(s, ln.scenario_node);
        let mut o = OperatorReport::empty(ln.name.clone(), kind, ln.parallelism);
        for (st, op) in nr.inst.iter().enumerate() {
            o.add_subtask(SubtaskInput {
                subtask: st as u32,
                before_rescale: false,
                records_in: nr.records_in[st],
                records_out: nr.records_out[st],
                windows: window_counts(op),
            });
        }
        operators.push(o);
        if nr.is_sink {
            let parts: Vec<&SinkOp> = nr
                .inst
                .iter()
                .filter_map(|o| match o {
                    Operator::Sink(sk) => Some(sk),
                    _ => None,
                })
                .collect();
            sinks.push(sink_input(node, &parts, &mut arrivals));
        }
    }
    let mut report = RunReport::assemble(
        RunInputs {
            scenario: &s.name,
            seed,
            mode,
            end,
            status,
            message,
            events,
            source_records,
            operators,
            tasks: tasks(s, p, df, end),
            sinks,
            throughput: throughput(arrivals),
        },
        &df.interner,
    );
    // What the model delivers, whatever the sink asked of Flink: a micro-batch or a stage
    // commits its results once; Storm's replays repeat them. (Duplicates and missing
    // records of the baselines are in the mode's details.) The baselines take no
    // checkpoints; their failures are in the mode's details too.
    let guarantee = if mode == "acking" {
        "at_least_once"
    } else {
        "exactly_once"
    };
    for sink in &mut report.sinks {
        sink.guarantee = guarantee.into();
    }
    report
}

/// The tasks of a baseline run: busy while a stage or batch ran them, idle the rest; the
/// watermark trail is the run's (the baselines have one watermark for the whole job).
fn tasks(s: &Scenario, p: &Plan, df: &Dataflow, end: SimTime) -> Vec<TaskReport> {
    let g = &p.logical.graph;
    let mut tasks = Vec::new();
    for (vi, v) in p.execution.vertices.iter().enumerate() {
        let is_source = v
            .ops
            .first()
            .is_some_and(|o| matches!(s.nodes[g[*o].scenario_node].kind, NodeKind::Source(_)));
        for st in 0..v.parallelism as usize {
            let watermark = v
                .ops
                .first()
                .map(|o| df.nodes[o.index()].watermark)
                .unwrap_or(EventTime::MIN);
            let input = TaskInput {
                chain: v.name.clone(),
                before_rescale: false,
                subtask: st as u32,
                task_manager: p.deployment.task_manager_of[vi][st],
                busy_ms: df.busy[vi][st].as_millis_f64(),
                cpu_wait_ms: 0.0,
                backpressured_ms: 0.0,
                run_ms: end.as_millis_f64(),
                buffers_out: 0,
                watermark: (!is_source).then_some(watermark),
                channel_watermarks: Vec::new(),
            };
            let trail: &[(SimTime, EventTime)] = if is_source { &[] } else { &df.trail };
            tasks.push(TaskReport::assemble(input, trail.iter().copied()));
        }
    }
    tasks
}

/// A finished baseline run of `mode`: its report and findings, and what its sinks made
/// visible.
pub fn finish(
    mode: super::Mode,
    report: RunReport,
    details: ModeDetails,
    df: &Dataflow,
) -> (super::ModeRun, SinkOutputs) {
    let run = super::ModeRun {
        mode: mode.name().into(),
        report,
        details,
    };
    (run, outputs(df))
}

/// The multiset of what a run's sinks made visible.
pub fn outputs(df: &Dataflow) -> SinkOutputs {
    df.nodes
        .iter()
        .zip(&df.outputs)
        .filter(|(n, _)| n.is_sink)
        .map(|(n, o)| (n.name.clone(), o.clone()))
        .collect()
}

/// Duplicates and missing records per sink, against a reference run.
pub fn compare_outputs(
    r: &RunReport,
    reference: &SinkOutputs,
    got: &SinkOutputs,
) -> Vec<SinkCorrectness> {
    got.iter()
        .map(|(name, counts)| {
            let empty = Default::default();
            let want = reference
                .iter()
                .find(|(n, _)| n == name)
                .map_or(&empty, |(_, c)| c);
            let (duplicates, missing) = duplicates_and_missing(counts, want);
            SinkCorrectness {
                name: name.clone(),
                records: r
                    .sinks
                    .iter()
                    .find(|s| &s.name == name)
                    .map_or(0, |s| s.records),
                duplicates,
                missing,
            }
        })
        .collect()
}

/// Details every baseline fills in.
pub fn details(r: &RunReport, settings: Vec<String>) -> ModeDetails {
    ModeDetails {
        settings,
        late_dropped: r.late_dropped(),
        ..Default::default()
    }
}
