//! Each invariant checker catches what it watches for, and stays quiet on the bundled
//! scenarios.

use super::*;
use crate::core::event_time::ms;

#[test]
fn a_watermark_that_goes_back_on_a_channel_is_caught() {
    let mut c = ChannelOrder::new(false);
    assert_eq!(c.see(0, 1_000), Ok(()));
    assert_eq!(c.see(0, 1_000), Ok(()), "repeating is not going back");
    assert_eq!(c.see(1, 500), Ok(()), "another channel has its own order");
    assert_eq!(c.see(0, 999), Err(1_000));
    // a rebuilt channel starts again
    c.reset(0);
    assert_eq!(c.see(0, 10), Ok(()));
    c.reset_all();
    assert_eq!(c.see(1, 0), Ok(()));
}

#[test]
fn a_barrier_out_of_order_or_repeated_on_a_channel_is_caught() {
    let mut c = ChannelOrder::new(true);
    assert_eq!(c.see(3, 1u64), Ok(()));
    assert_eq!(c.see(3, 3), Ok(()), "aborted checkpoints leave gaps");
    assert_eq!(c.see(3, 2), Err(3));
    assert_eq!(c.see(3, 3), Err(3), "the same barrier twice");
    assert_eq!(c.see(4, 2), Ok(()));
}

const W: Window = Window {
    start: ms(0),
    end: ms(1_000),
};

fn firings(repeats: bool, allowed_lateness: i64) -> WindowFirings {
    WindowFirings::new(vec![
        None,
        Some(FiringRule {
            repeats,
            allowed_lateness,
        }),
    ])
}

const T: SimTime = SimTime::from_nanos(5);

#[test]
fn a_window_fired_twice_without_lateness_or_restore_is_caught() {
    let mut f = firings(false, 0);
    assert_eq!(f.fire(1, 0, Value::Int(7), W, ms(999), T), Ok(()));
    assert_eq!(
        f.fire(1, 0, Value::Int(8), W, ms(999), T),
        Ok(()),
        "another key"
    );
    let again = f.fire(1, 0, Value::Int(7), W, ms(1_500), T);
    assert_eq!(again.map_err(|e| e.watermark), Err(ms(999)));
    // not a window operator: nothing checked
    assert_eq!(f.fire(0, 0, Value::Int(7), W, ms(999), T), Ok(()));
}

#[test]
fn a_late_firing_within_the_allowed_lateness_is_explained_and_one_after_it_is_not() {
    let mut f = firings(false, 500);
    assert_eq!(f.fire(1, 0, Value::Int(7), W, ms(999), T), Ok(()));
    assert_eq!(f.fire(1, 0, Value::Int(7), W, ms(1_200), T), Ok(()));
    assert!(f.fire(1, 0, Value::Int(7), W, ms(1_499), T).is_err());
    // a repeating trigger needs no explanation
    let mut f = firings(true, 0);
    assert_eq!(f.fire(1, 0, Value::Int(7), W, ms(999), T), Ok(()));
    assert_eq!(f.fire(1, 0, Value::Int(7), W, ms(999), T), Ok(()));
}

#[test]
fn a_restore_explains_a_repeat_of_what_fired_after_the_checkpoint_only() {
    let mut f = firings(false, 0);
    let w2 = Window {
        start: ms(1_000),
        end: ms(2_000),
    };
    assert_eq!(f.fire(1, 0, Value::Int(1), W, ms(999), T), Ok(()));
    f.snapshot(0, 4);
    assert_eq!(f.fire(1, 0, Value::Int(1), w2, ms(1_999), T), Ok(()));
    f.restore(&[0], Some(4));
    // w2 fired after checkpoint 4: its replay may fire it again; W is in the state
    assert_eq!(f.fire(1, 0, Value::Int(1), w2, ms(1_999), T), Ok(()));
    assert!(f.fire(1, 0, Value::Int(1), W, ms(999), T).is_err());
    // the restore of another task explains nothing
    let mut f = firings(false, 0);
    assert_eq!(f.fire(1, 0, Value::Int(1), W, ms(999), T), Ok(()));
    f.restore(&[1], None);
    assert!(f.fire(1, 0, Value::Int(1), W, ms(999), T).is_err());
    // from scratch: everything may come again
    f.restore(&[0], None);
    assert_eq!(f.fire(1, 0, Value::Int(1), W, ms(999), T), Ok(()));
    // a resubmission from savepoint 2 keeps the firings before it
    f.snapshot(0, 2);
    assert_eq!(f.fire(1, 0, Value::Int(2), W, ms(999), T), Ok(()));
    f.resubmit(2, 3);
    assert!(f.fire(1, 2, Value::Int(1), W, ms(999), T).is_err());
    assert_eq!(f.fire(1, 2, Value::Int(2), W, ms(999), T), Ok(()));
}

