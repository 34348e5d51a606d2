//! CSV importer on real data sets in the shared data folder
//! (`$PHAROS_DATA`, else `../shared/data` next to the repository):
//! `cargo test -p pharos-ingest --features real-data --test real_data_csv`.
//! A missing file fails the test with its path: these tests never pass
//! without their data.
#![cfg(feature = "real-data")]

use pharos_core::{EventTime, Post};
use pharos_ingest::{CsvOptions, Format, Item, Options, Preset, Rejection};
use std::collections::HashSet;
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

fn read(
    path: &Path,
    preset: Option<Preset>,
    map: &str,
    platform: Option<&str>,
) -> (Vec<Post>, Vec<Rejection>) {
    let mut opts = Options::new();
    opts.format = Format::Csv;
    opts.detect_language = false;
    opts.platform = platform.map(str::to_string);
    opts.csv = CsvOptions {
        preset,
        map: CsvOptions::parse_map(map).unwrap(),
        delimiter: None,
    };
    let mut posts = Vec::new();
    let mut rejected = Vec::new();
    pharos_ingest::read_path(path, &opts, &mut |item| {
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
fn coortweet_russian_coord_tweets() {
    let path = require(
        "coortweet/russian_coord_tweets.csv.gz",
        "CooRTweet example data (object_id,account_id,content_id,timestamp_share)",
    );
    let (posts, rejected) = read(&path, Some(Preset::Coortweet), "", None);
    assert!(
        rejected.is_empty(),
        "{:?}",
        &rejected[..rejected.len().min(3)]
    );
    assert_eq!(posts.len(), 35_125);
    let p = &posts[0];
    assert_eq!(p.platform, "twitter");
    assert_eq!(p.id, "114e22f1b2b648528277b76f0b0224e7");
    assert_eq!(p.actor.id, "0fb4232d1b7b37069c13ee17579bd10e");
    assert_eq!(
        p.reshare_of.as_deref(),
        Some("85d2d12251a735ce05255061f7f231e2")
    );
    assert_eq!(p.time, EventTime(1_623_881_091_000));
    assert_eq!(p.provenance.line, Some(2));
    assert_eq!(posts.last().unwrap().provenance.line, Some(35_126));
    let ids: HashSet<&str> = posts.iter().map(|p| p.id.as_str()).collect();
    let actors: HashSet<&str> = posts.iter().map(|p| p.actor.id.as_str()).collect();
    let objects: HashSet<&str> = posts
        .iter()
        .filter_map(|p| p.reshare_of.as_deref())
        .collect();
    assert_eq!(
        (ids.len(), actors.len(), objects.len()),
        (35_085, 9_509, 7_285)
    );
    let min = posts.iter().map(|p| p.time).min().unwrap();
    let max = posts.iter().map(|p| p.time).max().unwrap();
    assert_eq!(
        (min, max),
        (
            EventTime::from_secs(1_610_870_193),
            EventTime::from_secs(1_630_318_860)
        )
    );

    // Detected from the header without a preset: the same posts.
    let (again, _) = read(&path, None, "", None);
    assert_eq!(again.len(), posts.len());
    assert_eq!(again[0], posts[0]);
}

#[test]
fn coortweet_german_elections_with_a_map() {
    let path = require(
        "coortweet/german_elections.csv.gz",
        "CooRTweet German elections data (account_id,post_id,url_id,hashtag_id,domain_id,phash_id,timestamp)",
    );
    let (posts, rejected) = read(
        &path,
        None,
        "id=post_id,actor_id=account_id,time=timestamp,urls=url_id,hashtags=hashtag_id,media=phash_id",
        Some("mixed"),
    );
    assert!(
        rejected.is_empty(),
        "{:?}",
        &rejected[..rejected.len().min(3)]
    );
    assert_eq!(
        posts.len(),
        218_971,
        "one post per row (the store deduplicates)"
    );
    let p = &posts[0];
    assert_eq!(p.platform, "mixed");
    assert_eq!((p.id.as_str(), p.actor.id.as_str()), ("129235", "fb_12670"));
    assert_eq!(p.time, EventTime::from_secs(1_629_589_836));
    assert_eq!(p.links.len(), 1);
    assert_eq!(p.links[0].raw, "23678");
    assert!(p.hashtags.is_empty() && p.media.is_empty());
    assert_eq!(posts[3].media.len(), 1, "phash id as a media item");
    // Three rows have no post_id: their ids are derived from the row.
    let ids: HashSet<&str> = posts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids.len(), 194_323 + 3);
    let derived: Vec<&Post> = posts.iter().filter(|p| p.id.len() == 32).collect();
    assert_eq!(derived.len(), 3);
    assert_eq!(derived[0].actor.id, "fb_45");
    let twitter = posts
        .iter()
        .filter(|p| p.actor.id.starts_with("tw_"))
        .count();
    assert_eq!((twitter, posts.len() - twitter), (137_402, 81_569));
    assert_eq!(posts.iter().filter(|p| !p.links.is_empty()).count(), 50_785);
    assert_eq!(
        posts.iter().filter(|p| !p.hashtags.is_empty()).count(),
        51_194
    );
    assert_eq!(posts.iter().filter(|p| !p.media.is_empty()).count(), 20_068);
}

#[test]
fn pheme_germanwings_without_ids() {
    let path = require(
        "pheme/germanwings-crash.csv",
        "PHEME germanwings-crash table (text,is_rumor,user.handle,created)",
    );
    let (posts, rejected) = read(
        &path,
        None,
        "text=text,actor_handle=user.handle,time=created",
        Some("twitter"),
    );
    // Rows broken by unquoted line breaks in the source (lone CRs, which the
    // csv parser takes as row ends, and one LF); line numbers count LFs, as
    // `sed -n 4254p` does. One blank line is skipped.
    let bad: Vec<(Option<u64>, &str)> = rejected
        .iter()
        .map(|r| (r.line, r.reason.as_str()))
        .collect();
    assert_eq!(
        bad.iter().map(|b| b.0.unwrap()).collect::<Vec<_>>(),
        [4254, 4254, 4268, 4268, 4532],
        "{bad:?}"
    );
    assert!(
        bad.iter()
            .all(|b| b.1 == "wrong number of fields: expected 4 (as in the header), found 1")
    );
    assert_eq!(rejected[4].raw, "@GR8_2B_alive");
    assert_eq!(posts.len(), 4_489);

    let p = &posts[0];
    assert_eq!(p.platform, "twitter");
    assert_eq!(p.actor.id, "324cat", "actor id from the handle");
    assert_eq!(
        p.time,
        EventTime(1_427_194_040_000),
        "epoch milliseconds written as a float"
    );
    assert_eq!(p.hashtags, ["últimahora"]);
    assert_eq!(p.links[0].url, "http://t.co/hT5BhpuGuv");
    assert_eq!(p.id.len(), 32, "derived id");
    let ids: HashSet<&str> = posts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids.len(), 4_489, "distinct rows, distinct derived ids");
    let handles: HashSet<&str> = posts.iter().map(|p| p.actor.id.as_str()).collect();
    assert_eq!(handles.len(), 2_933);
    assert_eq!(
        posts.iter().map(|p| p.time).min().unwrap(),
        EventTime(1_427_193_461_000)
    );
    assert_eq!(
        posts.iter().map(|p| p.time).max().unwrap(),
        EventTime(1_427_919_135_000)
    );

    // Re-reading gives the same ids (so re-ingesting deduplicates).
    let (again, _) = read(
        &path,
        None,
        "text=text,actor_handle=user.handle,time=created",
        Some("twitter"),
    );
    assert!(again.iter().zip(&posts).all(|(a, b)| a.id == b.id));
}
