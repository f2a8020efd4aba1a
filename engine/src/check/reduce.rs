//! `reduce`: a rolling aggregation over a keyed stream — `sum`, `min`, `max` of a field,
//! `count`, or `expr`: a reduce function written as one expression per field over the
//! accumulated record (`acc.<field>`) and the incoming one.

use super::checker::{Checker, NodeCheck, Upstream};
use super::key_by::key_column;
use crate::core::value::{Field, Schema, Type};
use crate::expr::{Assign, Compiled, Scope, compile};
use crate::scenario::raw::RawOperator;
use crate::scenario::{ExprSrc, NodeKind, ReduceFn};
use toml::Spanned as TSpanned;

/// A `reduce`, which must read a `key_by`.
pub fn check_reduce(ck: &mut Checker, o: &RawOperator, up: &Upstream<'_>) -> Option<NodeCheck> {
    let name = o.name.get_ref();
    let input = up.schemas[0];
    let r = &up.refs[0];
    let Some(key) = up.key_of(0).cloned() else {
        ck.error(
            Some(r.span.clone()),
            format!(
                "reduce `{name}` must read a keyed stream, but `{}` is not a key_by",
                up.names[r.node]
            ),
            "insert a [[operator]] with kind = \"key_by\" between them",
        );
        return None;
    };
    let Some(function) = &o.function else {
        ck.error(
            Some(o.name.span()),
            format!("reduce `{name}` needs a `function`"),
            "function = \"sum\" | \"count\" | \"min\" | \"max\" | \"expr\"",
        );
        return None;
    };
    let f = function.get_ref().as_str();
    let no_extra = |ck: &mut Checker, select: bool, field: bool| {
        if select && let Some(s) = &o.select {
            ck.error(
                Some(s.span()),
                format!("`select` is for function = \"expr\", not `{f}`"),
                "",
            );
        }
        if field && let Some(s) = &o.field {
            ck.error(Some(s.span()), format!("`{f}` takes no `field`"), "");
        }
    };
    let function = match f {
        "sum" | "min" | "max" => {
            no_extra(ck, true, false);
            let i = aggregated_field(ck, o, function, input, f == "sum")?;
            match f {
                "sum" => ReduceFn::Sum(i),
                "min" => ReduceFn::Min(i),
                _ => ReduceFn::Max(i),
            }
        }
        "count" => {
            no_extra(ck, true, true);
            ReduceFn::Count
        }
        "expr" => {
            no_extra(ck, false, true);
            let Some(select) = &o.select else {
                ck.error(
                    Some(function.span()),
                    "function = \"expr\" needs a `select` table",
                    "select = { total = \"acc.total + total\" }",
                );
                return None;
            };
            let errors = ck.diags.error_count();
            let mut out = Vec::new();
            for (field, text) in select.get_ref() {
                if let Some(a) = assign(ck, field, text, input) {
                    out.push((field.clone(), a));
                }
            }
            if ck.diags.error_count() > errors {
                // The reduced records have the input's fields whatever the mistakes.
                return Some(NodeCheck {
                    kind: None,
                    schema: input.clone(),
                });
            }
            ReduceFn::Expr(out)
        }
        other => {
            ck.error(
                Some(function.span()),
                format!("unknown reduce function `{other}`"),
                "expected one of sum, count, min, max, expr",
            );
            return None;
        }
    };
    let schema = if function == ReduceFn::Count {
        count_schema(&key, input)
    } else {
        input.clone()
    };
    NodeCheck::ok(NodeKind::Reduce { key, function }, schema)
}

/// A rolling count emits the key and the count.
fn count_schema(key: &ExprSrc, input: &Schema) -> Schema {
    Schema {
        fields: vec![
            key_column(key, input),
            Field {
                name: "count".into(),
                ty: Type::Int,
            },
        ],
    }
}

