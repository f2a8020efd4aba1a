//! Flink CEP's NFA — the pure rules, without records or state backends (the operator is
//! `ops/pattern.rs`).
//!
//! A pattern is compiled into Flink's state graph as `NFACompiler` builds it, and run as
//! `NFA.process` / `NFA.advanceTime` run it (checked in Flink's sources, `flink-cep`:
//! `nfa/compiler/NFACompiler.java`, `nfa/NFA.java`, `nfa/aftermatch/*`, `pattern/Pattern.java`,
//! `pattern/Quantifier.java`), and compared with Flink 2.3 itself on the recorded cases of
//! `tests/flink-golden-cep/`.
//!
//! **The graph.** Compiled from the last step back to the first, every step becomes states
//! whose edges are `TAKE` (consume the event, move on), `IGNORE` (skip the event, stay) and
//! `PROCEED` (an ε-move, taken with the *same* event). A step's outer contiguity sets the
//! `IGNORE` edge of its first state: `next` (`STRICT`) has none, `followed_by`
//! (`SKIP_TILL_NEXT`) ignores events that do *not* satisfy the step, `followed_by_any`
//! (`SKIP_TILL_ANY`) ignores every event — also the ones it takes, so a partial match
//! branches (one branch takes the event, one does not). A quantifier's *inner* contiguity
//! (`consecutive`: strict; default: skip-till-next; `allow_combinations`: skip-till-any) sets
//! the edges between its own events.
//!
//! - `times = n`: `n` states in a row; `times = [from, to]`: `from` mandatory states, then
//!   `to - from` optional ones, each with a `PROCEED` edge out of the step
//!   (`createTimesState`); `times = [0, to]` is `times(1, to).optional()`, as Flink's.
//! - `one_or_more` / `times_or_more = n`: `n` states, the last one looping (`TAKE` to itself,
//!   `PROCEED` out of the step, `createLooping`). `until` ends the loop: an event satisfying
//!   it is never taken by the loop (`extendWithUntilCondition`).
//! - `optional`: the step's first state also has a `PROCEED` edge past the step.
//! - `greedy`: the loop's `PROCEED` edge holds only when the event is *not* taken by the loop,
//!   and the next step may only take events the loop does not (`updateWithGreedyCondition`).
//! - `not_next`: a state that proceeds to the next step if the very next event does not
//!   satisfy it and to a *stop* state if it does; at the end of a pattern its edge to the
//!   final state is an `IGNORE`, so the match completes on the next event that does not
//!   satisfy it. `not_followed_by`: no state of its own — every state between it and the next
//!   step gets a `PROCEED` edge to a stop state (`addStopStates`, `addStopStateToLooping`);
//!   at the end of a pattern (which needs `within`) a *pending* state waits until `within`
//!   has passed and then completes the match. A partial match that reaches a stop state is
//!   discarded with every branch made from it by the same event (matches found by that
//!   event are still emitted).
//!
//! **Running.** Every event is given to every partial match (Flink's `ComputationState`)
//! and to the start state (never consumed: every event that satisfies the first step starts
//! a new partial match). From each, the edges the event satisfies are collected,
//! following `PROCEED` edges depth first (`createDecisionGraph`); each `TAKE` and `IGNORE`
//! edge makes one new partial match (an `IGNORE` never from the start state). After a `TAKE`,
//! a partial match that can reach the final state by `PROCEED` edges holding for the same
//! event is a match too (`findFinalStateAfterProceed`). One partial match is one path, so it
//! carries its events here instead of Flink's shared buffer (which versions paths with
//! Dewey numbers to the same effect).
//!
//! **`within`.** `NFA.isStateTimedOut`: a partial match (not the start state) is timed out
//! when `timestamp - startTimestamp >= windowTime`; `advanceTime` removes it and reports it
//! with the timestamp `startTimestamp + windowTime` (a pending `not_followed_by` completes
//! instead). The operator advances time to each event's timestamp *before* giving it to the
//! NFA, so an event exactly `within` after the first one cannot complete a match.
//!
//! **After-match skip.** `no_skip` (Flink's default) emits every match at once and keeps
//! every partial match. Every other strategy (`AfterMatchSkipStrategy.isSkipStrategy`)
//! holds completed matches back while a partial match that started earlier is still open
//! (`processMatchesAccordingToSkipStrategy`, ordered by start event), then emits the
//! earliest and discards the partial matches and held matches that start before its
//! *pruning event*: `skip_to_next` — at or before the match's first event;
//! `skip_past_last_event` — at or before its last event; `skip_to_first = "s"` /
//! `skip_to_last = "s"` — strictly before the first / last event the match took for step `s`
//! (no pruning if it took none).
//!
//! Not modelled: iterative conditions (a condition reading earlier events of the match),
//! group patterns, `within` between consecutive events (`WithinType.PREVIOUS_AND_CURRENT`).

use std::collections::BTreeMap;

