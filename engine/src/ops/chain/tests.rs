//! [`Chain::run`]'s times must equal those of a literal record-at-a-time, depth-first
//! executor — Flink's chaining — on arbitrary chains and on linear ones (the one-pass
//! fast path, [`timing::linear_times`]); what reaches the network is compared per writer;
//! tiny chains pin absolute times.
use super::super::batch::Batch;
use super::super::element::RecMeta;
use super::super::{
    filter::FilterOp, flat_map::FlatMapOp, map::MapOp, sink::SinkMode, sink::SinkOp,
};
use super::*;
use crate::core::event_time::ms;
use crate::core::time::{SimDuration, SimTime};
use crate::core::value::{Interner, Schema, Type, Value};
use crate::expr::{Scope, SelectItem, compile, compile_select};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

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
        Kind::Filter(m) => Operator::Filter(FilterOp::new(
            compile(&format!("n % 3 <> {m}"), &sc, i).unwrap(),
        )),
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
                max_out: usize::MAX,
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
    seen: &mut Seen,
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
            seen.sinks[j].push(t);
            vec![]
        }
    };
    for y in produced {
        for o in &outs[j] {
            match *o {
                Out::Chained(k) => t = dfs(k as usize, &y, t, kinds, outs, costs, ser, i, seen),
                Out::Network(w) => {
                    t += ser[w as usize];
                    seen.by_op[j].push(t);
                    seen.by_writer[w as usize].push(t);
                }
            }
        }
    }
    t
}

/// What the depth-first reference did: per operator its network writes (per output record,
/// per network output) and its sink arrivals; per network writer the times it was handed
/// records.
struct Seen {
    by_op: Vec<Vec<u64>>,
    by_writer: Vec<Vec<u64>>,
    sinks: Vec<Vec<u64>>,
}

/// The network as the chain under test sees it: it records when each writer is handed a
/// record, and the markers.
#[derive(Default)]
struct Recorder {
    /// Per writer, the local times of its records in the order they were written.
    records: Vec<Vec<u64>>,
    /// `(writer, marker, local time)`.
    markers: Vec<(usize, Marker, u64)>,
}

impl Recorder {
    fn writer(&mut self, w: usize) -> &mut Vec<u64> {
        if self.records.len() <= w {
            self.records.resize(w + 1, Vec::new());
        }
        &mut self.records[w]
    }
}

impl NetworkOutput for Recorder {
    fn write_batch(&mut self, w: usize, records: View<'_>, times: &[SimTime], _: &mut EvalCx<'_>) {
        let n = records.len().min(times.len());
        self.writer(w)
            .extend(times[..n].iter().map(|t| t.as_nanos()));
    }

    fn write_record(&mut self, w: usize, _: &[Value], _: RecMeta, t: SimTime, _: &mut EvalCx<'_>) {
        self.writer(w).push(t.as_nanos());
    }

    fn broadcast_marker(&mut self, w: usize, m: Marker, t: SimTime) {
        self.markers.push((w, m, t.as_nanos()));
    }
}

/// Times as bare nanoseconds, to compare with the reference executor's.
fn nanos(times: &[SimTime]) -> Vec<u64> {
    times.iter().map(|t| t.as_nanos()).collect()
}

/// Runs `input` through the chain with [`Chain::run`] — the entry point the simulator uses,
/// fast paths included — and returns the local time the slice ends and what reached the
/// network.
fn run_chain(
    chain: &mut Chain,
    input: &Batch,
    interner: &mut Interner,
    t0: u64,
    deser: u64,
) -> (u64, Recorder) {
    let (mut scratch, mut error) = (String::new(), None);
    let mut cx = Cx {
        ev: EvalCx {
            interner,
            scratch: &mut scratch,
            error: &mut error,
        },
        net: Recorder::default(),
    };
    let end = chain.run(
        Some(input.view()),
        SimTime::from_nanos(t0),
        SimDuration::from_nanos(deser),
        &mut cx,
    );
    (end.as_nanos(), cx.net)
}

