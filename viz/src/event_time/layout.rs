//! The event-time diagram laid out as a [`Scene`]: axes, window bands, watermark steps,
//! firings, dots, labels for the late records, and the legend.

use super::scene::{Anchor, Item, Prim, Rgb, Scene, Style, text_width};
use crate::charts::{nice125, tick};
use streamlab_engine::report::event_time::{Dot, DotKind, EventTimeView, WatermarkStep};

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

/// Colour of a dot kind (Okabe–Ito, told apart in greyscale by shape).
fn kind_color(k: DotKind) -> Rgb {
    match k {
        DotKind::OnTime => (0, 114, 178),
        DotKind::LateAllowed => (230, 159, 0),
        DotKind::LateSide => (213, 94, 0),
        DotKind::Dropped => (0, 0, 0),
    }
}

/// The legend text of a dot kind.
fn kind_label(k: DotKind) -> &'static str {
    match k {
        DotKind::OnTime => "on time",
        DotKind::LateAllowed => "late, within allowed lateness",
        DotKind::LateSide => "late → side output",
        DotKind::Dropped => "late → dropped",
    }
}

/// What happened to a record of a kind, for its tooltip.
fn kind_story(k: DotKind) -> &'static str {
    match k {
        DotKind::OnTime => "on time: added to its window(s)",
        DotKind::LateAllowed => {
            "late, within the allowed lateness: added to a window that had fired, which fires again"
        }
        DotKind::LateSide => "late: its window(s) had closed, sent to the late-data side output",
        DotKind::Dropped => "late: its window(s) had closed, dropped (numLateRecordsDropped)",
    }
}

/// The mark of a dot kind at `(x, y)`: circle, triangle, square, cross.
fn dot_prims(k: DotKind, x: f64, y: f64, scale: f64) -> Vec<Prim> {
    let c = kind_color(k);
    match k {
        DotKind::OnTime => vec![Prim::Circle {
            x,
            y,
            r: 3.6 * scale,
            style: Style::fill(c).with_stroke((255, 255, 255), 0.6),
        }],
        DotKind::LateAllowed => {
            let r = 7.0 * scale;
            vec![Prim::Polygon {
                pts: vec![
                    (x, y - r),
                    (x + r * 0.9, y + r * 0.6),
                    (x - r * 0.9, y + r * 0.6),
                ],
                style: Style::fill(c).with_stroke(INK, 1.2),
            }]
        }
        DotKind::LateSide => {
            let r = 5.5 * scale;
            vec![Prim::Rect {
                x: x - r,
                y: y - r,
                w: 2.0 * r,
                h: 2.0 * r,
                style: Style::fill(c).with_stroke(INK, 1.2),
            }]
        }
        DotKind::Dropped => {
            let r = 5.5 * scale;
            let halo = Style::stroke((255, 255, 255), 5.0);
            let ink = Style::stroke(c, 2.6);
            let a = vec![(x - r, y - r), (x + r, y + r)];
            let b = vec![(x - r, y + r), (x + r, y - r)];
            vec![
                Prim::Path {
                    pts: a.clone(),
                    style: halo,
                },
                Prim::Path {
                    pts: b.clone(),
                    style: halo,
                },
                Prim::Path { pts: a, style: ink },
                Prim::Path { pts: b, style: ink },
            ]
        }
    }
}

/// A firing mark: a diamond on the window's end (filled: on time; hollow: a late firing).
fn fire_prims(x: f64, y: f64, late: bool) -> Vec<Prim> {
    let r = 6.5;
    let style = if late {
        Style::fill((255, 255, 255)).with_stroke(FIRE, 2.4)
    } else {
        Style::fill(FIRE).with_stroke(INK, 1.0)
    };
    vec![Prim::Polygon {
        pts: vec![(x, y - r), (x + r, y), (x, y + r), (x - r, y)],
        style,
    }]
}

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

/// Draw every k-th band (k = 1 up to [`MAX_BANDS_DRAWN`] bands).
fn band_step(v: &EventTimeView) -> usize {
    v.bands.len().div_ceil(MAX_BANDS_DRAWN).max(1)
}

