//! The sending side of the network stack: record writers, partitioners, buffer filling,
//! flushing and sending under credit.
//!
//! A task has one [`RecordWriter`] per outgoing job edge (Flink's result partition). Writing a
//! record picks the channel(s) by the edge's partitioner, serializes the record into that
//! channel's current buffer and, when the buffer is full, finishes it and sends it if the
//! channel has credit. The writer's buffer pool (`2 × channels + 8` buffers, Flink's
//! `buffers-per-channel` and `floating-buffers-per-gate`) bounds how much a task can have
//! waiting at its output: when the pool is used up the task is backpressured.
//!
//! Partly filled buffers go out when the output flusher fires (`execution.buffer-timeout.interval`,
//! every 100 ms by default; 0 flushes after every record). The flusher is periodic per task, so
//! it is simulated lazily: before a record is written at local time `t`, a flush that was due
//! at or before `t` is carried out first, at its own time.

use super::buffer::{Buffer, BufferPool, Marker, RECORD_HEADER_BYTES, RecMeta};
use super::channel::Channel;
use super::queue::{Event, EventQueue};
use crate::core::cost::CostModel;
use crate::core::rng::SimRng;
use crate::core::time::{SimDuration, SimTime};
use crate::core::value::{Interner, Value};
use crate::expr::Expr;
use crate::expr::eval::EvalCx;
use crate::flink::keygroup::{key_group_for_hash, subtask_for_key_group};
use crate::flink::partition;
use crate::ops::NetworkOutput;
use crate::ops::batch::View;
use crate::scenario::Partitioner;

/// What a chain needs on its way through a task of a run: expression evaluation and this
/// network ([`crate::ops::Cx`] with the kernel's [`Net`]).
pub type Cx<'a> = crate::ops::Cx<'a, Net<'a>>;

/// Records a HASH writer routes at a time (see [`Net::write_batch`]): small enough for the
/// chunk's channel list to live on the stack.
const ROUTE_CHUNK: usize = 64;

/// The channels of recently written keys of one HASH writer: a direct-mapped table from a
/// key to its channel, filled on first use. A key's channel is a function of the key and the
/// writer's fixed wiring, so an entry never goes stale; a miss computes the route (Java
/// `hashCode`, murmur hash, key group) and replaces the entry.
#[derive(Debug, Default)]
pub struct RouteMemo(Option<Box<[(Value, u32); RouteMemo::LEN]>>);

impl Clone for RouteMemo {
    /// An empty memo: it is a cache, refilled on use, so a copy need not carry the table.
    fn clone(&self) -> Self {
        RouteMemo(None)
    }
}

impl RouteMemo {
    const BITS: u32 = 11;
    const LEN: usize = 1 << Self::BITS;
    /// The channel of an unused entry.
    const EMPTY: u32 = u32::MAX;

    /// The table, allocated on first use.
    fn table(&mut self) -> &mut [(Value, u32); RouteMemo::LEN] {
        self.0.get_or_insert_with(|| {
            vec![(Value::Int(0), Self::EMPTY); Self::LEN]
                .into_boxed_slice()
                .try_into()
                .expect("a table of LEN entries")
        })
    }

    /// The entry of a key: the top bits of a multiplicative hash of its word.
    #[inline(always)]
    fn bucket(key: Value) -> usize {
        (key.hash_word().wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - Self::BITS)) as usize
    }
}

/// The output of a task for one job edge.
#[derive(Debug)]
pub struct RecordWriter {
    /// The edge's partitioner.
    pub partitioner: Partitioner,
    /// Channel ids by target position (downstream subtask for all-to-all edges).
    pub channels: Vec<u32>,
    /// Key of a HASH edge.
    pub key: Option<Expr>,
    /// The key's field, when the key is a plain field (the common case).
    pub key_field: Option<usize>,
    /// Target position of every key group (HASH edges), computed once.
    pub key_group_target: Vec<u32>,
    /// Downstream max parallelism (number of key groups).
    pub max_parallelism: u32,
    /// Downstream parallelism.
    pub downstream_parallelism: u32,
    /// Round-robin position (REBALANCE, RESCALE).
    pub next: u32,
    /// Randomness for SHUFFLE.
    pub rng: SimRng,
    /// Size of the output buffer pool.
    pub pool_size: u32,
    /// Buffers held: being filled, waiting for credit, or (local channels) not yet consumed.
    pub in_use: u32,
    /// Record arity.
    pub arity: u16,
    /// Serialized size of a record if it has no strings; `None` if sizes vary.
    pub fixed_bytes: Option<u32>,
    /// Records written (counting each copy of a broadcast).
    pub records: u64,
    /// Channels of recently written keys (HASH writers; see [`Net::write_batch`]).
    pub routes: RouteMemo,
}

