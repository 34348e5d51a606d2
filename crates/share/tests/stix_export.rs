//! STIX export: what a partner receives for an incident.
//!
//! Each test writes its bundle to `<workspace>/target/stix-bundles/`, where
//! `.ci/validate-stix` runs the OASIS validator over them.

use pharos_assess::incident::Incident;
use pharos_share::Pseudonymiser;
use pharos_share::stix::check::check_bundle;
use pharos_share::stix::export::{
    ExportOptions, OPENCTI_EXTENSION, OpenCtiTypes, export_bundle, extension_id,
};
use pharos_share::stix::ids::parse_id;
use pharos_share::stix::tlp::{TLP2_EXTENSION, Tlp};
use serde_json::{Value, json};
use std::path::PathBuf;

fn bundle_dir() -> PathBuf {
    let d = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/stix-bundles"
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(name: &str, b: &Value) {
    let p = bundle_dir().join(name);
    std::fs::write(&p, serde_json::to_vec_pretty(b).unwrap()).unwrap();
}

/// An incident as the assessor writes it: a narrative pushed by a
/// coordinated network on two platforms, with three DISARM techniques.
fn incident(n: u32) -> Incident {
    let t0 = 1_700_000_000_000i64 + n as i64 * 86_400_000;
    let t = |s: i64| pharos_core::EventTime::from_millis(t0 + s * 1000).to_rfc3339();
    serde_json::from_value(json!({
        "id": format!("inc-00000000000000{n:02}"),
        "title": format!("EU will ration power this winter #{n}"),
        "summary": "18 accounts, 12 of them in one coordination network led by @PowerTruth, pushed the power-rationing claim on twitter and telegram within 2 hours; it matches a claim fact-checkers rated false.",
        "first_seen": t(0),
        "last_seen": t(7200),
        "timeline": {"bucket_s": 3600, "start": t(0), "series": [
            {"platform": "twitter", "posts": [30, 10]},
            {"platform": "telegram", "posts": [5, 3]}]},
        "severity": {"value": 0.62, "terms": [
            {"name": "reach", "value": 0.5, "weight": 0.4, "contribution": 0.2, "explanation": "48 posts by 18 accounts", "evidence": ["account:twitter:101"]},
            {"name": "velocity", "value": 0.7, "weight": 0.6, "contribution": 0.42, "explanation": "30 posts in the first hour"}]},
        "confidence": {"value": 0.8, "terms": [
            {"name": "coordination", "value": 0.8, "weight": 1.0, "contribution": 0.8, "explanation": "12 accounts posted within 10 s of each other, 9 times", "evidence": ["network:1"]}]},
        "abcde": {
            "actor": {"statement": "A network of 12 accounts around @PowerTruth (twitter:101).", "evidence": ["network:1", "account:twitter:101"]},
            "behaviour": {"statement": "Copy-pasted posts within seconds; a reshare ring.", "evidence": ["family:7"]},
            "content": {"statement": "Claims the EU will ration power; links to power-news.example.", "evidence": ["narrative:3"]},
            "degree": {"statement": "48 posts, 18 accounts, 2 platforms, 2 languages, 2 hours.", "evidence": []},
            "effect": {"statement": "Matches a claim rated false by two fact-checkers.", "evidence": ["match:c1"]}
        },
        "techniques": [
            {"t_id": "T0049.005", "name": "Conduct Swarming", "tactic_id": "TA17", "signal": "coordinated-network",
             "shown_by": "network 1: 12 accounts posting within 10 s, led by @PowerTruth", "evidence": ["network:1", "post:twitter:9001"]},
            {"t_id": "T0084.001", "name": "Use Copypasta", "signal": "copy-paste-flood",
             "shown_by": "family 7: the same text posted 20 times", "evidence": ["family:7"]},
            {"t_id": "T0084", "name": "Reuse Existing Content", "tactic_id": "TA06", "signal": "recycled-debunked-claim",
             "shown_by": "posts match claim c1, rated false", "evidence": ["match:c1"]}
        ],
        "narratives": [{"id": "narrative:3", "label": "ration · power · winter", "terms": ["ration", "power", "winter"],
            "representative": "twitter:9001", "representative_text": "The EU will ration power this winter, says @PowerTruth", "posts": 40,
            "families": [{"key": "family:7", "posts": 20}]}],
        "networks": [{"id": "network:1", "kind": "co-tweet", "accounts": ["twitter:101", "twitter:102"],
            "edges": [{"from": "twitter:101", "to": "twitter:102", "weight": 9.0}], "density": 1.0,
            "median_time_delta_s": 4.0, "coordinated_posts": 18}],
        "alerts": [],
        "claim_matches": [{"id": "match:c1", "claim_id": "c1", "claim_text": "The EU will ration power", "verdicts": ["false"],
            "confidence": 0.9, "posts": ["twitter:9001"]}],
        "actors": [
            {"id": "account:twitter:101", "platform": "twitter", "actor_id": "101", "handle": "PowerTruth", "posts": 12, "coordinated": true, "networks": ["network:1"]},
            {"id": "account:twitter:102", "platform": "twitter", "actor_id": "102", "handle": "gridwatch_eu", "posts": 9, "coordinated": true, "inauthenticity": 0.8},
            {"id": "account:telegram:-1009", "platform": "telegram", "actor_id": "-1009", "handle": "powerchan", "posts": 8, "coordinated": false}
        ],
        "links": [{"key": "https://power-news.example/ration", "posts": 20}],
        "domains": [{"key": "power-news.example", "posts": 20}],
        "hashtags": [{"key": "blackout", "posts": 15}],
        "platforms": {"twitter": 40, "telegram": 8},
        "languages": {"en": 40, "de": 8},
        "posts": ["twitter:9001", "twitter:9002", "telegram:5"],
        "evidence": [{"id": "post:twitter:9001", "kind": "post", "label": "first post", "platform": "twitter",
            "time": t(0), "account": "account:twitter:101", "text": "The EU will ration power this winter"}]
    }))
    .expect("the sample incident matches the incident model")
}

fn objects_of<'a>(b: &'a Value, ty: &str) -> Vec<&'a Value> {
    b["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] == ty)
        .collect()
}

