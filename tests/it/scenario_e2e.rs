//! Dedicated end-to-end checks of three bundled scenarios: what each one's page under
//! `docs/scenarios/` says the run shows, with the figures of the run.

use crate::util::root;
use serde_json::{Value, json};
use streamlab_engine::check;
use streamlab_engine::oracle;
use streamlab_engine::plan::{Plan, plan};
use streamlab_engine::report::{RunReport, SinkReport, Status};
use streamlab_engine::scenario::Partitioner;
use streamlab_engine::sim::RunOptions;

/// A bundled scenario's text with each `from` replaced by `to` (each must occur).
fn text_of(file: &str, edits: &[(&str, &str)]) -> String {
    let mut text = std::fs::read_to_string(root().join("scenarios").join(file)).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "{from:?} in {file}");
        text = text.replace(from, to);
    }
    text
}

/// Plans and runs a scenario text with its own seed.
fn run(file: &str, edits: &[(&str, &str)]) -> (RunReport, Plan) {
    let s = check::parse_str(file, &text_of(file, edits), None)
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    let p = plan(&s).unwrap_or_else(|e| panic!("{file}: {e}"));
    let out = oracle::run(
        &s,
        &p,
        RunOptions {
            seed: None,
            trace: None,
            hash_trace: false,
            ..Default::default()
        },
    )
    .expect("no I/O");
    assert_eq!(
        out.report.outcome.status,
        Status::Finished,
        "{file}: {:?}",
        out.report.outcome.message
    );
    (out.report, p)
}

fn sink<'a>(r: &'a RunReport, name: &str) -> &'a SinkReport {
    r.sinks
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no sink {name}"))
}

fn op<'a>(r: &'a RunReport, name: &str) -> &'a streamlab_engine::report::OperatorReport {
    r.operators
        .iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("no operator {name}"))
}

/// A sink's rows as a sorted list (arrival order differs between runs with and without
/// faults, and between subtasks).
fn sorted_rows(s: &SinkReport) -> Vec<String> {
    let mut v: Vec<String> = s
        .rows
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    v.sort();
    v
}

fn close(got: f64, want: f64, tol: f64) -> bool {
    (got - want).abs() <= tol
}

// ---------------------------------------------------------------- tm_crash_recovery

const ALL_ROWS: (&str, &str) = ("capture = 5", "capture = 100000");
const NO_FAULT: (&str, &str) = (
    "[[fault]]\nkind = \"kill_task_manager\"\ntask_manager = 1\nat = \"12 s\"\nreplacement_delay = \"10 s\"\n",
    "",
);

