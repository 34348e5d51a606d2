//! Sharing and mitigation: STIX export and import, incidents and their
//! briefings, the fact-check library, claim matches and response packs.

use crate::auth::{Principal, Role};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Q, require};
use crate::state::Shared;
use axum::extract::{Extension, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use pharos_share::stix::{ExportOptions, Finding, FindingKind, finding_bundle};
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
                let m = st2.clearance(s, &who)?.check("incident", &inc)?;
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
    let (kind, id, finding) = match (q.narrative, q.network) {
        (Some(n), None) => {
            let (s, _) = crate::api::analysis::narrative_of(&st, n)?;
            let desc = match &s.label.representative {
                Some(r) => format!(
                    "{} posts; e.g. {}/{}: {}",
                    s.total_posts, r.platform, r.id, r.text
                ),
                None => format!("{} posts", s.total_posts),
            };
            let f = Finding {
                kind: FindingKind::Narrative,
                key: format!("narrative:{n}"),
                name: s.name().to_string(),
                description: desc,
                accounts: s
                    .actors
                    .iter()
                    .take(50)
                    .filter_map(|c| {
                        c.key
                            .split_once(':')
                            .map(|(p, a)| (p.to_string(), a.to_string(), None))
                    })
                    .collect(),
                links: s.links.iter().take(50).map(|c| c.key.clone()).collect(),
                first_seen: s.first_seen,
                last_seen: s.last_seen,
            };
            ("narrative", n.to_string(), f)
        }
        (None, Some(n)) => {
            let d = crate::api::analysis::network_of(&st, n)?;
            let platform = d
                .network
                .platforms
                .first()
                .map(|c| c.value.clone())
                .unwrap_or_else(|| "unknown".into());
            let time = |t: &Option<String>| {
                t.as_deref()
                    .and_then(|t| pharos_core::EventTime::parse(t).ok())
            };
            let first = time(&d.network.first_activity).unwrap_or(pharos_core::EventTime(0));
            let f = Finding {
                kind: FindingKind::Network,
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
                    // Members are `platform:actor_id`.
                    .map(|m| match m.split_once(':') {
                        Some((p, id)) => (p.to_string(), id.to_string(), None),
                        None => (platform.clone(), m.clone(), None),
                    })
                    .collect(),
                links: Vec::new(),
                first_seen: first,
                last_seen: time(&d.network.last_activity).unwrap_or(first),
            };
            ("network", n.to_string(), f)
        }
        _ => {
            return Err(ApiError::bad_request(
                "name one thing to export: ?narrative=ID, ?network=ID or ?incident=ID",
            ));
        }
    };
    let st2 = st.clone();
    let w = who.clone();
    let marking = st
        .read(move |s| st2.clearance(s, &w)?.check(kind, &id))
        .await?;
    let opts = ExportOptions {
        tlp: marking.tlp,
        ..Default::default()
    };
    let (b, _) = finding_bundle(&finding, &opts);
    let name = format!("pharos-{}.stix.json", finding.key.replace(':', "-"));
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

/// Incidents (newest first): summaries. The server assesses them as posts arrive, as `pharos assess` does.
#[utoipa::path(get, path = "/api/incidents", tag = "incidents",
    responses((status = 200, body = Vec<crate::incidents::IncidentSummary>)), security(("token" = [])))]
