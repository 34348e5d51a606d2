//! Incidents → MISP events (`pharos export misp`).
//!
//! One event per incident (`info` = the title, `date` = its first post,
//! `threat_level_id` from the severity, `analysis` completed), tagged with
//! the TLP (MISP's `tlp` taxonomy: `tlp:clear` ... `tlp:red`) and with one
//! `misp-galaxy:disarm-techniques="<name>"` cluster tag per DISARM technique
//! (MISP's DISARM galaxy names clusters by technique name). Inside:
//! - attributes: the URLs (`url`) and domains (`domain`), category
//!   `Network activity`, `to_ids` false (they are what was pushed, not
//!   indicators of compromise), and the assessment as a `text` attribute;
//! - objects: `user-account` per account, `microblog` per post of the
//!   evidence sample, `attack-pattern` per technique (T-number, name, why).
//!
//! UUIDs come from the incident id and the thing they name, so the same
//! incidents give the same events (MISP updates an event it already has).
//! The file is `{"response": [{"Event": ...}, ...]}`, the shape of MISP's
//! own JSON export: PyMISP loads each event (`MISPEvent().from_dict(**e)`)
//! and MISP imports it from Events → Import from → MISP JSON.

use crate::pseudonym::Pseudonymiser;
use crate::stix::ids::stable_uuid;
use crate::stix::tlp::Tlp;
use pharos_assess::disarm::{self, Catalogue};
use pharos_assess::incident::{EvidenceKind, Incident};
use serde_json::{Value, json};

/// MISP object template UUIDs and versions (misp-objects), so MISP
/// recognises the objects.
const USER_ACCOUNT: (&str, &str) = ("49606b06-22f0-4ac8-8eee-2f12ad46f3d3", "6");
const MICROBLOG: (&str, &str) = ("8ec8c911-ddbe-4f5b-895b-fbff70c42a60", "20");
const ATTACK_PATTERN: (&str, &str) = ("35928348-56be-4d7f-9752-a80927936351", "1");

/// How to export.
#[derive(Clone, Debug)]
pub struct MispOptions<'a> {
    pub tlp: Tlp,
    /// The creating organisation's name.
    pub producer: String,
    pub catalogue: Option<&'a Catalogue>,
    pub pseudonymiser: Option<&'a Pseudonymiser>,
    /// At most this many posts per event (from the evidence sample).
    pub max_posts: usize,
}

impl Default for MispOptions<'_> {
    fn default() -> Self {
        MispOptions {
            tlp: Tlp::Amber,
            producer: "Pharos".into(),
            catalogue: None,
            pseudonymiser: None,
            max_posts: 200,
        }
    }
}

/// The MISP `tlp` taxonomy tag of a level.
pub fn tlp_tag(t: Tlp) -> &'static str {
    match t {
        Tlp::Clear => "tlp:clear",
        Tlp::Green => "tlp:green",
        Tlp::Amber => "tlp:amber",
        Tlp::AmberStrict => "tlp:amber+strict",
        Tlp::Red => "tlp:red",
    }
}

/// The DISARM galaxy tag of a technique (MISP names its clusters by the technique's name).
pub fn disarm_tag(name: &str) -> String {
    format!(
        "misp-galaxy:disarm-techniques=\"{}\"",
        name.replace('"', "'")
    )
}

fn uuid(inc: &Incident, what: &str) -> String {
    stable_uuid("misp", &format!("{}|{what}", inc.id))
}

fn tag(name: &str) -> Value {
    json!({"name": name})
}

/// The MISP events of `incidents`: `{"response": [{"Event": ...}, ...]}`.
pub fn events(incidents: &[Incident], opts: &MispOptions) -> Value {
    json!({ "response": incidents.iter().map(|i| json!({"Event": event(i, opts)})).collect::<Vec<_>>() })
}

fn secs(t: pharos_core::EventTime) -> String {
    t.secs().max(0).to_string()
}

