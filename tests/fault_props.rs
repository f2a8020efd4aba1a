//! Property tests of fault tolerance, in the style of TigerBeetle's VOPR: a random job from a
//! family (a generated source; a keyed rolling count or sum, or keyed tumbling event-time
//! windows; an exactly-once and an at-least-once sink), random pacing, parallelism and
//! cluster, a random checkpoint interval (aligned, unaligned, or aligned with a timeout), and a
//! random fault profile. Faults strike during the input; after the last one the job runs on to
//! its end. The engine runs every scenario twice itself — with the faults and, as the
//! reference, without — and, in these (debug) builds, with its in-run invariant checkers on.
//!
//! **Swarm testing**: every case first draws which fault kinds may strike at all — a random
//! non-empty subset of the kinds — and then its faults from that subset only, so some cases
//! are all TaskManager losses, some all network partitions and stragglers, and rare mixes are
//! as likely as common ones.
//!
//! 1. `exactly_once_matches_the_reference_and_at_least_once_loses_nothing`: one to three
//!    scripted subtask kills or TaskManager losses (kinds from a subset of the two); the
//!    two-phase commit sink's committed output equals the fault-free run (0 duplicates, 0
//!    missing); the at-least-once sink misses nothing; the job finishes.
//! 2. `without_checkpoints_and_restarts_the_job_fails_with_flinks_message`: the same jobs
//!    without checkpointing (so Flink's default: no restart) fail with "Recovery is
//!    suppressed by NoRestartBackoffTimeStrategy".
//! 3. `chaos_profiles_keep_exactly_once`: the same jobs under a random `[chaos]` profile whose
//!    kinds are a random subset of every kind (crashes, TaskManager losses, JobManager
//!    failover, network delays and partitions, stragglers, storage failures) finish with the
//!    exactly-once sink equal to the fault-free run and nothing missing at the at-least-once
//!    sink; every drawn fault is of a drawn kind.
//! 4. `same_seed_same_trace`: two runs with the same seed give the same trace hash.
//!
//! **No property passes without checking something**: each case asserts that its comparison
//! had rows to compare (the sinks received records and were compared with the reference), and
//! each property counts the cases where a fault actually struck (a failure was recovered, or
//! a fault was drawn) and fails if fewer than half of them did.
//!
//! A rolling sum from a single source subtask is compared row by row. From several (shape 3)
//! the order in which a key's records arrive is a race and the intermediate sums differ after
//! a replay (in Flink too): the sinks are then compared by their final value per key, which
//! must equal the fault-free run's, and nothing may be called a duplicate or missing.
//!
//! Cases per property: 12, or `PROPTEST_CASES`. A failure shows the shrunk input and the
//! scenario text (its `seed` line is the seed to replay with `streamlab run FILE`).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::cell::Cell;
use streamlab_engine::check;
use streamlab_engine::oracle;
use streamlab_engine::report::{SinkReport, Status};
use streamlab_engine::scenario;
use streamlab_engine::scenario::chaos::ChaosKind;
use streamlab_engine::scenario::recovery::FaultKind;
use streamlab_engine::sim::{self, RunOptions};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12)
}

#[derive(Debug, Clone)]
struct Job {
    seed: u64,
    rate: u32,
    secs: u32,
    keys: u32,
    parallelism: u32,
    task_managers: u32,
    interval_ms: u32,
    /// 0: rolling count, 1: rolling sum from one source subtask, 2: tumbling windows,
    /// 3: rolling sum from every source subtask (compared by final value per key).
    shape: u8,
    /// (kind: 0 subtask kill / 1 TaskManager loss, at ms, which, replacement delay ms), the
    /// kinds from the case's non-empty subset of the two (swarm testing).
    faults: Vec<(u8, u32, u32, u32)>,
    /// Barriers: 0 aligned, 1 unaligned, 2 aligned switching to unaligned after 50 ms.
    barriers: u8,
}

