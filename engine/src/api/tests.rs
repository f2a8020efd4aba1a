use super::*;
use crate::core::event_time::ms;
use crate::core::time::EventTime;
use crate::core::value::Value as V;
use crate::flink::process::{Collector, Context, TimeDomain};

fn clicks(env: &StreamEnv) -> DataStream {
    env.source(
        "clicks",
        Source::elements([
            row! { user = "ann", n = 1, ts = 1_000 },
            row! { user = "bob", n = 2, ts = 2_000 },
            row! { user = "ann", n = 3, ts = 4_000 },
            row! { user = "ann", n = 4, ts = 6_000 },
        ])
        .timestamp("ts")
        .watermarks(WatermarkStrategy::for_bounded_out_of_orderness(
            Duration::ZERO,
        )),
    )
}

#[test]
fn a_tumbling_window_sum_built_in_rust_runs_like_the_file_form() {
    let env = StreamEnv::new("sums");
    clicks(&env)
        .key_by("user")
        .window(Tumbling::of(Duration::from_secs(5)))
        .sum("n")
        .name("per_user")
        .collect("out");
    let toml = env.to_toml();
    assert!(toml.contains("name = \"per_user\""), "{toml}");
    let r = env.execute().unwrap();
    let rows: Vec<String> = r
        .rows("out")
        .expect("the job collects into `out`")
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    assert_eq!(
        rows,
        [
            r#"["ann",0,5000,4]"#,
            r#"["bob",0,5000,2]"#,
            r#"["ann",5000,10000,4]"#
        ]
    );
    // The same run, asked why: ann's first window fired on the end-of-input watermark.
    let a = r
        .explain(&crate::explain::Question::Window {
            operator: "per_user".into(),
            key: "ann".into(),
            start: ms(0),
        })
        .unwrap();
    assert_eq!(a.data["fired"], true, "{}", a.render());
    assert!(a.headline.starts_with("It fired at"), "{}", a.headline);
}

#[test]
fn a_mistake_is_reported_against_the_generated_scenario() {
    let env = StreamEnv::new("bad");
    clicks(&env).filter("nn > 1").collect("out");
    let Err(ApiError::Invalid(d)) = env.execute() else {
        panic!("an unknown field must be rejected")
    };
    let text = d.to_string();
    assert!(text.contains("unknown field `nn`"), "{text}");
    assert!(text.contains("bad (built in Rust)"), "{text}");
}

/// Counts the records of a key and emits the count 1 s (event time) after the first.
#[derive(Debug, Clone)]
struct CountForASecond;

impl KeyedProcessFunction for CountForASecond {
    fn process_element(&mut self, _: &[V], ctx: &mut Context<'_>, _: &mut Collector<'_>) {
        let n = match ctx.value("n") {
            Some(&[V::Int(n)]) => n,
            _ => {
                let at = ctx.timestamp().unwrap_or(ms(0)).plus_millis(1_000);
                ctx.register_event_time_timer(at);
                0
            }
        };
        ctx.set_value("n", &[V::Int(n + 1)]);
    }
    fn on_timer(
        &mut self,
        ts: EventTime,
        _: TimeDomain,
        ctx: &mut Context<'_>,
        out: &mut Collector<'_>,
    ) {
        let n = ctx.value("n").map_or(0, |v| v[0].as_int());
        out.collect(&[ctx.key(), V::Int(ts.as_millis()), V::Int(n)]);
        ctx.clear_value("n");
    }
    fn fresh(&self) -> Box<dyn KeyedProcessFunction> {
        Box::new(self.clone())
    }
}

/// Sends records with an odd `n` to the side output, the others on.
#[derive(Debug, Clone)]
struct SplitOdd;

impl KeyedProcessFunction for SplitOdd {
    fn process_element(&mut self, row: &[V], _: &mut Context<'_>, out: &mut Collector<'_>) {
        if row[1].as_int() % 2 == 1 {
            out.side_output(row);
        } else {
            out.collect(&[row[0], row[1]]);
        }
    }
    fn on_timer(
        &mut self,
        _: EventTime,
        _: TimeDomain,
        _: &mut Context<'_>,
        _: &mut Collector<'_>,
    ) {
    }
    fn fresh(&self) -> Box<dyn KeyedProcessFunction> {
        Box::new(self.clone())
    }
}

