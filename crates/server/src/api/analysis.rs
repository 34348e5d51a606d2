//! Narratives, coordination networks, actors, alerts (list and live stream).

use crate::analyst::ActorRow;
use crate::auth::Principal;
use crate::clearance::Clearance;
use crate::error::{ApiError, ApiResult};
use crate::extract::Q;
use crate::state::{AppState, Shared};
use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use pharos_alerts::Notification;
use pharos_analysis::coordination::report::{EdgeReport, EvidencePost, NetworkReport};
use pharos_analysis::narratives::NarrativeSummary;
use pharos_core::Post;
use pharos_store::{AnyStore, Store};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use tokio_stream::StreamExt;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Words the label must contain (narratives), or the entity (alerts).
    pub q: Option<String>,
    /// 1 to 500 (default 50).
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

fn page(limit: Option<usize>) -> ApiResult<usize> {
    let l = limit.unwrap_or(50);
    if !(1..=500).contains(&l) {
        return Err(ApiError::bad_request(format!("limit={l}: give 1 to 500")));
    }
    Ok(l)
}

/// A page of narratives.
#[derive(Serialize, ToSchema)]
pub struct NarrativePage {
    /// The start-up read of the store is done (before it, lists are partial).
    pub ready: bool,
    pub total: usize,
    /// Without their timelines (see `/api/narratives/{id}`).
    #[schema(value_type = Vec<Object>)]
    pub narratives: Vec<NarrativeSummary>,
}

/// Narratives, largest and fastest-growing first (`pharos narratives`).
#[utoipa::path(get, path = "/api/narratives", params(ListQuery), tag = "analysis",
    responses((status = 200, body = NarrativePage)), security(("token" = [])))]
pub async fn narratives(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Q(q): Q<ListQuery>,
) -> ApiResult<Json<NarrativePage>> {
    st.check_collection(&who)?;
    let limit = page(q.limit)?;
    let (ready, all) = {
        let s = st.snapshot.read().map_err(ApiError::internal)?;
        (s.ready, s.narrative_list.clone())
    };
    let cl = st.clearance_of(&who).await?;
    let words: Vec<String> =
        q.q.as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
    let matching: Vec<&NarrativeSummary> = all
        .iter()
        .filter(|n| cl.sees_narrative(n))
        .filter(|n| {
            if words.is_empty() {
                return true;
            }
            let hay = format!(
                "{} {} {}",
                n.title.to_lowercase(),
                n.label.text.to_lowercase(),
                n.label
                    .representative
                    .as_ref()
                    .map(|r| r.text.to_lowercase())
                    .unwrap_or_default()
            );
            words.iter().all(|w| hay.contains(w))
        })
        .collect();
    Ok(Json(NarrativePage {
        ready,
        total: matching.len(),
        // Timelines are in `/api/narratives/{id}` (they make lists heavy).
        narratives: matching
            .into_iter()
            .skip(q.offset.unwrap_or(0))
            .take(limit)
            .cloned()
            .collect(),
    }))
}

/// One narrative with its newest posts.
#[derive(Serialize, ToSchema)]
pub struct NarrativeDetail {
    #[schema(value_type = Object)]
    pub narrative: NarrativeSummary,
    /// Its newest posts (at most 30), newest first.
    #[schema(value_type = Vec<Object>)]
    pub posts: Vec<Post>,
}

pub fn parse_id(id: &str, what: &str) -> ApiResult<u64> {
    id.parse()
        .map_err(|_| ApiError::bad_request(format!("{what} id {id:?} is not a number")))
}

/// A coordination network's id: networks are numbered in a `u32`, so a
/// larger number names no network (404), never network `id mod 2^32`
/// (issue 14, finding 8).
pub fn parse_network_id(id: &str) -> ApiResult<u32> {
    let n = parse_id(id, "network")?;
    u32::try_from(n).map_err(|_| ApiError::not_found(format!("no network {n}")))
}

/// One narrative: timeline per platform and language, actors, links, hashtags, newest posts.
#[utoipa::path(get, path = "/api/narratives/{id}", tag = "analysis",
    params(("id" = u64, Path)),
    responses((status = 200, body = NarrativeDetail), (status = 404, body = crate::error::ErrorBody)),
    security(("token" = [])))]
