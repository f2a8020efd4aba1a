//! Generator sources: random records drawn from the seed — keys (uniform or Zipf), uniform
//! numbers, sequences, one of some values, constants — with an event-time delay.

use super::checker::Checker;
use super::rows::{lit_of, lit_type};
use super::watermarks;
use crate::core::value::{Field, Schema, Type};
use crate::scenario::raw::{RawDelay, RawGenField, RawSource, f64Like};
use crate::scenario::{Delay, GenField, Lit, Skew, SourceData, SourceSpec, Timestamps};
use serde::Deserialize;
use std::ops::Range;
use std::sync::Arc;
use toml::Spanned as TSpanned;

/// A generator source: `count` or `duration` (with a `rate`), one generator per field, an
/// event-time delay; its records are stamped with their birth time minus the delay.
pub fn generator(
    ck: &mut Checker,
    s: &RawSource,
    rate: Option<f64>,
    name: &str,
) -> Option<(SourceSpec, Schema)> {
    let count = match &s.count {
        Some(c) if *c.get_ref() < 1 => {
            ck.error(Some(c.span()), "count must be at least 1", "");
            return None;
        }
        Some(c) => Some(*c.get_ref() as u64),
        None => None,
    };
    let duration = match &s.duration {
        Some(d) => Some(ck.duration(d, "duration")?),
        None => None,
    };
    if count.is_none() && duration.is_none() {
        ck.error(
            Some(s.name.span()),
            format!("generator `{name}` needs `count` or `duration`"),
            "an endless source would never let the job finish",
        );
        return None;
    }
    if duration.is_some() && rate.is_none() && count.is_none() {
        ck.error(
            Some(s.name.span()),
            format!("generator `{name}` has a `duration` but no `rate`"),
            "without a rate it produces as fast as it can; give a rate or a count",
        );
        return None;
    }
    let Some(fields_raw) = &s.fields else {
        ck.error(
            Some(s.name.span()),
            format!("generator `{name}` needs `fields`"),
            "fields = { user = { kind = \"key\", count = 100 } }",
        );
        return None;
    };
    let mut fields = Vec::new();
    let mut gens = Vec::new();
    for (fname, v) in fields_raw.get_ref() {
        let raw = match RawGenField::deserialize(v.get_ref().clone()) {
            Ok(r) => r,
            Err(e) => {
                ck.error(Some(v.span()), format!("field `{fname}`: {}", e.message().trim()), "e.g. { kind = \"key\", count = 1000 } or { kind = \"uniform\", min = 1, max = 100 }");
                continue;
            }
        };
        if let Some((g, ty)) = gen_field(ck, fname, &raw, v.span()) {
            fields.push(Field {
                name: fname.as_str().into(),
                ty,
            });
            gens.push(g);
        }
    }
    if fields_raw.get_ref().is_empty() {
        ck.error(
            Some(fields_raw.span()),
            format!("generator `{name}` has no fields"),
            "",
        );
        return None;
    }
    let delay = match &s.delay {
        None => Delay::None,
        Some(d) => delay(ck, d)?,
    };
    if gens.len() != fields_raw.get_ref().len() {
        return None;
    }
    let wm = watermarks::watermarks(ck, s, Timestamps::Generated)?;
    Some((
        SourceSpec {
            rate,
            data: SourceData::Generator {
                count,
                duration,
                fields: gens,
                delay,
            },
            timestamps: Timestamps::Generated,
            watermarks: wm,
        },
        Schema { fields },
    ))
}

/// One generated field, for messages: its name, its generator kind, where it is written.
struct GenCx<'a> {
    fname: &'a str,
    kind: &'a str,
    span: Range<usize>,
}

impl GenCx<'_> {
    fn err(&self, ck: &mut Checker, msg: String, label: &str) {
        ck.error(
            Some(self.span.clone()),
            format!("field `{}`: {msg}", self.fname),
            label,
        );
    }

    /// Reports `key` as not an option of this kind when `present`; gives `present`.
    fn reject(&self, ck: &mut Checker, present: bool, key: &str) -> bool {
        if present {
            ck.error(
                Some(self.span.clone()),
                format!(
                    "field `{}`: `{key}` is not an option of kind `{}`",
                    self.fname, self.kind
                ),
                "",
            );
        }
        present
    }
}

/// A generated field's generator and type.
fn gen_field(
    ck: &mut Checker,
    fname: &str,
    raw: &RawGenField,
    span: Range<usize>,
) -> Option<(GenField, Type)> {
    let f = GenCx {
        fname,
        kind: raw.kind.as_str(),
        span,
    };
    match raw.kind.as_str() {
        "key" => key(ck, &f, raw),
        "uniform" => uniform(ck, &f, raw),
        "sequence" => sequence(ck, &f, raw),
        "one_of" => one_of(ck, &f, raw),
        "constant" => constant(ck, &f, raw),
        other => {
            f.err(
                ck,
                format!("unknown generator kind `{other}`"),
                "expected one of key, uniform, sequence, one_of, constant",
            );
            None
        }
    }
}

