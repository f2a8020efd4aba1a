//! Building the runtime from a plan: tasks with their operator chains, record writers,
//! channels and input gates, and source subtasks with their share of the data.

use super::buffer::RECORD_HEADER_BYTES;
use super::channel::{Channel, Ends, FloatingPool};
use super::net::{Flusher, NetStats, RecordWriter};
use super::source::{SourceData as RtData, SourceState, field_gen, lit_value};
use super::task::{Gate, Sched, Task, TaskTime};
use crate::core::cost::BufferTimeout;
use crate::core::rng::SeedTree;
use crate::core::time::SimDuration;
use crate::core::value::{Interner, Schema, Type, Value};
use crate::expr::{Expr, SelectItem};
use crate::flink::valve::Valve;
use crate::ops::chain::Chain;
use crate::ops::co_map::CoMapOp;
use crate::ops::join::{IntervalJoinOp, Pairing, WindowJoinOp};
use crate::ops::{
    OpSlot, Operator, Out, filter::FilterOp, flat_map::FlatMapOp, map::MapOp, reduce, sink,
};
use crate::plan::Plan;
use crate::plan::logical::Port;
use crate::scenario::JoinKind;
use crate::scenario::{NodeKind, ReduceFn, Scenario, SinkSpec, SourceData};
use petgraph::Direction;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::sync::Arc;

/// The runtime objects of a job.
pub struct Runtime {
    /// One per subtask of every chain.
    pub tasks: Vec<Task>,
    /// One per (job edge, upstream subtask, downstream subtask) pair that is connected.
    pub channels: Vec<Channel>,
    /// `[chain][subtask]` → task id.
    pub task_of: Vec<Vec<u32>>,
}

/// Builds tasks and channels.
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
    let cost = &s.cost;
    let flush_interval = match s.job.buffer_timeout {
        BufferTimeout::Interval(d) => Some(d),
        BufferTimeout::Off => None,
    };
    // Task ids.
    let mut task_of = Vec::new();
    let mut n = 0u32;
    for v in &eg.vertices {
        task_of.push((n..n + v.parallelism).collect::<Vec<_>>());
        n += v.parallelism;
    }
    let (mut channels, edge_channels) = connect(s, p, &task_of);
    // Strings of row sources, interned once per source (before any operator's).
    let (rows_of, gens_of) = source_data(s, interner);
    let mut tasks = Vec::with_capacity(n as usize);
    for (vi, v) in eg.vertices.iter().enumerate() {
        let out_edges: Vec<usize> = eg
            .edges
            .iter()
            .enumerate()
            .filter(|(_, e)| e.from_vertex == vi)
            .map(|(i, _)| i)
            .collect();
        for st in 0..v.parallelism {
            let tid = task_of[vi][st as usize];
            let ops = v
                .ops
                .iter()
                .enumerate()
                .map(|(pos, &op)| op_slot(s, p, vi, &out_edges, pos, op, interner, annotate))
                .collect();
            let ser_ns = out_edges
                .iter()
                .map(|&je| {
                    let copies = eg.edges[je]
                        .partitioner
                        .copies(edge_channels[je][st as usize].len());
                    cost.serialize_record.as_nanos() * copies as u64
                })
                .collect();
            let chain = Chain::new(ops, ser_ns);
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
            let mut gate = gate(s, &mut channels, tid);
            if annotate {
                gate.notes = Some(Vec::new());
            }
            tasks.push(Task {
                vertex: vi,
                subtask: st,
                tm: p.deployment.task_manager_of[vi][st as usize],
                chain,
                writers,
                flusher: Flusher::new(flush_interval),
                stats: NetStats::default(),
                gate,
                source,
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
                label: format!("{} #{st}", v.name),
            });
        }
    }
    Runtime {
        tasks,
        channels,
        task_of,
    }
}

