//! The fact-check library in the server: search, the fact-checks matched to
//! a narrative's posts, and response packs (pharos-claims).
//!
//! - The library is `[library]` of the config, else the one beside the store
//!   (`<store dir>/<stem>.library`, where `pharos claims import --store` puts
//!   it). It is read once and read again when `claims.jsonl` changes; its
//!   matcher (BM25 index under `DIR/index/`) is built on first use.
//! - Matches come from the store's `claim_matches` (written by
//!   `pharos claims match --store`); when none of a narrative's posts has a
//!   stored match, its posts are matched against the library now (distinct
//!   texts, most frequent first, at most [`SAMPLE`]).
//! - A narrative's posts come from the live analysis, which keeps every
//!   narrative's post rowids (see [`narrative_posts`]): the routes describe
//!   the narrative `GET /api/narratives` lists under that id, whatever
//!   order posts arrived in. A response pack takes the narrative's bursts
//!   from the live burst detector too, so neither reads the whole store.
//!   Only before the live analysis lists narratives (start-up) is the store
//!   read in one pass (the narrative ids of `pharos narratives`). Results
//!   are kept for a while ([`KEEP`]) and computed again when the library,
//!   the stored matches or (after [`FRESH`]) the store's posts change.
//!
//! Claims and fact-checks are public material: CLEAR unless an admin marks
//! one (`PUT /api/markings/claim/{id}`). Matches and packs carry the
//! narrative's marking.

use crate::auth::Principal;
use crate::clearance::Clearance;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::tlp::Marking;
use pharos_claims::library::{Library, normalize_text};
use pharos_claims::respond::pack::ResponsePack;
use pharos_claims::respond::scan::{self, NarrativePost};
use pharos_claims::respond::{KnownNarrative, PackOptions, Target, build_known_pack, build_pack};
use pharos_claims::retrieval::{DEFAULT_THRESHOLD, Matcher};
use pharos_claims::{Claim, Review};
use pharos_core::Post;
use pharos_store::{AnyStore, Location};
use pharos_store::{ClaimMatches, PostLog};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};
use utoipa::ToSchema;

/// Distinct post texts matched now when a narrative has no stored matches.
pub const SAMPLE: usize = 200;
/// Computed matches and packs are kept at most this long.
pub const KEEP: Duration = Duration::from_secs(300);
/// ... and this long when posts arrived since.
pub const FRESH: Duration = Duration::from_secs(30);
/// Example posts listed per matched claim.
pub const POSTS_PER_CLAIM: usize = 10;

/// The library directory the server uses.
pub fn library_dir(st: &AppState) -> PathBuf {
    st.config
        .library
        .clone()
        .unwrap_or_else(|| st.store_path.beside("library"))
}

/// A loaded library and its matcher (built on first use).
pub struct Loaded {
    pub library: Library,
    stamp: (Option<SystemTime>, u64),
    matcher: OnceLock<Result<Matcher, String>>,
}

impl Loaded {
    /// The library's matcher: its index opened or built under `DIR/index/`.
    pub fn matcher(&self) -> ApiResult<&Matcher> {
        self.matcher
            .get_or_init(|| {
                // The index lives under DIR/index/; a library the server may
                // not write to is indexed in memory instead.
                Matcher::open(&self.library)
                    .or_else(|e| {
                        tracing::warn!("claim index on disk: {e}; indexing in memory");
                        Matcher::in_memory(self.library.claims())
                    })
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| ApiError::internal(format!("the fact-check library's matcher: {e}")))
    }
}

fn stamp(dir: &Path) -> Option<(Option<SystemTime>, u64)> {
    let m = std::fs::metadata(dir.join("claims.jsonl")).ok()?;
    m.is_file().then(|| (m.modified().ok(), m.len()))
}

type LibCache = Mutex<HashMap<PathBuf, Arc<Loaded>>>;

fn libraries() -> &'static LibCache {
    static C: OnceLock<LibCache> = OnceLock::new();
    C.get_or_init(Default::default)
}

