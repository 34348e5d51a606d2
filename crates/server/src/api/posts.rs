//! Posts: search (full text and filters), one post, stats, ingest.

use crate::auth::{Principal, Role, now_ms};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Q, require};
use crate::state::Shared;
use crate::writer::WriteJob;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use pharos_core::{EventTime, Post};
use pharos_ingest::{Format, Item, Options, Rejection};
use pharos_store::{EncodedPosts, PostSearch, PostSearcher, SearchCursor, Store, text_query};
use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;
use std::sync::mpsc::TrySendError;
use utoipa::{IntoParams, ToSchema};

/// Filters of `GET /api/posts`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PostQuery {
    /// Full text: words all present (`word*` for a prefix). Results are then
    /// newest stored first.
    pub q: Option<String>,
    /// From this time (RFC 3339, date or epoch), inclusive.
    pub since: Option<String>,
    /// Until this time, exclusive.
    pub until: Option<String>,
    pub platform: Option<String>,
    /// ISO 639-1 code (`und`: no language).
    pub lang: Option<String>,
    /// `platform:actor id`, or the actor id with `platform`.
    pub actor: Option<String>,
    /// A link (normalised as stored: tracking parameters dropped).
    pub link: Option<String>,
    pub domain: Option<String>,
    /// Without `#`, any case.
    pub hashtag: Option<String>,
    /// 1 to 500 (default 50).
    pub limit: Option<usize>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

/// A page of posts.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostPage {
    #[schema(value_type = Vec<Object>)]
    pub posts: Vec<Post>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next: Option<String>,
    /// Rows of the store indexed for full text / rows stored (the index
    /// catches up in the background after large loads). Left out for a
    /// partner from whom some post or account is hidden: they count the
    /// whole store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indexed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored: Option<i64>,
}

fn time(name: &str, v: &Option<String>) -> ApiResult<Option<i64>> {
    v.as_deref()
        .map(|s| {
            EventTime::parse(s)
                .map(|t| t.millis())
                .map_err(|e| ApiError::bad_request(format!("{name}={s:?}: {e}")))
        })
        .transpose()
}

/// Most words a post search takes (`q`): each is one more full-text list
/// to intersect, and 6,000 of them held a read connection for 22 s
/// (issue 14, finding 4). docs/limits.md.
pub const MAX_SEARCH_TERMS: usize = 32;

/// The `domain` filter as stored: lowercase, without `www.`.
fn domain_value(d: &str) -> String {
    let d = d.trim().to_ascii_lowercase();
    d.strip_prefix("www.").unwrap_or(&d).to_string()
}

/// The `hashtag` filter as stored: lowercase, without `#`.
fn hashtag_value(h: &str) -> String {
    h.trim_start_matches('#').to_lowercase()
}

/// Store pages read for one page of a reader who may not see every post,
/// at most ([`search`]): past it the page is short, and its `next` goes on
/// where the reading stopped (docs/limits.md).
pub const MAX_CLEARANCE_ROUNDS: usize = 64;
/// Posts a store page holds, at least, when some posts are hidden.
const CLEARANCE_CHUNK: usize = 100;

/// Runs a post search on a read connection ([`PostSearcher`]), as the
/// reader sees it (`sees`: [`crate::clearance::Clearance::sees_post`]): the
/// posts it may not see are left out *before* the page is cut (issue 14),
/// so a page of `limit` holds `limit` posts it sees when that many are
/// left, and `next` goes on right after the last one. Every post list and
/// search (REST, dashboard, an actor's posts) pages here.
///
/// Pages are newest first, `(time, rowid)` descending, with the cursor
/// `t<time>.<rowid>`; with `q`, newest stored first (`r<rowid>`).
pub fn search<S: PostSearcher + ?Sized>(
    store: &S,
    f: &PostQuery,
    sees: impl Fn(&Post) -> bool,
) -> ApiResult<PostPage> {
    let mut q = to_search(f)?;
    let limit = q.limit;
    let mut posts = Vec::with_capacity(limit.min(64));
    let mut next = None;
    let (mut indexed, mut stored) = (0, 0);
    for round in 0..MAX_CLEARANCE_ROUNDS {
        // The first store page is the page asked for (nothing hidden: one
        // read); after it, larger ones through runs of hidden posts.
        q.limit = match round {
            0 => limit,
            _ => (limit - posts.len()).max(CLEARANCE_CHUNK),
        };
        let page = store.search_posts(&q)?;
        (indexed, stored) = (page.indexed, page.stored);
        let (mut last, mut cut) = (None, false);
        for (p, c) in page.posts.into_iter().zip(page.cursors) {
            if posts.len() == limit {
                cut = true;
                break;
            }
            if sees(&p) {
                posts.push(p);
            }
            last = Some(c);
        }
        // Cut inside the store's page: the next page starts after the last
        // post read; else where the store's page ends.
        next = if cut { last } else { page.next };
        if next.is_none() || posts.len() == limit {
            break;
        }
        q.cursor = next;
    }
    Ok(PostPage {
        posts,
        next: next.map(|c| match c {
            SearchCursor::Stored(r) => format!("r{r}"),
            SearchCursor::Time(t, r) => format!("t{t}.{r}"),
        }),
        indexed: Some(indexed),
        stored: Some(stored),
    })
}

