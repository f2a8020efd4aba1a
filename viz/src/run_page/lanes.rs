//! The lanes of the space-time diagram: one per subtask of the run report's `tasks` list,
//! with where it ran (TaskManager, slot from the plan) and which job it belongs to (a rescale
//! runs the job again from a savepoint; the old job's subtasks come first).

use super::timeline::{TaskTimeline, Timeline};
use crate::RunReport;
use streamlab_engine::report::PlanView;

/// One lane: a subtask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lane {
    /// The subtask's name as report and trace write it: `chain #i`.
    pub name: String,
    /// Its chain.
    pub chain: String,
    /// Its subtask index.
    pub subtask: u32,
    /// Its TaskManager.
    pub task_manager: u32,
    /// Its slot in the TaskManager, when the plan places it.
    pub slot: Option<u32>,
    /// The job it ran in: 0, or the resubmission after a rescale.
    pub epoch: u32,
    /// Its index in the report's `tasks`.
    pub task_index: usize,
}

impl Lane {
    /// Where it ran, e.g. `TM 1 · slot 0`.
    pub fn place(&self) -> String {
        match self.slot {
            Some(s) => format!("TM {} · slot {s}", self.task_manager),
            None => format!("TM {}", self.task_manager),
        }
    }

    /// Its part of the timeline, if the trace mentions it.
    pub fn timeline<'a>(&self, tl: &'a Timeline) -> Option<&'a TaskTimeline> {
        tl.task_of(self.epoch, &self.name)
    }
}

/// The lanes, in the report's order with the subtasks of a job stopped by a rescale first.
pub fn lanes(report: &RunReport, plan: &PlanView, tl: &Timeline) -> Vec<Lane> {
    let mut tasks: Vec<_> = report.tasks.iter().enumerate().collect();
    tasks.sort_by_key(|(_, t)| !t.before_rescale);
    let last_epoch = tl.epoch;
    tasks
        .into_iter()
        .map(|(task_index, t)| {
            let epoch = if t.before_rescale { 0 } else { last_epoch };
            Lane {
                name: format!("{} #{}", t.chain, t.subtask),
                chain: t.chain.clone(),
                subtask: t.subtask,
                task_manager: t.task_manager,
                slot: if epoch == 0 {
                    slot_of(plan, &t.chain, t.subtask)
                } else {
                    None
                },
                epoch,
                task_index,
            }
        })
        .collect()
}

/// The slot the plan placed subtask `subtask` of chain `chain` in.
fn slot_of(plan: &PlanView, chain: &str, subtask: u32) -> Option<u32> {
    let ci = plan.chains.iter().position(|c| c.name == chain)?;
    plan.slots
        .iter()
        .find(|s| {
            s.subtasks
                .iter()
                .any(|st| st.chain == ci && st.subtask == subtask)
        })
        .map(|s| s.slot)
}

/// The window operator of a chain (its name as the report and `explain --window` name it).
pub fn window_operator(report: &RunReport, chain: &str) -> Option<String> {
    let ops: Vec<&str> = chain.split(" -> ").collect();
    report
        .operators
        .iter()
        .filter(|o| o.windows.is_some())
        .find(|o| {
            ops.iter()
                .any(|c| *c == o.name || c.ends_with(&format!(": {}", o.name)))
        })
        .map(|o| o.name.clone())
}

/// A word for a shell command: as it is when it is plain, else in single quotes.
pub fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:/#=".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The lanes a failure's cause names: every subtask on a lost TaskManager
/// (`TaskManager N lost`), or the killed subtask (`subtask OP#i killed`). Empty when the
/// cause names neither.
pub fn lanes_hit(lanes: &[Lane], cause: &str) -> Vec<usize> {
    if let Some(rest) = cause.strip_prefix("TaskManager ")
        && let Some(n) = rest
            .split_whitespace()
            .next()
            .and_then(|x| x.parse::<u32>().ok())
    {
        return (0..lanes.len())
            .filter(|&i| lanes[i].task_manager == n)
            .collect();
    }
    if let Some(rest) = cause.strip_prefix("subtask ")
        && let Some((op, tail)) = rest.rsplit_once('#')
        && let Some(i) = tail
            .split_whitespace()
            .next()
            .and_then(|x| x.parse::<u32>().ok())
    {
        return (0..lanes.len())
            .filter(|&k| {
                lanes[k].subtask == i
                    && lanes[k]
                        .chain
                        .split(" -> ")
                        .any(|o| o == op || o.ends_with(&format!(": {op}")))
            })
            .collect();
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lane(chain: &str, subtask: u32, tm: u32) -> Lane {
        Lane {
            name: format!("{chain} #{subtask}"),
            chain: chain.into(),
            subtask,
            task_manager: tm,
            slot: None,
            epoch: 0,
            task_index: 0,
        }
    }

    #[test]
    fn a_failure_hits_the_lanes_its_cause_names() {
        let l = vec![
            lane("Source: a", 0, 0),
            lane("Source: a", 1, 1),
            lane("counts -> Sink: out", 0, 0),
            lane("counts -> Sink: out", 1, 1),
        ];
        assert_eq!(lanes_hit(&l, "TaskManager 1 lost"), [1, 3]);
        assert_eq!(lanes_hit(&l, "subtask counts#1 killed"), [3]);
        assert_eq!(lanes_hit(&l, "subtask a#0 killed"), [0]);
        assert!(lanes_hit(&l, "network partition").is_empty());
        assert_eq!(l[0].place(), "TM 0");
        assert_eq!(shell_word("sensor-96"), "sensor-96");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }
}
