//! Channels and Flink's credit-based flow control.
//!
//! A channel connects one upstream subtask to one downstream subtask for one job edge. Its
//! sender side holds the buffer being filled and finished buffers waiting to go out; its
//! receiver side holds buffers that arrived and are not yet consumed.
//!
//! Between TaskManagers (remote channels) a sender may only send as many buffers as it holds
//! **credits**: one per free buffer the receiver has for it. Each channel owns
//! `exclusive_buffers_per_channel` (2) buffers — its initial credit — and may borrow from the
//! input gate's `floating_buffers_per_gate` (8) when the sender announces a backlog. A consumed
//! buffer gives its credit back (or its floating buffer back to the gate, if the channel no
//! longer needs it). When credits run out, finished buffers pile up at the sender, its output
//! pool fills, and the sending task stops: that is backpressure.
//!
//! Inside one TaskManager (local channels) there are no credits: the receiver reads the
//! sender's buffers directly, and a buffer returns to the sender's pool only once consumed.

use super::buffer::Buffer;
use crate::core::time::{SimDuration, SimTime};
use std::collections::VecDeque;

/// What a channel connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ends {
    /// Job edge.
    pub edge: u32,
    /// Sending task.
    pub from_task: u32,
    /// The sender's record writer feeding it.
    pub writer: u32,
    /// Receiving task.
    pub to_task: u32,
    /// Logical input of the receiving operator.
    pub input: u32,
}

/// One channel.
#[derive(Debug)]
pub struct Channel {
    /// Job edge it belongs to.
    pub edge: u32,
    /// Sending task.
    pub from_task: u32,
    /// Which of the sender's record writers feeds it.
    pub writer: u32,
    /// Receiving task.
    pub to_task: u32,
    /// Logical input of the receiving operator (0 for one-input operators).
    pub input: u32,
    /// Between TaskManagers?
    pub remote: bool,
    /// Latency of a buffer on this channel.
    pub latency: SimDuration,
    /// Sender: the buffer being filled.
    pub current: Option<Buffer>,
    /// Sender: finished buffers waiting for credit.
    pub backlog: VecDeque<Buffer>,
    /// Sender: buffers it may send (remote channels only).
    pub credits: u32,
    /// Network: sent buffers, in arrival order.
    pub in_flight: VecDeque<Buffer>,
    /// Arrival time of the last buffer sent (keeps the channel FIFO).
    pub last_arrival: SimTime,
    /// Receiver: arrived, not yet consumed.
    pub queue: VecDeque<Buffer>,
    /// Receiver: credit bookkeeping.
    pub rx: ReceiverCredits,
    /// Receiver: the end-of-partition event was consumed.
    pub ended: bool,
    /// Receiver: this channel's position in the receiving task's gate.
    pub gate_pos: u32,
    /// Buffers sent.
    pub buffers_sent: u64,
    /// Bytes sent.
    pub bytes_sent: u64,
    /// A network partition holds buffers on this channel until this time.
    pub held_until: SimTime,
}

impl Channel {
    /// A channel between `ends` with the given initial credit.
    pub fn new(ends: Ends, remote: bool, latency: SimDuration, exclusive: u32) -> Self {
        Channel {
            edge: ends.edge,
            from_task: ends.from_task,
            writer: ends.writer,
            to_task: ends.to_task,
            input: ends.input,
            remote,
            latency,
            current: None,
            backlog: VecDeque::new(),
            credits: exclusive,
            in_flight: VecDeque::new(),
            last_arrival: SimTime::ZERO,
            queue: VecDeque::new(),
            rx: ReceiverCredits {
                exclusive,
                floating_held: 0,
                queued: 0,
                announced_backlog: 0,
            },
            ended: false,
            gate_pos: 0,
            buffers_sent: 0,
            bytes_sent: 0,
            held_until: SimTime::ZERO,
        }
    }

    /// Whether the sender may put a buffer on the wire now.
    #[inline]
    pub fn can_send(&self) -> bool {
        !self.remote || self.credits > 0
    }
}

/// Appends `b` to one of a channel's buffer queues (backlog, in flight, received). A queue
/// starts with room for two buffers rather than `VecDeque`'s four: a channel mostly holds a
/// buffer or two at each stage, and a wide job has tens of thousands of channels.
#[inline]
pub fn enqueue(q: &mut VecDeque<Buffer>, b: Buffer) {
    if q.capacity() == 0 {
        q.reserve_exact(2);
    }
    q.push_back(b);
}

/// Gives back the memory of a channel's buffer queue once it is empty for good (its
/// end-of-partition buffer has passed): an ended channel of a wide job then holds no
/// allocation. An empty queue behaves the same with or without its memory.
#[inline]
pub fn shed(q: &mut VecDeque<Buffer>) {
    if q.is_empty() && q.capacity() > 0 {
        *q = VecDeque::new();
    }
}

/// The receiver's view of one remote channel's buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverCredits {
    /// Exclusive buffers (fixed).
    pub exclusive: u32,
    /// Floating buffers borrowed from the gate.
    pub floating_held: u32,
    /// Buffers holding data not yet consumed.
    pub queued: u32,
    /// The sender's backlog as last announced with a buffer.
    pub announced_backlog: u32,
}

