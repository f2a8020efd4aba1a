//! `key_by` and `union`: the virtual operators, folded into the edges of the graph when it
//! is planned (Flink's `PartitionTransformation` and `UnionTransformation`).

use super::checker::{Checker, NodeCheck, Upstream};
use crate::core::value::{Field, Schema};
use crate::expr::{Compiled, Scope};
use crate::scenario::raw::RawOperator;
use crate::scenario::{ExprSrc, NodeKind};

/// A `key_by`: its key, compiled over its input's records (which it passes on unchanged).
pub fn check_key_by(ck: &mut Checker, o: &RawOperator, input: &Schema) -> Option<NodeCheck> {
    let Some(key) = &o.key else {
        ck.error(
            Some(o.name.span()),
            format!("key_by `{}` needs a `key`", o.name.get_ref()),
            "key = \"user\"",
        );
        return None;
    };
    let key = ck.compile(key, |t| Compiled::expr(t, &Scope::Record(input)))?;
    NodeCheck::ok(NodeKind::KeyBy { key }, input.clone())
}

/// The column a keyed operator emits its key in: named after the key's field when the key is
/// one, else `key`; `input` is what the key was compiled over (a key_by's input, which it
/// passes on).
pub fn key_column(key: &ExprSrc, input: &Schema) -> Field {
    let name = key
        .compiled
        .as_field()
        .map_or_else(|| "key".to_string(), |i| input.fields[i].name.to_string());
    Field {
        name: name.into(),
        ty: key.compiled.ty(),
    }
}

/// A `union`: streams with the same fields merged into one.
pub fn check_union(ck: &mut Checker, o: &RawOperator, up: &Upstream<'_>) -> Option<NodeCheck> {
    let name = o.name.get_ref();
    let (refs, ins) = (up.refs, up.schemas);
    let input = ins[0];
    if refs.len() < 2 {
        ck.warn(
            Some(o.name.span()),
            format!("union `{name}` has a single input"),
            "a union merges two or more streams",
        );
    }
    for (r, s) in refs.iter().zip(ins).skip(1) {
        if *s != input {
            ck.error(
                Some(r.span.clone()),
                format!(
                    "union `{name}` needs inputs with the same fields: `{}` has {s}, `{}` has {input}",
                    up.names[r.node], up.names[refs[0].node]
                ),
                "add a map to one side to line the fields up",
            );
            return None;
        }
    }
    NodeCheck::ok(NodeKind::Union, input.clone())
}

#[cfg(test)]
mod tests {
    use crate::check::parse_str;

    const SRC: &str = "[[source]]\nname = \"a\"\nkind = \"inline\"\nevents = [{ k = 1 }]\n[[source]]\nname = \"b\"\nkind = \"inline\"\nevents = [{ j = \"x\" }]\n";

    fn check(rest: &str) -> String {
        match parse_str("t.toml", &format!("{SRC}{rest}"), None) {
            Ok(s) => s.warnings.iter().map(|w| w.message.clone()).collect(),
            Err(d) => d.to_string(),
        }
    }

    #[test]
    fn a_key_by_compiles_its_key() {
        let e = check(
            "[[operator]]\nname = \"by\"\nkind = \"key_by\"\ninput = \"a\"\nkey = \"kk\"\n[[sink]]\nname = \"out\"\ninput = \"by\"\n[[sink]]\nname = \"o2\"\ninput = \"b\"\n",
        );
        assert!(e.contains("unknown field `kk`; known fields: k"), "{e}");
    }

    #[test]
    fn a_union_needs_equal_fields_and_more_than_one_input() {
        let e = check(
            "[[operator]]\nname = \"u\"\nkind = \"union\"\ninputs = [\"a\", \"b\"]\n[[sink]]\nname = \"out\"\ninput = \"u\"\n",
        );
        assert!(
            e.contains("union `u` needs inputs with the same fields: `b` has"),
            "{e}"
        );
        let w = check(
            "[[operator]]\nname = \"u\"\nkind = \"union\"\ninputs = [\"a\"]\n[[sink]]\nname = \"out\"\ninput = \"u\"\n[[sink]]\nname = \"o2\"\ninput = \"b\"\n",
        );
        assert!(w.contains("union `u` has a single input"), "{w}");
    }
}
