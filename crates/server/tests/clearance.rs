//! Issue 14, finding 2: a partner never sees an id, label or text of an
//! object marked for others, through any route.
//!
//! A property test: random TLP markings (level, organisations, people) on
//! random posts, accounts, narratives, networks and incidents of a
//! simulated scenario, and a random partner; then every route a partner may
//! read (REST lists, searches and details, the SSE stream, the dashboard's
//! pages, exports, reports, TAXII) is read as that partner, and no answer
//! may hold an id or text of an object whose marking does not clear it.
//! Which markings clear whom is decided here by the TLP 2.0 rules written
//! out again (not by the server's code), so the test checks the server.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use pharos_core::Post;
use pharos_server::auth::{Role, create};
use pharos_server::state::Shared;
use pharos_server::{Config, router};
use pharos_store::{MarkingRecord, Markings, SqliteStore, Store};
use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestCaseError, TestRunner};
use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// A partner token.
#[derive(Clone, Debug)]
struct Partner {
    token: String,
    id: String,
    org: String,
}

/// An object a marking can be set on, and the strings that would show it.
#[derive(Clone, Debug)]
struct Obj {
    kind: &'static str,
    id: String,
    /// Substrings no answer to an uncleared partner may contain.
    needles: Vec<String>,
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: std::path::PathBuf,
    rt: tokio::runtime::Runtime,
    state: Shared,
    partners: Vec<Partner>,
    pool: Vec<Obj>,
    narratives: Vec<u64>,
    networks: Vec<u32>,
    incidents: Vec<String>,
    actors: Vec<(String, String)>,
    posts: Vec<(String, String)>,
    /// Words of hidden-candidate posts to search for.
    words: Vec<String>,
}

/// A stretch of `text` (letters, digits and spaces, 24 characters) that no
/// other post of the scenario contains: it shows this post and no other.
fn unique_window(text: &str, all: &[Post]) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    for start in 0..chars.len().saturating_sub(24) {
        let w: String = chars[start..start + 24].iter().collect();
        if !w.chars().all(|c| c.is_alphanumeric() || c == ' ') || w.trim() != w {
            continue;
        }
        if all.iter().filter(|p| p.text.contains(&w)).count() == 1 {
            return Some(w);
        }
    }
    None
}

