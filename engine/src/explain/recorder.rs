//! What `explain` records while it re-runs a scenario: an [`Observer`] on the kernel's seam
//! that keeps the causal chain the answers need — the watermark history of every channel,
//! the firings of one window operator with the last record each subtask received, and the
//! records of one key that arrived for one window.
//!
//! Recording happens only when explaining: `streamlab run` pays nothing for it. A run is
//! deterministic, so the re-run sees exactly what the user's run did. Memory is bounded: a
//! channel keeps at most [`MAX_HISTORY`] watermark changes (then only the latest), and at most
//! [`MAX_ARRIVALS`] records of the asked key are kept.

use crate::core::time::{EventTime, Pace, SimTime};
use crate::core::value::{Interner, OrdValue, Value};
use crate::ops::Operator;
use crate::ops::element::{Marker, RecMeta};
use crate::sim::buffer::Buffer;
use crate::sim::channel::Channel;
use crate::sim::observe::{Observer, Violation};
use crate::sim::task::Task;
use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::rc::Rc;

/// Watermark changes kept per channel.
pub const MAX_HISTORY: usize = 100_000;
/// Records of the asked key kept.
pub const MAX_ARRIVALS: usize = 10_000;
/// Records kept per subtask of the watched operator, to find where its last input came from.
const RECENT: usize = 4096;

/// What a channel told its receiver about event time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WmEvent {
    /// The channel's watermark advanced to this value.
    Watermark(EventTime),
    /// The sender declared itself idle (`WatermarkStatus.IDLE`).
    Idle,
    /// The sender became active again.
    Active,
    /// The channel ended (end of partition).
    End,
    /// The channel was replaced by a new one (a restore or a rescale).
    Rebuilt,
}

/// A subtask as the recorder saw it.
#[derive(Debug, Clone)]
pub struct TaskInfo {
    /// As the summary names it (`Source: readings #1`).
    pub label: String,
    /// Its subtask index.
    pub subtask: u32,
    /// The logical-graph nodes of its chain, head first.
    pub nodes: Vec<usize>,
    /// For a source subtask: which rows of the source it reads (indices into the source's
    /// rows; empty: none), `None` for generated data.
    pub source_rows: Option<Vec<u32>>,
    /// For a paced source subtask: its pace (record `k` is born at `k × interval`).
    pub pace: Option<Pace>,
    /// Whether its source has data at all (a generated source with `count = 0` has none).
    pub has_data: bool,
}

/// A channel between two subtasks.
#[derive(Debug, Clone, Copy)]
pub struct ChannelInfo {
    /// The sending subtask (index into the recorder's tasks).
    pub from: u32,
    /// The receiving subtask.
    pub to: u32,
}

/// A record that reached a subtask, with where it came from.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// When its buffer arrived.
    pub at: SimTime,
    /// The channel it came on.
    pub channel: u32,
    /// Its fields, as JSON.
    pub row: Vec<serde_json::Value>,
    /// Its timestamp and birth.
    pub meta: RecMeta,
    /// The channel's watermark when it arrived.
    pub channel_watermark: EventTime,
}

/// One firing of the watched operator for the asked key.
#[derive(Debug, Clone)]
pub struct Fire {
    /// When (end of the work item that fired it).
    pub at: SimTime,
    /// The window operator's subtask (index into the recorder's tasks).
    pub task: u32,
    /// Window bounds.
    pub start: EventTime,
    /// End (exclusive).
    pub end: EventTime,
    /// The result fields.
    pub result: Vec<serde_json::Value>,
    /// The operator's watermark then.
    pub watermark: EventTime,
    /// The last record the operator had received, and where it came from if found.
    pub last_input: Option<(Vec<serde_json::Value>, Option<Arrival>)>,
}

/// A late record the operator sent to its side output.
#[derive(Debug, Clone)]
pub struct Late {
    /// When.
    pub at: SimTime,
    /// The subtask.
    pub task: u32,
    /// Its fields.
    pub row: Vec<serde_json::Value>,
    /// Its timestamp.
    pub ts: EventTime,
    /// The operator's watermark then.
    pub watermark: EventTime,
}

/// What one window question watches: an operator (logical node), a key, an event-time range.
#[derive(Debug, Clone)]
pub struct Watch {
    /// The window operator's logical node.
    pub node: usize,
    /// The key, as printed.
    pub key: String,
    /// Records with a timestamp in `[from, to)` are kept as arrivals.
    pub from: EventTime,
    /// End of that range (exclusive).
    pub to: EventTime,
}

