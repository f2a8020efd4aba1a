//! The report of one run (`streamlab run FILE --out DIR`): `report.html` with the space-time
//! diagram at its centre, the event-time diagrams, per-subtask charts and the summary tables,
//! plus the charts as SVG and PNG and the CSV series behind them.
//!
//! The page is self-contained (every picture inline SVG, no external URL) and readable with
//! scripts off; a few lines of inline script add the hover tips (`<div id="tip">`) and the
//! zoom. Same report and trace ⇒ byte-identical files. The DOM the browser test relies on
//! stays as it is: `svg#space-time`, `g.lane[data-task]` per subtask, `.mark.KIND` with
//! `data-tip`, `<title>` and `data-count`, `section#event-time`, `section#subtasks`.
//!
//! | module | what |
//! |---|---|
//! | [`model`] | the trace lines it reads, typed (strict) |
//! | [`bins`] | bounded binning over processing time |
//! | [`timeline`] | the trace folded into lanes and job events; the `Write` that does it |
//! | [`lanes`] | one lane per subtask, where it ran |
//! | [`svg`] | marks with tips, the time axis, how times are written |
//! | [`space_time`] | the space-time diagram: layout, lanes, buffers |
//! | `job_row` | its job row, failures and downtime, legend |
//! | `network` | its buffer arrows and unaligned barriers |
//! | [`space_time_png`] | the same as a PNG (embedded font: the same bytes everywhere) |
//! | [`startup`] | the start-up timeline of a run with `[deployment]` (roles as lanes) |
//! | [`subtasks`] | per-subtask small multiples |
//! | [`watermark_chart`] | the subtasks' watermarks as a static chart (SVG and PNG) |

pub mod bins;
mod job_row;
pub mod lanes;
pub mod model;
mod network;
pub mod space_time;
pub mod space_time_png;
pub mod startup;
pub mod subtasks;
pub mod svg;
pub mod timeline;
pub mod watermark_chart;

use crate::html::{correctness_table, esc, figure, head_with, plan_svg, summary_table};
use crate::{File, ModeDetails, Run, RunReport, VizError, charts, tables};
use std::fmt::Write;
use streamlab_engine::report::PlanView;
pub use timeline::{Recorder, Timeline, read_trace};

/// What the run page is made from.
pub struct RunPage<'a> {
    /// The run report (as `report.json` holds it).
    pub report: &'a RunReport,
    /// The plan: chains, edges, slots.
    pub plan: &'a PlanView,
    /// The scenario's description.
    pub description: &'a str,
    /// The run's trace, folded.
    pub timeline: &'a Timeline,
    /// `streamlab explain FILE --seed N` (with `--chaos` when the run had it): the tips add
    /// the question that explains a firing, a checkpoint, backpressure; `None`: no hints.
    pub explain: Option<&'a str>,
    /// The event-time diagrams, one `<svg class="event-time" data-operator=…>` each (empty:
    /// none drawn).
    pub event_time: &'a [String],
}

/// The charts of one run drawn by the comparison's chart code (one mode), by name.
const RUN_CHARTS: [&str; 5] = [
    "latency_cdf",
    "throughput",
    "results_over_time",
    "watermark_lag",
    "timeline",
];

