//! The record-level diff of two runs (`streamlab diff`, `streamlab compare --diff`): each
//! sink's rows aligned by key and window, and every row that differs, with why
//! ([`diff_cause`](super::diff_cause)).
//!
//! **Alignment.** A sink's columns are split into its *window* (the columns `window_start`
//! and `window_end`, when it has them), its *value* (the last other column) and its *key*
//! (every other column; none for a one-column sink, whose rows then align by value). Rows
//! with the same key and window are one group.
//!
//! **Rows or final value.** A sink is an *updating* result (the changelog of a rolling
//! reduce, or a window with late firings) when its value column is numeric and, in either
//! report, one group holds rows with different values. Such a sink is compared by its final
//! row per key and window (the last one the report lists: a keyed result comes from one
//! subtask, in order), and the earlier rows are counted as updates, not listed. Any other sink
//! is compared as a multiset of rows: a row visible more often in one run than in the other
//! is listed once with both counts.
//!
//! **Pairs.** Within a group, rows only in A and rows only in B are paired in sorted order
//! as *different value*; what is left is *only in A* or *only in B*.
//!
//! A report keeps only a sink's first `capture` rows (collect) or its `capture` largest
//! rows (upsert): the diff then covers what the reports kept, says so, and gives rows absent
//! from the side that did not keep everything the cause [`Cause::NotCaptured`].

use super::diff_cause::{Cause, Side, classify, reason};
pub use super::diff_cause::{DiffInput, DiffKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The record-level diff of two runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DiffReport {
    /// Run A: what the reports say about it.
    pub a: Side,
    /// Run B.
    pub b: Side,
    /// One entry per sink both runs have, in A's order.
    pub sinks: Vec<SinkDiff>,
    /// Sinks only one of the runs has.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmatched_sinks: Vec<String>,
    /// Sinks that keep no rows (`discard`) in either run: not compared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discard_sinks: Vec<String>,
}

/// The diff of one sink.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SinkDiff {
    /// The sink.
    pub name: String,
    /// Its fields.
    pub fields: Vec<String>,
    /// `rows` (a multiset of rows) or `final value per key` (an updating result).
    pub compared_by: String,
    /// Rows each report keeps of the sink, A then B.
    pub rows: [u64; 2],
    /// Rows (collect: records) the sink made visible in each run, A then B.
    pub rows_in_run: [u64; 2],
    /// Whether both reports keep every row; if not, `note` says what the diff covers.
    pub complete: bool,
    /// Rows (or final rows) both runs have.
    pub same: u64,
    /// Earlier rows of an updating result, not compared (A then B): each group's final row is.
    pub updates: [u64; 2],
    /// Why the earlier rows of an updating result were folded (`update_vs_final`), when
    /// there were any: they are not differences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folded: Option<CauseCount>,
    /// The rows that differ.
    pub differences: Vec<RowDiff>,
    /// How many differing rows each cause explains, with the reason in words.
    pub causes: Vec<CauseCount>,
    /// What the diff of this sink cannot see, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One row that differs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RowDiff {
    /// Only in A, only in B, or a different value.
    pub kind: DiffKind,
    /// The key columns' values (empty: the sink has no key column).
    pub key: Vec<Value>,
    /// `[window_start, window_end]`, when the sink has window columns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<Vec<Value>>,
    /// A's row (`null`: A does not have it).
    pub a: Option<Vec<Value>>,
    /// B's row.
    pub b: Option<Vec<Value>>,
    /// How often A's row (or, only in B, B's row) is visible in A, then in B.
    pub copies: [u64; 2],
    /// Why it differs.
    pub cause: Cause,
}

impl RowDiff {
    /// Rows this entry stands for: the extra copies of a row, or 1 for a different value.
    pub fn rows(&self) -> u64 {
        match self.kind {
            DiffKind::DifferentValue => 1,
            _ => self.copies[0].abs_diff(self.copies[1]),
        }
    }
}

