//! DISARM v1.6 (real data): the STIX bundle the DISARM Foundation publishes
//! reads into 391 techniques and 16 tactics, and every technique Pharos says
//! it can observe exists in it under the same T-number, name and tactic.
//!
//! `cargo test -p pharos-assess --features real-data --test disarm_real_data`
#![cfg(feature = "real-data")]

use pharos_assess::disarm::{
    Catalogue, OBSERVABLE, Signal, TACTICS, load_from_store, observable, save_to_store,
};
use std::path::PathBuf;

fn data_dir() -> PathBuf {
    match std::env::var_os("PHAROS_DATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
    }
}

fn bundle_path() -> PathBuf {
    let p = data_dir().join("disarm/DISARM.json");
    assert!(p.exists(), "missing DISARM bundle {}", p.display());
    p
}

fn catalogue() -> Catalogue {
    let p = bundle_path();
    Catalogue::load(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn v1_6_has_391_techniques_and_16_tactics() {
    let cat = catalogue();
    assert_eq!(cat.techniques().len(), 391);
    assert_eq!(cat.tactics().len(), 16);
    assert!(cat.skipped().is_empty(), "{:?}", cat.skipped());
    // Every technique sits under exactly one tactic in v1.6.
    for t in cat.techniques() {
        assert_eq!(t.tactic_ids.len(), 1, "{}", t.t_id);
        assert_eq!(t.tactic_names.len(), 1, "{}", t.t_id);
    }
    let t = cat.get("T0049.002").unwrap();
    assert_eq!(t.name, "Flood Existing Hashtag");
    assert_eq!(t.tactic_ids, ["TA17"]);
    assert_eq!(t.tactic_names, ["Maximise Exposure"]);
    assert!(t.description.as_deref().unwrap_or("").contains("hashtag"));
    assert_eq!(cat.tactic("TA01").unwrap().name, "Plan Strategy");
    // Sub-techniques have their parent in the catalogue.
    for t in cat.techniques() {
        if let Some(p) = t.parent_id() {
            assert!(cat.get(p).is_some(), "{} has no parent {p}", t.t_id);
        }
    }
}

#[test]
fn every_observable_technique_is_in_the_bundle_with_its_name_and_tactic() {
    let cat = catalogue();
    for o in OBSERVABLE {
        let t = cat
            .get(o.t_id)
            .unwrap_or_else(|| panic!("{} ({}) is not in DISARM v1.6", o.t_id, o.name));
        assert_eq!(t.name, o.name, "{}", o.t_id);
        assert_eq!(t.tactic_ids, [o.tactic_id], "{} {}", o.t_id, o.name);
    }
    for &s in Signal::ALL {
        assert!(!observable(s).is_empty(), "{s}");
    }
}

#[test]
fn the_built_in_tactic_table_matches_the_bundle() {
    let cat = catalogue();
    let from_bundle: Vec<(String, String, String)> = cat
        .tactics()
        .map(|t| (t.ta_id.clone(), t.name.clone(), t.shortname.clone()))
        .collect();
    let built_in: Vec<(String, String, String)> = TACTICS
        .iter()
        .map(|&(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(built_in, from_bundle);
}

#[test]
fn the_bundle_round_trips_through_the_store() {
    let cat = catalogue();
    let dir = tempfile::tempdir().unwrap();
    let mut store = pharos_store::SqliteStore::open(dir.path().join("p.db")).unwrap();
    let c = save_to_store(&mut store, &cat, "DISARM.json").unwrap();
    assert_eq!((c.added, c.tactics, c.stored), (391, 16, 391));
    let c = save_to_store(&mut store, &cat, "DISARM.json").unwrap();
    assert_eq!(
        (c.added, c.updated, c.unchanged, c.stored),
        (0, 0, 391, 391)
    );
    let back = load_from_store(&store).unwrap().unwrap();
    assert_eq!(back.techniques().len(), 391);
    assert_eq!(back.get("T0084.001"), cat.get("T0084.001"));
}
