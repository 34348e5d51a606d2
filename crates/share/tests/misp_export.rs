//! Incidents the assessor finds in a simulated scenario export as MISP
//! events: one per incident, TLP and DISARM galaxy tags, objects with
//! known templates, stable UUIDs, and a feed folder MISP can poll. The
//! events file goes to `<workspace>/target/misp-events/` for `.ci/share`
//! (PyMISP loads it there).

use pharos_assess::{AssessOptions, assess_posts};
use pharos_core::Post;
use pharos_share::misp::{MispOptions, disarm_tag, events, tlp_tag, write_feed};
use pharos_share::stix::tlp::Tlp;
use serde_json::Value;
use std::collections::HashSet;

#[test]
fn simulated_incidents_export_as_misp_events() {
    let cfg = pharos_sim::SimConfig::new(6_000, 7);
    let mut buf = Vec::new();
    pharos_sim::simulate(&cfg, &mut buf, &mut |_| {}).expect("simulate");
    let posts: Vec<Post> = buf
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("simulated post"))
        .collect();
    let incidents = assess_posts(posts, Vec::new(), &AssessOptions::default())
        .expect("assess")
        .incidents;
    assert!(!incidents.is_empty());
    let opts = MispOptions {
        tlp: Tlp::Green,
        ..Default::default()
    };
    let v = events(&incidents, &opts);
    assert_eq!(
        v,
        events(&incidents, &opts),
        "the same incidents, the same events"
    );
    let list = v["response"].as_array().unwrap();
    assert_eq!(list.len(), incidents.len(), "an event per incident");
    let mut uuids = HashSet::new();
    for (e, inc) in list.iter().zip(&incidents) {
        let ev = &e["Event"];
        assert!(uuids.insert(ev["uuid"].as_str().unwrap().to_string()));
        let tags: Vec<&str> = ev["Tag"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert!(tags.contains(&tlp_tag(Tlp::Green)));
        for t in &inc.techniques {
            assert!(tags.contains(&disarm_tag(&t.name).as_str()), "{}", t.t_id);
        }
        let objects = ev["Object"].as_array().unwrap();
        let named = |n: &str| objects.iter().filter(|o| o["name"] == n).count();
        assert_eq!(named("user-account"), inc.actors.len());
        assert_eq!(named("attack-pattern"), inc.techniques.len());
        assert!(named("microblog") > 0, "posts of the evidence sample");
        let urls: Vec<&Value> = ev["Attribute"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["type"] == "url")
            .collect();
        assert_eq!(
            urls.len(),
            inc.links.iter().filter(|l| !l.key.is_empty()).count()
        );
        // Every attribute and object has its own UUID.
        let mut seen = HashSet::new();
        for o in objects {
            assert!(seen.insert(o["uuid"].as_str().unwrap().to_string()));
            for a in o["Attribute"].as_array().unwrap() {
                assert!(seen.insert(a["uuid"].as_str().unwrap().to_string()));
            }
        }
    }
    let dir = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/misp-events"
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("simulated.json"),
        serde_json::to_vec_pretty(&v).unwrap(),
    )
    .unwrap();
    let feed = tempfile::tempdir().unwrap();
    assert_eq!(write_feed(feed.path(), &v).unwrap(), incidents.len());
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(feed.path().join("manifest.json")).unwrap()).unwrap();
    for u in &uuids {
        assert!(manifest.get(u).is_some());
        assert!(feed.path().join(format!("{u}.json")).exists());
    }
}
