//! Building the runtime from a plan: tasks with their operator chains, record writers,
//! channels and input gates, and source subtasks with their share of the data.
//!
//! The runtime operator of each node is built in `build/ops.rs`.

use super::buffer::RECORD_HEADER_BYTES;
use super::channel::{Channel, Ends, FloatingPool, Wanting};
use super::net::{Flusher, NetStats, RecordWriter};
use super::source::{SourceData as RtData, SourceState, field_gen, lit_value};
use super::task::{Gate, Sched, Task, TaskTime};
use crate::core::cost::BufferTimeout;
use crate::core::rng::SeedTree;
use crate::core::time::{Pace, SimDuration};
use crate::core::value::{Interner, Schema, Type, Value};
use crate::flink::valve::Valve;
use crate::ops::chain::Chain;
use crate::ops::{OpSlot, Out};
use crate::plan::Plan;
use crate::plan::logical::Port;
use crate::scenario::{NodeKind, Scenario, SourceData};
use petgraph::Direction;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::sync::Arc;

mod ops;
use ops::operator;

/// The runtime objects of a job.
pub struct Runtime {
    /// One per subtask of every chain.
    pub tasks: Vec<Task>,
    /// One per (job edge, upstream subtask, downstream subtask) pair that is connected.
    pub channels: Vec<Channel>,
    /// `[chain][subtask]` → task id.
    pub task_of: Vec<Vec<u32>>,
}

/// Builds tasks and channels: one task per subtask of every chain (job vertex), numbered
/// chain by chain, each with its operator chain, a record writer per outgoing job edge, its
/// input gate and, for a source, its share of the data.
pub fn build(
    s: &Scenario,
    p: &Plan,
    seed: u64,
    interner: &mut Interner,
    annotate: bool,
) -> Runtime {
    let g = &p.logical.graph;
    let eg = &p.execution;
    let seeds = SeedTree::new(seed);
    let flush_interval = match s.job.buffer_timeout {
        BufferTimeout::Interval(d) => Some(d),
        BufferTimeout::Off => None,
    };
    let (task_of, n) = task_ids(p);
    let (mut channels, edge_channels) = connect(s, p, &task_of);
    let mut inbound = inbound_channels(&channels, n);
    // Strings of row sources, interned once per source (before any operator's).
    let (rows_of, gens_of) = source_data(s, interner);
    let mut tasks = Vec::with_capacity(n as usize);
    for (vi, v) in eg.vertices.iter().enumerate() {
        let out_edges = out_edges(p, vi);
        for st in 0..v.parallelism {
            let tid = task_of[vi][st as usize];
            let chain = subtask_chain(s, p, vi, st, &out_edges, &edge_channels, interner, annotate);
            let writers = out_edges
                .iter()
                .map(|&je| {
                    let chans = edge_channels[je][st as usize].clone();
                    writer(s, p, je, chans, st, &seeds, interner)
                })
                .collect();
            let head = &s.nodes[g[v.ops[0]].scenario_node];
            let source = match &head.kind {
                NodeKind::Source(src) => Some(source_state(
                    s,
                    g[v.ops[0]].scenario_node,
                    src,
                    st,
                    v.parallelism,
                    &seeds,
                    &rows_of,
                    &gens_of,
                )),
                _ => None,
            };
            let mut gate = gate(s, &mut channels, std::mem::take(&mut inbound[tid as usize]));
            if annotate {
                gate.notes = Some(Vec::new());
            }
            let parts = TaskParts {
                chain,
                writers,
                gate,
                source,
            };
            let tm = p.deployment.task_manager_of[vi][st as usize];
            let label = format!("{} #{st}", v.name);
            tasks.push(idle_task(vi, st, tm, parts, flush_interval, label));
        }
    }
    Runtime {
        tasks,
        channels,
        task_of,
    }
}

/// Task ids, chain by chain and subtask by subtask: `[chain][subtask]` → task id, and the
/// number of tasks.
fn task_ids(p: &Plan) -> (Vec<Vec<u32>>, u32) {
    let mut task_of = Vec::new();
    let mut n = 0u32;
    for v in &p.execution.vertices {
        task_of.push((n..n + v.parallelism).collect::<Vec<_>>());
        n += v.parallelism;
    }
    (task_of, n)
}