/// Everything recorded during one run.
#[derive(Debug, Default)]
pub struct Recording {
    /// Subtasks of the job that ran last (after a rescale: the resubmitted job's).
    pub tasks: Vec<TaskInfo>,
    /// Channels, by the kernel's channel index.
    pub channels: Vec<ChannelInfo>,
    /// Per channel: its watermark events, in order.
    pub history: Vec<Vec<(SimTime, WmEvent)>>,
    /// Firings of the watched operator for the watched key (every window of the key).
    pub fires: Vec<Fire>,
    /// Late records of the watched operator sent to its side output.
    pub late: Vec<Late>,
    /// Records of the watched key in the watched range that reached the operator.
    pub arrivals: Vec<Arrival>,
    /// The watched checkpoint's barriers, one per channel, in order of arrival.
    pub barriers: Vec<BarrierSeen>,
    /// The watched checkpoint's snapshots: (subtask, when).
    pub snapshots: Vec<(u32, SimTime)>,
    /// The watched checkpoint's alignments: (subtask, when its first barrier was read).
    pub alignments: Vec<(u32, SimTime)>,
    /// The checkpoint whose barriers and snapshots are recorded.
    pub checkpoint: Option<u64>,
    /// Where the sinks write every row they make visible, when kept (`explain --sink`).
    pub lineage: Option<crate::ops::sink_lineage::SinkLineage>,
    /// Every restore: when, from which checkpoint, and which source offsets it rewound.
    pub restores: Vec<Restore>,
    /// Per source subtask: the offsets it had reached (per split) when it last ran.
    positions: Vec<Vec<SplitOffset>>,
    /// The record followed (`explain --record`): its source subtask and the birth it and
    /// what it becomes carry ([`FOLLOWED_BIRTH`]).
    pub follow: Option<(u32, SimTime)>,
    /// The record to follow, as asked: (source plan node, partition, position); the run
    /// marks it ([`crate::sim::RunOptions::follow_record`]) and `follow` names its subtask.
    pub follow_spec: Option<(usize, u32, u64)>,
    /// Each time the followed record was read, in order (again after a restore replayed
    /// it): its birth and when its source emitted it.
    pub reads: Vec<(SimTime, SimTime)>,
    /// Per window operator heading a chain: its node and key field.
    pub window_keys: Vec<(usize, Option<usize>)>,
    /// Where the followed record arrived: every channel end it reached, in order.
    pub hops: Vec<Arrival>,
    /// The followed record's hops not yet converted (needs the interner).
    hops_pending: Vec<Raw>,
    /// Whether the operator's input could be read off its buffers (it heads its chain).
    pub arrivals_seen: bool,
    /// Whether some arrivals were left out (more than [`MAX_ARRIVALS`]).
    pub arrivals_truncated: bool,
    watch: Option<Watch>,
    key_field: Option<usize>,
    /// Per task: records received lately, raw (converted to JSON when a work item ends).
    recent: Vec<Recent>,
    /// Watermark of every channel now.
    current: Vec<EventTime>,
    /// Records in the watched range not yet filtered by key.
    pending: Vec<Raw>,
    /// Whether a key value is the asked key (as printed), for every key value met so far.
    key_seen: FxHashMap<OrdValue, bool>,
    /// The asked key as an integer, when it is one printed as Rust and Java print it
    /// ([`int_key`]): an integer key value is the asked key exactly when it equals this.
    int_key: Option<i64>,
}

/// The integer a key printed as `key` is, if any: `21` is 21; `021`, `+21` or `21.0` are
/// no integer's printing, so no integer key value is them.
fn int_key(key: &str) -> Option<i64> {
    key.parse::<i64>().ok().filter(|n| n.to_string() == key)
}

/// A barrier of the watched checkpoint on one channel: when it reached the receiver's input
/// queue, what was queued ahead of it there, and when the subtask read it. An aligned barrier
/// is read only after every record ahead of it; an unaligned one (a priority buffer) at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BarrierSeen {
    /// The channel.
    pub channel: u32,
    /// When it reached the end of the channel (the receiver's input queue).
    pub arrived: SimTime,
    /// Records queued ahead of it on this channel then, not yet read by the subtask.
    pub records_ahead: u64,
    /// Their size in bytes.
    pub bytes_ahead: u64,
    /// When the subtask read it (none: not read before the run ended). An unaligned
    /// barrier counts as read on arrival; the subtask snapshots after its work in progress.
    pub read: Option<SimTime>,
    /// Whether it overtook the queued buffers (an unaligned barrier, a priority buffer).
    pub overtook: bool,
}

