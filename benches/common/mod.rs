//! What the benches share: a bundled-style scenario run without trace, and the median of a
//! few timed repetitions (for the ratios printed after Criterion's groups, measured side by
//! side in one run).

use std::time::{Duration, Instant};
use streamlab_engine::oracle;
use streamlab_engine::plan;
use streamlab_engine::scenario::Scenario;
use streamlab_engine::sim::RunOptions;

/// Runs the scenario (no trace, no checks); returns the records the sinks received.
pub fn run(s: &Scenario, p: &plan::Plan) -> u64 {
    let out = oracle::run(s, p, RunOptions::default()).expect("no trace, no I/O");
    out.report.sink_records
}

/// The median wall time of `reps` runs of `f`.
pub fn median_time(reps: usize, f: &dyn Fn()) -> Duration {
    let mut v: Vec<Duration> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    v.sort();
    v[v.len() / 2]
}
