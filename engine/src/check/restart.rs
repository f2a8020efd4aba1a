//! `[restart]`: the restart strategy and the failover strategy, resolved against the defaults
//! of the Flink version named by `flink_version` (`RestartStrategyOptions`; the defaults of
//! exponential-delay restarts changed in Flink 1.19).

use super::checker::Checker;
use crate::core::time::SimDuration;
use crate::scenario::raw::RawRestart;
use crate::scenario::{Failover, RestartConfig, RestartStrategy};
use toml::Spanned as TSpanned;

/// `[restart]`; without a strategy, Flink's default for the job: none without checkpoints,
/// else fixed-delay (≤ 1.18) or exponential-delay (1.19+).
pub fn restart(
    ck: &mut Checker,
    raw: Option<&TSpanned<RawRestart>>,
    checkpointing: bool,
) -> RestartConfig {
    let r = raw.map(|r| r.get_ref());
    let version = flink_version(ck, r);
    let old = version == "1.18";
    let failover = match r.and_then(|r| r.failover.as_ref()) {
        None => Failover::Region,
        Some(f) => match f.get_ref().as_str() {
            "region" => Failover::Region,
            "full" => Failover::Full,
            other => {
                ck.error(
                    Some(f.span()),
                    format!("unknown failover strategy `{other}`"),
                    "expected region or full",
                );
                Failover::Region
            }
        },
    };
    let named = r.and_then(|r| r.strategy.as_ref());
    let strategy = match (named, r) {
        (None, _) if !checkpointing => RestartStrategy::None,
        (None, _) if old => RestartStrategy::FixedDelay {
            attempts: None,
            delay: crate::core::defaults::restart::FIXED_DELAY_DELAY,
        },
        (None, _) => Exponential::defaults(false).strategy(),
        (Some(n), Some(r)) => {
            let name = n.get_ref().to_ascii_lowercase().replace('_', "-");
            match name.as_str() {
                "none" | "off" | "disable" => RestartStrategy::None,
                "fixed-delay" | "fixeddelay" => fixed_delay(ck, r, n),
                "failure-rate" | "failurerate" => failure_rate(ck, r),
                "exponential-delay" | "exponentialdelay" => exponential_delay(ck, r, old),
                other => {
                    ck.error(
                        Some(n.span()),
                        format!("unknown restart strategy `{other}`"),
                        "expected none, fixed-delay, failure-rate or exponential-delay",
                    );
                    RestartStrategy::None
                }
            }
        }
        (Some(_), None) => RestartStrategy::None,
    };
    RestartConfig {
        strategy,
        explicit: named.is_some(),
        failover,
        flink_version: version,
    }
}

/// "1.18" or "1.19+": the versions whose restart defaults differ.
fn flink_version(ck: &mut Checker, r: Option<&RawRestart>) -> String {
    match r.and_then(|r| r.flink_version.as_ref()) {
        None => "1.19+".to_string(),
        Some(v) => match v.get_ref().trim() {
            "1.18" | "1.17" | "1.16" | "1.15" => "1.18".into(),
            t if t.starts_with("1.19") || t.starts_with("1.2") || t.starts_with('2') => {
                "1.19+".into()
            }
            other => {
                ck.error(
                    Some(v.span()),
                    format!("unknown Flink version `{other}`"),
                    "the restart defaults differ between \"1.18\" and \"1.19\" (and later)",
                );
                "1.19+".into()
            }
        },
    }
}

/// A duration option, or its default (also when it is malformed: that was reported).
fn duration_or(
    ck: &mut Checker,
    v: &Option<TSpanned<String>>,
    what: &str,
    default: SimDuration,
) -> SimDuration {
    v.as_ref()
        .and_then(|v| ck.duration(v, what))
        .unwrap_or(default)
}

/// `fixed-delay`: one attempt by default (a negative number: unlimited), 1 s apart.
fn fixed_delay(ck: &mut Checker, r: &RawRestart, name: &TSpanned<String>) -> RestartStrategy {
    let attempts = match &r.attempts {
        Some(a) if *a.get_ref() < 0 => None,
        Some(a) if *a.get_ref() == 0 => Some(0),
        Some(a) => ck.count(a, "restart.attempts", i64::from(u32::MAX)),
        None => Some(crate::core::defaults::restart::FIXED_DELAY_ATTEMPTS),
    };
    let delay = duration_or(
        ck,
        &r.delay,
        "restart.delay",
        crate::core::defaults::restart::FIXED_DELAY_DELAY,
    );
    if delay.is_zero() && attempts.is_none() {
        ck.warn(
            r.delay.as_ref().map(|d| d.span()).or(Some(name.span())),
            "fixed-delay restarts with 0 delay and unlimited attempts: a job that keeps failing restarts in a tight loop forever",
            "give a delay or a number of attempts",
        );
    }
    RestartStrategy::FixedDelay { attempts, delay }
}

/// `failure-rate`: one failure per minute, restarts 1 s apart, by default.
fn failure_rate(ck: &mut Checker, r: &RawRestart) -> RestartStrategy {
    let max_failures = r
        .max_failures
        .as_ref()
        .and_then(|m| ck.count(m, "restart.max_failures", i64::from(u32::MAX)))
        .unwrap_or(crate::core::defaults::restart::FAILURE_RATE_MAX_FAILURES);
    let interval = duration_or(
        ck,
        &r.interval,
        "restart.interval",
        crate::core::defaults::restart::FAILURE_RATE_INTERVAL,
    );
    let delay = duration_or(
        ck,
        &r.delay,
        "restart.delay",
        crate::core::defaults::restart::FAILURE_RATE_DELAY,
    );
    RestartStrategy::FailureRate {
        max_failures,
        interval,
        delay,
    }
}

