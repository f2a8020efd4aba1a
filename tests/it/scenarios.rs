//! What each bundled scenario is meant to show, checked; and determinism for all of them.

use crate::util::{bundled_scenarios, rel, root};
use std::collections::BTreeMap;
use streamlab_engine::check;
use streamlab_engine::oracle;
use streamlab_engine::plan::plan;
use streamlab_engine::report::{RunReport, Status};
use streamlab_engine::scenario::{self, NodeKind, Scenario, SourceData};
use streamlab_engine::sim::RunOptions;

fn load(path: &str) -> Scenario {
    check::load(&root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn run_with(s: &Scenario, seed: Option<u64>) -> (RunReport, u64) {
    let p = plan(s).unwrap_or_else(|e| panic!("{}: {e}", s.name));
    let out = oracle::run(
        s,
        &p,
        RunOptions {
            seed,
            trace: None,
            hash_trace: true,
            ..Default::default()
        },
    )
    .expect("no I/O");
    (out.report, out.trace_hash.expect("hashing requested"))
}

fn sink<'a>(r: &'a RunReport, name: &str) -> &'a streamlab_engine::report::SinkReport {
    r.sinks
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no sink {name}"))
}

fn task_bp(r: &RunReport, chain_prefix: &str) -> f64 {
    r.tasks
        .iter()
        .filter(|t| t.chain.starts_with(chain_prefix))
        .map(|t| t.backpressured_ms)
        .sum()
}

#[test]
fn every_bundled_scenario_runs_to_the_end_and_replays_identically() {
    let all = bundled_scenarios();
    assert!(all.len() >= 4, "{all:?}");
    for path in all {
        let s = check::load(&path).unwrap_or_else(|e| panic!("{}: {e}", rel(&path)));
        let (a, ha) = run_with(&s, None);
        let (b, hb) = run_with(&s, None);
        // A scenario that shows a job failing for good says so in its expectations.
        let fails = s.expectations.iter().any(|e| {
            e.checks
                .contains(&streamlab_engine::scenario::expect::Check::Status(
                    "failed".into(),
                ))
        });
        assert_eq!(
            a.outcome.status,
            if fails {
                Status::Failed
            } else {
                Status::Finished
            },
            "{}: {:?}",
            rel(&path),
            a.outcome.message
        );
        let (ja, jb) = (
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap(),
        );
        assert!(
            ja == jb,
            "{}: same seed must give the same report",
            rel(&path)
        );
        assert_eq!(ha, hb, "{}: same seed must give the same trace", rel(&path));
    }
}

/// Flink's tokenizer, written here independently of the engine: lower case, split at runs
/// of non-word characters.
fn direct_count(s: &Scenario) -> BTreeMap<String, i64> {
    let src = s
        .nodes
        .iter()
        .find(|n| n.name == "lines")
        .expect("lines source");
    let NodeKind::Source(spec) = &src.kind else {
        unreachable!()
    };
    let SourceData::Rows { rows, repeat, .. } = &spec.data else {
        unreachable!()
    };
    let mut counts = BTreeMap::new();
    for row in rows.iter() {
        let scenario::Lit::Str(line) = &row[0] else {
            unreachable!()
        };
        let lower = line.to_lowercase();
        for w in lower
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .filter(|w| !w.is_empty())
        {
            *counts.entry(w.to_string()).or_insert(0) += *repeat as i64;
        }
    }
    counts
}

#[test]
fn the_word_counts_equal_a_direct_count_of_the_input() {
    let text = std::fs::read_to_string(root().join("scenarios/wordcount.toml")).unwrap();
    // show the whole table, not just the top 10
    let s = check::parse_str(
        "wordcount.toml",
        &text.replace("capture = 10", "capture = 100000"),
        None,
    )
    .unwrap();
    let (r, _) = run_with(&s, None);
    let table = &sink(&r, "word_counts").rows;
    let got: BTreeMap<String, i64> = table
        .iter()
        .map(|row| {
            (
                row[0].as_str().unwrap().to_string(),
                row[1].as_i64().unwrap(),
            )
        })
        .collect();
    let want = direct_count(&s);
    assert_eq!(got, want);
    assert_eq!(
        want["the"], 440,
        "Hamlet's soliloquy has 22 `the`, read 20 times"
    );
    let total: i64 = want.values().sum();
    assert_eq!(
        r.sink_records as i64, total,
        "a rolling count emits one update per word"
    );
}

#[test]
fn chaining_saves_latency_and_cpu() {
    let (r, _) = run_with(&load("scenarios/chaining.toml"), None);
    let (c, u) = (sink(&r, "chained_out"), sink(&r, "split_out"));
    assert_eq!(
        c.records,
        r.operators
            .iter()
            .find(|o| o.name == "chained_filter")
            .unwrap()
            .records_out
    );
    assert!(
        c.latency.p50_ms * 10.0 < u.latency.p50_ms,
        "chained p50 {} ms vs unchained {} ms",
        c.latency.p50_ms,
        u.latency.p50_ms
    );
    assert!(
        c.throughput_per_s > 1.3 * u.throughput_per_s,
        "chained {} /s vs unchained {} /s",
        c.throughput_per_s,
        u.throughput_per_s
    );
    let busy = |prefix: &str| -> f64 {
        r.tasks
            .iter()
            .filter(|t| t.chain.contains(prefix))
            .map(|t| t.busy_ms)
            .sum()
    };
    assert!(busy("chained") < busy("split"), "serialization costs CPU");
}

