//! `[[table]]` and `[[query]]`: streaming SQL, translated into the `[[operator]]` and
//! `[[sink]]` tables the rest of the checker already understands — so a query runs on the
//! same operators as a hand-written job and every rule of those operators applies to it.
//!
//! - `[[table]] name = "clicks"`, `watermark = "WATERMARK FOR ts AS ts - INTERVAL '2' SECOND"`:
//!   the source `clicks` seen as a table; the DDL clause makes `ts` its event-time attribute
//!   and gives it Flink SQL's bounded-out-of-orderness watermark, `max(ts) − 2 s`. (The
//!   DataStream strategy emits `max − bound − 1 ms`, so the table's source gets a bound one
//!   millisecond shorter: the same watermark.)
//! - `[[query]] sql = "SELECT … FROM t WHERE …"` → a `filter` (WHERE) and a `map` (the
//!   projection), Flink's `Calc`.
//! - `FROM TABLE(TUMBLE | HOP | CUMULATE | SESSION(…))` with `GROUP BY window_start,
//!   window_end[, keys]` → Flink's `WindowAggregate` ([`aggregate`]): a `map` computing each
//!   aggregate's input, a `key_by`, a `window` whose reduce function folds every aggregate at
//!   once, a `map` putting the columns in the SELECT's order, a `filter` for HAVING.
//! - `GROUP BY keys` without a window → Flink's `GroupAggregate` ([`aggregate`]), an
//!   updating result: the sink gets Flink's changelog row kinds (`+I`, `-U`, `+U`, and `-D`
//!   over a subquery's changelog) in a first column `op`; a sink with `append_only = true`
//!   refuses it with Flink's message.
//! - `FROM a JOIN b ON …` → Flink's `Join` or `IntervalJoin` ([`join`]).
//!
//! - Identical sub-plans of different queries run once, their output feeding every consumer:
//!   Flink's sub-plan reuse ([`reuse`]).
//!
//! Everything else (`OVER`, `ORDER BY`, outer joins, …) is refused with "not supported yet:
//! …" at its place in the file.
//!
//! This file holds the query's frame — the table, the statement, the SELECT, the window TVFs,
//! `Calc` — and about 500 lines of tests; aggregations and joins have modules of their own.

mod aggregate;
mod join;
mod reuse;

use super::checker::Checker;
use crate::expr::{parser_error, span_to_range};
use crate::scenario::raw::{
    RawOperator, RawQuery, RawScenario, RawSink, RawTable, RawWatermarks, RawWindow,
};
use crate::scenario::sql::{SqlPlan, SqlPlanNode};
use indexmap::IndexMap;
use sqlparser::ast::{
    BinaryOperator, DateTimeField, Expr, FunctionArg, FunctionArgExpr, FunctionArguments,
    GroupByExpr, Query, SelectItem, SetExpr, Spanned as _, Statement, TableFactor, Value,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Span;
use std::ops::Range;
use toml::Spanned as TSpanned;

/// What the translation gives the rest of the check.
pub struct Lowering {
    /// Each query's plan.
    pub plans: Vec<SqlPlan>,
    /// Where each query's SQL is in the file.
    pub spans: Vec<Range<usize>>,
}

/// Reads every `[[table]]` into its source and turns every `[[query]]` into operators and a
/// sink appended to `raw`; gives the queries' plans.
pub fn lower(ck: &mut Checker, raw: &mut RawScenario) -> Lowering {
    let tables = std::mem::take(&mut raw.tables);
    for t in &tables {
        table(ck, raw, t.get_ref());
    }
    let queries = std::mem::take(&mut raw.queries);
    let mut plans = Vec::new();
    let spans = queries.iter().map(|q| q.get_ref().sql.span()).collect();
    let sql_from = raw.operators.len();
    for q in &queries {
        if let Some(l) = query(ck, raw, q.get_ref()) {
            raw.operators.extend(
                l.operators
                    .into_iter()
                    .map(|o| TSpanned::new(l.span.clone(), o)),
            );
            raw.sinks.push(TSpanned::new(l.span.clone(), l.sink));
            plans.push(l.plan);
        }
    }
    reuse::reuse_subplans(&mut raw.operators, sql_from, &mut raw.sinks, &mut plans);
    Lowering { plans, spans }
}

/// Drops the errors a mistake inside a query's SQL causes further down its operators (they
/// point at the whole SQL string, the place of what streamlab wrote, not what the student
/// did): the mistake itself, inside the string, is the one to read.
pub fn drop_cascades(ck: &mut Checker, spans: &[Range<usize>]) {
    let items = &mut ck.diags.items;
    let inside = |r: &Range<usize>, q: &Range<usize>| {
        r.start >= q.start && r.end <= q.end && !(r.start == q.start && r.end == q.end)
    };
    let whole = |r: &Range<usize>, q: &Range<usize>| r.start == q.start && r.end == q.end;
    let noisy: Vec<&Range<usize>> = spans
        .iter()
        .filter(|q| {
            items
                .iter()
                .any(|d| d.span.as_ref().is_some_and(|r| inside(r, q)))
        })
        .collect();
    items.retain(|d| {
        !d.span
            .as_ref()
            .is_some_and(|r| noisy.iter().any(|q| whole(r, q)))
    });
}

/// Where the text of a SQL string is in the file: positions inside the SQL map onto the file
/// when the TOML string holds no escapes (what is written is what sqlparser reads);
/// otherwise every error points at the start of the string.
struct Text<'a> {
    sql: &'a str,
    start: usize,
    exact: bool,
}

