//! CheckThat! 2021 Task 2A English (real data): MAP@5 on the 202 test
//! tweets, computed as the lab's scorer does, for BM25 alone, the lexical
//! fusion and — with the `embeddings` feature and a model directory in
//! `PHAROS_EMBED_MODEL` — semantic re-ranking and the full fusion. The
//! fusion was fitted on the train queries only. The figures asserted are
//! those in docs/claim-retrieval.md (each floor just under the measured one).
//!
//! `cargo test --release -p pharos-claims --features real-data --test retrieval_checkthat -- --nocapture`
//! `PHAROS_EMBED_MODEL=target/models/all-MiniLM-L6-v2 cargo test --release -p pharos-claims --features real-data --test retrieval_checkthat -- --nocapture`
#![cfg(feature = "real-data")]

use pharos_claims::retrieval::Matcher;
use pharos_claims::retrieval::eval;
use std::path::PathBuf;

fn data_dir() -> PathBuf {
    match std::env::var_os("PHAROS_DATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
    }
    .join("claims/checkthat2021")
}

fn need(name: &str) -> PathBuf {
    let p = data_dir().join(name);
    assert!(p.is_file(), "missing real-data file {}", p.display());
    p
}

struct Data {
    claims: Vec<pharos_claims::Claim>,
    test: Vec<(String, String)>,
    qrels: eval::Qrels,
}

fn load() -> Data {
    let claims_path = need("CT2021-Task2A-EN-Verified_Claims.txt");
    let (claims, errors) = eval::read_checkthat_claims(&claims_path)
        .unwrap_or_else(|e| panic!("{}: {e}", claims_path.display()));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(claims.len(), 13_825);
    let test_path = need("EN_test_queries.tsv");
    let test =
        eval::read_queries(&test_path).unwrap_or_else(|e| panic!("{}: {e}", test_path.display()));
    assert!(test.errors.is_empty(), "{:?}", test.errors);
    let qrels_path = need("EN-all_QRELs.txt");
    let (qrels, errors) =
        eval::read_qrels(&qrels_path).unwrap_or_else(|e| panic!("{}: {e}", qrels_path.display()));
    assert!(errors.is_empty(), "{errors:?}");
    Data {
        claims,
        test: test.queries,
        qrels,
    }
}

#[test]
fn bm25_and_lexical_fusion_map_at_5_on_test() {
    let d = load();
    let matcher = Matcher::in_memory(&d.claims).expect("index");
    let a = eval::ablation(&matcher, &d.test, &d.qrels, 5);
    println!("test MAP@5: {a:?}");
    assert_eq!(a.queries, 202);
    // Measured 0.8723 (docs/claim-retrieval.md).
    assert!(a.bm25 >= 0.87, "BM25 MAP@5 {}", a.bm25);
    assert!(
        a.lexical >= a.bm25 - 0.005,
        "lexical fusion {} vs BM25 {}",
        a.lexical,
        a.bm25
    );
}

#[test]
fn semantic_reranking_map_at_5_on_test() {
    let Some(model) = std::env::var_os("PHAROS_EMBED_MODEL") else {
        panic!(
            "PHAROS_EMBED_MODEL is not set: point it at the all-MiniLM-L6-v2 directory (.ci/fetch-model prints it)"
        );
    };
    let d = load();
    // The claim vectors are cached where the checkthat example keeps them
    // (stamped with the model and library: reused only when both match), so
    // only the first run embeds the 27,650 claim texts and titles.
    let dir = std::env::temp_dir().join("pharos-checkthat-index");
    let mut matcher = Matcher::with_index_dir(&d.claims, &dir)
        .expect("index")
        .with_model(&PathBuf::from(model), &d.claims, "checkthat2021")
        .expect("model");
    let a = eval::ablation(&matcher, &d.test, &d.qrels, 5);
    println!("test MAP@5: {a:?}");
    let fused = a.fused.expect("fused");
    // Measured 0.9218 with the fusion fitted on the train queries over 100
    // BM25 candidates (dev 0.9535); BM25 alone 0.8723
    // (docs/claim-retrieval.md).
    assert!(fused >= 0.92, "fused MAP@5 {fused}");
    assert!(
        fused > a.bm25 + 0.03,
        "re-ranking gains little: {fused} vs BM25 {}",
        a.bm25
    );
    // With the stream's encoder gate (chosen on dev, off by default):
    // measured 0.9168, below the 0.92 goal (docs/claim-retrieval.md).
    matcher.gate = pharos_claims::retrieval::STREAM_GATE;
    let g = eval::ablation(&matcher, &d.test, &d.qrels, 5);
    let gated = g.fused.expect("fused");
    println!("test MAP@5 with the encoder gate: {gated:.4}");
    assert!(gated >= 0.91, "gated fused MAP@5 {gated}");
}
