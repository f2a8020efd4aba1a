//! The `compare` page in the browser: it opens without errors or requests beyond its own
//! folder, draws one chart per SVG file written beside it, and is not blank.

use crate::{assert_no_problems, browser, scratch, streamlab};
use std::path::Path;

/// The stems of the `*.svg` files in `dir`, sorted.
fn svg_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("the report folder")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".svg").map(str::to_string)
        })
        .collect();
    v.sort();
    v
}

/// Writes the compare report of `scenario` (a file under `scenarios/`), opens it and checks
/// it; the screenshot is kept as `compare-NAME.png`.
fn compare_page_is_whole(name: &str) {
    let Some(mut b) = browser() else { return };
    let dir = scratch(&format!("compare-{name}"));
    let scenario = format!("scenarios/{name}.toml");
    streamlab(&["compare", &scenario, "--out", &dir.display().to_string()]);
    b.open_file(&dir.join("report.html")).unwrap();
    assert_no_problems(&mut b, &scenario);
    // one figure per chart file, each drawn (an <svg> or <img> with a box)
    let mut drawn: Vec<String> = serde_json::from_value(
        b.eval(
            "Array.from(document.querySelectorAll('figure'))\
               .filter(f => Array.from(f.querySelectorAll('svg, img')).some(c => { \
                 const r = c.getBoundingClientRect(); return r.width > 50 && r.height > 50; }))\
               .map(f => f.id)",
        )
        .unwrap(),
    )
    .unwrap();
    drawn.sort();
    let files = svg_files(&dir);
    assert!(files.len() >= 6, "{scenario}: only {files:?} written");
    assert_eq!(
        drawn, files,
        "{scenario}: charts drawn on the page vs SVG files written"
    );
    // every drawn chart has text (title, axes), rendered with a real font size
    let untexted = b
        .eval(
            "Array.from(document.querySelectorAll('figure svg'))\
               .filter(s => s.querySelectorAll('text').length < 3).length",
        )
        .unwrap();
    assert_eq!(untexted, 0, "{scenario}: charts without text");
    let png = b.screenshot(None).unwrap();
    crate::pixels::keep_screenshot(&format!("compare-{name}"), &png).unwrap();
    let first = format!("#{}", files[0]);
    let png = b.screenshot(Some(&first)).unwrap();
    crate::pixels::keep_screenshot(&format!("compare-{name}-{}", files[0]), &png).unwrap();
}

#[test]
fn the_compare_page_of_streaming_vs_microbatch_opens_whole() {
    compare_page_is_whole("streaming_vs_microbatch");
}

#[test]
fn the_compare_page_of_storm_acking_duplicates_opens_whole() {
    compare_page_is_whole("storm_acking_duplicates");
}
