//! Claim matching speed against a 100,000-claim library.
//!
//! The library is synthetic: the 13,825 CheckThat! 2021 English verified
//! claims and near-duplicate copies of them (`eval::synthetic_library`: a
//! word dropped, two swapped, one appended), 100,000 in all. The posts are
//! the 402 CheckThat! dev and test tweets, cycled. Data from
//! `$PHAROS_DATA/claims/checkthat2021` (default `../shared/data`).
//!
//! - `bm25_100k`: candidates by BM25 and the lexical fusion, one post at a
//!   time (one thread).
//! - `bm25_100k_batch`: the same, the 402 posts in one `match_batch` (posts
//!   spread over all cores).
//! - `fused_100k` (model in `PHAROS_EMBED_MODEL`):
//!   BM25 candidates re-ranked by all-MiniLM-L6-v2 cosines and the full
//!   fusion, posts in batches of 64. Claim vectors are those of the 13,825
//!   source claims (a copy shares its source's vectors): embedding 100,000
//!   claims would take an hour here, and the per-post cost does not depend on
//!   where the claim vectors came from.
//!
//! `cargo bench -p pharos-claims --bench retrieval`
//! `PHAROS_EMBED_MODEL=$(.ci/fetch-model) cargo bench -p pharos-claims --bench retrieval`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pharos_claims::retrieval::{Matcher, eval};
use std::path::PathBuf;

const LIBRARY: usize = 100_000;

fn data() -> PathBuf {
    std::env::var_os("PHAROS_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        })
        .join("claims/checkthat2021")
}

fn load() -> (Vec<pharos_claims::Claim>, Vec<String>) {
    let p = data().join("CT2021-Task2A-EN-Verified_Claims.txt");
    let (claims, _) =
        eval::read_checkthat_claims(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut posts = Vec::new();
    for split in ["dev", "test"] {
        let p = data().join(format!("EN_{split}_queries.tsv"));
        let q = eval::read_queries(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        posts.extend(q.queries.into_iter().map(|(_, t)| t));
    }
    (claims, posts)
}

fn bench(c: &mut Criterion) {
    let (base, posts) = load();
    let library = eval::synthetic_library(&base, LIBRARY);
    let matcher = Matcher::in_memory(&library).expect("index");
    let mut g = c.benchmark_group("claims");
    g.sample_size(10);
    g.throughput(Throughput::Elements(posts.len() as u64));
    g.bench_function("bm25_100k", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for p in &posts {
                n += matcher.match_text(p, Some("en"), 5).len();
            }
            n
        })
    });
    // All 402 posts in one batch: candidates found in parallel (rayon, all
    // cores).
    g.bench_function("bm25_100k_batch", |b| {
        b.iter(|| {
            let q: Vec<(&str, Option<&str>)> =
                posts.iter().map(|p| (p.as_str(), Some("en"))).collect();
            matcher.match_batch(&q, 5).len()
        })
    });
    if let Some(model) = std::env::var_os("PHAROS_EMBED_MODEL") {
        let fused = eval::with_source_vectors(
            Matcher::in_memory(&library).expect("index"),
            &base,
            &PathBuf::from(model),
        )
        .expect("vectors");
        let batch: Vec<&String> = posts.iter().take(64).collect();
        g.throughput(Throughput::Elements(batch.len() as u64));
        g.bench_function("fused_100k", |b| {
            b.iter(|| {
                let q: Vec<(&str, Option<&str>)> =
                    batch.iter().map(|p| (p.as_str(), Some("en"))).collect();
                fused.match_batch(&q, 5).len()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
