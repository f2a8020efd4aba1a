//! Rescaling: the job resubmitted from a stop-with-savepoint with new parallelism.
//!
//! Flink's state redistribution (Flink 2.3, `StateAssignmentOperation`):
//! - **Keyed state** moves by key group. Each new subtask `i` of an operator with parallelism
//!   `p` and max parallelism `m` owns the key groups `[⌈i·m/p⌉, ⌊((i+1)·m−1)/p⌋]`
//!   (`KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex`) and receives the state
//!   of exactly those groups from every old subtask. Timers are keyed state: they move with
//!   their key.
//! - **Operator list state** (`getListState`, SPLIT_DISTRIBUTE) is concatenated over the old
//!   subtasks and dealt out in contiguous chunks: each new subtask gets `n / p` elements, the
//!   first `n % p` one more (`RoundRobinOperatorStateRepartitioner`). A FLIP-27 source keeps
//!   its splits — for Kafka one per partition, with the offset to read next — in such a list
//!   state (`SourceOperator`: `getListState(SPLITS_STATE_DESC)`), so the partitions of the
//!   replayable logs are dealt out that way; a reader that gets none ends at once (a
//!   bounded source) and one that gets several reads them interleaved.
//! - Sinks: their transactions were all committed by the stop, so nothing is restored;
//!   what they made visible stays visible (it left the job).
//!
//! The resubmitted job's checkpoint ids continue at the savepoint's id + 1, and the savepoint
//! is its first restore point for failover (`CheckpointCoordinator.restoreSavepoint`).

use super::checkpoint::{Completed, TaskSnapshot};
use super::source::SourceState;
use super::task::Task;
use crate::core::time::SimTime;
use crate::core::value::{Interner, Value};
use crate::flink::keygroup::{key_group_for_hash, key_group_range};
use crate::ops::Operator;
use crate::ops::state::OperatorState;
use crate::plan::Plan;
use crate::report::RescaledOperator;

/// Flink's `RoundRobinOperatorStateRepartitioner` for one list state: the elements of all
/// old subtasks, in order, dealt out in contiguous chunks to `p` new subtasks; the first
/// `n % p` get one element more.
pub fn distribute_list<T>(items: Vec<T>, p: u32) -> Vec<Vec<T>> {
    let p = p.max(1) as usize;
    let (base, extra) = (items.len() / p, items.len() % p);
    let mut it = items.into_iter();
    (0..p)
        .map(|i| it.by_ref().take(base + usize::from(i < extra)).collect())
        .collect()
}

/// The key group of a key (`KeyGroupRangeAssignment.assignToKeyGroup`).
pub fn key_group(key: Value, interner: &Interner, max_parallelism: u32) -> u32 {
    key_group_for_hash(key.java_hash_code(interner), max_parallelism)
}

/// The keyed state of new subtask `subtask` (of `p`, with `m` key groups): from every old
/// subtask's operator, the keys whose group lies in the new subtask's range. `fresh` is the
/// new, empty operator; non-keyed operators come back fresh.
pub fn keyed_share(
    fresh: Operator,
    old: &[&Operator],
    subtask: u32,
    p: u32,
    m: u32,
    interner: &Interner,
) -> Operator {
    let (lo, hi) = key_group_range(m, p, subtask);
    let keep = |k: Value| (lo..=hi).contains(&key_group(k, interner, m));
    let mut new = fresh;
    if new.is_keyed() {
        for o in old {
            let mut x = (*o).clone();
            x.retain_keys(&keep);
            new.absorb(x);
        }
    }
    new
}

/// A source reader restored with `splits` (none: it ends at once, emitting only its final
/// watermark); `fresh` gives the new subtask's watermark generator.
fn reader(fresh: &SourceState, splits: Vec<SourceState>) -> SourceState {
    let mut it = splits.into_iter();
    let Some(mut first) = it.next() else {
        let mut empty = fresh.clone();
        empty.total = Some(0);
        empty.until = None;
        empty.open_until = None;
        return empty;
    };
    first.more = it
        .map(|mut s| {
            s.stopped = false;
            s
        })
        .collect();
    first.stopped = false;
    first.paused = false;
    first.watermarks = fresh.watermarks.clone();
    first
}

