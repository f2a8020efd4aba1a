//! The one assembler of a [`RunReport`], for every execution mode. The streaming simulator
//! (`sim/reporting.rs`) and the baseline drivers (`modes/report.rs`) read their own state —
//! operator instances, task clocks, sink subtasks — into the plain inputs here
//! ([`SubtaskInput`], [`TaskInput`], [`SinkInput`], [`RunInputs`]); the rules that turn them
//! into the report are written once:
//!
//! - an operator's counts are the sums over its subtasks; a window operator's windows still
//!   open are counted only on subtasks of the running job (a subtask stopped by a rescale
//!   handed its state on);
//! - a task's idle time is what its busy, cpu-wait and backpressured time leave of the run;
//! - a sink's latency, checksum, counts and rows are gathered over its subtasks; the run's
//!   latency is over every sink's records together;
//! - throughput is source records per second of simulated time, a sink's from the start of
//!   the run to its last record.

use super::*;
use crate::core::time::{EventTime, SimTime};
use crate::core::value::{Interner, Value};
use crate::scenario::{NodeDef, NodeKind, SinkSpec};
use hdrhistogram::Histogram;

/// What one window or join operator subtask counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowCounts {
    /// Window results (join pairs) emitted.
    pub fired: u64,
    /// Late firings among them.
    pub late_firings: u64,
    /// Late elements dropped.
    pub late_dropped: u64,
    /// Late elements sent to the late-data side output.
    pub late_side_output: u64,
    /// Windows (buffered join elements) still in state.
    pub in_state: u64,
}

/// One subtask of an operator.
#[derive(Debug, Clone, Copy)]
pub struct SubtaskInput {
    /// Subtask index.
    pub subtask: u32,
    /// A subtask of the job before a rescale.
    pub before_rescale: bool,
    /// Records received.
    pub records_in: u64,
    /// Records emitted.
    pub records_out: u64,
    /// A window or join operator's counts.
    pub windows: Option<WindowCounts>,
}

impl OperatorReport {
    /// An operator with no subtask counted yet.
    pub fn empty(name: String, kind: String, parallelism: u32) -> Self {
        OperatorReport {
            name,
            kind,
            parallelism,
            records_in: 0,
            records_out: 0,
            subtasks: Vec::new(),
            windows: None,
        }
    }

    /// Counts one subtask in. Windows still open count only on subtasks of the running job:
    /// a subtask stopped by a rescale handed its state to the new ones.
    pub fn add_subtask(&mut self, s: SubtaskInput) {
        self.records_in += s.records_in;
        self.records_out += s.records_out;
        self.subtasks.push(SubtaskCounts {
            subtask: s.subtask,
            before_rescale: s.before_rescale,
            records_in: s.records_in,
            records_out: s.records_out,
        });
        if let Some(c) = s.windows {
            let w = self.windows.get_or_insert_with(Default::default);
            w.fired += c.fired;
            w.late_firings += c.late_firings;
            w.late_dropped += c.late_dropped;
            w.late_side_output += c.late_side_output;
            if !s.before_rescale {
                w.windows_left_open += c.in_state;
            }
        }
    }
}

/// One task (a subtask of a chain) at the end of the run.
#[derive(Debug, Clone)]
pub struct TaskInput {
    /// Chain name.
    pub chain: String,
    /// A task of the job before a rescale.
    pub before_rescale: bool,
    /// Subtask index.
    pub subtask: u32,
    /// Its TaskManager.
    pub task_manager: u32,
    /// Time processing records (ms).
    pub busy_ms: f64,
    /// Time waiting for a core (ms).
    pub cpu_wait_ms: f64,
    /// Time backpressured (ms).
    pub backpressured_ms: f64,
    /// The run's length (ms): what the task did not spend otherwise, it spent idle.
    pub run_ms: f64,
    /// Buffers it sent.
    pub buffers_out: u64,
    /// Its input watermark at the end ([`EventTime::MIN`]: none yet); `None` for a source.
    pub watermark: Option<EventTime>,
    /// The watermark of each input channel.
    pub channel_watermarks: Vec<ChannelWatermark>,
}

impl TaskReport {
    /// The report of task `t`, with its watermark trail `(processing time, watermark)`.
    pub fn assemble(t: TaskInput, trail: impl IntoIterator<Item = (SimTime, EventTime)>) -> Self {
        let idle = t.run_ms - t.busy_ms - t.cpu_wait_ms - t.backpressured_ms;
        TaskReport {
            chain: t.chain,
            before_rescale: t.before_rescale,
            subtask: t.subtask,
            task_manager: t.task_manager,
            busy_ms: round3(t.busy_ms),
            cpu_wait_ms: round3(t.cpu_wait_ms),
            backpressured_ms: round3(t.backpressured_ms),
            idle_ms: round3(idle.max(0.0)),
            buffers_out: t.buffers_out,
            watermark: t.watermark.map(|w| (w != EventTime::MIN).then_some(w)),
            channel_watermarks: t.channel_watermarks,
            watermark_lag_ms: trail
                .into_iter()
                .map(|(at, w)| {
                    let at_ms = at.as_millis_f64();
                    (round3(at_ms), round3(at_ms - w.as_millis() as f64))
                })
                .collect(),
        }
    }
}

