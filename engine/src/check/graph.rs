//! The job as a graph: every `[[source]]`, `[[operator]]` and `[[sink]]` table (and the
//! late-data or side-output stream an operator declares) becomes a node; names are checked
//! unique, inputs resolved to nodes, cycles refused; then each node is checked in data-flow
//! order — so an operator's check sees its inputs' fields and kinds — and gets the options
//! every node has (parallelism, chaining, slot-sharing group, partitioner, cost).

use super::checker::{Checker, NodeCheck, Upstream};
use super::{event_time, operator, sink, source};
use crate::core::time::SimDuration;
use crate::core::value::Schema;
use crate::expr::closest;
use crate::flink::keygroup::UPPER_BOUND_MAX_PARALLELISM;
use crate::scenario::raw::{RawOperator, RawScenario, RawSink, RawSource};
use crate::scenario::{ChainingStrategy, InputRef, NodeDef, NodeKind, Partitioner, Spanned};
use petgraph::algo::toposort;
use petgraph::graph::DiGraph;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned as TSpanned;

/// A node before its inputs are resolved.
pub struct Draft {
    /// Its name.
    pub name: String,
    /// Where the name is written.
    pub name_span: Range<usize>,
    /// The whole table.
    pub span: Range<usize>,
    /// Which table it comes from.
    pub role: Role,
    /// The names of the streams it reads, with where each is written.
    pub inputs: Vec<(String, Range<usize>)>,
    /// The options every node has, as written.
    pub common: Common,
}

/// Which table a node comes from.
pub enum Role {
    /// A `[[source]]`.
    Source(Box<RawSource>),
    /// An `[[operator]]`.
    Operator(Box<RawOperator>),
    /// A `[[sink]]`.
    Sink(Box<RawSink>),
    /// The late-data stream of the window operator named in `inputs[0]` (or a process
    /// function's side output).
    SideOutput,
}

/// The options every node has, as written.
#[derive(Default)]
pub struct Common {
    parallelism: Option<TSpanned<i64>>,
    chaining: Option<TSpanned<bool>>,
    start_new_chain: Option<TSpanned<bool>>,
    slot_sharing_group: Option<TSpanned<String>>,
    partitioner: Option<TSpanned<String>>,
    cost: Option<TSpanned<String>>,
}

/// The options every node has, checked.
struct Options {
    parallelism: Option<Spanned<u32>>,
    chaining: ChainingStrategy,
    slot_sharing_group: Option<String>,
    partitioner: Option<Spanned<Partitioner>>,
    cost: Option<SimDuration>,
}

/// One draft per table of the file (and per declared side output), sources first, then
/// operators, then sinks.
pub fn drafts(ck: &mut Checker, raw: RawScenario) -> Vec<Draft> {
    let mut drafts = Vec::new();
    for s in raw.sources {
        let span = s.span();
        let s = s.into_inner();
        let common = Common {
            parallelism: s.parallelism.clone(),
            slot_sharing_group: s.slot_sharing_group.clone(),
            cost: s.cost.clone(),
            ..Common::default()
        };
        drafts.push(Draft {
            name: s.name.get_ref().clone(),
            name_span: s.name.span(),
            span,
            inputs: Vec::new(),
            role: Role::Source(Box::new(s)),
            common,
        });
    }
    for o in raw.operators {
        operator_drafts(ck, o, &mut drafts);
    }
    for k in raw.sinks {
        let span = k.span();
        let k = k.into_inner();
        let common = Common {
            parallelism: k.parallelism.clone(),
            chaining: k.chaining.clone(),
            start_new_chain: k.start_new_chain.clone(),
            slot_sharing_group: k.slot_sharing_group.clone(),
            partitioner: k.partitioner.clone(),
            cost: k.cost.clone(),
        };
        drafts.push(Draft {
            name: k.name.get_ref().clone(),
            name_span: k.name.span(),
            span,
            inputs: vec![(k.input.get_ref().clone(), k.input.span())],
            role: Role::Sink(Box::new(k)),
            common,
        });
    }
    drafts
}

