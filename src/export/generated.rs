//! Generated sources: the records streamlab's seeded generator draws, written out so that the
//! Flink job reads the same values. Each source subtask draws from its own random streams
//! (`source/NAME/SUBTASK/FIELD` of the run's seed tree) and its own share of `count`, so the
//! export asks the engine's source state for each subtask's records — the same code a run
//! uses — and writes them to `data/NAME.SUBTASK.tsv` with the event time in the last column.
//!
//! Event time of generated records is their birth minus the drawn delay. A paced source
//! (`rate`) births record k of a subtask at k / (rate / p) seconds whatever happens
//! downstream, so the timestamps are exact; an unpaced source births records when its CPU
//! gets to them, which only the simulation knows: such a job's event time depends on
//! processing time (the manifest says so).

use streamlab_engine::core::rng::SeedTree;
use streamlab_engine::core::time::{Pace, SimTime};
use streamlab_engine::core::value::{Interner, Value};
use streamlab_engine::flink::watermark::{Emission, Generator, Strategy};
use streamlab_engine::ops::batch::Batch;
use streamlab_engine::scenario::model::{NodeDef, SourceData, SourceSpec};
use streamlab_engine::sim::source::{SourceData as RtData, SourceState, field_gen};

/// Most generated records the export writes out (over all subtasks of a source): the
/// canonical job's 10 M, about 12 bytes each as text.
pub const MAX_RECORDS: u64 = 10_000_000;

/// What receives each drawn record: its subtask, its values, its event time (ms), and the
/// strings its values name.
pub type Each<'a> = dyn FnMut(u32, &[Value], i64, &Interner) + 'a;

/// Draws every record of a generated source with the run's `seed` and hands each to `each`
/// — its subtask, its values and its event time (ms) — subtask by subtask, in the order the
/// subtask emits them. Nothing is kept: the export writes them out as they come.
pub fn draw(
    n: &NodeDef,
    spec: &SourceSpec,
    parallelism: u32,
    seed: u64,
    strings: &mut Interner,
    each: &mut Each<'_>,
) -> Result<(), String> {
    let SourceData::Generator {
        count,
        duration,
        fields,
        delay,
    } = &spec.data
    else {
        return Err("not a generated source".into());
    };
    let Some(records) = spec.records() else {
        return Err("an unbounded generated source (no count, no duration with a rate) cannot be written out".into());
    };
    if records > MAX_RECORDS {
        return Err(format!(
            "{records} generated records are too many to write out (the export's limit is {MAX_RECORDS}); lower its `count` in a copy of the file"
        ));
    }
    let seeds = SeedTree::new(seed);
    let gens: Vec<_> = fields.iter().map(|g| field_gen(g, strings)).collect();
    let p = parallelism.max(1);
    let arity = n.schema.arity();
    for st in 0..p {
        let total = count.map(|c| c / u64::from(p) + u64::from(u64::from(st) < c % u64::from(p)));
        let mut state = SourceState {
            data: RtData::Generated {
                fields: gens.clone(),
                delay: *delay,
                rngs: (0..=gens.len())
                    .map(|f| seeds.stream(&format!("source/{}/{st}/{f}", n.name)))
                    .collect(),
            },
            emitted: 0,
            total,
            until: duration.map(SimTime::at),
            open_until: None,
            pace: spec.rate.map(|r| Pace::per_sec(r / f64::from(p))),
            subtask: st,
            parallelism: p,
            row: vec![Value::Int(0); arity],
            watermarks: Generator::new(Strategy {
                bound_ms: None,
                emission: Emission::Periodic(None),
                idleness: None,
            }),
            paused: false,
            stopped: false,
            more: Vec::new(),
            followed: None,
        };
        let mut drawn = 0u64;
        loop {
            let mut batch = Batch::new(arity);
            // Paced: every record due by the end of time; unpaced: all born at time zero.
            let now = if state.pace.is_some() {
                SimTime::MAX
            } else {
                SimTime::ZERO
            };
            state.fill(now, 4096, &mut batch);
            if batch.is_empty() {
                break;
            }
            for (k, m) in batch.meta.iter().enumerate() {
                each(
                    st,
                    &batch.values[k * arity..(k + 1) * arity],
                    m.ts.as_millis(),
                    strings,
                );
            }
            drawn += batch.meta.len() as u64;
            if drawn > MAX_RECORDS {
                return Err("the generated source does not end".into());
            }
        }
    }
    Ok(())
}
