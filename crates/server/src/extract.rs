//! Extractors that answer bad input with the JSON error shape, and the
//! access middleware (token → principal, audit).

use crate::audit::{AuditEntry, InTransaction};
use crate::auth::{Principal, Role};
use crate::error::ApiError;
use crate::state::Shared;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// Query parameters; a bad one is a 400 naming it.
pub struct Q<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(q) => Ok(Q(q.0)),
            Err(e) => Err(ApiError::bad_request(format!(
                "bad query parameters: {}",
                e.body_text()
            ))),
        }
    }
}

/// A JSON body; a bad one is a 400 (or 413, 415) saying what was wrong.
pub struct J<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for J<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(j) => Ok(J(j.0)),
            Err(e) => {
                // Syntax and wrong types alike are the client's to fix: 400.
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    return Err(ApiError::new(
                        e.status(),
                        "payload_too_large",
                        e.body_text(),
                    ));
                }
                Err(ApiError::bad_request(format!(
                    "bad JSON body: {}",
                    e.body_text()
                )))
            }
        }
    }
}

/// The token of a request: `Authorization: Bearer TOKEN`, or HTTP Basic
/// with any user name and the token as the password (what TAXII clients and
/// OpenCTI's TAXII connector send), else the dashboard's `pharos_token` cookie.
pub fn presented_token(headers: &axum::http::HeaderMap) -> Option<String> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let v = v.trim();
        if let Some(t) = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
        {
            return Some(t.trim().to_string());
        }
        if let Some(b) = v
            .strip_prefix("Basic ")
            .or_else(|| v.strip_prefix("basic "))
        {
            use base64::Engine;
            let password = base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
                .and_then(|d| String::from_utf8(d).ok())
                .and_then(|up| up.split_once(':').map(|(_, p)| p.to_string()));
            return Some(password.unwrap_or_default());
        }
        return Some(String::new());
    }
    for c in headers.get_all(header::COOKIE) {
        if let Ok(c) = c.to_str() {
            for part in c.split(';') {
                if let Some(t) = part.trim().strip_prefix("pharos_token=") {
                    return Some(t.trim().to_string());
                }
            }
        }
    }
    None
}

/// The peer's address, when the server was started with it
/// (`pharos serve`); `None` in tests that call the router directly.
pub struct Peer(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Whether the request's token came from the session cookie (no
/// `Authorization` header).
fn by_cookie(headers: &axum::http::HeaderMap) -> bool {
    !headers.contains_key(header::AUTHORIZATION) && presented_token(headers).is_some()
}

/// What an audit row calls a request.
fn action_of(method: &Method, path: &str) -> &'static str {
    if method == Method::GET || method == Method::HEAD {
        if path.starts_with("/api/stix/export")
            || (path.starts_with("/taxii2/") && path.contains("/objects"))
            || path.contains("/export")
            || path.starts_with("/api/reports")
        {
            "export"
        } else {
            "read"
        }
    } else {
        "change"
    }
}

/// Looks the token up, refuses what has none or a wrong one (401), puts
/// the [`Principal`] in the request, and writes the audit row.
pub async fn access(State(state): State<Shared>, mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let token = presented_token(req.headers());
    let principal = match token {
        None => None,
        Some(t) if t.is_empty() => None,
        Some(t) => {
            let r = state
                .read(move |s| crate::auth::verify(s, &t).map_err(ApiError::internal))
                .await;
            match r {
                Ok(p) => p,
                Err(e) => return e.into_response(),
            }
        }
    };
    let Some(p) = principal else {
        let had = presented_token(req.headers()).is_some();
        state.audit(AuditEntry {
            action: "refused".into(),
            method: method.to_string(),
            path: path.clone(),
            status: 401,
            detail: Some(
                if had {
                    "unknown or revoked token"
                } else {
                    "no token"
                }
                .into(),
            ),
            ..Default::default()
        });
        let message = if had {
            "the token is unknown or revoked; ask an admin for one (`pharos token create`)"
        } else {
            "this route needs a token: send `Authorization: Bearer TOKEN` (create one with `pharos token create --role analyst`)"
        };
        if path == "/taxii2" || path.starts_with("/taxii2/") {
            return crate::taxii::unauthorized(message);
        }
        let dashboard = !path.starts_with("/api/");
        if dashboard {
            return axum::response::Redirect::to("/login").into_response();
        }
        return ApiError::unauthorized(message).into_response();
    };
    // A change signed in by the cookie must come from this server's pages
    // (issue 14, finding 6): a cross-site form or script is refused.
    if !crate::headers::is_safe(&method)
        && by_cookie(req.headers())
        && let Err(why) = crate::headers::same_origin(req.headers())
    {
        state.audit(AuditEntry {
            token: Some(p.token_id.clone()),
            name: Some(p.name.clone()),
            role: Some(p.role.as_str().into()),
            org: p.org.clone(),
            action: "refused".into(),
            method: method.to_string(),
            path,
            status: 403,
            detail: Some(why.clone()),
            ..Default::default()
        });
        return ApiError::forbidden(why).into_response();
    }
    req.extensions_mut().insert(p.clone());
    let entry = AuditEntry {
        token: Some(p.token_id.clone()),
        name: Some(p.name.clone()),
        role: Some(p.role.as_str().into()),
        org: p.org.clone(),
        action: action_of(&method, &path).into(),
        method: method.to_string(),
        path,
        object: None,
        detail: query,
        ..Default::default()
    };
    // A change's row is committed before its answer goes out (issue 14,
    // finding 10): by the handler's own write transaction when it has one
    // (HTTP ingest), else by the audit thread, waited for below.
    let change = (!crate::headers::is_safe(&method)).then(|| InTransaction::new(entry.clone()));
    if let Some(c) = &change {
        req.extensions_mut().insert(c.clone());
    }
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    let refused = |mut e: AuditEntry| {
        if status == 403 {
            e.action = "refused".into();
        }
        e
    };
    match change {
        Some(c) if c.written() => {}
        Some(c) => {
            state.audit(refused(c.into_entry(status)));
            // A change is audited before it is answered (issue 14,
            // finding 10): when its row cannot be written, a change
            // answered as done becomes 503 (a refused or failed one keeps
            // its answer; both are logged).
            if !state
                .audit
                .synced(&format!("{method} {}", entry.path))
                .await
                && resp.status().is_success()
            {
                return crate::audit::unwritten("the change's audit row").into_response();
            }
        }
        None => state.audit(refused(AuditEntry { status, ..entry })),
    }
    resp
}

/// Refuses a principal below `role` (403).
pub fn require(p: &Principal, role: Role) -> Result<(), ApiError> {
    if p.role.at_least(role) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "this needs the {} role; the token {:?} is {}",
            role.as_str(),
            p.name,
            p.role.as_str()
        )))
    }
}