/// Draws the window bands; returns their labels, drawn over the dots.
fn bands(v: &EventTimeView, f: &Frame, items: &mut Vec<Item>) -> Item {
    let mut labels = Vec::new();
    let right_end = v.end_ns;
    let mut labelled = 0;
    let lateness = v.allowed_lateness_ms > 0;
    let every = band_step(v);
    for b in v.bands.iter().step_by(every) {
        let x0 = f.px(b.opened_ns);
        let closed = b.closed_ns.unwrap_or(right_end);
        let x1 = f.px(closed).max(x0 + 1.0);
        let (y0, y1) = (f.py(b.end_ms), f.py(b.start_ms));
        let mut prims = vec![Prim::Rect {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
            style: Style {
                fill: Some((BAND, 0.35)),
                stroke: Some((BAND_EDGE, 1.0)),
                dash: b.closed_ns.is_none().then_some((4, 3)),
            },
        }];
        let cleanup = b.cleanup_ns.unwrap_or(right_end);
        if lateness && cleanup > closed {
            let x2 = f.px(cleanup);
            prims.push(Prim::Rect {
                x: x1,
                y: y0,
                w: x2 - x1,
                h: y1 - y0,
                style: Style {
                    fill: Some((LATENESS, 0.45)),
                    stroke: Some((BAND_EDGE, 1.0)),
                    dash: Some((4, 3)),
                },
            });
        }
        let label = format!(
            "[{} {u}, {} {u})",
            tick(b.start_ms as f64 / f.y.div),
            tick(b.end_ms as f64 / f.y.div),
            u = f.y.unit
        );
        if labelled < 40 && y1 - y0 >= 16.0 && x1 - x0 >= text_width(&label, 11.5) + 8.0 {
            labelled += 1;
            labels.push(Prim::Text {
                x: x0 + 4.0,
                y: y0 + 13.0,
                text: label,
                size: 11.5,
                anchor: Anchor::Start,
                color: BAND_EDGE,
                bold: false,
                vertical: false,
                halo: true,
            });
        }
        let close_text = match b.closed_ns {
            Some(t) => format!(
                "closed at {} when the watermark passed {}",
                ns_text(t),
                ms_text(b.end_ms - 1)
            ),
            None => "still open when the run ended".into(),
        };
        let late_text = match (lateness, b.cleanup_ns) {
            (false, _) => String::new(),
            (true, Some(t)) => format!(
                "; kept for late records until {} (watermark passed {})",
                ns_text(t),
                ms_text(b.end_ms - 1 + v.allowed_lateness_ms)
            ),
            (true, None) => "; kept for late records until the run ended".into(),
        };
        items.push(Item {
            class: Some("window-band".into()),
            attrs: vec![
                ("data-start-ms", b.start_ms.to_string()),
                ("data-end-ms", b.end_ms.to_string()),
                ("data-fires", b.fires.to_string()),
            ],
            title: Some(format!(
                "window [{}, {}): opened at {}, {close_text}{late_text}; {} result(s) emitted{}",
                ms_text(b.start_ms),
                ms_text(b.end_ms),
                ns_text(b.opened_ns),
                b.fires,
                if b.late_fires > 0 {
                    format!(", {} of them late firings", b.late_fires)
                } else {
                    String::new()
                }
            )),
            prims,
        });
    }
    Item {
        class: Some("window-labels".into()),
        prims: labels,
        ..Item::default()
    }
}

/// The watermark lines: per subtask (up to [`MAX_WATERMARK_LINES`]), else the minimum over
/// the subtasks, each as steps in pixel resolution.
pub(super) fn watermark_lines(v: &EventTimeView) -> Vec<(String, Vec<(u64, i64)>)> {
    let per: std::collections::BTreeMap<u32, Vec<(u64, i64)>> =
        v.watermarks
            .iter()
            .fold(std::collections::BTreeMap::new(), |mut m, w| {
                m.entry(w.subtask)
                    .or_insert_with(Vec::new)
                    .push((w.at_ns, w.watermark_ms));
                m
            });
    if v.subtasks <= MAX_WATERMARK_LINES {
        return per
            .into_iter()
            .map(|(s, steps)| (format!("watermark, subtask {s}"), steps))
            .collect();
    }
    // the minimum over every subtask, from when all have one
    let mut all: Vec<&WatermarkStep> = v.watermarks.iter().collect();
    all.sort_by_key(|w| (w.at_ns, w.subtask));
    let mut current = vec![i64::MIN; v.subtasks as usize];
    let mut steps: Vec<(u64, i64)> = Vec::new();
    for w in all {
        if let Some(c) = current.get_mut(w.subtask as usize) {
            *c = w.watermark_ms;
        }
        let min = current.iter().copied().min().unwrap_or(i64::MIN);
        if min != i64::MIN && steps.last().is_none_or(|l| l.1 != min) {
            steps.push((w.at_ns, min));
        }
    }
    vec![(
        format!("watermark, minimum over the {} subtasks", v.subtasks),
        steps,
    )]
}

