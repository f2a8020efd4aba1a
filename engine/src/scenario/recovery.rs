//! Fault tolerance in scenario files: `[checkpointing]`, `[restart]` and `[[fault]]`.
//!
//! The defaults are Flink's (`ExecutionCheckpointingOptions`, `RestartStrategyOptions`), with
//! the restart defaults that changed in Flink 1.19 chosen by `[restart] flink_version`.
//! The checks, which mirror Flink's own where Flink has one, are in [`crate::check`]
//! (`checkpointing`, `restart`, `faults`).

use crate::core::time::{SimDuration, SimTime};
use std::ops::Range;

/// How barriers are handled at tasks with several inputs (`execution.checkpointing.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointMode {
    /// Barriers are aligned: a channel that delivered barrier n is blocked until every
    /// channel has, so the snapshot holds exactly the records before the barrier.
    ExactlyOnce,
    /// No alignment: records behind barrier n on a fast channel are processed before the
    /// snapshot, so after a restore they count twice.
    AtLeastOnce,
}

/// `[checkpointing]`: periodic checkpoints (absent = checkpointing disabled, Flink's default).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointConfig {
    /// `execution.checkpointing.interval`.
    pub interval: SimDuration,
    /// `execution.checkpointing.mode` (default exactly-once).
    pub mode: CheckpointMode,
    /// `execution.checkpointing.timeout` (default 10 min).
    pub timeout: SimDuration,
    /// `execution.checkpointing.min-pause` (default 0): from the end of one checkpoint to the
    /// trigger of the next.
    pub min_pause: SimDuration,
    /// `execution.checkpointing.max-concurrent-checkpoints` (default 1).
    pub max_concurrent: u32,
    /// `execution.checkpointing.tolerable-failed-checkpoints` (default 0).
    pub tolerable_failures: u32,
    /// `execution.checkpointing.unaligned.enabled` (default false).
    pub unaligned: bool,
    /// `execution.checkpointing.aligned-checkpoint-timeout` (default 0: with `unaligned`,
    /// checkpoints are unaligned from the start; otherwise they start aligned and switch to
    /// unaligned this long after their trigger).
    pub aligned_timeout: SimDuration,
    /// streamlab only: also run the job with aligned checkpoints (same seed) and put both
    /// side by side in the report (default false; needs `unaligned`).
    pub compare_aligned: bool,
    /// Bytes per second the checkpoint storage takes (default 100 MiB/s).
    pub storage_bandwidth: u64,
    /// Latency of one write to the checkpoint storage (default 20 ms).
    pub storage_latency: SimDuration,
    /// `state.checkpoints.num-retained` (default 1).
    pub retained: u32,
    /// Where the table was written.
    pub span: Range<usize>,
}

impl CheckpointConfig {
    /// Flink's defaults (`execution.checkpointing.*`; storage figures are streamlab's) with
    /// this interval, written at `span`.
    pub fn with_defaults(interval: SimDuration, span: Range<usize>) -> Self {
        CheckpointConfig {
            interval,
            mode: CheckpointMode::ExactlyOnce,
            timeout: crate::core::defaults::checkpointing::TIMEOUT,
            min_pause: crate::core::defaults::checkpointing::MIN_PAUSE,
            max_concurrent: crate::core::defaults::checkpointing::MAX_CONCURRENT,
            tolerable_failures: crate::core::defaults::checkpointing::TOLERABLE_FAILURES,
            unaligned: false,
            aligned_timeout: crate::core::defaults::checkpointing::ALIGNED_TIMEOUT,
            compare_aligned: false,
            storage_bandwidth: crate::core::defaults::checkpointing::STORAGE_BANDWIDTH_BYTES_PER_S,
            storage_latency: crate::core::defaults::checkpointing::STORAGE_LATENCY,
            retained: crate::core::defaults::checkpointing::NUM_RETAINED,
            span,
        }
    }
}

/// `restart-strategy.type` (the strategy itself is a Flink rule: [`crate::flink::restart`]).
pub use crate::flink::restart::RestartStrategy;

