//! `[checkpointing]`: periodic checkpoints with Flink's defaults and Flink's own checks (an
//! interval below 10 ms is rejected with Flink's message; unaligned checkpoints need
//! exactly-once and allow one concurrent checkpoint).

use super::checker::Checker;
use crate::scenario::raw::RawCheckpointing;
use crate::scenario::units::parse_bandwidth;
use crate::scenario::{CheckpointConfig, CheckpointMode, MIN_CHECKPOINT_INTERVAL};
use toml::Spanned as TSpanned;

/// `[checkpointing]`, with the defaults of Flink's `execution.checkpointing.*` options.
pub fn checkpointing(
    ck: &mut Checker,
    raw: &TSpanned<RawCheckpointing>,
) -> Option<CheckpointConfig> {
    let span = raw.span();
    let r = raw.get_ref();
    let interval = ck.duration(&r.interval, "checkpointing.interval")?;
    if interval < MIN_CHECKPOINT_INTERVAL {
        // Flink: CheckpointCoordinatorConfiguration's check.
        ck.error(
            Some(r.interval.span()),
            "Checkpoint interval must be larger than or equal to 10 ms",
            "Flink rejects shorter intervals; write \"10 ms\" or more",
        );
        return None;
    }
    let mut c = CheckpointConfig::with_defaults(interval, span);
    if let Some(m) = &r.mode {
        match m.get_ref().to_ascii_lowercase().replace('-', "_").as_str() {
            "exactly_once" => c.mode = CheckpointMode::ExactlyOnce,
            "at_least_once" => c.mode = CheckpointMode::AtLeastOnce,
            other => ck.error(
                Some(m.span()),
                format!("unknown checkpointing mode `{other}`"),
                "expected exactly_once or at_least_once",
            ),
        }
    }
    if let Some(v) = &r.timeout
        && let Some(d) = ck.duration(v, "checkpointing.timeout")
    {
        if d.is_zero() {
            ck.error(Some(v.span()), "checkpointing.timeout must be positive", "");
        }
        c.timeout = d;
    }
    if let Some(v) = &r.min_pause
        && let Some(d) = ck.duration(v, "checkpointing.min_pause")
    {
        c.min_pause = d;
    }
    if let Some(v) = &r.max_concurrent {
        c.max_concurrent = ck
            .count(v, "checkpointing.max_concurrent", 1000)
            .unwrap_or(1);
    }
    if let Some(v) = &r.tolerable_failures {
        if *v.get_ref() < 0 {
            // Flink: "The tolerable failure checkpoint number must be non-negative."
            ck.error(
                Some(v.span()),
                "The tolerable failure checkpoint number must be non-negative.",
                "0 fails the job on the first failed checkpoint",
            );
        } else {
            c.tolerable_failures = (*v.get_ref()).min(i64::from(u32::MAX)) as u32;
        }
    }
    unaligned(ck, r, &mut c);
    if let Some(v) = &r.storage_bandwidth {
        match parse_bandwidth(v.get_ref()) {
            Ok(0) => ck.error(
                Some(v.span()),
                "checkpointing.storage_bandwidth must be positive",
                "",
            ),
            Ok(b) => c.storage_bandwidth = b,
            Err(e) => ck.error(Some(v.span()), e, "like \"100 mb/s\""),
        }
    }
    if let Some(v) = &r.storage_latency
        && let Some(d) = ck.duration(v, "checkpointing.storage_latency")
    {
        c.storage_latency = d;
    }
    if let Some(v) = &r.retained {
        c.retained = ck.count(v, "checkpointing.retained", 1000).unwrap_or(1);
    }
    Some(c)
}

/// Unaligned checkpoints (`unaligned`, `aligned_timeout`; `compare_aligned` runs the aligned
/// variant beside): they need exactly-once and at most one concurrent checkpoint.
fn unaligned(ck: &mut Checker, r: &RawCheckpointing, c: &mut CheckpointConfig) {
    if let Some(v) = &r.unaligned {
        c.unaligned = *v.get_ref();
        if c.unaligned && c.mode == CheckpointMode::AtLeastOnce {
            ck.error(
                Some(v.span()),
                "unaligned checkpoints require exactly_once mode",
                "at-least-once has no alignment to skip; Flink 2.3 silently ignores the \
                 combination, streamlab rejects it so the mistake shows",
            );
        }
        if c.unaligned && c.max_concurrent > 1 {
            ck.error(
                r.max_concurrent.as_ref().map(|m| m.span()),
                "unaligned checkpoints allow at most one concurrent checkpoint",
                "set max_concurrent = 1",
            );
        }
    }
    if let Some(v) = &r.aligned_timeout
        && let Some(d) = ck.duration(v, "checkpointing.aligned_timeout")
    {
        c.aligned_timeout = d;
        if !d.is_zero() && !c.unaligned {
            ck.error(
                Some(v.span()),
                "aligned_timeout switches an aligned checkpoint to unaligned: it needs unaligned = true",
                "add unaligned = true",
            );
        }
    }
    if let Some(v) = &r.compare_aligned {
        c.compare_aligned = *v.get_ref();
        if c.compare_aligned && !c.unaligned {
            ck.error(
                Some(v.span()),
                "compare_aligned compares unaligned checkpoints with aligned ones: it needs unaligned = true",
                "add unaligned = true",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check::testing;
    use crate::scenario::CheckpointMode;

    fn parsed(cp: &str) -> Result<crate::scenario::Scenario, String> {
        let text = format!(
            "[checkpointing]\n{cp}\n[[source]]\nname = \"a\"\nkind = \"generator\"\ncount = 10\nfields.k = {{ kind = \"sequence\" }}\n[[sink]]\nname = \"out\"\ninput = \"a\"\n"
        );
        testing::parsed(&text)
    }

    #[test]
    fn defaults_are_flinks() {
        let s = parsed("interval = \"1 s\"").unwrap();
        let c = s.fault_tolerance.checkpointing.unwrap();
        assert_eq!(c.mode, CheckpointMode::ExactlyOnce);
        assert_eq!(
            (c.timeout.as_secs_f64(), c.max_concurrent, c.retained),
            (600.0, 1, 1)
        );
    }

    #[test]
    fn flinks_own_checks() {
        let e = parsed("interval = \"5 ms\"").unwrap_err();
        assert!(
            e.contains("Checkpoint interval must be larger than or equal to 10 ms"),
            "{e}"
        );
        let e =
            parsed("interval = \"1 s\"\nmode = \"at_least_once\"\nunaligned = true").unwrap_err();
        assert!(
            e.contains("unaligned checkpoints require exactly_once mode"),
            "{e}"
        );
        let e = parsed("interval = \"1 s\"\nmax_concurrent = 2\nunaligned = true").unwrap_err();
        assert!(
            e.contains("unaligned checkpoints allow at most one concurrent checkpoint"),
            "{e}"
        );
        let e = parsed("interval = \"1 s\"\ntolerable_failures = -1").unwrap_err();
        assert!(
            e.contains("The tolerable failure checkpoint number must be non-negative."),
            "{e}"
        );
        let e = parsed("interval = \"1 s\"\ncompare_aligned = true").unwrap_err();
        assert!(
            e.contains("compare_aligned compares unaligned checkpoints with aligned ones"),
            "{e}"
        );
    }
}
