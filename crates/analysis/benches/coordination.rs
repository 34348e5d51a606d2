//! Coordination detection benchmarks.
//!
//! - `russian_coord_tweets`: CooRTweet's own example (35k retweets), 60 s /
//!   min participation 2, end to end: read the gzip CSV, detect, write pairs
//!   and edges to memory. CooRTweet takes about 38 s on it. Skipped, with a
//!   message, when the data is not there (`$PHAROS_DATA/coortweet/`).
//! - `synthetic co-retweet`: generated retweets (see
//!   `coordination::synthetic`), detection and network only.
//!
//! `cargo bench -p pharos-analysis --bench coordination`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use pharos_analysis::coordination::{
    Coordination, CoortweetParams, PairWriter, Subgraph, read_coortweet_csv, synthetic, write_edges,
};
use std::path::PathBuf;
use std::time::Duration;

fn data_dir() -> PathBuf {
    match std::env::var_os("PHAROS_DATA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
    }
}

fn params(tw: i64, mp: u32) -> CoortweetParams {
    CoortweetParams {
        time_window: tw,
        min_participation: mp,
        ..Default::default()
    }
}

/// Read, detect, write both CSVs (to memory): what `pharos coordination` does.
fn end_to_end(path: &std::path::Path, p: &CoortweetParams) -> (usize, usize) {
    let t = read_coortweet_csv(path).unwrap();
    let mut c = Coordination::new(&t, p).unwrap();
    let mut w = PairWriter::new(Vec::with_capacity(1 << 20), &t, None).unwrap();
    let edges = c.run(Some(&mut |pair| w.write(pair))).unwrap();
    let pairs = w.finish().unwrap();
    let net = edges.network(0.5, Subgraph::Full).unwrap();
    let mut e = Vec::with_capacity(1 << 20);
    write_edges(&mut e, &t, &net).unwrap();
    (pairs.len(), e.len())
}

fn russian(c: &mut Criterion) {
    let path = data_dir().join("coortweet/russian_coord_tweets.csv.gz");
    if !path.exists() {
        eprintln!(
            "skipping russian_coord_tweets: {} not found (set PHAROS_DATA)",
            path.display()
        );
        return;
    }
    let mut g = c.benchmark_group("russian_coord_tweets");
    g.sample_size(30);
    g.throughput(Throughput::Elements(35_125));
    g.bench_function("end_to_end_60s_mp2", |b| {
        b.iter(|| end_to_end(&path, &params(60, 2)))
    });
    let t = read_coortweet_csv(&path).unwrap();
    g.bench_function("detect_and_network_60s_mp2", |b| {
        b.iter(|| {
            let mut c = Coordination::new(&t, &params(60, 2)).unwrap();
            c.run(None).unwrap().network(0.5, Subgraph::Full).unwrap()
        })
    });
    g.finish();
}

fn synthetic_bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("synthetic_co_retweet");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    for &n in &[100_000usize, 1_000_000] {
        let t = synthetic::co_retweet_table(n, 42);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(
            BenchmarkId::new("detect_and_network_60s_mp2", n),
            &t,
            |b, t| {
                b.iter(|| {
                    let mut c = Coordination::new(t, &params(60, 2)).unwrap();
                    c.run(None).unwrap().network(0.5, Subgraph::Full).unwrap()
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, russian, synthetic_bench);
criterion_main!(benches);
