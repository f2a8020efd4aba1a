//! Aggregations: Flink's `WindowAggregate` (a GROUP BY over a window TVF, an append stream)
//! and `GroupAggregate` (a GROUP BY without a window, an updating result), lowered onto
//! `map`, `key_by`, `window` or a rolling `reduce`, `filter` and `flat_map` operators.
//!
//! Both read the SELECT the same way ([`analyse`]): grouping columns, and aggregates whose
//! accumulators are fields `sql_agg_i` — `COUNT` and `SUM` add, `MIN` and `MAX` keep the
//! smaller or larger, `AVG` is a sum and a count divided at the end (Flink's `AVG` of a
//! `BIGINT` is a `BIGINT`: the quotient rounded toward zero). Several grouping columns key
//! the stream by their values joined with the unit separator `U+001F`.

use super::{Builder, Tvf, TvfShape, aggregate_name, item, s};
use crate::check::checker::Checker;
use crate::scenario::sql::SqlPlanNode;
use indexmap::IndexMap;
use sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Select, Spanned as _};
use toml::Spanned as TSpanned;

/// How an accumulator combines the values of its rows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fold {
    Sum,
    Min,
    Max,
}

/// One accumulator field `sql_agg_i`: what each row brings, and how it folds.
struct Slot {
    input: TSpanned<String>,
    fold: Fold,
}

/// The SELECT of an aggregation, read.
struct Aggregation {
    /// The grouping columns (not the window's bounds).
    keys: Vec<String>,
    slots: Vec<Slot>,
    /// Each aggregate as the plan shows it: `SUM(n) AS total`.
    shown: Vec<String>,
    /// Each output column and its expression over the keys, the window's bounds and the
    /// accumulators (`sql_agg_0 / sql_agg_1` for an `AVG`).
    out: IndexMap<String, String>,
    /// HAVING over the output columns (each aggregate replaced by its column).
    having: Option<String>,
    /// Whether an aggregate is `MIN` or `MAX` (which cannot take a row back).
    min_max: bool,
}

/// The grouping columns of a GROUP BY; the window's bounds are allowed (and left out) when
/// `window`.
fn grouping(
    ck: &mut Checker,
    b: &Builder<'_>,
    group_by: &[&Expr],
    window: bool,
) -> Option<(Vec<String>, bool)> {
    let mut keys = Vec::new();
    let (mut start, mut end) = (false, false);
    for g in group_by {
        match g {
            Expr::Identifier(i) if window && i.value == "window_start" => start = true,
            Expr::Identifier(i) if window && i.value == "window_end" => end = true,
            Expr::Identifier(i) => keys.push(i.value.clone()),
            other => {
                ck.error(
                    Some(b.t.at(other.span())),
                    "not supported yet: grouping by an expression",
                    "group by columns; compute the expression in a subquery first",
                );
                return None;
            }
        }
    }
    Some((keys, start && end))
}

/// Reads the SELECT (and HAVING) of an aggregation grouped by `keys`.
fn analyse(
    ck: &mut Checker,
    b: &Builder<'_>,
    sel: &Select,
    keys: Vec<String>,
    window: bool,
) -> Option<Aggregation> {
    let mut a = Aggregation {
        keys,
        slots: Vec::new(),
        shown: Vec::new(),
        out: IndexMap::new(),
        having: None,
        min_max: false,
    };
    // Each aggregate's SQL text and its output column, for HAVING.
    let mut named: Vec<(String, String)> = Vec::new();
    for (i, it) in sel.projection.iter().enumerate() {
        let Some((name, e)) = item(i, it) else {
            ck.error(
                Some(b.t.at(it.span())),
                "not supported yet: `*` in an aggregation",
                "list the grouping columns and the aggregates",
            );
            return None;
        };
        let expr = match e {
            Expr::Identifier(id)
                if (window && (id.value == "window_start" || id.value == "window_end"))
                    || a.keys.contains(&id.value) =>
            {
                id.value.clone()
            }
            Expr::Identifier(id) => {
                ck.error(
                    Some(b.t.at(id.span)),
                    format!("`{}` is neither grouped nor aggregated", id.value),
                    "add it to GROUP BY or aggregate it",
                );
                return None;
            }
            Expr::Function(_) if aggregate_name(e).is_some() => {
                let expr = aggregate(ck, b, e, &mut a)?;
                a.shown.push(format!("{e} AS {name}"));
                named.push((e.to_string(), name.clone()));
                expr
            }
            other => {
                ck.error(
                    Some(b.t.at(other.span())),
                    "not supported yet: an expression over aggregates or grouping columns",
                    "select grouping columns and aggregates as they are (or compute in an outer query)",
                );
                return None;
            }
        };
        a.out.insert(name, expr);
    }
    if a.slots.is_empty() {
        ck.error(
            Some(b.t.at(sel.span())),
            "not supported yet: an aggregation without an aggregate function",
            "add COUNT(*), SUM(x), AVG(x), MIN(x) or MAX(x)",
        );
        return None;
    }
    if let Some(h) = &sel.having {
        let mut text = h.to_string();
        // Longest first, so `COUNT(*)` inside a longer call is not taken apart.
        named.sort_by_key(|(t, _)| std::cmp::Reverse(t.len()));
        for (t, name) in &named {
            text = text.replace(t.as_str(), name);
        }
        let upper = text.to_ascii_uppercase();
        if ["COUNT(", "SUM(", "MIN(", "MAX(", "AVG("]
            .iter()
            .any(|f| upper.contains(f))
        {
            ck.error(
                Some(b.t.at(h.span())),
                "not supported yet: an aggregate in HAVING that the SELECT does not list",
                "select the aggregate too (SELECT …, COUNT(*) AS c … HAVING COUNT(*) > 1)",
            );
            return None;
        }
        a.having = Some(text);
    }
    Some(a)
}

