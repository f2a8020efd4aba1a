//! The graph walk: every node of the scenario, in declaration order, as statements of the
//! Flink job's `main` — sources, watermark strategies, transformations, windows, side outputs
//! and sinks — with the parallelism, max parallelism, chaining and slot-sharing group that
//! streamlab planned for it. Nodes with no Flink equivalent (yet) become [`Refusal`]s.

use super::expr::{self, Rows, boxed, type_info};
use super::sources;
use streamlab_engine::core::value::{Interner, Schema};
use streamlab_engine::expr::SelectItem;
use streamlab_engine::flink::window::Assigner;
use streamlab_engine::flink::window::trigger::{Evictor, TriggerKind};
use streamlab_engine::plan::Plan;
use streamlab_engine::scenario::model::{
    ChainingStrategy, JoinKind, JoinSpec, NodeDef, NodeKind, Partitioner, ReduceFn, Scenario,
    SinkSpec, WindowFn, WindowSpec,
};

/// An operator the export cannot translate, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The node's name.
    pub node: String,
    /// Its kind as written in scenario files.
    pub kind: String,
    /// Why it has no Flink equivalent in the export.
    pub why: String,
}

/// The job's statements and what goes with them.
#[derive(Debug, Default)]
pub struct Job {
    /// `static final TypeInformation<Row>` declarations, one per stream.
    pub types: Vec<String>,
    /// Statements of `main` that build the graph.
    pub body: Vec<String>,
    /// Data files to write: (file name under `data/`, content).
    pub data: Vec<(String, String)>,
    /// Notes for the README: where the export differs from the scenario.
    pub notes: Vec<String>,
    /// Why the job's results depend on processing time (wall clock in Flink, simulated time
    /// in streamlab), so that the two need not agree: processing-time windows and triggers,
    /// periodic watermarks on the wall clock.
    pub processing_time: Vec<String>,
    /// The injected failure: the source node after which a `FailOnce` map throws, and at
    /// which record of its subtask 0.
    pub fail_at: Option<(usize, u64)>,
}

/// Walks the scenario's nodes and writes the job, or every refusal.
pub fn walk(s: &Scenario, plan: &Plan, fail_at: Option<(usize, u64)>) -> Result<Job, Vec<Refusal>> {
    let mut job = Job {
        fail_at,
        ..Job::default()
    };
    let mut refusals = Vec::new();
    let mut strings = Interner::new();
    for (i, n) in s.nodes.iter().enumerate() {
        job.types.push(format!(
            "static final TypeInformation<Row> T{i} = {};",
            row_type(&n.schema)
        ));
        if let Err(why) = node(s, plan, i, n, &mut job, &mut strings) {
            refusals.push(Refusal::of(n, why));
        }
    }
    finished(job, refusals)
}

impl Refusal {
    /// Node `n` refused for `why`.
    fn of(n: &NodeDef, why: String) -> Refusal {
        Refusal {
            node: n.name.clone(),
            kind: n.kind_name().to_string(),
            why,
        }
    }
}

/// The job, or every refusal met while writing it.
fn finished(job: Job, refusals: Vec<Refusal>) -> Result<Job, Vec<Refusal>> {
    if refusals.is_empty() {
        Ok(job)
    } else {
        Err(refusals)
    }
}

/// The sources alone: their data files (and statements, unused), for a project that runs the
/// scenario's SQL script only — its other operators are the SQL queries' (see
/// `super::sql_only`).
pub fn walk_sources(s: &Scenario, plan: &Plan) -> Result<Job, Vec<Refusal>> {
    let mut job = Job::default();
    let mut refusals = Vec::new();
    for (i, n) in s.nodes.iter().enumerate() {
        if let NodeKind::Source(spec) = &n.kind
            && let Err(why) = sources::source(s, plan, i, spec, &mut job)
        {
            refusals.push(Refusal::of(n, why));
        }
    }
    finished(job, refusals)
}

/// `Types.ROW(…)` of a schema.
pub fn row_type(schema: &Schema) -> String {
    let f: Vec<&str> = schema.fields.iter().map(|f| type_info(f.ty)).collect();
    format!("Types.ROW({})", f.join(", "))
}

