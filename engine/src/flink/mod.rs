//! Apache Flink's rules, each written once: window assigners, triggers and merging; the
//! watermark generator and the status/watermark valve; partitioners and key groups; the
//! barrier aligner; the checkpoint coordinator's rules; restart strategies and the job's
//! status; the keyed process-function trait. These modules know nothing of the simulator or
//! the scenario file.

pub mod barrier;
pub mod cep;
pub mod checkpoint;
pub mod deployment;
pub mod keygroup;
pub mod parallelism;
pub mod partition;
pub mod process;
pub mod restart;
pub mod session;
pub mod startup;
pub mod valve;
pub mod watermark;
pub mod window;
