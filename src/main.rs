//! The `streamlab` command line: parses arguments, calls the engine, prints, and maps every
//! outcome to an exit status (0 ok, 1 the job failed or hit a limit, 2 bad input).

mod chaos;
mod cluster;
mod commands;
mod compare;
mod costliest_first;
mod crashpoints;
mod determinism;
mod diff;
mod explain;
mod export;
mod grade;
mod run_progress;
mod run_report;
mod settings;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// streamlab: run Flink-style streaming jobs on a deterministic simulated cluster.
#[derive(Parser, Debug)]
#[command(name = "streamlab", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How the job is submitted: `flink run`'s options.
#[derive(clap::Args, Debug)]
struct SubmitArgs {
    /// The client's default parallelism, as `flink run -p N`: operators that set none run
    /// with N unless the job sets `[job] environment_parallelism` (Flink's precedence:
    /// operator > environment > client -p > configuration `[job] parallelism`).
    #[arg(short = 'p', long = "parallelism", value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=32768))]
    parallelism: Option<u32>,
    /// Change one value of the scenario for this run, e.g. `--set sources.clicks.rate=1000`
    /// or `--set checkpointing.interval="5 s"` (repeatable; errors still point into the file).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
}

impl SubmitArgs {
    /// The submission, or exit status 2 for a malformed `--set`.
    fn submit(&self) -> Result<commands::Submit, u8> {
        let mut settings = Vec::new();
        for a in &self.set {
            settings.push(settings::parse(a, false).map_err(|e| {
                eprintln!("error: {e}");
                commands::EXIT_BAD_INPUT
            })?);
        }
        Ok(commands::Submit {
            parallelism: self.parallelism,
            settings,
        })
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Simulate a scenario and print what happened.
    Run {
        /// The scenario file (TOML).
        file: PathBuf,
        /// Seed for every random choice (default: the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Write the full report as JSON here.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Write the event trace (JSON lines) here.
        #[arg(long, value_name = "FILE")]
        trace: Option<PathBuf>,
        /// Write the run's report here: report.html (space-time diagram, per-subtask
        /// charts, tables), report.json, charts (SVG and PNG) and CSV series.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print only the one-line result, not the summary.
        #[arg(long, short)]
        quiet: bool,
        /// Rows of each sink to show in the summary (of those the sink captured: its
        /// `capture` setting).
        #[arg(long, value_name = "N", default_value_t = 10)]
        rows: usize,
        /// Add random faults drawn from the seed: the scenario's `[chaos]` profile, or the
        /// default one (every kind, 20 s apart on average, at least 5 s apart, while the
        /// input runs). The report lists them and compares the sinks with a fault-free run.
        #[arg(long)]
        chaos: bool,
        /// Run the in-run invariant checkers (watermarks never go back on a channel,
        /// barriers in order, each window result once, each exactly-once row committed
        /// once); a violation stops the run with an error. Always on in debug builds.
        #[arg(long)]
        check: bool,
        /// Run twice and require byte-identical reports and traces (else name the first
        /// trace line where they part), then once with simultaneous events in reverse order
        /// and say which sinks depend on how they interleave. Writes no files.
        #[arg(long)]
        check_determinism: bool,
        #[command(flatten)]
        submit: SubmitArgs,
    },
    /// Run several jobs on one cluster: a cluster file's `[[submit]]` scenarios on its
    /// `[cluster]` in its `[deployment]` mode, with its TaskManager crashes — who got which
    /// slots when, who waited and failed, which jobs each crash struck (exit 1 if a job did
    /// not finish).
    Cluster {
        /// The cluster file (TOML with `[[submit]]` tables).
        file: PathBuf,
        /// Print the report as JSON instead of the summary.
        #[arg(long)]
        json: bool,
        /// Also write cluster.json and cluster.html (slots × time) into this directory.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Show how Flink would plan the job: graph, chains (and why edges did not chain),
    /// subtasks with key groups, slots.
    Plan {
        /// The scenario file (TOML).
        file: PathBuf,
        /// Also write the plan as Graphviz here.
        #[arg(long, value_name = "FILE")]
        dot: Option<PathBuf>,
        /// Then compare the chains with the JobGraph vertices real Flink 2.3 builds for the
        /// exported job, without running it (`tools/flink-diff --plan-only`; needs its setup):
        /// per chain same/different, exit 1 on a difference.
        #[arg(long)]
        flink: bool,
        #[command(flatten)]
        submit: SubmitArgs,
    },
    /// Write the scenario as an Apache Flink project: a Java DataStream job with the same
    /// graph, its data, a pom.xml and a README (operators with no Flink equivalent are refused,
    /// exit 2; SQL queries also as a Flink SQL script — alone when their DataStream translation
    /// has no Flink counterpart).
    Export {
        /// The scenario file (TOML).
        file: PathBuf,
        /// The project directory to write.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The Flink version of the project.
        #[arg(long, default_value = "2.3", value_parser = clap::builder::PossibleValuesParser::new(export::FLINK_VERSIONS))]
        flink: String,
        /// Inject the scenario's first failure into the job: a map after the first source
        /// throws once, at the record its subtask 0 reads when the failure happens.
        #[arg(long)]
        inject_failure: bool,
    },
    /// Check a scenario file and list every error with its position.
    Validate {
        /// The scenario file (TOML).
        file: PathBuf,
    },
    /// Run a scenario and grade its `[[expect]]` tables: each expectation met or not, with
    /// what the run showed (exit 1 if one is not met).
    Check {
        /// The scenario file (TOML).
        file: PathBuf,
        /// Seed for every random choice (default: the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Print the verdicts as JSON.
        #[arg(long)]
        json: bool,
        /// Add random faults drawn from the seed, as `run --chaos` does (the file's `[chaos]`
        /// profile applies without it).
        #[arg(long)]
        chaos: bool,
    },
    /// Run the scenario once per crash point of one checkpoint — a failure right after its
    /// trigger, pre-commit or completion, of every subtask, TaskManager and the JobManager —
    /// and print crash point × sink: exactly once, duplicates, missing, job failed.
    Crashpoints {
        /// The scenario file (TOML).
        file: PathBuf,
        /// The checkpoint whose protocol steps are crashed.
        #[arg(long, default_value_t = 2)]
        checkpoint: u64,
        /// What fails: task, taskmanager, jobmanager (comma-separated).
        #[arg(long, default_value = "task,taskmanager,jobmanager")]
        kinds: String,
        /// Seed for every random choice (default: the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Print the matrix as JSON.
        #[arg(long)]
        json: bool,
        /// Replay crash point K (as numbered in the matrix) alone, with the run's summary.
        #[arg(long)]
        only: Option<usize>,
        /// Also write crashpoints.html (per sink, a grid of crash target × protocol step)
        /// and crashpoints.json into this directory.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Swarm testing: N runs, each with a random subset of fault kinds and faults drawn from
    /// the seed, checked against the fault-free run, the in-run invariants and the file's
    /// `[[expect]]`; the first failing run is shrunk and written as counterexample.toml.
    Chaos {
        /// The scenario file (TOML).
        file: PathBuf,
        /// How many runs.
        #[arg(long, default_value_t = 100)]
        runs: u64,
        /// Seed of the campaign and of every run (default: the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Worker threads (default: every core); the results do not depend on it.
        #[arg(long)]
        jobs: Option<usize>,
        /// Fault kinds allowed, comma-separated (default: the file's [chaos] kinds, else all).
        #[arg(long, value_name = "KINDS")]
        profile: Option<String>,
        /// Directory for counterexample.toml and counterexample.json (default: current).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run a scenario under several execution modes and write report.json, CSV series,
    /// charts (SVG and PNG) and report.html.
    Compare {
        /// The scenario file (TOML).
        file: PathBuf,
        /// Execution modes, comma-separated: streaming, micro-batch, batch, acking.
        #[arg(long, default_value = "streaming,micro-batch,batch,acking")]
        modes: String,
        /// Output directory.
        #[arg(long, value_name = "DIR", default_value = "out")]
        out: PathBuf,
        /// Seed for every random choice (default: the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Add random faults drawn from the seed (the `[chaos]` profile or the default one);
        /// the baselines take the first crash among them.
        #[arg(long)]
        chaos: bool,
        /// Then run the modes again capturing every sink row and list, row by row, how each
        /// mode's sinks differ from streaming's, and why (also written to DIR/diff.json).
        #[arg(long)]
        diff: bool,
    },
    /// Diff the sink rows of two runs, row by row, with why each row differs. A and B are
    /// `run --json` reports, or `report.json#MODE` of a `compare`.
    Diff {
        /// Run A.
        a: String,
        /// Run B.
        b: String,
        /// Only this sink.
        #[arg(long)]
        sink: Option<String>,
        /// Print the diff as JSON.
        #[arg(long)]
        json: bool,
        /// Differing rows listed per sink (all of them in --json).
        #[arg(long, value_name = "N", default_value_t = 20)]
        limit: usize,
    },
    /// Answer "why?" about a run: a window, a record, a sink row, the bottleneck or a
    /// checkpoint — in words, with the evidence and the Flink rule (or as JSON).
    Explain {
        /// The scenario file (TOML).
        file: PathBuf,
        /// Seed for every random choice (default: the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Add random faults drawn from the seed, as `run --chaos` does.
        #[arg(long)]
        chaos: bool,
        /// Print the answer as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        question: explain::QuestionArgs,
    },
    /// Run a scenario for several values of one setting in several modes (in parallel) and
    /// chart latency against throughput.
    Sweep {
        /// The scenario file (TOML).
        file: PathBuf,
        /// The setting and its values, e.g. `sources.clicks.rate=1000,10000,100000`.
        #[arg(long, value_name = "PATH=V1,V2,...")]
        set: String,
        /// Execution modes, comma-separated: streaming, micro-batch, batch, acking.
        #[arg(long, default_value = "streaming,micro-batch,batch,acking")]
        modes: String,
        /// Output directory.
        #[arg(long, value_name = "DIR", default_value = "out")]
        out: PathBuf,
        /// Seed for every random choice (default: the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
    },
}

/// `streamlab export`: loads and plans the scenario, writes the project or prints why not.
fn export_command(
    file: &std::path::Path,
    out: &std::path::Path,
    flink: &str,
    inject_failure: bool,
) -> u8 {
    let (s, p) = match commands::load_and_plan_quiet(file) {
        Ok(x) => x,
        Err(code) => return code,
    };
    match export::export(&s, &p, out, flink, inject_failure) {
        Ok(n) => {
            eprintln!("wrote {} files to {}", n, out.display());
            0
        }
        Err(export::ExportError::Refused(r)) => {
            eprint!(
                "{}",
                export::refusal_message(&file.display().to_string(), &r)
            );
            commands::EXIT_BAD_INPUT
        }
        Err(export::ExportError::Io(e)) => {
            eprintln!("error: {e}");
            commands::EXIT_BAD_INPUT
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    ExitCode::from(dispatch(cli.command).unwrap_or_else(|code| code))
}

/// Runs the command; `Err` is an exit status from reading its arguments.
fn dispatch(command: Command) -> Result<u8, u8> {
    Ok(match command {
        Command::Run {
            file,
            seed,
            chaos,
            check_determinism: true,
            submit,
            ..
        } => determinism::check(&file, &submit.submit()?, seed, chaos),
        Command::Run {
            file,
            seed,
            json,
            trace,
            out,
            quiet,
            rows,
            chaos,
            check,
            check_determinism: false,
            submit,
        } => commands::run(
            &file,
            &submit.submit()?,
            seed,
            commands::RunOutput {
                json: json.as_deref(),
                trace: trace.as_deref(),
                out: out.as_deref(),
                quiet,
                rows,
            },
            chaos,
            check,
        ),
        Command::Plan {
            file,
            dot,
            flink,
            submit,
        } => {
            if flink && (submit.parallelism.is_some() || !submit.set.is_empty()) {
                eprintln!(
                    "error: --flink compares the scenario as written (the export takes no -p or --set)"
                );
                return Err(commands::EXIT_BAD_INPUT);
            }
            match commands::plan(&file, &submit.submit()?, dot.as_deref()) {
                0 if flink => {
                    println!();
                    export::flink_plan::compare(&file)
                }
                code => code,
            }
        }
        Command::Validate { file } => commands::validate(&file),
        Command::Cluster { file, json, out } => cluster::cluster(&cluster::Ask {
            file: &file,
            json,
            out: out.as_deref(),
        }),
        Command::Export {
            file,
            out,
            flink,
            inject_failure,
        } => export_command(&file, &out, &flink, inject_failure),
        Command::Crashpoints {
            file,
            checkpoint,
            kinds,
            seed,
            json,
            only,
            out,
        } => crashpoints::crashpoints(&crashpoints::Ask {
            file: &file,
            checkpoint,
            kinds: &kinds,
            seed,
            json,
            only,
            out: out.as_deref(),
        }),
        Command::Chaos {
            file,
            runs,
            seed,
            jobs,
            profile,
            out,
            json,
        } => chaos::chaos(&chaos::Ask {
            file: &file,
            runs,
            seed,
            jobs,
            profile: profile.as_deref(),
            out: out.as_deref(),
            json,
        }),
        Command::Check {
            file,
            seed,
            json,
            chaos,
        } => grade::check(&file, seed, json, chaos),
        Command::Compare {
            file,
            modes,
            out,
            seed,
            chaos,
            diff,
        } => compare::compare(&file, &modes, &out, seed, chaos, diff),
        Command::Diff {
            a,
            b,
            sink,
            json,
            limit,
        } => diff::diff_files(
            &a,
            &b,
            &diff::Show {
                sink: sink.as_deref(),
                json,
                limit,
            },
        ),
        Command::Explain {
            file,
            seed,
            chaos,
            json,
            question,
        } => explain::explain(&file, seed, chaos, json, question),
        Command::Sweep {
            file,
            set,
            modes,
            out,
            seed,
        } => compare::sweep(&file, &set, &modes, &out, seed),
    })
}
