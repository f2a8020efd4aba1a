//! Fault tolerance in scenario files: `[checkpointing]`, `[restart]` and `[[fault]]`.
//!
//! The defaults are Flink's (`ExecutionCheckpointingOptions`, `RestartStrategyOptions`), with
//! the restart defaults that changed in Flink 1.19 chosen by `[restart] flink_version`.
//! Checks mirror Flink's own where Flink has one: an interval below 10 ms is rejected with
//! Flink's message, unaligned checkpoints need exactly-once, and a fault must name a
//! TaskManager, operator or subtask that exists.

use super::model::*;
use super::raw::*;
use super::units::parse_bandwidth;
use super::validate::Checker;
use crate::core::time::{SimDuration, SimTime};
use std::ops::Range;
use toml::Spanned as TSpanned;

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
}

impl std::fmt::Display for CheckpointPhase {
    /// The spelling a fault's `after` accepts: "pre-commit of checkpoint 3".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CheckpointPhase::Trigger => "trigger",
            CheckpointPhase::PreCommit => "pre-commit",
            CheckpointPhase::Completion => "completion",
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

impl Fault {
    /// Short description for reports and traces.
    pub fn describe(&self, s: &Scenario) -> String {
        let name = |n: usize| s.nodes[n].name.clone();
        match &self.kind {
            FaultKind::KillSubtask { node, subtask } => {
                format!("subtask {}#{subtask} killed", name(*node))
            }
            FaultKind::KillTaskManager { tm, .. } => format!("TaskManager {tm} lost"),
            FaultKind::JobManager { ha } => format!(
                "JobManager failed ({})",
                if *ha { "HA on" } else { "no HA" }
            ),
            FaultKind::NetworkDelay { between, extra, .. } => format!(
                "network between TaskManagers {} and {} slowed by {extra}",
                between.0, between.1
            ),
            FaultKind::NetworkPartition { between, .. } => format!(
                "network partition between TaskManagers {} and {}",
                between.0, between.1
            ),
            FaultKind::Straggler {
                node,
                subtask,
                factor,
                ..
            } => format!("subtask {}#{subtask} slowed {factor}×", name(*node)),
            FaultKind::StorageFailure { .. } => "checkpoint storage unavailable".into(),
        }
    }
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
pub const MIN_CHECKPOINT_INTERVAL: SimDuration = SimDuration::from_millis(10);

impl Checker {
    /// Reads `[checkpointing]`, `[restart]` and the `[[fault]]` tables (after the nodes, so
    /// faults can name operators).
    pub(super) fn fault_tolerance(
        &mut self,
        cp: Option<&TSpanned<RawCheckpointing>>,
        rs: Option<&TSpanned<RawRestart>>,
        faults: &[TSpanned<RawFault>],
        nodes: &[NodeDef],
        cluster: &Cluster,
        max_sim_time: SimTime,
    ) -> FaultTolerance {
        let checkpointing = cp.and_then(|c| self.checkpointing(c));
        let restart = self.restart(rs, checkpointing.is_some());
        let faults: Vec<Fault> = faults
            .iter()
            .filter_map(|f| self.fault(f, nodes, cluster, checkpointing.as_ref()))
            .collect();
        // Only a fault the run certainly never reaches is an error: past `limits.max_sim_time`
        // the run stops. The input's end is not the job's — costs, backpressure, windows and
        // restarts run it on — so a fault after it is accepted, and the report says if it never
        // struck.
        let end = input_end(nodes);
        for f in &faults {
            let FaultTime::At(t) = f.at else { continue };
            if t > max_sim_time {
                self.error(
                    Some(f.span.clone()),
                    format!(
                        "this fault at {t} comes after limits.max_sim_time ({max_sim_time}): the run stops before it"
                    ),
                    "strike earlier, or raise max_sim_time in [limits]",
                );
            } else if let Some(end) = end
                && t > end
            {
                self.warn(
                    Some(f.span.clone()),
                    format!(
                        "this fault at {t} comes after the sources' last record (at {end}): it strikes only if the job is still running then"
                    ),
                    "the report says so if the job ended first",
                );
            }
        }
        FaultTolerance {
            checkpointing,
            restart,
            faults,
            record_output: false,
            savepoints: Vec::new(),
            rescale: None,
        }
    }

