//! How a chain talks to the network: its network outputs write through a [`NetworkOutput`]
//! (Flink's `RecordWriterOutput`, one per outgoing job edge), which the kernel implements
//! with its record writers, buffers and channels. The chain knows only writer indices and
//! the local times at which records and markers leave it.

use super::batch::View;
use super::element::{Marker, RecMeta};
use crate::core::time::SimTime;
use crate::core::value::Value;
use crate::expr::eval::EvalCx;

/// The network side of a task, as its chain sees it: writer `w` is the chain's
/// [`super::Out::Network`]`(w)`. Times are the task's local processing time at which the
/// record or marker is written (after its serialization).
///
/// Chains are generic over it (no dynamic dispatch on the hot path): the kernel's network
/// in a run, a recorder in tests.
pub trait NetworkOutput {
    /// Writes the records of `records` through writer `w`, record `i` at local time
    /// `times[i]` (records beyond `times` are not written).
    fn write_batch(&mut self, w: usize, records: View<'_>, times: &[SimTime], ev: &mut EvalCx<'_>);

    /// Writes one record through writer `w` at local time `t`.
    fn write_record(
        &mut self,
        w: usize,
        row: &[Value],
        meta: RecMeta,
        t: SimTime,
        ev: &mut EvalCx<'_>,
    );

    /// Writes a marker to every channel of writer `w` at local time `t`: Flink broadcasts
    /// watermarks, idleness and checkpoint barriers, in order with the records (an unaligned
    /// checkpoint's barrier overtakes them).
    fn broadcast_marker(&mut self, w: usize, m: Marker, t: SimTime);
}

/// What records need on their way through a chain.
pub struct Cx<'a, O> {
    /// Expression evaluation context (interner, scratch, error).
    pub ev: EvalCx<'a>,
    /// The task's network output.
    pub net: O,
}
