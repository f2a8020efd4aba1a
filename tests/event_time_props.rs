//! Property tests of the engine's event-time semantics on random keyed window jobs.
//!
//! Random inputs (1–4 keys, 1–60 events whose timestamps mostly increase, with some disorder
//! and a few events far behind, often snapped onto window boundaries or 1 ms either side;
//! tumbling, sliding or session event-time windows; a bounded-out-of-orderness watermark of
//! 0, 200 or 1000 ms; allowed lateness 0, 500 or 2000 ms; `sum`/`count`/`min`/`max`; window
//! parallelism 1 or 2) are turned into scenarios, run with the trace on, and checked three ways:
//!
//! 1. **Watermarks never go backwards** (`watermarks_never_go_backwards`): on every window
//!    subtask (`task` + `subtask` of the trace), the `watermark` carried by consecutive
//!    `window_fired` / `late_record` events never decreases. In the final report, every task
//!    that has a `watermark` ended at or above every value the trace showed for it, at +∞
//!    (the job finished), not above any of its non-idle input channels, and its watermark
//!    trail (`watermark_lag_ms`) only increases. This test also varies how watermarks arrive:
//!    source parallelism 1 or 2 (the window then takes the minimum of two channels), periodic
//!    emission from a paced source, and an identity `map` of parallelism 1–3 in between.
//! 2. **Every event is either in all of its non-late windows or reported late**
//!    (`every_event_is_counted_or_reported_late`): for tumbling and sliding windows counting
//!    elements, with a late-data side output, the last firing of each (key, window) counts
//!    exactly the events assigned to it that were not late for it (firings accumulate, so the
//!    last one is the final count), and every event reported late is reported once,
//!    unchanged, and had no window left that was not late. Which windows an event belongs to
//!    and the watermark it met are computed here from the rules, not by the engine.
//! 3. **Window results equal a brute-force reference** (`window_output_matches_reference`):
//!    a small model of Flink's `WindowOperator` + `EventTimeTrigger` (+ `MergingWindowSet` for
//!    sessions), written in this file from `../shared/FLINK_RULES.md` and
//!    `tools/flink-oracle/ref_model.py`, computes every line (window firing or late record,
//!    with the window operator's watermark `wm` and `after_seq`); the engine's lines must
//!    equal them by the rules of `tests/flink-golden/README.md`: per window subtask, lines
//!    grouped by `after_seq`, groups in order, within a group any order across keys but each
//!    key's lines in order. The subtask of each key is computed here too (Java
//!    `String.hashCode`, Flink's `MathUtils.murmurHash`, max parallelism 128), so at
//!    parallelism 2 the comparison is as strict as at 1.
//!
//! Plain tests check the model itself against a recorded Flink case and Flink's key groups,
//! and check that each property's check rejects a deliberately corrupted run.
//!
//! Cases per property: 64, or `PROPTEST_CASES`. A failure shows the shrunk input and the
//! scenario text. Failures are not persisted to files; `PROPTEST_RNG_SEED` fixes the inputs.
//!
//! Over 800 lines because the reference model (Flink's window rules written independently of
//! the engine), the input generators and the three properties that compare them belong together:
//! splitting the model from its properties would hide what each property checks against.

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Mutex};
use streamlab_engine::check::parse_str;
use streamlab_engine::oracle;
use streamlab_engine::plan::plan;
use streamlab_engine::report::Status;
use streamlab_engine::sim::RunOptions;

/// Flink's maximum parallelism for every job here (the default for parallelism ≤ 85).
const MAX_PARALLELISM: i32 = 128;

// ---------------------------------------------------------------------------------------------
// Generated jobs
// ---------------------------------------------------------------------------------------------

/// Event-time window assigners.
#[derive(Debug, Clone, Copy)]
enum WinKind {
    Tumbling { size: i64, offset: i64 },
    Sliding { size: i64, slide: i64, offset: i64 },
    Session { gap: i64 },
}

/// One input event; its index in the input is its `seq`.
#[derive(Debug, Clone)]
struct Ev {
    key: String,
    ts: i64,
    value: i64,
}

/// How the source emits watermarks.
#[derive(Debug, Clone, Copy)]
enum Emit {
    /// After every event, `maxTs - bound - 1` (when it increases).
    PerEvent,
    /// Every `interval_ms` of processing time, from a source paced at `rate` records/s.
    Periodic { interval_ms: u32, rate: u32 },
}

/// A keyed window job on an inline source. Properties 2 and 3 always use one source subtask,
/// per-event watermarks and no `map` (so the arrival order is the input order).
#[derive(Debug, Clone)]
struct Job {
    events: Vec<Ev>,
    window: WinKind,
    bound: i64,
    lateness: i64,
    agg: &'static str,
    parallelism: u32,
    source_parallelism: u32,
    emit: Emit,
    /// A rebalancing identity `map` between the source and the `key_by`, at this parallelism.
    map_parallelism: Option<u32>,
}

/// Key names: short, long, and non-ASCII (Java hashes UTF-16 code units).
const KEY_POOL: &[&str] = &["a", "b", "c", "k0", "k1", "k2", "user-42", "zü", "🦀"];

fn tumbling() -> impl Strategy<Value = WinKind> {
    (10i64..=50, any::<bool>(), any::<u32>()).prop_map(|(s, with_offset, r)| {
        let size = s * 100;
        let offset = if with_offset {
            i64::from(r) % (2 * size - 1) - (size - 1)
        } else {
            0
        };
        WinKind::Tumbling { size, offset }
    })
}

