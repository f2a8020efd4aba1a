//! The trace (`docs/trace-format.md`) holds the causal chain, not just counts: each test
//! reads a bundled scenario's trace and checks it against a Flink rule and against the run's
//! report, so a trace line that is missing, duplicated or wrong fails.

use crate::util::{scratch, streamlab, texts};
use serde_json::Value;
use std::collections::BTreeMap;

/// Runs `scenario` and returns its trace lines and JSON report.
fn traced(scenario: &str, name: &str) -> (Vec<Value>, Value) {
    let dir = scratch(name);
    let (trace, json) = (dir.join("t.jsonl"), dir.join("r.json"));
    let out = streamlab(&[
        "run",
        scenario,
        "-q",
        "--trace",
        trace.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let (_, err) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let lines = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let report = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    (lines, report)
}

fn of<'a>(trace: &'a [Value], event: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    trace.iter().filter(move |e| e["event"] == event)
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

fn i(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

/// A window counter summed over the job's window operators in the report.
fn window_stat(report: &Value, counter: &str) -> u64 {
    report["operators"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["windows"].is_object())
        .map(|o| u(&o["windows"][counter]))
        .sum()
}

/// (task, key, window start, window end) of a window line.
fn window_of(e: &Value) -> (String, String, i64, i64) {
    (
        e["task"].as_str().unwrap().to_string(),
        e["key"].to_string(),
        i(&e["window_start"]),
        i(&e["window_end"]),
    )
}

/// Every late element is in the trace with what happened to it, every firing follows a
/// trigger decision to fire, and nothing fires for a window after its cleanup.
#[test]
fn every_window_decision_and_late_element_is_in_the_trace() {
    for (n, scenario) in [
        "scenarios/allowed_lateness.toml",
        "scenarios/late_data.toml",
        "scenarios/session_windows.toml",
    ]
    .into_iter()
    .enumerate()
    {
        let (trace, report) = traced(scenario, &format!("windows-{n}"));
        let stat = |counter: &str| window_stat(&report, counter);
        let count = |event: &str| of(&trace, event).count() as u64;
        assert_eq!(count("window_fired"), stat("fired"), "{scenario}");
        assert_eq!(count("late_record"), stat("late_side_output"), "{scenario}");
        assert_eq!(
            count("late_record_dropped"),
            stat("late_dropped"),
            "{scenario}"
        );
        // With the default event-time trigger, each element added to a window the
        // watermark passed fires it once more (a late firing).
        assert_eq!(
            count("late_record_added"),
            stat("late_firings"),
            "{scenario}"
        );
        let mut fire_decisions: BTreeMap<_, u64> = BTreeMap::new();
        let mut cleared = BTreeMap::new();
        for (n, e) in trace.iter().enumerate() {
            match e["event"].as_str() {
                Some("trigger") if e["result"].as_str().unwrap().starts_with("FIRE") => {
                    *fire_decisions.entry(window_of(e)).or_default() += 1;
                }
                Some("window_fired") => {
                    let w = window_of(e);
                    let left = fire_decisions.get_mut(&w);
                    assert!(
                        left.as_ref().is_some_and(|n| **n > 0),
                        "{scenario}: line {n} fired without a trigger decision to fire: {e}"
                    );
                    *left.unwrap() -= 1;
                    assert!(
                        !cleared.contains_key(&w),
                        "{scenario}: line {n} fired a window after its cleanup: {e}"
                    );
                }
                Some("late_record_added") => {
                    assert!(
                        !cleared.contains_key(&window_of(e)),
                        "{scenario}: line {n} added an element to a cleared window: {e}"
                    );
                    assert!(i(&e["window_end"]) - 1 <= i(&e["watermark"]), "{e}");
                }
                Some("window_cleared") => {
                    cleared.insert(window_of(e), n);
                }
                Some("late_record_dropped" | "late_record") => {
                    // Flink drops or side-outputs an element once ts + allowed lateness
                    // is at or behind the watermark (no window takes it any more).
                    assert!(i(&e["ts"]) <= i(&e["watermark"]), "{e}");
                }
                _ => {}
            }
        }
        assert!(count("trigger") >= count("window_fired"), "{scenario}");
    }
}

/// Per channel the watermark only rises; a subtask's watermark is the minimum over its
/// input channels (checked where no channel was ever idle).
#[test]
fn a_subtask_watermark_is_the_minimum_over_its_channels() {
    for scenario in [
        "scenarios/out_of_order.toml",
        "scenarios/window_join.toml",
        "scenarios/idle_source.toml",
    ] {
        let (trace, _) = traced(scenario, "watermarks");
        let with_idle: Vec<&str> = of(&trace, "channel_idle")
            .map(|e| e["task"].as_str().unwrap())
            .collect();
        let mut channels: BTreeMap<&str, BTreeMap<&str, i64>> = BTreeMap::new();
        let mut own: BTreeMap<&str, i64> = BTreeMap::new();
        let mut checked = 0;
        for e in &trace {
            let task = e["task"].as_str().unwrap_or_default();
            match e["event"].as_str() {
                Some("channel_watermark") => {
                    let wm = i(&e["watermark"]);
                    let from = e["from"].as_str().unwrap();
                    let prev = channels.entry(task).or_default().insert(from, wm);
                    assert!(prev.is_none_or(|p| p < wm), "{scenario}: went back: {e}");
                }
                Some("watermark") => {
                    let wm = i(&e["watermark"]);
                    let prev = own.insert(task, wm);
                    assert!(prev.is_none_or(|p| p < wm), "{scenario}: went back: {e}");
                    if let Some(chs) = channels.get(task)
                        && !with_idle.contains(&task)
                    {
                        let inputs = trace
                            .iter()
                            .filter(|b| b["event"] == "buffer" && b["to"] == task)
                            .map(|b| b["from"].as_str().unwrap())
                            .collect::<std::collections::BTreeSet<_>>();
                        if chs.len() == inputs.len() {
                            assert_eq!(wm, *chs.values().min().unwrap(), "{scenario}: {e}");
                            checked += 1;
                        }
                    }
                }
                _ => {}
            }
        }
        assert!(checked > 0, "{scenario}: no subtask watermark was checked");
    }
}

/// Aligned checkpoints: every source injects the barrier, every input channel delivers it
/// (arrival before read), the alignment starts at the first read and ends at the last, and
/// what it reports as its duration is the time between.
#[test]
fn every_barrier_is_injected_arrives_is_read_and_aligned() {
    let (trace, _) = traced("scenarios/exactly_once_vs_at_least_once.toml", "barriers");
    let completed: Vec<u64> = of(&trace, "checkpoint_completed")
        .map(|e| u(&e["id"]))
        .collect();
    assert!(completed.len() >= 4);
    let sources = of(&trace, "buffer")
        .map(|b| b["from"].as_str().unwrap())
        .filter(|f| f.starts_with("Source:"))
        .collect::<std::collections::BTreeSet<_>>();
    let mut checked = 0;
    for &id in &completed {
        let at = |e: &Value| e["checkpoint"] == id;
        let injected = of(&trace, "barrier_injected").filter(|e| at(e)).count();
        if injected == 0 {
            // the last checkpoint, taken after the sources finished (FLIP-147)
            assert!(
                id == *completed.last().unwrap(),
                "checkpoint {id}: no barrier injected"
            );
            continue;
        }
        assert_eq!(injected, sources.len(), "checkpoint {id}");
        checked += 1;
        let mut by_task: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
        for e in trace.iter().filter(|e| at(e)) {
            if let Some("alignment_started" | "barrier_read" | "alignment_done") =
                e["event"].as_str()
            {
                by_task
                    .entry(e["task"].as_str().unwrap())
                    .or_default()
                    .push(e);
            }
        }
        assert!(!by_task.is_empty(), "checkpoint {id}: no barrier read");
        for (task, lines) in by_task {
            let inputs = of(&trace, "buffer")
                .filter(|b| b["to"] == task)
                .map(|b| b["from"].as_str().unwrap())
                .collect::<std::collections::BTreeSet<_>>();
            let reads: Vec<&&Value> = lines
                .iter()
                .filter(|e| e["event"] == "barrier_read")
                .collect();
            assert_eq!(reads.len(), inputs.len(), "checkpoint {id} at {task}");
            assert_eq!(lines[0]["event"], "alignment_started", "{task}");
            let started = u(&lines[0]["t_ns"]);
            for (k, r) in reads.iter().enumerate() {
                assert_eq!(u(&r["waiting_for"]), (inputs.len() - k - 1) as u64, "{r}");
                assert_eq!(
                    r["blocked"],
                    k + 1 < inputs.len(),
                    "exactly-once blocks: {r}"
                );
                let arrived = of(&trace, "barrier_arrived").any(|a| {
                    a["checkpoint"] == id
                        && a["to"] == task
                        && a["from"] == r["from"]
                        && u(&a["t_ns"]) <= u(&r["t_ns"])
                });
                assert!(arrived, "read before it arrived: {r}");
            }
            let done = lines.last().unwrap();
            assert_eq!(done["event"], "alignment_done", "{task}");
            assert_eq!(
                u(&done["alignment_ns"]),
                u(&done["t_ns"]) - started,
                "{done}"
            );
        }
    }
    assert!(checked >= 4, "{checked} checkpoints checked");
}

/// A restore names, per source split, the offset it resumes at and the one it had reached:
/// the records between are exactly what the sources read twice.
#[test]
fn restores_name_the_replayed_offsets_of_every_split() {
    let (trace, report) = traced("scenarios/exactly_once_vs_at_least_once.toml", "restores");
    let restart = of(&trace, "restart").next().expect("a restart");
    let restores: Vec<&Value> = of(&trace, "restore").collect();
    assert_eq!(restores.len(), 2, "both source subtasks restart");
    let mut replayed = 0;
    for r in &restores {
        assert_eq!(r["checkpoint"], restart["checkpoint"], "{r}");
        for s in r["splits"].as_array().unwrap() {
            let (offset, reached) = (u(&s["offset"]), u(&s["reached"]));
            assert!(offset > 0 && offset < reached, "{s}");
            replayed += reached - offset;
        }
    }
    // 2 000 clicks/s for 45 s are read once, and the replayed ones a second time.
    assert_eq!(u(&report["source_records"]), 90_000 + replayed);
}

/// A two-phase-commit sink's trace shows each transaction pre-committed with a checkpoint's
/// snapshot and committed once, with the same records, and the committed records are what
/// the sink shows.
#[test]
fn every_transaction_is_pre_committed_then_committed_once() {
    let (trace, report) = traced(
        "scenarios/exactly_once_vs_at_least_once.toml",
        "transactions",
    );
    let mut pre: BTreeMap<(String, u64), u64> = BTreeMap::new();
    for e in of(&trace, "pre_commit") {
        pre.insert(
            (e["task"].as_str().unwrap().into(), u(&e["checkpoint"])),
            u(&e["records"]),
        );
    }
    let mut committed = BTreeMap::new();
    let mut total = 0;
    for e in of(&trace, "commit") {
        let txns = e["transactions"].as_array().unwrap();
        assert_eq!(
            txns.iter().map(|t| u(&t["records"])).sum::<u64>(),
            u(&e["records"]),
            "{e}"
        );
        for t in txns {
            let key = (e["task"].as_str().unwrap().to_string(), u(&t["checkpoint"]));
            // The restored sink's open transaction is aborted; a pre-commit may be
            // repeated by a later attempt of the same checkpoint id only after a restore.
            assert_eq!(pre.get(&key), Some(&u(&t["records"])), "{e}");
            assert!(committed.insert(key, ()).is_none(), "committed twice: {e}");
            total += u(&t["records"]);
        }
    }
    let sink = report["sinks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "committed")
        .unwrap();
    assert_eq!(total, u(&sink["records"]));
}

/// A transaction the broker aborted by its timeout is in the trace: pre-committed with its
/// checkpoint, aborted `transaction_timeout` after it began, found aborted by a later commit —
/// and its records are the sink's `timed_out` and `missing` rows.
#[test]
fn a_transaction_aborted_by_its_timeout_is_traced_where_its_commit_found_it() {
    let (trace, report) = traced("scenarios/transaction_timeout.toml", "timed_out");
    let mut lost = 0;
    for e in of(&trace, "transaction_timed_out") {
        let (task, cp, records) = (
            e["task"].as_str().unwrap(),
            &e["checkpoint"],
            u(&e["records"]),
        );
        assert!(
            of(&trace, "pre_commit").any(|p| p["task"] == task
                && p["checkpoint"] == *cp
                && u(&p["records"]) == records),
            "{e}"
        );
        assert_eq!(
            u(&e["aborted_ns"]) - u(&e["opened_ns"]),
            10_000_000_000,
            "{e}"
        );
        assert!(u(&e["t_ns"]) > u(&e["aborted_ns"]), "{e}");
        assert_eq!(e["on_restore"], true, "{e}");
        lost += records;
    }
    let sink = report["sinks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "short_timeout")
        .unwrap();
    assert!(lost > 0);
    assert_eq!(u(&sink["timed_out"]), lost);
    assert_eq!(u(&sink["missing"]), lost);
}
