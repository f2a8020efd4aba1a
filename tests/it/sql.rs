//! Streaming SQL (`[[table]]`, `[[query]]`, docs/sql.md): a query's window aggregation gives
//! the rows the hand-written window operators give on the same table — the translation
//! changes the form of the job, not what it computes.

use streamlab_engine::check::parse_str;
use streamlab_engine::oracle;
use streamlab_engine::plan::plan;
use streamlab_engine::sim::RunOptions;

const CLICKS: &str = r#"
[cluster]
slots_per_task_manager = 2

[job]
parallelism = 2

[[source]]
name = "clicks"
kind = "inline"
rate = 10
events = [
  { player = "ann", n = 1, ts = 1_000 }, { player = "bob", n = 5, ts = 2_000 },
  { player = "ann", n = 2, ts = 3_000 }, { player = "ann", n = 4, ts = 6_100 },
  { player = "bob", n = 3, ts = 4_900 }, { player = "bob", n = 7, ts = 9_000 },
  { player = "ann", n = 1, ts = 12_000 }, { player = "bob", n = 1, ts = 2_500 },
]
"#;

/// Each sink's rows, sorted, as text.
fn rows(text: &str, sink: &str) -> Vec<String> {
    let s = parse_str("t.toml", text, None).unwrap_or_else(|d| panic!("{d}"));
    let p = plan(&s).unwrap();
    let out = oracle::run(&s, &p, RunOptions::default()).expect("no I/O");
    let mut v: Vec<String> = out
        .report
        .sinks
        .iter()
        .find(|k| k.name == sink)
        .unwrap_or_else(|| panic!("no sink {sink}"))
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    v.sort();
    v
}

#[test]
fn a_tumble_query_counts_and_sums_as_the_window_operators_do() {
    let sql = format!(
        "{CLICKS}
[[table]]
name = \"clicks\"
watermark = \"WATERMARK FOR ts AS ts - INTERVAL '2' SECOND\"

[[query]]
name = \"q\"
sql = \"SELECT player, window_start, window_end, COUNT(*) AS c, SUM(n) AS s FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY window_start, window_end, player\"
"
    );
    // The DataStream job: bounded out-of-orderness 1 999 ms is Flink SQL's `ts - 2 s`.
    let hand = |function: &str| {
        format!(
            "{}
timestamp = \"ts\"
watermarks = {{ strategy = \"bounded\", max_out_of_orderness = \"1999 ms\" }}

[[operator]]
name = \"by\"
kind = \"key_by\"
input = \"clicks\"
key = \"player\"

[[operator]]
name = \"w\"
kind = \"window\"
input = \"by\"
window = {{ type = \"tumbling\", size = \"5 s\" }}
{function}

[[sink]]
name = \"out\"
input = \"w\"
",
            CLICKS.trim_end().replacen("\n]\n", "\n]", 1)
        )
    };
    let counts = rows(&hand("function = \"count\""), "out");
    let sums = rows(&hand("function = \"sum\"\nfield = \"n\""), "out");
    let expected: Vec<String> = counts
        .iter()
        .zip(&sums)
        .map(|(c, s)| format!("{c}, {}", s.rsplit(", ").next().unwrap()))
        .collect();
    assert_eq!(rows(&sql, "q"), expected);
    assert_eq!(expected.len(), 5, "{expected:?}");
}
