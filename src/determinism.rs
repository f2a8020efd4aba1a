//! `streamlab run FILE --check-determinism`: the run twice with the same seed — reports and
//! traces must be byte-identical, else the first trace line where they part is named — and
//! once more with simultaneous events processed in reverse order, to say in words which
//! sinks' results depend on how simultaneous events interleave (a property of the job, as in
//! Flink, not a fault of the simulator: a rolling reduce fed by several channels, for one).

use crate::commands::{EXIT_JOB_FAILED, Submit, apply_chaos, load_and_plan};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use streamlab_engine::oracle;
use streamlab_engine::report::RunReport;
use streamlab_engine::sim::RunOptions;

/// A trace kept in memory.
#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs the determinism check; exit 0 when the two runs are identical, 1 when not.
pub fn check(file: &Path, submit: &Submit, seed: Option<u64>, chaos: bool) -> u8 {
    let (mut s, p) = match load_and_plan(file, submit) {
        Ok(x) => x,
        Err(c) => return c,
    };
    let seed = seed.unwrap_or(s.seed);
    if let Err(c) = apply_chaos(&mut s, seed, chaos) {
        return c;
    }
    let run = |reverse_ties: bool| -> Result<(RunReport, Vec<u8>), String> {
        let buf = Buf::default();
        let out = oracle::run(
            &s,
            &p,
            RunOptions {
                seed: Some(seed),
                trace: Some(Box::new(buf.clone())),
                reverse_ties,
                ..Default::default()
            },
        )
        .map_err(|e| e.to_string())?;
        let trace = std::mem::take(&mut *buf.0.lock().unwrap_or_else(|e| e.into_inner()));
        Ok((out.report, trace))
    };
    let (a, b, c) = match (run(false), run(false), run(true)) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => {
            eprintln!("error: the run could not be completed: {e}");
            return EXIT_JOB_FAILED;
        }
    };
    let mut out = format!(
        "streamlab run --check-determinism · {} · seed {seed}\n",
        file.display()
    );
    let json = |r: &RunReport| serde_json::to_string(r).unwrap_or_default();
    let same = a.1 == b.1 && json(&a.0) == json(&b.0);
    if same {
        out.push_str(&format!(
            "deterministic: two runs gave byte-identical reports and traces ({} trace lines)\n",
            a.1.iter().filter(|&&x| x == b'\n').count()
        ));
    } else {
        out.push_str(&divergence(&a.1, &b.1));
    }
    out.push_str(&interleaving(&a.0, &c.0));
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    if same { 0 } else { EXIT_JOB_FAILED }
}

/// Where two traces part: the first differing line of each.
fn divergence(a: &[u8], b: &[u8]) -> String {
    let (la, lb) = (
        String::from_utf8_lossy(a).into_owned(),
        String::from_utf8_lossy(b).into_owned(),
    );
    let (mut ia, mut ib) = (la.lines(), lb.lines());
    let mut n = 1;
    loop {
        match (ia.next(), ib.next()) {
            (Some(x), Some(y)) if x == y => n += 1,
            (None, None) => {
                return "NOT deterministic: the traces are the same, the reports differ\n".into();
            }
            (x, y) => {
                return format!(
                    "NOT deterministic: the two runs part at trace line {n}\n  first:  {}\n  second: {}\n",
                    x.unwrap_or("(the trace ended)"),
                    y.unwrap_or("(the trace ended)")
                );
            }
        }
    }
}

/// Which sinks' results change when simultaneous events are processed in reverse order.
fn interleaving(a: &RunReport, c: &RunReport) -> String {
    let mut out = String::new();
    let mut changed = 0;
    for (x, y) in a.sinks.iter().zip(&c.sinks) {
        if x.checksum != y.checksum || x.records != y.records {
            changed += 1;
            out.push_str(&format!(
                "  sink `{}`: its rows depend on how simultaneous events interleave ({} records, checksum {} → {} records, checksum {} with the order reversed) — a result such as a rolling reduce fed by several channels, whose intermediate values follow the arrival order; Flink gives no order between channels either\n",
                x.name, x.records, x.checksum, y.records, y.checksum
            ));
        }
    }
    if changed == 0 {
        format!(
            "order-independent: with simultaneous events processed in reverse order every sink received the same rows ({} sinks)\n",
            a.sinks.len()
        )
    } else {
        format!(
            "interleaving: {changed} of {} sinks change with the order of simultaneous events\n{out}",
            a.sinks.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::divergence;

    #[test]
    fn divergence_names_the_first_line_where_two_traces_part() {
        let a = b"{\"t\":1}\n{\"t\":2}\n{\"t\":3}\n";
        let b = b"{\"t\":1}\n{\"t\":2}\n{\"t\":4}\n";
        let d = divergence(a, b);
        assert!(d.contains("part at trace line 3"), "{d}");
        assert!(
            d.contains("first:  {\"t\":3}") && d.contains("second: {\"t\":4}"),
            "{d}"
        );
        let d = divergence(b"x\n", b"x\ny\n");
        assert!(
            d.contains("line 2") && d.contains("(the trace ended)"),
            "{d}"
        );
        assert!(divergence(a, a).contains("the reports differ"));
    }
}
