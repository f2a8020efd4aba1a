//! Watermark generation at the sources (Flink's `WatermarkStrategy`).
//!
//! * Bounded out-of-orderness (`BoundedOutOfOrdernessWatermarks`): on every event
//!   `maxTs = max(maxTs, ts)`; the watermark is `maxTs − bound − 1`. Monotonous timestamps are
//!   bound 0.
//! * Emission is periodic — every `pipeline.auto-watermark-interval` of processing time,
//!   200 ms by default, 0 meaning never — or punctuated, after every event.
//! * `withIdleness(d)`: a source that produced nothing for `d` is marked idle at the next
//!   periodic probe, and active again with its next record. Flink calls `onPeriodicEmit` every
//!   auto-watermark interval for punctuated generators too, so a per-event generator with
//!   idleness still ticks at the interval — for the idleness probe only. With an interval of
//!   0 there are no probes, and idleness never takes effect.
//! * A watermark is emitted only if it is higher than the last one. A bounded source ends with
//!   the final watermark (`Long.MAX_VALUE`), which fires every remaining event-time window.

use crate::core::time::{EventTime, SimDuration, SimTime};

/// How watermarks are emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emission {
    /// Every interval of processing time; `None`: never (only the final watermark).
    Periodic(Option<SimDuration>),
    /// After every event (a punctuated generator). The interval is that of the periodic
    /// probes (`onPeriodicEmit`), which only check for idleness; `None`: no probes.
    PerEvent(Option<SimDuration>),
}

impl Emission {
    /// The period of `onPeriodicEmit`, if it is ever called.
    pub fn interval(self) -> Option<SimDuration> {
        match self {
            Emission::Periodic(d) | Emission::PerEvent(d) => d.filter(|d| !d.is_zero()),
        }
    }
}

/// The watermark strategy of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strategy {
    /// Allowed out-of-orderness in milliseconds (`None`: the source emits no watermarks but
    /// the final one — Flink's `noWatermarks()`).
    pub bound_ms: Option<i64>,
    /// When to emit.
    pub emission: Emission,
    /// `withIdleness`.
    pub idleness: Option<SimDuration>,
}

/// What the generator asks the source to emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emit {
    /// A watermark.
    Watermark(EventTime),
    /// The source is idle.
    Idle,
    /// The source is active again.
    Active,
}

/// One source subtask's generator.
#[derive(Debug, Clone)]
pub struct Generator {
    strategy: Strategy,
    max_ts: Option<EventTime>,
    last: EventTime,
    last_activity: SimTime,
    idle: bool,
    /// The next periodic emission.
    pub next_tick: Option<SimTime>,
}

impl Generator {
    /// A generator that has seen nothing.
    pub fn new(strategy: Strategy) -> Self {
        let next_tick = Self::tick_interval(&strategy).map(SimTime::at);
        Generator {
            strategy,
            max_ts: None,
            last: EventTime::MIN,
            last_activity: SimTime::ZERO,
            idle: false,
            next_tick,
        }
    }

    /// How often the generator needs a periodic probe: the interval of a periodic generator,
    /// or of a punctuated one with idleness (whose probes only check for idleness).
    fn tick_interval(strategy: &Strategy) -> Option<SimDuration> {
        match strategy.emission {
            Emission::Periodic(d) => d.filter(|d| !d.is_zero()),
            Emission::PerEvent(d) if strategy.idleness.is_some() => d.filter(|d| !d.is_zero()),
            Emission::PerEvent(_) => None,
        }
    }

    /// The last watermark emitted.
    pub fn last(&self) -> EventTime {
        self.last
    }

    /// The watermark the generator stands at now: the higher of the last one it emitted
    /// and the one its next periodic emission would send (`max − bound − 1`). `None` before
    /// the first event or without a bound (no watermarks but the final one). The baseline
    /// modes read it when their own schedule moves event time.
    pub fn current(&self) -> Option<EventTime> {
        Some(self.candidate()?.max(self.last))
    }

    /// Whether it emits after every event.
    pub fn per_event(&self) -> bool {
        matches!(self.strategy.emission, Emission::PerEvent(_)) && self.strategy.bound_ms.is_some()
    }

    fn candidate(&self) -> Option<EventTime> {
        let bound = self.strategy.bound_ms?;
        let m = self.max_ts?;
        Some(m.minus_millis(bound).minus_millis(1))
    }

    fn advance(&mut self) -> Option<Emit> {
        let c = self.candidate()?;
        if c > self.last {
            self.last = c;
            Some(Emit::Watermark(c))
        } else {
            None
        }
    }

