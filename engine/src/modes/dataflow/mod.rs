//! The job as the baseline modes run it: the same operator instances as the streaming
//! simulator (built by [`crate::sim::build::build`], one per subtask, with the same per-record
//! costs and the same key-group routing), driven in *passes* instead of by network buffers.
//!
//! A pass runs every logical operator once, in topological order: each subtask takes the
//! records waiting for it, hands them to its operator, and routes what comes out to the
//! subtasks of the next operators. Routing is the streaming engine's: every network edge goes
//! through the [`RecordWriter`] that [`crate::sim::build::build`] made for the sending
//! subtask ([`RecordWriter::select`]: the same partitioner, channels, round-robin start and
//! SHUFFLE seed), and a record reaches the subtask at the other end of the chosen channel
//! after that channel's latency. A pass may first move event time: every event-time operator
//! then fires what the new watermark makes due, after it has processed what its inputs fired.
//! Watermarks come from the sources' own generators ([`crate::flink::watermark::Generator`]), fed
//! with every record a source produces; only *when* the operators see them is the mode's.
//!
//! With [`Dataflow::batch_runtime`] set the operators follow Flink's BATCH runtime mode
//! (`execution.runtime-mode: BATCH`): a keyed rolling reduce is not rolling — it emits one
//! final row per key, in key order, when its input ends (Flink sorts a keyed input by key and
//! keeps no state across keys). Timers fire only at the end of the input: every event-time
//! timer (the watermark jumps to +∞), then every processing-time timer, with the timer
//! service quiesced while the processing-time ones fire (`BatchExecutionInternalTimeService`,
//! which does this at the end of each key: here the keys are not taken one by one, so the
//! timers of all keys fire together, event-time ones first).
//!
//! Timing follows the cost model. Every subtask of a chain is one thread with a `free` time:
//! a record that arrives at `a` starts at `max(a, free)` and takes the operator's per-record
//! cost, plus deserialization when it came over the network and serialization per network
//! output. Records cross a network edge after the channel latency (local or remote, by the
//! TaskManagers of the two subtasks). With [`Exchange::Blocking`] a chain fed over the network
//! starts only when every subtask of its upstream chains has finished the pass — a blocking
//! exchange, stage by stage; with [`Exchange::Pipelined`] each record moves on at once.
//!
//! Sinks do not consume during a pass: what reaches them is kept with its arrival time, and
//! the mode decides when it becomes visible ([`Dataflow::take_sink_arrivals`]).

mod batch_end;
mod build;
mod event_time;
mod pass;
mod routing;
mod source;

pub use source::SourceRt;

use crate::core::time::{EventTime, SimDuration, SimTime};
use crate::core::value::{Interner, Value};
use crate::expr::eval::EvalCx;
use crate::ops::Operator;
use crate::ops::batch::{Batch, View};
use crate::sim::buffer::RecMeta;
use crate::sim::net::RecordWriter;

/// What each sink made visible, as a multiset of record hashes: `(sink name, hash → count)`.
pub type SinkOutputs = Vec<(String, std::collections::BTreeMap<u64, u64>)>;

/// How records cross a network edge within a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exchange {
    /// Each record moves on as soon as it is written (record at a time).
    Pipelined,
    /// The downstream chain starts when its upstream chains have finished (stage by stage).
    Blocking,
}

/// Where an operator's output goes.
struct Route {
    to: usize,
    port: usize,
    /// Over the network: the sending chain's record writer for this edge (its position in
    /// the task's writers). `None`: chained, handed to the same subtask.
    writer: Option<usize>,
}

/// The receiving end of a channel.
#[derive(Debug, Clone, Copy)]
struct ChannelEnd {
    /// Subtask of the receiving operator.
    subtask: usize,
    /// The channel's latency (local or remote).
    latency: SimDuration,
}

