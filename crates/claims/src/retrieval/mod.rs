//! Claim retrieval: which known (fact-checked) claims does a post repeat?
//!
//! Three stages, each usable on its own:
//!
//! 1. **Candidates** by BM25 ([`index::ClaimIndex`], in memory): claims are
//!    analysed by their language's tantivy analyser (stop words, stemming),
//!    the post is analysed once per language the library holds, and a
//!    transliterated key field lets Cyrillic and Latin spellings of names
//!    meet.
//! 2. **Semantic re-ranking** (cargo feature `embeddings`): the post and each
//!    candidate's text and title embedded by a sentence encoder
//!    ([`pharos_embed`]); claims are embedded once and cached beside the index.
//! 3. **Fusion** ([`fusion::Fusion`]): one logistic model over the BM25,
//!    term-overlap and cosine features gives a calibrated confidence (0–1);
//!    a match at or above [`DEFAULT_THRESHOLD`] is reported as one.
//!
//! Without a model the matcher runs stages 1 and 3 (its lexical model).
//! Accuracy and speed: docs/claim-retrieval.md.

pub mod eval;
pub mod fusion;
pub mod index;
#[cfg(feature = "embeddings")]
mod semantic;
pub mod store;
pub mod text;

use crate::Claim;
use crate::library::Library;
use fusion::{FULL, Features, Fusion};
use index::{Candidate, ClaimIndex};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Confidence at or above which a candidate is reported as a match of a
/// post (and becomes a signal for the assessment). Chosen on the CheckThat!
/// dev queries: see docs/claim-retrieval.md for its precision and recall.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// BM25 candidates scored per post before fusion (re-ranking 100 rather
/// than 50 raised the CheckThat! dev MAP@5 from 0.9472 to 0.9535).
pub const DEFAULT_CANDIDATES: usize = 100;

/// BM25 candidates kept per post without a model (BM25 orders them; more
/// would change nothing in the first 50).
pub const LEXICAL_CANDIDATES: usize = 50;

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
}

/// Matches posts against the claims of a library.
pub struct Matcher {
    ids: Vec<String>,
    index: ClaimIndex,
    index_dir: Option<PathBuf>,
    #[cfg(feature = "embeddings")]
    semantic: Option<semantic::Semantic>,
    lexical: Fusion,
    #[cfg_attr(not(feature = "embeddings"), allow(dead_code))]
    full: Fusion,
    /// BM25 candidates considered per post.
    pub candidates: usize,
    /// Whether the sentence encoder sees the author's name from an
    /// embedded-tweet signature (BM25 always does).
    pub encoder_author: bool,
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
    /// The matcher of a library: its BM25 index under `DIR/index/`, reused
    /// while the library's generation is unchanged and rebuilt otherwise.
    pub fn open(library: &Library) -> Result<Self, MatchError> {
        Self::with_index_dir(
            library.claims(),
            &library.dir().join("index"),
            &library.generation().to_string(),
        )
    }

    /// A matcher over `claims` with its index in memory (tests, benchmarks,
    /// one-off evaluations).
    pub fn in_memory(claims: &[Claim]) -> Result<Self, MatchError> {
        let index = ClaimIndex::build_in_ram(claims).map_err(|e| MatchError::Index {
            path: PathBuf::from("(memory)"),
            message: e,
        })?;
        Ok(Self::assemble(claims, index, None))
    }

    /// A matcher over `claims` whose index lives under `index_dir`: reused
    /// when it was built from the same `generation` of the library, rebuilt
    /// otherwise.
    pub fn with_index_dir(
        claims: &[Claim],
        index_dir: &Path,
        generation: &str,
    ) -> Result<Self, MatchError> {
        let bm25_dir = index_dir.join("bm25");
        let index = ClaimIndex::open_or_build(&bm25_dir, claims, generation).map_err(|e| {
            MatchError::Index {
                path: bm25_dir.clone(),
                message: e,
            }
        })?;
        Ok(Self::assemble(claims, index, Some(index_dir.to_path_buf())))
    }

    fn assemble(claims: &[Claim], index: ClaimIndex, index_dir: Option<PathBuf>) -> Self {
        Matcher {
            ids: claims.iter().map(|c| c.id.clone()).collect(),
            index,
            index_dir,
            #[cfg(feature = "embeddings")]
            semantic: None,
            lexical: Fusion::lexical(),
            full: Fusion::full(),
            candidates: DEFAULT_CANDIDATES,
            encoder_author: true,
        }
    }

