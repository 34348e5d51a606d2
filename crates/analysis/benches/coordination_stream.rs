//! Streaming coordination throughput (shares a second).
//!
//! Synthetic co-retweets (`coordination::synthetic`: heavy-tailed objects
//! and accounts over a week, 1% planted bursts), sorted by time, pushed one
//! by one into a [`StreamingCoordinator`] (60 s window) and flushed; pairs
//! are counted, not kept. The `shuffled` case perturbs the order within a
//! 30 s lateness (the reorder buffer's work). The `directed` case streams
//! the same rows as co-retweet messages; the `co-image` case streams them as
//! pictures: each object is a random PDQ hash and each share posts a copy
//! of it with 0–15 bits flipped (a re-encoded or resized copy), so every
//! message probes the live index of the window's hashes at distance 31.
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

/// The rows as co-image messages: `(message, user, time_ms, hash hex)`.
fn image_rows(rows: &[Row]) -> Vec<(String, String, i64, String)> {
    let mix = |mut x: u64| {
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    };
    rows.iter()
        .map(|(o, a, c, t)| {
            let object: u64 = o[1..].parse().unwrap();
            let share: u64 = c[1..].parse().unwrap();
            let mut h: [u64; 4] = std::array::from_fn(|i| mix(object * 4 + i as u64 + 1));
            for b in 0..mix(share) % 16 {
                let bit = mix(share ^ (b << 40)) % 256;
                h[(bit / 64) as usize] ^= 1 << (bit % 64);
            }
            let hex: String = h.iter().map(|w| format!("{w:016x}")).collect();
            (c.clone(), a.clone(), t * 1000, hex)
        })
        .collect()
}

fn run_co_image(rows: &[(String, String, i64, String)]) -> u64 {
    let mut s = StreamingDirected::new(Kind::CoImage, DirectedStreamParams::default()).unwrap();
    let mut pairs = 0u64;
    let mut sink = |_: &MatchedPair| pairs += 1;
    for (c, a, t, h) in rows {
        s.push_keys(c, a, *t, [h], &mut sink);
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
        let images = image_rows(&sorted);
        g.bench_with_input(BenchmarkId::new("directed co-image", n), &images, |b, r| {
            b.iter(|| run_co_image(r))
        });
    }
    g.finish();
}

criterion_group!(benches, stream_bench);
criterion_main!(benches);