/// The job edges leaving chain `vi` (its network outputs), in job-edge order.
fn out_edges(p: &Plan, vi: usize) -> Vec<usize> {
    p.execution
        .edges
        .iter()
        .enumerate()
        .filter(|(_, e)| e.from_vertex == vi)
        .map(|(i, _)| i)
        .collect()
}

/// The operator chain of subtask `st` of chain `vi`: its operators in chain order, and per
/// outgoing job edge the cost of serializing one record onto it (once per copy: a broadcast
/// edge serializes a record for every channel).
#[allow(clippy::too_many_arguments)]
fn subtask_chain(
    s: &Scenario,
    p: &Plan,
    vi: usize,
    st: u32,
    out_edges: &[usize],
    edge_channels: &[Vec<Vec<u32>>],
    interner: &mut Interner,
    annotate: bool,
) -> Chain {
    let (eg, cost) = (&p.execution, &s.cost);
    let v = &eg.vertices[vi];
    let ops = v
        .ops
        .iter()
        .enumerate()
        .map(|(pos, &op)| op_slot(s, p, vi, out_edges, pos, op, interner, annotate))
        .collect();
    let ser_ns = out_edges
        .iter()
        .map(|&je| {
            let copies = eg.edges[je]
                .partitioner
                .copies(edge_channels[je][st as usize].len());
            cost.serialize_record * copies as u64
        })
        .collect();
    Chain::new(ops, ser_ns)
}

/// What a task is made of: its operator chain, a record writer per outgoing job edge, its
/// input gate and, for a source subtask, its share of the data.
struct TaskParts {
    chain: Chain,
    writers: Vec<RecordWriter>,
    gate: Gate,
    source: Option<SourceState>,
}

/// Subtask `subtask` of chain `vertex` deployed on TaskManager `tm`, before it has run:
/// idle, not ending, no barrier to inject, no snapshot due, no timer or source wake-up set,
/// running at full speed.
fn idle_task(
    vertex: usize,
    subtask: u32,
    tm: u32,
    parts: TaskParts,
    flush_interval: Option<SimDuration>,
    label: String,
) -> Task {
    Task {
        vertex,
        subtask,
        tm,
        chain: parts.chain,
        writers: parts.writers,
        flusher: Flusher::new(flush_interval),
        stats: NetStats::default(),
        gate: parts.gate,
        source: parts.source,
        sched: Sched::Idle,
        ending: false,
        finished: false,
        inject_barrier: None,
        snapshot_due: None,
        priority: Default::default(),
        awaiting_final: false,
        cancelled: false,
        slowdown: 1.0,
        source_wake: None,
        timer_wake: None,
        watermark_trail: Default::default(),
        consumed: Vec::new(),
        backpressured_since: None,
        time: TaskTime::default(),
        label,
    }
}

/// The channels of every job edge: `[edge][upstream subtask]` → channel ids, by target
/// position.
#[allow(clippy::type_complexity)]
fn connect(s: &Scenario, p: &Plan, task_of: &[Vec<u32>]) -> (Vec<Channel>, Vec<Vec<Vec<u32>>>) {
    let (g, eg, cost) = (&p.logical.graph, &p.execution, &s.cost);
    // (sized up front: a wide job has tens of thousands of channels)
    let total: usize = (0..eg.edges.len())
        .map(|ei| {
            let up = eg.vertices[eg.edges[ei].from_vertex].parallelism;
            (0..up).map(|i| eg.targets(ei, i).len()).sum::<usize>()
        })
        .sum();
    let mut channels = Vec::with_capacity(total);
    let mut edge_channels: Vec<Vec<Vec<u32>>> = Vec::new();
    for (ei, e) in eg.edges.iter().enumerate() {
        let up = &eg.vertices[e.from_vertex];
        let input = g[e.logical].input_index as u32;
        let mut per_up = Vec::new();
        for i in 0..up.parallelism {
            let mut chans = Vec::new();
            for j in eg.targets(ei, i) {
                let from = task_of[e.from_vertex][i as usize];
                let to = task_of[e.to_vertex][j as usize];
                let remote = p.deployment.task_manager_of[e.from_vertex][i as usize]
                    != p.deployment.task_manager_of[e.to_vertex][j as usize];
                let latency = if remote {
                    cost.remote_channel_latency
                } else {
                    cost.local_channel_latency
                };
                let writer = eg
                    .edges
                    .iter()
                    .take(ei)
                    .filter(|x| x.from_vertex == e.from_vertex)
                    .count() as u32;
                chans.push(channels.len() as u32);
                channels.push(Channel::new(
                    Ends {
                        edge: ei as u32,
                        from_task: from,
                        writer,
                        to_task: to,
                        input,
                    },
                    remote,
                    latency,
                    cost.exclusive_buffers_per_channel,
                ));
            }
            per_up.push(chans);
        }
        edge_channels.push(per_up);
    }
    (channels, edge_channels)
}

