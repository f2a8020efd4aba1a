//! Foundations every layer uses: the two time axes, seeded random streams, record values and
//! Java hash codes, diagnostics with file positions, the cost model, and every default (the
//! cost model's and Flink's) in [`defaults`].

pub mod cost;
pub mod defaults;
pub mod diag;
pub mod event_time;
pub mod rng;
pub mod time;
pub mod value;
