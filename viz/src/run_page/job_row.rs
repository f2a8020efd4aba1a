//! The job's row of the space-time diagram and what spans every lane: checkpoints from
//! trigger to completion, restarts and status changes, failures with their downtime and the
//! lanes they hit, a rescale's downtime; the labels that name them; the legend.

use super::lanes::lanes_hit;
use super::space_time::{JOB_H, JOB_Y, Layout, Tally};
use super::svg::{mark, n_of, pt};
use super::timeline::Timeline;
use crate::RunReport;
use crate::html::esc;
use std::fmt::Write;

/// The job's row: checkpoints (trigger → completion), restarts, status changes, savepoints.
pub(super) fn job_row(
    o: &mut String,
    lay: &Layout<'_>,
    report: &RunReport,
    tl: &Timeline,
    tally: &mut Tally,
    labels: &mut Vec<(f64, String)>,
) {
    let sc = &lay.sc;
    o.push_str("<g class=\"job\">\n");
    checkpoints(o, lay, report, tl, tally);
    let y = JOB_Y + 34.0;
    for e in &tl.job {
        let x = sc.x(e.at_ns);
        let tip = format!("{} at {}", e.text, pt(e.at_ns));
        let (kind, shape) = match e.kind {
            "restart" => (
                "restart",
                format!(
                    "<polygon points=\"{:.1},{} {:.1},{} {x:.1},{}\" fill=\"#2ca02c\" stroke=\"#000\"/>",
                    x - 5.0,
                    y + 5.0,
                    x + 5.0,
                    y + 5.0,
                    y - 5.0
                ),
            ),
            "fault" | "heartbeat_timeout" => (
                e.kind,
                format!(
                    "<rect x=\"{:.1}\" y=\"{}\" width=\"7\" height=\"7\" fill=\"#fff\" stroke=\"#c00\"/>",
                    x - 3.5,
                    y - 3.5
                ),
            ),
            _ => (
                "status",
                format!("<circle cx=\"{x:.1}\" cy=\"{y}\" r=\"3\" fill=\"#888\"/>"),
            ),
        };
        mark(o, "g", kind, 1, &tip, "", &shape);
        if kind == "restart" {
            let from = e.text.split_once("restored from ").map_or("", |x| x.1);
            labels.push((x, format!("restart from {from}")));
        }
    }
    o.push_str("</g>\n");
}

/// Checkpoints triggered within one column of the job's row.
struct CheckpointGroup {
    column: u64,
    first: u64,
    last: u64,
    start: u64,
    end: u64,
    n: u64,
    failed: u64,
    /// The tip when it is one checkpoint.
    tip: String,
}

