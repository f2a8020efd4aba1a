//! Flink's WordCount as a streaming job, built with streamlab's DataStream-like API:
//! lines → split into words → key by word → rolling sum → an upsert table.
//!
//! A streaming rolling sum emits an *updated* count every time a word comes by, so the sink
//! sees one record per word occurrence; the upsert sink keeps the latest per word, which at
//! the end of the input is the answer. Compare `wordcount_batch`, which emits each word's
//! count once.
//!
//! Run: `cargo run --example wordcount_stream`

use streamlab_engine::api::{Source, StreamEnv};
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

/// Builds the job.
fn job() -> StreamEnv {
    let env = StreamEnv::new("wordcount_stream")
        .parallelism(2)
        .cluster(1, 2);
    let lines = env.source(
        "lines",
        Source::elements(TEXT.iter().map(|l| row! { line = *l }))
            .rate(100.0) // lines per second of (simulated) processing time
            .parallelism(1),
    );
    let counts = lines
        .flat_map(&[("word", "split(lower(line))"), ("n", "1")])
        .name("tokenize")
        .key_by("word")
        .sum("n")
        .name("counts");
    counts.upsert("word_counts", "word");
    env
}

fn main() {
    let env = job();
    let result = match env.execute() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let sink = result
        .sink("word_counts")
        .expect("the job collects into `word_counts`");
    println!(
        "{} updates reached the sink for {} distinct words (one update per word occurrence)",
        result.report.sink_records,
        sink.rows.len()
    );
    let mut table: Vec<(String, i64)> = sink
        .rows
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap_or("").to_string(),
                r[1].as_i64().unwrap_or(0),
            )
        })
        .collect();
    table.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    println!("most frequent words:");
    for (w, n) in table.iter().take(5) {
        println!("  {w:<8} {n}");
    }
    println!(
        "latency p99 {:.3} ms (simulated), the job as a scenario file:\n\n{}",
        sink.latency.p99_ms,
        env.to_toml()
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_occurrence_updates_the_count_and_the_table_holds_the_totals() {
        let r = super::job().execute().unwrap();
        let words: usize = super::TEXT
            .iter()
            .map(|l| {
                l.split(|c: char| !c.is_alphanumeric() && c != '_')
                    .filter(|w| !w.is_empty())
                    .count()
            })
            .sum();
        assert_eq!(r.report.sink_records as usize, words);
        let to = r
            .rows("word_counts")
            .expect("the job collects into `word_counts`")
            .iter()
            .find(|row| row[0] == "to")
            .expect("`to` is counted");
        assert_eq!(to[1], 7);
    }
}