    fn checkpointing(&mut self, raw: &TSpanned<RawCheckpointing>) -> Option<CheckpointConfig> {
        let span = raw.span();
        let r = raw.get_ref();
        let interval = self.duration(&r.interval, "checkpointing.interval")?;
        if interval < MIN_CHECKPOINT_INTERVAL {
            // Flink: CheckpointCoordinatorConfiguration's check.
            self.error(
                Some(r.interval.span()),
                "Checkpoint interval must be larger than or equal to 10 ms",
                "Flink rejects shorter intervals; write \"10 ms\" or more",
            );
            return None;
        }
        let mut c = CheckpointConfig {
            interval,
            mode: CheckpointMode::ExactlyOnce,
            timeout: SimDuration::from_secs(600),
            min_pause: SimDuration::ZERO,
            max_concurrent: 1,
            tolerable_failures: 0,
            unaligned: false,
            aligned_timeout: SimDuration::ZERO,
            compare_aligned: false,
            storage_bandwidth: 100 << 20,
            storage_latency: SimDuration::from_millis(20),
            retained: 1,
            span,
        };
        if let Some(m) = &r.mode {
            match m.get_ref().to_ascii_lowercase().replace('-', "_").as_str() {
                "exactly_once" => c.mode = CheckpointMode::ExactlyOnce,
                "at_least_once" => c.mode = CheckpointMode::AtLeastOnce,
                other => self.error(
                    Some(m.span()),
                    format!("unknown checkpointing mode `{other}`"),
                    "expected exactly_once or at_least_once",
                ),
            }
        }
        if let Some(v) = &r.timeout
            && let Some(d) = self.duration(v, "checkpointing.timeout")
        {
            if d.is_zero() {
                self.error(Some(v.span()), "checkpointing.timeout must be positive", "");
            }
            c.timeout = d;
        }
        if let Some(v) = &r.min_pause
            && let Some(d) = self.duration(v, "checkpointing.min_pause")
        {
            c.min_pause = d;
        }
        if let Some(v) = &r.max_concurrent {
            c.max_concurrent = self
                .count(v, "checkpointing.max_concurrent", 1000)
                .unwrap_or(1);
        }
        if let Some(v) = &r.tolerable_failures {
            if *v.get_ref() < 0 {
                // Flink: "The tolerable failure checkpoint number must be non-negative."
                self.error(
                    Some(v.span()),
                    "The tolerable failure checkpoint number must be non-negative.",
                    "0 fails the job on the first failed checkpoint",
                );
            } else {
                c.tolerable_failures = (*v.get_ref()).min(i64::from(u32::MAX)) as u32;
            }
        }
        if let Some(v) = &r.unaligned {
            c.unaligned = *v.get_ref();
            if c.unaligned && c.mode == CheckpointMode::AtLeastOnce {
                self.error(
                    Some(v.span()),
                    "unaligned checkpoints require exactly_once mode",
                    "at-least-once has no alignment to skip; Flink 2.3 silently ignores the \
                     combination, streamlab rejects it so the mistake shows",
                );
            }
            if c.unaligned && c.max_concurrent > 1 {
                self.error(
                    r.max_concurrent.as_ref().map(|m| m.span()),
                    "unaligned checkpoints allow at most one concurrent checkpoint",
                    "set max_concurrent = 1",
                );
            }
        }
        if let Some(v) = &r.aligned_timeout
            && let Some(d) = self.duration(v, "checkpointing.aligned_timeout")
        {
            c.aligned_timeout = d;
            if !d.is_zero() && !c.unaligned {
                self.error(
                    Some(v.span()),
                    "aligned_timeout switches an aligned checkpoint to unaligned: it needs unaligned = true",
                    "add unaligned = true",
                );
            }
        }
        if let Some(v) = &r.compare_aligned {
            c.compare_aligned = *v.get_ref();
            if c.compare_aligned && !c.unaligned {
                self.error(
                    Some(v.span()),
                    "compare_aligned compares unaligned checkpoints with aligned ones: it needs unaligned = true",
                    "add unaligned = true",
                );
            }
        }
        if let Some(v) = &r.storage_bandwidth {
            match parse_bandwidth(v.get_ref()) {
                Ok(0) => self.error(
                    Some(v.span()),
                    "checkpointing.storage_bandwidth must be positive",
                    "",
                ),
                Ok(b) => c.storage_bandwidth = b,
                Err(e) => self.error(Some(v.span()), e, "like \"100 mb/s\""),
            }
        }
        if let Some(v) = &r.storage_latency
            && let Some(d) = self.duration(v, "checkpointing.storage_latency")
        {
            c.storage_latency = d;
        }
        if let Some(v) = &r.retained {
            c.retained = self.count(v, "checkpointing.retained", 1000).unwrap_or(1);
        }
        Some(c)
    }

