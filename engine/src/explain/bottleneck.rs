//! Explains which subtask is the bottleneck. Not implemented yet.

use super::{Answer, ExplainError};
use crate::plan::Plan;
use crate::scenario::Scenario;

/// Names the subtask that limits the job, and why.
pub fn answer(_s: &Scenario, _p: &Plan, _seed: Option<u64>) -> Result<Answer, ExplainError> {
    Err(ExplainError::NotYet("--bottleneck"))
}
