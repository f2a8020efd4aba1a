//! The charts. A [`Chart`] holds its data; [`Chart::svg`] and [`Chart::png`] draw the same
//! picture on plotters' SVG and bitmap backends.

use crate::{Run, SweepPoint, VizError, mode_color};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::sync::Once;

/// The embedded font (DejaVu Sans, Bitstream Vera licence: `fonts/DejaVu-LICENSE`).
const FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
/// The family every chart asks for.
const FAMILY: &str = "sans-serif";

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            plotters::style::register_font(FAMILY, style, FONT)
                .unwrap_or_else(|_| panic!("the embedded font is a valid TrueType file"));
        }
    });
}

type Rgb = (u8, u8, u8);

/// A line of a line chart.
#[derive(Debug, Clone)]
pub struct Line {
    /// Legend text.
    pub name: String,
    /// Colour.
    pub color: Rgb,
    /// Points `(x, y)`.
    pub points: Vec<(f64, f64)>,
    /// Mark each point.
    pub marks: bool,
}

/// One row of the timeline.
#[derive(Debug, Clone)]
pub struct TimelineRow {
    /// Mode.
    pub mode: String,
    /// The run's end (ms).
    pub end_ms: f64,
    /// Batches / stages `(start, end)`.
    pub batches: Vec<(f64, f64)>,
    /// Checkpoints `(trigger, completed)`.
    pub checkpoints: Vec<(f64, Option<f64>)>,
    /// Failures `(at, downtime)`.
    pub failures: Vec<(f64, f64)>,
}

/// What a chart shows.
#[derive(Debug, Clone)]
pub enum Body {
    /// Lines over a numeric or named x axis.
    Lines {
        /// x axis label, with unit.
        x_label: String,
        /// y axis label, with unit.
        y_label: String,
        /// The lines.
        lines: Vec<Line>,
        /// The x axis: linear, log10 or categories.
        x_scale: Scale,
        /// The y axis: linear or log10.
        y_scale: Scale,
    },
    /// Grouped bars: one group per category, one bar per mode.
    Bars {
        /// y axis label, with unit.
        y_label: String,
        /// Category names.
        groups: Vec<String>,
        /// Per mode: name, colour, one value per group.
        bars: Vec<(String, Rgb, Vec<f64>)>,
    },
    /// Per mode a row over processing time.
    Timeline(Vec<TimelineRow>),
    /// A table drawn as a chart.
    Table {
        /// Column headers.
        header: Vec<String>,
        /// Rows: mode, cells.
        rows: Vec<(String, Vec<String>)>,
    },
}

/// A chart: a title and what it shows.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Title.
    pub title: String,
    /// Content.
    pub body: Body,
    /// Size in pixels.
    pub size: (u32, u32),
}

