//! Every default of the cost model and of the settings streamlab models, in one place
//! (DESIGN §5).
//!
//! Where Flink (or, for the baseline modes, Spark or Storm) has an option, the constant is that
//! system's default and its doc comment names the option. The others are streamlab's own
//! calibration and say so: Flink has no such setting, they stand for work or waiting a real
//! cluster does. Each names the scenario-file key that overrides it, where there is one.
//! The rest of the engine refers to these constants instead of writing the figures again.

use super::time::SimDuration;

/// Per-record CPU costs, channel latencies and bandwidth — streamlab's own calibration
/// (`[cost]`; per operator `cost = "…"`).
pub mod cost {
    use super::SimDuration;

    /// CPU time a source spends producing one record (reading and deserializing it).
    /// streamlab: 400 ns. `[cost] source_record`.
    pub const SOURCE_RECORD: SimDuration = SimDuration::from_nanos(400);
    /// CPU time of a stateless operator (map, filter, flat_map) per input record.
    /// streamlab: 150 ns. `[cost] operator_record`.
    pub const OPERATOR_RECORD: SimDuration = SimDuration::from_nanos(150);
    /// CPU time of a keyed, stateful operator per input record (the state lookup).
    /// streamlab: 300 ns. `[cost] keyed_record`.
    pub const KEYED_RECORD: SimDuration = SimDuration::from_nanos(300);
    /// CPU time of a sink per record. streamlab: 200 ns. `[cost] sink_record`.
    pub const SINK_RECORD: SimDuration = SimDuration::from_nanos(200);
    /// CPU time to serialize one record into a network buffer, per network hop (zero inside
    /// a chain). streamlab: 100 ns. `[cost] serialize_record`.
    pub const SERIALIZE_RECORD: SimDuration = SimDuration::from_nanos(100);
    /// CPU time to deserialize one record out of a network buffer. streamlab: 100 ns.
    /// `[cost] deserialize_record`.
    pub const DESERIALIZE_RECORD: SimDuration = SimDuration::from_nanos(100);
    /// Latency of a channel between subtasks of one TaskManager (a hand-over between
    /// threads). streamlab: 5 µs. `[cost] local_channel_latency`.
    pub const LOCAL_CHANNEL_LATENCY: SimDuration = SimDuration::from_micros(5);
    /// Latency of a channel between TaskManagers (a round trip in a data centre).
    /// streamlab: 200 µs. `[cost] remote_channel_latency`.
    pub const REMOTE_CHANNEL_LATENCY: SimDuration = SimDuration::from_micros(200);
    /// Bytes per second a remote channel carries. streamlab: 10 Gbit/s.
    /// `[cost] network_bandwidth`.
    pub const NETWORK_BANDWIDTH_BYTES_PER_S: u64 = 1_250_000_000;
}

/// The network stack: buffers, credits and flushing (Flink options).
pub mod network {
    use super::SimDuration;

    /// Size of a network buffer (memory segment). Flink: `taskmanager.memory.segment-size`,
    /// 32 KiB. `[cost] buffer_size`.
    pub const SEGMENT_SIZE_BYTES: u32 = 32 * 1024;
    /// Exclusive buffers per input channel, the initial credits. Flink:
    /// `taskmanager.network.memory.buffers-per-channel`, 2.
    /// `[cost] exclusive_buffers_per_channel`.
    pub const BUFFERS_PER_CHANNEL: u32 = 2;
    /// Floating buffers shared by the channels of one gate. Flink:
    /// `taskmanager.network.memory.floating-buffers-per-gate`, 8.
    /// `[cost] floating_buffers_per_gate`.
    pub const FLOATING_BUFFERS_PER_GATE: u32 = 8;
    /// Buffers a task may take beyond its pool while it finishes the input in hand. Flink:
    /// `taskmanager.network.memory.max-overdraft-buffers-per-gate`, 5.
    /// `[cost] max_overdraft_buffers`.
    pub const MAX_OVERDRAFT_BUFFERS_PER_GATE: u32 = 5;
    /// How long a partly filled output buffer may wait before it is sent. Flink:
    /// `execution.buffer-timeout.interval`, 100 ms. `[job] buffer_timeout`.
    pub const BUFFER_TIMEOUT: SimDuration = SimDuration::from_millis(100);
}