impl<'a> Text<'a> {
    fn of(ck: &Checker, s: &'a TSpanned<String>) -> Text<'a> {
        let start = ck.offset_of(s);
        let file = &ck.diags.file.text;
        let sql = s.get_ref().as_str();
        let exact = file.get(start..start + sql.len()) == Some(sql);
        Text { sql, start, exact }
    }

    /// The file range of a byte range of the SQL text.
    fn range(&self, r: Range<usize>) -> Range<usize> {
        if self.exact {
            self.start + r.start..self.start + r.end.max(r.start + 1)
        } else {
            self.start..self.start + 1
        }
    }

    /// The file range of a sqlparser span.
    fn at(&self, span: Span) -> Range<usize> {
        self.range(span_to_range(self.sql, span))
    }

    /// The SQL text of a span, and a TOML string of it pointing at that text in the file (or
    /// at `fallback` when the span is unknown).
    fn piece(&self, span: Span, text: String) -> TSpanned<String> {
        let r = span_to_range(self.sql, span);
        if self.exact && self.sql.get(r.clone()) == Some(text.as_str()) {
            TSpanned::new(self.range(r), text)
        } else {
            TSpanned::new(self.range(r.start..r.start), text)
        }
    }
}

/// A string value at `span` in the file.
fn s(span: &Range<usize>, v: impl Into<String>) -> TSpanned<String> {
    TSpanned::new(span.clone(), v.into())
}

/// The `[[source]]` names, for an error naming an unknown table: `a, b`.
fn source_names(raw: &RawScenario) -> String {
    let names: Vec<&str> = raw
        .sources
        .iter()
        .map(|s| s.get_ref().name.get_ref().as_str())
        .collect();
    names.join(", ")
}

/// `[[table]]`: finds the source and gives it the DDL's event-time attribute and watermark.
fn table(ck: &mut Checker, raw: &mut RawScenario, t: &RawTable) {
    let name = t.name.get_ref();
    let Some(src) = raw
        .sources
        .iter_mut()
        .find(|s| s.get_ref().name.get_ref() == name)
    else {
        let known = source_names(raw);
        ck.error(
            Some(t.name.span()),
            format!("table `{name}` names no [[source]]"),
            format!("a table is a source seen from SQL; sources: {known}"),
        );
        return;
    };
    let Some(w) = &t.watermark else { return };
    let Some((column, bound_ms)) = watermark(ck, w) else {
        return;
    };
    let src = src.get_mut();
    if let Some(ts) = &src.timestamp
        && ts.get_ref() != &column
    {
        ck.error(
            Some(w.span()),
            format!(
                "the watermark is for `{column}`, but source `{name}` takes its timestamps from `{}`",
                ts.get_ref()
            ),
            "the event-time attribute is the source's `timestamp` field",
        );
        return;
    }
    if let Some(ws) = &src.watermarks {
        ck.error(
            Some(ws.span()),
            format!("source `{name}` has `watermarks` and table `{name}` a WATERMARK clause"),
            "declare the watermark once: remove one of them",
        );
        return;
    }
    let span = w.span();
    src.timestamp = Some(s(&span, column));
    src.watermarks = Some(TSpanned::new(
        span.clone(),
        RawWatermarks {
            strategy: s(&span, "bounded"),
            max_out_of_orderness: Some(s(&span, format!("{} ms", bound_ms - 1))),
            emit: None,
            interval: None,
            idleness: None,
            alignment_group: None,
            max_drift: None,
        },
    ));
}

/// `WATERMARK FOR ts AS ts - INTERVAL '2' SECOND`: the column and the bound in ms (≥ 1).
fn watermark(ck: &mut Checker, w: &TSpanned<String>) -> Option<(String, i64)> {
    let t = Text::of(ck, w);
    let words: Vec<(usize, &str)> = t
        .sql
        .split_whitespace()
        .map(|p| (p.as_ptr() as usize - t.sql.as_ptr() as usize, p))
        .collect();
    let expected = "WATERMARK FOR <column> AS <column> - INTERVAL '<n>' SECOND";
    let ok = words.len() >= 5
        && words[0].1.eq_ignore_ascii_case("WATERMARK")
        && words[1].1.eq_ignore_ascii_case("FOR")
        && words[3].1.eq_ignore_ascii_case("AS");
    if !ok {
        ck.error(
            Some(t.range(0..t.sql.len())),
            "malformed WATERMARK clause",
            format!("expected {expected}"),
        );
        return None;
    }
    let column = words[2].1.to_string();
    let at = words[4].0;
    let body = &t.sql[at..];
    let expr = match Parser::new(&GenericDialect {})
        .try_with_sql(body)
        .and_then(|mut p| p.parse_expr())
    {
        Ok(e) => e,
        Err(e) => {
            let e = parser_error(body, &e.to_string());
            ck.error(
                Some(t.range(at + e.span.start..at + e.span.end)),
                e.message,
                format!("expected {expected}"),
            );
            return None;
        }
    };
    let span = t.range(at..t.sql.len());
    match &expr {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Minus,
            right,
        } if matches!(&**left, Expr::Identifier(i) if i.value == column) => {
            let Expr::Interval(_) = &**right else {
                ck.error(
                    Some(span),
                    "the watermark subtracts an INTERVAL from the column",
                    format!("expected {expected}"),
                );
                return None;
            };
            let ms = interval_ms(right).map_err(|m| {
                ck.error(Some(span.clone()), m, "e.g. INTERVAL '2' SECOND");
            });
            let ms = ms.ok()?;
            if ms < 1 {
                ck.error(
                    Some(span),
                    "not supported yet: a watermark bound under 1 ms",
                    "write at least INTERVAL '0.001' SECOND",
                );
                return None;
            }
            Some((column, ms))
        }
        Expr::Identifier(i) if i.value == column => {
            ck.error(
                Some(span),
                "not supported yet: a watermark equal to the timestamp (`AS ts`, ascending timestamps)",
                "write `ts - INTERVAL '0.001' SECOND`: a watermark 1 ms behind",
            );
            None
        }
        _ => {
            ck.error(
                Some(span),
                format!("not supported yet: this watermark expression; streamlab reads `{column} - INTERVAL '<n>' <unit>`"),
                format!("expected {expected}"),
            );
            None
        }
    }
}

/// An `INTERVAL 'n' UNIT` in milliseconds.
fn interval_ms(e: &Expr) -> Result<i64, String> {
    let Expr::Interval(i) = e else {
        return Err("expected an INTERVAL such as INTERVAL '5' SECOND".into());
    };
    let n: f64 = match &*i.value {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::Number(s, _) => s
                .trim()
                .parse()
                .map_err(|_| format!("`{s}` is not a number of time units"))?,
            _ => return Err("the INTERVAL's value is a number in quotes: '5'".into()),
        },
        _ => return Err("the INTERVAL's value is a number in quotes: '5'".into()),
    };
    let unit = match &i.leading_field {
        Some(DateTimeField::Second | DateTimeField::Seconds) => 1_000.0,
        Some(DateTimeField::Minute | DateTimeField::Minutes) => 60_000.0,
        Some(DateTimeField::Hour | DateTimeField::Hours) => 3_600_000.0,
        Some(DateTimeField::Day | DateTimeField::Days) => 86_400_000.0,
        _ => return Err("the INTERVAL needs a unit: SECOND, MINUTE, HOUR or DAY".into()),
    };
    let ms = n * unit;
    if !(0.0..=1e15).contains(&ms) || ms.fract() != 0.0 {
        return Err(format!(
            "the INTERVAL must be a whole number of milliseconds from 0, found {ms} ms"
        ));
    }
    Ok(ms as i64)
}

/// What one query became.
struct Lowered {
    span: Range<usize>,
    operators: Vec<RawOperator>,
    sink: RawSink,
    plan: SqlPlan,
}

/// A window table-valued function.
struct Tvf {
    table: String,
    table_span: Span,
    time_col: String,
    shape: TvfShape,
}

/// The windows a window TVF makes, in milliseconds.
enum TvfShape {
    /// `TUMBLE(…, size)`.
    Tumble { size: i64 },
    /// `HOP(…, slide, size)`.
    Hop { slide: i64, size: i64 },
    /// `CUMULATE(…, step, size)`.
    Cumulate { step: i64, size: i64 },
    /// `SESSION(TABLE t [PARTITION BY k], …, gap)`: the partition key columns and the gap.
    Session { partition: Vec<String>, gap: i64 },
}

