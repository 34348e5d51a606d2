//! Hostile input (issue 14): out-of-range times, posts over the caps,
//! inputs that made readers quadratic, and gzip bombs. Each is quarantined
//! with a reason, or read, and the records around it are still read.
//! Speed is measured by `examples/hostile.rs` (docs/BENCHMARKS.md), not here.

use pharos_core::Post;
use pharos_ingest::limits::{
    MAX_HASHTAGS, MAX_LINE_BYTES, MAX_LINKS, MAX_RECORD_BYTES, MAX_TEXT_BYTES,
};
use pharos_ingest::{Format, Item, Options, Rejection};
use std::io::Write;
use std::ops::ControlFlow;
use std::path::Path;

fn read_bytes(bytes: &[u8], format: Format, source: &str) -> (Vec<Post>, Vec<Rejection>) {
    let mut opts = Options::new();
    opts.format = format;
    opts.detect_language = false;
    let (mut posts, mut rejected) = (Vec::new(), Vec::new());
    let mut reader: &[u8] = bytes;
    pharos_ingest::read_reader(&mut reader, source, format, &opts, &mut |item| {
        match item {
            Item::Post(p) => posts.push(*p),
            Item::Rejected(r) => rejected.push(r),
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    (posts, rejected)
}

fn read_path(path: &Path, format: Format) -> (Vec<Post>, Vec<Rejection>) {
    let mut opts = Options::new();
    opts.format = format;
    opts.detect_language = false;
    let (mut posts, mut rejected) = (Vec::new(), Vec::new());
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

fn jsonl_post(id: &str, time: serde_json::Value) -> String {
    serde_json::json!({"platform": "x", "id": id, "actor": {"id": "a"}, "time": time, "text": "t"})
        .to_string()
}

#[test]
fn out_of_range_times_are_quarantined_by_every_reader() {
    // Finding 1: these were stored as -262143-01-01 and made reads fail.
    let lines = [
        jsonl_post("ok1", "2024-01-01T00:00:00Z".into()),
        jsonl_post("big-int", serde_json::json!(5_000_000_000_000_000_000u64)),
        jsonl_post("big-str", "9000000000000000".into()),
        jsonl_post("neg", serde_json::json!(-9_000_000_000_000_000i64)),
        jsonl_post("year", "+10000-01-01T00:00:00Z".into()),
        jsonl_post("ok2", serde_json::json!(1_700_000_000_000i64)),
    ]
    .join("\n");
    let (posts, rejected) = read_bytes(lines.as_bytes(), Format::Jsonl, "t.jsonl");
    assert_eq!(
        posts.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["ok1", "ok2"]
    );
    assert_eq!(rejected.len(), 4);
    for r in &rejected {
        assert!(r.reason.contains("bad timestamp"), "{r:?}");
    }
    assert_eq!(
        rejected.iter().map(|r| r.line.unwrap()).collect::<Vec<_>>(),
        [2, 3, 4, 5]
    );

    // CSV, Twitter v2, Telegram dump.
    let csv = "id,actor_id,time,text\n1,a,2024-01-01,ok\n2,a,9000000000000000,bad\n3,a,5000000000000000000,bad\n";
    let (posts, rejected) = read_bytes(csv.as_bytes(), Format::Csv, "t.csv");
    assert_eq!(posts.len(), 1);
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert!(rejected.iter().all(|r| r.reason.contains("out of range")));
    let tw = r#"{"id":"1","author_id":"2","text":"x","created_at":"9000000000000000"}"#;
    let (posts, rejected) = read_bytes(tw.as_bytes(), Format::TwitterV2, "t.jsonl");
    assert!(posts.is_empty());
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    let dump = r#"[{"message_id":1,"sender_id":-1001,"text":"x","date":9000000000000000,"channel":"c"},
                   {"message_id":2,"sender_id":-1001,"text":"x","date":"2024-12-04T09:00:28+00:00","channel":"c"}]"#;
    let (posts, rejected) = read_bytes(dump.as_bytes(), Format::TelegramDump, "d.json");
    assert_eq!(posts.len(), 1);
    assert!(rejected[0].reason.contains("out of range"), "{rejected:?}");
}

#[test]
fn a_post_over_a_cap_is_quarantined_with_the_cap() {
    let tags = |n: usize| (0..n).map(|i| format!("t{i}")).collect::<Vec<_>>();
    let post = |extra: serde_json::Value| {
        let mut v = serde_json::json!({"platform": "x", "id": "1", "actor": {"id": "a"},
            "time": "2024-01-01T00:00:00Z", "text": "t"});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v.to_string()
    };
    let cases = [
        (
            serde_json::json!({"hashtags": tags(MAX_HASHTAGS + 1)}),
            "hashtags",
        ),
        (
            serde_json::json!({"mentions": tags(MAX_HASHTAGS + 1)}),
            "mentions",
        ),
        (
            serde_json::json!({"links": (0..=MAX_LINKS).map(|i| serde_json::to_value(pharos_core::Link::new(&format!("https://e.org/{i}"))).unwrap()).collect::<Vec<_>>()}),
            "links",
        ),
        (
            serde_json::json!({"text": "a".repeat(MAX_TEXT_BYTES + 1)}),
            "text",
        ),
        (serde_json::json!({"id": "i".repeat(5000)}), "id"),
    ];
    for (extra, what) in cases {
        let (posts, rejected) = read_bytes(post(extra).as_bytes(), Format::Jsonl, "c.jsonl");
        assert!(posts.is_empty(), "{what}");
        assert!(
            rejected[0].reason.starts_with("over a cap") && rejected[0].reason.contains(what),
            "{what}: {}",
            rejected[0].reason
        );
    }
    // At the caps, and repeats (80k copies of a few tags count once): kept.
    let many: Vec<String> = (0..80_000).map(|i| format!("T{}", i % 7)).collect();
    let (posts, rejected) = read_bytes(
        post(serde_json::json!({"hashtags": many, "mentions": tags(MAX_HASHTAGS)})).as_bytes(),
        Format::Jsonl,
        "c.jsonl",
    );
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(posts[0].hashtags.len(), 7);
    assert_eq!(posts[0].mentions.len(), MAX_HASHTAGS);
}

fn dump(text: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!([{
        "message_id": 1, "sender_id": -1001000724666i64, "text": text,
        "date": "2024-12-04T09:00:28+00:00", "channel": "c"
    }]))
    .unwrap()
}

#[test]
fn inputs_that_were_quadratic_are_read() {
    // Finding 4: each took from 7 s to 142 s.
    let rss = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><link>https://e.org/</link>\
         <item><guid>1</guid><pubDate>Tue, 01 Jun 2021 10:00:00 +0000</pubDate><description>{}</description></item></channel></rss>",
        "&amp;".repeat(200_000)
    );
    let (posts, rejected) = read_bytes(rss.as_bytes(), Format::Rss, "f.rss");
    assert!(rejected.is_empty());
    assert_eq!(posts[0].text, "&".repeat(200_000));
    // `&` without `;` (the old decoder searched to the end for each).
    let rss2 = rss.replace("&amp;", "&amp;x");
    let (posts, _) = read_bytes(rss2.as_bytes(), Format::Rss, "f.rss");
    assert_eq!(posts[0].text.len(), 400_000);
    let scripts = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><item><guid>1</guid>\
         <pubDate>Tue, 01 Jun 2021 10:00:00 +0000</pubDate><description><![CDATA[{}end]]></description></item></channel></rss>",
        "<script>x</script>".repeat(20_000)
    );
    let (posts, _) = read_bytes(scripts.as_bytes(), Format::Rss, "f.rss");
    assert_eq!(posts[0].text, "end");

    let (posts, rejected) = read_bytes(&dump(&"[".repeat(1_000_000)), Format::TelegramDump, "d");
    assert!(rejected.is_empty());
    assert_eq!(posts[0].text.len(), 1_000_000);

    // 50k distinct URLs (100k do not fit the text cap): over the link cap, quarantined.
    let text: String = (0..50_000).map(|i| format!("http://e.org/{i} ")).collect();
    let (posts, rejected) = read_bytes(&dump(&text), Format::TelegramDump, "d");
    assert!(posts.is_empty());
    assert!(
        rejected[0].reason.contains("links"),
        "{}",
        rejected[0].reason
    );
    // 60k copies of one URL: one link.
    let (posts, _) = read_bytes(
        &dump(&"http://e.org/x ".repeat(60_000)),
        Format::TelegramDump,
        "d",
    );
    assert_eq!(posts[0].links.len(), 1);
}

