//! The TAXII 2.1 server: routing with and without trailing slashes, TAXII
//! errors and 401s (never a redirect), Bearer and Basic tokens, paging,
//! `added_after`, the match filters, POST envelopes into the inbox with a
//! status resource, and TLP filtering per token (the REST API's decision).
//!
//! One store per test binary: a simulated scenario assessed into incidents;
//! one incident marked RED (for one person), one AMBER+STRICT for `acme`,
//! one CLEAR; the rest the store's default AMBER for `acme`.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use http_body_util::BodyExt;
use pharos_server::auth::{Role, create};
use pharos_server::state::Shared;
use pharos_server::taxii::{FINDINGS, INBOX, MEDIA_TYPE};
use pharos_server::{Config, router};
use pharos_store::{Markings, SqliteStore, Store};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::OnceLock;
use tower::ServiceExt;

struct Fixture {
    _dir: tempfile::TempDir,
    state: Shared,
    admin: String,
    analyst: String,
    /// Partner of `acme`, cleared for the default AMBER and the AMBER+STRICT incident.
    acme: String,
    /// Partner of `zeta`: cleared for CLEAR only (and its own collection).
    zeta: String,
    incidents: Vec<pharos_assess::Incident>,
    red: String,
    strict: String,
    clear: String,
    partner_collection: String,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pharos.db");
        let (_, posts) = common::scenario(dir.path(), 5_000, 7);
        let mut store = SqliteStore::open(&path).unwrap();
        store.insert(&posts).unwrap();
        let assessment = pharos_assess::assess_store(&store, &Default::default()).unwrap();
        let incidents = assessment.incidents.clone();
        assert!(incidents.len() >= 3, "the scenario has three incidents");
        pharos_assess::save_incidents(&mut store, &incidents).unwrap();
        let tok = |role, org: Option<&str>, name| create(&store, role, org, name).unwrap().token;
        let admin = tok(Role::Admin, None, "ada");
        let analyst = tok(Role::Analyst, None, "ann");
        let acme = tok(Role::Partner, Some("acme"), "pat");
        let zeta = tok(Role::Partner, Some("zeta"), "zoe");
        let mark = |id: &str, tlp: &str, orgs: &[&str], people: &[&str]| {
            store
                .set_marking(
                    "incident",
                    id,
                    &pharos_store::MarkingRecord {
                        tlp: tlp.to_string(),
                        orgs: orgs.iter().map(|o| o.to_string()).collect(),
                        people: people.iter().map(|p| p.to_string()).collect(),
                    },
                )
                .unwrap();
        };
        let red = incidents[0].id.clone();
        let strict = incidents[1].id.clone();
        let clear = incidents[2].id.clone();
        mark(&red, "red", &["acme"], &["ann"]);
        mark(&strict, "amber+strict", &["acme"], &[]);
        mark(&clear, "clear", &[], &[]);
        drop(store);
        let config = Config::parse(
            r#"
            [tlp]
            orgs = ["acme"]
            [[taxii.collections]]
            title = "For zeta"
            orgs = ["zeta"]
            max_tlp = "green"
            "#,
            "test",
        )
        .unwrap();
        let partner_collection = config.taxii.collections[0].id.clone();
        let state = pharos_server::start(&path, config).unwrap();
        Fixture {
            _dir: dir,
            state,
            admin,
            analyst,
            acme,
            zeta,
            incidents,
            red,
            strict,
            clear,
            partner_collection,
        }
    })
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

