//! Matching speed and memory against a large synthetic library, outside
//! criterion (for `perf`, `/usr/bin/time` and the 1M-claim memory figure).
//!
//! ```sh
//! cargo run --release -p pharos-claims --example speed -- --claims 100000 --rounds 5
//! /usr/bin/time -f "%e s wall %U+%S s CPU %M KB" \
//!     target/release/examples/speed --claims 1000000 --rounds 1
//! cargo run --release -p pharos-claims --features embeddings --example speed -- \
//!     --claims 100000 --model target/models/all-MiniLM-L6-v2
//! ```
//!
//! The library is `eval::synthetic_library` over the CheckThat! 2021
//! English verified claims (the claims and near-duplicate copies of them);
//! the posts are the CheckThat! dev and test tweets. `--threads N` sets the
//! matcher's thread pool (default: all cores). With `--model`, the claim
//! vectors are those of the 13,825 source claims (a copy shares its
//! source's), cached under the temporary directory.

use pharos_claims::retrieval::{Matcher, eval};
use std::path::PathBuf;
use std::time::Instant;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn rss_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU seconds used by this process so far (all threads).
fn cpu_secs() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line; after the ")"
    // they are the 12th and 13th.
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = arg(&args, "--claims")
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let rounds: usize = arg(&args, "--rounds")
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let batch: usize = arg(&args, "--batch")
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    if let Some(t) = arg(&args, "--threads").and_then(|v| v.parse::<usize>().ok()) {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
            .expect("thread pool");
    }
    let data = std::env::var_os("PHAROS_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"))
        .join("claims/checkthat2021");
    let (base, _) = eval::read_checkthat_claims(&data.join("CT2021-Task2A-EN-Verified_Claims.txt"))
        .expect("claims");
    let mut posts = Vec::new();
    for split in ["dev", "test"] {
        let q = eval::read_queries(&data.join(format!("EN_{split}_queries.tsv"))).expect("queries");
        posts.extend(q.queries.into_iter().map(|(_, t)| t));
    }
    let library = eval::synthetic_library(&base, n);
    let t = Instant::now();
    let before = rss_kb().unwrap_or(0);
    #[allow(unused_mut)]
    let mut matcher = Matcher::in_memory(&library).expect("index");
    eprintln!(
        "index: {} claims in {:.1?}, RSS {} MB (+{} MB)",
        matcher.len(),
        t.elapsed(),
        rss_kb().unwrap_or(0) / 1024,
        (rss_kb().unwrap_or(0).saturating_sub(before)) / 1024
    );
    drop(library);
    #[cfg(feature = "embeddings")]
    if let Some(model) = arg(&args, "--model") {
        let model = PathBuf::from(model);
        let cache = std::env::temp_dir().join("pharos-bench-checkthat-index");
        let source = Matcher::with_index_dir(&base, &cache, "checkthat2021")
            .expect("index")
            .with_model(&model, &base, "checkthat2021")
            .expect("model");
        let m = base.len();
        matcher = matcher
            .with_vectors_of(&model, &source, &|i| i % m)
            .expect("vectors");
        eprintln!("vectors: RSS {} MB", rss_kb().unwrap_or(0) / 1024);
    }
    let q: Vec<(&str, Option<&str>)> = posts.iter().map(|p| (p.as_str(), Some("en"))).collect();
    for r in 0..rounds {
        let t = Instant::now();
        let cpu = cpu_secs();
        let mut found = 0usize;
        let mut done = 0usize;
        for chunk in q.chunks(batch) {
            found += matcher
                .match_batch(chunk, 5)
                .iter()
                .map(|m| m.len())
                .sum::<usize>();
            done += chunk.len();
        }
        let secs = t.elapsed().as_secs_f64();
        let cpu = cpu_secs() - cpu;
        println!(
            "round {r}: {done} posts in {secs:.3} s wall, {cpu:.2} CPU-s: {:.0} posts/s, {:.0} posts per CPU-second ({found} matches)",
            done as f64 / secs,
            done as f64 / cpu.max(0.01)
        );
    }
    println!("RSS {} MB", rss_kb().unwrap_or(0) / 1024);
}
