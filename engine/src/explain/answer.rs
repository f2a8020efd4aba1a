//! What `explain` says: the same answer as text for a person and as data for tools.

use serde::Serialize;

/// An answer to one [`super::Question`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    /// The question, as a sentence ("Why did window [0, 10000) of key alice fire?").
    pub question: String,
    /// The answer in one sentence.
    pub headline: String,
    /// The Flink rule(s) applied, one sentence each ("a window fires when the watermark
    /// passes its end − 1").
    pub rules: Vec<String>,
    /// The evidence, in the order a person follows it, naming things the way the plan and the
    /// summary do (operator, subtask `#i`, channel, key group).
    pub evidence: Vec<String>,
    /// The smallest change that would give another outcome, if there is one.
    pub change: Option<String>,
    /// The same answer as data (`--json`): question-specific fields.
    pub data: serde_json::Value,
}

impl Answer {
    /// The answer as a person reads it.
    pub fn render(&self) -> String {
        let mut out = format!("{}\n\n{}\n", self.question, self.headline);
        if !self.evidence.is_empty() {
            out.push_str("\nEvidence:\n");
            for e in &self.evidence {
                out.push_str(&format!("  - {e}\n"));
            }
        }
        for r in &self.rules {
            out.push_str(&format!("\nFlink's rule: {r}\n"));
        }
        if let Some(c) = &self.change {
            out.push_str(&format!("\nTo change it: {c}\n"));
        }
        out
    }
}

/// Why a question could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// The question names something the job does not have (an operator, sink, source,
    /// checkpoint): the message lists what exists.
    #[error("{0}")]
    Unknown(String),
    /// The run itself failed in a way that stops the answer (an invariant, a trace write).
    #[error("the run failed: {0}")]
    Run(#[from] std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_names_question_headline_evidence_rule_and_change_in_that_order() {
        let a = Answer {
            question: "Q?".into(),
            headline: "H.".into(),
            rules: vec!["R.".into()],
            evidence: vec!["E1".into(), "E2".into()],
            change: Some("C.".into()),
            data: serde_json::json!({}),
        };
        assert_eq!(
            a.render(),
            "Q?\n\nH.\n\nEvidence:\n  - E1\n  - E2\n\nFlink's rule: R.\n\nTo change it: C.\n"
        );
    }
}