impl Chart {
    /// The comparison chart called `name` (see [`crate::COMPARE_CHARTS`]).
    pub fn compare(name: &str, runs: &[Run<'_>]) -> Chart {
        let title = crate::COMPARE_CHARTS
            .iter()
            .find(|c| c.0 == name)
            .map_or(name, |c| c.1)
            .to_string();
        let line = |r: &Run<'_>, points: Vec<(f64, f64)>| Line {
            name: r.mode.clone(),
            color: mode_color(&r.mode),
            points,
            marks: false,
        };
        let body = match name {
            "latency_cdf" => Body::Lines {
                x_label: "latency, record creation → visible at the sink (ms, log scale)".into(),
                y_label: "fraction of records at or below".into(),
                lines: runs.iter().map(|r| line(r, r.latency_cdf())).collect(),
                x_scale: Scale::Log,
                y_scale: Scale::Linear,
            },
            "latency_percentiles" => Body::Bars {
                y_label: "latency (ms)".into(),
                groups: ["p50", "p90", "p99", "max"].map(String::from).to_vec(),
                bars: runs
                    .iter()
                    .map(|r| {
                        let l = &r.report.latency;
                        (
                            r.mode.clone(),
                            mode_color(&r.mode),
                            vec![l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms],
                        )
                    })
                    .collect(),
            },
            "throughput" => {
                let bin = crate::throughput_bin_ms(runs);
                Body::Lines {
                    x_label: format!("processing time (ms), in bins of {}", tick_ms(bin)),
                    y_label: "records reaching the sinks (records/s)".into(),
                    lines: runs
                        .iter()
                        .map(|r| line(r, steps(&r.throughput_binned(bin))))
                        .collect(),
                    x_scale: Scale::Linear,
                    y_scale: Scale::Linear,
                }
            }
            "results_over_time" => {
                let bin = crate::throughput_bin_ms(runs);
                Body::Lines {
                    x_label: "processing time (ms)".into(),
                    y_label: "results visible at the sinks (records, cumulative)".into(),
                    lines: runs
                        .iter()
                        .map(|r| line(r, r.results_over_time(bin)))
                        .collect(),
                    x_scale: Scale::Linear,
                    y_scale: Scale::Linear,
                }
            }
            "watermark_lag" => Body::Lines {
                x_label: "processing time (ms)".into(),
                y_label: "processing time − watermark (ms)".into(),
                lines: runs.iter().map(|r| line(r, r.watermark_lag())).collect(),
                x_scale: Scale::Linear,
                y_scale: Scale::Linear,
            },
            "timeline" => Body::Timeline(
                runs.iter()
                    .map(|r| TimelineRow {
                        mode: r.mode.clone(),
                        end_ms: r.report.sim_duration_ms,
                        batches: r.batches(),
                        checkpoints: r.checkpoints(),
                        failures: r.failures(),
                    })
                    .collect(),
            ),
            _ => Body::Table {
                header: [
                    "mode",
                    "records out",
                    "duplicates",
                    "missing",
                    "wrong results",
                    "late drops",
                ]
                .map(String::from)
                .to_vec(),
                rows: runs
                    .iter()
                    .map(|r| {
                        let c = r.correctness();
                        (
                            r.mode.clone(),
                            vec![
                                r.report.sink_records.to_string(),
                                c.map_or("none".into(), |d| d.0.to_string()),
                                c.map_or("none".into(), |d| d.1.to_string()),
                                c.map_or("none".into(), |d| d.2.to_string()),
                                r.late_drops().to_string(),
                            ],
                        )
                    })
                    .collect(),
            },
        };
        Chart {
            title,
            body,
            size: (900, 520),
        }
    }

    /// Latency (p50 and p99) against throughput, one line per mode and percentile.
    pub fn sweep(points: &[SweepPoint]) -> Chart {
        let modes = sweep_modes(points);
        let mut lines = Vec::new();
        for m in &modes {
            for (key, what) in [(P50, "p50"), (P99, "p99")] {
                let mut pts: Vec<(f64, f64)> = points
                    .iter()
                    .filter(|p| &p.mode == m)
                    .map(|p| (p.throughput_per_s, key(p)))
                    .filter(|(x, y)| *x > 0.0 && *y > 0.0)
                    .collect();
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                let mut color = mode_color(m);
                if what == "p99" {
                    // the darker shade of the mode's colour
                    color = (color.0 / 2, color.1 / 2, color.2 / 2);
                }
                lines.push(Line {
                    name: format!("{m} {what}"),
                    color,
                    points: pts,
                    marks: true,
                });
            }
        }
        Chart {
            title: "Latency against throughput".into(),
            body: Body::Lines {
                x_label: "throughput: source records per second of simulated time (log scale)"
                    .into(),
                y_label: "latency, creation → visible (ms, log scale)".into(),
                lines,
                x_scale: Scale::Log,
                y_scale: Scale::Log,
            },
            size: (900, 560),
        }
    }