    /// A record with timestamp `ts` was produced at `now`. Returns what to emit *before* the
    /// record (Active, if the source was idle) and *after* it (a punctuated watermark).
    pub fn on_event(&mut self, ts: EventTime, now: SimTime) -> (Option<Emit>, Option<Emit>) {
        let before = self.wake(now);
        (before, self.observe(ts, now))
    }

    /// Records are coming at `now`: Active if the source was idle.
    pub fn wake(&mut self, now: SimTime) -> Option<Emit> {
        self.last_activity = now;
        if self.idle {
            self.idle = false;
            Some(Emit::Active)
        } else {
            None
        }
    }

    /// A record with timestamp `ts` went out at `now`; returns a punctuated watermark, if any.
    pub fn observe(&mut self, ts: EventTime, now: SimTime) -> Option<Emit> {
        self.last_activity = now;
        if ts != EventTime::MIN {
            self.max_ts = Some(self.max_ts.map_or(ts, |m| m.max(ts)));
        }
        if self.per_event() {
            self.advance()
        } else {
            None
        }
    }

    /// Whether the source is marked idle.
    pub fn is_idle(&self) -> bool {
        self.idle
    }

    /// The periodic emission due at `tick` (call when `now >= next_tick`): an idleness probe,
    /// then the current watermark if it advanced.
    pub fn on_tick(&mut self, tick: SimTime) -> Option<Emit> {
        if let (Some(d), Some(t)) = (Self::tick_interval(&self.strategy), self.next_tick) {
            self.next_tick = Some(tick.next_multiple_of(d).max(t.plus(d)));
        }
        if let Some(idle_after) = self.strategy.idleness
            && !self.idle
            && tick.since(self.last_activity) >= idle_after
        {
            self.idle = true;
            return Some(Emit::Idle);
        }
        if self.idle || self.per_event() {
            return None;
        }
        self.advance()
    }