/// The field `sum`, `min` or `max` aggregates: it exists, is a number for `sum`, and can be
/// ordered (not a boolean).
fn aggregated_field(
    ck: &mut Checker,
    o: &RawOperator,
    function: &TSpanned<String>,
    input: &Schema,
    numeric: bool,
) -> Option<usize> {
    let f = function.get_ref();
    let Some(field) = &o.field else {
        ck.error(
            Some(function.span()),
            format!("`{f}` needs a `field` to aggregate"),
            format!("field = \"…\"; fields: {}", input.names()),
        );
        return None;
    };
    let Some(idx) = input.index_of(field.get_ref()) else {
        ck.error(
            Some(field.span()),
            format!("unknown field `{}`", field.get_ref()),
            format!("known fields: {}", input.names()),
        );
        return None;
    };
    let ty = input.fields[idx].ty;
    if numeric && !matches!(ty, Type::Int | Type::Float) {
        ck.error(
            Some(field.span()),
            format!("`{f}` needs a number, but `{}` is {ty}", field.get_ref()),
            "",
        );
        return None;
    }
    if ty == Type::Bool {
        ck.error(
            Some(field.span()),
            format!("`{f}` cannot order booleans"),
            "",
        );
        return None;
    }
    Some(idx)
}

/// One `field = "expression"` of a reduce function (a `reduce`'s or a window's `expr`): the
/// field is one of the input's (a reduce keeps its input's fields), the expression reads
/// `acc.*` and the incoming record, and its type is the field's (an integer may set a float).
pub fn assign(
    ck: &mut Checker,
    field: &str,
    text: &TSpanned<String>,
    input: &Schema,
) -> Option<ExprSrc<Assign>> {
    let Some(index) = input.index_of(field) else {
        ck.error(
            Some(text.span()),
            format!("a reduce keeps its input's fields; `{field}` is not one of them"),
            format!("fields: {}", input.names()),
        );
        return None;
    };
    let scope = Scope::Reduce {
        acc: input,
        cur: input,
    };
    let a = ck.compile(text, |t| {
        Compiled::with(|i| {
            Ok(Assign {
                index,
                expr: compile(t, &scope, i)?,
            })
        })
    })?;
    let (want, got) = (input.fields[index].ty, a.compiled.get().expr.ty);
    if !(got == want || (want == Type::Float && got == Type::Int)) {
        ck.error(
            Some(text.span()),
            format!("`{field}` is {want}, but `{}` is {got}", text.get_ref()),
            "",
        );
        return None;
    }
    Some(a)
}

#[cfg(test)]
mod tests {
    use crate::check::testing;
    use crate::scenario::{NodeKind, ReduceFn};

    fn check(op: &str) -> Result<crate::scenario::Scenario, String> {
        let text = format!(
            "[[source]]\nname = \"a\"\nkind = \"inline\"\nevents = [{{ user = \"x\", n = 1, ok = true }}]\n[[operator]]\nname = \"by\"\nkind = \"key_by\"\ninput = \"a\"\nkey = \"user\"\n[[operator]]\nname = \"r\"\nkind = \"reduce\"\ninput = \"by\"\n{op}\n[[sink]]\nname = \"out\"\ninput = \"r\"\n"
        );
        testing::parsed(&text)
    }

    #[test]
    fn a_rolling_count_emits_the_key_and_the_count() {
        let s = check("function = \"count\"").unwrap();
        assert_eq!(s.nodes[2].schema.to_string(), "(user: string, count: int)");
        let NodeKind::Reduce { key, function } = &s.nodes[2].kind else {
            panic!("a reduce")
        };
        assert_eq!((key.text.as_str(), function), ("user", &ReduceFn::Count));
    }

    #[test]
    fn aggregated_fields_exist_and_have_a_fitting_type() {
        let e = check("function = \"sum\"\nfield = \"user\"").unwrap_err();
        assert!(
            e.contains("`sum` needs a number, but `user` is string"),
            "{e}"
        );
        let e = check("function = \"max\"\nfield = \"ok\"").unwrap_err();
        assert!(e.contains("`max` cannot order booleans"), "{e}");
        let e = check("function = \"count\"\nfield = \"n\"").unwrap_err();
        assert!(e.contains("`count` takes no `field`"), "{e}");
    }

    #[test]
    fn an_expression_reduce_sets_input_fields_with_their_types() {
        let s = check("function = \"expr\"\nselect = { n = \"acc.n + n\" }").unwrap();
        let NodeKind::Reduce {
            function: ReduceFn::Expr(sel),
            ..
        } = &s.nodes[2].kind
        else {
            panic!("an expr reduce")
        };
        assert_eq!(sel[0].1.compiled.get().index, 1);
        let e = check("function = \"expr\"\nselect = { m = \"n\", n = \"'x'\" }").unwrap_err();
        assert!(
            e.contains("a reduce keeps its input's fields; `m` is not one of them"),
            "{e}"
        );
        assert!(e.contains("`n` is int, but `'x'` is string"), "{e}");
    }
}
