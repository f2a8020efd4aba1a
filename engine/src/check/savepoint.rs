//! `[[savepoint]]` and `[rescale]`: savepoints at a time, and a rescale through
//! stop-with-savepoint (the Flink semantics are in [`crate::scenario::savepoint`]). What
//! Flink could not restore is rejected here with Flink's messages, pointing at the file.

use super::checker::Checker;
use crate::core::time::SimTime;
use crate::flink::keygroup::UPPER_BOUND_MAX_PARALLELISM;
use crate::scenario::query::max_parallelism_of;
use crate::scenario::raw::{RawRescale, RawSavepoint};
use crate::scenario::savepoint::DEFAULT_DOWNTIME;
use crate::scenario::{JobConfig, NodeDef, RescaleSpec, SavepointSpec, Spanned, input_end};
use std::ops::Range;
use toml::Spanned as TSpanned;

/// Reads the `[[savepoint]]` tables (times before the input's end, when it is known).
pub fn savepoints(
    ck: &mut Checker,
    raw: &[TSpanned<RawSavepoint>],
    nodes: &[NodeDef],
) -> Vec<SavepointSpec> {
    let end = input_end(nodes);
    raw.iter()
        .filter_map(|r| {
            let at = SimTime::ZERO.plus(ck.duration(&r.get_ref().at, "savepoint.at")?);
            before_end(ck, at, end, r.get_ref().at.span(), "savepoint")?;
            Some(SavepointSpec { at, span: r.span() })
        })
        .collect()
}

fn before_end(
    ck: &mut Checker,
    at: SimTime,
    end: Option<SimTime>,
    span: Range<usize>,
    what: &str,
) -> Option<()> {
    if let Some(end) = end
        && at >= end
    {
        ck.error(
            Some(span),
            format!(
                "this {what} at {at} comes after the input ends (at {end}): the job will have finished"
            ),
            "Flink cannot take a savepoint of a finished job; pick a time while the sources still produce",
        );
        return None;
    }
    Some(())
}

/// Reads `[rescale]` and rejects what Flink could not restore.
pub fn rescale(
    ck: &mut Checker,
    raw: &TSpanned<RawRescale>,
    nodes: &[NodeDef],
    job: &JobConfig,
) -> Option<RescaleSpec> {
    let r = raw.get_ref();
    let at = SimTime::ZERO.plus(ck.duration(&r.at, "rescale.at")?);
    before_end(ck, at, input_end(nodes), r.at.span(), "rescale")?;
    let downtime = match &r.downtime {
        Some(d) => ck.duration(d, "rescale.downtime")?,
        None => DEFAULT_DOWNTIME,
    };
    let max_parallelism = match &r.max_parallelism {
        Some(m) => Some(Spanned {
            value: ck.count(
                m,
                "rescale.max_parallelism",
                i64::from(UPPER_BOUND_MAX_PARALLELISM),
            )?,
            span: m.span(),
        }),
        None => None,
    };
    let (parallelism, mut ok) = new_parallelism(ck, r, nodes);
    // Flink 2.3, restoring the savepoint (Checkpoints.loadAndValidateCheckpoint): an
    // explicitly set max parallelism must equal the savepoint's.
    if let Some(m) = &max_parallelism {
        if let Some(n) = nodes
            .iter()
            .find(|n| !n.is_virtual() && max_parallelism_of(job, n) != m.value)
        {
            let old = max_parallelism_of(job, n);
            ck.error(
                Some(m.span.clone()),
                format!(
                    "Failed to rollback to checkpoint/savepoint Checkpoint Metadata. Max parallelism mismatch between checkpoint/savepoint state and new program. Cannot map operator {} with max parallelism {old} to new program with max parallelism {}. This indicates that the program has been changed in a non-compatible way after the checkpoint/savepoint.",
                    n.name, m.value
                ),
                format!(
                    "the savepoint's key groups are fixed at {old}: remove max_parallelism here or set it to {old} (Flink names the operator by its id)"
                ),
            );
            ok = false;
        }
    } else {
        // No explicit max parallelism: the savepoint's is adopted, and the new parallelism
        // must fit in it (StateAssignmentOperation.checkParallelismPreconditions).
        for (node, p) in &parallelism {
            let old = max_parallelism_of(job, &nodes[*node]);
            if p.value > old {
                ck.error(
                    Some(p.span.clone()),
                    format!(
                        "The state for task {} can not be restored. The maximum parallelism ({old}) of the restored state is lower than the configured parallelism ({}). Please reduce the parallelism of the task to be lower or equal to the maximum parallelism.",
                        nodes[*node].name, p.value
                    ),
                    format!("the savepoint has {old} key groups; at most {old} subtasks can share them"),
                );
                ok = false;
            }
        }
    }
    ok.then_some(RescaleSpec {
        at,
        downtime,
        parallelism,
        max_parallelism,
        span: raw.span(),
    })
}

