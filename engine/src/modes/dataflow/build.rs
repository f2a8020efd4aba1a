//! Building the pass-form job from a plan: operators, chain order, channels, routes.

use super::{Arrivals, ChannelEnd, Dataflow, Exchange, Finals, NodeRt, Pending, Route, SourceRt};
use crate::core::time::{SimDuration, SimTime};
use crate::core::value::Interner;
use crate::ops::Operator;
use crate::ops::batch::Batch;
use crate::plan::Plan;
use crate::plan::logical::Port;
use crate::scenario::{NodeKind, Scenario};
use crate::sim::build::Runtime;
use crate::sim::net::RecordWriter;
use crate::sim::task::Task;
use petgraph::Direction;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;

impl Dataflow {
    /// Builds the operators of a planned scenario (fresh state).
    pub fn new(s: &Scenario, p: &Plan, seed: u64, exchange: Exchange) -> Self {
        let mut interner = Interner::new();
        let rt = crate::sim::build::build(s, p, seed, &mut interner, false);
        let n = p.logical.graph.node_count();
        let vertex_of = vertex_of(p);
        let order = operator_order(p, &vertex_of);
        let mut nodes = node_runtimes(s, p, &vertex_of);
        let channels = channel_ends(&rt);
        let (writers, sources) = take_subtasks(p, rt.tasks, &mut nodes);
        let upstream = upstream_chains(p);
        wire_outputs(p, &vertex_of, &mut nodes);
        for (i, nr) in nodes.iter_mut().enumerate() {
            nr.pending = input_queues(s, p, i, nr);
        }
        let free: Vec<Vec<SimTime>> = p
            .execution
            .vertices
            .iter()
            .map(|v| vec![SimTime::ZERO; v.parallelism as usize])
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
            ser: s.cost.serialize_record,
            deser: s.cost.deserialize_record,
            exchange,
            batch_runtime: false,
            pass_done: SimTime::ZERO,
            pass_records: 0,
            busy: free
                .iter()
                .map(|f| vec![SimDuration::ZERO; f.len()])
                .collect(),
            first_start: vec![SimTime::MAX; free.len()],
            collect: false,
            outputs: vec![Default::default(); n],
            trail: Vec::new(),
        }
    }
}

/// The chain (job vertex) of every logical operator, by logical node index.
fn vertex_of(p: &Plan) -> Vec<usize> {
    let mut vertex_of = vec![0usize; p.logical.graph.node_count()];
    for (vi, v) in p.execution.vertices.iter().enumerate() {
        for op in &v.ops {
            vertex_of[op.index()] = vi;
        }
    }
    vertex_of
}

/// The order a pass runs the operators in: chains in topological order (a chain runs whole
/// before the chains it feeds), the operators of a chain in topological order.
fn operator_order(p: &Plan, vertex_of: &[usize]) -> Vec<usize> {
    let g = &p.logical.graph;
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
    order
}

/// One [`NodeRt`] per logical operator, without its subtask instances, routes or input
/// queues yet.
fn node_runtimes(s: &Scenario, p: &Plan, vertex_of: &[usize]) -> Vec<NodeRt> {
    let g = &p.logical.graph;
    g.node_indices()
        .map(|ix| {
            let ln = &g[ix];
            let node = &s.nodes[ln.scenario_node];
            let par = ln.parallelism as usize;
            let side_arity = if node.inputs.is_empty() {
                0
            } else {
                node.side_output_schema(&s.nodes).arity()
            };
            NodeRt {
                name: ln.name.clone(),
                vertex: vertex_of[ix.index()],
                inst: Vec::with_capacity(par),
                cost: SimDuration::ZERO,
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
                watermark: crate::core::time::EventTime::MIN,
                arrivals: (0..par)
                    .map(|_| Arrivals {
                        batch: Batch::new(node.schema.arity()),
                        at: Vec::new(),
                    })
                    .collect(),
                finals: (0..par).map(|_| Finals::default()).collect(),
            }
        })
        .collect()
}

