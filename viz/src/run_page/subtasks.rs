//! Per-subtask charts, small multiples: for each subtask the watermark of each input channel
//! over processing time (a stalled channel holds the subtask's watermark back), the records
//! it received per second with its backpressure hatched under them, and how its time split
//! into busy, waiting for a core, backpressured and idle (from the run report).

use super::lanes::Lane;
use super::svg::{TimeScale, et, pt};
use super::timeline::{Ranged, TaskTimeline, Timeline};
use crate::RunReport;
use crate::html::esc;
use std::collections::BTreeMap;
use std::fmt::Write;
use streamlab_engine::report::{TaskReport, cut_middle};

/// Width of one subtask's picture (px).
const W: f64 = 380.0;
/// Left margin for the y labels (px).
const L: f64 = 58.0;
/// Subtasks drawn at most (the rest are in the CSV files).
pub const MAX_SUBTASKS: usize = 64;

/// Channel colours and dashes: told apart in colour and in greyscale.
const CHANNEL_STYLE: [(&str, &str); 6] = [
    ("#1f77b4", ""),
    ("#d62728", "5 3"),
    ("#2ca02c", "2 2"),
    ("#9467bd", "8 3 2 3"),
    ("#8c564b", "1 3"),
    ("#17becf", "10 2"),
];

/// The section's content: one `<figure>` per subtask (at most [`MAX_SUBTASKS`]).
pub fn subtask_figures(report: &RunReport, lanes: &[Lane], tl: &Timeline, end_ns: u64) -> String {
    let mut o = String::new();
    for l in lanes.iter().take(MAX_SUBTASKS) {
        let tt = l.timeline(tl);
        let task = &report.tasks[l.task_index];
        let _ = writeln!(
            o,
            "<figure class=\"subtask\" data-task=\"{}\"><figcaption><b>{}</b> · {}</figcaption>",
            esc(&l.name),
            esc(&cut_middle(&l.name, 48)),
            esc(&l.place())
        );
        o.push_str(&picture(tt, task, end_ns));
        o.push_str("</figure>\n");
    }
    if lanes.len() > MAX_SUBTASKS {
        let _ = writeln!(
            o,
            "<p>{} more subtasks are not drawn here; their series are in the CSV files.</p>",
            lanes.len() - MAX_SUBTASKS
        );
    }
    o
}

/// One subtask: watermark per channel, records in per second, time split.
fn picture(tt: Option<&TaskTimeline>, task: &TaskReport, end_ns: u64) -> String {
    let sc = TimeScale {
        x0: L,
        width: W - L - 10.0,
        end_ns,
    };
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} 244\" width=\"{W}\" height=\"244\" font-family=\"sans-serif\" font-size=\"10\">"
    );
    watermark_panel(&mut o, tt, &sc, 4.0);
    input_panel(&mut o, tt, &sc, 118.0);
    time_split(&mut o, task, 204.0);
    o.push_str("</svg>\n");
    o
}

/// The finite values of a watermark series (the −∞ before the first and the final +∞ are
/// left out: they have no place on an axis).
fn finite(r: &Ranged) -> bool {
    r.max != i64::MIN && r.max != i64::MAX
}

