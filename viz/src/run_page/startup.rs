//! The start-up timeline of a run with `[deployment]`: a Gantt-like diagram with one lane
//! per role (Client, Platform, Dispatcher, ResourceManager, JobMaster, each TaskManager),
//! each step a bar from its start to its end (a diamond when it takes no time), and the
//! steps as a table. It has its own clock: it ends where the job's time 0 begins.

use crate::html::esc;
use std::fmt::Write;
use streamlab_engine::report::DeploymentReport;

/// Width of the drawing area, of the lane labels, and the height of one lane, in pixels.
const WIDTH: f64 = 760.0;
const LABEL: f64 = 130.0;
const LANE: f64 = 26.0;

/// `<section id="startup">` for the run's deployment; empty without one.
pub fn startup_section(d: Option<&DeploymentReport>) -> String {
    let Some(d) = d else {
        return String::new();
    };
    let mut o = String::from("<section id=\"startup\">\n<h2>Start-up</h2>\n");
    let [main, cluster, task_managers] = d.criteria();
    let _ = writeln!(
        o,
        "<p>{} mode on {}, high availability {}: <code>main</code> runs on the {main}; {cluster}; TaskManagers: {task_managers}. The job's first record comes {} after <code>flink run</code> — the job's time 0 in the rest of this page.</p>",
        esc(&d.mode),
        esc(&d.platform),
        esc(&d.high_availability),
        seconds(d.first_record_ms)
    );
    o.push_str(&gantt(d));
    o.push_str(
        "<table class=\"startup\"><tr><th>from</th><th>to</th><th>role</th><th style=\"text-align:left\">step</th></tr>\n",
    );
    for s in &d.startup {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td style=\"text-align:left\">{}</td></tr>",
            seconds(s.start_ms),
            seconds(s.end_ms),
            esc(&s.role),
            esc(&s.what)
        );
    }
    o.push_str("</table>\n</section>\n");
    o
}

/// The diagram: lanes, bars, a time axis in seconds.
fn gantt(d: &DeploymentReport) -> String {
    let lanes = d.lanes();
    let end = d.first_record_ms.max(1.0);
    let x = |ms: f64| LABEL + ms / end * WIDTH;
    let height = LANE * lanes.len() as f64 + 30.0;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "<svg id=\"startup-diagram\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" viewBox=\"0 0 {} {height}\" font-family=\"sans-serif\" font-size=\"12\">",
        LABEL + WIDTH + 20.0,
        LABEL + WIDTH + 20.0
    );
    for (i, lane) in lanes.iter().enumerate() {
        let y = LANE * i as f64;
        let _ = writeln!(
            o,
            "<g class=\"startup-lane\" data-role=\"{0}\"><rect x=\"0\" y=\"{y}\" width=\"{1}\" height=\"{LANE}\" fill=\"{2}\"/><text x=\"6\" y=\"{3}\">{0}</text></g>",
            esc(lane),
            LABEL + WIDTH + 20.0,
            if i % 2 == 0 { "#f4f4f4" } else { "#ffffff" },
            y + 17.0
        );
    }
    for s in &d.startup {
        let Some(i) = lanes.iter().position(|l| *l == s.role) else {
            continue;
        };
        let y = LANE * i as f64;
        let tip = format!(
            "{}: {} ({} – {})",
            s.role,
            s.what,
            seconds(s.start_ms),
            seconds(s.end_ms)
        );
        if s.end_ms > s.start_ms {
            let (x0, x1) = (x(s.start_ms), x(s.end_ms));
            let _ = writeln!(
                o,
                "<rect class=\"mark step\" data-tip=\"{0}\" x=\"{x0:.1}\" y=\"{1}\" width=\"{2:.1}\" height=\"{3}\" fill=\"{4}\" stroke=\"#fff\"><title>{0}</title></rect>",
                esc(&tip),
                y + 5.0,
                (x1 - x0).max(1.5),
                LANE - 10.0,
                colour(&s.role)
            );
        } else {
            let cx = x(s.start_ms);
            let cy = y + LANE / 2.0;
            let _ = writeln!(
                o,
                "<path class=\"mark step-instant\" data-tip=\"{0}\" d=\"M{cx:.1} {1} l6 6 l-6 6 l-6 -6 z\" fill=\"#333\"><title>{0}</title></path>",
                esc(&tip),
                cy - 6.0
            );
        }
    }
    axis(&mut o, lanes.len(), end, &x);
    o.push_str("</svg>\n");
    o
}

/// Ticks at whole seconds (every 1, 2, 5, 10 … so that there are at most ten).
fn axis(o: &mut String, lanes: usize, end_ms: f64, x: &dyn Fn(f64) -> f64) {
    let y = LANE * lanes as f64;
    let step_s = [1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0]
        .into_iter()
        .find(|s| end_ms / 1000.0 / s <= 10.0)
        .unwrap_or(600.0);
    let mut t = 0.0;
    while t * 1000.0 <= end_ms {
        let px = x(t * 1000.0);
        let _ = writeln!(
            o,
            "<line x1=\"{px:.1}\" y1=\"0\" x2=\"{px:.1}\" y2=\"{}\" stroke=\"#ccc\"/><text x=\"{px:.1}\" y=\"{}\" text-anchor=\"middle\">{t} s</text>",
            y + 4.0,
            y + 18.0
        );
        t += step_s;
    }
    let px = x(end_ms);
    let _ = writeln!(
        o,
        "<line x1=\"{px:.1}\" y1=\"0\" x2=\"{px:.1}\" y2=\"{y}\" stroke=\"#c00\" stroke-width=\"2\"><title>first record</title></line>"
    );
}

/// A colour per kind of role.
fn colour(role: &str) -> &'static str {
    match role {
        "Client" => "#6b8fd6",
        "Platform" => "#9a7bd1",
        "Dispatcher" | "ResourceManager" => "#e0a03a",
        "JobMaster" => "#d9605a",
        _ => "#4fa66b",
    }
}

/// Milliseconds as seconds with three decimals.
fn seconds(ms: f64) -> String {
    format!("{:.3} s", ms / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use streamlab_engine::report::StartupStep;

    #[test]
    fn every_step_is_drawn_on_its_roles_lane_and_listed() {
        let step = |role: &str, what: &str, start_ms: f64, end_ms: f64| StartupStep {
            role: role.into(),
            what: what.into(),
            start_ms,
            end_ms,
        };
        let d = DeploymentReport {
            mode: "application".into(),
            platform: "yarn".into(),
            high_availability: "none".into(),
            main_runs_on: "jobmanager".into(),
            cluster_per_job: true,
            task_managers_on_demand: true,
            startup: vec![
                step("Platform", "starts the JobManager container", 0.0, 10_000.0),
                step("ResourceManager", "asks YARN", 10_000.0, 10_000.0),
                step("TaskManager 0", "container starts", 10_000.0, 18_000.0),
            ],
            first_record_ms: 18_000.0,
        };
        let html = startup_section(Some(&d));
        assert_eq!(html.matches("class=\"startup-lane\"").count(), 3);
        assert_eq!(html.matches("class=\"mark step\"").count(), 2);
        assert_eq!(html.matches("class=\"mark step-instant\"").count(), 1);
        assert!(
            html.contains("18.000 s after <code>flink run</code>"),
            "{html}"
        );
        assert!(startup_section(None).is_empty());
    }
}
