//! A `window = { type = … }` table: Flink's window assigners — tumbling, sliding, session
//! (fixed or dynamic gap), global — and count windows (global windows with a count trigger).
//! A window operator and a window join share it.

use super::checker::Checker;
use crate::core::value::Interner;
use crate::expr::{Compiled, ExprError, Relink};
use crate::flink::window::Assigner;
use crate::scenario::ExprSrc;
use crate::scenario::raw::RawWindow;
use crate::scenario::units::parse_duration;
use toml::Spanned as TSpanned;

/// A positive duration in ms written as a string.
fn positive_ms(ck: &mut Checker, v: &TSpanned<toml::Value>, what: &str) -> Option<i64> {
    let Some(text) = v.get_ref().as_str() else {
        ck.error(
            Some(v.span()),
            format!("{what} must be a duration like \"5 s\""),
            "",
        );
        return None;
    };
    match parse_duration(text) {
        Ok(d) if d.as_millis() > 0 => Some(d.as_millis() as i64),
        Ok(_) => {
            ck.error(
                Some(v.span()),
                format!("{what} must be more than zero"),
                "e.g. \"5 s\"",
            );
            None
        }
        Err(e) => {
            ck.error(
                Some(v.span()),
                format!("{what}: {e}"),
                "durations look like \"200 ms\", \"10 s\", \"1 min\"",
            );
            None
        }
    }
}

/// A positive number of elements (count windows).
fn positive_count(ck: &mut Checker, v: &TSpanned<toml::Value>, what: &str) -> Option<u64> {
    match v.get_ref().as_integer() {
        Some(n) if n >= 1 => Some(n as u64),
        Some(n) => {
            ck.error(
                Some(v.span()),
                format!("{what} must be at least 1, found {n}"),
                "",
            );
            None
        }
        None => {
            ck.error(
                Some(v.span()),
                format!("{what} of a count window is a number of elements"),
                "e.g. size = 100",
            );
            None
        }
    }
}

/// What the window's assigner section says.
pub struct Shape<T> {
    /// How elements are assigned to windows.
    pub assigner: Assigner,
    /// A dynamic session gap, as compiled by the caller.
    pub gap: Option<ExprSrc<T>>,
    /// A count window: size and slide.
    pub count: Option<(u64, Option<u64>)>,
}

/// Checks a `window = { type = …, … }` table. A dynamic session gap (`gap_expr`) is compiled
/// by `gap` (a window operator compiles it over its input, a window join over the records of
/// both its inputs).
pub fn shape<T: Relink>(
    ck: &mut Checker,
    w: &TSpanned<RawWindow>,
    gap: impl FnOnce(&str, &mut Interner) -> Result<T, ExprError>,
) -> Option<Shape<T>> {
    let r = w.get_ref();
    let kind = r.kind.get_ref().as_str();
    let allowed: &[&str] = match kind {
        "tumbling" => &["size", "offset"],
        "sliding" => &["size", "slide", "offset"],
        "cumulate" => &["size", "slide", "offset"],
        "session" => &["gap", "gap_expr"],
        "global" => &[],
        "count" => &["size", "slide"],
        other => {
            ck.error(
                Some(r.kind.span()),
                format!("unknown window type `{other}`"),
                "expected tumbling, sliding, cumulate, session, global or count",
            );
            return None;
        }
    };
    for (k, s) in [
        ("size", r.size.as_ref().map(|v| v.span())),
        ("slide", r.slide.as_ref().map(|v| v.span())),
        ("offset", r.offset.as_ref().map(|v| v.span())),
        ("gap", r.gap.as_ref().map(|v| v.span())),
        ("gap_expr", r.gap_expr.as_ref().map(|v| v.span())),
    ] {
        if let Some(s) = s
            && !allowed.contains(&k)
        {
            ck.error(
                Some(s),
                format!("`{k}` is not an option of a {kind} window"),
                format!(
                    "a {kind} window takes {}",
                    if allowed.is_empty() {
                        "no options".into()
                    } else {
                        allowed.join(", ")
                    }
                ),
            );
            return None;
        }
    }
    let offset = match &r.offset {
        Some(o) => ck.signed_ms(
            o,
            "offset",
            "durations look like \"200 ms\", \"10 s\", \"1 min\"",
        )?,
        None => 0,
    };
    let plain = |assigner| Shape {
        assigner,
        gap: None,
        count: None,
    };
    match kind {
        "tumbling" => Some(plain(tumbling(ck, r, offset)?)),
        "sliding" => Some(plain(sliding(ck, r, offset)?)),
        "cumulate" => Some(plain(cumulate(ck, r, offset)?)),
        "session" => session(ck, r, gap),
        "global" => Some(plain(Assigner::Global)),
        // count, the kind left
        _ => {
            let size_v = need(ck, r, &r.size, "size")?;
            let size = positive_count(ck, size_v, "the count window size")?;
            let slide = match &r.slide {
                Some(s) => Some(positive_count(ck, s, "the count window slide")?),
                None => None,
            };
            Some(Shape {
                assigner: Assigner::Global,
                gap: None,
                count: Some((size, slide)),
            })
        }
    }
}