#[test]
fn a_slow_sink_backpressures_the_source() {
    let (r, _) = run_with(&load("scenarios/backpressure.toml"), None);
    let out = sink(&r, "slow_db");
    // 40 us per record: the sink manages 25 k records/s however fast the source could go
    assert!(
        (24_000.0..25_100.0).contains(&out.throughput_per_s),
        "{}",
        out.throughput_per_s
    );
    assert!(
        task_bp(&r, "Source: orders") > 2_500.0,
        "the source spends most of the run backpressured"
    );
    assert_eq!(
        task_bp(&r, "Sink: slow_db"),
        0.0,
        "the bottleneck itself is never backpressured"
    );
    assert!(
        out.latency.p99_ms > 2_000.0,
        "records wait at the source: latency grows to seconds"
    );
}

#[test]
fn the_canonical_job_counts_every_record() {
    let (r, _) = run_with(&load("scenarios/canonical.toml"), None);
    let op = |n: &str| r.operators.iter().find(|o| o.name == n).unwrap().clone();
    assert_eq!(op("events").records_out, 10_000_000);
    assert_eq!(op("scale").records_out, 10_000_000);
    let kept = op("drop_small").records_out;
    // value is uniform in 1..=100, scaled ×3; value*3 > 30 ⇔ value > 10: 90 %
    assert!((8_990_000..9_010_000).contains(&kept), "{kept}");
    assert_eq!(op("totals").records_in, kept);
    assert_eq!(r.sink_records, kept);
    assert_eq!(op("totals").subtasks.len(), 4);
}

#[test]
fn a_partitioned_source_reads_each_row_in_the_subtask_of_its_partition_and_stays_open() {
    let text = r#"
[cluster]
slots_per_task_manager = 3
[job]
parallelism = 3
[[source]]
name = "topic"
kind = "inline"
partition = "p"
duration = "10 s"
events = [{ p = 0 }, { p = 2 }, { p = 2 }, { p = 5 }, { p = 0 }]
[[sink]]
name = "out"
input = "topic"
"#;
    let s = check::parse_str("partitioned.toml", text, None).unwrap();
    let (r, _) = run_with(&s, None);
    let src = r.operators.iter().find(|o| o.name == "topic").unwrap();
    let per: Vec<u64> = src.subtasks.iter().map(|c| c.records_out).collect();
    assert_eq!(
        per,
        vec![2, 0, 3],
        "partition mod parallelism picks the subtask"
    );
    assert_eq!(
        r.outcome.at_ns, 10_000_000_000,
        "the source stays open for its duration"
    );
}

/// Two sources at the same pace whose event times advance at different speeds; `aligned`
/// puts them in one watermark-alignment group.
fn two_speed_sources(aligned: bool) -> Scenario {
    let events = |step: i64| {
        (0..30)
            .map(|i| format!("{{ ts = {} }}", i * step))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let group = if aligned {
        r#", alignment_group = "g", max_drift = "2 s""#
    } else {
        ""
    };
    let wm = format!(
        r#"watermarks = {{ strategy = "bounded", max_out_of_orderness = "0 ms", interval = "100 ms"{group} }}"#
    );
    let text = format!(
        r#"
[cluster]
slots_per_task_manager = 2
[[source]]
name = "fast"
kind = "inline"
rate = 10
timestamp = "ts"
{wm}
events = [{}]
[[source]]
name = "slow"
kind = "inline"
rate = 10
timestamp = "ts"
{wm}
events = [{}]
[[operator]]
name = "both"
kind = "union"
inputs = ["fast", "slow"]
[[sink]]
name = "out"
input = "both"
"#,
        events(1000),
        events(100)
    );
    check::parse_str("alignment.toml", &text, None).unwrap()
}

#[test]
fn watermark_alignment_pauses_the_source_that_runs_ahead() {
    let (free, _) = run_with(&two_speed_sources(false), None);
    let (aligned, _) = run_with(&two_speed_sources(true), None);
    // Unaligned, every record leaves its source when due: latency is the 100 ms flush.
    assert!(sink(&free, "out").latency.max_ms < 200.0);
    // Aligned, `fast` (10 s of event time per second) is paused whenever its watermark is
    // more than 2 s ahead of `slow`'s; its records wait until the next alignment check.
    assert!(
        sink(&aligned, "out").latency.max_ms > 900.0,
        "max latency {} ms",
        sink(&aligned, "out").latency.max_ms
    );
    assert_eq!(sink(&aligned, "out").records, 60, "pausing loses nothing");
}