impl RecordWriter {
    /// Precomputes the key-group → target table of a HASH edge (Flink's
    /// `KeyGroupRangeAssignment`: group `g` goes to subtask `g · p / maxParallelism`).
    pub fn with_key_groups(mut self) -> Self {
        self.key_field = self.key.as_ref().and_then(Expr::as_field);
        self.key_group_target = (0..self.max_parallelism)
            .map(|g| subtask_for_key_group(g, self.downstream_parallelism, self.max_parallelism))
            .collect();
        self
    }

    /// The target position of a key on a HASH edge (see [`key_target`]).
    #[inline(always)]
    fn target_of(&self, key: Value, interner: &crate::core::value::Interner) -> u32 {
        key_target(&self.key_group_target, self.max_parallelism, key, interner)
    }

    /// The target position of a record on a HASH edge: key → Java `hashCode` → Flink's
    /// `murmurHash` → key group → subtask (precomputed table).
    #[inline(always)]
    pub fn hash_target(&self, row: &[Value], ev: &mut EvalCx<'_>) -> u32 {
        self.target_of(key_of(self.key_field, &self.key, row, ev), ev.interner)
    }

    /// The target position of the next record (Flink's `ChannelSelector.selectChannel`,
    /// [`partition::target`]); `None` for BROADCAST: every channel. Every execution mode
    /// routes through this.
    #[inline(always)]
    pub fn select(&mut self, row: &[Value], ev: &mut EvalCx<'_>) -> Option<u32> {
        let n = self.channels.len() as u32;
        let RecordWriter {
            partitioner,
            next,
            rng,
            key,
            key_field,
            key_group_target,
            max_parallelism,
            ..
        } = self;
        partition::target(*partitioner, n, next, rng, || {
            let k = key_of(*key_field, key, row, ev);
            key_target(key_group_target, *max_parallelism, k, ev.interner)
        })
    }

    /// Whether the task may start processing another input (Flink's
    /// `RecordWriter.isAvailable`: a buffer is free in the pool).
    #[inline]
    pub fn available(&self) -> bool {
        self.in_use < self.pool_size
    }
}

/// The key of a record on a HASH edge: its key field, or the key expression evaluated.
#[inline(always)]
fn key_of(field: Option<usize>, key: &Option<Expr>, row: &[Value], ev: &mut EvalCx<'_>) -> Value {
    match (field, key) {
        (Some(i), _) => row[i],
        (None, Some(k)) => k.eval(row, &[], ev),
        (None, None) => Value::Int(0),
    }
}

/// The target position of a key on a HASH edge: Java `hashCode` → key group
/// ([`key_group_for_hash`]) → its subtask, looked up in the writer's table of
/// [`subtask_for_key_group`].
#[inline(always)]
fn key_target(table: &[u32], max_parallelism: u32, key: Value, interner: &Interner) -> u32 {
    table[key_group_for_hash(key.java_hash_code(interner), max_parallelism) as usize]
}

/// When a task's output flusher fires next.
#[derive(Debug, Clone, Copy)]
pub struct Flusher {
    /// `None`: flushing disabled; `Some(0)`: after every record; otherwise the interval.
    pub interval: Option<SimDuration>,
    /// The next tick (a multiple of the interval).
    pub deadline: SimTime,
    /// A `FlushTick` event is pending for `deadline`.
    pub tick_scheduled: bool,
    /// Buffer timeout 0: every record is flushed at once.
    pub every_record: bool,
}

impl Flusher {
    /// A flusher that first fires one interval after the start.
    pub fn new(interval: Option<SimDuration>) -> Self {
        let deadline = match interval {
            Some(d) if !d.is_zero() => SimTime::at(d),
            _ => SimTime::MAX,
        };
        let every_record = interval.is_some_and(SimDuration::is_zero);
        Flusher {
            interval,
            deadline,
            tick_scheduled: false,
            every_record,
        }
    }

