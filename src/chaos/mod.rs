//! `streamlab chaos FILE --runs N`: swarm testing with shrinking, after TigerBeetle's VOPR and
//! FoundationDB's simulation tests. Run `i` draws its seed from the campaign's seed and `i`,
//! a random subset of the allowed fault kinds, and its faults
//! (`scenario::chaos::swarm_run`); it runs with the in-run invariant checkers on and is
//! judged by [`verdict`]. The runs go in parallel (rayon, `--jobs`), each deterministic, and
//! their results are collected in run order, so the outcome is the same whatever `--jobs`.
//! The first failing run (the smallest index) is shrunk ([`shrink`]) and written as a plain
//! scenario ([`counterexample`]) that `streamlab run` replays byte for byte — which is checked
//! before the command ends.

mod counterexample;
mod shrink;
mod verdict;

use crate::commands::{EXIT_BAD_INPUT, EXIT_JOB_FAILED, load_and_plan_quiet};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use streamlab_engine::check;
use streamlab_engine::oracle;
use streamlab_engine::plan::{self, Plan};
use streamlab_engine::scenario::chaos::{
    ChaosKind, ChaosProfile, SwarmRun, swarm_run, usable_kinds,
};
use streamlab_engine::scenario::{Fault, FaultTime, Scenario};
use streamlab_engine::sim::{RunOptions, RunOutput};
use verdict::Violation;

/// The counterexample's file name.
pub const TOML_NAME: &str = "counterexample.toml";
/// The shrunk run's report (what `streamlab run counterexample.toml --json` writes).
pub const JSON_NAME: &str = "counterexample.json";

/// What was asked.
pub struct Ask<'a> {
    /// The scenario file.
    pub file: &'a Path,
    /// How many runs.
    pub runs: u64,
    /// The campaign's seed (default: the scenario's); also the seed every run simulates with.
    pub seed: Option<u64>,
    /// Worker threads (default: every core).
    pub jobs: Option<usize>,
    /// The fault kinds allowed, comma-separated (default: the `[chaos]` table's, else all).
    pub profile: Option<&'a str>,
    /// Where the counterexample goes (default: the current directory).
    pub out: Option<&'a Path>,
    /// Print the summary as JSON.
    pub json: bool,
}

/// Runs one scenario with extra faults, judged against the shared fault-free reference run.
struct Runner<'a> {
    base: &'a Scenario,
    plan: &'a Plan,
    seed: u64,
    reference: Option<RunOutput>,
    /// Expectations not met even without drawn faults (subjects): not checked.
    skip: Vec<String>,
}

impl Runner<'_> {
    fn run(&self, drawn: &[Fault]) -> (Scenario, Result<RunOutput, std::io::Error>) {
        let mut s = self.base.clone();
        s.fault_tolerance.faults.extend(drawn.iter().cloned());
        let opts = RunOptions {
            seed: Some(self.seed),
            check: true,
            ..Default::default()
        };
        let out = match &self.reference {
            Some(r) => oracle::run_against(&s, self.plan, opts, r),
            None => oracle::run(&s, self.plan, opts),
        };
        (s, out)
    }

    fn violations(&self, drawn: &[Fault]) -> Vec<Violation> {
        let mut v = match self.run(drawn) {
            (s, Ok(o)) => verdict::of_report(&s, self.plan, &o.report),
            (_, Err(e)) => vec![verdict::of_error(&e)],
        };
        v.retain(|x| !(x.kind == "expectation" && self.skip.contains(&x.subject)));
        v
    }
}

/// One run of the campaign and what it broke.
struct Outcome {
    swarm: SwarmRun,
    broke: Vec<Violation>,
}