/// `exponential-delay`, each option defaulting to the Flink version's.
fn exponential_delay(ck: &mut Checker, r: &RawRestart, old: bool) -> RestartStrategy {
    let d = Exponential::defaults(old);
    let initial_delay = duration_or(
        ck,
        &r.initial_delay,
        "restart.initial_delay",
        d.initial_delay,
    );
    let max_delay = duration_or(ck, &r.max_delay, "restart.max_delay", d.max_delay);
    let reset_threshold = duration_or(
        ck,
        &r.reset_threshold,
        "restart.reset_threshold",
        d.reset_threshold,
    );
    let multiplier = match &r.multiplier {
        Some(m) if m.get_ref().get() <= 1.0 => {
            ck.error(
                Some(m.span()),
                "restart.multiplier must be greater than 1",
                "",
            );
            d.multiplier
        }
        Some(m) => m.get_ref().get(),
        None => d.multiplier,
    };
    let jitter = match &r.jitter {
        Some(j) if !(0.0..=1.0).contains(&j.get_ref().get()) => {
            ck.error(Some(j.span()), "restart.jitter must be between 0 and 1", "");
            d.jitter
        }
        Some(j) => j.get_ref().get(),
        None => d.jitter,
    };
    Exponential {
        initial_delay,
        max_delay,
        multiplier,
        reset_threshold,
        jitter,
    }
    .strategy()
}

/// The settings of an exponential-delay restart strategy.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Exponential {
    initial_delay: SimDuration,
    max_delay: SimDuration,
    multiplier: f64,
    reset_threshold: SimDuration,
    jitter: f64,
}

impl Exponential {
    /// The Flink ≥ 1.19 (or ≤ 1.18) defaults.
    fn defaults(old: bool) -> Exponential {
        Exponential {
            initial_delay: crate::core::defaults::restart::EXPONENTIAL_INITIAL_BACKOFF,
            max_delay: if old {
                crate::core::defaults::restart::EXPONENTIAL_MAX_BACKOFF_1_18
            } else {
                crate::core::defaults::restart::EXPONENTIAL_MAX_BACKOFF
            },
            multiplier: if old {
                crate::core::defaults::restart::EXPONENTIAL_MULTIPLIER_1_18
            } else {
                crate::core::defaults::restart::EXPONENTIAL_MULTIPLIER
            },
            reset_threshold: crate::core::defaults::restart::EXPONENTIAL_RESET_THRESHOLD,
            jitter: crate::core::defaults::restart::EXPONENTIAL_JITTER,
        }
    }

    fn strategy(self) -> RestartStrategy {
        RestartStrategy::ExponentialDelay {
            initial_delay: self.initial_delay,
            max_delay: self.max_delay,
            multiplier: self.multiplier,
            reset_threshold: self.reset_threshold,
            jitter: self.jitter,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::parse_str;

    #[test]
    fn exponential_defaults_changed_in_flink_1_19() {
        let new = Exponential::defaults(false);
        assert_eq!(
            (new.max_delay, new.multiplier),
            (SimDuration::from_secs(60), 1.5)
        );
        let old = Exponential::defaults(true);
        assert_eq!(
            (old.max_delay, old.multiplier),
            (SimDuration::from_secs(300), 2.0)
        );
    }

    fn restart_of(head: &str) -> Result<RestartConfig, String> {
        let text = format!(
            "{head}\n[[source]]\nname = \"a\"\nkind = \"generator\"\ncount = 10\nfields.k = {{ kind = \"sequence\" }}\n[[sink]]\nname = \"out\"\ninput = \"a\"\n"
        );
        parse_str("t.toml", &text, None)
            .map(|s| s.fault_tolerance.restart)
            .map_err(|d| d.to_string())
    }

    #[test]
    fn the_default_strategy_follows_checkpointing_and_the_flink_version() {
        assert_eq!(restart_of("").unwrap().strategy, RestartStrategy::None);
        let cp = "[checkpointing]\ninterval = \"1 s\"";
        assert_eq!(
            restart_of(cp).unwrap().strategy,
            Exponential::defaults(false).strategy()
        );
        let r = restart_of(&format!("{cp}\n[restart]\nflink_version = \"1.18\"")).unwrap();
        assert_eq!(
            r.strategy,
            RestartStrategy::FixedDelay {
                attempts: None,
                delay: SimDuration::from_secs(1)
            }
        );
    }

    #[test]
    fn options_are_checked() {
        let e = restart_of(
            "[restart]\nstrategy = \"exponential-delay\"\nmultiplier = 1.0\njitter = 2.0",
        )
        .unwrap_err();
        assert!(
            e.contains("restart.multiplier must be greater than 1"),
            "{e}"
        );
        assert!(e.contains("restart.jitter must be between 0 and 1"), "{e}");
        let e = restart_of("[restart]\nstrategy = \"sometimes\"").unwrap_err();
        assert!(e.contains("unknown restart strategy `sometimes`"), "{e}");
        let r = restart_of("[restart]\nstrategy = \"failure_rate\"\nmax_failures = 3").unwrap();
        assert_eq!(
            r.strategy,
            RestartStrategy::FailureRate {
                max_failures: 3,
                interval: SimDuration::from_secs(60),
                delay: SimDuration::from_secs(1)
            }
        );
    }
}
