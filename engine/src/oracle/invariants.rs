//! In-run invariant checkers, in the style of TigerBeetle's VOPR (DESIGN §7): while a run goes
//! on, they watch what the kernel does through its observer seam ([`crate::sim::observe`]) and
//! stop the run at the first thing Flink never does:
//!
//! - [`ChannelOrder`] for watermarks: the watermarks arriving on a channel never go back;
//! - [`ChannelOrder`] for barriers: the checkpoint ids of the barriers arriving on a channel
//!   increase;
//! - [`WindowFirings`]: a window operator (or a window join) emits a result once per key and
//!   window, unless its
//!   trigger fires repeatedly by design (count, continuous), a late element within the allowed
//!   lateness fires the window again, or a restore rewound the operator to a state from
//!   before the first firing (a replay);
//! - [`SinkCommits`]: an exactly-once sink makes each pre-committed transaction visible once —
//!   the rows a commit shows are exactly those of the transactions it commits for the first
//!   time, also across restores.
//!
//! A restore rebuilds channels (their history starts again: a restored source's watermarks
//! start from the beginning) and rewinds state to a checkpoint: the checkers rewind with it.
//! Each checker is a small struct fed with plain values, so its unit test can feed it a
//! violating sequence; [`Invariants`] maps the kernel's hooks onto them.

use crate::core::time::{EventTime, SimTime};
use crate::core::value::{Interner, OrdValue, Value};
use crate::flink::window::Window;
use crate::flink::window::trigger::TriggerKind;
use crate::ops::Operator;
use crate::ops::window::Emitted;
use crate::plan::Plan;
use crate::scenario::{JoinKind, NodeKind, Scenario};
use crate::sim::buffer::{Buffer, Marker};
use crate::sim::channel::Channel;
use crate::sim::observe::{Invariant, Observer, Violation};
use crate::sim::task::Task;
use std::collections::BTreeMap;

/// Per channel, the last value seen; values must not go below it (watermarks) or must rise
/// strictly (barrier ids).
#[derive(Debug, Clone, Default)]
pub struct ChannelOrder<T> {
    last: Vec<Option<T>>,
    strict: bool,
}

impl<T: Copy + Ord> ChannelOrder<T> {
    /// Values may repeat (`strict` false) or must rise strictly.
    pub fn new(strict: bool) -> Self {
        ChannelOrder {
            last: Vec::new(),
            strict,
        }
    }

    /// `v` arrived on `ch`; `Err(previous)` if it goes back (or repeats, when strict).
    pub fn see(&mut self, ch: u32, v: T) -> Result<(), T> {
        let i = ch as usize;
        if self.last.len() <= i {
            self.last.resize(i + 1, None);
        }
        match self.last[i] {
            Some(prev) if v < prev || (self.strict && v == prev) => Err(prev),
            _ => {
                self.last[i] = Some(v);
                Ok(())
            }
        }
    }

    /// Channel `ch` was replaced by a new one: its history starts again.
    pub fn reset(&mut self, ch: u32) {
        if let Some(x) = self.last.get_mut(ch as usize) {
            *x = None;
        }
    }

    /// Every channel is new.
    pub fn reset_all(&mut self) {
        self.last.clear();
    }
}

/// When a window operator may emit a result for the same key and window more than once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FiringRule {
    /// The trigger fires a window repeatedly by design (count, continuous, or a trigger of
    /// the other time domain): repeats need no explanation.
    pub repeats: bool,
    /// Allowed lateness (ms) of an event-time window: a late element within it fires the
    /// window again.
    pub allowed_lateness: i64,
}

/// The first firing of a key's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fired {
    /// The task that fired it.
    pub task: u32,
    /// The last checkpoint that task had snapshotted then (0: none): a restore from an
    /// older or equal checkpoint rewinds the operator to before the firing.
    pub epoch: u64,
    /// When.
    pub at: SimTime,
    /// The operator's watermark then.
    pub watermark: EventTime,
}

/// Which windows fired, per operator, key and window.
#[derive(Debug, Clone, Default)]
pub struct WindowFirings {
    /// Per logical node, its rule (`None`: not a window operator).
    rules: Vec<Option<FiringRule>>,
    fired: BTreeMap<(usize, OrdValue, Window), Fired>,
    /// Per task, the last checkpoint it snapshotted (0: none).
    epoch: Vec<u64>,
    /// Per logical node, the firings checked (that the checker is not idle).
    checked: Vec<u64>,
}

