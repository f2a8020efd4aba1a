//! `streamlab diff` and `streamlab compare --diff`: the record-level diff of two runs.

use crate::util::{root, scratch, streamlab, texts};
use serde_json::Value;
use std::collections::BTreeMap;
use streamlab_engine::modes::{self, Mode, ModeOptions};
use streamlab_engine::scenario::{NodeKind, SinkSpec};

/// `compare FILE --diff --out DIR`: its stdout and the `diff.json` it wrote.
fn compare_diff(file: &str, name: &str) -> (String, Value) {
    let out = scratch(name);
    let o = streamlab(&["compare", file, "--diff", "--out", out.to_str().unwrap()]);
    let (stdout, err) = texts(&o);
    assert!(
        o.status.success() || o.status.code() == Some(1),
        "{stdout}{err}"
    );
    let text = std::fs::read_to_string(out.join("diff.json")).expect("diff.json");
    (stdout, serde_json::from_str(&text).expect("JSON"))
}

/// The diff of streaming with `mode` in a `diff.json`.
fn against<'a>(doc: &'a Value, mode: &str) -> &'a Value {
    doc["diffs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["b"]["mode"] == mode)
        .unwrap_or_else(|| panic!("no diff with {mode}"))
}

/// The rows of sink `out` an acking run of the storm scenario made visible, every one of them,
/// counted — with its crash or without it. Computed here from the engine, not by the diff.
fn acking_rows(without_crash: bool) -> (BTreeMap<String, u64>, u64) {
    let mut s =
        streamlab_engine::check::load(&root().join("scenarios/storm_acking_duplicates.toml"))
            .unwrap_or_else(|_| panic!("the scenario loads"));
    for n in &mut s.nodes {
        if let NodeKind::Sink(SinkSpec::Collect { capture }, _) = &mut n.kind {
            *capture = 10_000_000;
        }
    }
    let p = streamlab_engine::plan::plan(&s).unwrap_or_else(|_| panic!("it plans"));
    let opts = ModeOptions {
        seed: None,
        without_crash,
    };
    let run = modes::run_mode(&s, &p, Mode::Acking, &opts).expect("acking runs");
    let sink = &run.report.sinks[0];
    assert_eq!(sink.rows.len() as u64, sink.records, "every row captured");
    let mut m = BTreeMap::new();
    for r in &sink.rows {
        *m.entry(serde_json::to_string(r).unwrap()).or_default() += 1;
    }
    (m, run.details.replayed.unwrap_or(0))
}

#[test]
fn compare_diff_of_storm_acking_lists_exactly_the_replayed_rows() {
    let (stdout, doc) = compare_diff("scenarios/storm_acking_duplicates.toml", "diff-storm");
    // the rows the crash added to acking's output: the run with it minus the run without it
    let (with, replayed) = acking_rows(false);
    let (without, _) = acking_rows(true);
    assert!(replayed > 0);
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for (row, n) in &with {
        let m = without.get(row).copied().unwrap_or(0);
        assert!(*n >= m, "the crash lost {row}");
        if *n > m {
            expected.insert(row.clone(), n - m);
        }
    }
    assert!(!expected.is_empty());
    let d = against(&doc, "acking");
    let sink = &d["sinks"][0];
    assert_eq!(sink["complete"], true);
    let mut listed: BTreeMap<String, u64> = BTreeMap::new();
    for r in sink["differences"].as_array().unwrap() {
        assert_eq!(r["kind"], "only_in_b", "{r}");
        assert_eq!(r["cause"], "replayed_by_acking", "{r}");
        let copies = (r["copies"][1].as_u64().unwrap()) - r["copies"][0].as_u64().unwrap();
        listed.insert(serde_json::to_string(&r["b"]).unwrap(), copies);
    }
    assert_eq!(listed, expected);
    let causes = sink["causes"].as_array().unwrap();
    assert_eq!(causes.len(), 1);
    assert_eq!(
        causes[0]["rows"].as_u64().unwrap(),
        expected.values().sum::<u64>()
    );
    // and nothing else: micro-batch and batch give the streaming rows exactly
    for m in ["micro-batch", "batch"] {
        let d = against(&doc, m);
        assert_eq!(
            d["sinks"][0]["differences"].as_array().unwrap().len(),
            0,
            "{m}"
        );
        assert_eq!(d["sinks"][0]["same"], 36000, "{m}");
    }
    assert!(
        stdout.contains("record-level diff: streaming vs acking"),
        "{stdout}"
    );
    assert!(stdout.contains("— replayed by acking"), "{stdout}");
}

