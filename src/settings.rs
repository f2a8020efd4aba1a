//! `--set PATH=VALUE`: a change to one value of a scenario file, made on its text so that
//! everything else — comments, layout, and so the lines and columns an error points at —
//! stays as the user wrote it. `run` and `plan` take one value per setting; `sweep` takes a
//! list (`PATH=V1,V2,…`) and runs the scenario once per value.
//!
//! A path starts with `sources.NAME`, `operators.NAME` or `sinks.NAME` (the `[[source]]`,
//! `[[operator]]` or `[[sink]]` table of that name) or with a section (`job`, `cluster`, …),
//! then names the field, through inline tables if needed: `sources.clicks.rate`,
//! `job.parallelism`, `sources.clicks.watermarks.max_out_of_orderness`.

use toml_edit::{DocumentMut, Item, TableLike, Value};

/// The sections a path may start with.
const SECTIONS: [&str; 9] = [
    "job",
    "cluster",
    "cost",
    "limits",
    "modes",
    "checkpointing",
    "restart",
    "chaos",
    "deployment",
];

/// The arrays of named tables a path may start with: (as written in a path, the TOML key).
const ARRAYS: [(&str, &str); 3] = [
    ("sources", "source"),
    ("operators", "operator"),
    ("sinks", "sink"),
];

/// One `--set`: the path, and its value or values as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// The parts of the path.
    pub path: Vec<String>,
    /// The values (one for `run`, a list for `sweep`).
    pub values: Vec<String>,
}

impl Setting {
    /// The path as written, `a.b.c`.
    pub fn shown(&self) -> String {
        self.path.join(".")
    }
}

/// Reads `PATH=VALUE` (`many`: `PATH=V1,V2,…`, values split at commas).
pub fn parse(arg: &str, many: bool) -> Result<Setting, String> {
    let example = if many {
        "PATH=VALUE[,VALUE…], e.g. sources.clicks.rate=1000,10000"
    } else {
        "PATH=VALUE, e.g. sources.clicks.rate=1000"
    };
    let (path, values) = arg
        .split_once('=')
        .ok_or_else(|| format!("--set `{arg}`: expected {example}"))?;
    let path: Vec<String> = path
        .trim()
        .split('.')
        .map(|p| p.trim().to_string())
        .collect();
    if path.iter().any(String::is_empty) {
        return Err(format!("--set `{arg}`: the path has an empty part"));
    }
    let values: Vec<String> = if many {
        values
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    } else {
        Some(values.trim().to_string())
            .filter(|v| !v.is_empty())
            .into_iter()
            .collect()
    };
    if values.is_empty() {
        return Err(format!("--set `{arg}`: no value given"));
    }
    Ok(Setting { path, values })
}

/// A value as the TOML type it reads as: a whole number, a number, true/false, else text
/// (so `--set checkpointing.interval="5 s"` needs no TOML quotes).
pub fn value_of(v: &str) -> Value {
    if let Ok(i) = v.replace('_', "").parse::<i64>() {
        Value::from(i)
    } else if let Ok(f) = v.parse::<f64>() {
        Value::from(f)
    } else if v == "true" || v == "false" {
        Value::from(v == "true")
    } else {
        Value::from(v)
    }
}

/// Sets `path` to `value` in the document; says which part of the path is unknown.
pub fn apply(doc: &mut DocumentMut, path: &[String], value: Value) -> Result<(), String> {
    let shown = path.join(".");
    let first = path[0].as_str();
    let array = ARRAYS
        .iter()
        .find(|(plural, single)| first == *plural || first == *single)
        .map(|a| a.1);
    if let Some(key) = array {
        let Some(name) = path.get(1) else {
            return Err(format!(
                "--set {shown}: name a {key} after `{first}`, then a field"
            ));
        };
        let Some(items) = doc.get_mut(key).and_then(Item::as_array_of_tables_mut) else {
            return Err(format!("--set {shown}: the scenario has no [[{key}]]"));
        };
        let names: Vec<String> = items
            .iter()
            .filter_map(|t| t.get("name").and_then(Item::as_str).map(String::from))
            .collect();
        let Some(table) = items
            .iter_mut()
            .find(|t| t.get("name").and_then(Item::as_str) == Some(name.as_str()))
        else {
            return Err(format!(
                "--set {shown}: unknown {key} `{name}`; the scenario's {key}s: {}",
                names.join(", ")
            ));
        };
        return set_field(table, &path[2..], value, &shown);
    }
    if !SECTIONS.contains(&first) {
        return Err(format!(
            "--set {shown}: unknown part `{first}`; a path starts with sources.<name>, operators.<name>, sinks.<name>, {}",
            SECTIONS.join(", ")
        ));
    }
    let section = doc.entry(first).or_insert(toml_edit::table());
    let Some(table) = section.as_table_like_mut() else {
        return Err(format!("--set {shown}: `{first}` is not a table"));
    };
    set_field(table, &path[1..], value, &shown)
}

