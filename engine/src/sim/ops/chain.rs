//! Running a slice of records through a chain, with Flink's timing.
//!
//! Flink hands a record through a chain depth first: the head processes record 1, passes it
//! to the next operator, which passes it on, until it is written to the network or consumed
//! by a sink; only then does the head take record 2. A record therefore leaves the chain at
//! `start + (CPU time of all work done before it, in depth-first order) + (its own path)`.
//!
//! Executing that literally costs a function call per operator per record. Instead, [`run`]
//! executes operator by operator over the whole slice (phase 1), then recovers the
//! depth-first times exactly: every output record remembers its input record (`parent`), so
//! phase 2 sums, bottom-up, the CPU time each record causes in its operator and everything
//! downstream (its *subtree*), and phase 3 lays the subtrees end to end in depth-first order.
//! Phase 4 hands records to network writers and sinks at those times. The test at the bottom
//! checks the result against a literal record-at-a-time executor.
//!
//! One simplification: an operator that reads processing time sees the slice's start time.

use super::batch::View;
use super::{Cx, OpSlot, Operator, Out};
use crate::expr::eval::EvalCx;
use crate::time::SimTime;

/// How an operator's outputs relate to its inputs (decides the fast paths of the timing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Output `i` comes from input `i` (source, map, reduce).
    OneToOne,
    /// Zero or one output per input (filter).
    Select,
    /// Any number of outputs per input (flat_map).
    Fan,
    /// No outputs (sink).
    Consume,
}

impl Operator {
    /// The operator's [`Shape`].
    pub fn shape(&self) -> Shape {
        match self {
            Operator::Source | Operator::Map(_) | Operator::Reduce(_) => Shape::OneToOne,
            Operator::Filter(_) => Shape::Select,
            Operator::FlatMap(_) => Shape::Fan,
            Operator::Sink(_) => Shape::Consume,
        }
    }
}

/// A chain of operators with its precomputed output wiring.
#[derive(Debug)]
pub struct Chain {
    /// Operators in topological order.
    pub ops: Vec<OpSlot>,
    /// Every network output: `(operator, position among its network outputs, writer)`.
    pub net_outs: Vec<(usize, usize, u16)>,
    /// Operators that are sinks.
    pub sinks: Vec<usize>,
    /// CPU time to serialize one record for each network writer (all copies of a broadcast).
    pub ser_ns: Vec<u64>,
    /// Scratch for merging the writes of several network outputs by time.
    merge: Vec<(u64, u32, u32, u16)>,
}

impl Chain {
    /// A chain of these operators; `ser_ns[w]` is the serialization cost of writer `w`.
    pub fn new(ops: Vec<OpSlot>, ser_ns: Vec<u64>) -> Self {
        let mut net_outs = Vec::new();
        let mut sinks = Vec::new();
        for (j, s) in ops.iter().enumerate() {
            let mut q = 0;
            for o in &s.outs {
                if let Out::Network(w) = *o {
                    net_outs.push((j, q, w));
                    q += 1;
                }
            }
            if matches!(s.op, Operator::Sink(_)) {
                sinks.push(j);
            }
        }
        Chain {
            ops,
            net_outs,
            sinks,
            ser_ns,
            merge: Vec::new(),
        }
    }

    /// Runs `input` (or, for a source chain, the records already in the head's `out`) through
    /// the chain starting at local time `t0`; `in_cost` is charged before each head record
    /// (deserialization). Returns the local time when the last record is done.
    pub fn run(&mut self, input: Option<View<'_>>, t0: u64, in_cost: u64, cx: &mut Cx<'_>) -> u64 {
        forward(&mut self.ops, input, &mut cx.ev);
        subtree_costs(&mut self.ops, input, &self.ser_ns);
        let end = start_times(&mut self.ops, input, t0, in_cost, &self.ser_ns);
        self.emit(input, cx);
        end
    }