/// Watermark per input channel: a step line each, event time up, processing time across.
fn watermark_panel(o: &mut String, tt: Option<&TaskTimeline>, sc: &TimeScale, y0: f64) {
    let h = 70.0;
    let _ = writeln!(
        o,
        "<text x=\"{L}\" y=\"{}\" font-weight=\"bold\">watermark per input channel (event time)</text>",
        y0 + 8.0
    );
    let top = y0 + 14.0;
    let mut series: BTreeMap<&str, Vec<&Ranged>> = BTreeMap::new();
    if let Some(tt) = tt {
        for (from, r) in tt.channel_watermarks.iter().filter(|(_, r)| finite(r)) {
            series.entry(from.as_str()).or_default().push(r);
        }
        if series.is_empty() {
            // a source: the watermark its generator emitted
            let own: Vec<&Ranged> = tt
                .watermarks
                .iter()
                .map(|(_, r)| r)
                .filter(|r| finite(r))
                .collect();
            if !own.is_empty() {
                series.insert("", own);
            }
        }
    }
    frame(o, sc, top, h);
    if series.is_empty() {
        let _ = writeln!(
            o,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#777\">no watermark from an input channel (a source, or no event time)</text>",
            sc.x0 + sc.width / 2.0,
            top + h / 2.0
        );
        return;
    }
    let lo = series.values().flatten().map(|r| r.min).min().unwrap_or(0);
    let hi = series.values().flatten().map(|r| r.max).max().unwrap_or(1);
    let y = |v: i64| top + h - h * ((v - lo) as f64 / ((hi - lo).max(1)) as f64);
    let _ = writeln!(
        o,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
        L - 3.0,
        top + 8.0,
        esc(&et(hi)),
        L - 3.0,
        top + h,
        esc(&et(lo))
    );
    for (k, (from, pts)) in series.iter().enumerate() {
        let (color, dash) = CHANNEL_STYLE[k % CHANNEL_STYLE.len()];
        let mut d = String::new();
        let mut prev: Option<f64> = None;
        for r in pts {
            let (x, yy) = (sc.x(r.count.last_ns), y(r.max));
            match prev {
                None => {
                    let _ = write!(d, "M{x:.1},{yy:.1}");
                }
                Some(py) => {
                    let _ = write!(d, " L{x:.1},{py:.1} L{x:.1},{yy:.1}");
                }
            }
            prev = Some(yy);
        }
        let _ = writeln!(
            o,
            "<path d=\"{d}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" stroke-dasharray=\"{dash}\"><title>{}</title></path>",
            if from.is_empty() {
                "the subtask's own watermark".to_string()
            } else {
                format!("channel from {}", esc(from))
            }
        );
    }
    let _ = writeln!(
        o,
        "<text x=\"{L}\" y=\"{}\" font-size=\"9\">{}</text>",
        top + h + 22.0,
        channel_legend(&series.keys().copied().collect::<Vec<_>>())
    );
}

/// The legend of the channel lines: the sending chain once when every channel comes from
/// one chain (`from Source: a: — #0  – – #1`), else each sender shortened.
fn channel_legend(froms: &[&str]) -> String {
    if froms == [""] {
        return "the watermark its generator emitted (a source)".into();
    }
    let chain = |f: &str| f.rsplit_once(" #").map(|x| x.0.to_string());
    let one = chain(froms[0]).filter(|c| froms.iter().all(|f| chain(f).as_ref() == Some(c)));
    let names: Vec<String> = froms
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let label = match &one {
                Some(_) => f
                    .rsplit_once(" #")
                    .map_or(f.to_string(), |x| format!("#{}", x.1)),
                None => cut_middle(f, 16),
            };
            format!(
                "<tspan fill=\"{}\">{} {}</tspan>",
                CHANNEL_STYLE[k % CHANNEL_STYLE.len()].0,
                ["—", "– –", "···", "—·", "· ·", "——"][k % CHANNEL_STYLE.len()],
                esc(&label)
            )
        })
        .collect();
    match one {
        Some(c) => format!("from {}: {}", esc(&cut_middle(&c, 24)), names.join("  ")),
        None => format!("from: {}", names.join("  ")),
    }
}

/// A light frame with a grid line per axis tick.
fn frame(o: &mut String, sc: &TimeScale, top: f64, h: f64) {
    let _ = writeln!(
        o,
        "<rect x=\"{:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{h}\" fill=\"#fafafa\" stroke=\"#bbb\"/>",
        sc.x0, sc.width
    );
    let (ticks, unit) = sc.ticks();
    for (ns, label) in ticks.iter().step_by(2) {
        let x = sc.x(*ns);
        let _ = writeln!(
            o,
            "<line x1=\"{x:.1}\" y1=\"{top}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#e4e4e4\"/><text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#555\" font-size=\"9\">{label}{}</text>",
            top + h,
            top + h + 10.0,
            if *ns == 0 { unit } else { "" }
        );
    }
}

