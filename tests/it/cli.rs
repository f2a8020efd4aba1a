//! The commands as a person runs them: output, files written, exit statuses.

use crate::assert_run;
use crate::util::{scratch, streamlab, texts};

#[test]
fn validate_accepts_a_good_scenario() {
    assert_run!(
        streamlab(&["validate", "scenarios/wordcount.toml"]),
        exit = 0,
        "scenarios/wordcount.toml: ok",
        "3 chains"
    );
}

#[test]
fn plan_explains_chains_key_groups_and_slots() {
    let dir = scratch("plan");
    let dot = dir.join("wc.dot");
    let out = streamlab(&[
        "plan",
        "scenarios/wordcount.toml",
        "--dot",
        &dot.display().to_string(),
    ]);
    assert_run!(
        out,
        exit = 0,
        "lines → tokenize  REBALANCE",
        "not chained: different parallelism (1 → 2); the partitioner is REBALANCE, not FORWARD",
        "tokenize → counts  HASH by word (via by_word)",
        "counts → word_counts  FORWARD  — chained",
        "[2] counts -> Sink: word_counts  (parallelism 2, keyed, 128 key groups)",
        "subtask 0  key groups 0..=63",
        "subtask 1  key groups 64..=127",
        "Slots: 2 needed of 2",
    );
    let dot = std::fs::read_to_string(dot).expect("--dot writes the file");
    assert!(dot.starts_with("digraph \"wordcount\""), "{dot}");
    assert!(
        dot.contains("style=dashed") && dot.contains("style=bold"),
        "{dot}"
    );
}

#[test]
fn run_prints_the_summary_and_writes_report_and_trace() {
    let dir = scratch("run");
    let (json, trace) = (dir.join("r.json"), dir.join("t.jsonl"));
    let out = streamlab(&[
        "run",
        "scenarios/wordcount.toml",
        "--seed",
        "5",
        "--json",
        &json.display().to_string(),
        "--trace",
        &trace.display().to_string(),
    ]);
    assert_run!(
        out,
        exit = 0,
        "scenario `wordcount` · mode streaming · seed 5",
        "outcome     finished",
        "latency     p50",
        "p90",
        "p99",
        "max",
        "tokenize",
        "backpressured",
        "final table",
        "wall time",
        "simulated records per wall second",
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["seed"], 5);
    assert_eq!(report["outcome"]["status"], "finished");
    assert_eq!(report["source_records"], 700);
    let lines = std::fs::read_to_string(&trace).unwrap();
    assert!(lines.lines().count() > 100);
    for l in lines.lines() {
        let v: serde_json::Value = serde_json::from_str(l).expect("every trace line is JSON");
        assert!(v["t_ns"].is_u64() && v["event"].is_string(), "{l}");
    }
    assert!(lines.lines().last().unwrap().contains("\"job_finished\""));
}

#[test]
fn same_seed_same_bytes_other_seed_other_run() {
    let dir = scratch("determinism");
    let run = |seed: &str, tag: &str| {
        let (j, t) = (
            dir.join(format!("{tag}.json")),
            dir.join(format!("{tag}.jsonl")),
        );
        let out = streamlab(&[
            "run",
            "scenarios/chaining.toml",
            "--seed",
            seed,
            "--json",
            &j.display().to_string(),
            "--trace",
            &t.display().to_string(),
            "-q",
        ]);
        assert_run!(out, exit = 0, "seed");
        (std::fs::read(j).unwrap(), std::fs::read(t).unwrap())
    };
    let a = run("9", "a");
    let b = run("9", "b");
    let c = run("10", "c");
    assert!(a.0 == b.0 && a.1 == b.1, "same seed, same report and trace");
    assert_ne!(a.0, c.0, "another seed draws other data");
}

#[test]
fn a_job_that_hits_a_limit_exits_1_and_prints_the_seed() {
    let dir = scratch("limit");
    let p = dir.join("long.toml");
    let text =
        std::fs::read_to_string(crate::util::root().join("scenarios/backpressure.toml")).unwrap();
    std::fs::write(&p, format!("{text}\n[limits]\nmax_sim_time = \"500 ms\"\n")).unwrap();
    let out = streamlab(&["run", &p.display().to_string()]);
    assert_run!(out, exit = 1, "STOPPED", "limits.max_sim_time", "--seed 3");
}

#[test]
fn a_job_that_fails_at_run_time_exits_1_with_the_reason() {
    let dir = scratch("fail");
    let p = dir.join("div.toml");
    std::fs::write(
        &p,
        "[[source]]\nname = \"n\"\nkind = \"inline\"\nevents = [{ x = 2 }, { x = 0 }]\n\
         [[operator]]\nname = \"inv\"\nkind = \"map\"\ninput = \"n\"\nselect = { y = \"10 / x\" }\n\
         [[sink]]\nname = \"out\"\ninput = \"inv\"\n",
    )
    .unwrap();
    let out = streamlab(&["run", &p.display().to_string(), "--seed", "77"]);
    assert_run!(
        out,
        exit = 1,
        "FAILED",
        "java.lang.ArithmeticException: / by zero",
        "--seed 77"
    );
}

#[test]
fn an_output_that_cannot_be_written_is_an_error_and_leaves_nothing_behind() {
    let dir = scratch("unwritable");
    let target = dir.join("no-such-dir").join("r.json");
    let out = streamlab(&[
        "run",
        "scenarios/wordcount.toml",
        "--json",
        &target.display().to_string(),
    ]);
    assert_run!(out, exit = 2, "cannot write the report");
    assert!(!dir.join("no-such-dir").exists());
    let (_, err) = texts(&out);
    assert!(!err.contains("panicked"));
}

#[test]
fn help_lists_the_commands() {
    assert_run!(streamlab(&["--help"]), exit = 0, "run", "plan", "validate");
}

#[test]
fn a_job_without_event_time_shows_no_watermark_section() {
    let out = streamlab(&["run", "scenarios/wordcount.toml"]);
    assert_run!(out, exit = 0, "final table");
    assert!(!texts(&out).0.contains("Watermarks at the end"));
    let out = streamlab(&["run", "scenarios/idle_source.toml"]);
    assert_run!(out, exit = 0, "Watermarks at the end");
}
