//! Criterion benchmarks of the workloads issue 20 names, each measured against the canonical
//! rolling-sum job in the same run (the machine is shared: only ratios measured side by side
//! mean anything).
//!
//! Every workload is `scenarios/canonical.toml` changed in one respect — the keyed rolling
//! sum replaced by a window, more keys, another parallelism, an exactly-once sink, a longer
//! expression — run for `RECORDS` records:
//!
//! * `window`: the rolling sum (baseline), event-time tumbling windows of 1 s and 100 ms.
//! * `open_windows`: tumbling, session (gap 1 s) and sliding (4 s / 1 s) windows over 10³ and
//!   10⁵ keys — the per-record cost should not grow with the number of open windows.
//! * `parallelism`: the same records at parallelism 1, 16 and 256.
//! * `exactly_once`: an exactly-once (two-phase commit) sink with 1 s checkpoints.
//! * `expressions`: `value * 3 + 1` instead of `value * 3`; the reduce as `expr` instead of
//!   `sum`.
//! * `explain`: the provenance `explain` records — the tumbling 1 s job re-run with the
//!   recorder watching one window of one key (`explain --window`), against the same job run
//!   plainly (`streamlab run` records nothing: the recorder is attached only by `explain`).
//! * `hand_loop`: what the canonical job computes, as a plain Rust loop (the floor).
//! * `multi_run`: `sweep`, `compare`, `chaos` and `crashpoints` as the CLI runs them (the
//!   `streamlab` binary), with one worker thread and with every core; the summary prints the
//!   speed-up (wall time: run it on an otherwise idle machine).
//!
//! After the Criterion groups, a summary prints each workload's median as a ratio to the
//! baseline measured in the same run. Run with `cargo bench --bench workloads`;
//! `STREAMLAB_BENCH_QUICK=1` for a short smoke run.

mod common;

use common::run;
use criterion::{Criterion, Throughput};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;
use streamlab_engine::check;
use streamlab_engine::core::event_time::EventTime;
use streamlab_engine::explain::{self, Question};
use streamlab_engine::plan;
use streamlab_engine::scenario::Scenario;

/// Records per run of every workload.
const RECORDS: u64 = 2_000_000;

/// How a workload differs from the canonical job.
#[derive(Clone)]
struct Variant {
    keys: u64,
    parallelism: u32,
    /// The `select` of the map (`value * 3` in canonical).
    map_value: &'static str,
    /// The operator after `key_by` (a rolling `sum` in canonical), as TOML lines.
    aggregate: String,
    /// Extra source lines (watermarks), the sink's guarantee, checkpointing.
    event_time: bool,
    exactly_once: bool,
}

impl Default for Variant {
    fn default() -> Self {
        Variant {
            keys: 1000,
            parallelism: 4,
            map_value: "value * 3",
            aggregate: "kind = \"reduce\"\nfunction = \"sum\"\nfield = \"value\"".into(),
            event_time: false,
            exactly_once: false,
        }
    }
}

/// A window aggregate summing `value` (`window` is the TOML inline table).
fn window(window: &str) -> String {
    format!("kind = \"window\"\nwindow = {window}\nfunction = \"sum\"\nfield = \"value\"")
}

impl Variant {
    fn windowed(window_table: &str) -> Variant {
        Variant {
            aggregate: window(window_table),
            event_time: true,
            ..Variant::default()
        }
    }

    /// The scenario text.
    fn toml(&self) -> String {
        let p = self.parallelism;
        let tms = p.div_ceil(4).max(1);
        let watermarks = if self.event_time {
            "watermarks = { strategy = \"bounded\", max_out_of_orderness = \"0 ms\" }\n"
        } else {
            ""
        };
        let checkpointing = if self.exactly_once {
            "[checkpointing]\ninterval = \"1 s\"\n"
        } else {
            ""
        };
        let sink = if self.exactly_once {
            "guarantee = \"exactly_once\"\n"
        } else {
            "kind = \"discard\"\n"
        };
        format!(
            "name = \"bench\"\nseed = 7\n\n[cluster]\ntask_managers = {tms}\nslots_per_task_manager = 4\ncores_per_task_manager = 4\n\n[job]\nparallelism = {p}\n\n{checkpointing}\n[[source]]\nname = \"events\"\nkind = \"generator\"\ncount = {RECORDS}\nfields.key = {{ kind = \"key\", count = {keys} }}\nfields.value = {{ kind = \"uniform\", min = 1, max = 100 }}\n{watermarks}\n[[operator]]\nname = \"scale\"\nkind = \"map\"\ninput = \"events\"\nselect = {{ key = \"key\", value = \"{map}\" }}\n\n[[operator]]\nname = \"drop_small\"\nkind = \"filter\"\ninput = \"scale\"\nwhere = \"value > 30\"\n\n[[operator]]\nname = \"by_key\"\nkind = \"key_by\"\ninput = \"drop_small\"\nkey = \"key\"\n\n[[operator]]\nname = \"totals\"\ninput = \"by_key\"\n{agg}\n\n[[sink]]\nname = \"out\"\ninput = \"totals\"\n{sink}",
            keys = self.keys,
            map = self.map_value,
            agg = self.aggregate,
        )
    }