fn sliding() -> impl Strategy<Value = WinKind> {
    (10i64..=50, 1i64..=4, any::<bool>(), any::<u32>()).prop_map(|(s, d, with_offset, r)| {
        let size = s * 100;
        // size / d: an exact divisor or not ("divisor-ish").
        let slide = size / d;
        let offset = if with_offset {
            i64::from(r) % (2 * slide - 1) - (slide - 1)
        } else {
            0
        };
        WinKind::Sliding {
            size,
            slide,
            offset,
        }
    })
}

fn session() -> impl Strategy<Value = WinKind> {
    (5i64..=30).prop_map(|g| WinKind::Session { gap: g * 100 })
}

/// An event before its timestamp is snapped to a grid (see [`snap`]).
#[derive(Debug, Clone)]
struct RawEv {
    key: &'static str,
    ts: i64,
    /// -1, 0 or 1 ms, added after snapping.
    nudge: i64,
    value: i64,
}

/// Events: each has an arrival position in 0..12 s; in arrival order, most sit at their
/// position, some up to 1.5 s behind it, a few up to 8 s behind. Timestamps start anywhere in
/// -3 s..3 s. (Positions rather than steps, so that shrinking can drop an event without moving
/// the others.)
fn events(keys: Vec<&'static str>) -> impl Strategy<Value = Vec<RawEv>> {
    let n = keys.len();
    (
        -3000i64..3000,
        prop::collection::vec(
            (
                0..n,
                0i64..12_000,
                0u8..10,
                0i64..8000,
                -1i64..=1,
                -5i64..20,
            ),
            1..=60,
        ),
    )
        .prop_map(move |(base, mut raw)| {
            raw.sort_by_key(|r| r.1);
            raw.into_iter()
                .map(|(k, at, kind, back, nudge, value)| {
                    let behind = match kind {
                        0..=6 => 0,
                        7 | 8 => back % 1500,
                        _ => back,
                    };
                    RawEv {
                        key: keys[k],
                        ts: base + at - behind,
                        nudge,
                        value,
                    }
                })
                .collect()
        })
}

/// The timestamps of a job: as generated (`grid` 0), or rounded down to a grid of 100 ms
/// (`grid` 1) or of the window's own unit (size, slide or gap, from its offset; `grid` 2 and
/// 3) and then moved by the event's nudge. Grids put events, and so watermarks, on window
/// boundaries and one millisecond either side, where off-by-one errors show.
fn snap(raw: Vec<RawEv>, window: WinKind, grid: u8) -> Vec<Ev> {
    let (unit, origin) = match (grid, window) {
        (0, _) => (1, 0),
        (1, _) => (100, 0),
        (_, WinKind::Tumbling { size, offset }) => (size, offset),
        (_, WinKind::Sliding { slide, offset, .. }) => (slide, offset),
        (_, WinKind::Session { gap }) => (gap, 0),
    };
    raw.into_iter()
        .map(|e| Ev {
            key: e.key.to_string(),
            ts: if unit == 1 {
                e.ts
            } else {
                origin + (e.ts - origin).div_euclid(unit) * unit + e.nudge
            },
            value: e.value,
        })
        .collect()
}

fn keys() -> impl Strategy<Value = Vec<&'static str>> {
    prop::sample::subsequence(KEY_POOL.to_vec(), 1..=4)
}

/// A job with one source subtask and per-event watermarks.
fn job(
    window: BoxedStrategy<WinKind>,
    agg: BoxedStrategy<&'static str>,
) -> impl Strategy<Value = Job> {
    (
        keys().prop_flat_map(events),
        window,
        0u8..4,
        prop::sample::select(vec![0i64, 200, 1000]),
        prop::sample::select(vec![0i64, 500, 2000]),
        agg,
        1u32..=2,
    )
        .prop_map(
            |(raw, window, grid, bound, lateness, agg, parallelism)| Job {
                events: snap(raw, window, grid),
                window,
                bound,
                lateness,
                agg,
                parallelism,
                source_parallelism: 1,
                emit: Emit::PerEvent,
                map_parallelism: None,
            },
        )
}

fn any_agg() -> BoxedStrategy<&'static str> {
    prop::sample::select(vec!["sum", "count", "min", "max"]).boxed()
}

/// Property 1 also varies how watermarks reach the window operator.
fn topology_job() -> impl Strategy<Value = Job> {
    (
        job(
            prop_oneof![tumbling(), sliding(), session()].boxed(),
            any_agg(),
        ),
        1u32..=2,
        prop_oneof![
            Just(Emit::PerEvent),
            // Slow enough to last several 100 ms buckets of the watermark trail.
            (1u32..=50, 20u32..=300)
                .prop_map(|(interval_ms, rate)| Emit::Periodic { interval_ms, rate }),
        ],
        prop::option::of(1u32..=3),
    )
        .prop_map(|(mut j, sp, emit, map)| {
            j.source_parallelism = sp;
            j.emit = emit;
            j.map_parallelism = map;
            j
        })
}

// ---------------------------------------------------------------------------------------------
// Scenario text and running it
// ---------------------------------------------------------------------------------------------

