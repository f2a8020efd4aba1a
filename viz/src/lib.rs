//! # streamlab-viz
//!
//! Charts and the HTML report of streamlab runs. It draws what the CLI writes — the
//! comparison report (`report.json`: one run report per execution mode, the plan) and the
//! sweep report (`sweep.json`) — through the engine's typed report types
//! ([`CompareReport`], [`SweepReport`]) and never looks inside the engine. Reading a report
//! back ([`read_compare_report`], [`read_sweep_report`]) is strict: a field the engine always
//! writes must be there, so a missing one is an error that names it, never a silent 0. Parts
//! the engine writes only when there is something to say (checkpoints, failures, duplicates)
//! are shown as "none" when absent.
//!
//! Every chart has a title, axis labels with units and a legend, and uses one colour per
//! mode everywhere ([`mode_color`]). Charts come as SVG and PNG; PNGs are drawn with the
//! DejaVu Sans font embedded in this crate (`fonts/`, Bitstream Vera licence), so they do not
//! depend on the fonts of the machine. The same input gives byte-identical files.
//!
//! | module | what |
//! |---|---|
//! | [`charts`] | the charts, each drawn once for SVG and once for PNG |
//! | [`event_time`] | the event-time diagram of a window operator (SVG for the report page, PNG) |
//! | [`tables`] | CSV time series and summary tables |
//! | [`html`] | the self-contained HTML pages |
//! | [`cluster_page`] | the page of `streamlab cluster`: slots × time of several jobs on one cluster |
//! | [`run_page`] | the report of one run: space-time diagram, per-subtask charts, tables |

pub mod charts;
pub mod cluster_page;
pub mod crashpoints_page;
pub mod event_time;
pub mod html;
pub mod run_page;
pub mod tables;

use rayon::prelude::*;
pub use streamlab_engine::report::{
    CompareReport, ModeDetails, RunReport, SweepPoint, SweepReport,
};

/// A file to write: name within the output directory, and contents.
pub type File = (String, Vec<u8>);

/// Why charts could not be made.
#[derive(Debug)]
pub struct VizError(pub String);

impl std::fmt::Display for VizError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for VizError {}

/// Colour of a mode, `#rrggbb`, the same in every chart and table.
pub fn mode_color(mode: &str) -> (u8, u8, u8) {
    match mode {
        "streaming" => (0x1f, 0x77, 0xb4),
        "micro-batch" => (0xff, 0x7f, 0x0e),
        "batch" => (0x2c, 0xa0, 0x2c),
        "acking" => (0x94, 0x67, 0xbd),
        _ => (0x7f, 0x7f, 0x7f),
    }
}

