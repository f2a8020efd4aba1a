use super::*;
use streamlab_engine::report::event_time::{
    Dot, DotKind, Firing, PerKind, WatermarkStep, WindowBand,
};

const S: u64 = 1_000_000_000;

fn dot(subtask: u32, at_s: f64, ts_ms: i64, wm: i64, kind: DotKind) -> Dot {
    Dot {
        subtask,
        at_ns: (at_s * S as f64) as u64,
        ts_ms,
        watermark_ms: wm,
        kind,
        key: None,
    }
}

/// A view like late_data's: two subtasks, 5 s tumbling windows, three records to the side
/// output.
fn late_data() -> EventTimeView {
    let mut dots = Vec::new();
    let on_time = [
        400, 1_300, 2_100, 1_600, 3_900, 4_700, 3_100, 6_200, 8_300, 7_600, 5_800, 10_400, 11_900,
        13_500, 14_800, 12_700, 16_900, 19_200,
    ];
    for (i, ts) in on_time.iter().enumerate() {
        dots.push(dot(
            (i % 2) as u32,
            i as f64 + 0.001,
            *ts,
            *ts - 1_100,
            DotKind::OnTime,
        ));
    }
    dots.push(Dot {
        key: Some("\"south\"".into()),
        ..dot(1, 8.001, 4_400, 5_199, DotKind::LateSide)
    });
    dots.push(dot(0, 13.001, 3_300, 9_399, DotKind::LateSide));
    dots.push(dot(1, 15.001, 9_600, 10_899, DotKind::LateSide));
    let mut watermarks = Vec::new();
    for s in 0..2 {
        for (at, wm) in [
            (0.1, -601),
            (7.1, 5_199),
            (12.1, 9_399),
            (14.1, 10_899),
            (20.1, i64::MAX),
        ] {
            watermarks.push(WatermarkStep {
                subtask: s,
                at_ns: (at * S as f64) as u64,
                watermark_ms: wm,
            });
        }
    }
    let band = |start: i64, closed: Option<f64>| WindowBand {
        start_ms: start,
        end_ms: start + 5_000,
        opened_ns: start as u64 * 1_000_000,
        closed_ns: closed.map(|c| (c * S as f64) as u64),
        cleanup_ns: closed.map(|c| (c * S as f64) as u64),
        subtasks: vec![0, 1],
        fires: 2,
        late_fires: 0,
    };
    let bands = vec![
        band(0, Some(7.1)),
        band(5_000, Some(14.1)),
        band(10_000, Some(20.1)),
        band(15_000, Some(20.1)),
    ];
    let firings = bands
        .iter()
        .flat_map(|b| {
            (0..2).map(|s| Firing {
                subtask: s,
                at_ns: b.closed_ns.unwrap(),
                start_ms: b.start_ms,
                end_ms: b.end_ms,
                count: 1,
                late: false,
            })
        })
        .collect();
    EventTimeView {
        operator: "sales_5s".into(),
        subtasks: 2,
        window: "tumbling windows of 5 s".into(),
        allowed_lateness_ms: 0,
        side_output: true,
        end_ns: 21 * S,
        records: PerKind {
            on_time: 18,
            late_side: 3,
            ..PerKind::default()
        },
        sample_every: PerKind {
            on_time: 1,
            late_allowed: 1,
            late_side: 1,
            dropped: 1,
        },
        dots,
        watermarks,
        watermark_steps_thinned: 0,
        bands,
        bands_untracked: 0,
        firings,
        firings_untracked: 0,
    }
}

fn count(svg: &str, needle: &str) -> usize {
    svg.matches(needle).count()
}

/// The values of attribute `attr` on the groups of class `class`.
fn attr_values(svg: &str, class: &str, attr: &str) -> Vec<u64> {
    svg.split(&format!("<g class=\"{class}\""))
        .skip(1)
        .map(|rest| {
            let head = &rest[..rest.find('>').unwrap()];
            head.split(&format!("{attr}=\""))
                .nth(1)
                .map_or(1, |v| v[..v.find('"').unwrap()].parse().unwrap())
        })
        .collect()
}

