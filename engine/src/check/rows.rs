//! The records of a source of fixed rows: inline `events` or a CSV file, with their fields'
//! types (from the first event, declared, or inferred).

use super::checker::Checker;
use crate::core::value::{Field, Schema, Type};
use crate::scenario::Lit;
use crate::scenario::raw::RawEvent;
use indexmap::IndexMap;
use toml::Spanned as TSpanned;

/// A CSV file as read: how to name it in messages, its header, its rows (with line numbers).
struct CsvText {
    shown: String,
    header: Vec<String>,
    rows: Vec<(u64, Vec<String>)>,
}

/// A TOML value as a literal of a record (tables and arrays are none).
pub fn lit_of(v: &toml::Value) -> Option<Lit> {
    Some(match v {
        toml::Value::Integer(i) => Lit::Int(*i),
        toml::Value::Float(f) => Lit::Float(*f),
        toml::Value::String(s) => Lit::Str(s.as_str().into()),
        toml::Value::Boolean(b) => Lit::Bool(*b),
        _ => return None,
    })
}

/// The type of a literal.
pub fn lit_type(l: &Lit) -> Type {
    match l {
        Lit::Int(_) => Type::Int,
        Lit::Float(_) => Type::Float,
        Lit::Str(_) => Type::String,
        Lit::Bool(_) => Type::Bool,
    }
}

/// The `events` of an inline source.
type RawEvents = TSpanned<Vec<RawEvent>>;

/// Inline events: the fields and their types come from the first event; every event must
/// have the same fields (in any order); integers widen to floats when a column mixes them.
pub fn inline_rows(ck: &mut Checker, events: &RawEvents) -> Option<(Schema, Vec<Vec<Lit>>)> {
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
    let mut fields = first_fields(ck, first)?;
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

/// The fields of the first event, typed by their values.
fn first_fields(ck: &mut Checker, first: &RawEvent) -> Option<Vec<Field>> {
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
    Some(fields)
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

/// A CSV file as text: its header and its rows with their line numbers.
fn read_csv(ck: &mut Checker, path: &TSpanned<String>) -> Option<CsvText> {
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
    Some(CsvText {
        shown,
        header,
        rows: text_rows,
    })
}

/// A CSV file with a header row. Column types are declared in `fields` or inferred: integer
/// if every value is one, else float, else boolean, else string.
pub fn csv_rows(
    ck: &mut Checker,
    path: &TSpanned<String>,
    declared: Option<&TSpanned<IndexMap<String, TSpanned<toml::Value>>>>,
) -> Option<(Schema, Vec<Vec<Lit>>)> {
    let CsvText {
        shown,
        header,
        rows: text_rows,
    } = read_csv(ck, path)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_types_are_inferred_from_every_value() {
        assert_eq!(infer(["1", "-2"].into_iter()), Type::Int);
        assert_eq!(infer(["1", "2.5"].into_iter()), Type::Float);
        assert_eq!(infer(["true", "false"].into_iter()), Type::Bool);
        assert_eq!(infer(["1", "x"].into_iter()), Type::String);
        assert_eq!(parse_lit("7", Type::Float), Some(Lit::Float(7.0)));
        assert_eq!(parse_lit("x", Type::Int), None);
    }

    fn errors(src: &str) -> String {
        let text = format!(
            "[[source]]\nname = \"a\"\nkind = \"inline\"\n{src}\n[[sink]]\nname = \"out\"\ninput = \"a\"\n"
        );
        match crate::check::parse_str("t.toml", &text, None) {
            Ok(s) => format!("{}", s.nodes[0].schema),
            Err(d) => d.to_string(),
        }
    }

    #[test]
    fn inline_events_share_the_first_events_fields_and_widen_to_float() {
        assert_eq!(errors("events = [{ x = 1 }, { x = 2.5 }]"), "(x: float)");
        let e = errors("events = [{ x = 1 }, { y = 2 }]");
        assert!(e.contains("this event has no field `x`"), "{e}");
        assert!(e.contains("field `y` is not in the first event"), "{e}");
        let e = errors("events = [{ x = 1 }, { x = \"a\" }]");
        assert!(
            e.contains("field `x` is int in the first event but string here"),
            "{e}"
        );
        let e = errors("events = []");
        assert!(e.contains("`events` is empty"), "{e}");
    }

    #[test]
    fn a_missing_csv_file_is_named() {
        let text = "[[source]]\nname = \"a\"\nkind = \"csv\"\npath = \"nope.csv\"\n[[sink]]\nname = \"out\"\ninput = \"a\"\n";
        let e = crate::check::parse_str("t.toml", text, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cannot read CSV file `nope.csv`: no such file"),
            "{e}"
        );
    }
}
