//! "Which operator is the bottleneck?", answered the way Flink's documentation locates
//! backpressure ("Monitoring Back Pressure"): every subtask's time splits into busy,
//! backpressured and idle (`busyTimeMsPerSecond`, `backPressuredTimeMsPerSecond`,
//! `idleTimeMsPerSecond`); a subtask is backpressured when its output waits for buffers; the
//! cause is the first subtask *downstream* of backpressured ones that is busy and not
//! backpressured itself. Downstream follows the plan's edges between chains.

use super::{Answer, ExplainError};
use crate::plan::Plan;
use crate::report::{RunReport, TaskReport};
use crate::scenario::Scenario;
use serde_json::json;

/// Flink's web UI shows a subtask as backpressured (LOW, then HIGH) above 10% of its time.
pub const BACKPRESSURED: f64 = 0.10;

/// The sentence of Flink's rule.
pub const RULE: &str = "a subtask is backpressured when its output waits for network buffers; the source of backpressure is the first subtask downstream of backpressured ones that is busy and not backpressured itself";

/// Busy / backpressured / idle of one subtask as shares of its time. Busy includes the time
/// the subtask waited for a core of its TaskManager: its thread was runnable, not waiting for
/// input or buffers, which Flink also counts as busy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratios {
    /// Processing records, or waiting for a core to do so.
    pub busy: f64,
    /// Of which waiting for a core.
    pub cpu_wait: f64,
    /// Output waiting for buffers.
    pub backpressured: f64,
    /// Waiting for input.
    pub idle: f64,
}

/// The ratios of a subtask.
pub fn ratios(t: &TaskReport) -> Ratios {
    let total = t.busy_ms + t.cpu_wait_ms + t.backpressured_ms + t.idle_ms;
    let r = |x: f64| if total > 0.0 { x / total } else { 0.0 };
    Ratios {
        busy: r(t.busy_ms + t.cpu_wait_ms),
        cpu_wait: r(t.cpu_wait_ms),
        backpressured: r(t.backpressured_ms),
        idle: r(t.idle_ms),
    }
}

/// The subtask that causes backpressure: among the subtasks that are not backpressured and
/// read from a chain with a backpressured subtask, the busiest. `tasks` are the running job's
/// subtasks; `feeds(a, b)`: chain `a` sends to chain `b`. `None` when nothing is
/// backpressured.
pub fn locate(tasks: &[TaskReport], feeds: impl Fn(&str, &str) -> bool) -> Option<usize> {
    let bp: Vec<&str> = tasks
        .iter()
        .filter(|t| ratios(t).backpressured > BACKPRESSURED)
        .map(|t| t.chain.as_str())
        .collect();
    tasks
        .iter()
        .enumerate()
        .filter(|(_, t)| ratios(t).backpressured <= BACKPRESSURED)
        .filter(|(_, t)| bp.iter().any(|up| feeds(up, &t.chain)))
        .max_by(|a, b| ratios(a.1).busy.total_cmp(&ratios(b.1).busy))
        .map(|(i, _)| i)
}

fn name(t: &TaskReport) -> String {
    format!("{} #{}", t.chain, t.subtask)
}

fn split_text(t: &TaskReport) -> String {
    let r = ratios(t);
    format!(
        "{}: busy {:.0}% (waiting for a core {:.0}%), backpressured {:.0}%, idle {:.0}%",
        name(t),
        r.busy * 100.0,
        r.cpu_wait * 100.0,
        r.backpressured * 100.0,
        r.idle * 100.0
    )
}

/// Names the subtask that limits the job, and why.
pub fn answer(s: &Scenario, p: &Plan, seed: Option<u64>) -> Result<Answer, ExplainError> {
    let (report, _) = super::rerun(s, p, seed, super::recorder::Recording::new(None))?;
    Ok(from_report(p, &report))
}

