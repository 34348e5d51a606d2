//! Issue 14, findings 3, 6 and 7 through the whole router: the audit log's
//! flood bound and chain, security headers, the session cookie, the Origin
//! check, failed logins, and RED bound to a token id.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use pharos_core::Post;
use pharos_server::auth::{Role, create};
use pharos_server::state::Shared;
use pharos_server::{Config, router};
use pharos_store::{Audit, SqliteStore, Store};
use std::sync::OnceLock;
use tower::ServiceExt;

struct Fixture {
    _dir: tempfile::TempDir,
    store: std::path::PathBuf,
    state: Shared,
    admin: String,
    analyst: String,
    /// Two partners of `acme`, both named `pat`.
    pat: (String, String),
    namesake: (String, String),
    post: Post,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pharos.db");
        let (_, posts) = common::scenario(dir.path(), 200, 3);
        let mut store = SqliteStore::open(&path).unwrap();
        store.insert(&posts).unwrap();
        let admin = create(&store, Role::Admin, None, "ada").unwrap().token;
        let analyst = create(&store, Role::Analyst, None, "ann").unwrap().token;
        let p1 = create(&store, Role::Partner, Some("acme"), "pat").unwrap();
        let p2 = create(&store, Role::Partner, Some("acme"), "pat").unwrap();
        drop(store);
        let mut config = Config::default();
        config.tlp.orgs = vec!["acme".into()];
        let state = pharos_server::start(&path, config).unwrap();
        Fixture {
            _dir: dir,
            store: path,
            state,
            admin,
            analyst,
            pat: (p1.token, p1.info.id),
            namesake: (p2.token, p2.info.id),
            // A post whose id has no `/` (the marking route's `{id}`).
            post: posts
                .iter()
                .find(|p| p.platform == "twitter")
                .expect("the scenario has tweets")
                .clone(),
        }
    })
}

