//! Claim matching on a stream: posts that repeat no claim must not be
//! matched, however small the library, and posts that repeat one must
//! still be found (issue 15). The confidence of a post and a claim depends
//! on them alone, never on what else the library holds.
//!
//! The last test runs with the default model (`PHAROS_E5_MODEL`, the
//! second suite: `cargo test -p pharos-claims --features real-data --test
//! stream_claims`); the others need nothing but the repository.

mod support;

use pharos_claims::Claim;
use pharos_claims::retrieval::{Matcher, eval};
use std::path::{Path, PathBuf};

fn tiny_e5() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../embed/tests/fixtures/tiny-e5.bin")
}

/// Claims on other topics than the scenario's, in its languages.
fn distractors(n: usize) -> Vec<Claim> {
    let topics = [
        (
            "en",
            "A celebrity secretly bought an island with charity money",
        ),
        ("de", "Ein Minister hat sein Diplom im Internet gekauft"),
        (
            "ru",
            "Учёные доказали, что вода из-под крана лечит простуду",
        ),
        ("uk", "Вчені довели, що кава подовжує життя на десять років"),
        (
            "fr",
            "Le gouvernement va interdire les chats dans les appartements",
        ),
        (
            "pl",
            "Rząd zakaże sprzedaży chleba w niedziele od przyszłego roku",
        ),
    ];
    (0..n)
        .map(|i| {
            let (lang, t) = topics[i % topics.len()];
            Claim {
                id: format!("d{i}"),
                text: format!("{t} ({i})"),
                lang: Some(lang.into()),
                ..Default::default()
            }
        })
        .collect()
}

/// Every candidate's confidence, by claim id, for each post.
fn confidences(m: &Matcher, posts: &[(&str, Option<&str>)]) -> Vec<Vec<(String, f64)>> {
    let semantic = m.has_model();
    m.score_batch(posts, 200)
        .into_iter()
        .map(|c| {
            m.rank(c, semantic, usize::MAX)
                .into_iter()
                .map(|x| (x.claim_id, x.confidence))
                .collect()
        })
        .collect()
}

/// The same post and claim get the same confidence in the scenario's
/// 14-claim library and in that library padded with 200 claims on other
/// topics, with and without a model (the tiny test model: its vectors
/// mean nothing, but they are the same in both libraries).
#[test]
fn a_confidence_does_not_depend_on_what_else_the_library_holds() {
    let dir = tempfile::tempdir().unwrap();
    let s = support::sim::simulate(3_000, 7, dir.path()).expect("scenario");
    let small = s.claims.clone();
    let mut large = small.clone();
    large.extend(distractors(200));
    // Posts that repeat a claim and posts that do not, in every language.
    let posts: Vec<(&str, Option<&str>)> = s
        .posts
        .iter()
        .filter(|p| !p.claims.is_empty())
        .take(10)
        .chain(s.posts.iter().filter(|p| p.claims.is_empty()).take(10))
        .map(|p| (p.text.as_str(), p.lang.as_deref()))
        .collect();
    for model in [false, true] {
        let open = |claims: &[Claim]| {
            let m = Matcher::in_memory(claims).expect("index");
            if model {
                m.with_model(&tiny_e5(), claims, "test")
                    .expect("tiny model")
            } else {
                m
            }
        };
        let (a, b) = (open(&small), open(&large));
        let (ca, cb) = (confidences(&a, &posts), confidences(&b, &posts));
        let mut compared = 0;
        for (x, y) in ca.iter().zip(&cb) {
            for (id, c) in x {
                if let Some((_, d)) = y.iter().find(|(j, _)| j == id) {
                    assert!((c - d).abs() < 1e-6, "model {model}: {id}: {c} vs {d}");
                    compared += 1;
                }
            }
        }
        assert!(
            compared >= 20,
            "model {model}: only {compared} pairs compared"
        );
    }
}