/// The state of the stopped job (its tasks `old`, their snapshots in the `savepoint`; planned
/// as `p1`) redistributed to the new job's freshly built `tasks` (planned as `p2`): keyed
/// state by key group, source splits dealt out as list state, and what sinks of unchanged
/// parallelism made visible carried over at `now` (their old sinks are left empty). Returns
/// what moved where, per operator, for the report.
pub fn redistribute(
    old: &mut [Task],
    savepoint: &[Option<TaskSnapshot>],
    (p1, p2): (&Plan, &Plan),
    tasks: &mut [Task],
    interner: &Interner,
    now: SimTime,
) -> Vec<RescaledOperator> {
    let g2 = &p2.logical.graph;
    let g1 = &p1.logical.graph;
    // The savepoint's state per logical node, in old subtask order.
    let state_of = |ti: usize| -> &crate::ops::chain::Chain {
        savepoint
            .get(ti)
            .and_then(Option::as_ref)
            .map_or(&old[ti].chain, |s| &s.chain)
    };
    let n_nodes = g2.node_count();
    let mut old_ops: Vec<Vec<&Operator>> = vec![Vec::new(); n_nodes];
    let mut old_splits: Vec<Vec<SourceState>> = vec![Vec::new(); n_nodes];
    for (ti, t) in old.iter().enumerate() {
        for slot in &state_of(ti).ops {
            old_ops[slot.node].push(&slot.op);
        }
        let src = savepoint
            .get(ti)
            .and_then(Option::as_ref)
            .and_then(|s| s.source.clone())
            .or_else(|| t.source.clone());
        if let Some(src) = src {
            old_splits[t.chain.ops[0].node].extend(src.into_splits());
        }
    }
    let mut splits_of: Vec<Vec<Vec<SourceState>>> = (0..n_nodes)
        .map(|n| {
            let p = g2[petgraph::graph::NodeIndex::new(n)].parallelism;
            distribute_list(std::mem::take(&mut old_splits[n]), p)
        })
        .collect();
    let mut report_ops: Vec<RescaledOperator> = g2
        .node_indices()
        .map(|n| RescaledOperator {
            name: g2[n].name.clone(),
            old_parallelism: g1[n].parallelism,
            new_parallelism: g2[n].parallelism,
            max_parallelism: g2[n].max_parallelism,
            key_groups: Vec::new(),
            keys: Vec::new(),
            splits: Vec::new(),
        })
        .collect();
    // Tasks are built in vertex, then subtask order: subtasks come in index order.
    for task in tasks.iter_mut() {
        let sub = task.subtask;
        for slot in &mut task.chain.ops {
            let ln = &g2[petgraph::graph::NodeIndex::new(slot.node)];
            let (p, m) = (ln.parallelism, ln.max_parallelism);
            if slot.op.is_keyed() {
                let fresh = std::mem::replace(&mut slot.op, Operator::Source);
                slot.op = keyed_share(fresh, &old_ops[slot.node], sub, p, m, interner);
                let r = &mut report_ops[slot.node];
                r.key_groups.push(key_group_range(m, p, sub));
                r.keys.push(slot.op.keys());
            }
        }
        if let Some(src) = task.source.as_mut() {
            let node = task.chain.ops[0].node;
            let mine = std::mem::take(&mut splits_of[node][sub as usize]);
            report_ops[node]
                .splits
                .push(mine.iter().map(|s| s.subtask).collect());
            *src = reader(src, mine);
        }
    }
    // Sinks of unchanged parallelism carry what they made visible (leaving an empty sink
    // behind, so nothing is reported twice); the others keep it in the retired tasks.
    for task in tasks.iter_mut() {
        let sub = task.subtask;
        for slot in &mut task.chain.ops {
            let Operator::Sink(new) = &mut slot.op else {
                continue;
            };
            let n = petgraph::graph::NodeIndex::new(slot.node);
            if g1[n].parallelism != g2[n].parallelism {
                continue;
            }
            for t in old.iter_mut().filter(|t| t.subtask == sub) {
                for os in t.chain.ops.iter_mut().filter(|s| s.node == slot.node) {
                    let empty = Operator::Sink(new.clone());
                    if let Operator::Sink(live) = std::mem::replace(&mut os.op, empty) {
                        new.carry_visible(live, None, now);
                    }
                }
            }
        }
    }
    report_ops
}

