//! Mitigation: response packs for narratives and posts that repeat known
//! claims, and tracking of the responses made.
//!
//! - [`scan`]: one pass over the store through the narrative engine and the
//!   burst detector (narrative ids are the ones `pharos narratives` prints).
//! - [`spread`]: platforms, languages, accounts, channels, coordination networks.
//! - [`timing`]: the burst stage and when to answer.
//! - [`draft`]: correction drafts from the fact-check texts, per language.
//! - [`pack`]: the [`ResponsePack`](pack::ResponsePack), in JSON and Markdown.
//! - [`tracking`]: responses logged against narratives (store component
//!   `responses`), volume, spread and new-actor rate before and after each,
//!   and resurgence.

pub mod draft;
pub mod pack;
pub mod scan;
pub mod spread;
pub mod timing;
pub mod tracking;

use crate::library::{Library, LibraryError};
use pack::{MatchSource, MatchedClaim, PackTarget, ResponsePack};
use pharos_analysis::bursts::Alert;
use pharos_core::{EventTime, Post};
use pharos_store::{ClaimMatches, Store, StoreError};
use scan::NarrativePost;
use std::collections::{HashMap, HashSet};

/// What can stop a pack or a report.
#[derive(Debug, thiserror::Error)]
pub enum RespondError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Library(#[from] LibraryError),
    #[error("claim matching: {0}")]
    Match(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
}

/// Confidence a match needs by default: the claim matcher's documented
/// threshold (docs/claim-retrieval.md).
pub const DEFAULT_MATCH_THRESHOLD: f64 = crate::retrieval::DEFAULT_THRESHOLD;

/// Matches post texts against the library now, for posts the store holds
/// no matches for (claim retrieval's matcher, see [`crate::retrieval`]).
pub trait ClaimMatcher {
    /// For each `(text, language)`: up to `k` `(claim id, confidence)`,
    /// best first.
    fn match_texts(
        &self,
        posts: &[(&str, Option<&str>)],
        k: usize,
    ) -> Result<Vec<Vec<(String, f64)>>, String>;
}

impl ClaimMatcher for crate::retrieval::Matcher {
    fn match_texts(
        &self,
        posts: &[(&str, Option<&str>)],
        k: usize,
    ) -> Result<Vec<Vec<(String, f64)>>, String> {
        Ok(self
            .match_batch(posts, k)
            .into_iter()
            .map(|ms| ms.into_iter().map(|m| (m.claim_id, m.confidence)).collect())
            .collect())
    }
}

/// Claim retrieval's matcher over a library, built (its index opened or
/// built under `DIR/index/`) only when a pack needs to match posts now.
pub struct LazyMatcher<'a> {
    library: &'a Library,
    matcher: std::cell::OnceCell<Result<crate::retrieval::Matcher, String>>,
}

impl<'a> LazyMatcher<'a> {
    pub fn new(library: &'a Library) -> Self {
        LazyMatcher {
            library,
            matcher: std::cell::OnceCell::new(),
        }
    }
}

impl ClaimMatcher for LazyMatcher<'_> {
    fn match_texts(
        &self,
        posts: &[(&str, Option<&str>)],
        k: usize,
    ) -> Result<Vec<Vec<(String, f64)>>, String> {
        let m = self.matcher.get_or_init(|| {
            crate::retrieval::Matcher::open(self.library).map_err(|e| e.to_string())
        });
        match m {
            Ok(m) => m.match_texts(posts, k),
            Err(e) => Err(e.clone()),
        }
    }
}

/// One row of the store's `claim_matches` (written by `pharos claims match --store`).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMatch {
    pub platform: String,
    pub post_id: String,
    pub claim_id: String,
    pub confidence: f64,
}

/// The stored matches with at least `min_confidence` of the posts in
/// `posts` (`(platform, id)`), by platform, post id and claim id; none when
/// no posts were ever matched.
pub fn stored_matches<S: ClaimMatches + ?Sized>(
    store: &S,
    posts: &HashSet<(String, String)>,
    min_confidence: f64,
) -> Result<Vec<StoredMatch>, StoreError> {
    if posts.is_empty() {
        return Ok(Vec::new());
    }
    let mut out: Vec<StoredMatch> = store
        .matches_at_least(min_confidence)?
        .into_iter()
        .filter(|m| posts.contains(&(m.platform.clone(), m.post_id.clone())))
        .map(|m| StoredMatch {
            platform: m.platform,
            post_id: m.post_id,
            claim_id: m.claim_id,
            confidence: m.confidence,
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.platform, &a.post_id, &a.claim_id).cmp(&(&b.platform, &b.post_id, &b.claim_id))
    });
    Ok(out)
}