/// The cluster and the job's shape.
pub mod cluster {
    use super::SimDuration;

    /// TaskManagers in the cluster. streamlab: 1. `[cluster] task_managers`.
    pub const TASK_MANAGERS: u32 = 1;
    /// Slots per TaskManager. Flink: `taskmanager.numberOfTaskSlots`, 1.
    /// `[cluster] slots_per_task_manager`.
    pub const SLOTS_PER_TASK_MANAGER: u32 = 1;
    /// Parallelism of an operator that sets none. Flink: `parallelism.default`, 1.
    /// `[job] parallelism`.
    pub const PARALLELISM: u32 = 1;
    /// How often the JobManager asks each TaskManager for a heartbeat. Flink:
    /// `heartbeat.interval`, 10 s. `[cost] heartbeat_interval`.
    pub const HEARTBEAT_INTERVAL: SimDuration = SimDuration::from_secs(10);
    /// How long without a heartbeat before a TaskManager is declared lost. Flink:
    /// `heartbeat.timeout`, 50 s. `[cost] heartbeat_timeout`.
    pub const HEARTBEAT_TIMEOUT: SimDuration = SimDuration::from_secs(50);
    /// Time until a killed TaskManager's replacement has registered its slots (the
    /// resource manager starting a new container). streamlab: 10 s.
    /// `[[fault]] replacement_delay`.
    pub const TASK_MANAGER_REPLACEMENT_DELAY: SimDuration = SimDuration::from_secs(10);
}

/// Key groups (Flink's `KeyGroupRangeAssignment`).
pub mod keygroups {
    /// Lower bound of the default max parallelism (`DEFAULT_LOWER_BOUND_MAX_PARALLELISM`).
    pub const DEFAULT_LOWER_BOUND_MAX_PARALLELISM: u32 = 128;
    /// Upper bound of max parallelism (`UPPER_BOUND_MAX_PARALLELISM` = 2^15).
    pub const UPPER_BOUND_MAX_PARALLELISM: u32 = 32_768;
}

/// Watermarks.
pub mod watermarks {
    use super::SimDuration;

    /// How often periodic watermark generators emit. Flink:
    /// `pipeline.auto-watermark-interval`, 200 ms. `[job] auto_watermark_interval`.
    pub const AUTO_WATERMARK_INTERVAL: SimDuration = SimDuration::from_millis(200);
    /// How often watermark alignment compares the sources of a group. Flink: the
    /// `updateInterval` of `WatermarkStrategy.withWatermarkAlignment`, 1 s.
    pub const ALIGNMENT_UPDATE_INTERVAL: SimDuration = SimDuration::from_secs(1);
}

/// Transactions of two-phase-commit sinks, as Kafka runs them (`[[sink]]`
/// `transaction_timeout`, `transaction_max_timeout`). streamlab's own default is no timeout
/// at all (see `scenario::TransactionTimeout`).
pub mod transactions {
    use super::SimDuration;

    /// The broker's cap on a producer's transaction timeout. Kafka:
    /// `transaction.max.timeout.ms`, 900000 (15 min). `transaction_max_timeout`.
    pub const BROKER_MAX_TIMEOUT: SimDuration = SimDuration::from_secs(15 * 60);
    /// A commit after more than this share of the timeout is warned about. Flink:
    /// `TwoPhaseCommitSinkFunction.enableTransactionTimeoutWarnings(0.8)`, as the
    /// `FlinkKafkaProducer` sets it.
    pub const WARNING_RATIO: f64 = 0.8;
}

