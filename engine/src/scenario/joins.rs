//! Checking two-input operators: `co_map`, `window_join`, `interval_join`.

use super::model::*;
use super::raw::RawOperator;
use super::units::parse_duration;
use super::validate::Checker;
use crate::core::value::{Field, Interner, Schema};
use crate::expr::{self, Scope};
use indexmap::IndexMap;
use toml::Spanned as TSpanned;

type Select = TSpanned<IndexMap<String, TSpanned<String>>>;

/// A compiled select table: the output fields and, per field, its expression source.
type Compiled = (Vec<Field>, Vec<(String, ExprSrc)>);

/// Compiles a select table in a scope; returns the output fields and expressions.
fn select(
    ck: &mut Checker,
    sel: &Select,
    scope: &Scope<'_>,
    interner: &mut Interner,
) -> Option<Compiled> {
    let mut fields = Vec::new();
    let mut exprs = Vec::new();
    let mut ok = true;
    for (name, text) in sel.get_ref() {
        let src = ck.expr_src(text);
        match expr::compile(text.get_ref(), scope, interner) {
            Ok(e) => fields.push(Field {
                name: name.as_str().into(),
                ty: e.ty,
            }),
            Err(e) => {
                ck.expr_error(&src, e);
                ok = false;
            }
        }
        exprs.push((name.clone(), src));
    }
    if sel.get_ref().is_empty() {
        ck.error(Some(sel.span()), "the select table is empty", "");
        ok = false;
    }
    ok.then_some((fields, exprs))
}

fn signed_ms(ck: &mut Checker, v: &TSpanned<String>, what: &str) -> Option<i64> {
    let t = v.get_ref().trim();
    let (neg, body) = t.strip_prefix('-').map_or((false, t), |r| (true, r));
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
                "e.g. \"-5 s\" or \"2 min\"",
            );
            None
        }
    }
}

/// Checks a two-input operator.
pub(super) fn check_two_input(
    ck: &mut Checker,
    o: &RawOperator,
    ins: &[&Schema],
    refs: &[InputRef],
    kinds: &[Option<NodeKind>],
    interner: &mut Interner,
) -> Option<(NodeKind, Schema)> {
    let kind = o.kind.get_ref().as_str();
    let name = o.name.get_ref();
    let (left, right) = (ins[0], ins[1]);
    if kind == "co_map" {
        let (Some(m1), Some(m2)) = (&o.map1, &o.map2) else {
            ck.error(
                Some(o.name.span()),
                format!(
                    "co_map `{name}` needs `map1` (for the first input) and `map2` (for the second)"
                ),
                "map1 = { temp = \"celsius\" }",
            );
            return None;
        };
        let (f1, e1) = select(ck, m1, &Scope::Record(left), interner)?;
        let (f2, e2) = select(ck, m2, &Scope::Record(right), interner)?;
        if f1 != f2 {
            let show = |f: &[Field]| Schema { fields: f.to_vec() }.to_string();
            ck.error(
                Some(m2.span()),
                format!("map1 gives {} but map2 gives {}", show(&f1), show(&f2)),
                "both maps must produce the same fields, in the same order, with the same types",
            );
            return None;
        }
        return Some((
            NodeKind::CoMap { map1: e1, map2: e2 },
            Schema { fields: f1 },
        ));
    }
    // Joins read two keyed streams with keys of one type.
    let mut keys = Vec::new();
    for r in refs {
        match &kinds[r.node] {
            Some(NodeKind::KeyBy { key }) => keys.push(key.clone()),
            _ => {
                ck.error(
                    Some(r.span.clone()),
                    format!("a {kind} joins keyed streams: this input is not a key_by"),
                    "key both inputs by the join key",
                );
                return None;
            }
        }
    }
    let lk = expr::compile(&keys[0].text, &Scope::Record(left), interner).ok()?;
    let rk = expr::compile(&keys[1].text, &Scope::Record(right), interner).ok()?;
    if lk.ty != rk.ty {
        ck.error(
            Some(refs[1].span.clone()),
            format!(
                "the join keys have different types: {} and {}",
                lk.ty, rk.ty
            ),
            "",
        );
        return None;
    }
    let mut gap = None;
    let join = match kind {
        "window_join" => {
            let Some(w) = &o.window else {
                ck.error(
                    Some(o.name.span()),
                    format!("window_join `{name}` needs a `window`"),
                    "window = { type = \"tumbling\", size = \"10 s\" }",
                );
                return None;
            };
            let r = w.get_ref();
            let wkind = r.kind.get_ref().as_str();
            if matches!(wkind, "global" | "count") {
                ck.error(
                    Some(r.kind.span()),
                    format!("a window join takes tumbling, sliding or session windows, not `{wkind}`"),
                    "streamlab joins in event-time tumbling, sliding or session windows, e.g. window = { type = \"tumbling\", size = \"10 s\" }",
                );
                return None;
            }
            // The same assigners, options and checks as a window operator's.
            let shape =
                super::windows::shape(ck, w, &[("left", left), ("right", right)], interner)?;
            gap = shape.gap;
            let assigner = shape.assigner;
            JoinKind::Window(assigner)
        }
        _ => {
            let (Some(lo), Some(hi)) = (&o.lower, &o.upper) else {
                ck.error(
                    Some(o.name.span()),
                    format!("interval_join `{name}` needs `lower` and `upper`"),
                    "lower = \"-5 s\", upper = \"5 s\"",
                );
                return None;
            };
            let lower = signed_ms(ck, lo, "lower")?;
            let upper = signed_ms(ck, hi, "upper")?;
            if lower > upper {
                ck.error(
                    Some(lo.span()),
                    format!("lower ({lower} ms) is above upper ({upper} ms)"),
                    "Flink: lowerBound <= upperBound",
                );
                return None;
            }
            JoinKind::Interval { lower, upper }
        }
    };
    let (fields, sel) = match &o.select {
        Some(s) => {
            let (f, e) = select(ck, s, &Scope::Join { left, right }, interner)?;
            (f, Some(e))
        }
        None => {
            let mut f: Vec<Field> = left
                .fields
                .iter()
                .map(|x| Field {
                    name: format!("left_{}", x.name).into(),
                    ty: x.ty,
                })
                .collect();
            f.extend(right.fields.iter().map(|x| Field {
                name: format!("right_{}", x.name).into(),
                ty: x.ty,
            }));
            (f, None)
        }
    };
    let spec = JoinSpec {
        left_key: keys[0].clone(),
        right_key: keys[1].clone(),
        kind: join,
        gap,
        select: sel,
    };
    Some((NodeKind::Join(Box::new(spec)), Schema { fields }))
}