    /// A sweep of a setting that is not a source rate: latency (p50 and p99, `what` =
    /// `"latency"`) or throughput (`"throughput"`) against the swept values, one line per
    /// mode, the values in the order given.
    pub fn sweep_by_setting(
        setting: &str,
        values: &[String],
        points: &[SweepPoint],
        what: &str,
    ) -> Chart {
        let modes = sweep_modes(points);
        let at = |p: &SweepPoint| values.iter().position(|x| *x == p.value);
        let mut lines = Vec::new();
        let keys: &[(Measure, &str)] = if what == "latency" {
            &[(P50, "p50"), (P99, "p99")]
        } else {
            &[(THROUGHPUT, "")]
        };
        for m in &modes {
            for &(key, pct) in keys {
                let mut pts: Vec<(f64, f64)> = points
                    .iter()
                    .filter(|p| &p.mode == m)
                    .filter_map(|p| Some((at(p)? as f64, key(p))))
                    .filter(|(_, y)| what != "latency" || *y > 0.0)
                    .collect();
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                let mut color = mode_color(m);
                if pct == "p99" {
                    color = (color.0 / 2, color.1 / 2, color.2 / 2);
                }
                lines.push(Line {
                    name: if pct.is_empty() {
                        m.clone()
                    } else {
                        format!("{m} {pct}")
                    },
                    color,
                    points: pts,
                    marks: true,
                });
            }
        }
        let (title, y_label, y_scale) = if what == "latency" {
            (
                format!("Latency against {setting}"),
                "latency, creation → visible (ms, log scale)",
                Scale::Log,
            )
        } else {
            (
                format!("Throughput against {setting}"),
                "throughput: source records per second of simulated time",
                Scale::Linear,
            )
        };
        Chart {
            title,
            body: Body::Lines {
                x_label: format!("{setting} (the swept setting)"),
                y_label: y_label.into(),
                lines,
                x_scale: Scale::Categories(values.to_vec()),
                y_scale,
            },
            size: (900, 560),
        }
    }

    /// The chart as an SVG document.
    pub fn svg(&self) -> Result<String, VizError> {
        register_font();
        let mut s = String::new();
        {
            let root = SVGBackend::with_string(&mut s, self.size).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(err)?;
        }
        Ok(s)
    }

    /// The chart as a PNG image (drawn with the embedded font).
    pub fn png(&self) -> Result<Vec<u8>, VizError> {
        register_font();
        let (w, h) = self.size;
        let mut buf = vec![0u8; (w * h * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(err)?;
        }
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, w, h);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut wr = enc
                .write_header()
                .map_err(|e| VizError(format!("PNG: {e}")))?;
            wr.write_image_data(&buf)
                .map_err(|e| VizError(format!("PNG: {e}")))?;
        }
        Ok(out)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), VizError> {
        root.fill(&WHITE).map_err(err)?;
        match &self.body {
            Body::Lines {
                x_label,
                y_label,
                lines,
                x_scale,
                y_scale,
            } => draw_lines(
                root,
                &self.title,
                x_label,
                y_label,
                lines,
                (x_scale, y_scale),
            ),
            Body::Bars {
                y_label,
                groups,
                bars,
            } => draw_bars(root, &self.title, y_label, groups, bars),
            Body::Timeline(rows) => draw_timeline(root, &self.title, rows),
            Body::Table { header, rows } => draw_table(root, &self.title, header, rows),
        }
    }
}

/// The modes of a sweep's points, in their first order.
fn sweep_modes(points: &[SweepPoint]) -> Vec<String> {
    let mut modes: Vec<String> = Vec::new();
    for p in points {
        if !modes.contains(&p.mode) {
            modes.push(p.mode.clone());
        }
    }
    modes
}

/// What a sweep chart reads off a point.
type Measure = fn(&SweepPoint) -> f64;
/// A sweep point's median latency.
const P50: Measure = |p| p.latency_p50_ms;
/// A sweep point's 99th-percentile latency.
const P99: Measure = |p| p.latency_p99_ms;
/// A sweep point's throughput.
const THROUGHPUT: Measure = |p| p.throughput_per_s;

/// A bin series as steps: each bin's value from its start to its end.
fn steps(bins: &[(f64, f64, f64)]) -> Vec<(f64, f64)> {
    bins.iter()
        .flat_map(|&(a, b, v)| [(a, v), (b, v)])
        .collect()
}

/// A duration in ms as a tick reads: `500 ms`, `2 s`.
fn tick_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{} s", tick(ms / 1000.0))
    } else {
        format!("{} ms", tick(ms))
    }
}

fn err<E: std::fmt::Display>(e: E) -> VizError {
    VizError(format!("drawing a chart failed: {e}"))
}

