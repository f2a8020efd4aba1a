//! The runtime operator of each scenario node: what [`super::build`] puts in a chain slot,
//! with its default per-record cost. One builder per operator kind that needs more than a
//! constructor call (flat_map, sink, joins, windows), each reading the checked scenario's
//! compiled expressions and settings.

use crate::core::time::SimDuration;
use crate::core::value::{Interner, Value};
use crate::expr::{Expr, SelectItem};
use crate::ops::co_map::CoMapOp;
use crate::ops::join::{IntervalJoinOp, Pairing, WindowJoinOp};
use crate::ops::{Operator, filter::FilterOp, flat_map::FlatMapOp, map::MapOp, reduce, sink};
use crate::scenario::JoinKind;
use crate::scenario::{NodeKind, ReduceFn, Scenario, SinkSpec};
use rustc_hash::FxHashMap;

/// The runtime operator for a scenario node, and its default per-record cost.
pub(super) fn operator(
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
        NodeKind::Process(pr) if let crate::scenario::ProcessFn::Pattern(p) = &pr.function => {
            let key = pr.key.compiled.bind(interner);
            let conditions = p
                .conditions
                .iter()
                .map(|c| c.compiled.bind(interner))
                .collect();
            (
                Operator::Pattern(Box::new(
                    crate::ops::pattern::PatternOp::new(
                        key,
                        conditions,
                        p.def.clone(),
                        p.timeouts_to_side,
                    )
                    .with_late_side_output(p.late_to_side),
                )),
                c.keyed_record,
            )
        }
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
                crate::scenario::ProcessFn::Pattern(_) => unreachable!("a pattern is built above"),
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
    if let crate::scenario::Guarantee::ExactlyOnce(t) = guarantee {
        let keep = match spec {
            SinkSpec::Collect { capture } => *capture,
            _ => 0,
        };
        let mut txn = crate::ops::sink_txn::Transactions::new(arity, keep);
        txn.timeout = t.timeout;
        op.txn = Some(Box::new(txn));
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
        JoinKind::Regular => Operator::IntervalJoin(Box::new(IntervalJoinOp::regular(pairing))),
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
