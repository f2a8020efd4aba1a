//! Heartbeats between the JobManager and the TaskManagers (Flink's `HeartbeatManager`).
//!
//! The JobManager asks every TaskManager for a heartbeat each `heartbeat.interval` (10 s);
//! each answer resets that TaskManager's timeout. When no answer came for `heartbeat.timeout`
//! (50 s), the JobMaster's `TaskManagerHeartbeatListener` declares the TaskManager lost
//! ("Heartbeat of TaskManager with id … timed out.") and its tasks fail over as for a crash,
//! under the restart strategy.
//!
//! A `network_partition` between TaskManagers `a < b` cuts `b` off from the JobManager too
//! (streamlab places the JobManager on the lower-numbered side). A partition that heals
//! before the timeout only stalls the links it cuts; a longer one becomes a TaskManager loss
//! at the moment the timeout expires: the last heartbeat answered before the partition (at
//! the last multiple of the interval) plus the timeout. The TaskManager is alive, so its slots
//! are usable again when the partition heals (it registers again).

use super::queue::{Event, EventQueue};
use crate::core::cost::CostModel;
use crate::core::time::{SimDuration, SimTime};

/// When the JobManager declares a TaskManager lost that is cut off from `start` to `heal`,
/// or `None` when the partition heals first.
pub fn timeout_at(
    start: SimTime,
    heal: SimTime,
    interval: SimDuration,
    timeout: SimDuration,
) -> Option<SimTime> {
    let last_answer = start.floor_to(interval);
    let at = last_answer.plus(timeout);
    (heal > at).then_some(at)
}

/// TaskManager `tm` is cut off from the JobManager from `now` until `heal`: if the
/// heartbeat timeout expires first, its loss is scheduled then.
pub fn cut_off(tm: u32, now: SimTime, heal: SimTime, cost: &CostModel, queue: &mut EventQueue) {
    if let Some(at) = timeout_at(now, heal, cost.heartbeat_interval, cost.heartbeat_timeout) {
        queue.schedule(at, Event::HeartbeatTimeout { tm, heal });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> SimTime = |s| SimTime::from_nanos(s * 1_000_000_000);

    #[test]
    fn a_partition_longer_than_the_timeout_is_a_loss_when_the_timeout_expires() {
        let (i, t) = (SimDuration::from_secs(10), SimDuration::from_secs(50));
        // cut at 12 s: the last heartbeat was answered at 10 s, so the timeout is at 60 s
        assert_eq!(timeout_at(S(12), S(132), i, t), Some(S(60)));
        // healed at 55 s, before the timeout: only a stall
        assert_eq!(timeout_at(S(12), S(55), i, t), None);
        assert_eq!(timeout_at(S(12), S(60), i, t), None);
        // a shorter timeout from the scenario
        assert_eq!(
            timeout_at(S(12), S(30), i, SimDuration::from_secs(15)),
            Some(S(25))
        );
    }
}
