//! Telegram importers: Desktop exports (fixtures written in the shape
//! Telegram Desktop emits) and Telethon-style channel dumps (inline).

use pharos_core::{MediaKind, Post};
use pharos_ingest::{Format, Item, Options, Rejection, read_path, read_reader};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/telegram")
        .join(name)
}

fn opts() -> Options {
    Options {
        detect_language: false,
        ..Options::new()
    }
}

fn collect_path(path: &Path) -> (Vec<Post>, Vec<Rejection>) {
    let mut posts = Vec::new();
    let mut rejected = Vec::new();
    read_path(path, &opts(), &mut |item| {
        match item {
            Item::Post(p) => posts.push(*p),
            Item::Rejected(r) => rejected.push(r),
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    (posts, rejected)
}

fn collect_bytes(bytes: &[u8], format: Format) -> (Vec<Post>, Vec<Rejection>) {
    let mut posts = Vec::new();
    let mut rejected = Vec::new();
    let mut reader = std::io::Cursor::new(bytes.to_vec());
    read_reader(&mut reader, "inline.json", format, &opts(), &mut |item| {
        match item {
            Item::Post(p) => posts.push(*p),
            Item::Rejected(r) => rejected.push(r),
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    (posts, rejected)
}

fn by_id<'a>(posts: &'a [Post], id: &str) -> &'a Post {
    posts
        .iter()
        .find(|p| p.id == id)
        .unwrap_or_else(|| panic!("no post {id}"))
}

#[test]
fn fixtures_are_detected_as_telegram() {
    for name in [
        "channel_result.json",
        "full_export_result.json",
        "bad_result.json",
    ] {
        let path = fixture(name);
        let mut r = pharos_ingest::input::open(&path).unwrap();
        assert_eq!(
            pharos_ingest::detect::detect(&path, &mut r).unwrap(),
            Format::Telegram,
            "{name}"
        );
    }
}

#[test]
fn one_channel_export() {
    let (posts, rejected) = collect_path(&fixture("channel_result.json"));
    assert!(
        rejected.is_empty(),
        "service messages are skipped, not rejected: {rejected:?}"
    );
    let ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "1734567890/2",
            "1734567890/3",
            "1734567890/4",
            "1734567890/5",
            "1734567890/6",
            "1734567890/7"
        ]
    );
    assert!(posts.iter().all(|p| p.platform == "telegram"));
    // Record numbers count every message object, the service message included.
    assert_eq!(posts[0].provenance.record, Some(2));
    assert_eq!(posts[0].provenance.line, None);
    assert_eq!(posts[0].actor.id, "channel1734567890");
    assert_eq!(posts[0].actor.name.as_deref(), Some("Pharos Test News"));
    assert_eq!(posts[0].time.to_rfc3339(), "2024-03-01T10:15:30.000Z");

    let p = by_id(&posts, "1734567890/3");
    assert_eq!(
        p.text,
        "Breaking: officials deny the report #Elections2024, details at https://news.example.org/story/42?utm_source=telegram and the full statement. Via @SourceChannel"
    );
    let urls: Vec<&str> = p.links.iter().map(|l| l.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://news.example.org/story/42",
            "https://gov.example.com/statement"
        ]
    );
    assert_eq!(p.domains, ["news.example.org", "gov.example.com"]);
    assert_eq!(p.hashtags, ["elections2024"]);
    assert_eq!(p.mentions, ["sourcechannel"]);
    assert_eq!(p.engagement.likes, Some(15), "reactions are summed");

    let photo = by_id(&posts, "1734567890/4");
    assert_eq!(photo.media.len(), 1);
    assert_eq!(photo.media[0].kind, MediaKind::Photo);
    assert_eq!(photo.media[0].url, "photos/photo_1@01-03-2024_12-30-00.jpg");

    let fwd = by_id(&posts, "1734567890/5");
    assert!(
        fwd.reshare_of
            .as_deref()
            .unwrap()
            .starts_with("fwd:Other Channel:"),
        "{:?}",
        fwd.reshare_of
    );
    assert_eq!(fwd.media[0].kind, MediaKind::Video);
    assert_eq!(fwd.media[0].url, "video_files/clip.mp4");

    assert_eq!(
        by_id(&posts, "1734567890/6").reply_to.as_deref(),
        Some("1734567890/3")
    );

    // No from_id and no date_unixtime: the channel is the actor, the local date is read as UTC.
    let old = by_id(&posts, "1734567890/7");
    assert_eq!(old.actor.id, "channel1734567890");
    assert_eq!(old.actor.name.as_deref(), Some("Pharos Test News"));
    assert_eq!(old.time.to_rfc3339(), "2024-03-01T15:00:00.000Z");
    assert_eq!(
        old.hashtags,
        ["digest"],
        "plain text without entities is scanned"
    );
}

#[test]
fn full_export_with_groups_and_left_chats() {
    let (posts, rejected) = collect_path(&fixture("full_export_result.json"));
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(posts.len(), 9);
    let records: Vec<u64> = posts.iter().map(|p| p.provenance.record.unwrap()).collect();
    assert_eq!(records, [1, 2, 4, 5, 6, 7, 8, 9, 10]);

    let dm = by_id(&posts, "100000002/10");
    assert_eq!(dm.actor.id, "user100000002");
    assert_eq!(dm.links[0].domain, "rumour.example.net");
    let voice = by_id(&posts, "100000002/11");
    assert_eq!(voice.reply_to.as_deref(), Some("100000002/10"));
    assert_eq!(voice.actor.name.as_deref(), Some("Ana Analyst"));
    assert_eq!(voice.media[0].kind, MediaKind::Audio);
    assert_eq!(voice.text, "");

    // Two forwards of the same channel message, by two users, share one id.
    let a = by_id(&posts, "1876543210/2");
    let b = by_id(&posts, "1876543210/3");
    assert_eq!(a.actor.id, "user100000003");
    assert_eq!(b.actor.id, "user100000004");
    assert!(
        a.reshare_of
            .as_deref()
            .unwrap()
            .starts_with("fwd:channel1734567890:")
    );
    assert_eq!(a.reshare_of, b.reshare_of);
    assert_eq!(a.text, "They say the bridge is closed #BridgeClosed");
    assert_eq!(a.hashtags, ["bridgeclosed"]);

    let reply = by_id(&posts, "1876543210/4");
    assert_eq!(reply.reply_to.as_deref(), Some("1876543210/2"));
    assert_eq!(reply.mentions, ["dave_d"]);
    assert_eq!(reply.links[0].url, "https://maps.example.com/?q=bridge");
    assert_eq!(reply.media[0].kind, MediaKind::Photo);
    assert_eq!(
        reply.media[0].url, "",
        "a photo that was not exported has no path"
    );

    assert_eq!(
        by_id(&posts, "1876543210/5").media[0].kind,
        MediaKind::Sticker
    );
    let doc = by_id(&posts, "1876543210/6");
    assert_eq!(doc.media[0].kind, MediaKind::Document);
    assert_eq!(doc.media[0].url, "files/report.pdf");
    assert_eq!(
        by_id(&posts, "1876543210/7").media[0].kind,
        MediaKind::Animation
    );

    let left = by_id(&posts, "1555000111/900");
    assert_eq!(left.actor.id, "channel1555000111");
    assert_eq!(left.actor.name.as_deref(), Some("Old Channel"));
    assert_eq!(left.time.to_rfc3339(), "2023-12-31T23:59:00.000Z");
}

#[test]
fn bad_records_are_rejected_with_their_record_number() {
    let (posts, rejected) = collect_path(&fixture("bad_result.json"));
    let ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["4242/1", "4242/8"]);
    assert_eq!(posts[1].text, "last good message still read");
    assert_eq!(posts[0].actor.id, "user200000001");
    let got: Vec<(Option<u64>, &str)> = rejected
        .iter()
        .map(|r| (r.record, r.reason.as_str()))
        .collect();
    assert_eq!(got.len(), 5, "{got:#?}");
    assert_eq!(
        got[0],
        (
            Some(2),
            "message 4242/2 has no date (neither date_unixtime nor date)"
        )
    );
    assert!(rejected[0].raw.contains("a message without a date"));
    assert_eq!(got[1], (Some(3), "message record 3 is not a JSON object"));
    assert_eq!(
        got[2],
        (Some(4), "message (record 4) in chat 4242 has no id")
    );
    assert_eq!(got[3].0, Some(5));
    assert!(
        got[3]
            .1
            .starts_with("message 4242/5: bad timestamp \"the fifth of May\""),
        "{}",
        got[3].1
    );
    assert_eq!(got[4].0, Some(6));
    assert!(got[4].1.contains("unknown message type \"poll_result\""));
    assert!(
        rejected
            .iter()
            .all(|r| r.file.ends_with("bad_result.json") && r.line.is_none())
    );
}

