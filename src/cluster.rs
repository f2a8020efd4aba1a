//! `streamlab cluster FILE`: several jobs on one cluster (a cluster file with `[[submit]]`),
//! what became of each, the blast radius of each TaskManager crash, the slots over time.

use crate::commands::{EXIT_BAD_INPUT, EXIT_JOB_FAILED};
use std::path::Path;
use streamlab_engine::cluster::{self, ClusterRunError};
use streamlab_engine::core::diag::Diagnostics;

/// What to write besides the summary.
pub struct Ask<'a> {
    /// The cluster file.
    pub file: &'a Path,
    /// Print the report as JSON instead of the summary.
    pub json: bool,
    /// Write cluster.json and cluster.html here.
    pub out: Option<&'a Path>,
}

fn print(d: &Diagnostics) {
    eprint!("{}", d.render());
    let n = d.error_count();
    if n > 0 {
        eprintln!(
            "{n} error{} in {}",
            if n == 1 { "" } else { "s" },
            d.file.name
        );
    }
}

/// Runs the command; the exit status: 0 when every job finished, 1 when one did not, 2 for
/// bad input.
pub fn cluster(ask: &Ask<'_>) -> u8 {
    let c = match cluster::load(ask.file) {
        Ok(c) => c,
        Err(e) => {
            for d in &e.diagnostics {
                print(d);
            }
            return EXIT_BAD_INPUT;
        }
    };
    if !c.warnings.is_empty() {
        let mut w = Diagnostics::new(c.file.clone());
        w.items = c.warnings.clone();
        eprint!("{}", w.render());
    }
    let report = match cluster::run(&c, cfg!(debug_assertions)) {
        Ok(r) => r,
        Err(ClusterRunError::Invalid(d)) => {
            print(&d);
            return EXIT_BAD_INPUT;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_JOB_FAILED;
        }
    };
    let json = match serde_json::to_string_pretty(&report) {
        Ok(j) => j + "\n",
        Err(e) => {
            eprintln!("error: cannot write the report as JSON: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if let Some(dir) = ask.out {
        let html = streamlab_viz::cluster_page::render(&report, &ask.file.display().to_string());
        let written = std::fs::create_dir_all(dir)
            .and_then(|_| std::fs::write(dir.join("cluster.json"), &json))
            .and_then(|_| std::fs::write(dir.join("cluster.html"), html));
        if let Err(e) = written {
            eprintln!("error: cannot write into `{}`: {e}", dir.display());
            return EXIT_BAD_INPUT;
        }
    }
    if ask.json {
        print!("{json}");
    } else {
        print!("{}", report.summary(&ask.file.display().to_string()));
    }
    if report.jobs.iter().all(|j| j.status == "finished") {
        0
    } else {
        EXIT_JOB_FAILED
    }
}
