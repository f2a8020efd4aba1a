//! Runs the jobs of a cluster file, each with the ordinary simulation, on the slots the
//! cluster gives it.
//!
//! The jobs are taken in submission order (ties: the order written). For each:
//! 1. its start-up steps up to the slot request ([`crate::flink::startup::timeline`]): the
//!    request reaches the ResourceManager at `submitted + those steps`;
//! 2. its slots: in a session cluster from the shared [`SlotPool`] — the lowest free ones, as
//!    soon as enough are free and every earlier request was served or gave up, or it fails
//!    at `request + slot.request.timeout` with Flink's message; in per-job and application
//!    mode its own TaskManagers (numbered after the previous jobs'), at once;
//! 3. its run: the job is planned, its subtasks placed on those slots (slot `k` of Flink's
//!    slot sharing on the `k`-th slot it got), and simulated from its first record (the
//!    slots plus the steps after the request: offers, deployment). A cluster crash at time
//!    `T` of a TaskManager it holds a slot on becomes a TaskManager fault at the job's own
//!    time `T − first record` (0 when it strikes during the deployment). Its simulation says
//!    when it ended, and so when its slots are free again — which is why the jobs are
//!    simulated one after the other, in the order they get slots;
//! 4. because a crash lengthens the run (restart, replay), which decides which later crashes
//!    still find the job, the crashes are collected again with the new end until they no
//!    longer change (at most one round per crash).

use super::file::{ClusterFault, ClusterFile};
use super::report::{ClusterReport, FaultReport, JobReport, Occupancy, Strike, TaskManagerReport};
use crate::core::time::{SimDuration, SimTime};
use crate::flink::deployment::Mode;
use crate::flink::session::{self, Slot, SlotPool};
use crate::flink::startup;
use crate::plan::Plan;
use crate::report::Status;
use crate::scenario::{Cluster, Fault, FaultKind, FaultTime, Scenario};

/// A job planned for the cluster.
struct Planned {
    index: usize,
    scenario: Scenario,
    plan: Plan,
}

/// Why the jobs could not be run.
#[derive(Debug, thiserror::Error)]
pub enum ClusterRunError {
    /// A job could not be planned or placed (its own diagnostics, or the cluster file's).
    #[error("{0}")]
    Invalid(crate::core::diag::Diagnostics),
    /// A simulation stopped with an error (an invariant checker's violation).
    #[error("job `{job}`: {error}")]
    Run {
        /// The job.
        job: String,
        /// What went wrong.
        error: std::io::Error,
    },
}

