//! Two-input operators: `co_map` (`connect(…).map(CoMapFunction)`), `window_join` and
//! `interval_join` (joins of two keyed streams whose keys have one type), and `join`, a
//! regular inner equi-join (Flink SQL's `Join`: every record of both sides kept forever).

use super::assigner::shape;
use super::checker::{Checker, NodeCheck, Upstream};
use crate::core::value::{Field, Schema, Type};
use crate::expr::{Compiled, ExprError, Scope, compile_typed};
use crate::scenario::raw::RawOperator;
use crate::scenario::{ExprSrc, JoinKind, JoinSpec, NodeKind};
use indexmap::IndexMap;
use toml::Spanned as TSpanned;

type Select = TSpanned<IndexMap<String, TSpanned<String>>>;

/// A checked select table: the output fields and, per field, its expression.
type Selected = (Vec<Field>, Vec<(String, ExprSrc)>);

/// Compiles a select table in a scope; the output fields and expressions, or `None` after
/// reporting every mistake.
fn select(ck: &mut Checker, sel: &Select, scope: &Scope<'_>) -> Option<Selected> {
    let mut fields = Vec::new();
    let mut exprs = Vec::new();
    let mut ok = true;
    for (name, text) in sel.get_ref() {
        match ck.compile(text, |t| Compiled::expr(t, scope)) {
            Some(e) => {
                fields.push(Field {
                    name: name.as_str().into(),
                    ty: e.compiled.ty(),
                });
                exprs.push((name.clone(), e));
            }
            None => ok = false,
        }
    }
    if sel.get_ref().is_empty() {
        ck.error(Some(sel.span()), "the select table is empty", "");
        ok = false;
    }
    ok.then_some((fields, exprs))
}

/// A `co_map`: `map1` over the first input's records, `map2` over the second's, giving the
/// same fields.
pub fn check_co_map(ck: &mut Checker, o: &RawOperator, up: &Upstream<'_>) -> Option<NodeCheck> {
    let (left, right) = (up.schemas[0], up.schemas[1]);
    let (Some(m1), Some(m2)) = (&o.map1, &o.map2) else {
        ck.error(
            Some(o.name.span()),
            format!(
                "co_map `{}` needs `map1` (for the first input) and `map2` (for the second)",
                o.name.get_ref()
            ),
            "map1 = { temp = \"celsius\" }",
        );
        return None;
    };
    let (f1, e1) = select(ck, m1, &Scope::Record(left))?;
    let (f2, e2) = select(ck, m2, &Scope::Record(right))?;
    if f1 != f2 {
        let show = |f: &[Field]| Schema { fields: f.to_vec() }.to_string();
        ck.error(
            Some(m2.span()),
            format!("map1 gives {} but map2 gives {}", show(&f1), show(&f2)),
            "both maps must produce the same fields, in the same order, with the same types",
        );
        return None;
    }
    NodeCheck::ok(
        NodeKind::CoMap { map1: e1, map2: e2 },
        Schema { fields: f1 },
    )
}

/// A `window_join` or an `interval_join` of two keyed streams.
pub fn check_join(ck: &mut Checker, o: &RawOperator, up: &Upstream<'_>) -> Option<NodeCheck> {
    let kind = o.kind.get_ref().as_str();
    let (left, right) = (up.schemas[0], up.schemas[1]);
    // Joins read two keyed streams with keys of one type.
    let mut keys = Vec::new();
    for (k, r) in up.refs.iter().enumerate() {
        match up.key_of(k) {
            Some(key) => keys.push(key.clone()),
            None => {
                ck.error(
                    Some(r.span.clone()),
                    format!("a {kind} joins keyed streams: this input is not a key_by"),
                    "key both inputs by the join key",
                );
                return None;
            }
        }
    }
    let (lt, rt) = (keys[0].compiled.ty(), keys[1].compiled.ty());
    if lt != rt {
        ck.error(
            Some(up.refs[1].span.clone()),
            format!("the join keys have different types: {lt} and {rt}"),
            "",
        );
        return None;
    }
    let (join, gap) = if kind == "window_join" {
        window_join(ck, o, left, right)?
    } else if kind == "join" {
        (JoinKind::Regular, None)
    } else {
        (interval(ck, o)?, None)
    };
    let (fields, select) = match &o.select {
        Some(s) => {
            let (f, e) = select(ck, s, &Scope::Join { left, right })?;
            (f, Some(e))
        }
        None => {
            let prefixed = |side: &str, s: &Schema| -> Vec<Field> {
                s.fields
                    .iter()
                    .map(|x| Field {
                        name: format!("{side}_{}", x.name).into(),
                        ty: x.ty,
                    })
                    .collect()
            };
            let mut f = prefixed("left", left);
            f.extend(prefixed("right", right));
            (f, None)
        }
    };
    let mut keys = keys.into_iter();
    let spec = JoinSpec {
        left_key: keys.next()?,
        right_key: keys.next()?,
        kind: join,
        gap,
        select,
    };
    NodeCheck::ok(NodeKind::Join(Box::new(spec)), Schema { fields })
}

/// A dynamic session gap, compiled over each input's records.
type Gap = Option<ExprSrc<[crate::expr::Expr; 2]>>;

