//! The documentation's worked examples are what streamlab prints today: every ```text block
//! of `docs/asking-why.md`, `docs/crashpoints.md`, `docs/chaos.md`, `docs/diff.md`,
//! `docs/cep.md`, `docs/sql.md`, `docs/transaction-timeout.md`, `docs/deployment.md` and
//! `docs/session-cluster.md` that
//! starts with `$ streamlab …` is run and compared line by
//! line (its standard output; with `2>&1` at the end of the command, its standard output and
//! then its standard error).
//! A line `  - …` in a block stands for lines left out: the lines before the first one must
//! start the output, the lines after the last one end it, and the lines between two of them
//! come in the output in that order.

use crate::util::{streamlab, texts};

/// The `$ streamlab` examples of a Markdown file: (arguments, expected output).
fn examples(markdown: &str) -> Vec<(Vec<String>, String)> {
    let mut out = Vec::new();
    let mut rest = markdown;
    while let Some(i) = rest.find("```text\n$ streamlab ") {
        let block = &rest[i + "```text\n".len()..];
        let end = block.find("```").expect("closed block");
        let (cmd, body) = block[..end].split_once('\n').expect("a command line");
        let args = cmd["$ streamlab ".len()..]
            .split_whitespace()
            .map(String::from)
            .collect();
        out.push((args, body.to_string()));
        rest = &block[end..];
    }
    out
}

/// Whether `got` is what `doc` shows, with `  - …` standing for lines left out.
fn shows(doc: &str, got: &str) -> bool {
    let (d, g): (Vec<&str>, Vec<&str>) = (
        doc.trim_end().lines().collect(),
        got.trim_end().lines().collect(),
    );
    let parts: Vec<&[&str]> = d.split(|l| *l == "  - …").collect();
    let (head, tail) = (parts[0], parts[parts.len() - 1]);
    if parts.len() == 1 {
        return d == g;
    }
    let Some(end) = g.len().checked_sub(tail.len()) else {
        return false;
    };
    if end < head.len() || !g.starts_with(head) || !g.ends_with(tail) {
        return false;
    }
    // the parts between two ellipses, in order, between the head and the tail
    let mut at = head.len();
    for mid in &parts[1..parts.len() - 1] {
        let found = (at..=end.saturating_sub(mid.len()))
            .find(|&i| i + mid.len() <= end && g[i..i + mid.len()] == **mid);
        match found {
            Some(i) => at = i + mid.len(),
            None => return false,
        }
    }
    true
}

#[test]
fn the_worked_examples_of_asking_why_are_current() {
    examples_are_current("docs/asking-why.md", 8);
}

#[test]
fn the_worked_examples_of_deployment_are_current() {
    examples_are_current("docs/deployment.md", 4);
}

#[test]
fn the_worked_examples_of_several_jobs_on_one_cluster_are_current() {
    examples_are_current("docs/session-cluster.md", 3);
}

#[test]
fn the_worked_example_of_crashpoints_is_current() {
    examples_are_current("docs/crashpoints.md", 1);
}

#[test]
fn the_worked_example_of_chaos_is_current() {
    examples_are_current("docs/chaos.md", 2);
}

#[test]
fn the_worked_examples_of_transaction_timeouts_are_current() {
    examples_are_current("docs/transaction-timeout.md", 4);
}

#[test]
fn the_worked_examples_of_cep_are_current() {
    examples_are_current("docs/cep.md", 3);
}

#[test]
fn the_worked_examples_of_diff_are_current() {
    examples_are_current("docs/diff.md", 3);
}

#[test]
fn the_worked_examples_of_sql_are_current() {
    examples_are_current("docs/sql.md", 4);
}

/// Every `$ streamlab` example of `page` (at least `min`) prints what the page shows.
fn examples_are_current(page: &str, min: usize) {
    let text = std::fs::read_to_string(page).unwrap();
    let found = examples(&text);
    assert!(found.len() >= min, "{page}: {} examples", found.len());
    for (args, body) in found {
        let both = args.last().is_some_and(|a| a == "2>&1");
        let a: Vec<&str> = args
            .iter()
            .map(String::as_str)
            .filter(|a| *a != "2>&1")
            .collect();
        let o = streamlab(&a);
        let (mut out, err) = texts(&o);
        if both {
            out.push_str(&err);
        }
        assert!(
            shows(&body, &out),
            "{page}: `streamlab {}` prints today:\n{out}{err}\n--- the page shows:\n{body}",
            args.join(" ")
        );
    }
}

#[test]
fn an_ellipsis_stands_for_lines_left_out_and_nothing_else() {
    let doc = "a\n  - …\nz\n";
    assert!(shows(doc, "a\nb\nc\nz\n"));
    assert!(shows(doc, "a\nz\n"));
    assert!(!shows(doc, "a\nb\n"));
    assert!(!shows("a\nb\n", "a\nc\n"));
    // several: the parts between them in order, not overlapping the head or the tail
    let doc = "a\n  - …\nm\nn\n  - …\nz\n";
    assert!(shows(doc, "a\nb\nm\nn\nc\nz\n"));
    assert!(shows(doc, "a\nm\nn\nz\n"));
    assert!(!shows(doc, "a\nn\nm\nz\n"));
    assert!(!shows(doc, "a\nm\nz\n"));
    assert!(!shows("a\n  - …\na\n", "a\n"));
    assert!(shows("a\n  - …\nm\n  - …\n", "a\nb\nm\nc\n"));
}
