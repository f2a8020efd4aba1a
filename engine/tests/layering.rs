//! The engine's modules are layers (the table in the crate doc, DESIGN §1): a module may use
//! the layers before it in [`LAYERS`], never one after it. This test reads every source file
//! and fails on a `crate::…` path that reaches a later layer, so the layout stays readable as
//! the data path. A file's unit tests (what follows its `#[cfg(test)]`) may build their
//! fixtures with later layers — parsing a scenario text needs `check` — so they are not read.

use std::path::Path;

/// The engine's top-level modules in layer order.
const LAYERS: &[&str] = &[
    "core", "flink", "expr", "scenario", "check", "plan", "report", "ops", "sim", "oracle",
    "cluster", "modes", "explain", "api",
];

/// Known violations that are being removed, as (file, used layer). Empty when the layering
/// is clean; every entry needs a reason next to it.
const KNOWN: &[(&str, &str)] = &[];

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

/// Every `crate::<module>` path outside comments and unit tests in `text`, with its line
/// number.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut found = Vec::new();
    for (n, line) in code.lines().enumerate() {
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
    let found = crate_paths(
        "use crate::sim::Task; // crate::api\nlet x = my_crate::api::X;\nuse crate::oracle::Y;\n#[cfg(test)]\nuse crate::api::Z;",
    );
    assert_eq!(
        found,
        vec![(1, "sim".to_string()), (3, "oracle".to_string())]
    );
}

/// Module cycles known and accepted, each with its reason (sorted module paths).
const KNOWN_CYCLES: &[&[&str]] = &[];

/// The module path of a source file (`sim/kernel/mod.rs` → `sim::kernel`).
fn module_of(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_string)
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// Every module a file's non-test code names through `crate::`, `super::` or `self::` paths,
/// resolved to the longest known module prefix; its ancestors and descendants left out (a
/// parent declaring or re-exporting its children is not a cycle).
fn module_edges(modules: &[Vec<String>], me: &[String], text: &str) -> Vec<Vec<String>> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut out: Vec<Vec<String>> = Vec::new();
    for line in code.lines() {
        let line = line.split("//").next().unwrap_or("");
        for head in ["crate::", "super::", "self::"] {
            let mut rest = line;
            while let Some(i) = rest.find(head) {
                let boundary = i == 0
                    || !rest[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':');
                let after = &rest[i + head.len()..];
                rest = after;
                if !boundary {
                    continue;
                }
                let mut base: Vec<String> = match head {
                    "crate::" => Vec::new(),
                    "super::" => me[..me.len().saturating_sub(1)].to_vec(),
                    _ => me.to_vec(),
                };
                let path: String = after
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                for seg in path.split("::").filter(|s| !s.is_empty()) {
                    if seg == "super" {
                        base.pop();
                    } else {
                        base.push(seg.to_string());
                    }
                }
                let target = (0..=base.len())
                    .rev()
                    .map(|n| base[..n].to_vec())
                    .find(|p| modules.contains(p));
                if let Some(t) = target
                    && !t.starts_with(me)
                    && !me.starts_with(&t)
                    && !out.contains(&t)
                {
                    out.push(t);
                }
            }
        }
    }
    out
}

/// The strongly connected components of more than one module (Tarjan's algorithm).
fn cycles(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct St<'a> {
        edges: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        stack: Vec<usize>,
        on: Vec<bool>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut St<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on[v] = true;
        for &w in &s.edges[v] {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(i) if s.on[w] => s.low[v] = s.low[v].min(i),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                s.out.push(comp);
            }
        }
    }
    let n = edges.len();
    let mut s = St {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        stack: Vec::new(),
        on: vec![false; n],
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.out
}

