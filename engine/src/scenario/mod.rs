//! Scenario files: what a person writes to describe a job, its cluster and its data — as data.
//!
//! Reading happens in two stages, as DESIGN §9 asks: [`raw`] is the file as serde reads it
//! (`deny_unknown_fields`: typos and wrong types are caught at their position), and
//! [`crate::check`] turns the raw tables into a [`Scenario`] ([`model`] and the types of
//! [`recovery`], [`savepoint`], [`modes`], [`chaos`]) whose names are resolved, types known,
//! options checked and expressions compiled, collecting every error with its line and column.
//! The parts hold data only and never read the whole model back ([`spanned`] is the leaf
//! they share); what reads a whole scenario is in [`query`] (input end, parallelism, the
//! rescaled job), [`changelog`] (what a sink's changelog means for comparing runs) and
//! `chaos::draw`. [`units`] reads durations, sizes and bandwidths.
//! `docs/scenario-format.md` is the reference for the format.

pub mod changelog;
pub mod chaos;
pub mod expect;
pub mod model;
pub mod modes;
pub mod query;
pub mod raw;
pub mod recovery;
pub mod savepoint;
pub mod spanned;
pub mod sql;
pub mod units;

pub use model::*;
pub use query::input_end;
pub use recovery::*;
pub use savepoint::{RescaleSpec, SavepointSpec};

use crate::core::diag::{Diagnostics, SourceFile};
use std::sync::Arc;

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read at all.
    #[error("cannot read scenario file `{path}`: {reason}")]
    Unreadable {
        /// The path as given.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The file was read but is not a valid scenario.
    #[error("{0}")]
    Invalid(Diagnostics),
}

/// The file a scenario came from, shared for messages.
pub fn file_of(s: &Scenario) -> Arc<SourceFile> {
    s.file.clone()
}
