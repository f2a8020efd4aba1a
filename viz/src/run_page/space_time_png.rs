//! The space-time diagram as a PNG (`space_time.png`), drawn with the embedded font so that it
//! is byte-identical on every machine — a static picture for docs and slides. It shows what the
//! SVG shows, on the same layout (`space_time::layout`), without tips: lanes,
//! buffers, barriers and alignments, backpressure (vertical stripes), watermark advances,
//! firings, late elements, commits, restores and replays, checkpoints, failures, downtime
//! (horizontal stripes), and a legend.

use super::lanes::lanes_hit;
use super::space_time::{
    JOB_H, JOB_Y, LANE_H, Layout, WIDTH, by_column, layout, legend_and_height, merge_spans,
};
use super::svg::pt;
use super::timeline::{TaskTimeline, Timeline};
use crate::charts::register_font;
use crate::{RunReport, VizError};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeMap;
use streamlab_engine::report::cut_middle;

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

fn err<E: std::fmt::Display>(e: E) -> VizError {
    VizError(format!("space_time.png: {e}"))
}

fn c(hex: u32) -> RGBColor {
    RGBColor((hex >> 16) as u8, (hex >> 8) as u8, hex as u8)
}

/// Pixel of a coordinate.
fn p(v: f64) -> i32 {
    v.round() as i32
}

fn rect(a: &Area<'_>, x0: f64, y0: f64, x1: f64, y1: f64, col: RGBColor) -> Result<(), VizError> {
    a.draw(&Rectangle::new(
        [(p(x0), p(y0)), (p(x1), p(y1))],
        col.filled(),
    ))
    .map_err(err)
}

fn frame(a: &Area<'_>, x0: f64, y0: f64, x1: f64, y1: f64, col: RGBColor) -> Result<(), VizError> {
    a.draw(&Rectangle::new(
        [(p(x0), p(y0)), (p(x1), p(y1))],
        col.stroke_width(1),
    ))
    .map_err(err)
}

fn line(a: &Area<'_>, pts: &[(f64, f64)], col: RGBColor, w: u32) -> Result<(), VizError> {
    let v: Vec<(i32, i32)> = pts.iter().map(|&(x, y)| (p(x), p(y))).collect();
    a.draw(&PathElement::new(v, col.stroke_width(w)))
        .map_err(err)
}

fn poly(a: &Area<'_>, pts: &[(f64, f64)], fill: RGBColor, edge: RGBColor) -> Result<(), VizError> {
    let v: Vec<(i32, i32)> = pts.iter().map(|&(x, y)| (p(x), p(y))).collect();
    a.draw(&Polygon::new(v.clone(), fill.filled()))
        .map_err(err)?;
    let mut closed = v;
    closed.push(closed[0]);
    a.draw(&PathElement::new(closed, edge.stroke_width(1)))
        .map_err(err)
}

/// Text with its baseline at `y` (as SVG places it).
fn text(
    a: &Area<'_>,
    s: &str,
    x: f64,
    y: f64,
    size: f64,
    col: RGBColor,
    h: HPos,
) -> Result<(), VizError> {
    let style = ("sans-serif", size)
        .into_font()
        .color(&col)
        .pos(Pos::new(h, VPos::Bottom));
    a.draw(&Text::new(s.to_string(), (p(x), p(y + 2.0)), style))
        .map_err(err)
}

/// Stripes over a box: vertical (backpressure) or horizontal (downtime).
fn stripes(
    a: &Area<'_>,
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
    col: RGBColor,
    vertical: bool,
) -> Result<(), VizError> {
    let mut k = 0.0;
    if vertical {
        while x0 + k <= x1 {
            line(a, &[(x0 + k, y0), (x0 + k, y1)], col, 1)?;
            k += 4.0;
        }
    } else {
        while y0 + k <= y1 {
            line(a, &[(x0, y0 + k), (x1, y0 + k)], col, 1)?;
            k += 4.0;
        }
    }
    Ok(())
}

/// The diagram of a run as PNG bytes.
pub fn space_time_png(
    report: &RunReport,
    lanes: &[super::lanes::Lane],
    tl: &Timeline,
) -> Result<Vec<u8>, VizError> {
    register_font();
    let lay = layout(report, lanes, tl, None);
    let (legend_y, height) = legend_and_height(&lay);
    let (w, h) = (WIDTH as u32, height.ceil() as u32);
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let a = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        a.fill(&WHITE).map_err(err)?;
        draw(&a, &lay, report, tl, legend_y)?;
        a.present().map_err(err)?;
    }
    crate::charts::encode_png(&buf, w, h)
}

