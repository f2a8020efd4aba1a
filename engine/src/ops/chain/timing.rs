//! Phases 2 and 3 of [`super::Chain::run`]: the per-record times of Flink's depth-first
//! chaining, recovered after the operators ran over the whole slice — in one pass for a
//! linear chain ([`linear_times`], the hot path), otherwise as subtree costs bottom-up
//! ([`subtree_costs`]) laid end to end top-down ([`start_times`]). Both give the same times
//! (`chain/tests.rs` checks them against a record-at-a-time executor).

use super::super::batch::View;
use super::super::{OpSlot, Out};
use super::{Shape, input_len, prefilled};
use crate::core::time::{SimDuration, SimTime};

/// Phases 2 and 3 at once for a *linear* scope: every operator has one output, chained to
/// the next operator of the scope, except the last, which is a sink or has one network
/// output; no side outputs; every operator is one-to-one except at most one selecting
/// operator (filter). Then a record's subtree is a constant sum of costs (two constants:
/// dropped by the filter or not), and only the times the last operator needs — its records'
/// start times (sink) or write times (network) — are computed, in one pass over the head's
/// records. Sums of the same costs as [`subtree_costs`] and [`start_times`], so the times
/// are identical. Returns `None` (nothing written) when the scope is not linear.
#[inline(never)]
pub(super) fn linear_times(
    ops: &mut [OpSlot],
    scope: &[usize],
    input: Option<View<'_>>,
    emitted: Option<usize>,
    t0: SimTime,
    in_cost: SimDuration,
    ser: &[SimDuration],
) -> Option<SimTime> {
    let root = scope[0];
    let n = input_len(ops, root, input, emitted);
    let mut select = None;
    // Time from a record's start at the head to its start at operator `k` of the scope.
    let mut before_last = SimDuration::ZERO;
    let mut before_select = SimDuration::ZERO;
    let last = *scope.last()?;
    for (k, &j) in scope.iter().enumerate() {
        let s = &ops[j];
        if !(s.side_outs.is_empty() || s.side.is_empty()) {
            return None;
        }
        let n_in = input_len(ops, j, input, emitted);
        let one_to_one =
            prefilled(ops, j, emitted) || (s.shape == Shape::OneToOne && s.out.len() == n_in);
        if j == last {
            match (s.shape, &s.outs[..]) {
                (Shape::Consume, _) => {}
                (Shape::OneToOne | Shape::Select, [Out::Network(_)]) if s.network_outs == 1 => {}
                _ => return None,
            }
        } else if s.outs[..] != [Out::Chained(scope[k + 1] as u16)] {
            return None;
        }
        if !one_to_one && s.shape != Shape::Consume {
            if s.shape != Shape::Select || select.is_some() {
                return None;
            }
            select = Some(j);
            before_select = before_last;
        }
        if j != last {
            before_last += s.cost;
        }
    }
    let ls = &ops[last];
    // Head start → the last operator's time of interest (its start, or its write).
    let (to_out, total) = match ls.outs[..] {
        [Out::Network(w)] => {
            let d = before_last + ls.cost + ser[w as usize];
            (d, d)
        }
        _ => (before_last, before_last + ls.cost),
    };
    let network = ls.shape != Shape::Consume;
    let mut out = if network {
        std::mem::take(&mut ops[last].write_at)
    } else {
        std::mem::take(&mut ops[last].start_at)
    };
    out.clear();
    let mut t = t0;
    match select {
        None => {
            out.extend((0..n).map(|_| {
                t += in_cost;
                let start = t;
                t += total;
                start + to_out
            }));
        }
        Some(s) => {
            // A record the filter drops costs the operators up to and including it.
            let dropped = before_select + ops[s].cost;
            let parents = ops[s].out.parent.as_slice();
            let mut next = 0;
            for p in parents {
                let p = *p as usize;
                // Records `next..p` are dropped.
                let gap = (p - next) as u64;
                t += (in_cost + dropped) * gap;
                t += in_cost;
                out.push(t + to_out);
                t += total;
                next = p + 1;
            }
            t += (in_cost + dropped) * (n - next) as u64;
        }
    }
    let ls = &mut ops[last];
    if network {
        ls.write_at = out;
    } else {
        ls.start_at = out;
    }
    ls.side_write_at.clear();
    Some(t)
}

