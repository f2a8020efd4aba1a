//! The event trace: one JSON object per line, in simulated-time order.
//!
//! Tracing is off unless a sink is given; when off, nothing is formatted. Every line is also
//! folded into a running FNV-1a hash, so two runs can be compared by [`Trace::hash`] without
//! keeping the trace.

use crate::core::rng::fnv1a64;
use crate::core::time::SimTime;
use serde_json::{Map, Value};
use std::io::Write;

/// Where trace lines go.
pub struct Trace {
    out: Option<Box<dyn Write>>,
    hash: u64,
    lines: u64,
    error: Option<std::io::Error>,
}

impl Trace {
    /// A trace writing to `out`, or only hashing when `out` is `None`.
    pub fn new(out: Option<Box<dyn Write>>) -> Self {
        Trace {
            out,
            hash: fnv1a64(b""),
            lines: 0,
            error: None,
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
        for b in line.as_bytes().iter().chain(b"\n") {
            self.hash ^= u64::from(*b);
            self.hash = self.hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.lines += 1;
        if let Some(out) = &mut self.out
            && self.error.is_none()
            && let Err(e) = writeln!(out, "{line}")
        {
            self.error = Some(e);
        }
    }

    /// Hash of every line so far.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// Lines written.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Flushes the output; reports the first write error.
    pub fn finish(&mut self) -> Result<(), std::io::Error> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if let Some(out) = &mut self.out {
            out.flush()?;
        }
        Ok(())
    }
}