/// Name, uid, parallelism, max parallelism, chaining and slot-sharing group of an operator.
pub(crate) fn settings(s: &Scenario, plan: &Plan, i: usize, sink_or_source: bool) -> String {
    let n = &s.nodes[i];
    let mut out = format!(".name({0}).uid({0})", expr::string_lit(&n.name));
    if let Some(ln) = plan.logical.node_of(i).map(|x| &plan.logical.graph[x]) {
        out.push_str(&format!(
            ".setParallelism({}).setMaxParallelism({})",
            ln.parallelism, ln.max_parallelism
        ));
    }
    match n.chaining {
        ChainingStrategy::Never => out.push_str(".disableChaining()"),
        ChainingStrategy::Head if !sink_or_source => out.push_str(".startNewChain()"),
        _ => {}
    }
    if let Some(g) = &n.slot_sharing_group {
        out.push_str(&format!(".slotSharingGroup({})", expr::string_lit(g)));
    }
    out
}

/// The input stream of node `i` (its first input), with an explicit partitioner applied.
fn input(s: &Scenario, i: usize, k: usize) -> String {
    let n = &s.nodes[i];
    let v = format!("v{}", n.inputs[k].node);
    match n.partitioner.as_ref().map(|p| p.value) {
        Some(Partitioner::Rebalance) => format!("{v}.rebalance()"),
        Some(Partitioner::Rescale) => format!("{v}.rescale()"),
        Some(Partitioner::Shuffle) => format!("{v}.shuffle()"),
        Some(Partitioner::Forward) => format!("{v}.forward()"),
        Some(Partitioner::Broadcast) => format!("{v}.broadcast()"),
        Some(Partitioner::Global) => format!("{v}.global()"),
        Some(Partitioner::Hash) | None => v,
    }
}

/// The keyed stream a keyed operator reads: its key_by's, or keyed here by `key`.
fn keyed(s: &Scenario, i: usize, key_java: &str, key_ty: &str) -> String {
    let src = s.nodes[i].inputs[0].node;
    if matches!(s.nodes[src].kind, NodeKind::KeyBy { .. }) {
        format!("v{src}")
    } else {
        key_by(&input(s, i, 0), key_java, key_ty)
    }
}

fn key_by(stream: &str, key_java: &str, key_ty: &str) -> String {
    format!(
        "{stream}.keyBy((KeySelector<Row, Object>) r -> {key_java}, (TypeInformation<Object>) (TypeInformation<?>) {key_ty})"
    )
}