    fn emit(&mut self, input: Option<View<'_>>, cx: &mut Cx<'_>) {
        let ops = &mut self.ops;
        if let [(j, q, w)] = self.net_outs[..] {
            // One network output (the common case): already in time order.
            let s = &ops[j];
            let nets = s.network_outs;
            if nets == 1 {
                cx.net
                    .write_batch(w as usize, s.out.view(), &s.write_ns, &mut cx.ev);
            } else {
                let view = s.out.view();
                for i in 0..view.len() {
                    cx.net.write(
                        w as usize,
                        view.row(i),
                        view.meta[i],
                        SimTime(s.write_ns[i * nets + q]),
                        &mut cx.ev,
                    );
                }
            }
        } else if !self.net_outs.is_empty() {
            self.merge.clear();
            for &(j, q, w) in &self.net_outs {
                let s = &ops[j];
                let nets = s.network_outs;
                for i in 0..s.out.len() {
                    self.merge
                        .push((s.write_ns[i * nets + q], j as u32, i as u32, w));
                }
            }
            // Stable: ties keep depth-first order.
            self.merge.sort_by_key(|e| e.0);
            for &(t, j, i, w) in &self.merge {
                let view = ops[j as usize].out.view();
                let i = i as usize;
                cx.net.write(
                    w as usize,
                    view.row(i),
                    view.meta[i],
                    SimTime(t),
                    &mut cx.ev,
                );
            }
        }
        for &j in &self.sinks {
            let (before, rest) = ops.split_at_mut(j);
            let slot = &mut rest[0];
            let view = match slot.parent {
                Some(p) => before[p].out.view(),
                None => input.expect("a sink head has input"),
            };
            let Operator::Sink(sink) = &mut slot.op else {
                unreachable!("listed as a sink")
            };
            sink.consume_batch(view, &slot.start_ns, slot.cost_ns, &mut cx.ev);
        }
    }
}

/// Phase 1: each operator processes its whole input.
fn forward(ops: &mut [OpSlot], input: Option<View<'_>>, ev: &mut EvalCx<'_>) {
    for j in 0..ops.len() {
        let (before, rest) = ops.split_at_mut(j);
        let slot = &mut rest[0];
        if matches!(slot.op, Operator::Source) {
            slot.records_in += slot.out.len() as u64;
            slot.records_out += slot.out.len() as u64;
            continue;
        }
        slot.out.clear();
        let view = match slot.parent {
            Some(p) => before[p].out.view(),
            None => input.expect("a non-source head has input"),
        };
        slot.records_in += view.len() as u64;
        slot.op.process(view, &mut slot.out, ev);
        slot.records_out += slot.out.len() as u64;
    }
}

fn input_len(ops: &[OpSlot], j: usize, input: Option<View<'_>>) -> usize {
    let slot = &ops[j];
    match (slot.parent, &slot.op) {
        (_, Operator::Source) => slot.out.len(),
        (Some(p), _) => ops[p].out.len(),
        (None, _) => input.map_or(0, |v| v.len()),
    }
}

/// Phase 2: for every operator and input record, the CPU time the record causes there and
/// downstream — computed bottom-up.
fn subtree_costs(ops: &mut [OpSlot], input: Option<View<'_>>, ser: &[u64]) {
    for j in (0..ops.len()).rev() {
        let n_in = input_len(ops, j, input);
        let (head, tail) = ops.split_at_mut(j + 1);
        let slot = &mut head[j];
        let base = j + 1;
        let c = slot.cost_ns;
        let st = &mut slot.subtree_ns;
        st.clear();
        match (slot.shape, &slot.outs[..]) {
            (Shape::Consume, _) | (_, []) => st.resize(n_in, c),
            (Shape::OneToOne, [Out::Chained(k)]) => {
                st.extend(tail[*k as usize - base].subtree_ns.iter().map(|x| x + c))
            }
            (Shape::OneToOne, [Out::Network(w)]) => st.resize(n_in, c + ser[*w as usize]),
            (Shape::Select, [Out::Chained(k)]) => {
                st.resize(n_in, c);
                for (p, x) in slot
                    .out
                    .parent
                    .iter()
                    .zip(&tail[*k as usize - base].subtree_ns)
                {
                    st[*p as usize] += x;
                }
            }
            (Shape::Select, [Out::Network(w)]) => {
                st.resize(n_in, c);
                let sc = ser[*w as usize];
                for p in &slot.out.parent {
                    st[*p as usize] += sc;
                }
            }
            _ => {
                st.resize(n_in, c);
                let one_to_one = slot.shape == Shape::OneToOne;
                for i in 0..slot.out.len() {
                    let mut add = 0;
                    for o in &slot.outs {
                        add += match *o {
                            Out::Chained(k) => tail[k as usize - base].subtree_ns[i],
                            Out::Network(w) => ser[w as usize],
                        };
                    }
                    let x = if one_to_one {
                        i
                    } else {
                        slot.out.parent[i] as usize
                    };
                    st[x] += add;
                }
            }
        }
    }
}

