//! The space-time diagram: one lane per subtask (grouped by chain, labelled with its
//! TaskManager and slot), simulated processing time across. On the lanes: network buffers as
//! arrows from the sender's lane to the receiver's, checkpoint barriers as ticks (one per
//! snapshot) with their alignment spans, backpressure as hatching, watermark advances, window
//! firings, late elements, two-phase-commit commits, restores of the sources and the replay
//! after them. Above the lanes the job's row: checkpoints from trigger to completion,
//! failures, restarts, status changes; a failure's downtime hatches every lane.
//!
//! Marks close together on one lane (within a few pixels) are drawn as one with `data-count`
//! — and the page says how many events each kind drew as how many marks — so the size of the
//! picture is bounded by its width, not by the length of the run.

use super::bins::Agg;
use super::job_row::{failures, job_labels, job_row, legend, rescale};
use super::lanes::{Lane, shell_word, window_operator};
use super::network::buffers;
use super::svg::{TimeScale, et, mark, n_of, pt, time_axis};
use super::timeline::{Fires, Span, TaskTimeline, Timeline};
use crate::RunReport;
use crate::html::esc;
use std::collections::BTreeMap;
use std::fmt::Write;
use streamlab_engine::report::cut_middle;

/// Width of the picture (px).
pub(super) const WIDTH: f64 = 1200.0;
/// Width of the lane labels (px).
pub(super) const LABEL_W: f64 = 250.0;
/// Height of a lane (px).
pub(super) const LANE_H: f64 = 30.0;
/// Top of the job's row (px).
pub(super) const JOB_Y: f64 = 48.0;
/// Height of the job's row (px).
pub(super) const JOB_H: f64 = 58.0;

/// The diagram and what it says about how it aggregated.
#[derive(Debug, Clone)]
pub struct SpaceTime {
    /// The `<svg id="space-time">` element.
    pub svg: String,
    /// One sentence per kind of mark drawn: how many events as how many marks.
    pub notes: Vec<String>,
}

/// Where things go: the lanes, their tops, the time scale; and how to ask why.
pub(super) struct Layout<'a> {
    /// `streamlab explain FILE --seed N`, to which a question is added in the tips.
    explain: Option<&'a str>,
    pub(super) report: &'a RunReport,
    pub(super) lanes: &'a [Lane],
    pub(super) tops: Vec<f64>,
    pub(super) sc: TimeScale,
    pub(super) bottom: f64,
}

impl Layout<'_> {
    /// Each lane's position by (epoch, subtask name): where a trace line's subtask is drawn.
    pub(super) fn lane_index(&self) -> std::collections::BTreeMap<(u32, &str), usize> {
        self.lanes
            .iter()
            .enumerate()
            .map(|(i, l)| ((l.epoch, l.name.as_str()), i))
            .collect()
    }

    /// ` — why: streamlab explain FILE --seed N QUESTION`, or nothing.
    pub(super) fn why(&self, question: &str) -> String {
        self.explain
            .map_or(String::new(), |e| format!(" — why: {e} {question}"))
    }

    pub(super) fn mid(&self, lane: usize) -> f64 {
        self.tops[lane] + LANE_H / 2.0
    }
    pub(super) fn lanes_top(&self) -> f64 {
        self.tops.first().copied().unwrap_or(JOB_Y + JOB_H)
    }
}

/// Counts of events and marks per kind, for the notes.
#[derive(Default)]
pub(super) struct Tally(BTreeMap<&'static str, (u64, u64)>);

impl Tally {
    pub(super) fn add(&mut self, kind: &'static str, events: u64) {
        let e = self.0.entry(kind).or_default();
        e.0 += events;
        e.1 += 1;
    }
}

/// The layout of the diagram: the time scale over the whole run, the lanes' tops (a gap
/// between chains, a larger one before a resubmitted job's lanes).
pub(super) fn layout<'a>(
    report: &'a RunReport,
    lanes: &'a [Lane],
    tl: &Timeline,
    explain: Option<&'a str>,
) -> Layout<'a> {
    let end_ns = tl
        .end_ns
        .max(report.outcome.at_ns)
        .max((report.sim_duration_ms * 1e6) as u64)
        .max(1);
    let sc = TimeScale {
        x0: LABEL_W,
        width: WIDTH - LABEL_W - 20.0,
        end_ns,
    };
    let mut tops = Vec::new();
    let mut y = JOB_Y + JOB_H + 12.0;
    for (i, l) in lanes.iter().enumerate() {
        if i > 0 && (lanes[i - 1].chain != l.chain || lanes[i - 1].epoch != l.epoch) {
            y += if lanes[i - 1].epoch != l.epoch {
                24.0
            } else {
                8.0
            };
        }
        tops.push(y);
        y += LANE_H;
    }
    Layout {
        explain,
        report,
        lanes,
        tops,
        sc,
        bottom: y,
    }
}