fn draw(
    a: &Area<'_>,
    lay: &Layout<'_>,
    report: &RunReport,
    tl: &Timeline,
    legend_y: f64,
) -> Result<(), VizError> {
    let sc = &lay.sc;
    let (x0, x1) = (sc.x0, sc.x0 + sc.width);
    rect(a, x0, JOB_Y, x1, JOB_Y + JOB_H, c(0xf2f4f8))?;
    text(
        a,
        "job (JobManager)",
        6.0,
        JOB_Y + 18.0,
        12.0,
        BLACK,
        HPos::Left,
    )?;
    let mut shaded = false;
    for (i, l) in lay.lanes.iter().enumerate() {
        let top = lay.tops[i];
        if i > 0 && (lay.lanes[i - 1].chain != l.chain || lay.lanes[i - 1].epoch != l.epoch) {
            shaded = !shaded;
        }
        let shade = if shaded { 0xf4f4f4 } else { 0xfbfbfb };
        rect(a, x0, top, x1, top + LANE_H, c(shade))?;
        line(a, &[(x0, lay.mid(i)), (x1, lay.mid(i))], c(0xbbbbbb), 1)?;
        text(
            a,
            &cut_middle(&l.name, 40),
            6.0,
            top + 13.0,
            12.0,
            BLACK,
            HPos::Left,
        )?;
        text(
            a,
            &l.place(),
            6.0,
            top + 25.0,
            10.0,
            c(0x555555),
            HPos::Left,
        )?;
    }
    axis(a, lay)?;
    buffers(a, lay, tl)?;
    for (i, l) in lay.lanes.iter().enumerate() {
        if let Some(tt) = l.timeline(tl) {
            lane(a, lay, i, tt)?;
        }
    }
    job(a, lay, report, tl)?;
    legend(a, legend_y)
}

/// Ticks and labels of processing time above and below the lanes, with grid lines.
fn axis(a: &Area<'_>, lay: &Layout<'_>) -> Result<(), VizError> {
    let sc = &lay.sc;
    let (ticks, unit) = sc.ticks();
    for (y, top) in [(JOB_Y - 8.0, true), (lay.bottom + 6.0, false)] {
        line(a, &[(sc.x0, y), (sc.x0 + sc.width, y)], c(0x333333), 1)?;
        for (ns, label) in &ticks {
            let x = sc.x(*ns);
            if top {
                line(a, &[(x, y), (x, lay.bottom)], c(0xdddddd), 1)?;
            }
            text(
                a,
                label,
                x,
                if top { y - 5.0 } else { y + 14.0 },
                11.0,
                c(0x333333),
                HPos::Center,
            )?;
        }
        let ly = if top { y - 18.0 } else { y + 28.0 };
        text(
            a,
            &format!("processing time ({unit}, simulated)"),
            sc.x0 + sc.width,
            ly,
            11.0,
            c(0x333333),
            HPos::Right,
        )?;
    }
    Ok(())
}

/// Buffers: a thin grey line per channel and few pixels, sender to receiver.
fn buffers(a: &Area<'_>, lay: &Layout<'_>, tl: &Timeline) -> Result<(), VizError> {
    let Some(b) = &tl.buffers else { return Ok(()) };
    let index = lay.lane_index();
    let mut per: BTreeMap<(usize, usize), Vec<_>> = BTreeMap::new();
    for ((e, f, t), x) in b.iter() {
        if let (Some(&f), Some(&t)) = (index.get(&(*e, f.as_str())), index.get(&(*e, t.as_str()))) {
            per.entry((f, t)).or_default().push(x.clone());
        }
    }
    let px = (per.len() as f64 * lay.sc.width / 600.0).max(8.0);
    for ((f, t), items) in per {
        for x in by_column(items.into_iter(), &lay.sc, px) {
            let s = lay.sc.x((x.first_sent_ns + x.last_sent_ns) / 2);
            let r = lay.sc.x((x.first_arrived_ns + x.last_arrived_ns) / 2);
            line(a, &[(s, lay.mid(f)), (r, lay.mid(t))], c(0xb0b0b0), 1)?;
        }
    }
    Ok(())
}