/// Where each channel leads, by channel id: the receiving subtask (task ids mapped back to
/// `(chain, subtask)`) and the channel's latency.
fn channel_ends(rt: &Runtime) -> Vec<ChannelEnd> {
    let mut subtask_of_task = Vec::new();
    for (vi, ids) in rt.task_of.iter().enumerate() {
        for (st, &id) in ids.iter().enumerate() {
            if subtask_of_task.len() <= id as usize {
                subtask_of_task.resize(id as usize + 1, (0, 0));
            }
            subtask_of_task[id as usize] = (vi, st);
        }
    }
    rt.channels
        .iter()
        .map(|c| ChannelEnd {
            subtask: subtask_of_task[c.to_task as usize].1,
            latency: c.latency,
        })
        .collect()
}

/// Takes the streaming engine's subtasks apart: each chain subtask's record writers
/// (`[vertex][subtask]`), its operator instances (pushed onto their nodes, with their cost)
/// and, for a source subtask, its source state.
fn take_subtasks(
    p: &Plan,
    tasks: Vec<Task>,
    nodes: &mut [NodeRt],
) -> (Vec<Vec<Vec<RecordWriter>>>, Vec<SourceRt>) {
    let mut writers: Vec<Vec<Vec<RecordWriter>>> = p
        .execution
        .vertices
        .iter()
        .map(|v| (0..v.parallelism).map(|_| Vec::new()).collect())
        .collect();
    let mut sources = Vec::new();
    for t in tasks {
        let Task {
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
            nr.cost = slot.cost;
            nr.inst.push(slot.op);
        }
        if let (Some(state), Some(node)) = (source, head) {
            sources.push(SourceRt {
                node,
                subtask,
                cost: nodes[node].cost.max(SimDuration::from_nanos(1)),
                state,
                arity: nodes[node].arity,
            });
        }
    }
    (writers, sources)
}

/// The upstream chains of each chain, over network (job) edges.
fn upstream_chains(p: &Plan) -> Vec<Vec<usize>> {
    let mut upstream = vec![Vec::new(); p.execution.vertices.len()];
    for e in &p.execution.edges {
        if !upstream[e.to_vertex].contains(&e.from_vertex) {
            upstream[e.to_vertex].push(e.from_vertex);
        }
    }
    upstream
}

/// Every operator's main and side output routes, in the order Flink calls its outputs; a
/// network edge goes through the sending chain's record writer for its job edge, and marks
/// the receiving operator as fed over the network.
fn wire_outputs(p: &Plan, vertex_of: &[usize], nodes: &mut [NodeRt]) {
    let g = &p.logical.graph;
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
}

/// The empty input queues of operator `i`: per subtask, one per input port, each with the
/// arity of what arrives there (a side output carries its producer's input records).
fn input_queues(s: &Scenario, p: &Plan, i: usize, nr: &NodeRt) -> Vec<Vec<Pending>> {
    let g = &p.logical.graph;
    let inputs = g
        .edges_directed(NodeIndex::new(i), Direction::Incoming)
        .map(|e| e.weight().input_index + 1)
        .max()
        .unwrap_or(1);
    let arities: Vec<usize> = (0..inputs)
        .map(|port| {
            g.edges_directed(NodeIndex::new(i), Direction::Incoming)
                .find(|e| e.weight().input_index == port)
                .map_or(nr.arity, |e| {
                    let src = &s.nodes[g[e.source()].scenario_node];
                    match e.weight().port {
                        Port::Main => src.schema.arity(),
                        Port::Side => src.side_output_schema(&s.nodes).arity(),
                    }
                })
        })
        .collect();
    (0..nr.inst.len())
        .map(|_| {
            arities
                .iter()
                .map(|&a| Pending {
                    batch: Batch::new(a),
                    at: Vec::new(),
                })
                .collect()
        })
        .collect()
}
