//! Narratives on real posts, as `pharos narratives` makes them, with the
//! figures docs/narratives.md reports: the largest narratives (title,
//! label, posts, channels, whether the label is a channel's signature) and,
//! per channel, its posts, the narratives and families they fall in and
//! the share of its posts in its largest narrative.
//!
//! ```text
//! pharos ingest --format telegram-dump --store tg.db raw/*.json
//! pharos export --format jsonl --store tg.db > tg.jsonl
//! cargo run --release -p pharos-analysis --example narratives_real -- tg.jsonl [--top 20] [--no-boilerplate]
//! ```
//!
//! A label term is a channel's *signature word* when it is in at least 40 %
//! of that channel's posts; a narrative whose label has at least two
//! signature words of one channel among its first three terms and whose
//! posts are at least 60 % from that channel is reported as *defined by
//! boilerplate*.

use pharos_analysis::narratives::{NarrativeConfig, NarrativeEngine};
use pharos_core::Post;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::BufRead;

fn words(text: &str) -> HashSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .map(|w| w.to_lowercase())
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .ok_or("usage: narratives_real POSTS.jsonl [--top N]")?;
    let top: usize = args
        .iter()
        .position(|a| a == "--top")
        .and_then(|i| args.get(i + 1))
        .map_or(Ok(20), |s| s.parse())?;
    let mut cfg = NarrativeConfig::default();
    if args.iter().any(|a| a == "--no-boilerplate") {
        cfg.boilerplate.enabled = false;
    }
    let file = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut posts: Vec<Post> = Vec::new();
    for line in file.lines() {
        let line = line?;
        if !line.trim().is_empty() {
            posts.push(serde_json::from_str(&line)?);
        }
    }
    let mut engine = NarrativeEngine::new(cfg);
    let t0 = std::time::Instant::now();
    let got: Vec<_> = posts.iter().map(|p| engine.observe(p)).collect();
    eprintln!(
        "{} posts in {:.2} s; {:?}",
        posts.len(),
        t0.elapsed().as_secs_f64(),
        engine.stats()
    );
    let channel = |p: &Post| p.actor.name.clone().unwrap_or_else(|| p.actor.id.clone());

    // Signature words: in ≥ 40 % of a channel's posts.
    let mut per_channel_words: HashMap<String, HashMap<String, usize>> = HashMap::new();
    let mut channel_posts: BTreeMap<String, usize> = BTreeMap::new();
    for p in &posts {
        let c = channel(p);
        *channel_posts.entry(c.clone()).or_default() += 1;
        let m = per_channel_words.entry(c).or_default();
        for w in words(&p.text) {
            *m.entry(w).or_default() += 1;
        }
    }
    let signature = |c: &str, w: &str| {
        let n = channel_posts[c] as f64;
        per_channel_words[c]
            .get(w)
            .is_some_and(|&k| k as f64 >= 0.4 * n)
    };

    let mut members: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, a) in got.iter().enumerate() {
        if let Some(n) = a.narrative {
            members.entry(n).or_default().push(i);
        }
    }
    let list = engine.narratives(None, None);
    let mut boiler = 0;
    println!("| # | posts | channels | title | label | defined by boilerplate |");
    println!("|---|---|---|---|---|---|");
    for (rank, n) in list.iter().take(top).enumerate() {
        let idx = members.get(&n.id).cloned().unwrap_or_default();
        let mut by: HashMap<String, usize> = HashMap::new();
        for &i in &idx {
            *by.entry(channel(&posts[i])).or_default() += 1;
        }
        let (main, main_n) = by
            .iter()
            .max_by_key(|x| (*x.1, x.0.clone()))
            .map(|(c, k)| (c.clone(), *k))
            .unwrap_or_default();
        let sig = n
            .label
            .terms
            .iter()
            .take(3)
            .filter(|t| !main.is_empty() && signature(&main, &t.term))
            .count();
        let is_boiler = sig >= 2 && main_n as f64 >= 0.6 * idx.len().max(1) as f64;
        boiler += usize::from(is_boiler);
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            rank + 1,
            n.posts,
            by.len(),
            n.title.replace('|', "/"),
            n.label.text,
            if is_boiler {
                format!("yes ({main}: {main_n})")
            } else {
                "no".into()
            }
        );
    }
    println!("\n{boiler} of the {top} largest narratives are defined by boilerplate\n");

    // Per channel.
    let mut fam_size: HashMap<u64, usize> = HashMap::new();
    let mut nar_size: HashMap<u64, usize> = HashMap::new();
    for a in &got {
        if let Some(f) = a.family {
            *fam_size.entry(f).or_default() += 1;
        }
        if let Some(n) = a.narrative {
            *nar_size.entry(n).or_default() += 1;
        }
    }
    println!(
        "| channel | posts | narratives | in narratives of ≥ 2 posts | families of ≥ 2 posts | largest narrative (share of its posts) | no narrative |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut totals = [0usize; 5];
    for (c, &n_posts) in &channel_posts {
        let mine: Vec<usize> = (0..posts.len())
            .filter(|&i| channel(&posts[i]) == *c)
            .collect();
        let nars: HashSet<u64> = mine.iter().filter_map(|&i| got[i].narrative).collect();
        let in_multi = mine
            .iter()
            .filter(|&&i| got[i].narrative.is_some_and(|n| nar_size[&n] >= 2))
            .count();
        let fams: HashSet<u64> = mine
            .iter()
            .filter_map(|&i| got[i].family)
            .filter(|f| fam_size[f] >= 2)
            .collect();
        let mut per_nar: HashMap<u64, usize> = HashMap::new();
        for &i in &mine {
            if let Some(n) = got[i].narrative {
                *per_nar.entry(n).or_default() += 1;
            }
        }
        let largest = per_nar.values().copied().max().unwrap_or(0);
        let none = mine.iter().filter(|&&i| got[i].narrative.is_none()).count();
        println!(
            "| {c} | {n_posts} | {} | {in_multi} | {} | {largest} ({:.0} %) | {none} |",
            nars.len(),
            fams.len(),
            100.0 * largest as f64 / n_posts as f64
        );
        totals[0] += n_posts;
        totals[1] += nars.len();
        totals[2] += in_multi;
        totals[3] += fams.len();
        totals[4] += none;
    }
    println!(
        "| all | {} | {} | {} | {} | | {} |",
        totals[0], totals[1], totals[2], totals[3], totals[4]
    );
    let shared = engine.shared_boilerplate(2);
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
