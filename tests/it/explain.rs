//! `streamlab explain`: the questions of issue 13 as a person asks them.

use crate::assert_run;
use crate::util::{scratch, streamlab, texts};

#[test]
fn a_window_held_back_by_an_idle_partition_names_it_and_suggests_idleness() {
    assert_run!(
        streamlab(&[
            "explain",
            "scenarios/idle_source.toml",
            "--window",
            "max_10s",
            "--key",
            "s1",
            "--start",
            "0",
        ]),
        exit = 0,
        "It fired at 30.000 s in max_10s #1",
        "The last channel to pass 9999 was Source: readings #1 → max_10s #1 at 30.000 s",
        "before that it was at −∞",
        "Source: readings #1 reads partition 1 of `readings`",
        "which has no data",
        "the window waited 17.700 s for Source: readings #1",
        "set `idleness` in the watermarks of source `readings`",
    );
}

#[test]
fn with_idleness_the_same_window_fires_on_the_busy_partition_alone() {
    assert_run!(
        streamlab(&[
            "explain",
            "scenarios/idle_source.toml",
            "--window",
            "max_10s_idleness",
            "--key",
            "s1",
            "--start",
            "0",
        ]),
        exit = 0,
        "It fired at 12.300 s in max_10s_idleness #1, when the subtask's watermark reached 10999 ≥ end − 1 = 9999.",
        "Source: readings_idleness #1 → max_10s_idleness #1: idle (left out)",
        "The last channel to pass 9999 was Source: readings_idleness #0 → max_10s_idleness #1 at 12.300 s",
        "it declares itself idle after 3 s without records",
        "it is record 6 of Source: readings_idleness #0",
    );
    let (out, _) = texts(&streamlab(&[
        "explain",
        "scenarios/idle_source.toml",
        "--window",
        "max_10s_idleness",
        "--key",
        "s1",
        "--start",
        "0",
    ]));
    assert!(!out.contains("To change it"), "{out}");
}

#[test]
fn a_window_without_elements_never_existed_and_json_says_so() {
    let o = streamlab(&[
        "explain",
        "scenarios/idle_source.toml",
        "--window",
        "max_10s",
        "--key",
        "s1",
        "--start",
        "40000",
        "--json",
    ]);
    let (out, err) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("--json prints JSON");
    assert_eq!(v["data"]["fired"], false);
    assert_eq!(v["data"]["existed"], false);
    assert_eq!(
        v["data"]["windows_of_key"],
        serde_json::json!(["0", "10000", "20000"])
    );
}

#[test]
fn an_unknown_window_operator_lists_the_window_operators() {
    assert_run!(
        streamlab(&[
            "explain",
            "scenarios/idle_source.toml",
            "--window",
            "readings",
            "--key",
            "s1",
            "--start",
            "0",
        ]),
        exit = 2,
        "`readings` is not a window operator of this job; its window operators: max_10s, max_10s_idleness",
    );
}

#[test]
fn the_bottleneck_of_the_backpressure_scenario_is_the_slow_sink() {
    assert_run!(
        streamlab(&["explain", "scenarios/backpressure.toml", "--bottleneck"]),
        exit = 0,
        "The bottleneck is Sink: slow_db #0: busy 100% of the time and not backpressured, while Source: orders #0 upstream is backpressured",
    );
}

