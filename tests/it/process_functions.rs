//! Keyed process functions written in Rust (`streamlab_engine::flink::process`), run through
//! the builder: what they emit from `process_element` and `on_timer` reaches the sinks.

use streamlab_engine::api::{Source, StreamEnv, WatermarkStrategy};
use streamlab_engine::core::time::EventTime;
use streamlab_engine::core::value::{Type, Value as V};
use streamlab_engine::flink::process::{Collector, Context, KeyedProcessFunction, TimeDomain};
use streamlab_engine::row;

/// Remembers a key's last record; 1 s (event time) after it, sends it to the side output
/// (`stale`), and emits a count on the main output only for keys seen more than once.
#[derive(Debug, Clone)]
struct StaleToSide;

impl KeyedProcessFunction for StaleToSide {
    fn process_element(&mut self, row: &[V], ctx: &mut Context<'_>, _: &mut Collector<'_>) {
        let n = ctx.value("n").map_or(0, |v| v[0].as_int());
        ctx.set_value("n", &[V::Int(n + 1)]);
        ctx.set_value("last", row);
        ctx.register_event_time_timer(
            ctx.timestamp()
                .unwrap_or(EventTime::ZERO)
                .plus_millis(1_000),
        );
    }
    fn on_timer(
        &mut self,
        ts: EventTime,
        _: TimeDomain,
        ctx: &mut Context<'_>,
        out: &mut Collector<'_>,
    ) {
        let Some(last) = ctx.value("last").map(<[V]>::to_vec) else {
            return;
        };
        if EventTime::from_millis(last[2].as_int()).plus_millis(1_000) != ts {
            return; // a newer record came since
        }
        let n = ctx.value("n").map_or(0, |v| v[0].as_int());
        if n > 1 {
            out.collect(&[ctx.key(), V::Int(n)]);
        }
        out.side_output(&last);
    }
    fn fresh(&self) -> Box<dyn KeyedProcessFunction> {
        Box::new(self.clone())
    }
}

/// Item 8 of issue 11 (moved here from `ops/process.rs`, which may not use the api layer): rows a process function sends to its side output from `on_timer`
/// reach the side output's sink — with and without main output from the same firing.
#[test]
fn side_output_from_on_timer_is_delivered() {
    let env = StreamEnv::new("stale");
    let main = env
        .source(
            "clicks",
            Source::elements([
                row! { user = "ann", n = 1, ts = 1_000 },
                row! { user = "bob", n = 2, ts = 1_500 },
                row! { user = "ann", n = 3, ts = 1_800 },
                row! { user = "cid", n = 4, ts = 5_000 },
            ])
            .timestamp("ts")
            .watermarks(WatermarkStrategy::for_monotonous_timestamps().per_event()),
        )
        .key_by("user")
        .process("stale", &[("count", Type::Int)], StaleToSide)
        .with_side_output("stale");
    main.collect("counts");
    main.side_output("stale").collect("stale_records");
    let r = env.execute().unwrap();
    let json =
        |name: &str| serde_json::to_string(r.rows(name).expect("a sink of the job")).unwrap();
    // bob's timer (2.5 s) and ann's (2.8 s) fire at cid's watermark, cid's at the end;
    // only ann had two records, so only her firing has main output too.
    assert_eq!(json("counts"), r#"[["ann",2]]"#);
    assert_eq!(
        json("stale_records"),
        r#"[["bob",2,1500],["ann",3,1800],["cid",4,5000]]"#
    );
}
