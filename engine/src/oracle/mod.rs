//! Oracles outside the kernel: the runs a run is compared with — the fault-free reference run
//! of a faulty run, the aligned variant of an unaligned one — and [`run`], which starts them.

pub mod aligned;
pub mod reference;
mod run;

pub use run::{run, run_with_progress};