/// Where the legend starts and the picture's height, below the lanes.
pub(super) fn legend_and_height(lay: &Layout<'_>) -> (f64, f64) {
    let legend_y = lay.bottom + 44.0;
    (legend_y, legend_y + 40.0)
}

/// Draws the diagram of a run. `explain` (`streamlab explain FILE --seed N`) adds to the tips
/// of firings, checkpoints and backpressure the question that explains them.
pub fn space_time(
    report: &RunReport,
    lanes: &[Lane],
    tl: &Timeline,
    explain: Option<&str>,
) -> SpaceTime {
    let lay = layout(report, lanes, tl, explain);
    let (legend_y, height) = legend_and_height(&lay);
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<svg id=\"space-time\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">"
    );
    o.push_str(DEFS);
    backgrounds(&mut o, &lay);
    time_axis(&mut o, &lay.sc, JOB_Y - 8.0, true, lay.bottom);
    let mut tally = Tally::default();
    buffers(&mut o, &lay, tl, &mut tally);
    for (i, l) in lanes.iter().enumerate() {
        let _ = writeln!(o, "<g class=\"lane\" data-task=\"{}\">", esc(&l.name));
        lane_label(&mut o, &lay, i);
        if let Some(tt) = l.timeline(tl) {
            lane_marks(&mut o, &lay, i, tt, &mut tally);
        }
        o.push_str("</g>\n");
    }
    let mut labels = Vec::new();
    job_row(&mut o, &lay, report, tl, &mut tally, &mut labels);
    failures(&mut o, &lay, report, &mut tally, &mut labels);
    rescale(&mut o, &lay, report, &mut tally, &mut labels);
    job_labels(&mut o, &lay, labels);
    time_axis(&mut o, &lay.sc, lay.bottom + 6.0, false, lay.bottom + 6.0);
    legend(&mut o, legend_y);
    o.push_str("</svg>\n");
    SpaceTime {
        svg: o,
        notes: notes(&tally, &lay),
    }
}

/// Patterns: backpressure hatching, downtime cross-hatching; the buffer arrowhead.
const DEFS: &str = "<defs>\
<pattern id=\"hatch-bp\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#fbe3e3\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#d62728\" stroke-width=\"2\"/></pattern>\
<pattern id=\"hatch-down\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\"><rect width=\"8\" height=\"8\" fill=\"#d9d9d9\" fill-opacity=\"0.75\"/><path d=\"M0,0 L8,8 M8,0 L0,8\" stroke=\"#555\" stroke-width=\"0.8\"/></pattern>\
<marker id=\"st-arrow\" markerWidth=\"6\" markerHeight=\"6\" refX=\"5\" refY=\"3\" orient=\"auto\"><path d=\"M0,0 L6,3 L0,6 z\" fill=\"#777\"/></marker>\
</defs>\n";

