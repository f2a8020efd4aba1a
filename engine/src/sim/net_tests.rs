//! Tests of the network layer ([`super`]): record writers, flushing, credits, priority
//! barriers.

use super::*;
use crate::core::rng::SeedTree;
use crate::core::time::SimDuration;
use crate::core::value::Interner;
use crate::sim::channel::Ends;

struct Rig {
    writers: Vec<RecordWriter>,
    channels: Vec<Channel>,
    pool: BufferPool,
    queue: EventQueue,
    cost: CostModel,
    flusher: Flusher,
    stats: NetStats,
}

/// One writer with one channel; records are 13 + 8 = 21 bytes (one int field).
fn rig(remote: bool, timeout: Option<SimDuration>, buffer_bytes: u32) -> Rig {
    let cost = CostModel {
        buffer_size_bytes: buffer_bytes,
        ..CostModel::default()
    };
    let ends = Ends {
        edge: 0,
        from_task: 0,
        writer: 0,
        to_task: 1,
        input: 0,
    };
    Rig {
        writers: vec![RecordWriter {
            partitioner: Partitioner::Forward,
            channels: vec![0],
            key: None,
            key_field: None,
            key_group_target: vec![],
            max_parallelism: 128,
            downstream_parallelism: 1,
            next: 0,
            rng: SeedTree::new(0).stream("t"),
            pool_size: 2 + 8,
            in_use: 0,
            arity: 1,
            fixed_bytes: Some(21),
            records: 0,
            routes: RouteMemo::default(),
        }],
        channels: vec![Channel::new(ends, remote, SimDuration::from_micros(10), 2)],
        pool: BufferPool::default(),
        queue: EventQueue::new(),
        cost,
        flusher: Flusher::new(timeout),
        stats: NetStats::default(),
    }
}

impl Rig {
    /// The rig's task 0 as a [`Net`].
    fn net(&mut self) -> Net<'_> {
        Net {
            writers: &mut self.writers,
            channels: &mut self.channels,
            pool: &mut self.pool,
            queue: &mut self.queue,
            cost: &self.cost,
            flusher: &mut self.flusher,
            stats: &mut self.stats,
            task: 0,
            blocked: false,
        }
    }

    fn write(&mut self, t_ms: u64) {
        let mut interner = Interner::new();
        let (mut scratch, mut error) = (String::new(), None);
        let mut ev = EvalCx {
            interner: &mut interner,
            scratch: &mut scratch,
            error: &mut error,
        };
        let mut net = self.net();
        let t = SimTime::from_nanos(t_ms * 1_000_000);
        net.write(0, &[Value::Int(1)], RecMeta::untimed(t), t, &mut ev);
    }

    fn events(&mut self) -> Vec<(u64, Event)> {
        std::iter::from_fn(|| self.queue.pop())
            .map(|(t, e)| (t.as_nanos(), e))
            .collect()
    }
}

#[test]
fn a_buffer_is_sent_when_the_next_record_does_not_fit() {
    // 64-byte buffers hold 3 records of 21 bytes.
    let mut r = rig(true, None, 64);
    for ms in 0..4 {
        r.write(ms);
    }
    assert_eq!(r.stats.full, 1);
    let c = &r.channels[0];
    assert_eq!(c.in_flight.len(), 1);
    assert_eq!(c.in_flight[0].len(), 3);
    assert_eq!(
        c.in_flight[0].finished_at,
        SimTime::from_nanos(3_000_000),
        "finished when record 4 arrived"
    );
    assert_eq!(c.current.as_ref().map(|b| b.len()), Some(1));
    assert_eq!(c.credits, 1, "one of two credits used");
}

#[test]
fn without_credit_finished_buffers_wait_at_the_sender() {
    let mut r = rig(true, None, 32); // one record per buffer
    for ms in 0..5 {
        r.write(ms);
    }
    let c = &r.channels[0];
    assert_eq!((c.in_flight.len(), c.backlog.len(), c.credits), (2, 2, 0));
    // in use: 2 waiting for credit + 1 being filled (the 2 sent left the sender's pool)
    assert_eq!(r.writers[0].in_use, 3);
    // credit arrives: one more goes out
    r.channels[0].credits += 1;
    send_ready(
        &mut r.writers[0],
        &mut r.channels[0],
        0,
        &mut r.queue,
        &r.cost,
    );
    assert_eq!(r.channels[0].backlog.len(), 1);
    assert_eq!(r.writers[0].in_use, 2);
}

#[test]
fn the_buffer_timeout_flushes_a_partial_buffer_at_its_tick() {
    let mut r = rig(true, Some(SimDuration::from_millis(100)), 32 * 1024);
    r.write(10);
    // a tick is scheduled for 100 ms
    assert!(r.flusher.tick_scheduled);
    // the next record comes after the tick: the flush happens first, at 100 ms
    r.write(150);
    assert_eq!(r.stats.timeout, 1);
    assert_eq!(
        r.channels[0].in_flight[0].finished_at,
        SimTime::from_nanos(100_000_000)
    );
    assert_eq!(r.flusher.deadline, SimTime::from_nanos(200_000_000));
    let ev = r.events();
    assert!(
        ev.iter()
            .any(|(t, e)| *t == 100_000_000 && matches!(e, Event::FlushTick { .. })),
        "{ev:?}"
    );
}

#[test]
fn buffer_timeout_zero_sends_every_record_and_off_never_flushes_early() {
    let mut r = rig(true, Some(SimDuration::ZERO), 32 * 1024);
    r.write(1);
    r.write(2);
    assert_eq!(r.stats.timeout, 2);
    assert_eq!(r.channels[0].in_flight.len(), 2);
    let mut r = rig(true, None, 32 * 1024);
    r.write(1);
    r.write(500);
    assert!(!r.flusher.tick_scheduled);
    assert_eq!(r.channels[0].in_flight.len(), 0);
    assert_eq!(r.channels[0].current.as_ref().map(|b| b.len()), Some(2));
}

#[test]
fn an_unaligned_barrier_overtakes_buffers_waiting_for_credit() {
    let mut r = rig(true, None, 32); // one record per buffer
    for ms in 0..5 {
        r.write(ms);
    }
    // 2 sent under credit, 2 waiting for credit, 1 being filled
    assert_eq!(
        (r.channels[0].in_flight.len(), r.channels[0].backlog.len()),
        (2, 2)
    );
    let mut net = r.net();
    net.write_priority_barrier(0, 7, SimTime::from_nanos(10_000_000));
    let c = &r.channels[0];
    // the partial buffer joined the queue; the barrier went out without credit, behind
    // only what was already on the wire
    assert_eq!(c.backlog.len(), 3);
    assert_eq!(c.credits, 0);
    assert_eq!(c.in_flight.len(), 3);
    let b = c.in_flight.back().unwrap();
    assert!(b.priority && b.unpooled);
    assert_eq!(
        b.markers,
        vec![(0, super::super::buffer::Marker::Barrier(7))]
    );
    assert_eq!(r.writers[0].in_use, 3, "events hold no pool buffer");
}

#[test]
fn an_exhausted_pool_blocks_the_task() {
    // local channel: buffers stay in the sender's pool until consumed
    let mut r = rig(false, None, 32);
    for ms in 0..10 {
        r.write(ms);
    }
    assert!(
        !r.writers[0].available(),
        "10 buffers held = the whole pool"
    );
    assert_eq!(r.writers[0].in_use, 10);
}