/// Builds the chain `kinds` wired by `parent`/`outs`, runs `lines` through it with
/// [`Chain::run`] and through the depth-first reference, and compares every time.
#[allow(clippy::too_many_arguments)]
fn check_against_reference(
    kinds: &[Kind],
    parent: &[Option<(usize, Port)>],
    outs: &[Vec<Out>],
    costs: &[u64],
    ser: &[u64],
    lines: &[(String, i64)],
) -> Result<(), TestCaseError> {
    let n = kinds.len();
    let mut interner = Interner::new();
    let ops: Vec<OpSlot> = (0..n)
        .map(|j| {
            OpSlot::new(
                operator(&kinds[j], &mut interner),
                outs[j].clone(),
                parent[j],
                SimDuration::from_nanos(costs[j]),
                j,
                2,
            )
        })
        .collect();
    let mut chain = Chain::new(
        ops,
        ser.iter().map(|&s| SimDuration::from_nanos(s)).collect(),
    );
    let mut input = Batch::new(2);
    for (k, (l, v)) in lines.iter().enumerate() {
        input.push(
            &[Value::Str(interner.intern(l)), Value::Int(*v)],
            RecMeta::untimed(SimTime::from_nanos(0)),
            k as u32,
        );
    }
    let (t0, deser) = (1_000, 13);
    let (end, mut net) = run_chain(&mut chain, &input, &mut interner, t0, deser);
    // reference
    let mut seen = Seen {
        by_op: vec![Vec::new(); n],
        by_writer: vec![Vec::new(); ser.len()],
        sinks: vec![Vec::new(); n],
    };
    let mut t = t0;
    for k in 0..input.len() {
        t += deser;
        t = dfs(
            0,
            input.view().row(k),
            t,
            kinds,
            outs,
            costs,
            ser,
            &mut interner,
            &mut seen,
        );
    }
    prop_assert_eq!(end, t, "end of the slice");
    for w in 0..ser.len() {
        prop_assert_eq!(
            &net.writer(w)[..],
            &seen.by_writer[w][..],
            "records written by writer {}",
            w
        );
    }
    for j in 0..n {
        let nets = chain.ops[j].network_outs;
        if nets > 0 {
            // reference writes of op j are in depth-first order: per output record, per network out
            prop_assert_eq!(
                nanos(&chain.ops[j].write_at),
                &seen.by_op[j][..],
                "network writes of op {}",
                j
            );
            prop_assert_eq!(chain.ops[j].write_at.len(), chain.ops[j].out.len() * nets);
        }
        if matches!(kinds[j], Kind::Sink) {
            let got: Vec<u64> = chain.ops[j]
                .start_at
                .iter()
                .map(|s| s.as_nanos() + costs[j])
                .collect();
            prop_assert_eq!(got, seen.sinks[j].clone(), "sink {} arrivals", j);
        }
    }
    Ok(())
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

/// A random *linear* chain — the shape the one-pass timing (`linear_times`) serves:
/// maps and filters one after the other, ending in a sink or in one network output.
fn linear_strategy() -> impl Strategy<Value = (Vec<Kind>, Vec<u64>, bool, u64)> {
    (1usize..6).prop_flat_map(|n| {
        let kinds = proptest::collection::vec(
            prop_oneof![3 => Just(Kind::Map), 1 => (0i64..3).prop_map(Kind::Filter)],
            n,
        );
        let costs = proptest::collection::vec(0u64..500, n + 1);
        (kinds, costs, any::<bool>(), 1u64..200)
    })
}

fn lines_strategy() -> impl Strategy<Value = Vec<(String, i64)>> {
    proptest::collection::vec(("[a-c ]{0,12}", 0i64..50), 1..20)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn chain_run_times_equal_depth_first_times((mut kinds, parents, costs, nets) in chain_strategy(), lines in lines_strategy()) {
        if matches!(kinds[0], Kind::Sink) { kinds[0] = Kind::Map; }
        // Wire op j under a random earlier op that is not a sink.
        let n = kinds.len();
        let mut parent: Vec<Option<(usize, Port)>> = vec![None; n];
        let mut outs: Vec<Vec<Out>> = vec![Vec::new(); n];
        for j in 1..n {
            let candidates: Vec<usize> = (0..j).filter(|&p| !matches!(kinds[p], Kind::Sink)).collect();
            let p = candidates[parents[j] % candidates.len()];
            parent[j] = Some((p, Port::Main));
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
        check_against_reference(&kinds, &parent, &outs, &costs, &ser, &lines)?;
    }

    #[test]
    fn linear_chain_run_times_equal_depth_first_times((mut kinds, costs, to_sink, ser_ns) in linear_strategy(), lines in lines_strategy()) {
        if to_sink { kinds.push(Kind::Sink); }
        let n = kinds.len();
        let parent: Vec<Option<(usize, Port)>> = (0..n).map(|j| j.checked_sub(1).map(|p| (p, Port::Main))).collect();
        let mut outs: Vec<Vec<Out>> = (0..n).map(|j| if j + 1 < n { vec![Out::Chained((j + 1) as u16)] } else { vec![] }).collect();
        let ser = if to_sink { vec![] } else { outs[n - 1].push(Out::Network(0)); vec![ser_ns] };
        check_against_reference(&kinds, &parent, &outs, &costs[..n], &ser, &lines)?;
    }
}

/// Two records through `map (100 ns) → sink (50 ns)` from t0 = 1 000 with 13 ns of
/// deserialization each: record 1 reaches the sink at 1 013 + 100, the slice ends after
/// both records' whole paths.
#[test]
fn tiny_chain_into_a_sink_has_these_times() {
    let kinds = [Kind::Map, Kind::Sink];
    let mut interner = Interner::new();
    let ops = vec![
        OpSlot::new(
            operator(&kinds[0], &mut interner),
            vec![Out::Chained(1)],
            None,
            SimDuration::from_nanos(100),
            0,
            2,
        ),
        OpSlot::new(
            operator(&kinds[1], &mut interner),
            vec![],
            Some((0, Port::Main)),
            SimDuration::from_nanos(50),
            1,
            2,
        ),
    ];
    let mut chain = Chain::new(ops, vec![]);
    let mut input = Batch::new(2);
    for k in 0..2 {
        input.push(
            &[Value::Str(interner.intern("a")), Value::Int(k)],
            RecMeta::untimed(SimTime::from_nanos(0)),
            k as u32,
        );
    }
    let (end, _) = run_chain(&mut chain, &input, &mut interner, 1_000, 13);
    assert_eq!(nanos(&chain.ops[1].start_at), vec![1_113, 1_276]);
    assert_eq!(end, 1_326);
}

/// `map (100 ns)` writing to the network (serialization 37 ns): a record is written after
/// its deserialization, the map and its serialization.
#[test]
fn tiny_chain_into_the_network_has_these_times() {
    let mut interner = Interner::new();
    let ops = vec![OpSlot::new(
        operator(&Kind::Map, &mut interner),
        vec![Out::Network(0)],
        None,
        SimDuration::from_nanos(100),
        0,
        2,
    )];
    let mut chain = Chain::new(ops, vec![SimDuration::from_nanos(37)]);
    let mut input = Batch::new(2);
    for k in 0..2 {
        input.push(
            &[Value::Str(interner.intern("a")), Value::Int(k)],
            RecMeta::untimed(SimTime::from_nanos(0)),
            k as u32,
        );
    }
    let (end, mut net) = run_chain(&mut chain, &input, &mut interner, 1_000, 13);
    assert_eq!(nanos(&chain.ops[0].write_at), vec![1_150, 1_300]);
    assert_eq!(
        net.writer(0),
        &vec![1_150, 1_300],
        "what the network receives"
    );
    assert_eq!(end, 1_300);
}

/// A watermark through `map → network (37 ns)` and `→ sink`: it is written to the network
/// after its serialization, in order with what the map emits, and passes the sink.
#[test]
fn a_watermark_is_written_after_its_serialization() {
    let mut interner = Interner::new();
    let ops = vec![
        OpSlot::new(
            operator(&Kind::Map, &mut interner),
            vec![Out::Chained(1), Out::Network(0)],
            None,
            SimDuration::from_nanos(100),
            0,
            2,
        ),
        OpSlot::new(
            operator(&Kind::Sink, &mut interner),
            vec![],
            Some((0, Port::Main)),
            SimDuration::from_nanos(50),
            1,
            2,
        ),
    ];
    let mut chain = Chain::new(ops, vec![SimDuration::from_nanos(37)]);
    let (mut scratch, mut error) = (String::new(), None);
    let mut cx = Cx {
        ev: EvalCx {
            interner: &mut interner,
            scratch: &mut scratch,
            error: &mut error,
        },
        net: Recorder::default(),
    };
    let end = chain.watermark(0, ms(5_000), SimTime::from_nanos(2_000), &mut cx);
    assert_eq!(end, SimTime::from_nanos(2_037));
    assert_eq!(
        cx.net.markers,
        vec![(0, Marker::Watermark(ms(5_000)), 2_037)]
    );
    assert_eq!(chain.ops[1].watermark, ms(5_000), "the sink saw it too");
}