/// What restarts after a failure (`jobmanager.execution.failover-strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failover {
    /// Only the pipelined region of the failed task (Flink's default).
    Region,
    /// The whole job.
    Full,
}

/// `[restart]`, resolved against the Flink version's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct RestartConfig {
    /// The strategy in force.
    pub strategy: RestartStrategy,
    /// Whether it was configured or is Flink's default for this job.
    pub explicit: bool,
    /// The failover strategy.
    pub failover: Failover,
    /// The Flink version whose defaults apply ("1.18" or "1.19+").
    pub flink_version: String,
}

/// When a fault strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultTime {
    /// At this processing time.
    At(SimTime),
    /// Right after this phase of this checkpoint.
    After(CheckpointPhase, u64),
}

/// A point in a checkpoint's life a fault can be tied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointPhase {
    /// The coordinator triggered it (barriers injected at the sources).
    Trigger,
    /// Every two-phase-commit sink subtask pre-committed its transaction (and every task
    /// took its snapshot), before the coordinator heard all acknowledgements.
    PreCommit,
    /// The checkpoint completed (before the sinks commit).
    Completion,
    /// `notifyCheckpointComplete` reached every task: the sinks committed its transactions.
    Notified,
    /// The subtask `subtask` of the chain headed by scenario node `node` took its snapshot:
    /// every barrier arrived (aligned, or overtaken when unaligned) and the synchronous part is
    /// done; its state is not uploaded yet.
    SubtaskSnapshot {
        /// The scenario node at the head of the subtask's chain.
        node: usize,
        /// The subtask.
        subtask: u32,
    },
    /// That subtask's asynchronous part (the upload to checkpoint storage) is done and its
    /// acknowledgement reached the coordinator.
    SubtaskAck {
        /// The scenario node at the head of the subtask's chain.
        node: usize,
        /// The subtask.
        subtask: u32,
    },
    /// That subtask (not a source) read the first barrier of the checkpoint on one of its
    /// input channels: alignment began (with unaligned checkpoints it snapshots at once).
    SubtaskFirstBarrier {
        /// The scenario node at the head of the subtask's chain.
        node: usize,
        /// The subtask.
        subtask: u32,
    },
    /// That subtask finished the synchronous part of its snapshot (the state copied, the
    /// two-phase-commit sink's transaction pre-committed) and goes on processing; the upload
    /// has not finished.
    SubtaskSyncDone {
        /// The scenario node at the head of the subtask's chain.
        node: usize,
        /// The subtask.
        subtask: u32,
    },
    /// `notifyCheckpointComplete` reached that subtask, which holds a sink, and the sink
    /// committed the checkpoint's transactions — before the notification reached the
    /// subtasks after it.
    SinkCommitted {
        /// The scenario node at the head of the subtask's chain.
        node: usize,
        /// The subtask.
        subtask: u32,
    },
    /// The stop-with-savepoint completed and its notification reached the tasks: the job
    /// stopped, and the resubmission (the rescale) has not run yet. A scenario has at most one
    /// stop, so this phase goes with checkpoint number 0 whatever the savepoint's id.
    SavepointStop,
}

impl std::fmt::Display for CheckpointPhase {
    /// The spelling a fault's `after` accepts: "pre-commit of checkpoint 3".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CheckpointPhase::Trigger => "trigger",
            CheckpointPhase::PreCommit => "pre-commit",
            CheckpointPhase::Completion => "completion",
            CheckpointPhase::Notified => "notify",
            CheckpointPhase::SubtaskSnapshot { .. } => "the subtask's snapshot",
            CheckpointPhase::SubtaskAck { .. } => "the subtask's acknowledgement",
            CheckpointPhase::SubtaskFirstBarrier { .. } => "the subtask's first barrier",
            CheckpointPhase::SubtaskSyncDone { .. } => "the subtask's synchronous snapshot",
            CheckpointPhase::SinkCommitted { .. } => "the sink subtask's commit",
            CheckpointPhase::SavepointStop => "savepoint stop",
        })
    }
}

