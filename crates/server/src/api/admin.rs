//! Status, tokens, markings and the audit log.

use crate::audit::AuditEntry;
use crate::auth::{NewToken, Principal, Role, TokenInfo};
use crate::error::{ApiError, ApiResult};
use crate::extract::{J, Q, require};
use crate::state::Shared;
use crate::tlp::{Marking, Tlp};
use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use pharos_store::{Markings, PostLog, Store, TextIndex};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// What the server is doing.
#[derive(Serialize, ToSchema)]
pub struct Status {
    pub version: String,
    pub posts: u64,
    /// Posts the live analysis has read.
    pub analysed: u64,
    /// The start-up read of the store is done.
    pub ready: bool,
    /// Rows indexed for full-text search, of `stored_rowid`.
    pub indexed_rowid: i64,
    pub stored_rowid: i64,
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
    let (ready, analysed) = {
        let s = st.snapshot.read().map_err(ApiError::internal)?;
        (s.ready, s.posts)
    };
    let (posts, indexed, stored) = st
        .read(|s| {
            let indexed = s.indexed_rowid()?;
            let stored = s.max_rowid()?;
            Ok((s.count()?, indexed, stored))
        })
        .await?;
    Ok(Json(Status {
        version: env!("CARGO_PKG_VERSION").into(),
        posts,
        analysed,
        ready,
        indexed_rowid: indexed,
        stored_rowid: stored,
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
    J(req): J<NewTokenRequest>,
) -> ApiResult<(StatusCode, Json<NewToken>)> {
    require(&who, Role::Admin)?;
    let t = st
        .read(move |s| {
            crate::auth::create(s, req.role, req.org.as_deref(), &req.name).map_err(|e| match e {
                crate::auth::TokenError::Store(e) => ApiError::from(e),
                e => ApiError::bad_request(e.to_string()),
            })
        })
        .await?;
    st.audit(AuditEntry {
        token: Some(who.token_id.clone()),
        name: Some(who.name.clone()),
        role: Some(who.role.as_str().into()),
        action: "change".into(),
        method: "POST".into(),
        path: "/api/tokens".into(),
        object: Some(format!("token {}", t.info.id)),
        status: 201,
        detail: Some(format!(
            "created {} token for {:?}",
            t.info.role.as_str(),
            t.info.name
        )),
        ..Default::default()
    });
    Ok((StatusCode::CREATED, Json(t)))
}

/// Revokes a token (admin).
#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 403)),
    security(("token" = [])))]
pub async fn revoke_token(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    require(&who, Role::Admin)?;
    st.read(move |s| {
        crate::auth::revoke(s, &id).map_err(|e| match e {
            crate::auth::TokenError::Unknown(_) => ApiError::not_found(e.to_string()),
            e => ApiError::internal(e),
        })
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
    st.audit.sync();
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
    st.read(move |s| {
        s.set_marking(
            &kind,
            &id,
            &pharos_store::MarkingRecord {
                tlp: m2.tlp.as_str().to_string(),
                orgs: m2.orgs,
                people: m2.people,
            },
        )?;
        Ok(())
    })
    .await?;
    Ok(Json(m))
}
