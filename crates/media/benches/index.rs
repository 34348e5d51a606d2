//! The near-duplicate index at 1M hashes: one query at distance 31, and the
//! same query by linear scan for comparison. Hashes are random except for a
//! planted cluster of near copies around the query (as a reused image
//! would give).
//!
//! cargo bench -p pharos-media --bench index

use criterion::{Criterion, criterion_group, criterion_main};
use pharos_media::{Index, PdqHash};
use std::hint::black_box;

fn random_hashes(n: usize, mut s: u64) -> Vec<PdqHash> {
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    (0..n)
        .map(|_| PdqHash([next(), next(), next(), next()]))
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut hashes = random_hashes(1_000_000, 0x9e37_79b9_7f4a_7c15);
    let query = hashes[0];
    // 100 near copies, 1 to 30 bits away.
    for k in 0..100u64 {
        let mut w = query.0;
        for b in 0..(k % 30 + 1) {
            let bit = ((b * 37 + k * 11) % 256) as usize;
            w[bit / 64] ^= 1 << (bit % 64);
        }
        hashes.push(PdqHash(w));
    }
    let index = Index::new(hashes.clone());
    let mut g = c.benchmark_group("pdq_index_1m");
    g.bench_function("mih_query_d31", |b| {
        b.iter(|| black_box(index.query(black_box(&query), 31)).len())
    });
    let probe = random_hashes(1, 42)[0];
    g.bench_function("mih_query_d31_no_neighbours", |b| {
        b.iter(|| black_box(index.query(black_box(&probe), 31)).len())
    });
    g.sample_size(10);
    g.bench_function("linear_scan_d31", |b| {
        b.iter(|| {
            hashes
                .iter()
                .filter(|h| h.distance(black_box(&query)) <= 31)
                .count()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
