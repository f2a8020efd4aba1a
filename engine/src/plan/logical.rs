//! The logical graph: Flink's `StreamGraph`.
//!
//! One node per source, operator and sink that does work; `key_by` and `union` are folded into
//! the edges, as Flink folds its virtual `PartitionTransformation` and `UnionTransformation`:
//! a `key_by` turns the edge after it into a HASH edge, a `union` gives its consumer one input
//! edge per unioned stream. Each edge gets its partitioner: the one written on the consumer, or
//! HASH after a `key_by`, or Flink's default — FORWARD between equal parallelism, REBALANCE
//! otherwise.

use crate::core::diag::{Diagnostic, Diagnostics};
use crate::flink::keygroup::default_max_parallelism;
use crate::scenario::{ChainingStrategy, ExprSrc, NodeKind, Partitioner, Scenario};
use petgraph::graph::{DiGraph, NodeIndex};
use std::ops::Range;

/// An operator of the logical graph.
#[derive(Debug, Clone)]
pub struct LogicalNode {
    /// Index of the node in [`Scenario::nodes`].
    pub scenario_node: usize,
    /// Its name.
    pub name: String,
    /// Parallelism (explicit or the job default).
    pub parallelism: u32,
    /// The level of Flink's precedence that set it.
    pub parallelism_level: crate::flink::parallelism::ParallelismLevel,
    /// Max parallelism = number of key groups (explicit for the job, or Flink's default rule).
    pub max_parallelism: u32,
    /// Chaining strategy.
    pub chaining: ChainingStrategy,
    /// Slot-sharing group.
    pub slot_sharing_group: String,
}

/// An edge of the logical graph.
#[derive(Debug, Clone)]
pub struct LogicalEdge {
    /// How records are distributed.
    pub partitioner: Partitioner,
    /// The key expression of a HASH edge (computed over the upstream node's records).
    pub key: Option<ExprSrc>,
    /// Names of the folded virtual nodes this edge passes through (`key_by`, `union`).
    pub via: Vec<String>,
    /// Whether the partitioner was written in the file (as opposed to Flink's default).
    pub explicit: bool,
    /// Position of the consumer's input among its inputs.
    pub input_index: usize,
    /// Which output of the producer: its main output or its late-data side output.
    pub port: Port,
}

/// An output of an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Port {
    /// The main output.
    Main,
    /// The late-data side output of a window operator.
    Side,
}

/// Flink's StreamGraph for a scenario.
#[derive(Debug, Clone)]
pub struct LogicalGraph {
    /// The graph.
    pub graph: DiGraph<LogicalNode, LogicalEdge>,
}