fn by_id<'a>(b: &'a Value, id: &str) -> &'a Value {
    b["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == id)
        .unwrap_or_else(|| panic!("{id} missing"))
}

#[test]
fn an_incident_becomes_a_sound_bundle_with_every_required_object() {
    let opts = ExportOptions {
        tlp: Tlp::Amber,
        ..Default::default()
    };
    let (b, summary) = export_bundle(&[incident(1)], &opts);
    write("incident-amber.json", &b);
    assert_eq!(check_bundle(&b), Vec::<String>::new());
    for ty in [
        "identity",
        "marking-definition",
        "extension-definition",
        "incident",
        "campaign",
        "attack-pattern",
        "relationship",
        "x-opencti-narrative",
        "x-opencti-channel",
        "user-account",
        "url",
        "domain-name",
        "observed-data",
        "sighting",
        "note",
        "report",
    ] {
        assert!(
            summary.by_type.contains_key(ty),
            "no {ty} in {:?}",
            summary.by_type
        );
    }
    assert_eq!(summary.by_type["attack-pattern"], 3);
    assert_eq!(summary.by_type["user-account"], 3);

    // The TLP 2.0 marking-definition exactly as OASIS publishes it.
    let md = objects_of(&b, "marking-definition");
    assert_eq!(md.len(), 1);
    assert_eq!(
        md[0]["id"],
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    );
    assert_eq!(md[0]["name"], "TLP:AMBER");
    assert_eq!(md[0]["extensions"][TLP2_EXTENSION]["tlp_2_0"], "amber");

    // Attack-patterns: DISARM and mitre-attack references, disarm kill chain.
    let ap = objects_of(&b, "attack-pattern");
    let swarm = ap.iter().find(|a| a["name"] == "Conduct Swarming").unwrap();
    let refs = swarm["external_references"].as_array().unwrap();
    assert!(
        refs.iter()
            .any(|r| r["source_name"] == "DISARM" && r["external_id"] == "T0049.005")
    );
    assert!(
        refs.iter()
            .any(|r| r["source_name"] == "mitre-attack" && r["external_id"] == "T0049.005")
    );
    assert_eq!(swarm["kill_chain_phases"][0]["kill_chain_name"], "disarm");
    assert_eq!(
        swarm["kill_chain_phases"][0]["phase_name"],
        "maximise-exposure"
    );
    // A tag without a tactic gets it from the built-in table.
    let copypasta = ap.iter().find(|a| a["name"] == "Use Copypasta").unwrap();
    assert_eq!(
        copypasta["kill_chain_phases"][0]["phase_name"],
        "develop-content"
    );

    // The campaign uses every technique; the incident is attributed to it.
    let campaign = objects_of(&b, "campaign")[0];
    let incident_o = objects_of(&b, "incident")[0];
    let rels = objects_of(&b, "relationship");
    for a in &ap {
        assert!(
            rels.iter().any(|r| r["relationship_type"] == "uses"
                && r["source_ref"] == campaign["id"]
                && r["target_ref"] == a["id"]),
            "{}",
            a["name"]
        );
    }
    assert!(
        rels.iter()
            .any(|r| r["relationship_type"] == "attributed-to"
                && r["source_ref"] == incident_o["id"]
                && r["target_ref"] == campaign["id"])
    );

    // The richer fields live under the Pharos extension, which the bundle defines.
    let ext = &incident_o["extensions"][extension_id()];
    assert_eq!(ext["extension_type"], "property-extension");
    assert_eq!(ext["pharos_incident_id"], "inc-0000000000000001");
    assert_eq!(ext["severity"], 0.62);
    assert_eq!(ext["abcde"]["actor"]["evidence"][0], "network:1");
    assert_eq!(ext["techniques"][0]["evidence"][1], "post:twitter:9001");
    assert_eq!(ext["timeline"]["posts"], json!([35, 13]));
    assert_eq!(
        ext["kill_chain_phases"],
        json!([{"kill_chain_name": "disarm", "phase_name": "develop-content"},
               {"kill_chain_name": "disarm", "phase_name": "maximise-exposure"}])
    );
    assert_eq!(
        by_id(&b, &extension_id())["extension_types"],
        json!(["property-extension"])
    );
    assert_eq!(incident_o["confidence"], 80);

    // OpenCTI narrative: new-sdo extension, id over the lower-cased name.
    let nar = objects_of(&b, "x-opencti-narrative")[0];
    assert_eq!(
        nar["extensions"][OPENCTI_EXTENSION]["extension_type"],
        "new-sdo"
    );
    assert_eq!(
        nar["id"],
        pharos_share::stix::ids::opencti_name_id("x-opencti-narrative", "RATION · POWER · WINTER")
    );

    // Observables: SCO ids are UUIDv5; Twitter accounts carry the STIX
    // account type, others a platform-qualified user id.
    for o in objects_of(&b, "user-account")
        .iter()
        .chain(objects_of(&b, "url").iter())
    {
        assert_eq!(
            parse_id(o["id"].as_str().unwrap())
                .unwrap()
                .1
                .get_version_num(),
            5
        );
    }
    let accts = objects_of(&b, "user-account");
    assert!(accts.iter().any(|a| a["account_type"] == "twitter"
        && a["user_id"] == "101"
        && a["account_login"] == "PowerTruth"));
    assert!(
        accts
            .iter()
            .any(|a| a.get("account_type").is_none() && a["user_id"] == "telegram:-1009")
    );
    let od = objects_of(&b, "observed-data")[0];
    assert_eq!(od["object_refs"].as_array().unwrap().len(), 5);
    assert_eq!(od["number_observed"], 3);

    // Sightings are by the producer; the report holds everything.
    let producer = objects_of(&b, "identity")[0]["id"].clone();
    for s in objects_of(&b, "sighting") {
        assert_eq!(s["where_sighted_refs"], json!([producer]));
        assert_eq!(s["observed_data_refs"], json!([od["id"]]));
    }
    assert_eq!(objects_of(&b, "sighting").len(), 4);
    let report = objects_of(&b, "report")[0];
    let held: Vec<&str> = report["object_refs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for o in b["objects"].as_array().unwrap() {
        let ty = o["type"].as_str().unwrap();
        if !matches!(ty, "report" | "marking-definition" | "extension-definition") {
            assert!(
                held.contains(&o["id"].as_str().unwrap()),
                "report misses {}",
                o["id"]
            );
        }
    }
    // Timestamps: event times of the incident, with milliseconds.
    assert_eq!(incident_o["created"], "2023-11-15T22:13:20.000Z");
    assert_eq!(incident_o["modified"], "2023-11-16T00:13:20.000Z");
    let note = objects_of(&b, "note")[0];
    assert!(
        note["content"]
            .as_str()
            .unwrap()
            .contains("T0049.005 Conduct Swarming")
    );
}

