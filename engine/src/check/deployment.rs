//! `[deployment]`: the deployment mode, the resource provider, high availability and the
//! cost of each start-up step — refused where Flink has no such deployment.

use super::checker::Checker;
use crate::core::defaults::deployment as d;
use crate::core::time::SimDuration;
use crate::flink::deployment::{HighAvailability, Mode, Platform, unsupported};
use crate::flink::startup::{DeploymentSpec, StartupCosts};
use crate::scenario::raw::{RawDeployment, RawFault};
use crate::scenario::{Fault, FaultKind};
use toml::Spanned as TSpanned;

/// `[deployment]`, or `None` when the table is absent (the job just runs, as before).
pub fn deployment(
    ck: &mut Checker,
    raw: Option<&TSpanned<RawDeployment>>,
) -> Option<DeploymentSpec> {
    let table = raw?;
    let r = table.get_ref();
    let mode = match &r.mode {
        None => Mode::Application,
        Some(m) => choose(
            ck,
            m,
            "deployment.mode",
            &[
                ("session", Mode::Session),
                ("per-job", Mode::PerJob),
                ("application", Mode::Application),
            ],
        )?,
    };
    let platform = platform(ck, r)?;
    let ha = match &r.high_availability {
        None => HighAvailability::None,
        Some(h) => choose(
            ck,
            h,
            "deployment.high_availability",
            &[
                ("none", HighAvailability::None),
                ("zookeeper", HighAvailability::ZooKeeper),
                ("kubernetes", HighAvailability::Kubernetes),
            ],
        )?,
    };
    if let Some(why) = unsupported(mode, platform, ha) {
        let ha_wrong = unsupported(mode, platform, HighAvailability::None).is_none();
        let (at, message) = if ha_wrong {
            (
                r.high_availability.as_ref().map(TSpanned::span),
                format!("Flink has no Kubernetes HA services on {}", platform.name()),
            )
        } else {
            (
                r.mode.as_ref().map(TSpanned::span),
                format!("Flink has no {} mode on {}", mode.name(), platform.name()),
            )
        };
        ck.error(
            at.or(Some(table.span().start..table.span().start + 1)),
            message,
            why,
        );
        return None;
    }
    if mode == Mode::PerJob
        && let Some(m) = &r.mode
    {
        ck.warn(
            Some(m.span()),
            "per-job mode is deprecated since Flink 1.15 and removed in Flink 2.0",
            "application mode gives the same isolation and runs `main` on the cluster",
        );
    }
    let costs = costs(ck, r, platform, ha);
    let slot_request_timeout = match &r.slot_request_timeout {
        None => d::SLOT_REQUEST_TIMEOUT,
        Some(t) => positive(ck, t, "deployment.slot_request_timeout")?,
    };
    Some(DeploymentSpec {
        mode,
        platform,
        ha,
        costs,
        slot_request_timeout,
    })
}

/// With `[deployment]`, a `job_manager` fault takes its HA from it: a fault's own `ha`
/// must agree.
pub fn jobmanager_faults(
    ck: &mut Checker,
    spec: Option<&DeploymentSpec>,
    raw: &[TSpanned<RawFault>],
    faults: &mut [Fault],
) {
    let Some(spec) = spec else { return };
    let with_ha = spec.ha != HighAvailability::None;
    for f in faults.iter_mut() {
        let FaultKind::JobManager { ha } = &mut f.kind else {
            continue;
        };
        let written = raw
            .iter()
            .find(|r| r.span() == f.span)
            .and_then(|r| r.get_ref().ha.as_ref());
        if let Some(w) = written
            && *w.get_ref() != with_ha
        {
            ck.error(
                Some(w.span()),
                format!(
                    "this fault says ha = {} but [deployment] has high_availability = \"{}\"",
                    w.get_ref(),
                    spec.ha.name()
                ),
                "with [deployment] the fault takes its HA from it: remove `ha` here",
            );
        }
        *ha = with_ha;
    }
}

