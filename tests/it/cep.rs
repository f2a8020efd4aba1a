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
