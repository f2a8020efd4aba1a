//! Shrinking a failing fault list to a small one that still fails: delta debugging (Zeller and
//! Hildebrandt's ddmin) over the list, then simpler times — each fault earlier (a binary
//! search over whole seconds), each duration rounded to whole seconds and halved — as long as
//! the run still fails. Every candidate is one deterministic run; [`Shrinker::steps`] counts
//! them, and a budget bounds them.
//!
//! Where the algorithm tries candidates in a row until the first that still fails (ddmin's
//! parts and complements, the round times), it tries as many at once as the rayon pool has
//! threads and keeps the first in order that fails: the result and the steps counted are
//! those of trying them one by one, on any number of cores.

use rayon::prelude::*;

use streamlab_engine::core::time::{SimDuration, SimTime};
use streamlab_engine::scenario::{Fault, FaultKind, FaultTime};

/// Runs at most this many candidates.
pub const BUDGET: usize = 400;

const SECOND: u64 = 1_000_000_000;
const MILLI: u64 = 1_000_000;

/// Whether the run with a fault list still shows the violation (called from several threads).
pub type Test<'a> = dyn Fn(&[Fault]) -> bool + Sync + 'a;

/// A shrinking session around a test that says whether a fault list still fails.
pub struct Shrinker<'a> {
    test: &'a Test<'a>,
    /// Candidates run so far.
    pub steps: usize,
    budget: usize,
}

impl<'a> Shrinker<'a> {
    /// `test(faults)`: true when the run with `faults` still shows the violation.
    pub fn new(test: &'a Test<'a>, budget: usize) -> Self {
        Shrinker {
            test,
            steps: 0,
            budget,
        }
    }

    /// Whether the budget ran out.
    pub fn exhausted(&self) -> bool {
        self.steps >= self.budget
    }

    fn fails(&mut self, faults: &[Fault]) -> bool {
        if self.exhausted() {
            return false;
        }
        self.steps += 1;
        (self.test)(faults)
    }

    /// The first of `candidates` that still fails, as trying them one by one in order would
    /// find it within the budget (and the steps counted so); tried as many at a time as the
    /// current rayon pool has threads.
    fn first_failing(&mut self, candidates: &[Vec<Fault>]) -> Option<usize> {
        let wave = rayon::current_num_threads().max(1);
        let test = self.test;
        let mut start = 0;
        while start < candidates.len() && !self.exhausted() {
            let end = candidates
                .len()
                .min(start + wave.min(self.budget - self.steps));
            let failed: Vec<bool> = candidates[start..end].par_iter().map(|c| test(c)).collect();
            if let Some(k) = failed.iter().position(|&f| f) {
                self.steps += k + 1;
                return Some(start + k);
            }
            self.steps += end - start;
            start = end;
        }
        None
    }

    /// The failing `faults` shrunk: fewer faults (ddmin), then simpler times.
    pub fn shrink(&mut self, faults: Vec<Fault>) -> Vec<Fault> {
        let mut list = self.ddmin(faults);
        for i in 0..list.len() {
            self.simplify(&mut list, i);
        }
        list
    }

    /// ddmin: split the list into `n` parts; keep a part that fails alone, else a complement
    /// that fails; else split finer, until single faults.
    fn ddmin(&mut self, mut list: Vec<Fault>) -> Vec<Fault> {
        let mut n = 2;
        while list.len() >= 2 && !self.exhausted() {
            let chunks = split(list.len(), n);
            let mut reduced = false;
            let parts: Vec<Vec<Fault>> = chunks.iter().map(|r| list[r.clone()].to_vec()).collect();
            if let Some(k) = self.first_failing(&parts) {
                list = parts[k].clone();
                n = 2;
                reduced = true;
            }
            if !reduced && n > 2 {
                let rests: Vec<Vec<Fault>> = chunks
                    .iter()
                    .map(|r| {
                        list[..r.start]
                            .iter()
                            .chain(&list[r.end..])
                            .cloned()
                            .collect()
                    })
                    .collect();
                if let Some(k) = self.first_failing(&rests) {
                    list = rests[k].clone();
                    n = (n - 1).max(2);
                    reduced = true;
                }
            }
            if !reduced {
                if n >= list.len() {
                    break;
                }
                n = (2 * n).min(list.len());
            }
        }
        list
    }

