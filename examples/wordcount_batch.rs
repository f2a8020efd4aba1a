//! Flink's WordCount with batch-style output: each word's count once, at the end.
//!
//! There are two ways to get only the final counts. Flink's BATCH runtime mode
//! (`execution.runtime-mode: BATCH`) makes a rolling `sum` emit one final row per word at the
//! end of the input; streamlab runs any scenario that way in its `batch` mode
//! (`streamlab compare scenarios/wordcount.toml --modes streaming,batch`, or
//! `streamlab_engine::modes::run_mode(…, Mode::Batch, …)`). This example shows the other way,
//! which stays in the STREAMING runtime and so works on any Flink job: a global window per
//! word whose event-time trigger fires when the final watermark (+∞) arrives at the end of
//! the bounded input. Compare `wordcount_stream`, which emits an updated count per occurrence.
//!
//! Run: `cargo run --example wordcount_batch`

use streamlab_engine::api::{GlobalWindows, Source, StreamEnv, Trigger};
use streamlab_engine::row;

/// The first lines of Hamlet's soliloquy (Flink's `WordCountData`).
const TEXT: &[&str] = &[
    "To be, or not to be,--that is the question:--",
    "Whether 'tis nobler in the mind to suffer",
    "The slings and arrows of outrageous fortune",
    "Or to take arms against a sea of troubles,",
    "And by opposing end them?--To die,--to sleep,--",
    "No more; and by a sleep to say we end",
];

/// Builds and runs the job; returns (word, count), most frequent first.
fn count_words() -> Result<Vec<(String, i64)>, streamlab_engine::api::ApiError> {
    let env = StreamEnv::new("wordcount_batch")
        .parallelism(2)
        .cluster(1, 2);
    env.source(
        "lines",
        Source::elements(TEXT.iter().map(|l| row! { line = *l })).parallelism(1),
    )
    .flat_map(&[("word", "split(lower(line))"), ("n", "1")])
    .name("tokenize")
    .key_by("word")
    .window(GlobalWindows::create())
    .trigger(Trigger::event_time())
    .sum("n")
    .name("counts")
    .collect("word_counts");

    let result = env.execute()?;
    let mut table: Vec<(String, i64)> = result
        .rows("word_counts")
        .expect("the job collects into `word_counts`")
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap_or("").to_string(),
                r.last().and_then(|v| v.as_i64()).unwrap_or(0),
            )
        })
        .collect();
    table.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(table)
}

fn main() {
    match count_words() {
        Ok(table) => {
            println!(
                "{} records reached the sink: one per distinct word, all at the end of the input",
                table.len()
            );
            for (w, n) in table.iter().take(5) {
                println!("  {w:<8} {n}");
            }
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_final_count_per_word() {
        let table = super::count_words().unwrap();
        let mut words: Vec<&str> = table.iter().map(|(w, _)| w.as_str()).collect();
        words.sort();
        words.dedup();
        assert_eq!(words.len(), table.len(), "each word exactly once");
        assert_eq!(table[0], ("to".to_string(), 7));
        assert_eq!(table.len(), 36);
    }
}
