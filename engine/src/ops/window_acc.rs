//! What a window accumulates, and the result it emits (for the window operator).

use super::combine::{add, compare, reduce_fields};
use crate::core::time::{EventTime, SimTime};
use crate::core::value::Value;
use crate::expr::Expr;
use crate::expr::eval::EvalCx;
use std::cmp::Ordering;

/// The aggregation of a window.
#[derive(Debug, Clone)]
pub enum WindowAgg {
    /// Sum of a field (Java `long` arithmetic for integers).
    Sum(usize),
    /// Minimum of a field.
    Min(usize),
    /// Maximum of a field.
    Max(usize),
    /// Number of elements.
    Count,
    /// Mean of a field (a float).
    Avg(usize),
    /// A reduce function over `acc.*` and the new record: `(field, expression)`; fields not
    /// listed keep the accumulated value. The result is the reduced record.
    Reduce(Vec<(usize, Expr)>),
}

/// The state of one window.
#[derive(Debug, Clone, PartialEq)]
pub enum Acc {
    /// Sum, min or max so far.
    Value(Value),
    /// Count so far.
    Count(i64),
    /// Sum and count for the mean.
    Avg(f64, i64),
    /// The reduced record.
    Row(Box<[Value]>),
    /// Every element (windows with an evictor), boxed so that the accumulators of the other
    /// windows stay small (with many keys, the window state's size decides how much of it
    /// the cache holds).
    Elements(Box<Elements>),
}

/// The elements of a window with an evictor.
#[derive(Debug, Clone, PartialEq)]
pub struct Elements {
    /// Fields, `arity` per element.
    pub vals: Vec<Value>,
    /// Timestamps, one per element.
    pub tss: Vec<EventTime>,
}

/// A window's state and the creation time of its newest element (for result latency).
#[derive(Debug, Clone, PartialEq)]
pub struct WindowState {
    /// The accumulator.
    pub acc: Acc,
    /// Latest `born` of the elements in it.
    pub max_born: SimTime,
}

impl WindowAgg {
    /// The accumulator of a window's first element.
    pub fn first(&self, row: &[Value], ts: EventTime, keep_elements: bool) -> Acc {
        if keep_elements {
            return Acc::Elements(Box::new(Elements {
                vals: row.to_vec(),
                tss: vec![ts],
            }));
        }
        match self {
            WindowAgg::Sum(i) | WindowAgg::Min(i) | WindowAgg::Max(i) => Acc::Value(row[*i]),
            WindowAgg::Count => Acc::Count(1),
            WindowAgg::Avg(i) => Acc::Avg(row[*i].as_float(), 1),
            WindowAgg::Reduce(_) => Acc::Row(row.into()),
        }
    }

    /// Adds an element. A sum of integers, the commonest window, is added inline; the
    /// rest through [`WindowAgg::add_other`].
    #[inline(always)]
    pub fn add(&self, acc: &mut Acc, row: &[Value], ts: EventTime, ev: &mut EvalCx<'_>) {
        if let (WindowAgg::Sum(i), Acc::Value(Value::Int(v))) = (self, &mut *acc)
            && let Some(Value::Int(x)) = row.get(*i)
        {
            *v = v.wrapping_add(*x);
            return;
        }
        self.add_other(acc, row, ts, ev);
    }

    /// [`WindowAgg::add`] for everything but a sum of integers.
    #[inline(never)]
    fn add_other(&self, acc: &mut Acc, row: &[Value], ts: EventTime, ev: &mut EvalCx<'_>) {
        match (self, acc) {
            (_, Acc::Elements(e)) => {
                e.vals.extend_from_slice(row);
                e.tss.push(ts);
            }
            (WindowAgg::Sum(i), Acc::Value(v)) => *v = add(*v, row[*i]),
            (WindowAgg::Min(i), Acc::Value(v))
                if compare(row[*i], *v, ev.interner) == Ordering::Less =>
            {
                *v = row[*i]
            }
            (WindowAgg::Max(i), Acc::Value(v))
                if compare(row[*i], *v, ev.interner) == Ordering::Greater =>
            {
                *v = row[*i]
            }
            (WindowAgg::Count, Acc::Count(n)) => *n += 1,
            (WindowAgg::Avg(i), Acc::Avg(s, n)) => {
                *s += row[*i].as_float();
                *n += 1;
            }
            (WindowAgg::Reduce(fields), Acc::Row(acc)) => reduce_fields(fields, acc, row, ev),
            _ => {}
        }
    }

    /// Merges the state of another window into `into` (session merges).
    pub fn merge(&self, into: &mut Acc, other: Acc, ev: &mut EvalCx<'_>) {
        match (into, other) {
            (Acc::Elements(e), Acc::Elements(e2)) => {
                let Elements { vals, tss } = *e2;
                e.vals.extend(vals);
                e.tss.extend(tss);
            }
            (Acc::Count(a), Acc::Count(b)) => *a += b,
            (Acc::Avg(s, n), Acc::Avg(s2, n2)) => {
                *s += s2;
                *n += n2;
            }
            (Acc::Row(acc), Acc::Row(other)) => reduce_into_owned(self, acc, &other, ev),
            (Acc::Value(v), Acc::Value(o)) => {
                *v = match self {
                    WindowAgg::Sum(_) => add(*v, o),
                    WindowAgg::Min(_) if compare(o, *v, ev.interner) == Ordering::Less => o,
                    WindowAgg::Max(_) if compare(o, *v, ev.interner) == Ordering::Greater => o,
                    _ => *v,
                }
            }
            _ => {}
        }
    }

    /// The result fields of a window with this state (`arity`: fields per element).
    pub fn result(
        &self,
        acc: &Acc,
        arity: usize,
        keep: Option<&[bool]>,
        ev: &mut EvalCx<'_>,
        out: &mut Vec<Value>,
    ) {
        match acc {
            Acc::Value(v) => out.push(*v),
            Acc::Count(n) => out.push(Value::Int(*n)),
            Acc::Avg(s, n) => out.push(Value::Float(*s / *n as f64)),
            Acc::Row(r) => out.extend_from_slice(r),
            Acc::Elements(e) => {
                let (vals, tss) = (&e.vals, &e.tss);
                // Fold the surviving elements with the incremental aggregation.
                let mut folded: Option<Acc> = None;
                for (k, (row, ts)) in vals.chunks_exact(arity.max(1)).zip(tss).enumerate() {
                    if keep.is_some_and(|kp| !kp[k]) {
                        continue;
                    }
                    match &mut folded {
                        None => folded = Some(self.first(row, *ts, false)),
                        Some(a) => self.add(a, row, *ts, ev),
                    }
                }
                match folded {
                    Some(a) => self.result(&a, arity, None, ev, out),
                    None if matches!(self, WindowAgg::Count) => out.push(Value::Int(0)),
                    None => {}
                }
            }
        }
    }
}

fn reduce_into_owned(agg: &WindowAgg, acc: &mut [Value], other: &[Value], ev: &mut EvalCx<'_>) {
    if let WindowAgg::Reduce(fields) = agg {
        reduce_fields(fields, acc, other, ev);
    }
}
