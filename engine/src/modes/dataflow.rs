// Over 800 lines: `Dataflow` is one driver whose pass, routing, event-time and BATCH
// end-of-input steps share its fields; splitting it by step is left open (issue 12).

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

use crate::core::time::{EventTime, SimTime};
use crate::core::value::{Interner, Value};
use crate::expr::eval::EvalCx;
use crate::flink::valve::Valve;
use crate::ops::Operator;
use crate::ops::batch::{Batch, View};
use crate::plan::Plan;
use crate::plan::logical::Port;
use crate::scenario::{NodeKind, Scenario};
use crate::sim::buffer::RecMeta;
use crate::sim::net::RecordWriter;
use crate::sim::source::SourceState;
use petgraph::Direction;
use petgraph::visit::EdgeRef;

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
    /// The channel's latency (local or remote), ns.
    latency_ns: u64,
}

/// A keyed reduce's final rows under the BATCH runtime: the latest aggregate of every key.
#[derive(Default)]
struct Finals {
    index: rustc_hash::FxHashMap<Value, usize>,
    rows: Vec<(Value, Vec<Value>, RecMeta)>,
}

/// Records waiting at one input of one subtask, with their arrival times (ns).
struct Pending {
    batch: Batch,
    at: Vec<u64>,
}

/// What reached a sink subtask in a pass: records with their arrival times.
pub struct Arrivals {
    /// The records.
    pub batch: Batch,
    /// Arrival time of each, in nanoseconds.
    pub at: Vec<u64>,
}

/// One logical operator with its subtasks.
pub struct NodeRt {
    /// Name.
    pub name: String,
    /// Chain (job vertex) it belongs to.
    pub vertex: usize,
    /// Subtask instances.
    pub inst: Vec<Operator>,
    /// CPU time per input record (ns).
    pub cost_ns: u64,
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

/// One source subtask and the records it still has to produce.
pub struct SourceRt {
    /// Logical node index.
    pub node: usize,
    /// Subtask.
    pub subtask: u32,
    /// The streaming simulator's source state (data, pacing, birth times).
    pub state: SourceState,
    /// Source CPU time per record, which paces a source without a `rate`.
    cost_ns: u64,
    /// Fields per record.
    arity: usize,
}

impl SourceRt {
    /// Records born at or before `t` that were not produced yet, at most `max`.
    pub fn take_until(&mut self, t: SimTime, max: usize) -> Batch {
        let mut out = Batch::new(self.arity);
        if self.state.interval_ns.is_some() {
            self.state.fill(t, max, &mut out);
        } else {
            // No rate: the source reads as fast as its CPU allows, one record per source cost.
            while out.len() < max && !self.done() {
                let now = SimTime::from_nanos(self.state.emitted.saturating_mul(self.cost_ns));
                if now > t {
                    break;
                }
                let n = (max - out.len()).min(512);
                self.state.fill(now, n, &mut out);
                if self.state.until.is_some_and(|u| now >= u) {
                    break;
                }
            }
        }
        // The streaming engine's watermark generator sees every record the source produces.
        for m in &out.meta {
            self.state.watermarks.observe(m.ts, m.born);
        }
        out
    }

    /// Whether every record has been produced.
    pub fn done(&self) -> bool {
        let next = match self.state.interval_ns {
            Some(_) => self.state.next_due(),
            None => SimTime::from_nanos(self.state.emitted.saturating_mul(self.cost_ns)),
        };
        self.state.total.is_some_and(|n| self.state.emitted >= n)
            || self.state.until.is_some_and(|u| next >= u)
    }

