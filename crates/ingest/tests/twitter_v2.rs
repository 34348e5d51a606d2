//! Twitter API v2 importer on small inline pages and lines written for these
//! tests (always run), and on the twarc test pages in the shared data folder
//! (read in place, never copied; those tests belong to the real-data suite:
//! `--features real-data`).

use pharos_core::{MediaKind, Post};
#[cfg(feature = "real-data")]
use pharos_ingest::read_path;
use pharos_ingest::{Format, Item, Options, Rejection, read_reader};
use std::ops::ControlFlow;
#[cfg(feature = "real-data")]
use std::path::PathBuf;

#[cfg(feature = "real-data")]
fn fixture(name: &str) -> PathBuf {
    let base = std::env::var("PHAROS_DATA").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data").to_string()
    });
    let p = PathBuf::from(base).join("fixtures/twitter-v2").join(name);
    assert!(
        p.exists(),
        "missing Twitter v2 fixture {} (twarc-csv test data in the shared data folder; set PHAROS_DATA)",
        p.display()
    );
    p
}

fn opts() -> Options {
    Options {
        format: Format::TwitterV2,
        detect_language: false,
        ..Options::new()
    }
}

#[cfg(feature = "real-data")]
fn collect_path(name: &str) -> (Vec<Post>, Vec<Rejection>) {
    let mut posts = Vec::new();
    let mut rejected = Vec::new();
    read_path(&fixture(name), &opts(), &mut |item| {
        match item {
            Item::Post(p) => posts.push(*p),
            Item::Rejected(r) => rejected.push(r),
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    (posts, rejected)
}

fn collect_str(text: &str) -> (Vec<Post>, Vec<Rejection>) {
    let mut posts = Vec::new();
    let mut rejected = Vec::new();
    let mut reader = std::io::Cursor::new(text.as_bytes().to_vec());
    read_reader(
        &mut reader,
        "inline.jsonl",
        Format::TwitterV2,
        &opts(),
        &mut |item| {
            match item {
                Item::Post(p) => posts.push(*p),
                Item::Rejected(r) => rejected.push(r),
            }
            ControlFlow::Continue(())
        },
    )
    .unwrap();
    (posts, rejected)
}

#[test]
#[cfg(feature = "real-data")]
fn detects_the_fixtures_as_twitter_v2() {
    for name in [
        "brexit.jsonl",
        "two_tweets.jsonl",
        "streaming_output_with_error.jsonl",
        "many_urls.jsonl",
    ] {
        let path = fixture(name);
        let mut r = pharos_ingest::input::open(&path).unwrap();
        assert_eq!(
            pharos_ingest::detect::detect(&path, &mut r).unwrap(),
            Format::TwitterV2,
            "{name}"
        );
    }
}

#[test]
#[cfg(feature = "real-data")]
fn brexit_page() {
    let (posts, rejected) = collect_path("brexit.jsonl");
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(posts.len(), 100);
    assert!(
        posts
            .iter()
            .all(|p| p.platform == "twitter" && p.provenance.line == Some(1))
    );
    // Every author is in includes.users: all actors are resolved.
    assert!(
        posts
            .iter()
            .all(|p| p.actor.handle.is_some() && p.actor.created.is_some())
    );
    let first = &posts[0];
    assert_eq!(first.id, "1440716895355764743");
    assert_eq!(first.actor.id, "4203239195");
    assert_eq!(first.time.to_rfc3339(), "2021-09-22T16:37:29.000Z");
    assert_eq!(first.hashtags, vec!["peoplesvote", "brexit"]);
    assert_eq!(first.lang.as_deref(), Some("en"));
    assert_eq!(first.engagement.likes, Some(0));
    assert_eq!(posts.iter().filter(|p| p.reshare_of.is_some()).count(), 67);
    assert_eq!(posts.iter().filter(|p| p.quote_of.is_some()).count(), 11);
    assert_eq!(posts.iter().filter(|p| p.reply_to.is_some()).count(), 10);

    // A reply with an animated GIF resolved through includes.media.
    let reply = posts
        .iter()
        .find(|p| p.id == "1440716745577140229")
        .unwrap();
    assert_eq!(reply.reply_to.as_deref(), Some("1440621713281093641"));
    assert_eq!(reply.media.len(), 1);
    assert_eq!(reply.media[0].kind, MediaKind::Animation);
    assert_eq!(
        reply.media[0].url,
        "https://pbs.twimg.com/tweet_video_thumb/E_50PPpUYAIE3uX.jpg"
    );
    assert!(
        reply.links.is_empty(),
        "the pic.twitter.com link of its own media is not a link: {:?}",
        reply.links
    );
    assert_eq!(reply.mentions, vec!["andrewknight226"]);

    // A retweet keeps its own (truncated) text and gets the photo.
    let rt = posts
        .iter()
        .find(|p| p.id == "1440715801820950541")
        .unwrap();
    assert_eq!(rt.reshare_of.as_deref(), Some("1440653508089237514"));
    assert!(rt.text.starts_with("RT @rec777777: Shelf update!"));
    assert_eq!(rt.media[0].kind, MediaKind::Photo);
    assert_eq!(
        rt.media[0].url,
        "https://pbs.twimg.com/media/E_46ur4VkAEswOJ.jpg"
    );
    assert_eq!(rt.engagement.reshares, Some(16));
    assert_eq!(rt.actor.id, "1081220949947629573");

    // Links use the expanded URL.
    assert!(posts.iter().any(|p| p.links.iter().any(|l| l.url
        == "https://www.nytimes.com/2021/09/22/world/europe/france-submarines-biden.html"
        && l.domain == "nytimes.com")));
}

#[test]
#[cfg(feature = "real-data")]
fn retweet_and_its_author() {
    let (posts, rejected) = collect_path("two_tweets.jsonl");
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(posts.len(), 1, "includes.tweets are context, not posts");
    let p = &posts[0];
    assert_eq!(p.id, "1394735776701816833");
    assert_eq!(p.reshare_of.as_deref(), Some("1391677057810288641"));
    assert_eq!(p.text, "RT @bibaigna96: #POIUYTREWQ");
    assert_eq!(p.lang, None, "und is unknown");
    assert_eq!(p.hashtags, vec!["poiuytrewq"]);
    assert_eq!(p.mentions, vec!["bibaigna96"]);
    let a = &p.actor;
    assert_eq!(a.id, "1379899464345923590");
    assert_eq!(a.handle.as_deref(), Some("LachiVeronica"));
    assert_eq!(a.name.as_deref(), Some("Veronica Lachi"));
    assert_eq!(a.created.unwrap().to_rfc3339(), "2021-04-07T20:50:54.000Z");
    assert_eq!(
        (a.followers, a.following, a.posts, a.verified),
        (Some(0), Some(4), Some(2), Some(false))
    );
}

#[test]
#[cfg(feature = "real-data")]
fn streaming_pages_and_a_cut_line() {
    let (posts, rejected) = collect_path("streaming_output_with_error.jsonl");
    assert_eq!(posts.len(), 7, "one tweet per streaming page");
    assert_eq!(posts[0].id, "1377650090978992134");
    assert_eq!(posts[0].quote_of.as_deref(), Some("1377640162566496258"));
    assert_eq!(posts[0].media.len(), 1);
    assert!(
        posts
            .iter()
            .enumerate()
            .all(|(i, p)| p.provenance.line == Some(i as u64 + 1))
    );
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0].line, Some(8));
    assert!(
        rejected[0].reason.contains("cut short"),
        "{}",
        rejected[0].reason
    );
    assert!(rejected[0].raw.starts_with("{\"data\": {\"author_id\""));
}

#[test]
#[cfg(feature = "real-data")]
fn unwound_and_expanded_urls() {
    let (posts, _) = collect_path("many_urls.jsonl");
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].reply_to.as_deref(), Some("1610623087061471232"));
    assert!(
        posts[0]
            .links
            .iter()
            .any(|l| l.domain == "uiadrian.gumroad.com")
    );
}