fn node(
    s: &Scenario,
    plan: &Plan,
    i: usize,
    n: &NodeDef,
    job: &mut Job,
    strings: &mut Interner,
) -> Result<(), String> {
    let in_schema = n.inputs.first().map(|x| &s.nodes[x.node].schema);
    let cur = in_schema.unwrap_or(&n.schema);
    let rows = Rows { cur, acc: None };
    let set = settings(s, plan, i, false);
    let body = &mut job.body;
    match &n.kind {
        NodeKind::Source(spec) => {
            sources::source(s, plan, i, spec, job)?;
        }
        NodeKind::Map { select } => {
            let cols: Vec<String> = select
                .iter()
                .map(|(_, e)| expr::java(&e.compiled.bind(strings), &rows, strings))
                .collect();
            body.push(format!(
                "DataStream<Row> v{i} = {}.map(r -> Row.of({})).returns(T{i}){set};",
                input(s, i, 0),
                cols.join(", ")
            ));
        }
        NodeKind::Filter { condition } => {
            let c = expr::java(&condition.compiled.bind(strings), &rows, strings);
            body.push(format!(
                "DataStream<Row> v{i} = {}.filter(r -> {c}){set};",
                input(s, i, 0)
            ));
        }
        NodeKind::FlatMap { select } => {
            let mut split = None;
            let mut cols = Vec::new();
            for (k, (_, e)) in select.iter().enumerate() {
                let item: SelectItem = e.compiled.bind(strings);
                let (text, is_split) = expr::select_item(&item, &rows, strings);
                if is_split {
                    split = Some(text);
                    cols.push(format!("p{i}"));
                } else {
                    cols.push(text);
                }
                let _ = k;
            }
            let emit = format!("out.collect(Row.of({}));", cols.join(", "));
            let inner = match split {
                Some(sp) => format!("for (String p{i} : {sp}) {emit}"),
                None => emit,
            };
            body.push(format!(
                "DataStream<Row> v{i} = {}.flatMap((Row r, Collector<Row> out) -> {{ {inner} }}).returns(T{i}){set};",
                input(s, i, 0)
            ));
        }
        NodeKind::KeyBy { key } => {
            let k = key.compiled.bind(strings);
            let kj = expr::java(&k, &rows, strings);
            body.push(format!(
                "KeyedStream<Row, Object> v{i} = {};",
                key_by(&input(s, i, 0), &kj, type_info(k.ty))
            ));
        }
        NodeKind::Reduce { key, function } => {
            let k = key.compiled.bind(strings);
            let kj = expr::java(&k, &rows, strings);
            let ks = keyed(s, i, &kj, type_info(k.ty));
            let text = match function {
                ReduceFn::Count => format!("{ks}.process(new RollingCount(), T{i})"),
                ReduceFn::Sum(f) => format!(
                    "{ks}.reduce((a, r) -> {{ Row o = Row.copy(a); o.setField({f}, X.add(a.getField({f}), r.getField({f}))); return o; }}).returns(T{i})"
                ),
                ReduceFn::Min(f) | ReduceFn::Max(f) => {
                    let op = if matches!(function, ReduceFn::Min(_)) {
                        "<"
                    } else {
                        ">"
                    };
                    format!(
                        "{ks}.reduce((a, r) -> {{ Row o = Row.copy(a); if (X.compare(r.getField({f}), a.getField({f})) {op} 0) o.setField({f}, r.getField({f})); return o; }}).returns(T{i})"
                    )
                }
                ReduceFn::Expr(fields) => format!(
                    "{ks}.reduce((a, r) -> {}).returns(T{i})",
                    reducer(fields, cur, strings)
                ),
            };
            body.push(format!("DataStream<Row> v{i} = {text}{set};"));
        }
        NodeKind::Union => {
            let others: Vec<String> = (1..n.inputs.len()).map(|k| input(s, i, k)).collect();
            body.push(format!(
                "DataStream<Row> v{i} = {}.union({});",
                input(s, i, 0),
                others.join(", ")
            ));
        }
        NodeKind::Window(w) => window(s, i, w, cur, &set, job, strings)?,
        NodeKind::SideOutput { of } => {
            body.push(format!(
                "DataStream<Row> v{i} = v{of}.getSideOutput(late{of});"
            ));
        }
        NodeKind::Sink(spec, guarantee) => {
            let set = settings(s, plan, i, true);
            let two_phase =
                guarantee.is_exactly_once() && s.fault_tolerance.checkpointing.is_some();
            let sink = match spec {
                SinkSpec::Discard => "new DiscardingSink<>()".to_string(),
                SinkSpec::Collect { .. } | SinkSpec::Upsert { .. } if two_phase => {
                    format!(
                        "new ExactlyOnceFileSink(outDir, {})",
                        expr::string_lit(&n.name)
                    )
                }
                SinkSpec::Collect { .. } | SinkSpec::Upsert { .. } => {
                    format!("new FileRowSink(outDir, {})", expr::string_lit(&n.name))
                }
            };
            if two_phase {
                job.notes.push(format!(
                    "sink `{}` is exactly-once: the export writes it by two-phase commit (ExactlyOnceFileSink), files committed when a checkpoint completes",
                    n.name
                ));
            } else if guarantee.is_exactly_once() {
                job.notes.push(format!(
                    "sink `{}` is exactly-once (two-phase commit) in the scenario; the exported file sink writes every row at once (at-least-once): a restart after a failure can repeat rows",
                    n.name
                ));
            }
            if let SinkSpec::Upsert { .. } = spec {
                job.notes.push(format!(
                    "sink `{}` is an upsert table in the scenario; the exported sink writes every change, the last row of each key is the table",
                    n.name
                ));
            }
            body.push(format!("{}.addSink({sink}){set};", input(s, i, 0)));
        }
        NodeKind::CoMap { map1, map2 } => {
            let mut maps = Vec::new();
            for (k, select) in [map1, map2].into_iter().enumerate() {
                let schema = &s.nodes[n.inputs[k].node].schema;
                let rows = Rows {
                    cur: schema,
                    acc: None,
                };
                let cols: Vec<String> = select
                    .iter()
                    .map(|(_, e)| expr::java(&e.compiled.bind(strings), &rows, strings))
                    .collect();
                maps.push(format!(
                    "public Row map{}(Row r) {{ return Row.of({}); }}",
                    k + 1,
                    cols.join(", ")
                ));
            }
            body.push(format!(
                "DataStream<Row> v{i} = {}.connect({}).map(new CoMapFunction<Row, Row, Row>() {{ {} {} }}).returns(T{i}){set};",
                input(s, i, 0),
                input(s, i, 1),
                maps[0],
                maps[1]
            ));
        }
        NodeKind::Join(j) => join(s, i, j, &set, body, strings)?,
        NodeKind::Process(p)
            if matches!(
                p.function,
                streamlab_engine::scenario::model::ProcessFn::LongRideAlert { .. }
            ) =>
        {
            let streamlab_engine::scenario::model::ProcessFn::LongRideAlert { is_start, timeout } =
                p.function
            else {
                return Err("not a long ride alert".into());
            };
            let k = p.key.compiled.bind(strings);
            let kj = expr::java(&k, &rows, strings);
            let ks = keyed(s, i, &kj, type_info(k.ty));
            body.push(format!(
                "DataStream<Row> v{i} = {ks}.process(new LongRideAlert({is_start}, {timeout}L), T{i}){set};"
            ));
        }
        NodeKind::Process(p) => {
            return Err(match &p.function {
                streamlab_engine::scenario::model::ProcessFn::Custom { name, .. } => format!(
                    "`{name}` is a process function written in Rust: it has no Java equivalent to export"
                ),
                streamlab_engine::scenario::model::ProcessFn::Pattern(_) => {
                    return pattern(s, i, p, &set, body, strings);
                }
                streamlab_engine::scenario::model::ProcessFn::LongRideAlert { .. } => {
                    "the long-ride-alert process function is not exported yet".into()
                }
            });
        }
    }
    Ok(())
}

