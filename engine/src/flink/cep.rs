//! Flink CEP's NFA for a sequence of steps, each taken a fixed number of times — the pure
//! rules, without records or state backends (the operator is `ops/pattern.rs`).
//!
//! Checked against Flink's sources (`flink-cep`: `nfa/NFA.java`, `pattern/Pattern.java`,
//! `pattern/Quantifier.java`, `operator/CepOperator.java`):
//!
//! - **Steps.** `begin` is step 0; every later step says how it follows the one before:
//!   `next` is *strict contiguity* (`ConsumingStrategy.STRICT`: the very next event of the key
//!   must match, otherwise the partial match is discarded), `followed_by` is *relaxed
//!   contiguity* (`SKIP_TILL_NEXT`: events that do not match are ignored; the first one that
//!   matches is taken, with no branch that skips it).
//! - **`times(n)`.** A step takes exactly `n` events. Between them the *inner* contiguity is
//!   relaxed by default (`Quantifier.innerConsumingStrategy = SKIP_TILL_NEXT`); `consecutive`
//!   makes it strict (`Quantifier.consecutive()`).
//! - **Start.** Every event that satisfies step 0's condition starts a new partial match
//!   (the NFA's start state is never consumed), so under `NO_SKIP` overlapping matches are all
//!   emitted: with `times(3)`, four failures give two matches.
//! - **`within`.** `NFA.isStateTimedOut`: a partial match (not the start state) is timed out
//!   when `timestamp - startTimestamp >= windowTime`; `advanceTime` removes it and reports it
//!   with the timestamp `startTimestamp + windowTime`. The operator advances time to each
//!   event's timestamp *before* giving it to the NFA, so an event exactly `within` after the
//!   first one cannot complete the match.
//! - **After-match skip.** `NO_SKIP` (Flink's default, `AfterMatchSkipStrategy.noSkip()`)
//!   keeps every other partial match; `SKIP_PAST_LAST_EVENT` discards every partial match —
//!   and every other completed match of the same event — whose start event is not after the
//!   match's last event (`SkipPastLastStrategy.shouldPrune`: `startEventID <= pruningId`).
//!   Matches of one event are taken earliest start first (`COMPUTATION_STATE_COMPARATOR`).
//!
//! Not modelled: `followedByAny` (`SKIP_TILL_ANY`, branching), `oneOrMore`, `optional`,
//! `times(from, to)`, `greedy`, `until`, `notNext`/`notFollowedBy`, iterative conditions
//! (conditions that read earlier events of the match), group patterns, and the skip strategies
//! `SKIP_TO_NEXT`, `SKIP_TO_FIRST`, `SKIP_TO_LAST`.

/// How a step follows the one before (or how the events of one step follow each other).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contiguity {
    /// `next` / `consecutive()`: the very next event must match.
    Strict,
    /// `followedBy` / the default between the events of `times(n)`: others are ignored.
    Relaxed,
}

/// What happens to other partial matches after a match (`AfterMatchSkipStrategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipStrategy {
    /// `noSkip()`, Flink's default: every partial match goes on.
    NoSkip,
    /// `skipPastLastEvent()`: partial matches that started at or before the match's last
    /// event are discarded.
    SkipPastLastEvent,
}

/// One step of a pattern (its condition lives with the caller, by index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Its name, as `Pattern.begin(name)` / `.next(name)`.
    pub name: String,
    /// How it follows the step before (ignored for step 0).
    pub contiguity: Contiguity,
    /// How many events it takes (`times(n)`; 1 without a quantifier).
    pub times: u32,
    /// How its events follow each other (`consecutive()`: strict).
    pub inner: Contiguity,
}

/// A pattern: steps, `within` (ms) and the after-match skip strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternDef {
    /// The steps, `begin` first.
    pub steps: Vec<Step>,
    /// `within(…)` in ms, if set.
    pub within: Option<i64>,
    /// The after-match skip strategy.
    pub skip: SkipStrategy,
}

/// A partial match (Flink's `ComputationState` with its events summarised): it has taken
/// `count` events of step `step` (fewer than the step's `times`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialMatch {
    /// The step it waits in.
    pub step: usize,
    /// Events of that step taken so far.
    pub count: u32,
    /// Sequence number (per key, in processing order) of its first event: Flink's start
    /// `EventId`.
    pub start_seq: u64,
    /// Timestamp of its first event.
    pub start_ts: i64,
    /// Timestamp of its latest event.
    pub last_ts: i64,
    /// Events taken.
    pub events: u32,
}

/// A completed match, or a timed-out partial one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchSummary {
    /// Timestamp of the first event.
    pub start_ts: i64,
    /// Timestamp of the last event.
    pub end_ts: i64,
    /// Number of events.
    pub events: u32,
    /// Sequence number of the first event.
    pub start_seq: u64,
}

