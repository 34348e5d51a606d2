//! STIX export, and the routes whose engines are not in this build yet
//! (incidents, claims, response packs, reports, STIX import): they answer
//! 501 with what is missing, never made-up data.

use crate::auth::{Principal, Role};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Q, require};
use crate::state::Shared;
use crate::stix::{Group, bundle};
use axum::extract::{Extension, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// A narrative id.
    pub narrative: Option<u64>,
    /// A coordination network id.
    pub network: Option<u32>,
    /// An incident id (the full pharos-share export: incident, campaign, DISARM attack-patterns, ...).
    pub incident: Option<String>,
}

/// A STIX 2.1 bundle of a narrative or a coordination network; every object
/// carries the TLP marking the data has (and partners only get what it clears them for).
#[utoipa::path(get, path = "/api/stix/export", tag = "share", params(ExportQuery),
    responses((status = 200, description = "STIX 2.1 bundle", content_type = "application/stix+json;version=2.1"),
        (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)),
    security(("token" = [])))]
pub async fn stix_export(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Q(q): Q<ExportQuery>,
) -> ApiResult<Response> {
    st.check_collection(&who)?;
    if let Some(inc) = q.incident.clone() {
        if q.narrative.is_some() || q.network.is_some() {
            return Err(ApiError::bad_request(
                "name one thing to export: ?narrative=ID, ?network=ID or ?incident=ID",
            ));
        }
        let st2 = st.clone();
        let (m, bundle) = st
            .read(move |s| {
                let m = st2.check_object(s, &who, "incident", &inc)?;
                let i = crate::incidents::find(s, &inc)?;
                Ok((m.clone(), crate::incidents::stix(&i, m.tlp)))
            })
            .await?;
        let name = format!(
            "pharos-{}.stix.json",
            q.incident.as_deref().unwrap_or("incident")
        );
        return Ok((
            [
                (
                    header::CONTENT_TYPE,
                    "application/stix+json;version=2.1".to_string(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
                (
                    header::HeaderName::from_static("tlp"),
                    m.tlp.label().to_string(),
                ),
            ],
            serde_json::to_string_pretty(&bundle).map_err(ApiError::internal)?,
        )
            .into_response());
    }
    let now = pharos_core::EventTime(crate::auth::now_ms()).to_rfc3339();
    let (kind, id, group) = match (q.narrative, q.network) {
        (Some(n), None) => {
            let (s, _) = crate::api::analysis::narrative_of(&st, n)?;
            let accounts = s
                .actors
                .iter()
                .take(50)
                .filter_map(|c| {
                    c.key
                        .split_once(':')
                        .map(|(p, a)| (p.to_string(), a.to_string()))
                })
                .collect();
            let desc = match &s.label.representative {
                Some(r) => format!(
                    "{} posts; e.g. {}/{}: {}",
                    s.total_posts, r.platform, r.id, r.text
                ),
                None => format!("{} posts", s.total_posts),
            };
            let first = s.first_seen.to_rfc3339();
            let g = Group {
                key: format!("narrative:{n}"),
                name: format!("Narrative: {}", s.label.text),
                description: desc,
                accounts,
                links: s.links.iter().take(50).map(|c| c.key.clone()).collect(),
                first_seen: None,
            };
            ("narrative", n.to_string(), (g, Some(first)))
        }
        (None, Some(n)) => {
            let d = crate::api::analysis::network_of(&st, n)?;
            let platform = d
                .network
                .platforms
                .first()
                .map(|c| c.value.clone())
                .unwrap_or_else(|| "unknown".into());
            let g = Group {
                key: format!("network:{n}"),
                name: format!("Coordination network {n} ({} accounts)", d.network.accounts),
                description: format!(
                    "{} accounts, {} edges, median time between coordinated posts {} s, first activity {}",
                    d.network.accounts,
                    d.network.edges,
                    d.network
                        .median_time_delta
                        .map_or("n/a".into(), |t| format!("{t:.0}")),
                    d.network.first_activity.clone().unwrap_or_default()
                ),
                accounts: d
                    .network
                    .members
                    .iter()
                    .map(|m| (platform.clone(), m.clone()))
                    .collect(),
                links: Vec::new(),
                first_seen: None,
            };
            ("network", n.to_string(), (g, None))
        }
        _ => {
            return Err(ApiError::bad_request(
                "name one thing to export: ?narrative=ID, ?network=ID or ?incident=ID",
            ));
        }
    };
    let st2 = st.clone();
    let w = who.clone();
    let marking = st.read(move |s| st2.check_object(s, &w, kind, &id)).await?;
    let (mut group, first) = group;
    let first_ref = first.as_deref();
    group.first_seen = first_ref;
    let b = bundle(&group, &marking, &now);
    let name = format!("pharos-{}.stix.json", group.key.replace(':', "-"));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/stix+json;version=2.1".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (
                header::HeaderName::from_static("tlp"),
                marking.tlp.label().to_string(),
            ),
        ],
        serde_json::to_string_pretty(&b).map_err(ApiError::internal)?,
    )
        .into_response())
}

