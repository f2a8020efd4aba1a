//! `compare` and `sweep`: one scenario under several execution modes, as a report, CSV
//! series, charts and an HTML page.

use crate::commands::{EXIT_BAD_INPUT, EXIT_JOB_FAILED, load_and_plan_quiet};
use crate::costliest_first;
use crate::settings::{self, Setting};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;
use streamlab_engine::check;
use streamlab_engine::modes::{self, Mode, ModeOptions, ModeRun};
use streamlab_engine::plan::Plan;
use streamlab_engine::report::{
    CompareReport, InvalidSetting, PlanView, Status, SweepPoint, SweepReport,
};
use streamlab_engine::scenario::{NodeKind, Scenario};

/// A progress bar on stderr that shows itself only when the work has taken more than a
/// second and stderr is a terminal.
struct Progress {
    bar: ProgressBar,
    started: Instant,
    shown: std::sync::atomic::AtomicBool,
}

impl Progress {
    fn new(n: u64, what: &str) -> Self {
        let bar = ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::hidden());
        if let Ok(style) =
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} runs ({elapsed})")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_string());
        Progress {
            bar,
            started: Instant::now(),
            shown: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn tick(&self) {
        self.bar.inc(1);
        if self.started.elapsed().as_secs_f64() > 1.0
            && std::io::stderr().is_terminal()
            && !self.shown.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Writes files into `out` all or nothing: into a staging directory inside it first, then
/// each is renamed into place; on any error the staging directory is removed.
fn write_all(out: &Path, files: &[(String, Vec<u8>)]) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| {
        format!(
            "cannot create the output directory `{}`: {e}",
            out.display()
        )
    })?;
    let staging = out.join(format!(".streamlab-staging-{}", std::process::id()));
    let cleanup = |e: String| {
        let _ = std::fs::remove_dir_all(&staging);
        e
    };
    std::fs::create_dir(&staging).map_err(|e| {
        format!(
            "cannot write into the output directory `{}`: {e}",
            out.display()
        )
    })?;
    for (name, bytes) in files {
        if let Some(dir) = Path::new(name)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(staging.join(dir))
                .map_err(|e| cleanup(format!("cannot write `{}`: {e}", out.join(dir).display())))?;
            std::fs::create_dir_all(out.join(dir))
                .map_err(|e| cleanup(format!("cannot write `{}`: {e}", out.join(dir).display())))?;
        }
        std::fs::write(staging.join(name), bytes)
            .map_err(|e| cleanup(format!("cannot write `{}`: {e}", out.join(name).display())))?;
    }
    for (name, _) in files {
        std::fs::rename(staging.join(name), out.join(name))
            .map_err(|e| cleanup(format!("cannot write `{}`: {e}", out.join(name).display())))?;
    }
    let _ = std::fs::remove_dir_all(&staging);
    Ok(())
}

/// Writes `report` as `name` (pretty JSON) beside the charts and pages `render` makes of it,
/// all or nothing (see [`write_all`]). Returns how many files were written; an error is
/// printed and becomes the exit code. The JSON goes through `serde_json::Value`, whose objects keep
/// their keys sorted: the file's layout does not depend on the order of the types' fields.
pub(crate) fn write_report<T: serde::Serialize, E: std::fmt::Display>(
    out: &Path,
    name: &str,
    report: &T,
    render: impl Fn(&T) -> Result<Vec<(String, Vec<u8>)>, E>,
) -> Result<usize, u8> {
    let files = render(report).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_BAD_INPUT
    })?;
    write_report_files(out, name, report, files)
}

/// Writes `report` as `name` and the `files` rendered from it into `out`, all or nothing.
/// `Ok`: how many files; `Err`: the exit code, after saying why.
fn write_report_files<T: serde::Serialize>(
    out: &Path,
    name: &str,
    report: &T,
    mut files: Vec<(String, Vec<u8>)>,
) -> Result<usize, u8> {
    let value = serde_json::to_value(report).expect("reports serialize");
    let mut text = serde_json::to_string_pretty(&value).expect("reports serialize");
    text.push('\n');
    files.insert(0, (name.into(), text.into_bytes()));
    write_all(out, &files).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_BAD_INPUT
    })?;
    Ok(files.len())
}