use crate::sim::source::FOLLOWED_BIRTH;
pub use crate::sim::source::SplitOffset;

/// A restore after a failure: the tasks were redeployed from a checkpoint and the sources
/// rewound to its offsets — what they read again is replayed.
#[derive(Clone, Debug, PartialEq)]
pub struct Restore {
    /// When the restored tasks were deployed.
    pub at: SimTime,
    /// The checkpoint restored (`None`: from the start).
    pub checkpoint: Option<u64>,
    /// Per restarted source subtask and split: (subtask, offset restored, offset reached
    /// before the failure) — the records in between are read twice.
    pub replayed: Vec<(u32, SplitOffset, u64)>,
}

/// A record as it arrived: when, on which channel, its fields, its metadata, the channel's
/// watermark then.
type Raw = (SimTime, u32, Vec<Value>, RecMeta, EventTime);

/// Where and when a record arrived: when, on which channel, its metadata, the channel's
/// watermark then.
type Seen = (SimTime, u32, RecMeta, EventTime);

/// The last [`RECENT`] records a subtask received, oldest overwritten first: their fields in
/// one flat ring (no allocation per record) and where each came from.
#[derive(Debug, Clone, Default)]
struct Recent {
    /// Fields, `arity` per record, in ring order.
    rows: Vec<Value>,
    /// Per record, where and when it arrived.
    seen: Vec<Seen>,
    /// Fields per record (every record a subtask receives has its input's arity).
    arity: usize,
    /// The slot the next record goes to once the ring is full.
    next: usize,
}

impl Recent {
    #[cfg(test)]
    fn push(&mut self, row: &[Value], seen: Seen) {
        if self.seen.is_empty() {
            self.arity = row.len();
        }
        debug_assert_eq!(row.len(), self.arity, "one arity per subtask input");
        if self.seen.len() < RECENT {
            self.rows.extend_from_slice(row);
            self.seen.push(seen);
            return;
        }
        let a = self.arity;
        self.rows[self.next * a..(self.next + 1) * a].copy_from_slice(row);
        self.seen[self.next] = seen;
        self.next = (self.next + 1) % RECENT;
    }

    /// Pushes every record of `rows` (`metas.len()` records, row-major) as [`Recent::push`]
    /// would one by one, all arrived when and where `at` says: the rows copied a run at a
    /// time, and records that the later ones of the same call would overwrite skipped.
    fn push_all(&mut self, rows: &[Value], metas: &[RecMeta], at: (SimTime, u32, EventTime)) {
        let n = metas.len();
        if n == 0 {
            return;
        }
        let a = rows.len() / n;
        if self.seen.is_empty() {
            self.arity = a;
        }
        debug_assert_eq!(a, self.arity, "one arity per subtask input");
        let (now, ch, wm) = at;
        let seen = |m: &RecMeta| (now, ch, *m, wm);
        let fill = (RECENT - self.seen.len()).min(n);
        self.rows.extend_from_slice(&rows[..fill * a]);
        self.seen.extend(metas[..fill].iter().map(seen));
        // The ring is full: record j of the rest goes to slot (next + j) mod RECENT, so only
        // the last RECENT of them stay.
        let rest = n - fill;
        let skip = rest.saturating_sub(RECENT);
        self.next = (self.next + skip) % RECENT;
        let mut k = fill + skip;
        while k < n {
            let run = (RECENT - self.next).min(n - k);
            let slots = self.next..self.next + run;
            self.rows[slots.start * a..slots.end * a].copy_from_slice(&rows[k * a..(k + run) * a]);
            for (dst, m) in self.seen[slots].iter_mut().zip(&metas[k..k + run]) {
                *dst = seen(m);
            }
            self.next = (self.next + run) % RECENT;
            k += run;
        }
    }

    /// The most recent record with these fields, as it arrived.
    fn latest(&self, row: &[Value]) -> Option<Raw> {
        let n = self.seen.len();
        let a = self.arity;
        // From the newest back: slots next−1, next−2, … (wrapping).
        (1..=n)
            .map(|back| (self.next + n - back) % n)
            .find(|&k| self.rows[k * a..(k + 1) * a] == *row)
            .map(|k| {
                let (at, ch, meta, wm) = self.seen[k];
                (at, ch, self.rows[k * a..(k + 1) * a].to_vec(), meta, wm)
            })
    }
}

