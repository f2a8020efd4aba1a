//! Operator chaining with Flink's exact rules (`StreamingJobGraphGenerator.isChainable`).
//!
//! An edge chains iff all of these hold — and when it does not, every failed condition is
//! recorded as a [`ChainBreak`] so `streamlab plan` can say *why*:
//! 1. the downstream operator has exactly one input edge;
//! 2. chaining is enabled for the job (`pipeline.operator-chaining.enabled`);
//! 3. both operators are in the same slot-sharing group;
//! 4. the upstream operator's strategy is not NEVER (`disableChaining`), and the downstream's
//!    is ALWAYS (not HEAD — `startNewChain` or a source — and not NEVER);
//! 5. both have the same parallelism;
//! 6. the partitioner is FORWARD.
//!
//! Chained edges join operators into chains (Flink's JobVertices). Within a chain records are
//! handed over by direct calls: no serialization, no buffers.

use super::logical::LogicalGraph;
use crate::scenario::{ChainingStrategy, Partitioner};
use petgraph::Direction;
use petgraph::graph::{EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use serde::Serialize;
use std::fmt;

/// One reason an edge did not chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "condition", rename_all = "snake_case")]
pub enum ChainBreak {
    /// The downstream operator has several input edges.
    MultipleInputs {
        /// How many.
        inputs: usize,
    },
    /// The job disabled chaining.
    ChainingDisabled,
    /// The operators are in different slot-sharing groups.
    DifferentSlotSharingGroups {
        /// Upstream group.
        upstream: String,
        /// Downstream group.
        downstream: String,
    },
    /// The upstream operator disabled chaining.
    UpstreamNeverChains,
    /// The downstream operator disabled chaining.
    DownstreamNeverChains,
    /// The downstream operator starts a new chain (`startNewChain`, or it is a source).
    DownstreamStartsNewChain,
    /// The parallelism differs.
    DifferentParallelism {
        /// Upstream parallelism.
        upstream: u32,
        /// Downstream parallelism.
        downstream: u32,
    },
    /// The partitioner is not FORWARD.
    NotForward {
        /// The partitioner.
        partitioner: String,
    },
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainBreak::MultipleInputs { inputs } => {
                write!(
                    f,
                    "the downstream operator has {inputs} input edges (it must have exactly one)"
                )
            }
            ChainBreak::ChainingDisabled => write!(
                f,
                "chaining is disabled for the job ([job] chaining = false)"
            ),
            ChainBreak::DifferentSlotSharingGroups {
                upstream,
                downstream,
            } => {
                write!(
                    f,
                    "different slot-sharing groups (`{upstream}` vs `{downstream}`)"
                )
            }
            ChainBreak::UpstreamNeverChains => write!(
                f,
                "the upstream operator disables chaining (chaining = false)"
            ),
            ChainBreak::DownstreamNeverChains => write!(
                f,
                "the downstream operator disables chaining (chaining = false)"
            ),
            ChainBreak::DownstreamStartsNewChain => write!(
                f,
                "the downstream operator starts a new chain (start_new_chain = true)"
            ),
            ChainBreak::DifferentParallelism {
                upstream,
                downstream,
            } => {
                write!(f, "different parallelism ({upstream} → {downstream})")
            }
            ChainBreak::NotForward { partitioner } => {
                write!(f, "the partitioner is {partitioner}, not FORWARD")
            }
        }
    }
}

/// Every condition of `isChainable` that fails for an edge; empty means it chains.
pub fn chain_breaks(g: &LogicalGraph, e: EdgeIndex, job_chaining: bool) -> Vec<ChainBreak> {
    let graph = &g.graph;
    let (from, to) = graph.edge_endpoints(e).expect("edge exists");
    let (up, down, edge) = (&graph[from], &graph[to], &graph[e]);
    let mut out = Vec::new();
    let inputs = graph.edges_directed(to, Direction::Incoming).count();
    if inputs != 1 {
        out.push(ChainBreak::MultipleInputs { inputs });
    }
    if !job_chaining {
        out.push(ChainBreak::ChainingDisabled);
    }
    if up.slot_sharing_group != down.slot_sharing_group {
        out.push(ChainBreak::DifferentSlotSharingGroups {
            upstream: up.slot_sharing_group.clone(),
            downstream: down.slot_sharing_group.clone(),
        });
    }
    if up.chaining == ChainingStrategy::Never {
        out.push(ChainBreak::UpstreamNeverChains);
    }
    match down.chaining {
        ChainingStrategy::Always => {}
        ChainingStrategy::Never => out.push(ChainBreak::DownstreamNeverChains),
        ChainingStrategy::Head => out.push(ChainBreak::DownstreamStartsNewChain),
    }
    if up.parallelism != down.parallelism {
        out.push(ChainBreak::DifferentParallelism {
            upstream: up.parallelism,
            downstream: down.parallelism,
        });
    }
    if edge.partitioner != Partitioner::Forward {
        out.push(ChainBreak::NotForward {
            partitioner: edge.partitioner.flink_name().to_string(),
        });
    }
    out
}

/// The chains of a graph: each a head and its chained operators in topological order.
#[derive(Debug, Clone)]
pub struct Chaining {
    /// Chains in the order of their heads' topological position.
    pub chains: Vec<Vec<NodeIndex>>,
    /// For every node, the chain it belongs to.
    pub chain_of: Vec<usize>,
    /// For every edge, why it did not chain (empty: chained).
    pub breaks: Vec<Vec<ChainBreak>>,
}

