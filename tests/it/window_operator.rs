//! The window operator in whole runs: what its state and limits do to a job (moved from the
//! operator's unit tests, which do not run the simulator).

use streamlab_engine::check::parse_str;
use streamlab_engine::plan::plan;
use streamlab_engine::report::{RunReport, Status};
use streamlab_engine::sim::{self, RunOptions};

fn job(window: &str, limits: &str, keys: usize) -> String {
    let events: Vec<String> = (0..keys)
        .map(|k| format!("{{ key = \"k{k}\", ts = {}, value = 1 }}", 1000 + k))
        .collect();
    format!(
        "name = \"w\"\n{limits}\n[[source]]\nname = \"events\"\nkind = \"inline\"\ntimestamp = \"ts\"\n\
         watermarks = {{ strategy = \"monotonous\", emit = \"per_event\" }}\nevents = [ {} ]\n\
         [[operator]]\nname = \"by_key\"\nkind = \"key_by\"\ninput = \"events\"\nkey = \"key\"\n\
         [[operator]]\nname = \"win\"\nkind = \"window\"\ninput = \"by_key\"\n{window}\n\
         function = \"sum\"\nfield = \"value\"\n[[sink]]\nname = \"out\"\ninput = \"win\"\n",
        events.join(", ")
    )
}

fn run(text: &str) -> (RunReport, Vec<String>) {
    let s = parse_str("w.toml", text, None).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let warnings = s.warnings.iter().map(|w| w.message.clone()).collect();
    let p = plan(&s).unwrap();
    let opts = RunOptions::default();
    (sim::run(&s, &p, opts).unwrap().report, warnings)
}

/// Issue 11 item 2: merged session state is combined in Flink's order — the windows in
/// `java.util.HashSet` order (here [4000, 6000) before [0, 2000), from Java), the first
/// one's state is the target, and `mergeNamespaces` computes reduce(target, others) — so
/// a reduce that is not commutative gives Flink's result, not the window-start order's.
#[test]
fn a_non_commutative_reduce_merges_sessions_in_flinks_order() {
    let text = "name = \"m\"\n[[source]]\nname = \"events\"\nkind = \"inline\"\ntimestamp = \"ts\"\n\
         watermarks = { strategy = \"bounded\", max_out_of_orderness = \"10 s\", emit = \"per_event\" }\n\
         events = [ { key = \"a\", ts = 0, value = 1 }, { key = \"a\", ts = 4000, value = 2 }, \
         { key = \"a\", ts = 2000, value = 3 } ]\n\
         [[operator]]\nname = \"by_key\"\nkind = \"key_by\"\ninput = \"events\"\nkey = \"key\"\n\
         [[operator]]\nname = \"win\"\nkind = \"window\"\ninput = \"by_key\"\n\
         window = { type = \"session\", gap = \"2 s\" }\nfunction = \"expr\"\n\
         select = { value = \"acc.value * 10 + value\" }\n\
         [[sink]]\nname = \"out\"\ninput = \"win\"\n";
    let (r, _) = run(text);
    assert_eq!(r.outcome.status, Status::Finished, "{:?}", r.outcome);
    let sink = r.sinks.iter().find(|k| k.name == "out").unwrap();
    let at = |f: &str| sink.fields.iter().position(|x| x == f).unwrap();
    assert_eq!(sink.rows.len(), 1, "{:?}", sink.rows);
    // target [4000, 6000) holds 2, the other 1: reduce(2, 1) = 21; then 3: 213
    // (window-start order would give (1 * 10 + 2) * 10 + 3 = 123)
    assert_eq!(sink.rows[0][at("value")], serde_json::json!(213));
    assert_eq!(sink.rows[0][at("window_end")], serde_json::json!(6000));
}

/// Issue 11 item 10: in Flink this job never ends; the run stops at once with the cause.
#[test]
fn a_global_window_with_a_continuous_trigger_stops_at_the_final_watermark() {
    let text = job(
        "window = { type = \"global\" }\ntrigger = { type = \"continuous_event_time\", interval = \"1 s\" }",
        "",
        3,
    );
    let (r, warnings) = run(&text);
    assert!(
        warnings.iter().any(|w| w.contains("never stops firing")),
        "validate warns: {warnings:?}"
    );
    assert_eq!(r.outcome.status, Status::LimitReached);
    let m = r.outcome.message.unwrap_or_default();
    assert!(
        m.contains("fires without end at the final watermark"),
        "{m}"
    );
}

/// The timers one watermark fires count against `[limits] max_events`: 40 windows due at
/// the final watermark are more than a budget of 30 events.
#[test]
fn timers_fired_by_one_watermark_count_against_max_events() {
    let window = "window = { type = \"tumbling\", size = \"1 h\" }";
    let (r, _) = run(&job(window, "[limits]\nmax_events = 30", 40));
    assert_eq!(r.outcome.status, Status::LimitReached, "{:?}", r.outcome);
    let (r, _) = run(&job(window, "", 40));
    assert_eq!(r.outcome.status, Status::Finished, "{:?}", r.outcome);
    assert!(
        r.events < 30,
        "the queue events alone ({}) stay below the limit",
        r.events
    );
}
