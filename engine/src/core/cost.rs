//! The cost model: the only way simulated time advances.
//!
//! Every figure of a run's cost model lives here; its default is in [`defaults`], which
//! names the Flink option it mirrors. Where Flink has a setting, the default is Flink's; the
//! CPU costs are streamlab's own calibration (Flink has no such setting — they stand for the
//! work a real operator does per record) and can be overridden per scenario in `[cost]` or
//! per operator with `cost = "…"`.

use crate::core::defaults;
use crate::core::time::SimDuration;
use serde::Serialize;

/// All costs of a run. Each field's default is the [`defaults`] constant it names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostModel {
    /// CPU time a source spends producing one record (reading and deserializing it).
    /// [`defaults::cost::SOURCE_RECORD`].
    pub source_record: SimDuration,
    /// CPU time of a stateless operator (map, filter, flat_map) per input record.
    /// [`defaults::cost::OPERATOR_RECORD`].
    pub operator_record: SimDuration,
    /// CPU time of a keyed, stateful operator (reduce) per input record: the state lookup.
    /// [`defaults::cost::KEYED_RECORD`].
    pub keyed_record: SimDuration,
    /// CPU time of a sink per record. [`defaults::cost::SINK_RECORD`].
    pub sink_record: SimDuration,
    /// CPU time to serialize one record into a network buffer, per network hop. Zero inside a
    /// chain — which is exactly the saving chaining buys. [`defaults::cost::SERIALIZE_RECORD`].
    pub serialize_record: SimDuration,
    /// CPU time to deserialize one record out of a network buffer.
    /// [`defaults::cost::DESERIALIZE_RECORD`].
    pub deserialize_record: SimDuration,
    /// Latency of a channel between subtasks on the same TaskManager (an in-memory hand-over
    /// between threads). [`defaults::cost::LOCAL_CHANNEL_LATENCY`].
    pub local_channel_latency: SimDuration,
    /// Latency of a channel between TaskManagers. [`defaults::cost::REMOTE_CHANNEL_LATENCY`].
    pub remote_channel_latency: SimDuration,
    /// Bytes per second a remote channel carries.
    /// [`defaults::cost::NETWORK_BANDWIDTH_BYTES_PER_S`].
    pub network_bandwidth_bytes_per_s: u64,
    /// Size of a network buffer (memory segment), Flink's `taskmanager.memory.segment-size`.
    /// [`defaults::network::SEGMENT_SIZE_BYTES`].
    pub buffer_size_bytes: u32,
    /// Exclusive buffers per input channel = initial credits, Flink's
    /// `taskmanager.network.memory.buffers-per-channel`.
    /// [`defaults::network::BUFFERS_PER_CHANNEL`].
    pub exclusive_buffers_per_channel: u32,
    /// Floating buffers shared by the channels of one input gate, Flink's
    /// `taskmanager.network.memory.floating-buffers-per-gate`.
    /// [`defaults::network::FLOATING_BUFFERS_PER_GATE`].
    pub floating_buffers_per_gate: u32,
    /// Extra buffers a task may take beyond its output pool while it finishes the input it
    /// is processing, Flink's `taskmanager.network.memory.max-overdraft-buffers-per-gate`.
    /// [`defaults::network::MAX_OVERDRAFT_BUFFERS_PER_GATE`].
    pub max_overdraft_buffers: u32,
    /// How often the JobManager asks each TaskManager for a heartbeat, Flink's
    /// `heartbeat.interval`. [`defaults::cluster::HEARTBEAT_INTERVAL`].
    pub heartbeat_interval: SimDuration,
    /// How long without a heartbeat before the JobManager declares a TaskManager lost and
    /// fails over its tasks, Flink's `heartbeat.timeout`.
    /// [`defaults::cluster::HEARTBEAT_TIMEOUT`].
    pub heartbeat_timeout: SimDuration,
}