/// One sink, gathered over its subtasks.
#[derive(Debug, Clone)]
pub struct SinkInput<'a> {
    /// The sink.
    pub node: &'a NodeDef,
    /// Records received.
    pub records: u64,
    /// Sum of the records' content hashes (wrapping).
    pub checksum: u64,
    /// Arrival of the first record ([`SimTime::ZERO`] when none arrived).
    pub first: SimTime,
    /// Arrival of the last record.
    pub last: SimTime,
    /// Creation-to-sink latencies (ns).
    pub latency: Histogram<u64>,
    /// The rows each subtask kept, flat (`arity` values a row), in subtask order.
    pub rows: Vec<&'a [Value]>,
    /// Records in open or pre-committed transactions at the end.
    pub uncommitted: u64,
    /// Records of transactions lost to failures.
    pub aborted: u64,
    /// Records of pre-committed transactions the broker aborted by their timeout.
    pub timed_out: u64,
}

/// Everything a run report is assembled from.
#[derive(Debug, Clone)]
pub struct RunInputs<'a> {
    /// Scenario name.
    pub scenario: &'a str,
    /// The seed used.
    pub seed: u64,
    /// Execution mode.
    pub mode: &'a str,
    /// When the run ended.
    pub end: SimTime,
    /// How it ended.
    pub status: Status,
    /// Why, when it did not finish.
    pub message: Option<String>,
    /// Events processed.
    pub events: u64,
    /// Records produced by all sources.
    pub source_records: u64,
    /// Per operator, in logical-graph order.
    pub operators: Vec<OperatorReport>,
    /// Per task.
    pub tasks: Vec<TaskReport>,
    /// Per sink, in logical-graph order.
    pub sinks: Vec<SinkInput<'a>>,
    /// Records reaching the sinks over time.
    pub throughput: Series,
}

impl RunReport {
    /// The report of a run; the parts only the streaming simulator has (network, checkpoints,
    /// failures, job status, rescale, notes) are empty, for it to fill in.
    pub fn assemble(run: RunInputs<'_>, interner: &Interner) -> RunReport {
        // every sink's latencies together (the sinks' histograms share their bounds)
        let mut all: Option<Histogram<u64>> = None;
        for k in &run.sinks {
            match &mut all {
                None => all = Some(k.latency.clone()),
                Some(h) => {
                    let _ = h.add(&k.latency);
                }
            }
        }
        let sinks: Vec<SinkReport> = run
            .sinks
            .iter()
            .map(|k| SinkReport::assemble(k, interner))
            .collect();
        let secs = run.end.as_secs_f64();
        RunReport {
            streamlab_version: env!("CARGO_PKG_VERSION").into(),
            scenario: run.scenario.into(),
            seed: run.seed,
            mode: run.mode.into(),
            deployment: None,
            outcome: Outcome {
                status: run.status,
                message: run.message,
                at_ns: run.end.as_nanos(),
            },
            sim_duration_ms: round3(run.end.as_millis_f64()),
            events: run.events,
            source_records: run.source_records,
            sink_records: sinks.iter().map(|s| s.records).sum(),
            throughput_per_s: if secs > 0.0 {
                round3(run.source_records as f64 / secs)
            } else {
                0.0
            },
            latency: all.map_or_else(Latency::default, |h| Latency::from_histogram(&h)),
            operators: run.operators,
            tasks: run.tasks,
            sinks,
            network: NetworkReport::default(),
            throughput: run.throughput,
            checkpoints: Vec::new(),
            failures: Vec::new(),
            job_status: Vec::new(),
            comparison: Vec::new(),
            faults_not_reached: Vec::new(),
            chaos: Vec::new(),
            rescale: None,
            warnings: Vec::new(),
        }
    }
}

