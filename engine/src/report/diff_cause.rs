//! Why a row of a record-level diff ([`diff`](super::diff)) differs: the cause is read from
//! the two reports — their modes, seeds, failures, acking's replayed tuples, the records their
//! window operators judged late — never from the names of sinks or scenarios.
//!
//! The rules, first match wins (the extra side is the run that shows the row more often):
//! 1. [`Cause::NotCaptured`] — only in one run, and the other run's report did not keep every
//!    row of the sink.
//! 2. [`Cause::ReplayedByAcking`] — an extra copy (the row is visible at least twice) in an
//!    acking run that replayed tuples.
//! 3. [`Cause::AfterFailure`] — an extra copy in a run that had a failure (a job that did not
//!    finish counts as one) (duplicated by the
//!    replay after it); a row absent from a run with a failure (lost), or only in a run with
//!    one, or a different value while either run had one. An extra copy in a run *without* a
//!    failure is never called a duplicate: equal rows with no restore between them are equal
//!    results (the rule of `explain --sink`).
//! 4. [`Cause::LateInMicroBatch`] — one run is micro-batch, the other not, and they judged a
//!    different number of records late: micro-batch applies the watermark a batch later.
//!    [`Cause::LateInOneRun`] — else, the runs judged a different number of records late
//!    (batch reads its whole input before the watermark moves: nothing is late there).
//! 5. [`Cause::DifferentSeed`] — the seeds differ.
//! 6. [`Cause::Unexplained`] — nothing in the reports explains it.
//!
//! [`Cause::UpdateVsFinal`] is not a difference: it names the earlier rows of an updating
//! result, which the diff folds into the final row per key.

use super::{ModeDetails, RunReport};
use serde::{Deserialize, Serialize};

/// One run as the diff sees it: its report and, for a `compare` run, its mode's details.
#[derive(Debug, Clone, Copy)]
pub struct DiffInput<'a> {
    /// The run's report.
    pub report: &'a RunReport,
    /// The mode's own findings (acking's replayed tuples), when the run comes from `compare`.
    pub details: Option<&'a ModeDetails>,
    /// How the diff names the run (`A`, or its mode).
    pub label: &'a str,
}

/// How a row differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffKind {
    /// Visible more often in A (never in B, or as an extra copy).
    OnlyInA,
    /// Visible more often in B.
    OnlyInB,
    /// The same key and window with another value.
    DifferentValue,
}

/// Why a row differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// Storm's acking replayed the tuple after its message timeout.
    ReplayedByAcking,
    /// Duplicated, lost or changed by a failure and its recovery.
    AfterFailure,
    /// Micro-batch applied the watermark a batch later.
    LateInMicroBatch,
    /// The runs judged a different number of records late (not micro-batch against another
    /// mode).
    LateInOneRun,
    /// Rolling updates folded into the final row (batch emits only the final one).
    UpdateVsFinal,
    /// The runs used different seeds.
    DifferentSeed,
    /// The other report did not keep every row.
    NotCaptured,
    /// Nothing in the reports explains it.
    Unexplained,
}

impl Cause {
    /// The cause in words, as the text output names it.
    pub fn words(self) -> &'static str {
        match self {
            Cause::ReplayedByAcking => "replayed by acking",
            Cause::AfterFailure => "after a failure",
            Cause::LateInMicroBatch => "late in micro-batch",
            Cause::LateInOneRun => "judged late in one run",
            Cause::UpdateVsFinal => "update vs final",
            Cause::DifferentSeed => "different seed",
            Cause::NotCaptured => "not captured",
            Cause::Unexplained => "unexplained",
        }
    }
}

/// What the reports say about one run, as far as causes go.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Side {
    /// How the diff names the run (`A`, or the mode in `compare --diff`).
    pub label: String,
    /// Its execution mode.
    pub mode: String,
    /// Its seed.
    pub seed: u64,
    /// Its failures, as `at <time>: <what recovery did>`.
    pub failures: Vec<String>,
    /// Tuples acking replayed after their message timeout (`null`: not an acking run).
    pub replayed: Option<u64>,
    /// Records its window and join operators judged late (dropped, side output or late
    /// firings).
    pub late: u64,
}

impl Side {
    /// The facts of run `x`, named after its mode.
    pub fn of(x: DiffInput<'_>) -> Side {
        let r = x.report;
        let failures = match x.details {
            Some(d) => d
                .failures
                .iter()
                .map(|f| format!("at {:.3} s: {}", f.at_ms / 1000.0, f.recovery))
                .collect(),
            None => r
                .failures
                .iter()
                .map(|f| {
                    let restored = f
                        .restored_checkpoint
                        .map_or(String::new(), |c| format!(", restored checkpoint {c}"));
                    format!("at {:.3} s: {}{restored}", f.at_ms / 1000.0, f.cause)
                })
                .collect(),
        };
        let mut failures: Vec<String> = failures;
        if r.outcome.status != super::Status::Finished {
            failures.push(format!(
                "the job did not finish ({}{})",
                r.outcome.status.name(),
                r.outcome
                    .message
                    .as_ref()
                    .map_or(String::new(), |m| format!(": {m}"))
            ));
        }
        Side {
            label: r.mode.clone(),
            mode: r.mode.clone(),
            seed: r.seed,
            failures,
            replayed: x.details.and_then(|d| d.replayed),
            late: r
                .operators
                .iter()
                .filter_map(|o| o.windows.as_ref())
                .map(|w| w.late_dropped + w.late_side_output + w.late_firings)
                .sum(),
        }
    }
}

