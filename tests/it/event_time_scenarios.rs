//! What each bundled event-time scenario is meant to show, checked against the engine's output.
//!
//! The expected results are computed here, independently of the engine, from the scenario's
//! own input rows and Flink's rules (`FLINK_RULES.md`): window assignment, the bounded
//! out-of-orderness watermark `maxTs - bound - 1`, lateness, session merging. The orders
//! scenarios (out_of_order, late_data, allowed_lateness) pace their single source subtask at
//! one record a second and emit watermarks every 100 ms, so the watermark a window operator
//! holds when record `k` arrives is the one computed from records `0..k`.

use crate::util::root;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use streamlab_engine::check;
use streamlab_engine::core::time::SimDuration;
use streamlab_engine::flink::window::Assigner;
use streamlab_engine::oracle;
use streamlab_engine::plan::plan;
use streamlab_engine::report::{RunReport, SinkReport, Status, WindowReport};
use streamlab_engine::scenario::{Lit, NodeKind, Scenario, SourceData, SourceSpec};
use streamlab_engine::sim::RunOptions;

fn load(path: &str) -> Scenario {
    check::load(&root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn run(s: &Scenario) -> RunReport {
    let p = plan(s).unwrap_or_else(|e| panic!("{}: {e}", s.name));
    let out = oracle::run(
        s,
        &p,
        RunOptions {
            seed: None,
            trace: None,
            hash_trace: false,
            ..Default::default()
        },
    )
    .expect("no I/O");
    assert_eq!(
        out.report.outcome.status,
        Status::Finished,
        "{}: {:?}",
        s.name,
        out.report.outcome.message
    );
    out.report
}

fn sink<'a>(r: &'a RunReport, name: &str) -> &'a SinkReport {
    r.sinks
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no sink {name}"))
}

fn windows(r: &RunReport, op: &str) -> WindowReport {
    r.operators
        .iter()
        .find(|o| o.name == op)
        .unwrap_or_else(|| panic!("no operator {op}"))
        .windows
        .clone()
        .unwrap_or_else(|| panic!("{op} is not a window operator"))
}

fn source_mut<'a>(s: &'a mut Scenario, name: &str) -> &'a mut SourceSpec {
    let i = s
        .node_index(name)
        .unwrap_or_else(|| panic!("no node {name}"));
    match &mut s.nodes[i].kind {
        NodeKind::Source(spec) => spec,
        _ => panic!("{name} is not a source"),
    }
}

/// The bounded out-of-orderness of a source's watermarks, in ms.
fn bound_ms(s: &Scenario, source: &str) -> i64 {
    let mut s = s.clone();
    let spec = source_mut(&mut s, source);
    spec.watermarks
        .as_ref()
        .and_then(|w| w.strategy.bound_ms)
        .expect("a bounded watermark strategy")
}

fn set_bound_ms(s: &mut Scenario, source: &str, bound: i64) {
    let spec = source_mut(s, source);
    spec.watermarks
        .as_mut()
        .expect("watermarks")
        .strategy
        .bound_ms = Some(bound);
}

fn window_spec(s: &Scenario, op: &str) -> streamlab_engine::scenario::WindowSpec {
    let i = s.node_index(op).unwrap_or_else(|| panic!("no node {op}"));
    match &s.nodes[i].kind {
        NodeKind::Window(w) => (**w).clone(),
        _ => panic!("{op} is not a window"),
    }
}

fn tumbling_size(s: &Scenario, op: &str) -> i64 {
    match window_spec(s, op).assigner {
        Assigner::Tumbling { size, offset: 0 } => size,
        other => panic!("{op}: expected a tumbling window, found {other:?}"),
    }
}

/// A source's rows as maps field → literal, in arrival order.
fn rows(s: &Scenario, source: &str) -> Vec<BTreeMap<String, Lit>> {
    let i = s
        .node_index(source)
        .unwrap_or_else(|| panic!("no node {source}"));
    let node = &s.nodes[i];
    let NodeKind::Source(spec) = &node.kind else {
        panic!("{source} is not a source")
    };
    let SourceData::Rows { rows, repeat, .. } = &spec.data else {
        panic!("{source} is not an inline source")
    };
    assert_eq!(*repeat, 1);
    rows.iter()
        .map(|r| {
            node.schema
                .fields
                .iter()
                .zip(r)
                .map(|(f, v)| (f.name.to_string(), v.clone()))
                .collect()
        })
        .collect()
}