impl Tvf {
    fn describe(&self) -> String {
        let t = &self.time_col;
        match &self.shape {
            TvfShape::Tumble { size } => format!("TUMBLE(time_col=[{t}], size=[{}])", ms(*size)),
            TvfShape::Hop { slide, size } => format!(
                "HOP(time_col=[{t}], size=[{}], slide=[{}])",
                ms(*size),
                ms(*slide)
            ),
            TvfShape::Cumulate { step, size } => format!(
                "CUMULATE(time_col=[{t}], max_size=[{}], step=[{}])",
                ms(*size),
                ms(*step)
            ),
            TvfShape::Session { partition, gap } => format!(
                "SESSION(time_col=[{t}], gap=[{}]{})",
                ms(*gap),
                if partition.is_empty() {
                    String::new()
                } else {
                    format!(", partition keys=[{}]", partition.join(", "))
                }
            ),
        }
    }

    /// The `window = { … }` table of the window operator that runs it.
    fn raw_window(&self, span: &Range<usize>) -> RawWindow {
        let dur = |v: i64| {
            Some(TSpanned::new(
                span.clone(),
                toml::Value::String(format!("{v} ms")),
            ))
        };
        let (kind, size, slide, gap) = match &self.shape {
            TvfShape::Tumble { size } => ("tumbling", dur(*size), None, None),
            TvfShape::Hop { slide, size } => ("sliding", dur(*size), dur(*slide), None),
            TvfShape::Cumulate { step, size } => ("cumulate", dur(*size), dur(*step), None),
            TvfShape::Session { gap, .. } => {
                ("session", None, None, Some(s(span, format!("{gap} ms"))))
            }
        };
        RawWindow {
            kind: s(span, kind),
            size,
            slide,
            offset: None,
            gap,
            gap_expr: None,
        }
    }
}

fn ms(v: i64) -> String {
    if v % 1000 == 0 {
        format!("{} s", v / 1000)
    } else {
        format!("{v} ms")
    }
}

/// The query's pieces as the translation needs them.
struct Builder<'a> {
    t: Text<'a>,
    /// The sink's name, and where `append_only = true` is written.
    sink: (String, Option<Range<usize>>),
    q: String,
    span: Range<usize>,
    operators: Vec<RawOperator>,
    last: String,
    /// The partition keys of a `SESSION` TVF's `PARTITION BY`.
    partition: Vec<String>,
}

impl Builder<'_> {
    /// Appends an operator reading the last one; gives it to fill in.
    fn push(&mut self, suffix: &str, kind: &str) -> &mut RawOperator {
        let name = format!("{}.{suffix}", self.q);
        let op = operator(&self.span, &name, kind, &self.last);
        self.last = name;
        self.operators.push(op);
        self.operators.last_mut().expect("just pushed")
    }
}

/// `[[query]]`.
fn query(ck: &mut Checker, raw: &RawScenario, q: &RawQuery) -> Option<Lowered> {
    let text = Text::of(ck, &q.sql);
    // Flink writes a window TVF's table argument as `TABLE t`, which sqlparser does not read:
    // blank the keyword out (same length, so positions stay).
    let (blanked, partition) = blank_table_args(text.sql);
    let stmts = match Parser::parse_sql(&GenericDialect {}, &blanked) {
        Ok(s) => s,
        Err(e) => {
            let e = parser_error(&blanked, &e.to_string());
            ck.error(
                Some(text.range(e.span.clone())),
                e.message.replace("malformed expression", "malformed SQL"),
                "",
            );
            return None;
        }
    };
    let whole = text.range(0..text.sql.len());
    let [stmt] = stmts.as_slice() else {
        ck.error(
            Some(whole),
            "a [[query]] holds one SQL statement",
            "write one SELECT (or INSERT INTO … SELECT) per [[query]]",
        );
        return None;
    };
    let (insert_into, query) = match stmt {
        Statement::Query(q) => (None, &**q),
        Statement::Insert(i) => match &i.source {
            Some(src) => (Some(i.table.to_string()), &**src),
            None => {
                ck.error(
                    Some(whole),
                    "not supported yet: INSERT without a SELECT",
                    "",
                );
                return None;
            }
        },
        other => {
            ck.error(
                Some(text.at(other.span())),
                "not supported yet: statements other than SELECT and INSERT INTO … SELECT",
                "tables are declared with [[table]], not CREATE TABLE",
            );
            return None;
        }
    };
    let sink_name = match (&q.sink, insert_into) {
        (Some(s), Some(i)) if s.get_ref() != &i => {
            ck.error(
                Some(s.span()),
                format!(
                    "the query inserts into `{i}` but `sink` says `{}`",
                    s.get_ref()
                ),
                "give the sink's name once",
            );
            return None;
        }
        (Some(s), _) => s.get_ref().clone(),
        (None, Some(i)) => i,
        (None, None) => q.name.get_ref().clone(),
    };
    let text = Text {
        sql: &blanked,
        ..text
    };
    let append_only = q
        .append_only
        .as_ref()
        .filter(|a| *a.get_ref())
        .map(|a| a.span());
    let mut b = Builder {
        sink: (sink_name.clone(), append_only),
        t: text,
        q: q.name.get_ref().clone(),
        span: q.sql.span(),
        operators: Vec::new(),
        last: String::new(),
        partition,
    };
    let (mut plan, _) = select(ck, raw, &mut b, query)?;
    plan.reverse();
    let sink_span = q.name.span();
    plan.insert(
        0,
        SqlPlanNode {
            relational: format!("Sink(table=[{sink_name}])"),
            operators: vec![format!("sink {sink_name}")],
        },
    );
    Some(Lowered {
        span: b.span.clone(),
        sink: RawSink {
            name: s(&sink_span, sink_name),
            kind: None,
            input: s(&sink_span, b.last.clone()),
            parallelism: None,
            chaining: None,
            start_new_chain: None,
            slot_sharing_group: None,
            partitioner: None,
            cost: None,
            key: None,
            capture: q.capture.clone(),
            guarantee: None,
            transaction_timeout: None,
            transaction_max_timeout: None,
        },
        operators: b.operators,
        plan: SqlPlan {
            query: q.name.get_ref().clone(),
            nodes: plan,
        },
    })
}

