//! The cluster file: one cluster (`[cluster]`, `[deployment]`), the jobs submitted to it
//! (`[[submit]]`, each an ordinary scenario file) and the TaskManager crashes of the cluster
//! (`[[fault]]`). Read in two stages like a scenario: serde with `deny_unknown_fields`, then
//! checks that point at the offending key with line and column.
//!
//! ```toml
//! name = "session_too_small"
//! [cluster]
//! task_managers = 1
//! slots_per_task_manager = 2
//! [deployment]
//! mode = "session"                  # required: "session" | "per-job" | "application"
//! slot_request_timeout = "30 s"     # Flink's slot.request.timeout (default 5 min)
//! [[submit]]
//! scenario = "jobs/counts.toml"     # relative to this file
//! at = "0 s"                        # when the client submits it (default 0 s)
//! parallelism = 3                   # the client's -p (optional; below the job's own)
//! [[fault]]
//! kind = "kill_task_manager"        # a TaskManager of the cluster crashes
//! task_manager = 0
//! at = "40 s"
//! replacement_delay = "10 s"        # until a new TaskManager registers (default 10 s)
//! ```

use crate::check::Checker;
use crate::core::diag::{Diagnostic, Diagnostics, SourceFile};
use crate::core::time::{SimDuration, SimTime};
use crate::flink::deployment::{HighAvailability, Mode, Platform};
use crate::flink::startup::{DeploymentSpec, StartupCosts};
use crate::scenario::raw::{RawCluster, RawDeployment};
use crate::scenario::{Cluster, Scenario};
use serde::Deserialize;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClusterFile {
    name: Option<Spanned<String>>,
    description: Option<String>,
    cluster: Option<Spanned<RawCluster>>,
    deployment: Option<Spanned<RawDeployment>>,
    #[serde(default, rename = "submit")]
    submits: Vec<Spanned<RawSubmit>>,
    #[serde(default, rename = "fault")]
    faults: Vec<Spanned<RawClusterFault>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubmit {
    scenario: Spanned<String>,
    at: Option<Spanned<String>>,
    parallelism: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClusterFault {
    kind: Spanned<String>,
    task_manager: Spanned<i64>,
    at: Spanned<String>,
    replacement_delay: Option<Spanned<String>>,
}

/// One job submitted to the cluster.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The job: its scenario file, validated (its own `[cluster]` and `[deployment]` are
    /// replaced by the cluster file's when it runs).
    pub scenario: Scenario,
    /// The job file's path (the cluster file's folder joined with what is written).
    pub path: String,
    /// When the client submits it (`flink run`).
    pub at: SimTime,
    /// Where the `[[submit]]` table is in the cluster file.
    pub span: Range<usize>,
}

/// A TaskManager of the cluster crashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterFault {
    /// The TaskManager (the cluster's numbering: in per-job and application mode each job's
    /// TaskManagers are numbered after the previous jobs').
    pub task_manager: u32,
    /// When, on the cluster's clock.
    pub at: SimTime,
    /// Until its replacement registers.
    pub replacement_delay: SimDuration,
    /// Where `task_manager` is written.
    pub span: Range<usize>,
}

/// A checked cluster file.
#[derive(Debug, Clone)]
pub struct ClusterFile {
    /// The file (for messages).
    pub file: Arc<SourceFile>,
    /// Its name.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// The TaskManagers: the session cluster's, or each job's own cluster's at most.
    pub cluster: Cluster,
    /// Mode, platform, start-up costs, `slot.request.timeout`.
    pub deployment: DeploymentSpec,
    /// The jobs, in the order written.
    pub submissions: Vec<Submission>,
    /// The TaskManager crashes.
    pub faults: Vec<ClusterFault>,
    /// Findings that do not stop the run.
    pub warnings: Vec<Diagnostic>,
}