impl ReceiverCredits {
    fn free(&self) -> u32 {
        (self.exclusive + self.floating_held).saturating_sub(self.queued)
    }

    /// Free buffers the channel wants: enough for the announced backlog plus its initial credit
    /// (Flink's `RemoteInputChannel.onSenderBacklog`).
    pub fn wants_floating(&self) -> bool {
        self.free() < self.announced_backlog + self.exclusive
    }

    /// A buffer arrived carrying the sender's backlog. Returns how many floating buffers the
    /// channel takes from the gate's pool; each becomes one credit for the sender.
    pub fn on_arrival(&mut self, backlog: u32, pool: &mut FloatingPool) -> u32 {
        self.queued += 1;
        self.announced_backlog = backlog;
        self.lend(pool)
    }

    /// Takes floating buffers from the gate's pool while the announced backlog needs them;
    /// returns how many (each one credit for the sender).
    pub fn lend(&mut self, pool: &mut FloatingPool) -> u32 {
        let mut granted = 0;
        while self.wants_floating() && pool.free > 0 {
            pool.free -= 1;
            self.floating_held += 1;
            granted += 1;
        }
        granted
    }

    /// A buffer was consumed. Returns the credit to give the sender (0 or 1); a surplus floating
    /// buffer goes back to the gate's pool instead.
    pub fn on_consumed(&mut self, pool: &mut FloatingPool) -> u32 {
        self.queued = self.queued.saturating_sub(1);
        if self.floating_held > 0 && self.free() > self.announced_backlog + self.exclusive {
            self.floating_held -= 1;
            pool.free += 1;
            0
        } else {
            1
        }
    }
}

/// The floating buffers of one input gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloatingPool {
    /// Floating buffers not lent to any channel.
    pub free: u32,
}

/// The remote channels of one input gate that may want floating buffers, by position in the
/// gate: when a floating buffer comes back to the pool, these are offered it in gate order.
///
/// A channel comes to want floating buffers only when a buffer arrives announcing a backlog
/// that its free buffers and the pool cannot cover ([`ReceiverCredits::on_arrival`]):
/// consuming a buffer and borrowing from the pool only ever make it want fewer. So a channel
/// is added on such an arrival and dropped once it is offered buffers and wants no more; a
/// rebuilt channel (after a restart) wants nothing, and a stale position is dropped when next
/// offered. Offering only these, in position order, hands out the same buffers to the same
/// channels as offering every channel of the gate in turn — without visiting all of a wide
/// gate's hundreds of channels for every buffer consumed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanting {
    /// One bit per gate position.
    words: Vec<u64>,
}

impl Wanting {
    /// An empty set for a gate of `channels` channels.
    pub fn new(channels: usize) -> Self {
        Wanting {
            words: vec![0; channels.div_ceil(64)],
        }
    }

    /// Adds gate position `pos`.
    #[inline]
    pub fn insert(&mut self, pos: u32) {
        self.words[pos as usize / 64] |= 1 << (pos % 64);
    }

    /// Drops gate position `pos`.
    #[inline]
    pub fn remove(&mut self, pos: u32) {
        self.words[pos as usize / 64] &= !(1 << (pos % 64));
    }

