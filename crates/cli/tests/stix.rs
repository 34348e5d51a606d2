//! `pharos export stix` and `pharos import stix` through the binary.
//!
//! Exported bundles are also written to `<workspace>/target/stix-bundles/`
//! for `.ci/validate-stix` (the OASIS validator).

use pharos_assess::incident::{Incident, save_incidents};
use pharos_share::stix::check::check_bundle;
use pharos_store::SqliteStore;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::run as pharos;

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn keep_for_validator(name: &str, bundle: &Path) {
    let d = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/stix-bundles"
    ));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(bundle, d.join(name)).unwrap();
}

fn incident(n: u32, handle: &str) -> Incident {
    let t0 = 1_710_000_000_000i64 + n as i64 * 3_600_000;
    let t = |s: i64| pharos_core::EventTime::from_millis(t0 + s * 1000).to_rfc3339();
    serde_json::from_value(json!({
        "id": format!("inc-{n:016x}"),
        "title": format!("Flooding #blackout {n}"),
        "summary": format!("12 accounts led by @{handle} flooded #blackout with the same text."),
        "first_seen": t(0), "last_seen": t(1800),
        "timeline": {"bucket_s": 600, "start": t(0), "series": [{"platform": "twitter", "posts": [10, 5, 2]}]},
        "severity": {"value": 0.4, "terms": []},
        "confidence": {"value": 0.7, "terms": []},
        "abcde": {"actor": {"statement": format!("@{handle} and 11 others"), "evidence": [format!("account:twitter:{n}00")]},
                  "behaviour": {"statement": "copy-paste", "evidence": []},
                  "content": {"statement": "blackout claims", "evidence": []},
                  "degree": {"statement": "17 posts", "evidence": []},
                  "effect": {"statement": "", "evidence": []}},
        "techniques": [{"t_id": "T0049.002", "name": "Flood Existing Hashtag", "tactic_id": "TA17",
                        "signal": "hashtag-flood", "shown_by": "#blackout burst by flagged accounts",
                        "evidence": ["alert:hashtag:1"]}],
        "narratives": [{"id": "narrative:1", "label": "blackout · grid", "terms": ["blackout", "grid"], "posts": 17, "families": []}],
        "networks": [], "alerts": [], "claim_matches": [],
        "actors": [{"id": format!("account:twitter:{n}00"), "platform": "twitter", "actor_id": format!("{n}00"),
                    "handle": handle, "posts": 9, "coordinated": true}],
        "links": [{"key": "https://blackout.example/a", "posts": 4}],
        "domains": [{"key": "blackout.example", "posts": 4}],
        "hashtags": [{"key": "blackout", "posts": 17}],
        "platforms": {"twitter": 17}, "languages": {"en": 17},
        "posts": [format!("twitter:{n}1"), format!("twitter:{n}2")],
        "evidence": []
    }))
    .expect("sample incident matches the model")
}

fn store_with_incidents(dir: &Path) -> PathBuf {
    let path = dir.join("case.db");
    let mut store = SqliteStore::open(&path).unwrap();
    save_incidents(
        &mut store,
        &[incident(1, "FloodLead"), incident(2, "OtherLead")],
    )
    .unwrap();
    path
}