fn account_name(
    opts: &MispOptions,
    platform: &str,
    id: &str,
    handle: Option<&str>,
) -> (String, Option<String>) {
    match opts.pseudonymiser {
        Some(p) => (p.account(platform, id), None),
        None => (
            id.to_string(),
            handle
                .map(|h| h.trim_start_matches('@').to_string())
                .filter(|h| !h.is_empty()),
        ),
    }
}

/// One incident as a MISP event (the object inside `{"Event": ...}`).
pub fn event(inc: &Incident, opts: &MispOptions) -> Value {
    let ts = secs(inc.last_seen.max(inc.first_seen));
    let threat = match inc.severity.value {
        v if v >= 0.7 => "1",
        v if v >= 0.4 => "2",
        _ => "3",
    };
    let mut tags = vec![tag(tlp_tag(opts.tlp))];
    tags.push(tag("misp:tool=\"pharos\""));
    let mut attributes: Vec<Value> = Vec::new();
    let mut objects: Vec<Value> = Vec::new();
    let attr = |ty: &str, category: &str, value: &str, comment: String, key: &str| {
        json!({
            "uuid": uuid(inc, key),
            "type": ty,
            "category": category,
            "value": value,
            "to_ids": false,
            "distribution": "5",
            "timestamp": ts,
            "comment": comment,
        })
    };
    attributes.push(attr(
        "text",
        "Other",
        &format!(
            "{}\n\nSeverity {:.2}, confidence {:.2}; {} posts by {} accounts, {} to {}. Pharos incident {}.",
            inc.summary,
            inc.severity.value,
            inc.confidence.value,
            inc.posts.len(),
            inc.actors.len(),
            inc.first_seen.to_rfc3339(),
            inc.last_seen.to_rfc3339(),
            inc.id
        ),
        "Pharos assessment".into(),
        "assessment",
    ));
    for l in inc.links.iter().filter(|l| !l.key.is_empty()) {
        attributes.push(attr(
            "url",
            "Network activity",
            &l.key,
            format!("pushed in {} posts", l.posts),
            &format!("url:{}", l.key),
        ));
    }
    for d in inc.domains.iter().filter(|d| !d.key.is_empty()) {
        attributes.push(attr(
            "domain",
            "Network activity",
            &d.key,
            format!("linked in {} posts", d.posts),
            &format!("domain:{}", d.key),
        ));
    }
    let object = |name: &str,
                  template: (&str, &str),
                  category: &str,
                  key: &str,
                  comment: String,
                  attrs: Vec<(&str, &str, String)>| {
        json!({
            "name": name,
            "meta-category": category,
            "template_uuid": template.0,
            "template_version": template.1,
            "uuid": uuid(inc, key),
            "timestamp": ts,
            "distribution": "5",
            "comment": comment,
            "Attribute": attrs.into_iter().map(|(rel, ty, value)| json!({
                "uuid": uuid(inc, &format!("{key}|{rel}")),
                "object_relation": rel,
                "type": ty,
                "category": match ty { "link" | "url" => "External analysis", "datetime" => "Other", _ => "Social network" },
                "value": value,
                "to_ids": false,
                "timestamp": ts,
            })).collect::<Vec<_>>(),
        })
    };
    for a in &inc.actors {
        let (user_id, login) = account_name(opts, &a.platform, &a.actor_id, a.handle.as_deref());
        let mut at = vec![
            ("user-id", "text", user_id),
            ("account-type", "text", a.platform.clone()),
        ];
        if let Some(l) = login {
            at.push(("username", "text", l));
        }
        objects.push(object(
            "user-account",
            USER_ACCOUNT,
            "misc",
            &format!("account:{}", a.key()),
            format!(
                "{} posts in the incident{}",
                a.posts,
                if a.coordinated {
                    "; member of a coordination network"
                } else {
                    ""
                }
            ),
            at,
        ));
    }
    for e in inc
        .evidence
        .iter()
        .filter(|e| e.kind == Some(EvidenceKind::Post))
        .take(opts.max_posts)
    {
        let Some(text) = e.text.as_deref().filter(|t| !t.is_empty()) else {
            continue;
        };
        let mut at = vec![("post", "text", text.to_string())];
        if let Some(acc) = e
            .account
            .as_deref()
            .and_then(|a| a.strip_prefix("account:"))
        {
            let (platform, id) = acc.split_once(':').unwrap_or(("", acc));
            let (name, _) = account_name(opts, platform, id, None);
            at.push(("username", "text", name));
        }
        if let Some(t) = e.time {
            at.push(("creation-date", "datetime", t.to_rfc3339()));
        }
        if let Some(u) = e.url.as_deref().filter(|u| !u.is_empty()) {
            at.push(("link", "link", u.to_string()));
        }
        if let Some(l) = e.lang.as_deref().filter(|l| !l.is_empty()) {
            at.push(("language", "text", l.to_string()));
        }
        let id = if opts.pseudonymiser.is_some() {
            "post".to_string()
        } else {
            e.id.clone()
        };
        objects.push(object(
            "microblog",
            MICROBLOG,
            "misc",
            &e.id,
            format!("evidence {id}"),
            at,
        ));
    }
    for t in &inc.techniques {
        if !disarm::is_t_number(&t.t_id) {
            continue;
        }
        let name = opts
            .catalogue
            .and_then(|c| c.get(&t.t_id))
            .map_or(t.name.as_str(), |k| k.name.as_str());
        tags.push(tag(&disarm_tag(name)));
        objects.push(object(
            "attack-pattern",
            ATTACK_PATTERN,
            "vulnerability",
            &format!("technique:{}", t.t_id),
            format!("DISARM {}: {} pieces of evidence", t.t_id, t.evidence.len()),
            vec![
                ("id", "text", t.t_id.clone()),
                ("name", "text", name.to_string()),
                ("summary", "text", t.shown_by.clone()),
                ("references", "link", disarm::technique_url(&t.t_id)),
            ],
        ));
    }
    json!({
        "uuid": stable_uuid("misp-event", &inc.id),
        "info": format!("Pharos incident: {}", inc.title),
        "date": inc.first_seen.day(),
        "timestamp": ts,
        "publish_timestamp": ts,
        "published": false,
        "analysis": "2",
        "threat_level_id": threat,
        "distribution": "0",
        "Orgc": {"name": opts.producer, "uuid": stable_uuid("misp-org", &opts.producer)},
        "Tag": tags,
        "Attribute": attributes,
        "Object": objects,
    })
}

