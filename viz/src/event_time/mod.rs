//! The event-time diagram of one window operator — the picture watermark lessons need —
//! drawn from its [`EventTimeView`] (captured by a run with
//! `RunOptions::capture_event_time`).
//!
//! - x: **processing time** at the window operator's subtask (when it processed the
//!   record); y: **event time** (the record's timestamp).
//! - Each record is a dot, its shape and colour telling how the operator treated it (both,
//!   so the picture survives a greyscale print): on time ● (blue), late but within the
//!   allowed lateness ▲ (orange), late to the side output ■ (vermillion), late and dropped
//!   ✕ (black). With few late records each carries a label: its timestamp and the
//!   watermark it found.
//! - The watermark is a step line per subtask (up to four subtasks, told apart by dashes);
//!   with more subtasks one line, the minimum over them — the operator's watermark as
//!   Flink's web UI shows it.
//! - Each window range `[start, end)` is a band spanning its event-time range, from its first
//!   record until the watermark passes `end − 1` on every subtask that held it — the moment
//!   it fires; with allowed lateness a dashed, lighter band continues until the window is
//!   cleaned up.
//! - Firings are diamonds on the window's end at the moment they happen (hollow: a late
//!   firing).
//!
//! Large runs stay small: dots are those the capture kept (1 per k records, said in the
//! header), and beyond a few thousand marks of a kind, records close together on the
//! picture share one mark with `data-count`. Every mark has a `<title>` tooltip.
//!
//! The SVG is one `<svg class="event-time" data-operator="NAME">` element, ready to inline
//! in an HTML page: dots are `<g class="dot on-time|late-allowed|late-side|dropped">`,
//! watermark lines `<g class="watermark-line">`, windows `<g class="window-band">` (with
//! `data-fires`), firings `<g class="firing">` (with `data-count`). The PNG is the same
//! picture, drawn with the embedded font.

mod layout;
mod scene;

use crate::VizError;
pub use streamlab_engine::report::event_time::EventTimeView;

/// The diagram as an inline SVG element.
pub fn svg(view: &EventTimeView) -> String {
    layout::scene(view).svg()
}

/// The diagram as a PNG image.
pub fn png(view: &EventTimeView) -> Result<Vec<u8>, VizError> {
    layout::scene(view).png()
}

/// The file name stem of an operator's diagram: `event_time_<operator>` with anything but
/// letters, digits, `-` and `_` replaced by `_`.
pub fn file_stem(view: &EventTimeView) -> String {
    let name: String = view
        .operator
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("event_time_{name}")
}

/// The SVG and PNG files of every view: `event_time_<operator>.svg` and `.png` (a suffix
/// `_2`, `_3`, … when two operators' names make the same file name).
pub fn files(views: &[EventTimeView]) -> Result<Vec<crate::File>, VizError> {
    let mut out = Vec::new();
    let mut stems: Vec<String> = Vec::new();
    for v in views {
        let base = file_stem(v);
        let mut stem = base.clone();
        let mut n = 1;
        while stems.contains(&stem) {
            n += 1;
            stem = format!("{base}_{n}");
        }
        out.push((format!("{stem}.svg"), svg(v).into_bytes()));
        out.push((format!("{stem}.png"), png(v)?));
        stems.push(stem);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