/// One lane's marks.
fn lane(a: &Area<'_>, lay: &Layout<'_>, i: usize, tt: &TaskTimeline) -> Result<(), VizError> {
    let (sc, top, mid) = (&lay.sc, lay.tops[i], lay.mid(i));
    for s in merge_spans(&tt.backpressure.done, sc) {
        let (x0, x1) = (sc.x(s.start_ns), sc.x(s.end_ns).max(sc.x(s.start_ns) + 1.0));
        rect(a, x0, top, x1, top + LANE_H, c(0xfbe3e3))?;
        stripes(a, x0, top, x1, top + LANE_H, c(0xd62728), true)?;
    }
    for s in merge_spans(&tt.alignments.done, sc) {
        let (x0, x1) = (sc.x(s.start_ns), sc.x(s.end_ns).max(sc.x(s.start_ns) + 2.0));
        rect(a, x0, top + 2.0, x1, top + 8.0, c(0x1f3a93))?;
    }
    for r in by_column(tt.snapshots.iter().map(|(_, r)| r.clone()), sc, 2.0) {
        let x = sc.x(r.count.first_ns);
        rect(a, x - 1.0, top + 1.0, x + 1.0, top + LANE_H - 1.0, BLACK)?;
    }
    for r in by_column(tt.watermarks.iter().map(|(_, r)| r.clone()), sc, 10.0) {
        let (x, y) = (sc.x(r.count.first_ns), top + LANE_H - 1.0);
        poly(
            a,
            &[(x - 3.0, y), (x + 3.0, y), (x, y - 6.0)],
            c(0x2a9d8f),
            c(0x2a9d8f),
        )?;
    }
    for f in by_column(tt.fires.iter().map(|(_, f)| f.clone()), sc, 3.0) {
        let r = 3.5 + (f.count.n as f64).log10().min(3.0);
        let x = p(sc.x(f.count.first_ns));
        a.draw(&Circle::new((x, p(mid)), p(r), c(0xff9f1c).filled()))
            .map_err(err)?;
        a.draw(&Circle::new((x, p(mid)), p(r), c(0x7a4a00).stroke_width(1)))
            .map_err(err)?;
    }
    for (_, r) in tt.late.iter() {
        let (x, y) = (sc.x(r.count.first_ns), top + 3.0);
        poly(
            a,
            &[(x - 4.0, y), (x + 4.0, y), (x, y + 8.0)],
            c(0xf8bbd0),
            c(0xc2185b),
        )?;
    }
    for r in by_column(tt.commits.iter().map(|(_, r)| r.clone()), sc, 4.0) {
        let x = sc.x(r.count.first_ns);
        rect(
            a,
            x - 3.5,
            top + LANE_H - 10.0,
            x + 3.5,
            top + LANE_H - 3.0,
            c(0x6a3d9a),
        )?;
    }
    for r in &tt.restores {
        let x = sc.x(r.at_ns);
        if r.replayed > 0 {
            let x2 = sc.x(r.replay_end_ns.unwrap_or(sc.end_ns)).max(x + 6.0);
            rect(
                a,
                x,
                top + LANE_H - 10.0,
                x2,
                top + LANE_H - 2.0,
                c(0xd8f0d2),
            )?;
            frame(
                a,
                x,
                top + LANE_H - 10.0,
                x2,
                top + LANE_H - 2.0,
                c(0x2ca02c),
            )?;
        }
        poly(
            a,
            &[
                (x, mid - 7.0),
                (x + 6.0, mid),
                (x, mid + 7.0),
                (x - 6.0, mid),
            ],
            c(0x2ca02c),
            BLACK,
        )?;
    }
    if let Some(f) = tt.finished_ns {
        let x = sc.x(f);
        rect(
            a,
            x - 1.5,
            top + 8.0,
            x + 1.5,
            top + LANE_H - 8.0,
            c(0x444444),
        )?;
    }
    Ok(())
}

fn cross(a: &Area<'_>, x: f64, y: f64, r: f64) -> Result<(), VizError> {
    line(a, &[(x - r, y - r), (x + r, y + r)], c(0xcc0000), 3)?;
    line(a, &[(x + r, y - r), (x - r, y + r)], c(0xcc0000), 3)
}

