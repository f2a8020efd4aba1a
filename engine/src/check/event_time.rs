//! Event time across the job: operators that wait for watermarks — event-time windows, joins,
//! process functions with event-time timers — need timestamps from every source they read
//! and, to act before the input ends, watermarks; processing-time timers need input that takes
//! time to arrive.

use super::checker::Checker;
use crate::flink::watermark::Emission;
use crate::flink::window::Assigner;
use crate::flink::window::trigger::TriggerKind;
use crate::scenario::{
    InputRef, JoinKind, NodeKind, ProcessFn, SourceSpec, Timestamps, WindowSpec,
};
use std::ops::Range;

/// What an operator that waits for event time needs, for messages: what it is, whether it
/// needs timestamps, and what waits for the watermark.
struct Needs {
    what: String,
    timestamps: bool,
    waits: String,
}

/// Event-time operators — windows, joins, process functions with event-time timers — need
/// timestamps and, to act before the input ends, watermarks; processing-time windows need
/// input that takes time to arrive. `names`: every node's name and where it is written.
pub fn check_event_time(
    ck: &mut Checker,
    names: &[(&str, Range<usize>)],
    inputs: &[Vec<InputRef>],
    kinds: &[Option<NodeKind>],
) {
    for (i, k) in kinds.iter().enumerate() {
        let (name, name_span) = &names[i];
        let needs = match k {
            Some(NodeKind::Window(w)) => window_needs(ck, w, i, names, inputs, kinds),
            Some(NodeKind::Join(j)) if j.kind == JoinKind::Regular => None,
            Some(NodeKind::Join(j)) => Some(match j.kind {
                JoinKind::Window(_) => Needs {
                    what: format!("window join `{name}`"),
                    timestamps: true,
                    waits: format!("the windows of the window join `{name}` will never fire"),
                },
                JoinKind::Interval { .. } | JoinKind::Regular => Needs {
                    what: format!("interval join `{name}`"),
                    timestamps: true,
                    waits: format!(
                        "the interval join `{name}` keeps every record buffered (and drops none as late)"
                    ),
                },
            }),
            Some(NodeKind::Process(p)) => Some(match p.function {
                ProcessFn::LongRideAlert { .. } => Needs {
                    what: format!(
                        "process function `{name}` (long_ride_alert, which uses event-time timers)"
                    ),
                    timestamps: true,
                    waits: format!("the event-time timers of `{name}` will never fire"),
                },
                ProcessFn::Pattern(_) => Needs {
                    what: format!("pattern `{name}` (CEP in event time)"),
                    timestamps: true,
                    waits: format!(
                        "the pattern `{name}` buffers every element until the watermark passes it: no match is ever emitted"
                    ),
                },
                // A Rust function may use processing time only: it needs no timestamps,
                // but if it has them, event-time timers wait for watermarks.
                ProcessFn::Custom { .. } => Needs {
                    what: String::new(),
                    timestamps: false,
                    waits: format!("the event-time timers of `{name}` will never fire"),
                },
            }),
            _ => None,
        };
        let Some(needs) = needs else { continue };
        let window = matches!(k, Some(NodeKind::Window(_)));
        for (n, s) in upstream_sources(i, inputs, kinds) {
            source_for(ck, &needs, window, name_span, names[n].0, s);
        }
    }
}

/// What a window needs: nothing from event time when it works in processing time or is a
/// global window that an event-time trigger fires only at the end. Processing-time timers of
/// a job whose sources deliver everything at one instant are announced.
fn window_needs(
    ck: &mut Checker,
    w: &WindowSpec,
    i: usize,
    names: &[(&str, Range<usize>)],
    inputs: &[Vec<InputRef>],
    kinds: &[Option<NodeKind>],
) -> Option<Needs> {
    let (name, name_span) = &names[i];
    let processing_timers = w.processing_time
        || w.trigger.is_some_and(|t| {
            matches!(
                t.kind,
                TriggerKind::ProcessingTime | TriggerKind::ContinuousProcessingTime(_)
            )
        });
    let sources = upstream_sources(i, inputs, kinds);
    if processing_timers && !sources.is_empty() && sources.iter().all(|(_, s)| s.is_instant()) {
        ck.warn(
            Some(name_span.clone()),
            format!("`{name}` uses processing-time timers, but its sources are bounded and have no `rate`"),
            "all input arrives at one instant and the job ends right after; processing-time timers still pending at the end never fire (Flink drops them), so these windows may never fire — give the sources a `rate` (or a `duration`)",
        );
    }
    if w.processing_time {
        return None;
    }
    // The global window ends at +∞: an event-time trigger fires it only with the final
    // watermark, whatever the records' timestamps (the batch-style "one result per key at the
    // end"); other triggers do not look at event time at all.
    if w.assigner == Assigner::Global
        && w.trigger
            .is_none_or(|t| !matches!(t.kind, TriggerKind::ContinuousEventTime(_)))
    {
        return None;
    }
    Some(Needs {
        what: format!("event-time window `{name}`"),
        timestamps: true,
        waits: format!("the event-time windows of `{name}` will never fire"),
    })
}

