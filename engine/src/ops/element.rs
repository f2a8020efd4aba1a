//! Stream elements: what flows through a chain besides a record's fields (Flink's
//! `StreamElement`: a `StreamRecord`'s timestamp, and the `Watermark`, `WatermarkStatus` and
//! `CheckpointBarrier` that travel in order with the records).
//!
//! Operators read and write [`RecMeta`]; the chain forwards [`Marker`]s along its outputs.
//! The kernel's network buffers carry both between subtasks.

use crate::core::time::{EventTime, SimTime};

/// What every record carries besides its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecMeta {
    /// Event-time timestamp ([`EventTime::MIN`] when the record has none).
    pub ts: EventTime,
    /// When the record was created at its source, in processing time: latency is measured
    /// from here to the moment a sink receives it.
    pub born: SimTime,
}

impl RecMeta {
    /// A record without an event-time timestamp.
    pub fn untimed(born: SimTime) -> Self {
        RecMeta {
            ts: EventTime::MIN,
            born,
        }
    }
}

/// A stream element that is not a record, travelling in order with the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// Event time has advanced to this value.
    Watermark(EventTime),
    /// The sender is idle (Flink's `WatermarkStatus.IDLE`).
    Idle,
    /// The sender is active again.
    Active,
    /// Checkpoint barrier n (Flink's `CheckpointBarrier`): everything before it belongs to
    /// checkpoint n. Travels alone in an event buffer.
    Barrier(u64),
    /// The barrier of an unaligned checkpoint on its way through a chain: at the network it
    /// is sent as a priority event that overtakes the buffers queued for credit. Inside a
    /// buffer it is stored as [`Marker::Barrier`].
    UnalignedBarrier(u64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_untimed_record_has_no_timestamp() {
        let m = RecMeta::untimed(SimTime::from_nanos(5));
        assert_eq!(m.ts, EventTime::MIN);
        assert_eq!(m.born, SimTime::from_nanos(5));
    }
}
