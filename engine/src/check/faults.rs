//! `[[fault]]` tables: scripted faults — what strikes, when (a time, or a phase of a
//! checkpoint), and what it hits. A fault must name a TaskManager, operator or subtask that
//! exists, and strike before the run's time limit.

use super::checker::Checker;
use crate::core::time::{SimDuration, SimTime};
use crate::scenario::raw::RawFault;
use crate::scenario::{
    CheckpointConfig, CheckpointPhase, Cluster, Fault, FaultKind, FaultTime, NodeDef, input_end,
};
use std::ops::Range;
use toml::Spanned as TSpanned;

/// The `[[fault]]` tables (read after the nodes, so faults can name operators, and after
/// `[checkpointing]`, which faults tied to a checkpoint need).
pub fn faults(
    ck: &mut Checker,
    faults: &[TSpanned<RawFault>],
    nodes: &[NodeDef],
    cluster: &Cluster,
    checkpointing: Option<&CheckpointConfig>,
    max_sim_time: SimTime,
) -> Vec<Fault> {
    let faults: Vec<Fault> = faults
        .iter()
        .filter_map(|f| fault(ck, f, nodes, cluster, checkpointing))
        .collect();
    // Only a fault the run certainly never reaches is an error: past `limits.max_sim_time`
    // the run stops. The input's end is not the job's — costs, backpressure, windows and
    // restarts run it on — so a fault after it is accepted, and the report says if it never
    // struck.
    let end = input_end(nodes);
    for f in &faults {
        let FaultTime::At(t) = f.at else { continue };
        if t > max_sim_time {
            ck.error(
                Some(f.span.clone()),
                format!(
                    "this fault at {t} comes after limits.max_sim_time ({max_sim_time}): the run stops before it"
                ),
                "strike earlier, or raise max_sim_time in [limits]",
            );
        } else if let Some(end) = end
            && t > end
        {
            ck.warn(
                Some(f.span.clone()),
                format!(
                    "this fault at {t} comes after the sources' last record (at {end}): it strikes only if the job is still running then"
                ),
                "the report says so if the job ended first",
            );
        }
    }
    faults
}

/// One `[[fault]]`: when it strikes and what it hits.
fn fault(
    ck: &mut Checker,
    raw: &TSpanned<RawFault>,
    nodes: &[NodeDef],
    cluster: &Cluster,
    cp: Option<&CheckpointConfig>,
) -> Option<Fault> {
    let at = fault_time(ck, raw.get_ref(), cp)?;
    let kind = fault_kind(ck, raw, nodes, cluster)?;
    Some(Fault {
        at,
        kind,
        span: raw.span(),
    })
}

/// `at = "12 s"` or `after = "pre-commit of checkpoint 3"` (which needs checkpoints).
fn fault_time(ck: &mut Checker, r: &RawFault, cp: Option<&CheckpointConfig>) -> Option<FaultTime> {
    Some(match (&r.at, &r.after) {
        (Some(a), None) => FaultTime::At(SimTime::ZERO.plus(ck.duration(a, "fault.at")?)),
        (None, Some(a)) => {
            let Some(ft) = parse_phase(a.get_ref()) else {
                ck.error(
                    Some(a.span()),
                    format!("cannot read `{}` as a checkpoint phase", a.get_ref()),
                    "write \"trigger of checkpoint 3\", \"pre-commit of checkpoint 3\", \"completion of checkpoint 3\" or \"notify of checkpoint 3\"",
                );
                return None;
            };
            if cp.is_none() {
                ck.error(
                    Some(a.span()),
                    "this fault waits for a checkpoint, but checkpointing is off",
                    "add a [checkpointing] table with an interval, or use at = \"<time>\"",
                );
                return None;
            }
            ft
        }
        (Some(_), Some(a)) => {
            ck.error(
                Some(a.span()),
                "a fault takes `at` or `after`, not both",
                "",
            );
            return None;
        }
        (None, None) => {
            ck.error(
                Some(r.kind.span()),
                "a fault needs a time: at = \"12 s\" or after = \"pre-commit of checkpoint 3\"",
                "",
            );
            return None;
        }
    })
}