/// Runs the campaign. Exit 0: no run broke a check; 1: one did (a counterexample is
/// written), or the scenario breaks a built-in check without drawn faults; 2: bad input.
/// An `[[expect]]` not met without drawn faults is left out (it describes one seed's faults).
pub fn chaos(ask: &Ask<'_>) -> u8 {
    let (s, p) = match load_and_plan_quiet(ask.file) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let bad = |m: String| {
        eprintln!("error: {m}");
        EXIT_BAD_INPUT
    };
    let text = match std::fs::read_to_string(ask.file) {
        Ok(t) => t,
        Err(e) => return bad(format!("cannot read `{}`: {e}", ask.file.display())),
    };
    let dir = ask.out.unwrap_or(Path::new(""));
    if let Err(m) = guard(dir) {
        return bad(m);
    }
    let mut profile = s.chaos.clone().unwrap_or_default();
    if let Some(list) = ask.profile {
        match kinds(list) {
            Ok(k) => profile.kinds = k,
            Err(m) => return bad(m),
        }
    }
    let mut base = s.clone();
    base.chaos = None;
    if usable_kinds(&base, &profile).is_empty() {
        return bad(format!(
            "{}: no fault kind can strike: network faults need two TaskManagers",
            ask.file.display()
        ));
    }
    let seed = ask.seed.unwrap_or(s.seed);
    if let Err(e) = swarm_run(&base, &profile, seed, 0) {
        return bad(format!("{}: {e}", ask.file.display()));
    }
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(ask.jobs.unwrap_or(0))
        .build()
    {
        Ok(p) => p,
        Err(e) => {
            return bad(format!(
                "cannot start {} worker threads: {e}",
                ask.jobs.unwrap_or(0)
            ));
        }
    };
    let reference = match oracle::reference(&base, &p, Some(seed)).transpose() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: the fault-free run could not be completed: {e}");
            return EXIT_JOB_FAILED;
        }
    };
    let mut runner = Runner {
        base: &base,
        plan: &p,
        seed,
        reference,
        skip: Vec::new(),
    };
    // Without drawn faults every check must hold — except expectations that describe the
    // faults of one seed's `[chaos]` draw (`failures = 2`, `duplicates > 0`): those are left
    // out, with a note.
    let without = runner.violations(&[]);
    let (skipped, broken_anyway): (Vec<Violation>, Vec<Violation>) =
        without.into_iter().partition(|v| v.kind == "expectation");
    if !broken_anyway.is_empty() {
        eprintln!(
            "error: {} breaks its checks without any drawn fault — fix that first (`streamlab run --check`):",
            ask.file.display()
        );
        for v in &broken_anyway {
            eprintln!("  {}: {}", v.kind, v.detail);
        }
        return EXIT_JOB_FAILED;
    }
    runner.skip = skipped.iter().map(|v| v.subject.clone()).collect();
    let bar = progress(ask.runs);
    let broken = std::sync::atomic::AtomicUsize::new(0);
    let outcomes: Vec<Outcome> = pool.install(|| {
        (0..ask.runs)
            .into_par_iter()
            .map(|i| {
                // drawing cannot fail: run 0 drew above
                let swarm = swarm_run(&base, &profile, seed, i).unwrap_or(SwarmRun {
                    seed: 0,
                    kinds: Vec::new(),
                    faults: Vec::new(),
                });
                let broke = runner.violations(&swarm.faults);
                if !broke.is_empty() {
                    let n = broken.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    bar.set_message(format!(" · {n} broke a check"));
                }
                bar.inc(1);
                Outcome { swarm, broke }
            })
            .collect()
    });
    bar.finish_and_clear();
    let summary = Summary::of(&outcomes);
    let Some(first) = outcomes.iter().position(|o| !o.broke.is_empty()) else {
        report(ask, seed, &profile, &base, &summary, &skipped, None);
        return 0;
    };
    let target = outcomes[first].broke[0].clone();
    let spinner = progress(0);
    let test = |f: &[Fault]| {
        spinner.inc(1);
        runner.violations(f).iter().any(|v| v.same(&target))
    };
    let mut shrinker = shrink::Shrinker::new(&test, shrink::BUDGET);
    // on the pool's threads: candidates tried side by side
    let shrunk = pool.install(|| shrinker.shrink(outcomes[first].swarm.faults.clone()));
    let steps = shrinker.steps;
    let exhausted = shrinker.exhausted();
    spinner.finish_and_clear();
    let (s_final, result) = runner.run(&shrunk);
    let found = Found {
        run: first as u64,
        swarm: &outcomes[first].swarm,
        violation: match &result {
            Ok(o) => verdict::of_report(&s_final, &p, &o.report)
                .into_iter()
                .find(|v| v.same(&target))
                .unwrap_or(target),
            Err(e) => verdict::of_error(e),
        },
        shrunk,
        steps,
        exhausted,
    };
    let written = write(ask, dir, &text, &base, seed, &found, &result);
    report(
        ask,
        seed,
        &profile,
        &base,
        &summary,
        &skipped,
        Some((&found, &written)),
    );
    if written.is_err() {
        return EXIT_BAD_INPUT;
    }
    EXIT_JOB_FAILED
}

