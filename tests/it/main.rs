//! End-to-end tests: the CLI as a person runs it, and every bundled scenario.
//!
//! One test binary (ripgrep's layout): `cli` checks commands, exit codes and messages,
//! `bad_input` every mistake the foundation issue lists, `scenarios` what each bundled
//! scenario is meant to show (`event_time_scenarios` for the event-time ones).

mod api_builder;
mod bad_input;
mod cep;
mod chaos;
mod cli;
mod compare;
mod course;
mod crashpoints;
mod deployment;
mod diff;
mod doc_pictures;
mod docs;
mod event_time_scenarios;
mod expectations;
mod explain;
mod fault_tolerance;
mod process_functions;
mod recovery_faults;
mod run_report;
mod scenario_e2e;
mod scenarios;
mod session_cluster;
mod sql;
mod trace_format;
mod util;
mod window_operator;
