//! `pharos assess`: alerts from a simulated scenario, with the fixed fields
//! and at least one on a planted campaign's hashtag or link.

use serde_json::Value;
use std::collections::HashSet;
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

fn is_rfc3339(v: &Value) -> bool {
    v.as_str().is_some_and(|t| {
        t.len() >= 20 && t.as_bytes()[4] == b'-' && t.contains('T') && t.ends_with('Z')
    })
}

#[test]
fn assess_writes_alerts_with_the_fixed_fields_and_finds_a_campaign() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("s.jsonl");
    let db = dir.path().join("s.db");
    let alerts = dir.path().join("alerts.jsonl");
    pharos(&[
        "simulate",
        "--posts",
        "20000",
        "--seed",
        "3",
        "--out",
        s(&sim),
    ]);
    pharos(&["ingest", "--store", s(&db), s(&sim)]);
    let out = pharos(&["assess", "--store", s(&db), "--alerts-out", s(&alerts)]);
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("alerts from 20000 posts"), "{summary}");

    let text = std::fs::read_to_string(&alerts).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    assert!(!lines.is_empty(), "no alerts");
    for a in &lines {
        for f in ["id", "entity_kind", "entity", "explanation"] {
            assert!(a[f].as_str().is_some_and(|v| !v.is_empty()), "{f}: {a}");
        }
        assert!(is_rfc3339(&a["opened_at"]), "opened_at: {a}");
        assert!(
            a["closed_at"].is_null() || is_rfc3339(&a["closed_at"]),
            "closed_at: {a}"
        );
        assert!(a["lead_time_s"].as_f64().is_some_and(|x| x >= 0.0), "{a}");
        let sev = a["severity"].as_f64().expect("severity is a number");
        assert!((0.0..=1.0).contains(&sev), "severity {sev}");
    }

    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("s.truth.json")).unwrap())
            .unwrap();
    let mut planted = HashSet::new();
    for c in truth["campaigns"].as_array().unwrap() {
        for f in ["hashtags", "urls"] {
            for v in c[f].as_array().into_iter().flatten() {
                planted.insert(v.as_str().unwrap().to_string());
            }
        }
    }
    assert!(
        lines
            .iter()
            .any(|a| planted.contains(a["entity"].as_str().unwrap())),
        "no alert on a planted hashtag or URL"
    );

    // --json gives the summary as one object.
    let out = pharos(&["assess", "--store", s(&db), "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["alerts"].as_u64().unwrap() > 0);
    assert!(v["by_kind"].is_object());
}
