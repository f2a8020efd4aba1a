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
use crate::expr::{self, Expr, Scope, SelectItem, compile_select};
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
use crate::scenario::{ExprSrc, NodeKind, ReduceFn, Scenario, SinkSpec, SourceData};
use petgraph::Direction;
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

/// Compiles an expression that validation already accepted.
fn compiled(src: &ExprSrc, scope: &Scope<'_>, interner: &mut Interner) -> Expr {
    expr::compile(&src.text, scope, interner).expect("validated expression compiles")
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
    // Channels, per job edge and upstream subtask, by target position.
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
    // Strings of row sources, interned once per source.
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
            let mut ops = Vec::with_capacity(v.ops.len());
            for (pos, &op) in v.ops.iter().enumerate() {
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
                    node.cost.unwrap_or(default_cost).0,
                    op.index(),
                    node.schema.arity(),
                );
                if let NodeKind::Window(_) | NodeKind::Process(_) = node.kind {
                    // late data of a window, the side output of a process function: records
                    // with the operator's input fields
                    let input_arity = s.nodes[node.inputs[0].node].schema.arity();
                    slot = slot.with_side_output(side_outs, input_arity);
                }
                ops.push(slot);
            }
            let ser_ns = out_edges
                .iter()
                .map(|&je| {
                    let copies =
                        if eg.edges[je].partitioner == crate::scenario::Partitioner::Broadcast {
                            edge_channels[je][st as usize].len() as u64
                        } else {
                            1
                        };
                    cost.serialize_record.0 * copies
                })
                .collect();
            let chain = Chain::new(ops, ser_ns);
            let mut writers = Vec::new();
            for &je in &out_edges {
                let e = &eg.edges[je];
                let chans = edge_channels[je][st as usize].clone();
                let from_node = &s.nodes[g[e.from_op].scenario_node];
                let from_schema = match g[e.logical].port {
                    Port::Main => &from_node.schema,
                    // late elements have the window's input fields
                    Port::Side => &s.nodes[from_node.inputs[0].node].schema,
                };
                let key = g[e.logical]
                    .key
                    .as_ref()
                    .map(|k| compiled(k, &Scope::Record(from_schema), interner));
                let mut rng = seeds.stream(&format!("partitioner/{je}/{st}"));
                let nch = chans.len() as u32;
                let next = match e.partitioner {
                    crate::scenario::Partitioner::Rebalance => rng.below(u64::from(nch)) as u32,
                    _ => nch - 1,
                };
                let down = &g[e.to_op];
                writers.push(
                    RecordWriter {
                        partitioner: e.partitioner,
                        pool_size: nch * cost.exclusive_buffers_per_channel
                            + cost.floating_buffers_per_gate,
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
                    }
                    .with_key_groups(),
                );
            }
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
            tasks.push(Task {
                vertex: vi,
                subtask: st,
                tm: p.deployment.task_manager_of[vi][st as usize],
                chain,
                writers,
                flusher: Flusher::new(flush_interval),
                stats: NetStats::default(),
                gate: Gate {
                    channels: gate_channels,
                    available: VecDeque::new(),
                    pool: FloatingPool {
                        free: cost.floating_buffers_per_gate,
                    },
                    ended: 0,
                    current: None,
                    slots,
                    valves,
                    watermark: crate::core::time::EVENT_TIME_MIN,
                    idle: false,
                    barriers: crate::flink::barrier::Aligner::new(
                        n_slots,
                        s.fault_tolerance
                            .checkpointing
                            .as_ref()
                            .is_none_or(|c| c.mode == crate::scenario::CheckpointMode::ExactlyOnce),
                    ),
                    collect: None,
                },
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
    let input_schema = || -> &Schema { &s.nodes[node.inputs[0].node].schema };
    match &node.kind {
        NodeKind::Source(_) => (Operator::Source, c.source_record),
        NodeKind::Map { select } => {
            let exprs = select
                .iter()
                .map(|(_, e)| compiled(e, &Scope::Record(input_schema()), interner))
                .collect();
            (Operator::Map(MapOp::new(exprs)), c.operator_record)
        }
        NodeKind::Filter { condition } => (
            Operator::Filter(FilterOp::new(compiled(
                condition,
                &Scope::Record(input_schema()),
                interner,
            ))),
            c.operator_record,
        ),
        NodeKind::FlatMap { select } => {
            let mut scalars = Vec::new();
            let mut split = None;
            for (pos, (_, e)) in select.iter().enumerate() {
                match compile_select(&e.text, &Scope::Record(input_schema()), interner)
                    .expect("validated")
                {
                    SelectItem::Scalar(x) => scalars.push((pos, x)),
                    SelectItem::Split { input, delimiter } => split = Some((pos, input, delimiter)),
                }
            }
            let out = vec![Value::Int(0); select.len()];
            (
                Operator::FlatMap(FlatMapOp {
                    scalars,
                    split,
                    out,
                    pieces: Vec::new(),
                    max_out: usize::MAX,
                }),
                c.operator_record,
            )
        }
        NodeKind::Reduce { function } => {
            let key_by = &s.nodes[node.inputs[0].node];
            let NodeKind::KeyBy { key } = &key_by.kind else {
                unreachable!("validated: reduce reads a key_by")
            };
            let schema = input_schema();
            let key = compiled(key, &Scope::Record(schema), interner);
            let agg = match function {
                ReduceFn::Sum(i) => reduce::Aggregate::Sum(*i),
                ReduceFn::Min(i) => reduce::Aggregate::Min(*i),
                ReduceFn::Max(i) => reduce::Aggregate::Max(*i),
                ReduceFn::Count => reduce::Aggregate::Count,
                ReduceFn::Expr(fields) => reduce::Aggregate::Expr(
                    fields
                        .iter()
                        .map(|(f, e)| {
                            let pos = schema.index_of(f).expect("validated field");
                            (
                                pos,
                                compiled(
                                    e,
                                    &Scope::Reduce {
                                        acc: schema,
                                        cur: schema,
                                    },
                                    interner,
                                ),
                            )
                        })
                        .collect(),
                ),
            };
            (
                Operator::Reduce(reduce::ReduceOp::new(key, agg, node.schema.arity())),
                c.keyed_record,
            )
        }
        NodeKind::Sink(spec, guarantee) => {
            let mode = match spec {
                SinkSpec::Collect { capture } => sink::SinkMode::Collect { limit: *capture },
                SinkSpec::Upsert { key, .. } => sink::SinkMode::Upsert {
                    key: compiled(key, &Scope::Record(&node.schema), interner),
                    index: FxHashMap::default(),
                },
                SinkSpec::Discard => sink::SinkMode::Discard,
            };
            let arity = node.schema.arity();
            let mut op = sink::SinkOp::new(mode, arity);
            if *guarantee == crate::scenario::Guarantee::ExactlyOnce {
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
                if let Some(col) = crate::oracle::reference::final_key_column(s, idx) {
                    op.track_final_per_key(col);
                }
            }
            (Operator::Sink(op), c.sink_record)
        }
        NodeKind::Window(w) => (
            Operator::Window(Box::new(window_op(s, node, w, interner, annotate))),
            c.keyed_record,
        ),
        NodeKind::CoMap { map1, map2 } => {
            let sch = |k: usize| &s.nodes[node.inputs[k].node].schema;
            let m1 = map1
                .iter()
                .map(|(_, e)| compiled(e, &Scope::Record(sch(0)), interner))
                .collect();
            let m2 = map2
                .iter()
                .map(|(_, e)| compiled(e, &Scope::Record(sch(1)), interner))
                .collect();
            (
                Operator::CoMap(Box::new(CoMapOp {
                    map1: MapOp::new(m1),
                    map2: MapOp::new(m2),
                })),
                c.operator_record,
            )
        }
        NodeKind::Join(j) => {
            let left = &s.nodes[node.inputs[0].node].schema;
            let right = &s.nodes[node.inputs[1].node].schema;
            let select = j.select.as_ref().map(|sel| {
                sel.iter()
                    .map(|(_, e)| compiled(e, &Scope::Join { left, right }, interner))
                    .collect()
            });
            let pairing = Pairing::new(
                compiled(&j.left_key, &Scope::Record(left), interner),
                compiled(&j.right_key, &Scope::Record(right), interner),
                select,
                left.arity(),
                right.arity(),
            );
            let op = match &j.kind {
                JoinKind::Window(a) => {
                    let gaps = j.gap.as_ref().map(|g| {
                        [
                            compiled(g, &Scope::Record(left), interner),
                            compiled(g, &Scope::Record(right), interner),
                        ]
                    });
                    Operator::WindowJoin(Box::new(WindowJoinOp::new(pairing, a.clone(), gaps)))
                }
                JoinKind::Interval { lower, upper } => {
                    Operator::IntervalJoin(Box::new(IntervalJoinOp::new(pairing, *lower, *upper)))
                }
            };
            (op, c.keyed_record)
        }
        NodeKind::Process(pr) => {
            let input = &s.nodes[node.inputs[0].node].schema;
            let key = compiled(&pr.key, &Scope::Record(input), interner);
            let func: Box<dyn crate::process::KeyedProcessFunction> = match &pr.function {
                crate::scenario::ProcessFn::LongRideAlert { is_start, timeout } => {
                    Box::new(crate::process::LongRideAlert {
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
                until: duration.map(|d| crate::core::time::SimTime(d.0)),
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
                    Some(f) => match rows[i as usize][*f] {
                        crate::scenario::Lit::Int(v) => v.rem_euclid(i64::from(p)) == i64::from(st),
                        _ => unreachable!("the checker makes partition fields integers"),
                    },
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
                open_until: open_for.map(|d| crate::core::time::SimTime(d.0)),
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
    use crate::flink::window::trigger::{Evictor, Trigger, TriggerKind};
    use crate::ops::window::{WindowConfig, WindowOp};
    use crate::ops::window_acc::WindowAgg;
    use crate::scenario::WindowFn;
    let input = &s.nodes[node.inputs[0].node].schema;
    let key = match &w.key {
        Some(k) => compiled(k, &Scope::Record(input), interner),
        None => compiled(
            &ExprSrc {
                text: "0".into(),
                offset: 0,
            },
            &Scope::Record(input),
            interner,
        ),
    };
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
                .map(|(f, e)| {
                    (
                        input.index_of(f).expect("validated"),
                        compiled(
                            e,
                            &Scope::Reduce {
                                acc: input,
                                cur: input,
                            },
                            interner,
                        ),
                    )
                })
                .collect(),
        ),
    };
    // Defaults as in Flink: the assigner's default trigger; count windows are global windows
    // with a (purging) count trigger, and an evictor when they slide.
    let (trigger, evictor) = match w.count {
        Some((n, None)) => (
            Trigger {
                kind: TriggerKind::Count(n),
                purging: true,
            },
            None,
        ),
        Some((n, Some(slide))) => (
            Trigger {
                kind: TriggerKind::Count(slide),
                purging: false,
            },
            Some(Evictor::Count(n as usize)),
        ),
        None => {
            let default = match (&w.assigner, w.processing_time) {
                (Assigner::Global, _) => TriggerKind::Never,
                (_, true) => TriggerKind::ProcessingTime,
                (_, false) => TriggerKind::EventTime,
            };
            (
                w.trigger.unwrap_or(Trigger {
                    kind: default,
                    purging: false,
                }),
                w.evictor,
            )
        }
    };
    let cfg = WindowConfig {
        key,
        assigner: w.assigner.clone(),
        gap: w
            .gap
            .as_ref()
            .map(|g| compiled(g, &Scope::Record(input), interner)),
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