/// How a step follows the one before (or how the events of one step follow each other).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contiguity {
    /// `next` / `consecutive()` (`STRICT`): the very next event must match.
    Strict,
    /// `followedBy` / the default inside a quantifier (`SKIP_TILL_NEXT`): events that do not
    /// match are ignored; one that matches is taken.
    Relaxed,
    /// `followedByAny` / `allowCombinations()` (`SKIP_TILL_ANY`): every event may also be
    /// ignored, so a partial match branches on each one that matches.
    NonDeterministic,
}

/// What happens to other partial matches after a match (`AfterMatchSkipStrategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipStrategy {
    /// `noSkip()`, Flink's default: every partial match goes on.
    NoSkip,
    /// `skipToNext()`: partial matches that started with the match's first event (or before)
    /// are discarded.
    SkipToNext,
    /// `skipPastLastEvent()`: partial matches that started at or before the match's last
    /// event are discarded.
    SkipPastLastEvent,
    /// `skipToFirst(step)`: partial matches that started before the first event the match
    /// took for the step (by index) are discarded.
    SkipToFirst(usize),
    /// `skipToLast(step)`: …before the last event it took for the step.
    SkipToLast(usize),
}

/// A quantifier-less step (`times = 1`, not optional, not greedy).
impl Default for Step {
    fn default() -> Self {
        Step {
            name: String::new(),
            contiguity: Contiguity::Relaxed,
            negated: false,
            times: 1,
            max: Some(1),
            inner: Contiguity::Relaxed,
            optional: false,
            greedy: false,
            until: None,
        }
    }
}

/// One step of a pattern. Its condition lives with the caller: condition `i` is step `i`'s
/// `where`; `until` names another condition by index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Its name, as `Pattern.begin(name)` / `.next(name)`.
    pub name: String,
    /// How it follows the step before (ignored for step 0): for a negated step, `Strict` is
    /// `notNext` and the others `notFollowedBy`.
    pub contiguity: Contiguity,
    /// `notNext` / `notFollowedBy`: the step must *not* happen.
    pub negated: bool,
    /// How many events it takes at least (`times(n)`, `times(from, to)`, `timesOrMore(n)`;
    /// 1 without a quantifier and for `oneOrMore`).
    pub times: u32,
    /// How many at most: `Some(times)` for exactly, `None` for a loop (`oneOrMore`,
    /// `timesOrMore`).
    pub max: Option<u32>,
    /// How its events follow each other (`consecutive()`: strict; `allowCombinations()`:
    /// non-deterministic).
    pub inner: Contiguity,
    /// `optional()`: the step may take no event.
    pub optional: bool,
    /// `greedy()`: the loop takes every event it can before the next step may.
    pub greedy: bool,
    /// `until(condition)`: the condition (by index) that ends a loop.
    pub until: Option<usize>,
}

impl Step {
    fn not_followed_by(&self) -> bool {
        self.negated && self.contiguity != Contiguity::Strict
    }
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

impl PatternDef {
    /// The rules Flink's `Pattern` builder and `NFACompiler` check, with Flink's messages:
    /// `Err((step, message))` names the offending step (`None`: the whole pattern).
    pub fn validate(&self) -> Result<(), (Option<usize>, String)> {
        let Some(first) = self.steps.first() else {
            return Err((None, "a pattern needs at least one step".into()));
        };
        if first.negated {
            return Err((Some(0), "the first step cannot be a NOT pattern".into()));
        }
        for (i, s) in self.steps.iter().enumerate() {
            if self.steps[..i].iter().any(|p| p.name == s.name) {
                return Err((
                    Some(i),
                    format!("Duplicate pattern name: {}. Names must be unique.", s.name),
                ));
            }
            let quantified = s.times != 1 || s.max != Some(1) || s.optional || s.greedy;
            if s.negated && (quantified || s.until.is_some() || s.inner != Contiguity::Relaxed) {
                return Err((Some(i), "Option not applicable to NOT pattern".into()));
            }
            if s.negated && i > 0 && self.steps[i - 1].optional {
                return Err((
                    Some(i),
                    "Specifying a pattern with an optional path to NOT condition is not supported yet"
                        .into(),
                ));
            }
            if s.until.is_some() && s.max.is_some() {
                return Err((
                    Some(i),
                    "The until condition is only applicable to looping states.".into(),
                ));
            }
            if s.max.is_some_and(|m| m < s.times) || s.times == 0 {
                return Err((
                    Some(i),
                    "times: from must be at least 1 and at most to".into(),
                ));
            }
            if s.inner != Contiguity::Relaxed && s.max == Some(1) && s.times == 1 {
                return Err((
                    Some(i),
                    "Combination with consecutive() is only applicable to looping or times patterns"
                        .into(),
                ));
            }
            if s.greedy && s.max == Some(s.times) {
                return Err((
                    Some(i),
                    "greedy applies to a step that takes a varying number of events".into(),
                ));
            }
        }
        let last = &self.steps[self.steps.len() - 1];
        if last.not_followed_by() && self.within.is_none() {
            return Err((
                Some(self.steps.len() - 1),
                "NotFollowedBy is not supported without windowTime as a last part of a Pattern!"
                    .into(),
            ));
        }
        if let SkipStrategy::SkipToFirst(s) | SkipStrategy::SkipToLast(s) = self.skip
            && s >= self.steps.len()
        {
            return Err((
                None,
                "The pattern name specified in AfterMatchSkipStrategy does not exist".into(),
            ));
        }
        Ok(())
    }
}

/// An edge condition over the event: conditions by index, combined.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cond {
    True,
    Is(usize),
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
}

