//! `streamlab plan FILE --flink`: streamlab's chains against the JobGraph vertices real Flink
//! builds for the exported job, without running it. The comparison is `tools/flink-diff`'s
//! (`flink-diff --plan-only`, one rule for both): it exports the scenario to a temporary
//! directory, compiles it against Flink's jars, has `Main --plan` (and, for SQL queries,
//! `SqlMain --plan`: Flink's SQL planner) build the JobGraph, and prints per chain
//! `same`/`different` with the operators and parallelism of both.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment variable naming the `flink-diff` script, when it is not found next to the
/// binary.
pub const FLINK_DIFF_ENV: &str = "STREAMLAB_FLINK_DIFF";

/// Where `tools/flink-diff/flink-diff` is: `$STREAMLAB_FLINK_DIFF`, else the repository the
/// binary was built in (`ROOT/target/{debug,release}/streamlab` → `ROOT/tools/…`), else the
/// source tree this binary was compiled from.
pub fn locate(exe: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(FLINK_DIFF_ENV) {
        return Some(PathBuf::from(p));
    }
    let rel = Path::new("tools/flink-diff/flink-diff");
    if let Some(exe) = exe {
        for dir in exe.ancestors().skip(1) {
            if dir.join(rel).is_file() {
                return Some(dir.join(rel));
            }
        }
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    built.is_file().then_some(built)
}

/// Runs `flink-diff --plan-only FILE` with this binary; its output goes to ours. The exit
/// status: 0 every chain the same, 1 a difference (or a failure to build the JobGraph), 2
/// nothing compared (not exportable, no Flink jars or JDK — the message says how to install
/// them: `tools/flink-diff/setup`).
pub fn compare(file: &Path) -> u8 {
    // refused scenarios stop here, with the export's own message
    let (s, p) = match crate::commands::load_and_plan_quiet(file) {
        Ok(x) => x,
        Err(code) => return code,
    };
    if let Err(e) = super::project_files(&s, &p, super::FLINK_VERSIONS[0], false) {
        match e {
            super::ExportError::Refused(r) => eprintln!(
                "{}nothing to compare with Flink",
                super::refusal_message(&file.display().to_string(), &r)
            ),
            super::ExportError::Io(e) => eprintln!("error: {e}"),
        }
        return 2;
    }
    let exe = std::env::current_exe().ok();
    let Some(tool) = locate(exe.as_deref()).filter(|t| t.is_file()) else {
        eprintln!(
            "error: `plan --flink` runs tools/flink-diff/flink-diff of streamlab's repository, which is not next to this binary; set {FLINK_DIFF_ENV}=PATH/TO/tools/flink-diff/flink-diff (it needs Flink 2.3's jars and a JDK 17: run tools/flink-diff/setup once)"
        );
        return 2;
    };
    let mut cmd = Command::new("python3");
    cmd.arg(&tool).arg("--plan-only");
    if let Some(exe) = &exe {
        cmd.arg("--streamlab").arg(exe);
    }
    cmd.arg(file);
    // our own output first, then flink-diff's
    use std::io::Write;
    let _ = std::io::stdout().flush();
    match cmd.status() {
        Ok(st) => match st.code() {
            Some(0) => 0,
            Some(1) => 1,
            _ => 2,
        },
        Err(e) => {
            eprintln!(
                "error: cannot run `python3 {}`: {e} (`plan --flink` needs python3, Flink 2.3's jars and a JDK 17: run tools/flink-diff/setup)",
                tool.display()
            );
            2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flink_diff_is_found_from_a_binary_under_target() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let exe = root.join("target/debug/streamlab");
        if std::env::var_os(FLINK_DIFF_ENV).is_none() {
            assert_eq!(
                locate(Some(&exe)),
                Some(root.join("tools/flink-diff/flink-diff"))
            );
        }
    }
}