fn missing(what: &str, engine: &str) -> ApiError {
    ApiError::not_implemented(format!(
        "{what} are not served by this build: they need {engine}, which this server does not include yet"
    ))
}

/// Incidents found by `pharos assess` (newest first): summaries.
#[utoipa::path(get, path = "/api/incidents", tag = "incidents",
    responses((status = 200, body = Vec<crate::incidents::IncidentSummary>)), security(("token" = [])))]
pub async fn incidents(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
) -> ApiResult<axum::Json<Vec<crate::incidents::IncidentSummary>>> {
    st.check_collection(&who)?;
    let st2 = st.clone();
    st.read(move |s| {
        let marks = crate::state::AppState::markings_of_kind(s, "incident")?;
        let def = st2.config.tlp.default_marking();
        Ok(axum::Json(
            crate::incidents::load(s)?
                .iter()
                .filter(|i| {
                    marks
                        .get(&i.id)
                        .unwrap_or(&def)
                        .allows(&who, st2.community())
                })
                .map(crate::incidents::IncidentSummary::of)
                .collect(),
        ))
    })
    .await
}

/// One incident: ABCDE, DISARM techniques, timeline, narratives, networks, actors, evidence.
#[utoipa::path(get, path = "/api/incidents/{id}", tag = "incidents", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody)), security(("token" = [])))]
pub async fn incident(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<pharos_assess::Incident>> {
    st.check_collection(&who)?;
    let st2 = st.clone();
    st.read(move |s| {
        st2.check_object(s, &who, "incident", &id)?;
        Ok(axum::Json(crate::incidents::find(s, &id)?))
    })
    .await
}

/// The briefing of one incident (Markdown, carrying its TLP marking).
#[utoipa::path(get, path = "/api/reports/{incident}", tag = "incidents", params(("incident" = String, Path)),
    responses((status = 200, description = "Markdown briefing", content_type = "text/markdown"),
        (status = 404, body = crate::error::ErrorBody)), security(("token" = [])))]
pub async fn report(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    st.check_collection(&who)?;
    let st2 = st.clone();
    let (m, text) = st
        .read(move |s| {
            let m = st2.check_object(s, &who, "incident", &id)?;
            let inc = crate::incidents::find(s, &id)?;
            Ok((m.clone(), crate::incidents::briefing(&inc, m.tlp)))
        })
        .await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/markdown; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"briefing.md\"".to_string(),
            ),
            (
                header::HeaderName::from_static("tlp"),
                m.tlp.label().to_string(),
            ),
        ],
        text,
    )
        .into_response())
}

/// The fact-check library (search). 501 until the claims library is in the server.
#[utoipa::path(get, path = "/api/claims", tag = "claims",
    responses((status = 501, body = crate::error::ErrorBody)), security(("token" = [])))]
pub async fn claims(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
) -> ApiResult<Response> {
    st.check_collection(&who)?;
    Err(missing("the claims library", "pharos-claims"))
}

/// Fact-checks matched to a narrative's posts. 501 until claim matching is in the server.
#[utoipa::path(get, path = "/api/narratives/{id}/matches", tag = "claims", params(("id" = u64, Path)),
    responses((status = 501, body = crate::error::ErrorBody)), security(("token" = [])))]
pub async fn matches(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    st.check_collection(&who)?;
    let n = crate::api::analysis::parse_id(&id, "narrative")?;
    crate::api::analysis::narrative_of(&st, n)?;
    Err(missing("claim matches", "pharos-claims retrieval"))
}

/// The response pack of a narrative. 501 until response packs are in the server.
#[utoipa::path(get, path = "/api/narratives/{id}/response", tag = "claims", params(("id" = u64, Path)),
    responses((status = 501, body = crate::error::ErrorBody)), security(("token" = [])))]
pub async fn response_pack(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    st.check_collection(&who)?;
    let n = crate::api::analysis::parse_id(&id, "narrative")?;
    crate::api::analysis::narrative_of(&st, n)?;
    Err(missing("response packs", "pharos-claims respond"))
}

/// Import a partner's STIX 2.1 bundle (analyst). 501 until the STIX importer is in the server.
#[utoipa::path(post, path = "/api/stix/import", tag = "share",
    responses((status = 501, body = crate::error::ErrorBody), (status = 403)), security(("token" = [])))]
pub async fn stix_import(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
) -> ApiResult<Response> {
    let _ = st;
    require(&who, Role::Analyst)?;
    Err(missing("STIX import", "pharos-share"))
}
