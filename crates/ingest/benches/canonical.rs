//! Parse + normalise speed of canonical JSONL (one core).
//!
//! `cargo bench -p pharos-ingest --bench canonical`
//! The input is 100k synthetic records shaped like real posts (actor with
//! counts, text of ~120 characters, a link, hashtags, a mention, a reshare
//! target every third post, engagement, provenance), held in memory so only
//! parsing and normalising are measured.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pharos_core::{Actor, Engagement, EventTime, Post, Provenance};
use pharos_ingest::{Format, Item, Options};
use std::ops::ControlFlow;

fn corpus(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * 700);
    for i in 0..n {
        let mut p = Post {
            platform: "twitter".into(),
            id: format!("{}", 1_400_000_000_000_000_000u64 + i as u64),
            actor: Actor {
                id: format!("{}", 10_000 + i % 5000),
                handle: Some(format!("user_{}", i % 5000)),
                name: Some(format!("User Number {}", i % 5000)),
                created: Some(EventTime(
                    1_300_000_000_000 + (i as i64 % 5000) * 86_400_000,
                )),
                followers: Some((i * 37 % 10_000) as u64),
                following: Some((i * 13 % 2_000) as u64),
                posts: Some((i * 7 % 50_000) as u64),
                verified: Some(false),
                avatar: None,
            },
            time: EventTime(1_700_000_000_000 + i as i64 * 250),
            text: format!(
                "Breaking: the ministry says energy prices will rise again this winter, #energy #prices @newsdesk {i} https://news.example.com/a/{i}"
            ),
            lang: Some("en".into()),
            hashtags: vec!["energy".into(), "prices".into()],
            mentions: vec!["newsdesk".into()],
            reshare_of: (i % 3 == 0)
                .then(|| format!("{}", 1_300_000_000_000_000_000u64 + i as u64 / 3)),
            engagement: Engagement {
                likes: Some((i % 100) as u64),
                reshares: Some((i % 10) as u64),
                replies: Some((i % 5) as u64),
                views: None,
            },
            provenance: Provenance {
                source: "sample.jsonl".into(),
                line: Some(i as u64 + 1),
                record: None,
            },
            ..Default::default()
        };
        p.add_link(&format!(
            "https://news.example.com/a/{i}?utm_source=twitter"
        ));
        p.refresh_domains();
        serde_json::to_writer(&mut out, &p).unwrap();
        out.push(b'\n');
    }
    out
}

fn bench(c: &mut Criterion) {
    let n = 100_000;
    let data = corpus(n);
    let mut g = c.benchmark_group("ingest");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("canonical_jsonl_parse_normalise", |b| {
        b.iter(|| {
            let mut count = 0usize;
            let mut reader: &[u8] = &data;
            let mut sink = |item: Item| {
                if let Item::Post(_) = item {
                    count += 1;
                }
                ControlFlow::Continue(())
            };
            pharos_ingest::read_reader(
                &mut reader,
                "bench",
                Format::Jsonl,
                &Options::new(),
                &mut sink,
            )
            .unwrap();
            assert_eq!(count, n);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
