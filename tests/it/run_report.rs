//! `run --out DIR`: the run's report page. Its DOM contract (the browser test relies on it)
//! is checked against the run's own trace and report: one lane per subtask, barrier ticks
//! adding up to the snapshots, one failure mark per failure, firing marks adding up to the
//! windows fired; every mark says what it is. The page is the same for the same seed, the
//! trace does not change when the report is written too, and an output directory that cannot
//! be written is bad input.

use crate::assert_run;
use crate::util::{scratch, streamlab};
use std::path::Path;

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// One drawn mark: its `data-count` (1 when absent), `data-tip` and `<title>` texts.
#[derive(Debug)]
struct Mark {
    count: u64,
    tip: String,
    title: String,
}

/// The value of attribute `name` in the tag text `tag`.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    Some(&tag[i..i + tag[i..].find('"')?])
}

/// Every element with class `mark KIND` (exactly: `mark barrier` is not `mark barrier-x`).
fn marks(html: &str, kind: &str) -> Vec<Mark> {
    let needle = format!("class=\"mark {kind}\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &html[i..];
            let tag = &rest[..rest.find('>').expect("a closed tag")];
            let after = &rest[tag.len() + 1..];
            assert!(
                after.starts_with("<title>"),
                "a mark's first child is its title: {tag}"
            );
            let title = &after[7..after.find("</title>").expect("a closed title")];
            Mark {
                count: attr(tag, "data-count").map_or(1, |c| c.parse().expect("a number")),
                tip: attr(tag, "data-tip")
                    .expect("every mark has data-tip")
                    .to_string(),
                title: title.to_string(),
            }
        })
        .collect()
}

fn sum(m: &[Mark]) -> u64 {
    m.iter().map(|m| m.count).sum()
}

/// Lines of the trace whose event is `event`.
fn trace_count(trace: &str, event: &str) -> u64 {
    let needle = format!("\"event\":\"{event}\"");
    trace.lines().filter(|l| l.contains(&needle)).count() as u64
}

/// The `data-task` of every lane, in order.
fn lanes(html: &str) -> Vec<String> {
    html.split("<g class=\"lane\" data-task=\"")
        .skip(1)
        .map(|s| {
            s[..s.find('"').unwrap()]
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        })
        .collect()
}

/// Runs `scenario` with `--out`, `--trace` and `--json` into a scratch directory; returns
/// the page, the trace and the report.
fn run_with_report(name: &str, scenario: &str) -> (String, String, serde_json::Value) {
    let dir = scratch(&format!("run-report-{name}"));
    let (out, trace, json) = (dir.join("out"), dir.join("t.jsonl"), dir.join("r.json"));
    let o = streamlab(&[
        "run",
        scenario,
        "-q",
        "--out",
        &out.display().to_string(),
        "--trace",
        &trace.display().to_string(),
        "--json",
        &json.display().to_string(),
    ]);
    assert_run!(o, exit = 0, "report.html");
    let report = serde_json::from_str(&read(&json)).unwrap();
    let in_dir: serde_json::Value = serde_json::from_str(&read(&out.join("report.json"))).unwrap();
    assert_eq!(in_dir, report, "report.json in DIR is the run's report");
    for f in [
        "space_time.svg",
        "latency_cdf.svg",
        "latency_cdf.png",
        "subtasks.csv",
    ] {
        assert!(out.join(f).is_file(), "{f} written");
    }
    (read(&out.join("report.html")), read(&trace), report)
}

/// The contract counts of one scenario's page against its trace and report.
fn assert_contract(scenario: &str) -> (String, String, serde_json::Value) {
    let name = Path::new(scenario).file_stem().unwrap().to_str().unwrap();
    let (html, trace, report) = run_with_report(name, scenario);
    assert_eq!(html.matches("<svg id=\"space-time\"").count(), 1);
    let tasks: Vec<String> = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| format!("{} #{}", t["chain"].as_str().unwrap(), t["subtask"]))
        .collect();
    let mut got = lanes(&html);
    let mut want = tasks.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want, "{name}: one lane per subtask");
    let barriers = marks(&html, "barrier");
    assert_eq!(
        sum(&barriers),
        trace_count(&trace, "snapshot"),
        "{name}: barriers"
    );
    let failures = report["failures"].as_array().map_or(0, |f| f.len());
    assert_eq!(marks(&html, "failure").len(), failures, "{name}: failures");
    assert_eq!(
        sum(&marks(&html, "fire")),
        trace_count(&trace, "window_fired"),
        "{name}: firings"
    );
    for kind in [
        "barrier",
        "fire",
        "buffer",
        "watermark",
        "failure",
        "downtime",
        "restore",
    ] {
        for m in marks(&html, kind) {
            assert!(
                !m.tip.is_empty() && m.tip == m.title,
                "{name} {kind}: {m:?}"
            );
        }
    }
    for needle in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(
            !html.contains(needle),
            "{name}: no external resource ({needle})"
        );
    }
    for id in [
        "<section id=\"event-time\">",
        "<section id=\"subtasks\">",
        "<div id=\"tip\"",
    ] {
        assert!(html.contains(id), "{name}: {id}");
    }
    (html, trace, report)
}