/// The two runs of a sink's diff, and whether each report kept every row of it.
pub struct Context<'a> {
    /// Run A.
    pub a: &'a Side,
    /// Run B.
    pub b: &'a Side,
    /// Whether A's and B's reports keep every row of the sink.
    pub complete: [bool; 2],
    /// Earlier rows of an updating result each run showed (folded into the final rows).
    pub updates: [u64; 2],
}

impl Context<'_> {
    fn side(&self, i: usize) -> &Side {
        if i == 0 { self.a } else { self.b }
    }

    /// The micro-batch run and the other, when exactly one is micro-batch and they judged a
    /// different number of records late.
    fn late_in_micro_batch(&self) -> Option<(&Side, &Side)> {
        let (a, b) = (self.a, self.b);
        let mb = |s: &Side| s.mode == "micro-batch";
        match (mb(a), mb(b)) {
            (true, false) if a.late != b.late => Some((a, b)),
            (false, true) if a.late != b.late => Some((b, a)),
            _ => None,
        }
    }
}

/// The cause of a row that differs as `kind`, visible `copies` times in A and B.
pub fn classify(kind: DiffKind, copies: [u64; 2], cx: &Context<'_>) -> Cause {
    let failed = |i: usize| !cx.side(i).failures.is_empty();
    let extra = match kind {
        DiffKind::OnlyInA => Some(0),
        DiffKind::OnlyInB => Some(1),
        DiffKind::DifferentValue => None,
    };
    if let Some(x) = extra {
        let other = 1 - x;
        if !cx.complete[other] {
            return Cause::NotCaptured;
        }
        let copy = copies[x] >= 2 && copies[other] >= 1;
        let s = cx.side(x);
        if copy && s.mode == "acking" && s.replayed.is_some_and(|n| n > 0) {
            return Cause::ReplayedByAcking;
        }
        let by_failure = if copy {
            failed(x)
        } else {
            failed(x) || failed(other)
        };
        if by_failure {
            return Cause::AfterFailure;
        }
    } else if failed(0) || failed(1) {
        return Cause::AfterFailure;
    }
    if cx.late_in_micro_batch().is_some() {
        return Cause::LateInMicroBatch;
    }
    if cx.a.late != cx.b.late {
        return Cause::LateInOneRun;
    }
    if cx.a.seed != cx.b.seed {
        return Cause::DifferentSeed;
    }
    Cause::Unexplained
}