/// The field of a node's records that holds the source's event-time timestamp: the source's
/// timestamp field, when every node between them keeps the records' fields as they are.
fn timestamp_field(s: &Scenario, node: usize) -> Option<usize> {
    let n = &s.nodes[node];
    match &n.kind {
        NodeKind::Source(spec) => match spec.timestamps {
            streamlab_engine::scenario::model::Timestamps::Field(f) => Some(f),
            _ => None,
        },
        NodeKind::KeyBy { .. } | NodeKind::Filter { .. } | NodeKind::Union => {
            let up = n.inputs.first()?.node;
            let f = timestamp_field(s, up)?;
            let same = n.inputs.iter().all(|x| s.nodes[x.node].schema == n.schema);
            same.then_some(f)
        }
        _ => None,
    }
}

/// A CEP pattern (`CEP.pattern(keyed, Pattern…).process(…)`): the steps with their
/// contiguity, `times` and `consecutive`, `within`, the after-match skip strategy; matches and
/// timed-out partial matches as streamlab's summary rows (`CepSummary`).
fn pattern(
    s: &Scenario,
    i: usize,
    p: &streamlab_engine::scenario::model::ProcessSpec,
    set: &str,
    body: &mut Vec<String>,
    strings: &mut Interner,
) -> Result<(), String> {
    use streamlab_engine::flink::cep::{Contiguity, SkipStrategy};
    let streamlab_engine::scenario::model::ProcessFn::Pattern(spec) = &p.function else {
        return Err("not a pattern".into());
    };
    let n = &s.nodes[i];
    let input = n.inputs[0].node;
    let cur = &s.nodes[input].schema;
    let rows = Rows { cur, acc: None };
    let ts = timestamp_field(s, input).ok_or(
        "the pattern's records must carry their source's timestamp field unchanged (a summary row holds the events' timestamps)",
    )?;
    let step_name = |k: usize| {
        spec.def
            .steps
            .get(k)
            .map(|st| expr::string_lit(&st.name))
            .ok_or("a skip strategy naming a step the pattern does not have")
    };
    let skip = match spec.def.skip {
        SkipStrategy::NoSkip => "AfterMatchSkipStrategy.noSkip()".to_string(),
        SkipStrategy::SkipToNext => "AfterMatchSkipStrategy.skipToNext()".to_string(),
        SkipStrategy::SkipPastLastEvent => "AfterMatchSkipStrategy.skipPastLastEvent()".to_string(),
        SkipStrategy::SkipToFirst(k) => {
            format!("AfterMatchSkipStrategy.skipToFirst({})", step_name(k)?)
        }
        SkipStrategy::SkipToLast(k) => {
            format!("AfterMatchSkipStrategy.skipToLast({})", step_name(k)?)
        }
    };
    let condition = |k: usize, strings: &mut Interner| -> Result<String, String> {
        let cond = spec
            .conditions
            .get(k)
            .ok_or("a pattern step without its condition")?;
        let cj = expr::java(&cond.compiled.bind(strings), &rows, strings);
        Ok(format!(
            "new SimpleCondition<Row>() {{ public boolean filter(Row r) {{ return {cj}; }} }}"
        ))
    };
    let mut pat = String::from("Pattern.<Row>");
    for (k, step) in spec.def.steps.iter().enumerate() {
        let name = expr::string_lit(&step.name);
        if k == 0 {
            pat.push_str(&format!("begin({name}, {skip})"));
        } else {
            let c = match (step.negated, step.contiguity) {
                (false, Contiguity::Strict) => "next",
                (false, Contiguity::Relaxed) => "followedBy",
                (false, Contiguity::NonDeterministic) => "followedByAny",
                (true, Contiguity::Strict) => "notNext",
                (true, _) => "notFollowedBy",
            };
            pat.push_str(&format!(".{c}({name})"));
        }
        pat.push_str(&format!(".where({})", condition(k, strings)?));
        // Flink's builder calls: the quantifier, then its contiguity and options.
        let looping = match step.max {
            None if step.times <= 1 => {
                pat.push_str(".oneOrMore()");
                true
            }
            None => {
                pat.push_str(&format!(".timesOrMore({})", step.times));
                true
            }
            Some(m) if m != step.times => {
                pat.push_str(&format!(".times({}, {m})", step.times));
                true
            }
            Some(_) if step.times > 1 => {
                pat.push_str(&format!(".times({})", step.times));
                true
            }
            Some(_) => false,
        };
        if looping {
            match step.inner {
                Contiguity::Strict => pat.push_str(".consecutive()"),
                Contiguity::NonDeterministic => pat.push_str(".allowCombinations()"),
                Contiguity::Relaxed => {}
            }
        }
        if step.optional {
            pat.push_str(".optional()");
        }
        if step.greedy {
            pat.push_str(".greedy()");
        }
        if let Some(u) = step.until {
            pat.push_str(&format!(".until({})", condition(u, strings)?));
        }
    }
    if let Some(w) = spec.def.within {
        pat.push_str(&format!(".within(Duration.ofMillis({w}))"));
    }
    let k = p.key.compiled.bind(strings);
    let kj = expr::java(&k, &rows, strings);
    let ks = keyed(s, i, &kj, type_info(k.ty));
    let tag = if spec.timeouts_to_side {
        body.push(format!(
            "final OutputTag<Row> late{i} = new OutputTag<>({}, T{i});",
            expr::string_lit(&format!("{}.timed_out", n.name))
        ));
        format!("late{i}")
    } else {
        "null".into()
    };
    // Late events to a side output: `PatternStream.sideOutputLateData`, rows of the input.
    let late = if spec.late_to_side {
        body.push(format!(
            "final OutputTag<Row> late{i} = new OutputTag<>({}, T{input});",
            expr::string_lit(&format!("{}.late", n.name))
        ));
        format!(".sideOutputLateData(late{i})")
    } else {
        String::new()
    };
    body.push(format!(
        "SingleOutputStreamOperator<Row> v{i} = CEP.pattern({ks}, {pat}){late}.process(new CepSummary((KeySelector<Row, Object>) r -> {kj}, {ts}, {tag}), T{i}){set};"
    ));
    Ok(())
}

