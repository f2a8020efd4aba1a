//! Drawing a chart's body on any plotters backend: the frame and grid, the legend beside the
//! plot, and the lines, bars, timeline and table.

use super::axes::{Axis, Scale};
use super::*;
use plotters::coord::Shift;
use plotters::style::FontStyle;

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

pub(super) fn draw_lines<DB: DrawingBackend>(
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

pub(super) fn draw_bars<DB: DrawingBackend>(
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

/// The timeline chart: per execution mode a row over processing time showing the run, its
/// batches or stages, its checkpoints from trigger to completion and its failures'
/// downtime.
pub(super) fn draw_timeline<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    rows: &[TimelineRow],
) -> Result<(), VizError> {
    let keys = timeline_legend(rows);
    let x = Axis::new(0.0, timeline_end(rows) * 1.03, Scale::Linear);
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
    for (i, r) in rows.iter().enumerate() {
        draw_timeline_row(&mut chart, i as f64, r, min_w)?;
    }
    draw_legend(root, &chart.plotting_area().get_pixel_range(), &keys)
}

/// The end of the time axis: the latest end of a run or of a failure's downtime (at least
/// 1 ms), so that a job still down when the run stops shows its whole downtime.
fn timeline_end(rows: &[TimelineRow]) -> f64 {
    rows.iter()
        .map(|r| {
            r.failures
                .iter()
                .map(|f| f.0 + f.1)
                .fold(r.end_ms, f64::max)
        })
        .fold(1.0, f64::max)
}

/// The timeline's legend: the run bar always; batches, completed and uncompleted
/// checkpoints only when some row has them; failures' downtime, or "none" when no mode
/// failed.
fn timeline_legend(rows: &[TimelineRow]) -> Vec<(String, Glyph)> {
    let mut keys: Vec<(String, Glyph)> = vec![("run".into(), Glyph::Bar(TIMELINE_GREY))];
    if rows.iter().any(|r| !r.batches.is_empty()) {
        keys.push(("batch / stage".into(), Glyph::Fill(TIMELINE_GREY.mix(0.5))));
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
        keys.push((
            "failure: downtime".into(),
            Glyph::Fill(TIMELINE_RED.mix(0.35)),
        ));
    } else {
        keys.push(("failures: none".into(), Glyph::Fill(WHITE.mix(0.0))));
    }
    keys
}

/// The grey of the run bar in the timeline's legend.
const TIMELINE_GREY: RGBColor = RGBColor(90, 90, 90);
/// The red of a failure's downtime band.
const TIMELINE_RED: RGBColor = RGBColor(214, 39, 40);

/// One mode's row of the timeline at height `y`; every mark at least `min_w` ms wide so
/// that short batches and checkpoints stay visible.
fn draw_timeline_row<DB: DrawingBackend>(
    chart: &mut Frame<'_, DB>,
    y: f64,
    r: &TimelineRow,
    min_w: f64,
) -> Result<(), VizError> {
    let span = |a: f64, b: f64| (a, b.max(a + min_w));
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
            Rectangle::new(
                [(a, y - 0.45), (b, y + 0.45)],
                TIMELINE_RED.mix(0.35).filled(),
            )
        }))
        .map_err(err)?;
    Ok(())
}

pub(super) fn draw_table<DB: DrawingBackend>(
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