/// Why rows of sink `sink` differ by `cause`, in words, from the reports' data.
pub fn reason(cause: Cause, cx: &Context<'_>, sink: &str) -> String {
    let (a, b) = (cx.a, cx.b);
    match cause {
        Cause::ReplayedByAcking => {
            let s = if a.replayed.is_some_and(|n| n > 0) { a } else { b };
            format!(
                "{} ran in Storm's acking mode: {} tuples were not acked when the failure struck ({}) and their spouts replayed them after the message timeout; the results they had delivered before the crash reached sink `{sink}` again (at-least-once)",
                s.label,
                s.replayed.unwrap_or(0),
                s.failures.join("; ")
            )
        }
        Cause::AfterFailure => {
            let failed: Vec<String> = [a, b]
                .iter()
                .filter(|s| !s.failures.is_empty())
                .map(|s| format!("{}: {}", s.label, s.failures.join("; ")))
                .collect();
            format!(
                "{}: a row shown more often in the run that failed was written again by the replay after the recovery, a row missing from it was lost, a value that differs came from state the recovery restored (or, without a checkpoint, started empty)",
                failed.join("; ")
            )
        }
        Cause::LateInMicroBatch => {
            let (mb, other) = cx.late_in_micro_batch().unwrap_or((a, b));
            format!(
                "{} computes the watermark at the end of a batch and applies it in the next, so lateness is judged a batch later than in {}: {} judged {} records late, {} {}",
                mb.label, other.label, mb.label, mb.late, other.label, other.late
            )
        }
        Cause::LateInOneRun => {
            let batch = [a, b]
                .into_iter()
                .find(|s| s.mode == "batch")
                .map_or(String::new(), |bt| {
                    format!(
                        " ({} reads its whole input before the watermark moves, so nothing is late there)",
                        bt.label
                    )
                });
            format!(
                "the runs judged lateness differently: {} judged {} records late, {} {}{batch}; a late record is dropped, sent to a side output or fires a window again",
                a.label, a.late, b.label, b.late
            )
        }
        Cause::UpdateVsFinal => {
            let batch = [a, b]
                .into_iter()
                .zip(cx.updates)
                .find(|(s, n)| s.mode == "batch" && *n == 0)
                .map(|(s, _)| s);
            match batch {
                Some(bt) => format!(
                    "{} (BATCH mode) emits one final row per key; a streaming rolling result emits every update before it: the diff compares the final value per key and folds the earlier rows",
                    bt.label
                ),
                None => "an updating result (a rolling reduce, or late firings): the diff compares the final value per key and folds the earlier rows".into(),
            }
        }
        Cause::DifferentSeed => format!(
            "the runs used different seeds ({} and {}): generated data and every random choice differ",
            a.seed, b.seed
        ),
        Cause::NotCaptured => {
            let short: Vec<&str> = [a, b]
                .iter()
                .zip(cx.complete)
                .filter(|(_, c)| !c)
                .map(|(s, _)| s.label.as_str())
                .collect();
            let whose = match short.as_slice() {
                [one] => format!("the report of {one} does"),
                many => format!("the reports of {} do", many.join(" and ")),
            };
            format!(
                "{whose} not keep every row of sink `{sink}`: the row may be among those left out"
            )
        }
        Cause::Unexplained => "the reports show no failure, no replay, the same seed and the same number of late records: nothing in them explains it (results that depend on processing time or on the order of arrival leave no trace in a report)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(mode: &str) -> Side {
        Side {
            label: mode.into(),
            mode: mode.into(),
            seed: 7,
            failures: Vec::new(),
            replayed: None,
            late: 0,
        }
    }

    fn cx<'a>(a: &'a Side, b: &'a Side) -> Context<'a> {
        Context {
            a,
            b,
            complete: [true, true],
            updates: [0, 0],
        }
    }

    #[test]
    fn an_extra_copy_in_an_acking_run_that_replayed_is_a_replay() {
        let a = side("streaming");
        let mut b = side("acking");
        b.failures.push("at 2.000 s: workers restarted".into());
        b.replayed = Some(3);
        let c = cx(&a, &b);
        assert_eq!(
            classify(DiffKind::OnlyInB, [1, 2], &c),
            Cause::ReplayedByAcking
        );
        // a row acking shows once and streaming never: not a replay, but after its failure
        assert_eq!(classify(DiffKind::OnlyInB, [0, 1], &c), Cause::AfterFailure);
        // without replayed tuples it is not called a replay
        b.replayed = Some(0);
        let c = cx(&a, &b);
        assert_eq!(classify(DiffKind::OnlyInB, [1, 2], &c), Cause::AfterFailure);
    }

    #[test]
    fn an_extra_copy_in_a_run_without_failure_is_not_a_duplicate() {
        let mut a = side("streaming");
        a.failures.push("at 1.000 s: TaskManager lost".into());
        let b = side("streaming");
        let c = cx(&a, &b);
        // B shows it twice, A once: B had no failure, so no restore made the second copy
        assert_eq!(classify(DiffKind::OnlyInB, [1, 2], &c), Cause::Unexplained);
        // A shows it twice: duplicated after A's failure; B lacks a row A has: A's failure
        assert_eq!(classify(DiffKind::OnlyInA, [2, 1], &c), Cause::AfterFailure);
        assert_eq!(classify(DiffKind::OnlyInB, [0, 1], &c), Cause::AfterFailure);
    }

    #[test]
    fn a_micro_batch_run_with_other_late_counts_explains_by_lateness() {
        let a = side("streaming");
        let mut b = side("micro-batch");
        b.late = 2;
        let c = cx(&a, &b);
        assert_eq!(
            classify(DiffKind::DifferentValue, [1, 1], &c),
            Cause::LateInMicroBatch
        );
        assert!(reason(Cause::LateInMicroBatch, &c, "out").contains("micro-batch judged 2"));
        b.late = 0;
        let c = cx(&a, &b);
        assert_eq!(
            classify(DiffKind::DifferentValue, [1, 1], &c),
            Cause::Unexplained
        );
        // batch against streaming: judged late in one run only
        let mut s = side("streaming");
        s.late = 1;
        let bt = side("batch");
        let c = cx(&s, &bt);
        assert_eq!(
            classify(DiffKind::DifferentValue, [1, 1], &c),
            Cause::LateInOneRun
        );
        assert!(reason(Cause::LateInOneRun, &c, "out").contains("nothing is late there"));
    }

    #[test]
    fn different_seeds_and_uncaptured_rows_are_named() {
        let a = side("streaming");
        let mut b = side("streaming");
        b.seed = 8;
        let mut c = cx(&a, &b);
        assert_eq!(
            classify(DiffKind::OnlyInA, [1, 0], &c),
            Cause::DifferentSeed
        );
        c.complete = [true, false];
        assert_eq!(classify(DiffKind::OnlyInA, [1, 0], &c), Cause::NotCaptured);
        // B kept everything: a row only in B is not explained by A's capture… unless A's is short
        assert_eq!(
            classify(DiffKind::OnlyInB, [0, 1], &c),
            Cause::DifferentSeed
        );
    }
}
