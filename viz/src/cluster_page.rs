//! The page of `streamlab cluster --out DIR`: a Gantt chart of slots × time (one row per
//! slot of every TaskManager, a bar per job holding it, in the job's colour; a TaskManager's
//! crash as a red band until its replacement), a row per job showing its wait for slots,
//! and the text summary. Self-contained like the other pages; the same report gives the
//! same bytes.

use crate::html::{esc, head_with};
use std::fmt::Write;
use streamlab_engine::cluster::ClusterReport;

const EXTRA: &str =
    "pre{background:#f6f6f6;padding:8px;white-space:pre-wrap}svg text{font:11px sans-serif}";

/// Job colours (colour-blind safe, Okabe–Ito), by job index.
const COLOURS: [&str; 7] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
];

const LEFT: f64 = 150.0;
const WIDTH: f64 = 720.0;
const ROW: f64 = 22.0;

/// The page for `report`, read from `file`.
pub fn render(r: &ClusterReport, file: &str) -> String {
    let mut out = head_with(&format!("streamlab cluster · {}", r.name), EXTRA);
    let _ = writeln!(
        out,
        "<h1>{} — {} mode on {}</h1>\n<p>{}</p>",
        esc(&r.name),
        esc(&r.mode),
        esc(&r.platform),
        esc(&r.description)
    );
    out.push_str(&gantt(r));
    let _ = writeln!(
        out,
        "<h2>Summary</h2>\n<pre>{}</pre>\n</body>\n</html>",
        esc(&r.summary(file))
    );
    out
}

fn x(ms: f64, end: f64) -> f64 {
    LEFT + ms / end * WIDTH
}

