//! A picture as a list of primitives in pixel coordinates, written two ways: as SVG text
//! with classes and `<title>` tooltips ([`Scene::svg`]), and painted on a bitmap with
//! plotters and the embedded font ([`Scene::png`]). One layout, two outputs, the same
//! picture.

use crate::VizError;
use crate::charts::{FAMILY, register_font};
use plotters::prelude::*;
use plotters::style::FontTransform;
use std::fmt::Write;

/// A colour.
pub(super) type Rgb = (u8, u8, u8);

/// How a shape is filled and stroked.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Style {
    /// Fill colour and opacity.
    pub fill: Option<(Rgb, f64)>,
    /// Stroke colour and width.
    pub stroke: Option<(Rgb, f64)>,
    /// Dash and gap lengths of the stroke.
    pub dash: Option<(u32, u32)>,
}

impl Style {
    pub fn fill(c: Rgb) -> Self {
        Style {
            fill: Some((c, 1.0)),
            ..Style::default()
        }
    }

    pub fn stroke(c: Rgb, w: f64) -> Self {
        Style {
            stroke: Some((c, w)),
            ..Style::default()
        }
    }

    pub fn with_stroke(mut self, c: Rgb, w: f64) -> Self {
        self.stroke = Some((c, w));
        self
    }

    pub fn with_dash(mut self, dash: Option<(u32, u32)>) -> Self {
        self.dash = dash;
        self
    }
}

/// Where a text's `x` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Anchor {
    Start,
    Middle,
    End,
}

/// One drawing primitive.
#[derive(Debug, Clone)]
pub(super) enum Prim {
    Rect {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        style: Style,
    },
    /// An open polyline.
    Path { pts: Vec<(f64, f64)>, style: Style },
    /// A closed polygon.
    Polygon { pts: Vec<(f64, f64)>, style: Style },
    Circle {
        x: f64,
        y: f64,
        r: f64,
        style: Style,
    },
    Text {
        x: f64,
        y: f64,
        text: String,
        size: f64,
        anchor: Anchor,
        color: Rgb,
        bold: bool,
        /// Rotated a quarter turn counter-clockwise (a y axis title).
        vertical: bool,
        /// A white rectangle behind it, for labels over marks.
        halo: bool,
    },
}

