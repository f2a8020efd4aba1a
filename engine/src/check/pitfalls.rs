//! Jobs that are valid but do not do what their author likely meant: a stream nothing reads,
//! faults with no checkpoint to restore, exactly-once sinks that can never commit, or commit
//! only at the end, or not exactly once.

use super::checker::Checker;
use crate::scenario::{CheckpointMode, FaultTolerance, Guarantee, NodeDef, NodeKind, input_end};

/// Jobs that run but not as meant: a stream nothing reads, faults with nothing to
/// restore, exactly-once sinks that commit rarely or not exactly once.
pub fn pitfalls(ck: &mut Checker, nodes: &[NodeDef], ft: &FaultTolerance) {
    for (i, n) in nodes.iter().enumerate() {
        if matches!(n.kind, NodeKind::Sink(..)) {
            continue;
        }
        if !nodes.iter().any(|m| m.inputs.iter().any(|r| r.node == i)) {
            ck.warn(
                Some(n.span.start..n.span.start + 1),
                format!(
                    "no sink reads the output of `{}`: its results are computed and dropped",
                    n.name
                ),
                format!("add a [[sink]] with input = \"{}\", or remove it", n.name),
            );
        }
    }
    let Some(cp) = &ft.checkpointing else {
        if let Some(f) = ft.faults.first() {
            ck.warn(
                Some(f.span.clone()),
                "the job has faults but no checkpointing: nothing is restored after a failure — with a [restart] strategy the job starts again from the beginning of its input, with empty state; without one it fails (Flink restarts only checkpointed jobs by default)",
                "add a [checkpointing] table with an interval to see recovery from a checkpoint",
            );
        }
        return;
    };
    let end = input_end(nodes);
    for n in nodes {
        let NodeKind::Sink(_, Guarantee::ExactlyOnce(txn)) = n.kind else {
            continue;
        };
        let at = Some(n.span.start..n.span.start + 1);
        if let Some(t) = txn.timeout
            && cp.interval >= t
        {
            ck.warn(
                at.clone(),
                format!(
                    "sink `{}` commits at each checkpoint, every {}, but its transaction_timeout is {}: a transaction stays open about one interval, so the broker aborts it before its commit and its rows are lost, even without a failure",
                    n.name, cp.interval, t
                ),
                "Flink's Kafka connector: transaction.timeout.ms must exceed the checkpoint interval plus the longest downtime you expect to recover from",
            );
        }
        if cp.mode == CheckpointMode::AtLeastOnce {
            ck.warn(
                at.clone(),
                format!(
                    "sink `{}` is exactly-once, but checkpoints are at_least_once: without aligned barriers a restore replays records already in the committed output, so it gives duplicates",
                    n.name
                ),
                "use mode = \"exactly_once\" in [checkpointing], or make the sink at_least_once",
            );
        }
        if let Some(end) = end
            && crate::core::time::SimTime::at(cp.interval) > end
        {
            ck.warn(
                at,
                format!(
                    "sink `{}` is exactly-once and commits at each checkpoint, but the checkpoint interval ({}) is longer than the input ({}): no checkpoint completes while it runs, so everything is committed at the end",
                    n.name, cp.interval, end
                ),
                "make the checkpoint interval shorter than the job",
            );
        }
    }
}

/// A two-phase-commit sink commits when a checkpoint completes: without checkpoints its
/// output would never become visible.
pub fn exactly_once_sinks_need_checkpoints(
    ck: &mut Checker,
    nodes: &[NodeDef],
    ft: &FaultTolerance,
) {
    if ft.checkpointing.is_some() {
        return;
    }
    for n in nodes {
        if let NodeKind::Sink(_, Guarantee::ExactlyOnce(_)) = n.kind {
            ck.error(
                Some(n.span.clone()),
                format!(
                    "sink `{}` is exactly-once (two-phase commit), but checkpointing is off: it would never commit",
                    n.name
                ),
                "add a [checkpointing] table with an interval, or make the sink at_least_once",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check::testing;

    fn check(head: &str, rest: &str) -> String {
        let text = format!(
            "{head}\n[[source]]\nname = \"a\"\nkind = \"generator\"\nrate = 10\ncount = 10\nfields.k = {{ kind = \"sequence\" }}\n{rest}"
        );
        testing::findings(&text)
    }

    #[test]
    fn an_unread_stream_is_announced() {
        let w = check(
            "",
            "[[operator]]\nname = \"m\"\nkind = \"filter\"\ninput = \"a\"\nwhere = \"k > 1\"\n[[sink]]\nname = \"out\"\ninput = \"a\"\n",
        );
        assert!(w.contains("no sink reads the output of `m`"), "{w}");
    }

    #[test]
    fn exactly_once_sinks_need_checkpoints_that_complete() {
        let sink = "[[sink]]\nname = \"out\"\ninput = \"a\"\nguarantee = \"exactly_once\"\n";
        let e = check("", sink);
        assert!(
            e.contains("sink `out` is exactly-once (two-phase commit), but checkpointing is off"),
            "{e}"
        );
        let w = check("[checkpointing]\ninterval = \"5 s\"", sink);
        assert!(
            w.contains("the checkpoint interval (5 s) is longer than the input (1.000 s)"),
            "{w}"
        );
        let w = check(
            "[checkpointing]\ninterval = \"100 ms\"\nmode = \"at_least_once\"",
            sink,
        );
        assert!(w.contains("but checkpoints are at_least_once"), "{w}");
    }

    #[test]
    fn a_transaction_timeout_within_the_checkpoint_interval_loses_rows_without_a_failure() {
        let sink = |t: &str| {
            format!(
                "[[sink]]\nname = \"out\"\ninput = \"a\"\nguarantee = \"exactly_once\"\ntransaction_timeout = \"{t}\"\n"
            )
        };
        let cp = "[checkpointing]\ninterval = \"200 ms\"";
        let w = check(cp, &sink("200 ms"));
        assert!(
            w.contains("sink `out` commits at each checkpoint, every 200 ms, but its transaction_timeout is 200 ms"),
            "{w}"
        );
        assert!(!check(cp, &sink("1 s")).contains("transaction_timeout"));
    }

    #[test]
    fn faults_without_checkpoints_restore_nothing() {
        let w = check(
            "[[fault]]\nat = \"100 ms\"\nkind = \"job_manager\"",
            "[[sink]]\nname = \"out\"\ninput = \"a\"\n",
        );
        assert!(w.contains("the job has faults but no checkpointing"), "{w}");
    }
}
