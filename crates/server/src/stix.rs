//! STIX 2.1 bundles of what the server knows (narratives and coordination
//! networks), every object carrying its TLP 2.0 marking.
//!
//! An interim exporter kept small on purpose: a `grouping` (context
//! `suspicious-activity`) per narrative or network, referring to
//! `user-account` objects for its accounts and `url` objects for its links,
//! with the Pharos `identity` as creator. The full exporter (incidents,
//! DISARM attack-patterns, sightings) belongs to `pharos-share`.

use crate::tlp::Marking;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A UUID (version 5 layout) derived from a name, so the same object gets
/// the same id in every export.
pub fn uuid_from(name: &str) -> String {
    let h = Sha256::digest(name.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

/// The TLP 2.0 marking-definition object.
pub fn marking_definition(m: &Marking) -> Value {
    json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": m.tlp.stix_id(),
        "created": "2022-10-01T00:00:00.000Z",
        "name": m.tlp.label(),
        "extensions": {
            "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                "extension_type": "property-extension",
                "tlp_2_0": m.tlp.as_str(),
            }
        }
    })
}

/// What goes into a grouping.
pub struct Group<'a> {
    /// Stable key (`narrative:12`, `network:3`).
    pub key: String,
    pub name: String,
    pub description: String,
    /// `(platform, account id)`.
    pub accounts: Vec<(String, String)>,
    pub links: Vec<String>,
    pub first_seen: Option<&'a str>,
}

/// One bundle with the identity, the marking, the accounts, the links and the grouping.
pub fn bundle(group: &Group<'_>, marking: &Marking, now: &str) -> Value {
    let mref = marking.tlp.stix_id();
    let identity_id = format!("identity--{}", uuid_from("pharos"));
    let mut objects = vec![
        json!({
            "type": "identity", "spec_version": "2.1", "id": identity_id,
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
            "name": "Pharos", "identity_class": "system",
            "object_marking_refs": [mref],
        }),
        marking_definition(marking),
    ];
    let mut refs = Vec::new();
    for (platform, id) in &group.accounts {
        let oid = format!("user-account--{}", uuid_from(&format!("{platform}:{id}")));
        refs.push(Value::String(oid.clone()));
        objects.push(json!({
            "type": "user-account", "spec_version": "2.1", "id": oid,
            "user_id": id, "account_type": platform,
            "object_marking_refs": [mref],
        }));
    }
    for url in &group.links {
        let oid = format!("url--{}", uuid_from(url));
        refs.push(Value::String(oid.clone()));
        objects.push(json!({
            "type": "url", "spec_version": "2.1", "id": oid, "value": url,
            "object_marking_refs": [mref],
        }));
    }
    if refs.is_empty() {
        refs.push(Value::String(identity_id.clone()));
    }
    let mut grouping = json!({
        "type": "grouping", "spec_version": "2.1",
        "id": format!("grouping--{}", uuid_from(&group.key)),
        "created": now, "modified": now,
        "created_by_ref": identity_id,
        "name": group.name, "description": group.description,
        "context": "suspicious-activity",
        "object_refs": refs,
        "object_marking_refs": [mref],
        "external_references": [{"source_name": "pharos", "external_id": group.key}],
    });
    if let Some(f) = group.first_seen {
        grouping["x_pharos_first_seen"] = Value::String(f.to_string());
    }
    objects.push(grouping);
    json!({
        "type": "bundle",
        "id": format!("bundle--{}", uuid_from(&format!("{}@{now}", group.key))),
        "objects": objects,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlp::Tlp;

    #[test]
    fn every_object_carries_the_marking_and_ids_are_stable() {
        let g = Group {
            key: "network:1".into(),
            name: "n".into(),
            description: "d".into(),
            accounts: vec![("twitter".into(), "42".into())],
            links: vec!["https://x.example/a".into()],
            first_seen: None,
        };
        let m = Marking::new(Tlp::Amber);
        let b = bundle(&g, &m, "2024-05-01T00:00:00.000Z");
        let objs = b["objects"].as_array().unwrap();
        for o in objs {
            if o["type"] != "marking-definition" {
                assert_eq!(o["object_marking_refs"][0], Tlp::Amber.stix_id(), "{o}");
            }
        }
        assert_eq!(uuid_from("a"), uuid_from("a"));
        assert_ne!(uuid_from("a"), uuid_from("b"));
        assert_eq!(&uuid_from("a")[14..15], "5");
    }
}
