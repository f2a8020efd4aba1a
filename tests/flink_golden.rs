//! The engine against real Apache Flink 2.3: every case in `tests/flink-golden/` (and in the
//! directory named by `STREAMLAB_EXTRA_GOLDEN`, if set) is turned into a scenario, run, and
//! compared with the output Flink produced, by the rules of `tests/flink-golden/README.md`:
//! lines grouped by `after_seq` (per window subtask above parallelism 1), groups in order,
//! the same lines in each group, `subtask` and `wm` equal.
//!
//! Stricter than the README asks: within a group the lines must come in Flink's order, for
//! lines of one key (several windows of a key due on one watermark fire in the order of
//! Flink's timer heap) and across keys (one heap holds every key's timers of a subtask). The
//! engine reproduces that heap (`engine/src/ops/timers.rs`), so any difference in order is
//! a fault; the message says when only the order differs.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use streamlab_engine::check::parse_str;
use streamlab_engine::core::time::EventTime;
use streamlab_engine::oracle;
use streamlab_engine::plan::plan;
use streamlab_engine::report::Status;
use streamlab_engine::sim::RunOptions;

/// A `Write` whose bytes can be read after the run.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn ms(v: &Value) -> String {
    format!("{} ms", v.as_i64().expect("integer milliseconds"))
}

/// The watermark strategy and emission of a golden spec's source, in scenario-file syntax.
fn watermarks_of(wm: &Value) -> (String, &'static str) {
    let strategy = match wm["kind"].as_str() {
        Some("monotonous") => "strategy = \"monotonous\"".to_string(),
        _ => format!(
            "strategy = \"bounded\", max_out_of_orderness = \"{}\"",
            ms(&wm["max_out_of_orderness_ms"])
        ),
    };
    let emit = match wm["emit"].as_str() {
        Some("per_event") => "emit = \"per_event\"",
        Some("end_only") => "emit = \"periodic\", interval = \"0 ms\"",
        other => panic!("unknown emit {other:?}"),
    };
    (strategy, emit)
}

/// The window assigner of a golden spec, in scenario-file syntax.
fn window_of(w: &Value) -> String {
    let offset = w
        .get("offset_ms")
        .and_then(Value::as_i64)
        .filter(|o| *o != 0)
        .map(|o| format!(", offset = \"{o} ms\""))
        .unwrap_or_default();
    match w["kind"].as_str() {
        Some("tumbling") => format!(
            "{{ type = \"tumbling\", size = \"{}\"{offset} }}",
            ms(&w["size_ms"])
        ),
        Some("sliding") => format!(
            "{{ type = \"sliding\", size = \"{}\", slide = \"{}\"{offset} }}",
            ms(&w["size_ms"]),
            ms(&w["slide_ms"])
        ),
        Some("session") => format!("{{ type = \"session\", gap = \"{}\" }}", ms(&w["gap_ms"])),
        Some("count") => match w.get("slide") {
            Some(s) => format!("{{ type = \"count\", size = {}, slide = {s} }}", w["size"]),
            None => format!("{{ type = \"count\", size = {} }}", w["size"]),
        },
        Some("global") => "{ type = \"global\" }".to_string(),
        other => panic!("unknown window {other:?}"),
    }
}

/// The trigger and evictor lines of a golden spec's window operator (empty: the defaults).
fn trigger_and_evictor_of(spec: &Value) -> String {
    let mut extra = String::new();
    if let Some(t) = spec.get("trigger") {
        let mut parts = vec![format!("type = {}", t["type"])];
        if let Some(c) = t.get("count") {
            parts.push(format!("count = {c}"));
        }
        if let Some(i) = t.get("interval_ms") {
            parts.push(format!("interval = \"{}\"", ms(i)));
        }
        if t.get("purging").and_then(Value::as_bool) == Some(true) {
            parts.push("purging = true".into());
        }
        extra.push_str(&format!("trigger = {{ {} }}\n", parts.join(", ")));
    }
    if let Some(e) = spec.get("evictor") {
        match e["type"].as_str() {
            Some("count") => extra.push_str(&format!(
                "evictor = {{ type = \"count\", count = {} }}\n",
                e["count"]
            )),
            Some("time") => extra.push_str(&format!(
                "evictor = {{ type = \"time\", size = \"{}\" }}\n",
                ms(&e["size_ms"])
            )),
            other => panic!("unknown evictor {other:?}"),
        }
    }
    extra
}