impl Default for CostModel {
    /// Every figure from [`defaults`].
    fn default() -> Self {
        CostModel {
            source_record: defaults::cost::SOURCE_RECORD,
            operator_record: defaults::cost::OPERATOR_RECORD,
            keyed_record: defaults::cost::KEYED_RECORD,
            sink_record: defaults::cost::SINK_RECORD,
            serialize_record: defaults::cost::SERIALIZE_RECORD,
            deserialize_record: defaults::cost::DESERIALIZE_RECORD,
            local_channel_latency: defaults::cost::LOCAL_CHANNEL_LATENCY,
            remote_channel_latency: defaults::cost::REMOTE_CHANNEL_LATENCY,
            network_bandwidth_bytes_per_s: defaults::cost::NETWORK_BANDWIDTH_BYTES_PER_S,
            buffer_size_bytes: defaults::network::SEGMENT_SIZE_BYTES,
            exclusive_buffers_per_channel: defaults::network::BUFFERS_PER_CHANNEL,
            floating_buffers_per_gate: defaults::network::FLOATING_BUFFERS_PER_GATE,
            max_overdraft_buffers: defaults::network::MAX_OVERDRAFT_BUFFERS_PER_GATE,
            heartbeat_interval: defaults::cluster::HEARTBEAT_INTERVAL,
            heartbeat_timeout: defaults::cluster::HEARTBEAT_TIMEOUT,
        }
    }
}

impl CostModel {
    /// Time to push `bytes` through a remote channel.
    pub fn transfer_time(&self, bytes: u32) -> SimDuration {
        let bw = self.network_bandwidth_bytes_per_s.max(1);
        SimDuration::from_nanos((u64::from(bytes) * 1_000_000_000).div_ceil(bw))
    }
}

/// Flink's `execution.buffer-timeout.interval`: how long a partly filled output buffer may
/// wait before it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BufferTimeout {
    /// Flush partly filled buffers at this interval; zero flushes after every record.
    /// Default [`defaults::network::BUFFER_TIMEOUT`].
    Interval(SimDuration),
    /// Never flush early: buffers go out only when full (or at end of input). Flink: -1.
    Off,
}

impl Default for BufferTimeout {
    fn default() -> Self {
        BufferTimeout::Interval(defaults::network::BUFFER_TIMEOUT)
    }
}

/// Hard limits of a run; exceeding one stops the run with a clear error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Longest simulated time. [`defaults::limits::MAX_SIM_TIME`].
    pub max_sim_time: SimDuration,
    /// Most queue events processed. [`defaults::limits::MAX_EVENTS`].
    pub max_events: u64,
    /// Most records all sources together produce. [`defaults::limits::MAX_RECORDS`].
    pub max_records: u64,
    /// Most memory the run may take by the simulator's estimate (operator state, network
    /// buffers, channels and tasks), in bytes. [`defaults::limits::MAX_MEMORY_BYTES`].
    pub max_memory: u64,
}

impl Limits {
    /// Default of [`Limits::max_records`].
    pub const DEFAULT_MAX_RECORDS: u64 = defaults::limits::MAX_RECORDS;
    /// Default of [`Limits::max_memory`].
    pub const DEFAULT_MAX_MEMORY: u64 = defaults::limits::MAX_MEMORY_BYTES;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_sim_time: defaults::limits::MAX_SIM_TIME,
            max_events: defaults::limits::MAX_EVENTS,
            max_records: Self::DEFAULT_MAX_RECORDS,
            max_memory: Self::DEFAULT_MAX_MEMORY,
        }
    }
}

/// Memory the simulator takes for a task beyond its state and buffers (operator objects,
/// queues, statistics): an estimate for `[limits] max_memory`.
pub const TASK_MEMORY_BYTES: u64 = 4 << 10;

/// Memory the simulator takes for a network channel beyond its buffers: an estimate for
/// `[limits] max_memory`.
pub const CHANNEL_MEMORY_BYTES: u64 = 512;

/// A byte count for people: `512 bytes`, `3.2 MiB`, `4 GiB`.
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if b < 1024 {
        return format!("{b} bytes");
    }
    let mut v = b as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if (v - v.round()).abs() < 0.05 {
        format!("{} {}", v.round(), UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_buffer_takes_26_microseconds_at_10_gbit() {
        let c = CostModel::default();
        assert_eq!(c.transfer_time(32 * 1024), SimDuration::from_nanos(26_215));
    }

    #[test]
    fn byte_counts_read_like_a_person_writes_them() {
        assert_eq!(human_bytes(512), "512 bytes");
        assert_eq!(human_bytes(4 << 30), "4 GiB");
        assert_eq!(human_bytes(3 * (1 << 20) + (1 << 19)), "3.5 MiB");
    }

    #[test]
    fn flink_defaults_are_kept() {
        let c = CostModel::default();
        assert_eq!(c.buffer_size_bytes, 32_768);
        assert_eq!(
            (c.exclusive_buffers_per_channel, c.floating_buffers_per_gate),
            (2, 8)
        );
        assert_eq!(
            BufferTimeout::default(),
            BufferTimeout::Interval(SimDuration::from_millis(100))
        );
    }
}