#[test]
fn tm_crash_recovery_restores_checkpoint_4_after_10_s_and_gives_the_fault_free_windows_later() {
    let (crash, _) = run("tm_crash_recovery.toml", &[ALL_ROWS]);
    let (clean, _) = run("tm_crash_recovery.toml", &[ALL_ROWS, NO_FAULT]);

    // Failure: TaskManager 1 at 12 s, every task restarted, down for the replacement time.
    assert_eq!(clean.failures.len(), 0, "the variant has no fault");
    assert_eq!(crash.failures.len(), 1, "{:?}", crash.failures);
    let f = &crash.failures[0];
    assert_eq!(f.at_ms, 12_000.0);
    assert_eq!(f.cause, "TaskManager 1 lost");
    assert_eq!(f.tasks_restarted, 8, "4 source and 4 window tasks");
    assert_eq!(f.downtime_ms, Some(10_000.0), "the replacement delay");
    // Checkpoints every 3 s complete at 2.866, 5.866, 8.866, 11.866 s: the last one before
    // the crash is 4.
    assert_eq!(f.restored_checkpoint, Some(4));
    let done_before: Vec<u64> = crash
        .checkpoints
        .iter()
        .filter(|c| c.completed_ms.is_some_and(|t| t < 12_000.0))
        .map(|c| c.id)
        .collect();
    assert_eq!(done_before, [1, 2, 3, 4]);
    // No checkpoint is taken while the job is down (12 s .. 22 s).
    assert!(
        crash
            .checkpoints
            .iter()
            .all(|c| !(12_000.0..22_000.0).contains(&c.trigger_ms)),
        "{:?}",
        crash.checkpoints
    );
    assert!(crash.checkpoints.iter().all(|c| c.outcome == "completed"));

    // Guarantees: exactly the windows of the fault-free run, neither duplicated nor missing.
    let (w, w0) = (sink(&crash, "windows"), sink(&clean, "windows"));
    assert_eq!(w.guarantee, "exactly_once");
    assert_eq!((w.duplicates, w.missing), (Some(0), Some(0)));
    assert_eq!(w.records, 700, "100 sensors × 7 windows");
    assert_eq!(w0.records, 700);
    assert_eq!(w.rows.len(), 700, "every row captured");
    assert_eq!(sorted_rows(w), sorted_rows(w0), "same windows, same sums");
    assert_eq!(w.checksum, w0.checksum, "the checksum agrees");
    // ... but later: the windows open at the crash fire after the 10 s outage.
    assert!(
        w.latency.p99_ms > w0.latency.p99_ms + 5_000.0,
        "p99 {} ms with the crash vs {} ms without",
        w.latency.p99_ms,
        w0.latency.p99_ms
    );
    // Nothing reaches the sink while the job is down; the fault-free run keeps emitting.
    let during = |r: &RunReport| -> u64 {
        let b = r.throughput.bucket_ms;
        r.throughput
            .sink_records
            .iter()
            .enumerate()
            .filter(|(i, _)| (12_000..22_000).contains(&(*i as u64 * b)))
            .map(|(_, n)| n)
            .sum()
    };
    assert_eq!(during(&crash), 0);
    assert!(during(&clean) >= 200, "{}", during(&clean));

    // Watermarks restart from scratch: no replayed reading is late.
    let win = op(&crash, "per_5s")
        .windows
        .as_ref()
        .expect("a window table");
    assert_eq!(
        (win.late_dropped, win.late_firings, win.late_side_output),
        (0, 0, 0)
    );
    assert_eq!(win.fired, 700);
}

#[test]
fn tm_crash_recovery_downtime_is_the_longer_of_the_replacement_time_and_the_restart_delay() {
    let downtime = |replacement: &str| {
        let to = format!("replacement_delay = \"{replacement}\"");
        let (r, _) = run(
            "tm_crash_recovery.toml",
            &[("replacement_delay = \"10 s\"", to.as_str())],
        );
        (r.failures[0].downtime_ms, r.failures[0].restored_checkpoint)
    };
    assert_eq!(downtime("3 s"), (Some(3_000.0), Some(4)));
    // The fixed-delay restart waits 1 s even when the slots come back sooner.
    assert_eq!(downtime("500 ms"), (Some(1_000.0), Some(4)));
}

// ---------------------------------------------------------------- long_ride_alerts

fn rows_json(s: &SinkReport) -> String {
    serde_json::to_string(&s.rows).unwrap()
}

#[test]
fn long_ride_alerts_alerts_rides_2_6_and_the_unfinished_ride_3() {
    let (r, _) = run("long_ride_alerts.toml", &[]);
    let p = op(&r, "too_long");
    assert_eq!((p.records_in, p.records_out), (15, 3));
    assert!(
        p.windows.is_none(),
        "no window table: the timers are the function's own"
    );
    let alerts = sink(&r, "alerts");
    assert_eq!(alerts.fields, ["ride", "started_at"]);
    // Subtask 0's rows first: ride 6, then subtask 1's rides 2 and 3.
    assert_eq!(
        alerts.rows,
        vec![
            vec![json!(6), json!(5_000_000)],
            vec![json!(2), json!(600_000)],
            vec![json!(3), json!(1_200_000)],
        ]
    );
    // Alerts decided by an END take the 100 ms buffer timeout of the rides → too_long hop.
    assert!(
        close(alerts.latency.p50_ms, 100.0, 0.1),
        "{}",
        alerts.latency.p50_ms
    );
    // Ride 3's alert comes from its timer, when the watermark passes 8 400 000: at 0.6 s,
    // after ride 7's START (read at 0.45 s) takes the watermark to 8 899 999.
    assert!(close(alerts.last_ms, 600.0, 0.1), "{}", alerts.last_ms);
    // Its latency counts from the birth of ride 3's latest record (its START, read at
    // 0.1 s), so it shows 500 ms, as docs/scenarios/long_ride_alerts.md says.
    assert!(
        close(alerts.latency.max_ms, 500.0, 1.0),
        "{}",
        alerts.latency.max_ms
    );
    // Almost four hours of rides in 0.7 s of processing time.
    assert!(
        close(r.sim_duration_ms, 700.0, 1.0),
        "{}",
        r.sim_duration_ms
    );
}

