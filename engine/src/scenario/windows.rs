//! Checking `kind = "window"` operators.

use super::model::*;
use super::raw::{RawOperator, RawWindow};
use super::units::parse_duration;
use super::validate::Checker;
use crate::core::value::{Field, Interner, Schema, Type};
use crate::expr::{self, Scope};
use crate::flink::window::Assigner;
use crate::flink::window::trigger::{Evictor, Trigger, TriggerKind};
use toml::Spanned as TSpanned;

/// A duration in ms that may be negative (window offsets: Flink allows `Time.hours(-8)`).
fn signed_ms(ck: &mut Checker, v: &TSpanned<String>, what: &str) -> Option<i64> {
    let text = v.get_ref().trim();
    let (neg, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    match parse_duration(body) {
        Ok(d) => Some(if neg {
            -(d.as_millis() as i64)
        } else {
            d.as_millis() as i64
        }),
        Err(e) => {
            ck.error(
                Some(v.span()),
                format!("{what}: {e}"),
                "durations look like \"200 ms\", \"10 s\", \"1 min\"",
            );
            None
        }
    }
}

/// A positive duration in ms written as a string.
fn positive_ms(ck: &mut Checker, v: &TSpanned<toml::Value>, what: &str) -> Option<i64> {
    let Some(text) = v.get_ref().as_str() else {
        ck.error(
            Some(v.span()),
            format!("{what} must be a duration like \"5 s\""),
            "",
        );
        return None;
    };
    match parse_duration(text) {
        Ok(d) if d.as_millis() > 0 => Some(d.as_millis() as i64),
        Ok(_) => {
            ck.error(
                Some(v.span()),
                format!("{what} must be more than zero"),
                "e.g. \"5 s\"",
            );
            None
        }
        Err(e) => {
            ck.error(
                Some(v.span()),
                format!("{what}: {e}"),
                "durations look like \"200 ms\", \"10 s\", \"1 min\"",
            );
            None
        }
    }
}

fn positive_count(ck: &mut Checker, v: &TSpanned<toml::Value>, what: &str) -> Option<u64> {
    match v.get_ref().as_integer() {
        Some(n) if n >= 1 => Some(n as u64),
        Some(n) => {
            ck.error(
                Some(v.span()),
                format!("{what} must be at least 1, found {n}"),
                "",
            );
            None
        }
        None => {
            ck.error(
                Some(v.span()),
                format!("{what} of a count window is a number of elements"),
                "e.g. size = 100",
            );
            None
        }
    }
}

/// What the window's assigner section says.
pub(super) struct Shape {
    pub assigner: Assigner,
    pub gap: Option<ExprSrc>,
    pub count: Option<(u64, Option<u64>)>,
}

/// Checks a `window = { type = …, … }` table. A dynamic session gap (`gap_expr`) is compiled
/// against every schema of `inputs` (`(name, schema)`: a window join evaluates it on the
/// records of both its inputs; the name goes into messages when there are several).
pub(super) fn shape(
    ck: &mut Checker,
    w: &TSpanned<RawWindow>,
    inputs: &[(&str, &Schema)],
    interner: &mut Interner,
) -> Option<Shape> {
    let r = w.get_ref();
    let kind = r.kind.get_ref().as_str();
    let allowed: &[&str] = match kind {
        "tumbling" => &["size", "offset"],
        "sliding" => &["size", "slide", "offset"],
        "session" => &["gap", "gap_expr"],
        "global" => &[],
        "count" => &["size", "slide"],
        other => {
            ck.error(
                Some(r.kind.span()),
                format!("unknown window type `{other}`"),
                "expected tumbling, sliding, session, global or count",
            );
            return None;
        }
    };
    for (k, s) in [
        ("size", r.size.as_ref().map(|v| v.span())),
        ("slide", r.slide.as_ref().map(|v| v.span())),
        ("offset", r.offset.as_ref().map(|v| v.span())),
        ("gap", r.gap.as_ref().map(|v| v.span())),
        ("gap_expr", r.gap_expr.as_ref().map(|v| v.span())),
    ] {
        if let Some(s) = s
            && !allowed.contains(&k)
        {
            ck.error(
                Some(s),
                format!("`{k}` is not an option of a {kind} window"),
                format!(
                    "a {kind} window takes {}",
                    if allowed.is_empty() {
                        "no options".into()
                    } else {
                        allowed.join(", ")
                    }
                ),
            );
            return None;
        }
    }
    let need = |ck: &mut Checker,
                v: &Option<TSpanned<toml::Value>>,
                k: &str|
     -> Option<TSpanned<toml::Value>> {
        match v {
            Some(v) => Some(v.clone()),
            None => {
                ck.error(
                    Some(r.kind.span()),
                    format!("a {kind} window needs `{k}`"),
                    "",
                );
                None
            }
        }
    };
    let offset = match &r.offset {
        Some(o) => signed_ms(ck, o, "offset")?,
        None => 0,
    };
    match kind {
        "tumbling" => {
            let size_v = need(ck, &r.size, "size")?;
            let size = positive_ms(ck, &size_v, "the window size")?;
            if offset.abs() >= size {
                ck.error(
                    r.offset.as_ref().map(|o| o.span()),
                    "a tumbling window's offset must be smaller than its size",
                    "Flink: abs(offset) < size",
                );
                return None;
            }
            Some(Shape {
                assigner: Assigner::Tumbling { size, offset },
                gap: None,
                count: None,
            })
        }
        "sliding" => {
            let size_v = need(ck, &r.size, "size")?;
            let size = positive_ms(ck, &size_v, "the window size")?;
            let slide_v = need(ck, &r.slide, "slide")?;
            let slide = positive_ms(ck, &slide_v, "the slide")?;
            if slide > size {
                // Flink accepts it (a sampling window); say what it means.
                ck.warn(
                    Some(slide_v.span()),
                    format!("the slide ({slide} ms) is larger than the window size ({size} ms)"),
                    "records that fall between two windows belong to none and are silently left out; is that what you want?",
                );
            }
            if offset.abs() >= slide {
                ck.error(
                    r.offset.as_ref().map(|o| o.span()),
                    "a sliding window's offset must be smaller than its slide",
                    "Flink: abs(offset) < slide",
                );
                return None;
            }
            Some(Shape {
                assigner: Assigner::Sliding {
                    size,
                    slide,
                    offset,
                },
                gap: None,
                count: None,
            })
        }
        "session" => match (&r.gap, &r.gap_expr) {
            (Some(g), None) => {
                let gap = positive_ms(
                    ck,
                    &TSpanned::new(g.span(), toml::Value::String(g.get_ref().clone())),
                    "the session gap",
                )?;
                Some(Shape {
                    assigner: Assigner::Session {
                        gap,
                        dynamic: false,
                    },
                    gap: None,
                    count: None,
                })
            }
            (None, Some(e)) => {
                let src = ck.expr_src(e);
                for (side, input) in inputs {
                    if let Err(mut err) = expr::compile_typed(
                        e.get_ref(),
                        &Scope::Record(input),
                        interner,
                        Type::Int,
                        "a session gap (milliseconds)",
                    ) {
                        if inputs.len() > 1 {
                            err.message = format!(
                                "for the {side} input's records: {} (a window join computes the gap for the records of both inputs)",
                                err.message
                            );
                        }
                        ck.expr_error(&src, err);
                        return None;
                    }
                }
                Some(Shape {
                    assigner: Assigner::Session {
                        gap: 0,
                        dynamic: true,
                    },
                    gap: Some(src),
                    count: None,
                })
            }
            (Some(g), Some(_)) => {
                ck.error(
                    Some(g.span()),
                    "a session window has either a fixed `gap` or a `gap_expr`, not both",
                    "",
                );
                None
            }
            (None, None) => {
                ck.error(
                    Some(r.kind.span()),
                    "a session window needs `gap` (or `gap_expr` for a dynamic gap)",
                    "gap = \"30 s\"",
                );
                None
            }
        },
        "global" => Some(Shape {
            assigner: Assigner::Global,
            gap: None,
            count: None,
        }),
        "count" => {
            let size_v = need(ck, &r.size, "size")?;
            let size = positive_count(ck, &size_v, "the count window size")?;
            let slide = match &r.slide {
                Some(s) => Some(positive_count(ck, s, "the count window slide")?),
                None => None,
            };
            Some(Shape {
                assigner: Assigner::Global,
                gap: None,
                count: Some((size, slide)),
            })
        }
        _ => unreachable!(),
    }
}

/// Checks a window operator reading `input` (through `input_ref`).
pub(super) fn check_window(
    ck: &mut Checker,
    o: &RawOperator,
    input: &Schema,
    input_ref: &InputRef,
    names: Vec<&str>,
    kinds: &[Option<NodeKind>],
    interner: &mut Interner,
) -> Option<(NodeKind, Schema)> {
    let name = o.name.get_ref();
    let key = match &kinds[input_ref.node] {
        Some(NodeKind::KeyBy { key }) => Some(key.clone()),
        _ => None,
    };
    if key.is_none() {
        let p = o.parallelism.as_ref().map(|p| *p.get_ref());
        if p.is_some_and(|p| p != 1) {
            ck.error(
                o.parallelism.as_ref().map(|p| p.span()),
                format!("window `{name}` reads a non-keyed stream, so it runs with parallelism 1 (Flink's windowAll)"),
                "key the stream with a key_by to run windows in parallel",
            );
            return None;
        }
        let _ = &names;
    }
    let processing_time = match o.time.as_ref().map(|t| t.get_ref().as_str()) {
        None | Some("event") => false,
        Some("processing") => true,
        Some(other) => {
            ck.error(
                o.time.as_ref().map(|t| t.span()),
                format!("unknown time `{other}`"),
                "expected event or processing",
            );
            return None;
        }
    };
    let Some(w) = &o.window else {
        ck.error(
            Some(o.name.span()),
            format!("window `{name}` needs a `window`"),
            "window = { type = \"tumbling\", size = \"1 min\" }",
        );
        return None;
    };
    let shape = shape(ck, w, &[("", input)], interner)?;
    let global = shape.assigner == Assigner::Global;
    let count_window = shape.count.is_some();
    let allowed_lateness = match &o.allowed_lateness {
        None => 0,
        Some(l) => {
            let d = ck.duration(l, "allowed_lateness")?;
            if processing_time && d.0 > 0 {
                ck.error(
                    Some(l.span()),
                    "allowed lateness applies to event-time windows only",
                    "processing-time windows are never late",
                );
                return None;
            }
            if global && d.0 > 0 {
                // Flink accepts allowedLateness on GlobalWindows, but the window never ends,
                // so nothing is ever late and the lateness never counts.
                let what = if count_window {
                    "a count window"
                } else {
                    "a global window"
                };
                ck.warn(
                    Some(l.span()),
                    format!("allowed_lateness has no effect on {what}"),
                    "it never ends, so no element is ever late for it; remove `allowed_lateness`",
                );
            }
            d.as_millis() as i64
        }
    };
    if let Some(l) = &o.late_output
        && (processing_time || global)
    {
        ck.error(
            Some(l.span()),
            "only event-time windows have late data",
            "remove `late_output`",
        );
        return None;
    }
    let trigger = match &o.trigger {
        None => None,
        Some(t) => {
            if count_window {
                ck.error(
                    Some(t.span()),
                    "a count window has its own count trigger",
                    "use type = \"global\" with a trigger instead",
                );
                return None;
            }
            let r = t.get_ref();
            let tkind = r.kind.get_ref().as_str();
            let takes: Option<&[&str]> = match tkind {
                "event_time" | "processing_time" | "never" => Some(&[]),
                "count" => Some(&["count"]),
                "continuous_event_time" | "continuous_processing_time" => Some(&["interval"]),
                _ => None, // unknown: reported below
            };
            if let Some(takes) = takes {
                for (k, span) in [
                    ("count", r.count.as_ref().map(|v| v.span())),
                    ("interval", r.interval.as_ref().map(|v| v.span())),
                ] {
                    if let Some(span) = span
                        && !takes.contains(&k)
                    {
                        ck.error(
                            Some(span),
                            format!("`{k}` is not an option of the {tkind} trigger"),
                            if takes.is_empty() {
                                format!("the {tkind} trigger takes no options but `purging`")
                            } else {
                                format!(
                                    "the {tkind} trigger takes `{}` (and `purging`)",
                                    takes.join("`, `")
                                )
                            },
                        );
                        return None;
                    }
                }
            }
            let interval = |ck: &mut Checker| -> Option<i64> {
                match &r.interval {
                    Some(i) => {
                        let d = ck.duration(i, "interval")?;
                        if d.0 == 0 {
                            ck.error(
                                Some(i.span()),
                                "the trigger interval must be more than zero",
                                "",
                            );
                            return None;
                        }
                        Some(d.as_millis() as i64)
                    }
                    None => {
                        ck.error(
                            Some(r.kind.span()),
                            "a continuous trigger needs an `interval`",
                            "interval = \"10 s\"",
                        );
                        None
                    }
                }
            };
            let kind = match r.kind.get_ref().as_str() {
                "event_time" => TriggerKind::EventTime,
                "processing_time" => TriggerKind::ProcessingTime,
                "count" => match &r.count {
                    Some(c) if *c.get_ref() >= 1 => TriggerKind::Count(*c.get_ref() as u64),
                    Some(c) => {
                        ck.error(
                            Some(c.span()),
                            "a count trigger fires every `count` elements: at least 1",
                            "",
                        );
                        return None;
                    }
                    None => {
                        ck.error(
                            Some(r.kind.span()),
                            "a count trigger needs `count`",
                            "count = 100",
                        );
                        return None;
                    }
                },
                "continuous_event_time" => TriggerKind::ContinuousEventTime(interval(ck)?),
                "continuous_processing_time" => {
                    TriggerKind::ContinuousProcessingTime(interval(ck)?)
                }
                "never" => TriggerKind::Never,
                other => {
                    ck.error(
                        Some(r.kind.span()),
                        format!("unknown trigger `{other}`"),
                        "expected event_time, processing_time, count, continuous_event_time, continuous_processing_time, never",
                    );
                    return None;
                }
            };
            if global && !processing_time && matches!(kind, TriggerKind::ContinuousEventTime(_)) {
                // Flink's ContinuousEventTimeTrigger on GlobalWindows: maxTimestamp is
                // Long.MAX_VALUE, so at the final watermark it fires and re-registers for ever.
                ck.warn(
                    Some(t.span()),
                    "a global window with a continuous event-time trigger never stops firing",
                    "at the end of input the watermark becomes +∞ and the trigger fires again and again, \
                     without end (in Flink too); streamlab stops such a run with an error. Give the window an end \
                     (tumbling, sliding or session) or use a count trigger",
                );
            }
            Some(Trigger {
                kind,
                purging: r.purging.unwrap_or(false),
            })
        }
    };
    let evictor = match &o.evictor {
        None => None,
        Some(e) => {
            if count_window {
                let sliding = shape.count.is_some_and(|(_, slide)| slide.is_some());
                ck.error(
                    Some(e.span()),
                    if sliding {
                        "a count window with a slide has its own count evictor (it keeps the last `size` elements)"
                    } else {
                        "a count window takes no `evictor`"
                    },
                    "for another evictor use type = \"global\" with a trigger, e.g. trigger = { type = \"count\", count = 10 }",
                );
                return None;
            }
            let r = e.get_ref();
            let ekind = r.kind.get_ref().as_str();
            for (k, span, owner) in [
                ("size", r.size.as_ref().map(|v| v.span()), "time"),
                ("count", r.count.as_ref().map(|v| v.span()), "count"),
            ] {
                if let Some(span) = span
                    && matches!(ekind, "count" | "time")
                    && ekind != owner
                {
                    let takes = if ekind == "count" { "count" } else { "size" };
                    ck.error(
                        Some(span),
                        format!("`{k}` is not an option of a {ekind} evictor"),
                        format!(
                            "a {ekind} evictor takes `{takes}`; `{k}` belongs to a {owner} evictor"
                        ),
                    );
                    return None;
                }
            }
            match ekind {
                "count" => match &r.count {
                    Some(c) if *c.get_ref() >= 1 => Some(Evictor::Count(*c.get_ref() as usize)),
                    _ => {
                        ck.error(
                            Some(r.kind.span()),
                            "a count evictor needs `count` of at least 1",
                            "count = 10",
                        );
                        return None;
                    }
                },
                "time" => match &r.size {
                    Some(s) => {
                        let d = ck.duration(s, "evictor size")?;
                        if d.0 == 0 {
                            ck.error(
                                Some(s.span()),
                                "the evictor's size must be more than zero",
                                "",
                            );
                            return None;
                        }
                        Some(Evictor::Time(d.as_millis() as i64))
                    }
                    None => {
                        ck.error(
                            Some(r.kind.span()),
                            "a time evictor needs `size`",
                            "size = \"10 s\"",
                        );
                        return None;
                    }
                },
                other => {
                    ck.error(
                        Some(r.kind.span()),
                        format!("unknown evictor `{other}`"),
                        "expected count or time",
                    );
                    return None;
                }
            }
        }
    };
    // The aggregation.
    let Some(function) = &o.function else {
        ck.error(
            Some(o.name.span()),
            format!("window `{name}` needs a `function`"),
            "function = \"sum\" | \"count\" | \"min\" | \"max\" | \"avg\" | \"expr\"",
        );
        return None;
    };
    let f = function.get_ref().as_str();
    if f != "expr"
        && let Some(sel) = &o.select
    {
        ck.error(
            Some(sel.span()),
            format!("`select` is for function = \"expr\", not `{f}`"),
            if f == "count" {
                "`count` takes no options but `as`".to_string()
            } else {
                format!("`{f}` takes `field` (and `as`)")
            },
        );
        return None;
    }
    let field = |ck: &mut Checker, numeric: bool| -> Option<usize> {
        let Some(field) = &o.field else {
            ck.error(
                Some(function.span()),
                format!("`{f}` needs a `field`"),
                format!("fields: {}", input.names()),
            );
            return None;
        };
        let Some(i) = input.index_of(field.get_ref()) else {
            ck.error(
                Some(field.span()),
                format!("unknown field `{}`", field.get_ref()),
                format!("known fields: {}", input.names()),
            );
            return None;
        };
        let ty = input.fields[i].ty;
        if (numeric && !matches!(ty, Type::Int | Type::Float)) || ty == Type::Bool {
            ck.error(
                Some(field.span()),
                format!(
                    "`{f}` cannot aggregate `{}`, which is {ty}",
                    field.get_ref()
                ),
                "",
            );
            return None;
        }
        Some(i)
    };
    let (wfn, results): (WindowFn, Vec<Field>) = match f {
        "sum" | "min" | "max" | "avg" => {
            let i = field(ck, f == "sum" || f == "avg")?;
            let src = &input.fields[i];
            let (wfn, default_name, ty) = match f {
                "sum" => (WindowFn::Sum(i), src.name.to_string(), src.ty),
                "min" => (WindowFn::Min(i), src.name.to_string(), src.ty),
                "max" => (WindowFn::Max(i), src.name.to_string(), src.ty),
                _ => (WindowFn::Avg(i), format!("avg_{}", src.name), Type::Float),
            };
            let name = o.as_.as_ref().map_or(default_name, |a| a.get_ref().clone());
            (
                wfn,
                vec![Field {
                    name: name.into(),
                    ty,
                }],
            )
        }
        "count" => {
            if let Some(fl) = &o.field {
                ck.error(Some(fl.span()), "`count` takes no `field`", "");
                return None;
            }
            let name = o
                .as_
                .as_ref()
                .map_or("count".to_string(), |a| a.get_ref().clone());
            (
                WindowFn::Count,
                vec![Field {
                    name: name.into(),
                    ty: Type::Int,
                }],
            )
        }
        "expr" => {
            if let Some(a) = &o.as_ {
                ck.error(
                    Some(a.span()),
                    "an expression reduce emits the reduced record; `as` does not apply",
                    "",
                );
                return None;
            }
            if let Some(fl) = &o.field {
                ck.error(
                    Some(fl.span()),
                    "`expr` takes no `field`: its `select` says what each field becomes",
                    "",
                );
                return None;
            }
            let Some(select) = &o.select else {
                ck.error(
                    Some(function.span()),
                    "function = \"expr\" needs a `select` table",
                    "select = { total = \"acc.total + total\" }",
                );
                return None;
            };
            let mut out = Vec::new();
            for (fname, text) in select.get_ref() {
                let src = ck.expr_src(text);
                let Some(i) = input.index_of(fname) else {
                    ck.error(
                        Some(text.span()),
                        format!("a reduce keeps its input's fields; `{fname}` is not one of them"),
                        format!("fields: {}", input.names()),
                    );
                    return None;
                };
                match expr::compile(
                    text.get_ref(),
                    &Scope::Reduce {
                        acc: input,
                        cur: input,
                    },
                    interner,
                ) {
                    Ok(e)
                        if e.ty == input.fields[i].ty
                            || (input.fields[i].ty == Type::Float && e.ty == Type::Int) => {}
                    Ok(e) => {
                        ck.error(
                            Some(text.span()),
                            format!(
                                "`{fname}` is {}, but `{}` is {}",
                                input.fields[i].ty,
                                text.get_ref(),
                                e.ty
                            ),
                            "",
                        );
                        return None;
                    }
                    Err(err) => {
                        ck.expr_error(&src, err);
                        return None;
                    }
                }
                out.push((fname.clone(), src));
            }
            (WindowFn::Expr(out), input.fields.clone())
        }
        other => {
            ck.error(
                Some(function.span()),
                format!("unknown window function `{other}`"),
                "expected one of sum, count, min, max, avg, expr",
            );
            return None;
        }
    };
    // Output: key, window bounds (time windows), results. The reduced record of an `expr`
    // window already holds a key that is a plain field, so it gets no separate key column
    // (the runtime's `with_key` follows the same rule).
    let mut fields = Vec::new();
    if let Some(k) = &key {
        let e = expr::compile(&k.text, &Scope::Record(input), interner).ok()?;
        let in_record = matches!(wfn, WindowFn::Expr(_)) && e.as_field().is_some();
        if !in_record {
            let kname = e
                .as_field()
                .map_or_else(|| "key".to_string(), |i| input.fields[i].name.to_string());
            fields.push(Field {
                name: kname.into(),
                ty: e.ty,
            });
        }
    }
    if !global {
        fields.push(Field {
            name: "window_start".into(),
            ty: Type::Int,
        });
        fields.push(Field {
            name: "window_end".into(),
            ty: Type::Int,
        });
    }
    fields.extend(results);
    for (i, fl) in fields.iter().enumerate() {
        if fields[..i].iter().any(|x| x.name == fl.name) {
            ck.error(
                o.as_.as_ref().map(|a| a.span()).or(Some(o.name.span())),
                format!(
                    "window `{name}` would output two fields named `{}`",
                    fl.name
                ),
                if matches!(wfn, WindowFn::Expr(_)) {
                    "the result of `expr` is the input record: rename that field upstream (with a map)"
                } else {
                    "rename the result with `as = \"…\"`"
                },
            );
            return None;
        }
    }
    let spec = WindowSpec {
        key,
        assigner: shape.assigner,
        gap: shape.gap,
        count: shape.count,
        processing_time,
        trigger,
        evictor,
        allowed_lateness,
        function: wfn,
        late_output: o.late_output.as_ref().map(|l| l.get_ref().clone()),
    };
    Some((NodeKind::Window(Box::new(spec)), Schema { fields }))
}
