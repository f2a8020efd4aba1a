//! The page of `streamlab crashpoints --out DIR`: for every sink, a grid of crash target
//! (rows: every subtask, TaskManager, the JobManager) × protocol step (columns, in the
//! protocol's order), each cell the sink's outcome after that single crash — so the window of
//! the protocol where a guarantee breaks reads as a coloured band. A cell that is not exactly
//! once carries its replay command as a tip. Self-contained like the other pages.

use crate::html::{esc, head_with};
use std::fmt::Write;
use streamlab_engine::oracle::crashpoints::{CrashPoint, Outcome, STEPS};

/// What the page shows: the matrix the command computed and how to replay one point.
pub struct CrashpointsPage<'a> {
    /// The first lines of the text output (scenario, checkpoint, seed, how many points).
    pub heading: &'a str,
    /// The crash points, in the command's numbering (1-based in the page).
    pub points: &'a [CrashPoint],
    /// Per point, each sink's outcome (sinks in the same order for every point).
    pub matrix: &'a [Vec<(String, Outcome)>],
    /// The command that replays point `k` (1-based) alone.
    pub replay: &'a dyn Fn(usize) -> String,
}

const EXTRA: &str = "td.clean{background:#e3f4e1}td.dirty{background:#f9d6d2;font-weight:bold}\
td.failed{background:#f3c0c0}td.unreached,td.na{background:#f3f3f3;color:#888}\
td,th{text-align:center}td:first-child{white-space:normal}td{white-space:nowrap}pre{background:#f6f6f6;padding:8px;white-space:pre-wrap}";

/// The page.
pub fn page(p: &CrashpointsPage<'_>) -> String {
    let mut out = head_with("streamlab crashpoints", EXTRA);
    let _ = writeln!(
        out,
        "<h1>Crash points</h1>\n<pre>{}</pre>\n<p>Each cell: the sink's rows after the job \
         survived that one crash, against the fault-free run. Green: exactly once. Red: \
         duplicates or missing rows (hover for the command that replays it). Grey: the \
         checkpoint never reached that step, or the step does not apply to the target (a \
         subtask's own steps are not a TaskManager's; a source reads no barrier from the \
         network; only sink subtasks commit).</p>",
        esc(p.heading.trim_end())
    );
    let targets = targets(p.points);
    let sinks: Vec<&str> = p
        .matrix
        .first()
        .map(|c| c.iter().map(|(n, _)| n.as_str()).collect())
        .unwrap_or_default();
    // Only the steps some crash point has (the savepoint stop only when the job rescales).
    let steps: Vec<usize> = (0..STEPS.len())
        .filter(|&i| p.points.iter().any(|pt| pt.step == i))
        .collect();
    for (si, sink) in sinks.iter().enumerate() {
        let _ = writeln!(
            out,
            "<h2>sink <code>{}</code></h2>\n<table class=\"crashpoints\" data-sink=\"{}\">",
            esc(sink),
            esc(sink)
        );
        out.push_str("<tr><th>crash target</th>");
        for &step in &steps {
            let _ = write!(out, "<th>{}</th>", esc(STEPS[step].1));
        }
        out.push_str("</tr>\n");
        for target in &targets {
            let _ = write!(out, "<tr><td>{}</td>", esc(target));
            for &step in &steps {
                let found = p
                    .points
                    .iter()
                    .position(|pt| pt.step == step && &pt.target == target);
                match found {
                    None => out.push_str("<td class=\"na\">—</td>"),
                    Some(i) => cell(&mut out, &p.matrix[i][si].1, i + 1, p.replay),
                }
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// The targets in the order the points first name them.
fn targets(points: &[CrashPoint]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for pt in points {
        if !out.contains(&pt.target) {
            out.push(pt.target.clone());
        }
    }
    out
}

fn cell(out: &mut String, o: &Outcome, k: usize, replay: &dyn Fn(usize) -> String) {
    let class = match o {
        Outcome::ExactlyOnce => "clean",
        Outcome::NotReached | Outcome::NotCompared => "unreached",
        Outcome::JobFailed => "failed",
        Outcome::Differs { .. } => "dirty",
    };
    if o.is_clean() && class == "clean" {
        let _ = write!(out, "<td class=\"clean\">{}</td>", esc(&o.text()));
    } else {
        let tip = format!("point {k}: {}", replay(k));
        let _ = write!(
            out,
            "<td class=\"{class}\" title=\"{}\">{}</td>",
            esc(&tip),
            esc(&o.text())
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use streamlab_engine::scenario::FaultKind;

    fn point(step: usize, target: &str, kind: FaultKind) -> CrashPoint {
        CrashPoint {
            step,
            checkpoint: 2,
            kind,
            target: target.into(),
        }
    }

    #[test]
    fn a_grid_per_sink_with_a_cell_per_target_and_step_and_replay_tips_on_broken_cells() {
        let sub = FaultKind::KillSubtask {
            node: 0,
            subtask: 0,
        };
        let jm = FaultKind::JobManager { ha: true };
        let points = vec![
            point(0, "subtask a #0", sub.clone()),
            point(0, "JobManager (HA)", jm.clone()),
            point(1, "subtask a #0", sub),
            point(3, "JobManager (HA)", jm),
        ];
        let dup = Outcome::Differs {
            duplicates: 3,
            missing: 0,
        };
        let matrix: Vec<Vec<(String, Outcome)>> = vec![
            vec![("out".into(), dup.clone())],
            vec![("out".into(), Outcome::ExactlyOnce)],
            vec![("out".into(), Outcome::NotReached)],
            vec![("out".into(), Outcome::ExactlyOnce)],
        ];
        let replay = |k: usize| format!("streamlab crashpoints f.toml --only {k}");
        let html = page(&CrashpointsPage {
            heading: "4 crash points",
            points: &points,
            matrix: &matrix,
            replay: &replay,
        });
        assert_eq!(html.matches("<tr><td>").count(), 2, "{html}");
        // Columns only for the three steps some point has (0, 1 and 3).
        assert_eq!(html.matches("<td class=").count(), 2 * 3, "{html}");
        assert_eq!(html.matches("<th>").count(), 1 + 3, "{html}");
        assert!(
            html.contains("title=\"point 1: streamlab crashpoints f.toml --only 1\">3 duplicates"),
            "{html}"
        );
        assert!(html.contains("<td class=\"unreached\""), "{html}");
        assert!(!html.contains("http"), "self-contained");
    }
}
