//! `FROM a JOIN b ON a.k = b.k [AND a.ts BETWEEN b.ts - INTERVAL … AND b.ts + INTERVAL …]`:
//! Flink's `Join` (a regular inner join) or `IntervalJoin`, lowered onto a `key_by` per side
//! and a `join` or an `interval_join` operator whose `select` holds the SELECT's columns
//! over `left.*` and `right.*`.
//!
//! A regular join keeps every row of both sides forever (Flink's state without a TTL): its
//! state grows with the input and shows in the report as the operator's buffered rows. An
//! interval join keeps a row only while rows of the other side can still match it, and
//! drops rows behind the watermark. Both emit inserts only here, as Flink does for an inner
//! join of two append-only tables.

use super::{Builder, scan};
use crate::check::checker::Checker;
use crate::scenario::raw::RawScenario;
use crate::scenario::sql::SqlPlanNode;
use indexmap::IndexMap;
use sqlparser::ast::{
    BinaryOperator, Expr, JoinConstraint, JoinOperator, Select, SelectItem, Spanned as _,
    TableFactor, TableWithJoins,
};
use toml::Spanned as TSpanned;

/// One side of the join: its table, the name SQL calls it by, its columns and rowtime.
struct Side {
    table: String,
    alias: String,
    columns: Vec<String>,
    rowtime: Option<String>,
}