fn scenario_for(j: &Job) -> String {
    let window = match j.window {
        WinKind::Tumbling { size, offset } => {
            format!("{{ type = \"tumbling\", size = \"{size} ms\", offset = \"{offset} ms\" }}")
        }
        WinKind::Sliding {
            size,
            slide,
            offset,
        } => format!(
            "{{ type = \"sliding\", size = \"{size} ms\", slide = \"{slide} ms\", offset = \"{offset} ms\" }}"
        ),
        WinKind::Session { gap } => format!("{{ type = \"session\", gap = \"{gap} ms\" }}"),
    };
    let field = if j.agg == "count" {
        ""
    } else {
        "field = \"value\"\n"
    };
    let (emit, rate) = match j.emit {
        Emit::PerEvent => ("emit = \"per_event\"".to_string(), String::new()),
        Emit::Periodic { interval_ms, rate } => (
            format!("emit = \"periodic\", interval = \"{interval_ms} ms\""),
            format!("rate = {rate}\n"),
        ),
    };
    let mut events = String::new();
    for (seq, e) in j.events.iter().enumerate() {
        let _ = writeln!(
            events,
            "  {{ key = {}, ts = {}, value = {}, seq = {seq} }},",
            Value::from(e.key.as_str()),
            e.ts,
            e.value
        );
    }
    let (keyed_input, map) = match j.map_parallelism {
        Some(m) => (
            "pre",
            format!(
                "[[operator]]\nname = \"pre\"\nkind = \"map\"\ninput = \"events\"\nparallelism = {m}\n\
                 select = {{ key = \"key\", ts = \"ts\", value = \"value\", seq = \"seq\" }}\n"
            ),
        ),
        None => ("events", String::new()),
    };
    let p = j.parallelism;
    let slots = p
        .max(j.source_parallelism)
        .max(j.map_parallelism.unwrap_or(1));
    format!(
        "name = \"event_time_props\"\n\
         [cluster]\nslots_per_task_manager = {slots}\n\
         [[source]]\nname = \"events\"\nkind = \"inline\"\nparallelism = {sp}\n{rate}timestamp = \"ts\"\n\
         watermarks = {{ strategy = \"bounded\", max_out_of_orderness = \"{bound} ms\", {emit} }}\n\
         events = [\n{events}]\n\
         {map}\
         [[operator]]\nname = \"by_key\"\nkind = \"key_by\"\ninput = \"{keyed_input}\"\nkey = \"key\"\n\
         [[operator]]\nname = \"win\"\nkind = \"window\"\ninput = \"by_key\"\nparallelism = {p}\nwindow = {window}\n\
         function = \"{agg}\"\n{field}as = \"result\"\nallowed_lateness = \"{lateness} ms\"\nlate_output = \"late\"\n\
         [[sink]]\nname = \"results\"\ninput = \"win\"\nparallelism = {p}\n\
         [[sink]]\nname = \"late_data\"\ninput = \"late\"\nparallelism = {p}\n",
        sp = j.source_parallelism,
        bound = j.bound,
        agg = j.agg,
        lateness = j.lateness,
    )
}

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

/// One finished run: the trace lines and the report as JSON.
#[derive(Clone)]
struct Run {
    trace: Vec<Value>,
    report: Value,
}

fn run_scenario(text: &str) -> Result<Run, String> {
    let s = parse_str("event_time_props.toml", text, None)
        .map_err(|e| format!("the generated scenario is invalid:\n{e}"))?;
    let p = plan(&s).map_err(|e| format!("planning failed: {e}"))?;
    let buf = Shared::default();
    let out = oracle::run(
        &s,
        &p,
        RunOptions {
            seed: None,
            trace: Some(Box::new(buf.clone())),
            ..Default::default()
        },
    )
    .map_err(|e| format!("run failed: {e}"))?;
    if out.report.outcome.status != Status::Finished {
        return Err(format!(
            "the job did not finish: {:?} {:?}",
            out.report.outcome.status, out.report.outcome.message
        ));
    }
    let report = serde_json::to_value(&out.report).map_err(|e| e.to_string())?;
    let bytes = buf.0.lock().unwrap().clone();
    let trace = String::from_utf8(bytes)
        .map_err(|e| e.to_string())?
        .lines()
        .map(|l| serde_json::from_str(l).map_err(|e| format!("bad trace line {l}: {e}")))
        .collect::<Result<_, _>>()?;
    Ok(Run { trace, report })
}

// ---------------------------------------------------------------------------------------------
// Output lines, in the golden format
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum What {
    Fire {
        key: String,
        start: i64,
        end: i64,
        result: i64,
    },
    Late {
        key: String,
        ts: i64,
        value: i64,
        seq: i64,
    },
}

/// A window firing or a late record, with the window subtask that emitted it, the `seq` of
/// the last input that subtask had received, and its watermark at that moment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Line {
    subtask: u32,
    after_seq: i64,
    wm: i64,
    what: What,
}

impl Line {
    fn key(&self) -> &str {
        match &self.what {
            What::Fire { key, .. } | What::Late { key, .. } => key,
        }
    }
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.what {
            What::Fire {
                key,
                start,
                end,
                result,
            } => write!(f, "{key:?} [{start}, {end}) = {result}")?,
            What::Late {
                key,
                ts,
                value,
                seq,
            } => write!(
                f,
                "late {{ key {key:?}, ts {ts}, value {value}, seq {seq} }}"
            )?,
        }
        write!(
            f,
            "  (subtask {}, after_seq {}, wm {})",
            self.subtask, self.after_seq, self.wm
        )
    }
}

fn int(v: &Value, what: &str, e: &Value) -> Result<i64, String> {
    v.as_i64()
        .ok_or_else(|| format!("trace: `{what}` is not an integer in {e}"))
}

fn str_of(v: &Value, what: &str, e: &Value) -> Result<String, String> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("trace: `{what}` is not a string in {e}"))
}

