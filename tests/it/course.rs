//! The course (`docs/course/`): both languages have every lesson, every lesson scenario and
//! model answer meets its expectations, every exercise's starting file fails at least one (no
//! exercise is solved before the student starts), and every `streamlab …` command written in
//! the course and the README runs and exits as the text says.

use crate::util::{scratch, streamlab, texts};
use std::path::{Path, PathBuf};

const COURSE: &str = "docs/course";

/// The Markdown files of a folder, sorted by name.
fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::from(dir)];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn names(dir: &str) -> Vec<String> {
    files(dir, "md")
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn every_lesson_exists_in_both_languages() {
    let (en, zh) = (
        names(&format!("{COURSE}/en")),
        names(&format!("{COURSE}/zh")),
    );
    if en.is_empty() && zh.is_empty() {
        // No course yet: nothing to hold to (the README lists it as not written).
        return;
    }
    for n in &en {
        assert!(
            zh.contains(n),
            "{COURSE}/en/{n} has no Chinese twin {COURSE}/zh/{n}"
        );
    }
    for n in &zh {
        assert!(
            en.contains(n),
            "{COURSE}/zh/{n} has no English twin {COURSE}/en/{n}"
        );
    }
    let index = std::fs::read_to_string(format!("{COURSE}/README.md")).expect("course index");
    for n in &en {
        assert!(
            index.contains(&format!("en/{n}")),
            "the index does not link en/{n}"
        );
        assert!(
            index.contains(&format!("zh/{n}")),
            "the index does not link zh/{n}"
        );
    }
}

fn check(file: &Path) -> (Option<i32>, String) {
    let o = streamlab(&["check", file.to_str().unwrap()]);
    let (out, err) = texts(&o);
    (o.status.code(), format!("{out}{err}"))
}

#[test]
fn lesson_scenarios_and_model_answers_meet_their_expectations() {
    for f in files(&format!("{COURSE}/scenarios"), "toml")
        .into_iter()
        .chain(files(&format!("{COURSE}/answers"), "toml"))
    {
        let (code, text) = check(&f);
        assert_eq!(code, Some(0), "{}:\n{text}", f.display());
    }
}

#[test]
fn every_exercise_starts_unsolved_and_has_a_model_answer() {
    for f in files(&format!("{COURSE}/exercises"), "toml") {
        let (code, text) = check(&f);
        assert_eq!(
            code,
            Some(1),
            "{} must fail an expectation:\n{text}",
            f.display()
        );
        let answer = PathBuf::from(f.to_string_lossy().replacen(
            &format!("{COURSE}/exercises/"),
            &format!("{COURSE}/answers/"),
            1,
        ));
        assert!(
            answer.exists(),
            "{} has no model answer {}",
            f.display(),
            answer.display()
        );
    }
}

/// The `streamlab …` lines of the ```sh blocks of a Markdown text, with the exit status
/// each says (`# exit N` at its end; none: 0).
fn commands(markdown: &str) -> Vec<(Vec<String>, i32)> {
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in markdown.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            in_sh = !in_sh && (t == "```sh" || t == "```bash");
            continue;
        }
        if !in_sh || !t.starts_with("streamlab ") {
            continue;
        }
        let (cmd, comment) = t.split_once('#').unwrap_or((t, ""));
        let exit = comment
            .trim()
            .strip_prefix("exit ")
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        let args = cmd.split_whitespace().skip(1).map(String::from).collect();
        out.push((args, exit));
    }
    out
}

#[test]
fn every_command_of_the_course_and_the_readme_exits_as_written() {
    let mut docs = files(COURSE, "md");
    docs.push(PathBuf::from("README.md"));
    docs.push(PathBuf::from("docs/getting-started.md"));
    let out_dir = scratch("course_commands");
    let mut ran = 0;
    for doc in docs {
        let text = std::fs::read_to_string(&doc).unwrap();
        for (args, exit) in commands(&text) {
            // Written output goes to a scratch folder, not into the repository.
            let args: Vec<String> = args
                .into_iter()
                .map(|a| match a.strip_prefix("out/") {
                    Some(rest) => out_dir.join(rest).to_string_lossy().into_owned(),
                    None => a,
                })
                .collect();
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            let o = streamlab(&a);
            let (so, se) = texts(&o);
            assert_eq!(
                o.status.code(),
                Some(exit),
                "{}: `streamlab {}` should exit {exit}:\n{so}{se}",
                doc.display(),
                args.join(" ")
            );
            assert!(!se.contains("panicked"), "{se}");
            ran += 1;
        }
    }
    assert!(ran >= 5, "only {ran} commands found");
}

#[test]
fn commands_are_read_from_sh_blocks_with_their_exit_status() {
    let md = "text\n```sh\nstreamlab run a.toml\nstreamlab check b.toml   # exit 1\ncargo test\n```\n```text\nstreamlab x\n```\n";
    let c = commands(md);
    assert_eq!(c.len(), 2);
    assert_eq!(c[0], (vec!["run".to_string(), "a.toml".to_string()], 0));
    assert_eq!(c[1].1, 1);
}