/// Primitives drawn together: with a class (and `data-*` attributes) and a tooltip they are
/// one SVG group; without, plain elements.
#[derive(Debug, Clone, Default)]
pub(super) struct Item {
    pub class: Option<String>,
    pub attrs: Vec<(&'static str, String)>,
    pub title: Option<String>,
    pub prims: Vec<Prim>,
}

/// The picture.
#[derive(Debug, Clone, Default)]
pub(super) struct Scene {
    pub width: u32,
    pub height: u32,
    /// Attributes of the `<svg>` element (class, data-operator, …).
    pub attrs: Vec<(&'static str, String)>,
    /// The SVG's own title (for screen readers).
    pub title: String,
    pub items: Vec<Item>,
}

/// Width of a text at `size` px, estimated for DejaVu Sans (for layout only).
pub(super) fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.56
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// A coordinate as SVG writes it: at most one decimal.
fn n(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

fn hex(c: Rgb) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

fn svg_style(s: &Style) -> String {
    let mut out = String::new();
    match s.fill {
        Some((c, o)) => {
            let _ = write!(out, " fill=\"{}\"", hex(c));
            if o < 1.0 {
                let _ = write!(out, " fill-opacity=\"{o:.2}\"");
            }
        }
        None => out.push_str(" fill=\"none\""),
    }
    if let Some((c, w)) = s.stroke {
        let _ = write!(out, " stroke=\"{}\" stroke-width=\"{}\"", hex(c), n(w));
    }
    if let Some((d, g)) = s.dash {
        let _ = write!(out, " stroke-dasharray=\"{d} {g}\"");
    }
    out
}

fn points(pts: &[(f64, f64)]) -> String {
    let mut s = String::with_capacity(pts.len() * 10);
    for (i, &(x, y)) in pts.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&n(x));
        s.push(',');
        s.push_str(&n(y));
    }
    s
}

fn svg_prim(out: &mut String, p: &Prim) {
    match p {
        Prim::Rect { x, y, w, h, style } => {
            let _ = write!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"{}/>",
                n(*x),
                n(*y),
                n(w.max(0.0)),
                n(h.max(0.0)),
                svg_style(style)
            );
        }
        Prim::Path { pts, style } => {
            let _ = write!(
                out,
                "<polyline points=\"{}\"{} stroke-linejoin=\"round\"/>",
                points(pts),
                svg_style(&Style {
                    fill: None,
                    ..*style
                })
            );
        }
        Prim::Polygon { pts, style } => {
            let _ = write!(
                out,
                "<polygon points=\"{}\"{}/>",
                points(pts),
                svg_style(style)
            );
        }
        Prim::Circle { x, y, r, style } => {
            let _ = write!(
                out,
                "<circle cx=\"{}\" cy=\"{}\" r=\"{}\"{}/>",
                n(*x),
                n(*y),
                n(*r),
                svg_style(style)
            );
        }
        Prim::Text {
            x,
            y,
            text,
            size,
            anchor,
            color,
            bold,
            vertical,
            halo,
        } => {
            let anchor = match anchor {
                Anchor::Start => "start",
                Anchor::Middle => "middle",
                Anchor::End => "end",
            };
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{anchor}\" fill=\"{}\"",
                n(*x),
                n(*y),
                n(*size),
                hex(*color)
            );
            if *bold {
                out.push_str(" font-weight=\"bold\"");
            }
            if *vertical {
                let _ = write!(out, " transform=\"rotate(-90 {} {})\"", n(*x), n(*y));
            }
            if *halo {
                out.push_str(
                    " stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\" stroke-linejoin=\"round\"",
                );
            }
            let _ = write!(out, ">{}</text>", esc(text));
        }
    }
}

impl Scene {
    /// The picture as one `<svg>` element (no XML prolog: it is meant to be inlined in an
    /// HTML page; a file of it opens in a browser as well).
    pub fn svg(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\"",
            w = self.width,
            h = self.height
        );
        for (k, v) in &self.attrs {
            let _ = write!(out, " {k}=\"{}\"", esc(v));
        }
        out.push_str(" font-family=\"DejaVu Sans, Verdana, sans-serif\">\n");
        let _ = writeln!(out, "<title>{}</title>", esc(&self.title));
        let _ = writeln!(
            out,
            "<rect width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>",
            self.width, self.height
        );
        for it in &self.items {
            let grouped = it.class.is_some() || it.title.is_some() || !it.attrs.is_empty();
            if grouped {
                out.push_str("<g");
                if let Some(c) = &it.class {
                    let _ = write!(out, " class=\"{}\"", esc(c));
                }
                for (k, v) in &it.attrs {
                    let _ = write!(out, " {k}=\"{}\"", esc(v));
                }
                out.push('>');
                if let Some(t) = &it.title {
                    let _ = write!(out, "<title>{}</title>", esc(t));
                }
            }
            for p in &it.prims {
                svg_prim(&mut out, p);
            }
            if grouped {
                out.push_str("</g>");
            }
            out.push('\n');
        }
        out.push_str("</svg>\n");
        out
    }

    /// The picture as a PNG image.
    pub fn png(&self) -> Result<Vec<u8>, VizError> {
        register_font();
        let (w, h) = (self.width, self.height);
        let mut buf = vec![0u8; (w * h * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            root.fill(&WHITE).map_err(err)?;
            for it in &self.items {
                for p in &it.prims {
                    paint(&root, p)?;
                }
            }
            root.present().map_err(err)?;
        }
        crate::charts::encode_png(&buf, w, h)
    }
}