    fn load(&self) -> (Scenario, plan::Plan) {
        let s = check::parse_str("bench", &self.toml(), Some(Path::new("scenarios")))
            .unwrap_or_else(|e| panic!("bench scenario: {e:?}\n{}", self.toml()));
        let p = plan::plan(&s).expect("bench scenario plans");
        (s, p)
    }
}

/// The canonical job by hand: draw a key and a value per record from the same ChaCha8
/// generator the simulated source uses (32 random bits each, Lemire's reduction), map,
/// filter, sum per key in a vector — no simulation, no network, no time.
fn hand_loop(records: u64, keys: u64) -> u64 {
    let mut rng = streamlab_engine::core::rng::SeedTree::new(7).stream("hand loop");
    let mut sums = vec![0u64; keys as usize];
    let mut emitted = 0;
    for _ in 0..records {
        let key = rng.below_u32(keys as u32) as usize;
        let value = u64::from(rng.below_u32(100)) + 1;
        let value = value * 3;
        if value > 30 {
            sums[key] += value;
            emitted += 1;
        }
    }
    black_box(&sums);
    emitted
}

/// The multi-run commands: name, arguments (`OUT`: a scratch output directory).
const MULTI_RUN: [(&str, &[&str]); 4] = [
    (
        "sweep, 6 rates x 4 modes",
        &[
            "sweep",
            "scenarios/latency_vs_throughput.toml",
            "--set",
            "sources.events.rate=1000,5000,10000,20000,50000,100000",
            "--out",
            "OUT",
        ],
    ),
    (
        "compare, 4 modes",
        &[
            "compare",
            "scenarios/streaming_vs_microbatch.toml",
            "--out",
            "OUT",
        ],
    ),
    (
        "chaos, 200 runs",
        &[
            "chaos",
            "scenarios/chaos_finds_duplicates.toml",
            "--runs",
            "200",
            "--out",
            "OUT",
        ],
    ),
    (
        "crashpoints, TaskManagers",
        &[
            "crashpoints",
            "scenarios/exactly_once_vs_at_least_once.toml",
            "--kinds",
            "taskmanager",
            "--out",
            "OUT",
        ],
    ),
];

/// Runs a multi-run command with `threads` worker threads (`None`: every core), writing into
/// `out`; it must exit 0, or 1 (a job failed or chaos found a counterexample).
fn multi_run(args: &[&str], threads: Option<usize>, out: &Path) {
    let _ = std::fs::remove_dir_all(out);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_streamlab"));
    cmd.args(args.iter().map(|&a| {
        if a == "OUT" {
            out.as_os_str()
        } else {
            a.as_ref()
        }
    }));
    match threads {
        Some(n) => cmd.env("RAYON_NUM_THREADS", n.to_string()),
        None => cmd.env_remove("RAYON_NUM_THREADS"),
    };
    let status = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("the streamlab binary runs");
    assert!(
        matches!(status.code(), Some(0 | 1)),
        "streamlab {args:?}: {status}"
    );
}

/// The job `explain` re-runs: canonical with 1 s tumbling windows.
fn explain_workload() -> (Scenario, plan::Plan) {
    Variant::windowed("{ type = \"tumbling\", size = \"1 s\" }").load()
}

/// Why did window `[0, 1 s)` of key 21 fire? Every record of the run falls in that range,
/// so the recorder considers every one (its worst case).
fn window_question() -> Question {
    Question::Window {
        operator: "totals".into(),
        key: "21".into(),
        start: EventTime::from_millis(0),
    }
}

/// Answers the window question (one re-run with the recorder attached).
fn explain_window(s: &Scenario, p: &plan::Plan, q: &Question) -> usize {
    let answer = explain::explain(s, p, None, q).expect("the window exists");
    assert!(
        answer.render().contains("It fired"),
        "the bench's window fired"
    );
    answer.render().len()
}

/// The workloads: (group, name, variant).
fn workloads() -> Vec<(&'static str, String, Variant)> {
    let mut w: Vec<(&'static str, String, Variant)> = vec![
        (
            "window",
            "rolling sum (canonical)".into(),
            Variant::default(),
        ),
        (
            "window",
            "tumbling 1 s".into(),
            Variant::windowed("{ type = \"tumbling\", size = \"1 s\" }"),
        ),
        (
            "window",
            "tumbling 100 ms".into(),
            Variant::windowed("{ type = \"tumbling\", size = \"100 ms\" }"),
        ),
    ];
    for keys in [1_000, 100_000] {
        for (kind, table) in [
            ("tumbling", "{ type = \"tumbling\", size = \"1 s\" }"),
            ("session", "{ type = \"session\", gap = \"1 s\" }"),
            (
                "sliding",
                "{ type = \"sliding\", size = \"4 s\", slide = \"1 s\" }",
            ),
        ] {
            let mut v = Variant::windowed(table);
            v.keys = keys;
            w.push(("open_windows", format!("{kind}, {keys} keys"), v));
        }
    }
    for p in [1, 16, 256] {
        let v = Variant {
            parallelism: p,
            ..Variant::default()
        };
        w.push(("parallelism", format!("parallelism {p}"), v));
    }
    let v = Variant {
        exactly_once: true,
        ..Variant::default()
    };
    w.push(("exactly_once", "two-phase commit sink, 1 s".into(), v));
    let v = Variant {
        map_value: "value * 3 + 1",
        ..Variant::default()
    };
    w.push(("expressions", "map value * 3 + 1".into(), v));
    let v = Variant {
        aggregate:
            "kind = \"reduce\"\nfunction = \"expr\"\nselect = { value = \"acc.value + value\" }"
                .into(),
        ..Variant::default()
    };
    w.push(("expressions", "reduce as expr".into(), v));
    w
}

