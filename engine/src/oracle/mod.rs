//! Oracles outside the kernel: the fault-free reference run a faulty run is compared with.

pub mod reference;
