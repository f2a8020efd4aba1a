//! `[[operator]]` tables: which kinds exist, which options each kind takes, how many inputs
//! it reads — then the kind's own check, one file each.

use super::checker::{Checker, NodeCheck, Upstream};
use super::{join, key_by, map, pattern, process, reduce, window};
use crate::expr::closest;
use crate::scenario::raw::RawOperator;
use std::ops::Range;

/// The operator kinds, as written in `kind = "…"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// `map`
    Map,
    /// `flat_map`
    FlatMap,
    /// `filter`
    Filter,
    /// `key_by`
    KeyBy,
    /// `reduce`
    Reduce,
    /// `window`
    Window,
    /// `union`
    Union,
    /// `co_map`
    CoMap,
    /// `window_join`
    WindowJoin,
    /// `interval_join`
    IntervalJoin,
    /// `join`: a regular inner equi-join (Flink SQL's `Join`), state kept forever
    Join,
    /// `process`
    Process,
    /// `pattern` (CEP)
    Pattern,
}

/// Every kind's name, for messages.
const KINDS: &str = "map, filter, flat_map, key_by, reduce, window, union, co_map, window_join, \
                     interval_join, join, process, pattern";

impl OpKind {
    /// The kind named `s`.
    pub fn parse(s: &str) -> Option<OpKind> {
        Some(match s {
            "map" => OpKind::Map,
            "flat_map" => OpKind::FlatMap,
            "filter" => OpKind::Filter,
            "key_by" => OpKind::KeyBy,
            "reduce" => OpKind::Reduce,
            "window" => OpKind::Window,
            "union" => OpKind::Union,
            "co_map" => OpKind::CoMap,
            "window_join" => OpKind::WindowJoin,
            "interval_join" => OpKind::IntervalJoin,
            "join" => OpKind::Join,
            "process" => OpKind::Process,
            "pattern" => OpKind::Pattern,
            _ => return None,
        })
    }

    /// The options of its own a kind takes (besides those of every node).
    pub fn options(self) -> &'static [&'static str] {
        match self {
            OpKind::Map | OpKind::FlatMap => &["select"],
            OpKind::Filter => &["where"],
            OpKind::KeyBy => &["key"],
            OpKind::Reduce => &["function", "field", "select"],
            OpKind::Window => &[
                "window",
                "time",
                "function",
                "field",
                "select",
                "allowed_lateness",
                "late_output",
                "trigger",
                "evictor",
                "as",
            ],
            OpKind::Union => &[],
            OpKind::CoMap => &["map1", "map2"],
            OpKind::WindowJoin => &["window", "select"],
            OpKind::IntervalJoin => &["lower", "upper", "select"],
            OpKind::Join => &["select"],
            OpKind::Process => &["function", "is_start", "timeout", "side_output"],
            OpKind::Pattern => &["pattern", "within", "skip", "side_output", "late_output"],
        }
    }

    /// Whether it reads exactly two streams.
    pub fn two_inputs(self) -> bool {
        matches!(
            self,
            OpKind::CoMap | OpKind::WindowJoin | OpKind::IntervalJoin | OpKind::Join
        )
    }
}

/// Checks an operator: its kind, options and number of inputs, then what the kind's own file
/// checks.
pub fn check_operator(ck: &mut Checker, o: &RawOperator, up: &Upstream<'_>) -> Option<NodeCheck> {
    let written = o.kind.get_ref().as_str();
    let name = o.name.get_ref();
    let Some(kind) = OpKind::parse(written) else {
        let mut msg = format!("unknown operator kind `{written}`");
        if let Some(s) = closest(written, &KINDS.split(", ").collect::<Vec<_>>()) {
            msg.push_str(&format!(" (did you mean `{s}`?)"));
        }
        ck.error(Some(o.kind.span()), msg, format!("expected one of {KINDS}"));
        return None;
    };
    let bad = foreign_options(ck, o, kind);
    let refs = up.refs;
    if kind.two_inputs() && refs.len() != 2 {
        ck.error(
            o.inputs.as_ref().map(|v| v.span()).or(Some(o.name.span())),
            format!("a {written} reads two streams: inputs = [\"first\", \"second\"], but `{name}` lists {}", refs.len()),
            "",
        );
        return None;
    }
    if kind != OpKind::Union && !kind.two_inputs() && refs.len() > 1 {
        ck.error(
            o.inputs.as_ref().map(|v| v.span()),
            format!(
                "a {written} reads one stream, but `{name}` lists {}",
                refs.len()
            ),
            "merge streams with a union first",
        );
        return None;
    }
    if bad {
        return None;
    }
    // No input at all (`input` left out, or `inputs = []`): reported when the inputs were
    // gathered; nothing more to check here.
    let &input = up.schemas.first()?;
    match kind {
        OpKind::Map | OpKind::FlatMap => map::check_map(ck, o, input, kind == OpKind::FlatMap),
        OpKind::Filter => map::check_filter(ck, o, input),
        OpKind::KeyBy => key_by::check_key_by(ck, o, input),
        OpKind::Union => key_by::check_union(ck, o, up),
        OpKind::Reduce => reduce::check_reduce(ck, o, up),
        OpKind::Process => process::check_process(ck, o, up),
        OpKind::Pattern => pattern::check_pattern(ck, o, up),
        OpKind::CoMap => join::check_co_map(ck, o, up),
        OpKind::WindowJoin | OpKind::IntervalJoin | OpKind::Join => join::check_join(ck, o, up),
        OpKind::Window => window::check_window(ck, o, up),
    }
}