    /// Simpler times for fault `i`: its time in whole seconds (else tenths, else milliseconds)
    /// and, in whole seconds, as early as it still fails;
    /// its durations in whole seconds and halved while it still fails.
    fn simplify(&mut self, list: &mut [Fault], i: usize) {
        if let FaultTime::At(t) = list[i].at {
            let mut at = t.as_nanos();
            // the roundest time near it that still fails: whole seconds, tenths, milliseconds
            // (tried in this order, until the time itself)
            let mut rounder = Vec::new();
            'round: for unit in [SECOND, SECOND / 10, MILLI] {
                let floor = at / unit * unit;
                for c in [floor, floor + unit] {
                    if c == at {
                        break 'round;
                    }
                    if c > 0 {
                        rounder.push(c);
                    }
                }
            }
            let moved: Vec<Vec<Fault>> = rounder
                .iter()
                .map(|&c| {
                    let mut l = list.to_vec();
                    l[i].at = FaultTime::At(SimTime::from_nanos(c));
                    l
                })
                .collect();
            if let Some(k) = self.first_failing(&moved) {
                at = rounder[k];
                list[i].at = FaultTime::At(SimTime::from_nanos(at));
            }
            if at.is_multiple_of(SECOND) {
                // binary search for the earliest whole second that still fails
                let (mut lo, mut hi) = (0, at / SECOND);
                while hi - lo > 1 && !self.exhausted() {
                    let mid = (lo + hi) / 2;
                    if self.try_at(list, i, mid * SECOND) {
                        hi = mid;
                    } else {
                        lo = mid;
                    }
                }
            }
        }
        for d in 0..durations(&list[i].kind).len() {
            let mut v = durations(&list[i].kind)[d];
            if v >= SECOND
                && !v.is_multiple_of(SECOND)
                && self.try_duration(list, i, d, v / SECOND * SECOND)
            {
                v = v / SECOND * SECOND;
            }
            while v / 2 >= MILLI && self.try_duration(list, i, d, v / 2 / MILLI * MILLI) {
                v = v / 2 / MILLI * MILLI;
            }
        }
    }

    /// Moves fault `i` to `at` nanoseconds if the run still fails then.
    fn try_at(&mut self, list: &mut [Fault], i: usize, at: u64) -> bool {
        let old = list[i].at;
        list[i].at = FaultTime::At(SimTime::from_nanos(at));
        let ok = self.fails(list);
        if !ok {
            list[i].at = old;
        }
        ok
    }

    /// Sets duration `d` of fault `i` to `v` nanoseconds if the run still fails then.
    fn try_duration(&mut self, list: &mut [Fault], i: usize, d: usize, v: u64) -> bool {
        let old = list[i].kind.clone();
        set_duration(&mut list[i].kind, d, SimDuration::from_nanos(v));
        let ok = self.fails(list);
        if !ok {
            list[i].kind = old;
        }
        ok
    }
}

/// `len` items in `n` contiguous parts (the first `len % n` one longer).
fn split(len: usize, n: usize) -> Vec<std::ops::Range<usize>> {
    let n = n.min(len).max(1);
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    for k in 0..n {
        let size = len / n + usize::from(k < len % n);
        out.push(start..start + size);
        start += size;
    }
    out
}

/// The durations of a fault, in nanoseconds, in a fixed order.
fn durations(k: &FaultKind) -> Vec<u64> {
    match k {
        FaultKind::KillTaskManager {
            replacement_delay, ..
        } => vec![replacement_delay.as_nanos()],
        FaultKind::NetworkDelay {
            extra, duration, ..
        } => vec![duration.as_nanos(), extra.as_nanos()],
        FaultKind::NetworkPartition { duration, .. }
        | FaultKind::Straggler { duration, .. }
        | FaultKind::StorageFailure { duration } => vec![duration.as_nanos()],
        FaultKind::KillSubtask { .. } | FaultKind::JobManager { .. } => Vec::new(),
    }
}

