//! Checking `[[source]]` tables: generators, inline events and CSV files.

use super::model::*;
use super::raw::*;
use super::validate::Checker;
use crate::core::value::{Field, Interner, Schema, Type};
use indexmap::IndexMap;
use serde::Deserialize;
use std::ops::Range;
use std::sync::Arc;
use toml::Spanned as TSpanned;

pub(super) struct SourceCx<'a> {
    pub ck: &'a mut Checker,
    #[allow(dead_code)]
    pub interner: &'a mut Interner,
}

const KINDS: &str = "generator, inline, csv";

/// Checks one source; returns its spec and the schema of its records.
pub(super) fn check_source(cx: &mut SourceCx<'_>, s: &RawSource) -> Option<(SourceSpec, Schema)> {
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
            cx.ck.error(
                Some(s.kind.span()),
                format!("unknown source kind `{other}`"),
                format!("expected one of {KINDS}"),
            );
            return None;
        }
    };
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
            cx.ck.error(
                Some(span),
                format!("`{key}` is not an option of a {kind} source"),
                format!("a {kind} source takes {}", allowed.join(", ")),
            );
            bad = true;
        }
    }
    let rate = match &s.rate {
        Some(r) => {
            let v = r.get_ref().get();
            if !(v > 0.0 && v.is_finite()) {
                cx.ck.error(
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
    match kind {
        "generator" => generator(cx, s, rate, name),
        "inline" => {
            let Some(events) = &s.events else {
                cx.ck.error(
                    Some(s.name.span()),
                    format!("inline source `{name}` needs `events`"),
                    "events = [ { key = \"a\", value = 1 }, … ]",
                );
                return None;
            };
            let (schema, rows) = inline_rows(cx.ck, events)?;
            rows_source(cx.ck, s, rate, schema, rows)
        }
        "csv" => {
            let Some(path) = &s.path else {
                cx.ck.error(
                    Some(s.name.span()),
                    format!("csv source `{name}` needs a `path`"),
                    "path = \"data/clicks.csv\" (relative to the scenario file)",
                );
                return None;
            };
            let (schema, rows) = csv_rows(cx.ck, path, s.fields.as_ref())?;
            rows_source(cx.ck, s, rate, schema, rows)
        }
        _ => unreachable!(),
    }
}

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
    let timestamps = match &s.timestamp {
        None => Timestamps::None,
        Some(t) if t.get_ref() == "ingestion" && schema.index_of("ingestion").is_none() => {
            Timestamps::Ingestion
        }
        Some(t) => {
            match schema.index_of(t.get_ref()) {
                Some(i) if schema.fields[i].ty == Type::Int => Timestamps::Field(i),
                Some(i) => {
                    ck.error(Some(t.span()), format!("the timestamp field `{}` must hold integers (milliseconds), but it is {}", t.get_ref(), schema.fields[i].ty), "");
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
            }
        }
    };
    let partition = match &s.partition {
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
    };
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
            if d.0 == 0 {
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
    let watermarks = watermarks(ck, s, timestamps)?;
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

/// The source's watermark strategy (`Some(None)`: it has none).
fn watermarks(ck: &mut Checker, s: &RawSource, ts: Timestamps) -> Option<Option<WatermarkSpec>> {
    use crate::flink::watermark::{Emission, Strategy};
    let Some(raw) = &s.watermarks else {
        return Some(None);
    };
    let r = raw.get_ref();
    if ts == Timestamps::None {
        ck.error(
            Some(raw.span()),
            format!(
                "source `{}` has watermarks but its records have no event-time timestamp",
                s.name.get_ref()
            ),
            "set `timestamp` to an integer field (milliseconds) or to \"ingestion\"",
        );
        return None;
    }
    let strategy = r.strategy.get_ref().as_str();
    let bound_ms = match strategy {
        "bounded" => {
            let Some(b) = &r.max_out_of_orderness else {
                ck.error(
                    Some(r.strategy.span()),
                    "a bounded strategy needs `max_out_of_orderness`",
                    "max_out_of_orderness = \"2 s\"",
                );
                return None;
            };
            Some(ck.duration(b, "max_out_of_orderness")?.as_millis() as i64)
        }
        "monotonous" => {
            if let Some(b) = &r.max_out_of_orderness {
                ck.error(
                    Some(b.span()),
                    "monotonous timestamps have no out-of-orderness bound",
                    "use strategy = \"bounded\"",
                );
                return None;
            }
            Some(0)
        }
        "none" => {
            for (k, v) in [
                ("max_out_of_orderness", r.max_out_of_orderness.as_ref()),
                ("emit", r.emit.as_ref()),
                ("interval", r.interval.as_ref()),
                ("idleness", r.idleness.as_ref()),
                ("alignment_group", r.alignment_group.as_ref()),
                ("max_drift", r.max_drift.as_ref()),
            ] {
                if let Some(v) = v {
                    ck.error(
                        Some(v.span()),
                        format!("`{k}` means nothing for strategy = \"none\""),
                        "noWatermarks() emits no watermarks but the final one; it takes no options — use strategy = \"bounded\" or \"monotonous\" to have watermarks",
                    );
                    return None;
                }
            }
            None
        }
        other => {
            ck.error(
                Some(r.strategy.span()),
                format!("unknown watermark strategy `{other}`"),
                "expected bounded, monotonous or none",
            );
            return None;
        }
    };
    let interval = match &r.interval {
        Some(i) => Some(ck.duration(i, "watermarks.interval")?),
        None => None,
    };
    // Flink calls onPeriodicEmit every auto-watermark interval, for punctuated generators too
    // (where it only probes for idleness); 0 means never.
    let period = interval.unwrap_or(ck.auto_watermark_interval);
    let period = (period.0 > 0).then_some(period);
    let emission = match r.emit.as_ref().map(|e| e.get_ref().as_str()) {
        None | Some("periodic") => Emission::Periodic(period),
        Some("per_event") => {
            if let Some(i) = &r.interval
                && r.idleness.is_none()
            {
                ck.error(
                    Some(i.span()),
                    "a per-event (punctuated) generator emits a watermark after every record; it has no `interval`",
                    "with emit = \"per_event\", `interval` only sets how often `idleness` is checked, so it needs `idleness`",
                );
                return None;
            }
            Emission::PerEvent(period)
        }
        Some(other) => {
            ck.error(
                r.emit.as_ref().map(|e| e.span()),
                format!("unknown emission `{other}`"),
                "expected periodic or per_event",
            );
            return None;
        }
    };
    let idleness = match &r.idleness {
        Some(i) => {
            let d = ck.duration(i, "idleness")?;
            if d.0 == 0 {
                ck.error(
                    Some(i.span()),
                    "idleness must be more than zero",
                    "Flink's withIdleness needs a positive timeout, e.g. \"10 s\"",
                );
                return None;
            }
            if period.is_none() {
                let whose = if r.interval.is_some() {
                    "its watermark `interval` is 0 ms"
                } else {
                    "[job] auto_watermark_interval is 0 ms"
                };
                ck.warn(
                    Some(i.span()),
                    format!("`idleness` never takes effect here: {whose}"),
                    "idleness is detected in the periodic watermark probes (Flink's onPeriodicEmit), which an interval of 0 disables; give the watermarks an `interval` more than zero",
                );
            }
            Some(d)
        }
        None => None,
    };
    let alignment = match (&r.alignment_group, &r.max_drift) {
        (None, None) => None,
        (Some(g), Some(d)) => {
            let drift = ck.duration(d, "max_drift")?;
            if drift.0 == 0 {
                ck.error(Some(d.span()), "max_drift must be more than zero", "");
                return None;
            }
            Some((g.get_ref().clone(), drift))
        }
        (Some(g), None) => {
            ck.error(
                Some(g.span()),
                "watermark alignment needs `max_drift` too",
                "max_drift = \"5 s\"",
            );
            return None;
        }
        (None, Some(d)) => {
            ck.error(Some(d.span()), "`max_drift` needs an `alignment_group`", "");
            return None;
        }
    };
    Some(Some(WatermarkSpec {
        strategy: Strategy {
            bound_ms,
            emission,
            idleness,
        },
        alignment,
    }))
}

fn lit_of(v: &toml::Value) -> Option<Lit> {
    Some(match v {
        toml::Value::Integer(i) => Lit::Int(*i),
        toml::Value::Float(f) => Lit::Float(*f),
        toml::Value::String(s) => Lit::Str(s.as_str().into()),
        toml::Value::Boolean(b) => Lit::Bool(*b),
        _ => return None,
    })
}

fn lit_type(l: &Lit) -> Type {
    match l {
        Lit::Int(_) => Type::Int,
        Lit::Float(_) => Type::Float,
        Lit::Str(_) => Type::String,
        Lit::Bool(_) => Type::Bool,
    }
}

type RawEvents = TSpanned<Vec<RawEvent>>;

/// Inline events: the fields and their types come from the first event; every event must
/// have the same fields (in any order); integers widen to floats when a column mixes them.
fn inline_rows(ck: &mut Checker, events: &RawEvents) -> Option<(Schema, Vec<Vec<Lit>>)> {
    let list = events.get_ref();
    let Some(first) = list.first() else {
        ck.error(
            Some(events.span()),
            "`events` is empty",
            "give at least one event",
        );
        return None;
    };
    if first.get_ref().is_empty() {
        ck.error(
            Some(first.span()),
            "an event needs at least one field",
            "events = [ { word = \"hello\" }, … ]",
        );
        return None;
    }
    let mut fields: Vec<Field> = Vec::new();
    for (k, v) in first.get_ref() {
        let Some(l) = lit_of(v.get_ref()) else {
            ck.error(
                Some(v.span()),
                format!("field `{k}` must be a number, a string or a boolean"),
                "",
            );
            return None;
        };
        fields.push(Field {
            name: k.as_str().into(),
            ty: lit_type(&l),
        });
    }
    let mut rows = Vec::with_capacity(list.len());
    let mut ok = true;
    for ev in list {
        let map = ev.get_ref();
        let mut row = Vec::with_capacity(fields.len());
        for f in fields.iter_mut() {
            let Some(v) = map.get(f.name.as_ref()) else {
                ck.error(
                    Some(ev.span()),
                    format!("this event has no field `{}`", f.name),
                    format!(
                        "every event needs the fields of the first: {}",
                        names(&fields_snapshot(first))
                    ),
                );
                ok = false;
                row.push(Lit::Int(0));
                continue;
            };
            match lit_of(v.get_ref()) {
                Some(l) => {
                    let t = lit_type(&l);
                    if t != f.ty {
                        if f.ty == Type::Float && t == Type::Int {
                        } else if f.ty == Type::Int && t == Type::Float {
                            f.ty = Type::Float;
                        } else {
                            ck.error(
                                Some(v.span()),
                                format!(
                                    "field `{}` is {} in the first event but {t} here",
                                    f.name, f.ty
                                ),
                                "",
                            );
                            ok = false;
                        }
                    }
                    row.push(l);
                }
                None => {
                    ck.error(
                        Some(v.span()),
                        format!("field `{}` must be a number, a string or a boolean", f.name),
                        "",
                    );
                    ok = false;
                    row.push(Lit::Int(0));
                }
            }
        }
        for (k, v) in map {
            if !fields.iter().any(|f| &*f.name == k) {
                ck.error(
                    Some(v.span()),
                    format!("field `{k}` is not in the first event"),
                    format!(
                        "every event has the same fields: {}",
                        names(&fields_snapshot(first))
                    ),
                );
                ok = false;
            }
        }
        rows.push(row);
    }
    if !ok {
        return None;
    }
    widen_rows(&fields, &mut rows);
    Some((Schema { fields }, rows))
}

fn fields_snapshot(first: &TSpanned<IndexMap<String, TSpanned<toml::Value>>>) -> Vec<String> {
    first.get_ref().keys().cloned().collect()
}

fn names(v: &[String]) -> String {
    v.join(", ")
}

fn widen_rows(fields: &[Field], rows: &mut [Vec<Lit>]) {
    for (i, f) in fields.iter().enumerate() {
        if f.ty == Type::Float {
            for r in rows.iter_mut() {
                if let Lit::Int(x) = r[i] {
                    r[i] = Lit::Float(x as f64);
                }
            }
        }
    }
}

/// A CSV file with a header row. Column types are declared in `fields` or inferred: integer
/// if every value is one, else float, else boolean, else string.
fn csv_rows(
    ck: &mut Checker,
    path: &TSpanned<String>,
    declared: Option<&TSpanned<IndexMap<String, TSpanned<toml::Value>>>>,
) -> Option<(Schema, Vec<Vec<Lit>>)> {
    let full = match &ck.base_dir {
        Some(dir) => dir.join(path.get_ref()),
        None => std::path::PathBuf::from(path.get_ref()),
    };
    let shown = full.display().to_string();
    let mut reader = match csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_path(&full)
    {
        Ok(r) => r,
        Err(e) => {
            ck.error(
                Some(path.span()),
                format!("cannot read CSV file `{shown}`: {}", io_reason(&e)),
                "the path is relative to the scenario file",
            );
            return None;
        }
    };
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => {
            ck.error(
                Some(path.span()),
                format!("cannot read the header of `{shown}`: {e}"),
                "",
            );
            return None;
        }
    };
    if header.is_empty() || header.iter().any(String::is_empty) {
        ck.error(
            Some(path.span()),
            format!("`{shown}` needs a header row naming every column"),
            "",
        );
        return None;
    }
    let mut text_rows: Vec<(u64, Vec<String>)> = Vec::new();
    for rec in reader.records() {
        match rec {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line());
                if r.len() != header.len() {
                    ck.error(
                        Some(path.span()),
                        format!(
                            "{shown}:{line}: {} values, but the header has {} columns",
                            r.len(),
                            header.len()
                        ),
                        "",
                    );
                    return None;
                }
                text_rows.push((line, r.iter().map(str::to_string).collect()));
            }
            Err(e) => {
                ck.error(Some(path.span()), format!("{shown}: {e}"), "");
                return None;
            }
        }
    }
    let mut types = Vec::with_capacity(header.len());
    for (c, name) in header.iter().enumerate() {
        let declared_ty = declared.and_then(|d| d.get_ref().get(name));
        let ty = match declared_ty {
            Some(t) => match t.get_ref().as_str().and_then(parse_type) {
                Some(ty) => ty,
                None => {
                    ck.error(
                        Some(t.span()),
                        format!("unknown type for column `{name}`"),
                        "expected one of int, float, string, bool",
                    );
                    return None;
                }
            },
            None => infer(text_rows.iter().map(|(_, r)| r[c].as_str())),
        };
        types.push(ty);
    }
    if let Some(d) = declared {
        for (k, v) in d.get_ref() {
            if !header.contains(k) {
                ck.error(
                    Some(v.span()),
                    format!("`{shown}` has no column `{k}`"),
                    format!("columns: {}", header.join(", ")),
                );
                return None;
            }
        }
    }
    let mut rows = Vec::with_capacity(text_rows.len());
    for (line, r) in &text_rows {
        let mut row = Vec::with_capacity(r.len());
        for (c, text) in r.iter().enumerate() {
            match parse_lit(text, types[c]) {
                Some(l) => row.push(l),
                None => {
                    ck.error(
                        Some(path.span()),
                        format!(
                            "{shown}:{line}:{}: `{text}` is not {} (column `{}`)",
                            c + 1,
                            types[c],
                            header[c]
                        ),
                        "",
                    );
                    return None;
                }
            }
        }
        rows.push(row);
    }
    let schema = Schema {
        fields: header
            .iter()
            .zip(&types)
            .map(|(n, t)| Field {
                name: n.as_str().into(),
                ty: *t,
            })
            .collect(),
    };
    Some((schema, rows))
}

fn io_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
            "no such file".into()
        }
        csv::ErrorKind::Io(io) => io.to_string(),
        _ => e.to_string(),
    }
}

