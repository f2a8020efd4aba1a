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

/// Two jobs timed in pairs, one right after the other (which goes first alternates), `reps`
/// pairs: the median time of each and the median of the pairs' ratios `b / a`. On a shared
/// machine whose load drifts, a ratio of two runs seconds apart is steadier than a ratio of
/// medians taken a minute apart; the median of the ratios is what the summaries print.
pub struct Paired {
    /// Median time of `a`.
    pub a: Duration,
    /// Median time of `b`.
    pub b: Duration,
    /// Median of the per-pair ratios `b / a`.
    pub ratio: f64,
}

/// Times `a` and `b` in `reps` interleaved pairs (see [`Paired`]).
pub fn paired(reps: usize, a: &dyn Fn(), b: &dyn Fn()) -> Paired {
    let timed = |f: &dyn Fn()| {
        let t = Instant::now();
        f();
        t.elapsed()
    };
    let (mut ta, mut tb, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for rep in 0..reps {
        let (x, y) = if rep % 2 == 0 {
            let x = timed(a);
            (x, timed(b))
        } else {
            let y = timed(b);
            (timed(a), y)
        };
        ratios.push(y.as_secs_f64() / x.as_secs_f64());
        ta.push(x);
        tb.push(y);
    }
    ta.sort();
    tb.sort();
    ratios.sort_by(f64::total_cmp);
    Paired {
        a: ta[reps / 2],
        b: tb[reps / 2],
        ratio: ratios[reps / 2],
    }
}

/// The median wall time of `reps` runs of `f`.
#[allow(dead_code)] // (each bench compiles this module; `workloads` times everything in pairs)
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