    /// The first position in the set at or after `from`.
    #[inline]
    pub fn next_from(&self, from: u32) -> Option<u32> {
        let mut w = from as usize / 64;
        let mut bits = self.words.get(w)? & (u64::MAX << (from % 64));
        loop {
            if bits != 0 {
                return Some((w * 64) as u32 + bits.trailing_zeros());
            }
            w += 1;
            bits = *self.words.get(w)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rx() -> ReceiverCredits {
        ReceiverCredits {
            exclusive: 2,
            floating_held: 0,
            queued: 0,
            announced_backlog: 0,
        }
    }

    #[test]
    fn a_channel_starts_with_its_exclusive_buffers_as_credit() {
        let ends = Ends {
            edge: 0,
            from_task: 0,
            writer: 0,
            to_task: 1,
            input: 0,
        };
        let c = Channel::new(ends, true, SimDuration::ZERO, 2);
        assert_eq!(c.credits, 2);
        assert!(c.can_send());
        let local = Channel::new(ends, false, SimDuration::ZERO, 2);
        assert!(local.can_send());
    }

    #[test]
    fn a_channel_keeps_its_initial_credit_free_with_a_floating_buffer() {
        // Flink's onSenderBacklog wants backlog + initialCredit free buffers: after one buffer
        // arrives with no backlog, one exclusive buffer is busy, so one floating one is lent…
        let mut pool = FloatingPool { free: 8 };
        let mut r = rx();
        assert_eq!(r.on_arrival(0, &mut pool), 1);
        assert_eq!(pool.free, 7);
        // …and given back once the buffer is consumed, instead of a credit.
        assert_eq!(r.on_consumed(&mut pool), 0);
        assert_eq!((r.floating_held, pool.free), (0, 8));
    }

    #[test]
    fn a_backlog_borrows_floating_buffers_up_to_the_pool() {
        let mut pool = FloatingPool { free: 8 };
        let mut r = rx();
        // one buffer queued, sender has 5 more: wants 5 + 2 free, has 1 ⇒ borrows 6
        assert_eq!(r.on_arrival(5, &mut pool), 6);
        assert_eq!((r.floating_held, pool.free), (6, 2));
        // a second channel with a huge backlog gets only what is left
        let mut r2 = rx();
        assert_eq!(r2.on_arrival(100, &mut pool), 2);
        assert_eq!(pool.free, 0);
    }

    #[test]
    fn surplus_floating_buffers_return_to_the_gate() {
        let mut pool = FloatingPool { free: 8 };
        let mut r = rx();
        r.on_arrival(3, &mut pool); // borrows 4
        assert_eq!(r.floating_held, 4);
        r.on_arrival(0, &mut pool); // backlog drained
        assert_eq!(r.queued, 2);
        // consuming: free grows past what the (now empty) backlog needs ⇒ floating goes back
        let credits: u32 = (0..2).map(|_| r.on_consumed(&mut pool)).sum();
        assert_eq!(credits, 0);
        assert_eq!((r.floating_held, pool.free), (2, 6));
    }

    #[test]
    fn an_empty_pool_lends_nothing_and_changes_nothing() {
        // The gate's scan for borrowers stops at an empty pool (kernel `recycle`): that is
        // exact only if lending from an empty pool is a no-op, whatever the channel's state.
        for floating_held in 0..4 {
            for queued in 0..6 {
                for announced_backlog in [0, 1, 5, 100] {
                    let mut r = ReceiverCredits {
                        exclusive: 2,
                        floating_held,
                        queued,
                        announced_backlog,
                    };
                    let before = r;
                    let mut pool = FloatingPool { free: 0 };
                    assert_eq!(r.lend(&mut pool), 0);
                    assert_eq!((r, pool.free), (before, 0));
                }
            }
        }
    }

    #[test]
    fn credits_are_conserved() {
        // Every buffer the receiver owns is either free (a credit the sender holds or will
        // get), queued, or back in the pool.
        let mut pool = FloatingPool { free: 8 };
        let mut r = rx();
        let mut sender_credits = 2u32;
        for backlog in [4u32, 7, 2, 0, 0, 9, 1, 0] {
            sender_credits -= 1; // one buffer sent…
            sender_credits += r.on_arrival(backlog, &mut pool); // …arrives
            sender_credits += r.on_consumed(&mut pool);
            assert_eq!(
                sender_credits + r.queued,
                r.exclusive + r.floating_held,
                "backlog {backlog}"
            );
            assert_eq!(r.floating_held + pool.free, 8);
        }
    }
}

#[cfg(test)]
mod wanting_tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn next_from_walks_the_set_in_position_order() {
        let mut w = Wanting::new(200);
        for p in [3, 64, 65, 130, 199] {
            w.insert(p);
        }
        w.remove(65);
        let mut seen = Vec::new();
        let mut from = 0;
        while let Some(p) = w.next_from(from) {
            seen.push(p);
            from = p + 1;
        }
        assert_eq!(seen, [3, 64, 130, 199]);
        assert_eq!(w.next_from(200), None);
        assert_eq!(Wanting::new(0).next_from(0), None);
    }

    /// What a channel's receiver can be told: a buffer arrived (with the sender's backlog),
    /// a buffer was consumed, or the gate offers it floating buffers.
    #[derive(Debug, Clone)]
    enum Step {
        Arrival(u32),
        Consumed,
        Offered,
    }

    proptest! {
        /// `Wanting` adds a channel only on arrivals: that is complete only if consuming a
        /// buffer or borrowing from the pool never makes a channel want floating buffers.
        #[test]
        fn only_an_arrival_makes_a_channel_want_floating_buffers(
            steps in proptest::collection::vec(
                prop_oneof![
                    (0u32..12).prop_map(Step::Arrival),
                    Just(Step::Consumed),
                    Just(Step::Offered),
                ],
                0..60,
            ),
            pool_size in 0u32..10,
        ) {
            let mut pool = FloatingPool { free: pool_size };
            let mut r = ReceiverCredits {
                exclusive: 2,
                floating_held: 0,
                queued: 0,
                announced_backlog: 0,
            };
            prop_assert!(!r.wants_floating(), "a new channel wants nothing");
            for step in steps {
                let wanted = r.wants_floating();
                match step {
                    Step::Arrival(backlog) => {
                        r.on_arrival(backlog, &mut pool);
                    }
                    Step::Consumed => {
                        if r.queued > 0 {
                            r.on_consumed(&mut pool);
                        }
                    }
                    Step::Offered => {
                        r.lend(&mut pool);
                    }
                }
                if !matches!(step, Step::Arrival(_)) {
                    prop_assert!(wanted || !r.wants_floating(), "{step:?} made it want");
                }
            }
        }
    }
}