/// The store's search for the route's query: values checked (400 with what
/// is wrong) and normalised as stored.
fn to_search(f: &PostQuery) -> ApiResult<PostSearch> {
    let limit = f.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit={limit}: give 1 to 500"
        )));
    }
    let words = match f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) if q.split_whitespace().nth(MAX_SEARCH_TERMS).is_some() => {
            return Err(ApiError::bad_request(format!(
                "q has more than {MAX_SEARCH_TERMS} words: search with fewer (docs/limits.md)"
            )));
        }
        Some(q) if text_query(q).is_none() => {
            return Err(ApiError::bad_request(format!(
                "q={q:?} has no words to search for"
            )));
        }
        q => q.map(str::to_string),
    };
    let nonempty = |v: &Option<String>| v.as_deref().filter(|x| !x.is_empty()).map(str::to_string);
    let platform = nonempty(&f.platform).map(|p| p.to_ascii_lowercase());
    let actor = match nonempty(&f.actor) {
        None => None,
        Some(a) => Some(match (&platform, a.split_once(':')) {
            (Some(p), _) => (p.clone(), a.clone()),
            (None, Some((p, id))) => (p.to_ascii_lowercase(), id.to_string()),
            (None, None) => {
                return Err(ApiError::bad_request(format!(
                    "actor={a:?}: name the platform, as actor=twitter:{a} or with platform=twitter"
                )));
            }
        }),
    };
    let cursor = match nonempty(&f.cursor) {
        None => None,
        Some(c) => {
            let bad = || ApiError::bad_request(format!("cursor={c:?} is not one this server gave"));
            Some(if words.is_some() {
                SearchCursor::Stored(
                    c.strip_prefix('r')
                        .and_then(|r| r.parse().ok())
                        .ok_or_else(bad)?,
                )
            } else {
                let (t, r) = c
                    .strip_prefix('t')
                    .and_then(|x| x.split_once('.'))
                    .ok_or_else(bad)?;
                SearchCursor::Time(t.parse().map_err(|_| bad())?, r.parse().map_err(|_| bad())?)
            })
        }
    };
    Ok(PostSearch {
        words,
        since_ms: time("since", &f.since)?,
        until_ms: time("until", &f.until)?,
        lang: nonempty(&f.lang).map(|l| l.to_ascii_lowercase()),
        actor,
        link: nonempty(&f.link)
            .map(|l| pharos_core::normalize_url(&l).map(|(u, _)| u).unwrap_or(l)),
        domain: nonempty(&f.domain).map(|d| domain_value(&d)),
        hashtag: nonempty(&f.hashtag).map(|h| hashtag_value(&h)),
        platform,
        limit,
        cursor,
    })
}

/// Search posts: full text and filters by time, platform, language, actor, link, domain, hashtag.
#[utoipa::path(get, path = "/api/posts", params(PostQuery), tag = "posts",
    responses((status = 200, body = PostPage), (status = 400, body = crate::error::ErrorBody), (status = 401), (status = 403)),
    security(("token" = [])))]
pub async fn list(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Q(f): Q<PostQuery>,
) -> ApiResult<Json<PostPage>> {
    st.check_collection(&who)?;
    let st2 = st.clone();
    Ok(Json(
        st.read(move |s| {
            let cl = st2.clearance(s, &who)?;
            let mut page = search(s, &f, |p| cl.sees_post(p))?;
            page.indexed = page.indexed.and_then(|n| cl.whole_count(n));
            page.stored = page.stored.and_then(|n| cl.whole_count(n));
            Ok(page)
        })
        .await?,
    ))
}

