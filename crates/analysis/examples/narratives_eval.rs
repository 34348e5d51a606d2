//! Scores near-duplicate families and narratives against the simulator's
//! ground truth.
//!
//! ```text
//! cargo run --release -p pharos-analysis --example narratives_eval -- [POSTS] [SEEDS]
//! cargo run --release -p pharos-analysis --example narratives_eval -- 20000 1,2,3
//! ```
//!
//! For each seed: simulate `POSTS` posts in memory (`pharos_sim::simulate`),
//! observe them in order, and for every planted campaign report, over its
//! coordinated posts: the share in its largest family (family recall), the
//! share of that family's posts that belong to the campaign (family
//! purity), the same two for narratives, and the label of its main
//! narrative. For the false narrative, also how many of the claim's content
//! words the label names.

use pharos_analysis::narratives::{NarrativeConfig, NarrativeEngine, is_stopword};
use pharos_core::Post;
use std::collections::{HashMap, HashSet};
use std::time::Instant;

struct Share {
    recall: f64,
    purity: f64,
    /// Purity counting reshares of the campaign's posts (organic
    /// amplification: the same text) as the campaign's.
    purity_rt: f64,
    main: u64,
    groups: usize,
}

/// Recall and purity of the largest group holding `members`.
fn share(
    members: &[usize],
    reshares: &[usize],
    group: &[Option<u64>],
    sizes: &HashMap<u64, u64>,
) -> Share {
    let mut counts: HashMap<u64, u64> = HashMap::new();
    for &i in members {
        if let Some(g) = group[i] {
            *counts.entry(g).or_default() += 1;
        }
    }
    let Some((&main, &n)) = counts
        .iter()
        .max_by_key(|(g, n)| (**n, std::cmp::Reverse(**g)))
    else {
        return Share {
            recall: 0.0,
            purity: 0.0,
            purity_rt: 0.0,
            main: 0,
            groups: 0,
        };
    };
    let rt = reshares.iter().filter(|&&i| group[i] == Some(main)).count() as u64;
    Share {
        recall: n as f64 / members.len() as f64,
        purity: n as f64 / sizes[&main] as f64,
        purity_rt: (n + rt) as f64 / sizes[&main] as f64,
        main,
        groups: counts.len(),
    }
}

