//! Writes a simulated scenario as canonical JSONL (what `pharos simulate`
//! writes, through the same library), for the server benchmarks.
//!
//! ```text
//! cargo run --release -p pharos-server --example scenario -- POSTS SEED OUT.jsonl [DAYS]
//! ```
//!
//! `DAYS` (default 7) spreads the posts over that many days: the live
//! incidents' benchmark keeps posts per day fixed as the scenario grows.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let posts: u64 = args[0].parse().expect("POSTS");
    let seed: u64 = args[1].parse().expect("SEED");
    let mut cfg = pharos_sim::SimConfig::new(posts, seed);
    if let Some(days) = args.get(3) {
        cfg.days = Some(days.parse().expect("DAYS"));
    }
    let truth = pharos_sim::write_scenario(&cfg, args[2].as_ref(), &mut |_| {}).expect("write");
    eprintln!("{} posts, {} campaigns", posts, truth.campaigns.len());
}