impl WindowFirings {
    /// Checks window operators with these rules (indexed by logical node).
    pub fn new(rules: Vec<Option<FiringRule>>) -> Self {
        WindowFirings {
            checked: vec![0; rules.len()],
            rules,
            ..Default::default()
        }
    }

    /// How many firings of logical node `node` were checked.
    pub fn checked(&self, node: usize) -> u64 {
        self.checked.get(node).copied().unwrap_or(0)
    }

    fn epoch_of(&self, task: u32) -> u64 {
        self.epoch.get(task as usize).copied().unwrap_or(0)
    }

    /// Task `task`'s operator `node` emitted the result of `key`'s `window` at `at` with
    /// watermark `watermark`. `Err(first)`: an unexplained repeat of the firing `first`.
    pub fn fire(
        &mut self,
        node: usize,
        task: u32,
        key: Value,
        window: Window,
        watermark: EventTime,
        at: SimTime,
    ) -> Result<(), Fired> {
        let Some(rule) = self.rules.get(node).copied().flatten() else {
            return Ok(());
        };
        if rule.repeats {
            return Ok(());
        }
        self.checked[node] += 1;
        let now = Fired {
            task,
            epoch: self.epoch_of(task),
            at,
            watermark,
        };
        match self.fired.get(&(node, OrdValue(key), window)) {
            None => {
                self.fired.insert((node, OrdValue(key), window), now);
                Ok(())
            }
            Some(first) => {
                let end = window.max_timestamp();
                let late_firing = rule.allowed_lateness > 0
                    && watermark >= end
                    && watermark < end.plus_millis(rule.allowed_lateness);
                if late_firing { Ok(()) } else { Err(*first) }
            }
        }
    }

    /// Task `task` snapshotted checkpoint `id`: its later firings are not in that state.
    pub fn snapshot(&mut self, task: u32, id: u64) {
        let i = task as usize;
        if self.epoch.len() <= i {
            self.epoch.resize(i + 1, 0);
        }
        self.epoch[i] = id;
    }

    /// The tasks `restarted` were restored from checkpoint `restored` (none: from scratch):
    /// their firings after that checkpoint's snapshot are undone and may come again.
    pub fn restore(&mut self, restarted: &[u32], restored: Option<u64>) {
        let mut is_restarted = vec![false; self.epoch.len().max(1)];
        for &t in restarted {
            if is_restarted.len() <= t as usize {
                is_restarted.resize(t as usize + 1, false);
            }
            is_restarted[t as usize] = true;
        }
        self.fired.retain(|_, f| {
            let mine = is_restarted.get(f.task as usize).copied().unwrap_or(false);
            !mine || restored.is_some_and(|k| f.epoch < k)
        });
        for &t in restarted {
            self.snapshot(t, restored.unwrap_or(0));
        }
    }

    /// The job was resubmitted from savepoint `savepoint` with `tasks` new tasks: firings
    /// after the savepoint are undone; the rest belong to no task of the new job.
    pub fn resubmit(&mut self, savepoint: u64, tasks: usize) {
        self.fired.retain(|_, f| f.epoch < savepoint);
        for f in self.fired.values_mut() {
            f.task = u32::MAX;
        }
        self.epoch = vec![savepoint; tasks];
    }
}

/// One exactly-once sink subtask as the checker models it.
#[derive(Debug, Clone, Default)]
struct SinkModel {
    /// Pre-committed transactions: (checkpoint id, records), oldest first.
    precommitted: Vec<(u64, u64)>,
    /// Checkpoint ids whose transaction was settled: committed, or aborted by the broker's
    /// transaction timeout (its rows are never visible, see [`SinkCommits::timed_out`]).
    committed: Vec<u64>,
    /// Records made visible so far.
    visible: u64,
    /// Per checkpoint snapshotted and not yet subsumed, the pre-committed transactions in it.
    at_snapshot: BTreeMap<u64, Vec<(u64, u64)>>,
}

/// A commit that showed other rows than the transactions it committed for the first time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadCommit {
    /// Records the sink made visible.
    pub shown: u64,
    /// Records of the transactions committed for the first time.
    pub expected: u64,
    /// Those transactions: (checkpoint id, records).
    pub transactions: Vec<(u64, u64)>,
}

/// The transactions of every exactly-once sink subtask, by (task, chain position).
#[derive(Debug, Clone, Default)]
pub struct SinkCommits {
    sinks: BTreeMap<(u32, usize), SinkModel>,
}

