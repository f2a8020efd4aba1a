//! The event trace: one JSON object per line, in simulated-time order (`docs/trace-format.md`).
//!
//! Tracing is off unless a sink is given; when off, nothing is formatted. Every line is also
//! folded into a running FNV-1a hash, so two runs can be compared by [`Trace::hash`] without
//! keeping the trace.
//!
//! A work item runs ahead of the clock: what it does is stamped with the task's local time,
//! later than the event that started it. Such lines wait in [`Trace`] until the clock has
//! reached their time ([`Trace::advance`]); nothing written later can be earlier, because the
//! clock never goes back and nothing is stamped before it. Lines of the same time keep the
//! order they were written in.

use crate::core::rng::fnv1a64;
use crate::core::time::SimTime;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::Write;

/// Where trace lines go.
pub struct Trace {
    out: Option<Box<dyn Write>>,
    hash: u64,
    lines: u64,
    error: Option<std::io::Error>,
    /// Lines stamped later than the clock, by (time, order written).
    ahead: BTreeMap<(SimTime, u64), String>,
}

impl Trace {
    /// A trace writing to `out`, or only hashing when `out` is `None`.
    pub fn new(out: Option<Box<dyn Write>>) -> Self {
        Trace {
            out,
            hash: fnv1a64(b""),
            lines: 0,
            error: None,
            ahead: BTreeMap::new(),
        }
    }

    /// Records one event. `fields` are appended after `t_ns` and `event`.
    pub fn event(&mut self, t: SimTime, event: &str, fields: Vec<(&str, Value)>) {
        let mut m = Map::new();
        m.insert("t_ns".into(), Value::from(t.as_nanos()));
        m.insert("event".into(), Value::from(event));
        for (k, v) in fields {
            m.insert(k.into(), v);
        }
        let line = Value::Object(m).to_string();
        self.ahead.insert((t, self.lines), line);
        self.lines += 1;
    }

    /// The clock reached `now`: every line stamped at or before it goes out.
    pub fn advance(&mut self, now: SimTime) {
        while let Some(e) = self.ahead.first_entry() {
            if e.key().0 > now {
                break;
            }
            let line = e.remove();
            self.put(&line);
        }
    }

    fn put(&mut self, line: &str) {
        for b in line.as_bytes().iter().chain(b"\n") {
            self.hash ^= u64::from(*b);
            self.hash = self.hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        if let Some(out) = &mut self.out
            && self.error.is_none()
            && let Err(e) = writeln!(out, "{line}")
        {
            self.error = Some(e);
        }
    }

    /// Hash of every line written out so far.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// Lines written.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Writes the lines still waiting, flushes the output; reports the first write error.
    pub fn finish(&mut self) -> Result<(), std::io::Error> {
        self.advance(SimTime::MAX);
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if let Some(out) = &mut self.out {
            out.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    /// A trace into a fresh file (unbuffered: each line is there once written out).
    fn traced(name: &str) -> (Trace, PathBuf) {
        let path = std::env::temp_dir().join(format!("trace-{}-{name}", std::process::id()));
        let file = std::fs::File::create(&path).unwrap();
        (Trace::new(Some(Box::new(file))), path)
    }

    fn times(out: &Path) -> Vec<u64> {
        std::fs::read_to_string(out)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["t_ns"]
                    .as_u64()
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn lines_stamped_ahead_of_the_clock_wait_for_it_and_come_out_in_time_order() {
        let (mut tr, out) = traced("order");
        let at = SimTime::from_nanos;
        tr.advance(at(10));
        tr.event(at(50), "work_item_end", vec![]); // a work item running ahead
        tr.event(at(10), "arrival", vec![]);
        tr.advance(at(20));
        assert_eq!(times(&out), [10], "the line at 50 waits for the clock");
        tr.event(at(30), "later_arrival", vec![("n", 1.into())]);
        tr.event(at(30), "same_time", vec![]);
        tr.advance(at(40));
        assert_eq!(times(&out), [10, 30, 30]);
        tr.finish().unwrap();
        assert_eq!(times(&out), [10, 30, 30, 50]);
        assert_eq!(tr.lines(), 4);
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(
            text.find("later_arrival").unwrap() < text.find("same_time").unwrap(),
            "lines of one time keep their order"
        );
    }

    #[test]
    fn the_hash_covers_the_lines_in_the_order_written_out() {
        let at = SimTime::from_nanos;
        let mut a = Trace::new(None);
        a.event(at(2), "x", vec![]);
        a.event(at(1), "y", vec![]);
        a.finish().unwrap();
        let mut b = Trace::new(None);
        b.event(at(1), "y", vec![]);
        b.event(at(2), "x", vec![]);
        b.finish().unwrap();
        assert_eq!(a.hash(), b.hash());
        let mut c = Trace::new(None);
        c.event(at(1), "x", vec![]);
        c.finish().unwrap();
        assert_ne!(a.hash(), c.hash());
    }
}