/// Checkpoints from trigger to completion (or failure) in the job's row, labelled with their
/// ids where there is room; checkpoints triggered within a few pixels are one mark.
pub(super) fn checkpoints(
    o: &mut String,
    lay: &Layout<'_>,
    report: &RunReport,
    tl: &Timeline,
    tally: &mut Tally,
) {
    let sc = &lay.sc;
    let mut groups: Vec<CheckpointGroup> = Vec::new();
    for (id, c) in &tl.checkpoints {
        let Some(start) = c.triggered_ns else {
            continue;
        };
        let end = c
            .completed_ns
            .or(c.failed.as_ref().map(|f| f.0))
            .unwrap_or(sc.end_ns);
        let failed = u64::from(c.failed.is_some());
        let col = sc.column(start, 3.0);
        if let Some(g) = groups.last_mut().filter(|g| g.column == col) {
            g.last = *id;
            g.end = g.end.max(end);
            g.n += 1;
            g.failed += failed;
            continue;
        }
        let outcome = match (&c.failed, c.completed_ns) {
            (Some((_, why)), _) => format!("failed: {why}"),
            (None, Some(_)) => "completed".into(),
            _ => "pending at the end".into(),
        };
        let mut tip = format!(
            "checkpoint {id}: triggered at {}, {outcome} at {} ({})",
            pt(start),
            pt(end),
            pt(end - start)
        );
        if let Some(r) = report.checkpoints.iter().find(|r| r.id == *id) {
            let _ = write!(
                tip,
                "; barriers {}, longest alignment {} ms, {} bytes of state",
                r.barriers, r.alignment_ms, r.size_bytes
            );
        }
        tip.push_str(&lay.why(&format!("--checkpoint {id}")));
        groups.push(CheckpointGroup {
            column: col,
            first: *id,
            last: *id,
            start,
            end,
            n: 1,
            failed,
            tip,
        });
    }
    let mut last_label_x = f64::MIN;
    for g in groups {
        let CheckpointGroup {
            first,
            last,
            start,
            end,
            n,
            failed,
            tip: one,
            ..
        } = g;
        let (x1, x2) = (sc.x(start), sc.x(end).max(sc.x(start) + 2.0));
        let tip = if n == 1 {
            one
        } else {
            format!(
                "{n} checkpoints ({first}–{last}) triggered from {} until {}; {failed} of them failed",
                pt(start),
                pt(end)
            )
        };
        let attrs = format!(
            "x=\"{x1:.1}\" y=\"{}\" width=\"{:.1}\" height=\"10\" fill=\"{}\" stroke=\"{}\"{}",
            JOB_Y + 6.0,
            x2 - x1,
            if failed > 0 { "#fff" } else { "#555" },
            if failed > 0 { "#c00" } else { "#000" },
            if failed > 0 {
                " stroke-dasharray=\"3 2\""
            } else {
                ""
            }
        );
        mark(o, "rect", "checkpoint", n, &tip, &attrs, "");
        tally.add("checkpoint", n);
        if x1 - last_label_x > 18.0 {
            let _ = writeln!(
                o,
                "<text x=\"{x1:.1}\" y=\"{}\" font-size=\"9\" fill=\"#333\">{first}</text>",
                JOB_Y + 26.0
            );
            last_label_x = x1;
        }
    }
}

