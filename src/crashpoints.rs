//! `streamlab crashpoints FILE`: the scenario run once per crash point of one checkpoint
//! (`oracle::crashpoints`) — in parallel, each run deterministic — and a matrix of crash point
//! × sink: exactly once, duplicates, missing, job failed. `--only K` replays point K alone
//! with the full run summary.

use crate::commands::{EXIT_BAD_INPUT, EXIT_JOB_FAILED, load_and_plan_quiet, print_result};
use rayon::prelude::*;
use std::path::Path;
use streamlab_engine::oracle::crashpoints::{self, CrashPoint, Outcome, Target};
use streamlab_engine::scenario::FaultKind;
use streamlab_engine::sim::RunOptions;

/// What was asked.
pub struct Ask<'a> {
    /// The scenario file.
    pub file: &'a Path,
    /// The checkpoint whose protocol steps are crashed.
    pub checkpoint: u64,
    /// `task,taskmanager,jobmanager`.
    pub kinds: &'a str,
    /// The seed (default: the scenario's).
    pub seed: Option<u64>,
    /// Print the matrix as JSON.
    pub json: bool,
    /// Replay one point (1-based) alone.
    pub only: Option<usize>,
    /// Also write crashpoints.html (a grid per sink) and crashpoints.json here.
    pub out: Option<&'a Path>,
}

/// Runs the crash points and prints the matrix. Exit 0 when every cell is exactly once (or
/// not reached), 1 when one is not, 2 on bad input.
pub fn crashpoints(ask: &Ask<'_>) -> u8 {
    let (s, p) = match load_and_plan_quiet(ask.file) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let mut targets = Vec::new();
    for k in ask
        .kinds
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        match Target::parse(k) {
            Some(t) => targets.push(t),
            None => {
                eprintln!(
                    "error: unknown crash kind `{k}`: expected task, taskmanager or jobmanager"
                );
                return EXIT_BAD_INPUT;
            }
        }
    }
    if s.fault_tolerance.checkpointing.is_none() {
        eprintln!(
            "error: {}: the job has no [checkpointing]: there is no checkpoint protocol to crash",
            ask.file.display()
        );
        return EXIT_BAD_INPUT;
    }
    let seed = ask.seed.unwrap_or(s.seed);
    let points = crashpoints::points(&s, &p, ask.checkpoint, &targets);
    if let Some(k) = ask.only {
        return only(ask, &s, &p, &points, k, seed);
    }
    let runs: Vec<Result<Vec<(String, Outcome)>, String>> = points
        .par_iter()
        .map(|pt| {
            let s1 = crashpoints::scenario_with(&s, pt);
            streamlab_engine::oracle::run(&s1, &p, options(seed))
                .map(|o| crashpoints::outcomes(&o.report))
                .map_err(|e| format!("{}: {e}", pt.label()))
        })
        .collect();
    let mut matrix = Vec::new();
    for r in runs {
        match r {
            Ok(cells) => matrix.push(cells),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_JOB_FAILED;
            }
        }
    }
    let dirty = matrix
        .iter()
        .flatten()
        .filter(|(_, o)| !o.is_clean())
        .count();
    let json = serde_json::to_string_pretty(&json_value(ask, seed, &points, &matrix))
        .unwrap_or_default()
        + "\n";
    let text = matrix_text(ask, seed, &points, &matrix, &targets, dirty);
    if let Some(dir) = ask.out
        && let Err(c) = write_page(dir, ask, seed, (&points, &matrix), (&text, &json))
    {
        return c;
    }
    use std::io::Write;
    let shown = if ask.json { &json } else { &text };
    let _ = std::io::stdout().lock().write_all(shown.as_bytes());
    if dirty == 0 { 0 } else { EXIT_JOB_FAILED }
}

fn options(seed: u64) -> RunOptions {
    RunOptions {
        seed: Some(seed),
        ..Default::default()
    }
}

/// Replays point `k` (1-based) with the run's summary.
fn only(
    ask: &Ask<'_>,
    s: &streamlab_engine::scenario::Scenario,
    p: &streamlab_engine::plan::Plan,
    points: &[CrashPoint],
    k: usize,
    seed: u64,
) -> u8 {
    let Some(pt) = k.checked_sub(1).and_then(|i| points.get(i)) else {
        eprintln!(
            "error: --only {k}: the crash points are numbered 1 to {}",
            points.len()
        );
        return EXIT_BAD_INPUT;
    };
    println!("crash point {k}: {}", pt.label());
    let s1 = crashpoints::scenario_with(s, pt);
    let started = std::time::Instant::now();
    match streamlab_engine::oracle::run(&s1, p, options(seed)) {
        Ok(o) => {
            print_result(&o.report, false, 10, started.elapsed());
            let _ = ask;
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_JOB_FAILED
        }
    }
}

