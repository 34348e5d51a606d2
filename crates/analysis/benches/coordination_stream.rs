//! Streaming coordination throughput (shares a second).
//!
//! Synthetic co-retweets (`coordination::synthetic`: heavy-tailed objects
//! and accounts over a week, 1% planted bursts), sorted by time, pushed one
//! by one into a [`StreamingCoordinator`] (60 s window) and flushed; pairs
//! are counted, not kept. The `shuffled` case perturbs the order within a
//! 30 s lateness (the reorder buffer's work). The `directed` case streams
//! the same rows as co-retweet messages.
//!
//! `cargo bench -p pharos-analysis --bench coordination_stream`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use pharos_analysis::coordination::directed::Kind;
use pharos_analysis::coordination::stream::{
    DirectedStreamParams, MatchedPair, StreamPair, StreamParams, StreamingCoordinator,
    StreamingDirected,
};
use pharos_analysis::coordination::synthetic;
use std::time::Duration;

type Row = (String, String, String, i64);

fn rows(n: usize, jitter: i64) -> Vec<Row> {
    let mut v = Vec::with_capacity(n);
    synthetic::co_retweet(n, 42, |o, a, c, t| {
        v.push((format!("o{o}"), format!("u{a}"), format!("r{c}"), t))
    });
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut keyed: Vec<(i64, Row)> = v
        .into_iter()
        .map(|r| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let j = if jitter > 0 {
                (x % jitter as u64) as i64
            } else {
                0
            };
            (r.3 + j, r)
        })
        .collect();
    keyed.sort_by_key(|k| k.0);
    keyed.into_iter().map(|k| k.1).collect()
}

fn run(rows: &[Row], lateness: i64) -> u64 {
    let mut s = StreamingCoordinator::new(StreamParams {
        time_window: 60,
        allowed_lateness: lateness,
        max_pairs_per_object: Some(1_000_000),
    })
    .unwrap();
    let mut pairs = 0u64;
    let mut sink = |_: &StreamPair| pairs += 1;
    for (o, a, c, t) in rows {
        s.push(o, a, c, *t, &mut sink);
    }
    s.flush(&mut sink);
    assert_eq!(s.stats().late, 0);
    pairs
}

fn run_directed(rows: &[Row]) -> u64 {
    let mut s = StreamingDirected::new(Kind::CoRetweet, DirectedStreamParams::default()).unwrap();
    let mut pairs = 0u64;
    let mut sink = |_: &MatchedPair| pairs += 1;
    for (o, a, c, t) in rows {
        s.push_keys(c, a, t * 1000, [o], &mut sink);
    }
    s.flush(&mut sink);
    pairs
}

fn stream_bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("coordination_stream");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(15));
    for n in [100_000usize, 1_000_000] {
        let sorted = rows(n, 0);
        let shuffled = rows(n, 30);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("coortweet sorted", n), &sorted, |b, r| {
            b.iter(|| run(r, 0))
        });
        g.bench_with_input(
            BenchmarkId::new("coortweet shuffled 30s", n),
            &shuffled,
            |b, r| b.iter(|| run(r, 30)),
        );
        g.bench_with_input(
            BenchmarkId::new("directed co-retweet", n),
            &sorted,
            |b, r| b.iter(|| run_directed(r)),
        );
    }
    g.finish();
}

criterion_group!(benches, stream_bench);
criterion_main!(benches);