fn rgb(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// The smallest width, in pixels, of any mark of the timeline (checkpoint, batch, downtime):
/// a 40 µs checkpoint in a 30 s run is still seen.
pub const MIN_MARK_PX: i32 = 3;

/// Axis range with a margin; a degenerate range is widened.
fn range(values: impl Iterator<Item = f64>, from_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if from_zero {
        lo = lo.min(0.0);
    }
    if hi - lo < 1e-9 {
        hi = lo + 1.0;
    }
    let pad = (hi - lo) * 0.04;
    (if from_zero && lo >= 0.0 { lo } else { lo - pad }, hi + pad)
}

/// `m × 10^e`, computed so that 0.2 is 0.2 and not 0.20000000000000004.
fn pow10(m: f64, e: i32) -> f64 {
    if e >= 0 {
        m * 10f64.powi(e)
    } else {
        m / 10f64.powi(-e)
    }
}

/// The largest 1-2-5 value at or below `v` (`down`), or the smallest at or above it.
pub(crate) fn nice125(v: f64, down: bool) -> f64 {
    let e = v.log10().floor() as i32;
    let cands = [
        pow10(1.0, e),
        pow10(2.0, e),
        pow10(5.0, e),
        pow10(1.0, e + 1),
    ];
    if down {
        cands
            .iter()
            .rev()
            .copied()
            .find(|c| *c <= v * (1.0 + 1e-9))
            .unwrap_or(cands[0])
    } else {
        cands
            .iter()
            .copied()
            .find(|c| *c >= v * (1.0 - 1e-9))
            .unwrap_or(cands[3])
    }
}

/// Log-axis range: from the 1-2-5 value below the smallest value to the one above the largest.
fn log_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite() && *v > 0.0) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (1.0, 10.0);
    }
    let (lo, hi) = (nice125(lo, true), nice125(hi, false));
    if hi <= lo {
        (lo, nice125(lo * 1.01, false))
    } else {
        (lo, hi)
    }
}

/// Ticks of a log axis between `lo` and `hi`: 1-2-5 of every decade; only powers of ten
/// (every other, …) when that would be more than `max` labels. With `light`, the minor
/// ticks 1…9 of each decade as well.
pub fn log_ticks(lo: f64, hi: f64, max: usize, light: bool) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo) || max == 0 {
        return Vec::new();
    }
    let (e0, e1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let within = |v: &f64| *v >= lo * (1.0 - 1e-9) && *v <= hi * (1.0 + 1e-9);
    let with = |ms: &[f64], step: i32| -> Vec<f64> {
        (e0..=e1)
            .filter(|e| (e - e0) % step == 0)
            .flat_map(|e| ms.iter().map(move |&m| pow10(m, e)))
            .filter(within)
            .collect()
    };
    if light {
        let all = with(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], 1);
        if all.len() <= max.max(30) {
            return all;
        }
        return with(&[1.0], 1);
    }
    let t = with(&[1.0, 2.0, 5.0], 1);
    if t.len() <= max {
        return t;
    }
    let mut step = 1;
    loop {
        let t = with(&[1.0], step);
        if t.len() <= max || step > 20 {
            return t;
        }
        step += 1;
    }
}

/// How an axis maps its values.
#[derive(Debug, Clone, PartialEq)]
pub enum Scale {
    /// Linear.
    Linear,
    /// log10, with 1-2-5 ticks.
    Log,
    /// Named positions 0, 1, 2, … (each label at its integer).
    Categories(Vec<String>),
}

/// A coordinate axis in data values: linear, log10 or categories.
#[derive(Debug, Clone)]
pub struct Axis {
    lo: f64,
    hi: f64,
    scale: Scale,
}

impl Axis {
    fn new(lo: f64, hi: f64, scale: Scale) -> Self {
        Axis { lo, hi, scale }
    }

    /// The axis for `values` on `scale` (linear axes start at 0).
    fn fit(values: impl Iterator<Item = f64>, scale: &Scale) -> Self {
        let (lo, hi) = match scale {
            Scale::Linear => range(values, true),
            Scale::Log => log_range(values),
            Scale::Categories(c) => (-0.5, c.len().max(1) as f64 - 0.5),
        };
        Axis::new(lo, hi, scale.clone())
    }