fn invariants() -> Invariants {
    let text = "[[source]]\nname = \"s\"\nkind = \"inline\"\nevents = [ { a = 1 } ]\n\
                [[sink]]\nname = \"out\"\ninput = \"s\"\n";
    let s = crate::check::parse_str("t.toml", text, None).expect("valid");
    let p = crate::plan::plan(&s).expect("plans");
    Invariants::new(&s, &p)
}

fn markers(ms: &[Marker]) -> Buffer {
    let mut b = Buffer::default();
    for &m in ms {
        b.push_marker(m);
    }
    b
}

#[test]
fn the_observer_stops_at_the_first_violation_and_names_the_channel_and_time() {
    let ends = crate::sim::channel::Ends {
        edge: 0,
        from_task: 0,
        writer: 0,
        to_task: 1,
        input: 0,
    };
    let channels = vec![Channel::new(
        ends,
        false,
        crate::core::time::SimDuration::ZERO,
        2,
    )];
    let mut inv = invariants();
    let at = SimTime::from_nanos(1_500_000_000);
    let b = markers(&[Marker::Watermark(ms(1_000)), Marker::Barrier(1)]);
    inv.buffer_arrived(at, 0, &b, &channels, &[]);
    assert!(inv.violation().is_none());
    // the channel is rebuilt by a restore: its watermarks start again
    inv.restored(at, &[0, 1], None, &[], &[true]);
    let b = markers(&[Marker::Watermark(ms(0)), Marker::Barrier(1)]);
    inv.buffer_arrived(at, 0, &b, &channels, &[]);
    assert!(inv.violation().is_none());
    let b = markers(&[Marker::Idle, Marker::Watermark(ms(-1)), Marker::Barrier(1)]);
    inv.buffer_arrived(SimTime::from_nanos(2_000_000_000), 0, &b, &channels, &[]);
    let v = inv.violation().expect("caught").clone();
    assert_eq!(v.invariant, Invariant::WatermarksNeverGoBack);
    assert_eq!(
        v.to_string(),
        "invariant violated at 2.000 s: watermarks never go back on a channel — \
         channel 0 (? → ?) carried watermark -1 after watermark 0"
    );
    // the repeated barrier behind it does not replace the first violation
    assert_eq!(inv.violation(), Some(&v));
}

/// The bundled `window_join` scenario (a window join `same_window`, an interval join
/// `within_10s`), planned.
fn window_join() -> (Scenario, Plan) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/window_join.toml");
    let text = std::fs::read_to_string(path).expect("bundled scenario");
    let s = crate::check::parse_str("window_join.toml", &text, None).expect("valid");
    let p = crate::plan::plan(&s).expect("plans");
    (s, p)
}

/// The logical index of the node called `name`.
fn node(inv: &Invariants, name: &str) -> usize {
    inv.names.iter().position(|n| n == name).expect("node")
}

#[test]
fn a_window_join_that_emits_a_window_twice_is_caught() {
    let (s, p) = window_join();
    let mut inv = Invariants::new(&s, &p);
    let interner = Interner::new();
    let w = Window {
        start: ms(0),
        end: ms(10_000),
    };
    let fired = (Value::Int(7), w, ms(10_000));
    // an interval join has no windows: nothing to check
    let interval = node(&inv, "within_10s");
    inv.window_fired(interval, (0, "j#0"), fired, T, &interner);
    inv.window_fired(interval, (0, "j#0"), fired, T, &interner);
    assert!(inv.violation().is_none());
    let join = node(&inv, "same_window");
    inv.window_fired(join, (1, "same_window#0"), fired, T, &interner);
    assert!(inv.violation().is_none(), "a first firing is fine");
    inv.window_fired(
        join,
        (1, "same_window#0"),
        fired,
        SimTime::from_nanos(T.as_nanos() + 1),
        &interner,
    );
    let v = inv.violation().expect("the repeat is caught");
    assert_eq!(v.invariant, Invariant::WindowFiresOnce);
    assert!(
        v.detail.starts_with(
            "operator `same_window` (same_window#0) emitted key 7 window [0, 10000) again"
        ),
        "{}",
        v.detail
    );
}

/// Forwards the kernel's hooks to checkers the test keeps a handle on.
struct Shared(std::rc::Rc<std::cell::RefCell<Invariants>>);