#[test]
fn compare_diff_of_bounded_input_without_late_data_is_empty() {
    for file in [
        "scenarios/wordcount.toml",
        "scenarios/dstream_microbatch.toml",
    ] {
        let (stdout, doc) = compare_diff(file, "diff-empty");
        let diffs = doc["diffs"].as_array().unwrap();
        assert_eq!(diffs.len(), 3, "{file}");
        for d in diffs {
            for k in d["sinks"].as_array().unwrap() {
                assert_eq!(k["differences"].as_array().unwrap().len(), 0, "{file}: {k}");
                assert_eq!(k["complete"], true);
            }
        }
        assert!(!stdout.contains("differ,"), "{stdout}");
    }
}

#[test]
fn a_rolling_result_against_batch_folds_its_updates_as_update_vs_final() {
    let (stdout, doc) = compare_diff("scenarios/dstream_microbatch.toml", "diff-rolling");
    let k = &against(&doc, "batch")["sinks"][0];
    assert_eq!(k["compared_by"], "final value per key");
    assert!(k["updates"][0].as_u64().unwrap() > 0);
    assert_eq!(k["updates"][1], 0);
    assert_eq!(k["folded"]["cause"], "update_vs_final");
    assert!(
        stdout.contains("batch (BATCH mode) emits one final row per key"),
        "{stdout}"
    );
}

#[test]
fn a_job_that_did_not_finish_explains_its_rows_as_after_a_failure() {
    let (stdout, doc) = compare_diff("scenarios/jobmanager_no_ha.toml", "diff-nofinish");
    let k = &against(&doc, "batch")["sinks"][0];
    let causes: Vec<&Value> = k["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["cause"])
        .collect();
    assert_eq!(causes, ["after_failure"], "{stdout}");
    assert!(
        stdout.contains("the job did not finish (failed"),
        "{stdout}"
    );
}

#[test]
fn diff_of_two_reports_says_when_they_did_not_keep_every_row() {
    let out = scratch("diff-files");
    let o = streamlab(&[
        "compare",
        "scenarios/storm_acking_duplicates.toml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{:?}", texts(&o));
    let report = out.join("report.json");
    let r = report.to_str().unwrap();
    let (a, b) = (format!("{r}#streaming"), format!("{r}#acking"));
    let o = streamlab(&["diff", &a, &b]);
    let (stdout, err) = texts(&o);
    assert!(o.status.success(), "{stdout}{err}");
    assert!(
        stdout.contains("keeps 10 of the 36000 rows of sink `out`"),
        "{stdout}"
    );
    // the same run twice: nothing differs
    let o = streamlab(&["diff", &a, &a, "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["sinks"][0]["differences"].as_array().unwrap().len(), 0);
    assert_eq!(v["sinks"][0]["same"], 10);
    // a compare report needs a mode; an unknown sink is named
    let o = streamlab(&["diff", r, &b]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        texts(&o).1.contains("name one of its modes"),
        "{:?}",
        texts(&o)
    );
    let o = streamlab(&["diff", &a, &b, "--sink", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(texts(&o).1.contains("A's sinks: out"));
}

#[test]
fn diff_of_two_run_reports_with_other_seeds_names_the_seed() {
    let out = scratch("diff-seeds");
    let (a, b) = (out.join("a.json"), out.join("b.json"));
    for (seed, f) in [("1", &a), ("2", &b)] {
        let o = streamlab(&[
            "run",
            "scenarios/straggler.toml",
            "--seed",
            seed,
            "-q",
            "--json",
            f.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{:?}", texts(&o));
    }
    let o = streamlab(&["diff", a.to_str().unwrap(), b.to_str().unwrap(), "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let causes: Vec<String> = v["sinks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|k| k["causes"].as_array().unwrap().iter())
        .map(|c| c["cause"].as_str().unwrap().to_string())
        .collect();
    assert!(
        causes
            .iter()
            .all(|c| c == "different_seed" || c == "not_captured"),
        "{causes:?}"
    );
}
