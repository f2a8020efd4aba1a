//! Operators and the chain that runs them.
//!
//! A chain is a list of [`OpSlot`]s in topological order; each slot knows where its output
//! goes — to a chained operator (a direct call, no serialization) or to a network writer.
//! [`push`] hands one record to an operator and, depth first, through everything downstream of
//! it in the chain, exactly like Flink's `ChainingOutput`. Dispatch is a `match` on the
//! [`Operator`] enum: no trait objects, no allocation per record. Each record advances the
//! task's local clock by the operator's CPU cost.

pub mod filter;
pub mod flat_map;
pub mod map;
pub mod reduce;
pub mod sink;

use super::buffer::RecMeta;
use super::net::Net;
use crate::expr::eval::EvalCx;
use crate::time::SimTime;
use crate::value::Value;

/// What an operator in a chain does.
#[derive(Debug)]
pub enum Operator {
    /// A source's head: passes generated records on.
    Source,
    /// `map`
    Map(map::MapOp),
    /// `filter`
    Filter(filter::FilterOp),
    /// `flat_map`
    FlatMap(flat_map::FlatMapOp),
    /// rolling `reduce`
    Reduce(reduce::ReduceOp),
    /// a sink
    Sink(sink::SinkOp),
}

/// Where an operator's output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Out {
    /// A chained operator, `n` slots further down the chain (n ≥ 1).
    Chained(u16),
    /// A network writer of the task.
    Network(u16),
}

/// An operator in its chain, with its counters.
#[derive(Debug)]
pub struct OpSlot {
    /// The operator.
    pub op: Operator,
    /// Its outputs.
    pub outs: Vec<Out>,
    /// CPU time per input record, in nanoseconds.
    pub cost_ns: u64,
    /// Records received.
    pub records_in: u64,
    /// Records emitted.
    pub records_out: u64,
    /// Index of its node in the logical graph.
    pub node: usize,
}

/// What a record needs on its way through a chain.
pub struct Cx<'a> {
    /// The task's local clock, in nanoseconds of processing time.
    pub t: u64,
    /// Expression evaluation context (interner, scratch, error).
    pub ev: EvalCx<'a>,
    /// The task's network output.
    pub net: Net<'a>,
    /// Serialization cost per record per channel, in nanoseconds.
    pub serialize_ns: u64,
}

/// Hands a record to `ops[0]` and through everything downstream of it in the chain.
///
/// The common case — each operator's single output goes to the next operator in the chain —
/// runs as a loop; fan-out (flat_map, several outputs) recurses through [`emit`].
#[inline]
pub fn push<'a>(mut ops: &'a mut [OpSlot], mut row: &'a [Value], meta: RecMeta, cx: &mut Cx<'_>) {
    loop {
        let Some((slot, tail)) = ops.split_first_mut() else { return };
        slot.records_in += 1;
        cx.t += slot.cost_ns;
        let out: &'a [Value] = match &mut slot.op {
            Operator::Source => row,
            Operator::Map(m) => {
                m.apply(row, &mut cx.ev);
                &m.out
            }
            Operator::Filter(f) => {
                if !f.test(row, &mut cx.ev) {
                    return;
                }
                row
            }
            Operator::Reduce(r) => r.apply(row, &mut cx.ev),
            Operator::FlatMap(f) => {
                f.prepare(row, &mut cx.ev);
                match f.split.as_ref().map(|s| s.0) {
                    None => {
                        slot.records_out += 1;
                        emit(&slot.outs, tail, &f.out, meta, cx);
                    }
                    Some(pos) => {
                        for k in 0..f.pieces.len() {
                            f.out[pos] = Value::Str(f.pieces[k]);
                            slot.records_out += 1;
                            emit(&slot.outs, tail, &f.out, meta, cx);
                        }
                    }
                }
                return;
            }
            Operator::Sink(s) => {
                s.consume(row, meta, SimTime(cx.t), &mut cx.ev);
                return;
            }
        };
        slot.records_out += 1;
        if let [Out::Chained(1)] = slot.outs[..] {
            row = out;
            ops = tail;
            continue;
        }
        emit(&slot.outs, tail, out, meta, cx);
        return;
    }
}

#[inline]
fn emit(outs: &[Out], tail: &mut [OpSlot], row: &[Value], meta: RecMeta, cx: &mut Cx<'_>) {
    for o in outs {
        match *o {
            Out::Chained(n) => push(&mut tail[n as usize - 1..], row, meta, cx),
            Out::Network(w) => {
                let w = w as usize;
                cx.t += cx.serialize_ns * cx.net.copies(w);
                cx.net.write(w, row, meta, SimTime(cx.t), &mut cx.ev);
            }
        }
    }
}