/// `kill_subtask,straggler` → the kinds.
fn kinds(list: &str) -> Result<Vec<ChaosKind>, String> {
    let mut out = Vec::new();
    for k in list.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        match ChaosKind::from_name(k) {
            Some(c) if !out.contains(&c) => out.push(c),
            Some(_) => {}
            None => {
                return Err(format!(
                    "unknown fault kind `{k}` in --profile: expected {}",
                    ChaosKind::ALL.map(ChaosKind::name).join(", ")
                ));
            }
        }
    }
    if out.is_empty() {
        return Err("--profile names no fault kind".into());
    }
    Ok(out)
}

/// Refuses to go on when `dir` holds a counterexample file streamlab chaos did not write.
fn guard(dir: &Path) -> Result<(), String> {
    let (toml, json) = (dir.join(TOML_NAME), dir.join(JSON_NAME));
    let ours = match std::fs::read_to_string(&toml) {
        Ok(t) => t.starts_with(counterexample::MARK),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => !json.exists(),
        Err(e) => return Err(format!("cannot read `{}`: {e}", toml.display())),
    };
    if ours {
        Ok(())
    } else {
        let which = if toml.exists() { &toml } else { &json };
        Err(format!(
            "`{}` exists and was not written by streamlab chaos: it is left alone; choose another directory with --out DIR",
            which.display()
        ))
    }
}

/// A progress bar on stderr when it is a terminal (`len` 0: a step counter).
fn progress(len: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (bar, template) = if len > 0 {
        (
            ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr()),
            "{bar:30} {pos}/{len} runs{msg} ({elapsed}, about {eta} to go)",
        )
    } else {
        (
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
            "{spinner} shrinking: {pos} candidate runs ({elapsed})",
        )
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

/// The campaign in figures.
struct Summary {
    runs: usize,
    faults: usize,
    broken: usize,
    /// Runs per violation label, in label order.
    by_kind: BTreeMap<String, usize>,
}

impl Summary {
    fn of(outcomes: &[Outcome]) -> Summary {
        let mut by_kind = BTreeMap::new();
        for o in outcomes {
            let mut seen: Vec<String> = o.broke.iter().map(Violation::label).collect();
            seen.dedup();
            for l in seen {
                *by_kind.entry(l).or_insert(0) += 1;
            }
        }
        Summary {
            runs: outcomes.len(),
            faults: outcomes.iter().map(|o| o.swarm.faults.len()).sum(),
            broken: outcomes.iter().filter(|o| !o.broke.is_empty()).count(),
            by_kind,
        }
    }
}

/// The first failing run, shrunk.
struct Found<'a> {
    run: u64,
    swarm: &'a SwarmRun,
    violation: Violation,
    shrunk: Vec<Fault>,
    steps: usize,
    exhausted: bool,
}

/// What was written, and whether the written file replays the shrunk run byte for byte.
struct Written {
    toml: PathBuf,
    json: Option<PathBuf>,
    replays: Result<(), String>,
}

fn fault_line(s: &Scenario, f: &Fault) -> String {
    match f.at {
        FaultTime::At(t) => format!("at {t}: {}", f.describe(s)),
        FaultTime::After(..) => f.describe(s),
    }
}

fn kind_names(k: &[ChaosKind]) -> String {
    k.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
}

/// The command that started the campaign, as a person types it.
fn command(ask: &Ask<'_>, seed: u64) -> String {
    let mut c = format!(
        "streamlab chaos {} --runs {} --seed {seed}",
        ask.file.display(),
        ask.runs
    );
    if let Some(p) = ask.profile {
        c.push_str(&format!(" --profile {p}"));
    }
    c
}