impl Recording {
    /// Records `range` of buffer `b`, arrived at `now` on channel `ch` at subtask `to`, all
    /// under the channel's current watermark: the followed record's hop; for a `watched`
    /// subtask, every record into its recent ring and those with a timestamp in
    /// `[from, until)` whose key may be the asked one into the pending arrivals.
    #[allow(clippy::too_many_arguments)]
    fn records_arrived(
        &mut self,
        b: &Buffer,
        range: std::ops::Range<usize>,
        now: SimTime,
        ch: u32,
        to: u32,
        watched: bool,
        (from, until): (EventTime, EventTime),
    ) {
        if range.is_empty() {
            return;
        }
        let wm = self.current[ch as usize];
        // The followed record and what it became: nothing else carries its birth.
        if let Some((_, born)) = self.follow {
            for i in range.clone().filter(|&i| b.meta[i].born == born) {
                self.hops_pending
                    .push((now, ch, b.row(i).to_vec(), b.meta[i], wm));
            }
        }
        let Some(kf) = self.key_field.filter(|_| watched) else {
            return;
        };
        let a = b.arity as usize;
        let metas = &b.meta[range.clone()];
        self.recent[to as usize].push_all(
            &b.values[range.start * a..range.end * a],
            metas,
            (now, ch, wm),
        );
        for i in range {
            let ts = b.meta[i].ts;
            if ts >= from
                && ts < until
                && match b.row(i)[kf] {
                    // An integer is the asked key when it prints as it.
                    Value::Int(n) => self.int_key == Some(n),
                    k => self.key_seen.get(&OrdValue(k)) != Some(&false),
                }
            {
                // Filtered by key when a work item ends (naming a key needs the interner);
                // keys already known not to be the asked one are left out here.
                self.pending
                    .push((now, ch, b.row(i).to_vec(), b.meta[i], wm));
            }
        }
    }

    /// A recording that watches `watch` (or only the channels, with `None`).
    pub fn new(watch: Option<Watch>) -> Self {
        Recording {
            int_key: watch.as_ref().and_then(|w| int_key(&w.key)),
            watch,
            ..Default::default()
        }
    }

    /// A recording that watches checkpoint `id`.
    pub fn checkpoint(id: u64) -> Self {
        Recording {
            checkpoint: Some(id),
            ..Default::default()
        }
    }

    /// A recording that follows record `n` of partition `partition` of source node `source`
    /// through the job, with the window `watch` (if any) and the sinks' lineage.
    pub fn follow(
        source: usize,
        partition: u32,
        n: u64,
        watch: Option<Watch>,
        log: crate::ops::sink_lineage::SinkLineage,
    ) -> Self {
        Recording {
            follow_spec: Some((source, partition, n)),
            watch,
            lineage: Some(log),
            ..Default::default()
        }
    }

    /// A recording whose sinks keep every row they make visible in `log`.
    pub fn lineage(log: crate::ops::sink_lineage::SinkLineage) -> Self {
        Recording {
            lineage: Some(log),
            ..Default::default()
        }
    }

    /// The watermark a channel had reached at `t` (events at `t` included).
    pub fn watermark_at(&self, ch: u32, t: SimTime) -> EventTime {
        let mut wm = EventTime::MIN;
        for &(at, e) in &self.history[ch as usize] {
            if at > t {
                break;
            }
            match e {
                WmEvent::Watermark(w) => wm = w,
                WmEvent::Rebuilt => wm = EventTime::MIN,
                _ => {}
            }
        }
        wm
    }

    /// The channels into subtask `task`.
    pub fn inputs_of(&self, task: u32) -> Vec<u32> {
        (0..self.channels.len() as u32)
            .filter(|&c| self.channels[c as usize].to == task)
            .collect()
    }

