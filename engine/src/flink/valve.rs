//! Combining the watermarks of a task's input channels (Flink's `StatusWatermarkValve`).
//!
//! Every input channel carries its own watermark and status. A channel's watermark never goes
//! backwards (a lower one is ignored). An idle channel does not hold back the others. The
//! valve's output is the minimum over the active channels; it is emitted only when it
//! advances. When every channel is idle the output is idle too; when one becomes active again
//! the output is active.

use crate::core::time::EventTime;

/// What the valve tells the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValveOutput {
    /// The combined watermark advanced to this value.
    Watermark(EventTime),
    /// Every channel is idle.
    Idle,
    /// A channel became active after all were idle.
    Active,
}

/// Watermarks and statuses of the channels of one logical input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valve {
    watermarks: Vec<EventTime>,
    idle: Vec<bool>,
    /// The last watermark emitted.
    pub output: EventTime,
    /// Whether the output is idle.
    pub output_idle: bool,
}

impl Valve {
    /// A valve for `channels` channels, all active at the minimum watermark.
    pub fn new(channels: usize) -> Self {
        Valve {
            watermarks: vec![EventTime::MIN; channels],
            idle: vec![false; channels],
            output: EventTime::MIN,
            output_idle: false,
        }
    }

    /// The current watermark of each channel.
    pub fn channel_watermarks(&self) -> &[EventTime] {
        &self.watermarks
    }

    /// Whether each channel is idle.
    pub fn channel_idle(&self) -> &[bool] {
        &self.idle
    }

    /// A watermark arrived on channel `c`. Returns the new output if it advanced.
    pub fn watermark(&mut self, c: usize, wm: EventTime) -> Option<ValveOutput> {
        if wm <= self.watermarks[c] {
            return None; // never backwards on a channel
        }
        self.watermarks[c] = wm;
        if self.idle[c] {
            // Flink: a watermark from an idle channel is buffered; it counts once active.
            return None;
        }
        self.recompute()
    }

    /// Channel `c` became idle (`true`) or active again (`false`).
    pub fn status(&mut self, c: usize, idle: bool) -> Vec<ValveOutput> {
        if self.idle[c] == idle {
            return Vec::new();
        }
        self.idle[c] = idle;
        let mut out = Vec::new();
        if idle {
            if self.idle.iter().all(|i| *i) {
                if !self.output_idle {
                    self.output_idle = true;
                    out.push(ValveOutput::Idle);
                }
            } else if let Some(w) = self.recompute() {
                out.push(w);
            }
        } else {
            if self.output_idle {
                self.output_idle = false;
                out.push(ValveOutput::Active);
            }
            // A channel that comes back behind the output must not pull it backwards.
            if self.watermarks[c] < self.output {
                self.watermarks[c] = self.output;
            }
            if let Some(w) = self.recompute() {
                out.push(w);
            }
        }
        out
    }

    fn recompute(&mut self) -> Option<ValveOutput> {
        let min = self
            .watermarks
            .iter()
            .zip(&self.idle)
            .filter(|(_, i)| !**i)
            .map(|(w, _)| *w)
            .min()?;
        if min > self.output {
            self.output = min;
            Some(ValveOutput::Watermark(min))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event_time::ms;

    #[test]
    fn the_output_is_the_minimum_and_only_advances() {
        let mut v = Valve::new(2);
        assert_eq!(
            v.watermark(0, ms(10)),
            None,
            "channel 1 still at the minimum"
        );
        assert_eq!(v.watermark(1, ms(5)), Some(ValveOutput::Watermark(ms(5))));
        assert_eq!(v.watermark(1, ms(20)), Some(ValveOutput::Watermark(ms(10))));
        assert_eq!(
            v.watermark(0, ms(8)),
            None,
            "a channel's watermark never goes backwards"
        );
        assert_eq!(v.channel_watermarks(), &[ms(10), ms(20)]);
    }

    #[test]
    fn an_idle_channel_stops_holding_back_the_others() {
        let mut v = Valve::new(2);
        v.watermark(0, ms(100));
        assert_eq!(v.output, EventTime::MIN, "held back by channel 1");
        assert_eq!(v.status(1, true), vec![ValveOutput::Watermark(ms(100))]);
        assert_eq!(v.status(0, true), vec![ValveOutput::Idle]);
        // channel 1 comes back: active again, and it cannot pull the output back
        assert_eq!(v.status(1, false), vec![ValveOutput::Active]);
        assert_eq!(v.output, ms(100));
        assert_eq!(
            v.watermark(1, ms(150)),
            Some(ValveOutput::Watermark(ms(150))),
            "channel 0 is idle"
        );
    }

    /// One input to a valve: a watermark on a channel, or a channel's status.
    enum In {
        Wm(usize, i64),
        Idle(usize),
        Active(usize),
    }

    /// What the valve emits, with watermarks in milliseconds (so the table can be static).
    #[derive(Debug, PartialEq)]
    enum Out {
        W(i64),
        I,
        A,
    }

    /// An input and the outputs it gives.
    type Step = (In, &'static [Out]);

    #[test]
    fn valve_table() {
        use In::*;
        use Out::{A, I, W};
        // (channels, inputs with the outputs each one gives)
        let table: &[(usize, &[Step])] = &[
            // the minimum over channels, emitted only when it advances
            (
                3,
                &[
                    (Wm(0, 5), &[]),
                    (Wm(1, 7), &[]),
                    (Wm(2, 6), &[W(5)]),
                    (Wm(0, 9), &[W(6)]),
                    (Wm(2, 6), &[]),
                    (Wm(2, 4), &[]),
                    (Wm(2, 8), &[W(7)]),
                ],
            ),
            // an idle channel is left out of the minimum; back, it cannot pull it back
            (
                2,
                &[
                    (Wm(0, 10), &[]),
                    (Idle(1), &[W(10)]),
                    (Wm(0, 20), &[W(20)]),
                    (Active(1), &[]),
                    (Wm(1, 15), &[]),
                    (Wm(1, 25), &[]), // channel 0 holds it at 20
                    (Wm(0, 30), &[W(25)]),
                ],
            ),
            // every channel idle: the output is idle; one back: active again
            (
                2,
                &[
                    (Idle(0), &[]),
                    (Idle(1), &[I]),
                    (Idle(1), &[]),
                    (Wm(0, 3), &[]),
                    (Active(0), &[A, W(3)]),
                ],
            ),
        ];
        for (n, (channels, steps)) in table.iter().enumerate() {
            let mut v = Valve::new(*channels);
            for (k, (input, want)) in steps.iter().enumerate() {
                let got: Vec<ValveOutput> = match *input {
                    Wm(c, w) => v.watermark(c, ms(w)).into_iter().collect(),
                    Idle(c) => v.status(c, true),
                    Active(c) => v.status(c, false),
                };
                let got: Vec<Out> = got
                    .into_iter()
                    .map(|o| match o {
                        ValveOutput::Watermark(w) => W(w.as_millis()),
                        ValveOutput::Idle => I,
                        ValveOutput::Active => A,
                    })
                    .collect();
                assert_eq!(&got, want, "case {n}, step {k}");
            }
        }
    }
}