impl SinkCommits {
    /// Sink `(task, pos)` pre-committed for checkpoint `id`; `pending` records are now in
    /// its pre-committed transactions. `Err`: fewer than the model's pre-committed ones.
    pub fn pre_commit(&mut self, sink: (u32, usize), id: u64, pending: u64) -> Result<(), u64> {
        let m = self.sinks.entry(sink).or_default();
        let held: u64 = m.precommitted.iter().map(|t| t.1).sum();
        if pending < held {
            return Err(held);
        }
        m.precommitted.push((id, pending - held));
        m.at_snapshot.insert(id, m.precommitted.clone());
        Ok(())
    }

    /// The completion of checkpoint `id` reached sink `sink`, whose visible records now
    /// number `visible`: it committed its transactions up to `id` not committed before.
    pub fn notify(&mut self, sink: (u32, usize), id: u64, visible: u64) -> Result<(), BadCommit> {
        let m = self.sinks.entry(sink).or_default();
        let due: Vec<(u64, u64)> = m
            .precommitted
            .iter()
            .copied()
            .filter(|t| t.0 <= id)
            .collect();
        m.precommitted.retain(|t| t.0 > id);
        // a restore only goes back to the latest completed checkpoint: older states are gone
        m.at_snapshot = m.at_snapshot.split_off(&id);
        Self::commit(m, due, visible)
    }

    /// Sink `sink` was restored from checkpoint `restored` (none: it starts empty) and
    /// committed what that checkpoint had pre-committed; `visible` records are now visible.
    pub fn restore(
        &mut self,
        sink: (u32, usize),
        restored: Option<u64>,
        visible: u64,
    ) -> Result<(), BadCommit> {
        let m = self.sinks.entry(sink).or_default();
        let due = restored
            .and_then(|k| m.at_snapshot.get(&k).cloned())
            .unwrap_or_default();
        m.precommitted.clear();
        if let Some(k) = restored {
            // checkpoints after k were never completed: their ids do not come back
            m.at_snapshot.retain(|&id, _| id <= k);
        }
        Self::commit(m, due, visible)
    }

    fn commit(m: &mut SinkModel, due: Vec<(u64, u64)>, visible: u64) -> Result<(), BadCommit> {
        let fresh: Vec<(u64, u64)> = due
            .into_iter()
            .filter(|t| !m.committed.contains(&t.0))
            .collect();
        let expected: u64 = fresh.iter().map(|t| t.1).sum();
        m.committed.extend(fresh.iter().map(|t| t.0));
        let shown = visible.saturating_sub(m.visible);
        m.visible += expected;
        if visible != m.visible {
            return Err(BadCommit {
                shown,
                expected,
                transactions: fresh,
            });
        }
        Ok(())
    }

    /// Sink `sink` found the transactions of checkpoints `ids` aborted by the broker's
    /// transaction timeout: they are settled, and none of their rows is due any more.
    pub fn timed_out(&mut self, sink: (u32, usize), ids: impl Iterator<Item = u64>) {
        let m = self.sinks.entry(sink).or_default();
        for id in ids {
            if !m.committed.contains(&id) {
                m.committed.push(id);
            }
        }
    }

    /// The job was resubmitted: every sink is new and starts from what is visible now
    /// (`visible` per (task, chain position)).
    pub fn resubmit(&mut self, visible: impl Iterator<Item = ((u32, usize), u64)>) {
        self.sinks = visible
            .map(|(k, v)| {
                let m = SinkModel {
                    visible: v,
                    ..Default::default()
                };
                (k, m)
            })
            .collect();
    }
}

/// Every checker of a run, fed by the kernel.
pub struct Invariants {
    watermarks: ChannelOrder<EventTime>,
    barriers: ChannelOrder<u64>,
    windows: WindowFirings,
    sinks: SinkCommits,
    /// Logical node names, for messages.
    names: Vec<String>,
    /// The first violation.
    violation: Option<Violation>,
}

/// The firing rule of each logical node of `p` that is a window operator.
fn firing_rules(s: &Scenario, p: &Plan) -> Vec<Option<FiringRule>> {
    let g = &p.logical.graph;
    g.node_indices()
        .map(|n| {
            let w = match &s.nodes[g[n].scenario_node].kind {
                NodeKind::Window(w) => w,
                // A window join is Flink's co-group on a window operator with the assigner's
                // default trigger (EventTimeTrigger) and no allowed lateness: each window's
                // pairs are emitted once.
                NodeKind::Join(j) if matches!(j.kind, JoinKind::Window(_)) => {
                    return Some(FiringRule {
                        repeats: false,
                        allowed_lateness: 0,
                    });
                }
                _ => return None,
            };
            let default = if w.processing_time {
                TriggerKind::ProcessingTime
            } else {
                TriggerKind::EventTime
            };
            let once = w.count.is_none() && w.trigger.is_none_or(|t| t.kind == default);
            Some(FiringRule {
                repeats: !once,
                allowed_lateness: if w.processing_time {
                    0
                } else {
                    w.allowed_lateness
                },
            })
        })
        .collect()
}