/// Checks early that `out` can be written, so no simulation runs for nothing. Leaves no
/// trace: a directory it had to create is removed again.
pub(crate) fn check_writable(out: &Path) -> Result<(), String> {
    let existed = out.exists();
    std::fs::create_dir_all(out).map_err(|e| {
        format!(
            "cannot create the output directory `{}`: {e}",
            out.display()
        )
    })?;
    let probe = out.join(format!(".streamlab-probe-{}", std::process::id()));
    let r = std::fs::write(&probe, b"").map_err(|e| {
        format!(
            "cannot write into the output directory `{}`: {e}",
            out.display()
        )
    });
    let _ = std::fs::remove_file(&probe);
    if !existed {
        let _ = std::fs::remove_dir(out);
    }
    r
}

fn parse_modes(list: &str) -> Result<Vec<Mode>, u8> {
    Mode::parse_list(list).map_err(|e| {
        eprintln!("error: --modes: {e}");
        EXIT_BAD_INPUT
    })
}

fn run_modes(
    s: &Scenario,
    p: &Plan,
    modes: &[Mode],
    seed: Option<u64>,
    progress: &Progress,
) -> Result<Vec<ModeRun>, String> {
    let opts = ModeOptions {
        seed,
        without_crash: false,
    };
    let runs = costliest_first::map(
        modes,
        |&m| run_cost(s, m),
        |&m| {
            let r = modes::run_mode(s, p, m, &opts).map_err(|e| e.to_string());
            progress.tick();
            r
        },
    );
    runs.into_iter().collect()
}

/// What a run of `s` in mode `m` is expected to cost, to start the longest runs first: the
/// records its sources produce (a source whose count is not known before the run counts as
/// a million), four times for Storm's acking (every tuple is acked and tracked).
fn run_cost(s: &Scenario, m: Mode) -> u64 {
    let records = s
        .nodes
        .iter()
        .filter_map(|n| match &n.kind {
            NodeKind::Source(src) => Some(src.records().unwrap_or(1_000_000)),
            _ => None,
        })
        .fold(0u64, u64::saturating_add);
    match m {
        Mode::Acking => records.saturating_mul(4),
        _ => records,
    }
}

