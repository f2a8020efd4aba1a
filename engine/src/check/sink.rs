//! `[[sink]]` tables: what a sink does with the records it reads and when they become visible.

use super::checker::{Checker, NodeCheck};
use crate::core::value::Schema;
use crate::expr::{Compiled, Scope};
use crate::scenario::raw::RawSink;
use crate::scenario::{Guarantee, NodeKind, SinkSpec};

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
                Guarantee::ExactlyOnce
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
    NodeCheck::ok(NodeKind::Sink(spec, guarantee), input.clone())
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
}