/// One post by platform and id.
#[utoipa::path(get, path = "/api/posts/{platform}/{id}", tag = "posts",
    params(("platform" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody)),
    security(("token" = [])))]
pub async fn get(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    Path((platform, id)): Path<(String, String)>,
) -> ApiResult<Json<Post>> {
    st.check_collection(&who)?;
    let st2 = st.clone();
    st.read(move |s| {
        let cl = st2.clearance(s, &who)?;
        cl.check("post", &format!("{platform}:{id}"))?;
        let post = s
            .get(&platform, &id)?
            .ok_or_else(|| ApiError::not_found(format!("no post {platform}/{id} in the store")))?;
        if !cl.sees_post(&post) {
            let key = format!("{}:{}", post.platform, post.actor.id);
            return Err(crate::clearance::refused(&who, &cl.marking("actor", &key)));
        }
        Ok(Json(post))
    })
    .await
}

/// Counts by platform, language and day; top domains, hashtags, actors (`pharos stats --json`).
/// They count the whole store: a partner from whom some post or account is
/// hidden is refused (403).
#[utoipa::path(get, path = "/api/stats", tag = "posts",
    responses((status = 200, body = Object)), security(("token" = [])))]
pub async fn stats(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
) -> ApiResult<Json<pharos_store::Stats>> {
    st.check_collection(&who)?;
    let cl = st.clearance_of(&who).await?;
    if !cl.sees_every_post() {
        return Err(ApiError::forbidden(
            "the store's statistics count posts or accounts marked for others; they are served only to readers cleared for every post",
        ));
    }
    Ok(Json(pharos_store::Stats::clone(&*st.stats(10).await?)))
}

/// How an ingest request went.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestAnswer {
    /// New posts stored (0 when they went to the bus: see `queued`).
    pub stored: u64,
    /// Posts already in the store (same platform and id); with the bus,
    /// posts the bus dropped as sent again within its de-duplication window.
    pub duplicates: u64,
    /// With `[bus] ingest = "bus"` (answer 202): posts the bus acknowledged,
    /// which `pharos worker` stores (idempotently); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queued: Option<u64>,
    /// Records refused (also written to the store's quarantine).
    pub rejected: u64,
    /// Each refused record: `line` and `reason` (at most 100 listed).
    #[schema(value_type = Vec<Object>)]
    pub rejections: Vec<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IngestQuery {
    /// `true`: refuse the whole batch (422, nothing stored) if any record is bad.
    pub atomic: Option<bool>,
    /// Detect the language of posts that have none (default true).
    pub detect_language: Option<bool>,
}

fn rejection_json(r: &Rejection) -> serde_json::Value {
    serde_json::json!({"line": r.line, "reason": r.reason})
}

/// Store canonical NDJSON posts (one JSON object a line, `docs/formats.md`).
///
/// Every record is validated as `pharos ingest` validates a file; bad ones
/// go to the quarantine and are listed in the answer. The batch is one
/// transaction: all its good records are stored, or (on a store error)
/// none. Idempotent: a post already stored (same platform and id) counts as
/// a duplicate. A batch with no good record is refused (422); with
/// `atomic=true` any bad record refuses the batch. Bodies above the
/// configured limit get 413; a full write queue gets 503 with `Retry-After`.
///
/// On a replica run with a bus (`pharos serve --bus`, `[bus] ingest =
/// "bus"`, docs/deploy.md) the good records are published to the bus
/// instead, for `pharos worker` to store: the answer is 202 once the bus
/// has acknowledged every one (`queued`), and 503 with `Retry-After` only
/// when the bus refuses them (sending the batch again is safe).
#[utoipa::path(post, path = "/api/ingest", tag = "posts", params(IngestQuery),
    request_body(content = String, content_type = "application/x-ndjson"),
    responses((status = 200, body = IngestAnswer), (status = 202, body = IngestAnswer),
        (status = 413, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)),
    security(("token" = [])))]