fn int(row: &BTreeMap<String, Lit>, f: &str) -> i64 {
    match &row[f] {
        Lit::Int(i) => *i,
        other => panic!("{f} is {other:?}"),
    }
}

fn text(row: &BTreeMap<String, Lit>, f: &str) -> String {
    match &row[f] {
        Lit::Str(s) => s.to_string(),
        other => panic!("{f} is {other:?}"),
    }
}

fn j_int(v: &Json) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

fn j_str(v: &Json) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// A reference model of keyed tumbling event-time windows summing a field
// ---------------------------------------------------------------------------------------------

/// One order: (shop, amount, ts).
type Order = (String, i64, i64);

fn orders(s: &Scenario) -> Vec<Order> {
    rows(s, "orders")
        .iter()
        .map(|r| (text(r, "shop"), int(r, "amount"), int(r, "ts")))
        .collect()
}

/// What Flink's `WindowOperator` with an `EventTimeTrigger` does with the orders.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    /// Every firing per (shop, window_start): the sums, in order.
    firings: BTreeMap<(String, i64), Vec<i64>>,
    /// Firings caused by a late order within the allowed lateness.
    late_firings: u64,
    /// Orders whose window was already cleaned up, in arrival order.
    late: Vec<Order>,
}

/// Tumbling windows of `size` ms summing `amount` per shop, a bounded out-of-orderness
/// watermark (`maxTs - bound - 1`, before record k: over records 0..k), `lateness` ms of
/// allowed lateness, and a final +∞ watermark at the end of input.
fn tumbling_sums(orders: &[Order], bound: i64, size: i64, lateness: i64) -> Expected {
    #[derive(Default)]
    struct Win {
        sum: i64,
        fired: bool,
    }
    let mut open: BTreeMap<(String, i64), Win> = BTreeMap::new();
    let mut exp = Expected::default();
    let mut wm = i64::MIN;
    let mut max_ts: Option<i64> = None;
    let advance = |wm: i64, open: &mut BTreeMap<(String, i64), Win>, exp: &mut Expected| {
        for ((shop, start), w) in open.iter_mut() {
            if !w.fired && start + size - 1 <= wm {
                w.fired = true;
                exp.firings
                    .entry((shop.clone(), *start))
                    .or_default()
                    .push(w.sum);
            }
        }
        open.retain(|(_, start), _| start + size - 1 + lateness > wm);
    };
    for (shop, amount, ts) in orders {
        if let Some(m) = max_ts {
            let w = m - bound - 1;
            if w > wm {
                wm = w;
                advance(wm, &mut open, &mut exp);
            }
        }
        let start = ts - ts.rem_euclid(size);
        let end = start + size;
        if end - 1 + lateness <= wm {
            exp.late.push((shop.clone(), *amount, *ts));
        } else {
            let w = open.entry((shop.clone(), start)).or_default();
            w.sum += amount;
            if end - 1 <= wm {
                // a late firing: the whole window again, with this order added
                w.fired = true;
                exp.late_firings += 1;
                exp.firings
                    .entry((shop.clone(), start))
                    .or_default()
                    .push(w.sum);
            }
        }
        max_ts = Some(max_ts.map_or(*ts, |m| m.max(*ts)));
    }
    advance(i64::MAX, &mut open, &mut exp);
    exp
}

/// The firings a sink received, per (shop, window_start), in arrival order; checks that every
/// row is `shop, window_start, window_start + size, amount`.
fn firings(out: &SinkReport, size: i64) -> BTreeMap<(String, i64), Vec<i64>> {
    assert_eq!(out.fields, ["shop", "window_start", "window_end", "amount"]);
    assert_eq!(out.rows_total, out.records, "capture every row");
    let mut got: BTreeMap<(String, i64), Vec<i64>> = BTreeMap::new();
    for r in &out.rows {
        let (start, end) = (j_int(&r[1]), j_int(&r[2]));
        assert_eq!(end - start, size, "{r:?}");
        assert_eq!(start.rem_euclid(size), 0, "{r:?}");
        got.entry((j_str(&r[0]), start))
            .or_default()
            .push(j_int(&r[3]));
    }
    got
}