impl PartialMatch {
    fn summary(&self) -> MatchSummary {
        MatchSummary {
            start_ts: self.start_ts,
            end_ts: self.last_ts,
            events: self.events,
            start_seq: self.start_seq,
        }
    }
}

/// The NFA state of one key (Flink's `NFAState`): its partial matches, earliest start first,
/// and the next event sequence number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NfaState {
    /// Partial matches, in start order.
    pub partial: Vec<PartialMatch>,
    /// The sequence number the next event gets.
    pub next_seq: u64,
}

/// What one event did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Processed {
    /// Matches completed, in emission order.
    pub matches: Vec<MatchSummary>,
    /// Whether the event started a partial match (the operator then registers a timer at
    /// `timestamp + within`, as `CepOperator.processEvent` does).
    pub started: bool,
}

impl NfaState {
    /// Whether it holds no partial match.
    pub fn is_empty(&self) -> bool {
        self.partial.is_empty()
    }

    /// `NFA.advanceTime`: removes the partial matches timed out at `ts` and returns them
    /// with their timeout timestamp (`start + within`).
    pub fn advance_time(&mut self, def: &PatternDef, ts: i64) -> Vec<(MatchSummary, i64)> {
        let Some(within) = def.within else {
            return Vec::new();
        };
        let mut out = Vec::new();
        self.partial.retain(|pm| {
            let timed_out = ts.saturating_sub(pm.start_ts) >= within;
            if timed_out {
                out.push((pm.summary(), pm.start_ts.saturating_add(within)));
            }
            !timed_out
        });
        out
    }