/// Checkpointing (`[checkpointing]`).
pub mod checkpointing {
    use super::SimDuration;

    /// The shortest checkpoint interval Flink accepts (`CheckpointCoordinatorConfiguration`):
    /// 10 ms.
    pub const MIN_INTERVAL: SimDuration = SimDuration::from_millis(10);
    /// How long a checkpoint may take before it is declared failed. Flink:
    /// `execution.checkpointing.timeout`, 10 min. `timeout`.
    pub const TIMEOUT: SimDuration = SimDuration::from_secs(600);
    /// Least time between the end of one checkpoint and the start of the next. Flink:
    /// `execution.checkpointing.min-pause`, 0. `min_pause`.
    pub const MIN_PAUSE: SimDuration = SimDuration::ZERO;
    /// Checkpoints in flight at once. Flink:
    /// `execution.checkpointing.max-concurrent-checkpoints`, 1. `max_concurrent`.
    pub const MAX_CONCURRENT: u32 = 1;
    /// Failed checkpoints tolerated before the job fails. Flink:
    /// `execution.checkpointing.tolerable-failed-checkpoints`, 0. `tolerable_failures`.
    pub const TOLERABLE_FAILURES: u32 = 0;
    /// How long an unaligned-capable barrier waits aligned before it switches to unaligned;
    /// 0: unaligned from the start. Flink:
    /// `execution.checkpointing.aligned-checkpoint-timeout`, 0. `aligned_timeout`.
    pub const ALIGNED_TIMEOUT: SimDuration = SimDuration::ZERO;
    /// Completed checkpoints kept. Flink: `execution.checkpointing.num-retained`
    /// (`state.checkpoints.num-retained` before 2.0), 1. `retained`.
    pub const NUM_RETAINED: u32 = 1;
    /// Bytes per second the checkpoint storage takes (the asynchronous upload).
    /// streamlab: 100 MiB/s. `storage_bandwidth`.
    pub const STORAGE_BANDWIDTH_BYTES_PER_S: u64 = 100 << 20;
    /// Latency of one write to the checkpoint storage. streamlab: 20 ms. `storage_latency`.
    pub const STORAGE_LATENCY: SimDuration = SimDuration::from_millis(20);
    /// Bytes per second a task copies its state at in the synchronous part of a snapshot.
    /// streamlab: 1 GB/s.
    pub const SYNC_COPY_BYTES_PER_S: f64 = 1e9;
    /// Time from a checkpoint's completion at the coordinator to the tasks' completion
    /// notification (when transactional sinks commit). streamlab: 1 ms.
    pub const NOTIFY_DELAY: SimDuration = SimDuration::from_millis(1);
}

/// Restart strategies (`[restart]`); Flink's `restart-strategy.*` options.
pub mod restart {
    use super::SimDuration;