fn id_needles(id: &str) -> Vec<String> {
    vec![
        format!("\"{id}\""),
        format!(":{id}\""),
        format!("/{id}\""),
        format!(">{id}<"),
    ]
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pharos.db");
        let (_, posts) = common::scenario(dir.path(), 3_000, 11);
        let mut store = SqliteStore::open(&path).unwrap();
        store.insert(&posts).unwrap();
        let assessment = pharos_assess::assess_store(&store, &Default::default()).unwrap();
        assert!(
            !assessment.incidents.is_empty(),
            "the scenario has incidents"
        );
        pharos_assess::save_incidents(&mut store, &assessment.incidents).unwrap();
        let mut partners = Vec::new();
        // Two partners of one organisation with the same name: RED names
        // one of them by token id, and must not clear the other.
        for (org, name) in [
            ("acme", "pat"),
            ("acme", "pat"),
            ("bravo", "bob"),
            ("zeta", "oz"),
        ] {
            let t = create(&store, Role::Partner, Some(org), name).unwrap();
            partners.push(Partner {
                token: t.token,
                id: t.info.id,
                org: org.into(),
            });
        }
        drop(store);
        let mut config = Config::default();
        // Every partner is cleared for what has no marking of its own.
        config.tlp.default = pharos_server::tlp::Tlp::Green;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let state = rt.block_on(async { pharos_server::start(&path, config).unwrap() });
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            {
                let s = state.snapshot.read().unwrap();
                if s.ready && (s.coordination.is_some() || s.coordination_error.is_some()) {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "analysis did not finish");
            std::thread::sleep(Duration::from_millis(100));
        }
        let by_id = |id: &str| posts.iter().find(|p| p.id == id).cloned();
        let mut pool: Vec<Obj> = Vec::new();
        let mut seen: HashSet<(String, String)> = HashSet::new();
        let mut words = Vec::new();
        let mut add_post = |pool: &mut Vec<Obj>, words: &mut Vec<String>, p: &Post| {
            if seen.insert(("post".into(), format!("{}:{}", p.platform, p.id))) {
                let mut needles = id_needles(&p.id);
                if let Some(w) = unique_window(&p.text, &posts) {
                    words.push(
                        w.split_whitespace()
                            .max_by_key(|x| x.len())
                            .unwrap_or("")
                            .to_string(),
                    );
                    needles.push(w);
                }
                pool.push(Obj {
                    kind: "post",
                    id: format!("{}:{}", p.platform, p.id),
                    needles,
                });
            }
            let key = format!("{}:{}", p.platform, p.actor.id);
            if seen.insert(("actor".into(), key.clone())) {
                pool.push(Obj {
                    kind: "actor",
                    id: key,
                    needles: id_needles(&p.actor.id),
                });
            }
        };
        let (narratives, networks, alerts) = {
            let s = state.snapshot.read().unwrap();
            let ns: Vec<_> = s.narratives.iter().take(6).cloned().collect();
            let nets: Vec<_> = s
                .coordination
                .as_ref()
                .map(|r| r.communities.iter().take(3).cloned().collect())
                .unwrap_or_default();
            let alerts: Vec<_> = s.alerts.values().take(8).cloned().collect();
            (ns, nets, alerts)
        };
        assert!(!narratives.is_empty(), "the scenario has narratives");
        assert!(!alerts.is_empty(), "the scenario raises alerts");
        for n in &narratives {
            pool.push(Obj {
                kind: "narrative",
                id: n.id.to_string(),
                needles: vec![
                    format!("\"narrative:{}\"", n.id),
                    format!("/narratives/{}\"", n.id),
                ],
            });
            if let Some(p) = n.label.representative.as_ref().and_then(|r| by_id(&r.id)) {
                add_post(&mut pool, &mut words, &p);
            }
        }
        for n in &networks {
            pool.push(Obj {
                kind: "network",
                id: n.id.to_string(),
                needles: vec![
                    format!("\"network:{}\"", n.id),
                    format!("/networks/{}\"", n.id),
                ],
            });
            if let Some(p) = n
                .members
                .first()
                .and_then(|m| posts.iter().find(|p| &p.actor.id == m))
            {
                add_post(&mut pool, &mut words, &p.clone());
            }
        }
        for a in &alerts {
            if let Some(p) = a.alert.evidence_posts.first().and_then(|id| by_id(id)) {
                add_post(&mut pool, &mut words, &p);
            }
        }
        for p in posts.iter().step_by(401) {
            add_post(&mut pool, &mut words, p);
        }
        let incidents: Vec<String> = assessment
            .incidents
            .iter()
            .take(3)
            .map(|i| i.id.clone())
            .collect();
        for i in &incidents {
            pool.push(Obj {
                kind: "incident",
                id: i.clone(),
                needles: vec![i.clone()],
            });
        }
        let actors = pool
            .iter()
            .filter(|o| o.kind == "actor")
            .filter_map(|o| o.id.split_once(':'))
            .map(|(p, a)| (p.to_string(), a.to_string()))
            .collect();
        let post_keys = pool
            .iter()
            .filter(|o| o.kind == "post")
            .filter_map(|o| o.id.split_once(':'))
            .map(|(p, a)| (p.to_string(), a.to_string()))
            .collect();
        words.retain(|w| w.len() >= 4);
        words.truncate(4);
        Fixture {
            _dir: dir,
            store: path,
            rt,
            state,
            partners,
            pool,
            narratives: narratives.iter().map(|n| n.id).collect(),
            networks: networks.iter().map(|n| n.id).collect(),
            incidents,
            actors,
            posts: post_keys,
            words,
        }
    })
}

