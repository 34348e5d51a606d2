//! Incidents as `pharos assess` stores them (`pharos_assess::load_incidents`):
//! summaries, one incident, its STIX bundle (`pharos_share`) and a
//! Markdown briefing of it.

use crate::error::{ApiError, ApiResult};
use crate::tlp::Tlp;
use pharos_assess::Incident;
use pharos_store::SqliteStore;
use serde::Serialize;
use std::fmt::Write;
use utoipa::ToSchema;

/// An incident in a list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct IncidentSummary {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub first_seen: String,
    pub last_seen: String,
    pub severity: f64,
    pub confidence: f64,
    pub posts: usize,
    pub accounts: usize,
    /// DISARM T-numbers.
    pub techniques: Vec<String>,
    pub platforms: Vec<String>,
}

impl IncidentSummary {
    pub fn of(i: &Incident) -> Self {
        IncidentSummary {
            id: i.id.clone(),
            title: i.title.clone(),
            summary: i.summary.clone(),
            first_seen: i.first_seen.to_rfc3339(),
            last_seen: i.last_seen.to_rfc3339(),
            severity: i.severity.value,
            confidence: i.confidence.value,
            posts: i.post_count(),
            accounts: i.actors.len(),
            techniques: i.techniques.iter().map(|t| t.t_id.clone()).collect(),
            platforms: i.platforms.keys().cloned().collect(),
        }
    }
}

/// Every stored incident, newest first.
pub fn load(store: &SqliteStore) -> ApiResult<Vec<Incident>> {
    let mut v = pharos_assess::load_incidents(store).map_err(ApiError::internal)?;
    v.sort_by(|a, b| {
        b.first_seen
            .cmp(&a.first_seen)
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(v)
}

pub fn find(store: &SqliteStore, id: &str) -> ApiResult<Incident> {
    load(store)?
        .into_iter()
        .find(|i| i.id == id)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no incident {id:?}: incidents are found by `pharos assess --store ...`; see GET /api/incidents"
            ))
        })
}

fn share_tlp(t: Tlp) -> pharos_share::Tlp {
    match t {
        Tlp::Clear => pharos_share::Tlp::Clear,
        Tlp::Green => pharos_share::Tlp::Green,
        Tlp::Amber => pharos_share::Tlp::Amber,
        Tlp::AmberStrict => pharos_share::Tlp::AmberStrict,
        Tlp::Red => pharos_share::Tlp::Red,
    }
}

/// The STIX 2.1 bundle of one incident (pharos-share), marked `tlp`.
pub fn stix(i: &Incident, tlp: Tlp) -> serde_json::Value {
    let opts = pharos_share::stix::export::ExportOptions {
        tlp: share_tlp(tlp),
        ..Default::default()
    };
    pharos_share::stix::export::export_bundle(std::slice::from_ref(i), &opts).0
}

/// A one-page Markdown briefing of one incident, marked `tlp`.
pub fn briefing(i: &Incident, tlp: Tlp) -> String {
    let mut s = format!("**{}**\n\n# {}\n\n{}\n\n", tlp.label(), i.title, i.summary);
    let _ = writeln!(
        s,
        "- Seen: {} to {}\n- Severity: {:.2}; confidence: {:.2}\n- Posts: {}; accounts: {}\n- Platforms: {}\n- Languages: {}\n",
        i.first_seen.to_rfc3339(),
        i.last_seen.to_rfc3339(),
        i.severity.value,
        i.confidence.value,
        i.post_count(),
        i.actors.len(),
        i.platforms
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", "),
        i.languages
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    s.push_str("## ABCDE\n\n");
    for (name, st) in [
        ("Actor", &i.abcde.actor),
        ("Behaviour", &i.abcde.behaviour),
        ("Content", &i.abcde.content),
        ("Degree", &i.abcde.degree),
        ("Effect", &i.abcde.effect),
    ] {
        let _ = writeln!(s, "- **{name}**: {}", st.statement);
    }
    if !i.techniques.is_empty() {
        s.push_str("\n## DISARM techniques\n\n");
        for t in &i.techniques {
            let _ = writeln!(s, "- {} {}: {}", t.t_id, t.name, t.shown_by);
        }
    }
    if !i.actors.is_empty() {
        s.push_str("\n## Most active accounts\n\n");
        for a in i.actors.iter().take(10) {
            let _ = writeln!(s, "- {} ({} posts)", a.display(), a.posts);
        }
    }
    let _ = writeln!(
        s,
        "\nIncident {} — {} pieces of evidence in the Pharos store.",
        i.id,
        i.evidence.len()
    );
    s
}