    /// The first tick strictly after `t`.
    pub fn next_after(&self, t: SimTime) -> SimTime {
        match self.interval {
            Some(d) if !d.is_zero() => t.next_multiple_of(d),
            _ => SimTime::MAX,
        }
    }
}

/// Why a buffer left the sender (counted in the report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushCause {
    /// It was full.
    Full,
    /// The buffer timeout fired (or is 0).
    Timeout,
    /// End of input.
    End,
    /// An event (a checkpoint barrier) was sent.
    Event,
}

/// Counters of the sending side.
#[derive(Debug, Default, Clone, Copy)]
pub struct NetStats {
    /// Buffers finished because they were full.
    pub full: u64,
    /// Buffers finished by the flusher.
    pub timeout: u64,
    /// Buffers finished at end of input.
    pub end: u64,
    /// Buffers finished to send an event (checkpoint barriers) and the event buffers.
    pub event: u64,
}

/// What writing needs: the task's writers and flusher, and the simulation's channels,
/// buffers and queue.
pub struct Net<'a> {
    /// The task's writers, one per outgoing job edge.
    pub writers: &'a mut [RecordWriter],
    /// All channels of the job.
    pub channels: &'a mut [Channel],
    /// Recycled buffers.
    pub pool: &'a mut BufferPool,
    /// The event queue (for arrivals and flush ticks).
    pub queue: &'a mut EventQueue,
    /// The cost model.
    pub cost: &'a CostModel,
    /// The task's flusher.
    pub flusher: &'a mut Flusher,
    /// Sender statistics.
    pub stats: &'a mut NetStats,
    /// The task writing.
    pub task: u32,
    /// Set when a writer ran out of pool and overdraft: the task must stop after this record.
    pub blocked: bool,
}

