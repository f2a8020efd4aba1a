//! The progress line of `streamlab run`: on stderr, only when stderr is a terminal, and only
//! once a run has taken [`SHOW_AFTER`] of wall time (short runs print nothing extra).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};
use streamlab_engine::core::cost::human_bytes;
use streamlab_engine::sim::Progress;

/// Wall time after which the line appears.
pub const SHOW_AFTER: Duration = Duration::from_secs(2);

/// A spinner line fed by the engine's progress callback.
pub struct RunProgress {
    started: Instant,
    enabled: bool,
    bar: Option<ProgressBar>,
    max_records: u64,
}

impl RunProgress {
    /// A progress line for a run whose sources may read at most `max_records`.
    pub fn new(max_records: u64) -> Self {
        RunProgress {
            started: Instant::now(),
            enabled: std::io::stderr().is_terminal(),
            bar: None,
            max_records,
        }
    }

    /// Called by the engine every few thousand events.
    pub fn update(&mut self, p: &Progress) {
        if !self.enabled || self.started.elapsed() < SHOW_AFTER {
            return;
        }
        let bar = self.bar.get_or_insert_with(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        bar.set_message(line(p, self.max_records));
    }

    /// Removes the line before the summary is printed.
    pub fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

/// The text of the line.
pub fn line(p: &Progress, max_records: u64) -> String {
    format!(
        "running · simulated {} · {} records of at most {} · {} events · ~{} memory",
        p.sim_time,
        p.records,
        max_records,
        p.events,
        human_bytes(p.memory_bytes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use streamlab_engine::core::time::SimTime;

    #[test]
    fn the_line_says_how_far_the_run_is() {
        let p = Progress {
            sim_time: SimTime::from_nanos(2_500_000_000),
            events: 32_768,
            records: 1_000,
            memory_bytes: 3 << 20,
        };
        assert_eq!(
            line(&p, 100_000_000),
            "running · simulated 2.500 s · 1000 records of at most 100000000 · 32768 events · ~3 MiB memory"
        );
    }
}