/// Flink's window assigner for a tumbling, sliding or (static) session window, in event or
/// processing time (`pt`); `None` for the others (global, cumulating, dynamic gaps).
fn time_assigner(a: &Assigner, pt: bool) -> Option<String> {
    let ms = |v: i64| format!("Duration.ofMillis({v})");
    let kind = if pt { "Processing" } else { "Event" };
    Some(match a {
        Assigner::Tumbling { size, offset } => format!(
            "Tumbling{kind}TimeWindows.of({}, {})",
            ms(*size),
            ms(*offset)
        ),
        Assigner::Sliding {
            size,
            slide,
            offset,
        } => format!(
            "Sliding{kind}TimeWindows.of({}, {}, {})",
            ms(*size),
            ms(*slide),
            ms(*offset)
        ),
        Assigner::Session {
            gap,
            dynamic: false,
        } => format!("{kind}TimeSessionWindows.withGap({})", ms(*gap)),
        _ => return None,
    })
}

/// The unkeyed stream under a key_by (a window join keys its inputs itself).
fn unkeyed(s: &Scenario, node: usize) -> String {
    match s.nodes[node].kind {
        NodeKind::KeyBy { .. } => format!("v{}", s.nodes[node].inputs[0].node),
        _ => format!("v{node}"),
    }
}

