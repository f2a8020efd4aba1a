//! The event-time diagram laid out as a [`Scene`]: axes, window bands, watermark steps,
//! firings, dots, labels for the late records, and the legend.

mod legend;
mod marks;

use super::scene::{Anchor, Item, Prim, Rgb, Scene, Style, text_width};
use crate::charts::{nice125, tick};
use legend::legend;
pub(super) use marks::watermark_lines;
use marks::{
    band_step, bands, dot_prims, dots, fire_prims, firings, kind_label, late_labels, watermarks,
};
use streamlab_engine::report::event_time::{
    Dot, DotKind, EventTimeView, WatermarkStep, WindowBand,
};

pub(super) const WIDTH: u32 = 1200;
pub(super) const HEIGHT: u32 = 720;
const LEFT: f64 = 84.0;
const TOP: f64 = 92.0;
const RIGHT: f64 = 870.0;
const BOTTOM: f64 = 650.0;
const LEGEND_X: f64 = 892.0;

/// Per-subtask watermark lines up to this many subtasks; beyond, one line: the minimum.
pub(super) const MAX_WATERMARK_LINES: u32 = 4;
/// Marks of one kind drawn one per record up to this many; beyond, records close together
/// share a mark (`data-count`).
const MAX_MARKS: [usize; 4] = [2_500, 1_000, 1_000, 1_000];
/// Window bands drawn at most (every k-th beyond).
const MAX_BANDS_DRAWN: usize = 400;
/// Firing marks drawn at most (every k-th beyond, carrying the counts of the others).
const MAX_FIRING_MARKS: usize = 1_500;
/// Late records get a text label when there are at most this many.
const MAX_LABELS: usize = 12;

const INK: Rgb = (30, 30, 30);
const GREY: Rgb = (95, 95, 95);
const GRID: Rgb = (228, 228, 228);
const WATERMARK: Rgb = (0, 100, 75);
const BAND: Rgb = (160, 190, 225);
const BAND_EDGE: Rgb = (80, 120, 170);
const LATENESS: Rgb = (250, 200, 140);
const FIRE: Rgb = (170, 60, 140);
/// Dashes of the per-subtask watermark lines.
const DASHES: [Option<(u32, u32)>; 4] = [None, Some((9, 4)), Some((3, 3)), Some((12, 3))];

fn text(x: f64, y: f64, s: impl Into<String>, size: f64, anchor: Anchor, color: Rgb) -> Prim {
    Prim::Text {
        x,
        y,
        text: s.into(),
        size,
        anchor,
        color,
        bold: false,
        vertical: false,
        halo: false,
    }
}

fn plain(prims: Vec<Prim>) -> Item {
    Item {
        prims,
        ..Item::default()
    }
}

/// A linear axis: the data range, its ticks and how their labels read.
struct Axis {
    lo: f64,
    hi: f64,
    /// Tick values (in the axis's data unit).
    ticks: Vec<f64>,
    /// Data units per label unit (1000: labels in seconds of milliseconds).
    div: f64,
    unit: &'static str,
}

impl Axis {
    /// An axis over `[lo, hi]` (milliseconds) with about `n` ticks, in s or ms.
    fn new(lo: f64, hi: f64, n: f64) -> Axis {
        let (lo, hi) = if hi - lo < 1.0 {
            (lo, lo + 1.0)
        } else {
            (lo, hi)
        };
        let step = nice125((hi - lo) / n, false);
        let first = (lo / step).ceil() * step;
        let mut ticks = Vec::new();
        let mut v = first;
        while v <= hi + step * 1e-9 && ticks.len() < 40 {
            ticks.push(v);
            v = first + step * ticks.len() as f64;
        }
        let (div, unit) = if hi - lo >= 2000.0 {
            (1000.0, "s")
        } else {
            (1.0, "ms")
        };
        Axis {
            lo,
            hi,
            ticks,
            div,
            unit,
        }
    }

    fn label(&self, v: f64) -> String {
        tick(v / self.div)
    }
}

