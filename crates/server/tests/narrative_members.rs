//! A narrative's routes describe the narrative `GET /api/narratives` lists
//! under that id, from the live analysis' members (no pass over the store):
//! after start-up and in-order ingest they are the posts one pass over the
//! store finds (same posts, same order, same label); after out-of-order
//! ingest, when a pass would number narratives differently, they are still
//! the listed narrative's. A response pack takes its bursts from the live
//! detector and equals the pack `pharos respond --narrative` builds.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use pharos_analysis::narratives::{NarrativeConfig, NarrativeEngine};
use pharos_claims::respond::pack::ResponsePack;
use pharos_claims::respond::timing::{EMERGING_H, Stage};
use pharos_claims::respond::{PackOptions, Target, build_pack, scan};
use pharos_core::{EventTime, Post};
use pharos_server::claims::{Found, narrative_posts};
use pharos_server::state::Shared;
use pharos_server::{Config, router, start};
use pharos_store::{AnyStore, ClaimMatches, PostLog, Store};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};
use tower::ServiceExt;

fn max_rowid(s: &AnyStore) -> i64 {
    s.max_rowid().unwrap()
}

/// Whether the post stored last is older than one stored before it. The
/// tests store it after the analysis caught up with the others, so the live
/// analysis took it after a newer post: in another order than a pass over
/// the store.
fn last_stored_is_older(s: &AnyStore) -> bool {
    let posts = s.posts_after_rowid(0, usize::MAX).unwrap();
    let Some(((_, last), before)) = posts.split_last() else {
        return false;
    };
    before.iter().any(|(_, p)| p.time > last.time)
}

/// Waits until the live analysis has analysed and published every stored post.
fn caught_up(st: &Shared, s: &AnyStore) {
    let max = max_rowid(s);
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        {
            let snap = st.snapshot.read().unwrap();
            if snap.ready && snap.members.analysed_rowid >= max && snap.published_rowid >= max {
                return;
            }
        }
        assert!(Instant::now() < deadline, "the analysis did not catch up");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The narratives to compare: the largest, and some of two posts.
fn narratives(st: &Shared) -> Vec<u64> {
    let snap = st.snapshot.read().unwrap();
    let mut all: Vec<(u64, u64)> = snap
        .narratives
        .iter()
        .map(|n| (n.total_posts, n.id))
        .collect();
    all.sort_by(|a, b| b.cmp(a));
    let mut out: Vec<u64> = all.iter().take(8).map(|x| x.1).collect();
    out.extend(all.iter().rev().take(4).map(|x| x.1));
    out
}

fn keys<'a>(posts: impl IntoIterator<Item = &'a Post>) -> Vec<(String, String)> {
    posts
        .into_iter()
        .map(|p| (p.platform.clone(), p.id.clone()))
        .collect()
}

/// Compares the server's posts of each narrative with one pass over the
/// store; returns how the server found them.
fn compare(st: &Shared, s: &AnyStore, ns: &[u64]) -> Vec<Found> {
    let wanted: HashSet<u64> = ns.iter().copied().collect();
    let mut pass = scan::scan(s, &wanted, None, &mut |_| {}).unwrap();
    let mut how = Vec::new();
    for &n in ns {
        let (posts, label, found) = narrative_posts(st, s, n).unwrap();
        let want = pass.posts.remove(&n).unwrap_or_default();
        assert!(!want.is_empty(), "narrative {n} has posts");
        assert_eq!(
            keys(posts.iter().map(|p| &p.post)),
            keys(want.iter().map(|p| &p.post)),
            "narrative {n}: posts ({found:?})"
        );
        for (a, b) in posts.iter().zip(&want) {
            assert_eq!(a.post, b.post, "narrative {n}: records");
            assert_eq!(a.family, b.family, "narrative {n}: families");
        }
        assert_eq!(
            label,
            pass.summaries.get(&n).map(|s| s.label.text.clone()),
            "narrative {n}: label"
        );
        how.push(found);
    }
    how
}

/// The scenario's posts in event-time order.
fn scenario(dir: &Path, n: u64, seed: u64) -> Vec<Post> {
    let (_, mut posts) = common::scenario(dir, n, seed);
    posts.sort_by_key(|p| p.time);
    posts
}