/// A box on the picture: left, top, right, bottom.
type Box4 = (f64, f64, f64, f64);

const FINAL: &str = "final watermark (+∞) ↑";

/// Where the first watermark line's final step (to +∞, at the end of the input) gets its
/// label: left of the vertical step, half way up it; with the label's box.
fn final_label(v: &EventTimeView, f: &Frame) -> Option<((f64, f64), Box4)> {
    let lines = watermark_lines(v);
    let steps = &lines.first()?.1;
    let i = steps.iter().position(|s| s.1 == i64::MAX)?;
    let x = f.px(steps[i].0) - 6.0;
    let below = steps[..i]
        .iter()
        .rev()
        .find(|s| s.1 != i64::MIN)
        .map_or(BOTTOM, |s| f.py(s.1));
    let y = ((below + TOP) / 2.0).max(TOP + 14.0);
    let w = text_width(FINAL, 11.5);
    Some(((x, y), (x - w - 2.0, y - 12.0, x + 2.0, y + 3.0)))
}

fn watermarks(v: &EventTimeView, f: &Frame, items: &mut Vec<Item>) {
    for (i, (name, steps)) in watermark_lines(v).into_iter().enumerate() {
        let mut pts: Vec<(f64, f64)> = Vec::new();
        let mut infinite_at = None;
        for &(at, wm) in steps.iter().filter(|s| s.1 != i64::MIN) {
            let (x, y) = (f.px(at), f.py(wm));
            match pts.last_mut() {
                Some(last) if (last.0 - x).abs() < 0.5 => last.1 = y,
                Some(last) => {
                    let prev = last.1;
                    pts.push((x, prev));
                    pts.push((x, y));
                }
                None => pts.push((x, y)),
            }
            if wm == i64::MAX {
                infinite_at = Some(x);
            }
        }
        if infinite_at.is_none()
            && let Some(&(_, y)) = pts.last()
        {
            pts.push((f.px(v.end_ns), y));
        }
        // a point repeated by the collapsing adds nothing
        pts.dedup_by(|a, b| (a.0 - b.0).abs() < 0.05 && (a.1 - b.1).abs() < 0.05);
        if pts.is_empty() {
            continue;
        }
        let mut prims = vec![Prim::Path {
            pts,
            style: Style::stroke(WATERMARK, 2.2).with_dash(DASHES[i % DASHES.len()]),
        }];
        if i == 0
            && let Some(((x, y), _)) = final_label(v, f)
        {
            prims.push(Prim::Text {
                x,
                y,
                text: FINAL.into(),
                size: 11.5,
                anchor: Anchor::End,
                color: WATERMARK,
                bold: false,
                vertical: false,
                halo: true,
            });
        }
        items.push(Item {
            class: Some("watermark-line".into()),
            attrs: vec![("data-line", name.clone())],
            title: Some(format!(
                "{name}: {} steps; a window closes when this line passes its end − 1",
                steps.len()
            )),
            prims,
        });
    }
}

/// A record's key as a reader reads it: `south`, `7`.
fn key_text(d: &Dot) -> Option<String> {
    let k = d.key.as_deref()?;
    Some(match serde_json::from_str::<serde_json::Value>(k) {
        Ok(serde_json::Value::String(s)) => s,
        _ => k.to_string(),
    })
}

/// The tooltip of one record.
fn dot_title(d: &Dot, v: &EventTimeView) -> String {
    let sub = if v.subtasks > 1 {
        format!(" by subtask {}", d.subtask)
    } else {
        String::new()
    };
    let key = key_text(d).map_or_else(String::new, |k| format!("key {k}, "));
    format!(
        "record ({key}timestamp {}), processed at {}{sub}; watermark then {} — {}",
        ms_text(d.ts_ms),
        ns_text(d.at_ns),
        ms_text(d.watermark_ms),
        kind_story(d.kind)
    )
}

