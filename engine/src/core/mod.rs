//! Foundations every layer uses: the two time axes, seeded random streams, record values and
//! Java hash codes, diagnostics with file positions, and the cost model with its defaults.

pub mod cost;
pub mod diag;
pub mod rng;
pub mod time;
pub mod value;
