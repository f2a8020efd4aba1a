//! The event-time view of one window operator: what the event-time diagram draws (the
//! picture watermark lessons need). Captured only when asked (`RunOptions::capture_event_time`).
//!
//! Two time axes, kept apart as everywhere: `at_ns` is **processing time** (the simulated
//! clock, nanoseconds since the run started) at the operator's subtask; `*_ms` fields are
//! **event time** (milliseconds, Flink's timestamps).
//!
//! - A record is a [`Dot`] at (the time its subtask's window operator processed it, its
//!   timestamp), classified as Flink's `WindowOperator` treated it ([`DotKind`]). Its time is
//!   the start of the slice of records it was processed in (the run of records between two
//!   markers of one network buffer, at most 256): records of one slice share it, and a
//!   watermark between two slices lies between their times.
//! - The watermark of each subtask is a list of [`WatermarkStep`]s: every advance, with the
//!   time it reached the window operator.
//! - A window range `[start_ms, end_ms)` is a [`WindowBand`]: open from the first element a
//!   window of that range took (over all keys and subtasks) until the watermark passed
//!   `end − 1` on every subtask that held it ([`WindowBand::closed_ns`]). Sessions that merged
//!   into a larger one, and never fired under their own range, are left out.
//! - A [`Firing`] is one or more window results emitted by one subtask at one moment for
//!   one range (one per key).
//!
//! Memory stays bounded: at most [`MAX_DOTS`] dots per kind and operator. Beyond it, one dot
//! per `k` records is kept ([`EventTimeView::sample_every`]), `k` doubling each time the
//! limit is reached again: the records kept are those whose number (per kind, counted from
//! 0 in the order the operator processed them) is a multiple of `k`. The true totals are in
//! [`EventTimeView::records`].

use serde::{Deserialize, Serialize};

/// Dots kept per kind and operator before thinning.
pub const MAX_DOTS: usize = 20_000;
/// Watermark steps kept per operator before thinning (every other step is dropped).
pub const MAX_WATERMARK_STEPS: usize = 50_000;
/// Window ranges tracked per operator; ranges beyond are counted, not drawn.
pub const MAX_BANDS: usize = 5_000;
/// Firing marks kept per operator; firings beyond are counted in their band only.
pub const MAX_FIRINGS: usize = 20_000;

/// How the window operator treated a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DotKind {
    /// Added to windows the watermark had not passed.
    OnTime,
    /// Added to a window the watermark had passed, within the allowed lateness: the window
    /// fires again (trace: `late_record_added`).
    LateAllowed,
    /// Late for all its windows (beyond the allowed lateness), sent to the late-data side
    /// output (trace: `late_record`).
    LateSide,
    /// Late for all its windows and no side output: dropped, counted in Flink's
    /// `numLateRecordsDropped` (trace: `late_record_dropped`). Also a record whose windows
    /// were all late (a merged session) while it was not itself late: Flink drops it too,
    /// without counting it.
    Dropped,
}

impl DotKind {
    /// Every kind, in legend order.
    pub const ALL: [DotKind; 4] = [
        DotKind::OnTime,
        DotKind::LateAllowed,
        DotKind::LateSide,
        DotKind::Dropped,
    ];

    /// The kind as the DOM class and the JSON name read: `on-time`, `late-allowed`,
    /// `late-side`, `dropped`.
    pub fn class(self) -> &'static str {
        match self {
            DotKind::OnTime => "on-time",
            DotKind::LateAllowed => "late-allowed",
            DotKind::LateSide => "late-side",
            DotKind::Dropped => "dropped",
        }
    }

    /// Position in [`DotKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A count per [`DotKind`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerKind {
    /// On-time records.
    pub on_time: u64,
    /// Late records added within the allowed lateness.
    pub late_allowed: u64,
    /// Late records sent to the side output.
    pub late_side: u64,
    /// Late records dropped.
    pub dropped: u64,
}

impl PerKind {
    /// The count of `kind`.
    pub fn get(&self, kind: DotKind) -> u64 {
        match kind {
            DotKind::OnTime => self.on_time,
            DotKind::LateAllowed => self.late_allowed,
            DotKind::LateSide => self.late_side,
            DotKind::Dropped => self.dropped,
        }
    }

    /// The count of `kind`, to change.
    pub fn get_mut(&mut self, kind: DotKind) -> &mut u64 {
        match kind {
            DotKind::OnTime => &mut self.on_time,
            DotKind::LateAllowed => &mut self.late_allowed,
            DotKind::LateSide => &mut self.late_side,
            DotKind::Dropped => &mut self.dropped,
        }
    }

    /// All kinds together.
    pub fn total(&self) -> u64 {
        self.on_time + self.late_allowed + self.late_side + self.dropped
    }
}