/// Every file of a run's report but `report.json`: `report.html`, `space_time.svg`, the
/// charts as SVG and PNG, the CSV series.
pub fn run_files(page: &RunPage<'_>) -> Result<Vec<File>, VizError> {
    let details = ModeDetails::default();
    let run = Run {
        mode: page.report.mode.clone(),
        report: page.report,
        details: &details,
    };
    let runs = [run];
    let names: Vec<(&str, &str)> = crate::compare_charts(&runs)
        .into_iter()
        .filter(|(n, _)| RUN_CHARTS.contains(n))
        .collect();
    let mut files: Vec<File> = Vec::new();
    let mut svgs = Vec::new();
    for &(name, title) in &names {
        let chart = charts::Chart::compare(name, &runs);
        let svg = chart.svg()?;
        files.push((format!("{name}.svg"), svg.clone().into_bytes()));
        files.push((format!("{name}.png"), chart.png()?));
        svgs.push((name, title, svg));
    }
    files.extend(
        tables::compare_csvs(&runs)
            .into_iter()
            .filter(|(n, _)| names.iter().any(|(c, _)| n == &format!("{c}.csv"))),
    );
    let lanes = lanes::lanes(page.report, page.plan, page.timeline);
    if let Some(chart) = watermark_chart::watermark_chart(&lanes, page.timeline) {
        let svg = chart.svg()?;
        files.push(("watermarks.svg".into(), svg.clone().into_bytes()));
        files.push(("watermarks.png".into(), chart.png()?));
        svgs.push(("watermarks", "Watermark per subtask", svg));
    }
    let st = space_time::space_time(page.report, &lanes, page.timeline, page.explain);
    files.push((
        "space_time.png".into(),
        space_time_png::space_time_png(page.report, &lanes, page.timeline)?,
    ));
    files.push((
        "space_time.svg".into(),
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}", st.svg).into_bytes(),
    ));
    files.extend(series_csvs(page, &lanes));
    let mut csvs: Vec<&str> = files
        .iter()
        .map(|f| f.0.as_str())
        .filter(|n| n.ends_with(".csv"))
        .collect();
    csvs.sort();
    let html = page_html(page, &runs, &lanes, &st, &svgs, &csvs);
    files.push(("report.html".into(), html.into_bytes()));
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

/// Styles of the run page: wider than the comparison page, the diagram scrolls sideways
/// when zoomed, the tip floats.
const STYLE: &str = "body{max-width:1280px}\
.st-wrap{overflow-x:auto;border:1px solid #ddd}\
.st-wrap svg{display:block}\
#tip{position:absolute;max-width:480px;background:#fffbe6;border:1px solid #aa8;padding:4px 8px;font-size:13px;pointer-events:none;box-shadow:2px 2px 4px #0003}\
#tip[hidden]{display:none}\
.zoom button{margin-right:4px}\
.subtasks{display:flex;flex-wrap:wrap;gap:8px}\
figure.subtask{margin:0;border:1px solid #ddd;padding:4px}\
figure.subtask figcaption{font-size:12px;color:#222}\
.notes{font-size:90%;color:#444}\
.filter label{margin-right:10px;font-size:90%}\
.hide-buffer .mark.buffer,.hide-watermark .mark.watermark,.hide-barrier .mark.barrier,\
.hide-alignment .mark.alignment,.hide-fire .mark.fire,.hide-backpressure .mark.backpressure,\
.hide-commit .mark.commit,.hide-late .mark.late{display:none}";

/// The hover tip and the zoom: all the script there is. Without it the page shows the same.
const SCRIPT: &str = "<script>\n(function(){\n\
var tip=document.getElementById('tip');var pinned=null;\n\
function show(m,e){tip.textContent=m.getAttribute('data-tip');tip.hidden=false;\
tip.style.left=(e.pageX+14)+'px';tip.style.top=(e.pageY+14)+'px';}\n\
document.addEventListener('mouseover',function(e){var m=e.target.closest&&e.target.closest('.mark');if(m&&!pinned)show(m,e);});\n\
document.addEventListener('mousemove',function(e){var m=e.target.closest&&e.target.closest('.mark');if(m&&!pinned)show(m,e);});\n\
document.addEventListener('mouseout',function(e){var m=e.target.closest&&e.target.closest('.mark');if(m&&!pinned)tip.hidden=true;});\n\
document.addEventListener('click',function(e){var m=e.target.closest&&e.target.closest('.mark');pinned=null;if(m){show(m,e);pinned=m;}else{tip.hidden=true;}});\n\
var st=document.getElementById('space-time');var w0=st?+st.getAttribute('width'):0;var h0=st?+st.getAttribute('height'):0;var z=1;\n\
document.querySelectorAll('[data-zoom]').forEach(function(b){b.hidden=false;b.addEventListener('click',function(){\
var k=b.getAttribute('data-zoom');z=k==='in'?Math.min(z*2,16):k==='out'?Math.max(z/2,1):1;\
st.setAttribute('width',w0*z);st.setAttribute('height',h0*z);});});\n\
document.querySelectorAll('[data-kind]').forEach(function(c){c.parentNode.hidden=false;c.addEventListener('change',function(){\
st.classList.toggle('hide-'+c.getAttribute('data-kind'),!c.checked);});});\n\
})();\n</script>\n";

