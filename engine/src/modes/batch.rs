//! Batch: Flink's BATCH runtime mode (`execution.runtime-mode: BATCH`) on the bounded input.
//!
//! Records are created on the same schedule as in streaming (a source with a `rate` spreads
//! them over time; one without reads them at the pace of its CPU). The job starts when the
//! input is complete — at the creation of the last record of a paced source, at once for
//! sources without a rate — and runs each chain as a *stage*: a stage starts when every chain
//! feeding it over the network has finished (blocking exchanges, Flink's batch shuffle), its
//! subtasks run in parallel, each taking the operators' per-record costs.
//!
//! The operators follow Flink's BATCH rules ([`super::dataflow`] with `batch_runtime`): a
//! keyed rolling reduce (`sum`, `min`, `max`, `count`, an expression reduce) is not rolling —
//! it emits **one final row per key**, in key order, at the end of its input (Flink sorts a
//! keyed input by key instead of keeping state), so word count prints the final counts
//! rather than a changelog. Event-time operators see all their input and then the final
//! watermark (+∞), so every event-time window and timer fires once, at the end; then every
//! processing-time timer fires — processing-time windows emit their results and process
//! functions' processing-time timers run, at the end of the input, not while the job runs
//! (Flink's `BatchExecutionInternalTimeService` fires a key's event-time, then its
//! processing-time timers when the key ends; here all keys end together, at the end of the
//! input, so the two kinds are not interleaved key by key). Results are visible when the job ends
//! (the output is committed at the end). A final row is as old as the oldest record it
//! reflects, so its latency runs from that record's creation to the end of the job.
//!
//! **Failure.** A crash while a stage runs restarts that stage after the downtime (its input
//! was materialized by the blocking exchange); every later stage moves by the same amount.

use super::dataflow::{Dataflow, Exchange, SinkOutputs};
use super::faults::CrashSettings;
use super::{BatchReport, FailureReport, ModeError, ModeRun, report};
use crate::core::time::{EventTime, SimDuration, SimTime};
use crate::plan::Plan;
use crate::report::Status;
use crate::scenario::Scenario;

/// Runs the scenario in batch mode.
pub fn run(
    s: &Scenario,
    p: &Plan,
    seed: Option<u64>,
    crash: Option<CrashSettings>,
    collect: bool,
) -> Result<(ModeRun, SinkOutputs), ModeError> {
    super::require_bounded(s, "batch")?;
    let seed = seed.unwrap_or(s.seed);
    let mut df = Dataflow::new(s, p, seed, Exchange::Blocking);
    df.batch_runtime = true;
    df.collect = collect;
    let (job_start, records) = read_input(&mut df);
    // Stage starts: the earliest time any of its subtasks may begin.
    df.pass(job_start, Some(EventTime::MAX));
    let mut end = df.all_free().max(job_start);
    let mut stages = stages(&df, p, job_start);
    let mut failures = Vec::new();
    if let Some(c) = crash
        && let Some((failure, delta)) = restart(c, &mut stages, end, job_start)
    {
        end += delta;
        failures.push(failure);
    }
    if let Some(first) = stages.first_mut() {
        first.records = records;
    }
    // Everything becomes visible when the job ends.
    for (node, st, a) in df.take_sink_arrivals() {
        let ts = vec![end; a.at.len()];
        df.deliver(node, st, a.batch.view(), &ts);
    }
    let (status, message) = match &df.failure {
        Some(f) => (Status::Failed, Some(f.clone())),
        None => (Status::Finished, None),
    };
    let r = report::build(
        s,
        p,
        &df,
        super::Mode::Batch.name(),
        seed,
        end,
        status,
        message,
        stages.len() as u64,
    );
    let mut details = report::details(
        &r,
        vec![format!(
            "job starts at {} (input complete)",
            crate::report::fmt_ms(job_start.as_millis_f64())
        )],
    );
    details.batches = stages;
    details.failures = failures;
    Ok(report::finish(super::Mode::Batch, r, details, &df))
}