/// One aggregate call: its accumulators pushed onto `a`; gives its output expression.
fn aggregate(ck: &mut Checker, b: &Builder<'_>, e: &Expr, a: &mut Aggregation) -> Option<String> {
    let Expr::Function(f) = e else { return None };
    let func = aggregate_name(e).unwrap_or_default();
    if f.over.is_some() || f.filter.is_some() {
        ck.error(
            Some(b.t.at(e.span())),
            "not supported yet: OVER or FILTER on an aggregate",
            "",
        );
        return None;
    }
    let args: Vec<&FunctionArgExpr> = match &f.args {
        FunctionArguments::List(l) => {
            if l.duplicate_treatment.is_some() {
                ck.error(
                    Some(b.t.at(e.span())),
                    "not supported yet: DISTINCT aggregates",
                    "",
                );
                return None;
            }
            l.args
                .iter()
                .filter_map(|a| match a {
                    FunctionArg::Unnamed(x) => Some(x),
                    _ => None,
                })
                .collect()
        }
        _ => Vec::new(),
    };
    let one = || s(&b.t.at(e.span()), "1");
    let (slots, mm): (Vec<Slot>, bool) = match (func.as_str(), args.as_slice()) {
        // No column is ever NULL here, so COUNT(x) counts every row, as COUNT(*).
        ("COUNT", [FunctionArgExpr::Wildcard | FunctionArgExpr::Expr(_)]) => (
            vec![Slot {
                input: one(),
                fold: Fold::Sum,
            }],
            false,
        ),
        ("SUM" | "MIN" | "MAX" | "AVG", [FunctionArgExpr::Expr(x)]) => {
            let input = b.t.piece(x.span(), x.to_string());
            match func.as_str() {
                "AVG" => (
                    vec![
                        Slot {
                            input,
                            fold: Fold::Sum,
                        },
                        Slot {
                            input: one(),
                            fold: Fold::Sum,
                        },
                    ],
                    false,
                ),
                "SUM" => (
                    vec![Slot {
                        input,
                        fold: Fold::Sum,
                    }],
                    false,
                ),
                "MIN" => (
                    vec![Slot {
                        input,
                        fold: Fold::Min,
                    }],
                    true,
                ),
                _ => (
                    vec![Slot {
                        input,
                        fold: Fold::Max,
                    }],
                    true,
                ),
            }
        }
        ("SUM" | "MIN" | "MAX" | "COUNT" | "AVG", _) => {
            ck.error(
                Some(b.t.at(e.span())),
                format!("{func} takes one argument"),
                "",
            );
            return None;
        }
        _ => {
            ck.error(
                Some(b.t.at(e.span())),
                format!("not supported yet: the aggregate {func}"),
                "COUNT, SUM, AVG, MIN and MAX are",
            );
            return None;
        }
    };
    a.min_max |= mm;
    let first = a.slots.len();
    a.slots.extend(slots);
    Some(if func == "AVG" {
        format!("sql_agg_{first} / sql_agg_{}", first + 1)
    } else {
        format!("sql_agg_{first}")
    })
}