fn job() -> impl Strategy<Value = Job> {
    (
        0u64..1_000_000,
        200u32..3000,
        4u32..10,
        1u32..40,
        1u32..4,
        1u32..4,
        200u32..3000,
        0u8..4,
        proptest::collection::vec((0u8..2, 0u32..1000, 0u32..8, 0u32..3000), 1..4),
        0u8..3,
        1u8..4,
    )
        .prop_map(
            |(
                seed,
                rate,
                secs,
                keys,
                parallelism,
                task_managers,
                interval_ms,
                shape,
                faults,
                barriers,
                swarm,
            )| {
                // swarm: bit 0 allows subtask kills, bit 1 TaskManager losses; a kind
                // outside the case's subset becomes the other one
                let faults = faults
                    .into_iter()
                    .map(|(k, at, which, replace)| {
                        let k = if swarm & (1 << k) != 0 { k } else { 1 - k };
                        (k, at, which, replace)
                    })
                    .collect();
                Job {
                    seed,
                    rate,
                    secs,
                    keys,
                    parallelism,
                    task_managers,
                    interval_ms,
                    shape,
                    faults,
                    barriers,
                }
            },
        )
}

/// A random non-empty subset of every fault kind a chaos profile can draw.
fn chaos_kinds() -> impl Strategy<Value = Vec<ChaosKind>> {
    let n = ChaosKind::ALL.len();
    (1u32..(1 << n)).prop_map(move |mask| {
        (0..n)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| ChaosKind::ALL[i])
            .collect()
    })
}

/// The chaos kind a drawn fault is of.
fn chaos_kind(k: &FaultKind) -> ChaosKind {
    match k {
        FaultKind::KillSubtask { .. } => ChaosKind::KillSubtask,
        FaultKind::KillTaskManager { .. } => ChaosKind::KillTaskManager,
        FaultKind::JobManager { .. } => ChaosKind::JobManager,
        FaultKind::NetworkDelay { .. } => ChaosKind::NetworkDelay,
        FaultKind::NetworkPartition { .. } => ChaosKind::NetworkPartition,
        FaultKind::Straggler { .. } => ChaosKind::Straggler,
        FaultKind::StorageFailure { .. } => ChaosKind::StorageFailure,
    }
}

impl Job {
    /// A rolling sum's outputs depend on the order in which a key's records arrive; from
    /// several source subtasks that order is a race, in Flink as here, so no run — faulty
    /// or not — reproduces another's intermediate sums. Counts and window results do not
    /// depend on it. Rolling sums therefore read from one source subtask.
    fn source_parallelism(&self) -> u32 {
        if self.shape == 1 { 1 } else { self.parallelism }
    }

    fn toml(&self, checkpoints: bool) -> String {
        let slots = self.parallelism.div_ceil(self.task_managers);
        let mut t = format!(
            "name = \"vopr\"\nseed = {}\n[cluster]\ntask_managers = {}\nslots_per_task_manager = {slots}\n\
             [job]\nparallelism = {}\n",
            self.seed, self.task_managers, self.parallelism
        );
        if checkpoints {
            let barriers = match self.barriers {
                1 => "unaligned = true\n",
                2 => "unaligned = true\naligned_timeout = \"50 ms\"\n",
                _ => "",
            };
            t += &format!(
                "[checkpointing]\ninterval = \"{} ms\"\n{barriers}[restart]\nstrategy = \"fixed-delay\"\nattempts = -1\ndelay = \"500 ms\"\n",
                self.interval_ms
            );
        }
        let input_ms = self.secs * 1000;
        for (kind, at, which, replace) in &self.faults {
            // strike while the input still runs
            let at = 200 + at * (input_ms - 400) / 1000;
            if *kind == 0 {
                let (op, par) = if which % 2 == 0 {
                    ("agg", self.parallelism)
                } else {
                    ("events", self.source_parallelism())
                };
                t += &format!(
                    "[[fault]]\nkind = \"kill_subtask\"\noperator = \"{op}\"\nsubtask = {}\nat = \"{at} ms\"\n",
                    which % par
                );
            } else {
                t += &format!(
                    "[[fault]]\nkind = \"kill_task_manager\"\ntask_manager = {}\nat = \"{at} ms\"\nreplacement_delay = \"{replace} ms\"\n",
                    which % self.task_managers
                );
            }
        }
        t += &format!(
            "[[source]]\nname = \"events\"\nkind = \"generator\"\nparallelism = {}\nrate = {}\nduration = \"{} s\"\n\
             fields.key = {{ kind = \"key\", count = {} }}\nfields.value = {{ kind = \"uniform\", min = 1, max = 9 }}\n\
             delay = {{ distribution = \"uniform\", min = \"0 ms\", max = \"300 ms\" }}\n\
             watermarks = {{ strategy = \"bounded\", max_out_of_orderness = \"300 ms\" }}\n\
             [[operator]]\nname = \"by_key\"\nkind = \"key_by\"\ninput = \"events\"\nkey = \"key\"\n",
            self.source_parallelism(),
            self.rate,
            self.secs,
            self.keys
        );
        t += match self.shape {
            0 => {
                "[[operator]]\nname = \"agg\"\nkind = \"reduce\"\ninput = \"by_key\"\nfunction = \"count\"\n"
            }
            1 | 3 => {
                "[[operator]]\nname = \"agg\"\nkind = \"reduce\"\ninput = \"by_key\"\nfunction = \"sum\"\nfield = \"value\"\n"
            }
            _ => {
                "[[operator]]\nname = \"agg\"\nkind = \"window\"\ninput = \"by_key\"\nwindow = { type = \"tumbling\", size = \"1 s\" }\nfunction = \"sum\"\nfield = \"value\"\n"
            }
        };
        let eo = if checkpoints {
            "guarantee = \"exactly_once\"\n"
        } else {
            ""
        };
        t += &format!(
            "[[sink]]\nname = \"eo\"\ninput = \"agg\"\n{eo}[[sink]]\nname = \"alo\"\ninput = \"agg\"\nguarantee = \"at_least_once\"\n"
        );
        t
    }
}