/// Plans every job and runs them on the cluster. `check`: run the in-run invariant checkers.
pub fn run(c: &ClusterFile, check: bool) -> Result<ClusterReport, ClusterRunError> {
    let planned = plan_all(c)?;
    let spec = &c.deployment;
    let session = spec.mode == Mode::Session;
    // per-job and application mode: each job's own TaskManagers, numbered in submission order
    let mut order: Vec<usize> = (0..planned.len()).collect();
    order.sort_by_key(|&i| (c.submissions[i].at, i));
    let spt = c.cluster.slots_per_tm;
    let mut own_tms: Vec<(u32, u32)> = vec![(0, 0); planned.len()]; // (first, count)
    let mut next_tm = 0;
    for &i in &order {
        let need = planned[i].plan.deployment.slots_needed;
        let n = need.div_ceil(spt);
        own_tms[i] = (next_tm, n);
        next_tm += n;
    }
    let total_tms = if session {
        c.cluster.task_managers
    } else {
        next_tm
    };
    if !session {
        check_fault_task_managers(c, total_tms)?;
    }
    let mut pool = SlotPool::new(total_tms, spt);
    for f in &c.faults {
        pool.outage(f.task_manager, f.at, f.at.plus(f.replacement_delay));
    }
    let timeout = spec.slot_request_timeout;
    let mut jobs: Vec<Option<JobReport>> = vec![None; planned.len()];
    let mut queue_free = SimTime::ZERO; // when the previous request was served or gave up
    for &i in &order {
        let p = &planned[i];
        let sub = &c.submissions[i];
        let need = p.plan.deployment.slots_needed;
        let tasks: u32 = p
            .plan
            .deployment
            .slots
            .iter()
            .map(|s| s.subtasks.len() as u32)
            .sum();
        // the steps up to the request do not depend on where the slots are
        let before = startup::timeline(spec, &[], tasks);
        let request_end = before
            .iter()
            .find(|s| s.what.starts_with("requests"))
            .map_or(SimDuration::ZERO, |s| s.end);
        let requested = sub.at.plus(request_end);
        let deadline = requested.plus(timeout);
        let granted = if session {
            pool.request(need, requested.max(queue_free), deadline)
        } else {
            let (first, _) = own_tms[i];
            let slots = (0..need).map(|k| (first + k / spt, k % spt)).collect();
            Ok((requested, slots))
        };
        let mut report = JobReport {
            name: p.scenario.name.clone(),
            scenario: sub.path.clone(),
            submitted_ms: ms(sub.at),
            slots_needed: need,
            requested_ms: ms(requested),
            granted_ms: None,
            running_ms: None,
            ended_ms: ms(deadline),
            slots: Vec::new(),
            status: "failed".into(),
            message: None,
            waited: None,
            struck_by: Vec::new(),
            restarts: 0,
            sink_records: 0,
            duplicates: 0,
            missing: 0,
        };
        match granted {
            Err(timed_out) => {
                queue_free = timed_out.at;
                report.ended_ms = ms(timed_out.at);
                report.message = Some(session::no_resource_message(timeout));
                report.waited = Some(format!(
                    "needs {need} slot{} of the cluster's {}; at most {} {} free while it waited",
                    if need == 1 { "" } else { "s" },
                    pool.total(),
                    timed_out.most_free,
                    if timed_out.most_free == 1 {
                        "was"
                    } else {
                        "were"
                    },
                ));
            }
            Ok((at, slots)) => {
                queue_free = at;
                let per_tm = per_task_manager(&slots);
                let steps = startup::timeline(spec, &per_tm, tasks);
                let first_record_after_request = steps
                    .iter()
                    .map(|s| s.end)
                    .max()
                    .unwrap_or(request_end)
                    .saturating_sub(request_end);
                let running = at.plus(first_record_after_request);
                let (out, struck) = simulate(p, c, &slots, total_tms, running, at, check)?;
                let r = &out.report;
                let ended = running.plus(SimDuration::from_nanos(r.outcome.at_ns));
                pool.hold(i, slots.clone(), at, ended);
                report.granted_ms = Some(ms(at));
                report.running_ms = Some(ms(running));
                report.ended_ms = ms(ended);
                report.slots = slots;
                report.status = match r.outcome.status {
                    Status::Finished => "finished",
                    Status::Failed => "failed",
                    Status::LimitReached => "stopped at a limit",
                }
                .into();
                report.message = r.outcome.message.clone();
                report.restarts = r
                    .failures
                    .iter()
                    .filter(|f| f.downtime_ms.is_some())
                    .count() as u32;
                report.struck_by = struck
                    .iter()
                    .map(|f| Strike {
                        task_manager: f.task_manager,
                        at_ms: ms(f.at),
                        job_time_ms: ms(SimTime::at(f.at.since(running))),
                    })
                    .collect();
                report.sink_records = r.sink_records;
                report.duplicates = r.sinks.iter().filter_map(|s| s.duplicates).sum();
                report.missing = r.sinks.iter().filter_map(|s| s.missing).sum();
            }
        }
        jobs[i] = Some(report);
    }
    let jobs: Vec<JobReport> = jobs.into_iter().flatten().collect();
    let faults = c
        .faults
        .iter()
        .map(|f| FaultReport {
            task_manager: f.task_manager,
            at_ms: ms(f.at),
            replaced_ms: ms(f.at.plus(f.replacement_delay)),
            struck: pool
                .struck(f.task_manager, f.at)
                .into_iter()
                .map(|j| planned[j].scenario.name.clone())
                .collect(),
        })
        .collect();
    let task_managers = (0..total_tms)
        .map(|tm| TaskManagerReport {
            task_manager: tm,
            cluster_of: (!session)
                .then(|| {
                    own_tms
                        .iter()
                        .position(|&(first, n)| tm >= first && tm < first + n)
                        .map(|j| planned[j].scenario.name.clone())
                })
                .flatten(),
            occupancy: occupancy(&jobs, tm),
        })
        .collect();
    Ok(ClusterReport {
        name: c.name.clone(),
        description: c.description.clone(),
        mode: spec.mode.name().into(),
        platform: spec.platform.name().into(),
        task_managers_per_cluster: c.cluster.task_managers,
        slots_per_task_manager: spt,
        slot_request_timeout_ms: timeout.as_millis_f64(),
        jobs,
        faults,
        task_managers,
    })
}

