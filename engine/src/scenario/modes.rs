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

use super::raw::RawModes;
use super::validate::Checker;
use crate::core::time::SimDuration;
use toml::Spanned as TSpanned;

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

impl Checker {
    /// Checks `[modes]`.
    pub(crate) fn modes(&mut self, raw: Option<&TSpanned<RawModes>>) -> ModeSettings {
        let mut m = ModeSettings::default();
        let Some(raw) = raw else { return m };
        let raw = raw.get_ref();
        if let Some(mb) = &raw.micro_batch {
            let mb = mb.get_ref();
            if let Some(v) = &mb.variant {
                match v.get_ref().as_str() {
                    "structured" => m.micro_batch.variant = MicroBatchVariant::Structured,
                    "dstream" => m.micro_batch.variant = MicroBatchVariant::Dstream,
                    other => self.error(
                        Some(v.span()),
                        format!("unknown micro-batch variant `{other}`"),
                        "valid: \"structured\" (Spark Structured Streaming), \"dstream\" (Spark Streaming's DStreams)",
                    ),
                }
            }
            if let Some(v) = &mb.output_mode {
                match v.get_ref().as_str() {
                    "append" => m.micro_batch.output_mode = OutputMode::Append,
                    "update" => m.micro_batch.output_mode = OutputMode::Update,
                    "complete" => m.micro_batch.output_mode = OutputMode::Complete,
                    other => self.error(
                        Some(v.span()),
                        format!("unknown output mode `{other}`"),
                        "valid: \"append\", \"update\", \"complete\"",
                    ),
                }
            }
            if let Some(v) = &mb.overhead
                && let Some(d) = self.duration(v, "modes.micro_batch.overhead")
            {
                m.micro_batch.overhead = d;
            }
            if let Some(v) = &mb.trigger
                && let Some(d) = self.duration(v, "modes.micro_batch.trigger")
            {
                m.micro_batch.trigger = d;
                if d == SimDuration::ZERO && m.micro_batch.variant == MicroBatchVariant::Dstream {
                    self.error(
                        Some(v.span()),
                        "a DStream batch interval of 0 is not possible: DStreams cut the input into batches of a fixed interval",
                        "give an interval such as \"1 s\" (Spark's guide suggests 1 to 10 s), or use variant = \"structured\" for as-fast-as-possible batches",
                    );
                }
            }
        }
        if let Some(a) = &raw.acking {
            let a = a.get_ref();
            if let Some(v) = &a.message_timeout
                && let Some(d) = self.duration(v, "modes.acking.message_timeout")
            {
                if d == SimDuration::ZERO {
                    self.error(
                        Some(v.span()),
                        "modes.acking.message_timeout must be more than 0",
                        "Storm's default is \"30 s\"",
                    );
                } else {
                    m.acking.message_timeout = d;
                }
            }
            if let Some(v) = &a.ack_cost
                && let Some(d) = self.duration(v, "modes.acking.ack_cost")
            {
                m.acking.ack_cost = d;
            }
        }
        m
    }
}