/// Phase 2: for every operator and input record, the CPU time the record causes there and
/// downstream — computed bottom-up.
#[inline(never)]
pub(super) fn subtree_costs(
    ops: &mut [OpSlot],
    scope: &[usize],
    input: Option<View<'_>>,
    emitted: Option<usize>,
    ser: &[SimDuration],
) {
    for &j in scope.iter().rev() {
        let n_in = input_len(ops, j, input, emitted);
        let identity = prefilled(ops, j, emitted);
        let (head, tail) = ops.split_at_mut(j + 1);
        let slot = &mut head[j];
        let base = j + 1;
        let c = slot.cost;
        // (A one-to-one operator that failed mid-slice has fewer outputs than inputs.)
        let one_to_one = identity || (slot.shape == Shape::OneToOne && slot.out.len() == n_in);
        let st = &mut slot.subtree;
        st.clear();
        let no_side = slot.side_outs.is_empty() || slot.side.is_empty();
        match (slot.shape, &slot.outs[..], no_side) {
            (Shape::Consume, _, _) | (_, [], true) => st.resize(n_in, c),
            (_, [Out::Chained(k)], true) if one_to_one => {
                st.extend(tail[*k as usize - base].subtree.iter().map(|x| *x + c))
            }
            (_, [Out::Network(w)], true) if one_to_one => st.resize(n_in, c + ser[*w as usize]),
            (Shape::Select, [Out::Chained(k)], true) => {
                st.resize(n_in, c);
                for (p, x) in slot
                    .out
                    .parent
                    .iter()
                    .zip(&tail[*k as usize - base].subtree)
                {
                    st[*p as usize] += *x;
                }
            }
            (Shape::Select | Shape::Fan, [Out::Network(w)], true) => {
                // Each output costs its serialization on top of the operator's own cost.
                st.resize(n_in, c);
                let sc = ser[*w as usize];
                // (A slice, not the vector: its pointer and length stay in registers.)
                let st = st.as_mut_slice();
                for p in &slot.out.parent {
                    st[*p as usize] += sc;
                }
            }
            _ => {
                st.resize(n_in, c);
                for i in 0..slot.out.len() {
                    let mut add = SimDuration::ZERO;
                    for o in &slot.outs {
                        add += match *o {
                            Out::Chained(k) => tail[k as usize - base].subtree[i],
                            Out::Network(w) => ser[w as usize],
                        };
                    }
                    let x = if one_to_one {
                        i
                    } else {
                        slot.out.parent[i] as usize
                    };
                    st[x] += add;
                }
                for i in 0..slot.side.len() {
                    let mut add = SimDuration::ZERO;
                    for o in &slot.side_outs {
                        add += match *o {
                            Out::Chained(k) => tail[k as usize - base].subtree[i],
                            Out::Network(w) => ser[w as usize],
                        };
                    }
                    st[slot.side.parent[i] as usize] += add;
                }
            }
        }
    }
}

