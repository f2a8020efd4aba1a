//! The readable summary of a run that `streamlab run` prints.

use super::*;
use crate::core::time::{EventTime, human_nanos};
use std::fmt::Write;

impl RunReport {
    /// The readable summary `streamlab run` prints, with up to 10 rows of each sink.
    pub fn summary(&self) -> String {
        self.summary_with_rows(10)
    }

    /// The readable summary, with up to `rows` rows of each sink (of those the report
    /// captured).
    pub fn summary_with_rows(&self, rows: usize) -> String {
        let mut o = String::new();
        self.write_headline(&mut o);
        self.write_deployment(&mut o);
        self.write_operators(&mut o);
        self.write_tasks(&mut o);
        self.write_windows(&mut o);
        self.write_watermarks(&mut o);
        self.write_network(&mut o);
        self.write_fault_tolerance(&mut o);
        self.write_sinks(&mut o, rows);
        o
    }

    /// Checkpoints, failures and per-sink guarantees, when there is anything to say.
    fn write_fault_tolerance(&self, o: &mut String) {
        self.write_chaos(o);
        self.write_checkpoints(o);
        self.write_aligned_vs_unaligned(o);
        self.write_failures(o);
        self.write_rescale(o);
        self.write_job_status(o);
        self.write_guarantees(o);
        self.write_warnings(o);
    }

    /// The faults a random fault profile drew.
    fn write_chaos(&self, o: &mut String) {
        if !self.chaos.is_empty() {
            let _ = writeln!(
                o,
                "\nChaos (faults drawn from seed {}; the same seed draws them again)",
                self.seed
            );
            for f in &self.chaos {
                let _ = writeln!(o, "  {f}");
            }
        }
    }

    /// Every checkpoint (with the in-flight data of unaligned ones).
    fn write_checkpoints(&self, o: &mut String) {
        let unaligned = self
            .checkpoints
            .iter()
            .any(|c| c.barriers != "aligned" && c.barriers != "at-least-once");
        if !self.checkpoints.is_empty() {
            // With unaligned checkpoints: how the barriers travelled and the in-flight data kept.
            let _ = writeln!(
                o,
                "\nCheckpoints   id   triggered   completed   alignment    sync   async       size{}  outcome",
                if unaligned {
                    "   in-flight  barriers            "
                } else {
                    ""
                }
            );
            for c in &self.checkpoints {
                let done = c.completed_ms.map_or("-".to_string(), fmt_ms);
                let extra = if unaligned {
                    format!(
                        " {:>11}  {:<20}",
                        format!("{} B", c.in_flight_bytes),
                        c.barriers
                    )
                } else {
                    String::new()
                };
                let _ = writeln!(
                    o,
                    "  {:>14} {:>11} {:>11} {:>11} {:>7} {:>7} {:>10}{extra}  {}",
                    c.id,
                    fmt_ms(c.trigger_ms),
                    done,
                    fmt_ms(c.alignment_ms),
                    fmt_ms(c.sync_ms),
                    fmt_ms(c.async_ms),
                    format!("{} B", c.size_bytes),
                    match &c.savepoint {
                        Some(k) => format!("{} ({k})", c.outcome),
                        None => c.outcome.clone(),
                    }
                );
            }
        }
    }

    /// The same job run once with aligned and once with unaligned checkpoints.
    fn write_aligned_vs_unaligned(&self, o: &mut String) {
        if !self.comparison.is_empty() {
            let _ = writeln!(
                o,
                "\nAligned vs unaligned (the same job and seed, run once with each)\n  barriers                completed  failed  duration p50 / max      alignment max   in-flight max  job"
            );
            let opt = |v: Option<f64>| v.map_or("-".to_string(), fmt_ms);
            for v in &self.comparison {
                let _ = writeln!(
                    o,
                    "  {:<22} {:>10} {:>7}  {:>10} / {:<10} {:>13} {:>15}  {} after {}",
                    v.barriers,
                    v.completed,
                    v.failed,
                    opt(v.duration_ms_p50),
                    opt(v.duration_ms_max),
                    opt(v.alignment_ms_max),
                    format!("{} B", v.in_flight_bytes_max),
                    v.outcome,
                    fmt_ms(v.sim_duration_ms)
                );
            }
        }
    }