impl Invariants {
    /// The checkers for a run of scenario `s` planned as `p`.
    pub fn new(s: &Scenario, p: &Plan) -> Self {
        let g = &p.logical.graph;
        Invariants {
            watermarks: ChannelOrder::new(false),
            barriers: ChannelOrder::new(true),
            windows: WindowFirings::new(firing_rules(s, p)),
            sinks: SinkCommits::default(),
            names: g.node_indices().map(|n| g[n].name.clone()).collect(),
            violation: None,
        }
    }

    fn fail(&mut self, invariant: Invariant, at: SimTime, detail: String) {
        self.violation.get_or_insert(Violation {
            invariant,
            at,
            detail,
        });
    }

    fn name(&self, node: usize) -> &str {
        self.names.get(node).map_or("?", String::as_str)
    }

    /// Operator `node` of task `ti` (`label`) emitted the result of `key`'s `window` at `at`
    /// with watermark `watermark`: a repeat no late firing or restore explains is a violation.
    fn window_fired(
        &mut self,
        node: usize,
        (ti, label): (u32, &str),
        (key, window, watermark): (Value, Window, EventTime),
        at: SimTime,
        interner: &Interner,
    ) {
        let Err(first) = self.windows.fire(node, ti, key, window, watermark, at) else {
            return;
        };
        let lateness = self.windows.rules[node].map_or(0, |r| r.allowed_lateness);
        let detail = format!(
            "operator `{}` ({label}) emitted key {} window [{}, {}) again (watermark {watermark}); it fired first at {} (watermark {}), and neither a late firing (allowed lateness {lateness} ms) nor a restore explains it",
            self.name(node),
            key.to_json(interner),
            window.start,
            window.end,
            first.at,
            first.watermark
        );
        self.fail(Invariant::WindowFiresOnce, at, detail);
    }

    /// Checks every exactly-once sink of `task` with `check`, reporting a bad commit as
    /// happening `when`.
    fn sinks_of(
        &mut self,
        now: SimTime,
        ti: u32,
        task: &Task,
        when: &str,
        mut check: impl FnMut(&mut SinkCommits, (u32, usize), u64) -> Result<(), BadCommit>,
    ) {
        for (pos, slot) in task.chain.ops.iter().enumerate() {
            let Operator::Sink(sk) = &slot.op else {
                continue;
            };
            let Some(txn) = sk.txn.as_ref() else { continue };
            let timed_out = txn.timed_out().iter().map(|x| x.checkpoint);
            self.sinks.timed_out((ti, pos), timed_out);
            if let Err(b) = check(&mut self.sinks, (ti, pos), sk.count) {
                let detail = format!(
                    "sink `{}` ({}): {when} made {} rows visible, but the transactions it committed for the first time hold {} ({})",
                    self.name(slot.node),
                    task.label,
                    b.shown,
                    b.expected,
                    describe_txns(&b.transactions)
                );
                self.fail(Invariant::SinkCommitsOnce, now, detail);
            }
        }
    }
}

fn describe_txns(t: &[(u64, u64)]) -> String {
    if t.is_empty() {
        return "none".into();
    }
    let parts: Vec<String> = t
        .iter()
        .map(|(id, n)| format!("checkpoint {id}: {n} rows"))
        .collect();
    parts.join(", ")
}

fn channel_name(ch: u32, channels: &[Channel], tasks: &[Task]) -> String {
    let c = &channels[ch as usize];
    let label = |t: u32| tasks.get(t as usize).map_or("?", |t| t.label.as_str());
    format!(
        "channel {ch} ({} → {})",
        label(c.from_task),
        label(c.to_task)
    )
}