    fn restart(
        &mut self,
        raw: Option<&TSpanned<RawRestart>>,
        checkpointing: bool,
    ) -> RestartConfig {
        let r = raw.map(|r| r.get_ref());
        let version = match r.and_then(|r| r.flink_version.as_ref()) {
            None => "1.19+".to_string(),
            Some(v) => match v.get_ref().trim() {
                "1.18" | "1.17" | "1.16" | "1.15" => "1.18".into(),
                t if t.starts_with("1.19") || t.starts_with("1.2") || t.starts_with('2') => {
                    "1.19+".into()
                }
                other => {
                    self.error(
                        Some(v.span()),
                        format!("unknown Flink version `{other}`"),
                        "the restart defaults differ between \"1.18\" and \"1.19\" (and later)",
                    );
                    "1.19+".into()
                }
            },
        };
        let old = version == "1.18";
        let failover = match r.and_then(|r| r.failover.as_ref()) {
            None => Failover::Region,
            Some(f) => match f.get_ref().as_str() {
                "region" => Failover::Region,
                "full" => Failover::Full,
                other => {
                    self.error(
                        Some(f.span()),
                        format!("unknown failover strategy `{other}`"),
                        "expected region or full",
                    );
                    Failover::Region
                }
            },
        };
        let dur = |c: &mut Checker, v: &Option<TSpanned<String>>, what: &str, d: SimDuration| {
            v.as_ref().and_then(|v| c.duration(v, what)).unwrap_or(d)
        };
        let named = r.and_then(|r| r.strategy.as_ref());
        let strategy = match (named, r) {
            (None, _) if !checkpointing => RestartStrategy::None,
            (None, _) if old => RestartStrategy::FixedDelay {
                attempts: None,
                delay: SimDuration::from_secs(1),
            },
            (None, _) => default_exponential(false),
            (Some(n), Some(r)) => {
                let name = n.get_ref().to_ascii_lowercase().replace('_', "-");
                match name.as_str() {
                    "none" | "off" | "disable" => RestartStrategy::None,
                    "fixed-delay" | "fixeddelay" => {
                        let attempts = match &r.attempts {
                            Some(a) if *a.get_ref() < 0 => None,
                            Some(a) if *a.get_ref() == 0 => Some(0),
                            Some(a) => self.count(a, "restart.attempts", i64::from(u32::MAX)),
                            None => Some(1),
                        };
                        let delay = dur(self, &r.delay, "restart.delay", SimDuration::from_secs(1));
                        if delay.is_zero() && attempts.is_none() {
                            self.warn(
                                r.delay.as_ref().map(|d| d.span()).or(Some(n.span())),
                                "fixed-delay restarts with 0 delay and unlimited attempts: a job that keeps failing restarts in a tight loop forever",
                                "give a delay or a number of attempts",
                            );
                        }
                        RestartStrategy::FixedDelay { attempts, delay }
                    }
                    "failure-rate" | "failurerate" => {
                        let max_failures = r
                            .max_failures
                            .as_ref()
                            .and_then(|m| {
                                self.count(m, "restart.max_failures", i64::from(u32::MAX))
                            })
                            .unwrap_or(1);
                        let interval = dur(
                            self,
                            &r.interval,
                            "restart.interval",
                            SimDuration::from_secs(60),
                        );
                        let delay = dur(self, &r.delay, "restart.delay", SimDuration::from_secs(1));
                        RestartStrategy::FailureRate {
                            max_failures,
                            interval,
                            delay,
                        }
                    }
                    "exponential-delay" | "exponentialdelay" => {
                        let d = default_exponential(old);
                        let RestartStrategy::ExponentialDelay {
                            initial_delay,
                            max_delay,
                            multiplier,
                            reset_threshold,
                            jitter,
                        } = d
                        else {
                            unreachable!("default_exponential gives exponential-delay")
                        };
                        let initial_delay = dur(
                            self,
                            &r.initial_delay,
                            "restart.initial_delay",
                            initial_delay,
                        );
                        let max_delay = dur(self, &r.max_delay, "restart.max_delay", max_delay);
                        let reset_threshold = dur(
                            self,
                            &r.reset_threshold,
                            "restart.reset_threshold",
                            reset_threshold,
                        );
                        let multiplier = match &r.multiplier {
                            Some(m) if m.get_ref().get() <= 1.0 => {
                                self.error(
                                    Some(m.span()),
                                    "restart.multiplier must be greater than 1",
                                    "",
                                );
                                multiplier
                            }
                            Some(m) => m.get_ref().get(),
                            None => multiplier,
                        };
                        let jitter = match &r.jitter {
                            Some(j) if !(0.0..=1.0).contains(&j.get_ref().get()) => {
                                self.error(
                                    Some(j.span()),
                                    "restart.jitter must be between 0 and 1",
                                    "",
                                );
                                jitter
                            }
                            Some(j) => j.get_ref().get(),
                            None => jitter,
                        };
                        RestartStrategy::ExponentialDelay {
                            initial_delay,
                            max_delay,
                            multiplier,
                            reset_threshold,
                            jitter,
                        }
                    }
                    other => {
                        self.error(
                            Some(n.span()),
                            format!("unknown restart strategy `{other}`"),
                            "expected none, fixed-delay, failure-rate or exponential-delay",
                        );
                        RestartStrategy::None
                    }
                }
            }
            (Some(_), None) => RestartStrategy::None,
        };
        RestartConfig {
            strategy,
            explicit: named.is_some(),
            failover,
            flink_version: version,
        }
    }