/// An option the window type needs.
fn need<'v>(
    ck: &mut Checker,
    r: &RawWindow,
    v: &'v Option<TSpanned<toml::Value>>,
    k: &str,
) -> Option<&'v TSpanned<toml::Value>> {
    if v.is_none() {
        ck.error(
            Some(r.kind.span()),
            format!("a {} window needs `{k}`", r.kind.get_ref()),
            "",
        );
    }
    v.as_ref()
}

/// A tumbling window: a size, and an offset smaller than it (Flink: abs(offset) < size).
fn tumbling(ck: &mut Checker, r: &RawWindow, offset: i64) -> Option<Assigner> {
    let size_v = need(ck, r, &r.size, "size")?;
    let size = positive_ms(ck, size_v, "the window size")?;
    if offset.abs() >= size {
        ck.error(
            r.offset.as_ref().map(|o| o.span()),
            "a tumbling window's offset must be smaller than its size",
            "Flink: abs(offset) < size",
        );
        return None;
    }
    Some(Assigner::Tumbling { size, offset })
}

/// A sliding window: a size, a slide (larger than the size is allowed, and announced), an
/// offset smaller than the slide.
fn sliding(ck: &mut Checker, r: &RawWindow, offset: i64) -> Option<Assigner> {
    let size_v = need(ck, r, &r.size, "size")?;
    let size = positive_ms(ck, size_v, "the window size")?;
    let slide_v = need(ck, r, &r.slide, "slide")?;
    let slide = positive_ms(ck, slide_v, "the slide")?;
    if slide > size {
        // Flink accepts it (a sampling window); say what it means.
        ck.warn(
            Some(slide_v.span()),
            format!("the slide ({slide} ms) is larger than the window size ({size} ms)"),
            "records that fall between two windows belong to none and are silently left out; is that what you want?",
        );
    }
    if offset.abs() >= slide {
        ck.error(
            r.offset.as_ref().map(|o| o.span()),
            "a sliding window's offset must be smaller than its slide",
            "Flink: abs(offset) < slide",
        );
        return None;
    }
    Some(Assigner::Sliding {
        size,
        slide,
        offset,
    })
}

/// A cumulating window (Flink SQL's `CUMULATE`): a `size`, a step (`slide`) dividing it, an
/// offset smaller than the size.
fn cumulate(ck: &mut Checker, r: &RawWindow, offset: i64) -> Option<Assigner> {
    let size_v = need(ck, r, &r.size, "size")?;
    let size = positive_ms(ck, size_v, "the window size")?;
    let step_v = need(ck, r, &r.slide, "slide")?;
    let step = positive_ms(ck, step_v, "the step")?;
    if size % step != 0 {
        ck.error(
            Some(step_v.span()),
            format!("the step ({step} ms) does not divide the size ({size} ms)"),
            "Flink: a CUMULATE window's max size must be an integral multiple of its step",
        );
        return None;
    }
    if offset.abs() >= size {
        ck.error(
            r.offset.as_ref().map(|o| o.span()),
            "a cumulating window's offset must be smaller than its size",
            "",
        );
        return None;
    }
    Some(Assigner::Cumulative { size, step, offset })
}