fn set_duration(k: &mut FaultKind, d: usize, v: SimDuration) {
    match (k, d) {
        (
            FaultKind::KillTaskManager {
                replacement_delay, ..
            },
            0,
        ) => *replacement_delay = v,
        (FaultKind::NetworkDelay { duration, .. }, 0) => *duration = v,
        (FaultKind::NetworkDelay { extra, .. }, 1) => *extra = v,
        (
            FaultKind::NetworkPartition { duration, .. }
            | FaultKind::Straggler { duration, .. }
            | FaultKind::StorageFailure { duration },
            0,
        ) => *duration = v,
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kill(node: usize, at_ms: u64) -> Fault {
        Fault {
            at: FaultTime::At(SimTime::from_millis(at_ms)),
            kind: FaultKind::KillSubtask { node, subtask: 0 },
            span: 0..0,
        }
    }

    fn at_ms(f: &Fault) -> u64 {
        match f.at {
            FaultTime::At(t) => t.as_nanos() / MILLI,
            FaultTime::After(..) => panic!(),
        }
    }

    #[test]
    fn parts_cover_the_list_in_order() {
        assert_eq!(split(5, 2), vec![0..3, 3..5]);
        assert_eq!(split(3, 3), vec![0..1, 1..2, 2..3]);
        assert_eq!(split(2, 8), vec![0..1, 1..2]);
    }

    /// The run fails when operator 3 is killed at 2.5 s or later: the shrunk list is that one
    /// fault, at the first whole second that still fails.
    #[test]
    fn one_culprit_among_many_is_found_and_moved_as_early_as_it_still_fails() {
        let list: Vec<Fault> = (0..7).map(|n| kill(n, 1_000 + 3_717 * n as u64)).collect();
        let test = |f: &[Fault]| {
            f.iter()
                .any(|x| x.kind == kill(3, 0).kind && at_ms(x) >= 2_500)
        };
        let mut s = Shrinker::new(&test, BUDGET);
        let out = s.shrink(list);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].kind, kill(3, 0).kind);
        assert_eq!(at_ms(&out[0]), 3_000);
        assert!(s.steps > 3 && s.steps < 40, "{} steps", s.steps);
    }

    /// Two faults needed together (a kill of 1 and of 5): ddmin keeps both.
    #[test]
    fn two_faults_that_fail_only_together_both_stay() {
        let list: Vec<Fault> = (0..8).map(|n| kill(n, 10_000 * (n as u64 + 1))).collect();
        let test = |f: &[Fault]| {
            let has = |n: usize| f.iter().any(|x| x.kind == kill(n, 0).kind);
            has(1) && has(5)
        };
        let mut s = Shrinker::new(&test, BUDGET);
        let out = s.shrink(list);
        let mut nodes: Vec<usize> = out
            .iter()
            .map(|f| match f.kind {
                FaultKind::KillSubtask { node, .. } => node,
                _ => panic!(),
            })
            .collect();
        nodes.sort();
        assert_eq!(nodes, vec![1, 5]);
        // no time constraint: both move to the first second
        assert!(out.iter().all(|f| at_ms(f) == 1_000), "{out:?}");
    }

    #[test]
    fn durations_are_rounded_and_halved_while_the_run_still_fails() {
        let f = Fault {
            at: FaultTime::At(SimTime::from_millis(4_000)),
            kind: FaultKind::StorageFailure {
                duration: SimDuration::from_millis(3_456),
            },
            span: 0..0,
        };
        // fails while the outage lasts at least 700 ms
        let test = |l: &[Fault]| {
            l.iter().any(|x| {
                matches!(x.kind, FaultKind::StorageFailure { duration } if duration.as_nanos() >= 700 * MILLI)
            })
        };
        let mut s = Shrinker::new(&test, BUDGET);
        let out = s.shrink(vec![f]);
        assert_eq!(
            out[0].kind,
            FaultKind::StorageFailure {
                duration: SimDuration::from_millis(750)
            }
        );
    }

    #[test]
    fn the_budget_bounds_the_runs() {
        let list: Vec<Fault> = (0..30).map(|n| kill(n, 1_000 * (n as u64 + 1))).collect();
        let test = |f: &[Fault]| f.len() > 20;
        let mut s = Shrinker::new(&test, 10);
        let _ = s.shrink(list);
        assert_eq!(s.steps, 10);
        assert!(s.exhausted());
    }

    /// Candidates tried side by side: the shrunk list and the steps counted are those of
    /// trying them one by one (one thread), for culprits found early, late and never, and
    /// with the budget running out inside a wave.
    #[test]
    fn many_threads_shrink_to_the_same_list_in_the_same_steps_as_one() {
        let list: Vec<Fault> = (0..13).map(|n| kill(n, 700 + 2_341 * n as u64)).collect();
        let culprits: [&Test<'_>; 4] = [
            &|f: &[Fault]| {
                f.iter()
                    .any(|x| x.kind == kill(11, 0).kind && at_ms(x) >= 9_250)
            },
            &|f: &[Fault]| {
                let has = |n: usize| f.iter().any(|x| x.kind == kill(n, 0).kind);
                has(0) && has(7) && has(12)
            },
            &|f: &[Fault]| f.len() >= 5,
            &|_: &[Fault]| false,
        ];
        for (c, test) in culprits.iter().enumerate() {
            for budget in [BUDGET, 7, 12] {
                let shrink = |threads: usize| {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .unwrap();
                    pool.install(|| {
                        let mut s = Shrinker::new(*test, budget);
                        let out = s.shrink(list.clone());
                        (out, s.steps)
                    })
                };
                let one = shrink(1);
                for threads in [2, 3, 8] {
                    assert_eq!(
                        shrink(threads),
                        one,
                        "culprit {c}, budget {budget}, {threads} threads"
                    );
                }
            }
        }
    }
}
