//! Criterion benchmarks of the simulator (issue 2's speed targets).
//!
//! * `canonical`: `scenarios/canonical.toml` (10 M records through map, filter and a keyed
//!   rolling sum at parallelism 4). Criterion reports the time per run; the throughput line
//!   shows simulated records per second of wall time. Target: ≥ 20 M/s on one core.
//! * `wordcount`: the word count (inline Hamlet text read 2000 times, unpaced) against a plain
//!   Rust loop that counts the same words the same way, with the standard `HashMap` (issue 2:
//!   within 5×) and with a fast hash map, `FxHashMap` (issue 20: within 2×). After the
//!   Criterion groups the ratios of the medians are printed.
//!
//! Run with `cargo bench --bench simulate`; set `STREAMLAB_BENCH_QUICK=1` for a short smoke run.

mod common;

use common::run;
use criterion::{BenchmarkId, Criterion, Throughput};
use rustc_hash::FxBuildHasher;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;
use streamlab_engine::check;
use streamlab_engine::plan;
use streamlab_engine::scenario::Scenario;

fn load(text: &str, name: &str) -> (Scenario, plan::Plan) {
    let s = check::parse_str(name, text, Some(Path::new("scenarios")))
        .expect("bundled scenario is valid");
    let p = plan::plan(&s).expect("bundled scenario plans");
    (s, p)
}

/// The word-count scenario, unpaced and with the text repeated `repeat` times.
fn wordcount_text(repeat: u64) -> String {
    let text =
        std::fs::read_to_string("scenarios/wordcount.toml").expect("scenarios/wordcount.toml");
    text.lines()
        .filter(|l| !l.trim_start().starts_with("rate"))
        .map(|l| {
            if l.trim_start().starts_with("repeat") {
                format!("repeat = {repeat}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The lines of the word-count scenario's text.
fn wordcount_lines() -> Vec<String> {
    let text =
        std::fs::read_to_string("scenarios/wordcount.toml").expect("scenarios/wordcount.toml");
    text.lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("{ line = \"")
                .and_then(|r| r.strip_suffix("\" },"))
        })
        .map(str::to_string)
        .collect()
}

/// What a person would write by hand: lower-case each line, split it like Flink's tokenizer
/// (`\W+`), count in a hash map (`HashMap` or the faster `FxHashMap`).
fn plain_word_count<S: BuildHasher + Default>(
    lines: &[String],
    repeat: u64,
) -> HashMap<String, u64, S> {
    let mut counts: HashMap<String, u64, S> = HashMap::default();
    for _ in 0..repeat {
        for line in lines {
            let lower = line.to_lowercase();
            for w in lower
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .filter(|w| !w.is_empty())
            {
                if let Some(c) = counts.get_mut(w) {
                    *c += 1;
                } else {
                    counts.insert(w.to_owned(), 1);
                }
            }
        }
    }
    counts
}

fn main() {
    let quick = std::env::var_os("STREAMLAB_BENCH_QUICK").is_some();
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(if quick { 2 } else { 12 }))
        .configure_from_args();

    let canonical =
        std::fs::read_to_string("scenarios/canonical.toml").expect("scenarios/canonical.toml");
    let (cs, cp) = load(&canonical, "scenarios/canonical.toml");
    let mut g = c.benchmark_group("canonical");
    g.throughput(Throughput::Elements(10_000_000));
    g.bench_function("10M records, parallelism 4", |b| {
        b.iter(|| black_box(run(&cs, &cp)))
    });
    g.finish();

    let repeat = 2000;
    let (ws, wp) = load(&wordcount_text(repeat), "wordcount (bench)");
    let lines = wordcount_lines();
    let words: u64 = plain_word_count::<RandomState>(&lines, 1)
        .values()
        .sum::<u64>()
        * repeat;
    assert_eq!(
        plain_word_count::<FxBuildHasher>(&lines, 1)
            .into_iter()
            .collect::<std::collections::BTreeMap<_, _>>(),
        plain_word_count::<RandomState>(&lines, 1)
            .into_iter()
            .collect(),
        "both hand loops count the same"
    );
    let mut g = c.benchmark_group("wordcount");
    g.throughput(Throughput::Elements(words));
    g.bench_function(BenchmarkId::new("streamlab", repeat), |b| {
        b.iter(|| black_box(run(&ws, &wp)))
    });
    g.bench_function(BenchmarkId::new("plain loop", repeat), |b| {
        b.iter(|| black_box(plain_word_count::<RandomState>(&lines, repeat)))
    });
    g.bench_function(BenchmarkId::new("plain loop, FxHashMap", repeat), |b| {
        b.iter(|| black_box(plain_word_count::<FxBuildHasher>(&lines, repeat)))
    });
    g.finish();
    c.final_summary();

    // The ratios, measured in this run: streamlab timed in pairs with each plain loop, one
    // run right after the other, and the median of the pairs' ratios (`common::paired`).
    let reps = if quick { 5 } else { 9 };
    let sim = || {
        black_box(run(&ws, &wp));
    };
    let std_loop = common::paired(
        reps,
        &|| {
            black_box(plain_word_count::<RandomState>(&lines, repeat));
        },
        &sim,
    );
    let fx_loop = common::paired(
        reps,
        &|| {
            black_box(plain_word_count::<FxBuildHasher>(&lines, repeat));
        },
        &sim,
    );
    let can_t = common::median_time(reps, &|| {
        black_box(run(&cs, &cp));
    });
    println!(
        "\nsummary: canonical {:.1} M simulated records/s; word count {} words: streamlab {:.1} ms, plain loop {:.1} ms (ratio {:.2}x), with FxHashMap {:.1} ms (ratio {:.2}x); ratios are medians of {reps} pairs timed one right after the other",
        10.0 / can_t.as_secs_f64(),
        words,
        fx_loop.b.as_secs_f64() * 1e3,
        std_loop.a.as_secs_f64() * 1e3,
        std_loop.ratio,
        fx_loop.a.as_secs_f64() * 1e3,
        fx_loop.ratio
    );
}
