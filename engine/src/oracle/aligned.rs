//! `compare_aligned`: the same job run once with aligned checkpoints and once as configured
//! (unaligned), and how the checkpoints of each run fared.

use crate::core::time::SimDuration;
use crate::report::{CheckpointReport, RunReport, VariantReport};

/// For `compare_aligned`: the scenario with aligned checkpoints, or `None` if no comparison
/// was asked for.
pub fn variant(s: &crate::scenario::Scenario) -> Option<crate::scenario::Scenario> {
    let c = s.fault_tolerance.checkpointing.as_ref()?;
    if !c.compare_aligned {
        return None;
    }
    let mut v = s.clone();
    let c = v.fault_tolerance.checkpointing.as_mut().expect("checked");
    c.unaligned = false;
    c.aligned_timeout = SimDuration::ZERO;
    c.compare_aligned = false;
    Some(v)
}

/// The rows of a comparison: how the checkpoints of each run fared.
pub fn compare(aligned: &RunReport, unaligned: &RunReport) -> Vec<VariantReport> {
    [aligned, unaligned]
        .into_iter()
        .map(|r| {
            let done: Vec<&CheckpointReport> = r
                .checkpoints
                .iter()
                .filter(|c| c.outcome == "completed")
                .collect();
            let mut durations: Vec<f64> = done
                .iter()
                .filter_map(|c| c.completed_ms.map(|e| e - c.trigger_ms))
                .collect();
            durations.sort_by(f64::total_cmp);
            let max = |v: Vec<f64>| v.into_iter().reduce(f64::max);
            let barriers = r
                .checkpoints
                .first()
                .map_or_else(|| "-".to_string(), |c| c.barriers.clone());
            VariantReport {
                barriers,
                completed: done.len() as u32,
                failed: (r.checkpoints.len() - done.len()) as u32,
                duration_ms_p50: durations
                    .get(durations.len().saturating_sub(1) / 2)
                    .copied(),
                duration_ms_max: durations.last().copied(),
                alignment_ms_max: max(done.iter().map(|c| c.alignment_ms).collect()),
                in_flight_bytes_max: done.iter().map(|c| c.in_flight_bytes).max().unwrap_or(0),
                outcome: match r.outcome.status {
                    crate::report::Status::Finished => "finished".into(),
                    crate::report::Status::Failed => "failed".into(),
                    crate::report::Status::LimitReached => "stopped at a limit".into(),
                },
                sim_duration_ms: r.sim_duration_ms,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_aligned_variant_turns_unaligned_checkpoints_off_once() {
        let text = r#"
[checkpointing]
interval = "1 s"
unaligned = true
aligned_timeout = "100 ms"
compare_aligned = true

[[source]]
name = "s"
kind = "inline"
events = [ { a = 1 } ]

[[sink]]
name = "out"
input = "s"
"#;
        let s = crate::check::parse_str("t.toml", text, None)
            .unwrap_or_else(|d| panic!("{}", d.render()));
        let v = variant(&s).expect("a comparison is asked for");
        let c = v.fault_tolerance.checkpointing.as_ref().unwrap();
        assert!(!c.unaligned && c.aligned_timeout.is_zero() && !c.compare_aligned);
        assert!(variant(&v).is_none(), "the variant compares with nothing");
    }
}
