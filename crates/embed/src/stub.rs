//! Without the `embeddings` feature: the type, and an error saying how to
//! get the real encoder.

use crate::EmbedError;
use std::path::Path;

/// A sentence encoder; this build has none (see [`EmbedError::NotBuilt`]).
#[derive(Debug)]
pub struct Embedder {
    _private: (),
}

impl Embedder {
    /// Always [`EmbedError::NotBuilt`].
    pub fn open(_dir: impl AsRef<Path>) -> Result<Self, EmbedError> {
        Err(EmbedError::NotBuilt)
    }

    /// Unreachable in this build (no `Embedder` can exist).
    pub fn embed<S: AsRef<str>>(&self, _texts: &[S]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Err(EmbedError::NotBuilt)
    }

    /// Unreachable in this build.
    pub fn dim(&self) -> usize {
        0
    }
}