fn dots(v: &EventTimeView, f: &Frame, items: &mut Vec<Item>, kinds: &[DotKind]) {
    for &k in kinds {
        let of: Vec<&Dot> = v.dots_of(k).collect();
        let class = Some(format!("dot {}", k.class()));
        if of.len() <= MAX_MARKS[k.index()] {
            for d in of {
                items.push(Item {
                    class: class.clone(),
                    attrs: Vec::new(),
                    title: Some(dot_title(d, v)),
                    prims: dot_prims(k, f.px(d.at_ns), f.py(d.ts_ms), 1.0),
                });
            }
            continue;
        }
        // records close together share a mark: a grid whose cells double until few are
        // occupied
        let mut cell = 3.0;
        let cells = loop {
            let mut m: std::collections::BTreeMap<(i64, i64), Vec<&Dot>> =
                std::collections::BTreeMap::new();
            for d in &of {
                let key = (
                    (f.px(d.at_ns) / cell).floor() as i64,
                    (f.py(d.ts_ms) / cell).floor() as i64,
                );
                m.entry(key).or_default().push(d);
            }
            if m.len() <= MAX_MARKS[k.index()] || cell > 64.0 {
                break m;
            }
            cell *= 2.0;
        };
        let every = v.sample_every.get(k);
        for ((cx, cy), ds) in cells {
            let n = ds.len() as u64 * every;
            let (t0, t1) = (
                ds.iter().map(|d| d.at_ns).min().unwrap_or(0),
                ds.iter().map(|d| d.at_ns).max().unwrap_or(0),
            );
            let (s0, s1) = (
                ds.iter().map(|d| d.ts_ms).min().unwrap_or(0),
                ds.iter().map(|d| d.ts_ms).max().unwrap_or(0),
            );
            items.push(Item {
                class: class.clone(),
                attrs: vec![("data-count", n.to_string())],
                title: Some(format!(
                    "about {n} {} records (timestamps {} to {}, processed {} to {}) — {}",
                    kind_label(k),
                    ms_text(s0),
                    ms_text(s1),
                    ns_text(t0),
                    ns_text(t1),
                    kind_story(k)
                )),
                prims: dot_prims(k, (cx as f64 + 0.5) * cell, (cy as f64 + 0.5) * cell, 1.0),
            });
        }
    }
}

/// Firings at one pixel for one window range, drawn as one mark.
struct FireMark {
    px: i64,
    start_ms: i64,
    end_ms: i64,
    late: bool,
    count: u64,
    at_ns: u64,
    subtasks: Vec<u32>,
}

/// Draws the firings; returns whether the marks were thinned.
fn firings(v: &EventTimeView, f: &Frame, items: &mut Vec<Item>) -> bool {
    let mut marks: Vec<FireMark> = Vec::new();
    for x in &v.firings {
        let px = f.px(x.at_ns).round() as i64;
        let same = |m: &&mut FireMark| {
            m.px == px && m.start_ms == x.start_ms && m.end_ms == x.end_ms && m.late == x.late
        };
        match marks.iter_mut().rev().take(64).find(same) {
            Some(m) => {
                m.count += x.count;
                if !m.subtasks.contains(&x.subtask) {
                    m.subtasks.push(x.subtask);
                }
            }
            None => marks.push(FireMark {
                px,
                start_ms: x.start_ms,
                end_ms: x.end_ms,
                late: x.late,
                count: x.count,
                at_ns: x.at_ns,
                subtasks: vec![x.subtask],
            }),
        }
    }
    // Beyond MAX_FIRING_MARKS, every k-th mark is drawn and carries the results of the
    // marks left out before it: the counts still add up to every result emitted.
    let k = marks.len().div_ceil(MAX_FIRING_MARKS).max(1);
    let mut carried = 0;
    let n = marks.len();
    let mut kept = Vec::with_capacity(n / k + 1);
    for (i, mut m) in marks.into_iter().enumerate() {
        carried += m.count;
        if (i + 1) % k == 0 || i + 1 == n {
            m.count = std::mem::take(&mut carried);
            kept.push(m);
        }
    }
    for m in kept {
        let who = if v.subtasks > 1 {
            let s: Vec<String> = m.subtasks.iter().map(|s| s.to_string()).collect();
            format!(" by subtask {}", s.join(", "))
        } else {
            String::new()
        };
        items.push(Item {
            class: Some(if m.late { "firing late" } else { "firing" }.into()),
            attrs: vec![("data-count", m.count.to_string())],
            title: Some(format!(
                "window [{}, {}) fired at {}{who}: {} result(s){}{}",
                ms_text(m.start_ms),
                ms_text(m.end_ms),
                ns_text(m.at_ns),
                m.count,
                if k > 1 {
                    format!(
                        " (counting those of the {} marks left out before it)",
                        k - 1
                    )
                } else {
                    String::new()
                },
                if m.late {
                    " — a late firing: a late record within the allowed lateness updated it"
                } else {
                    " — the watermark passed the window's end − 1"
                }
            )),
            prims: fire_prims(m.px as f64, f.py(m.end_ms), m.late),
        });
    }
    k > 1
}