impl LogicalGraph {
    /// Builds the graph, checking parallelism against max parallelism and forward edges
    /// against parallelism changes, with Flink's wording.
    pub fn build(s: &Scenario) -> Result<LogicalGraph, Diagnostics> {
        let mut diags = Diagnostics::new(s.file.clone());
        let mut graph = DiGraph::new();
        let mut index: Vec<Option<NodeIndex>> = vec![None; s.nodes.len()];
        let groups = slot_sharing_groups(s);
        for (i, n) in s.nodes.iter().enumerate() {
            if n.is_virtual() {
                continue;
            }
            index[i] = Some(graph.add_node(logical_node(s, i, &groups[i], &mut diags)));
        }
        for (i, n) in s.nodes.iter().enumerate() {
            let Some(to) = index[i] else { continue };
            let mut input_of: Vec<usize> = Vec::new();
            // The edges of one declared input (a union has several) share its input index:
            // two-input operators tell their inputs apart by it.
            let mut resolved = Vec::new();
            for (k, r) in n.inputs.iter().enumerate() {
                let before = resolved.len();
                resolve_input(s, r.node, None, &mut Vec::new(), &mut resolved, &r.span);
                for _ in before..resolved.len() {
                    input_of.push(k);
                }
            }
            for (e, (from_node, key, via, span, port)) in resolved.into_iter().enumerate() {
                let input_index = input_of[e];
                let Some(from) = index[from_node] else {
                    continue;
                };
                let up = &graph[from];
                let down = &graph[to];
                let (partitioner, explicit) = match (&key, &n.partitioner) {
                    (Some(_), Some(p)) => {
                        diags.push(
                            Diagnostic::error(
                                format!("`{}` reads a keyed stream, which is already hash-partitioned by its key_by", n.name),
                                Some(p.span.clone()),
                            )
                            .with_label("remove `partitioner`, or read the stream before the key_by"),
                        );
                        (Partitioner::Hash, true)
                    }
                    (Some(_), None) => (Partitioner::Hash, false),
                    (None, Some(p)) => (p.value, true),
                    (None, None) if up.parallelism == down.parallelism => {
                        (Partitioner::Forward, false)
                    }
                    (None, None) => (Partitioner::Rebalance, false),
                };
                if partitioner == Partitioner::Forward && up.parallelism != down.parallelism {
                    diags.push(
                        Diagnostic::error(
                            format!(
                                "Forward partitioning does not allow change of parallelism. Upstream operation: {} parallelism: {}, downstream operation: {} parallelism: {}",
                                up.name, up.parallelism, down.name, down.parallelism
                            ),
                            Some(n.partitioner.as_ref().map_or(span.clone(), |p| p.span.clone())),
                        )
                        .with_label("You must use another partitioning strategy, such as broadcast, rebalance, shuffle or global."),
                    );
                }
                graph.add_edge(
                    from,
                    to,
                    LogicalEdge {
                        partitioner,
                        key,
                        via,
                        explicit,
                        input_index,
                        port,
                    },
                );
            }
        }
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(LogicalGraph { graph })
        }
    }

    /// The logical node built from a scenario node.
    pub fn node_of(&self, scenario_node: usize) -> Option<NodeIndex> {
        self.graph
            .node_indices()
            .find(|&n| self.graph[n].scenario_node == scenario_node)
    }
}

/// The logical node of scenario node `i` (an operator that does work), checking its
/// parallelism against its max parallelism with Flink's wording.
fn logical_node(s: &Scenario, i: usize, group: &str, diags: &mut Diagnostics) -> LogicalNode {
    let n = &s.nodes[i];
    let parallelism = crate::scenario::query::parallelism_of(&s.job, n);
    let max_parallelism = s
        .job
        .max_parallelism
        .as_ref()
        .map_or_else(|| default_max_parallelism(parallelism), |m| m.value);
    if parallelism > max_parallelism {
        let span = n
            .parallelism
            .as_ref()
            .map(|p| p.span.clone())
            .or_else(|| s.job.parallelism_span.clone())
            .or_else(|| s.job.max_parallelism.as_ref().map(|m| m.span.clone()));
        diags.push(
            Diagnostic::error(
                format!(
                    "the parallelism of `{}` ({parallelism}) is larger than its max parallelism ({max_parallelism})",
                    n.name
                ),
                span,
            )
            .with_label("Flink: the parallelism of an operator must not be larger than its max parallelism")
            .with_note("max parallelism is the number of key groups; raise [job] max_parallelism or lower the parallelism"),
        );
    }
    LogicalNode {
        scenario_node: i,
        name: n.name.clone(),
        parallelism,
        parallelism_level: crate::scenario::query::parallelism_level_of(&s.job, n),
        max_parallelism,
        chaining: n.chaining,
        slot_sharing_group: group.to_string(),
    }
}

/// The group Flink puts a node's subtasks in (`StreamGraphGenerator.determineSlotSharingGroup`):
/// the group written on the node; else its inputs' group when all of them share one; else
/// [`DEFAULT_SLOT_SHARING_GROUP`] (also for sources without a group). Virtual nodes pass their
/// inputs' groups through: an input through a `key_by` or `union` is the operator behind it,
/// a side output (whose input is its operator) is its operator's. Indexed like
/// [`Scenario::nodes`] (virtual nodes included).
pub fn slot_sharing_groups(s: &Scenario) -> Vec<String> {
    let explicit = |i: usize| {
        let n = &s.nodes[i];
        n.slot_sharing_group.as_ref().filter(|_| !n.is_virtual())
    };
    let mut group: Vec<Option<String>> = vec![None; s.nodes.len()];
    // Depth first over the inputs (the scenario is acyclic), without recursion.
    for start in 0..s.nodes.len() {
        let mut stack = vec![start];
        while let Some(&i) = stack.last() {
            if group[i].is_some() {
                stack.pop();
                continue;
            }
            if let Some(g) = explicit(i) {
                group[i] = Some(g.clone());
                stack.pop();
                continue;
            }
            let inputs = &s.nodes[i].inputs;
            let pending: Vec<usize> = inputs
                .iter()
                .map(|r| r.node)
                .filter(|&j| group[j].is_none())
                .collect();
            if !pending.is_empty() {
                stack.extend(pending);
                continue;
            }
            let mut of_inputs = inputs.iter().filter_map(|r| group[r.node].as_deref());
            let first = of_inputs.next();
            let shared = match first {
                Some(f) if of_inputs.all(|g| g == f) => f,
                _ => DEFAULT_SLOT_SHARING_GROUP,
            };
            group[i] = Some(shared.to_string());
            stack.pop();
        }
    }
    group.into_iter().map(Option::unwrap_or_default).collect()
}