/// What a pack is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A narrative id, as `pharos narratives` prints it.
    Narrative(u64),
    /// A stored post: its id, with its platform when known.
    Post {
        platform: Option<String>,
        id: String,
    },
}

/// Options of a pack.
#[derive(Debug, Clone)]
pub struct PackOptions {
    /// Claims listed at most.
    pub max_claims: usize,
    /// Posts (distinct texts, most frequent first) matched on the fly when
    /// the store has no matches for the target.
    pub sample: usize,
    /// Confidence a match needs (stored and on the fly).
    pub threshold: f64,
    /// Analyse as if now were this time (posts from it on are ignored).
    pub until: Option<EventTime>,
}

impl Default for PackOptions {
    fn default() -> Self {
        PackOptions {
            max_claims: 3,
            sample: 200,
            threshold: DEFAULT_MATCH_THRESHOLD,
            until: None,
        }
    }
}

/// Finds a stored post by id: `id` alone when it is unique across
/// platforms, or `platform:id`.
pub fn resolve_post<S: Store + ?Sized>(
    store: &S,
    platform: Option<&str>,
    id: &str,
) -> Result<(String, String), RespondError> {
    if let Some(p) = platform {
        return match store.get(p, id)? {
            Some(_) => Ok((p.to_string(), id.to_string())),
            None => Err(RespondError::NotFound(format!(
                "no post {p}:{id} in the store {}",
                store.location()
            ))),
        };
    }
    let found = store.platforms_with_id(id)?;
    match found.len() {
        1 => return Ok((found[0].clone(), id.to_string())),
        0 => {}
        _ => {
            return Err(RespondError::Invalid(format!(
                "post id {id} is on several platforms ({}): write it platform:id",
                found.join(", ")
            )));
        }
    }
    if let Some((p, rest)) = id.split_once(':')
        && store.get(p, rest)?.is_some()
    {
        return Ok((p.to_string(), rest.to_string()));
    }
    Err(RespondError::NotFound(format!(
        "no post {id:?} in the store {} (give the id as stored, or platform:id)",
        store.location()
    )))
}

/// Builds the response pack of a narrative or a post. `matcher` matches the
/// posts now when the store holds no matches for them (`None`: stored
/// matches only).
pub fn build_pack(
    store: &(impl Store + ClaimMatches),
    library: &Library,
    target: &Target,
    opts: &PackOptions,
    matcher: Option<&dyn ClaimMatcher>,
    progress: &mut dyn FnMut(u64),
) -> Result<ResponsePack, RespondError> {
    let mut notes = Vec::new();
    let (narrative, post_key) = match target {
        Target::Narrative(n) => (Some(*n), None),
        Target::Post { platform, id } => {
            let (platform, id) = resolve_post(store, platform.as_deref(), id)?;
            if let (Some(u), Some(p)) = (opts.until, store.get(&platform, &id)?)
                && p.time >= u
            {
                return Err(RespondError::Invalid(format!(
                    "post {platform}:{id} was published at {}, not before --until {}",
                    p.time.to_rfc3339(),
                    u.to_rfc3339()
                )));
            }
            let n = scan::narrative_of_post(store, &platform, &id, progress)?.ok_or_else(|| {
                RespondError::NotFound(format!("no post {platform}:{id} in the store"))
            })?;
            if n.is_none() {
                notes.push(
                    "the post has no words to place it in a narrative: the pack covers the post alone"
                        .to_string(),
                );
            }
            (n, Some((platform, id)))
        }
    };
    let wanted: HashSet<u64> = narrative.into_iter().collect();
    let mut scanned = scan::scan(store, &wanted, opts.until, progress)?;
    let mut posts: Vec<NarrativePost> = narrative
        .and_then(|n| scanned.posts.remove(&n))
        .unwrap_or_default();
    let post = match &post_key {
        Some((p, id)) => store.get(p, id)?,
        None => None,
    };
    if posts.is_empty() {
        match (&post, narrative) {
            (Some(p), _) => posts.push(NarrativePost {
                post: p.clone(),
                family: None,
            }),
            (None, Some(n)) => {
                return Err(RespondError::NotFound(format!(
                    "no narrative {n} in the store {} (`pharos narratives` lists them)",
                    store.location()
                )));
            }
            (None, None) => unreachable!("a target is a narrative or a post"),
        }
    }
    let label = narrative
        .and_then(|n| scanned.summaries.remove(&n))
        .map(|s| s.label.text);
    let bursts = narrative
        .and_then(|n| scanned.bursts.remove(&n))
        .unwrap_or_default();
    assemble(
        store,
        library,
        target,
        Found {
            narrative,
            post_key,
            post,
            posts,
            label,
            bursts,
            as_of: scanned.as_of,
        },
        opts,
        matcher,
        notes,
    )
}

