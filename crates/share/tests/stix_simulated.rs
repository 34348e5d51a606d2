//! Incidents the assessor finds in a simulated scenario (planted campaigns
//! among organic chatter) export as sound bundles, plain and pseudonymised.
//! The bundles go to `<workspace>/target/stix-bundles/` for the OASIS
//! validator (`.ci/validate-stix`).

use pharos_assess::incident::Incident;
use pharos_assess::{AssessOptions, assess_posts};
use pharos_core::Post;
use pharos_share::Pseudonymiser;
use pharos_share::stix::check::check_bundle;
use pharos_share::stix::export::{ExportOptions, export_bundle};
use pharos_share::stix::tlp::Tlp;
use std::path::PathBuf;

fn simulated_incidents() -> Vec<Incident> {
    let cfg = pharos_sim::SimConfig::new(6_000, 7);
    let mut buf = Vec::new();
    pharos_sim::simulate(&cfg, &mut buf, &mut |_| {}).expect("simulate");
    let posts: Vec<Post> = buf
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("simulated post"))
        .collect();
    let a = assess_posts(posts, Vec::new(), &AssessOptions::default()).expect("assess");
    assert!(
        !a.incidents.is_empty(),
        "the planted campaigns give incidents"
    );
    a.incidents
}

fn bundle_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/stix-bundles"
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn simulated_incidents_export_as_sound_bundles() {
    let incidents = simulated_incidents();
    let key = Pseudonymiser::new(b"simulation key, not secret").unwrap();
    for (name, p) in [("plain", None), ("pseudonymised", Some(&key))] {
        let opts = ExportOptions {
            tlp: Tlp::Green,
            pseudonymiser: p,
            ..Default::default()
        };
        let (b, summary) = export_bundle(&incidents, &opts);
        assert_eq!(check_bundle(&b), Vec::<String>::new(), "{name}");
        assert_eq!(summary.by_type["incident"], incidents.len());
        assert_eq!(summary.by_type["report"], incidents.len());
        if incidents.iter().any(|i| !i.techniques.is_empty()) {
            assert!(
                summary
                    .by_type
                    .get("attack-pattern")
                    .is_some_and(|&n| n > 0),
                "{name}"
            );
        }
        // The simulator's channels sharing one footer are an incident of
        // their own network (DISARM T0092), its line in a note.
        let notes: Vec<&serde_json::Value> = b["objects"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| {
                o["type"] == "note"
                    && o["abstract"]
                        .as_str()
                        .is_some_and(|a| a.starts_with("Shared template (DISARM T0092"))
            })
            .collect();
        assert_eq!(notes.len(), 1, "{name}: {notes:?}");
        let content = notes[0]["content"].as_str().unwrap();
        assert!(content.contains("Правда без цензуры"), "{content}");
        let inc = incidents
            .iter()
            .find(|i| i.networks.iter().any(|n| n.template.is_some()))
            .unwrap();
        let inc_ref = pharos_share::stix::ids::sdo_id("incident", &inc.id);
        assert!(
            notes[0]["object_refs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r == &serde_json::json!(inc_ref))
        );
        assert!(
            inc.techniques.iter().any(|t| t.t_id == "T0092"),
            "{:?}",
            inc.techniques
        );
        for a in &inc
            .networks
            .iter()
            .find(|n| n.template.is_some())
            .unwrap()
            .accounts
        {
            let actor = a.split_once(':').unwrap().1;
            assert_eq!(
                content.contains(actor),
                p.is_none(),
                "{name}: account {actor} in {content}"
            );
        }
        let path = bundle_dir().join(format!("simulated-{name}.json"));
        std::fs::write(path, serde_json::to_vec_pretty(&b).unwrap()).unwrap();
    }
}

/// With the real DISARM v1.6 catalogue, every technique the assessor tags
/// exports with its DISARM name, description and tactic.
#[cfg(feature = "real-data")]
#[test]
fn simulated_incidents_with_the_disarm_catalogue() {
    let data = match std::env::var_os("PHAROS_DATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
    };
    let file = data.join("disarm/DISARM.json");
    assert!(file.exists(), "missing DISARM bundle {}", file.display());
    let cat = pharos_assess::disarm::Catalogue::load(&file).unwrap();
    let incidents = simulated_incidents();
    let opts = ExportOptions {
        tlp: Tlp::Clear,
        catalogue: Some(&cat),
        ..Default::default()
    };
    let (b, _) = export_bundle(&incidents, &opts);
    assert_eq!(check_bundle(&b), Vec::<String>::new());
    let aps: Vec<&serde_json::Value> = b["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] == "attack-pattern")
        .collect();
    assert!(!aps.is_empty());
    for ap in aps {
        let t = cat
            .get(ap["x_mitre_id"].as_str().unwrap())
            .expect("a DISARM technique");
        assert_eq!(ap["name"], t.name.as_str());
        assert_eq!(ap["description"], t.description.as_deref().unwrap());
        let phase = cat.tactic(&t.tactic_ids[0]).unwrap().shortname.as_str();
        assert_eq!(ap["kill_chain_phases"][0]["phase_name"], phase);
    }
    let path = bundle_dir().join("simulated-disarm-clear.json");
    std::fs::write(path, serde_json::to_vec_pretty(&b).unwrap()).unwrap();
}
