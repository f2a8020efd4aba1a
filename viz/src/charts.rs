//! The charts. A [`Chart`] holds its data; [`Chart::svg`] and [`Chart::png`] draw the same
//! picture on plotters' SVG and bitmap backends.

use crate::{Run, VizError, mode_color, num};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;
use serde_json::Value;
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
    /// Lines over a numeric x axis (optionally log10 axes).
    Lines {
        /// x axis label, with unit.
        x_label: String,
        /// y axis label, with unit.
        y_label: String,
        /// The lines.
        lines: Vec<Line>,
        /// log10 x axis.
        log_x: bool,
        /// log10 y axis.
        log_y: bool,
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
                log_x: true,
                log_y: false,
            },
            "latency_percentiles" => Body::Bars {
                y_label: "latency (ms)".into(),
                groups: ["p50", "p90", "p99", "max"].map(String::from).to_vec(),
                bars: runs
                    .iter()
                    .map(|r| {
                        let l = r.report.get("latency").unwrap_or(&Value::Null);
                        (
                            r.mode.clone(),
                            mode_color(&r.mode),
                            ["p50_ms", "p90_ms", "p99_ms", "max_ms"]
                                .iter()
                                .map(|k| num(l, k))
                                .collect(),
                        )
                    })
                    .collect(),
            },
            "throughput" => Body::Lines {
                x_label: "processing time (ms)".into(),
                y_label: "records reaching the sinks (records/s)".into(),
                lines: runs.iter().map(|r| line(r, r.throughput())).collect(),
                log_x: false,
                log_y: false,
            },
            "watermark_lag" => Body::Lines {
                x_label: "processing time (ms)".into(),
                y_label: "processing time − watermark (ms)".into(),
                lines: runs.iter().map(|r| line(r, r.watermark_lag())).collect(),
                log_x: false,
                log_y: false,
            },
            "timeline" => Body::Timeline(
                runs.iter()
                    .map(|r| TimelineRow {
                        mode: r.mode.clone(),
                        end_ms: num(r.report, "sim_duration_ms"),
                        batches: r.batches(),
                        checkpoints: r.checkpoints(),
                        failures: r.failures(),
                    })
                    .collect(),
            ),
            _ => Body::Table {
                header: ["mode", "records out", "duplicates", "missing", "late drops"]
                    .map(String::from)
                    .to_vec(),
                rows: runs
                    .iter()
                    .map(|r| {
                        let dm = r.duplicates_missing();
                        (
                            r.mode.clone(),
                            vec![
                                format!("{}", num(r.report, "sink_records")),
                                dm.map_or("none".into(), |d| d.0.to_string()),
                                dm.map_or("none".into(), |d| d.1.to_string()),
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
    pub fn sweep(points: &[Value]) -> Chart {
        let mut modes: Vec<String> = Vec::new();
        for p in points {
            if let Some(m) = p.get("mode").and_then(Value::as_str)
                && !modes.iter().any(|x| x == m)
            {
                modes.push(m.to_string());
            }
        }
        let mut lines = Vec::new();
        for m in &modes {
            for (key, what) in [("latency_p50_ms", "p50"), ("latency_p99_ms", "p99")] {
                let mut pts: Vec<(f64, f64)> = points
                    .iter()
                    .filter(|p| p.get("mode").and_then(Value::as_str) == Some(m))
                    .map(|p| (num(p, "throughput_per_s"), num(p, key)))
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
                log_x: true,
                log_y: true,
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
                log_x,
                log_y,
            } => draw_lines(root, &self.title, x_label, y_label, lines, *log_x, *log_y),
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

fn err<E: std::fmt::Display>(e: E) -> VizError {
    VizError(format!("drawing a chart failed: {e}"))
}

fn rgb(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

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

/// Tick label: `1.5 k`, `2 M`, `250`, `0.5`.
fn tick(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        let s = format!("{:.3}", v / 1e6);
        format!("{} M", s.trim_end_matches('0').trim_end_matches('.'))
    } else if a >= 1e3 {
        let s = format!("{:.2}", v / 1e3);
        format!("{} k", s.trim_end_matches('0').trim_end_matches('.'))
    } else if a >= 1.0 || a == 0.0 {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.3}")
    }
}

/// A chart's frame: its title, margins and label areas (`y_area` pixels for the y labels),
/// over the value ranges `x` and `y`.
fn frame<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    y_area: u32,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, VizError> {
    ChartBuilder::on(root)
        .caption(title, (FAMILY, 22))
        .margin(14)
        .x_label_area_size(50)
        .y_label_area_size(y_area)
        .build_cartesian_2d(x, y)
        .map_err(err)
}

/// The legend of a chart's labelled series, in a framed box at `position`.
fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    font_size: u32,
    position: SeriesLabelPosition,
) -> Result<(), VizError> {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FAMILY, font_size))
        .position(position)
        .draw()
        .map_err(err)
}

#[allow(clippy::too_many_arguments)]
fn draw_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    lines: &[Line],
    log_x: bool,
    log_y: bool,
) -> Result<(), VizError> {
    let tx = |v: f64| if log_x { v.max(1e-6).log10() } else { v };
    let ty = |v: f64| if log_y { v.max(1e-6).log10() } else { v };
    let pts: Vec<Vec<(f64, f64)>> = lines
        .iter()
        .map(|l| {
            l.points
                .iter()
                .filter(|(x, y)| (!log_x || *x > 0.0) && (!log_y || *y > 0.0))
                .map(|&(x, y)| (tx(x), ty(y)))
                .collect()
        })
        .collect();
    let (x0, x1) = range(pts.iter().flatten().map(|p| p.0), !log_x);
    let (y0, y1) = range(pts.iter().flatten().map(|p| p.1), !log_y);
    let mut chart = frame(root, title, 75, x0..x1, y0..y1)?;
    let fx = move |v: &f64| tick(if log_x { 10f64.powf(*v) } else { *v });
    let fy = move |v: &f64| tick(if log_y { 10f64.powf(*v) } else { *v });
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .label_style((FAMILY, 13))
        .axis_desc_style((FAMILY, 15))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    for (l, p) in lines.iter().zip(&pts) {
        let color = rgb(l.color);
        let name = if p.is_empty() {
            format!("{} (no data)", l.name)
        } else {
            l.name.clone()
        };
        chart
            .draw_series(LineSeries::new(p.clone(), color.stroke_width(2)))
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(3))
            });
        if l.marks {
            chart
                .draw_series(p.iter().map(|&q| Circle::new(q, 4, color.filled())))
                .map_err(err)?;
        }
    }
    legend(&mut chart, 13, SeriesLabelPosition::LowerRight)?;
    Ok(())
}

fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    groups: &[String],
    bars: &[(String, Rgb, Vec<f64>)],
) -> Result<(), VizError> {
    let (_, y1) = range(bars.iter().flat_map(|b| b.2.iter().copied()), true);
    let n = groups.len() as f64;
    let mut chart = frame(root, title, 75, 0.0..n, 0.0..y1)?;
    let names = groups.to_vec();
    let fx = move |v: &f64| {
        let i = (*v - 0.5).round();
        if (v - (i + 0.5)).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
            names[i as usize].clone()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc(y_label)
        .x_labels(groups.len() * 2 + 1)
        .x_label_formatter(&fx)
        .y_label_formatter(&|v| tick(*v))
        .disable_x_mesh()
        .label_style((FAMILY, 13))
        .axis_desc_style((FAMILY, 15))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    let k = bars.len().max(1) as f64;
    let w = 0.8 / k;
    for (bi, (name, c, values)) in bars.iter().enumerate() {
        let color = rgb(*c);
        chart
            .draw_series(values.iter().enumerate().map(|(g, &v)| {
                let x = g as f64 + 0.1 + bi as f64 * w;
                Rectangle::new([(x, 0.0), (x + w * 0.92, v)], color.filled())
            }))
            .map_err(err)?
            .label(name.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled()));
    }
    legend(&mut chart, 13, SeriesLabelPosition::UpperLeft)?;
    Ok(())
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
    let n = rows.len().max(1) as f64;
    let mut chart = frame(root, title, 95, 0.0..end * 1.03, 0.0..n)?;
    let names: Vec<String> = rows.iter().map(|r| r.mode.clone()).collect();
    let fy = move |v: &f64| {
        let i = (*v - 0.5).round();
        if (v - (i + 0.5)).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
            names[i as usize].clone()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .x_desc("processing time (ms)")
        .y_desc("mode")
        .y_labels(rows.len() * 2 + 1)
        .y_label_formatter(&fy)
        .x_label_formatter(&|v| tick(*v))
        .disable_y_mesh()
        .label_style((FAMILY, 13))
        .axis_desc_style((FAMILY, 15))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(err)?;
    let grey = RGBColor(90, 90, 90);
    let red = RGBColor(214, 39, 40);
    let mut labelled = [false; 4];
    for (i, r) in rows.iter().enumerate() {
        let y = i as f64;
        let color = rgb(mode_color(&r.mode));
        // the run, as a thin bar
        let s = chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, y + 0.46), (r.end_ms, y + 0.54)],
                color.filled(),
            )))
            .map_err(err)?;
        s.label(format!("{} run", r.mode))
            .legend(move |(x, y)| Rectangle::new([(x, y - 2), (x + 16, y + 2)], color.filled()));
        // batches or stages
        if !r.batches.is_empty() {
            let s = chart
                .draw_series(r.batches.iter().map(|&(a, b)| {
                    Rectangle::new(
                        [(a, y + 0.25), (b.max(a + end * 0.002), y + 0.75)],
                        color.mix(0.55).filled(),
                    )
                }))
                .map_err(err)?;
            if !labelled[0] {
                labelled[0] = true;
                s.label("batch / stage").legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], grey.mix(0.5).filled())
                });
            }
        }
        // checkpoints: a tick at the trigger, a line to completion
        if !r.checkpoints.is_empty() {
            let s = chart
                .draw_series(r.checkpoints.iter().map(|&(t, done)| {
                    PathElement::new(
                        vec![(t, y + 0.15), (done.unwrap_or(t), y + 0.15)],
                        BLACK.stroke_width(3),
                    )
                }))
                .map_err(err)?;
            if !labelled[1] {
                labelled[1] = true;
                s.label("checkpoint (trigger → complete)").legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], BLACK.stroke_width(3))
                });
            }
        }
        // failures: a red downtime band over the row
        if !r.failures.is_empty() {
            let s = chart
                .draw_series(r.failures.iter().map(|&(at, down)| {
                    Rectangle::new(
                        [(at, y + 0.05), (at + down.max(end * 0.002), y + 0.95)],
                        red.mix(0.35).filled(),
                    )
                }))
                .map_err(err)?;
            if !labelled[2] {
                labelled[2] = true;
                s.label("failure: downtime").legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], red.mix(0.35).filled())
                });
            }
        }
    }
    if rows.iter().all(|r| r.failures.is_empty()) {
        root.draw(&Text::new(
            "failures: none",
            (110, 50),
            (FAMILY, 13).into_font().color(&grey),
        ))
        .map_err(err)?;
    }
    legend(&mut chart, 12, SeriesLabelPosition::UpperRight)?;
    Ok(())
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
    area.draw(&Text::new(
        "duplicates / missing: against the same mode without the failure; \"none\": no failure to compare",
        (x0, note_y),
        (FAMILY, 12).into_font().color(&RGBColor(90, 90, 90)),
    ))
    .map_err(err)?;
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
        assert_eq!(tick(0.25), "0.250");
    }
}
