//! The start-up timeline: every step between `flink run` and the job's first record, on
//! its role's lane (Client, the platform, Dispatcher, ResourceManager, JobMaster, each
//! TaskManager), each with a cost from [`StartupCosts`].
//!
//! The steps, in Flink's order:
//! 1. `main` runs and builds the JobGraph — on the client (session, per-job) or, after the
//!    cluster started, on the JobManager (application mode);
//! 2. the client uploads the jars and the JobGraph (not in application mode);
//! 3. the cluster starts: the JobManager process, container or pod, then the Dispatcher and
//!    the ResourceManager in it (nothing for a session cluster, which is already running);
//! 4. the Dispatcher creates the JobMaster, which builds the ExecutionGraph;
//! 5. the JobMaster requests slots from the ResourceManager;
//! 6. TaskManagers: native YARN/Kubernetes start them now, as many as the slots need, and
//!    they register; standalone ones were started with the cluster (already registered in
//!    a session);
//! 7. each TaskManager offers its slots to the JobMaster;
//! 8. the JobMaster deploys the tasks: the first record follows.

use super::deployment::{HighAvailability, JobManagerLoss, Mode, Platform};
use crate::core::defaults::deployment as d;
use crate::core::time::SimDuration;

/// The cost of each start-up step (defaults: `core::defaults::deployment`, per platform).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartupCosts {
    /// `main` runs and builds the JobGraph.
    pub client_main: SimDuration,
    /// Jars and JobGraph uploaded by the client.
    pub upload: SimDuration,
    /// A JobManager process, container or pod starts.
    pub jobmanager_start: SimDuration,
    /// Dispatcher and ResourceManager start in it.
    pub cluster_services: SimDuration,
    /// JobMaster created, ExecutionGraph built.
    pub job_master: SimDuration,
    /// Slot requests reach the ResourceManager.
    pub slot_request: SimDuration,
    /// A TaskManager process, container or pod starts.
    pub task_manager_start: SimDuration,
    /// A TaskManager registers with the ResourceManager.
    pub task_manager_registration: SimDuration,
    /// A TaskManager offers its slots to the JobMaster.
    pub slot_offer: SimDuration,
    /// The JobMaster deploys the tasks.
    pub task_deployment: SimDuration,
    /// Until a new leader is elected after the JobManager died (HA only).
    pub ha_timeout: SimDuration,
}

impl StartupCosts {
    /// The defaults on `platform` with `ha`.
    pub fn defaults(platform: Platform, ha: HighAvailability) -> Self {
        StartupCosts {
            client_main: d::CLIENT_MAIN,
            upload: d::UPLOAD,
            jobmanager_start: platform.jobmanager_start(),
            cluster_services: d::CLUSTER_SERVICES,
            job_master: d::JOB_MASTER,
            slot_request: d::SLOT_REQUEST,
            task_manager_start: platform.task_manager_start(),
            task_manager_registration: d::TASK_MANAGER_REGISTRATION,
            slot_offer: d::SLOT_OFFER,
            task_deployment: d::TASK_DEPLOYMENT,
            ha_timeout: ha.default_timeout().unwrap_or(SimDuration::ZERO),
        }
    }
}

/// A job's deployment: `[deployment]` of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeploymentSpec {
    /// Session, per-job or application.
    pub mode: Mode,
    /// Standalone, YARN, Kubernetes native or standalone.
    pub platform: Platform,
    /// `high-availability.type`.
    pub ha: HighAvailability,
    /// The cost of each step.
    pub costs: StartupCosts,
    /// `slot.request.timeout`: how long the JobMaster waits for slots.
    pub slot_request_timeout: SimDuration,
}

/// Who does a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// The `flink` command line (or the REST client).
    Client,
    /// The resource provider: the standalone scripts, YARN, Kubernetes.
    Platform,
    /// The JobManager's Dispatcher (accepts jobs; in application mode runs `main`).
    Dispatcher,
    /// The JobManager's ResourceManager (slots, TaskManagers).
    ResourceManager,
    /// The job's JobMaster (ExecutionGraph, scheduling, checkpoints).
    JobMaster,
    /// TaskManager `n`.
    TaskManager(u32),
}

impl Role {
    /// The lane's name.
    pub fn name(self) -> String {
        match self {
            Role::Client => "Client".into(),
            Role::Platform => "Platform".into(),
            Role::Dispatcher => "Dispatcher".into(),
            Role::ResourceManager => "ResourceManager".into(),
            Role::JobMaster => "JobMaster".into(),
            Role::TaskManager(n) => format!("TaskManager {n}"),
        }
    }
}

/// One step of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Who does it.
    pub role: Role,
    /// What happens.
    pub what: String,
    /// When it begins, from `flink run`.
    pub start: SimDuration,
    /// When it ends.
    pub end: SimDuration,
}

/// The TaskManagers a job's slots are on: `(TaskManager, slots used)` in index order.
pub type SlotsPerTaskManager = [(u32, u32)];