/// The TLP 2.0 rules, as docs/server.md states them, for a partner
/// (the store's default is GREEN for every organisation).
fn clears(m: &MarkingRecord, p: &Partner) -> bool {
    match m.tlp.as_str() {
        "clear" | "green" => true,
        "amber" | "amber+strict" => m.orgs.contains(&p.org),
        "red" => m.people.contains(&p.id),
        _ => false,
    }
}

async fn get(uri: &str, token: &str) -> (StatusCode, String) {
    let f = fixture();
    let req = Request::builder()
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(
            header::ACCEPT,
            if uri.starts_with("/taxii2/") {
                "application/taxii+json;version=2.1"
            } else {
                "*/*"
            },
        )
        .body(Body::empty())
        .unwrap();
    let resp = router(f.state.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// The alerts a partner's live stream delivers while every alert of the
/// analysis is published once.
async fn streamed(token: &str) -> String {
    let f = fixture();
    let req = Request::builder()
        .uri("/api/alerts/stream")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let resp = router(f.state.clone()).oneshot(req).await.unwrap();
    let mut body = resp.into_body();
    let mut out = String::new();
    // The `ready` event: the stream is subscribed.
    if let Ok(Some(Ok(fr))) = tokio::time::timeout(Duration::from_secs(10), body.frame()).await
        && let Some(d) = fr.data_ref()
    {
        out.push_str(&String::from_utf8_lossy(d));
    }
    let all: Vec<pharos_server::analyst::LiveEvent> = f
        .state
        .snapshot
        .read()
        .unwrap()
        .alerts
        .values()
        .map(pharos_server::analyst::LiveEvent::alert)
        .collect();
    for ev in all {
        let _ = f.state.alerts_tx.send(ev);
    }
    while let Ok(Some(Ok(fr))) =
        tokio::time::timeout(Duration::from_millis(1500), body.frame()).await
    {
        if let Some(d) = fr.data_ref() {
            out.push_str(&String::from_utf8_lossy(d));
        }
    }
    out
}

/// Every route a partner may read, for the fixture's objects.
fn routes() -> Vec<String> {
    let f = fixture();
    let mut r: Vec<String> = [
        "/api/posts?limit=500",
        "/api/narratives?limit=500",
        "/api/networks?limit=500",
        "/api/actors?limit=500",
        "/api/alerts?limit=500",
        "/api/incidents",
        "/api/stats",
        "/api/status",
        "/",
        "/alerts",
        "/narratives",
        "/networks",
        "/incidents",
        "/search",
        "/taxii2/pharos/collections/findings/objects/?limit=10000",
        "/taxii2/pharos/collections/findings/manifest/?limit=10000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for w in &f.words {
        r.push(format!("/api/posts?q={w}&limit=500"));
        r.push(format!("/search?q={w}"));
    }
    for n in &f.narratives {
        r.push(format!("/api/narratives/{n}"));
        r.push(format!("/narratives/{n}"));
        r.push(format!("/api/stix/export?narrative={n}"));
        r.push(format!("/api/narratives/{n}/response"));
    }
    for n in &f.networks {
        r.push(format!("/api/networks/{n}"));
        r.push(format!("/api/networks/{n}/posts"));
        r.push(format!("/networks/{n}"));
        r.push(format!("/api/stix/export?network={n}"));
    }
    for i in &f.incidents {
        r.push(format!("/api/incidents/{i}"));
        r.push(format!("/api/reports/{i}"));
        r.push(format!("/api/stix/export?incident={i}"));
        r.push(format!("/incidents/{i}"));
    }
    for (p, a) in &f.actors {
        r.push(format!("/api/actors/{p}/{a}"));
        r.push(format!("/api/posts?actor={p}:{a}&limit=500"));
    }
    for (p, id) in &f.posts {
        r.push(format!("/api/posts/{p}/{id}"));
    }
    r
}

#[derive(Clone, Debug)]
struct Mark {
    /// Index into the pool.
    obj: usize,
    tlp: &'static str,
    orgs: Vec<String>,
    /// Indexes of partners named (by token id) for RED.
    people: Vec<usize>,
    /// RED naming a partner's name instead (clears no one).
    by_name: bool,
}

fn marks(pool: usize) -> impl Strategy<Value = (Vec<Mark>, usize)> {
    let mark = (
        0..pool,
        prop::sample::select(vec!["clear", "green", "amber", "amber+strict", "red"]),
        prop::sample::subsequence(vec!["acme", "bravo", "zeta"], 0..=2),
        prop::sample::subsequence(vec![0usize, 1, 2, 3], 0..=2),
        any::<bool>(),
    )
        .prop_map(|(obj, tlp, orgs, people, by_name)| Mark {
            obj,
            tlp,
            orgs: orgs.into_iter().map(String::from).collect(),
            people,
            by_name,
        });
    (prop::collection::vec(mark, 1..8), 0usize..4)
}

async fn round(marks: &[Mark], who: usize) -> Result<(), TestCaseError> {
    let f = fixture();
    let partner = &f.partners[who];
    // Set this round's markings (the ones of earlier rounds back to CLEAR).
    let store = SqliteStore::open(&f.store).unwrap();
    for o in &f.pool {
        store
            .set_marking(
                o.kind,
                &o.id,
                &MarkingRecord {
                    tlp: "clear".into(),
                    orgs: vec![],
                    people: vec![],
                },
            )
            .unwrap();
    }
    let mut hidden: Vec<&Obj> = Vec::new();
    for m in marks {
        let o = &f.pool[m.obj];
        let rec = MarkingRecord {
            tlp: m.tlp.into(),
            orgs: m.orgs.clone(),
            people: m
                .people
                .iter()
                .map(|&i| {
                    if m.by_name {
                        "pat".to_string()
                    } else {
                        f.partners[i].id.clone()
                    }
                })
                .collect(),
        };
        store.set_marking(o.kind, &o.id, &rec).unwrap();
    }
    // The last marking of an object wins.
    for o in &f.pool {
        let m = store.marking(o.kind, &o.id).unwrap().unwrap();
        if !clears(&m, partner) {
            hidden.push(o);
        }
    }
    drop(store);
    let hidden_alerts: Vec<String> = {
        let s = f.state.snapshot.read().unwrap();
        s.alerts
            .values()
            .filter(|n| {
                let a = &n.alert;
                hidden.iter().any(|o| match o.kind {
                    "narrative" | "network" => a.entity_kind.as_str() == o.kind && a.entity == o.id,
                    "post" => {
                        let bare = o.id.split_once(':').map_or(o.id.as_str(), |x| x.1);
                        a.evidence_posts.iter().any(|p| p == bare) || a.entity == o.id
                    }
                    _ => false,
                })
            })
            .map(|n| format!("\"{}\"", n.alert.id))
            .collect()
    };
    let check = |route: &str, status: StatusCode, body: &str| -> Result<(), TestCaseError> {
        for o in &hidden {
            for n in &o.needles {
                prop_assert!(
                    !body.contains(n.as_str()),
                    "{route} ({status}) shows {} {} (marked for others) to partner {} of {}: {n:?} in the answer",
                    o.kind,
                    o.id,
                    partner.id,
                    partner.org
                );
            }
        }
        for a in &hidden_alerts {
            prop_assert!(
                !body.contains(a.as_str()),
                "{route} shows alert {a}, which names an object marked for others"
            );
        }
        Ok(())
    };
    for route in routes() {
        let (status, body) = get(&route, &partner.token).await;
        prop_assert!(!status.is_server_error(), "{route}: {status} {body}");
        check(&route, status, &body)?;
        // A hidden narrative or network is neither listed nor served.
        for o in &hidden {
            let detail = match o.kind {
                "narrative" => format!("/api/narratives/{}", o.id),
                "network" => format!("/api/networks/{}", o.id),
                "incident" => format!("/api/incidents/{}", o.id),
                "actor" => format!("/api/actors/{}", o.id.replacen(':', "/", 1)),
                "post" => format!("/api/posts/{}", o.id.replacen(':', "/", 1)),
                _ => continue,
            };
            if route == detail {
                prop_assert!(
                    status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
                    "{route} answers {status} to a partner the marking does not clear"
                );
            }
            if (route.starts_with("/api/narratives?") && o.kind == "narrative")
                || (route.starts_with("/api/networks?") && o.kind == "network")
            {
                let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                let list = &v[if o.kind == "narrative" {
                    "narratives"
                } else {
                    "networks"
                }];
                prop_assert!(
                    !list.as_array().unwrap().iter().any(|n| n["id"]
                        .as_u64()
                        .map(|x| x.to_string())
                        .as_deref()
                        == Some(o.id.as_str())),
                    "{route} lists {} {} marked for others",
                    o.kind,
                    o.id
                );
            }
        }
    }
    let live = streamed(&partner.token).await;
    check("/api/alerts/stream", StatusCode::OK, &live)?;
    counts(partner, &hidden).await
}

/// Every post of `route` (a post list), following `next`.
async fn all_posts(route: &str, token: &str) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let uri = match &next {
            Some(c) => format!("{route}&cursor={c}"),
            None => route.to_string(),
        };
        let (status, body) = get(&uri, token).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        out.extend(v["posts"].as_array().unwrap().iter().cloned());
        match v["next"].as_str() {
            Some(c) => next = Some(c.to_string()),
            None => return out,
        }
    }
}

