//! Fuzzing the scenario loader: every file in `scenarios/` and `tests/bad/`, mutated the way a
//! hand edit or a generator goes wrong — lines deleted or duplicated, numbers changed by orders
//! of magnitude, the file cut short — must give a clear result, never a panic: `validate` and
//! `plan` either accept it or list errors, and a run with small `[limits]` ends (finished,
//! failed or stopped at a limit). Inputs that once crashed the loader are kept in
//! `tests/fuzz-corpus/` and replayed first; proptest records new failures in
//! `tests/fuzz-corpus/regressions.txt`.

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use std::path::{Path, PathBuf};
use streamlab_engine::check;
use streamlab_engine::core::time::SimDuration;
use streamlab_engine::flink::window::Assigner;
use streamlab_engine::oracle;
use streamlab_engine::plan::plan;
use streamlab_engine::scenario::{NodeKind, Scenario};
use streamlab_engine::sim::RunOptions;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .expect("directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

fn corpus() -> Vec<(PathBuf, String)> {
    files("scenarios")
        .into_iter()
        .chain(files("tests/bad"))
        .map(|p| {
            let t = std::fs::read_to_string(&p).expect("text");
            (p, t)
        })
        .collect()
}

/// Runaways that other checks own (a run whose work grows inside one event): not run here.
fn runnable(s: &Scenario) -> bool {
    s.nodes.iter().all(|n| match &n.kind {
        NodeKind::Window(w) => match w.assigner {
            Assigner::Sliding { size, slide, .. } => slide > 0 && size / slide <= 1_000,
            Assigner::Global => w.trigger.is_none(),
            _ => true,
        },
        _ => true,
    })
}

/// Validates, plans and — when valid — runs with small limits. Panics only on a bug.
fn check(name: &str, text: &str, base: &Path) {
    let Ok(mut s) = check::parse_str(name, text, Some(base)) else {
        return;
    };
    let Ok(p) = plan(&s) else { return };
    if !runnable(&s) {
        return;
    }
    s.limits.max_records = s.limits.max_records.min(5_000);
    s.limits.max_events = s.limits.max_events.min(100_000);
    s.limits.max_sim_time = SimDuration::from_secs(120);
    s.limits.max_memory = s.limits.max_memory.min(256 << 20);
    oracle::run(&s, &p, RunOptions::default()).expect("no I/O");
}

#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    /// The n-th number times 10^k (k may be negative: divided).
    ScaleNumber(usize, i32),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (
            any::<usize>(),
            prop_oneof![Just(-3), Just(-1), Just(1), Just(3), Just(6)]
        )
            .prop_map(|(n, k)| Mutation::ScaleNumber(n, k)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let lines: Vec<&str> = text.lines().collect();
    match *m {
        Mutation::DeleteLine(i) if !lines.is_empty() => {
            let i = i % lines.len();
            let mut l = lines.clone();
            l.remove(i);
            l.join("\n")
        }
        Mutation::DuplicateLine(i) if !lines.is_empty() => {
            let i = i % lines.len();
            let mut l = lines.clone();
            l.insert(i, lines[i]);
            l.join("\n")
        }
        Mutation::ScaleNumber(n, k) => {
            // Digit runs (not inside a longer word), found by position.
            let b = text.as_bytes();
            let mut runs = Vec::new();
            let mut i = 0;
            while i < b.len() {
                if b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
                    let start = i;
                    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
                        i += 1;
                    }
                    runs.push(start..i);
                } else {
                    i += 1;
                }
            }
            if runs.is_empty() {
                return text.to_string();
            }
            let r = runs[n % runs.len()].clone();
            let digits = text[r.clone()].replace('_', "");
            let scaled = if k >= 0 {
                format!("{digits}{}", "0".repeat(k as usize))
            } else {
                let keep = digits.len().saturating_sub((-k) as usize).max(1);
                digits[..keep].to_string()
            };
            format!("{}{}{}", &text[..r.start], scaled, &text[r.end..])
        }
        Mutation::Truncate(i) => {
            let mut at = i % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text[..at].to_string()
        }
        _ => text.to_string(),
    }
}

#[test]
fn the_kept_corpus_loads_and_runs_without_a_panic() {
    for p in files("tests/fuzz-corpus") {
        let text = std::fs::read_to_string(&p).expect("text");
        check(&p.display().to_string(), &text, p.parent().unwrap());
    }
}

#[test]
fn every_bundled_and_bad_file_loads_and_runs_unmutated() {
    for (p, text) in corpus() {
        check(&p.display().to_string(), &text, p.parent().unwrap());
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1000,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/fuzz-corpus/regressions.txt",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_scenarios_never_panic(
        file in any::<usize>(),
        muts in proptest::collection::vec(mutation(), 1..4),
    ) {
        let all = corpus();
        let (p, text) = &all[file % all.len()];
        let mut t = text.clone();
        for m in &muts {
            t = apply(&t, m);
        }
        check(&p.display().to_string(), &t, p.parent().unwrap());
    }
}