#[test]
fn the_same_incidents_give_the_same_bundle_and_each_tlp_its_marking() {
    let incs = [incident(1), incident(2)];
    let opts = ExportOptions {
        tlp: Tlp::Green,
        ..Default::default()
    };
    let (a, _) = export_bundle(&incs, &opts);
    let (b, _) = export_bundle(&incs, &opts);
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    write("two-incidents-green.json", &a);
    assert_eq!(check_bundle(&a), Vec::<String>::new());
    assert_eq!(objects_of(&a, "incident").len(), 2);
    assert_eq!(objects_of(&a, "report").len(), 2);
    // Shared techniques appear once.
    assert_eq!(objects_of(&a, "attack-pattern").len(), 3);

    for tlp in Tlp::ALL {
        let (b, _) = export_bundle(
            &incs[..1],
            &ExportOptions {
                tlp,
                ..Default::default()
            },
        );
        assert_eq!(check_bundle(&b), Vec::<String>::new(), "{tlp}");
        for o in b["objects"].as_array().unwrap() {
            if o["type"] != "marking-definition" {
                assert_eq!(
                    o["object_marking_refs"],
                    json!([tlp.marking_id()]),
                    "{}",
                    o["id"]
                );
            }
        }
        write(
            &format!("incident-{}.json", tlp.as_str().replace('+', "-")),
            &b,
        );
    }
    let (c, _) = export_bundle(
        &incs[..1],
        &ExportOptions {
            tlp: Tlp::Red,
            ..Default::default()
        },
    );
    assert_ne!(a["id"], c["id"]);
}