#[test]
fn a_cut_export_keeps_what_came_before() {
    let full = std::fs::read(fixture("full_export_result.json")).unwrap();
    // Cut inside the sticker message (the 7th message object).
    let cut = full.windows(9).position(|w| w == b"\"sticker\"").unwrap();
    let (posts, rejected) = collect_bytes(&full[..cut], Format::Telegram);
    assert_eq!(posts.len(), 5, "the messages before the cut");
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0].record, Some(7));
    assert!(
        rejected[0].reason.contains("truncated"),
        "{}",
        rejected[0].reason
    );
}

#[test]
fn garbage_does_not_panic() {
    for bytes in [
        &b""[..],
        b"[1,2,3]",
        b"{\"messages\": 5}",
        b"{\"chats\": {\"list\": [{\"id\": 1, \"messages\": [{\"id\": 1}]}, 7]}}",
        b"\xff\xfe\x00garbage",
        b"{\"id\": 3, \"messages\": [{\"id\": 1, \"date_unixtime\": \"1700000000\", \"from_id\": \"user1\", \"text\": 17}]",
    ] {
        let (_, rejected) = collect_bytes(bytes, Format::Telegram);
        assert!(!rejected.is_empty(), "{:?}", String::from_utf8_lossy(bytes));
        let (_, rejected) = collect_bytes(bytes, Format::TelegramDump);
        assert!(!rejected.is_empty(), "{:?}", String::from_utf8_lossy(bytes));
    }
    let (_, rejected) = collect_bytes(b"[1,2,3]", Format::Telegram);
    assert!(
        rejected[0].reason.contains("not a Telegram Desktop export"),
        "{}",
        rejected[0].reason
    );
}

