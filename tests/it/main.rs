//! End-to-end tests: the CLI as a person runs it, and every bundled scenario.
//!
//! One test binary (ripgrep's layout): `cli` checks commands, exit codes and messages,
//! `bad_input` every mistake the foundation issue lists, `scenarios` what each bundled
//! scenario is meant to show.

mod bad_input;
mod cli;
mod scenarios;
mod util;