/// `TUMBLE(TABLE t, …` → `TUMBLE(      t, …`; and Flink 2's `SESSION(TABLE t PARTITION BY
/// k, …` → `SESSION(      t               , …` with the partition keys (`k`, or `(k1, k2)`)
/// given back. Same length, so positions stay.
fn blank_table_args(sql: &str) -> (String, Vec<String>) {
    let mut out = sql.to_string();
    let mut partition = Vec::new();
    let upper = sql.to_ascii_uppercase();
    for f in ["TUMBLE", "HOP", "CUMULATE", "SESSION"] {
        let mut from = 0;
        while let Some(i) = upper[from..].find(f) {
            let after = from + i + f.len();
            let rest = &upper[after..];
            let open = rest.len() - rest.trim_start().len();
            if rest[open..].starts_with('(') {
                let inner = &rest[open + 1..];
                let ws = inner.len() - inner.trim_start().len();
                let at = after + open + 1 + ws;
                if upper[at..].starts_with("TABLE")
                    && upper[at + 5..].starts_with(|c: char| c.is_whitespace())
                {
                    out.replace_range(at..at + 5, "     ");
                    if f == "SESSION"
                        && let Some((range, keys)) = partition_by(&upper, sql, at + 5)
                    {
                        out.replace_range(range.clone(), &" ".repeat(range.len()));
                        partition = keys;
                    }
                }
            }
            from = after;
        }
    }
    (out, partition)
}

/// After `TABLE` at `at`: ` t PARTITION BY k` or ` t PARTITION BY (k1, k2)` — the range of
/// `PARTITION BY …` and the key columns.
fn partition_by(upper: &str, sql: &str, at: usize) -> Option<(Range<usize>, Vec<String>)> {
    let rest = &upper[at..];
    let name_start = at + (rest.len() - rest.trim_start().len());
    let name_len = upper[name_start..]
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(upper.len() - name_start);
    let after_name = name_start + name_len;
    let tail = &upper[after_name..];
    let p = after_name + (tail.len() - tail.trim_start().len());
    if !upper[p..].starts_with("PARTITION") {
        return None;
    }
    let by = p + "PARTITION".len();
    let t = &upper[by..];
    let b = by + (t.len() - t.trim_start().len());
    if !upper[b..].starts_with("BY") {
        return None;
    }
    let k = b + 2;
    let t = &upper[k..];
    let k = k + (t.len() - t.trim_start().len());
    let (end, list) = if upper[k..].starts_with('(') {
        let close = k + upper[k..].find(')')?;
        (close + 1, &sql[k + 1..close])
    } else {
        let end = k + upper[k..].find([',', ')']).unwrap_or(upper.len() - k);
        (end, &sql[k..end])
    };
    let keys: Vec<String> = list
        .split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect();
    Some((p..end, keys))
}

/// The SELECT: its operators pushed onto `b`; its plan bottom-up, and whether its result is
/// updating (a changelog with the row kind in a first column `op`).
fn select(
    ck: &mut Checker,
    raw: &RawScenario,
    b: &mut Builder<'_>,
    query: &Query,
) -> Option<(Vec<SqlPlanNode>, bool)> {
    let unsupported = |ck: &mut Checker, span: Span, what: &str| {
        ck.error(
            Some(b.t.at(span)),
            format!("not supported yet: {what}"),
            "streamlab's SQL reads SELECT … FROM t [WHERE …] and window aggregations; see docs/sql.md",
        );
    };
    if let Some(w) = &query.with {
        unsupported(ck, w.span(), "WITH");
        return None;
    }
    if let Some(o) = &query.order_by {
        unsupported(ck, o.span(), "ORDER BY");
        return None;
    }
    if let Some(l) = &query.limit_clause {
        unsupported(ck, l.span(), "LIMIT");
        return None;
    }
    let sel = match &*query.body {
        SetExpr::Select(s) => s,
        other => {
            unsupported(
                ck,
                other.span(),
                "UNION, INTERSECT, EXCEPT, VALUES and subqueries",
            );
            return None;
        }
    };
    if sel.distinct.is_some() {
        unsupported(ck, sel.span(), "SELECT DISTINCT");
        return None;
    }
    if let Some(h) = &sel.having
        && sel.group_by == GroupByExpr::Expressions(Vec::new(), Vec::new())
    {
        unsupported(ck, h.span(), "HAVING without GROUP BY");
        return None;
    }
    let [from] = sel.from.as_slice() else {
        unsupported(
            ck,
            sel.span(),
            if sel.from.is_empty() {
                "a SELECT without FROM"
            } else {
                "joins (FROM a, b)"
            },
        );
        return None;
    };
    if !from.joins.is_empty() {
        let mut plan = Vec::new();
        join::join(ck, raw, b, sel, from, &mut plan)?;
        return Some((plan, false));
    }
    let group_by: Vec<&Expr> = match &sel.group_by {
        GroupByExpr::Expressions(e, m) if m.is_empty() => e.iter().collect(),
        other => {
            unsupported(ck, sel.span(), &format!("GROUP BY {other}"));
            return None;
        }
    };
    let (table_name, table_span, tvf) = match &from.relation {
        TableFactor::Table {
            name, args: None, ..
        } => (name.to_string(), name.span(), None),
        TableFactor::TableFunction { expr, .. } => {
            let tvf = window_tvf(ck, b, expr)?;
            (tvf.table.clone(), tvf.table_span, Some(tvf))
        }
        TableFactor::Derived { subquery, .. } => {
            // A subquery in FROM: its operators first (named `<query>.in.…`), then this
            // SELECT over its rows.
            let inner_name = format!("{}.in", b.q);
            let outer = std::mem::replace(&mut b.q, inner_name);
            let inner = select(ck, raw, b, subquery);
            b.q = outer;
            let (mut plan, updating) = inner?;
            if !group_by.is_empty() {
                aggregate::group_aggregate(ck, b, sel, &group_by, updating, &mut plan)?;
                return Some((plan, true));
            }
            calc(
                ck,
                b,
                sel.selection.as_ref(),
                &sel.projection,
                updating,
                &mut plan,
            )?;
            return Some((plan, updating));
        }
        other => {
            unsupported(ck, other.span(), "this FROM clause (UNNEST, …)");
            return None;
        }
    };
    let mut plan = Vec::new();
    let rowtime = scan(ck, raw, b, &table_name, table_span, &mut plan)?;
    let updating = match tvf {
        None => {
            if !group_by.is_empty() {
                aggregate::group_aggregate(ck, b, sel, &group_by, false, &mut plan)?;
                true
            } else {
                calc(
                    ck,
                    b,
                    sel.selection.as_ref(),
                    &sel.projection,
                    false,
                    &mut plan,
                )?;
                false
            }
        }
        Some(tvf) => {
            if rowtime.as_deref() != Some(tvf.time_col.as_str()) {
                ck.error(
                    Some(b.t.at(table_span)),
                    format!(
                        "`{}` is not a time attribute of table `{table_name}`",
                        tvf.time_col
                    ),
                    "declare it: [[table]] name = \"…\", watermark = \"WATERMARK FOR ts AS ts - INTERVAL '2' SECOND\"",
                );
                return None;
            }
            aggregate::window_aggregate(ck, b, sel, &group_by, &tvf, &mut plan)?;
            false
        }
    };
    Some((plan, updating))
}

