//! What a task noted during a work item, as trace lines (`docs/trace-format.md`):
//!
//! - its input gate's notes ([`crate::sim::notes`]): watermarks per channel and per subtask,
//!   idleness, barriers injected and read, alignments;
//! - its window operators' emission logs: firings, trigger decisions, windows cleaned up, and
//!   every late element — added within the allowed lateness, sent to the side output, or
//!   dropped. These lines carry the operator's watermark at the moment, which is what Flink
//!   compared: a window fires when the watermark passes its end − 1, and an element is late
//!   for a window once the watermark passed the window's end − 1 + allowed lateness.

use crate::core::time::SimTime;
use crate::core::value::{Interner, Value};
use crate::flink::window::Window;
use crate::ops::Operator;
use crate::ops::window::Emitted;
use crate::sim::channel::Channel;
use crate::sim::notes::Note;
use crate::sim::task::Task;
use crate::sim::trace::Trace;
use serde_json::json;

/// Writes what `task`'s window operators emitted to the trace at `t` (the end of the work
/// item), and empties the window joins' firing logs.
pub fn window_log(tr: &mut Trace, task: &mut Task, interner: &Interner, t: SimTime) {
    for slot in &mut task.chain.ops {
        let w = match &mut slot.op {
            Operator::Window(w) => w,
            // (the trace does not record a window join's firings: only the checker reads them)
            Operator::WindowJoin(j) => {
                if let Some(log) = j.log.as_mut() {
                    log.clear();
                }
                continue;
            }
            _ => continue,
        };
        let Some(log) = w.log.as_mut() else { continue };
        for e in log.drain(..) {
            let (event, fields) = line(e, interner);
            let mut all = vec![
                ("task", json!(task.label)),
                ("subtask", json!(task.subtask)),
            ];
            all.extend(fields);
            tr.event(t, event, all);
        }
    }
}

type Fields = Vec<(&'static str, serde_json::Value)>;

/// The event name and fields (after `task` and `subtask`) of one log entry.
fn line(e: Emitted, interner: &Interner) -> (&'static str, Fields) {
    let js =
        |v: &[Value]| serde_json::Value::Array(v.iter().map(|x| x.to_json(interner)).collect());
    let last = |r: Option<Vec<Value>>| r.map_or(serde_json::Value::Null, |r| js(&r));
    let window = |key: Value, w: Window| -> Fields {
        vec![
            ("key", key.to_json(interner)),
            ("window_start", json!(w.start)),
            ("window_end", json!(w.end)),
        ]
    };
    match e {
        Emitted::Fire {
            key,
            window: w,
            result,
            watermark,
            last_input,
        } => {
            let mut f = window(key, w);
            f.extend([
                ("result", js(&result)),
                ("watermark", json!(watermark)),
                ("last_input", last(last_input)),
            ]);
            ("window_fired", f)
        }
        Emitted::Late {
            row,
            ts,
            watermark,
            last_input,
        } => (
            "late_record",
            vec![
                ("row", js(&row)),
                ("ts", json!(ts)),
                ("watermark", json!(watermark)),
                ("last_input", last(last_input)),
            ],
        ),
        Emitted::Dropped { row, ts, watermark } => (
            "late_record_dropped",
            vec![
                ("row", js(&row)),
                ("ts", json!(ts)),
                ("watermark", json!(watermark)),
            ],
        ),
        Emitted::LateAdded {
            key,
            window: w,
            row,
            ts,
            watermark,
        } => {
            let mut f = window(key, w);
            f.extend([
                ("row", js(&row)),
                ("ts", json!(ts)),
                ("watermark", json!(watermark)),
            ]);
            ("late_record_added", f)
        }
        Emitted::Trigger {
            key,
            window: w,
            timer,
            time,
            result,
            watermark,
        } => {
            let mut f = window(key, w);
            let on = match timer {
                None => "element",
                Some(true) => "event_time_timer",
                Some(false) => "processing_time_timer",
            };
            f.extend([
                ("on", json!(on)),
                ("time", json!(time)),
                ("result", json!(result.name())),
                ("watermark", json!(watermark)),
            ]);
            ("trigger", f)
        }
        Emitted::Cleared {
            key,
            window: w,
            watermark,
        } => {
            let mut f = window(key, w);
            f.push(("watermark", json!(watermark)));
            ("window_cleared", f)
        }
    }
}

/// Writes task `ti`'s notes to the trace, each at the local time it happened, channels
/// named by their sending subtask.
pub fn gate_notes(tr: &mut Trace, ti: u32, notes: &[Note], tasks: &[Task], channels: &[Channel]) {
    let task = &tasks[ti as usize];
    let from = |slot: u32| -> serde_json::Value {
        let ch = task.gate.channels[slot as usize];
        json!(tasks[channels[ch as usize].from_task as usize].label)
    };
    for &n in notes {
        let (t, event, fields) = match n {
            Note::Watermark { t, watermark } => (
                t,
                "watermark",
                vec![("task", json!(task.label)), ("watermark", json!(watermark))],
            ),
            Note::Status { t, idle } => (
                t,
                "idle",
                vec![("task", json!(task.label)), ("idle", json!(idle))],
            ),
            Note::ChannelWatermark { t, slot, watermark } => (
                t,
                "channel_watermark",
                vec![
                    ("task", json!(task.label)),
                    ("from", from(slot)),
                    ("watermark", json!(watermark)),
                ],
            ),
            Note::ChannelStatus { t, slot, idle } => (
                t,
                "channel_idle",
                vec![
                    ("task", json!(task.label)),
                    ("from", from(slot)),
                    ("idle", json!(idle)),
                ],
            ),
            Note::BarrierInjected { t, checkpoint } => (
                t,
                "barrier_injected",
                vec![
                    ("task", json!(task.label)),
                    ("checkpoint", json!(checkpoint)),
                ],
            ),
            Note::BarrierRead {
                t,
                slot,
                checkpoint,
                obsolete,
                first,
                blocked,
                waiting_for,
            } => {
                if first {
                    tr.event(
                        t,
                        "alignment_started",
                        vec![
                            ("task", json!(task.label)),
                            ("checkpoint", json!(checkpoint)),
                        ],
                    );
                }
                (
                    t,
                    "barrier_read",
                    vec![
                        ("task", json!(task.label)),
                        ("from", from(slot)),
                        ("checkpoint", json!(checkpoint)),
                        ("obsolete", json!(obsolete)),
                        ("blocked", json!(blocked)),
                        ("waiting_for", json!(waiting_for)),
                    ],
                )
            }
            Note::Aligned {
                t,
                checkpoint,
                started,
            } => (
                t,
                "alignment_done",
                vec![
                    ("task", json!(task.label)),
                    ("checkpoint", json!(checkpoint)),
                    ("alignment_ns", json!(t.since(started).as_nanos())),
                ],
            ),
        };
        tr.event(t, event, fields);
    }
}