impl Cond {
    fn not(c: Cond) -> Cond {
        Cond::Not(Box::new(c))
    }

    fn and(a: Cond, b: Cond) -> Cond {
        Cond::And(Box::new(a), Box::new(b))
    }

    fn holds(&self, c: &mut dyn FnMut(usize) -> bool) -> bool {
        match self {
            Cond::True => true,
            Cond::Is(i) => c(*i),
            Cond::Not(x) => !x.holds(c),
            Cond::And(a, b) => a.holds(c) && b.holds(c),
            Cond::Or(a, b) => a.holds(c) || b.holds(c),
        }
    }
}

/// `StateTransitionAction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Take,
    Ignore,
    Proceed,
}

/// `State.StateType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Start,
    Normal,
    Final,
    Stop,
    Pending,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Edge {
    action: Action,
    target: usize,
    cond: Cond,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct State {
    /// The step it belongs to (what an event it takes is recorded as).
    step: usize,
    kind: Kind,
    edges: Vec<Edge>,
}

/// A compiled pattern: Flink's `NFA` states, `within` and the skip strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nfa {
    states: Vec<State>,
    start: usize,
    within: Option<i64>,
    skip: SkipStrategy,
}

/// `NFACompiler.NFAFactoryCompiler`, for a pattern that passed [`PatternDef::validate`].
struct Compiler<'a> {
    steps: &'a [Step],
    states: Vec<State>,
    /// Stop states by the step of their NOT pattern (`stopStates`, one per name).
    stops: BTreeMap<usize, usize>,
    /// `originalStateMap`: a greedy loop's sink → its copy before the greedy conditions.
    original: BTreeMap<usize, usize>,
    cur: usize,
    following: Option<usize>,
}