/// An operator's draft and, when it declares one, its side output's.
fn operator_drafts(ck: &mut Checker, o: TSpanned<RawOperator>, drafts: &mut Vec<Draft>) {
    let span = o.span();
    let o = o.into_inner();
    let mut inputs = Vec::new();
    match (&o.input, &o.inputs) {
        (Some(i), None) => inputs.push((i.get_ref().clone(), i.span())),
        (None, Some(list)) => {
            for i in list.get_ref() {
                inputs.push((i.get_ref().clone(), i.span()));
            }
            if list.get_ref().is_empty() {
                ck.error(
                    Some(list.span()),
                    format!("operator `{}` lists no inputs", o.name.get_ref()),
                    "",
                );
            }
        }
        (Some(i), Some(_)) => ck.error(
            Some(i.span()),
            format!(
                "operator `{}` has both `input` and `inputs`",
                o.name.get_ref()
            ),
            "use `input` for one stream, `inputs` for a union",
        ),
        (None, None) => ck.error(
            Some(o.name.span()),
            format!("operator `{}` has no `input`", o.name.get_ref()),
            "name the stream it reads: input = \"…\"",
        ),
    }
    let common = Common {
        parallelism: o.parallelism.clone(),
        chaining: o.chaining.clone(),
        start_new_chain: o.start_new_chain.clone(),
        slot_sharing_group: o.slot_sharing_group.clone(),
        partitioner: o.partitioner.clone(),
        cost: o.cost.clone(),
    };
    // A window's late data or a process function's side output: a stream of its own,
    // with the fields of the operator's input.
    let side = o
        .late_output
        .clone()
        .or_else(|| o.side_output.clone())
        .map(|l| (l, o.name.get_ref().clone(), o.name.span()));
    drafts.push(Draft {
        name: o.name.get_ref().clone(),
        name_span: o.name.span(),
        span,
        inputs,
        role: Role::Operator(Box::new(o)),
        common,
    });
    if let Some((late, window, window_span)) = side {
        drafts.push(Draft {
            name: late.get_ref().clone(),
            name_span: late.span(),
            span: late.span(),
            inputs: vec![(window, window_span)],
            role: Role::SideOutput,
            common: Common::default(),
        });
    }
}

/// The checked nodes, in the order of the drafts; `None` when any error was found.
pub fn nodes(ck: &mut Checker, drafts: Vec<Draft>) -> Option<Vec<NodeDef>> {
    let by_name = unique_names(ck, &drafts);
    let (mut inputs, unresolved) = resolve_inputs(ck, &drafts, &by_name);
    let order = data_flow_order(ck, &drafts, &inputs)?;
    let (mut kinds, mut schemas) = check_kinds(ck, &drafts, &inputs, &unresolved, &order);
    let names: Vec<(&str, Range<usize>)> = drafts
        .iter()
        .map(|d| (d.name.as_str(), d.name_span.clone()))
        .collect();
    event_time::check_event_time(ck, &names, &inputs, &kinds);
    // Common options.
    let mut nodes = Vec::with_capacity(drafts.len());
    for (i, d) in drafts.into_iter().enumerate() {
        let options = options(ck, &d);
        let (Some(kind), Some(schema), Some(options)) =
            (kinds[i].take(), schemas[i].take(), options)
        else {
            continue;
        };
        let mut node = NodeDef {
            name: d.name,
            span: d.span,
            kind,
            inputs: std::mem::take(&mut inputs[i]),
            schema,
            parallelism: options.parallelism,
            chaining: options.chaining,
            slot_sharing_group: options.slot_sharing_group,
            partitioner: options.partitioner,
            cost: options.cost,
        };
        if matches!(node.kind, NodeKind::Source(_)) {
            node.chaining = ChainingStrategy::Head;
        }
        if let NodeKind::Window(w) = &node.kind
            && w.key.is_none()
            && node.parallelism.is_none()
        {
            // windowAll runs with parallelism 1, whatever the job default.
            node.parallelism = Some(Spanned {
                value: 1,
                span: node.span.clone(),
            });
        }
        nodes.push(node);
    }
    if ck.has_errors() { None } else { Some(nodes) }
}