/// Reads the whole bounded input and hands it to the source operators. The job starts when
/// the input is complete: at the creation of the last record of a paced source (one with a
/// `rate`), at once without one; a record arrives at its creation or the job's start,
/// whichever is later. Returns the job's start and the records read.
fn read_input(df: &mut Dataflow) -> (SimTime, u64) {
    let mut reads = Vec::new();
    let mut input_end = SimTime::ZERO;
    let mut paced = false;
    for src in &mut df.sources {
        paced |= src.state.pace.is_some();
        while !src.done() {
            let b = src.take_until(SimTime::from_nanos(u64::MAX / 4), 1 << 16);
            if b.is_empty() {
                break;
            }
            input_end = input_end.max(b.meta.iter().map(|m| m.born).max().unwrap_or(SimTime::ZERO));
            reads.push((src.node, src.subtask, b));
        }
    }
    let job_start = if paced { input_end } else { SimTime::ZERO };
    let records: u64 = reads.iter().map(|r| r.2.len() as u64).sum();
    for (node, st, b) in &reads {
        let at: Vec<SimTime> = b.meta.iter().map(|m| m.born.max(job_start)).collect();
        df.inject(*node, *st, b, &at);
    }
    (job_start, records)
}

/// The stages (one per chain) in the order they ran: each from its first record to when its
/// last subtask finished.
fn stages(df: &Dataflow, p: &Plan, job_start: SimTime) -> Vec<BatchReport> {
    let mut stages: Vec<BatchReport> = Vec::new();
    for (vi, v) in p.execution.vertices.iter().enumerate() {
        let stage_end = df.free[vi].iter().copied().max().unwrap_or(job_start);
        let stage_start = df.first_start[vi].min(stage_end);
        stages.push(BatchReport {
            id: v.name.clone(),
            start_ms: stage_start.as_millis_f64(),
            end_ms: stage_end.as_millis_f64(),
            records: 0,
            watermark: None,
        });
    }
    stages.sort_by(|a, b| a.start_ms.total_cmp(&b.start_ms));
    stages
}

/// A crash at `c.at`: while a stage runs, that stage runs again from its start after the
/// downtime (its input was materialized by the blocking exchange) and every later stage moves
/// by as much; before the job started (while it waits for its input), it starts after the
/// restart. Returns the failure and how much later the job ends; `None` when the crash
/// comes after the job ended (`end`).
fn restart(
    c: CrashSettings,
    stages: &mut [BatchReport],
    end: SimTime,
    job_start: SimTime,
) -> Option<(FailureReport, SimDuration)> {
    let at_ms = c.at.as_millis_f64();
    let hit = stages
        .iter()
        .find(|st| st.start_ms <= at_ms && at_ms < st.end_ms)
        .cloned();
    let (delta, recovery) = if let Some(stage) = hit {
        // the stage runs again from its start after the downtime
        let delta = (c.at + c.downtime).since(SimTime::from_millis_f64(stage.start_ms));
        let delta_ms = delta.as_millis_f64();
        for st in stages.iter_mut() {
            if st.start_ms >= stage.start_ms {
                st.start_ms += delta_ms;
                st.end_ms += delta_ms;
            }
        }
        let recovery = format!("stage `{}` restarted from its materialized input", stage.id);
        (delta, recovery)
    } else if c.at < end {
        // before the job started (waiting for the input): it starts after the restart
        let delta = (c.at + c.downtime).since(job_start);
        for st in stages.iter_mut() {
            st.start_ms += delta.as_millis_f64();
            st.end_ms += delta.as_millis_f64();
        }
        (
            delta,
            "before the job started: it starts after the restart".into(),
        )
    } else {
        return None;
    };
    let failure = FailureReport {
        at_ms,
        downtime_ms: c.downtime.as_millis_f64(),
        restored_checkpoint: None,
        recovery,
    };
    Some((failure, delta))
}

#[cfg(test)]
mod tests {
    use super::super::{Mode, ModeOptions, run_mode};
    use crate::core::time::EventTime;
    use crate::core::value::Value;
    use crate::flink::process::{
        Collector, Context, CustomProcess, KeyedProcessFunction, TimeDomain,
    };

