//! Oracles outside the kernel: the fault-free reference run a faulty run is compared with,
//! and the in-run invariant checkers.

pub mod invariants;
pub mod reference;
