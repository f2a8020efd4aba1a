//! How a job gets onto a cluster — Flink's deployment modes, resource providers and high
//! availability, and which combinations exist.
//!
//! Three questions separate the deployment modes (Flink's "Deployment Modes" page): does
//! the cluster live as long as the job ([`Mode::cluster_per_job`]), are the job's resources
//! isolated from other jobs' (the same answer), and does `main` run on the client or on the
//! JobManager ([`Mode::main_on_jobmanager`]). The resource provider decides who starts the
//! processes: on standalone the TaskManagers are a fixed set started beforehand; native YARN
//! and native Kubernetes start them on demand, as many as the job's slots need
//! ([`Platform::task_managers_on_demand`]). The start-up steps are in
//! [`super::startup`].

use crate::core::defaults::deployment as d;
use crate::core::time::SimDuration;

/// `execution.target`'s three ways to run a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A long-running cluster that runs any job submitted to it; jobs share its
    /// TaskManagers.
    Session,
    /// A cluster started for one job, torn down after it; `main` runs on the client.
    /// Deprecated since Flink 1.15, only on YARN, removed in Flink 2.0 (streamlab keeps it
    /// to show what it was, with a warning).
    PerJob,
    /// A cluster started for one application whose `main` runs on the JobManager.
    Application,
}

/// Who starts the JobManager and the TaskManagers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Processes started by scripts (or by hand) on a fixed set of hosts.
    Standalone,
    /// Hadoop YARN: the JobManager is the ApplicationMaster; TaskManagers are containers it
    /// requests.
    Yarn,
    /// Native Kubernetes: Flink talks to the API server and creates TaskManager pods itself.
    NativeKubernetes,
    /// Standalone on Kubernetes: JobManager and TaskManager Deployments written by hand, a
    /// fixed number of TaskManager pods.
    StandaloneKubernetes,
}

/// `high-availability.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HighAvailability {
    /// `NONE` (Flink's default): the JobManager's state dies with it.
    None,
    /// `zookeeper`: leader election and the pointers to job graphs and checkpoints in
    /// ZooKeeper.
    ZooKeeper,
    /// `kubernetes`: leader election with a lease, pointers in ConfigMaps.
    Kubernetes,
}

impl Mode {
    /// The name in the scenario file and the report.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Session => "session",
            Mode::PerJob => "per-job",
            Mode::Application => "application",
        }
    }

    /// Whether the job's `main` runs on the JobManager (application mode) instead of on the
    /// client.
    pub fn main_on_jobmanager(self) -> bool {
        self == Mode::Application
    }

    /// Whether the cluster is started for this job and lives as long as it (per-job and
    /// application mode), so no other job shares its TaskManagers.
    pub fn cluster_per_job(self) -> bool {
        self != Mode::Session
    }
}

impl Platform {
    /// The name in the scenario file and the report.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Standalone => "standalone",
            Platform::Yarn => "yarn",
            Platform::NativeKubernetes => "kubernetes (native)",
            Platform::StandaloneKubernetes => "kubernetes (standalone)",
        }
    }

    /// Whether the ResourceManager starts TaskManagers when slots are requested (native
    /// YARN and Kubernetes) rather than using a fixed set started beforehand.
    pub fn task_managers_on_demand(self) -> bool {
        matches!(self, Platform::Yarn | Platform::NativeKubernetes)
    }

    /// What a JobManager or TaskManager runs in here.
    pub fn unit(self) -> &'static str {
        match self {
            Platform::Standalone => "process",
            Platform::Yarn => "container",
            Platform::NativeKubernetes | Platform::StandaloneKubernetes => "pod",
        }
    }

    /// Whether the platform starts a dead JobManager again by itself. Kubernetes does (its
    /// Deployment keeps one replica); YARN only with HA (`yarn.application-attempts` is 1
    /// without HA, 2 with); a standalone host does not (with HA a standby JobManager takes
    /// over instead).
    pub fn restarts_jobmanager(self, ha: HighAvailability) -> bool {
        match self {
            Platform::NativeKubernetes | Platform::StandaloneKubernetes => true,
            Platform::Yarn => ha != HighAvailability::None,
            Platform::Standalone => false,
        }
    }

    /// The default time to start a JobManager here.
    pub fn jobmanager_start(self) -> SimDuration {
        match self {
            Platform::Standalone => d::JOBMANAGER_START_STANDALONE,
            Platform::Yarn => d::JOBMANAGER_START_YARN,
            Platform::NativeKubernetes | Platform::StandaloneKubernetes => {
                d::JOBMANAGER_START_KUBERNETES
            }
        }
    }

    /// The default time to start a TaskManager here.
    pub fn task_manager_start(self) -> SimDuration {
        match self {
            Platform::Standalone => d::TASK_MANAGER_START_STANDALONE,
            Platform::Yarn => d::TASK_MANAGER_START_YARN,
            Platform::NativeKubernetes | Platform::StandaloneKubernetes => {
                d::TASK_MANAGER_START_KUBERNETES
            }
        }
    }
}

