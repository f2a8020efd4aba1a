//! The run-level side of the event-time capture (`RunOptions::capture_event_time`): turns on
//! the notes of every event-time window operator ([`crate::ops::window_capture`]) before a
//! task's work item — again after tasks were rebuilt by a restart or a rescale, since a new
//! operator starts without — collects them when the work item ends, and at the end of the
//! run builds one [`EventTimeView`] per window operator, with the bounds on memory the view
//! describes (thinning of dots, watermark steps, bands and firing marks).

use crate::core::time::{EventTime, SimTime};
use crate::core::value::Interner;
use crate::flink::window::assign::{Assigner, Window};
use crate::ops::Operator;
use crate::ops::window_capture::Noted;
use crate::plan::Plan;
use crate::report::event_time::{
    Dot, DotKind, EventTimeView, Firing, MAX_BANDS, MAX_DOTS, MAX_FIRINGS, MAX_WATERMARK_STEPS,
    PerKind, WatermarkStep, WindowBand,
};
use crate::scenario::Scenario;
use crate::sim::task::Task;
use std::collections::{BTreeMap, BTreeSet};

/// What one window operator (all its subtasks) noted so far.
#[derive(Debug, Default)]
struct OpNotes {
    window: String,
    allowed_lateness_ms: i64,
    side_output: bool,
    /// Sessions: a window's range grows as it merges.
    merging: bool,
    /// Records per kind (all), and the one-dot-per-k of each kind.
    records: PerKind,
    every: [u64; 4],
    /// Dots kept, with their number within their kind.
    dots: Vec<(u64, Dot)>,
    kept: [usize; 4],
    steps: Vec<WatermarkStep>,
    steps_thinned: u64,
    bands: BTreeMap<(i64, i64), Band>,
    bands_untracked: BTreeSet<(i64, i64)>,
    firings: BTreeMap<(u64, u32, i64, i64, bool), u64>,
    firings_untracked: u64,
}

/// A window range while it is being collected.
#[derive(Debug, Default)]
struct Band {
    opened: Option<u64>,
    subtasks: BTreeSet<u32>,
    fires: u64,
    late_fires: u64,
}

/// The event-time notes of a run, per window operator (by logical node).
#[derive(Debug, Default)]
pub struct Collector {
    ops: BTreeMap<usize, OpNotes>,
}

impl Collector {
    /// Turns on the notes of `task`'s event-time window operators (before a work item).
    pub fn attach(&mut self, task: &mut Task) {
        for slot in &mut task.chain.ops {
            let Operator::Window(w) = &mut slot.op else {
                continue;
            };
            if w.capture.is_some() || !w.capture_event_time() {
                continue;
            }
            self.ops.entry(slot.node).or_insert_with(|| {
                let cfg = w.config();
                OpNotes {
                    window: describe(&cfg.assigner),
                    allowed_lateness_ms: cfg.allowed_lateness,
                    side_output: cfg.side_output,
                    merging: cfg.assigner.is_merging(),
                    every: [1; 4],
                    ..OpNotes::default()
                }
            });
        }
    }

    /// Takes what `task`'s window operators noted during the work item that just ended
    /// (`interner`: to write the keys).
    pub fn drain(&mut self, task: &mut Task, interner: &Interner) {
        let subtask = task.subtask;
        for slot in &mut task.chain.ops {
            let Operator::Window(w) = &mut slot.op else {
                continue;
            };
            let Some(c) = w.capture.as_deref_mut() else {
                continue;
            };
            if c.noted.is_empty() {
                continue;
            }
            let Some(op) = self.ops.get_mut(&slot.node) else {
                c.noted.clear();
                continue;
            };
            for n in c.noted.drain(..) {
                op.note(subtask, n, interner);
            }
        }
    }

    /// One view per window operator, in plan order. `end`: when the run ended; `tasks`: the
    /// run's tasks at the end (for each operator's parallelism).
    pub fn finish(
        self,
        s: &Scenario,
        p: &Plan,
        tasks: &[Task],
        end: SimTime,
    ) -> Vec<EventTimeView> {
        let g = &p.logical.graph;
        self.ops
            .into_iter()
            .map(|(node, op)| {
                let name = g.node_indices().find(|n| n.index() == node).map_or_else(
                    || format!("#{node}"),
                    |n| s.nodes[g[n].scenario_node].name.clone(),
                );
                let subtasks = tasks
                    .iter()
                    .filter(|t| t.chain.ops.iter().any(|o| o.node == node))
                    .count() as u32;
                op.view(name, subtasks, end)
            })
            .collect()
    }
}