/// Records received per second (bars) with the backpressure hatched behind them — for a
/// source, which receives none, the records it sent.
fn input_panel(o: &mut String, tt: Option<&TaskTimeline>, sc: &TimeScale, y0: f64) {
    let h = 50.0;
    let sends = tt.is_some_and(|t| t.records_in.is_empty());
    let _ = writeln!(
        o,
        "<text x=\"{L}\" y=\"{}\" font-weight=\"bold\">records {} per second, <tspan fill=\"#d62728\">backpressure hatched</tspan></text>",
        y0 + 8.0,
        if sends { "sent" } else { "in" }
    );
    let top = y0 + 14.0;
    frame(o, sc, top, h);
    let Some(tt) = tt else { return };
    for s in &tt.backpressure.done {
        let (x1, x2) = (sc.x(s.start_ns), sc.x(s.end_ns));
        let _ = writeln!(
            o,
            "<rect x=\"{x1:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{h}\" fill=\"url(#hatch-bp)\"><title>backpressured {}–{}</title></rect>",
            (x2 - x1).max(1.0),
            pt(s.start_ns),
            pt(s.end_ns)
        );
    }
    const COLS: u64 = 60;
    let col_ns = sc.end_ns.div_ceil(COLS).max(1);
    let mut sums = vec![0u64; COLS as usize + 1];
    let series = if sends {
        &tt.records_out
    } else {
        &tt.records_in
    };
    for (_, r) in series.iter() {
        sums[((r.count.first_ns / col_ns) as usize).min(COLS as usize)] += r.sum;
    }
    let max = sums.iter().copied().max().unwrap_or(0);
    if max == 0 {
        return;
    }
    let per_s = |n: u64| n as f64 * 1e9 / col_ns as f64;
    let _ = writeln!(
        o,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text>",
        L - 3.0,
        top + 8.0,
        crate::charts::tick(per_s(max)),
        L - 3.0,
        top + h
    );
    for (c, &n) in sums.iter().enumerate().filter(|(_, n)| **n > 0) {
        let t0 = c as u64 * col_ns;
        let (x1, x2) = (sc.x(t0), sc.x(t0 + col_ns));
        let bh = h * n as f64 / max as f64;
        let _ = writeln!(
            o,
            "<rect x=\"{x1:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#4a6fa5\"><title>{} records {} {}–{} ({} per second)</title></rect>",
            top + h - bh,
            (x2 - x1 - 0.5).max(0.5),
            n,
            if sends { "sent" } else { "received" },
            pt(t0),
            pt(t0 + col_ns),
            crate::charts::tick(per_s(n))
        );
    }
}

/// One stacked bar: busy, waiting for a core, backpressured, idle (shares of the run).
fn time_split(o: &mut String, t: &TaskReport, y: f64) {
    let parts = [
        ("busy", t.busy_ms, "#1f77b4", ""),
        ("waiting for a core", t.cpu_wait_ms, "#ff7f0e", ""),
        ("backpressured", t.backpressured_ms, "url(#hatch-bp)", ""),
        ("idle", t.idle_ms, "#e8e8e8", ""),
    ];
    let total: f64 = parts.iter().map(|p| p.1).sum();
    let _ = writeln!(
        o,
        "<text x=\"{L}\" y=\"{}\" font-weight=\"bold\">time split</text>",
        y + 2.0
    );
    if total <= 0.0 {
        return;
    }
    let (x0, w) = (L, W - L - 10.0);
    let mut x = x0;
    let mut legend = Vec::new();
    for (name, ms, fill, _) in parts {
        let pw = w * ms / total;
        let pct = 100.0 * ms / total;
        if pw > 0.0 {
            let _ = writeln!(
                o,
                "<rect x=\"{x:.1}\" y=\"{}\" width=\"{pw:.1}\" height=\"12\" fill=\"{fill}\" stroke=\"#fff\" stroke-width=\"0.5\"><title>{name}: {ms} ms ({pct:.1} %)</title></rect>",
                y + 6.0
            );
        }
        x += pw;
        legend.push(format!("{name} {pct:.1} %"));
    }
    let _ = writeln!(
        o,
        "<text x=\"{L}\" y=\"{}\" font-size=\"9\" fill=\"#333\">{}</text>",
        y + 30.0,
        legend.join(" · ")
    );
}
