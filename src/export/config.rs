//! Job-wide settings as Flink configuration entries: checkpointing, restart strategy, and the
//! local MiniCluster's TaskManagers and slots (the scenario's `[cluster]`).

use streamlab_engine::core::cost::BufferTimeout;
use streamlab_engine::flink::restart::RestartStrategy;
use streamlab_engine::scenario::model::Scenario;
use streamlab_engine::scenario::recovery::{CheckpointMode, Failover};

fn ms(d: streamlab_engine::core::time::SimDuration) -> String {
    format!("{} ms", d.as_millis())
}

/// `(key, value)` entries of Flink's `Configuration`, in a fixed order.
pub fn entries(s: &Scenario) -> Vec<(String, String)> {
    let mut c: Vec<(String, String)> = Vec::new();
    let mut put = |k: &str, v: String| c.push((k.to_string(), v));
    put(
        "taskmanager.numberOfTaskSlots",
        s.cluster.slots_per_tm.to_string(),
    );
    put(
        "local.number-taskmanager",
        s.cluster.task_managers.to_string(),
    );
    put(
        "pipeline.auto-watermark-interval",
        ms(s.job.auto_watermark_interval),
    );
    match s.job.buffer_timeout {
        BufferTimeout::Interval(d) => put("execution.buffer-timeout.interval", ms(d)),
        BufferTimeout::Off => put("execution.buffer-timeout.enabled", "false".into()),
    }
    if !s.job.chaining {
        put("pipeline.operator-chaining.enabled", "false".into());
    }
    let ft = &s.fault_tolerance;
    if let Some(cp) = &ft.checkpointing {
        put("execution.checkpointing.interval", ms(cp.interval));
        put(
            "execution.checkpointing.mode",
            match cp.mode {
                CheckpointMode::ExactlyOnce => "EXACTLY_ONCE".into(),
                CheckpointMode::AtLeastOnce => "AT_LEAST_ONCE".into(),
            },
        );
        put("execution.checkpointing.timeout", ms(cp.timeout));
        put("execution.checkpointing.min-pause", ms(cp.min_pause));
        put(
            "execution.checkpointing.max-concurrent-checkpoints",
            cp.max_concurrent.to_string(),
        );
        put(
            "execution.checkpointing.tolerable-failed-checkpoints",
            cp.tolerable_failures.to_string(),
        );
        put(
            "execution.checkpointing.unaligned.enabled",
            cp.unaligned.to_string(),
        );
        if cp.unaligned {
            put(
                "execution.checkpointing.aligned-checkpoint-timeout",
                ms(cp.aligned_timeout),
            );
        }
        put(
            "execution.checkpointing.num-retained",
            cp.retained.to_string(),
        );
    }
    if ft.restart.explicit {
        match ft.restart.strategy {
            RestartStrategy::None => put("restart-strategy.type", "none".into()),
            RestartStrategy::FixedDelay { attempts, delay } => {
                put("restart-strategy.type", "fixed-delay".into());
                put(
                    "restart-strategy.fixed-delay.attempts",
                    attempts.map_or(i32::MAX.to_string(), |a| a.to_string()),
                );
                put("restart-strategy.fixed-delay.delay", ms(delay));
            }
            RestartStrategy::FailureRate {
                max_failures,
                interval,
                delay,
            } => {
                put("restart-strategy.type", "failure-rate".into());
                put(
                    "restart-strategy.failure-rate.max-failures-per-interval",
                    max_failures.to_string(),
                );
                put(
                    "restart-strategy.failure-rate.failure-rate-interval",
                    ms(interval),
                );
                put("restart-strategy.failure-rate.delay", ms(delay));
            }
            RestartStrategy::ExponentialDelay {
                initial_delay,
                max_delay,
                multiplier,
                reset_threshold,
                ..
            } => {
                put("restart-strategy.type", "exponential-delay".into());
                put(
                    "restart-strategy.exponential-delay.initial-backoff",
                    ms(initial_delay),
                );
                put(
                    "restart-strategy.exponential-delay.max-backoff",
                    ms(max_delay),
                );
                put(
                    "restart-strategy.exponential-delay.backoff-multiplier",
                    format!("{multiplier:?}"),
                );
                put(
                    "restart-strategy.exponential-delay.reset-backoff-threshold",
                    ms(reset_threshold),
                );
            }
        }
    }
    put(
        "jobmanager.execution.failover-strategy",
        match ft.restart.failover {
            Failover::Region => "region".into(),
            Failover::Full => "full".into(),
        },
    );
    c
}
