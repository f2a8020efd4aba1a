//! What the operators hand to the report assembler ([`crate::report::assemble`]): a window or
//! join subtask's counts, and a sink's figures gathered over its subtasks. The streaming
//! simulator and the baseline modes both read their operator instances through these, so
//! every mode reports them the same way.

use crate::core::time::SimTime;
use crate::ops::Operator;
use crate::ops::sink::{Series as Arrivals, SinkOp, latency_histogram};
use crate::ops::state::OperatorState;
use crate::report::{Series, SinkInput, WindowCounts};
use crate::scenario::NodeDef;

/// The counts of a window or join operator subtask; `None` for other operators.
pub fn window_counts(op: &Operator) -> Option<WindowCounts> {
    op.window_report().map(|w| WindowCounts {
        fired: w.fired,
        late_firings: w.late_firings,
        late_dropped: w.late_dropped,
        late_side_output: w.late_side_output,
        in_state: w.windows_left_open,
    })
}

/// Sink `node` gathered over its subtasks `parts`; adds their arrivals to `arrivals` (the
/// run's records at the sinks over time).
pub fn sink_input<'a>(
    node: &'a NodeDef,
    parts: &[&'a SinkOp],
    arrivals: &mut Arrivals,
) -> SinkInput<'a> {
    let mut latency = latency_histogram();
    let mut records = 0;
    let mut checksum = 0u64;
    for sk in parts {
        sk.latency.add_to(&mut latency);
        records += sk.count;
        checksum = checksum.wrapping_add(sk.checksum);
        arrivals.merge(&sk.series);
    }
    let txns = || parts.iter().filter_map(|sk| sk.txn.as_ref());
    SinkInput {
        node,
        records,
        checksum,
        first: parts
            .iter()
            .filter_map(|sk| sk.first)
            .min()
            .unwrap_or(SimTime::ZERO),
        last: parts
            .iter()
            .map(|sk| sk.last)
            .max()
            .unwrap_or(SimTime::ZERO),
        latency,
        rows: parts.iter().map(|sk| sk.rows.as_slice()).collect(),
        uncommitted: txns().map(|t| t.pending() as u64).sum(),
        aborted: txns().map(|t| t.aborted_records).sum(),
        timed_out: txns().map(|t| t.timed_out_records()).sum(),
    }
}

/// The run's arrivals at the sinks as the report's series.
pub fn throughput(arrivals: Arrivals) -> Series {
    Series {
        bucket_ms: arrivals.bucket.as_millis(),
        sink_records: arrivals.counts,
    }
}
