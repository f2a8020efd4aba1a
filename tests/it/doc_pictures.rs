//! The pictures of the scenario pages are current: `docs/pictures/NAME/` holds exactly the
//! space-time and event-time PNGs that `streamlab run scenarios/NAME.toml --out DIR` writes
//! today, and every scenario page shows them. `scripts/doc-pictures.sh` regenerates them,
//! `scripts/doc-picture-links.py` the pages' section.

use crate::util::{scratch, streamlab, texts};

/// The picture files of one run's output folder, by name, sorted.
fn pictures(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n == "space_time.png" || (n.starts_with("event_time_") && n.ends_with(".png"))
        })
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn the_scenario_pages_show_their_current_pictures() {
    let out = scratch("doc_pictures");
    let mut scenarios: Vec<String> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    scenarios.sort();
    for name in &scenarios {
        let dir = out.join(name);
        let o = streamlab(&[
            "run",
            &format!("scenarios/{name}.toml"),
            "-q",
            "--out",
            dir.to_str().unwrap(),
        ]);
        // 1: the job failed (jobmanager_no_ha) — its report is written all the same
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{name}: {}",
            texts(&o).1
        );
        let (now, kept) = (
            pictures(&dir),
            pictures(&std::path::Path::new("docs/pictures").join(name)),
        );
        let names = |v: &[(String, Vec<u8>)]| v.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(&now),
            names(&kept),
            "docs/pictures/{name}/ is not current: run scripts/doc-pictures.sh"
        );
        for ((file, a), (_, b)) in now.iter().zip(&kept) {
            assert!(
                a == b,
                "docs/pictures/{name}/{file} is not current: run scripts/doc-pictures.sh"
            );
        }
        let page = std::fs::read_to_string(format!("docs/scenarios/{name}.md"))
            .unwrap_or_else(|_| panic!("scenario {name} has no page docs/scenarios/{name}.md"));
        for (file, _) in &kept {
            assert!(
                page.contains(&format!("(../pictures/{name}/{file})")),
                "docs/scenarios/{name}.md does not show {file}: run scripts/doc-picture-links.py"
            );
        }
    }
}
