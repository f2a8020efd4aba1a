//! The engine's modules are layers (the table in the crate doc, DESIGN §1): a module may use
//! the layers before it in [`LAYERS`], never one after it. This test reads every source file
//! and fails on a `crate::…` path that reaches a later layer, so the layout stays readable as
//! the data path.

use std::path::Path;

/// The engine's top-level modules in layer order.
const LAYERS: &[&str] = &[
    "core", "flink", "expr", "scenario", "check", "plan", "report", "ops", "sim", "oracle",
    "modes", "api",
];

/// Known violations that are being removed, as (file, used layer). Empty when the layering
/// is clean; every entry needs a reason next to it.
const KNOWN: &[(&str, &str)] = &[
    // the entry points scenario::load / parse_str stay where callers find them (re-exported
    // from check/); callers can move to check:: and this entry go
    ("scenario/mod.rs", "check"),
    // issue 12: the sink's comparison basis (`final_key_column`) is decided in oracle/
    ("sim/build.rs", "oracle"),
];

fn layer(name: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == name)
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("readable source folder") {
        let p = e.expect("directory entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every `crate::<module>` path outside comments in `text`, with its line number.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let before_ok =
                i == 0 || !rest[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_');
            if before_ok && !name.is_empty() {
                found.push((n + 1, name));
            }
            rest = after;
        }
    }
    found
}

fn violations() -> Vec<(String, String, usize)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(&src)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        let top = rel
            .split('/')
            .next()
            .unwrap_or("")
            .trim_end_matches(".rs")
            .to_string();
        let Some(own) = layer(&top) else { continue };
        let text = std::fs::read_to_string(&f).expect("readable source file");
        for (line, used) in crate_paths(&text) {
            if layer(&used).is_some_and(|l| l > own) {
                out.push((rel.clone(), used, line));
            }
        }
    }
    out
}

#[test]
fn no_module_uses_a_later_layer() {
    let bad: Vec<String> = violations()
        .into_iter()
        .filter(|(f, used, _)| !KNOWN.contains(&(f.as_str(), used.as_str())))
        .map(|(f, used, line)| format!("engine/src/{f}:{line} uses crate::{used}"))
        .collect();
    assert!(
        bad.is_empty(),
        "layering violations (see LAYERS):\n{}",
        bad.join("\n")
    );
}

#[test]
fn every_known_violation_still_exists() {
    let now = violations();
    for (f, used) in KNOWN {
        assert!(
            now.iter().any(|(g, u, _)| g == f && u == used),
            "{f} no longer uses crate::{used}: remove it from KNOWN"
        );
    }
}

#[test]
fn every_top_level_module_has_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    for line in lib.lines() {
        if let Some(name) = line
            .strip_prefix("pub mod ")
            .and_then(|r| r.strip_suffix(';'))
        {
            assert!(layer(name).is_some(), "module {name} is not in LAYERS");
        }
    }
}

#[test]
fn the_scanner_sees_a_violation() {
    let found = crate_paths("use crate::sim::Task; // crate::api\nlet x = my_crate::api::X;");
    assert_eq!(found, vec![(1, "sim".to_string())]);
}
