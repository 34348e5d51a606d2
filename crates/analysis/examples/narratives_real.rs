//! Narratives on real posts, as `pharos narratives` makes them, with the
//! figures docs/narratives.md reports: the largest narratives (title,
//! label, posts, channels, whether boilerplate defines them) and, per
//! channel, its posts, the narratives and families they fall in and its
//! largest narrative, before (no boilerplate learning) and after. The
//! measures are the real-data tests' (`tests/support/narrative_eval.rs`).
//!
//! ```text
//! cargo run --release -p pharos-analysis --example narratives_real -- \
//!     ../shared/data/telegram/ru_news_channels_2024.tar.gz --format telegram-dump [--top 20] [--members 5]
//! cargo run --release -p pharos-analysis --example narratives_real -- posts.jsonl
//! ```
//!
//! Any file `pharos ingest` reads (an archive too); `--members N` prints N
//! posts (as the engine reads them) of each of the largest narratives.

#[path = "../tests/support/narrative_eval.rs"]
mod eval;

use pharos_analysis::narratives::{NarrativeConfig, NarrativeEngine};
use pharos_core::Post;
use std::collections::HashMap;
use std::ops::ControlFlow;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .ok_or("usage: narratives_real FILE [--format F] [--top N] [--members N]")?;
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let top: usize = opt("--top").map_or(Ok(20), |s| s.parse())?;
    let show: usize = opt("--members").map_or(Ok(0), |s| s.parse())?;
    let mut opts = pharos_ingest::Options::new();
    if let Some(f) = opt("--format") {
        opts.format = f.parse().map_err(|e| format!("--format {f}: {e:?}"))?;
    }
    let mut posts: Vec<Post> = Vec::new();
    let mut rejected = 0usize;
    pharos_ingest::read_path(std::path::Path::new(path), &opts, &mut |item| {
        match item {
            pharos_ingest::Item::Post(p) => posts.push(*p),
            pharos_ingest::Item::Rejected(_) => rejected += 1,
        }
        ControlFlow::Continue(())
    })?;
    posts.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.id.cmp(&b.id)));
    eprintln!("{} posts read, {rejected} rejected", posts.len());

    let mut runs = Vec::new();
    for learn in [false, true] {
        let mut cfg = NarrativeConfig::default();
        cfg.boilerplate.enabled = learn;
        let mut engine = NarrativeEngine::new(cfg);
        let t0 = std::time::Instant::now();
        let got = engine.observe_batch(&posts);
        eprintln!(
            "boilerplate learning {learn}: {:.2} s; {:?}",
            t0.elapsed().as_secs_f64(),
            engine.stats()
        );
        runs.push((engine, got));
    }
    for (name, (engine, got)) in ["before (no boilerplate learning)", "after"]
        .iter()
        .zip(&runs)
    {
        let list = engine.narratives(None, None);
        let rows = eval::top_narratives(&posts, got, &list, top);
        println!("\n{name}:\n");
        eval::print_top(&rows);
        println!(
            "\n{} of the {top} largest narratives are defined by boilerplate",
            rows.iter().filter(|r| r.boilerplate.is_some()).count()
        );
        if show > 0 {
            let mut members: HashMap<u64, Vec<usize>> = HashMap::new();
            for (i, a) in got.iter().enumerate() {
                if let Some(n) = a.narrative {
                    members.entry(n).or_default().push(i);
                }
            }
            for n in list.iter().take(top) {
                println!("\n#{} {} ({} posts)", n.id, n.title, n.posts);
                for &i in members.get(&n.id).into_iter().flatten().take(show) {
                    let text: String = engine
                        .clean_text(&posts[i])
                        .replace('\n', " / ")
                        .chars()
                        .take(160)
                        .collect();
                    println!("  [{}] {text}", eval::channel(&posts[i]));
                }
            }
        }
    }
    println!("\nFamilies and narratives per channel (before → after):\n");
    eval::print_channels(
        &eval::per_channel(&posts, &runs[0].1),
        &eval::per_channel(&posts, &runs[1].1),
    );
    let shared = runs[1].0.shared_boilerplate(2);
    println!("\nboilerplate shared by several channels: {}", shared.len());
    for s in shared.iter().take(15) {
        let names: Vec<String> = s
            .sources
            .iter()
            .map(|x| format!("{} ({})", x.name.as_deref().unwrap_or(&x.actor), x.posts))
            .collect();
        println!("- \"{}\" ({} words): {}", s.text, s.words, names.join(", "));
    }
    Ok(())
}