impl Compiler<'_> {
    fn state(&mut self, step: usize, kind: Kind) -> usize {
        self.states.push(State {
            step,
            kind,
            edges: Vec::new(),
        });
        self.states.len() - 1
    }

    fn edge(&mut self, from: usize, action: Action, target: usize, cond: Cond) {
        self.states[from].edges.push(Edge {
            action,
            target,
            cond,
        });
    }

    fn step(&self) -> &Step {
        &self.steps[self.cur]
    }

    fn ignore_cond(&self, how: Contiguity) -> Option<Cond> {
        match how {
            Contiguity::Strict => None,
            Contiguity::Relaxed => Some(Cond::not(Cond::Is(self.cur))),
            Contiguity::NonDeterministic => Some(Cond::True),
        }
    }

    /// `extendWithUntilCondition`.
    fn with_until(&self, c: Option<Cond>) -> Option<Cond> {
        match (self.step().until, c) {
            (Some(u), Some(c)) => Some(Cond::and(Cond::not(Cond::Is(u)), c)),
            (_, c) => c,
        }
    }

    fn take_cond(&self) -> Cond {
        self.with_until(Some(Cond::Is(self.cur)))
            .unwrap_or(Cond::True)
    }

    fn stop_state(&mut self, not_step: usize) -> usize {
        if let Some(&s) = self.stops.get(&not_step) {
            return s;
        }
        let s = self.state(not_step, Kind::Stop);
        self.edge(s, Action::Take, s, Cond::Is(not_step));
        self.stops.insert(not_step, s);
        s
    }

    /// `getCurrentNotCondition`: the `not_followed_by` steps just before the current one,
    /// looking back over optional steps.
    fn current_nots(&self) -> Vec<usize> {
        let mut out = Vec::new();
        let mut p = self.cur;
        while p > 0 && (self.steps[p - 1].optional || self.steps[p - 1].not_followed_by()) {
            p -= 1;
            if self.steps[p].not_followed_by() {
                out.push(p);
            }
        }
        out
    }

    /// `addStopStates`.
    fn add_stop_states(&mut self, s: usize) {
        for n in self.current_nots() {
            let stop = self.stop_state(n);
            self.edge(s, Action::Proceed, stop, Cond::Is(n));
        }
    }

    /// `addStopStateToLooping`: a `not_followed_by` right after the step.
    fn add_stop_to_looping(&mut self, s: usize) {
        if let Some(f) = self.following
            && self.steps[f].not_followed_by()
        {
            let stop = self.stop_state(f);
            self.edge(s, Action::Proceed, stop, Cond::Is(f));
        }
    }

    /// `copyWithoutTransitiveNots`: for an optional step, a copy of the sink without the
    /// stop edges of the `not_followed_by` steps before it (once an event is taken they no
    /// longer apply).
    fn copy_without_transitive_nots(&mut self, sink: usize) -> usize {
        let nots = self.current_nots();
        if nots.is_empty() || !self.step().optional {
            return sink;
        }
        let copy = self.state(self.states[sink].step, self.states[sink].kind);
        for e in self.states[sink].edges.clone() {
            if e.action == Action::Proceed {
                let t = &self.states[e.target];
                if t.kind == Kind::Stop {
                    if nots.contains(&t.step) {
                        continue;
                    }
                    self.edge(copy, e.action, e.target, e.cond);
                } else {
                    let target = self.copy_without_transitive_nots(e.target);
                    self.edge(copy, e.action, target, e.cond);
                }
            } else {
                self.edge(copy, e.action, e.target, e.cond);
            }
        }
        copy
    }

    /// `copy`: a state with the same edges (a self-loop loops on the copy).
    fn copy(&mut self, s: usize) -> usize {
        let copy = self.state(self.states[s].step, self.states[s].kind);
        for e in self.states[s].edges.clone() {
            let target = if e.target == s { copy } else { e.target };
            self.edge(copy, e.action, target, e.cond);
        }
        copy
    }

    /// `updateWithGreedyCondition`: the sink's edges hold only for events the loop does not
    /// take.
    fn greedy_sink(&mut self, sink: usize, take: &Cond) {
        for e in &mut self.states[sink].edges {
            e.cond = Cond::and(e.cond.clone(), Cond::not(take.clone()));
        }
    }

    /// `createSingletonState`.
    fn singleton(
        &mut self,
        sink: usize,
        proceed: Option<usize>,
        take: Cond,
        ignore: Option<Cond>,
        optional: bool,
    ) -> usize {
        let s = self.state(self.cur, Kind::Normal);
        let sink = self.copy_without_transitive_nots(sink);
        self.edge(s, Action::Take, sink, take.clone());
        if optional && let Some(p) = proceed {
            if self.step().greedy {
                if let Some(u) = self.step().until
                    && let Some(&orig) = self.original.get(&p)
                {
                    self.edge(s, Action::Proceed, orig, Cond::Is(u));
                }
                self.edge(s, Action::Proceed, p, Cond::not(take.clone()));
            } else {
                self.edge(s, Action::Proceed, p, Cond::True);
            }
        }
        if let Some(ig) = ignore {
            let target = if optional {
                let is = self.state(self.cur, Kind::Normal);
                self.edge(is, Action::Take, sink, take);
                self.edge(is, Action::Ignore, is, ig.clone());
                self.add_stop_states(is);
                is
            } else {
                s
            };
            self.edge(s, Action::Ignore, target, ig);
        }
        s
    }

    /// `createLooping`.
    fn looping(&mut self, sink: usize) -> usize {
        let take = self.take_cond();
        let inner = self.ignore_cond(self.step().inner);
        let ignore = self.with_until(inner);
        let l = self.state(self.cur, Kind::Normal);
        if self.step().greedy {
            let until = self.step().until;
            if let Some(u) = until {
                let copy = self.copy(sink);
                self.edge(l, Action::Proceed, copy, Cond::Is(u));
                self.original.insert(sink, copy);
            }
            let stop_on = match until {
                Some(u) => Cond::Or(Box::new(take.clone()), Box::new(Cond::Is(u))),
                None => take.clone(),
            };
            self.edge(l, Action::Proceed, sink, Cond::not(stop_on));
            self.greedy_sink(sink, &Cond::Is(self.cur));
        } else {
            self.edge(l, Action::Proceed, sink, Cond::True);
        }
        self.edge(l, Action::Take, l, take.clone());
        self.add_stop_to_looping(l);
        if let Some(ig) = ignore {
            let is = self.state(self.cur, Kind::Normal);
            self.edge(is, Action::Take, l, take);
            self.edge(is, Action::Ignore, is, ig.clone());
            self.edge(l, Action::Ignore, is, ig);
            self.add_stop_to_looping(is);
        }
        l
    }

    /// `createTimesState`.
    fn times(&mut self, sink: usize, proceed: usize, from: u32, to: u32) -> usize {
        let take = self.take_cond();
        let inner = self.ignore_cond(self.step().inner);
        let inner = self.with_until(inner);
        if self.step().greedy && from != to {
            self.greedy_sink(sink, &take);
        }
        let mut last = sink;
        for _ in from..to {
            last = self.singleton(last, Some(proceed), take.clone(), inner.clone(), true);
            self.add_stop_to_looping(last);
        }
        for _ in 1..from {
            last = self.singleton(last, None, take.clone(), inner.clone(), false);
            self.add_stop_to_looping(last);
        }
        let outer = self.ignore_cond(self.step().contiguity);
        let optional = self.step().optional;
        self.singleton(last, Some(proceed), take, outer, optional)
    }

    /// `convertPattern`.
    fn convert(&mut self, sink: usize) -> usize {
        let (times, max) = (self.step().times, self.step().max);
        let last = match max {
            None => {
                let s = self.copy_without_transitive_nots(sink);
                let l = self.looping(s);
                self.times(l, sink, times, times)
            }
            Some(max) => self.times(sink, sink, times, max),
        };
        self.add_stop_states(last);
        last
    }

    /// `compileFactory`: the final state, the steps from the last back, the start state.
    fn compile(mut self, within: Option<i64>, skip: SkipStrategy) -> Nfa {
        let mut sink = self.state(usize::MAX, Kind::Final);
        self.cur = self.steps.len() - 1;
        while self.cur > 0 {
            let step = &self.steps[self.cur];
            if step.not_followed_by() {
                if within.is_some() && self.states[sink].kind == Kind::Final {
                    let n = self.cur;
                    let pending = self.state(n, Kind::Pending);
                    let stop = self.stop_state(n);
                    self.edge(pending, Action::Proceed, stop, Cond::Is(n));
                    self.edge(pending, Action::Ignore, pending, Cond::not(Cond::Is(n)));
                    sink = pending;
                }
            } else if step.negated {
                let n = self.cur;
                let nn = self.state(n, Kind::Normal);
                let stop = self.stop_state(n);
                let action = if self.states[sink].kind == Kind::Final {
                    Action::Ignore
                } else {
                    Action::Proceed
                };
                self.edge(nn, action, sink, Cond::not(Cond::Is(n)));
                self.edge(nn, Action::Proceed, stop, Cond::Is(n));
                sink = nn;
            } else {
                sink = self.convert(sink);
            }
            self.following = Some(self.cur);
            self.cur -= 1;
        }
        let start = self.convert(sink);
        self.states[start].kind = Kind::Start;
        Nfa {
            states: self.states,
            start,
            within,
            skip,
        }
    }
}