/// The scenario for a golden spec: one inline source (parallelism 1) with Flink's watermark
/// generator, a key_by, the window operator at the spec's parallelism, and sinks for results
/// and late data.
fn scenario_for(spec: &Value) -> String {
    let p = spec["parallelism"].as_u64().unwrap_or(1);
    let (strategy, emit) = watermarks_of(&spec["watermark"]);
    let w = &spec["window"];
    let window = window_of(w);
    // Global and count windows never end: no lateness, no late data.
    let global = matches!(w["kind"].as_str(), Some("count" | "global"));
    let mut extra = trigger_and_evictor_of(spec);
    if !global {
        let lateness = spec
            .get("allowed_lateness_ms")
            .map(ms)
            .unwrap_or_else(|| "0 ms".into());
        extra.push_str(&format!(
            "allowed_lateness = \"{lateness}\"\nlate_output = \"late\"\n"
        ));
    }
    let agg = spec["aggregate"].as_str().unwrap_or("sum");
    let field = if agg == "count" {
        String::new()
    } else {
        "field = \"value\"\n".to_string()
    };
    let mut events = String::new();
    for (seq, e) in spec["events"].as_array().unwrap().iter().enumerate() {
        events.push_str(&format!(
            "  {{ key = {}, ts = {}, value = {}, seq = {seq} }},\n",
            json!(e["key"].as_str().unwrap()),
            e["ts"],
            e.get("value").and_then(Value::as_i64).unwrap_or(1)
        ));
    }
    format!(
        "name = \"golden\"\n\
         [cluster]\nslots_per_task_manager = {slots}\n\
         [[source]]\nname = \"events\"\nkind = \"inline\"\nparallelism = 1\ntimestamp = \"ts\"\n\
         watermarks = {{ {strategy}, {emit} }}\nevents = [\n{events}]\n\
         [[operator]]\nname = \"by_key\"\nkind = \"key_by\"\ninput = \"events\"\nkey = \"key\"\n\
         [[operator]]\nname = \"win\"\nkind = \"window\"\ninput = \"by_key\"\nparallelism = {p}\nwindow = {window}\n\
         function = \"{agg}\"\n{field}as = \"result\"\n{extra}\
         [[sink]]\nname = \"results\"\ninput = \"win\"\nparallelism = {p}\n{late_sink}",
        slots = p.max(1),
        late_sink = if global {
            String::new()
        } else {
            format!("[[sink]]\nname = \"late_data\"\ninput = \"late\"\nparallelism = {p}\n")
        },
    )
}

