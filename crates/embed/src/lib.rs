//! Sentence embeddings from a local Hugging Face model directory.
//!
//! [`Embedder::open`] reads `config.json`, `tokenizer.json` and
//! `model.safetensors` (and, when present, sentence-transformers'
//! `sentence_bert_config.json` for the maximum sequence length) from a
//! directory: the model is configuration, never a download. It runs a BERT
//! encoder on the CPU with candle, averages the token vectors under the
//! attention mask (mean pooling) and scales the result to unit length, as
//! sentence-transformers does for all-MiniLM-L6-v2 and its kin; the dot
//! product of two embeddings is then their cosine similarity.
//!
//! Speed: one sentence at a time wastes the CPU; [`Embedder::embed`] takes
//! a batch, sorts it by length so that each sub-batch pads little, and
//! returns the vectors in the input order.
//!
//! The encoder is behind the cargo feature `embeddings` (off by default: it
//! builds candle). Without it [`Embedder::open`] returns
//! [`EmbedError::NotBuilt`].

use std::path::PathBuf;

#[cfg(feature = "embeddings")]
mod bert;
#[cfg(feature = "embeddings")]
pub use bert::Embedder;

#[cfg(not(feature = "embeddings"))]
mod stub;
#[cfg(not(feature = "embeddings"))]
pub use stub::Embedder;

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
    #[error(
        "this pharos was built without sentence embeddings: rebuild with `--features embeddings`"
    )]
    NotBuilt,
}

/// Dot product of two unit vectors: their cosine similarity.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
