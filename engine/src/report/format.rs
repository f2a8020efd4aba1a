//! How the summary writes numbers, durations and names.

use crate::core::time::human_nanos;

/// `1 event`, `2 events`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `name` in at most `max` characters, cut in the middle (`Source: a -> … -> Sink: b #1`) so
/// that its end — the subtask index — stays.
pub fn cut_middle(name: &str, max: usize) -> String {
    let n = name.chars().count();
    if n <= max || max < 3 {
        return name.to_string();
    }
    let tail = (max - 1) / 2;
    let head = max - 1 - tail;
    let start: String = name.chars().take(head).collect();
    let end: String = name.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

/// "12.345 ms" or "1.200 s".
pub fn fmt_ms(ms: f64) -> String {
    human_nanos(ms * 1e6)
}

/// "1.23 M" style rate.
pub fn fmt_rate(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.2} M", r / 1e6)
    } else if r >= 1e3 {
        format!("{:.1} k", r / 1e3)
    } else {
        format!("{r:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_task_names_are_cut_in_the_middle_and_keep_their_subtask() {
        let a = cut_middle("clicks_per_user -> Sink: at_once -> Sink: committed #0", 40);
        let b = cut_middle("clicks_per_user -> Sink: at_once -> Sink: committed #1", 40);
        assert_eq!(a.chars().count(), 40);
        assert!(
            a.ends_with("committed #0") && b.ends_with("committed #1"),
            "{a} / {b}"
        );
        assert!(a.starts_with("clicks_per_user") && a.contains('…'), "{a}");
        assert_eq!(cut_middle("short #3", 40), "short #3");
        assert_eq!(plural(1, "chain", "chains"), "1 chain");
        assert_eq!(plural(0, "event", "events"), "0 events");
    }
}
