//! Narrative engine throughput on simulated posts.
//!
//! `cargo bench -p pharos-analysis --bench narratives`
//!
//! - `stream/observe_batch`: the whole stream path (language id when
//!   missing, NFKC + folding + transliteration, shingles, MinHash, LSH
//!   family look-up with verification, TF-IDF, narrative assignment and
//!   statistics) on 20,000 simulated posts, reading in parallel.
//! - `stream/observe`: the same, one post at a time on one thread.
//! - `live_narratives/N`: 2,000 posts observed by an engine already holding
//!   about N live narratives (warmed on N distinct synthetic topics), to
//!   show how assignment cost grows with the number of live narratives.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use pharos_analysis::narratives::{NarrativeConfig, NarrativeEngine};
use pharos_core::{Actor, EventTime, Post};
use std::hint::black_box;

fn simulated(n: u64) -> Vec<Post> {
    let cfg = pharos_sim::SimConfig::new(n, 7);
    let mut buf = Vec::new();
    pharos_sim::simulate(&cfg, &mut buf, &mut |_| {}).expect("simulate");
    buf.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("post"))
        .collect()
}

/// `n` posts on `topics` synthetic topics: each topic has its own eight
/// words (from a 100k-word vocabulary) and each post adds four random ones.
fn synthetic(n: usize, topics: usize, seed: u64, start: i64) -> Vec<Post> {
    let mut s = seed;
    let mut next = move || {
        s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    (0..n)
        .map(|i| {
            let topic = (next() % topics as u64) as usize;
            let mut words: Vec<String> = (0..8).map(|k| format!("t{topic}w{k}")).collect();
            for _ in 0..4 {
                words.push(format!("v{}", next() % 100_000));
            }
            Post {
                platform: "twitter".into(),
                id: format!("{seed}-{i}"),
                actor: Actor {
                    id: format!("a{}", next() % 5000),
                    ..Default::default()
                },
                time: EventTime(start + i as i64 * 100),
                text: words.join(" "),
                lang: Some("en".into()),
                ..Default::default()
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let posts = simulated(20_000);
    let mut g = c.benchmark_group("stream");
    g.sample_size(10);
    g.throughput(Throughput::Elements(posts.len() as u64));
    g.bench_function("observe_batch", |b| {
        b.iter(|| {
            let mut e = NarrativeEngine::new(NarrativeConfig::default());
            black_box(e.observe_batch(&posts).len())
        })
    });
    // The same stream without per-source boilerplate learning (templates
    // are still removed): the cost of learning is the difference.
    g.bench_function("observe_batch_no_boilerplate", |b| {
        b.iter(|| {
            let mut cfg = NarrativeConfig::default();
            cfg.boilerplate.enabled = false;
            let mut e = NarrativeEngine::new(cfg);
            black_box(e.observe_batch(&posts).len())
        })
    });
    g.bench_function("observe", |b| {
        b.iter(|| {
            let mut e = NarrativeEngine::new(NarrativeConfig::default());
            for p in &posts {
                black_box(e.observe(p));
            }
        })
    });
    g.bench_function("observe_no_boilerplate", |b| {
        b.iter(|| {
            let mut cfg = NarrativeConfig::default();
            cfg.boilerplate.enabled = false;
            let mut e = NarrativeEngine::new(cfg);
            for p in &posts {
                black_box(e.observe(p));
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("live_narratives");
    g.sample_size(10);
    for topics in [1_000usize, 10_000, 50_000] {
        let warm = synthetic(topics * 3, topics, 1, 0);
        let probe = synthetic(2_000, topics, 2, topics as i64 * 300);
        g.throughput(Throughput::Elements(probe.len() as u64));
        g.bench_function(format!("{topics}"), |b| {
            b.iter_batched(
                || {
                    let mut e = NarrativeEngine::new(NarrativeConfig::default());
                    e.observe_batch(&warm);
                    e
                },
                // The engine is returned, so dropping it is not timed.
                |mut e| {
                    black_box(e.observe_batch(&probe).len());
                    e
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
