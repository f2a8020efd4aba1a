//! What the checks' unit tests share: the outcome of checking a scenario text, as text.

use crate::scenario::Scenario;

/// The scenario `text` describes, or its errors rendered.
pub fn parsed(text: &str) -> Result<Scenario, String> {
    super::parse_str("t.toml", text, None).map_err(|d| d.to_string())
}

/// The errors of `text`, rendered; empty when it is valid.
pub fn errors(text: &str) -> String {
    parsed(text).err().unwrap_or_default()
}

/// The errors of `text`, or when it is valid its warnings, one message a line.
pub fn findings(text: &str) -> String {
    match parsed(text) {
        Ok(s) => s
            .warnings
            .iter()
            .map(|w| w.message.clone())
            .collect::<Vec<_>>()
            .join("\n"),
        Err(e) => e,
    }
}
