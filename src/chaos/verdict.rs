//! What one chaos run must show, and what it showed instead: the built-in checks — every
//! exactly-once (or idempotent) sink equals the fault-free run, an at-least-once sink misses
//! nothing, the job finishes, the in-run invariant checkers (watermarks never go back,
//! barriers in order, each window result once unless a late firing or a replay explains it,
//! each exactly-once row committed once) stay silent — and the scenario's own `[[expect]]`
//! tables.

use crate::commands::status_word;
use serde::Serialize;
use streamlab_engine::plan::Plan;
use streamlab_engine::report::expect::grade;
use streamlab_engine::report::{RunReport, Status};
use streamlab_engine::scenario::Scenario;
use streamlab_engine::scenario::expect::{Check, Subject};
use streamlab_engine::sim::observe::Violation as Broken;

/// One thing a run showed that it must not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The kind: `duplicates`, `missing`, `different final values`, `job not finished`,
    /// `invariant`, `expectation` or `run error`.
    pub kind: &'static str,
    /// What it is about: a sink, the job, an invariant, an expectation (`line N: …`).
    pub subject: String,
    /// In words, with the figures.
    pub detail: String,
}

impl Violation {
    /// The same violation in another run: the same kind about the same subject (figures
    /// may differ). Shrinking keeps a candidate only while it shows the same one.
    pub fn same(&self, other: &Violation) -> bool {
        self.kind == other.kind && self.subject == other.subject
    }

    /// `kind: subject`, for the summary.
    pub fn label(&self) -> String {
        format!("{}: {}", self.kind, self.subject)
    }
}

/// The violations of a run of `s` (planned as `p`) that ended with `report`.
pub fn of_report(s: &Scenario, p: &Plan, r: &RunReport) -> Vec<Violation> {
    let mut out = Vec::new();
    // A scenario may expect the job to fail; its expectations say so, not this check.
    let status_expected = s.expectations.iter().any(|e| {
        e.subject == Subject::Job && e.checks.iter().any(|c| matches!(c, Check::Status(_)))
    });
    if r.outcome.status != Status::Finished {
        if !status_expected {
            out.push(Violation {
                kind: "job not finished",
                subject: "the job".into(),
                detail: format!(
                    "the job {}: {}",
                    status_word(&r.outcome.status),
                    r.outcome.message.as_deref().unwrap_or("no message")
                ),
            });
        }
    } else {
        for k in &r.sinks {
            let strict = k.guarantee != "at_least_once";
            let sink = format!("sink `{}` ({})", k.name, k.guarantee);
            let mut push = |kind: &'static str, detail: String| {
                out.push(Violation {
                    kind,
                    subject: sink.clone(),
                    detail,
                })
            };
            match k.compared_by.as_deref() {
                Some("rows") => {
                    if strict && k.duplicates.unwrap_or(0) > 0 {
                        push(
                            "duplicates",
                            format!(
                                "{} rows more often than in the fault-free run",
                                k.duplicates.unwrap_or(0)
                            ),
                        );
                    }
                    if k.missing.unwrap_or(0) > 0 {
                        push(
                            "missing",
                            format!(
                                "{} rows of the fault-free run never visible",
                                k.missing.unwrap_or(0)
                            ),
                        );
                    }
                }
                Some("final value per key") if strict && k.differing.unwrap_or(0) > 0 => push(
                    "different final values",
                    format!(
                        "{} keys end with another value than in the fault-free run",
                        k.differing.unwrap_or(0)
                    ),
                ),
                _ => {}
            }
        }
    }
    for v in grade(s, p, r).into_iter().filter(|v| !v.met) {
        out.push(Violation {
            kind: "expectation",
            subject: format!("line {}: {}", v.line, v.expected),
            detail: format!("{} — NOT MET: {}", v.expected, v.actual),
        });
    }
    out
}

/// The violation of a run that stopped with an error: an in-run checker's, or another error.
pub fn of_error(e: &std::io::Error) -> Violation {
    match e.get_ref().and_then(|x| x.downcast_ref::<Broken>()) {
        Some(v) => Violation {
            kind: "invariant",
            subject: v.invariant.describe().into(),
            detail: v.to_string(),
        },
        None => Violation {
            kind: "run error",
            subject: "the run".into(),
            detail: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_violation_is_the_same_kind_about_the_same_subject() {
        let a = Violation {
            kind: "duplicates",
            subject: "sink `out` (exactly_once)".into(),
            detail: "3 rows".into(),
        };
        let b = Violation {
            detail: "9 rows".into(),
            ..a.clone()
        };
        let c = Violation {
            kind: "missing",
            ..a.clone()
        };
        assert!(a.same(&b));
        assert!(!a.same(&c));
        assert_eq!(a.label(), "duplicates: sink `out` (exactly_once)");
    }

    #[test]
    fn a_checker_that_stopped_the_run_is_an_invariant_violation() {
        let e = std::io::Error::other(Broken {
            invariant: streamlab_engine::sim::observe::Invariant::WatermarksNeverGoBack,
            at: streamlab_engine::core::time::SimTime::from_secs(3),
            detail: "channel 2 went from 5000 to 4000".into(),
        });
        let v = of_error(&e);
        assert_eq!(v.kind, "invariant");
        assert_eq!(v.subject, "watermarks never go back on a channel");
        assert!(
            v.detail.contains("channel 2 went from 5000 to 4000"),
            "{}",
            v.detail
        );
    }

    #[test]
    fn an_error_that_is_not_an_invariant_is_a_run_error() {
        let v = of_error(&std::io::Error::other("disk full"));
        assert_eq!((v.kind, v.detail.as_str()), ("run error", "disk full"));
    }
}
