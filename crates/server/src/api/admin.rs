//! Status, tokens, markings and the audit log.

use crate::audit::{AuditEntry, Commit, InTransaction};
use crate::auth::{NewToken, Principal, Role, TokenInfo};
use crate::error::{ApiError, ApiResult};
use crate::extract::{J, Q, require};
use crate::state::Shared;
use crate::tlp::{Marking, Tlp};
use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use pharos_store::{AuditRecord, Markings, PostLog, Store, TextIndex};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// What the server is doing.
#[derive(Serialize, ToSchema)]
pub struct Status {
    pub version: String,
    /// Posts stored. This and the other counts (`analysed`,
    /// `indexed_rowid`, `stored_rowid`) count the whole store: they are
    /// left out for a partner from whom some post or account is hidden.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub posts: Option<u64>,
    /// Posts the live analysis has read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysed: Option<u64>,
    /// The start-up read of the store is done.
    pub ready: bool,
    /// Rows indexed for full-text search, of `stored_rowid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indexed_rowid: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored_rowid: Option<i64>,
    /// Rows the live incidents have assessed, of `stored_rowid`: when it
    /// reaches `stored_rowid` the incidents are up to date (a backlog is
    /// assessed window by window, and incidents of its early windows can
    /// still change or go).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incidents_rowid: Option<i64>,
    pub uptime_s: u64,
    /// Who is asking.
    pub you: Principal,
}

/// Server status and who you are.
#[utoipa::path(get, path = "/api/status", tag = "admin",
    responses((status = 200, body = Status)), security(("token" = [])))]
pub async fn status(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
) -> ApiResult<Json<Status>> {
    st.check_collection(&who)?;
    let (ready, analysed, incidents) = {
        let s = st.snapshot.read().map_err(ApiError::internal)?;
        (s.ready, s.posts, s.incidents_rowid)
    };
    let st2 = st.clone();
    let w = who.clone();
    let (whole, posts, indexed, stored) = st
        .read(move |s| {
            let whole = st2.clearance(s, &w)?.sees_every_post();
            let indexed = s.indexed_rowid()?;
            let stored = s.max_rowid()?;
            Ok((whole, s.count()?, indexed, stored))
        })
        .await?;
    Ok(Json(Status {
        version: env!("CARGO_PKG_VERSION").into(),
        posts: whole.then_some(posts),
        analysed: whole.then_some(analysed),
        ready,
        indexed_rowid: whole.then_some(indexed),
        stored_rowid: whole.then_some(stored),
        incidents_rowid: whole.then_some(incidents),
        uptime_s: st.started.elapsed().as_secs(),
        you: who,
    }))
}

/// Every token (admin).
#[utoipa::path(get, path = "/api/tokens", tag = "admin",
    responses((status = 200, body = Vec<TokenInfo>), (status = 403)), security(("token" = [])))]
pub async fn tokens(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
) -> ApiResult<Json<Vec<TokenInfo>>> {
    require(&who, Role::Admin)?;
    Ok(Json(
        st.read(|s| crate::auth::list(s).map_err(ApiError::internal))
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenRequest {
    pub role: Role,
    /// Required for partners.
    pub org: Option<String>,
    /// A person or a script; RED markings name people by this.
    pub name: String,
}

/// Creates a token (admin); the answer is the only time it is shown.
#[utoipa::path(post, path = "/api/tokens", tag = "admin", request_body = NewTokenRequest,
    responses((status = 201, body = NewToken), (status = 400, body = crate::error::ErrorBody), (status = 403)),
    security(("token" = [])))]
pub async fn create_token(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    audit: Option<Extension<InTransaction>>,
    J(req): J<NewTokenRequest>,
) -> ApiResult<(StatusCode, Json<NewToken>)> {
    require(&who, Role::Admin)?;
    // The request's audit row, naming the token, is committed with it.
    let commit = audit.map(|Extension(a)| a.commit(201));
    let t = st
        .read(move |s| {
            let t = crate::auth::create_audited(s, req.role, req.org.as_deref(), &req.name, |t| {
                commit
                    .iter()
                    .map(|c| AuditRecord {
                        object: Some(format!("token {}", t.id)),
                        detail: Some(format!(
                            "created {} token for {:?}",
                            t.role.as_str(),
                            t.name
                        )),
                        ..c.row.clone()
                    })
                    .collect()
            })
            .map_err(|e| match e {
                crate::auth::TokenError::Store(e) => ApiError::from(e),
                e => ApiError::bad_request(e.to_string()),
            })?;
            commit.iter().for_each(Commit::committed);
            Ok(t)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// Revokes a token (admin).
#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 403)),
    security(("token" = [])))]
pub async fn revoke_token(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    audit: Option<Extension<InTransaction>>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    require(&who, Role::Admin)?;
    let commit = audit.map(|Extension(a)| a.commit(204));
    st.read(move |s| {
        let rows: Vec<AuditRecord> = commit
            .iter()
            .map(|c| AuditRecord {
                object: Some(format!("token {id}")),
                ..c.row.clone()
            })
            .collect();
        crate::auth::revoke_audited(s, &id, &rows).map_err(|e| match e {
            crate::auth::TokenError::Unknown(_) => ApiError::not_found(e.to_string()),
            e => ApiError::internal(e),
        })?;
        commit.iter().for_each(Commit::committed);
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// 1 to 1000 (default 100).
    pub limit: Option<usize>,
    /// Entries before this sequence number (paging back).
    pub before: Option<i64>,
}

/// The audit log, newest first (admin).
#[utoipa::path(get, path = "/api/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntry>), (status = 403)), security(("token" = [])))]
pub async fn audit(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Q(q): Q<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    require(&who, Role::Admin)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit={limit}: give 1 to 1000"
        )));
    }
    // The list is read once every row recorded before it is written: a
    // log that cannot be written now answers 503, not a list missing rows.
    if !st.audit.synced("GET /api/audit").await {
        return Err(crate::audit::unwritten(
            "the audit log's newest rows are not written",
        ));
    }
    Ok(Json(
        st.read(move |s| Ok(crate::audit::list(s, limit, q.before)?))
            .await?,
    ))
}