#[test]
fn long_ride_alerts_variants_of_the_page_behave_as_it_says() {
    // A 90 min timeout: ride 5 (117 minutes) raises a fourth alert.
    let (r, _) = run(
        "long_ride_alerts.toml",
        &[("timeout = \"2 h\"", "timeout = \"90 min\"")],
    );
    let mut got = sorted_rows(sink(&r, "alerts"));
    got.sort();
    assert_eq!(
        got,
        ["[2,600000]", "[3,1200000]", "[5,4000000]", "[6,5000000]"]
    );

    // Without ride 6's END its alert comes from its timer at 5 000 000 + 2 h = 12 200 000,
    // once an event after 12 800 000 (ride 8's START) moves the watermark past it.
    let (r, _) = run(
        "long_ride_alerts.toml",
        &[(
            "  { ride = 6, is_start = false, ts = 12_300_000 },  # 122 min: too long\n",
            "",
        )],
    );
    let alerts = sink(&r, "alerts");
    assert_eq!(op(&r, "too_long").records_in, 14);
    assert_eq!(
        sorted_rows(alerts),
        ["[2,600000]", "[3,1200000]", "[6,5000000]"],
        "{}",
        rows_json(alerts)
    );
    // It waits for the watermark that ride 8's START brings: later than ride 3's timer
    // alert (0.6 s), the last one of the original run.
    assert!(alerts.last_ms > 650.0, "{}", alerts.last_ms);
}

// ---------------------------------------------------------------- window_join

