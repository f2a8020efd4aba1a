//! `process`: a keyed process function — flink-training's `long_ride_alert`, or one a Rust
//! program registered by name ([`crate::api`]).

use super::checker::{Checker, NodeCheck, Upstream};
use super::key_by::key_column;
use crate::core::value::{Field, Schema, Type};
use crate::scenario::raw::RawOperator;
use crate::scenario::{ExprSrc, NodeKind, ProcessFn, ProcessSpec};

/// A `process`, which must read a `key_by`.
pub fn check_process(ck: &mut Checker, o: &RawOperator, up: &Upstream<'_>) -> Option<NodeCheck> {
    let name = o.name.get_ref();
    let input = up.schemas[0];
    let Some(key) = up.key_of(0) else {
        ck.error(
            Some(up.refs[0].span.clone()),
            format!("process `{name}` must read a keyed stream (a key_by)"),
            "keyed state and timers belong to a key",
        );
        return None;
    };
    let Some(function) = &o.function else {
        ck.error(
            Some(o.name.span()),
            format!("process `{name}` needs a `function`"),
            "function = \"long_ride_alert\"",
        );
        return None;
    };
    if let Some(c) = ck.custom.iter().find(|c| c.name == *function.get_ref()) {
        if let Some((k, span)) = [("is_start", &o.is_start), ("timeout", &o.timeout)]
            .into_iter()
            .find_map(|(k, v)| v.as_ref().map(|v| (k, v.span())))
        {
            let message = format!("`{k}` is an option of long_ride_alert, not of `{}`", c.name);
            ck.error(Some(span), message, "");
            return None;
        }
        let mut fields = vec![key_column(key, input)];
        fields.extend(c.output.iter().map(|(n, t)| Field {
            name: n.as_str().into(),
            ty: *t,
        }));
        let function = ProcessFn::Custom {
            name: c.name.clone(),
            make: c.make.clone(),
        };
        return processed(key, function, Schema { fields });
    }
    match function.get_ref().as_str() {
        "long_ride_alert" => long_ride_alert(ck, o, key, input),
        other => {
            let mut known = vec!["long_ride_alert".to_string()];
            known.extend(ck.custom.iter().map(|c| c.name.clone()));
            ck.error(
                Some(function.span()),
                format!("unknown process function `{other}`"),
                format!(
                    "known: {} (Rust programs can register their own)",
                    known.join(", ")
                ),
            );
            None
        }
    }
}

fn processed(key: &ExprSrc, function: ProcessFn, schema: Schema) -> Option<NodeCheck> {
    let spec = ProcessSpec {
        key: key.clone(),
        function,
    };
    NodeCheck::ok(NodeKind::Process(Box::new(spec)), schema)
}

/// flink-training's long ride alert: a boolean START field and a timeout; it emits the key
/// and the start time of rides that did not end within the timeout.
fn long_ride_alert(
    ck: &mut Checker,
    o: &RawOperator,
    key: &ExprSrc,
    input: &Schema,
) -> Option<NodeCheck> {
    let (Some(s), Some(t)) = (&o.is_start, &o.timeout) else {
        ck.error(
            o.function.as_ref().map(|f| f.span()),
            "long_ride_alert needs `is_start` (a boolean field) and `timeout`",
            "is_start = \"is_start\", timeout = \"2 h\"",
        );
        return None;
    };
    let is_start = match input.index_of(s.get_ref()) {
        Some(i) if input.fields[i].ty == Type::Bool => i,
        Some(i) => {
            ck.error(
                Some(s.span()),
                format!(
                    "`{}` must be a boolean field, but it is {}",
                    s.get_ref(),
                    input.fields[i].ty
                ),
                "",
            );
            return None;
        }
        None => {
            ck.error(
                Some(s.span()),
                format!("unknown field `{}`", s.get_ref()),
                format!("known fields: {}", input.names()),
            );
            return None;
        }
    };
    let timeout = ck.duration(t, "timeout")?;
    if timeout.is_zero() {
        ck.error(Some(t.span()), "the timeout must be more than zero", "");
        return None;
    }
    let schema = Schema {
        fields: vec![
            key_column(key, input),
            Field {
                name: "started_at".into(),
                ty: Type::Int,
            },
        ],
    };
    let function = ProcessFn::LongRideAlert {
        is_start,
        timeout: timeout.as_millis() as i64,
    };
    processed(key, function, schema)
}

#[cfg(test)]
mod tests {
    use crate::check::parse_str;

    fn errors(op: &str) -> String {
        let text = format!(
            "[[source]]\nname = \"a\"\nkind = \"inline\"\ntimestamp = \"t\"\nevents = [{{ ride = 1, t = 5, start = true }}]\nwatermarks = {{ strategy = \"monotonous\" }}\n[[operator]]\nname = \"by\"\nkind = \"key_by\"\ninput = \"a\"\nkey = \"ride\"\n[[operator]]\nname = \"p\"\nkind = \"process\"\n{op}\n[[sink]]\nname = \"out\"\ninput = \"p\"\n"
        );
        match parse_str("t.toml", &text, None) {
            Ok(s) => {
                assert_eq!(
                    s.nodes[2].schema.to_string(),
                    "(ride: int, started_at: int)"
                );
                String::new()
            }
            Err(d) => d.to_string(),
        }
    }

    #[test]
    fn a_process_function_reads_a_keyed_stream() {
        let e = errors(
            "input = \"a\"\nfunction = \"long_ride_alert\"\nis_start = \"start\"\ntimeout = \"1 s\"",
        );
        assert!(
            e.contains("process `p` must read a keyed stream (a key_by)"),
            "{e}"
        );
        assert_eq!(
            errors(
                "input = \"by\"\nfunction = \"long_ride_alert\"\nis_start = \"start\"\ntimeout = \"1 s\""
            ),
            ""
        );
    }

    #[test]
    fn long_ride_alert_needs_a_boolean_start_and_a_timeout() {
        let e = errors(
            "input = \"by\"\nfunction = \"long_ride_alert\"\nis_start = \"t\"\ntimeout = \"1 s\"",
        );
        assert!(
            e.contains("`t` must be a boolean field, but it is int"),
            "{e}"
        );
        let e = errors(
            "input = \"by\"\nfunction = \"long_ride_alert\"\nis_start = \"start\"\ntimeout = \"0 s\"",
        );
        assert!(e.contains("the timeout must be more than zero"), "{e}");
        let e = errors("input = \"by\"\nfunction = \"short_ride\"");
        assert!(e.contains("unknown process function `short_ride`"), "{e}");
    }
}