/// A keyed reduce's final rows under the BATCH runtime: the latest aggregate of every key.
#[derive(Default)]
struct Finals {
    index: rustc_hash::FxHashMap<Value, usize>,
    rows: Vec<(Value, Vec<Value>, RecMeta)>,
}

/// Records waiting at one input of one subtask, with their arrival times.
struct Pending {
    batch: Batch,
    at: Vec<SimTime>,
}

/// What reached a sink subtask in a pass: records with their arrival times.
pub struct Arrivals {
    /// The records.
    pub batch: Batch,
    /// Arrival time of each.
    pub at: Vec<SimTime>,
}

/// One logical operator with its subtasks.
pub struct NodeRt {
    /// Name.
    pub name: String,
    /// Chain (job vertex) it belongs to.
    pub vertex: usize,
    /// Subtask instances.
    pub inst: Vec<Operator>,
    /// CPU time per input record.
    pub cost: SimDuration,
    outs: Vec<Route>,
    side_outs: Vec<Route>,
    pending: Vec<Vec<Pending>>,
    /// Whether it heads a chain fed over the network (pays deserialization).
    network_in: bool,
    /// Records received, per subtask.
    pub records_in: Vec<u64>,
    /// Records emitted, per subtask.
    pub records_out: Vec<u64>,
    /// Arity of its records and of its side-output records.
    arity: usize,
    side_arity: usize,
    /// Whether it is a sink / a source.
    pub is_sink: bool,
    is_source: bool,
    /// Its input watermark.
    pub watermark: EventTime,
    /// Arrivals at a sink, per subtask.
    arrivals: Vec<Arrivals>,
    /// A keyed reduce under the BATCH runtime: its final rows so far, per subtask.
    finals: Vec<Finals>,
}

/// The job in pass form.
pub struct Dataflow {
    /// By logical node index.
    pub nodes: Vec<NodeRt>,
    /// Logical nodes in topological order.
    pub order: Vec<usize>,
    /// Source subtasks.
    pub sources: Vec<SourceRt>,
    /// When each chain subtask is free: `[vertex][subtask]`.
    pub free: Vec<Vec<SimTime>>,
    /// The record writers of each chain subtask (`[vertex][subtask]`), as the streaming
    /// engine built them.
    writers: Vec<Vec<Vec<RecordWriter>>>,
    /// The receiving end of every channel, by channel id.
    channels: Vec<ChannelEnd>,
    /// Upstream chains of each chain (over network edges).
    upstream: Vec<Vec<usize>>,
    /// The run's strings.
    pub interner: Interner,
    scratch: String,
    /// The first failure (an expression error or an operator that threw).
    pub failure: Option<String>,
    /// Serialization / deserialization cost per record.
    ser: SimDuration,
    deser: SimDuration,
    /// How network edges behave.
    pub exchange: Exchange,
    /// Flink's BATCH runtime mode: keyed reduces emit only their final rows; event-time,
    /// then processing-time timers fire only at the end of the input (see the module
    /// documentation).
    pub batch_runtime: bool,
    /// The latest time any record was done with in the current pass.
    pub pass_done: SimTime,
    /// Records processed by any operator in the current pass.
    pub pass_records: u64,
    /// CPU time spent per chain subtask: `[vertex][subtask]`.
    pub busy: Vec<Vec<SimDuration>>,
    /// When each chain first started a record ([`SimTime::MAX`]: never).
    pub first_start: Vec<SimTime>,
    /// Keep a multiset of what every sink made visible (for correctness checks).
    pub collect: bool,
    /// That multiset, per logical node (empty for non-sinks).
    pub outputs: Vec<std::collections::BTreeMap<u64, u64>>,
    /// Watermark trail: `(processing time, watermark)` whenever the operators' watermark
    /// advanced (a final +∞ is left out).
    pub trail: Vec<(SimTime, EventTime)>,
}