#[test]
fn pseudonymised_exports_carry_no_account_identifier() {
    let key = Pseudonymiser::new(b"a key of sixteen bytes or more").unwrap();
    let opts = ExportOptions {
        tlp: Tlp::AmberStrict,
        pseudonymiser: Some(&key),
        ..Default::default()
    };
    let (b, _) = export_bundle(&[incident(1)], &opts);
    write("incident-pseudonymised.json", &b);
    assert_eq!(check_bundle(&b), Vec::<String>::new());
    let text = serde_json::to_string(&b).unwrap().to_lowercase();
    for secret in [
        "powertruth",
        "gridwatch_eu",
        "powerchan",
        "twitter:101",
        "\"101\"",
        "-1009",
        "9001",
    ] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
    // Partners can still correlate: the pseudonym is the same in every export with the key.
    let ps = key.account("twitter", "101");
    assert!(text.contains(&ps));
    let accts = objects_of(&b, "user-account");
    assert!(accts.iter().any(|a| a["user_id"] == ps
        && a["account_type"] == "twitter"
        && a.get("account_login").is_none()));
    // The key itself is not in the bundle.
    assert!(!text.contains("a key of sixteen"));
    let (again, _) = export_bundle(&[incident(1)], &opts);
    assert_eq!(b, again);
}

