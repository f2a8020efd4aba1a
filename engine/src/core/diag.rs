//! Diagnostics that point into the scenario file.
//!
//! Every mistake a person can make in a scenario is reported with the file, line and column,
//! the offending text and what would be valid. A [`Diagnostic`] carries a byte span into the
//! [`SourceFile`]; [`Diagnostics::render`] draws it the way rustc does (via
//! `codespan-reporting`, plain ASCII, no colour) and [`Diagnostic::one_line`] gives the compact
//! `file:line:col: error: message` form used in logs and tests.

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Chars, Config};
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// The text of a scenario file, kept so errors can quote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The path as the user gave it.
    pub name: String,
    /// The whole file.
    pub text: String,
}

impl SourceFile {
    /// A file from its path and contents.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<Self> {
        Arc::new(SourceFile {
            name: name.into(),
            text: text.into(),
        })
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(&self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }

    /// The source text under a span (clamped to the file).
    pub fn snippet(&self, span: &Range<usize>) -> &str {
        let start = floor_char_boundary(&self.text, span.start.min(self.text.len()));
        let end = floor_char_boundary(&self.text, span.end.min(self.text.len())).max(start);
        &self.text[start..end]
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// How bad a diagnostic is: errors stop the run, warnings are printed and the run goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The scenario cannot run.
    Error,
    /// The scenario runs, but probably not as the author meant.
    Warning,
}

/// One finding about a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where in the file, as a byte range; `None` when the problem is not tied to one place.
    pub span: Option<Range<usize>>,
    /// A short text shown under the offending span (usually what would be valid).
    pub label: String,
    /// Further hints shown after the snippet.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// An error at a span.
    pub fn error(message: impl Into<String>, span: Option<Range<usize>>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            label: String::new(),
            notes: Vec::new(),
        }
    }

    /// A warning at a span.
    pub fn warning(message: impl Into<String>, span: Option<Range<usize>>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message, span)
        }
    }

    /// Adds the label shown under the span.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Adds a note shown after the snippet.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// `file:line:col: error: message (label)`, on one line.
    pub fn one_line(&self, file: &SourceFile) -> String {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let place = match &self.span {
            Some(span) => {
                let (l, c) = file.line_col(span.start);
                format!("{}:{l}:{c}", file.name)
            }
            None => file.name.clone(),
        };
        let mut s = format!("{place}: {sev}: {}", self.message);
        if !self.label.is_empty() {
            s.push_str(&format!(" ({})", self.label));
        }
        s
    }
}

/// All findings about one file, in the order they were found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics {
    /// The file the spans point into.
    pub file: Arc<SourceFile>,
    /// The findings.
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// An empty list for a file.
    pub fn new(file: Arc<SourceFile>) -> Self {
        Diagnostics {
            file,
            items: Vec::new(),
        }
    }

    /// Records a finding.
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// The warnings only.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Warning)
    }

    /// Draws every finding with the quoted source line and a caret under the offending text.
    pub fn render(&self) -> String {
        self.items
            .iter()
            .map(|d| render_one(&self.file, d))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.items {
            writeln!(f, "{}", d.one_line(&self.file))?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Renders one diagnostic with codespan-reporting in plain ASCII.
pub fn render_one(file: &SourceFile, d: &Diagnostic) -> String {
    let simple = SimpleFile::new(file.name.as_str(), file.text.as_str());
    let mut cs = match d.severity {
        Severity::Error => CsDiagnostic::error(),
        Severity::Warning => CsDiagnostic::warning(),
    }
    .with_message(d.message.clone());
    if let Some(span) = &d.span {
        let start = floor_char_boundary(&file.text, span.start.min(file.text.len()));
        let end = floor_char_boundary(&file.text, span.end.min(file.text.len())).max(start);
        cs = cs.with_labels(vec![
            Label::primary((), start..end).with_message(d.label.clone()),
        ]);
    } else {
        let mut notes = vec![format!("in {}", file.name)];
        if !d.label.is_empty() {
            notes.push(d.label.clone());
        }
        cs = cs.with_notes(notes);
    }
    cs = cs.with_notes(d.notes.clone());
    let config = Config {
        chars: Chars::ascii(),
        ..Config::default()
    };
    term::emit_into_string(&config, &simple, &cs).unwrap_or_else(|_| d.one_line(file) + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let f = SourceFile::new("x.toml", "a = 1\nbé = \"zz\"\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(6), (2, 1));
        // 'é' is two bytes but one column
        assert_eq!(f.line_col(9), (2, 3));
    }

    #[test]
    fn render_quotes_the_line_and_names_the_position() {
        let f = SourceFile::new("s.toml", "[job]\nparallelism = 0\n");
        let mut ds = Diagnostics::new(f);
        ds.push(
            Diagnostic::error("parallelism must be at least 1", Some(20..21))
                .with_label("write a number from 1 to 32768"),
        );
        let text = ds.render();
        assert!(
            text.contains("error: parallelism must be at least 1"),
            "{text}"
        );
        assert!(text.contains("s.toml:2:15"), "{text}");
        assert!(text.contains("parallelism = 0"), "{text}");
        assert!(text.contains("write a number from 1 to 32768"), "{text}");
        assert_eq!(
            ds.to_string().trim(),
            "s.toml:2:15: error: parallelism must be at least 1 (write a number from 1 to 32768)"
        );
    }
}