impl Nfa {
    /// Compiles `def` (which should have passed [`PatternDef::validate`]; an empty pattern
    /// compiles to one that never matches).
    pub fn compile(def: &PatternDef) -> Nfa {
        if def.steps.is_empty() {
            return Nfa {
                states: vec![State {
                    step: 0,
                    kind: Kind::Start,
                    edges: Vec::new(),
                }],
                start: 0,
                within: def.within,
                skip: def.skip,
            };
        }
        Compiler {
            steps: &def.steps,
            states: Vec::new(),
            stops: BTreeMap::new(),
            original: BTreeMap::new(),
            cur: 0,
            following: None,
        }
        .compile(def.within, def.skip)
    }

    /// `createDecisionGraph`: the `TAKE` and `IGNORE` edges (with their source state) the
    /// event satisfies from `state`, following `PROCEED` edges depth first.
    fn decision(&self, state: usize, c: &mut dyn FnMut(usize) -> bool) -> Vec<(usize, &Edge)> {
        let mut out = Vec::new();
        let mut stack = vec![state];
        let mut visited = 0;
        while let Some(s) = stack.pop() {
            visited += 1;
            if visited > 10 * self.states.len() + 10 {
                break; // (a PROCEED cycle cannot be compiled; guard anyway)
            }
            for e in &self.states[s].edges {
                if e.cond.holds(c) {
                    match e.action {
                        Action::Proceed => stack.push(e.target),
                        Action::Take | Action::Ignore => out.push((s, e)),
                    }
                }
            }
        }
        out
    }

    /// `findFinalStateAfterProceed`.
    fn final_after_proceed(&self, state: usize, c: &mut dyn FnMut(usize) -> bool) -> Option<usize> {
        let mut stack = vec![state];
        let mut visited = 0;
        while let Some(s) = stack.pop() {
            visited += 1;
            if visited > 10 * self.states.len() + 10 {
                break;
            }
            for e in &self.states[s].edges {
                if e.action == Action::Proceed && e.cond.holds(c) {
                    if self.states[e.target].kind == Kind::Final {
                        return Some(e.target);
                    }
                    stack.push(e.target);
                }
            }
        }
        None
    }

    fn kind(&self, pm: &PartialMatch) -> Kind {
        self.states[pm.state].kind
    }
}

/// An event a partial match took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    /// Per-key sequence number, in processing order (Flink's `EventId` order).
    pub seq: u64,
    /// Timestamp.
    pub ts: i64,
    /// The step that took it.
    pub step: usize,
}

/// A partial match (Flink's `ComputationState` with its path of events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialMatch {
    /// Its state in the compiled graph.
    state: usize,
    /// The events taken, in order.
    pub events: Vec<Taken>,
}

impl PartialMatch {
    /// Sequence number of the first event: Flink's start `EventId`.
    pub fn start_seq(&self) -> u64 {
        self.events.first().map_or(u64::MAX, |e| e.seq)
    }

    /// Timestamp of the first event.
    pub fn start_ts(&self) -> i64 {
        self.events.first().map_or(i64::MAX, |e| e.ts)
    }

    fn summary(&self) -> MatchSummary {
        MatchSummary {
            start_ts: self.events.iter().map(|e| e.ts).min().unwrap_or(0),
            end_ts: self.events.iter().map(|e| e.ts).max().unwrap_or(0),
            events: self.events.len() as u32,
            start_seq: self.start_seq(),
        }
    }
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

/// The NFA state of one key (Flink's `NFAState`): its partial matches, earliest start first,
/// the completed matches a skip strategy holds back, and the next event sequence number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NfaState {
    /// Partial matches, in start order (the start state is implicit).
    pub partial: Vec<PartialMatch>,
    /// Completed matches held back until no earlier partial match is open
    /// (`NFAState.completedMatches`).
    pub held: Vec<PartialMatch>,
    /// The sequence number the next event gets.
    pub next_seq: u64,
}