/// The library in `dir` (`None` when there is none), read again when its
/// claims file changed.
pub fn open(dir: &Path) -> ApiResult<Option<Arc<Loaded>>> {
    let Some(now) = stamp(dir) else {
        return Ok(None);
    };
    if let Some(l) = libraries()
        .lock()
        .map_err(ApiError::internal)?
        .get(dir)
        .filter(|l| l.stamp == now)
    {
        return Ok(Some(l.clone()));
    }
    let library = Library::open(dir).map_err(|e| {
        ApiError::internal(format!(
            "the fact-check library cannot be read: {}",
            hide_dir(&e.to_string(), dir)
        ))
    })?;
    let l = Arc::new(Loaded {
        library,
        stamp: now,
        matcher: OnceLock::new(),
    });
    libraries()
        .lock()
        .map_err(ApiError::internal)?
        .insert(dir.to_path_buf(), l.clone());
    Ok(Some(l))
}

/// Messages name the library without the server's paths.
pub fn hide_dir(msg: &str, dir: &Path) -> String {
    msg.replace(
        &dir.display().to_string(),
        "the server's fact-check library",
    )
}

/// One fact-check verdict.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct VerdictItem {
    pub publisher: Option<String>,
    /// The textual rating, e.g. "False".
    pub rating: Option<String>,
    pub date: Option<String>,
    /// The fact-check's page.
    pub url: Option<String>,
    /// ISO 639-1 language of the fact-check.
    pub language: Option<String>,
    pub title: Option<String>,
}

/// A claim of the library with its verdicts.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ClaimItem {
    pub id: String,
    /// The claim as reviewed.
    pub text: String,
    pub title: Option<String>,
    /// ISO 639-1 language of the text.
    pub lang: Option<String>,
    pub claimant: Option<String>,
    pub claim_date: Option<String>,
    pub verdicts: Vec<VerdictItem>,
    /// Match confidence (0-1), when the list answers a search.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// `TLP:CLEAR` unless an admin marked the claim.
    pub tlp: String,
}

fn verdict(c: &Claim, r: &Review) -> VerdictItem {
    VerdictItem {
        publisher: r.publisher.clone().or_else(|| r.publisher_site.clone()),
        rating: r.rating.clone(),
        date: r.date.clone(),
        url: r.url.clone(),
        language: r.lang.clone().or_else(|| c.lang.clone()),
        title: r.title.clone(),
    }
}

impl ClaimItem {
    pub fn of(c: &Claim, confidence: Option<f64>, m: &Marking) -> ClaimItem {
        ClaimItem {
            id: c.id.clone(),
            text: c.text.clone(),
            title: c.title.clone(),
            lang: c.lang.clone(),
            claimant: c.claimant.clone(),
            claim_date: c.claim_date.clone(),
            verdicts: c.reviews.iter().map(|r| verdict(c, r)).collect(),
            confidence,
            tlp: m.tlp.label().to_string(),
        }
    }
}

/// A search of the library.
#[derive(Clone, Debug, Default)]
pub struct Search {
    pub q: Option<String>,
    pub lang: Option<String>,
    pub publisher: Option<String>,
    pub limit: usize,
    pub offset: usize,
}

/// A page of the library.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ClaimPage {
    /// Whether the server has a fact-check library.
    pub library: bool,
    /// Claims in the library.
    pub library_claims: usize,
    /// Claims that answer the search (with `q`: the best matches, at most
    /// [`MAX_SEARCH`]).
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    /// With `q`: most confident first; without: in import order.
    pub claims: Vec<ClaimItem>,
    pub notes: Vec<String>,
}

/// Claims a search (`q`) ranks at most.
pub const MAX_SEARCH: usize = 1000;

