//! Self-contained HTML pages: every chart inline as SVG (with links to the SVG and PNG
//! files beside the page), the job graph with its chains and slots drawn, the summary
//! tables. No scripts, styles or fonts from anywhere else: the page opens offline.

use crate::{CompareReport, Run, SweepReport, mode_hex};
use std::fmt::Write;
use streamlab_engine::report::{PlanSlot, PlanView};

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;max-width:1000px;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}\
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}\
.swatch{display:inline-block;width:12px;height:12px;margin-right:6px;vertical-align:middle}\
figure{margin:1.5em 0}figcaption{font-size:90%;color:#555}\
.chart svg{max-width:100%;height:auto}";

fn head(title: &str) -> String {
    head_with(title, "")
}

/// The page's head with `extra` style rules after the common ones, and the body's start.
pub(crate) fn head_with(title: &str, extra: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}{extra}</style>\n</head>\n<body>\n",
        esc(title)
    )
}

pub(crate) fn figure(out: &mut String, name: &str, title: &str, svg: &str) {
    let _ = writeln!(
        out,
        "<figure id=\"{name}\"><div class=\"chart\">{}</div><figcaption>{} — <a href=\"{name}.svg\">{name}.svg</a> · <a href=\"{name}.png\">{name}.png</a></figcaption></figure>",
        strip_xml_header(svg),
        esc(title)
    );
}