/// The job's run on `slots`, first record at `running` (cluster time), struck by the crashes
/// that find it holding a slot; returns the run and those crashes.
fn simulate(
    p: &Planned,
    c: &ClusterFile,
    slots: &[Slot],
    total_tms: u32,
    running: SimTime,
    granted: SimTime,
    check: bool,
) -> Result<(crate::sim::RunOutput, Vec<ClusterFault>), ClusterRunError> {
    let mut s = p.scenario.clone();
    s.cluster = Cluster {
        task_managers: total_tms,
        ..c.cluster
    };
    s.deployment = Some(c.deployment);
    let plan = placed(&p.plan, slots);
    let own_faults = s.fault_tolerance.faults.clone();
    let mut struck: Vec<ClusterFault> = Vec::new();
    // each round adds the crashes before the run's new end; a crash never shortens a run
    // enough to matter for a bound: at most one round per crash, plus the first
    for _ in 0..=c.faults.len() {
        s.fault_tolerance.faults = own_faults.clone();
        for f in &struck {
            s.fault_tolerance.faults.push(Fault {
                at: FaultTime::At(SimTime::at(f.at.since(running))),
                kind: FaultKind::KillTaskManager {
                    tm: f.task_manager,
                    replacement_delay: f.replacement_delay,
                },
                span: f.span.clone(),
            });
        }
        s.fault_tolerance.faults.sort_by_key(|f| fault_order(&f.at));
        let out = crate::oracle::run(
            &s,
            &plan,
            crate::sim::RunOptions {
                seed: Some(s.seed),
                check,
                ..Default::default()
            },
        )
        .map_err(|error| ClusterRunError::Run {
            job: s.name.clone(),
            error,
        })?;
        let ended = running.plus(SimDuration::from_nanos(out.report.outcome.at_ns));
        let now: Vec<ClusterFault> = c
            .faults
            .iter()
            .filter(|f| {
                granted <= f.at && f.at < ended && slots.iter().any(|&(tm, _)| tm == f.task_manager)
            })
            .cloned()
            .collect();
        if now == struck {
            return Ok((out, struck));
        }
        struck = now;
    }
    Err(ClusterRunError::Run {
        job: s.name.clone(),
        error: std::io::Error::other("the crashes that strike the job did not settle"),
    })
}

/// Faults at fixed times first, in time order (the order the simulation expects them in
/// does not matter for its result, but the report lists them so).
fn fault_order(t: &FaultTime) -> (u8, u64) {
    match t {
        FaultTime::At(t) => (0, t.as_nanos()),
        FaultTime::After(_, n) => (1, *n),
    }
}

