//! The subcommands. Each returns the process exit status.

use std::io::Write;
use std::path::Path;
use std::time::Instant;
use streamlab_engine::check;
use streamlab_engine::core::diag::Diagnostics;
use streamlab_engine::oracle;
use streamlab_engine::plan::{self, render};
use streamlab_engine::report::{RunReport, Status, fmt_rate, plural};
use streamlab_engine::scenario::{self, LoadError, Scenario};
use streamlab_engine::sim::{self, RunOptions};

/// The job ran but did not finish (failed, or stopped at a limit).
pub const EXIT_JOB_FAILED: u8 = 1;
/// The input was bad: unreadable file, invalid scenario, unwritable output.
pub const EXIT_BAD_INPUT: u8 = 2;

fn print_diagnostics(d: &Diagnostics) {
    eprint!("{}", d.render());
    let n = d.error_count();
    if n > 0 {
        eprintln!(
            "{n} error{} in {}",
            if n == 1 { "" } else { "s" },
            d.file.name
        );
    }
}

/// [`load_and_plan`], for the commands that run several modes.
pub fn load_and_plan_quiet(file: &Path) -> Result<(Scenario, plan::Plan), u8> {
    load_and_plan(file, &Submit::default())
}

/// How the job is submitted, as `flink run` would: the client's `-p`, and `--set` changes to
/// the file (Flink's `-D key=value`, here any value of the scenario).
#[derive(Debug, Default)]
pub struct Submit {
    /// `-p N`: the client's default parallelism.
    pub parallelism: Option<u32>,
    /// `--set PATH=VALUE`, in order.
    pub settings: Vec<crate::settings::Setting>,
}

/// Reads the scenario as submitted: the file, or its text with the `--set` changes applied
/// (named `FILE (with --set …)` in errors, whose lines and columns are still the file's).
/// A `--set` that names no value of the file is an error printed here (exit status).
fn load_submitted(file: &Path, submit: &Submit) -> Result<Result<Scenario, LoadError>, u8> {
    let client = check::Client {
        parallelism: submit.parallelism,
    };
    if submit.settings.is_empty() {
        return Ok(check::load_as(file, &client));
    }
    let shown = file.display().to_string();
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            return Ok(Err(LoadError::Unreadable {
                path: shown,
                reason: e.to_string(),
            }));
        }
    };
    let edited = crate::settings::edited(&text, &submit.settings).map_err(|e| {
        eprintln!("error: {shown}: {e}");
        EXIT_BAD_INPUT
    })?;
    let sets: Vec<String> = submit
        .settings
        .iter()
        .map(|s| format!("{}={}", s.shown(), s.values[0]))
        .collect();
    let name = format!("{shown} (with --set {})", sets.join(" --set "));
    let f = streamlab_engine::core::diag::SourceFile::new(name, edited);
    Ok(check::parse_scenario_as(f, file.parent(), &[], &client).map_err(LoadError::Invalid))
}

/// Loads, validates and plans; prints every problem. Warnings are printed and do not stop.
pub fn load_and_plan(file: &Path, submit: &Submit) -> Result<(Scenario, plan::Plan), u8> {
    let s = match load_submitted(file, submit)? {
        Ok(s) => s,
        Err(LoadError::Unreadable { path, reason }) => {
            eprintln!("error: cannot read scenario file `{path}`: {reason}");
            return Err(EXIT_BAD_INPUT);
        }
        Err(LoadError::Invalid(d)) => {
            print_diagnostics(&d);
            return Err(EXIT_BAD_INPUT);
        }
    };
    if !s.warnings.is_empty() {
        let mut w = Diagnostics::new(s.file.clone());
        w.items = s.warnings.clone();
        eprint!("{}", w.render());
    }
    match plan::plan(&s) {
        Ok(p) => Ok((s, p)),
        Err(d) => {
            print_diagnostics(&d);
            Err(EXIT_BAD_INPUT)
        }
    }
}