#[test]
fn empty_lists_never_reach_the_bundle() {
    let mut inc = incident(3);
    inc.severity.terms.clear();
    inc.confidence.terms.clear();
    inc.techniques.clear();
    inc.narratives.clear();
    inc.links.clear();
    inc.domains.clear();
    inc.actors.clear();
    inc.abcde.degree.evidence.clear();
    let (b, summary) = export_bundle(&[inc], &ExportOptions::default());
    write("incident-sparse.json", &b);
    assert_eq!(check_bundle(&b), Vec::<String>::new());
    // Without observables there is no observed-data, and sightings do not point to one.
    assert!(!summary.by_type.contains_key("observed-data"));
    assert!(!summary.by_type.contains_key("attack-pattern"));
    assert_eq!(objects_of(&b, "sighting").len(), 1);
    let ext = &objects_of(&b, "incident")[0]["extensions"][extension_id()];
    assert!(ext.get("severity_terms").is_none());
    assert_eq!(
        ext["abcde"]["degree"]["statement"],
        "48 posts, 18 accounts, 2 platforms, 2 languages, 2 hours."
    );
}

#[test]
fn the_stored_disarm_catalogue_names_and_describes_techniques() {
    let cat = pharos_assess::disarm::Catalogue::from_bundle_json(
        br#"{"type":"bundle","objects":[
          {"type":"x-mitre-tactic","id":"x-mitre-tactic--a","name":"Develop Content","x_mitre_shortname":"develop-content",
           "external_references":[{"source_name":"DISARM","external_id":"TA06"}]},
          {"type":"attack-pattern","id":"attack-pattern--b","name":"Use Copypasta","description":"Copied and pasted text.",
           "kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"develop-content"}],
           "external_references":[{"source_name":"mitre-attack","external_id":"T0084.001"}]}]}"#,
    )
    .unwrap();
    let opts = ExportOptions {
        catalogue: Some(&cat),
        ..Default::default()
    };
    let (b, _) = export_bundle(&[incident(1)], &opts);
    let ap = objects_of(&b, "attack-pattern");
    let cp = ap.iter().find(|a| a["x_mitre_id"] == "T0084.001").unwrap();
    assert_eq!(cp["description"], "Copied and pasted text.");
    // Techniques the catalogue lacks keep the incident's name, without a description.
    let sw = ap.iter().find(|a| a["x_mitre_id"] == "T0049.005").unwrap();
    assert_eq!(sw["name"], "Conduct Swarming");
    assert!(sw.get("description").is_none());
}

#[test]
fn native_opencti_type_names_keep_the_same_uuids() {
    let (p, _) = export_bundle(&[incident(1)], &ExportOptions::default());
    let opts = ExportOptions {
        opencti_types: OpenCtiTypes::Native,
        ..Default::default()
    };
    let (n, _) = export_bundle(&[incident(1)], &opts);
    let pn = objects_of(&p, "x-opencti-narrative")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let nn = objects_of(&n, "narrative")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        pn.split_once("--").unwrap().1,
        nn.split_once("--").unwrap().1
    );
    assert_eq!(objects_of(&n, "channel").len(), 3);
    assert_eq!(check_bundle(&n), Vec::<String>::new());
}

#[test]
fn a_narrative_is_named_by_its_title_with_its_terms_described() {
    let mut inc = incident(5);
    inc.narratives[0].title = "The EU will ration power this winter".into();
    let (b, _) = export_bundle(&[inc], &ExportOptions::default());
    assert_eq!(check_bundle(&b), Vec::<String>::new());
    let nar = objects_of(&b, "x-opencti-narrative")[0];
    assert_eq!(nar["name"], "The EU will ration power this winter");
    assert_eq!(
        nar["id"],
        pharos_share::stix::ids::opencti_name_id(
            "x-opencti-narrative",
            "The EU will ration power this winter"
        )
    );
    let desc = nar["description"].as_str().unwrap();
    assert!(desc.contains("Terms: ration · power · winter."), "{desc}");
}

