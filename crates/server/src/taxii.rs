//! TAXII 2.1 (OASIS) under `/taxii2/`: the discovery document, one API root
//! (`/taxii2/pharos/`) and its collections, for partners' platforms
//! (OpenCTI, MISP, another Pharos, any TAXII client).
//!
//! Collections (see docs/sharing.md):
//! - **findings** ([`FINDINGS`]): the store's incidents as `pharos export
//!   stix` builds them, readable by every token. Each object is shown only
//!   to tokens the one clearance filter ([`crate::clearance::Clearance`], as
//!   the REST API's incident routes) lets see its incident: the incident's
//!   marking (else the store's default) clears them, and nothing the
//!   incident names is hidden from them. It carries that marking.
//! - **inbox** ([`INBOX`]): analysts and admins read it and POST envelopes
//!   to it; the objects are stored as `pharos import stix` stores them
//!   (checked one by one, rejects quarantined) and answered with a status
//!   resource.
//! - **per-partner** collections from `[[taxii.collections]]`: the findings
//!   their organisations are cleared for, up to a TLP ceiling.
//!
//! Every path answers with or without its trailing slash; every failure is
//! a TAXII error (`application/taxii+json;version=2.1`), and a missing or
//! wrong token a 401 with `WWW-Authenticate`, never a redirect. Tokens come
//! as `Authorization: Bearer TOKEN` or HTTP Basic with the token as the
//! password ([`crate::extract::presented_token`]).

use crate::auth::{Principal, Role};
use crate::config::TaxiiCollection;
use crate::error::ApiError;
use crate::state::{AppState, Shared};
use crate::tlp::{Marking, Tlp};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pharos_store::taxii::{self as repo, TaxiiStore};
use pharos_store::{AnyStore, Location};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The TAXII 2.1 media type.
pub const MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
/// The STIX 2.1 media type of a collection's objects.
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";
/// The findings collection: readable by every token, filtered by clearance.
pub const FINDINGS: &str = "0f3a7c1e-5d2b-4e8a-9c6f-1b4d7e2a9c01";
/// The analysts' inbox: read and write for analysts and admins.
pub const INBOX: &str = "6b9e2d4a-8c1f-4a7e-b3d5-2e8f0a6c4b02";
/// Objects per page when the client asks for no limit, and at most.
pub const DEFAULT_LIMIT: usize = 1000;

/// A TAXII error: `{title, description, http_status}`.
pub struct TaxiiError {
    status: StatusCode,
    title: String,
    description: String,
}

impl TaxiiError {
    pub fn new(status: StatusCode, title: &str, description: impl Into<String>) -> Self {
        TaxiiError {
            status,
            title: title.into(),
            description: description.into(),
        }
    }
    fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found", what)
    }
    fn bad_request(what: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Bad request", what)
    }
    fn forbidden(what: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", what)
    }
}

impl From<ApiError> for TaxiiError {
    fn from(e: ApiError) -> Self {
        let title = e.status.canonical_reason().unwrap_or("Error");
        TaxiiError::new(e.status, title, e.message)
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let body = json!({
            "title": self.title,
            "description": self.description,
            "http_status": self.status.as_u16().to_string(),
        });
        let mut r = (self.status, taxii_body(&body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"pharos\", Bearer realm=\"pharos\""),
            );
        }
        r
    }
}

type TResult<T> = Result<T, TaxiiError>;

fn taxii_body(v: &Value) -> ([(header::HeaderName, HeaderValue); 1], String) {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE))],
        v.to_string(),
    )
}

fn ok(v: &Value) -> Response {
    taxii_body(v).into_response()
}

/// The 401 the access middleware answers under `/taxii2/`.
pub fn unauthorized(message: &str) -> Response {
    TaxiiError::new(StatusCode::UNAUTHORIZED, "Unauthorized", message).into_response()
}

/// Refuses an `Accept` that asks for something other than TAXII 2.1 JSON.
fn check_accept(h: &HeaderMap) -> TResult<()> {
    let Some(a) = h.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let fine = a.split(',').any(|part| {
        let p = part.trim().to_ascii_lowercase().replace(' ', "");
        let (media, params) = p.split_once(';').unwrap_or((p.as_str(), ""));
        match media {
            "*/*" | "application/*" | "application/json" | "" => true,
            "application/taxii+json" => {
                params.is_empty()
                    || params
                        .split(';')
                        .all(|kv| !kv.starts_with("version=") || kv == "version=2.1")
            }
            _ => false,
        }
    });
    if fine {
        Ok(())
    } else {
        Err(TaxiiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "Not acceptable",
            format!("this server answers {MEDIA_TYPE}; the request accepts {a:?}"),
        ))
    }
}

