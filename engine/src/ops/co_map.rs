//! `co_map`: two streams into one (Flink's `ConnectedStreams.map(CoMapFunction)`). Records of
//! the first input go through `map1`, of the second through `map2`; both give the same fields.
//! As a two-input operator its watermark is the minimum of its inputs' watermarks.

use super::batch::{Batch, View};
use super::map::MapOp;
use super::state::OperatorState;
use crate::expr::eval::EvalCx;

/// A compiled co_map.
#[derive(Debug, Clone)]
pub struct CoMapOp {
    /// For the first input.
    pub map1: MapOp,
    /// For the second input.
    pub map2: MapOp,
}

impl CoMapOp {
    /// Maps a batch that came from input `input` (0 or 1).
    pub fn process(&mut self, input: usize, view: View<'_>, out: &mut Batch, ev: &mut EvalCx<'_>) {
        if input == 0 {
            self.map1.process(view, out, ev)
        } else {
            self.map2.process(view, out, ev)
        }
    }
}

/// Stateless.
impl OperatorState for CoMapOp {}
