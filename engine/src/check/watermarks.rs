//! A source's `watermarks = { … }`: Flink's `WatermarkStrategy` — bounded out-of-orderness,
//! monotonous timestamps or none; periodic or per-event emission; idleness; alignment.

use super::checker::Checker;
use crate::core::time::SimDuration;
use crate::flink::watermark::{Emission, Strategy};
use crate::scenario::raw::{RawSource, RawWatermarks};
use crate::scenario::{Timestamps, WatermarkSpec};

/// The source's watermark strategy (`Some(None)`: it has none).
pub fn watermarks(
    ck: &mut Checker,
    s: &RawSource,
    ts: Timestamps,
) -> Option<Option<WatermarkSpec>> {
    let Some(raw) = &s.watermarks else {
        return Some(None);
    };
    let r = raw.get_ref();
    if ts == Timestamps::None {
        ck.error(
            Some(raw.span()),
            format!(
                "source `{}` has watermarks but its records have no event-time timestamp",
                s.name.get_ref()
            ),
            "set `timestamp` to an integer field (milliseconds) or to \"ingestion\"",
        );
        return None;
    }
    let bound_ms = bound(ck, r)?;
    let interval = match &r.interval {
        Some(i) => Some(ck.duration(i, "watermarks.interval")?),
        None => None,
    };
    // Flink calls onPeriodicEmit every auto-watermark interval, for punctuated generators too
    // (where it only probes for idleness); 0 means never.
    let period = interval.unwrap_or(ck.auto_watermark_interval);
    let period = (!period.is_zero()).then_some(period);
    let emission = emission(ck, r, period)?;
    let idleness = match &r.idleness {
        Some(i) => Some(idleness(ck, r, i, period)?),
        None => None,
    };
    let alignment = alignment(ck, r)?;
    Some(Some(WatermarkSpec {
        strategy: Strategy {
            bound_ms,
            emission,
            idleness,
        },
        alignment,
    }))
}

/// The out-of-orderness bound of the strategy in ms: `Some(None)` for strategy = "none"
/// (`noWatermarks()`), which takes no other option.
fn bound(ck: &mut Checker, r: &RawWatermarks) -> Option<Option<i64>> {
    match r.strategy.get_ref().as_str() {
        "bounded" => {
            let Some(b) = &r.max_out_of_orderness else {
                ck.error(
                    Some(r.strategy.span()),
                    "a bounded strategy needs `max_out_of_orderness`",
                    "max_out_of_orderness = \"2 s\"",
                );
                return None;
            };
            Some(Some(
                ck.duration(b, "max_out_of_orderness")?.as_millis() as i64
            ))
        }
        "monotonous" => {
            if let Some(b) = &r.max_out_of_orderness {
                ck.error(
                    Some(b.span()),
                    "monotonous timestamps have no out-of-orderness bound",
                    "use strategy = \"bounded\"",
                );
                return None;
            }
            Some(Some(0))
        }
        "none" => {
            for (k, v) in [
                ("max_out_of_orderness", r.max_out_of_orderness.as_ref()),
                ("emit", r.emit.as_ref()),
                ("interval", r.interval.as_ref()),
                ("idleness", r.idleness.as_ref()),
                ("alignment_group", r.alignment_group.as_ref()),
                ("max_drift", r.max_drift.as_ref()),
            ] {
                if let Some(v) = v {
                    ck.error(
                        Some(v.span()),
                        format!("`{k}` means nothing for strategy = \"none\""),
                        "noWatermarks() emits no watermarks but the final one; it takes no options — use strategy = \"bounded\" or \"monotonous\" to have watermarks",
                    );
                    return None;
                }
            }
            Some(None)
        }
        other => {
            ck.error(
                Some(r.strategy.span()),
                format!("unknown watermark strategy `{other}`"),
                "expected bounded, monotonous or none",
            );
            None
        }
    }
}

/// Periodic emission (every `period`), or per event (a punctuated generator, probed every
/// `period` for idleness only).
fn emission(ck: &mut Checker, r: &RawWatermarks, period: Option<SimDuration>) -> Option<Emission> {
    match r.emit.as_ref().map(|e| e.get_ref().as_str()) {
        None | Some("periodic") => Some(Emission::Periodic(period)),
        Some("per_event") => {
            if let Some(i) = &r.interval
                && r.idleness.is_none()
            {
                ck.error(
                    Some(i.span()),
                    "a per-event (punctuated) generator emits a watermark after every record; it has no `interval`",
                    "with emit = \"per_event\", `interval` only sets how often `idleness` is checked, so it needs `idleness`",
                );
                return None;
            }
            Some(Emission::PerEvent(period))
        }
        Some(other) => {
            ck.error(
                r.emit.as_ref().map(|e| e.span()),
                format!("unknown emission `{other}`"),
                "expected periodic or per_event",
            );
            None
        }
    }
}

