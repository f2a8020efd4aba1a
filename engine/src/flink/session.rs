//! Several jobs on one cluster's slots (issue 17, item 3): the rules of slot allocation, the
//! slot request timeout and the blast radius of a TaskManager crash. `streamlab cluster`
//! (`crate::cluster`) uses them; each job's run is the ordinary simulation.
//!
//! - **Who gets slots first.** Requests are served first come, first served, in the order the
//!   JobMasters' requests reach the ResourceManager: a job that waits is served before any
//!   request that came after it (no overtaking; the caller passes each request's earliest time
//!   as the later of its arrival and the moment the request before it was served or gave up).
//! - **All or nothing.** A job gets all its slots at once (the default scheduler's bulk
//!   allocation): it never holds some slots while waiting for the rest.
//! - **Which slots.** The lowest free ones, TaskManager by TaskManager (Flink's default,
//!   `cluster.evenly-spread-out-slots = false`).
//! - **How long it waits.** Until `slot.request.timeout` (Flink's default 5 min) after its
//!   request; then it fails with Flink's [`no_resource_message`].
//! - **Free when.** A job holds its slots from when it gets them until it ends; a crashed
//!   TaskManager's slots are gone until its replacement registers ([`SlotPool::outage`]).
//! - **Blast radius.** A TaskManager crash strikes every job holding a slot on it at that
//!   moment ([`SlotPool::struck`]).

use crate::core::time::{SimDuration, SimTime};

/// A slot: (TaskManager, slot index on it).
pub type Slot = (u32, u32);

/// Who holds which slots, and which TaskManagers are down, over time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotPool {
    task_managers: u32,
    slots_per_tm: u32,
    /// `(job, slots, from, until)`: a job's slots from when it got them until it ended.
    holds: Vec<(usize, Vec<Slot>, SimTime, SimTime)>,
    /// `(TaskManager, from, until)`: crashed, until its replacement registered.
    outages: Vec<(u32, SimTime, SimTime)>,
}

/// A slot request that was not served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedOut {
    /// When the request gave up (its arrival plus `slot.request.timeout`).
    pub at: SimTime,
    /// Free slots at the best moment it saw (to say why).
    pub most_free: u32,
}

impl SlotPool {
    /// A cluster of `task_managers` × `slots_per_tm` slots, all free.
    pub fn new(task_managers: u32, slots_per_tm: u32) -> Self {
        SlotPool {
            task_managers,
            slots_per_tm,
            holds: Vec::new(),
            outages: Vec::new(),
        }
    }

    /// Every slot of the cluster.
    pub fn total(&self) -> u32 {
        self.task_managers * self.slots_per_tm
    }

    /// TaskManager `tm` crashed at `from`; its replacement registers at `until`.
    pub fn outage(&mut self, tm: u32, from: SimTime, until: SimTime) {
        self.outages.push((tm, from, until));
    }

    /// The free slots at `t`, lowest first.
    pub fn free_at(&self, t: SimTime) -> Vec<Slot> {
        let mut free = Vec::new();
        for tm in 0..self.task_managers {
            if self
                .outages
                .iter()
                .any(|&(o, from, until)| o == tm && from <= t && t < until)
            {
                continue;
            }
            for s in 0..self.slots_per_tm {
                let held = self.holds.iter().any(|(_, slots, from, until)| {
                    *from <= t && t < *until && slots.contains(&(tm, s))
                });
                if !held {
                    free.push((tm, s));
                }
            }
        }
        free
    }

    /// The earliest moment in `[from, deadline]` at which `need` slots are free, and those
    /// slots (the lowest); or, when there is none, that the request gave up at `deadline`
    /// (its arrival plus `slot.request.timeout`; `from` may be later than the arrival when
    /// an earlier request was served first). Nothing is held yet: call [`Self::hold`] once
    /// the job's end is known.
    pub fn request(
        &self,
        need: u32,
        from: SimTime,
        deadline: SimTime,
    ) -> Result<(SimTime, Vec<Slot>), TimedOut> {
        if from > deadline {
            return Err(TimedOut {
                at: deadline,
                most_free: 0,
            });
        }
        // Free slots only change when a hold or an outage ends (or begins, which only takes
        // slots away): those ends are the moments worth looking at.
        let mut moments: Vec<SimTime> = vec![from];
        moments.extend(
            self.holds
                .iter()
                .map(|h| h.3)
                .chain(self.outages.iter().map(|o| o.2))
                .filter(|&t| from < t && t <= deadline),
        );
        moments.sort_unstable();
        moments.dedup();
        let mut most_free = 0;
        for t in moments {
            let free = self.free_at(t);
            most_free = most_free.max(free.len() as u32);
            if free.len() >= need as usize {
                return Ok((t, free[..need as usize].to_vec()));
            }
        }
        Err(TimedOut {
            at: deadline,
            most_free,
        })
    }

    /// Job `job` holds `slots` from `from` until `until`.
    pub fn hold(&mut self, job: usize, slots: Vec<Slot>, from: SimTime, until: SimTime) {
        self.holds.push((job, slots, from, until));
    }

    /// The jobs (sorted, each once) a crash of TaskManager `tm` at `at` strikes: those holding
    /// a slot on it then.
    pub fn struck(&self, tm: u32, at: SimTime) -> Vec<usize> {
        let mut jobs: Vec<usize> = self
            .holds
            .iter()
            .filter(|(_, slots, from, until)| {
                *from <= at && at < *until && slots.iter().any(|&(t, _)| t == tm)
            })
            .map(|h| h.0)
            .collect();
        jobs.sort_unstable();
        jobs.dedup();
        jobs
    }
}

