//! What each operator and each task did: records in and out per subtask, window firings and
//! late data, the tasks' time split and their watermarks.

use super::de;
use crate::core::time::EventTime;
use serde::{Deserialize, Serialize};

/// Records in and out of one subtask of an operator.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubtaskCounts {
    /// Subtask index.
    pub subtask: u32,
    /// A subtask of the job before a rescale.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub before_rescale: bool,
    /// Records received.
    pub records_in: u64,
    /// Records emitted.
    pub records_out: u64,
}

/// One operator.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OperatorReport {
    /// Name.
    pub name: String,
    /// What it does.
    pub kind: String,
    /// Parallelism.
    pub parallelism: u32,
    /// Records received, all subtasks.
    pub records_in: u64,
    /// Records emitted, all subtasks.
    pub records_out: u64,
    /// Per subtask.
    pub subtasks: Vec<SubtaskCounts>,
    /// For window operators: what fired and what was late.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows: Option<WindowReport>,
}

/// What a window operator did, over all its subtasks.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct WindowReport {
    /// Window results emitted.
    pub fired: u64,
    /// Of those, late firings (a late element within the allowed lateness re-fired a window).
    pub late_firings: u64,
    /// Late elements dropped (Flink's `numLateRecordsDropped`).
    pub late_dropped: u64,
    /// Late elements sent to the late-data side output.
    pub late_side_output: u64,
    /// Windows still holding state at the end (never fired or waiting for cleanup).
    pub windows_left_open: u64,
}

/// The watermark a task received on one input channel.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChannelWatermark {
    /// The sending subtask.
    pub from: String,
    /// Its last watermark (`null` before the first).
    #[serde(deserialize_with = "de::required")]
    pub watermark: Option<EventTime>,
    /// Whether it is marked idle.
    pub idle: bool,
}

/// One task (subtask of a chain).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TaskReport {
    /// Chain name.
    pub chain: String,
    /// A task of the job before a rescale (stopped with the savepoint).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub before_rescale: bool,
    /// Subtask index.
    pub subtask: u32,
    /// TaskManager.
    pub task_manager: u32,
    /// Time processing records.
    pub busy_ms: f64,
    /// Time waiting for a core of its TaskManager.
    pub cpu_wait_ms: f64,
    /// Time blocked on a full output (backpressured).
    pub backpressured_ms: f64,
    /// The rest: waiting for input.
    pub idle_ms: f64,
    /// Buffers it sent.
    pub buffers_out: u64,
    /// The task's input watermark at the end (`null`: none yet; absent for sources).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::present"
    )]
    pub watermark: Option<Option<EventTime>>,
    /// The watermark of each input channel at the end: a stalled watermark can be traced to
    /// the channel that holds it back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channel_watermarks: Vec<ChannelWatermark>,
    /// Watermark lag over time: `[processing time ms, processing time − watermark in ms]`
    /// whenever the input watermark advanced (a final +∞ watermark is left out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub watermark_lag_ms: Vec<(f64, f64)>,
}

impl TaskReport {
    /// The longest stretch of processing time in which the task's input watermark did not
    /// advance — from the start of the run to its first advance, between advances, and from
    /// the last advance to `end_ms` — at the resolution of the watermark trail. `None` when it
    /// never advanced (before a final +∞ watermark): a stall for the whole run.
    pub fn longest_watermark_stall_ms(&self, end_ms: f64) -> Option<f64> {
        let times: Vec<f64> = self.watermark_lag_ms.iter().map(|p| p.0).collect();
        let (first, last) = (*times.first()?, *times.last()?);
        let between = times.windows(2).map(|w| w[1] - w[0]);
        Some(between.fold(first.max(end_ms - last), f64::max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(trail: Vec<(f64, f64)>) -> TaskReport {
        TaskReport {
            watermark: Some(Some(EventTime::MAX)),
            watermark_lag_ms: trail,
            ..Default::default()
        }
    }

    #[test]
    fn the_longest_stall_counts_the_start_the_gaps_and_the_end() {
        // advances at 1 s, 1.1 s, 5 s; the run ends at 6 s: the longest stall is 3.9 s
        let t = task(vec![(1000.0, 0.0), (1100.0, 0.0), (5000.0, 0.0)]);
        assert_eq!(t.longest_watermark_stall_ms(6000.0), Some(3900.0));
        // a late first watermark and a long tail count too
        assert_eq!(
            task(vec![(7000.0, 0.0)]).longest_watermark_stall_ms(8000.0),
            Some(7000.0)
        );
        assert_eq!(
            task(vec![(1000.0, 0.0)]).longest_watermark_stall_ms(9000.0),
            Some(8000.0)
        );
        assert_eq!(task(vec![]).longest_watermark_stall_ms(9000.0), None);
    }
}