/// The records of row sources (their strings interned) and the field generators of
/// generator sources, by scenario node.
#[allow(clippy::type_complexity)]
fn source_data(
    s: &Scenario,
    interner: &mut Interner,
) -> (
    FxHashMap<usize, Arc<Vec<Vec<Value>>>>,
    FxHashMap<usize, Vec<super::source::FieldGen>>,
) {
    let mut rows_of: FxHashMap<usize, Arc<Vec<Vec<Value>>>> = FxHashMap::default();
    let mut gens_of: FxHashMap<usize, Vec<super::source::FieldGen>> = FxHashMap::default();
    for (i, node) in s.nodes.iter().enumerate() {
        if let NodeKind::Source(src) = &node.kind {
            match &src.data {
                SourceData::Rows { rows, .. } => {
                    let r = rows
                        .iter()
                        .map(|row| row.iter().map(|l| lit_value(l, interner)).collect())
                        .collect();
                    rows_of.insert(i, Arc::new(r));
                }
                SourceData::Generator { fields, .. } => {
                    gens_of.insert(i, fields.iter().map(|f| field_gen(f, interner)).collect());
                }
            }
        }
    }
    (rows_of, gens_of)
}

/// The operator at position `pos` of chain `vi`, wired to its chained neighbours and its
/// network outputs (`out_edges`: the chain's outgoing job edges).
#[allow(clippy::too_many_arguments)]
fn op_slot(
    s: &Scenario,
    p: &Plan,
    vi: usize,
    out_edges: &[usize],
    pos: usize,
    op: NodeIndex,
    interner: &mut Interner,
    annotate: bool,
) -> OpSlot {
    let (g, eg) = (&p.logical.graph, &p.execution);
    let v = &eg.vertices[vi];
    let ln = &g[op];
    let node = &s.nodes[ln.scenario_node];
    let (mut outs, mut side_outs) = (Vec::new(), Vec::new());
    for e in g.edges_directed(op, Direction::Outgoing) {
        let o = if p.chaining.breaks[e.id().index()].is_empty() {
            let tpos = v
                .ops
                .iter()
                .position(|&o| o == e.target())
                .expect("chained target in chain");
            Out::Chained(tpos as u16)
        } else {
            let w = out_edges
                .iter()
                .position(|&je| eg.edges[je].logical == e.id())
                .expect("network edge");
            Out::Network(w as u16)
        };
        match e.weight().port {
            Port::Main => outs.push(o),
            Port::Side => side_outs.push(o),
        }
    }
    // petgraph lists edges newest first; Flink's collector calls outputs in the
    // order they were added.
    outs.reverse();
    side_outs.reverse();
    let parent = g
        .edges_directed(op, Direction::Incoming)
        .find(|e| p.chaining.breaks[e.id().index()].is_empty())
        .map(|e| {
            let pos = v
                .ops
                .iter()
                .position(|&o| o == e.source())
                .expect("chained source in chain");
            (pos, e.weight().port)
        });
    debug_assert!(pos == 0 || parent.is_some());
    let (operator, default_cost) = operator(s, ln.scenario_node, interner, annotate);
    let mut slot = OpSlot::new(
        operator,
        outs,
        parent,
        node.cost.unwrap_or(default_cost),
        op.index(),
        node.schema.arity(),
    );
    if let NodeKind::Window(_) | NodeKind::Process(_) = node.kind {
        // late data of a window, the side output of a process function: records
        // with the operator's input fields
        // (a CEP pattern's timed-out partial matches: its own fields)
        let arity = node.side_output_schema(&s.nodes).arity();
        slot = slot.with_side_output(side_outs, arity);
    }
    slot
}