/// A table's scan: its source and, with a `[[table]]` WATERMARK, its watermark assigner
/// (plan nodes bottom-up); gives its rowtime column.
fn scan(
    ck: &mut Checker,
    raw: &RawScenario,
    b: &mut Builder<'_>,
    table_name: &str,
    table_span: Span,
    plan: &mut Vec<SqlPlanNode>,
) -> Option<Option<String>> {
    let Some(src) = raw
        .sources
        .iter()
        .find(|s| s.get_ref().name.get_ref() == table_name)
    else {
        let known = source_names(raw);
        ck.error(
            Some(b.t.at(table_span)),
            format!("unknown table `{table_name}`"),
            format!("tables are the [[source]] names: {known}"),
        );
        return None;
    };
    let src = src.get_ref();
    let rowtime = src.timestamp.as_ref().map(|t| t.get_ref().clone());
    b.last = table_name.to_string();
    plan.push(SqlPlanNode {
        relational: format!("TableSourceScan(table=[[{table_name}]])"),
        operators: vec![format!("source {table_name}")],
    });
    if let (Some(ts), Some(w)) = (&rowtime, &src.watermarks) {
        // A [[table]]'s bound is one millisecond shorter than the SQL one (see `table`).
        let sql_bound = w
            .get_ref()
            .max_out_of_orderness
            .as_ref()
            .and_then(|m| m.get_ref().strip_suffix(" ms")?.parse::<i64>().ok())
            .map(|b| format!("{ts} - {}", ms(b + 1)));
        plan.push(SqlPlanNode {
            relational: format!(
                "WatermarkAssigner(rowtime=[{ts}], watermark=[{}])",
                sql_bound.unwrap_or_else(|| "the source's watermarks".into())
            ),
            operators: vec![format!(
                "source {table_name}: timestamp = \"{ts}\", watermarks"
            )],
        });
    }
    Some(rowtime)
}

