//! CSV time series and summary tables of a comparison or a sweep. Numbers are written as the
//! report has them; rows are in a fixed order (modes as given, then time).

use crate::{File, Run, SweepPoint};
use std::fmt::Write;

/// The CSV files of a comparison.
pub fn compare_csvs(runs: &[Run<'_>]) -> Vec<File> {
    let mut cdf = String::from("mode,latency_ms,fraction\n");
    let mut tp = String::from("mode,bin_start_ms,bin_end_ms,records_per_s\n");
    let mut res = String::from("mode,time_ms,records_visible\n");
    let bin = crate::throughput_bin_ms(runs);
    let mut lag = String::from("mode,time_ms,watermark_lag_ms\n");
    let mut pct = String::from("mode,records,mean_ms,p50_ms,p90_ms,p99_ms,max_ms\n");
    let mut tl = String::from("mode,kind,start_ms,end_ms\n");
    let mut cor = String::from("mode,records_out,duplicates,missing,late_drops,wrong_results\n");
    for r in runs {
        let m = &r.mode;
        for (x, y) in r.latency_cdf() {
            let _ = writeln!(cdf, "{m},{x},{y}");
        }
        for (a, b, y) in r.throughput_binned(bin) {
            let _ = writeln!(tp, "{m},{a},{b},{y}");
        }
        for (x, y) in r.results_over_time(bin) {
            let _ = writeln!(res, "{m},{x},{y}");
        }
        for (x, y) in r.watermark_lag() {
            let _ = writeln!(lag, "{m},{x},{y}");
        }
        let l = &r.report.latency;
        let _ = writeln!(
            pct,
            "{m},{},{},{},{},{},{}",
            l.count, l.mean_ms, l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms
        );
        let _ = writeln!(tl, "{m},run,0,{}", r.report.sim_duration_ms);
        for (a, b) in r.batches() {
            let _ = writeln!(tl, "{m},batch,{a},{b}");
        }
        for (t, done) in r.checkpoints() {
            let _ = writeln!(
                tl,
                "{m},checkpoint,{t},{}",
                done.map_or(String::new(), |d| d.to_string())
            );
        }
        for (at, down) in r.failures() {
            let _ = writeln!(tl, "{m},downtime,{at},{}", at + down);
        }
        let c = r.correctness();
        let _ = writeln!(
            cor,
            "{m},{},{},{},{},{}",
            r.report.sink_records,
            c.map_or("none".into(), |d| d.0.to_string()),
            c.map_or("none".into(), |d| d.1.to_string()),
            r.late_drops(),
            c.map_or("none".into(), |d| d.2.to_string()),
        );
    }
    let event_time = crate::compare_charts(runs)
        .iter()
        .any(|(n, _)| *n == "watermark_lag");
    [
        ("latency_cdf.csv", cdf),
        ("latency_percentiles.csv", pct),
        ("throughput.csv", tp),
        ("results_over_time.csv", res),
        ("watermark_lag.csv", lag),
        ("timeline.csv", tl),
        ("correctness.csv", cor),
    ]
    .into_iter()
    .filter(|(n, _)| event_time || *n != "watermark_lag.csv")
    .map(|(n, s)| (n.to_string(), s.into_bytes()))
    .collect()
}

/// The CSV of a sweep: one row per point.
pub fn sweep_csv(points: &[SweepPoint]) -> String {
    let mut s =
        String::from("mode,setting,throughput_per_s,latency_p50_ms,latency_p99_ms,status\n");
    for p in points {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{}",
            p.mode, p.setting, p.throughput_per_s, p.latency_p50_ms, p.latency_p99_ms, p.status
        );
    }
    s
}