    /// When its next record is born (`None` when done).
    pub fn next_birth(&self) -> Option<SimTime> {
        if self.done() {
            return None;
        }
        Some(match self.state.interval_ns {
            Some(_) => self.state.next_due(),
            None => SimTime::from_nanos(self.state.emitted.saturating_mul(self.cost_ns)),
        })
    }
}

/// The job in pass form.
pub struct Dataflow {
    /// By logical node index.
    pub nodes: Vec<NodeRt>,
    /// Logical nodes in topological order.
    pub order: Vec<usize>,
    /// Source subtasks.
    pub sources: Vec<SourceRt>,
    /// When each chain subtask is free: `[vertex][subtask]`, ns.
    pub free: Vec<Vec<u64>>,
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
    /// Serialization / deserialization cost per record (ns).
    ser_ns: u64,
    deser_ns: u64,
    /// How network edges behave.
    pub exchange: Exchange,
    /// Flink's BATCH runtime mode: keyed reduces emit only their final rows; event-time,
    /// then processing-time timers fire only at the end of the input (see the module
    /// documentation).
    pub batch_runtime: bool,
    /// The latest time any record was done with in the current pass (ns).
    pub pass_done: u64,
    /// Records processed by any operator in the current pass.
    pub pass_records: u64,
    /// CPU time spent per chain subtask: `[vertex][subtask]`, ns.
    pub busy: Vec<Vec<u64>>,
    /// When each chain first started a record (ns; `u64::MAX`: never).
    pub first_start: Vec<u64>,
    /// Keep a multiset of what every sink made visible (for correctness checks).
    pub collect: bool,
    /// That multiset, per logical node (empty for non-sinks).
    pub outputs: Vec<std::collections::BTreeMap<u64, u64>>,
    /// Watermark trail: `(processing time ns, watermark)` whenever the operators' watermark
    /// advanced (a final +∞ is left out).
    pub trail: Vec<(u64, EventTime)>,
}

impl Dataflow {
    /// Builds the operators of a planned scenario (fresh state).
    pub fn new(s: &Scenario, p: &Plan, seed: u64, exchange: Exchange) -> Self {
        let mut interner = Interner::new();
        let rt = crate::sim::build::build(s, p, seed, &mut interner, false);
        let g = &p.logical.graph;
        let n = g.node_count();
        let mut vertex_of = vec![0usize; n];
        for (vi, v) in p.execution.vertices.iter().enumerate() {
            for op in &v.ops {
                vertex_of[op.index()] = vi;
            }
        }
        // Chains in topological order (a chain runs whole before the chains it feeds), the
        // operators of a chain in topological order.
        let nv = p.execution.vertices.len();
        let mut indegree = vec![0usize; nv];
        for e in &p.execution.edges {
            indegree[e.to_vertex] += 1;
        }
        let mut rank = vec![0usize; nv];
        let mut ready: Vec<usize> = (0..nv).filter(|&v| indegree[v] == 0).collect();
        let mut r = 0;
        while let Some(v) = (!ready.is_empty()).then(|| ready.remove(0)) {
            rank[v] = r;
            r += 1;
            for e in p.execution.edges.iter().filter(|e| e.from_vertex == v) {
                indegree[e.to_vertex] -= 1;
                if indegree[e.to_vertex] == 0 {
                    ready.push(e.to_vertex);
                }
            }
        }
        let topo: Vec<usize> = petgraph::algo::toposort(g, None)
            .expect("planned graphs are acyclic")
            .into_iter()
            .map(|x| x.index())
            .collect();
        let mut order = topo.clone();
        order.sort_by_key(|&x| {
            (
                rank[vertex_of[x]],
                topo.iter().position(|&y| y == x).unwrap_or(0),
            )
        });
        let mut nodes: Vec<NodeRt> = g
            .node_indices()
            .map(|ix| {
                let ln = &g[ix];
                let node = &s.nodes[ln.scenario_node];
                let par = ln.parallelism as usize;
                let side_arity = node
                    .inputs
                    .first()
                    .map_or(0, |i| s.nodes[i.node].schema.arity());
                NodeRt {
                    name: ln.name.clone(),
                    vertex: vertex_of[ix.index()],
                    inst: Vec::with_capacity(par),
                    cost_ns: 0,
                    outs: Vec::new(),
                    side_outs: Vec::new(),
                    pending: Vec::new(),
                    network_in: false,
                    records_in: vec![0; par],
                    records_out: vec![0; par],
                    arity: node.schema.arity(),
                    side_arity,
                    is_sink: matches!(node.kind, NodeKind::Sink(..)),
                    is_source: matches!(node.kind, NodeKind::Source(_)),
                    watermark: crate::core::time::EVENT_TIME_MIN,
                    arrivals: (0..par)
                        .map(|_| Arrivals {
                            batch: Batch::new(node.schema.arity()),
                            at: Vec::new(),
                        })
                        .collect(),
                    finals: (0..par).map(|_| Finals::default()).collect(),
                }
            })
            .collect();
        // Where each channel leads: task ids back to (chain, subtask).
        let mut subtask_of_task = Vec::new();
        for (vi, ids) in rt.task_of.iter().enumerate() {
            for (st, &id) in ids.iter().enumerate() {
                if subtask_of_task.len() <= id as usize {
                    subtask_of_task.resize(id as usize + 1, (0, 0));
                }
                subtask_of_task[id as usize] = (vi, st);
            }
        }
        let channels: Vec<ChannelEnd> = rt
            .channels
            .iter()
            .map(|c| ChannelEnd {
                subtask: subtask_of_task[c.to_task as usize].1,
                latency_ns: c.latency.as_nanos(),
            })
            .collect();
        let mut writers: Vec<Vec<Vec<RecordWriter>>> = p
            .execution
            .vertices
            .iter()
            .map(|v| (0..v.parallelism).map(|_| Vec::new()).collect())
            .collect();
        let mut sources = Vec::new();
        for t in rt.tasks {
            let crate::sim::task::Task {
                chain,
                source,
                subtask,
                vertex,
                writers: task_writers,
                ..
            } = t;
            writers[vertex][subtask as usize] = task_writers;
            let head = chain.ops.first().map(|o| o.node);
            for mut slot in chain.ops {
                // The baselines make results visible by their own rule (a batch's commit, the
                // job's end, a Storm bolt's emit), not by Flink's checkpoint transactions; their
                // correctness check compares outputs itself.
                if let Operator::Sink(sk) = &mut slot.op {
                    sk.txn = None;
                    sk.ledger = None;
                }
                let nr = &mut nodes[slot.node];
                nr.cost_ns = slot.cost_ns;
                nr.inst.push(slot.op);
            }
            if let (Some(state), Some(node)) = (source, head) {
                sources.push(SourceRt {
                    node,
                    subtask,
                    cost_ns: nodes[node].cost_ns.max(1),
                    state,
                    arity: nodes[node].arity,
                });
            }
        }
        let mut upstream = vec![Vec::new(); p.execution.vertices.len()];
        for e in &p.execution.edges {
            if !upstream[e.to_vertex].contains(&e.from_vertex) {
                upstream[e.to_vertex].push(e.from_vertex);
            }
        }
        for ix in g.node_indices() {
            let mut edges: Vec<_> = g.edges_directed(ix, Direction::Outgoing).collect();
            // petgraph lists edges newest first; Flink calls outputs in the order they were added
            edges.reverse();
            let from_v = vertex_of[ix.index()];
            for e in edges {
                let w = e.weight();
                let network = !p.chaining.breaks[e.id().index()].is_empty();
                let to = e.target().index();
                // A network edge's writer: its job edge's position among the chain's outgoing
                // job edges (the order `build` gives a task's writers).
                let writer = network.then(|| {
                    nodes[to].network_in = true;
                    p.execution
                        .edges
                        .iter()
                        .filter(|je| je.from_vertex == from_v)
                        .position(|je| je.logical == e.id())
                        .expect("a network edge has a job edge")
                });
                let route = Route {
                    to,
                    port: w.input_index,
                    writer,
                };
                match w.port {
                    Port::Main => nodes[ix.index()].outs.push(route),
                    Port::Side => nodes[ix.index()].side_outs.push(route),
                }
            }
        }
        for (i, nr) in nodes.iter_mut().enumerate() {
            let inputs = g
                .edges_directed(petgraph::graph::NodeIndex::new(i), Direction::Incoming)
                .map(|e| e.weight().input_index + 1)
                .max()
                .unwrap_or(1);
            let arities: Vec<usize> = (0..inputs)
                .map(|port| {
                    g.edges_directed(petgraph::graph::NodeIndex::new(i), Direction::Incoming)
                        .find(|e| e.weight().input_index == port)
                        .map_or(nr.arity, |e| {
                            let src = &s.nodes[g[e.source()].scenario_node];
                            match e.weight().port {
                                Port::Main => src.schema.arity(),
                                Port::Side => s.nodes[src.inputs[0].node].schema.arity(),
                            }
                        })
                })
                .collect();
            nr.pending = (0..nr.inst.len())
                .map(|_| {
                    arities
                        .iter()
                        .map(|&a| Pending {
                            batch: Batch::new(a),
                            at: Vec::new(),
                        })
                        .collect()
                })
                .collect();
        }
        let free: Vec<Vec<u64>> = p
            .execution
            .vertices
            .iter()
            .map(|v| vec![0; v.parallelism as usize])
            .collect();
        Dataflow {
            nodes,
            order,
            sources,
            free: free.clone(),
            writers,
            channels,
            upstream,
            interner,
            scratch: String::new(),
            failure: None,
            ser_ns: s.cost.serialize_record.as_nanos(),
            deser_ns: s.cost.deserialize_record.as_nanos(),
            exchange,
            batch_runtime: false,
            pass_done: 0,
            pass_records: 0,
            busy: free.clone(),
            first_start: vec![u64::MAX; free.len()],
            collect: false,
            outputs: vec![Default::default(); n],
            trail: Vec::new(),
        }
    }

