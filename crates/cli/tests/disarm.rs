//! `pharos disarm import|list|show` through the binary.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::run as pharos;

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A release in DISARM's shape; `flood` names T0049 (a later release renames it).
fn bundle(dir: &Path, name: &str, flood: &str) -> PathBuf {
    let b = format!(
        r#"{{"type":"bundle","id":"bundle--1","objects":[
  {{"type":"x-mitre-tactic","id":"x-mitre-tactic--a","name":"Maximise Exposure","x_mitre_shortname":"maximise-exposure",
    "external_references":[{{"source_name":"DISARM","external_id":"TA17"}}]}},
  {{"type":"attack-pattern","id":"attack-pattern--{name}-1","name":"{flood}","description":"Flooding sources of information.",
    "kill_chain_phases":[{{"kill_chain_name":"mitre-attack","phase_name":"maximise-exposure"}}],
    "external_references":[{{"source_name":"mitre-attack","external_id":"T0049"}}]}},
  {{"type":"attack-pattern","id":"attack-pattern--{name}-2","name":"Flood Existing Hashtag",
    "kill_chain_phases":[{{"kill_chain_name":"mitre-attack","phase_name":"maximise-exposure"}}],
    "external_references":[{{"source_name":"mitre-attack","external_id":"T0049.002"}}]}}
]}}"#
    );
    let p = dir.join(name);
    std::fs::write(&p, b).unwrap();
    p
}

#[test]
fn import_replaces_by_t_number_and_show_names_the_signals() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("p.db");
    let s = store.to_str().unwrap();
    let v1 = bundle(dir.path(), "v1.json", "Flood Information Space");
    let out = stdout(&pharos(&[
        "disarm",
        "import",
        v1.to_str().unwrap(),
        "--store",
        s,
        "--json",
    ]));
    let j: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (
            j["techniques"].as_u64(),
            j["tactics"].as_u64(),
            j["added"].as_u64()
        ),
        (Some(2), Some(1), Some(2))
    );

    // New release: other STIX ids, T0049 renamed; replaced by T-number.
    let v2 = bundle(dir.path(), "v2.json", "Flood the Information Space");
    let out = stdout(&pharos(&[
        "disarm",
        "import",
        v2.to_str().unwrap(),
        "--store",
        s,
    ]));
    assert!(
        out.contains("0 added, 1 updated, 1 unchanged; 2 techniques"),
        "{out}"
    );

    let show = stdout(&pharos(&["disarm", "show", "T0049.002", "--store", s]));
    assert!(show.contains("T0049.002 Flood Existing Hashtag"), "{show}");
    assert!(show.contains("tactic: TA17 Maximise Exposure"), "{show}");
    assert!(
        show.contains("sub-technique of: T0049 Flood the Information Space"),
        "{show}"
    );
    assert!(show.contains("hashtag-flood"), "{show}");

    let list = stdout(&pharos(&[
        "disarm", "list", "--tactic", "TA17", "--store", s,
    ]));
    assert_eq!(list.lines().count(), 2, "{list}");
    let out = pharos(&["disarm", "list", "--tactic", "TA99", "--store", s]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("TA17"));
}

#[test]
fn bad_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("p.db");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, b"{\"type\":\"bundle\",\"objects\":[").unwrap();
    let out = pharos(&[
        "disarm",
        "import",
        bad.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("bad.json") && e.contains("not JSON"), "{e}");
    let out = pharos(&["disarm", "show", "TA17", "--store", store.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a DISARM T-number"));
    // Without an import: the built-in table still answers.
    let list = stdout(&pharos(&[
        "disarm",
        "list",
        "--observable",
        "--store",
        store.to_str().unwrap(),
    ]));
    assert!(
        list.contains("T0084.001") && list.contains("copy-paste-flood"),
        "{list}"
    );
    let out = pharos(&["disarm", "list", "--store", store.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("pharos disarm import"));
}

#[cfg(feature = "real-data")]
#[test]
fn the_v1_6_bundle_imports_391_techniques() {
    let data = match std::env::var_os("PHAROS_DATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
    };
    let file = data.join("disarm/DISARM.json");
    assert!(file.exists(), "missing DISARM bundle {}", file.display());
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("p.db");
    let s = store.to_str().unwrap();
    let out = pharos(&["disarm", "import", file.to_str().unwrap(), "--store", s]);
    let text = stdout(&out);
    assert!(
        text.contains("391 techniques, 16 tactics (391 added, 0 updated, 0 unchanged"),
        "{text}"
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("lacks or renames"));
    let text = stdout(&pharos(&[
        "disarm",
        "import",
        file.to_str().unwrap(),
        "--store",
        s,
    ]));
    assert!(
        text.contains("(0 added, 0 updated, 391 unchanged"),
        "{text}"
    );
    let show = stdout(&pharos(&["disarm", "show", "T0084.001", "--store", s]));
    assert!(
        show.contains("Use Copypasta") && show.contains("TA06 Develop Content"),
        "{show}"
    );
}
