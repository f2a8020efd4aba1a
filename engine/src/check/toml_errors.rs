//! Messages for what the TOML parser and serde refuse (stage one): the same facts in the
//! words of the scenario format — which key is duplicated and where it first was, what type
//! was expected.

use crate::core::diag::Diagnostic;
use std::ops::Range;

/// The diagnostic for a file that is not valid TOML or does not fit the raw model.
pub fn diagnostic(text: &str, e: &toml::de::Error) -> Diagnostic {
    let msg = e.message().trim().to_string();
    let (mut msg, mut label) = explain_toml_error(&msg);
    if msg == "duplicate key"
        && let Some(span) = e.span()
    {
        (msg, label) = explain_duplicate_key(text, span);
    }
    Diagnostic::error(msg, e.span()).with_label(label)
}

/// toml says only "duplicate key": name the key and the line where it first appears (in the
/// same table: after the last `[header]` before the duplicate).
fn explain_duplicate_key(text: &str, span: Range<usize>) -> (String, String) {
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[line_start..];
    let line = &line[..line.find('\n').unwrap_or(line.len())];
    let key_of = |l: &str| -> Option<String> {
        let (k, _) = l.split_once('=')?;
        let k = k.trim();
        (!k.is_empty() && !k.starts_with('#') && !k.starts_with('[')).then(|| k.to_string())
    };
    let Some(key) = key_of(line) else {
        return (
            "duplicate key".into(),
            "each key may appear once in a table".into(),
        );
    };
    let mut first = None;
    let before: Vec<&str> = text[..line_start].lines().collect();
    for (i, l) in before.iter().enumerate().rev() {
        let t = l.trim_start();
        if t.starts_with('[') {
            break;
        }
        if key_of(t).as_deref() == Some(key.as_str()) {
            first = Some(i + 1);
            break;
        }
    }
    match first {
        Some(n) => (
            format!("duplicate key `{key}`: it is already set on line {n}"),
            "each key may appear once in a table: delete one of them".into(),
        ),
        None => (
            format!("duplicate key `{key}`"),
            "each key may appear once in a table".into(),
        ),
    }
}

/// serde's messages are good; make the two most common ones friendlier.
fn explain_toml_error(msg: &str) -> (String, String) {
    if let Some(rest) = msg.strip_prefix("invalid type: integer `")
        && let Some((n, _)) = rest.split_once("` as i128")
    {
        return (
            format!("integer too large: {n}"),
            format!("the largest integer is {}", i64::MAX),
        );
    }
    if let Some(rest) = msg.strip_prefix("unknown field ") {
        let (field, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return (
            format!("unknown field {field}"),
            if expected.is_empty() {
                String::new()
            } else {
                format!("expected {expected}")
            },
        );
    }
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        let (found, expected) = rest
            .split_once(", expected ")
            .unwrap_or((rest, "something else"));
        let expected = match expected {
            "i64" | "u64" | "i32" | "u32" => "an integer",
            "f64" | "a number written as an integer or a float" => "a number",
            "a boolean" | "bool" => "true or false",
            "a string" => "a string in quotes",
            "a sequence" => "a list [ … ]",
            other => other,
        };
        return (
            format!("wrong type: found {found}, expected {expected}"),
            format!("write {expected} here"),
        );
    }
    (msg.to_string(), String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duplicate_key_names_the_line_it_first_appears_on() {
        let text = "[job]\nparallelism = 1\nchaining = true\nparallelism = 2\n";
        let at = text.rfind("parallelism").unwrap();
        let (msg, label) = explain_duplicate_key(text, at..at + 11);
        assert_eq!(
            msg,
            "duplicate key `parallelism`: it is already set on line 2"
        );
        assert_eq!(
            label,
            "each key may appear once in a table: delete one of them"
        );
    }

    #[test]
    fn serde_types_are_named_as_the_format_writes_them() {
        let (msg, label) = explain_toml_error("invalid type: string \"x\", expected i64");
        assert_eq!(msg, "wrong type: found string \"x\", expected an integer");
        assert_eq!(label, "write an integer here");
        let (msg, _) = explain_toml_error(
            "invalid type: integer `99999999999999999999` as i128, expected i64",
        );
        assert_eq!(msg, "integer too large: 99999999999999999999");
    }
}