#[test]
#[cfg(feature = "real-data")]
fn page_with_errors_keeps_its_tweets() {
    let (posts, rejected) = collect_path("kpop.jsonl");
    assert_eq!(posts.len(), 100);
    assert!(rejected.is_empty(), "{rejected:?}");
}

#[test]
#[cfg(feature = "real-data")]
fn users_page_is_not_tweets() {
    let (posts, rejected) = collect_path("users.jsonl");
    assert!(posts.is_empty());
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].line, Some(1));
    assert!(
        rejected[0].reason.contains("96 user objects"),
        "{}",
        rejected[0].reason
    );
}

#[test]
fn flattened_tweets() {
    let line = r#"{"id":"20","text":"RT @orig: look https://t.co/a","author_id":"7","created_at":"2022-01-02T03:04:05.000Z","lang":"en","author":{"id":"7","username":"Flat","name":"Flat \"One\"","created_at":"2020-01-01T00:00:00.000Z","public_metrics":{"followers_count":5,"following_count":6,"tweet_count":7},"verified":true,"profile_image_url":"https://pbs.twimg.com/profile_images/1/a_normal.jpg"},"entities":{"mentions":[{"start":3,"end":8,"username":"orig","id":"8","name":"Orig"}]},"referenced_tweets":[{"type":"retweeted","id":"10","text":"look https://t.co/a #Tag","author_id":"8","entities":{"urls":[{"url":"https://t.co/a","expanded_url":"https://example.com/story?utm_source=tw"}],"hashtags":[{"tag":"Tag"}]},"attachments":{"media_keys":["3_1"],"media":[{"media_key":"3_1","type":"video","preview_image_url":"https://pbs.twimg.com/v.jpg"}]}}],"public_metrics":{"retweet_count":3,"reply_count":1,"like_count":2,"quote_count":9,"impression_count":100},"__twarc":{"url":"x"}}
{"id":"21","text":"quoting","author_id":"7","created_at":"2022-01-02T03:05:05.000Z","referenced_tweets":[{"type":"quoted","id":"10"},{"type":"replied_to","id":"11"}],"attachments":{"media":[{"type":"photo","url":"https://pbs.twimg.com/p.jpg"}]}}
"#;
    let (posts, rejected) = collect_str(line);
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(posts.len(), 2);
    let p = &posts[0];
    assert_eq!(p.actor.handle.as_deref(), Some("Flat"));
    assert_eq!(p.actor.name.as_deref(), Some("Flat \"One\""));
    assert_eq!(p.actor.verified, Some(true));
    assert_eq!(p.actor.posts, Some(7));
    assert_eq!(
        p.actor.avatar.as_deref(),
        Some("https://pbs.twimg.com/profile_images/1/a_normal.jpg")
    );
    assert_eq!(p.reshare_of.as_deref(), Some("10"));
    assert_eq!(p.text, "RT @orig: look https://t.co/a");
    assert_eq!(p.links.len(), 1);
    assert_eq!(p.links[0].url, "https://example.com/story");
    assert_eq!(p.hashtags, vec!["tag"]);
    assert_eq!(p.media[0].kind, MediaKind::Video);
    assert_eq!(p.engagement.views, Some(100));
    assert_eq!(p.engagement.reshares, Some(3));
    assert_eq!(p.engagement.replies, Some(1));
    let q = &posts[1];
    assert_eq!(q.quote_of.as_deref(), Some("10"));
    assert_eq!(q.reply_to.as_deref(), Some("11"));
    assert_eq!(q.media[0].url, "https://pbs.twimg.com/p.jpg");
    assert_eq!(q.actor.handle, None, "no author object: bare id");
    assert_eq!(q.actor.avatar, None);
    assert_eq!(q.actor.id, "7");
}