/// Lowers a join; gives its plan nodes bottom-up.
pub(super) fn join(
    ck: &mut Checker,
    raw: &RawScenario,
    b: &mut Builder<'_>,
    sel: &Select,
    from: &TableWithJoins,
    plan: &mut Vec<SqlPlanNode>,
) -> Option<()> {
    let unsupported = |ck: &mut Checker, b: &Builder<'_>, span, what: &str, help: &str| {
        ck.error(
            Some(b.t.at(span)),
            format!("not supported yet: {what}"),
            help,
        );
    };
    let [j] = from.joins.as_slice() else {
        unsupported(ck, b, from.span(), "joins of more than two tables", "");
        return None;
    };
    let on = match &j.join_operator {
        JoinOperator::Join(JoinConstraint::On(e)) | JoinOperator::Inner(JoinConstraint::On(e)) => e,
        _ => {
            unsupported(
                ck,
                b,
                j.span(),
                "outer, cross and other joins",
                "streamlab joins with [INNER] JOIN … ON a.k = b.k",
            );
            return None;
        }
    };
    if let Some(w) = &sel.selection {
        unsupported(
            ck,
            b,
            w.span(),
            "WHERE on a join",
            "put the condition in ON",
        );
        return None;
    }
    if !matches!(&sel.group_by, sqlparser::ast::GroupByExpr::Expressions(e, _) if e.is_empty()) {
        unsupported(ck, b, sel.span(), "GROUP BY over a join", "");
        return None;
    }
    let mut sides = Vec::new();
    for rel in [&from.relation, &j.relation] {
        let TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } = rel
        else {
            unsupported(ck, b, rel.span(), "joining anything but two tables", "");
            return None;
        };
        let table = name.to_string();
        let src = raw
            .sources
            .iter()
            .find(|s| s.get_ref().name.get_ref() == &table);
        let columns = src.map_or_else(Vec::new, |s| source_columns(s.get_ref()));
        sides.push(Side {
            alias: alias
                .as_ref()
                .map_or(table.clone(), |a| a.name.value.clone()),
            rowtime: src.and_then(|s| s.get_ref().timestamp.as_ref().map(|t| t.get_ref().clone())),
            table,
            columns,
        });
        let mut side_plan = Vec::new();
        scan(
            ck,
            raw,
            b,
            &sides.last()?.table,
            name.span(),
            &mut side_plan,
        )?;
        plan.push(SqlPlanNode {
            relational: side_plan
                .iter()
                .map(|n| n.relational.clone())
                .collect::<Vec<_>>()
                .join(" ← "),
            operators: side_plan.into_iter().flat_map(|n| n.operators).collect(),
        });
    }
    // The ON clause: key equalities and at most one time interval.
    let mut conjuncts = Vec::new();
    split_and(on, &mut conjuncts);
    let (mut lkeys, mut rkeys) = (Vec::new(), Vec::new());
    let mut bounds = None;
    for c in conjuncts {
        if let Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } = c
            && let (Some((Some(ls), lc)), Some((Some(rs), rc))) =
                (one_side(&sides, left), one_side(&sides, right))
            && ls != rs
        {
            let (l, r) = if ls == 0 { (lc, rc) } else { (rc, lc) };
            lkeys.push(l);
            rkeys.push(r);
            continue;
        }
        if let Some(bd) = interval(ck, b, &sides, c) {
            if bounds.is_some() {
                unsupported(ck, b, c.span(), "two time conditions", "write one BETWEEN");
                return None;
            }
            bounds = Some(bd?);
            continue;
        }
        unsupported(
            ck,
            b,
            c.span(),
            "this join condition",
            "streamlab joins ON a.k = b.k [AND a.ts BETWEEN b.ts - INTERVAL '1' SECOND AND b.ts + INTERVAL '1' SECOND]",
        );
        return None;
    }
    if lkeys.is_empty() {
        unsupported(
            ck,
            b,
            on.span(),
            "a join without an equality of the two tables' columns",
            "join ON a.k = b.k",
        );
        return None;
    }
    // The output columns over `left.*` and `right.*`.
    let span = b.span.clone();
    let mut select: IndexMap<String, TSpanned<String>> = IndexMap::new();
    for (i, it) in sel.projection.iter().enumerate() {
        let (name, e) = match it {
            SelectItem::UnnamedExpr(e) => (
                match e {
                    Expr::Identifier(id) => id.value.clone(),
                    Expr::CompoundIdentifier(p) if p.len() == 2 => p[1].value.clone(),
                    _ => format!("EXPR${i}"),
                },
                e,
            ),
            SelectItem::ExprWithAlias { expr, alias } => (alias.value.clone(), expr),
            other => {
                unsupported(ck, b, other.span(), "`*` in a join", "list the columns");
                return None;
            }
        };
        let text = qualify(ck, b, &sides, e)?;
        // Flink names a second column of the same name `name0`.
        let mut out = name.clone();
        let mut n = 0;
        while select.contains_key(&out) {
            out = format!("{name}{n}");
            n += 1;
        }
        select.insert(out, TSpanned::new(span.clone(), text));
    }
    let key = |keys: &[String]| match keys {
        [k] => k.clone(),
        _ => format!("concat({})", keys.join(", '\u{1f}', ")),
    };
    let mut ops = Vec::new();
    let mut inputs = Vec::new();
    for (side, (keys, suffix)) in sides.iter().zip([(&lkeys, "left"), (&rkeys, "right")]) {
        b.last = side.table.clone();
        let op = b.push(suffix, "key_by");
        op.key = Some(super::s(&span, key(keys)));
        ops.push(format!("key_by {}", b.last));
        inputs.push(super::s(&span, b.last.clone()));
    }
    let shown = select
        .iter()
        .map(|(k, v)| format!("{} AS {k}", v.get_ref()))
        .collect::<Vec<_>>()
        .join(", ");
    let cond = format!(
        "=({}, {})",
        lkeys
            .iter()
            .map(|k| format!("{}.{k}", sides[0].alias))
            .collect::<Vec<_>>()
            .join(", "),
        rkeys
            .iter()
            .map(|k| format!("{}.{k}", sides[1].alias))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let relational = match bounds {
        Some((lower, upper)) => {
            let op = b.push("join", "interval_join");
            op.lower = Some(super::s(&span, format!("{lower} ms")));
            op.upper = Some(super::s(&span, format!("{upper} ms")));
            format!(
                "IntervalJoin(joinType=[InnerJoin], windowBounds=[right.rowtime - left.rowtime in [{lower} ms, {upper} ms]], where=[{cond}], select=[{shown}])"
            )
        }
        None => {
            b.push("join", "join");
            format!(
                "Join(joinType=[InnerJoin], where=[{cond}], select=[{shown}], leftInputSpec=[NoUniqueKey], rightInputSpec=[NoUniqueKey])"
            )
        }
    };
    let name = b.last.clone();
    let op = b.operators.last_mut()?;
    op.input = None;
    op.inputs = Some(TSpanned::new(span.clone(), inputs));
    op.select = Some(TSpanned::new(span, select));
    ops.push(format!("{} {name}", op.kind.get_ref()));
    plan.push(SqlPlanNode {
        relational,
        operators: ops,
    });
    Some(())
}

/// The fields of an inline source's first event (what SQL can name without knowing the
/// checked schema), or none.
fn source_columns(src: &crate::scenario::raw::RawSource) -> Vec<String> {
    src.events
        .as_ref()
        .and_then(|e| e.get_ref().first())
        .map(|t| t.get_ref().keys().cloned().collect())
        .unwrap_or_default()
}

/// `a AND b AND c` → its conjuncts.
fn split_and<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            split_and(left, out);
            split_and(right, out);
        }
        Expr::Nested(x) => split_and(x, out),
        other => out.push(other),
    }
}

/// A column `t.c` (or a bare `c` of one side only): the side (0 left, 1 right) and the column.
fn column(sides: &[Side], e: &Expr) -> Option<(usize, String)> {
    match e {
        Expr::CompoundIdentifier(p) if p.len() == 2 => {
            let side = sides.iter().position(|s| s.alias == p[0].value)?;
            Some((side, p[1].value.clone()))
        }
        Expr::Identifier(id) => {
            let found: Vec<usize> = (0..sides.len())
                .filter(|&i| sides[i].columns.contains(&id.value))
                .collect();
            match found.as_slice() {
                [i] => Some((*i, id.value.clone())),
                _ => None,
            }
        }
        _ => None,
    }
}