#[test]
fn out_of_order_events_all_land_in_their_windows_when_the_bound_is_big_enough() {
    let s = load("scenarios/out_of_order.toml");
    let input = orders(&s);
    let bound = bound_ms(&s, "orders");
    let size = tumbling_size(&s, "sales_5s");
    // The data really is out of order: some order arrives 2.5 s after a later one.
    let disorder = input
        .iter()
        .scan(i64::MIN, |max, o| {
            let behind = max.saturating_sub(o.2);
            *max = (*max).max(o.2);
            Some(behind)
        })
        .max()
        .unwrap();
    assert_eq!(disorder, 2_500);
    assert!(bound >= disorder, "the bundled bound covers the disorder");

    let r = run(&s);
    let w = windows(&r, "sales_5s");
    assert_eq!(
        (w.late_dropped, w.late_firings, w.windows_left_open),
        (0, 0, 0)
    );
    // Every order is in its window: the results are a batch GROUP BY shop, window.
    let mut batch: BTreeMap<(String, i64), Vec<i64>> = BTreeMap::new();
    for (shop, amount, ts) in &input {
        let e = batch
            .entry((shop.clone(), ts - ts.rem_euclid(size)))
            .or_insert_with(|| vec![0]);
        e[0] += amount;
    }
    let got = firings(sink(&r, "sales"), size);
    assert_eq!(got, batch);
    assert_eq!(got[&("south".to_string(), 0)], [89]);
    assert_eq!(w.fired, 8);
    assert_eq!(got, tumbling_sums(&input, bound, size, 0).firings);

    // With a 1 s bound, two orders come after their window has fired: dropped.
    let mut tight = s.clone();
    set_bound_ms(&mut tight, "orders", 1_000);
    let r = run(&tight);
    let want = tumbling_sums(&input, 1_000, size, 0);
    assert_eq!(want.late.len(), 2);
    assert_eq!(windows(&r, "sales_5s").late_dropped, 2);
    assert_eq!(firings(sink(&r, "sales"), size), want.firings);
    assert_ne!(want.firings, batch);
}

#[test]
fn late_records_go_to_the_side_output_sink() {
    let s = load("scenarios/late_data.toml");
    let input = orders(&s);
    let size = tumbling_size(&s, "sales_5s");
    let want = tumbling_sums(&input, bound_ms(&s, "orders"), size, 0);
    assert_eq!(want.late.len(), 3, "the scenario has three late orders");

    let r = run(&s);
    let w = windows(&r, "sales_5s");
    assert_eq!(w.late_side_output, 3);
    assert_eq!(w.late_dropped, 0, "with a side output nothing is dropped");
    assert_eq!(w.late_firings, 0);
    // The side-output sink receives exactly the late orders, unchanged, in arrival order.
    let late = sink(&r, "late");
    assert_eq!(late.fields, ["shop", "amount", "ts"]);
    let got: Vec<Order> = late
        .rows
        .iter()
        .map(|r| (j_str(&r[0]), j_int(&r[1]), j_int(&r[2])))
        .collect();
    assert_eq!(got, want.late);
    // The main results are those of the orders that were in time.
    assert_eq!(firings(sink(&r, "sales"), size), want.firings);
    // Every order is accounted for exactly once: in a window result or in the side output.
    let in_windows: i64 = want.firings.values().map(|v| v[v.len() - 1]).sum();
    let late_sum: i64 = want.late.iter().map(|o| o.1).sum();
    assert_eq!(
        in_windows + late_sum,
        input.iter().map(|o| o.1).sum::<i64>()
    );

    // Without `late_output` the same orders are dropped and counted.
    let text = std::fs::read_to_string(root().join("scenarios/late_data.toml")).unwrap();
    let text = text.replace("late_output = \"late_orders\"\n", "");
    let text = text.replace("input = \"late_orders\"", "input = \"sales_5s\"");
    let s = check::parse_str("late_data.toml", &text, None).unwrap();
    let w = windows(&run(&s), "sales_5s");
    assert_eq!((w.late_dropped, w.late_side_output), (3, 0));
}