fn module_cycles() -> Vec<Vec<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let rels: Vec<String> = files
        .iter()
        .map(|f| {
            f.strip_prefix(&src)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    let modules: Vec<Vec<String>> = rels.iter().map(|r| module_of(r)).collect();
    let edges: Vec<Vec<usize>> = files
        .iter()
        .zip(&modules)
        .map(|(f, me)| {
            let text = std::fs::read_to_string(f).expect("readable source file");
            module_edges(&modules, me, &text)
                .iter()
                .filter_map(|t| modules.iter().position(|m| m == t))
                .collect()
        })
        .collect();
    let mut found: Vec<Vec<String>> = cycles(&edges)
        .into_iter()
        .map(|c| {
            let mut names: Vec<String> = c.iter().map(|&i| modules[i].join("::")).collect();
            names.sort();
            names
        })
        .collect();
    found.sort();
    found
}

#[test]
fn no_import_cycle_between_modules() {
    let found = module_cycles();
    let unknown: Vec<&Vec<String>> = found
        .iter()
        .filter(|c| {
            !KNOWN_CYCLES
                .iter()
                .any(|k| k.iter().copied().eq(c.iter().map(String::as_str)))
        })
        .collect();
    assert!(
        unknown.is_empty(),
        "import cycles between modules: {unknown:?}"
    );
    for k in KNOWN_CYCLES {
        assert!(
            found
                .iter()
                .any(|c| k.iter().copied().eq(c.iter().map(String::as_str))),
            "the known cycle {k:?} is gone: remove it from KNOWN_CYCLES"
        );
    }
}

#[test]
fn the_cycle_finder_sees_a_cycle_between_siblings() {
    let modules: Vec<Vec<String>> = [
        vec![],
        vec!["a".to_string()],
        vec!["b".to_string()],
        vec!["a".to_string(), "x".to_string()],
    ]
    .to_vec();
    // a uses b, b uses a::x (a descendant of a): a cycle between the siblings a and b
    let a = module_edges(
        &modules,
        &modules[1],
        "use crate::b::Thing; use self::x::Y;",
    );
    assert_eq!(
        a,
        vec![vec!["b".to_string()]],
        "self:: into a child is no edge"
    );
    let b = module_edges(&modules, &modules[2], "fn f() { super::a::x::g() }");
    assert_eq!(b, vec![vec!["a".to_string(), "x".to_string()]]);
    let edges = vec![vec![], vec![2], vec![3], vec![]];
    assert!(
        cycles(&edges).is_empty(),
        "a → b → a::x is no cycle by itself"
    );
    let edges = vec![vec![], vec![2], vec![1], vec![]];
    assert_eq!(cycles(&edges).len(), 1);
}

/// The kernel (`sim/kernel/`) is the only place that implements `Simulation`; every other
/// part of the simulator gets the pieces of the world it needs handed to it.
#[test]
fn only_the_kernel_implements_simulation() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut bad = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(&src)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        if rel.starts_with("sim/kernel/") {
            continue;
        }
        let text = std::fs::read_to_string(&f).expect("readable source file");
        for (n, line) in text.lines().enumerate() {
            if implements_simulation(line) {
                bad.push(format!("engine/src/{rel}:{}", n + 1));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "`impl Simulation` outside sim/kernel/: {bad:?}"
    );
}

/// Whether `line` (outside a comment) opens an `impl` block of `Simulation`.
fn implements_simulation(line: &str) -> bool {
    let code = line.split("//").next().unwrap_or("").trim_start();
    let Some(rest) = code.strip_prefix("impl") else {
        return false;
    };
    // skip generics: `impl<'a> Simulation<'a>`
    let rest = match rest.strip_prefix('<') {
        Some(r) => r.split_once('>').map_or("", |(_, after)| after),
        None => rest,
    };
    rest.trim_start()
        .strip_prefix("Simulation")
        .is_some_and(|after| !after.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
}

#[test]
fn the_impl_finder_sees_an_impl_block() {
    assert!(implements_simulation("impl Simulation<'_> {"));
    assert!(implements_simulation("impl<'a> Simulation<'a> {"));
    assert!(!implements_simulation("// impl Simulation<'_> {"));
    assert!(!implements_simulation("impl EndState<'_> {"));
    assert!(!implements_simulation("impl SimulationView {"));
}