    /// `NFA.process` for one event at `ts`; `holds(i)` says whether the event satisfies
    /// step `i`'s condition (asked at most once per step).
    pub fn process(
        &mut self,
        def: &PatternDef,
        ts: i64,
        holds: &mut dyn FnMut(usize) -> bool,
    ) -> Processed {
        let seq = self.next_seq;
        self.next_seq += 1;
        let mut memo: Vec<Option<bool>> = vec![None; def.steps.len()];
        let mut cond = |i: usize| *memo[i].get_or_insert_with(|| holds(i));
        let mut kept = Vec::with_capacity(self.partial.len() + 1);
        let mut matches = Vec::new();
        let last = def.steps.len();
        for mut pm in std::mem::take(&mut self.partial) {
            let step = &def.steps[pm.step];
            let contiguity = if pm.count == 0 {
                step.contiguity
            } else {
                step.inner
            };
            if cond(pm.step) {
                pm.count += 1;
                pm.events += 1;
                pm.last_ts = ts;
                if pm.count == step.times {
                    pm.step += 1;
                    pm.count = 0;
                }
                if pm.step == last {
                    matches.push(pm.summary());
                } else {
                    kept.push(pm);
                }
            } else if contiguity == Contiguity::Relaxed {
                kept.push(pm);
            }
        }
        let started = cond(0);
        if started {
            let mut pm = PartialMatch {
                step: 0,
                count: 1,
                start_seq: seq,
                start_ts: ts,
                last_ts: ts,
                events: 1,
            };
            if def.steps[0].times == 1 {
                pm.step = 1;
                pm.count = 0;
            }
            if pm.step == last {
                matches.push(pm.summary());
            } else {
                kept.push(pm);
            }
        }
        matches.sort_by_key(|m| m.start_seq);
        if def.skip == SkipStrategy::SkipPastLastEvent && !matches.is_empty() {
            // Every match of this event ends at `seq`: the first one prunes all others.
            matches.truncate(1);
            kept.retain(|pm| pm.start_seq > seq);
        }
        self.partial = kept;
        Processed {
            matches,
            started: started && self.partial.iter().any(|p| p.start_seq == seq),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &str, contiguity: Contiguity, times: u32, inner: Contiguity) -> Step {
        Step {
            name: name.into(),
            contiguity,
            times,
            inner,
        }
    }

    /// `begin(a).times(n)` (relaxed inside), within, skip.
    fn times(n: u32, within: Option<i64>, skip: SkipStrategy) -> PatternDef {
        PatternDef {
            steps: vec![step("a", Contiguity::Relaxed, n, Contiguity::Relaxed)],
            within,
            skip,
        }
    }

    /// Runs events `(ts, letter)` in order: step i holds for letter `"abc…"[i]`; advances
    /// time to each timestamp first, as the operator does. Returns matches `(start, end)` and
    /// timeouts `(start, end, events, at)`.
    #[allow(clippy::type_complexity)]
    fn run(
        def: &PatternDef,
        events: &[(i64, char)],
    ) -> (Vec<(i64, i64)>, Vec<(i64, i64, u32, i64)>) {
        let mut nfa = NfaState::default();
        let (mut m, mut t) = (Vec::new(), Vec::new());
        let letters: Vec<char> = ('a'..='z').collect();
        for &(ts, c) in events {
            for (s, at) in nfa.advance_time(def, ts) {
                t.push((s.start_ts, s.end_ts, s.events, at));
            }
            let p = nfa.process(def, ts, &mut |i| letters[i] == c);
            m.extend(p.matches.iter().map(|x| (x.start_ts, x.end_ts)));
        }
        for (s, at) in nfa.advance_time(def, i64::MAX) {
            t.push((s.start_ts, s.end_ts, s.events, at));
        }
        (m, t)
    }

    #[test]
    fn times_is_relaxed_inside_and_no_skip_emits_overlapping_matches() {
        let def = times(3, None, SkipStrategy::NoSkip);
        // x between the a's is ignored (SKIP_TILL_NEXT inside times)
        let (m, _) = run(&def, &[(1, 'a'), (2, 'x'), (3, 'a'), (4, 'a'), (5, 'a')]);
        assert_eq!(m, vec![(1, 4), (3, 5)]);
    }

    #[test]
    fn consecutive_makes_times_strict() {
        let mut def = times(3, None, SkipStrategy::NoSkip);
        def.steps[0].inner = Contiguity::Strict;
        let (m, _) = run(&def, &[(1, 'a'), (2, 'x'), (3, 'a'), (4, 'a'), (5, 'a')]);
        assert_eq!(m, vec![(3, 5)], "the x breaks the match started at 1");
    }

    #[test]
    fn skip_past_last_event_discards_partial_matches_inside_the_match() {
        let def = times(3, None, SkipStrategy::SkipPastLastEvent);
        let (m, _) = run(
            &def,
            &[(1, 'a'), (2, 'a'), (3, 'a'), (4, 'a'), (5, 'a'), (6, 'a')],
        );
        assert_eq!(m, vec![(1, 3), (4, 6)]);
        let def = times(3, None, SkipStrategy::NoSkip);
        let (m, _) = run(&def, &[(1, 'a'), (2, 'a'), (3, 'a'), (4, 'a')]);
        assert_eq!(m, vec![(1, 3), (2, 4)]);
    }

    #[test]
    fn next_is_strict_and_followed_by_relaxed() {
        let strict = PatternDef {
            steps: vec![
                step("a", Contiguity::Relaxed, 1, Contiguity::Relaxed),
                step("b", Contiguity::Strict, 1, Contiguity::Relaxed),
            ],
            within: None,
            skip: SkipStrategy::NoSkip,
        };
        let events = [(1, 'a'), (2, 'x'), (3, 'b'), (4, 'a'), (5, 'b')];
        assert_eq!(run(&strict, &events).0, vec![(4, 5)]);
        let mut relaxed = strict.clone();
        relaxed.steps[1].contiguity = Contiguity::Relaxed;
        assert_eq!(run(&relaxed, &events).0, vec![(1, 3), (4, 5)]);
    }

    #[test]
    fn within_times_out_at_start_plus_within_and_the_bound_is_exclusive() {
        let def = times(3, Some(10), SkipStrategy::NoSkip);
        // 1, 5, 11: 11 - 1 >= 10, so the match from 1 times out before 11 is taken
        let (m, t) = run(&def, &[(1, 'a'), (5, 'a'), (11, 'a')]);
        assert!(m.is_empty(), "{m:?}");
        assert_eq!(t[0], (1, 5, 2, 11), "timed out with 2 events, at 1 + 10");
        // the partial matches from 5 and 11 time out at the end
        assert_eq!(t[1..], [(5, 11, 2, 15), (11, 11, 1, 21)]);
        let (m, _) = run(&def, &[(1, 'a'), (5, 'a'), (10, 'a')]);
        assert_eq!(m, vec![(1, 10)], "10 - 1 < 10");
    }

    #[test]
    fn a_pattern_without_within_never_times_out() {
        let def = times(2, None, SkipStrategy::NoSkip);
        let (m, t) = run(&def, &[(1, 'a'), (1000, 'x')]);
        assert!(m.is_empty() && t.is_empty());
    }

    #[test]
    fn a_step_condition_is_asked_once_per_event() {
        let def = times(3, None, SkipStrategy::NoSkip);
        let mut nfa = NfaState::default();
        for ts in 0..2 {
            nfa.process(&def, ts, &mut |_| true);
        }
        let mut asked = 0;
        nfa.process(&def, 3, &mut |_| {
            asked += 1;
            true
        });
        assert_eq!(asked, 1);
    }
}