/// The job's row and what spans every lane: checkpoints, restarts, downtime, failures.
fn job(a: &Area<'_>, lay: &Layout<'_>, report: &RunReport, tl: &Timeline) -> Result<(), VizError> {
    let sc = &lay.sc;
    for (id, cp) in &tl.checkpoints {
        let Some(s) = cp.triggered_ns else { continue };
        let e = cp
            .completed_ns
            .or(cp.failed.as_ref().map(|f| f.0))
            .unwrap_or(sc.end_ns);
        let (x0, x1) = (sc.x(s), sc.x(e).max(sc.x(s) + 2.0));
        if cp.failed.is_some() {
            frame(a, x0, JOB_Y + 6.0, x1, JOB_Y + 16.0, c(0xcc0000))?;
        } else {
            rect(a, x0, JOB_Y + 6.0, x1, JOB_Y + 16.0, c(0x555555))?;
        }
        text(
            a,
            &id.to_string(),
            x0,
            JOB_Y + 26.0,
            9.0,
            c(0x333333),
            HPos::Left,
        )?;
    }
    let y = JOB_Y + 34.0;
    // The row's labels (restarts, failure causes), each cut short before the next one.
    let mut labels: Vec<(f64, String)> = Vec::new();
    for e in tl.job.iter().filter(|e| e.kind == "restart") {
        let x = sc.x(e.at_ns);
        poly(
            a,
            &[(x - 5.0, y + 5.0), (x + 5.0, y + 5.0), (x, y - 5.0)],
            c(0x2ca02c),
            BLACK,
        )?;
        labels.push((x + 8.0, "restart".into()));
    }
    let (top, bottom) = (lay.lanes_top(), lay.bottom);
    for f in &report.failures {
        let at = (f.at_ms * 1e6).round() as u64;
        let x = sc.x(at);
        if let Some(d) = f.downtime_ms {
            let x2 = sc.x(((f.at_ms + d) * 1e6).round() as u64).max(x + 2.0);
            rect(a, x, top, x2, bottom, c(0xe4e4e4))?;
            stripes(a, x, top, x2, bottom, c(0x777777), false)?;
            if x2 - x > 90.0 {
                let label = format!("downtime {}", pt(((d) * 1e6) as u64));
                let m = (x + x2) / 2.0;
                let w = label.chars().count() as f64 * 3.3 + 4.0;
                rect(
                    a,
                    m - w,
                    (top + bottom) / 2.0 - 12.0,
                    m + w,
                    (top + bottom) / 2.0 + 4.0,
                    WHITE,
                )?;
                text(
                    a,
                    &label,
                    m,
                    (top + bottom) / 2.0,
                    12.0,
                    BLACK,
                    HPos::Center,
                )?;
            }
        }
        line(a, &[(x, JOB_Y), (x, bottom)], c(0xcc0000), 2)?;
        cross(a, x, y, 6.0)?;
        labels.push((x + 6.0, f.cause.clone()));
        for i in lanes_hit(lay.lanes, &f.cause) {
            cross(a, x, lay.mid(i), 5.0)?;
        }
    }
    if let Some(r) = &report.rescale {
        let ns = |ms: f64| (ms * 1e6).round() as u64;
        let (x0, x1) = (sc.x(ns(r.triggered_ms)), sc.x(ns(r.restarted_ms)));
        rect(a, x0, top, x1.max(x0 + 2.0), bottom, c(0xe4e4e4))?;
        stripes(a, x0, top, x1.max(x0 + 2.0), bottom, c(0x777777), false)?;
        text(
            a,
            "rescale",
            x0 + 4.0,
            JOB_Y + JOB_H - 5.0,
            10.5,
            c(0x222222),
            HPos::Left,
        )?;
    }
    job_labels(a, labels, sc.x0 + sc.width)
}