impl OpNotes {
    fn note(&mut self, subtask: u32, n: Noted, interner: &Interner) {
        match n {
            Noted::Element {
                at,
                key,
                ts,
                watermark,
                kind,
            } => {
                if !self.keeps(kind) {
                    return;
                }
                self.dot(Dot {
                    subtask,
                    at_ns: at.as_nanos(),
                    ts_ms: ts.as_millis(),
                    watermark_ms: watermark.as_millis(),
                    kind,
                    key: key.map(|k| k.to_json(interner).to_string()),
                });
            }
            Noted::Watermark { at, watermark } => {
                self.steps.push(WatermarkStep {
                    subtask,
                    at_ns: at.as_nanos(),
                    watermark_ms: watermark.as_millis(),
                });
                if self.steps.len() > MAX_WATERMARK_STEPS {
                    // keep every other step, and always a subtask's last one
                    let before = self.steps.len();
                    let mut i = 0;
                    let last: BTreeMap<u32, usize> = self
                        .steps
                        .iter()
                        .enumerate()
                        .map(|(i, s)| (s.subtask, i))
                        .collect();
                    let keep: BTreeSet<usize> = last.into_values().collect();
                    self.steps.retain(|_| {
                        let k = i % 2 == 0 || keep.contains(&i);
                        i += 1;
                        k
                    });
                    self.steps_thinned += (before - self.steps.len()) as u64;
                }
            }
            Noted::Opened { at, window } => {
                if let Some(b) = self.band(window) {
                    b.subtasks.insert(subtask);
                    let at = at.as_nanos();
                    b.opened = Some(b.opened.map_or(at, |o| o.min(at)));
                }
            }
            Noted::Fired { at, window, late } => {
                if let Some(b) = self.band(window) {
                    b.subtasks.insert(subtask);
                    b.fires += 1;
                    b.late_fires += u64::from(late);
                }
                let key = (
                    at.as_nanos(),
                    subtask,
                    window.start.as_millis(),
                    window.end.as_millis(),
                    late,
                );
                if let Some(n) = self.firings.get_mut(&key) {
                    *n += 1;
                } else if self.firings.len() < MAX_FIRINGS {
                    self.firings.insert(key, 1);
                } else {
                    self.firings_untracked += 1;
                }
            }
        }
    }

    /// Counts a record of `kind`; whether it becomes a dot (every `k`-th of its kind).
    fn keeps(&mut self, kind: DotKind) -> bool {
        let n = self.records.get(kind);
        *self.records.get_mut(kind) += 1;
        n.is_multiple_of(self.every[kind.index()])
    }

    /// Keeps a dot [`OpNotes::keeps`] chose; when its kind has [`MAX_DOTS`] dots, `k` doubles
    /// and the dots whose number is not a multiple of the new `k` go.
    fn dot(&mut self, d: Dot) {
        let kind = d.kind;
        let k = kind.index();
        let n = self.records.get(kind) - 1;
        self.dots.push((n, d));
        self.kept[k] += 1;
        if self.kept[k] > MAX_DOTS {
            self.every[k] *= 2;
            let every = self.every[k];
            self.dots
                .retain(|(n, x)| x.kind != kind || n.is_multiple_of(every));
            self.kept[k] = self.dots.iter().filter(|(_, x)| x.kind == kind).count();
        }
    }

    /// The band of `w`'s range (none for the global window, or beyond [`MAX_BANDS`]).
    fn band(&mut self, w: Window) -> Option<&mut Band> {
        if w == Window::GLOBAL || w.end == EventTime::MAX {
            return None;
        }
        let key = (w.start.as_millis(), w.end.as_millis());
        if !self.bands.contains_key(&key) {
            if self.bands.len() >= MAX_BANDS {
                self.bands_untracked.insert(key);
                return None;
            }
            self.bands.insert(key, Band::default());
        }
        self.bands.get_mut(&key)
    }