    /// `restart-strategy.fixed-delay.attempts`: 1. `attempts`.
    pub const FIXED_DELAY_ATTEMPTS: u32 = 1;
    /// `restart-strategy.fixed-delay.delay`: 1 s; also the delay of Flink ≤ 1.18's default
    /// strategy with checkpointing (fixed delay, `Integer.MAX_VALUE` attempts). `delay`.
    pub const FIXED_DELAY_DELAY: SimDuration = SimDuration::from_secs(1);
    /// `restart-strategy.failure-rate.max-failures-per-interval`: 1. `max_failures`.
    pub const FAILURE_RATE_MAX_FAILURES: u32 = 1;
    /// `restart-strategy.failure-rate.failure-rate-interval`: 1 min. `interval`.
    pub const FAILURE_RATE_INTERVAL: SimDuration = SimDuration::from_secs(60);
    /// `restart-strategy.failure-rate.delay`: 1 s. `delay`.
    pub const FAILURE_RATE_DELAY: SimDuration = SimDuration::from_secs(1);
    /// `restart-strategy.exponential-delay.initial-backoff`: 1 s. `initial_delay`.
    pub const EXPONENTIAL_INITIAL_BACKOFF: SimDuration = SimDuration::from_secs(1);
    /// `restart-strategy.exponential-delay.max-backoff`: 1 min (Flink ≥ 1.19). `max_delay`.
    pub const EXPONENTIAL_MAX_BACKOFF: SimDuration = SimDuration::from_secs(60);
    /// `restart-strategy.exponential-delay.max-backoff` in Flink ≤ 1.18: 5 min.
    pub const EXPONENTIAL_MAX_BACKOFF_1_18: SimDuration = SimDuration::from_secs(300);
    /// `restart-strategy.exponential-delay.backoff-multiplier`: 1.5 (Flink ≥ 1.19).
    /// `multiplier`.
    pub const EXPONENTIAL_MULTIPLIER: f64 = 1.5;
    /// `restart-strategy.exponential-delay.backoff-multiplier` in Flink ≤ 1.18: 2.0.
    pub const EXPONENTIAL_MULTIPLIER_1_18: f64 = 2.0;
    /// `restart-strategy.exponential-delay.reset-backoff-threshold`: 1 h. `reset_threshold`.
    pub const EXPONENTIAL_RESET_THRESHOLD: SimDuration = SimDuration::from_secs(3600);
    /// `restart-strategy.exponential-delay.jitter-factor`: 0.1. `jitter`.
    pub const EXPONENTIAL_JITTER: f64 = 0.1;
}

/// Savepoints and rescaling (`[[savepoint]]`, `[rescale]`).
pub mod savepoint {
    use super::SimDuration;

    /// Time between the old job stopping with a savepoint and the new one being submitted.
    /// streamlab: 1 s. `[rescale] downtime`.
    pub const RESCALE_DOWNTIME: SimDuration = SimDuration::from_secs(1);
}

/// The baseline modes' own systems (`[modes.*]`).
pub mod baselines {
    use super::SimDuration;

    /// Trigger interval of a micro-batch run. streamlab: 1 s (Spark's own default trigger
    /// starts the next batch as soon as the last ends). `[modes.micro_batch] trigger`.
    pub const MICRO_BATCH_TRIGGER: SimDuration = SimDuration::from_secs(1);
    /// Fixed cost of every micro-batch (planning, scheduling the stages, committing the
    /// offsets). streamlab: 20 ms. `[modes.micro_batch] overhead`.
    pub const MICRO_BATCH_OVERHEAD: SimDuration = SimDuration::from_millis(20);
    /// A spout tuple not fully acked this long after it was emitted fails and is replayed.
    /// Storm: `topology.message.timeout.secs`, 30 s. `[modes.acking] message_timeout`.
    pub const STORM_MESSAGE_TIMEOUT: SimDuration = SimDuration::from_secs(30);
    /// CPU time the acker spends per tuple (an XOR into its tree's ack value).
    /// streamlab: 200 ns. `[modes.acking] ack_cost`.
    pub const STORM_ACK_COST: SimDuration = SimDuration::from_nanos(200);
    /// Messages an executor's receive queue holds before its senders block. Storm 2:
    /// `topology.executor.receive.buffer.size`, 32 768.
    pub const STORM_RECEIVE_BUFFER: u64 = 32_768;
}

/// Hard limits of a run (`[limits]`); exceeding one stops the run with a clear error.
pub mod limits {
    use super::SimDuration;

    /// Longest simulated time. streamlab: 24 h. `max_sim_time`.
    pub const MAX_SIM_TIME: SimDuration = SimDuration::from_secs(24 * 3600);
    /// Most queue events processed. streamlab: 500 million. `max_events`.
    pub const MAX_EVENTS: u64 = 500_000_000;
    /// Most records all sources together produce. streamlab: 50 million (the largest
    /// bundled scenario reads 10 million; 50 million take 1 to 15 s to simulate).
    /// `max_records`.
    pub const MAX_RECORDS: u64 = 50_000_000;
    /// Most memory the run may take by the simulator's estimate. streamlab: 4 GiB.
    /// `max_memory`.
    pub const MAX_MEMORY_BYTES: u64 = 4 << 30;
}