    /// Adds semantic re-ranking with the sentence-embedding model in
    /// `model_dir` (a local Hugging Face BERT directory). The library's
    /// claims are embedded once; with an index directory the vectors are
    /// cached there and reused while the library and model are unchanged.
    #[cfg(feature = "embeddings")]
    pub fn with_model(
        mut self,
        model_dir: &Path,
        claims: &[Claim],
        generation: &str,
    ) -> Result<Self, MatchError> {
        let cache = self.index_dir.as_ref().map(|d| d.join("embeddings"));
        self.semantic = Some(semantic::Semantic::load(
            model_dir,
            claims,
            cache.as_deref(),
            generation,
        )?);
        Ok(self)
    }

    /// Semantic re-ranking whose claim vectors are those of `from`'s claims:
    /// claim `i` of this matcher gets the vectors of claim `source(i)` of
    /// `from`. For benchmarks on large synthetic libraries of near-duplicate
    /// claims, whose own embedding would take hours on two cores.
    #[cfg(feature = "embeddings")]
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
        self.semantic = Some(sem.remapped(model_dir, self.ids.len(), source)?);
        Ok(self)
    }

    /// Whether semantic re-ranking is on.
    pub fn has_model(&self) -> bool {
        #[cfg(feature = "embeddings")]
        {
            self.semantic.is_some()
        }
        #[cfg(not(feature = "embeddings"))]
        {
            false
        }
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

    /// The fusion model used without embeddings (confidence only).
    pub fn lexical_model(&self) -> &Fusion {
        &self.lexical
    }

    /// Replaces the fusion models (for fitting and ablations).
    pub fn set_fusion(&mut self, lexical: Fusion, full: Fusion) {
        self.lexical = lexical;
        self.full = full;
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

    /// Orders scored candidates by the fused score and keeps `k`.
    pub fn rank(&self, cands: Vec<Scored>, semantic: bool, k: usize) -> Vec<Match> {
        // Without a model, candidates keep their BM25 order (the lexical
        // fusion ranked slightly worse on the dev queries: 0.894 vs 0.898
        // MAP@5) and the lexical model gives only the confidence.
        let model = if semantic { &self.full } else { &self.lexical };
        // (score, logit, ord): ids are cloned for the k kept only.
        let mut scored: Vec<(f64, f32, u32)> = cands
            .iter()
            .map(|c| {
                let z = model.logit(&c.features);
                let score = if semantic { z as f64 } else { c.bm25 as f64 };
                (score, z, c.ord)
            })
            .collect();
        scored.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then_with(|| self.ids[a.2 as usize].cmp(&self.ids[b.2 as usize]))
        });
        scored
            .into_iter()
            .take(k)
            .map(|(score, z, ord)| Match {
                claim_id: self.ids[ord as usize].clone(),
                score,
                confidence: fusion::sigmoid(z) as f64,
            })
            .collect()
    }

    /// BM25 candidates of each post (`n` each) with their features; the
    /// semantic features are filled when a model is loaded.
    pub fn score_batch(&self, posts: &[(&str, Option<&str>)], n: usize) -> Vec<Vec<Scored>> {
        let cleaned: Vec<String> = posts.par_iter().map(|(t, _)| text::clean_post(t)).collect();
        #[cfg_attr(not(feature = "embeddings"), allow(unused_mut))]
        let mut out: Vec<Vec<Scored>> = cleaned
            .par_iter()
            .map(|t| self.lexical_candidates(t, n))
            .collect();
        #[cfg(feature = "embeddings")]
        if let Some(sem) = &self.semantic {
            let enc: Vec<String> = if self.encoder_author {
                cleaned
            } else {
                posts.iter().map(|(t, _)| self.encoder_text(t)).collect()
            };
            sem.fill(&enc, &mut out);
        }
        out
    }

    /// The text of a post the sentence encoder embeds.
    pub fn encoder_text(&self, raw: &str) -> String {
        if self.encoder_author {
            text::clean_post(raw)
        } else {
            text::clean_post_body(raw)
        }
    }

    /// BM25 candidates with their lexical features; `exclude` drops claims
    /// (evaluation: the same post against a library without its claims).
    pub fn lexical_candidates(&self, cleaned: &str, n: usize) -> Vec<Scored> {
        self.lexical_candidates_excluding(cleaned, n, &[])
    }

    /// See [`Matcher::lexical_candidates`].
    pub fn lexical_candidates_excluding(
        &self,
        cleaned: &str,
        n: usize,
        exclude: &[u32],
    ) -> Vec<Scored> {
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
            });
        }
        out
    }

    /// Fills the semantic features of candidates (no-op without a model);
    /// `texts` are the posts as [`Matcher::encoder_text`] gives them.
    pub fn fill_semantic(&self, texts: &[String], cands: &mut [Vec<Scored>]) {
        #[cfg(feature = "embeddings")]
        if let Some(sem) = &self.semantic {
            sem.fill(texts, cands);
        }
        #[cfg(not(feature = "embeddings"))]
        let _ = (texts, cands);
    }
}