/// Lane backgrounds (alternating per chain) and group captions, under everything.
fn backgrounds(o: &mut String, lay: &Layout<'_>) {
    let sc = &lay.sc;
    let _ = writeln!(
        o,
        "<g class=\"backgrounds\"><rect x=\"{:.1}\" y=\"{JOB_Y}\" width=\"{:.1}\" height=\"{JOB_H}\" fill=\"#f2f4f8\"/><text x=\"6\" y=\"{}\" font-weight=\"bold\">job (JobManager)</text><text x=\"6\" y=\"{}\" fill=\"#555\" font-size=\"10\">checkpoints, failures, restarts</text>",
        sc.x0,
        sc.width,
        JOB_Y + 18.0,
        JOB_Y + 32.0
    );
    let mut shade = false;
    for (i, l) in lay.lanes.iter().enumerate() {
        if i > 0 && (lay.lanes[i - 1].chain != l.chain || lay.lanes[i - 1].epoch != l.epoch) {
            shade = !shade;
        }
        if i > 0 && lay.lanes[i - 1].epoch != l.epoch {
            let _ = writeln!(
                o,
                "<text x=\"6\" y=\"{}\" font-style=\"italic\" fill=\"#333\">after the rescale: the job resubmitted from its savepoint</text>",
                lay.tops[i] - 8.0
            );
        }
        let _ = writeln!(
            o,
            "<rect x=\"{:.1}\" y=\"{}\" width=\"{:.1}\" height=\"{LANE_H}\" fill=\"{}\"/>",
            sc.x0,
            lay.tops[i],
            sc.width,
            if shade { "#f4f4f4" } else { "#fbfbfb" }
        );
    }
    o.push_str("</g>\n");
}

/// The lane's name and place, and its line from start to finish.
fn lane_label(o: &mut String, lay: &Layout<'_>, i: usize) {
    let (l, top) = (&lay.lanes[i], lay.tops[i]);
    let _ = writeln!(
        o,
        "<text x=\"6\" y=\"{}\">{}</text><text x=\"6\" y=\"{}\" font-size=\"9.5\" fill=\"#555\">{}</text><line x1=\"{:.1}\" y1=\"{}\" x2=\"{:.1}\" y2=\"{}\" stroke=\"#bbb\"/>",
        top + 13.0,
        esc(&cut_middle(&l.name, 40)),
        top + 25.0,
        esc(&l.place()),
        lay.sc.x0,
        lay.mid(i),
        lay.sc.x0 + lay.sc.width,
        lay.mid(i)
    );
}

/// Merges aggregates whose first event falls into the same `px`-wide column (they come in
/// time order).
pub(super) fn by_column<A: Agg>(items: impl Iterator<Item = A>, sc: &TimeScale, px: f64) -> Vec<A> {
    let mut out: Vec<(u64, A)> = Vec::new();
    for a in items {
        let c = sc.column(a.first_ns(), px);
        match out.last_mut() {
            Some((lc, last)) if *lc == c => last.merge(a),
            _ => out.push((c, a)),
        }
    }
    out.into_iter().map(|(_, a)| a).collect()
}

/// Merges spans that start within a pixel of the previous one's end.
pub(super) fn merge_spans(spans: &[Span], sc: &TimeScale) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    for s in spans {
        match out.last_mut() {
            Some(l) if sc.x(s.start_ns) - sc.x(l.end_ns) < 1.0 => {
                l.end_ns = l.end_ns.max(s.end_ns);
                l.n += s.n;
                l.checkpoint = s.checkpoint;
            }
            _ => out.push(*s),
        }
    }
    out
}

/// `a` or `a–b`.
pub(super) fn range(a: String, b: String) -> String {
    if a == b { a } else { format!("{a}–{b}") }
}

