//! `[cost]`: the figures of the cost model (DESIGN §5) a scenario overrides.

use super::checker::Checker;
use crate::core::cost::CostModel;
use crate::core::time::SimDuration;
use crate::scenario::raw::RawCost;
use crate::scenario::units::{parse_bandwidth, parse_size};
use toml::Spanned as TSpanned;

/// `[cost]`: overrides of the cost model's defaults ([`CostModel::default`], each naming the
/// Flink default it mirrors).
pub fn cost(ck: &mut Checker, raw: Option<&TSpanned<RawCost>>) -> CostModel {
    let mut c = CostModel::default();
    let Some(raw) = raw else { return c };
    let raw = raw.get_ref();
    let durations: [(&Option<TSpanned<String>>, &mut SimDuration, &str); 10] = [
        (
            &raw.source_record,
            &mut c.source_record,
            "cost.source_record",
        ),
        (
            &raw.operator_record,
            &mut c.operator_record,
            "cost.operator_record",
        ),
        (&raw.keyed_record, &mut c.keyed_record, "cost.keyed_record"),
        (&raw.sink_record, &mut c.sink_record, "cost.sink_record"),
        (
            &raw.serialize_record,
            &mut c.serialize_record,
            "cost.serialize_record",
        ),
        (
            &raw.deserialize_record,
            &mut c.deserialize_record,
            "cost.deserialize_record",
        ),
        (
            &raw.local_channel_latency,
            &mut c.local_channel_latency,
            "cost.local_channel_latency",
        ),
        (
            &raw.remote_channel_latency,
            &mut c.remote_channel_latency,
            "cost.remote_channel_latency",
        ),
        (
            &raw.heartbeat_interval,
            &mut c.heartbeat_interval,
            "cost.heartbeat_interval",
        ),
        (
            &raw.heartbeat_timeout,
            &mut c.heartbeat_timeout,
            "cost.heartbeat_timeout",
        ),
    ];
    let mut parsed = Vec::new();
    for (src, _, what) in &durations {
        if let Some(v) = src {
            parsed.push(ck.duration(v, what));
        } else {
            parsed.push(None);
        }
    }
    for ((_, dst, _), p) in durations.into_iter().zip(parsed) {
        if let Some(d) = p {
            *dst = d;
        }
    }
    network(ck, raw, &mut c);
    c
}

/// The network's figures: bandwidth, buffer size, buffers per channel and gate.
fn network(ck: &mut Checker, raw: &RawCost, c: &mut CostModel) {
    if let Some(v) = &raw.network_bandwidth {
        match parse_bandwidth(v.get_ref()) {
            Ok(0) => ck.error(
                Some(v.span()),
                "network_bandwidth must be more than zero",
                "",
            ),
            Ok(b) => c.network_bandwidth_bytes_per_s = b,
            Err(e) => ck.error(Some(v.span()), e, ""),
        }
    }
    if let Some(v) = &raw.buffer_size {
        match parse_size(v.get_ref()) {
            Ok(b) if (256..=16 << 20).contains(&b) => c.buffer_size_bytes = b as u32,
            Ok(b) => ck.error(
                Some(v.span()),
                format!("buffer_size must be between 256 bytes and 16 mb, found {b} bytes"),
                "",
            ),
            Err(e) => ck.error(Some(v.span()), e, "sizes look like \"32 kb\""),
        }
    }
    if let Some(v) = &raw.exclusive_buffers_per_channel {
        c.exclusive_buffers_per_channel = ck
            .count(v, "exclusive_buffers_per_channel", 1024)
            .unwrap_or(2);
    }
    if let Some(v) = &raw.floating_buffers_per_gate {
        match *v.get_ref() {
            n @ 0..=1024 => c.floating_buffers_per_gate = n as u32,
            n => ck.error(
                Some(v.span()),
                format!("floating_buffers_per_gate must be 0 to 1024, found {n}"),
                "",
            ),
        }
    }
    if let Some(v) = &raw.max_overdraft_buffers {
        match *v.get_ref() {
            n @ 0..=1024 => c.max_overdraft_buffers = n as u32,
            n => ck.error(
                Some(v.span()),
                format!("max_overdraft_buffers must be 0 to 1024, found {n}"),
                "",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check::parse_str;

    const JOB: &str = "[[source]]\nname = \"a\"\nkind = \"generator\"\ncount = 10\nfields.k = { kind = \"sequence\" }\n[[sink]]\nname = \"out\"\ninput = \"a\"\n";

    #[test]
    fn overrides_are_read_and_bounds_checked() {
        let s = parse_str(
            "t.toml",
            &format!("[cost]\noperator_record = \"2 us\"\nbuffer_size = \"64 kb\"\n{JOB}"),
            None,
        )
        .unwrap();
        assert_eq!(s.cost.operator_record.as_nanos(), 2_000);
        assert_eq!(s.cost.buffer_size_bytes, 64 << 10);
        let e = parse_str(
            "t.toml",
            &format!("[cost]\nbuffer_size = \"1 b\"\nfloating_buffers_per_gate = 2000\n{JOB}"),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("buffer_size must be between 256 bytes and 16 mb"),
            "{e}"
        );
        assert!(
            e.contains("floating_buffers_per_gate must be 0 to 1024, found 2000"),
            "{e}"
        );
    }
}