fn gzip(path: &Path, parts: &[&[u8]], repeat_middle: usize) {
    let f = std::fs::File::create(path).unwrap();
    let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
    gz.write_all(parts[0]).unwrap();
    for _ in 0..repeat_middle {
        gz.write_all(parts[1]).unwrap();
    }
    gz.write_all(parts[2]).unwrap();
    gz.finish().unwrap();
}

#[test]
fn gzip_bombs_are_skipped_in_bounded_memory() {
    // Finding 5: one huge line in a small .gz. Here a line just over the
    // limit (the reader keeps at most MAX_LINE_BYTES of it).
    let dir = tempfile::tempdir().unwrap();
    let before = jsonl_post("before", "2024-01-01T00:00:00Z".into());
    let after = jsonl_post("after", "2024-01-01T00:00:00Z".into());
    let chunk = vec![b'a'; 1 << 20];
    let n = MAX_LINE_BYTES / chunk.len() + 1;
    for (name, format) in [
        ("b.jsonl.gz", Format::Jsonl),
        ("b.tw.jsonl.gz", Format::TwitterV2),
    ] {
        let p = dir.path().join(name);
        gzip(
            &p,
            &[
                format!("{before}\n{{\"text\": \"").as_bytes(),
                &chunk,
                format!("\"}}\n{after}\n").as_bytes(),
            ],
            n,
        );
        assert!(std::fs::metadata(&p).unwrap().len() < 1 << 20);
        let (posts, rejected) = read_path(&p, format);
        if format == Format::Jsonl {
            assert_eq!(
                posts.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
                ["before", "after"]
            );
        }
        let long: Vec<_> = rejected
            .iter()
            .filter(|r| r.reason.contains("longer than the limit"))
            .collect();
        assert_eq!(long.len(), 1, "{name}: {rejected:?}");
        assert_eq!(long[0].line, Some(2));
        assert!(long[0].raw.len() <= 1024);
    }

    // CSV: an unclosed quote swallowing the rest of a huge file.
    let p = dir.path().join("b.csv.gz");
    let n = (MAX_RECORD_BYTES as usize) / chunk.len() + 1;
    gzip(
        &p,
        &[
            b"id,actor_id,time,text\n1,a,2024-01-01,ok\n2,a,2024-01-01,\"",
            &chunk,
            b"\n",
        ],
        n,
    );
    let (posts, rejected) = read_path(&p, Format::Csv);
    assert_eq!(posts.len(), 1);
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert!(rejected[0].reason.contains("longer than the limit"));
    assert_eq!(rejected[0].line, Some(3));
}

#[test]
fn documents_over_the_limit_are_refused_whole() {
    let mut reader: &[u8] = b"0123456789";
    let mut got = Vec::new();
    let r =
        pharos_ingest::input::read_all_or_reject(&mut reader, "doc.json", Some(1), 9, &mut |i| {
            got.push(i);
            ControlFlow::Continue(())
        });
    assert!(r.is_none());
    match &got[..] {
        [Item::Rejected(r)] => assert!(r.reason.contains("larger than 9 bytes"), "{r:?}"),
        other => panic!("{other:?}"),
    }
    let mut reader: &[u8] = b"0123456789";
    let r = pharos_ingest::input::read_all_or_reject(&mut reader, "d", None, 10, &mut |_| {
        ControlFlow::Continue(())
    });
    assert_eq!(r.as_deref(), Some(&b"0123456789"[..]));
}