/// Checks one source an event-time operator reads: timestamps, and watermarks before the end.
fn source_for(
    ck: &mut Checker,
    needs: &Needs,
    window: bool,
    span: &Range<usize>,
    src: &str,
    s: &SourceSpec,
) {
    let span = Some(span.clone());
    if s.timestamps == Timestamps::None {
        if needs.timestamps {
            ck.error(
                span,
                format!(
                    "the {} reads records without timestamps from source `{src}`",
                    needs.what
                ),
                if window {
                    "set `timestamp` on the source (a field, or \"ingestion\"), or use time = \"processing\""
                } else {
                    "set `timestamp` on the source (a field, or \"ingestion\"): it works in event time"
                },
            );
        }
        return;
    }
    let (why, fix) = match &s.watermarks {
        None => (
            "emits no watermarks",
            "add `watermarks = { strategy = \"bounded\", max_out_of_orderness = \"…\" }` to the source",
        ),
        Some(w) if w.strategy.bound_ms.is_none() => (
            "emits no watermarks (strategy = \"none\")",
            "use strategy = \"bounded\" (with `max_out_of_orderness`) or \"monotonous\"",
        ),
        Some(w)
            if !matches!(w.strategy.emission, Emission::PerEvent(_))
                && w.strategy.emission.interval().is_none() =>
        {
            (
                "emits no watermark before the end of its input (its watermark interval is 0 ms)",
                "give the watermarks an `interval` more than zero, or emit = \"per_event\"",
            )
        }
        Some(_) => return,
    };
    ck.warn(
        span,
        format!(
            "source `{src}` {why}, so {} until the input ends",
            needs.waits
        ),
        fix,
    );
}

/// The sources a node reads through any path, in declaration order.
fn upstream_sources<'k>(
    node: usize,
    inputs: &[Vec<InputRef>],
    kinds: &'k [Option<NodeKind>],
) -> Vec<(usize, &'k SourceSpec)> {
    let mut sources = Vec::new();
    let mut stack = vec![node];
    let mut seen = vec![false; inputs.len()];
    while let Some(n) = stack.pop() {
        for r in &inputs[n] {
            if !seen[r.node] {
                seen[r.node] = true;
                if let Some(NodeKind::Source(s)) = &kinds[r.node] {
                    sources.push((r.node, s));
                }
                stack.push(r.node);
            }
        }
    }
    sources.sort_by_key(|(n, _)| *n);
    sources
}

#[cfg(test)]
mod tests {
    use crate::check::testing;

    fn check(text: &str) -> String {
        testing::findings(text)
    }

    const WINDOW: &str = "[[operator]]\nname = \"by\"\nkind = \"key_by\"\ninput = \"a\"\nkey = \"k\"\n[[operator]]\nname = \"w\"\nkind = \"window\"\ninput = \"by\"\nwindow = { type = \"tumbling\", size = \"1 s\" }\nfunction = \"count\"\n[[sink]]\nname = \"out\"\ninput = \"w\"\n";

    #[test]
    fn an_event_time_window_needs_timestamps_and_warns_without_watermarks() {
        let src = "[[source]]\nname = \"a\"\nkind = \"inline\"\nevents = [{ k = 1, t = 5 }]\n";
        let e = check(&format!("{src}{WINDOW}"));
        assert!(
            e.contains(
                "the event-time window `w` reads records without timestamps from source `a`"
            ),
            "{e}"
        );
        let w = check(&format!("{src}timestamp = \"t\"\n{WINDOW}"));
        assert!(w.contains("source `a` emits no watermarks, so the event-time windows of `w` will never fire until the input ends"), "{w}");
    }
}