/// Routes a path with and without its trailing slash.
fn both(r: Router<Shared>, path: &str, m: axum::routing::MethodRouter<Shared>) -> Router<Shared> {
    let trimmed = path.trim_end_matches('/');
    r.route(trimmed, m.clone()).route(&format!("{trimmed}/"), m)
}

/// Every TAXII route (behind the access middleware).
pub fn routes() -> Router<Shared> {
    let mut r = Router::new();
    r = both(r, "/taxii2/", get(discovery));
    r = both(r, "/taxii2/pharos/", get(api_root));
    r = both(r, "/taxii2/pharos/collections/", get(collections));
    r = both(r, "/taxii2/pharos/collections/{cid}/", get(collection));
    r = both(
        r,
        "/taxii2/pharos/collections/{cid}/objects/",
        get(objects).post(add_objects),
    );
    r = both(
        r,
        "/taxii2/pharos/collections/{cid}/manifest/",
        get(manifest),
    );
    r = both(
        r,
        "/taxii2/pharos/collections/{cid}/objects/{oid}/",
        get(object),
    );
    r = both(
        r,
        "/taxii2/pharos/collections/{cid}/objects/{oid}/versions/",
        get(versions),
    );
    r = both(r, "/taxii2/pharos/status/{sid}/", get(status));
    r.route("/taxii2/{*rest}", axum::routing::any(no_route))
}

async fn no_route(uri: axum::http::Uri) -> TaxiiError {
    TaxiiError::not_found(format!(
        "no TAXII resource at {}: the discovery document is /taxii2/ and the API root /taxii2/pharos/",
        uri.path()
    ))
}

/// `https://host` of the request, or `[taxii] public_url`.
fn base_url(st: &AppState, h: &HeaderMap) -> String {
    if let Some(u) = &st.config.taxii.public_url {
        return u.trim_end_matches('/').to_string();
    }
    let host = h
        .get("x-forwarded-host")
        .or_else(|| h.get(header::HOST))
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let proto = h
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("http");
    format!("{proto}://{host}")
}

async fn discovery(State(st): State<Shared>, h: HeaderMap) -> TResult<Response> {
    check_accept(&h)?;
    let root = format!("{}/taxii2/pharos/", base_url(&st, &h));
    Ok(ok(&json!({
        "title": "Pharos",
        "description": "Findings of information manipulation (incidents, DISARM techniques, narratives, accounts) as STIX 2.1, marked with TLP 2.0.",
        "default": root,
        "api_roots": [root],
    })))
}

async fn api_root(State(st): State<Shared>, h: HeaderMap) -> TResult<Response> {
    check_accept(&h)?;
    Ok(ok(&json!({
        "title": "Pharos",
        "description": "Pharos findings and the analysts' inbox.",
        "versions": [MEDIA_TYPE],
        "max_content_length": st.config.ingest.max_body_bytes,
    })))
}

/// What a collection is and who may do what with it.
#[derive(Clone, Debug)]
pub struct Collection {
    pub id: String,
    pub title: String,
    pub description: String,
    pub kind: Kind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Findings,
    Inbox,
    /// Findings for these organisations, at most this TLP.
    Partner {
        orgs: Vec<String>,
        max_tlp: Tlp,
    },
}

impl Collection {
    /// Where its objects are kept (`taxii_objects.collection`).
    fn stored_as(&self) -> &str {
        match self.kind {
            Kind::Inbox => INBOX,
            _ => FINDINGS,
        }
    }
    fn can_read(&self, who: &Principal) -> bool {
        match &self.kind {
            Kind::Findings => true,
            Kind::Inbox => who.role.at_least(Role::Analyst),
            Kind::Partner { orgs, .. } => {
                who.role.at_least(Role::Analyst)
                    || who.org.as_ref().is_some_and(|o| orgs.contains(o))
            }
        }
    }
    fn can_write(&self, who: &Principal) -> bool {
        self.kind == Kind::Inbox && who.role.at_least(Role::Analyst)
    }
    fn resource(&self, who: &Principal) -> Value {
        json!({
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "can_read": self.can_read(who),
            "can_write": self.can_write(who),
            "media_types": [STIX_MEDIA_TYPE],
        })
    }
}

/// The collections of this server: findings, inbox, then the config's.
pub fn all_collections(st: &AppState) -> Vec<Collection> {
    let mut v = vec![
        Collection {
            id: FINDINGS.into(),
            title: "Pharos findings".into(),
            description: "Incidents as pharos export stix builds them (incident, campaign, DISARM attack-patterns, narratives, channels, accounts, links, sightings, note, report); each token sees what its TLP clearance allows.".into(),
            kind: Kind::Findings,
        },
        Collection {
            id: INBOX.into(),
            title: "Analysts' inbox".into(),
            description: "Partners' STIX objects posted by analysts (TAXII push); stored as pharos import stix stores them.".into(),
            kind: Kind::Inbox,
        },
    ];
    for c in &st.config.taxii.collections {
        v.push(partner_collection(c));
    }
    v
}