/// Writes `events` (from [`events`]) as a MISP feed in `dir`: one
/// `<event uuid>.json` per event (`{"Event": ...}`) and `manifest.json`
/// (uuid → info, date, threat level, analysis, timestamp, Orgc, Tag), the
/// layout MISP reads from a feed of format "MISP Feed" (a URL serving the
/// folder, or a local path). Returns how many events were written.
pub fn write_feed(dir: &std::path::Path, events: &Value) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let mut manifest = serde_json::Map::new();
    let mut n = 0;
    for e in events["response"].as_array().into_iter().flatten() {
        let ev = &e["Event"];
        let Some(uuid) = ev["uuid"].as_str() else {
            continue;
        };
        let mut bytes = serde_json::to_vec_pretty(e).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        std::fs::write(dir.join(format!("{uuid}.json")), bytes)?;
        let mut m = serde_json::Map::new();
        for k in [
            "info",
            "date",
            "threat_level_id",
            "analysis",
            "timestamp",
            "Orgc",
            "Tag",
        ] {
            if let Some(v) = ev.get(k) {
                m.insert(k.into(), v.clone());
            }
        }
        manifest.insert(uuid.to_string(), Value::Object(m));
        n += 1;
    }
    let mut bytes =
        serde_json::to_vec_pretty(&Value::Object(manifest)).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    std::fs::write(dir.join("manifest.json"), bytes)?;
    Ok(n)
}
