//! `counterexample.toml`: the scenario file as the user wrote it, with its `[chaos]` table
//! taken out (with the comment lines right above it), its `seed` set to the campaign's, and
//! the shrunk faults appended as plain `[[fault]]` tables — under a header comment saying how
//! they were found. Everything else keeps the user's text byte for byte. The result is
//! checked by parsing it back: the same scenario, no `[chaos]`, these faults.

use streamlab_engine::check;
use streamlab_engine::core::time::SimDuration;
use streamlab_engine::scenario::{Fault, FaultKind, FaultTime, Scenario};

/// The first line of every file `streamlab chaos` writes: a file that starts otherwise is the
/// user's and is never overwritten.
pub const MARK: &str = "# counterexample.toml — written by `streamlab chaos`";

/// A duration as a scenario file writes it, in the largest unit that keeps it exact.
pub fn duration_text(d: SimDuration) -> String {
    let n = d.as_nanos();
    for (unit, scale) in [("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000)] {
        if n.is_multiple_of(scale) && n > 0 {
            return format!("{} {unit}", n / scale);
        }
    }
    format!("{n} ns")
}

/// One fault as a `[[fault]]` table (`s` names its operators).
pub fn fault_toml(s: &Scenario, f: &Fault) -> String {
    let mut t = String::from("[[fault]]\n");
    let kv = |t: &mut String, k: &str, v: String| t.push_str(&format!("{k} = {v}\n"));
    let q = |x: String| format!("\"{x}\"");
    let kind = match &f.kind {
        FaultKind::KillSubtask { .. } => "kill_subtask",
        FaultKind::KillTaskManager { .. } => "kill_task_manager",
        FaultKind::JobManager { .. } => "job_manager",
        FaultKind::NetworkDelay { .. } => "network_delay",
        FaultKind::NetworkPartition { .. } => "network_partition",
        FaultKind::Straggler { .. } => "straggler",
        FaultKind::StorageFailure { .. } => "storage_failure",
    };
    kv(&mut t, "kind", q(kind.into()));
    match f.at {
        FaultTime::At(at) => kv(&mut t, "at", q(duration_text(at.since_start()))),
        FaultTime::After(phase, n) => kv(&mut t, "after", q(format!("{phase} of checkpoint {n}"))),
    }
    let name = |n: usize| toml_string(&s.nodes[n].name);
    match &f.kind {
        FaultKind::KillSubtask { node, subtask } => {
            kv(&mut t, "operator", name(*node));
            kv(&mut t, "subtask", subtask.to_string());
        }
        FaultKind::KillTaskManager {
            tm,
            replacement_delay,
        } => {
            kv(&mut t, "task_manager", tm.to_string());
            kv(
                &mut t,
                "replacement_delay",
                q(duration_text(*replacement_delay)),
            );
        }
        FaultKind::JobManager { ha } => kv(&mut t, "ha", ha.to_string()),
        FaultKind::NetworkDelay {
            between,
            extra,
            duration,
        } => {
            kv(&mut t, "between", format!("[{}, {}]", between.0, between.1));
            kv(&mut t, "extra", q(duration_text(*extra)));
            kv(&mut t, "duration", q(duration_text(*duration)));
        }
        FaultKind::NetworkPartition { between, duration } => {
            kv(&mut t, "between", format!("[{}, {}]", between.0, between.1));
            kv(&mut t, "duration", q(duration_text(*duration)));
        }
        FaultKind::Straggler {
            node,
            subtask,
            factor,
            duration,
        } => {
            kv(&mut t, "operator", name(*node));
            kv(&mut t, "subtask", subtask.to_string());
            // `{:?}` writes the shortest text that reads back as the same f64
            kv(&mut t, "factor", format!("{factor:?}"));
            kv(&mut t, "duration", q(duration_text(*duration)));
        }
        FaultKind::StorageFailure { duration } => {
            kv(&mut t, "duration", q(duration_text(*duration)));
        }
    }
    t
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether a line is a table header (`[x]` or `[[x]]`) — `depth` is the bracket depth of an
/// unfinished multi-line value before it (then it is not).
fn is_header(line: &str, depth: i32) -> bool {
    depth == 0 && line.trim_start().starts_with('[')
}

/// The change in bracket depth of a value line (outside strings and comments).
fn depth_change(line: &str) -> i32 {
    let mut d = 0;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in line.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' && q == '"' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' => quote = Some(c),
                '#' => break,
                '[' => d += 1,
                ']' => d -= 1,
                _ => {}
            },
        }
    }
    d
}

