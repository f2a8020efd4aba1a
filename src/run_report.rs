//! `streamlab run FILE --out DIR`: the run's report as files — `report.html` (space-time
//! diagram, per-subtask charts, tables), `report.json`, charts as SVG and PNG, CSV series.
//!
//! The page needs what happened over time: the run's trace goes, line by line, into a
//! [`Recorder`] that folds it into a bounded timeline (and, with `--trace`, into the trace
//! file as well: [`Tee`]). Nothing else about the run changes.

use crate::commands::EXIT_BAD_INPUT;
use std::io::Write;
use std::path::Path;
use streamlab_engine::plan::Plan;
use streamlab_engine::report::event_time::EventTimeView;
use streamlab_engine::report::{PlanView, RunReport};
use streamlab_engine::scenario::Scenario;
use streamlab_viz::run_page::lanes::shell_word;
use streamlab_viz::run_page::{Recorder, RunPage, run_files};

/// Writes every line to both outputs; the first error stops it.
pub struct Tee(pub Box<dyn Write>, pub Box<dyn Write>);

impl Write for Tee {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write_all(buf)?;
        self.1.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()?;
        self.1.flush()
    }
}

/// The trace writer of a run: the trace file, the recorder of the report, both, or none.
pub fn trace_sink(file: Option<Box<dyn Write>>, rec: Option<&Recorder>) -> Option<Box<dyn Write>> {
    match (file, rec) {
        (Some(f), Some(r)) => Some(Box::new(Tee(f, Box::new(r.clone())))),
        (Some(f), None) => Some(f),
        (None, Some(r)) => Some(Box::new(r.clone())),
        (None, None) => None,
    }
}

/// Checks before the run that `out` can be written. `Err`: the exit code, after saying why.
pub fn check_out(out: &Path) -> Result<(), u8> {
    crate::compare::check_writable(out).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_BAD_INPUT
    })
}

/// How the run was asked for: the scenario file and whether `--chaos` was on — for the
/// `streamlab explain` questions in the page's tips.
pub struct Asked<'a> {
    /// The scenario file as given.
    pub file: &'a Path,
    /// `--chaos`.
    pub chaos: bool,
}

/// Everything `run --out` writes but `report.json`: the run page, its pictures and series.
pub struct RunDrawn<'a> {
    /// The run's trace, folded.
    pub timeline: &'a streamlab_viz::run_page::Timeline,
    /// The event-time views the run captured.
    pub event_time: &'a [EventTimeView],
}

/// The files of a run's report (but `report.json`) for `report`, a run of `s` and `p`.
pub fn files(
    asked: &Asked<'_>,
    s: &Scenario,
    p: &Plan,
    report: &RunReport,
    drawn: &RunDrawn<'_>,
) -> Result<Vec<streamlab_viz::File>, streamlab_viz::VizError> {
    let plan = PlanView::of(s, p);
    let explain = format!(
        "streamlab explain {} --seed {}{}",
        shell_word(&asked.file.display().to_string()),
        report.seed,
        if asked.chaos { " --chaos" } else { "" }
    );
    let diagrams: Vec<String> = drawn
        .event_time
        .iter()
        .map(streamlab_viz::event_time::svg)
        .collect();
    let mut files = run_files(&RunPage {
        report,
        plan: &plan,
        description: &s.description,
        timeline: drawn.timeline,
        explain: Some(&explain),
        event_time: &diagrams,
    })?;
    files.extend(streamlab_viz::event_time::files(drawn.event_time)?);
    Ok(files)
}

/// The timeline the recorder folded, or why it could not be read.
pub fn timeline(rec: &Recorder) -> Result<streamlab_viz::run_page::Timeline, String> {
    rec.finish()
        .map_err(|e| format!("the run's trace could not be read for the report: {e}"))
}

/// Writes the report of the run into `out`, all or nothing. `Err`: the exit code, after
/// saying why.
pub fn write(
    out: &Path,
    asked: &Asked<'_>,
    s: &Scenario,
    p: &Plan,
    report: &RunReport,
    rec: &Recorder,
    event_time: &[EventTimeView],
) -> Result<(), u8> {
    let timeline = timeline(rec).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_BAD_INPUT
    })?;
    let drawn = RunDrawn {
        timeline: &timeline,
        event_time,
    };
    let n = crate::compare::write_report(out, "report.json", report, |r| {
        files(asked, s, p, r, &drawn)
    })?;
    eprintln!(
        "wrote {} ({n} files: report.html, report.json, charts, CSV series)",
        out.join("report.html").display()
    );
    Ok(())
}