    fn capture(&mut self, tasks: &[Task], channels: &[Channel]) {
        self.tasks = tasks.iter().map(task_info).collect();
        self.channels = channels
            .iter()
            .map(|c| ChannelInfo {
                from: c.from_task,
                to: c.to_task,
            })
            .collect();
        self.history.resize(channels.len(), Vec::new());
        self.current.resize(channels.len(), EventTime::MIN);
        self.recent.resize(tasks.len(), Recent::default());
        self.window_keys.clear();
        for t in tasks {
            if let Some(slot) = t.chain.ops.first()
                && let Operator::Window(op) = &slot.op
                && !self.window_keys.iter().any(|x| x.0 == slot.node)
            {
                self.window_keys.push((slot.node, op.key_field()));
            }
        }
        if self.follow.is_none()
            && let Some((node, partition, _)) = self.follow_spec
        {
            self.follow = tasks.iter().enumerate().find_map(|(i, t)| {
                let src = t.source.as_ref()?;
                let owns = src.offsets().iter().any(|o| o.split == partition);
                (t.chain.ops.first()?.node == node && owns).then_some(())?;
                Some((i as u32, FOLLOWED_BIRTH))
            });
        }
        if let Some(w) = &self.watch {
            for t in tasks {
                if let Some(slot) = t.chain.ops.first()
                    && slot.node == w.node
                    && let Operator::Window(op) = &slot.op
                {
                    self.key_field = op.key_field();
                    self.arrivals_seen = self.key_field.is_some();
                }
            }
        }
    }

    fn push(&mut self, ch: u32, at: SimTime, e: WmEvent) {
        let h = &mut self.history[ch as usize];
        if h.len() >= MAX_HISTORY {
            h.remove(1);
        }
        h.push((at, e));
        match e {
            WmEvent::Watermark(w) => self.current[ch as usize] = w,
            WmEvent::Rebuilt => self.current[ch as usize] = EventTime::MIN,
            _ => {}
        }
    }

    fn watched_task(&self, ti: u32) -> bool {
        match &self.watch {
            Some(w) => self
                .tasks
                .get(ti as usize)
                .is_some_and(|t| t.nodes.first() == Some(&w.node)),
            None => false,
        }
    }
}

fn task_info(t: &Task) -> TaskInfo {
    let (source_rows, pace, has_data) = match &t.source {
        Some(src) => match &src.data {
            crate::sim::source::SourceData::Rows { mine, .. } => {
                (Some(mine.clone()), src.pace, !mine.is_empty())
            }
            crate::sim::source::SourceData::Generated { .. } => {
                (None, src.pace, src.total != Some(0))
            }
        },
        None => (None, None, true),
    };
    TaskInfo {
        label: t.label.clone(),
        subtask: t.subtask,
        nodes: t.chain.ops.iter().map(|s| s.node).collect(),
        source_rows,
        pace,
        has_data,
    }
}

/// The recorder: a shared [`Recording`] the kernel writes through the observer seam and
/// `explain` reads after the run.
#[derive(Clone, Default)]
pub struct Recorder(pub Rc<RefCell<Recording>>);

