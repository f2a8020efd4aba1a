//! Oracles outside the kernel: the runs a run is compared with — the fault-free reference run
//! of a faulty run, the aligned variant of an unaligned one — [`run`], which starts them, and
//! the in-run invariant checkers.

pub mod aligned;
pub mod crashpoints;
pub mod invariants;
pub mod reference;
mod run;

pub use run::{reference, run, run_against, run_with_progress};