#[test]
fn allowed_lateness_refires_windows_and_drops_what_is_later() {
    let s = load("scenarios/allowed_lateness.toml");
    let input = orders(&s);
    let size = tumbling_size(&s, "sales_5s");
    let lateness = window_spec(&s, "sales_5s").allowed_lateness;
    assert_eq!(lateness, 2_000);
    let want = tumbling_sums(&input, bound_ms(&s, "orders"), size, lateness);

    let r = run(&s);
    let w = windows(&r, "sales_5s");
    assert_eq!(w.late_firings, want.late_firings);
    assert_eq!(w.late_dropped, want.late.len() as u64);
    assert_eq!((w.late_firings, w.late_dropped), (2, 1));
    assert_eq!(w.fired, 10);
    let got = firings(sink(&r, "sales"), size);
    assert_eq!(got, want.firings);
    // Late firings accumulate: the window is emitted again with the late order added.
    assert_eq!(got[&("south".to_string(), 0)], [69, 89]);
    assert_eq!(got[&("south".to_string(), 5_000)], [16, 34]);
    // The order later than the allowed lateness is the till that was offline.
    assert_eq!(want.late, [("north".to_string(), 50, 3_300)]);

    // Without allowed lateness the two re-fired orders are dropped too.
    let mut strict = s.clone();
    let i = strict.node_index("sales_5s").unwrap();
    if let NodeKind::Window(w) = &mut strict.nodes[i].kind {
        w.allowed_lateness = 0;
    }
    let w = windows(&run(&strict), "sales_5s");
    assert_eq!((w.late_firings, w.late_dropped, w.fired), (0, 3, 8));
}

// ---------------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------------

/// Sessions per user: each click opens [ts, ts + gap); windows that overlap or touch merge
/// (`TimeWindow.intersects`). Returns (user, start, end) → clicks.
fn sessions(clicks: &[(String, i64, i64)]) -> BTreeMap<(String, i64, i64), i64> {
    let mut per_user: BTreeMap<&str, Vec<(i64, i64)>> = BTreeMap::new();
    for (user, ts, gap) in clicks {
        per_user.entry(user).or_default().push((*ts, ts + gap));
    }
    let mut out = BTreeMap::new();
    for (user, mut ws) in per_user {
        ws.sort();
        let mut cur: Option<(i64, i64, i64)> = None;
        for (s, e) in ws {
            cur = match cur {
                Some((cs, ce, n)) if s <= ce => Some((cs, ce.max(e), n + 1)),
                Some((cs, ce, n)) => {
                    out.insert((user.to_string(), cs, ce), n);
                    Some((s, e, 1))
                }
                None => Some((s, e, 1)),
            };
        }
        let (cs, ce, n) = cur.expect("a user has clicks");
        out.insert((user.to_string(), cs, ce), n);
    }
    out
}

fn session_rows(out: &SinkReport) -> BTreeMap<(String, i64, i64), i64> {
    assert_eq!(out.fields, ["user", "window_start", "window_end", "clicks"]);
    let mut got = BTreeMap::new();
    for r in &out.rows {
        let prev = got.insert((j_str(&r[0]), j_int(&r[1]), j_int(&r[2])), j_int(&r[3]));
        assert!(prev.is_none(), "a session fires once: {r:?}");
    }
    got
}