pub async fn incidents(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
) -> ApiResult<axum::Json<Vec<crate::incidents::IncidentSummary>>> {
    st.check_collection(&who)?;
    let st2 = st.clone();
    st.read(move |s| {
        Ok(axum::Json(
            st2.clearance(s, &who)?
                .incidents(s)?
                .iter()
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
        st2.clearance(s, &who)?.check("incident", &id)?;
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
            let m = st2.clearance(s, &who)?.check("incident", &id)?;
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

/// `GET /api/claims`: a search of the fact-check library.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClaimQuery {
    /// Text to look for (a post, a sentence, a few words): claims ranked by
    /// match confidence (claim retrieval). Without it: every claim, in import order.
    pub q: Option<String>,
    /// Only claims in this language, or with a fact-check in it (ISO 639-1).
    pub lang: Option<String>,
    /// Only claims reviewed by this publisher (part of its name or site, any case).
    pub publisher: Option<String>,
    /// 1 to 500 (default 50).
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

fn limit(l: Option<usize>) -> ApiResult<usize> {
    let l = l.unwrap_or(50);
    if !(1..=500).contains(&l) {
        return Err(ApiError::bad_request(format!("limit={l}: give 1 to 500")));
    }
    Ok(l)
}

/// The fact-check library: search by meaning (`q`), language and publisher
/// filters, paging. Claims are public material (TLP:CLEAR) unless an admin
/// marks one; partners see what their marking allows.
#[utoipa::path(get, path = "/api/claims", tag = "claims", params(ClaimQuery),
    responses((status = 200, body = crate::claims::ClaimPage), (status = 400, body = crate::error::ErrorBody)),
    security(("token" = [])))]
pub async fn claims(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Q(q): Q<ClaimQuery>,
) -> ApiResult<axum::Json<crate::claims::ClaimPage>> {
    let search = crate::claims::Search {
        limit: limit(q.limit)?,
        offset: q.offset.unwrap_or(0),
        q: q.q,
        lang: q.lang,
        publisher: q.publisher,
    };
    let st2 = st.clone();
    st.read(move |s| {
        let cl = st2.clearance(s, &who)?;
        let dir = crate::claims::library_dir(&st2);
        Ok(axum::Json(crate::claims::search(&dir, &cl, &search)?))
    })
    .await
}

fn narrative_marking(
    st: &Shared,
    s: &pharos_store::AnyStore,
    who: &Principal,
    n: u64,
) -> ApiResult<crate::tlp::Marking> {
    st.clearance(s, who)?.check("narrative", &n.to_string())
}

/// Fact-checks matched to a narrative's posts: the store's matches
/// (`pharos claims match --store`), else the posts matched against the
/// library now. They carry the narrative's marking.
#[utoipa::path(get, path = "/api/narratives/{id}/matches", tag = "claims", params(("id" = u64, Path)),
    responses((status = 200, body = crate::claims::NarrativeMatches), (status = 404, body = crate::error::ErrorBody)),
    security(("token" = [])))]
pub async fn matches(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    st.check_collection(&who)?;
    let n = crate::api::analysis::parse_id(&id, "narrative")?;
    crate::claims::narrative_known(&st, n)?;
    let st2 = st.clone();
    let (m, found) = st
        .read(move |s| {
            let m = narrative_marking(&st2, s, &who, n)?;
            let found = crate::claims::narrative_matches(&st2, s, n, &m, &who)?;
            Ok((m, found))
        })
        .await?;
    Ok((
        [(
            header::HeaderName::from_static("tlp"),
            m.tlp.label().to_string(),
        )],
        axum::Json(found),
    )
        .into_response())
}

/// `GET /api/narratives/{id}/response`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PackQuery {
    /// `json` (default) or `md` (Markdown; also with `Accept: text/markdown`).
    pub format: Option<String>,
    /// Claims listed at most (1 to 10, default 3).
    pub max_claims: Option<usize>,
}

/// The response pack of a narrative, as `pharos respond --narrative ID`
/// builds it: the known claims it repeats, every verdict, correction
/// drafts, key facts, where it spreads, when to answer. JSON, or Markdown
/// (`?format=md`). It carries the narrative's marking (`TLP` header; the
/// Markdown starts with the label).
#[utoipa::path(get, path = "/api/narratives/{id}/response", tag = "claims", params(("id" = u64, Path), PackQuery),
    responses((status = 200, description = "the response pack: pharos-claims' ResponsePack (target, as_of, match_source, claims, verdicts, drafts, key_facts, spread, timing, notes) with `tlp` and `narrative_source` (`live`: the live analysis' narrative as listed, no pass over the store; `store-pass`: one pass over the store, before the live analysis lists narratives); or, with `?format=md`, the same as Markdown headed by the TLP label",
            content((Object = "application/json"), (String = "text/markdown"))),
        (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)),
    security(("token" = [])))]
