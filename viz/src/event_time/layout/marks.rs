//! The marks of the diagram: window bands, watermark steps, dots, firings, and the labels
//! of the late records.

use super::*;

/// Colour of a dot kind (Okabe–Ito, told apart in greyscale by shape).
pub(super) fn kind_color(k: DotKind) -> Rgb {
    match k {
        DotKind::OnTime => (0, 114, 178),
        DotKind::LateAllowed => (230, 159, 0),
        DotKind::LateSide => (213, 94, 0),
        DotKind::Dropped => (0, 0, 0),
    }
}

/// The legend text of a dot kind.
pub(super) fn kind_label(k: DotKind) -> &'static str {
    match k {
        DotKind::OnTime => "on time",
        DotKind::LateAllowed => "late, within allowed lateness",
        DotKind::LateSide => "late → side output",
        DotKind::Dropped => "late → dropped",
    }
}

/// What happened to a record of a kind, for its tooltip.
pub(super) fn kind_story(k: DotKind) -> &'static str {
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
pub(super) fn dot_prims(k: DotKind, x: f64, y: f64, scale: f64) -> Vec<Prim> {
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
pub(super) fn fire_prims(x: f64, y: f64, late: bool) -> Vec<Prim> {
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

/// Draw every k-th band (k = 1 up to [`MAX_BANDS_DRAWN`] bands).
pub(super) fn band_step(v: &EventTimeView) -> usize {
    v.bands.len().div_ceil(MAX_BANDS_DRAWN).max(1)
}

/// Draws the window bands; returns their labels, drawn over the dots.
pub(super) fn bands(v: &EventTimeView, f: &Frame, items: &mut Vec<Item>) -> Item {
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
        items.push(Item {
            class: Some("window-band".into()),
            attrs: vec![
                ("data-start-ms", b.start_ms.to_string()),
                ("data-end-ms", b.end_ms.to_string()),
                ("data-fires", b.fires.to_string()),
            ],
            title: Some(band_title(b, v)),
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
pub(in crate::event_time) fn watermark_lines(v: &EventTimeView) -> Vec<(String, Vec<(u64, i64)>)> {
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
pub(super) fn final_label(v: &EventTimeView, f: &Frame) -> Option<((f64, f64), Box4)> {
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

pub(super) fn watermarks(v: &EventTimeView, f: &Frame, items: &mut Vec<Item>) {
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
pub(super) fn key_text(d: &Dot) -> Option<String> {
    let k = d.key.as_deref()?;
    Some(match serde_json::from_str::<serde_json::Value>(k) {
        Ok(serde_json::Value::String(s)) => s,
        _ => k.to_string(),
    })
}

/// The tooltip of one record.
pub(super) fn dot_title(d: &Dot, v: &EventTimeView) -> String {
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

pub(super) fn dots(v: &EventTimeView, f: &Frame, items: &mut Vec<Item>, kinds: &[DotKind]) {
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
pub(super) fn firings(v: &EventTimeView, f: &Frame, items: &mut Vec<Item>) -> bool {
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
pub(super) fn late_labels(v: &EventTimeView, f: &Frame, items: &mut Vec<Item>) {
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

/// The tooltip of a window band.
fn band_title(b: &WindowBand, v: &EventTimeView) -> String {
    let close_text = match b.closed_ns {
        Some(t) => format!(
            "closed at {} when the watermark passed {}",
            ns_text(t),
            ms_text(b.end_ms - 1)
        ),
        None => "still open when the run ended".into(),
    };
    let late_text = match (v.allowed_lateness_ms > 0, b.cleanup_ns) {
        (false, _) => String::new(),
        (true, Some(t)) => format!(
            "; kept for late records until {} (watermark passed {})",
            ns_text(t),
            ms_text(b.end_ms - 1 + v.allowed_lateness_ms)
        ),
        (true, None) => "; kept for late records until the run ended".into(),
    };
    let late_fires = if b.late_fires > 0 {
        format!(", {} of them late firings", b.late_fires)
    } else {
        String::new()
    };
    format!(
        "window [{}, {}): opened at {}, {close_text}{late_text}; {} result(s) emitted{late_fires}",
        ms_text(b.start_ms),
        ms_text(b.end_ms),
        ns_text(b.opened_ns),
        b.fires,
    )
}
