//! Generation speed in posts per second (`cargo bench -p pharos-sim`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pharos_sim::{SimConfig, simulate};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("simulate");
    g.sample_size(10);
    for n in [20_000u64, 100_000] {
        g.throughput(Throughput::Elements(n));
        g.bench_function(format!("{n}_posts_to_sink"), |b| {
            b.iter(|| {
                let cfg = SimConfig::new(n, 7);
                let truth = simulate(&cfg, &mut std::io::sink(), &mut |_| {}).unwrap();
                black_box(truth)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