/// The plan with its slots moved to `slots`: slot `k` of the job (in Flink's slot-sharing
/// order) is the `k`-th slot the cluster gave it.
fn placed(p: &Plan, slots: &[Slot]) -> Plan {
    let mut p = p.clone();
    for (k, a) in p.deployment.slots.iter_mut().enumerate() {
        let (tm, slot) = slots[k];
        a.task_manager = tm;
        a.slot = slot;
        for &(vi, st) in &a.subtasks {
            p.deployment.task_manager_of[vi][st as usize] = tm;
        }
    }
    p
}

/// Plans every job as it runs on this cluster; a job that cannot fit in its own cluster
/// (per-job and application mode) is refused at its `[[submit]]`.
fn plan_all(c: &ClusterFile) -> Result<Vec<Planned>, ClusterRunError> {
    let mut out = Vec::new();
    for (index, sub) in c.submissions.iter().enumerate() {
        let mut s = sub.scenario.clone();
        // planned on a cluster big enough for any job: where its slots are is decided here
        s.cluster = Cluster {
            task_managers: 1,
            slots_per_tm: 1 << 20,
            cores_per_tm: c.cluster.cores_per_tm,
        };
        let plan = crate::plan::plan(&s).map_err(ClusterRunError::Invalid)?;
        if plan.rescaled.is_some() {
            return Err(refuse(
                c,
                sub,
                format!("job `{}` has a [rescale]", s.name),
                "streamlab cluster runs each job once: run rescales with `streamlab run`",
            ));
        }
        let need = plan.deployment.slots_needed;
        let has = c.cluster.total_slots();
        if c.deployment.mode != Mode::Session && need > has {
            return Err(refuse(
                c,
                sub,
                format!(
                    "NoResourceAvailableException: Could not acquire the minimum required resources. Job `{}` needs {need} slots but its {} cluster has {has} ({} TaskManagers × {} slots)",
                    s.name,
                    c.deployment.mode.name(),
                    c.cluster.task_managers,
                    c.cluster.slots_per_tm
                ),
                "in per-job and application mode each job gets a cluster of [cluster]'s size: add TaskManagers or slots, or lower the job's parallelism",
            ));
        }
        out.push(Planned {
            index,
            scenario: s,
            plan,
        });
    }
    debug_assert!(out.iter().enumerate().all(|(i, p)| p.index == i));
    Ok(out)
}

fn refuse(
    c: &ClusterFile,
    sub: &super::file::Submission,
    message: String,
    label: &str,
) -> ClusterRunError {
    let mut d = crate::core::diag::Diagnostics::new(c.file.clone());
    d.push(crate::core::diag::Diagnostic::error(message, Some(sub.span.clone())).with_label(label));
    ClusterRunError::Invalid(d)
}

/// In per-job and application mode the TaskManagers exist once the jobs are planned.
fn check_fault_task_managers(c: &ClusterFile, total: u32) -> Result<(), ClusterRunError> {
    let mut d = crate::core::diag::Diagnostics::new(c.file.clone());
    for f in &c.faults {
        if f.task_manager >= total {
            d.push(
                crate::core::diag::Diagnostic::error(
                    format!(
                        "no TaskManager {}: the jobs' own clusters have {total} (0 to {})",
                        f.task_manager,
                        total.saturating_sub(1)
                    ),
                    Some(f.span.clone()),
                )
                .with_label(format!(
                    "in {} mode each job has its own TaskManagers, numbered in submission order",
                    c.deployment.mode.name()
                )),
            );
        }
    }
    if d.has_errors() {
        return Err(ClusterRunError::Invalid(d));
    }
    Ok(())
}

/// `(TaskManager, slots on it)`, by TaskManager.
fn per_task_manager(slots: &[Slot]) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for &(tm, _) in slots {
        match out.iter_mut().find(|e| e.0 == tm) {
            Some(e) => e.1 += 1,
            None => out.push((tm, 1)),
        }
    }
    out.sort_unstable();
    out
}

