//! Narratives: what is being pushed, grouped by meaning, across platforms
//! and (where names meet) languages — online, with bounded memory.
//!
//! [`NarrativeEngine::observe`] takes posts in (roughly) event-time order
//! and puts each one
//!
//! 1. in a **near-duplicate family** ("copypasta" with small edits): MinHash
//!    LSH over word-bigram shingles of the matching form of the text, with
//!    exact Jaccard verification ([`families`], [`FamilyParams`]);
//! 2. in a **narrative**: a post whose family already belongs to a narrative
//!    follows it (a family belongs to one narrative); otherwise its TF-IDF
//!    vector is compared, by cosine, with the centroids of the live
//!    narratives that share a term with it (an inverted index over centroid
//!    terms), and it joins the best one at or above
//!    [`NarrativeConfig::similarity`] or starts a narrative.
//!
//! Terms are fuzzy keys of words ([`crate::similarity::translit`]):
//! NFKC-folded, Cyrillic transliterated to Latin, spelling variants of
//! names folded, cut to six letters; so `Зеленский`, `Зеленський` and
//! `Zelenskyy` are one term, and Russian, Ukrainian and English posts about
//! the same named people, places, organisations, hashtags and links can
//! meet. Common words do not meet across languages (`электричество` is not
//! `electricity`); that needs a multilingual embedding model, which plugs in
//! through [`TextEmbedder`].
//!
//! **Cost.** Reading a post (normalise, transliterate, shingle, MinHash) is
//! independent of the engine's state and runs in parallel in
//! [`NarrativeEngine::observe_batch`]. Assignment costs one look-up per LSH
//! band (at most `bands × bucket_cap` verifications), and for posts that
//! start a family, a walk over the posting lists of the post's terms: it
//! grows with the number of live narratives that share a term with the
//! post, not with the number of live narratives (posting lists longer than
//! [`NarrativeConfig::max_posting`] — words shared by thousands of
//! narratives — are skipped), followed by exact cosines with at most
//! [`NarrativeConfig::candidates`] centroids.
//!
//! **Memory.** Families expire 48 h after their last post, narratives 7 days
//! after (24 h for narratives of fewer than three posts); both have caps on
//! live counts; expired narratives of at least three posts are archived (at
//! most [`NarrativeConfig::archive_cap`]); the vocabulary is pruned of its
//! rarest terms beyond [`NarrativeConfig::max_terms`]; every per-narrative
//! list is a bounded sketch. See `docs/narratives.md`.

pub mod boilerplate;
mod dense;
mod families;
mod features;
pub mod score;
mod stopwords;
mod summary;
mod title;

pub use boilerplate::{
    BoilerplateConfig, BoilerplateReader, BoilerplateSource, SharedBoilerplate, strip_templates,
};
pub use dense::{DENSE_TOKENS, ModelEmbedder, default_embedder, set_default_embedder};
pub use families::FamilyParams;
pub use features::STEM_CHARS;
pub use stopwords::is_stopword;
pub use summary::{
    Counted, FamilyCount, LabelTerm, LanguageView, NarrativeLabel, NarrativeSummary,
    RepresentativePost, TimelineBin, TimelineSeries,
};

use crate::similarity::hash_bytes;
use ahash::AHashMap;
use ahash::AHashSet;
use boilerplate::{Learner, Snapshot};
use dense::DenseCache;
use families::FamilyIndex;
use features::{PairMinHasher, Prepared, Reader};
use pharos_core::{EventTime, Post};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use summary::{Series, TopK};

/// Terms a narrative's label shows.
pub const LABEL_TERMS: usize = 6;
/// Terms of a narrative's profile ([`NarrativeSummary::profile`]).
pub const PROFILE_TERMS: usize = 24;

const HOUR_MS: i64 = 3_600_000;

/// A dense text representation (a sentence-embedding model) that can stand
/// beside TF-IDF: a multilingual model lets posts that tell one story in
/// different languages meet without a shared term.
///
/// With an embedder set, only the posts that need a narrative decision
/// (those that start a near-duplicate family, or whose family has none)
/// are embedded — a family's later posts follow it — in batches, cached by
/// text. A post's candidate narratives are those sharing a term with it
/// plus the [`NarrativeConfig::recent_dense`] most recently active ones;
/// a candidate's score is `t + d − t·d`, where `t` is the TF-IDF cosine
/// and `d` the embedder's [`evidence`](Self::evidence) for the cosine of
/// the two embeddings, so a lexical match is never lost and the embedding
/// adds what words miss (docs/narratives.md, "Across languages").
/// [`ModelEmbedder`] is the sentence encoder of `pharos-embed`
/// (multilingual-e5-small by default); [`NarrativeConfig::default`] takes
/// the application's [`set_default_embedder`].
pub trait TextEmbedder: Send + Sync {
    /// The embedding of `text` (the post's text as read: boilerplate and
    /// templates removed), or `None`.
    fn embed(&self, text: &str, lang: Option<&str>) -> Option<Vec<f32>>;

    /// The embeddings of many texts, in their order (a model encodes a
    /// batch on all cores). By default one [`embed`](Self::embed) each.
    fn embed_batch(&self, texts: &[(&str, Option<&str>)]) -> Vec<Option<Vec<f32>>> {
        texts.iter().map(|(t, l)| self.embed(t, *l)).collect()
    }

    /// How strongly a cosine between a post's embedding and a narrative's
    /// mean embedding says they tell the same story, in `[0, 1]`: 0 at or
    /// below what unrelated texts reach with this model. By default the
    /// cosine itself (at least 0).
    fn evidence(&self, cosine: f32) -> f32 {
        cosine.clamp(0.0, 1.0)
    }

    /// What to call it in reports (the model's name).
    fn name(&self) -> &str {
        "a sentence-embedding model"
    }
}

