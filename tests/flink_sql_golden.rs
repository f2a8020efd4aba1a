//! streamlab's SQL against real Apache Flink 2.3: every case in `tests/flink-sql-golden/`
//! (`case.json`: the rows of the table `clicks` in arrival order, the watermark bound, the
//! query; `expected.jsonl`: the rows PyFlink printed, recorded with
//! `tools/flink-sql-oracle/run_case.py`) is run as a scenario — an inline source, a
//! `[[table]]` with `WATERMARK FOR ts AS ts - INTERVAL …`, the `[[query]]` — and its sink's
//! rows must be Flink's: the same rows with the same row kinds (`+I`; `-U`, `+U` and `-D`
//! of an updating GROUP BY), each as often. A case with `tables` has more tables (for joins),
//! each a source of its own with the same watermark rule. The order of rows is not compared: Flink's periodic watermarks fall between rows at moments of its own.

use serde_json::Value;
use std::path::Path;
use streamlab_engine::check::parse_str;
use streamlab_engine::oracle;
use streamlab_engine::plan::plan;
use streamlab_engine::sim::RunOptions;

/// A `[[source]]` and its `[[table]]`: `rows` (JSON objects; strings and integers) in
/// arrival order, ten a second, with the DDL watermark `ts - bound`.
fn table(name: &str, rows: &Value, bound: &Value) -> String {
    let rows: Vec<String> = rows
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let cells: Vec<String> = r
                .as_object()
                .expect("a row is an object")
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect();
            format!("{{ {} }}", cells.join(", "))
        })
        .collect();
    let bound = bound.as_i64().expect("bound_ms");
    format!(
        "[[source]]\nname = \"{name}\"\nkind = \"inline\"\nrate = 10\nevents = [\n  {}\n]\n\n\
         [[table]]\nname = \"{name}\"\nwatermark = \"WATERMARK FOR ts AS ts - INTERVAL '{}' SECOND\"\n\n",
        rows.join(",\n  "),
        bound as f64 / 1000.0,
    )
}

/// The scenario of a case: the table `clicks` (`rows`), the other `tables`, the query.
fn scenario(case: &Value) -> String {
    let mut text = String::new();
    if !case["rows"].is_null() {
        text.push_str(&table("clicks", &case["rows"], &case["bound_ms"]));
    }
    if let Some(tables) = case["tables"].as_object() {
        for (name, t) in tables {
            text.push_str(&table(name, &t["rows"], &t["bound_ms"]));
        }
    }
    text.push_str(&format!(
        "[[query]]\nname = \"q\"\ncapture = 1000\nsql = {}\n",
        case["sql"]
    ));
    text
}

/// The rows as sorted JSON texts.
fn sorted(rows: impl Iterator<Item = Value>) -> Vec<String> {
    let mut v: Vec<String> = rows.map(|r| r.to_string()).collect();
    v.sort();
    v
}

#[test]
fn every_sql_case_gives_flinks_rows() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/flink-sql-golden");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/flink-sql-golden")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.json").exists())
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "{cases:?}");
    for path in cases {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let case: Value =
            serde_json::from_str(&std::fs::read_to_string(path.join("case.json")).unwrap())
                .unwrap();
        let expected: Vec<Value> = std::fs::read_to_string(path.join("expected.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(!expected.is_empty(), "{name}: Flink printed no rows");
        let text = scenario(&case);
        let s = parse_str(&format!("{name}.toml"), &text, None)
            .unwrap_or_else(|d| panic!("{name}: {d}\n{text}"));
        let p = plan(&s).unwrap();
        let out = oracle::run(&s, &p, RunOptions::default()).expect("no I/O");
        let sink = out.report.sinks.iter().find(|k| k.name == "q").unwrap();
        assert_eq!(
            sink.rows_total as usize,
            sink.rows.len(),
            "{name}: every row captured"
        );
        // An updating query's sink has the row kind as its first column, `op`; an append
        // query's rows are all inserts.
        let updating = sink.fields.first().is_some_and(|f| f == "op");
        let got = sorted(sink.rows.iter().map(|r| {
            let mut r = r.clone();
            if !updating {
                r.insert(0, Value::from("+I"));
            }
            Value::Array(r)
        }));
        let want = sorted(expected.iter().map(|e| {
            let mut r = vec![e["kind"].clone()];
            r.extend(e["row"].as_array().expect("a row").iter().cloned());
            Value::Array(r)
        }));
        assert_eq!(
            got, want,
            "{name}: streamlab's rows (left) are not Flink's (right)"
        );
    }
}
