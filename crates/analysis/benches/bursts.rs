//! Burst detection throughput on simulated posts.
//!
//! Generates a scenario with `pharos-sim` (in memory), then measures
//! (a) the detector alone over pre-built observations and (b) the stream
//! path a live pipeline runs per post: derive the post's observations
//! (hashtags, URLs, domains, reshare target) and feed them.
//!
//! `cargo bench -p pharos-analysis --bench bursts`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pharos_analysis::bursts::{
    ActorFlags, AlertEvent, BurstConfig, BurstDetector, Observation, post_observations,
};
use pharos_core::Post;
use pharos_sim::{SimConfig, simulate};
use std::time::Duration;

fn posts(n: u64, seed: u64) -> Vec<Post> {
    let cfg = SimConfig::new(n, seed);
    let mut buf = Vec::new();
    simulate(&cfg, &mut buf, &mut |_| {}).unwrap();
    buf.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect()
}

fn bench(c: &mut Criterion) {
    let posts = posts(200_000, 11);
    let mut obs: Vec<Observation<'_>> = Vec::new();
    for p in &posts {
        post_observations(p, ActorFlags::NONE, &mut obs);
    }
    let mut g = c.benchmark_group("bursts");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(obs.len() as u64));
    g.bench_function("observations_200k_posts", |b| {
        b.iter(|| {
            let mut d = BurstDetector::new(BurstConfig::default());
            let mut out: Vec<AlertEvent> = Vec::new();
            for o in &obs {
                d.observe(o, &mut out);
                out.clear();
            }
            d.stats().alerts_opened
        })
    });
    g.throughput(Throughput::Elements(posts.len() as u64));
    g.bench_function("posts_200k_stream_path", |b| {
        b.iter(|| {
            let mut d = BurstDetector::new(BurstConfig::default());
            let mut out: Vec<AlertEvent> = Vec::new();
            let mut o = Vec::new();
            for p in &posts {
                o.clear();
                post_observations(p, ActorFlags::NONE, &mut o);
                for x in &o {
                    d.observe(x, &mut out);
                }
                out.clear();
            }
            d.stats().alerts_opened
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
