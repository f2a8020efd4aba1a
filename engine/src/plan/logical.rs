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
        for (i, n) in s.nodes.iter().enumerate() {
            if n.is_virtual() {
                continue;
            }
            let parallelism = n
                .parallelism
                .as_ref()
                .map_or(s.job.parallelism, |p| p.value);
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
            index[i] = Some(graph.add_node(LogicalNode {
                scenario_node: i,
                name: n.name.clone(),
                parallelism,
                max_parallelism,
                chaining: n.chaining,
                slot_sharing_group: n.slot_sharing_group.clone(),
            }));
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
    use crate::scenario::parse_str;
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
}