/// An expression over the columns of one side (or none: a literal): the side, and the
/// expression over that side's own record (the key a side is keyed by).
fn one_side(sides: &[Side], e: &Expr) -> Option<(Option<usize>, String)> {
    if let Some((s, c)) = column(sides, e) {
        return Some((Some(s), c));
    }
    match e {
        Expr::Value(_) => Some((None, e.to_string())),
        Expr::Nested(x) => one_side(sides, x).map(|(s, t)| (s, format!("({t})"))),
        Expr::BinaryOp { left, op, right } => {
            let (ls, l) = one_side(sides, left)?;
            let (rs, r) = one_side(sides, right)?;
            let side = match (ls, rs) {
                (Some(a), Some(b)) if a != b => return None,
                (a, b) => a.or(b),
            };
            Some((side, format!("{l} {op} {r}")))
        }
        _ => None,
    }
}

/// `x.ts BETWEEN y.ts - INTERVAL … AND y.ts + INTERVAL …` on the two sides' rowtimes: the
/// interval join's bounds (`left.ts + lower <= right.ts <= left.ts + upper`). `None`: not a
/// time condition; `Some(None)`: a mistake, reported.
fn interval(
    ck: &mut Checker,
    b: &Builder<'_>,
    sides: &[Side],
    c: &Expr,
) -> Option<Option<(i64, i64)>> {
    let Expr::Between {
        expr,
        negated: false,
        low,
        high,
    } = c
    else {
        return None;
    };
    let (x, xc) = column(sides, expr)?;
    let offset = |e: &Expr| -> Option<(usize, String, Result<i64, String>)> {
        match e {
            Expr::BinaryOp { left, op, right }
                if matches!(op, BinaryOperator::Plus | BinaryOperator::Minus) =>
            {
                let (s, col) = column(sides, left)?;
                let ms = super::interval_ms(right)
                    .map(|v| if *op == BinaryOperator::Minus { -v } else { v });
                Some((s, col, ms))
            }
            other => column(sides, other).map(|(s, col)| (s, col, Ok(0))),
        }
    };
    let (ls, lc, lo) = offset(low)?;
    let (hs, hc, hi) = offset(high)?;
    let y = 1 - x;
    let is_rowtime = |s: usize, col: &str| sides[s].rowtime.as_deref() == Some(col);
    if ls != y || hs != y || !is_rowtime(x, &xc) || !is_rowtime(y, &lc) || !is_rowtime(y, &hc) {
        ck.error(
            Some(b.t.at(c.span())),
            "an interval join compares the two tables' time attributes",
            "write a.ts BETWEEN b.ts - INTERVAL '1' SECOND AND b.ts + INTERVAL '1' SECOND, with each table's WATERMARK column",
        );
        return Some(None);
    }
    let (lo, hi) = match (lo, hi) {
        (Ok(lo), Ok(hi)) => (lo, hi),
        (Err(m), _) | (_, Err(m)) => {
            ck.error(Some(b.t.at(c.span())), m, "e.g. INTERVAL '2' SECOND");
            return Some(None);
        }
    };
    // x.ts ∈ [y.ts + lo, y.ts + hi]; the bounds are of right.ts − left.ts.
    Some(Some(if x == 0 { (-hi, -lo) } else { (lo, hi) }))
}

/// An expression of the SELECT with each column as `left.c` or `right.c`.
fn qualify(ck: &mut Checker, b: &Builder<'_>, sides: &[Side], e: &Expr) -> Option<String> {
    if let Some((s, c)) = column(sides, e) {
        return Some(format!("{}.{c}", ["left", "right"][s]));
    }
    match e {
        Expr::Identifier(id) => {
            ck.error(
                Some(b.t.at(id.span)),
                format!("column `{}` is not one of one table's", id.value),
                "name it with its table: c.player",
            );
            None
        }
        Expr::CompoundIdentifier(_) => {
            ck.error(
                Some(b.t.at(e.span())),
                format!("unknown column `{}`", e),
                format!(
                    "the tables are {}",
                    sides
                        .iter()
                        .map(|s| s.alias.clone())
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            );
            None
        }
        Expr::BinaryOp { left, op, right } => Some(format!(
            "({} {op} {})",
            qualify(ck, b, sides, left)?,
            qualify(ck, b, sides, right)?
        )),
        Expr::Nested(x) => Some(format!("({})", qualify(ck, b, sides, x)?)),
        Expr::Value(_) => Some(e.to_string()),
        other => {
            ck.error(
                Some(b.t.at(other.span())),
                "not supported yet: this expression in a join's SELECT",
                "select columns, arithmetic over them, or literals",
            );
            None
        }
    }
}