pub async fn narrative(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Json<NarrativeDetail>> {
    st.check_collection(&who)?;
    let id = parse_id(&id, "narrative")?;
    let (n, keys) = narrative_of(&st, id)?;
    let st2 = st.clone();
    let posts = st
        .read(move |s| {
            let cl = st2.clearance(s, &who)?;
            cl.check("narrative", &id.to_string())?;
            let mut out = Vec::new();
            for (p, i) in keys.iter().rev() {
                if let Some(post) = s.get(p, i)?
                    && cl.sees_post(&post)
                {
                    out.push(post);
                }
            }
            Ok(out)
        })
        .await?;
    Ok(Json(NarrativeDetail {
        narrative: n,
        posts,
    }))
}

pub fn narrative_of(
    st: &AppState,
    id: u64,
) -> ApiResult<(NarrativeSummary, Vec<(String, String)>)> {
    let s = st.snapshot.read().map_err(ApiError::internal)?;
    let n = s
        .narratives
        .iter()
        .find(|n| n.id == id)
        .cloned()
        .ok_or_else(|| {
            ApiError::not_found(format!("no narrative {id} (yet): see GET /api/narratives"))
        })?;
    let keys = s
        .narrative_posts
        .get(&id)
        .map(|q| q.iter().cloned().collect())
        .unwrap_or_default();
    Ok((n, keys))
}

/// Coordination networks (communities), without their evidence.
#[derive(Serialize, ToSchema)]
pub struct NetworkList {
    pub ready: bool,
    /// When they were computed; null before the first computation.
    pub computed_at: Option<String>,
    pub error: Option<String>,
    /// Counts over the whole run (accounts, edges, networks); null for a
    /// partner from whom some object is hidden.
    #[schema(value_type = Object)]
    pub summary: Option<serde_json::Value>,
    #[schema(value_type = Object)]
    pub parameters: Option<serde_json::Value>,
    #[schema(value_type = Vec<Object>)]
    pub networks: Vec<NetworkReport>,
}

/// Coordination networks: communities of accounts that reshared the same posts, shared the same links, text, hashtags or pictures within seconds to minutes, again and again, or that sign their posts with one shared template line (`template`; `layers` says what made each network). The networks incidents and STIX exports name: same ids.
#[utoipa::path(get, path = "/api/networks", params(ListQuery), tag = "analysis",
    responses((status = 200, body = NetworkList)), security(("token" = [])))]
pub async fn networks(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Q(q): Q<ListQuery>,
) -> ApiResult<Json<NetworkList>> {
    st.check_collection(&who)?;
    let limit = page(q.limit)?;
    let (ready, at, err, report, list) = {
        let s = st.snapshot.read().map_err(ApiError::internal)?;
        (
            s.ready,
            s.coordination_at.clone(),
            s.coordination_error.clone(),
            s.coordination.clone(),
            s.network_list.clone(),
        )
    };
    let cl = st.clearance_of(&who).await?;
    let mut out = NetworkList {
        ready,
        computed_at: at,
        error: err,
        summary: None,
        parameters: None,
        networks: Vec::new(),
    };
    if let Some(r) = report {
        out.summary = cl
            .sees_everything()
            .then(|| serde_json::to_value(&r.summary).ok())
            .flatten();
        out.parameters = Some(r.parameters.clone());
        // Without evidence, made once per computation (copying the
        // evidence to drop it cost more than the rest of the answer).
        out.networks = list
            .iter()
            .filter(|n| cl.sees_network(n))
            .skip(q.offset.unwrap_or(0))
            .take(limit)
            .cloned()
            .collect();
    }
    Ok(Json(out))
}

/// One network: its accounts and the edges among them (with weights; evidence via `/posts`).
#[derive(Serialize, ToSchema)]
pub struct NetworkDetail {
    #[schema(value_type = Object)]
    pub network: NetworkReport,
    #[schema(value_type = Vec<Object>)]
    pub accounts: Vec<pharos_analysis::coordination::report::AccountReport>,
    /// Edges with their evidence totals (evidence pairs left out: see `/posts`).
    #[schema(value_type = Vec<Object>)]
    pub edges: Vec<EdgeReport>,
}