/// `platform` and, on Kubernetes, `kubernetes_mode` (native by default).
fn platform(ck: &mut Checker, r: &RawDeployment) -> Option<Platform> {
    let kubernetes = |native| {
        if native {
            Platform::NativeKubernetes
        } else {
            Platform::StandaloneKubernetes
        }
    };
    let p = match &r.platform {
        None => Platform::Standalone,
        Some(p) => choose(
            ck,
            p,
            "deployment.platform",
            &[
                ("standalone", Platform::Standalone),
                ("yarn", Platform::Yarn),
                ("kubernetes", kubernetes(true)),
            ],
        )?,
    };
    let Some(km) = &r.kubernetes_mode else {
        return Some(p);
    };
    if p != Platform::NativeKubernetes {
        ck.error(
            Some(km.span()),
            "kubernetes_mode applies only to platform = \"kubernetes\"",
            "remove it, or set platform = \"kubernetes\"",
        );
        return None;
    }
    choose(
        ck,
        km,
        "deployment.kubernetes_mode",
        &[
            ("native", kubernetes(true)),
            ("standalone", kubernetes(false)),
        ],
    )
}

/// The per-step costs: the platform's defaults, overridden key by key.
fn costs(
    ck: &mut Checker,
    r: &RawDeployment,
    platform: Platform,
    ha: HighAvailability,
) -> StartupCosts {
    let mut c = StartupCosts::defaults(platform, ha);
    let keys: [(&Option<TSpanned<String>>, &mut SimDuration, &str); 10] = [
        (&r.client_main, &mut c.client_main, "deployment.client_main"),
        (&r.upload, &mut c.upload, "deployment.upload"),
        (
            &r.jobmanager_start,
            &mut c.jobmanager_start,
            "deployment.jobmanager_start",
        ),
        (
            &r.cluster_services,
            &mut c.cluster_services,
            "deployment.cluster_services",
        ),
        (&r.job_master, &mut c.job_master, "deployment.job_master"),
        (
            &r.slot_request,
            &mut c.slot_request,
            "deployment.slot_request",
        ),
        (
            &r.task_manager_start,
            &mut c.task_manager_start,
            "deployment.task_manager_start",
        ),
        (
            &r.task_manager_registration,
            &mut c.task_manager_registration,
            "deployment.task_manager_registration",
        ),
        (&r.slot_offer, &mut c.slot_offer, "deployment.slot_offer"),
        (
            &r.task_deployment,
            &mut c.task_deployment,
            "deployment.task_deployment",
        ),
    ];
    for (raw, slot, what) in keys {
        if let Some(v) = raw
            && let Some(t) = ck.duration(v, what)
        {
            *slot = t;
        }
    }
    if let Some(v) = &r.ha_timeout {
        if ha == HighAvailability::None {
            ck.error(
                Some(v.span()),
                "ha_timeout needs high availability",
                "without HA no new leader is elected: set high_availability = \"zookeeper\" or \"kubernetes\"",
            );
        } else if let Some(t) = positive(ck, v, "deployment.ha_timeout") {
            c.ha_timeout = t;
        }
    }
    c
}

/// A duration above zero.
fn positive(ck: &mut Checker, v: &TSpanned<String>, what: &str) -> Option<SimDuration> {
    let t = ck.duration(v, what)?;
    if t.is_zero() {
        ck.error(
            Some(v.span()),
            format!("{what} must be longer than 0"),
            "Flink would give up at once",
        );
        return None;
    }
    Some(t)
}

/// One of `choices` by name (case and `_`/`-` ignored), or an error listing them.
fn choose<T: Copy>(
    ck: &mut Checker,
    v: &TSpanned<String>,
    what: &str,
    choices: &[(&str, T)],
) -> Option<T> {
    let text = v.get_ref().trim().to_ascii_lowercase().replace('_', "-");
    if let Some(&(_, t)) = choices.iter().find(|(n, _)| *n == text) {
        return Some(t);
    }
    let names: Vec<String> = choices.iter().map(|(n, _)| format!("\"{n}\"")).collect();
    ck.error(
        Some(v.span()),
        format!("unknown {what} `{}`", v.get_ref()),
        format!("expected {}", names.join(", ")),
    );
    None
}

