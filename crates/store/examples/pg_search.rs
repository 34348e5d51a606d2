//! Full-text indexing and search on a PostgreSQL store of simulated posts
//! (docs/BENCHMARKS.md, "PostgreSQL store"):
//!
//!     cargo run --release -p pharos-store --example pg_search -- [POSTS]
//!
//! Loads POSTS (default 300,000; seed 1) into a new database
//! `pharos_pg_search_PID` at `PHAROS_PG_URL` (default
//! `postgres://root@127.0.0.1:5432/postgres`), indexes their text, times a
//! first page of 50 for words from the most common to rare ones, and drops
//! the database.

use pharos_core::Post;
use pharos_sim::{SimConfig, simulate};
use pharos_store::{EncodedPosts, PgStore, PostSearch, PostSearcher, Store, TextIndex};
use std::time::Instant;

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("POSTS"))
        .unwrap_or(300_000);
    let mut jsonl = Vec::new();
    simulate(&SimConfig::new(n, 1), &mut jsonl, &mut |_| {}).expect("simulate");
    let posts: Vec<Post> = jsonl
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("post"))
        .collect();
    let mut counts = std::collections::HashMap::new();
    for p in &posts {
        for w in p.text.split_whitespace() {
            *counts.entry(w.to_lowercase()).or_insert(0usize) += 1;
        }
    }
    let mut words: Vec<(String, usize)> = counts.into_iter().collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let base = std::env::var("PHAROS_PG_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/postgres".into());
    let (scheme, rest) = base.split_once("://").expect("URL");
    let host = rest.split('/').next().unwrap_or(rest);
    let db = format!("pharos_pg_search_{}", std::process::id());
    let mut s = PgStore::connect(&format!("{scheme}://{host}/{db}")).expect("postgres");
    s.begin_bulk().expect("begin");
    for c in posts.chunks(16_384) {
        let mut b = EncodedPosts::new();
        b.extend(c).expect("encode");
        s.insert_encoded(&b).expect("insert");
    }
    s.end_bulk().expect("end");
    let t = Instant::now();
    while s.index_text(50_000).expect("index").0 > 0 {}
    let took = t.elapsed().as_secs_f64();
    println!(
        "indexed {} posts in {took:.1} s: {:.0} posts/s",
        posts.len(),
        posts.len() as f64 / took
    );
    for i in [0, 3, 50, 500] {
        let Some((w, held)) = words.get(i) else { break };
        let t = Instant::now();
        let page = s
            .search_posts(&PostSearch {
                words: Some(w.clone()),
                limit: 50,
                ..Default::default()
            })
            .expect("search");
        println!(
            "{w:?} (in {held} posts): a page of {} in {:.1} ms",
            page.posts.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    drop(s);
    if let Ok(mut c) = postgres::Client::connect(&base, postgres::NoTls) {
        let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"));
    }
}