/// Whether `line` is the header `[chaos]` (with optional spaces and a comment).
fn is_chaos_header(line: &str) -> bool {
    let t = line.split('#').next().unwrap_or("").trim();
    t.strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .is_some_and(|x| x.trim() == "chaos")
}

/// Whether the line `seed = N  # …` already sets `seed`.
fn sets(line: &str, seed: u64) -> bool {
    line.split_once('=')
        .and_then(|(_, v)| v.split('#').next())
        .and_then(|v| v.trim().parse::<u64>().ok())
        == Some(seed)
}

/// `text` without its `[chaos]` table and the comment lines right above it, and with the
/// top-level `seed` set to `seed` (replaced where it is, else added before the first table).
pub fn rewrite(text: &str, seed: u64) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut keep = vec![true; lines.len()];
    let mut depth = 0;
    let mut chaos: Option<usize> = None;
    let mut first_table: Option<usize> = None;
    let mut seed_line: Option<usize> = None;
    for (i, l) in lines.iter().enumerate() {
        if is_header(l, depth) {
            first_table.get_or_insert(i);
            if let Some(start) = chaos.take() {
                // the comments right above the next table belong to it
                let mut end = i;
                while end > start + 1 && lines[end - 1].trim_start().starts_with('#') {
                    end -= 1;
                }
                keep[start..end].iter_mut().for_each(|k| *k = false);
            }
            if is_chaos_header(l) {
                let mut start = i;
                while start > 0 && lines[start - 1].trim_start().starts_with('#') {
                    start -= 1;
                }
                chaos = Some(start);
            }
            continue;
        }
        if first_table.is_none() && depth == 0 {
            let key = l.split('=').next().unwrap_or("").trim();
            if l.contains('=') && key == "seed" {
                seed_line = Some(i);
            }
        }
        depth += depth_change(l);
    }
    if let Some(start) = chaos {
        keep[start..].iter_mut().for_each(|k| *k = false);
    }
    let seed_text = format!("seed = {seed}\n");
    let mut out = String::with_capacity(text.len());
    for (i, l) in lines.iter().enumerate() {
        if Some(i) == first_table && seed_line.is_none() {
            out.push_str(&seed_text);
            out.push('\n');
        }
        if Some(i) == seed_line && !sets(l, seed) {
            out.push_str(&seed_text);
        } else if keep[i] {
            out.push_str(l);
        }
    }
    if first_table.is_none() && seed_line.is_none() {
        out.push_str(&seed_text);
    }
    out
}