#[test]
fn media_files_become_file_observables_with_sha256_pdq_and_provenance_notes() {
    let mut inc = incident(4);
    let sha = |c: char| c.to_string().repeat(64);
    inc.media = serde_json::from_value(json!([
        {"id": format!("media:{}", sha('a')), "file": "photos/gen.jpg", "sha256": sha('a'),
         "pdq": "d2f7b4ad6dadda4a3dc96d492bcd729cc6941ce87949c16a1f00fc17d0160936", "quality": 100,
         "width": 96, "height": 64, "kind": "photo", "posts": ["twitter:9001"], "post_count": 3, "accounts": 2,
         "ai": "signed_c2pa", "technique": "T0086.002",
         "c2pa": {"valid": true, "ai_generated": true,
                  "digital_source_type": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
                  "claim_generator": "Gen/1.0", "signer": "Some Signer"}},
        {"id": format!("media:{}", sha('b')), "file": "photos/edited.jpg", "sha256": sha('b'),
         "pdq": "0000000000000000000000000000000000000000000000000000000000000001", "quality": 80,
         "width": 96, "height": 64, "kind": "photo", "posts": ["twitter:9002"], "post_count": 1, "accounts": 1,
         "c2pa": {"valid": false, "ai_generated": false,
                  "digital_source_type": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
                  "claim_generator": "Cam/2", "signer": "Some Signer"},
         "c2pa_failures": ["assertion.dataHash.mismatch"]},
        {"id": format!("media:{}", sha('c')), "file": "photos/plain.png", "sha256": sha('c'),
         "pdq": "not a hash", "quality": 10, "width": 4, "height": 4, "kind": "photo",
         "posts": ["twitter:9002"], "post_count": 1, "accounts": 1}
    ]))
    .unwrap();
    let (b, _) = export_bundle(std::slice::from_ref(&inc), &ExportOptions::default());
    write("incident-media.json", &b);
    assert_eq!(check_bundle(&b), Vec::<String>::new());
    let files = objects_of(&b, "file");
    assert_eq!(files.len(), 3, "{files:#?}");
    let generated = files.iter().find(|f| f["name"] == "gen.jpg").unwrap();
    assert_eq!(generated["hashes"]["SHA-256"], sha('a'));
    assert_eq!(
        generated["hashes"]["x_pdq"],
        "d2f7b4ad6dadda4a3dc96d492bcd729cc6941ce87949c16a1f00fc17d0160936"
    );
    // A PDQ that is not 64 hex digits is left out, the file kept.
    let plain = files.iter().find(|f| f["name"] == "plain.png").unwrap();
    assert!(plain["hashes"].get("x_pdq").is_none());
    // The same bytes are one object whatever their name: the id is over SHA-256.
    let mut renamed = inc.clone();
    renamed.media[0].file = "other/name.jpg".into();
    let (b2, _) = export_bundle(&[renamed], &ExportOptions::default());
    assert!(
        objects_of(&b2, "file")
            .iter()
            .any(|f| f["id"] == generated["id"])
    );

    let inc_id = objects_of(&b, "incident")[0]["id"].clone();
    let rels = objects_of(&b, "relationship");
    for f in &files {
        assert!(
            rels.iter().any(|r| r["relationship_type"] == "related-to"
                && r["source_ref"] == inc_id
                && r["target_ref"] == f["id"]),
            "{} not related to the incident",
            f["id"]
        );
    }
    let od = &objects_of(&b, "observed-data")[0];
    assert!(
        files
            .iter()
            .all(|f| od["object_refs"].as_array().unwrap().contains(&f["id"]))
    );
    // A note for each file with provenance metadata, none for the plain one.
    let notes: Vec<&Value> = objects_of(&b, "note")
        .into_iter()
        .filter(|n| n["abstract"].as_str().unwrap().starts_with("Provenance"))
        .collect();
    assert_eq!(notes.len(), 2, "{notes:#?}");
    let note_of = |f: &Value| {
        notes
            .iter()
            .find(|n| n["object_refs"].as_array().unwrap().contains(&f["id"]))
            .unwrap()
            .to_string()
    };
    let g = note_of(generated);
    assert!(
        g.contains("valid C2PA manifest") && g.contains("T0086.002"),
        "{g}"
    );
    assert!(g.contains("Some Signer") && g.contains("Gen/1.0"), "{g}");
    let edited = files.iter().find(|f| f["name"] == "edited.jpg").unwrap();
    let e = note_of(edited);
    assert!(e.contains("signature does not verify"), "{e}");
    assert!(e.contains("assertion.dataHash.mismatch"), "{e}");
    assert!(!e.to_lowercase().contains("authentic"), "{e}");
}
