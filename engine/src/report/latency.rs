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
    pub fn from_histogram(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Latency::default();
        }
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
}

/// Rounds to three decimals so that reports stay readable (and stable).
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
