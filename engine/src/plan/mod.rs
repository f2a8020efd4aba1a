//! Planning: from a scenario to the graphs Flink would build.
//!
//! | step | Flink's name | module |
//! |---|---|---|
//! | operators and edges with partitioners | StreamGraph | [`logical`] |
//! | chaining, with the reason for every cut | JobGraph | [`chaining`] |
//! | subtasks, channels, key groups | ExecutionGraph | [`physical`], [`crate::flink::keygroup`] |
//! | slots and TaskManagers | scheduling | [`deploy`] |
//!
//! [`render`] prints the result for `streamlab plan` and as Graphviz.

pub mod chaining;
pub mod deploy;
pub mod logical;
pub mod physical;
pub mod render;

use crate::core::diag::Diagnostics;
use crate::scenario::Scenario;
use chaining::Chaining;
use deploy::Deployment;
use logical::LogicalGraph;
use physical::ExecutionGraph;

/// Everything planning produced for one scenario.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Flink's StreamGraph.
    pub logical: LogicalGraph,
    /// The chaining decision for every edge.
    pub chaining: Chaining,
    /// Chains, subtasks and channels.
    pub execution: ExecutionGraph,
    /// Slots and TaskManagers.
    pub deployment: Deployment,
    /// With `[rescale]`: the job as it is resubmitted from the savepoint.
    pub rescaled: Option<Box<Rescaled>>,
}

/// The job resubmitted after `[rescale]`: its scenario (new parallelism) and its plan.
#[derive(Debug, Clone)]
pub struct Rescaled {
    /// The scenario with the new parallelism and max parallelism.
    pub scenario: Scenario,
    /// Its plan.
    pub plan: Plan,
}

/// Plans a scenario. Errors are worded like Flink's and point into the scenario file.
///
/// With `[rescale]` the resubmitted job is planned too (its errors point at the
/// `[rescale]` entries): every operator keeps the max parallelism of the savepoint unless
/// the rescale sets one explicitly (Flink adopts the savepoint's value then).
pub fn plan(s: &Scenario) -> Result<Plan, Diagnostics> {
    let mut p = plan_one(s, None)?;
    if let Some(s2) = crate::scenario::query::rescaled(s) {
        let keep = s2.job.max_parallelism.is_none().then_some(&p.logical);
        let p2 = plan_one(&s2, keep)?;
        p.rescaled = Some(Box::new(Rescaled {
            scenario: s2,
            plan: p2,
        }));
    }
    Ok(p)
}

/// Plans one job; `adopt`: take each operator's max parallelism from this graph.
fn plan_one(s: &Scenario, adopt: Option<&LogicalGraph>) -> Result<Plan, Diagnostics> {
    let mut logical = LogicalGraph::build(s)?;
    if let Some(old) = adopt {
        for n in logical.graph.node_indices() {
            let sn = logical.graph[n].scenario_node;
            if let Some(o) = old
                .graph
                .node_indices()
                .find(|&o| old.graph[o].scenario_node == sn)
            {
                logical.graph[n].max_parallelism = old.graph[o].max_parallelism;
            }
        }
    }
    let chaining = chaining::chain(&logical, s.job.chaining);
    let execution = ExecutionGraph::build(s, &logical, &chaining);
    let deployment = deploy::deploy(s, &execution)?;
    Ok(Plan {
        logical,
        chaining,
        execution,
        deployment,
        rescaled: None,
    })
}