/// The posts of a scenario that repeat a claim, and every `every`-th of the
/// others: the organic posts are many and alike, a sample of them says
/// what all of them do at a fraction of the cost (a debug test run).
fn repeats_and_sample(posts: Vec<eval::LabelledPost>, every: usize) -> Vec<eval::LabelledPost> {
    let mut others = 0usize;
    posts
        .into_iter()
        .filter(|p| {
            !p.claims.is_empty() || {
                others += 1;
                others.is_multiple_of(every)
            }
        })
        .collect()
}

/// Without a model, against the demo scenario's own 14 claims: the posts
/// that repeat no claim are (almost) never matched, those that repeat one
/// are found. The 20,000-post scenario's repeats and every fourth other
/// post (debug build: 3.2 s, against 6.8 s for all of them). Bounds: see
/// docs/claim-retrieval.md, "Confidence and library size".
#[test]
fn organic_posts_do_not_match_a_small_library_and_repeats_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let s = support::sim::simulate(20_000, 7, dir.path()).expect("scenario");
    let posts = repeats_and_sample(s.posts, 4);
    let m = Matcher::in_memory(&s.claims).expect("index");
    let score = eval::score_stream(&m, &posts, 3, &[0.5])[0];
    println!("{score:?}");
    // Measured on all 20,000 posts: 91 repeats, all found, no other post
    // matched, every match right.
    assert!(score.positives >= 50, "{score:?}");
    assert!(score.negatives >= 4_000, "{score:?}");
    assert!(score.false_match_rate() <= 0.002, "{score:?}");
    assert!(score.recall() >= 0.8, "{score:?}");
    assert!(score.precision() >= 0.9, "{score:?}");
}

/// With the default model (second suite), the demo scenario (50,000 posts,
/// seed 7) against its 14 claims, matched as `pharos assess` matches a
/// store (the stream's encoder gate, 3 claims a post, threshold 0.5): the
/// posts that repeat a claim and every 25th other post (~2,000; debug
/// build: 11.7 s, against 24.4 s for every fourth). Before the confidence
/// was made independent of the library, 11,540 posts of the demo were
/// matched, most of them wrongly. Bounds: see docs/claim-retrieval.md,
/// "Confidence and library size".
#[cfg(feature = "real-data")]
#[test]
fn with_the_default_model_the_demo_scenario_s_organic_posts_do_not_match() {
    let Some(model) = std::env::var_os("PHAROS_E5_MODEL") else {
        panic!(
            "PHAROS_E5_MODEL is not set: point it at the multilingual-e5-small file (.ci/fetch-model e5 prints it)"
        );
    };
    let dir = tempfile::tempdir().unwrap();
    let s = support::sim::simulate(50_000, 7, dir.path()).expect("scenario");
    let posts = repeats_and_sample(s.posts, 25);
    let mut m = Matcher::in_memory(&s.claims)
        .expect("index")
        .with_model(Path::new(&model), &s.claims, "test")
        .expect("model");
    m.gate = pharos_claims::retrieval::STREAM_GATE;
    let score = eval::score_stream(&m, &posts, 3, &[0.5])[0];
    println!("{score:?}");
    // Measured on all 50,000 posts (examples/sim_claims.rs, release): 171
    // posts repeat a claim, all found; 15 of 49,829 others matched
    // (0.03 %), precision 0.939, with e5's confidence moved to a stream's
    // odds (fusion::E5_STREAM_SHIFT); before the shift 176 (0.35 %),
    // precision 0.581; before the confidence was the post's and the
    // claim's own, 11,354 (22.8 %). This sample: 171 found, 221 matches
    // all right, none of the 1,993 others matched (before the shift 10,
    // precision 0.960).
    assert!(score.positives >= 150, "{score:?}");
    assert!(score.negatives >= 1_900, "{score:?}");
    assert!(score.false_match_rate() <= 0.002, "{score:?}");
    assert!(score.recall() >= 0.95, "{score:?}");
    assert!(score.precision() >= 0.9, "{score:?}");
}
