//! Network buffers: what travels between subtasks.
//!
//! A [`Buffer`] is one 32 KiB memory segment's worth of serialized records (Flink's
//! `NetworkBuffer`). Records are stored flat — `arity` values per record — with a small
//! [`RecMeta`] each, so filling and draining a buffer never allocates. Stream events
//! (end of partition; later watermarks and barriers) travel in order with the records.
//! Spent buffers go back to a [`BufferPool`] and are reused.

use crate::core::time::SimTime;
use crate::core::value::Value;
// Records' metadata and markers are the operators' stream elements (`ops::element`); buffers
// carry them between subtasks. (An unaligned checkpoint's barrier is sent as a priority
// event: `super::unaligned`.)
pub use crate::ops::element::{Marker, RecMeta};

/// Serialized size of a watermark or status element: a tag byte and a `long`.
pub const MARKER_BYTES: u32 = 9;

/// Serialized size of a record's envelope in Flink: a tag byte and an 8-byte timestamp
/// (`StreamElementSerializer`) plus the 4-byte length prefix of the record serializer.
pub const RECORD_HEADER_BYTES: u32 = 13;

/// One network buffer.
#[derive(Debug, Default, Clone)]
pub struct Buffer {
    /// Fields per record.
    pub arity: u16,
    /// The records' fields, `arity` per record.
    pub values: Vec<Value>,
    /// One entry per record.
    pub meta: Vec<RecMeta>,
    /// Serialized size so far.
    pub bytes: u32,
    /// This is the last buffer of the channel (Flink's `EndOfPartitionEvent`).
    pub end_of_partition: bool,
    /// When the buffer was finished (full, flushed or final) at the sender; once sent, when
    /// it left.
    pub finished_at: SimTime,
    /// The sender's backlog announced with this buffer (credit-based flow control).
    pub backlog: u32,
    /// Markers, each with the number of records before it.
    pub markers: Vec<(u32, Marker)>,
    /// A priority event (an unaligned checkpoint barrier): sent without credit ahead of the
    /// queued buffers, and handled by the receiver as soon as it arrives.
    pub priority: bool,
    /// Holds no slot of a buffer pool (priority events, replayed channel state): consuming
    /// it returns no credit and frees no sender buffer.
    pub unpooled: bool,
}

impl Buffer {
    /// Number of records.
    #[inline]
    pub fn len(&self) -> usize {
        self.meta.len()
    }

    /// Whether it holds neither records nor markers.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.meta.is_empty() && self.markers.is_empty()
    }

    /// Appends a marker after the records written so far.
    #[inline]
    pub fn push_marker(&mut self, m: Marker) {
        self.markers.push((self.meta.len() as u32, m));
        self.bytes += MARKER_BYTES;
    }

    /// Appends a marker that comes after `records` of the records (for copies).
    #[inline]
    pub fn push_marker_at(&mut self, records: u32, m: Marker) {
        self.markers.push((records, m));
        self.bytes += MARKER_BYTES;
    }

    /// Makes room for more records of `arity` fields: [`BufferPool::FRESH_RECORDS`] in an
    /// empty buffer, then half as many again as it holds, rather than `Vec`'s doubling —
    /// tens of thousands of buffers filling at once in a wide job keep less unused room.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, arity: usize) {
        let more = match self.meta.len() {
            0 => BufferPool::FRESH_RECORDS,
            held => (held / 2).max(1),
        };
        self.meta.reserve_exact(more);
        let records = self.meta.capacity();
        self.values
            .reserve_exact((records * arity).saturating_sub(self.values.len()));
    }

    /// Fields of record `i`.
    #[inline]
    pub fn row(&self, i: usize) -> &[Value] {
        let a = self.arity as usize;
        &self.values[i * a..(i + 1) * a]
    }

    /// Appends a record of `bytes` serialized bytes.
    #[inline]
    pub fn push(&mut self, row: &[Value], meta: RecMeta, bytes: u32) {
        if self.meta.len() == self.meta.capacity() {
            self.grow(row.len());
        }
        crate::core::value::push_row(&mut self.values, row);
        self.meta.push(meta);
        self.bytes += bytes;
    }
}

/// Recycled buffers, so a long run allocates only as many as are ever in flight at once.
#[derive(Debug, Default)]
pub struct BufferPool {
    free: Vec<Buffer>,
}

impl BufferPool {
    /// An empty buffer for records of `arity` fields (a recycled one if there is one).
    #[inline]
    pub fn take(&mut self, arity: u16) -> Buffer {
        let mut b = self.free.pop().unwrap_or_default();
        b.arity = arity;
        b
    }

    /// Records a newly allocated buffer makes room for when its first record is written: a
    /// wide job keeps tens of thousands of buffers filling at once, and growing each from
    /// nothing costs a reallocation per doubling. (Buffers that carry only an event — end of
    /// partition, a barrier — allocate nothing.)
    pub const FRESH_RECORDS: usize = 32;

    /// Returns a spent buffer.
    #[inline]
    pub fn give(&mut self, mut b: Buffer) {
        b.values.clear();
        b.meta.clear();
        b.bytes = 0;
        b.end_of_partition = false;
        b.backlog = 0;
        b.markers.clear();
        b.priority = false;
        b.unpooled = false;
        if self.free.len() < 4096 {
            self.free.push(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_read_back_by_position() {
        let mut b = Buffer {
            arity: 2,
            ..Default::default()
        };
        b.push(
            &[Value::Int(1), Value::Int(2)],
            RecMeta::untimed(SimTime::from_nanos(5)),
            29,
        );
        b.push(
            &[Value::Int(3), Value::Int(4)],
            RecMeta::untimed(SimTime::from_nanos(6)),
            29,
        );
        assert_eq!(b.len(), 2);
        assert_eq!(b.row(1), &[Value::Int(3), Value::Int(4)]);
        assert_eq!(b.bytes, 58);
    }

    #[test]
    fn a_buffer_grows_by_half_with_room_for_whole_records() {
        let mut b = Buffer {
            arity: 3,
            ..Default::default()
        };
        let row = [Value::Int(1), Value::Int(2), Value::Int(3)];
        for i in 0..200 {
            b.push(&row, RecMeta::untimed(SimTime::from_nanos(i)), 37);
            // the fields always have room for as many records as the metadata (one growth
            // for both), and the spare room is at most half what is held (32 at first)
            assert!(b.values.capacity() >= b.meta.capacity() * 3, "record {i}");
            let held = b.len();
            assert!(
                b.meta.capacity() <= held + (held / 2).max(BufferPool::FRESH_RECORDS),
                "record {i}: capacity {}",
                b.meta.capacity()
            );
        }
        assert_eq!(b.row(199), &row);
    }

    #[test]
    fn the_pool_reuses_cleared_buffers() {
        let mut p = BufferPool::default();
        let mut b = p.take(1);
        b.push(
            &[Value::Int(1)],
            RecMeta::untimed(SimTime::from_nanos(0)),
            21,
        );
        b.end_of_partition = true;
        p.give(b);
        let b = p.take(3);
        assert!(b.is_empty() && !b.end_of_partition && b.bytes == 0 && b.arity == 3);
        assert!(b.values.capacity() >= 1, "allocation is reused");
    }
}