    /// Six views of two pages, two a second; `{op}` reads `by_page` and feeds the sink.
    fn job(op: &str) -> String {
        format!(
            r#"
[[source]]
name = "views"
kind = "inline"
rate = 2
timestamp = "ts"
watermarks = {{ strategy = "bounded", max_out_of_orderness = "0 ms" }}
events = [
  {{ page = "home", ts = 0 }}, {{ page = "cart", ts = 500 }}, {{ page = "home", ts = 1_000 }},
  {{ page = "home", ts = 1_500 }}, {{ page = "cart", ts = 2_000 }}, {{ page = "home", ts = 2_500 }},
]

[[operator]]
name = "by_page"
kind = "key_by"
input = "views"
key = "page"
{op}
[[sink]]
name = "out"
input = "op"
capture = 100
"#
        )
    }

    /// The sink's rows, sorted, as JSON.
    fn rows(text: &str, custom: &[CustomProcess]) -> Vec<String> {
        let s = crate::check::parse_str_with("t.toml", text, None, custom)
            .unwrap_or_else(|d| panic!("{}", d.render()));
        let p = crate::plan::plan(&s).unwrap_or_else(|d| panic!("{}", d.render()));
        let r = run_mode(&s, &p, Mode::Batch, &ModeOptions::default()).expect("runs");
        let sink = r
            .report
            .sinks
            .iter()
            .find(|k| k.name == "out")
            .expect("sink");
        let mut rows: Vec<String> = sink
            .rows
            .iter()
            .map(|r| serde_json::to_string(r).expect("json"))
            .collect();
        rows.sort();
        rows
    }

    /// Regression (issue 12): Flink's BATCH runtime fires processing-time timers at the end of
    /// the input (`BatchExecutionInternalTimeService`), so a processing-time window emits its
    /// counts; the batch mode used to drop them.
    #[test]
    fn processing_time_windows_fire_at_the_end_of_the_input() {
        let op = r#"
[[operator]]
name = "op"
kind = "window"
input = "by_page"
time = "processing"
window = { type = "tumbling", size = "1 h" }
function = "count"
"#;
        // the job starts when the input is complete: every view lands in the first hour
        assert_eq!(
            rows(&job(op), &[]),
            [r#"["cart",0,3600000,2]"#, r#"["home",0,3600000,4]"#]
        );
    }

    /// On each view, a processing-time timer 1 s later that registers another from
    /// `on_timer` (which the quiesced timer service must ignore) and emits the key.
    #[derive(Debug, Clone)]
    struct Remind;

    impl KeyedProcessFunction for Remind {
        fn process_element(&mut self, _: &[Value], ctx: &mut Context<'_>, _: &mut Collector<'_>) {
            let at = ctx.current_processing_time().plus_millis(1_000);
            ctx.register_processing_time_timer(at);
        }
        fn on_timer(
            &mut self,
            ts: EventTime,
            d: TimeDomain,
            ctx: &mut Context<'_>,
            out: &mut Collector<'_>,
        ) {
            assert_eq!(d, TimeDomain::ProcessingTime);
            ctx.register_processing_time_timer(ts.plus_millis(1_000));
            ctx.register_event_time_timer(ts.plus_millis(1_000));
            let key = ctx.key();
            out.collect(&[key]);
        }
        fn fresh(&self) -> Box<dyn KeyedProcessFunction> {
            Box::new(self.clone())
        }
    }

    #[test]
    fn process_function_processing_timers_fire_once_at_the_end_of_the_input() {
        let op = r#"
[[operator]]
name = "op"
kind = "process"
input = "by_page"
function = "remind"
"#;
        let remind = CustomProcess::new("remind", &[], Remind);
        // all views are processed at the same moment: one timer per page, none re-registered
        assert_eq!(rows(&job(op), &[remind]), [r#"["cart"]"#, r#"["home"]"#]);
    }
}
