//! Expectations (`[[expect]]`): what a run of the scenario must show — a sink's rows, a
//! window operator's counts, a sink's duplicates and missing rows, latency and throughput
//! bounds, the job's status, whether an edge chained, the slots the job needs, a checkpoint's
//! outcome. `streamlab check` runs the scenario and grades each one (`report::expect`);
//! teachers write exercises with them, engineers pin behaviour down. A `run` ignores them.

use std::ops::Range;

/// One `[[expect]]` table: a subject and what must hold of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    /// Where the table is in the file (for messages).
    pub span: Range<usize>,
    /// Its line in the file (1-based).
    pub line: usize,
    /// What it is about.
    pub subject: Subject,
    /// What must hold, each graded on its own.
    pub checks: Vec<Check>,
}

/// What an expectation is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// The whole job (no subject key).
    Job,
    /// A sink, by name.
    Sink(String),
    /// An operator, by name.
    Operator(String),
    /// The edge between two operators of the plan, by their names (`"a -> b"`).
    Edge(String, String),
    /// A checkpoint, by id.
    Checkpoint(u64),
}

/// One thing that must hold.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// The sink's rows, values in its fields' order.
    Rows {
        /// The rows expected.
        rows: Vec<Vec<serde_json::Value>>,
        /// How they are compared with the sink's.
        how: RowMatch,
    },
    /// A measure within a bound.
    Measure {
        /// What is measured.
        what: Measure,
        /// The bound it must meet.
        bound: Bound,
    },
    /// The job's final status (`finished`, `failed`, `stopped at a limit`).
    Status(String),
    /// Whether the edge chained.
    Chained(bool),
    /// A sink's guarantee: `at_least_once`, `exactly_once` or `idempotent`.
    Guarantee(String),
    /// How the job checkpoints: `aligned`, `unaligned` or `off`.
    Checkpointing(String),
    /// A checkpoint's outcome: `completed`, or a word of how it failed (`failed`,
    /// `aborted`, `expired`), matched against the start or the words of the reported outcome.
    Outcome(String),
}

/// How expected rows are compared with a sink's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowMatch {
    /// The same rows in the same order.
    Exact,
    /// The same rows, each as often, in any order (the default: parallel subtasks interleave).
    Set,
    /// Each expected row is among the sink's (as often as expected at least).
    Subset,
}

impl RowMatch {
    /// Its name in the file.
    pub fn name(self) -> &'static str {
        match self {
            RowMatch::Exact => "exact",
            RowMatch::Set => "set",
            RowMatch::Subset => "subset",
        }
    }
}

/// A measure an expectation can bound. Its key in the file is [`Measure::key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Records a sink received (of a sink) or all sinks received (of the job).
    Records,
    /// Rows a sink shows more often than the fault-free run.
    Duplicates,
    /// Rows of the fault-free run a sink never showed.
    Missing,
    /// Median latency, record creation → sink.
    LatencyP50,
    /// 99th-percentile latency.
    LatencyP99,
    /// Largest latency.
    LatencyMax,
    /// Records per second of simulated time.
    Throughput,
    /// Window firings (on time and late).
    Fired,
    /// Late firings (allowed lateness).
    LateFirings,
    /// Late records dropped.
    LateDropped,
    /// Late records sent to the late-data side output.
    LateSideOutput,
    /// Windows still open when the run ended.
    WindowsLeftOpen,
    /// Records an operator received.
    RecordsIn,
    /// Records an operator emitted.
    RecordsOut,
    /// Slots the job needs (slot sharing: the largest parallelism per sharing group, summed).
    Slots,
    /// Failures after which tasks were restarted (a region or the whole job).
    Restarts,
    /// Failures.
    Failures,
    /// The parallelism of an operator or a sink.
    Parallelism,
}