/// Everything on one lane.
fn lane_marks(o: &mut String, lay: &Layout<'_>, i: usize, tt: &TaskTimeline, tally: &mut Tally) {
    let sc = &lay.sc;
    let (top, name) = (lay.tops[i], &lay.lanes[i].name);
    for s in merge_spans(&tt.backpressure.done, sc) {
        let (x1, x2) = (sc.x(s.start_ns), sc.x(s.end_ns).max(sc.x(s.start_ns) + 1.0));
        let tip = format!(
            "backpressure on {name}: {} at {} ({}): it had input to process but no free output buffer{}",
            n_of(s.n, "stretch", "stretches"),
            range(pt(s.start_ns), pt(s.end_ns)),
            pt(s.end_ns - s.start_ns),
            lay.why("--bottleneck")
        );
        let attrs = format!(
            "x=\"{x1:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{LANE_H}\" fill=\"url(#hatch-bp)\"",
            x2 - x1
        );
        mark(o, "rect", "backpressure", s.n, &tip, &attrs, "");
        tally.add("backpressure", s.n);
    }
    for s in merge_spans(&tt.alignments.done, sc) {
        let (x1, x2) = (sc.x(s.start_ns), sc.x(s.end_ns).max(sc.x(s.start_ns) + 2.0));
        let tip = format!(
            "barrier alignment on {name} ({}, checkpoint {} the last): from its first barrier at {} until the last at {} ({}); exactly-once alignment holds back the channels whose barrier came",
            n_of(s.n, "alignment", "alignments"),
            s.checkpoint,
            pt(s.start_ns),
            pt(s.end_ns),
            pt(s.end_ns - s.start_ns)
        );
        let attrs = format!(
            "x=\"{x1:.1}\" y=\"{}\" width=\"{:.1}\" height=\"6\" fill=\"#1f3a93\"",
            top + 2.0,
            x2 - x1
        );
        mark(o, "rect", "alignment", s.n, &tip, &attrs, "");
        tally.add("alignment", s.n);
    }
    barriers(o, lay, i, tt, tally);
    fires(o, lay, i, tt, tally);
    watermarks(o, lay, i, tt, tally);
    late(o, lay, i, tt, tally);
    commits(o, lay, i, tt, tally);
    restores(o, lay, i, tt, tally);
    if let Some(f) = tt.finished_ns {
        let x = sc.x(f);
        let tip = format!("{name} finished at {}", pt(f));
        let attrs = format!(
            "x=\"{:.1}\" y=\"{}\" width=\"3\" height=\"{}\" fill=\"#444\"",
            x - 1.5,
            top + 8.0,
            LANE_H - 16.0
        );
        mark(o, "rect", "finished", 1, &tip, &attrs, "");
    }
}

/// One tick per snapshot (a barrier passed the subtask: its state is in the checkpoint).
fn barriers(o: &mut String, lay: &Layout<'_>, i: usize, tt: &TaskTimeline, tally: &mut Tally) {
    let (sc, top, name) = (&lay.sc, lay.tops[i], &lay.lanes[i].name);
    for r in by_column(tt.snapshots.iter().map(|(_, r)| r.clone()), sc, 2.0) {
        let x = sc.x(r.count.first_ns);
        let tip = if r.count.n == 1 {
            format!(
                "barrier of checkpoint {}: {name} took its snapshot at {} ({} bytes of state)",
                r.min,
                pt(r.count.first_ns),
                r.sum
            )
        } else {
            format!(
                "{} of checkpoints {}: {name} took its snapshots at {} ({} bytes of state)",
                n_of(r.count.n, "barrier", "barriers"),
                range(r.min.to_string(), r.max.to_string()),
                range(pt(r.count.first_ns), pt(r.count.last_ns)),
                r.sum
            )
        };
        let attrs = format!(
            "x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#000\" stroke-width=\"2.5\"",
            top + 1.0,
            top + LANE_H - 1.0
        );
        mark(o, "line", "barrier", r.count.n, &tip, &attrs, "");
        tally.add("barrier", r.count.n);
    }
}