fn main() {
    let quick = std::env::var_os("STREAMLAB_BENCH_QUICK").is_some();
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(if quick { 1 } else { 5 }))
        .configure_from_args();
    let loaded: Vec<(&str, String, Scenario, plan::Plan)> = workloads()
        .into_iter()
        .map(|(g, n, v)| {
            let (s, p) = v.load();
            (g, n, s, p)
        })
        .collect();
    let mut groups: Vec<&str> = loaded.iter().map(|w| w.0).collect();
    groups.dedup();
    for group in &groups {
        let mut g = c.benchmark_group(*group);
        g.throughput(Throughput::Elements(RECORDS));
        for (_, name, s, p) in loaded.iter().filter(|w| w.0 == *group) {
            g.bench_function(name.as_str(), |b| b.iter(|| black_box(run(s, p))));
        }
        g.finish();
    }
    let (es, ep) = explain_workload();
    let question = window_question();
    let mut g = c.benchmark_group("explain");
    g.throughput(Throughput::Elements(RECORDS));
    g.bench_function("tumbling 1 s, run", |b| b.iter(|| black_box(run(&es, &ep))));
    g.bench_function("tumbling 1 s, explain --window", |b| {
        b.iter(|| black_box(explain_window(&es, &ep, &question)))
    });
    g.finish();
    let mut g = c.benchmark_group("hand_loop");
    g.throughput(Throughput::Elements(RECORDS));
    g.bench_function("canonical by hand", |b| {
        b.iter(|| black_box(hand_loop(RECORDS, 1000)))
    });
    g.finish();
    let scratch = std::env::temp_dir().join(format!("streamlab-bench-{}", std::process::id()));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut g = c.benchmark_group("multi_run");
    for (name, args) in MULTI_RUN {
        for (threads, label) in [
            (Some(1), "1 thread".to_string()),
            (None, format!("{cores} cores")),
        ] {
            g.bench_function(format!("{name}, {label}"), |b| {
                b.iter(|| multi_run(args, threads, &scratch))
            });
        }
    }
    g.finish();
    c.final_summary();

    // Ratios measured side by side: each workload timed in pairs with its baseline, one run
    // right after the other, and the median of the pairs' ratios printed
    // (`common::paired`).
    let reps = if quick { 5 } else { 9 };
    let pair = |a: &dyn Fn(), b: &dyn Fn()| common::paired(reps, a, b);
    let (_, _, bs, bp) = &loaded[0];
    let canonical = || {
        black_box(run(bs, bp));
    };
    println!(
        "\nsummary ({RECORDS} records per run; each workload timed in {reps} pairs with the rolling-sum canonical, the median of the pairs' ratios)"
    );
    let hand = pair(
        &|| {
            black_box(hand_loop(RECORDS, 1000));
        },
        &canonical,
    );
    println!(
        "  {:<40} {:>8.1} ns/record  (canonical is {:.2}x the hand loop)",
        "hand loop",
        hand.a.as_nanos() as f64 / RECORDS as f64,
        hand.ratio
    );
    let explained = pair(
        &|| {
            black_box(run(&es, &ep));
        },
        &|| {
            black_box(explain_window(&es, &ep, &question));
        },
    );
    println!(
        "  {:<40} {:>8.1} ns/record  {:.2}x the same job run plainly",
        "explain: tumbling 1 s, --window",
        explained.b.as_nanos() as f64 / RECORDS as f64,
        explained.ratio
    );
    for (name, args) in MULTI_RUN {
        let m = pair(&|| multi_run(args, None, &scratch), &|| {
            multi_run(args, Some(1), &scratch)
        });
        println!(
            "  {:<40} {:>8.3} s on 1 thread, {:.3} s on {cores} cores: {:.2}x",
            format!("multi_run: {name}"),
            m.b.as_secs_f64(),
            m.a.as_secs_f64(),
            m.ratio
        );
    }
    let _ = std::fs::remove_dir_all(&scratch);
    for (group, name, s, p) in &loaded {
        let w = pair(&canonical, &|| {
            black_box(run(s, p));
        });
        println!(
            "  {:<40} {:>8.1} ns/record  {:.2}x",
            format!("{group}: {name}"),
            w.b.as_nanos() as f64 / RECORDS as f64,
            w.ratio
        );
    }
}
