//! `streamlab chaos`: swarm testing with shrinking, and the counterexample it writes.

use crate::assert_run;
use crate::util::{scratch, streamlab, texts};

const FILE: &str = "scenarios/chaos_finds_duplicates.toml";

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_str(&texts(o).0).unwrap_or_else(|e| panic!("{e}: {}", texts(o).0))
}

/// The "done when": an at-least-once sink asserted to show no duplicates is refuted
/// within 200 runs, shrunk to a single fault, and the counterexample replays byte for byte.
#[test]
fn chaos_refutes_an_at_least_once_sink_asserted_exactly_once_with_one_fault() {
    let dir = scratch("chaos_refutes");
    let d = dir.to_str().unwrap();
    let o = streamlab(&["chaos", FILE, "--runs", "200", "--out", d, "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", texts(&o).1);
    let v = json(&o);
    assert!(v["runs_broken"].as_u64().unwrap() > 0, "{v}");
    let first = &v["first"];
    assert_eq!(first["violation"]["kind"], "expectation", "{v}");
    assert!(
        first["violation"]["subject"]
            .as_str()
            .unwrap()
            .ends_with("sink `revenue`: duplicates = 0"),
        "{v}"
    );
    assert_eq!(first["shrunk"].as_array().unwrap().len(), 1, "{v}");
    assert!(first["shrink_steps"].as_u64().unwrap() >= 1);
    assert_eq!(first["replays_byte_for_byte"], true);
    // the counterexample: the file without [chaos], one plain [[fault]], replayed by `run`
    let cx = dir.join("counterexample.toml");
    let text = std::fs::read_to_string(&cx).unwrap();
    assert!(text.starts_with("# counterexample.toml — written by `streamlab chaos`\n"));
    assert!(!text.lines().any(|l| l.trim() == "[chaos]"), "{text}");
    assert_eq!(text.matches("[[fault]]\n").count(), 1, "{text}");
    let original = std::fs::read_to_string(FILE).unwrap();
    assert!(text.contains(&original[original.find("[[source]]").unwrap()..]));
    let report = dir.join("replayed.json");
    assert_run!(
        streamlab(&[
            "run",
            cx.to_str().unwrap(),
            "--json",
            report.to_str().unwrap(),
            "-q"
        ]),
        exit = 0,
        "finished",
    );
    let (a, b) = (
        std::fs::read(&report).unwrap(),
        std::fs::read(dir.join("counterexample.json")).unwrap(),
    );
    assert!(a == b, "the replay's report differs from the shrunk run's");
    // and the replay breaks the expectation as the shrunk run did
    assert_run!(
        streamlab(&["check", cx.to_str().unwrap()]),
        exit = 1,
        "sink `revenue`: duplicates = 0 — NOT MET",
    );
}

/// Run i depends on (seed, i) only: one worker or several give the same summary and the same
/// counterexample.
#[test]
fn the_outcome_does_not_depend_on_the_number_of_workers() {
    let mut outs = Vec::new();
    for jobs in ["1", "3"] {
        let dir = scratch(&format!("chaos_jobs_{jobs}"));
        let d = dir.to_str().unwrap().to_string();
        let o = streamlab(&[
            "chaos", FILE, "--runs", "40", "--seed", "9", "--jobs", jobs, "--out", &d,
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", texts(&o).1);
        let cx = std::fs::read_to_string(dir.join("counterexample.toml")).unwrap();
        outs.push((texts(&o).0.replace(&d, "DIR"), cx.replace(&d, "DIR")));
    }
    assert_eq!(outs[0], outs[1]);
    assert!(
        outs[0]
            .0
            .contains("streamlab chaos · scenarios/chaos_finds_duplicates.toml · 40 runs · seed 9")
    );
    assert!(outs[0].1.contains("--runs 40 --seed 9"));
}

/// With the sink made exactly-once (the fix the scenario's comment gives), no run breaks a
/// check; nothing is written.
#[test]
fn with_two_phase_commit_no_run_breaks_a_check() {
    let dir = scratch("chaos_fixed");
    let text = std::fs::read_to_string(FILE).unwrap().replace(
        "guarantee = \"at_least_once\"",
        "guarantee = \"exactly_once\"",
    );
    let file = dir.join("fixed.toml");
    std::fs::write(&file, text).unwrap();
    assert_run!(
        streamlab(&[
            "chaos",
            file.to_str().unwrap(),
            "--runs",
            "30",
            "--out",
            dir.to_str().unwrap()
        ]),
        exit = 0,
        "30 runs with",
        "no check broken",
    );
    assert!(!dir.join("counterexample.toml").exists());
}

/// `scenarios/chaos.toml` states what seed 11's faults do (`failures = 2`, duplicates in the
/// at-least-once sink): not met without faults, those are left out; its exactly-once sink
/// holds in every run.
#[test]
fn expectations_about_one_seeds_faults_are_left_out_and_the_guarantee_holds() {
    let dir = scratch("chaos_bundled");
    assert_run!(
        streamlab(&[
            "chaos",
            "scenarios/chaos.toml",
            "--runs",
            "12",
            "--out",
            dir.to_str().unwrap()
        ]),
        exit = 0,
        "not checked — not met even without drawn faults",
        "line 93: the job: failures = 2",
        "12 runs with",
        "no check broken",
    );
}

#[test]
fn chaos_never_overwrites_a_file_it_did_not_write_and_refuses_unknown_kinds() {
    let dir = scratch("chaos_refuse");
    let mine = dir.join("counterexample.toml");
    std::fs::write(&mine, "# my own notes\n").unwrap();
    assert_run!(
        streamlab(&["chaos", FILE, "--runs", "5", "--out", dir.to_str().unwrap()]),
        exit = 2,
        "was not written by streamlab chaos: it is left alone",
    );
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "# my own notes\n");
    assert_run!(
        streamlab(&["chaos", FILE, "--profile", "kill_subtask,disk"]),
        exit = 2,
        "unknown fault kind `disk` in --profile",
    );
}
