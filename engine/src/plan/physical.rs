//! The execution graph: chains become job vertices, job vertices become subtasks, and every
//! edge between chains becomes channels between subtasks.
//!
//! All-to-all edges (REBALANCE, HASH, BROADCAST, SHUFFLE, GLOBAL) connect every upstream
//! subtask to every downstream subtask. Pointwise edges (FORWARD, RESCALE) connect each
//! upstream subtask to a contiguous range of downstream subtasks, with the index arithmetic
//! of Flink's `VertexInputInfoComputationUtils.computeVertexInputInfoForPointwise`.

use super::chaining::Chaining;
use super::logical::LogicalGraph;
use crate::flink::keygroup::key_group_range;
use crate::scenario::{NodeKind, Partitioner, Scenario};
use petgraph::graph::{EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use std::ops::Range;

/// A chain, run as one task per subtask (Flink's `JobVertex`).
#[derive(Debug, Clone)]
pub struct JobVertex {
    /// Flink's chain name: operator names joined by " -> ", sources prefixed "Source: ".
    pub name: String,
    /// The chained operators, head first, in topological order.
    pub ops: Vec<NodeIndex>,
    /// Parallelism of every operator in the chain.
    pub parallelism: u32,
    /// Max parallelism of the chain's keyed operator (or of its head).
    pub max_parallelism: u32,
    /// Slot-sharing group.
    pub slot_sharing_group: String,
    /// Whether the chain's head reads a HASH edge (its state is partitioned by key groups).
    pub keyed: bool,
}

/// An edge between two chains (Flink's `JobEdge` plus the result partition behind it).
#[derive(Debug, Clone)]
pub struct JobEdge {
    /// The logical edge it realises.
    pub logical: EdgeIndex,
    /// Producing chain.
    pub from_vertex: usize,
    /// Consuming chain.
    pub to_vertex: usize,
    /// Producing operator (somewhere in the producing chain).
    pub from_op: NodeIndex,
    /// Consuming operator (the head of the consuming chain).
    pub to_op: NodeIndex,
    /// Partitioner.
    pub partitioner: Partitioner,
}

/// The execution graph.
#[derive(Debug, Clone)]
pub struct ExecutionGraph {
    /// Chains.
    pub vertices: Vec<JobVertex>,
    /// Edges between chains.
    pub edges: Vec<JobEdge>,
}

impl ExecutionGraph {
    /// Builds the execution graph from the chaining result.
    pub fn build(s: &Scenario, g: &LogicalGraph, c: &Chaining) -> ExecutionGraph {
        let graph = &g.graph;
        let mut vertices = Vec::with_capacity(c.chains.len());
        for ops in &c.chains {
            let head = &graph[ops[0]];
            let names: Vec<String> = ops
                .iter()
                .map(|&o| {
                    let n = &graph[o];
                    match s.nodes[n.scenario_node].kind {
                        NodeKind::Source(_) => format!("Source: {}", n.name),
                        NodeKind::Sink(..) => format!("Sink: {}", n.name),
                        _ => n.name.clone(),
                    }
                })
                .collect();
            let keyed = graph
                .edges_directed(ops[0], petgraph::Direction::Incoming)
                .any(|e| e.weight().partitioner == Partitioner::Hash);
            vertices.push(JobVertex {
                name: names.join(" -> "),
                ops: ops.clone(),
                parallelism: head.parallelism,
                max_parallelism: head.max_parallelism,
                slot_sharing_group: head.slot_sharing_group.clone(),
                keyed,
            });
        }
        let mut edges = Vec::new();
        for e in graph.edge_references() {
            if c.breaks[e.id().index()].is_empty() {
                continue;
            }
            edges.push(JobEdge {
                logical: e.id(),
                from_vertex: c.chain_of[e.source().index()],
                to_vertex: c.chain_of[e.target().index()],
                from_op: e.source(),
                to_op: e.target(),
                partitioner: e.weight().partitioner,
            });
        }
        ExecutionGraph { vertices, edges }
    }

    /// Key-group range of a subtask of a keyed chain.
    pub fn key_groups(&self, vertex: usize, subtask: u32) -> Option<(u32, u32)> {
        let v = &self.vertices[vertex];
        v.keyed
            .then(|| key_group_range(v.max_parallelism, v.parallelism, subtask))
    }

    /// The downstream subtasks that upstream subtask `i` sends to over a job edge.
    pub fn targets(&self, edge: usize, i: u32) -> Range<u32> {
        let e = &self.edges[edge];
        let p = self.vertices[e.from_vertex].parallelism;
        let q = self.vertices[e.to_vertex].parallelism;
        if e.partitioner.is_pointwise() {
            pointwise_targets(p, q, i)
        } else {
            0..q
        }
    }
}

/// Downstream subtasks fed by upstream subtask `i` on a pointwise edge from `p` to `q`
/// subtasks (Flink's `computeVertexInputInfoForPointwise`).
pub fn pointwise_targets(p: u32, q: u32, i: u32) -> Range<u32> {
    if p >= q {
        // Each downstream subtask j consumes upstream [j·p/q, (j+1)·p/q).
        let j = (0..q)
            .find(|&j| j * p / q <= i && i < (j + 1) * p / q)
            .unwrap_or(q - 1);
        j..j + 1
    } else {
        let start = (i * q).div_ceil(p);
        let end = ((i + 1) * q).div_ceil(p);
        start..end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointwise_one_to_one() {
        assert_eq!(pointwise_targets(3, 3, 2), 2..3);
    }

    #[test]
    fn pointwise_fan_in_groups_contiguous_upstreams() {
        // 4 → 2: subtasks 0,1 feed 0; 2,3 feed 1.
        let t: Vec<_> = (0..4).map(|i| pointwise_targets(4, 2, i)).collect();
        assert_eq!(t, vec![0..1, 0..1, 1..2, 1..2]);
        // 3 → 2: [0, 1) → 0, [1, 3) → 1.
        let t: Vec<_> = (0..3).map(|i| pointwise_targets(3, 2, i)).collect();
        assert_eq!(t, vec![0..1, 1..2, 1..2]);
    }

    #[test]
    fn pointwise_fan_out_covers_every_downstream_once() {
        for (p, q) in [(1u32, 4u32), (2, 4), (2, 3), (3, 7)] {
            let mut seen = vec![0; q as usize];
            for i in 0..p {
                for j in pointwise_targets(p, q, i) {
                    seen[j as usize] += 1;
                }
            }
            assert!(seen.iter().all(|&n| n == 1), "p={p} q={q}: {seen:?}");
        }
        assert_eq!(pointwise_targets(2, 4, 1), 2..4);
    }
}
