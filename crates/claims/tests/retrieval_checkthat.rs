//! CheckThat! 2021 Task 2A English (real data): MAP@5 on the 202 test
//! tweets, computed as the lab's scorer does, for BM25 alone, the lexical
//! fusion and, with a model, dense candidates, semantic re-ranking and the
//! full fusion: the default model, multilingual-e5-small
//! (`PHAROS_E5_MODEL`), and all-MiniLM-L6-v2 (`PHAROS_EMBED_MODEL`); and
//! the cross-lingual set (the 199 dev tweets translated into seven
//! languages, `tests/fixtures/crosslingual`) with the default model. The
//! fusions were fitted on the train queries only. The figures asserted are
//! those in docs/claim-retrieval.md (each floor just under the measured one).
//!
//! `.ci/fetch-model` and `.ci/fetch-model e5` print the model paths:
//! `PHAROS_EMBED_MODEL=… PHAROS_E5_MODEL=… cargo test --release -p pharos-claims --features real-data --test retrieval_checkthat -- --nocapture`
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

fn model(var: &str, what: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(m) => PathBuf::from(m),
        None => panic!("{var} is not set: point it at the {what} (.ci/fetch-model prints it)"),
    }
}

/// The matcher over the claims with `model`. The claim vectors are cached
/// where the checkthat example keeps them, one directory per model
/// (stamped with the model and library: reused only when both match), so
/// only the first run embeds the 27,650 claim texts and titles.
fn with_model(d: &Data, model: &std::path::Path) -> Matcher {
    let name = model.file_name().unwrap_or_default().to_string_lossy();
    let dir = std::env::temp_dir().join(format!("pharos-checkthat-index-{name}"));
    Matcher::with_index_dir(&d.claims, &dir)
        .expect("index")
        .with_model(model, &d.claims, "checkthat2021")
        .expect("model")
}

/// The claims and the matcher with the default model, built once for the
/// tests that share them (they run in parallel: one embedding of the
/// claims, one writer of the cache).
fn e5() -> &'static (Data, Matcher) {
    static E5: std::sync::OnceLock<(Data, Matcher)> = std::sync::OnceLock::new();
    E5.get_or_init(|| {
        let m = model("PHAROS_E5_MODEL", "multilingual-e5-small file");
        let d = load();
        let matcher = with_model(&d, &m);
        (d, matcher)
    })
}

#[test]
fn default_model_map_at_5_on_test() {
    let (d, matcher) = e5();
    let a = eval::ablation(matcher, &d.test, &d.qrels, 5);
    println!("test MAP@5 (multilingual-e5-small): {a:?}");
    let fused = a.fused.expect("fused");
    // Measured 0.9290 (dev 0.9523) with the e5 fusion fitted on the train queries
    // (dense stage on); MiniLM gives 0.9218, and English must not drop
    // below it (docs/claim-retrieval.md).
    assert!(fused >= 0.925, "fused MAP@5 {fused}");
}

#[test]
fn default_model_finds_english_fact_checks_for_posts_in_seven_languages() {
    let (d, matcher) = e5();
    let dev_path = need("EN_dev_queries.tsv");
    let dev = eval::read_queries(&dev_path).expect("dev queries").queries;
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/crosslingual"
    ));
    let mut all = (0.0, 0.0);
    let mut report = Vec::new();
    for lang in eval::CROSSLINGUAL {
        let q = eval::read_crosslingual(&dir, lang, &dev).expect(lang);
        assert!(q.errors.is_empty(), "{lang}: {:?}", q.errors);
        assert_eq!(q.queries.len(), 199, "{lang}");
        // No language mean yet (a new library): the raw cosines.
        matcher.reset_lang_means();
        let a = eval::ablation(matcher, &q.queries, &d.qrels, 5);
        let fused = a.fused.expect("fused");
        // The language's running mean learnt from the other half of the
        // set (never from the scored posts).
        let centred = eval::map_centred_held_out(matcher, &q.queries, &d.qrels, 5);
        println!("{lang}: {a:?}; centred {centred:.4}");
        report.push((lang, fused, centred));
        all.0 += fused;
        all.1 += centred;
    }
    let n = eval::CROSSLINGUAL.len() as f64;
    let (raw, centred) = (all.0 / n, all.1 / n);
    println!("all seven languages: MAP@5 {raw:.4}, centred {centred:.4}");
    // Measured (docs/claim-retrieval.md): without a mean 0.7674 over all; ru
    // 0.7807, uk 0.7503, pl 0.7816, de 0.8255, fr 0.8044, es 0.8534, ar
    // 0.5762. Centred on means from the other half: 0.8254 (ar 0.7236) —
    // below the 0.85 goal.
    assert!(raw >= 0.76, "cross-lingual MAP@5 {raw:.4}: {report:?}");
    assert!(centred >= 0.815, "centred MAP@5 {centred:.4}: {report:?}");
    for (lang, m, c) in &report {
        assert!(*m >= 0.55, "{lang}: MAP@5 {m:.4}");
        assert!(*c >= 0.7, "{lang}: centred MAP@5 {c:.4}");
    }
}

#[test]
fn minilm_map_at_5_on_test() {
    let model = model("PHAROS_EMBED_MODEL", "all-MiniLM-L6-v2 directory");
    let d = load();
    let mut matcher = with_model(&d, &model);
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