/// Slots × time as SVG.
pub fn gantt(r: &ClusterReport) -> String {
    let end = r.end_ms().max(1.0);
    let slots = r.slots_per_task_manager;
    let rows = r.task_managers.len() as f64 * f64::from(slots) + r.jobs.len() as f64 + 1.0;
    let height = 40.0 + rows * ROW + 30.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<figure id=\"slots\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" role=\"img\" aria-label=\"slots over time\">",
        LEFT + WIDTH + 20.0
    );
    let _ = writeln!(
        s,
        "<text x=\"{LEFT}\" y=\"16\">slots × time (s) — a bar: the job holding the slot; red: TaskManager down</text>"
    );
    let mut y = 30.0;
    // the jobs' own rows: waiting for slots (light), running (their colour)
    for (i, j) in r.jobs.iter().enumerate() {
        let c = COLOURS[i % COLOURS.len()];
        let _ = writeln!(
            s,
            "<text x=\"4\" y=\"{:.1}\">job {}</text>",
            y + 15.0,
            esc(&j.name)
        );
        let wait_end = j.granted_ms.unwrap_or(j.ended_ms);
        let _ = writeln!(
            s,
            "<rect class=\"wait\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{c}\" fill-opacity=\"0.2\"><title>{} waits for {} slots</title></rect>",
            x(j.requested_ms, end),
            y + 4.0,
            (x(wait_end, end) - x(j.requested_ms, end)).max(0.5),
            ROW - 8.0,
            esc(&j.name),
            j.slots_needed
        );
        match j.running_ms {
            Some(run) => {
                let _ = writeln!(
                    s,
                    "<rect class=\"run\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{c}\"><title>{} runs: {}</title></rect>",
                    x(run, end),
                    y + 4.0,
                    (x(j.ended_ms, end) - x(run, end)).max(0.5),
                    ROW - 8.0,
                    esc(&j.name),
                    esc(&j.status)
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#c00\">✗ NoResourceAvailableException</text>",
                    x(j.ended_ms, end) + 3.0,
                    y + 15.0
                );
            }
        }
        y += ROW;
    }
    y += ROW / 2.0;
    let top = y;
    for tm in &r.task_managers {
        for slot in 0..slots {
            let owner = tm
                .cluster_of
                .as_ref()
                .map(|j| format!(" ({})", esc(j)))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "<text x=\"4\" y=\"{:.1}\">TM {} slot {slot}{owner}</text>",
                y + 15.0,
                tm.task_manager
            );
            let _ = writeln!(
                s,
                "<rect x=\"{LEFT}\" y=\"{:.1}\" width=\"{WIDTH}\" height=\"{:.1}\" fill=\"#f3f3f3\"/>",
                y + 2.0,
                ROW - 4.0
            );
            for o in tm.occupancy.iter().filter(|o| o.slot == slot) {
                let i = r.jobs.iter().position(|j| j.name == o.job).unwrap_or(0);
                let _ = writeln!(
                    s,
                    "<rect class=\"hold\" data-job=\"{}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}: {:.3} s – {:.3} s</title></rect>",
                    esc(&o.job),
                    x(o.from_ms, end),
                    y + 2.0,
                    (x(o.until_ms, end) - x(o.from_ms, end)).max(0.5),
                    ROW - 4.0,
                    COLOURS[i % COLOURS.len()],
                    esc(&o.job),
                    o.from_ms / 1000.0,
                    o.until_ms / 1000.0
                );
            }
            for f in r
                .faults
                .iter()
                .filter(|f| f.task_manager == tm.task_manager)
            {
                let _ = writeln!(
                    s,
                    "<rect class=\"down\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#d00\" fill-opacity=\"0.45\"><title>TaskManager {} down: {:.3} s – {:.3} s</title></rect>",
                    x(f.at_ms, end),
                    y + 2.0,
                    (x(f.replaced_ms.min(end), end) - x(f.at_ms, end)).max(1.0),
                    ROW - 4.0,
                    f.task_manager,
                    f.at_ms / 1000.0,
                    f.replaced_ms / 1000.0
                );
            }
            y += ROW;
        }
    }
    for f in &r.faults {
        let _ = writeln!(
            s,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{top:.1}\" y2=\"{y:.1}\" stroke=\"#d00\" stroke-dasharray=\"3 2\"/>",
            x(f.at_ms, end)
        );
    }
    // the time axis: 5 ticks
    for k in 0..=5 {
        let ms = end * f64::from(k) / 5.0;
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{:.1}</text>",
            x(ms, end),
            y + 16.0,
            ms / 1000.0
        );
    }
    s.push_str("</svg><figcaption>Slots over time: each row a slot of a TaskManager, each bar the job holding it; above, each job's wait for slots (light) and run (dark).</figcaption></figure>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use streamlab_engine::cluster::report::{FaultReport, JobReport, Occupancy, TaskManagerReport};

    fn report() -> ClusterReport {
        let job = |name: &str, granted: Option<f64>| JobReport {
            name: name.into(),
            scenario: String::new(),
            submitted_ms: 0.0,
            slots_needed: 1,
            requested_ms: 0.0,
            granted_ms: granted,
            running_ms: granted,
            ended_ms: 10_000.0,
            slots: granted.map(|_| vec![(0, 0)]).unwrap_or_default(),
            status: "finished".into(),
            message: None,
            waited: None,
            struck_by: Vec::new(),
            restarts: 0,
            sink_records: 0,
            duplicates: 0,
            missing: 0,
        };
        ClusterReport {
            name: "t".into(),
            description: "d <b>".into(),
            mode: "session".into(),
            platform: "standalone".into(),
            task_managers_per_cluster: 1,
            slots_per_task_manager: 1,
            slot_request_timeout_ms: 10_000.0,
            jobs: vec![job("a", Some(0.0)), job("b", None)],
            faults: vec![FaultReport {
                task_manager: 0,
                at_ms: 5_000.0,
                replaced_ms: 6_000.0,
                struck: vec!["a".into()],
            }],
            task_managers: vec![TaskManagerReport {
                task_manager: 0,
                cluster_of: None,
                occupancy: vec![Occupancy {
                    slot: 0,
                    job: "a".into(),
                    from_ms: 0.0,
                    until_ms: 10_000.0,
                }],
            }],
        }
    }

    #[test]
    fn the_page_draws_a_bar_per_held_slot_and_the_crash_and_is_deterministic() {
        let r = report();
        let page = render(&r, "c.toml");
        assert_eq!(page.matches("class=\"hold\"").count(), 1);
        assert_eq!(page.matches("class=\"down\"").count(), 1);
        assert!(page.contains("NoResourceAvailableException"));
        assert!(page.contains("d &lt;b&gt;"), "escaped");
        assert_eq!(page, render(&r, "c.toml"));
    }
}