/// The record writer of subtask `st` on job edge `je`, over its channels `chans`.
fn writer(
    s: &Scenario,
    p: &Plan,
    je: usize,
    chans: Vec<u32>,
    st: u32,
    seeds: &SeedTree,
    interner: &mut Interner,
) -> RecordWriter {
    let (g, eg, cost) = (&p.logical.graph, &p.execution, &s.cost);
    let e = &eg.edges[je];
    let from_node = &s.nodes[g[e.from_op].scenario_node];
    let from_schema = match g[e.logical].port {
        Port::Main => &from_node.schema,
        // late elements have the window's input fields
        Port::Side => from_node.side_output_schema(&s.nodes),
    };
    // the key_by's key, compiled over its input: the producer's records
    let key = g[e.logical].key.as_ref().map(|k| k.compiled.bind(interner));
    let mut rng = seeds.stream(&format!("partitioner/{je}/{st}"));
    let nch = chans.len() as u32;
    let next = crate::flink::partition::initial_position(e.partitioner, nch, &mut rng);
    let down = &g[e.to_op];
    RecordWriter {
        partitioner: e.partitioner,
        pool_size: nch * cost.exclusive_buffers_per_channel + cost.floating_buffers_per_gate,
        channels: chans,
        key,
        max_parallelism: down.max_parallelism,
        downstream_parallelism: down.parallelism,
        next,
        rng,
        in_use: 0,
        arity: from_schema.arity() as u16,
        fixed_bytes: fixed_bytes(from_schema),
        records: 0,
        key_field: None,
        key_group_target: Vec::new(),
        routes: Default::default(),
    }
    .with_key_groups()
}

/// The input gate of task `tid`: the channels that reach it, one watermark valve per logical
/// input with a slot per channel (each channel learns its position in the gate).
/// The channels into every task, by task id, each list in channel id order: one pass over
/// the channels instead of one per task (a job at parallelism 256 has 65 536 channels).
fn inbound_channels(channels: &[Channel], tasks: u32) -> Vec<Vec<u32>> {
    let mut inbound = vec![Vec::new(); tasks as usize];
    for (c, ch) in channels.iter().enumerate() {
        if let Some(list) = inbound.get_mut(ch.to_task as usize) {
            list.push(c as u32);
        }
    }
    inbound
}

/// The input gate of a task whose inbound channels are `gate_channels` (in channel id order).
fn gate(s: &Scenario, channels: &mut [Channel], gate_channels: Vec<u32>) -> Gate {
    // Oracle of `inbound_channels`: the straightforward scan of all channels for this task.
    debug_assert!(
        gate_channels.first().is_none_or(|&c0| {
            let tid = channels[c0 as usize].to_task;
            let scan = (0..channels.len() as u32).filter(|&c| channels[c as usize].to_task == tid);
            scan.eq(gate_channels.iter().copied())
        }),
        "a gate's channels are every channel into its task, in id order"
    );
    // One watermark valve per logical input; each channel has a slot in its valve.
    let inputs = gate_channels
        .iter()
        .map(|&c| channels[c as usize].input as usize + 1)
        .max()
        .unwrap_or(0);
    let mut per_input = vec![0usize; inputs];
    let mut slots = Vec::with_capacity(gate_channels.len());
    for (pos, &c) in gate_channels.iter().enumerate() {
        let input = channels[c as usize].input as usize;
        slots.push((input, per_input[input]));
        per_input[input] += 1;
        channels[c as usize].gate_pos = pos as u32;
    }
    let valves = per_input.iter().map(|&n| Valve::new(n)).collect();
    let n_slots = gate_channels.len();
    Gate {
        channels: gate_channels,
        available: VecDeque::new(),
        pool: FloatingPool {
            free: s.cost.floating_buffers_per_gate,
        },
        wanting: Wanting::new(n_slots),
        ended: 0,
        current: None,
        slots,
        valves,
        watermark: crate::core::time::EventTime::MIN,
        idle: false,
        barriers: crate::flink::barrier::Aligner::new(
            n_slots,
            s.fault_tolerance
                .checkpointing
                .as_ref()
                .is_none_or(|c| c.mode == crate::scenario::CheckpointMode::ExactlyOnce),
        ),
        collect: None,
        notes: None,
    }
}