impl Net<'_> {
    /// How many copies of a record writer `w` serializes (all channels for BROADCAST).
    #[inline]
    pub fn copies(&self, w: usize) -> u64 {
        let wr = &self.writers[w];
        wr.partitioner.copies(wr.channels.len()) as u64
    }

    /// Writes records through writer `w`, record `i` at local time `times[i]`.
    #[inline(never)]
    pub fn write_batch(
        &mut self,
        w: usize,
        view: View<'_>,
        times: &[SimTime],
        ev: &mut EvalCx<'_>,
    ) {
        // (the writer's memo is taken out while the writer's channels fill)
        let mut routes = std::mem::take(&mut self.writers[w].routes);
        self.write_batch_routed(w, view, times, &mut routes, ev);
        self.writers[w].routes = routes;
    }

    #[inline(always)]
    fn write_batch_routed(
        &mut self,
        w: usize,
        view: View<'_>,
        times: &[SimTime],
        routes: &mut RouteMemo,
        ev: &mut EvalCx<'_>,
    ) {
        let n = view.len().min(times.len());
        let fixed = self.writers[w].fixed_bytes;
        let size = |row: &[Value], ev: &EvalCx<'_>| match fixed {
            Some(b) => b,
            None => {
                RECORD_HEADER_BYTES
                    + row
                        .iter()
                        .map(|v| v.serialized_len(ev.interner))
                        .sum::<u32>()
            }
        };
        match self.writers[w].partitioner {
            Partitioner::Hash => {
                let view = view.slice(0, n);
                let times = &times[..n];
                match fixed {
                    Some(bytes) => self.write_hashed_fixed(w, view, times, bytes, routes, ev),
                    None => {
                        // Records of varying size (strings): route a chunk at a time through
                        // the memo, then put them one by one with their own sizes.
                        let mut targets = [0u32; ROUTE_CHUNK];
                        for (c, ts) in times.chunks(ROUTE_CHUNK).enumerate() {
                            let rows = view.slice(c * ROUTE_CHUNK, c * ROUTE_CHUNK + ts.len());
                            let targets = &mut targets[..ts.len()];
                            self.route_hashed(w, rows, targets, routes, ev);
                            for (i, (&t, &ch)) in ts.iter().zip(&*targets).enumerate() {
                                let row = rows.row(i);
                                let bytes = size(row, ev);
                                self.put(w, ch, row, rows.meta[i], bytes, t);
                            }
                        }
                    }
                }
                self.writers[w].records += n as u64;
            }
            Partitioner::Forward | Partitioner::Global => {
                let ch = self.writers[w].channels[0];
                for (i, t) in times.iter().enumerate().take(n) {
                    let row = view.row(i);
                    let bytes = size(row, ev);
                    self.put(w, ch, row, view.meta[i], bytes, *t);
                }
                self.writers[w].records += n as u64;
            }
            _ => {
                for (i, t) in times.iter().enumerate().take(n) {
                    self.write(w, view.row(i), view.meta[i], *t, ev);
                }
            }
        }
    }

    /// Writes fixed-size records through HASH writer `w`, record `i` at local time `times[i]`.
    ///
    /// Records go in chunks: first the channel of every record of the chunk (a tight loop
    /// over the keys, no buffer access), then the records into their channels' buffers, in
    /// record order — the order buffers fill and leave in is the same as one by one.
    #[inline]
    fn write_hashed_fixed(
        &mut self,
        w: usize,
        view: crate::ops::batch::View<'_>,
        times: &[SimTime],
        bytes: u32,
        routes: &mut RouteMemo,
        ev: &mut EvalCx<'_>,
    ) {
        let mut targets = [0u32; ROUTE_CHUNK];
        for (c, ts) in times.chunks(ROUTE_CHUNK).enumerate() {
            let rows = view.slice(c * ROUTE_CHUNK, c * ROUTE_CHUNK + ts.len());
            let targets = &mut targets[..ts.len()];
            self.route_hashed(w, rows, targets, routes, ev);
            match rows.arity {
                1 => self.put_routed::<1>(w, rows, ts, targets, bytes),
                2 => self.put_routed::<2>(w, rows, ts, targets, bytes),
                3 => self.put_routed::<3>(w, rows, ts, targets, bytes),
                4 => self.put_routed::<4>(w, rows, ts, targets, bytes),
                _ => {
                    let records = rows.values.chunks_exact(rows.arity.max(1)).zip(rows.meta);
                    for ((&t, &ch), (row, &meta)) in ts.iter().zip(&*targets).zip(records) {
                        self.put(w, ch, row, meta, bytes, t);
                    }
                }
            }
        }
    }

    /// Puts records of `A` fields into the channels `channels` (one per record): with the
    /// row length known at compile time, copying a row into a buffer is a few moves.
    #[inline(always)]
    fn put_routed<const A: usize>(
        &mut self,
        w: usize,
        rows: crate::ops::batch::View<'_>,
        times: &[SimTime],
        channels: &[u32],
        bytes: u32,
    ) {
        let (rows_a, _) = rows.values.as_chunks::<A>();
        let records = rows_a.iter().zip(rows.meta);
        if self.flusher.every_record {
            for ((&t, &ch), (row, &meta)) in times.iter().zip(channels).zip(records) {
                self.put(w, ch, row, meta, bytes, t);
            }
            return;
        }
        // `put` without the buffer-timeout-0 case, with the loop invariants in locals.
        let cap = self.cost.buffer_size_bytes;
        let mut deadline = self.flusher.deadline;
        for ((&t, &ch), (row, &meta)) in times.iter().zip(channels).zip(records) {
            if t >= deadline {
                self.flush_due(t);
                deadline = self.flusher.deadline;
            }
            match &mut self.channels[ch as usize].current {
                Some(b) if b.bytes + bytes <= cap => b.push(row, meta, bytes),
                _ => {
                    self.put_new_buffer(w, ch, row, meta, bytes, t);
                    deadline = self.flusher.deadline;
                }
            }
        }
    }

    /// The channel of every record of `rows` on HASH writer `w`, into `channels`.
    #[inline]
    fn route_hashed(
        &self,
        w: usize,
        rows: crate::ops::batch::View<'_>,
        channels: &mut [u32],
        routes: &mut RouteMemo,
        ev: &mut EvalCx<'_>,
    ) {
        let writer = &self.writers[w];
        let Some(f) = writer.key_field else {
            for (i, ch) in channels.iter_mut().enumerate() {
                let target = writer.hash_target(rows.row(i), ev);
                *ch = writer.channels[target as usize];
            }
            return;
        };
        let keys = rows.values.get(f..).unwrap_or_default();
        let keys = keys.iter().step_by(rows.arity.max(1));
        let memo = routes.table();
        for (ch, key) in channels.iter_mut().zip(keys) {
            let entry = &mut memo[RouteMemo::bucket(*key)];
            if entry.1 != RouteMemo::EMPTY && entry.0.same_as(*key) {
                *ch = entry.1;
            } else {
                *ch = writer.channels[writer.target_of(*key, ev.interner) as usize];
                *entry = (*key, *ch);
            }
        }
    }

    /// Writes a record at local time `t` through writer `w`.
    #[inline]
    pub fn write(
        &mut self,
        w: usize,
        row: &[Value],
        meta: RecMeta,
        t: SimTime,
        ev: &mut EvalCx<'_>,
    ) {
        let writer = &mut self.writers[w];
        let bytes = match writer.fixed_bytes {
            Some(b) => b,
            None => {
                RECORD_HEADER_BYTES
                    + row
                        .iter()
                        .map(|v| v.serialized_len(ev.interner))
                        .sum::<u32>()
            }
        };
        writer.records += 1;
        let Some(target) = writer.select(row, ev) else {
            // BROADCAST: a copy to every channel
            let n = writer.channels.len();
            writer.records += n as u64 - 1;
            for i in 0..n {
                let ch = self.writers[w].channels[i];
                self.put(w, ch, row, meta, bytes, t);
            }
            return;
        };
        let ch = self.writers[w].channels[target as usize];
        self.put(w, ch, row, meta, bytes, t);
    }

    /// Appends a record to channel `ch`'s current buffer, first carrying out a flush that was
    /// due before `t`.
    #[inline(always)]
    fn put(&mut self, w: usize, ch: u32, row: &[Value], meta: RecMeta, bytes: u32, t: SimTime) {
        if t >= self.flusher.deadline {
            self.flush_due(t);
        }
        let cap = self.cost.buffer_size_bytes;
        if let Some(b) = &mut self.channels[ch as usize].current
            && b.bytes + bytes <= cap
        {
            b.push(row, meta, bytes);
            if self.flusher.every_record {
                self.finish(w, ch, t, FlushCause::Timeout);
            }
            return;
        }
        self.put_new_buffer(w, ch, row, meta, bytes, t);
    }

    /// The lazily simulated periodic flush: flushes everything at the deadline that passed.
    #[cold]
    fn flush_due(&mut self, t: SimTime) {
        let at = self.flusher.deadline;
        self.flush_all(at, FlushCause::Timeout);
        self.flusher.deadline = self.flusher.next_after(t);
        // The pending tick (if any) is now stale; the next buffer schedules a fresh one.
        self.flusher.tick_scheduled = false;
    }

    /// The slow path of [`Net::put`]: the channel has no buffer, or it is full.
    #[inline(never)]
    fn put_new_buffer(
        &mut self,
        w: usize,
        ch: u32,
        row: &[Value],
        meta: RecMeta,
        bytes: u32,
        t: SimTime,
    ) {
        if self.channels[ch as usize].current.is_some() {
            self.finish(w, ch, t, FlushCause::Full);
        }
        let writer = &mut self.writers[w];
        let mut b = self.pool.take(writer.arity);
        b.push(row, meta, bytes);
        self.channels[ch as usize].current = Some(b);
        writer.in_use += 1;
        if writer.in_use >= writer.pool_size + self.cost.max_overdraft_buffers {
            self.blocked = true;
        }
        if self.flusher.every_record {
            self.finish(w, ch, t, FlushCause::Timeout);
        } else if self.flusher.interval.is_some() && !self.flusher.tick_scheduled {
            self.flusher.tick_scheduled = true;
            self.queue
                .schedule(self.flusher.deadline, Event::FlushTick { task: self.task });
        }
    }

    /// Writes a marker (watermark or status) to every channel of writer `w` at local time `t`:
    /// Flink broadcasts them, in order with the records.
    pub fn write_marker(&mut self, w: usize, m: super::buffer::Marker, t: SimTime) {
        if t >= self.flusher.deadline {
            self.flush_due(t);
        }
        let cap = self.cost.buffer_size_bytes;
        for i in 0..self.writers[w].channels.len() {
            let ch = self.writers[w].channels[i];
            if let Some(b) = &mut self.channels[ch as usize].current
                && b.bytes + super::buffer::MARKER_BYTES <= cap
            {
                b.push_marker(m);
            } else {
                if self.channels[ch as usize].current.is_some() {
                    self.finish(w, ch, t, FlushCause::Full);
                }
                let writer = &mut self.writers[w];
                let mut b = self.pool.take(writer.arity);
                b.push_marker(m);
                self.channels[ch as usize].current = Some(b);
                writer.in_use += 1;
                if !self.flusher.every_record
                    && self.flusher.interval.is_some()
                    && !self.flusher.tick_scheduled
                {
                    self.flusher.tick_scheduled = true;
                    self.queue
                        .schedule(self.flusher.deadline, Event::FlushTick { task: self.task });
                }
            }
            if self.flusher.every_record {
                self.finish(w, ch, t, FlushCause::Timeout);
            }
        }
    }

    /// Sends checkpoint barrier `id` on every channel of writer `w` at `t`. A barrier is an
    /// event, not a record: Flink finishes the partly filled buffer and sends the event in a
    /// buffer of its own at once (`BufferWritingResultPartition.broadcastEvent`).
    pub fn write_barrier(&mut self, w: usize, id: u64, t: SimTime) {
        for i in 0..self.writers[w].channels.len() {
            let ch = self.writers[w].channels[i];
            if self.channels[ch as usize].current.is_some() {
                self.finish(w, ch, t, FlushCause::Event);
            }
            let writer = &mut self.writers[w];
            let mut b = self.pool.take(writer.arity);
            b.push_marker(super::buffer::Marker::Barrier(id));
            writer.in_use += 1;
            self.channels[ch as usize].current = Some(b);
            self.finish(w, ch, t, FlushCause::Event);
        }
    }

    /// Sends the barrier of unaligned checkpoint `id` on every channel of writer `w` at `t` as
    /// a **priority event** (Flink's `broadcastEvent(barrier, isPriorityEvent = true)`): the
    /// partly filled buffer is finished and queued, and the barrier goes out at once, without
    /// credit and ahead of every buffer still waiting for credit. Those overtaken buffers are
    /// the sender's output channel state; the caller records them before this call. The
    /// network itself stays FIFO: buffers already on the wire still arrive first.
    pub fn write_priority_barrier(&mut self, w: usize, id: u64, t: SimTime) {
        for i in 0..self.writers[w].channels.len() {
            let ch = self.writers[w].channels[i];
            if self.channels[ch as usize].current.is_some() {
                self.finish(w, ch, t, FlushCause::Event);
            }
            let mut b = self.pool.take(self.writers[w].arity);
            b.push_marker(super::buffer::Marker::Barrier(id));
            b.finished_at = t;
            self.stats.event += 1;
            send_priority(
                &mut self.channels[ch as usize],
                ch,
                b,
                self.queue,
                self.cost,
            );
        }
    }

    /// Finishes the current buffer of channel `ch` (fed by writer `w`) at `t` and sends what
    /// credit allows.
    pub fn finish(&mut self, w: usize, ch: u32, t: SimTime, cause: FlushCause) {
        let c = &mut self.channels[ch as usize];
        let Some(mut b) = c.current.take() else {
            return;
        };
        b.finished_at = t;
        super::channel::enqueue(&mut c.backlog, b);
        match cause {
            FlushCause::Full => self.stats.full += 1,
            FlushCause::Timeout => self.stats.timeout += 1,
            FlushCause::End => self.stats.end += 1,
            FlushCause::Event => self.stats.event += 1,
        }
        self.send_ready(w, ch);
    }

    /// Finishes every partly filled buffer of the task at `t`.
    pub fn flush_all(&mut self, t: SimTime, cause: FlushCause) {
        for w in 0..self.writers.len() {
            for i in 0..self.writers[w].channels.len() {
                let ch = self.writers[w].channels[i];
                if self.channels[ch as usize].current.is_some() {
                    self.finish(w, ch, t, cause);
                }
            }
        }
    }

    /// Ends every output channel: flushes and sends the end-of-partition event.
    pub fn end_of_input(&mut self, t: SimTime) {
        self.flush_all(t, FlushCause::End);
        for w in 0..self.writers.len() {
            for i in 0..self.writers[w].channels.len() {
                let ch = self.writers[w].channels[i];
                let mut b = self.pool.take(self.writers[w].arity);
                b.end_of_partition = true;
                b.finished_at = t;
                self.writers[w].in_use += 1;
                super::channel::enqueue(&mut self.channels[ch as usize].backlog, b);
                self.send_ready(w, ch);
            }
        }
    }

    /// Sends backlogged buffers of channel `ch` while it has credit. A buffer leaves at the
    /// later of the time it was finished and now; on a remote channel it then frees its slot
    /// in the sender's pool (the receiver's memory holds it from there).
    pub fn send_ready(&mut self, w: usize, ch: u32) {
        send_ready(
            &mut self.writers[w],
            &mut self.channels[ch as usize],
            ch,
            self.queue,
            self.cost,
        );
    }
}