/// `streamlab compare FILE --modes … --out DIR [--diff]`
pub fn compare(
    file: &Path,
    modes_list: &str,
    out: &Path,
    seed: Option<u64>,
    chaos: bool,
    diff: bool,
) -> u8 {
    let modes = match parse_modes(modes_list) {
        Ok(m) => m,
        Err(c) => return c,
    };
    let (mut s, p) = match load_and_plan_quiet(file) {
        Ok(x) => x,
        Err(c) => return c,
    };
    // Every mode gets the same drawn faults (the baselines take the first crash of them).
    let seed_used = seed.unwrap_or(s.seed);
    let drawn = match crate::commands::apply_chaos(&mut s, seed_used, chaos) {
        Ok(d) => d,
        Err(c) => return c,
    };
    if let Err(e) = check_writable(out) {
        eprintln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    let progress = Progress::new(modes.len() as u64, "compare");
    let with_streaming = modes.contains(&Mode::Streaming);
    // The modes' runs and then the comparison's charts, beside the streaming run drawn as
    // `run --out` draws it, in `streaming/` (the run again: it is deterministic, so it is the
    // run the comparison reports).
    let (compared, streaming_files) = rayon::join(
        || -> Result<(CompareReport, Vec<streamlab_viz::File>), String> {
            let runs = run_modes(&s, &p, &modes, seed, &progress);
            progress.finish();
            let report = CompareReport {
                streamlab_version: env!("CARGO_PKG_VERSION").into(),
                scenario: s.name.clone(),
                description: s.description.clone(),
                seed: seed.unwrap_or(s.seed),
                modes: modes.iter().map(|m| m.name().to_string()).collect(),
                chaos: drawn,
                plan: PlanView::of(&s, &p),
                runs: runs?,
            };
            let files = streamlab_viz::compare_files_linking(&report, with_streaming)
                .map_err(|e| e.to_string())?;
            Ok((report, files))
        },
        || with_streaming.then(|| streaming_drawn(file, chaos, &s, &p, seed_used)),
    );
    let written = compared.and_then(|(report, mut files)| {
        files.extend(streaming_files.transpose()?.unwrap_or_default());
        Ok((report, files))
    });
    let (report, files) = match written {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let files = match write_report_files(out, "report.json", &report, files) {
        Ok(n) => n,
        Err(c) => return c,
    };
    println!(
        "streamlab compare · scenario `{}` · seed {}",
        s.name,
        seed.unwrap_or(s.seed)
    );
    println!(
        "  {:<12} {:>10} {:>12} {:>14} {:>11} {:>11} {:>11}",
        "mode", "outcome", "sink recs", "throughput/s", "p50 ms", "p99 ms", "max ms"
    );
    let mut failed = false;
    for r in &report.runs {
        let rep = &r.report;
        failed |= rep.outcome.status != Status::Finished;
        println!(
            "  {:<12} {:>10} {:>12} {:>14} {:>11} {:>11} {:>11}",
            r.mode,
            crate::commands::status_word(&rep.outcome.status),
            rep.sink_records,
            rep.throughput_per_s,
            rep.latency.p50_ms,
            rep.latency.p99_ms,
            rep.latency.max_ms
        );
        if let Some(c) = &r.details.correctness {
            for sk in c {
                println!(
                    "      sink `{}`: {} records, {} (against the same mode without its faults)",
                    sk.name,
                    sk.records,
                    correctness_words(sk.duplicates, sk.missing)
                );
            }
        }
    }
    println!(
        "wrote {} files to {} (open {})",
        files,
        out.display(),
        out.join("report.html").display()
    );
    if diff && let Err(c) = crate::diff::after_compare(&s, &p, &modes, seed, out) {
        return c;
    }
    if failed { EXIT_JOB_FAILED } else { 0 }
}

/// The files of the streaming run's report (`run --out`), named `streaming/…`. `Err`: what
/// went wrong, to print.
fn streaming_drawn(
    file: &Path,
    chaos: bool,
    s: &streamlab_engine::scenario::Scenario,
    p: &Plan,
    seed: u64,
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let rec = streamlab_viz::run_page::Recorder::new();
    let out = streamlab_engine::oracle::run(
        s,
        p,
        streamlab_engine::sim::RunOptions {
            seed: Some(seed),
            trace: Some(Box::new(rec.clone())),
            capture_event_time: true,
            check: cfg!(debug_assertions),
            ..Default::default()
        },
    )
    .map_err(|e| format!("the streaming run could not be drawn: {e}"))?;
    let timeline = crate::run_report::timeline(&rec)?;
    let drawn = crate::run_report::RunDrawn {
        timeline: &timeline,
        event_time: &out.event_time,
    };
    let asked = crate::run_report::Asked { file, chaos };
    let mut files =
        crate::run_report::files(&asked, s, p, &out.report, &drawn).map_err(|e| e.to_string())?;
    let value = serde_json::to_value(&out.report).expect("reports serialize");
    let mut json = serde_json::to_string_pretty(&value).expect("reports serialize");
    json.push('\n');
    files.push(("report.json".into(), json.into_bytes()));
    Ok(files
        .into_iter()
        .map(|(n, b)| (format!("streaming/{n}"), b))
        .collect())
}

/// `streamlab sweep FILE --set PATH=V1,V2,… --modes … --out DIR`
pub fn sweep(file: &Path, set: &str, modes_list: &str, out: &Path, seed: Option<u64>) -> u8 {
    let modes = match parse_modes(modes_list) {
        Ok(m) => m,
        Err(c) => return c,
    };
    let set = match settings::parse(set, true) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    // the file must be a valid scenario as it is
    if let Err(c) = load_and_plan_quiet(file) {
        return c;
    }
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let doc: toml_edit::DocumentMut = match text.parse() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            return EXIT_BAD_INPUT;
        }
    };
    let (variants, invalid) = match sweep_variants(file, &doc, &set) {
        Ok(v) => v,
        Err(c) => return c,
    };
    for (setting, why) in &invalid {
        eprintln!("warning: --set {setting} is not run: {why}");
    }
    if variants.is_empty() {
        eprintln!(
            "error: no value of --set {} gives a valid scenario (see above)",
            set.path.join(".")
        );
        return EXIT_BAD_INPUT;
    }
    if let Err(e) = check_writable(out) {
        eprintln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    let points: Vec<SweepPoint> = match sweep_points(&variants, &modes, &set, seed) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let base = &variants[0].2;
    let sweep = SweepReport {
        streamlab_version: env!("CARGO_PKG_VERSION").into(),
        scenario: base.name.clone(),
        seed: seed.unwrap_or(base.seed),
        set: set.path.join("."),
        values: variants.iter().map(|v| set.values[v.0].clone()).collect(),
        invalid: invalid
            .iter()
            .map(|(setting, error)| InvalidSetting {
                setting: setting.clone(),
                error: error.clone(),
            })
            .collect(),
        modes: modes.iter().map(|m| m.name().to_string()).collect(),
        points,
    };
    let files = match write_report(out, "sweep.json", &sweep, streamlab_viz::sweep_files) {
        Ok(n) => n,
        Err(c) => return c,
    };
    println!(
        "streamlab sweep · scenario `{}` · {}",
        base.name,
        set.path.join(".")
    );
    print!("{}", sweep_table(&sweep.points, &invalid));
    let failed = sweep.points.iter().any(|p| p.status != "finished");
    println!(
        "wrote {} files to {} (open {})",
        files,
        out.display(),
        out.join("report.html").display()
    );
    if failed { EXIT_JOB_FAILED } else { 0 }
}

/// One value of a sweep: the value's index, the setting (`PATH=VALUE`), the scenario with
/// it, and its plan.
type Variant = (usize, String, Scenario, Plan);

/// A value of a sweep left out: the setting and its first error.
type Invalid = (String, String);

/// One scenario per value of `--set`, each checked before anything runs: `(value index,
/// setting, scenario, plan)`. A value that makes the scenario invalid or impossible to plan
/// is reported and left out (returned with its first error); the others run. `Err`: the
/// path itself is wrong, so no value can work (exit code).
fn sweep_variants(
    file: &Path,
    doc: &toml_edit::DocumentMut,
    set: &Setting,
) -> Result<(Vec<Variant>, Vec<Invalid>), u8> {
    let mut variants: Vec<Variant> = Vec::new();
    let mut invalid: Vec<Invalid> = Vec::new();
    for (i, v) in set.values.iter().enumerate() {
        let mut d = doc.clone();
        if let Err(e) = settings::apply(&mut d, &set.path, settings::value_of(v)) {
            // the path itself is wrong: no value can work
            eprintln!("error: {e}");
            return Err(EXIT_BAD_INPUT);
        }
        let setting = format!("{}={v}", set.path.join("."));
        let edited = d.to_string();
        let shown = format!("{} with {setting}", file.display());
        let s = match check::parse_str(&shown, &edited, file.parent()) {
            Ok(s) => s,
            Err(d) => {
                invalid.push((setting, first_error(&d)));
                eprint!("{}", d.render());
                continue;
            }
        };
        match streamlab_engine::plan::plan(&s) {
            Ok(p) => variants.push((i, setting, s, p)),
            Err(d) => {
                invalid.push((setting, first_error(&d)));
                eprint!("{}", d.render());
            }
        }
    }
    Ok((variants, invalid))
}

/// Runs every variant in every mode, in parallel, with a progress bar: one point each, in
/// the order variant by variant, mode by mode. `Err`: the first run that failed to start.
fn sweep_points(
    variants: &[Variant],
    modes: &[Mode],
    set: &Setting,
    seed: Option<u64>,
) -> Result<Vec<SweepPoint>, String> {
    let jobs: Vec<(usize, Mode)> = (0..variants.len())
        .flat_map(|i| modes.iter().map(move |&m| (i, m)))
        .collect();
    let progress = Progress::new(jobs.len() as u64, "sweep");
    let opts = ModeOptions {
        seed,
        without_crash: false,
    };
    let results: Vec<Result<SweepPoint, String>> = costliest_first::map(
        &jobs,
        |&(i, m)| run_cost(&variants[i].2, m),
        |&(i, m)| {
            let (vi, setting, s, p) = &variants[i];
            let r = modes::run_mode(s, p, m, &opts).map_err(|e| format!("{setting}: {e}"));
            progress.tick();
            Ok(SweepPoint::of(
                m.name(),
                setting,
                &set.values[*vi],
                &r?.report,
            ))
        },
    );
    progress.finish();
    results.into_iter().collect()
}

/// The first error of a scenario's diagnostics, on one line.
fn first_error(d: &streamlab_engine::core::diag::Diagnostics) -> String {
    d.items
        .iter()
        .find(|i| i.severity == streamlab_engine::core::diag::Severity::Error)
        .or(d.items.first())
        .map_or_else(|| "invalid".to_string(), |i| i.message.clone())
}

/// The sweep's text table: columns as wide as their widest cell, numbers right-aligned;
/// then the values that were not run.
fn sweep_table(points: &[SweepPoint], invalid: &[(String, String)]) -> String {
    let head = [
        "mode",
        "setting",
        "throughput/s",
        "p50 ms",
        "p99 ms",
        "outcome",
    ];
    let rows: Vec<[String; 6]> = points
        .iter()
        .map(|p| {
            [
                p.mode.clone(),
                p.setting.clone(),
                format!("{:.1}", p.throughput_per_s),
                format!("{:.3}", p.latency_p50_ms),
                format!("{:.3}", p.latency_p99_ms),
                match p.status.as_str() {
                    "limitreached" => "stopped at a limit".to_string(),
                    other => other.to_string(),
                },
            ]
        })
        .collect();
    let mut w = head.map(|h| h.chars().count());
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |r: &[String]| {
        let mut o = String::new();
        for (i, c) in r.iter().enumerate() {
            let pad = w[i] - c.chars().count();
            // text left, numbers right
            if (2..5).contains(&i) {
                o.push_str(&format!("  {}{c}", " ".repeat(pad)));
            } else {
                o.push_str(&format!("  {c}{}", " ".repeat(pad)));
            }
        }
        format!("{}\n", o.trim_end())
    };
    let mut out = line(&head.map(String::from));
    for r in &rows {
        out.push_str(&line(r));
    }
    for (setting, why) in invalid {
        out.push_str(&format!("  not run: {setting} — {why}\n"));
    }
    out
}

/// Duplicates and missing records of a sink as the engine counts them, in words: a record
/// there in place of another (a count a lost state got wrong) is counted once as "more than
/// the reference" and once as "less": each such pair is one wrong result.
pub fn correctness_words(duplicates: u64, missing: u64) -> String {
    let wrong = duplicates.min(missing);
    let (d, m) = (duplicates - wrong, missing - wrong);
    let n = |k: u64, one: &str, many: &str| format!("{k} {}", if k == 1 { one } else { many });
    let mut parts = vec![n(d, "duplicate", "duplicates"), n(m, "missing", "missing")];
    if wrong > 0 {
        parts.push(n(wrong, "wrong result", "wrong results"));
    }
    parts.join(", ")
}