impl Dataflow {
    /// Hands records a source subtask produced to its source operator, arriving at `at`.
    pub fn inject(&mut self, node: usize, subtask: u32, batch: &Batch, at: &[SimTime]) {
        let p = &mut self.nodes[node].pending[subtask as usize][0];
        p.batch.values.extend_from_slice(&batch.values);
        p.batch.meta.extend_from_slice(&batch.meta);
        p.at.extend_from_slice(at);
    }

    /// Whether any operator has records waiting.
    pub fn has_pending(&self) -> bool {
        self.nodes
            .iter()
            .any(|n| n.pending.iter().flatten().any(|p| !p.at.is_empty()))
    }

    /// When the pass's work is all done: the latest `free` time of any chain subtask.
    pub fn all_free(&self) -> SimTime {
        self.free
            .iter()
            .flatten()
            .copied()
            .max()
            .unwrap_or(SimTime::ZERO)
    }

    /// A restart after a crash: every operator but the sources' positions and the sinks (which
    /// stand for external systems) comes back with the fresh state of `fresh`; what was
    /// waiting is lost; every thread is free from `at` on.
    pub fn restart_from(&mut self, fresh: Dataflow, at: SimTime) {
        for (mine, new) in self.nodes.iter_mut().zip(fresh.nodes) {
            if mine.is_sink || mine.is_source {
                continue;
            }
            mine.inst = new.inst;
            mine.finals = new.finals;
            mine.watermark = crate::core::time::EventTime::MIN;
        }
        // restarted tasks get new partitioners, as in the streaming engine
        self.writers = fresh.writers;
        for n in &mut self.nodes {
            for p in n.pending.iter_mut().flatten() {
                p.batch.clear();
                p.at.clear();
            }
        }
        for f in self.free.iter_mut().flatten() {
            *f = (*f).max(at);
        }
    }

    /// Takes what reached every sink subtask since the last call: `(node, subtask, arrivals)`.
    pub fn take_sink_arrivals(&mut self) -> Vec<(usize, usize, Arrivals)> {
        let mut v = Vec::new();
        for (i, nr) in self.nodes.iter_mut().enumerate() {
            if !nr.is_sink {
                continue;
            }
            for (st, a) in nr.arrivals.iter_mut().enumerate() {
                if a.at.is_empty() {
                    continue;
                }
                let arity = a.batch.arity;
                let taken = std::mem::replace(
                    a,
                    Arrivals {
                        batch: Batch::new(arity),
                        at: Vec::new(),
                    },
                );
                v.push((i, st, taken));
            }
        }
        v
    }

    /// A sink subtask makes records visible at time `t` (each at its own time in `ts`).
    pub fn deliver(&mut self, node: usize, st: usize, batch: View<'_>, ts: &[SimTime]) {
        let mut error = None;
        let mut ev = EvalCx {
            interner: &mut self.interner,
            scratch: &mut self.scratch,
            error: &mut error,
        };
        if let Operator::Sink(sk) = &mut self.nodes[node].inst[st] {
            for (i, &t) in ts.iter().enumerate() {
                sk.consume(batch.row(i), batch.meta[i], t, &mut ev);
                if self.collect {
                    let h = crate::ops::sink::row_hash(batch.row(i), ev.interner);
                    *self.outputs[node].entry(h).or_default() += 1;
                }
            }
        }
    }

    /// Arity of a node's records.
    pub fn arity(&self, node: usize) -> usize {
        self.nodes[node].arity
    }

    /// Whether the job has event-time operators.
    pub fn has_event_time(&self) -> bool {
        self.nodes
            .iter()
            .any(|n| n.inst.first().is_some_and(Operator::has_event_time))
    }

    /// Every source subtask is done.
    pub fn sources_done(&self) -> bool {
        self.sources.iter().all(SourceRt::done)
    }

    /// The record meta of a batch's record `i` (for callers outside the module).
    pub fn meta(batch: &Batch, i: usize) -> RecMeta {
        batch.meta[i]
    }
}