/// How narratives are formed, summarised and forgotten.
#[derive(Clone)]
pub struct NarrativeConfig {
    pub families: FamilyParams,
    /// Per-source boilerplate learning (see [`boilerplate`]).
    pub boilerplate: BoilerplateConfig,
    /// Cosine (TF-IDF, or blended with an embedder) at or above which a post
    /// joins a narrative (default 0.3).
    pub similarity: f64,
    /// Terms kept in a narrative's centroid (default 64).
    pub centroid_terms: usize,
    /// Terms kept in a post's vector, the heaviest (default 24).
    pub post_terms: usize,
    /// Centroids compared exactly per post, the best by shared weight (default 8).
    pub candidates: usize,
    /// Posting lists longer than this are not walked (default 4,096).
    pub max_posting: usize,
    /// A narrative expires this long after its last post (default 7 days).
    pub horizon_ms: i64,
    /// ... or this long when it has fewer than `small_posts` posts (default 24 h, 3).
    pub small_horizon_ms: i64,
    pub small_posts: u64,
    /// At most this many live narratives; beyond it the least recently seen
    /// expire early (default 500,000).
    pub max_live: usize,
    /// Expired narratives with at least this many posts are archived
    /// (default 3) ...
    pub archive_min_posts: u64,
    /// ... keeping at most this many, the largest (default 50,000).
    pub archive_cap: usize,
    /// Hours of timeline kept per narrative (default 14 days).
    pub timeline_hours: i64,
    /// The growth window (default 6 h), see [`NarrativeEngine::narratives`].
    pub growth_window_ms: i64,
    /// Vocabulary (document frequencies) cap, pruned rarest first (default 1,000,000).
    pub max_terms: usize,
    /// Detect the language when a post has none (whatlang; default true).
    pub detect_language: bool,
    /// Expiry runs when event time has advanced this much (default 1 h).
    pub sweep_every_ms: i64,
    /// Entries in each top-k list of a summary (default 10).
    pub top_k: usize,
    /// Narratives by meaning as well as by words (see [`TextEmbedder`]);
    /// by default the application's [`set_default_embedder`], else none
    /// (lexical).
    pub embedder: Option<Arc<dyn TextEmbedder>>,
    /// Recently active narratives compared by embedding besides those
    /// sharing a term (default 2,048).
    pub recent_dense: usize,
    /// Texts whose embeddings are kept for reuse (default 8,192; two
    /// generations of half that, the older dropped when the newer fills).
    pub dense_cache: usize,
}

impl Default for NarrativeConfig {
    fn default() -> Self {
        NarrativeConfig {
            families: FamilyParams::default(),
            boilerplate: BoilerplateConfig::default(),
            similarity: 0.3,
            centroid_terms: 64,
            post_terms: 24,
            candidates: 8,
            max_posting: 4096,
            horizon_ms: 7 * 24 * HOUR_MS,
            small_horizon_ms: 24 * HOUR_MS,
            small_posts: 3,
            max_live: 500_000,
            archive_min_posts: 3,
            archive_cap: 50_000,
            timeline_hours: 14 * 24,
            growth_window_ms: 6 * HOUR_MS,
            max_terms: 1_000_000,
            detect_language: true,
            sweep_every_ms: HOUR_MS,
            top_k: 10,
            embedder: dense::default_embedder(),
            recent_dense: 2048,
            dense_cache: 8192,
        }
    }
}

impl std::fmt::Debug for NarrativeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NarrativeConfig")
            .field("families", &self.families)
            .field("similarity", &self.similarity)
            .field("horizon_ms", &self.horizon_ms)
            .field("embedder", &self.embedder.is_some())
            .finish_non_exhaustive()
    }
}

/// Where a post went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// Its near-duplicate family; `None` when the text has no words.
    pub family: Option<u64>,
    /// Its narrative; `None` when the text has no content words and its
    /// family has no narrative.
    pub narrative: Option<u64>,
    pub new_family: bool,
    pub new_narrative: bool,
}

/// Sizes of the engine's state (memory is proportional to these).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineStats {
    pub posts: u64,
    pub live_families: usize,
    pub exemplars: usize,
    pub lsh_buckets: usize,
    pub max_bucket: u32,
    pub live_narratives: usize,
    pub archived_narratives: usize,
    pub vocabulary: usize,
    pub postings: usize,
    /// LSH bucket entries walked and exact Jaccards computed so far.
    pub lsh_steps: u64,
    pub verifications: u64,
    /// Sources whose boilerplate is being learned, and `(source, line)`
    /// pairs that are boilerplate now.
    pub boilerplate_sources: usize,
    pub boilerplate_lines: usize,
    /// Posts whose boilerplate lines were removed, posts that were mostly
    /// boilerplate (no family, no narrative), and posts read again because
    /// a line changed status while they were being read in parallel.
    pub boilerplate_posts: u64,
    pub mostly_boilerplate: u64,
    pub reread: u64,
    /// Posts that needed a narrative decision and were given an embedding
    /// (an embedder set), texts the encoder read for them (the rest came
    /// from the cache), and texts embedded ahead of assignment that
    /// turned out not to be needed (their family already had a narrative).
    pub embedded_posts: u64,
    pub encoded_texts: u64,
    pub encoded_unused: u64,
}

struct Narrative {
    id: u64,
    /// Term hash → summed weight, sorted by hash, at most `centroid_terms`.
    centroid: Vec<(u64, f32)>,
    norm: f32,
    /// Sum of the embeddings of its posts that were embedded, and how many.
    dense: Option<Vec<f32>>,
    dense_n: u32,
    /// When it was last active, in the engine's activity count (the
    /// recent-narratives queue holds `(slot, seq)` pairs).
    seq: u64,
    posts: u64,
    first: i64,
    last: i64,
    series: Vec<Series>,
    actors: TopK,
    links: TopK,
    domains: TopK,
    hashtags: TopK,
    networks: TopK,
    terms: TopK,
    top_families: TopK,
    families: u64,
    rep: Option<(f32, RepresentativePost)>,
    /// The representative post's text as read (boilerplate and templates
    /// removed), at most 1,000 characters: the title comes from it.
    rep_text: Box<str>,
    /// Per language (the first [`MAX_LANGUAGES`] seen): posts, telling
    /// terms and a representative text, for per-language labels and titles.
    langs: Vec<LangStats>,
}

/// Languages a narrative keeps labels and titles for.
pub const MAX_LANGUAGES: usize = 12;
/// Terms counted per language of a narrative.
const LANG_TERMS: usize = 16;

struct LangStats {
    lang: Box<str>,
    posts: u64,
    terms: TopK,
    /// Best score of a post of this language when it arrived, and its text
    /// as read (at most 600 characters).
    rep: Option<(f32, Box<str>)>,
}

/// The online narrative engine. See the [module documentation](self).
pub struct NarrativeEngine {
    cfg: NarrativeConfig,
    reader: Reader,
    learner: Learner,
    boilerplate_posts: u64,
    mostly_boilerplate: u64,
    reread: u64,
    families: FamilyIndex,
    /// Term hash → document frequency (distinct texts containing it).
    vocab: AHashMap<u64, u32>,
    docs: u64,
    narratives: Vec<Option<Narrative>>,
    free: Vec<u32>,
    live: usize,
    next_id: u64,
    postings: AHashMap<u64, Vec<u32>>,
    archive: Vec<Narrative>,
    acc: Vec<f32>,
    touched: Vec<u32>,
    /// `(slot, seq)` of narratives as they were active; stale entries (the
    /// narrative active again since, or gone) are skipped and compacted.
    recent: std::collections::VecDeque<(u32, u64)>,
    seq: u64,
    cache: DenseCache,
    /// Sum and count of the embeddings of the posts embedded so far: their
    /// mean is taken out of every vector before a cosine (see
    /// [`centered_cosine`]).
    mean_sum: Vec<f64>,
    mean_n: u64,
    embedded_posts: u64,
    encoded_texts: u64,
    encoded_unused: u64,
    watermark: i64,
    last_sweep: i64,
    posts: u64,
}