/// What the engine emitted, in the golden format.
fn engine_lines(case: &Path, spec: &Value) -> Vec<Value> {
    let text = scenario_for(spec);
    let s = parse_str(&format!("{}/spec.json", case.display()), &text, None).unwrap_or_else(|e| {
        panic!(
            "{}: generated scenario is invalid:\n{e}\n{text}",
            case.display()
        )
    });
    let p = plan(&s).unwrap_or_else(|e| panic!("{}: {e}", case.display()));
    let buf = Shared::default();
    let out = oracle::run(
        &s,
        &p,
        RunOptions {
            seed: None,
            trace: Some(Box::new(buf.clone())),
            hash_trace: false,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        out.report.outcome.status,
        Status::Finished,
        "{}: {:?}",
        case.display(),
        out.report.outcome.message
    );
    let parallel = spec["parallelism"].as_u64().unwrap_or(1) > 1;
    let global = matches!(spec["window"]["kind"].as_str(), Some("count" | "global"));
    let bytes = buf.0.lock().unwrap().clone();
    let mut lines = Vec::new();
    for l in String::from_utf8(bytes).unwrap().lines() {
        let e: Value = serde_json::from_str(l).unwrap();
        let seq = |row: &Value| {
            row.as_array()
                .and_then(|r| r.get(3))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let mut line = match e["event"].as_str() {
            Some("window_fired") if !global => json!({
                "key": e["key"], "window_start": e["window_start"], "window_end": e["window_end"],
                "result": e["result"][0], "after_seq": seq(&e["last_input"]), "wm": e["watermark"],
            }),
            Some("window_fired") => json!({
                "key": e["key"], "result": e["result"][0],
                "after_seq": seq(&e["last_input"]), "wm": e["watermark"],
            }),
            Some("late_record") => {
                let r = &e["row"];
                json!({
                    "late": { "key": r[0], "ts": r[1], "value": r[2], "seq": r[3] },
                    "after_seq": seq(&e["last_input"]), "wm": e["watermark"],
                })
            }
            _ => continue,
        };
        if parallel {
            line["subtask"] = e["subtask"].clone();
        }
        lines.push(line);
    }
    lines
}

/// Groups by (subtask, after_seq) keeping order.
fn groups(lines: &[Value]) -> BTreeMap<String, Vec<Vec<Value>>> {
    let mut by_subtask: BTreeMap<String, Vec<Vec<Value>>> = BTreeMap::new();
    for l in lines {
        let sub = l
            .get("subtask")
            .map(|s| s.to_string())
            .unwrap_or_else(|| "-".into());
        let gs = by_subtask.entry(sub).or_default();
        match gs.last_mut() {
            Some(g) if g[0]["after_seq"] == l["after_seq"] => g.push(l.clone()),
            _ => gs.push(vec![l.clone()]),
        }
    }
    by_subtask
}

/// Whether two groups hold the same lines in the same order; `Err` says how they differ.
fn same_group(a: &[Value], b: &[Value]) -> Result<(), &'static str> {
    if a == b {
        return Ok(());
    }
    let canon = |g: &[Value]| {
        let mut v: Vec<String> = g.iter().map(|l| l.to_string()).collect();
        v.sort();
        v
    };
    if canon(a) == canon(b) {
        Err("the same lines in another order (Flink's timer-heap order)")
    } else {
        Err("different lines")
    }
}

/// Compares one case; returns a description of the first difference.
fn check_case(case: &Path) -> Result<usize, String> {
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(case.join("spec.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let expected: Vec<Value> = std::fs::read_to_string(case.join("expected.jsonl"))
        .map_err(|e| e.to_string())?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got = engine_lines(case, &spec);
    let (ge, gg) = (groups(&expected), groups(&got));
    for (sub, eg) in &ge {
        let empty = Vec::new();
        let og = gg.get(sub).unwrap_or(&empty);
        for (i, e) in eg.iter().enumerate() {
            let verdict = og.get(i).map_or(Err("missing"), |o| same_group(e, o));
            match (og.get(i), verdict) {
                (_, Ok(())) => {}
                (other, Err(why)) => {
                    return Err(format!(
                        "{}: subtask {sub}, group {i} (after_seq {}, Flink's watermark {}): {why}\n  flink:     {}\n  streamlab: {}",
                        case.display(),
                        e[0]["after_seq"],
                        e[0]["wm"],
                        e.iter()
                            .map(Value::to_string)
                            .collect::<Vec<_>>()
                            .join("\n             "),
                        other.map_or("(nothing)".to_string(), |o| o
                            .iter()
                            .map(Value::to_string)
                            .collect::<Vec<_>>()
                            .join("\n             "))
                    ));
                }
            }
        }
        if og.len() > eg.len() {
            return Err(format!(
                "{}: subtask {sub}: streamlab emitted more: {}",
                case.display(),
                og[eg.len()]
                    .iter()
                    .map(Value::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
    }
    for sub in gg.keys() {
        if !ge.contains_key(sub) {
            return Err(format!(
                "{}: streamlab emitted on subtask {sub}, Flink did not",
                case.display()
            ));
        }
    }
    Ok(expected.len())
}

fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("spec.json").exists())
        .collect();
    v.sort();
    v
}

fn run_all(dir: &Path) {
    let cs = cases(dir);
    assert!(!cs.is_empty(), "no cases in {}", dir.display());
    let mut failures = Vec::new();
    let mut lines = 0;
    for c in &cs {
        match check_case(c) {
            Ok(n) => lines += n,
            Err(e) => failures.push(e),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from Flink:\n\n{}",
        failures.len(),
        cs.len(),
        failures.join("\n\n")
    );
    println!(
        "{} cases, {lines} lines: all equal to Flink's output",
        cs.len()
    );
}

#[test]
fn every_recorded_case_matches_flink() {
    run_all(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/flink-golden"));
}

#[test]
fn extra_cases_match_flink() {
    if let Some(dir) = std::env::var_os("STREAMLAB_EXTRA_GOLDEN") {
        run_all(Path::new(&dir));
    }
}

/// `explain --window` on every window of every case: for each firing Flink recorded, in
/// order, the answer names as the last input record exactly Flink's `after_seq` and as the
/// watermark exactly Flink's `wm`.
#[test]
fn explain_names_flinks_last_record_and_watermark_for_every_firing() {
    use streamlab_engine::explain::{Question, explain};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/flink-golden");
    let mut firings = 0;
    for case in cases(&dir) {
        let spec: Value =
            serde_json::from_str(&std::fs::read_to_string(case.join("spec.json")).unwrap())
                .unwrap();
        let global = matches!(spec["window"]["kind"].as_str(), Some("count" | "global"));
        let s = parse_str("spec.toml", &scenario_for(&spec), None).unwrap();
        let p = plan(&s).unwrap();
        // Flink's firings per window (key, start), in order.
        let mut windows: BTreeMap<(String, i64), Vec<Value>> = BTreeMap::new();
        for l in std::fs::read_to_string(case.join("expected.jsonl"))
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            let e: Value = serde_json::from_str(l).unwrap();
            if e.get("late").is_some() {
                continue;
            }
            let key = e["key"].as_str().unwrap().to_string();
            let start = if global {
                0
            } else {
                e["window_start"].as_i64().unwrap()
            };
            windows.entry((key, start)).or_default().push(e);
        }
        for ((key, start), flink) in windows {
            let q = Question::Window {
                operator: "win".into(),
                key: key.clone(),
                start: EventTime::from_millis(start),
            };
            let a = explain(&s, &p, None, &q).unwrap();
            let got = a.data["firings"].as_array().unwrap_or_else(|| {
                panic!(
                    "{}: window {start} of {key} did not fire: {}",
                    case.display(),
                    a.render()
                )
            });
            assert_eq!(
                got.len(),
                flink.len(),
                "{}: window {start} of {key}: firings\n{}",
                case.display(),
                a.render()
            );
            for (g, f) in got.iter().zip(&flink) {
                assert_eq!(
                    g["last_input"]["row"][3],
                    f["after_seq"],
                    "{}: window {start} of {key}: last input\n{}",
                    case.display(),
                    a.render()
                );
                assert_eq!(
                    g["watermark"],
                    f["wm"],
                    "{}: window {start} of {key}",
                    case.display()
                );
                firings += 1;
            }
        }
    }
    assert!(firings > 100, "only {firings} firings checked");
    println!("{firings} firings explained as Flink recorded them");
}