    /// The final watermark at end of input.
    pub fn on_end(&mut self) -> Emit {
        self.last = crate::core::time::EventTime::MAX;
        Emit::Watermark(EventTime::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event_time::ms as et;

    fn generator(bound: i64, emission: Emission, idleness: Option<SimDuration>) -> Generator {
        Generator::new(Strategy {
            bound_ms: Some(bound),
            emission,
            idleness,
        })
    }

    #[test]
    fn bounded_out_of_orderness_emits_max_minus_bound_minus_one() {
        let mut g = generator(500, Emission::PerEvent(None), None);
        assert_eq!(
            g.on_event(et(1000), SimTime::from_nanos(0)),
            (None, Some(Emit::Watermark(et(499))))
        );
        assert_eq!(
            g.on_event(et(800), SimTime::from_nanos(1)),
            (None, None),
            "not higher: suppressed"
        );
        assert_eq!(
            g.on_event(et(5600), SimTime::from_nanos(2)).1,
            Some(Emit::Watermark(et(5099)))
        );
        assert_eq!(g.on_end(), Emit::Watermark(EventTime::MAX));
    }

    #[test]
    fn periodic_emission_happens_on_ticks_only() {
        let ms = SimDuration::from_millis;
        let mut g = generator(0, Emission::Periodic(Some(ms(200))), None);
        assert_eq!(g.next_tick, Some(SimTime::from_nanos(200_000_000)));
        assert_eq!(g.on_event(et(10), SimTime::from_nanos(5)), (None, None));
        assert_eq!(
            g.on_tick(SimTime::from_nanos(200_000_000)),
            Some(Emit::Watermark(et(9)))
        );
        assert_eq!(g.next_tick, Some(SimTime::from_nanos(400_000_000)));
        assert_eq!(
            g.on_tick(SimTime::from_nanos(400_000_000)),
            None,
            "no new events, no new watermark"
        );
        // interval 0: never periodic
        let g = generator(0, Emission::Periodic(None), None);
        assert_eq!(g.next_tick, None);
    }

    #[test]
    fn idleness_is_detected_at_a_probe_and_ends_with_the_next_record() {
        let ms = SimDuration::from_millis;
        let mut g = generator(0, Emission::Periodic(Some(ms(200))), Some(ms(500)));
        g.on_event(et(10), SimTime::from_millis(100));
        assert_eq!(
            g.on_tick(SimTime::from_millis(200)),
            Some(Emit::Watermark(et(9)))
        );
        assert_eq!(
            g.on_tick(SimTime::from_millis(400)),
            None,
            "idle for 300 ms only"
        );
        assert_eq!(
            g.on_tick(SimTime::from_millis(600)),
            Some(Emit::Idle),
            "500 ms without records"
        );
        assert_eq!(g.on_tick(SimTime::from_millis(800)), None);
        assert_eq!(
            g.on_event(et(20), SimTime::from_millis(900)).0,
            Some(Emit::Active)
        );
    }

    #[test]
    fn no_watermarks_but_the_final_one() {
        let mut g = Generator::new(Strategy {
            bound_ms: None,
            emission: Emission::PerEvent(None),
            idleness: None,
        });
        assert_eq!(g.on_event(et(10), SimTime::from_nanos(0)), (None, None));
        assert_eq!(g.on_end(), Emit::Watermark(EventTime::MAX));
    }

    #[test]
    fn a_per_event_generator_with_idleness_probes_at_the_interval_for_idleness_only() {
        let ms = SimDuration::from_millis;
        let mut g = generator(0, Emission::PerEvent(Some(ms(200))), Some(ms(500)));
        assert_eq!(
            g.next_tick,
            Some(SimTime::from_millis(200)),
            "it ticks, like Flink's onPeriodicEmit"
        );
        assert_eq!(
            g.on_event(et(10), SimTime::from_millis(100)),
            (None, Some(Emit::Watermark(et(9))))
        );
        assert_eq!(
            g.on_tick(SimTime::from_millis(200)),
            None,
            "no watermark from a probe"
        );
        assert_eq!(g.on_tick(SimTime::from_millis(400)), None);
        assert_eq!(g.on_tick(SimTime::from_millis(600)), Some(Emit::Idle));
        assert_eq!(g.next_tick, Some(SimTime::from_millis(800)));
        assert_eq!(
            g.on_event(et(20), SimTime::from_millis(900)),
            (Some(Emit::Active), Some(Emit::Watermark(et(19))))
        );
        // without idleness there is nothing to probe
        let g = generator(0, Emission::PerEvent(Some(ms(200))), None);
        assert_eq!(g.next_tick, None);
        // with an interval of 0 there are no probes: idleness never takes effect
        let g = generator(0, Emission::PerEvent(None), Some(ms(500)));
        assert_eq!(g.next_tick, None);
        let g = generator(0, Emission::Periodic(None), Some(ms(500)));
        assert_eq!(g.next_tick, None);
    }

    #[test]
    fn bounded_out_of_orderness_table() {
        // (bound ms, event timestamps in arrival order, the watermark after each)
        let table: &[(i64, &[i64], &[i64])] = &[
            (0, &[10, 20, 15, 30], &[9, 19, 19, 29]),
            (5, &[10, 3, 12, 12], &[4, 4, 6, 6]),
            (1000, &[0, 500, 2500], &[-1001, -501, 1499]),
            // monotonous timestamps are bound 0: max − 1
            (0, &[1, 1, 2], &[0, 0, 1]),
        ];
        for &(bound, events, want) in table {
            let mut g = generator(bound, Emission::PerEvent(None), None);
            let got: Vec<_> = events
                .iter()
                .enumerate()
                .map(|(i, &ts)| {
                    g.on_event(et(ts), SimTime::from_nanos(i as u64));
                    g.current().expect("a watermark after an event").as_millis()
                })
                .collect();
            assert_eq!(got, want, "bound {bound}, events {events:?}");
            assert_eq!(g.last().as_millis(), *want.last().expect("events"));
        }
    }

    #[test]
    fn periodic_emission_table() {
        let ms = |m: u64| SimTime::from_millis(m);
        // Bound 100 ms, emitted every 200 ms: (processing time ms, Some(event) or a tick)
        // → what the generator emits at that moment.
        let steps: &[(u64, Option<i64>, Option<Emit>)] = &[
            (50, Some(1_000), None),
            (120, Some(1_400), None),
            (200, None, Some(Emit::Watermark(et(1_299)))),
            (300, Some(1_200), None),
            (400, None, None), // behind the maximum: nothing new
            (450, Some(2_000), None),
            (600, None, Some(Emit::Watermark(et(1_899)))),
            (800, None, None),
        ];
        let mut g = generator(
            100,
            Emission::Periodic(Some(SimDuration::from_millis(200))),
            None,
        );
        for &(at, event, want) in steps {
            let got = match event {
                Some(ts) => g.on_event(et(ts), ms(at)).1,
                None => {
                    assert_eq!(g.next_tick, Some(ms(at)), "ticks every 200 ms");
                    g.on_tick(ms(at))
                }
            };
            assert_eq!(got, want, "at {at} ms");
        }
        // between ticks the generator already stands at the next emission's watermark
        g.on_event(et(3_000), ms(850));
        assert_eq!((g.last(), g.current()), (et(1_899), Some(et(2_899))));
    }
}
