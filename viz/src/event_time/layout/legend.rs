//! The legend: every mark with what it means, and notes on what was thinned.

use super::*;

/// Wraps `s` into lines of at most `width` px at `size`.
pub(super) fn wrap(s: &str, width: f64, size: f64) -> Vec<String> {
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

/// The legend's column: entries stacked downwards from `y`.
struct Column {
    x: f64,
    y: f64,
    prims: Vec<Prim>,
}

impl Column {
    const SIZE: f64 = 13.0;

    /// A mark (drawn at the current `y`) and its label, wrapped.
    fn entry(&mut self, mark: impl FnOnce(f64, f64) -> Vec<Prim>, label: &str) {
        self.prims.extend(mark(self.x, self.y));
        let width = WIDTH as f64 - self.x - 44.0;
        for (i, l) in wrap(label, width, Self::SIZE).into_iter().enumerate() {
            if i > 0 {
                self.y += 16.0;
            }
            let y = self.y + 4.5;
            self.prims
                .push(text(self.x + 30.0, y, l, Self::SIZE, Anchor::Start, INK));
        }
        self.y += 24.0;
    }

    /// Grey lines of small text.
    fn note(&mut self, s: &str) {
        for l in wrap(s, WIDTH as f64 - self.x - 16.0, 12.0) {
            self.prims
                .push(text(self.x, self.y, l, 12.0, Anchor::Start, GREY));
            self.y += 15.0;
        }
    }
}

/// A small window band, for the legend.
fn band_mark(c: Rgb, o: f64, dash: Option<(u32, u32)>) -> impl FnOnce(f64, f64) -> Vec<Prim> {
    move |x, y| {
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
    }
}

pub(super) fn legend(v: &EventTimeView, items: &mut Vec<Item>, fires_thinned: bool) {
    let mut title = text(LEGEND_X, TOP + 6.0, "Legend", 14.5, Anchor::Start, INK);
    if let Prim::Text { bold, .. } = &mut title {
        *bold = true;
    }
    let mut col = Column {
        x: LEGEND_X,
        y: TOP + 30.0,
        prims: vec![title],
    };
    for k in DotKind::ALL {
        let label = format!("{} ({})", kind_label(k), v.records.get(k));
        col.entry(|x, y| dot_prims(k, x + 11.0, y, 1.0), &label);
    }
    for (i, (name, _)) in watermark_lines(v).iter().enumerate() {
        let line = |x: f64, y: f64| {
            vec![Prim::Path {
                pts: vec![(x, y), (x + 22.0, y)],
                style: Style::stroke(WATERMARK, 2.2).with_dash(DASHES[i % DASHES.len()]),
            }]
        };
        col.entry(line, name);
    }
    col.entry(
        band_mark(BAND, 0.35, None),
        "window [start, end): open until the watermark passes end − 1",
    );
    if v.allowed_lateness_ms > 0 {
        let label = format!(
            "window kept for late records ({} allowed lateness)",
            duration_text(v.allowed_lateness_ms)
        );
        col.entry(band_mark(LATENESS, 0.45, Some((4, 3))), &label);
    }
    col.entry(
        |x, y| fire_prims(x + 11.0, y, false),
        "window fired (results emitted)",
    );
    if v.firings.iter().any(|f| f.late) {
        col.entry(
            |x, y| fire_prims(x + 11.0, y, true),
            "late firing (allowed lateness)",
        );
    }
    col.y += 6.0;
    col.note(
        "A record is late when the watermark has passed the end − 1 of all its windows (plus the allowed lateness). Hover a mark for details.",
    );
    for l in thinning_notes(v, fires_thinned) {
        col.note(&l);
    }
    items.push(Item {
        class: Some("legend".into()),
        prims: col.prims,
        ..Item::default()
    });
}

/// What the picture leaves out to stay small, one line each.
fn thinning_notes(v: &EventTimeView, fires_thinned: bool) -> Vec<String> {
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
    notes
}