/// A prepared post with its embedding, when one was made ahead of
/// assignment ([`NarrativeEngine::prefetch_dense`]).
struct Read {
    prep: Prepared,
    dense: Option<Arc<[f32]>>,
}

/// Posts read by [`NarrativeReader::read`], waiting for
/// [`NarrativeEngine::assign_read`].
pub struct ReadPosts(Vec<Read>);

impl ReadPosts {
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The language of each post: its own, or the detected one.
    pub fn languages(&self) -> impl Iterator<Item = Option<&str>> {
        self.0.iter().map(|r| r.prep.lang.as_deref())
    }
}

/// Reading posts — normalisation, transliteration, language id, shingles,
/// MinHash, band keys, terms — needs none of the engine's state, so it can
/// run on other threads (a pipeline stage) while the engine assigns
/// earlier posts. From [`NarrativeEngine::reader`].
#[derive(Clone)]
pub struct NarrativeReader {
    reader: Reader,
    /// The engine's boilerplate as last published.
    boiler: Snapshot,
}

impl NarrativeReader {
    /// Reads `posts` in parallel on the rayon pool.
    pub fn read(&self, posts: &[Post]) -> ReadPosts {
        let boiler = self.boiler.get();
        ReadPosts(
            posts
                .par_iter()
                .with_min_len(64)
                .map(|p| read_post(&self.reader, p, &boiler))
                .collect(),
        )
    }

    /// Reads `posts` on the calling thread.
    pub fn read_here(&self, posts: &[Post]) -> ReadPosts {
        let boiler = self.boiler.get();
        ReadPosts(
            posts
                .iter()
                .map(|p| read_post(&self.reader, p, &boiler))
                .collect(),
        )
    }
}

fn read_post(reader: &Reader, post: &Post, boiler: &AHashSet<u64>) -> Read {
    Read {
        prep: reader.prepare(post, boiler),
        dense: None,
    }
}

/// The text a post's embedding is made from: as read (boilerplate and
/// templates removed), links left out.
fn dense_text<'a>(post: &'a Post, prep: &'a Prepared) -> std::borrow::Cow<'a, str> {
    features::strip_links(prep.cleaned.as_deref().unwrap_or(&post.text))
}

impl Default for NarrativeEngine {
    fn default() -> Self {
        NarrativeEngine::new(NarrativeConfig::default())
    }
}

fn hour_of(ms: i64) -> i64 {
    ms.div_euclid(HOUR_MS)
}

fn h(s: &str) -> u64 {
    hash_bytes(s.as_bytes(), 0x6e61_7272)
}

fn dot_sorted(a: &[(u64, f32)], b: &[(u64, f32)]) -> f32 {
    let (mut i, mut j, mut s) = (0, 0, 0.0f32);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                s += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    s
}