/// A window join (`join().where().equalTo().window().apply()`) or an interval join
/// (`keyBy().intervalJoin(keyBy()).between().process()`); the output row is the select over
/// `left.*` (`r`) and `right.*` (`a`), or every field of both.
fn join(
    s: &Scenario,
    i: usize,
    j: &JoinSpec,
    set: &str,
    body: &mut Vec<String>,
    strings: &mut Interner,
) -> Result<(), String> {
    let n = &s.nodes[i];
    let (l, r) = (n.inputs[0].node, n.inputs[1].node);
    let (ls, rs) = (&s.nodes[l].schema, &s.nodes[r].schema);
    let both = Rows {
        cur: ls,
        acc: Some(rs),
    };
    let cols: Vec<String> = match &j.select {
        Some(sel) => sel
            .iter()
            .map(|(_, e)| expr::java(&e.compiled.bind(strings), &both, strings))
            .collect(),
        None => (0..ls.fields.len())
            .map(|k| format!("r.getField({k})"))
            .chain((0..rs.fields.len()).map(|k| format!("a.getField({k})")))
            .collect(),
    };
    let row = format!("Row.of({})", cols.join(", "));
    let lk = j.left_key.compiled.bind(strings);
    let rk = j.right_key.compiled.bind(strings);
    let lkj = expr::java(&lk, &Rows { cur: ls, acc: None }, strings);
    let rkj = expr::java(&rk, &Rows { cur: rs, acc: None }, strings);
    let kt = type_info(lk.ty);
    let ms = |v: i64| format!("Duration.ofMillis({v})");
    match &j.kind {
        JoinKind::Window(a) => {
            if j.gap.is_some() {
                return Err("a window join with a dynamic session gap is not exported yet".into());
            }
            let assigner = match a {
                Assigner::Global => {
                    return Err("a window join over global windows is not exported".into());
                }
                Assigner::Cumulative { .. } => {
                    return Err("a window join over CUMULATE windows: Flink's cumulating windows exist only in SQL (the CUMULATE table function), not as a DataStream window assigner".into());
                }
                a => time_assigner(a, false)
                    .ok_or("a window join over this window kind is not exported")?,
            };
            body.push(format!(
                "DataStream<Row> v{i} = {}.join({}).where((KeySelector<Row, Object>) r -> {lkj}, (TypeInformation<Object>) (TypeInformation<?>) {kt}).equalTo((KeySelector<Row, Object>) r -> {rkj}, (TypeInformation<Object>) (TypeInformation<?>) {kt}).window({assigner}).apply((JoinFunction<Row, Row, Row>) (r, a) -> {row}, T{i}){set};",
                unkeyed(s, l),
                unkeyed(s, r)
            ));
        }
        JoinKind::Regular => {
            return Err("a regular (unbounded) inner join: Flink runs it from SQL (a streaming join operator of the table runtime); the DataStream API has no such operator".into());
        }
        JoinKind::Interval { lower, upper } => {
            let keyed_side = |node: usize, kj: &str| match s.nodes[node].kind {
                NodeKind::KeyBy { .. } => format!("v{node}"),
                _ => key_by(&format!("v{node}"), kj, kt),
            };
            body.push(format!(
                "DataStream<Row> v{i} = {}.intervalJoin({}).between({}, {}).process(new ProcessJoinFunction<Row, Row, Row>() {{ public void processElement(Row r, Row a, Context ctx, Collector<Row> out) {{ out.collect({row}); }} }}, T{i}){set};",
                keyed_side(l, &lkj),
                keyed_side(r, &rkj),
                ms(*lower),
                ms(*upper)
            ));
        }
    }
    Ok(())
}