/// The whole counterexample file: `header` (comment lines, without `#`), the rewritten
/// scenario text, the faults. `Err`: the result does not read back as the scenario with
/// these faults (a `[chaos]` written in another form, such as dotted keys).
pub fn file(
    header: &[String],
    text: &str,
    s: &Scenario,
    seed: u64,
    faults: &[Fault],
) -> Result<String, String> {
    let mut out = format!("{MARK}\n");
    for h in header {
        out.push_str(&format!("# {h}\n").replace("# \n", "#\n"));
    }
    out.push('\n');
    let body = rewrite(text, seed);
    out.push_str(&body);
    if !body.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(
        "\n# The faults streamlab chaos drew and shrank, as plain [[fault]] tables (its [chaos]\n# table is removed).\n",
    );
    for f in faults {
        out.push('\n');
        out.push_str(&fault_toml(s, f));
    }
    let back = check::parse_str("counterexample.toml", &out, None)
        .map_err(|d| format!("it does not read back: {}", d.render()))?;
    let want: Vec<(FaultTime, FaultKind)> = s
        .fault_tolerance
        .faults
        .iter()
        .chain(faults)
        .map(|f| (f.at, f.kind.clone()))
        .collect();
    let got: Vec<(FaultTime, FaultKind)> = back
        .fault_tolerance
        .faults
        .iter()
        .map(|f| (f.at, f.kind.clone()))
        .collect();
    if back.chaos.is_some() {
        return Err("its [chaos] could not be removed (write it as a [chaos] table)".into());
    }
    if got != want || back.seed != seed {
        return Err("it does not read back with the same faults and seed".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use streamlab_engine::core::time::SimTime;

    const FILE: &str = "# my job\nname = \"c\"\nseed = 3   # mine\n\n[cluster]\ntask_managers = 2\n\n# chaos, as I like it\n[chaos]\nkinds = [\n  \"kill_subtask\",  # [not a header]\n  \"straggler\",\n]\nmin_stable = \"2 s\"\n\n# the source\n[[source]]\nname = \"s\"\nkind = \"generator\"\nrate = 10\nduration = \"20 s\"\nfields.n = { kind = \"sequence\" }\n\n[[sink]]\nname = \"o\"\ninput = \"s\"\n";

    #[test]
    fn the_chaos_table_and_its_comment_go_and_everything_else_stays() {
        let out = rewrite(FILE, 3);
        assert_eq!(
            out,
            FILE.replace(
                "# chaos, as I like it\n[chaos]\nkinds = [\n  \"kill_subtask\",  # [not a header]\n  \"straggler\",\n]\nmin_stable = \"2 s\"\n\n",
                ""
            )
        );
        assert!(out.contains("# the source\n[[source]]"));
        let out = rewrite(FILE, 99);
        assert!(out.contains("\nseed = 99\n") && !out.contains("seed = 3"));
        // no seed: added before the first table
        let out = rewrite("name = \"x\"\n[cluster]\n", 5);
        assert_eq!(out, "name = \"x\"\nseed = 5\n\n[cluster]\n");
    }

    #[test]
    fn durations_keep_their_exact_value() {
        assert_eq!(duration_text(SimDuration::from_secs(12)), "12 s");
        assert_eq!(duration_text(SimDuration::from_millis(1_500)), "1500 ms");
        assert_eq!(
            duration_text(SimDuration::from_nanos(1_234_567)),
            "1234567 ns"
        );
        assert_eq!(duration_text(SimDuration::ZERO), "0 ns");
    }

    #[test]
    fn the_file_reads_back_with_its_faults_and_without_chaos() {
        let s = check::parse_str("c.toml", FILE, None).unwrap();
        assert!(s.chaos.is_some());
        let faults = vec![
            Fault {
                at: FaultTime::At(SimTime::from_nanos(3_000_123_456)),
                kind: FaultKind::Straggler {
                    node: 0,
                    subtask: 0,
                    factor: 7.0,
                    duration: SimDuration::from_millis(2_345),
                },
                span: 0..0,
            },
            Fault {
                at: FaultTime::At(SimTime::from_secs(5)),
                kind: FaultKind::NetworkDelay {
                    between: (0, 1),
                    extra: SimDuration::from_millis(120),
                    duration: SimDuration::from_secs(2),
                },
                span: 0..0,
            },
        ];
        let text = file(
            &["found by a test".into(), String::new()],
            FILE,
            &s,
            42,
            &faults,
        )
        .unwrap();
        assert!(text.starts_with(&format!("{MARK}\n# found by a test\n#\n\n# my job\n")));
        assert!(text.contains("factor = 7.0\n"), "{text}");
        let back = check::parse_str("x.toml", &text, None).unwrap();
        assert_eq!(back.seed, 42);
        assert!(back.chaos.is_none());
        assert_eq!(back.fault_tolerance.faults.len(), 2);
        // a [chaos] written as dotted keys cannot be cut out: refused, not written wrong
        let dotted = FILE
            .replace("[chaos]\n", "")
            .replace("kinds = [", "chaos.kinds = [");
        let dotted = dotted.replace("min_stable = \"2 s\"\n", "");
        // dotted keys of a top-level table must come before any table: move them up
        let (head, rest) = dotted.split_once("[cluster]").unwrap();
        let (chaos_part, tail) = rest.split_once("# the source").unwrap();
        let chaos_lines: String = chaos_part
            .lines()
            .filter(|l| !l.starts_with("task_managers"))
            .map(|l| format!("{l}\n"))
            .collect();
        let moved = format!("{head}{chaos_lines}[cluster]\ntask_managers = 2\n# the source{tail}");
        let s2 = check::parse_str("d.toml", &moved, None).unwrap();
        assert!(s2.chaos.is_some(), "{moved}");
        assert!(file(&[], &moved, &s2, 1, &[]).is_err());
    }
}
