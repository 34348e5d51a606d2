//! The server builds incidents live: a simulated scenario sent through
//! `POST /api/ingest` into a running server (no `pharos assess` run) gives
//! the incidents and alerts that `pharos assess` finds on the same store.
//! Every incident of the assessment has a live one holding at least 80 % of
//! its posts, and the live alerts are the assessment's. The posts reach the
//! live analysis through the writer's channel (none is read back from the
//! store), each live incident is announced as an SSE `incident` event, and
//! the networks of `/api/networks` are the incidents' networks, same ids.
//!
//! The scenario arrives in two parts, cut in the middle of a campaign: the
//! live passes read bounded windows of event time (`[incidents] window_h`),
//! so the cut incident grows in the second part and keeps its id, and the
//! incidents that ended more than a window before the newest post are
//! frozen (kept as stored, unchanged).

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

/// Sends posts through `POST /api/ingest` in batches of 500.
async fn send(st: &Shared, token: &str, posts: &[pharos_core::Post]) {
    for chunk in posts.chunks(500) {
        let mut body = Vec::new();
        for p in chunk {
            body.extend(serde_json::to_vec(p).unwrap());
            body.push(b'\n');
        }
        let (status, j) = call(st, "POST", "/api/ingest", token, body).await;
        assert_eq!(status, StatusCode::OK, "{j}");
    }
}

/// An empty store in `dir` with an analyst's token, and the server on it
/// (incidents reassessed every second): the store's path, the token, the
/// server.
fn empty_server(dir: &std::path::Path) -> (std::path::PathBuf, String, Shared) {
    let path = dir.join("pharos.db");
    let store = SqliteStore::open(&path).unwrap();
    let token = create(&store, Role::Analyst, None, "ann").unwrap().token;
    drop(store);
    let mut config = Config::default();
    config.incidents.every_s = 1;
    let st = pharos_server::start(&path, config).unwrap();
    (path, token, st)
}