/// A session window: a fixed `gap`, or a `gap_expr` computed per record (compiled by `gap`).
fn session<T: Relink>(
    ck: &mut Checker,
    r: &RawWindow,
    gap: impl FnOnce(&str, &mut Interner) -> Result<T, ExprError>,
) -> Option<Shape<T>> {
    match (&r.gap, &r.gap_expr) {
        (Some(g), None) => {
            let gap = positive_ms(
                ck,
                &TSpanned::new(g.span(), toml::Value::String(g.get_ref().clone())),
                "the session gap",
            )?;
            Some(Shape {
                assigner: Assigner::Session {
                    gap,
                    dynamic: false,
                },
                gap: None,
                count: None,
            })
        }
        (None, Some(e)) => {
            let src = ck.compile(e, |t| Compiled::with(|i| gap(t, i)))?;
            Some(Shape {
                assigner: Assigner::Session {
                    gap: 0,
                    dynamic: true,
                },
                gap: Some(src),
                count: None,
            })
        }
        (Some(g), Some(_)) => {
            ck.error(
                Some(g.span()),
                "a session window has either a fixed `gap` or a `gap_expr`, not both",
                "",
            );
            None
        }
        (None, None) => {
            ck.error(
                Some(r.kind.span()),
                "a session window needs `gap` (or `gap_expr` for a dynamic gap)",
                "gap = \"30 s\"",
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check::testing;
    use crate::flink::window::Assigner;
    use crate::scenario::NodeKind;

    fn window(w: &str) -> Result<Assigner, String> {
        let text = format!(
            "[[source]]\nname = \"a\"\nkind = \"inline\"\nevents = [{{ k = 1, t = 5 }}]\ntimestamp = \"t\"\nwatermarks = {{ strategy = \"monotonous\" }}\n[[operator]]\nname = \"by\"\nkind = \"key_by\"\ninput = \"a\"\nkey = \"k\"\n[[operator]]\nname = \"w\"\nkind = \"window\"\ninput = \"by\"\nwindow = {{ {w} }}\nfunction = \"count\"\n[[sink]]\nname = \"out\"\ninput = \"w\"\n"
        );
        let s = testing::parsed(&text)?;
        match &s.nodes[2].kind {
            NodeKind::Window(w) => Ok(w.assigner.clone()),
            _ => panic!("a window"),
        }
    }

    #[test]
    fn assigners_and_their_options() {
        assert_eq!(
            window("type = \"tumbling\", size = \"1 min\", offset = \"-10 s\"").unwrap(),
            Assigner::Tumbling {
                size: 60_000,
                offset: -10_000
            }
        );
        assert_eq!(
            window("type = \"session\", gap = \"30 s\"").unwrap(),
            Assigner::Session {
                gap: 30_000,
                dynamic: false
            }
        );
        let e = window("type = \"tumbling\", size = \"1 s\", offset = \"1 s\"").unwrap_err();
        assert!(
            e.contains("a tumbling window's offset must be smaller than its size"),
            "{e}"
        );
        let e = window("type = \"sliding\", size = \"1 s\"").unwrap_err();
        assert!(e.contains("a sliding window needs `slide`"), "{e}");
        let e = window("type = \"global\", size = \"1 s\"").unwrap_err();
        assert!(
            e.contains("`size` is not an option of a global window"),
            "{e}"
        );
        let e = window("type = \"session\", gap_expr = \"'x'\"").unwrap_err();
        assert!(
            e.contains("a session gap (milliseconds) must be int"),
            "{e}"
        );
        let e = window("type = \"count\", size = 0").unwrap_err();
        assert!(
            e.contains("the count window size must be at least 1, found 0"),
            "{e}"
        );
        let e = window("type = \"hopping\"").unwrap_err();
        assert!(e.contains("unknown window type `hopping`"), "{e}");
    }
}
