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

/// The word count, written three ways over one table of words, must plan to the same job
/// graph. "The same graph" is what Flink runs: the same tasks (chains) — each with its
/// parallelism, whether it reads a source, whether it holds keyed state (its head reads a
/// HASH exchange), whether it writes a sink — joined by the same exchanges (producer task,
/// consumer task, partitioner). Operator names differ, and so does the number of stateless
/// operators inside a chain: the SQL plan adds its `Calc`s and the changelog's `filter` and
/// `flat_map` around the count (as Flink's SQL planner adds its own Calc and changelog
/// operators to a DataStream job's shape). SQL reads a table of words, not of lines: splitting
/// a line into rows is a table function (`LATERAL TABLE(split(line))` in Flink), which
/// streamlab's SQL does not have, so all three start from the words.
#[test]
fn the_word_count_as_operators_as_sql_and_in_rust_plans_to_the_same_graph() {
    use streamlab_engine::api::{Source, StreamEnv};
    use streamlab_engine::plan::Plan;
    use streamlab_engine::row;
    use streamlab_engine::scenario::{NodeKind, Scenario};
    let words = [
        "to", "be", "or", "not", "to", "be", "that", "is", "the", "question",
    ];
    let head = format!(
        "[cluster]\nslots_per_task_manager = 2\n\n[job]\nparallelism = 2\n\n\
         [[source]]\nname = \"words\"\nkind = \"inline\"\nparallelism = 1\nevents = [{}]\n",
        words
            .iter()
            .map(|w| format!("{{ word = \"{w}\" }}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // 1. Scenario operators, as scenarios/wordcount.toml counts (after its tokenizer).
    let operators = format!(
        "{head}
[[operator]]
name = \"ones\"
kind = \"map\"
input = \"words\"
select = {{ word = \"word\", n = \"1\" }}

[[operator]]
name = \"by_word\"
kind = \"key_by\"
input = \"ones\"
key = \"word\"

[[operator]]
name = \"counts\"
kind = \"reduce\"
input = \"by_word\"
function = \"sum\"
field = \"n\"

[[sink]]
name = \"word_counts\"
input = \"counts\"
"
    );
    // 2. SQL: an updating GROUP BY.
    let sql = format!(
        "{head}
[[query]]
name = \"word_counts\"
sql = \"SELECT word, COUNT(*) AS n FROM words GROUP BY word\"
"
    );
    // 3. The Rust builder (the DataStream API).
    let env = StreamEnv::new("wordcount").parallelism(2).cluster(1, 2);
    env.source(
        "words",
        Source::elements(words.iter().map(|w| row! { word = *w })).parallelism(1),
    )
    .map(&[("word", "word"), ("n", "1")])
    .key_by("word")
    .sum("n")
    .collect("word_counts");
    let rust = env.scenario().unwrap_or_else(|d| panic!("{d}"));

    /// Tasks (parallelism, reads a source, keyed, writes a sink) and exchanges.
    type Shape = (Vec<(u32, bool, bool, bool)>, Vec<(usize, usize, String)>);
    fn shape(s: &Scenario) -> Shape {
        let p: Plan = plan(s).unwrap();
        let g = &p.logical.graph;
        let is = |v: &streamlab_engine::plan::physical::JobVertex, f: fn(&NodeKind) -> bool| {
            v.ops.iter().any(|&o| f(&s.nodes[g[o].scenario_node].kind))
        };
        let tasks = p
            .execution
            .vertices
            .iter()
            .map(|v| {
                (
                    v.parallelism,
                    is(v, |k| matches!(k, NodeKind::Source(_))),
                    v.keyed,
                    is(v, |k| matches!(k, NodeKind::Sink(..))),
                )
            })
            .collect();
        let edges = p
            .execution
            .edges
            .iter()
            .map(|e| (e.from_vertex, e.to_vertex, format!("{:?}", e.partitioner)))
            .collect();
        (tasks, edges)
    }
    let parse = |t: &str| parse_str("t.toml", t, None).unwrap_or_else(|d| panic!("{d}"));
    let by_operators = shape(&parse(&operators));
    assert_eq!(
        by_operators,
        (
            vec![
                (1, true, false, false),
                (2, false, false, false),
                (2, false, true, true)
            ],
            vec![(0, 1, "Rebalance".to_string()), (1, 2, "Hash".to_string())]
        ),
        "the source task (parallelism 1), a REBALANCE exchange to the stateless task that adds \
         the ones (parallelism 2), a HASH exchange by word to the keyed task counting into the sink"
    );
    assert_eq!(
        shape(&parse(&sql)),
        by_operators,
        "SQL plans to another graph"
    );
    assert_eq!(
        shape(&rust),
        by_operators,
        "the Rust builder plans to another graph"
    );
    // And they count the same: the SQL changelog's last row per word is the running sum's.
    let last = |text: &str, value: usize| -> Vec<String> {
        let s = parse(text);
        let p = plan(&s).unwrap();
        let out = oracle::run(&s, &p, RunOptions::default()).expect("no I/O");
        let sink = out
            .report
            .sinks
            .iter()
            .find(|k| k.name == "word_counts")
            .unwrap();
        let word = sink.fields.iter().position(|f| f == "word").unwrap();
        let mut finals = std::collections::BTreeMap::new();
        for r in &sink.rows {
            finals.insert(r[word].to_string(), r[value].to_string());
        }
        finals
            .into_iter()
            .map(|(w, n)| format!("{w} {n}"))
            .collect()
    };
    let counted = last(&operators, 1);
    assert_eq!(last(&sql, 2), counted);
    assert!(counted.contains(&"\"to\" 2".to_string()), "{counted:?}");
}
