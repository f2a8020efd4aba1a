//! The oracle of [`WindowOp::add_quick`]: the same records and watermarks through an
//! operator that takes the quick path and one that does not must emit the same results and
//! late elements, count the same and hold the same windows.

use super::*;
use crate::core::value::{Interner, Schema, Type};
use crate::expr::{Scope, compile};
use proptest::prelude::*;

/// One step of a run: a batch of `(key, value, timestamp)` records, then a watermark.
type Step = (Vec<(i64, i64, i64)>, i64);

fn config(
    i: &mut Interner,
    agg: u8,
    lateness: i64,
    side_output: bool,
    offset: i64,
    evictor: Option<Evictor>,
) -> WindowConfig {
    let s = Schema::new([("k", Type::Int), ("v", Type::Int)]);
    let key = compile("k", &Scope::Record(&s), i).unwrap();
    let agg = match agg {
        0 => WindowAgg::Sum(1),
        1 => WindowAgg::Count,
        2 => WindowAgg::Max(1),
        _ => {
            let scope = Scope::Reduce { acc: &s, cur: &s };
            WindowAgg::Reduce(vec![(1, compile("acc.v * 2 + v", &scope, i).unwrap())])
        }
    };
    WindowConfig {
        key,
        assigner: Assigner::Tumbling { size: 100, offset },
        gap: None,
        processing_time: false,
        trigger: Trigger {
            kind: TriggerKind::EventTime,
            purging: false,
        },
        evictor,
        allowed_lateness: lateness,
        agg,
        side_output,
        input_arity: 2,
        with_bounds: true,
        with_key: true,
    }
}

/// Everything the operator emitted and holds at the end, as text.
fn run(
    cfg: WindowConfig,
    quick: bool,
    annotate: bool,
    max_windows: usize,
    steps: &[Step],
    i: &mut Interner,
) -> String {
    let mut op = WindowOp::new(cfg, annotate);
    op.quick = quick;
    op.max_windows = max_windows;
    let (mut scratch, mut err) = (String::new(), None);
    let mut ev = EvalCx {
        interner: i,
        scratch: &mut scratch,
        error: &mut err,
    };
    let mut seen = String::new();
    for (n, (records, wm)) in steps.iter().enumerate() {
        let mut input = Batch::new(2);
        for (k, v, ts) in records {
            input.values.extend([Value::Int(*k), Value::Int(*v)]);
            input.meta.push(RecMeta {
                ts: EventTime::from_millis(*ts),
                born: SimTime::from_millis(n as u64),
            });
        }
        let (mut out, mut side) = (Batch::new(5), Batch::new(2));
        op.process(input.view(), &mut out, &mut side, &mut ev);
        op.advance_watermark(EventTime::from_millis(*wm), &mut out, &mut ev);
        seen += &format!(
            "{out:?}\n{side:?}\n{:?} {}\n",
            op.stats,
            op.windows_in_state()
        );
    }
    let mut out = Batch::new(5);
    op.advance_watermark(EventTime::MAX, &mut out, &mut ev);
    seen + &format!(
        "{out:?}\n{:?} {:?} {}\n{:#?}",
        op.stats,
        op.failure,
        op.windows_in_state(),
        op.log
    )
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    // Timestamps around a clock that moves forward with the watermark, some of them behind
    // it (late, within the allowed lateness or not); few keys, so windows are found again.
    prop::collection::vec(
        (
            prop::collection::vec((0..6i64, -50..50i64, -150..250i64), 0..40),
            0..120i64,
        ),
        1..12,
    )
    .prop_map(|raw| {
        let mut clock = 0;
        raw.into_iter()
            .map(|(records, advance)| {
                let records = records
                    .into_iter()
                    .map(|(k, v, d)| (k, v, clock + d))
                    .collect();
                clock += advance;
                (records, clock)
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_quick_path_emits_and_holds_what_the_general_path_does(
        steps in steps(),
        agg in 0u8..4,
        lateness in prop::sample::select(vec![0i64, 30, 1000]),
        side_output in any::<bool>(),
        offset in 0i64..100,
        max_windows in prop::sample::select(vec![3usize, 8, usize::MAX]),
        annotate in any::<bool>(),
        evictor in prop::sample::select(vec![
            None,
            Some(Evictor::Count(2)),
            Some(Evictor::Time(30)),
        ]),
    ) {
        let mut i = Interner::new();
        let general = config(&mut i, agg, lateness, side_output, offset, evictor);
        let quick = general.clone();
        let general = run(general, false, annotate, max_windows, &steps, &mut i);
        let quick = run(quick, true, annotate, max_windows, &steps, &mut i);
        prop_assert_eq!(quick, general);
    }
}
