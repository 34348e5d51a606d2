//! STIX import into the store: versioning, markings, rejections.

use pharos_share::stix::import::{Importer, stored_objects};
use pharos_store::AnyStore;
use serde_json::{Value, json};

const WHITE: &str = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
const AMBER2: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";

fn bundle(objects: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": objects})).unwrap()
}

fn incident(modified: &str, name: &str, marking: &str) -> Value {
    json!({"type": "incident", "spec_version": "2.1", "id": "incident--0b0a5c3e-33a5-4b8e-9a3c-7b9f0e6f2a11",
           "created": "2024-05-01T00:00:00.000Z", "modified": modified, "name": name,
           "object_marking_refs": [marking]})
}

#[test]
fn later_versions_replace_earlier_ones_and_never_the_reverse() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = AnyStore::open(dir.path().join("s.db")).unwrap();
    let mut imp = Importer::new(&mut store).unwrap();
    let r = imp
        .import_bytes(
            &bundle(vec![incident("2024-05-01T00:00:00.000Z", "v1", WHITE)]),
            "a.json",
        )
        .unwrap();
    assert_eq!((r.added, r.updated, r.unchanged), (1, 0, 0));
    let r = imp
        .import_bytes(
            &bundle(vec![incident("2024-05-02T00:00:00.000Z", "v2", AMBER2)]),
            "b.json",
        )
        .unwrap();
    assert_eq!((r.added, r.updated, r.unchanged), (0, 1, 0));
    let r = imp
        .import_bytes(
            &bundle(vec![incident("2024-04-30T00:00:00.000Z", "v0", WHITE)]),
            "c.json",
        )
        .unwrap();
    assert_eq!((r.added, r.updated, r.unchanged), (0, 0, 1));
    let totals = imp.finish().unwrap();
    assert_eq!((totals.added, totals.updated, totals.unchanged), (1, 1, 1));
    let kept = stored_objects(&store, Some("incident")).unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].name.as_deref(), Some("v2"));
    assert_eq!(kept[0].tlp.as_deref(), Some("amber"));
    assert_eq!(kept[0].source, "b.json");
    assert_eq!(kept[0].object["name"], "v2");
}

#[test]
fn markings_that_contradict_their_id_or_are_unknown_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = AnyStore::open(dir.path().join("s.db")).unwrap();
    let mut imp = Importer::new(&mut store).unwrap();
    let lying = json!({"type": "marking-definition", "spec_version": "2.1", "id": AMBER2, "created": "2022-10-01T00:00:00.000Z",
        "name": "TLP:CLEAR", "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":
        {"extension_type": "property-extension", "tlp_2_0": "clear"}}});
    let mut i2 = incident(
        "2024-05-01T00:00:00.000Z",
        "x",
        "marking-definition--3f5e7a2c-1111-4222-8333-944455556666",
    );
    i2["id"] = json!("incident--1b0a5c3e-33a5-4b8e-9a3c-7b9f0e6f2a11");
    let mut i3 = incident("yesterday", "y", WHITE);
    i3["id"] = json!("incident--2b0a5c3e-33a5-4b8e-9a3c-7b9f0e6f2a11");
    let ok = incident("2024-05-01T00:00:00.000Z", "fine", WHITE);
    let r = imp
        .import_bytes(&bundle(vec![lying, i2, i3, ok]), "p.json")
        .unwrap();
    assert_eq!((r.added, r.rejected), (1, 3), "{:?}", r.rejections);
    assert!(
        r.rejections[0].contains(AMBER2) && r.rejections[0].contains("TLP:AMBER"),
        "{:?}",
        r.rejections
    );
    assert!(
        r.rejections[1].contains("neither a TLP marking nor defined"),
        "{:?}",
        r.rejections
    );
    assert!(
        r.rejections[2].contains("bad timestamp \"yesterday\""),
        "{:?}",
        r.rejections
    );
    let q = std::fs::read_to_string(imp.quarantine_path()).unwrap();
    assert_eq!(q.lines().count(), 3);
    let first: Value = serde_json::from_str(q.lines().next().unwrap()).unwrap();
    assert_eq!(first["file"], "p.json");
    assert_eq!(first["record"], 1);
    // Not a bundle: the whole file is refused, naming it.
    let e = imp
        .import_bytes(br#"{"type":"indicator"}"#, "q.json")
        .unwrap_err();
    assert!(
        e.to_string().contains("q.json") && e.to_string().contains("not a STIX bundle"),
        "{e}"
    );
}

/// Issue 14: a bundle whose rejected objects cannot be quarantined is not
/// imported: no answer claims an object quarantined that is not on disk,
/// and the kept objects are not stored without their bundle's rejections.
#[test]
fn a_quarantine_that_cannot_be_written_stores_nothing_of_the_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut store = AnyStore::open(&path).unwrap();
    // A directory where the quarantine file would be: it cannot be opened.
    std::fs::create_dir(store.quarantine_path()).unwrap();
    let mut bad = incident("yesterday", "y", WHITE);
    bad["id"] = json!("incident--2b0a5c3e-33a5-4b8e-9a3c-7b9f0e6f2a11");
    let ok = incident("2024-05-01T00:00:00.000Z", "fine", WHITE);
    {
        let mut imp = Importer::new(&mut store).unwrap();
        let e = imp
            .import_bytes(&bundle(vec![bad.clone(), ok.clone()]), "p.json")
            .unwrap_err();
        assert!(e.to_string().contains("quarantine"), "{e}");
        assert_eq!(imp.totals().added, 0);
    }
    assert!(
        stored_objects(&store, None).unwrap().is_empty(),
        "the kept object was stored though its bundle's rejection is in no quarantine"
    );
    // Once the quarantine can be written, the same bundle goes in whole.
    std::fs::remove_dir(store.quarantine_path()).unwrap();
    let mut imp = Importer::new(&mut store).unwrap();
    let r = imp.import_bytes(&bundle(vec![bad, ok]), "p.json").unwrap();
    assert_eq!((r.added, r.rejected), (1, 1), "{:?}", r.rejections);
    let q = std::fs::read_to_string(imp.quarantine_path()).unwrap();
    assert_eq!(q.lines().count(), 1);
}
