//! The event-time diagram of a scenario's window operators, as SVG and PNG files: runs the
//! scenario with the event-time capture on and draws every view.
//!
//! Run: `cargo run --example event_time_diagram -- scenarios/late_data.toml OUT_DIR`
//! (writes `OUT_DIR/event_time_<operator>.svg`, `.png` and `.html`, a page that shows the SVG).

use std::path::Path;
use streamlab_engine::sim::RunOptions;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, out] = args.as_slice() else {
        eprintln!("usage: event_time_diagram SCENARIO.toml OUT_DIR");
        std::process::exit(2);
    };
    if let Err(e) = write(Path::new(file), Path::new(out)) {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

fn write(file: &Path, out: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let name = file.display().to_string();
    let s = streamlab_engine::check::parse_str(&name, &text, None).map_err(|d| d.render())?;
    let p = streamlab_engine::plan::plan(&s).map_err(|d| d.render())?;
    let opts = RunOptions {
        capture_event_time: true,
        ..Default::default()
    };
    let run = streamlab_engine::oracle::run(&s, &p, opts).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(out).map_err(|e| e.to_string())?;
    for view in &run.event_time {
        let stem = out.join(streamlab_viz::event_time::file_stem(view));
        let svg = streamlab_viz::event_time::svg(view);
        let png = streamlab_viz::event_time::png(view).map_err(|e| e.0)?;
        let html = format!(
            "<!doctype html><meta charset=\"utf-8\"><title>{}</title><body style=\"margin:0\">{svg}</body>",
            view.operator
        );
        for (ext, bytes) in [
            ("svg", svg.as_bytes()),
            ("png", &png[..]),
            ("html", html.as_bytes()),
        ] {
            let path = stem.with_extension(ext);
            std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        println!(
            "{}: {} records, {} dots, {} windows → {}.svg ({} bytes)",
            view.operator,
            view.records.total(),
            view.dots.len(),
            view.bands.len(),
            stem.display(),
            svg.len()
        );
    }
    Ok(())
}
