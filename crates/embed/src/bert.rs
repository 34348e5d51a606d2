//! The sentence encoder: tokenizer, BERT forward pass, pooling, threads.

use crate::EmbedError;
use crate::gemm::{Kernel, default_kernel};
use crate::model::{Bert, Config, Scratch, Tokens};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use tokenizers::{Tokenizer, TruncationParams};

/// Most texts one thread encodes together: enough rows for the dense
/// layers' kernels, few enough that a batch spreads over the cores.
const BATCH: usize = 32;

/// A sentence encoder loaded from a model directory.
pub struct Embedder {
    model: Bert,
    tokenizer: Tokenizer,
    kernel: Kernel,
    dim: usize,
    max_tokens: usize,
    dir: PathBuf,
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
    /// Loads the model in `dir` (on the CPU).
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, EmbedError> {
        let dir = dir.as_ref().to_path_buf();
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
        Ok(Embedder {
            model,
            tokenizer,
            kernel: default_kernel(),
            dim: config.hidden_size,
            max_tokens,
            dir,
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

    /// The kernel the dense layers run: `amx`, `avx512-bf16` or
    /// `portable`. It starts as the fastest this CPU has, or as
    /// `PHAROS_EMBED_KERNEL` says.
    pub fn kernel(&self) -> &'static str {
        self.kernel.name()
    }

    /// Runs the dense layers on the kernel `name` (`amx`, `avx512-bf16`,
    /// `portable`); false, and nothing changed, if this CPU lacks it.
    pub fn set_kernel(&mut self, name: &str) -> bool {
        match Kernel::parse(name).filter(|k| k.available()) {
            Some(k) => {
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

    /// Unit-length embeddings of `texts`, in their order.
    ///
    /// The texts are sorted by length and cut into batches of similar
    /// length, which the threads of the current rayon pool encode in
    /// parallel; a text's vector does not depend on its batch.
    pub fn embed<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].as_ref().len());
        // At least four batches a thread when there are enough texts.
        let per = texts
            .len()
            .div_ceil(4 * rayon::current_num_threads())
            .clamp(1, BATCH);
        let batches: Vec<Vec<Vec<f32>>> = order
            .par_chunks(per)
            .map_init(
                || Scratch::new(self.kernel),
                |scratch, chunk| {
                    let batch: Vec<&str> = chunk.iter().map(|&i| texts[i].as_ref()).collect();
                    self.embed_batch(&batch, scratch)
                },
            )
            .collect::<Result<_, _>>()?;
        let mut out = vec![Vec::new(); texts.len()];
        for (chunk, vectors) in order.chunks(per).zip(batches) {
            for (&i, v) in chunk.iter().zip(vectors) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    /// One embedding.
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        Ok(self
            .embed_batch(&[text], &mut Scratch::new(self.kernel))?
            .pop()
            .unwrap_or_default())
    }

    fn embed_batch(
        &self,
        texts: &[&str],
        scratch: &mut Scratch,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Inference(e.to_string()))?;
        let tokens: Vec<Tokens<'_>> = encodings
            .iter()
            .map(|e| Tokens {
                ids: e.get_ids(),
                types: e.get_type_ids(),
            })
            .collect();
        self.model
            .embed(&tokens, scratch)
            .map_err(EmbedError::Inference)
    }
}