    /// Every failure and what recovery did.
    fn write_failures(&self, o: &mut String) {
        for f in &self.failures {
            let tasks = plural(f.tasks_restarted as u64, "task", "tasks");
            let what = match (f.downtime_ms, f.restored_checkpoint) {
                (None, _) => format!("{tasks} cancelled · not restarted: the job failed"),
                (Some(d), Some(id)) => {
                    format!(
                        "{tasks} restarted · down {}, restored checkpoint {id}",
                        fmt_ms(d)
                    )
                }
                (Some(d), None) => format!(
                    "{tasks} restarted · down {}, restarted from the beginning",
                    fmt_ms(d)
                ),
            };
            let _ = writeln!(o, "\nFailure at {}: {} · {what}", fmt_ms(f.at_ms), f.cause);
        }
    }

    /// The rescale: when, and where each operator's state and splits went.
    fn write_rescale(&self, o: &mut String) {
        if let Some(r) = &self.rescale {
            let _ = writeln!(
                o,
                "\nRescale     stop-with-savepoint {} triggered {} · stopped {} · running again {} · down {}",
                r.savepoint,
                fmt_ms(r.triggered_ms),
                fmt_ms(r.stopped_ms),
                fmt_ms(r.restarted_ms),
                fmt_ms(r.downtime_ms)
            );
            for op in &r.operators {
                let mut line = format!(
                    "  {:<24}{:>4} → {:<4}",
                    op.name, op.old_parallelism, op.new_parallelism
                );
                if !op.key_groups.is_empty() {
                    let kg: Vec<String> = op
                        .key_groups
                        .iter()
                        .zip(&op.keys)
                        .map(|((a, b), k)| format!("{a}-{b} ({k} keys)"))
                        .collect();
                    let _ = write!(
                        line,
                        " key groups of {}: {}",
                        op.max_parallelism,
                        kg.join(", ")
                    );
                }
                if !op.splits.is_empty() {
                    let sp: Vec<String> = op
                        .splits
                        .iter()
                        .map(|s| {
                            let p: Vec<String> = s.iter().map(|x| format!("p{x}")).collect();
                            format!("[{}]", p.join(" "))
                        })
                        .collect();
                    let _ = write!(line, " splits per subtask: {}", sp.join(" "));
                }
                let _ = writeln!(o, "{}", line.trim_end());
            }
        }
    }

    /// The job's status changes, when there were more than start and end.
    fn write_job_status(&self, o: &mut String) {
        if self.job_status.len() > 2 {
            let steps: Vec<String> = self
                .job_status
                .iter()
                .map(|t| match &t.note {
                    Some(n) => format!("{} {} ({n})", t.status, fmt_ms(t.at_ms)),
                    None => format!("{} {}", t.status, fmt_ms(t.at_ms)),
                })
                .collect();
            let _ = writeln!(o, "\nJob status  {}", steps.join(" → "));
        }
    }

    /// Per sink: its guarantee against the run without faults.
    fn write_guarantees(&self, o: &mut String) {
        if self
            .sinks
            .iter()
            .any(|s| s.duplicates.is_some() || s.compared_by.is_some())
        {
            let _ = writeln!(
                o,
                "\nGuarantees (compared with the same run without faults{})\n  sink                  guarantee        committed  duplicates   missing  visible latency p50 / p99",
                if self.rescale.is_some() {
                    " or rescale"
                } else {
                    ""
                }
            );
            for s in &self.sinks {
                let _ = writeln!(
                    o,
                    "  {:<20}  {:<15} {:>10} {:>11} {:>9}  {} / {}",
                    s.name,
                    s.guarantee,
                    s.committed,
                    s.duplicates.map_or("-".into(), |d| d.to_string()),
                    s.missing.map_or("-".into(), |d| d.to_string()),
                    fmt_ms(s.latency.p50_ms),
                    fmt_ms(s.latency.p99_ms)
                );
            }
            for s in &self.sinks {
                if let Some(n) = &s.comparison_note {
                    let _ = writeln!(o, "  note: `{}` {}", s.name, n);
                }
            }
        }
    }

    /// Faults that never struck and what the run could not do.
    fn write_warnings(&self, o: &mut String) {
        for f in self.faults_not_reached.iter().chain(&self.warnings) {
            let _ = writeln!(o, "\nwarning: {f}");
        }
    }