pub async fn response_pack(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Q(q): Q<PackQuery>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    st.check_collection(&who)?;
    let n = crate::api::analysis::parse_id(&id, "narrative")?;
    let markdown = match q.format.as_deref() {
        Some("md" | "markdown") => true,
        Some("json") => false,
        Some(f) => {
            return Err(ApiError::bad_request(format!(
                "format={f}: give json or md"
            )));
        }
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/markdown")),
    };
    let max_claims = q.max_claims.unwrap_or(3);
    if !(1..=crate::claims::MAX_PACK_CLAIMS).contains(&max_claims) {
        return Err(ApiError::bad_request(format!(
            "max_claims={max_claims}: give 1 to {}",
            crate::claims::MAX_PACK_CLAIMS
        )));
    }
    crate::claims::narrative_known(&st, n)?;
    let st2 = st.clone();
    let (m, (pack, source)) = st
        .read(move |s| {
            let m = narrative_marking(&st2, s, &who, n)?;
            let pack = crate::claims::response_pack(&st2, s, n, max_claims, &who)?;
            Ok((m, pack))
        })
        .await?;
    let tlp = (
        header::HeaderName::from_static("tlp"),
        m.tlp.label().to_string(),
    );
    if markdown {
        let text = format!(
            "**{}**\n\n{}",
            m.tlp.label(),
            pharos_claims::respond::pack::to_markdown(&pack)
        );
        return Ok((
            [
                (
                    header::CONTENT_TYPE,
                    "text/markdown; charset=utf-8".to_string(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("inline; filename=\"response-pack-narrative-{n}.md\""),
                ),
                tlp,
            ],
            text,
        )
            .into_response());
    }
    let mut v = serde_json::to_value(&pack).map_err(ApiError::internal)?;
    if let Some(o) = v.as_object_mut() {
        o.insert("tlp".into(), m.tlp.label().into());
        o.insert("narrative_source".into(), source.as_str().into());
    }
    Ok(([tlp], axum::Json(v)).into_response())
}

/// What `POST /api/stix/import` did.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ImportAnswer {
    pub bundle_id: Option<String>,
    /// Objects in the bundle.
    pub objects: u64,
    /// New to the store.
    pub added: u64,
    /// Newer versions (later `modified`) of stored objects.
    pub updated: u64,
    /// Already stored at this version or a later one.
    pub unchanged: u64,
    /// Rejected objects (kept in the store's quarantine), with reasons.
    pub quarantined: u64,
    /// Kept objects by type.
    pub by_type: std::collections::BTreeMap<String, u64>,
    /// Kept objects by TLP (`unmarked` when none): the markings are kept as received.
    pub by_tlp: std::collections::BTreeMap<String, u64>,
    /// `object id (or #n): reason`, one per rejected object (at most 100).
    pub rejections: Vec<String>,
}

/// Import a partner's STIX 2.1 bundle (analyst): every object is checked on
/// its own, kept whole with its markings, and a bad one is quarantined with
/// its reason; a body that is not JSON (400) or not a bundle (422) stores nothing.
#[utoipa::path(post, path = "/api/stix/import", tag = "share",
    request_body(content = Object, description = "a STIX 2.1 bundle", content_type = "application/stix+json"),
    responses((status = 200, body = ImportAnswer), (status = 400, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("token" = [])))]
pub async fn stix_import(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    audit: Option<Extension<crate::audit::InTransaction>>,
    body: axum::body::Bytes,
) -> ApiResult<axum::Json<ImportAnswer>> {
    require(&who, Role::Analyst)?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the body is empty: send a STIX 2.1 bundle (JSON)",
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
    if v.get("type").and_then(|t| t.as_str()) != Some("bundle") {
        return Err(ApiError::unprocessable(format!(
            "not a STIX bundle: its \"type\" is {} (expected \"bundle\"); nothing was stored",
            v.get("type").map_or("missing".into(), |t| t.to_string())
        )));
    }
    drop(v);
    let path = st.store_path.clone();
    let source = format!("api upload by {} ({})", who.name, who.token_id);
    // The request's audit row, with what the import did, is committed in
    // the import's transaction.
    let commit = audit.map(|Extension(a)| a.commit(200));
    let report = tokio::task::spawn_blocking(move || {
        let mut store = pharos_store::AnyStore::open(&path)?;
        let mut imp = pharos_share::stix::import::Importer::new(&mut store)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        if let Some(c) = &commit {
            let row = c.row.clone();
            imp.audit_with(move |r| {
                vec![pharos_store::AuditRecord {
                    object: r.bundle_id.clone(),
                    detail: Some(format!(
                        "STIX import: {} objects, {} added, {} updated, {} unchanged, {} quarantined",
                        r.objects, r.added, r.updated, r.unchanged, r.rejected
                    )),
                    ..row.clone()
                }]
            });
        }
        let r = imp.import_bytes(&body, &source);
        if r.is_ok()
            && let Some(c) = &commit
        {
            c.committed();
        }
        match r {
            Ok(r) => {
                // Records the run (so `pharos stats` counts the quarantined objects).
                imp.finish()
                    .map_err(|e| ApiError::internal(e.to_string()))?;
                Ok(r)
            }
            Err(pharos_share::stix::ImportError::File { reason, .. }) => Err(
                ApiError::unprocessable(format!("{reason}; nothing was stored")),
            ),
            Err(e) => Err(ApiError::internal(e.to_string())),
        }
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(axum::Json(ImportAnswer {
        bundle_id: report.bundle_id,
        objects: report.objects,
        added: report.added,
        updated: report.updated,
        unchanged: report.unchanged,
        quarantined: report.rejected,
        by_type: report.by_type,
        by_tlp: report.by_tlp,
        rejections: report.rejections.into_iter().take(100).collect(),
    }))
}