/// Names must be unique and non-empty; the index of each name's first node.
fn unique_names(ck: &mut Checker, drafts: &[Draft]) -> BTreeMap<String, usize> {
    let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
    for (i, d) in drafts.iter().enumerate() {
        if d.name.trim().is_empty() {
            ck.error(Some(d.name_span.clone()), "a name must not be empty", "");
        } else if let Some(&first) = by_name.get(&d.name) {
            let (l, _) = ck.diags.file.line_col(drafts[first].name_span.start);
            ck.error(
                Some(d.name_span.clone()),
                format!("the name `{}` is used twice (first on line {l})", d.name),
                "every source, operator and sink needs its own name",
            );
        } else {
            by_name.insert(d.name.clone(), i);
        }
    }
    by_name
}

/// Each node's inputs as node indices, and which nodes name an input that does not exist
/// (or a sink, which cannot be read).
fn resolve_inputs(
    ck: &mut Checker,
    drafts: &[Draft],
    by_name: &BTreeMap<String, usize>,
) -> (Vec<Vec<InputRef>>, Vec<bool>) {
    let streams: Vec<&str> = drafts
        .iter()
        .filter(|d| !matches!(d.role, Role::Sink(_)))
        .map(|d| d.name.as_str())
        .collect();
    let mut inputs: Vec<Vec<InputRef>> = vec![Vec::new(); drafts.len()];
    let mut unresolved = vec![false; drafts.len()];
    for (i, d) in drafts.iter().enumerate() {
        for (name, span) in &d.inputs {
            match by_name.get(name) {
                Some(&j) if matches!(drafts[j].role, Role::Sink(_)) => {
                    ck.error(
                        Some(span.clone()),
                        format!("`{name}` is a sink; sinks end a stream and cannot be read"),
                        format!("known streams: {}", streams.join(", ")),
                    );
                    unresolved[i] = true;
                }
                Some(&j) => inputs[i].push(InputRef {
                    node: j,
                    span: span.clone(),
                }),
                None => {
                    let mut msg = format!(
                        "unknown input `{name}` in {} `{}`",
                        role_name(&d.role),
                        d.name
                    );
                    if let Some(s) = closest(name, &streams) {
                        msg.push_str(&format!(" (did you mean `{s}`?)"));
                    }
                    ck.error(
                        Some(span.clone()),
                        msg,
                        format!("known streams: {}", streams.join(", ")),
                    );
                    unresolved[i] = true;
                }
            }
        }
    }
    (inputs, unresolved)
}

/// The nodes in data-flow order (inputs first); `None` after reporting a cycle.
fn data_flow_order(
    ck: &mut Checker,
    drafts: &[Draft],
    inputs: &[Vec<InputRef>],
) -> Option<Vec<usize>> {
    let mut g: DiGraph<usize, ()> = DiGraph::new();
    let ids: Vec<_> = (0..drafts.len()).map(|i| g.add_node(i)).collect();
    for (i, ins) in inputs.iter().enumerate() {
        for inp in ins {
            g.add_edge(ids[inp.node], ids[i], ());
        }
    }
    match toposort(&g, None) {
        Ok(o) => Some(o.into_iter().map(|n| g[n]).collect()),
        Err(cycle) => {
            let start = g[cycle.node_id()];
            let path = find_cycle(inputs, start);
            let names: Vec<&str> = path.iter().map(|&i| drafts[i].name.as_str()).collect();
            let last = path[path.len() - 2];
            let span = inputs[path[path.len() - 1]]
                .iter()
                .find(|r| r.node == last)
                .map(|r| r.span.clone());
            ck.error(
                span,
                format!("the job has a cycle: {}", names.join(" → ")),
                "a Flink job is a directed acyclic graph; streamlab has no iterations",
            );
            None
        }
    }
}