/// The engine's window firings and late records, in trace order.
fn engine_lines(trace: &[Value]) -> Result<Vec<Line>, String> {
    let mut lines = Vec::new();
    for e in trace {
        let what = match e["event"].as_str() {
            Some("window_fired") => What::Fire {
                key: str_of(&e["key"], "key", e)?,
                start: int(&e["window_start"], "window_start", e)?,
                end: int(&e["window_end"], "window_end", e)?,
                result: int(&e["result"][0], "result", e)?,
            },
            Some("late_record") => {
                let r = &e["row"];
                What::Late {
                    key: str_of(&r[0], "row[0] (key)", e)?,
                    ts: int(&r[1], "row[1] (ts)", e)?,
                    value: int(&r[2], "row[2] (value)", e)?,
                    seq: int(&r[3], "row[3] (seq)", e)?,
                }
            }
            _ => continue,
        };
        lines.push(Line {
            subtask: e["subtask"]
                .as_u64()
                .ok_or_else(|| format!("trace: no subtask in {e}"))? as u32,
            after_seq: int(&e["last_input"][3], "last_input[3] (seq)", e)?,
            wm: int(&e["watermark"], "watermark", e)?,
            what,
        });
    }
    Ok(lines)
}

/// Per subtask: consecutive lines with the same `after_seq`.
fn groups(lines: &[Line]) -> BTreeMap<u32, Vec<Vec<Line>>> {
    let mut by_subtask: BTreeMap<u32, Vec<Vec<Line>>> = BTreeMap::new();
    for l in lines {
        let gs = by_subtask.entry(l.subtask).or_default();
        match gs.last_mut() {
            Some(g) if g[0].after_seq == l.after_seq => g.push(l.clone()),
            _ => gs.push(vec![l.clone()]),
        }
    }
    by_subtask
}

/// The same lines (as a multiset), and each key's lines in the same order.
fn same_group(a: &[Line], b: &[Line]) -> bool {
    let sorted = |g: &[Line]| {
        let mut v = g.to_vec();
        v.sort();
        v
    };
    fn per_key(g: &[Line]) -> BTreeMap<&str, Vec<&Line>> {
        let mut m: BTreeMap<&str, Vec<&Line>> = BTreeMap::new();
        for l in g {
            m.entry(l.key()).or_default().push(l);
        }
        m
    }
    sorted(a) == sorted(b) && per_key(a) == per_key(b)
}

fn show(g: Option<&Vec<Line>>) -> String {
    match g {
        None => "(nothing)".into(),
        Some(g) => g
            .iter()
            .map(Line::to_string)
            .collect::<Vec<_>>()
            .join("\n             "),
    }
}

