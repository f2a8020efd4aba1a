//! The reports of `streamlab compare` and `streamlab sweep` (`report.json`, `sweep.json`):
//! one scenario under several execution modes, or under several values of one setting. The
//! CLI writes them and `streamlab-viz` draws them, both through these types.

use super::mode::ModeRun;
use super::{RunReport, Status};
use crate::plan::Plan;
use crate::scenario::Scenario;
use serde::{Deserialize, Serialize};

/// A comparison: the same scenario and seed under each execution mode asked for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompareReport {
    /// streamlab version that produced it.
    pub streamlab_version: String,
    /// Scenario name.
    pub scenario: String,
    /// The scenario's description.
    pub description: String,
    /// The seed every mode used.
    pub seed: u64,
    /// The modes, in the order asked for.
    pub modes: Vec<String>,
    /// Faults drawn by `--chaos` (`at <time>: <what>`), empty without chaos.
    pub chaos: Vec<String>,
    /// The plan, as the HTML page draws it.
    pub plan: PlanView,
    /// One run per mode, in the order of `modes`.
    pub runs: Vec<ModeRun>,
}

/// The plan as the HTML page draws it: chains, network edges, slots.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PlanView {
    /// TaskManagers of the cluster.
    pub task_managers: u32,
    /// Slots of each TaskManager.
    pub slots_per_task_manager: u32,
    /// The chains (execution vertices), in plan order.
    pub chains: Vec<PlanChain>,
    /// Network edges between chains.
    pub edges: Vec<PlanEdge>,
    /// Occupied slots, in allocation order.
    pub slots: Vec<PlanSlot>,
}

/// One chain of the plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanChain {
    /// Its name (`Source: a -> b`).
    pub name: String,
    /// Parallelism.
    pub parallelism: u32,
    /// Its operators, head first.
    pub operators: Vec<String>,
}

/// A network edge between two chains.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanEdge {
    /// Index of the sending chain in [`PlanView::chains`].
    pub from: usize,
    /// Index of the receiving chain.
    pub to: usize,
    /// Flink's name of the partitioner (`HASH`, `FORWARD`, …).
    pub partitioner: String,
}

/// One slot and the subtasks placed in it (slot sharing).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanSlot {
    /// Its TaskManager.
    pub task_manager: u32,
    /// The slot's index in its TaskManager.
    pub slot: u32,
    /// The subtasks sharing it.
    pub subtasks: Vec<PlanSubtask>,
}

/// A subtask in a slot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanSubtask {
    /// Index of its chain in [`PlanView::chains`].
    pub chain: usize,
    /// Subtask index.
    pub subtask: u32,
}

impl PlanView {
    /// The view of plan `p` of scenario `s`.
    pub fn of(s: &Scenario, p: &Plan) -> PlanView {
        let g = &p.logical.graph;
        PlanView {
            task_managers: s.cluster.task_managers,
            slots_per_task_manager: s.cluster.slots_per_tm,
            chains: p
                .execution
                .vertices
                .iter()
                .map(|v| PlanChain {
                    name: v.name.clone(),
                    parallelism: v.parallelism,
                    operators: v.ops.iter().map(|o| g[*o].name.clone()).collect(),
                })
                .collect(),
            edges: p
                .execution
                .edges
                .iter()
                .map(|e| PlanEdge {
                    from: e.from_vertex,
                    to: e.to_vertex,
                    partitioner: e.partitioner.flink_name().into(),
                })
                .collect(),
            slots: p
                .deployment
                .slots
                .iter()
                .map(|sl| PlanSlot {
                    task_manager: sl.task_manager,
                    slot: sl.slot,
                    subtasks: sl
                        .subtasks
                        .iter()
                        .map(|&(chain, subtask)| PlanSubtask { chain, subtask })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// A sweep: the same scenario for several values of one setting, in several modes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepReport {
    /// streamlab version that produced it.
    pub streamlab_version: String,
    /// Scenario name.
    pub scenario: String,
    /// The seed every run used.
    pub seed: u64,
    /// The swept setting's path (`sources.events.rate`).
    pub set: String,
    /// The values that ran, in the order given.
    pub values: Vec<String>,
    /// The values that made the scenario invalid, with why; they did not run.
    pub invalid: Vec<InvalidSetting>,
    /// The modes, in the order asked for.
    pub modes: Vec<String>,
    /// One point per value × mode.
    pub points: Vec<SweepPoint>,
}

impl SweepReport {
    /// Whether the swept setting is a source's rate (`sources.<name>.rate`): then charts put
    /// the achieved throughput on the x axis, else the swept values.
    pub fn sweeps_a_rate(&self) -> bool {
        self.set.ends_with(".rate")
    }
}

/// A value of a sweep that was not run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InvalidSetting {
    /// `path=value`.
    pub setting: String,
    /// The first error it gave.
    pub error: String,
}

/// One run of a sweep: a value in a mode, and what it measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepPoint {
    /// The mode.
    pub mode: String,
    /// `path=value`.
    pub setting: String,
    /// The value, as given.
    pub value: String,
    /// Source records per second of simulated time.
    pub throughput_per_s: f64,
    /// Latency over all sinks, median.
    pub latency_p50_ms: f64,
    /// Latency over all sinks, 99th percentile.
    pub latency_p99_ms: f64,
    /// Latency over all sinks, maximum.
    pub latency_max_ms: f64,
    /// Records received by all sinks.
    pub sink_records: u64,
    /// Simulated duration.
    pub sim_duration_ms: f64,
    /// How the run ended: `finished`, `failed` or `limitreached`.
    pub status: String,
}

impl SweepPoint {
    /// The point of a run in `mode` with `setting` (`path=value`).
    pub fn of(mode: &str, setting: &str, value: &str, r: &RunReport) -> SweepPoint {
        SweepPoint {
            mode: mode.into(),
            setting: setting.into(),
            value: value.into(),
            throughput_per_s: r.throughput_per_s,
            latency_p50_ms: r.latency.p50_ms,
            latency_p99_ms: r.latency.p99_ms,
            latency_max_ms: r.latency.max_ms,
            sink_records: r.sink_records,
            sim_duration_ms: r.sim_duration_ms,
            status: match r.outcome.status {
                Status::Finished => "finished",
                Status::Failed => "failed",
                Status::LimitReached => "limitreached",
            }
            .into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_of_a_rate_is_told_from_a_sweep_of_another_setting() {
        let mut s = SweepReport {
            streamlab_version: String::new(),
            scenario: "s".into(),
            seed: 1,
            set: "sources.events.rate".into(),
            values: Vec::new(),
            invalid: Vec::new(),
            modes: Vec::new(),
            points: Vec::new(),
        };
        assert!(s.sweeps_a_rate());
        s.set = "job.parallelism".into();
        assert!(!s.sweeps_a_rate());
    }
}
