//! A run as `streamlab run` shows it: the simulation, and around it the runs it is compared
//! with.
//!
//! - `compare_aligned`: the same job with aligned checkpoints runs first; the report's
//!   `comparison` holds how the checkpoints of both runs fared ([`super::aligned`]).
//! - A scenario with faults (or savepoints, a rescale, `--chaos`) first runs without them,
//!   with the same seed: each sink's `duplicates` and `missing` compare with that reference
//!   run ([`super::reference`]).

use crate::plan::Plan;
use crate::scenario::Scenario;
use crate::sim::{Progress, RunOptions, RunOutput, Simulation};

/// Runs a planned scenario to the end (or to a limit), with the runs it is compared with.
pub fn run(s: &Scenario, p: &Plan, opts: RunOptions) -> Result<RunOutput, std::io::Error> {
    run_with_progress(s, p, opts, None)
}

/// [`run`], calling `progress` every few thousand events of the run the report describes
/// (not of the runs it is compared with) — for a progress line.
pub fn run_with_progress(
    s: &Scenario,
    p: &Plan,
    opts: RunOptions,
    progress: Option<&mut dyn FnMut(&Progress)>,
) -> Result<RunOutput, std::io::Error> {
    if let Some(aligned) = super::aligned::variant(s) {
        let base = run(
            &aligned,
            p,
            RunOptions {
                seed: opts.seed,
                ..Default::default()
            },
        )?;
        let mut me = s.clone();
        if let Some(c) = me.fault_tolerance.checkpointing.as_mut() {
            c.compare_aligned = false;
        }
        let mut out = run_with_progress(&me, p, opts, progress)?;
        out.report.comparison = super::aligned::compare(&base.report, &out.report);
        return Ok(out);
    }
    if !s.fault_tolerance.disturbed() {
        return simulate(s, p, opts, progress);
    }
    let base = simulate(
        &super::reference::scenario(s),
        p,
        RunOptions {
            seed: opts.seed,
            ..Default::default()
        },
        None,
    )?;
    let mut out = simulate(s, p, opts, progress)?;
    // After a rescale the job that ran last is the resubmitted one.
    let s = match (&p.rescaled, out.resubmitted) {
        (Some(r), true) => &r.scenario,
        _ => s,
    };
    super::reference::compare(&mut out.report, s, &out.visible, &base);
    Ok(out)
}

/// The fault-free reference run of `s` — what [`run`] compares a run with faults with — for
/// many runs of one scenario that differ only in their faults (`streamlab chaos`): the
/// reference is the same for all of them, so it runs once. `None` when [`run`] would not
/// compare with a reference the usual way (an aligned variant to run first).
pub fn reference(
    s: &Scenario,
    p: &Plan,
    seed: Option<u64>,
) -> Option<Result<RunOutput, std::io::Error>> {
    if super::aligned::variant(s).is_some() {
        return None;
    }
    Some(simulate(
        &super::reference::scenario(s),
        p,
        RunOptions {
            seed,
            ..Default::default()
        },
        None,
    ))
}

/// [`run`] with the reference run given: `reference` must be [`reference`]`(s, p, opts.seed)`
/// of a scenario that differs from `s` only in its faults. The report is the one [`run`]
/// gives.
pub fn run_against(
    s: &Scenario,
    p: &Plan,
    opts: RunOptions,
    reference: &RunOutput,
) -> Result<RunOutput, std::io::Error> {
    if super::aligned::variant(s).is_some() {
        return run(s, p, opts);
    }
    if !s.fault_tolerance.disturbed() {
        return simulate(s, p, opts, None);
    }
    let mut out = simulate(s, p, opts, None)?;
    let s = match (&p.rescaled, out.resubmitted) {
        (Some(r), true) => &r.scenario,
        _ => s,
    };
    super::reference::compare(&mut out.report, s, &out.visible, reference);
    Ok(out)
}

/// One simulation, with `progress`.
fn simulate(
    s: &Scenario,
    p: &Plan,
    opts: RunOptions,
    progress: Option<&mut dyn FnMut(&Progress)>,
) -> Result<RunOutput, std::io::Error> {
    let check = opts.check;
    let mut sim = Simulation::new(s, p, opts);
    if check {
        sim.observe(Box::new(super::invariants::Invariants::new(s, p)));
    }
    if let Some(f) = progress {
        sim.on_progress(f);
    }
    sim.run()
}