/// Compares by the golden rules; describes the first difference.
fn compare(expected: &[Line], got: &[Line]) -> Result<(), String> {
    let (ge, gg) = (groups(expected), groups(got));
    let subtasks: BTreeSet<u32> = ge.keys().chain(gg.keys()).copied().collect();
    let empty = Vec::new();
    for sub in subtasks {
        let (eg, og) = (
            ge.get(&sub).unwrap_or(&empty),
            gg.get(&sub).unwrap_or(&empty),
        );
        for i in 0..eg.len().max(og.len()) {
            let (e, o) = (eg.get(i), og.get(i));
            if let (Some(e), Some(o)) = (e, o)
                && same_group(e, o)
            {
                continue;
            }
            return Err(format!(
                "subtask {sub}, group {i}:\n  model:     {}\n  streamlab: {}",
                show(e),
                show(o)
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The reference model (Flink's rules, independent of the engine)
// ---------------------------------------------------------------------------------------------

/// A time window [start, end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Win {
    start: i64,
    end: i64,
}

impl Win {
    fn max_ts(self) -> i64 {
        self.end - 1
    }
    /// `TimeWindow.intersects`: inclusive, so adjacent sessions merge.
    fn intersects(self, o: Win) -> bool {
        self.start <= o.end && self.end >= o.start
    }
    fn cover(self, o: Win) -> Win {
        Win {
            start: self.start.min(o.start),
            end: self.end.max(o.end),
        }
    }
}

/// `TimeWindow.getWindowStartWithOffset`, with a non-negative modulo.
fn window_start(ts: i64, offset: i64, size: i64) -> i64 {
    ts - (ts - offset).rem_euclid(size)
}

/// The windows an element belongs to, in the assigner's order.
fn assign(kind: WinKind, ts: i64) -> Vec<Win> {
    match kind {
        WinKind::Tumbling { size, offset } => {
            let start = window_start(ts, offset, size);
            vec![Win {
                start,
                end: start + size,
            }]
        }
        WinKind::Sliding {
            size,
            slide,
            offset,
        } => {
            let mut out = Vec::new();
            let mut start = window_start(ts, offset, slide);
            while start > ts - size {
                out.push(Win {
                    start,
                    end: start + size,
                });
                start -= slide;
            }
            out
        }
        WinKind::Session { gap } => vec![Win {
            start: ts,
            end: ts + gap,
        }],
    }
}

/// `maxTimestamp + allowedLateness`, saturating at +∞.
fn cleanup_time(w: Win, lateness: i64) -> i64 {
    w.max_ts().checked_add(lateness).unwrap_or(i64::MAX)
}

/// The watermark after each event: `maxTs - bound - 1`, emitted when it increases (the
/// window operator's watermark before event `i` is `wm_before[i]`).
fn watermarks_before(events: &[Ev], bound: i64) -> Vec<i64> {
    let mut wm = i64::MIN;
    let mut max_ts = i64::MIN;
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        out.push(wm);
        max_ts = max_ts.max(e.ts);
        wm = wm.max(max_ts - bound - 1);
    }
    out
}

/// Java's `String.hashCode`: over UTF-16 code units, wrapping.
fn java_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// Flink's `MathUtils.murmurHash(int)`.
fn murmur_hash(code: i32) -> i32 {
    let mut c = code.wrapping_mul(0xcc9e_2d51_u32 as i32);
    c = c.rotate_left(15);
    c = c.wrapping_mul(0x1b87_3593);
    c = c.rotate_left(13);
    c = c.wrapping_mul(5).wrapping_add(0xe654_6b64_u32 as i32);
    c ^= 4;
    // bitMix
    c ^= ((c as u32) >> 16) as i32;
    c = c.wrapping_mul(0x85eb_ca6b_u32 as i32);
    c ^= ((c as u32) >> 13) as i32;
    c = c.wrapping_mul(0xc2b2_ae35_u32 as i32);
    c ^= ((c as u32) >> 16) as i32;
    if c >= 0 {
        c
    } else if c != i32::MIN {
        -c
    } else {
        0
    }
}

/// `KeyGroupRangeAssignment.assignKeyToParallelOperator` for a string key.
fn subtask_of(key: &str, parallelism: u32) -> u32 {
    let key_group = murmur_hash(java_hash(key)) % MAX_PARALLELISM;
    (key_group * parallelism as i32 / MAX_PARALLELISM) as u32
}

/// Flink's `WindowOperator` with `EventTimeTrigger`, a late-data side output and (for session
/// windows) `MergingWindowSet`, fed by one source subtask with per-event watermarks.
struct Model<'a> {
    job: &'a Job,
    wm: i64,
    /// (key, state window) → accumulator.
    state: BTreeMap<(String, Win), i64>,
    /// Event-time timers (timestamp, key, window), de-duplicated like Flink's.
    timers: BTreeSet<(i64, String, Win)>,
    /// Session windows: per key, window → state window.
    mapping: BTreeMap<String, BTreeMap<Win, Win>>,
    /// Per window subtask, the last `seq` it received.
    last_seq: Vec<Option<i64>>,
    out: Vec<Line>,
}

impl<'a> Model<'a> {
    fn run(job: &'a Job) -> Vec<Line> {
        let mut m = Model {
            job,
            wm: i64::MIN,
            state: BTreeMap::new(),
            timers: BTreeSet::new(),
            mapping: BTreeMap::new(),
            last_seq: vec![None; job.parallelism as usize],
            out: Vec::new(),
        };
        let mut max_ts = i64::MIN;
        for (i, e) in job.events.iter().enumerate() {
            m.last_seq[subtask_of(&e.key, job.parallelism) as usize] = Some(i as i64);
            m.process(i as i64, e);
            max_ts = max_ts.max(e.ts);
            m.advance(max_ts - job.bound - 1);
        }
        m.advance(i64::MAX);
        m.out
    }

    fn merging(&self) -> bool {
        matches!(self.job.window, WinKind::Session { .. })
    }

    fn combine(&self, acc: Option<i64>, v: i64) -> i64 {
        match (acc, self.job.agg) {
            (None, _) => v,
            (Some(a), "sum" | "count") => a.wrapping_add(v),
            (Some(a), "min") => a.min(v),
            (Some(a), "max") => a.max(v),
            (_, other) => panic!("unknown aggregate {other}"),
        }
    }

    fn is_late(&self, w: Win) -> bool {
        cleanup_time(w, self.job.lateness) <= self.wm
    }

    fn emit(&mut self, key: &str, w: Win, state_window: Win) {
        let Some(&result) = self.state.get(&(key.to_string(), state_window)) else {
            return;
        };
        let sub = subtask_of(key, self.job.parallelism);
        self.out.push(Line {
            subtask: sub,
            after_seq: self.last_seq[sub as usize].expect("a window of a key that was seen"),
            wm: self.wm,
            what: What::Fire {
                key: key.to_string(),
                start: w.start,
                end: w.end,
                result,
            },
        });
    }

    fn register_cleanup(&mut self, key: &str, w: Win) {
        let c = cleanup_time(w, self.job.lateness);
        if c != i64::MAX {
            self.timers.insert((c, key.to_string(), w));
        }
    }

    /// `MergingWindowSet.addWindow` with the operator's merge callback; returns the window the
    /// element ends up in.
    fn add_window(&mut self, key: &str, nw: Win) -> Win {
        let lateness = self.job.lateness;
        let m = self.mapping.entry(key.to_string()).or_default();
        let mut ws: Vec<Win> = m.keys().copied().collect();
        ws.push(nw);
        ws.sort();
        // TimeWindow.mergeWindows: groups of intersecting windows (as sets).
        let mut merges: Vec<(Win, BTreeSet<Win>)> = Vec::new();
        for c in ws {
            match merges.last_mut() {
                Some((cur, set)) if cur.intersects(c) => {
                    *cur = cur.cover(c);
                    set.insert(c);
                }
                _ => merges.push((c, BTreeSet::from([c]))),
            }
        }
        merges.retain(|(_, set)| set.len() > 1);
        let mut result = nw;
        let mut merged_new = false;
        for (res, mut members) in merges.iter().cloned() {
            if members.remove(&nw) {
                merged_new = true;
                result = res;
            }
            let m = self.mapping.get_mut(key).expect("created above");
            let target = m[members.iter().next().expect("an existing window")];
            let mut sources: Vec<Win> = members.iter().filter_map(|x| m.remove(x)).collect();
            m.insert(res, target);
            if let Some(i) = sources.iter().position(|s| *s == target) {
                sources.remove(i);
            }
            if members.contains(&res) && members.len() == 1 {
                continue;
            }
            assert!(
                res.max_ts().saturating_add(lateness) > self.wm,
                "model: merge into a late window"
            );
            // EventTimeTrigger.onMerge, then clear + deleteCleanupTimer of each merged window.
            if res.max_ts() > self.wm {
                self.timers.insert((res.max_ts(), key.to_string(), res));
            }
            for x in &members {
                self.timers.remove(&(x.max_ts(), key.to_string(), *x));
                self.timers
                    .remove(&(cleanup_time(*x, lateness), key.to_string(), *x));
            }
            let mut acc = self.state.remove(&(key.to_string(), target));
            for s in sources {
                if let Some(v) = self.state.remove(&(key.to_string(), s)) {
                    acc = Some(self.combine(acc, v));
                }
            }
            if let Some(a) = acc {
                self.state.insert((key.to_string(), target), a);
            }
        }
        if merges.is_empty() || (result == nw && !merged_new) {
            self.mapping
                .get_mut(key)
                .expect("created above")
                .insert(result, result);
        }
        result
    }

    fn process(&mut self, seq: i64, e: &Ev) {
        let v = if self.job.agg == "count" { 1 } else { e.value };
        let mut skipped = true;
        for w in assign(self.job.window, e.ts) {
            let (actual, state_window) = if self.merging() {
                let actual = self.add_window(&e.key, w);
                if self.is_late(actual) {
                    if let Some(m) = self.mapping.get_mut(&e.key) {
                        m.remove(&actual);
                    }
                    continue;
                }
                (actual, self.mapping[&e.key][&actual])
            } else {
                if self.is_late(w) {
                    continue;
                }
                (w, w)
            };
            skipped = false;
            let k = (e.key.clone(), state_window);
            let acc = self.combine(self.state.get(&k).copied(), v);
            self.state.insert(k, acc);
            // EventTimeTrigger.onElement
            if actual.max_ts() <= self.wm {
                self.emit(&e.key, actual, state_window);
            } else {
                self.timers.insert((actual.max_ts(), e.key.clone(), actual));
            }
            self.register_cleanup(&e.key, actual);
        }
        if skipped && e.ts.saturating_add(self.job.lateness) <= self.wm {
            self.out.push(Line {
                subtask: subtask_of(&e.key, self.job.parallelism),
                after_seq: seq,
                wm: self.wm,
                what: What::Late {
                    key: e.key.clone(),
                    ts: e.ts,
                    value: e.value,
                    seq,
                },
            });
        }
    }

    fn advance(&mut self, new_wm: i64) {
        if new_wm <= self.wm {
            return;
        }
        self.wm = new_wm;
        while let Some(t) = self.timers.first().cloned() {
            if t.0 > new_wm {
                break;
            }
            self.timers.remove(&t);
            let (ts, key, w) = t;
            let state_window = if self.merging() {
                match self.mapping.get(&key).and_then(|m| m.get(&w)) {
                    Some(sw) => *sw,
                    None => continue,
                }
            } else {
                w
            };
            if ts == w.max_ts() {
                self.emit(&key, w, state_window);
            }
            if ts == cleanup_time(w, self.job.lateness) {
                self.state.remove(&(key.clone(), state_window));
                self.timers.remove(&(w.max_ts(), key.clone(), w));
                if let Some(m) = self.mapping.get_mut(&key) {
                    m.remove(&w);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..Config::default()
    }
}

/// Runs `check` on the job's scenario; a failure carries the scenario text.
fn check_job(
    job: &Job,
    check: impl FnOnce(&Job, &Run) -> Result<(), String>,
) -> Result<(), TestCaseError> {
    let text = scenario_for(job);
    run_scenario(&text)
        .and_then(|run| check(job, &run))
        .map_err(|e| TestCaseError::fail(format!("{e}\n\n--- scenario ---\n{text}")))
}

/// Property 1, from the trace and the report.
fn check_watermarks(_job: &Job, run: &Run) -> Result<(), String> {
    // (task label, subtask) → the watermarks it showed, in trace order.
    let mut seen: BTreeMap<(String, u64), Vec<i64>> = BTreeMap::new();
    for e in &run.trace {
        if !matches!(e["event"].as_str(), Some("window_fired" | "late_record")) {
            continue;
        }
        let task = str_of(&e["task"], "task", e)?;
        let sub = e["subtask"]
            .as_u64()
            .ok_or_else(|| format!("trace: no subtask in {e}"))?;
        if !task.ends_with(&format!(" #{sub}")) {
            return Err(format!("trace: task `{task}` is not subtask {sub}: {e}"));
        }
        let wm = int(&e["watermark"], "watermark", e)?;
        let ws = seen.entry((task, sub)).or_default();
        if let Some(&prev) = ws.last()
            && wm < prev
        {
            return Err(format!(
                "the watermark of `{}` went backwards: {prev} then {wm} (at {e})",
                e["task"]
            ));
        }
        ws.push(wm);
    }
    let tasks = run.report["tasks"].as_array().ok_or("report: no `tasks`")?;
    for t in tasks {
        let label = format!(
            "{} #{}",
            t["chain"].as_str().ok_or("report: task without `chain`")?,
            t["subtask"]
        );
        // Absent for sources (and in reports without watermarks).
        let Some(wm) = t.get("watermark") else {
            continue;
        };
        let wm = wm.as_i64();
        if wm != Some(i64::MAX) {
            return Err(format!(
                "report: task `{label}` ended with watermark {wm:?}, not +∞ (the job finished)"
            ));
        }
        for ((task, _), ws) in &seen {
            if *task == label
                && let Some(&max) = ws.iter().max()
                && wm < Some(max)
            {
                return Err(format!(
                    "report: task `{label}` ended at watermark {wm:?} below {max} from the trace"
                ));
            }
        }
        if let Some(chs) = t.get("channel_watermarks").and_then(Value::as_array) {
            let active: Vec<Option<i64>> = chs
                .iter()
                .filter(|c| c["idle"] != Value::Bool(true))
                .map(|c| c["watermark"].as_i64())
                .collect();
            if !active.is_empty() && wm > active.iter().copied().min().flatten() {
                return Err(format!(
                    "report: task `{label}` has watermark {wm:?} above its channels' {chs:?}"
                ));
            }
        }
        if let Some(trail) = t.get("watermark_lag_ms").and_then(Value::as_array) {
            // [processing time ms, processing time − watermark ms] whenever it advanced.
            let mut prev: Option<(f64, i64)> = None;
            for p in trail {
                let (Some(at), Some(lag)) = (p[0].as_f64(), p[1].as_f64()) else {
                    return Err(format!("report: bad watermark_lag_ms point {p}"));
                };
                let w = (at - lag).round() as i64;
                if let Some((pat, pw)) = prev
                    && (w <= pw || at < pat)
                {
                    return Err(format!(
                        "report: task `{label}`: watermark trail went from {pw} (at {pat} ms) to {w} (at {at} ms)"
                    ));
                }
                prev = Some((at, w));
            }
        }
    }
    for (task, _) in seen.keys() {
        let label_found = tasks.iter().any(|t| {
            t["chain"]
                .as_str()
                .is_some_and(|c| *task == format!("{c} #{}", t["subtask"]))
        });
        if !label_found {
            return Err(format!("report: no task `{task}` (seen in the trace)"));
        }
    }
    Ok(())
}

/// Property 2: count windows account for every event exactly once per non-late window.
fn check_accounting(job: &Job, run: &Run) -> Result<(), String> {
    let lines = engine_lines(&run.trace)?;
    let wm_before = watermarks_before(&job.events, job.bound);
    let mut late = BTreeSet::new();
    let mut last_count: BTreeMap<(String, Win), i64> = BTreeMap::new();
    for l in &lines {
        match &l.what {
            What::Fire {
                key,
                start,
                end,
                result,
            } => {
                last_count.insert(
                    (
                        key.clone(),
                        Win {
                            start: *start,
                            end: *end,
                        },
                    ),
                    *result,
                );
            }
            What::Late {
                key,
                ts,
                value,
                seq,
            } => {
                let e = usize::try_from(*seq)
                    .ok()
                    .and_then(|s| job.events.get(s))
                    .ok_or_else(|| format!("late record with unknown seq: {l}"))?;
                if (&e.key, e.ts, e.value) != (key, *ts, *value) {
                    return Err(format!("late record {l} is not input event {seq}: {e:?}"));
                }
                if !late.insert(*seq) {
                    return Err(format!("event {seq} reported late twice: {l}"));
                }
            }
        }
    }
    let mut expected: BTreeMap<(String, Win), i64> = BTreeMap::new();
    for (i, e) in job.events.iter().enumerate() {
        let wm = wm_before[i];
        let open: Vec<Win> = assign(job.window, e.ts)
            .into_iter()
            .filter(|w| cleanup_time(*w, job.lateness) > wm)
            .collect();
        if late.contains(&(i as i64)) {
            if !open.is_empty() || e.ts.saturating_add(job.lateness) > wm {
                return Err(format!(
                    "event {i} {e:?} was reported late at watermark {wm}, but its windows {open:?} were still open"
                ));
            }
            continue;
        }
        if open.is_empty() {
            return Err(format!(
                "event {i} {e:?}: all its windows were late at watermark {wm}, yet it was not reported late"
            ));
        }
        for w in open {
            *expected.entry((e.key.clone(), w)).or_default() += 1;
        }
    }
    if expected != last_count {
        let mut diff = String::new();
        for k in expected
            .keys()
            .chain(last_count.keys())
            .collect::<BTreeSet<_>>()
        {
            let (a, b) = (expected.get(k), last_count.get(k));
            if a != b {
                let _ = writeln!(
                    diff,
                    "  key {:?} [{}, {}): events in it {a:?}, last firing counted {b:?}",
                    k.0, k.1.start, k.1.end
                );
            }
        }
        return Err(format!(
            "window counts do not account for the events:\n{diff}"
        ));
    }
    Ok(())
}

/// Property 3: the engine's lines equal the model's.
fn check_reference(job: &Job, run: &Run) -> Result<(), String> {
    let got = engine_lines(&run.trace)?;
    let expected = Model::run(job);
    compare(&expected, &got).map_err(|e| {
        let all = |ls: &[Line]| {
            ls.iter()
                .map(|l| format!("    {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        format!(
            "the engine differs from the reference model: {e}\n\n  all model lines:\n{}\n  all engine lines:\n{}",
            all(&expected),
            all(&got)
        )
    })
}

proptest! {
    #![proptest_config(config())]

    /// Property 1: watermarks never go backwards (trace and report).
    #[test]
    fn watermarks_never_go_backwards(job in topology_job()) {
        check_job(&job, check_watermarks)?;
    }

    /// Property 2: every event is in all of its non-late windows, or reported late.
    #[test]
    fn every_event_is_counted_or_reported_late(
        job in job(
            prop_oneof![tumbling(), sliding()].boxed(),
            Just("count").boxed(),
        )
    ) {
        check_job(&job, check_accounting)?;
    }

    /// Property 3: window firings and late records equal the reference model's.
    #[test]
    fn window_output_matches_reference(
        job in job(prop_oneof![tumbling(), sliding(), session()].boxed(), any_agg())
    ) {
        check_job(&job, check_reference)?;
    }
}

/// The key-to-subtask assignment of the model agrees with Flink.
#[test]
fn model_key_groups_match_flink() {
    // MathUtils.murmurHash values computed with Flink's Java code.
    assert_eq!(murmur_hash(0), 593_689_054);
    assert_eq!(murmur_hash(1), 68_075_478);
    assert_eq!(murmur_hash(2), 1_085_422_463);
    assert_eq!(murmur_hash(-12345), 1_626_926_666);
    // Where Flink put these keys at parallelism 2 (tests/flink-golden/r11, r12).
    assert_eq!(subtask_of("k0", 2), 1);
    assert_eq!(subtask_of("k1", 2), 0);
    assert_eq!(subtask_of("k2", 2), 1);
}

/// The recorded Flink case `tests/flink-golden/05_sliding_count_partial_late`.
fn golden_05() -> Job {
    let ev = |key: &str, ts| Ev {
        key: key.into(),
        ts,
        value: 1,
    };
    Job {
        events: vec![
            ev("a", 1000),
            ev("b", 2000),
            ev("a", 6000),
            ev("a", 11000),
            ev("b", 4000),
            ev("b", 9500),
            ev("a", 16500),
            ev("b", 14000),
        ],
        window: WinKind::Sliding {
            size: 10000,
            slide: 5000,
            offset: 0,
        },
        bound: 1000,
        lateness: 0,
        agg: "count",
        parallelism: 1,
        source_parallelism: 1,
        emit: Emit::PerEvent,
        map_parallelism: None,
    }
}

/// The model reproduces Flink's output for a recorded case.
#[test]
fn model_reproduces_a_golden_case() {
    let job = golden_05();
    let fire = |key: &str, start, result, after_seq, wm| Line {
        subtask: 0,
        after_seq,
        wm,
        what: What::Fire {
            key: key.into(),
            start,
            end: start + 10000,
            result,
        },
    };
    let max = i64::MAX;
    let expected = vec![
        fire("a", -5000, 1, 2, 4999),
        fire("b", -5000, 1, 2, 4999),
        fire("a", 0, 2, 3, 9999),
        fire("b", 0, 1, 3, 9999),
        Line {
            subtask: 0,
            after_seq: 4,
            wm: 9999,
            what: What::Late {
                key: "b".into(),
                ts: 4000,
                value: 1,
                seq: 4,
            },
        },
        fire("a", 5000, 2, 6, 15499),
        fire("b", 5000, 1, 6, 15499),
        fire("a", 10000, 2, 7, max),
        fire("b", 10000, 1, 7, max),
        fire("a", 15000, 1, 7, max),
    ];
    let got = Model::run(&job);
    compare(&expected, &got).unwrap_or_else(|e| panic!("{e}"));
}

/// The checks can fail: each rejects a run of a known case once the run is corrupted the way
/// a bug would corrupt it.
#[test]
fn checks_reject_corrupted_runs() {
    let job = golden_05();
    let run = run_scenario(&scenario_for(&job)).unwrap_or_else(|e| panic!("{e}"));
    check_watermarks(&job, &run).unwrap_or_else(|e| panic!("{e}"));
    check_accounting(&job, &run).unwrap_or_else(|e| panic!("{e}"));
    check_reference(&job, &run).unwrap_or_else(|e| panic!("{e}"));
    let is_window_event =
        |e: &Value| matches!(e["event"].as_str(), Some("window_fired" | "late_record"));
    let corrupt = |f: &dyn Fn(&mut Run)| {
        let mut r = run.clone();
        f(&mut r);
        r
    };

    // 1: the window events in reverse order show the watermark going backwards.
    let reversed = corrupt(&|r: &mut Run| {
        let idx: Vec<usize> = (0..r.trace.len())
            .filter(|&i| is_window_event(&r.trace[i]))
            .collect();
        let evs: Vec<Value> = idx.iter().rev().map(|&i| r.trace[i].clone()).collect();
        for (&i, e) in idx.iter().zip(evs) {
            r.trace[i] = e;
        }
    });
    assert!(check_watermarks(&job, &reversed).is_err());
    // 1: a task that ended below the watermark it showed (if the report has watermarks).
    let has_watermarks = run.report["tasks"]
        .as_array()
        .is_some_and(|ts| ts.iter().any(|t| t.get("watermark").is_some()));
    let lowered = corrupt(&|r: &mut Run| {
        for t in r.report["tasks"].as_array_mut().into_iter().flatten() {
            if let Some(w) = t.get_mut("watermark") {
                *w = Value::from(0);
            }
        }
    });
    assert_eq!(check_watermarks(&job, &lowered).is_err(), has_watermarks);

    // 2: a late record lost, or a window counting one event too many.
    let no_late = corrupt(&|r: &mut Run| r.trace.retain(|e| e["event"] != "late_record"));
    assert!(check_accounting(&job, &no_late).is_err());
    let one_more = corrupt(&|r: &mut Run| {
        let e = r
            .trace
            .iter_mut()
            .rev()
            .find(|e| e["event"] == "window_fired")
            .expect("a firing");
        e["result"][0] = Value::from(e["result"][0].as_i64().unwrap() + 1);
    });
    assert!(check_accounting(&job, &one_more).is_err());

    // 3: a firing at another watermark, a wrong result, a lost late record.
    let wm = corrupt(&|r: &mut Run| {
        let e = r
            .trace
            .iter_mut()
            .find(|e| e["event"] == "window_fired")
            .expect("a firing");
        e["watermark"] = Value::from(e["watermark"].as_i64().unwrap() + 1);
    });
    assert!(check_reference(&job, &wm).is_err());
    assert!(check_reference(&job, &one_more).is_err());
    assert!(check_reference(&job, &no_late).is_err());
}
