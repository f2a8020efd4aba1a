//! Scenario files: what a person writes to describe a job, its cluster and its data.
//!
//! Reading happens in two stages, as DESIGN §9 asks: [`raw`] deserializes the TOML with
//! `deny_unknown_fields` (typos and wrong types are caught by serde, at their position), then
//! [`validate`] turns the raw tables into a [`Scenario`] whose names are resolved, types known
//! and options checked, collecting every error with its line and column. `docs/scenario-format.md`
//! is the reference for the format.

pub mod chaos;
mod joins;
pub mod model;
pub mod modes;
pub mod raw;
pub mod recovery;
pub mod savepoint;
mod sources;
pub mod units;
pub mod validate;
mod windows;

pub use model::*;
pub use recovery::*;
pub use savepoint::{RescaleSpec, SavepointSpec};

use crate::core::diag::{Diagnostic, Diagnostics, SourceFile};
use std::path::Path;
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

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| LoadError::Unreadable {
        path: shown.clone(),
        reason: match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".into(),
            std::io::ErrorKind::PermissionDenied => "permission denied".into(),
            std::io::ErrorKind::IsADirectory => "it is a directory".into(),
            _ => e.to_string(),
        },
    })?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let file = SourceFile::new(shown, String::from_utf8_lossy(e.as_bytes()).into_owned());
            let mut d = Diagnostics::new(file);
            d.push(
                Diagnostic::error("the file is not valid UTF-8 text", Some(at..at + 1))
                    .with_label("scenario files are TOML, which is UTF-8"),
            );
            return Err(LoadError::Invalid(d));
        }
    };
    let file = SourceFile::new(shown, text);
    validate::parse_scenario(file, path.parent(), &[]).map_err(LoadError::Invalid)
}

/// Validates scenario text (no file system access except CSV sources under `base_dir`).
pub fn parse_str(name: &str, text: &str, base_dir: Option<&Path>) -> Result<Scenario, Diagnostics> {
    validate::parse_scenario(SourceFile::new(name, text), base_dir, &[])
}

/// Validates scenario text whose `process` operators may use the Rust process functions in
/// `custom` by name.
pub fn parse_str_with(
    name: &str,
    text: &str,
    base_dir: Option<&Path>,
    custom: &[crate::flink::process::CustomProcess],
) -> Result<Scenario, Diagnostics> {
    validate::parse_scenario(SourceFile::new(name, text), base_dir, custom)
}

/// The file a scenario came from, shared for messages.
pub fn file_of(s: &Scenario) -> Arc<SourceFile> {
    s.file.clone()
}