fn err<E: std::fmt::Display>(e: E) -> VizError {
    VizError(format!("drawing the event-time diagram failed: {e}"))
}

fn px(p: (f64, f64)) -> (i32, i32) {
    (p.0.round() as i32, p.1.round() as i32)
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

fn paint(root: &Area<'_>, p: &Prim) -> Result<(), VizError> {
    let color = |c: Rgb, o: f64| RGBColor(c.0, c.1, c.2).mix(o);
    let outline = |pts: Vec<(i32, i32)>, style: &Style| -> Result<(), VizError> {
        let Some((c, w)) = style.stroke else {
            return Ok(());
        };
        let st = ShapeStyle::from(color(c, 1.0)).stroke_width(w.round().max(1.0) as u32);
        match style.dash {
            Some((d, g)) => root
                .draw(&plotters::element::DashedPathElement::new(pts, d, g, st))
                .map_err(err),
            None => root.draw(&PathElement::new(pts, st)).map_err(err),
        }
    };
    match p {
        Prim::Rect { x, y, w, h, style } => {
            let a = px((*x, *y));
            let b = px((x + w, y + h));
            if let Some((c, o)) = style.fill {
                root.draw(&Rectangle::new([a, b], color(c, o).filled()))
                    .map_err(err)?;
            }
            outline(vec![a, (b.0, a.1), b, (a.0, b.1), a], style)?;
        }
        Prim::Path { pts, style } => {
            outline(pts.iter().map(|&q| px(q)).collect(), style)?;
        }
        Prim::Polygon { pts, style } => {
            let v: Vec<(i32, i32)> = pts.iter().map(|&q| px(q)).collect();
            if let Some((c, o)) = style.fill {
                root.draw(&Polygon::new(v.clone(), color(c, o).filled()))
                    .map_err(err)?;
            }
            let mut closed = v;
            if let Some(&f) = closed.first() {
                closed.push(f);
            }
            outline(closed, style)?;
        }
        Prim::Circle { x, y, r, style } => {
            let c0 = px((*x, *y));
            let r = r.round().max(1.0) as i32;
            if let Some((c, o)) = style.fill {
                root.draw(&Circle::new(c0, r, color(c, o).filled()))
                    .map_err(err)?;
            }
            if let Some((c, w)) = style.stroke {
                let st = ShapeStyle::from(color(c, 1.0)).stroke_width(w.round().max(1.0) as u32);
                root.draw(&Circle::new(c0, r, st)).map_err(err)?;
            }
        }
        Prim::Text {
            x,
            y,
            text,
            size,
            anchor,
            color: c,
            bold,
            vertical,
            halo,
        } => {
            let mut font = (FAMILY, *size).into_font();
            if *bold {
                font = font.style(FontStyle::Bold);
            }
            let mut style = font.color(&RGBColor(c.0, c.1, c.2));
            let width = root
                .estimate_text_size(text, &style)
                .map_or_else(|_| text_width(text, *size), |(w, _)| f64::from(w));
            let shift = match anchor {
                Anchor::Start => 0.0,
                Anchor::Middle => width / 2.0,
                Anchor::End => width,
            };
            if *vertical {
                // rotated: the text runs upwards from (x, y + shift), its baseline at x
                style = style.transform(FontTransform::Rotate270);
                let at = px((x - size * 0.8, y + shift));
                root.draw(&Text::new(text.clone(), at, style))
                    .map_err(err)?;
            } else {
                // plotters places the top of the text at y; SVG the baseline
                let at = px((x - shift, y - size * 0.8));
                if *halo {
                    let a = px((x - shift - 2.0, y - size * 0.85));
                    let b = px((x - shift + width + 2.0, y + size * 0.25));
                    root.draw(&Rectangle::new([a, b], WHITE.mix(0.85).filled()))
                        .map_err(err)?;
                }
                root.draw(&Text::new(text.clone(), at, style))
                    .map_err(err)?;
            }
        }
    }
    Ok(())
}
