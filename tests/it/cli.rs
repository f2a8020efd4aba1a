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
    // the graph levels: operators in job vertices, subtasks in slots of TaskManagers
    assert!(
        dot.contains("JobGraph vertex [2] counts -> Sink: word_counts (p=2)")
            && dot.contains("label=\"TaskManager 0\"")
            && dot.contains("counts -> Sink: word_counts #1\\nkey groups 64..=127"),
        "{dot}"
    );
}

#[test]
fn plan_shows_the_four_graph_levels_under_flinks_names() {
    let (text, _) = texts(&streamlab(&["plan", "scenarios/wordcount.toml"]));
    let at = |h: &str| {
        text.find(h)
            .unwrap_or_else(|| panic!("no `{h}` in:\n{text}"))
    };
    let levels = [
        at("StreamGraph — one stream node per operator"),
        at("JobGraph — one job vertex per chain"),
        at("ExecutionGraph — one execution vertex per subtask"),
        at("Physical placement — subtasks in slots of TaskManagers"),
    ];
    assert!(levels.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert!(
        text.contains("job vertex [0] Source: lines  (parallelism 1)"),
        "{text}"
    );
}

#[test]
fn the_client_p_sets_the_parallelism_of_operators_that_set_none_and_the_plan_says_so() {
    let plan = |args: &[&str]| {
        let mut a = vec!["plan", "scenarios/wordcount.toml"];
        a.extend_from_slice(args);
        let out = streamlab(&a);
        assert_eq!(out.status.code(), Some(0), "{}", texts(&out).1);
        texts(&out).0
    };
    let conf = plan(&[]);
    assert!(
        conf.contains("Parallelism of operators that set none: 2 — configuration")
            && conf.contains("tokenize     p=2 (configuration)")
            && conf.contains("lines        p=1 (operator)"),
        "{conf}"
    );
    let client = plan(&["-p", "1"]);
    assert!(
        client.contains("Parallelism of operators that set none: 1 — client: flink run -p")
            && client.contains("tokenize     p=1 (client -p)")
            && client.contains("lines        p=1 (operator)")
            && client.contains("in 2 chains; needs 1 slot"),
        "{client}"
    );
    let env = plan(&["-p", "1", "--set", "job.environment_parallelism=2"]);
    assert!(
        env.contains("2 — environment: env.setParallelism")
            && env.contains("client -p 1 is not used: the job's main sets env.setParallelism(2)")
            && env.contains("tokenize     p=2 (environment)"),
        "{env}"
    );
    // the run takes the same parallelism as the plan
    let (run, _) = texts(&streamlab(&["run", "scenarios/wordcount.toml", "-p", "1"]));
    assert_eq!(summary_parallelism(&run, "tokenize"), Some("1"), "{run}");
}

/// The parallelism column of an operator's line in `run`'s Operators table.
fn summary_parallelism<'a>(run: &'a str, operator: &str) -> Option<&'a str> {
    run.lines()
        .find(|l| l.trim_start().starts_with(operator))
        .and_then(|l| l.split_whitespace().nth(1))
}