/// A narrative as a caller that follows the store already knows it (the
/// server's live analysis runs the same narrative engine and burst detector
/// as [`scan::scan`]): a pack built from it needs no pass over the store.
#[derive(Debug, Clone)]
pub struct KnownNarrative {
    /// Its id, as the caller numbers narratives.
    pub id: u64,
    /// Its posts in event-time order, with their near-duplicate families.
    pub posts: Vec<NarrativePost>,
    /// Its label (the narrative engine's summary).
    pub label: Option<String>,
    /// Its bursts (each alert's last state), oldest first, attributed as
    /// [`scan::scan`] attributes them (see [`scan::carriers`]).
    pub bursts: Vec<Alert>,
    /// The "now" of the analysis: the latest event time analysed.
    pub as_of: Option<EventTime>,
}

/// Builds the response pack of a narrative the caller already knows (see
/// [`KnownNarrative`]): the same pack as [`build_pack`] with
/// [`Target::Narrative`] builds from a pass over the store, when the
/// narrative, its bursts and `as_of` are what that pass finds.
/// `opts.until` is not used (the caller's analysis decides what "now" is).
pub fn build_known_pack(
    store: &(impl Store + ClaimMatches),
    library: &Library,
    known: KnownNarrative,
    opts: &PackOptions,
    matcher: Option<&dyn ClaimMatcher>,
) -> Result<ResponsePack, RespondError> {
    if known.posts.is_empty() {
        return Err(RespondError::NotFound(format!(
            "narrative {} has no posts",
            known.id
        )));
    }
    assemble(
        store,
        library,
        &Target::Narrative(known.id),
        Found {
            narrative: Some(known.id),
            post_key: None,
            post: None,
            posts: known.posts,
            label: known.label,
            bursts: known.bursts,
            as_of: known.as_of,
        },
        opts,
        matcher,
        Vec::new(),
    )
}

/// What a pack is built from.
struct Found {
    narrative: Option<u64>,
    post_key: Option<(String, String)>,
    post: Option<Post>,
    posts: Vec<NarrativePost>,
    label: Option<String>,
    bursts: Vec<Alert>,
    as_of: Option<EventTime>,
}

