//! The static picture of the subtasks' watermarks: one line per subtask that has an input
//! watermark (event time up, processing time across), drawn by the chart code as SVG and PNG.

use super::lanes::Lane;
use super::timeline::Timeline;
use crate::charts::{Body, Chart, Line, Scale};

/// Lines at most (the first subtasks in lane order; the CSV has all).
const MAX_LINES: usize = 12;

/// Distinct colours for the lines.
const COLORS: [(u8, u8, u8); 6] = [
    (0x1f, 0x77, 0xb4),
    (0xd6, 0x27, 0x28),
    (0x2c, 0xa0, 0x2c),
    (0x94, 0x67, 0xbd),
    (0x8c, 0x56, 0x4b),
    (0x17, 0xbe, 0xcf),
];

/// The points of a subtask's watermark as steps: `(processing time s, watermark s)` at each
/// advance (the bins' last time and highest value), the previous value held until then;
/// without −∞ and the final +∞.
pub fn watermark_points(l: &Lane, tl: &Timeline) -> Vec<(f64, f64)> {
    let Some(tt) = l.timeline(tl) else {
        return Vec::new();
    };
    let raw: Vec<(f64, f64)> = tt
        .watermarks
        .iter()
        .map(|(_, r)| r)
        .filter(|r| r.max != i64::MIN && r.max != i64::MAX)
        .map(|r| (r.count.last_ns as f64 / 1e9, r.max as f64 / 1e3))
        .collect();
    // advances closer than a 500th of the run are one step (to its last value)
    let span = raw.last().map_or(0.0, |p| p.0);
    let min_dx = span / 500.0;
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (k, &(x, y)) in raw.iter().enumerate() {
        let last = k + 1 == raw.len();
        match out.last().copied() {
            Some((px, _)) if x - px < min_dx && !last => {
                let n = out.len();
                out[n - 1].1 = y;
            }
            Some((_, prev)) => {
                // a step: the watermark holds until it advances
                out.push((x, prev));
                out.push((x, y));
            }
            None => out.push((x, y)),
        }
    }
    out
}

/// The chart, or `None` when no subtask's watermark advanced (no event time).
pub fn watermark_chart(lanes: &[Lane], tl: &Timeline) -> Option<Chart> {
    let lines: Vec<Line> = lanes
        .iter()
        .map(|l| (l, watermark_points(l, tl)))
        .filter(|(_, p)| !p.is_empty())
        .take(MAX_LINES)
        .enumerate()
        .map(|(k, (l, points))| Line {
            name: l.name.clone(),
            color: COLORS[k % COLORS.len()],
            points,
            marks: false,
        })
        .collect();
    if lines.is_empty() {
        return None;
    }
    Some(Chart {
        title: "Watermark per subtask".into(),
        body: Body::Lines {
            x_label: "processing time (s)".into(),
            y_label: "watermark (event time, s)".into(),
            lines,
            x_scale: Scale::Linear,
            y_scale: Scale::Linear,
        },
        size: (900, 520),
    })
}
