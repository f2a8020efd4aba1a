//! Printing a plan: the text `streamlab plan` shows, and Graphviz for `--dot`.

use super::Plan;
use crate::scenario::{NodeKind, ReduceFn, Scenario, SinkSpec, SourceData};
use petgraph::visit::EdgeRef;
use std::fmt::Write;

/// A one-line description of what a node does.
pub fn describe(s: &Scenario, scenario_node: usize) -> String {
    let n = &s.nodes[scenario_node];
    let field = |i: usize| {
        n.schema
            .fields
            .get(i)
            .map_or("?".to_string(), |f| f.name.to_string())
    };
    match &n.kind {
        NodeKind::Source(src) => source_text(src, &field),
        NodeKind::Map { select } => format!(
            "map → {}",
            select
                .iter()
                .map(|(f, e)| format!("{f} = {}", e.text))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        NodeKind::Filter { condition } => format!("filter where {}", condition.text),
        NodeKind::FlatMap { select } => {
            format!(
                "flat_map → {}",
                select
                    .iter()
                    .map(|(f, e)| format!("{f} = {}", e.text))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        NodeKind::KeyBy { key } => format!("key_by {}", key.text),
        NodeKind::Reduce { function, .. } => match function {
            ReduceFn::Sum(i) => format!("rolling sum({})", field(*i)),
            ReduceFn::Min(i) => format!("rolling min({})", field(*i)),
            ReduceFn::Max(i) => format!("rolling max({})", field(*i)),
            ReduceFn::Count => "rolling count".into(),
            ReduceFn::Expr(sel) => format!(
                "rolling reduce {}",
                sel.iter()
                    .map(|(f, e)| format!("{f} = {}", e.text))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        NodeKind::Union => "union".into(),
        NodeKind::SideOutput { of } => match &s.nodes[*of].kind {
            NodeKind::Window(_) => format!("late data of {}", s.nodes[*of].name),
            _ => format!("side output of {}", s.nodes[*of].name),
        },
        NodeKind::CoMap { .. } => "co_map (two inputs)".into(),
        NodeKind::Process(pr) => match &pr.function {
            crate::scenario::ProcessFn::LongRideAlert { timeout, .. } => {
                format!(
                    "keyed process: long ride alert after {}",
                    crate::core::time::SimDuration::from_millis(*timeout as u64)
                )
            }
            crate::scenario::ProcessFn::Custom { name, .. } => format!("keyed process: {name}"),
            crate::scenario::ProcessFn::Pattern(p) => pattern_text(p),
        },
        NodeKind::Join(j) => join_text(j),
        NodeKind::Window(w) => window_text(s, n, w),
        NodeKind::Sink(k, _) => match k {
            SinkSpec::Collect { .. } => "sink (collect)".into(),
            SinkSpec::Upsert { key, .. } => format!("sink (upsert by {})", key.text),
            SinkSpec::Discard => "sink (discard)".into(),
        },
    }
}

/// A source in words: its data (generated, or rows), how long or how many, its pace.
/// `field(i)`: the name of field `i` of its records.
fn source_text(src: &crate::scenario::SourceSpec, field: &dyn Fn(usize) -> String) -> String {
    let pace = match src.rate {
        Some(r) => format!("{r} records/s"),
        None => "as fast as possible".into(),
    };
    match &src.data {
        SourceData::Generator {
            count, duration, ..
        } => {
            let until = match (count, duration) {
                (Some(c), _) => format!("{c} records"),
                (None, Some(d)) => format!("for {d}"),
                _ => String::new(),
            };
            format!("generator, {until}, {pace}")
        }
        SourceData::Rows {
            rows,
            repeat,
            partition,
            open_for,
        } => {
            let times = if *repeat > 1 {
                format!(" × {repeat}")
            } else {
                String::new()
            };
            let part = match partition {
                Some(i) => format!(", partitioned by {}", field(*i)),
                None => String::new(),
            };
            let open = match open_for {
                Some(d) => format!(", open for {d}"),
                None => String::new(),
            };
            format!("{} rows{times}, {pace}{part}{open}", rows.len())
        }
    }
}

/// A window join or an interval join in words: its keys and its window or time bounds.
fn join_text(j: &crate::scenario::JoinSpec) -> String {
    let ms = |v: i64| {
        let d = crate::core::time::SimDuration::from_millis(v.unsigned_abs()).to_string();
        if v < 0 { format!("-{d}") } else { d }
    };
    match &j.kind {
        crate::scenario::JoinKind::Window(a) => format!(
            "window join on {} = {}, {}",
            j.left_key.text,
            j.right_key.text,
            assigner_text(a)
        ),
        crate::scenario::JoinKind::Regular => format!(
            "regular inner join on {} = {}, both sides kept forever",
            j.left_key.text, j.right_key.text
        ),
        crate::scenario::JoinKind::Interval { lower, upper } => {
            format!(
                "interval join on {} = {}, right.ts in left.ts + [{}, {}]",
                j.left_key.text,
                j.right_key.text,
                ms(*lower),
                ms(*upper)
            )
        }
    }
}

/// A window operator in words: its shape (count window, global window, or the event- or
/// processing-time assigner), whether it is keyed, and its function over the input fields.
fn window_text(
    s: &Scenario,
    n: &crate::scenario::NodeDef,
    w: &crate::scenario::WindowSpec,
) -> String {
    use crate::flink::window::Assigner;
    let f = |i: &usize| {
        n.schema
            .fields
            .get(*i)
            .map_or("?".to_string(), |x| x.name.to_string())
    };
    let input = s.nodes.get(n.inputs[0].node).map(|x| &x.schema);
    let field = |i: &usize| {
        input
            .and_then(|sc| sc.fields.get(*i))
            .map_or_else(|| f(i), |x| x.name.to_string())
    };
    let what = match &w.function {
        crate::scenario::WindowFn::Sum(i) => format!("sum({})", field(i)),
        crate::scenario::WindowFn::Min(i) => format!("min({})", field(i)),
        crate::scenario::WindowFn::Max(i) => format!("max({})", field(i)),
        crate::scenario::WindowFn::Avg(i) => format!("avg({})", field(i)),
        crate::scenario::WindowFn::Count => "count".into(),
        crate::scenario::WindowFn::Expr(sel) => format!(
            "reduce {}",
            sel.iter()
                .map(|(f, e)| format!("{f} = {}", e.text))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let time = if w.processing_time {
        "processing-time"
    } else {
        "event-time"
    };
    let shape = match (&w.assigner, w.count) {
        (_, Some((n, None))) => format!("count window of {n}"),
        (_, Some((n, Some(s)))) => format!("count window of {n} every {s}"),
        (Assigner::Global, _) => "global window".into(),
        (a, _) => format!("{time} {}", assigner_text(a)),
    };
    let keyed = if w.key.is_some() { "" } else { " (non-keyed)" };
    format!("{shape}{keyed}, {what}")
}

/// A window assigner in words: "tumbling window 5 s (offset 1 s)".
fn assigner_text(a: &crate::flink::window::Assigner) -> String {
    use crate::flink::window::Assigner;
    let ms = |v: i64| {
        let d = crate::core::time::SimDuration::from_millis(v.unsigned_abs()).to_string();
        if v < 0 { format!("-{d}") } else { d }
    };
    let offset = |o: i64| {
        if o == 0 {
            String::new()
        } else {
            format!(" (offset {})", ms(o))
        }
    };
    match a {
        Assigner::Tumbling { size, offset: o } => {
            format!("tumbling window {}{}", ms(*size), offset(*o))
        }
        Assigner::Sliding {
            size,
            slide,
            offset: o,
        } => format!(
            "sliding window {} every {}{}",
            ms(*size),
            ms(*slide),
            offset(*o)
        ),
        Assigner::Session {
            gap,
            dynamic: false,
        } => format!("session window, gap {}", ms(*gap)),
        Assigner::Session { .. } => "session window, dynamic gap".into(),
        Assigner::Cumulative {
            size,
            step,
            offset: o,
        } => format!(
            "cumulating window up to {} every {}{}",
            ms(*size),
            ms(*step),
            offset(*o)
        ),
        Assigner::Global => "global window".into(),
    }
}

/// The text `streamlab plan` prints.
pub fn text(s: &Scenario, p: &Plan) -> String {
    let g = &p.logical.graph;
    let mut out = String::new();
    let c = &s.cluster;
    let _ = writeln!(
        out,
        "Job `{}`: {} operator{} in {} chain{}; needs {} slot{} (cluster: {} TaskManager{} × {} slot{}, {} core{} each)",
        s.name,
        g.node_count(),
        if g.node_count() == 1 { "" } else { "s" },
        p.execution.vertices.len(),
        if p.execution.vertices.len() == 1 {
            ""
        } else {
            "s"
        },
        p.deployment.slots_needed,
        if p.deployment.slots_needed == 1 {
            ""
        } else {
            "s"
        },
        c.task_managers,
        if c.task_managers == 1 { "" } else { "s" },
        c.slots_per_tm,
        if c.slots_per_tm == 1 { "" } else { "s" },
        c.cores_per_tm,
        if c.cores_per_tm == 1 { "" } else { "s" },
    );
    parallelism_text(&mut out, s);
    stream_graph_text(&mut out, s, p);
    job_graph_text(&mut out, p);
    execution_graph_text(&mut out, p);
    slots_text(&mut out, s, p);
    out
}

/// Where the parallelism of the operators that set none comes from, with Flink's order of
/// precedence, and a client `-p` that lost to the environment.
fn parallelism_text(out: &mut String, s: &Scenario) {
    let j = &s.job;
    let _ = writeln!(
        out,
        "Parallelism of operators that set none: {} — {}\n  (Flink's precedence: operator > environment > client -p > configuration)",
        j.parallelism,
        j.parallelism_level.how()
    );
    if let Some(c) = j.client_parallelism
        && j.parallelism_level != crate::flink::parallelism::ParallelismLevel::Client
    {
        let _ = writeln!(
            out,
            "  client -p {c} is not used: the job's main sets env.setParallelism({})",
            j.parallelism
        );
    }
}

/// Flink's StreamGraph: one stream node per operator with its parallelism, the level that
/// set it, what it does and the fields of its records.
fn stream_graph_text(out: &mut String, s: &Scenario, p: &Plan) {
    let g = &p.logical.graph;
    let _ = writeln!(
        out,
        "\nStreamGraph — one stream node per operator (key_by and union are folded into edges)"
    );
    let w = g.node_weights().map(|n| n.name.len()).max().unwrap_or(4);
    let pw = g
        .node_weights()
        .map(|n| format!("p={} ({})", n.parallelism, n.parallelism_level).len())
        .max()
        .unwrap_or(4);
    for n in g.node_weights() {
        let node = &s.nodes[n.scenario_node];
        let par = format!("p={} ({})", n.parallelism, n.parallelism_level);
        let _ = writeln!(
            out,
            "  {:<w$}  {par:<pw$}  {}  {}",
            n.name,
            describe(s, n.scenario_node),
            node.schema,
        );
    }
}

/// Flink's JobGraph: the edges with their partitioners and whether each chained (or why
/// not), then one job vertex per chain.
fn job_graph_text(out: &mut String, p: &Plan) {
    let g = &p.logical.graph;
    let _ = writeln!(
        out,
        "\nJobGraph — one job vertex per chain; an edge that does not chain is a network exchange"
    );
    for e in g.edge_references() {
        let (a, b, ew) = (&g[e.source()], &g[e.target()], e.weight());
        let mut part = ew.partitioner.flink_name().to_string();
        if let Some(k) = &ew.key {
            part.push_str(&format!(" by {}", k.text));
        }
        if !ew.via.is_empty() {
            part.push_str(&format!(" (via {})", ew.via.join(", ")));
        }
        let breaks = &p.chaining.breaks[e.id().index()];
        let verdict = if breaks.is_empty() {
            "chained".to_string()
        } else {
            format!(
                "not chained: {}",
                breaks
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        };
        let _ = writeln!(out, "  {} → {}  {}  — {}", a.name, b.name, part, verdict);
    }
    for (vi, v) in p.execution.vertices.iter().enumerate() {
        let _ = writeln!(
            out,
            "  job vertex [{vi}] {}  (parallelism {})",
            v.name, v.parallelism
        );
    }
}

/// Flink's ExecutionGraph: one execution vertex per subtask, with its key-group range and
/// the TaskManager its slot is on.
fn execution_graph_text(out: &mut String, p: &Plan) {
    let _ = writeln!(
        out,
        "\nExecutionGraph — one execution vertex per subtask, each run as one task"
    );
    for (vi, v) in p.execution.vertices.iter().enumerate() {
        let keyed = if v.keyed {
            format!(", keyed, {} key groups", v.max_parallelism)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  [{vi}] {}  (parallelism {}{keyed})",
            v.name, v.parallelism
        );
        for st in 0..v.parallelism {
            let tm = p.deployment.task_manager_of[vi][st as usize];
            let kg = match p.execution.key_groups(vi, st) {
                Some((a, b)) => format!("  key groups {a}..={b}"),
                None => String::new(),
            };
            let _ = writeln!(out, "      subtask {st}{kg}  on TaskManager {tm}");
        }
    }
}

/// The physical placement: how many slots the slot-sharing groups need, and which subtasks
/// share each slot of which TaskManager.
fn slots_text(out: &mut String, s: &Scenario, p: &Plan) {
    let groups: Vec<String> = p
        .deployment
        .per_group
        .iter()
        .map(|(g, n)| format!("`{g}` needs {n}"))
        .collect();
    let _ = writeln!(
        out,
        "\nPhysical placement — subtasks in slots of TaskManagers\nSlots: {} needed of {} ({})",
        p.deployment.slots_needed,
        s.cluster.total_slots(),
        groups.join(", ")
    );
    for slot in &p.deployment.slots {
        let members: Vec<String> = slot
            .subtasks
            .iter()
            .map(|(v, st)| format!("{} #{st}", p.execution.vertices[*v].name))
            .collect();
        let _ = writeln!(
            out,
            "  TaskManager {} slot {} [{}]: {}",
            slot.task_manager,
            slot.slot,
            slot.group,
            members.join(", ")
        );
    }
}

/// Graphviz, the graph levels in one picture: the StreamGraph's operators (with their
/// parallelism and its level) inside one cluster per JobGraph vertex, solid edges inside
/// chains, dashed network edges labelled with the partitioner and the reason they did not
/// chain; then the ExecutionGraph's subtasks placed in their slots and TaskManagers (up to
/// [`DOT_MAX_SUBTASKS`] subtasks).
pub fn dot(s: &Scenario, p: &Plan) -> String {
    let g = &p.logical.graph;
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", escape(&s.name));
    let _ = writeln!(
        out,
        "  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];"
    );
    for (vi, v) in p.execution.vertices.iter().enumerate() {
        let _ = writeln!(out, "  subgraph cluster_{vi} {{");
        let _ = writeln!(
            out,
            "    label=\"JobGraph vertex [{vi}] {} (p={})\"; style=filled; color=\"#dde6f5\";",
            escape(&v.name),
            v.parallelism
        );
        for &op in &v.ops {
            let n = &g[op];
            let _ = writeln!(
                out,
                "    n{} [label=\"{}\\n{}\\np={} ({})\"];",
                op.index(),
                escape(&n.name),
                escape(&describe(s, n.scenario_node)),
                n.parallelism,
                n.parallelism_level
            );
        }
        let _ = writeln!(out, "  }}");
    }
    for e in g.edge_references() {
        let breaks = &p.chaining.breaks[e.id().index()];
        let part = e.weight().partitioner.flink_name();
        if breaks.is_empty() {
            let _ = writeln!(
                out,
                "  n{} -> n{} [label=\"{part}\", style=bold];",
                e.source().index(),
                e.target().index()
            );
        } else {
            let why = breaks
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            let _ = writeln!(
                out,
                "  n{} -> n{} [label=\"{part}\", style=dashed, tooltip=\"{}\"];",
                e.source().index(),
                e.target().index(),
                escape(&why)
            );
        }
    }
    placement_dot(&mut out, p);
    let _ = writeln!(out, "}}");
    out
}

/// Most subtasks `--dot` draws one by one; bigger jobs show the JobGraph only.
pub const DOT_MAX_SUBTASKS: usize = 64;

/// The ExecutionGraph placed: one cluster per TaskManager, one per slot inside it, one node
/// per subtask (with its key-group range).
fn placement_dot(out: &mut String, p: &Plan) {
    let subtasks: usize = p.deployment.slots.iter().map(|s| s.subtasks.len()).sum();
    if subtasks > DOT_MAX_SUBTASKS {
        return;
    }
    let mut tms: Vec<u32> = p.deployment.slots.iter().map(|s| s.task_manager).collect();
    tms.sort_unstable();
    tms.dedup();
    for tm in tms {
        let _ = writeln!(
            out,
            "  subgraph cluster_tm{tm} {{\n    label=\"TaskManager {tm}\"; style=dashed;"
        );
        for slot in p.deployment.slots.iter().filter(|s| s.task_manager == tm) {
            let _ = writeln!(
                out,
                "    subgraph cluster_tm{tm}_slot{} {{\n      label=\"slot {} [{}]\"; style=solid;",
                slot.slot,
                slot.slot,
                escape(&slot.group)
            );
            for &(v, st) in &slot.subtasks {
                let kg = p
                    .execution
                    .key_groups(v, st)
                    .map_or(String::new(), |(a, b)| format!("\\nkey groups {a}..={b}"));
                let _ = writeln!(
                    out,
                    "      s{v}_{st} [shape=note, label=\"{} #{st}{kg}\"];",
                    escape(&p.execution.vertices[v].name)
                );
            }
            let _ = writeln!(out, "    }}");
        }
        let _ = writeln!(out, "  }}");
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// A CEP pattern in words: `CEP pattern begin(fails).times(3) → next(ok), within 10 s, no_skip`.
fn pattern_text(p: &crate::scenario::PatternSpec) -> String {
    use crate::flink::cep::{Contiguity, SkipStrategy};
    let steps: Vec<String> = p
        .def
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let how = match (i, s.contiguity, s.negated) {
                (0, _, _) => "begin",
                (_, Contiguity::Strict, false) => "next",
                (_, Contiguity::Relaxed, false) => "followed_by",
                (_, Contiguity::NonDeterministic, false) => "followed_by_any",
                (_, Contiguity::Strict, true) => "not_next",
                (_, _, true) => "not_followed_by",
            };
            let mut t = format!("{how}({} where {})", s.name, p.conditions[i].text);
            match s.max {
                None if s.times == 1 => t.push_str(".one_or_more()"),
                None => t.push_str(&format!(".times_or_more({})", s.times)),
                Some(m) if m != s.times => t.push_str(&format!(".times({}, {m})", s.times)),
                Some(_) if s.times > 1 => t.push_str(&format!(".times({})", s.times)),
                Some(_) => {}
            }
            match s.inner {
                Contiguity::Strict => t.push_str(".consecutive()"),
                Contiguity::NonDeterministic => t.push_str(".allow_combinations()"),
                Contiguity::Relaxed => {}
            }
            if s.optional {
                t.push_str(".optional()");
            }
            if s.greedy {
                t.push_str(".greedy()");
            }
            if let Some(u) = s.until {
                t.push_str(&format!(".until({})", p.conditions[u].text));
            }
            t
        })
        .collect();
    let mut t = format!("CEP pattern {}", steps.join(" → "));
    if let Some(w) = p.def.within {
        t.push_str(&format!(
            ", within {}",
            crate::core::time::SimDuration::from_millis(w as u64)
        ));
    }
    let step = |i: usize| p.def.steps.get(i).map_or("?", |s| s.name.as_str());
    t.push_str(&match p.def.skip {
        SkipStrategy::NoSkip => ", no_skip".to_string(),
        SkipStrategy::SkipToNext => ", skip_to_next".to_string(),
        SkipStrategy::SkipPastLastEvent => ", skip_past_last_event".to_string(),
        SkipStrategy::SkipToFirst(i) => format!(", skip_to_first({})", step(i)),
        SkipStrategy::SkipToLast(i) => format!(", skip_to_last({})", step(i)),
    });
    t
}