/// The answer from a run's report.
pub fn from_report(p: &Plan, report: &RunReport) -> Answer {
    let tasks: Vec<TaskReport> = report
        .tasks
        .iter()
        .filter(|t| !t.before_rescale)
        .cloned()
        .collect();
    let plan = running_plan(p, &tasks);
    let ex = &plan.execution;
    let vertex = |name: &str| ex.vertices.iter().position(|v| v.name == name);
    let feeds = |a: &str, b: &str| match (vertex(a), vertex(b)) {
        (Some(a), Some(b)) => ex
            .edges
            .iter()
            .any(|e| e.from_vertex == a && e.to_vertex == b),
        _ => false,
    };
    let found = locate(&tasks, feeds);
    let backpressured: Vec<&TaskReport> = tasks
        .iter()
        .filter(|t| ratios(t).backpressured > BACKPRESSURED)
        .collect();
    let mut evidence: Vec<String> = Vec::new();
    let shown: Vec<&TaskReport> = backpressured
        .iter()
        .copied()
        .chain(found.map(|i| &tasks[i]))
        .collect();
    for t in shown.iter().take(12) {
        evidence.push(split_text(t));
    }
    if shown.len() > 12 {
        evidence.push(format!(
            "… and {} more subtasks like these",
            shown.len() - 12
        ));
    }
    let (headline, change) = match found {
        None => no_backpressure(&tasks, &mut evidence),
        Some(i) => {
            let (headline, change) = bottleneck(
                plan,
                report,
                &tasks,
                &tasks[i],
                &backpressured,
                &mut evidence,
            );
            (headline, Some(change))
        }
    };
    let data = json!({
        "bottleneck": found.map(|i| json!({
            "chain": tasks[i].chain,
            "subtask": tasks[i].subtask,
            "task_manager": tasks[i].task_manager,
        })),
        "tasks": tasks.iter().map(|t| {
            let r = ratios(t);
            json!({
                "chain": t.chain, "subtask": t.subtask, "task_manager": t.task_manager,
                "busy": r.busy, "cpu_wait": r.cpu_wait,
                "backpressured": r.backpressured, "idle": r.idle,
            })
        }).collect::<Vec<_>>(),
    });
    Answer {
        question: "Which subtask is the bottleneck?".into(),
        headline,
        rules: vec![RULE.to_string()],
        evidence,
        change,
        data,
    }
}

/// The plan the reported subtasks ran: after a rescale, the rescaled plan (the report's
/// running subtasks no longer match the original parallelism).
fn running_plan<'a>(p: &'a Plan, tasks: &[TaskReport]) -> &'a Plan {
    match &p.rescaled {
        Some(r)
            if tasks.len()
                != p.execution
                    .vertices
                    .iter()
                    .map(|v| v.parallelism as usize)
                    .sum::<usize>() =>
        {
            &r.plan
        }
        _ => p,
    }
}

/// Nothing is backpressured: the headline names the busiest subtask when it is busy nearly
/// all the time (its own work limits the throughput), else the job keeps up. Adds the
/// busiest subtask's time split to `evidence`; returns the headline and what to change.
fn no_backpressure(tasks: &[TaskReport], evidence: &mut Vec<String>) -> (String, Option<String>) {
    let busiest = tasks
        .iter()
        .max_by(|a, b| ratios(a).busy.total_cmp(&ratios(b).busy));
    if let Some(b) = busiest {
        evidence.push(format!("the busiest subtask: {}", split_text(b)));
    }
    match busiest.filter(|b| ratios(b).busy > 0.9) {
        Some(b) => (
            format!(
                "No subtask is backpressured (none above 10% of its time), but {} is busy {:.0}% of the time: nothing downstream makes it wait, so its own work limits the throughput (a source without a `rate` produces as fast as its CPU allows).",
                name(b),
                ratios(b).busy * 100.0
            ),
            Some(format!("raise the parallelism of `{}`, or make its operators cheaper per record", b.chain)),
        ),
        None => (
            "No subtask is backpressured (none above 10% of its time) and none is busy all the time: the job keeps up, and its sources' pace limits it.".to_string(),
            None,
        ),
    }
}

