//! `pharos prebunk`: the simulator's planted recurrences ingested, the
//! forecast made at the cut-off with the scenario's calendar; the storylines
//! that return are briefed, in Markdown and HTML, with drafts; a bad
//! calendar line is named.

use pharos_sim::recurrence::{RecurrenceConfig, recurrence_scenario};
use std::io::Write;

mod common;
use common::s;

#[test]
fn prebunk_briefs_the_storylines_that_return() {
    let dir = tempfile::tempdir().unwrap();
    let sc = recurrence_scenario(&RecurrenceConfig::default());
    let posts = dir.path().join("posts.jsonl");
    let mut f = std::fs::File::create(&posts).unwrap();
    for p in &sc.posts {
        writeln!(f, "{}", serde_json::to_string(p).unwrap()).unwrap();
    }
    drop(f);
    let cal = dir.path().join("calendar.csv");
    let mut text = String::from("# date,label\n");
    for c in &sc.calendar {
        text.push_str(&format!("{},{}\n", c.date.day(), c.label));
    }
    std::fs::write(&cal, text).unwrap();
    let db = dir.path().join("s.db");
    let out_dir = dir.path().join("briefs");
    common::ok(&["-q", "ingest", "--store", s(&db), s(&posts)]);
    let cutoff = sc.cutoff.to_rfc3339();
    let out = common::ok(&[
        "prebunk",
        "--store",
        s(&db),
        "--out",
        s(&out_dir),
        "--calendar",
        s(&cal),
        "--until",
        &cutoff,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("likely to come back within 30 days"),
        "{stdout}"
    );
    let index = std::fs::read_to_string(out_dir.join("index.md")).unwrap();
    let forecasts: Vec<serde_json::Value> = serde_json::from_slice::<serde_json::Value>(
        &std::fs::read(out_dir.join("prebunk.json")).unwrap(),
    )
    .unwrap()["forecasts"]
        .as_array()
        .unwrap()
        .clone();
    // Every triggered storyline is briefed, expected on its calendar date.
    for t in sc.storylines.iter().filter(|t| t.kind == "triggered") {
        let f = forecasts
            .iter()
            .find(|f| {
                f["terms"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x == &t.marker)
            })
            .unwrap_or_else(|| panic!("no forecast for {}", t.marker));
        assert_eq!(f["basis"], "trigger", "{f}");
        assert_eq!(f["trigger"].as_str(), t.trigger.as_deref());
        let id = f["storyline"].as_str().unwrap();
        assert!(index.contains(&format!("({id}.md)")), "{index}");
        let brief = std::fs::read_to_string(out_dir.join(format!("{id}.md"))).unwrap();
        assert!(brief.contains("## Prebunk drafts"));
        assert!(brief.contains("Recycling: an old story"));
        assert!(out_dir.join(format!("{id}.html")).is_file());
    }
    // One-off storylines are not briefed.
    for t in sc.storylines.iter().filter(|t| t.kind == "one-off") {
        let f = forecasts
            .iter()
            .find(|f| {
                f["terms"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x == &t.marker)
            })
            .unwrap();
        assert!(f["chance"].as_f64().unwrap() < 0.5, "{f}");
    }

    std::fs::write(&cal, "2025-01-01,summit\n2025-02-30,bad day\n").unwrap();
    let bad = common::run(&[
        "prebunk",
        "--store",
        s(&db),
        "--out",
        s(&out_dir),
        "--calendar",
        s(&cal),
    ]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("calendar.csv:2:") && err.contains("2025-02-30"),
        "{err}"
    );
}