fn strip_xml_header(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

fn swatch(mode: &str) -> String {
    format!(
        "<span class=\"swatch\" style=\"background:{}\"></span>{}",
        mode_hex(mode),
        esc(mode)
    )
}

/// The page of a comparison: the scenario, its job graph, then one table per question
/// (how fast, how configured, how correct) with a row per execution mode, then the charts.
pub fn compare_page(
    report: &CompareReport,
    runs: &[Run<'_>],
    svgs: &[(String, String)],
    drawn: bool,
) -> String {
    let scenario = &report.scenario;
    let mut o = head(&format!("streamlab compare · {scenario}"));
    let _ = writeln!(o, "<h1>streamlab compare · {}</h1>", esc(scenario));
    let _ = writeln!(o, "<p>{}</p>", esc(&report.description));
    let _ = writeln!(
        o,
        "<p>seed {} · streamlab {} · latency is measured from a record's creation at its source to the moment its result is visible at the sink, the same way in every mode.</p>",
        report.seed,
        esc(&report.streamlab_version)
    );
    let _ = writeln!(o, "<h2>Job graph</h2>");
    o.push_str(&plan_svg(&report.plan));
    summary_table(&mut o, runs);
    settings_table(&mut o, runs);
    correctness_table(&mut o, runs);
    if drawn {
        drawn_section(&mut o);
    }
    charts_section(&mut o, runs, svgs);
    o
}

/// The streaming run, drawn: its space-time diagram, linking the run's own page (hover
/// tips, event-time diagrams, per-subtask charts). The baselines are drawn by the timeline
/// chart (batches, stages, failures).
fn drawn_section(o: &mut String) {
    let _ = writeln!(
        o,
        "<h2>The streaming run, drawn</h2>\n<p><a href=\"streaming/report.html\"><img src=\"streaming/space_time.png\" alt=\"Space-time diagram of the streaming run: one lane per subtask, simulated processing time from left to right\" style=\"max-width:100%\"></a></p>\n<p>One lane per subtask; network buffers, watermarks, barriers, firings, failures and restores over simulated processing time. <a href=\"streaming/report.html\">The streaming run's page</a> has the same diagram with hover tips, the event-time diagrams and per-subtask charts. The other modes are drawn by the timeline chart below (their batches, stages and failures); they have no space-time diagram of their own yet.</p>"
    );
}

/// The summary table: per mode, how the run ended, how long it took in simulated time,
/// records in at the sources and out at the sinks, throughput and the end-to-end latency
/// percentiles.
pub(crate) fn summary_table(o: &mut String, runs: &[Run<'_>]) {
    let _ = writeln!(o, "<h2>Summary</h2>\n<table>");
    let _ = writeln!(
        o,
        "<tr><th>mode</th><th>outcome</th><th>simulated (ms)</th><th>source records</th><th>sink records</th><th>throughput (records/s)</th><th>p50 (ms)</th><th>p90 (ms)</th><th>p99 (ms)</th><th>max (ms)</th></tr>"
    );
    for r in runs {
        let (rep, l) = (r.report, &r.report.latency);
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            swatch(&r.mode),
            esc(rep.outcome.status.name()),
            rep.sim_duration_ms,
            rep.source_records,
            rep.sink_records,
            rep.throughput_per_s,
            l.p50_ms,
            l.p90_ms,
            l.p99_ms,
            l.max_ms
        );
    }
}

/// The settings of each mode (checkpoint interval, trigger interval, ack timeout, …) and
/// the notes its driver left, such as which fault a baseline mode took over.
pub(crate) fn settings_table(o: &mut String, runs: &[Run<'_>]) {
    let _ = writeln!(o, "</table>\n<h3>Settings of each mode</h3>\n<table>");
    for r in runs {
        let settings: Vec<String> = r.details.settings.iter().map(|x| esc(x)).collect();
        let notes: Vec<String> = r.details.notes.iter().map(|x| esc(x)).collect();
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td style=\"text-align:left\">{}{}</td></tr>",
            swatch(&r.mode),
            settings.join(" · "),
            if notes.is_empty() {
                String::new()
            } else {
                format!("<br><em>{}</em>", notes.join("<br>"))
            }
        );
    }
}

/// The correctness table: per mode, the sink output against the same mode's fault-free
/// reference run (duplicates, missing records, wrong results), the records dropped as late
/// and the failures injected (when, and for how long the TaskManager was down).
pub(crate) fn correctness_table(o: &mut String, runs: &[Run<'_>]) {
    let _ = writeln!(o, "</table>\n<h3>Correctness</h3>\n<table>");
    let _ = writeln!(
        o,
        "<tr><th>mode</th><th>records out</th><th>duplicates</th><th>missing</th><th>wrong results</th><th>late drops</th><th>failures</th></tr>"
    );
    for r in runs {
        let c = r.correctness();
        let f = r.failures();
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            swatch(&r.mode),
            r.report.sink_records,
            c.map_or("none".into(), |d| d.0.to_string()),
            c.map_or("none".into(), |d| d.1.to_string()),
            c.map_or("none".into(), |d| d.2.to_string()),
            r.late_drops(),
            if f.is_empty() {
                "none".to_string()
            } else {
                f.iter()
                    .map(|(at, d)| format!("at {at} ms, down {d} ms"))
                    .collect::<Vec<_>>()
                    .join("; ")
            }
        );
    }
    let _ = writeln!(
        o,
        "</table>\n<p>Against the same mode run without its faults. <em>Duplicates</em>: records seen more often than there; <em>missing</em>: records of that run never seen; <em>wrong results</em>: a record with another value in place of the right one (a count recomputed after its state was lost) — neither a duplicate nor a loss. \"none\": no fault, nothing to compare.</p>"
    );
}

/// The charts, each inline as SVG with links to its SVG and PNG files, then links to the
/// report JSON and the CSV series behind every chart; closes the page.
fn charts_section(o: &mut String, runs: &[Run<'_>], svgs: &[(String, String)]) {
    let _ = writeln!(o, "<h2>Charts</h2>");
    let charts = crate::compare_charts(runs);
    for &(name, title) in &charts {
        let svg = svgs
            .iter()
            .find(|(n, _)| n == &format!("{name}.svg"))
            .map_or("", |(_, s)| s.as_str());
        figure(o, name, title, svg);
    }
    let csvs: Vec<String> = charts
        .iter()
        .map(|(n, _)| format!("<a href=\"{n}.csv\">{n}.csv</a>"))
        .collect();
    let _ = writeln!(
        o,
        "<p>Data: <a href=\"report.json\">report.json</a> · CSV: {}</p>\n</body>\n</html>",
        csvs.join(", ")
    );
}

/// The page of a sweep.
pub fn sweep_page(sweep: &SweepReport, charts: &[(String, String, String)]) -> String {
    let scenario = &sweep.scenario;
    let mut o = head(&format!("streamlab sweep · {scenario}"));
    let _ = writeln!(o, "<h1>streamlab sweep · {}</h1>", esc(scenario));
    let _ = writeln!(
        o,
        "<p>Each point is one deterministic run; latency is measured from a record's creation to the moment its result is visible at the sink.</p>"
    );
    for (name, title, svg) in charts {
        figure(&mut o, name, title, svg);
    }
    if !sweep.invalid.is_empty() {
        let _ = writeln!(o, "<h3>Values not run</h3>\n<ul>");
        for b in &sweep.invalid {
            let _ = writeln!(
                o,
                "<li><code>{}</code>: {}</li>",
                esc(&b.setting),
                esc(&b.error)
            );
        }
        let _ = writeln!(o, "</ul>");
    }
    let _ = writeln!(
        o,
        "<table>\n<tr><th>mode</th><th>setting</th><th>throughput (records/s)</th><th>p50 (ms)</th><th>p99 (ms)</th><th>outcome</th></tr>"
    );
    for p in &sweep.points {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            swatch(&p.mode),
            esc(&p.setting),
            p.throughput_per_s,
            p.latency_p50_ms,
            p.latency_p99_ms,
            esc(&p.status)
        );
    }
    let _ = writeln!(
        o,
        "</table>\n<p>Data: <a href=\"sweep.json\">sweep.json</a> · <a href=\"sweep.csv\">sweep.csv</a></p>\n</body>\n</html>"
    );
    o
}

/// Colours for chains in the job graph.
const CHAIN_COLORS: [&str; 8] = [
    "#aec7e8", "#ffbb78", "#98df8a", "#c5b0d5", "#f7b6d2", "#dbdb8d", "#9edae5", "#c49c94",
];

/// Where the parts of the job-graph picture go: one box per chain in a row, TaskManagers
/// below side by side, each with its slots stacked.
struct PlanLayout {
    /// Width of a chain box.
    bw: i64,
    /// Gap between chain boxes, where the network edges run.
    gap: i64,
    /// Height of a chain box: room for the longest chain's operators.
    bh: i64,
    /// Top of the chain boxes.
    y0: i64,
    /// Width of the whole picture.
    width: i64,
    /// Height of the whole picture.
    height: i64,
    /// Number of TaskManagers drawn (at least one).
    tms: usize,
    /// Height of a TaskManager box: room for its slots.
    tm_h: i64,
}

impl PlanLayout {
    fn new(plan: &PlanView) -> Self {
        let chains = &plan.chains;
        let tms = plan.task_managers.max(1) as usize;
        let bw = 210;
        let gap = 70;
        let ops_max = chains.iter().map(|c| c.operators.len()).max().unwrap_or(1);
        let bh = 40 + 18 * ops_max as i64;
        let width = (chains.len() as i64 * (bw + gap) + 40).max(700);
        // The fullest TaskManager sets the height (slots in use need not be spread evenly).
        let slot_rows = (0..tms)
            .map(|tm| {
                plan.slots
                    .iter()
                    .filter(|sl| sl.task_manager as usize == tm)
                    .count()
            })
            .max()
            .unwrap_or(0)
            .max(1);
        let tm_h = 40 + slot_rows as i64 * 70;
        let height = 60 + bh + 60 + tm_h + 20;
        PlanLayout {
            bw,
            gap,
            bh,
            y0: 40,
            width,
            height,
            tms,
            tm_h,
        }
    }

    /// Left edge of chain `i`'s box.
    fn x_of(&self, i: usize) -> i64 {
        20 + i as i64 * (self.bw + self.gap)
    }
}

/// The job graph: chains left to right with their operators and the partitioner of each
/// network edge; below, TaskManagers with their slots and the subtasks placed in each.
pub fn plan_svg(plan: &PlanView) -> String {
    if plan.chains.is_empty() {
        return "<p>(no plan in the report)</p>\n".into();
    }
    let lay = PlanLayout::new(plan);
    let (width, height) = (lay.width, lay.height);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    let _ = writeln!(
        s,
        "<defs><marker id=\"arrow\" markerWidth=\"10\" markerHeight=\"8\" refX=\"9\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L10,4 L0,8 z\" fill=\"#444\"/></marker></defs>"
    );
    let _ = writeln!(
        s,
        "<text x=\"20\" y=\"22\" font-size=\"14\" font-weight=\"bold\">Chains (one task per subtask)</text>"
    );
    draw_chains(&mut s, plan, &lay);
    draw_network_edges(&mut s, plan, &lay);
    draw_task_managers(&mut s, plan, &lay);
    s.push_str("</svg>\n");
    s
}

/// One box per chain (one task per subtask in Flink), named with its parallelism and
/// listing its operators in chain order: the head first, the chained ones after it.
fn draw_chains(s: &mut String, plan: &PlanView, lay: &PlanLayout) {
    let (bw, bh, y0) = (lay.bw, lay.bh, lay.y0);
    for (i, c) in plan.chains.iter().enumerate() {
        let x = lay.x_of(i);
        let color = CHAIN_COLORS[i % CHAIN_COLORS.len()];
        let _ = writeln!(
            s,
            "<g class=\"chain\"><rect x=\"{x}\" y=\"{y0}\" width=\"{bw}\" height=\"{bh}\" rx=\"6\" fill=\"{color}\" stroke=\"#555\"/>"
        );
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" font-weight=\"bold\">{} ×{}</text>",
            x + 8,
            y0 + 18,
            esc(&short(&c.name, 26)),
            c.parallelism
        );
        for (k, op) in c.operators.iter().enumerate() {
            let _ = writeln!(
                s,
                "<text x=\"{}\" y=\"{}\">{} {}</text>",
                x + 12,
                y0 + 38 + 18 * k as i64,
                if k == 0 { "•" } else { "↳" },
                esc(&short(op, 28))
            );
        }
        let _ = writeln!(s, "</g>");
    }
}

/// The network edges between chains (the edges that did not chain), each labelled with
/// its partitioner (forward, rebalance, hash, …): straight between neighbours, around
/// below the boxes otherwise.
fn draw_network_edges(s: &mut String, plan: &PlanView, lay: &PlanLayout) {
    let (bw, bh, y0) = (lay.bw, lay.bh, lay.y0);
    for e in &plan.edges {
        let (f, t) = (e.from, e.to);
        let (x1, x2) = (lay.x_of(f) + bw, lay.x_of(t));
        let (y1, y2) = (y0 + bh / 2, y0 + bh / 2);
        let label = esc(&e.partitioner);
        if t == f + 1 {
            let _ = writeln!(
                s,
                "<line x1=\"{x1}\" y1=\"{y1}\" x2=\"{}\" y2=\"{y2}\" stroke=\"#444\" stroke-width=\"1.5\" marker-end=\"url(#arrow)\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\">{label}</text>",
                x2 - 2,
                (x1 + x2) / 2,
                y1 - 6
            );
        } else {
            // around below the boxes
            let yb = y0 + bh + 12 + 8 * ((f + t) % 3) as i64;
            let _ = writeln!(
                s,
                "<path d=\"M{} {} V{yb} H{} V{}\" fill=\"none\" stroke=\"#444\" stroke-width=\"1.5\" marker-end=\"url(#arrow)\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\">{label}</text>",
                lay.x_of(f) + bw / 2,
                y0 + bh,
                lay.x_of(t) + bw / 2 - 10,
                y0 + bh + 2,
                (lay.x_of(f) + lay.x_of(t) + bw) / 2,
                yb + 12
            );
        }
    }
}

/// The deployment: one box per TaskManager, its slots stacked inside, and in each slot the
/// subtasks that share it (slot sharing: one subtask of each chain at most), coloured by
/// chain and numbered by subtask index.
fn draw_task_managers(s: &mut String, plan: &PlanView, lay: &PlanLayout) {
    let (tms, tm_h) = (lay.tms, lay.tm_h);
    let ty = lay.y0 + lay.bh + 60;
    let _ = writeln!(
        s,
        "<text x=\"20\" y=\"{}\" font-size=\"14\" font-weight=\"bold\">TaskManagers and slots (subtasks sharing a slot)</text>",
        ty - 10
    );
    let tm_w = (lay.width - 40 - (tms as i64 - 1) * 20) / tms as i64;
    for tm in 0..tms {
        let x = 20 + tm as i64 * (tm_w + 20);
        let _ = writeln!(
            s,
            "<g class=\"task-manager\"><rect x=\"{x}\" y=\"{ty}\" width=\"{tm_w}\" height=\"{tm_h}\" rx=\"8\" fill=\"#f7f7f7\" stroke=\"#333\"/><text x=\"{}\" y=\"{}\" font-weight=\"bold\">TaskManager {tm}</text></g>",
            x + 8,
            ty + 18
        );
        let mine: Vec<_> = plan
            .slots
            .iter()
            .filter(|sl| sl.task_manager as usize == tm)
            .collect();
        for (k, sl) in mine.iter().enumerate() {
            let sy = ty + 30 + k as i64 * 70;
            let _ = writeln!(
                s,
                "<g class=\"slot\"><rect x=\"{}\" y=\"{sy}\" width=\"{}\" height=\"60\" rx=\"4\" fill=\"#fff\" stroke=\"#888\" stroke-dasharray=\"4 2\"/><text x=\"{}\" y=\"{}\" font-size=\"11\">slot {}</text>",
                x + 8,
                tm_w - 16,
                x + 14,
                sy + 14,
                sl.slot
            );
            draw_slot_subtasks(s, plan, sl, x, sy, tm_w);
            let _ = writeln!(s, "</g>");
        }
    }
}

/// The subtasks sharing one slot, side by side inside it: each coloured by its chain and
/// labelled with the chain's name (shortened to fit) and the subtask index.
fn draw_slot_subtasks(s: &mut String, plan: &PlanView, sl: &PlanSlot, x: i64, sy: i64, tm_w: i64) {
    let subs = &sl.subtasks;
    let n = subs.len().max(1) as i64;
    let cw = (tm_w - 28) / n;
    for (j, st) in subs.iter().enumerate() {
        let ci = st.chain;
        let name = plan.chains.get(ci).map_or("", |c| c.name.as_str());
        let cx = x + 14 + j as i64 * cw;
        let _ = writeln!(
            s,
            "<rect x=\"{cx}\" y=\"{}\" width=\"{}\" height=\"30\" rx=\"3\" fill=\"{}\" stroke=\"#555\"/><text x=\"{}\" y=\"{}\" font-size=\"11\">{} #{}</text>",
            sy + 22,
            cw - 6,
            CHAIN_COLORS[ci % CHAIN_COLORS.len()],
            cx + 4,
            sy + 41,
            esc(&short(name, ((cw - 30) / 7).max(4) as usize)),
            st.subtask
        );
    }
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!(
            "{}…",
            s.chars().take(n.saturating_sub(1)).collect::<String>()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use streamlab_engine::report::{PlanSlot, PlanSubtask};

    /// Two slots in use, both on TaskManager 0 of two: its box holds both (the height is the
    /// fullest TaskManager's, not the average).
    #[test]
    fn a_task_manager_box_holds_all_its_slots() {
        let slot = |s| PlanSlot {
            task_manager: 0,
            slot: s,
            subtasks: vec![PlanSubtask {
                chain: 0,
                subtask: s,
            }],
        };
        let plan = PlanView {
            task_managers: 2,
            slots_per_task_manager: 2,
            chains: Vec::new(),
            edges: Vec::new(),
            slots: vec![slot(0), slot(1)],
        };
        let lay = PlanLayout::new(&plan);
        // slot k starts at 30 + 70 k below the box's top and is 60 high
        assert!(lay.tm_h >= 30 + 70 + 60, "{}", lay.tm_h);
    }
}
