//! Durations and memory sizes written the way Flink's configuration writes them.
//!
//! Durations follow `TimeUtils.parseDuration`: an integer, optional spaces, then a unit —
//! `ns`, `us`/`µs`, `ms`, `s`, `min`, `h`, `d` or their long forms (`milli`, `seconds`,
//! `minutes`…); a bare number is milliseconds, as in Flink. Sizes follow `MemorySize.parse`:
//! `b`, `kb`/`k`/`kib`, `mb`, `gb`, all binary multiples (Flink's `32kb` is 32768 bytes).

use crate::core::time::SimDuration;

const DURATION_UNITS: &[(&[&str], u64)] = &[
    (&["ns", "nano", "nanos", "nanosecond", "nanoseconds"], 1),
    (
        &["us", "µs", "micro", "micros", "microsecond", "microseconds"],
        1_000,
    ),
    (
        &["ms", "milli", "millis", "millisecond", "milliseconds"],
        1_000_000,
    ),
    (&["s", "sec", "secs", "second", "seconds"], 1_000_000_000),
    (&["min", "m", "minute", "minutes"], 60_000_000_000),
    (&["h", "hour", "hours"], 3_600_000_000_000),
    (&["d", "day", "days"], 86_400_000_000_000),
];

const SIZE_UNITS: &[(&[&str], u64)] = &[
    (&["b", "bytes"], 1),
    (&["k", "kb", "kib", "kibibytes"], 1 << 10),
    (&["m", "mb", "mib", "mebibytes"], 1 << 20),
    (&["g", "gb", "gib", "gibibytes"], 1 << 30),
];

/// Parses "200 ms", "10 s", "1 min", "5" (= 5 ms). The error says what was expected.
pub fn parse_duration(text: &str) -> Result<SimDuration, String> {
    let (n, scale) = parse_number_and_unit(
        text,
        DURATION_UNITS,
        1_000_000,
        "duration",
        "ns, us, ms, s, min, h, d",
    )?;
    n.checked_mul(scale)
        .map(SimDuration::from_nanos)
        .ok_or_else(|| format!("duration `{text}` is too large (at most about 213 days)"))
}

/// Parses "32 kb", "32768", "1 mb" into bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let (n, scale) = parse_number_and_unit(text, SIZE_UNITS, 1, "memory size", "b, kb, mb, gb")?;
    n.checked_mul(scale)
        .ok_or_else(|| format!("size `{text}` is too large"))
}

/// Parses a bandwidth such as "10 gbit/s", "1 gb/s" or "100 mb/s" into bytes per second.
pub fn parse_bandwidth(text: &str) -> Result<u64, String> {
    let t = text.trim().to_ascii_lowercase();
    let malformed = || {
        format!(
            "malformed bandwidth `{text}`: expected an amount per second like \"10 gbit/s\" or \"500 mb/s\""
        )
    };
    let body = t.strip_suffix("/s").ok_or_else(malformed)?.trim_end();
    if let Some(bits) = body.strip_suffix("bit") {
        let bits = bits.trim_end();
        let (num, mult) = match bits.chars().last() {
            Some('k') => (&bits[..bits.len() - 1], 1_000),
            Some('m') => (&bits[..bits.len() - 1], 1_000_000),
            Some('g') => (&bits[..bits.len() - 1], 1_000_000_000),
            _ => (bits, 1),
        };
        let n: u64 = num.trim().parse().map_err(|_| malformed())?;
        return n.checked_mul(mult).map(|b| b / 8).ok_or_else(malformed);
    }
    parse_size(body).map_err(|e| format!("malformed bandwidth `{text}`: {e}"))
}

fn parse_number_and_unit(
    text: &str,
    units: &[(&[&str], u64)],
    default_scale: u64,
    what: &str,
    unit_list: &str,
) -> Result<(u64, u64), String> {
    let t = text.trim();
    let digits_end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '_'))
        .unwrap_or(t.len());
    let (num, rest) = t.split_at(digits_end);
    let num: String = num.chars().filter(|c| *c != '_').collect();
    if num.is_empty() {
        if t.starts_with('-') {
            return Err(format!("malformed {what} `{text}`: it cannot be negative"));
        }
        if t.contains('.') || t.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(format!(
                "malformed {what} `{text}`: write a whole number with a unit, like \"1500 ms\""
            ));
        }
        return Err(format!(
            "malformed {what} `{text}`: expected a number followed by a unit ({unit_list})"
        ));
    }
    let n: u64 = num
        .parse()
        .map_err(|_| format!("malformed {what} `{text}`: the number is too large"))?;
    let unit = rest.trim();
    if unit.starts_with('.') {
        return Err(format!(
            "malformed {what} `{text}`: Flink takes whole numbers only; use a smaller unit (\"1500 ms\", not \"1.5 s\")"
        ));
    }
    if unit.is_empty() {
        return Ok((n, default_scale));
    }
    let lower = unit.to_lowercase();
    for (names, scale) in units {
        if names.contains(&lower.as_str()) {
            return Ok((n, *scale));
        }
    }
    Err(format!(
        "malformed {what} `{text}`: unknown unit `{unit}`; expected one of {unit_list}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_flink_writes_them() {
        assert_eq!(parse_duration("200 ms"), Ok(SimDuration::from_millis(200)));
        assert_eq!(parse_duration("10s"), Ok(SimDuration::from_secs(10)));
        assert_eq!(parse_duration("1 min"), Ok(SimDuration::from_secs(60)));
        assert_eq!(parse_duration("2 hours"), Ok(SimDuration::from_secs(7200)));
        assert_eq!(parse_duration("750 us"), Ok(SimDuration::from_micros(750)));
        assert_eq!(parse_duration("5"), Ok(SimDuration::from_millis(5)));
        assert_eq!(parse_duration("0 ms"), Ok(SimDuration::ZERO));
    }

    #[test]
    fn malformed_durations_say_what_is_expected() {
        let e = parse_duration("10 sex").unwrap_err();
        assert!(
            e.contains("unknown unit `sex`") && e.contains("ns, us, ms, s, min, h, d"),
            "{e}"
        );
        assert!(
            parse_duration("1.5 s")
                .unwrap_err()
                .contains("whole numbers")
        );
        assert!(
            parse_duration("fast")
                .unwrap_err()
                .contains("expected a number")
        );
        assert!(parse_duration("-3 s").unwrap_err().contains("negative"));
    }

    #[test]
    fn sizes_are_binary_like_flinks_memory_size() {
        assert_eq!(parse_size("32 kb"), Ok(32_768));
        assert_eq!(parse_size("32kib"), Ok(32_768));
        assert_eq!(parse_size("1 mb"), Ok(1 << 20));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("3 parsecs").is_err());
    }

    #[test]
    fn bandwidths() {
        assert_eq!(parse_bandwidth("10 gbit/s"), Ok(1_250_000_000));
        assert_eq!(parse_bandwidth("1 mb/s"), Ok(1 << 20));
        assert!(parse_bandwidth("10 gbit").is_err());
    }
}