    fn fault(
        &mut self,
        raw: &TSpanned<RawFault>,
        nodes: &[NodeDef],
        cluster: &Cluster,
        cp: Option<&CheckpointConfig>,
    ) -> Option<Fault> {
        let span = raw.span();
        let r = raw.get_ref();
        let at = match (&r.at, &r.after) {
            (Some(a), None) => FaultTime::At(SimTime::ZERO.plus(self.duration(a, "fault.at")?)),
            (None, Some(a)) => {
                let Some(ft) = parse_phase(a.get_ref()) else {
                    self.error(
                        Some(a.span()),
                        format!("cannot read `{}` as a checkpoint phase", a.get_ref()),
                        "write \"trigger of checkpoint 3\", \"pre-commit of checkpoint 3\" or \"completion of checkpoint 3\"",
                    );
                    return None;
                };
                if cp.is_none() {
                    self.error(
                        Some(a.span()),
                        "this fault waits for a checkpoint, but checkpointing is off",
                        "add a [checkpointing] table with an interval, or use at = \"<time>\"",
                    );
                    return None;
                }
                ft
            }
            (Some(_), Some(a)) => {
                self.error(
                    Some(a.span()),
                    "a fault takes `at` or `after`, not both",
                    "",
                );
                return None;
            }
            (None, None) => {
                self.error(
                    Some(r.kind.span()),
                    "a fault needs a time: at = \"12 s\" or after = \"pre-commit of checkpoint 3\"",
                    "",
                );
                return None;
            }
        };
        let kind = r.kind.get_ref().to_ascii_lowercase().replace('-', "_");
        let kind = match kind.as_str() {
            "kill_subtask" => {
                let (node, subtask) = self.fault_subtask(r, raw.span(), nodes)?;
                FaultKind::KillSubtask { node, subtask }
            }
            "kill_task_manager" => {
                let tm = self.fault_tm(r.task_manager.as_ref(), r, cluster)?;
                let replacement_delay = match &r.replacement_delay {
                    Some(d) => self.duration(d, "fault.replacement_delay")?,
                    None => SimDuration::from_secs(10),
                };
                FaultKind::KillTaskManager {
                    tm,
                    replacement_delay,
                }
            }
            "job_manager" => FaultKind::JobManager {
                ha: r.ha.as_ref().is_some_and(|h| *h.get_ref()),
            },
            "network_delay" | "network_partition" => {
                let between = self.fault_between(r, cluster)?;
                let duration = self.fault_duration(r)?;
                if kind == "network_delay" {
                    let Some(e) = &r.extra else {
                        self.error(
                            Some(r.kind.span()),
                            "a network_delay needs `extra`",
                            "extra = \"200 ms\"",
                        );
                        return None;
                    };
                    FaultKind::NetworkDelay {
                        between,
                        extra: self.duration(e, "fault.extra")?,
                        duration,
                    }
                } else {
                    FaultKind::NetworkPartition { between, duration }
                }
            }
            "straggler" => {
                let (node, subtask) = self.fault_subtask(r, raw.span(), nodes)?;
                let duration = self.fault_duration(r)?;
                let factor = match &r.factor {
                    Some(f) if f.get_ref().get() < 1.0 || !f.get_ref().get().is_finite() => {
                        self.error(
                            Some(f.span()),
                            "a straggler's factor must be at least 1",
                            "factor = 5 runs five times slower",
                        );
                        return None;
                    }
                    Some(f) => f.get_ref().get(),
                    None => {
                        self.error(
                            Some(r.kind.span()),
                            "a straggler needs a `factor`",
                            "factor = 5",
                        );
                        return None;
                    }
                };
                FaultKind::Straggler {
                    node,
                    subtask,
                    factor,
                    duration,
                }
            }
            "storage_failure" => FaultKind::StorageFailure {
                duration: self.fault_duration(r)?,
            },
            other => {
                self.error(
                    Some(r.kind.span()),
                    format!("unknown fault kind `{other}`"),
                    "expected kill_subtask, kill_task_manager, job_manager, network_delay, network_partition, straggler or storage_failure",
                );
                return None;
            }
        };
        Some(Fault { at, kind, span })
    }