    /// The bands as drawn: closed when the watermark passed `end − 1` (and cleaned up past
    /// the allowed lateness) on every subtask that held the range.
    fn band_views(&self, dots: &[Dot], end_ns: u64) -> Vec<WindowBand> {
        // Per subtask, its steps' times with the highest watermark so far.
        let mut highest: BTreeMap<u32, Vec<(u64, i64)>> = BTreeMap::new();
        for x in &self.steps {
            let v = highest.entry(x.subtask).or_default();
            let m = v.last().map_or(x.watermark_ms, |l| l.1.max(x.watermark_ms));
            v.push((x.at_ns, m));
        }
        // When subtask `s`'s watermark first reached `wm`.
        let reached = |s: u32, wm: i64| {
            let v = highest.get(&s)?;
            v.get(v.partition_point(|x| x.1 < wm)).map(|x| x.0)
        };
        // Over the subtasks that held the range, the latest time (None if one never did).
        let all_reached = |subs: &BTreeSet<u32>, wm: i64| -> Option<u64> {
            subs.iter()
                .map(|&s| reached(s, wm))
                .try_fold(0u64, |acc, t| t.map(|t| acc.max(t)))
        };
        // A session merged into a larger one never fires under its own range: not drawn.
        let merged_away = |&(start, end): &(i64, i64), b: &Band| {
            self.merging
                && b.fires == 0
                && self.bands.iter().any(|(&(s, e), o)| {
                    o.fires > 0 && s <= start && end <= e && (s, e) != (start, end)
                })
        };
        self.bands
            .iter()
            .filter(|(r, b)| !merged_away(r, b))
            .map(|(&(start_ms, end_ms), b)| {
                let closed_ns = all_reached(&b.subtasks, end_ms.saturating_sub(1));
                let cleanup_ns = all_reached(
                    &b.subtasks,
                    end_ms
                        .saturating_sub(1)
                        .saturating_add(self.allowed_lateness_ms),
                );
                // a merged session was never opened as such: its first record's time
                let first_dot = || {
                    dots.iter()
                        .filter(|d| d.ts_ms >= start_ms && d.ts_ms < end_ms)
                        .map(|d| d.at_ns)
                        .min()
                };
                let opened_ns = b.opened.or_else(first_dot).or(closed_ns).unwrap_or(end_ns);
                WindowBand {
                    start_ms,
                    end_ms,
                    opened_ns,
                    closed_ns,
                    cleanup_ns,
                    subtasks: b.subtasks.iter().copied().collect(),
                    fires: b.fires,
                    late_fires: b.late_fires,
                }
            })
            .collect()
    }

    fn view(self, operator: String, subtasks: u32, end: SimTime) -> EventTimeView {
        let end_ns = end.as_nanos();
        let dots: Vec<Dot> = self.dots.iter().map(|(_, d)| d.clone()).collect();
        let bands = self.band_views(&dots, end_ns);
        let mut firings: Vec<Firing> = self
            .firings
            .iter()
            .map(
                |(&(at_ns, subtask, start_ms, end_ms, late), &count)| Firing {
                    subtask,
                    at_ns,
                    start_ms,
                    end_ms,
                    count,
                    late,
                },
            )
            .collect();
        firings.sort_by_key(|f| (f.at_ns, f.subtask, f.start_ms, f.end_ms, f.late));
        let mut steps = self.steps;
        steps.sort_by_key(|s| s.subtask); // stable: time order within a subtask
        let every = |k: DotKind| self.every[k.index()];
        EventTimeView {
            operator,
            subtasks,
            window: self.window,
            allowed_lateness_ms: self.allowed_lateness_ms,
            side_output: self.side_output,
            end_ns,
            records: self.records,
            sample_every: PerKind {
                on_time: every(DotKind::OnTime),
                late_allowed: every(DotKind::LateAllowed),
                late_side: every(DotKind::LateSide),
                dropped: every(DotKind::Dropped),
            },
            dots,
            watermarks: steps,
            watermark_steps_thinned: self.steps_thinned,
            bands,
            bands_untracked: self.bands_untracked.len() as u64,
            firings,
            firings_untracked: self.firings_untracked,
        }
    }
}

