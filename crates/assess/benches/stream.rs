//! The whole early-warning stream path from memory (no store): language
//! id, normalisation, shingles, MinHash LSH, families, narratives, actor
//! signals, streaming coordination, bursts, claim watch, rules.
//!
//! ```text
//! cargo bench -p pharos-assess --bench stream -- [--posts 1000000] [--seed 1] [--days 7] [--no-coordination] [--segments 10]
//! ```
//!
//! Simulates a scenario into memory, then pushes it through
//! `AlertPipeline::push_batch` in batches of 16,384 posts (as `pharos
//! assess` does) and prints the throughput of each segment of the stream
//! with the number of live narratives at its end, so the cost per post can
//! be read against the engine's size. Wall time only counts the pipeline
//! (not the simulation). Run it under `/usr/bin/time -f "%e s %M KB"` for
//! the peak memory (which includes the posts held in memory).

use pharos_alerts::Rules;
use pharos_assess::stream::{AlertPipeline, StreamConfig};
use pharos_core::Post;
use pharos_sim::SimConfig;
use std::time::Instant;

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU seconds this process has used (user + system), from /proc.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split(' ').collect();
            // Fields 14 and 15 of stat(5), counted from the state (field 3).
            let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(f64::NAN)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; nothing else of criterion's applies.
    let posts_n: u64 = arg(&args, "--posts", 1_000_000);
    let seed: u64 = arg(&args, "--seed", 1);
    let days: f64 = arg(&args, "--days", 7.0);
    let segments: usize = arg(&args, "--segments", 10).max(1);
    let coordination = !args.iter().any(|a| a == "--no-coordination");

    let t = Instant::now();
    let mut cfg = SimConfig::new(posts_n, seed);
    cfg.days = Some(days);
    let mut buf = Vec::new();
    pharos_sim::simulate(&cfg, &mut buf, &mut |_| {}).expect("simulate");
    let posts: Vec<Post> = buf
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("a simulated post"))
        .collect();
    drop(buf);
    eprintln!(
        "simulated {} posts (seed {seed}, {days} days) in {:.1} s",
        posts.len(),
        t.elapsed().as_secs_f64()
    );

    let mut scfg = StreamConfig::default();
    if !coordination {
        scfg.coordination = None;
    }
    let mut pipe = AlertPipeline::with_config(scfg, Rules::default(), true);
    let seg = posts.len().div_ceil(segments);
    let started = Instant::now();
    let cpu0 = cpu_seconds();
    println!("| posts so far | live narratives | live families | posts/s in segment |");
    println!("|---|---|---|---|");
    for part in posts.chunks(seg) {
        let t = Instant::now();
        for batch in part.chunks(16_384) {
            pipe.push_batch(batch).expect("no sink to fail");
        }
        let s = pipe.narratives().stats();
        println!(
            "| {} | {} | {} | {:.0} |",
            pipe.posts,
            s.live_narratives,
            s.live_families,
            part.len() as f64 / t.elapsed().as_secs_f64()
        );
    }
    pipe.finish().expect("no sink to fail");
    let ns = pipe.narratives().stats();
    eprintln!(
        "narratives: {} live, {} families, {} exemplars, {} LSH buckets; {:.1} bucket entries walked and {:.1} exact Jaccards a post",
        ns.live_narratives,
        ns.live_families,
        ns.exemplars,
        ns.lsh_buckets,
        ns.lsh_steps as f64 / ns.posts.max(1) as f64,
        ns.verifications as f64 / ns.posts.max(1) as f64
    );
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let st = pipe.stats();
    println!(
        "\n{} posts in {wall:.2} s wall, {cpu:.1} CPU-s = {:.0} posts/s, {:.0} posts per CPU-second; {} alerts raised ({} notifications); coordination pairs {} ({} coordinated), accounts flagged {}; coordination {}",
        pipe.posts,
        pipe.posts as f64 / wall,
        pipe.posts as f64 / cpu,
        pipe.raised,
        pipe.written,
        st.pairs,
        st.coordinated_pairs,
        st.coordinated_accounts,
        if coordination { "on" } else { "off" }
    );
}
