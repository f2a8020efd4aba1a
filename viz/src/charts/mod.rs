//! The charts. A [`Chart`] holds its data; [`Chart::svg`] and [`Chart::png`] draw the same
//! picture on plotters' SVG and bitmap backends.
//!
//! | module | what |
//! |---|---|
//! | [`axes`] | axis ranges, 1-2-5 ticks, linear, log and category axes |
//! | `draw` | drawing a chart's body: frame, grid, legend, lines, bars, timeline, table |

pub mod axes;
mod draw;

use crate::{Run, SweepPoint, VizError, mode_color};
pub use axes::{Axis, Scale, log_ticks};
pub(crate) use axes::{nice125, tick};
use draw::{draw_bars, draw_lines, draw_table, draw_timeline};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::sync::Once;

/// The embedded font (DejaVu Sans, Bitstream Vera licence: `fonts/DejaVu-LICENSE`).
const FONT: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
/// The family every chart asks for.
pub(crate) const FAMILY: &str = "sans-serif";

/// An RGB bitmap of `w` × `h` pixels as PNG bytes (the same bytes for the same pixels).
pub(crate) fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, VizError> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc
            .write_header()
            .map_err(|e| VizError(format!("PNG: {e}")))?;
        wr.write_image_data(rgb)
            .map_err(|e| VizError(format!("PNG: {e}")))?;
    }
    Ok(out)
}

pub(crate) fn register_font() {
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
        let body = match name {
            "latency_cdf" => Body::Lines {
                x_label: "latency, record creation → visible at the sink (ms, log scale)".into(),
                y_label: "fraction of records at or below".into(),
                lines: runs.iter().map(|r| mode_line(r, r.latency_cdf())).collect(),
                x_scale: Scale::Log,
                y_scale: Scale::Linear,
            },
            "latency_percentiles" => latency_percentile_bars(runs),
            "throughput" => throughput_lines(runs),
            "results_over_time" => results_over_time_lines(runs),
            "watermark_lag" => Body::Lines {
                x_label: "processing time (ms)".into(),
                y_label: "processing time − watermark (ms)".into(),
                lines: runs
                    .iter()
                    .map(|r| mode_line(r, r.watermark_lag()))
                    .collect(),
                x_scale: Scale::Linear,
                y_scale: Scale::Linear,
            },
            "timeline" => Body::Timeline(runs.iter().map(timeline_row).collect()),
            _ => correctness_table(runs),
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
        encode_png(&buf, w, h)
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

/// One mode's line in a comparison chart, in the mode's colour, without point marks.
fn mode_line(r: &Run<'_>, points: Vec<(f64, f64)>) -> Line {
    Line {
        name: r.mode.clone(),
        color: mode_color(&r.mode),
        points,
        marks: false,
    }
}

/// End-to-end latency percentiles (p50, p90, p99, max) as grouped bars, one bar per mode.
fn latency_percentile_bars(runs: &[Run<'_>]) -> Body {
    Body::Bars {
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
    }
}

/// Records reaching the sinks per second of processing time, as steps over bins of one
/// width shared by every mode.
fn throughput_lines(runs: &[Run<'_>]) -> Body {
    let bin = crate::throughput_bin_ms(runs);
    Body::Lines {
        x_label: format!("processing time (ms), in bins of {}", tick_ms(bin)),
        y_label: "records reaching the sinks (records/s)".into(),
        lines: runs
            .iter()
            .map(|r| mode_line(r, steps(&r.throughput_binned(bin))))
            .collect(),
        x_scale: Scale::Linear,
        y_scale: Scale::Linear,
    }
}

/// Results visible at the sinks, cumulative over processing time: when each mode makes
/// its output visible (continuously, at batch ends, at checkpoint commits).
fn results_over_time_lines(runs: &[Run<'_>]) -> Body {
    let bin = crate::throughput_bin_ms(runs);
    Body::Lines {
        x_label: "processing time (ms)".into(),
        y_label: "results visible at the sinks (records, cumulative)".into(),
        lines: runs
            .iter()
            .map(|r| mode_line(r, r.results_over_time(bin)))
            .collect(),
        x_scale: Scale::Linear,
        y_scale: Scale::Linear,
    }
}

/// One mode's timeline row: the run's end, its batches or stages, its checkpoints and its
/// failures.
fn timeline_row(r: &Run<'_>) -> TimelineRow {
    TimelineRow {
        mode: r.mode.clone(),
        end_ms: r.report.sim_duration_ms,
        batches: r.batches(),
        checkpoints: r.checkpoints(),
        failures: r.failures(),
    }
}

/// The correctness table drawn as a chart: per mode the records out, and against the same
/// mode's fault-free run the duplicates, missing and wrong results; then the late drops.
fn correctness_table(runs: &[Run<'_>]) -> Body {
    Body::Table {
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