/// Phase 3: start times, top-down in depth-first order. Returns the end of the slice.
#[inline(never)]
pub(super) fn start_times(
    ops: &mut [OpSlot],
    scope: &[usize],
    input: Option<View<'_>>,
    emitted: Option<usize>,
    t0: SimTime,
    in_cost: SimDuration,
    ser: &[SimDuration],
) -> SimTime {
    let root = scope[0];
    let root_len = input_len(ops, root, input, emitted);
    let mut t = t0;
    {
        let h = &mut ops[root];
        h.start_at.clear();
        h.start_at.extend(h.subtree[..root_len].iter().map(|s| {
            t += in_cost;
            let start = t;
            t += *s;
            start
        }));
    }
    for &j in scope {
        let n_in = input_len(ops, j, input, emitted);
        let identity = prefilled(ops, j, emitted);
        let (head, tail) = ops.split_at_mut(j + 1);
        let slot = &mut head[j];
        let base = j + 1;
        let c = slot.cost;
        let one_to_one = identity || (slot.shape == Shape::OneToOne && slot.out.len() == n_in);
        slot.write_at.clear();
        slot.side_write_at.clear();
        let no_side = slot.side_outs.is_empty() || slot.side.is_empty();
        match (slot.shape, &slot.outs[..], no_side) {
            (Shape::Consume, _, _) | (_, [], true) => {}
            (_, [Out::Chained(k)], true) if one_to_one => {
                let child = &mut tail[*k as usize - base];
                child.start_at.clear();
                child.start_at.extend(slot.start_at.iter().map(|s| *s + c));
            }
            (_, [Out::Network(w)], true) if one_to_one => {
                let d = c + ser[*w as usize];
                slot.write_at.extend(slot.start_at.iter().map(|s| *s + d));
            }
            (Shape::Select, [Out::Chained(k)], true) => {
                let child = &mut tail[*k as usize - base];
                child.start_at.clear();
                child.start_at.extend(
                    slot.out
                        .parent
                        .iter()
                        .map(|p| slot.start_at[*p as usize] + c),
                );
            }
            (Shape::Select, [Out::Network(w)], true) => {
                let d = c + ser[*w as usize];
                let starts = slot.start_at.as_slice();
                slot.write_at
                    .extend(slot.out.parent.iter().map(|p| starts[*p as usize] + d));
            }
            (Shape::Fan, [Out::Network(w)], true) if slot.out.parent.is_sorted() => {
                // The outputs of one input leave one after the other once the operator has
                // done its work: the k-th is written after k + 1 serializations.
                let sc = ser[*w as usize];
                let starts = slot.start_at.as_slice();
                let (mut prev, mut running) = (u32::MAX, SimTime::ZERO);
                slot.write_at.extend(slot.out.parent.iter().map(|&p| {
                    if p != prev {
                        prev = p;
                        running = starts[p as usize] + c;
                    }
                    running += sc;
                    running
                }));
            }
            _ => general_start_times(slot, tail, base, one_to_one, ser),
        }
    }
    t
}

/// Start times for operators with fan-out, side outputs or several outputs: each input
/// record's outputs (main, then side) are laid out one after the other, each followed by all
/// the work it causes downstream.
fn general_start_times(
    slot: &mut OpSlot,
    tail: &mut [OpSlot],
    base: usize,
    one_to_one: bool,
    ser: &[SimDuration],
) {
    for (outs, len) in [
        (&slot.outs, slot.out.len()),
        (&slot.side_outs, slot.side.len()),
    ] {
        for o in outs {
            if let Out::Chained(k) = *o {
                let c = &mut tail[k as usize - base];
                c.start_at.clear();
                c.start_at.resize(len, SimTime::ZERO);
            }
        }
    }
    slot.running.clear();
    slot.running
        .extend(slot.start_at.iter().map(|s| *s + slot.cost));
    let nets = slot.network_outs;
    slot.write_at.resize(slot.out.len() * nets, SimTime::ZERO);
    for i in 0..slot.out.len() {
        let x = if one_to_one {
            i
        } else {
            slot.out.parent[i] as usize
        };
        let mut running = slot.running[x];
        let mut q = 0;
        for o in &slot.outs {
            match *o {
                Out::Chained(k) => {
                    let c = &mut tail[k as usize - base];
                    c.start_at[i] = running;
                    running += c.subtree[i];
                }
                Out::Network(w) => {
                    running += ser[w as usize];
                    slot.write_at[i * nets + q] = running;
                    q += 1;
                }
            }
        }
        slot.running[x] = running;
    }
    let nets = slot.side_network_outs;
    slot.side_write_at
        .resize(slot.side.len() * nets, SimTime::ZERO);
    for i in 0..slot.side.len() {
        let x = slot.side.parent[i] as usize;
        let mut running = slot.running[x];
        let mut q = 0;
        for o in &slot.side_outs {
            match *o {
                Out::Chained(k) => {
                    let c = &mut tail[k as usize - base];
                    c.start_at[i] = running;
                    running += c.subtree[i];
                }
                Out::Network(w) => {
                    running += ser[w as usize];
                    slot.side_write_at[i * nets + q] = running;
                    q += 1;
                }
            }
        }
        slot.running[x] = running;
    }
}