/// Flink's exception when a job's slot request bulk is not fulfilled within
/// `slot.request.timeout` (`PhysicalSlotRequestBulkCheckerImpl`, Flink 2.x): the exception
/// and its cause, as the job's failure shows them.
pub fn no_resource_message(timeout: SimDuration) -> String {
    format!(
        "org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException: Slot request bulk is not fulfillable! Could not allocate the required slot within slot request timeout (caused by java.util.concurrent.TimeoutException: Timeout has occurred: {})",
        java_duration(timeout)
    )
}

/// A duration as Java's `Duration.toString()` prints it (ISO-8601: `PT5M`, `PT20S`,
/// `PT1M30.5S`), which Flink's timeout message uses.
pub fn java_duration(d: SimDuration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "PT0S".into();
    }
    let secs = nanos / 1_000_000_000;
    let frac = nanos % 1_000_000_000;
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::from("PT");
    if h > 0 {
        out.push_str(&format!("{h}H"));
    }
    if m > 0 {
        out.push_str(&format!("{m}M"));
    }
    if s > 0 || frac > 0 {
        out.push_str(&s.to_string());
        if frac > 0 {
            let f = format!("{frac:09}");
            out.push('.');
            out.push_str(f.trim_end_matches('0'));
        }
        out.push('S');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: SimDuration = SimDuration::from_secs(300);

    fn secs(s: u64) -> SimTime {
        SimTime::from_secs(s)
    }

    #[test]
    fn slots_are_the_lowest_free_ones_taskmanager_by_taskmanager() {
        let mut pool = SlotPool::new(2, 2);
        let (at, a) = pool.request(3, secs(0), secs(300)).unwrap();
        assert_eq!((at, a.clone()), (secs(0), vec![(0, 0), (0, 1), (1, 0)]));
        pool.hold(0, a, secs(0), secs(60));
        let (_, b) = pool.request(1, secs(1), secs(301)).unwrap();
        assert_eq!(b, vec![(1, 1)]);
        pool.hold(1, b, secs(1), secs(60));
        // a spans both TaskManagers, b sits on the second: losing it strikes both jobs
        assert_eq!(pool.struck(1, secs(10)), vec![0, 1]);
        assert_eq!(pool.struck(0, secs(10)), vec![0]);
        // after both ended nothing is struck
        assert!(pool.struck(1, secs(60)).is_empty());
    }

    #[test]
    fn a_job_without_free_slots_waits_for_them() {
        let mut pool = SlotPool::new(1, 2);
        pool.hold(0, vec![(0, 0), (0, 1)], secs(0), secs(60));
        // b waits until a ends at 60 s, all or nothing
        let (at, slots) = pool.request(2, secs(5), secs(305)).unwrap();
        assert_eq!(at, secs(60));
        assert_eq!(slots, vec![(0, 0), (0, 1)]);
    }

    #[test]
    fn a_job_fails_after_the_slot_request_timeout() {
        let mut pool = SlotPool::new(1, 2);
        pool.hold(0, vec![(0, 0), (0, 1)], secs(0), secs(600));
        // a runs for 10 min: b gives up 5 min after its request
        let e = pool.request(1, secs(5), secs(305)).unwrap_err();
        assert_eq!(e.at, secs(305));
        assert_eq!(e.most_free, 0);
        // a slot freed exactly at the deadline still counts
        let e = pool.request(1, secs(5), secs(600));
        assert_eq!(e.unwrap().0, secs(600));
        // more slots than the cluster has: fails even on an empty cluster
        let e = SlotPool::new(1, 2)
            .request(3, secs(0), secs(300))
            .unwrap_err();
        assert_eq!((e.at, e.most_free), (secs(300), 2));
        // an earlier request held the queue past this one's deadline
        let e = SlotPool::new(1, 2).request(1, secs(400), secs(300));
        assert_eq!(e.unwrap_err().at, secs(300));
    }

    #[test]
    fn a_crashed_taskmanagers_slots_are_gone_until_its_replacement() {
        let mut pool = SlotPool::new(2, 1);
        pool.outage(0, secs(10), secs(20));
        assert_eq!(pool.free_at(secs(15)), vec![(1, 0)]);
        let (at, _) = pool.request(2, secs(12), secs(312)).unwrap();
        assert_eq!(at, secs(20));
    }

    #[test]
    fn later_holds_do_not_leak_into_earlier_moments() {
        // a hold that starts at 60 s does not make the slot busy at 5 s
        let mut pool = SlotPool::new(1, 1);
        pool.hold(0, vec![(0, 0)], secs(60), secs(90));
        assert_eq!(pool.free_at(secs(5)), vec![(0, 0)]);
        assert!(pool.free_at(secs(60)).is_empty());
    }

    #[test]
    fn the_message_is_flinks_with_the_timeout_as_java_prints_it() {
        let m = no_resource_message(TIMEOUT);
        assert!(m.starts_with(
            "org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException: Slot request bulk is not fulfillable! Could not allocate the required slot within slot request timeout"
        ));
        assert!(m.ends_with("Timeout has occurred: PT5M)"), "{m}");
        assert_eq!(java_duration(SimDuration::from_secs(20)), "PT20S");
        assert_eq!(java_duration(SimDuration::from_millis(90_500)), "PT1M30.5S");
        assert_eq!(java_duration(SimDuration::from_secs(3600)), "PT1H");
        assert_eq!(java_duration(SimDuration::ZERO), "PT0S");
    }
}