/// How many differing rows one cause explains.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CauseCount {
    /// The cause.
    pub cause: Cause,
    /// Differing rows it explains.
    pub rows: u64,
    /// Why, in words, from the reports' data.
    pub reason: String,
}

impl SinkDiff {
    /// Differing rows in all (extra copies counted one by one).
    pub fn differing_rows(&self) -> u64 {
        self.differences.iter().map(RowDiff::rows).sum()
    }
}

/// The diff of runs `a` and `b`, of every sink (or only `sink`) both have.
pub fn diff(a: DiffInput<'_>, b: DiffInput<'_>, sink: Option<&str>) -> DiffReport {
    let (mut sa, mut sb) = (Side::of(a), Side::of(b));
    sa.label = a.label.into();
    sb.label = b.label.into();
    let mut sinks = Vec::new();
    let mut unmatched = Vec::new();
    let mut skipped = Vec::new();
    for ka in a
        .report
        .sinks
        .iter()
        .filter(|k| sink.is_none_or(|n| n == k.name))
    {
        match b.report.sinks.iter().find(|k| k.name == ka.name) {
            Some(kb) if ka.kind != "discard" && kb.kind != "discard" => {
                sinks.push(sink_diff(ka, kb, &sa, &sb))
            }
            Some(_) => skipped.push(ka.name.clone()),
            None => unmatched.push(ka.name.clone()),
        }
    }
    for kb in b
        .report
        .sinks
        .iter()
        .filter(|k| sink.is_none_or(|n| n == k.name))
    {
        if !a.report.sinks.iter().any(|k| k.name == kb.name) {
            unmatched.push(kb.name.clone());
        }
    }
    DiffReport {
        a: sa,
        b: sb,
        sinks,
        unmatched_sinks: unmatched,
        discard_sinks: skipped,
    }
}

/// Which columns are the window, which the value, which the key.
struct Columns {
    window: Vec<usize>,
    value: Option<usize>,
    key: Vec<usize>,
}

impl Columns {
    fn of(fields: &[String]) -> Columns {
        let window: Vec<usize> = (0..fields.len())
            .filter(|&i| fields[i] == "window_start" || fields[i] == "window_end")
            .collect();
        let rest: Vec<usize> = (0..fields.len()).filter(|i| !window.contains(i)).collect();
        let (value, key) = match rest.split_last() {
            Some((v, k)) if !k.is_empty() || !window.is_empty() => (Some(*v), k.to_vec()),
            _ => (None, rest.clone()),
        };
        Columns { window, value, key }
    }

    fn pick(cols: &[usize], row: &[Value]) -> Vec<Value> {
        cols.iter().filter_map(|&i| row.get(i).cloned()).collect()
    }
}

/// A key and window, ordered as people read them: numbers by value, then text.
#[derive(Debug, Clone, PartialEq)]
struct GroupKey(Vec<Value>);

impl Eq for GroupKey {}

impl PartialOrd for GroupKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for GroupKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let one = |a: &Value, b: &Value| match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => text(a).cmp(&text(b)),
        };
        self.0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| one(a, b))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| self.0.len().cmp(&other.0.len()))
    }
}

/// The rows of one key and window in one run, in report order.
type Groups<'r> = BTreeMap<GroupKey, Vec<&'r Vec<Value>>>;

fn groups<'r>(c: &Columns, rows: &'r [Vec<Value>]) -> Groups<'r> {
    let mut g: Groups<'r> = BTreeMap::new();
    for r in rows {
        let mut k = Columns::pick(&c.key, r);
        k.extend(Columns::pick(&c.window, r));
        g.entry(GroupKey(k)).or_default().push(r);
    }
    g
}