#[test]
fn session_windows_merge_and_a_dynamic_gap_changes_them() {
    let s = load("scenarios/session_windows.toml");
    let gap = match window_spec(&s, "sessions").assigner {
        Assigner::Session {
            gap,
            dynamic: false,
        } => gap,
        other => panic!("{other:?}"),
    };
    assert_eq!(gap, 3_000);
    assert!(matches!(
        window_spec(&s, "cart_sessions").assigner,
        Assigner::Session { dynamic: true, .. }
    ));
    let input = rows(&s, "clicks");
    let fixed: Vec<(String, i64, i64)> = input
        .iter()
        .map(|r| (text(r, "user"), int(r, "ts"), gap))
        .collect();
    // the dynamic gap of the scenario: 8 s after a cart event, 3 s otherwise
    let dynamic: Vec<(String, i64, i64)> = input
        .iter()
        .map(|r| {
            let g = if text(r, "action") == "cart" {
                8_000
            } else {
                3_000
            };
            (text(r, "user"), int(r, "ts"), g)
        })
        .collect();

    let r = run(&s);
    for op in ["sessions", "cart_sessions"] {
        let w = windows(&r, op);
        assert_eq!((w.late_dropped, w.windows_left_open), (0, 0), "{op}");
    }
    let got_fixed = session_rows(sink(&r, "fixed_gap"));
    let got_dynamic = session_rows(sink(&r, "dynamic_gap"));
    assert_eq!(got_fixed, sessions(&fixed));
    assert_eq!(got_dynamic, sessions(&dynamic));
    let key = |u: &str, s: i64, e: i64| (u.to_string(), s, e);
    // bob's out-of-order click at 5 s bridges [1.5 s, 6.2 s) and [7 s, 10 s)
    assert_eq!(got_fixed[&key("bob", 1_500, 10_000)], 4);
    // ann's cart keeps her session open: one session instead of two
    assert_eq!(got_fixed[&key("ann", 0, 5_500)], 3);
    assert_eq!(got_fixed[&key("ann", 9_000, 13_000)], 2);
    assert_eq!(got_dynamic[&key("ann", 0, 13_000)], 5);
    assert_ne!(got_fixed, got_dynamic);

    // Without the bridging click bob has two sessions.
    let mut unbridged = s.clone();
    let spec = source_mut(&mut unbridged, "clicks");
    let SourceData::Rows { rows: data, .. } = &mut spec.data else {
        unreachable!()
    };
    let user = |r: &Vec<Lit>| matches!(&r[0], Lit::Str(u) if &**u == "bob");
    let before = data.len();
    let kept: Vec<Vec<Lit>> = data
        .iter()
        .filter(|r| !(user(r) && r[2] == Lit::Int(5_000)))
        .cloned()
        .collect();
    assert_eq!(kept.len(), before - 1);
    *data = std::sync::Arc::new(kept);
    let got = session_rows(sink(&run(&unbridged), "fixed_gap"));
    assert_eq!(got[&key("bob", 1_500, 6_200)], 2);
    assert_eq!(got[&key("bob", 7_000, 10_000)], 1);
}

// ---------------------------------------------------------------------------------------------
// Idle partitions
// ---------------------------------------------------------------------------------------------

fn set_idleness(s: &mut Scenario, source: &str, idleness: Option<SimDuration>) {
    source_mut(s, source)
        .watermarks
        .as_mut()
        .expect("watermarks")
        .strategy
        .idleness = idleness;
}

#[test]
fn an_idle_partition_stalls_the_watermark_until_idleness_frees_it() {
    let s = load("scenarios/idle_source.toml");
    // Every reading is in partition 0: subtask 1 of the parallelism-2 source has none.
    for r in rows(&s, "readings") {
        assert_eq!(int(&r, "p") % 2, 0);
    }
    let r = run(&s);
    let (stalled, freed) = (sink(&r, "stalled"), sink(&r, "freed"));
    // Without idleness nothing fires until the idle partition closes at 30 s...
    assert_eq!(stalled.records, 6);
    assert!(stalled.first_ms >= 30_000.0, "{}", stalled.first_ms);
    // ...and the windows' watermark never advanced before that (the final +∞ is left out).
    let window_tasks =
        |chain: &str| -> Vec<_> { r.tasks.iter().filter(|t| t.chain == chain).collect() };
    assert_eq!(window_tasks("max_10s").len(), 2);
    for t in window_tasks("max_10s") {
        assert!(t.watermark_lag_ms.is_empty(), "{t:?}");
    }
    // With idleness = 3 s, subtask 1 is declared idle and windows fire as event time passes:
    // [0, 10 s) when a reading with ts >= 11 s has arrived (at 12 s).
    assert_eq!(freed.records, 6);
    assert!(
        (12_000.0..13_000.0).contains(&freed.first_ms),
        "{}",
        freed.first_ms
    );
    assert_eq!(window_tasks("max_10s_idleness").len(), 2);
    for t in window_tasks("max_10s_idleness") {
        let (first_at, _) = t.watermark_lag_ms[0];
        assert!((3_000.0..4_000.0).contains(&first_at), "{t:?}");
        assert!(t.watermark_lag_ms.iter().all(|(_, lag)| *lag < 2_500.0));
    }
    assert!(stalled.latency.p99_ms > 20_000.0, "{:?}", stalled.latency);
    assert!(freed.latency.p99_ms < 7_000.0, "{:?}", freed.latency);
    // Idleness changes when the results come, not what they are.
    assert_eq!(stalled.checksum, freed.checksum);

    // It is the idleness alone: swap it between the two copies and so do the results.
    let mut swapped = s.clone();
    set_idleness(
        &mut swapped,
        "readings",
        Some(SimDuration::from_millis(3_000)),
    );
    set_idleness(&mut swapped, "readings_idleness", None);
    let r2 = run(&swapped);
    let (stalled2, freed2) = (sink(&r2, "stalled"), sink(&r2, "freed"));
    assert_eq!(stalled2.first_ms, freed.first_ms);
    assert!(freed2.first_ms >= 30_000.0, "{}", freed2.first_ms);
}