/// What one event did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Processed {
    /// Matches emitted, in emission order.
    pub matches: Vec<MatchSummary>,
    /// Whether the event started a partial match (the operator then registers a timer at
    /// `timestamp + within`, as `CepOperator.processEvent` does).
    pub started: bool,
}

/// What advancing time did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Advanced {
    /// Matches emitted: held ones freed, pending `not_followed_by` ones completed.
    pub matches: Vec<MatchSummary>,
    /// Timed-out partial matches with their timeout timestamp (`start + within`).
    pub timeouts: Vec<(MatchSummary, i64)>,
}

impl NfaState {
    /// Whether it holds no partial match and no held match.
    pub fn is_empty(&self) -> bool {
        self.partial.is_empty() && self.held.is_empty()
    }

    /// `NFA.advanceTime`: removes the partial matches timed out at `ts` (a pending
    /// `not_followed_by` completes instead), then emits the held matches no earlier partial
    /// match holds back any more.
    pub fn advance_time(&mut self, nfa: &Nfa, ts: i64) -> Advanced {
        let mut out = Advanced::default();
        let Some(within) = nfa.within else {
            return out;
        };
        let mut potential = Vec::new();
        let mut kept = Vec::with_capacity(self.partial.len());
        for pm in std::mem::take(&mut self.partial) {
            if ts.saturating_sub(pm.start_ts()) >= within {
                if nfa.kind(&pm) == Kind::Pending {
                    potential.push(pm);
                } else {
                    out.timeouts
                        .push((pm.summary(), pm.start_ts().saturating_add(within)));
                }
            } else {
                kept.push(pm);
            }
        }
        self.partial = kept;
        out.matches = self.emit_according_to_skip(nfa, potential);
        out
    }

    /// `NFA.process` for one event at `ts`; `holds(i)` says whether the event satisfies
    /// condition `i` (asked at most once per condition).
    pub fn process(
        &mut self,
        nfa: &Nfa,
        ts: i64,
        holds: &mut dyn FnMut(usize) -> bool,
    ) -> Processed {
        let seq = self.next_seq;
        self.next_seq += 1;
        let mut memo: BTreeMap<usize, bool> = BTreeMap::new();
        let mut cond = |i: usize| *memo.entry(i).or_insert_with(|| holds(i));
        let start = PartialMatch {
            state: nfa.start,
            events: Vec::new(),
        };
        let mut new_partial = Vec::with_capacity(self.partial.len() + 1);
        let mut potential = Vec::new();
        let mut started = false;
        let olds = std::mem::take(&mut self.partial);
        for cs in olds.iter().chain(std::iter::once(&start)) {
            let is_start = cs.state == nfa.start;
            let mut next = Vec::new();
            for (source, edge) in nfa.decision(cs.state, &mut cond) {
                match edge.action {
                    Action::Ignore if !is_start => next.push(PartialMatch {
                        state: edge.target,
                        events: cs.events.clone(),
                    }),
                    Action::Take => {
                        let mut events = cs.events.clone();
                        events.push(Taken {
                            seq,
                            ts,
                            step: nfa.states[source].step,
                        });
                        if let Some(f) = nfa.final_after_proceed(edge.target, &mut cond) {
                            next.push(PartialMatch {
                                state: edge.target,
                                events: events.clone(),
                            });
                            next.push(PartialMatch { state: f, events });
                        } else {
                            next.push(PartialMatch {
                                state: edge.target,
                                events,
                            });
                        }
                    }
                    _ => {}
                }
            }
            let mut retain = Vec::new();
            let mut stopped = false;
            for n in next {
                match nfa.kind(&n) {
                    Kind::Final => potential.push(n),
                    Kind::Stop => stopped = true,
                    _ => retain.push(n),
                }
            }
            if !stopped {
                started |= is_start && !retain.is_empty();
                new_partial.extend(retain);
            }
        }
        // the queue's order: earliest start first (`COMPUTATION_STATE_COMPARATOR`)
        new_partial.sort_by_key(PartialMatch::start_seq);
        self.partial = new_partial;
        let matches = if nfa.skip == SkipStrategy::NoSkip {
            potential.sort_by_key(PartialMatch::start_seq);
            potential.iter().map(PartialMatch::summary).collect()
        } else {
            self.emit_according_to_skip(nfa, potential)
        };
        Processed { matches, started }
    }

    /// `processMatchesAccordingToSkipStrategy`: adds `potential` to the held matches, then
    /// emits, earliest first, every held match that started no later than the earliest
    /// partial match, each pruning the partial and held matches its strategy discards.
    fn emit_according_to_skip(
        &mut self,
        nfa: &Nfa,
        potential: Vec<PartialMatch>,
    ) -> Vec<MatchSummary> {
        self.held.extend(potential);
        self.held.sort_by_key(PartialMatch::start_seq);
        let mut out = Vec::new();
        while let Some(first) = self.held.first() {
            if let Some(p) = self.partial.first()
                && first.start_seq() > p.start_seq()
            {
                break;
            }
            let m = self.held.remove(0);
            if let Some((id, inclusive)) = pruning_id(nfa.skip, &m) {
                let keep = |pm: &PartialMatch| {
                    let s = pm.start_seq();
                    !(s < id || (inclusive && s == id))
                };
                self.partial.retain(keep);
                self.held.retain(keep);
            }
            out.push(m.summary());
        }
        out
    }
}