/// A partner is never told how many there are of what it may not see
/// (issue 14, finding 2): every count it gets is of what it can list.
async fn counts(partner: &Partner, hidden: &[&Obj]) -> Result<(), TestCaseError> {
    let f = fixture();
    // By the TLP rules above: is some post hidden, by its own marking or
    // its account's?
    let posts_hidden = hidden.iter().any(|o| o.kind == "post" || o.kind == "actor");
    // Whole-store counters: only when every post is seen.
    let (_, body) = get("/api/posts?limit=1", &partner.token).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let (_, status_body) = get("/api/status", &partner.token).await;
    let status: serde_json::Value = serde_json::from_str(&status_body).unwrap();
    let (stats_code, _) = get("/api/stats", &partner.token).await;
    if posts_hidden {
        prop_assert!(
            v.get("stored").is_none() && v.get("indexed").is_none(),
            "/api/posts tells a partner the store's counts: {body}"
        );
        prop_assert!(
            ["posts", "analysed", "indexed_rowid", "stored_rowid"]
                .iter()
                .all(|k| status.get(k).is_none()),
            "/api/status tells a partner the store's counts: {status_body}"
        );
        prop_assert_eq!(stats_code, StatusCode::FORBIDDEN, "/api/stats");
    } else {
        prop_assert!(v["stored"].as_i64().is_some(), "{}", body);
        prop_assert!(status["posts"].as_u64().is_some(), "{}", status_body);
        prop_assert_eq!(stats_code, StatusCode::OK, "/api/stats");
    }
    // An account's post count is the number of its posts the partner can list.
    for (p, a) in &f.actors {
        let (code, body) = get(&format!("/api/actors/{p}/{a}"), &partner.token).await;
        if code != StatusCode::OK {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let listed = all_posts(
            &format!("/api/posts?actor={p}:{a}&limit=500"),
            &partner.token,
        )
        .await;
        prop_assert_eq!(
            v["posts"].as_u64(),
            Some(listed.len() as u64),
            "/api/actors/{}/{} counts posts the partner cannot list",
            p,
            a
        );
    }
    held_counts(partner, hidden).await?;
    // A network's pair count, when some post is hidden, is the pairs listed.
    if posts_hidden {
        for n in &f.networks {
            let (code, body) = get(&format!("/api/networks/{n}/posts"), &partner.token).await;
            if code != StatusCode::OK {
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            let listed = v["pairs"].as_array().unwrap().len() as u64;
            if listed < 500 {
                prop_assert_eq!(
                    v["total"].as_u64(),
                    Some(listed),
                    "/api/networks/{}/posts counts pairs the partner does not see",
                    n
                );
            }
        }
    }
    Ok(())
}

/// Issue 14: the counts a narrative, a network or an account's row
/// carries (a narrative's `total_posts`, platform and language counts; a
/// network's `member_posts`, platform and language counts; an account's
/// `posts`) never include a post hidden from the partner: its own marking,
/// its account's, or that of a post it replies to, reshares or quotes
/// (decided here from the markings, by the rules written out again).
async fn held_counts(partner: &Partner, hidden: &[&Obj]) -> Result<(), TestCaseError> {
    use pharos_store::PostLog;
    let f = fixture();
    let marked = |kind: &str, id: &str| hidden.iter().any(|o| o.kind == kind && o.id == id);
    let bare = |k: &str| k.split_once(':').map_or(k, |x| x.1).to_string();
    let marked_ids: HashSet<String> = hidden
        .iter()
        .filter(|o| o.kind == "post")
        .map(|o| bare(&o.id))
        .collect();
    let store = SqliteStore::open(&f.store).unwrap();
    let all = store.posts_after_rowid(0, 1_000_000).unwrap();
    let mut hidden_keys = HashSet::new();
    let mut hidden_rowids = HashSet::new();
    let mut hidden_authors = HashSet::new();
    let mut hidden_author_ids = HashSet::new();
    for (rowid, p) in &all {
        let is_hidden = marked("post", &format!("{}:{}", p.platform, p.id))
            || marked("actor", &format!("{}:{}", p.platform, p.actor.id))
            || [&p.reply_to, &p.reshare_of, &p.quote_of]
                .into_iter()
                .flatten()
                .any(|r| marked_ids.contains(&bare(r)));
        if is_hidden {
            hidden_keys.insert(format!("{}:{}", p.platform, p.id));
            hidden_rowids.insert(*rowid);
            hidden_authors.insert(format!("{}:{}", p.platform, p.actor.id));
            hidden_author_ids.insert(p.actor.id.clone());
        }
    }
    let incidents = pharos_assess::load_incidents(&store).unwrap();
    drop(store);
    // An incident counts its posts (`posts`, platforms, languages).
    let (_, body) = get("/api/incidents", &partner.token).await;
    let listed: serde_json::Value = serde_json::from_str(&body).unwrap();
    let listed_ids: Vec<&str> = listed
        .as_array()
        .or_else(|| listed["incidents"].as_array())
        .expect("a list of incidents")
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    for i in incidents
        .iter()
        .filter(|i| listed_ids.contains(&i.id.as_str()))
    {
        let held = i.posts.iter().filter(|k| hidden_keys.contains(*k)).count();
        prop_assert_eq!(
            held,
            0,
            "/api/incidents lists incident {} which counts {} posts hidden from partner {}",
            &i.id,
            held,
            &partner.id
        );
    }
    let members: std::collections::HashMap<u64, Vec<i64>> = {
        let s = f.state.snapshot.read().unwrap();
        s.members
            .posts
            .iter()
            .map(|(n, m)| (*n, m.iter().map(|m| m.rowid).collect()))
            .collect()
    };
    let (_, body) = get("/api/narratives?limit=500", &partner.token).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut listed = HashSet::new();
    for n in v["narratives"].as_array().unwrap() {
        let id = n["id"].as_u64().unwrap();
        listed.insert(id);
        let total = n["total_posts"].as_u64().unwrap() as usize;
        let mine = members.get(&id).map(Vec::as_slice).unwrap_or_default();
        let counted = &mine[..total.min(mine.len())];
        let held = counted.iter().filter(|r| hidden_rowids.contains(r)).count();
        prop_assert_eq!(
            held,
            0,
            "/api/narratives lists narrative {} whose total_posts ({}) counts {} posts hidden from partner {}",
            id,
            total,
            held,
            &partner.id
        );
    }
    for n in &f.narratives {
        let holds = members
            .get(n)
            .is_some_and(|m| m.iter().any(|r| hidden_rowids.contains(r)));
        if holds {
            let (code, _) = get(&format!("/api/narratives/{n}"), &partner.token).await;
            prop_assert!(
                code == StatusCode::FORBIDDEN || code == StatusCode::NOT_FOUND,
                "/api/narratives/{} answers {} though it counts a post hidden from the partner",
                n,
                code
            );
            prop_assert!(!listed.contains(n), "narrative {} is listed", n);
        }
    }
    let (_, body) = get("/api/networks?limit=500", &partner.token).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    for n in v["networks"].as_array().unwrap() {
        for m in n["members"].as_array().unwrap() {
            let m = m.as_str().unwrap();
            let wrote = if m.contains(':') {
                hidden_authors.contains(m)
            } else {
                hidden_author_ids.contains(m)
            };
            prop_assert!(
                !wrote,
                "/api/networks lists network {} whose counts include posts of {} hidden from the partner",
                n["id"].clone(),
                m
            );
        }
    }
    let (_, body) = get("/api/actors?limit=500", &partner.token).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    for a in v["actors"].as_array().unwrap() {
        let id = a["actor_id"].as_str().unwrap();
        prop_assert!(
            !hidden_author_ids.contains(id) && !hidden_authors.contains(id),
            "/api/actors counts posts of {} hidden from the partner",
            id
        );
    }
    Ok(())
}

#[test]
fn a_partner_never_sees_what_it_is_not_cleared_for() {
    let f = fixture();
    // A fixed seed: the same markings on every machine (a failure is
    // reproduced by running the test again); 24 cases took 95 s here.
    let mut runner = TestRunner::new_with_rng(
        PtConfig {
            cases: 12,
            failure_persistence: None,
            max_shrink_iters: 16,
            ..PtConfig::default()
        },
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let result = runner.run(&marks(f.pool.len()), |(m, who)| {
        f.rt.block_on(round(&m, who))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The routes the property test reads do show the marked objects to the
/// owning team: the needles would find them, so their absence means
/// something.
#[test]
fn the_team_sees_what_partners_may_not() {
    let f = fixture();
    let analyst = {
        let s = SqliteStore::open(&f.store).unwrap();
        create(&s, Role::Analyst, None, "ann").unwrap().token
    };
    f.rt.block_on(async {
        let mut shown = 0;
        for o in &f.pool {
            let route = match o.kind {
                "post" => format!("/api/posts/{}", o.id.replacen(':', "/", 1)),
                "actor" => format!("/api/actors/{}", o.id.replacen(':', "/", 1)),
                "narrative" => "/api/narratives?limit=500".to_string(),
                "network" => "/api/networks?limit=500".to_string(),
                _ => "/api/incidents".to_string(),
            };
            let (status, body) = get(&route, &analyst).await;
            assert_eq!(status, StatusCode::OK, "{route}");
            if o.needles.iter().any(|n| body.contains(n.as_str()))
                || (o.kind == "narrative" || o.kind == "network")
                    && body.contains(&format!("\"id\":{}", o.id))
            {
                shown += 1;
            }
        }
        assert!(
            shown * 10 >= f.pool.len() * 9,
            "the objects' needles find them in the team's answers ({shown} of {})",
            f.pool.len()
        );
    });
}