/// Flink's name of the group of operators that set none and read nothing that sets one.
pub const DEFAULT_SLOT_SHARING_GROUP: &str = "default";

type Resolved = (usize, Option<ExprSrc>, Vec<String>, Range<usize>, Port);

/// Follows an input through virtual nodes to the real producers.
fn resolve_input(
    s: &Scenario,
    node: usize,
    key: Option<ExprSrc>,
    via: &mut Vec<String>,
    out: &mut Vec<Resolved>,
    span: &Range<usize>,
) {
    let n = &s.nodes[node];
    match &n.kind {
        NodeKind::KeyBy { key: k } => {
            via.push(n.name.clone());
            // The key_by closest to the consumer decides the partitioning.
            let key = key.or_else(|| Some(k.clone()));
            resolve_input(s, n.inputs[0].node, key, via, out, span);
            via.pop();
        }
        NodeKind::Union => {
            via.push(n.name.clone());
            for r in &n.inputs {
                resolve_input(s, r.node, key.clone(), via, out, span);
            }
            via.pop();
        }
        NodeKind::SideOutput { of } => {
            let mut v = via.clone();
            v.push(n.name.clone());
            v.reverse();
            out.push((*of, key, v, span.clone(), Port::Side));
        }
        _ => {
            let mut v = via.clone();
            v.reverse();
            out.push((node, key, v, span.clone(), Port::Main));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::parse_str;
    use petgraph::visit::EdgeRef;

    const SRC: &str = "[[source]]\nname = \"a\"\nkind = \"generator\"\ncount = 10\nparallelism = 2\nfields.k = { kind = \"key\", count = 3 }\n";

    fn edges(text: &str) -> Vec<(String, String, Partitioner, Vec<String>)> {
        let s = parse_str("t.toml", text, None).unwrap();
        let g = LogicalGraph::build(&s).unwrap();
        g.graph
            .edge_references()
            .map(|e| {
                (
                    g.graph[e.source()].name.clone(),
                    g.graph[e.target()].name.clone(),
                    e.weight().partitioner,
                    e.weight().via.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn default_partitioner_is_forward_or_rebalance_by_parallelism() {
        let e = edges(&format!(
            "{SRC}[[sink]]\nname = \"same\"\ninput = \"a\"\nparallelism = 2\n[[sink]]\nname = \"wider\"\ninput = \"a\"\nparallelism = 3"
        ));
        assert!(e.contains(&("a".into(), "same".into(), Partitioner::Forward, vec![])));
        assert!(e.contains(&("a".into(), "wider".into(), Partitioner::Rebalance, vec![])));
    }

    #[test]
    fn key_by_and_union_fold_into_edges() {
        let text = format!(
            "{SRC}[[source]]\nname = \"b\"\nkind = \"generator\"\ncount = 10\nparallelism = 2\nfields.k = {{ kind = \"key\", count = 3 }}\n\
             [[operator]]\nname = \"u\"\nkind = \"union\"\ninputs = [\"a\", \"b\"]\n\
             [[operator]]\nname = \"by\"\nkind = \"key_by\"\ninput = \"u\"\nkey = \"k\"\n\
             [[operator]]\nname = \"n\"\nkind = \"reduce\"\ninput = \"by\"\nfunction = \"count\"\nparallelism = 2\n\
             [[sink]]\nname = \"out\"\ninput = \"n\"\nparallelism = 2"
        );
        let e = edges(&text);
        assert!(
            e.contains(&(
                "a".into(),
                "n".into(),
                Partitioner::Hash,
                vec!["u".into(), "by".into()]
            )),
            "{e:?}"
        );
        assert!(
            e.contains(&(
                "b".into(),
                "n".into(),
                Partitioner::Hash,
                vec!["u".into(), "by".into()]
            )),
            "{e:?}"
        );
        assert!(e.contains(&("n".into(), "out".into(), Partitioner::Forward, vec![])));
    }

    #[test]
    fn forward_across_a_parallelism_change_is_flinks_error() {
        let text = format!(
            "{SRC}[[sink]]\nname = \"out\"\ninput = \"a\"\nparallelism = 3\npartitioner = \"forward\""
        );
        let s = parse_str("t.toml", &text, None).unwrap();
        let err = LogicalGraph::build(&s).unwrap_err().to_string();
        assert!(
            err.contains("Forward partitioning does not allow change of parallelism"),
            "{err}"
        );
        assert!(
            err.contains(
                "Upstream operation: a parallelism: 2, downstream operation: out parallelism: 3"
            ),
            "{err}"
        );
    }

    #[test]
    fn parallelism_above_max_parallelism_is_an_error() {
        let text = format!(
            "[job]\nmax_parallelism = 4\n{SRC}[[sink]]\nname = \"out\"\ninput = \"a\"\nparallelism = 8"
        );
        let s = parse_str("t.toml", &text, None).unwrap();
        let err = LogicalGraph::build(&s).unwrap_err().to_string();
        assert!(
            err.contains("parallelism of `out` (8) is larger than its max parallelism (4)"),
            "{err}"
        );
    }

    fn groups(text: &str) -> Vec<(String, String)> {
        let s = parse_str("t.toml", text, None).unwrap();
        let g = LogicalGraph::build(&s).unwrap();
        g.graph
            .node_weights()
            .map(|n| (n.name.clone(), n.slot_sharing_group.clone()))
            .collect()
    }

    fn group<'a>(g: &'a [(String, String)], name: &str) -> &'a str {
        &g.iter().find(|(n, _)| n == name).unwrap().1
    }

    #[test]
    fn an_operator_without_a_group_takes_its_inputs_group() {
        let g = groups(&format!(
            "{SRC}[[operator]]\nname = \"m\"\nkind = \"map\"\ninput = \"a\"\nslot_sharing_group = \"heavy\"\nselect = {{ k = \"k\" }}\n\
             [[operator]]\nname = \"f\"\nkind = \"filter\"\ninput = \"m\"\nwhere = \"k > 0\"\n\
             [[sink]]\nname = \"out\"\ninput = \"f\"\nslot_sharing_group = \"light\""
        ));
        assert_eq!(group(&g, "a"), "default");
        assert_eq!(group(&g, "m"), "heavy");
        assert_eq!(group(&g, "f"), "heavy", "inherited from m");
        assert_eq!(group(&g, "out"), "light", "explicit wins");
    }

    #[test]
    fn inputs_in_different_groups_give_the_default_group_and_virtual_nodes_pass_through() {
        let text = format!(
            "{SRC}slot_sharing_group = \"x\"\n[[source]]\nname = \"b\"\nkind = \"generator\"\ncount = 10\nparallelism = 2\nslot_sharing_group = \"{{B}}\"\nfields.k = {{ kind = \"key\", count = 3 }}\n\
             [[operator]]\nname = \"u\"\nkind = \"union\"\ninputs = [\"a\", \"b\"]\n\
             [[operator]]\nname = \"by\"\nkind = \"key_by\"\ninput = \"u\"\nkey = \"k\"\n\
             [[operator]]\nname = \"n\"\nkind = \"reduce\"\ninput = \"by\"\nfunction = \"count\"\nparallelism = 2\n\
             [[sink]]\nname = \"out\"\ninput = \"n\"\nparallelism = 2"
        );
        // a in x, b in y: the reduce behind the union falls back to `default`.
        let g = groups(&text.replace("{B}", "y"));
        assert_eq!((group(&g, "n"), group(&g, "out")), ("default", "default"));
        // Both in x: the union and the key_by pass x through.
        let g = groups(&text.replace("{B}", "x"));
        assert_eq!((group(&g, "n"), group(&g, "out")), ("x", "x"));
    }
}
