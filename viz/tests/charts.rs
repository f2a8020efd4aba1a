//! The charts as a reader sees them, checked on the SVG (and the PNG) they draw: every mark
//! visible, lines inside the plot, legends beside the data, log ticks on 1-2-5, no empty
//! charts, sweeps of a setting drawn against that setting.

use serde_json::{Value, json};
use streamlab_engine::core::time::{SimDuration, SimTime};
use streamlab_engine::core::value::Interner;
use streamlab_engine::report::{
    BatchReport, CheckpointReport, CompareReport, Latency, ModeDetails, ModeRun, PlanView,
    RunInputs, RunReport, Series, SinkCorrectness, Status, SweepPoint, SweepReport, TaskReport,
    mode::FailureReport,
};
use streamlab_viz::{compare_files, read_compare_report, read_sweep_report, sweep_files};

/// An SVG element's attribute as a number.
fn attr(el: &str, name: &str) -> Option<f64> {
    let key = format!(" {name}=\"");
    let i = el.find(&key)? + key.len();
    el[i..i + el[i..].find('"')?].parse().ok()
}

fn attr_str<'a>(el: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let i = el.find(&key)? + key.len();
    Some(&el[i..i + el[i..].find('"')?])
}

/// Every `<tag …>` element (its opening tag) of an SVG.
fn elements<'a>(svg: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag} ");
    svg.match_indices(&open)
        .map(|(i, _)| &svg[i..i + svg[i..].find('>').unwrap_or(0) + 1])
        .collect()
}

/// `<text>` elements: (x, y, content).
fn texts(svg: &str) -> Vec<(f64, f64, String)> {
    svg.match_indices("<text ")
        .filter_map(|(i, _)| {
            let rest = &svg[i..];
            let open = &rest[..rest.find('>')? + 1];
            let body = &rest[open.len()..];
            let body = body[..body.find("</text>")?].trim().to_string();
            Some((attr(open, "x")?, attr(open, "y")?, body))
        })
        .collect()
}

/// The plot area `(x0, x1, y0, y1)` in pixels: where the light grid lines run.
fn plot_area(svg: &str) -> (f64, f64, f64, f64) {
    let mut a = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for l in elements(svg, "line") {
        if attr_str(l, "stroke") != Some("#EBEBEB") {
            continue;
        }
        for (x, y) in [("x1", "y1"), ("x2", "y2")] {
            let (x, y) = (attr(l, x).unwrap(), attr(l, y).unwrap());
            a = (a.0.min(x), a.1.max(x), a.2.min(y), a.3.max(y));
        }
    }
    assert!(a.0 < a.1 && a.2 < a.3, "no grid in the chart");
    a
}