/// The channels of every job edge: `[edge][upstream subtask]` → channel ids, by target
/// position.
#[allow(clippy::type_complexity)]
fn connect(s: &Scenario, p: &Plan, task_of: &[Vec<u32>]) -> (Vec<Channel>, Vec<Vec<Vec<u32>>>) {
    let (g, eg, cost) = (&p.logical.graph, &p.execution, &s.cost);
    let mut channels = Vec::new();
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
        node.cost.unwrap_or(default_cost).as_nanos(),
        op.index(),
        node.schema.arity(),
    );
    if let NodeKind::Window(_) | NodeKind::Process(_) = node.kind {
        // late data of a window, the side output of a process function: records
        // with the operator's input fields
        let input_arity = s.nodes[node.inputs[0].node].schema.arity();
        slot = slot.with_side_output(side_outs, input_arity);
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
        Port::Side => &s.nodes[from_node.inputs[0].node].schema,
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
fn gate(s: &Scenario, channels: &mut [Channel], tid: u32) -> Gate {
    let gate_channels: Vec<u32> = (0..channels.len() as u32)
        .filter(|&c| channels[c as usize].to_task == tid)
        .collect();
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

/// The runtime operator for a scenario node, and its default per-record cost.
fn operator(
    s: &Scenario,
    idx: usize,
    interner: &mut Interner,
    annotate: bool,
) -> (Operator, SimDuration) {
    let node = &s.nodes[idx];
    let c = &s.cost;
    match &node.kind {
        NodeKind::Source(_) => (Operator::Source, c.source_record),
        NodeKind::Map { select } => {
            let exprs = select
                .iter()
                .map(|(_, e)| e.compiled.bind(interner))
                .collect();
            (Operator::Map(MapOp::new(exprs)), c.operator_record)
        }
        NodeKind::Filter { condition } => (
            Operator::Filter(FilterOp::new(condition.compiled.bind(interner))),
            c.operator_record,
        ),
        NodeKind::FlatMap { select } => (
            Operator::FlatMap(flat_map_op(select, interner)),
            c.operator_record,
        ),
        NodeKind::Reduce { key, function } => {
            let key = key.compiled.bind(interner);
            let agg = match function {
                ReduceFn::Sum(i) => reduce::Aggregate::Sum(*i),
                ReduceFn::Min(i) => reduce::Aggregate::Min(*i),
                ReduceFn::Max(i) => reduce::Aggregate::Max(*i),
                ReduceFn::Count => reduce::Aggregate::Count,
                ReduceFn::Expr(fields) => reduce::Aggregate::Expr(
                    fields
                        .iter()
                        .map(|(_, e)| {
                            let a = e.compiled.bind(interner);
                            (a.index, a.expr)
                        })
                        .collect(),
                ),
            };
            (
                Operator::Reduce(reduce::ReduceOp::new(key, agg, node.schema.arity())),
                c.keyed_record,
            )
        }
        NodeKind::Sink(spec, guarantee) => (
            Operator::Sink(sink_op(s, idx, spec, *guarantee, interner)),
            c.sink_record,
        ),
        NodeKind::Window(w) => (
            Operator::Window(Box::new(window_op(s, node, w, interner, annotate))),
            c.keyed_record,
        ),
        NodeKind::CoMap { map1, map2 } => {
            let m1 = map1
                .iter()
                .map(|(_, e)| e.compiled.bind(interner))
                .collect();
            let m2 = map2
                .iter()
                .map(|(_, e)| e.compiled.bind(interner))
                .collect();
            (
                Operator::CoMap(Box::new(CoMapOp {
                    map1: MapOp::new(m1),
                    map2: MapOp::new(m2),
                })),
                c.operator_record,
            )
        }
        NodeKind::Join(j) => (join_op(s, node, j, interner, annotate), c.keyed_record),
        NodeKind::Process(pr) => {
            let key = pr.key.compiled.bind(interner);
            let func: Box<dyn crate::flink::process::KeyedProcessFunction> = match &pr.function {
                crate::scenario::ProcessFn::LongRideAlert { is_start, timeout } => {
                    Box::new(crate::flink::process::LongRideAlert {
                        is_start: *is_start,
                        timeout: *timeout,
                    })
                }
                crate::scenario::ProcessFn::Custom { make, .. } => make(),
            };
            (
                Operator::Process(Box::new(crate::ops::process::ProcessOp::new(key, func))),
                c.keyed_record,
            )
        }
        NodeKind::KeyBy { .. } | NodeKind::Union | NodeKind::SideOutput { .. } => {
            unreachable!("virtual nodes are folded into edges")
        }
    }
}

/// A flat_map: its scalar columns and the column that splits, by position.
fn flat_map_op(
    select: &[(String, crate::scenario::ExprSrc<SelectItem>)],
    interner: &mut Interner,
) -> FlatMapOp {
    let mut scalars = Vec::new();
    let mut split = None;
    for (pos, (_, e)) in select.iter().enumerate() {
        match e.compiled.bind(interner) {
            SelectItem::Scalar(x) => scalars.push((pos, x)),
            SelectItem::Split { input, delimiter } => split = Some((pos, input, delimiter)),
        }
    }
    let out = vec![Value::Int(0); select.len()];
    FlatMapOp {
        scalars,
        split,
        out,
        pieces: Vec::new(),
        max_out: usize::MAX,
    }
}

/// A sink: its mode, a transaction log when it is exactly-once, and a ledger of what it made
/// visible when the run is compared with a reference.
fn sink_op(
    s: &Scenario,
    idx: usize,
    spec: &SinkSpec,
    guarantee: crate::scenario::Guarantee,
    interner: &mut Interner,
) -> sink::SinkOp {
    let node = &s.nodes[idx];
    let mode = match spec {
        SinkSpec::Collect { capture } => sink::SinkMode::Collect { limit: *capture },
        SinkSpec::Upsert { key, .. } => sink::SinkMode::Upsert {
            key: key.compiled.bind(interner),
            index: FxHashMap::default(),
        },
        SinkSpec::Discard => sink::SinkMode::Discard,
    };
    let arity = node.schema.arity();
    let mut op = sink::SinkOp::new(mode, arity);
    if guarantee == crate::scenario::Guarantee::ExactlyOnce {
        let keep = match spec {
            SinkSpec::Collect { capture } => *capture,
            _ => 0,
        };
        op.txn = Some(Box::new(crate::ops::sink_txn::Transactions::new(
            arity, keep,
        )));
    }
    if s.fault_tolerance.keeps_output() {
        op.ledger = Some(Box::default());
        if let Some(col) = crate::scenario::changelog::final_key_column(s, idx) {
            op.track_final_per_key(col);
        }
    }
    op
}

/// A window join or an interval join; with `annotate`, a window join logs its firings.
fn join_op(
    s: &Scenario,
    node: &crate::scenario::NodeDef,
    j: &crate::scenario::JoinSpec,
    interner: &mut Interner,
    annotate: bool,
) -> Operator {
    let left = &s.nodes[node.inputs[0].node].schema;
    let right = &s.nodes[node.inputs[1].node].schema;
    let select = j
        .select
        .as_ref()
        .map(|sel| sel.iter().map(|(_, e)| e.compiled.bind(interner)).collect());
    let pairing = Pairing::new(
        j.left_key.compiled.bind(interner),
        j.right_key.compiled.bind(interner),
        select,
        left.arity(),
        right.arity(),
    );
    match &j.kind {
        JoinKind::Window(a) => {
            let gaps = j.gap.as_ref().map(|g| g.compiled.bind(interner));
            Operator::WindowJoin(Box::new(WindowJoinOp::new(
                pairing,
                a.clone(),
                gaps,
                annotate,
            )))
        }
        JoinKind::Interval { lower, upper } => {
            Operator::IntervalJoin(Box::new(IntervalJoinOp::new(pairing, *lower, *upper)))
        }
    }
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
    let interval_ns = src.rate.map(|r| 1e9 / (r / f64::from(p)));
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
                interval_ns,
                subtask: st,
                parallelism: p,
                row: vec![Value::Int(0); arity],
                watermarks: generator(src),
                paused: false,
                stopped: false,
                more: Vec::new(),
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
                interval_ns,
                subtask: st,
                parallelism: p,
                row: Vec::with_capacity(arity),
                watermarks: generator(src),
                paused: false,
                stopped: false,
                more: Vec::new(),
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

/// The window operator of a scenario node.
fn window_op(
    s: &Scenario,
    node: &crate::scenario::NodeDef,
    w: &crate::scenario::WindowSpec,
    interner: &mut Interner,
    annotate: bool,
) -> crate::ops::window::WindowOp {
    use crate::flink::window::Assigner;
    use crate::flink::window::defaults::trigger_and_evictor;
    use crate::ops::window::{WindowConfig, WindowOp};
    use crate::ops::window_acc::WindowAgg;
    use crate::scenario::WindowFn;
    let input = &s.nodes[node.inputs[0].node].schema;
    // windowAll: every record has the key 0
    let key = w
        .key
        .as_ref()
        .map_or_else(|| Expr::int(0), |k| k.compiled.bind(interner));
    let key_is_field = key.as_field().is_some();
    let agg = match &w.function {
        WindowFn::Sum(i) => WindowAgg::Sum(*i),
        WindowFn::Min(i) => WindowAgg::Min(*i),
        WindowFn::Max(i) => WindowAgg::Max(*i),
        WindowFn::Avg(i) => WindowAgg::Avg(*i),
        WindowFn::Count => WindowAgg::Count,
        WindowFn::Expr(fields) => WindowAgg::Reduce(
            fields
                .iter()
                .map(|(_, e)| {
                    let a = e.compiled.bind(interner);
                    (a.index, a.expr)
                })
                .collect(),
        ),
    };
    let (trigger, evictor) = trigger_and_evictor(
        &w.assigner,
        w.processing_time,
        w.count,
        w.trigger,
        w.evictor,
    );
    let cfg = WindowConfig {
        key,
        assigner: w.assigner.clone(),
        gap: w.gap.as_ref().map(|g| g.compiled.bind(interner)),
        processing_time: w.processing_time,
        trigger,
        evictor,
        allowed_lateness: w.allowed_lateness,
        agg,
        side_output: w.late_output.is_some(),
        input_arity: input.arity(),
        with_bounds: w.assigner != Assigner::Global,
        // The reduced record of an `expr` window already holds a key that is a plain field
        // (the checker's output schema follows the same rule).
        with_key: w.key.is_some() && !(matches!(w.function, WindowFn::Expr(_)) && key_is_field),
    };
    WindowOp::new(cfg, annotate)
}
