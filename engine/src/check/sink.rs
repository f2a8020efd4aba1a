//! `[[sink]]` tables: what a sink does with the records it reads and when they become visible.

use super::checker::{Checker, NodeCheck};
use crate::core::value::Schema;
use crate::expr::{Compiled, Scope};
use crate::scenario::raw::RawSink;
use crate::scenario::{Guarantee, NodeKind, SinkSpec, TransactionTimeout};

/// A sink: `collect` (or `print`), `upsert` by a key, or `discard`; at-least-once or
/// exactly-once (two-phase commit, for collect sinks).
pub fn check_sink(ck: &mut Checker, k: &RawSink, input: &Schema) -> Option<NodeCheck> {
    let kind = k.kind.as_ref().map_or("collect", |s| s.get_ref().as_str());
    let capture = match &k.capture {
        Some(c) if *c.get_ref() < 0 => {
            ck.error(
                Some(c.span()),
                "capture must not be negative",
                "how many records the report keeps",
            );
            return None;
        }
        Some(c) => *c.get_ref() as usize,
        None => 20,
    };
    let spec = match kind {
        "collect" | "print" => {
            if let Some(key) = &k.key {
                ck.error(
                    Some(key.span()),
                    "a collect sink takes no `key`",
                    "use kind = \"upsert\" for a table by key",
                );
            }
            SinkSpec::Collect { capture }
        }
        "upsert" => {
            let Some(key) = &k.key else {
                ck.error(
                    Some(k.name.span()),
                    format!("upsert sink `{}` needs a `key`", k.name.get_ref()),
                    "key = \"word\"",
                );
                return None;
            };
            let key = ck.compile(key, |t| Compiled::expr(t, &Scope::Record(input)))?;
            SinkSpec::Upsert { key, capture }
        }
        "discard" => SinkSpec::Discard,
        other => {
            ck.error(
                k.kind.as_ref().map(|s| s.span()),
                format!("unknown sink kind `{other}`"),
                "expected one of collect, upsert, discard",
            );
            return None;
        }
    };
    let guarantee = match &k.guarantee {
        None => Guarantee::AtLeastOnce,
        Some(g) => match g.get_ref().to_ascii_lowercase().replace('-', "_").as_str() {
            "at_least_once" => Guarantee::AtLeastOnce,
            "exactly_once" | "two_phase_commit" => {
                if matches!(spec, SinkSpec::Upsert { .. }) {
                    ck.error(
                        Some(g.span()),
                        "an upsert sink is idempotent by key: it takes no guarantee",
                        "a replay overwrites rows with the same values; use kind = \"collect\" for a two-phase-commit sink",
                    );
                }
                Guarantee::ExactlyOnce(transaction_timeout(ck, k)?)
            }
            other => {
                ck.error(
                    Some(g.span()),
                    format!("unknown sink guarantee `{other}`"),
                    "expected at_least_once or exactly_once (two-phase commit)",
                );
                Guarantee::AtLeastOnce
            }
        },
    };
    if guarantee == Guarantee::AtLeastOnce
        && let Some(t) = k
            .transaction_timeout
            .as_ref()
            .or(k.transaction_max_timeout.as_ref())
    {
        ck.error(
            Some(t.span()),
            format!(
                "sink `{}` has no transactions: a transaction timeout belongs to a two-phase-commit sink",
                k.name.get_ref()
            ),
            "add guarantee = \"exactly_once\", or remove the timeout",
        );
    }
    NodeCheck::ok(NodeKind::Sink(spec, guarantee), input.clone())
}