/// Searches the library: by meaning with `q` (claim retrieval: BM25 and
/// the fused confidence), else every claim; then the language and
/// publisher filters and what `who` is cleared for.
pub fn search(dir: &Path, cl: &Clearance, q: &Search) -> ApiResult<ClaimPage> {
    let Some(l) = open(dir)? else {
        return Ok(ClaimPage {
            library: false,
            library_claims: 0,
            total: 0,
            offset: q.offset,
            limit: q.limit,
            claims: Vec::new(),
            notes: vec!["the server has no fact-check library yet: import fact-checks with `pharos claims import --store STORE` (or set `library` in the server config)".into()],
        });
    };
    let lib = &l.library;
    let lang = q
        .lang
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase);
    let publisher = q
        .publisher
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase);
    let keep = |c: &Claim| {
        lang.as_deref().is_none_or(|l| {
            c.lang.as_deref() == Some(l) || c.reviews.iter().any(|r| r.lang.as_deref() == Some(l))
        }) && publisher.as_deref().is_none_or(|p| {
            c.reviews.iter().any(|r| {
                [&r.publisher, &r.publisher_site]
                    .iter()
                    .any(|x| x.as_deref().is_some_and(|x| x.to_lowercase().contains(p)))
            })
        }) && cl.sees_claim(&c.id)
    };
    let text = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let found: Vec<(&Claim, Option<f64>)> = match text {
        Some(t) if !lib.is_empty() && !normalize_text(t).is_empty() => {
            let m = l.matcher()?;
            m.match_text(t, None, MAX_SEARCH)
                .into_iter()
                .filter_map(|m| Some((lib.get(&m.claim_id)?, Some(m.confidence))))
                .filter(|(c, _)| keep(c))
                .collect()
        }
        Some(_) => Vec::new(),
        None => lib
            .claims()
            .iter()
            .filter(|c| keep(c))
            .map(|c| (c, None))
            .collect(),
    };
    let mut notes = Vec::new();
    if text.is_some() && found.len() >= MAX_SEARCH {
        notes.push(format!("the {MAX_SEARCH} best matches are listed"));
    }
    Ok(ClaimPage {
        library: true,
        library_claims: lib.len(),
        total: found.len(),
        offset: q.offset,
        limit: q.limit,
        claims: found
            .into_iter()
            .skip(q.offset)
            .take(q.limit)
            .map(|(c, conf)| ClaimItem::of(c, conf, &cl.marking("claim", &c.id)))
            .collect(),
        notes,
    })
}

/// A post matching a claim.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MatchedPost {
    pub platform: String,
    pub id: String,
    pub confidence: f64,
    pub text: String,
}

/// A claim the narrative's posts repeat.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NarrativeMatch {
    pub claim: ClaimItem,
    /// The narrative's posts that match it.
    pub matched_posts: u64,
    pub max_confidence: f64,
    /// The most confident of them (at most 10).
    pub posts: Vec<MatchedPost>,
}

/// The fact-checks matched to a narrative's posts.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NarrativeMatches {
    pub narrative: u64,
    /// The narrative's label (as `GET /api/narratives` shows it, when the
    /// posts came from the live analysis).
    pub label: Option<String>,
    /// Where the narrative's posts came from: `live` (the live analysis'
    /// members of the narrative, as listed) or `store-pass` (one pass over
    /// the store, before the live analysis lists it).
    pub narrative_source: Found,
    /// The narrative's marking (matches carry it).
    pub tlp: String,
    /// `stored` (the store's `claim_matches`), `on-the-fly` (matched now
    /// against the library) or `none`.
    pub match_source: String,
    /// Confidence a match needs.
    pub threshold: f64,
    /// The narrative's posts read.
    pub posts: u64,
    pub library: bool,
    /// Most matched first.
    pub matches: Vec<NarrativeMatch>,
    pub notes: Vec<String>,
}

/// What is kept between requests (the claims of a match, unfiltered).
#[derive(Clone)]
struct RawMatches {
    label: Option<String>,
    found: Found,
    source: &'static str,
    posts: u64,
    library: bool,
    /// claim id → (matched posts, max confidence, best posts).
    claims: Vec<(String, u64, f64, Vec<MatchedPost>)>,
    notes: Vec<String>,
}

/// What identifies the inputs of a computation.
#[derive(Clone, PartialEq)]
struct Inputs {
    library: Option<(Option<SystemTime>, u64)>,
    matches: (i64, i64),
    posts: u64,
    /// The live analysis lists narratives (else a pass over the store
    /// answered, numbering narratives as `pharos narratives` does).
    ready: bool,
}

struct Kept<T> {
    at: Instant,
    inputs: Inputs,
    value: T,
}

type Cache<T> = Mutex<HashMap<(Location, u64, usize), Kept<T>>>;