    /// Scenario, outcome, simulated time, records and the headline latency.
    fn write_headline(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "streamlab run · scenario `{}` · mode {} · seed {}",
            self.scenario, self.mode, self.seed
        );
        let status = match self.outcome.status {
            Status::Finished => "finished".to_string(),
            Status::Failed => format!("FAILED: {}", self.outcome.message.as_deref().unwrap_or("")),
            Status::LimitReached => {
                format!("STOPPED: {}", self.outcome.message.as_deref().unwrap_or(""))
            }
        };
        let _ = writeln!(o, "outcome     {status}");
        let _ = writeln!(
            o,
            "simulated   {} of processing time, {}",
            human_nanos(self.sim_duration_ms * 1e6),
            plural(self.events, "event", "events")
        );
        let _ = writeln!(
            o,
            "records     {} from sources, {} into sinks; throughput {} records/s (simulated)",
            self.source_records,
            self.sink_records,
            fmt_rate(self.throughput_per_s)
        );
        let l = &self.latency;
        // Which records the headline latency is over: one sink's, or every sink's together.
        let over = match self.sinks.as_slice() {
            [one] => format!("record creation → sink `{}`", one.name),
            [] => "record creation → sink".to_string(),
            many => format!(
                "record creation → sink, all {} sinks together; each sink below",
                many.len()
            ),
        };
        let _ = writeln!(
            o,
            "latency     p50 {} · p90 {} · p99 {} · max {}  ({over})",
            fmt_ms(l.p50_ms),
            fmt_ms(l.p90_ms),
            fmt_ms(l.p99_ms),
            fmt_ms(l.max_ms)
        );
    }

    /// `[deployment]`: the mode and what follows from it, and the start-up timeline.
    fn write_deployment(&self, o: &mut String) {
        let Some(d) = &self.deployment else { return };
        let _ = writeln!(
            o,
            "\nDeployment: {} mode on {}, high availability {}",
            d.mode, d.platform, d.high_availability
        );
        let [main, cluster, task_managers] = d.criteria();
        let _ = writeln!(
            o,
            "  `main` runs on the {main}; {cluster}; TaskManagers: {task_managers}"
        );
        let _ = writeln!(
            o,
            "  start-up: the first record {} after `flink run` (the job's time 0 below)",
            human_nanos(d.first_record_ms * 1e6)
        );
        for s in &d.startup {
            let _ = writeln!(
                o,
                "  {:>8.3} s – {:>8.3} s  {:<16} {}",
                s.start_ms / 1e3,
                s.end_ms / 1e3,
                s.role,
                s.what
            );
        }
    }

    /// Records in and out of every operator.
    fn write_operators(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "\nOperators                 parallelism   records in   records out"
        );
        for op in &self.operators {
            let _ = writeln!(
                o,
                "  {:<24}{:>6}   {:>12}  {:>12}   {}",
                op.name, op.parallelism, op.records_in, op.records_out, op.kind
            );
        }
    }

    /// The time split of every task.
    fn write_tasks(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "\n{:<42} {:>11} {:>11} {:>14} {:>11}",
            "Tasks (time split of each subtask)", "busy", "cpu-wait", "backpressured", "idle"
        );
        for t in &self.tasks {
            let name = if t.before_rescale {
                format!("(old) {} #{}", t.chain, t.subtask)
            } else {
                format!("{} #{}", t.chain, t.subtask)
            };
            let name = cut_middle(&name, 40);
            let _ = writeln!(
                o,
                "  {:<40} {:>11} {:>11} {:>14} {:>11}",
                name,
                fmt_ms(t.busy_ms),
                fmt_ms(t.cpu_wait_ms),
                fmt_ms(t.backpressured_ms),
                fmt_ms(t.idle_ms)
            );
        }
    }

    /// What window operators fired and what was late.
    fn write_windows(&self, o: &mut String) {
        let windows: Vec<&OperatorReport> = self
            .operators
            .iter()
            .filter(|o| o.windows.is_some())
            .collect();
        if !windows.is_empty() {
            let _ = writeln!(
                o,
                "\nWindows                     fired  late firings  late dropped  late → side output  left open"
            );
            for op in windows {
                let w = op.windows.as_ref().expect("filtered");
                let _ = writeln!(
                    o,
                    "  {:<24}{:>8} {:>13} {:>13} {:>19} {:>10}",
                    op.name,
                    w.fired,
                    w.late_firings,
                    w.late_dropped,
                    w.late_side_output,
                    w.windows_left_open
                );
            }
        }
    }

    /// The watermark of every input channel at the end, when event time moved.
    fn write_watermarks(&self, o: &mut String) {
        let with_wm: Vec<&TaskReport> = self
            .tasks
            .iter()
            .filter(|t| t.watermark.is_some() && !t.before_rescale)
            .collect();
        // A job without event time only ever sees the final +∞ watermark: nothing to show.
        let event_time_moved = with_wm.iter().any(|t| {
            !t.watermark_lag_ms.is_empty()
                || t.channel_watermarks
                    .iter()
                    .any(|c| c.watermark.is_some_and(|w| w != EventTime::MAX))
        });
        if event_time_moved && with_wm.iter().any(|t| !t.channel_watermarks.is_empty()) {
            let _ = writeln!(o, "\nWatermarks at the end (per input channel)");
            for t in with_wm {
                let fmt = |w: Option<EventTime>| match w {
                    None => "none".to_string(),
                    Some(EventTime::MAX) => "+∞ (end of input)".to_string(),
                    Some(w) => w.to_string(),
                };
                let name = format!("{} #{}", t.chain, t.subtask);
                let end_ms = self.outcome.at_ns as f64 / 1e6;
                let stall = match t.longest_watermark_stall_ms(end_ms) {
                    None => " · it did not move before the end of the input".to_string(),
                    Some(ms) => format!(" · longest stall {}", fmt_ms(round3(ms))),
                };
                let _ = writeln!(o, "  {name}: {}{stall}", fmt(t.watermark.flatten()));
                for c in &t.channel_watermarks {
                    let idle = if c.idle { " (idle)" } else { "" };
                    let _ = writeln!(o, "      from {}: {}{idle}", c.from, fmt(c.watermark));
                }
            }
        }
    }

    /// The network totals.
    fn write_network(&self, o: &mut String) {
        let n = &self.network;
        let _ = writeln!(
            o,
            "\nNetwork     {} buffers, {} bytes, {:.1} records/buffer; sent because full {}, by timeout {}, at end {}",
            n.buffers,
            n.bytes,
            n.records_per_buffer,
            n.flushed_full,
            n.flushed_timeout,
            n.flushed_end
        );
    }

    /// Every sink: its counts and latency, and up to `rows` of its rows.
    fn write_sinks(&self, o: &mut String, rows: usize) {
        for s in &self.sinks {
            let _ = writeln!(
                o,
                "\nSink `{}` ({}): {} records, {} records/s, latency p50 {} p99 {}, last record at {}, checksum {}",
                s.name,
                s.kind,
                s.records,
                fmt_rate(s.throughput_per_s),
                fmt_ms(s.latency.p50_ms),
                fmt_ms(s.latency.p99_ms),
                fmt_ms(s.last_ms),
                s.checksum
            );
            if !s.rows.is_empty() {
                let shown = s.rows.len().min(rows);
                let captured = s.rows.len() as u64;
                let what = if s.kind == "upsert" {
                    // the final table has `rows_total` rows; the report keeps `captured`
                    if captured < s.rows_total {
                        format!(
                            "final table, showing {shown} of {} captured rows ({} rows in all)",
                            captured, s.rows_total
                        )
                    } else {
                        format!("final table, showing {shown} of {} rows", s.rows_total)
                    }
                } else {
                    format!(
                        "first records, showing {shown} of {} captured rows ({} records in all)",
                        captured, s.records
                    )
                };
                let _ = writeln!(o, "  {what}: {}", s.fields.join(", "));
                if let Some(kinds) = crate::scenario::changelog::row_kind_counts(&s.fields, &s.rows)
                {
                    let _ = writeln!(
                        o,
                        "  row kinds of the captured rows (the changelog): {kinds}"
                    );
                }
                for r in s.rows.iter().take(shown) {
                    let cells: Vec<String> = r
                        .iter()
                        .map(|v| match v {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect();
                    let _ = writeln!(o, "    {}", cells.join(", "));
                }
            }
        }
    }
}