#[test]
fn tm_crash_recovery_shows_the_loss_the_downtime_the_restore_and_the_replay() {
    let (html, trace, _) = assert_contract("scenarios/tm_crash_recovery.toml");
    let f = marks(&html, "failure");
    assert_eq!(f.len(), 1);
    assert!(f[0].tip.contains("TaskManager 1 lost"), "{}", f[0].tip);
    let down = marks(&html, "downtime");
    assert_eq!(down.len(), 1);
    assert!(
        down[0].tip.contains("from 12.000 s to 22.000 s"),
        "{}",
        down[0].tip
    );
    // the four subtasks of TaskManager 1 are marked lost
    assert_eq!(marks(&html, "lost").len(), 4);
    let restores = marks(&html, "restore");
    assert_eq!(sum(&restores), trace_count(&trace, "restore"));
    assert!(
        restores.iter().all(|r| r.tip.contains("checkpoint 4")),
        "{restores:?}"
    );
    let replays = marks(&html, "replay");
    assert_eq!(replays.len(), 4, "each restored source replays");
    assert!(
        replays[0].tip.contains("154 records read again"),
        "{}",
        replays[0].tip
    );
    assert_eq!(sum(&marks(&html, "commit")), trace_count(&trace, "commit"));
    assert!(!marks(&html, "restart").is_empty());
    // a firing's tip names the explain question that says why; it runs and answers
    let fire = &marks(&html, "fire")[0];
    let ask = fire.tip.split(" — why: streamlab ").nth(1).expect("a why");
    let args: Vec<&str> = ask.split_whitespace().collect();
    assert_eq!(
        args[..4],
        ["explain", "scenarios/tm_crash_recovery.toml", "--seed", "5"]
    );
    assert_run!(streamlab(&args), exit = 0, "It fired at");
}

#[test]
fn late_data_marks_its_late_elements() {
    let (html, trace, _) = assert_contract("scenarios/late_data.toml");
    let late = marks(&html, "late");
    assert_eq!(sum(&late), trace_count(&trace, "late_record"));
    assert!(
        late.iter().all(|m| m.tip.contains("side output")),
        "{late:?}"
    );
    // The event-time diagram of its window operator: every record a dot, the three late ones
    // as records sent to the side output.
    assert_eq!(
        html.matches("class=\"event-time\" data-operator=\"sales_5s\"")
            .count(),
        1
    );
    assert_eq!(html.matches("class=\"dot late-side\"").count(), 3);
    assert_eq!(html.matches("class=\"dot on-time\"").count(), 18);
}

#[test]
fn unaligned_under_backpressure_hatches_the_backpressure_and_draws_unaligned_barriers() {
    let (html, trace, _) = assert_contract("scenarios/unaligned_under_backpressure.toml");
    assert_eq!(
        sum(&marks(&html, "backpressure")),
        trace_count(&trace, "backpressure_start")
    );
    assert_eq!(
        sum(&marks(&html, "unaligned")),
        trace_count(&trace, "unaligned_barrier")
    );
}

#[test]
fn exactly_once_vs_at_least_once_draws_buffers_and_commits() {
    let (html, trace, _) = assert_contract("scenarios/exactly_once_vs_at_least_once.toml");
    assert_eq!(sum(&marks(&html, "buffer")), trace_count(&trace, "buffer"));
    assert_eq!(sum(&marks(&html, "commit")), trace_count(&trace, "commit"));
    assert_eq!(
        sum(&marks(&html, "alignment")),
        trace_count(&trace, "alignment_done")
    );
}

#[test]
fn the_report_is_byte_identical_for_the_same_seed_and_leaves_the_trace_as_it_was() {
    let dir = scratch("run-report-determinism");
    let run = |sub: &str, out: bool| {
        let trace = dir.join(format!("{sub}.jsonl"));
        let mut args = vec![
            "run".to_string(),
            "scenarios/exactly_once_vs_at_least_once.toml".into(),
            "-q".into(),
            "--trace".into(),
            trace.display().to_string(),
        ];
        if out {
            args.extend(["--out".into(), dir.join(sub).display().to_string()]);
        }
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_run!(streamlab(&a), exit = 0, "");
        std::fs::read(trace).unwrap()
    };
    let ta = run("a", true);
    let tb = run("b", true);
    let plain = run("plain", false);
    assert_eq!(ta, plain, "writing the report does not change the trace");
    assert_eq!(ta, tb);
    let mut names: Vec<_> = std::fs::read_dir(dir.join("a"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert!(names.len() > 10, "{names:?}");
    for n in names {
        assert_eq!(
            std::fs::read(dir.join("a").join(&n)).unwrap(),
            std::fs::read(dir.join("b").join(&n)).unwrap(),
            "{n:?} differs between two runs with the same seed"
        );
    }
}

#[test]
fn an_output_directory_that_cannot_be_written_is_bad_input() {
    let dir = scratch("run-report-unwritable");
    let file = dir.join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let bad = file.join("report");
    let o = streamlab(&[
        "run",
        "scenarios/wordcount.toml",
        "--out",
        &bad.display().to_string(),
    ]);
    assert_run!(o, exit = 2, "cannot create the output directory");
    assert!(o.stdout.is_empty(), "nothing ran: no summary printed");
}
