//! Claim retrieval: which known (fact-checked) claims does a post repeat?
//!
//! Three stages, each usable on its own:
//!
//! 1. **Candidates** by BM25 ([`index::ClaimIndex`], in memory): claims are
//!    analysed by their language's tantivy analyser (stop words, stemming),
//!    the post is analysed once per language the library holds, and a
//!    transliterated key field lets Cyrillic and Latin spellings of names
//!    meet.
//! 2. **Dense candidates and semantic re-ranking** (with a model): the post
//!    and every claim's text and title embedded by a sentence encoder
//!    ([`pharos_embed`], multilingual-e5-small by default); the claims
//!    nearest the post join BM25's candidates (so a post finds a fact-check
//!    in another language with no word in common), and each candidate gets
//!    its cosines. Claims are embedded once and cached beside the index.
//! 3. **Fusion** ([`fusion::Fusion`]): a logistic model over the BM25,
//!    term-overlap and cosine features orders the candidates; a second one
//!    ([`fusion::Confidence`]), over the features of the post and the claim
//!    alone, gives a match its confidence (0–1), the same whatever else the
//!    library holds; a match at or above [`DEFAULT_THRESHOLD`] is reported
//!    as one.
//!
//! Without a model the matcher runs stages 1 and 3 (BM25 orders; the
//! lexical confidence model).
//! Accuracy and speed: docs/claim-retrieval.md.

pub mod centre;
pub mod eval;
pub mod fusion;
pub mod index;
mod semantic;
pub mod store;
pub mod text;

use crate::Claim;
use crate::library::Library;
use fusion::{Confidence, FULL, Features, Fusion};
use index::{Candidate, ClaimIndex};
use pharos_analysis::similarity::translit::detect_language;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Confidence at or above which a candidate is reported as a match of a
/// post (and becomes a signal for the assessment). Chosen on the CheckThat!
/// dev queries: see docs/claim-retrieval.md for its precision and recall.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// BM25 candidates scored per post before fusion (re-ranking 100 rather
/// than 50 raised the CheckThat! dev MAP@5 from 0.9472 to 0.9535).
pub const DEFAULT_CANDIDATES: usize = 100;

/// Claims the dense stage adds to each post's candidates, with a model:
/// the nearest to the post by the encoder's vectors (text or title),
/// whether or not BM25 found them. This is how a post meets a fact-check in
/// another language with which it shares no word.
pub const DENSE_CANDIDATES: usize = 20;

/// BM25 candidates kept per post without a model (BM25 orders them; more
/// would change nothing in the first 50).
pub const LEXICAL_CANDIDATES: usize = 50;

/// The encoder gate for a stream ([`Matcher::gate`], off by default): with
/// a model, a post is embedded only when the lexical ranking model's
/// probability for its best BM25 candidate ([`Matcher::gate_score`]) reaches
/// the gate; below it the post keeps its lexical result (BM25 order, lexical
/// confidence), as
/// without a model. Most posts of a stream repeat no known claim and their
/// best lexical candidate is weak: the encoder, which costs ~15x the BM25
/// stage, then runs only where re-ranking could still make a match. This
/// value was chosen on the CheckThat! dev tweets (train as a check): the
/// highest that left dev MAP@5 unchanged (0.9535) and lost no dev match at
/// [`DEFAULT_THRESHOLD`]. On the test tweets it costs MAP@5 0.9218 → 0.9168
/// (below the 0.92 goal), which is why it is not the default; see
/// docs/claim-retrieval.md, "The encoder gate".
pub const STREAM_GATE: f64 = 0.075;

/// New posts added to the running language means ([`centre`]) after which
/// the means are written beside the library.
pub const SAVE_EVERY: u64 = 256;

/// One claim matched by a post.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// The claim's id in the library.
    pub claim_id: String,
    /// The ranking score, higher is better: the fused log-odds with a
    /// model, the BM25 score without.
    pub score: f64,
    /// The calibrated probability that the post repeats the claim (0–1).
    pub confidence: f64,
}

/// What can go wrong building a matcher.
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    #[error("claim index {path}: {message}")]
    Index { path: PathBuf, message: String },
    #[error("sentence-embedding model: {0}")]
    Model(String),
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
}

/// A candidate with its features (for evaluation and fitting).
#[derive(Debug, Clone)]
pub struct Scored {
    pub ord: u32,
    pub bm25: f32,
    pub features: Features,
    /// Whether the semantic features (6–9) are filled: false without a
    /// model, for posts below the encoder gate, and when embedding failed.
    pub semantic: bool,
    /// Whether the post and the claim are in different languages (both
    /// known): their word-level features then say nothing, and the
    /// candidate is ranked by the cross-language fusion.
    pub cross: bool,
    /// Whether the cosines (features 6–9) are those of the language-centred
    /// vectors ([`centre`]): the candidate is then ranked by the centred
    /// cross-language fusion.
    pub centred: bool,
}

/// What the sentence encoder was asked to do since the matcher was built
/// (or since [`Matcher::reset_encoder_stats`]): posts that had candidates
/// and a model to re-rank them, those the gate kept from the encoder, and
/// the distinct texts embedded (posts sharing a text are embedded once).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EncoderStats {
    pub posts: usize,
    pub gated_out: usize,
    pub texts_embedded: usize,
}

/// Which posts of a batch go to the encoder: `posts[i]` is embedded as
/// `texts[slot[i]]` (each distinct text once).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EncoderPlan<'a> {
    pub posts: Vec<usize>,
    pub slot: Vec<usize>,
    pub texts: Vec<&'a str>,
    /// Posts with candidates left out by the gate.
    pub gated_out: usize,
}