/// Writes the counterexample (and the shrunk run's report), then replays the written file as
/// `streamlab run` does and compares.
fn write(
    ask: &Ask<'_>,
    dir: &Path,
    text: &str,
    base: &Scenario,
    seed: u64,
    f: &Found<'_>,
    result: &Result<RunOutput, std::io::Error>,
) -> Result<Written, String> {
    let toml = dir.join(TOML_NAME);
    let json = dir.join(JSON_NAME);
    let replay = match result {
        Ok(_) => format!("streamlab run {} --json report.json", toml.display()),
        Err(_) => format!("streamlab run {} --check", toml.display()),
    };
    let header = vec![
        format!("Found by `{}`.", command(ask, seed)),
        format!(
            "Run {} of {} (run seed {}) drew its faults from the kinds {}: {} faults.",
            f.run,
            ask.runs,
            f.swarm.seed,
            kind_names(&f.swarm.kinds),
            f.swarm.faults.len()
        ),
        format!("It broke: {}: {}", f.violation.kind, f.violation.detail),
        format!(
            "Shrunk in {} candidate runs (delta debugging over the faults, then simpler times) to the {} below{}.",
            f.steps,
            plural(f.shrunk.len(), "fault", "faults"),
            if f.exhausted {
                " — the shrink budget ran out"
            } else {
                ""
            }
        ),
        "The scenario's [chaos] table is removed; everything else is the file as written.".into(),
        match result {
            Ok(_) => format!("Replay: {replay}  (the same report as {JSON_NAME})"),
            Err(_) => format!("Replay: {replay}  (stops with the same invariant violation)"),
        },
    ];
    let body = counterexample::file(&header, text, base, seed, &f.shrunk)
        .map_err(|e| format!("cannot write the counterexample: {e}"))?;
    if !dir.as_os_str().is_empty() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    }
    std::fs::write(&toml, &body).map_err(|e| format!("cannot write `{}`: {e}", toml.display()))?;
    let expected = match result {
        Ok(o) => {
            let mut j = serde_json::to_string_pretty(&o.report).unwrap_or_default();
            j.push('\n');
            std::fs::write(&json, &j)
                .map_err(|e| format!("cannot write `{}`: {e}", json.display()))?;
            j
        }
        Err(e) => {
            let _ = std::fs::remove_file(&json);
            e.to_string()
        }
    };
    Ok(Written {
        replays: replay_matches(&toml, &expected),
        json: result.is_ok().then_some(json),
        toml,
    })
}