#[test]
fn the_svg_follows_the_dom_contract() {
    let v = late_data();
    let svg = svg(&v);
    assert!(svg.starts_with("<svg "), "{}", &svg[..80]);
    assert!(svg.contains("class=\"event-time\" data-operator=\"sales_5s\""));
    assert_eq!(count(&svg, "<g class=\"dot on-time\""), 18);
    assert_eq!(count(&svg, "<g class=\"dot late-side\""), 3);
    assert_eq!(count(&svg, "<g class=\"dot late-allowed\""), 0);
    assert_eq!(count(&svg, "<g class=\"dot dropped\""), 0);
    assert_eq!(
        count(&svg, "<g class=\"watermark-line\""),
        2,
        "one per subtask"
    );
    assert_eq!(count(&svg, "<g class=\"window-band\""), 4);
    let fires: u64 = attr_values(&svg, "window-band", "data-fires").iter().sum();
    assert_eq!(fires, v.fires());
    // the firings of both subtasks at the same moment share a mark: 2 results each
    assert_eq!(attr_values(&svg, "firing", "data-count"), [2, 2, 2, 2]);
    // every dot and firing has its tooltip
    for class in ["dot on-time", "dot late-side", "firing", "window-band"] {
        for g in svg.split(&format!("<g class=\"{class}\"")).skip(1) {
            let inner = &g[g.find('>').unwrap() + 1..];
            assert!(inner.starts_with("<title>") && !inner.starts_with("<title></title>"));
        }
    }
    // the late records are labelled with what decided their fate
    assert!(
        svg.contains("south · ts 4\u{2009}400 ms · watermark 5\u{2009}199 ms"),
        "{svg}"
    );
    assert!(svg.contains("late → side output (3)"));
    assert!(svg.contains("ts 3\u{2009}300 ms · watermark 9\u{2009}399 ms"));
    assert!(svg.contains(
        "record (key south, timestamp 4\u{2009}400 ms), processed at 8.001 s by subtask 1"
    ));
    // axis titles with units
    assert!(svg.contains("processing time at the window operator's subtask (s)"));
    assert!(svg.contains("event time: the record's timestamp (s)"));
}

#[test]
fn same_view_same_bytes() {
    let v = late_data();
    assert_eq!(svg(&v), svg(&v));
    let a = png(&v).unwrap();
    assert_eq!(a, png(&v).unwrap());
    assert_eq!(&a[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn the_png_shows_the_late_records() {
    let v = late_data();
    let bytes = png(&v).unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1200, 720));
    let pixels = |c: (u8, u8, u8)| buf.chunks(3).filter(|p| (p[0], p[1], p[2]) == c).count();
    // the three squares of the side-output records (and the legend's) in vermillion
    assert!(pixels((213, 94, 0)) > 4 * 80, "{}", pixels((213, 94, 0)));
    let mut without = v.clone();
    without.dots.retain(|d| d.kind != DotKind::LateSide);
    let bytes = png(&without).unwrap();
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut buf2 = vec![0; reader.output_buffer_size()];
    reader.next_frame(&mut buf2).unwrap();
    let fewer = buf2
        .chunks(3)
        .filter(|p| (p[0], p[1], p[2]) == (213, 94, 0))
        .count();
    assert!(fewer < pixels((213, 94, 0)) / 2, "{fewer}");
}

#[test]
fn many_records_share_marks_and_the_svg_stays_small() {
    let mut v = late_data();
    v.dots.clear();
    let n = 20_000u64;
    for i in 0..n {
        let ts = (i * 7919 % 20_000) as i64;
        v.dots.push(dot(
            (i % 2) as u32,
            i as f64 / 1000.0,
            ts,
            0,
            if i % 97 == 0 {
                DotKind::Dropped
            } else {
                DotKind::OnTime
            },
        ));
    }
    v.sample_every.on_time = 8;
    let on_time = v.dots_of(DotKind::OnTime).count() as u64;
    let dropped = v.dots_of(DotKind::Dropped).count() as u64;
    let svg = svg(&v);
    assert!(svg.len() < 1_500_000, "{} bytes", svg.len());
    let marks = attr_values(&svg, "dot on-time", "data-count");
    assert!(marks.len() <= 2_500, "{}", marks.len());
    assert_eq!(marks.iter().sum::<u64>(), on_time * 8, "the counts add up");
    // 207 dropped records: few enough for one mark each
    assert_eq!(count(&svg, "<g class=\"dot dropped\""), dropped as usize);
    assert!(svg.contains("1 dot per 8 on time records"));
}

#[test]
fn many_subtasks_draw_the_minimum_watermark() {
    let mut v = late_data();
    v.subtasks = 6;
    v.watermarks.clear();
    for s in 0..6u32 {
        for k in 1..=3i64 {
            v.watermarks.push(WatermarkStep {
                subtask: s,
                at_ns: (k as u64) * S + u64::from(s) * 1000,
                watermark_ms: k * 1000,
            });
        }
    }
    let lines = layout::watermark_lines(&v);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].0, "watermark, minimum over the 6 subtasks");
    // the minimum moves once every subtask has passed the step
    assert_eq!(
        lines[0].1,
        [(S + 5000, 1000), (2 * S + 5000, 2000), (3 * S + 5000, 3000)]
    );
    assert_eq!(count(&svg(&v), "<g class=\"watermark-line\""), 1);
}