#[test]
fn an_expired_aligned_checkpoint_is_explained_by_the_records_queued_ahead_of_its_barriers() {
    let o = streamlab(&[
        "explain",
        "scenarios/unaligned_under_backpressure.toml",
        "--checkpoint",
        "1",
        "--json",
    ]);
    let (out, err) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("--json prints JSON");
    // The unaligned checkpoint completes; its barriers overtook the queues.
    assert_eq!(v["data"]["outcome"], "completed");
    let sink = &v["data"]["subtasks"][2];
    assert_eq!(sink["subtask"], "Sink: slow_db #0");
    assert!(
        sink["barriers"][0]["read_ms"].as_f64().unwrap() < 1.0,
        "{sink}"
    );
    // The aligned run of the same checkpoint expires: both sinks never read a barrier that
    // sat behind thousands of queued records.
    let aligned = &v["data"]["aligned_run"];
    assert!(
        aligned["outcome"].as_str().unwrap().contains("expired"),
        "{aligned}"
    );
    let blocked = aligned["not_snapshotted"].as_array().unwrap();
    assert_eq!(blocked.len(), 2, "{aligned}");
    for b in blocked {
        let why = b["why"].as_str().unwrap();
        assert!(
            why.contains("had not read the barrier from Source: orders #"),
            "{why}"
        );
        assert!(
            why.contains("an aligned barrier is read only after every record ahead of it"),
            "{why}"
        );
    }
    for s in aligned["subtasks"].as_array().unwrap()[2..].iter() {
        for b in s["barriers"].as_array().unwrap() {
            assert!(b["records_ahead"].as_u64().unwrap() > 1000, "{s}");
            assert!(b["read_ms"].is_null(), "{s}");
        }
    }
    assert_run!(
        streamlab(&[
            "explain",
            "scenarios/unaligned_under_backpressure.toml",
            "--checkpoint",
            "1",
        ]),
        exit = 0,
        "(aligned run) It expired: it was not complete after execution.checkpointing.timeout = 3 s; 2 of 4 subtasks had not taken their snapshot by then.",
        "use unaligned checkpoints",
    );
}

fn explain_json(args: &[&str]) -> serde_json::Value {
    let o = streamlab(args);
    let (out, err) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    serde_json::from_str(&out).expect("--json prints JSON")
}

#[test]
fn every_duplicate_of_the_at_least_once_sink_is_the_restore_of_checkpoint_4_replaying() {
    let file = "scenarios/exactly_once_vs_at_least_once.toml";
    let at_once = explain_json(&[
        "explain", file, "--sink", "at_once", "--key", "user-3", "--json",
    ]);
    let d = &at_once["data"];
    // 45 s × 2 000 clicks: 90 000 rows without the failure; every row beyond is a duplicate,
    // and each is attributed to the one restore — of checkpoint 4, after the TaskManager loss.
    let dups = &d["duplicates"];
    let total = dups["total"].as_u64().unwrap();
    assert_eq!(
        d["rows_visible"].as_u64().unwrap(),
        90_000 + total,
        "{dups}"
    );
    assert!(total > 1000, "{dups}");
    assert_eq!(
        dups["equal_rows_without_restore"],
        serde_json::json!([]),
        "{dups}"
    );
    let by = dups["by_restored_checkpoint"].as_array().unwrap();
    assert_eq!(by.len(), 1, "{dups}");
    assert_eq!(by[0]["checkpoint"], 4);
    assert_eq!(by[0]["rows"].as_u64(), Some(total));
    assert!(
        by[0]["record_replayed"].as_u64().unwrap() > total / 2,
        "{dups}"
    );
    let restore = &d["restores"][0];
    assert_eq!(restore["checkpoint"], 4);
    // Each duplicate of the key names its replayed record inside the rewound offsets.
    let rows = d["rows"].as_array().unwrap();
    let duplicated: Vec<&serde_json::Value> = rows.iter().filter(|r| r["copy"] == 1).collect();
    assert!(!duplicated.is_empty());
    for r in &duplicated {
        let rp = &r["replayed"];
        assert_eq!(rp["restored_checkpoint"], 4, "{r}");
        if rp["record_replayed"] == true {
            let o = rp["offset"].as_u64().unwrap();
            assert!(
                rp["replayed_from"].as_u64().unwrap() <= o
                    && o < rp["replayed_until"].as_u64().unwrap(),
                "{r}"
            );
        }
    }
    // The same value in the two-phase-commit sink appears once, and says why.
    let values = duplicated
        .iter()
        .find(|r| r["replayed"]["record_replayed"] == true)
        .unwrap()["values"]
        .clone();
    let committed = explain_json(&[
        "explain",
        file,
        "--sink",
        "committed",
        "--key",
        "user-3",
        "--json",
    ]);
    let same: Vec<&serde_json::Value> = committed["data"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["values"] == values)
        .collect();
    assert_eq!(same.len(), 1, "{values}");
    assert_eq!(committed["data"]["duplicates"]["total"], 0);
    let row = same[0]["row"].to_string();
    assert_run!(
        streamlab(&["explain", file, "--sink", "committed", "--row", &row]),
        exit = 0,
        "appears once",
        "the job restored checkpoint 4 at 28.000 s",
        "the restore aborted it and it never became visible. Only the replay's result was committed",
    );
}