    fn fault_subtask(
        &mut self,
        r: &RawFault,
        span: Range<usize>,
        nodes: &[NodeDef],
    ) -> Option<(usize, u32)> {
        let Some(op) = &r.operator else {
            self.error(
                Some(span),
                "this fault needs the `operator` it hits",
                "operator = \"<name>\"",
            );
            return None;
        };
        let runnable: Vec<&str> = nodes
            .iter()
            .filter(|n| !n.is_virtual())
            .map(|n| n.name.as_str())
            .collect();
        let Some(node) = nodes
            .iter()
            .position(|n| n.name == *op.get_ref() && !n.is_virtual())
        else {
            self.error(
                Some(op.span()),
                format!("unknown operator `{}` in a fault", op.get_ref()),
                format!("known operators: {}", runnable.join(", ")),
            );
            return None;
        };
        let subtask = r.subtask.as_ref().map_or(0, |s| *s.get_ref());
        let par = nodes[node]
            .parallelism
            .as_ref()
            .map_or(self.job_parallelism, |p| p.value);
        if subtask < 0 || subtask >= i64::from(par) {
            self.error(
                r.subtask.as_ref().map(|s| s.span()),
                format!(
                    "operator `{}` has no subtask {subtask}: its parallelism is {par}",
                    op.get_ref()
                ),
                format!("subtasks are numbered 0 to {}", par - 1),
            );
            return None;
        }
        Some((node, subtask as u32))
    }

    fn fault_tm(
        &mut self,
        v: Option<&TSpanned<i64>>,
        r: &RawFault,
        cluster: &Cluster,
    ) -> Option<u32> {
        let Some(v) = v else {
            self.error(
                Some(r.kind.span()),
                "this fault needs the `task_manager` it hits",
                "task_manager = 0",
            );
            return None;
        };
        self.tm_index(*v.get_ref(), v.span(), cluster)
    }

    fn tm_index(&mut self, n: i64, span: Range<usize>, cluster: &Cluster) -> Option<u32> {
        if n < 0 || n >= i64::from(cluster.task_managers) {
            self.error(
                Some(span),
                format!(
                    "there is no TaskManager {n}: the cluster has {} (numbered 0 to {})",
                    cluster.task_managers,
                    cluster.task_managers - 1
                ),
                "",
            );
            return None;
        }
        Some(n as u32)
    }

