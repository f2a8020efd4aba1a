//! Axes: ranges with a margin, 1-2-5 ticks on linear and log scales, category axes, and how
//! tick labels read.

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// Axis range with a margin; a degenerate range is widened.
pub(super) fn range(values: impl Iterator<Item = f64>, from_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if from_zero {
        lo = lo.min(0.0);
    }
    if hi - lo < 1e-9 {
        hi = lo + 1.0;
    }
    let pad = (hi - lo) * 0.04;
    (if from_zero && lo >= 0.0 { lo } else { lo - pad }, hi + pad)
}

/// `m × 10^e`, computed so that 0.2 is 0.2 and not 0.20000000000000004.
pub(super) fn pow10(m: f64, e: i32) -> f64 {
    if e >= 0 {
        m * 10f64.powi(e)
    } else {
        m / 10f64.powi(-e)
    }
}

/// The largest 1-2-5 value at or below `v` (`down`), or the smallest at or above it.
pub(crate) fn nice125(v: f64, down: bool) -> f64 {
    let e = v.log10().floor() as i32;
    let cands = [
        pow10(1.0, e),
        pow10(2.0, e),
        pow10(5.0, e),
        pow10(1.0, e + 1),
    ];
    if down {
        cands
            .iter()
            .rev()
            .copied()
            .find(|c| *c <= v * (1.0 + 1e-9))
            .unwrap_or(cands[0])
    } else {
        cands
            .iter()
            .copied()
            .find(|c| *c >= v * (1.0 - 1e-9))
            .unwrap_or(cands[3])
    }
}

/// Log-axis range: from the 1-2-5 value below the smallest value to the one above the largest.
pub(super) fn log_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite() && *v > 0.0) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (1.0, 10.0);
    }
    let (lo, hi) = (nice125(lo, true), nice125(hi, false));
    if hi <= lo {
        (lo, nice125(lo * 1.01, false))
    } else {
        (lo, hi)
    }
}

/// Ticks of a log axis between `lo` and `hi`: 1-2-5 of every decade; only powers of ten
/// (every other, …) when that would be more than `max` labels. With `light`, the minor
/// ticks 1…9 of each decade as well.
pub fn log_ticks(lo: f64, hi: f64, max: usize, light: bool) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo) || max == 0 {
        return Vec::new();
    }
    let (e0, e1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let within = |v: &f64| *v >= lo * (1.0 - 1e-9) && *v <= hi * (1.0 + 1e-9);
    let with = |ms: &[f64], step: i32| -> Vec<f64> {
        (e0..=e1)
            .filter(|e| (e - e0) % step == 0)
            .flat_map(|e| ms.iter().map(move |&m| pow10(m, e)))
            .filter(within)
            .collect()
    };
    if light {
        let all = with(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], 1);
        if all.len() <= max.max(30) {
            return all;
        }
        return with(&[1.0], 1);
    }
    let t = with(&[1.0, 2.0, 5.0], 1);
    if t.len() <= max {
        return t;
    }
    let mut step = 1;
    loop {
        let t = with(&[1.0], step);
        if t.len() <= max || step > 20 {
            return t;
        }
        step += 1;
    }
}

/// How an axis maps its values.
#[derive(Debug, Clone, PartialEq)]
pub enum Scale {
    /// Linear.
    Linear,
    /// log10, with 1-2-5 ticks.
    Log,
    /// Named positions 0, 1, 2, … (each label at its integer).
    Categories(Vec<String>),
}

/// A coordinate axis in data values: linear, log10 or categories.
#[derive(Debug, Clone)]
pub struct Axis {
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) scale: Scale,
}

impl Axis {
    pub(super) fn new(lo: f64, hi: f64, scale: Scale) -> Self {
        Axis { lo, hi, scale }
    }

    /// The axis for `values` on `scale` (linear axes start at 0).
    pub(super) fn fit(values: impl Iterator<Item = f64>, scale: &Scale) -> Self {
        let (lo, hi) = match scale {
            Scale::Linear => range(values, true),
            Scale::Log => log_range(values),
            Scale::Categories(c) => (-0.5, c.len().max(1) as f64 - 0.5),
        };
        Axis::new(lo, hi, scale.clone())
    }

    pub(super) fn t(&self, v: f64) -> f64 {
        match self.scale {
            Scale::Log => v.max(f64::MIN_POSITIVE).log10(),
            _ => v,
        }
    }

    /// The label of the tick at `v`.
    pub(super) fn label(&self, v: f64) -> String {
        match &self.scale {
            Scale::Categories(c) => {
                let i = v.round();
                if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < c.len() {
                    c[i as usize].clone()
                } else {
                    String::new()
                }
            }
            _ => tick(v),
        }
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        RangedCoordf64::from(self.t(self.lo)..self.t(self.hi)).map(&self.t(*v), limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        match &self.scale {
            Scale::Linear => RangedCoordf64::from(self.lo..self.hi).key_points(hint),
            Scale::Log => log_ticks(
                self.lo,
                self.hi,
                hint.max_num_points(),
                hint.weight().allow_light_points(),
            ),
            Scale::Categories(c) => (0..c.len()).map(|i| i as f64).collect(),
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// Tick label: `1.5 k`, `2 M`, `250`, `0.5`, `0.02`.
pub(crate) fn tick(v: f64) -> String {
    let trim = |s: String| s.trim_end_matches('0').trim_end_matches('.').to_string();
    let a = v.abs();
    if a >= 1e6 {
        format!("{} M", trim(format!("{:.3}", v / 1e6)))
    } else if a >= 1e3 {
        format!("{} k", trim(format!("{:.2}", v / 1e3)))
    } else if a < 1e-9 {
        "0".into()
    } else if a >= 1.0 {
        trim(format!("{v:.2}"))
    } else {
        trim(format!("{v:.6}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_read_well() {
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(250.0), "250");
        assert_eq!(tick(1500.0), "1.5 k");
        assert_eq!(tick(2_000_000.0), "2 M");
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(0.02), "0.02");
        assert_eq!(tick(0.005), "0.005");
    }

    #[test]
    fn log_ticks_are_1_2_5_and_thin_out_over_many_decades() {
        assert_eq!(
            log_ticks(0.5, 200.0, 10, false),
            vec![0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0]
        );
        assert_eq!(
            log_ticks(0.01, 10_000.0, 10, false),
            vec![0.01, 0.1, 1.0, 10.0, 100.0, 1000.0, 10_000.0]
        );
        assert_eq!(
            log_ticks(1.0, 1e12, 5, false),
            vec![1.0, 1e3, 1e6, 1e9, 1e12]
        );
        assert_eq!(log_range([3.16, 316.23].into_iter()), (2.0, 500.0));
    }
}