/// Matches posts against the claims of a library.
pub struct Matcher {
    ids: Vec<String>,
    index: ClaimIndex,
    index_dir: Option<PathBuf>,
    semantic: Option<semantic::Semantic>,
    lexical: Fusion,
    full: Fusion,
    cross: Fusion,
    cross_centred: Fusion,
    /// The confidence of a match (the models above only order candidates).
    confidence: Confidence,
    langs: ClaimLangs,
    /// Running means of post vectors per language ([`centre`]).
    means: std::sync::Mutex<centre::LangMeans>,
    /// The mean claim text vector of each claim language (index as in
    /// `langs.codes`) with enough claims, and of the whole library.
    claim_means: (Vec<Option<Vec<f32>>>, Option<Vec<f32>>),
    /// Whether candidates in another language than the post's are ranked on
    /// language-centred cosines (with the multilingual model, once the
    /// post's language has [`centre::MIN_POSTS`] posts). On by default.
    pub centring: bool,
    /// Centres every candidate, same language or not, and ranks it by the
    /// centred fusion: for fitting that fusion on English queries only.
    #[doc(hidden)]
    pub centre_all: bool,
    /// With centring, whether the dense stage also searches with the
    /// centred post vector (claims in other languages only). On by default.
    pub centred_dense: bool,
    /// BM25 candidates considered per post.
    pub candidates: usize,
    /// Claims the dense stage adds per post, with the multilingual model
    /// ([`DENSE_CANDIDATES`]; 0 turns the stage off).
    pub dense: usize,
    /// Whether the sentence encoder sees the author's name from an
    /// embedded-tweet signature (BM25 always does).
    pub encoder_author: bool,
    /// The encoder gate on the best lexical confidence: 0 (the default)
    /// embeds every post that has a candidate; [`STREAM_GATE`] is the value
    /// chosen on dev for a stream.
    pub gate: f64,
    stats: [std::sync::atomic::AtomicUsize; 3],
}

impl Drop for Matcher {
    fn drop(&mut self) {
        let unsaved = self.means.get_mut().map(|m| m.unsaved).unwrap_or(0);
        if unsaved > 0
            && let Err(e) = self.save_lang_means()
        {
            tracing::warn!("{e}");
        }
    }
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher")
            .field("claims", &self.ids.len())
            .field("index_dir", &self.index_dir)
            .field("semantic", &self.has_model())
            .finish()
    }
}

/// The text of a retweet without its leading `RT name:` (cleaned posts
/// have lost the `@`); other texts unchanged.
fn strip_retweet(t: &str) -> &str {
    let s = t.trim_start();
    if let Some(rest) = s.strip_prefix("RT ")
        && let Some(colon) = rest.find(':')
        && colon <= 60
        && rest[..colon].split_whitespace().count() <= 4
        && !rest[colon + 1..].trim().is_empty()
    {
        return rest[colon + 1..].trim_start();
    }
    t
}

/// The claims' languages (ISO 639-1: a claim's own, normalised, else the
/// detected one): a table of codes and each claim's index in it, 0 for
/// unknown.
#[derive(Debug, Default)]
struct ClaimLangs {
    codes: Vec<String>,
    of: Vec<u16>,
}

impl ClaimLangs {
    fn new(claims: &[Claim]) -> Self {
        let mut t = ClaimLangs {
            codes: vec![String::new()],
            of: Vec::with_capacity(claims.len()),
        };
        for c in claims {
            let code = c
                .lang
                .as_deref()
                .and_then(pharos_core::lang::normalize_lang)
                .or_else(|| detect_language(&c.text).map(str::to_string))
                .unwrap_or_default();
            let i = match t.codes.iter().position(|x| *x == code) {
                Some(i) => i,
                None => {
                    t.codes.push(code);
                    t.codes.len() - 1
                }
            };
            t.of.push(i.min(u16::MAX as usize) as u16);
        }
        t
    }

    /// The claim's language, "" when unknown.
    fn of(&self, ord: u32) -> &str {
        &self.codes[self.of[ord as usize] as usize]
    }
}