    fn fault_between(&mut self, r: &RawFault, cluster: &Cluster) -> Option<(u32, u32)> {
        let Some(b) = &r.between else {
            self.error(
                Some(r.kind.span()),
                "this fault needs `between`: two TaskManagers",
                "between = [0, 1]",
            );
            return None;
        };
        let v = b.get_ref();
        if v.len() != 2 || v[0] == v[1] {
            self.error(
                Some(b.span()),
                "`between` names two different TaskManagers",
                "between = [0, 1]",
            );
            return None;
        }
        let a = self.tm_index(v[0], b.span(), cluster)?;
        let c = self.tm_index(v[1], b.span(), cluster)?;
        Some((a.min(c), a.max(c)))
    }

    fn fault_duration(&mut self, r: &RawFault) -> Option<SimDuration> {
        let Some(d) = &r.duration else {
            self.error(
                Some(r.kind.span()),
                "this fault needs a `duration`",
                "duration = \"5 s\"",
            );
            return None;
        };
        let d = self.duration(d, "fault.duration")?;
        Some(d)
    }
}

/// When every source has produced its last record, if that is known before running: every
/// source is bounded and paced (a `duration`, or a `count` or rows at a `rate`).
pub(crate) fn input_end(nodes: &[NodeDef]) -> Option<SimTime> {
    let mut end = SimTime::ZERO;
    for n in nodes {
        let NodeKind::Source(src) = &n.kind else {
            continue;
        };
        let d = match (&src.data, src.rate) {
            (
                SourceData::Generator {
                    duration: Some(d), ..
                },
                _,
            ) => *d,
            (SourceData::Generator { count: Some(c), .. }, Some(r)) => {
                SimDuration((*c as f64 / r * 1e9) as u64)
            }
            (
                SourceData::Rows {
                    rows,
                    repeat,
                    open_for: None,
                    ..
                },
                Some(r),
            ) => SimDuration(((rows.len() as u64 * repeat) as f64 / r * 1e9) as u64),
            _ => return None,
        };
        end = end.max(SimTime::ZERO.plus(d));
    }
    Some(end)
}

/// The Flink ≥ 1.19 (or ≤ 1.18) defaults of exponential-delay restarts.
fn default_exponential(old: bool) -> RestartStrategy {
    RestartStrategy::ExponentialDelay {
        initial_delay: SimDuration::from_secs(1),
        max_delay: SimDuration::from_secs(if old { 300 } else { 60 }),
        multiplier: if old { 2.0 } else { 1.5 },
        reset_threshold: SimDuration::from_secs(3600),
        jitter: 0.1,
    }
}

/// "pre-commit of checkpoint 3" → the phase and the checkpoint id.
fn parse_phase(text: &str) -> Option<FaultTime> {
    let t = text.trim().to_ascii_lowercase();
    let (phase, rest) = t.split_once(" of checkpoint ")?;
    let id: u64 = rest.trim().parse().ok().filter(|n| *n >= 1)?;
    let phase = match phase.trim() {
        "trigger" => CheckpointPhase::Trigger,
        "pre-commit" | "precommit" | "pre_commit" => CheckpointPhase::PreCommit,
        "completion" | "complete" => CheckpointPhase::Completion,
        _ => return None,
    };
    Some(FaultTime::After(phase, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_phases_are_read_from_plain_words() {
        assert_eq!(
            parse_phase("pre-commit of checkpoint 3"),
            Some(FaultTime::After(CheckpointPhase::PreCommit, 3))
        );
        assert_eq!(
            parse_phase("Completion of checkpoint 12"),
            Some(FaultTime::After(CheckpointPhase::Completion, 12))
        );
        assert_eq!(parse_phase("commit of checkpoint 3"), None);
        assert_eq!(parse_phase("trigger of checkpoint 0"), None);
    }

    #[test]
    fn exponential_defaults_changed_in_flink_1_19() {
        let RestartStrategy::ExponentialDelay {
            max_delay,
            multiplier,
            ..
        } = default_exponential(false)
        else {
            panic!()
        };
        assert_eq!((max_delay, multiplier), (SimDuration::from_secs(60), 1.5));
        let RestartStrategy::ExponentialDelay {
            max_delay,
            multiplier,
            ..
        } = default_exponential(true)
        else {
            panic!()
        };
        assert_eq!((max_delay, multiplier), (SimDuration::from_secs(300), 2.0));
    }
}