/// CPU seconds (user + system, all threads) of this process so far, from
/// `/proc/self/stat` (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some(after) = stat.rsplit_once(')').map(|x| x.1) else {
        return 0.0;
    };
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap_or(0.0) + f[12].parse::<f64>().unwrap_or(0.0);
    ticks / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let posts: u64 = args.get(1).map_or(20_000, |s| s.parse().expect("POSTS"));
    let seeds: Vec<u64> = args.get(2).map_or(vec![1, 2, 3], |s| {
        s.split(',').map(|x| x.parse().expect("SEEDS")).collect()
    });
    println!(
        "| seed | campaign | posts | main family: recall / purity / purity with reshares (families) | main narrative: recall / purity / purity with reshares (narratives) | main narrative label |"
    );
    println!("|---|---|---|---|---|---|");
    let mut totals: Vec<String> = Vec::new();
    for seed in seeds {
        let cfg = pharos_sim::SimConfig::new(posts, seed);
        let mut buf = Vec::new();
        let truth = pharos_sim::simulate(&cfg, &mut buf, &mut |_| {}).expect("simulate");
        let stream: Vec<Post> = buf
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).expect("canonical post"))
            .collect();
        let mut engine = NarrativeEngine::new(NarrativeConfig::default());
        let t0 = Instant::now();
        let c0 = cpu_seconds();
        let assigned = engine.observe_batch(&stream);
        let secs = t0.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - c0;
        // One post at a time on one thread, for the CPU cost per post.
        let mut single = NarrativeEngine::new(NarrativeConfig::default());
        let c1 = cpu_seconds();
        for p in &stream {
            single.observe(p);
        }
        let cpu_single = cpu_seconds() - c1;
        let family: Vec<Option<u64>> = assigned.iter().map(|a| a.family).collect();
        let narrative: Vec<Option<u64>> = assigned.iter().map(|a| a.narrative).collect();
        let mut fsize: HashMap<u64, u64> = HashMap::new();
        let mut nsize: HashMap<u64, u64> = HashMap::new();
        for a in &assigned {
            if let Some(f) = a.family {
                *fsize.entry(f).or_default() += 1;
            }
            if let Some(n) = a.narrative {
                *nsize.entry(n).or_default() += 1;
            }
        }
        let index: HashMap<&str, usize> = stream
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.as_str(), i))
            .collect();
        let summaries = engine.narratives(None, None);
        let by_id: HashMap<u64, &pharos_analysis::narratives::NarrativeSummary> =
            summaries.iter().map(|s| (s.id, s)).collect();
        for c in &truth.campaigns {
            let members: Vec<usize> = c
                .posts
                .iter()
                .filter_map(|p| index.get(p.as_str()).copied())
                .collect();
            let ids: HashSet<&str> = c.posts.iter().map(String::as_str).collect();
            let reshares: Vec<usize> = stream
                .iter()
                .enumerate()
                .filter(|(_, p)| {
                    !ids.contains(p.id.as_str())
                        && p.reshare_of.as_deref().is_some_and(|r| ids.contains(r))
                })
                .map(|(i, _)| i)
                .collect();
            let f = share(&members, &reshares, &family, &fsize);
            let n = share(&members, &reshares, &narrative, &nsize);
            if std::env::var_os("NARRATIVES_EVAL_DEBUG").is_some() {
                let set: HashSet<usize> = members.iter().copied().collect();
                for (i, p) in stream.iter().enumerate() {
                    if family[i] == Some(f.main) && !set.contains(&i) {
                        eprintln!(
                            "  {} outsider in family: {} {:?} {:?}",
                            c.id,
                            p.actor.id,
                            p.reshare_of,
                            p.text.chars().take(80).collect::<String>()
                        );
                    }
                }
            }
            let label = by_id
                .get(&n.main)
                .map_or(String::new(), |s| s.label.text.clone());
            let mut extra = String::new();
            if let Some(claim) = &c.claim {
                let words: HashSet<String> = claim
                    .to_lowercase()
                    .split(|ch: char| !ch.is_alphanumeric())
                    .filter(|w| w.len() > 1 && !is_stopword(w))
                    .map(str::to_string)
                    .collect();
                let named = by_id.get(&n.main).map_or(0, |s| {
                    s.label
                        .terms
                        .iter()
                        .filter(|t| {
                            words
                                .iter()
                                .any(|w| w.starts_with(&t.term) || t.term.starts_with(w.as_str()))
                        })
                        .count()
                });
                extra = format!(" ({named} of 6 label terms are claim words)");
                totals.push(format!(
                    "seed {seed}: false narrative recall {:.3} purity {:.3} (with reshares {:.3}), label names {named} claim words",
                    n.recall, n.purity, n.purity_rt
                ));
            }
            println!(
                "| {seed} | {} | {} | {:.3} / {:.3} / {:.3} ({}) | {:.3} / {:.3} / {:.3} ({}) | {}{} |",
                c.id,
                members.len(),
                f.recall,
                f.purity,
                f.purity_rt,
                f.groups,
                n.recall,
                n.purity,
                n.purity_rt,
                n.groups,
                label,
                extra
            );
        }
        let st = engine.stats();
        eprintln!(
            "seed {seed}: {} posts; batch {:.2} s wall ({:.0} posts/s), {:.2} CPU-s; one thread {:.2} CPU-s ({:.0} posts per CPU-second); {} families, {} narratives ({} with ≥ 5 posts), stats {:?}",
            stream.len(),
            secs,
            stream.len() as f64 / secs,
            cpu,
            cpu_single,
            stream.len() as f64 / cpu_single,
            fsize.len(),
            nsize.len(),
            nsize.values().filter(|&&n| n >= 5).count(),
            st
        );
        for s in summaries.iter().take(8) {
            eprintln!(
                "   #{} posts {} growth {:.2} langs {:?} label [{}] rep {:?}",
                s.id,
                s.posts,
                s.growth,
                s.languages,
                s.label.text,
                s.label.representative.as_ref().map(|r| r
                    .text
                    .chars()
                    .take(90)
                    .collect::<String>())
            );
        }
    }
    for t in totals {
        println!("{t}");
    }
}
