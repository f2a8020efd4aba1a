//! Planning: from a scenario to the graphs Flink would build.
//!
//! | step | Flink's name | module |
//! |---|---|---|
//! | operators and edges with partitioners | StreamGraph | [`logical`] |
//! | chaining, with the reason for every cut | JobGraph | [`chaining`] |
//! | subtasks, channels, key groups | ExecutionGraph | [`physical`], [`keygroup`] |
//! | slots and TaskManagers | scheduling | [`deploy`] |
//!
//! [`render`] prints the result for `streamlab plan` and as Graphviz.

pub mod chaining;
pub mod deploy;
pub mod keygroup;
pub mod logical;
pub mod physical;
pub mod render;

use crate::diag::Diagnostics;
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
}

/// Plans a scenario. Errors are worded like Flink's and point into the scenario file.
pub fn plan(s: &Scenario) -> Result<Plan, Diagnostics> {
    let logical = LogicalGraph::build(s)?;
    let chaining = chaining::chain(&logical, s.job.chaining);
    let execution = ExecutionGraph::build(s, &logical, &chaining);
    let deployment = deploy::deploy(s, &execution)?;
    Ok(Plan {
        logical,
        chaining,
        execution,
        deployment,
    })
}
