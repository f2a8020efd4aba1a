//! `streamlab export`: scenarios become Flink projects whose Java compiles against Flink's
//! jars, and what has no Flink equivalent is refused with a message naming the operator.
//!
//! The javac check needs Flink 2.3's jars — `$FLINK_HOME/lib`, or the `pyflink/lib` of the
//! oracle that `tools/flink-diff/setup` installs (`$FLINK_ORACLE_HOME`, default
//! `~/.cache/flink-oracle`) — and a JDK; without them it prints why and skips that part.
//! Running the DataStream jobs and comparing their output with streamlab's is
//! `tools/flink-diff`'s work; the SQL script (`sql/job.sql`) of the two SQL scenarios is run
//! here too, with `SqlMain`, and its rows checked against the scenarios' expectations.
//! `streamlab plan --flink` (Flink's JobGraph against streamlab's chains) is run on three
//! scenarios, one of which differs.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "streamlab-export-test-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn export(scenario: &str, out: &Path) -> (Option<i32>, String) {
    export_with(scenario, &[], out)
}

/// `streamlab export SCENARIO FLAGS… --out OUT`: exit status and stderr.
fn export_with(scenario: &str, flags: &[&str], out: &Path) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_streamlab"))
        .args(["export", scenario])
        .args(flags)
        .arg("--out")
        .arg(out)
        .current_dir(root())
        .output()
        .expect("the streamlab binary runs");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!err.contains("panicked"), "must never panic:\n{err}");
    (o.status.code(), err)
}

/// Flink's jars, if present.
fn flink_lib() -> Option<PathBuf> {
    if let Ok(h) = std::env::var("FLINK_HOME") {
        let lib = PathBuf::from(h).join("lib");
        if lib.join("flink-dist-2.3.0.jar").exists() {
            return Some(lib);
        }
    }
    let home = std::env::var("FLINK_ORACLE_HOME")
        .map(PathBuf::from)
        .or_else(|_| std::env::var("HOME").map(|h| PathBuf::from(h).join(".cache/flink-oracle")));
    let venv = home.ok()?.join("venv/lib");
    for e in std::fs::read_dir(venv).ok()?.flatten() {
        let lib = e.path().join("site-packages/pyflink/lib");
        if lib.join("flink-dist-2.3.0.jar").exists() {
            return Some(lib);
        }
    }
    None
}

const EXPORTABLE: [&str; 7] = [
    "scenarios/cep_login_failures.toml",
    "scenarios/late_data.toml",
    "scenarios/wordcount.toml",
    "scenarios/window_types.toml",
    "scenarios/window_join.toml",
    "scenarios/long_ride_alerts.toml",
    // Main and SqlMain
    "scenarios/sql_tumbling.toml",
];

#[test]
fn exported_projects_hold_the_job_its_data_a_pom_and_a_readme() {
    for sc in EXPORTABLE {
        let out = scratch(Path::new(sc).file_stem().unwrap().to_str().unwrap());
        let (code, err) = export(sc, &out);
        assert_eq!(code, Some(0), "{sc}: {err}");
        for f in [
            "pom.xml",
            "README.md",
            "src/main/java/streamlab/Main.java",
            "streamlab-chains.jsonl",
            "streamlab-export.json",
        ] {
            assert!(out.join(f).exists(), "{sc}: no {f}");
        }
        let pom = std::fs::read_to_string(out.join("pom.xml")).unwrap();
        assert!(
            pom.contains("<flink.version>2.3.0</flink.version>"),
            "{pom}"
        );
        assert!(pom.contains("<scope>provided</scope>"), "{pom}");
        let readme = std::fs::read_to_string(out.join("README.md")).unwrap();
        assert!(readme.contains("flink run"), "{readme}");
        assert!(
            std::fs::read_dir(out.join("data")).unwrap().count() > 0,
            "{sc}: no data file"
        );
        let _ = std::fs::remove_dir_all(&out);
    }
}

