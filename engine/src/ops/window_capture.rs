//! What an event-time window operator notes for the event-time diagram
//! ([`crate::report::event_time`]), when the run captures it: each element with its
//! timestamp and how it was treated, each watermark advance, each window opened and each
//! result fired — at the subtask's local processing time, which the chain sets
//! ([`WindowCapture::now`]) before it hands the operator a slice of records, a watermark or
//! a processing-time tick. The kernel empties the notes at the end of every work item.
//!
//! Off by default: the operator then holds `None` and pays one `Option` test per element.

use crate::core::time::{EventTime, SimTime};
use crate::core::value::Value;
use crate::flink::window::assign::Window;
use crate::report::event_time::DotKind;

/// One thing the operator noted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Noted {
    /// An element was processed.
    Element {
        /// Local processing time.
        at: SimTime,
        /// Its key (`None` for a non-keyed window).
        key: Option<Value>,
        /// Its timestamp.
        ts: EventTime,
        /// The operator's watermark then.
        watermark: EventTime,
        /// How it was treated.
        kind: DotKind,
    },
    /// The watermark advanced.
    Watermark {
        /// Local processing time.
        at: SimTime,
        /// The new watermark.
        watermark: EventTime,
    },
    /// A window (of one key) got its first element.
    Opened {
        /// Local processing time.
        at: SimTime,
        /// The window.
        window: Window,
    },
    /// A window (of one key) emitted a result.
    Fired {
        /// Local processing time.
        at: SimTime,
        /// The window.
        window: Window,
        /// Caused by a late element within the allowed lateness.
        late: bool,
    },
}

/// The notes of one window operator subtask between two work-item ends.
#[derive(Debug, Clone, Default)]
pub struct WindowCapture {
    /// The subtask's local processing time, set by the chain.
    pub now: SimTime,
    /// The element being processed went into a window the watermark had passed.
    pub(super) late_added: bool,
    /// The result being emitted is a late firing.
    pub(super) late_fire: bool,
    /// What was noted, in order.
    pub noted: Vec<Noted>,
}

impl WindowCapture {
    /// Notes an element, then forgets whether it was added late.
    pub(super) fn element(
        &mut self,
        key: Option<Value>,
        ts: EventTime,
        watermark: EventTime,
        kind: DotKind,
    ) {
        self.noted.push(Noted::Element {
            at: self.now,
            key,
            ts,
            watermark,
            kind,
        });
        self.late_added = false;
    }

    /// Notes a watermark advance.
    pub(super) fn watermark(&mut self, watermark: EventTime) {
        self.noted.push(Noted::Watermark {
            at: self.now,
            watermark,
        });
    }

    /// Notes a window's first element.
    pub(super) fn opened(&mut self, window: Window) {
        self.noted.push(Noted::Opened {
            at: self.now,
            window,
        });
    }

    /// Notes a result.
    pub(super) fn fired(&mut self, window: Window) {
        self.noted.push(Noted::Fired {
            at: self.now,
            window,
            late: self.late_fire,
        });
    }
}
