//! # streamlab-engine
//!
//! The engine of streamlab: it reads a scenario, plans it the way Flink would, and runs it on
//! a deterministic simulated cluster. The modules follow the data path (DESIGN §2):
//!
//! | step | module |
//! |---|---|
//! | scenario file → [`scenario::Scenario`] (two stages: raw serde, then validation) | [`scenario`], [`expr`], [`diag`] |
//! | logical graph, chaining, execution graph, slots | [`plan`] |
//! | simulation in processing time | [`sim`] |
//! | the same job as micro-batch, batch or acking (baselines) | [`modes`] |
//! | metrics and the run report | [`report`] |
//!
//! Shared foundations: [`time`] (the two time axes), [`rng`] (seeded streams), [`value`]
//! (records, strings, Java hash codes), [`cost`] (the cost model and its defaults).

pub mod api;
pub mod cost;
pub mod diag;
pub mod expr;
pub mod modes;
pub mod plan;
pub mod process;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod sim;
pub mod time;
pub mod value;
pub mod watermark;
pub mod window;