/// `key`: one of `count` distinct keys, uniform or Zipf-skewed, integers or prefixed strings.
fn key(ck: &mut Checker, f: &GenCx<'_>, raw: &RawGenField) -> Option<(GenField, Type)> {
    if f.reject(ck, raw.min.is_some() || raw.max.is_some(), "min/max")
        | f.reject(ck, raw.values.is_some() || raw.value.is_some(), "value(s)")
    {
        return None;
    }
    let count = match raw.count {
        Some(c) if (1..=100_000_000).contains(&c) => c as u64,
        Some(c) => {
            f.err(
                ck,
                format!("count must be between 1 and 100000000, found {c}"),
                "",
            );
            return None;
        }
        None => {
            f.err(
                ck,
                "a key needs `count`, the number of distinct keys".into(),
                "{ kind = \"key\", count = 1000 }",
            );
            return None;
        }
    };
    let skew = match raw.skew.as_deref() {
        None | Some("uniform") => {
            if raw.exponent.is_some() {
                f.err(ck, "`exponent` only applies to skew = \"zipf\"".into(), "");
                return None;
            }
            Skew::Uniform
        }
        Some("zipf") => {
            let e = raw.exponent.map_or(1.0, f64Like::get);
            if !(e > 0.0 && e.is_finite()) {
                f.err(
                    ck,
                    format!("the Zipf exponent must be positive, found {e}"),
                    "1.0 is classic Zipf; larger is more skewed",
                );
                return None;
            }
            Skew::Zipf(e)
        }
        Some(other) => {
            f.err(
                ck,
                format!("unknown skew `{other}`"),
                "expected uniform or zipf",
            );
            return None;
        }
    };
    let prefix: Option<Arc<str>> = raw.prefix.as_deref().map(Into::into);
    let ty = if prefix.is_some() {
        Type::String
    } else {
        Type::Int
    };
    Some((
        GenField::Key {
            count,
            skew,
            prefix,
        },
        ty,
    ))
}

/// `uniform`: an integer in `[min, max]`, or a float in `[min, max)` when either is a float.
fn uniform(ck: &mut Checker, f: &GenCx<'_>, raw: &RawGenField) -> Option<(GenField, Type)> {
    if f.reject(
        ck,
        raw.count.is_some() || raw.values.is_some() || raw.value.is_some(),
        "count/value(s)",
    ) {
        return None;
    }
    let (Some(min), Some(max)) = (&raw.min, &raw.max) else {
        f.err(
            ck,
            "uniform needs `min` and `max`".into(),
            "{ kind = \"uniform\", min = 1, max = 100 }",
        );
        return None;
    };
    let num = |v: &toml::Value| v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
    match (min, max) {
        (toml::Value::Integer(a), toml::Value::Integer(b)) if a <= b => {
            Some((GenField::IntRange(*a, *b), Type::Int))
        }
        (a, b) => match (num(a), num(b)) {
            (Some(fa), Some(fb)) if fa <= fb && !(a.is_integer() && b.is_integer()) => {
                Some((GenField::FloatRange(fa, fb), Type::Float))
            }
            (Some(fa), Some(fb)) => {
                f.err(ck, format!("min {fa} is above max {fb}"), "");
                None
            }
            _ => {
                f.err(ck, "min and max must be numbers".into(), "");
                None
            }
        },
    }
}

/// `sequence`: 0, 1, 2, … (it takes no options).
fn sequence(ck: &mut Checker, f: &GenCx<'_>, raw: &RawGenField) -> Option<(GenField, Type)> {
    if f.reject(
        ck,
        raw.count.is_some()
            || raw.min.is_some()
            || raw.max.is_some()
            || raw.values.is_some()
            || raw.value.is_some(),
        "options",
    ) {
        return None;
    }
    Some((GenField::Sequence, Type::Int))
}

/// `one_of`: one of the listed values, all of one type.
fn one_of(ck: &mut Checker, f: &GenCx<'_>, raw: &RawGenField) -> Option<(GenField, Type)> {
    let Some(values) = &raw.values else {
        f.err(
            ck,
            "one_of needs `values`".into(),
            "values = [\"de\", \"fr\"]",
        );
        return None;
    };
    let lits: Option<Vec<Lit>> = values.iter().map(lit_of).collect();
    let Some(lits) = lits.filter(|l| !l.is_empty()) else {
        f.err(
            ck,
            "values must be a non-empty list of numbers, strings or booleans".into(),
            "",
        );
        return None;
    };
    let ty = lit_type(&lits[0]);
    if lits.iter().any(|l| lit_type(l) != ty) {
        f.err(ck, "all values must have one type".into(), "");
        return None;
    }
    Some((GenField::OneOf(lits), ty))
}