/// A circle per firing (several close together: one, larger).
fn fires(o: &mut String, lay: &Layout<'_>, i: usize, tt: &TaskTimeline, tally: &mut Tally) {
    let (sc, name) = (&lay.sc, &lay.lanes[i].name);
    let y = lay.mid(i);
    for f in by_column(tt.fires.iter().map(|(_, f)| f.clone()), sc, 3.0) {
        let Fires {
            count,
            window_start,
            window_end,
            watermark,
            first_key,
            ..
        } = &f;
        let x = sc.x(count.first_ns);
        let key: serde_json::Value =
            serde_json::from_str(first_key).unwrap_or(serde_json::Value::Null);
        let key = match key {
            serde_json::Value::String(k) => Some(k),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let why = match (window_operator(lay.report, &lay.lanes[i].chain), key) {
            (Some(op), Some(k)) => lay.why(&format!(
                "--window {} --key {} --start {}",
                shell_word(&op),
                shell_word(&k),
                f.first_start
            )),
            _ => String::new(),
        };
        let tip = if count.n == 1 {
            format!(
                "window [{}, {}) for key {first_key} fired on {name} at {}: the watermark {} passed its end{why}",
                et(*window_start),
                et(*window_end),
                pt(count.first_ns),
                et(*watermark)
            )
        } else {
            format!(
                "{} fired on {name} at {} (windows from {} to {}, the first for key {first_key}); watermark {}{why}",
                n_of(count.n, "window", "windows"),
                range(pt(count.first_ns), pt(count.last_ns)),
                et(*window_start),
                et(*window_end),
                et(*watermark)
            )
        };
        let r = 3.5 + (count.n as f64).log10().min(3.0);
        let attrs =
            format!("cx=\"{x:.1}\" cy=\"{y}\" r=\"{r:.1}\" fill=\"#ff9f1c\" stroke=\"#7a4a00\"");
        mark(o, "circle", "fire", count.n, &tip, &attrs, "");
        tally.add("fire", count.n);
    }
}

/// A small upward triangle at the lane's foot per watermark advance.
fn watermarks(o: &mut String, lay: &Layout<'_>, i: usize, tt: &TaskTimeline, tally: &mut Tally) {
    let (sc, top, name) = (&lay.sc, lay.tops[i], &lay.lanes[i].name);
    let y = top + LANE_H - 1.0;
    for r in by_column(tt.watermarks.iter().map(|(_, r)| r.clone()), sc, 10.0) {
        let x = sc.x(r.count.first_ns);
        let tip = if r.count.n == 1 {
            format!(
                "watermark of {name} advanced to {} at {}",
                et(r.max),
                pt(r.count.first_ns)
            )
        } else {
            format!(
                "watermark of {name} advanced {} times at {}: from {} to {}",
                r.count.n,
                range(pt(r.count.first_ns), pt(r.count.last_ns)),
                et(r.min),
                et(r.max)
            )
        };
        let attrs = format!(
            "points=\"{:.1},{y} {:.1},{y} {x:.1},{:.1}\" fill=\"#2a9d8f\"",
            x - 3.0,
            x + 3.0,
            y - 6.0
        );
        mark(o, "polygon", "watermark", r.count.n, &tip, &attrs, "");
        tally.add("watermark", r.count.n);
    }
}

/// Late elements: added to a window within the allowed lateness, sent to the side output,
/// or dropped — a downward triangle, filled differently.
fn late(o: &mut String, lay: &Layout<'_>, i: usize, tt: &TaskTimeline, tally: &mut Tally) {
    let (sc, top, name) = (&lay.sc, lay.tops[i], &lay.lanes[i].name);
    for kind in ["added", "side", "dropped"] {
        let items = tt
            .late
            .iter()
            .filter(|(k, _)| **k == kind)
            .map(|(_, r)| r.clone());
        let (what, fill, stroke) = match kind {
            "added" => (
                "added to its window within the allowed lateness",
                "#fff",
                "#c2185b",
            ),
            "side" => ("sent to the late side output", "#f8bbd0", "#c2185b"),
            _ => (
                "dropped (no window takes it, no side output)",
                "#c2185b",
                "#000",
            ),
        };
        for r in by_column(items, sc, 3.0) {
            let x = sc.x(r.count.first_ns);
            let tip = format!(
                "{} on {name} at {}, timestamp {}: {what}",
                n_of(r.count.n, "late element", "late elements"),
                range(pt(r.count.first_ns), pt(r.count.last_ns)),
                range(et(r.min), et(r.max))
            );
            let y = top + 3.0;
            let attrs = format!(
                "points=\"{:.1},{y} {:.1},{y} {x:.1},{:.1}\" fill=\"{fill}\" stroke=\"{stroke}\"",
                x - 4.0,
                x + 4.0,
                y + 8.0
            );
            mark(o, "polygon", "late", r.count.n, &tip, &attrs, "");
            tally.add("late", r.count.n);
        }
    }
}

/// A square per commit of a two-phase-commit sink.
fn commits(o: &mut String, lay: &Layout<'_>, i: usize, tt: &TaskTimeline, tally: &mut Tally) {
    let (sc, top, name) = (&lay.sc, lay.tops[i], &lay.lanes[i].name);
    for r in by_column(tt.commits.iter().map(|(_, r)| r.clone()), sc, 4.0) {
        let x = sc.x(r.count.first_ns);
        let tip = format!(
            "{} on {name} (checkpoint {}) at {}: {} records of its pre-committed transactions become visible",
            n_of(r.count.n, "commit", "commits"),
            range(r.min.to_string(), r.max.to_string()),
            range(pt(r.count.first_ns), pt(r.count.last_ns)),
            r.sum
        );
        let attrs = format!(
            "x=\"{:.1}\" y=\"{}\" width=\"7\" height=\"7\" fill=\"#6a3d9a\" stroke=\"#fff\"",
            x - 3.5,
            top + LANE_H - 10.0
        );
        mark(o, "rect", "commit", r.count.n, &tip, &attrs, "");
        tally.add("commit", r.count.n);
    }
}

/// A diamond per restore of a source subtask, and the replay after it as a dashed span.
fn restores(o: &mut String, lay: &Layout<'_>, i: usize, tt: &TaskTimeline, tally: &mut Tally) {
    let (sc, top, name) = (&lay.sc, lay.tops[i], &lay.lanes[i].name);
    let y = lay.mid(i);
    for r in &tt.restores {
        let x = sc.x(r.at_ns);
        if r.replayed > 0 {
            let end = r.replay_end_ns.unwrap_or(sc.end_ns);
            let x2 = sc.x(end).max(x + 6.0);
            let tip = format!(
                "replay on {name}: {} records read again from {} until about {} (when it had sent as many records again{})",
                r.replayed,
                pt(r.at_ns),
                pt(end),
                if r.replay_end_ns.is_none() {
                    "; not reached before the run ended"
                } else {
                    ""
                }
            );
            let attrs = format!(
                "x=\"{x:.1}\" y=\"{}\" width=\"{:.1}\" height=\"8\" fill=\"#d8f0d2\" stroke=\"#2ca02c\" stroke-dasharray=\"3 2\"",
                top + LANE_H - 10.0,
                x2 - x
            );
            mark(o, "rect", "replay", 1, &tip, &attrs, "");
            tally.add("replay", 1);
        }
        let splits: Vec<String> = r
            .splits
            .iter()
            .map(|s| {
                format!(
                    "split {} resumes at offset {} (had read {})",
                    s.split, s.offset, s.reached
                )
            })
            .collect();
        let tip = format!(
            "restore of {name} at {} from {}: {}; {} records are read again",
            pt(r.at_ns),
            r.checkpoint
                .map_or("the beginning (no checkpoint)".into(), |c| format!(
                    "checkpoint {c}"
                )),
            splits.join(", "),
            r.replayed
        );
        let attrs = format!(
            "points=\"{x:.1},{:.1} {:.1},{y} {x:.1},{:.1} {:.1},{y}\" fill=\"#2ca02c\" stroke=\"#000\"",
            y - 7.0,
            x + 6.0,
            y + 7.0,
            x - 6.0
        );
        mark(o, "polygon", "restore", 1, &tip, &attrs, "");
        tally.add("restore", 1);
    }
}

/// What the diagram drew: first how marks merge, then per kind `N events as M marks` (or
/// `N, each drawn`).
fn notes(t: &Tally, lay: &Layout<'_>) -> Vec<String> {
    let per_px = lay.sc.end_ns as f64 / lay.sc.width;
    let mut v = vec![format!(
        "Marks of one kind a few pixels apart on one lane (buffers: on one channel) are drawn as one, with the count in its tip; one pixel is {}",
        pt(per_px as u64)
    )];
    v.extend(t.0.iter().map(|(k, (events, marks))| {
        if events == marks {
            format!("{k}: {events}, each drawn")
        } else {
            format!("{k}: {events} drawn as {marks} marks")
        }
    }));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_page::lanes::lanes;
    use crate::run_page::model::{Event, Line};
    use streamlab_engine::report::PlanView;

    /// A report of two subtasks (a source and a window) with one failure.
    pub(crate) fn report() -> RunReport {
        let latency = serde_json::json!({"count": 0, "mean_ms": 0.0, "p50_ms": 0.0,
            "p90_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0, "cdf_ms": []});
        let task = |chain: &str, tm: u32| {
            serde_json::json!({"chain": chain, "subtask": 0, "task_manager": tm, "busy_ms": 1.0,
                "cpu_wait_ms": 0.0, "backpressured_ms": 0.0, "idle_ms": 9.0, "buffers_out": 0})
        };
        serde_json::from_value(serde_json::json!({
            "streamlab_version": "0", "scenario": "t", "seed": 1, "mode": "streaming",
            "outcome": {"status": "finished", "message": null, "at_ns": 3_600_000_000_000u64},
            "sim_duration_ms": 3_600_000.0, "events": 0, "source_records": 0, "sink_records": 0,
            "throughput_per_s": 0.0, "latency": latency, "operators": [],
            "tasks": [task("Source: a", 0), task("w -> Sink: b", 1)], "sinks": [],
            "network": {"buffers": 0, "bytes": 0, "flushed_full": 0, "flushed_timeout": 0,
                "flushed_end": 0, "records_per_buffer": 0.0},
            "throughput": {"bucket_ms": 1000, "sink_records": []},
            "failures": [{"at_ms": 1000.0, "cause": "TaskManager 1 lost", "tasks_restarted": 2,
                "downtime_ms": 500.0, "restored_checkpoint": null}],
            "job_status": []
        }))
        .unwrap()
    }

    fn line(t_ns: u64, event: Event) -> Line {
        Line { t_ns, event }
    }

    /// An hour with a buffer every 10 ms, a firing every 20 ms and a checkpoint every 50 ms.
    fn long_timeline() -> Timeline {
        let mut tl = Timeline::default();
        let (a, w) = ("Source: a #0".to_string(), "w -> Sink: b #0".to_string());
        for i in 0..360_000u64 {
            let t = i * 10_000_000;
            tl.add(line(
                t + 5,
                Event::Buffer {
                    from: a.clone(),
                    to: w.clone(),
                    records: 10,
                    bytes: 100,
                    sent_ns: t,
                },
            ));
            if i % 2 == 0 {
                tl.add(line(
                    t + 6,
                    Event::WindowFired {
                        task: w.clone(),
                        key: serde_json::json!(i % 7),
                        window_start: 0,
                        window_end: 10,
                        watermark: 9,
                    },
                ));
            }
            if i % 5 == 0 {
                tl.add(line(t + 1, Event::CheckpointTriggered { id: i / 5 }));
                tl.add(line(t + 9, Event::CheckpointCompleted { id: i / 5 }));
                for task in [&a, &w] {
                    tl.add(line(
                        t + 7,
                        Event::Snapshot {
                            task: task.clone(),
                            checkpoint: i / 5,
                            bytes: 8,
                        },
                    ));
                }
            }
        }
        tl.finish();
        tl
    }

    fn sum_of(svg: &str, kind: &str) -> u64 {
        let needle = format!("class=\"mark {kind}\"");
        svg.match_indices(&needle)
            .map(|(i, _)| {
                let tag = &svg[i..i + svg[i..].find('>').unwrap()];
                tag.find("data-count=\"").map_or(1, |j| {
                    let v = &tag[j + 12..];
                    v[..v.find('"').unwrap()].parse::<u64>().unwrap()
                })
            })
            .sum()
    }

    #[test]
    fn a_long_run_stays_small_and_every_event_is_counted() {
        let (r, tl) = (report(), long_timeline());
        let l = lanes(&r, &PlanView::default(), &tl);
        let st = space_time(&r, &l, &tl, None);
        assert!(st.svg.len() < 1_500_000, "{} bytes", st.svg.len());
        assert_eq!(sum_of(&st.svg, "barrier"), 2 * 72_000);
        assert_eq!(sum_of(&st.svg, "fire"), 180_000);
        assert_eq!(sum_of(&st.svg, "buffer"), 360_000);
        assert_eq!(sum_of(&st.svg, "failure"), 1);
        assert_eq!(sum_of(&st.svg, "checkpoint"), 72_000);
        assert_eq!(st.svg.matches("<g class=\"lane\"").count(), 2);
        assert!(
            st.notes
                .iter()
                .any(|n| n.starts_with("buffer: 360000 drawn as")),
            "{:?}",
            st.notes
        );
        // the lost TaskManager's subtask is crossed out
        assert_eq!(st.svg.matches("class=\"mark lost\"").count(), 1);
    }

    #[test]
    fn the_same_timeline_draws_the_same_bytes() {
        let (r, tl) = (report(), long_timeline());
        let l = lanes(&r, &PlanView::default(), &tl);
        assert_eq!(
            space_time(&r, &l, &tl, Some("streamlab explain x.toml --seed 1")).svg,
            space_time(&r, &l, &tl, Some("streamlab explain x.toml --seed 1")).svg
        );
    }
}
