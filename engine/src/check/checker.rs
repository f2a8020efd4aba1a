//! The [`Checker`]: what every check of a scenario file shares — the diagnostics it collects
//! and the job-wide settings later checks depend on — and the small readers of values
//! (counts, durations, expressions) that report a mistake at its position and keep going.
//!
//! Every other file of [`crate::check`] is free functions taking a `&mut Checker`; this one
//! uses none of them.

use crate::core::diag::{Diagnostic, Diagnostics};
use crate::core::time::SimDuration;
use crate::core::value::Schema;
use crate::expr::{Compiled, ExprError, Relink};
use crate::flink::process::CustomProcess;
use crate::scenario::units::parse_duration;
use crate::scenario::{ExprSrc, InputRef, NodeKind};
use std::ops::Range;
use toml::Spanned as TSpanned;

/// The state of one check of a scenario file.
pub struct Checker {
    /// Every error and warning found so far, with the file they point into.
    pub diags: Diagnostics,
    /// Where relative CSV paths start.
    pub base_dir: Option<std::path::PathBuf>,
    /// The job's periodic watermark interval (sources default to it).
    pub auto_watermark_interval: SimDuration,
    /// The job's default parallelism.
    pub job_parallelism: u32,
    /// Process functions registered by the Rust program, usable by name.
    pub custom: Vec<CustomProcess>,
    /// What the client (`flink run`) submits the job with.
    pub client: Client,
}

/// What `flink run` adds to the job it submits: its options that the scenario file does not
/// hold (`streamlab run -p N`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Client {
    /// `-p`: the default parallelism (below the environment's, above the configuration's).
    pub parallelism: Option<u32>,
}

/// What one node's check found: its kind when it is valid (`None` when an error was
/// reported), and the fields of the records it emits, known even then when they follow from
/// its input — so what reads it is checked too and one run lists every mistake.
pub struct NodeCheck {
    /// The checked node, or `None` after an error.
    pub kind: Option<NodeKind>,
    /// The fields of its records.
    pub schema: Schema,
}

impl NodeCheck {
    /// A node that checked out.
    pub fn ok(kind: NodeKind, schema: Schema) -> Option<NodeCheck> {
        Some(NodeCheck {
            kind: Some(kind),
            schema,
        })
    }
}

/// What an operator's check may look at: its inputs as resolved and the nodes already
/// checked (every node upstream of it is).
pub struct Upstream<'a> {
    /// The inputs in the order written.
    pub refs: &'a [InputRef],
    /// The fields of each input's records.
    pub schemas: &'a [&'a Schema],
    /// The checked kind of every node, by index (`None`: not checked or invalid).
    pub kinds: &'a [Option<NodeKind>],
    /// Every node's name, by index.
    pub names: &'a [&'a str],
}

impl Upstream<'_> {
    /// The key of input `k` when it is a keyed stream (reads a `key_by`).
    pub fn key_of(&self, k: usize) -> Option<&ExprSrc> {
        match &self.kinds[self.refs[k].node] {
            Some(NodeKind::KeyBy { key }) => Some(key),
            _ => None,
        }
    }
}

impl Checker {
    /// Records an error at `span`.
    pub fn error(
        &mut self,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) {
        self.diags
            .push(Diagnostic::error(message, span).with_label(label));
    }

    /// Records a warning at `span`.
    pub fn warn(
        &mut self,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) {
        self.diags
            .push(Diagnostic::warning(message, span).with_label(label));
    }

    /// Whether an error was recorded.
    pub fn has_errors(&self) -> bool {
        self.diags.has_errors()
    }

    /// A positive count that fits in u32.
    pub fn count(&mut self, v: &TSpanned<i64>, what: &str, max: i64) -> Option<u32> {
        let n = *v.get_ref();
        if n < 1 {
            self.error(
                Some(v.span()),
                format!("{what} must be at least 1, found {n}"),
                format!("write a number from 1 to {max}"),
            );
            None
        } else if n > max {
            self.error(
                Some(v.span()),
                format!("{what} must be at most {max}, found {n}"),
                "",
            );
            None
        } else {
            Some(n as u32)
        }
    }

    /// A duration such as "200 ms".
    pub fn duration(&mut self, v: &TSpanned<String>, what: &str) -> Option<SimDuration> {
        match parse_duration(v.get_ref()) {
            Ok(d) => Some(d),
            Err(e) => {
                self.error(
                    Some(v.span()),
                    format!("{what}: {e}"),
                    "durations look like \"200 ms\", \"10 s\", \"1 min\"",
                );
                None
            }
        }
    }

    /// A duration in ms that may be negative ("-5 s": window offsets, interval-join bounds);
    /// `example` is the label of a malformed one.
    pub fn signed_ms(&mut self, v: &TSpanned<String>, what: &str, example: &str) -> Option<i64> {
        let text = v.get_ref().trim();
        let (neg, body) = text.strip_prefix('-').map_or((false, text), |r| (true, r));
        match parse_duration(body) {
            Ok(d) => Some(if neg {
                -(d.as_millis() as i64)
            } else {
                d.as_millis() as i64
            }),
            Err(e) => {
                self.error(Some(v.span()), format!("{what}: {e}"), example);
                None
            }
        }
    }

    /// Where the text of a string value starts in the file.
    pub fn offset_of(&self, s: &TSpanned<String>) -> usize {
        content_offset(&self.diags.file.text, s.span())
    }

    /// Compiles the expression written at `s` with `compile`; on a mistake, reports it at its
    /// place in the file and gives `None`.
    pub fn compile<T: Relink>(
        &mut self,
        s: &TSpanned<String>,
        compile: impl FnOnce(&str) -> Result<Compiled<T>, ExprError>,
    ) -> Option<ExprSrc<T>> {
        let offset = self.offset_of(s);
        match compile(s.get_ref()) {
            Ok(compiled) => Some(ExprSrc {
                text: s.get_ref().clone(),
                offset,
                compiled,
            }),
            Err(e) => {
                self.expr_error(s.get_ref(), offset, e);
                None
            }
        }
    }

    /// Reports an expression error at its place inside the file.
    pub fn expr_error(&mut self, text: &str, offset: usize, e: ExprError) {
        let start = offset + e.span.start;
        let end = (offset + e.span.end).max(start + 1);
        self.diags.push(
            Diagnostic::error(e.message, Some(start..end))
                .with_label(e.label)
                .with_note(format!("in the expression `{text}`")),
        );
    }
}

/// Byte offset of the first content character of a TOML string whose span includes quotes.
pub fn content_offset(text: &str, span: Range<usize>) -> usize {
    let s = &text[span.start.min(text.len())..span.end.min(text.len())];
    if s.starts_with("\"\"\"") || s.starts_with("'''") {
        let after = span.start + 3;
        if text[after..].starts_with('\n') {
            after + 1
        } else if text[after..].starts_with("\r\n") {
            after + 2
        } else {
            after
        }
    } else if s.starts_with('"') || s.starts_with('\'') {
        span.start + 1
    } else {
        span.start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_start_inside_their_quotes() {
        let text = "a = \"x + 1\"\nb = '''\ny'''\nc = 'z'";
        assert_eq!(content_offset(text, 4..11), 5);
        assert_eq!(content_offset(text, 16..24), 20);
        assert_eq!(content_offset(text, 29..32), 30);
    }
}