fn run(text: &str, hash: bool) -> sim::RunOutput {
    let s = check::parse_str("vopr.toml", text, None)
        .unwrap_or_else(|d| panic!("{}\n{text}", d.render()));
    let p = streamlab_engine::plan::plan(&s).unwrap_or_else(|e| panic!("{e}\n{text}"));
    oracle::run(
        &s,
        &p,
        RunOptions {
            hash_trace: hash,
            ..Default::default()
        },
    )
    .expect("no I/O")
}

/// The exactly-once sink equals the fault-free run and the at-least-once sink misses
/// nothing: row by row, or — a rolling sum from several subtasks — by final value per key.
fn guarantee_held(j: &Job, eo: &SinkReport, alo: &SinkReport) -> bool {
    if j.shape == 3 && j.source_parallelism() > 1 {
        [eo, alo].iter().all(|s| {
            s.compared_by.as_deref() == Some("final value per key")
                && s.differing == Some(0)
                && s.duplicates.is_none()
                && s.missing.is_none()
        })
    } else {
        (eo.duplicates, eo.missing) == (Some(0), Some(0)) && alo.missing == Some(0)
    }
}

/// The two sinks of a finished run, after checking that the comparison with the reference
/// had something to compare: both sinks received records and were compared.
fn compared_sinks<'a>(
    r: &'a streamlab_engine::report::RunReport,
    text: &str,
) -> Result<(&'a SinkReport, &'a SinkReport), TestCaseError> {
    let sink = |name: &str| r.sinks.iter().find(|s| s.name == name);
    let (Some(eo), Some(alo)) = (sink("eo"), sink("alo")) else {
        return Err(TestCaseError::fail(format!("a sink is missing\n{text}")));
    };
    for s in [eo, alo] {
        prop_assert!(
            s.records > 0,
            "sink {} received nothing to compare\n{}",
            s.name,
            text
        );
        prop_assert!(
            s.compared_by.is_some() || s.duplicates.is_some(),
            "sink {} was not compared with the reference: {:?}\n{}",
            s.name,
            s,
            text
        );
    }
    Ok((eo, alo))
}