/// The scenario's fact-checks imported beside the store and its posts
/// matched against them (`pharos claims import`, `pharos claims match --store`).
fn library(dir: &Path, store: &Path) {
    let library = pharos_claims::library::default_library_dir(store);
    let imported = pharos_claims::library::import(
        &library,
        pharos_claims::library::ImportFormat::ClaimReview,
        &[pharos_sim::factchecks_path(&dir.join("scenario.jsonl"))],
        &pharos_claims::library::ImportOptions::default(),
    )
    .unwrap();
    assert!(imported.claims > 0, "the scenario has fact-checks");
    let lib = pharos_claims::library::Library::open(&library).unwrap();
    let matcher = pharos_claims::retrieval::Matcher::open(&lib).unwrap();
    let mut s = AnyStore::open(store).unwrap();
    let annotated = pharos_claims::retrieval::store::annotate(
        &mut s,
        &matcher,
        &Default::default(),
        pharos_claims::retrieval::DEFAULT_THRESHOLD,
        5,
        &mut |_| {},
    )
    .unwrap();
    assert!(
        annotated.matches > 0,
        "some posts repeat a fact-checked claim"
    );
}

fn token(store: &Path) -> String {
    let s = AnyStore::open(store).unwrap();
    pharos_server::auth::create(&s, pharos_server::auth::Role::Admin, None, "tester")
        .unwrap()
        .token
}

async fn get(st: &Shared, token: &str, uri: &str) -> Value {
    let req = Request::builder()
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let resp = router(st.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        status,
        StatusCode::OK,
        "{uri}: {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).unwrap()
}

#[test]
fn narrative_posts_from_the_live_analysis_equal_a_pass_over_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pharos.db");
    let mut posts = scenario(dir.path(), 3_000, 11);
    // Stored out of event-time order (the start-up read sorts them), the
    // last sixth held back for live ingest.
    let later = posts.split_off(posts.len() * 5 / 6);
    posts.reverse();
    let mut store = AnyStore::open(&path).unwrap();
    store.insert(&posts).unwrap();
    drop(store);
    let st = start(&path, Config::default()).unwrap();
    let reader = AnyStore::open(&path).unwrap();
    caught_up(&st, &reader);
    let ns = narratives(&st);
    assert!(ns.len() >= 8, "the scenario has narratives");
    assert!(
        compare(&st, &reader, &ns).iter().all(|f| *f == Found::Live),
        "no pass over the store after start-up"
    );

    // Live: newer posts in three batches, beside the server.
    let mut writer = AnyStore::open(&path).unwrap();
    for chunk in later.chunks(later.len() / 3 + 1) {
        writer.insert(chunk).unwrap();
        caught_up(&st, &reader);
    }
    let ns = narratives(&st);
    assert!(
        compare(&st, &reader, &ns).iter().all(|f| *f == Found::Live),
        "no pass over the store after live ingest in order"
    );

    // A post older than those analysed: the live order is no longer the
    // store's, and the server still answers from the live analysis.
    let mut old = later[0].clone();
    old.id = format!("{}-late", old.id);
    old.time = EventTime(posts.last().unwrap().time.millis() - 1);
    writer.insert(&[old]).unwrap();
    caught_up(&st, &reader);
    assert!(last_stored_is_older(&reader));
    for &n in &narratives(&st) {
        assert_eq!(narrative_posts(&st, &reader, n).unwrap().2, Found::Live);
    }
}

