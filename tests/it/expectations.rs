//! `[[expect]]` and `streamlab check`: expectations a run must meet, graded with the value
//! the run actually showed.

use crate::assert_run;
use crate::util::{scratch, streamlab, texts};

/// Every bundled scenario that states expectations meets them.
#[test]
fn every_bundled_scenario_meets_its_expectations() {
    let mut with = 0;
    for e in std::fs::read_dir("scenarios").unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        if !text.contains("[[expect]]") {
            continue;
        }
        with += 1;
        let o = streamlab(&["check", path.to_str().unwrap()]);
        let (out, err) = texts(&o);
        assert_eq!(o.status.code(), Some(0), "{}: {out}{err}", path.display());
        let n = out.matches('✓').count();
        assert!(n > 0 && !out.contains('✗'), "{out}");
        assert!(out.contains(&format!("{n} of {n} expectation")), "{out}");
    }
    assert!(
        with >= 6,
        "only {with} bundled scenarios state expectations"
    );
}

/// `scenarios/late_data.toml` with one expectation changed: the wrong one is not met, with the
/// run's value and its line, and the exit status is 1.
fn late_data_with(expect: &str, name: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string("scenarios/late_data.toml").unwrap();
    let start = text
        .find("\n# What a run must show")
        .expect("late_data states expectations");
    let file = scratch(name).join("late_data.toml");
    std::fs::write(&file, format!("{}\n{expect}", &text[..start])).unwrap();
    file
}

#[test]
fn an_expectation_the_run_does_not_meet_says_what_the_run_showed() {
    let file = late_data_with(
        "[[expect]]\noperator = \"sales_5s\"\nlate_side_output = 2\nfired = \">= 1\"\n\n[[expect]]\nsink = \"late\"\nrows = [[\"south\", 20, 4400]]\nmatch = \"exact\"\n",
        "expect_not_met",
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let line = text.lines().position(|l| l == "[[expect]]").unwrap() + 1;
    let f = file.to_str().unwrap();
    assert_run!(
        streamlab(&["check", f]),
        exit = 1,
        &format!("✗ {f}:{line}  operator `sales_5s`: late_side_output = 2 — NOT MET: 3"),
        "operator `sales_5s`: fired ≥ 1 — met: 8",
        "sink `late`: rows (exact of 1 row) — NOT MET: 3 rows; not expected [\"north\",50,3300], [\"south\",18,9600]",
        "1 of 3 expectations met",
    );
    let o = streamlab(&["check", f, "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&texts(&o).0).unwrap();
    assert_eq!(v["met"], 1);
    let late = v["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["expected"] == "operator `sales_5s`: late_side_output = 2")
        .expect("graded");
    assert_eq!(late["actual"], "3");
    assert_eq!(late["met"], false);
    assert_eq!(late["line"], line);
}

#[test]
fn a_wrong_expectation_is_bad_input_with_its_position() {
    let file = late_data_with("[[expect]]\nsink = \"late\"\nfired = 3\n", "expect_bad");
    let text = std::fs::read_to_string(&file).unwrap();
    let line = text.lines().position(|l| l == "fired = 3").unwrap() + 1;
    let f = file.to_str().unwrap();
    assert_run!(
        streamlab(&["check", f]),
        exit = 2,
        &format!("late_data.toml:{line}:9"),
        "`fired` cannot be expected of a sink",
        "a sink takes: records, duplicates, missing",
    );
    // `validate` finds the same mistake.
    assert_run!(
        streamlab(&["validate", f]),
        exit = 2,
        "`fired` cannot be expected of a sink"
    );
}

#[test]
fn a_scenario_without_expectations_has_nothing_to_check() {
    assert_run!(
        streamlab(&["check", "scenarios/wordcount.toml"]),
        exit = 2,
        "nothing to check — the scenario has no [[expect]] table",
    );
}

/// `run` ignores expectations: the report is the one of the scenario without them.
#[test]
fn expectations_do_not_change_the_run() {
    let dir = scratch("expect_run_same");
    let without = late_data_with("", "expect_run_same_without");
    let (a, b) = (dir.join("a.json"), dir.join("b.json"));
    for (f, j) in [
        ("scenarios/late_data.toml", &a),
        (without.to_str().unwrap(), &b),
    ] {
        let o = streamlab(&["run", f, "-q", "--json", j.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0));
    }
    assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
}

/// `restarts` counts the failures after which tasks ran again: under fixed-delay with one
/// attempt the second failure ends the job and restarts nothing.
#[test]
fn a_failure_that_ends_the_job_is_not_a_restart() {
    let text = std::fs::read_to_string("scenarios/restart_strategies.toml").unwrap();
    let text = text.replace(
        "strategy = \"exponential-delay\"",
        "strategy = \"fixed-delay\"\nattempts = 1\ndelay = \"1 s\"",
    );
    let file = scratch("expect_restarts").join("restarts.toml");
    std::fs::write(
        &file,
        format!("{text}\n[[expect]]\nrestarts = 1\nfailures = 2\nstatus = \"failed\"\n"),
    )
    .unwrap();
    assert_run!(
        streamlab(&["check", file.to_str().unwrap()]),
        exit = 0,
        "restarts = 1 — met: 1",
        "failures = 2 — met: 2",
        "3 of 3 expectations met",
    );
}