/// Writes the job row's labels left to right, each cut short (`…`) where the next one
/// starts, so none overlaps another; one with no room for three letters is left out.
fn job_labels(a: &Area<'_>, mut labels: Vec<(f64, String)>, right: f64) -> Result<(), VizError> {
    /// Width of a character of the 10.5 px label font, on average.
    const CHAR_W: f64 = 5.9;
    labels.sort_by(|x, y| x.0.total_cmp(&y.0));
    for (k, (x, label)) in labels.iter().enumerate() {
        let next = labels.get(k + 1).map_or(right, |n| n.0);
        let room = ((next - x - 6.0) / CHAR_W).floor().max(0.0) as usize;
        if room < 3 {
            continue;
        }
        let shown: String = if label.chars().count() > room {
            let mut s: String = label.chars().take(room - 1).collect();
            s.push('…');
            s
        } else {
            label.clone()
        };
        text(
            a,
            &shown,
            *x,
            JOB_Y + JOB_H - 5.0,
            10.5,
            c(0x222222),
            HPos::Left,
        )?;
    }
    Ok(())
}

/// The legend, as in the SVG.
fn legend(a: &Area<'_>, y: f64) -> Result<(), VizError> {
    text(a, "Legend", 6.0, y + 4.0, 12.0, BLACK, HPos::Left)?;
    let labels = [
        "barrier (snapshot)",
        "barrier alignment",
        "network buffer(s)",
        "backpressure",
        "watermark advance",
        "window fired",
        "late element",
        "2PC commit",
        "checkpoint (job)",
        "failure / subtask lost",
        "downtime",
        "restart (job)",
        "restore (source)",
        "replay",
        "subtask finished",
    ];
    for (k, label) in labels.iter().enumerate() {
        let (x, yy) = (70.0 + (k % 8) as f64 * 141.0, y + (k / 8) as f64 * 24.0);
        match k {
            0 => rect(a, x + 6.0, yy - 7.0, x + 8.0, yy + 7.0, BLACK)?,
            1 => rect(a, x, yy - 3.0, x + 14.0, yy + 3.0, c(0x1f3a93))?,
            2 => line(a, &[(x, yy - 6.0), (x + 12.0, yy + 6.0)], c(0x909090), 1)?,
            3 => {
                rect(a, x, yy - 7.0, x + 14.0, yy + 7.0, c(0xfbe3e3))?;
                stripes(a, x, yy - 7.0, x + 14.0, yy + 7.0, c(0xd62728), true)?
            }
            4 => poly(
                a,
                &[
                    (x + 4.0, yy + 4.0),
                    (x + 10.0, yy + 4.0),
                    (x + 7.0, yy - 2.0),
                ],
                c(0x2a9d8f),
                c(0x2a9d8f),
            )?,
            5 => {
                a.draw(&Circle::new((p(x + 7.0), p(yy)), 4, c(0xff9f1c).filled()))
                    .map_err(err)?;
            }
            6 => poly(
                a,
                &[
                    (x + 3.0, yy - 4.0),
                    (x + 11.0, yy - 4.0),
                    (x + 7.0, yy + 4.0),
                ],
                c(0xf8bbd0),
                c(0xc2185b),
            )?,
            7 => rect(a, x + 3.0, yy - 4.0, x + 10.0, yy + 3.0, c(0x6a3d9a))?,
            8 => rect(a, x, yy - 5.0, x + 14.0, yy + 5.0, c(0x555555))?,
            9 => cross(a, x + 7.0, yy, 5.0)?,
            10 => {
                rect(a, x, yy - 7.0, x + 14.0, yy + 7.0, c(0xe4e4e4))?;
                stripes(a, x, yy - 7.0, x + 14.0, yy + 7.0, c(0x777777), false)?
            }
            11 => poly(
                a,
                &[
                    (x + 2.0, yy + 5.0),
                    (x + 12.0, yy + 5.0),
                    (x + 7.0, yy - 5.0),
                ],
                c(0x2ca02c),
                BLACK,
            )?,
            12 => poly(
                a,
                &[
                    (x + 7.0, yy - 7.0),
                    (x + 13.0, yy),
                    (x + 7.0, yy + 7.0),
                    (x + 1.0, yy),
                ],
                c(0x2ca02c),
                BLACK,
            )?,
            13 => {
                rect(a, x, yy - 4.0, x + 14.0, yy + 4.0, c(0xd8f0d2))?;
                frame(a, x, yy - 4.0, x + 14.0, yy + 4.0, c(0x2ca02c))?
            }
            _ => rect(a, x + 5.0, yy - 6.0, x + 8.0, yy + 6.0, c(0x444444))?,
        }
        text(a, label, x + 18.0, yy + 4.0, 11.0, BLACK, HPos::Left)?;
    }
    Ok(())
}