fn text<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Whether one group holds rows of different numeric values (an updating result).
fn updating(c: &Columns, groups: &[&Groups<'_>]) -> bool {
    let Some(v) = c.value else { return false };
    groups.iter().any(|g| {
        g.values().any(|rows| {
            rows.iter().all(|r| r.get(v).is_some_and(Value::is_number))
                && rows.iter().any(|r| r.get(v) != rows[0].get(v))
        })
    })
}

fn sink_diff(ka: &super::SinkReport, kb: &super::SinkReport, sa: &Side, sb: &Side) -> SinkDiff {
    let cols = Columns::of(&ka.fields);
    let (ga, gb) = (groups(&cols, &ka.rows), groups(&cols, &kb.rows));
    let by_final = updating(&cols, &[&ga, &gb]);
    let kept = |k: &super::SinkReport| (k.rows.len() as u64, in_run(k));
    let ((ra, na), (rb, nb)) = (kept(ka), kept(kb));
    let complete = [ra == na, rb == nb];
    let mut out = SinkDiff {
        name: ka.name.clone(),
        fields: ka.fields.clone(),
        compared_by: if by_final {
            "final value per key"
        } else {
            "rows"
        }
        .into(),
        rows: [ra, rb],
        rows_in_run: [na, nb],
        complete: complete == [true, true],
        same: 0,
        updates: [0, 0],
        folded: None,
        differences: Vec::new(),
        causes: Vec::new(),
        note: None,
    };
    let empty = Vec::new();
    let keys: std::collections::BTreeSet<&GroupKey> = ga.keys().chain(gb.keys()).collect();
    for k in keys {
        let (xa, xb) = (ga.get(k).unwrap_or(&empty), gb.get(k).unwrap_or(&empty));
        let (xa, xb): (Vec<&Vec<Value>>, Vec<&Vec<Value>>) = if by_final {
            out.updates[0] += xa.len().saturating_sub(1) as u64;
            out.updates[1] += xb.len().saturating_sub(1) as u64;
            (
                xa.last().into_iter().copied().collect(),
                xb.last().into_iter().copied().collect(),
            )
        } else {
            (xa.clone(), xb.clone())
        };
        align_group(&cols, &xa, &xb, &mut out);
    }
    let ctx = super::diff_cause::Context {
        a: sa,
        b: sb,
        complete,
        updates: out.updates,
    };
    for d in &mut out.differences {
        d.cause = classify(d.kind, d.copies, &ctx);
    }
    let mut counts: BTreeMap<Cause, u64> = BTreeMap::new();
    for d in &out.differences {
        *counts.entry(d.cause).or_default() += d.rows();
    }
    out.causes = counts
        .into_iter()
        .map(|(cause, rows)| CauseCount {
            cause,
            rows,
            reason: reason(cause, &ctx, &ka.name),
        })
        .collect();
    if out.updates != [0, 0] {
        out.folded = Some(CauseCount {
            cause: Cause::UpdateVsFinal,
            rows: out.updates[0] + out.updates[1],
            reason: reason(Cause::UpdateVsFinal, &ctx, &ka.name),
        });
    }
    out.note = note(&ka.name, &out, sa, sb);
    out
}

/// Rows a sink made visible in its run: a collect sink's records, an upsert sink's table.
fn in_run(k: &super::SinkReport) -> u64 {
    if k.kind == "upsert" {
        k.rows_total
    } else {
        k.records
    }
}

/// Aligns the rows of one key and window: equal rows match (as often as both have them),
/// the rest pair up as different values in sorted order, what is left is only in one run.
fn align_group(c: &Columns, xa: &[&Vec<Value>], xb: &[&Vec<Value>], out: &mut SinkDiff) {
    let count = |xs: &[&Vec<Value>]| {
        let mut m: BTreeMap<String, (u64, Vec<Value>)> = BTreeMap::new();
        for r in xs {
            m.entry(text(r)).or_insert_with(|| (0, (*r).clone())).0 += 1;
        }
        m
    };
    let (ca, cb) = (count(xa), count(xb));
    let mut left_a: Vec<(Vec<Value>, [u64; 2])> = Vec::new();
    let mut left_b: Vec<(Vec<Value>, [u64; 2])> = Vec::new();
    for (t, (n, row)) in &ca {
        let m = cb.get(t).map_or(0, |x| x.0);
        out.same += (*n).min(m);
        if *n > m {
            left_a.push((row.clone(), [*n, m]));
        }
    }
    for (t, (n, row)) in &cb {
        let m = ca.get(t).map_or(0, |x| x.0);
        if *n > m {
            left_b.push((row.clone(), [m, *n]));
        }
    }
    let first = xa.first().or(xb.first()).map_or(&[][..], |r| r.as_slice());
    let window = (!c.window.is_empty()).then(|| Columns::pick(&c.window, first));
    let key = Columns::pick(&c.key, first);
    // rows one run never shows, beside rows the other never shows: other values
    let (new_a, extra_a): (Vec<_>, Vec<_>) = left_a.into_iter().partition(|x| x.1[1] == 0);
    let (new_b, extra_b): (Vec<_>, Vec<_>) = left_b.into_iter().partition(|x| x.1[0] == 0);
    let pairs = new_a.len().min(new_b.len());
    let (mut new_a, mut new_b) = (new_a.into_iter(), new_b.into_iter());
    for _ in 0..pairs {
        if let (Some((ra, ca)), Some((rb, cb))) = (new_a.next(), new_b.next()) {
            out.differences.push(RowDiff {
                kind: DiffKind::DifferentValue,
                key: key.clone(),
                window: window.clone(),
                a: Some(ra),
                b: Some(rb),
                copies: [ca[0], cb[1]],
                cause: Cause::Unexplained,
            });
        }
    }
    for x in new_a.chain(extra_a) {
        out.differences
            .push(only(DiffKind::OnlyInA, &key, &window, x));
    }
    for x in new_b.chain(extra_b) {
        out.differences
            .push(only(DiffKind::OnlyInB, &key, &window, x));
    }
}

fn only(
    kind: DiffKind,
    key: &[Value],
    window: &Option<Vec<Value>>,
    (row, copies): (Vec<Value>, [u64; 2]),
) -> RowDiff {
    let (a, b) = match kind {
        DiffKind::OnlyInA => (Some(row), None),
        _ => (None, Some(row)),
    };
    RowDiff {
        kind,
        key: key.to_vec(),
        window: window.clone(),
        a,
        b,
        copies,
        cause: Cause::Unexplained,
    }
}

/// What the diff of a sink cannot see: rows a report did not keep.
fn note(sink: &str, d: &SinkDiff, sa: &Side, sb: &Side) -> Option<String> {
    let missing: Vec<String> = [(sa, 0), (sb, 1)]
        .iter()
        .filter(|(_, i)| d.rows[*i] < d.rows_in_run[*i])
        .map(|(s, i)| {
            format!(
                "the report of {} keeps {} of the {} rows of sink `{sink}` (its `capture`)",
                s.label, d.rows[*i], d.rows_in_run[*i]
            )
        })
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "{}: the diff covers only the rows kept, so a row one report left out shows as only in the other (raise the sink's `capture`, or use `streamlab compare --diff`, which captures every row).",
            missing.join("; ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::SinkReport;
    use serde_json::json;

    fn sink(fields: &[&str], rows: Vec<Value>) -> SinkReport {
        let rows: Vec<Vec<Value>> = rows
            .into_iter()
            .map(|r| r.as_array().cloned().unwrap_or_default())
            .collect();
        SinkReport {
            name: "out".into(),
            kind: "collect".into(),
            records: rows.len() as u64,
            rows_total: rows.len() as u64,
            fields: fields.iter().map(|f| f.to_string()).collect(),
            rows,
            ..Default::default()
        }
    }

    fn side(mode: &str) -> Side {
        Side {
            label: mode.into(),
            mode: mode.into(),
            seed: 1,
            failures: Vec::new(),
            replayed: None,
            late: 0,
        }
    }

    #[test]
    fn equal_multisets_in_any_order_do_not_differ() {
        let a = sink(&["w", "n"], vec![json!(["a", 1]), json!(["b", 1])]);
        let b = sink(&["w", "n"], vec![json!(["b", 1]), json!(["a", 1])]);
        let d = sink_diff(&a, &b, &side("streaming"), &side("batch"));
        assert_eq!((d.same, d.differences.len()), (2, 0));
        assert_eq!(d.compared_by, "rows");
    }

    #[test]
    fn an_extra_copy_is_listed_once_with_both_counts() {
        let a = sink(&["w", "n"], vec![json!(["a", 1])]);
        let b = sink(&["w", "n"], vec![json!(["a", 1]), json!(["a", 1])]);
        let d = sink_diff(&a, &b, &side("streaming"), &side("acking"));
        assert_eq!(d.differences.len(), 1);
        let r = &d.differences[0];
        assert_eq!((r.kind, r.copies, r.rows()), (DiffKind::OnlyInB, [1, 2], 1));
    }

    #[test]
    fn a_rolling_result_is_compared_by_its_final_value_per_key() {
        let a = sink(
            &["w", "n"],
            vec![json!(["a", 1]), json!(["b", 1]), json!(["a", 2])],
        );
        let b = sink(&["w", "n"], vec![json!(["a", 2]), json!(["b", 1])]);
        let d = sink_diff(&a, &b, &side("streaming"), &side("batch"));
        assert_eq!(d.compared_by, "final value per key");
        assert_eq!((d.same, d.updates, d.differences.len()), (2, [1, 0], 0));
        // a different final value is listed, paired by key
        let b = sink(&["w", "n"], vec![json!(["a", 3]), json!(["b", 1])]);
        let d = sink_diff(&a, &b, &side("streaming"), &side("batch"));
        assert_eq!(d.differences.len(), 1);
        assert_eq!(d.differences[0].kind, DiffKind::DifferentValue);
        assert_eq!(d.differences[0].key, vec![json!("a")]);
    }

    #[test]
    fn windows_align_by_key_and_window() {
        let f = ["k", "window_start", "window_end", "sum"];
        let a = sink(&f, vec![json!(["x", 0, 10, 5]), json!(["x", 10, 20, 1])]);
        let b = sink(&f, vec![json!(["x", 0, 10, 7])]);
        let d = sink_diff(&a, &b, &side("streaming"), &side("micro-batch"));
        let kinds: Vec<DiffKind> = d.differences.iter().map(|r| r.kind).collect();
        assert_eq!(kinds, [DiffKind::DifferentValue, DiffKind::OnlyInA]);
        assert_eq!(d.differences[0].window, Some(vec![json!(0), json!(10)]));
        assert_eq!(d.differences[1].window, Some(vec![json!(10), json!(20)]));
        // windows in time order, not in the order of their text
        let a = sink(
            &f,
            vec![json!(["x", 10000, 12000, 1]), json!(["x", 2000, 4000, 1])],
        );
        let b = sink(&f, vec![]);
        let d = sink_diff(&a, &b, &side("streaming"), &side("batch"));
        assert_eq!(
            d.differences[0].window,
            Some(vec![json!(2000), json!(4000)])
        );
    }

    #[test]
    fn a_report_that_kept_few_rows_is_said_to_be_incomplete() {
        let a = sink(&["w", "n"], vec![json!(["a", 1])]);
        let mut b = a.clone();
        b.records = 5;
        let d = sink_diff(&a, &b, &side("streaming"), &side("batch"));
        assert!(!d.complete);
        assert!(d.note.as_deref().unwrap().contains("keeps 1 of the 5 rows"));
    }

    #[test]
    fn a_one_column_sink_aligns_by_value() {
        let a = sink(&["w"], vec![json!(["a"]), json!(["b"])]);
        let b = sink(&["w"], vec![json!(["a"]), json!(["c"])]);
        let d = sink_diff(&a, &b, &side("streaming"), &side("batch"));
        let kinds: Vec<DiffKind> = d.differences.iter().map(|r| r.kind).collect();
        assert_eq!(kinds, [DiffKind::OnlyInA, DiffKind::OnlyInB]);
    }
}
