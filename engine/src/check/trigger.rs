//! A window's `trigger` and `evictor`: Flink's triggers (event time, processing time, count,
//! continuous, never; optionally purging) and evictors (count, time).

use super::checker::Checker;
use crate::flink::window::trigger::{Evictor, Trigger, TriggerKind};
use crate::scenario::raw::{RawEvictor, RawTrigger};
use toml::Spanned as TSpanned;

/// A `trigger = { type = … }` table of a window with an end (`global`: a global window, where
/// a continuous event-time trigger never stops firing).
pub fn trigger(
    ck: &mut Checker,
    t: &TSpanned<RawTrigger>,
    global: bool,
    processing_time: bool,
) -> Option<Trigger> {
    let r = t.get_ref();
    let tkind = r.kind.get_ref().as_str();
    if !own_options(ck, r, tkind) {
        return None;
    }
    let kind = match r.kind.get_ref().as_str() {
        "event_time" => TriggerKind::EventTime,
        "processing_time" => TriggerKind::ProcessingTime,
        "count" => match &r.count {
            Some(c) if *c.get_ref() >= 1 => TriggerKind::Count(*c.get_ref() as u64),
            Some(c) => {
                ck.error(
                    Some(c.span()),
                    "a count trigger fires every `count` elements: at least 1",
                    "",
                );
                return None;
            }
            None => {
                ck.error(
                    Some(r.kind.span()),
                    "a count trigger needs `count`",
                    "count = 100",
                );
                return None;
            }
        },
        "continuous_event_time" => TriggerKind::ContinuousEventTime(interval(ck, r)?),
        "continuous_processing_time" => TriggerKind::ContinuousProcessingTime(interval(ck, r)?),
        "never" => TriggerKind::Never,
        other => {
            ck.error(
                Some(r.kind.span()),
                format!("unknown trigger `{other}`"),
                "expected event_time, processing_time, count, continuous_event_time, continuous_processing_time, never",
            );
            return None;
        }
    };
    if global && !processing_time && matches!(kind, TriggerKind::ContinuousEventTime(_)) {
        // Flink's ContinuousEventTimeTrigger on GlobalWindows: maxTimestamp is
        // Long.MAX_VALUE, so at the final watermark it fires and re-registers for ever.
        ck.warn(
            Some(t.span()),
            "a global window with a continuous event-time trigger never stops firing",
            "at the end of input the watermark becomes +∞ and the trigger fires again and again, \
             without end (in Flink too); streamlab stops such a run with an error. Give the window an end \
             (tumbling, sliding or session) or use a count trigger",
        );
    }
    Some(Trigger {
        kind,
        purging: r.purging.unwrap_or(false),
    })
}

/// Whether the trigger's options are its own (`count` for a count trigger, `interval` for a
/// continuous one; an unknown type is reported by the caller); reports the first that is not.
fn own_options(ck: &mut Checker, r: &RawTrigger, tkind: &str) -> bool {
    let takes: Option<&[&str]> = match tkind {
        "event_time" | "processing_time" | "never" => Some(&[]),
        "count" => Some(&["count"]),
        "continuous_event_time" | "continuous_processing_time" => Some(&["interval"]),
        _ => None, // unknown: reported below
    };
    if let Some(takes) = takes {
        for (k, span) in [
            ("count", r.count.as_ref().map(|v| v.span())),
            ("interval", r.interval.as_ref().map(|v| v.span())),
        ] {
            if let Some(span) = span
                && !takes.contains(&k)
            {
                ck.error(
                    Some(span),
                    format!("`{k}` is not an option of the {tkind} trigger"),
                    if takes.is_empty() {
                        format!("the {tkind} trigger takes no options but `purging`")
                    } else {
                        format!(
                            "the {tkind} trigger takes `{}` (and `purging`)",
                            takes.join("`, `")
                        )
                    },
                );
                return false;
            }
        }
    }
    true
}

/// The interval of a continuous trigger, in ms: positive.
fn interval(ck: &mut Checker, r: &RawTrigger) -> Option<i64> {
    match &r.interval {
        Some(i) => {
            let d = ck.duration(i, "interval")?;
            if d.is_zero() {
                ck.error(
                    Some(i.span()),
                    "the trigger interval must be more than zero",
                    "",
                );
                return None;
            }
            Some(d.as_millis() as i64)
        }
        None => {
            ck.error(
                Some(r.kind.span()),
                "a continuous trigger needs an `interval`",
                "interval = \"10 s\"",
            );
            None
        }
    }
}