impl SinkReport {
    /// The report of one sink: the guarantee it asked for (`idempotent` for an upsert sink),
    /// its rows, and nothing compared yet (the oracle compares it with the fault-free run).
    pub fn assemble(k: &SinkInput<'_>, interner: &Interner) -> SinkReport {
        let node = k.node;
        let (kind, keep) = match &node.kind {
            NodeKind::Sink(SinkSpec::Upsert { capture, .. }, _) => {
                ("upsert", Keep::Table(*capture))
            }
            NodeKind::Sink(SinkSpec::Collect { capture }, _) => ("collect", Keep::First(*capture)),
            _ => ("discard", Keep::Nothing),
        };
        let (rows, total) = keep.rows(&k.rows, node.schema.arity(), interner);
        SinkReport {
            name: node.name.clone(),
            kind: kind.into(),
            records: k.records,
            first_ms: round3(k.first.as_millis_f64()),
            last_ms: round3(k.last.as_millis_f64()),
            // From the start of the run to the last record: a burst of window results after a
            // long wait is a handful of records in that time, not millions per second.
            throughput_per_s: if k.last > SimTime::ZERO {
                round3(k.records as f64 / k.last.as_secs_f64())
            } else {
                0.0
            },
            latency: Latency::from_histogram(&k.latency),
            checksum: format!("{:016x}", k.checksum),
            fields: node
                .schema
                .fields
                .iter()
                .map(|f| f.name.to_string())
                .collect(),
            rows,
            rows_total: total,
            guarantee: match &node.kind {
                NodeKind::Sink(SinkSpec::Upsert { .. }, _) => "idempotent".into(),
                NodeKind::Sink(_, g) => g.name().into(),
                _ => String::new(),
            },
            committed: k.records,
            uncommitted: k.uncommitted,
            aborted: k.aborted,
            timed_out: k.timed_out,
            duplicates: None,
            missing: None,
            compared_by: None,
            differing: None,
            comparison_note: None,
        }
    }
}

/// Which rows of a sink the report keeps.
#[derive(Debug, Clone, Copy)]
enum Keep {
    /// An upsert sink's final table, largest value first (the last numeric column), like a
    /// top-N, ties by the rows' text; at most this many.
    Table(usize),
    /// A collect sink's first records in subtask order; at most this many.
    First(usize),
    /// A discard sink: none.
    Nothing,
}

impl Keep {
    /// The rows kept of the subtasks' flat rows, and how many rows there were in all (the
    /// table's rows; the records kept).
    fn rows(
        self,
        parts: &[&[Value]],
        arity: usize,
        interner: &Interner,
    ) -> (Vec<Vec<serde_json::Value>>, u64) {
        let arity = arity.max(1);
        let mut rows: Vec<Vec<serde_json::Value>> = parts
            .iter()
            .flat_map(|p| p.chunks(arity))
            .map(|vals| vals.iter().map(|v| v.to_json(interner)).collect())
            .collect();
        match self {
            Keep::Table(capture) => {
                rows.sort_by(|a, b| {
                    sort_key(b)
                        .partial_cmp(&sort_key(a))
                        .unwrap_or(std::cmp::Ordering::Equal)
                        .then_with(|| {
                            a.iter()
                                .map(|v| v.to_string())
                                .cmp(b.iter().map(|v| v.to_string()))
                        })
                });
                let total = rows.len() as u64;
                rows.truncate(capture);
                (rows, total)
            }
            Keep::First(capture) => {
                rows.truncate(capture);
                let total = rows.len() as u64;
                (rows, total)
            }
            Keep::Nothing => (Vec::new(), 0),
        }
    }
}

/// The last numeric column of a row (0 when there is none).
fn sort_key(row: &[serde_json::Value]) -> f64 {
    row.iter()
        .rev()
        .find_map(serde_json::Value::as_f64)
        .unwrap_or(0.0)
}

/// Counts per content hash of what a sink made visible (a multiset of records).
pub trait RecordCounts {
    /// How often `hash` was seen.
    fn count_of(&self, hash: u64) -> u64;
    /// Every hash seen, with its count, in any order.
    fn counts(&self) -> impl Iterator<Item = (u64, u64)>;
}

impl RecordCounts for std::collections::BTreeMap<u64, u64> {
    fn count_of(&self, hash: u64) -> u64 {
        self.get(&hash).copied().unwrap_or(0)
    }
    fn counts(&self) -> impl Iterator<Item = (u64, u64)> {
        self.iter().map(|(h, c)| (*h, *c))
    }
}

impl<S: std::hash::BuildHasher> RecordCounts for std::collections::HashMap<u64, u64, S> {
    fn count_of(&self, hash: u64) -> u64 {
        self.get(&hash).copied().unwrap_or(0)
    }
    fn counts(&self) -> impl Iterator<Item = (u64, u64)> {
        self.iter().map(|(h, c)| (*h, *c))
    }
}

