//! A sink's rows one by one, as they became visible to the outside world — when, created at
//! its source when, and committed with which checkpoint. Kept only when a run is explained
//! (`Simulation::keep_sink_lineage`): `streamlab explain --sink` reads it to tell a row's
//! story and to find its duplicates.
//!
//! An at-least-once sink's row is visible when the sink receives it; an exactly-once
//! (two-phase commit) sink's row only when the transaction holding it is committed, after
//! its checkpoint completed — rows of a transaction a failure aborted never appear here.

use crate::core::time::{EventTime, SimTime};
use crate::core::value::{Interner, Value};
use std::sync::{Arc, Mutex};

/// One row made visible.
#[derive(Debug, Clone, PartialEq)]
pub struct LineageRow {
    /// The sink's node (plan numbering) and subtask.
    pub node: usize,
    /// Its subtask.
    pub subtask: u32,
    /// When it became visible.
    pub visible: SimTime,
    /// When the record it came from was created at its source.
    pub born: SimTime,
    /// Its event-time timestamp (at-least-once sinks only; `None`: not known here).
    pub ts: Option<EventTime>,
    /// Its fields, as the summary prints them.
    pub row: Vec<serde_json::Value>,
    /// The checkpoint whose completion committed it (exactly-once sinks).
    pub checkpoint: Option<u64>,
}

/// Where every sink of a run writes its rows: shared by the sinks' subtasks, and by their
/// snapshots, so a restore keeps what was already visible.
pub type SinkLineage = Arc<Mutex<Vec<LineageRow>>>;

/// A sink subtask's handle on the shared lineage.
#[derive(Debug, Clone)]
pub struct LineageTap {
    /// The sink's node.
    pub node: usize,
    /// Its subtask.
    pub subtask: u32,
    /// The shared rows.
    pub log: SinkLineage,
}

impl LineageTap {
    /// Row `row` became visible at `visible`.
    pub fn push(
        &self,
        row: &[Value],
        interner: &Interner,
        visible: SimTime,
        born: SimTime,
        ts: Option<EventTime>,
    ) {
        let row = row.iter().map(|v| v.to_json(interner)).collect();
        self.push_json(row, visible, born, ts, None);
    }

    /// A row already converted (a committed transaction's), with its checkpoint.
    pub fn push_json(
        &self,
        row: Vec<serde_json::Value>,
        visible: SimTime,
        born: SimTime,
        ts: Option<EventTime>,
        checkpoint: Option<u64>,
    ) {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        log.push(LineageRow {
            node: self.node,
            subtask: self.subtask,
            visible,
            born,
            ts,
            row,
            checkpoint,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event_time::ms;

    #[test]
    fn rows_of_every_subtask_land_in_one_log() {
        let log = SinkLineage::default();
        let a = LineageTap {
            node: 3,
            subtask: 0,
            log: log.clone(),
        };
        let b = LineageTap {
            subtask: 1,
            ..a.clone()
        };
        let i = Interner::new();
        a.push(
            &[Value::Int(7)],
            &i,
            SimTime::from_secs(2),
            SimTime::ZERO,
            Some(ms(5)),
        );
        b.push_json(
            vec![serde_json::json!(8)],
            SimTime::from_secs(3),
            SimTime::ZERO,
            None,
            Some(1),
        );
        let rows = log.lock().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].row, vec![serde_json::json!(7)]);
        assert_eq!((rows[1].subtask, rows[1].checkpoint), (1, Some(1)));
    }
}