/// The key of the grouping columns: the column, or their values joined.
fn key_expr(keys: &[String]) -> String {
    match keys {
        [k] => k.clone(),
        _ => format!("concat({})", keys.join(", '\u{1f}', ")),
    }
}

/// `select=[a, b AS c]` as the plan shows a select list.
fn shown(fields: &IndexMap<String, TSpanned<String>>) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            if k == v.get_ref() {
                k.clone()
            } else {
                format!("{} AS {k}", v.get_ref())
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// WHERE and each row's contribution to the accumulators (Flink's `Calc` under an
/// aggregation): a `filter` and a `map` named `pre`.
fn pre_calc(
    b: &mut Builder<'_>,
    sel: &Select,
    pre: IndexMap<String, TSpanned<String>>,
    plan: &mut Vec<SqlPlanNode>,
) {
    let mut ops = Vec::new();
    let mut parts = vec![format!("select=[{}]", shown(&pre))];
    if let Some(w) = &sel.selection {
        let text = w.to_string();
        let piece = b.t.piece(w.span(), text.clone());
        let op = b.push("where", "filter");
        op.where_ = Some(piece);
        ops.push(format!("filter {}", b.last));
        parts.push(format!("where=[{text}]"));
    }
    let span = b.span.clone();
    let op = b.push("pre", "map");
    op.select = Some(TSpanned::new(span, pre));
    ops.push(format!("map {}", b.last));
    plan.push(SqlPlanNode {
        relational: format!("Calc({})", parts.join(", ")),
        operators: ops,
    });
}

/// The SELECT's columns in order (a `map` named `calc`) and HAVING (a `filter` named
/// `having`): Flink's `Calc` above the aggregation.
fn post_calc(
    b: &mut Builder<'_>,
    cols: IndexMap<String, TSpanned<String>>,
    having: Option<&String>,
    note: &str,
    plan: &mut Vec<SqlPlanNode>,
) {
    let span = b.span.clone();
    let names = cols.keys().cloned().collect::<Vec<_>>().join(", ");
    let mut ops = Vec::new();
    let mut ins = Vec::new();
    // A changelog's first column: the rows are made by a flat_map before the map.
    if let Some(first) = b.operators.last()
        && first.kind.get_ref() == "flat_map"
    {
        ins.push(format!("flat_map {}", b.last));
    }
    let op = b.push("calc", "map");
    op.select = Some(TSpanned::new(span.clone(), cols));
    ops.push(format!("map {}", b.last));
    let mut where_ = String::new();
    if let Some(h) = having {
        let op = b.push("having", "filter");
        op.where_ = Some(s(&span, h.clone()));
        ops.push(format!("filter {}", b.last));
        where_ = format!(", where=[{h}]");
    }
    ins.extend(ops);
    plan.push(SqlPlanNode {
        relational: format!("Calc(select=[{names}]{where_}){note}"),
        operators: ins,
    });
}

/// How each accumulator folds a new row into the previous value (`acc.`).
fn fold_rule(f: &str, fold: Fold) -> String {
    match fold {
        Fold::Min => format!("CASE WHEN {f} < acc.{f} THEN {f} ELSE acc.{f} END"),
        Fold::Max => format!("CASE WHEN {f} > acc.{f} THEN {f} ELSE acc.{f} END"),
        Fold::Sum => format!("acc.{f} + {f}"),
    }
}

/// A window aggregation: Flink's `WindowAggregate` → `map` (each aggregate's input),
/// `key_by`, `window` (one reduce folding every aggregate), `map` (the SELECT's columns in
/// order) and, with HAVING, a `filter`.
pub(super) fn window_aggregate(
    ck: &mut Checker,
    b: &mut Builder<'_>,
    sel: &Select,
    group_by: &[&Expr],
    tvf: &Tvf,
    plan: &mut Vec<SqlPlanNode>,
) -> Option<()> {
    let (keys, bounds) = grouping(ck, b, group_by, true)?;
    if !bounds {
        ck.error(
            Some(b.t.at(sel.span())),
            "a window aggregation groups by window_start and window_end",
            "write GROUP BY window_start, window_end[, key, …]",
        );
        return None;
    }
    if let TvfShape::Session { partition, .. } = &tvf.shape
        && !partition.is_empty()
        && partition != &keys
    {
        ck.error(
            Some(b.t.at(sel.span())),
            format!(
                "not supported yet: a SESSION window partitioned by {} grouped by other columns",
                partition.join(", ")
            ),
            "group by window_start, window_end and the PARTITION BY columns",
        );
        return None;
    }
    let a = analyse(ck, b, sel, keys, true)?;
    let span = b.span.clone();
    let mut pre = IndexMap::new();
    for k in &a.keys {
        pre.insert(k.clone(), s(&span, k.clone()));
    }
    for (i, sl) in a.slots.iter().enumerate() {
        pre.insert(format!("sql_agg_{i}"), sl.input.clone());
    }
    pre_calc(b, sel, pre, plan);
    let mut ops = Vec::new();
    if !a.keys.is_empty() {
        let op = b.push("key_by", "key_by");
        op.key = Some(s(&span, key_expr(&a.keys)));
        ops.push(format!("key_by {}", b.last));
    }
    let mut fold = IndexMap::new();
    for (i, sl) in a.slots.iter().enumerate() {
        let f = format!("sql_agg_{i}");
        fold.insert(f.clone(), s(&span, fold_rule(&f, sl.fold)));
    }
    let op = b.push("window", "window");
    op.window = Some(TSpanned::new(span.clone(), tvf.raw_window(&span)));
    op.function = Some(s(&span, "expr"));
    op.select = Some(TSpanned::new(span.clone(), fold));
    ops.push(format!("window {}", b.last));
    let keys = a.keys.join(", ");
    plan.push(SqlPlanNode {
        relational: format!(
            "WindowAggregate(groupBy=[{keys}], window=[{}], select=[{}{}, start('w$) AS window_start, end('w$) AS window_end])",
            tvf.describe(),
            if keys.is_empty() { String::new() } else { format!("{keys}, ") },
            a.shown.join(", ")
        ),
        operators: ops,
    });
    let cols = a
        .out
        .iter()
        .map(|(k, v)| (k.clone(), s(&span, v.clone())))
        .collect();
    post_calc(b, cols, a.having.as_ref(), "", plan);
    Some(())
}

/// A `GROUP BY` without a window: Flink's `GroupAggregate`, whose result is an updating
/// table. Each input row changes its key's aggregates; the change goes out as Flink's
/// changelog in a first column `op` — `+I` for a key's first row, then `-U` (the old row)
/// and `+U` (the new one), and `-D` (the old row) when retractions empty a key. Nothing goes
/// out when the aggregates did not change (Flink's `GroupAggFunction` skips an unchanged
/// result).
///
/// Over an append-only input (`updating` false): a `map` (each aggregate's input, a copy for
/// the previous value, a first-row flag), `key_by`, a rolling `reduce` keeping the previous
/// and the new aggregates, a `filter` (unchanged results), a `flat_map` (one row per row
/// kind) and a `map` (the columns, old or new values by row kind).
///
/// Over an updating input (another GROUP BY's changelog, `op` in its first column): each
/// row counts `+1` (`+I`, `+U`) or `−1` (`-U`, `-D`) — Flink's accumulate and retract — and
/// the reduce keeps the key's row count, as Flink's `count1`: a key whose count drops to 0 is
/// deleted (`-D`) and starts again with `+I`. `MIN` and `MAX` cannot retract a row without
/// keeping every value, so they are refused there.
pub(super) fn group_aggregate(
    ck: &mut Checker,
    b: &mut Builder<'_>,
    sel: &Select,
    group_by: &[&Expr],
    updating: bool,
    plan: &mut Vec<SqlPlanNode>,
) -> Option<()> {
    let (keys, _) = grouping(ck, b, group_by, false)?;
    let a = analyse(ck, b, sel, keys, false)?;
    let keys = a.keys.join(", ");
    let relational = format!(
        "GroupAggregate(groupBy=[{keys}], select=[{keys}, {}])",
        a.shown.join(", ")
    );
    if let (name, Some(at)) = &b.sink {
        ck.error(
            Some(at.clone()),
            format!(
                "Table sink 'default_catalog.default_database.{name}' doesn't support consuming update changes which is produced by node {relational}"
            ),
            "a GROUP BY without a window updates its rows; an append-only sink takes inserts only — aggregate over a window TVF, or drop `append_only`",
        );
        return None;
    }
    if updating && a.min_max {
        ck.error(
            Some(b.t.at(sel.span())),
            "not supported yet: MIN and MAX over an updating input (retracting a row needs every value kept)",
            "use COUNT, SUM or AVG over a subquery's GROUP BY",
        );
        return None;
    }
    let span = b.span.clone();
    let sign = "CASE WHEN op = '-U' OR op = '-D' THEN -1 ELSE 1 END";
    let mut pre = IndexMap::new();
    for k in &a.keys {
        pre.insert(k.clone(), s(&span, k.clone()));
    }
    for (i, sl) in a.slots.iter().enumerate() {
        let input = sl.input.get_ref();
        if updating {
            pre.insert(
                format!("sql_agg_{i}"),
                s(&span, format!("({sign}) * ({input})")),
            );
            pre.insert(format!("sql_prev_{i}"), s(&span, format!("0 * ({input})")));
        } else {
            pre.insert(format!("sql_agg_{i}"), sl.input.clone());
            pre.insert(format!("sql_prev_{i}"), sl.input.clone());
        }
    }
    if updating {
        pre.insert("sql_n".into(), s(&span, sign));
        pre.insert("sql_prev_n".into(), s(&span, "0"));
    } else {
        pre.insert("sql_first".into(), s(&span, "true"));
    }
    pre_calc(b, sel, pre, plan);
    let mut ops = Vec::new();
    let op = b.push("key_by", "key_by");
    op.key = Some(s(&span, key_expr(&a.keys)));
    ops.push(format!("key_by {}", b.last));
    let mut fold = IndexMap::new();
    let mut changed = vec![if updating {
        "sql_prev_n = 0 OR sql_n = 0".to_string()
    } else {
        "sql_first".to_string()
    }];
    for (i, sl) in a.slots.iter().enumerate() {
        let f = format!("sql_agg_{i}");
        fold.insert(f.clone(), s(&span, fold_rule(&f, sl.fold)));
        fold.insert(format!("sql_prev_{i}"), s(&span, format!("acc.{f}")));
        changed.push(format!("{f} <> sql_prev_{i}"));
    }
    if updating {
        fold.insert("sql_n".into(), s(&span, "acc.sql_n + sql_n"));
        fold.insert("sql_prev_n".into(), s(&span, "acc.sql_n"));
    } else {
        fold.insert("sql_first".into(), s(&span, "false"));
    }
    let op = b.push("reduce", "reduce");
    op.function = Some(s(&span, "expr"));
    op.select = Some(TSpanned::new(span.clone(), fold));
    ops.push(format!("reduce {}", b.last));
    let op = b.push("changed", "filter");
    op.where_ = Some(s(&span, changed.join(" OR ")));
    ops.push(format!("filter {}", b.last));
    plan.push(SqlPlanNode {
        relational,
        operators: ops,
    });
    // One row per row kind, then the columns: a retraction (-U, -D) shows the old values.
    let (kinds_expr, old) = if updating {
        (
            "split(CASE WHEN sql_prev_n = 0 THEN '+I' WHEN sql_n = 0 THEN '-D' ELSE '-U,+U' END, ',')",
            "op = '-U' OR op = '-D'",
        )
    } else {
        (
            "split(CASE WHEN sql_first THEN '+I' ELSE '-U,+U' END, ',')",
            "op = '-U'",
        )
    };
    let mut kinds = IndexMap::new();
    kinds.insert("op".to_string(), s(&span, kinds_expr));
    let mut cols = IndexMap::new();
    cols.insert("op".to_string(), s(&span, "op"));
    // The fields the columns read, in their order, then every accumulator's old value.
    let mut fields: Vec<String> = Vec::new();
    for e in a.out.values() {
        for w in e.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            if (a.keys.iter().any(|k| k == w) || w.starts_with("sql_agg_"))
                && !fields.iter().any(|f| f == w)
            {
                fields.push(w.to_string());
            }
        }
    }
    for k in &a.keys {
        if !fields.contains(k) {
            fields.push(k.clone());
        }
    }
    for f in fields {
        kinds.insert(f.clone(), s(&span, f));
    }
    for i in 0..a.slots.len() {
        kinds.insert(format!("sql_prev_{i}"), s(&span, format!("sql_prev_{i}")));
    }
    for (name, e) in &a.out {
        let col = if e.contains("sql_agg_") {
            format!(
                "CASE WHEN {old} THEN {} ELSE {e} END",
                e.replace("sql_agg_", "sql_prev_")
            )
        } else {
            e.clone()
        };
        cols.insert(name.clone(), s(&span, col));
    }
    let op = b.push("changelog", "flat_map");
    op.select = Some(TSpanned::new(span, kinds));
    let note = if updating {
        " — the changelog: +I, -U and +U, or -D"
    } else {
        " — the changelog: +I, or -U and +U"
    };
    post_calc(b, cols, a.having.as_ref(), note, plan);
    Some(())
}