/// The narrative engine over the posts in the order the live analysis took
/// them: each of `batches` sorted by `(time, rowid)`, one after another.
/// Narrative id → its posts `(platform, id)` and label.
fn replay(batches: &[Vec<Post>]) -> HashMap<u64, (Vec<(String, String)>, String)> {
    let mut engine = NarrativeEngine::new(NarrativeConfig::default());
    let mut posts: HashMap<u64, Vec<(String, String)>> = HashMap::new();
    for batch in batches {
        let mut batch = batch.clone();
        // Stored in this order: rowids follow it.
        batch.sort_by_key(|p| p.time);
        for p in &batch {
            if let Some(n) = engine.observe(p).narrative {
                posts
                    .entry(n)
                    .or_default()
                    .push((p.platform.clone(), p.id.clone()));
            }
        }
    }
    engine
        .narratives(None, None)
        .into_iter()
        .filter_map(|s| Some((s.id, (posts.remove(&s.id)?, s.label.text))))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_out_of_order_ingest_a_narratives_matches_and_pack_describe_the_listed_narrative() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pharos.db");
    let mut posts = scenario(dir.path(), 3_000, 11);
    // Half stored before the server starts; the rest arrives newest batch
    // first (as two ingest connections may commit them), each analysed
    // before the next is stored.
    let rest = posts.split_off(posts.len() / 2);
    let mut batches: Vec<Vec<Post>> = vec![posts.clone()];
    batches.extend(rest.chunks(rest.len() / 4 + 1).rev().map(<[Post]>::to_vec));
    let mut store = AnyStore::open(&path).unwrap();
    store.insert(&batches[0]).unwrap();
    drop(store);
    library(dir.path(), &path);
    let token = token(&path);
    let st = start(&path, Config::default()).unwrap();
    let reader = AnyStore::open(&path).unwrap();
    caught_up(&st, &reader);
    let mut writer = AnyStore::open(&path).unwrap();
    for b in &batches[1..] {
        writer.insert(b).unwrap();
        caught_up(&st, &reader);
    }
    assert!(last_stored_is_older(&reader));

    let list = get(&st, &token, "/api/narratives?limit=500").await;
    let listed: Vec<&Value> = list["narratives"].as_array().unwrap().iter().collect();
    assert!(listed.len() >= 10, "the scenario has narratives");
    // A pass over the store numbers some of them differently: what the
    // routes answered before.
    let ids: HashSet<u64> = listed.iter().map(|n| n["id"].as_u64().unwrap()).collect();
    let pass = scan::scan(&reader, &ids, None, &mut |_| {}).unwrap();
    let differ = listed
        .iter()
        .filter(|n| {
            let id = n["id"].as_u64().unwrap();
            pass.summaries.get(&id).map(|s| s.label.text.as_str()) != n["label"]["text"].as_str()
                || pass.posts.get(&id).map_or(0, Vec::len) as u64
                    != n["total_posts"].as_u64().unwrap()
        })
        .count();
    assert!(
        differ > 0,
        "a pass over the store numbers narratives as listed"
    );

    // Every listed narrative's matches are that narrative's.
    let replayed = replay(&batches);
    for n in &listed {
        let id = n["id"].as_u64().unwrap();
        let m = get(&st, &token, &format!("/api/narratives/{id}/matches")).await;
        assert_eq!(m["narrative_source"], "live", "{m}");
        assert_eq!(m["label"], n["label"]["text"], "narrative {id}: label");
        assert_eq!(m["posts"], n["total_posts"], "narrative {id}: posts");
        // The posts are those the engine puts in it when it takes the
        // posts in the order they arrived.
        let (posts, label, found) = narrative_posts(&st, &reader, id).unwrap();
        assert_eq!(found, Found::Live);
        let (want, want_label) = &replayed[&id];
        let mut want = want.clone();
        let mut got = keys(posts.iter().map(|p| &p.post));
        want.sort();
        got.sort();
        assert_eq!(got, want, "narrative {id}: posts");
        assert_eq!(label.as_ref(), Some(want_label));
        for c in m["matches"].as_array().unwrap() {
            for p in c["posts"].as_array().unwrap() {
                let key = (
                    p["platform"].as_str().unwrap().to_string(),
                    p["id"].as_str().unwrap().to_string(),
                );
                assert!(got.binary_search(&key).is_ok(), "narrative {id}: {key:?}");
            }
        }
    }

    // The response pack and the dashboard's fragment: the listed narrative too.
    let biggest = listed
        .iter()
        .max_by_key(|n| n["total_posts"].as_u64().unwrap())
        .unwrap();
    let id = biggest["id"].as_u64().unwrap();
    let pack = get(&st, &token, &format!("/api/narratives/{id}/response")).await;
    assert_eq!(pack["narrative_source"], "live");
    assert_eq!(pack["target"]["label"], biggest["label"]["text"]);
    assert_eq!(pack["spread"]["posts"], biggest["total_posts"]);
    let live_bursts: Vec<String> = st.snapshot.read().unwrap().narrative_bursts[&id]
        .iter()
        .map(|a| a.id.clone())
        .collect();
    let pack_bursts: Vec<String> = pack["timing"]["bursts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["alert_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(pack_bursts, live_bursts);
    let req = Request::builder()
        .uri(format!("/narratives/{id}/factchecks"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let resp = router(st.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.into_body().collect().await.unwrap().to_bytes();
    let html = String::from_utf8_lossy(&html);
    let stage = pack["timing"]["stage"].as_str().unwrap();
    assert!(
        html.contains("id=response-pack") && html.contains(&format!("class=\"stage {stage}\"")),
        "{html}"
    );
}

/// What a pack says, without its notes (the server does not name its
/// library's directory).
fn comparable(p: &ResponsePack) -> Value {
    let mut v = serde_json::to_value(p).unwrap();
    v.as_object_mut().unwrap().remove("notes");
    v
}

#[test]
fn a_response_pack_from_the_live_analysis_equals_the_clis_and_follows_the_live_bursts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pharos.db");
    let posts = scenario(dir.path(), 5_000, 7);
    let mut store = AnyStore::open(&path).unwrap();
    store.insert(&posts).unwrap();
    drop(store);
    library(dir.path(), &path);
    let st = start(&path, Config::default()).unwrap();
    let reader = AnyStore::open(&path).unwrap();
    caught_up(&st, &reader);
    let who = pharos_server::auth::Principal {
        token_id: "test".into(),
        name: "tester".into(),
        role: pharos_server::auth::Role::Admin,
        org: None,
    };
    let lib =
        pharos_claims::library::Library::open(&pharos_claims::library::default_library_dir(&path))
            .unwrap();
    let matcher = pharos_claims::respond::LazyMatcher::new(&lib);
    let opts = PackOptions {
        max_claims: 3,
        sample: pharos_server::claims::SAMPLE,
        ..PackOptions::default()
    };
    // The largest narratives, and those a pass over the store finds bursts for.
    let mut ns: Vec<(u64, u64)> = {
        let snap = st.snapshot.read().unwrap();
        snap.narratives
            .iter()
            .map(|n| (n.total_posts, n.id))
            .collect()
    };
    ns.sort_by(|a, b| b.cmp(a));
    let all: HashSet<u64> = ns.iter().map(|x| x.1).collect();
    let pass = scan::scan(&reader, &all, None, &mut |_| {}).unwrap();
    let mut bursting: Vec<u64> = pass.bursts.keys().copied().collect();
    bursting.sort();
    assert!(!bursting.is_empty(), "some narratives burst");
    let mut picked: Vec<u64> = ns.iter().take(6).map(|x| x.1).collect();
    picked.extend(bursting.iter().take(10));
    // ... and some whose posts the store matched to a fact-check.
    let matched: HashSet<(String, String)> = {
        reader
            .matches_at_least(f64::MIN)
            .unwrap()
            .into_iter()
            .map(|m| (m.platform, m.post_id))
            .collect()
    };
    let mut with_matches: Vec<u64> = pass
        .posts
        .iter()
        .filter(|(_, ps)| {
            ps.iter()
                .any(|p| matched.contains(&(p.post.platform.clone(), p.post.id.clone())))
        })
        .map(|(n, _)| *n)
        .collect();
    with_matches.sort();
    picked.extend(with_matches.iter().take(4));
    let (mut with_bursts, mut with_claims, mut stages) = (0, 0, HashSet::new());
    for &n in &picked {
        let (server, found) =
            pharos_server::claims::response_pack(&st, &reader, n, 3, &who).unwrap();
        assert_eq!(found, Found::Live, "narrative {n}: no pass over the store");
        let cli = build_pack(
            &reader,
            &lib,
            &Target::Narrative(n),
            &opts,
            Some(&matcher),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(server.target, cli.target, "narrative {n}");
        assert_eq!(server.match_source, cli.match_source, "narrative {n}");
        assert_eq!(server.claims, cli.claims, "narrative {n}: claims");
        assert_eq!(server.verdicts, cli.verdicts, "narrative {n}: verdicts");
        assert_eq!(server.drafts, cli.drafts, "narrative {n}: drafts");
        assert_eq!(server.spread, cli.spread, "narrative {n}: spread");
        assert_eq!(server.as_of, cli.as_of, "narrative {n}: as of");
        assert_eq!(
            comparable(&server)["timing"],
            comparable(&cli)["timing"],
            "narrative {n}: timing"
        );
        assert_eq!(
            comparable(&server),
            comparable(&cli),
            "narrative {n}: the pack"
        );
        // The stage follows the live detector's bursts of the narrative.
        let (bursts, as_of) = {
            let snap = st.snapshot.read().unwrap();
            (
                snap.narrative_bursts.get(&n).cloned().unwrap_or_default(),
                snap.as_of.unwrap(),
            )
        };
        let t = &server.timing;
        match bursts.iter().rev().find(|a| a.closed_at.is_none()) {
            Some(open) if as_of.0 - open.opened_at.0 <= EMERGING_H * 3_600_000 => {
                assert_eq!(t.stage, Stage::Emerging)
            }
            Some(_) => assert_eq!(t.stage, Stage::Sustained),
            None if bursts.is_empty() => {
                assert!(matches!(t.stage, Stage::NoBurst | Stage::Growing))
            }
            None => assert!(matches!(
                t.stage,
                Stage::Subsiding | Stage::Dormant | Stage::Growing
            )),
        }
        assert_eq!(t.bursts.len(), bursts.len());
        with_bursts += usize::from(!bursts.is_empty());
        with_claims += usize::from(!server.claims.is_empty());
        stages.insert(t.stage.as_str());
    }
    assert!(with_bursts > 0, "some narratives burst");
    assert!(with_claims > 0, "some narratives repeat known claims");
    assert!(stages.len() >= 2, "{stages:?}");
}