async fn send(req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let resp = router(fixture().state.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn get(uri: &str, token: Option<&str>) -> Request<Body> {
    let mut r = Request::builder().uri(uri);
    if let Some(t) = token {
        r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    r.body(Body::empty()).unwrap()
}

fn store_bytes(f: &Fixture) -> u64 {
    let wal = f.store.with_extension("db-wal");
    std::fs::metadata(&f.store).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
}

/// Finding 3: 2,000 requests without a token, each to a 60 KB path, wrote
/// 2,000 rows and 160 MB. Now: at most 60 rows a minute, each cut short.
#[tokio::test]
async fn requests_without_a_token_cannot_flood_the_audit_log() {
    let f = fixture();
    f.state.audit.sync();
    let before_rows = SqliteStore::open(&f.store)
        .unwrap()
        .audit(100_000, None)
        .unwrap()
        .len();
    let before = store_bytes(f);
    let long = "a".repeat(60_000);
    for i in 0..2_000 {
        let (status, _, _) = send(get(&format!("/api/posts/flood/{i}{long}"), None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    f.state.audit.sync();
    let s = SqliteStore::open(&f.store).unwrap();
    let rows = s.audit(100_000, None).unwrap();
    let flood: Vec<_> = rows
        .iter()
        .filter(|r| r.path.starts_with("/api/posts/flood/"))
        .collect();
    assert!(
        flood.len() <= pharos_server::audit::UNAUTHENTICATED_PER_MINUTE as usize,
        "{} rows for 2,000 requests",
        flood.len()
    );
    assert!(!flood.is_empty(), "refusals are still audited");
    assert!(
        flood
            .iter()
            .all(|r| r.path.len() < 600 && r.path.ends_with("bytes]")),
        "paths are cut and say how long they were"
    );
    // (Other tests of this file write rows at the same time: only the
    // requests without a token are counted here.)
    let unauthenticated = rows[..rows.len() - before_rows]
        .iter()
        .filter(|r| r.token.is_none() && r.path != "/login")
        .count();
    assert!(
        unauthenticated <= 61,
        "{unauthenticated} rows without a token"
    );
    let grown = store_bytes(f).saturating_sub(before);
    assert!(grown < 4 << 20, "the store grew by {grown} bytes");
    assert_eq!(s.verify_audit().unwrap().broken, None, "the chain is whole");
}

/// Finding 6: CSP and the other headers on every answer.
#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let f = fixture();
    for (uri, token) in [
        ("/", Some(f.analyst.as_str())),
        ("/api/status", Some(f.analyst.as_str())),
        ("/login", None),
        ("/api/status", None),
        ("/api/no-such-route", Some(f.analyst.as_str())),
        ("/static/app.css", None),
    ] {
        let (_, h, _) = send(get(uri, token)).await;
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{uri}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{uri}");
        assert!(csp.contains("object-src 'none'"), "{uri}");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY", "{uri}");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{uri}");
        assert_eq!(h[header::REFERRER_POLICY], "same-origin", "{uri}");
    }
}

fn login(token: &str, extra: &[(&str, &str)]) -> Request<Body> {
    let mut r = Request::builder()
        .method("POST")
        .uri("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    for (k, v) in extra {
        r = r.header(*k, *v);
    }
    r.body(Body::from(format!("token={token}"))).unwrap()
}

/// Finding 6: the cookie is `Secure` behind an HTTPS proxy.
#[tokio::test]
async fn the_session_cookie_is_secure_over_https() {
    let f = fixture();
    let (status, h, _) = send(login(&f.analyst, &[("x-forwarded-proto", "https")])).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let c = h[header::SET_COOKIE].to_str().unwrap();
    assert!(c.contains("; Secure"), "{c}");
    assert!(
        c.contains("HttpOnly") && c.contains("SameSite=Strict"),
        "{c}"
    );
    let (_, h, _) = send(login(&f.analyst, &[])).await;
    assert!(!h[header::SET_COOKIE].to_str().unwrap().contains("Secure"));
}

/// Finding 6: a change signed in by the cookie must come from our pages.
#[tokio::test]
async fn cookie_changes_from_another_site_are_refused() {
    let f = fixture();
    let line = serde_json::to_vec(&Post {
        id: "origin-test-1".into(),
        ..f.post.clone()
    })
    .unwrap();
    let ingest = |headers: &[(&str, String)]| {
        let mut r = Request::builder()
            .method("POST")
            .uri("/api/ingest")
            .header(header::HOST, "pharos.local:8080")
            .header(header::CONTENT_TYPE, "application/x-ndjson");
        for (k, v) in headers {
            r = r.header(*k, v.as_str());
        }
        r.body(Body::from(line.clone())).unwrap()
    };
    let cookie = format!("pharos_token={}", f.analyst);
    let (status, _, body) = send(ingest(&[
        ("cookie", cookie.clone()),
        ("origin", "https://evil.example".into()),
    ]))
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("cross-site"), "{body}");
    let (status, _, _) = send(ingest(&[("cookie", cookie.clone())])).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no Origin at all");
    let (status, _, body) = send(ingest(&[
        ("cookie", cookie.clone()),
        ("origin", "http://pharos.local:8080".into()),
    ]))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A token in the header is no browser's doing: no Origin needed.
    let (status, _, body) = send(ingest(&[
        ("authorization", format!("Bearer {}", f.analyst)),
        ("origin", "https://evil.example".into()),
    ]))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Reads by cookie are not affected.
    let (status, _, _) = send(
        Request::builder()
            .uri("/api/status")
            .header("cookie", cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

/// Finding 7: failed logins are audited and limited per peer.
#[tokio::test]
async fn failed_logins_are_audited_and_limited() {
    let f = fixture();
    let peer: std::net::SocketAddr = "192.0.2.7:5555".parse().unwrap();
    let attempt = |token: &str| {
        let mut r = login(token, &[]);
        r.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        r
    };
    for _ in 0..pharos_server::auth::FAILED_LOGINS_PER_MINUTE {
        let (status, _, _) = send(attempt("pharos_guess")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, h, _) = send(attempt("pharos_guess")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(h.contains_key(header::RETRY_AFTER));
    // Even the right token waits out the minute from this peer.
    let (status, _, _) = send(attempt(&f.analyst)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Another peer signs in.
    let mut r = login(&f.analyst, &[]);
    r.extensions_mut().insert(axum::extract::ConnectInfo(
        "192.0.2.8:5555".parse::<std::net::SocketAddr>().unwrap(),
    ));
    assert_eq!(send(r).await.0, StatusCode::SEE_OTHER);
    f.state.audit.sync();
    let rows = SqliteStore::open(&f.store)
        .unwrap()
        .audit(100_000, None)
        .unwrap();
    let failed = rows
        .iter()
        .filter(|r| {
            r.path == "/login"
                && r.status == 401
                && r.detail.as_deref().is_some_and(|d| d.contains("192.0.2.7"))
        })
        .count();
    assert_eq!(
        failed,
        pharos_server::auth::FAILED_LOGINS_PER_MINUTE as usize
    );
    assert!(rows.iter().any(|r| r.path == "/login" && r.status == 429));
}

/// Finding 7: RED names token ids; a namesake is not cleared, and a
/// marking naming a name is refused.
#[tokio::test]
async fn red_is_bound_to_a_token_id_not_a_name() {
    let f = fixture();
    let p = &f.post;
    let put = |body: String| {
        Request::builder()
            .method("PUT")
            .uri(format!("/api/markings/post/{}:{}", p.platform, p.id))
            .header(header::AUTHORIZATION, format!("Bearer {}", f.admin))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    let (status, _, body) = send(put(r#"{"tlp":"red","people":["pat"]}"#.into())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("token ids"), "{body}");
    let (status, _, body) = send(put(format!(r#"{{"tlp":"red","people":["{}"]}}"#, f.pat.1))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let uri = format!("/api/posts/{}/{}", p.platform, p.id);
    let (status, _, _) = send(get(&uri, Some(&f.pat.0))).await;
    assert_eq!(status, StatusCode::OK, "the named token sees it");
    let (status, _, body) = send(get(&uri, Some(&f.namesake.0))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a namesake does not: {body}");
    assert!(!body.contains(&p.text));
    let (_, _, list) = send(get("/api/posts?limit=500", Some(&f.namesake.0))).await;
    assert!(!list.contains(&format!("\"{}\"", p.id)), "nor in lists");
    let (status, _, _) = send(put(r#"{"tlp":"clear"}"#.into())).await;
    assert_eq!(status, StatusCode::OK);
}
