//! `[deployment]` end to end: every scenario of `scenarios/deployment/` meets its
//! expectations; the report carries the start-up timeline only when the file has the table;
//! the run page draws it; a JobManager failure follows the mode and HA.

use crate::util::{scratch, streamlab, texts};
use serde_json::Value;

/// The report `run --json` writes for `file`.
fn report(file: &str, name: &str) -> Value {
    let path = scratch("deployment").join(format!("{name}.json"));
    let o = streamlab(&["run", file, "-q", "--json", path.to_str().unwrap()]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", texts(&o).1);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_deployment_scenario_meets_its_expectations() {
    let mut files: Vec<_> = std::fs::read_dir("scenarios/deployment")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.push("scenarios/deployment_modes.toml".into());
    assert!(files.len() >= 9);
    for f in files {
        let o = streamlab(&["check", f.to_str().unwrap()]);
        let (out, err) = texts(&o);
        assert_eq!(o.status.code(), Some(0), "{}: {out}{err}", f.display());
    }
}

#[test]
fn the_timeline_is_in_the_report_only_with_a_deployment_table() {
    let r = report("scenarios/deployment_modes.toml", "modes");
    let d = &r["deployment"];
    assert_eq!(d["mode"], "application");
    assert_eq!(d["main_runs_on"], "jobmanager");
    assert_eq!(d["first_record_ms"], 28170.0);
    let roles: Vec<&str> = d["startup"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["role"].as_str().unwrap())
        .collect();
    for role in [
        "Platform",
        "Dispatcher",
        "ResourceManager",
        "JobMaster",
        "TaskManager 1",
    ] {
        assert!(roles.contains(&role), "{roles:?}");
    }
    assert!(
        !roles.contains(&"Client"),
        "application mode has no client step"
    );
    let r = report("scenarios/jobmanager_ha.toml", "plain");
    assert!(r.get("deployment").is_none());
}

#[test]
fn the_run_page_draws_the_startup_lanes() {
    let dir = scratch("deployment_page");
    let o = streamlab(&[
        "run",
        "scenarios/deployment/per_job_yarn.toml",
        "-q",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", texts(&o).1);
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("<section id=\"startup\">"));
    for lane in ["Client", "Platform", "JobMaster", "TaskManager 0"] {
        assert!(
            html.contains(&format!("data-role=\"{lane}\"")),
            "no lane {lane}"
        );
    }
}

#[test]
fn a_jobmanager_failure_depends_on_the_mode_and_ha() {
    let lost = report("scenarios/deployment/jm_session_no_ha.toml", "lost");
    assert_eq!(lost["outcome"]["status"], "failed");
    let msg = lost["outcome"]["message"].as_str().unwrap();
    assert!(
        msg.contains("session cluster's Dispatcher keeps no job graphs"),
        "{msg}"
    );
    let rerun = report("scenarios/deployment/jm_application_no_ha.toml", "rerun");
    let f = &rerun["failures"][0];
    assert!(f["cause"].as_str().unwrap().contains("runs `main` again"));
    assert!(f["restored_checkpoint"].is_null());
    let ha = report("scenarios/deployment/jm_session_zookeeper.toml", "ha");
    let f = &ha["failures"][0];
    assert_eq!(f["restored_checkpoint"], 4);
    // ZooKeeper's 60 s session timeout, then the new JobMaster's 670 ms of steps
    assert!(
        (f["downtime_ms"].as_f64().unwrap() - 60_670.0).abs() < 1e-6,
        "{f}"
    );
}