/// Writes a file completely or not at all (temp file, then rename).
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("out")
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Adds the faults of the random fault profile — `[chaos]`, or the default profile when
/// `forced` by `--chaos` — drawn from `seed`. Returns them as `at <time>: <what>`.
pub fn apply_chaos(s: &mut Scenario, seed: u64, forced: bool) -> Result<Vec<String>, u8> {
    let profile = match (&s.chaos, forced) {
        (Some(p), _) => p.clone(),
        (None, true) => scenario::chaos::ChaosProfile::default(),
        (None, false) => return Ok(Vec::new()),
    };
    let faults = scenario::chaos::draw(s, &profile, seed).map_err(|e| {
        eprintln!("error: {}: {e}", s.file.name);
        EXIT_BAD_INPUT
    })?;
    let shown = faults
        .iter()
        .map(|f| match f.at {
            scenario::FaultTime::At(t) => format!("at {t}: {}", f.describe(s)),
            scenario::FaultTime::After(..) => f.describe(s),
        })
        .collect();
    s.fault_tolerance.faults.extend(faults);
    // compare with the fault-free run even when nothing was drawn
    s.fault_tolerance.record_output = true;
    Ok(shown)
}

/// How a run ended, as a person says it.
pub fn status_word(s: &Status) -> &'static str {
    match s {
        Status::Finished => "finished",
        Status::Failed => "failed",
        Status::LimitReached => "stopped at a limit",
    }
}

/// What `streamlab run` prints besides the report.
pub struct RunOutput<'a> {
    /// Write the full report as JSON here.
    pub json: Option<&'a Path>,
    /// Write the event trace here.
    pub trace: Option<&'a Path>,
    /// Write the run's report (report.html, report.json, charts, CSV) into this directory.
    pub out: Option<&'a Path>,
    /// Only the one-line result.
    pub quiet: bool,
    /// Rows of each sink to show.
    pub rows: usize,
}

pub fn run(
    file: &Path,
    submit: &Submit,
    seed: Option<u64>,
    output: RunOutput<'_>,
    chaos: bool,
    check: bool,
) -> u8 {
    let RunOutput {
        json,
        trace,
        out: out_dir,
        quiet,
        rows,
    } = output;
    let (mut s, p) = match load_and_plan(file, submit) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let seed_used = seed.unwrap_or(s.seed);
    let drawn = match apply_chaos(&mut s, seed_used, chaos) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let chaos_flag = if chaos { " --chaos" } else { "" };
    let trace_tmp = trace.map(|t| t.with_extension("jsonl.tmp"));
    if let Some(dir) = out_dir
        && let Err(code) = crate::run_report::check_out(dir)
    {
        return code;
    }
    let trace_file = match open_trace(trace, trace_tmp.as_deref()) {
        Ok(t) => t,
        Err(code) => return code,
    };
    // the report's page folds the trace into its timeline as the run writes it
    let recorder = out_dir.map(|_| streamlab_viz::run_page::Recorder::new());
    let trace_out = crate::run_report::trace_sink(trace_file, recorder.as_ref());
    let started = Instant::now();
    let mut line = crate::run_progress::RunProgress::new(s.limits.max_records);
    let out = oracle::run_with_progress(
        &s,
        &p,
        RunOptions {
            seed: Some(seed_used),
            trace: trace_out,
            hash_trace: false,
            // the checkers only observe; debug builds (the tests) always run them
            check: check || cfg!(debug_assertions),
            // the report's event-time diagrams; the run is the same without it
            capture_event_time: out_dir.is_some(),
            ..Default::default()
        },
        Some(&mut |pr: &sim::Progress| line.update(pr)),
    );
    line.finish();
    let out = match out {
        Ok(o) => o,
        Err(e) => return run_failed(&e, trace_tmp.as_deref(), seed_used),
    };
    let wall = started.elapsed();
    if let (Some(tmp), Some(dst)) = (&trace_tmp, trace)
        && let Err(e) = std::fs::rename(tmp, dst)
    {
        eprintln!("error: cannot write the trace to `{}`: {e}", dst.display());
        return EXIT_BAD_INPUT;
    }
    let mut out = out;
    out.report.chaos = drawn;
    let r = &out.report;
    if let Some(path) = json
        && let Err(code) = write_report_json(path, r)
    {
        return code;
    }
    if let (Some(dir), Some(rec)) = (out_dir, &recorder)
        && let Err(code) = crate::run_report::write(
            dir,
            &crate::run_report::Asked { file, chaos },
            &s,
            &p,
            r,
            rec,
            &out.event_time,
        )
    {
        return code;
    }
    print_result(r, quiet, rows, wall);
    match r.outcome.status {
        Status::Finished => 0,
        _ => {
            eprintln!(
                "the job did not finish ({}); to replay exactly this run: streamlab run {} --seed {}{chaos_flag}",
                r.outcome.message.as_deref().unwrap_or("see above"),
                file.display(),
                r.seed
            );
            EXIT_JOB_FAILED
        }
    }
}

