//! `kind = "window"` operators: Flink's `WindowOperator` over a keyed stream (or `windowAll`
//! over a non-keyed one) — the assigner ([`super::assigner`]), event or processing time,
//! allowed lateness and late data, trigger and evictor ([`super::trigger`]), and the
//! aggregation, which decides the fields of the results.

use super::assigner::shape;
use super::checker::{Checker, NodeCheck, Upstream};
use super::key_by::key_column;
use super::reduce::assign;
use super::trigger::{evictor, trigger};
use crate::core::value::{Field, Schema, Type};
use crate::expr::{Scope, compile_typed};
use crate::flink::window::Assigner;
use crate::flink::window::trigger::{Evictor, Trigger};
use crate::scenario::raw::RawOperator;
use crate::scenario::{ExprSrc, NodeKind, WindowFn, WindowSpec};

/// A window operator; its input is keyed when it reads a `key_by`.
pub fn check_window(ck: &mut Checker, o: &RawOperator, up: &Upstream<'_>) -> Option<NodeCheck> {
    let name = o.name.get_ref();
    let input = up.schemas[0];
    let key = up.key_of(0).cloned();
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
    }
    let processing_time = processing_time(ck, o)?;
    let Some(w) = &o.window else {
        ck.error(
            Some(o.name.span()),
            format!("window `{name}` needs a `window`"),
            "window = { type = \"tumbling\", size = \"1 min\" }",
        );
        return None;
    };
    let shape = shape(ck, w, |t, i| {
        compile_typed(
            t,
            &Scope::Record(input),
            i,
            Type::Int,
            "a session gap (milliseconds)",
        )
    })?;
    let global = shape.assigner == Assigner::Global;
    let count_window = shape.count.is_some();
    let allowed_lateness = allowed_lateness(ck, o, processing_time, global, count_window)?;
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
    let (trigger, evictor) = trigger_and_evictor(ck, o, &shape.count, global, processing_time)?;
    let (function, results) = function(ck, o, input)?;
    let fields = output_fields(ck, o, key.as_ref(), input, global, &function, results)?;
    let spec = WindowSpec {
        key,
        assigner: shape.assigner,
        gap: shape.gap,
        count: shape.count,
        processing_time,
        trigger,
        evictor,
        allowed_lateness,
        function,
        late_output: o.late_output.as_ref().map(|l| l.get_ref().clone()),
    };
    NodeCheck::ok(NodeKind::Window(Box::new(spec)), Schema { fields })
}

/// `time = "event"` (the default) or `"processing"`: whether it is a processing-time window.
fn processing_time(ck: &mut Checker, o: &RawOperator) -> Option<bool> {
    match o.time.as_ref().map(|t| t.get_ref().as_str()) {
        None | Some("event") => Some(false),
        Some("processing") => Some(true),
        Some(other) => {
            ck.error(
                o.time.as_ref().map(|t| t.span()),
                format!("unknown time `{other}`"),
                "expected event or processing",
            );
            None
        }
    }
}

/// `allowed_lateness` in ms (Flink default 0): for event-time windows only; it has no effect
/// on windows that never end.
fn allowed_lateness(
    ck: &mut Checker,
    o: &RawOperator,
    processing_time: bool,
    global: bool,
    count_window: bool,
) -> Option<i64> {
    let Some(l) = &o.allowed_lateness else {
        return Some(0);
    };
    let d = ck.duration(l, "allowed_lateness")?;
    if processing_time && !d.is_zero() {
        ck.error(
            Some(l.span()),
            "allowed lateness applies to event-time windows only",
            "processing-time windows are never late",
        );
        return None;
    }
    if global && !d.is_zero() {
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
    Some(d.as_millis() as i64)
}

/// The trigger and evictor written on the window; a count window has its own (a purging
/// count trigger, and a count evictor when it slides) and takes neither.
fn trigger_and_evictor(
    ck: &mut Checker,
    o: &RawOperator,
    count: &Option<(u64, Option<u64>)>,
    global: bool,
    processing_time: bool,
) -> Option<(Option<Trigger>, Option<Evictor>)> {
    let count_window = count.is_some();
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
            Some(trigger(ck, t, global, processing_time)?)
        }
    };
    let evictor = match &o.evictor {
        None => None,
        Some(e) => {
            if count_window {
                let sliding = count.is_some_and(|(_, slide)| slide.is_some());
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
            Some(evictor(ck, e)?)
        }
    };
    Some((trigger, evictor))
}