pub fn network_of(st: &AppState, id: u32) -> ApiResult<NetworkDetail> {
    let s = st.snapshot.read().map_err(ApiError::internal)?;
    let r = s
        .coordination
        .clone()
        .ok_or_else(|| ApiError::not_found("coordination networks are not computed yet"))?;
    let n =
        r.communities.iter().find(|n| n.id == id).ok_or_else(|| {
            ApiError::not_found(format!("no network {id}: see GET /api/networks"))
        })?;
    let members: HashSet<&str> = n.members.iter().map(String::as_str).collect();
    Ok(NetworkDetail {
        network: n.clone(),
        accounts: r
            .accounts
            .iter()
            .filter(|a| members.contains(a.account.as_str()))
            .cloned()
            .collect(),
        edges: r
            .edges
            .iter()
            .filter(|e| e.community == Some(id))
            .map(|e| EdgeReport {
                evidence: Vec::new(),
                ..e.clone()
            })
            .collect(),
    })
}

/// One coordination network.
#[utoipa::path(get, path = "/api/networks/{id}", tag = "analysis",
    params(("id" = u32, Path)),
    responses((status = 200, body = NetworkDetail), (status = 404, body = crate::error::ErrorBody)),
    security(("token" = [])))]
pub async fn network(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<Json<NetworkDetail>> {
    st.check_collection(&who)?;
    let id = parse_network_id(&id)?;
    let st2 = st.clone();
    st.read(move |s| {
        st2.clearance(s, &who)?
            .check("network", &id.to_string())
            .map(|_| ())
    })
    .await?;
    Ok(Json(network_of(&st, id)?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvidenceQuery {
    /// An account of the network: the posts of its edges.
    pub account: Option<String>,
    /// With `account`: only the edge between the two.
    pub peer: Option<String>,
}

/// One pair of coordinated posts.
#[derive(Serialize, ToSchema)]
pub struct EvidenceRow {
    pub from: String,
    pub to: String,
    pub object: Option<String>,
    pub time_delta: f64,
    #[schema(value_type = Object)]
    pub post: EvidencePost,
    #[schema(value_type = Object)]
    pub post_y: EvidencePost,
}

/// The posts behind a network, an account's edges or one edge.
#[derive(Serialize, ToSchema)]
pub struct EvidencePage {
    pub network: u32,
    pub account: Option<String>,
    pub peer: Option<String>,
    /// Pairs behind the chosen edges (all counted, at most 100 per edge
    /// listed). For a partner from whom some post or account is hidden:
    /// the listed pairs it sees (never a count of what it may not see).
    pub total: u64,
    pub pairs: Vec<EvidenceRow>,
}

fn fill(s: &AnyStore, platforms: &[String], p: &mut EvidencePost) {
    if p.text.is_some() {
        return;
    }
    for pl in platforms {
        if let Ok(Some(post)) = s.get(pl, &p.id) {
            *p = EvidencePost::from_post(&p.id, &post);
            return;
        }
    }
}

/// The posts behind the edges of a network (click on a node or an edge).
#[utoipa::path(get, path = "/api/networks/{id}/posts", tag = "analysis",
    params(("id" = u32, Path), EvidenceQuery),
    responses((status = 200, body = EvidencePage), (status = 404, body = crate::error::ErrorBody)),
    security(("token" = [])))]
pub async fn network_posts(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Q(q): Q<EvidenceQuery>,
) -> ApiResult<Json<EvidencePage>> {
    st.check_collection(&who)?;
    let id = parse_network_id(&id)?;
    let (report, platforms) = {
        let s = st.snapshot.read().map_err(ApiError::internal)?;
        (
            s.coordination
                .clone()
                .ok_or_else(|| ApiError::not_found("coordination networks are not computed yet"))?,
            s.platforms.clone(),
        )
    };
    if !report.communities.iter().any(|n| n.id == id) {
        return Err(ApiError::not_found(format!("no network {id}")));
    }
    if let Some(a) = &q.account
        && !report
            .accounts
            .iter()
            .any(|x| &x.account == a && x.community == id)
    {
        return Err(ApiError::not_found(format!(
            "account {a:?} is not in network {id}"
        )));
    }
    let st2 = st.clone();
    st.read(move |s| {
        let cl = st2.clearance(s, &who)?;
        cl.check("network", &id.to_string())?;
        let mut total = 0;
        let mut pairs = Vec::new();
        for e in report.edges.iter().filter(|e| e.community == Some(id)) {
            let hit = match (&q.account, &q.peer) {
                (None, _) => true,
                (Some(a), None) => &e.from == a || &e.to == a,
                (Some(a), Some(b)) => (&e.from == a && &e.to == b) || (&e.from == b && &e.to == a),
            };
            if !hit {
                continue;
            }
            // A reader from whom some post is hidden is told how many of
            // the listed pairs it sees, never the edge's whole count.
            let whole = cl.sees_every_post();
            if whole {
                total += e.evidence_total;
            }
            for ev in e.evidence.iter().take(100) {
                if whole && pairs.len() >= 500 {
                    break;
                }
                let mut row = EvidenceRow {
                    from: e.from.clone(),
                    to: e.to.clone(),
                    object: ev.object.clone(),
                    time_delta: ev.time_delta,
                    post: ev.post.clone(),
                    post_y: ev.post_y.clone(),
                };
                fill(s, &platforms, &mut row.post);
                fill(s, &platforms, &mut row.post_y);
                if !(cl.sees_actor_id(&row.from)
                    && cl.sees_actor_id(&row.to)
                    && cl.sees_evidence_post(&row.post)
                    && cl.sees_evidence_post(&row.post_y))
                {
                    continue;
                }
                if !whole {
                    total += 1;
                }
                if pairs.len() < 500 {
                    pairs.push(row);
                }
            }
        }
        Ok(Json(EvidencePage {
            network: id,
            account: q.account,
            peer: q.peer,
            total,
            pairs,
        }))
    })
    .await
}

/// Accounts by inauthenticity score.
#[derive(Serialize, ToSchema)]
pub struct ActorPage {
    pub ready: bool,
    pub total: usize,
    pub actors: Vec<ActorRow>,
}

/// Accounts, most suspicious first (actor signals: rate, burstiness, regularity, night share, age).
#[utoipa::path(get, path = "/api/actors", params(ListQuery), tag = "analysis",
    responses((status = 200, body = ActorPage)), security(("token" = [])))]