pub use crate::clearance::MARKABLE;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkingRequest {
    pub tlp: Tlp,
    #[serde(default)]
    pub orgs: Vec<String>,
    #[serde(default)]
    pub people: Vec<String>,
}

/// Sets the TLP marking of one object (admin). Kinds: post (`platform:id`),
/// narrative, network, actor (`platform:id`), incident, claim. The id is
/// the rest of the path, `/` included (`post/telegram:77/4`); percent-encode
/// `%`, `?` and `#` in it (`post/web:https:%2F%2Fexample.org%2Fa%3Fb`).
#[utoipa::path(put, path = "/api/markings/{kind}/{id}", tag = "admin",
    params(("kind" = String, Path), ("id" = String, Path, description = "The object's id; may hold `/`")), request_body = MarkingRequest,
    responses((status = 200, body = Marking), (status = 400, body = crate::error::ErrorBody), (status = 403)),
    security(("token" = [])))]
pub async fn set_marking(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    audit: Option<Extension<InTransaction>>,
    Path((kind, id)): Path<(String, String)>,
    J(req): J<MarkingRequest>,
) -> ApiResult<Json<Marking>> {
    require(&who, Role::Admin)?;
    if !MARKABLE.contains(&kind.as_str()) {
        return Err(ApiError::bad_request(format!(
            "kind {kind:?}: use one of {}",
            MARKABLE.join(", ")
        )));
    }
    if req.tlp == Tlp::Red && req.people.is_empty() {
        return Err(ApiError::bad_request(
            "TLP:RED names people: give `people`, their token ids (GET /api/tokens)",
        ));
    }
    if req.tlp == Tlp::Red {
        // RED is bound to unique identities: token ids, never names.
        let people = req.people.clone();
        let unknown = st
            .read(move |s| {
                let ids: std::collections::HashSet<String> = crate::auth::list(s)
                    .map_err(ApiError::internal)?
                    .into_iter()
                    .map(|t| t.id)
                    .collect();
                Ok(people.into_iter().find(|p| !ids.contains(p)))
            })
            .await?;
        if let Some(p) = unknown {
            return Err(ApiError::bad_request(format!(
                "people names token ids (GET /api/tokens, `pharos token list`): {p:?} is none"
            )));
        }
    }
    let m = Marking {
        tlp: req.tlp,
        orgs: req.orgs,
        people: req.people,
    };
    let m2 = m.clone();
    // The request's audit row is committed with the marking.
    let commit = audit.map(|Extension(a)| a.commit(200));
    st.read(move |s| {
        let rows: Vec<AuditRecord> = commit
            .iter()
            .map(|c| AuditRecord {
                object: Some(format!("{kind} {id}")),
                ..c.row.clone()
            })
            .collect();
        s.set_marking_audited(
            &kind,
            &id,
            &pharos_store::MarkingRecord {
                tlp: m2.tlp.as_str().to_string(),
                orgs: m2.orgs,
                people: m2.people,
            },
            &rows,
        )?;
        commit.iter().for_each(Commit::committed);
        Ok(())
    })
    .await?;
    Ok(Json(m))
}
