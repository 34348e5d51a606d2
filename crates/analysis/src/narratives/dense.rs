//! Narratives by meaning: the sentence encoder of `pharos-embed` behind
//! [`TextEmbedder`], the application's default embedder, and the engine's
//! cache of embeddings.
//!
//! The engine stays free of I/O: an application (the `pharos` command
//! line) opens the model and registers it once with
//! [`set_default_embedder`]; every [`NarrativeConfig::default`] — so every
//! entry point that builds narratives: `pharos narratives`, `assess`,
//! `watch`, the server's live path, the bus worker, response scans — then
//! carries it. A library user who registers nothing gets lexical
//! narratives, as before.
//!
//! [`NarrativeConfig::default`]: super::NarrativeConfig

use super::TextEmbedder;
use ahash::AHashMap;
use pharos_embed::{EmbedError, Embedder};
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// Tokens of a post the encoder reads (its lead: a headline and a few
/// sentences). Fewer tokens, less work; a story is told at the start.
pub const DENSE_TOKENS: usize = 128;

/// A `pharos-embed` sentence encoder as a narrative [`TextEmbedder`].
pub struct ModelEmbedder {
    model: Embedder,
    name: String,
    /// Cosines at or below `floor` are no evidence; `floor + span` and
    /// above are full evidence (linear between).
    floor: f32,
    span: f32,
}

impl std::fmt::Debug for ModelEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelEmbedder")
            .field("name", &self.name)
            .field("floor", &self.floor)
            .field("span", &self.span)
            .finish()
    }
}

impl ModelEmbedder {
    /// Opens the model at `path` (a packed e5 file, a directory holding
    /// one, or a Hugging Face BERT directory; see [`Embedder::open`]),
    /// reading at most [`DENSE_TOKENS`] tokens of each text.
    pub fn open(path: impl AsRef<Path>) -> Result<ModelEmbedder, EmbedError> {
        let model = Embedder::open(path)?;
        Ok(ModelEmbedder::new(model))
    }

    /// Wraps an open encoder (its token cap set to [`DENSE_TOKENS`]).
    ///
    /// Evidence runs from 0 at a centred cosine of 0.30 to 1 at 0.50 (the
    /// engine takes the mean of the embedded posts out of every vector
    /// first). With multilingual-e5-small on the cross-lingual stories of
    /// docs/narratives.md ("Across languages"), 99.9 % of pairs of posts
    /// about different claims stay under 0.29 and half the translations of
    /// one post are above 0.59; the scale was chosen there, on that set
    /// (nothing held out), and is used for other models too (not measured).
    pub fn new(mut model: Embedder) -> ModelEmbedder {
        model.set_max_tokens(DENSE_TOKENS);
        let (floor, span) = (0.30, 0.20);
        let name = model
            .model_id()
            .split(':')
            .next()
            .unwrap_or_default()
            .trim_end_matches(".bin")
            .trim_end_matches("-q4")
            .to_string();
        ModelEmbedder {
            model,
            name,
            floor,
            span,
        }
    }

    /// Sets the evidence scale: no evidence at or below cosine `floor`,
    /// full evidence from `floor + span`.
    pub fn with_scale(mut self, floor: f32, span: f32) -> ModelEmbedder {
        self.floor = floor;
        self.span = span.max(1e-3);
        self
    }

    /// The encoder.
    pub fn model(&self) -> &Embedder {
        &self.model
    }
}

impl TextEmbedder for ModelEmbedder {
    fn embed(&self, text: &str, _lang: Option<&str>) -> Option<Vec<f32>> {
        self.model.embed_one(text).ok().filter(|v| !v.is_empty())
    }

    fn embed_batch(&self, texts: &[(&str, Option<&str>)]) -> Vec<Option<Vec<f32>>> {
        let plain: Vec<&str> = texts.iter().map(|t| t.0).collect();
        match self.model.embed(&plain) {
            Ok(v) => v
                .into_iter()
                .map(|v| Some(v).filter(|v| !v.is_empty()))
                .collect(),
            // One bad batch: each text alone, so one text cannot sink the rest.
            Err(_) => texts.iter().map(|(t, l)| self.embed(t, *l)).collect(),
        }
    }

    fn evidence(&self, cosine: f32) -> f32 {
        ((cosine - self.floor) / self.span).clamp(0.0, 1.0)
    }

    fn name(&self) -> &str {
        &self.name
    }
}

type Loader = Box<dyn Fn() -> Option<Arc<dyn TextEmbedder>> + Send + Sync>;

static LOADER: OnceLock<Loader> = OnceLock::new();
static LOADED: OnceLock<Option<Arc<dyn TextEmbedder>>> = OnceLock::new();

/// Registers how the application gets its default embedder: `load` runs
/// once, the first time a [`NarrativeConfig::default`] is made, and its
/// answer (`None`: lexical narratives) is shared by every engine after.
/// The first registration wins; returns false for a later one.
///
/// [`NarrativeConfig::default`]: super::NarrativeConfig
pub fn set_default_embedder(
    load: impl Fn() -> Option<Arc<dyn TextEmbedder>> + Send + Sync + 'static,
) -> bool {
    LOADER.set(Box::new(load)).is_ok()
}

/// The default embedder: what the registered loader gave (loaded on first
/// use), or `None` when nothing is registered.
pub fn default_embedder() -> Option<Arc<dyn TextEmbedder>> {
    let load = LOADER.get()?;
    LOADED.get_or_init(load).clone()
}

/// Embeddings by text hash, in two generations: a hit in the older one
/// moves to the newer; when the newer holds `cap / 2`, the older is
/// dropped and the newer takes its place. Bounded, and a text seen again
/// soon is not encoded again.
pub(crate) struct DenseCache {
    cap: usize,
    new: AHashMap<u64, Arc<[f32]>>,
    old: AHashMap<u64, Arc<[f32]>>,
    pub hits: u64,
}

impl DenseCache {
    pub fn new(cap: usize) -> DenseCache {
        DenseCache {
            cap: cap.max(2),
            new: AHashMap::new(),
            old: AHashMap::new(),
            hits: 0,
        }
    }

    pub fn get(&mut self, key: u64) -> Option<Arc<[f32]>> {
        if let Some(v) = self.new.get(&key) {
            self.hits += 1;
            return Some(v.clone());
        }
        let v = self.old.remove(&key)?;
        self.hits += 1;
        self.put(key, v.clone());
        Some(v)
    }

    pub fn put(&mut self, key: u64, v: Arc<[f32]>) {
        if self.new.len() >= self.cap / 2 {
            self.old = std::mem::take(&mut self.new);
        }
        self.new.insert(key, v);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.new.len() + self.old.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_is_bounded_and_keeps_what_is_used() {
        let mut c = DenseCache::new(8);
        let v: Arc<[f32]> = Arc::from(vec![1.0f32]);
        for k in 0..100u64 {
            c.put(k, v.clone());
            // Key 0 is read every time: it survives every turnover.
            assert!(c.get(0).is_some(), "at {k}");
            assert!(c.len() <= 8);
        }
        assert!(c.get(1).is_none());
        assert!(c.get(99).is_some());
    }
}