pub async fn actors(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Q(q): Q<ListQuery>,
) -> ApiResult<Json<ActorPage>> {
    st.check_collection(&who)?;
    let limit = page(q.limit)?;
    let cl = st.clearance_of(&who).await?;
    let s = st.snapshot.read().map_err(ApiError::internal)?;
    let needle = q.q.as_deref().unwrap_or("").to_lowercase();
    let rows: Vec<ActorRow> = s
        .actors
        .iter()
        .filter(|a| needle.is_empty() || a.actor_id.to_lowercase().contains(&needle))
        // An account's row counts its posts: one hidden from the reader
        // hides the row (the clearance found them once for the request).
        .filter(|a| cl.sees_signals(&a.actor_id))
        .cloned()
        .collect();
    Ok(Json(ActorPage {
        ready: s.ready,
        total: rows.len(),
        actors: rows
            .into_iter()
            .skip(q.offset.unwrap_or(0))
            .take(limit)
            .collect(),
    }))
}

/// One account: its stored posts summarised, its signals and its networks.
#[derive(Serialize, ToSchema)]
pub struct ActorDetail {
    pub platform: String,
    pub actor_id: String,
    /// Its stored posts; `first`, `last` and `languages` are over the same
    /// posts. For a partner from whom some post is hidden, the posts it
    /// sees.
    pub posts: u64,
    pub first: Option<String>,
    pub last: Option<String>,
    #[schema(value_type = Object)]
    pub languages: serde_json::Value,
    /// None for a partner from whom one of its posts is hidden (the
    /// signals are counted over all of them).
    pub signals: Option<ActorRow>,
    /// Coordination networks it belongs to.
    pub networks: Vec<u32>,
    /// Its newest posts (at most 20).
    #[schema(value_type = Vec<Object>)]
    pub recent: Vec<Post>,
}

