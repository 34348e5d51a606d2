//! `cargo run --release -p pharos-sim --example simulate -- POSTS SEED OUT.jsonl`
//! writes a scenario and reports the generation speed; `OUT` `-` generates
//! without writing (to measure generation alone).

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let posts = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let out = args
        .get(3)
        .cloned()
        .unwrap_or_else(|| "scenario.jsonl".into());
    let cfg = pharos_sim::SimConfig::new(posts, seed);
    let t = std::time::Instant::now();
    let truth =
        pharos_sim::write_scenario(&cfg, out.as_ref(), &mut |_| {}).expect("write scenario");
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "{posts} posts in {secs:.2} s ({:.0} posts/s), {} campaigns, {} campaign posts -> {out}",
        posts as f64 / secs,
        truth.campaigns.len(),
        truth.summary.campaign_posts
    );
}