fn partner_collection(c: &TaxiiCollection) -> Collection {
    Collection {
        id: c.id.clone(),
        title: c.title.clone(),
        description: c.description.clone().unwrap_or_else(|| {
            format!(
                "Pharos findings for {} (at most {}).",
                c.orgs.join(", "),
                c.max_tlp.label()
            )
        }),
        kind: Kind::Partner {
            orgs: c.orgs.clone(),
            max_tlp: c.max_tlp,
        },
    }
}

fn find_collection(st: &AppState, who: &Principal, cid: &str) -> TResult<Collection> {
    let cid = cid.trim_end_matches('/');
    let c = all_collections(st)
        .into_iter()
        .find(|c| c.id == cid)
        .ok_or_else(|| {
            TaxiiError::not_found(format!(
                "no collection {cid:?}: see /taxii2/pharos/collections/"
            ))
        })?;
    if !c.can_read(who) && !c.can_write(who) {
        // Not listed for this token: as if it did not exist.
        return Err(TaxiiError::not_found(format!(
            "no collection {cid:?}: see /taxii2/pharos/collections/"
        )));
    }
    Ok(c)
}

/// The collection a read names, if this token may read it, and the
/// request's filters (`versions_all`: the versions endpoint's default).
fn readable(
    st: &AppState,
    who: &Principal,
    cid: &str,
    h: &HeaderMap,
    query: Option<&str>,
    versions_all: bool,
) -> TResult<(Collection, Filter)> {
    check_accept(h)?;
    let c = find_collection(st, who, cid)?;
    if !c.can_read(who) {
        return Err(TaxiiError::forbidden(format!(
            "the token {:?} may not read collection {}",
            who.name, c.id
        )));
    }
    Ok((c, parse_filter(query, versions_all)?))
}

async fn collections(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    h: HeaderMap,
) -> TResult<Response> {
    check_accept(&h)?;
    let list: Vec<Value> = all_collections(&st)
        .iter()
        .filter(|c| c.can_read(&who) || c.can_write(&who))
        .map(|c| c.resource(&who))
        .collect();
    Ok(ok(&json!({ "collections": list })))
}

async fn collection(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path(cid): Path<String>,
    h: HeaderMap,
) -> TResult<Response> {
    check_accept(&h)?;
    let c = find_collection(&st, &who, &cid)?;
    Ok(ok(&c.resource(&who)))
}

/// Which versions of each object to return.
#[derive(Clone, Debug, Default, PartialEq)]
enum Versions {
    #[default]
    Last,
    First,
    All,
    These(HashSet<String>, bool, bool),
}

/// The filters and paging of the objects, manifest and versions endpoints.
#[derive(Clone, Debug, Default)]
struct Filter {
    limit: usize,
    next: Option<i64>,
    added_after: Option<i64>,
    types: Option<HashSet<String>>,
    ids: Option<HashSet<String>>,
    versions: Versions,
    spec_versions: Option<HashSet<String>>,
}

fn parse_time_us(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|d| d.timestamp_micros())
}