pub async fn ingest(
    State(st): State<Shared>,
    Extension(who): Extension<Principal>,
    audit: Option<Extension<crate::audit::InTransaction>>,
    Q(q): Q<IngestQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<(StatusCode, Json<IngestAnswer>)> {
    require(&who, Role::Analyst)?;
    let body = body.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                e.status(),
                "payload_too_large",
                format!(
                    "the body is larger than this server takes ({} bytes, [ingest] max_body_bytes): send smaller batches; nothing was stored",
                    st.config.ingest.max_body_bytes
                ),
            )
        } else {
            ApiError::bad_request(format!("cannot read the body: {}", e.body_text()))
        }
    })?;
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ApiError::bad_request(
            "empty body: send canonical NDJSON, one post a line (docs/formats.md)",
        ));
    }
    let atomic = q.atomic.unwrap_or(false);
    let detect = q.detect_language.unwrap_or(true);
    let source = format!("http:{}", who.token_id);
    let started_ms = now_ms();
    let to_bus = st.bus_ingest.clone();
    let keep_posts = to_bus.is_some();
    let (batch, posts, rejections) = tokio::task::spawn_blocking(move || {
        let mut opts = Options::new();
        opts.format = Format::Jsonl;
        opts.detect_language = detect;
        let mut batch = EncodedPosts::with_capacity(1024);
        // For the bus: the posts themselves (encoding them for the store
        // above is still the check that they can be stored).
        let mut posts: Vec<Post> = Vec::new();
        let mut rejections: Vec<Rejection> = Vec::new();
        let mut reader: &[u8] = &body;
        let mut sink = |item: Item| {
            match item {
                Item::Post(p) => match batch.push(&p) {
                    Ok(()) if keep_posts => posts.push(*p),
                    Ok(()) => {}
                    Err(e) => rejections.push(Rejection::new(
                        &p.provenance.source,
                        p.provenance.line,
                        None,
                        e.to_string(),
                        "",
                    )),
                },
                Item::Rejected(r) => rejections.push(r),
            }
            ControlFlow::Continue(())
        };
        pharos_ingest::read_reader(&mut reader, &source, Format::Jsonl, &opts, &mut sink)
            .map(|()| (batch, posts, rejections))
            .map_err(ApiError::internal)
    })
    .await
    .map_err(ApiError::internal)??;
    let listed: Vec<serde_json::Value> = rejections.iter().take(100).map(rejection_json).collect();
    if batch.is_empty() || (atomic && !rejections.is_empty()) {
        let first = rejections
            .first()
            .map(|r| format!(" (first: line {}: {})", r.line.unwrap_or(0), r.reason))
            .unwrap_or_default();
        return Err(ApiError::unprocessable(format!(
            "{} of {} records are bad{first}; nothing was stored",
            rejections.len(),
            rejections.len() + batch.len()
        ))
        .with_details(listed));
    }
    let rejected = rejections.len() as u64;
    if let Some(gateway) = to_bus {
        return ingest_to_bus(&st, &gateway, &who, posts, rejections, listed, started_ms).await;
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job = WriteJob {
        posts: batch,
        rejections,
        command: format!("http ingest by {}", who.token_id),
        started_ms,
        // The request's audit row, committed with the batch (200: the
        // answer once it is).
        audit: audit.map(|Extension(a)| a.commit(200)),
        reply: Some(tx),
    };
    match st.writer.try_send(job) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            return Err(ApiError::overloaded(
                "the write queue is full: nothing from this batch was stored; send it again after Retry-After seconds",
                1,
            ));
        }
        Err(TrySendError::Disconnected(_)) => {
            return Err(ApiError::overloaded(
                "the writer has stopped; nothing was stored",
                5,
            ));
        }
    }
    let done = rx
        .await
        .map_err(|_| ApiError::internal("the writer stopped before answering"))?
        .map_err(|e| {
            ApiError::overloaded(
                format!("the store refused the batch, nothing was stored: {e}"),
                1,
            )
        })?;
    Ok((
        StatusCode::OK,
        Json(IngestAnswer {
            stored: done.stored,
            duplicates: done.duplicates,
            queued: None,
            rejected,
            rejections: listed,
        }),
    ))
}