/// One mark per failure of the report: a red line through every lane and a cross in the job's
/// row; the downtime hatches every lane; the lanes the failure hit get a cross each.
pub(super) fn failures(
    o: &mut String,
    lay: &Layout<'_>,
    report: &RunReport,
    tally: &mut Tally,
    labels: &mut Vec<(f64, String)>,
) {
    let sc = &lay.sc;
    let (top, bottom) = (lay.lanes_top(), lay.bottom);
    for f in &report.failures {
        let at = (f.at_ms * 1e6).round() as u64;
        let x = sc.x(at);
        let down_end = f
            .downtime_ms
            .map_or(sc.end_ns, |d| ((f.at_ms + d) * 1e6).round() as u64);
        let x2 = sc.x(down_end).max(x + 2.0);
        let tip = format!(
            "downtime from {} to {} ({}): no record processed until the restored subtasks ran again{}",
            pt(at),
            pt(down_end),
            pt(down_end.saturating_sub(at)),
            if f.downtime_ms.is_none() {
                " — the job failed and did not restart"
            } else {
                ""
            }
        );
        let attrs = format!(
            "x=\"{x:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"url(#hatch-down)\" stroke=\"#555\"",
            x2 - x,
            bottom - top
        );
        if down_end > at {
            mark(o, "rect", "downtime", 1, &tip, &attrs, "");
            tally.add("downtime", 1);
        }
        let tip = match f.downtime_ms {
            Some(d) => format!(
                "failure at {}: {}; {} restarted, {}, down {}",
                pt(at),
                f.cause,
                n_of(u64::from(f.tasks_restarted), "subtask", "subtasks"),
                f.restored_checkpoint
                    .map_or("started over without a checkpoint".into(), |c| format!(
                        "restored from checkpoint {c}"
                    )),
                pt((d * 1e6) as u64)
            ),
            None => format!(
                "failure at {}: {}; the job failed: the restart strategy did not restart it",
                pt(at),
                f.cause
            ),
        };
        let yc = JOB_Y + 34.0;
        let inner = format!(
            "<line x1=\"{x:.1}\" y1=\"{JOB_Y}\" x2=\"{x:.1}\" y2=\"{bottom}\" stroke=\"#c00\" stroke-width=\"2\"/><path d=\"M{:.1},{:.1} L{:.1},{:.1} M{:.1},{:.1} L{:.1},{:.1}\" stroke=\"#c00\" stroke-width=\"3\"/>",
            x - 6.0,
            yc - 6.0,
            x + 6.0,
            yc + 6.0,
            x + 6.0,
            yc - 6.0,
            x - 6.0,
            yc + 6.0
        );
        mark(o, "g", "failure", 1, &tip, "", &inner);
        tally.add("failure", 1);
        labels.push((x, f.cause.clone()));
        if x2 - x > 90.0 {
            annotate(
                o,
                (x + x2) / 2.0,
                (top + bottom) / 2.0,
                &format!("downtime {}", pt(down_end - at)),
                "middle",
            );
        }
        for i in lanes_hit(lay.lanes, &f.cause) {
            let y = lay.mid(i);
            let tip = format!("{} lost at {}: {}", lay.lanes[i].name, pt(at), f.cause);
            let inner = format!(
                "<path d=\"M{:.1},{:.1} L{:.1},{:.1} M{:.1},{:.1} L{:.1},{:.1}\" stroke=\"#c00\" stroke-width=\"3\"/>",
                x - 5.0,
                y - 5.0,
                x + 5.0,
                y + 5.0,
                x + 5.0,
                y - 5.0,
                x - 5.0,
                y + 5.0
            );
            mark(o, "g", "lost", 1, &tip, "", &inner);
        }
    }
}

/// A rescale's downtime: from the stop-with-savepoint's trigger until the resubmitted job
/// runs, hatched over every lane.
pub(super) fn rescale(
    o: &mut String,
    lay: &Layout<'_>,
    report: &RunReport,
    tally: &mut Tally,
    labels: &mut Vec<(f64, String)>,
) {
    let Some(r) = &report.rescale else { return };
    let ns = |ms: f64| (ms * 1e6).round() as u64;
    let (a, b) = (ns(r.triggered_ms), ns(r.restarted_ms));
    let (x1, x2) = (lay.sc.x(a), lay.sc.x(b).max(lay.sc.x(a) + 2.0));
    let (top, bottom) = (lay.lanes_top(), lay.bottom);
    let tip = format!(
        "rescale downtime from {} to {} ({}): stop-with-savepoint {} triggered, the old job stopped at {}, the job resubmitted from the savepoint with new parallelism ran from {}; no record processed in between",
        pt(a),
        pt(b),
        pt(b.saturating_sub(a)),
        r.savepoint,
        pt(ns(r.stopped_ms)),
        pt(b)
    );
    let attrs = format!(
        "x=\"{x1:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"url(#hatch-down)\" stroke=\"#555\"",
        x2 - x1,
        bottom - top
    );
    mark(o, "rect", "downtime", 1, &tip, &attrs, "");
    tally.add("downtime", 1);
    labels.push((x1, "rescale".into()));
}

/// The job row's labels (failure causes, restarts, rescale) on a line of their own under its
/// marks, each starting at its mark and cut short before the next one; a label with no room
/// is left out (the mark's tip says it all).
pub(super) fn job_labels(o: &mut String, lay: &Layout<'_>, mut labels: Vec<(f64, String)>) {
    labels.sort_by(|a, b| a.0.total_cmp(&b.0));
    let right = lay.sc.x0 + lay.sc.width + 18.0;
    let y = JOB_Y + JOB_H - 5.0;
    let mut free_from = f64::MIN;
    for (k, (x, text)) in labels.iter().enumerate() {
        let x = x.max(free_from);
        let next = labels.get(k + 1).map_or(right, |n| n.0.max(x + 1.0));
        let chars = ((next - x - 12.0) / 6.0).floor();
        if chars < 6.0 {
            continue;
        }
        let n = text.chars().count();
        let shown = if n as f64 <= chars {
            text.clone()
        } else {
            format!(
                "{}…",
                text.chars().take(chars as usize - 1).collect::<String>()
            )
        };
        let _ = writeln!(
            o,
            "<text x=\"{:.1}\" y=\"{y}\" font-size=\"10.5\" fill=\"#222\">{}</text>",
            x + 6.0,
            esc(&shown)
        );
        free_from = x + shown.chars().count() as f64 * 6.0 + 14.0;
    }
}

/// A label on a white ground, for the few things a screenshot must name.
fn annotate(o: &mut String, x: f64, y: f64, text: &str, anchor: &str) {
    let w = text.chars().count() as f64 * 6.2 + 6.0;
    let left = match anchor {
        "middle" => x - w / 2.0,
        _ => x - 3.0,
    };
    let _ = writeln!(
        o,
        "<rect x=\"{left:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"15\" fill=\"#fff\" fill-opacity=\"0.9\"/><text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\" font-weight=\"bold\">{}</text>",
        y - 11.0,
        esc(text)
    );
}

/// The legend: every kind of mark with its shape.
pub(super) fn legend(o: &mut String, y: f64) {
    let items: [(&str, &str); 16] = [
        (
            "<line x1=\"7\" y1=\"-7\" x2=\"7\" y2=\"7\" stroke=\"#000\" stroke-width=\"2.5\"/>",
            "barrier (snapshot)",
        ),
        (
            "<rect x=\"0\" y=\"-3\" width=\"14\" height=\"6\" fill=\"#1f3a93\"/>",
            "barrier alignment",
        ),
        (
            "<line x1=\"0\" y1=\"-6\" x2=\"12\" y2=\"6\" stroke=\"#777\" marker-end=\"url(#st-arrow)\"/>",
            "network buffer(s)",
        ),
        (
            "<line x1=\"7\" y1=\"-7\" x2=\"7\" y2=\"7\" stroke=\"#000\" stroke-dasharray=\"4 2\"/>",
            "unaligned barrier",
        ),
        (
            "<rect x=\"0\" y=\"-7\" width=\"14\" height=\"14\" fill=\"url(#hatch-bp)\"/>",
            "backpressure",
        ),
        (
            "<polygon points=\"4,4 10,4 7,-2\" fill=\"#2a9d8f\"/>",
            "watermark advance",
        ),
        (
            "<circle cx=\"7\" cy=\"0\" r=\"4\" fill=\"#ff9f1c\" stroke=\"#7a4a00\"/>",
            "window fired",
        ),
        (
            "<polygon points=\"3,-4 11,-4 7,4\" fill=\"#f8bbd0\" stroke=\"#c2185b\"/>",
            "late element",
        ),
        (
            "<rect x=\"3\" y=\"-4\" width=\"7\" height=\"7\" fill=\"#6a3d9a\"/>",
            "2PC commit",
        ),
        (
            "<rect x=\"0\" y=\"-5\" width=\"14\" height=\"10\" fill=\"#555\"/>",
            "checkpoint (job)",
        ),
        (
            "<path d=\"M2,-5 L12,5 M12,-5 L2,5\" stroke=\"#c00\" stroke-width=\"3\"/>",
            "failure / subtask lost",
        ),
        (
            "<rect x=\"0\" y=\"-7\" width=\"14\" height=\"14\" fill=\"url(#hatch-down)\"/>",
            "downtime",
        ),
        (
            "<polygon points=\"2,5 12,5 7,-5\" fill=\"#2ca02c\" stroke=\"#000\"/>",
            "restart (job)",
        ),
        (
            "<polygon points=\"7,-7 13,0 7,7 1,0\" fill=\"#2ca02c\" stroke=\"#000\"/>",
            "restore (source)",
        ),
        (
            "<rect x=\"0\" y=\"-4\" width=\"14\" height=\"8\" fill=\"#d8f0d2\" stroke=\"#2ca02c\" stroke-dasharray=\"3 2\"/>",
            "replay",
        ),
        (
            "<rect x=\"5\" y=\"-6\" width=\"3\" height=\"12\" fill=\"#444\"/>",
            "subtask finished",
        ),
    ];
    let _ = writeln!(
        o,
        "<g class=\"legend\" font-size=\"11\"><text x=\"6\" y=\"{}\" font-weight=\"bold\">Legend</text>",
        y + 4.0
    );
    for (k, (shape, label)) in items.iter().enumerate() {
        let (col, row) = (k % 8, k / 8);
        let x = 70.0 + col as f64 * 141.0;
        let yy = y + row as f64 * 24.0;
        let _ = writeln!(
            o,
            "<g transform=\"translate({x},{yy})\">{shape}<text x=\"18\" y=\"4\">{label}</text></g>"
        );
    }
    o.push_str("</g>\n");
}
