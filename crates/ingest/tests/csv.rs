//! CSV importer: mapping, presets, derived ids, bad rows.

use pharos_core::{EventTime, MediaKind, Post};
use pharos_ingest::{CsvOptions, Format, IngestError, Item, Options, Preset, Rejection};
use sha2::{Digest, Sha256};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/csv")
        .join(name)
}

fn read(path: &Path, opts: &Options) -> Result<(Vec<Post>, Vec<Rejection>), IngestError> {
    let mut posts = Vec::new();
    let mut rejected = Vec::new();
    pharos_ingest::read_path(path, opts, &mut |item| {
        match item {
            Item::Post(p) => posts.push(*p),
            Item::Rejected(r) => rejected.push(r),
        }
        ControlFlow::Continue(())
    })?;
    Ok((posts, rejected))
}

fn opts_with(preset: Option<Preset>, map: &str) -> Options {
    let mut o = Options::new();
    o.format = Format::Csv;
    o.csv = CsvOptions {
        preset,
        map: CsvOptions::parse_map(map).unwrap(),
        delimiter: None,
    };
    o
}

fn ms(s: &str) -> EventTime {
    EventTime::parse(s).unwrap()
}

#[test]
fn mapped_columns_good_and_bad_rows() {
    let opts = opts_with(
        None,
        "id=tweet_id,actor_id=user,actor_handle=screen_name,time=created,text=content,lang=language,urls=links,likes=likes",
    );
    let (posts, rejected) = read(&fixture("mapped.csv"), &opts).unwrap();
    let ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["1001", "1002", "1004"]);

    let p = &posts[0];
    assert_eq!(p.platform, "unknown");
    assert_eq!(p.actor.id, "u1");
    assert_eq!(p.actor.handle.as_deref(), Some("Alice"));
    assert_eq!(p.time, EventTime(1_632_328_649_123));
    assert_eq!(
        p.lang.as_deref(),
        Some("en"),
        "language name read as a code"
    );
    assert_eq!(p.hashtags, ["world"]);
    assert!(
        p.links.is_empty(),
        "urls column mapped (empty here): no links from the text"
    );
    assert_eq!(p.engagement.likes, Some(5));
    assert_eq!(p.provenance.line, Some(2));

    let p = &posts[1];
    assert_eq!(p.time, EventTime(1_632_328_649_000));
    assert_eq!(p.actor.handle.as_deref(), Some("Bob"), "@ dropped");
    assert_eq!(p.lang.as_deref(), Some("ru"));
    assert_eq!(p.text, "Привет @Alice");
    assert_eq!(p.mentions, ["alice"]);
    let urls: Vec<&str> = p.links.iter().map(|l| l.url.as_str()).collect();
    assert_eq!(
        urls,
        ["https://a.org/x", "https://b.org/y"],
        "split on space and comma, normal forms deduplicated"
    );
    assert_eq!(p.domains, ["a.org", "b.org"]);
    assert_eq!(p.engagement.likes, Some(1234));
    assert_eq!(p.provenance.line, Some(3));

    let p = &posts[2];
    assert_eq!(p.time, ms("2021-09-22T08:00:00Z"));
    assert_eq!(p.text, "multi\nline \"quoted\" text");
    assert_eq!(p.lang.as_deref(), Some("de"));
    assert_eq!(
        p.provenance.line,
        Some(5),
        "a multi-line row is at the line it starts on"
    );

    let got: Vec<(Option<u64>, &str)> = rejected
        .iter()
        .map(|r| (r.line, r.reason.as_str()))
        .collect();
    assert_eq!(rejected.len(), 4, "{got:?}");
    assert_eq!(rejected[0].line, Some(4));
    assert_eq!(
        rejected[0].reason,
        "bad timestamp in column \"created\": \"yesterday\" (not a recognised date-time)"
    );
    assert_eq!(rejected[0].raw, "1003,u3,Carol,yesterday,some text,en,,");
    assert_eq!(rejected[1].line, Some(7));
    assert_eq!(
        rejected[1].reason,
        "wrong number of fields: expected 8 (as in the header), found 4"
    );
    assert_eq!(rejected[1].raw, "1005,u5,Eve,2021-09-22");
    assert_eq!(rejected[2].line, Some(8));
    assert_eq!(
        rejected[2].reason,
        "invalid UTF-8 in column \"content\" at byte 3"
    );
    assert!(
        rejected[2].raw.starts_with("1006,u6,Fay,"),
        "{}",
        rejected[2].raw
    );
    assert_eq!(rejected[3].line, Some(9), "truncated last row");
    assert!(
        rejected[3].reason.starts_with("wrong number of fields"),
        "{}",
        rejected[3].reason
    );
    assert!(rejected[3].raw.contains("cut off in the mid"));
    for r in &rejected {
        assert!(r.file.ends_with("mapped.csv"));
    }
}

