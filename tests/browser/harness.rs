//! The harness checked on itself: a hand-written page that keeps the run report contract
//! passes, and each way of breaking it — or of breaking a page (a console error, an
//! exception, a missing or remote resource) — is caught and named.

use crate::run_report::{Expected, violations};
use crate::{browser, root, scratch};

/// The fixture page (keeps the contract).
const FIXTURE: &str = "tests/browser/fixtures/run_report.html";

/// What the fixture shows.
fn fixture_expects() -> Expected {
    Expected {
        lanes: vec![
            "Source: clicks -> Map #0".into(),
            "Source: clicks -> Map #1".into(),
            "Window -> Sink: out #0".into(),
        ],
        barriers: 7,
        failures: 1,
        fires: 3,
        late_side: 1,
        dropped: 0,
        event_time_diagrams: 1,
    }
}

/// One way to break the fixture: replace `from` (which must occur) by `to`; the check must
/// then report a violation or a problem containing `says`.
struct Breakage {
    from: &'static str,
    to: &'static str,
    says: &'static str,
}

const BREAKAGES: [Breakage; 15] = [
    Breakage {
        from: "<g class=\"lane\" data-task=\"Window -> Sink: out #0\">",
        to: "<g data-task=\"Window -> Sink: out #0\">",
        says: "2 lanes",
    },
    Breakage {
        from: "data-task=\"Source: clicks -> Map #1\"",
        to: "data-task=\"Source: clicks #1\"",
        says: "lanes [",
    },
    Breakage {
        from: "data-count=\"4\"",
        to: "data-count=\"3\"",
        says: "data-count of .mark.barrier is 6",
    },
    Breakage {
        from: "data-count=\"2\" data-tip=\"2 windows",
        to: "data-count=\"two\" data-tip=\"2 windows",
        says: ".mark.fire with bad data-count",
    },
    Breakage {
        from: "class=\"mark fire\" data-tip",
        to: "class=\"mark\" data-tip",
        says: ".mark.fire is 2",
    },
    Breakage {
        from: "<rect class=\"mark restore\"",
        to: "<rect class=\"mark failure\"",
        says: "2 .mark.failure",
    },
    Breakage {
        from: "<title>restored checkpoint 1</title>",
        to: "<title>restored</title>",
        says: "without a child <title>",
    },
    Breakage {
        from: "tip.style.display = 'block';",
        to: "",
        says: "does not show #tip",
    },
    Breakage {
        from: "tip.textContent = m.getAttribute('data-tip');",
        to: "tip.textContent = 'a mark';",
        says: "#tip says \"a mark\"",
    },
    Breakage {
        from: "</svg>\n<h2>Event time</h2>",
        to: "<rect x=\"0\" y=\"0\" width=\"800\" height=\"200\" fill-opacity=\"0\"/></svg>\n<h2>Event time</h2>",
        says: "can be hovered",
    },
    Breakage {
        from: "class=\"event-time\"",
        to: "class=\"scatter\"",
        says: "0 svg.event-time",
    },
    Breakage {
        from: "class=\"dot on-time\"",
        to: "class=\"dot on-time dropped\"",
        says: "1 without exactly one",
    },
    Breakage {
        from: "<section id=\"subtasks\">",
        to: "<section>",
        says: "no section#subtasks",
    },
    Breakage {
        from: "<script>",
        to: "<script>console.error('boom');",
        says: "console.error: boom",
    },
    Breakage {
        from: "</script>",
        to: "</script><script>null.x;</script>",
        says: "uncaught exception",
    },
];

/// Resources that must be reported as problems: a missing local file and anything remote.
const BAD_RESOURCES: [(&str, &str); 2] = [
    (
        "<img src=\"missing.png\" alt=\"\">",
        "request failed: file://",
    ),
    (
        "<img src=\"http://example.invalid/x.png\" alt=\"\">",
        "request to a non-local URL: http://example.invalid/x.png",
    ),
];

#[test]
fn the_contract_check_passes_a_page_that_keeps_the_contract() {
    let Some(mut b) = browser() else { return };
    b.open_file(&root().join(FIXTURE)).unwrap();
    let png = b.screenshot(None).unwrap();
    crate::pixels::keep_screenshot("fixture-run-report", &png).unwrap();
    let v = violations(&mut b, &fixture_expects()).unwrap();
    assert!(v.is_empty(), "{v:#?}");
    crate::assert_no_problems(&mut b, FIXTURE);
}

#[test]
fn the_contract_check_names_each_way_a_page_breaks_it() {
    let Some(mut b) = browser() else { return };
    let page = crate::read(&root().join(FIXTURE));
    let dir = scratch("breakages");
    let mut missed = Vec::new();
    for (i, k) in BREAKAGES.iter().enumerate() {
        assert!(
            page.contains(k.from),
            "breakage {i}: {:?} not in the fixture",
            k.from
        );
        let path = dir.join(format!("broken-{i}.html"));
        std::fs::write(&path, page.replacen(k.from, k.to, 1)).unwrap();
        b.open_file(&path).unwrap();
        let mut said = violations(&mut b, &fixture_expects()).unwrap();
        said.extend(b.problems().unwrap());
        if !said.iter().any(|s| s.contains(k.says)) {
            missed.push(format!(
                "breakage {i} ({:?} → {:?}): wanted {:?}, got {said:#?}",
                k.from, k.to, k.says
            ));
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}

#[test]
fn missing_and_remote_resources_are_problems() {
    let page = crate::read(&root().join(FIXTURE));
    let dir = scratch("resources");
    for (i, (tag, says)) in BAD_RESOURCES.iter().enumerate() {
        let Some(mut b) = browser() else { return };
        let path = dir.join(format!("resource-{i}.html"));
        std::fs::write(&path, page.replacen("<h1>", &format!("{tag}<h1>"), 1)).unwrap();
        b.open_file(&path).unwrap();
        let problems = b.problems().unwrap();
        assert!(
            problems.iter().any(|p| p.contains(says)),
            "{tag}: wanted {says:?} in {problems:#?}"
        );
    }
}