/// Random fault profiles (`[chaos]`).
pub mod chaos {
    use super::SimDuration;

    /// Mean time between two faults. streamlab: 20 s. `mean_interval`.
    pub const MEAN_INTERVAL: SimDuration = SimDuration::from_secs(20);
    /// Least time from the start, and between two faults. streamlab: 5 s. `min_stable`.
    pub const MIN_STABLE: SimDuration = SimDuration::from_secs(5);
}

/// Getting a job onto a cluster (`[deployment]`): the start-up steps and the JobManager's
/// high availability. Flink has no setting for most of these durations — they stand for
/// work a real cluster does (a JVM starting, a container being allocated, a pod being
/// scheduled) and are streamlab's assumptions from typical small clusters, not measurements
/// of one; the ones Flink configures name their option. Each is overridden by the
/// `[deployment]` key of the same name.
pub mod deployment {
    use super::SimDuration;

    /// The client (or, in application mode, the JobManager) runs the job's `main`: the JVM
    /// starts, the user code builds the StreamGraph and Flink translates it into the
    /// JobGraph. streamlab: 2 s (assumption: a JVM start plus a small job). `client_main`.
    pub const CLIENT_MAIN: SimDuration = SimDuration::from_secs(2);
    /// The client uploads the job's jars and the JobGraph (REST to the Dispatcher in a
    /// session; the staging directory of YARN in per-job). streamlab: 1 s (assumption: a
    /// 100 MB fat jar at about 100 MB/s). `upload`.
    pub const UPLOAD: SimDuration = SimDuration::from_secs(1);
    /// A JobManager process on a standalone host (a JVM started by a script). streamlab:
    /// 3 s (assumption). `jobmanager_start`.
    pub const JOBMANAGER_START_STANDALONE: SimDuration = SimDuration::from_secs(3);
    /// A JobManager container on YARN (the ApplicationMaster: container allocated,
    /// resources localized, JVM started). streamlab: 10 s (assumption). `jobmanager_start`.
    pub const JOBMANAGER_START_YARN: SimDuration = SimDuration::from_secs(10);
    /// A JobManager pod on Kubernetes (scheduled, image pulled or cached, JVM started).
    /// streamlab: 15 s (assumption). `jobmanager_start`.
    pub const JOBMANAGER_START_KUBERNETES: SimDuration = SimDuration::from_secs(15);
    /// The Dispatcher, the ResourceManager and the REST endpoint start inside the
    /// JobManager process. streamlab: 500 ms (assumption). `cluster_services`.
    pub const CLUSTER_SERVICES: SimDuration = SimDuration::from_millis(500);
    /// The Dispatcher creates the job's JobMaster, which builds the ExecutionGraph from the
    /// JobGraph. streamlab: 300 ms (assumption). `job_master`.
    pub const JOB_MASTER: SimDuration = SimDuration::from_millis(300);
    /// The JobMaster's slot requests reach the ResourceManager (one RPC round).
    /// streamlab: 20 ms (assumption). `slot_request`.
    pub const SLOT_REQUEST: SimDuration = SimDuration::from_millis(20);
    /// A TaskManager process on a standalone host. streamlab: 3 s (assumption).
    /// `task_manager_start`.
    pub const TASK_MANAGER_START_STANDALONE: SimDuration = SimDuration::from_secs(3);
    /// A TaskManager container on YARN. streamlab: 8 s (assumption). `task_manager_start`.
    pub const TASK_MANAGER_START_YARN: SimDuration = SimDuration::from_secs(8);
    /// A TaskManager pod on Kubernetes. streamlab: 10 s (assumption). `task_manager_start`.
    pub const TASK_MANAGER_START_KUBERNETES: SimDuration = SimDuration::from_secs(10);
    /// A TaskManager registers with the ResourceManager and reports its slots.
    /// streamlab: 100 ms (assumption). `task_manager_registration`.
    pub const TASK_MANAGER_REGISTRATION: SimDuration = SimDuration::from_millis(100);
    /// A TaskManager offers its slots to the JobMaster, which accepts them.
    /// streamlab: 50 ms (assumption). `slot_offer`.
    pub const SLOT_OFFER: SimDuration = SimDuration::from_millis(50);
    /// The JobMaster deploys the tasks (task deployment descriptors to the TaskManagers,
    /// tasks switch to RUNNING). streamlab: 200 ms (assumption). `task_deployment`.
    pub const TASK_DEPLOYMENT: SimDuration = SimDuration::from_millis(200);
    /// How long a ZooKeeper leader's session outlives it: the standby is elected after it.
    /// Flink: `high-availability.zookeeper.client.session-timeout`, 60 s. `ha_timeout`.
    pub const ZOOKEEPER_SESSION_TIMEOUT: SimDuration = SimDuration::from_secs(60);
    /// How long a Kubernetes leader's lease outlives it. Flink:
    /// `high-availability.kubernetes.leader-election.lease-duration`, 15 s. `ha_timeout`.
    pub const KUBERNETES_LEASE_DURATION: SimDuration = SimDuration::from_secs(15);
    /// How long the JobMaster waits for a slot before the job fails with
    /// `NoResourceAvailableException`. Flink: `slot.request.timeout`, 5 min.
    pub const SLOT_REQUEST_TIMEOUT: SimDuration = SimDuration::from_secs(5 * 60);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flink_defaults_as_flink_documents_them() {
        // (value, Flink's documented default)
        assert_eq!(network::SEGMENT_SIZE_BYTES, 32_768);
        assert_eq!(
            (
                network::BUFFERS_PER_CHANNEL,
                network::FLOATING_BUFFERS_PER_GATE,
                network::MAX_OVERDRAFT_BUFFERS_PER_GATE
            ),
            (2, 8, 5)
        );
        assert_eq!(network::BUFFER_TIMEOUT, SimDuration::from_millis(100));
        assert_eq!(
            watermarks::AUTO_WATERMARK_INTERVAL,
            SimDuration::from_millis(200)
        );
        assert_eq!(
            (cluster::HEARTBEAT_INTERVAL, cluster::HEARTBEAT_TIMEOUT),
            (SimDuration::from_secs(10), SimDuration::from_secs(50))
        );
        assert_eq!(checkpointing::TIMEOUT, SimDuration::from_secs(10 * 60));
        assert_eq!(checkpointing::ALIGNED_TIMEOUT, SimDuration::ZERO);
        assert_eq!(
            (
                checkpointing::MAX_CONCURRENT,
                checkpointing::TOLERABLE_FAILURES,
                checkpointing::NUM_RETAINED
            ),
            (1, 0, 1)
        );
        assert_eq!(
            (
                restart::EXPONENTIAL_MAX_BACKOFF,
                restart::EXPONENTIAL_MULTIPLIER,
                restart::EXPONENTIAL_JITTER
            ),
            (SimDuration::from_secs(60), 1.5, 0.1)
        );
        assert_eq!(keygroups::UPPER_BOUND_MAX_PARALLELISM, 1 << 15);
        assert_eq!(
            (
                deployment::ZOOKEEPER_SESSION_TIMEOUT,
                deployment::KUBERNETES_LEASE_DURATION,
                deployment::SLOT_REQUEST_TIMEOUT
            ),
            (
                SimDuration::from_secs(60),
                SimDuration::from_secs(15),
                SimDuration::from_secs(300)
            )
        );
    }
}
