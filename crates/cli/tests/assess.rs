//! `pharos assess`: alerts from a simulated scenario, with the fixed fields
//! and at least one on a planted campaign's hashtag or link; and with
//! `--out DIR` (issue #6's fixed command line) the whole assessment: every
//! named file, incidents kept in the store, planted campaigns recovered.

use serde_json::Value;
use std::collections::HashSet;

mod common;
use common::s;

/// `pharos -q ARGS`, which must succeed.
fn pharos(args: &[&str]) -> std::process::Output {
    common::ok(&[&["-q"], args].concat())
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

/// A feed of 12 posts by 12 authors within 12 seconds, all with one hashtag and one link.
fn burst_feed() -> String {
    let mut items = String::new();
    for i in 0..12 {
        items.push_str(&format!(
            "<item><title>Post {i}</title><link>https://flood.example.org/story</link>\
             <guid>urn:burst:{i}</guid><author>u{i}@example.org (User {i})</author>\
             <pubDate>Mon, 06 Jan 2025 10:00:{i:02} +0000</pubDate>\
             <description>Everyone look at this now #floodtest {i}</description></item>"
        ));
    }
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Burst</title>\
         <link>https://flood.example.org/</link><description>x</description>{items}</channel></rss>"
    )
}

#[test]
fn watch_alerts_out_writes_alerts_as_bursts_open_and_close() {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let body = burst_feed();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let _ = stream.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let alerts = dir.path().join("alerts.jsonl");
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, "[[rule]]\nname = \"all\"\nmin_severity = 0.0\n").unwrap();
    let url = format!("http://127.0.0.1:{port}/feed.xml");
    pharos(&[
        "watch",
        "--once",
        "--feed",
        &url,
        "--store",
        s(&db),
        "--alerts-out",
        s(&alerts),
        "--rules",
        s(&rules),
    ]);
    let lines: Vec<Value> = std::fs::read_to_string(&alerts)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let flood: Vec<&Value> = lines
        .iter()
        .filter(|a| a["entity_kind"] == "hashtag" && a["entity"] == "floodtest")
        .collect();
    assert!(!flood.is_empty(), "no alert on #floodtest: {lines:?}");
    assert!(flood.iter().all(|a| a["rule"] == "all"));
    // Raised while open, then written again when the run's end closes it.
    assert!(flood.iter().any(|a| a["status"] == "raised"));
    assert!(
        flood
            .iter()
            .any(|a| a["status"] == "closed" && is_rfc3339(&a["closed_at"]))
    );
}

/// A local HTTP server that answers 200 to every request and keeps the
/// bodies it was sent.
fn recording_server() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            keep.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (port, got)
}

#[test]
fn assess_delivers_to_stdout_and_to_a_webhook() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("s.jsonl");
    let db = dir.path().join("s.db");
    let file = dir.path().join("a.jsonl");
    pharos(&[
        "simulate",
        "--posts",
        "6000",
        "--seed",
        "4",
        "--days",
        "1",
        "--out",
        s(&sim),
    ]);
    pharos(&["ingest", "--store", s(&db), s(&sim)]);
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, "[[rule]]\nname = \"all\"\nmin_severity = 0.0\n").unwrap();
    let (port, got) = recording_server();
    let url = format!("http://127.0.0.1:{port}/hook");
    let out = pharos(&[
        "assess",
        "--store",
        s(&db),
        "--rules",
        s(&rules),
        "--alerts-out",
        s(&file),
        "--stdout",
        "--webhook",
        &url,
    ]);
    let expected: Vec<Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        !expected.is_empty(),
        "the scenario gives alerts at severity 0"
    );
    // Standard output holds exactly the alerts (the summary went to stderr).
    let printed: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("only JSON lines on stdout"))
        .collect();
    assert_eq!(printed, expected);
    // The webhook got one POST per notification, in order.
    let posted: Vec<Value> = got
        .lock()
        .unwrap()
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
    assert_eq!(posted, expected);
    assert!(String::from_utf8_lossy(&out.stderr).contains("alerts from 6000 posts"));
    // Nothing failed, so nothing is kept for re-delivery.
    assert!(!dir.path().join("s.webhook-redeliver.jsonl").exists());
}

/// A simulated scenario (6,000 posts, seed 2) ingested into DIR/s.db, its
/// fact-checks imported into the library beside it (DIR/s.library).
fn scenario_with_library(dir: &std::path::Path) -> std::path::PathBuf {
    let sim = dir.join("s.jsonl");
    let db = dir.join("s.db");
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
        s(&dir.join("s.factchecks.json")),
        "--store",
        s(&db),
    ]);
    db
}

#[test]
fn assess_out_writes_incidents_reports_and_stix_and_keeps_incidents_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = scenario_with_library(dir.path());
    let out = dir.path().join("assessment");
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

/// `--out DIR` with a delivery flag runs one pass: what `--alerts-out`
/// receives is what DIR/alerts.jsonl holds (the same alerts, the last line
/// of each the state DIR/alerts.jsonl keeps), with a library's claim alerts
/// in both.
#[test]
fn assess_out_with_delivery_delivers_what_alerts_jsonl_holds() {
    let dir = tempfile::tempdir().unwrap();
    let db = scenario_with_library(dir.path());
    let out = dir.path().join("assessment");
    let delivered = dir.path().join("delivered.jsonl");
    pharos(&[
        "assess",
        "--store",
        s(&db),
        "--out",
        s(&out),
        "--alerts-out",
        s(&delivered),
        "--library",
        s(&dir.path().join("s.library")),
    ]);
    let read = |p: &std::path::Path| -> Vec<Value> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let kept = read(&out.join("alerts.jsonl"));
    let sent = read(&delivered);
    assert!(
        kept.iter().any(|n| n["entity_kind"] == "claim"),
        "the library's claims raise alerts in the assessment too"
    );
    let mut last: std::collections::HashMap<String, &Value> = Default::default();
    for n in &sent {
        last.insert(n["id"].as_str().unwrap().to_string(), n);
    }
    let kept_ids: HashSet<&str> = kept.iter().map(|n| n["id"].as_str().unwrap()).collect();
    let sent_ids: HashSet<&str> = last.keys().map(String::as_str).collect();
    assert_eq!(kept_ids, sent_ids);
    for n in &kept {
        assert_eq!(&n, &last[n["id"].as_str().unwrap()]);
    }
}
