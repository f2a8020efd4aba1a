//! The trace lines the run page draws, read with serde into typed lines
//! (`docs/trace-format.md`). Reading is strict: a line of a kind listed here that lacks a
//! field, or has one of the wrong type, is an error naming it — never a silent 0. Kinds the
//! page does not draw (trigger decisions, barrier arrivals, …) are read as [`Event::Other`].

use serde::Deserialize;

/// One restored split of a source subtask: reading resumes at `offset`; it had read up to
/// `reached` before the failure, so `reached − offset` records are read again.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Split {
    /// The split (partition) index.
    pub split: u64,
    /// Records read as of the checkpoint.
    pub offset: u64,
    /// Records read before the failure.
    pub reached: u64,
}

/// What a trace line says, by its `event` field.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A network buffer arrived at the receiver's input channel.
    Buffer {
        /// Sending subtask.
        from: String,
        /// Receiving subtask.
        to: String,
        /// Records in it.
        records: u64,
        /// Bytes in it.
        bytes: u64,
        /// When it was sent.
        sent_ns: u64,
    },
    /// The subtask had input but no free output buffer.
    BackpressureStart {
        /// The subtask.
        task: String,
    },
    /// An output buffer became free again.
    BackpressureEnd {
        /// The subtask.
        task: String,
    },
    /// A source read all its input, or every input channel ended.
    EndOfInput {
        /// The subtask.
        task: String,
    },
    /// The subtask finished.
    TaskFinished {
        /// The subtask.
        task: String,
    },
    /// The job's status changed.
    JobStatus {
        /// Flink's `JobStatus` name.
        status: String,
    },
    /// The subtask's watermark advanced (event time, ms).
    Watermark {
        /// The subtask.
        task: String,
        /// The new watermark.
        watermark: i64,
    },
    /// The watermark of one input channel rose.
    ChannelWatermark {
        /// The receiving subtask.
        task: String,
        /// The sending subtask (the channel).
        from: String,
        /// The channel's new watermark.
        watermark: i64,
    },
    /// A window emitted its result.
    WindowFired {
        /// The subtask.
        task: String,
        /// The window's key.
        key: serde_json::Value,
        /// Window start (event time, ms).
        window_start: i64,
        /// Window end (event time, ms).
        window_end: i64,
        /// The operator's watermark then.
        watermark: i64,
    },
    /// A late element was added to a window within the allowed lateness.
    LateRecordAdded {
        /// The subtask.
        task: String,
        /// Its timestamp.
        ts: i64,
    },
    /// A late element went to the late side output.
    LateRecord {
        /// The subtask.
        task: String,
        /// Its timestamp.
        ts: i64,
    },
    /// A late element was dropped.
    LateRecordDropped {
        /// The subtask.
        task: String,
        /// Its timestamp.
        ts: i64,
    },
    /// The checkpoint coordinator triggered a checkpoint.
    CheckpointTriggered {
        /// Checkpoint id.
        id: u64,
    },
    /// Every subtask acknowledged the checkpoint.
    CheckpointCompleted {
        /// Checkpoint id.
        id: u64,
    },
    /// The checkpoint expired or was aborted.
    CheckpointFailed {
        /// Checkpoint id.
        id: u64,
        /// Why.
        reason: String,
    },
    /// The subtask read the first barrier of a checkpoint.
    AlignmentStarted {
        /// The subtask.
        task: String,
        /// Checkpoint id.
        checkpoint: u64,
    },
    /// The subtask read the last barrier of a checkpoint.
    AlignmentDone {
        /// The subtask.
        task: String,
        /// Checkpoint id.
        checkpoint: u64,
    },
    /// The subtask took its snapshot.
    Snapshot {
        /// The subtask.
        task: String,
        /// Checkpoint id.
        checkpoint: u64,
        /// State bytes.
        bytes: u64,
    },
    /// An unaligned barrier overtook queued buffers of a channel.
    UnalignedBarrier {
        /// Sending subtask.
        from: String,
        /// Receiving subtask.
        to: String,
        /// Checkpoint id.
        checkpoint: u64,
        /// Buffers overtaken.
        overtook_queued: u64,
    },
    /// A scripted or chaos fault struck.
    Fault {
        /// What happened.
        what: String,
    },
    /// The JobManager declared a TaskManager lost.
    HeartbeatTimeout {
        /// The TaskManager.
        task_manager: u64,
    },
    /// The failed subtasks were redeployed and restored.
    Restart {
        /// How many.
        tasks: u64,
        /// The checkpoint restored (`None`: from the beginning).
        checkpoint: Option<u64>,
    },
    /// A source subtask was restored: where reading resumes per split.
    Restore {
        /// The subtask.
        task: String,
        /// The checkpoint (`None`: from the beginning).
        checkpoint: Option<u64>,
        /// Its splits.
        splits: Vec<Split>,
    },
    /// A two-phase-commit sink pre-committed its transaction.
    PreCommit {
        /// The subtask.
        task: String,
        /// Checkpoint id.
        checkpoint: u64,
        /// Records in the transaction.
        records: u64,
    },
    /// A two-phase-commit sink committed its transactions up to a checkpoint.
    Commit {
        /// The subtask.
        task: String,
        /// Checkpoint id.
        checkpoint: u64,
        /// Records made visible.
        records: u64,
        /// Committed while restoring.
        #[serde(default)]
        on_restore: bool,
    },
    /// Stop-with-savepoint stopped the job.
    JobStopped {
        /// The savepoint.
        savepoint: u64,
    },
    /// The job was submitted again from a savepoint.
    Resubmit {
        /// The savepoint.
        savepoint: u64,
    },
    /// A kind the page does not draw.
    #[serde(other)]
    Other,
}

/// One trace line: its time and what it says.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Line {
    /// Simulated processing time, ns since the job started.
    pub t_ns: u64,
    /// The event.
    #[serde(flatten)]
    pub event: Event,
}

/// Reads one trace line. `Err`: what is wrong with it (a missing field names the field).
pub fn parse_line(text: &str) -> Result<Line, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_reads_into_its_typed_event() {
        let l = parse_line(
            r#"{"bytes":8,"checkpoint":1,"event":"snapshot","t_ns":2845499732,"task":"Source: readings #0"}"#,
        )
        .unwrap();
        assert_eq!(l.t_ns, 2_845_499_732);
        assert_eq!(
            l.event,
            Event::Snapshot {
                task: "Source: readings #0".into(),
                checkpoint: 1,
                bytes: 8
            }
        );
        let r = parse_line(r#"{"checkpoint":null,"event":"restart","t_ns":5,"tasks":4}"#).unwrap();
        assert_eq!(
            r.event,
            Event::Restart {
                tasks: 4,
                checkpoint: None
            }
        );
    }

    #[test]
    fn kinds_not_drawn_are_other_but_a_missing_field_is_an_error_naming_it() {
        let l = parse_line(r#"{"event":"barrier_read","t_ns":1,"task":"x"}"#).unwrap();
        assert_eq!(l.event, Event::Other);
        let e = parse_line(r#"{"event":"snapshot","t_ns":1,"task":"x","bytes":3}"#).unwrap_err();
        assert!(e.contains("checkpoint"), "{e}");
        let e =
            parse_line(r#"{"event":"snapshot","task":"x","checkpoint":1,"bytes":3}"#).unwrap_err();
        assert!(e.contains("t_ns"), "{e}");
        assert!(parse_line("not json").is_err());
    }
}