/// The steps from `flink run` to the first record, in the order they begin. `tms` are the
/// TaskManagers the job's slots are on; `tasks` how many tasks are deployed.
pub fn timeline(spec: &DeploymentSpec, tms: &SlotsPerTaskManager, tasks: u32) -> Vec<Step> {
    let mut t = Timeline::default();
    let c = &spec.costs;
    let unit = spec.platform.unit();
    let on_demand = spec.platform.task_managers_on_demand();
    if !spec.mode.main_on_jobmanager() {
        t.step(
            Role::Client,
            "runs `main`: StreamGraph → JobGraph",
            c.client_main,
        );
        let to = if spec.mode == Mode::Session {
            "to the Dispatcher (REST)"
        } else {
            "to the platform (YARN staging directory)"
        };
        t.step(
            Role::Client,
            &format!("uploads the jars and the JobGraph {to}"),
            c.upload,
        );
    }
    // Standalone TaskManagers of a per-job cluster start with its JobManager.
    let tms_with_cluster = !on_demand && spec.mode.cluster_per_job();
    if spec.mode == Mode::Session {
        t.mark(
            Role::Platform,
            "session cluster already running: no start-up",
        );
    } else {
        let from = t.now;
        t.step(
            Role::Platform,
            &format!("starts the JobManager {unit}"),
            c.jobmanager_start,
        );
        t.step(
            Role::Dispatcher,
            "Dispatcher and ResourceManager start",
            c.cluster_services,
        );
        if tms_with_cluster {
            t.task_managers_start(spec, tms, from, t.now);
        }
    }
    if spec.mode.main_on_jobmanager() {
        t.step(
            Role::Dispatcher,
            "runs `main` on the JobManager: StreamGraph → JobGraph (no upload)",
            c.client_main,
        );
    }
    t.step(
        Role::JobMaster,
        "created; builds the ExecutionGraph",
        c.job_master,
    );
    let slots: u32 = tms.iter().map(|&(_, s)| s).sum();
    t.step(
        Role::JobMaster,
        &format!("requests {slots} slots from the ResourceManager"),
        c.slot_request,
    );
    let requested = t.now;
    if on_demand {
        t.mark(
            Role::ResourceManager,
            &format!(
                "asks {} for {} TaskManager {unit}{}",
                platform_name(spec.platform),
                tms.len(),
                if tms.len() == 1 { "" } else { "s" }
            ),
        );
        t.task_managers_start(spec, tms, requested, requested);
    } else if !tms_with_cluster {
        for &(tm, _) in tms {
            t.mark_at(
                Role::TaskManager(tm),
                "pre-started: registered with the ResourceManager",
                SimDuration::ZERO,
            );
        }
        t.ready = tms.iter().map(|_| requested).collect();
    }
    let mut offered = requested;
    for (i, &(tm, n)) in tms.iter().enumerate() {
        let from = t.ready.get(i).copied().unwrap_or(requested).max(requested);
        t.push(
            Role::TaskManager(tm),
            format!("offers {n} slots to the JobMaster"),
            from,
            from.plus(c.slot_offer),
        );
        offered = offered.max(from.plus(c.slot_offer));
    }
    t.now = offered;
    t.step(
        Role::JobMaster,
        &format!("deploys {tasks} tasks"),
        c.task_deployment,
    );
    t.steps.sort_by_key(|s| s.start);
    t.steps
}

/// The resource provider's name in a sentence.
fn platform_name(p: Platform) -> &'static str {
    match p {
        Platform::Yarn => "YARN",
        Platform::NativeKubernetes | Platform::StandaloneKubernetes => "Kubernetes",
        Platform::Standalone => "the hosts",
    }
}

/// The steps so far and the time the next sequential step begins.
#[derive(Default)]
struct Timeline {
    steps: Vec<Step>,
    now: SimDuration,
    /// When each TaskManager (in the order of `tms`) is registered.
    ready: Vec<SimDuration>,
}

impl Timeline {
    fn push(&mut self, role: Role, what: String, start: SimDuration, end: SimDuration) {
        self.steps.push(Step {
            role,
            what,
            start,
            end,
        });
    }

    /// A step after the previous one.
    fn step(&mut self, role: Role, what: &str, cost: SimDuration) {
        let end = self.now.plus(cost);
        self.push(role, what.into(), self.now, end);
        self.now = end;
    }

    /// A moment without duration, now.
    fn mark(&mut self, role: Role, what: &str) {
        self.mark_at(role, what, self.now);
    }

    fn mark_at(&mut self, role: Role, what: &str, at: SimDuration) {
        self.push(role, what.into(), at, at);
    }

    /// Every TaskManager starts at `from` (in parallel) and registers once it and the
    /// ResourceManager (up at `rm_up`) are there.
    fn task_managers_start(
        &mut self,
        spec: &DeploymentSpec,
        tms: &SlotsPerTaskManager,
        from: SimDuration,
        rm_up: SimDuration,
    ) {
        let c = &spec.costs;
        let unit = spec.platform.unit();
        self.ready.clear();
        for &(tm, _) in tms {
            let up = from.plus(c.task_manager_start);
            self.push(Role::TaskManager(tm), format!("{unit} starts"), from, up);
            let reg = up.max(rm_up);
            let done = reg.plus(c.task_manager_registration);
            self.push(
                Role::TaskManager(tm),
                "registers with the ResourceManager".into(),
                reg,
                done,
            );
            self.ready.push(done);
        }
    }
}