/// `TUMBLE(t, DESCRIPTOR(ts), size)` or `HOP(t, DESCRIPTOR(ts), slide, size)`.
fn window_tvf(ck: &mut Checker, b: &Builder<'_>, expr: &Expr) -> Option<Tvf> {
    let Expr::Function(f) = expr else {
        ck.error(
            Some(b.t.at(expr.span())),
            "not supported yet: this table function",
            "expected TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '5' SECOND)",
        );
        return None;
    };
    let name = f.name.to_string().to_ascii_uppercase();
    let (arity, usage) = match name.as_str() {
        "TUMBLE" => (3, "TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '5' SECOND)"),
        "HOP" => (
            4,
            "HOP(TABLE t, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '6' SECOND) — slide, then size",
        ),
        "CUMULATE" => (
            4,
            "CUMULATE(TABLE t, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '6' SECOND) — step, then max size",
        ),
        "SESSION" => (
            3,
            "SESSION(TABLE t PARTITION BY k, DESCRIPTOR(ts), INTERVAL '5' SECOND) — the gap",
        ),
        _ => {
            ck.error(
                Some(b.t.at(f.name.span())),
                format!("unknown table function `{}`", f.name),
                "expected TUMBLE, HOP, CUMULATE or SESSION",
            );
            return None;
        }
    };
    let args: Vec<&Expr> = match &f.args {
        FunctionArguments::List(l) => l
            .args
            .iter()
            .filter_map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let arg_count = match &f.args {
        FunctionArguments::List(l) => l.args.len(),
        _ => 0,
    };
    if args.len() != arity || arg_count != arity {
        ck.error(
            Some(b.t.at(f.span())),
            format!("{name} takes {arity} arguments"),
            format!("expected {usage}"),
        );
        return None;
    }
    let Expr::Identifier(table) = args[0] else {
        ck.error(
            Some(b.t.at(args[0].span())),
            "the first argument is the table: TABLE t",
            format!("expected {usage}"),
        );
        return None;
    };
    let time_col = match args[1] {
        Expr::Function(d) if d.name.to_string().eq_ignore_ascii_case("DESCRIPTOR") => {
            match &d.args {
                FunctionArguments::List(l) => match l.args.as_slice() {
                    [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Identifier(c)))] => {
                        Some(c.value.clone())
                    }
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
    };
    let Some(time_col) = time_col else {
        ck.error(
            Some(b.t.at(args[1].span())),
            "the second argument names the time attribute: DESCRIPTOR(ts)",
            format!("expected {usage}"),
        );
        return None;
    };
    let mut durations = Vec::new();
    for a in &args[2..] {
        match interval_ms(a) {
            Ok(v) if v > 0 => durations.push(v),
            Ok(_) => {
                ck.error(
                    Some(b.t.at(a.span())),
                    "a window's size and slide are longer than 0",
                    "",
                );
                return None;
            }
            Err(m) => {
                ck.error(Some(b.t.at(a.span())), m, format!("expected {usage}"));
                return None;
            }
        }
    }
    let shape = match (name.as_str(), durations.as_slice()) {
        ("TUMBLE", [size]) => TvfShape::Tumble { size: *size },
        ("HOP", [slide, size]) => TvfShape::Hop {
            slide: *slide,
            size: *size,
        },
        ("CUMULATE", [step, size]) => {
            if size % step != 0 {
                ck.error(
                    Some(b.t.at(f.span())),
                    format!("CUMULATE table function based aggregate requires maxSize must be an integral multiple of step, but got maxSize {size} ms and step {step} ms"),
                    format!("expected {usage}"),
                );
                return None;
            }
            TvfShape::Cumulate {
                step: *step,
                size: *size,
            }
        }
        ("SESSION", [gap]) => TvfShape::Session {
            partition: b.partition.clone(),
            gap: *gap,
        },
        _ => return None,
    };
    Some(Tvf {
        table: table.value.clone(),
        table_span: table.span,
        time_col,
        shape,
    })
}

/// The output name of a select item: its alias, a column's name, or Flink's `EXPR$i`.
fn item(i: usize, it: &SelectItem) -> Option<(String, &Expr)> {
    match it {
        SelectItem::UnnamedExpr(e) => Some((
            match e {
                Expr::Identifier(id) => id.value.clone(),
                _ => format!("EXPR${i}"),
            },
            e,
        )),
        SelectItem::ExprWithAlias { expr, alias } => Some((alias.value.clone(), expr)),
        _ => None,
    }
}

/// WHERE and the projection: Flink's `Calc` → a `filter` and a `map`.
fn calc(
    ck: &mut Checker,
    b: &mut Builder<'_>,
    selection: Option<&Expr>,
    projection: &[SelectItem],
    updating: bool,
    plan: &mut Vec<SqlPlanNode>,
) -> Option<()> {
    let mut ops = Vec::new();
    let mut parts = Vec::new();
    if let Some(w) = selection {
        let text = w.to_string();
        let piece = b.t.piece(w.span(), text.clone());
        let op = b.push("where", "filter");
        op.where_ = Some(piece);
        ops.push(format!("filter {}", b.last));
        parts.push(format!("where=[{text}]"));
    }
    let star = matches!(projection, [SelectItem::Wildcard(_)]);
    if !star {
        let mut select = IndexMap::new();
        // Over a changelog each row keeps its row kind (Flink's Calc passes it on).
        if updating {
            select.insert("op".to_string(), s(&b.span, "op"));
        }
        for (i, it) in projection.iter().enumerate() {
            let Some((name, e)) = item(i, it) else {
                ck.error(
                    Some(b.t.at(it.span())),
                    "not supported yet: `*` next to other columns, or a qualified `t.*`",
                    "write SELECT * alone, or list the columns",
                );
                return None;
            };
            if let Expr::Function(f) = e
                && f.over.is_some()
            {
                ck.error(
                    Some(b.t.at(e.span())),
                    "not supported yet: OVER windows (and Top-N with ROW_NUMBER)",
                    "",
                );
                return None;
            }
            if let Some(agg) = aggregate_name(e) {
                ck.error(
                    Some(b.t.at(e.span())),
                    format!("not supported yet: {agg} without a window TVF (Flink's GroupAggregate, an updating result)"),
                    "aggregate over FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY window_start, window_end",
                );
                return None;
            }
            let t = e.to_string();
            select.insert(name, b.t.piece(e.span(), t));
        }
        parts.insert(
            0,
            format!(
                "select=[{}]",
                select
                    .iter()
                    .map(|(k, v)| if k == v.get_ref() {
                        k.clone()
                    } else {
                        format!("{} AS {k}", v.get_ref())
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        let span = b.span.clone();
        let op = b.push("calc", "map");
        op.select = Some(TSpanned::new(span, select));
        ops.push(format!("map {}", b.last));
    }
    if !ops.is_empty() {
        plan.push(SqlPlanNode {
            relational: format!("Calc({})", parts.join(", ")),
            operators: ops,
        });
    }
    Some(())
}

/// The aggregate function an expression calls, upper-case.
fn aggregate_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Function(f) => {
            let n = f.name.to_string().to_ascii_uppercase();
            matches!(
                n.as_str(),
                "COUNT" | "SUM" | "MIN" | "MAX" | "AVG" | "LISTAGG" | "STDDEV" | "VARIANCE"
            )
            .then_some(n)
        }
        _ => None,
    }
}

/// An `[[operator]]` table with nothing but its name, kind and input.
fn operator(span: &Range<usize>, name: &str, kind: &str, input: &str) -> RawOperator {
    RawOperator {
        name: s(span, name),
        kind: s(span, kind),
        input: Some(s(span, input)),
        inputs: None,
        parallelism: None,
        chaining: None,
        start_new_chain: None,
        slot_sharing_group: None,
        partitioner: None,
        cost: None,
        select: None,
        where_: None,
        key: None,
        function: None,
        field: None,
        window: None,
        time: None,
        allowed_lateness: None,
        late_output: None,
        trigger: None,
        evictor: None,
        as_: None,
        map1: None,
        map2: None,
        lower: None,
        upper: None,
        is_start: None,
        timeout: None,
        side_output: None,
        pattern: None,
        skip: None,
        within: None,
    }
}

#[cfg(test)]
mod tests {
    use super::blank_table_args;
    use crate::check::testing::{errors, parsed};
    use crate::scenario::NodeKind;

    const CLICKS: &str = "[[source]]\nname = \"clicks\"\nkind = \"inline\"\nevents = [{ k = \"a\", n = 1, ts = 1000 }, { k = \"b\", n = 4, ts = 2000 }]\n";
    const TABLE: &str = "[[table]]\nname = \"clicks\"\nwatermark = \"WATERMARK FOR ts AS ts - INTERVAL '2' SECOND\"\n";

    fn query(sql: &str) -> String {
        format!("{CLICKS}{TABLE}[[query]]\nname = \"q\"\nsql = \"{sql}\"\n")
    }

    /// The nodes a valid scenario became: `name kind (schema)`, one a line.
    fn nodes(text: &str) -> String {
        let s = parsed(text).unwrap_or_else(|e| panic!("{e}"));
        s.nodes
            .iter()
            .map(|n| {
                let kind = match &n.kind {
                    NodeKind::Source(_) => "source",
                    NodeKind::Map { .. } => "map",
                    NodeKind::Filter { .. } => "filter",
                    NodeKind::KeyBy { .. } => "key_by",
                    NodeKind::Window(_) => "window",
                    NodeKind::Sink(..) => "sink",
                    _ => "other",
                };
                format!("{} {kind} {}", n.name, n.schema)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_projection_with_a_filter_becomes_a_filter_and_a_map() {
        assert_eq!(
            nodes(&query(
                "SELECT k, n * 10 AS points, n + 1 FROM clicks WHERE n > 2"
            )),
            "clicks source (k: string, n: int, ts: int)\n\
             q.where filter (k: string, n: int, ts: int)\n\
             q.calc map (k: string, points: int, EXPR$2: int)\n\
             q sink (k: string, points: int, EXPR$2: int)"
        );
        // SELECT * needs no map; INSERT INTO names the sink.
        assert_eq!(
            nodes(&query("INSERT INTO out SELECT * FROM clicks")),
            "clicks source (k: string, n: int, ts: int)\nout sink (k: string, n: int, ts: int)"
        );
    }

    #[test]
    fn a_tumble_aggregation_becomes_map_key_by_window_map() {
        let text = query(
            "SELECT window_start, window_end, k, COUNT(*) AS c, SUM(n) AS s, MIN(n) AS lo FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY window_start, window_end, k",
        );
        assert_eq!(
            nodes(&text),
            "clicks source (k: string, n: int, ts: int)\n\
             q.pre map (k: string, sql_agg_0: int, sql_agg_1: int, sql_agg_2: int)\n\
             q.key_by key_by (k: string, sql_agg_0: int, sql_agg_1: int, sql_agg_2: int)\n\
             q.window window (window_start: int, window_end: int, k: string, sql_agg_0: int, sql_agg_1: int, sql_agg_2: int)\n\
             q.calc map (window_start: int, window_end: int, k: string, c: int, s: int, lo: int)\n\
             q sink (window_start: int, window_end: int, k: string, c: int, s: int, lo: int)"
        );
        let s = parsed(&text).unwrap();
        let plan = s.sql[0].render();
        for line in [
            "Sink(table=[q])",
            "Calc(select=[window_start, window_end, k, c, s, lo])",
            "WindowAggregate(groupBy=[k], window=[TUMBLE(time_col=[ts], size=[5 s])]",
            "⇒ key_by q.key_by, window q.window",
            "WatermarkAssigner(rowtime=[ts], watermark=[ts - 2 s])",
            "TableSourceScan(table=[[clicks]])",
        ] {
            assert!(plan.contains(line), "{line} not in\n{plan}");
        }
        match &s.nodes[3].kind {
            NodeKind::Window(w) => assert_eq!(
                w.assigner,
                crate::flink::window::Assigner::Tumbling {
                    size: 5_000,
                    offset: 0
                }
            ),
            _ => panic!("not a window"),
        }
    }

    /// The assigner of a query's window operator.
    fn assigner(sql: &str) -> crate::flink::window::Assigner {
        let s = parsed(&query(sql)).unwrap_or_else(|e| panic!("{e}"));
        s.nodes
            .iter()
            .find_map(|n| match &n.kind {
                NodeKind::Window(w) => Some(w.assigner.clone()),
                _ => None,
            })
            .expect("a window operator")
    }

    #[test]
    fn cumulate_and_session_run_on_their_window_assigners() {
        use crate::flink::window::Assigner;
        assert_eq!(
            assigner(
                "SELECT window_start, window_end, k, SUM(n) AS s FROM TABLE(CUMULATE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' SECOND, INTERVAL '3' SECOND)) GROUP BY window_start, window_end, k"
            ),
            Assigner::Cumulative {
                size: 3_000,
                step: 1_000,
                offset: 0
            }
        );
        let session = "SELECT window_start, window_end, k, COUNT(*) AS c FROM TABLE(SESSION(TABLE clicks PARTITION BY k, DESCRIPTOR(ts), INTERVAL '2' SECOND)) GROUP BY window_start, window_end, k";
        assert_eq!(
            assigner(session),
            Assigner::Session {
                gap: 2_000,
                dynamic: false
            }
        );
        let plan = parsed(&query(session)).unwrap().sql[0].render();
        assert!(
            plan.contains("SESSION(time_col=[ts], gap=[2 s], partition keys=[k])"),
            "{plan}"
        );
        let e = errors(&query(
            "SELECT window_start, window_end, n, COUNT(*) AS c FROM TABLE(SESSION(TABLE clicks PARTITION BY k, DESCRIPTOR(ts), INTERVAL '2' SECOND)) GROUP BY window_start, window_end, n",
        ));
        assert!(
            e.contains("a SESSION window partitioned by k grouped by other columns"),
            "{e}"
        );
    }

    #[test]
    fn the_ddl_watermark_is_flink_sqls_bound_on_the_source() {
        let s = parsed(&query("SELECT * FROM clicks")).unwrap();
        let NodeKind::Source(src) = &s.nodes[0].kind else {
            panic!("not a source")
        };
        // Flink SQL's watermark is max(ts) − 2 s; DataStream's bounded strategy subtracts
        // one more millisecond, so the source's bound is 1 999 ms.
        let w = src.watermarks.as_ref().expect("watermarks");
        assert_eq!(w.strategy.bound_ms, Some(1_999));
    }

    #[test]
    fn a_group_by_without_a_window_becomes_a_changelog() {
        assert_eq!(
            nodes(&query("SELECT k, SUM(n) AS s FROM clicks GROUP BY k")),
            "clicks source (k: string, n: int, ts: int)\n\
             q.pre map (k: string, sql_agg_0: int, sql_prev_0: int, sql_first: bool)\n\
             q.key_by key_by (k: string, sql_agg_0: int, sql_prev_0: int, sql_first: bool)\n\
             q.reduce other (k: string, sql_agg_0: int, sql_prev_0: int, sql_first: bool)\n\
             q.changed filter (k: string, sql_agg_0: int, sql_prev_0: int, sql_first: bool)\n\
             q.changelog other (op: string, k: string, sql_agg_0: int, sql_prev_0: int)\n\
             q.calc map (op: string, k: string, s: int)\n\
             q sink (op: string, k: string, s: int)"
        );
        let s = parsed(&query("SELECT k, SUM(n) AS s FROM clicks GROUP BY k")).unwrap();
        assert!(
            s.sql[0]
                .render()
                .contains("GroupAggregate(groupBy=[k], select=[k, SUM(n) AS s])"),
            "{}",
            s.sql[0].render()
        );
    }

    #[test]
    fn avg_having_and_several_keys() {
        let text = query(
            "SELECT k, ts, AVG(n) AS a, COUNT(*) AS c FROM clicks GROUP BY k, ts HAVING COUNT(*) > 1",
        );
        let s = parsed(&text).unwrap_or_else(|e| panic!("{e}"));
        let by = |name: &str| s.nodes.iter().find(|n| n.name == name).unwrap();
        assert_eq!(
            by("q.calc").schema.to_string(),
            "(op: string, k: string, ts: int, a: int, c: int)"
        );
        match &by("q.key_by").kind {
            NodeKind::KeyBy { key } => assert_eq!(key.text, "concat(k, '\u{1f}', ts)"),
            _ => panic!("not a key_by"),
        }
        assert!(matches!(by("q.having").kind, NodeKind::Filter { .. }));
        let plan = s.sql[0].render();
        assert!(
            plan.contains(
                "GroupAggregate(groupBy=[k, ts], select=[k, ts, AVG(n) AS a, COUNT(*) AS c])"
            ),
            "{plan}"
        );
        assert!(plan.contains("where=[c > 1]"), "{plan}");
    }

    #[test]
    fn an_aggregation_over_an_updating_subquery_retracts() {
        let s = parsed(&query(
            "SELECT c, COUNT(*) AS players FROM (SELECT k, COUNT(*) AS c FROM clicks GROUP BY k) GROUP BY c",
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = s.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "clicks",
                "q.in.pre",
                "q.in.key_by",
                "q.in.reduce",
                "q.in.changed",
                "q.in.changelog",
                "q.in.calc",
                "q.pre",
                "q.key_by",
                "q.reduce",
                "q.changed",
                "q.changelog",
                "q.calc",
                "q"
            ]
        );
        let plan = s.sql[0].render();
        assert!(plan.contains("+I, -U and +U, or -D"), "{plan}");
        assert_eq!(
            s.nodes.last().unwrap().schema.to_string(),
            "(op: string, c: int, players: int)"
        );
    }

    #[test]
    fn joins_become_a_key_by_per_side_and_a_join() {
        let text = query(
            "SELECT a.k, b.n AS m FROM clicks a JOIN clicks b ON a.k = b.k AND a.ts BETWEEN b.ts - INTERVAL '1' SECOND AND b.ts",
        );
        // A self-join's two sides are the same `key_by` of the same table: one node, read
        // twice (sub-plan reuse, see `reuse`).
        assert_eq!(
            nodes(&text),
            "clicks source (k: string, n: int, ts: int)\n\
             q.left key_by (k: string, n: int, ts: int)\n\
             q.join other (k: string, m: int)\n\
             q sink (k: string, m: int)"
        );
        let s = parsed(&text).unwrap();
        let sides: Vec<usize> = s.nodes[2].inputs.iter().map(|i| i.node).collect();
        assert_eq!(sides, [1, 1]);
        match &s.nodes[2].kind {
            // a.ts in [b.ts - 1 s, b.ts] ⇔ b.ts in [a.ts, a.ts + 1 s]
            NodeKind::Join(j) => assert_eq!(
                j.kind,
                crate::scenario::JoinKind::Interval {
                    lower: 0,
                    upper: 1_000
                }
            ),
            _ => panic!("not a join"),
        }
        let s = parsed(&query(
            "SELECT a.k FROM clicks a JOIN clicks b ON a.k = b.k",
        ))
        .unwrap();
        assert!(
            matches!(&s.nodes[2].kind, NodeKind::Join(j) if j.kind == crate::scenario::JoinKind::Regular)
        );
    }

    #[test]
    fn a_hop_is_a_sliding_window() {
        let text = query(
            "SELECT window_start, window_end, MAX(n) AS top FROM TABLE(HOP(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' SECOND, INTERVAL '3' SECOND)) GROUP BY window_start, window_end",
        );
        let s = parsed(&text).unwrap();
        let w = s
            .nodes
            .iter()
            .find_map(|n| match &n.kind {
                NodeKind::Window(w) => Some(w),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            w.assigner,
            crate::flink::window::Assigner::Sliding {
                size: 3_000,
                slide: 1_000,
                offset: 0
            }
        );
        assert!(w.key.is_none(), "no key: Flink's windowAll");
    }

    #[test]
    fn unsupported_sql_is_named_at_its_place() {
        let cases = [
            (
                "SELECT k, COUNT(*) AS c FROM clicks GROUP BY k, n + 1",
                "not supported yet: grouping by an expression",
                "t.toml:10:56",
            ),
            (
                "SELECT a.k FROM clicks a LEFT JOIN clicks b ON a.k = b.k",
                "not supported yet: outer, cross and other joins",
                "t.toml:10:",
            ),
            (
                "SELECT k, ROW_NUMBER() OVER (PARTITION BY k ORDER BY n) FROM clicks",
                "not supported yet: OVER windows",
                "t.toml:10:18",
            ),
            (
                "SELECT window_start, window_end, COUNT(*) AS c FROM TABLE(CUMULATE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '3' SECOND)) GROUP BY window_start, window_end",
                "requires maxSize must be an integral multiple of step",
                "t.toml:10:66",
            ),
            (
                "SELECT k FROM clicks ORDER BY k",
                "not supported yet: ORDER BY",
                "t.toml:10:",
            ),
            (
                "SELECT window_start, window_end, STDDEV(n) AS a FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY window_start, window_end",
                "not supported yet: the aggregate STDDEV",
                "t.toml:10:41",
            ),
            (
                "SELECT c, MAX(c) AS m FROM (SELECT k, COUNT(*) AS c FROM clicks GROUP BY k) GROUP BY c",
                "not supported yet: MIN and MAX over an updating input",
                "t.toml:10:8",
            ),
            (
                "SELECT k, COUNT(*) AS c FROM clicks GROUP BY k HAVING SUM(n) > 2",
                "not supported yet: an aggregate in HAVING that the SELECT does not list",
                "t.toml:10:62",
            ),
        ];
        for (sql, msg, at) in cases {
            let e = errors(&query(sql));
            assert!(e.contains(msg), "{sql}: {e}");
            assert!(e.contains(at), "{sql}: expected at {at}: {e}");
        }
    }

    #[test]
    fn mistakes_point_into_the_sql() {
        let e = errors(&format!(
            "{}append_only = true\n",
            query("SELECT k, COUNT(*) AS c FROM clicks GROUP BY k")
        ));
        assert!(e.contains("Table sink 'default_catalog.default_database.q' doesn't support consuming update changes which is produced by node GroupAggregate(groupBy=[k], select=[k, COUNT(*) AS c])"), "{e}");
        let e = errors(&query("SELECT k, nn FROM clicks"));
        assert!(e.contains("unknown field `nn`"), "{e}");
        assert!(e.contains("t.toml:10:18"), "{e}");
        let e = errors(&query("SELECT k FROM clickz"));
        assert!(e.contains("unknown table `clickz`"), "{e}");
        assert!(e.contains("t.toml:10:22"), "{e}");
        let e = errors(&query("SELECT k FROM"));
        assert!(e.contains("malformed SQL"), "{e}");
        let e = errors(&query(
            "SELECT window_start, window_end, COUNT(*) AS c FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(n), INTERVAL '5' SECOND)) GROUP BY window_start, window_end",
        ));
        assert!(
            e.contains("`n` is not a time attribute of table `clicks`"),
            "{e}"
        );
        let e = errors(&query(
            "SELECT window_start, k, COUNT(*) AS c FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY window_start, k",
        ));
        assert!(e.contains("groups by window_start and window_end"), "{e}");
    }

    #[test]
    fn watermark_clauses_are_checked() {
        let with = |w: &str| {
            errors(&format!(
                "{CLICKS}[[table]]\nname = \"clicks\"\nwatermark = \"{w}\"\n[[query]]\nname = \"q\"\nsql = \"SELECT * FROM clicks\"\n"
            ))
        };
        assert!(with("WATERMARK ts").contains("malformed WATERMARK clause"));
        assert!(
            with("WATERMARK FOR ts AS ts")
                .contains("not supported yet: a watermark equal to the timestamp")
        );
        assert!(
            with("WATERMARK FOR ts AS ts - INTERVAL '2' FORTNIGHT").contains("malformed")
                || with("WATERMARK FOR ts AS ts - INTERVAL '2' FORTNIGHT").contains("unit")
        );
        let e = errors(&format!(
            "{CLICKS}[[table]]\nname = \"clickz\"\n[[sink]]\nname = \"o\"\ninput = \"clicks\"\n"
        ));
        assert!(e.contains("table `clickz` names no [[source]]"), "{e}");
    }

    #[test]
    fn the_table_keyword_of_a_tvf_is_blanked_in_place() {
        let s = "FROM TABLE(TUMBLE( TABLE t, DESCRIPTOR(ts))) JOIN TABLE x";
        let (b, _) = blank_table_args(s);
        assert_eq!(
            b,
            "FROM TABLE(TUMBLE(       t, DESCRIPTOR(ts))) JOIN TABLE x"
        );
        assert_eq!(b.len(), s.len());
        let s = "TABLE(SESSION(TABLE t PARTITION BY k, DESCRIPTOR(ts), g))";
        let (b, keys) = blank_table_args(s);
        assert_eq!(
            b,
            "TABLE(SESSION(      t               , DESCRIPTOR(ts), g))"
        );
        assert_eq!(keys, vec!["k".to_string()]);
        let s = "SESSION(TABLE t PARTITION BY (a, b), DESCRIPTOR(ts), g)";
        let (b, keys) = blank_table_args(s);
        assert_eq!(b.len(), s.len());
        assert_eq!(keys, vec!["a".to_string(), "b".to_string()]);
    }
}
