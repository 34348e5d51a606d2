//! Social-media importers on the real data sets in the shared data folder
//! (`$PHAROS_DATA`, else `../shared/data` next to the repository):
//! `cargo test -p pharos-ingest --features real-data --test real_data_social`.
//! A missing file fails the test with its path: these tests never pass
//! without their data.
#![cfg(feature = "real-data")]

use pharos_core::Post;
use pharos_ingest::{Format, Item, Options, Rejection, read_path};
use std::collections::{BTreeMap, HashSet};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

fn data_dir() -> PathBuf {
    PathBuf::from(std::env::var("PHAROS_DATA").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").to_string()
    }))
}

fn require(rel: &str, what: &str) -> PathBuf {
    let p = data_dir().join(rel);
    assert!(
        p.exists(),
        "missing {what}: {} (set PHAROS_DATA to the shared data folder)",
        p.display()
    );
    p
}

fn read_all(path: &Path, format: Format) -> (Vec<Post>, Vec<Rejection>) {
    let opts = Options {
        format,
        detect_language: false,
        ..Options::new()
    };
    let mut posts = Vec::new();
    let mut rejected = Vec::new();
    read_path(path, &opts, &mut |item| {
        match item {
            Item::Post(p) => posts.push(*p),
            Item::Rejected(r) => rejected.push(r),
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    (posts, rejected)
}

#[test]
fn twitter_brexit_page() {
    let path = require(
        "fixtures/twitter-v2/brexit.jsonl",
        "twarc Twitter v2 page (100 tweets, 177 users)",
    );
    let (posts, rejected) = read_all(&path, Format::Auto);
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(posts.len(), 100);
    // The page's includes hold 177 users; every one of the 98 authors is among them.
    let users: HashSet<String> = {
        let line = std::fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        v["includes"]["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(users.len(), 177);
    let authors: HashSet<&str> = posts.iter().map(|p| p.actor.id.as_str()).collect();
    assert_eq!(authors.len(), 98);
    assert!(authors.iter().all(|a| users.contains(*a)));
    assert!(
        posts
            .iter()
            .all(|p| p.actor.handle.is_some() && p.actor.followers.is_some())
    );
    assert_eq!(posts.iter().filter(|p| p.reshare_of.is_some()).count(), 67);
    assert_eq!(posts.iter().filter(|p| p.quote_of.is_some()).count(), 11);
    assert_eq!(posts.iter().filter(|p| p.reply_to.is_some()).count(), 10);
    assert!(
        posts
            .iter()
            .all(|p| p.hashtags.iter().all(|h| *h == h.to_lowercase()))
    );
}

#[test]
fn twitter_all_fixtures() {
    let expect = [
        ("brexit.jsonl", 100, 0),
        ("kpop.jsonl", 100, 0),
        ("cotweet.jsonl", 1, 0),
        ("many_urls.jsonl", 1, 0),
        ("two_tweets.jsonl", 1, 0),
        ("streaming_output_with_error.jsonl", 7, 1),
        ("users.jsonl", 0, 1),
    ];
    for (name, n_posts, n_rejected) in expect {
        let path = require(
            &format!("fixtures/twitter-v2/{name}"),
            "twarc Twitter v2 fixture",
        );
        let (posts, rejected) = read_all(&path, Format::TwitterV2);
        assert_eq!(
            (posts.len(), rejected.len()),
            (n_posts, n_rejected),
            "{name}: {rejected:?}"
        );
    }
}

#[test]
fn telegram_news_channel_dumps() {
    let tarball = require(
        "telegram/ru_news_channels_2024.tar.gz",
        "Russian news channel dumps (tar of raw/*.json, 22,099 posts over 24 channels)",
    );
    let dir = tempfile::tempdir().unwrap();
    let file = std::fs::File::open(&tarball).unwrap();
    tar::Archive::new(flate2::read::GzDecoder::new(file))
        .unpack(dir.path())
        .unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.path().join("raw"))
        .expect("the archive holds raw/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 24);

    let mut total = 0;
    let mut per_actor: BTreeMap<String, usize> = BTreeMap::new();
    let mut ids = HashSet::new();
    for f in &files {
        // Detection must pick the dump format by itself.
        let (posts, rejected) = read_all(f, Format::Auto);
        assert!(rejected.is_empty(), "{}: {rejected:?}", f.display());
        assert!(!posts.is_empty(), "{}", f.display());
        // raw/1001000724666_messages.json holds channel -1001000724666.
        let stem = f.file_name().unwrap().to_string_lossy();
        let bare = stem
            .trim_end_matches("_messages.json")
            .strip_prefix("100")
            .unwrap();
        for (i, p) in posts.iter().enumerate() {
            assert_eq!(p.platform, "telegram");
            assert_eq!(p.actor.id, format!("channel{bare}"));
            assert!(p.id.starts_with(&format!("{bare}/")), "{}", p.id);
            assert!(p.actor.name.is_some());
            assert_eq!(p.provenance.record, Some(i as u64 + 1));
            assert!(
                !p.text.contains("](http"),
                "markdown links are resolved: {}",
                p.id
            );
            ids.insert(p.id.clone());
        }
        total += posts.len();
        *per_actor.entry(posts[0].actor.id.clone()).or_default() += posts.len();
    }
    assert_eq!(total, 22_099);
    assert_eq!(per_actor.len(), 24);
    assert_eq!(ids.len(), 22_099, "post ids are unique");

    // One known post.
    let naked = dir.path().join("raw/1001000724666_messages.json");
    let (posts, _) = read_all(&naked, Format::TelegramDump);
    let first = &posts[0];
    assert_eq!(first.id, "1000724666/11877");
    assert_eq!(first.actor.name.as_deref(), Some("Naked Science"));
    assert_eq!(first.time.to_rfc3339(), "2024-12-04T09:00:28.000Z");
    assert!(
        first
            .text
            .starts_with("В Китае нашли ударный кратер необычной формы")
    );
    assert_eq!(first.domains, ["naked-science.ru"]);
}
