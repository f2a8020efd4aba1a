//! What became of the jobs of a cluster file: per job when it was submitted, when it got its
//! slots and which, when it ran, what struck it and how it ended; per TaskManager crash the
//! jobs it struck (the blast radius); per TaskManager who held which slot when. All times
//! are on the cluster's clock, in ms from its start. [`ClusterReport::summary`] is the text
//! `streamlab cluster` prints; the struct is its `--json`.

use crate::flink::session::Slot;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// The report of `streamlab cluster`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterReport {
    /// The cluster file's name.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// `session`, `per-job` or `application`.
    pub mode: String,
    /// The resource provider.
    pub platform: String,
    /// `[cluster] task_managers`: the session cluster's, or the most one job's cluster has.
    pub task_managers_per_cluster: u32,
    /// `[cluster] slots_per_task_manager`.
    pub slots_per_task_manager: u32,
    /// `slot.request.timeout`.
    pub slot_request_timeout_ms: f64,
    /// The jobs, in the order the file submits them.
    pub jobs: Vec<JobReport>,
    /// The TaskManager crashes, as written.
    pub faults: Vec<FaultReport>,
    /// Every TaskManager, by index.
    pub task_managers: Vec<TaskManagerReport>,
}

/// One job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobReport {
    /// The job's name (its scenario's).
    pub name: String,
    /// Its scenario file.
    pub scenario: String,
    /// When the client submitted it.
    pub submitted_ms: f64,
    /// Slots it needs (Flink's slot sharing: the sum over its slot-sharing groups).
    pub slots_needed: u32,
    /// When its JobMaster's slot request reached the ResourceManager.
    pub requested_ms: f64,
    /// When it got its slots (`None`: never — it failed with Flink's message).
    pub granted_ms: Option<f64>,
    /// When its first record could be read (slots offered, tasks deployed).
    pub running_ms: Option<f64>,
    /// When it ended (finished, failed, or gave up waiting) and freed its slots.
    pub ended_ms: f64,
    /// Its slots: (TaskManager, slot).
    pub slots: Vec<Slot>,
    /// `finished`, `failed` or `stopped at a limit`.
    pub status: String,
    /// Why it failed, in Flink's words when Flink has them.
    pub message: Option<String>,
    /// Why it got no slots.
    pub waited: Option<String>,
    /// The TaskManager crashes that struck it.
    pub struck_by: Vec<Strike>,
    /// Restarts (failures it recovered from).
    pub restarts: u32,
    /// Records its sinks made visible.
    pub sink_records: u64,
    /// Compared with its fault-free run: records visible more often.
    pub duplicates: u64,
    /// Compared with its fault-free run: records never visible.
    pub missing: u64,
}

/// A crash that struck a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Strike {
    /// The TaskManager.
    pub task_manager: u32,
    /// When, on the cluster's clock.
    pub at_ms: f64,
    /// When, on the job's own clock (from its first record).
    pub job_time_ms: f64,
}

/// One TaskManager crash of the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultReport {
    /// The TaskManager.
    pub task_manager: u32,
    /// When.
    pub at_ms: f64,
    /// When its replacement registered.
    pub replaced_ms: f64,
    /// The jobs holding a slot on it then (the blast radius).
    pub struck: Vec<String>,
}

/// One TaskManager.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskManagerReport {
    /// Its index.
    pub task_manager: u32,
    /// In per-job and application mode: the job whose cluster it belongs to.
    pub cluster_of: Option<String>,
    /// Who held its slots when, by slot.
    pub occupancy: Vec<Occupancy>,
}

/// A job holding a slot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Occupancy {
    /// The slot on the TaskManager.
    pub slot: u32,
    /// The job.
    pub job: String,
    /// From when.
    pub from_ms: f64,
    /// Until when.
    pub until_ms: f64,
}

/// Columns of the slot timeline, at most.
const COLUMNS: u64 = 60;

/// The time one column of the slot timeline stands for: the first of these that fits.
const STEPS_MS: [f64; 12] = [
    100.0, 200.0, 500.0, 1_000.0, 2_000.0, 5_000.0, 10_000.0, 15_000.0, 30_000.0, 60_000.0,
    120_000.0, 300_000.0,
];

fn secs(ms: f64) -> String {
    format!("{:.3} s", ms / 1000.0)
}

fn list(slots: &[Slot]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut tms: Vec<u32> = slots.iter().map(|s| s.0).collect();
    tms.dedup();
    for tm in tms {
        let s: Vec<String> = slots
            .iter()
            .filter(|x| x.0 == tm)
            .map(|x| x.1.to_string())
            .collect();
        out.push(format!(
            "TaskManager {tm} slot{} {}",
            if s.len() == 1 { "" } else { "s" },
            s.join(", ")
        ));
    }
    out.join("; ")
}

impl ClusterReport {
    /// The letter that stands for job `i` in the slot timeline.
    pub fn letter(i: usize) -> char {
        (b'A' + (i % 26) as u8) as char
    }

