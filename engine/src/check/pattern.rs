//! `pattern`: a CEP pattern on a keyed stream (Flink's `CEP.pattern(keyedStream, pattern)`),
//! checked into the NFA of [`crate::flink::cep`] with one compiled condition per step.
//!
//! ```toml
//! [[operator]]
//! name = "alerts"
//! kind = "pattern"
//! input = "by_user"                 # a key_by
//! pattern = [
//!   { begin = "fails", where = "not success", times = 3 },
//!   { followed_by = "ok", where = "success" },   # or next = "…": strict contiguity
//! ]
//! within = "10 s"
//! skip = "skip_past_last_event"     # or "no_skip" (Flink's default)
//! side_output = "timeouts"          # timed-out partial matches
//! ```
//!
//! Output fields: the key (named as the key_by's field), `start_ts`, `end_ts`, `events`.

use super::checker::{Checker, NodeCheck, Upstream};
use super::key_by::key_column;
use crate::core::value::{Field, Schema, Type};
use crate::expr::{Compiled, Scope};
use crate::flink::cep::{Contiguity, PatternDef, SkipStrategy, Step};
use crate::scenario::raw::{RawOperator, RawStep};
use crate::scenario::{NodeKind, PatternSpec, ProcessFn, ProcessSpec};
use toml::Spanned;

/// A `pattern`, which must read a `key_by`.
pub fn check_pattern(ck: &mut Checker, o: &RawOperator, up: &Upstream<'_>) -> Option<NodeCheck> {
    let name = o.name.get_ref();
    let input = up.schemas[0];
    let Some(key) = up.key_of(0) else {
        ck.error(
            Some(up.refs[0].span.clone()),
            format!("pattern `{name}` must read a keyed stream (a key_by)"),
            "CEP matches the events of one key at a time",
        );
        return None;
    };
    let Some(raw) = &o.pattern else {
        ck.error(
            Some(o.name.span()),
            format!("pattern `{name}` needs `pattern`, a list of steps"),
            "pattern = [{ begin = \"fails\", where = \"not success\", times = 3 }]",
        );
        return None;
    };
    if raw.get_ref().is_empty() {
        ck.error(
            Some(raw.span()),
            format!("pattern `{name}` has no steps"),
            "",
        );
        return None;
    }
    let mut steps = Vec::new();
    let mut conditions = Vec::new();
    for (i, s) in raw.get_ref().iter().enumerate() {
        let (step, cond) = check_step(ck, s, i, input)?;
        steps.push(step);
        conditions.push(cond);
    }
    let within = match &o.within {
        Some(w) => {
            let d = ck.duration(w, "within")?;
            if d.is_zero() {
                ck.error(Some(w.span()), "`within` must be more than zero", "");
                return None;
            }
            Some(d.as_millis() as i64)
        }
        None => None,
    };
    let skip = match o.skip.as_ref().map(|s| (s.get_ref().as_str(), s.span())) {
        None | Some(("no_skip", _)) => SkipStrategy::NoSkip,
        Some(("skip_past_last_event", _)) => SkipStrategy::SkipPastLastEvent,
        Some((other, span)) => {
            let hint = if ["skip_to_next", "skip_to_first", "skip_to_last"].contains(&other) {
                format!("`{other}` is a Flink strategy streamlab does not model; ")
            } else {
                String::new()
            };
            ck.error(
                Some(span),
                format!("unknown after-match skip strategy `{other}`"),
                format!("{hint}known: no_skip (Flink's default), skip_past_last_event"),
            );
            return None;
        }
    };
    if o.side_output.is_some() && within.is_none() {
        ck.error(
            o.side_output.as_ref().map(|s| s.span()),
            format!(
                "pattern `{name}` has a side_output for timed-out partial matches but no `within`"
            ),
            "only a pattern with `within` times out: within = \"10 s\"",
        );
        return None;
    }
    let schema = Schema {
        fields: vec![
            key_column(key, input),
            int("start_ts"),
            int("end_ts"),
            int("events"),
        ],
    };
    let spec = PatternSpec {
        def: PatternDef {
            steps,
            within,
            skip,
        },
        conditions,
        timeouts_to_side: o.side_output.is_some(),
    };
    let spec = ProcessSpec {
        key: key.clone(),
        function: ProcessFn::Pattern(Box::new(spec)),
    };
    NodeCheck::ok(NodeKind::Process(Box::new(spec)), schema)
}

fn int(name: &str) -> Field {
    Field {
        name: name.into(),
        ty: Type::Int,
    }
}