/// Phase 3: start times, top-down in depth-first order. Returns the end of the slice.
fn start_times(
    ops: &mut [OpSlot],
    input: Option<View<'_>>,
    t0: u64,
    in_cost: u64,
    ser: &[u64],
) -> u64 {
    let head_len = input_len(ops, 0, input);
    let mut t = t0;
    {
        let h = &mut ops[0];
        h.start_ns.clear();
        h.start_ns.extend(h.subtree_ns[..head_len].iter().map(|s| {
            t += in_cost;
            let start = t;
            t += s;
            start
        }));
    }
    for j in 0..ops.len() {
        let (head, tail) = ops.split_at_mut(j + 1);
        let slot = &mut head[j];
        let base = j + 1;
        let c = slot.cost_ns;
        slot.write_ns.clear();
        match (slot.shape, &slot.outs[..]) {
            (Shape::Consume, _) | (_, []) => {}
            (Shape::OneToOne, [Out::Chained(k)]) => {
                let child = &mut tail[*k as usize - base];
                child.start_ns.clear();
                child.start_ns.extend(slot.start_ns.iter().map(|s| s + c));
            }
            (Shape::OneToOne, [Out::Network(w)]) => {
                let d = c + ser[*w as usize];
                slot.write_ns.extend(slot.start_ns.iter().map(|s| s + d));
            }
            (Shape::Select, [Out::Chained(k)]) => {
                let child = &mut tail[*k as usize - base];
                child.start_ns.clear();
                child.start_ns.extend(
                    slot.out
                        .parent
                        .iter()
                        .map(|p| slot.start_ns[*p as usize] + c),
                );
            }
            (Shape::Select, [Out::Network(w)]) => {
                let d = c + ser[*w as usize];
                slot.write_ns.extend(
                    slot.out
                        .parent
                        .iter()
                        .map(|p| slot.start_ns[*p as usize] + d),
                );
            }
            _ => general_start_times(slot, tail, base, ser),
        }
    }
    t
}

