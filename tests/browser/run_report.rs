//! The run report page's DOM contract (issue 14, `report.html` of `streamlab run --out`),
//! checked in the browser against the numbers of the run itself: its JSON report and its
//! trace.

use crate::cdp::Browser;
use serde_json::Value;

/// Every mark kind the contract names; a page need not have each.
pub const MARK_KINDS: [&str; 10] = [
    "barrier",
    "failure",
    "fire",
    "restore",
    "commit",
    "buffer",
    "watermark",
    "downtime",
    "backpressure",
    "batch",
];

/// The dot classes of the event-time diagram: exactly one per dot.
const DOT_KINDS: [&str; 4] = ["on-time", "late-allowed", "late-side", "dropped"];

/// What the page must show, read off the run's JSON report and trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// One lane per subtask, named `CHAIN #i` as the report names its tasks.
    pub lanes: Vec<String>,
    /// `snapshot` lines of the trace (checkpoints × subtasks that snapshotted).
    pub barriers: u64,
    /// Entries of the report's `failures`.
    pub failures: u64,
    /// `window_fired` lines of the trace.
    pub fires: u64,
    /// `late_record` lines (late records sent to a side output).
    pub late_side: u64,
    /// `late_record_dropped` lines.
    pub dropped: u64,
    /// Event-time diagrams the page must have at least.
    pub event_time_diagrams: u64,
}

impl Expected {
    /// Reads the numbers from a `--json` report and a `--trace` file's text.
    pub fn from_run(report: &Value, trace: &str) -> Expected {
        let mut events = std::collections::BTreeMap::<String, u64>::new();
        for line in trace.lines() {
            if let Ok(l) = serde_json::from_str::<Value>(line) {
                *events
                    .entry(l["event"].as_str().unwrap_or("").to_string())
                    .or_default() += 1;
            }
        }
        let lines = |event: &str| events.get(event).copied().unwrap_or(0);
        let lanes = report["tasks"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| format!("{} #{}", t["chain"].as_str().unwrap_or("?"), t["subtask"]))
            .collect();
        Expected {
            lanes,
            barriers: lines("snapshot"),
            failures: report["failures"].as_array().map_or(0, |f| f.len() as u64),
            fires: lines("window_fired"),
            late_side: lines("late_record"),
            dropped: lines("late_record_dropped"),
            event_time_diagrams: 0,
        }
    }
}

/// The sum of `data-count` (absent = 1) over the elements `selector` matches, and the
/// elements whose `data-count` is not a whole number ≥ 1.
const COUNT_JS: &str = "(sel) => { let sum = 0; const bad = []; \
    for (const e of document.querySelectorAll(sel)) { \
      const c = e.hasAttribute('data-count') ? e.getAttribute('data-count') : '1'; \
      if (/^[1-9][0-9]*$/.test(c)) sum += Number(c); else bad.push(c); } \
    return {sum, bad}; }";

/// The first element of `sel` that a mouse can hover once it is scrolled into view: a point
/// of its box (the centre first, then a 5 × 5 grid) where the element itself, not something
/// drawn over it, is hit. Its point and tip, or null when every such element is covered.
const HOVERABLE_JS: &str = "(sel) => { const f = [0.5, 0.25, 0.75, 0.1, 0.9]; \
    for (const e of document.querySelectorAll(sel)) { \
      e.scrollIntoView({block: 'center', inline: 'center'}); \
      const r = e.getBoundingClientRect(); \
      for (const fy of f) for (const fx of f) { \
        const x = r.x + r.width * fx, y = r.y + r.height * fy; \
        const hit = document.elementFromPoint(x, y); \
        if (hit && (hit === e || e.contains(hit))) \
          return {x, y, tip: e.getAttribute('data-tip') || ''}; } } \
    return null; }";

