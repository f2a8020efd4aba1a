//! Explains a record question. Not implemented yet.

use super::{Answer, ExplainError, Question};
use crate::plan::Plan;
use crate::scenario::Scenario;

/// Answers a [`Question`] about a record.
pub fn answer(
    _s: &Scenario,
    _p: &Plan,
    _seed: Option<u64>,
    _q: &Question,
) -> Result<Answer, ExplainError> {
    Err(ExplainError::NotYet("record questions"))
}