/// `POST /api/ingest` with a bus: publishes the good records, then hands
/// the rejected ones to the writer (this replica's quarantine and run log).
/// 503 with `Retry-After` only when the bus refuses.
async fn ingest_to_bus(
    st: &Shared,
    gateway: &pharos_bus::publish::Gateway,
    who: &Principal,
    posts: Vec<Post>,
    rejections: Vec<Rejection>,
    listed: Vec<serde_json::Value>,
    started_ms: i64,
) -> ApiResult<(StatusCode, Json<IngestAnswer>)> {
    let done = gateway.publish(&posts).await.map_err(|e| {
        tracing::warn!("HTTP ingest: {e}");
        ApiError::overloaded(
            format!(
                "the bus did not take the batch ({e}); send it again after Retry-After seconds \
                 (posts it already holds are not stored twice)"
            ),
            2,
        )
    })?;
    let rejected = rejections.len() as u64;
    if !rejections.is_empty() {
        // The writer quarantines them and records the run; it only waits
        // for room in its queue (it stores nothing else on a bus replica).
        let job = WriteJob {
            posts: EncodedPosts::with_capacity(0),
            rejections,
            command: format!("http ingest by {} (to the bus)", who.token_id),
            started_ms,
            // The request's row is written by the access middleware, before
            // the answer (the bus, not this store, holds the posts).
            audit: None,
            reply: None,
        };
        let writer = st.writer.clone();
        if !tokio::task::spawn_blocking(move || writer.send(job).is_ok())
            .await
            .map_err(ApiError::internal)?
        {
            tracing::warn!(
                "HTTP ingest: the writer has stopped; {rejected} rejected records not quarantined"
            );
        }
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(IngestAnswer {
            stored: 0,
            duplicates: done.duplicate_posts,
            queued: Some(done.posts),
            rejected,
            rejections: listed,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pharos_core::Actor;
    use pharos_store::SqliteStore;

    const POSTS: usize = 1_500;

    /// Posts with a common tag (about 3 in 5), a mid one (1 in 10) and a
    /// rare one (5 posts), domains likewise (some posts link one domain
    /// twice, one repeats a tag), times from a small set (many ties) and
    /// stored out of time order.
    fn corpus() -> Vec<Post> {
        let mut out = Vec::with_capacity(POSTS);
        for i in 0..POSTS {
            // A permutation of the times: storage order is not time order.
            let slot = (i * 7919) % 300;
            let mut p = Post {
                platform: if i % 3 == 0 { "telegram" } else { "twitter" }.into(),
                id: format!("p{i}"),
                actor: Actor {
                    id: format!("a{}", i % 11),
                    ..Default::default()
                },
                time: EventTime(1_700_000_000_000 + slot as i64 * 60_000),
                text: format!(
                    "post number {i} {} {}",
                    if i % 2 == 0 { "alpha" } else { "beta" },
                    if i % 13 == 0 { "gamma" } else { "" }
                ),
                lang: match i % 5 {
                    0 => None,
                    1 | 2 => Some("en".into()),
                    _ => Some("ru".into()),
                },
                ..Default::default()
            };
            if i % 5 < 3 {
                p.hashtags.push("common".into());
            }
            if i % 10 == 4 {
                p.hashtags.push("mid".into());
            }
            if i % 500 == 17 {
                p.hashtags.push("rare".into());
            }
            if i == 42 {
                p.hashtags.push("common".into()); // the same tag twice
            }
            if i % 4 != 0 {
                p.add_link(&format!("https://www.big.example/{i}"));
            }
            if i % 9 == 2 {
                p.add_link(&format!("https://mid.example/a{i}"));
                p.add_link(&format!("https://mid.example/b{i}")); // one domain twice
            }
            if i % 600 == 5 {
                p.add_link(&format!("https://rare.example/{i}"));
            }
            p.refresh_domains();
            out.push(p);
        }
        out
    }

    fn store(dir: &std::path::Path, posts: &[Post]) -> SqliteStore {
        let mut s = SqliteStore::open(dir.join("s.db")).unwrap();
        // Several batches: rowids follow the order of `posts`.
        for chunk in posts.chunks(700) {
            s.insert(chunk).unwrap();
        }
        crate::writer::index_some(&mut s, &crate::writer::IndexProgress::default(), 1 << 30)
            .unwrap();
        s
    }

    /// What a search must answer, by a plain scan of the posts: rowid is
    /// the position in `posts` + 1.
    fn expected(posts: &[Post], f: &PostQuery) -> Vec<String> {
        let since = time("since", &f.since).unwrap();
        let until = time("until", &f.until).unwrap();
        let words: Vec<String> =
            f.q.iter()
                .flat_map(|q| q.split_whitespace().map(str::to_string))
                .collect();
        let mut hits: Vec<(i64, i64, &Post)> = posts
            .iter()
            .enumerate()
            .map(|(i, p)| (p.time.millis(), i as i64 + 1, p))
            .filter(|(t, _, p)| {
                since.is_none_or(|s| *t >= s)
                    && until.is_none_or(|u| *t < u)
                    && f.platform.as_deref().is_none_or(|x| p.platform == x)
                    && f.lang.as_deref().is_none_or(|l| match l {
                        "und" => p.lang.is_none(),
                        l => p.lang.as_deref() == Some(l),
                    })
                    && f.actor
                        .as_deref()
                        .is_none_or(|a| format!("{}:{}", p.platform, p.actor.id) == a)
                    && f.hashtag
                        .as_deref()
                        .is_none_or(|h| p.hashtags.iter().any(|t| t == h))
                    && f.domain
                        .as_deref()
                        .is_none_or(|d| p.links.iter().any(|l| l.domain == d))
                    && words
                        .iter()
                        .all(|w| p.text.split_whitespace().any(|x| x == w))
            })
            .collect();
        if words.is_empty() {
            hits.sort_by_key(|h| std::cmp::Reverse((h.0, h.1)));
        } else {
            hits.sort_by_key(|h| std::cmp::Reverse(h.1));
        }
        hits.into_iter().map(|(_, _, p)| p.id.clone()).collect()
    }

    /// Every page of a search, following `next`.
    fn pages(s: &SqliteStore, f: &PostQuery) -> Vec<Vec<String>> {
        pages_seen(s, f, &|_| true)
    }

    /// Every page of a search as a reader who sees only what `sees` keeps.
    fn pages_seen(
        s: &SqliteStore,
        f: &PostQuery,
        sees: &dyn Fn(&Post) -> bool,
    ) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let q = PostQuery {
                cursor: cursor.clone(),
                ..clone(f)
            };
            let page = search(s, &q, sees).unwrap();
            out.push(page.posts.iter().map(|p| p.id.clone()).collect());
            match page.next {
                Some(n) => cursor = Some(n),
                None => return out,
            }
            assert!(out.len() <= POSTS, "paging does not end");
        }
    }

    fn clone(f: &PostQuery) -> PostQuery {
        PostQuery {
            q: f.q.clone(),
            since: f.since.clone(),
            until: f.until.clone(),
            platform: f.platform.clone(),
            lang: f.lang.clone(),
            actor: f.actor.clone(),
            link: f.link.clone(),
            domain: f.domain.clone(),
            hashtag: f.hashtag.clone(),
            limit: f.limit,
            cursor: f.cursor.clone(),
        }
    }

    fn queries() -> Vec<PostQuery> {
        let since = Some(EventTime(1_700_000_000_000 + 50 * 60_000).to_rfc3339());
        let until = Some(EventTime(1_700_000_000_000 + 175 * 60_000).to_rfc3339());
        let mut out = Vec::new();
        let members: Vec<(Option<&str>, Option<&str>)> = vec![
            (Some("common"), None),
            (Some("mid"), None),
            (Some("rare"), None),
            (Some("absent"), None),
            (None, Some("big.example")),
            (None, Some("mid.example")),
            (None, Some("rare.example")),
            (None, Some("absent.example")),
            (Some("common"), Some("mid.example")),
            (Some("mid"), Some("big.example")),
        ];
        for (h, d) in &members {
            for extra in 0..7 {
                let mut f = PostQuery {
                    hashtag: h.map(str::to_string),
                    domain: d.map(str::to_string),
                    limit: Some([7, 50, 1, 13, 7, 29, 3][extra]),
                    ..Default::default()
                };
                match extra {
                    1 => f.platform = Some("telegram".into()),
                    2 => f.lang = Some("en".into()),
                    3 => (f.since, f.until) = (since.clone(), until.clone()),
                    4 => f.q = Some("alpha".into()),
                    5 => {
                        f.lang = Some("und".into());
                        f.platform = Some("twitter".into());
                        f.since = since.clone();
                    }
                    6 => f.actor = Some("twitter:a4".into()),
                    _ => {}
                }
                out.push(f);
            }
        }
        out
    }

    #[test]
    fn hashtag_and_domain_pages_equal_a_plain_scan() {
        let dir = tempfile::tempdir().unwrap();
        let posts = corpus();
        let s = store(dir.path(), &posts);
        let mut nonempty = 0;
        for f in queries() {
            let want = expected(&posts, &f);
            let got = pages(&s, &f);
            let limit = f.limit.unwrap();
            let want_pages: Vec<Vec<String>> = if want.is_empty() {
                vec![vec![]]
            } else {
                want.chunks(limit).map(|c| c.to_vec()).collect()
            };
            let first =
                (0..got.len().max(want_pages.len())).find(|&i| got.get(i) != want_pages.get(i));
            assert!(
                first.is_none(),
                "hashtag={:?} domain={:?} platform={:?} lang={:?} actor={:?} q={:?} since={:?} limit={limit}: page {} is {:?}, a plain scan gives {:?} ({} pages, {} expected)",
                f.hashtag,
                f.domain,
                f.platform,
                f.lang,
                f.actor,
                f.q,
                f.since,
                first.unwrap_or(0),
                first.and_then(|i| got.get(i)),
                first.and_then(|i| want_pages.get(i)),
                got.len(),
                want_pages.len()
            );
            if want.len() > limit {
                nonempty += 1;
            }
        }
        assert!(nonempty >= 20, "only {nonempty} searches had several pages");
    }

    /// Issue 14: a reader who may not see every post gets pages cut after
    /// the hidden posts are left out: full pages of posts it sees, the same
    /// pages as a store holding only those, nothing twice, nothing skipped.
    #[test]
    fn hidden_posts_are_left_out_before_the_page_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let posts = corpus();
        let s = store(dir.path(), &posts);
        // Two posts in three hidden, in runs (whole store pages of them).
        let hidden = |id: &str| {
            id.trim_start_matches('p')
                .parse::<usize>()
                .is_ok_and(|i| i % 3 != 0 || (400..700).contains(&i))
        };
        let mut full_pages = 0;
        for f in queries() {
            let want: Vec<String> = expected(&posts, &f)
                .into_iter()
                .filter(|id| !hidden(id))
                .collect();
            let got = pages_seen(&s, &f, &|p| !hidden(&p.id));
            let limit = f.limit.unwrap();
            let want_pages: Vec<Vec<String>> = if want.is_empty() {
                vec![vec![]]
            } else {
                want.chunks(limit).map(|c| c.to_vec()).collect()
            };
            // The last page may be followed by an empty one (the store had
            // hidden posts after the last one seen).
            let got: Vec<Vec<String>> = match got.split_last() {
                Some((last, rest)) if last.is_empty() && !rest.is_empty() => rest.to_vec(),
                _ => got,
            };
            assert_eq!(
                got, want_pages,
                "hashtag={:?} domain={:?} q={:?} limit={limit}",
                f.hashtag, f.domain, f.q
            );
            full_pages += got.iter().filter(|p| p.len() == limit).count();
        }
        assert!(full_pages >= 20, "only {full_pages} full pages");
    }

    #[test]
    fn hashtag_and_domain_searches_walk_their_time_index_without_sorting() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), &corpus());
        for (f, index) in [
            (
                PostQuery {
                    hashtag: Some("common".into()),
                    ..Default::default()
                },
                "post_hashtags_tag_time",
            ),
            (
                PostQuery {
                    domain: Some("mid.example".into()),
                    lang: Some("en".into()),
                    platform: Some("twitter".into()),
                    cursor: Some("t1700000100000.55".into()),
                    ..Default::default()
                },
                "post_links_domain_time",
            ),
            (
                PostQuery {
                    hashtag: Some("mid".into()),
                    domain: Some("big.example".into()),
                    since: Some("2023-01-01".into()),
                    ..Default::default()
                },
                "post_hashtags_tag_time",
            ),
        ] {
            let steps = s.search_plan(&to_search(&f).unwrap()).unwrap();
            let text = steps.join("\n");
            assert!(text.contains(index), "{text}");
            assert!(!text.contains("TEMP B-TREE"), "a sort: {text}");
        }
    }

    #[test]
    fn bad_cursors_and_limits_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), &corpus()[..50]);
        for (cursor, limit) in [
            (Some("t12"), None),
            (Some("tx.1"), None),
            (Some("r5"), None),
            (None, Some(0)),
            (None, Some(501)),
        ] {
            let f = PostQuery {
                hashtag: Some("common".into()),
                cursor: cursor.map(str::to_string),
                limit,
                ..Default::default()
            };
            let e = search(&s, &f, |_| true).expect_err("refused");
            assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
        }
    }
}