#[test]
fn explain_record_calls_late_exactly_the_records_the_late_sink_received() {
    assert_eq!(
        late_records_are_the_late_sinks("scenarios/late_data.toml"),
        3
    );
}

/// Without a `rate` the source reads as fast as it can (every record is born at the same
/// instant, before the first watermark, so none is late): each record is still found, by its
/// offset, and counted in a window result of `sales`.
#[test]
fn a_record_of_an_unpaced_source_is_followed_by_its_offset() {
    let text = std::fs::read_to_string("scenarios/late_data.toml").unwrap();
    assert!(text.contains("\nrate = 1\n"));
    let file = scratch("explain_record_unpaced").join("late_unpaced.toml");
    std::fs::write(&file, text.replace("\nrate = 1\n", "\n")).unwrap();
    assert_eq!(late_records_are_the_late_sinks(file.to_str().unwrap()), 0);
}

/// Asks `--record orders:N` for every record of `file` and checks that those whose windows
/// were all late are exactly the rows of the late sink, and the others reached `sales`.
/// Returns how many were late.
fn late_records_are_the_late_sinks(file: &str) -> usize {
    let mut late = Vec::new();
    for n in 0..21 {
        let v = explain_json(&[
            "explain",
            file,
            "--record",
            &format!("orders:{n}"),
            "--json",
        ]);
        let d = &v["data"];
        let windows = d["window"]["windows"]
            .as_array()
            .expect("it reaches the window");
        assert!(!windows.is_empty(), "{d}");
        if windows.iter().all(|w| w["late"] == true) {
            // A late record goes on, as it was, to the side output's sink.
            assert_eq!(d["sink_rows"][0]["sink"], "late", "{d}");
            assert_eq!(d["sink_rows"][0]["values"], d["row"], "{d}");
            late.push(d["row"].clone());
        } else {
            let rows = d["sink_rows"].as_array().unwrap();
            // An on-time record counts in a window result that reaches `sales`.
            assert!(!rows.is_empty(), "{d}");
            assert!(rows.iter().all(|r| r["sink"] == "sales"), "{d}");
        }
    }
    // The scenario's late sink, as `streamlab run` reports it.
    let json = scratch(&format!("explain_record_late_{}", file.len())).join("r.json");
    let o = streamlab(&["run", file, "--json", json.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    let sink = r["sinks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "late")
        .unwrap();
    assert_eq!(sink["rows"].as_array().unwrap(), &late);
    late.len()
}

#[test]
fn a_record_past_the_end_of_its_partition_was_never_emitted() {
    assert_run!(
        streamlab(&[
            "explain",
            "scenarios/late_data.toml",
            "--record",
            "orders:500"
        ]),
        exit = 2,
        "record 500 of partition 0 of `orders` was never emitted",
    );
}

#[test]
fn a_record_of_a_partitioned_source_needs_its_partition() {
    assert_run!(
        streamlab(&[
            "explain",
            "scenarios/exactly_once_vs_at_least_once.toml",
            "--record",
            "clicks:5",
        ]),
        exit = 2,
        "source `clicks` has 2 partitions: ask for one, `--record clicks:PARTITION:5`",
    );
}

/// `--sink NAME --missing` finds the same missing rows as the run's own comparison with the
/// fault-free run (an independent count: content hashes of the sinks' ledgers), and blames
/// each on the job's stop.
#[test]
fn the_missing_rows_of_a_failed_job_are_the_reports_and_each_is_blamed_on_the_stop() {
    let file = "scenarios/late_data.toml";
    let dir = scratch("explain-missing");
    let report = dir.join("r.json");
    let o = streamlab(&[
        "run",
        file,
        "--chaos",
        "--seed",
        "3",
        "-q",
        "--json",
        report.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", texts(&o).1);
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["outcome"]["status"], "failed");
    let stop_ms = r["outcome"]["at_ns"].as_f64().unwrap() / 1e6;
    let ask = |sink| {
        [
            "explain",
            file,
            "--chaos",
            "--seed",
            "3",
            "--sink",
            sink,
            "--missing",
        ]
    };
    for sink in ["sales", "late"] {
        let want = r["sinks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == sink)
            .unwrap()["missing"]
            .as_u64()
            .unwrap();
        assert!(want > 0, "{sink}: the chaos run misses rows");
        let a = explain_json(&[&ask(sink)[..], &["--json"]].concat());
        let d = &a["data"];
        let missing = d["missing"].as_array().unwrap();
        assert_eq!(missing.len() as u64, want, "{sink}: {a:#}");
        assert_eq!(d["missing_in_report"], want);
        assert_eq!(d["stopped"]["status"], "failed");
        for m in missing {
            assert_eq!(m["after_stop"], true);
            // Each row was made visible after the stop in the fault-free run, and its record
            // was created before the stop exactly when the answer says so.
            assert!(m["visible_without_faults_ms"].as_f64().unwrap() > stop_ms);
            let before = m["born_ms"].as_f64().unwrap() < stop_ms;
            assert_eq!(m["record_created_before_stop"], before, "{m}");
        }
    }
    assert_run!(
        streamlab(&ask("sales")),
        exit = 0,
        "Sink `sales` misses 8 rows of the fault-free run: the job failed for good at",
        "NoRestartBackoffTimeStrategy",
        "before that record was created: it was never read",
        "that record had been created by then, but the row was not yet visible",
        "To change it: enable checkpointing",
    );
}

#[test]
fn a_job_that_restarts_from_checkpoints_misses_no_row() {
    let a = explain_json(&[
        "explain",
        "scenarios/exactly_once_vs_at_least_once.toml",
        "--sink",
        "committed",
        "--missing",
        "--json",
    ]);
    assert_eq!(a["data"]["missing"].as_array().unwrap().len(), 0);
    assert_eq!(a["data"]["missing_in_report"], 0);
    assert!(
        a["headline"].as_str().unwrap().contains("misses no row"),
        "{a:#}"
    );
    assert!(a["change"].is_null());
}

#[test]
fn missing_asks_about_a_sink_and_nothing_else() {
    let file = "scenarios/late_data.toml";
    let o = streamlab(&["explain", file, "--missing"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(texts(&o).1.contains("--sink"), "{}", texts(&o).1);
    let o = streamlab(&[
        "explain",
        file,
        "--sink",
        "sales",
        "--missing",
        "--row",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        texts(&o).1.contains("cannot be used with"),
        "{}",
        texts(&o).1
    );
}

/// A record between the restored checkpoint's offset and where its source had read before the
/// crash is read twice: `--record` says when it was read again, and a record before the offset
/// was read once.
#[test]
fn a_record_the_restore_replayed_was_read_again() {
    let file = "scenarios/exactly_once_vs_at_least_once.toml";
    let trace = scratch("explain_record_replayed").join("t.jsonl");
    let o = streamlab(&["run", file, "-q", "--trace", trace.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", texts(&o).1);
    let restore: serde_json::Value = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|l| l["event"] == "restore")
        .expect("the scenario restores");
    let split = &restore["splits"][0];
    let (p, offset, reached) = (
        split["split"].as_u64().unwrap(),
        split["offset"].as_u64().unwrap(),
        split["reached"].as_u64().unwrap(),
    );
    assert!(offset < reached, "{restore}");
    let again = explain_json(&[
        "explain",
        file,
        "--record",
        &format!("clicks:{p}:{offset}"),
        "--json",
    ]);
    assert_eq!(
        again["data"]["replayed_at_ms"].as_array().unwrap().len(),
        1,
        "{again}"
    );
    assert!(
        again["evidence"]
            .to_string()
            .contains("read again after a restore at"),
        "{again}"
    );
    let once = explain_json(&[
        "explain",
        file,
        "--record",
        &format!("clicks:{p}:{}", offset - 1),
        "--json",
    ]);
    assert_eq!(
        once["data"]["replayed_at_ms"],
        serde_json::json!([]),
        "{once}"
    );
}