/// Why a cluster file could not be loaded: the cluster file's diagnostics, and those of
/// each job file that is invalid (each names its own file).
#[derive(Debug)]
pub struct ClusterLoadError {
    /// One set per file, the cluster file's first.
    pub diagnostics: Vec<Diagnostics>,
}

/// Whether `text` is a cluster file rather than a scenario: it has a `[[submit]]` table.
pub fn is_cluster_file(text: &str) -> bool {
    text.lines()
        .any(|l| l.trim_start().starts_with("[[submit]]"))
}

/// Reads and checks the cluster file at `path` and every job file it submits.
pub fn load(path: &Path) -> Result<ClusterFile, ClusterLoadError> {
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            let file = SourceFile::new(shown, String::new());
            let mut d = Diagnostics::new(file);
            d.push(Diagnostic::error(
                format!("cannot read the cluster file: {e}"),
                None,
            ));
            return Err(ClusterLoadError {
                diagnostics: vec![d],
            });
        }
    };
    parse(
        SourceFile::new(shown, text),
        path.parent().unwrap_or(Path::new(".")),
    )
}

/// Checks cluster file text; job paths are relative to `base`.
pub fn parse(file: Arc<SourceFile>, base: &Path) -> Result<ClusterFile, ClusterLoadError> {
    let mut ck = Checker {
        client: crate::check::Client::default(),
        diags: Diagnostics::new(file.clone()),
        base_dir: Some(base.to_path_buf()),
        auto_watermark_interval: crate::core::defaults::watermarks::AUTO_WATERMARK_INTERVAL,
        job_parallelism: crate::core::defaults::cluster::PARALLELISM,
        custom: Vec::new(),
    };
    let fail = |ck: Checker, more: Vec<Diagnostics>| {
        let mut diagnostics = vec![ck.diags];
        diagnostics.extend(more);
        Err(ClusterLoadError { diagnostics })
    };
    let raw: RawClusterFile = match toml::from_str(&file.text) {
        Ok(r) => r,
        Err(e) => {
            ck.diags
                .push(crate::check::toml_errors::diagnostic(&file.text, &e));
            return fail(ck, Vec::new());
        }
    };
    let cluster = crate::check::cluster::cluster(&mut ck, raw.cluster.as_ref());
    let deployment = deployment(&mut ck, raw.deployment.as_ref());
    if raw.submits.is_empty() {
        ck.error(
            Some(0..0),
            "a cluster file submits at least one job",
            "add a [[submit]] table with `scenario = \"jobs/a.toml\"`",
        );
    }
    let mut job_errors = Vec::new();
    let mut submissions = Vec::new();
    for sub in &raw.submits {
        let r = sub.get_ref();
        let at = match &r.at {
            Some(t) => ck.duration(t, "submit.at").map(SimTime::at),
            None => Some(SimTime::ZERO),
        };
        let client = crate::check::Client {
            parallelism: r
                .parallelism
                .as_ref()
                .and_then(|p| ck.count(p, "submit.parallelism", 32768)),
        };
        let rel = r.scenario.get_ref();
        let path: PathBuf = base.join(rel);
        let scenario = match crate::check::load_as(&path, &client) {
            Ok(s) => Some(s),
            Err(crate::scenario::LoadError::Unreadable { reason, .. }) => {
                ck.error(
                    Some(r.scenario.span()),
                    format!(
                        "cannot read the job's scenario file `{}`: {reason}",
                        path.display()
                    ),
                    "a path relative to this cluster file",
                );
                None
            }
            Err(crate::scenario::LoadError::Invalid(d)) => {
                ck.error(
                    Some(r.scenario.span()),
                    format!("the job's scenario file `{}` is not valid", path.display()),
                    "its errors follow",
                );
                job_errors.push(d);
                None
            }
        };
        if let (Some(scenario), Some(at)) = (scenario, at) {
            if let Some(other) = submissions
                .iter()
                .find(|o: &&Submission| o.scenario.name == scenario.name)
            {
                ck.error(
                    Some(r.scenario.span()),
                    format!("two jobs are named `{}`", scenario.name),
                    format!(
                        "`{}` has that name too: give one of them another `name`",
                        other.path
                    ),
                );
                continue;
            }
            submissions.push(Submission {
                scenario,
                path: path.display().to_string(),
                at,
                span: sub.span(),
            });
        }
    }
    let mut faults = Vec::new();
    for f in &raw.faults {
        let r = f.get_ref();
        if r.kind.get_ref() != "kill_task_manager" {
            ck.error(
                Some(r.kind.span()),
                format!("unknown cluster fault `{}`", r.kind.get_ref()),
                "a cluster file's faults are TaskManager crashes: kind = \"kill_task_manager\"; other faults go into the job's own file",
            );
            continue;
        }
        let tm = *r.task_manager.get_ref();
        if tm < 0 || tm > i64::from(u32::MAX) {
            ck.error(
                Some(r.task_manager.span()),
                format!("no TaskManager {tm}"),
                "TaskManagers are numbered from 0",
            );
            continue;
        }
        let tm = tm as u32;
        if deployment.is_some_and(|d| d.mode == Mode::Session) && tm >= cluster.task_managers {
            ck.error(
                Some(r.task_manager.span()),
                format!(
                    "the session cluster has no TaskManager {tm}: it has {} (0 to {})",
                    cluster.task_managers,
                    cluster.task_managers - 1
                ),
                "a TaskManager of [cluster]",
            );
            continue;
        }
        let at = ck.duration(&r.at, "fault.at");
        let delay = match &r.replacement_delay {
            Some(d) => ck.duration(d, "fault.replacement_delay"),
            None => Some(crate::core::defaults::cluster::TASK_MANAGER_REPLACEMENT_DELAY),
        };
        if let (Some(at), Some(replacement_delay)) = (at, delay) {
            faults.push(ClusterFault {
                task_manager: tm,
                at: SimTime::at(at),
                replacement_delay,
                span: r.task_manager.span(),
            });
        }
    }
    let (Some(deployment), false) = (deployment, ck.has_errors()) else {
        return fail(ck, job_errors);
    };
    if !job_errors.is_empty() {
        return fail(ck, job_errors);
    }
    let name = match &raw.name {
        Some(n) => n.get_ref().clone(),
        None => Path::new(&file.name)
            .file_stem()
            .map_or("cluster".into(), |s| s.to_string_lossy().into_owned()),
    };
    Ok(ClusterFile {
        file,
        name,
        description: raw.description.unwrap_or_default(),
        cluster,
        deployment,
        submissions,
        faults,
        warnings: ck.diags.items,
    })
}