/// Text labels next to the late records, when there are few, placed where they overlap
/// neither each other nor the plot's edge.
fn late_labels(v: &EventTimeView, f: &Frame, items: &mut Vec<Item>) {
    let late: Vec<&Dot> = v
        .dots
        .iter()
        .filter(|d| d.kind != DotKind::OnTime)
        .collect();
    if late.is_empty() || late.len() > MAX_LABELS {
        return;
    }
    let size = 12.0;
    // labels keep clear of each other, of the marks and of the final watermark's label
    let boxed = |x: f64, y: f64, r: f64| (x - r, y - r, x + r, y + r);
    let mut placed: Vec<Box4> = v
        .dots
        .iter()
        .take(5_000)
        .map(|d| boxed(f.px(d.at_ns), f.py(d.ts_ms), 5.0))
        .chain(
            v.firings
                .iter()
                .take(5_000)
                .map(|x| boxed(f.px(x.at_ns), f.py(x.end_ms), 7.0)),
        )
        .collect();
    if let Some(r) = final_label(v, f) {
        placed.push(r.1);
    }
    let mut prims = Vec::new();
    for d in late {
        let (x, y) = (f.px(d.at_ns), f.py(d.ts_ms));
        let key = key_text(d).map_or_else(String::new, |k| format!("{k} · "));
        let s = format!(
            "{key}ts {} · watermark {}",
            ms_text(d.ts_ms),
            ms_text(d.watermark_ms)
        );
        let w = text_width(&s, size);
        let mut candidates = Vec::new();
        for dy in [4.0, 20.0, -12.0, 36.0, -28.0] {
            candidates.push((x + 11.0, y + dy, Anchor::Start));
            candidates.push((x - 11.0, y + dy, Anchor::End));
        }
        // the first place inside the plot that overlaps nothing, else the one inside that
        // overlaps least: a late record is never left without its label
        let mut best: Option<(usize, (f64, f64, Anchor), Box4)> = None;
        for (tx, ty, anchor) in candidates {
            let x0 = if anchor == Anchor::Start { tx } else { tx - w };
            let r = (x0 - 2.0, ty - size, x0 + w + 2.0, ty + 3.0);
            if !(r.0 > LEFT && r.2 < RIGHT && r.1 > TOP && r.3 < BOTTOM) {
                continue;
            }
            let overlaps = placed
                .iter()
                .filter(|p| !(r.2 < p.0 || r.0 > p.2 || r.3 < p.1 || r.1 > p.3))
                .count();
            if best.as_ref().is_none_or(|b| overlaps < b.0) {
                best = Some((overlaps, (tx, ty, anchor), r));
            }
            if overlaps == 0 {
                break;
            }
        }
        if let Some((_, (tx, ty, anchor), r)) = best {
            placed.push(r);
            // a leader from the mark to its label
            let end_x = if anchor == Anchor::Start {
                tx - 2.0
            } else {
                tx + 2.0
            };
            prims.push(Prim::Path {
                pts: vec![(x, y), (end_x, ty - size * 0.35)],
                style: Style::stroke(GREY, 0.8),
            });
            prims.push(Prim::Text {
                x: tx,
                y: ty,
                text: s,
                size,
                anchor,
                color: INK,
                bold: false,
                vertical: false,
                halo: true,
            });
        }
    }
    items.push(Item {
        class: Some("late-labels".into()),
        prims,
        ..Item::default()
    });
}