fn read(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn export_stix_writes_a_sound_deterministic_bundle_per_tlp() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_incidents(dir.path());
    let s = store.to_str().unwrap();
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.json");
    ok(&pharos(&[
        "export",
        "stix",
        "--store",
        s,
        "--tlp",
        "green",
        "--out",
        a.to_str().unwrap(),
    ]));
    ok(&pharos(&[
        "export",
        "stix",
        "--store",
        s,
        "--tlp",
        "green",
        "--out",
        b.to_str().unwrap(),
    ]));
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let to_stdout = pharos(&[
        "export", "stix", "--store", s, "--tlp", "green", "--out", "-",
    ]);
    assert_eq!(ok(&to_stdout).as_bytes(), std::fs::read(&a).unwrap());
    let bundle = read(&a);
    assert_eq!(check_bundle(&bundle), Vec::<String>::new());
    let objs = bundle["objects"].as_array().unwrap();
    assert_eq!(objs.iter().filter(|o| o["type"] == "incident").count(), 2);
    assert!(objs.iter().all(|o| o["type"] == "marking-definition"
        || o["object_marking_refs"]
            == json!(["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"])));
    keep_for_validator("cli-two-incidents-green.json", &a);

    // One incident, AMBER+STRICT.
    let one = dir.path().join("one.json");
    let out = pharos(&[
        "export",
        "stix",
        "--store",
        s,
        "--incident",
        "inc-0000000000000002",
        "--tlp",
        "amber+strict",
        "--out",
        one.to_str().unwrap(),
    ]);
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("TLP:AMBER+STRICT"));
    let bundle = read(&one);
    let incs: Vec<&Value> = bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] == "incident")
        .collect();
    assert_eq!(incs.len(), 1);
    assert_eq!(incs[0]["name"], "Flooding #blackout 2");
    keep_for_validator("cli-one-incident-amber-strict.json", &one);

    // A period: only incidents overlapping it.
    let later = dir.path().join("later.json");
    let since = pharos_core::EventTime::from_millis(1_710_000_000_000 + 2 * 3_600_000).to_rfc3339();
    ok(&pharos(&[
        "export",
        "stix",
        "--store",
        s,
        "--since",
        &since,
        "--out",
        later.to_str().unwrap(),
    ]));
    let names: Vec<String> = read(&later)["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] == "incident")
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["Flooding #blackout 2"]);
    let out = pharos(&[
        "export",
        "stix",
        "--store",
        s,
        "--since",
        "2030-01-01",
        "--out",
        later.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no incident within"));
}

#[test]
fn export_stix_says_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_incidents(dir.path());
    let s = store.to_str().unwrap();
    let out_f = dir.path().join("x.json");
    let o = out_f.to_str().unwrap();
    let out = pharos(&[
        "export",
        "stix",
        "--store",
        s,
        "--incident",
        "inc-nope",
        "--out",
        o,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("inc-nope"));
    let out = pharos(&[
        "export", "stix", "--store", s, "--tlp", "purple", "--out", o,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("purple"));
    // A store without incidents points to `pharos assess`.
    let empty = dir.path().join("empty.db");
    SqliteStore::open(&empty).unwrap();
    let out = pharos(&[
        "export",
        "stix",
        "--store",
        empty.to_str().unwrap(),
        "--out",
        o,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pharos assess"));
    assert!(!out_f.exists());
}

#[test]
fn pseudonymised_export_uses_a_local_key_that_never_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_incidents(dir.path());
    let s = store.to_str().unwrap();
    let a = dir.path().join("p1.json");
    let b = dir.path().join("p2.json");
    ok(&pharos(&[
        "export",
        "stix",
        "--store",
        s,
        "--pseudonymise",
        "--out",
        a.to_str().unwrap(),
    ]));
    let key_file = dir.path().join("case.pseudonym.key");
    assert!(key_file.exists(), "the key is created beside the store");
    ok(&pharos(&[
        "export",
        "stix",
        "--store",
        s,
        "--pseudonymise",
        "--out",
        b.to_str().unwrap(),
    ]));
    let text = std::fs::read_to_string(&a).unwrap();
    assert_eq!(
        text,
        std::fs::read_to_string(&b).unwrap(),
        "same key, same pseudonyms"
    );
    let lower = text.to_lowercase();
    assert!(
        !lower.contains("floodlead") && !lower.contains("otherlead") && !lower.contains("\"100\"")
    );
    let key = std::fs::read(&key_file).unwrap();
    assert!(
        !text.contains(&hex_of(&key)),
        "the key is not in the bundle"
    );
    assert_eq!(check_bundle(&read(&a)), Vec::<String>::new());
    keep_for_validator("cli-pseudonymised-amber.json", &a);

    // Another key, other pseudonyms.
    let k2 = dir.path().join("other.key");
    std::fs::write(&k2, b"another key of enough length").unwrap();
    let c = dir.path().join("p3.json");
    ok(&pharos(&[
        "export",
        "stix",
        "--store",
        s,
        "--pseudonymise",
        "--pseudonym-key",
        k2.to_str().unwrap(),
        "--out",
        c.to_str().unwrap(),
    ]));
    assert_ne!(std::fs::read_to_string(&c).unwrap(), text);
    // A key that is too short is refused with its path.
    let short = dir.path().join("short.key");
    std::fs::write(&short, b"tiny").unwrap();
    let out = pharos(&[
        "export",
        "stix",
        "--store",
        s,
        "--pseudonymise",
        "--pseudonym-key",
        short.to_str().unwrap(),
        "--out",
        c.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("short.key"));
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn import_stix_keeps_markings_rejects_bad_objects_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let src = store_with_incidents(dir.path());
    let exported = dir.path().join("ours.json");
    ok(&pharos(&[
        "export",
        "stix",
        "--store",
        src.to_str().unwrap(),
        "--tlp",
        "red",
        "--out",
        exported.to_str().unwrap(),
    ]));
    let n_objects = read(&exported)["objects"].as_array().unwrap().len() as u64;

    // A partner's bundle: TLP 1.0 WHITE, a statement marking, and bad objects.
    let white = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
    let partner = json!({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [
        {"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
         "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "definition": {"tlp": "amber"}},
        {"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--a1b2c3d4-0000-4000-8000-000000000001",
         "created": "2024-01-01T00:00:00.000Z", "definition_type": "statement", "definition": {"statement": "Partner A only"}},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--a1b2c3d4-0000-4000-8000-000000000002",
         "created": "2024-03-01T10:00:00.000Z", "modified": "2024-03-01T10:00:00.000Z", "pattern_type": "stix",
         "pattern": "[url:value = 'https://blackout.example/a']", "valid_from": "2024-03-01T10:00:00Z",
         "object_marking_refs": [white, "marking-definition--a1b2c3d4-0000-4000-8000-000000000001"]},
        {"type": "attack-pattern", "spec_version": "2.1", "id": "attack-pattern--a1b2c3d4-0000-4000-8000-000000000003",
         "created": "2024-03-01T10:00:00.000Z", "modified": "2024-03-01T10:00:00.000Z", "name": "Flood Existing Hashtag",
         "external_references": [{"source_name": "mitre-attack", "external_id": "T0049.002"}],
         "object_marking_refs": ["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]},
        {"type": "user-account", "spec_version": "2.1", "id": "user-account--a1b2c3d4-0000-5000-8000-000000000004",
         "account_type": "twitter", "user_id": "777", "object_marking_refs": [white]},
        {"type": "x-partner-thing", "spec_version": "2.1", "id": "x-partner-thing--a1b2c3d4-0000-4000-8000-000000000005",
         "created": "2024-03-01T10:00:00.000Z", "modified": "2024-03-01T10:00:00.000Z"},
        {"type": "url", "spec_version": "2.1", "id": "url--a1b2c3d4-0000-5000-8000-000000000006", "value": "https://x.example",
         "object_marking_refs": ["marking-definition--00000000-0000-4000-8000-00000000dead"]},
        {"type": "incident", "spec_version": "2.1", "id": "incident--not-a-uuid", "created": "2024-03-01T10:00:00.000Z",
         "modified": "2024-03-01T10:00:00.000Z", "name": "broken"},
        "just a string"
    ]});
    let partner_f = dir.path().join("partner.json");
    std::fs::write(&partner_f, serde_json::to_vec(&partner).unwrap()).unwrap();
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, b"{not json").unwrap();

    let store = dir.path().join("mine.db");
    let st = store.to_str().unwrap();
    let out = pharos(&[
        "import",
        "stix",
        junk.to_str().unwrap(),
        partner_f.to_str().unwrap(),
        exported.to_str().unwrap(),
        "--store",
        st,
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a file could not be read: exit 1"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("junk.json") && stderr.contains("not JSON"),
        "{stderr}"
    );
    let rep: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rep["failed_files"][0]["file"], junk.to_str().unwrap());
    let files = rep["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "the other files went on");
    let p = &files[0];
    assert_eq!(p["objects"], 9);
    assert_eq!(p["added"], 5);
    assert_eq!(p["rejected"], 4);
    let why = p["rejections"].to_string();
    assert!(
        why.contains("x-partner-thing--a1b2c3d4-0000-4000-8000-000000000005")
            && why.contains("unknown object type"),
        "{why}"
    );
    assert!(
        why.contains("url--a1b2c3d4-0000-5000-8000-000000000006") && why.contains("bad marking"),
        "{why}"
    );
    assert!(
        why.contains("incident--not-a-uuid") && why.contains("malformed id"),
        "{why}"
    );
    assert!(why.contains("object #9"), "{why}");
    assert_eq!(files[1]["added"], n_objects);
    assert_eq!(files[1]["rejected"], 0);
    // Markings kept: TLP 1.0 WHITE read as CLEAR, AMBER (1.0) as amber, ours red.
    assert_eq!(rep["by_tlp"]["red"], n_objects);
    assert_eq!(rep["by_tlp"]["clear"], 2);
    assert_eq!(rep["by_tlp"]["amber"], 2);

    // The quarantine names file and object.
    let q = std::fs::read_to_string(dir.path().join("mine.quarantine.jsonl")).unwrap();
    assert_eq!(q.lines().count(), 4);
    assert!(q.contains("partner.json") && q.contains("x-partner-thing"));

    let db = SqliteStore::open(&store).unwrap();
    let kept = pharos_share::stix::stored_objects(&db, Some("indicator")).unwrap();
    assert_eq!(kept[0].tlp.as_deref(), Some("clear"));
    assert_eq!(kept[0].markings.len(), 2);
    let ap = pharos_share::stix::stored_objects(&db, Some("attack-pattern")).unwrap();
    let partner_ap = ap
        .iter()
        .find(|o| o.source.ends_with("partner.json"))
        .unwrap();
    assert_eq!(partner_ap.key.as_deref(), Some("T0049.002"));
    assert_eq!(partner_ap.tlp.as_deref(), Some("amber"));
    let accounts = pharos_share::stix::stored_objects(&db, Some("user-account")).unwrap();
    assert!(
        accounts
            .iter()
            .any(|a| a.key.as_deref() == Some("twitter:777"))
    );
    let incidents = pharos_share::stix::stored_objects(&db, Some("incident")).unwrap();
    assert_eq!(incidents.len(), 2);
    assert!(incidents.iter().all(|i| i.tlp.as_deref() == Some("red")));
    drop(db);

    // Re-import changes nothing.
    let out = pharos(&["import", "stix", exported.to_str().unwrap(), "--store", st]);
    let text = ok(&out);
    assert!(
        text.contains(&format!(
            "0 added, 0 updated, {n_objects} unchanged, 0 rejected"
        )),
        "{text}"
    );
}

#[test]
fn jsonl_export_is_unchanged_and_help_teaches_the_stix_forms() {
    let out = pharos(&["help", "export"]);
    let h = ok(&out);
    assert!(h.contains("stix") && h.contains("--format"), "{h}");
    let h = ok(&pharos(&["export", "stix", "--help"]));
    for w in [
        "--tlp",
        "--pseudonymise",
        "--incident",
        "amber+strict",
        "DISARM",
        "--out",
    ] {
        assert!(h.contains(w), "export stix --help lacks {w}");
    }
    let h = ok(&pharos(&["help", "import"]));
    assert!(h.contains("stix"), "{h}");
    let h = ok(&pharos(&["import", "stix", "--help"]));
    assert!(h.contains("quarantine") && h.contains("TLP"), "{h}");
    // `pharos export --format` keeps its meaning.
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_incidents(dir.path());
    let out = pharos(&[
        "export",
        "--format",
        "csv",
        "--store",
        store.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only jsonl"));
    let out = pharos(&[
        "export",
        "--format",
        "jsonl",
        "--store",
        store.to_str().unwrap(),
    ]);
    assert_eq!(ok(&out), "");
}