/// An `evictor = { type = … }` table.
pub fn evictor(ck: &mut Checker, e: &TSpanned<RawEvictor>) -> Option<Evictor> {
    let r = e.get_ref();
    let ekind = r.kind.get_ref().as_str();
    for (k, span, owner) in [
        ("size", r.size.as_ref().map(|v| v.span()), "time"),
        ("count", r.count.as_ref().map(|v| v.span()), "count"),
    ] {
        if let Some(span) = span
            && matches!(ekind, "count" | "time")
            && ekind != owner
        {
            let takes = if ekind == "count" { "count" } else { "size" };
            ck.error(
                Some(span),
                format!("`{k}` is not an option of a {ekind} evictor"),
                format!("a {ekind} evictor takes `{takes}`; `{k}` belongs to a {owner} evictor"),
            );
            return None;
        }
    }
    match ekind {
        "count" => match &r.count {
            Some(c) if *c.get_ref() >= 1 => Some(Evictor::Count(*c.get_ref() as usize)),
            _ => {
                ck.error(
                    Some(r.kind.span()),
                    "a count evictor needs `count` of at least 1",
                    "count = 10",
                );
                None
            }
        },
        "time" => match &r.size {
            Some(s) => {
                let d = ck.duration(s, "evictor size")?;
                if d.is_zero() {
                    ck.error(
                        Some(s.span()),
                        "the evictor's size must be more than zero",
                        "",
                    );
                    return None;
                }
                Some(Evictor::Time(d.as_millis() as i64))
            }
            None => {
                ck.error(
                    Some(r.kind.span()),
                    "a time evictor needs `size`",
                    "size = \"10 s\"",
                );
                None
            }
        },
        other => {
            ck.error(
                Some(r.kind.span()),
                format!("unknown evictor `{other}`"),
                "expected count or time",
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check::testing;

    fn errors(opts: &str) -> String {
        let text = format!(
            "[[source]]\nname = \"a\"\nkind = \"inline\"\nevents = [{{ k = 1, t = 5 }}]\ntimestamp = \"t\"\nwatermarks = {{ strategy = \"monotonous\" }}\n[[operator]]\nname = \"by\"\nkind = \"key_by\"\ninput = \"a\"\nkey = \"k\"\n[[operator]]\nname = \"w\"\nkind = \"window\"\ninput = \"by\"\nfunction = \"count\"\n{opts}\n[[sink]]\nname = \"out\"\ninput = \"w\"\n"
        );
        testing::findings(&text)
    }

    #[test]
    fn triggers_take_their_own_options() {
        let e = errors(
            "window = { type = \"tumbling\", size = \"1 s\" }\ntrigger = { type = \"count\", interval = \"1 s\" }",
        );
        assert!(
            e.contains("`interval` is not an option of the count trigger"),
            "{e}"
        );
        let e = errors(
            "window = { type = \"tumbling\", size = \"1 s\" }\ntrigger = { type = \"continuous_event_time\" }",
        );
        assert!(
            e.contains("a continuous trigger needs an `interval`"),
            "{e}"
        );
        let e = errors(
            "window = { type = \"tumbling\", size = \"1 s\" }\ntrigger = { type = \"sometimes\" }",
        );
        assert!(e.contains("unknown trigger `sometimes`"), "{e}");
        let w = errors(
            "window = { type = \"global\" }\ntrigger = { type = \"continuous_event_time\", interval = \"1 s\" }",
        );
        assert!(
            w.contains("a global window with a continuous event-time trigger never stops firing"),
            "{w}"
        );
    }

    #[test]
    fn evictors_take_their_own_options() {
        let e = errors(
            "window = { type = \"global\" }\ntrigger = { type = \"count\", count = 2 }\nevictor = { type = \"time\", count = 2 }",
        );
        assert!(
            e.contains("`count` is not an option of a time evictor"),
            "{e}"
        );
        let e = errors(
            "window = { type = \"global\" }\ntrigger = { type = \"count\", count = 2 }\nevictor = { type = \"count\", count = 0 }",
        );
        assert!(
            e.contains("a count evictor needs `count` of at least 1"),
            "{e}"
        );
    }
}