/// `idleness`: positive, and only detected by periodic probes.
fn idleness(
    ck: &mut Checker,
    r: &RawWatermarks,
    i: &toml::Spanned<String>,
    period: Option<SimDuration>,
) -> Option<SimDuration> {
    let d = ck.duration(i, "idleness")?;
    if d.is_zero() {
        ck.error(
            Some(i.span()),
            "idleness must be more than zero",
            "Flink's withIdleness needs a positive timeout, e.g. \"10 s\"",
        );
        return None;
    }
    if period.is_none() {
        let whose = if r.interval.is_some() {
            "its watermark `interval` is 0 ms"
        } else {
            "[job] auto_watermark_interval is 0 ms"
        };
        ck.warn(
            Some(i.span()),
            format!("`idleness` never takes effect here: {whose}"),
            "idleness is detected in the periodic watermark probes (Flink's onPeriodicEmit), which an interval of 0 disables; give the watermarks an `interval` more than zero",
        );
    }
    Some(d)
}

/// Watermark alignment: a group and a positive maximum drift, both or neither
/// (`Some(None)`: no alignment).
fn alignment(ck: &mut Checker, r: &RawWatermarks) -> Option<Option<(String, SimDuration)>> {
    match (&r.alignment_group, &r.max_drift) {
        (None, None) => Some(None),
        (Some(g), Some(d)) => {
            let drift = ck.duration(d, "max_drift")?;
            if drift.is_zero() {
                ck.error(Some(d.span()), "max_drift must be more than zero", "");
                return None;
            }
            Some(Some((g.get_ref().clone(), drift)))
        }
        (Some(g), None) => {
            ck.error(
                Some(g.span()),
                "watermark alignment needs `max_drift` too",
                "max_drift = \"5 s\"",
            );
            None
        }
        (None, Some(d)) => {
            ck.error(Some(d.span()), "`max_drift` needs an `alignment_group`", "");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check::testing;
    use crate::flink::watermark::Emission;

    fn check(wm: &str) -> Result<crate::scenario::Scenario, String> {
        let text = format!(
            "[[source]]\nname = \"a\"\nkind = \"inline\"\nevents = [{{ t = 1 }}]\ntimestamp = \"t\"\nwatermarks = {{ {wm} }}\n[[sink]]\nname = \"out\"\ninput = \"a\"\n"
        );
        testing::parsed(&text)
    }

    #[test]
    fn strategies() {
        let s = check("strategy = \"bounded\", max_out_of_orderness = \"2 s\"").unwrap();
        let crate::scenario::NodeKind::Source(src) = &s.nodes[0].kind else {
            panic!("a source")
        };
        let w = src.watermarks.as_ref().unwrap();
        assert_eq!(w.strategy.bound_ms, Some(2_000));
        assert!(matches!(w.strategy.emission, Emission::Periodic(Some(_))));
        let e = check("strategy = \"bounded\"").unwrap_err();
        assert!(
            e.contains("a bounded strategy needs `max_out_of_orderness`"),
            "{e}"
        );
        let e = check("strategy = \"none\", idleness = \"1 s\"").unwrap_err();
        assert!(
            e.contains("`idleness` means nothing for strategy = \"none\""),
            "{e}"
        );
    }

    #[test]
    fn emission_idleness_and_alignment() {
        let e = check("strategy = \"monotonous\", emit = \"per_event\", interval = \"1 s\"")
            .unwrap_err();
        assert!(
            e.contains("a per-event (punctuated) generator emits a watermark after every record"),
            "{e}"
        );
        let e = check("strategy = \"monotonous\", idleness = \"0 s\"").unwrap_err();
        assert!(e.contains("idleness must be more than zero"), "{e}");
        let e = check("strategy = \"monotonous\", alignment_group = \"g\"").unwrap_err();
        assert!(
            e.contains("watermark alignment needs `max_drift` too"),
            "{e}"
        );
        let e = check("strategy = \"monotonous\", max_drift = \"1 s\"").unwrap_err();
        assert!(e.contains("`max_drift` needs an `alignment_group`"), "{e}");
    }
}
