//! Matching speed and memory against a large synthetic library, outside
//! criterion (for `perf`, `/usr/bin/time` and the 1M-claim memory figure).
//!
//! ```sh
//! cargo run --release -p pharos-claims --example speed -- --claims 100000 --rounds 5
//! /usr/bin/time -f "%e s wall %U+%S s CPU %M KB" \
//!     target/release/examples/speed --claims 1000000 --rounds 1
//! cargo run --release -p pharos-claims --example speed -- \
//!     --claims 100000 --model target/models/all-MiniLM-L6-v2
//! ```
//!
//! The library is `eval::synthetic_library` over the CheckThat! 2021
//! English verified claims (the claims and near-duplicate copies of them);
//! the posts are the CheckThat! dev and test tweets (each repeats a claim).
//! `--posts FILE.jsonl` adds a stream: the `text` and `lang` of each line
//! (e.g. `pharos simulate --out FILE.jsonl`), with the CheckThat! tweets
//! spread evenly through it; `--limit N` keeps its first N lines. `--gate G`
//! sets the encoder gate (0: every post embedded); the share of posts gated
//! out and of texts embedded is printed per round. `--threads N` sets the
//! matcher's thread pool (default: all cores). With `--model`, the claim
//! vectors are those of the 13,825 source claims (a copy shares its
//! source's), cached under the temporary directory.
//!
//! `--cache-replay N` (with `--model`) first replays the posts' encoder
//! texts, batch by batch as the matcher plans them (gate and repeats within
//! a batch included), through an encoder cache of `N` vectors
//! (`pharos_embed::cache`, looked up by token ids as the encoder does, no
//! vectors computed) and prints the share of texts it would save.

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
    let ct_set: std::collections::HashSet<String> = posts.iter().cloned().collect();
    let mut langs: Vec<Option<String>> = vec![Some("en".into()); posts.len()];
    if let Some(file) = arg(&args, "--posts") {
        let limit: usize = arg(&args, "--limit")
            .and_then(|v| v.parse().ok())
            .unwrap_or(usize::MAX);
        let raw = std::fs::read_to_string(&file).expect("--posts file");
        let mut stream: Vec<(String, Option<String>)> = Vec::new();
        for line in raw.lines().filter(|l| !l.trim().is_empty()).take(limit) {
            let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
            let text = v["text"].as_str().unwrap_or_default().to_string();
            let lang = v["lang"].as_str().map(str::to_string);
            stream.push((text, lang));
        }
        let ct = posts.len();
        let every = (stream.len() / ct.max(1)).max(1);
        let mut mixed_posts = Vec::with_capacity(stream.len() + ct);
        let mut mixed_langs = Vec::with_capacity(stream.len() + ct);
        let mut tweets = posts.drain(..);
        for (i, (t, l)) in stream.into_iter().enumerate() {
            if i % every == 0
                && let Some(tw) = tweets.next()
            {
                mixed_posts.push(tw);
                mixed_langs.push(Some("en".to_string()));
            }
            mixed_posts.push(t);
            mixed_langs.push(l);
        }
        for tw in tweets {
            mixed_posts.push(tw);
            mixed_langs.push(Some("en".to_string()));
        }
        eprintln!(
            "posts: {} ({ct} CheckThat! tweets in a stream of {} from {file})",
            mixed_posts.len(),
            mixed_posts.len() - ct
        );
        posts = mixed_posts;
        langs = mixed_langs;
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
    if let Some(model) = arg(&args, "--model") {
        matcher =
            eval::with_source_vectors(matcher, &base, &PathBuf::from(model)).expect("vectors");
        eprintln!("vectors: RSS {} MB", rss_kb().unwrap_or(0) / 1024);
    }
    if let Some(g) = arg(&args, "--gate").and_then(|v| v.parse::<f64>().ok()) {
        matcher.gate = g;
    }
    let q: Vec<(&str, Option<&str>)> = posts
        .iter()
        .zip(&langs)
        .map(|(p, l)| (p.as_str(), l.as_deref()))
        .collect();
    if let Some(out) = arg(&args, "--gate-scores") {
        // One line per post: CheckThat! tweet (1) or stream post (0), the
        // gate score (best lexical confidence) and the best BM25 score.
        let mut w = String::new();
        for (p, _) in &q {
            let c = pharos_claims::retrieval::text::clean_post(p);
            let cands = matcher.lexical_candidates(&c, matcher.candidates);
            let ct = ct_set.contains(*p) as u8;
            let top = cands.first().map_or(0.0, |c| c.bm25);
            w.push_str(&format!(
                "{ct}\t{:.5}\t{top:.3}\n",
                matcher.gate_score(&cands)
            ));
        }
        std::fs::write(&out, w).expect("--gate-scores file");
    }
    if let (Some(cap), Some(model)) = (
        arg(&args, "--cache-replay").and_then(|v| v.parse::<usize>().ok()),
        arg(&args, "--model"),
    ) {
        let e = pharos_embed::Embedder::open(&model).expect("model");
        let mut cache = pharos_embed::cache::Cache::new(cap);
        let mut planned = 0usize;
        for chunk in q.chunks(batch) {
            let enc: Vec<String> = chunk.iter().map(|(p, _)| matcher.encoder_text(p)).collect();
            let cands: Vec<_> = chunk
                .iter()
                .map(|(p, _)| {
                    let c = pharos_claims::retrieval::text::clean_post(p);
                    matcher.lexical_candidates(&c, matcher.candidates)
                })
                .collect();
            let plan = matcher.encoder_plan(&enc, &cands, matcher.gate);
            planned += plan.texts.len();
            let ids: Vec<Vec<u32>> = plan
                .texts
                .iter()
                .map(|t| e.token_ids(t, pharos_embed::Role::Query).expect("tokens"))
                .collect();
            for i in cache.lookup(&ids).todo {
                cache.put(&ids[i], &[0.0]);
            }
        }
        let st = cache.stats();
        println!(
            "cache replay ({cap} vectors): {} posts, {planned} texts planned (distinct per batch), {} encoded with the cache: {:.1} % of the planned texts saved, {:.1} % of the posts encoded",
            q.len(),
            st.encoded,
            100.0 * (planned as f64 - st.encoded as f64) / planned.max(1) as f64,
            100.0 * st.encoded as f64 / q.len().max(1) as f64
        );
    }
    for r in 0..rounds {
        matcher.reset_encoder_stats();
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
        let st = matcher.encoder_stats();
        if matcher.has_model() {
            println!(
                "  encoder (gate {}): {} posts with candidates, {} gated out ({:.1} % of all posts), {} texts embedded ({:.1} % of all posts)",
                matcher.gate,
                st.posts,
                st.gated_out,
                100.0 * st.gated_out as f64 / done as f64,
                st.texts_embedded,
                100.0 * st.texts_embedded as f64 / done as f64
            );
        }
    }
    println!("RSS {} MB", rss_kb().unwrap_or(0) / 1024);
}
