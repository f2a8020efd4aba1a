//! `streamlab explain`: the questions of issue 13 as a person asks them.

use crate::assert_run;
use crate::util::{streamlab, texts};

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
