//! CEP end to end: the pattern's state (buffered events, partial matches, timers) survives a
//! restore from a checkpoint.

use crate::util::{root, scratch, streamlab, texts};

/// The login scenario with checkpoints every 2 s, exactly-once sinks and the pattern's
/// subtask `subtask` killed at 8.5 s — while users have events buffered and partial matches
/// open — still meets the scenario's own expectations.
fn restored(subtask: u32) -> (bool, String) {
    let text = std::fs::read_to_string(root().join("scenarios/cep_login_failures.toml")).unwrap();
    let text = text
        .replace(
            "[job]\nparallelism = 2\n",
            "[job]\nparallelism = 2\n\n[checkpointing]\ninterval = \"2 s\"\n\n[restart]\nstrategy = \"fixed-delay\"\nattempts = 2\ndelay = \"500 ms\"\n\n[[fault]]\nkind = \"kill_subtask\"\noperator = \"three_failures\"\nsubtask = SUBTASK\nat = \"8500 ms\"\n",
        )
        .replace("SUBTASK", &subtask.to_string())
        .replace("capture = 50", "capture = 50\nguarantee = \"exactly_once\"");
    let dir = scratch(&format!("cep_restore_{subtask}"));
    let path = dir.join("cep.toml");
    std::fs::write(&path, text).unwrap();
    let p = path.to_str().unwrap();
    let (run, _) = texts(&streamlab(&["run", p]));
    assert!(
        run.contains(&format!(
            "subtask three_failures#{subtask} killed · 5 tasks restarted · down 500.000 ms, restored checkpoint 5"
        )),
        "{run}"
    );
    let o = streamlab(&["check", p]);
    let (out, err) = texts(&o);
    (o.status.success(), format!("{out}{err}"))
}

#[test]
fn a_restored_pattern_finds_the_same_alerts_and_timeouts() {
    for subtask in [0, 1] {
        let (ok, out) = restored(subtask);
        assert!(ok, "{out}");
        assert!(out.contains("3 of 3 expectations met"), "{out}");
    }
}

/// The rows `streamlab run` prints for sink `name` (its captured rows), as `a,b,c` lines.
fn sink_rows(out: &str, name: &str) -> Vec<String> {
    let start = out
        .find(&format!("Sink `{name}`"))
        .unwrap_or_else(|| panic!("no sink {name} in:\n{out}"));
    out[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with("    "))
        .map(|l| l.trim().replace(", ", ","))
        .collect()
}

/// Runs `scenario` (its text changed by `edit`) and gives `match,…` lines for the rows of
/// sink `matches` and `timeout,…` lines for those of `timeouts`, sorted as the golden files.
fn streamlab_lines(scenario: &str, edit: &dyn Fn(String) -> String, sinks: [&str; 2]) -> String {
    let text = edit(std::fs::read_to_string(root().join(scenario)).unwrap());
    let dir = scratch(&format!("cep_golden_{}", sinks[0]));
    let path = dir.join("s.toml");
    std::fs::write(&path, text).unwrap();
    let o = streamlab(&["run", path.to_str().unwrap()]);
    let (out, err) = texts(&o);
    assert!(o.status.success(), "{err}");
    let mut lines: Vec<String> = sink_rows(&out, sinks[0])
        .into_iter()
        .map(|r| format!("match,{r}"))
        .chain(
            sink_rows(&out, sinks[1])
                .into_iter()
                .map(|r| format!("timeout,{r}")),
        )
        .collect();
    lines.sort();
    lines.join("\n") + "\n"
}

/// Real Flink 2.3 (tools/flink-cep-oracle, recorded in tests/flink-golden-cep/) and
/// streamlab find the same matches and the same timed-out partial matches.
#[test]
fn the_cep_scenarios_match_what_real_flink_recorded() {
    let golden =
        |f: &str| std::fs::read_to_string(root().join("tests/flink-golden-cep").join(f)).unwrap();
    let login = streamlab_lines(
        "scenarios/cep_login_failures.toml",
        &|t| t,
        ["alerts", "timeouts"],
    );
    assert_eq!(login, golden("login_failures.flink.txt"));
    // the temperature scenario discards its timeouts: give it a side output and a sink
    let temperature = streamlab_lines(
        "scenarios/cep_temperature_rise.toml",
        &|t| {
            t.replace(
                "within = \"10 s\"\n",
                "within = \"10 s\"\nside_output = \"timed_out\"\n",
            ) + "\n[[sink]]\nname = \"timeouts\"\ninput = \"timed_out\"\ncapture = 50\n"
        },
        ["warnings", "timeouts"],
    );
    assert_eq!(temperature, golden("temperature_rise.flink.txt"));
}
