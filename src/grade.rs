//! `streamlab check FILE`: runs the scenario as `streamlab run` does (with the faults of its
//! `[chaos]` profile, or `--chaos`) and grades its `[[expect]]` tables — each expectation met
//! or not, with what the run actually showed. Exit 0: all met; 1: one or
//! more not met (or the run could not finish); 2: bad input, or nothing to check.

use crate::commands::{EXIT_BAD_INPUT, EXIT_JOB_FAILED, load_and_plan_quiet};
use std::path::Path;
use streamlab_engine::oracle;
use streamlab_engine::report::expect::{Verdict, grade};
use streamlab_engine::sim::RunOptions;

/// Runs `file` (with `seed`, or the scenario's) and prints each expectation's verdict, or
/// with `json` the verdicts as JSON.
pub fn check(file: &Path, seed: Option<u64>, json: bool, chaos: bool) -> u8 {
    let (mut s, p) = match load_and_plan_quiet(file) {
        Ok(x) => x,
        Err(code) => return code,
    };
    if s.expectations.is_empty() {
        eprintln!(
            "error: {}: nothing to check — the scenario has no [[expect]] table (see docs/scenario-format.md, `[[expect]]`)",
            file.display()
        );
        return EXIT_BAD_INPUT;
    }
    let seed = seed.unwrap_or(s.seed);
    let drawn = match crate::commands::apply_chaos(&mut s, seed, chaos) {
        Ok(d) => d,
        Err(code) => return code,
    };
    if !drawn.is_empty() {
        eprintln!("chaos: {}", drawn.join("; "));
    }
    let out = oracle::run(
        &s,
        &p,
        RunOptions {
            seed: Some(seed),
            ..Default::default()
        },
    );
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: the run could not be completed: {e}");
            return EXIT_JOB_FAILED;
        }
    };
    let verdicts = grade(&s, &p, &out.report);
    let met = verdicts.iter().filter(|v| v.met).count();
    if json {
        let v = serde_json::json!({
            "scenario": s.name,
            "seed": seed,
            "met": met,
            "total": verdicts.len(),
            "expectations": verdicts,
        });
        out_text(&format!(
            "{}\n",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        ));
    } else {
        out_text(&text(&file.display().to_string(), seed, &verdicts));
    }
    if met == verdicts.len() {
        0
    } else {
        EXIT_JOB_FAILED
    }
}

/// The verdicts as a person reads them: one line each, `file:line`, met or not, and what the
/// run showed.
fn text(file: &str, seed: u64, verdicts: &[Verdict]) -> String {
    let mut out = format!("streamlab check · {file} · seed {seed}\n");
    for v in verdicts {
        let (mark, word) = if v.met {
            ("✓", "met")
        } else {
            ("✗", "NOT MET")
        };
        out.push_str(&format!(
            "  {mark} {file}:{}  {} — {word}: {}\n",
            v.line, v.expected, v.actual
        ));
    }
    let met = verdicts.iter().filter(|v| v.met).count();
    out.push_str(&format!(
        "{met} of {} expectation{} met\n",
        verdicts.len(),
        if verdicts.len() == 1 { "" } else { "s" }
    ));
    out
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a panic.
fn out_text(t: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(t.as_bytes());
}