    /// When the last job ended (the end of the timeline).
    pub fn end_ms(&self) -> f64 {
        self.jobs.iter().map(|j| j.ended_ms).fold(0.0, f64::max)
    }

    /// The text `streamlab cluster` prints (`file`: the cluster file as given).
    pub fn summary(&self, file: &str) -> String {
        let mut o = String::new();
        let session = self.mode == "session";
        let _ = writeln!(
            o,
            "streamlab cluster · {file} · {} mode on {}",
            self.mode, self.platform
        );
        let tms = self.task_managers_per_cluster;
        let shape = format!(
            "{tms} TaskManager{} × {} slot{}",
            if tms == 1 { "" } else { "s" },
            self.slots_per_task_manager,
            if self.slots_per_task_manager == 1 {
                ""
            } else {
                "s"
            }
        );
        let _ = writeln!(
            o,
            "cluster     {} · slot.request.timeout {}",
            if session {
                format!("{shape}, shared by the jobs")
            } else {
                format!("each job its own TaskManagers (at most {shape})")
            },
            secs(self.slot_request_timeout_ms)
        );
        let _ = writeln!(o, "\nJobs");
        let width = self.jobs.iter().map(|j| j.name.len()).max().unwrap_or(0);
        for (i, j) in self.jobs.iter().enumerate() {
            let pad = " ".repeat(width + 6);
            let _ = writeln!(
                o,
                "  {} {:width$}  submitted at {}, requested {} slot{} at {}",
                Self::letter(i),
                j.name,
                secs(j.submitted_ms),
                j.slots_needed,
                if j.slots_needed == 1 { "" } else { "s" },
                secs(j.requested_ms),
            );
            match (j.granted_ms, j.running_ms) {
                (Some(g), Some(r)) => {
                    let waited = g - j.requested_ms;
                    let _ = writeln!(
                        o,
                        "{pad}got them at {}{}: {}",
                        secs(g),
                        if waited > 0.0 {
                            format!(" (waited {})", secs(waited))
                        } else {
                            String::new()
                        },
                        list(&j.slots)
                    );
                    for s in &j.struck_by {
                        let _ = writeln!(
                            o,
                            "{pad}struck at {} (its own time {}): TaskManager {} lost",
                            secs(s.at_ms),
                            secs(s.job_time_ms),
                            s.task_manager
                        );
                    }
                    let restarts = match j.restarts {
                        0 => String::new(),
                        1 => ", after 1 restart".into(),
                        n => format!(", after {n} restarts"),
                    };
                    let compared = if j.struck_by.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " · {} duplicate{}, {} missing",
                            j.duplicates,
                            if j.duplicates == 1 { "" } else { "s" },
                            j.missing
                        )
                    };
                    let _ = writeln!(
                        o,
                        "{pad}ran {} – {} · {}{restarts} · {} records into sinks{compared}",
                        secs(r),
                        secs(j.ended_ms),
                        j.status,
                        j.sink_records
                    );
                    if let Some(m) = &j.message {
                        let _ = writeln!(o, "{pad}{m}");
                    }
                }
                _ => {
                    if let Some(w) = &j.waited {
                        let _ = writeln!(o, "{pad}got no slots: {w}");
                    }
                    let _ = writeln!(
                        o,
                        "{pad}failed at {} ({} after its request):",
                        secs(j.ended_ms),
                        secs(j.ended_ms - j.requested_ms)
                    );
                    if let Some(m) = &j.message {
                        let _ = writeln!(o, "{pad}{m}");
                    }
                }
            }
        }
        if !self.faults.is_empty() {
            let _ = writeln!(o, "\nTaskManager crashes");
            for f in &self.faults {
                let struck = if f.struck.is_empty() {
                    "struck no job".to_string()
                } else {
                    format!(
                        "struck {} — blast radius {}",
                        f.struck
                            .iter()
                            .map(|s| format!("`{s}`"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        f.struck.len()
                    )
                };
                let _ = writeln!(
                    o,
                    "  at {} TaskManager {} lost (replaced at {}): {struck}",
                    secs(f.at_ms),
                    f.task_manager,
                    secs(f.replaced_ms)
                );
            }
        }
        o.push_str(&self.timeline());
        o
    }

    /// Slots × time as text: one row per slot, one column per step of time; a job's letter
    /// where it holds the slot, `x` where the TaskManager is down, `.` where it is free.
    pub fn timeline(&self) -> String {
        let mut o = String::new();
        let end = self.end_ms().max(1.0);
        // a round step per column, so that the scale reads easily
        let step = STEPS_MS
            .iter()
            .copied()
            .find(|&s| s * COLUMNS as f64 >= end)
            .unwrap_or_else(|| (end / COLUMNS as f64).ceil());
        let columns = (end / step).ceil() as u64;
        let _ = writeln!(
            o,
            "\nSlots over time (one column = {}; letters: the jobs above; x: TaskManager down; .: free; ~: waiting for slots; !: gave up)",
            secs(step)
        );
        let label = |tm: &TaskManagerReport, s: u32| format!("TM {} slot {s}", tm.task_manager);
        let lw = self
            .task_managers
            .iter()
            .map(|t| label(t, self.slots_per_task_manager.saturating_sub(1)).len())
            .max()
            .unwrap_or(0);
        let lw = lw.max("job X waits".len());
        let _ = writeln!(
            o,
            "  {:lw$}  0 s{:>w$}",
            "",
            secs(step * columns as f64),
            w = columns as usize - 3
        );
        for (i, j) in self.jobs.iter().enumerate() {
            let until = j.granted_ms.unwrap_or(j.ended_ms);
            if until <= j.requested_ms {
                continue;
            }
            let mut row = String::new();
            for c in 0..columns {
                let (from, to) = (c as f64 * step, (c + 1) as f64 * step);
                row.push(
                    if j.granted_ms.is_none() && from <= j.ended_ms && j.ended_ms < to {
                        '!'
                    } else if j.requested_ms < to && from < until {
                        '~'
                    } else {
                        '.'
                    },
                );
            }
            let label = format!("job {} waits", Self::letter(i));
            let _ = writeln!(o, "  {label:lw$}  {}", row.trim_end_matches('.'));
        }
        for tm in &self.task_managers {
            for s in 0..self.slots_per_task_manager {
                let mut row = String::new();
                for c in 0..columns {
                    let mid = (c as f64 + 0.5) * step;
                    let down = self.faults.iter().any(|f| {
                        f.task_manager == tm.task_manager && f.at_ms <= mid && mid < f.replaced_ms
                    });
                    let holder = tm
                        .occupancy
                        .iter()
                        .find(|h| h.slot == s && h.from_ms <= mid && mid < h.until_ms);
                    row.push(match holder {
                        _ if down => 'x',
                        Some(h) => self
                            .jobs
                            .iter()
                            .position(|j| j.name == h.job)
                            .map_or('?', Self::letter),
                        None => '.',
                    });
                }
                let owner = tm
                    .cluster_of
                    .as_ref()
                    .map(|j| format!("  (cluster of `{j}`)"))
                    .unwrap_or_default();
                let _ = writeln!(o, "  {:lw$}  {}{owner}", label(tm, s), row.trim_end());
            }
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(name: &str, granted: Option<f64>, ended: f64, slots: Vec<Slot>) -> JobReport {
        JobReport {
            name: name.into(),
            scenario: format!("jobs/{name}.toml"),
            submitted_ms: 0.0,
            slots_needed: slots.len().max(1) as u32,
            requested_ms: 0.0,
            granted_ms: granted,
            running_ms: granted,
            ended_ms: ended,
            slots,
            status: if granted.is_some() {
                "finished"
            } else {
                "failed"
            }
            .into(),
            message: None,
            waited: None,
            struck_by: Vec::new(),
            restarts: 0,
            sink_records: 0,
            duplicates: 0,
            missing: 0,
        }
    }

    #[test]
    fn the_timeline_shows_who_holds_each_slot_and_the_crash() {
        let r = ClusterReport {
            name: "t".into(),
            description: String::new(),
            mode: "session".into(),
            platform: "standalone".into(),
            task_managers_per_cluster: 1,
            slots_per_task_manager: 2,
            slot_request_timeout_ms: 1000.0,
            jobs: vec![
                job("a", Some(0.0), 30_000.0, vec![(0, 0)]),
                job("b", None, 60_000.0, vec![]),
            ],
            faults: vec![FaultReport {
                task_manager: 0,
                at_ms: 45_000.0,
                replaced_ms: 60_000.0,
                struck: vec![],
            }],
            task_managers: vec![TaskManagerReport {
                task_manager: 0,
                cluster_of: None,
                occupancy: vec![Occupancy {
                    slot: 0,
                    job: "a".into(),
                    from_ms: 0.0,
                    until_ms: 30_000.0,
                }],
            }],
        };
        let t = r.timeline();
        // 60 s in 60 columns: a holds slot 0 for 30 columns, the crash takes the last 15
        assert!(t.contains("one column = 1.000 s"), "{t}");
        let row0 = t.lines().find(|l| l.contains("TM 0 slot 0")).unwrap();
        assert!(
            row0.ends_with(&format!(
                "{}{}{}",
                "A".repeat(30),
                ".".repeat(15),
                "x".repeat(15)
            )),
            "{t}"
        );
        let row1 = t.lines().find(|l| l.contains("TM 0 slot 1")).unwrap();
        assert!(
            row1.ends_with(&format!("{}{}", ".".repeat(45), "x".repeat(15))),
            "{t}"
        );
        let s = r.summary("c.toml");
        assert!(s.contains("struck no job"), "{s}");
        assert!(
            s.contains("1 TaskManager × 2 slots, shared by the jobs"),
            "{s}"
        );
    }
}