/// Milliseconds of event time as a reader reads them: `4 400 ms`.
fn ms_text(ms: i64) -> String {
    match ms {
        i64::MIN => "none yet".into(),
        i64::MAX => "+∞ (end of input)".into(),
        _ => {
            let s = ms.unsigned_abs().to_string();
            let mut out = String::new();
            for (i, c) in s.chars().enumerate() {
                if i > 0 && (s.len() - i).is_multiple_of(3) {
                    out.push('\u{2009}');
                }
                out.push(c);
            }
            format!("{}{out} ms", if ms < 0 { "−" } else { "" })
        }
    }
}

/// A duration in ms as the scenario file would write it: `2 s`, `1500 ms`.
fn duration_text(ms: i64) -> String {
    if ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

/// Nanoseconds of processing time as seconds: `8.000 s`.
fn ns_text(ns: u64) -> String {
    format!("{:.3} s", ns as f64 / 1e9)
}

/// The plot's coordinate system.
struct Frame {
    x: Axis,
    y: Axis,
}

impl Frame {
    /// x of processing time `ns`.
    fn px(&self, ns: u64) -> f64 {
        let ms = ns as f64 / 1e6;
        LEFT + (ms - self.x.lo) / (self.x.hi - self.x.lo) * (RIGHT - LEFT)
    }

    /// y of event time `ms` (clamped to the plot).
    fn py(&self, ms: i64) -> f64 {
        let v = (ms as f64).clamp(self.y.lo, self.y.hi);
        BOTTOM - (v - self.y.lo) / (self.y.hi - self.y.lo) * (BOTTOM - TOP)
    }
}

/// The event-time range the plot shows: every timestamp, band and finite watermark.
fn y_range(v: &EventTimeView) -> (f64, f64) {
    let finite = |w: &&WatermarkStep| w.watermark_ms != i64::MIN && w.watermark_ms != i64::MAX;
    let vals = v
        .dots
        .iter()
        .map(|d| d.ts_ms)
        .chain(v.bands.iter().flat_map(|b| [b.start_ms, b.end_ms]))
        .chain(v.watermarks.iter().filter(finite).map(|w| w.watermark_ms));
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for x in vals {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    if lo > hi {
        return (0.0, 1000.0);
    }
    let (lo, hi) = (lo as f64, hi as f64);
    let pad = ((hi - lo) * 0.03).max(1.0);
    (lo - pad, hi + pad)
}

/// Lays out the whole diagram.
pub(super) fn scene(v: &EventTimeView) -> Scene {
    let end_ms = (v.end_ns as f64 / 1e6).max(1.0);
    let (ylo, yhi) = y_range(v);
    let f = Frame {
        x: Axis::new(0.0, end_ms * 1.01, 9.0),
        y: Axis::new(ylo, yhi, 8.0),
    };
    let mut items = Vec::new();
    header(v, &mut items);
    axes(&f, &mut items);
    let band_labels = bands(v, &f, &mut items);
    watermarks(v, &f, &mut items);
    dots(v, &f, &mut items, &[DotKind::OnTime]);
    let fires_thinned = firings(v, &f, &mut items);
    dots(
        v,
        &f,
        &mut items,
        &[DotKind::LateAllowed, DotKind::LateSide, DotKind::Dropped],
    );
    items.push(band_labels);
    late_labels(v, &f, &mut items);
    legend(v, &mut items, fires_thinned);
    Scene {
        width: WIDTH,
        height: HEIGHT,
        attrs: vec![
            ("class", "event-time".into()),
            ("data-operator", v.operator.clone()),
        ],
        title: format!(
            "Event-time diagram of window operator {}: records by arrival and timestamp, the watermark, the windows",
            v.operator
        ),
        items,
    }
}

fn header(v: &EventTimeView, items: &mut Vec<Item>) {
    let mut title = text(
        20.0,
        32.0,
        format!(
            "Event time vs. processing time — window operator “{}”",
            v.operator
        ),
        19.0,
        Anchor::Start,
        INK,
    );
    if let Prim::Text { bold, .. } = &mut title {
        *bold = true;
    }
    let late = if v.side_output {
        "late records → side output"
    } else {
        "late records dropped"
    };
    let subtasks = if v.subtasks == 1 {
        "1 subtask".to_string()
    } else {
        format!("{} subtasks", v.subtasks)
    };
    let lateness = match v.allowed_lateness_ms {
        0 => "no allowed lateness".to_string(),
        ms => format!("allowed lateness {}", duration_text(ms)),
    };
    let sub = format!("{} · {subtasks} · {lateness} · {late}", v.window);
    let total = v.records.total();
    let k = v.sample_every;
    let sampled = if [k.on_time, k.late_allowed, k.late_side, k.dropped] == [1; 4] {
        "one dot per record".to_string()
    } else {
        let parts: Vec<String> = DotKind::ALL
            .iter()
            .filter(|&&kd| k.get(kd) > 1)
            .map(|&kd| format!("1 dot per {} {} records", k.get(kd), kind_label(kd)))
            .collect();
        parts.join(", ")
    };
    let line3 = format!(
        "{total} records processed ({sampled}). x: when the subtask processed the record · y: its timestamp",
    );
    items.push(plain(vec![
        title,
        text(20.0, 56.0, sub, 14.0, Anchor::Start, INK),
        text(20.0, 76.0, line3, 12.5, Anchor::Start, GREY),
    ]));
}

fn axes(f: &Frame, items: &mut Vec<Item>) {
    let mut prims = Vec::new();
    let xt = |ms: f64| LEFT + (ms - f.x.lo) / (f.x.hi - f.x.lo) * (RIGHT - LEFT);
    let yt = |ms: f64| BOTTOM - (ms - f.y.lo) / (f.y.hi - f.y.lo) * (BOTTOM - TOP);
    for &t in &f.x.ticks {
        let x = xt(t);
        prims.push(Prim::Path {
            pts: vec![(x, TOP), (x, BOTTOM)],
            style: Style::stroke(GRID, 1.0),
        });
        prims.push(Prim::Path {
            pts: vec![(x, BOTTOM), (x, BOTTOM + 5.0)],
            style: Style::stroke(INK, 1.0),
        });
        prims.push(text(
            x,
            BOTTOM + 20.0,
            f.x.label(t),
            13.0,
            Anchor::Middle,
            INK,
        ));
    }
    for &t in &f.y.ticks {
        let y = yt(t);
        prims.push(Prim::Path {
            pts: vec![(LEFT, y), (RIGHT, y)],
            style: Style::stroke(GRID, 1.0),
        });
        prims.push(Prim::Path {
            pts: vec![(LEFT - 5.0, y), (LEFT, y)],
            style: Style::stroke(INK, 1.0),
        });
        prims.push(text(
            LEFT - 9.0,
            y + 4.5,
            f.y.label(t),
            13.0,
            Anchor::End,
            INK,
        ));
    }
    prims.push(Prim::Rect {
        x: LEFT,
        y: TOP,
        w: RIGHT - LEFT,
        h: BOTTOM - TOP,
        style: Style::stroke(INK, 1.2),
    });
    prims.push(text(
        (LEFT + RIGHT) / 2.0,
        BOTTOM + 48.0,
        format!(
            "processing time at the window operator's subtask ({})",
            f.x.unit
        ),
        14.5,
        Anchor::Middle,
        INK,
    ));
    prims.push(Prim::Text {
        x: 24.0,
        y: (TOP + BOTTOM) / 2.0,
        text: format!("event time: the record's timestamp ({})", f.y.unit),
        size: 14.5,
        anchor: Anchor::Middle,
        color: INK,
        bold: false,
        vertical: true,
        halo: false,
    });
    items.push(Item {
        class: Some("axes".into()),
        prims,
        ..Item::default()
    });
}