/// How the crash points are made up, by the targets each kind of step is crossed with:
/// `7 steps × 4 subtasks + 1 step × 2 subtasks with network input + … + 4 steps × 3 targets
/// (every TaskManager, the JobManager)`.
fn count_text(points: &[CrashPoint], targets: &[Target]) -> String {
    use crashpoints::Applies;
    let cluster: Vec<&str> = targets
        .iter()
        .filter_map(|t| match t {
            Target::Task => None,
            Target::TaskManager => Some("every TaskManager"),
            Target::JobManager => Some("the JobManager"),
        })
        .collect();
    let is_subtask = |p: &&CrashPoint| matches!(p.kind, FaultKind::KillSubtask { .. });
    // Every subtask takes the job-wide steps and its own: count them together.
    let targets = format!("targets ({})", cluster.join(", "));
    let groups: [(&[Applies], bool, &str, &str); 5] = [
        (
            &[Applies::EveryTarget, Applies::EverySubtask],
            true,
            "",
            "subtasks",
        ),
        (
            &[Applies::NetworkInputSubtask],
            true,
            " (first barrier)",
            "subtasks with network input",
        ),
        (
            &[Applies::SinkSubtask],
            true,
            " (own commit)",
            "sink subtasks",
        ),
        (&[Applies::EveryTarget], false, "", &targets),
        (
            &[Applies::ClusterWhenStopped],
            false,
            " (the savepoint stop)",
            &targets,
        ),
    ];
    let mut parts = Vec::new();
    for (applies, subtasks, which, noun) in groups {
        let of: Vec<&CrashPoint> = points
            .iter()
            .filter(|p| is_subtask(p) == subtasks)
            .filter(|p| applies.contains(&crashpoints::STEPS[p.step].0.applies()))
            .collect();
        let steps = crashpoints::STEPS
            .iter()
            .enumerate()
            .filter(|(i, _)| of.iter().any(|p| p.step == *i))
            .count();
        if steps == 0 {
            continue;
        }
        let word = if steps == 1 { "step" } else { "steps" };
        parts.push(format!(
            "{steps} {word}{which} × {} {noun}",
            of.len() / steps
        ));
    }
    parts.join(" + ")
}

/// Each sink's outcome after one crash point.
type Cells = Vec<(String, Outcome)>;

/// Writes `crashpoints.html` and `crashpoints.json` into `dir` (made if missing).
fn write_page(
    dir: &Path,
    ask: &Ask<'_>,
    seed: u64,
    (points, matrix): (&[CrashPoint], &[Cells]),
    (text, json): (&str, &str),
) -> Result<(), u8> {
    let replay = |k: usize| replay_command(ask, seed, k);
    let heading: String = text.lines().take(2).collect::<Vec<_>>().join("\n");
    let html =
        streamlab_viz::crashpoints_page::page(&streamlab_viz::crashpoints_page::CrashpointsPage {
            heading: &heading,
            points,
            matrix,
            replay: &replay,
        });
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(dir.join("crashpoints.html"), html))
        .and_then(|()| std::fs::write(dir.join("crashpoints.json"), json));
    match written {
        Ok(()) => {
            eprintln!("wrote {}", dir.join("crashpoints.html").display());
            Ok(())
        }
        Err(e) => {
            eprintln!("error: cannot write into `{}`: {e}", dir.display());
            Err(EXIT_BAD_INPUT)
        }
    }
}

/// The command that replays crash point `k` (1-based) alone.
fn replay_command(ask: &Ask<'_>, seed: u64, k: usize) -> String {
    format!(
        "streamlab crashpoints {} --checkpoint {} --kinds {} --seed {seed} --only {k}",
        ask.file.display(),
        ask.checkpoint,
        ask.kinds,
    )
}

/// The matrix as text: the count line, one row per crash point, one column per sink.
fn matrix_text(
    ask: &Ask<'_>,
    seed: u64,
    points: &[CrashPoint],
    matrix: &[Vec<(String, Outcome)>],
    targets: &[Target],
    dirty: usize,
) -> String {
    let sinks: Vec<&str> = matrix
        .first()
        .map(|c| c.iter().map(|(n, _)| n.as_str()).collect())
        .unwrap_or_default();
    let mut out = format!(
        "streamlab crashpoints · {} · checkpoint {} · seed {seed}\n{} crash points = {}, each run once with that single crash and compared with the fault-free run\n\n",
        ask.file.display(),
        ask.checkpoint,
        points.len(),
        count_text(points, targets),
    );
    let width = points
        .iter()
        .map(|p| p.label().chars().count())
        .max()
        .unwrap_or(10);
    out.push_str(&format!("  {:>3}  {:<width$}", "#", "crash"));
    for s in &sinks {
        out.push_str(&format!("  {s:<16}"));
    }
    out.push('\n');
    for (i, (pt, cells)) in points.iter().zip(matrix).enumerate() {
        out.push_str(&format!("  {:>3}  {:<width$}", i + 1, pt.label()));
        for (_, o) in cells {
            out.push_str(&format!("  {:<16}", o.text()));
        }
        out.push('\n');
    }
    let cells = matrix.iter().map(Vec::len).sum::<usize>();
    out.push_str(&format!(
        "\n{dirty} of {cells} cells are not exactly once.{}\n",
        match matrix
            .iter()
            .position(|c| c.iter().any(|(_, o)| !o.is_clean()))
        {
            Some(i) => format!(" Replay one: {}", replay_command(ask, seed, i + 1)),
            None => String::new(),
        }
    ));
    out
}

/// The matrix as data.
fn json_value(
    ask: &Ask<'_>,
    seed: u64,
    points: &[CrashPoint],
    matrix: &[Vec<(String, Outcome)>],
) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = points
        .iter()
        .zip(matrix)
        .enumerate()
        .map(|(i, (pt, cells))| {
            serde_json::json!({
                "point": i + 1,
                "step": crashpoints::STEPS[pt.step].1,
                "target": pt.target,
                "sinks": cells.iter().map(|(n, o)| serde_json::json!({"sink": n, "result": o})).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::json!({
        "scenario": ask.file.display().to_string(),
        "checkpoint": ask.checkpoint,
        "seed": seed,
        "points": rows,
    })
}