fn cached<T: Clone>(cache: &Cache<T>, key: &(Location, u64, usize), inputs: &Inputs) -> Option<T> {
    let c = cache.lock().ok()?;
    let k = c.get(key)?;
    let age = k.at.elapsed();
    let same = k.inputs.library == inputs.library
        && k.inputs.matches == inputs.matches
        && k.inputs.ready == inputs.ready;
    (same && age < KEEP && (k.inputs.posts == inputs.posts || age < FRESH)).then(|| k.value.clone())
}

fn keep<T>(cache: &Cache<T>, key: (Location, u64, usize), inputs: Inputs, value: T) {
    if let Ok(mut c) = cache.lock() {
        if c.len() >= 64 {
            c.retain(|_, k| k.at.elapsed() < FRESH);
        }
        if c.len() >= 64 {
            c.clear();
        }
        c.insert(
            key,
            Kept {
                at: Instant::now(),
                inputs,
                value,
            },
        );
    }
}

fn matches_stamp(s: &AnyStore) -> ApiResult<(i64, i64)> {
    Ok(s.matches_stamp()?)
}

fn inputs(st: &AppState, s: &AnyStore, dir: &Path) -> ApiResult<Inputs> {
    let (posts, ready) = {
        let snap = st.snapshot.read().map_err(ApiError::internal)?;
        (snap.posts, snap.ready)
    };
    Ok(Inputs {
        library: stamp(dir),
        matches: matches_stamp(s)?,
        posts,
        ready,
    })
}

fn not_found(n: u64) -> ApiError {
    ApiError::not_found(format!(
        "no narrative {n} in the store (see GET /api/narratives)"
    ))
}

/// The fact-checks matched to narrative `n`'s posts (stored matches, else
/// matched now), filtered by what `who` is cleared for.
pub fn narrative_matches(
    st: &AppState,
    s: &AnyStore,
    n: u64,
    narrative: &Marking,
    who: &Principal,
) -> ApiResult<NarrativeMatches> {
    static CACHE: OnceLock<Cache<RawMatches>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let dir = library_dir(st);
    let key = (st.store_path.clone(), n, 0);
    let now = inputs(st, s, &dir)?;
    let raw = match cached(cache, &key, &now) {
        Some(r) => r,
        None => {
            let r = compute_matches(st, s, &dir, n)?;
            keep(cache, key, now, r.clone());
            r
        }
    };
    let cl = st.clearance(s, who)?;
    let lib = open(&dir)?;
    let mut hidden = 0;
    let mut matches = Vec::new();
    for (id, count, conf, posts) in &raw.claims {
        let Some(c) = lib.as_ref().and_then(|l| l.library.get(id)) else {
            continue;
        };
        let m = cl.marking("claim", id);
        if !cl.sees_claim(id) {
            hidden += 1;
            continue;
        }
        matches.push(NarrativeMatch {
            claim: ClaimItem::of(c, Some(*conf), &m),
            matched_posts: *count,
            max_confidence: *conf,
            posts: posts
                .iter()
                .filter(|p| cl.sees_post_key(&p.platform, &p.id) && cl.sees_post_id(&p.id))
                .cloned()
                .collect(),
        });
    }
    let mut notes = raw.notes.clone();
    if hidden > 0 {
        notes.push(format!(
            "{hidden} matched claims are marked for others and left out"
        ));
    }
    Ok(NarrativeMatches {
        narrative: n,
        label: raw.label,
        narrative_source: raw.found,
        tlp: narrative.tlp.label().to_string(),
        match_source: raw.source.to_string(),
        threshold: DEFAULT_THRESHOLD,
        posts: raw.posts,
        library: raw.library,
        matches,
        notes,
    })
}

/// Where a narrative's posts came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Found {
    /// The live analysis' members of the narrative, as `GET
    /// /api/narratives` lists it: no pass over the store.
    Live,
    /// One pass over the store, as `pharos narratives` numbers narratives
    /// (the live analysis does not list the narrative yet).
    StorePass,
}

impl Found {
    pub fn as_str(self) -> &'static str {
        match self {
            Found::Live => "live",
            Found::StorePass => "store-pass",
        }
    }
}

