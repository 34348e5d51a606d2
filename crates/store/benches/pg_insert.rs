//! PostgreSQL bulk store against SQLite's, in one run: 100k simulated posts
//! built in memory and encoded ahead, stored in 16k-post transactions into
//! a new store (`cargo bench -p pharos-store --bench pg_insert`).
//!
//! - `sqlite_bulk_100k`: SQLite, as `insert_encoded_bulk_100k` of the
//!   `insert` bench (bulk mode: indexes dropped and rebuilt);
//! - `postgres_bulk_100k`: a new PostgreSQL database (binary COPY into the
//!   staging table, one `INSERT ... SELECT` a batch, indexes kept);
//! - `postgres_scan_100k`: reading the 100k posts back in event-time order;
//! - `postgres_200_commits_of_10`: HTTP-ingest-sized batches, one commit
//!   each, into a store of about 84k posts (throughput in commits).
//!
//! Needs a PostgreSQL server at `PHAROS_PG_URL` (default
//! `postgres://root@127.0.0.1:5432/postgres`); each iteration gets a
//! database of its own, dropped afterwards.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use pharos_core::Post;
use pharos_sim::{SimConfig, simulate};
use pharos_store::{EncodedPosts, PgStore, PostFilter, SqliteStore, Store};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};

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

fn pg_url() -> String {
    std::env::var("PHAROS_PG_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/postgres".to_string())
}

fn url_with_db(url: &str, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let host = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{host}/{db}")
}

/// A new database, dropped with the value.
struct Db {
    name: String,
    store: Option<PgStore>,
}

impl Drop for Db {
    fn drop(&mut self) {
        self.store = None;
        if let Ok(mut c) = postgres::Client::connect(&pg_url(), postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

fn fresh_db() -> Db {
    static N: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "pharos_bench_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let store = PgStore::connect(&url_with_db(&pg_url(), &name)).unwrap_or_else(|e| {
        panic!(
            "the PostgreSQL bench needs a server at PHAROS_PG_URL (now {}): {e}",
            pg_url()
        )
    });
    Db {
        name,
        store: Some(store),
    }
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
    g.bench_function("sqlite_bulk_100k", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("tempdir");
                let store = SqliteStore::open(dir.path().join("bench.db")).expect("open");
                (dir, store)
            },
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
    g.bench_function("postgres_bulk_100k", |b| {
        b.iter_batched(
            fresh_db,
            |mut db| {
                let store = db.store.as_mut().expect("store");
                store.begin_bulk().expect("begin");
                for batch in &encoded {
                    store.insert_encoded(batch).expect("insert");
                }
                store.end_bulk().expect("end");
                db
            },
            BatchSize::PerIteration,
        )
    });
    let mut loaded = fresh_db();
    {
        let store = loaded.store.as_mut().expect("store");
        for batch in &encoded {
            store.insert_encoded(batch).expect("insert");
        }
    }
    if let Ok(mut c) =
        postgres::Client::connect(&url_with_db(&pg_url(), &loaded.name), postgres::NoTls)
    {
        let size: i64 = c
            .query_one("SELECT pg_database_size(current_database())", &[])
            .expect("size")
            .get(0);
        eprintln!(
            "postgres: {} posts take {:.1} MB ({:.0} bytes a post, indexes included)",
            posts.len(),
            size as f64 / 1e6,
            size as f64 / posts.len() as f64
        );
    }
    g.bench_function("postgres_scan_100k", |b| {
        b.iter(|| {
            let mut n = 0u64;
            loaded
                .store
                .as_ref()
                .expect("store")
                .scan(&PostFilter::default(), &mut |_| {
                    n += 1;
                    ControlFlow::Continue(())
                })
                .expect("scan");
            assert_eq!(n, posts.len() as u64);
        })
    });
    g.finish();
    drop(loaded);

    // What `POST /api/ingest` costs the server's writer: small batches, each
    // its own transaction (as `insert_200_commits_of_10` of the `insert`
    // bench for SQLite), into a store that holds the 100k posts.
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
    g.bench_function("postgres_200_commits_of_10", |b| {
        b.iter_batched(
            || {
                let mut db = fresh_db();
                let store = db.store.as_mut().expect("store");
                for batch in &encoded[1..] {
                    store.insert_encoded(batch).expect("insert");
                }
                db
            },
            |mut db| {
                let store = db.store.as_mut().expect("store");
                for batch in &small {
                    store.insert_encoded(batch).expect("insert");
                }
                db
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
