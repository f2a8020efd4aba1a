//! `streamlab explain`: one question about one run, answered in words (or as JSON).

use crate::commands::{EXIT_BAD_INPUT, EXIT_JOB_FAILED, apply_chaos, load_and_plan_quiet};
use std::path::Path;
use streamlab_engine::core::time::EventTime;
use streamlab_engine::explain::{self, ExplainError, Question};

/// The question, as given on the command line (exactly one of the kinds).
#[derive(clap::Args, Debug)]
pub struct QuestionArgs {
    /// Why did (or didn't) this window operator's window fire? Needs --key and --start.
    #[arg(long, value_name = "OP", requires_all = ["key", "start"])]
    window: Option<String>,
    /// The key, as the summary prints it (with --window or --sink).
    #[arg(long, value_name = "K")]
    key: Option<String>,
    /// The window's start, event time in milliseconds (with --window).
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    start: Option<i64>,
    /// What happened to record N (from 0) of a paced source partition: `clicks:2:41`
    /// (`clicks:41` when the source has one partition).
    #[arg(long, value_name = "SOURCE[:PARTITION]:N")]
    record: Option<String>,
    /// Where did a row of this sink come from? With --row N (from 0) or --key K; or, with
    /// --missing, which rows of it are missing.
    #[arg(long, value_name = "NAME")]
    sink: Option<String>,
    /// The row's position among the rows the sink made visible, in order, from 0 (with
    /// --sink; `--key` lists a key's rows with their positions).
    #[arg(long, value_name = "N", requires = "sink")]
    row: Option<u64>,
    /// Which rows of this sink (with --sink) did the fault-free run of the same scenario and
    /// seed make visible that this run did not, and why?
    #[arg(long, requires = "sink", conflicts_with_all = ["row", "key"])]
    missing: bool,
    /// Which subtask limits the job, and why?
    #[arg(long)]
    bottleneck: bool,
    /// What did checkpoint N spend its time on, and why did it fail if it did?
    #[arg(long, value_name = "N")]
    checkpoint: Option<u64>,
}

impl QuestionArgs {
    /// The one question asked, or what is wrong with the arguments.
    fn question(self) -> Result<Question, String> {
        let kinds = [
            self.window.is_some(),
            self.record.is_some(),
            self.sink.is_some(),
            self.bottleneck,
            self.checkpoint.is_some(),
        ];
        match kinds.iter().filter(|k| **k).count() {
            0 => {
                return Err(
                    "ask one question: --window OP --key K --start T, --record SOURCE:N, \
                     --sink NAME (--row N | --key K | --missing), --bottleneck or --checkpoint N"
                        .into(),
                );
            }
            1 => {}
            _ => {
                return Err("ask one question at a time (--window, --record, --sink, \
                            --bottleneck, --checkpoint)"
                    .into());
            }
        }
        if let Some(operator) = self.window {
            return Ok(Question::Window {
                operator,
                key: self.key.unwrap_or_default(),
                start: EventTime::from_millis(self.start.unwrap_or_default()),
            });
        }
        if let Some(r) = self.record {
            return parse_record(&r);
        }
        if let Some(sink) = self.sink {
            if self.missing {
                return Ok(Question::SinkMissing { sink });
            }
            if self.row.is_some() == self.key.is_some() {
                return Err("--sink needs exactly one of --row N, --key K and --missing".into());
            }
            return Ok(Question::SinkRow {
                sink,
                row: self.row,
                key: self.key,
            });
        }
        if let Some(id) = self.checkpoint {
            return Ok(Question::Checkpoint { id });
        }
        Ok(Question::Bottleneck)
    }
}

/// `SOURCE:N` or `SOURCE:PARTITION:N`.
fn parse_record(text: &str) -> Result<Question, String> {
    let bad = || format!("--record `{text}`: expected SOURCE:N or SOURCE:PARTITION:N (N from 0)");
    let parts: Vec<&str> = text.rsplitn(3, ':').collect();
    let num = |s: &str| s.parse::<u64>().map_err(|_| bad());
    match parts.as_slice() {
        [n, source] if !source.is_empty() => Ok(Question::Record {
            source: (*source).into(),
            partition: None,
            n: num(n)?,
        }),
        [n, p, source] if !source.is_empty() => Ok(Question::Record {
            source: (*source).into(),
            partition: Some(u32::try_from(num(p)?).map_err(|_| bad())?),
            n: num(n)?,
        }),
        _ => Err(bad()),
    }
}

/// Runs `streamlab explain`.
pub fn explain(file: &Path, seed: Option<u64>, chaos: bool, json: bool, q: QuestionArgs) -> u8 {
    let question = match q.question() {
        Ok(q) => q,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let (mut s, p) = match load_and_plan_quiet(file) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let seed_used = seed.unwrap_or(s.seed);
    if let Err(code) = apply_chaos(&mut s, seed_used, chaos) {
        return code;
    }
    match explain::explain(&s, &p, Some(seed_used), &question) {
        Ok(a) if json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&a).expect("answers serialize")
            );
            0
        }
        Ok(a) => {
            print!("{}", a.render());
            0
        }
        Err(e @ ExplainError::Unknown(_)) => {
            eprintln!("error: {}: {e}", file.display());
            EXIT_BAD_INPUT
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_JOB_FAILED
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_named_by_source_and_position_or_source_partition_and_position() {
        assert_eq!(
            parse_record("clicks:41"),
            Ok(Question::Record {
                source: "clicks".into(),
                partition: None,
                n: 41
            })
        );
        assert_eq!(
            parse_record("clicks:2:41"),
            Ok(Question::Record {
                source: "clicks".into(),
                partition: Some(2),
                n: 41
            })
        );
        assert!(parse_record("clicks").is_err());
        assert!(parse_record(":4").is_err());
        assert!(parse_record("clicks:x").is_err());
    }
}