#[test]
fn the_late_data_job_has_the_scenarios_window_watermarks_and_side_output() {
    let out = scratch("late-data-main");
    let (code, err) = export("scenarios/late_data.toml", &out);
    assert_eq!(code, Some(0), "{err}");
    let main = std::fs::read_to_string(out.join("src/main/java/streamlab/Main.java")).unwrap();
    for needle in [
        "TumblingEventTimeWindows.of(Duration.ofMillis(5000), Duration.ofMillis(0))",
        "new PerEventWatermarks(1000L)",
        ".sideOutputLateData(late2)",
        "new OutputTag<>(\"late_orders\"",
        ".name(\"sales_5s\").uid(\"sales_5s\").setParallelism(2).setMaxParallelism(128)",
        "new FileRowSink(outDir, \"late\")",
    ] {
        assert!(main.contains(needle), "missing {needle:?} in\n{main}");
    }
    let data = std::fs::read_to_string(out.join("data/orders.tsv")).unwrap();
    assert!(data.contains("south\t20\t4400"), "{data}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn exported_java_compiles_against_flinks_jars() {
    let Some(lib) = flink_lib() else {
        println!("skipped: no Flink 2.3 jars (set FLINK_HOME or run tools/flink-diff/setup)");
        return;
    };
    if Command::new("javac").arg("-version").output().is_err() {
        println!("skipped: no javac on PATH (a JDK 17 is needed)");
        return;
    }
    for sc in EXPORTABLE {
        let out = scratch(&format!(
            "javac-{}",
            Path::new(sc).file_stem().unwrap().to_str().unwrap()
        ));
        let (code, err) = export(sc, &out);
        assert_eq!(code, Some(0), "{sc}: {err}");
        let dir = out.join("src/main/java/streamlab");
        let mut srcs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        srcs.sort();
        let o = Command::new("javac")
            .args(["--release", "17", "-nowarn", "-cp"])
            .arg(format!("{}/*", lib.display()))
            .arg("-d")
            .arg(out.join("classes"))
            .args(&srcs)
            .output()
            .expect("javac runs");
        assert!(
            o.status.success(),
            "{sc}: javac failed:\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(out.join("classes/streamlab/Main.class").exists());
        let _ = std::fs::remove_dir_all(&out);
    }
}

#[test]
fn operators_without_a_flink_equivalent_are_refused_by_name() {
    // The canonical job's 10 M generated records are written out; twice as many are not.
    let big = std::env::temp_dir().join(format!(
        "streamlab-export-test-{}-canonical20m.toml",
        std::process::id()
    ));
    let text = std::fs::read_to_string(root().join("scenarios/canonical.toml")).unwrap();
    let text = text.replace("count = 10_000_000", "count = 20_000_000");
    assert!(
        text.contains("count = 20_000_000"),
        "canonical.toml changed"
    );
    std::fs::write(&big, text).unwrap();
    for (sc, needle) in [
        (
            big.to_str().unwrap(),
            "`events` (generator source): 20000000 generated records are too many to write out (the export's limit is 10000000)",
        ),
        (
            "scenarios/csv_ingestion_time.toml",
            "ingestion-time timestamps come from processing time",
        ),
        (
            "scenarios/rescale_from_savepoint.toml",
            "[rescale] (stop with a savepoint and resubmit with new parallelism) is not exported",
        ),
    ] {
        let out = scratch("refused");
        let (code, err) = export(sc, &out);
        assert_eq!(code, Some(2), "{sc}: {err}");
        assert!(err.contains("cannot be exported to Flink"), "{sc}: {err}");
        assert!(err.contains(needle), "{sc}: missing {needle:?} in\n{err}");
        assert!(!out.exists(), "{sc}: a refused export writes nothing");
    }
}

#[test]
fn an_injected_failure_throws_once_in_a_job_with_exactly_once_sinks() {
    let out = scratch("inject");
    let (code, err) = export("scenarios/exactly_once_vs_at_least_once.toml", &out);
    assert_eq!(code, Some(0), "{err}");
    let main = std::fs::read_to_string(out.join("src/main/java/streamlab/Main.java")).unwrap();
    assert!(
        main.contains("new ExactlyOnceFileSink(outDir, \"committed\")"),
        "{main}"
    );
    assert!(
        !main.contains("FailOnce"),
        "no failure unless asked:\n{main}"
    );
    let _ = std::fs::remove_dir_all(&out);

    let (code, err) = export_with(
        "scenarios/exactly_once_vs_at_least_once.toml",
        &["--inject-failure"],
        &out,
    );
    assert_eq!(code, Some(0), "{err}");
    let main = std::fs::read_to_string(out.join("src/main/java/streamlab/Main.java")).unwrap();
    assert!(main.contains(".map(new FailOnce("), "{main}");
    let manifest = std::fs::read_to_string(out.join("streamlab-export.json")).unwrap();
    assert!(manifest.contains("\"failure_at\""), "{manifest}");
    let _ = std::fs::remove_dir_all(&out);

    let (code, err) = export_with("scenarios/late_data.toml", &["--inject-failure"], &out);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--inject-failure: the scenario has no failure"),
        "{err}"
    );
}

#[test]
fn a_sql_scenario_exports_its_queries_as_a_flink_sql_script() {
    let out = scratch("sql-script");
    let (code, err) = export("scenarios/sql_tumbling.toml", &out);
    assert_eq!(code, Some(0), "{err}");
    let sql = std::fs::read_to_string(out.join("sql/job.sql")).expect("sql/job.sql");
    for needle in [
        "SET 'parallelism.default' = '1';",
        // the clicks are paced no faster than the periodic watermark: one per record
        "SET 'pipeline.auto-watermark-interval' = '0 ms';",
        "CREATE TABLE `clicks` (\n  `player` STRING,\n  `n` BIGINT,\n  `ts_ms` BIGINT,\n  `ts` AS TO_TIMESTAMP_LTZ(`ts_ms`, 3),\n  WATERMARK FOR ts AS ts - INTERVAL '2' SECOND\n)",
        "'path' = 'data/clicks.tsv'",
        "CREATE TABLE `big_clicks` (\n  `player` STRING,\n  `points` BIGINT\n)",
        "'path' = 'out/per_player_5s'",
        "`window_start` TIMESTAMP(3)",
        "EXECUTE STATEMENT SET\nBEGIN\nINSERT INTO `big_clicks`\nSELECT player, n * 10 AS points FROM clicks WHERE n >= 3;\nINSERT INTO per_player_5s\nSELECT window_start",
        "GROUP BY window_start, window_end, player;\nEND;\n",
    ] {
        assert!(sql.contains(needle), "missing {needle:?} in\n{sql}");
    }
    assert!(out.join("src/main/java/streamlab/SqlMain.java").exists());
    let readme = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(
        readme.contains("streamlab.SqlMain --script sql/job.sql"),
        "{readme}"
    );
    let _ = std::fs::remove_dir_all(&out);

    // an updating query goes to the print connector, without streamlab's `op` column
    let (code, err) = export("scenarios/dynamic_tables.toml", &out);
    assert_eq!(code, Some(0), "{err}");
    let sql = std::fs::read_to_string(out.join("sql/job.sql")).unwrap();
    assert!(
        sql.contains("CREATE TABLE `per_player` (\n  `player` STRING,\n  `clicks` BIGINT\n) WITH (\n  'connector' = 'print'"),
        "{sql}"
    );
    let manifest = std::fs::read_to_string(out.join("streamlab-export.json")).unwrap();
    assert!(manifest.contains("\"updating\": true"), "{manifest}");
    let _ = std::fs::remove_dir_all(&out);

    // no queries, no script
    let (code, err) = export("scenarios/late_data.toml", &out);
    assert_eq!(code, Some(0), "{err}");
    assert!(!out.join("sql/job.sql").exists());
    assert!(!out.join("src/main/java/streamlab/SqlMain.java").exists());
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn the_sql_script_runs_on_flink_and_writes_the_scenarios_rows() {
    let Some(lib) = flink_lib() else {
        println!("skipped: no Flink 2.3 jars (set FLINK_HOME or run tools/flink-diff/setup)");
        return;
    };
    if Command::new("javac").arg("-version").output().is_err() {
        println!("skipped: no javac on PATH (a JDK 17 is needed)");
        return;
    }
    let out = scratch("sql-run");
    let (code, err) = export("scenarios/sql_tumbling.toml", &out);
    assert_eq!(code, Some(0), "{err}");
    run_sql_main(&out, &lib);
    // the csv rows of the window aggregation: every part file of out-sql/per_player_5s
    let mut rows: Vec<String> = Vec::new();
    for e in std::fs::read_dir(out.join("out-sql/per_player_5s"))
        .unwrap()
        .flatten()
    {
        if !e.file_name().to_string_lossy().starts_with('.') {
            let text = std::fs::read_to_string(e.path()).unwrap();
            rows.extend(text.lines().map(str::to_string));
        }
    }
    rows.sort();
    // the scenario's [[expect]]: [0, 5 s) ann 1+2, bob 5+3 (4 900 arrives after 6 100 but within
    // the 2 s bound); [5 s, 10 s) ann 4, bob 7; [10 s, 15 s) ann 1; [15 s, 20 s) bob 2
    assert_eq!(
        rows,
        [
            "\"1970-01-01 00:00:00\",\"1970-01-01 00:00:05\",ann,2,3,2",
            "\"1970-01-01 00:00:00\",\"1970-01-01 00:00:05\",bob,2,8,5",
            "\"1970-01-01 00:00:05\",\"1970-01-01 00:00:10\",ann,1,4,4",
            "\"1970-01-01 00:00:05\",\"1970-01-01 00:00:10\",bob,1,7,7",
            "\"1970-01-01 00:00:10\",\"1970-01-01 00:00:15\",ann,1,1,1",
            "\"1970-01-01 00:00:15\",\"1970-01-01 00:00:20\",bob,1,2,2",
        ]
    );
    let _ = std::fs::remove_dir_all(&out);

    // an updating query: the print connector's changelog is the scenario's, row kinds included
    let (code, err) = export("scenarios/dynamic_tables.toml", &out);
    assert_eq!(code, Some(0), "{err}");
    let stdout = run_sql_main(&out, &lib);
    let changelog: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("per_player> "))
        .collect();
    assert_eq!(
        changelog,
        [
            "+I[ann, 1]",
            "+I[bob, 1]",
            "-U[ann, 1]",
            "+U[ann, 2]",
            "-U[ann, 2]",
            "+U[ann, 3]",
            "-U[bob, 1]",
            "+U[bob, 2]",
            "-U[ann, 3]",
            "+U[ann, 4]",
        ],
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// Compiles `SqlMain` and runs `sql/job.sql` in the project directory; its stdout.
fn run_sql_main(out: &Path, lib: &Path) -> String {
    let o = Command::new("javac")
        .args(["--release", "17", "-nowarn", "-cp"])
        .arg(format!("{}/*", lib.display()))
        .arg("-d")
        .arg(out.join("classes"))
        .arg(out.join("src/main/java/streamlab/SqlMain.java"))
        // SqlMain --plan prints with FileRowSink.json
        .arg(out.join("src/main/java/streamlab/FileRowSink.java"))
        .output()
        .expect("javac runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = Command::new("java")
        .args([
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "-Dlog4j2.level=OFF",
            "-cp",
        ])
        .arg(format!(
            "{}:{}/*",
            out.join("classes").display(),
            lib.display()
        ))
        .arg("streamlab.SqlMain")
        .current_dir(out)
        .output()
        .expect("java runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_scenario_of_sql_queries_without_a_datastream_counterpart_exports_as_sql_only() {
    let out = scratch("sql-only");
    let (code, err) = export("scenarios/sql_windows.toml", &out);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.join("sql/job.sql").exists());
    assert!(out.join("src/main/java/streamlab/SqlMain.java").exists());
    assert!(
        !out.join("src/main/java/streamlab/Main.java").exists(),
        "no DataStream job"
    );
    let sql = std::fs::read_to_string(out.join("sql/job.sql")).unwrap();
    assert!(
        sql.contains("FROM TABLE(CUMULATE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '6' SECOND))"),
        "{sql}"
    );
    let pom = std::fs::read_to_string(out.join("pom.xml")).unwrap();
    assert!(
        pom.contains("<mainClass>streamlab.SqlMain</mainClass>"),
        "{pom}"
    );
    let manifest = std::fs::read_to_string(out.join("streamlab-export.json")).unwrap();
    assert!(
        manifest.contains("\"sql_only\"")
            && manifest.contains("CUMULATE windows exist in Flink only in SQL"),
        "{manifest}"
    );
    assert!(
        manifest.contains("\"cumulative.window\": \"WindowAggregate CUMULATE groupBy=[player]\""),
        "{manifest}"
    );
    let _ = std::fs::remove_dir_all(&out);

    // the regular join: a join's two event-time columns are cast for the sink
    let (code, err) = export("scenarios/sql_joins.toml", &out);
    assert_eq!(code, Some(0), "{err}");
    let sql = std::fs::read_to_string(out.join("sql/job.sql")).unwrap();
    assert!(
        sql.contains("CAST(`ts0` AS TIMESTAMP_LTZ(3)) AS `ts0` FROM (\nSELECT c.player, c.n, o.amount, c.ts, o.ts\n"),
        "{sql}"
    );
    assert!(
        sql.contains(") AS `sql_result` (`player`, `n`, `amount`, `ts`, `ts0`);"),
        "{sql}"
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// `streamlab plan FILE --flink`: exit status, stdout, stderr.
fn plan_flink(scenario: &str) -> (Option<i32>, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_streamlab"))
        .args(["plan", scenario, "--flink"])
        .current_dir(root())
        .output()
        .expect("the streamlab binary runs");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!err.contains("panicked"), "must never panic:\n{err}");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        err,
    )
}

#[test]
fn plan_flink_refuses_what_cannot_be_exported_before_looking_for_flink() {
    let (code, _, err) = plan_flink("scenarios/csv_ingestion_time.toml");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cannot be exported to Flink"), "{err}");
    assert!(err.contains("nothing to compare with Flink"), "{err}");
}

#[test]
fn plan_flink_compares_streamlabs_chains_with_the_jobgraph_flink_builds() {
    if flink_lib().is_none() {
        println!("skipped: no Flink 2.3 jars (set FLINK_HOME or run tools/flink-diff/setup)");
        return;
    }
    if Command::new("javac").arg("-version").output().is_err() {
        println!("skipped: no javac on PATH (a JDK 17 is needed)");
        return;
    }
    // the DataStream job: every chain has its JobGraph vertex, operators and parallelism
    let (code, out, err) = plan_flink("scenarios/late_data.toml");
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("Job `late_data`"),
        "streamlab's plan first:\n{out}"
    );
    assert!(
        out.contains("same      streamlab [sales_5s] p2  ⇔  Flink \"sales_5s\" p2"),
        "{out}"
    );
    assert!(out.contains("chains agree (4 of 4)"), "{out}");

    // SQL only: Flink's SQL planner's JobGraph, by the roles of the operators
    let (code, out, err) = plan_flink("scenarios/sql_windows.toml");
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("the DataStream job is not exported (SQL only"),
        "{out}"
    );
    assert!(out.contains("Flink's SQL planner"), "{out}");
    assert!(out.contains("chains agree (3 of 3)"), "{out}");

    // the GROUP BY two queries share runs once, in Flink (sub-plan reuse) and in streamlab:
    // one GroupAggregate vertex feeding busy's HAVING and histogram's outer GROUP BY
    let (code, out, err) = plan_flink("scenarios/sql_changelog.toml");
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("same      streamlab [histogram.in.reduce"),
        "{out}"
    );
    assert!(!out.contains("different"), "{out}");
    assert_eq!(out.matches("chains agree (3 of 3)").count(), 2, "{out}");
}
