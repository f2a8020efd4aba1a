//! The common [`RunReport`] of a baseline run, built from its [`Dataflow`] the way the
//! streaming simulator builds its own, so every mode reads the same.

use super::dataflow::{Dataflow, SinkOutputs};
use super::{ModeDetails, SinkCorrectness};
use crate::core::time::{EVENT_TIME_MIN, SimTime};
use crate::ops::Operator;
use crate::ops::sink::{Series as SinkSeries, latency_histogram};
use crate::plan::Plan;
use crate::report::*;
use crate::scenario::{NodeKind, Scenario};

/// Late records dropped over all window and join operators of a report.
pub fn late_dropped(r: &RunReport) -> u64 {
    r.operators
        .iter()
        .filter_map(|o| o.windows.as_ref())
        .map(|w| w.late_dropped)
        .sum()
}

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
    let mut all = latency_histogram();
    let mut series = SinkSeries::new();
    let mut sink_records = 0;
    let mut source_records = 0;
    for ix in g.node_indices() {
        let ln = &g[ix];
        let nr = &df.nodes[ix.index()];
        let mut windows: Option<WindowReport> = None;
        for op in &nr.inst {
            match op {
                Operator::Window(w) => {
                    let r = windows.get_or_insert_with(Default::default);
                    r.fired += w.stats.fired;
                    r.late_firings += w.stats.late_firings;
                    r.late_dropped += w.stats.late_dropped;
                    r.late_side_output += w.stats.late_side_output;
                    r.windows_left_open += w.windows_in_state() as u64;
                }
                Operator::WindowJoin(j) => {
                    let r = windows.get_or_insert_with(Default::default);
                    r.fired += j.pairs;
                    r.late_dropped += j.late_dropped;
                    r.windows_left_open += j.windows_in_state() as u64;
                }
                Operator::IntervalJoin(j) => {
                    let r = windows.get_or_insert_with(Default::default);
                    r.fired += j.pairs;
                    r.late_dropped += j.late_dropped;
                    r.windows_left_open += j.buffered() as u64;
                }
                _ => {}
            }
        }
        let node = &s.nodes[ln.scenario_node];
        if matches!(node.kind, NodeKind::Source(_)) {
            source_records += nr.records_out.iter().sum::<u64>();
        }
        operators.push(OperatorReport {
            name: ln.name.clone(),
            kind: crate::plan::render::describe(s, ln.scenario_node),
            parallelism: ln.parallelism,
            records_in: nr.records_in.iter().sum(),
            records_out: nr.records_out.iter().sum(),
            subtasks: (0..nr.inst.len())
                .map(|st| SubtaskCounts {
                    subtask: st as u32,
                    records_in: nr.records_in[st],
                    records_out: nr.records_out[st],
                    before_rescale: false,
                })
                .collect(),
            windows,
        });
        if !nr.is_sink {
            continue;
        }
        let parts: Vec<&crate::ops::sink::SinkOp> = nr
            .inst
            .iter()
            .filter_map(|o| match o {
                Operator::Sink(sk) => Some(sk),
                _ => None,
            })
            .collect();
        let mut sink =
            crate::sim::sink_rows::sink_report(node, &parts, &df.interner, &mut all, &mut series);
        sink_records += sink.records;
        // What the model delivers, whatever the sink asked of Flink: a micro-batch or a stage
        // commits its results once; Storm's replays repeat them. (Duplicates and missing
        // records of the baselines are in the mode's details.)
        sink.guarantee = if mode == "acking" {
            "at_least_once"
        } else {
            "exactly_once"
        }
        .into();
        sinks.push(sink);
    }
    let total_ms = end.0 as f64 / 1e6;
    let mut tasks = Vec::new();
    for (vi, v) in p.execution.vertices.iter().enumerate() {
        let is_source = v
            .ops
            .first()
            .is_some_and(|o| matches!(s.nodes[g[*o].scenario_node].kind, NodeKind::Source(_)));
        for st in 0..v.parallelism as usize {
            let busy = df.busy[vi][st] as f64 / 1e6;
            let wm = v
                .ops
                .first()
                .map(|o| df.nodes[o.index()].watermark)
                .unwrap_or(EVENT_TIME_MIN);
            tasks.push(TaskReport {
                chain: v.name.clone(),
                subtask: st as u32,
                task_manager: p.deployment.task_manager_of[vi][st],
                busy_ms: round3(busy),
                cpu_wait_ms: 0.0,
                backpressured_ms: 0.0,
                idle_ms: round3((total_ms - busy).max(0.0)),
                buffers_out: 0,
                before_rescale: false,
                watermark: (!is_source).then_some((wm != EVENT_TIME_MIN).then_some(wm)),
                channel_watermarks: Vec::new(),
                watermark_lag_ms: if is_source {
                    Vec::new()
                } else {
                    df.trail
                        .iter()
                        .map(|&(at, w)| {
                            let at_ms = at as f64 / 1e6;
                            (round3(at_ms), round3(at_ms - w as f64))
                        })
                        .collect()
                },
            });
        }
    }
    let secs = end.as_secs_f64();
    RunReport {
        streamlab_version: env!("CARGO_PKG_VERSION").into(),
        scenario: s.name.clone(),
        seed,
        mode: mode.into(),
        outcome: Outcome {
            status,
            message,
            at_ns: end.0,
        },
        sim_duration_ms: round3(total_ms),
        events,
        source_records,
        sink_records,
        throughput_per_s: if secs > 0.0 {
            round3(source_records as f64 / secs)
        } else {
            0.0
        },
        latency: Latency::from_histogram(&all),
        operators,
        tasks,
        sinks,
        network: NetworkReport::default(),
        throughput: Series {
            bucket_ms: series.bucket_ns / 1_000_000,
            sink_records: series.counts,
        },
        // the baselines take no checkpoints; their failures are in the mode's details
        checkpoints: Vec::new(),
        failures: Vec::new(),
        job_status: Vec::new(),
        faults_not_reached: Vec::new(),
        warnings: Vec::new(),
        chaos: Vec::new(),
        comparison: Vec::new(),
        rescale: None,
    }
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
            let mut duplicates = 0;
            let mut missing = 0;
            for (h, &n) in counts {
                let w = want.get(h).copied().unwrap_or(0);
                duplicates += n.saturating_sub(w);
            }
            for (h, &w) in want {
                let n = counts.get(h).copied().unwrap_or(0);
                missing += w.saturating_sub(n);
            }
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
        late_dropped: late_dropped(r),
        ..Default::default()
    }
}
