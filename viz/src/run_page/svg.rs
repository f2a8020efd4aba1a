//! Small pieces of hand-written SVG shared by the run page's pictures: a mark with its tip
//! (the DOM contract: class `mark` and a kind, `data-tip` and a `<title>` with the same text,
//! `data-count` when it stands for several events), the time scale and its axis, and how
//! times are written.

use crate::html::esc;
use std::fmt::Write;
use streamlab_engine::report::fmt_ms;

/// Writes one mark: `<tag class="mark kind" attrs data-count data-tip><title>tip</title></tag>`.
/// `count` > 1 adds `data-count`. `inner` is drawn inside (for a `<g>`).
pub fn mark(
    o: &mut String,
    tag: &str,
    kind: &str,
    count: u64,
    tip: &str,
    attrs: &str,
    inner: &str,
) {
    let tip = esc(tip);
    let n = if count > 1 {
        format!(" data-count=\"{count}\"")
    } else {
        String::new()
    };
    let _ = writeln!(
        o,
        "<{tag} class=\"mark {kind}\" {attrs}{n} data-tip=\"{tip}\"><title>{tip}</title>{inner}</{tag}>"
    );
}

/// Processing time (ns since the job started) as a person reads it: `12.000 s`, `3.500 ms`.
pub fn pt(ns: u64) -> String {
    if ns == 0 {
        return "0 s".into();
    }
    fmt_ms(ns as f64 / 1e6)
}

/// Event time (ms) as a person reads it: `4.999 s`, or −∞ / +∞ for Flink's
/// `Long.MIN_VALUE` / `Long.MAX_VALUE`.
pub fn et(ms: i64) -> String {
    match ms {
        i64::MIN => "−∞ (no watermark yet)".into(),
        i64::MAX => "+∞ (end of input)".into(),
        _ => format!("{:.3} s", ms as f64 / 1000.0),
    }
}

/// `n thing`/`n things`.
pub fn n_of(n: u64, one: &str, many: &str) -> String {
    streamlab_engine::report::plural(n, one, many)
}

/// The x scale: processing time `[0, end_ns]` onto `[x0, x0 + width]` pixels.
#[derive(Debug, Clone, Copy)]
pub struct TimeScale {
    /// Left edge (px).
    pub x0: f64,
    /// Width (px).
    pub width: f64,
    /// The end of the axis (ns).
    pub end_ns: u64,
}

impl TimeScale {
    /// The pixel of time `t`.
    pub fn x(&self, t: u64) -> f64 {
        self.x0 + self.width * (t.min(self.end_ns) as f64 / self.end_ns.max(1) as f64)
    }

    /// The column of time `t` when columns are `px` pixels wide.
    pub fn column(&self, t: u64, px: f64) -> u64 {
        ((self.x(t) - self.x0) / px.max(0.1)).floor().max(0.0) as u64
    }

    /// Ticks for the axis: `(ns, label)`, a 1-2-5 step giving 5 to 12 of them, the unit in
    /// the label of the axis (`s` or `ms`).
    pub fn ticks(&self) -> (Vec<(u64, String)>, &'static str) {
        let end_ms = self.end_ns as f64 / 1e6;
        let (div, unit) = if end_ms >= 2000.0 {
            (1000.0, "s")
        } else {
            (1.0, "ms")
        };
        let span = (end_ms / div).max(1e-6);
        let step = crate::charts::nice125(span / 8.0, false);
        let mut v = Vec::new();
        let mut k = 0u64;
        loop {
            let val = step * k as f64;
            if val > span * (1.0 + 1e-9) {
                break;
            }
            let ns = (val * div * 1e6).round() as u64;
            v.push((ns, crate::charts::tick(val)));
            k += 1;
        }
        (v, unit)
    }
}

/// An axis of processing time along `y` (labels above when `top`), with light grid lines
/// down to `grid_to`.
pub fn time_axis(o: &mut String, sc: &TimeScale, y: f64, top: bool, grid_to: f64) {
    let (ticks, unit) = sc.ticks();
    let _ = writeln!(
        o,
        "<g class=\"axis\" font-size=\"11\" fill=\"#333\"><line x1=\"{:.1}\" y1=\"{y}\" x2=\"{:.1}\" y2=\"{y}\" stroke=\"#333\"/>",
        sc.x0,
        sc.x0 + sc.width
    );
    for (ns, label) in &ticks {
        let x = sc.x(*ns);
        let (ty, gy) = if top {
            (y - 5.0, grid_to)
        } else {
            (y + 14.0, grid_to)
        };
        let _ = writeln!(
            o,
            "<line x1=\"{x:.1}\" y1=\"{y}\" x2=\"{x:.1}\" y2=\"{gy}\" stroke=\"#ddd\"/><text x=\"{x:.1}\" y=\"{ty}\" text-anchor=\"middle\">{label}</text>"
        );
    }
    let (lx, ly) = (sc.x0 + sc.width, if top { y - 18.0 } else { y + 28.0 });
    let _ = writeln!(
        o,
        "<text x=\"{lx:.1}\" y=\"{ly}\" text-anchor=\"end\" font-style=\"italic\">processing time ({unit}, simulated)</text></g>"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_carries_its_tip_twice_and_its_count_only_when_several() {
        let mut o = String::new();
        mark(&mut o, "circle", "fire", 1, "a<b", "r=\"3\"", "");
        assert_eq!(
            o,
            "<circle class=\"mark fire\" r=\"3\" data-tip=\"a&lt;b\"><title>a&lt;b</title></circle>\n"
        );
        let mut o = String::new();
        mark(&mut o, "g", "barrier", 4, "x", "", "<line/>");
        assert!(
            o.contains("data-count=\"4\"") && o.ends_with("<line/></g>\n"),
            "{o}"
        );
    }

    #[test]
    fn the_axis_has_round_ticks_in_seconds_for_long_runs() {
        let sc = TimeScale {
            x0: 100.0,
            width: 1000.0,
            end_ns: 32_866_510_421,
        };
        let (t, unit) = sc.ticks();
        assert_eq!(unit, "s");
        let labels: Vec<&str> = t.iter().map(|x| x.1.as_str()).collect();
        assert_eq!(labels, ["0", "5", "10", "15", "20", "25", "30"]);
        assert_eq!(sc.x(0), 100.0);
        assert_eq!(sc.x(u64::MAX), 1100.0);
        let short = TimeScale {
            end_ns: 600_000_000,
            ..sc
        };
        assert_eq!(short.ticks().1, "ms");
        assert_eq!(et(i64::MIN), "−∞ (no watermark yet)");
        assert_eq!(et(4999), "4.999 s");
        assert_eq!(pt(12_000_000_000), "12.000 s");
    }
}