/// `[deployment]` of a cluster file: as in a scenario, except that `mode` must be written
/// (a cluster file is about how jobs share a cluster); absent, a standalone session cluster.
fn deployment(ck: &mut Checker, raw: Option<&Spanned<RawDeployment>>) -> Option<DeploymentSpec> {
    let Some(table) = raw else {
        let platform = Platform::Standalone;
        return Some(DeploymentSpec {
            mode: Mode::Session,
            platform,
            ha: HighAvailability::None,
            costs: StartupCosts::defaults(platform, HighAvailability::None),
            slot_request_timeout: crate::core::defaults::deployment::SLOT_REQUEST_TIMEOUT,
        });
    };
    if table.get_ref().mode.is_none() {
        let at = table.span().start;
        ck.error(
            Some(at..at + "[deployment]".len().min(table.span().len())),
            "a cluster file's [deployment] says its mode",
            "add mode = \"session\", \"per-job\" or \"application\"",
        );
        return None;
    }
    crate::check::deployment::deployment(ck, Some(table))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The directory of the job files the cluster files name, written once per test process:
    /// `cargo test` runs these tests on several threads of one process, and a test rewriting
    /// the file while another reads it would read it empty.
    fn dir() -> PathBuf {
        static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
        DIR.get_or_init(|| {
            let d = std::env::temp_dir()
                .join(format!("streamlab-cluster-file-{}", std::process::id()));
            std::fs::create_dir_all(d.join("jobs")).unwrap();
            std::fs::write(
                d.join("jobs/a.toml"),
                "name = \"a\"\n[job]\nparallelism = 2\n[[source]]\nname = \"s\"\nkind = \"generator\"\ncount = 10\nfields.k = { kind = \"key\", count = 2 }\n[[sink]]\nname = \"out\"\ninput = \"s\"\n",
            )
            .unwrap();
            d
        })
        .clone()
    }

    fn parse_text(text: &str) -> Result<ClusterFile, ClusterLoadError> {
        parse(SourceFile::new("c.toml", text), &dir())
    }

    fn first_error(text: &str) -> String {
        let e = parse_text(text).unwrap_err();
        e.diagnostics[0].render()
    }

    #[test]
    fn a_cluster_file_submits_jobs_at_their_times() {
        let c = parse_text(
            "[cluster]\ntask_managers = 2\nslots_per_task_manager = 2\n[deployment]\nmode = \"session\"\n[[submit]]\nscenario = \"jobs/a.toml\"\nat = \"5 s\"\n[[fault]]\nkind = \"kill_task_manager\"\ntask_manager = 1\nat = \"9 s\"\n",
        )
        .unwrap();
        assert_eq!(c.deployment.mode, Mode::Session);
        assert_eq!(c.submissions.len(), 1);
        assert_eq!(c.submissions[0].at, SimTime::from_secs(5));
        assert_eq!(c.faults[0].task_manager, 1);
        assert_eq!(c.name, "c");
    }

    #[test]
    fn a_slot_request_timeout_of_zero_is_refused_at_its_position() {
        let e = first_error(
            "[deployment]\nmode = \"session\"\nslot_request_timeout = \"0 s\"\n[[submit]]\nscenario = \"jobs/a.toml\"\n",
        );
        assert!(
            e.contains("slot_request_timeout must be longer than 0"),
            "{e}"
        );
        assert!(e.contains("c.toml:3:"), "{e}");
    }

    #[test]
    fn mistakes_point_into_the_file() {
        let e = first_error(
            "[deployment]\nplatform = \"yarn\"\n[[submit]]\nscenario = \"jobs/a.toml\"\n",
        );
        assert!(e.contains("says its mode"), "{e}");
        let e = first_error("[[submit]]\nscenario = \"jobs/nope.toml\"\n");
        assert!(e.contains("cannot read the job's scenario file"), "{e}");
        assert!(e.contains("c.toml:2:"), "{e}");
        let e = first_error(
            "[[submit]]\nscenario = \"jobs/a.toml\"\n[[fault]]\nkind = \"kill_task_manager\"\ntask_manager = 3\nat = \"1 s\"\n",
        );
        assert!(e.contains("no TaskManager 3"), "{e}");
        assert!(e.contains("c.toml:5:"), "{e}");
        let e = first_error("[cluster]\ntask_managers = 1\n");
        assert!(e.contains("at least one job"), "{e}");
        let e = first_error(
            "[[submit]]\nscenario = \"jobs/a.toml\"\n[[submit]]\nscenario = \"jobs/a.toml\"\n",
        );
        assert!(e.contains("two jobs are named `a`"), "{e}");
        let e = first_error("[[submit]]\nscenario = \"jobs/a.toml\"\nwhen = \"1 s\"\n");
        assert!(e.contains("when"), "{e}");
    }

    #[test]
    fn a_cluster_file_is_told_apart_by_its_submissions() {
        assert!(is_cluster_file(
            "[cluster]\n[[submit]]\nscenario = \"a.toml\"\n"
        ));
        assert!(!is_cluster_file("[[source]]\nname = \"s\"\n"));
    }
}