impl Measure {
    /// Every measure with the subjects it applies to.
    pub const ALL: [(Measure, &'static [SubjectKind]); 18] = {
        use SubjectKind::*;
        [
            (Measure::Records, &[Job, Sink]),
            (Measure::Duplicates, &[Sink]),
            (Measure::Missing, &[Sink]),
            (Measure::LatencyP50, &[Job, Sink]),
            (Measure::LatencyP99, &[Job, Sink]),
            (Measure::LatencyMax, &[Job, Sink]),
            (Measure::Throughput, &[Job, Sink]),
            (Measure::Fired, &[Operator]),
            (Measure::LateFirings, &[Operator]),
            (Measure::LateDropped, &[Operator]),
            (Measure::LateSideOutput, &[Operator]),
            (Measure::WindowsLeftOpen, &[Operator]),
            (Measure::RecordsIn, &[Operator]),
            (Measure::RecordsOut, &[Operator]),
            (Measure::Slots, &[Job]),
            (Measure::Restarts, &[Job]),
            (Measure::Failures, &[Job]),
            (Measure::Parallelism, &[Operator, Sink]),
        ]
    };

    /// Its key in the file.
    pub fn key(self) -> &'static str {
        match self {
            Measure::Records => "records",
            Measure::Duplicates => "duplicates",
            Measure::Missing => "missing",
            Measure::LatencyP50 => "latency_p50",
            Measure::LatencyP99 => "latency_p99",
            Measure::LatencyMax => "latency_max",
            Measure::Throughput => "throughput",
            Measure::Fired => "fired",
            Measure::LateFirings => "late_firings",
            Measure::LateDropped => "late_dropped",
            Measure::LateSideOutput => "late_side_output",
            Measure::WindowsLeftOpen => "windows_left_open",
            Measure::RecordsIn => "records_in",
            Measure::RecordsOut => "records_out",
            Measure::Slots => "slots",
            Measure::Restarts => "restarts",
            Measure::Failures => "failures",
            Measure::Parallelism => "parallelism",
        }
    }

    /// The unit its values are in: durations in milliseconds, throughput in records per
    /// second, the rest counts.
    pub fn unit(self) -> Unit {
        match self {
            Measure::LatencyP50 | Measure::LatencyP99 | Measure::LatencyMax => Unit::Millis,
            Measure::Throughput => Unit::PerSecond,
            _ => Unit::Count,
        }
    }
}

/// The kinds of subject, for saying which measures go with which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    /// No subject key.
    Job,
    /// `sink = …`.
    Sink,
    /// `operator = …`.
    Operator,
    /// `edge = …`.
    Edge,
    /// `checkpoint = …`.
    Checkpoint,
}

/// What a measure's values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A count.
    Count,
    /// Milliseconds (written as a duration: `"50 ms"`, `"2 s"`).
    Millis,
    /// Records per second.
    PerSecond,
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `=` (a bare number).
    Eq,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

/// A bound on a measure: `value` in the measure's unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    /// The comparison.
    pub cmp: Cmp,
    /// The value compared with, in the measure's [`Unit`].
    pub value: f64,
}

impl Bound {
    /// Whether `actual` meets the bound.
    pub fn holds(&self, actual: f64) -> bool {
        match self.cmp {
            Cmp::Eq => actual == self.value,
            Cmp::Lt => actual < self.value,
            Cmp::Le => actual <= self.value,
            Cmp::Gt => actual > self.value,
            Cmp::Ge => actual >= self.value,
        }
    }

    /// The comparison's symbol.
    pub fn symbol(&self) -> &'static str {
        match self.cmp {
            Cmp::Eq => "=",
            Cmp::Lt => "<",
            Cmp::Le => "≤",
            Cmp::Gt => ">",
            Cmp::Ge => "≥",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_compare_as_written() {
        let b = |cmp, value| Bound { cmp, value };
        assert!(b(Cmp::Eq, 3.0).holds(3.0) && !b(Cmp::Eq, 3.0).holds(3.5));
        assert!(b(Cmp::Lt, 3.0).holds(2.9) && !b(Cmp::Lt, 3.0).holds(3.0));
        assert!(b(Cmp::Le, 3.0).holds(3.0) && !b(Cmp::Le, 3.0).holds(3.1));
        assert!(b(Cmp::Gt, 3.0).holds(3.1) && !b(Cmp::Gt, 3.0).holds(3.0));
        assert!(b(Cmp::Ge, 3.0).holds(3.0) && !b(Cmp::Ge, 3.0).holds(2.9));
    }

    #[test]
    fn every_measure_has_its_own_key() {
        let mut keys: Vec<_> = Measure::ALL.iter().map(|(m, _)| m.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), Measure::ALL.len());
    }
}
