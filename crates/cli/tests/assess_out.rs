//! `pharos assess --out DIR` (issue #6's fixed command line): the whole
//! assessment of a simulated scenario, with its fact-checks in the library,
//! writes every named file, keeps the incidents in the store, and the
//! incidents recover planted campaigns.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn pharos(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_pharos"))
        .arg("-q")
        .args(args)
        .output()
        .expect("run pharos");
    assert!(
        out.status.success(),
        "pharos {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn assess_out_writes_incidents_reports_and_stix_and_keeps_incidents_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("s.jsonl");
    let db = dir.path().join("s.db");
    let out = dir.path().join("assessment");
    pharos(&[
        "simulate",
        "--posts",
        "6000",
        "--seed",
        "2",
        "--out",
        s(&sim),
    ]);
    pharos(&["ingest", s(&sim), "--store", s(&db)]);
    pharos(&[
        "claims",
        "import",
        "--format",
        "claimreview",
        s(&dir.path().join("s.factchecks.json")),
        "--store",
        s(&db),
    ]);
    let printed = pharos(&["assess", "--store", s(&db), "--out", s(&out), "--json"]);
    let summary: Value = serde_json::from_slice(&printed.stdout).expect("--json prints one object");

    for f in [
        "incidents.json",
        "alerts.jsonl",
        "briefing.html",
        "briefing.md",
        "report.html",
        "recovery.html",
        "stix.json",
    ] {
        let p = out.join(f);
        assert!(
            p.metadata().map(|m| m.len() > 0).unwrap_or(false),
            "{f} missing or empty"
        );
        assert!(
            summary["written"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w.as_str().unwrap().ends_with(f)),
            "{f} not listed in the summary"
        );
    }
    // The library beside the store was used: posts matched known claims.
    assert!(
        summary["claim_matched_posts"].as_u64().unwrap() > 0,
        "{summary}"
    );

    // Incidents recover planted campaign accounts (truth file).
    let incidents: Value =
        serde_json::from_slice(&std::fs::read(out.join("incidents.json")).unwrap()).unwrap();
    let incidents = incidents
        .as_array()
        .or_else(|| incidents["incidents"].as_array())
        .expect("incidents.json holds the incidents")
        .clone();
    assert!(!incidents.is_empty());
    assert_eq!(
        summary["incidents"].as_u64().unwrap() as usize,
        incidents.len()
    );
    let truth: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("s.truth.json")).unwrap()).unwrap();
    let truth_text = truth.to_string();
    let hits = incidents
        .iter()
        .flat_map(|i| i["actors"].as_array().cloned().unwrap_or_default())
        .filter(|a| {
            let id = a["actor_id"].as_str().unwrap_or("");
            !id.is_empty() && truth_text.contains(&format!("\"{id}\""))
        })
        .count();
    assert!(
        hits > 0,
        "no incident account is a planted campaign account"
    );
    // A recycled debunked claim shows up as a claim match on some incident.
    assert!(
        incidents
            .iter()
            .any(|i| i["claim_matches"].as_array().is_some_and(|m| !m.is_empty())),
        "no incident carries the planted false claim"
    );

    // STIX bundle from the run, and the incidents kept in the store for export.
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(out.join("stix.json")).unwrap()).unwrap();
    assert_eq!(bundle["type"], "bundle");
    assert!(
        bundle["objects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["type"] == "incident")
    );
    let exported = dir.path().join("x.stix.json");
    pharos(&["export", "stix", "--store", s(&db), "--out", s(&exported)]);
    let again: Value = serde_json::from_slice(&std::fs::read(&exported).unwrap()).unwrap();
    let n_inc = |b: &Value| {
        b["objects"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["type"] == "incident")
            .count()
    };
    assert_eq!(n_inc(&again), incidents.len());
    // The briefing is a self-contained page: no script, nothing fetched.
    let html = std::fs::read_to_string(out.join("briefing.html")).unwrap();
    assert!(html.contains("<svg") || html.contains("<table"));
    assert!(!html.contains("<script src") && !html.contains("http://cdn"));
}
