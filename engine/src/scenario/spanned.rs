//! A value with the place in the scenario file it was written at: the leaf type every part of
//! the model (`model`, `recovery`, `savepoint`) uses to point errors into the file.

use std::ops::Range;

/// A value with the byte range it was written at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: Range<usize>,
}
