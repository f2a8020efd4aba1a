//! `streamlab crashpoints`: one run per crash point of a checkpoint, crash point × sink.

use crate::assert_run;
use crate::util::{streamlab, texts};

#[test]
fn the_two_phase_commit_sink_is_exactly_once_at_every_crash_point_the_at_least_once_sink_is_not() {
    let file = "scenarios/exactly_once_vs_at_least_once.toml";
    let o = streamlab(&["crashpoints", file, "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", texts(&o).1);
    let v: serde_json::Value = serde_json::from_str(&texts(&o).0).unwrap();
    let points = v["points"].as_array().unwrap();
    // 7 steps × (2 + 2 subtasks) + first barrier × 2 + own commit × 2 sink subtasks + 4
    // job-wide steps × (2 TaskManagers, the JobManager)
    assert_eq!(points.len(), 7 * 4 + 2 + 2 + 4 * 3);
    let result = |p: &serde_json::Value, sink: &str| {
        p["sinks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["sink"] == sink)
            .unwrap()["result"]
            .clone()
    };
    for p in points {
        assert_eq!(result(p, "committed")["outcome"], "exactly_once", "{p}");
    }
    // A crash before checkpoint 2 completed restores checkpoint 1: the at-least-once sink
    // shows the replayed records again; after the completion (and after the notification)
    // the restore takes checkpoint 2, and nothing is replayed. (A subtask's acknowledgement
    // is either: the last one completes the checkpoint at once.)
    let steps_with = |steps: &[&str], dup: bool| {
        points
            .iter()
            .filter(|p| steps.contains(&p["step"].as_str().unwrap()))
            .all(|p| (result(p, "at_once")["duplicates"].as_u64().unwrap_or(0) > 0) == dup)
    };
    let before = [
        "after trigger",
        "after its first barrier",
        "after its last barrier and snapshot",
        "after its synchronous part",
        "after pre-commit",
    ];
    assert!(steps_with(&before, true), "{v}");
    assert!(
        steps_with(
            &["after completion", "after its own commit", "after notify"],
            false
        ),
        "{v}"
    );
    assert_run!(
        streamlab(&["crashpoints", file]),
        exit = 1,
        "44 crash points = 7 steps × 4 subtasks + 1 step (first barrier) × 2 subtasks with network input + 1 step (own commit) × 2 sink subtasks + 4 steps × 3 targets (every TaskManager, the JobManager)",
        "of 88 cells are not exactly once",
        "--only 1",
    );
}

#[test]
fn one_crash_point_replays_alone_with_the_run_summary() {
    assert_run!(
        streamlab(&[
            "crashpoints",
            "scenarios/exactly_once_vs_at_least_once.toml",
            "--kinds",
            "taskmanager",
            "--only",
            "2",
        ]),
        exit = 0,
        "crash point 2: TaskManager 1 after trigger of checkpoint 2",
        "Failure at",
    );
}

#[test]
fn crashpoints_refuse_unknown_kinds_and_jobs_without_checkpoints() {
    assert_run!(
        streamlab(&[
            "crashpoints",
            "scenarios/exactly_once_vs_at_least_once.toml",
            "--kinds",
            "disk"
        ]),
        exit = 2,
        "unknown crash kind `disk`",
    );
    assert_run!(
        streamlab(&["crashpoints", "scenarios/late_data.toml"]),
        exit = 2,
        "has no [checkpointing]",
    );
}

/// Per crash point of `v` (the `--json` matrix): its step and sink `sink`'s result.
fn cells<'a>(v: &'a serde_json::Value, sink: &str) -> Vec<(&'a str, &'a serde_json::Value)> {
    v["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let cell = p["sinks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["sink"] == sink)
                .unwrap();
            (p["step"].as_str().unwrap(), &cell["result"])
        })
        .collect()
}