fn assemble(
    store: &(impl Store + ClaimMatches),
    library: &Library,
    target: &Target,
    found: Found,
    opts: &PackOptions,
    matcher: Option<&dyn ClaimMatcher>,
    mut notes: Vec<String>,
) -> Result<ResponsePack, RespondError> {
    let Found {
        narrative,
        post_key,
        post,
        posts,
        label,
        bursts,
        as_of,
    } = found;
    // Which claims: stored matches first, else on the fly.
    let post_keys: HashSet<(String, String)> = posts
        .iter()
        .map(|p| (p.post.platform.clone(), p.post.id.clone()))
        .collect();
    let stored = stored_matches(store, &post_keys, opts.threshold)?;
    let mut by_claim: HashMap<String, (u64, f64, bool)> = HashMap::new();
    let mut source = MatchSource::None;
    let is_target = |platform: &str, id: &str| {
        post_key
            .as_ref()
            .is_some_and(|(p, i)| p == platform && i == id)
    };
    if !stored.is_empty() {
        source = MatchSource::Stored;
        for m in &stored {
            let e = by_claim.entry(m.claim_id.clone()).or_default();
            e.0 += 1;
            e.1 = e.1.max(m.confidence);
            e.2 |= is_target(&m.platform, &m.post_id);
        }
    } else if let Some(matcher) = matcher.filter(|_| !library.is_empty()) {
        // Distinct texts, most frequent first; the target post first.
        let mut texts: HashMap<String, (u64, Vec<usize>)> = HashMap::new();
        for (i, p) in posts.iter().enumerate() {
            let t = crate::library::normalize_text(&p.post.text);
            if t.split(' ').count() < 3 {
                continue;
            }
            let e = texts.entry(t).or_default();
            e.0 += 1;
            e.1.push(i);
        }
        let mut order: Vec<(String, (u64, Vec<usize>))> = texts.into_iter().collect();
        order.sort_by(|a, b| {
            let ta =
                a.1.1
                    .iter()
                    .any(|&i| is_target(&posts[i].post.platform, &posts[i].post.id));
            let tb =
                b.1.1
                    .iter()
                    .any(|&i| is_target(&posts[i].post.platform, &posts[i].post.id));
            tb.cmp(&ta).then(b.1.0.cmp(&a.1.0)).then(a.0.cmp(&b.0))
        });
        order.truncate(opts.sample.max(1));
        let queries: Vec<(&str, Option<&str>)> = order
            .iter()
            .map(|(_, (_, idx))| {
                let p = &posts[idx[0]].post;
                (p.text.as_str(), p.lang.as_deref())
            })
            .collect();
        let results = matcher
            .match_texts(&queries, opts.max_claims.max(1))
            .map_err(RespondError::Match)?;
        for ((_, (_, idx)), matches) in order.iter().zip(results) {
            for (claim_id, confidence) in matches.into_iter().filter(|m| m.1 >= opts.threshold) {
                let e = by_claim.entry(claim_id).or_default();
                e.0 += idx.len() as u64;
                e.1 = e.1.max(confidence);
                e.2 |= idx
                    .iter()
                    .any(|&i| is_target(&posts[i].post.platform, &posts[i].post.id));
            }
        }
        if !by_claim.is_empty() {
            source = MatchSource::OnTheFly;
        }
    }
    let mut claims: Vec<MatchedClaim> = Vec::new();
    for (id, (n, conf, on_post)) in by_claim {
        match library.get(&id) {
            Some(c) => claims.push(MatchedClaim {
                claim: c.clone(),
                matched_posts: n,
                max_confidence: conf,
                matches_post: on_post,
            }),
            None => notes.push(format!(
                "a stored match names claim {id}, which is not in the library {}",
                library.dir().display()
            )),
        }
    }
    claims.sort_by(|a, b| {
        b.matches_post
            .cmp(&a.matches_post)
            .then(b.matched_posts.cmp(&a.matched_posts))
            .then(b.max_confidence.total_cmp(&a.max_confidence))
            .then(a.claim.id.cmp(&b.claim.id))
    });
    claims.truncate(opts.max_claims.max(1));
    if claims.is_empty() {
        notes.push(format!(
            "no claim in the library {} matches {} (confidence {:.2} or more): no correction can cite a fact-check yet",
            library.dir().display(),
            match target {
                Target::Narrative(_) => "the narrative's posts",
                Target::Post { .. } => "the post or its narrative",
            },
            opts.threshold
        ));
    }

    let spread = spread::spread(&posts);
    let times: Vec<_> = posts.iter().map(|p| p.post.time).collect();
    let timing = timing::timing(&bursts, &spread, &times, as_of);
    let audience = match &post {
        Some(p) => p.lang.clone(),
        None => spread
            .languages
            .iter()
            .find(|c| c.key != "und")
            .map(|c| c.key.clone()),
    };
    let languages: Vec<String> = spread
        .languages
        .iter()
        .filter(|c| c.posts * 10 >= spread.posts)
        .map(|c| c.key.clone())
        .collect();
    let drafts = pack::drafts(&claims, audience.as_deref(), &languages);
    Ok(ResponsePack {
        target: PackTarget {
            kind: match target {
                Target::Narrative(_) => "narrative".into(),
                Target::Post { .. } => "post".into(),
            },
            narrative,
            post: post_key.as_ref().map(|(p, i)| format!("{p}:{i}")),
            text: post.as_ref().map(|p| p.text.clone()),
            label,
            audience_lang: audience,
        },
        as_of,
        match_source: source,
        verdicts: pack::verdicts(&claims),
        key_facts: pack::pack_key_facts(&claims),
        claims,
        drafts,
        spread,
        timing,
        notes,
    })
}
