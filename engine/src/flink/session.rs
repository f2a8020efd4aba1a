//! Several jobs on one session cluster (issue 17, item 3 — the rules only; no scenario or
//! command uses them yet): the jobs share the cluster's slots, a job whose slots are not free
//! waits, and fails once `slot.request.timeout` has passed; a TaskManager crash strikes every
//! job with a slot on it (the blast radius).
//!
//! Each job holds its slots from when it gets them until it ends (`runs_for` later); slots
//! are given in submission order (first come, first served, as the JobMasters' requests
//! reach the ResourceManager), each job taking the lowest free slots (TaskManager by
//! TaskManager, Flink's default without `cluster.evenly-spread-out-slots`). A job gets all
//! its slots at once or none (Flink's bulk slot allocation of the default scheduler).

use crate::core::time::{SimDuration, SimTime};

/// A job submitted to the session cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRequest {
    /// The job's name.
    pub name: String,
    /// Slots it needs.
    pub slots: u32,
    /// When it is submitted.
    pub submit: SimTime,
    /// How long it runs once it has its slots.
    pub runs_for: SimDuration,
}

/// What became of one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// It got its slots at `from` and ran until `until` on `slots` (TaskManager, slot).
    Running {
        /// When its slots were allocated.
        from: SimTime,
        /// When it ended and gave them back.
        until: SimTime,
        /// Its slots.
        slots: Vec<(u32, u32)>,
    },
    /// Its slots never came: it failed at `at` with Flink's message.
    Failed {
        /// When the slot request timed out.
        at: SimTime,
        /// Flink's `NoResourceAvailableException` text.
        message: String,
    },
}

/// Flink's message when a job's slot request times out (the default scheduler's bulk
/// checker).
pub fn no_resource_message(job: &str, needed: u32, timeout: SimDuration) -> String {
    format!(
        "job {job}: org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException: Slot request bulk is not fulfillable! Could not allocate the required slot within slot request timeout ({} ms; the job needs {needed} slots)",
        timeout.as_millis()
    )
}

/// Places `jobs` (in submission order) on `task_managers` × `slots_per_tm` slots.
pub fn schedule(
    task_managers: u32,
    slots_per_tm: u32,
    jobs: &[JobRequest],
    timeout: SimDuration,
) -> Vec<Placement> {
    let mut free: Vec<(u32, u32)> = (0..task_managers)
        .flat_map(|tm| (0..slots_per_tm).map(move |s| (tm, s)))
        .collect();
    // (when, slots) a running job gives back
    let mut releases: Vec<(SimTime, Vec<(u32, u32)>)> = Vec::new();
    let mut out = Vec::with_capacity(jobs.len());
    for job in jobs {
        let deadline = job.submit.plus(timeout);
        let mut now = job.submit;
        loop {
            // Everything that ended by now is free again.
            releases.sort_by_key(|r| r.0);
            while releases.first().is_some_and(|r| r.0 <= now) {
                free.extend(releases.remove(0).1);
            }
            free.sort_unstable();
            if free.len() >= job.slots as usize {
                let slots: Vec<(u32, u32)> = free.drain(..job.slots as usize).collect();
                let until = now.plus(job.runs_for);
                releases.push((until, slots.clone()));
                out.push(Placement::Running {
                    from: now,
                    until,
                    slots,
                });
                break;
            }
            match releases.first() {
                Some(r) if r.0 <= deadline => now = r.0,
                _ => {
                    out.push(Placement::Failed {
                        at: deadline,
                        message: no_resource_message(&job.name, job.slots, timeout),
                    });
                    break;
                }
            }
        }
    }
    out
}

/// The jobs (by index) a crash of TaskManager `tm` at `at` strikes: those running then with
/// a slot on it.
pub fn blast_radius(placements: &[Placement], tm: u32, at: SimTime) -> Vec<usize> {
    placements
        .iter()
        .enumerate()
        .filter(|(_, p)| match p {
            Placement::Running { from, until, slots } => {
                *from <= at && at < *until && slots.iter().any(|&(t, _)| t == tm)
            }
            Placement::Failed { .. } => false,
        })
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(name: &str, slots: u32, submit_s: u64, runs_s: u64) -> JobRequest {
        JobRequest {
            name: name.into(),
            slots,
            submit: SimTime::from_secs(submit_s),
            runs_for: SimDuration::from_secs(runs_s),
        }
    }

    const TIMEOUT: SimDuration = SimDuration::from_secs(300);

    #[test]
    fn two_jobs_that_fit_share_the_cluster_and_a_crash_strikes_both() {
        let p = schedule(2, 2, &[job("a", 2, 0, 60), job("b", 2, 1, 60)], TIMEOUT);
        assert!(matches!(&p[0], Placement::Running { slots, .. } if slots == &[(0, 0), (0, 1)]));
        assert!(matches!(&p[1], Placement::Running { slots, .. } if slots == &[(1, 0), (1, 1)]));
        assert_eq!(blast_radius(&p, 1, SimTime::from_secs(10)), vec![1]);
        let p = schedule(2, 2, &[job("a", 3, 0, 60), job("b", 1, 1, 60)], TIMEOUT);
        // a spans both TaskManagers, b sits on the second: losing it strikes both jobs
        assert_eq!(blast_radius(&p, 1, SimTime::from_secs(10)), vec![0, 1]);
    }

    #[test]
    fn a_job_without_free_slots_waits_for_them_then_fails_after_the_timeout() {
        // b waits until a ends at 60 s
        let p = schedule(1, 2, &[job("a", 2, 0, 60), job("b", 2, 5, 10)], TIMEOUT);
        assert!(matches!(p[1], Placement::Running { from, .. } if from == SimTime::from_secs(60)));
        // a runs for 10 min: b gives up 5 min after its submission
        let p = schedule(1, 2, &[job("a", 2, 0, 600), job("b", 1, 5, 10)], TIMEOUT);
        match &p[1] {
            Placement::Failed { at, message } => {
                assert_eq!(*at, SimTime::from_secs(305));
                assert!(
                    message.contains("NoResourceAvailableException"),
                    "{message}"
                );
                assert!(message.contains("300000 ms"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        // more slots than the cluster has: fails even on an empty cluster
        let p = schedule(1, 2, &[job("big", 3, 0, 10)], TIMEOUT);
        assert!(matches!(p[0], Placement::Failed { .. }));
    }
}
