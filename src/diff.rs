//! `streamlab diff A.json B.json` and `streamlab compare … --diff`: the record-level diff of two
//! runs (engine: `report::diff`), in words or as JSON.
//!
//! `diff` reads what the reports kept (a sink's `capture`); `compare --diff` runs every mode
//! again with each sink capturing every row (up to [`CAPTURE_ALL`]), so its diff is complete,
//! and diffs the streaming run (or the first mode asked for) with each other mode.

use crate::commands::EXIT_BAD_INPUT;
use rayon::prelude::*;
use std::path::Path;
use streamlab_engine::modes::{self, Mode, ModeOptions, ModeRun};
use streamlab_engine::plan::Plan;
use streamlab_engine::report::diff::{DiffInput, DiffKind, DiffReport, RowDiff, diff};
use streamlab_engine::report::{CompareReport, RunReport};
use streamlab_engine::scenario::{NodeKind, Scenario, SinkSpec};

/// The rows each sink keeps in the runs of `compare --diff`: every row of a teaching
/// scenario, and a bound on memory for a large one (whose diff then says it is incomplete).
pub const CAPTURE_ALL: usize = 1_000_000;

/// What `diff` prints.
pub struct Show<'a> {
    /// Only this sink.
    pub sink: Option<&'a str>,
    /// JSON instead of words.
    pub json: bool,
    /// Rows listed per sink in words (all of them in JSON).
    pub limit: usize,
}

/// One run read from a file: a `run --json` report, or one mode of a `compare` report.json.
struct Loaded {
    report: RunReport,
    details: Option<modes::ModeDetails>,
}

impl Loaded {
    fn input<'a>(&'a self, label: &'a str) -> DiffInput<'a> {
        DiffInput {
            report: &self.report,
            details: self.details.as_ref(),
            label,
        }
    }
}

/// Reads `FILE` (a run report) or `FILE#MODE` (a mode of a compare report).
fn load(spec: &str) -> Result<Loaded, String> {
    let (file, mode) = match spec.rsplit_once('#') {
        Some((f, m)) => (f, Some(m)),
        None => (spec, None),
    };
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read `{file}`: {e}"))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("`{file}` is not JSON: {e}"))?;
    if value.get("runs").is_some() {
        let c: CompareReport = serde_json::from_value(value)
            .map_err(|e| format!("`{file}` is not a compare report: {e}"))?;
        let Some(m) = mode else {
            return Err(format!(
                "`{file}` is a compare report: name one of its modes, e.g. `{file}#{}` (its modes: {})",
                c.modes.first().map_or("streaming", String::as_str),
                c.modes.join(", ")
            ));
        };
        let found = c.runs.into_iter().find(|r| r.mode == m);
        let Some(r) = found else {
            return Err(format!(
                "`{file}` has no run in mode `{m}`; its modes: {}",
                c.modes.join(", ")
            ));
        };
        return Ok(Loaded {
            report: r.report,
            details: Some(r.details),
        });
    }
    if mode.is_some() {
        return Err(format!(
            "`{file}` is a run report (one run): leave out `#…`"
        ));
    }
    let report: RunReport = serde_json::from_value(value)
        .map_err(|e| format!("`{file}` is not a streamlab run report (`run --json`): {e}"))?;
    Ok(Loaded {
        report,
        details: None,
    })
}

/// `streamlab diff A B [--sink NAME] [--json] [--limit N]`
pub fn diff_files(a: &str, b: &str, show: &Show<'_>) -> u8 {
    let (la, lb) = match (load(a), load(b)) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if let Some(name) = show.sink {
        let known = |r: &RunReport| r.sinks.iter().any(|k| k.name == name);
        if !known(&la.report) || !known(&lb.report) {
            let names: Vec<&str> = la.report.sinks.iter().map(|k| k.name.as_str()).collect();
            eprintln!(
                "error: --sink `{name}` is not a sink of both runs; A's sinks: {}",
                names.join(", ")
            );
            return EXIT_BAD_INPUT;
        }
    }
    let d = diff(la.input("A"), lb.input("B"), show.sink);
    if show.json {
        println!("{}", json_text(&d));
    } else {
        println!("A = {a} ({}, seed {})", d.a.mode, d.a.seed);
        println!("B = {b} ({}, seed {})", d.b.mode, d.b.seed);
        print!("{}", words(&d, show.limit));
    }
    0
}

/// Pretty JSON with sorted keys (through `serde_json::Value`).
fn json_text<T: serde::Serialize>(v: &T) -> String {
    let value = serde_json::to_value(v).expect("diffs serialize");
    serde_json::to_string_pretty(&value).expect("diffs serialize")
}

/// The scenario with every sink capturing every row (up to [`CAPTURE_ALL`]).
fn capturing_all(s: &Scenario) -> Scenario {
    let mut s = s.clone();
    for n in &mut s.nodes {
        if let NodeKind::Sink(SinkSpec::Collect { capture } | SinkSpec::Upsert { capture, .. }, _) =
            &mut n.kind
        {
            *capture = (*capture).max(CAPTURE_ALL);
        }
    }
    s
}