/// Opens the trace file (written to `tmp`, renamed to `trace` when the run succeeded).
/// `Err`: the exit code, after saying why.
fn open_trace(trace: Option<&Path>, tmp: Option<&Path>) -> Result<Option<Box<dyn Write>>, u8> {
    match tmp {
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Ok(Some(Box::new(std::io::BufWriter::new(f)))),
            Err(e) => {
                eprintln!(
                    "error: cannot write the trace to `{}`: {e}",
                    trace.map(|t| t.display().to_string()).unwrap_or_default()
                );
                Err(EXIT_BAD_INPUT)
            }
        },
        None => Ok(None),
    }
}

/// A run that stopped with an error: an invariant checker's violation (an engine bug), or a
/// trace that could not be written. Removes the partial trace; returns the exit code.
fn run_failed(e: &std::io::Error, trace_tmp: Option<&Path>, seed: u64) -> u8 {
    if let Some(t) = trace_tmp {
        let _ = std::fs::remove_file(t);
    }
    if let Some(v) = e
        .get_ref()
        .and_then(|x| x.downcast_ref::<sim::observe::Violation>())
    {
        eprintln!("error: {v} (seed {seed}; an engine bug, please report it)");
        return EXIT_JOB_FAILED;
    }
    eprintln!("error: writing the trace failed: {e}");
    EXIT_BAD_INPUT
}

/// Writes the full report as pretty JSON. `Err`: the exit code, after saying why.
fn write_report_json(path: &Path, r: &RunReport) -> Result<(), u8> {
    let mut text = serde_json::to_string_pretty(r).expect("reports serialize");
    text.push('\n');
    write_atomic(path, text.as_bytes()).map_err(|e| {
        eprintln!(
            "error: cannot write the report to `{}`: {e}",
            path.display()
        );
        EXIT_BAD_INPUT
    })
}

/// Prints the run's result (the summary with `rows` rows per sink, or one line when
/// `quiet`), and the wall time on stderr.
pub(crate) fn print_result(r: &RunReport, quiet: bool, rows: usize, wall: std::time::Duration) {
    if quiet {
        println!(
            "{}: {}, {} into sinks, p99 latency {} ms, seed {}",
            r.scenario,
            status_word(&r.outcome.status),
            plural(r.sink_records, "record", "records"),
            r.latency.p99_ms,
            r.seed
        );
    } else {
        print!("{}", r.summary_with_rows(rows));
    }
    let secs = wall.as_secs_f64();
    eprintln!(
        "wall time {:.3} s · {} simulated records per wall second",
        secs,
        fmt_rate(if secs > 0.0 {
            r.source_records as f64 / secs
        } else {
            0.0
        })
    );
}

pub fn plan(file: &Path, submit: &Submit, dot: Option<&Path>) -> u8 {
    let (s, p) = match load_and_plan(file, submit) {
        Ok(x) => x,
        Err(code) => return code,
    };
    for q in &s.sql {
        println!("{}", q.render());
    }
    print!("{}", render::text(&s, &p));
    if let Some(path) = dot {
        if let Err(e) = write_atomic(path, render::dot(&s, &p).as_bytes()) {
            eprintln!("error: cannot write `{}`: {e}", path.display());
            return EXIT_BAD_INPUT;
        }
        eprintln!("wrote {}", path.display());
    }
    0
}

pub fn validate(file: &Path) -> u8 {
    match load_and_plan(file, &Submit::default()) {
        Ok((s, p)) => {
            println!(
                "{}: ok — {}, {}, {} slot{} needed of {}",
                file.display(),
                plural(p.logical.graph.node_count() as u64, "operator", "operators"),
                plural(p.execution.vertices.len() as u64, "chain", "chains"),
                p.deployment.slots_needed,
                if p.deployment.slots_needed == 1 {
                    ""
                } else {
                    "s"
                },
                s.cluster.total_slots()
            );
            0
        }
        Err(code) => code,
    }
}