/// `#rrggbb` of a mode.
pub fn mode_hex(mode: &str) -> String {
    let (r, g, b) = mode_color(mode);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The names of the charts of a comparison, without extension, with their titles.
pub const COMPARE_CHARTS: [(&str, &str); 7] = [
    ("latency_cdf", "Latency distribution (CDF)"),
    ("latency_percentiles", "Latency percentiles"),
    ("throughput", "Throughput at the sinks over time"),
    (
        "results_over_time",
        "Results visible at the sinks over time",
    ),
    ("watermark_lag", "Watermark lag"),
    ("timeline", "Batches, checkpoints and failures"),
    ("correctness", "Correctness per mode"),
];

/// The charts a comparison has: every one of [`COMPARE_CHARTS`] but the watermark lag when
/// no mode saw event time move (a job without event time).
pub fn compare_charts(runs: &[Run<'_>]) -> Vec<(&'static str, &'static str)> {
    let event_time = runs.iter().any(|r| !r.watermark_lag().is_empty());
    COMPARE_CHARTS
        .into_iter()
        .filter(|(n, _)| event_time || *n != "watermark_lag")
        .collect()
}

/// Reads a comparison report (`report.json`) from its JSON text. A field the engine always
/// writes that is missing, or a value of the wrong type, is an error naming it and its
/// place.
pub fn read_compare_report(json: &str) -> Result<CompareReport, VizError> {
    serde_json::from_str(json).map_err(|e| {
        VizError(format!(
            "report.json is not a streamlab comparison report: {e}"
        ))
    })
}

/// Reads a sweep report (`sweep.json`) from its JSON text; strict as
/// [`read_compare_report`].
pub fn read_sweep_report(json: &str) -> Result<SweepReport, VizError> {
    serde_json::from_str(json)
        .map_err(|e| VizError(format!("sweep.json is not a streamlab sweep report: {e}")))
}

/// Every file of a comparison (besides `report.json`): charts as SVG and PNG, CSV series,
/// `report.html`.
pub fn compare_files(report: &CompareReport) -> Result<Vec<File>, VizError> {
    compare_files_drawn(report, Vec::new())
}

/// [`compare_files`] with the streaming run drawn: `streaming` are the files of its run report
/// (`run --out`, named `streaming/…`); the page shows its space-time diagram and links the
/// run's page. Empty: none (the comparison has no streaming mode).
pub fn compare_files_drawn(
    report: &CompareReport,
    streaming: Vec<File>,
) -> Result<Vec<File>, VizError> {
    let drawn = streaming.iter().any(|(n, _)| n == "streaming/report.html");
    let mut files = compare_files_linking(report, drawn)?;
    files.extend(streaming);
    Ok(files)
}

/// [`compare_files`] with a page that shows the streaming run's space-time diagram and links
/// its run page when `drawn` (their files, `streaming/…`, are the caller's to add): the
/// comparison's files can be drawn while the streaming run still is.
pub fn compare_files_linking(report: &CompareReport, drawn: bool) -> Result<Vec<File>, VizError> {
    let runs: Vec<Run<'_>> = report.runs.iter().map(Run::of).collect();
    // Every chart drawn on its own core; collected in the charts' order.
    let drawn_charts: Vec<Result<[File; 2], VizError>> = compare_charts(&runs)
        .into_par_iter()
        .map(|(name, _)| {
            let chart = charts::Chart::compare(name, &runs);
            Ok([
                (format!("{name}.svg"), chart.svg()?.into_bytes()),
                (format!("{name}.png"), chart.png()?),
            ])
        })
        .collect();
    let mut files = Vec::new();
    for pair in drawn_charts {
        files.extend(pair?);
    }
    files.extend(tables::compare_csvs(&runs));
    let svgs: Vec<(String, String)> = files
        .iter()
        .filter(|(n, _)| n.ends_with(".svg"))
        .map(|(n, b)| (n.clone(), String::from_utf8_lossy(b).into_owned()))
        .collect();
    files.push((
        "report.html".into(),
        html::compare_page(report, &runs, &svgs, drawn).into_bytes(),
    ));
    Ok(files)
}

/// The charts of a sweep: name (without extension), title, chart. A rate sweep draws latency
/// against the achieved throughput; any other setting draws latency and throughput against
/// the swept values.
pub fn sweep_charts(sweep: &SweepReport) -> Vec<(String, charts::Chart)> {
    if sweep.sweeps_a_rate() {
        return vec![(
            "latency_vs_throughput".into(),
            charts::Chart::sweep(&sweep.points),
        )];
    }
    ["latency", "throughput"]
        .into_iter()
        .map(|what| {
            (
                format!("{what}_vs_setting"),
                charts::Chart::sweep_by_setting(&sweep.set, &sweep.values, &sweep.points, what),
            )
        })
        .collect()
}

/// Every file of a sweep (besides `sweep.json`): its charts as SVG and PNG, `sweep.csv`,
/// `report.html`.
pub fn sweep_files(sweep: &SweepReport) -> Result<Vec<File>, VizError> {
    let mut files = Vec::new();
    let mut svgs = Vec::new();
    for (name, chart) in sweep_charts(sweep) {
        let svg = chart.svg()?;
        files.push((format!("{name}.svg"), svg.clone().into_bytes()));
        files.push((format!("{name}.png"), chart.png()?));
        svgs.push((name, chart.title.clone(), svg));
    }
    files.push((
        "sweep.csv".to_string(),
        tables::sweep_csv(&sweep.points).into_bytes(),
    ));
    files.push((
        "report.html".into(),
        html::sweep_page(sweep, &svgs).into_bytes(),
    ));
    Ok(files)
}

/// The width of the throughput chart's bins (ms): a 1-2-5 multiple of the reports' bucket
/// that cuts the longest run into about 50 to 125 bins (the bucket itself when the run has
/// fewer than 50).
pub fn throughput_bin_ms(runs: &[Run<'_>]) -> f64 {
    let bucket = runs.iter().map(|r| r.sink_buckets().0).fold(0.0, f64::max);
    if bucket <= 0.0 {
        return 1.0;
    }
    let span = runs
        .iter()
        .map(|r| {
            let (b, c) = r.sink_buckets();
            (b * c.len() as f64).max(r.report.sim_duration_ms)
        })
        .fold(0.0, f64::max);
    if span / bucket < 50.0 {
        return bucket;
    }
    let bin = charts::nice125(span / 125.0, false);
    (bin / bucket).ceil().max(1.0) * bucket
}

/// One mode's run in a comparison report.
#[derive(Debug, Clone)]
pub struct Run<'a> {
    /// The mode's name.
    pub mode: String,
    /// Its run report.
    pub report: &'a RunReport,
    /// Its details (batches, failures, correctness).
    pub details: &'a ModeDetails,
}

impl<'a> Run<'a> {
    /// The run of a comparison report.
    pub fn of(r: &'a streamlab_engine::report::ModeRun) -> Self {
        Run {
            mode: r.mode.clone(),
            report: &r.report,
            details: &r.details,
        }
    }

    /// Failures as `(at ms, downtime ms)`: from the mode's details, which carry every mode's
    /// failures (streaming copies its report's), else from the run report.
    pub fn failures(&self) -> Vec<(f64, f64)> {
        if !self.details.failures.is_empty() {
            return self
                .details
                .failures
                .iter()
                .map(|f| (f.at_ms, f.downtime_ms))
                .collect();
        }
        self.report
            .failures
            .iter()
            .map(|f| (f.at_ms, f.downtime_ms.unwrap_or(0.0)))
            .collect()
    }

    /// Checkpoints as `(trigger ms, completed ms if completed)`.
    pub fn checkpoints(&self) -> Vec<(f64, Option<f64>)> {
        self.report
            .checkpoints
            .iter()
            .map(|c| (c.trigger_ms, c.completed_ms))
            .collect()
    }

    /// Batches or stages as `(start ms, end ms)`.
    pub fn batches(&self) -> Vec<(f64, f64)> {
        self.details
            .batches
            .iter()
            .map(|b| (b.start_ms, b.end_ms))
            .collect()
    }

    /// Against the same mode without its faults, over all sinks: `(duplicates, missing,
    /// wrong results)`; `None` when the run had nothing to compare against. A record that
    /// is there in place of another — a count that a lost state got wrong — is both "more
    /// than the reference" and "less than the reference" in the engine's counts: each such
    /// pair is one wrong result, not a duplicate and a loss.
    pub fn correctness(&self) -> Option<(u64, u64, u64)> {
        Some(self.per_sink()?.iter().fold((0, 0, 0), |a, &(d, m)| {
            let wrong = d.min(m);
            (a.0 + d - wrong, a.1 + m - wrong, a.2 + wrong)
        }))
    }

    /// Duplicates and missing records over all sinks, as the engine counts them: from the
    /// sinks (fault tolerance) or the details (baselines); `None` when the run had nothing
    /// to compare against.
    pub fn duplicates_missing(&self) -> Option<(u64, u64)> {
        let v = self.per_sink()?;
        Some(v.iter().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1)))
    }

    /// Per sink: duplicates and missing records as the engine counts them — from the sinks
    /// when every sink was compared row by row, else from the details.
    fn per_sink(&self) -> Option<Vec<(u64, u64)>> {
        let from_sinks: Option<Vec<(u64, u64)>> = self
            .report
            .sinks
            .iter()
            .map(|s| Some((s.duplicates?, s.missing?)))
            .collect();
        let from_details = self.details.correctness.as_ref().map(|c| {
            c.iter()
                .map(|x| (x.duplicates, x.missing))
                .collect::<Vec<_>>()
        });
        from_sinks.filter(|d| !d.is_empty()).or(from_details)
    }

    /// Late records dropped by window operators.
    pub fn late_drops(&self) -> u64 {
        self.report.late_dropped()
    }

    /// The report's records at the sinks per bucket: `(bucket ms, counts)`.
    pub fn sink_buckets(&self) -> (f64, Vec<f64>) {
        let t = &self.report.throughput;
        let bucket = t.bucket_ms as f64;
        if bucket <= 0.0 {
            return (0.0, Vec::new());
        }
        (bucket, t.sink_records.iter().map(|&c| c as f64).collect())
    }
    /// Records per second at the sinks over time, in bins of `bin_ms` (a multiple of the
    /// report's bucket): `(start ms, end ms, records/s)`; the last bin ends with the data.
    pub fn throughput_binned(&self, bin_ms: f64) -> Vec<(f64, f64, f64)> {
        let (bucket, counts) = self.sink_buckets();
        if bucket <= 0.0 || counts.is_empty() {
            return Vec::new();
        }
        let k = (bin_ms / bucket).round().max(1.0) as usize;
        counts
            .chunks(k)
            .enumerate()
            .map(|(i, c)| {
                let start = (i * k) as f64 * bucket;
                let width = c.len() as f64 * bucket;
                (start, start + width, c.iter().sum::<f64>() * 1000.0 / width)
            })
            .collect()
    }

    /// Results visible at the sinks so far, at the end of every bin of `bin_ms`:
    /// `(time ms, records)`, from `(0, 0)`.
    pub fn results_over_time(&self, bin_ms: f64) -> Vec<(f64, f64)> {
        let (bucket, counts) = self.sink_buckets();
        if bucket <= 0.0 || counts.is_empty() {
            return Vec::new();
        }
        let k = (bin_ms / bucket).round().max(1.0) as usize;
        let mut total = 0.0;
        let mut out = vec![(0.0, 0.0)];
        for (i, c) in counts.chunks(k).enumerate() {
            total += c.iter().sum::<f64>();
            out.push(((i * k + c.len()) as f64 * bucket, total));
        }
        out
    }

    /// Watermark lag over time: the task whose trail has the most points (the last of
    /// them on a tie).
    pub fn watermark_lag(&self) -> Vec<(f64, f64)> {
        self.report
            .tasks
            .iter()
            .map(|t| &t.watermark_lag_ms)
            .max_by_key(|l| l.len())
            .cloned()
            .unwrap_or_default()
    }

    /// The latency CDF: `(latency ms, fraction)`.
    pub fn latency_cdf(&self) -> Vec<(f64, f64)> {
        self.report.latency.cdf_ms.clone()
    }
}
