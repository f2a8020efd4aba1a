//! The [`RunReport`] of a streaming run, assembled from the simulation's state at its end:
//! operators and their subtasks, sinks, tasks' time split, checkpoints, failures and the
//! network totals.

use super::*;

impl Simulation<'_> {
    /// The report of the run that ended with `outcome` (status, message, events).
    pub(super) fn report(
        &self,
        s: &Scenario,
        p: &Plan,
        seed: u64,
        (status, message, events): (Status, Option<String>, u64),
    ) -> RunReport {
        let end = self.queue.now();
        let g = &p.logical.graph;
        // Operators, in logical-graph order.
        let mut operators: Vec<OperatorReport> = g
            .node_indices()
            .map(|n| {
                let ln = &g[n];
                OperatorReport {
                    name: ln.name.clone(),
                    kind: crate::plan::render::describe(s, ln.scenario_node),
                    parallelism: ln.parallelism,
                    records_in: 0,
                    records_out: 0,
                    subtasks: Vec::new(),
                    windows: None,
                }
            })
            .collect();
        let mut tasks = Vec::new();
        let mut net = NetStats::default();
        let mut sink_parts: Vec<Vec<&crate::ops::sink::SinkOp>> = vec![Vec::new(); g.node_count()];
        let mut source_records = 0;
        // The tasks of the job before a rescale come last, marked.
        let all = self.tasks.iter().map(|t| (t, None)).chain(
            self.sp
                .retired
                .iter()
                .map(|r| (&r.task, Some(r.chain.as_str()))),
        );
        for (t, retired) in all {
            let before_rescale = retired.is_some();
            for slot in &t.chain.ops {
                let o = &mut operators[slot.node];
                o.records_in += slot.records_in;
                o.records_out += slot.records_out;
                o.subtasks.push(SubtaskCounts {
                    subtask: t.subtask,
                    before_rescale,
                    records_in: slot.records_in,
                    records_out: slot.records_out,
                });
                if let Operator::Source = slot.op {
                    source_records += slot.records_out;
                }
                if let Operator::Sink(sk) = &slot.op {
                    sink_parts[slot.node].push(sk);
                }
                // (before a rescale its open windows moved to the new subtasks)
                slot.op.report_windows(&mut o.windows, !before_rescale);
            }
            let mut bp = t.time.backpressured;
            if let Some(since) = t.backpressured_since {
                bp = bp.plus(end.since(since));
            }
            let total = end.0 as f64 / 1e6;
            let busy = t.time.busy.as_millis_f64();
            let wait = t.time.cpu_wait.as_millis_f64();
            let bpm = bp.as_millis_f64();
            tasks.push(TaskReport {
                chain: retired.map_or_else(
                    || p.execution.vertices[t.vertex].name.clone(),
                    str::to_string,
                ),
                before_rescale,
                subtask: t.subtask,
                task_manager: t.tm,
                busy_ms: round3(busy),
                cpu_wait_ms: round3(wait),
                backpressured_ms: round3(bpm),
                idle_ms: round3((total - busy - wait - bpm).max(0.0)),
                buffers_out: t.stats.full + t.stats.timeout + t.stats.end,
                watermark: t.source.is_none().then(|| {
                    (t.gate.watermark != crate::core::time::EVENT_TIME_MIN)
                        .then_some(t.gate.watermark)
                }),
                channel_watermarks: t
                    .gate
                    .channels
                    .iter()
                    .filter(|_| !before_rescale)
                    .zip(&t.gate.slots)
                    .map(|(&c, &(input, idx))| {
                        let v = &t.gate.valves[input];
                        let w = v.channel_watermarks()[idx];
                        ChannelWatermark {
                            from: self.tasks[self.channels[c as usize].from_task as usize]
                                .label
                                .clone(),
                            watermark: (w != crate::core::time::EVENT_TIME_MIN).then_some(w),
                            idle: v.channel_idle()[idx],
                        }
                    })
                    .collect(),
                watermark_lag_ms: t
                    .watermark_trail
                    .points
                    .iter()
                    .filter(|(_, w)| *w != crate::core::time::EVENT_TIME_MAX)
                    .map(|(at, w)| {
                        (
                            round3(*at as f64 / 1e6),
                            round3(*at as f64 / 1e6 - *w as f64),
                        )
                    })
                    .collect(),
            });
            net.full += t.stats.full;
            net.timeout += t.stats.timeout;
            net.end += t.stats.end;
        }
        let mut all = crate::ops::sink::latency_histogram();
        let mut series = crate::ops::sink::Series::new();
        let mut sinks = Vec::new();
        let mut sink_records = 0;
        for n in g.node_indices() {
            let parts = &sink_parts[n.index()];
            if parts.is_empty() {
                continue;
            }
            let node = &s.nodes[g[n].scenario_node];
            let sink = sink_rows::sink_report(node, parts, &self.interner, &mut all, &mut series);
            sink_records += sink.records;
            sinks.push(sink);
        }
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
        let secs = end.as_secs_f64();
        RunReport {
            streamlab_version: env!("CARGO_PKG_VERSION").into(),
            scenario: s.name.clone(),
            seed,
            mode: "streaming".into(),
            outcome: Outcome {
                status,
                message,
                at_ns: end.0,
            },
            sim_duration_ms: round3(end.0 as f64 / 1e6),
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
            network: NetworkReport {
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
            },
            throughput: Series {
                bucket_ms: series.bucket_ns / 1_000_000,
                sink_records: series.counts,
            },
            checkpoints: self
                .coord
                .as_ref()
                .map(|c| c.history.clone())
                .unwrap_or_default(),
            failures: self.recovery.failures.clone(),
            job_status: self.recovery.transitions.clone(),
            comparison: Vec::new(),
            faults_not_reached: self
                .faults
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
                .collect(),
            chaos: Vec::new(),
            rescale: self.sp.report.clone(),
            warnings: self.rescale_missed(s).into_iter().collect(),
        }
    }
}