#[test]
fn missing_mapped_column_fails_the_file_before_reading() {
    let opts = opts_with(None, "id=tweet_id,actor_id=user,time=posted_at");
    let mut calls = 0;
    let err = pharos_ingest::read_path(&fixture("mapped.csv"), &opts, &mut |_| {
        calls += 1;
        ControlFlow::Continue(())
    })
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, IngestError::Options(_)));
    assert!(
        msg.contains("mapped.csv") && msg.contains("\"posted_at\""),
        "{msg}"
    );
    assert_eq!(calls, 0);

    let e = CsvOptions::parse_map("id=a,user=b").unwrap_err();
    assert!(e.contains("unknown field \"user\""), "{e}");
}

#[test]
fn headers_match_case_insensitively() {
    let opts = opts_with(None, "id=TWEET_ID,actor_id=User,time=CREATED");
    let (posts, _) = read(&fixture("mapped.csv"), &opts).unwrap();
    assert_eq!(posts.len(), 3);
    assert_eq!(posts[0].actor.id, "u1");
}

fn expected_derived_id(fields: &[&str]) -> String {
    let mut h = Sha256::new();
    for f in fields {
        h.update(f.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(&h.finalize()[..16])
}

#[test]
fn tsv_without_id_column_gets_stable_derived_ids() {
    let mut opts = Options::new();
    opts.platform = Some("twitter".into());
    let (posts, rejected) = read(&fixture("no_id.tsv"), &opts).unwrap();
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(posts.len(), 4, "blank line skipped");
    let p = &posts[0];
    assert_eq!(p.platform, "twitter");
    assert_eq!(
        p.id,
        expected_derived_id(&[
            "nasa",
            "2015-03-24 10:00:00",
            "Launch window opens #space",
            "English"
        ])
    );
    assert_eq!(p.id.len(), 32);
    assert_eq!(p.actor.id, "nasa", "actor id from the handle");
    assert_eq!(p.hashtags, ["space"]);
    assert_eq!(posts[1].time, EventTime(1_427_191_200_000));
    assert_eq!(posts[1].lang.as_deref(), Some("de"));
    assert_eq!(posts[2].id, posts[0].id, "identical rows, identical ids");
    assert_ne!(posts[1].id, posts[0].id);
    assert_eq!(posts[3].lang.as_deref(), Some("ru"));
    assert_eq!(posts[3].provenance.line, Some(6));

    let (again, _) = read(&fixture("no_id.tsv"), &opts).unwrap();
    let a: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
    let b: Vec<&str> = again.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(a, b, "re-reading gives the same ids");
}

#[test]
fn coortweet_preset() {
    let (posts, rejected) = read(
        &fixture("coortweet.csv"),
        &opts_with(Some(Preset::Coortweet), ""),
    )
    .unwrap();
    assert!(rejected.is_empty());
    assert_eq!(posts.len(), 3);
    let p = &posts[0];
    assert_eq!(p.platform, "twitter");
    assert_eq!(p.id, "114e22f1b2b648528277b76f0b0224e7");
    assert_eq!(p.actor.id, "0fb4232d1b7b37069c13ee17579bd10e");
    assert_eq!(
        p.reshare_of.as_deref(),
        Some("85d2d12251a735ce05255061f7f231e2")
    );
    assert_eq!(p.time, EventTime(1_623_881_091_000));
    assert_eq!(posts[1].reshare_of, posts[0].reshare_of);

    // Detected without a preset; --platform wins over the preset default.
    let mut o = Options::new();
    o.platform = Some("telegram".into());
    let (posts, _) = read(&fixture("coortweet.csv"), &o).unwrap();
    assert_eq!(posts[2].id, "025b1b3dc82df1cc6c6b766e9c651251");
    assert_eq!(posts[2].platform, "telegram");

    // --map overrides a preset column.
    let (posts, _) = read(
        &fixture("coortweet.csv"),
        &opts_with(Some(Preset::Coortweet), "urls=object_id,reshare_of="),
    )
    .unwrap();
    assert_eq!(posts[0].reshare_of, None);
    assert_eq!(posts[0].links[0].raw, "85d2d12251a735ce05255061f7f231e2");

    // A preset whose required column is missing fails the file.
    let err = read(&fixture("qut.csv"), &opts_with(Some(Preset::Coortweet), "")).unwrap_err();
    assert!(err.to_string().contains("\"content_id\""), "{err}");
}

#[test]
fn qut_preset() {
    let (posts, rejected) = read(&fixture("qut.csv"), &opts_with(Some(Preset::Qut), "")).unwrap();
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(posts.len(), 3);
    let p = &posts[0];
    assert_eq!(
        (p.platform.as_str(), p.id.as_str()),
        ("twitter", "1440000000000000001")
    );
    assert_eq!(p.actor.id, "11");
    assert_eq!(p.actor.handle.as_deref(), Some("alice"));
    assert_eq!(p.links.len(), 1);
    assert_eq!(
        p.links[0].url, "https://news.example/story",
        "tracking parameter dropped"
    );
    assert_eq!(p.hashtags, ["vote"]);
    assert_eq!(p.time, EventTime(1_632_328_649_000));
    let p = &posts[1];
    assert_eq!(p.reshare_of.as_deref(), Some("1440000000000000001"));
    assert_eq!(
        p.links.len(),
        2,
        "space-separated urls column: same story once, plus t.co"
    );
    assert_eq!(posts[2].reply_to.as_deref(), Some("1440000000000000001"));
    assert!(posts[2].links.is_empty());
}

#[test]
fn crowdtangle_preset() {
    let (posts, rejected) = read(
        &fixture("crowdtangle.csv"),
        &opts_with(Some(Preset::Crowdtangle), ""),
    )
    .unwrap();
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(posts.len(), 2);
    let p = &posts[0];
    assert_eq!(p.platform, "facebook");
    assert_eq!(p.id, "4001234567890123", "last segment of the post URL");
    assert_eq!(p.actor.id, "100064123456789");
    assert_eq!(p.actor.handle.as_deref(), Some("dailytruth"));
    assert_eq!(p.actor.name.as_deref(), Some("Daily Truth"));
    assert_eq!(p.actor.followers, Some(130_001));
    assert_eq!(p.actor.created, Some(ms("2014-05-01T10:00:00Z")));
    assert_eq!(p.time, ms("2021-03-01T17:34:56Z"), "EST is UTC-5");
    assert_eq!(p.text, "They lied to you about #vaccines, read this");
    assert_eq!(p.hashtags, ["vaccines"]);
    let urls: Vec<&str> = p.links.iter().map(|l| l.url.as_str()).collect();
    assert_eq!(
        urls,
        ["https://bit.ly/3xYz", "https://truth.example/vaccines"]
    );
    assert_eq!(
        (
            p.engagement.likes,
            p.engagement.replies,
            p.engagement.reshares
        ),
        (Some(900), Some(300), Some(332))
    );
    let p = &posts[1];
    assert_eq!(p.id, "300000000000002");
    assert_eq!(p.actor.id, "200000000000001");
    assert_eq!(p.actor.handle, None);
    assert_eq!(p.actor.followers, Some(5000));
    assert_eq!(p.time, ms("2021-03-02T07:00:00Z"), "CET is UTC+1");
    assert_eq!(p.lang.as_deref(), Some("pl"), "detected from the text");
}

#[test]
fn fourcat_preset() {
    let (posts, rejected) =
        read(&fixture("4cat.csv"), &opts_with(Some(Preset::FourCat), "")).unwrap();
    assert!(rejected.is_empty(), "{rejected:?}");
    let p = &posts[0];
    assert_eq!(p.platform, "unknown");
    assert_eq!(p.id, "1501234567890123456");
    assert_eq!(p.actor.id, "99887766");
    assert_eq!(p.actor.handle.as_deref(), Some("kremlin_fan"));
    assert_eq!(p.actor.name.as_deref(), Some("Kremlin Fan"));
    assert_eq!(p.time, ms("2022-03-09T12:00:00Z"));
    assert_eq!(p.lang.as_deref(), Some("en"));
    assert_eq!(
        p.hashtags,
        ["ukraine", "biolabs"],
        "from the hashtags column"
    );
    assert_eq!(p.mentions, ["who"]);
    assert_eq!(p.links.len(), 1);
    assert_eq!(p.links[0].domain, "rt.example");
    assert_eq!(p.media[0].kind, MediaKind::Photo);
    assert_eq!(p.engagement.reshares, Some(10));
    assert_eq!(p.engagement.views, Some(1000));
    // No unix_timestamp: falls back to the timestamp column.
    assert_eq!(posts[1].time, ms("2022-03-09T12:05:00Z"));
    assert_eq!(posts[1].engagement.views, None);
}

#[test]
fn line_numbers_survive_blank_lines_and_crlf_and_sink_can_stop() {
    let data = b"actor_id,time\r\n\r\n\r\nx,2021-01-01\r\n\r\ny,bad\r\nz,2021-01-02\r\n";
    let mut opts = Options::new();
    opts.detect_language = false;
    let mut items = Vec::new();
    pharos_ingest::read_reader(&mut &data[..], "mem.csv", Format::Csv, &opts, &mut |item| {
        items.push(item);
        ControlFlow::Continue(())
    })
    .unwrap();
    let lines: Vec<(bool, Option<u64>)> = items
        .iter()
        .map(|i| match i {
            Item::Post(p) => (true, p.provenance.line),
            Item::Rejected(r) => (false, r.line),
        })
        .collect();
    assert_eq!(lines, [(true, Some(4)), (false, Some(6)), (true, Some(7))]);

    let mut n = 0;
    pharos_ingest::read_reader(&mut &data[..], "mem.csv", Format::Csv, &opts, &mut |_| {
        n += 1;
        ControlFlow::Break(())
    })
    .unwrap();
    assert_eq!(n, 1, "Break stops the reader");
}
