//! `[[source]]` tables: which kinds exist and which options each takes; the options of
//! sources of fixed rows (timestamps, partitioning, how long they stay open). The records come
//! from [`super::generator`] or [`super::rows`], the watermarks from [`super::watermarks`].

use super::checker::{Checker, NodeCheck};
use super::{generator, rows, watermarks};
use crate::core::value::{Schema, Type};
use crate::scenario::raw::RawSource;
use crate::scenario::{Lit, NodeKind, SourceData, SourceSpec, Timestamps};
use std::ops::Range;
use std::sync::Arc;

const KINDS: &str = "generator, inline, csv";

/// Checks one source; returns its spec and the schema of its records.
pub fn check_source(ck: &mut Checker, s: &RawSource) -> Option<NodeCheck> {
    let kind = s.kind.get_ref().as_str();
    let allowed: &[&str] = match kind {
        "generator" => &["rate", "count", "duration", "fields", "delay", "watermarks"],
        "inline" => &[
            "rate",
            "events",
            "repeat",
            "timestamp",
            "partition",
            "duration",
            "watermarks",
        ],
        "csv" => &[
            "rate",
            "path",
            "fields",
            "repeat",
            "timestamp",
            "partition",
            "duration",
            "watermarks",
        ],
        other => {
            ck.error(
                Some(s.kind.span()),
                format!("unknown source kind `{other}`"),
                format!("expected one of {KINDS}"),
            );
            return None;
        }
    };
    let mut bad = foreign_options(ck, s, kind, allowed);
    let rate = match &s.rate {
        Some(r) => {
            let v = r.get_ref().get();
            if !(v > 0.0 && v.is_finite()) {
                ck.error(
                    Some(r.span()),
                    format!("rate must be a positive number of records per second, found {v}"),
                    "leave it out to run as fast as possible",
                );
                bad = true;
            }
            Some(v)
        }
        None => None,
    };
    if bad {
        return None;
    }
    let name = s.name.get_ref();
    let (spec, schema) = match kind {
        "generator" => generator::generator(ck, s, rate, name)?,
        "inline" => {
            let Some(events) = &s.events else {
                ck.error(
                    Some(s.name.span()),
                    format!("inline source `{name}` needs `events`"),
                    "events = [ { key = \"a\", value = 1 }, … ]",
                );
                return None;
            };
            let (schema, rows) = rows::inline_rows(ck, events)?;
            rows_source(ck, s, rate, schema, rows)?
        }
        _ => {
            // csv, the kind left
            let Some(path) = &s.path else {
                ck.error(
                    Some(s.name.span()),
                    format!("csv source `{name}` needs a `path`"),
                    "path = \"data/clicks.csv\" (relative to the scenario file)",
                );
                return None;
            };
            let (schema, rows) = rows::csv_rows(ck, path, s.fields.as_ref())?;
            rows_source(ck, s, rate, schema, rows)?
        }
    };
    NodeCheck::ok(NodeKind::Source(spec), schema)
}

/// Reports every option written that the kind does not take; whether there was one.
fn foreign_options(ck: &mut Checker, s: &RawSource, kind: &str, allowed: &[&str]) -> bool {
    let given: [(&str, Option<Range<usize>>); 11] = [
        ("watermarks", s.watermarks.as_ref().map(|v| v.span())),
        ("rate", s.rate.as_ref().map(|v| v.span())),
        ("count", s.count.as_ref().map(|v| v.span())),
        ("duration", s.duration.as_ref().map(|v| v.span())),
        ("fields", s.fields.as_ref().map(|v| v.span())),
        ("delay", s.delay.as_ref().map(|v| v.span())),
        ("events", s.events.as_ref().map(|v| v.span())),
        ("repeat", s.repeat.as_ref().map(|v| v.span())),
        ("path", s.path.as_ref().map(|v| v.span())),
        ("timestamp", s.timestamp.as_ref().map(|v| v.span())),
        ("partition", s.partition.as_ref().map(|v| v.span())),
    ];
    let mut bad = false;
    for (key, span) in given {
        if let Some(span) = span
            && !allowed.contains(&key)
        {
            ck.error(
                Some(span),
                format!("`{key}` is not an option of a {kind} source"),
                format!("a {kind} source takes {}", allowed.join(", ")),
            );
            bad = true;
        }
    }
    bad
}