/// One step: its name and contiguity, its condition, its quantifier.
fn check_step(
    ck: &mut Checker,
    s: &Spanned<RawStep>,
    i: usize,
    input: &Schema,
) -> Option<(Step, crate::scenario::ExprSrc)> {
    let r = s.get_ref();
    let not_modelled = [
        (
            "followed_by_any",
            r.followed_by_any.as_ref().map(|v| v.span()),
        ),
        ("one_or_more", r.one_or_more.as_ref().map(|v| v.span())),
        ("optional", r.optional.as_ref().map(|v| v.span())),
    ];
    if let Some((k, span)) = not_modelled
        .into_iter()
        .find_map(|(k, v)| v.map(|v| (k, v)))
    {
        ck.error(
            Some(span),
            format!("`{k}` is a Flink CEP feature streamlab does not model yet"),
            "supported: begin, next, followed_by, where, times, consecutive (see docs/cep.md)",
        );
        return None;
    }
    let named: Vec<(&str, &Spanned<String>)> = [
        ("begin", r.begin.as_ref()),
        ("next", r.next.as_ref()),
        ("followed_by", r.followed_by.as_ref()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let [(how, step_name)] = named[..] else {
        ck.error(
            Some(s.span()),
            "a step names itself with exactly one of begin, next, followed_by",
            "{ begin = \"fails\", where = \"not success\" }",
        );
        return None;
    };
    let contiguity = match (i, how) {
        (0, "begin") => Contiguity::Relaxed,
        (0, _) => {
            ck.error(
                Some(step_name.span()),
                format!("the first step must be `begin`, not `{how}`"),
                "",
            );
            return None;
        }
        (_, "begin") => {
            ck.error(
                Some(step_name.span()),
                "only the first step is `begin`; later ones are `next` or `followed_by`",
                "",
            );
            return None;
        }
        (_, "next") => Contiguity::Strict,
        _ => Contiguity::Relaxed,
    };
    let Some(w) = &r.where_ else {
        ck.error(
            Some(s.span()),
            format!("step `{}` needs a `where` condition", step_name.get_ref()),
            "where = \"temperature > 30\"",
        );
        return None;
    };
    let cond = ck.compile(w, |t| {
        Compiled::typed(
            t,
            &Scope::Record(input),
            Type::Bool,
            "a pattern step's `where`",
        )
    })?;
    let times = match &r.times {
        None => 1,
        Some(t) if (1..=1000).contains(t.get_ref()) => *t.get_ref() as u32,
        Some(t) => {
            ck.error(Some(t.span()), "`times` must be between 1 and 1000", "");
            return None;
        }
    };
    let consecutive = r.consecutive.as_ref().is_some_and(|c| *c.get_ref());
    if consecutive && times == 1 {
        ck.error(
            r.consecutive.as_ref().map(|c| c.span()),
            "`consecutive` applies to a step with `times` above 1",
            "",
        );
        return None;
    }
    let step = Step {
        name: step_name.get_ref().clone(),
        contiguity,
        times,
        inner: if consecutive {
            Contiguity::Strict
        } else {
            Contiguity::Relaxed
        },
    };
    Some((step, cond))
}

#[cfg(test)]
mod tests {
    use crate::check::parse_str;

    fn errors(op: &str) -> String {
        let text = format!(
            "[[source]]\nname = \"a\"\nkind = \"inline\"\ntimestamp = \"t\"\nevents = [{{ user = 1, t = 5, ok = true }}]\nwatermarks = {{ strategy = \"monotonous\" }}\n[[operator]]\nname = \"by\"\nkind = \"key_by\"\ninput = \"a\"\nkey = \"user\"\n[[operator]]\nname = \"p\"\nkind = \"pattern\"\n{op}\n[[sink]]\nname = \"out\"\ninput = \"p\"\n"
        );
        match parse_str("t.toml", &text, None) {
            Ok(s) => {
                assert_eq!(
                    s.nodes[2].schema.to_string(),
                    "(user: int, start_ts: int, end_ts: int, events: int)"
                );
                String::new()
            }
            Err(d) => d.to_string(),
        }
    }

    #[test]
    fn a_pattern_reads_a_keyed_stream_and_outputs_key_start_end_events() {
        let e = errors("input = \"a\"\npattern = [{ begin = \"f\", where = \"not ok\" }]");
        assert!(e.contains("pattern `p` must read a keyed stream"), "{e}");
        assert_eq!(
            errors(
                "input = \"by\"\npattern = [{ begin = \"f\", where = \"not ok\", times = 3 }, { next = \"s\", where = \"ok\" }]\nwithin = \"10 s\"\nskip = \"skip_past_last_event\""
            ),
            ""
        );
    }

    #[test]
    fn steps_are_checked() {
        let e = errors("input = \"by\"\npattern = [{ next = \"f\", where = \"not ok\" }]");
        assert!(e.contains("the first step must be `begin`"), "{e}");
        let e = errors("input = \"by\"\npattern = [{ begin = \"f\", where = \"t\" }]");
        assert!(e.contains("a pattern step's `where`"), "{e}");
        let e = errors(
            "input = \"by\"\npattern = [{ begin = \"f\", where = \"ok\", one_or_more = true }]",
        );
        assert!(
            e.contains("`one_or_more` is a Flink CEP feature streamlab does not model"),
            "{e}"
        );
        let e = errors(
            "input = \"by\"\npattern = [{ begin = \"f\", where = \"ok\" }]\nskip = \"skip_to_next\"",
        );
        assert!(
            e.contains("unknown after-match skip strategy `skip_to_next`"),
            "{e}"
        );
        let e = errors(
            "input = \"by\"\npattern = [{ begin = \"f\", where = \"ok\" }]\nside_output = \"late\"",
        );
        assert!(e.contains("but no `within`"), "{e}");
    }
}