/// The windows in words: `tumbling windows of 5 s`.
fn describe(a: &Assigner) -> String {
    let d = |ms: i64| {
        if ms % 60_000 == 0 && ms != 0 {
            format!("{} min", ms / 60_000)
        } else if ms % 1000 == 0 && ms != 0 {
            format!("{} s", ms / 1000)
        } else {
            format!("{ms} ms")
        }
    };
    match *a {
        Assigner::Tumbling { size, offset } if offset != 0 => {
            format!("tumbling windows of {}, offset {}", d(size), d(offset))
        }
        Assigner::Tumbling { size, .. } => format!("tumbling windows of {}", d(size)),
        Assigner::Sliding { size, slide, .. } => {
            format!("sliding windows of {} every {}", d(size), d(slide))
        }
        Assigner::Session { dynamic: true, .. } => "session windows (gap per record)".into(),
        Assigner::Session { gap, .. } => format!("session windows, gap {}", d(gap)),
        Assigner::Cumulative { size, step, .. } => {
            format!("cumulating windows up to {} every {}", d(size), d(step))
        }
        Assigner::Global => "a global window".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::RunReport;
    use crate::sim::{RunOptions, RunOutput, run};

    fn run_file(file: &str, capture: bool, edit: &dyn Fn(&str) -> String) -> RunOutput {
        let path = format!("{}/../scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = edit(&std::fs::read_to_string(&path).expect("bundled scenario"));
        let s =
            crate::check::parse_str(file, &text, None).unwrap_or_else(|d| panic!("{}", d.render()));
        let p = crate::plan::plan(&s).unwrap_or_else(|d| panic!("{}", d.render()));
        let opts = RunOptions {
            hash_trace: true,
            capture_event_time: capture,
            ..Default::default()
        };
        run(&s, &p, opts).expect("the run")
    }

    fn same(t: &str) -> String {
        t.to_string()
    }

    fn window_report(r: &RunReport, op: &str) -> (u64, crate::report::WindowReport) {
        let o = r.operators.iter().find(|o| o.name == op).expect("operator");
        (o.records_in, o.windows.clone().expect("a window operator"))
    }

    #[test]
    fn capture_changes_nothing_else_and_is_empty_when_off() {
        for file in [
            "late_data.toml",
            "session_windows.toml",
            "tm_crash_recovery.toml",
        ] {
            let off = run_file(file, false, &same);
            let on = run_file(file, true, &same);
            assert!(off.event_time.is_empty(), "{file}");
            assert!(!on.event_time.is_empty(), "{file}");
            let json = |r: &RunReport| serde_json::to_string(r).unwrap();
            assert_eq!(json(&off.report), json(&on.report), "{file}");
            assert_eq!(off.trace_hash, on.trace_hash, "{file}");
            // the same seed gives the same view
            assert_eq!(
                run_file(file, true, &same).event_time,
                on.event_time,
                "{file}"
            );
        }
    }

    #[test]
    fn late_data_shows_the_three_side_output_records_where_the_doc_says() {
        let out = run_file("late_data.toml", true, &same);
        assert_eq!(out.event_time.len(), 1);
        let v = &out.event_time[0];
        assert_eq!(v.operator, "sales_5s");
        assert_eq!(
            (v.subtasks, v.side_output, v.allowed_lateness_ms),
            (2, true, 0)
        );
        assert_eq!(v.window, "tumbling windows of 5 s");
        // docs/scenarios/late_data.md: (timestamp, the watermark it finds, read at second …)
        let late: Vec<(&str, i64, i64, u64)> = v
            .dots_of(DotKind::LateSide)
            .map(|d| {
                let key = d.key.as_deref().unwrap_or("");
                (key, d.ts_ms, d.watermark_ms, d.at_ns / 1_000_000_000)
            })
            .collect();
        assert_eq!(
            late,
            [
                ("\"south\"", 4_400, 5_199, 8),
                ("\"north\"", 3_300, 9_399, 13),
                ("\"south\"", 9_600, 10_899, 15)
            ]
        );
        let (records_in, w) = window_report(&out.report, "sales_5s");
        assert_eq!(v.records.late_side, w.late_side_output);
        assert_eq!((v.records.late_allowed, v.records.dropped), (0, 0));
        // not thinned: every record the operator received is a dot
        assert_eq!(
            v.sample_every,
            PerKind {
                on_time: 1,
                late_allowed: 1,
                late_side: 1,
                dropped: 1
            }
        );
        assert_eq!(v.records.total(), records_in);
        assert_eq!(v.dots.len() as u64, records_in);
        assert_eq!(v.records.on_time, records_in - 3);
        // four ranges, [0, 5 s) … [15 s, 20 s), each fired for both shops
        let ranges: Vec<_> = v.bands.iter().map(|b| (b.start_ms, b.end_ms)).collect();
        assert_eq!(
            ranges,
            [
                (0, 5_000),
                (5_000, 10_000),
                (10_000, 15_000),
                (15_000, 20_000)
            ]
        );
        assert_eq!(v.fires(), w.fired);
        assert_eq!(v.firings.iter().map(|f| f.count).sum::<u64>(), w.fired);
        // a band closes when the watermark passes its end − 1: [0, 5 s) after the order
        // read at 7 s moved it to 5 199, before the late order read at 8 s
        let b0 = &v.bands[0];
        let closed = b0.closed_ns.expect("closed");
        assert!((7_000_000_000..8_000_000_000).contains(&closed), "{closed}");
        assert_eq!(b0.cleanup_ns, b0.closed_ns);
        assert!(b0.opened_ns < closed);
        // the first firing of [0, 5 s) is when its band closes
        let f0 = v.firings.iter().find(|f| f.start_ms == 0).unwrap();
        assert_eq!(f0.at_ns, closed);
        // every late record arrived after its window's band had closed
        for d in v.dots_of(DotKind::LateSide) {
            let b = v
                .bands
                .iter()
                .find(|b| b.start_ms <= d.ts_ms && d.ts_ms < b.end_ms)
                .unwrap();
            assert!(b.closed_ns.unwrap() <= d.at_ns);
        }
        // each subtask's watermark steps go up in time order, the last one is the final one
        for s in 0..2 {
            let steps: Vec<_> = v.watermarks.iter().filter(|w| w.subtask == s).collect();
            assert!(
                steps
                    .windows(2)
                    .all(|w| w[0].at_ns <= w[1].at_ns && w[0].watermark_ms < w[1].watermark_ms)
            );
            assert_eq!(steps.last().unwrap().watermark_ms, i64::MAX);
        }
    }

    #[test]
    fn allowed_lateness_and_dropped_records_are_told_apart() {
        let out = run_file("allowed_lateness.toml", true, &same);
        let v = &out.event_time[0];
        let (records_in, w) = window_report(&out.report, "sales_5s");
        let ts = |k: DotKind| v.dots_of(k).map(|d| d.ts_ms).collect::<Vec<_>>();
        assert_eq!(ts(DotKind::LateAllowed), [4_400, 9_600]);
        assert_eq!(ts(DotKind::Dropped), [3_300]);
        assert_eq!(v.records.dropped, w.late_dropped);
        assert_eq!(v.records.total(), records_in);
        assert_eq!(v.fires(), w.fired);
        let late_fires: u64 = v.bands.iter().map(|b| b.late_fires).sum();
        assert_eq!(late_fires, w.late_firings);
        assert!(v.firings.iter().any(|f| f.late));
        // with 2 s of lateness, [0, 5 s) is cleaned up when the watermark passes 6 999
        let b0 = &v.bands[0];
        assert!(b0.cleanup_ns.unwrap() > b0.closed_ns.unwrap());
        // the same job without a side output drops what late_data sends aside
        let out = run_file("late_data.toml", true, &|t| {
            t.replace("late_output = \"late_orders\"", "")
                .replace("input = \"late_orders\"", "input = \"sales_5s\"")
        });
        let v = &out.event_time[0];
        assert_eq!((v.records.dropped, v.records.late_side), (3, 0));
    }

    #[test]
    fn sessions_are_drawn_as_they_fired_not_as_they_grew() {
        let out = run_file("session_windows.toml", true, &same);
        assert_eq!(out.event_time.len(), 2);
        for v in &out.event_time {
            let (records_in, w) = window_report(&out.report, &v.operator);
            assert_eq!(v.records.total(), records_in, "{}", v.operator);
            assert_eq!(v.fires(), w.fired, "{}", v.operator);
            // the ranges a session had before it merged are gone; what is left fired
            assert!(v.bands.iter().all(|b| b.fires > 0), "{:?}", v.bands);
            assert!(v.bands.iter().all(|b| b.closed_ns.is_some()));
        }
    }

    #[test]
    fn dots_thin_out_deterministically_beyond_the_limit() {
        let mut op = OpNotes {
            every: [1; 4],
            ..OpNotes::default()
        };
        let n = MAX_DOTS as u64 * 3 + 7;
        for i in 0..n {
            let kind = if i % 1000 == 0 {
                DotKind::Dropped
            } else {
                DotKind::OnTime
            };
            op.note(
                0,
                Noted::Element {
                    at: SimTime::from_nanos(i),
                    key: None,
                    ts: EventTime::from_millis(i as i64),
                    watermark: EventTime::MIN,
                    kind,
                },
                &Interner::new(),
            );
        }
        let v = op.view("w".into(), 1, SimTime::from_nanos(n));
        assert_eq!(v.records.total(), n);
        let k = v.sample_every.on_time;
        assert_eq!(k, 4);
        assert_eq!(
            v.sample_every.dropped, 1,
            "the few late records are all kept"
        );
        let on_time = v.dots_of(DotKind::OnTime).count();
        assert!(on_time <= MAX_DOTS && on_time > MAX_DOTS / 2, "{on_time}");
        assert_eq!(
            v.dots_of(DotKind::Dropped).count() as u64,
            v.records.dropped
        );
        assert!(
            v.dots.windows(2).all(|w| w[0].at_ns < w[1].at_ns),
            "arrival order kept"
        );
    }
}
