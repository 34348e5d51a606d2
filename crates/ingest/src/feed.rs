//! Polling RSS/Atom feeds over HTTP with conditional GET.
//!
//! A poll fetches a feed URL, parses it with the RSS/Atom reader
//! ([`crate::formats::rss`]), and hands to the sink only the entries it has
//! not handed over before. Between polls, everything a poller must remember
//! is in a [`FeedState`] (serde, so the CLI keeps it in a JSON file):
//!
//! - the `ETag` and `Last-Modified` validators of the last complete fetch,
//!   sent back as `If-None-Match` / `If-Modified-Since`, so an unchanged
//!   feed costs one `304 Not Modified` and no parsing;
//! - a bounded set of entry keys already passed on (the newest
//!   [`FeedState::SEEN_LIMIT`] by default), so a feed that changed gives
//!   only its new entries.
//!
//! ```no_run
//! use pharos_ingest::feed::{poll, FeedClient, FeedState, PollOutcome};
//! use pharos_ingest::{Item, Options};
//! use std::ops::ControlFlow;
//!
//! let client = FeedClient::new().unwrap();
//! let mut state = FeedState::load("feed-state.json".as_ref()).unwrap();
//! let opts = Options::new();
//! let outcome = poll(&client, "https://example.org/feed.xml", &mut state, &opts, &mut |item| {
//!     if let Item::Post(p) = item { println!("{} {}", p.time, p.id); }
//!     ControlFlow::Continue(())
//! }).unwrap();
//! if let PollOutcome::Fetched { new, .. } = outcome { println!("{new} new entries"); }
//! state.save("feed-state.json".as_ref()).unwrap();
//! ```
//!
//! TLS is rustls with the `ring` provider ([`install_crypto_provider`]),
//! installed by [`FeedClient::new`]; no C TLS library is built.

use crate::formats::rss::parse_feed;
use crate::{Item, Options, Rejection, Sink, normalize};
use serde::{Deserialize, Serialize};
use std::collections::{HashSet, VecDeque};
use std::io;
use std::ops::ControlFlow;
use std::path::Path;
use std::time::Duration;

/// Default time limit of one request (connect, send, read the whole body).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest feed body read (bigger documents are refused): 32 MiB, as a feed file.
pub const MAX_BODY: u64 = crate::limits::MAX_FEED_BYTES;

pub use pharos_core::net::install_crypto_provider;

/// A blocking HTTP client for feeds: follows redirects (up to 10, and none
/// that leaves the feed's host for a loopback, link-local or private
/// address unless allowed: [`pharos_core::net`]), times out, and
/// identifies itself as `pharos/<version>`.
#[derive(Clone, Debug)]
pub struct FeedClient {
    http: reqwest::blocking::Client,
    timeout: Duration,
}

impl FeedClient {
    /// A client with the default 30 s timeout.
    pub fn new() -> Result<FeedClient, FeedError> {
        FeedClient::with_timeout(DEFAULT_TIMEOUT)
    }

    /// A client whose requests give up after `timeout`.
    pub fn with_timeout(timeout: Duration) -> Result<FeedClient, FeedError> {
        FeedClient::with_options(timeout, Vec::new())
    }

    /// A client whose requests give up after `timeout` and whose redirects
    /// may lead to the internal hosts named in `redirect_allow` (see
    /// [`pharos_core::net::RedirectGuard`]; by default, none).
    pub fn with_options(
        timeout: Duration,
        redirect_allow: Vec<String>,
    ) -> Result<FeedClient, FeedError> {
        let http = pharos_core::net::http_client(
            "feed poller",
            timeout,
            pharos_core::net::RedirectGuard::new(redirect_allow),
        )
        .map_err(|e| FeedError::Client(e.to_string()))?;
        Ok(FeedClient { http, timeout })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// What a poller remembers about one feed between polls.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedState {
    /// `ETag` of the last complete fetch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// `Last-Modified` of the last complete fetch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Keys (entry id, else link) of entries already passed on, oldest first.
    #[serde(default)]
    pub seen: VecDeque<String>,
    /// How many keys to keep; 0 means [`FeedState::SEEN_LIMIT`].
    #[serde(default, skip_serializing_if = "is_zero")]
    pub seen_limit: usize,
    /// Lookup index over `seen`, rebuilt on demand.
    #[serde(skip)]
    index: HashSet<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl FeedState {
    /// Default number of entry keys remembered per feed.
    pub const SEEN_LIMIT: usize = 5_000;

    /// A fresh state (nothing seen, no validators).
    pub fn new() -> FeedState {
        FeedState::default()
    }

    /// Reads a state saved with [`FeedState::save`]; a missing file is a fresh state.
    pub fn load(path: &Path) -> io::Result<FeedState> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: bad feed state: {e}", path.display()),
                )
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(FeedState::new()),
            Err(e) => Err(e),
        }
    }

    /// Writes the state as JSON (to a temporary file renamed into place).
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let tmp = path.with_extension("tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec_pretty(self).map_err(io::Error::other)?,
        )?;
        std::fs::rename(&tmp, path)
    }

    /// Whether an entry key was passed on before.
    pub fn has_seen(&mut self, key: &str) -> bool {
        if self.index.len() != self.seen.len() {
            self.index = self.seen.iter().cloned().collect();
        }
        self.index.contains(key)
    }

    /// Remembers an entry key, forgetting the oldest beyond the limit.
    pub fn mark_seen(&mut self, key: &str) {
        if self.has_seen(key) {
            return;
        }
        self.seen.push_back(key.to_string());
        self.index.insert(key.to_string());
        let limit = if self.seen_limit == 0 {
            FeedState::SEEN_LIMIT
        } else {
            self.seen_limit
        };
        while self.seen.len() > limit {
            if let Some(old) = self.seen.pop_front() {
                self.index.remove(&old);
            }
        }
    }

    /// Forgets the validators so the next poll fetches the whole feed
    /// (seen entries are still skipped).
    pub fn clear_validators(&mut self) {
        self.etag = None;
        self.last_modified = None;
    }
}