/// `window_join`: the window of a window operator (tumbling, sliding or session), with a
/// dynamic session gap computed for the records of both inputs.
fn window_join(
    ck: &mut Checker,
    o: &RawOperator,
    left: &Schema,
    right: &Schema,
) -> Option<(JoinKind, Gap)> {
    let Some(w) = &o.window else {
        ck.error(
            Some(o.name.span()),
            format!("window_join `{}` needs a `window`", o.name.get_ref()),
            "window = { type = \"tumbling\", size = \"10 s\" }",
        );
        return None;
    };
    let r = w.get_ref();
    let wkind = r.kind.get_ref().as_str();
    if matches!(wkind, "global" | "count" | "cumulate") {
        ck.error(
            Some(r.kind.span()),
            format!("a window join takes tumbling, sliding or session windows, not `{wkind}`"),
            "streamlab joins in event-time tumbling, sliding or session windows, e.g. window = { type = \"tumbling\", size = \"10 s\" }",
        );
        return None;
    }
    // The same assigners, options and checks as a window operator's.
    let shape = shape(ck, w, |t, i| {
        let gap = |side: &str, s: &Schema, i: &mut _| {
            compile_typed(t, &Scope::Record(s), i, Type::Int, "a session gap (milliseconds)")
                .map_err(|e| ExprError {
                    message: format!(
                        "for the {side} input's records: {} (a window join computes the gap for the records of both inputs)",
                        e.message
                    ),
                    ..e
                })
        };
        Ok([gap("left", left, i)?, gap("right", right, i)?])
    })?;
    Some((JoinKind::Window(shape.assigner), shape.gap))
}

/// `interval_join`: `left.ts + lower <= right.ts <= left.ts + upper`.
fn interval(ck: &mut Checker, o: &RawOperator) -> Option<JoinKind> {
    let (Some(lo), Some(hi)) = (&o.lower, &o.upper) else {
        ck.error(
            Some(o.name.span()),
            format!(
                "interval_join `{}` needs `lower` and `upper`",
                o.name.get_ref()
            ),
            "lower = \"-5 s\", upper = \"5 s\"",
        );
        return None;
    };
    let example = "e.g. \"-5 s\" or \"2 min\"";
    let lower = ck.signed_ms(lo, "lower", example)?;
    let upper = ck.signed_ms(hi, "upper", example)?;
    if lower > upper {
        ck.error(
            Some(lo.span()),
            format!("lower ({lower} ms) is above upper ({upper} ms)"),
            "Flink: lowerBound <= upperBound",
        );
        return None;
    }
    Some(JoinKind::Interval { lower, upper })
}

#[cfg(test)]
mod tests {
    use crate::check::parse_str;

    const SRC: &str = "[[source]]\nname = \"a\"\nkind = \"inline\"\nevents = [{ k = 1, t = 5 }]\ntimestamp = \"t\"\nwatermarks = { strategy = \"monotonous\" }\n[[source]]\nname = \"b\"\nkind = \"inline\"\nevents = [{ j = 1, u = \"x\" }]\ntimestamp = \"j\"\nwatermarks = { strategy = \"monotonous\" }\n[[operator]]\nname = \"ka\"\nkind = \"key_by\"\ninput = \"a\"\nkey = \"k\"\n[[operator]]\nname = \"kb\"\nkind = \"key_by\"\ninput = \"b\"\nkey = \"j\"\n";

    fn check(op: &str) -> Result<String, String> {
        let text = format!(
            "{SRC}[[operator]]\nname = \"j\"\n{op}\n[[sink]]\nname = \"out\"\ninput = \"j\"\n"
        );
        parse_str("t.toml", &text, None)
            .map(|s| s.nodes[4].schema.to_string())
            .map_err(|d| d.to_string())
    }

    #[test]
    fn joins_read_two_keyed_streams_with_keys_of_one_type() {
        let e = check(
            "kind = \"interval_join\"\ninputs = [\"a\", \"kb\"]\nlower = \"0 s\"\nupper = \"1 s\"",
        )
        .unwrap_err();
        assert!(
            e.contains("a interval_join joins keyed streams: this input is not a key_by"),
            "{e}"
        );
        assert_eq!(
            check("kind = \"interval_join\"\ninputs = [\"ka\", \"kb\"]\nlower = \"-1 s\"\nupper = \"1 s\"").unwrap(),
            "(left_k: int, left_t: int, right_j: int, right_u: string)"
        );
        let e = check(
            "kind = \"interval_join\"\ninputs = [\"ka\", \"kb\"]\nlower = \"2 s\"\nupper = \"1 s\"",
        )
        .unwrap_err();
        assert!(
            e.contains("lower (2000 ms) is above upper (1000 ms)"),
            "{e}"
        );
    }

    #[test]
    fn a_window_join_takes_time_windows_and_a_gap_valid_on_both_sides() {
        let e = check(
            "kind = \"window_join\"\ninputs = [\"ka\", \"kb\"]\nwindow = { type = \"global\" }",
        )
        .unwrap_err();
        assert!(
            e.contains("a window join takes tumbling, sliding or session windows, not `global`"),
            "{e}"
        );
        let e = check("kind = \"window_join\"\ninputs = [\"ka\", \"kb\"]\nwindow = { type = \"session\", gap_expr = \"t\" }").unwrap_err();
        assert!(
            e.contains("for the right input's records: unknown field `t`"),
            "{e}"
        );
        assert_eq!(
            check("kind = \"window_join\"\ninputs = [\"ka\", \"kb\"]\nwindow = { type = \"tumbling\", size = \"1 s\" }\nselect = { k = \"left.k\", u = \"right.u\" }").unwrap(),
            "(k: int, u: string)"
        );
    }

    #[test]
    fn a_co_map_gives_the_same_fields_from_both_maps() {
        let e = check("kind = \"co_map\"\ninputs = [\"a\", \"b\"]\nmap1 = { x = \"k\" }\nmap2 = { x = \"u\" }").unwrap_err();
        assert!(
            e.contains("map1 gives (x: int) but map2 gives (x: string)"),
            "{e}"
        );
    }
}