/// Checks each node's own table, in data-flow order: its kind (when valid) and the fields of
/// its records (when known).
fn check_kinds(
    ck: &mut Checker,
    drafts: &[Draft],
    inputs: &[Vec<InputRef>],
    unresolved: &[bool],
    order: &[usize],
) -> (Vec<Option<NodeKind>>, Vec<Option<Schema>>) {
    let names: Vec<&str> = drafts.iter().map(|d| d.name.as_str()).collect();
    let mut schemas: Vec<Option<Schema>> = vec![None; drafts.len()];
    let mut kinds: Vec<Option<NodeKind>> = (0..drafts.len()).map(|_| None).collect();
    for &i in order {
        if unresolved[i] {
            continue;
        }
        let in_schemas: Option<Vec<&Schema>> =
            inputs[i].iter().map(|r| schemas[r.node].as_ref()).collect();
        let Some(in_schemas) = in_schemas else {
            continue;
        };
        let result = match &drafts[i].role {
            Role::Source(s) => source::check_source(ck, s),
            Role::Operator(o) => operator::check_operator(
                ck,
                o,
                &Upstream {
                    refs: &inputs[i],
                    schemas: &in_schemas,
                    kinds: &kinds,
                    names: &names,
                },
            ),
            Role::Sink(k) => sink::check_sink(ck, k, in_schemas[0]),
            Role::SideOutput => {
                // Late elements have the fields of the window operator's input; a CEP
                // pattern's timed-out partial matches, the pattern's own fields.
                let w = inputs[i][0].node;
                let own = matches!(&kinds[w], Some(NodeKind::Process(p)) if matches!(&p.function, crate::scenario::ProcessFn::Pattern(s) if !s.late_to_side));
                let schema = if own {
                    schemas[w].clone()
                } else {
                    inputs[w].first().and_then(|r| schemas[r.node].clone())
                };
                schema.and_then(|s| NodeCheck::ok(NodeKind::SideOutput { of: w }, s))
            }
        };
        if let Some(NodeCheck { kind, schema }) = result {
            kinds[i] = kind;
            schemas[i] = Some(schema);
        }
    }
    (kinds, schemas)
}

/// The options every node has.
fn options(ck: &mut Checker, d: &Draft) -> Option<Options> {
    let c = &d.common;
    let parallelism = match &c.parallelism {
        Some(p) => ck
            .count(
                p,
                &format!("parallelism of `{}`", d.name),
                i64::from(UPPER_BOUND_MAX_PARALLELISM),
            )
            .map(|v| {
                Some(Spanned {
                    value: v,
                    span: p.span(),
                })
            })?,
        None => None,
    };
    let mut chaining = ChainingStrategy::Always;
    if let Some(s) = &c.start_new_chain
        && *s.get_ref()
    {
        chaining = ChainingStrategy::Head;
    }
    if let Some(ch) = &c.chaining
        && !*ch.get_ref()
    {
        chaining = ChainingStrategy::Never;
    }
    let partitioner = match &c.partitioner {
        None => None,
        Some(p) => Some(partitioner(ck, p)?),
    };
    let cost = match &c.cost {
        Some(v) => Some(ck.duration(v, "cost")?),
        None => None,
    };
    Some(Options {
        parallelism,
        chaining,
        slot_sharing_group: c.slot_sharing_group.as_ref().map(|s| s.get_ref().clone()),
        partitioner,
        cost,
    })
}

/// A partitioner written on a node.
fn partitioner(ck: &mut Checker, p: &TSpanned<String>) -> Option<Spanned<Partitioner>> {
    match Partitioner::parse(p.get_ref()) {
        Some(part) => Some(Spanned {
            value: part,
            span: p.span(),
        }),
        None if p.get_ref() == "hash" => {
            ck.error(
                Some(p.span()),
                "hash partitioning comes from a key_by",
                "add a [[operator]] with kind = \"key_by\" and read from it",
            );
            None
        }
        None => {
            ck.error(
                Some(p.span()),
                format!("unknown partitioner `{}`", p.get_ref()),
                "expected one of forward, rebalance, rescale, shuffle, broadcast, global",
            );
            None
        }
    }
}