/// One record as the window operator saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dot {
    /// The subtask that processed it.
    pub subtask: u32,
    /// Processing time at that subtask (ns since the start of the run).
    pub at_ns: u64,
    /// Its event-time timestamp (ms).
    pub ts_ms: i64,
    /// The subtask's watermark when it was processed (ms; `i64::MIN`: none yet).
    pub watermark_ms: i64,
    /// How it was treated.
    pub kind: DotKind,
    /// Its key as JSON text (`"south"`, `7`), for a keyed window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// The watermark of one subtask's window operator advanced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatermarkStep {
    /// The subtask.
    pub subtask: u32,
    /// Processing time (ns).
    pub at_ns: u64,
    /// The new watermark (ms; `i64::MAX`: the final watermark at the end of the input).
    /// After a restore a subtask's watermark starts again from nothing, so the steps of one
    /// subtask may go down once, at the restore.
    pub watermark_ms: i64,
}

/// One window range `[start_ms, end_ms)`, over all keys and subtasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowBand {
    /// Window start (ms, inclusive).
    pub start_ms: i64,
    /// Window end (ms, exclusive).
    pub end_ms: i64,
    /// When the first element went into a window of this range (ns).
    pub opened_ns: u64,
    /// When the watermark passed `end − 1` on the last of the subtasks that held the range
    /// (ns); `None`: not before the run ended.
    pub closed_ns: Option<u64>,
    /// When the watermark passed `end − 1 + allowed lateness` likewise (the window's state is
    /// cleaned up; later records are late for it). Equal to `closed_ns` without lateness.
    pub cleanup_ns: Option<u64>,
    /// Subtasks that held a window of this range.
    pub subtasks: Vec<u32>,
    /// Window results emitted for this range (all keys, all firings).
    pub fires: u64,
    /// Of those, late firings (a late record within the allowed lateness).
    pub late_fires: u64,
}

/// Window results one subtask emitted at one moment for one range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Firing {
    /// The subtask.
    pub subtask: u32,
    /// Processing time (ns).
    pub at_ns: u64,
    /// Window start (ms).
    pub start_ms: i64,
    /// Window end (ms).
    pub end_ms: i64,
    /// Results emitted (one per key).
    pub count: u64,
    /// A late firing: caused by a late record within the allowed lateness.
    pub late: bool,
}

/// The event-time view of one window operator (all its subtasks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTimeView {
    /// The operator's name in the scenario.
    pub operator: String,
    /// Its subtasks (parallelism).
    pub subtasks: u32,
    /// Its windows, in words (`tumbling windows of 5 s`).
    pub window: String,
    /// Allowed lateness (ms).
    pub allowed_lateness_ms: i64,
    /// Late records go to a side output (else they are dropped).
    pub side_output: bool,
    /// The end of the run (ns).
    pub end_ns: u64,
    /// Records the operator processed, per kind (all of them, not only the dots kept).
    pub records: PerKind,
    /// Per kind, one dot per this many records (1: every record is a dot).
    pub sample_every: PerKind,
    /// The dots kept, in the order the operator processed them.
    pub dots: Vec<Dot>,
    /// Every subtask's watermark steps, in time order per subtask.
    pub watermarks: Vec<WatermarkStep>,
    /// Watermark steps left out to bound memory (every other one, when there were many).
    pub watermark_steps_thinned: u64,
    /// The window ranges, by start then end.
    pub bands: Vec<WindowBand>,
    /// Window ranges not tracked (beyond [`MAX_BANDS`]).
    pub bands_untracked: u64,
    /// The firings, by time.
    pub firings: Vec<Firing>,
    /// Firing marks not kept (beyond [`MAX_FIRINGS`]; still counted in their band).
    pub firings_untracked: u64,
}

impl EventTimeView {
    /// The dots of `kind`.
    pub fn dots_of(&self, kind: DotKind) -> impl Iterator<Item = &Dot> {
        self.dots.iter().filter(move |d| d.kind == kind)
    }

    /// Window results emitted, over all bands.
    pub fn fires(&self) -> u64 {
        self.bands.iter().map(|b| b.fires).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_the_class_names_of_the_contract() {
        let names: Vec<_> = DotKind::ALL.iter().map(|k| k.class()).collect();
        assert_eq!(names, ["on-time", "late-allowed", "late-side", "dropped"]);
        for k in DotKind::ALL {
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.class())
            );
            assert_eq!(DotKind::ALL[k.index()], k);
        }
        let mut p = PerKind::default();
        *p.get_mut(DotKind::LateSide) += 3;
        *p.get_mut(DotKind::OnTime) += 1;
        assert_eq!((p.get(DotKind::LateSide), p.total()), (3, 4));
    }
}