// ---------------------------------------------------------------------------------------------
// Event time against processing time
// ---------------------------------------------------------------------------------------------

fn page_counts(out: &SinkReport) -> BTreeMap<(String, i64, i64), i64> {
    assert_eq!(out.fields, ["page", "window_start", "window_end", "views"]);
    out.rows
        .iter()
        .map(|r| ((j_str(&r[0]), j_int(&r[1]), j_int(&r[2])), j_int(&r[3])))
        .collect()
}

#[test]
fn processing_time_windows_depend_on_the_replay_speed_event_time_windows_do_not() {
    let s = load("scenarios/processing_vs_event_time.toml");
    let views: Vec<(String, i64)> = rows(&s, "views")
        .iter()
        .map(|r| (text(r, "page"), int(r, "ts")))
        .collect();
    let size = tumbling_size(&s, "event_time_10s");
    assert!(window_spec(&s, "processing_time_10s").processing_time);
    let rate = source_mut(&mut s.clone(), "views").rate.expect("paced");

    // Event time: a GROUP BY page, window of `ts`.
    let mut by_ts: BTreeMap<(String, i64, i64), i64> = BTreeMap::new();
    // Processing time: record k is read at k / rate seconds and reaches the window within a
    // few hundred ms, never across a window boundary here.
    let mut by_arrival: BTreeMap<(String, i64, i64), i64> = BTreeMap::new();
    for (k, (page, ts)) in views.iter().enumerate() {
        let start = ts - ts.rem_euclid(size);
        *by_ts
            .entry((page.clone(), start, start + size))
            .or_default() += 1;
        let at = (k as f64 * 1000.0 / rate) as i64;
        let start = at - at.rem_euclid(size);
        *by_arrival
            .entry((page.clone(), start, start + size))
            .or_default() += 1;
    }

    let r = run(&s);
    let event = page_counts(sink(&r, "by_event_time"));
    let processing = page_counts(sink(&r, "by_processing_time"));
    assert_eq!(event, by_ts);
    assert_eq!(processing, by_arrival);
    assert_ne!(event, processing, "same data, different answers");
    assert_eq!(event.len(), 12);
    assert_eq!(processing.len(), 4);
    assert_eq!(processing[&("home".to_string(), 0, 10_000)], 13);
    assert_eq!(windows(&r, "processing_time_10s").windows_left_open, 0);

    // Replayed at the speed the views happened (one every 2.5 s), the two agree; the
    // event-time result is the same at either speed.
    let mut live = s.clone();
    let spec = source_mut(&mut live, "views");
    spec.rate = Some(0.4);
    if let SourceData::Rows { open_for, .. } = &mut spec.data {
        *open_for = Some(SimDuration::from_millis(70_000));
    }
    let r_live = run(&live);
    let event_live = page_counts(sink(&r_live, "by_event_time"));
    let processing_live = page_counts(sink(&r_live, "by_processing_time"));
    assert_eq!(event_live, event);
    assert_eq!(processing_live, by_ts);

    // Without `duration` the source ends at 11.5 s and the pending processing-time window
    // [10 s, 20 s) never fires (Flink drops processing-time timers at end of input).
    let mut bounded = s.clone();
    if let SourceData::Rows { open_for, .. } = &mut source_mut(&mut bounded, "views").data {
        *open_for = None;
    }
    let r_bounded = run(&bounded);
    assert_eq!(
        windows(&r_bounded, "processing_time_10s").windows_left_open,
        2
    );
    assert_eq!(page_counts(sink(&r_bounded, "by_event_time")), by_ts);
}