#[test]
fn bad_lines_are_rejected_and_reading_goes_on() {
    let text = concat!(
        "not json\n",
        "{\"errors\":[{\"title\":\"Not Found Error\"}]}\n",
        "\n",
        "{\"data\":[{\"id\":\"1\",\"text\":\"no author\",\"created_at\":\"2021-01-01T00:00:00Z\"},{\"id\":\"2\",\"author_id\":\"9\",\"text\":\"ok\",\"created_at\":\"2021-01-01T00:00:00Z\"},{\"id\":\"3\",\"author_id\":\"9\",\"text\":\"no time\"},{\"id\":\"4\",\"author_id\":\"9\",\"created_at\":\"yesterday\"}]}\n",
        "{\"id\":\"5\",\"author_id\":\"9\"}\n",
        "[1,2]\n",
        "{\"foo\":1}\n",
        "{\"data\":{\"id\":\"6\",\"author_id\":\"9\",\"text\":\"x\",\"created_at\":\"2021-01-01T00:00:01Z\"}}\n",
        "{\"data\":[]}\n",
        "{\"data\":[{\"id\":\"7\",\"aut",
    );
    let (posts, rejected) = collect_str(text);
    let ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, vec!["2", "6"]);
    let got: Vec<(Option<u64>, &str)> = rejected
        .iter()
        .map(|r| (r.line, r.reason.as_str()))
        .collect();
    assert_eq!(got.len(), 8, "{got:#?}");
    assert_eq!(got[0].0, Some(1));
    assert!(got[0].1.starts_with("not JSON: "), "{}", got[0].1);
    assert!(
        got[5]
            .1
            .starts_with("not shaped like a Twitter API v2 page or tweet"),
        "{}",
        got[5].1
    );
    assert_eq!(
        got[1],
        (
            Some(4),
            "tweet 1 without \"author_id\" (tweet 1 of 4 in the page)"
        )
    );
    assert!(
        rejected[1].raw.contains("no author") && !rejected[1].raw.contains("no time"),
        "raw is the tweet: {}",
        rejected[1].raw
    );
    assert_eq!(
        got[2],
        (
            Some(4),
            "tweet 3 without \"created_at\" (tweet 3 of 4 in the page)"
        )
    );
    assert!(
        got[3].1.starts_with("tweet 4: bad timestamp \"yesterday\""),
        "{}",
        got[3].1
    );
    assert_eq!(got[4], (Some(5), "tweet 5 without \"created_at\""));
    assert_eq!(got[5].0, Some(6));
    assert_eq!(got[6].0, Some(7));
    assert!(got[6].1.contains("neither a Twitter API v2 page"));
    assert_eq!(got[7].0, Some(10));
    assert!(got[7].1.contains("cut short"));
}

