//! Store write speed: 100k simulated posts built in memory
//! (`cargo bench -p pharos-store --bench insert`).
//!
//! - `encode`: JSON record and columns into [`EncodedPosts`] (the part the
//!   ingest pipeline does on its parsing thread);
//! - `insert_encoded_bulk`: what the writer thread does in a bulk load of an
//!   empty store: 16k-post transactions, then the index rebuild;
//! - `insert_posts_bulk`: the same through [`Store::insert`], encoding inline;
//! - `insert_200_commits_of_10`: HTTP-ingest-sized batches, one commit each
//!   (throughput in commits);
//! - `insert_200_commits_of_10_audited`: the same, each batch committed
//!   with its request's audit row (how `POST /api/ingest` writes since
//!   issue 14, finding 10);
//! - `insert_200_commits_of_10_audit_after`: each batch, then its audit row
//!   in a second transaction (how the audit thread wrote it before).

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use pharos_core::Post;
use pharos_sim::{SimConfig, simulate};
use pharos_store::{Audit, AuditRecord, EncodedPosts, SqliteStore, Store};
use std::hint::black_box;

const POSTS: u64 = 100_000;
const BATCH: usize = 16_384;

fn posts() -> Vec<Post> {
    let mut jsonl = Vec::new();
    simulate(&SimConfig::new(POSTS, 1), &mut jsonl, &mut |_| {}).expect("simulate");
    jsonl
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("simulated post"))
        .collect()
}

fn fresh_store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("bench.db")).expect("open");
    (dir, store)
}

fn bench(c: &mut Criterion) {
    let posts = posts();
    let encoded: Vec<EncodedPosts> = posts
        .chunks(BATCH)
        .map(|chunk| {
            let mut b = EncodedPosts::with_capacity(chunk.len());
            b.extend(chunk).expect("encode");
            b
        })
        .collect();

    let mut g = c.benchmark_group("store");
    g.sample_size(10);
    g.throughput(Throughput::Elements(posts.len() as u64));
    g.bench_function("encode_100k", |b| {
        let mut batch = EncodedPosts::with_capacity(BATCH);
        b.iter(|| {
            for chunk in posts.chunks(BATCH) {
                batch.clear();
                batch.extend(chunk).expect("encode");
                black_box(batch.len());
            }
        })
    });
    g.bench_function("insert_encoded_bulk_100k", |b| {
        b.iter_batched(
            fresh_store,
            |(dir, mut store)| {
                store.begin_bulk().expect("begin");
                for batch in &encoded {
                    store.insert_encoded(batch).expect("insert");
                }
                store.end_bulk().expect("end");
                (dir, store)
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("insert_posts_bulk_100k", |b| {
        b.iter_batched(
            fresh_store,
            |(dir, mut store)| {
                store.begin_bulk().expect("begin");
                for chunk in posts.chunks(BATCH) {
                    store.insert(chunk).expect("insert");
                }
                store.end_bulk().expect("end");
                (dir, store)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();

    // What `POST /api/ingest` costs the writer: small batches, each its
    // own transaction, each answered only once committed (the durability
    // setting decides whether that waits for the disk).
    let small: Vec<EncodedPosts> = posts[..2_000]
        .chunks(10)
        .map(|chunk| {
            let mut b = EncodedPosts::with_capacity(chunk.len());
            b.extend(chunk).expect("encode");
            b
        })
        .collect();
    let mut g = c.benchmark_group("store");
    g.sample_size(10);
    g.throughput(Throughput::Elements(small.len() as u64));
    g.bench_function("insert_200_commits_of_10", |b| {
        b.iter_batched(
            fresh_store,
            |(dir, mut store)| {
                for batch in &small {
                    store.insert_encoded(batch).expect("insert");
                }
                (dir, store)
            },
            BatchSize::PerIteration,
        )
    });
    let row = AuditRecord {
        at_ms: 1,
        token: Some("0123abcd".into()),
        name: Some("ann".into()),
        role: Some("analyst".into()),
        action: "change".into(),
        method: "POST".into(),
        path: "/api/ingest".into(),
        status: 200,
        ..Default::default()
    };
    g.bench_function("insert_200_commits_of_10_audited", |b| {
        b.iter_batched(
            fresh_store,
            |(dir, mut store)| {
                for batch in &small {
                    store
                        .insert_encoded_batches_rowids(&[batch], std::slice::from_ref(&row))
                        .expect("insert");
                }
                (dir, store)
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("insert_200_commits_of_10_audit_after", |b| {
        b.iter_batched(
            fresh_store,
            |(dir, mut store)| {
                for batch in &small {
                    store.insert_encoded(batch).expect("insert");
                    store
                        .append_audit(std::slice::from_ref(&row))
                        .expect("audit");
                }
                (dir, store)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