/// Sets the field `rest` (through inline tables, made when missing) of `table`, keeping the
/// comment after a value it replaces.
fn set_field(
    table: &mut dyn TableLike,
    rest: &[String],
    mut value: Value,
    shown: &str,
) -> Result<(), String> {
    let Some((leaf, inner)) = rest.split_last() else {
        return Err(format!(
            "--set {shown}: the path names a table, not a field"
        ));
    };
    let mut t = table;
    for part in inner {
        if t.get(part).is_none() {
            t.insert(part, Item::Value(Value::InlineTable(Default::default())));
        }
        t = t
            .get_mut(part)
            .and_then(Item::as_table_like_mut)
            .ok_or_else(|| format!("--set {shown}: `{part}` is not a table"))?;
    }
    if let Some(old) = t.get(leaf).and_then(Item::as_value) {
        *value.decor_mut() = old.decor().clone();
    }
    t.insert(leaf, Item::Value(value));
    Ok(())
}

/// The scenario text with every setting's (first) value applied.
pub fn edited(text: &str, settings: &[Setting]) -> Result<String, String> {
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        format!("the file is not valid TOML: {}", e.message())
    })?;
    for s in settings {
        apply(&mut doc, &s.path, value_of(&s.values[0]))?;
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name = \"t\" # the name\n\n[job]\nparallelism = 2 # default\n\n[[source]]\nname = \"clicks\"\nrate = 10\nwatermarks = { strategy = \"bounded\", max_out_of_orderness = \"1 s\" }\n";

    fn set(arg: &str) -> Result<String, String> {
        edited(TEXT, &[parse(arg, false)?])
    }

    #[test]
    fn a_setting_changes_one_value_and_keeps_the_rest_of_the_text() {
        let out = set("job.parallelism=3").unwrap();
        assert_eq!(out, TEXT.replace("parallelism = 2 #", "parallelism = 3 #"));
        let out = set("sources.clicks.watermarks.max_out_of_orderness=2 s").unwrap();
        assert!(out.contains("max_out_of_orderness = \"2 s\""), "{out}");
        let out = set("checkpointing.interval=5 s").unwrap();
        assert!(
            out.ends_with("[checkpointing]\ninterval = \"5 s\"\n"),
            "{out}"
        );
    }

    #[test]
    fn unknown_parts_are_named() {
        let e = set("sources.views.rate=1").unwrap_err();
        assert!(
            e.contains("unknown source `views`; the scenario's sources: clicks"),
            "{e}"
        );
        let e = set("jobs.parallelism=1").unwrap_err();
        assert!(e.contains("unknown part `jobs`"), "{e}");
        let e = set("sources.clicks.rate.x=1").unwrap_err();
        assert!(e.contains("`rate` is not a table"), "{e}");
        let e = set("job=1").unwrap_err();
        assert!(e.contains("names a table, not a field"), "{e}");
        assert!(parse("job.parallelism", false).is_err());
        assert!(parse("job.parallelism=", false).is_err());
    }

    #[test]
    fn values_read_as_their_toml_type_and_lists_only_for_sweep() {
        assert_eq!(value_of("1_000").as_integer(), Some(1000));
        assert_eq!(value_of("0.5").as_float(), Some(0.5));
        assert_eq!(value_of("true").as_bool(), Some(true));
        assert_eq!(value_of("100 ms").as_str(), Some("100 ms"));
        assert_eq!(parse("a.b=1,2", true).unwrap().values, ["1", "2"]);
        assert_eq!(parse("a.b=x,y", false).unwrap().values, ["x,y"]);
    }
}