/// Runs the written file as `streamlab run FILE` does and compares with `expected` (the
/// report JSON, or the error text).
fn replay_matches(toml: &Path, expected: &str) -> Result<(), String> {
    let s = check::load(toml).map_err(|e| format!("it does not load: {e}"))?;
    let p = plan::plan(&s).map_err(|d| format!("it does not plan: {}", d.render()))?;
    let got = match oracle::run(
        &s,
        &p,
        RunOptions {
            seed: Some(s.seed),
            check: true,
            ..Default::default()
        },
    ) {
        Ok(o) => {
            let mut j = serde_json::to_string_pretty(&o.report).unwrap_or_default();
            j.push('\n');
            j
        }
        Err(e) => e.to_string(),
    };
    if got == expected {
        Ok(())
    } else {
        Err("the replay differs from the shrunk run (please report it)".into())
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Prints the summary (text or JSON).
fn report(
    ask: &Ask<'_>,
    seed: u64,
    profile: &ChaosProfile,
    base: &Scenario,
    sum: &Summary,
    skipped: &[Violation],
    found: Option<(&Found<'_>, &Result<Written, String>)>,
) {
    let kinds = kind_names(&usable_kinds(base, profile));
    if ask.json {
        let v = serde_json::json!({
            "scenario": ask.file.display().to_string(),
            "seed": seed,
            "runs": sum.runs,
            "kinds": kinds,
            "faults_drawn": sum.faults,
            "runs_broken": sum.broken,
            "not_checked": skipped.iter().map(|v| &v.subject).collect::<Vec<_>>(),
            "violations": sum.by_kind.iter().map(|(k, n)| serde_json::json!({"violation": k, "runs": n})).collect::<Vec<_>>(),
            "first": found.map(|(f, w)| serde_json::json!({
                "run": f.run,
                "run_seed": f.swarm.seed,
                "kinds": kind_names(&f.swarm.kinds),
                "faults": f.swarm.faults.iter().map(|x| fault_line(base, x)).collect::<Vec<_>>(),
                "violation": f.violation,
                "shrink_steps": f.steps,
                "shrunk": f.shrunk.iter().map(|x| fault_line(base, x)).collect::<Vec<_>>(),
                "counterexample": w.as_ref().ok().map(|w| w.toml.display().to_string()),
                "report": w.as_ref().ok().and_then(|w| w.json.as_ref()).map(|j| j.display().to_string()),
                "replays_byte_for_byte": w.as_ref().is_ok_and(|w| w.replays.is_ok()),
            })),
        });
        out_text(&format!(
            "{}\n",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        ));
        if let Some((_, Err(e))) = found {
            eprintln!("error: {e}");
        }
        return;
    }
    let mut o = format!(
        "streamlab chaos · {} · {} · seed {seed}\n",
        ask.file.display(),
        plural(sum.runs, "run", "runs")
    );
    o.push_str(&format!(
        "each run draws a random subset of the fault kinds ({kinds}), then its faults, from seed {seed} and its index; checks: exactly-once sinks equal the fault-free run, at-least-once sinks miss nothing, the job finishes, the in-run invariants{}\n",
        match base.expectations.len() {
            0 => String::new(),
            n => format!(", the {}", plural(n, "[[expect]] table", "[[expect]] tables")),
        }
    ));
    if !skipped.is_empty() {
        o.push_str(&format!(
            "not checked — not met even without drawn faults (they describe one run's faults, not a guarantee): {}\n",
            skipped
                .iter()
                .map(|v| v.subject.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    o.push('\n');
    o.push_str(&format!(
        "{} with {} drawn: {}\n",
        plural(sum.runs, "run", "runs"),
        plural(sum.faults, "fault", "faults"),
        match sum.broken {
            0 => "no check broken".to_string(),
            n => format!("{} broke a check", plural(n, "run", "runs")),
        }
    ));
    for (label, n) in &sum.by_kind {
        o.push_str(&format!("  {n:>5}  {label}\n"));
    }
    if sum.faults == 0 && sum.runs > 0 {
        o.push_str(
            "no run drew a fault: the faulty phase is shorter than min_stable (set [chaos] min_stable or until)\n",
        );
    }
    if let Some((f, w)) = found {
        o.push_str(&format!(
            "\nfirst: run {} (seed {}, kinds {}) with {}:\n",
            f.run,
            f.swarm.seed,
            kind_names(&f.swarm.kinds),
            plural(f.swarm.faults.len(), "fault", "faults")
        ));
        for x in &f.swarm.faults {
            o.push_str(&format!("  {}\n", fault_line(base, x)));
        }
        o.push_str(&format!(
            "broke: {}: {}\nshrunk in {} to {}{}:\n",
            f.violation.kind,
            f.violation.detail,
            plural(f.steps, "step", "steps"),
            plural(f.shrunk.len(), "fault", "faults"),
            if f.exhausted {
                " (the shrink budget ran out)"
            } else {
                ""
            }
        ));
        for x in &f.shrunk {
            o.push_str(&format!("  {}\n", fault_line(base, x)));
        }
        match w {
            Ok(w) => {
                o.push_str(&format!("wrote {}", w.toml.display()));
                match &w.json {
                    Some(j) => o.push_str(&format!(
                        " and {} (the shrunk run's report)\nreplay: streamlab run {} --json report.json",
                        j.display(),
                        w.toml.display()
                    )),
                    None => o.push_str(&format!(
                        "\nreplay: streamlab run {} --check",
                        w.toml.display()
                    )),
                }
                o.push_str(match &w.replays {
                    Ok(()) => " — checked: it replays byte for byte\n",
                    Err(_) => "\n",
                });
                if let Err(e) = &w.replays {
                    o.push_str(&format!("warning: {e}\n"));
                }
            }
            Err(e) => eprintln!("error: {e}"),
        }
    }
    out_text(&o);
}

/// Writes to stdout; a closed pipe is not worth a panic.
fn out_text(t: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(t.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_kinds_are_read_by_name() {
        assert_eq!(
            kinds("kill_subtask, straggler,kill-subtask").unwrap(),
            vec![ChaosKind::KillSubtask, ChaosKind::Straggler]
        );
        assert!(
            kinds("disk")
                .unwrap_err()
                .contains("unknown fault kind `disk`")
        );
        assert!(kinds(" , ").is_err());
    }
}