#[test]
#[cfg(feature = "real-data")]
fn garbage_and_truncated_gzip_do_not_panic() {
    let garbage: Vec<u8> = (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect();
    let mut n = 0;
    let mut reader = std::io::Cursor::new(garbage);
    read_reader(
        &mut reader,
        "garbage",
        Format::TwitterV2,
        &opts(),
        &mut |_| {
            n += 1;
            ControlFlow::Continue(())
        },
    )
    .unwrap();
    assert!(n > 0);

    // A gzip file cut in the middle: the lines before the cut, then one read error.
    let data = std::fs::read(fixture("streaming_output_with_error.jsonl")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &data).unwrap();
    let bytes = gz.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.jsonl.gz");
    std::fs::write(&path, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let mut posts = 0;
    let mut rejected = Vec::new();
    read_path(&path, &opts(), &mut |item| {
        match item {
            Item::Post(_) => posts += 1,
            Item::Rejected(r) => rejected.push(r),
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    assert!((1..7).contains(&posts), "{posts}");
    assert!(
        rejected.last().unwrap().reason.contains("read error"),
        "{rejected:?}"
    );
}

#[test]
#[cfg(feature = "real-data")]
fn the_sink_can_stop_reading() {
    let mut n = 0;
    read_path(&fixture("brexit.jsonl"), &opts(), &mut |_| {
        n += 1;
        if n == 3 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    assert_eq!(n, 3);
}

/// A response page written for this test: a retweet, a quote and a reply
/// with their authors and referenced tweets in `includes`, media and URLs.
const PAGE: &str = r#"{"data":[{"id":"100","author_id":"1","created_at":"2024-03-01T10:00:00.000Z","text":"RT @bob: Big news https://t.co/a","lang":"en","referenced_tweets":[{"type":"retweeted","id":"90"}],"entities":{"mentions":[{"start":3,"end":7,"username":"bob"}]},"public_metrics":{"retweet_count":5,"reply_count":0,"like_count":0,"quote_count":0}},{"id":"101","author_id":"2","created_at":"2024-03-01T10:00:05.250Z","text":"Look at this #Energy https://t.co/b","lang":"en","referenced_tweets":[{"type":"quoted","id":"90"}],"entities":{"hashtags":[{"start":13,"end":20,"tag":"Energy"}],"urls":[{"start":21,"end":44,"url":"https://t.co/b","expanded_url":"https://www.example.org/story?utm_source=twitter&id=3"}]},"attachments":{"media_keys":["3_1"]},"public_metrics":{"retweet_count":1,"reply_count":2,"like_count":7,"quote_count":0,"impression_count":99}},{"id":"102","author_id":"1","created_at":"2024-03-01T10:01:00.000Z","text":"@bob agreed","lang":"und","referenced_tweets":[{"type":"replied_to","id":"90"}],"in_reply_to_user_id":"3"}],"includes":{"users":[{"id":"1","username":"alice","name":"Alice A","created_at":"2020-01-01T00:00:00.000Z","verified":false,"public_metrics":{"followers_count":10,"following_count":20,"tweet_count":300,"listed_count":0}},{"id":"2","username":"carol","name":"Carol C","created_at":"2019-05-05T00:00:00.000Z","verified":true,"public_metrics":{"followers_count":1000,"following_count":5,"tweet_count":40,"listed_count":3}},{"id":"3","username":"bob","name":"Bob B"}],"tweets":[{"id":"90","author_id":"3","created_at":"2024-03-01T09:59:00.000Z","text":"Big news https://t.co/a","entities":{"urls":[{"start":9,"end":23,"url":"https://t.co/a","expanded_url":"https://news.example.com/big"}]}}],"media":[{"media_key":"3_1","type":"photo","url":"https://pbs.twimg.com/media/x.jpg"}]}}"#;

#[test]
fn written_page_resolves_references_authors_and_entities() {
    let (posts, rejected) = collect_str(PAGE);
    assert!(rejected.is_empty(), "{rejected:?}");
    let ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["100", "101", "102"], "only data tweets become posts");
    let rt = &posts[0];
    assert_eq!(rt.platform, "twitter");
    assert_eq!(rt.reshare_of.as_deref(), Some("90"));
    assert_eq!(rt.actor.handle.as_deref(), Some("alice"));
    assert_eq!(rt.actor.followers, Some(10));
    assert_eq!(rt.actor.posts, Some(300));
    assert_eq!(rt.engagement.reshares, Some(5));
    assert_eq!(rt.mentions, ["bob"]);
    assert!(
        rt.links
            .iter()
            .any(|l| l.url == "https://news.example.com/big"),
        "a retweet also gets the original's links: {:?}",
        rt.links
    );
    let q = &posts[1];
    assert_eq!(q.quote_of.as_deref(), Some("90"));
    assert_eq!(q.time.to_rfc3339(), "2024-03-01T10:00:05.250Z");
    assert_eq!(q.hashtags, ["energy"]);
    assert_eq!(q.links[0].url, "https://www.example.org/story?id=3");
    assert_eq!(q.domains, ["example.org"]);
    assert_eq!(q.media.len(), 1);
    assert_eq!(q.media[0].kind, MediaKind::Photo);
    assert_eq!(q.actor.verified, Some(true));
    assert_eq!(q.engagement.likes, Some(7));
    assert_eq!(q.engagement.views, Some(99));
    let reply = &posts[2];
    assert_eq!(reply.reply_to.as_deref(), Some("90"));
    assert_eq!(reply.lang, None, "`und` is no language");
    assert_eq!(reply.provenance.line, Some(1));
}

#[test]
fn media_keep_their_keys_and_urls_and_an_unresolved_key_is_kept() {
    let (posts, rejected) = collect_str(PAGE);
    assert!(rejected.is_empty(), "{rejected:?}");
    let q = &posts[1];
    assert_eq!(q.media[0].key.as_deref(), Some("3_1"));
    assert_eq!(q.media[0].url, "https://pbs.twimg.com/media/x.jpg");

    // Two keys, one missing from includes.media: the missing one is kept by
    // its key (no URL, kind unknown); a repeated key is one item.
    let page = r#"{"data":[{"id":"5","author_id":"1","created_at":"2024-03-01T10:00:00.000Z","text":"two pictures","attachments":{"media_keys":["3_1","3_9","3_1"]}}],"includes":{"users":[{"id":"1","username":"a"}],"media":[{"media_key":"3_1","type":"photo","url":"https://pbs.twimg.com/media/x.jpg"}]}}"#;
    let (posts, rejected) = collect_str(page);
    assert!(rejected.is_empty(), "{rejected:?}");
    let media: Vec<(&str, Option<&str>, MediaKind)> = posts[0]
        .media
        .iter()
        .map(|m| (m.url.as_str(), m.key.as_deref(), m.kind))
        .collect();
    assert_eq!(
        media,
        [
            (
                "https://pbs.twimg.com/media/x.jpg",
                Some("3_1"),
                MediaKind::Photo
            ),
            ("", Some("3_9"), MediaKind::Other),
        ]
    );
    // The canonical JSON keeps the key, and reads it back.
    let json = serde_json::to_string(&posts[0]).unwrap();
    assert!(json.contains(r#""key":"3_9""#), "{json}");
    let back: Post = serde_json::from_str(&json).unwrap();
    assert_eq!(back.media, posts[0].media);
}