/// Wraps `s` into lines of at most `width` px at `size`.
fn wrap(s: &str, width: f64, size: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in s.split(' ') {
        let next = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if text_width(&next, size) > width && !line.is_empty() {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        } else {
            line = next;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn legend(v: &EventTimeView, items: &mut Vec<Item>, fires_thinned: bool) {
    let x = LEGEND_X;
    let mut y = TOP + 6.0;
    let size = 13.0;
    let mut prims = vec![text(x, y, "Legend", 14.5, Anchor::Start, INK)];
    if let Some(Prim::Text { bold, .. }) = prims.last_mut() {
        *bold = true;
    }
    y += 24.0;
    let entry = |prims: &mut Vec<Prim>, y: &mut f64, mark: Vec<Prim>, label: String| {
        prims.extend(mark);
        for (i, l) in wrap(&label, WIDTH as f64 - x - 44.0, size)
            .into_iter()
            .enumerate()
        {
            prims.push(text(
                x + 30.0,
                *y + 4.5 + 16.0 * i as f64,
                l,
                size,
                Anchor::Start,
                INK,
            ));
            if i > 0 {
                *y += 16.0;
            }
        }
        *y += 24.0;
    };
    for k in DotKind::ALL {
        let n = v.records.get(k);
        let mark = dot_prims(k, x + 11.0, y, 1.0);
        entry(&mut prims, &mut y, mark, format!("{} ({n})", kind_label(k)));
    }
    for (i, (name, _)) in watermark_lines(v).iter().enumerate() {
        let mark = vec![Prim::Path {
            pts: vec![(x, y), (x + 22.0, y)],
            style: Style::stroke(WATERMARK, 2.2).with_dash(DASHES[i % DASHES.len()]),
        }];
        entry(&mut prims, &mut y, mark, name.clone());
    }
    let band = |y: f64, c: Rgb, o: f64, dash: Option<(u32, u32)>| {
        vec![Prim::Rect {
            x,
            y: y - 7.0,
            w: 22.0,
            h: 14.0,
            style: Style {
                fill: Some((c, o)),
                stroke: Some((BAND_EDGE, 1.0)),
                dash,
            },
        }]
    };
    let m = band(y, BAND, 0.35, None);
    entry(
        &mut prims,
        &mut y,
        m,
        "window [start, end): open until the watermark passes end − 1".into(),
    );
    if v.allowed_lateness_ms > 0 {
        let m = band(y, LATENESS, 0.45, Some((4, 3)));
        entry(
            &mut prims,
            &mut y,
            m,
            format!(
                "window kept for late records ({} allowed lateness)",
                duration_text(v.allowed_lateness_ms)
            ),
        );
    }
    let m = fire_prims(x + 11.0, y, false);
    entry(
        &mut prims,
        &mut y,
        m,
        "window fired (results emitted)".into(),
    );
    if v.firings.iter().any(|f| f.late) {
        let m = fire_prims(x + 11.0, y, true);
        entry(
            &mut prims,
            &mut y,
            m,
            "late firing (allowed lateness)".into(),
        );
    }
    y += 6.0;
    let note = "A record is late when the watermark has passed the end − 1 of all its windows (plus the allowed lateness). Hover a mark for details.";
    for l in wrap(note, WIDTH as f64 - x - 16.0, 12.0) {
        prims.push(text(x, y, l, 12.0, Anchor::Start, GREY));
        y += 15.0;
    }
    let mut notes = Vec::new();
    let every = band_step(v);
    if every > 1 {
        notes.push(format!("1 window band drawn per {every} windows"));
    }
    if fires_thinned {
        notes.push("firing marks thinned: each counts the firings before it".to_string());
    }
    if v.watermark_steps_thinned > 0 {
        notes.push(format!(
            "{} watermark steps left out",
            v.watermark_steps_thinned
        ));
    }
    if v.bands_untracked > 0 {
        notes.push(format!("{} window ranges not drawn", v.bands_untracked));
    }
    if v.firings_untracked > 0 {
        notes.push(format!("{} firings not drawn", v.firings_untracked));
    }
    for l in notes {
        prims.push(text(x, y, l, 12.0, Anchor::Start, GREY));
        y += 15.0;
    }
    items.push(Item {
        class: Some("legend".into()),
        prims,
        ..Item::default()
    });
}