/// The points of every polyline drawn in `color` (`#RRGGBB`, upper case as plotters writes).
fn polyline_points(svg: &str, color: &str) -> Vec<(f64, f64)> {
    elements(svg, "polyline")
        .into_iter()
        .filter(|p| attr_str(p, "stroke") == Some(color))
        .flat_map(|p| {
            attr_str(p, "points")
                .unwrap_or("")
                .split_whitespace()
                .filter_map(|xy| {
                    let (x, y) = xy.split_once(',')?;
                    Some((x.parse().ok()?, y.parse().ok()?))
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn file<'a>(files: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &files
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| {
            panic!(
                "no {name} among {:?}",
                files.iter().map(|f| &f.0).collect::<Vec<_>>()
            )
        })
        .1
}

fn svg<'a>(files: &'a [(String, Vec<u8>)], name: &str) -> &'a str {
    std::str::from_utf8(file(files, name)).unwrap()
}

/// A checkpoint triggered at `trigger_ms` that completed 40 µs later.
fn checkpoint(id: u64, trigger_ms: f64) -> CheckpointReport {
    CheckpointReport {
        id,
        trigger_ms,
        completed_ms: Some(trigger_ms + 0.04),
        alignment_ms: 0.0,
        sync_ms: 0.0,
        async_ms: 0.0,
        size_bytes: 0,
        in_flight_bytes: 0,
        barriers: "aligned".into(),
        outcome: "completed".into(),
        savepoint: None,
    }
}

/// A task with a watermark-lag trail (event time) or none.
fn task(event_time: bool) -> TaskReport {
    TaskReport {
        chain: "c".into(),
        watermark: Some(None),
        watermark_lag_ms: if event_time {
            vec![(0.0, 200.0), (1000.0, 210.0), (2000.0, 190.0)]
        } else {
            Vec::new()
        },
        ..Default::default()
    }
}

/// A run report of `mode` as the CLI writes it, over `end_ms`, with sink counts per 10 ms
/// bucket, checkpoints, failures, batches and a watermark-lag trail (event time) or none.
fn run(mode: &str, end_ms: f64, buckets: Vec<u64>, event_time: bool) -> ModeRun {
    let assembled = RunReport::assemble(
        RunInputs {
            scenario: "charts",
            seed: 1,
            mode,
            end: SimTime::ZERO.plus(SimDuration::from_nanos((end_ms * 1e6) as u64)),
            status: Status::Finished,
            message: None,
            events: 0,
            source_records: 0,
            operators: Vec::new(),
            tasks: vec![task(event_time)],
            sinks: Vec::new(),
            throughput: Series {
                bucket_ms: 10,
                sink_records: buckets.clone(),
            },
        },
        &Interner::new(),
    );
    let report = RunReport {
        sink_records: buckets.iter().sum::<u64>(),
        latency: Latency {
            count: 100,
            mean_ms: 10.0,
            p50_ms: 3.0,
            p90_ms: 40.0,
            p99_ms: 700.0,
            max_ms: 31000.0,
            cdf_ms: vec![(0.006, 0.1), (3.0, 0.5), (700.0, 0.99), (31000.0, 1.0)],
        },
        checkpoints: (0..9)
            .map(|i| checkpoint(i + 1, 1000.0 + 3000.0 * i as f64))
            .collect(),
        ..assembled
    };
    let batch = |start_ms: f64, end_ms: f64| BatchReport {
        id: "b".into(),
        start_ms,
        end_ms,
        records: 0,
        watermark: None,
    };
    ModeRun {
        mode: mode.into(),
        report,
        details: ModeDetails {
            batches: vec![batch(100.0, 100.2), batch(5000.0, 9000.0)],
            failures: vec![FailureReport {
                at_ms: 2000.0,
                downtime_ms: 0.0,
                restored_checkpoint: None,
                recovery: "restart".into(),
            }],
            correctness: Some(vec![SinkCorrectness {
                name: "out".into(),
                records: 700,
                duplicates: 100,
                missing: 100,
            }]),
            ..Default::default()
        },
    }
}

/// A comparison report of four modes over 30 s; a sink that takes 2 k records/s in bursts.
fn comparison_report(event_time: bool) -> CompareReport {
    // 3 000 buckets of 10 ms: 20 records every 10th bucket, nothing in between (needles)
    let buckets: Vec<u64> = (0..3000)
        .map(|i| if i % 10 == 0 { 200 } else { 0 })
        .collect();
    let runs: Vec<ModeRun> = ["streaming", "micro-batch", "batch", "acking"]
        .iter()
        .map(|m| run(m, 30_000.0, buckets.clone(), event_time))
        .collect();
    CompareReport {
        streamlab_version: "test".into(),
        scenario: "charts".into(),
        description: String::new(),
        seed: 1,
        modes: runs.iter().map(|r| r.mode.clone()).collect(),
        chaos: Vec::new(),
        plan: PlanView::default(),
        runs,
    }
}

/// The files of [`comparison_report`].
fn comparison(event_time: bool) -> Vec<(String, Vec<u8>)> {
    compare_files(&comparison_report(event_time)).expect("charts draw")
}

#[test]
fn a_report_read_back_is_the_report_written() {
    let report = comparison_report(true);
    let text = serde_json::to_string(&report).unwrap();
    let back = read_compare_report(&text).expect("a full report reads");
    assert_eq!(serde_json::to_string(&back).unwrap(), text);
    let sweep = sweep_report("sources.events.rate");
    let text = serde_json::to_string(&sweep).unwrap();
    let back = read_sweep_report(&text).expect("a full sweep reads");
    assert_eq!(serde_json::to_string(&back).unwrap(), text);
}

#[test]
fn a_report_missing_a_required_field_is_an_error_naming_it_not_a_zero() {
    let mut v: Value = serde_json::to_value(comparison_report(true)).unwrap();
    v["runs"][2]["report"]
        .as_object_mut()
        .unwrap()
        .remove("sim_duration_ms");
    let e = read_compare_report(&v.to_string()).expect_err("a missing field is an error");
    assert!(
        e.0.contains("not a streamlab comparison report")
            && e.0.contains("missing field `sim_duration_ms`")
            && e.0.contains("line 1 column"),
        "{e}"
    );
    // a field written as `null` when it has no value must still be there
    let mut v: Value = serde_json::to_value(comparison_report(true)).unwrap();
    v["runs"][0]["report"]["checkpoints"][0]
        .as_object_mut()
        .unwrap()
        .remove("completed_ms");
    let e = read_compare_report(&v.to_string()).unwrap_err();
    assert!(e.0.contains("missing field `completed_ms`"), "{e}");
    // a wrong type too
    let mut v: Value = serde_json::to_value(sweep_report("job.parallelism")).unwrap();
    v["points"][0]["latency_p99_ms"] = json!("fast");
    let e = read_sweep_report(&v.to_string()).unwrap_err();
    assert!(
        e.0.contains("not a streamlab sweep report") && e.0.contains("invalid type"),
        "{e}"
    );
    // fields written only when there is something to say may be left out
    let mut v: Value = serde_json::to_value(comparison_report(false)).unwrap();
    v["runs"][1]["report"]
        .as_object_mut()
        .unwrap()
        .remove("checkpoints");
    let r = read_compare_report(&v.to_string()).expect("checkpoints are optional");
    assert!(r.runs[1].report.checkpoints.is_empty());
}

#[test]
fn every_checkpoint_batch_and_downtime_of_the_timeline_is_at_least_3_px_wide() {
    let files = comparison(true);
    let s = svg(&files, "timeline.svg");
    let (_, x1, _, _) = plot_area(s);
    let in_plot = |r: &&str| attr(r, "x").unwrap() < x1;
    let black: Vec<&str> = elements(s, "rect")
        .into_iter()
        .filter(in_plot)
        .filter(|r| attr_str(r, "fill") == Some("#000000"))
        .collect();
    // 9 checkpoints of 40 µs in each of the four rows, none lost
    assert_eq!(black.len(), 4 * 9, "{black:?}");
    for r in &black {
        assert!(attr(r, "width").unwrap() >= 3.0, "{r}");
    }
    // the 0.2 ms batch and the zero-length downtime show as well
    let red = elements(s, "rect")
        .into_iter()
        .filter(in_plot)
        .filter(|r| attr_str(r, "fill") == Some("#D62728"))
        .count();
    assert_eq!(red, 4, "one downtime band per row");
    for r in elements(s, "rect") {
        if attr_str(r, "fill") != Some("#FFFFFF") {
            assert!(attr(r, "width").unwrap() >= 3.0, "{r}");
        }
    }
}

#[test]
fn throughput_has_50_to_200_bins_and_its_lines_stay_inside_the_plot() {
    let files = comparison(true);
    let s = svg(&files, "throughput.svg");
    let (x0, x1, y0, y1) = plot_area(s);
    let pts = polyline_points(s, "#1F77B4");
    assert!(!pts.is_empty());
    for &(x, y) in &pts {
        // the legend's sample line, right of the plot at its top
        let legend = x > x1 + 8.0 && y < y0 + 100.0;
        assert!(
            legend || (x >= x0 - 1.0 && x <= x1 + 1.0 && y >= y0 - 1.0 && y <= y1 + 1.0),
            "({x}, {y}) outside {:?}",
            (x0, x1, y0, y1)
        );
    }
    // one step (two points) per bin: 50 to 200 bins for 3 000 buckets
    let csv = std::str::from_utf8(file(&files, "throughput.csv")).unwrap();
    let bins = csv.lines().filter(|l| l.starts_with("streaming,")).count();
    assert!((50..=200).contains(&bins), "{bins} bins");
    // 2 000 records/s on average, not needles of 20 000/s
    for l in csv.lines().filter(|l| l.starts_with("streaming,")) {
        let rate: f64 = l.rsplit(',').next().unwrap().parse().unwrap();
        assert!((rate - 2000.0).abs() < 1.0, "{l}");
    }
    // in the PNG, no pixel of a series' colour below the x axis or left of the y axis
    let png = file(&files, "throughput.png");
    let dec = png::Decoder::new(png);
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let colours = [
        [0x1f, 0x77, 0xb4],
        [0xff, 0x7f, 0x0e],
        [0x2c, 0xa0, 0x2c],
        [0x94, 0x67, 0xbd],
    ];
    for y in 0..info.height as usize {
        for x in 0..info.width as usize {
            let i = (y * info.width as usize + x) * 3;
            if colours.iter().any(|c| buf[i..i + 3] == c[..]) {
                let inside = (x as f64) >= x0 - 3.0 && (y as f64) <= y1 + 3.0;
                let legend = (x as f64) > x1 + 3.0 && (y as f64) < y1;
                assert!(
                    inside || legend,
                    "series pixel at ({x}, {y}) outside the plot"
                );
            }
        }
    }
    // beside it, the results visible so far: rising to every record
    let res = std::str::from_utf8(file(&files, "results_over_time.csv")).unwrap();
    let last = res.lines().rfind(|l| l.starts_with("acking,")).unwrap();
    assert!(last.ends_with(",60000"), "{last}");
    assert!(svg(&files, "results_over_time.svg").contains("cumulative"));
}

#[test]
fn legends_sit_right_of_the_plot_never_on_the_data() {
    let files = comparison(true);
    for (chart, key) in [
        ("latency_percentiles.svg", "acking"),
        ("latency_cdf.svg", "acking"),
        ("throughput.svg", "streaming"),
        ("timeline.svg", "checkpoint (trigger → complete)"),
    ] {
        let s = svg(&files, chart);
        let (_, x1, _, _) = plot_area(s);
        let legend: Vec<_> = texts(s).into_iter().filter(|t| t.2 == key).collect();
        assert!(!legend.is_empty(), "{chart}: no legend");
        for t in legend {
            assert!(
                t.0 > x1,
                "{chart}: legend text {t:?} inside the plot (right edge {x1})"
            );
        }
    }
    let sweep = sweep_files(&sweep_report("sources.events.rate")).unwrap();
    let s = svg(&sweep, "latency_vs_throughput.svg");
    let (_, x1, _, _) = plot_area(s);
    for c in elements(s, "circle") {
        let cx = attr(c, "cx").unwrap();
        let label = texts(s)
            .into_iter()
            .find(|t| t.2 == "acking p99")
            .expect("legend");
        // points inside the plot, the legend beside it
        assert!(cx <= x1 + 1.0 || (cx > x1 && cx < label.0), "{c}");
        assert!(label.0 > x1);
    }
}

/// A sweep report over `set` with three values and two modes.
fn sweep_report(set: &str) -> SweepReport {
    let mut points = Vec::new();
    for (i, v) in ["1000", "10000", "100000"].iter().enumerate() {
        for (m, base) in [("streaming", 50.0), ("acking", 0.006)] {
            points.push(SweepPoint {
                mode: m.into(),
                setting: format!("{set}={v}"),
                value: v.to_string(),
                throughput_per_s: 1000.0 * 10f64.powi(i as i32) * 0.99,
                latency_p50_ms: base,
                latency_p99_ms: base * 3.16 * (i + 1) as f64,
                latency_max_ms: base * 4.0 * (i + 1) as f64,
                sink_records: 1000,
                sim_duration_ms: 1000.0,
                status: "finished".into(),
            });
        }
    }
    SweepReport {
        streamlab_version: "test".into(),
        scenario: "s".into(),
        seed: 1,
        set: set.into(),
        values: ["1000", "10000", "100000"].map(String::from).to_vec(),
        invalid: Vec::new(),
        modes: ["streaming", "acking"].map(String::from).to_vec(),
        points,
    }
}

/// The value of a tick label (`2 k`, `0.05`, `1 M`), if it is one.
fn tick_value(t: &str) -> Option<f64> {
    let (num, mul) = match t.split_once(' ') {
        Some((n, "k")) => (n, 1e3),
        Some((n, "M")) => (n, 1e6),
        Some(_) => return None,
        None => (t, 1.0),
    };
    num.parse::<f64>().ok().map(|v| v * mul)
}

#[test]
fn log_axes_tick_at_1_2_5() {
    let files = sweep_files(&sweep_report("sources.events.rate")).unwrap();
    let s = svg(&files, "latency_vs_throughput.svg");
    let ticks: Vec<f64> = texts(s).iter().filter_map(|t| tick_value(&t.2)).collect();
    assert!(ticks.len() >= 6, "{ticks:?}");
    for v in &ticks {
        let m = v / 10f64.powf(v.log10().floor());
        assert!(
            [1.0, 2.0, 5.0, 10.0].iter().any(|k| (m - k).abs() < 1e-6),
            "tick {v} is not 1, 2 or 5 × 10^n: {ticks:?}"
        );
    }
    // the CDF's latency axis too
    let files = comparison(true);
    let s = svg(&files, "latency_cdf.svg");
    let (_, _, _, y1) = plot_area(s);
    let below: Vec<f64> = texts(s)
        .iter()
        .filter(|t| t.1 > y1)
        .filter_map(|t| tick_value(&t.2))
        .collect();
    assert!(below.len() >= 3, "{below:?}");
    for v in below {
        let m = v / 10f64.powf(v.log10().floor());
        assert!(
            [1.0, 2.0, 5.0, 10.0].iter().any(|k| (m - k).abs() < 1e-6),
            "{v}"
        );
    }
}

#[test]
fn a_job_without_event_time_gets_no_watermark_chart() {
    let files = comparison(false);
    let names: Vec<&String> = files.iter().map(|f| &f.0).collect();
    assert!(
        !names.iter().any(|n| n.starts_with("watermark_lag")),
        "{names:?}"
    );
    let html = std::str::from_utf8(file(&files, "report.html")).unwrap();
    assert!(!html.contains("watermark_lag") && !html.contains("(no data)"));
    // with event time it is there
    let files = comparison(true);
    assert!(files.iter().any(|f| f.0 == "watermark_lag.svg"));
}

#[test]
fn a_sweep_of_another_setting_puts_that_setting_on_the_x_axis() {
    let files = sweep_files(&sweep_report("job.parallelism")).unwrap();
    let names: Vec<&String> = files.iter().map(|f| &f.0).collect();
    assert!(
        !names.iter().any(|n| n.starts_with("latency_vs_throughput")),
        "{names:?}"
    );
    for chart in ["latency_vs_setting.svg", "throughput_vs_setting.svg"] {
        let s = svg(&files, chart);
        let (_, _, _, y1) = plot_area(s);
        let x_labels: Vec<String> = texts(s)
            .into_iter()
            .filter(|t| t.1 > y1 && t.1 < y1 + 30.0)
            .map(|t| t.2)
            .collect();
        assert_eq!(x_labels, ["1000", "10000", "100000"], "{chart}");
        assert!(
            texts(s).iter().any(|t| t.2.contains("job.parallelism")),
            "{chart}"
        );
    }
    let html = std::str::from_utf8(file(&files, "report.html")).unwrap();
    assert!(html.contains("Latency against job.parallelism"));
    assert!(html.contains("Throughput against job.parallelism"));
}

#[test]
fn wrong_counts_after_lost_state_are_wrong_results_not_duplicates() {
    let files = comparison(true);
    let s = svg(&files, "correctness.svg");
    let t: Vec<String> = texts(s).into_iter().map(|t| t.2).collect();
    assert!(t.iter().any(|x| x == "wrong results"), "{t:?}");
    assert!(t.iter().any(|x| x == "100"), "{t:?}");
    let csv = std::str::from_utf8(file(&files, "correctness.csv")).unwrap();
    assert!(csv.contains("\nacking,60000,0,0,0,100"), "{csv}");
    let html = std::str::from_utf8(file(&files, "report.html")).unwrap();
    assert!(html.contains("<th>wrong results</th>"));
}
