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
use pharos_store::{Audit, Markings, SqliteStore, Store};
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
    assert!(f.state.audit.sync(), "the audit rows are written");
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
    assert!(f.state.audit.sync(), "the audit rows are written");
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
    assert!(f.state.audit.sync(), "the audit rows are written");
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
        pharos_server::auth::FAILED_LOGINS_PER_MINUTE as usize,
        "the /login rows: {:#?}",
        rows.iter()
            .filter(|r| r.path == "/login")
            .collect::<Vec<_>>()
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

/// A POST of NDJSON lines to `uri` with a bearer token.
fn post_ndjson(uri: &str, token: &str, ids: &[&str]) -> Request<Body> {
    let mut body = Vec::new();
    for id in ids {
        body.extend(
            serde_json::to_vec(&Post {
                id: (*id).into(),
                ..fixture().post.clone()
            })
            .unwrap(),
        );
        body.push(b'\n');
    }
    Request::builder()
        .method("POST")
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from(body))
        .unwrap()
}

/// Finding 10: an HTTP ingest batch and its audit row are one
/// transaction. When the answer arrives both are in the store (nothing
/// waits for the audit thread), the chain holds, and a batch whose audit
/// row cannot be written is not stored (the request says so).
#[tokio::test]
async fn an_ingest_batch_is_committed_with_its_audit_row() {
    let f = fixture();
    let (status, _, body) = send(post_ndjson(
        "/api/ingest?note=audit-tx-1",
        &f.analyst,
        &["audit-tx-1", "audit-tx-2"],
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Read at once, behind the server's back: no sync with the audit thread.
    let s = SqliteStore::open(&f.store).unwrap();
    assert!(s.get(&f.post.platform, "audit-tx-2").unwrap().is_some());
    let rows = s.audit(100_000, None).unwrap();
    let row = rows
        .iter()
        .find(|r| r.detail.as_deref() == Some("note=audit-tx-1"))
        .expect("the ingest's audit row is stored with the batch");
    assert_eq!(
        (
            row.action.as_str(),
            row.method.as_str(),
            row.path.as_str(),
            row.status,
            row.name.as_deref()
        ),
        ("change", "POST", "/api/ingest", 200, Some("ann"))
    );
    assert_eq!(
        rows.iter()
            .filter(|r| r.detail.as_deref() == Some("note=audit-tx-1"))
            .count(),
        1,
        "written once, not again after the answer"
    );
    assert_eq!(s.verify_audit().unwrap().broken, None);

    // The audit table refuses this request's row: its batch is not stored.
    rusqlite::Connection::open(&f.store)
        .unwrap()
        .execute(
            "CREATE TRIGGER refuse_audit_tx BEFORE INSERT ON server_audit
             WHEN NEW.detail = 'note=audit-tx-refused'
             BEGIN SELECT RAISE(ABORT, 'audit refused'); END",
            [],
        )
        .unwrap();
    let (status, _, body) = send(post_ndjson(
        "/api/ingest?note=audit-tx-refused",
        &f.analyst,
        &["audit-tx-3"],
    ))
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.contains("nothing was stored"), "{body}");
    assert!(s.get(&f.post.platform, "audit-tx-3").unwrap().is_none());
    assert_eq!(s.verify_audit().unwrap().broken, None);
}

/// Finding 10, other changes: a marking's audit row is in the store when
/// the answer arrives.
#[tokio::test]
async fn a_change_is_audited_before_it_is_answered() {
    let f = fixture();
    // An object no other test reads.
    let uri = "/api/markings/post/twitter:audit-marking?note=audit-before-answer";
    let req = Request::builder()
        .method("PUT")
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", f.admin))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"tlp":"amber"}"#))
        .unwrap();
    let (status, _, body) = send(req).await;
    assert!(status.is_success(), "{status} {body}");
    let rows = SqliteStore::open(&f.store)
        .unwrap()
        .audit(100_000, None)
        .unwrap();
    assert!(
        rows.iter().any(|r| r.method == "PUT"
            && r.detail.as_deref() == Some("note=audit-before-answer")
            && r.status == status.as_u16()),
        "the marking's audit row is stored before the answer"
    );
}

/// Partner lists are filtered before they are paged: a page of N holds N
/// posts the partner is cleared for when that many exist, and the pages
/// together hold each of them once (none marked for others).
#[tokio::test]
async fn a_partners_pages_are_full_of_what_it_may_see() {
    let f = fixture();
    {
        let mut s = SqliteStore::open(&f.store).unwrap();
        let posts: Vec<Post> = (0..30)
            .map(|i| Post {
                platform: "pagetest".into(),
                id: format!("pg{i:02}"),
                time: pharos_core::EventTime(1_700_000_000_000 + i * 60_000),
                ..f.post.clone()
            })
            .collect();
        s.insert(&posts).unwrap();
        // Two in three marked for another organisation, in a run at the
        // newest end (a whole first page of them).
        for i in (0..30).filter(|i| i % 3 != 0 || *i >= 24) {
            s.set_marking(
                "post",
                &format!("pagetest:pg{i:02}"),
                &pharos_store::MarkingRecord {
                    tlp: "amber+strict".into(),
                    orgs: vec!["zeta".into()],
                    people: vec![],
                },
            )
            .unwrap();
        }
    }
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, _, body) = send(get(
            &format!("/api/posts?platform=pagetest&limit=3{cursor}"),
            Some(&f.pat.0),
        ))
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page: serde_json::Value = serde_json::from_str(&body).unwrap();
        let ids: Vec<String> = page["posts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect();
        sizes.push(ids.len());
        seen.extend(ids);
        match page["next"].as_str() {
            Some(n) => cursor = format!("&cursor={n}"),
            None => break,
        }
        assert!(sizes.len() < 20, "paging does not end");
    }
    let want: Vec<String> = (0..24)
        .rev()
        .filter(|i| i % 3 == 0)
        .map(|i| format!("pg{i:02}"))
        .collect();
    assert_eq!(seen, want, "each cleared post once, newest first");
    assert_eq!(&sizes[..2], [3, 3], "full pages: {sizes:?}");
    // The team sees all 30.
    let (_, _, body) = send(get(
        "/api/posts?platform=pagetest&limit=500",
        Some(&f.analyst),
    ))
    .await;
    let all: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(all["posts"].as_array().unwrap().len(), 30);
}

