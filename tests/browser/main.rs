//! The HTML pages checked in a real browser (issue 14): Debian's headless Chromium, driven
//! over the DevTools protocol, opens the pages `streamlab` writes and the tests assert what a
//! reader would see — no console errors or failed requests, the expected charts, lanes and
//! marks, a tip on hover, a screenshot that is not blank. Screenshots are kept under
//! `target/browser-screenshots/` (CI artifacts).
//!
//! Without a Chromium binary each test prints why it skipped and passes — except under
//! `CI=true`, where a missing browser is a failure (`.ci/run` installs it), unless `.ci/run`
//! could not install it (see [`browser`]). `STREAMLAB_CHROMIUM` names another binary.

mod cdp;
mod compare_page;
mod harness;
mod pixels;
mod run_report;

use std::path::{Path, PathBuf};
use std::process::Command;

/// A launched browser, or `None` (after saying why) when none is installed.
///
/// A missing browser skips the test, except under `CI=true`, where `.ci/run` has installed
/// it: there it fails, unless `.ci/run` tried and could not install it and says so in
/// `STREAMLAB_NO_CHROMIUM`.
///
/// # Panics
/// When no Chromium is installed under `CI=true` without `STREAMLAB_NO_CHROMIUM`, or when
/// one is installed but cannot start.
pub fn browser() -> Option<cdp::Browser> {
    let Some(exe) = cdp::find_chromium() else {
        if let Ok(why) = std::env::var("STREAMLAB_NO_CHROMIUM") {
            say_once(&format!("skipped: Chromium not installed ({why})"));
            return None;
        }
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "Chromium not installed, and under CI=true the browser tests must run; {}",
                cdp::INSTALL_HINT
            );
        }
        say_once(&format!(
            "skipped: Chromium not installed; {}",
            cdp::INSTALL_HINT
        ));
        return None;
    };
    Some(cdp::Browser::launch(&exe).unwrap_or_else(|e| panic!("{}: {e}", exe.display())))
}

/// Prints `message` once per test run, straight to stderr: the test harness hides what a
/// passing test prints with `eprintln!`, and a skip must be seen.
fn say_once(message: &str) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "browser tests {message}");
    });
}

/// The repository root (the working directory of the `streamlab` runs).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, empty scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("streamlab-browser-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Runs the `streamlab` binary from the repository root; panics with its output unless it
/// exits 0.
pub fn streamlab(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_streamlab"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the streamlab binary runs");
    assert!(
        out.status.success(),
        "streamlab {args:?}: {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The text of a file; panics naming it.
pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Panics listing the page's problems (console errors, exceptions, failed or non-local
/// requests), if it has any.
pub fn assert_no_problems(b: &mut cdp::Browser, page: &str) {
    let problems = b.problems().expect("the browser answers");
    assert!(
        problems.is_empty(),
        "{page}: {} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