fn parse_type(s: &str) -> Option<Type> {
    Some(match s {
        "int" => Type::Int,
        "float" => Type::Float,
        "string" => Type::String,
        "bool" => Type::Bool,
        _ => return None,
    })
}

fn infer<'a>(mut values: impl Iterator<Item = &'a str> + Clone) -> Type {
    if values.clone().all(|v| v.parse::<i64>().is_ok()) {
        Type::Int
    } else if values.clone().all(|v| v.parse::<f64>().is_ok()) {
        Type::Float
    } else if values.all(|v| v == "true" || v == "false") {
        Type::Bool
    } else {
        Type::String
    }
}

fn parse_lit(text: &str, ty: Type) -> Option<Lit> {
    Some(match ty {
        Type::Int => Lit::Int(text.parse().ok()?),
        Type::Float => Lit::Float(text.parse().ok()?),
        Type::Bool => Lit::Bool(text.parse().ok()?),
        Type::String => Lit::Str(text.into()),
    })
}

fn generator(
    cx: &mut SourceCx<'_>,
    s: &RawSource,
    rate: Option<f64>,
    name: &str,
) -> Option<(SourceSpec, Schema)> {
    let ck = &mut *cx.ck;
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
    let wm = watermarks(ck, s, Timestamps::Generated)?;
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

fn gen_field(
    ck: &mut Checker,
    fname: &str,
    raw: &RawGenField,
    span: Range<usize>,
) -> Option<(GenField, Type)> {
    let kind = raw.kind.as_str();
    let here = Some(span.clone());
    let err = |ck: &mut Checker, msg: String, label: &str| {
        ck.error(here.clone(), format!("field `{fname}`: {msg}"), label);
    };
    let reject = |ck: &mut Checker, present: bool, key: &str| {
        if present {
            ck.error(
                Some(span.clone()),
                format!("field `{fname}`: `{key}` is not an option of kind `{kind}`"),
                "",
            );
        }
        present
    };
    match kind {
        "key" => {
            if reject(ck, raw.min.is_some() || raw.max.is_some(), "min/max")
                | reject(ck, raw.values.is_some() || raw.value.is_some(), "value(s)")
            {
                return None;
            }
            let count = match raw.count {
                Some(c) if (1..=100_000_000).contains(&c) => c as u64,
                Some(c) => {
                    err(
                        ck,
                        format!("count must be between 1 and 100000000, found {c}"),
                        "",
                    );
                    return None;
                }
                None => {
                    err(
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
                        err(ck, "`exponent` only applies to skew = \"zipf\"".into(), "");
                        return None;
                    }
                    Skew::Uniform
                }
                Some("zipf") => {
                    let e = raw.exponent.map_or(1.0, f64Like::get);
                    if !(e > 0.0 && e.is_finite()) {
                        err(
                            ck,
                            format!("the Zipf exponent must be positive, found {e}"),
                            "1.0 is classic Zipf; larger is more skewed",
                        );
                        return None;
                    }
                    Skew::Zipf(e)
                }
                Some(other) => {
                    err(
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
        "uniform" => {
            if reject(
                ck,
                raw.count.is_some() || raw.values.is_some() || raw.value.is_some(),
                "count/value(s)",
            ) {
                return None;
            }
            let (Some(min), Some(max)) = (&raw.min, &raw.max) else {
                err(
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
                        err(ck, format!("min {fa} is above max {fb}"), "");
                        None
                    }
                    _ => {
                        err(ck, "min and max must be numbers".into(), "");
                        None
                    }
                },
            }
        }
        "sequence" => {
            if reject(
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
        "one_of" => {
            let Some(values) = &raw.values else {
                err(
                    ck,
                    "one_of needs `values`".into(),
                    "values = [\"de\", \"fr\"]",
                );
                return None;
            };
            let lits: Option<Vec<Lit>> = values.iter().map(lit_of).collect();
            let Some(lits) = lits.filter(|l| !l.is_empty()) else {
                err(
                    ck,
                    "values must be a non-empty list of numbers, strings or booleans".into(),
                    "",
                );
                return None;
            };
            let ty = lit_type(&lits[0]);
            if lits.iter().any(|l| lit_type(l) != ty) {
                err(ck, "all values must have one type".into(), "");
                return None;
            }
            Some((GenField::OneOf(lits), ty))
        }
        "constant" => {
            let Some(v) = raw.value.as_ref().and_then(lit_of) else {
                err(
                    ck,
                    "constant needs a `value` (a number, a string or a boolean)".into(),
                    "value = 1",
                );
                return None;
            };
            let ty = lit_type(&v);
            Some((GenField::Constant(v), ty))
        }
        other => {
            err(
                ck,
                format!("unknown generator kind `{other}`"),
                "expected one of key, uniform, sequence, one_of, constant",
            );
            None
        }
    }
}

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