/// Waits until the live analysis and the live incidents cover the posts
/// up to row `stored`.
async fn caught_up(st: &Shared, stored: i64) {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        {
            let s = st.snapshot.read().unwrap();
            assert!(s.incidents_error.is_none(), "{:?}", s.incidents_error);
            if s.ready && s.members.analysed_rowid >= stored && s.incidents_rowid >= stored {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the live incidents did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_built_live_from_http_ingest_are_the_ones_pharos_assess_finds() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut posts) = common::scenario(dir.path(), 5_000, 7);
    posts.sort_by_key(|p| p.time);

    // An empty store and a token; then the server, with nothing assessed.
    let (path, token, st) = empty_server(dir.path());

    // A live stream subscriber, from before the first post.
    let req = Request::get("/api/alerts/stream")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let resp = router(st.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut sse = resp.into_body();

    // Where to cut: at 80 % of the posts, in the middle of the campaign
    // (as `pharos assess` finds it in the whole scenario) with the most
    // posts on both sides.
    let cut = posts[posts.len() * 8 / 10].time;
    let whole = pharos_assess::assess_posts(posts.clone(), Vec::new(), &Default::default())
        .unwrap()
        .incidents;
    let time_of: std::collections::HashMap<String, pharos_core::EventTime> = posts
        .iter()
        .map(|p| (format!("{}:{}", p.platform, p.id), p.time))
        .collect();
    let sides = |i: &pharos_assess::Incident| {
        let before = i.posts.iter().filter(|p| time_of[*p] < cut).count();
        before.min(i.posts.len() - before)
    };
    let cut_campaign = whole
        .iter()
        .max_by_key(|i| sides(i))
        .filter(|i| sides(i) >= 5)
        .expect("a campaign goes on across the cut");
    let (early, late): (Vec<_>, Vec<_>) = posts.iter().cloned().partition(|p| p.time < cut);
    assert!(!early.is_empty() && !late.is_empty());

    // The first part through HTTP ingest, in batches, in event-time order.
    send(&st, &token, &early).await;
    let first_stored = max_rowid(&path);
    caught_up(&st, first_stored).await;
    let before: Vec<pharos_assess::Incident> = {
        let store = SqliteStore::open_existing(&path).unwrap();
        pharos_assess::load_incidents(&store).unwrap()
    };
    // The live incident holding most of the cut campaign's first half.
    let want: HashSet<&str> = cut_campaign.posts.iter().map(String::as_str).collect();
    let held =
        |i: &pharos_assess::Incident| i.posts.iter().filter(|p| want.contains(p.as_str())).count();
    let cut_live = before
        .iter()
        .max_by_key(|i| held(i))
        .filter(|i| held(i) >= 5)
        .unwrap_or_else(|| {
            panic!("no live incident of the cut campaign before the cut: {before:?}")
        })
        .clone();

    // The rest.
    send(&st, &token, &late).await;
    let stored = max_rowid(&path);
    assert!(stored > 4_000, "the scenario is stored ({stored} rows)");
    caught_up(&st, stored).await;
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

    // The cut incident grew and kept its id.
    let grown = live
        .iter()
        .find(|i| i.id == cut_live.id)
        .unwrap_or_else(|| panic!("the cut incident {} is gone: {listed:?}", cut_live.id));
    assert!(
        grown.posts.len() > cut_live.posts.len(),
        "{} grew from {} posts, has {}",
        grown.id,
        cut_live.posts.len(),
        grown.posts.len()
    );
    assert!(
        held(grown) > held(&cut_live),
        "it holds more of its campaign"
    );
    // Incidents that had ended a window (48 h) before the newest post of
    // the first part were frozen then: kept as they were.
    let newest = posts.iter().map(|p| p.time).max().unwrap();
    let newest_early = early.iter().map(|p| p.time).max().unwrap();
    let window = pharos_server::Config::default().incidents.window_h as i64 * 3_600_000;
    let frozen: Vec<&pharos_assess::Incident> = before
        .iter()
        .filter(|i| i.last_seen.millis() < newest_early.millis() - window)
        .collect();
    assert!(!frozen.is_empty(), "early incidents freeze: {before:?}");
    for f in &frozen {
        let now = live.iter().find(|i| i.id == f.id);
        assert_eq!(now, Some(*f), "frozen incident {} changed", f.id);
    }

    // One numbering of networks: those the open incidents name are those
    // the dashboard's API lists (the last pass's), with the same accounts;
    // a frozen incident's network id names no other network.
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
        let open = inc.last_seen.millis() >= newest.millis() - window;
        for n in &inc.networks {
            if !open {
                if let Some(accounts) = listed_nets.get(&n.id.to_string()) {
                    let common = accounts.iter().filter(|a| n.accounts.contains(a)).count();
                    assert!(
                        2 * common >= accounts.len().min(n.accounts.len()),
                        "{} of frozen {} is another network now: {accounts:?}",
                        n.id,
                        inc.id
                    );
                }
                continue;
            }
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

/// A store opened with a backlog (a week of posts) is assessed window by
/// window; only the incidents standing once the passes reach the newest
/// post are announced on the stream, not those of the first windows that
/// a later pass does not continue (and deletes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_announces_only_the_incidents_that_stand() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pharos.db");
    let (_, posts) = common::scenario(dir.path(), 20_000, 7);
    let mut store = SqliteStore::open(&path).unwrap();
    pharos_store::Store::insert(&mut store, &posts).unwrap();
    let token = create(&store, Role::Analyst, None, "ann").unwrap().token;
    drop(store);
    let stored = max_rowid(&path);
    let mut config = Config::default();
    config.incidents.every_s = 1;
    let st = pharos_server::start(&path, config).unwrap();
    // Subscribed before the start-up read is done, so before any pass.
    assert!(!st.snapshot.read().unwrap().ready || stored == 0);
    let mut events = st.alerts_tx.subscribe();
    caught_up(&st, stored).await;
    let (status, listed) = call(&st, "GET", "/api/incidents", &token, Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    let listed: HashSet<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!listed.is_empty(), "no incident in the backlog");
    let mut announced = HashSet::new();
    loop {
        let e = match events.try_recv() {
            Ok(e) => e,
            Err(tokio::sync::broadcast::error::TryRecvError::Empty) => break,
            Err(e) => panic!("the stream lost events: {e}"),
        };
        if e.kind != "incident" {
            continue;
        }
        let v: Value = serde_json::from_str(&e.data).unwrap();
        announced.insert(v["incident"]["id"].as_str().unwrap().to_string());
    }
    let gone: Vec<&String> = announced.difference(&listed).collect();
    assert!(
        gone.is_empty(),
        "announced, then gone: {gone:?} (standing: {listed:?})"
    );
    assert_eq!(announced, listed, "every standing incident is announced");
}

/// Hostile input: one post dated far in the future (year 9999, and one two
/// days ahead of the clock) sent with a scenario through `POST
/// /api/ingest` is stored, but moves neither the live analysis's clock
/// (which would expire every narrative and closed alert at once) nor the
/// live incidents' windows (which would end after every other post, so no
/// incident would be found and the open ones deleted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_dated_in_the_future_does_not_move_the_live_clock() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut posts) = common::scenario(dir.path(), 6_000, 3);
    let (path, token, st) = empty_server(dir.path());
    let mut far = posts[10].clone();
    far.id = "from-the-future".into();
    far.time = pharos_core::EventTime::MAX;
    let mut soon = posts[11].clone();
    soon.id = "two-days-ahead".into();
    soon.time = pharos_core::EventTime(pharos_core::now_ms() + 2 * 86_400_000);
    let mid = posts.len() / 2;
    posts.insert(mid, far);
    posts.insert(mid + 1, soon);
    send(&st, &token, &posts).await;
    let stored = max_rowid(&path);
    assert_eq!(stored as usize, posts.len(), "every post is stored");
    caught_up(&st, stored).await;
    let newest = posts
        .iter()
        .filter(|p| !p.id.ends_with("future") && p.id != "two-days-ahead")
        .map(|p| p.time)
        .max()
        .unwrap();
    {
        let s = st.snapshot.read().unwrap();
        assert_eq!(s.future_skipped, 2);
        assert_eq!(s.as_of, Some(newest), "the live clock is the scenario's");
        assert!(s.incidents > 0, "the live incidents found nothing");
        assert!(s.narratives.len() > 5, "{} narratives", s.narratives.len());
    }
    let (status, listed) = call(&st, "GET", "/api/incidents", &token, Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!listed.as_array().unwrap().is_empty());
}
