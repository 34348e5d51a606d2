//! Parsing speed of the importers (format reader + normaliser, language
//! detection off): `cargo bench -p pharos-ingest --bench parse`.
//!
//! - `twitter_v2/flattened`: synthetic flattened tweets (one a line, about
//!   1 KB each, with author, entities, a reference and metrics), so the
//!   figure does not depend on any data set.
//! - `twitter_v2/brexit_pages`: the twarc `brexit.jsonl` page (100 tweets
//!   with 177 users and 59 context tweets in its includes) repeated; run
//!   only when the shared data folder is there (`$PHAROS_DATA`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pharos_ingest::{Format, Item, Options, read_reader};
use std::hint::black_box;
use std::ops::ControlFlow;
use std::path::PathBuf;

fn synthetic_flattened(n: usize) -> Vec<u8> {
    let mut out = String::with_capacity(n * 1100);
    for i in 0..n {
        let author = 1_000_000 + (i % 5000);
        let kind = ["retweeted", "quoted", "replied_to"][i % 3];
        out.push_str(&format!(
            concat!(
                r#"{{"id":"{id}","text":"RT @user{a}: Something is happening in the city tonight, officials say #Breaking #News https://t.co/abc{id}","#,
                r#""author_id":"{a}","created_at":"2022-10-04T15:{m:02}:{s:02}.000Z","lang":"en","conversation_id":"{id}","#,
                r#""possibly_sensitive":false,"reply_settings":"everyone","source":"Twitter for iPhone","#,
                r#""author":{{"id":"{a}","username":"user{a}","name":"User Number {a}","created_at":"2015-01-04T01:05:02.000Z","#,
                r#""public_metrics":{{"followers_count":{f},"following_count":321,"tweet_count":76329,"listed_count":3}},"verified":false,"protected":false,"#,
                r#""profile_image_url":"https://pbs.twimg.com/profile_images/1545267135630282752/EELMZ44V_normal.jpg","description":"Just a person on the internet"}},"#,
                r#""entities":{{"hashtags":[{{"start":60,"end":69,"tag":"Breaking"}},{{"start":70,"end":75,"tag":"News"}}],"#,
                r#""mentions":[{{"start":3,"end":12,"username":"user{a}","id":"{a}"}}],"#,
                r#""urls":[{{"start":76,"end":99,"url":"https://t.co/abc{id}","expanded_url":"https://www.example-news.com/2022/10/04/story-{i}.html?utm_source=twitter","display_url":"example-news.com/2022/10/04/sto…"}}]}},"#,
                r#""referenced_tweets":[{{"type":"{kind}","id":"{r}"}}],"#,
                r#""public_metrics":{{"retweet_count":16,"reply_count":2,"like_count":40,"quote_count":1}},"__twarc":{{"url":"https://api.twitter.com/2/tweets/search/recent","version":"2.12.0","retrieved_at":"2022-10-04T16:00:00+00:00"}}}}"#,
                "\n"
            ),
            id = 1_577_318_900_085_186_562u64 + i as u64,
            a = author,
            m = i % 60,
            s = (i / 60) % 60,
            f = i % 10_000,
            i = i,
            kind = kind,
            r = 1_500_000_000_000_000_000u64 + i as u64,
        ));
    }
    out.into_bytes()
}

fn count_posts(bytes: &[u8], opts: &Options) -> usize {
    let mut n = 0;
    let mut reader = std::io::Cursor::new(bytes);
    read_reader(&mut reader, "bench", Format::TwitterV2, opts, &mut |item| {
        if let Item::Post(p) = item {
            n += 1;
            black_box(p);
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    n
}

fn twitter_v2(c: &mut Criterion) {
    let opts = Options {
        detect_language: false,
        ..Options::new()
    };
    let mut g = c.benchmark_group("twitter_v2");
    g.sample_size(20);

    let n = 20_000;
    let flat = synthetic_flattened(n);
    assert_eq!(count_posts(&flat, &opts), n);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("flattened", |b| b.iter(|| count_posts(&flat, &opts)));

    let data = std::env::var("PHAROS_DATA").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").to_string()
    });
    let brexit = PathBuf::from(data).join("fixtures/twitter-v2/brexit.jsonl");
    match std::fs::read(&brexit) {
        Ok(page) => {
            let mut pages = Vec::with_capacity(page.len() * 50);
            for _ in 0..50 {
                pages.extend_from_slice(&page);
                if !page.ends_with(b"\n") {
                    pages.push(b'\n');
                }
            }
            let n = count_posts(&pages, &opts);
            assert_eq!(n, 5_000);
            g.throughput(Throughput::Elements(n as u64));
            g.bench_function("brexit_pages", |b| b.iter(|| count_posts(&pages, &opts)));
        }
        Err(e) => eprintln!(
            "twitter_v2/brexit_pages skipped: {} ({e})",
            brexit.display()
        ),
    }
    g.finish();
}

criterion_group!(benches, twitter_v2);
criterion_main!(benches);