/// `rescale.parallelism`: the new parallelism per operator, by name; and whether every entry
/// was valid.
fn new_parallelism(
    ck: &mut Checker,
    r: &RawRescale,
    nodes: &[NodeDef],
) -> (Vec<(usize, Spanned<u32>)>, bool) {
    let mut parallelism = Vec::new();
    let mut ok = true;
    if let Some(map) = &r.parallelism {
        for (name, p) in map.get_ref() {
            let Some(node) = nodes
                .iter()
                .position(|n| n.name == *name && !n.is_virtual())
            else {
                let known: Vec<&str> = nodes
                    .iter()
                    .filter(|n| !n.is_virtual())
                    .map(|n| n.name.as_str())
                    .collect();
                ck.error(
                    Some(p.span()),
                    format!("unknown operator `{name}` in rescale.parallelism"),
                    format!("known operators: {}", known.join(", ")),
                );
                ok = false;
                continue;
            };
            let Some(v) = ck.count(
                p,
                "rescale.parallelism",
                i64::from(UPPER_BOUND_MAX_PARALLELISM),
            ) else {
                ok = false;
                continue;
            };
            parallelism.push((
                node,
                Spanned {
                    value: v,
                    span: p.span(),
                },
            ));
        }
    }
    (parallelism, ok)
}

#[cfg(test)]
mod tests {
    use crate::check::testing;

    const JOB: &str = "[job]\nparallelism = 2\n[[source]]\nname = \"a\"\nkind = \"generator\"\nrate = 100\nduration = \"10 s\"\nfields.k = { kind = \"key\", count = 5 }\n[[operator]]\nname = \"by\"\nkind = \"key_by\"\ninput = \"a\"\nkey = \"k\"\n[[operator]]\nname = \"n\"\nkind = \"reduce\"\ninput = \"by\"\nfunction = \"count\"\n[[sink]]\nname = \"out\"\ninput = \"n\"\n";

    fn errors(extra: &str) -> String {
        testing::errors(&format!("{extra}\n{JOB}"))
    }

    #[test]
    fn a_changed_max_parallelism_is_rejected_with_flinks_savepoint_message() {
        let e = errors("[rescale]\nat = \"2 s\"\nmax_parallelism = 256");
        assert!(
            e.contains("Max parallelism mismatch between checkpoint/savepoint state and new program. Cannot map operator a with max parallelism 128 to new program with max parallelism 256."),
            "{e}"
        );
        assert!(e.contains("t.toml:3:19"), "{e}");
        // the same max parallelism is fine
        assert_eq!(errors("[rescale]\nat = \"2 s\"\nmax_parallelism = 128"), "");
    }

    #[test]
    fn a_parallelism_above_the_adopted_max_parallelism_cannot_restore() {
        let e = errors("[rescale]\nat = \"2 s\"\nparallelism = { n = 129 }");
        assert!(
            e.contains("The maximum parallelism (128) of the restored state is lower than the configured parallelism (129)"),
            "{e}"
        );
        assert_eq!(
            errors("[rescale]\nat = \"2 s\"\nparallelism = { n = 128 }"),
            ""
        );
    }

    #[test]
    fn savepoints_and_rescales_must_come_before_the_input_ends() {
        assert!(errors("[[savepoint]]\nat = \"10 s\"").contains("comes after the input ends"));
        assert!(errors("[rescale]\nat = \"11 s\"").contains("comes after the input ends"));
        assert_eq!(errors("[[savepoint]]\nat = \"9 s\""), "");
    }
}
