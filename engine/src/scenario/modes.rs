//! The optional `[modes]` table: settings of the baseline execution models (micro-batch,
//! batch, acking) that `streamlab compare` runs beside streaming. Streaming ignores it.
//!
//! ```toml
//! [modes.micro_batch]
//! trigger = "1 s"            # "0 s" = as fast as possible (Spark's default trigger)
//! variant = "structured"     # or "dstream": fixed batch interval, batches even when empty
//! output_mode = "append"     # append | update | complete
//! overhead = "20 ms"         # planning and scheduling cost of every batch
//!
//! [modes.acking]
//! message_timeout = "30 s"   # Storm's topology.message.timeout.secs
//! ack_cost = "200 ns"        # CPU time of the acker per tuple
//! ```
//!
//! Failures come from the scenario's `[[fault]]` tables (see [`crate::modes::faults`]).

use crate::core::time::SimDuration;

/// Which Spark API the micro-batch model follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MicroBatchVariant {
    /// Structured Streaming: a trigger interval (or none: as fast as possible), no batch
    /// without data (except one to move the watermark), event-time watermarks.
    Structured,
    /// DStream: a batch every interval whether or not data arrived; the records received in
    /// one interval form one batch, and batches queue up if processing falls behind.
    Dstream,
}

/// What a micro-batch hands to its sinks at the end of every batch (Spark's output modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    /// Every record the operators emitted in the batch (window results once final).
    Append,
    /// Per sink key, only the latest record the batch produced for it (an `upsert` sink's key;
    /// other sinks behave as in append).
    Update,
    /// The whole result table at every batch end: every key's latest record (needs an
    /// `upsert` sink; other sinks behave as in append).
    Complete,
}

impl OutputMode {
    /// The name used in files and reports.
    pub fn name(self) -> &'static str {
        match self {
            OutputMode::Append => "append",
            OutputMode::Update => "update",
            OutputMode::Complete => "complete",
        }
    }
}

/// `[modes.micro_batch]`
#[derive(Debug, Clone, PartialEq)]
pub struct MicroBatchSettings {
    /// Trigger (Structured) or batch interval (DStream); zero: as fast as possible.
    pub trigger: SimDuration,
    /// Structured Streaming or DStream.
    pub variant: MicroBatchVariant,
    /// Spark's output mode.
    pub output_mode: OutputMode,
    /// Fixed cost of every batch (planning, scheduling the stages, committing the offsets).
    /// streamlab default: 20 ms.
    pub overhead: SimDuration,
}

impl Default for MicroBatchSettings {
    fn default() -> Self {
        MicroBatchSettings {
            trigger: crate::core::defaults::baselines::MICRO_BATCH_TRIGGER,
            variant: MicroBatchVariant::Structured,
            output_mode: OutputMode::Append,
            overhead: crate::core::defaults::baselines::MICRO_BATCH_OVERHEAD,
        }
    }
}

/// `[modes.acking]`
#[derive(Debug, Clone, PartialEq)]
pub struct AckingSettings {
    /// A spout tuple whose tree is not fully acked this long after it was emitted fails and
    /// is replayed. Storm: `topology.message.timeout.secs`, default 30 s.
    pub message_timeout: SimDuration,
    /// CPU time the acker spends per tuple (an XOR of the tuple id into its tree's ack value).
    /// streamlab default: 200 ns.
    pub ack_cost: SimDuration,
}

impl Default for AckingSettings {
    fn default() -> Self {
        AckingSettings {
            message_timeout: crate::core::defaults::baselines::STORM_MESSAGE_TIMEOUT,
            ack_cost: crate::core::defaults::baselines::STORM_ACK_COST,
        }
    }
}

/// `[modes]`
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModeSettings {
    /// `[modes.micro_batch]`
    pub micro_batch: MicroBatchSettings,
    /// `[modes.acking]`
    pub acking: AckingSettings,
}