/// Who held which slot of TaskManager `tm` when.
fn occupancy(jobs: &[JobReport], tm: u32) -> Vec<Occupancy> {
    let mut out = Vec::new();
    for j in jobs {
        let Some(from) = j.granted_ms else { continue };
        for &(t, slot) in &j.slots {
            if t == tm {
                out.push(Occupancy {
                    slot,
                    job: j.name.clone(),
                    from_ms: from,
                    until_ms: j.ended_ms,
                });
            }
        }
    }
    out.sort_by(|a, b| {
        (a.slot, a.from_ms)
            .partial_cmp(&(b.slot, b.from_ms))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    out
}

fn ms(t: SimTime) -> f64 {
    t.as_millis_f64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::diag::SourceFile;
    use std::path::PathBuf;

    /// A folder with job `a` (parallelism 2, 20 s of input, checkpoints, restarts) and the
    /// same job as `b` and `c`; `label` keeps the tests' folders apart.
    fn jobs(label: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "streamlab-cluster-run-{label}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&d).unwrap();
        for name in ["a", "b", "c"] {
            std::fs::write(
                d.join(format!("{name}.toml")),
                format!(
                    "name = \"{name}\"\n[job]\nparallelism = 2\n[checkpointing]\ninterval = \"2 s\"\n[restart]\nstrategy = \"fixed-delay\"\nattempts = 3\ndelay = \"1 s\"\n[[source]]\nname = \"s\"\nkind = \"generator\"\nrate = 10\nduration = \"20 s\"\nfields.k = {{ kind = \"key\", count = 2 }}\n[[sink]]\nname = \"out\"\ninput = \"s\"\nguarantee = \"exactly_once\"\n"
                ),
            )
            .unwrap();
        }
        d
    }

    fn run_text(label: &str, text: &str) -> Result<ClusterReport, ClusterRunError> {
        let c = super::super::file::parse(SourceFile::new("c.toml", text), &jobs(label))
            .map_err(|e| ClusterRunError::Invalid(e.diagnostics.into_iter().next().unwrap()))?;
        run(&c, true)
    }

    const SMALL: &str = "[cluster]\ntask_managers = 1\nslots_per_task_manager = 2\n[deployment]\nmode = \"session\"\nslot_request_timeout = \"10 s\"\n";

    #[test]
    fn a_job_that_finds_no_free_slots_fails_after_the_timeout_with_flinks_message() {
        let r = run_text(
            "timeout",
            &format!("{SMALL}[[submit]]\nscenario = \"a.toml\"\n[[submit]]\nscenario = \"b.toml\"\nat = \"1 s\"\n"),
        )
        .unwrap();
        let (a, b) = (&r.jobs[0], &r.jobs[1]);
        assert_eq!(a.status, "finished");
        assert_eq!(a.slots, vec![(0, 0), (0, 1)]);
        assert!(
            a.ended_ms > b.requested_ms + 10_000.0,
            "a still runs when b gives up"
        );
        assert_eq!(b.granted_ms, None);
        assert_eq!(b.status, "failed");
        assert_eq!(b.ended_ms, b.requested_ms + 10_000.0);
        let m = b.message.as_deref().unwrap();
        assert!(
            m.contains("NoResourceAvailableException: Slot request bulk is not fulfillable!"),
            "{m}"
        );
        assert!(m.ends_with("Timeout has occurred: PT10S)"), "{m}");
    }

    #[test]
    fn a_waiting_job_gets_the_slots_when_the_job_before_it_ends() {
        let r = run_text(
            "wait",
            "[cluster]\ntask_managers = 1\nslots_per_task_manager = 2\n[deployment]\nmode = \"session\"\n[[submit]]\nscenario = \"a.toml\"\n[[submit]]\nscenario = \"b.toml\"\nat = \"1 s\"\n",
        )
        .unwrap();
        let (a, b) = (&r.jobs[0], &r.jobs[1]);
        assert_eq!(
            b.granted_ms,
            Some(a.ended_ms),
            "b's slots are a's, freed when a ended"
        );
        assert_eq!(b.status, "finished");
        // b's own run is as long as a's (the same job), just later
        let run = |j: &JobReport| j.ended_ms - j.running_ms.unwrap();
        assert_eq!(run(a), run(b));
    }

    const CRASH: &str = "[[submit]]\nscenario = \"a.toml\"\n[[submit]]\nscenario = \"b.toml\"\n[[fault]]\nkind = \"kill_task_manager\"\ntask_manager = 0\nat = \"8 s\"\n";

    #[test]
    fn a_crash_strikes_every_job_on_the_taskmanager_in_a_session_and_one_in_application_mode() {
        let shared = "[cluster]\ntask_managers = 1\nslots_per_task_manager = 4\n[deployment]\nmode = \"session\"\n";
        let r = run_text("session", &format!("{shared}{CRASH}")).unwrap();
        assert_eq!(r.faults[0].struck, vec!["a", "b"]);
        for j in &r.jobs {
            assert_eq!(j.struck_by.len(), 1, "{}", j.name);
            assert_eq!(j.restarts, 1, "{}", j.name);
            assert_eq!(j.status, "finished");
        }
        let own = "[cluster]\ntask_managers = 1\nslots_per_task_manager = 2\n[deployment]\nmode = \"application\"\n";
        let r = run_text("application", &format!("{own}{CRASH}")).unwrap();
        assert_eq!(r.faults[0].struck, vec!["a"]);
        assert_eq!(
            r.jobs[1].slots,
            vec![(1, 0), (1, 1)],
            "b has its own TaskManager"
        );
        assert_eq!(r.jobs[1].restarts, 0);
        assert_eq!(r.task_managers[1].cluster_of.as_deref(), Some("b"));
    }

    #[test]
    fn the_crash_is_at_the_jobs_own_time_and_the_run_is_deterministic() {
        let shared = "[cluster]\ntask_managers = 1\nslots_per_task_manager = 4\n[deployment]\nmode = \"session\"\n";
        let r = run_text("local", &format!("{shared}{CRASH}")).unwrap();
        let a = &r.jobs[0];
        let s = &a.struck_by[0];
        assert_eq!(s.job_time_ms, 8_000.0 - a.running_ms.unwrap());
        assert_eq!(r, run_text("local", &format!("{shared}{CRASH}")).unwrap());
    }

    #[test]
    fn a_job_bigger_than_its_own_cluster_is_refused_at_its_submission() {
        let e = run_text(
            "big",
            "[cluster]\ntask_managers = 1\nslots_per_task_manager = 1\n[deployment]\nmode = \"application\"\n[[submit]]\nscenario = \"a.toml\"\n",
        )
        .unwrap_err();
        let ClusterRunError::Invalid(d) = e else {
            panic!("{e}")
        };
        let text = d.render();
        assert!(
            text.contains("needs 2 slots but its application cluster has 1"),
            "{text}"
        );
        assert!(text.contains("c.toml:6:"), "{text}");
        // in a session it is allowed: the job waits and fails after the timeout
        let r = run_text(
            "big",
            "[cluster]\ntask_managers = 1\nslots_per_task_manager = 1\n[deployment]\nmode = \"session\"\nslot_request_timeout = \"1 s\"\n[[submit]]\nscenario = \"a.toml\"\n",
        )
        .unwrap();
        assert_eq!(r.jobs[0].granted_ms, None);
        assert!(
            r.jobs[0]
                .waited
                .as_deref()
                .unwrap()
                .contains("needs 2 slots of the cluster's 1")
        );
    }

    #[test]
    fn a_crash_of_a_taskmanager_no_job_has_in_application_mode_is_refused() {
        let e = run_text(
            "tm",
            "[cluster]\ntask_managers = 1\nslots_per_task_manager = 2\n[deployment]\nmode = \"application\"\n[[submit]]\nscenario = \"a.toml\"\n[[fault]]\nkind = \"kill_task_manager\"\ntask_manager = 1\nat = \"1 s\"\n",
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("no TaskManager 1"), "{text}");
    }
}