/// The pruning event of a match for a strategy (`getPruningId`) and whether a partial match
/// starting *at* it is pruned too (`shouldPrune`: `<=` or `<`).
fn pruning_id(skip: SkipStrategy, m: &PartialMatch) -> Option<(u64, bool)> {
    let of_step = |s: usize| m.events.iter().filter(move |e| e.step == s).map(|e| e.seq);
    match skip {
        SkipStrategy::NoSkip => None,
        SkipStrategy::SkipToNext => m.events.iter().map(|e| e.seq).min().map(|id| (id, true)),
        SkipStrategy::SkipPastLastEvent => {
            m.events.iter().map(|e| e.seq).max().map(|id| (id, true))
        }
        SkipStrategy::SkipToFirst(s) => of_step(s).min().map(|id| (id, false)),
        SkipStrategy::SkipToLast(s) => of_step(s).max().map(|id| (id, false)),
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
            max: Some(times),
            inner,
            ..Step::default()
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
        assert_eq!(def.validate(), Ok(()));
        let nfa = Nfa::compile(def);
        let mut st = NfaState::default();
        let (mut m, mut t) = (Vec::new(), Vec::new());
        let letters: Vec<char> = ('a'..='z').collect();
        let mut advance = |st: &mut NfaState, ts: i64, m: &mut Vec<(i64, i64)>| {
            let a = st.advance_time(&nfa, ts);
            m.extend(a.matches.iter().map(|x| (x.start_ts, x.end_ts)));
            for (s, at) in a.timeouts {
                t.push((s.start_ts, s.end_ts, s.events, at));
            }
        };
        for &(ts, c) in events {
            advance(&mut st, ts, &mut m);
            let p = st.process(&nfa, ts, &mut |i| letters[i] == c);
            m.extend(p.matches.iter().map(|x| (x.start_ts, x.end_ts)));
        }
        advance(&mut st, i64::MAX, &mut m);
        (m, t)
    }

    /// Like `run`, with each event given as the set of conditions it satisfies (`"ab"`:
    /// conditions 0 and 1); returns matches `(start, end, events)` and timeouts.
    #[allow(clippy::type_complexity)]
    fn run_sets(
        def: &PatternDef,
        events: &[(i64, &str)],
    ) -> (Vec<(i64, i64, u32)>, Vec<(i64, i64, u32, i64)>) {
        assert_eq!(def.validate(), Ok(()));
        let nfa = Nfa::compile(def);
        let mut st = NfaState::default();
        let (mut m, mut t) = (Vec::new(), Vec::new());
        let letters: Vec<char> = ('a'..='z').collect();
        let mut advance = |st: &mut NfaState, ts: i64, m: &mut Vec<(i64, i64, u32)>| {
            let a = st.advance_time(&nfa, ts);
            m.extend(a.matches.iter().map(|x| (x.start_ts, x.end_ts, x.events)));
            for (s, at) in a.timeouts {
                t.push((s.start_ts, s.end_ts, s.events, at));
            }
        };
        for &(ts, set) in events {
            advance(&mut st, ts, &mut m);
            let p = st.process(&nfa, ts, &mut |i| set.contains(letters[i]));
            m.extend(p.matches.iter().map(|x| (x.start_ts, x.end_ts, x.events)));
        }
        advance(&mut st, i64::MAX, &mut m);
        m.sort();
        (m, t)
    }

    /// `a` then `b`: step 1 follows step 0 as `how`.
    fn two(how: Contiguity, b: Step) -> PatternDef {
        PatternDef {
            steps: vec![
                Step {
                    name: "a".into(),
                    ..Step::default()
                },
                Step {
                    name: "b".into(),
                    contiguity: how,
                    ..b
                },
            ],
            within: None,
            skip: SkipStrategy::NoSkip,
        }
    }

    #[test]
    fn followed_by_any_branches_and_followed_by_does_not() {
        let events = [(1, "a"), (2, "b"), (3, "b")];
        let any = two(Contiguity::NonDeterministic, Step::default());
        assert_eq!(run_sets(&any, &events).0, vec![(1, 2, 2), (1, 3, 2)]);
        let relaxed = two(Contiguity::Relaxed, Step::default());
        assert_eq!(run_sets(&relaxed, &events).0, vec![(1, 2, 2)]);
    }

    #[test]
    fn one_or_more_matches_every_prefix_and_greedy_only_the_longest() {
        let oom = |greedy| PatternDef {
            steps: vec![
                Step {
                    name: "a".into(),
                    max: None,
                    greedy,
                    ..Step::default()
                },
                Step {
                    name: "b".into(),
                    ..Step::default()
                },
            ],
            within: None,
            skip: SkipStrategy::NoSkip,
        };
        let events = [(1, "a"), (2, "a"), (3, "b")];
        assert_eq!(
            run_sets(&oom(false), &events).0,
            vec![(1, 3, 2), (1, 3, 3), (2, 3, 2)]
        );
        assert_eq!(run_sets(&oom(true), &events).0, vec![(1, 3, 3), (2, 3, 2)]);
        // greedy: an event that is both a and b is taken by the loop, never by b
        let both = [(1, "a"), (2, "ab"), (3, "b")];
        assert_eq!(run_sets(&oom(true), &both).0, vec![(1, 3, 3), (2, 3, 2)]);
        // not greedy: b takes it too, and the attempt from 1 no longer waits at b with 1 a
        assert_eq!(
            run_sets(&oom(false), &both).0,
            vec![(1, 2, 2), (1, 3, 3), (2, 3, 2)]
        );
    }

    #[test]
    fn an_optional_last_step_matches_at_once_and_again_with_it() {
        let def = two(
            Contiguity::Relaxed,
            Step {
                optional: true,
                ..Step::default()
            },
        );
        assert_eq!(
            run_sets(&def, &[(1, "a"), (2, "x"), (3, "b")]).0,
            vec![(1, 1, 1), (1, 3, 2)]
        );
    }

    #[test]
    fn a_times_range_matches_each_count() {
        let def = PatternDef {
            steps: vec![Step {
                name: "a".into(),
                times: 2,
                max: Some(3),
                ..Step::default()
            }],
            within: None,
            skip: SkipStrategy::NoSkip,
        };
        assert_eq!(
            run_sets(&def, &[(1, "a"), (2, "a"), (3, "a")]).0,
            vec![(1, 2, 2), (1, 3, 3), (2, 3, 2)]
        );
    }

    #[test]
    fn not_next_completes_on_the_next_event_that_is_not_it() {
        let def = two(
            Contiguity::Strict,
            Step {
                negated: true,
                ..Step::default()
            },
        );
        // a at 1 is followed by b: discarded; a at 3 by x: a match of one event
        assert_eq!(
            run_sets(&def, &[(1, "a"), (2, "b"), (3, "a"), (4, "x")]).0,
            vec![(3, 3, 1)]
        );
    }

    #[test]
    fn not_followed_by_at_the_end_completes_when_within_has_passed() {
        let mut def = two(
            Contiguity::Relaxed,
            Step {
                negated: true,
                ..Step::default()
            },
        );
        def.within = Some(10);
        let (m, t) = run_sets(&def, &[(1, "a"), (5, "b"), (6, "a"), (20, "b")]);
        assert_eq!(
            m,
            vec![(6, 6, 1)],
            "the a at 1 is followed by a b at 5; the b at 20 comes too late"
        );
        assert!(
            t.is_empty(),
            "a pending match completes, it does not time out: {t:?}"
        );
    }

    #[test]
    fn skip_to_next_prunes_less_than_skip_past_last_event() {
        // a.times(2).consecutive() then b: the attempts from 1 and 2 both complete at 4
        let mut def = two(Contiguity::Relaxed, Step::default());
        def.steps[0].times = 2;
        def.steps[0].max = Some(2);
        def.steps[0].inner = Contiguity::Strict;
        def.skip = SkipStrategy::SkipToNext;
        let events = [(1, "a"), (2, "a"), (3, "a"), (4, "b")];
        // skip_to_next prunes only attempts that started at or before 1
        assert_eq!(run_sets(&def, &events).0, vec![(1, 4, 3), (2, 4, 3)]);
        def.skip = SkipStrategy::SkipPastLastEvent;
        assert_eq!(run_sets(&def, &events).0, vec![(1, 4, 3)]);
        // skip_to_last(a): prunes attempts that started before the match's last a (2)
        def.skip = SkipStrategy::SkipToLast(0);
        assert_eq!(run_sets(&def, &events).0, vec![(1, 4, 3), (2, 4, 3)]);
    }

    #[test]
    fn flinks_pattern_rules_are_checked() {
        let mut def = two(
            Contiguity::Relaxed,
            Step {
                negated: true,
                ..Step::default()
            },
        );
        assert!(def.validate().unwrap_err().1.contains("NotFollowedBy"));
        def.within = Some(1);
        assert_eq!(def.validate(), Ok(()));
        def.steps[0].optional = true;
        assert!(def.validate().unwrap_err().1.contains("optional path"));
        def.steps[0].optional = false;
        def.steps[1].times = 2;
        def.steps[1].max = Some(2);
        assert!(def.validate().unwrap_err().1.contains("NOT pattern"));
        def.steps[1] = Step {
            name: "a".into(),
            ..Step::default()
        };
        assert!(
            def.validate()
                .unwrap_err()
                .1
                .contains("Duplicate pattern name")
        );
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
        let nfa = Nfa::compile(&def);
        let mut st = NfaState::default();
        for ts in 0..2 {
            st.process(&nfa, ts, &mut |_| true);
        }
        let mut asked = 0;
        st.process(&nfa, 3, &mut |_| {
            asked += 1;
            true
        });
        assert_eq!(asked, 1);
    }
}