#[test]
fn names_are_escaped_and_files_named_safely() {
    let mut v = late_data();
    v.operator = "a<b & \"c\"".into();
    let svg = svg(&v);
    assert!(svg.contains("data-operator=\"a&lt;b &amp; &quot;c&quot;\""));
    assert_eq!(file_stem(&v), "event_time_a_b____c_");
}

#[test]
fn an_empty_view_still_draws() {
    let mut v = late_data();
    v.dots.clear();
    v.watermarks.clear();
    v.bands.clear();
    v.firings.clear();
    v.end_ns = 0;
    let svg = svg(&v);
    assert_eq!(count(&svg, "<g class=\"dot"), 0);
    assert!(png(&v).is_ok());
}

#[test]
fn many_windows_and_firings_stay_small_and_still_add_up() {
    let mut v = late_data();
    v.bands.clear();
    v.firings.clear();
    // sliding windows of 10 s every 100 ms over 10 minutes, 4 subtasks
    for i in 0..5_000i64 {
        let start = i * 100;
        v.bands.push(WindowBand {
            start_ms: start,
            end_ms: start + 10_000,
            opened_ns: start as u64 * 1_000_000,
            closed_ns: Some((start as u64 + 10_000) * 1_000_000),
            cleanup_ns: Some((start as u64 + 10_000) * 1_000_000),
            subtasks: vec![0, 1, 2, 3],
            fires: 4,
            late_fires: 0,
        });
        for s in 0..4 {
            v.firings.push(Firing {
                subtask: s,
                at_ns: (start as u64 + 10_000) * 1_000_000 + u64::from(s),
                start_ms: start,
                end_ms: start + 10_000,
                count: 1,
                late: false,
            });
        }
    }
    v.end_ns = 520 * S;
    let svg = svg(&v);
    assert!(svg.len() < 1_500_000, "{} bytes", svg.len());
    let marks = attr_values(&svg, "firing", "data-count");
    assert!(marks.len() <= 1_500, "{}", marks.len());
    assert_eq!(
        marks.iter().sum::<u64>(),
        20_000,
        "every result is counted once"
    );
    assert!(count(&svg, "<g class=\"window-band\"") <= 400);
    assert!(svg.contains("1 window band drawn per 13 windows"));
}

#[test]
fn files_are_named_after_their_operator_once_each() {
    let a = late_data();
    let mut b = late_data();
    b.operator = "sales.5s".into();
    let f = files(&[a, b]).unwrap();
    let names: Vec<&str> = f.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "event_time_sales_5s.svg",
            "event_time_sales_5s.png",
            "event_time_sales_5s_2.svg",
            "event_time_sales_5s_2.png"
        ]
    );
    assert!(f[2].1.starts_with(b"<svg "));
}
