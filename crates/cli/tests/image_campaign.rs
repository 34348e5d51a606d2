//! The simulator's image-reuse campaign end to end: `pharos simulate
//! --media-dir` writes the pictures its posts reference, `pharos media
//! scan` hashes them into the store, and `pharos assess` finds the campaign
//! as an incident whose coordination includes the `co-image` layer holding
//! its accounts, with few others.

mod common;
use common::{ok, run, s};
use serde_json::Value;
use std::collections::HashSet;

#[test]
fn assess_finds_the_image_campaign_as_a_co_image_incident() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("s.jsonl");
    let media = dir.path().join("export");
    let store = dir.path().join("s.db");
    let out = dir.path().join("out");
    ok(&[
        "simulate",
        "--posts",
        "20000",
        "--seed",
        "4",
        "--out",
        s(&jsonl),
        "--media-dir",
        s(&media),
        "-q",
    ]);
    let truth: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("s.truth.json")).unwrap()).unwrap();
    let campaign = truth["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "image_reuse")
        .expect("--media-dir plants the image campaign")
        .clone();
    let files = campaign["media"].as_array().unwrap().len();
    let accounts: HashSet<&str> = campaign["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    ok(&["ingest", "--store", s(&store), s(&jsonl), "-q"]);
    // Organic Telegram photos are referenced but not written (exit 1); the
    // campaign's pictures are all hashed.
    let scan = run(&[
        "media",
        "scan",
        "--store",
        s(&store),
        "--root",
        s(&media),
        "--json",
    ]);
    let sum: Value = serde_json::from_slice(&scan.stdout).unwrap();
    assert_eq!(sum["hashed"].as_u64(), Some(files as u64), "{sum}");
    assert_eq!(sum["unreadable"].as_u64(), Some(0), "{sum}");

    ok(&["assess", "--store", s(&store), "--out", s(&out), "-q"]);
    let incidents: Value =
        serde_json::from_slice(&std::fs::read(out.join("incidents.json")).unwrap()).unwrap();
    let incidents = incidents
        .as_array()
        .or_else(|| incidents["incidents"].as_array())
        .unwrap()
        .clone();
    // The co-image network of some incident: which accounts it holds.
    let mut best: Option<(usize, usize, String)> = None;
    for inc in &incidents {
        for net in inc["networks"].as_array().unwrap() {
            let kind = net["kind"].as_str().unwrap();
            if !kind.split('+').any(|k| k == "co-image") {
                continue;
            }
            let members: Vec<&str> = net["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().split_once(':').unwrap().1)
                .collect();
            let hit = members.iter().filter(|a| accounts.contains(*a)).count();
            let false_accounts = members.len() - hit;
            if best.as_ref().is_none_or(|b| hit > b.0) {
                best = Some((hit, false_accounts, inc["title"].to_string()));
            }
        }
    }
    let (hit, false_accounts, title) = best.expect("an incident with a co-image network");
    assert!(
        hit as f64 >= 0.8 * accounts.len() as f64,
        "{title}: {hit} of {} campaign accounts",
        accounts.len()
    );
    assert!(
        false_accounts * 10 <= hit,
        "{title}: {false_accounts} accounts outside the campaign beside {hit}"
    );
}
