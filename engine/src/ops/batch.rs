//! Batches: the records an operator hands to the next one inside a chain.

use super::element::RecMeta;
use crate::core::value::Value;

/// Records produced by one operator for one slice of input, with the input record each came
/// from (`parent`), which is what lets [`super::chain`] reconstruct per-record timing.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    /// Fields per record.
    pub arity: usize,
    /// Fields, `arity` per record.
    pub values: Vec<Value>,
    /// Per record.
    pub meta: Vec<RecMeta>,
    /// Per record: index of the input record it was made from.
    pub parent: Vec<u32>,
}

impl Batch {
    /// An empty batch for records of `arity` fields.
    pub fn new(arity: usize) -> Self {
        Batch {
            arity,
            ..Default::default()
        }
    }

    /// Empties it, keeping the allocations.
    #[inline]
    pub fn clear(&mut self) {
        self.values.clear();
        self.meta.clear();
        self.parent.clear();
    }

    /// Number of records.
    #[inline]
    pub fn len(&self) -> usize {
        self.meta.len()
    }

    /// Whether it holds no records.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    /// Appends a record made from input record `parent`.
    #[inline]
    pub fn push(&mut self, row: &[Value], meta: RecMeta, parent: u32) {
        crate::core::value::push_row(&mut self.values, row);
        self.meta.push(meta);
        self.parent.push(parent);
    }

    /// Appends `row` with field `pos` set to `v` (a `flat_map`'s piece). The row is copied
    /// first and the field set in place after: setting the field in `row` and then copying
    /// it would read the field back, just stored, with a wider load than the store, which
    /// the CPU cannot forward (a stall on every record).
    #[inline]
    pub fn push_with_field(
        &mut self,
        row: &[Value],
        pos: usize,
        v: Value,
        meta: RecMeta,
        parent: u32,
    ) {
        let start = self.values.len();
        crate::core::value::push_row(&mut self.values, row);
        self.values[start + pos] = v;
        self.meta.push(meta);
        self.parent.push(parent);
    }

    /// Keeps only the records made from input records before `i` (parents never decrease).
    pub fn truncate_to_parents_below(&mut self, i: usize) {
        let keep = self.parent.partition_point(|&p| (p as usize) < i);
        self.values.truncate(keep * self.arity);
        self.meta.truncate(keep);
        self.parent.truncate(keep);
    }

    /// A read-only view of it.
    #[inline]
    pub fn view(&self) -> View<'_> {
        View {
            arity: self.arity,
            values: &self.values,
            meta: &self.meta,
        }
    }
}

/// Read-only records: a batch, or a slice of a network buffer.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    /// Fields per record.
    pub arity: usize,
    /// Fields, `arity` per record.
    pub values: &'a [Value],
    /// Per record.
    pub meta: &'a [RecMeta],
}

impl<'a> View<'a> {
    /// Number of records.
    #[inline]
    pub fn len(&self) -> usize {
        self.meta.len()
    }

    /// Whether it holds no records.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    /// Fields of record `i`.
    #[inline]
    pub fn row(&self, i: usize) -> &'a [Value] {
        &self.values[i * self.arity..(i + 1) * self.arity]
    }

    /// Records `from..to`.
    #[inline]
    pub fn slice(&self, from: usize, to: usize) -> View<'a> {
        View {
            arity: self.arity,
            values: &self.values[from * self.arity..to * self.arity],
            meta: &self.meta[from..to],
        }
    }
}

/// Bytes of one record of `arity` fields in a batch or a network buffer: its fields, its
/// [`RecMeta`] and the index of the record it came from.
pub fn record_bytes(arity: usize) -> u64 {
    (arity * size_of::<Value>() + size_of::<RecMeta>() + size_of::<u32>()) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::time::SimTime;

    #[test]
    fn a_record_costs_its_fields_and_its_metadata() {
        assert_eq!(
            record_bytes(2),
            (2 * size_of::<Value>() + size_of::<RecMeta>() + 4) as u64
        );
    }

    #[test]
    fn truncating_keeps_the_records_of_earlier_parents() {
        let mut b = Batch::new(1);
        for (v, parent) in [(1, 0), (2, 0), (3, 1), (4, 2)] {
            b.push(
                &[Value::Int(v)],
                RecMeta::untimed(SimTime::from_nanos(0)),
                parent,
            );
        }
        b.truncate_to_parents_below(1);
        assert_eq!(b.values, vec![Value::Int(1), Value::Int(2)]);
        assert_eq!(b.parent, vec![0, 0]);
        assert_eq!(b.len(), 2);
    }
}