/// `(duplicates, missing)` of what a sink made visible, `got`, against a reference run's
/// `want`: records seen more often than there, and records of the reference seen less often
/// (or never). (Sums: the order of iteration does not matter.)
pub fn duplicates_and_missing(got: &impl RecordCounts, want: &impl RecordCounts) -> (u64, u64) {
    let duplicates = got
        .counts()
        .map(|(h, n)| n.saturating_sub(want.count_of(h)))
        .sum();
    let missing = want
        .counts()
        .map(|(h, w)| w.saturating_sub(got.count_of(h)))
        .sum();
    (duplicates, missing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event_time::ms;
    use std::collections::BTreeMap;

    fn subtask(subtask: u32, before_rescale: bool, in_state: u64) -> SubtaskInput {
        SubtaskInput {
            subtask,
            before_rescale,
            records_in: 10,
            records_out: 2,
            windows: Some(WindowCounts {
                fired: 2,
                late_firings: 1,
                late_dropped: 3,
                late_side_output: 0,
                in_state,
            }),
        }
    }

    #[test]
    fn an_operator_sums_its_subtasks_and_counts_open_windows_of_the_running_job_only() {
        let mut o = OperatorReport::empty("w".into(), "window".into(), 2);
        o.add_subtask(subtask(0, true, 5));
        o.add_subtask(subtask(0, false, 1));
        o.add_subtask(subtask(1, false, 2));
        assert_eq!((o.records_in, o.records_out, o.subtasks.len()), (30, 6, 3));
        assert!(o.subtasks[0].before_rescale);
        let w = o.windows.expect("a window operator");
        assert_eq!((w.fired, w.late_firings, w.late_dropped), (6, 3, 9));
        // the stopped subtask's 5 windows moved to the new subtasks
        assert_eq!(w.windows_left_open, 3);
        let mut m = OperatorReport::empty("m".into(), "map".into(), 1);
        m.add_subtask(SubtaskInput {
            windows: None,
            ..subtask(0, false, 0)
        });
        assert_eq!(m.windows, None);
    }

    #[test]
    fn a_task_is_idle_for_what_its_other_times_leave_and_a_source_has_no_watermark() {
        let input = |watermark| TaskInput {
            chain: "c".into(),
            before_rescale: false,
            subtask: 0,
            task_manager: 0,
            busy_ms: 1.0,
            cpu_wait_ms: 0.5,
            backpressured_ms: 2.0,
            run_ms: 10.0,
            buffers_out: 0,
            watermark,
            channel_watermarks: Vec::new(),
        };
        let t = TaskReport::assemble(input(None), [(SimTime::from_millis(2), ms(1))]);
        assert_eq!(t.idle_ms, 6.5);
        assert_eq!(t.watermark, None);
        assert_eq!(t.watermark_lag_ms, vec![(2.0, 1.0)]);
        let t = TaskReport::assemble(input(Some(EventTime::MIN)), []);
        assert_eq!(t.watermark, Some(None), "no watermark yet");
        assert_eq!(
            TaskReport::assemble(input(Some(ms(7))), []).watermark,
            Some(Some(ms(7)))
        );
        let busy = TaskInput {
            busy_ms: 11.0,
            ..input(None)
        };
        assert_eq!(
            TaskReport::assemble(busy, []).idle_ms,
            0.0,
            "never negative"
        );
    }

    #[test]
    fn a_table_shows_its_largest_values_first_and_a_collect_sink_its_first_records() {
        let i = Interner::new();
        let (a, b) = (
            [Value::Int(1), Value::Int(5), Value::Int(2), Value::Int(9)],
            [Value::Int(3), Value::Int(5)],
        );
        let parts: [&[Value]; 2] = [&a, &b];
        let (rows, total) = Keep::Table(2).rows(&parts, 2, &i);
        assert_eq!(total, 3);
        // 9 first; the two rows valued 5 by their text: [1,5] before [3,5]
        assert_eq!(
            rows,
            vec![
                vec![serde_json::json!(2), serde_json::json!(9)],
                vec![serde_json::json!(1), serde_json::json!(5)]
            ]
        );
        let (rows, total) = Keep::First(2).rows(&parts, 2, &i);
        assert_eq!((rows[1][0].as_i64(), total), (Some(2), 2));
        assert_eq!(Keep::Nothing.rows(&parts, 2, &i), (Vec::new(), 0));
    }

    #[test]
    fn duplicates_are_records_seen_more_often_and_missing_ones_less_often() {
        let got = BTreeMap::from([(1, 2), (2, 1), (4, 1)]);
        let want = BTreeMap::from([(1, 1), (2, 1), (3, 2)]);
        assert_eq!(duplicates_and_missing(&got, &want), (2, 2));
        let hashed: std::collections::HashMap<u64, u64> = got.clone().into_iter().collect();
        assert_eq!(duplicates_and_missing(&hashed, &want), (2, 2));
        assert_eq!(duplicates_and_missing(&want, &want), (0, 0));
    }
}