/// A transaction timeout (10 s) shorter than the checkpoint interval (5 s) plus a TaskManager's
/// replacement (10 s): only a crash after a checkpoint completed leaves a pre-committed
/// transaction for the restore to commit (`recoverAndCommit`); by then the broker aborted it,
/// and its rows are missing. A crash before completion restores the checkpoint before, whose
/// transactions are committed already. The sink with the broker's cap (15 min) loses nothing.
#[test]
fn a_transaction_timeout_shorter_than_interval_and_downtime_loses_rows_only_after_completion() {
    let file = "scenarios/transaction_timeout.toml";
    let o = streamlab(&["crashpoints", file, "--kinds", "taskmanager", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", texts(&o).1);
    let v: serde_json::Value = serde_json::from_str(&texts(&o).0).unwrap();
    let short = cells(&v, "short_timeout");
    assert_eq!(short.len(), 4 * 2, "4 job-wide steps × 2 TaskManagers");
    for (step, r) in &short {
        if *step == "after completion" {
            assert_eq!(r["outcome"], "differs", "{step}: {r}");
            assert_eq!(r["duplicates"], 0, "{r}");
            assert!(r["missing"].as_u64().unwrap() > 0, "{r}");
        } else {
            assert_eq!(r["outcome"], "exactly_once", "{step}: {r}");
        }
    }
    for (step, r) in cells(&v, "broker_max") {
        assert_eq!(r["outcome"], "exactly_once", "{step}: {r}");
    }
}

/// The same job without a `transaction_timeout` (streamlab's default: transactions never
/// time out): exactly once at every crash point.
#[test]
fn without_a_transaction_timeout_no_crash_point_loses_rows() {
    let text = std::fs::read_to_string("scenarios/transaction_timeout.toml").unwrap();
    let plain: String = text
        .lines()
        .filter(|l| !l.starts_with("transaction_timeout"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(plain.len() < text.len());
    let dir = crate::util::scratch("crashpoints_no_timeout");
    let file = dir.join("no_timeout.toml");
    std::fs::write(&file, plain).unwrap();
    let o = streamlab(&[
        "crashpoints",
        file.to_str().unwrap(),
        "--kinds",
        "taskmanager",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", texts(&o).1);
    let v: serde_json::Value = serde_json::from_str(&texts(&o).0).unwrap();
    for sink in ["short_timeout", "broker_max"] {
        for (step, r) in cells(&v, sink) {
            assert_eq!(r["outcome"], "exactly_once", "{sink} {step}: {r}");
        }
    }
}

#[test]
fn out_writes_a_grid_per_sink_whose_red_cells_are_the_cells_that_are_not_exactly_once() {
    let dir = crate::util::scratch("crashpoints_out");
    let file = "scenarios/exactly_once_vs_at_least_once.toml";
    let d = dir.display().to_string();
    let o = streamlab(&[
        "crashpoints",
        file,
        "--kinds",
        "taskmanager,jobmanager",
        "--out",
        &d,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", texts(&o).1);
    let html = std::fs::read_to_string(dir.join("crashpoints.html")).unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("crashpoints.json")).unwrap())
            .unwrap();
    let points = v["points"].as_array().unwrap();
    let dirty = points
        .iter()
        .flat_map(|p| p["sinks"].as_array().unwrap())
        .filter(|c| c["result"]["outcome"] != "exactly_once")
        .count();
    assert!(dirty > 0);
    assert_eq!(html.matches("<td class=\"dirty\"").count(), dirty, "{html}");
    assert_eq!(html.matches("<table class=\"crashpoints\"").count(), 2);
    // Only the four job-wide steps have crash points for these targets: no empty column.
    assert_eq!(html.matches("<td class=\"na\">").count(), 0);
    assert_eq!(html.matches("<th>").count(), 2 * (1 + 4));
    assert!(html.contains("--only 1"), "replay tips");
}

#[test]
fn a_rescaled_job_is_crashed_in_the_downtime_after_its_savepoint_stop_too() {
    assert_run!(
        streamlab(&[
            "crashpoints",
            "scenarios/rescale_from_savepoint.toml",
            "--kinds",
            "taskmanager",
        ]),
        exit = 0,
        "10 crash points = 4 steps × 2 targets (every TaskManager) + 1 step (the savepoint stop) × 2 targets (every TaskManager)",
        "TaskManager 1 after the savepoint stop",
        "0 of 10 cells are not exactly once.",
    );
}
