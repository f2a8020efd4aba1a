//! Scripted faults (`[[fault]]`): when they strike, what they aim at, and what faults on the
//! network and on machines do to tasks and channels while they last.
//!
//! A fault strikes at a time or when a checkpoint reaches a phase. Killing a subtask, a
//! TaskManager or the JobManager fails tasks (the kernel hands them to recovery). A
//! straggler slows its subtask down by a factor, a network delay adds latency to the
//! channels between two TaskManagers, a network partition holds their buffers until it
//! heals; these last their `duration` whatever happens to the job meanwhile, and tasks and
//! channels rebuilt by a restart get them again.

use super::channel::Channel;
use super::queue::{Event, EventQueue};
use super::task::Task;
use crate::core::time::SimTime;
use crate::scenario::{CheckpointPhase, Fault, FaultKind, FaultTime};

/// Schedules the faults that strike at a time.
pub fn schedule(faults: &[Fault], queue: &mut EventQueue) {
    for (i, f) in faults.iter().enumerate() {
        if let FaultTime::At(t) = f.at {
            queue.schedule(t, Event::Fault { index: i as u32 });
        }
    }
}

/// A checkpoint `id` reached `phase` at `now`: the faults tied to it that have not struck
/// yet strike then (as events at `now`).
pub fn at_phase(
    faults: &[Fault],
    struck: &[bool],
    phase: (CheckpointPhase, u64),
    now: SimTime,
    queue: &mut EventQueue,
) {
    for i in tied_to(faults, struck, phase) {
        queue.schedule(now, Event::Fault { index: i });
    }
}

/// The faults tied to `phase` of checkpoint `id` that have not struck yet.
pub fn tied_to(
    faults: &[Fault],
    struck: &[bool],
    (phase, id): (CheckpointPhase, u64),
) -> impl Iterator<Item = u32> {
    faults
        .iter()
        .enumerate()
        .filter(move |&(i, f)| f.at == FaultTime::After(phase, id) && !struck[i])
        .map(|(i, _)| i as u32)
}

/// Whether some fault is tied to a phase `wanted` says yes to (the kernel skips looking for
/// phases no fault waits for).
pub fn any_tied(faults: &[Fault], wanted: impl Fn(CheckpointPhase) -> bool) -> bool {
    faults
        .iter()
        .any(|f| matches!(f.at, FaultTime::After(p, _) if wanted(p)))
}

/// The subtask a "subtask X#n killed" description names (the description itself otherwise).
pub fn cause_target(cause: &str) -> &str {
    cause
        .strip_prefix("subtask ")
        .and_then(|c| c.strip_suffix(" killed"))
        .unwrap_or(cause)
}

/// The tasks that run scenario node `node` (subtask `subtask`, or all), given each logical
/// node's scenario node.
pub fn tasks_of_node(
    tasks: &[Task],
    scenario_node: &[usize],
    node: usize,
    subtask: Option<u32>,
) -> Vec<u32> {
    (0..tasks.len() as u32)
        .filter(|&t| {
            let task = &tasks[t as usize];
            task.chain.ops.iter().any(|o| scenario_node[o.node] == node)
                && subtask.is_none_or(|s| task.subtask == s)
        })
        .collect()
}

/// The tasks on TaskManager `tm`.
pub fn tasks_on(tasks: &[Task], tm: u32) -> Vec<u32> {
    (0..tasks.len() as u32)
        .filter(|&t| tasks[t as usize].tm == tm)
        .collect()
}

/// The channels between TaskManagers `a` and `b` (either way).
pub fn channels_between(tasks: &[Task], channels: &[Channel], (a, b): (u32, u32)) -> Vec<u32> {
    (0..channels.len() as u32)
        .filter(|&c| {
            let ch = &channels[c as usize];
            let x = tasks[ch.from_task as usize].tm;
            let y = tasks[ch.to_task as usize].tm;
            (x.min(y), x.max(y)) == (a, b)
        })
        .collect()
}

/// When a fault on the network or on a machine that begins at `now` ends (`None`: the
/// fault does not last).
pub fn lasting_end(fault: &Fault, now: SimTime) -> Option<SimTime> {
    match fault.kind {
        FaultKind::Straggler { duration, .. }
        | FaultKind::NetworkDelay { duration, .. }
        | FaultKind::NetworkPartition { duration, .. } => Some(now.plus(duration)),
        _ => None,
    }
}

/// The tasks and channels a lasting fault acts on.
pub struct Targets<'a> {
    /// The tasks.
    pub tasks: &'a mut [Task],
    /// The channels.
    pub channels: &'a mut [Channel],
    /// Logical node → scenario node.
    pub scenario_node: &'a [usize],
}

/// Applies a lasting fault, active until `end`, to the tasks and channels marked.
pub fn apply_lasting(
    fault: &Fault,
    end: SimTime,
    w: &mut Targets<'_>,
    (tasks, channels): (&[bool], &[bool]),
) {
    match fault.kind {
        FaultKind::Straggler {
            node,
            subtask,
            factor,
            ..
        } => {
            for t in tasks_of_node(w.tasks, w.scenario_node, node, Some(subtask)) {
                if tasks[t as usize] {
                    w.tasks[t as usize].slowdown = factor;
                }
            }
        }
        FaultKind::NetworkDelay { between, extra, .. } => {
            for c in channels_between(w.tasks, w.channels, between) {
                if channels[c as usize] {
                    let ch = &mut w.channels[c as usize];
                    ch.latency = ch.latency.plus(extra);
                }
            }
        }
        FaultKind::NetworkPartition { between, .. } => {
            for c in channels_between(w.tasks, w.channels, between) {
                if channels[c as usize] {
                    let ch = &mut w.channels[c as usize];
                    ch.held_until = ch.held_until.max(end);
                }
            }
        }
        _ => {}
    }
}

/// A lasting fault ends: the straggler runs at full speed, the delay is gone (a partition
/// has already healed: it held buffers only until its end).
pub fn end_lasting(fault: &Fault, w: &mut Targets<'_>) {
    match fault.kind {
        FaultKind::Straggler { node, subtask, .. } => {
            for t in tasks_of_node(w.tasks, w.scenario_node, node, Some(subtask)) {
                w.tasks[t as usize].slowdown = 1.0;
            }
        }
        FaultKind::NetworkDelay { between, extra, .. } => {
            for c in channels_between(w.tasks, w.channels, between) {
                let ch = &mut w.channels[c as usize];
                ch.latency = ch.latency.saturating_sub(extra);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_killed_subtask_is_named_by_its_description() {
        assert_eq!(cause_target("subtask count#1 killed"), "count#1");
        assert_eq!(cause_target("TaskManager 2 lost"), "TaskManager 2 lost");
    }
}