impl Observer for Shared {
    fn buffer_arrived(&mut self, now: SimTime, ch: u32, b: &Buffer, c: &[Channel], t: &[Task]) {
        self.0.borrow_mut().buffer_arrived(now, ch, b, c, t);
    }
    fn work_item_done(&mut self, e: SimTime, ti: u32, t: &mut Task, i: &Interner, d: bool) {
        self.0.borrow_mut().work_item_done(e, ti, t, i, d);
    }
    fn snapshot_taken(&mut self, now: SimTime, ti: u32, id: u64, t: &Task) {
        self.0.borrow_mut().snapshot_taken(now, ti, id, t);
    }
    fn checkpoint_notified(&mut self, now: SimTime, ti: u32, id: u64, t: &Task) {
        self.0.borrow_mut().checkpoint_notified(now, ti, id, t);
    }
    fn restored(&mut self, n: SimTime, r: &[u32], k: Option<u64>, t: &[Task], c: &[bool]) {
        self.0.borrow_mut().restored(n, r, k, t, c);
    }
    fn resubmitted(&mut self, now: SimTime, sp: u64, t: &[Task], c: usize) {
        self.0.borrow_mut().resubmitted(now, sp, t, c);
    }
    fn violation(&self) -> Option<&Violation> {
        None
    }
}

#[test]
fn a_normal_run_checks_the_window_joins_windows() {
    let (s, p) = window_join();
    let inv = std::rc::Rc::new(std::cell::RefCell::new(Invariants::new(&s, &p)));
    let mut sim = crate::sim::Simulation::new(&s, &p, crate::sim::RunOptions::default());
    sim.observe(Box::new(Shared(inv.clone())));
    let out = sim.run().expect("runs");
    assert_eq!(out.report.outcome.status, crate::report::Status::Finished);
    let inv = inv.borrow();
    assert!(inv.violation().is_none(), "{:?}", inv.violation());
    let join = node(&inv, "same_window");
    let windows = out.report.operators[join]
        .windows
        .as_ref()
        .map_or(0, |w| w.fired);
    assert!(windows > 0, "the join emitted pairs");
    assert!(
        inv.windows.checked(join) > 0,
        "the checker saw the join's firings"
    );
}

#[test]
fn checkers_are_on_in_every_test_build() {
    assert!(crate::sim::RunOptions::default().check);
}

const S: (u32, usize) = (0, 2);

#[test]
fn a_commit_shows_exactly_the_transactions_it_commits() {
    let mut c = SinkCommits::default();
    assert_eq!(c.pre_commit(S, 1, 5), Ok(()));
    assert_eq!(
        c.pre_commit(S, 2, 8),
        Ok(()),
        "3 more rows for checkpoint 2"
    );
    assert_eq!(c.notify(S, 1, 5), Ok(()));
    assert_eq!(c.notify(S, 2, 8), Ok(()));
    // checkpoint 2 again: nothing is due, so nothing may show
    let e = c.notify(S, 2, 11).unwrap_err();
    assert_eq!((e.shown, e.expected), (3, 0));
    // fewer rows pending than pre-committed: rows vanished
    let mut c = SinkCommits::default();
    assert_eq!(c.pre_commit(S, 1, 5), Ok(()));
    assert_eq!(c.pre_commit(S, 2, 4), Err(5));
}

#[test]
fn a_restore_that_commits_a_committed_transaction_again_is_caught() {
    let mut c = SinkCommits::default();
    assert_eq!(c.pre_commit(S, 1, 5), Ok(()));
    assert_eq!(c.pre_commit(S, 2, 9), Ok(()));
    // checkpoint 1 commits, then the task fails before checkpoint 2's notification
    assert_eq!(c.notify(S, 1, 5), Ok(()));
    // the restore from checkpoint 2 commits its 4 rows (recoverAndCommit), not those of 1
    assert_eq!(c.restore(S, Some(2), 9), Ok(()));
    // a second restore from 2 has nothing left to commit: committing again is caught
    let e = c.restore(S, Some(2), 18).unwrap_err();
    assert_eq!((e.shown, e.expected), (9, 0));
    // a restart from scratch commits nothing
    let mut c = SinkCommits::default();
    assert_eq!(c.pre_commit(S, 1, 5), Ok(()));
    assert!(c.restore(S, None, 5).is_err());
}

#[test]
fn a_transaction_aborted_by_its_timeout_is_settled_without_rows() {
    let mut c = SinkCommits::default();
    assert_eq!(c.pre_commit(S, 1, 5), Ok(()));
    assert_eq!(c.pre_commit(S, 2, 9), Ok(()));
    assert_eq!(c.notify(S, 1, 5), Ok(()));
    // the restore from 2 finds its transaction aborted by the broker: nothing shows
    let mut lost = c.clone();
    assert!(lost.restore(S, Some(2), 5).is_err(), "4 rows were due");
    c.timed_out(S, [2].into_iter());
    assert_eq!(c.restore(S, Some(2), 5), Ok(()));
    // and showing them after all is caught
    assert!(c.restore(S, Some(2), 9).is_err());
}