/// The kind of fault and its target.
fn fault_kind(
    ck: &mut Checker,
    raw: &TSpanned<RawFault>,
    nodes: &[NodeDef],
    cluster: &Cluster,
) -> Option<FaultKind> {
    let r = raw.get_ref();
    let kind = r.kind.get_ref().to_ascii_lowercase().replace('-', "_");
    Some(match kind.as_str() {
        "kill_subtask" => {
            let (node, subtask) = fault_subtask(ck, r, raw.span(), nodes)?;
            FaultKind::KillSubtask { node, subtask }
        }
        "kill_task_manager" => {
            let tm = fault_tm(ck, r.task_manager.as_ref(), r, cluster)?;
            let replacement_delay = match &r.replacement_delay {
                Some(d) => ck.duration(d, "fault.replacement_delay")?,
                None => crate::core::defaults::cluster::TASK_MANAGER_REPLACEMENT_DELAY,
            };
            FaultKind::KillTaskManager {
                tm,
                replacement_delay,
            }
        }
        "job_manager" => FaultKind::JobManager {
            ha: r.ha.as_ref().is_some_and(|h| *h.get_ref()),
        },
        "network_delay" | "network_partition" => {
            let between = fault_between(ck, r, cluster)?;
            let duration = fault_duration(ck, r)?;
            if kind == "network_delay" {
                let Some(e) = &r.extra else {
                    ck.error(
                        Some(r.kind.span()),
                        "a network_delay needs `extra`",
                        "extra = \"200 ms\"",
                    );
                    return None;
                };
                FaultKind::NetworkDelay {
                    between,
                    extra: ck.duration(e, "fault.extra")?,
                    duration,
                }
            } else {
                FaultKind::NetworkPartition { between, duration }
            }
        }
        "straggler" => {
            let (node, subtask) = fault_subtask(ck, r, raw.span(), nodes)?;
            let duration = fault_duration(ck, r)?;
            let factor = match &r.factor {
                Some(f) if f.get_ref().get() < 1.0 || !f.get_ref().get().is_finite() => {
                    ck.error(
                        Some(f.span()),
                        "a straggler's factor must be at least 1",
                        "factor = 5 runs five times slower",
                    );
                    return None;
                }
                Some(f) => f.get_ref().get(),
                None => {
                    ck.error(
                        Some(r.kind.span()),
                        "a straggler needs a `factor`",
                        "factor = 5",
                    );
                    return None;
                }
            };
            FaultKind::Straggler {
                node,
                subtask,
                factor,
                duration,
            }
        }
        "storage_failure" => FaultKind::StorageFailure {
            duration: fault_duration(ck, r)?,
        },
        other => {
            ck.error(
                Some(r.kind.span()),
                format!("unknown fault kind `{other}`"),
                "expected kill_subtask, kill_task_manager, job_manager, network_delay, network_partition, straggler or storage_failure",
            );
            return None;
        }
    })
}

fn fault_subtask(
    ck: &mut Checker,
    r: &RawFault,
    span: Range<usize>,
    nodes: &[NodeDef],
) -> Option<(usize, u32)> {
    let Some(op) = &r.operator else {
        ck.error(
            Some(span),
            "this fault needs the `operator` it hits",
            "operator = \"<name>\"",
        );
        return None;
    };
    let runnable: Vec<&str> = nodes
        .iter()
        .filter(|n| !n.is_virtual())
        .map(|n| n.name.as_str())
        .collect();
    let Some(node) = nodes
        .iter()
        .position(|n| n.name == *op.get_ref() && !n.is_virtual())
    else {
        ck.error(
            Some(op.span()),
            format!("unknown operator `{}` in a fault", op.get_ref()),
            format!("known operators: {}", runnable.join(", ")),
        );
        return None;
    };
    let subtask = r.subtask.as_ref().map_or(0, |s| *s.get_ref());
    let par = nodes[node]
        .parallelism
        .as_ref()
        .map_or(ck.job_parallelism, |p| p.value);
    if subtask < 0 || subtask >= i64::from(par) {
        ck.error(
            r.subtask.as_ref().map(|s| s.span()),
            format!(
                "operator `{}` has no subtask {subtask}: its parallelism is {par}",
                op.get_ref()
            ),
            format!("subtasks are numbered 0 to {}", par - 1),
        );
        return None;
    }
    Some((node, subtask as u32))
}

fn fault_tm(
    ck: &mut Checker,
    v: Option<&TSpanned<i64>>,
    r: &RawFault,
    cluster: &Cluster,
) -> Option<u32> {
    let Some(v) = v else {
        ck.error(
            Some(r.kind.span()),
            "this fault needs the `task_manager` it hits",
            "task_manager = 0",
        );
        return None;
    };
    tm_index(ck, *v.get_ref(), v.span(), cluster)
}

fn tm_index(ck: &mut Checker, n: i64, span: Range<usize>, cluster: &Cluster) -> Option<u32> {
    if n < 0 || n >= i64::from(cluster.task_managers) {
        ck.error(
            Some(span),
            format!(
                "there is no TaskManager {n}: the cluster has {} (numbered 0 to {})",
                cluster.task_managers,
                cluster.task_managers - 1
            ),
            "",
        );
        return None;
    }
    Some(n as u32)
}