/// The options of a source of fixed rows (inline events or a CSV file).
fn rows_source(
    ck: &mut Checker,
    s: &RawSource,
    rate: Option<f64>,
    schema: Schema,
    rows: Vec<Vec<Lit>>,
) -> Option<(SourceSpec, Schema)> {
    let repeat = match &s.repeat {
        Some(r) => u64::from(ck.count(r, "repeat", i64::from(u32::MAX))?),
        None => 1,
    };
    let timestamps = timestamps(ck, s, &schema)?;
    let partition = partition(ck, s, &schema)?;
    if let Some(i) = partition
        && rows.iter().any(|r| matches!(r[i], Lit::Int(v) if v < 0))
    {
        ck.error(
            s.partition.as_ref().map(|f| f.span()),
            format!(
                "partition numbers in `{}` must not be negative",
                schema.fields[i].name
            ),
            "",
        );
        return None;
    }
    let open_for = match &s.duration {
        Some(d) => {
            let d = ck.duration(d, "duration")?;
            if d.is_zero() {
                ck.error(
                    s.duration.as_ref().map(|d| d.span()),
                    "duration must be more than zero",
                    "leave it out to end the source with its last row",
                );
                return None;
            }
            Some(d)
        }
        None => None,
    };
    let watermarks = watermarks::watermarks(ck, s, timestamps)?;
    Some((
        SourceSpec {
            rate,
            data: SourceData::Rows {
                rows: Arc::new(rows),
                repeat,
                partition,
                open_for,
            },
            timestamps,
            watermarks,
        },
        schema,
    ))
}

/// Where the rows' timestamps come from: none, an integer field (ms), or ingestion time
/// (`"ingestion"`, unless a field has that name).
fn timestamps(ck: &mut Checker, s: &RawSource, schema: &Schema) -> Option<Timestamps> {
    Some(match &s.timestamp {
        None => Timestamps::None,
        Some(t) if t.get_ref() == "ingestion" && schema.index_of("ingestion").is_none() => {
            Timestamps::Ingestion
        }
        Some(t) => match schema.index_of(t.get_ref()) {
            Some(i) if schema.fields[i].ty == Type::Int => Timestamps::Field(i),
            Some(i) => {
                let message = format!(
                    "the timestamp field `{}` must hold integers (milliseconds), but it is {}",
                    t.get_ref(),
                    schema.fields[i].ty
                );
                ck.error(Some(t.span()), message, "");
                return None;
            }
            None => {
                ck.error(
                    Some(t.span()),
                    format!("unknown timestamp field `{}`", t.get_ref()),
                    format!(
                        "fields: {}; or \"ingestion\" for ingestion time",
                        schema.names()
                    ),
                );
                return None;
            }
        },
    })
}

/// The integer field whose value picks the source subtask (`Some(None)`: none).
fn partition(ck: &mut Checker, s: &RawSource, schema: &Schema) -> Option<Option<usize>> {
    Some(match &s.partition {
        None => None,
        Some(f) => match schema.index_of(f.get_ref()) {
            Some(i) if schema.fields[i].ty == Type::Int => Some(i),
            Some(i) => {
                ck.error(
                    Some(f.span()),
                    format!(
                        "the partition field `{}` must hold integers, but it is {}",
                        f.get_ref(),
                        schema.fields[i].ty
                    ),
                    "",
                );
                return None;
            }
            None => {
                ck.error(
                    Some(f.span()),
                    format!("unknown partition field `{}`", f.get_ref()),
                    format!("fields: {}", schema.names()),
                );
                return None;
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use crate::check::testing;

    fn errors(src: &str) -> String {
        let text =
            format!("[[source]]\nname = \"a\"\n{src}\n[[sink]]\nname = \"out\"\ninput = \"a\"\n");
        testing::errors(&text)
    }

    #[test]
    fn kinds_take_their_own_options() {
        let e = errors("kind = \"kafka\"");
        assert!(e.contains("unknown source kind `kafka`"), "{e}");
        let e = errors(
            "kind = \"generator\"\ncount = 1\nfields.k = { kind = \"sequence\" }\nevents = []",
        );
        assert!(
            e.contains("`events` is not an option of a generator source"),
            "{e}"
        );
        let e =
            errors("kind = \"generator\"\ncount = 1\nrate = 0\nfields.k = { kind = \"sequence\" }");
        assert!(
            e.contains("rate must be a positive number of records per second, found 0"),
            "{e}"
        );
    }

    #[test]
    fn rows_take_integer_timestamps_and_partitions() {
        let e = errors("kind = \"inline\"\nevents = [{ t = \"x\" }]\ntimestamp = \"t\"");
        assert!(
            e.contains(
                "the timestamp field `t` must hold integers (milliseconds), but it is string"
            ),
            "{e}"
        );
        let e = errors("kind = \"inline\"\nevents = [{ p = -1 }]\npartition = \"p\"");
        assert!(
            e.contains("partition numbers in `p` must not be negative"),
            "{e}"
        );
        let e = errors("kind = \"inline\"\nevents = [{ p = 1 }]\nduration = \"0 s\"");
        assert!(e.contains("duration must be more than zero"), "{e}");
        assert_eq!(
            errors("kind = \"inline\"\nevents = [{ p = 1 }]\ntimestamp = \"ingestion\""),
            ""
        );
    }
}
