//! The server builds incidents live: a simulated scenario sent through
//! `POST /api/ingest` into a running server (no `pharos assess` run) gives
//! the incidents and alerts that `pharos assess` finds on the same store.
//! Every incident of the assessment has a live one holding at least 80 % of
//! its posts, and the live alerts are the assessment's. The posts reach the
//! live analysis through the writer's channel (none is read back from the
//! store), each live incident is announced as an SSE `incident` event, and
//! the networks of `/api/networks` are the incidents' networks, same ids.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use pharos_server::auth::{Role, create};
use pharos_server::state::Shared;
use pharos_server::{Config, router};
use pharos_store::{PostLog, SqliteStore};
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};
use tower::ServiceExt;

async fn call(
    st: &Shared,
    method: &str,
    uri: &str,
    token: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from(body))
        .unwrap();
    let resp = router(st.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{uri}: not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
    (status, v)
}

fn max_rowid(path: &std::path::Path) -> i64 {
    SqliteStore::open(path).unwrap().max_rowid().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_built_live_from_http_ingest_are_the_ones_pharos_assess_finds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pharos.db");
    let (_, mut posts) = common::scenario(dir.path(), 5_000, 7);
    posts.sort_by_key(|p| p.time);

    // An empty store and a token; then the server, with nothing assessed.
    let store = SqliteStore::open(&path).unwrap();
    let token = create(&store, Role::Analyst, None, "ann").unwrap().token;
    drop(store);
    let mut config = Config::default();
    config.incidents.every_s = 1;
    let st = pharos_server::start(&path, config).unwrap();

    // A live stream subscriber, from before the first post.
    let req = Request::get("/api/alerts/stream")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let resp = router(st.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut sse = resp.into_body();

    // The scenario through HTTP ingest, in batches, in event-time order.
    for chunk in posts.chunks(500) {
        let mut body = Vec::new();
        for p in chunk {
            body.extend(serde_json::to_vec(p).unwrap());
            body.push(b'\n');
        }
        let (status, j) = call(&st, "POST", "/api/ingest", &token, body).await;
        assert_eq!(status, StatusCode::OK, "{j}");
    }
    let stored = max_rowid(&path);
    assert!(stored > 4_000, "the scenario is stored ({stored} rows)");

    // Wait until the live analysis and the live incidents cover every post.
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        {
            let s = st.snapshot.read().unwrap();
            assert!(s.incidents_error.is_none(), "{:?}", s.incidents_error);
            if s.ready && s.members.analysed_rowid >= stored && s.incidents_rowid >= stored {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the live incidents did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    {
        // Fed by the writer, not by reading the store.
        let s = st.snapshot.read().unwrap();
        // (A batch stored before the start-up read began is read with it.)
        assert!(
            s.fed_by_writer + 500 >= stored as u64,
            "{} of {stored} posts came from the writer",
            s.fed_by_writer
        );
        assert_eq!(s.read_from_store, 0, "no post was read back from the store");
    }
    let (status, listed) = call(&st, "GET", "/api/incidents", &token, Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    let listed: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    let mut live = Vec::new();
    for id in &listed {
        let (status, inc) = call(
            &st,
            "GET",
            &format!("/api/incidents/{id}"),
            &token,
            Vec::new(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{inc}");
        let inc: pharos_assess::Incident = serde_json::from_value(inc).unwrap();
        live.push(inc);
    }

    // Each live incident was announced on the stream as it was found.
    let mut announced: HashSet<String> = HashSet::new();
    let mut text = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while listed.iter().any(|id| !announced.contains(id)) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "incident events for {listed:?}: got {announced:?}"
        );
        let Ok(Some(Ok(frame))) = tokio::time::timeout(left, sse.frame()).await else {
            panic!("the stream ended before announcing {listed:?}: got {announced:?}");
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        text.push_str(&String::from_utf8_lossy(&data));
        while let Some(end) = text.find("\n\n") {
            let event: String = text.drain(..end + 2).collect();
            if !event.contains("event: incident") {
                continue;
            }
            let json = event
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .expect("an event has data");
            let v: Value = serde_json::from_str(json).unwrap();
            assert!(
                matches!(v["change"].as_str(), Some("new" | "updated")),
                "{v}"
            );
            announced.insert(v["incident"]["id"].as_str().unwrap().to_string());
        }
    }

    // One numbering of networks: those the incidents name are those the
    // dashboard's API lists, with the same accounts.
    let (status, nets) = call(&st, "GET", "/api/networks", &token, Vec::new()).await;
    assert_eq!(status, StatusCode::OK, "{nets}");
    let listed_nets: std::collections::HashMap<String, Vec<String>> = nets["networks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                format!("network:{}", n["id"]),
                serde_json::from_value(n["members"].clone()).unwrap(),
            )
        })
        .collect();
    let mut named = 0;
    for inc in &live {
        for n in &inc.networks {
            named += 1;
            assert_eq!(
                listed_nets.get(&n.id.to_string()),
                Some(&n.accounts),
                "incident {} names {}: /api/networks has {:?}",
                inc.id,
                n.id,
                listed_nets.keys().collect::<Vec<_>>()
            );
        }
    }
    assert!(named > 0, "the live incidents name coordination networks");

    // `pharos assess` on the same store (what `pharos assess --out` runs).
    let store = SqliteStore::open_existing(&path).unwrap();
    let assessed = pharos_assess::assess_store(&store, &Default::default()).unwrap();
    assert!(
        !assessed.incidents.is_empty(),
        "the scenario has incidents for `pharos assess`"
    );
    assert!(!live.is_empty(), "the server built incidents live");
    for a in &assessed.incidents {
        let want: HashSet<&str> = a.posts.iter().map(String::as_str).collect();
        let best = live
            .iter()
            .map(|l| l.posts.iter().filter(|p| want.contains(p.as_str())).count())
            .max()
            .unwrap_or(0);
        assert!(
            best * 5 >= want.len() * 4,
            "assess incident {} ({} posts): the best live incident holds {best} of them",
            a.id,
            want.len()
        );
    }

    // The alerts: those the live pipeline raised are those of the assessment.
    let live_alerts: BTreeSet<(String, String, String)> = {
        let s = st.snapshot.read().unwrap();
        s.alerts
            .values()
            .map(|n| {
                (
                    n.alert.id.clone(),
                    n.alert.entity_kind.as_str().to_string(),
                    n.alert.entity.clone(),
                )
            })
            .collect()
    };
    let assessed_alerts: BTreeSet<(String, String, String)> = assessed
        .alerts
        .iter()
        .map(|n| {
            (
                n.alert.id.clone(),
                n.alert.entity_kind.as_str().to_string(),
                n.alert.entity.clone(),
            )
        })
        .collect();
    assert!(!assessed_alerts.is_empty(), "the scenario raises alerts");
    assert_eq!(live_alerts, assessed_alerts);
}