fn overlap(a: &[u64], b: &[u64]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

impl Matcher {
    /// The matcher of a library. Its BM25 index is built in memory; `DIR/index/`
    /// keeps the cached claim vectors when a model is added.
    pub fn open(library: &Library) -> Result<Self, MatchError> {
        Self::with_index_dir(library.claims(), &library.dir().join("index"))
    }

    /// A matcher over `claims` with nothing kept on disk (tests, benchmarks,
    /// one-off evaluations).
    pub fn in_memory(claims: &[Claim]) -> Result<Self, MatchError> {
        Ok(Self::assemble(claims, ClaimIndex::build(claims), None))
    }

    /// A matcher over `claims` whose cached claim vectors (with a model)
    /// live under `index_dir`; the BM25 index is built in memory.
    pub fn with_index_dir(claims: &[Claim], index_dir: &Path) -> Result<Self, MatchError> {
        ClaimIndex::remove_legacy(&index_dir.join("bm25"));
        Ok(Self::assemble(
            claims,
            ClaimIndex::build(claims),
            Some(index_dir.to_path_buf()),
        ))
    }

    fn assemble(claims: &[Claim], index: ClaimIndex, index_dir: Option<PathBuf>) -> Self {
        Matcher {
            ids: claims.iter().map(|c| c.id.clone()).collect(),
            index,
            index_dir,
            semantic: None,
            lexical: Fusion::lexical(),
            full: Fusion::full(),
            cross: Fusion::cross_e5(),
            cross_centred: Fusion::cross_centred_e5(),
            confidence: Confidence::new(false),
            langs: ClaimLangs::new(claims),
            means: std::sync::Mutex::new(centre::LangMeans::new("", 0)),
            claim_means: (Vec::new(), None),
            centring: true,
            centre_all: false,
            centred_dense: true,
            candidates: DEFAULT_CANDIDATES,
            dense: DENSE_CANDIDATES,
            encoder_author: true,
            gate: 0.0,
            stats: Default::default(),
        }
    }

    /// Adds semantic re-ranking with the sentence-embedding model in
    /// `model_dir` (a local Hugging Face BERT directory). The library's
    /// claims are embedded once; with an index directory the vectors are
    /// cached there and reused while the library and model are unchanged.
    pub fn with_model(
        mut self,
        model_dir: &Path,
        claims: &[Claim],
        generation: &str,
    ) -> Result<Self, MatchError> {
        self.set_model(model_dir, claims, generation)?;
        Ok(self)
    }

    /// [`Matcher::with_model`] in place: on an error the matcher is left
    /// as it was (BM25 and the lexical model).
    pub fn set_model(
        &mut self,
        model_dir: &Path,
        claims: &[Claim],
        generation: &str,
    ) -> Result<(), MatchError> {
        let cache = self.index_dir.as_ref().map(|d| d.join("embeddings"));
        let sem = semantic::Semantic::load(model_dir, claims, cache.as_deref(), generation)?;
        self.install(sem);
        Ok(())
    }

    /// Uses `sem` for semantic re-ranking: its fusion, the claims' language
    /// means, and the post means kept for its model beside the library.
    fn install(&mut self, sem: semantic::Semantic) {
        self.full = Self::fusion_for(&sem);
        self.confidence = Confidence::new(sem.is_e5());
        self.claim_means = sem.text_means(
            &self.langs.of,
            self.langs.codes.len(),
            centre::MIN_POSTS as usize,
        );
        let key = sem.means_key();
        let means = match self.means_path() {
            Some(p) => centre::LangMeans::load(&p, &key, sem.dim()),
            None => centre::LangMeans::new(&key, sem.dim()),
        };
        *self.means.lock().unwrap_or_else(|e| e.into_inner()) = means;
        self.semantic = Some(sem);
    }

    fn means_path(&self) -> Option<PathBuf> {
        self.index_dir.as_ref().map(|d| d.join(centre::FILE))
    }

    /// Forgets the post means of every language (evaluation: means from
    /// the posts of one protocol only). Kept beside the library at the next
    /// save.
    pub fn reset_lang_means(&self) {
        let mut m = self.means.lock().unwrap_or_else(|e| e.into_inner());
        m.langs.clear();
        m.unsaved += 1;
    }

    /// Posts seen so far per language by the running means ([`centre`]).
    pub fn lang_mean_posts(&self) -> Vec<(String, u64)> {
        let m = self.means.lock().unwrap_or_else(|e| e.into_inner());
        m.langs.iter().map(|(l, r)| (l.clone(), r.n)).collect()
    }

    /// Writes the running post means beside the library now (they are also
    /// written every [`SAVE_EVERY`] new posts and when the matcher is
    /// dropped). Nothing to do without an index directory or a model.
    pub fn save_lang_means(&self) -> Result<(), MatchError> {
        let (Some(path), true) = (self.means_path(), self.has_model()) else {
            return Ok(());
        };
        let mut m = self.means.lock().unwrap_or_else(|e| e.into_inner());
        m.save(&path).map_err(|e| MatchError::Io {
            path,
            message: e.to_string(),
        })
    }

    /// The full fusion fitted for the model's family.
    fn fusion_for(sem: &semantic::Semantic) -> Fusion {
        if sem.is_e5() {
            Fusion::full_e5()
        } else {
            Fusion::full()
        }
    }

    /// Keeps the vector of every post embedded from now on and reuses it
    /// for the same text, in this matcher and in those made from it by
    /// [`Matcher::with_vectors_of`] (evaluations that match the same posts
    /// against many libraries). Memory grows with the distinct texts.
    #[doc(hidden)]
    pub fn remember_post_vectors(&mut self) {
        if let Some(sem) = &mut self.semantic {
            sem.remember_posts();
        }
    }

    /// Semantic re-ranking whose claim vectors are those of `from`'s claims:
    /// claim `i` of this matcher gets the vectors of claim `source(i)` of
    /// `from`. For benchmarks on large synthetic libraries of near-duplicate
    /// claims, whose own embedding would take hours on two cores.
    #[doc(hidden)]
    pub fn with_vectors_of(
        mut self,
        model_dir: &Path,
        from: &Matcher,
        source: &dyn Fn(usize) -> usize,
    ) -> Result<Self, MatchError> {
        let sem = from
            .semantic
            .as_ref()
            .ok_or_else(|| MatchError::Model("the source matcher has no model".into()))?;
        let sem = sem.remapped(model_dir, self.ids.len(), source)?;
        self.install(sem);
        Ok(self)
    }

    /// The kernel the sentence encoder's dense layers run on (`amx`,
    /// `avx512-bf16` or `portable`), when semantic re-ranking is on.
    pub fn encoder_kernel(&self) -> Option<&'static str> {
        self.semantic.as_ref().map(|s| s.kernel())
    }

    /// Whether semantic re-ranking is on.
    pub fn has_model(&self) -> bool {
        self.semantic.is_some()
    }

    /// Number of claims.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when the library is empty.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The id of the claim at position `ord`.
    pub fn claim_id(&self, ord: u32) -> &str {
        &self.ids[ord as usize]
    }

    /// Field weights of the BM25 query (for tuning).
    pub fn set_field_weights(&mut self, w: index::FieldWeights) {
        self.index.weights = w;
    }

    /// The lexical ranking model: what the encoder gate reads
    /// ([`Matcher::gate_score`]; without a model BM25 orders and
    /// [`fusion::Confidence`] gives the confidence).
    pub fn lexical_model(&self) -> &Fusion {
        &self.lexical
    }

    /// Replaces the fusion models (for fitting and ablations).
    pub fn set_fusion(&mut self, lexical: Fusion, full: Fusion) {
        self.lexical = lexical;
        self.full = full;
    }

    /// The models that give a match its confidence.
    pub fn confidence_models(&self) -> &Confidence {
        &self.confidence
    }

    /// Replaces the confidence models (for fitting).
    pub fn set_confidence(&mut self, confidence: Confidence) {
        self.confidence = confidence;
    }

    /// Replaces the cross-language fusion (for fitting).
    pub fn set_cross_fusion(&mut self, cross: Fusion) {
        self.cross = cross;
    }

    /// Replaces the centred cross-language fusion (for fitting).
    pub fn set_cross_centred_fusion(&mut self, cross: Fusion) {
        self.cross_centred = cross;
    }

    /// The `k` best claims for `text`, best first, each with its calibrated
    /// confidence. `lang` (ISO 639-1), when known, is the post's language;
    /// claims in every language are searched either way.
    pub fn match_text(&self, text: &str, lang: Option<&str>, k: usize) -> Vec<Match> {
        self.match_batch(&[(text, lang)], k)
            .pop()
            .unwrap_or_default()
    }

    /// [`Matcher::match_text`] for many posts at once (the embeddings are
    /// computed in batches: much faster per post).
    pub fn match_batch(&self, posts: &[(&str, Option<&str>)], k: usize) -> Vec<Vec<Match>> {
        let semantic = self.has_model();
        // Without a model the order is BM25's, and the confidence of the
        // first k depends on their own features only: 50 candidates do.
        let n = if semantic {
            self.candidates
        } else {
            self.candidates.min(LEXICAL_CANDIDATES)
        };
        let scored = self.score_batch(posts, n.max(k));
        scored
            .into_iter()
            .map(|cands| self.rank(cands, semantic, k))
            .collect()
    }

    /// Orders scored candidates by the fused score and keeps `k`, each with
    /// its confidence ([`Confidence`]: the post and the claim alone).
    pub fn rank(&self, cands: Vec<Scored>, semantic: bool, k: usize) -> Vec<Match> {
        // Without a model, candidates keep their BM25 order (the lexical
        // fusion ranked slightly worse on the dev queries: 0.894 vs 0.898
        // MAP@5). Posts the gate kept from the encoder (or whose embedding
        // failed) are ranked as without a model. The confidence of the k
        // kept comes from the confidence models (`Confidence`).
        let semantic = semantic && cands.first().is_some_and(|c| c.semantic);
        let conf = &self.confidence;
        let models = |c: &Scored| match (semantic, c.cross, c.centred) {
            (false, _, _) => (&self.lexical, &conf.lexical),
            (true, _, true) => (&self.cross_centred, &conf.cross_centred),
            (true, false, false) => (&self.full, &conf.full),
            (true, true, false) => (&self.cross, &conf.cross),
        };
        // (score, index in cands): ids are cloned, and confidences worked
        // out, for the k kept only.
        let mut scored: Vec<(f64, usize)> = cands
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let score = if semantic {
                    models(c).0.logit(&c.features) as f64
                } else {
                    c.bm25 as f64
                };
                (score, i)
            })
            .collect();
        let id = |i: usize| &self.ids[cands[i].ord as usize];
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| id(a.1).cmp(id(b.1))));
        scored
            .into_iter()
            .take(k)
            .map(|(score, i)| {
                let c = &cands[i];
                Match {
                    claim_id: id(i).clone(),
                    score,
                    confidence: models(c).1.confidence(&c.features) as f64,
                }
            })
            .collect()
    }

    /// Candidates of each post with their features: BM25's `n` best and,
    /// with a model, the dense stage's [`Matcher::dense`] nearest claims,
    /// with the semantic features filled (posts below the encoder gate
    /// keep BM25's candidates only).
    pub fn score_batch(&self, posts: &[(&str, Option<&str>)], n: usize) -> Vec<Vec<Scored>> {
        let cleaned: Vec<String> = posts.par_iter().map(|(t, _)| text::clean_post(t)).collect();
        let enc: Option<Vec<String>> = (!self.encoder_author)
            .then(|| posts.iter().map(|(t, _)| self.encoder_text(t)).collect());
        let langs: Vec<Option<&str>> = posts.iter().map(|(_, l)| *l).collect();
        self.gather(
            &cleaned,
            enc.as_deref().unwrap_or(&cleaned),
            &langs,
            n,
            None,
            self.gate,
        )
    }

    /// [`Matcher::score_batch`] with no gate, each post `raws[i]` against
    /// the library without the claims `exclude[i]` (evaluation and fitting:
    /// what a post whose claim is not in the library looks like).
    pub fn score_excluding(
        &self,
        raws: &[&str],
        n: usize,
        exclude: &[Vec<u32>],
    ) -> Vec<Vec<Scored>> {
        let cleaned: Vec<String> = raws.par_iter().map(|t| text::clean_post(t)).collect();
        let enc: Vec<String> = raws.iter().map(|t| self.encoder_text(t)).collect();
        self.gather(
            &cleaned,
            &enc,
            &vec![None; raws.len()],
            n,
            Some(exclude),
            0.0,
        )
    }

    fn gather(
        &self,
        cleaned: &[String],
        enc: &[String],
        langs: &[Option<&str>],
        n: usize,
        exclude: Option<&[Vec<u32>]>,
        gate: f64,
    ) -> Vec<Vec<Scored>> {
        let excluded = |i: usize| -> &[u32] { exclude.map_or(&[], |e| e[i].as_slice()) };
        type TermSets = Vec<Box<[u64]>>;
        let (mut out, terms): (Vec<Vec<Scored>>, Vec<TermSets>) = cleaned
            .par_iter()
            .enumerate()
            .map(|(i, t)| self.lexical_with_terms(t, n, excluded(i)))
            .unzip();
        let Some(sem) = &self.semantic else {
            return out;
        };
        let plan = self.encoder_plan(enc, &out, gate);
        self.count(&plan);
        let Some(vecs) = sem.embed(&plan) else {
            return out;
        };
        // The post means as they were before this batch (a batch is never
        // centred on itself), for the languages of its posts.
        let centring = self.centring && sem.is_e5();
        let post_langs: Vec<Option<String>> = plan
            .posts
            .iter()
            .map(|&i| {
                langs[i]
                    .and_then(pharos_core::lang::normalize_lang)
                    .or_else(|| detect_language(&cleaned[i]).map(str::to_string))
            })
            .collect();
        let means: std::collections::HashMap<&str, Vec<f32>> = if centring {
            let m = self.means.lock().unwrap_or_else(|e| e.into_inner());
            post_langs
                .iter()
                .flatten()
                .filter_map(|l| m.mean(l).map(|v| (l.as_str(), v)))
                .collect()
        } else {
            Default::default()
        };
        // The dense stage again with each centred post vector (posts whose
        // language has a mean): claims in other languages nearest by what
        // the post says rather than by its language.
        let mut centred_slot: Vec<Option<usize>> = vec![None; vecs.len()];
        let mut centred_q: Vec<Vec<f32>> = Vec::new();
        if self.centred_dense {
            for (&w, lang) in plan.slot.iter().zip(&post_langs) {
                if centred_slot[w].is_none()
                    && let Some(m) = lang.as_deref().and_then(|l| means.get(l))
                {
                    centred_slot[w] = Some(centred_q.len());
                    centred_q.push(centre::centred(&vecs[w], m));
                }
            }
        }
        // One search for the raw and the centred vectors: the claims'
        // vectors are read once.
        let mut near = sem.nearest(&[vecs.as_slice(), &centred_q].concat(), self.dense_k());
        let near_centred = near.split_off(vecs.len());
        for ((&i, &w), lang) in plan.posts.iter().zip(&plan.slot).zip(&post_langs) {
            let list = &mut out[i];
            for &ord in &near[w] {
                if !list.iter().any(|c| c.ord == ord) && !excluded(i).contains(&ord) {
                    list.push(self.dense_only(ord, &terms[i]));
                }
            }
            if let (Some(k), Some(lang)) = (centred_slot[w], lang) {
                for &ord in &near_centred[k] {
                    let l = self.langs.of(ord);
                    if !l.is_empty()
                        && l != lang
                        && !list.iter().any(|c| c.ord == ord)
                        && !excluded(i).contains(&ord)
                    {
                        list.push(self.dense_only(ord, &terms[i]));
                    }
                }
            }
            // The post's language: as given, else detected once here.
            if let Some(lang) = lang {
                for c in list.iter_mut() {
                    let l = self.langs.of(c.ord);
                    c.cross = self.centre_all || (!l.is_empty() && l != lang);
                }
            }
            let post_mean = lang.as_deref().and_then(|l| means.get(l));
            sem.fill_features(
                &vecs[w],
                list,
                post_mean.map(|m| (m.as_slice(), |o: u32| self.claim_mean(o))),
            );
        }
        if sem.is_e5() {
            self.learn_means(&plan, &post_langs, &vecs);
        }
        out
    }

    /// The mean a claim is centred on: its language's, else the library's.
    fn claim_mean(&self, ord: u32) -> Option<&[f32]> {
        let code = self.langs.of[ord as usize] as usize;
        self.claim_means
            .0
            .get(code)
            .and_then(|m| m.as_deref())
            .or(self.claim_means.1.as_deref())
    }

    /// Adds each embedded text of a known language to its language's
    /// running mean, and writes the means every [`SAVE_EVERY`] posts.
    fn learn_means(
        &self,
        plan: &EncoderPlan<'_>,
        post_langs: &[Option<String>],
        vecs: &[Vec<f32>],
    ) {
        let mut seen = vec![false; vecs.len()];
        let mut m = self.means.lock().unwrap_or_else(|e| e.into_inner());
        for (&w, lang) in plan.slot.iter().zip(post_langs) {
            if let Some(l) = lang
                && !std::mem::replace(&mut seen[w], true)
            {
                m.add(l, &vecs[w]);
            }
        }
        if m.unsaved >= SAVE_EVERY
            && let Some(path) = self.means_path()
            && let Err(e) = m.save(&path)
        {
            tracing::warn!("cannot keep the language means in {}: {e}", path.display());
        }
    }

    /// Claims the dense stage adds per post: [`Matcher::dense`] with the
    /// multilingual model; 0 with all-MiniLM-L6-v2, which keeps the
    /// configuration its fusion was fitted and measured in (English only).
    fn dense_k(&self) -> usize {
        match &self.semantic {
            Some(sem) if sem.is_e5() => self.dense,
            _ => 0,
        }
    }

    /// A candidate found by the dense stage only: no BM25 score or rank
    /// (features 0, 1, 2 and 5 at zero), its term overlap with the post.
    fn dense_only(&self, ord: u32, query_terms: &[Box<[u64]>]) -> Scored {
        let q = &query_terms[self.index.claim_slot(ord)];
        let c = self.index.claim_terms(ord);
        let common = overlap(q, c) as f32;
        let mut f = [0f32; FULL];
        f[3] = common / c.len().max(1) as f32;
        f[4] = common / q.len().max(1) as f32;
        Scored {
            ord,
            bm25: 0.0,
            features: f,
            semantic: false,
            cross: false,
            centred: false,
        }
    }

    /// The lexical ranking model's probability for the best candidate (what
    /// the encoder gate compares with [`Matcher::gate`]; it reads
    /// library-relative features, so it is not a match's confidence); 0
    /// without candidates.
    pub fn gate_score(&self, cands: &[Scored]) -> f64 {
        cands
            .iter()
            .map(|c| self.lexical.logit(&c.features))
            .fold(None, |m: Option<f32>, z| Some(m.map_or(z, |m| m.max(z))))
            .map_or(0.0, |z| fusion::sigmoid(z) as f64)
    }

    /// Which posts the encoder embeds, and which distinct texts: posts with
    /// candidates whose [`Matcher::gate_score`] reaches `gate`, each
    /// distinct text once (whitespace-normalised, a retweet's leading
    /// `RT name:` dropped, so a retweet shares its original's vector).
    pub fn encoder_plan<'a>(
        &self,
        texts: &'a [String],
        cands: &[Vec<Scored>],
        gate: f64,
    ) -> EncoderPlan<'a> {
        let mut plan = EncoderPlan::default();
        let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        // With the dense stage a post without BM25 candidates can still
        // find its claims by meaning (when no gate applies).
        let dense = self.dense_k() > 0 && gate <= 0.0;
        for (i, (t, c)) in texts.iter().zip(cands).enumerate() {
            if t.trim().is_empty() || (c.is_empty() && !dense) {
                continue;
            }
            if gate > 0.0 && self.gate_score(c) < gate {
                plan.gated_out += 1;
                continue;
            }
            let t = strip_retweet(t);
            let key = t.split_whitespace().collect::<Vec<_>>().join(" ");
            let slot = *seen.entry(key).or_insert_with(|| {
                plan.texts.push(t);
                plan.texts.len() - 1
            });
            plan.posts.push(i);
            plan.slot.push(slot);
        }
        plan
    }

    fn count(&self, plan: &EncoderPlan<'_>) {
        use std::sync::atomic::Ordering::Relaxed;
        self.stats[0].fetch_add(plan.posts.len() + plan.gated_out, Relaxed);
        self.stats[1].fetch_add(plan.gated_out, Relaxed);
        self.stats[2].fetch_add(plan.texts.len(), Relaxed);
    }

    /// See [`EncoderStats`].
    pub fn encoder_stats(&self) -> EncoderStats {
        use std::sync::atomic::Ordering::Relaxed;
        EncoderStats {
            posts: self.stats[0].load(Relaxed),
            gated_out: self.stats[1].load(Relaxed),
            texts_embedded: self.stats[2].load(Relaxed),
        }
    }

    /// Sets the [`EncoderStats`] counters back to zero.
    pub fn reset_encoder_stats(&self) {
        for s in &self.stats {
            s.store(0, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The text of a post the sentence encoder embeds.
    pub fn encoder_text(&self, raw: &str) -> String {
        if self.encoder_author {
            text::clean_post(raw)
        } else {
            text::clean_post_body(raw)
        }
    }

    /// BM25 candidates with their lexical features.
    pub fn lexical_candidates(&self, cleaned: &str, n: usize) -> Vec<Scored> {
        self.lexical_with_terms(cleaned, n, &[]).0
    }

    /// BM25 candidates with their lexical features but the claims in
    /// `exclude`, and the post's term sets (one per analyser slot).
    fn lexical_with_terms(
        &self,
        cleaned: &str,
        n: usize,
        exclude: &[u32],
    ) -> (Vec<Scored>, Vec<Box<[u64]>>) {
        let (hits, query_terms) = self.index.search_with_terms(cleaned, n + exclude.len());
        let hits: Vec<Candidate> = hits
            .into_iter()
            .filter(|h| !exclude.contains(&h.ord))
            .take(n)
            .collect();
        let max = hits.first().map(|h| h.score).unwrap_or(1.0).max(1e-6);
        let mut out = Vec::with_capacity(hits.len());
        for (rank, h) in hits.iter().enumerate() {
            let q = &query_terms[self.index.claim_slot(h.ord)];
            let c = self.index.claim_terms(h.ord);
            let common = overlap(q, c) as f32;
            let next = hits.get(rank + 1).map(|x| x.score).unwrap_or(0.0);
            let mut f = [0f32; FULL];
            f[0] = h.score / max;
            f[1] = (1.0 + h.score).ln();
            f[2] = 1.0 / (rank as f32 + 1.0);
            f[3] = common / c.len().max(1) as f32;
            f[4] = common / q.len().max(1) as f32;
            f[5] = (h.score - next) / max;
            out.push(Scored {
                ord: h.ord,
                bm25: h.score,
                features: f,
                semantic: false,
                cross: false,
                centred: false,
            });
        }
        (out, query_terms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Vec<Claim> {
        let mut texts: Vec<String> = [
            "Drinking bleach cures the coronavirus infection",
            "The moon landing in 1969 was filmed in a studio in Nevada",
            "Bill Gates wants to implant microchips with vaccines",
            "Wind turbines cause cancer in people living nearby",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        // Claims that share a common word or two with a post of no claim
        // (as a large library has many).
        for (i, topic) in ["taxes", "schools", "trains", "bread", "phones", "rivers"]
            .iter()
            .enumerate()
        {
            texts.push(format!(
                "People in the park say {topic} were banned in city {i}"
            ));
            texts.push(format!("Weather today: {topic} are rationed by order {i}"));
        }
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| Claim {
                id: format!("c{i}"),
                text: t.to_string(),
                lang: Some("en".into()),
                ..Default::default()
            })
            .collect()
    }

    #[test]
    fn retweet_prefix_is_dropped_for_the_encoder() {
        assert_eq!(
            strip_retweet("RT tomasz nowak: Internet wolny"),
            "Internet wolny"
        );
        assert_eq!(strip_retweet("RT: nothing"), "RT: nothing");
        assert_eq!(
            strip_retweet("Note: RT is not a prefix"),
            "Note: RT is not a prefix"
        );
    }

    #[test]
    fn gate_keeps_weak_posts_from_the_encoder() {
        let m = Matcher::in_memory(&claims()).expect("index");
        let posts = [
            "zzkq wvvx plorf",                                            // no candidate
            "Drinking bleach cures the coronavirus infection, they say!", // repeats c0
            "RT @someone: Drinking bleach cures the coronavirus infection, they say!",
            "Lovely weather in Leeds today, people out in the park", // one common word
        ];
        let cleaned: Vec<String> = posts.iter().map(|p| text::clean_post(p)).collect();
        let cands: Vec<Vec<Scored>> = cleaned
            .iter()
            .map(|c| m.lexical_candidates(c, DEFAULT_CANDIDATES))
            .collect();
        assert!(cands[0].is_empty());
        assert!(
            !cands[3].is_empty(),
            "the weak post should have a candidate"
        );
        assert!(
            m.gate_score(&cands[1]) >= STREAM_GATE,
            "{}",
            m.gate_score(&cands[1])
        );
        assert!(
            m.gate_score(&cands[3]) < STREAM_GATE,
            "{}",
            m.gate_score(&cands[3])
        );
        let plan = m.encoder_plan(&cleaned, &cands, STREAM_GATE);
        // The repeat and its retweet go to the encoder, as one text.
        assert_eq!(plan.posts, vec![1, 2]);
        assert_eq!(plan.slot, vec![0, 0]);
        assert_eq!(plan.texts.len(), 1);
        assert_eq!(plan.gated_out, 1);
        // Gate 0: every post with a candidate is embedded (without a model
        // there is no dense stage to find candidates for the others).
        let all = m.encoder_plan(&cleaned, &cands, 0.0);
        assert_eq!(all.posts, vec![1, 2, 3]);
        assert_eq!(all.texts.len(), 2);
    }

    /// The dense stage on the tiny e5 model the embed crate ships (random
    /// weights: its cosines mean nothing, but a text's vector is its own).
    #[test]
    fn the_dense_stage_adds_the_nearest_claims_and_marks_other_languages() {
        let model =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../embed/tests/fixtures/tiny-e5.bin");
        let cl = claims();
        let m = Matcher::in_memory(&cl)
            .expect("index")
            .with_model(&model, &cl, "test")
            .expect("tiny model");
        // No word in common with any claim: BM25 has nothing, the dense
        // stage gives the nearest claims, with no BM25 score.
        let none = m.score_batch(&[("zzkq wvvx plorf", Some("en"))], DEFAULT_CANDIDATES);
        assert_eq!(none[0].len(), DENSE_CANDIDATES.min(cl.len()));
        assert!(
            none[0]
                .iter()
                .all(|c| c.semantic && c.bm25 == 0.0 && !c.cross)
        );
        // A post that is a claim's text: that claim's cosine is 1 and first.
        let same = m.score_batch(&[(cl[1].text.as_str(), Some("en"))], DEFAULT_CANDIDATES);
        let c1 = same[0].iter().find(|c| c.ord == 1).expect("claim 1");
        assert!(c1.features[6] > 0.999, "{:?}", c1.features);
        assert_eq!(c1.features[9], 1.0);
        // Dense candidates are deduplicated against BM25's.
        let mut ords: Vec<u32> = same[0].iter().map(|c| c.ord).collect();
        ords.sort_unstable();
        ords.dedup();
        assert_eq!(ords.len(), same[0].len());
        // A Russian post against English claims: every candidate is ranked
        // by the cross-language fusion; detected when no language is given.
        for lang in [Some("ru"), None] {
            let ru = m.score_batch(
                &[(
                    "Это неправда: правительство не запрещало продажу хлеба, об этом сообщили в министерстве",
                    lang,
                )],
                10,
            );
            assert!(!ru[0].is_empty());
            assert!(ru[0].iter().all(|c| c.cross), "{lang:?}");
        }
        // Claims excluded (evaluation) are left out of the dense stage too.
        let all: Vec<u32> = (0..cl.len() as u32).filter(|&o| o != 5).collect();
        let ex = m.score_excluding(&["zzkq wvvx plorf"], DEFAULT_CANDIDATES, &[all]);
        assert_eq!(ex[0].iter().map(|c| c.ord).collect::<Vec<_>>(), vec![5]);
        // Matching ranks them and gives confidences in 0–1.
        let out = m.match_text("zzkq wvvx plorf", Some("en"), 3);
        assert_eq!(out.len(), 3);
        assert!(out.iter().all(|x| (0.0..=1.0).contains(&x.confidence)));
    }

    fn tiny_e5() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../embed/tests/fixtures/tiny-e5.bin")
    }

    /// Distinct Russian posts about nothing in the library.
    fn russian_posts(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                format!("Сегодня в городе {i} снова говорят о погоде и ценах на хлеб, выпуск {i}")
            })
            .collect()
    }

    const RU_POST: &str =
        "Говорят, что ветряные турбины вызывают рак у людей, которые живут рядом с ними";

    /// Features 6–9 and the flags of each candidate, by claim.
    fn sem_features(m: &Matcher, post: &str, lang: &str) -> Vec<(u32, [f32; 4], bool, bool)> {
        let mut v: Vec<_> = m.score_batch(&[(post, Some(lang))], DEFAULT_CANDIDATES)[0]
            .iter()
            .map(|c| {
                let f = &c.features;
                (c.ord, [f[6], f[7], f[8], f[9]], c.cross, c.centred)
            })
            .collect();
        v.sort_by_key(|x| x.0);
        v
    }

    /// Centring: only candidates in another language than the post's, only
    /// once the post's language has its mean, never from the batch itself.
    #[test]
    fn centring_applies_across_languages_only_and_from_earlier_posts() {
        let cl = claims();
        let m = Matcher::in_memory(&cl)
            .expect("index")
            .with_model(&tiny_e5(), &cl, "test")
            .expect("tiny model");
        let raw_en = sem_features(&m, &cl[3].text, "en");
        let raw_ru = sem_features(&m, RU_POST, "ru");
        assert!(raw_ru.iter().all(|x| x.2 && !x.3), "{raw_ru:?}");
        // 19 Russian posts (the one above and 18 more): not enough for a
        // mean, still raw.
        let ru = russian_posts(centre::MIN_POSTS as usize);
        let batch: Vec<(&str, Option<&str>)> =
            ru[..18].iter().map(|t| (t.as_str(), Some("ru"))).collect();
        let first = m.score_batch(&batch, DEFAULT_CANDIDATES);
        assert!(first.iter().flatten().all(|c| c.cross && !c.centred));
        assert_eq!(sem_features(&m, RU_POST, "ru"), raw_ru);
        let posts = m.lang_mean_posts();
        assert!(posts.contains(&("ru".to_string(), 20)), "{posts:?}");
        // The post above was the 20th: now Russian posts are centred.
        let centred = sem_features(&m, RU_POST, "ru");
        assert_eq!(centred.len(), raw_ru.len());
        assert!(centred.iter().all(|x| x.2 && x.3), "{centred:?}");
        assert!(
            centred
                .iter()
                .zip(&raw_ru)
                .any(|(c, r)| (c.1[0] - r.1[0]).abs() > 1e-3),
            "centring changed no cosine"
        );
        // Ranked by the centred fusion.
        let cands = m
            .score_batch(&[(RU_POST, Some("ru"))], DEFAULT_CANDIDATES)
            .remove(0);
        let best = cands
            .iter()
            .map(|c| (m.cross_centred.logit(&c.features), c.ord))
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap();
        let ranked = m.rank(cands, true, 3);
        assert_eq!(ranked[0].claim_id, m.claim_id(best.1));
        assert!((ranked[0].score - best.0 as f64).abs() < 1e-6);
        // An English post against English claims: nothing centred, the same
        // features as before any Russian post.
        assert_eq!(sem_features(&m, &cl[3].text, "en"), raw_en);
        assert!(raw_en.iter().all(|x| !x.2 && !x.3));
        // Centring off: the raw cosines again.
        let mut m = m;
        m.centring = false;
        assert_eq!(sem_features(&m, RU_POST, "ru"), raw_ru);
    }

    /// The running means are written beside the library and read back by
    /// the next matcher of the same model, which then matches exactly as
    /// the first did; another model's means are not used.
    #[test]
    fn language_means_are_kept_beside_the_library_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let cl = claims();
        let open = || {
            Matcher::with_index_dir(&cl, dir.path())
                .expect("index")
                .with_model(&tiny_e5(), &cl, "test")
                .expect("tiny model")
        };
        let m = open();
        let ru = russian_posts(25);
        let batch: Vec<(&str, Option<&str>)> =
            ru.iter().map(|t| (t.as_str(), Some("ru"))).collect();
        m.score_batch(&batch, DEFAULT_CANDIDATES);
        assert_eq!(m.lang_mean_posts(), vec![("ru".to_string(), 25)]);
        m.save_lang_means().expect("saved");
        let kept = m.means.lock().unwrap().clone();
        let path = dir.path().join(centre::FILE);
        assert!(path.is_file());
        let before = sem_features(&m, RU_POST, "ru");
        assert!(before.iter().all(|x| x.3));
        // A second process opening the library: the same means, the same
        // answer.
        let again = open();
        assert_eq!(*again.means.lock().unwrap(), kept);
        assert_eq!(sem_features(&again, RU_POST, "ru"), before);
        // Both now have 26 Russian posts, written when dropped.
        drop(m);
        drop(again);
        assert_eq!(open().lang_mean_posts(), vec![("ru".to_string(), 26)]);
        // Means of another model, or a damaged file: not used, no panic.
        let other = centre::LangMeans::load(&path, "another model", kept.dim);
        assert_eq!(
            centre::LangMeans::load(&path, &kept.model, kept.dim)
                .langs
                .len(),
            1
        );
        assert!(other.langs.is_empty());
        std::fs::write(&path, b"{not json").unwrap();
        let fresh = open();
        assert!(fresh.lang_mean_posts().is_empty());
        assert!(sem_features(&fresh, RU_POST, "ru").iter().all(|x| !x.3));
    }

    /// With the model (PHAROS_EMBED_MODEL): the encoder embeds the repeat
    /// once and neither the post without candidates nor the weak one.
    #[test]
    fn gate_counts_texts_embedded_with_a_model() {
        let Some(model) = std::env::var_os("PHAROS_EMBED_MODEL") else {
            eprintln!("PHAROS_EMBED_MODEL not set: skipped");
            return;
        };
        let cl = claims();
        let mut m = Matcher::in_memory(&cl)
            .expect("index")
            .with_model(Path::new(&model), &cl, "test")
            .expect("model");
        let posts = [
            ("zzkq wvvx plorf", Some("en")),
            (
                "Drinking bleach cures the coronavirus infection, they say!",
                Some("en"),
            ),
            (
                "Lovely weather in Leeds today, people out in the park",
                Some("en"),
            ),
        ];
        m.gate = STREAM_GATE;
        let out = m.match_batch(&posts, 3);
        let st = m.encoder_stats();
        assert_eq!(st.texts_embedded, 1, "{st:?}");
        assert_eq!(st.gated_out, 1, "{st:?}");
        assert_eq!(out[1][0].claim_id, "c0");
        assert!(out[1][0].confidence >= DEFAULT_THRESHOLD, "{:?}", out[1]);
        assert!(out[0].is_empty());
        // Gate 0: the weak post is embedded too, and with the dense stage
        // (the multilingual model) so is the post without BM25 candidates
        // (the dense stage gives it some, none a match).
        m.gate = 0.0;
        m.reset_encoder_stats();
        let out = m.match_batch(&posts, 3);
        if m.dense_k() > 0 {
            assert_eq!(m.encoder_stats().texts_embedded, 3);
            assert!(!out[0].is_empty());
            assert!(out[0][0].confidence < DEFAULT_THRESHOLD, "{:?}", out[0]);
        } else {
            assert_eq!(m.encoder_stats().texts_embedded, 2);
            assert!(out[0].is_empty());
        }
    }
}