/// The marking route addresses any object id: ids with `/` (Telegram post
/// ids, URLs), raw or percent-encoded, and plain ones as before.
#[tokio::test]
async fn markings_address_ids_with_slashes() {
    let f = fixture();
    let put = |uri: &str| {
        Request::builder()
            .method("PUT")
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", f.admin))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"tlp":"amber+strict","orgs":["zeta"]}"#))
            .unwrap()
    };
    for (uri, id) in [
        ("/api/markings/post/telegram:77/4", "telegram:77/4"),
        ("/api/markings/post/telegram:78%2F5", "telegram:78/5"),
        (
            "/api/markings/post/web:https:%2F%2Fexample.org%2Fa%2Fb%3Fc%3D1%23d",
            "web:https://example.org/a/b?c=1#d",
        ),
        ("/api/markings/actor/twitter:plain-1", "twitter:plain-1"),
    ] {
        let (status, _, body) = send(put(uri)).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        let kind = if uri.contains("/actor/") {
            "actor"
        } else {
            "post"
        };
        let m = SqliteStore::open(&f.store)
            .unwrap()
            .marking(kind, id)
            .unwrap();
        assert_eq!(
            m.map(|m| (m.tlp, m.orgs)),
            Some(("amber+strict".to_string(), vec!["zeta".to_string()])),
            "{uri} marks {id}"
        );
    }
}

/// Issue 14: a TAXII POST's objects, the inbox's rows, its status resource
/// and its audit row are one transaction. When the audit row is refused,
/// none of them is stored (the partner's objects were once committed
/// before the inbox's transaction failed).
#[tokio::test]
async fn a_taxii_post_is_stored_whole_or_not_at_all() {
    use pharos_server::taxii::{INBOX, MEDIA_TYPE};
    use pharos_store::StixObjects;
    use pharos_store::taxii::TaxiiStore;
    let f = fixture();
    let object = |n: u32| {
        serde_json::json!({
            "type": "url", "spec_version": "2.1",
            "id": format!("url--7a7a7a7a-0000-4000-8000-{n:012x}"),
            "value": format!("https://partner.example/tx/{n}"),
        })
    };
    let post = |objects: Vec<serde_json::Value>| {
        Request::builder()
            .method("POST")
            .uri(format!("/taxii2/pharos/collections/{INBOX}/objects/"))
            .header(header::AUTHORIZATION, format!("Bearer {}", f.analyst))
            .header(header::ACCEPT, MEDIA_TYPE)
            .header(header::CONTENT_TYPE, MEDIA_TYPE)
            .body(Body::from(
                serde_json::to_vec(&serde_json::json!({ "objects": objects })).unwrap(),
            ))
            .unwrap()
    };
    let statuses = || -> i64 {
        rusqlite::Connection::open(&f.store)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM taxii_status", [], |r| r.get(0))
            .unwrap()
    };
    let stored = |n: u32| {
        let s = SqliteStore::open(&f.store).unwrap();
        let id = object(n)["id"].as_str().unwrap().to_string();
        let stix = s
            .stix_objects(Some("url"))
            .unwrap()
            .iter()
            .any(|o| o.id == id);
        let inbox = !s.object_rows(INBOX, Some(&id)).unwrap().is_empty();
        (stix, inbox)
    };
    // Accepted: the object, its inbox row and the status are there.
    let before = statuses();
    let (status, _, body) = send(post(vec![object(1)])).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(stored(1), (true, true));
    assert_eq!(statuses(), before + 1);
    // The audit table refuses the POST's row: nothing of it is stored.
    rusqlite::Connection::open(&f.store)
        .unwrap()
        .execute(
            "CREATE TRIGGER refuse_taxii_tx BEFORE INSERT ON server_audit
             WHEN NEW.object LIKE 'status:%'
             BEGIN SELECT RAISE(ABORT, 'audit refused'); END",
            [],
        )
        .unwrap();
    let (status, _, body) = send(post(vec![object(2)])).await;
    assert!(status.is_server_error(), "{status} {body}");
    assert_eq!(
        stored(2),
        (false, false),
        "the partner's object or its inbox row was stored without the POST's audit row"
    );
    assert_eq!(statuses(), before + 1, "a status without its objects");
    rusqlite::Connection::open(&f.store)
        .unwrap()
        .execute("DROP TRIGGER refuse_taxii_tx", [])
        .unwrap();
}