impl Observer for Recorder {
    fn buffer_arrived(
        &mut self,
        now: SimTime,
        ch: u32,
        b: &Buffer,
        channels: &[Channel],
        tasks: &[Task],
    ) {
        let mut r = self.0.borrow_mut();
        if r.channels.len() != channels.len() || r.tasks.len() != tasks.len() {
            r.capture(tasks, channels);
        }
        let to = channels[ch as usize].to_task;
        let watched = r.watched_task(to) && r.key_field.is_some();
        let (from, until) = r
            .watch
            .as_ref()
            .map_or((EventTime::ZERO, EventTime::ZERO), |w| (w.from, w.to));
        // The records between two marker positions arrive under one channel watermark; the
        // markers at position p come before record p.
        let mut next_marker = 0;
        let mut start = 0;
        loop {
            let end = b
                .markers
                .get(next_marker)
                .map_or(b.len(), |m| (m.0 as usize).min(b.len()))
                .max(start);
            let range = start..end;
            r.records_arrived(b, range, now, ch, to, watched, (from, until));
            start = end;
            let before = next_marker;
            while next_marker < b.markers.len() && b.markers[next_marker].0 as usize <= start {
                let e = match b.markers[next_marker].1 {
                    Marker::Watermark(w) => Some(WmEvent::Watermark(w)),
                    Marker::Idle => Some(WmEvent::Idle),
                    Marker::Active => Some(WmEvent::Active),
                    Marker::Barrier(id) | Marker::UnalignedBarrier(id) => {
                        if r.checkpoint == Some(id) && !r.barriers.iter().any(|x| x.channel == ch) {
                            let seen = queued_ahead(ch, b, next_marker, channels, tasks, now);
                            r.barriers.push(seen);
                        }
                        None
                    }
                };
                if let Some(e) = e {
                    r.push(ch, now, e);
                }
                next_marker += 1;
            }
            if next_marker == before {
                break; // no marker left
            }
        }
        if b.end_of_partition {
            r.push(ch, now, WmEvent::End);
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
        let mut r = self.0.borrow_mut();
        let r = &mut *r;
        let watched = r.watched_task(ti);
        if !r.pending.is_empty() {
            convert_arrivals(r, interner);
        }
        for x in std::mem::take(&mut r.hops_pending) {
            r.hops.push(arrival(&x, interner));
        }
        if let Some(id) = r.checkpoint {
            barriers_read(r, id, end, ti, task);
        }
        if let Some(src) = task.source.as_mut() {
            src.take_reads(&mut r.reads);
            if r.positions.len() <= ti as usize {
                r.positions.resize(ti as usize + 1, Vec::new());
            }
            r.positions[ti as usize] = task.source_offsets();
        }
        for slot in &mut task.chain.ops {
            let Operator::Window(w) = &mut slot.op else {
                continue;
            };
            let mine = watched && r.watch.as_ref().is_some_and(|wt| wt.node == slot.node);
            let Some(log) = w.log.as_mut() else { continue };
            if !mine {
                if drain {
                    log.clear();
                }
                continue;
            }
            let entries: Vec<_> = if drain {
                std::mem::take(log)
            } else {
                log.clone()
            };
            let key = r.watch.as_ref().map(|w| w.key.clone()).unwrap_or_default();
            let js = |v: &[Value]| v.iter().map(|x| x.to_json(interner)).collect::<Vec<_>>();
            for e in entries {
                match e {
                    crate::ops::window::Emitted::Fire {
                        key: k,
                        window,
                        result,
                        watermark,
                        last_input,
                    } => {
                        if !key_matches(&k.to_json(interner), &key) {
                            continue;
                        }
                        let last_input = last_input.map(|row| {
                            let origin = r.recent[ti as usize]
                                .latest(&row)
                                .map(|x| arrival(&x, interner));
                            (js(&row), origin)
                        });
                        r.fires.push(Fire {
                            at: end,
                            task: ti,
                            start: window.start,
                            end: window.end,
                            result: js(&result),
                            watermark,
                            last_input,
                        });
                    }
                    crate::ops::window::Emitted::Late {
                        row, ts, watermark, ..
                    } => {
                        let kf = r.key_field;
                        if kf.is_some_and(|f| key_matches(&row[f].to_json(interner), &key)) {
                            r.late.push(Late {
                                at: end,
                                task: ti,
                                row: js(&row),
                                ts,
                                watermark,
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn snapshot_taken(&mut self, now: SimTime, ti: u32, id: u64, _: &Task) {
        let mut r = self.0.borrow_mut();
        if r.checkpoint == Some(id) && !r.snapshots.iter().any(|x| x.0 == ti) {
            r.snapshots.push((ti, now));
            // An aligned snapshot follows the read of the last barrier.
            let ins = r.inputs_of(ti);
            if !ins.is_empty() && !r.alignments.iter().any(|x| x.0 == ti) {
                r.alignments.push((ti, now));
            }
            for b in r.barriers.iter_mut() {
                if ins.contains(&b.channel) && b.read.is_none() {
                    b.read = Some(now);
                }
            }
        }
    }

    fn checkpoint_notified(&mut self, _: SimTime, _: u32, _: u64, _: &Task) {}

    fn restored(
        &mut self,
        now: SimTime,
        restarted: &[u32],
        restored: Option<u64>,
        tasks: &[Task],
        rebuilt: &[bool],
    ) {
        let mut r = self.0.borrow_mut();
        let mut replayed = Vec::new();
        for &ti in restarted {
            let before = r.positions.get(ti as usize).cloned().unwrap_or_default();
            for now_at in tasks[ti as usize].source_offsets() {
                let reached = before
                    .iter()
                    .find(|b| b.split == now_at.split)
                    .map_or(now_at.offset, |b| b.offset);
                replayed.push((ti, now_at, reached));
            }
        }
        r.restores.push(Restore {
            at: now,
            checkpoint: restored,
            replayed,
        });
        for (c, &new) in rebuilt.iter().enumerate() {
            if new && c < r.history.len() {
                r.push(c as u32, now, WmEvent::Rebuilt);
            }
        }
        for (i, t) in tasks.iter().enumerate() {
            if i < r.tasks.len() {
                r.tasks[i] = task_info(t);
            }
        }
    }

    fn resubmitted(&mut self, now: SimTime, _savepoint: u64, tasks: &[Task], channels: usize) {
        let mut r = self.0.borrow_mut();
        r.tasks = tasks.iter().map(task_info).collect();
        r.channels.clear();
        r.history = vec![vec![(now, WmEvent::Rebuilt)]; channels];
        r.current = vec![EventTime::MIN; channels];
        r.recent = vec![Recent::default(); tasks.len()];
    }

    fn violation(&self) -> Option<&Violation> {
        None
    }
}

/// Task `ti` ended a work item at `end` while aligning checkpoint `id`: the barriers it has
/// read so far. Reading an aligned barrier ends the work item (the channel blocks), so `end`
/// is when it was read.
fn barriers_read(r: &mut Recording, id: u64, end: SimTime, ti: u32, task: &Task) {
    let Some(a) = task.gate.barriers.align.as_ref().filter(|a| a.id == id) else {
        return;
    };
    if !r.alignments.iter().any(|x| x.0 == ti) {
        r.alignments.push((ti, a.started));
    }
    for (slot, _) in a.seen.iter().enumerate().filter(|x| *x.1) {
        let ch = task.gate.channels[slot];
        if let Some(b) = r.barriers.iter_mut().find(|b| b.channel == ch)
            && b.read.is_none()
        {
            b.read = Some(end);
        }
    }
}

/// A barrier that just reached the end of channel `ch` in buffer `b` (its `marker`-th
/// marker): the records queued ahead of it — in the channel's input queue, the rest of the
/// buffer the subtask is reading from this channel, and the records before it in `b`. A
/// priority buffer (an unaligned barrier) overtakes them all and is read on arrival.
fn queued_ahead(
    ch: u32,
    b: &Buffer,
    marker: usize,
    channels: &[Channel],
    tasks: &[Task],
    now: SimTime,
) -> BarrierSeen {
    let c = &channels[ch as usize];
    let (mut records, mut bytes) = (0u64, 0u64);
    if !b.priority {
        for q in &c.queue {
            records += q.len() as u64;
            bytes += u64::from(q.bytes);
        }
        if let Some((cur, cb, pos, _)) = &tasks[c.to_task as usize].gate.current
            && *cur == ch
        {
            let rest = cb.len().saturating_sub(*pos);
            records += rest as u64;
            bytes += u64::from(cb.bytes) * rest as u64 / cb.len().max(1) as u64;
        }
        let before = b.markers[marker].0 as u64;
        records += before;
        bytes += u64::from(b.bytes) * before / b.len().max(1) as u64;
    }
    BarrierSeen {
        channel: ch,
        arrived: now,
        records_ahead: records,
        bytes_ahead: bytes,
        read: b.priority.then_some(now),
        overtook: b.priority,
    }
}

/// Moves the pending records of the watched key into the arrivals.
fn convert_arrivals(r: &mut Recording, interner: &Interner) {
    let (Some(w), Some(kf)) = (r.watch.as_ref(), r.key_field) else {
        r.pending.clear();
        return;
    };
    let key = w.key.clone();
    for x in std::mem::take(&mut r.pending) {
        let k = OrdValue(x.2[kf]);
        let is = *r
            .key_seen
            .entry(k)
            .or_insert_with(|| key_matches(&k.0.to_json(interner), &key));
        if !is {
            continue;
        }
        if r.arrivals.len() >= MAX_ARRIVALS {
            r.arrivals_truncated = true;
            break;
        }
        r.arrivals.push(arrival(&x, interner));
    }
}

fn arrival(x: &Raw, interner: &Interner) -> Arrival {
    Arrival {
        at: x.0,
        channel: x.1,
        row: x.2.iter().map(|v| v.to_json(interner)).collect(),
        meta: x.3,
        channel_watermark: x.4,
    }
}

/// Whether a key printed as JSON is the key the user typed (`alice`, `3`).
pub fn key_matches(v: &serde_json::Value, key: &str) -> bool {
    match v {
        serde_json::Value::String(s) => s == key,
        // A number or bool as printed (`3`): compared as text, not as a JSON value.
        other => other.to_string().as_str() == key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_integer_key_value_is_the_asked_key_exactly_when_it_prints_as_it() {
        let interner = Interner::new();
        let keys = [
            "21",
            "-3",
            "0",
            "-0",
            "021",
            "+21",
            "21.0",
            " 21",
            "abc",
            "",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
        ];
        let values = [21, -3, 0, 22, i64::MAX, i64::MIN, 9];
        for key in keys {
            for n in values {
                let printed = key_matches(&Value::Int(n).to_json(&interner), key);
                assert_eq!(int_key(key) == Some(n), printed, "key {key:?}, value {n}");
            }
        }
    }

    /// Pushing runs of records at once leaves the ring as pushing them one by one does:
    /// runs shorter and longer than the ring, starting empty, part full and wrapped.
    #[test]
    fn pushing_a_run_equals_pushing_its_records_one_by_one() {
        let mut x: u64 = 7;
        let mut next = move |m: u64| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (x >> 33) % m
        };
        for _ in 0..40 {
            let (mut one, mut all) = (Recent::default(), Recent::default());
            let mut i = 0u64;
            for _ in 0..8 {
                let n = match next(4) {
                    0 => next(3),
                    1 => next(100),
                    2 => RECENT as u64 - 2 + next(5),
                    _ => 2 * RECENT as u64 + next(50),
                };
                let at = (
                    SimTime::from_millis(i),
                    i as u32,
                    EventTime::from_millis(i as i64),
                );
                let mut rows = Vec::new();
                let mut metas = Vec::new();
                for _ in 0..n {
                    let row = [Value::Int(i as i64), Value::Int(next(10) as i64)];
                    let meta = seen(i).2;
                    one.push(&row, (at.0, at.1, meta, at.2));
                    rows.extend_from_slice(&row);
                    metas.push(meta);
                    i += 1;
                }
                all.push_all(&rows, &metas, at);
                assert_eq!(
                    (&one.rows, &one.seen, one.next),
                    (&all.rows, &all.seen, all.next),
                    "after {i} records"
                );
            }
        }
    }

    fn seen(i: u64) -> Seen {
        let meta = RecMeta {
            ts: EventTime::from_millis(i as i64),
            born: SimTime::ZERO,
        };
        (SimTime::from_millis(i), i as u32, meta, EventTime::MIN)
    }

    /// The ring keeps the last RECENT records and finds the newest one with given fields,
    /// also after it wrapped around; older records are forgotten.
    #[test]
    fn the_recent_ring_finds_the_newest_equal_record_and_forgets_the_oldest() {
        let mut r = Recent::default();
        let total = RECENT as u64 + 1000;
        // Record i has fields (i mod 2000, 7): a value comes back every 2000 records.
        for i in 0..total {
            r.push(&[Value::Int((i % 2000) as i64), Value::Int(7)], seen(i));
        }
        // Kept: records 1000 .. total. Which record is the newest with value v.
        let newest = |v: i64| r.latest(&[Value::Int(v), Value::Int(7)]).map(|x| x.1);
        assert_eq!(newest(5), Some(4005), "5 came at 5, 2005 and 4005");
        assert_eq!(newest(1000), Some(5000), "1000 came at 1000, 3000 and 5000");
        assert_eq!(newest(1999), Some(3999), "1999 came at 1999 and 3999");
        assert_eq!(
            newest(999),
            Some(4999),
            "999 came at 999 (forgotten), 2999, 4999"
        );
        assert_eq!(newest(2000), None, "never pushed");
        let mut small = Recent::default();
        for i in 0..10 {
            small.push(&[Value::Int(i as i64 % 4)], seen(i));
        }
        assert_eq!(small.latest(&[Value::Int(1)]).map(|x| x.1), Some(9));
        assert_eq!(small.latest(&[Value::Int(3)]).map(|x| x.1), Some(7));
        // Only the newest RECENT are kept: with unique fields the first ones are gone.
        let mut unique = Recent::default();
        for i in 0..total {
            unique.push(&[Value::Int(i as i64)], seen(i));
        }
        assert_eq!(unique.latest(&[Value::Int(999)]), None, "forgotten");
        assert_eq!(unique.latest(&[Value::Int(1000)]).map(|x| x.1), Some(1000));
        assert_eq!(
            unique.latest(&[Value::Int(total as i64 - 1)]).map(|x| x.1),
            Some(total as u32 - 1)
        );
    }
}