    fn t(&self, v: f64) -> f64 {
        match self.scale {
            Scale::Log => v.max(f64::MIN_POSITIVE).log10(),
            _ => v,
        }
    }

    /// The label of the tick at `v`.
    fn label(&self, v: f64) -> String {
        match &self.scale {
            Scale::Categories(c) => {
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < c.len() {
                    c[i as usize].clone()
                } else {
                    String::new()
                }
            }
            _ => tick(v),
        }
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        RangedCoordf64::from(self.t(self.lo)..self.t(self.hi)).map(&self.t(*v), limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        match &self.scale {
            Scale::Linear => RangedCoordf64::from(self.lo..self.hi).key_points(hint),
            Scale::Log => log_ticks(
                self.lo,
                self.hi,
                hint.max_num_points(),
                hint.weight().allow_light_points(),
            ),
            Scale::Categories(c) => (0..c.len()).map(|i| i as f64).collect(),
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// Tick label: `1.5 k`, `2 M`, `250`, `0.5`, `0.02`.
fn tick(v: f64) -> String {
    let trim = |s: String| s.trim_end_matches('0').trim_end_matches('.').to_string();
    let a = v.abs();
    if a >= 1e6 {
        format!("{} M", trim(format!("{:.3}", v / 1e6)))
    } else if a >= 1e3 {
        format!("{} k", trim(format!("{:.2}", v / 1e3)))
    } else if a < 1e-9 {
        "0".into()
    } else if a >= 1.0 {
        trim(format!("{v:.2}"))
    } else {
        trim(format!("{v:.6}"))
    }
}

/// What a legend entry shows before its text.
#[derive(Debug, Clone, Copy)]
enum Glyph {
    /// A line in the colour (with a dot when the series marks its points).
    Line(RGBColor, bool),
    /// A filled box.
    Fill(RGBAColor),
    /// A thin bar.
    Bar(RGBColor),
}

/// The legend font size.
const LEGEND_FONT: u32 = 13;

/// The width the legend needs to the right of the plot (0 without entries).
fn legend_width<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    keys: &[(String, Glyph)],
) -> u32 {
    if keys.is_empty() {
        return 0;
    }
    let style = TextStyle::from((FAMILY, LEGEND_FONT).into_font());
    let text = keys
        .iter()
        .map(|(k, _)| {
            root.estimate_text_size(k, &style)
                .map_or(k.chars().count() as u32 * 8, |s| s.0)
        })
        .max()
        .unwrap_or(0);
    text + 60
}

/// The legend in a framed box to the right of the plot area `plot` (pixels of `root`): it
/// never covers data.
fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &(std::ops::Range<i32>, std::ops::Range<i32>),
    keys: &[(String, Glyph)],
) -> Result<(), VizError> {
    if keys.is_empty() {
        return Ok(());
    }
    let w = legend_width(root, keys) as i32 - 16;
    let x0 = plot.0.end + 12;
    let y0 = plot.1.start;
    let row = 20;
    let h = keys.len() as i32 * row + 10;
    root.draw(&Rectangle::new(
        [(x0, y0), (x0 + w, y0 + h)],
        WHITE.filled(),
    ))
    .map_err(err)?;
    root.draw(&Rectangle::new(
        [(x0, y0), (x0 + w, y0 + h)],
        BLACK.stroke_width(1),
    ))
    .map_err(err)?;
    for (i, (text, glyph)) in keys.iter().enumerate() {
        let yc = y0 + 15 + i as i32 * row;
        let (gx0, gx1) = (x0 + 8, x0 + 30);
        match *glyph {
            Glyph::Line(c, dot) => {
                root.draw(&PathElement::new(
                    vec![(gx0, yc), (gx1, yc)],
                    c.stroke_width(3),
                ))
                .map_err(err)?;
                if dot {
                    root.draw(&Circle::new(((gx0 + gx1) / 2, yc), 4, c.filled()))
                        .map_err(err)?;
                }
            }
            Glyph::Fill(c) => root
                .draw(&Rectangle::new(
                    [(gx0 + 4, yc - 6), (gx1 - 4, yc + 6)],
                    c.filled(),
                ))
                .map_err(err)?,
            Glyph::Bar(c) => root
                .draw(&Rectangle::new([(gx0, yc - 2), (gx1, yc + 2)], c.filled()))
                .map_err(err)?,
        }
        root.draw(&Text::new(
            text.clone(),
            (x0 + 38, yc - 8),
            (FAMILY, LEGEND_FONT).into_font(),
        ))
        .map_err(err)?;
    }
    Ok(())
}

type Frame<'a, DB> = ChartContext<'a, DB, Cartesian2d<Axis, Axis>>;

/// A chart's frame: its title, margins and label areas (`y_area` pixels for the y labels,
/// `legend` pixels right of the plot for the legend), over the axes `x` and `y`.
fn frame<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    y_area: u32,
    legend: u32,
    x: Axis,
    y: Axis,
) -> Result<Frame<'a, DB>, VizError> {
    ChartBuilder::on(root)
        .caption(title, (FAMILY, 22))
        .margin(14)
        .margin_right(14 + legend)
        .x_label_area_size(50)
        .y_label_area_size(y_area)
        .build_cartesian_2d(x, y)
        .map_err(err)
}