/// A reduce written as expressions, as a Java lambda body over `a` (acc) and `r` (record):
/// every new value is computed from the old accumulator first, then set.
fn reducer(
    fields: &[(
        String,
        streamlab_engine::scenario::model::ExprSrc<streamlab_engine::expr::Assign>,
    )],
    schema: &Schema,
    strings: &mut Interner,
) -> String {
    let rows = Rows {
        cur: schema,
        acc: Some(schema),
    };
    let mut compute = String::new();
    let mut assign = String::new();
    for (k, (_, e)) in fields.iter().enumerate() {
        let a = e.compiled.bind(strings);
        compute.push_str(&format!(
            "Object n{k} = {}; ",
            expr::java(&a.expr, &rows, strings)
        ));
        assign.push_str(&format!(
            "o.setField({0}, X.widen(a.getField({0}), n{k})); ",
            a.index
        ));
    }
    format!("{{ Row o = Row.copy(a); {compute}{assign}return o; }}")
}

fn window(
    s: &Scenario,
    i: usize,
    w: &WindowSpec,
    cur: &Schema,
    set: &str,
    job: &mut Job,
    strings: &mut Interner,
) -> Result<(), String> {
    let Job {
        body,
        processing_time: job_pt,
        ..
    } = job;
    let rows = Rows { cur, acc: None };
    let ms = |v: i64| format!("Duration.ofMillis({v})");
    let (kind, field, reduce) = match &w.function {
        WindowFn::Sum(f) => ("sum", *f, "null".to_string()),
        WindowFn::Min(f) => ("min", *f, "null".into()),
        WindowFn::Max(f) => ("max", *f, "null".into()),
        WindowFn::Count => ("count", 0, "null".into()),
        WindowFn::Avg(f) => ("avg", *f, "null".into()),
        WindowFn::Expr(fields) => (
            "reduce",
            0,
            format!("(Reducer) (a, r) -> {}", reducer(fields, cur, strings)),
        ),
    };
    let arity = cur.fields.len();
    body.push(format!(
        "WindowAgg agg{i} = new WindowAgg(\"{kind}\", {field}, {arity}, {reduce});"
    ));
    let acc_type = {
        let mut f: Vec<&str> = cur.fields.iter().map(|f| type_info(f.ty)).collect();
        f.push("Types.LONG");
        f.push("Types.DOUBLE");
        format!("Types.ROW({})", f.join(", "))
    };
    let pt = w.processing_time;
    let name = &s.nodes[i].name;
    if pt {
        job_pt.push(format!("window `{name}` uses processing-time windows"));
    }
    if w.trigger.is_some_and(|t| {
        matches!(
            t.kind,
            TriggerKind::ProcessingTime | TriggerKind::ContinuousProcessingTime(_)
        )
    }) {
        job_pt.push(format!(
            "window `{name}` fires on a processing-time trigger"
        ));
    }
    let assigner = match (&w.assigner, w.count) {
        (Assigner::Cumulative { .. }, None) => {
            return Err("CUMULATE windows exist in Flink only in SQL (the CUMULATE table function), not as a DataStream window assigner".into());
        }
        (_, Some((size, None))) => format!(".countWindow({size})"),
        (_, Some((size, Some(slide)))) => format!(".countWindow({size}, {slide})"),
        (a @ (Assigner::Tumbling { .. } | Assigner::Sliding { .. }), None) => format!(
            ".{}({})",
            if w.key.is_some() {
                "window"
            } else {
                "windowAll"
            },
            time_assigner(a, pt).ok_or("a time window without its assigner")?
        ),
        (Assigner::Session { gap, dynamic }, None) => {
            let kind = if pt { "Processing" } else { "Event" };
            let a = if *dynamic {
                let g = w
                    .gap
                    .as_ref()
                    .ok_or("a dynamic session window without its gap expression")?;
                let gj = expr::java(&g.compiled.bind(strings), &rows, strings);
                format!(
                    "{kind}TimeSessionWindows.withDynamicGap((SessionWindowTimeGapExtractor<Row>) r -> {gj})"
                )
            } else {
                time_assigner(
                    &Assigner::Session {
                        gap: *gap,
                        dynamic: false,
                    },
                    pt,
                )
                .ok_or("a session window without its gap")?
            };
            format!(
                ".{}({a})",
                if w.key.is_some() {
                    "window"
                } else {
                    "windowAll"
                }
            )
        }
        (Assigner::Global, None) => format!(
            ".{}(GlobalWindows.create())",
            if w.key.is_some() {
                "window"
            } else {
                "windowAll"
            }
        ),
    };
    if w.count.is_some() && w.key.is_none() {
        return Err("a non-keyed count window (countWindowAll) is not exported yet".into());
    }
    let mut chain = assigner;
    if let Some(t) = &w.trigger {
        let base = match t.kind {
            TriggerKind::EventTime => "EventTimeTrigger.create()".to_string(),
            TriggerKind::ProcessingTime => "ProcessingTimeTrigger.create()".into(),
            TriggerKind::Count(c) => format!("CountTrigger.of({c})"),
            TriggerKind::ContinuousEventTime(v) => {
                format!("ContinuousEventTimeTrigger.of({})", ms(v))
            }
            TriggerKind::ContinuousProcessingTime(v) => {
                format!("ContinuousProcessingTimeTrigger.of({})", ms(v))
            }
            TriggerKind::Never => {
                return Err(
                    "a trigger that never fires has no public Flink class to export".into(),
                );
            }
        };
        let t = if t.purging {
            format!("PurgingTrigger.of({base})")
        } else {
            base
        };
        chain.push_str(&format!(".trigger({t})"));
    }
    match w.evictor {
        Some(Evictor::Count(c)) => chain.push_str(&format!(".evictor(CountEvictor.of({c}))")),
        Some(Evictor::Time(t)) => chain.push_str(&format!(".evictor(TimeEvictor.of({}))", ms(t))),
        None => {}
    }
    if w.allowed_lateness > 0 {
        chain.push_str(&format!(".allowedLateness({})", ms(w.allowed_lateness)));
    }
    let input_ty = format!("T{}", s.nodes[i].inputs[0].node);
    if let Some(tag) = &w.late_output {
        body.push(format!(
            "final OutputTag<Row> late{i} = new OutputTag<>({}, {input_ty});",
            expr::string_lit(tag)
        ));
        chain.push_str(&format!(".sideOutputLateData(late{i})"));
    }
    let stream = match &w.key {
        Some(k) => {
            let kc = k.compiled.bind(strings);
            let kj = expr::java(&kc, &rows, strings);
            keyed(s, i, &kj, type_info(kc.ty))
        }
        None => input(s, i, 0),
    };
    let with_key = w.key.as_ref().is_some_and(|k| {
        !(matches!(w.function, WindowFn::Expr(_)) && k.compiled.as_field().is_some())
    });
    let emit = if w.key.is_some() {
        format!("new EmitWindow<>(agg{i}, {with_key})")
    } else {
        format!("new EmitAll<>(agg{i})")
    };
    body.push(format!(
        "SingleOutputStreamOperator<Row> v{i} = {stream}{chain}.aggregate(agg{i}, {emit}, {acc_type}, {acc_type}, T{i}){set};"
    ));
    let _ = boxed;
    Ok(())
}