/// `compare … --diff`: runs `modes` again capturing every row, prints the diff of the streaming
/// run (or the first mode) with each other mode and writes them to `out/diff.json`.
pub fn after_compare(
    s: &Scenario,
    p: &Plan,
    modes: &[Mode],
    seed: Option<u64>,
    out: &Path,
) -> Result<(), u8> {
    let s = capturing_all(s);
    let opts = ModeOptions {
        seed,
        without_crash: false,
    };
    let runs: Result<Vec<ModeRun>, String> = modes
        .par_iter()
        .map(|&m| modes::run_mode(&s, p, m, &opts).map_err(|e| e.to_string()))
        .collect();
    let runs = runs.map_err(|e| {
        eprintln!("error: {e}");
        EXIT_BAD_INPUT
    })?;
    let first = modes
        .iter()
        .position(|&m| m == Mode::Streaming)
        .unwrap_or(0);
    fn input(r: &ModeRun) -> DiffInput<'_> {
        DiffInput {
            report: &r.report,
            details: Some(&r.details),
            label: mode_label(&r.mode),
        }
    }
    let diffs: Vec<DiffReport> = (0..runs.len())
        .filter(|&i| i != first)
        .map(|i| diff(input(&runs[first]), input(&runs[i]), None))
        .collect();
    for d in &diffs {
        println!();
        println!(
            "record-level diff: {} vs {} (every row captured)",
            d.a.label, d.b.label
        );
        print!("{}", words(d, 10));
    }
    let doc = serde_json::json!({
        "scenario": s.name,
        "seed": seed.unwrap_or(s.seed),
        "diffs": diffs,
    });
    let path = out.join("diff.json");
    std::fs::write(&path, json_text(&doc) + "\n").map_err(|e| {
        eprintln!("error: cannot write `{}`: {e}", path.display());
        EXIT_BAD_INPUT
    })?;
    println!();
    println!("wrote {} (every differing row)", path.display());
    Ok(())
}

fn mode_label(m: &str) -> &'static str {
    Mode::parse(m).map_or("?", Mode::name)
}

/// The diff in words: per sink what was compared, the rows that differ (at most `limit`),
/// and each cause with its reason.
pub fn words(d: &DiffReport, limit: usize) -> String {
    let (a, b) = (&d.a.label, &d.b.label);
    let mut o = String::new();
    for k in &d.sinks {
        let differing = k.differing_rows();
        o += &format!(
            "sink `{}` ({}) · compared by {} · {} rows in {a}, {} in {b}\n",
            k.name,
            k.fields.join(", "),
            k.compared_by,
            k.rows[0],
            k.rows[1]
        );
        if let Some(n) = &k.note {
            o += &format!("  note: {n}\n");
        }
        if let Some(f) = &k.folded {
            o += &format!(
                "  {} earlier rows folded ({} in {a}, {} in {b}) — {}: {}\n",
                f.rows,
                k.updates[0],
                k.updates[1],
                f.cause.words(),
                f.reason
            );
        }
        if differing == 0 {
            o += &format!("  no row differs ({} the same)\n", k.same);
            continue;
        }
        o += &format!(
            "  {differing} {} differ, {} the same\n",
            if differing == 1 { "row" } else { "rows" },
            k.same
        );
        for r in k.differences.iter().take(limit) {
            o += &format!("  {}\n", row_words(r, a, b));
        }
        if k.differences.len() > limit {
            o += &format!(
                "  … and {} more (all of them in --json)\n",
                k.differences.len() - limit
            );
        }
        for c in &k.causes {
            o += &format!(
                "  {} ({} {}): {}\n",
                c.cause.words(),
                c.rows,
                if c.rows == 1 { "row" } else { "rows" },
                c.reason
            );
        }
    }
    for n in &d.discard_sinks {
        o += &format!("sink `{n}`: a discard sink keeps no rows, not compared\n");
    }
    for n in &d.unmatched_sinks {
        o += &format!("sink `{n}`: only one of the runs has it\n");
    }
    o
}

fn row_text(r: &Option<Vec<serde_json::Value>>) -> String {
    r.as_ref()
        .map_or("-".into(), |v| serde_json::to_string(v).unwrap_or_default())
}

/// One differing row: `+`/`-` only in one run (with how often each shows it), `~` another
/// value for the same key and window.
fn row_words(r: &RowDiff, a: &str, b: &str) -> String {
    let window = r.window.as_ref().map_or(String::new(), |w| {
        format!(" window {}", row_text(&Some(w.clone())))
    });
    match r.kind {
        DiffKind::DifferentValue => format!(
            "~ key {}{window}: {a} {} · {b} {} — {}",
            row_text(&Some(r.key.clone())),
            row_text(&r.a),
            row_text(&r.b),
            r.cause.words()
        ),
        DiffKind::OnlyInA => format!(
            "- {} {}× in {a}, {}× in {b} — {}",
            row_text(&r.a),
            r.copies[0],
            r.copies[1],
            r.cause.words()
        ),
        DiffKind::OnlyInB => format!(
            "+ {} {}× in {b}, {}× in {a} — {}",
            row_text(&r.b),
            r.copies[1],
            r.copies[0],
            r.cause.words()
        ),
    }
}