/// `transaction_timeout` and `transaction_max_timeout` of a two-phase-commit sink. The broker
/// refuses a producer whose timeout is not positive or above its cap when the producer calls
/// `initTransactions` (Kafka's `InvalidTxnTimeoutException`), so Flink's `KafkaSink` fails
/// at start: an error here, with Kafka's message.
fn transaction_timeout(ck: &mut Checker, k: &RawSink) -> Option<TransactionTimeout> {
    let mut t = TransactionTimeout::default();
    if let Some(m) = &k.transaction_max_timeout {
        t.max_timeout = ck.duration(m, "transaction_max_timeout")?;
    }
    let Some(v) = &k.transaction_timeout else {
        return Some(t);
    };
    let timeout = ck.duration(v, "transaction_timeout")?;
    if timeout.is_zero() {
        ck.error(
            Some(v.span()),
            "transaction_timeout must be above 0",
            "Kafka's broker refuses a transaction timeout of 0 (InvalidTxnTimeoutException)",
        );
        return None;
    }
    if timeout > t.max_timeout {
        ck.error(
            Some(v.span()),
            format!(
                "sink `{}`: the transaction timeout is larger than the maximum value allowed by the broker (as configured by transaction.max.timeout.ms)",
                k.name.get_ref()
            ),
            format!(
                "Kafka's InvalidTxnTimeoutException at initTransactions: the job fails at start; transaction_timeout must be at most transaction_max_timeout ({}{})",
                t.max_timeout,
                if k.transaction_max_timeout.is_none() {
                    ", Kafka's default"
                } else {
                    ""
                }
            ),
        );
        return None;
    }
    t.timeout = Some(timeout);
    Some(t)
}

#[cfg(test)]
mod tests {
    use crate::check::testing;

    fn errors(sink: &str) -> String {
        let text = format!(
            "[checkpointing]\ninterval = \"1 s\"\n[[source]]\nname = \"a\"\nkind = \"inline\"\nevents = [{{ w = \"x\" }}]\n[[sink]]\nname = \"out\"\ninput = \"a\"\n{sink}\n"
        );
        testing::errors(&text)
    }

    #[test]
    fn sink_kinds_and_their_options() {
        assert_eq!(errors("kind = \"upsert\"\nkey = \"w\""), "");
        let e = errors("kind = \"upsert\"");
        assert!(e.contains("upsert sink `out` needs a `key`"), "{e}");
        let e = errors("key = \"w\"");
        assert!(e.contains("a collect sink takes no `key`"), "{e}");
        let e = errors("kind = \"table\"");
        assert!(e.contains("unknown sink kind `table`"), "{e}");
        let e = errors("capture = -1");
        assert!(e.contains("capture must not be negative"), "{e}");
    }

    #[test]
    fn guarantees() {
        assert_eq!(errors("guarantee = \"exactly-once\""), "");
        let e = errors("kind = \"upsert\"\nkey = \"w\"\nguarantee = \"exactly_once\"");
        assert!(
            e.contains("an upsert sink is idempotent by key: it takes no guarantee"),
            "{e}"
        );
        let e = errors("guarantee = \"maybe\"");
        assert!(e.contains("unknown sink guarantee `maybe`"), "{e}");
    }

    #[test]
    fn a_transaction_timeout_above_the_brokers_cap_fails_the_job_at_start() {
        let eo = "guarantee = \"exactly_once\"\n";
        assert_eq!(errors(&format!("{eo}transaction_timeout = \"15 min\"")), "");
        // Flink's KafkaSink default (1 h) against Kafka's default cap (15 min)
        let e = errors(&format!("{eo}transaction_timeout = \"1 h\""));
        assert!(
            e.contains("sink `out`: the transaction timeout is larger than the maximum value allowed by the broker (as configured by transaction.max.timeout.ms)"),
            "{e}"
        );
        assert!(
            e.contains("at most transaction_max_timeout (15 min, Kafka's default)"),
            "{e}"
        );
        let raised =
            format!("{eo}transaction_timeout = \"1 h\"\ntransaction_max_timeout = \"2 h\"");
        assert_eq!(errors(&raised), "");
        let e = errors(&format!("{eo}transaction_timeout = \"0 s\""));
        assert!(e.contains("transaction_timeout must be above 0"), "{e}");
        let e = errors("transaction_timeout = \"1 min\"");
        assert!(e.contains("sink `out` has no transactions"), "{e}");
    }
}