#[cfg(test)]
mod tests {
    use crate::check::testing::{errors, findings, parsed};
    use crate::core::time::SimDuration;
    use crate::flink::deployment::{HighAvailability, Mode, Platform};

    const JOB: &str = "[[source]]\nname = \"a\"\nkind = \"generator\"\ncount = 10\nfields.k = { kind = \"sequence\" }\n[[sink]]\nname = \"out\"\ninput = \"a\"\n";

    fn with(table: &str) -> String {
        format!("[deployment]\n{table}\n{JOB}")
    }

    #[test]
    fn a_deployment_reads_mode_platform_and_ha_with_the_platforms_costs() {
        let s = parsed(&with(
            "mode = \"session\"\nplatform = \"kubernetes\"\nkubernetes_mode = \"standalone\"\nhigh_availability = \"kubernetes\"",
        ))
        .unwrap();
        let d = s.deployment.unwrap();
        assert_eq!(
            (d.mode, d.platform, d.ha),
            (
                Mode::Session,
                Platform::StandaloneKubernetes,
                HighAvailability::Kubernetes
            )
        );
        assert_eq!(d.costs.ha_timeout, SimDuration::from_secs(15));
        assert_eq!(d.costs.jobmanager_start, SimDuration::from_secs(15));
        let s = parsed(&with("platform = \"yarn\"\nupload = \"4 s\"")).unwrap();
        let d = s.deployment.unwrap();
        assert_eq!(
            (d.mode, d.costs.upload),
            (Mode::Application, SimDuration::from_secs(4))
        );
        assert!(parsed(JOB).unwrap().deployment.is_none());
    }

    #[test]
    fn combinations_flink_does_not_have_are_refused_with_the_reason_and_place() {
        let e = errors(&with("mode = \"per-job\"\nplatform = \"kubernetes\""));
        assert!(
            e.contains("Flink has no per-job mode on kubernetes (native)")
                && e.contains("does not exist on Kubernetes")
                && e.contains("t.toml:2:8"),
            "{e}"
        );
        let e = errors(&with("mode = \"per-job\""));
        assert!(e.contains("fixed set of TaskManagers"), "{e}");
        let e = errors(&with(
            "platform = \"yarn\"\nhigh_availability = \"kubernetes\"",
        ));
        assert!(e.contains("ConfigMaps") && e.contains("t.toml:3:21"), "{e}");
        let e = errors(&with("platform = \"yarn\"\nkubernetes_mode = \"native\""));
        assert!(e.contains("kubernetes_mode applies only"), "{e}");
        let e = errors(&with("mode = \"cluster\""));
        assert!(
            e.contains("expected \"session\", \"per-job\", \"application\""),
            "{e}"
        );
    }

    #[test]
    fn a_zero_slot_request_timeout_and_an_ha_timeout_without_ha_are_refused() {
        let e = errors(&with("slot_request_timeout = \"0 s\""));
        assert!(
            e.contains("slot_request_timeout must be longer than 0"),
            "{e}"
        );
        let e = errors(&with("ha_timeout = \"10 s\""));
        assert!(e.contains("ha_timeout needs high availability"), "{e}");
        let jm = "[[fault]]\nkind = \"job_manager\"\nat = \"1 s\"\nha = true";
        let e = errors(&format!("[deployment]\n{JOB}{jm}"));
        assert!(
            e.contains(
                "this fault says ha = true but [deployment] has high_availability = \"none\""
            ),
            "{e}"
        );
        let s = parsed(&format!(
            "[deployment]\nhigh_availability = \"zookeeper\"\n{JOB}{jm}"
        ))
        .unwrap();
        assert!(matches!(
            s.fault_tolerance.faults[0].kind,
            crate::scenario::FaultKind::JobManager { ha: true }
        ));
        let w = findings(&with("mode = \"per-job\"\nplatform = \"yarn\""));
        assert!(w.contains("deprecated since Flink 1.15"), "{w}");
    }
}