fn role_name(r: &Role) -> &'static str {
    match r {
        Role::Source(_) => "source",
        Role::Operator(_) => "operator",
        Role::Sink(_) => "sink",
        Role::SideOutput => "side output",
    }
}

/// A cycle through `start`, as node indices with the first repeated at the end.
fn find_cycle(inputs: &[Vec<InputRef>], start: usize) -> Vec<usize> {
    // Follow input edges backwards from `start` until we come back to it (DFS).
    fn dfs(
        inputs: &[Vec<InputRef>],
        at: usize,
        target: usize,
        seen: &mut Vec<bool>,
        path: &mut Vec<usize>,
    ) -> bool {
        for r in &inputs[at] {
            if r.node == target {
                path.push(r.node);
                return true;
            }
            if !seen[r.node] {
                seen[r.node] = true;
                path.push(r.node);
                if dfs(inputs, r.node, target, seen, path) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start];
    let mut seen = vec![false; inputs.len()];
    dfs(inputs, start, start, &mut seen, &mut path);
    // path goes downstream→upstream; show it in data-flow order.
    path.reverse();
    path
}

#[cfg(test)]
mod tests {
    use crate::check::parse_str;
    use crate::check::testing;

    const SRC: &str = "[[source]]\nname = \"a\"\nkind = \"generator\"\ncount = 10\nfields.k = { kind = \"sequence\" }\n";

    fn errors(rest: &str) -> String {
        testing::errors(&format!("{SRC}{rest}"))
    }

    #[test]
    fn names_are_unique_and_inputs_exist() {
        let e = errors("[[sink]]\nname = \"a\"\ninput = \"a\"\n");
        assert!(
            e.contains("the name `a` is used twice (first on line 2)"),
            "{e}"
        );
        let e = errors("[[sink]]\nname = \"out\"\ninput = \"b\"\n");
        assert!(e.contains("unknown input `b` in sink `out`"), "{e}");
        assert!(e.contains("known streams: a"), "{e}");
    }

    #[test]
    fn a_sink_cannot_be_read_and_cycles_are_refused() {
        let e = errors(
            "[[sink]]\nname = \"out\"\ninput = \"a\"\n[[sink]]\nname = \"o2\"\ninput = \"out\"\n",
        );
        assert!(
            e.contains("`out` is a sink; sinks end a stream and cannot be read"),
            "{e}"
        );
        let e = errors(
            "[[operator]]\nname = \"m\"\nkind = \"union\"\ninputs = [\"a\", \"n\"]\n[[operator]]\nname = \"n\"\nkind = \"filter\"\ninput = \"m\"\nwhere = \"k > 1\"\n[[sink]]\nname = \"out\"\ninput = \"n\"\n",
        );
        assert!(e.contains("the job has a cycle: n → m → n"), "{e}");
    }

    #[test]
    fn common_options_are_checked() {
        let e = errors("[[sink]]\nname = \"out\"\ninput = \"a\"\npartitioner = \"hash\"\n");
        assert!(e.contains("hash partitioning comes from a key_by"), "{e}");
        let e = errors(
            "[[sink]]\nname = \"out\"\ninput = \"a\"\npartitioner = \"roundrobin\"\nparallelism = 0\n",
        );
        assert!(
            e.contains("parallelism of `out` must be at least 1, found 0"),
            "{e}"
        );
        let s = parse_str(
            "t.toml",
            &format!("{SRC}[[sink]]\nname = \"out\"\ninput = \"a\"\nchaining = false\nslot_sharing_group = \"g\"\n"),
            None,
        )
        .unwrap();
        assert_eq!(
            s.nodes[1].chaining,
            crate::scenario::ChainingStrategy::Never
        );
        assert_eq!(s.nodes[1].slot_sharing_group.as_deref(), Some("g"));
        assert_eq!(s.nodes[0].chaining, crate::scenario::ChainingStrategy::Head);
    }
}