/// Reports every option written that the kind does not take; whether there was one.
fn foreign_options(ck: &mut Checker, o: &RawOperator, kind: OpKind) -> bool {
    let written = o.kind.get_ref().as_str();
    let allowed = kind.options();
    let given: [(&str, Option<Range<usize>>); 23] = [
        ("pattern", o.pattern.as_ref().map(|v| v.span())),
        ("within", o.within.as_ref().map(|v| v.span())),
        ("skip", o.skip.as_ref().map(|v| v.span())),
        ("side_output", o.side_output.as_ref().map(|v| v.span())),
        ("is_start", o.is_start.as_ref().map(|v| v.span())),
        ("timeout", o.timeout.as_ref().map(|v| v.span())),
        ("map1", o.map1.as_ref().map(|v| v.span())),
        ("map2", o.map2.as_ref().map(|v| v.span())),
        ("lower", o.lower.as_ref().map(|v| v.span())),
        ("upper", o.upper.as_ref().map(|v| v.span())),
        ("select", o.select.as_ref().map(|v| v.span())),
        ("where", o.where_.as_ref().map(|v| v.span())),
        ("key", o.key.as_ref().map(|v| v.span())),
        ("function", o.function.as_ref().map(|v| v.span())),
        ("field", o.field.as_ref().map(|v| v.span())),
        ("window", o.window.as_ref().map(|v| v.span())),
        ("time", o.time.as_ref().map(|v| v.span())),
        (
            "allowed_lateness",
            o.allowed_lateness.as_ref().map(|v| v.span()),
        ),
        ("late_output", o.late_output.as_ref().map(|v| v.span())),
        ("trigger", o.trigger.as_ref().map(|v| v.span())),
        ("evictor", o.evictor.as_ref().map(|v| v.span())),
        ("as", o.as_.as_ref().map(|v| v.span())),
        ("inputs", None),
    ];
    let mut bad = false;
    for (key, span) in given {
        if let Some(span) = span
            && !allowed.contains(&key)
        {
            let takes = if allowed.is_empty() {
                "no options of its own".to_string()
            } else {
                allowed.join(", ")
            };
            ck.error(
                Some(span),
                format!("`{key}` is not an option of a {written}"),
                format!("a {written} takes {takes}"),
            );
            bad = true;
        }
    }
    bad
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing;

    fn errors(op: &str) -> String {
        let text = format!(
            "[[source]]\nname = \"a\"\nkind = \"generator\"\ncount = 10\nfields.k = {{ kind = \"sequence\" }}\n[[operator]]\nname = \"m\"\ninput = \"a\"\n{op}\n[[sink]]\nname = \"out\"\ninput = \"m\"\n"
        );
        testing::errors(&text)
    }

    #[test]
    fn every_kind_parses_and_takes_its_options() {
        for k in KINDS.split(", ") {
            let kind = OpKind::parse(k).unwrap();
            assert_eq!(kind.two_inputs(), k.contains("join") || k == "co_map");
        }
        assert_eq!(OpKind::parse("mapp"), None);
    }

    #[test]
    fn unknown_kinds_and_foreign_options_are_named() {
        let e = errors("kind = \"mapp\"");
        assert!(
            e.contains("unknown operator kind `mapp` (did you mean `map`?)"),
            "{e}"
        );
        let e = errors("kind = \"filter\"\nwhere = \"k > 1\"\nkey = \"k\"");
        assert!(e.contains("`key` is not an option of a filter"), "{e}");
        assert!(e.contains("a filter takes where"), "{e}");
        let e = errors("kind = \"co_map\"\nmap1 = { k = \"k\" }\nmap2 = { k = \"k\" }");
        assert!(e.contains("a co_map reads two streams"), "{e}");
    }
}
