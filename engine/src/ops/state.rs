//! An operator's state, as checkpoints, rescaling, the memory limit and the run report see
//! it: one trait, [`OperatorState`], implemented in each operator's own file.
//!
//! Flink's vocabulary: an operator's state is written by `snapshotState` into a checkpoint
//! and read back by `initializeState` on restore. Keyed state lives in a
//! `KeyedStateBackend`, partitioned by key group; on rescale each new subtask receives the
//! key groups of its range from every old subtask (`StateAssignmentOperation`). The kernel
//! calls these through [`super::Operator`] (one dispatch `match` in `ops/mod.rs`), never by
//! operator kind.

use crate::core::value::{OrdValue, Value};
use crate::report::WindowReport;

/// The state of one operator subtask. Every method has a default for a stateless operator
/// (map, filter, flat_map, co_map): no keys, no bytes, a snapshot that is a plain copy.
pub trait OperatorState: Clone {
    /// Whether the state is keyed: partitioned by key group, and on rescale redistributed by
    /// key-group range ([`OperatorState::retain_keys`], [`OperatorState::absorb`]). A
    /// rescaled non-keyed operator starts empty.
    fn is_keyed(&self) -> bool {
        false
    }

    /// Keys holding state (what a rescale report lists per new subtask).
    fn keys(&self) -> u64 {
        0
    }

    /// Size of the state in a checkpoint, in bytes (Flink's checkpointed state size): keys
    /// and values at 8 bytes a field plus a small overhead per entry, as a RocksDB or heap
    /// backend would serialize them ([`checkpoint_entries_bytes`]).
    fn checkpointed_bytes(&self) -> u64 {
        0
    }

    /// Bytes the state takes in the simulator's memory, for the `limits.max_memory`
    /// estimate (the simulator's own structures, not Flink's serialized sizes).
    fn heap_bytes(&self) -> u64 {
        0
    }

    /// The copy a checkpoint keeps (`snapshotState`); by default the whole operator. A
    /// restore puts the copy back in place of the live operator.
    fn snapshot_state(&mut self) -> Self {
        self.clone()
    }

    /// Rescale, on a copy of an old subtask's operator: keeps the state (and timers) of the
    /// keys `keep` accepts — those whose key group lies in the new subtask's range.
    fn retain_keys(&mut self, _keep: &dyn Fn(Value) -> bool) {}

    /// Rescale, on the new subtask's operator: adds the state `other` kept
    /// (`initializeState` from several old subtasks' key groups).
    fn absorb(&mut self, _other: Self) {}

    /// Gives an operator that can multiply records within one event its share of
    /// `limit_bytes`, the memory limit (records of `out_arity` fields out): beyond it the task
    /// fails before it allocates ([`over_limit`]).
    fn set_memory_share(&mut self, _limit_bytes: u64, _out_arity: usize) {}

    /// For the run report: the window counters and the windows still open, for operators
    /// that fire windows (windows, window joins, interval joins); `None` for the others.
    fn window_report(&self) -> Option<WindowReport> {
        None
    }
}

/// Bytes of `entries` state entries of `fields` fields each in a checkpoint: 8 bytes a field
/// plus 16 bytes per entry.
pub fn checkpoint_entries_bytes(entries: usize, fields: usize) -> u64 {
    (entries * (fields * 8 + 16)) as u64
}

/// The number of distinct keys among `keys` (the keys of windows or buffers, which repeat).
pub fn distinct_keys(keys: impl Iterator<Item = Value>) -> u64 {
    let mut k: Vec<Value> = keys.collect();
    k.sort_unstable_by_key(|v| OrdValue(*v));
    k.dedup();
    k.len() as u64
}

/// Bytes of one window in a window operator's in-memory state: its key and bounds, the
/// accumulator or the first elements, its trigger entry and its cleanup timer, with
/// hash-map overhead.
pub const WINDOW_BYTES: u64 = 160;

/// The message when an operator would exceed its share of the memory limit within one
/// event (`share`: what the share allows, e.g. `26843545 windows`).
pub fn over_limit(what: &str, share: &str) -> String {
    format!(
        "{what}: more than limits.max_memory allows (at most {share}); raise it in [limits] or change the job"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpointed_entries_cost_eight_bytes_a_field_and_sixteen_an_entry() {
        assert_eq!(checkpoint_entries_bytes(3, 2), 3 * (16 + 16));
        assert_eq!(checkpoint_entries_bytes(0, 5), 0);
    }

    #[test]
    fn keys_are_counted_once() {
        let keys = [Value::Int(2), Value::Int(1), Value::Int(2), Value::Int(2)];
        assert_eq!(distinct_keys(keys.into_iter()), 2);
        assert_eq!(distinct_keys(std::iter::empty()), 0);
    }

    #[test]
    fn the_limit_message_names_the_share_and_the_setting() {
        let m = over_limit("a flat_map row splits into 9 pieces", "4 records per batch");
        assert!(m.starts_with("a flat_map row splits into 9 pieces: "));
        assert!(m.contains("at most 4 records per batch"));
        assert!(m.contains("limits.max_memory"));
    }
}