fn pairs(s: &SinkReport) -> Vec<(String, i64, i64, String)> {
    let mut v: Vec<_> = s
        .rows
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().to_string(),
                r[1].as_i64().unwrap(),
                r[2].as_i64().unwrap(),
                r[3].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn pair(ad: &str, shown: i64, clicked: i64, user: &str) -> (String, i64, i64, String) {
    (ad.to_string(), shown, clicked, user.to_string())
}

#[test]
fn window_join_finds_4_pairs_within_windows_and_the_interval_join_5_across_them() {
    let (r, p) = run("window_join.toml", &[]);
    let w = sink(&r, "window_pairs");
    let i = sink(&r, "interval_pairs");
    assert_eq!(w.fields, ["ad", "shown", "clicked", "user"]);
    assert_eq!(
        pairs(w),
        [
            pair("hats", 12_000, 12_500, "cy"),
            pair("shoes", 1_000, 3_000, "ann"),
            pair("shoes", 8_000, 3_000, "ann"),
            pair("socks", 25_000, 26_000, "eve"),
        ]
    );
    assert_eq!(
        pairs(i),
        [
            pair("hats", 12_000, 12_500, "cy"),
            pair("shoes", 1_000, 3_000, "ann"),
            pair("shoes", 19_000, 21_000, "dee"),
            pair("socks", 9_500, 11_000, "bob"),
            pair("socks", 25_000, 26_000, "eve"),
        ]
    );
    // The Windows table lists both joins, nothing late.
    for (name, fired) in [("same_window", 4), ("within_10s", 5)] {
        let win = op(&r, name).windows.as_ref().expect("window table");
        assert_eq!(win.fired, fired, "{name}");
        assert_eq!(
            (win.late_dropped, win.late_firings, win.late_side_output),
            (0, 0, 0),
            "{name}"
        );
        assert_eq!(
            op(&r, name).records_in,
            12,
            "{name}: 7 impressions + 5 clicks"
        );
    }
    // The interval join emits as soon as both records are there (100 ms buffer timeout);
    // the window join only when both watermarks pass a window: all four at 0.6 s.
    assert!(close(i.latency.p99_ms, 100.0, 0.1), "{}", i.latency.p99_ms);
    assert!(close(i.first_ms, 100.0, 0.1), "{}", i.first_ms);
    assert!(close(w.first_ms, 600.0, 0.1), "{}", w.first_ms);
    assert!(close(w.last_ms, 600.0, 0.1), "{}", w.last_ms);
    assert!(close(w.latency.p50_ms, 200.0, 0.1), "{}", w.latency.p50_ms);
    assert!(close(w.latency.p99_ms, 600.0, 1.0), "{}", w.latency.p99_ms);
    // Each join subtask reads two channels, one per source.
    for t in r.tasks.iter().filter(|t| t.chain.contains("same_window")) {
        let mut from: Vec<&str> = t
            .channel_watermarks
            .iter()
            .map(|c| c.from.as_str())
            .collect();
        from.sort();
        assert_eq!(
            from,
            ["Source: clicks #0", "Source: impressions #0"],
            "{}",
            t.chain
        );
    }

    // The plan: HASH edges into each join (no chaining to the sources), each join chained
    // to its sink.
    let chains: Vec<&str> = p
        .execution
        .vertices
        .iter()
        .map(|v| v.name.as_str())
        .collect();
    for want in [
        "Source: impressions",
        "Source: clicks",
        "same_window -> Sink: window_pairs",
        "within_10s -> Sink: interval_pairs",
    ] {
        assert!(chains.contains(&want), "{want} in {chains:?}");
    }
    assert_eq!(chains.len(), 4, "{chains:?}");
    assert_eq!(p.execution.edges.len(), 4);
    assert!(
        p.execution
            .edges
            .iter()
            .all(|e| matches!(e.partitioner, Partitioner::Hash)),
        "{:?}",
        p.execution.edges
    );
}

#[test]
fn window_join_variants_of_the_page_behave_as_it_says() {
    // A 30 s window: every impression with every click of the same ad.
    let (r, _) = run(
        "window_join.toml",
        &[(
            "window = { type = \"tumbling\", size = \"10 s\" }",
            "window = { type = \"tumbling\", size = \"30 s\" }",
        )],
    );
    let w = pairs(sink(&r, "window_pairs"));
    let i = pairs(sink(&r, "interval_pairs"));
    // impressions: shoes×3, hats×2, socks×2; clicks: shoes×2, hats×1, socks×2
    assert_eq!(w.len(), 3 * 2 + 2 + 2 * 2, "{w:?}");
    assert!(i.iter().all(|p| w.contains(p)), "{w:?} ⊇ {i:?}");

    // lower = -5 s: ann's click at 3 000 also pairs with the impression at 8 000.
    let (r, _) = run(
        "window_join.toml",
        &[("lower = \"0 ms\"", "lower = \"-5 s\"")],
    );
    let i = pairs(sink(&r, "interval_pairs"));
    assert_eq!(i.len(), 6, "{i:?}");
    assert!(i.contains(&pair("shoes", 8_000, 3_000, "ann")), "{i:?}");
}

/// The pages' figures for the three scenarios match the CLI's JSON report too.
#[test]
fn the_three_scenarios_report_the_same_through_the_cli() {
    for (file, sink_name, records) in [
        ("tm_crash_recovery.toml", "windows", 700),
        ("long_ride_alerts.toml", "alerts", 3),
        ("window_join.toml", "window_pairs", 4),
    ] {
        let dir = crate::util::scratch(&format!("e2e-{file}"));
        let json_path = dir.join("r.json");
        let path = format!("scenarios/{file}");
        let out =
            crate::util::streamlab(&["run", &path, "-q", "--json", json_path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{file}");
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
        let s = v["sinks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == sink_name)
            .unwrap();
        assert_eq!(s["records"], records, "{file}");
        let (lib, _) = run(file, &[]);
        assert_eq!(
            s["checksum"],
            sink(&lib, sink_name).checksum.as_str(),
            "{file}"
        );
    }
}