#[test]
fn a_process_function_side_output_feeds_its_own_sink() {
    let env = StreamEnv::new("split");
    let main = clicks(&env)
        .key_by("user")
        .process("split_odd", &[("n", Type::Int)], SplitOdd)
        .with_side_output("odd");
    main.collect("even");
    main.side_output("odd").collect("odd_records");
    let r = env.execute().unwrap();
    let json =
        |name: &str| serde_json::to_string(r.rows(name).expect("a sink of the job")).unwrap();
    assert_eq!(json("even"), r#"[["bob",2],["ann",4]]"#);
    assert_eq!(
        json("odd_records"),
        r#"[["ann",1,1000],["ann",3,4000]]"#,
        "side output records have the input's fields"
    );
}

#[test]
fn a_rust_process_function_gets_state_and_timers_per_key() {
    let env = StreamEnv::new("proc");
    env.source(
        "clicks",
        Source::elements([
            row! { user = "ann", ts = 1_000 },
            row! { user = "bob", ts = 2_000 },
            row! { user = "ann", ts = 4_000 },
            row! { user = "ann", ts = 6_000 },
        ])
        .timestamp("ts")
        .watermarks(WatermarkStrategy::for_monotonous_timestamps().per_event()),
    )
    .key_by("user")
    .process(
        "count_for_a_second",
        &[("at", Type::Int), ("count", Type::Int)],
        CountForASecond,
    )
    .collect("out");
    let r = env.execute().unwrap();
    let rows: Vec<String> = r
        .rows("out")
        .expect("the job collects into `out`")
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    // A watermark follows every record (ts − 1). ann's timer for 2 s fires only when
    // the watermark passes it — after her 4 s record, which it therefore counts; bob's
    // 3 s timer fires at the same watermark. ann's 6 s record starts a new count,
    // emitted by the final watermark.
    assert_eq!(
        rows,
        [
            r#"["ann",2000,2]"#,
            r#"["bob",3000,1]"#,
            r#"["ann",7000,1]"#
        ]
    );
}

/// The same window sum as SQL from Rust: `create_table` + `sql`, the rows the DataStream
/// form gives, and an updating `GROUP BY` with its changelog row kinds.
#[test]
fn sql_from_rust_runs_like_the_datastream_form() {
    let env = StreamEnv::new("sums_sql");
    env.source(
        "plays",
        Source::elements([
            row! { player = "ann", n = 1, ts = 1_000 },
            row! { player = "bob", n = 2, ts = 2_000 },
            row! { player = "ann", n = 3, ts = 4_000 },
            row! { player = "ann", n = 4, ts = 6_000 },
        ])
        .timestamp("ts"),
    );
    env.create_table(
        "plays",
        Some("WATERMARK FOR ts AS ts - INTERVAL '0.001' SECOND"),
    )
    .sql(
        "per_player",
        "SELECT player, window_start, window_end, SUM(n) AS n \
         FROM TABLE(TUMBLE(TABLE plays, DESCRIPTOR(ts), INTERVAL '5' SECOND)) \
         GROUP BY window_start, window_end, player",
    )
    .sql(
        "totals",
        "SELECT player, SUM(n) AS n FROM plays GROUP BY player",
    );
    let toml = env.to_toml();
    assert!(
        toml.contains("[[query]]") && toml.contains("[[table]]"),
        "{toml}"
    );
    let r = env.execute().unwrap();
    let rows = |sink: &str| -> Vec<String> {
        r.rows(sink)
            .unwrap_or_else(|| panic!("the job writes `{sink}`"))
            .iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect()
    };
    assert_eq!(
        rows("per_player"),
        [
            r#"["ann",0,5000,4]"#,
            r#"["bob",0,5000,2]"#,
            r#"["ann",5000,10000,4]"#
        ]
    );
    let totals = rows("totals");
    assert!(totals.iter().any(|r| r.contains("\"-U\"")), "{totals:?}");
    assert_eq!(
        totals.len(),
        6,
        "+I ann, +I bob, -U/+U ann twice: {totals:?}"
    );
}