/// The grid, tick labels and axis descriptions.
#[allow(clippy::too_many_arguments)]
fn mesh<DB: DrawingBackend>(
    chart: &mut Frame<'_, DB>,
    x_label: &str,
    y_label: &str,
    x: &Axis,
    y: &Axis,
    x_grid: bool,
    y_grid: bool,
) -> Result<(), VizError> {
    let (fx, fy) = (|v: &f64| x.label(*v), |v: &f64| y.label(*v));
    let mut m = chart.configure_mesh();
    m.x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .label_style((FAMILY, 13))
        .axis_desc_style((FAMILY, 15))
        .light_line_style(RGBColor(235, 235, 235));
    if let Scale::Categories(c) = &x.scale {
        m.x_labels(c.len().max(1));
    }
    if let Scale::Categories(c) = &y.scale {
        m.y_labels(c.len().max(1));
    }
    if !x_grid {
        m.disable_x_mesh();
    }
    if !y_grid {
        m.disable_y_mesh();
    }
    m.draw().map_err(err)
}

fn draw_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    lines: &[Line],
    scales: (&Scale, &Scale),
) -> Result<(), VizError> {
    let (xs, ys) = scales;
    let pts: Vec<Vec<(f64, f64)>> = lines
        .iter()
        .map(|l| {
            l.points
                .iter()
                .copied()
                .filter(|(x, y)| {
                    x.is_finite()
                        && y.is_finite()
                        && (*xs != Scale::Log || *x > 0.0)
                        && (*ys != Scale::Log || *y > 0.0)
                })
                .collect()
        })
        .collect();
    let x = Axis::fit(pts.iter().flatten().map(|p| p.0), xs);
    let y = Axis::fit(pts.iter().flatten().map(|p| p.1), ys);
    let keys: Vec<(String, Glyph)> = lines
        .iter()
        .zip(&pts)
        .map(|(l, p)| {
            let name = if p.is_empty() {
                format!("{} (no data)", l.name)
            } else {
                l.name.clone()
            };
            (name, Glyph::Line(rgb(l.color), l.marks))
        })
        .collect();
    let mut chart = frame(
        root,
        title,
        75,
        legend_width(root, &keys),
        x.clone(),
        y.clone(),
    )?;
    mesh(&mut chart, x_label, y_label, &x, &y, true, true)?;
    for (l, p) in lines.iter().zip(&pts) {
        let color = rgb(l.color);
        // One path per segment: plotters joins a thick polyline with miters, which shoot
        // far past the plot where a line turns sharply (a needle of one bucket).
        chart
            .draw_series(
                p.windows(2)
                    .map(|w| PathElement::new(vec![w[0], w[1]], color.stroke_width(2))),
            )
            .map_err(err)?;
        if l.marks {
            chart
                .draw_series(p.iter().map(|&q| Circle::new(q, 4, color.filled())))
                .map_err(err)?;
        }
    }
    draw_legend(root, &chart.plotting_area().get_pixel_range(), &keys)
}

fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    groups: &[String],
    bars: &[(String, Rgb, Vec<f64>)],
) -> Result<(), VizError> {
    let x = Axis::fit(std::iter::empty(), &Scale::Categories(groups.to_vec()));
    let y = Axis::fit(
        bars.iter().flat_map(|b| b.2.iter().copied()),
        &Scale::Linear,
    );
    let keys: Vec<(String, Glyph)> = bars
        .iter()
        .map(|(n, c, _)| (n.clone(), Glyph::Fill(rgb(*c).to_rgba())))
        .collect();
    let mut chart = frame(
        root,
        title,
        75,
        legend_width(root, &keys),
        x.clone(),
        y.clone(),
    )?;
    mesh(&mut chart, "percentile", y_label, &x, &y, false, true)?;
    let k = bars.len().max(1) as f64;
    let w = 0.8 / k;
    for (bi, (_, c, values)) in bars.iter().enumerate() {
        let color = rgb(*c);
        chart
            .draw_series(values.iter().enumerate().map(|(g, &v)| {
                let x = g as f64 - 0.4 + bi as f64 * w;
                Rectangle::new([(x, 0.0), (x + w * 0.92, v)], color.filled())
            }))
            .map_err(err)?;
    }
    draw_legend(root, &chart.plotting_area().get_pixel_range(), &keys)
}

fn draw_timeline<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    rows: &[TimelineRow],
) -> Result<(), VizError> {
    let end = rows
        .iter()
        .map(|r| {
            r.failures
                .iter()
                .map(|f| f.0 + f.1)
                .fold(r.end_ms, f64::max)
        })
        .fold(1.0, f64::max);
    let grey = RGBColor(90, 90, 90);
    let red = RGBColor(214, 39, 40);
    let mut keys: Vec<(String, Glyph)> = vec![("run".into(), Glyph::Bar(grey))];
    if rows.iter().any(|r| !r.batches.is_empty()) {
        keys.push(("batch / stage".into(), Glyph::Fill(grey.mix(0.5))));
    }
    if rows
        .iter()
        .any(|r| r.checkpoints.iter().any(|c| c.1.is_some()))
    {
        keys.push(("checkpoint (trigger → complete)".into(), Glyph::Bar(BLACK)));
    }
    if rows
        .iter()
        .any(|r| r.checkpoints.iter().any(|c| c.1.is_none()))
    {
        keys.push((
            "checkpoint not completed".into(),
            Glyph::Bar(RGBColor(160, 160, 160)),
        ));
    }
    if rows.iter().any(|r| !r.failures.is_empty()) {
        keys.push(("failure: downtime".into(), Glyph::Fill(red.mix(0.35))));
    } else {
        keys.push(("failures: none".into(), Glyph::Fill(WHITE.mix(0.0))));
    }
    let x = Axis::new(0.0, end * 1.03, Scale::Linear);
    let y = Axis::fit(
        std::iter::empty(),
        &Scale::Categories(rows.iter().map(|r| r.mode.clone()).collect()),
    );
    let mut chart = frame(
        root,
        title,
        95,
        legend_width(root, &keys),
        x.clone(),
        y.clone(),
    )?;
    mesh(
        &mut chart,
        "processing time (ms)",
        "mode",
        &x,
        &y,
        true,
        false,
    )?;
    // the width of MIN_MARK_PX pixels, in ms
    let px = chart.plotting_area().get_pixel_range().0.len().max(1) as f64;
    let min_w = (x.hi - x.lo) * MIN_MARK_PX as f64 / px;
    let span = |a: f64, b: f64| (a, b.max(a + min_w));
    for (i, r) in rows.iter().enumerate() {
        let y = i as f64;
        let color = rgb(mode_color(&r.mode));
        // the run, as a thin bar
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, y - 0.04), (r.end_ms, y + 0.04)],
                color.filled(),
            )))
            .map_err(err)?;
        // batches or stages
        chart
            .draw_series(r.batches.iter().map(|&(a, b)| {
                let (a, b) = span(a, b);
                Rectangle::new([(a, y - 0.25), (b, y + 0.25)], color.mix(0.55).filled())
            }))
            .map_err(err)?;
        // checkpoints: a bar from trigger to completion, below the row's centre, in two
        // lanes taken in turn so that back-to-back checkpoints stay apart
        chart
            .draw_series(r.checkpoints.iter().enumerate().map(|(k, &(t, done))| {
                let (a, b) = span(t, done.unwrap_or(t));
                let c = if done.is_some() {
                    BLACK
                } else {
                    RGBColor(160, 160, 160)
                };
                let lane = y - 0.40 + (k % 2) as f64 * 0.08;
                Rectangle::new([(a, lane), (b, lane + 0.05)], c.filled())
            }))
            .map_err(err)?;
        // failures: a red downtime band over the row
        chart
            .draw_series(r.failures.iter().map(|&(at, down)| {
                let (a, b) = span(at, at + down);
                Rectangle::new([(a, y - 0.45), (b, y + 0.45)], red.mix(0.35).filled())
            }))
            .map_err(err)?;
    }
    draw_legend(root, &chart.plotting_area().get_pixel_range(), &keys)
}