/// The kernel's network as a chain's output.
impl NetworkOutput for Net<'_> {
    #[inline]
    fn write_batch(&mut self, w: usize, records: View<'_>, times: &[SimTime], ev: &mut EvalCx<'_>) {
        Net::write_batch(self, w, records, times, ev);
    }

    #[inline]
    fn write_record(
        &mut self,
        w: usize,
        row: &[Value],
        meta: RecMeta,
        t: SimTime,
        ev: &mut EvalCx<'_>,
    ) {
        self.write(w, row, meta, t, ev);
    }

    /// Checkpoint barriers go as events (an unaligned one as a priority event), watermarks
    /// and idleness in order with the records.
    fn broadcast_marker(&mut self, w: usize, m: Marker, t: SimTime) {
        match m {
            Marker::Barrier(id) => self.write_barrier(w, id, t),
            Marker::UnalignedBarrier(id) => self.write_priority_barrier(w, id, t),
            _ => self.write_marker(w, m, t),
        }
    }
}

/// See [`Net::send_ready`]; usable outside a work item (when credit arrives).
pub fn send_ready(
    writer: &mut RecordWriter,
    c: &mut Channel,
    ch: u32,
    queue: &mut EventQueue,
    cost: &CostModel,
) {
    let now = queue.now();
    let mut ended = false;
    while c.can_send() {
        let Some(mut b) = c.backlog.pop_front() else {
            break;
        };
        ended |= b.end_of_partition;
        let send_at = b.finished_at.max(now);
        let mut arrive = send_at.plus(c.latency);
        if c.remote {
            c.credits -= 1;
            writer.in_use -= 1;
            arrive = arrive.plus(cost.transfer_time(b.bytes));
        }
        // a network partition delivers nothing until it heals
        arrive = arrive.max(c.last_arrival).max(c.held_until.plus(c.latency));
        c.last_arrival = arrive;
        c.buffers_sent += 1;
        c.bytes_sent += u64::from(b.bytes);
        b.finished_at = send_at;
        b.backlog = c.backlog.len() as u32;
        super::channel::enqueue(&mut c.in_flight, b);
        queue.schedule(arrive, Event::BufferArrives { channel: ch });
    }
    if ended {
        super::channel::shed(&mut c.backlog);
    }
}

/// Puts priority event `b` on the wire of channel `c` now (or when it was finished, if
/// later), whatever the credit: events are unpooled and need no receiver buffer.
pub fn send_priority(
    c: &mut Channel,
    ch: u32,
    mut b: Buffer,
    queue: &mut EventQueue,
    cost: &CostModel,
) {
    let send_at = b.finished_at.max(queue.now());
    let mut arrive = send_at.plus(c.latency);
    if c.remote {
        arrive = arrive.plus(cost.transfer_time(b.bytes));
    }
    arrive = arrive.max(c.last_arrival).max(c.held_until.plus(c.latency));
    c.last_arrival = arrive;
    c.buffers_sent += 1;
    c.bytes_sent += u64::from(b.bytes);
    b.finished_at = send_at;
    b.priority = true;
    b.unpooled = true;
    super::channel::enqueue(&mut c.in_flight, b);
    queue.schedule(arrive, Event::BufferArrives { channel: ch });
}

#[cfg(test)]
#[path = "net_tests.rs"]
mod tests;