/// Runs the chaining pass.
pub fn chain(g: &LogicalGraph, job_chaining: bool) -> Chaining {
    let graph = &g.graph;
    let breaks: Vec<Vec<ChainBreak>> = graph
        .edge_indices()
        .map(|e| chain_breaks(g, e, job_chaining))
        .collect();
    let order = petgraph::algo::toposort(graph, None).expect("the scenario was checked for cycles");
    let mut chain_of = vec![usize::MAX; graph.node_count()];
    let mut chains: Vec<Vec<NodeIndex>> = Vec::new();
    for n in order {
        // A node joins its predecessor's chain when its (single) input edge chains.
        let chained_pred = graph
            .edges_directed(n, Direction::Incoming)
            .find(|e| breaks[e.id().index()].is_empty())
            .map(|e| e.source());
        match chained_pred {
            Some(p) => {
                let c = chain_of[p.index()];
                chain_of[n.index()] = c;
                chains[c].push(n);
            }
            None => {
                chain_of[n.index()] = chains.len();
                chains.push(vec![n]);
            }
        }
    }
    Chaining {
        chains,
        chain_of,
        breaks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::logical::{LogicalEdge, LogicalNode};
    use petgraph::graph::DiGraph;

    fn node(name: &str, p: u32, chaining: ChainingStrategy, ssg: &str) -> LogicalNode {
        LogicalNode {
            scenario_node: 0,
            name: name.into(),
            parallelism: p,
            parallelism_level: crate::flink::parallelism::ParallelismLevel::Operator,
            max_parallelism: 128,
            chaining,
            slot_sharing_group: ssg.into(),
        }
    }

    fn edge(p: Partitioner) -> LogicalEdge {
        LogicalEdge {
            partitioner: p,
            key: None,
            via: vec![],
            explicit: false,
            input_index: 0,
            port: crate::plan::logical::Port::Main,
        }
    }

    fn pair(up: LogicalNode, down: LogicalNode, p: Partitioner) -> (LogicalGraph, EdgeIndex) {
        let mut g = DiGraph::new();
        let a = g.add_node(up);
        let b = g.add_node(down);
        let e = g.add_edge(a, b, edge(p));
        (LogicalGraph { graph: g }, e)
    }

    use ChainingStrategy::*;

    #[test]
    fn equal_parallelism_forward_same_group_chains() {
        let (g, e) = pair(
            node("a", 2, Head, "default"),
            node("b", 2, Always, "default"),
            Partitioner::Forward,
        );
        assert!(chain_breaks(&g, e, true).is_empty());
    }

    #[test]
    fn each_condition_breaks_the_chain_on_its_own() {
        let ok_up = || node("a", 2, Always, "default");
        let ok_down = || node("b", 2, Always, "default");
        let cases: Vec<(LogicalNode, LogicalNode, Partitioner, bool, ChainBreak)> = vec![
            (
                ok_up(),
                ok_down(),
                Partitioner::Forward,
                false,
                ChainBreak::ChainingDisabled,
            ),
            (
                ok_up(),
                node("b", 2, Always, "other"),
                Partitioner::Forward,
                true,
                ChainBreak::DifferentSlotSharingGroups {
                    upstream: "default".into(),
                    downstream: "other".into(),
                },
            ),
            (
                node("a", 2, Never, "default"),
                ok_down(),
                Partitioner::Forward,
                true,
                ChainBreak::UpstreamNeverChains,
            ),
            (
                ok_up(),
                node("b", 2, Never, "default"),
                Partitioner::Forward,
                true,
                ChainBreak::DownstreamNeverChains,
            ),
            (
                ok_up(),
                node("b", 2, Head, "default"),
                Partitioner::Forward,
                true,
                ChainBreak::DownstreamStartsNewChain,
            ),
            (
                ok_up(),
                node("b", 3, Always, "default"),
                Partitioner::Forward,
                true,
                ChainBreak::DifferentParallelism {
                    upstream: 2,
                    downstream: 3,
                },
            ),
            (
                ok_up(),
                ok_down(),
                Partitioner::Rebalance,
                true,
                ChainBreak::NotForward {
                    partitioner: "REBALANCE".into(),
                },
            ),
            (
                ok_up(),
                ok_down(),
                Partitioner::Hash,
                true,
                ChainBreak::NotForward {
                    partitioner: "HASH".into(),
                },
            ),
        ];
        for (up, down, p, job, want) in cases {
            let (g, e) = pair(up, down, p);
            assert_eq!(chain_breaks(&g, e, job), vec![want]);
        }
    }

    #[test]
    fn a_head_upstream_may_still_chain_to_its_successor() {
        // startNewChain() only cuts the edge *into* the operator.
        let (g, e) = pair(
            node("a", 1, Head, "default"),
            node("b", 1, Always, "default"),
            Partitioner::Forward,
        );
        assert!(chain_breaks(&g, e, true).is_empty());
    }

    #[test]
    fn two_inputs_never_chain_and_chains_follow_topology() {
        let mut g = DiGraph::new();
        let s1 = g.add_node(node("s1", 1, Head, "default"));
        let s2 = g.add_node(node("s2", 1, Head, "default"));
        let m = g.add_node(node("m", 1, Always, "default"));
        let k = g.add_node(node("k", 1, Always, "default"));
        g.add_edge(s1, m, edge(Partitioner::Forward));
        g.add_edge(s2, m, edge(Partitioner::Forward));
        g.add_edge(m, k, edge(Partitioner::Forward));
        let lg = LogicalGraph { graph: g };
        let c = chain(&lg, true);
        assert_eq!(c.breaks[0], vec![ChainBreak::MultipleInputs { inputs: 2 }]);
        assert!(c.breaks[2].is_empty());
        assert_eq!(c.chain_of[m.index()], c.chain_of[k.index()]);
        assert_ne!(c.chain_of[s1.index()], c.chain_of[m.index()]);
        assert_eq!(c.chains.len(), 3);
    }
}