/// The page.
fn page_html(
    page: &RunPage<'_>,
    runs: &[Run<'_>],
    lanes: &[lanes::Lane],
    st: &space_time::SpaceTime,
    charts: &[(&str, &str, String)],
    csvs: &[&str],
) -> String {
    let r = page.report;
    let mut o = head_with(&format!("streamlab run · {}", r.scenario), STYLE);
    let _ = writeln!(o, "<h1>streamlab run · {}</h1>", esc(&r.scenario));
    let _ = writeln!(
        o,
        "<p>{}</p>\n<p>seed {} · streamlab {} · {} mode · simulated time on every axis but event time. Hover over (or click) a mark to see what it is.</p>",
        esc(page.description),
        r.seed,
        esc(&r.streamlab_version),
        esc(&r.mode)
    );
    summary_table(&mut o, runs);
    correctness_table(&mut o, runs);
    o.push_str(&startup::startup_section(r.deployment.as_ref()));
    space_time_section(&mut o, page, lanes, st);
    o.push_str(&event_time_section(page.event_time));
    let _ = writeln!(
        o,
        "<section id=\"subtasks\">\n<h2>Subtasks</h2>\n<p>Per subtask: the watermark of each input channel (a channel that stays behind holds the subtask's watermark back), the records it received per second with its backpressure hatched, and how its time split. Queue occupancy and credit are not in the trace: backpressure is where they ran out.</p>\n<div class=\"subtasks\">"
    );
    o.push_str(&subtasks::subtask_figures(
        r,
        lanes,
        page.timeline,
        page.timeline.end_ns.max(r.outcome.at_ns).max(1),
    ));
    o.push_str("</div>\n</section>\n");
    let _ = writeln!(o, "<h2>Job graph</h2>");
    o.push_str(&plan_svg(page.plan));
    let _ = writeln!(o, "<h2>Charts</h2>");
    for (name, title, svg) in charts {
        figure(&mut o, name, title, svg);
    }
    let csvs: Vec<String> = csvs
        .iter()
        .map(|n| format!("<a href=\"{n}\">{n}</a>"))
        .collect();
    let _ = writeln!(
        o,
        "<p>Data: <a href=\"report.json\">report.json</a> · <a href=\"space_time.svg\">space_time.svg</a> · <a href=\"space_time.png\">space_time.png</a> · CSV: {}</p>",
        csvs.join(", ")
    );
    o.push_str("<div id=\"tip\" role=\"tooltip\" hidden></div>\n");
    o.push_str(SCRIPT);
    o.push_str("</body>\n</html>\n");
    o
}

/// The kinds of marks the page can hide (with scripts on), and their names.
const FILTERS: [(&str, &str); 8] = [
    ("buffer", "buffers"),
    ("watermark", "watermarks"),
    ("barrier", "barriers"),
    ("alignment", "alignments"),
    ("fire", "firings"),
    ("backpressure", "backpressure"),
    ("commit", "commits"),
    ("late", "late elements"),
];

/// The space-time diagram with its zoom buttons, the filters and what it aggregated.
fn space_time_section(
    o: &mut String,
    page: &RunPage<'_>,
    lanes: &[lanes::Lane],
    st: &space_time::SpaceTime,
) {
    let _ = writeln!(
        o,
        "<section id=\"space-time-diagram\">\n<h2>Space-time diagram</h2>\n<p>One lane per subtask ({}), grouped by chain, each labelled with its TaskManager and slot; simulated processing time from left to right. Arrows are network buffers from the sending subtask to the receiving one; black ticks are checkpoint barriers (a subtask's snapshot); the job's row on top shows each checkpoint from trigger to completion, failures, restarts and status changes.</p>",
        lanes.len()
    );
    let _ = writeln!(
        o,
        "<p class=\"zoom\"><button data-zoom=\"in\" hidden>zoom in</button><button data-zoom=\"out\" hidden>zoom out</button><button data-zoom=\"reset\" hidden>whole run</button></p>\n<p class=\"filter\">{}</p>\n<div class=\"st-wrap\">\n{}</div>",
        FILTERS
            .iter()
            .map(|(k, label)| format!(
                "<label hidden><input type=\"checkbox\" data-kind=\"{k}\" checked> {label}</label>"
            ))
            .collect::<String>(),
        st.svg
    );
    let _ = writeln!(
        o,
        "<p class=\"notes\">Drawn from {} trace lines. {}. {}.</p>\n</section>",
        page.timeline.lines,
        esc(st.notes.first().map_or("", String::as_str)),
        st.notes
            .iter()
            .skip(1)
            .map(|n| esc(n))
            .collect::<Vec<_>>()
            .join("; ")
    );
}

/// The event-time section: the event-time diagrams (one `<svg class="event-time"
/// data-operator=…>` per event-time window operator, drawn by `crate::event_time` when it is
/// wired in), inline as given. **This is the spot where they go.**
pub fn event_time_section(svgs: &[String]) -> String {
    let mut o = String::from("<section id=\"event-time\">\n<h2>Event time</h2>\n");
    if svgs.is_empty() {
        o.push_str("<p>No event-time diagram in this report.</p>\n");
    }
    for s in svgs {
        let s = s.find("<svg").map_or(s.as_str(), |i| &s[i..]);
        let _ = writeln!(o, "<div class=\"chart\">{s}</div>");
    }
    o.push_str("</section>\n");
    o
}

/// The CSV series of the page's own views.
const SERIES_CSVS: [&str; 5] = [
    "subtasks.csv",
    "channel_watermarks.csv",
    "records_in.csv",
    "backpressure.csv",
    "watermarks.csv",
];

/// `subtasks.csv` (time split per subtask), `channel_watermarks.csv` (per channel, per bin:
/// the last time and the watermark), `records_in.csv`, `backpressure.csv` (spans),
/// `watermarks.csv` (each subtask's own watermark, per bin).
fn series_csvs(page: &RunPage<'_>, lanes: &[lanes::Lane]) -> Vec<File> {
    let mut split =
        String::from("task,task_manager,busy_ms,cpu_wait_ms,backpressured_ms,idle_ms\n");
    let mut wm = String::from("task,from,time_ms,watermark_ms\n");
    let mut rin = String::from("task,first_ms,last_ms,buffers,records\n");
    let mut bp = String::from("task,start_ms,end_ms,spans\n");
    let mut own = String::from("task,time_ms,watermark_ms\n");
    let ms = |ns: u64| ns as f64 / 1e6;
    for l in lanes {
        let t = &page.report.tasks[l.task_index];
        let name = csv_field(&l.name);
        let _ = writeln!(
            split,
            "{name},{},{},{},{},{}",
            t.task_manager, t.busy_ms, t.cpu_wait_ms, t.backpressured_ms, t.idle_ms
        );
        let Some(tt) = l.timeline(page.timeline) else {
            continue;
        };
        for (from, r) in tt.channel_watermarks.iter() {
            let _ = writeln!(
                wm,
                "{name},{},{},{}",
                csv_field(from),
                ms(r.count.last_ns),
                r.max
            );
        }
        for (_, r) in tt.records_in.iter() {
            let _ = writeln!(
                rin,
                "{name},{},{},{},{}",
                ms(r.count.first_ns),
                ms(r.count.last_ns),
                r.count.n,
                r.sum
            );
        }
        for s in &tt.backpressure.done {
            let _ = writeln!(bp, "{name},{},{},{}", ms(s.start_ns), ms(s.end_ns), s.n);
        }
        for (_, r) in tt.watermarks.iter() {
            let _ = writeln!(own, "{name},{},{}", ms(r.count.last_ns), r.max);
        }
    }
    [split, wm, rin, bp, own]
        .into_iter()
        .zip(SERIES_CSVS)
        .map(|(s, n)| (n.to_string(), s.into_bytes()))
        .collect()
}

/// A CSV field, quoted when it holds a comma or a quote.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
