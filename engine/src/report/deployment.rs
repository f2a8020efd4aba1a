//! The deployment part of a run report (`[deployment]`): the mode, the platform, HA, what
//! follows from them, and the start-up timeline from `flink run` to the job's first record.
//!
//! The timeline has its own clock: it ends where the job's simulated time begins (0 in the
//! rest of the report), so the job's figures are the same with and without `[deployment]`.

use crate::flink::deployment::HighAvailability;
use crate::flink::startup::{self, DeploymentSpec, Role};
use crate::plan::deploy::Deployment;
use serde::{Deserialize, Serialize};

/// One start-up step, on its role's lane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartupStep {
    /// Who: `Client`, `Platform`, `Dispatcher`, `ResourceManager`, `JobMaster`,
    /// `TaskManager N`.
    pub role: String,
    /// What happens.
    pub what: String,
    /// When it begins, in ms after `flink run`.
    pub start_ms: f64,
    /// When it ends.
    pub end_ms: f64,
}

/// How the job got onto the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentReport {
    /// `session`, `per-job` or `application`.
    pub mode: String,
    /// `standalone`, `yarn`, `kubernetes (native)`, `kubernetes (standalone)`.
    pub platform: String,
    /// `none`, `zookeeper` or `kubernetes`.
    pub high_availability: String,
    /// Where `main` ran: `client` or `jobmanager`.
    pub main_runs_on: String,
    /// Whether the cluster was started for this job and ends with it.
    pub cluster_per_job: bool,
    /// Whether the TaskManagers were started on demand for the job's slots.
    pub task_managers_on_demand: bool,
    /// The steps from `flink run` to the first record, in the order they begin.
    pub startup: Vec<StartupStep>,
    /// When the job's first record could be read, in ms after `flink run` (the job's time 0).
    pub first_record_ms: f64,
}

impl DeploymentReport {
    /// The three criteria that tell the deployment modes apart, in words: where `main` runs,
    /// how long the cluster lives, how TaskManagers come (for the summary and the run page).
    pub fn criteria(&self) -> [&'static str; 3] {
        [
            if self.main_runs_on == "client" {
                "client"
            } else {
                "JobManager"
            },
            if self.cluster_per_job {
                "the cluster is started for this job and ends with it"
            } else {
                "the session cluster outlives the job and is shared with other jobs"
            },
            if self.task_managers_on_demand {
                "started on demand for the job's slots"
            } else {
                "a fixed set, not started on demand"
            },
        ]
    }

    /// The report of `spec` for the job placed as `placed`.
    pub fn new(spec: &DeploymentSpec, placed: &Deployment) -> Self {
        let mut per_tm: Vec<(u32, u32)> = Vec::new();
        let mut tasks = 0;
        for s in &placed.slots {
            tasks += s.subtasks.len() as u32;
            match per_tm.iter_mut().find(|(tm, _)| *tm == s.task_manager) {
                Some(e) => e.1 += 1,
                None => per_tm.push((s.task_manager, 1)),
            }
        }
        per_tm.sort_unstable();
        let steps = startup::timeline(spec, &per_tm, tasks);
        let ms = |d: crate::core::time::SimDuration| d.as_millis_f64();
        DeploymentReport {
            mode: spec.mode.name().into(),
            platform: spec.platform.name().into(),
            high_availability: spec.ha.name().into(),
            main_runs_on: if spec.mode.main_on_jobmanager() {
                "jobmanager"
            } else {
                "client"
            }
            .into(),
            cluster_per_job: spec.mode.cluster_per_job(),
            task_managers_on_demand: spec.platform.task_managers_on_demand(),
            first_record_ms: steps.iter().map(|s| ms(s.end)).fold(0.0, f64::max),
            startup: steps
                .into_iter()
                .map(|s| StartupStep {
                    role: s.role.name(),
                    what: s.what,
                    start_ms: ms(s.start),
                    end_ms: ms(s.end),
                })
                .collect(),
        }
    }

    /// The lanes in the order a diagram draws them (roles in Flink's order, TaskManagers by
    /// index), each once.
    pub fn lanes(&self) -> Vec<String> {
        let mut roles: Vec<Role> = Vec::new();
        for s in &self.startup {
            let r = role_of(&s.role);
            if !roles.contains(&r) {
                roles.push(r);
            }
        }
        roles.sort();
        roles.into_iter().map(Role::name).collect()
    }

    /// Whether a JobManager failure is survived by a new leader.
    pub fn has_ha(&self) -> bool {
        self.high_availability != HighAvailability::None.name()
    }
}

/// The role a lane name stands for.
fn role_of(name: &str) -> Role {
    match name {
        "Client" => Role::Client,
        "Platform" => Role::Platform,
        "Dispatcher" => Role::Dispatcher,
        "ResourceManager" => Role::ResourceManager,
        "JobMaster" => Role::JobMaster,
        other => Role::TaskManager(
            other
                .strip_prefix("TaskManager ")
                .and_then(|n| n.parse().ok())
                .unwrap_or(u32::MAX),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_follow_flinks_roles_then_task_managers_by_index() {
        let step = |role: &str| StartupStep {
            role: role.into(),
            what: String::new(),
            start_ms: 0.0,
            end_ms: 0.0,
        };
        let r = DeploymentReport {
            mode: "session".into(),
            platform: "yarn".into(),
            high_availability: "none".into(),
            main_runs_on: "client".into(),
            cluster_per_job: false,
            task_managers_on_demand: true,
            startup: ["TaskManager 10", "JobMaster", "TaskManager 2", "Client"]
                .into_iter()
                .map(step)
                .collect(),
            first_record_ms: 0.0,
        };
        assert_eq!(
            r.lanes(),
            ["Client", "JobMaster", "TaskManager 2", "TaskManager 10"]
        );
        assert!(!r.has_ha());
    }
}