/// The cosine of `post` (already centred) and the mean of `k` vectors
/// summing to `sum`, centred on `mean`. Sentence encoders put every text
/// in one narrow cone (two unrelated texts reach a cosine of 0.8 with e5),
/// and a mean of many texts points down its axis, so without centring a
/// large narrative looks close to every post and swallows them all.
fn centered_cosine(post: &[f32], sum: &[f32], k: u32, mean: &[f32]) -> f32 {
    if post.len() != sum.len() || post.len() != mean.len() || k == 0 {
        return 0.0;
    }
    let inv = 1.0 / k as f32;
    let (mut d, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for ((x, s), m) in post.iter().zip(sum).zip(mean) {
        let y = s * inv - m;
        d += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        d / (na.sqrt() * nb.sqrt())
    }
}

impl NarrativeEngine {
    pub fn new(cfg: NarrativeConfig) -> NarrativeEngine {
        let cfg_cache = cfg.dense_cache;
        let fp = &cfg.families;
        let reader = Reader {
            hasher: PairMinHasher::new(fp.bands * fp.rows, 0x6661_6d69_6c79),
            bands: fp.bands,
            rows: fp.rows,
            detect_language: cfg.detect_language,
            boilerplate: cfg.boilerplate.enabled,
        };
        NarrativeEngine {
            learner: Learner::new(cfg.boilerplate.clone()),
            boilerplate_posts: 0,
            mostly_boilerplate: 0,
            reread: 0,
            families: FamilyIndex::new(cfg.families.clone()),
            reader,
            cfg,
            vocab: AHashMap::new(),
            docs: 0,
            narratives: Vec::new(),
            free: Vec::new(),
            live: 0,
            next_id: 1,
            postings: AHashMap::new(),
            archive: Vec::new(),
            acc: Vec::new(),
            touched: Vec::new(),
            recent: std::collections::VecDeque::new(),
            seq: 0,
            cache: DenseCache::new(cfg_cache),
            mean_sum: Vec::new(),
            mean_n: 0,
            embedded_posts: 0,
            encoded_texts: 0,
            encoded_unused: 0,
            watermark: i64::MIN,
            last_sweep: i64::MIN,
            posts: 0,
        }
    }

    pub fn config(&self) -> &NarrativeConfig {
        &self.cfg
    }

    /// The latest event time seen.
    pub fn watermark(&self) -> Option<EventTime> {
        (self.posts > 0).then_some(EventTime(self.watermark))
    }

    fn read(&self, post: &Post) -> Read {
        read_post(&self.reader, post, self.learner.current())
    }

    /// Assigns one post to a family and a narrative.
    pub fn observe(&mut self, post: &Post) -> Assignment {
        self.observe_with_network(post, None)
    }

    /// [`observe`](Self::observe), recording that the post was pushed by the
    /// coordination network `network` (an id the caller chooses, e.g. from
    /// the coordination engine).
    pub fn observe_with_network(&mut self, post: &Post, network: Option<&str>) -> Assignment {
        let read = self.read(post);
        self.assign(post, read, network)
    }

    /// Observes `posts` in order; reading (normalisation, transliteration,
    /// language id, shingles, MinHash) runs on all cores, assignment in
    /// order. Same result as observing them one by one.
    pub fn observe_batch(&mut self, posts: &[Post]) -> Vec<Assignment> {
        self.observe_batch_with_networks(posts, |_| None)
    }

    /// [`observe_batch`](Self::observe_batch) with a network id per post.
    ///
    /// Posts are read in chunks of 1,024 on the rayon pool while the
    /// previous chunk is assigned, so on two cores reading and assignment
    /// overlap.
    pub fn observe_batch_with_networks<'a>(
        &mut self,
        posts: &'a [Post],
        network: impl Fn(usize) -> Option<&'a str> + Sync,
    ) -> Vec<Assignment> {
        const CHUNK: usize = 1024;
        let reader = self.reader.clone();
        let snapshot = self.learner.snapshot();
        self.learner.publish();
        let read_chunk = |chunk: &[Post]| -> Vec<Read> {
            let boiler = snapshot.get();
            chunk
                .par_iter()
                .with_min_len(64)
                .map(|p| read_post(&reader, p, &boiler))
                .collect()
        };
        let mut out = Vec::with_capacity(posts.len());
        let mut chunks = posts.chunks(CHUNK);
        let Some(first) = chunks.next() else {
            return out;
        };
        let mut current = (first, read_chunk(first));
        let mut offset = 0;
        loop {
            let next = chunks.next();
            let (chunk, mut reads) = current;
            let (next_reads, ()) = rayon::join(
                || next.map(read_chunk),
                || {
                    self.prefetch_dense(chunk, &mut reads);
                    for (i, (r, p)) in reads.into_iter().zip(chunk).enumerate() {
                        out.push(self.assign(p, r, network(offset + i)));
                    }
                    self.learner.publish();
                },
            );
            offset += chunk.len();
            match (next, next_reads) {
                (Some(c), Some(r)) => current = (c, r),
                _ => return out,
            }
        }
    }

    /// The state-free half of the engine (reading posts), to run on other
    /// threads while this engine assigns: see [`NarrativeReader`].
    pub fn reader(&self) -> NarrativeReader {
        NarrativeReader {
            reader: self.reader.clone(),
            boiler: self.learner.snapshot(),
        }
    }

    /// Assigns posts read by [`NarrativeReader::read`] (the same posts, in
    /// the same order): the same result as [`observe`](Self::observe) one
    /// by one.
    ///
    /// # Panics
    /// When `read` was not made from `posts` (different lengths).
    pub fn assign_read(&mut self, posts: &[Post], mut read: ReadPosts) -> Vec<Assignment> {
        assert_eq!(posts.len(), read.0.len(), "ReadPosts made from other posts");
        self.prefetch_dense(posts, &mut read.0);
        let out = posts
            .iter()
            .zip(read.0)
            .map(|(p, r)| self.assign(p, r, None))
            .collect();
        self.learner.publish();
        out
    }

    fn assign(&mut self, post: &Post, read: Read, network: Option<&str>) -> Assignment {
        let t = post.time.0;
        self.posts += 1;
        if t > self.watermark {
            self.watermark = t;
        }
        if self.last_sweep == i64::MIN {
            self.last_sweep = t;
        } else if self.watermark - self.last_sweep >= self.cfg.sweep_every_ms {
            self.sweep();
        }
        let Read {
            mut prep,
            mut dense,
        } = read;
        if self.cfg.boilerplate.enabled {
            let mask = self.learner.observe(prep.source, &prep.edges, post);
            if mask != prep.mask {
                // A line changed status since the post was read.
                self.reread += 1;
                let edges = std::mem::take(&mut prep.edges);
                prep = self.reader.prepare_masked(post, prep.source, edges, mask);
                // Made from other text: embedded again if it is needed.
                dense = None;
            }
            if mask != 0 {
                self.boilerplate_posts += 1;
            }
        }
        if prep.mostly_boilerplate {
            self.mostly_boilerplate += 1;
            return Assignment {
                family: None,
                narrative: None,
                new_family: false,
                new_narrative: false,
            };
        }
        let joined = self.families.join(&prep, t);
        let redundant = joined.as_ref().is_some_and(|j| j.redundant);
        if !redundant && !prep.terms.is_empty() {
            self.docs += 1;
            for term in &prep.terms {
                *self.vocab.entry(term.hash).or_insert(0) += 1;
            }
        }
        let vec = self.vectorize(&prep);

        // A family belongs to one narrative.
        let mut slot: Option<u32> = None;
        if let Some(j) = &joined
            && let Some((nid, s)) = self.families.families[j.slot as usize].narrative
            && self.narratives[s as usize]
                .as_ref()
                .is_some_and(|n| n.id == nid)
        {
            slot = Some(s);
        }
        let mut new_narrative = false;
        let mut sim = 0.0f32;
        // Posts with no words (link-only ones) start no narrative.
        if slot.is_none() && prep.word_terms > 0 && !vec.is_empty() {
            if self.cfg.embedder.is_some() {
                if dense.is_none() {
                    dense = self.embed_now(post, &prep);
                }
                if dense.is_some() {
                    self.embedded_posts += 1;
                }
            } else {
                dense = None;
            }
            let found = self.best_narrative(&vec, dense.as_deref());
            if let Some(d) = &dense {
                if self.mean_sum.len() != d.len() {
                    self.mean_sum = vec![0.0; d.len()];
                    self.mean_n = 0;
                }
                self.mean_sum
                    .iter_mut()
                    .zip(d.iter())
                    .for_each(|(s, x)| *s += f64::from(*x));
                self.mean_n += 1;
            }
            match found {
                Some((s, score)) if f64::from(score) >= self.cfg.similarity => {
                    slot = Some(s);
                    sim = score;
                }
                _ => {
                    slot = Some(self.new_narrative(t));
                    new_narrative = true;
                }
            }
        } else if let Some(s) = slot {
            if dense.take().is_some() {
                self.encoded_unused += 1;
            }
            let n = self.narratives[s as usize].as_ref().expect("live");
            if n.norm > 0.0 {
                sim = dot_sorted(&vec, &n.centroid) / n.norm;
            }
        } else if dense.take().is_some() {
            self.encoded_unused += 1;
        }
        let narrative_id = slot.map(|s| self.narratives[s as usize].as_ref().expect("live").id);
        if let (Some(j), Some(s), Some(nid)) = (&joined, slot, narrative_id) {
            let fam = &mut self.families.families[j.slot as usize];
            if fam.narrative.is_none_or(|(id, _)| id != nid) {
                fam.narrative = Some((nid, s));
                self.narratives[s as usize].as_mut().expect("live").families += 1;
            }
        }
        if let Some(s) = slot {
            let family = joined
                .as_ref()
                .map(|j| self.families.families[j.slot as usize].id);
            self.update_narrative(s, post, &prep, &vec, dense, redundant, sim, family, network);
        }
        Assignment {
            family: joined
                .as_ref()
                .map(|j| self.families.families[j.slot as usize].id),
            narrative: narrative_id,
            new_family: joined.as_ref().is_some_and(|j| j.new_family),
            new_narrative,
        }
    }

    /// The post's TF-IDF vector: `tf · (ln((N + 1) / (df + 1)) + 1)`, the
    /// `post_terms` heaviest, L2-normalised, sorted by term hash.
    fn vectorize(&self, prep: &Prepared) -> Vec<(u64, f32)> {
        let n = self.docs as f32 + 1.0;
        let mut v: Vec<(u64, f32)> = prep
            .terms
            .iter()
            .map(|t| {
                let df = self.vocab.get(&t.hash).map_or(0, |&df| df) as f32;
                (t.hash, t.tf * ((n / (df + 1.0)).ln() + 1.0))
            })
            .collect();
        if v.len() > self.cfg.post_terms {
            v.select_nth_unstable_by(self.cfg.post_terms, |a, b| b.1.total_cmp(&a.1));
            v.truncate(self.cfg.post_terms);
            v.sort_unstable_by_key(|x| x.0);
        }
        let norm = v.iter().map(|x| x.1 * x.1).sum::<f32>().sqrt();
        if norm > 0.0 {
            for x in &mut v {
                x.1 /= norm;
            }
        }
        v
    }

    /// The best narrative for a post vector: candidates by shared weight
    /// through the inverted index (plus recent narratives when an embedder
    /// is set), then exact cosines.
    fn best_narrative(&mut self, vec: &[(u64, f32)], dense: Option<&[f32]>) -> Option<(u32, f32)> {
        if self.acc.len() < self.narratives.len() {
            self.acc.resize(self.narratives.len(), 0.0);
        }
        self.touched.clear();
        for &(term, w) in vec {
            let Some(list) = self.postings.get(&term) else {
                continue;
            };
            if list.len() > self.cfg.max_posting {
                continue;
            }
            for &s in list {
                let a = &mut self.acc[s as usize];
                if *a == 0.0 {
                    self.touched.push(s);
                }
                *a += w;
            }
        }
        let c = self.cfg.candidates;
        if self.touched.len() > c {
            let acc = &self.acc;
            self.touched
                .select_nth_unstable_by(c, |a, b| acc[*b as usize].total_cmp(&acc[*a as usize]));
        }
        let mut cands: Vec<u32> = self.touched.iter().take(c).copied().collect();
        for &s in &self.touched {
            self.acc[s as usize] = 0.0;
        }
        let embedder = self.cfg.embedder.as_deref();
        // The post and the narratives' means, centred on the mean of all
        // embedded posts so far.
        let mean: Vec<f32> = if self.mean_n > 0 {
            let inv = 1.0 / self.mean_n as f64;
            self.mean_sum.iter().map(|x| (x * inv) as f32).collect()
        } else {
            Vec::new()
        };
        let dense: Option<Vec<f32>> = dense
            .filter(|d| d.len() == mean.len())
            .map(|d| d.iter().zip(&mean).map(|(x, m)| x - m).collect());
        if dense.is_some() {
            // The most recently active narratives, newest first; each once
            // (its latest entry is the one whose seq it still has).
            let mut left = self.cfg.recent_dense;
            for &(s, seq) in self.recent.iter().rev() {
                if left == 0 {
                    break;
                }
                if self.narratives[s as usize]
                    .as_ref()
                    .is_some_and(|n| n.seq == seq)
                {
                    left -= 1;
                    if !cands.contains(&s) {
                        cands.push(s);
                    }
                }
            }
        }
        let mut best: Option<(u32, f32)> = None;
        for s in cands {
            let Some(n) = self.narratives[s as usize].as_ref() else {
                continue;
            };
            let mut score = if n.norm > 0.0 {
                dot_sorted(vec, &n.centroid) / n.norm
            } else {
                0.0
            };
            if let (Some(e), Some(d), Some(nd)) = (embedder, dense.as_deref(), n.dense.as_deref()) {
                // Evidence adds up: a lexical match is kept, the embedding
                // adds what words miss.
                let m = e.evidence(centered_cosine(d, nd, n.dense_n, &mean));
                score = score + m - score * m;
            }
            if best.is_none_or(|b| score > b.1 || (score == b.1 && s < b.0)) {
                best = Some((s, score));
            }
        }
        best
    }

    /// Embeds, ahead of assignment and in one batch, the posts of `posts`
    /// that will likely need a narrative decision: those that would not
    /// join a family that has a narrative, and share no LSH band with an
    /// earlier such post of the batch (it would likely join that one's new
    /// family). A guess: a post that turns out to need an embedding gets
    /// one when it is assigned ([`embed_now`](Self::embed_now)), and one
    /// embedded for nothing is counted (`EngineStats::encoded_unused`);
    /// the assignments are the same either way.
    fn prefetch_dense(&mut self, posts: &[Post], reads: &mut [Read]) {
        let Some(embedder) = self.cfg.embedder.clone() else {
            return;
        };
        let mut local: AHashSet<u64> = AHashSet::new();
        let mut need: Vec<(usize, u64, String)> = Vec::new();
        for (i, post) in posts.iter().enumerate() {
            let Some(r) = reads.get(i) else { break };
            let prep = &r.prep;
            if r.dense.is_some()
                || prep.mostly_boilerplate
                || prep.word_terms == 0
                || prep.shingles.is_empty()
            {
                continue;
            }
            if let Some(f) = self.families.probe(prep)
                && let Some((nid, s)) = self.families.families[f as usize].narrative
                && self.narratives[s as usize]
                    .as_ref()
                    .is_some_and(|n| n.id == nid)
            {
                continue;
            }
            let near = prep.band_keys.iter().any(|k| local.contains(k));
            local.extend(prep.band_keys.iter().copied());
            if near {
                continue;
            }
            let text = dense_text(post, prep);
            let key = h(&text);
            let text = text.into_owned();
            match self.cache.get(key) {
                Some(v) => reads[i].dense = Some(v),
                None => need.push((i, key, text)),
            }
        }
        if need.is_empty() {
            return;
        }
        // One text once, however many posts of the batch carry it.
        let mut first: AHashMap<u64, usize> = AHashMap::new();
        let mut texts: Vec<(&str, Option<&str>)> = Vec::new();
        let mut keys: Vec<u64> = Vec::new();
        let mut at: Vec<usize> = Vec::with_capacity(need.len());
        for (i, key, text) in &need {
            let j = *first.entry(*key).or_insert_with(|| {
                texts.push((text.as_str(), reads[*i].prep.lang.as_deref()));
                keys.push(*key);
                texts.len() - 1
            });
            at.push(j);
        }
        let vectors: Vec<Option<Arc<[f32]>>> = embedder
            .embed_batch(&texts)
            .into_iter()
            .map(|v| v.map(Arc::from))
            .collect();
        self.encoded_texts += texts.len() as u64;
        for (key, v) in keys.iter().zip(&vectors) {
            if let Some(v) = v {
                self.cache.put(*key, v.clone());
            }
        }
        for ((i, _, _), j) in need.iter().zip(at) {
            reads[*i].dense = vectors.get(j).cloned().flatten();
        }
    }

    /// A post's embedding now (from the cache, or the encoder).
    fn embed_now(&mut self, post: &Post, prep: &Prepared) -> Option<Arc<[f32]>> {
        let embedder = self.cfg.embedder.clone()?;
        let text = dense_text(post, prep);
        let key = h(&text);
        if let Some(v) = self.cache.get(key) {
            return Some(v);
        }
        let v: Arc<[f32]> = Arc::from(embedder.embed(&text, prep.lang.as_deref())?);
        self.encoded_texts += 1;
        self.cache.put(key, v.clone());
        Some(v)
    }

    fn new_narrative(&mut self, t: i64) -> u32 {
        let k = self.cfg.top_k * 2;
        let n = Narrative {
            id: self.next_id,
            centroid: Vec::new(),
            norm: 0.0,
            dense: None,
            posts: 0,
            first: t,
            last: t,
            series: Vec::new(),
            actors: TopK::new(k),
            links: TopK::new(k),
            domains: TopK::new(k),
            hashtags: TopK::new(k),
            networks: TopK::new(k),
            terms: TopK::new(48),
            top_families: TopK::new(k),
            families: 0,
            rep: None,
            rep_text: Box::default(),
            langs: Vec::new(),
            seq: 0,
            dense_n: 0,
        };
        self.next_id += 1;
        self.live += 1;
        match self.free.pop() {
            Some(s) => {
                self.narratives[s as usize] = Some(n);
                s
            }
            None => {
                self.narratives.push(Some(n));
                (self.narratives.len() - 1) as u32
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn update_narrative(
        &mut self,
        slot: u32,
        post: &Post,
        prep: &Prepared,
        vec: &[(u64, f32)],
        dense: Option<Arc<[f32]>>,
        redundant: bool,
        sim: f32,
        family: Option<u64>,
        network: Option<&str>,
    ) {
        let cfg = &self.cfg;
        let n = self.narratives[slot as usize].as_mut().expect("live");
        self.seq += 1;
        n.seq = self.seq;
        let t = post.time.0;
        n.posts += 1;
        n.first = n.first.min(t);
        n.last = n.last.max(t);
        let lang = prep.lang.as_deref().unwrap_or("und");
        let series = match n
            .series
            .iter_mut()
            .position(|s| &*s.platform == post.platform.as_str() && &*s.lang == lang)
        {
            Some(i) => &mut n.series[i],
            None => {
                n.series.push(Series {
                    platform: post.platform.as_str().into(),
                    lang: lang.into(),
                    total: 0,
                    bins: Default::default(),
                });
                n.series.last_mut().expect("pushed")
            }
        };
        series.add(hour_of(t), cfg.timeline_hours);
        n.actors.add(h(&post.actor.id), &post.actor.id);
        // A channel's own links (its call to subscribe) and a link learned
        // as its source's boilerplate (its site under every post) say
        // nothing of the story: not counted, nor their domain when no
        // other link has it.
        let own = |l: &pharos_core::Link| {
            features::is_channel_link(l) || features::is_learned_link(&prep.edges, prep.mask, l)
        };
        for l in &post.links {
            if !own(l) {
                n.links.add(h(&l.url), &l.url);
            }
        }
        for d in &post.domains {
            let only_channel_links = post.links.iter().filter(|l| l.domain == *d).all(own);
            if post.links.iter().any(|l| l.domain == *d) && only_channel_links {
                continue;
            }
            n.domains.add(h(d), d);
        }
        for tag in &post.hashtags {
            n.hashtags.add(h(tag), tag);
        }
        if let Some(net) = network {
            n.networks.add(h(net), net);
        }
        if let Some(f) = family {
            n.top_families.add_with(f, 1, |s| {
                use std::fmt::Write;
                let _ = write!(s, "{f}");
            });
        }
        for term in &prep.terms {
            n.terms.add(term.hash, prep.surface(term));
        }
        let li = match n.langs.iter().position(|l| &*l.lang == lang) {
            Some(i) => Some(i),
            None if n.langs.len() < MAX_LANGUAGES => {
                n.langs.push(LangStats {
                    lang: lang.into(),
                    posts: 0,
                    terms: TopK::new(LANG_TERMS),
                    rep: None,
                });
                Some(n.langs.len() - 1)
            }
            None => None,
        };
        if let Some(l) = li.map(|i| &mut n.langs[i]) {
            l.posts += 1;
            for term in &prep.terms {
                l.terms.add(term.hash, prep.surface(term));
            }
            if l.rep.as_ref().is_none_or(|r| sim > r.0) {
                let text: String = prep
                    .cleaned
                    .as_deref()
                    .unwrap_or(&post.text)
                    .chars()
                    .take(600)
                    .collect();
                l.rep = Some((sim, text.into()));
            }
        }
        if n.rep.as_ref().is_none_or(|r| sim > r.0) {
            let text: String = post.text.chars().take(500).collect();
            n.rep_text = prep
                .cleaned
                .as_deref()
                .unwrap_or(&post.text)
                .chars()
                .take(1000)
                .collect::<String>()
                .into();
            n.rep = Some((
                sim,
                RepresentativePost {
                    platform: post.platform.clone(),
                    id: post.id.clone(),
                    actor: post.actor.id.clone(),
                    time: post.time,
                    text,
                },
            ));
        }
        if let Some(d) = dense {
            match &mut n.dense {
                Some(c) if c.len() == d.len() => {
                    c.iter_mut().zip(d.iter()).for_each(|(x, y)| *x += y);
                    n.dense_n += 1;
                }
                _ => {
                    n.dense = Some(d.to_vec());
                    n.dense_n = 1;
                }
            }
        }
        if cfg.embedder.is_some() && n.dense.is_some() {
            self.recent.push_back((slot, n.seq));
            if self.recent.len() > 2 * cfg.recent_dense + 1024 {
                // Keep the newest entry of each of the `recent_dense` most
                // recently active narratives (amortised O(1) a post).
                let narratives = &self.narratives;
                let mut kept: Vec<(u32, u64)> = self
                    .recent
                    .iter()
                    .rev()
                    .filter(|&&(s, q)| narratives[s as usize].as_ref().is_some_and(|n| n.seq == q))
                    .take(cfg.recent_dense)
                    .copied()
                    .collect();
                kept.reverse();
                self.recent = kept.into();
            }
        }
        let n = self.narratives[slot as usize].as_mut().expect("live");
        // Copies reinforce nothing: the centroid moves with distinct texts only.
        if redundant || vec.is_empty() {
            return;
        }
        let old: Vec<u64> = n.centroid.iter().map(|x| x.0).collect();
        let mut merged: Vec<(u64, f32)> = Vec::with_capacity(n.centroid.len() + vec.len());
        let (mut i, mut j) = (0, 0);
        while i < n.centroid.len() || j < vec.len() {
            let a = n.centroid.get(i);
            let b = vec.get(j);
            match (a, b) {
                (Some(x), Some(y)) if x.0 == y.0 => {
                    merged.push((x.0, x.1 + y.1));
                    i += 1;
                    j += 1;
                }
                (Some(x), Some(y)) if x.0 < y.0 => {
                    merged.push(*x);
                    i += 1;
                }
                (Some(x), None) => {
                    merged.push(*x);
                    i += 1;
                }
                (_, Some(y)) => {
                    merged.push(*y);
                    j += 1;
                }
                (None, None) => unreachable!(),
            }
        }
        if merged.len() > cfg.centroid_terms {
            merged.select_nth_unstable_by(cfg.centroid_terms, |a, b| b.1.total_cmp(&a.1));
            merged.truncate(cfg.centroid_terms);
            merged.sort_unstable_by_key(|x| x.0);
        }
        n.norm = merged.iter().map(|x| x.1 * x.1).sum::<f32>().sqrt();
        n.centroid = merged;
        // Inverted index: the difference between old and new term sets.
        let new: Vec<u64> = n.centroid.iter().map(|x| x.0).collect();
        let (mut i, mut j) = (0, 0);
        while i < old.len() || j < new.len() {
            match (old.get(i), new.get(j)) {
                (Some(a), Some(b)) if a == b => {
                    i += 1;
                    j += 1;
                }
                (Some(a), Some(b)) if a < b => {
                    remove_posting(&mut self.postings, *a, slot);
                    i += 1;
                }
                (Some(a), None) => {
                    remove_posting(&mut self.postings, *a, slot);
                    i += 1;
                }
                (_, Some(b)) => {
                    self.postings.entry(*b).or_default().push(slot);
                    j += 1;
                }
                (None, None) => unreachable!(),
            }
        }
    }

    /// Expires families and narratives, prunes the vocabulary and the archive.
    fn sweep(&mut self) {
        let now = self.watermark;
        self.last_sweep = now;
        self.families.expire(now);
        let mut cutoff_all = i64::MIN;
        if self.live > self.cfg.max_live {
            let mut lasts: Vec<i64> = self.narratives.iter().flatten().map(|n| n.last).collect();
            let excess = self.live - self.cfg.max_live * 9 / 10;
            lasts.select_nth_unstable(excess);
            cutoff_all = lasts[excess];
        }
        for slot in 0..self.narratives.len() {
            let Some(n) = &self.narratives[slot] else {
                continue;
            };
            let horizon = if n.posts < self.cfg.small_posts {
                self.cfg.small_horizon_ms
            } else {
                self.cfg.horizon_ms
            };
            if n.last >= now - horizon && n.last >= cutoff_all {
                continue;
            }
            let mut n = self.narratives[slot].take().expect("checked");
            for &(term, _) in &n.centroid {
                remove_posting(&mut self.postings, term, slot as u32);
            }
            self.free.push(slot as u32);
            self.live -= 1;
            if n.posts >= self.cfg.archive_min_posts {
                n.centroid = Vec::new();
                n.dense = None;
                self.archive.push(n);
            }
        }
        if self.archive.len() > self.cfg.archive_cap {
            self.archive
                .sort_by(|a, b| b.posts.cmp(&a.posts).then(a.id.cmp(&b.id)));
            self.archive.truncate(self.cfg.archive_cap);
        }
        if self.vocab.len() > self.cfg.max_terms {
            let mut floor = 1;
            while self.vocab.len() > self.cfg.max_terms * 8 / 10 {
                self.vocab.retain(|_, df| *df > floor);
                floor *= 2;
            }
        }
    }

    /// Lines that are boilerplate for at least `min_sources` sources (at
    /// least two): several channels or accounts signing their posts alike,
    /// possibly one operator behind them (DISARM T0092 Build Network).
    /// Coordination evidence, not narratives; most sources first.
    pub fn shared_boilerplate(&self, min_sources: usize) -> Vec<SharedBoilerplate> {
        self.learner.shared(min_sources)
    }

    /// `post`'s text as the engine reads it now: without the lines that
    /// are boilerplate for its source and without platform templates (for
    /// the claim matcher and anything else that should not see
    /// signatures). The post itself is not changed.
    pub fn clean_text<'a>(&self, post: &'a Post) -> std::borrow::Cow<'a, str> {
        let mut edges = Vec::new();
        let mut mask = 0u8;
        if self.cfg.boilerplate.enabled {
            boilerplate::edges_of(post, &mut edges);
            let source = boilerplate::source_key(post);
            let current = self.learner.current();
            for (i, l) in edges.iter().enumerate() {
                if current.contains(&boilerplate::pair_key(source, l.key)) {
                    mask |= 1 << i;
                }
            }
        }
        boilerplate::clean(&post.text, &edges, mask).0
    }

    /// Sizes of the state.
    pub fn stats(&self) -> EngineStats {
        EngineStats {
            posts: self.posts,
            live_families: self.families.live_families(),
            exemplars: self.families.live_exemplars(),
            lsh_buckets: self.families.buckets(),
            max_bucket: self.families.max_bucket_len(),
            live_narratives: self.live,
            archived_narratives: self.archive.len(),
            vocabulary: self.vocab.len(),
            postings: self.postings.values().map(Vec::len).sum(),
            lsh_steps: self.families.steps,
            verifications: self.families.verifications,
            boilerplate_sources: self.learner.sources(),
            boilerplate_lines: self.learner.boilerplate_lines(),
            boilerplate_posts: self.boilerplate_posts,
            mostly_boilerplate: self.mostly_boilerplate,
            reread: self.reread,
            embedded_posts: self.embedded_posts,
            encoded_texts: self.encoded_texts,
            encoded_unused: self.encoded_unused,
        }
    }

    /// The narratives with posts in `[since, until)` (hour resolution;
    /// `None` is open), live and archived, highest priority first.
    ///
    /// With `until` (default: just after the latest event time) and the
    /// growth window `W` (default 6 h):
    /// - `posts`: posts in the range;
    /// - `recent_posts`: posts in `[until − W, until)`, `previous_posts`:
    ///   posts in `[until − 2W, until − W)`;
    /// - `growth = (recent_posts + 1) / (previous_posts + 1)`: the
    ///   **fastest-growing** narratives are those with the highest growth;
    /// - `priority = posts + max(0, recent_posts − previous_posts)`: size
    ///   plus the net growth of the last window, so a narrative that doubled
    ///   in the last six hours ranks above a larger flat one of the same
    ///   size-plus-growth.
    ///
    /// Sorted by priority, then growth (both descending), then first seen
    /// and id (ascending).
    pub fn narratives(
        &self,
        since: Option<EventTime>,
        until: Option<EventTime>,
    ) -> Vec<NarrativeSummary> {
        let until_ms = until.map_or(self.watermark.saturating_add(1), |t| t.0);
        let since_ms = since.map_or(i64::MIN, |t| t.0);
        let mut out: Vec<NarrativeSummary> = self
            .narratives
            .iter()
            .flatten()
            .map(|n| (n, true))
            .chain(self.archive.iter().map(|n| (n, false)))
            .filter_map(|(n, live)| self.summarise(n, live, since_ms, until_ms))
            .collect();
        out.sort_by(|a, b| {
            b.priority
                .total_cmp(&a.priority)
                .then(b.growth.total_cmp(&a.growth))
                .then(a.first_seen.cmp(&b.first_seen))
                .then(a.id.cmp(&b.id))
        });
        out
    }

    /// The label terms of a narrative: terms in at least two of its posts
    /// (or its only post), scored `share · ln(share / background)` where
    /// `share` is the fraction of its posts containing the term and
    /// `background` the term's document frequency over all distinct texts.
    fn label(&self, n: &Narrative, k: usize) -> Vec<LabelTerm> {
        self.label_of(&n.terms, n.posts, k)
    }

    /// [`label`](Self::label) of the terms counted in `terms` over `posts` posts.
    fn label_of(&self, terms: &TopK, posts: u64, k: usize) -> Vec<LabelTerm> {
        let min = 2u32.min(posts as u32).max(1);
        let posts = posts.max(1) as f64;
        let docs = self.docs as f64 + 1.0;
        let mut terms: Vec<LabelTerm> = terms
            .entries()
            .filter(|e| e.count >= min && !e.key.contains('/') && !e.key.contains('.'))
            .map(|e| {
                let share = (f64::from(e.count - e.error) / posts).min(1.0);
                let df = self.vocab.get(&e.hash).map_or(1, |&df| df) as f64;
                let background = ((df + 1.0) / docs).min(1.0);
                LabelTerm {
                    term: e.key.to_string(),
                    share,
                    score: share * (share / background).ln(),
                }
            })
            .collect();
        terms.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.term.cmp(&b.term)));
        terms.truncate(k);
        terms
    }

    fn summarise(
        &self,
        n: &Narrative,
        live: bool,
        since: i64,
        until: i64,
    ) -> Option<NarrativeSummary> {
        if n.last < since || n.first >= until {
            return None;
        }
        let (from_h, to_h) = (hour_of(since.max(i64::MIN / 2)), hour_of(until - 1) + 1);
        let posts = if since <= n.first && until > n.last {
            n.posts
        } else {
            n.series.iter().map(|s| s.count(from_h, to_h)).sum()
        };
        if posts == 0 {
            return None;
        }
        let w = self.cfg.growth_window_ms;
        let span = |a: i64, b: i64| -> u64 {
            let (ha, hb) = (hour_of(a - 1) + 1, hour_of(b - 1) + 1);
            n.series.iter().map(|s| s.count(ha, hb)).sum()
        };
        let recent = span(until - w, until);
        let previous = span(until - 2 * w, until - w);
        let growth = (recent as f64 + 1.0) / (previous as f64 + 1.0);
        let priority = posts as f64 + recent.saturating_sub(previous) as f64;
        let mut terms = self.label(n, PROFILE_TERMS);
        let profile: Vec<(String, f64)> = terms.iter().map(|t| (t.term.clone(), t.score)).collect();
        terms.truncate(LABEL_TERMS);
        let mut platforms = BTreeMap::new();
        let mut languages = BTreeMap::new();
        for s in &n.series {
            *platforms.entry(s.platform.to_string()).or_insert(0) += s.total;
            *languages.entry(s.lang.to_string()).or_insert(0) += s.total;
        }
        let timeline = n
            .series
            .iter()
            .map(|s| TimelineSeries {
                platform: s.platform.to_string(),
                lang: s.lang.to_string(),
                total: s.total,
                bins: s
                    .bins
                    .iter()
                    .filter(|b| b.0 >= from_h && b.0 < to_h)
                    .map(|b| TimelineBin {
                        hour: EventTime(b.0 * HOUR_MS),
                        posts: u64::from(b.1),
                    })
                    .collect(),
            })
            .collect();
        let k = self.cfg.top_k;
        let mut title = title::title(&n.rep_text, &n.centroid, n.norm);
        if title.is_empty() {
            title = terms
                .iter()
                .take(4)
                .map(|t| t.term.as_str())
                .collect::<Vec<_>>()
                .join(" ");
        }
        let by_language = self.languages_of(n, &languages, &title, &terms);
        Some(NarrativeSummary {
            id: n.id,
            title,
            label: NarrativeLabel {
                text: terms
                    .iter()
                    .map(|t| t.term.as_str())
                    .collect::<Vec<_>>()
                    .join(" · "),
                terms,
                representative: n.rep.as_ref().map(|r| r.1.clone()),
            },
            profile,
            first_seen: EventTime(n.first),
            last_seen: EventTime(n.last),
            status: if live { "live" } else { "expired" }.to_string(),
            posts,
            total_posts: n.posts,
            recent_posts: recent,
            previous_posts: previous,
            growth,
            priority,
            families: n.families,
            top_families: n
                .top_families
                .top(k)
                .into_iter()
                .map(|c| FamilyCount {
                    id: c.key.parse().unwrap_or(0),
                    posts: c.posts,
                })
                .collect(),
            platforms,
            languages,
            by_language,
            timeline,
            actors: n.actors.top(k),
            links: n.links.top(k),
            domains: n.domains.top(k),
            hashtags: n.hashtags.top(k),
            networks: n.networks.top(k),
        })
    }
}