/// Serialized record size when it does not depend on the values (no strings).
fn fixed_bytes(schema: &Schema) -> Option<u32> {
    let mut b = RECORD_HEADER_BYTES;
    for f in &schema.fields {
        b += match f.ty {
            Type::Int | Type::Float => 8,
            Type::Bool => 1,
            Type::String => return None,
        };
    }
    Some(b)
}

#[allow(clippy::too_many_arguments)]
fn source_state(
    s: &Scenario,
    idx: usize,
    src: &crate::scenario::SourceSpec,
    st: u32,
    p: u32,
    seeds: &SeedTree,
    rows_of: &FxHashMap<usize, Arc<Vec<Vec<Value>>>>,
    gens_of: &FxHashMap<usize, Vec<super::source::FieldGen>>,
) -> SourceState {
    let node = &s.nodes[idx];
    let pace = src.rate.map(|r| Pace::per_sec(r / f64::from(p)));
    let arity = node.schema.arity();
    match &src.data {
        SourceData::Generator {
            count,
            duration,
            delay,
            ..
        } => {
            let total =
                count.map(|c| c / u64::from(p) + u64::from(u64::from(st) < c % u64::from(p)));
            SourceState {
                data: RtData::Generated {
                    fields: gens_of[&idx].clone(),
                    delay: *delay,
                    rngs: (0..=gens_of[&idx].len())
                        .map(|f| seeds.stream(&format!("source/{}/{st}/{f}", node.name)))
                        .collect(),
                },
                emitted: 0,
                total,
                until: duration.map(crate::core::time::SimTime::at),
                open_until: None,
                pace,
                subtask: st,
                parallelism: p,
                row: vec![Value::Int(0); arity],
                watermarks: generator(src),
                paused: false,
                stopped: false,
                more: Vec::new(),
                followed: None,
            }
        }
        SourceData::Rows {
            rows,
            repeat,
            partition,
            open_for,
        } => {
            let mine: Vec<u32> = (0..rows.len() as u32)
                .filter(|&i| match partition {
                    // an integer field (the checker's rule)
                    Some(f) => {
                        rows[i as usize][*f].as_int().rem_euclid(i64::from(p)) == i64::from(st)
                    }
                    None => i % p == st,
                })
                .collect();
            let total = mine.len() as u64 * repeat;
            SourceState {
                data: RtData::Rows {
                    rows: rows_of[&idx].clone(),
                    mine,
                    timestamps: src.timestamps,
                },
                emitted: 0,
                total: Some(total),
                until: None,
                open_until: open_for.map(crate::core::time::SimTime::at),
                pace,
                subtask: st,
                parallelism: p,
                row: Vec::with_capacity(arity),
                watermarks: generator(src),
                paused: false,
                stopped: false,
                more: Vec::new(),
                followed: None,
            }
        }
    }
}

/// The watermark generator of a source (a source without a strategy still ends with the
/// final watermark).
fn generator(src: &crate::scenario::SourceSpec) -> crate::flink::watermark::Generator {
    use crate::flink::watermark::{Emission, Generator, Strategy};
    match &src.watermarks {
        Some(w) => Generator::new(w.strategy),
        None => Generator::new(Strategy {
            bound_ms: None,
            emission: Emission::Periodic(None),
            idleness: None,
        }),
    }
}
