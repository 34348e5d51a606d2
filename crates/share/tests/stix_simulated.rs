//! Incidents the assessor finds in a simulated scenario (planted campaigns
//! among organic chatter) export as sound bundles, plain and pseudonymised.
//! The bundles go to `<workspace>/target/stix-bundles/` for the OASIS
//! validator (`.ci/validate-stix`).

use pharos_assess::{AssessOptions, assess_posts};
use pharos_core::Post;
use pharos_share::Pseudonymiser;
use pharos_share::stix::check::check_bundle;
use pharos_share::stix::export::{ExportOptions, export_bundle};
use pharos_share::stix::tlp::Tlp;
use std::path::PathBuf;

#[test]
fn simulated_incidents_export_as_sound_bundles() {
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
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/stix-bundles"
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let key = Pseudonymiser::new(b"simulation key, not secret").unwrap();
    for (name, p) in [("plain", None), ("pseudonymised", Some(&key))] {
        let opts = ExportOptions {
            tlp: Tlp::Green,
            pseudonymiser: p,
            ..Default::default()
        };
        let (b, summary) = export_bundle(&a.incidents, &opts);
        assert_eq!(check_bundle(&b), Vec::<String>::new(), "{name}");
        assert_eq!(summary.by_type["incident"], a.incidents.len());
        assert_eq!(summary.by_type["report"], a.incidents.len());
        let tagged = a
            .incidents
            .iter()
            .filter(|i| !i.techniques.is_empty())
            .count();
        if tagged > 0 {
            assert!(
                summary
                    .by_type
                    .get("attack-pattern")
                    .is_some_and(|&n| n > 0),
                "{name}"
            );
        }
        std::fs::write(
            dir.join(format!("simulated-{name}.json")),
            serde_json::to_vec_pretty(&b).unwrap(),
        )
        .unwrap();
    }
}