enum Auth<'a> {
    None,
    Bearer(&'a str),
    Basic(&'a str),
}

async fn send(method: &str, uri: &str, auth: Auth<'_>, body: Option<Vec<u8>>) -> Answer {
    let f = fixture();
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::ACCEPT, MEDIA_TYPE);
    match auth {
        Auth::None => {}
        Auth::Bearer(t) => req = req.header(header::AUTHORIZATION, format!("Bearer {t}")),
        Auth::Basic(t) => {
            let b = base64::engine::general_purpose::STANDARD.encode(format!("opencti:{t}"));
            req = req.header(header::AUTHORIZATION, format!("Basic {b}"));
        }
    }
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, MEDIA_TYPE);
    }
    let req = req
        .body(body.map(Body::from).unwrap_or_else(Body::empty))
        .unwrap();
    let resp = router(f.state.clone()).oneshot(req).await.unwrap();
    Answer {
        status: resp.status(),
        headers: resp.headers().clone(),
        body: resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    }
}

async fn get(uri: &str, token: &str) -> Answer {
    send("GET", uri, Auth::Bearer(token), None).await
}

fn objects_url(c: &str) -> String {
    format!("/taxii2/pharos/collections/{c}/objects/")
}

/// Every object of a collection, page by page (`limit`), with the pages' count.
async fn all_objects(c: &str, token: &str, limit: usize, extra: &str) -> (Vec<Value>, usize) {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut url = format!("{}?limit={limit}{extra}", objects_url(c));
        if let Some(n) = &next {
            url.push_str(&format!("&next={n}"));
        }
        let a = get(&url, token).await;
        assert_eq!(
            a.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&a.body)
        );
        let e = a.json();
        pages += 1;
        let objs = e["objects"].as_array().cloned().unwrap_or_default();
        assert!(objs.len() <= limit);
        out.extend(objs);
        if e["more"] == true {
            next = Some(e["next"].as_str().expect("more has a next").to_string());
        } else {
            assert!(e.get("next").is_none());
            break;
        }
    }
    (out, pages)
}

fn ids(v: &[Value]) -> HashSet<String> {
    v.iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect()
}

fn export_ids(inc: &pharos_assess::Incident) -> HashSet<String> {
    let (b, _) = pharos_share::stix::export_bundle(std::slice::from_ref(inc), &Default::default());
    ids(b["objects"].as_array().unwrap())
}