#[test]
fn set_changes_one_value_for_a_run_and_errors_point_into_the_file() {
    let out = streamlab(&[
        "run",
        "scenarios/wordcount.toml",
        "--set",
        "job.parallelism=oops",
    ]);
    assert_run!(
        out,
        exit = 2,
        "scenarios/wordcount.toml (with --set job.parallelism=oops)",
        "expected an integer",
    );
    let out = streamlab(&["run", "scenarios/wordcount.toml", "--set", "jobs.x=1"]);
    assert_run!(out, exit = 2, "unknown part `jobs`");
    let out = streamlab(&["run", "scenarios/wordcount.toml", "-p", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let out = streamlab(&[
        "run",
        "scenarios/wordcount.toml",
        "--set",
        "job.parallelism=1",
    ]);
    let (run, err) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(summary_parallelism(&run, "tokenize"), Some("1"), "{run}");
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

/// The `Tasks` section of a run summary: one line per subtask.
fn task_lines(summary: &str) -> Vec<String> {
    summary
        .lines()
        .skip_while(|l| !l.starts_with("Tasks"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            l.split("  ")
                .find(|c| !c.is_empty())
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

#[test]
fn the_summary_keeps_subtask_numbers_labels_its_latency_and_counts_in_words() {
    // long chain names: cut in the middle, so `#0` and `#1` stay and no two rows read the same
    let out = streamlab(&["run", "scenarios/exactly_once_vs_at_least_once.toml"]);
    assert_run!(
        out,
        exit = 0,
        "(record creation → sink, all 2 sinks together; each sink below)"
    );
    let (so, _) = texts(&out);
    let names = task_lines(&so);
    assert!(names.len() >= 4, "{names:?}");
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        names.len(),
        "two task rows read the same: {names:?}"
    );
    for n in &names {
        assert!(n.contains(" #"), "{n}: the subtask index was cut off");
        assert!(n.chars().count() <= 40, "{n}");
    }
    // one sink: the headline says which
    let out = streamlab(&["run", "scenarios/wordcount.toml", "--rows", "3"]);
    assert_run!(
        out,
        exit = 0,
        "(record creation → sink `word_counts`)",
        "final table, showing 3 of 10 captured rows (170 rows in all): word, n",
    );
    let (so, _) = texts(&out);
    let rows: Vec<&str> = so
        .lines()
        .skip_while(|l| !l.contains("final table"))
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .collect();
    assert_eq!(rows, ["    the, 440", "    of, 300", "    to, 300"]);
    // singular where there is one
    let dir = scratch("one-chain");
    let p = dir.join("one.toml");
    std::fs::write(
        &p,
        "[[source]]\nname = \"n\"\nkind = \"inline\"\nevents = [{ x = 1 }]\n\
         [[sink]]\nname = \"out\"\ninput = \"n\"\n",
    )
    .unwrap();
    let f = p.display().to_string();
    let out = streamlab(&["validate", &f]);
    assert_run!(out, exit = 0, "ok — 2 operators, 1 chain, 1 slot needed of");
    let out = streamlab(&["run", &f, "-q"]);
    assert_run!(out, exit = 0, ": finished, 1 record into sinks");
    let (so, _) = texts(&out);
    assert!(!so.contains("Finished"), "{so}");
}

#[test]
fn quiet_says_in_words_how_a_run_ended_and_a_failure_without_restart_says_so() {
    let dir = scratch("quiet-words");
    let p = dir.join("long.toml");
    let text =
        std::fs::read_to_string(crate::util::root().join("scenarios/backpressure.toml")).unwrap();
    std::fs::write(&p, format!("{text}\n[limits]\nmax_sim_time = \"500 ms\"\n")).unwrap();
    let out = streamlab(&["run", &p.display().to_string(), "-q"]);
    assert_run!(out, exit = 1, "backpressure: stopped at a limit,");
    assert!(!texts(&out).0.contains("LimitReached"));
    // no restart strategy: the failed tasks are cancelled, not restarted
    let p = dir.join("none.toml");
    let text =
        std::fs::read_to_string(crate::util::root().join("scenarios/restart_strategies.toml"))
            .unwrap()
            .replace("strategy = \"exponential-delay\"", "strategy = \"none\"");
    std::fs::write(&p, text).unwrap();
    let out = streamlab(&["run", &p.display().to_string()]);
    assert_run!(out, exit = 1, "cancelled · not restarted: the job failed");
    let (so, _) = texts(&out);
    assert!(!so.contains("restarted · no restart"), "{so}");
    let out = streamlab(&["run", &p.display().to_string(), "-q"]);
    assert_run!(out, exit = 1, "restart_strategies: failed,");
}

#[test]
fn a_sweep_of_parallelism_runs_the_values_that_fit_and_names_the_one_that_does_not() {
    let dir = scratch("sweep-parallelism");
    let out = streamlab(&[
        "sweep",
        "scenarios/latency_vs_throughput.toml",
        "--set",
        "job.parallelism=1,2,4",
        "--modes",
        "streaming,acking",
        "--out",
        &dir.display().to_string(),
    ]);
    assert_run!(
        out,
        exit = 0,
        "not run: job.parallelism=4",
        "The job needs 4 slots but the cluster has 2",
    );
    let sweep: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(sweep["points"].as_array().unwrap().len(), 4);
    assert_eq!(sweep["values"], serde_json::json!(["1", "2"]));
    assert_eq!(sweep["invalid"][0]["setting"], "job.parallelism=4");
    assert!(dir.join("latency_vs_setting.png").exists());
    assert!(dir.join("throughput_vs_setting.svg").exists());
    assert!(!dir.join("latency_vs_throughput.svg").exists());
    // the table: every column starts at the same place on every line
    let (so, _) = texts(&out);
    let table: Vec<&str> = so
        .lines()
        .filter(|l| l.starts_with("  ") && !l.contains("not run"))
        .collect();
    assert_eq!(table.len(), 5, "{so}");
    let col = |l: &str, word: &str| l.find(word).unwrap();
    let setting_at = col(table[0], "setting");
    let outcome_at = col(table[0], "outcome");
    let p99_end = col(table[0], "p99 ms") + "p99 ms".len();
    for l in &table[1..] {
        assert_eq!(col(l, "job.parallelism"), setting_at, "{so}");
        assert_eq!(col(l, "finished"), outcome_at, "{so}");
        // numbers right-aligned under their header
        assert_eq!(col(l, "  finished"), p99_end, "{so}");
    }
    // the doc page's example runs as it says
    let doc = std::fs::read_to_string(
        crate::util::root().join("docs/scenarios/latency_vs_throughput.md"),
    )
    .unwrap();
    assert!(doc.contains("`--set job.parallelism=1,2`"));
    // nothing valid at all: bad input
    let out = streamlab(&[
        "sweep",
        "scenarios/latency_vs_throughput.toml",
        "--set",
        "job.parallelism=4,8",
        "--out",
        &dir.join("none").display().to_string(),
    ]);
    assert_run!(
        out,
        exit = 2,
        "no value of --set job.parallelism gives a valid scenario"
    );
}

#[test]
fn compare_calls_wrong_counts_after_lost_state_wrong_results() {
    let dir = scratch("wrong-results");
    let out = streamlab(&[
        "compare",
        "scenarios/tm_crash_recovery.toml",
        "--modes",
        "streaming,acking",
        "--out",
        &dir.display().to_string(),
    ]);
    assert_run!(
        out,
        exit = 0,
        "sink `windows`: 700 records, 0 duplicates, 0 missing, 100 wrong results"
    );
    let (so, _) = texts(&out);
    assert!(!so.contains("100 duplicates"), "{so}");
    // the storm scenario's page says what batch mode does on a failure
    let out = streamlab(&[
        "compare",
        "scenarios/storm_acking_duplicates.toml",
        "--modes",
        "batch",
        "--out",
        &dir.join("storm").display().to_string(),
    ]);
    assert_run!(out, exit = 0, "0 duplicates, 0 missing");
    let html = std::fs::read_to_string(dir.join("storm/report.html")).unwrap();
    assert!(!html.contains("restarts a stage"));
    // At 2 s the BATCH job has not started (it waits for the complete input).
    assert!(html.contains("batch has not started yet"));
}

/// `run --check-determinism`: two runs byte-identical; with simultaneous events reversed, a
/// rolling sum fed by four source subtasks (canonical's `totals`) changes its intermediate
/// rows, a job without such a reduce does not.
#[test]
fn check_determinism_says_which_sinks_depend_on_the_interleaving() {
    assert_run!(
        streamlab(&["run", "scenarios/late_data.toml", "--check-determinism"]),
        exit = 0,
        "deterministic: two runs gave byte-identical reports and traces",
        "order-independent: with simultaneous events processed in reverse order every sink received the same rows (2 sinks)",
    );
    assert_run!(
        streamlab(&["run", "scenarios/canonical.toml", "--check-determinism"]),
        exit = 0,
        "deterministic: two runs gave byte-identical reports and traces",
        "interleaving: 1 of 1 sinks change with the order of simultaneous events",
        "sink `out`: its rows depend on how simultaneous events interleave",
    );
}