/// What the live analysis published about narrative `n`: its posts (the
/// first `total_posts` members), label, bursts and "now". `None` when it
/// does not list `n`.
struct LiveNarrative {
    members: Vec<crate::analyst::Member>,
    label: String,
    bursts: Arc<Vec<pharos_analysis::bursts::Alert>>,
    as_of: Option<pharos_core::EventTime>,
}

fn live_narrative(st: &AppState, n: u64) -> ApiResult<Option<LiveNarrative>> {
    let snap = st.snapshot.read().map_err(ApiError::internal)?;
    // Members analysed after the publish are not in the listed summary;
    // the oldest of a large narrative are no longer kept (docs/limits.md).
    let Some(summary) = snap.narratives.iter().find(|x| x.id == n) else {
        return Ok(None);
    };
    let Some(members) = snap.members.listed(n, summary.total_posts) else {
        return Ok(None);
    };
    Ok(Some(LiveNarrative {
        members: members.to_vec(),
        label: summary.label.text.clone(),
        bursts: snap.narrative_bursts.get(&n).cloned().unwrap_or_default(),
        as_of: snap.as_of,
    }))
}

/// Whether the routes of narrative `n` can answer: the live analysis lists
/// it, or it has not finished reading the store yet (then a pass over the
/// store answers). Otherwise 404.
pub fn narrative_known(st: &AppState, n: u64) -> ApiResult<()> {
    let snap = st.snapshot.read().map_err(ApiError::internal)?;
    if !snap.ready || snap.narratives.iter().any(|x| x.id == n) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "no narrative {n} (yet): see GET /api/narratives"
        )))
    }
}

/// Reads the members' posts, in event-time order (`(time, rowid)`, the
/// order of a pass over the store).
fn read_members(s: &AnyStore, members: &[crate::analyst::Member]) -> ApiResult<Vec<NarrativePost>> {
    // A post deleted since it was analysed, or unreadable, is left out.
    let rowids: Vec<i64> = members.iter().map(|m| m.rowid).collect();
    let family: std::collections::HashMap<i64, _> =
        members.iter().map(|m| (m.rowid, m.family())).collect();
    let mut posts: Vec<(i64, NarrativePost)> = s
        .posts_by_rowid(&rowids)?
        .into_iter()
        .map(|(rowid, post)| {
            (
                rowid,
                NarrativePost {
                    post,
                    family: family[&rowid],
                },
            )
        })
        .collect();
    posts.sort_by_key(|(rowid, p)| (p.post.time, *rowid));
    Ok(posts.into_iter().map(|(_, p)| p).collect())
}

/// Narrative `n`'s posts in event-time order, its label, and where they
/// came from.
///
/// When the live analysis lists `n` (`GET /api/narratives`), its posts are
/// the members the live analysis put in it, up to what that list counts
/// (`total_posts`), and the label is the list's: whatever order posts
/// arrived in, the routes describe the narrative the list shows (when the
/// analysis took the posts in store order, these are also what one pass
/// over the store finds, as `pharos narratives` and `pharos respond` run
/// it). Otherwise (the start-up read is not done) one pass over the store.
pub fn narrative_posts(
    st: &AppState,
    s: &AnyStore,
    n: u64,
) -> ApiResult<(Vec<NarrativePost>, Option<String>, Found)> {
    if let Some(live) = live_narrative(st, n)? {
        let posts = read_members(s, &live.members)?;
        return Ok((posts, Some(live.label), Found::Live));
    }
    let wanted: HashSet<u64> = [n].into();
    let mut found = scan::scan(s, &wanted, None, &mut |_| {})?;
    let posts = found.posts.remove(&n).unwrap_or_default();
    let label = found.summaries.remove(&n).map(|s| s.label.text);
    Ok((posts, label, Found::StorePass))
}