#[tokio::test]
async fn every_path_answers_with_and_without_its_trailing_slash() {
    let f = fixture();
    for path in [
        "/taxii2/".to_string(),
        "/taxii2/pharos/".into(),
        "/taxii2/pharos/collections/".into(),
        format!("/taxii2/pharos/collections/{FINDINGS}/"),
        format!("/taxii2/pharos/collections/{FINDINGS}/objects/"),
        format!("/taxii2/pharos/collections/{FINDINGS}/manifest/"),
    ] {
        for p in [path.clone(), path.trim_end_matches('/').to_string()] {
            let a = get(&p, &f.analyst).await;
            assert_eq!(
                a.status,
                StatusCode::OK,
                "{p}: {}",
                String::from_utf8_lossy(&a.body)
            );
            assert_eq!(a.headers[header::CONTENT_TYPE], MEDIA_TYPE, "{p}");
        }
    }
    let d = get("/taxii2", &f.analyst).await.json();
    assert!(d["default"].as_str().unwrap().ends_with("/taxii2/pharos/"));
    assert_eq!(d["api_roots"][0], d["default"]);
    let root = get("/taxii2/pharos", &f.analyst).await.json();
    assert_eq!(root["versions"][0], MEDIA_TYPE);
    // An unknown TAXII path is a TAXII error, not the API's.
    let a = get("/taxii2/pharos/nothing-here", &f.analyst).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.headers[header::CONTENT_TYPE], MEDIA_TYPE);
    assert_eq!(a.json()["http_status"], "404");
    let a = get(
        "/taxii2/pharos/collections/no-such-collection/objects",
        &f.analyst,
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(
        a.json()["description"]
            .as_str()
            .unwrap()
            .contains("no collection")
    );
    // Another TAXII version is refused.
    let mut req = Request::builder()
        .uri("/taxii2/")
        .header(header::ACCEPT, "application/taxii+json;version=2.0")
        .header(header::AUTHORIZATION, format!("Bearer {}", f.analyst))
        .body(Body::empty())
        .unwrap();
    req.headers_mut();
    let r = router(f.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn failed_authentication_is_a_taxii_401_never_a_redirect() {
    let f = fixture();
    for path in ["/taxii2/", "/taxii2", "/taxii2/pharos/collections"] {
        for auth in [
            Auth::None,
            Auth::Bearer("pharos_wrong"),
            Auth::Basic("pharos_wrong"),
        ] {
            let a = send("GET", path, auth, None).await;
            assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{path}");
            assert!(
                a.headers.get(header::LOCATION).is_none(),
                "{path}: no redirect"
            );
            assert!(a.headers.contains_key(header::WWW_AUTHENTICATE), "{path}");
            assert_eq!(a.headers[header::CONTENT_TYPE], MEDIA_TYPE);
            let e = a.json();
            assert_eq!(e["http_status"], "401");
            assert!(e["title"].is_string() && e["description"].is_string());
        }
    }
    // HTTP Basic with any user name and the token as password works.
    let a = send(
        "GET",
        "/taxii2/pharos/collections/",
        Auth::Basic(&f.acme),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let listed = ids(a.json()["collections"].as_array().unwrap());
    assert!(listed.contains(FINDINGS));
    assert!(
        !listed.contains(INBOX),
        "partners do not see the analysts' inbox"
    );
    assert!(
        !listed.contains(&f.partner_collection),
        "nor another organisation's collection"
    );
    let zeta = get("/taxii2/pharos/collections/", &f.zeta).await.json();
    assert!(ids(zeta["collections"].as_array().unwrap()).contains(&f.partner_collection));
    let analyst = get("/taxii2/pharos/collections/", &f.analyst).await.json();
    let inbox = analyst["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == INBOX)
        .unwrap()
        .clone();
    assert_eq!(inbox["can_write"], true);
    assert_eq!(inbox["media_types"][0], "application/stix+json;version=2.1");
}

fn url_object(i: usize) -> Value {
    json!({
        "type": "url",
        "spec_version": "2.1",
        "id": format!("url--{:08x}-0000-4000-8000-{:012x}", i, i),
        "value": format!("https://partner.example/item/{i}"),
        "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
    })
}

#[tokio::test]
async fn a_posted_envelope_is_stored_answered_with_a_status_and_paged_back() {
    let f = fixture();
    let mut objects: Vec<Value> = (0..1_200).map(url_object).collect();
    objects
        .push(json!({"type": "url", "spec_version": "2.1", "id": "url--not-a-uuid", "value": "x"}));
    let body = serde_json::to_vec(&json!({ "objects": objects })).unwrap();
    // Partners may not post.
    let a = send(
        "POST",
        &objects_url(INBOX),
        Auth::Bearer(&f.acme),
        Some(body.clone()),
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::NOT_FOUND,
        "the inbox is not a partner's"
    );
    let a = send(
        "POST",
        &objects_url(FINDINGS),
        Auth::Bearer(&f.analyst),
        Some(body.clone()),
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::FORBIDDEN,
        "the findings are read-only"
    );
    // An analyst posts: 202 and a status resource.
    let a = send(
        "POST",
        &objects_url(INBOX),
        Auth::Bearer(&f.analyst),
        Some(body.clone()),
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::ACCEPTED,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    let s = a.json();
    assert_eq!(s["status"], "complete");
    assert_eq!(s["total_count"], 1_201);
    assert_eq!(s["success_count"], 1_200);
    assert_eq!(s["failure_count"], 1);
    assert_eq!(s["failures"][0]["id"], "url--not-a-uuid");
    let again = get(
        &format!("/taxii2/pharos/status/{}/", s["id"].as_str().unwrap()),
        &f.admin,
    )
    .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["id"], s["id"]);
    // Paging through more than 1,000 objects: every object once.
    let (got, pages) = all_objects(INBOX, &f.analyst, 100, "").await;
    assert_eq!(got.len(), 1_200, "every posted object, once");
    assert_eq!(ids(&got).len(), 1_200);
    assert!(pages >= 12);
    let (got, _) = all_objects(INBOX, &f.analyst, 5_000, "").await;
    assert_eq!(
        got.len(),
        1_200,
        "the server's page limit applies: {}",
        got.len()
    );
    // added_after the newest object: nothing new.
    let first = get(&format!("{}?limit=1", objects_url(INBOX)), &f.analyst).await;
    assert!(first.headers.contains_key("x-taxii-date-added-first"));
    let all = get(
        &format!("{}?limit=1000&next=0", objects_url(INBOX)),
        &f.analyst,
    )
    .await;
    assert_eq!(all.status, StatusCode::OK);
    let manifest = get(
        &format!("/taxii2/pharos/collections/{INBOX}/manifest?limit=1000"),
        &f.analyst,
    )
    .await
    .json();
    let mut last = String::new();
    let mut next = manifest["next"].as_str().map(str::to_string);
    for m in manifest["objects"].as_array().unwrap() {
        last = last.max(m["date_added"].as_str().unwrap().to_string());
    }
    while let Some(n) = next {
        let page = get(
            &format!("/taxii2/pharos/collections/{INBOX}/manifest?limit=1000&next={n}"),
            &f.analyst,
        )
        .await
        .json();
        for m in page["objects"].as_array().unwrap() {
            last = last.max(m["date_added"].as_str().unwrap().to_string());
        }
        next = page["next"].as_str().map(str::to_string);
    }
    let after = get(
        &format!("{}?added_after={last}", objects_url(INBOX)),
        &f.analyst,
    )
    .await;
    assert_eq!(after.status, StatusCode::OK);
    let e = after.json();
    assert!(e.get("objects").is_none(), "{e}");
    assert_eq!(e["more"], false);
    // Reposting changes nothing.
    let a = send(
        "POST",
        &objects_url(INBOX),
        Auth::Bearer(&f.admin),
        Some(body),
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::ACCEPTED,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    let e = get(
        &format!("{}?added_after={last}", objects_url(INBOX)),
        &f.analyst,
    )
    .await
    .json();
    assert!(e.get("objects").is_none(), "{e}");
    // A body that is not an envelope.
    let a = send(
        "POST",
        &objects_url(INBOX),
        Auth::Bearer(&f.analyst),
        Some(b"{\"type\":\"bundle\"}".to_vec()),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(a.json()["http_status"], "422");
    // Imported like `pharos import stix`: listed among partners' objects.
    let stored = pharos_share::stix::stored_objects(
        &pharos_store::AnyStore::open(&f.state.store_path).unwrap(),
        Some("url"),
    )
    .unwrap();
    assert!(
        stored
            .iter()
            .filter(|o| o.source.starts_with("taxii POST"))
            .count()
            >= 1_200
    );
}

#[tokio::test]
async fn each_token_sees_what_its_clearance_allows_on_the_findings() {
    let f = fixture();
    let (analyst, _) = all_objects(FINDINGS, &f.analyst, 1000, "").await;
    let (acme, _) = all_objects(FINDINGS, &f.acme, 1000, "").await;
    let (zeta, _) = all_objects(FINDINGS, &f.zeta, 1000, "").await;
    let (a, ac, z) = (ids(&analyst), ids(&acme), ids(&zeta));
    assert_eq!(a.len(), analyst.len(), "each object once");
    let inc_of = |id: &str| f.incidents.iter().find(|i| i.id == id).unwrap();
    let red = export_ids(inc_of(&f.red));
    let strict = export_ids(inc_of(&f.strict));
    let clear = export_ids(inc_of(&f.clear));
    // The team sees every incident.
    for i in &f.incidents {
        assert!(
            export_ids(i).is_subset(&a),
            "the analyst sees incident {}",
            i.id
        );
    }
    // zeta: the CLEAR incident only; nothing only a RED or acme's AMBER+STRICT incident holds.
    assert!(clear.is_subset(&z));
    let red_only: HashSet<_> = red.difference(&clear).collect();
    let strict_only: HashSet<_> = strict.difference(&clear).collect();
    assert!(!red_only.is_empty() && !strict_only.is_empty());
    assert!(
        z.iter().all(|id| !red_only.contains(id)),
        "no RED object reaches zeta"
    );
    assert!(
        z.iter().all(|id| !strict_only.contains(id)),
        "no AMBER+STRICT object of acme reaches zeta"
    );
    // acme: the AMBER+STRICT incident it is named in, not the RED one (for a person).
    assert!(strict.is_subset(&ac));
    let others: HashSet<String> = f
        .incidents
        .iter()
        .filter(|i| i.id != f.red)
        .flat_map(export_ids)
        .collect();
    assert!(ac.iter().all(|id| !red.contains(id) || others.contains(id)));
    // Served objects carry their incident's marking now.
    let incident_obj = |v: &[Value], id: &str| {
        v.iter()
            .find(|o| o["type"] == "incident" && o["external_references"][0]["external_id"] == id)
            .cloned()
    };
    let clear_marking = pharos_share::Tlp::Clear.marking_id();
    assert_eq!(
        incident_obj(&zeta, &f.clear).unwrap()["object_marking_refs"][0],
        clear_marking
    );
    assert_eq!(
        incident_obj(&analyst, &f.red).unwrap()["object_marking_refs"][0],
        pharos_share::Tlp::Red.marking_id()
    );
    // The same incidents as the REST API lists for acme.
    let rest = send("GET", "/api/incidents", Auth::Bearer(&f.acme), None)
        .await
        .json();
    let rest_ids: HashSet<String> = rest
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    let taxii_ids: HashSet<String> = acme
        .iter()
        .filter(|o| o["type"] == "incident")
        .map(|o| {
            o["external_references"][0]["external_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(rest_ids, taxii_ids);
    // zeta's own collection: the findings it is cleared for, at most GREEN.
    let (mine, _) = all_objects(&f.partner_collection, &f.zeta, 1000, "").await;
    assert_eq!(ids(&mine), z, "zeta is cleared for CLEAR only, under GREEN");
    let a = get(&objects_url(&f.partner_collection), &f.acme).await;
    assert_eq!(
        a.status,
        StatusCode::NOT_FOUND,
        "acme does not see zeta's collection"
    );
    // Every served page is a valid bundle's worth of objects: refs resolve.
    let bundle = json!({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000", "objects": zeta});
    assert_eq!(
        pharos_share::stix::check::check_bundle(&bundle),
        Vec::<String>::new()
    );
    let bundle = json!({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000", "objects": analyst});
    assert_eq!(
        pharos_share::stix::check::check_bundle(&bundle),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn filters_object_by_id_versions_and_manifest() {
    let f = fixture();
    let url = format!("{}?match[type]=incident", objects_url(FINDINGS));
    let e = get(&url, &f.analyst).await.json();
    let incs = e["objects"].as_array().unwrap();
    assert_eq!(incs.len(), f.incidents.len());
    assert!(incs.iter().all(|o| o["type"] == "incident"));
    let id = incs[0]["id"].as_str().unwrap();
    let e = get(
        &format!("{}?match[id]={id}", objects_url(FINDINGS)),
        &f.analyst,
    )
    .await
    .json();
    assert_eq!(e["objects"].as_array().unwrap().len(), 1);
    let e = get(
        &format!("{}?match[spec_version]=2.0", objects_url(FINDINGS)),
        &f.analyst,
    )
    .await
    .json();
    assert!(e.get("objects").is_none());
    let one = get(&format!("{}{id}/", objects_url(FINDINGS)), &f.analyst).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json()["objects"][0]["id"], id);
    let one = get(&format!("{}{id}", objects_url(FINDINGS)), &f.analyst).await;
    assert_eq!(one.status, StatusCode::OK);
    let v = get(
        &format!("{}{id}/versions", objects_url(FINDINGS)),
        &f.analyst,
    )
    .await
    .json();
    let version = v["versions"][0].as_str().unwrap().to_string();
    assert_eq!(version, incs[0]["modified"]);
    let e = get(
        &format!(
            "{}?match[id]={id}&match[version]={version}",
            objects_url(FINDINGS)
        ),
        &f.analyst,
    )
    .await
    .json();
    assert_eq!(e["objects"].as_array().unwrap().len(), 1);
    let e = get(
        &format!(
            "{}?match[id]={id}&match[version]=2001-01-01T00:00:00.000Z",
            objects_url(FINDINGS)
        ),
        &f.analyst,
    )
    .await
    .json();
    assert!(e.get("objects").is_none());
    let m = get(
        &format!("/taxii2/pharos/collections/{FINDINGS}/manifest/?match[type]=incident"),
        &f.analyst,
    )
    .await
    .json();
    let m0 = &m["objects"][0];
    assert_eq!(m0["media_type"], "application/stix+json;version=2.1");
    assert!(m0["date_added"].as_str().unwrap().ends_with('Z'));
    // An object zeta may not read is not found for zeta.
    let red_incident = incs
        .iter()
        .find(|o| o["external_references"][0]["external_id"] == f.red.as_str())
        .unwrap();
    let a = get(
        &format!(
            "{}{}/",
            objects_url(FINDINGS),
            red_incident["id"].as_str().unwrap()
        ),
        &f.zeta,
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    for bad in ["limit=0", "added_after=yesterday", "match[colour]=red"] {
        let a = get(&format!("{}?{bad}", objects_url(FINDINGS)), &f.analyst).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(a.json()["http_status"], "400");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pharos_share_pull_from_pharos_serve_imports_what_the_token_may_read_once() {
    let f = fixture();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(f.state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let (acme, _) = all_objects(FINDINGS, &f.acme, 1000, "").await;
    let token = f.acme.clone();
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("peer.db");
    let (first, second, stored) = tokio::task::spawn_blocking(move || {
        use pharos_share::taxii::{Auth, Remote, pull};
        // The discovery URL is accepted; Basic with the token as password.
        let remote = Remote::connect(
            &format!("http://{addr}/taxii2"),
            Auth::from_options(None, Some("peer"), Some(&token)),
        )
        .unwrap();
        assert!(
            remote.api_root.ends_with("/taxii2/pharos/"),
            "{}",
            remote.api_root
        );
        let mut store = pharos_store::AnyStore::open(&store_path).unwrap();
        let first = pull(&remote, FINDINGS, &mut store).unwrap();
        let second = pull(&remote, FINDINGS, &mut store).unwrap();
        let stored = pharos_share::stix::stored_objects(&store, None).unwrap();
        (first, second, stored)
    })
    .await
    .unwrap();
    assert_eq!(first.rejected, 0, "{:?}", first.rejections);
    assert_eq!(first.objects as usize, acme.len());
    assert_eq!(
        stored.iter().map(|o| o.id.clone()).collect::<HashSet<_>>(),
        ids(&acme),
        "every object acme may read, and nothing else"
    );
    assert!(stored.iter().all(|o| o.source.starts_with("taxii pull")));
    assert_eq!(second.objects, 0, "a second pull asks only for what is new");
    assert_eq!(second.added_after, first.next_added_after);
    let wrong = tokio::task::spawn_blocking(move || {
        pharos_share::taxii::Remote::connect(
            &format!("http://{addr}/taxii2/pharos/"),
            pharos_share::taxii::Auth::Token("pharos_wrong".into()),
        )
        .err()
        .map(|e| e.to_string())
    })
    .await
    .unwrap();
    assert!(
        wrong.is_some_and(|e| e.contains("401")),
        "a wrong token is refused"
    );
}