/// `constant`: always the same value.
fn constant(ck: &mut Checker, f: &GenCx<'_>, raw: &RawGenField) -> Option<(GenField, Type)> {
    let Some(v) = raw.value.as_ref().and_then(lit_of) else {
        f.err(
            ck,
            "constant needs a `value` (a number, a string or a boolean)".into(),
            "value = 1",
        );
        return None;
    };
    let ty = lit_type(&v);
    Some((GenField::Constant(v), ty))
}

/// The event-time delay distribution of generated records.
fn delay(ck: &mut Checker, d: &TSpanned<RawDelay>) -> Option<Delay> {
    let r = d.get_ref();
    let need = |ck: &mut Checker,
                v: &Option<TSpanned<String>>,
                key: &str|
     -> Option<crate::core::time::SimDuration> {
        match v {
            Some(v) => ck.duration(v, &format!("delay.{key}")),
            None => {
                ck.error(
                    Some(d.span()),
                    format!(
                        "delay distribution `{}` needs `{key}`",
                        r.distribution.get_ref()
                    ),
                    "",
                );
                None
            }
        }
    };
    Some(match r.distribution.get_ref().as_str() {
        "none" => Delay::None,
        "fixed" => Delay::Fixed(need(ck, &r.value, "value")?),
        "uniform" => {
            let min = match &r.min {
                Some(m) => ck.duration(m, "delay.min")?,
                None => crate::core::time::SimDuration::ZERO,
            };
            let max = need(ck, &r.max, "max")?;
            if min > max {
                ck.error(Some(d.span()), "delay.min is above delay.max", "");
                return None;
            }
            Delay::Uniform(min, max)
        }
        "exponential" => Delay::Exponential(need(ck, &r.mean, "mean")?),
        other => {
            ck.error(
                Some(r.distribution.span()),
                format!("unknown delay distribution `{other}`"),
                "expected one of none, fixed, uniform, exponential",
            );
            return None;
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::check::parse_str;

    fn errors(src: &str) -> String {
        let text = format!(
            "[[source]]\nname = \"a\"\nkind = \"generator\"\n{src}\n[[sink]]\nname = \"out\"\ninput = \"a\"\n"
        );
        match parse_str("t.toml", &text, None) {
            Ok(s) => format!("{}", s.nodes[0].schema),
            Err(d) => d.to_string(),
        }
    }

    #[test]
    fn a_generator_needs_an_end_and_fields() {
        let e = errors("fields.k = { kind = \"sequence\" }");
        assert!(
            e.contains("generator `a` needs `count` or `duration`"),
            "{e}"
        );
        let e = errors("duration = \"1 s\"\nfields.k = { kind = \"sequence\" }");
        assert!(
            e.contains("generator `a` has a `duration` but no `rate`"),
            "{e}"
        );
        let e = errors("count = 5");
        assert!(e.contains("generator `a` needs `fields`"), "{e}");
    }

    #[test]
    fn field_generators_and_their_types() {
        let s = errors(
            "count = 5\nfields.k = { kind = \"key\", count = 3, prefix = \"u\" }\nfields.x = { kind = \"uniform\", min = 1, max = 2.5 }\nfields.c = { kind = \"one_of\", values = [true, false] }",
        );
        assert_eq!(s, "(k: string, x: float, c: bool)");
        let e = errors("count = 5\nfields.k = { kind = \"key\", count = 3, min = 1 }");
        assert!(
            e.contains("field `k`: `min/max` is not an option of kind `key`"),
            "{e}"
        );
        let e = errors(
            "count = 5\nfields.k = { kind = \"key\", count = 3, skew = \"zipf\", exponent = -1 }",
        );
        assert!(
            e.contains("the Zipf exponent must be positive, found -1"),
            "{e}"
        );
        let e = errors("count = 5\nfields.k = { kind = \"uniform\", min = 3, max = 1 }");
        assert!(e.contains("field `k`: min 3 is above max 1"), "{e}");
        let e = errors("count = 5\nfields.k = { kind = \"one_of\", values = [1, \"a\"] }");
        assert!(e.contains("all values must have one type"), "{e}");
    }

    #[test]
    fn delays() {
        let e = errors(
            "count = 5\nfields.k = { kind = \"sequence\" }\ndelay = { distribution = \"uniform\", min = \"2 s\", max = \"1 s\" }",
        );
        assert!(e.contains("delay.min is above delay.max"), "{e}");
        let e = errors(
            "count = 5\nfields.k = { kind = \"sequence\" }\ndelay = { distribution = \"fixed\" }",
        );
        assert!(
            e.contains("delay distribution `fixed` needs `value`"),
            "{e}"
        );
    }
}