    /// Hands records a source subtask produced to its source operator, arriving at `at`.
    pub fn inject(&mut self, node: usize, subtask: u32, batch: &Batch, at: &[u64]) {
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
    pub fn all_free(&self) -> u64 {
        self.free.iter().flatten().copied().max().unwrap_or(0)
    }

    /// Runs one pass at processing time `now`: every operator processes what waits for it;
    /// with `watermark`, event-time operators then advance to it (after processing what
    /// their inputs fired). Returns the operators' new watermark if it advanced.
    pub fn pass(&mut self, now: u64, watermark: Option<EventTime>) {
        if self.failure.is_some() {
            return;
        }
        let order = self.order.clone();
        self.pass_done = 0;
        self.pass_records = 0;
        let mut error: Option<String> = None;
        let now_ms = SimTime::from_nanos(now).as_event_time();
        for &n in &order {
            let par = self.nodes[n].inst.len();
            for st in 0..par {
                let v = self.nodes[n].vertex;
                // A blocking exchange: a chain head fed over the network waits for its
                // upstream chains to finish the pass.
                let barrier = if self.exchange == Exchange::Blocking && self.nodes[n].network_in {
                    self.upstream[v]
                        .iter()
                        .flat_map(|&u| self.free[u].iter())
                        .copied()
                        .max()
                        .unwrap_or(0)
                } else {
                    0
                };
                let ports = self.nodes[n].pending[st].len();
                for port in 0..ports {
                    if self.nodes[n].pending[st][port].at.is_empty() || error.is_some() {
                        continue;
                    }
                    let arity = self.nodes[n].pending[st][port].batch.arity;
                    let pend = std::mem::replace(
                        &mut self.nodes[n].pending[st][port],
                        Pending {
                            batch: Batch::new(arity),
                            at: Vec::new(),
                        },
                    );
                    self.process(n, st, port, pend, barrier, &mut error);
                }
                if let Some(wm) = watermark
                    && error.is_none()
                {
                    self.advance(n, st, now, now_ms, wm, &mut error);
                }
                if error.is_some() {
                    break;
                }
            }
            if let Some(wm) = watermark {
                let nr = &mut self.nodes[n];
                nr.watermark = nr.watermark.max(wm);
            }
            if let Some(e) = error.take() {
                self.failure = Some(format!("operator `{}` failed: {e}", self.nodes[n].name));
                return;
            }
        }
        if let Some(wm) = watermark
            && wm != crate::core::time::EVENT_TIME_MAX
            && self.trail.last().is_none_or(|&(_, w)| wm > w)
        {
            self.trail.push((now, wm));
        }
    }

    /// One subtask processes a batch of waiting records.
    fn process(
        &mut self,
        n: usize,
        st: usize,
        port: usize,
        pend: Pending,
        barrier: u64,
        error: &mut Option<String>,
    ) {
        let v = self.nodes[n].vertex;
        let nr = &mut self.nodes[n];
        // Records from several senders are taken in the order they arrived.
        let pend = if pend.at.is_sorted() {
            pend
        } else {
            let mut idx: Vec<usize> = (0..pend.at.len()).collect();
            idx.sort_by_key(|&i| pend.at[i]);
            let mut batch = Batch::new(pend.batch.arity);
            let view = pend.batch.view();
            for &i in &idx {
                batch.push(view.row(i), view.meta[i], 0);
            }
            let at = idx.iter().map(|&i| pend.at[i]).collect();
            Pending { batch, at }
        };
        let len = pend.at.len();
        nr.records_in[st] += len as u64;
        // per-record timing: serialization per copy a network output writes (every channel
        // of a BROADCAST), as the streaming engine charges it
        let copies: u64 = nr
            .outs
            .iter()
            .filter_map(|r| r.writer)
            .map(|w| {
                let wr = &self.writers[v][st][w];
                wr.partitioner.copies(wr.channels.len()) as u64
            })
            .sum();
        let per = nr.cost_ns + if nr.network_in { self.deser_ns } else { 0 } + copies * self.ser_ns;
        let mut free = self.free[v][st];
        let mut done = Vec::with_capacity(len);
        for (i, &a) in pend.at.iter().enumerate() {
            let start = a.max(free).max(barrier);
            if i == 0 {
                self.first_start[v] = self.first_start[v].min(start);
            }
            free = start + per;
            done.push(free);
        }
        self.free[v][st] = free;
        self.busy[v][st] += per * len as u64;
        self.pass_done = self.pass_done.max(free);
        self.pass_records += len as u64;
        if nr.is_sink {
            let arr = &mut nr.arrivals[st];
            arr.batch.values.extend_from_slice(&pend.batch.values);
            arr.batch.meta.extend_from_slice(&pend.batch.meta);
            arr.at.extend_from_slice(&done);
            return;
        }
        let mut out = Batch::new(nr.arity);
        let mut side = Batch::new(nr.side_arity);
        // BATCH runtime: the key of every row a keyed reduce emits, read from its input row
        // (the aggregate may have changed a field the key is made of)
        let mut reduce_keys: Option<Vec<Value>> = None;
        if nr.is_source {
            out = pend.batch;
            out.parent = (0..len as u32).collect();
        } else {
            let mut ev = EvalCx {
                interner: &mut self.interner,
                scratch: &mut self.scratch,
                error,
            };
            let op = &mut nr.inst[st];
            op.set_processing_time(
                SimTime::from_nanos(pend.at.first().copied().unwrap_or(0)).as_event_time(),
            );
            op.process(port, pend.batch.view(), &mut out, &mut side, &mut ev);
            if let Some(f) = op.take_failure() {
                *ev.error = Some(f);
            }
            if self.batch_runtime
                && let Operator::Reduce(r) = op
            {
                let input = pend.batch.view();
                reduce_keys = Some(
                    out.parent
                        .iter()
                        .map(|&i| r.key.eval(input.row(i as usize), &[], &mut ev))
                        .collect(),
                );
            }
        }
        if error.is_some() {
            return;
        }
        if let Some(keys) = reduce_keys {
            // BATCH runtime: not rolling — keep each key's latest aggregate for the end.
            let f = &mut self.nodes[n].finals[st];
            for (i, &key) in keys.iter().enumerate() {
                let row = out.view().row(i);
                match f.index.get(&key) {
                    Some(&j) => {
                        f.rows[j].1.clear();
                        f.rows[j].1.extend_from_slice(row);
                        // the row is as old as the oldest record it reflects: that record
                        // becomes visible only with the final row
                        f.rows[j].2.ts = out.meta[i].ts;
                    }
                    None => {
                        f.index.insert(key, f.rows.len());
                        f.rows.push((key, row.to_vec(), out.meta[i]));
                    }
                }
            }
            return;
        }
        let t_out: Vec<u64> = out
            .parent
            .iter()
            .map(|&i| done.get(i as usize).copied().unwrap_or(free))
            .collect();
        let t_side: Vec<u64> = side
            .parent
            .iter()
            .map(|&i| done.get(i as usize).copied().unwrap_or(free))
            .collect();
        self.nodes[n].records_out[st] += out.len() as u64;
        self.route(n, st, false, &out, &t_out, error);
        self.route(n, st, true, &side, &t_side, error);
    }

    /// Event time advances to `wm` at subtask `st` of node `n`.
    fn advance(
        &mut self,
        n: usize,
        st: usize,
        now: u64,
        now_ms: EventTime,
        wm: EventTime,
        error: &mut Option<String>,
    ) {
        let v = self.nodes[n].vertex;
        let end_of_input = self.batch_runtime && wm == crate::core::time::EVENT_TIME_MAX;
        if end_of_input {
            self.emit_finals(n, st, now, error);
        }
        let nr = &mut self.nodes[n];
        let op = &mut nr.inst[st];
        // Under the BATCH runtime processing time does not move timers during the job: they
        // all fire at the end of the input, after the event-time ones.
        let timers = !self.batch_runtime && op.next_processing_timer().is_some_and(|t| t <= now_ms);
        if !(timers || op.has_event_time() && wm > nr.watermark) {
            return;
        }
        let mut out = Batch::new(nr.arity);
        let mut side = Batch::new(nr.side_arity);
        let mut ev = EvalCx {
            interner: &mut self.interner,
            scratch: &mut self.scratch,
            error,
        };
        op.set_processing_time(now_ms);
        if timers {
            op.advance_processing_time(now_ms, &mut out, &mut side, &mut ev);
        }
        if op.has_event_time() && wm > nr.watermark {
            op.advance_watermark(wm, &mut out, &mut side, &mut ev);
            if end_of_input {
                op.fire_all_processing_timers(&mut out, &mut side, &mut ev);
            }
        }
        if let Some(f) = op.take_failure() {
            *ev.error = Some(f);
        }
        if error.is_some() || (out.is_empty() && side.is_empty()) {
            return;
        }
        let t = now.max(self.free[v][st]);
        let times = vec![t; out.len()];
        self.nodes[n].records_out[st] += out.len() as u64;
        self.route(n, st, false, &out, &times, error);
        if !side.is_empty() {
            // side output from timers (process functions' on_timer)
            let times = vec![t; side.len()];
            self.route(n, st, true, &side, &times, error);
        }
    }

    /// BATCH runtime, end of input: a keyed reduce emits its final row of every key, in key
    /// order (Flink sorts a keyed input by key and emits a key's result when it moves on).
    fn emit_finals(&mut self, n: usize, st: usize, now: u64, error: &mut Option<String>) {
        let mut rows = std::mem::take(&mut self.nodes[n].finals[st].rows);
        self.nodes[n].finals[st].index.clear();
        if rows.is_empty() {
            return;
        }
        let interner = &self.interner;
        rows.sort_by(|a, b| key_order(a.0, b.0, interner));
        let mut out = Batch::new(self.nodes[n].arity);
        for (_, row, meta) in &rows {
            out.push(row, *meta, 0);
        }
        let v = self.nodes[n].vertex;
        let t = now.max(self.free[v][st]);
        let times = vec![t; out.len()];
        self.nodes[n].records_out[st] += out.len() as u64;
        self.route(n, st, false, &out, &times, error);
    }

    /// Sends records from subtask `st` of node `n` along its main or side outputs.
    fn route(
        &mut self,
        n: usize,
        st: usize,
        side: bool,
        out: &Batch,
        times: &[u64],
        error: &mut Option<String>,
    ) {
        if out.is_empty() {
            return;
        }
        let from_v = self.nodes[n].vertex;
        let routes = if side {
            std::mem::take(&mut self.nodes[n].side_outs)
        } else {
            std::mem::take(&mut self.nodes[n].outs)
        };
        for r in &routes {
            let Some(w) = r.writer else {
                // chained: handed over to the same subtask, at once
                let p = &mut self.nodes[r.to].pending[st][r.port];
                p.batch.values.extend_from_slice(&out.values);
                p.batch.meta.extend_from_slice(&out.meta);
                p.at.extend_from_slice(&times[..out.len()]);
                continue;
            };
            for (i, &time) in times.iter().enumerate().take(out.len()) {
                let row = out.view().row(i);
                let meta = out.meta[i];
                let mut ev = EvalCx {
                    interner: &mut self.interner,
                    scratch: &mut self.scratch,
                    error,
                };
                let writer = &mut self.writers[from_v][st][w];
                let (first, copies) = match writer.select(row, &mut ev) {
                    Some(pos) => (pos as usize, 1),
                    None => (0, writer.channels.len()),
                };
                for c in first..first + copies {
                    let end = self.channels[self.writers[from_v][st][w].channels[c] as usize];
                    let p = &mut self.nodes[r.to].pending[end.subtask][r.port];
                    p.batch.values.extend_from_slice(row);
                    p.batch.meta.push(meta);
                    p.at.push(time + end.latency_ns);
                }
            }
        }
        if side {
            self.nodes[n].side_outs = routes;
        } else {
            self.nodes[n].outs = routes;
        }
    }

    /// A restart after a crash: every operator but the sources' positions and the sinks (which
    /// stand for external systems) comes back with the fresh state of `fresh`; what was
    /// waiting is lost; every thread is free from `at` on.
    pub fn restart_from(&mut self, fresh: Dataflow, at: u64) {
        for (mine, new) in self.nodes.iter_mut().zip(fresh.nodes) {
            if mine.is_sink || mine.is_source {
                continue;
            }
            mine.inst = new.inst;
            mine.finals = new.finals;
            mine.watermark = crate::core::time::EVENT_TIME_MIN;
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
    pub fn deliver(&mut self, node: usize, st: usize, batch: View<'_>, ts: &[u64]) {
        let mut error = None;
        let mut ev = EvalCx {
            interner: &mut self.interner,
            scratch: &mut self.scratch,
            error: &mut error,
        };
        if let Operator::Sink(sk) = &mut self.nodes[node].inst[st] {
            for (i, &t) in ts.iter().enumerate() {
                sk.consume(batch.row(i), batch.meta[i], SimTime::from_nanos(t), &mut ev);
                if self.collect {
                    let h = crate::ops::sink::row_hash(batch.row(i), ev.interner);
                    *self.outputs[node].entry(h).or_default() += 1;
                }
            }
        }
    }

    /// Flink's rule: the watermark the operators get is what a [`Valve`] over the source
    /// subtasks gives — the minimum over every active subtask's generator
    /// ([`crate::flink::watermark::Generator::current`]); a subtask that has produced all its
    /// records has sent the final watermark and no longer holds it back. `None` while a
    /// running subtask has no watermark yet (nothing produced, or a source without a
    /// strategy).
    pub fn source_watermark(&self) -> Option<EventTime> {
        if self.sources.is_empty() {
            return None;
        }
        let mut valve = Valve::new(self.sources.len());
        for (c, s) in self.sources.iter().enumerate() {
            let g = &s.state.watermarks;
            let wm = if s.done() {
                crate::core::time::EVENT_TIME_MAX
            } else {
                g.current()?
            };
            valve.watermark(c, wm);
            if g.is_idle() {
                valve.status(c, true);
            }
        }
        Some(valve.output)
    }

    /// Spark's rule (`spark.sql.streaming.multipleWatermarkPolicy = min`): per source (stream),
    /// the largest event time over all its partitions − bound, through each subtask's
    /// generator; over sources, the minimum. `None` while a source has no watermark yet.
    pub fn source_watermark_per_stream(&self) -> Option<EventTime> {
        let mut per_node: Vec<(usize, Option<EventTime>)> = Vec::new();
        for s in &self.sources {
            let w = s.state.watermarks.current();
            match per_node.iter_mut().find(|x| x.0 == s.node) {
                Some(x) => x.1 = x.1.max(w),
                None => per_node.push((s.node, w)),
            }
        }
        per_node
            .into_iter()
            .map(|(_, w)| w)
            .collect::<Option<Vec<_>>>()?
            .into_iter()
            .min()
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

/// The order of keys in a BATCH-runtime reduce's output: integers numerically, strings by
/// content, floats by value; values of different kinds by kind.
fn key_order(a: Value, b: Value, interner: &Interner) -> std::cmp::Ordering {
    fn rank(v: Value) -> u8 {
        match v {
            Value::Int(_) => 0,
            Value::Float(_) => 1,
            Value::Str(_) => 2,
            _ => 3,
        }
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(&y),
        (Value::Float(x), Value::Float(y)) => x.total_cmp(&y),
        (Value::Str(x), Value::Str(y)) => interner.resolve(x).cmp(interner.resolve(y)),
        (x, y) => rank(x).cmp(&rank(y)).then_with(|| {
            x.to_json(interner)
                .to_string()
                .cmp(&y.to_json(interner).to_string())
        }),
    }
}