/// Subtask `t` is the source of backpressure for the `backpressured` ones upstream: why
/// (waiting for a core its TaskManager's other subtasks hold, or its operators' cost per
/// record at its chain's parallelism, added to `evidence`). Returns the headline and what
/// to change.
fn bottleneck(
    plan: &Plan,
    report: &RunReport,
    tasks: &[TaskReport],
    t: &TaskReport,
    backpressured: &[&TaskReport],
    evidence: &mut Vec<String>,
) -> (String, String) {
    let ex = &plan.execution;
    let r = ratios(t);
    let v = ex
        .vertices
        .iter()
        .position(|v| v.name == t.chain)
        .map(|v| &ex.vertices[v]);
    let parallelism = v.map_or(1, |v| v.parallelism);
    let head = v
        .and_then(|v| v.ops.first())
        .map(|&n| plan.logical.graph[n].name.clone())
        .unwrap_or_default();
    let records = report
        .operators
        .iter()
        .find(|o| o.name == head)
        .map_or(0, |o| o.records_in);
    let busy_ms: f64 = tasks
        .iter()
        .filter(|x| x.chain == t.chain)
        .map(|x| x.busy_ms)
        .sum();
    if records > 0 {
        evidence.push(format!(
            "{} spends {:.2} µs of CPU per record ({} records over {} subtask(s))",
            t.chain,
            busy_ms * 1000.0 / records as f64,
            records,
            parallelism
        ));
    }
    let sharing = r.cpu_wait > 0.25 * r.busy;
    let why = if sharing {
        format!(
            "a large part of its busy time ({:.0}%) is waiting for a core its TaskManager's other subtasks hold",
            r.cpu_wait * 100.0
        )
    } else {
        format!(
            "it spends its time processing records: its operators' cost at parallelism {parallelism}"
        )
    };
    let ups: Vec<String> = backpressured.iter().take(3).map(|u| name(u)).collect();
    let change = if sharing {
        "give its TaskManager more cores (`cores_per_task_manager`), or spread the subtasks over more TaskManagers".to_string()
    } else {
        format!(
            "raise the parallelism of `{head}` (now {parallelism}) or make it cheaper per record; its upstream then stops waiting for buffers"
        )
    };
    (
        format!(
            "The bottleneck is {}: busy {:.0}% of the time and not backpressured, while {} upstream {} backpressured; {why}.",
            name(t),
            r.busy * 100.0,
            ups.join(", "),
            if ups.len() == 1 { "is" } else { "are" }
        ),
        change,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(chain: &str, busy: f64, bp: f64, idle: f64) -> TaskReport {
        TaskReport {
            chain: chain.into(),
            busy_ms: busy,
            backpressured_ms: bp,
            idle_ms: idle,
            ..Default::default()
        }
    }

    #[test]
    fn the_cause_is_the_busy_subtask_downstream_of_backpressured_ones() {
        // src → map → sink: the source and the map wait for buffers, the sink works.
        let tasks = [
            task("src", 10.0, 80.0, 10.0),
            task("map", 20.0, 70.0, 10.0),
            task("sink", 95.0, 0.0, 5.0),
            task("other", 99.0, 0.0, 1.0), // busy, but nothing upstream of it waits
        ];
        let feeds = |a: &str, b: &str| matches!((a, b), ("src", "map") | ("map", "sink"));
        assert_eq!(locate(&tasks, feeds), Some(2));
    }

    #[test]
    fn without_backpressure_there_is_no_bottleneck() {
        let tasks = [task("src", 10.0, 5.0, 85.0), task("sink", 90.0, 0.0, 10.0)];
        assert_eq!(locate(&tasks, |_, _| true), None);
    }
}