/// One account by platform and id.
#[utoipa::path(get, path = "/api/actors/{platform}/{id}", tag = "analysis",
    params(("platform" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = ActorDetail), (status = 404, body = crate::error::ErrorBody)),
    security(("token" = [])))]
pub async fn actor(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path((platform, id)): Path<(String, String)>,
) -> ApiResult<Json<ActorDetail>> {
    st.check_collection(&who)?;
    let (signals, networks) = {
        let s = st.snapshot.read().map_err(ApiError::internal)?;
        (
            s.actors.iter().find(|a| a.actor_id == id).cloned(),
            s.coordination
                .as_ref()
                .map(|r| {
                    // Networks name accounts `platform:actor_id`.
                    let account = format!("{platform}:{id}");
                    r.accounts
                        .iter()
                        .filter(|a| a.account == account)
                        .map(|a| a.community)
                        .collect::<Vec<u32>>()
                })
                .unwrap_or_default(),
        )
    };
    let st2 = st.clone();
    st.read(move |s| {
        let cl = st2.clearance(s, &who)?;
        cl.check("actor", &format!("{platform}:{id}"))?;
        if !cl.sees_actor(&platform, &id) {
            return Err(crate::clearance::refused(
                &who,
                &cl.marking("actor", &format!("{platform}:{id}")),
            ));
        }
        let networks: Vec<u32> = networks
            .into_iter()
            .filter(|n| cl.sees("network", &n.to_string()))
            .collect();
        // Signals are counted over all its posts: none when one is hidden.
        let signals = signals.filter(|_| cl.sees_signals(&format!("{platform}:{id}")));
        // Counted over the posts this reader sees.
        let summary = cl.actor_summary(s, &platform, &id)?;
        if summary.posts == 0 {
            return Err(ApiError::not_found(format!(
                "no posts by {platform}:{id} in the store"
            )));
        }
        let mut langs = serde_json::Map::new();
        for (l, c) in summary.languages {
            langs.insert(l, c.into());
        }
        let page = crate::api::posts::search(
            s,
            &crate::api::posts::PostQuery {
                actor: Some(format!("{platform}:{id}")),
                limit: Some(20),
                ..Default::default()
            },
            |p| cl.sees_post(p),
        )?;
        Ok(Json(ActorDetail {
            platform,
            actor_id: id,
            posts: summary.posts,
            first: summary
                .first_ms
                .map(|t| pharos_core::EventTime(t).to_rfc3339()),
            last: summary
                .last_ms
                .map(|t| pharos_core::EventTime(t).to_rfc3339()),
            languages: serde_json::Value::Object(langs),
            signals,
            networks,
            recent: page.posts,
        }))
    })
    .await
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// `open` or `closed` (default both).
    pub status: Option<String>,
    /// Minimum severity, 0 to 1.
    pub min_severity: Option<f64>,
    /// Entity kind: narrative, family, url, domain, hashtag, network, reshare_target, conversation.
    pub kind: Option<String>,
    pub limit: Option<usize>,
}

/// Alerts, most severe first.
#[derive(Serialize, ToSchema)]
pub struct AlertPage {
    pub ready: bool,
    pub total: usize,
    /// Each the latest notification of an alert (fields in docs/formats.md, Alerts).
    #[schema(value_type = Vec<Object>)]
    pub alerts: Vec<Notification>,
}

/// Early-warning alerts (bursts that met the alert rules).
#[utoipa::path(get, path = "/api/alerts", params(AlertQuery), tag = "alerts",
    responses((status = 200, body = AlertPage), (status = 400, body = crate::error::ErrorBody)),
    security(("token" = [])))]
