//! Encoder throughput alone: texts embedded a second, outside criterion
//! (for `perf` and thread sweeps).
//!
//! ```sh
//! cargo build --release -p pharos-embed --example encode
//! target/release/examples/encode --model target/models/all-MiniLM-L6-v2 --rounds 3
//! ```
//!
//! Prints the cold start first: the time from the start of `main` to the
//! model opened and to the first text embedded, and the resident memory
//! (RSS) before and after opening the model. `PHAROS_EMBED_KERNEL` picks
//! the dense layers' kernel (`amx`, `avx512-bf16`, `int8`, `portable`).
//!
//! The texts are the CheckThat! 2021 Task 2A English dev and test tweets
//! (second column of `EN_{dev,test}_queries.tsv` under `$PHAROS_DATA` or
//! `../shared/data`), or the lines of `--texts FILE`.
//!
//! The encoder's cache of recent vectors is off here (every round encodes
//! every text); `--cache N` keeps `N` vectors, and the share of texts it
//! saved is printed after each round (`--texts` of a stream: its repeats).

use pharos_embed::Embedder;
use std::path::PathBuf;
use std::time::Instant;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

fn main() {
    let start = Instant::now();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model = arg(&args, "--model").unwrap_or_else(|| "target/models/all-MiniLM-L6-v2".into());
    let rounds: usize = arg(&args, "--rounds")
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let texts: Vec<String> = match arg(&args, "--texts") {
        Some(f) => std::fs::read_to_string(&f)
            .unwrap_or_else(|e| panic!("{f}: {e}"))
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect(),
        None => {
            let data = std::env::var_os("PHAROS_DATA")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
                })
                .join("claims/checkthat2021");
            let mut t = Vec::new();
            for split in ["dev", "test"] {
                let p = data.join(format!("EN_{split}_queries.tsv"));
                let s =
                    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                t.extend(
                    s.lines()
                        .filter_map(|l| l.split_once('\t').map(|(_, t)| t.to_owned()))
                        .filter(|t| t != "tweet_content"),
                );
            }
            t
        }
    };
    let rss0 = rss_mb();
    let opening = Instant::now();
    let mut e = Embedder::open(&model).unwrap_or_else(|e| panic!("{e}"));
    let opened = opening.elapsed().as_secs_f64();
    let rss1 = rss_mb();
    let one = e
        .embed_one(texts.first().map_or("", String::as_str))
        .unwrap_or_else(|e| panic!("{e}"));
    println!(
        "cold start: model opened in {opened:.3} s, first text embedded {:.3} s after start ({} values); RSS {rss0:.0} MB before the model, {rss1:.0} MB with it (+{:.0} MB)",
        start.elapsed().as_secs_f64(),
        one.len(),
        rss1 - rss0
    );
    println!(
        "{} texts, model {}, kernel {}",
        texts.len(),
        e.dir().display(),
        e.kernel()
    );
    e.set_cache_capacity(
        arg(&args, "--cache")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    );
    let mut first: Option<Vec<Vec<f32>>> = None;
    for r in 0..rounds {
        let t = Instant::now();
        let before = e.cache_stats();
        let v = e.embed(&texts).unwrap_or_else(|e| panic!("{e}"));
        let s = t.elapsed().as_secs_f64();
        let c = e.cache_stats();
        let encoded = c.encoded - before.encoded;
        println!(
            "round {r}: {:.2} s, {:.1} texts/s; {encoded} encoded ({:.1} % of the texts; cache {} of {} vectors)",
            s,
            texts.len() as f64 / s,
            100.0 * encoded as f64 / texts.len().max(1) as f64,
            c.entries,
            c.capacity
        );
        if let Some(f) = &first {
            let worst = f
                .iter()
                .zip(&v)
                .map(|(a, b)| pharos_embed::cosine(a, b))
                .fold(1.0f32, f32::min);
            println!("  lowest cosine to round 0: {worst:.6}");
        } else {
            first = Some(v);
        }
    }
    println!("RSS {:.0} MB", rss_mb());
}