/// Runs `test` on `cases()` inputs of `strategy`; `test` says whether its case was one where
/// a fault struck. Fails on the first failing case (shrunk), and when fewer than half of the
/// cases had a fault strike: a property must not pass without checking anything.
fn check<S: Strategy>(
    name: &str,
    strategy: S,
    test: impl Fn(S::Value) -> Result<bool, TestCaseError>,
) {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let tally = Cell::new((0u32, 0u32));
    let result = runner.run(&strategy, |v| {
        let struck = test(v)?;
        let (n, k) = tally.get();
        tally.set((n + 1, k + u32::from(struck)));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    let (n, struck) = tally.get();
    assert!(
        n >= cases() && struck * 2 >= n,
        "{name}: a fault struck in only {struck} of {n} cases: the property checked too little"
    );
}

#[test]
fn exactly_once_matches_the_reference_and_at_least_once_loses_nothing() {
    check("exactly-once", job(), |j| {
        let text = j.toml(true);
        let out = run(&text, false);
        let r = &out.report;
        prop_assert_eq!(
            &r.outcome.status,
            &Status::Finished,
            "{:?}\n{}",
            r.outcome.message,
            text
        );
        let (eo, alo) = compared_sinks(r, &text)?;
        prop_assert!(guarantee_held(&j, eo, alo), "{:?}\n{:?}\n{}", eo, alo, text);
        prop_assert_eq!(
            eo.uncommitted,
            0,
            "everything committed at the end\n{}",
            text
        );
        Ok(!r.failures.is_empty())
    });
}

#[test]
fn without_checkpoints_and_restarts_the_job_fails_with_flinks_message() {
    check("no restart", job(), |j| {
        let text = j.toml(false);
        let r = run(&text, false).report;
        // A fault that only hits finished or idle TaskManagers does not fail the job: such a
        // case checks nothing, and is counted as such.
        if r.failures.is_empty() {
            prop_assert_eq!(&r.outcome.status, &Status::Finished, "{}", text);
            return Ok(false);
        }
        prop_assert_eq!(&r.outcome.status, &Status::Failed, "{}", text);
        let msg = r.outcome.message.clone().unwrap_or_default();
        prop_assert!(
            msg.contains("Recovery is suppressed by NoRestartBackoffTimeStrategy"),
            "{}\n{}",
            msg,
            text
        );
        Ok(true)
    });
}

#[test]
fn chaos_profiles_keep_exactly_once() {
    let cases = (job(), chaos_kinds(), any::<u64>(), 1500u64..6000);
    check("chaos", cases, |(j, kinds, chaos_seed, mean_ms)| {
        // the job's own scripted faults replaced by a random profile of the drawn kinds; two
        // TaskManagers at least, so that network faults can be drawn
        let mut j = j;
        j.faults.clear();
        j.task_managers = j.task_managers.max(2);
        let text = j.toml(true);
        let mut s = check::parse_str("vopr.toml", &text, None)
            .unwrap_or_else(|d| panic!("{}\n{text}", d.render()));
        let profile = scenario::chaos::ChaosProfile {
            kinds: kinds.clone(),
            mean_interval: streamlab_engine::core::time::SimDuration::from_millis(mean_ms),
            min_stable: streamlab_engine::core::time::SimDuration::from_millis(1000),
            ..Default::default()
        };
        // a profile can draw no fault before the input ends: the next seeds are tried then
        let mut drawn = Vec::new();
        for i in 0..16 {
            drawn = scenario::chaos::draw(&s, &profile, chaos_seed.wrapping_add(i))
                .expect("bounded input");
            if !drawn.is_empty() {
                break;
            }
        }
        for f in &drawn {
            prop_assert!(
                kinds.contains(&chaos_kind(&f.kind)),
                "{:?} drawn outside the kinds {:?}",
                f.kind,
                kinds
            );
        }
        let shown: Vec<String> = drawn
            .iter()
            .map(|f| format!("{:?} {}", f.at, f.describe(&s)))
            .collect();
        let struck = !drawn.is_empty();
        s.fault_tolerance.faults.extend(drawn);
        s.fault_tolerance.record_output = true;
        let p = streamlab_engine::plan::plan(&s).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let r = oracle::run(&s, &p, RunOptions::default())
            .expect("no I/O")
            .report;
        prop_assert_eq!(
            &r.outcome.status,
            &Status::Finished,
            "{:?}\n{:?}\n{}",
            r.outcome.message,
            shown,
            text
        );
        let (eo, alo) = compared_sinks(&r, &text)?;
        prop_assert!(
            guarantee_held(&j, eo, alo),
            "{:?}\n{:?}\n{:?}\n{}",
            eo,
            alo,
            shown,
            text
        );
        Ok(struck)
    });
}

#[test]
fn same_seed_same_trace() {
    check("same trace", job(), |j| {
        let text = j.toml(true);
        let a = run(&text, true);
        let b = run(&text, true);
        prop_assert!(
            a.trace_hash.is_some() && a.trace_lines > 0,
            "nothing traced\n{}",
            text
        );
        prop_assert_eq!(a.trace_hash, b.trace_hash, "{}", text);
        prop_assert_eq!(a.trace_lines, b.trace_lines, "{}", text);
        Ok(!a.report.failures.is_empty())
    });
}