/// What goes wrong.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    /// One subtask throws: its region fails.
    KillSubtask {
        /// Logical node index.
        node: usize,
        /// Subtask index.
        subtask: u32,
    },
    /// A TaskManager dies with every subtask on it; a replacement registers after a delay.
    KillTaskManager {
        /// TaskManager index.
        tm: u32,
        /// Until a replacement TaskManager is available.
        replacement_delay: SimDuration,
    },
    /// The JobManager dies: with HA the job recovers from the latest checkpoint after a
    /// leader election; without, the job fails.
    JobManager {
        /// High availability configured.
        ha: bool,
    },
    /// Buffers between two TaskManagers take this much longer for a while.
    NetworkDelay {
        /// The two TaskManagers.
        between: (u32, u32),
        /// Added latency.
        extra: SimDuration,
        /// How long.
        duration: SimDuration,
    },
    /// No buffer crosses between two TaskManagers for a while (they arrive after it heals).
    NetworkPartition {
        /// The two TaskManagers.
        between: (u32, u32),
        /// How long.
        duration: SimDuration,
    },
    /// A subtask runs `factor` times slower for a while.
    Straggler {
        /// Logical node index.
        node: usize,
        /// Subtask index.
        subtask: u32,
        /// Slowdown factor (> 1).
        factor: f64,
        /// How long.
        duration: SimDuration,
    },
    /// Writes to the checkpoint storage fail for a while: checkpoints in that time fail.
    StorageFailure {
        /// How long.
        duration: SimDuration,
    },
}

/// One scripted fault.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// When.
    pub at: FaultTime,
    /// What.
    pub kind: FaultKind,
    /// Where it was written.
    pub span: Range<usize>,
}

/// Everything about failures and recovery in one scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultTolerance {
    /// Periodic checkpoints, if enabled.
    pub checkpointing: Option<CheckpointConfig>,
    /// What happens after a failure.
    pub restart: RestartConfig,
    /// The scripted faults.
    pub faults: Vec<Fault>,
    /// Sinks keep a multiset of what they made visible (to compare a faulty run with its
    /// fault-free reference). On whenever there are faults.
    pub record_output: bool,
    /// `[[savepoint]]`: intermediate savepoints.
    pub savepoints: Vec<super::savepoint::SavepointSpec>,
    /// `[rescale]`: stop-with-savepoint and a restart with new parallelism.
    pub rescale: Option<super::savepoint::RescaleSpec>,
}

impl FaultTolerance {
    /// Whether sinks keep a multiset of their visible output.
    pub fn keeps_output(&self) -> bool {
        self.record_output || !self.faults.is_empty() || self.rescale.is_some()
    }

    /// Whether the run compares its output with a reference run: it has faults or a rescale,
    /// or was asked to (`record_output`: `--chaos`, even when it drew no fault).
    pub fn disturbed(&self) -> bool {
        self.keeps_output()
    }
}

impl FaultTolerance {
    /// Flink's defaults: no checkpoints, no faults, and the restart strategy that follows.
    pub fn none() -> Self {
        FaultTolerance {
            checkpointing: None,
            restart: RestartConfig {
                strategy: RestartStrategy::None,
                explicit: false,
                failover: Failover::Region,
                flink_version: "1.19+".into(),
            },
            faults: Vec::new(),
            record_output: false,
            savepoints: Vec::new(),
            rescale: None,
        }
    }
}

/// The smallest interval Flink accepts (`CheckpointCoordinatorConfiguration`).
pub const MIN_CHECKPOINT_INTERVAL: SimDuration = crate::core::defaults::checkpointing::MIN_INTERVAL;

impl CheckpointConfig {
    /// The coordinator's settings when only savepoints are taken (no `[checkpointing]`):
    /// Flink's defaults, periodic triggering off.
    pub fn savepoints_only() -> Self {
        CheckpointConfig::with_defaults(SimDuration::from_secs(u64::from(u32::MAX)), 0..0)
    }
}
