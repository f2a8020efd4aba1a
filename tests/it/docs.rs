//! The documentation's worked examples are what streamlab prints today: every ```text block
//! of `docs/asking-why.md`, `docs/crashpoints.md` and `docs/diff.md` that starts with `$ streamlab …` is run and compared line by line.
//! A line `  - …` in a block stands for lines left out: the lines before it must start the
//! output, the lines after it end it.

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
    match d.iter().position(|l| *l == "  - …") {
        None => d == g,
        Some(k) => {
            let tail = &d[k + 1..];
            g.len() >= d.len() - 1 && g.starts_with(&d[..k]) && g.ends_with(tail)
        }
    }
}

#[test]
fn the_worked_examples_of_asking_why_are_current() {
    examples_are_current("docs/asking-why.md", 8);
}

#[test]
fn the_worked_example_of_crashpoints_is_current() {
    examples_are_current("docs/crashpoints.md", 1);
}

#[test]
fn the_worked_examples_of_diff_are_current() {
    examples_are_current("docs/diff.md", 3);
}

/// Every `$ streamlab` example of `page` (at least `min`) prints what the page shows.
fn examples_are_current(page: &str, min: usize) {
    let text = std::fs::read_to_string(page).unwrap();
    let found = examples(&text);
    assert!(found.len() >= min, "{page}: {} examples", found.len());
    for (args, body) in found {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = streamlab(&a);
        let (out, err) = texts(&o);
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
}