impl HighAvailability {
    /// The name in the scenario file and the report.
    pub fn name(self) -> &'static str {
        match self {
            HighAvailability::None => "none",
            HighAvailability::ZooKeeper => "zookeeper",
            HighAvailability::Kubernetes => "kubernetes",
        }
    }

    /// How long after the leader dies a new one is elected (its ZooKeeper session or its
    /// Kubernetes lease runs out); `None` without HA.
    pub fn default_timeout(self) -> Option<SimDuration> {
        match self {
            HighAvailability::None => None,
            HighAvailability::ZooKeeper => Some(d::ZOOKEEPER_SESSION_TIMEOUT),
            HighAvailability::Kubernetes => Some(d::KUBERNETES_LEASE_DURATION),
        }
    }
}

/// Why Flink has no such deployment, or `None` when it exists.
pub fn unsupported(mode: Mode, platform: Platform, ha: HighAvailability) -> Option<&'static str> {
    match (mode, platform) {
        (Mode::PerJob, Platform::Standalone | Platform::StandaloneKubernetes) => {
            return Some(
                "a standalone cluster has a fixed set of TaskManagers and nobody to start a cluster per job: it runs session or application mode",
            );
        }
        (Mode::PerJob, Platform::NativeKubernetes) => {
            return Some(
                "per-job mode does not exist on Kubernetes (it is deprecated since Flink 1.15 and only YARN has it): use application mode",
            );
        }
        _ => {}
    }
    if ha == HighAvailability::Kubernetes
        && matches!(platform, Platform::Standalone | Platform::Yarn)
    {
        return Some(
            "Kubernetes HA services keep the leader and the job's pointers in ConfigMaps of a Kubernetes cluster: on standalone hosts or YARN use high_availability = \"zookeeper\"",
        );
    }
    None
}

/// What a JobManager failure does to the jobs it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobManagerLoss {
    /// A new leader is elected and recovers every job from the latest checkpoint in the
    /// checkpoint store; the job keeps its id.
    Recovered,
    /// The platform starts the JobManager again, which runs `main` again: a new job from
    /// scratch (a new job id, no checkpoint to restore).
    RerunFromMain,
    /// The jobs are lost (status FAILED); they must be submitted again by hand.
    Lost,
}

/// Flink's rule for a JobManager failure: with HA every mode recovers; without, only an
/// application whose JobManager the platform restarts runs again — from `main`.
pub fn jobmanager_loss(mode: Mode, platform: Platform, ha: HighAvailability) -> JobManagerLoss {
    if ha != HighAvailability::None {
        JobManagerLoss::Recovered
    } else if mode == Mode::Application && platform.restarts_jobmanager(ha) {
        JobManagerLoss::RerunFromMain
    } else {
        JobManagerLoss::Lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use HighAvailability as H;
    use Mode as M;
    use Platform as P;

    #[test]
    fn per_job_exists_only_on_yarn_and_kubernetes_ha_only_on_kubernetes() {
        let platforms = [
            P::Standalone,
            P::Yarn,
            P::NativeKubernetes,
            P::StandaloneKubernetes,
        ];
        for p in platforms {
            assert_eq!(unsupported(M::PerJob, p, H::None).is_none(), p == P::Yarn);
            assert!(unsupported(M::Session, p, H::ZooKeeper).is_none());
            assert!(unsupported(M::Application, p, H::None).is_none());
            let k8s = matches!(p, P::NativeKubernetes | P::StandaloneKubernetes);
            assert_eq!(unsupported(M::Session, p, H::Kubernetes).is_none(), k8s);
        }
        let why = unsupported(M::PerJob, P::NativeKubernetes, H::None).unwrap();
        assert!(why.contains("does not exist on Kubernetes"), "{why}");
    }

    #[test]
    fn only_native_providers_start_task_managers_on_demand() {
        assert!(P::Yarn.task_managers_on_demand());
        assert!(P::NativeKubernetes.task_managers_on_demand());
        assert!(!P::Standalone.task_managers_on_demand());
        assert!(!P::StandaloneKubernetes.task_managers_on_demand());
    }

    #[test]
    fn a_jobmanager_failure_recovers_with_ha_and_reruns_only_an_application() {
        for m in [M::Session, M::PerJob, M::Application] {
            assert_eq!(
                jobmanager_loss(m, P::Yarn, H::ZooKeeper),
                JobManagerLoss::Recovered
            );
        }
        assert_eq!(
            jobmanager_loss(M::Session, P::NativeKubernetes, H::None),
            JobManagerLoss::Lost
        );
        assert_eq!(
            jobmanager_loss(M::Application, P::NativeKubernetes, H::None),
            JobManagerLoss::RerunFromMain
        );
        // YARN makes one application attempt without HA; nobody restarts a standalone JVM.
        assert_eq!(
            jobmanager_loss(M::Application, P::Yarn, H::None),
            JobManagerLoss::Lost
        );
        assert_eq!(
            jobmanager_loss(M::Application, P::Standalone, H::None),
            JobManagerLoss::Lost
        );
        assert_eq!(
            H::ZooKeeper.default_timeout(),
            Some(SimDuration::from_secs(60))
        );
        assert_eq!(H::None.default_timeout(), None);
    }

    #[test]
    fn main_runs_on_the_jobmanager_only_in_application_mode() {
        assert!(M::Application.main_on_jobmanager());
        assert!(!M::PerJob.main_on_jobmanager() && !M::Session.main_on_jobmanager());
        assert!(!M::Session.cluster_per_job() && M::PerJob.cluster_per_job());
    }
}
