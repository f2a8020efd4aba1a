//! `compare` and `sweep`: the files they write, the charts in them, the HTML page, and every
//! kind of bad input.

use crate::assert_run;
use crate::util::{scratch, streamlab, texts};
use std::path::Path;

const MODES: [&str; 4] = ["streaming", "micro-batch", "batch", "acking"];
const CHARTS: [&str; 6] = [
    "latency_cdf",
    "latency_percentiles",
    "throughput",
    "watermark_lag",
    "timeline",
    "correctness",
];

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The texts of an SVG's `<text>` elements.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_string())
        })
        .collect()
}

/// The stroke colours of an SVG's polylines (the series of a line chart).
fn polyline_colors(svg: &str) -> Vec<String> {
    svg.split("<polyline")
        .skip(1)
        .filter_map(|t| {
            let i = t.find("stroke=\"")? + 8;
            Some(t[i..i + 7].to_lowercase())
        })
        .collect()
}

fn compare(dir: &Path, file: &str) -> std::process::Output {
    streamlab(&[
        "compare",
        file,
        "--modes",
        "streaming,micro-batch,batch,acking",
        "--out",
        &dir.display().to_string(),
    ])
}

#[test]
fn compare_writes_the_report_csvs_charts_and_an_offline_html_page() {
    let dir = scratch("compare");
    let out = compare(&dir, "scenarios/streaming_vs_microbatch.toml");
    assert_run!(out, exit = 0, "micro-batch", "acking", "report.html");
    let report: serde_json::Value = serde_json::from_str(&read(&dir.join("report.json"))).unwrap();
    let runs = report["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4);
    for (r, m) in runs.iter().zip(MODES) {
        assert_eq!(r["mode"], m);
        assert_eq!(r["report"]["mode"], m);
        assert_eq!(r["report"]["sink_records"], 120, "{m}");
    }
    // every mode computed the same windows (same checksum)
    let sums: Vec<&serde_json::Value> = runs
        .iter()
        .map(|r| &r["report"]["sinks"][0]["checksum"])
        .collect();
    assert!(sums.iter().all(|c| *c == sums[0]), "{sums:?}");
    csvs_have_every_mode(&dir);
    charts_show_every_mode_with_units(&dir);
    the_page_is_offline_and_shows_every_chart(&dir);
    // no staging left behind
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Every CSV of a compare report has rows of every mode (batch has no watermark lag).
fn csvs_have_every_mode(dir: &std::path::Path) {
    for csv in [
        "latency_cdf",
        "throughput",
        "watermark_lag",
        "latency_percentiles",
        "timeline",
        "correctness",
    ] {
        let text = read(&dir.join(format!("{csv}.csv")));
        for m in MODES {
            // batch sees only the final watermark: no lag to draw
            if !(csv == "watermark_lag" && m == "batch") {
                assert!(text.contains(&format!("\n{m},")), "{csv}.csv lacks {m}");
            }
        }
    }
}

/// Every chart is an SVG with a title and every mode, and a PNG beside it; line charts draw
/// one series per mode in the mode's colour, on axes labelled with units.
fn charts_show_every_mode_with_units(dir: &std::path::Path) {
    for chart in CHARTS {
        let svg = read(&dir.join(format!("{chart}.svg")));
        assert!(svg.starts_with("<svg") || svg.contains("<svg"), "{chart}");
        let texts = svg_texts(&svg);
        // a title and, in the legend or the table, every mode
        assert!(texts.len() > 5, "{chart}: {texts:?}");
        for m in MODES {
            assert!(
                texts.iter().any(|t| t.contains(m)),
                "{chart}: no {m} in {texts:?}"
            );
        }
        let png = std::fs::read(dir.join(format!("{chart}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{chart}.png is a PNG");
    }
    // line charts: one series per mode, in the mode's colour; axes labelled with units
    let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"];
    for chart in ["latency_cdf", "throughput", "watermark_lag"] {
        let svg = read(&dir.join(format!("{chart}.svg")));
        let lines = polyline_colors(&svg);
        for c in colors {
            if chart == "watermark_lag" && c == "#2ca02c" {
                continue;
            }
            assert!(
                lines.iter().any(|l| l == c),
                "{chart}: no series in {c}: {lines:?}"
            );
        }
        let texts = svg_texts(&svg);
        assert!(
            texts.iter().any(|t| t.contains("(ms")),
            "{chart}: {texts:?}"
        );
    }
    let lag = svg_texts(&read(&dir.join("watermark_lag.svg")));
    assert!(lag.iter().any(|t| t == "batch (no data)"), "{lag:?}");
    let cdf = svg_texts(&read(&dir.join("latency_cdf.svg")));
    assert!(
        cdf.iter().any(|t| t == "Latency distribution (CDF)"),
        "{cdf:?}"
    );
    assert!(
        cdf.iter().any(|t| t.contains("fraction of records")),
        "{cdf:?}"
    );
    let tp = svg_texts(&read(&dir.join("throughput.svg")));
    assert!(tp.iter().any(|t| t.contains("records/s")), "{tp:?}");
    // the correctness table says "none" where nothing failed
    let cor = svg_texts(&read(&dir.join("correctness.svg")));
    assert!(cor.iter().any(|t| t == "none"), "{cor:?}");
}

/// The HTML page opens on its own, shows and links every chart, loads nothing from the
/// network, and draws the plan with TaskManagers, slots, chains and partitioners.
fn the_page_is_offline_and_shows_every_chart(dir: &std::path::Path) {
    // the HTML page: opens on its own, shows every chart, needs no network
    let html = read(&dir.join("report.html"));
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    for chart in CHARTS {
        assert!(
            html.contains(&format!("id=\"{chart}\"")),
            "{chart} not in the page"
        );
        assert!(
            html.contains(&format!("href=\"{chart}.png\"")),
            "{chart}.png not linked"
        );
        assert!(dir.join(format!("{chart}.svg")).exists());
    }
    for net in [
        "src=\"http",
        "href=\"http",
        "url(http",
        "<script",
        "<link",
        "@import",
    ] {
        assert!(!html.contains(net), "the page must not load `{net}`");
    }
    assert!(html.contains("class=\"task-manager\"") && html.contains("class=\"slot\""));
    assert!(html.contains("class=\"chain\""));
    assert!(
        html.contains("HASH"),
        "the keyed edge is drawn with its partitioner"
    );
}

#[test]
fn compare_is_deterministic_to_the_byte() {
    let (a, b) = (scratch("det-a"), scratch("det-b"));
    assert_run!(
        compare(&a, "scenarios/storm_acking_duplicates.toml"),
        exit = 0,
        "wrote"
    );
    assert_run!(
        compare(&b, "scenarios/storm_acking_duplicates.toml"),
        exit = 0,
        "wrote"
    );
    let listing = |d: &std::path::Path| -> Vec<String> {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    let mut names: Vec<String> = listing(&a)
        .into_iter()
        .filter(|n| n != "streaming")
        .chain(
            listing(&a.join("streaming"))
                .into_iter()
                .map(|n| format!("streaming/{n}")),
        )
        .collect();
    names.sort();
    // 20 files of the comparison, and the streaming run's report in streaming/
    assert_eq!(
        names
            .iter()
            .filter(|n| !n.starts_with("streaming/"))
            .count(),
        20,
        "{names:?}"
    );
    assert!(
        names.contains(&"streaming/report.html".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"streaming/space_time.png".to_string()),
        "{names:?}"
    );
    for n in &names {
        assert!(
            std::fs::read(a.join(n)).unwrap() == std::fs::read(b.join(n)).unwrap(),
            "{n} differs between two runs"
        );
    }
    // report.json read back into the typed report (strictly: every field there) gives the
    // same JSON and the same charts, tables and page
    let text = read(&a.join("report.json"));
    let back = streamlab_viz::read_compare_report(&text).expect("report.json reads back");
    let again = serde_json::to_value(&back).unwrap();
    assert_eq!(
        serde_json::to_string_pretty(&again).unwrap() + "\n",
        text,
        "report.json changed on the way back"
    );
    let streaming: Vec<(String, Vec<u8>)> = names
        .iter()
        .filter(|n| n.starts_with("streaming/"))
        .map(|n| (n.clone(), std::fs::read(a.join(n)).unwrap()))
        .collect();
    for (n, bytes) in streamlab_viz::compare_files_drawn(&back, streaming).expect("charts draw") {
        assert!(
            std::fs::read(a.join(&n)).unwrap() == bytes,
            "{n} drawn from report.json read back differs"
        );
    }
}

#[test]
fn a_crash_shows_duplicates_for_acking_and_none_for_micro_batch() {
    let dir = scratch("crash");
    let out = compare(&dir, "scenarios/storm_acking_duplicates.toml");
    assert_run!(out, exit = 0, "duplicates");
    let report: serde_json::Value = serde_json::from_str(&read(&dir.join("report.json"))).unwrap();
    let by = |m: &str| {
        report["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["mode"] == m)
            .unwrap()
            .clone()
    };
    let acking = by("acking");
    let c = &acking["details"]["correctness"][0];
    assert!(c["duplicates"].as_u64().unwrap() > 0, "{c}");
    assert_eq!(c["missing"], 0);
    let mb = by("micro-batch");
    let c = &mb["details"]["correctness"][0];
    assert_eq!(
        (c["duplicates"].as_u64(), c["missing"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(mb["details"]["failures"].as_array().unwrap().len(), 1);
    // streaming takes the same [[fault]] with real checkpoints: restore, no duplicates
    let st = by("streaming");
    let c = &st["details"]["correctness"][0];
    assert_eq!(
        (c["duplicates"].as_u64(), c["missing"].as_u64()),
        (Some(0), Some(0)),
        "{c}"
    );
    let f = &st["details"]["failures"][0];
    assert!(f["restored_checkpoint"].as_u64().is_some(), "{f}");
    assert_eq!(st["report"]["outcome"]["status"], "finished");
    // the timeline draws the downtime band
    let texts = svg_texts(&read(&dir.join("timeline.svg")));
    assert!(texts.iter().any(|t| t.contains("downtime")), "{texts:?}");
    let csv = read(&dir.join("correctness.csv"));
    assert!(csv.contains("\nmicro-batch,36000,0,0,0"), "{csv}");
}

#[test]
fn sweep_draws_latency_against_throughput_for_each_mode() {
    let dir = scratch("sweep");
    let out = streamlab(&[
        "sweep",
        "scenarios/latency_vs_throughput.toml",
        "--set",
        "sources.events.rate=1000,4000,16000",
        "--modes",
        "streaming,micro-batch,acking",
        "--out",
        &dir.display().to_string(),
    ]);
    assert_run!(out, exit = 0, "sources.events.rate=16000");
    let sweep: serde_json::Value = serde_json::from_str(&read(&dir.join("sweep.json"))).unwrap();
    let points = sweep["points"].as_array().unwrap();
    assert_eq!(points.len(), 9);
    for p in points {
        // the achieved throughput follows the rate that was set
        let rate: f64 = p["value"].as_str().unwrap().parse().unwrap();
        let tp = p["throughput_per_s"].as_f64().unwrap();
        assert!((tp - rate).abs() / rate < 0.1, "{p}");
    }
    let svg = read(&dir.join("latency_vs_throughput.svg"));
    let texts = svg_texts(&svg);
    assert!(texts.iter().any(|t| t == "Latency against throughput"));
    assert!(texts.iter().any(|t| t.contains("records per second")));
    for m in ["streaming", "micro-batch", "acking"] {
        assert!(texts.iter().any(|t| t == &format!("{m} p50")), "{texts:?}");
    }
    assert!(!texts.iter().any(|t| t.starts_with("batch ")));
    assert!(polyline_colors(&svg).len() >= 6);
    let html = read(&dir.join("report.html"));
    assert!(html.contains("latency_vs_throughput.png") && !html.contains("<script"));
    assert!(dir.join("latency_vs_throughput.png").exists());
}

#[test]
fn bad_input_to_compare_and_sweep_is_a_clear_error_with_nothing_written() {
    let dir = scratch("bad-compare");
    let out_dir = dir.join("out");
    let o = out_dir.display().to_string();
    let f = "scenarios/streaming_vs_microbatch.toml";
    let out = streamlab(&["compare", f, "--modes", "streaming,spark", "--out", &o]);
    assert_run!(
        out,
        exit = 2,
        "unknown mode `spark`",
        "streaming, micro-batch, batch, acking"
    );
    let sweep = |set: &str| {
        streamlab(&[
            "sweep",
            "scenarios/latency_vs_throughput.toml",
            "--set",
            set,
            "--out",
            &o,
        ])
    };
    assert_run!(
        sweep("sources.evnts.rate=1,2"),
        exit = 2,
        "unknown source `evnts`",
        "sources: events"
    );
    assert_run!(
        sweep("sourcez.events.rate=1"),
        exit = 2,
        "unknown part `sourcez`"
    );
    assert_run!(
        sweep("sources.events.ratez=1"),
        exit = 2,
        "unknown field `ratez`",
        "--set sources.events.ratez=1"
    );
    assert_run!(
        sweep("sources.events.rate"),
        exit = 2,
        "expected PATH=VALUE"
    );
    assert_run!(
        streamlab(&[
            "compare",
            "tests/bad/dstream_interval_zero.toml",
            "--out",
            &o
        ]),
        exit = 2,
        "DStream batch interval of 0"
    );
    assert!(!out_dir.exists(), "nothing may be written on bad input");
    // an output directory that cannot be created: a file is in the way
    let blocker = dir.join("file");
    std::fs::write(&blocker, "x").unwrap();
    let target = blocker.join("out").display().to_string();
    let out = streamlab(&["compare", f, "--out", &target]);
    assert_run!(out, exit = 2, "cannot create the output directory");
    let (so, _) = texts(&out);
    assert!(!so.contains("wrote"), "{so}");
    assert_eq!(std::fs::read_to_string(&blocker).unwrap(), "x");
}

/// One run of a `compare` report.json, by mode.
fn run_of(report: &serde_json::Value, mode: &str) -> serde_json::Value {
    report["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["mode"] == mode)
        .unwrap_or_else(|| panic!("no {mode} run"))
        .clone()
}

#[test]
fn compare_word_count_streaming_prints_a_changelog_and_batch_the_final_counts() {
    let dir = scratch("wordcount-batch");
    let out = streamlab(&[
        "compare",
        "scenarios/wordcount.toml",
        "--modes",
        "streaming,batch",
        "--out",
        &dir.display().to_string(),
    ]);
    assert_run!(out, exit = 0, "streaming", "batch");
    // the table: 5 740 updates in streaming, 170 rows in batch
    let (so, _) = texts(&out);
    let recs = |m: &str| -> Vec<String> {
        let line = so
            .lines()
            .find(|l| l.trim_start().starts_with(m))
            .unwrap_or_else(|| panic!("no {m} line:\n{so}"));
        line.split_whitespace().map(str::to_string).collect()
    };
    assert_eq!(recs("streaming")[2], "5740", "{so}");
    assert_eq!(recs("batch")[2], "170", "{so}");
    let report: serde_json::Value = serde_json::from_str(&read(&dir.join("report.json"))).unwrap();
    let st = &run_of(&report, "streaming")["report"]["sinks"][0];
    let b = &run_of(&report, "batch")["report"]["sinks"][0];
    assert_eq!(st["records"], 5740);
    assert_eq!(b["records"], 170);
    // batch's 170 rows are the streaming job's final upsert table
    assert_eq!(b["rows_total"], st["rows_total"]);
    assert_eq!(b["rows"], st["rows"]);
    assert_eq!(b["rows"][0], serde_json::json!(["the", 440]));
}

#[test]
fn sweep_shows_acking_latency_rising_once_the_acker_falls_behind() {
    let dir = scratch("sweep-acking");
    // the sweep scenario with an acker that takes 20 µs per tuple: it keeps up at 1 000
    // records/s, not at 100 000
    let text = read(&crate::util::root().join("scenarios/latency_vs_throughput.toml"));
    let text = text.replace(
        "[modes.micro_batch]",
        "[modes.acking]\nack_cost = \"20 us\"\n\n[modes.micro_batch]",
    );
    let file = dir.join("slow_acker.toml");
    std::fs::write(&file, text).unwrap();
    let out = streamlab(&[
        "sweep",
        &file.display().to_string(),
        "--set",
        "sources.events.rate=1000,100000",
        "--modes",
        "acking",
        "--out",
        &dir.join("out").display().to_string(),
    ]);
    assert_run!(out, exit = 0, "sources.events.rate=100000");
    let sweep: serde_json::Value =
        serde_json::from_str(&read(&dir.join("out").join("sweep.json"))).unwrap();
    let p99 = |v: &str| -> f64 {
        let p = sweep["points"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["value"] == v)
            .unwrap_or_else(|| panic!("no point {v}: {sweep}"));
        p["latency_p99_ms"]
            .as_f64()
            .unwrap_or_else(|| panic!("{p}"))
    };
    // record at a time: microseconds while the acker keeps up, seconds of backlog after
    assert!(p99("1000") < 1.0, "{sweep}");
    assert!(p99("100000") > 1_000.0, "{sweep}");
}

/// Every file under `dir`, by path relative to it, with its bytes.
fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn compare_and_sweep_write_the_same_on_one_core_as_on_many() {
    // The runs are scheduled costliest first on every core (and compare draws its streaming
    // run beside the other modes); the files must not depend on it.
    let commands: [&[&str]; 2] = [
        &["compare", "scenarios/storm_acking_duplicates.toml"],
        &[
            "sweep",
            "scenarios/latency_vs_throughput.toml",
            "--set",
            "sources.events.rate=1000,16000,4000",
            "--modes",
            "acking,streaming",
        ],
    ];
    for (i, args) in commands.iter().enumerate() {
        let mut written = Vec::new();
        for threads in ["1", "4"] {
            let dir = scratch(&format!("cores-{i}-{threads}"));
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_streamlab"))
                .args(*args)
                .args(["--out", &dir.display().to_string()])
                .env("RAYON_NUM_THREADS", threads)
                .current_dir(crate::util::root())
                .output()
                .unwrap();
            assert_run!(out, exit = 0, "wrote");
            written.push(files_under(&dir));
        }
        assert!(
            written[0].len() >= 4,
            "{args:?}: {} files",
            written[0].len()
        );
        let names = |w: &[(String, Vec<u8>)]| w.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
        assert_eq!(names(&written[0]), names(&written[1]), "{args:?}");
        for (a, b) in written[0].iter().zip(&written[1]) {
            assert!(a.1 == b.1, "{args:?}: {} differs", a.0);
        }
    }
}