/// `#tip`'s state: shown (displayed, visible, not transparent, with a box) and its text.
const TIP_JS: &str = "(() => { const t = document.getElementById('tip'); if (!t) return null; \
    const s = getComputedStyle(t); const r = t.getBoundingClientRect(); \
    return {shown: s.display !== 'none' && s.visibility !== 'hidden' && Number(s.opacity) > 0 \
      && r.width > 0 && r.height > 0, text: t.textContent}; })()";

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks the open page against the contract and `want`; returns every violation in words
/// (empty: the page keeps the contract). `Err` only when the browser fails.
pub fn violations(b: &mut Browser, want: &Expected) -> Result<Vec<String>, String> {
    let mut v = Vec::new();
    let mut lanes: Vec<String> = serde_json::from_value(b.eval(
        "Array.from(document.querySelectorAll('svg#space-time g.lane'), g => g.getAttribute('data-task') || '')",
    )?)
    .map_err(|e| e.to_string())?;
    let mut wanted = want.lanes.clone();
    lanes.sort();
    wanted.sort();
    if lanes.len() != wanted.len() {
        v.push(format!(
            "{} lanes (svg#space-time g.lane), the report has {} tasks",
            lanes.len(),
            wanted.len()
        ));
    } else if lanes != wanted {
        v.push(format!("lanes {lanes:?}, the report's tasks {wanted:?}"));
    }
    for (kind, n) in [("barrier", want.barriers), ("fire", want.fires)] {
        let c = b.eval(&format!("({COUNT_JS})('svg#space-time .mark.{kind}')"))?;
        if c["sum"].as_u64() != Some(n) {
            v.push(format!(
                "sum of data-count of .mark.{kind} is {}, want {n}",
                c["sum"]
            ));
        }
        if c["bad"].as_array().is_some_and(|a| !a.is_empty()) {
            v.push(format!(".mark.{kind} with bad data-count: {}", c["bad"]));
        }
    }
    let failures = b.eval("document.querySelectorAll('svg#space-time .mark.failure').length")?;
    if failures.as_u64() != Some(want.failures) {
        v.push(format!(
            "{failures} .mark.failure, the report has {} failures",
            want.failures
        ));
    }
    let untitled = b.eval(
        "Array.from(document.querySelectorAll('.mark')).filter(e => { \
           const tip = (e.getAttribute('data-tip') || '').trim(); \
           const t = Array.from(e.children).find(c => c.tagName.toLowerCase() === 'title'); \
           return !tip || !t || t.textContent.trim() !== tip; }).length",
    )?;
    if untitled.as_u64() != Some(0) {
        v.push(format!(
            "{untitled} .mark without data-tip or without a child <title> of the same text"
        ));
    }
    hover_each_kind(b, &mut v)?;
    event_time(b, want, &mut v)?;
    if b.eval("document.querySelectorAll('section#subtasks').length")? != 1 {
        v.push("no section#subtasks".to_string());
    }
    Ok(v)
}

/// Hovers the first hoverable mark of each kind present and checks `#tip` then shows its
/// `data-tip`.
fn hover_each_kind(b: &mut Browser, v: &mut Vec<String>) -> Result<(), String> {
    for kind in MARK_KINDS {
        let sel = format!("svg#space-time .mark.{kind}");
        let present = b.eval(&format!("document.querySelectorAll('{sel}').length"))?;
        if present.as_u64().unwrap_or(0) == 0 {
            continue;
        }
        let at = b.eval(&format!("({HOVERABLE_JS})('{sel}')"))?;
        let (Some(x), Some(y)) = (at["x"].as_f64(), at["y"].as_f64()) else {
            v.push(format!(
                "no {sel} can be hovered (each is covered or has no box)"
            ));
            continue;
        };
        b.mouse_move(x, y)?;
        let tip = b.eval(TIP_JS)?;
        let text = squash(tip["text"].as_str().unwrap_or(""));
        let want = squash(at["tip"].as_str().unwrap_or(""));
        if tip.is_null() {
            v.push("no #tip element".to_string());
            return Ok(());
        }
        if tip["shown"] != true || text.is_empty() {
            v.push(format!("hovering {sel} does not show #tip ({tip})"));
        } else if !text.contains(&want) {
            v.push(format!(
                "hovering {sel}: #tip says {text:?}, the mark's data-tip is {want:?}"
            ));
        }
    }
    Ok(())
}

/// The event-time diagrams: enough of them, each naming its operator, with dots of exactly
/// one kind, a watermark line and window bands; late records drawn where the trace has them.
fn event_time(b: &mut Browser, want: &Expected, v: &mut Vec<String>) -> Result<(), String> {
    let kinds = serde_json::to_string(&DOT_KINDS).expect("strings serialise");
    let d = b.eval(&format!(
        "Array.from(document.querySelectorAll('svg.event-time'), s => ({{ \
           op: s.getAttribute('data-operator') || '', \
           dots: s.querySelectorAll('.dot').length, \
           badDots: Array.from(s.querySelectorAll('.dot')).filter(d => \
             {kinds}.filter(k => d.classList.contains(k)).length !== 1).length, \
           lines: s.querySelectorAll('.watermark-line').length, \
           bands: s.querySelectorAll('.window-band').length }}))"
    ))?;
    let diagrams = d.as_array().cloned().unwrap_or_default();
    if (diagrams.len() as u64) < want.event_time_diagrams {
        v.push(format!(
            "{} svg.event-time, want at least {}",
            diagrams.len(),
            want.event_time_diagrams
        ));
    }
    for g in &diagrams {
        let op = g["op"].as_str().unwrap_or("");
        if op.is_empty() {
            v.push("an svg.event-time without data-operator".to_string());
        }
        if g["dots"] == 0 || g["badDots"] != 0 || g["lines"] == 0 || g["bands"] == 0 {
            v.push(format!(
                "event-time diagram {op:?}: {} dots ({} without exactly one of {kinds}), \
                 {} .watermark-line, {} .window-band",
                g["dots"], g["badDots"], g["lines"], g["bands"]
            ));
        }
    }
    for (class, n) in [("late-side", want.late_side), ("dropped", want.dropped)] {
        let drawn = b.eval(&format!(
            "document.querySelectorAll('svg.event-time .dot.{class}').length"
        ))?;
        if n > 0 && !diagrams.is_empty() && drawn == 0 {
            v.push(format!(
                "the trace has {n} {class} records, no .dot.{class} is drawn"
            ));
        }
    }
    Ok(())
}

