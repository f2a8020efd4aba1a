//! A keyed process function in Rust: the fraud detector of Flink's DataStream API tutorial
//! ("Fraud Detection with the DataStream API").
//!
//! Per account it remembers whether the last transaction was small (under 1.00). If the
//! next one is large (over 500.00) and comes within a minute of the small one, it raises an
//! alert. The flag lives in value state; a processing-time timer clears it after a minute,
//! so a small and a large transaction far apart raise nothing.
//!
//! The source is paced (one transaction a second of simulated processing time), so the
//! minute of processing time is meaningful; the run is deterministic like every streamlab
//! run.
//!
//! Run: `cargo run --example keyed_process`

use streamlab_engine::api::{Source, StreamEnv};
use streamlab_engine::core::time::EventTime;
use streamlab_engine::core::value::{Type, Value};
use streamlab_engine::flink::process::{Collector, Context, KeyedProcessFunction, TimeDomain};
use streamlab_engine::row;

const SMALL_AMOUNT: f64 = 1.00;
const LARGE_AMOUNT: f64 = 500.00;
const ONE_MINUTE: i64 = 60_000;

/// `FraudDetector extends KeyedProcessFunction<Long, Transaction, Alert>`.
#[derive(Debug, Clone)]
struct FraudDetector;

impl FraudDetector {
    /// Deletes the timer and clears the state of the current account.
    fn clean_up(ctx: &mut Context<'_>) {
        if let Some(&[Value::Int(timer)]) = ctx.value("timer") {
            ctx.delete_processing_time_timer(EventTime::from_millis(timer));
        }
        ctx.clear_value("timer");
        ctx.clear_value("flag");
    }
}

impl KeyedProcessFunction for FraudDetector {
    fn process_element(&mut self, tx: &[Value], ctx: &mut Context<'_>, out: &mut Collector<'_>) {
        // tx = [account, amount]
        let amount = tx[1].as_float();
        if ctx.value("flag").is_some() {
            if amount > LARGE_AMOUNT {
                out.collect(&[ctx.key(), Value::Float(amount)]);
            }
            Self::clean_up(ctx);
        }
        if amount < SMALL_AMOUNT {
            ctx.set_value("flag", &[Value::Bool(true)]);
            let timer = ctx.current_processing_time().plus_millis(ONE_MINUTE);
            ctx.register_processing_time_timer(timer);
            // value state holds the timer's timestamp as a field (milliseconds)
            ctx.set_value("timer", &[Value::Int(timer.as_millis())]);
        }
    }

    fn on_timer(
        &mut self,
        _: EventTime,
        _: TimeDomain,
        ctx: &mut Context<'_>,
        _: &mut Collector<'_>,
    ) {
        // A minute has passed since the small transaction: forget it.
        ctx.clear_value("timer");
        ctx.clear_value("flag");
    }

    fn fresh(&self) -> Box<dyn KeyedProcessFunction> {
        Box::new(self.clone())
    }
}

/// Builds and runs the job; returns the alerts as (account, amount).
fn detect() -> Result<Vec<(i64, f64)>, streamlab_engine::api::ApiError> {
    // (account, amount), one per second of processing time.
    let transactions = [
        (1, 188.23),
        (2, 0.35), // small …
        (3, 12.10),
        (2, 620.50), // … then large within a minute: alert
        (4, 0.12),   // small, but the next transaction of account 4 is 70 s later
        (1, 57.00),
        (5, 0.90),
        (5, 731.00), // small then large: alert
    ];
    let env = StreamEnv::new("fraud_detection")
        .parallelism(2)
        .cluster(1, 2);
    let mut rows: Vec<_> = transactions
        .iter()
        .map(|&(account, amount)| row! { account = account, amount = amount })
        .collect();
    // seventy quiet seconds (other accounts), then account 4's large transaction
    rows.extend((0..70).map(|i| row! { account = 100 + i, amount = 42.0 }));
    rows.push(row! { account = 4, amount = 900.0 });

    env.source(
        "transactions",
        Source::elements(rows).rate(1.0).parallelism(1),
    )
    .key_by("account")
    .process("fraud_detector", &[("amount", Type::Float)], FraudDetector)
    .name("fraud_detector")
    .collect("alerts");

    let result = env.execute()?;
    Ok(result
        .rows("alerts")
        .expect("the job collects into `alerts`")
        .iter()
        .map(|r| {
            (
                r[0].as_i64().unwrap_or(-1),
                r[1].as_f64().unwrap_or(f64::NAN),
            )
        })
        .collect())
}

fn main() {
    match detect() {
        Ok(alerts) => {
            println!("alerts (account, amount):");
            for (account, amount) in alerts {
                println!("  {account}, {amount:.2}");
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
    fn small_then_large_within_a_minute_alerts_and_the_timer_forgets_older_ones() {
        // account 4's small transaction is forgotten by its timer 60 s later, so its
        // large one after 70 s raises nothing
        assert_eq!(super::detect().unwrap(), [(2, 620.5), (5, 731.0)]);
    }
}
