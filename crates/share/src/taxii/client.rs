//! The TAXII 2.1 client (see the module docs of [`crate::taxii`]).

use crate::stix::import::{ImportError, Importer};
use pharos_store::AnyStore;
use pharos_store::taxii::TaxiiStore;
use serde::Serialize;
use serde_json::{Value, json};
use std::time::Duration;

/// How long one request to a TAXII server may take (connect, send, read).
pub const TIMEOUT: Duration = Duration::from_secs(120);

/// The most bytes one answer of a TAXII server may have (a page of up to
/// 1,000 objects, a status, a collection): a longer one is refused, read
/// no further than this, so a hostile or broken server cannot make the
/// client hold more (docs/limits.md).
pub const MAX_ANSWER_BYTES: usize = 64 << 20;

/// The TAXII 2.1 media type.
pub const MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
/// STIX 2.1 objects in an envelope.
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";

/// How the client authenticates.
#[derive(Clone, Debug, Default)]
pub enum Auth {
    #[default]
    None,
    /// `Authorization: Bearer TOKEN`.
    Token(String),
    /// HTTP Basic.
    Basic { user: String, password: String },
}

impl Auth {
    /// A token (Bearer) when given, else HTTP Basic when both a user name
    /// and a password are, else none: what `pharos share` and `[[taxii.pull]]` take.
    pub fn from_options(token: Option<&str>, user: Option<&str>, password: Option<&str>) -> Auth {
        match (token, user, password) {
            (Some(t), _, _) => Auth::Token(t.to_string()),
            (None, Some(u), Some(p)) => Auth::Basic {
                user: u.to_string(),
                password: p.to_string(),
            },
            _ => Auth::None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{url}: {reason}")]
    Transport { url: String, reason: String },
    #[error("{url}: HTTP {status}: {message}")]
    Http {
        url: String,
        status: u16,
        message: String,
    },
    #[error("{url}: {reason}")]
    Protocol { url: String, reason: String },
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Store(#[from] pharos_store::StoreError),
}

/// A remote TAXII 2.1 API root.
pub struct Remote {
    /// The API root URL, ending in `/`.
    pub api_root: String,
    /// What the API root says of itself (`max_content_length`, ...).
    pub info: Value,
    auth: Auth,
    http: reqwest::blocking::Client,
}

/// `base` joined with a relative or absolute `url`.
fn resolve(base: &str, url: &str) -> String {
    if url.starts_with("http://") || url.starts_with("https://") {
        return url.to_string();
    }
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    if url.starts_with('/') {
        let host_end = base[scheme_end..]
            .find('/')
            .map_or(base.len(), |i| scheme_end + i);
        return format!("{}{url}", &base[..host_end]);
    }
    format!("{}/{url}", base.trim_end_matches('/'))
}

fn with_slash(u: &str) -> String {
    if u.ends_with('/') {
        u.to_string()
    } else {
        format!("{u}/")
    }
}

/// One page of objects.
struct Page {
    objects: Vec<Value>,
    more: bool,
    next: Option<String>,
    added_last: Option<String>,
}

impl Remote {
    /// Connects to an API root, or to a discovery URL's default API root
    /// (its first when it names no default).
    ///
    /// The client follows Pharos' one HTTP policy
    /// ([`pharos_core::net::http_client`]): each request gives up after
    /// [`TIMEOUT`], and a redirect to a loopback, link-local or private
    /// address other than the configured host is refused (issue 14,
    /// finding 9).
    pub fn connect(url: &str, auth: Auth) -> Result<Remote, ClientError> {
        Self::connect_allowing(url, auth, Vec::new())
    }

    /// [`Remote::connect`], letting redirects reach the internal hosts in
    /// `redirect_allow` (as feeds' and webhooks' `redirect_allow`:
    /// `--redirect-allow HOST`, `[[taxii.pull]] redirect_allow`).
    pub fn connect_allowing(
        url: &str,
        auth: Auth,
        redirect_allow: Vec<String>,
    ) -> Result<Remote, ClientError> {
        let http = pharos_core::net::http_client(
            "taxii",
            TIMEOUT,
            pharos_core::net::RedirectGuard::new(redirect_allow),
        )
        .map_err(|e| ClientError::Transport {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        let mut r = Remote {
            api_root: with_slash(url),
            info: Value::Null,
            auth,
            http,
        };
        let first = r.get_json(&r.api_root.clone())?.0;
        if let Some(roots) = first.get("api_roots").and_then(Value::as_array) {
            let chosen = first
                .get("default")
                .and_then(Value::as_str)
                .or_else(|| roots.first().and_then(Value::as_str))
                .ok_or_else(|| ClientError::Protocol {
                    url: url.to_string(),
                    reason: "the discovery document names no API root".into(),
                })?;
            r.api_root = with_slash(&resolve(url, chosen));
            r.info = r.get_json(&r.api_root.clone())?.0;
        } else {
            r.info = first;
        }
        if r.info.get("versions").is_none() && r.info.get("title").is_none() {
            return Err(ClientError::Protocol {
                url: r.api_root.clone(),
                reason: "not a TAXII 2.1 API root (no title or versions): give the API root URL (e.g. https://host/taxii2/pharos/) or the discovery URL".into(),
            });
        }
        Ok(r)
    }

    fn request(&self, rb: reqwest::blocking::RequestBuilder) -> reqwest::blocking::RequestBuilder {
        let rb = rb.header(reqwest::header::ACCEPT, MEDIA_TYPE);
        match &self.auth {
            Auth::None => rb,
            Auth::Token(t) => rb.bearer_auth(t),
            Auth::Basic { user, password } => rb.basic_auth(user, Some(password)),
        }
    }

    fn answer(
        url: &str,
        resp: reqwest::blocking::Response,
    ) -> Result<(Value, reqwest::header::HeaderMap), ClientError> {
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = Self::body(url, resp)?;
        if !status.is_success() {
            let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let message = v
                .get("description")
                .or_else(|| v.get("message"))
                .or_else(|| v.get("title"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(300).collect());
            return Err(ClientError::Http {
                url: url.to_string(),
                status: status.as_u16(),
                message,
            });
        }
        let v = if body.iter().all(u8::is_ascii_whitespace) {
            json!({})
        } else {
            serde_json::from_slice(&body).map_err(|e| ClientError::Protocol {
                url: url.to_string(),
                reason: format!("the answer is not JSON: {e}"),
            })?
        };
        Ok((v, headers))
    }

    /// The answer's body, at most [`MAX_ANSWER_BYTES`] (refused past it,
    /// without reading further).
    fn body(url: &str, mut resp: reqwest::blocking::Response) -> Result<Vec<u8>, ClientError> {
        use std::io::Read;
        let too_long = |n: String| ClientError::Protocol {
            url: url.to_string(),
            reason: format!(
                "the answer is {n} bytes, more than a TAXII answer may have ({MAX_ANSWER_BYTES}); nothing of it was used"
            ),
        };
        if let Some(n) = resp.content_length()
            && n > MAX_ANSWER_BYTES as u64
        {
            return Err(too_long(n.to_string()));
        }
        let mut body = Vec::new();
        (&mut resp)
            .take(MAX_ANSWER_BYTES as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|e| ClientError::Transport {
                url: url.to_string(),
                reason: pharos_core::net::error_chain(&e),
            })?;
        if body.len() > MAX_ANSWER_BYTES {
            return Err(too_long("more than that".into()));
        }
        Ok(body)
    }

    fn get_json(&self, url: &str) -> Result<(Value, reqwest::header::HeaderMap), ClientError> {
        let resp = self
            .request(self.http.get(url))
            .send()
            .map_err(|e| ClientError::Transport {
                url: url.to_string(),
                reason: pharos_core::net::error_chain(&e),
            })?;
        Self::answer(url, resp)
    }

    fn collection_url(&self, collection: &str) -> String {
        format!("{}collections/{}/", self.api_root, collection)
    }

    /// The collection resource (`can_read`, `can_write`, ...).
    pub fn collection(&self, collection: &str) -> Result<Value, ClientError> {
        Ok(self.get_json(&self.collection_url(collection))?.0)
    }

    fn objects_page(
        &self,
        collection: &str,
        added_after: Option<&str>,
        next: Option<&str>,
    ) -> Result<Page, ClientError> {
        let mut url = reqwest::Url::parse(&format!("{}objects/", self.collection_url(collection)))
            .map_err(|e| ClientError::Protocol {
                url: self.api_root.clone(),
                reason: e.to_string(),
            })?;
        {
            let mut q = url.query_pairs_mut();
            // Always a limit: servers cap it at their page size, and
            // medallion refuses a `next` without one.
            q.append_pair("limit", "1000");
            if let Some(a) = added_after {
                q.append_pair("added_after", a);
            }
            if let Some(n) = next {
                q.append_pair("next", n);
            }
        }
        let (v, h) = self.get_json(url.as_str())?;
        Ok(Page {
            objects: v
                .get("objects")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            more: v.get("more").and_then(Value::as_bool).unwrap_or(false),
            next: v.get("next").and_then(|n| match n {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }),
            added_last: h
                .get("x-taxii-date-added-last")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        })
    }

    /// Posts one envelope; returns the status resource, polled until it is
    /// no longer pending (at most a minute).
    pub fn post_envelope(&self, collection: &str, objects: &[Value]) -> Result<Value, ClientError> {
        let url = format!("{}objects/", self.collection_url(collection));
        let body = serde_json::to_vec(&json!({ "objects": objects })).map_err(|e| {
            ClientError::Protocol {
                url: url.clone(),
                reason: e.to_string(),
            }
        })?;
        let resp = self
            .request(self.http.post(&url))
            .header(reqwest::header::CONTENT_TYPE, MEDIA_TYPE)
            .body(body)
            .send()
            .map_err(|e| ClientError::Transport {
                url: url.clone(),
                reason: pharos_core::net::error_chain(&e),
            })?;
        let (mut status, _) = Self::answer(&url, resp)?;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while status.get("status").and_then(Value::as_str) == Some("pending")
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_secs(1));
            let Some(id) = status.get("id").and_then(Value::as_str) else {
                break;
            };
            status = self.get_json(&format!("{}status/{id}/", self.api_root))?.0;
        }
        Ok(status)
    }

    /// The most bytes an envelope may have (the API root's
    /// `max_content_length`; 10 MB when it says nothing).
    pub fn max_content_length(&self) -> usize {
        self.info
            .get("max_content_length")
            .and_then(Value::as_u64)
            .map_or(10 << 20, |n| n as usize)
    }
}

/// What a push did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PushReport {
    pub api_root: String,
    pub collection: String,
    pub objects: usize,
    pub envelopes: usize,
    pub success_count: u64,
    pub failure_count: u64,
    pub pending_count: u64,
    /// `id: message`, one per failed object (at most 100).
    pub failures: Vec<String>,
    /// Status resource ids.
    pub statuses: Vec<String>,
}

/// Envelopes of `objects` that fit `max_bytes` (and at most 1,000 objects).
fn envelopes(objects: &[Value], max_bytes: usize) -> Vec<Vec<Value>> {
    let budget = max_bytes.saturating_sub(64).max(1024);
    let mut out: Vec<Vec<Value>> = Vec::new();
    let mut cur: Vec<Value> = Vec::new();
    let mut size = 16;
    for o in objects {
        let n = o.to_string().len() + 1;
        if !cur.is_empty() && (size + n > budget || cur.len() >= 1000) {
            out.push(std::mem::take(&mut cur));
            size = 16;
        }
        size += n;
        cur.push(o.clone());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Sends `objects` to a remote collection, in envelopes that fit its limits.
pub fn push(
    remote: &Remote,
    collection: &str,
    objects: &[Value],
) -> Result<PushReport, ClientError> {
    let mut rep = PushReport {
        api_root: remote.api_root.clone(),
        collection: collection.to_string(),
        objects: objects.len(),
        ..Default::default()
    };
    for env in envelopes(objects, remote.max_content_length()) {
        let s = remote.post_envelope(collection, &env)?;
        rep.envelopes += 1;
        let count = |k: &str| s.get(k).and_then(Value::as_u64).unwrap_or(0);
        rep.success_count += count("success_count");
        rep.failure_count += count("failure_count");
        rep.pending_count += count("pending_count");
        if let Some(id) = s.get("id").and_then(Value::as_str) {
            rep.statuses.push(id.to_string());
        }
        for f in s
            .get("failures")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if rep.failures.len() < 100 {
                rep.failures.push(format!(
                    "{}: {}",
                    f.get("id").and_then(Value::as_str).unwrap_or("?"),
                    f.get("message").and_then(Value::as_str).unwrap_or("")
                ));
            }
        }
    }
    Ok(rep)
}

/// What a pull did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PullReport {
    pub api_root: String,
    pub collection: String,
    /// Where the pull started (`added_after`; none for a first pull).
    pub added_after: Option<String>,
    /// Where the next pull starts.
    pub next_added_after: Option<String>,
    pub pages: usize,
    pub objects: u64,
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    /// `object id: reason`, one per rejected object (at most 100).
    pub rejections: Vec<String>,
}

/// Imports what is new in a remote collection into the store, and
/// remembers where it stopped.
pub fn pull(
    remote: &Remote,
    collection: &str,
    store: &mut AnyStore,
) -> Result<PullReport, ClientError> {
    let key = remote.api_root.clone();
    let since = store.pull_position(&key, collection)?;
    let mut rep = PullReport {
        api_root: key.clone(),
        collection: collection.to_string(),
        added_after: since.clone(),
        ..Default::default()
    };
    let source = format!("taxii pull {}collections/{collection}/", remote.api_root);
    let mut next: Option<String> = None;
    let mut last = since.clone();
    let mut imp = Importer::new(store)?;
    loop {
        let page = remote.objects_page(collection, since.as_deref(), next.as_deref())?;
        rep.pages += 1;
        if !page.objects.is_empty() {
            let bundle = json!({
                "type": "bundle",
                "id": format!("bundle--{}", crate::stix::ids::stable_uuid("taxii-pull", &format!("{source}|{:?}|{:?}|{}", since, next, rep.pages))),
                "objects": page.objects,
            });
            let bytes = serde_json::to_vec(&bundle).map_err(|e| ClientError::Protocol {
                url: source.clone(),
                reason: e.to_string(),
            })?;
            let r = imp.import_bytes(&bytes, &source)?;
            rep.objects += r.objects;
            rep.added += r.added;
            rep.updated += r.updated;
            rep.unchanged += r.unchanged;
            rep.rejected += r.rejected;
            for x in r.rejections {
                if rep.rejections.len() < 100 {
                    rep.rejections.push(x);
                }
            }
        }
        if let Some(l) = page.added_last
            && last.as_deref().is_none_or(|p| later(&l, p))
        {
            last = Some(l);
        }
        if !page.more || page.objects.is_empty() {
            break;
        }
        match page.next {
            Some(n) => next = Some(n),
            None => break,
        }
        if rep.pages > 100_000 {
            return Err(ClientError::Protocol {
                url: source,
                reason: "more than 100,000 pages: the server keeps saying there is more".into(),
            });
        }
    }
    imp.finish()?;
    if let Some(l) = &last {
        store.set_pull_position(&key, collection, l)?;
    }
    rep.next_added_after = last;
    Ok(rep)
}

/// Whether RFC 3339 time `a` is after `b`, to the microsecond (text
/// order when either is unparsable).
fn later(a: &str, b: &str) -> bool {
    match (micros(a), micros(b)) {
        (Some(x), Some(y)) => x > y,
        _ => a > b,
    }
}

/// Microseconds since the epoch of an RFC 3339 time (TAXII's date_added
/// has them; `EventTime` keeps milliseconds, the rest is read here).
fn micros(s: &str) -> Option<i64> {
    let ms = pharos_core::EventTime::parse(s).ok()?.millis();
    let frac = s
        .split_once('.')
        .map(|(_, f)| {
            f.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .unwrap_or_default();
    let sub: i64 = frac
        .chars()
        .skip(3)
        .take(3)
        .collect::<String>()
        .parse()
        .unwrap_or(0);
    let scale = 10i64.pow(3 - frac.chars().skip(3).take(3).count() as u32);
    Some(ms * 1000 + sub * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server on 127.0.0.1 that answers each of its first four requests
    /// with `head` and then `body_len` spaces, and the URL it listens on.
    fn serve(head: String, body_len: usize) -> String {
        use std::io::{BufRead, Write};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/taxii2/", l.local_addr().unwrap());
        std::thread::spawn(move || {
            let chunk = vec![b' '; 1 << 20];
            for c in l.incoming().take(4) {
                let Ok(c) = c else { continue };
                let mut r = std::io::BufReader::new(c.try_clone().unwrap());
                let mut line = String::new();
                while r.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let mut w = std::io::BufWriter::new(c);
                let _ = w.write_all(head.as_bytes());
                let mut left = body_len;
                while left > 0 {
                    let n = left.min(chunk.len());
                    if w.write_all(&chunk[..n]).is_err() {
                        break;
                    }
                    left -= n;
                }
                let _ = w.flush();
            }
        });
        url
    }

    const OK_HEAD: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/taxii+json;version=2.1\r\nConnection: close\r\n\r\n";

    /// Issue 14: an answer longer than [`MAX_ANSWER_BYTES`] is refused,
    /// whether it says its length or not, and read no further.
    #[test]
    fn an_answer_past_the_cap_is_refused() {
        let said = serve(
            "HTTP/1.1 200 OK\r\nContent-Type: application/taxii+json;version=2.1\r\nContent-Length: 1000000000000\r\n\r\n".into(),
            0,
        );
        let e = Remote::connect(&said, Auth::None)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("more than a TAXII answer may have"), "{e}");
        let unsaid = serve(OK_HEAD.into(), MAX_ANSWER_BYTES + (1 << 20));
        let e = Remote::connect(&unsaid, Auth::None)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("more than a TAXII answer may have"), "{e}");
        // Up to the cap, an answer is read (here: not an API root).
        let fits = serve(OK_HEAD.into(), 1000);
        let e = Remote::connect(&fits, Auth::None)
            .err()
            .unwrap()
            .to_string();
        assert!(!e.contains("more than"), "{e}");
    }

    /// A redirect to an internal host is followed when it is allowed.
    #[test]
    fn a_redirect_to_an_allowed_internal_host_is_followed() {
        // A TAXII API root on 127.0.0.1, which a server on "localhost"
        // (another host name) redirects to.
        let target = serve(
            format!(
                "{OK_HEAD}{{\"title\": \"inside\", \"versions\": [\"application/taxii+json;version=2.1\"]}}"
            ),
            0,
        );
        let from = redirecting(target).replace("127.0.0.1", "localhost");
        let e = Remote::connect(&from, Auth::None)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("internal address"), "{e}");
        let r = Remote::connect_allowing(&from, Auth::None, vec!["127.0.0.1".into()]).unwrap();
        assert_eq!(r.info["title"], "inside");
    }

    #[test]
    fn urls_resolve_against_the_discovery_url() {
        assert_eq!(
            resolve("http://h:1/taxii2/", "/taxii2/pharos/"),
            "http://h:1/taxii2/pharos/"
        );
        assert_eq!(
            resolve("http://h:1/taxii2/", "https://o/x/"),
            "https://o/x/"
        );
        assert_eq!(
            resolve("http://h/taxii2/", "api1/"),
            "http://h/taxii2/api1/"
        );
    }

    #[test]
    fn envelopes_fit_the_size_limit_and_keep_every_object() {
        let objs: Vec<Value> = (0..2500)
            .map(|i| json!({"type": "url", "id": format!("url--{i}"), "value": "x".repeat(100)}))
            .collect();
        let envs = envelopes(&objs, 20_000);
        assert!(envs.len() > 10);
        assert_eq!(envs.iter().map(Vec::len).sum::<usize>(), 2500);
        for e in &envs {
            assert!(json!({ "objects": e }).to_string().len() <= 20_000);
        }
        assert!(envelopes(&objs, 1 << 30).iter().all(|e| e.len() <= 1000));
    }

    /// A server that answers every request with a redirect to `to`.
    fn redirecting(to: String) -> String {
        serve(
            format!(
                "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            ),
            0,
        )
    }

    #[test]
    fn a_redirect_to_an_internal_host_is_refused() {
        // Another port of the loopback: internal, and not the configured host.
        let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let to = format!("http://{}/taxii2/", target.local_addr().unwrap());
        let err = match Remote::connect(&redirecting(to), Auth::None) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("the redirect was followed"),
        };
        assert!(err.contains("internal address"), "{err}");
    }

    #[test]
    fn later_compares_times_not_text() {
        assert!(later("2026-12-07T01:00:00.5Z", "2026-12-07T01:00:00.400Z"));
        assert!(!later("2026-12-07T01:00:00Z", "2026-12-07T01:00:00.000Z"));
        assert!(later(
            "2026-12-07T01:00:00.000002Z",
            "2026-12-07T01:00:00.000001Z"
        ));
        assert!(!later(
            "2026-12-07T01:00:00.0000015Z",
            "2026-12-07T01:00:00.000001Z"
        ));
        assert!(later(
            "2026-12-07T01:00:00.00001Z",
            "2026-12-07T01:00:00.000001Z"
        ));
    }
}