/// Runs `scenario` with `--out`, `--trace` and `--json`, opens its `report.html` and checks
/// it against the contract and the run's own numbers; the screenshots (page, space-time
/// diagram, a hovered mark with its tip) are kept as `run-NAME.png`,
/// `run-NAME-space-time.png` and `run-NAME-tip.png`.
fn run_report_keeps_the_contract(name: &str, event_time_diagrams: u64) {
    let Some(mut b) = crate::browser() else {
        return;
    };
    let dir = crate::scratch(&format!("run-{name}"));
    let d = dir.display().to_string();
    let scenario = format!("scenarios/{name}.toml");
    crate::streamlab(&[
        "run",
        &scenario,
        "--out",
        &d,
        "--trace",
        &format!("{d}/t.jsonl"),
        "--json",
        &format!("{d}/r.json"),
    ]);
    let report: Value = serde_json::from_str(&crate::read(&dir.join("r.json"))).unwrap();
    let mut want = Expected::from_run(&report, &crate::read(&dir.join("t.jsonl")));
    want.event_time_diagrams = event_time_diagrams;
    let html = dir.join("report.html");
    let loaded = b.open_file(&html).unwrap();
    let bytes = std::fs::metadata(&html).map_or(0, |m| m.len());
    eprintln!("{scenario}: report.html {bytes} bytes, loaded in {loaded:?}");
    // the bound for the largest run (canonical.toml); these runs are far smaller
    assert!(
        loaded < std::time::Duration::from_secs(2),
        "{scenario}: report.html ({bytes} bytes) took {loaded:?} to load"
    );
    // the pictures first, as a reader sees the page: no tip open, scrolled to the top
    let png = b.screenshot(None).unwrap();
    crate::pixels::keep_screenshot(&format!("run-{name}"), &png).unwrap();
    let png = b.screenshot(Some("svg#space-time")).unwrap();
    crate::pixels::keep_screenshot(&format!("run-{name}-space-time"), &png).unwrap();
    let v = violations(&mut b, &want).unwrap();
    // the last mark hovered, with its tip
    let png = b.screenshot(None).unwrap();
    crate::pixels::keep_screenshot(&format!("run-{name}-tip"), &png).unwrap();
    assert!(v.is_empty(), "{scenario}: {want:?}\n{v:#?}");
    crate::assert_no_problems(&mut b, &scenario);
}

#[test]
fn the_run_report_of_tm_crash_recovery_keeps_the_contract() {
    run_report_keeps_the_contract("tm_crash_recovery", 0);
}

#[test]
fn the_run_report_of_late_data_keeps_the_contract() {
    run_report_keeps_the_contract("late_data", 1);
}

#[test]
fn the_run_report_of_unaligned_under_backpressure_keeps_the_contract() {
    run_report_keeps_the_contract("unaligned_under_backpressure", 0);
}

#[test]
fn the_run_report_of_exactly_once_vs_at_least_once_keeps_the_contract() {
    run_report_keeps_the_contract("exactly_once_vs_at_least_once", 0);
}

#[test]
fn the_run_report_of_window_join_keeps_the_contract() {
    run_report_keeps_the_contract("window_join", 0);
}

/// The largest bundled run (10 M records) stays usable: its page is under 5 MB, loads within
/// 2 s, has no problems and draws one lane per subtask (issue 14: "large runs stay usable").
#[test]
fn the_run_report_of_canonical_is_small_and_quick_to_open() {
    let Some(mut b) = crate::browser() else {
        return;
    };
    let dir = crate::scratch("run-canonical");
    let d = dir.display().to_string();
    crate::streamlab(&[
        "run",
        "scenarios/canonical.toml",
        "--out",
        &d,
        "--json",
        &format!("{d}/r.json"),
    ]);
    let html = dir.join("report.html");
    let bytes = std::fs::metadata(&html).map_or(0, |m| m.len());
    assert!(bytes < 5_000_000, "report.html is {bytes} bytes");
    let loaded = b.open_file(&html).unwrap();
    eprintln!("canonical: report.html {bytes} bytes, loaded in {loaded:?}");
    assert!(loaded < std::time::Duration::from_secs(2), "{loaded:?}");
    crate::assert_no_problems(&mut b, "canonical");
    let report: Value = serde_json::from_str(&crate::read(&dir.join("r.json"))).unwrap();
    let tasks = report["tasks"].as_array().map_or(0, Vec::len);
    let lanes = b
        .eval("document.querySelectorAll('svg#space-time g.lane').length")
        .unwrap();
    assert_eq!(lanes, tasks, "lanes vs the report's tasks");
    let png = b.screenshot(Some("svg#space-time")).unwrap();
    crate::pixels::keep_screenshot("run-canonical-space-time", &png).unwrap();
}
