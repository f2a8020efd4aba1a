//! `[chaos]`: a random fault profile ([`crate::scenario::chaos`]), drawn when the run asks
//! for chaos.

use super::checker::Checker;
use crate::core::time::{SimDuration, SimTime};
use crate::scenario::chaos::{ChaosKind, ChaosProfile};
use crate::scenario::raw::RawChaos;
use toml::Spanned as TSpanned;

/// Checks `[chaos]`.
pub fn chaos(ck: &mut Checker, raw: Option<&TSpanned<RawChaos>>) -> Option<ChaosProfile> {
    let raw = raw?.get_ref();
    let mut p = ChaosProfile::default();
    if let Some(kinds) = &raw.kinds {
        let mut chosen = Vec::new();
        for k in kinds.get_ref() {
            let name = k.get_ref().to_ascii_lowercase().replace('-', "_");
            match ChaosKind::ALL.iter().find(|c| c.name() == name) {
                Some(c) if !chosen.contains(c) => chosen.push(*c),
                Some(_) => {}
                None => ck.error(
                    Some(k.span()),
                    format!("unknown fault kind `{}` in [chaos]", k.get_ref()),
                    format!("valid: {}", ChaosKind::ALL.map(ChaosKind::name).join(", ")),
                ),
            }
        }
        if kinds.get_ref().is_empty() {
            ck.error(
                Some(kinds.span()),
                "[chaos] kinds is empty: no fault could strike",
                "name at least one kind, or leave `kinds` out for all of them",
            );
        }
        p.kinds = chosen;
    }
    if let Some(v) = &raw.min_stable
        && let Some(d) = ck.duration(v, "chaos.min_stable")
    {
        if d == SimDuration::ZERO {
            ck.error(
                Some(v.span()),
                "chaos.min_stable must be more than 0",
                "a fault needs time to be recovered from before the next; try \"5 s\"",
            );
        } else {
            p.min_stable = d;
        }
    }
    if let Some(v) = &raw.mean_interval
        && let Some(d) = ck.duration(v, "chaos.mean_interval")
    {
        if d < p.min_stable {
            ck.error(
                Some(v.span()),
                format!(
                    "chaos.mean_interval ({d}) is shorter than min_stable ({}): faults are at least min_stable apart",
                    p.min_stable
                ),
                "make mean_interval at least min_stable",
            );
        } else {
            p.mean_interval = d;
        }
    }
    if let Some(v) = &raw.until
        && let Some(d) = ck.duration(v, "chaos.until")
    {
        p.until = Some(SimTime::ZERO.plus(d));
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::parse_str;

    fn scenario(extra: &str) -> crate::scenario::Scenario {
        let text = format!(
            "name = \"c\"\n[checkpointing]\ninterval = \"1 s\"\n[[source]]\nname = \"s\"\nkind = \"generator\"\nrate = 1000\nduration = \"120 s\"\nfields.n = {{ kind = \"sequence\" }}\n[[sink]]\nname = \"out\"\ninput = \"s\"\n{extra}\n"
        );
        parse_str("c.toml", &text, None).unwrap_or_else(|d| panic!("{}", d.render()))
    }

    #[test]
    fn the_chaos_table_is_checked_with_positions() {
        let s = scenario(
            "[chaos]\nkinds = [\"straggler\"]\nmean_interval = \"30 s\"\nuntil = \"40 s\"",
        );
        assert_eq!(
            s.chaos,
            Some(ChaosProfile {
                kinds: vec![ChaosKind::Straggler],
                mean_interval: SimDuration::from_secs(30),
                min_stable: SimDuration::from_secs(5),
                until: Some(SimTime::ZERO.plus(SimDuration::from_secs(40))),
            })
        );
        let text = std::fmt::format(format_args!(
            "name = \"c\"\n[[source]]\nname = \"s\"\nkind = \"generator\"\nrate = 10\ncount = 100\n\
             fields.n = {{ kind = \"sequence\" }}\n[[sink]]\nname = \"o\"\ninput = \"s\"\n\
             [chaos]\nkinds = [\"meteor\"]\nmean_interval = \"1 s\"\n"
        ));
        let d = parse_str("c.toml", &text, None).unwrap_err();
        let shown = d.render();
        assert!(shown.contains("c.toml:12:10"), "{shown}");
        assert!(shown.contains("unknown fault kind `meteor`"), "{shown}");
        assert!(
            shown.contains("valid: kill_subtask, kill_task_manager"),
            "{shown}"
        );
        assert!(shown.contains("shorter than min_stable"), "{shown}");
    }
}
