//! Bounded aggregation over processing time: events are kept one per bin per key, and
//! when there are more bins than the bound, the bins widen (1-2-5 steps from 1 µs) and merge.
//! Memory stays bounded by the bound, never by the length of the run; every event stays
//! counted in exactly one bin, so sums over the bins are exact.

use std::collections::BTreeMap;

/// What a bin holds: a count, the time span it covers, and whatever the kind adds.
pub trait Agg: Clone {
    /// When the first event of the bin happened (ns).
    fn first_ns(&self) -> u64;
    /// Adds `other`, an aggregate of later or equal events.
    fn merge(&mut self, other: Self);
}

/// Events of one kind per key, binned by processing time.
#[derive(Debug, Clone)]
pub struct Binned<K: Ord + Clone, A: Agg> {
    width_ns: u64,
    cap: usize,
    map: BTreeMap<(K, u64), A>,
}

/// The bin width after `w` in the 1-2-5 sequence (ns).
fn wider(w: u64) -> u64 {
    let mut p = 1;
    while p * 10 <= w {
        p *= 10;
    }
    match w / p {
        1 => 2 * p,
        2..=4 => 5 * p,
        _ => 10 * p,
    }
}

impl<K: Ord + Clone, A: Agg> Binned<K, A> {
    /// At most `cap` bins (at least 1); bins start 1 µs wide.
    pub fn new(cap: usize) -> Self {
        Binned {
            width_ns: 1_000,
            cap: cap.max(1),
            map: BTreeMap::new(),
        }
    }

    /// Adds one event (or an aggregate of events) to its key's bin.
    pub fn add(&mut self, key: K, a: A) {
        let bin = a.first_ns() / self.width_ns;
        match self.map.get_mut(&(key.clone(), bin)) {
            Some(x) => x.merge(a),
            None => {
                self.map.insert((key, bin), a);
                while self.map.len() > self.cap {
                    self.widen();
                }
            }
        }
    }

    fn widen(&mut self) {
        self.width_ns = wider(self.width_ns);
        let old = std::mem::take(&mut self.map);
        for ((k, _), a) in old {
            let bin = a.first_ns() / self.width_ns;
            match self.map.get_mut(&(k.clone(), bin)) {
                Some(x) => x.merge(a),
                None => {
                    self.map.insert((k, bin), a);
                }
            }
        }
    }

    /// The current bin width (ns).
    pub fn width_ns(&self) -> u64 {
        self.width_ns
    }

    /// Every bin, by key and then time.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &A)> {
        self.map.iter().map(|((k, _), a)| (k, a))
    }

    /// Number of bins.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// No bins.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// A count of events with their time span: the aggregate of marks that need no more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    /// First event (ns).
    pub first_ns: u64,
    /// Last event (ns).
    pub last_ns: u64,
    /// Events.
    pub n: u64,
}

impl Count {
    /// One event at `t`.
    pub fn at(t: u64) -> Self {
        Count {
            first_ns: t,
            last_ns: t,
            n: 1,
        }
    }
}

impl Agg for Count {
    fn first_ns(&self) -> u64 {
        self.first_ns
    }
    fn merge(&mut self, o: Self) {
        self.first_ns = self.first_ns.min(o.first_ns);
        self.last_ns = self.last_ns.max(o.last_ns);
        self.n += o.n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_step_1_2_5() {
        let mut w = 1_000;
        let mut seen = vec![];
        for _ in 0..7 {
            w = wider(w);
            seen.push(w);
        }
        assert_eq!(
            seen,
            [2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000]
        );
    }

    #[test]
    fn bins_widen_under_the_bound_and_keep_every_event_counted() {
        let mut b: Binned<u8, Count> = Binned::new(10);
        for i in 0..1000u64 {
            b.add((i % 3) as u8, Count::at(i * 1_000_000));
        }
        assert!(b.len() <= 10, "{}", b.len());
        assert_eq!(b.iter().map(|(_, c)| c.n).sum::<u64>(), 1000);
        for k in 0..3u8 {
            let n: u64 = b.iter().filter(|(x, _)| **x == k).map(|(_, c)| c.n).sum();
            assert_eq!(n, if k == 0 { 334 } else { 333 });
        }
        assert!(b.width_ns() >= 100_000_000);
    }

    #[test]
    fn few_events_stay_one_per_bin() {
        let mut b: Binned<(), Count> = Binned::new(100);
        for t in [5_000, 9_000, 9_500] {
            b.add((), Count::at(t));
        }
        let v: Vec<u64> = b.iter().map(|(_, c)| c.n).collect();
        assert_eq!(v, [1, 2], "9.0 µs and 9.5 µs share the 1 µs bin");
    }
}