impl Observer for Invariants {
    fn buffer_arrived(
        &mut self,
        now: SimTime,
        ch: u32,
        b: &Buffer,
        channels: &[Channel],
        tasks: &[Task],
    ) {
        for &(_, m) in &b.markers {
            match m {
                Marker::Watermark(w) => {
                    if let Err(prev) = self.watermarks.see(ch, w) {
                        let detail = format!(
                            "{} carried watermark {w} after watermark {prev}",
                            channel_name(ch, channels, tasks)
                        );
                        self.fail(Invariant::WatermarksNeverGoBack, now, detail);
                    }
                }
                Marker::Barrier(id) | Marker::UnalignedBarrier(id) => {
                    if let Err(prev) = self.barriers.see(ch, id) {
                        let detail = format!(
                            "{} carried the barrier of checkpoint {id} after that of checkpoint {prev}",
                            channel_name(ch, channels, tasks)
                        );
                        self.fail(Invariant::BarriersInOrder, now, detail);
                    }
                }
                Marker::Idle | Marker::Active => {}
            }
        }
    }

    fn work_item_done(
        &mut self,
        end: SimTime,
        ti: u32,
        task: &mut Task,
        interner: &Interner,
        drain: bool,
    ) {
        for slot in &mut task.chain.ops {
            let fired: Vec<(Value, Window, EventTime)> = match &mut slot.op {
                Operator::Window(w) => {
                    let Some(log) = w.log.as_mut() else { continue };
                    let fired = log
                        .iter()
                        .filter_map(|e| match e {
                            Emitted::Fire {
                                key,
                                window,
                                watermark,
                                ..
                            } => Some((*key, *window, *watermark)),
                            _ => None,
                        })
                        .collect();
                    if drain {
                        log.clear();
                    }
                    fired
                }
                Operator::WindowJoin(j) => {
                    let Some(log) = j.log.as_mut() else { continue };
                    // the trace does not read a join's log: always emptied here
                    log.drain(..)
                        .map(|f| (f.key, f.window, f.watermark))
                        .collect()
                }
                _ => continue,
            };
            for f in fired {
                self.window_fired(slot.node, (ti, &task.label), f, end, interner);
            }
        }
    }

    fn snapshot_taken(&mut self, now: SimTime, ti: u32, id: u64, task: &Task) {
        self.windows.snapshot(ti, id);
        for (pos, slot) in task.chain.ops.iter().enumerate() {
            let Operator::Sink(sk) = &slot.op else {
                continue;
            };
            let Some(txn) = sk.txn.as_ref() else { continue };
            if let Err(held) = self.sinks.pre_commit((ti, pos), id, txn.pending() as u64) {
                let detail = format!(
                    "sink `{}` ({}): at the snapshot of checkpoint {id} its transactions hold {} rows, fewer than the {held} pre-committed before",
                    self.name(slot.node),
                    task.label,
                    txn.pending()
                );
                self.fail(Invariant::SinkCommitsOnce, now, detail);
            }
        }
    }

    fn checkpoint_notified(&mut self, now: SimTime, ti: u32, id: u64, task: &Task) {
        let when = format!("the completion of checkpoint {id}");
        self.sinks_of(now, ti, task, &when, |m, k, v| m.notify(k, id, v));
    }

    fn restored(
        &mut self,
        now: SimTime,
        restarted: &[u32],
        restored: Option<u64>,
        tasks: &[Task],
        rebuilt: &[bool],
    ) {
        for (ch, _) in rebuilt.iter().enumerate().filter(|(_, r)| **r) {
            self.watermarks.reset(ch as u32);
            self.barriers.reset(ch as u32);
        }
        self.windows.restore(restarted, restored);
        let when = match restored {
            Some(k) => format!("the restore from checkpoint {k}"),
            None => "the restart from scratch".into(),
        };
        for &ti in restarted {
            let Some(task) = tasks.get(ti as usize) else {
                continue;
            };
            self.sinks_of(now, ti, task, &when, |m, k, v| m.restore(k, restored, v));
        }
    }

    fn resubmitted(&mut self, _now: SimTime, savepoint: u64, tasks: &[Task], _channels: usize) {
        self.watermarks.reset_all();
        self.barriers.reset_all();
        self.windows.resubmit(savepoint, tasks.len());
        let visible = tasks.iter().enumerate().flat_map(|(ti, t)| {
            t.chain
                .ops
                .iter()
                .enumerate()
                .filter_map(move |(pos, s)| match &s.op {
                    Operator::Sink(sk) if sk.txn.is_some() => Some(((ti as u32, pos), sk.count)),
                    _ => None,
                })
        });
        self.sinks.resubmit(visible);
    }

    fn violation(&self) -> Option<&Violation> {
        self.violation.as_ref()
    }
}

#[cfg(test)]
mod tests;