/// The aggregation and the fields of its result: `sum`, `min`, `max`, `avg` of a field or
/// `count` (one result field, renamed with `as`), or `expr` (the reduced record itself).
fn function(ck: &mut Checker, o: &RawOperator, input: &Schema) -> Option<(WindowFn, Vec<Field>)> {
    let Some(function) = &o.function else {
        ck.error(
            Some(o.name.span()),
            format!("window `{}` needs a `function`", o.name.get_ref()),
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
    match f {
        "sum" | "min" | "max" | "avg" => {
            let i = aggregated_field(ck, o, input, f == "sum" || f == "avg")?;
            let src = &input.fields[i];
            let (wfn, default_name, ty) = match f {
                "sum" => (WindowFn::Sum(i), src.name.to_string(), src.ty),
                "min" => (WindowFn::Min(i), src.name.to_string(), src.ty),
                "max" => (WindowFn::Max(i), src.name.to_string(), src.ty),
                _ => (WindowFn::Avg(i), format!("avg_{}", src.name), Type::Float),
            };
            let name = o.as_.as_ref().map_or(default_name, |a| a.get_ref().clone());
            Some((
                wfn,
                vec![Field {
                    name: name.into(),
                    ty,
                }],
            ))
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
            Some((
                WindowFn::Count,
                vec![Field {
                    name: name.into(),
                    ty: Type::Int,
                }],
            ))
        }
        "expr" => expr_function(ck, o, input),
        other => {
            ck.error(
                Some(function.span()),
                format!("unknown window function `{other}`"),
                "expected one of sum, count, min, max, avg, expr",
            );
            None
        }
    }
}

/// The field `sum`, `min`, `max` or `avg` aggregates: it exists, is a number for `sum` and
/// `avg`, and is not a boolean.
fn aggregated_field(
    ck: &mut Checker,
    o: &RawOperator,
    input: &Schema,
    numeric: bool,
) -> Option<usize> {
    let function = o.function.as_ref()?;
    let f = function.get_ref();
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
}

/// `function = "expr"`: a reduce function over `acc.*` and the record; the result is the
/// reduced record, with the input's fields.
fn expr_function(
    ck: &mut Checker,
    o: &RawOperator,
    input: &Schema,
) -> Option<(WindowFn, Vec<Field>)> {
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
            o.function.as_ref().map(|f| f.span()),
            "function = \"expr\" needs a `select` table",
            "select = { total = \"acc.total + total\" }",
        );
        return None;
    };
    let mut out = Vec::new();
    for (fname, text) in select.get_ref() {
        out.push((fname.clone(), assign(ck, fname, text, input)?));
    }
    Some((WindowFn::Expr(out), input.fields.clone()))
}

/// The fields of the results: the key, the window bounds (time windows), the aggregate. The
/// reduced record of an `expr` window already holds a key that is a plain field, so it gets no
/// separate key column (the runtime's `with_key` follows the same rule).
fn output_fields(
    ck: &mut Checker,
    o: &RawOperator,
    key: Option<&ExprSrc>,
    input: &Schema,
    global: bool,
    function: &WindowFn,
    results: Vec<Field>,
) -> Option<Vec<Field>> {
    let mut fields = Vec::new();
    if let Some(k) = key {
        let in_record = matches!(function, WindowFn::Expr(_)) && k.compiled.as_field().is_some();
        if !in_record {
            fields.push(key_column(k, input));
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
                    "window `{}` would output two fields named `{}`",
                    o.name.get_ref(),
                    fl.name
                ),
                if matches!(function, WindowFn::Expr(_)) {
                    "the result of `expr` is the input record: rename that field upstream (with a map)"
                } else {
                    "rename the result with `as = \"…\"`"
                },
            );
            return None;
        }
    }
    Some(fields)
}

