//! `streamlab cluster` on the bundled cluster files of `scenarios/session/`: in a session
//! cluster that is too small a job waits for slots and fails after `slot.request.timeout`
//! with Flink's message; a TaskManager crash strikes two jobs in a session cluster and one in
//! application mode — read from the command's real output (text and `--json`).

use crate::assert_run;
use crate::util::{scratch, streamlab, texts};
use serde_json::Value;

fn report(file: &str) -> Value {
    let o = streamlab(&["cluster", file, "--json"]);
    let (out, err) = texts(&o);
    assert!(!err.contains("panicked"), "{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{file}: {e}\n{out}{err}"))
}

fn job<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == name)
        .unwrap_or_else(|| panic!("no job {name}: {r}"))
}

#[test]
fn in_a_session_cluster_too_small_the_second_job_waits_then_fails_with_flinks_message() {
    let file = "scenarios/session/too_small.toml";
    assert_run!(
        streamlab(&["cluster", file]),
        exit = 1,
        "got no slots: needs 2 slots of the cluster's 2",
        "org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException: Slot request bulk is not fulfillable! Could not allocate the required slot within slot request timeout",
        "Timeout has occurred: PT1M",
        "job B waits",
    );
    let r = report(file);
    let (orders, alerts) = (job(&r, "orders"), job(&r, "alerts"));
    assert_eq!(orders["status"], "finished");
    assert_eq!(alerts["status"], "failed");
    assert!(alerts["granted_ms"].is_null(), "alerts never got slots");
    let requested = alerts["requested_ms"].as_f64().unwrap();
    let ended = alerts["ended_ms"].as_f64().unwrap();
    // it waited exactly slot.request.timeout (1 min here), while orders still held the slots
    assert_eq!(ended - requested, 60_000.0);
    assert!(orders["ended_ms"].as_f64().unwrap() > ended);
}

#[test]
fn a_taskmanager_crash_strikes_two_jobs_in_a_session_cluster_and_one_in_application_mode() {
    let session = report("scenarios/session/blast_radius_session.toml");
    let application = report("scenarios/session/blast_radius_application.toml");
    assert_eq!(
        session["faults"][0]["struck"],
        serde_json::json!(["orders", "alerts"])
    );
    assert_eq!(
        application["faults"][0]["struck"],
        serde_json::json!(["orders"])
    );
    for name in ["orders", "alerts"] {
        assert_eq!(
            job(&session, name)["restarts"],
            1,
            "{name} restarted in the session"
        );
        assert_eq!(job(&session, name)["status"], "finished");
    }
    assert_eq!(job(&application, "orders")["restarts"], 1);
    assert_eq!(job(&application, "alerts")["restarts"], 0);
    assert!(
        job(&application, "alerts")["struck_by"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // the session's jobs share TaskManager 1; in application mode alerts has its own
    let tms = |r: &Value, name: &str| -> Vec<u64> {
        job(r, name)["slots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s[0].as_u64().unwrap())
            .collect()
    };
    assert!(tms(&session, "alerts").contains(&1) && tms(&session, "orders").contains(&1));
    assert_eq!(tms(&application, "alerts"), vec![2]);
    let (text, _) = texts(&streamlab(&[
        "cluster",
        "scenarios/session/blast_radius_session.toml",
    ]));
    assert!(
        text.contains("struck `orders`, `alerts` — blast radius 2"),
        "{text}"
    );
}

#[test]
fn the_report_and_page_are_byte_identical_run_after_run() {
    let file = "scenarios/session/blast_radius_session.toml";
    let (a, b) = (scratch("cluster-a"), scratch("cluster-b"));
    for d in [&a, &b] {
        assert_run!(
            streamlab(&["cluster", file, "--out", d.to_str().unwrap()]),
            exit = 0,
            "blast radius 2"
        );
    }
    for f in ["cluster.json", "cluster.html"] {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(!x.is_empty() && x == y, "{f} differs between two runs");
    }
    let page = std::fs::read_to_string(a.join("cluster.html")).unwrap();
    assert!(
        page.contains("<svg") && page.contains("class=\"down\""),
        "{page}"
    );
}

#[test]
fn the_job_files_run_alone_too() {
    for f in [
        "scenarios/session/jobs/orders.toml",
        "scenarios/session/jobs/alerts.toml",
    ] {
        assert_run!(streamlab(&["run", f, "-q"]), exit = 0, "finished");
    }
}

#[test]
fn a_bad_cluster_file_is_refused_at_its_line_and_column() {
    let dir = scratch("cluster-bad");
    std::fs::create_dir_all(dir.join("jobs")).unwrap();
    std::fs::copy(
        "scenarios/session/jobs/orders.toml",
        dir.join("jobs/orders.toml"),
    )
    .unwrap();
    let file = dir.join("c.toml");
    std::fs::write(
        &file,
        "[deployment]\nmode = \"session\"\nslot_request_timeout = \"0 s\"\n[[submit]]\nscenario = \"jobs/orders.toml\"\n",
    )
    .unwrap();
    assert_run!(
        streamlab(&["cluster", file.to_str().unwrap()]),
        exit = 2,
        "slot_request_timeout must be longer than 0",
        "c.toml:3:24",
    );
    std::fs::write(
        &file,
        "[cluster]\ntask_managers = 1\n[deployment]\nmode = \"application\"\n[[submit]]\nscenario = \"jobs/orders.toml\"\n",
    )
    .unwrap();
    assert_run!(
        streamlab(&["cluster", file.to_str().unwrap()]),
        exit = 2,
        "NoResourceAvailableException: Could not acquire the minimum required resources",
        "needs 2 slots but its application cluster has 1",
        "c.toml:5:1",
    );
}
