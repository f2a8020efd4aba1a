//! # streamlab-engine
//!
//! The engine of streamlab: it reads a scenario, plans it the way Flink would, and runs it on
//! a deterministic simulated cluster. The modules are layers along the data path (DESIGN §1–2);
//! each imports only the layers above it in this table — `tests/layering.rs` fails when one
//! reaches down the list, and when modules import each other in a cycle:
//!
//! | layer | job |
//! |---|---|
//! | [`core`] | time axes, seeded random streams, record values, diagnostics, the cost model |
//! | [`flink`] | Flink's rules, each once: windows, triggers, watermarks, partitioners, key groups, barrier alignment, checkpoint-coordinator rules, restart strategies and job status, the process-function trait |
//! | [`expr`] | the expression language of scenario files: parse, type, compile, evaluate |
//! | [`scenario`] | the scenario file as data: the raw serde model, the checked model, units |
//! | [`check`] | validation: raw file → [`scenario::Scenario`], one file per operator kind, expressions compiled |
//! | [`plan`] | logical graph, chaining with reasons, execution graph, deployment onto slots |
//! | [`report`] | the typed run report and its text summary |
//! | [`ops`] | the operators and the chain that runs them record batch by record batch |
//! | [`sim`] | the simulation kernel in processing time ([`sim::Simulation`]: `new`, `step`, `run`); checkpoints, unaligned, recovery, rescale and savepoints as subsystems |
//! | [`oracle`] | [`oracle::run`]: a run with the runs it is compared with (the fault-free reference, the aligned variant) and the in-run invariant checkers |
//! | [`cluster`] | several jobs on one cluster: a cluster file, the jobs' slots, the blast radius of a TaskManager crash |
//! | [`modes`] | the same job as micro-batch, batch or acking (baselines) |
//! | [`explain`] | answers to "why?" about a run: a window, a record, a sink row, the bottleneck, a checkpoint |
//! | [`api`] | the DataStream-like Rust builder |

pub mod api;
pub mod check;
pub mod cluster;
pub mod core;
pub mod explain;
pub mod expr;
pub mod flink;
pub mod modes;
pub mod ops;
pub mod oracle;
pub mod plan;
pub mod report;
pub mod scenario;
pub mod sim;