/// What one poll did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PollOutcome {
    /// The server answered `304 Not Modified`: nothing was passed on.
    NotModified,
    /// The feed was fetched: `items` entries in it, `new` of them passed to
    /// the sink (posts and rejections of entries not seen before).
    Fetched { items: usize, new: usize },
}

/// Why a poll failed. The state is unchanged after an error.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("{url}: {}", pharos_core::net::error_chain(source))]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url}: HTTP status {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: feed larger than {MAX_BODY} bytes")]
    TooLarge { url: String },
    #[error("{url}: {reason}")]
    NotAFeed { url: String, reason: String },
}

/// Polls one feed once.
///
/// Sends `If-None-Match` / `If-Modified-Since` from `state`; on `304`
/// returns [`PollOutcome::NotModified`]. Otherwise parses the body (the
/// final URL after redirects is the provenance source and the base for
/// relative links), normalises each entry's post, and passes to `sink`
/// those whose key is not in `state.seen`, marking them seen as it goes.
/// The validators are stored only when every entry was handled, so a sink
/// that stops early (`ControlFlow::Break`) gets the rest on the next poll.
/// Options used: `platform` (default `rss`) and `detect_language`.
pub fn poll(
    client: &FeedClient,
    url: &str,
    state: &mut FeedState,
    opts: &Options,
    sink: &mut Sink<'_>,
) -> Result<PollOutcome, FeedError> {
    let http_err = |source| FeedError::Http {
        url: url.to_string(),
        source,
    };
    let mut req = client
        .http
        .get(url)
        .header(
            reqwest::header::ACCEPT,
            "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
        );
    if let Some(etag) = &state.etag {
        req = req.header(reqwest::header::IF_NONE_MATCH, etag.as_str());
    }
    if let Some(lm) = &state.last_modified {
        req = req.header(reqwest::header::IF_MODIFIED_SINCE, lm.as_str());
    }
    let resp = req.send().map_err(http_err)?;
    let status = resp.status();
    if status == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(PollOutcome::NotModified);
    }
    if !status.is_success() {
        return Err(FeedError::Status {
            url: url.to_string(),
            status: status.as_u16(),
        });
    }
    let header = |name: reqwest::header::HeaderName| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let etag = header(reqwest::header::ETAG);
    let last_modified = header(reqwest::header::LAST_MODIFIED);
    let final_url = resp.url().to_string();
    if resp.content_length().is_some_and(|n| n > MAX_BODY) {
        return Err(FeedError::TooLarge {
            url: url.to_string(),
        });
    }
    let mut body = Vec::new();
    {
        use std::io::Read;
        let mut limited = resp.take(MAX_BODY + 1);
        limited
            .read_to_end(&mut body)
            .map_err(|e| FeedError::NotAFeed {
                url: url.to_string(),
                reason: format!("read error: {e}"),
            })?;
    }
    if body.len() as u64 > MAX_BODY {
        return Err(FeedError::TooLarge {
            url: url.to_string(),
        });
    }
    let entries = parse_feed(&body, &final_url, opts).map_err(|r| FeedError::NotAFeed {
        url: url.to_string(),
        reason: r.reason,
    })?;
    let items = entries.len();
    let mut new = 0;
    let mut complete = true;
    for entry in entries {
        if state.has_seen(&entry.key) {
            continue;
        }
        state.mark_seen(&entry.key);
        new += 1;
        let item = match entry.item {
            Item::Post(mut post) => match normalize::normalize(&mut post, opts.detect_language) {
                Ok(()) => Item::Post(post),
                Err(reason) => Item::Rejected(Rejection::new(
                    &final_url,
                    None,
                    post.provenance.record,
                    reason,
                    serde_json::to_string(&post).unwrap_or_default(),
                )),
            },
            rejected => rejected,
        };
        if sink(item).is_break() {
            complete = false;
            break;
        }
    }
    if complete {
        state.etag = etag;
        state.last_modified = last_modified;
    }
    Ok(PollOutcome::Fetched { items, new })
}

/// What [`watch`] calls after each poll: the poll's result and the state.
pub type OnPoll<'a> =
    dyn FnMut(&Result<PollOutcome, FeedError>, &FeedState) -> ControlFlow<()> + 'a;

/// Polls `url` every `every` until `on_poll` says stop.
///
/// After each poll (successful or not) `on_poll` sees its result; returning
/// `ControlFlow::Break(())` ends the loop (then `watch` returns). Errors do
/// not end the loop by themselves: a feed that is down is tried again at
/// the next tick. The state is updated in place; save it from `on_poll`
/// when it must survive a restart.
pub fn watch(
    client: &FeedClient,
    url: &str,
    every: Duration,
    state: &mut FeedState,
    opts: &Options,
    sink: &mut Sink<'_>,
    on_poll: &mut OnPoll<'_>,
) {
    loop {
        let started = std::time::Instant::now();
        let result = poll(client, url, state, opts, sink);
        if on_poll(&result, state).is_break() {
            return;
        }
        if let Some(rest) = every.checked_sub(started.elapsed()) {
            std::thread::sleep(rest);
        }
    }
}