/// Start times for operators with fan-out or several outputs: walk outputs in order, laying
/// each output's downstream work end to end.
fn general_start_times(slot: &mut OpSlot, tail: &mut [OpSlot], base: usize, ser: &[u64]) {
    for o in &slot.outs {
        if let Out::Chained(k) = *o {
            let c = &mut tail[k as usize - base];
            c.start_ns.clear();
            c.start_ns.resize(slot.out.len(), 0);
        }
    }
    let nets = slot.network_outs;
    slot.write_ns.resize(slot.out.len() * nets, 0);
    let one_to_one = slot.shape == Shape::OneToOne;
    let mut current = usize::MAX;
    let mut running = 0;
    for i in 0..slot.out.len() {
        let x = if one_to_one {
            i
        } else {
            slot.out.parent[i] as usize
        };
        if x != current {
            current = x;
            running = slot.start_ns[x] + slot.cost_ns;
        }
        let mut q = 0;
        for o in &slot.outs {
            match *o {
                Out::Chained(k) => {
                    let c = &mut tail[k as usize - base];
                    c.start_ns[i] = running;
                    running += c.subtree_ns[i];
                }
                Out::Network(w) => {
                    running += ser[w as usize];
                    slot.write_ns[i * nets + q] = running;
                    q += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The batch executor's times must equal those of a literal record-at-a-time, depth-first
    //! executor — Flink's chaining — on arbitrary chains.
    use super::super::batch::Batch;
    use super::super::{
        filter::FilterOp, flat_map::FlatMapOp, map::MapOp, sink::SinkMode, sink::SinkOp,
    };
    use super::*;
    use crate::expr::{Scope, SelectItem, compile, compile_select};
    use crate::sim::buffer::RecMeta;
    use crate::time::SimTime;
    use crate::value::{Interner, Schema, Type, Value};
    use proptest::prelude::*;

    /// One operator of a random chain: (kind, cost, parent).
    #[derive(Debug, Clone)]
    enum Kind {
        Map,
        Filter(i64),
        Split,
        Sink,
    }

    fn schema() -> Schema {
        Schema::new([("line", Type::String), ("n", Type::Int)])
    }

    fn operator(k: &Kind, i: &mut Interner) -> Operator {
        let s = schema();
        let sc = Scope::Record(&s);
        match k {
            Kind::Map => Operator::Map(MapOp::new(vec![
                compile("line", &sc, i).unwrap(),
                compile("n + 1", &sc, i).unwrap(),
            ])),
            Kind::Filter(m) => Operator::Filter(FilterOp {
                condition: compile(&format!("n % 3 <> {m}"), &sc, i).unwrap(),
            }),
            Kind::Split => {
                let SelectItem::Split { input, delimiter } =
                    compile_select("split(line)", &sc, i).unwrap()
                else {
                    unreachable!()
                };
                Operator::FlatMap(FlatMapOp {
                    scalars: vec![(1, compile("n", &sc, i).unwrap())],
                    split: Some((0, input, delimiter)),
                    out: vec![Value::Int(0); 2],
                    pieces: vec![],
                })
            }
            Kind::Sink => Operator::Sink(SinkOp::new(SinkMode::Discard, 2)),
        }
    }

    /// Depth-first reference: returns the time after record `row` went through op `j`.
    #[allow(clippy::too_many_arguments)]
    fn dfs(
        j: usize,
        row: &[Value],
        t: u64,
        kinds: &[Kind],
        outs: &[Vec<Out>],
        costs: &[u64],
        ser: &[u64],
        i: &mut Interner,
        writes: &mut Vec<Vec<u64>>,
        sinks: &mut Vec<Vec<u64>>,
    ) -> u64 {
        let mut t = t + costs[j];
        let n = row[1].as_int();
        let produced: Vec<Vec<Value>> = match &kinds[j] {
            Kind::Map => vec![vec![row[0], Value::Int(n + 1)]],
            Kind::Filter(m) => {
                if n % 3 != *m {
                    vec![row.to_vec()]
                } else {
                    vec![]
                }
            }
            Kind::Split => {
                let text = i
                    .resolve(match row[0] {
                        Value::Str(s) => s,
                        _ => unreachable!(),
                    })
                    .to_string();
                let mut v = Vec::new();
                crate::expr::split_pieces(&text, None, |p| v.push(p.to_string()));
                v.into_iter()
                    .map(|p| vec![Value::Str(i.intern(&p)), Value::Int(n)])
                    .collect()
            }
            Kind::Sink => {
                sinks[j].push(t);
                vec![]
            }
        };
        for y in produced {
            for o in &outs[j] {
                match *o {
                    Out::Chained(k) => {
                        t = dfs(k as usize, &y, t, kinds, outs, costs, ser, i, writes, sinks)
                    }
                    Out::Network(w) => {
                        t += ser[w as usize];
                        writes[j].push(t);
                    }
                }
            }
        }
        t
    }

    /// A random tree-shaped chain: op 0 is the head; op j > 0 hangs under a random earlier
    /// non-sink op; every non-sink op may also have network outputs.
    fn chain_strategy() -> impl Strategy<Value = (Vec<Kind>, Vec<usize>, Vec<u64>, Vec<u8>)> {
        (2usize..7).prop_flat_map(|n| {
            let kinds = proptest::collection::vec(
                prop_oneof![
                    Just(Kind::Map),
                    (0i64..3).prop_map(Kind::Filter),
                    Just(Kind::Split),
                    Just(Kind::Sink)
                ],
                n,
            );
            let parents = proptest::collection::vec(0usize..100, n);
            let costs = proptest::collection::vec(0u64..500, n);
            let nets = proptest::collection::vec(0u8..3, n);
            (kinds, parents, costs, nets)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn batch_times_equal_depth_first_times((mut kinds, parents, costs, nets) in chain_strategy(), lines in proptest::collection::vec(("[a-c ]{0,12}", 0i64..50), 1..20)) {
            if matches!(kinds[0], Kind::Sink) { kinds[0] = Kind::Map; }
            // Wire op j under a random earlier op that is not a sink.
            let n = kinds.len();
            let mut parent = vec![None; n];
            let mut outs: Vec<Vec<Out>> = vec![Vec::new(); n];
            for j in 1..n {
                let candidates: Vec<usize> = (0..j).filter(|&p| !matches!(kinds[p], Kind::Sink)).collect();
                let p = candidates[parents[j] % candidates.len()];
                parent[j] = Some(p);
                outs[p].push(Out::Chained(j as u16));
            }
            let mut w = 0u16;
            let mut ser = Vec::new();
            for j in 0..n {
                if matches!(kinds[j], Kind::Sink) { continue; }
                for _ in 0..nets[j] {
                    outs[j].push(Out::Network(w));
                    ser.push(37 + u64::from(w) * 11);
                    w += 1;
                }
            }
            let mut interner = Interner::new();
            let ops: Vec<OpSlot> = (0..n)
                .map(|j| OpSlot::new(operator(&kinds[j], &mut interner), outs[j].clone(), parent[j], costs[j], j, 2))
                .collect();
            let mut chain = Chain::new(ops, ser.clone());
            let mut input = Batch::new(2);
            for (k, (l, v)) in lines.iter().enumerate() {
                input.push(&[Value::Str(interner.intern(l)), Value::Int(*v)], RecMeta::untimed(SimTime(0)), k as u32);
            }
            let (t0, deser) = (1_000, 13);
            // batch executor (phases 1–3)
            let (mut scratch, mut error) = (String::new(), None);
            let mut ev = EvalCx { interner: &mut interner, scratch: &mut scratch, error: &mut error };
            forward(&mut chain.ops, Some(input.view()), &mut ev);
            subtree_costs(&mut chain.ops, Some(input.view()), &chain.ser_ns);
            let end = start_times(&mut chain.ops, Some(input.view()), t0, deser, &chain.ser_ns);
            // reference
            let mut writes = vec![Vec::new(); n];
            let mut sinks = vec![Vec::new(); n];
            let mut t = t0;
            for k in 0..input.len() {
                t += deser;
                t = dfs(0, input.view().row(k), t, &kinds, &outs, &costs, &ser, &mut interner, &mut writes, &mut sinks);
            }
            prop_assert_eq!(end, t, "end of the slice");
            for j in 0..n {
                let nets = chain.ops[j].network_outs;
                // reference writes of op j are in depth-first order: per output record, per network out
                prop_assert_eq!(&chain.ops[j].write_ns[..], &writes[j][..], "network writes of op {}", j);
                prop_assert_eq!(chain.ops[j].write_ns.len(), chain.ops[j].out.len() * nets);
                if matches!(kinds[j], Kind::Sink) {
                    let got: Vec<u64> = chain.ops[j].start_ns.iter().map(|s| s + costs[j]).collect();
                    prop_assert_eq!(got, sinks[j].clone(), "sink {} arrivals", j);
                }
            }
        }
    }
}