fn draw_table<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    header: &[String],
    rows: &[(String, Vec<String>)],
) -> Result<(), VizError> {
    let area = root.titled(title, (FAMILY, 22)).map_err(err)?;
    let (w, _) = area.dim_in_pixel();
    let cols = header.len().max(1) as i32;
    let cw = (w as i32 - 40) / cols;
    let rh = 34;
    let x0 = 20;
    let y0 = 30;
    let head = (FAMILY, 15).into_font().style(FontStyle::Bold);
    for (c, h) in header.iter().enumerate() {
        area.draw(&Text::new(
            h.clone(),
            (x0 + c as i32 * cw, y0),
            head.clone(),
        ))
        .map_err(err)?;
    }
    area.draw(&PathElement::new(
        vec![(x0, y0 + 24), (x0 + cols * cw, y0 + 24)],
        BLACK.stroke_width(1),
    ))
    .map_err(err)?;
    for (r, (mode, cells)) in rows.iter().enumerate() {
        let y = y0 + 34 + r as i32 * rh;
        let color = rgb(mode_color(mode));
        area.draw(&Rectangle::new(
            [(x0, y + 2), (x0 + 12, y + 14)],
            color.filled(),
        ))
        .map_err(err)?;
        area.draw(&Text::new(mode.clone(), (x0 + 18, y), (FAMILY, 15)))
            .map_err(err)?;
        for (c, cell) in cells.iter().enumerate() {
            area.draw(&Text::new(
                cell.clone(),
                (x0 + (c as i32 + 1) * cw, y),
                (FAMILY, 15),
            ))
            .map_err(err)?;
        }
    }
    let note_y = y0 + 44 + rows.len() as i32 * rh;
    for (i, line) in [
        "Against the same mode without its faults; \"none\": no fault, nothing to compare.",
        "wrong results: a record with another value in place of the right one (e.g. a count",
        "recomputed after its state was lost) — neither a duplicate nor a missing record.",
    ]
    .iter()
    .enumerate()
    {
        area.draw(&Text::new(
            *line,
            (x0, note_y + i as i32 * 17),
            (FAMILY, 12).into_font().color(&RGBColor(90, 90, 90)),
        ))
        .map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_read_well() {
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(250.0), "250");
        assert_eq!(tick(1500.0), "1.5 k");
        assert_eq!(tick(2_000_000.0), "2 M");
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(0.02), "0.02");
        assert_eq!(tick(0.005), "0.005");
    }

    #[test]
    fn log_ticks_are_1_2_5_and_thin_out_over_many_decades() {
        assert_eq!(
            log_ticks(0.5, 200.0, 10, false),
            vec![0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0]
        );
        assert_eq!(
            log_ticks(0.01, 10_000.0, 10, false),
            vec![0.01, 0.1, 1.0, 10.0, 100.0, 1000.0, 10_000.0]
        );
        assert_eq!(
            log_ticks(1.0, 1e12, 5, false),
            vec![1.0, 1e3, 1e6, 1e9, 1e12]
        );
        assert_eq!(log_range([3.16, 316.23].into_iter()), (2.0, 500.0));
    }
}