fn compute_matches(st: &AppState, s: &AnyStore, dir: &Path, n: u64) -> ApiResult<RawMatches> {
    let (posts, label, found) = narrative_posts(st, s, n)?;
    if posts.is_empty() {
        return Err(not_found(n));
    }
    let posts: Vec<Post> = posts.into_iter().map(|p| p.post).collect();
    let lib = open(dir)?;
    let keys: HashSet<(String, String)> = posts
        .iter()
        .map(|p| (p.platform.clone(), p.id.clone()))
        .collect();
    let text_of: HashMap<(&str, &str), &str> = posts
        .iter()
        .map(|p| ((p.platform.as_str(), p.id.as_str()), p.text.as_str()))
        .collect();
    let stored = pharos_claims::respond::stored_matches(s, &keys, DEFAULT_THRESHOLD)
        .map_err(ApiError::from)?;
    // claim id → (platform, id, confidence) of each matching post.
    let mut by_claim: HashMap<String, Vec<(String, String, f64)>> = HashMap::new();
    let mut source = "none";
    let mut notes = Vec::new();
    if !stored.is_empty() {
        source = "stored";
        for m in stored {
            by_claim
                .entry(m.claim_id)
                .or_default()
                .push((m.platform, m.post_id, m.confidence));
        }
    } else if let Some(l) = lib.as_ref().filter(|l| !l.library.is_empty()) {
        // Distinct texts, most frequent first.
        let mut texts: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in posts.iter().enumerate() {
            let t = normalize_text(&p.text);
            if t.split(' ').count() >= 3 {
                texts.entry(t).or_default().push(i);
            }
        }
        let mut order: Vec<(String, Vec<usize>)> = texts.into_iter().collect();
        order.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        if order.len() > SAMPLE {
            notes.push(format!(
                "matched now: the {SAMPLE} most frequent of {} distinct texts (`pharos claims match --store` matches every post)",
                order.len()
            ));
            order.truncate(SAMPLE);
        }
        let queries: Vec<(&str, Option<&str>)> = order
            .iter()
            .map(|(_, idx)| {
                let p = &posts[idx[0]];
                (p.text.as_str(), p.lang.as_deref())
            })
            .collect();
        let results = l.matcher()?.match_batch(&queries, 5);
        for ((_, idx), ms) in order.iter().zip(results) {
            for m in ms.into_iter().filter(|m| m.confidence >= DEFAULT_THRESHOLD) {
                let e = by_claim.entry(m.claim_id).or_default();
                for &i in idx {
                    let p = &posts[i];
                    e.push((p.platform.clone(), p.id.clone(), m.confidence));
                }
            }
        }
        if !by_claim.is_empty() {
            source = "on-the-fly";
        }
    }
    match &lib {
        None => notes.push("the server has no fact-check library yet: import fact-checks with `pharos claims import --store STORE`".into()),
        Some(l) => {
            let missing: Vec<&String> = by_claim
                .keys()
                .filter(|id| l.library.get(id).is_none())
                .collect();
            if !missing.is_empty() {
                notes.push(format!(
                    "{} stored matches name claims that are not in the library (re-run `pharos claims match --store`)",
                    missing.len()
                ));
            }
        }
    }
    if by_claim.is_empty() && lib.is_some() {
        notes.push(format!(
            "no claim of the library matches the narrative's posts (confidence {DEFAULT_THRESHOLD} or more)"
        ));
    }
    let mut claims: Vec<(String, u64, f64, Vec<MatchedPost>)> = by_claim
        .into_iter()
        .map(|(id, mut ps)| {
            ps.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
            ps.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
            let count = ps.len() as u64;
            let max = ps.first().map_or(0.0, |p| p.2);
            let best = ps
                .into_iter()
                .take(POSTS_PER_CLAIM)
                .map(|(platform, id, confidence)| MatchedPost {
                    text: text_of
                        .get(&(platform.as_str(), id.as_str()))
                        .map(|t| t.to_string())
                        .unwrap_or_default(),
                    platform,
                    id,
                    confidence,
                })
                .collect();
            (id, count, max, best)
        })
        .collect();
    claims.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.total_cmp(&a.2)).then(a.0.cmp(&b.0)));
    Ok(RawMatches {
        label,
        found,
        source,
        posts: posts.len() as u64,
        library: lib.is_some(),
        claims,
        notes,
    })
}

/// Claims a response pack lists at most.
pub const MAX_PACK_CLAIMS: usize = 10;