/// The new job's first restore point: savepoint `id` as its tasks hold it after the
/// redistribution (savepoints are aligned: no in-flight data).
pub fn first_restore_point(tasks: &mut [Task], id: u64) -> Completed {
    Completed {
        id,
        snapshots: tasks
            .iter_mut()
            .map(|t| {
                Some(TaskSnapshot {
                    chain: t.chain.snapshot_state(),
                    source: t.source.clone(),
                    bytes: 0,
                    channel_state: Default::default(),
                })
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_state_is_dealt_in_contiguous_chunks_with_the_rest_first() {
        assert_eq!(
            distribute_list(vec![0, 1, 2, 3], 2),
            vec![vec![0, 1], vec![2, 3]]
        );
        assert_eq!(
            distribute_list(vec![0, 1, 2, 3, 4], 3),
            vec![vec![0, 1], vec![2, 3], vec![4]]
        );
        // more subtasks than splits: the last readers get none
        assert_eq!(
            distribute_list(vec![0, 1], 4),
            vec![vec![0], vec![1], vec![], vec![]]
        );
        assert_eq!(distribute_list(vec![7], 1), vec![vec![7]]);
    }

    #[test]
    fn keyed_state_moves_by_key_group_and_nothing_is_lost() {
        use crate::core::value::{Schema, Type};
        use crate::expr::{Scope, compile};
        use crate::ops::reduce::{Aggregate, ReduceOp};
        let mut interner = Interner::new();
        let schema = Schema::new([("k", Type::Int), ("n", Type::Int)]);
        let key = compile("k", &Scope::Record(&schema), &mut interner).unwrap();
        let m = 128;
        // two old subtasks holding keys by Flink's assignment at p = 2
        let mut old = [
            ReduceOp::new(key.clone(), Aggregate::Count, 2),
            ReduceOp::new(key.clone(), Aggregate::Count, 2),
        ];
        for k in 0..100i64 {
            let kg = key_group(Value::Int(k), &interner, m);
            let s = crate::flink::keygroup::subtask_for_key_group(kg, 2, m) as usize;
            let r = &mut old[s];
            r.index.insert(Value::Int(k), r.keys() as u32);
            r.slab.extend([Value::Int(k), Value::Int(k * 10)]);
        }
        let old_ops: Vec<Operator> = old.into_iter().map(Operator::Reduce).collect();
        let refs: Vec<&Operator> = old_ops.iter().collect();
        let mut total = 0;
        for sub in 0..3 {
            let fresh = Operator::Reduce(ReduceOp::new(key.clone(), Aggregate::Count, 2));
            let Operator::Reduce(r) = keyed_share(fresh, &refs, sub, 3, m, &interner) else {
                unreachable!()
            };
            let (lo, hi) = key_group_range(m, 3, sub);
            for (k, slot) in &r.index {
                let kg = key_group(*k, &interner, m);
                assert!(
                    (lo..=hi).contains(&kg),
                    "key {k:?} in group {kg} on subtask {sub}"
                );
                // the value travelled with its key
                let row = &r.slab[*slot as usize * 2..*slot as usize * 2 + 2];
                assert_eq!(row[1], Value::Int(row[0].as_int() * 10));
            }
            total += r.keys();
        }
        assert_eq!(total, 100);
    }
}
