//! `map`, `flat_map` and `filter`: record-at-a-time operators written as expressions over
//! their input's fields.

use super::checker::{Checker, NodeCheck};
use crate::core::value::{Field, Schema, Type};
use crate::expr::{Compiled, Scope, SelectItem};
use crate::scenario::NodeKind;
use crate::scenario::raw::RawOperator;

/// A `map` (one expression per output field) or a `flat_map` (where one field may be a
/// `split`, giving one record per piece).
pub fn check_map(
    ck: &mut Checker,
    o: &RawOperator,
    input: &Schema,
    flat: bool,
) -> Option<NodeCheck> {
    let kind = if flat { "flat_map" } else { "map" };
    let name = o.name.get_ref();
    let Some(select) = &o.select else {
        ck.error(
            Some(o.name.span()),
            format!("{kind} `{name}` needs a `select` table"),
            "select = { out_field = \"expression\", … }",
        );
        return None;
    };
    let errors = ck.diags.error_count();
    let scope = Scope::Record(input);
    let mut fields = Vec::new();
    let mut scalars = Vec::new();
    let mut items = Vec::new();
    let mut splits = 0;
    for (field, text) in select.get_ref() {
        let name = field.as_str().into();
        if !flat {
            if let Some(e) = ck.compile(text, |t| Compiled::expr(t, &scope)) {
                fields.push(Field {
                    name,
                    ty: e.compiled.ty(),
                });
                scalars.push((field.clone(), e));
            }
            continue;
        }
        let Some(e) = ck.compile(text, |t| Compiled::select(t, &scope)) else {
            continue;
        };
        let ty = match e.compiled.get() {
            SelectItem::Scalar(x) => x.ty,
            SelectItem::Split { .. } => {
                splits += 1;
                if splits > 1 {
                    ck.error(Some(text.span()), "a flat_map may split only one field", "");
                }
                Type::String
            }
        };
        fields.push(Field { name, ty });
        items.push((field.clone(), e));
    }
    if select.get_ref().is_empty() {
        ck.error(
            Some(select.span()),
            format!("`{name}` selects no fields"),
            "",
        );
    }
    let kind = if flat {
        NodeKind::FlatMap { select: items }
    } else {
        NodeKind::Map { select: scalars }
    };
    Some(NodeCheck {
        kind: (ck.diags.error_count() == errors).then_some(kind),
        schema: Schema { fields },
    })
}

/// A `filter`: a boolean `where` condition. It passes its input's fields whatever its
/// condition, so what reads it is checked even when the condition is wrong.
pub fn check_filter(ck: &mut Checker, o: &RawOperator, input: &Schema) -> Option<NodeCheck> {
    let Some(cond) = &o.where_ else {
        ck.error(
            Some(o.name.span()),
            format!("filter `{}` needs a `where` condition", o.name.get_ref()),
            "where = \"amount > 100\"",
        );
        return None;
    };
    let condition = ck.compile(cond, |t| {
        Compiled::typed(t, &Scope::Record(input), Type::Bool, "a filter's `where`")
    });
    Some(NodeCheck {
        kind: condition.map(|condition| NodeKind::Filter { condition }),
        schema: input.clone(),
    })
}

#[cfg(test)]
mod tests {
    use crate::check::testing;
    use crate::scenario::NodeKind;

    fn check(op: &str) -> Result<crate::scenario::Scenario, String> {
        let text = format!(
            "[[source]]\nname = \"a\"\nkind = \"inline\"\nevents = [{{ line = \"a b\", n = 1 }}]\n[[operator]]\nname = \"m\"\ninput = \"a\"\n{op}\n[[sink]]\nname = \"out\"\ninput = \"m\"\n"
        );
        testing::parsed(&text)
    }

    #[test]
    fn a_map_types_its_fields_from_the_expressions() {
        let s =
            check("kind = \"map\"\nselect = { twice = \"n * 2\", up = \"upper(line)\" }").unwrap();
        assert_eq!(s.nodes[1].schema.to_string(), "(twice: int, up: string)");
        let e = check("kind = \"map\"\nselect = {}").unwrap_err();
        assert!(e.contains("`m` selects no fields"), "{e}");
    }

    #[test]
    fn a_flat_map_splits_one_field_only() {
        let s =
            check("kind = \"flat_map\"\nselect = { word = \"split(line)\", n = \"n\" }").unwrap();
        let NodeKind::FlatMap { select } = &s.nodes[1].kind else {
            panic!("a flat_map")
        };
        assert_eq!(select.len(), 2);
        let e = check("kind = \"flat_map\"\nselect = { a = \"split(line)\", b = \"split(line)\" }")
            .unwrap_err();
        assert!(e.contains("a flat_map may split only one field"), "{e}");
    }

    #[test]
    fn a_filter_needs_a_boolean_and_still_passes_its_fields_on() {
        let e = check("kind = \"filter\"\nwhere = \"n + 1\"").unwrap_err();
        assert!(
            e.contains("a filter's `where` must be bool, but `n + 1` is int"),
            "{e}"
        );
        let e = check("kind = \"filter\"\nwhere = \"n + 1\"\n[[operator]]\nname = \"z\"\nkind = \"map\"\ninput = \"m\"\nselect = { q = \"nope\" }")
            .unwrap_err();
        assert!(e.contains("unknown field `nope`"), "{e}");
    }
}