/// The response pack of narrative `n`, as `pharos respond --narrative N`
/// builds it (claims marked for others are left out), and where the
/// narrative came from. When the live analysis lists `n`, the pack is built
/// from its members, label and bursts (the live burst detector's, as
/// `pharos respond` attributes them) with no pass over the store; else
/// (the start-up read is not done) from one pass, as the CLI does.
pub fn response_pack(
    st: &AppState,
    s: &AnyStore,
    n: u64,
    max_claims: usize,
    who: &Principal,
) -> ApiResult<(ResponsePack, Found)> {
    static CACHE: OnceLock<Cache<(ResponsePack, Found)>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let dir = library_dir(st);
    let cl = st.clearance(s, who)?;
    // Claims marked for others change the pack: build it for this reader.
    let restricted: Vec<&String> = cl.hidden_claims().collect();
    // Posts or accounts marked for this reader change the pack too: it is
    // built from the posts it may see, and not cached.
    let hides = cl.hides_posts_or_actors();
    let key = (st.store_path.clone(), n, max_claims);
    let now = inputs(st, s, &dir)?;
    if restricted.is_empty()
        && !hides
        && let Some(p) = cached(cache, &key, &now)
    {
        return Ok(p);
    }
    let loaded = open(&dir)?;
    let empty;
    let library = match &loaded {
        Some(l) if restricted.is_empty() => &l.library,
        Some(l) => {
            // A library without the claims this reader may not see.
            let hide: HashSet<&str> = restricted.iter().map(|s| s.as_str()).collect();
            let mut lib =
                Library::open_or_create(&scratch_dir(&dir)).map_err(ApiError::internal)?;
            for c in l.library.claims() {
                if !hide.contains(c.id.as_str()) {
                    lib.add(c.clone());
                }
            }
            empty = lib;
            &empty
        }
        None => {
            empty = Library::open_or_create(&dir).map_err(ApiError::internal)?;
            &empty
        }
    };
    let opts = PackOptions {
        max_claims: max_claims.clamp(1, MAX_PACK_CLAIMS),
        sample: SAMPLE,
        ..PackOptions::default()
    };
    let own_matcher;
    let matcher: Option<&dyn pharos_claims::respond::ClaimMatcher> = match &loaded {
        _ if library.is_empty() => None,
        Some(l) if restricted.is_empty() => Some(l.matcher()?),
        _ => {
            own_matcher = Matcher::in_memory(library.claims()).map_err(ApiError::internal)?;
            Some(&own_matcher)
        }
    };
    let (built, found) = match live_narrative(st, n)? {
        Some(live) => {
            let mut posts = read_members(s, &live.members)?;
            posts.retain(|p| cl.sees_post(&p.post));
            let known = KnownNarrative {
                id: n,
                posts,
                label: Some(live.label),
                bursts: live.bursts.as_ref().clone(),
                as_of: live.as_of,
            };
            (
                build_known_pack(s, library, known, &opts, matcher),
                Found::Live,
            )
        }
        None if hides => {
            return Err(ApiError::overloaded(
                "the live analysis is still reading the store: try again in a minute",
                60,
            ));
        }
        None => (
            build_pack(
                s,
                library,
                &Target::Narrative(n),
                &opts,
                matcher,
                &mut |_| {},
            ),
            Found::StorePass,
        ),
    };
    let mut pack = match built {
        Ok(p) => p,
        Err(pharos_claims::respond::RespondError::NotFound(_)) => return Err(not_found(n)),
        Err(e) => {
            return Err(ApiError::internal(hide_dir(
                &hide_dir(&e.to_string(), &scratch_dir(&dir)),
                &dir,
            )));
        }
    };
    for note in &mut pack.notes {
        *note = hide_dir(&hide_dir(note, &scratch_dir(&dir)), &dir);
    }
    if loaded.is_none() {
        pack.notes.push("the server has no fact-check library yet: import fact-checks with `pharos claims import --store STORE`".into());
    }
    if restricted.is_empty() && !hides {
        keep(cache, key, now, (pack.clone(), found));
    }
    Ok((pack, found))
}

fn scratch_dir(dir: &Path) -> PathBuf {
    // Never written: the filtered library lives in memory only.
    dir.join("unsaved-view")
}
