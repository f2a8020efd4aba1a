//! `[limits]` and what they will stop: the bounds of a run (simulated time, events, records,
//! memory), and the jobs that would hit them, announced before running.

use super::checker::Checker;
use crate::core::cost::{CHANNEL_MEMORY_BYTES, Limits, TASK_MEMORY_BYTES, human_bytes};
use crate::scenario::raw::RawLimits;
use crate::scenario::units::parse_size;
use crate::scenario::{JobConfig, NodeDef, NodeKind, Partitioner};
use toml::Spanned as TSpanned;

/// `[limits]`: the hard limits of a run.
pub fn limits(ck: &mut Checker, raw: Option<&TSpanned<RawLimits>>) -> Limits {
    let mut l = Limits::default();
    let Some(raw) = raw else { return l };
    let raw = raw.get_ref();
    if let Some(v) = &raw.max_sim_time
        && let Some(d) = ck.duration(v, "limits.max_sim_time")
    {
        l.max_sim_time = d;
    }
    if let Some(v) = &raw.max_events {
        if *v.get_ref() < 1 {
            ck.error(Some(v.span()), "limits.max_events must be at least 1", "");
        } else {
            l.max_events = *v.get_ref() as u64;
        }
    }
    if let Some(v) = &raw.max_records {
        if *v.get_ref() < 1 {
            ck.error(Some(v.span()), "limits.max_records must be at least 1", "");
        } else {
            l.max_records = *v.get_ref() as u64;
        }
    }
    if let Some(v) = &raw.max_memory {
        match parse_size(v.get_ref()) {
            Ok(0) => ck.error(
                Some(v.span()),
                "limits.max_memory must be more than zero",
                "",
            ),
            Ok(b) => l.max_memory = b,
            Err(e) => ck.error(
                Some(v.span()),
                format!("limits.max_memory: {e}"),
                "sizes look like \"512 mb\", \"4 gb\"",
            ),
        }
    }
    l
}

/// What `[limits]` will stop: an input with more records than `max_records` (and, when
/// it is large, how many records it holds), a job whose tasks and channels alone need
/// more than `max_memory`, and windows that put a record into millions of windows.
pub fn check_size(ck: &mut Checker, nodes: &[NodeDef], job: &JobConfig, limits: &Limits) {
    records(ck, nodes, limits);
    tasks_and_channels(ck, nodes, job, limits);
    windows_per_record(ck, nodes, limits);
}

/// An input with more records than `max_records` is announced (a large one too).
fn records(ck: &mut Checker, nodes: &[NodeDef], limits: &Limits) {
    let mut total = 0u64;
    let mut biggest: Option<(&NodeDef, u64)> = None;
    for n in nodes {
        if let NodeKind::Source(s) = &n.kind
            && let Some(r) = s.records()
        {
            total = total.saturating_add(r);
            if biggest.is_none_or(|(_, b)| r > b) {
                biggest = Some((n, r));
            }
        }
    }
    if let Some((src, _)) = biggest
        && total > limits.max_records / 5
    {
        let span = Some(src.span.start..src.span.start + 1);
        if total > limits.max_records {
            ck.warn(
                span,
                format!(
                    "the input holds {total} records, more than limits.max_records ({}): the run will stop there",
                    limits.max_records
                ),
                "shorten the input (repeat, count, duration or rate), or raise max_records in [limits]",
            );
        } else {
            ck.warn(
                span,
                format!("the input holds {total} records: a long run"),
                "streamlab simulates some 10 million records per second",
            );
        }
    }
}

