//! Latency percentiles and the CDF, from a histogram of nanoseconds.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Latency percentiles, in milliseconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Latency {
    /// Records measured.
    pub count: u64,
    /// Mean.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Maximum.
    pub max_ms: f64,
    /// The distribution: `[latency ms, fraction of records at or below it]` at every
    /// percentile (and 99.5, 99.9), for CDF charts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cdf_ms: Vec<(f64, f64)>,
}

impl Latency {
    /// Percentiles of a histogram of nanoseconds.
    ///
    /// Every quantile comes from one pass over the histogram's counts
    /// ([`Histogram::value_at_quantiles`], the same values as asking
    /// [`Histogram::value_at_quantile`] for each). Asking each of the 103 quantiles on its own
    /// scanned the ~38 000 buckets 103 times: most of a short run's time, and of `chaos`.
    pub fn from_histogram(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Latency::default();
        }
        let ms = |ns: u64| round3(ns as f64 / 1e6);
        let qs = cdf_quantiles();
        let values = quantiles(h, &qs);
        // (the named percentiles are points of the CDF; asking the histogram again is only a
        // fallback, which the test shows is never taken)
        let value = |q: f64| {
            let v = qs.iter().position(|&x| x == q).and_then(|i| values.get(i));
            ms(v.copied().unwrap_or_else(|| h.value_at_quantile(q)))
        };
        Latency {
            count: h.len(),
            mean_ms: round3(h.mean() / 1e6),
            p50_ms: value(0.50),
            p90_ms: value(0.90),
            p99_ms: value(0.99),
            max_ms: ms(h.max()),
            cdf_ms: qs.iter().map(|&q| (value(q), q)).collect(),
        }
    }
}

/// The quantiles of the CDF, ascending: every percentile, with 99.5 and 99.9 before the
/// last.
fn cdf_quantiles() -> Vec<f64> {
    (0..100)
        .map(|q| f64::from(q) / 100.0)
        .chain([0.995, 0.999, 1.0])
        .collect()
}

/// The values at the ascending quantiles `qs`, from one pass over the histogram.
fn quantiles(h: &Histogram<u64>, qs: &[f64]) -> Vec<u64> {
    h.value_at_quantiles(qs.iter().copied()).collect()
}

/// Rounds to three decimals so that reports stay readable (and stable).
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::sink_metrics::latency_histogram;
    use proptest::prelude::*;

    /// The report as asking the histogram for each quantile on its own would make it.
    fn one_by_one(h: &Histogram<u64>) -> Latency {
        let ms = |ns: u64| round3(ns as f64 / 1e6);
        Latency {
            count: h.len(),
            mean_ms: round3(h.mean() / 1e6),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
            cdf_ms: (0..=100)
                .map(|q| f64::from(q) / 100.0)
                .chain([0.995, 0.999])
                .map(|q| (q.to_bits(), ms(h.value_at_quantile(q))))
                .collect::<std::collections::BTreeMap<_, _>>()
                .into_iter()
                .map(|(q, v)| (v, f64::from_bits(q)))
                .collect(),
        }
    }

    proptest! {
        /// One pass gives what 103 lookups gave: every percentile, in order, on histograms
        /// of a few values, of many, with values far apart and values in one bucket.
        #[test]
        fn one_pass_gives_every_quantile_as_asking_each(
            latencies in prop::collection::vec((1u64..200_000_000_000, 1u64..50), 1..300),
            tight in any::<bool>(),
        ) {
            let mut h = latency_histogram();
            for (ns, n) in latencies {
                let ns = if tight { 1_000_000 + ns % 7 } else { ns };
                h.record_n(ns, n).expect("in range");
            }
            let got = Latency::from_histogram(&h);
            prop_assert_eq!(got.cdf_ms.len(), 103);
            // every quantile from the one pass (the named percentiles are CDF points too)
            prop_assert_eq!(quantiles(&h, &cdf_quantiles()).len(), 103);
            prop_assert_eq!(got, one_by_one(&h));
        }
    }

    #[test]
    fn an_empty_histogram_has_no_percentiles() {
        assert_eq!(
            Latency::from_histogram(&latency_histogram()),
            Latency::default()
        );
    }
}
