//! The trigger and evictor a window operator gets when the job does not set them, as Flink's
//! `WindowAssigner.getDefaultTrigger` and the `countWindow` shortcuts of `KeyedStream` decide:
//!
//! | assigner | default trigger |
//! |---|---|
//! | event-time tumbling / sliding / session windows | `EventTimeTrigger` |
//! | processing-time tumbling / sliding / session windows | `ProcessingTimeTrigger` |
//! | `GlobalWindows` | `NeverTrigger` (a global window fires only with a trigger of its own) |
//! | `countWindow(n)` | global windows with `PurgingTrigger.of(CountTrigger.of(n))` |
//! | `countWindow(n, slide)` | global windows with `CountTrigger.of(slide)` and `CountEvictor.of(n)` |

use super::Assigner;
use super::trigger::{Evictor, Trigger, TriggerKind};

/// The default trigger of `assigner` (`getDefaultTrigger`): time windows fire when their
/// end passes on their time axis (`processing_time` chooses the axis), the global window never.
pub fn default_trigger(assigner: &Assigner, processing_time: bool) -> TriggerKind {
    match assigner {
        Assigner::Global => TriggerKind::Never,
        _ if processing_time => TriggerKind::ProcessingTime,
        _ => TriggerKind::EventTime,
    }
}

/// The trigger and evictor of a `countWindow(size)` (`slide` `None`) or
/// `countWindow(size, slide)`: a tumbling count window fires and purges every `size`
/// elements; a sliding one fires every `slide` elements with the last `size` of them.
pub fn count_window(size: u64, slide: Option<u64>) -> (Trigger, Option<Evictor>) {
    match slide {
        None => (
            Trigger {
                kind: TriggerKind::Count(size),
                purging: true,
            },
            None,
        ),
        Some(slide) => (
            Trigger {
                kind: TriggerKind::Count(slide),
                purging: false,
            },
            Some(Evictor::Count(size as usize)),
        ),
    }
}

/// The trigger and evictor a window operator runs with: a count window's own (see
/// [`count_window`]), otherwise the job's trigger or the assigner's default (not purging),
/// and the job's evictor.
pub fn trigger_and_evictor(
    assigner: &Assigner,
    processing_time: bool,
    count: Option<(u64, Option<u64>)>,
    trigger: Option<Trigger>,
    evictor: Option<Evictor>,
) -> (Trigger, Option<Evictor>) {
    match count {
        Some((size, slide)) => count_window(size, slide),
        None => (
            trigger.unwrap_or(Trigger {
                kind: default_trigger(assigner, processing_time),
                purging: false,
            }),
            evictor,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_trigger_of_each_assigner_kind() {
        let tumbling = Assigner::Tumbling {
            size: 10,
            offset: 0,
        };
        let sliding = Assigner::Sliding {
            size: 10,
            slide: 5,
            offset: 0,
        };
        let session = Assigner::Session {
            gap: 10,
            dynamic: false,
        };
        let dynamic = Assigner::Session {
            gap: 0,
            dynamic: true,
        };
        use TriggerKind::*;
        let table = [
            (&tumbling, false, EventTime),
            (&tumbling, true, ProcessingTime),
            (&sliding, false, EventTime),
            (&sliding, true, ProcessingTime),
            (&session, false, EventTime),
            (&session, true, ProcessingTime),
            (&dynamic, false, EventTime),
            (&dynamic, true, ProcessingTime),
            (&Assigner::Global, false, Never),
            (&Assigner::Global, true, Never),
        ];
        for (assigner, processing_time, want) in table {
            assert_eq!(
                default_trigger(assigner, processing_time),
                want,
                "{assigner:?}, processing time: {processing_time}"
            );
        }
    }

    #[test]
    fn count_windows_are_global_windows_with_a_count_trigger() {
        assert_eq!(
            count_window(3, None),
            (
                Trigger {
                    kind: TriggerKind::Count(3),
                    purging: true
                },
                None
            ),
            "countWindow(3): PurgingTrigger.of(CountTrigger.of(3))"
        );
        assert_eq!(
            count_window(3, Some(1)),
            (
                Trigger {
                    kind: TriggerKind::Count(1),
                    purging: false
                },
                Some(Evictor::Count(3))
            ),
            "countWindow(3, 1): CountTrigger.of(1) with CountEvictor.of(3)"
        );
    }

    #[test]
    fn the_jobs_trigger_and_evictor_win_over_the_defaults() {
        let tumbling = Assigner::Tumbling {
            size: 10,
            offset: 0,
        };
        let own = Trigger {
            kind: TriggerKind::ContinuousEventTime(2),
            purging: true,
        };
        assert_eq!(
            trigger_and_evictor(&tumbling, false, None, Some(own), Some(Evictor::Time(5))),
            (own, Some(Evictor::Time(5)))
        );
        assert_eq!(
            trigger_and_evictor(&Assigner::Global, false, None, None, None),
            (
                Trigger {
                    kind: TriggerKind::Never,
                    purging: false
                },
                None
            )
        );
        assert_eq!(
            trigger_and_evictor(&Assigner::Global, false, Some((4, None)), None, None),
            count_window(4, None)
        );
    }
}
