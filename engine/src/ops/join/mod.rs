//! Joins of two keyed streams, one operator per file:
//!
//! * [`WindowJoinOp`] (`window_join.rs`) — `a.join(b).where(ka).equalTo(kb).window(…)`;
//! * [`IntervalJoinOp`] (`interval_join.rs`) — `a.keyBy(ka).intervalJoin(b.keyBy(kb))`.
//!
//! Both pair records through a [`Pairing`] (keys, output expressions), here.

mod interval_join;
mod window_join;

pub use interval_join::IntervalJoinOp;
pub use window_join::WindowJoinOp;

use super::batch::Batch;
use super::element::RecMeta;
use crate::core::value::Value;
use crate::expr::Expr;
use crate::expr::eval::EvalCx;

pub(super) const NO_TIMESTAMP: &str = "java.lang.RuntimeException: Record has Long.MIN_VALUE timestamp (= no timestamp marker). \
     Is the time characteristic set to 'ProcessingTime', or did you forget to call 'DataStream.assignTimestampsAndWatermarks(...)'?";

/// How a pair becomes an output record.
#[derive(Debug, Clone)]
pub struct Pairing {
    /// Key of the left input.
    pub left_key: Expr,
    /// Key of the right input.
    pub right_key: Expr,
    /// Output expressions over `left.*` and `right.*`; `None`: all fields of both.
    pub select: Option<Vec<Expr>>,
    /// Fields of a left record.
    pub left_arity: usize,
    /// Fields of a right record.
    pub right_arity: usize,
    scratch: Vec<Value>,
}

impl Pairing {
    /// A pairing.
    pub fn new(
        left_key: Expr,
        right_key: Expr,
        select: Option<Vec<Expr>>,
        left_arity: usize,
        right_arity: usize,
    ) -> Self {
        Pairing {
            left_key,
            right_key,
            select,
            left_arity,
            right_arity,
            scratch: Vec::new(),
        }
    }

    pub(super) fn key(&self, input: usize, row: &[Value], ev: &mut EvalCx<'_>) -> Value {
        let k = if input == 0 {
            &self.left_key
        } else {
            &self.right_key
        };
        match k.as_field() {
            Some(i) => row[i],
            None => k.eval(row, &[], ev),
        }
    }

    pub(super) fn emit(
        &mut self,
        l: &[Value],
        r: &[Value],
        meta: RecMeta,
        out: &mut Batch,
        ev: &mut EvalCx<'_>,
    ) {
        self.scratch.clear();
        match &self.select {
            Some(exprs) => {
                for e in exprs {
                    self.scratch.push(e.eval(l, r, ev));
                }
            }
            None => {
                self.scratch.extend_from_slice(l);
                self.scratch.extend_from_slice(r);
            }
        }
        let parent = out.len() as u32;
        out.push(&self.scratch, meta, parent);
    }
}

/// Elements of one side: fields (flat) and metadata.
#[derive(Debug, Default, Clone)]
pub(super) struct Side {
    pub(super) values: Vec<Value>,
    pub(super) meta: Vec<RecMeta>,
}