impl NarrativeEngine {
    /// Per language, most posts first: posts over the narrative's life,
    /// and a label and title from that language's own posts. A narrative
    /// in one language gets its own title and label; a language beyond
    /// the first [`MAX_LANGUAGES`] seen gets counts only.
    fn languages_of(
        &self,
        n: &Narrative,
        languages: &BTreeMap<String, u64>,
        title: &str,
        terms: &[LabelTerm],
    ) -> Vec<LanguageView> {
        let join = |t: &[LabelTerm]| {
            t.iter()
                .map(|t| t.term.as_str())
                .collect::<Vec<_>>()
                .join(" · ")
        };
        let mut out: Vec<LanguageView> = languages
            .iter()
            .map(|(lang, &posts)| {
                let stats = n.langs.iter().find(|l| &*l.lang == lang.as_str());
                let (title, label) = match stats {
                    _ if languages.len() == 1 => (title.to_string(), join(terms)),
                    None => (String::new(), String::new()),
                    Some(l) => {
                        let t = self.label_of(&l.terms, l.posts, LABEL_TERMS);
                        let mut centroid: Vec<(u64, f32)> = l
                            .terms
                            .entries()
                            .map(|e| (e.hash, e.count as f32))
                            .collect();
                        centroid.sort_unstable_by_key(|x| x.0);
                        let norm = centroid.iter().map(|x| x.1 * x.1).sum::<f32>().sqrt();
                        let text = l.rep.as_ref().map_or("", |r| &*r.1);
                        let mut title = title::title(text, &centroid, norm);
                        if title.is_empty() {
                            title = t
                                .iter()
                                .take(4)
                                .map(|t| t.term.as_str())
                                .collect::<Vec<_>>()
                                .join(" ");
                        }
                        (title, join(&t))
                    }
                };
                LanguageView {
                    lang: lang.clone(),
                    posts,
                    title,
                    label,
                }
            })
            .collect();
        out.sort_by(|a, b| b.posts.cmp(&a.posts).then(a.lang.cmp(&b.lang)));
        out
    }
}

fn remove_posting(postings: &mut AHashMap<u64, Vec<u32>>, term: u64, slot: u32) {
    if let Some(list) = postings.get_mut(&term) {
        if let Some(i) = list.iter().position(|&s| s == slot) {
            list.swap_remove(i);
        }
        if list.is_empty() {
            postings.remove(&term);
        }
    }
}
