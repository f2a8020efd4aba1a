//! The run report: everything a run measured, as serde JSON and as a readable summary.
//!
//! Units go last in field names (`latency_ms_p99`, `busy_ms`). The report holds no wall-clock
//! figure, so the same scenario and seed give a byte-identical report. The types read back
//! strictly (`streamlab-viz` draws from them): a field the engine always writes must be there.
//!
//! | module | what |
//! |---|---|
//! | [`assemble`] | the one assembler of a run report, from plain inputs every mode fills in |
//! | [`run`] | the whole run: [`RunReport`], its [`Outcome`], network totals, throughput series |
//! | [`deployment`] | `[deployment]`: mode, platform, HA and the start-up timeline |
//! | [`latency`] | latency percentiles and CDF from a histogram |
//! | [`operators`] | operators, windows, tasks and their watermarks |
//! | [`sinks`] | what each sink received and how it compared with the fault-free run |
//! | [`faults`] | checkpoints, failures, job status, rescale, aligned vs unaligned |
//! | [`mode`] | what a run in one execution mode reports besides the run report |
//! | [`compare`] | the reports of `compare` and `sweep` |
//! | [`diff`] | the record-level diff of two runs: sink rows aligned by key and window |
//! | [`diff_cause`] | why a row of the diff differs, from the reports' data |
//! | [`event_time`] | the event-time view of a window operator (dots, watermarks, windows), when captured |
//! | [`summary`] | the readable summary `streamlab run` prints |
//! | [`format`](mod@format) | how the summary writes numbers, durations and names |

pub mod assemble;
pub mod compare;
mod de;
pub mod deployment;
pub mod diff;
pub mod diff_cause;
pub mod event_time;
pub mod expect;
pub mod faults;
pub mod format;
pub mod latency;
pub mod mode;
pub mod operators;
pub mod run;
pub mod sinks;
pub mod summary;

pub use assemble::{
    RecordCounts, RunInputs, SinkInput, SubtaskInput, TaskInput, WindowCounts,
    duplicates_and_missing,
};
pub use compare::{
    CompareReport, InvalidSetting, PlanChain, PlanEdge, PlanSlot, PlanSubtask, PlanView,
    SweepPoint, SweepReport,
};
pub use deployment::{DeploymentReport, StartupStep};
pub use faults::{
    CheckpointReport, FailureReport, JobTransition, RescaleReport, RescaledOperator, VariantReport,
};
pub use format::{cut_middle, fmt_ms, fmt_rate, plural};
pub use latency::{Latency, round3};
pub use mode::{BatchReport, ModeDetails, ModeRun, SinkCorrectness};
pub use operators::{ChannelWatermark, OperatorReport, SubtaskCounts, TaskReport, WindowReport};
pub use run::{NetworkReport, Outcome, RunReport, Series, Status};
pub use sinks::SinkReport;
