//! `pattern`: a CEP pattern on a keyed stream (Flink's `CEP.pattern(keyedStream, pattern)`),
//! checked into the NFA of [`crate::flink::cep`] with one compiled condition per step (and
//! one per `until`, after them), then validated with the rules of Flink's `Pattern` API and
//! `NFACompiler` ([`crate::flink::cep::PatternDef::validate`]).
//!
//! ```toml
//! [[operator]]
//! name = "alerts"
//! kind = "pattern"
//! input = "by_user"                 # a key_by
//! pattern = [
//!   { begin = "fails", where = "not success", times = 3 },   # or times = [2, 4],
//!   #   one_or_more = true, times_or_more = 2, optional, greedy, until = "…",
//!   #   consecutive, allow_combinations
//!   { followed_by = "ok", where = "success" },   # or next, followed_by_any, not_next,
//!                                                #   not_followed_by
//! ]
//! within = "10 s"
//! skip = "skip_past_last_event"     # or no_skip (Flink's default), skip_to_next,
//!                                   #   skip_to_first(step), skip_to_last(step)
//! side_output = "timeouts"          # timed-out partial matches, or:
//! # late_output = "late"            # late events (sideOutputLateData)
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
    let mut untils = Vec::new();
    for (i, s) in raw.get_ref().iter().enumerate() {
        let (mut step, cond, until) = check_step(ck, s, i, input)?;
        if let Some(u) = until {
            step.until = Some(raw.get_ref().len() + untils.len());
            untils.push(u);
        }
        steps.push(step);
        conditions.push(cond);
    }
    conditions.extend(untils);
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
    let skip = match &o.skip {
        None => SkipStrategy::NoSkip,
        Some(s) => match parse_skip(s.get_ref(), &steps) {
            Ok(skip) => skip,
            Err(msg) => {
                ck.error(
                    Some(s.span()),
                    msg,
                    "known: no_skip (Flink's default), skip_to_next, skip_past_last_event, skip_to_first(step), skip_to_last(step)",
                );
                return None;
            }
        },
    };
    if o.side_output.is_some() && o.late_output.is_some() {
        ck.error(
            o.late_output.as_ref().map(|s| s.span()),
            format!("pattern `{name}` has both a side_output and a late_output"),
            "streamlab gives an operator one side output stream: timed-out partial matches (side_output) or late events (late_output)",
        );
        return None;
    }
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
    let def = PatternDef {
        steps,
        within,
        skip,
    };
    if let Err((step, msg)) = def.validate() {
        let span = match step {
            Some(i) => raw.get_ref()[i].span(),
            None => raw.span(),
        };
        ck.error(
            Some(span),
            format!("pattern `{name}`: {msg}"),
            "Flink's Pattern API and NFACompiler reject it; see docs/cep.md",
        );
        return None;
    }
    let spec = PatternSpec {
        def,
        conditions,
        timeouts_to_side: o.side_output.is_some(),
        late_to_side: o.late_output.is_some(),
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

/// A skip strategy as Flink names it: `no_skip`, `skip_to_next`, `skip_past_last_event`,
/// `skip_to_first(step)`, `skip_to_last(step)`.
fn parse_skip(s: &str, steps: &[Step]) -> Result<SkipStrategy, String> {
    let named = |inner: &str| -> Result<usize, String> {
        let n = inner.trim().trim_matches('"');
        steps.iter().position(|s| s.name == n).ok_or_else(|| {
            format!("The pattern name specified in AfterMatchSkipStrategy {n} does not exist in the pattern")
        })
    };
    let s = s.trim();
    match s {
        "no_skip" => return Ok(SkipStrategy::NoSkip),
        "skip_to_next" => return Ok(SkipStrategy::SkipToNext),
        "skip_past_last_event" => return Ok(SkipStrategy::SkipPastLastEvent),
        _ => {}
    }
    if let Some(inner) = s
        .strip_prefix("skip_to_first(")
        .and_then(|r| r.strip_suffix(')'))
    {
        return named(inner).map(SkipStrategy::SkipToFirst);
    }
    if let Some(inner) = s
        .strip_prefix("skip_to_last(")
        .and_then(|r| r.strip_suffix(')'))
    {
        return named(inner).map(SkipStrategy::SkipToLast);
    }
    Err(format!("unknown after-match skip strategy `{s}`"))
}

type CheckedStep = (
    Step,
    crate::scenario::ExprSrc,
    Option<crate::scenario::ExprSrc>,
);

/// One step: its name and contiguity, its condition, its quantifier (and `until`).
fn check_step(
    ck: &mut Checker,
    s: &Spanned<RawStep>,
    i: usize,
    input: &Schema,
) -> Option<CheckedStep> {
    let r = s.get_ref();
    let named: Vec<(&str, &Spanned<String>)> = [
        ("begin", r.begin.as_ref()),
        ("next", r.next.as_ref()),
        ("followed_by", r.followed_by.as_ref()),
        ("followed_by_any", r.followed_by_any.as_ref()),
        ("not_next", r.not_next.as_ref()),
        ("not_followed_by", r.not_followed_by.as_ref()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let [(how, step_name)] = named[..] else {
        ck.error(
            Some(s.span()),
            "a step names itself with exactly one of begin, next, followed_by, followed_by_any, not_next, not_followed_by",
            "{ begin = \"fails\", where = \"not success\" }",
        );
        return None;
    };
    let (contiguity, negated) = match (i, how) {
        (0, "begin") => (Contiguity::Relaxed, false),
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
                "only the first step is `begin`; later ones are `next`, `followed_by`, `followed_by_any`, `not_next` or `not_followed_by`",
                "",
            );
            return None;
        }
        (_, "next") => (Contiguity::Strict, false),
        (_, "followed_by_any") => (Contiguity::NonDeterministic, false),
        (_, "not_next") => (Contiguity::Strict, true),
        (_, "not_followed_by") => (Contiguity::Relaxed, true),
        _ => (Contiguity::Relaxed, false),
    };
    let Some(w) = &r.where_ else {
        ck.error(
            Some(s.span()),
            format!("step `{}` needs a `where` condition", step_name.get_ref()),
            "where = \"temperature > 30\"",
        );
        return None;
    };
    let compile = |ck: &mut Checker, w: &Spanned<String>, what: &'static str| {
        ck.compile(w, |t| {
            Compiled::typed(t, &Scope::Record(input), Type::Bool, what)
        })
    };
    let cond = compile(ck, w, "a pattern step's `where`")?;
    let until = match &r.until {
        Some(u) => Some(compile(ck, u, "a pattern step's `until`")?),
        None => None,
    };
    let flag = |f: &Option<Spanned<bool>>| f.as_ref().is_some_and(|c| *c.get_ref());
    let mut optional = flag(&r.optional);
    let looping = flag(&r.one_or_more) || r.times_or_more.is_some();
    let quantifiers = [
        r.times.is_some(),
        flag(&r.one_or_more),
        r.times_or_more.is_some(),
    ];
    if quantifiers.iter().filter(|q| **q).count() > 1 {
        ck.error(
            Some(s.span()),
            "a step takes one quantifier: times, one_or_more or times_or_more",
            "Flink: \"Already applied quantifier to this Pattern\"",
        );
        return None;
    }
    let bad_count = |ck: &mut Checker, span| {
        ck.error(
            Some(span),
            "`times` is a count from 1 to 1000, or a range [from, to] with 0 <= from <= to, 1 <= to <= 1000",
            "times = 3, or times = [2, 4]",
        );
    };
    let (times, max) = match &r.times {
        None if looping => {
            let n = r.times_or_more.as_ref().map_or(1, |t| *t.get_ref());
            if !(1..=1000).contains(&n) {
                bad_count(ck, r.times_or_more.as_ref().map_or(s.span(), |t| t.span()));
                return None;
            }
            (n as u32, None)
        }
        None => (1, Some(1)),
        Some(t) => {
            let ok = |v: &toml::Value| v.as_integer().filter(|n| (0..=1000).contains(n));
            match t.get_ref() {
                toml::Value::Integer(n) if (1..=1000).contains(n) => (*n as u32, Some(*n as u32)),
                toml::Value::Array(a) if a.len() == 2 => match (ok(&a[0]), ok(&a[1])) {
                    (Some(from), Some(to)) if from <= to && to >= 1 => {
                        // Flink's times(0, to): optional, from 1
                        if from == 0 {
                            optional = true;
                        }
                        (from.max(1) as u32, Some(to as u32))
                    }
                    _ => {
                        bad_count(ck, t.span());
                        return None;
                    }
                },
                _ => {
                    bad_count(ck, t.span());
                    return None;
                }
            }
        }
    };
    let consecutive = flag(&r.consecutive);
    let combinations = flag(&r.allow_combinations);
    if consecutive && combinations {
        ck.error(
            Some(s.span()),
            "`consecutive` and `allow_combinations` both set the contiguity inside a step: choose one",
            "",
        );
        return None;
    }
    if (consecutive || combinations) && max == Some(1) && times == 1 {
        let span = r
            .consecutive
            .as_ref()
            .or(r.allow_combinations.as_ref())
            .map(|c| c.span());
        ck.error(
            span,
            "`consecutive` and `allow_combinations` apply to a step with `times` above 1, a range or one_or_more",
            "",
        );
        return None;
    }
    let step = Step {
        name: step_name.get_ref().clone(),
        contiguity,
        negated,
        times,
        max,
        inner: if consecutive {
            Contiguity::Strict
        } else if combinations {
            Contiguity::NonDeterministic
        } else {
            Contiguity::Relaxed
        },
        optional,
        greedy: flag(&r.greedy),
        until: None,
    };
    Some((step, cond, until))
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
        assert_eq!(
            errors(
                "input = \"by\"\npattern = [{ begin = \"f\", where = \"ok\", one_or_more = true, greedy = true, until = \"not ok\" }, { followed_by_any = \"g\", where = \"ok\", times = [1, 2] }, { not_followed_by = \"h\", where = \"ok\" }]\nwithin = \"1 s\"\nskip = \"skip_to_last(f)\""
            ),
            ""
        );
        let e = errors(
            "input = \"by\"\npattern = [{ begin = \"f\", where = \"ok\", times = 2, until = \"ok\" }]",
        );
        assert!(
            e.contains("until condition is only applicable to looping"),
            "{e}"
        );
        let e = errors(
            "input = \"by\"\npattern = [{ begin = \"f\", where = \"ok\", optional = true }, { not_next = \"g\", where = \"ok\" }]",
        );
        assert!(e.contains("optional path to NOT condition"), "{e}");
        let e = errors(
            "input = \"by\"\npattern = [{ begin = \"f\", where = \"ok\" }, { not_followed_by = \"g\", where = \"ok\" }]",
        );
        assert!(
            e.contains("NotFollowedBy is not supported without windowTime"),
            "{e}"
        );
        let e = errors(
            "input = \"by\"\npattern = [{ begin = \"f\", where = \"ok\" }, { not_next = \"g\", where = \"ok\", optional = true }]",
        );
        assert!(e.contains("Option not applicable to NOT pattern"), "{e}");
        let e =
            errors("input = \"by\"\npattern = [{ begin = \"f\", where = \"ok\", times = [3, 2] }]");
        assert!(e.contains("a range [from, to]"), "{e}");
        let e = errors(
            "input = \"by\"\npattern = [{ begin = \"f\", where = \"ok\" }]\nskip = \"skip_to_first(x)\"",
        );
        assert!(e.contains("AfterMatchSkipStrategy x does not exist"), "{e}");
        let e = errors(
            "input = \"by\"\npattern = [{ begin = \"f\", where = \"ok\" }]\nskip = \"skip_to_nowhere\"",
        );
        assert!(
            e.contains("unknown after-match skip strategy `skip_to_nowhere`"),
            "{e}"
        );
        let e = errors(
            "input = \"by\"\npattern = [{ begin = \"f\", where = \"ok\" }]\nside_output = \"late\"",
        );
        assert!(e.contains("but no `within`"), "{e}");
    }
}