/// How a JobManager failure ends for the job, and after how long the job runs again (the
/// new leader's steps); `None` when the job is lost.
pub fn jobmanager_recovery(spec: &DeploymentSpec) -> (JobManagerLoss, Option<SimDuration>) {
    let c = &spec.costs;
    let loss = super::deployment::jobmanager_loss(spec.mode, spec.platform, spec.ha);
    let restarted = spec.platform.restarts_jobmanager(spec.ha);
    // The new JobManager: restarted by the platform, or a standby already running.
    let jobmanager = if restarted {
        c.jobmanager_start.plus(c.cluster_services)
    } else {
        SimDuration::ZERO
    };
    let main = if spec.mode.main_on_jobmanager() {
        c.client_main
    } else {
        SimDuration::ZERO
    };
    // The TaskManagers are still there: they register with the new leader and offer slots.
    let job = c
        .job_master
        .plus(c.slot_request)
        .plus(c.task_manager_registration)
        .plus(c.slot_offer)
        .plus(c.task_deployment);
    let after = match loss {
        JobManagerLoss::Recovered => Some(c.ha_timeout.max(jobmanager).plus(main).plus(job)),
        JobManagerLoss::RerunFromMain => Some(jobmanager.plus(main).plus(job)),
        JobManagerLoss::Lost => None,
    };
    (loss, after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(mode: Mode, platform: Platform) -> DeploymentSpec {
        DeploymentSpec {
            mode,
            platform,
            ha: HighAvailability::None,
            costs: StartupCosts::defaults(platform, HighAvailability::None),
            slot_request_timeout: d::SLOT_REQUEST_TIMEOUT,
        }
    }

    fn end(steps: &[Step]) -> SimDuration {
        steps.iter().map(|s| s.end).max().unwrap()
    }

    const TMS: [(u32, u32); 2] = [(0, 2), (1, 2)];

    #[test]
    fn a_standalone_session_only_submits_the_job() {
        let s = timeline(&spec(Mode::Session, Platform::Standalone), &TMS, 4);
        // main 2 s + upload 1 s + JobMaster 0.3 s + request 20 ms + offer 50 ms + deploy 0.2 s
        assert_eq!(end(&s), SimDuration::from_millis(3570));
        assert!(s.iter().all(|x| x.what != "pod starts"));
        assert_eq!(s[0].role, Role::Client);
    }

    #[test]
    fn application_mode_runs_main_on_the_jobmanager_and_uploads_nothing() {
        let s = timeline(
            &spec(Mode::Application, Platform::NativeKubernetes),
            &TMS,
            4,
        );
        assert!(s.iter().all(|x| x.role != Role::Client));
        let main = s
            .iter()
            .find(|x| x.what.starts_with("runs `main`"))
            .unwrap();
        assert_eq!(main.role, Role::Dispatcher);
        // pod 15 s + services 0.5 s + main 2 s + 0.3 s + 20 ms, then TM pods 10 s + 0.1 s,
        // offers 50 ms, deployment 0.2 s
        assert_eq!(end(&s), SimDuration::from_millis(28170));
        let pods = s.iter().filter(|x| x.what == "pod starts").count();
        assert_eq!(pods, 2);
    }

    #[test]
    fn native_task_managers_start_after_the_slot_request_standalone_ones_with_the_cluster() {
        let yarn = timeline(&spec(Mode::PerJob, Platform::Yarn), &TMS, 4);
        let req = yarn
            .iter()
            .find(|x| x.what.starts_with("requests"))
            .unwrap();
        let tm = yarn.iter().find(|x| x.what == "container starts").unwrap();
        assert_eq!(tm.start, req.end);
        let k8s = timeline(
            &spec(Mode::Application, Platform::StandaloneKubernetes),
            &TMS,
            4,
        );
        let tm = k8s.iter().find(|x| x.what == "pod starts").unwrap();
        assert_eq!(tm.start, SimDuration::ZERO);
    }

    #[test]
    fn a_jobmanager_failure_costs_the_election_and_the_new_leaders_steps() {
        let mut s = spec(Mode::Session, Platform::Standalone);
        assert_eq!(jobmanager_recovery(&s), (JobManagerLoss::Lost, None));
        s.ha = HighAvailability::ZooKeeper;
        s.costs.ha_timeout = SimDuration::from_secs(60);
        let (loss, after) = jobmanager_recovery(&s);
        assert_eq!(loss, JobManagerLoss::Recovered);
        // 60 s session timeout + 0.3 + 0.02 + 0.1 + 0.05 + 0.2 s
        assert_eq!(after, Some(SimDuration::from_millis(60_670)));
        let s = spec(Mode::Application, Platform::NativeKubernetes);
        let (loss, after) = jobmanager_recovery(&s);
        assert_eq!(loss, JobManagerLoss::RerunFromMain);
        // pod 15 s + 0.5 s + main 2 s + 0.67 s
        assert_eq!(after, Some(SimDuration::from_millis(18_170)));
    }
}
