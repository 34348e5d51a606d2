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
                "name one thing to export: ?narrative=ID or ?network=ID",
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

/// Incidents (ABCDE, DISARM techniques, timeline, evidence). 501 until the incident engine is in the server.
#[utoipa::path(get, path = "/api/incidents", tag = "incidents",
    responses((status = 501, body = crate::error::ErrorBody)), security(("token" = [])))]
pub async fn incidents(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
) -> ApiResult<Response> {
    st.check_collection(&who)?;
    Err(missing("incidents", "pharos-assess incidents"))
}

/// One incident. 501 until the incident engine is in the server.
#[utoipa::path(get, path = "/api/incidents/{id}", tag = "incidents", params(("id" = String, Path)),
    responses((status = 501, body = crate::error::ErrorBody)), security(("token" = [])))]
pub async fn incident(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    st.check_collection(&who)?;
    let st2 = st.clone();
    st.read(move |s| st2.check_object(s, &who, "incident", &id))
        .await?;
    Err(missing("incidents", "pharos-assess incidents"))
}

/// Briefing and recovery reports of an incident. 501 until the report writers are in the server.
#[utoipa::path(get, path = "/api/reports/{incident}", tag = "incidents", params(("incident" = String, Path)),
    responses((status = 501, body = crate::error::ErrorBody)), security(("token" = [])))]
pub async fn report(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    st.check_collection(&who)?;
    let st2 = st.clone();
    st.read(move |s| st2.check_object(s, &who, "incident", &id))
        .await?;
    Err(missing("reports", "pharos-assess reports"))
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
