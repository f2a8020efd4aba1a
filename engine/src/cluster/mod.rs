//! Several jobs on one cluster (issue 17, item 3): a cluster file submits ordinary scenario
//! files to one `[cluster]` in a `[deployment]` mode, with TaskManager crashes of the
//! cluster; `streamlab cluster` runs them.
//!
//! | module | job |
//! |---|---|
//! | [`file`] | the cluster file: read and checked, every mistake at its line and column |
//! | [`run`] | each job planned, given slots ([`crate::flink::session`]), simulated; crashes turned into the struck jobs' faults |
//! | [`report`] | what became of each job and slot, as text and JSON |
//!
//! In a session cluster the jobs share the TaskManagers' slots: a job waits for free slots
//! and fails after `slot.request.timeout` with Flink's `NoResourceAvailableException`, and
//! a TaskManager crash strikes every job with a slot on it. In per-job and application mode
//! each job has its own TaskManagers: a crash strikes one job.

pub mod file;
pub mod report;
pub mod run;

pub use file::{ClusterFile, ClusterLoadError, is_cluster_file, load};
pub use report::ClusterReport;
pub use run::{ClusterRunError, run};