#[test]
fn the_sink_can_stop_reading() {
    let mut n = 0;
    read_path(&fixture("full_export_result.json"), &opts(), &mut |_| {
        n += 1;
        if n == 2 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    assert_eq!(n, 2);
}

const DUMP: &str = r#"[
    {"message_id": 11877, "sender_id": -1001000724666, "text": "**Кратер** необычной формы #наука\n\n[Читать](https://naked-science.ru/article/x?utm_source=tg) и https://t.me/naked_science", "date": "2024-12-04T09:00:28+00:00", "channel": "Naked Science", "category": "science"},
    {"message_id": 11878, "sender_id": -1001000724666, "text": null, "date": "2024-12-04T09:05:00+00:00", "channel": "Naked Science", "category": "other"},
    {"message_id": 11879, "sender_id": -1001000724666, "text": "no date", "channel": "Naked Science"},
    {"message_id": 5, "text": "channel given by name only, @someone", "date": "2024-12-04T10:00:00", "channel": "Some Channel"},
    {"message_id": 6, "sender_id": 777, "text": "a user in a group", "date": 1733306400, "channel": -1001234567890},
    42,
    {"sender_id": -1001000724666, "text": "no id", "date": "2024-12-04T09:05:00+00:00"}
]"#;

#[test]
fn channel_dump() {
    let (posts, rejected) = collect_bytes(DUMP.as_bytes(), Format::TelegramDump);
    let ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "1000724666/11877",
            "1000724666/11878",
            "Some Channel/5",
            "1234567890/6"
        ]
    );
    let p = &posts[0];
    assert_eq!(p.platform, "telegram");
    assert_eq!(p.actor.id, "channel1000724666");
    assert_eq!(p.actor.name.as_deref(), Some("Naked Science"));
    assert_eq!(
        p.text,
        "Кратер необычной формы #наука\n\nЧитать и https://t.me/naked_science"
    );
    let urls: Vec<&str> = p.links.iter().map(|l| l.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://naked-science.ru/article/x",
            "https://t.me/naked_science"
        ]
    );
    assert_eq!(p.hashtags, ["наука"]);
    assert_eq!(p.time.to_rfc3339(), "2024-12-04T09:00:28.000Z");
    assert_eq!(p.provenance.record, Some(1));
    assert_eq!(posts[1].text, "");
    assert_eq!(posts[2].actor.id, "Some Channel");
    assert_eq!(posts[2].mentions, ["someone"]);
    assert_eq!(posts[3].actor.id, "user777");
    assert_eq!(posts[3].time.to_rfc3339(), "2024-12-04T10:00:00.000Z");
    let got: Vec<(Option<u64>, &str)> = rejected
        .iter()
        .map(|r| (r.record, r.reason.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (Some(3), "message 11879 has no date"),
            (Some(6), "record 6 is not a JSON object"),
            (Some(7), "record 7 has no message_id"),
        ]
    );

    // Cut in the middle: the records before, then one rejection.
    let cut = DUMP.find("channel given").unwrap();
    let (posts, rejected) = collect_bytes(&DUMP.as_bytes()[..cut], Format::TelegramDump);
    assert_eq!(posts.len(), 2);
    assert_eq!(rejected.len(), 2);
    assert_eq!(rejected[1].record, Some(4));
    assert!(rejected[1].reason.contains("truncated"));
}
