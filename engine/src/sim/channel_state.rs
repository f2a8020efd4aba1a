//! In-flight data of unaligned checkpoints (Flink's channel state): what a task persists of
//! the buffers its barrier overtook, and the recording of a gate's input until every
//! channel's barrier is in.

use super::buffer::{Buffer, MARKER_BYTES, Marker};

/// In-flight data persisted with a task's snapshot: buffers by channel id, in order.
#[derive(Debug, Clone, Default)]
pub struct ChannelState {
    /// Buffers that had reached the task but were behind the snapshot point.
    pub input: Vec<(u32, Buffer)>,
    /// Buffers the task had produced that its barrier overtook.
    pub output: Vec<(u32, Buffer)>,
}

impl ChannelState {
    /// Serialized size.
    pub fn bytes(&self) -> u64 {
        self.input
            .iter()
            .chain(&self.output)
            .map(|(_, b)| u64::from(b.bytes))
            .sum()
    }

    /// Appends another part.
    pub fn append(&mut self, mut other: ChannelState) {
        self.input.append(&mut other.input);
        self.output.append(&mut other.output);
    }

    /// Whether there is nothing.
    pub fn is_empty(&self) -> bool {
        self.input.is_empty() && self.output.is_empty()
    }
}

/// A copy of what buffer `b` holds from record `pos` and marker `mi` on, without barriers and
/// end-of-partition (the upstream sends those again after a restore); `None` if nothing is
/// left.
pub fn persistable(b: &Buffer, pos: usize, mi: usize) -> Option<Buffer> {
    let a = b.arity as usize;
    let n = b.len();
    let marker_bytes = b.markers.len() as u32 * MARKER_BYTES;
    let record_bytes = b.bytes.saturating_sub(marker_bytes);
    let left = n.saturating_sub(pos);
    let mut c = Buffer {
        arity: b.arity,
        values: b.values[(pos * a).min(b.values.len())..].to_vec(),
        meta: b.meta[pos.min(n)..].to_vec(),
        bytes: if n == 0 {
            0
        } else {
            (u64::from(record_bytes) * left as u64 / n as u64) as u32
        },
        finished_at: b.finished_at,
        ..Default::default()
    };
    for &(at, m) in b.markers.iter().skip(mi) {
        if !matches!(m, Marker::Barrier(_) | Marker::UnalignedBarrier(_)) {
            c.push_marker_at((at as usize).saturating_sub(pos) as u32, m);
        }
    }
    (!c.is_empty()).then_some(c)
}

/// The barrier id of a barrier buffer (barriers travel alone in their buffer).
pub fn barrier_of(b: &Buffer) -> Option<u64> {
    match b.markers.first() {
        Some(&(_, Marker::Barrier(id))) if b.meta.is_empty() => Some(id),
        _ => None,
    }
}

/// A gate recording in-flight input for an unaligned checkpoint.
#[derive(Debug, Clone)]
pub struct Collect {
    /// Checkpoint id.
    pub id: u64,
    /// Per gate slot: its barrier arrived (or it ended): recording stopped.
    pub seen: Vec<bool>,
    /// The input channel state so far.
    pub state: ChannelState,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event_time::ms;
    use crate::core::time::SimTime;
    use crate::core::value::Value;
    use crate::sim::buffer::RecMeta;

    fn buffer(records: &[i64]) -> Buffer {
        let mut b = Buffer {
            arity: 1,
            ..Default::default()
        };
        for &r in records {
            b.push(
                &[Value::Int(r)],
                RecMeta::untimed(SimTime::from_nanos(0)),
                21,
            );
        }
        b
    }

    #[test]
    fn a_partly_read_buffer_persists_only_what_is_left() {
        let mut b = buffer(&[1, 2, 3, 4]);
        b.push_marker(Marker::Watermark(ms(7))); // after 4 records
        let c = persistable(&b, 3, 0).expect("one record and the watermark left");
        assert_eq!(c.len(), 1);
        assert_eq!(c.row(0), &[Value::Int(4)]);
        assert_eq!(c.markers, vec![(1, Marker::Watermark(ms(7)))]);
        assert_eq!(c.bytes, 21 + MARKER_BYTES);
        assert!(persistable(&b, 4, 1).is_none(), "nothing left");
    }

    #[test]
    fn barriers_and_end_of_partition_are_not_channel_state() {
        let mut barrier = Buffer::default();
        barrier.push_marker(Marker::Barrier(3));
        assert_eq!(barrier_of(&barrier), Some(3));
        assert!(persistable(&barrier, 0, 0).is_none());
        let eop = Buffer {
            end_of_partition: true,
            ..Default::default()
        };
        assert!(persistable(&eop, 0, 0).is_none());
        assert_eq!(barrier_of(&buffer(&[1])), None);
    }

    #[test]
    fn channel_state_adds_up_input_and_output_bytes() {
        let mut s = ChannelState::default();
        assert!(s.is_empty());
        s.append(ChannelState {
            input: vec![(0, buffer(&[1, 2]))],
            output: vec![(1, buffer(&[3]))],
        });
        assert_eq!(s.bytes(), 63);
    }
}
