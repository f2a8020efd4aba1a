//! Helpers shared by the end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (tests run with the package root as working directory).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the `streamlab` binary with arguments, from the repository root.
pub fn streamlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_streamlab"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the streamlab binary runs")
}

/// A fresh, empty scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("streamlab-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// stdout and stderr as text.
pub fn texts(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Every bundled scenario file.
pub fn bundled_scenarios() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

/// Asserts a command's exit status and that every needle appears in stdout or stderr.
#[macro_export]
macro_rules! assert_run {
    ($out:expr, exit = $code:expr, $($needle:expr),* $(,)?) => {{
        let o = &$out;
        let (so, se) = $crate::util::texts(o);
        assert_eq!(o.status.code(), Some($code), "exit status\n--- stdout\n{so}\n--- stderr\n{se}");
        assert!(!se.contains("panicked"), "must never panic:\n{se}");
        $( assert!(so.contains($needle) || se.contains($needle), "missing {:?}\n--- stdout\n{so}\n--- stderr\n{se}", $needle); )*
    }};
}

/// Path relative to the root, as a string.
pub fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}