/// A job whose tasks and channels alone need more than `max_memory` cannot run.
fn tasks_and_channels(ck: &mut Checker, nodes: &[NodeDef], job: &JobConfig, limits: &Limits) {
    let par = |n: &NodeDef| n.parallelism.as_ref().map_or(job.parallelism, |p| p.value);
    let mut tasks = 0u64;
    let mut channels = 0u64;
    let mut widest: Option<&NodeDef> = None;
    for n in nodes {
        if n.is_virtual() {
            continue;
        }
        let p = u64::from(par(n));
        tasks += p;
        if widest.is_none_or(|w| par(w) < par(n)) {
            widest = Some(n);
        }
        for i in &n.inputs {
            let up = u64::from(par(&nodes[i.node]));
            let forward = n
                .partitioner
                .as_ref()
                .is_some_and(|x| x.value == Partitioner::Forward)
                || (n.partitioner.is_none()
                    && up == p
                    && !matches!(nodes[i.node].kind, NodeKind::KeyBy { .. }));
            channels += if forward { p } else { up * p };
        }
    }
    let fixed = tasks * TASK_MEMORY_BYTES + channels * CHANNEL_MEMORY_BYTES;
    if fixed > limits.max_memory {
        let span = widest
            .and_then(|w| w.parallelism.as_ref().map(|p| p.span.clone()))
            .or(job.parallelism_span.clone())
            .or(widest.map(|w| w.span.clone()));
        ck.error(
            span,
            format!(
                "the job cannot fit in limits.max_memory ({}): its {tasks} tasks and {channels} network channels alone need about {}",
                human_bytes(limits.max_memory),
                human_bytes(fixed)
            ),
            "lower the parallelism (an all-to-all connection has upstream × downstream channels), or raise max_memory in [limits]",
        );
    }
}

/// Sliding windows that put each record into very many windows.
fn windows_per_record(ck: &mut Checker, nodes: &[NodeDef], limits: &Limits) {
    // Each window takes state (about 96 bytes in memory) when a record
    // of a key arrives.
    for n in nodes {
        if let NodeKind::Window(w) = &n.kind
            && let crate::flink::window::Assigner::Sliding { size, slide, .. } = w.assigner
            && slide > 0
            && size / slide > 100_000
        {
            let windows = (size / slide) as u64;
            if windows.saturating_mul(96) > limits.max_memory {
                ck.error(
                    Some(n.span.start..n.span.start + 1),
                    format!(
                        "every record of `{}` belongs to {windows} sliding windows (size / slide): the state of one record alone (about {}) cannot fit in limits.max_memory ({})",
                        n.name,
                        human_bytes(windows.saturating_mul(96)),
                        human_bytes(limits.max_memory)
                    ),
                    "make the slide larger or the window shorter",
                );
                continue;
            }
            ck.warn(
                Some(n.span.start..n.span.start + 1),
                format!(
                    "every record of `{}` belongs to {} sliding windows (size / slide): state and time grow with that for each record",
                    n.name,
                    size / slide
                ),
                "make the slide larger or the window shorter; the run stops at limits.max_memory",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check::testing;

    fn check(text: &str) -> String {
        testing::findings(text)
    }

    #[test]
    fn an_input_over_max_records_is_announced() {
        let w = check(
            "[limits]\nmax_records = 100\n[[source]]\nname = \"a\"\nkind = \"generator\"\ncount = 1000\nfields.k = { kind = \"sequence\" }\n[[sink]]\nname = \"out\"\ninput = \"a\"\n",
        );
        assert!(
            w.contains("the input holds 1000 records, more than limits.max_records (100)"),
            "{w}"
        );
    }

    #[test]
    fn tasks_and_channels_must_fit_in_max_memory() {
        let e = check(
            "[limits]\nmax_memory = \"1 mb\"\n[job]\nparallelism = 500\n[[source]]\nname = \"a\"\nkind = \"generator\"\ncount = 1000\nfields.k = { kind = \"sequence\" }\n[[sink]]\nname = \"out\"\ninput = \"a\"\nparallelism = 400\n",
        );
        assert!(e.contains("the job cannot fit in limits.max_memory"), "{e}");
        assert!(
            e.contains("its 900 tasks and 200000 network channels"),
            "{e}"
        );
    }

    #[test]
    fn limits_must_be_positive() {
        let e = check(
            "[limits]\nmax_events = 0\nmax_memory = \"0 mb\"\n[[source]]\nname = \"a\"\nkind = \"generator\"\ncount = 10\nfields.k = { kind = \"sequence\" }\n[[sink]]\nname = \"out\"\ninput = \"a\"\n",
        );
        assert!(e.contains("limits.max_events must be at least 1"), "{e}");
        assert!(
            e.contains("limits.max_memory must be more than zero"),
            "{e}"
        );
    }
}
