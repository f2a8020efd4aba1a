//! Deployment: subtasks into slots, slots onto TaskManagers.
//!
//! With slot sharing (Flink's default) one slot may hold one subtask of *every* chain of a
//! slot-sharing group, so a group needs as many slots as its highest parallelism and a job
//! needs the sum over its groups. Shared slot `k` of a group holds subtask `k` of each of the
//! group's chains — which co-locates the forward-connected subtasks of a pipeline, as Flink's
//! scheduler does. Slots are then filled TaskManager by TaskManager (Flink's default,
//! `cluster.evenly-spread-out-slots = false`).

use super::physical::ExecutionGraph;
use crate::core::diag::{Diagnostic, Diagnostics};
use crate::scenario::Scenario;
use serde::Serialize;

/// One occupied slot.
#[derive(Debug, Clone, Serialize)]
pub struct SlotAssignment {
    /// TaskManager index.
    pub task_manager: u32,
    /// Slot index within the TaskManager.
    pub slot: u32,
    /// Its slot-sharing group.
    pub group: String,
    /// `(chain, subtask)` pairs it runs.
    pub subtasks: Vec<(usize, u32)>,
}

/// Where everything runs.
#[derive(Debug, Clone, Serialize)]
pub struct Deployment {
    /// Occupied slots in allocation order.
    pub slots: Vec<SlotAssignment>,
    /// Slots the job needs.
    pub slots_needed: u32,
    /// Slots needed per slot-sharing group, in order of first appearance.
    pub per_group: Vec<(String, u32)>,
    /// `[chain][subtask]` → TaskManager.
    pub task_manager_of: Vec<Vec<u32>>,
}

/// Places the subtasks; fails with Flink's message when the cluster has too few slots.
pub fn deploy(s: &Scenario, eg: &ExecutionGraph) -> Result<Deployment, Diagnostics> {
    let mut per_group: Vec<(String, u32)> = Vec::new();
    for v in &eg.vertices {
        match per_group
            .iter_mut()
            .find(|(g, _)| *g == v.slot_sharing_group)
        {
            Some((_, n)) => *n = (*n).max(v.parallelism),
            None => per_group.push((v.slot_sharing_group.clone(), v.parallelism)),
        }
    }
    let needed: u32 = per_group.iter().map(|(_, n)| n).sum();
    let available = s.cluster.total_slots();
    if needed > available {
        let groups: Vec<String> = per_group
            .iter()
            .map(|(g, n)| format!("`{g}`: {n}"))
            .collect();
        // Point at the operator with the highest parallelism: that is what to change.
        let widest = s.nodes.iter().filter(|n| !n.is_virtual()).max_by_key(|n| {
            n.parallelism
                .as_ref()
                .map_or(s.job.parallelism, |p| p.value)
        });
        let span = widest
            .and_then(|n| n.parallelism.as_ref().map(|p| p.span.clone()))
            .or_else(|| s.job.parallelism_span.clone());
        let mut diags = Diagnostics::new(s.file.clone());
        diags.push(
            Diagnostic::error(
                format!(
                    "NoResourceAvailableException: Could not acquire the minimum required resources. \
                     The job needs {needed} slot{} but the cluster has {available} ({} TaskManager{} × {} slot{})",
                    plural(needed),
                    s.cluster.task_managers,
                    plural(s.cluster.task_managers),
                    s.cluster.slots_per_tm,
                    plural(s.cluster.slots_per_tm),
                ),
                span,
            )
            .with_label(format!("slots per slot-sharing group: {}", groups.join(", ")))
            .with_note("add TaskManagers or slots in [cluster], or lower the parallelism"),
        );
        return Err(diags);
    }
    let mut slots = Vec::new();
    let mut task_manager_of: Vec<Vec<u32>> = eg
        .vertices
        .iter()
        .map(|v| vec![0; v.parallelism as usize])
        .collect();
    for (group, n) in &per_group {
        for k in 0..*n {
            let global = slots.len() as u32;
            let tm = global / s.cluster.slots_per_tm;
            let mut subtasks = Vec::new();
            for (vi, v) in eg.vertices.iter().enumerate() {
                if v.slot_sharing_group == *group && k < v.parallelism {
                    subtasks.push((vi, k));
                    task_manager_of[vi][k as usize] = tm;
                }
            }
            slots.push(SlotAssignment {
                task_manager: tm,
                slot: global % s.cluster.slots_per_tm,
                group: group.clone(),
                subtasks,
            });
        }
    }
    Ok(Deployment {
        slots,
        slots_needed: needed,
        per_group,
        task_manager_of,
    })
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use crate::check::parse_str;
    use crate::plan::plan;

    fn job(cluster: &str, body: &str) -> String {
        format!(
            "{cluster}\n[[source]]\nname = \"src\"\nkind = \"generator\"\ncount = 10\nfields.k = {{ kind = \"key\", count = 3 }}\n{body}"
        )
    }

    #[test]
    fn one_group_needs_its_highest_parallelism() {
        let text = job(
            "[cluster]\ntask_managers = 2\nslots_per_task_manager = 2",
            "parallelism = 1\n[[operator]]\nname = \"m\"\nkind = \"map\"\ninput = \"src\"\nparallelism = 4\nselect = { k = \"k\" }\n[[sink]]\nname = \"out\"\ninput = \"m\"\nparallelism = 2",
        );
        let s = parse_str("t.toml", &text, None).unwrap();
        let p = plan(&s).unwrap();
        assert_eq!(p.deployment.slots_needed, 4);
        // slot k holds subtask k of every chain that has one; TaskManagers fill up in order
        let tm: Vec<u32> = p.deployment.slots.iter().map(|s| s.task_manager).collect();
        assert_eq!(tm, vec![0, 0, 1, 1]);
        assert_eq!(p.deployment.slots[0].subtasks.len(), 3);
        assert_eq!(p.deployment.slots[3].subtasks.len(), 1);
    }

    #[test]
    fn slot_sharing_groups_add_up() {
        let text = job(
            "[cluster]\ntask_managers = 3\nslots_per_task_manager = 2\n[job]\nparallelism = 4",
            "[[operator]]\nname = \"m\"\nkind = \"map\"\ninput = \"src\"\nparallelism = 2\nslot_sharing_group = \"heavy\"\nselect = { k = \"k\" }\n[[sink]]\nname = \"out\"\ninput = \"m\"\nparallelism = 2\nslot_sharing_group = \"heavy\"",
        );
        let s = parse_str("t.toml", &text, None).unwrap();
        let p = plan(&s).unwrap();
        assert_eq!(
            p.deployment.per_group,
            vec![("default".to_string(), 4), ("heavy".to_string(), 2)]
        );
        assert_eq!(p.deployment.slots_needed, 6);
    }

    #[test]
    fn too_few_slots_is_flinks_no_resource_error() {
        let text = job(
            "[cluster]\ntask_managers = 1\nslots_per_task_manager = 2",
            "parallelism = 3\n[[sink]]\nname = \"out\"\ninput = \"src\"",
        );
        let s = parse_str("t.toml", &text, None).unwrap();
        let err = plan(&s).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("NoResourceAvailableException"), "{msg}");
        assert!(msg.contains("needs 3 slots but the cluster has 2"), "{msg}");
        assert!(msg.contains("t.toml:"), "points into the file: {msg}");
    }
}