/// `2026-12-07T01:02:03.123456Z`: TAXII timestamps, to the microsecond.
pub fn format_us(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

fn parse_filter(query: Option<&str>, versions_default_all: bool) -> TResult<Filter> {
    let mut f = Filter {
        limit: DEFAULT_LIMIT,
        versions: if versions_default_all {
            Versions::All
        } else {
            Versions::Last
        },
        ..Default::default()
    };
    let pairs = form_urlencoded(query.unwrap_or(""));
    let list = |v: &str| -> HashSet<String> {
        v.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    for (k, v) in pairs {
        match k.as_str() {
            "limit" => {
                let n: usize = v.parse().map_err(|_| {
                    TaxiiError::bad_request(format!("limit={v:?}: give a positive integer"))
                })?;
                if n == 0 {
                    return Err(TaxiiError::bad_request("limit=0: give a positive integer"));
                }
                f.limit = n.min(DEFAULT_LIMIT);
            }
            "next" => {
                f.next = Some(v.parse().map_err(|_| {
                    TaxiiError::bad_request(format!(
                        "next={v:?} is not a value this server gave (use the envelope's \"next\")"
                    ))
                })?);
            }
            "added_after" => {
                f.added_after = Some(parse_time_us(&v).ok_or_else(|| {
                    TaxiiError::bad_request(format!(
                        "added_after={v:?} is not an RFC 3339 timestamp (e.g. 2026-12-07T00:00:00.000Z)"
                    ))
                })?);
            }
            "match[type]" => f.types = Some(list(&v)),
            "match[id]" => f.ids = Some(list(&v)),
            "match[spec_version]" => f.spec_versions = Some(list(&v)),
            "match[version]" => {
                let l = list(&v);
                f.versions = if l.contains("all") {
                    Versions::All
                } else if l.len() == 1 && l.contains("last") {
                    Versions::Last
                } else if l.len() == 1 && l.contains("first") {
                    Versions::First
                } else {
                    let first = l.contains("first");
                    let last = l.contains("last");
                    let mut these = HashSet::new();
                    for x in l.iter().filter(|x| *x != "first" && *x != "last") {
                        let us = parse_time_us(x).ok_or_else(|| {
                            TaxiiError::bad_request(format!(
                                "match[version]={x:?}: give last, first, all or an RFC 3339 timestamp"
                            ))
                        })?;
                        these.insert(format_ms(us));
                    }
                    Versions::These(these, first, last)
                };
            }
            k if k.starts_with("match[") => {
                return Err(TaxiiError::bad_request(format!(
                    "{k} is not a filter this server knows: match[type], match[id], match[version], match[spec_version]"
                )));
            }
            _ => {}
        }
    }
    Ok(f)
}

fn form_urlencoded(q: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A version as TAXII shows it: millisecond RFC 3339.
fn format_ms(us: i64) -> String {
    pharos_core::EventTime(us.div_euclid(1000)).to_rfc3339()
}

/// The version of a stored row: its `modified` (or `created`), else when it was added.
fn version_of(r: &repo::ObjectRow) -> String {
    if r.version.is_empty() {
        format_ms(r.date_added_us)
    } else {
        r.version.clone()
    }
}

/// The store's version string of an object: `modified`, else `created`,
/// normalised to millisecond RFC 3339; empty when it has neither.
pub fn stored_version(o: &Value) -> String {
    let v = o
        .get("modified")
        .or_else(|| o.get("created"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if v.is_empty() {
        return String::new();
    }
    parse_time_us(v).map_or_else(|| v.to_string(), format_ms)
}

/// The rows of a collection `who` may read, after the filters, one per
/// object version, in the order added; with the marking each is served under.
fn select(
    st: &AppState,
    s: &AnyStore,
    who: &Principal,
    c: &Collection,
    oid: Option<&str>,
    f: &Filter,
) -> Result<Vec<(repo::ObjectRow, Marking)>, ApiError> {
    let rows = s.object_rows(c.stored_as(), oid)?;
    // The one clearance filter (crate::clearance), as the REST API's.
    let cl = st.clearance(s, who)?;
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut kept: Vec<(repo::ObjectRow, Marking)> = Vec::new();
    for r in rows {
        if f.types.as_ref().is_some_and(|t| !t.contains(&r.stix_type))
            || f.ids.as_ref().is_some_and(|t| !t.contains(&r.id))
            || f.spec_versions
                .as_ref()
                .is_some_and(|t| !t.contains(&r.spec_version))
            || f.added_after.is_some_and(|t| r.date_added_us <= t)
        {
            continue;
        }
        let m = cl.scope_marking(&r.scope);
        if !cl.sees_scope(&r.scope) {
            continue;
        }
        if let Kind::Partner { max_tlp, .. } = &c.kind
            && m.tlp > *max_tlp
        {
            continue;
        }
        // One row per object version: the first this token may read.
        if !seen.insert((r.id.clone(), version_of(&r))) {
            continue;
        }
        kept.push((r, m));
    }
    // Versions per object.
    if f.versions != Versions::All {
        let mut by_id: HashMap<&str, (String, String)> = HashMap::new();
        for (r, _) in &kept {
            let v = version_of(r);
            let e = by_id.entry(&r.id).or_insert_with(|| (v.clone(), v.clone()));
            if v < e.0 {
                e.0 = v.clone();
            }
            if v > e.1 {
                e.1 = v;
            }
        }
        let by_id: HashMap<String, (String, String)> =
            by_id.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        kept.retain(|(r, _)| {
            let v = version_of(r);
            let (first, last) = &by_id[&r.id];
            match &f.versions {
                Versions::Last => &v == last,
                Versions::First => &v == first,
                Versions::These(these, fi, la) => {
                    these.contains(&v) || (*fi && &v == first) || (*la && &v == last)
                }
                Versions::All => true,
            }
        });
    }
    Ok(kept)
}

/// One page of `rows` after `next`, whether more follow, and the next cursor.
fn page<T>(rows: Vec<(repo::ObjectRow, T)>, f: &Filter) -> (Vec<(repo::ObjectRow, T)>, bool) {
    let mut it = rows
        .into_iter()
        .filter(|(r, _)| f.next.is_none_or(|n| r.seq > n));
    let page: Vec<_> = it.by_ref().take(f.limit).collect();
    let more = it.next().is_some();
    (page, more)
}

fn envelope_headers(rows: &[(repo::ObjectRow, Marking)]) -> Vec<(&'static str, String)> {
    let mut h = Vec::new();
    if let (Some(first), Some(last)) = (
        rows.iter().map(|(r, _)| r.date_added_us).min(),
        rows.iter().map(|(r, _)| r.date_added_us).max(),
    ) {
        h.push(("x-taxii-date-added-first", format_us(first)));
        h.push(("x-taxii-date-added-last", format_us(last)));
    }
    h
}

fn with_headers(v: &Value, headers: Vec<(&'static str, String)>) -> Response {
    let mut r = ok(v);
    for (k, v) in headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            r.headers_mut().insert(k, v);
        }
    }
    r
}

/// The object of a row as served: findings carry their incident's marking now.
fn served(json: &str, row: &repo::ObjectRow, m: &Marking) -> Value {
    let mut o: Value = serde_json::from_str(json).unwrap_or(Value::Null);
    if row.scope.starts_with("incident:")
        && row.stix_type != "marking-definition"
        && let Some(map) = o.as_object_mut()
    {
        let t = m.tlp;
        map.insert("object_marking_refs".into(), json!([t.marking_id()]));
    }
    o
}

async fn read_rows<F>(st: &Shared, f: F) -> TResult<Response>
where
    F: FnOnce(&AnyStore) -> Result<Response, ApiError> + Send + 'static,
{
    publish_findings(st).await?;
    Ok(st.read(f).await?)
}

async fn objects(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path(cid): Path<String>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> TResult<Response> {
    let (c, f) = readable(&st, &who, &cid, &h, q.as_deref(), false)?;
    let st2 = st.clone();
    read_rows(&st, move |s| {
        let rows = select(&st2, s, &who, &c, None, &f)?;
        objects_page(s, rows, &f)
    })
    .await
}

/// One page of `rows` as an envelope of the objects as served.
fn objects_page(
    s: &AnyStore,
    rows: Vec<(repo::ObjectRow, Marking)>,
    f: &Filter,
) -> Result<Response, ApiError> {
    let (page, more) = page(rows, f);
    let seqs: Vec<i64> = page.iter().map(|(r, _)| r.seq).collect();
    let jsons = s.object_json(&seqs)?;
    let objects: Vec<Value> = page
        .iter()
        .zip(&jsons)
        .map(|((r, m), j)| served(j, r, m))
        .collect();
    Ok(with_headers(
        &envelope(objects, more, page.last().map(|(r, _)| r.seq)),
        envelope_headers(&page),
    ))
}

fn envelope(objects: Vec<Value>, more: bool, last: Option<i64>) -> Value {
    let mut e = json!({ "more": more });
    if more && let Some(l) = last {
        e["next"] = json!(l.to_string());
    }
    if !objects.is_empty() {
        e["objects"] = Value::Array(objects);
    }
    e
}

async fn manifest(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path(cid): Path<String>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> TResult<Response> {
    let (c, f) = readable(&st, &who, &cid, &h, q.as_deref(), false)?;
    let st2 = st.clone();
    read_rows(&st, move |s| {
        let rows = select(&st2, s, &who, &c, None, &f)?;
        let (page, more) = page(rows, &f);
        let list: Vec<Value> = page
            .iter()
            .map(|(r, _)| {
                json!({
                    "id": r.id,
                    "date_added": format_us(r.date_added_us),
                    "version": version_of(r),
                    "media_type": STIX_MEDIA_TYPE,
                })
            })
            .collect();
        Ok(with_headers(
            &envelope(list, more, page.last().map(|(r, _)| r.seq)),
            envelope_headers(&page),
        ))
    })
    .await
}

async fn object(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path((cid, oid)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> TResult<Response> {
    let (c, f) = readable(&st, &who, &cid, &h, q.as_deref(), false)?;
    let st2 = st.clone();
    read_rows(&st, move |s| {
        let rows = select(&st2, s, &who, &c, Some(&oid), &f)?;
        if rows.is_empty() {
            return Ok(TaxiiError::not_found(format!(
                "no object {oid:?} in collection {} that this token may read",
                c.id
            ))
            .into_response());
        }
        objects_page(s, rows, &f)
    })
    .await
}

async fn versions(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path((cid, oid)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> TResult<Response> {
    let (c, f) = readable(&st, &who, &cid, &h, q.as_deref(), true)?;
    let st2 = st.clone();
    read_rows(&st, move |s| {
        let rows = select(&st2, s, &who, &c, Some(&oid), &f)?;
        if rows.is_empty() {
            return Ok(TaxiiError::not_found(format!(
                "no object {oid:?} in collection {} that this token may read",
                c.id
            ))
            .into_response());
        }
        let (page, more) = page(rows, &f);
        let list: Vec<String> = page.iter().map(|(r, _)| version_of(r)).collect();
        let mut v = json!({ "more": more, "versions": list });
        if more && let Some((r, _)) = page.last() {
            v["next"] = json!(r.seq.to_string());
        }
        Ok(with_headers(&v, envelope_headers(&page)))
    })
    .await
}

async fn status(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path(sid): Path<String>,
    h: HeaderMap,
) -> TResult<Response> {
    check_accept(&h)?;
    if !who.role.at_least(Role::Analyst) {
        return Err(TaxiiError::not_found(format!("no status {sid:?}")));
    }
    let sid2 = sid.clone();
    let found = st.read(move |s| Ok(s.status(&sid2)?)).await?;
    match found {
        Some(j) => Ok(ok(&serde_json::from_str(&j).unwrap_or(Value::Null))),
        None => Err(TaxiiError::not_found(format!("no status {sid:?}"))),
    }
}

/// The most restrictive TLP among an object's markings (`None`: no TLP marking).
fn object_tlp(o: &Value) -> Option<pharos_share::Tlp> {
    o.get("object_marking_refs")?
        .as_array()?
        .iter()
        .filter_map(|m| m.as_str().and_then(pharos_share::Tlp::from_marking_id))
        .max()
}

async fn add_objects(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    audit: Option<Extension<crate::audit::InTransaction>>,
    Path(cid): Path<String>,
    h: HeaderMap,
    body: Bytes,
) -> TResult<Response> {
    check_accept(&h)?;
    let c = find_collection(&st, &who, &cid)?;
    if !c.can_write(&who) {
        return Err(TaxiiError::forbidden(if c.kind == Kind::Inbox {
            format!(
                "posting objects needs the analyst or admin role; the token {:?} is {}",
                who.name,
                who.role.as_str()
            )
        } else {
            format!(
                "collection {} is read-only; post to the analysts' inbox ({INBOX})",
                c.id
            )
        }));
    }
    if let Some(ct) = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        let m = ct.to_ascii_lowercase();
        if !(m.starts_with("application/taxii+json")
            || m.starts_with("application/stix+json")
            || m.starts_with("application/json"))
        {
            return Err(TaxiiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
                format!("send an envelope as {MEDIA_TYPE}, not {ct:?}"),
            ));
        }
    }
    let v: Value = serde_json::from_slice(&body)
        .map_err(|e| TaxiiError::bad_request(format!("the body is not JSON: {e}")))?;
    let objects = v
        .get("objects")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| {
            TaxiiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Unprocessable entity",
                "not a TAXII envelope: it has no \"objects\" list; nothing was stored",
            )
        })?;
    let requested = format_us(now_us());
    let status_id = pharos_share::stix::ids::stable_uuid(
        "taxii-status",
        &format!("{}|{requested}", who.token_id),
    );
    let source = format!(
        "taxii POST to collection {} by {} ({})",
        c.id, who.name, who.token_id
    );
    let path = st.store_path.clone();
    let sid = status_id;
    // The partner's objects, the inbox's rows, the status resource and
    // the request's audit row are committed in one transaction (issue 14):
    // a crash leaves all of them or none. When it fails, the row written
    // after the answer says so.
    let commit = audit.map(|Extension(a)| a.commit(202));
    let audited_path = format!("/taxii2/pharos/collections/{}/objects/", c.id);
    let status_v = tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
        let mut store = AnyStore::open(&path)?;
        let bundle = json!({
            "type": "bundle",
            "id": format!("bundle--{sid}"),
            "objects": objects,
        });
        let bytes = serde_json::to_vec(&bundle).map_err(ApiError::internal)?;
        let mut status_out: Option<Value> = None;
        {
            let mut imp = pharos_share::stix::import::Importer::new(&mut store)
                .map_err(|e| ApiError::internal(e.to_string()))?;
            if let Some(c) = &commit {
                let row = c.row.clone();
                let sid = sid.clone();
                imp.audit_with(move |report| {
                    vec![pharos_store::AuditRecord {
                        path: audited_path.clone(),
                        object: Some(format!("status:{sid}")),
                        detail: Some(format!(
                            "TAXII envelope: {} objects, {} added, {} updated, {} unchanged, {} quarantined",
                            report.objects, report.added, report.updated, report.unchanged, report.rejected
                        )),
                        ..row.clone()
                    }]
                });
            }
            let out = &mut status_out;
            let (sid2, requested2) = (sid.clone(), requested.clone());
            imp.inbox_with(move |rejections| {
                let (inbox, status) = inbox_rows(&objects, rejections, &sid2, &requested2);
                *out = Some(status);
                inbox
            });
            match imp.import_bytes(&bytes, &source) {
                Ok(_) => {}
                Err(e @ pharos_share::stix::ImportError::File { .. }) => {
                    return Err(ApiError::unprocessable(e.to_string()));
                }
                Err(e) => return Err(ApiError::internal(e)),
            }
            commit.iter().for_each(crate::audit::Commit::committed);
            imp.finish()
                .map_err(|e| ApiError::internal(e.to_string()))?;
        }
        status_out.ok_or_else(|| ApiError::internal("the import made no status"))
    })
    .await
    .map_err(ApiError::internal)??;
    let mut r = ok(&status_v);
    *r.status_mut() = StatusCode::ACCEPTED;
    Ok(r)
}

/// A TAXII POST's rows for the inbox and its status resource: the objects
/// not rejected (`rejections`: `id or object #n: reason`), each under the
/// TLP it carries.
fn inbox_rows(
    objects: &[Value],
    rejections: &[String],
    sid: &str,
    requested: &str,
) -> (pharos_share::stix::import::Inbox, Value) {
    use pharos_share::stix::import::{Inbox, InboxObject};
    let rejected: HashMap<&str, &str> = rejections
        .iter()
        .filter_map(|r| r.split_once(": "))
        .collect();
    let mut successes = Vec::new();
    let mut failures = Vec::new();
    let mut kept = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        let id = o.get("id").and_then(Value::as_str).unwrap_or("");
        let who_key = if id.is_empty() {
            format!("object #{}", i + 1)
        } else {
            id.to_string()
        };
        let version = stored_version(o);
        if let Some(why) = rejected.get(who_key.as_str()) {
            let mut fail = json!({"id": who_key, "message": why});
            if !version.is_empty() {
                fail["version"] = json!(version);
            }
            failures.push(fail);
            continue;
        }
        let mut ok = json!({"id": id});
        if !version.is_empty() {
            ok["version"] = json!(version);
        }
        successes.push(ok);
        let scope = match object_tlp(o) {
            Some(t) => format!("tlp:{}", t.as_str()),
            None => "default".to_string(),
        };
        kept.push(InboxObject {
            id: id.to_string(),
            version,
            scope,
            stix_type: o
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            spec_version: o
                .get("spec_version")
                .and_then(Value::as_str)
                .unwrap_or("2.1")
                .to_string(),
            json: o.to_string(),
        });
    }
    let status = json!({
        "id": sid,
        "status": "complete",
        "request_timestamp": requested,
        "total_count": objects.len(),
        "success_count": successes.len(),
        "successes": successes,
        "failure_count": failures.len(),
        "failures": failures,
        "pending_count": 0,
    });
    let inbox = Inbox {
        collection: INBOX.to_string(),
        objects: kept,
        status_id: sid.to_string(),
        status_json: status.to_string(),
    };
    (inbox, status)
}

use pharos_core::time::now_us;

static PUBLISHING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Publishes the store's incidents into the findings collection when they
/// changed since the last time (`pharos assess` ran): each incident as
/// `pharos export stix` builds it, its objects added under its scope; the
/// five TLP 2.0 marking-definitions for everyone. Objects already there at
/// the same version stay as they were (their `date_added` too).
pub async fn publish_findings(st: &Shared) -> Result<(), ApiError> {
    let path = st.store_path.clone();
    tokio::task::spawn_blocking(move || publish_blocking(&path))
        .await
        .map_err(ApiError::internal)?
}

fn publish_blocking(path: &Location) -> Result<(), ApiError> {
    let _guard = PUBLISHING.lock().map_err(ApiError::internal)?;
    let mut store = AnyStore::open(path)?;
    let fp = store.incidents_fingerprint()?;
    if store.state("findings")?.as_deref() == Some(fp.as_str()) {
        return Ok(());
    }
    let incidents = pharos_assess::load_incidents(&store).map_err(ApiError::internal)?;
    let catalogue = pharos_assess::disarm::load_from_store(&store)
        .ok()
        .flatten();
    let opts = pharos_share::stix::ExportOptions {
        catalogue: catalogue.as_ref(),
        ..Default::default()
    };
    let mut rows: Vec<(String, String, String, String, String, String)> = Vec::new();
    for t in pharos_share::Tlp::ALL {
        let md = t.marking_definition();
        rows.push(row_of(&md, "public"));
    }
    let mut seen_scopes = BTreeSet::new();
    for inc in &incidents {
        let scope = format!("incident:{}", inc.id);
        seen_scopes.insert(scope.clone());
        let (b, _) = pharos_share::stix::export_bundle(std::slice::from_ref(inc), &opts);
        for o in b["objects"].as_array().into_iter().flatten() {
            if o["type"] == "marking-definition" {
                continue;
            }
            rows.push(row_of(o, &scope));
        }
    }
    let news: Vec<repo::NewObject<'_>> = rows
        .iter()
        .map(|(id, version, scope, ty, sv, j)| repo::NewObject {
            id,
            version,
            scope,
            stix_type: ty,
            spec_version: sv,
            json: j,
        })
        .collect();
    store.add_objects(FINDINGS, &news)?;
    store.set_state("findings", &fp)?;
    Ok(())
}

fn row_of(o: &Value, scope: &str) -> (String, String, String, String, String, String) {
    (
        o["id"].as_str().unwrap_or("").to_string(),
        stored_version(o),
        scope.to_string(),
        o["type"].as_str().unwrap_or("").to_string(),
        o.get("spec_version")
            .and_then(Value::as_str)
            .unwrap_or("2.1")
            .to_string(),
        o.to_string(),
    )
}

/// Starts one thread per `[[taxii.pull]]`: pulls the remote collection
/// into the store as `pharos share pull` does, then every `every_s` seconds.
pub fn start_pulls(
    store_path: &Location,
    pulls: &[crate::config::TaxiiPull],
) -> anyhow::Result<()> {
    for p in pulls {
        let p = p.clone();
        let path = store_path.clone();
        std::thread::Builder::new()
            .name("taxii-pull".into())
            .spawn(move || loop {
                match pull_once(&path, &p) {
                    Ok(r) => tracing::info!(
                        "taxii pull {}collections/{}/: {} objects ({} added, {} updated, {} rejected)",
                        r.api_root, r.collection, r.objects, r.added, r.updated, r.rejected
                    ),
                    Err(e) => tracing::warn!("taxii pull {} {}: {e:#}", p.taxii, p.collection),
                }
                std::thread::sleep(std::time::Duration::from_secs(p.every_s));
            })?;
    }
    Ok(())
}

fn pull_once(
    path: &Location,
    p: &crate::config::TaxiiPull,
) -> anyhow::Result<pharos_share::taxii::PullReport> {
    use pharos_share::taxii::{Auth, Remote};
    let auth = Auth::from_options(p.token.as_deref(), p.user.as_deref(), p.password.as_deref());
    let remote = Remote::connect_allowing(&p.taxii, auth, p.redirect_allow.clone())?;
    let mut store = AnyStore::open(path)?;
    Ok(pharos_share::taxii::pull(
        &remote,
        &p.collection,
        &mut store,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_refuse_what_they_do_not_know() {
        let f = parse_filter(
            Some("limit=5&next=12&added_after=2026-12-07T00%3A00%3A00.5Z&match%5Btype%5D=url,incident&match[version]=all"),
            false,
        )
        .unwrap_or_else(|e| panic!("{}", e.description));
        assert_eq!(f.limit, 5);
        assert_eq!(f.next, Some(12));
        assert_eq!(f.added_after, parse_time_us("2026-12-07T00:00:00.500Z"));
        assert_eq!(f.types.unwrap().len(), 2);
        assert_eq!(f.versions, Versions::All);
        assert_eq!(
            parse_filter(Some("limit=5000"), false).ok().unwrap().limit,
            DEFAULT_LIMIT
        );
        for bad in [
            "limit=0",
            "limit=x",
            "added_after=yesterday",
            "match[colour]=red",
            "next=abc",
        ] {
            assert!(parse_filter(Some(bad), false).is_err(), "{bad}");
        }
        assert_eq!(
            parse_filter(None, true).ok().unwrap().versions,
            Versions::All
        );
    }

    #[test]
    fn times_keep_microseconds() {
        let us = parse_time_us("2026-12-07T01:02:03.123456Z").unwrap();
        assert_eq!(format_us(us), "2026-12-07T01:02:03.123456Z");
        assert_eq!(
            stored_version(&json!({"modified": "2026-12-07T01:02:03Z"})),
            "2026-12-07T01:02:03.000Z"
        );
        assert_eq!(stored_version(&json!({"value": "x"})), "");
    }

    #[test]
    fn accept_headers() {
        let mut h = HeaderMap::new();
        assert!(check_accept(&h).is_ok());
        for fine in [
            MEDIA_TYPE,
            "application/taxii+json",
            "*/*",
            "application/json",
            "application/taxii+json; version=2.1",
        ] {
            h.insert(header::ACCEPT, HeaderValue::from_static(fine));
            assert!(check_accept(&h).is_ok(), "{fine}");
        }
        for bad in ["application/taxii+json;version=2.0", "text/html"] {
            h.insert(header::ACCEPT, HeaderValue::from_static(bad));
            assert!(check_accept(&h).is_err(), "{bad}");
        }
    }
}
