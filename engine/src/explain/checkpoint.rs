//! Explains one checkpoint. Not implemented yet.

use super::{Answer, ExplainError};
use crate::plan::Plan;
use crate::scenario::Scenario;

/// Checkpoint `id`'s phases per subtask, and why it failed or expired.
pub fn answer(
    _s: &Scenario,
    _p: &Plan,
    _seed: Option<u64>,
    _id: u64,
) -> Result<Answer, ExplainError> {
    Err(ExplainError::NotYet("--checkpoint"))
}