pub async fn alerts(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Q(q): Q<AlertQuery>,
) -> ApiResult<Json<AlertPage>> {
    st.check_collection(&who)?;
    let limit = page(q.limit)?;
    let open = match q.status.as_deref() {
        None | Some("") | Some("all") => None,
        Some("open") => Some(true),
        Some("closed") => Some(false),
        Some(o) => {
            return Err(ApiError::bad_request(format!(
                "status={o:?}: use open, closed or all"
            )));
        }
    };
    let min = q.min_severity.unwrap_or(0.0);
    if !(0.0..=1.0).contains(&min) {
        return Err(ApiError::bad_request(format!(
            "min_severity={min}: give 0 to 1"
        )));
    }
    let cl = st.clearance_of(&who).await?;
    let s = st.snapshot.read().map_err(ApiError::internal)?;
    // Sort references; copy only the page (alerts carry their evidence).
    let mut v: Vec<&Notification> = s
        .alerts
        .values()
        .filter(|n| cl.sees_alert(n))
        .filter(|n| open.is_none_or(|o| o == n.alert.closed_at.is_none()))
        .filter(|n| n.alert.severity >= min)
        .filter(|n| {
            q.kind
                .as_deref()
                .is_none_or(|k| n.alert.entity_kind.as_str() == k)
        })
        .collect();
    v.sort_unstable_by(|a, b| {
        (a.alert.closed_at.is_some())
            .cmp(&b.alert.closed_at.is_some())
            .then(b.alert.severity.total_cmp(&a.alert.severity))
            .then_with(|| a.alert.id.cmp(&b.alert.id))
    });
    Ok(Json(AlertPage {
        ready: s.ready,
        total: v.len(),
        alerts: v.into_iter().take(limit).cloned().collect(),
    }))
}

/// Live alerts and incidents as server-sent events: one `alert` event per
/// notification (raised, updated, closed), its data the notification's
/// JSON; one `incident` event per incident the live assessment found new
/// or changed (`{"change": "new" | "updated", "incident": summary}`, the
/// summary as `/api/incidents` lists it). Partners get no `incident`
/// events (each incident has its own marking: they read `/api/incidents`).
#[utoipa::path(get, path = "/api/alerts/stream", tag = "alerts",
    responses((status = 200, description = "text/event-stream of `alert` and `incident` events", content_type = "text/event-stream")),
    security(("token" = [])))]
pub async fn alert_stream(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
) -> ApiResult<Sse<impl tokio_stream::Stream<Item = Result<Event, std::convert::Infallible>>>> {
    st.check_collection(&who)?;
    let mut rx = st.alerts_tx.subscribe();
    let hello = tokio_stream::once(Ok(Event::default().event("ready").data("{}")));
    // Each alert goes through the clearance filter, as the lists do: a
    // partner gets only the alerts `GET /api/alerts` would show it, with
    // markings read again at most every second.
    let (tx, out) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        let mut cl: Option<(std::time::Instant, Clearance)> = None;
        loop {
            let ev = match rx.recv().await {
                // Incidents each carry their own marking and their posts'
                // and accounts': partners read them from /api/incidents.
                Ok(ev) if ev.kind == "incident" && who.role == crate::auth::Role::Partner => {
                    continue;
                }
                Ok(ev) if ev.kind == "incident" => {
                    Event::default().event("incident").data(&*ev.data)
                }
                Ok(ev) => {
                    let json = ev.data;
                    if who.role == crate::auth::Role::Partner {
                        if cl
                            .as_ref()
                            .is_none_or(|(at, _)| at.elapsed() >= std::time::Duration::from_secs(1))
                        {
                            match st.clearance_of(&who).await {
                                Ok(c) => cl = Some((std::time::Instant::now(), c)),
                                Err(_) => continue,
                            }
                        }
                        let seen = serde_json::from_str::<Notification>(&json)
                            .is_ok_and(|n| cl.as_ref().is_some_and(|(_, c)| c.sees_alert(&n)));
                        if !seen {
                            continue;
                        }
                    }
                    Event::default().event("alert").data(&*json)
                }
                // A slow client missed some: say how many, go on.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    Event::default().event("lagged").data(n.to_string())
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            };
            if tx.send(Ok(ev)).await.is_err() {
                break;
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(out);
    Ok(Sse::new(hello.chain(stream)).keep_alive(KeepAlive::default()))
}