fn fault_between(ck: &mut Checker, r: &RawFault, cluster: &Cluster) -> Option<(u32, u32)> {
    let Some(b) = &r.between else {
        ck.error(
            Some(r.kind.span()),
            "this fault needs `between`: two TaskManagers",
            "between = [0, 1]",
        );
        return None;
    };
    let v = b.get_ref();
    if v.len() != 2 || v[0] == v[1] {
        ck.error(
            Some(b.span()),
            "`between` names two different TaskManagers",
            "between = [0, 1]",
        );
        return None;
    }
    let a = tm_index(ck, v[0], b.span(), cluster)?;
    let c = tm_index(ck, v[1], b.span(), cluster)?;
    Some((a.min(c), a.max(c)))
}

fn fault_duration(ck: &mut Checker, r: &RawFault) -> Option<SimDuration> {
    let Some(d) = &r.duration else {
        ck.error(
            Some(r.kind.span()),
            "this fault needs a `duration`",
            "duration = \"5 s\"",
        );
        return None;
    };
    let d = ck.duration(d, "fault.duration")?;
    Some(d)
}

/// "pre-commit of checkpoint 3" → the phase and the checkpoint id.
fn parse_phase(text: &str) -> Option<FaultTime> {
    let t = text.trim().to_ascii_lowercase();
    let (phase, rest) = t.split_once(" of checkpoint ")?;
    let id: u64 = rest.trim().parse().ok().filter(|n| *n >= 1)?;
    let phase = match phase.trim() {
        "trigger" => CheckpointPhase::Trigger,
        "pre-commit" | "precommit" | "pre_commit" => CheckpointPhase::PreCommit,
        "completion" | "complete" => CheckpointPhase::Completion,
        "notify" | "notified" => CheckpointPhase::Notified,
        _ => return None,
    };
    Some(FaultTime::After(phase, id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing;

    #[test]
    fn checkpoint_phases_are_read_from_plain_words() {
        assert_eq!(
            parse_phase("pre-commit of checkpoint 3"),
            Some(FaultTime::After(CheckpointPhase::PreCommit, 3))
        );
        assert_eq!(
            parse_phase("Completion of checkpoint 12"),
            Some(FaultTime::After(CheckpointPhase::Completion, 12))
        );
        assert_eq!(
            parse_phase("notify of checkpoint 2"),
            Some(FaultTime::After(CheckpointPhase::Notified, 2))
        );
        assert_eq!(parse_phase("commit of checkpoint 3"), None);
        assert_eq!(parse_phase("trigger of checkpoint 0"), None);
    }

    fn errors(fault: &str) -> String {
        let text = format!(
            "[cluster]\ntask_managers = 2\n[[source]]\nname = \"a\"\nkind = \"generator\"\nrate = 10\ncount = 100\nfields.k = {{ kind = \"sequence\" }}\n[[sink]]\nname = \"out\"\ninput = \"a\"\n[[fault]]\n{fault}\n"
        );
        testing::findings(&text)
    }

    #[test]
    fn a_fault_needs_a_time_and_a_target_that_exists() {
        let e = errors("kind = \"kill_subtask\"\noperator = \"out\"");
        assert!(e.contains("a fault needs a time"), "{e}");
        let e = errors("at = \"1 s\"\nkind = \"kill_subtask\"\noperator = \"b\"");
        assert!(e.contains("unknown operator `b` in a fault"), "{e}");
        let e = errors("at = \"1 s\"\nkind = \"kill_subtask\"\noperator = \"out\"\nsubtask = 1");
        assert!(
            e.contains("operator `out` has no subtask 1: its parallelism is 1"),
            "{e}"
        );
        let e = errors(
            "at = \"1 s\"\nkind = \"network_delay\"\nbetween = [0, 2]\nduration = \"1 s\"\nextra = \"1 ms\"",
        );
        assert!(
            e.contains("there is no TaskManager 2: the cluster has 2 (numbered 0 to 1)"),
            "{e}"
        );
        let e = errors("after = \"trigger of checkpoint 1\"\nkind = \"job_manager\"");
        assert!(
            e.contains("this fault waits for a checkpoint, but checkpointing is off"),
            "{e}"
        );
    }

    #[test]
    fn a_fault_after_the_input_is_a_warning_and_after_the_time_limit_an_error() {
        let w = errors("at = \"20 s\"\nkind = \"job_manager\"");
        assert!(
            w.contains("comes after the sources' last record (at 10.000 s)"),
            "{w}"
        );
        let e = errors("at = \"25 h\"\nkind = \"job_manager\"");
        assert!(e.contains("comes after limits.max_sim_time"), "{e}");
    }
}