#[cfg(test)]
mod tests {
    use crate::check::parse_str;

    fn check(opts: &str) -> Result<String, String> {
        let text = format!(
            "[[source]]\nname = \"a\"\nkind = \"inline\"\nevents = [{{ k = 1, t = 5, ok = true }}]\ntimestamp = \"t\"\nwatermarks = {{ strategy = \"monotonous\" }}\n[[operator]]\nname = \"by\"\nkind = \"key_by\"\ninput = \"a\"\nkey = \"k\"\n[[operator]]\nname = \"w\"\nkind = \"window\"\n{opts}\n[[sink]]\nname = \"out\"\ninput = \"w\"\n"
        );
        parse_str("t.toml", &text, None)
            .map(|s| s.nodes[2].schema.to_string())
            .map_err(|d| d.to_string())
    }

    const TUMBLING: &str = "input = \"by\"\nwindow = { type = \"tumbling\", size = \"1 s\" }";

    #[test]
    fn results_hold_the_key_the_bounds_and_the_aggregate() {
        assert_eq!(
            check(&format!("{TUMBLING}\nfunction = \"avg\"\nfield = \"t\"")).unwrap(),
            "(k: int, window_start: int, window_end: int, avg_t: float)"
        );
        assert_eq!(
            check(&format!(
                "{TUMBLING}\nfunction = \"expr\"\nselect = {{ t = \"acc.t + t\" }}"
            ))
            .unwrap(),
            "(window_start: int, window_end: int, k: int, t: int, ok: bool)"
        );
        let e = check(&format!("{TUMBLING}\nfunction = \"count\"\nas = \"k\"")).unwrap_err();
        assert!(
            e.contains("window `w` would output two fields named `k`"),
            "{e}"
        );
    }

    #[test]
    fn aggregations_check_their_fields() {
        let e = check(&format!("{TUMBLING}\nfunction = \"sum\"\nfield = \"ok\"")).unwrap_err();
        assert!(
            e.contains("`sum` cannot aggregate `ok`, which is bool"),
            "{e}"
        );
        let e = check(&format!(
            "{TUMBLING}\nfunction = \"count\"\nselect = {{ t = \"t\" }}"
        ))
        .unwrap_err();
        assert!(
            e.contains("`select` is for function = \"expr\", not `count`"),
            "{e}"
        );
        let e = check(&format!("{TUMBLING}\nfunction = \"median\"")).unwrap_err();
        assert!(e.contains("unknown window function `median`"), "{e}");
    }

    #[test]
    fn a_non_keyed_window_runs_with_parallelism_one_and_late_data_needs_event_time() {
        let e = check("input = \"a\"\nparallelism = 2\nwindow = { type = \"tumbling\", size = \"1 s\" }\nfunction = \"count\"").unwrap_err();
        assert!(
            e.contains("window `w` reads a non-keyed stream, so it runs with parallelism 1"),
            "{e}"
        );
        let e = check(&format!(
            "{TUMBLING}\nfunction = \"count\"\ntime = \"processing\"\nallowed_lateness = \"1 s\""
        ))
        .unwrap_err();
        assert!(
            e.contains("allowed lateness applies to event-time windows only"),
            "{e}"
        );
        let e = check("input = \"by\"\nwindow = { type = \"count\", size = 2 }\nfunction = \"count\"\nevictor = { type = \"count\", count = 1 }").unwrap_err();
        assert!(e.contains("a count window takes no `evictor`"), "{e}");
    }
}
