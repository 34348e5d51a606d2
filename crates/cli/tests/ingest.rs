//! End-to-end tests of `pharos ingest`, `stats` and `export` through the binary.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::run as pharos;

fn json_of(out: &Output) -> Value {
    let s = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(s.trim()).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {s}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn line(id: &str, t: &str, text: &str) -> String {
    format!(
        r#"{{"platform":"twitter","id":"{id}","actor":{{"id":"a{id}","handle":"user{id}"}},"time":"{t}","text":"{text}","lang":"en"}}"#
    )
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p).unwrap().write_all(bytes).unwrap();
    p
}

#[test]
fn bad_records_are_quarantined_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("p.db");
    let mut body = Vec::new();
    body.extend(
        r#"{"platform":"twitter","id":"1","actor":{"id":"a1"},"time":"2024-01-01T10:00:00Z","text":"first #One https://ex.com/a?utm_source=x","hashtags":["One"],"links":[{"raw":"https://ex.com/a?utm_source=x","url":"","domain":""}]}"#.as_bytes(),
    );
    body.extend(b"\n{not json\n");
    body.extend(line("2", "yesterday", "bad time").as_bytes());
    body.extend(b"\n");
    body.extend(br#"{"platform":"twitter","actor":{"id":"x"},"time":"2024-01-01T10:00:00Z"}"#);
    body.extend(b"\n");
    body.extend(b"{\"platform\":\"twitter\",\"id\":\"9\",\"actor\":{\"id\":\"x\"},\"time\":\"2024-01-01T10:00:00Z\",\"text\":\"\xff\xfe\"}\n");
    body.extend(line("3", "2024-01-01T11:00:00Z", "third").as_bytes());
    body.extend(b"\n");
    // Truncated last line.
    body.extend(&line("4", "2024-01-01T12:00:00Z", "cut").as_bytes()[..40]);
    let f = write(dir.path(), "in.jsonl", &body);

    let out = pharos(&[
        "ingest",
        "--json",
        "--store",
        store.to_str().unwrap(),
        f.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = json_of(&out);
    assert_eq!(s["stored"], 2);
    assert_eq!(s["duplicates"], 0);
    assert_eq!(s["quarantined"], 5);

    // Quarantine names file, line and reason, and keeps the raw record.
    let q = std::fs::read_to_string(dir.path().join("p.quarantine.jsonl")).unwrap();
    let rows: Vec<Value> = q
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 5);
    let lines: Vec<u64> = rows.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, vec![2, 3, 4, 5, 7]);
    assert!(
        rows.iter()
            .all(|r| r["file"].as_str().unwrap().ends_with("in.jsonl"))
    );
    assert!(rows[0]["raw"].as_str().unwrap().starts_with("{not json"));
    assert!(
        rows[1]["reason"].as_str().unwrap().contains("yesterday"),
        "{}",
        rows[1]
    );
    assert!(
        rows[2]["reason"].as_str().unwrap().contains("id"),
        "{}",
        rows[2]
    );
    assert!(
        rows[3]["reason"].as_str().unwrap().contains("UTF-8"),
        "{}",
        rows[3]
    );

    // Re-ingesting adds nothing; exit 0 (everything readable was a duplicate).
    let out = pharos(&[
        "ingest",
        "--json",
        "--store",
        store.to_str().unwrap(),
        f.to_str().unwrap(),
    ]);
    let s = json_of(&out);
    assert_eq!(
        (s["stored"].as_u64(), s["duplicates"].as_u64()),
        (Some(0), Some(2))
    );
    assert!(out.status.success());

    let out = pharos(&["stats", "--json", "--store", store.to_str().unwrap()]);
    let st = json_of(&out);
    assert_eq!(st["posts"], 2);
    assert_eq!(st["quarantined"], 10);
    assert_eq!(st["top_domains"][0]["key"], "ex.com");
    assert_eq!(st["top_hashtags"][0]["key"], "one");
}

#[test]
fn nothing_stored_is_a_failure_and_strict_stops() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("p.db");
    let bad = write(dir.path(), "bad.jsonl", b"nope\nstill nope\n");
    let out = pharos(&[
        "ingest",
        "--json",
        "--store",
        store.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_of(&out)["quarantined"], 2);

    let mixed = format!(
        "{}\nnope\n{}\n",
        line("1", "2024-01-01T10:00:00Z", "a"),
        line("2", "2024-01-01T10:00:01Z", "b")
    );
    let f = write(dir.path(), "mixed.jsonl", mixed.as_bytes());
    let out = pharos(&[
        "ingest",
        "--strict",
        "--json",
        "--store",
        store.to_str().unwrap(),
        f.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let s = json_of(&out);
    assert_eq!(s["stopped"], true);
    assert_eq!(s["quarantined"], 1);
    assert!(
        s["stored"].as_u64().unwrap() <= 1,
        "nothing after the bad record: {s}"
    );

    let out = pharos(&[
        "ingest",
        "--store",
        store.to_str().unwrap(),
        dir.path().join("missing.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.jsonl"));
}

#[test]
fn export_then_import_gives_the_same_records() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    let b = dir.path().join("b.db");
    let rich = r##"{"platform":"Telegram","id":"c/1","actor":{"id":"u1","handle":"@Chan","name":"Chan","created":"2020-01-01T00:00:00Z","followers":10,"following":1,"posts":99,"verified":true},"time":1700000000123,"text":"Привет мир, это проверка связи #Тест https://Example.org/x?fbclid=1#y","links":[{"raw":"https://Example.org/x?fbclid=1#y","url":"","domain":""}],"hashtags":["#Тест"],"mentions":["@Bob"],"reply_to":"c/0","reshare_of":"c/7","quote_of":"c/8","media":[{"url":"photos/1.jpg","kind":"photo","hash":"phash:abc"}],"engagement":{"likes":1,"reshares":2,"replies":3,"views":4}}"##;
    let src = format!(
        "{rich}\n{}\n",
        line(
            "2",
            "2024-01-01T10:00:00+02:00",
            "hello world this is english text"
        )
    );
    let f = write(dir.path(), "in.jsonl", src.as_bytes());
    assert!(
        pharos(&[
            "ingest",
            "-q",
            "--store",
            a.to_str().unwrap(),
            f.to_str().unwrap()
        ])
        .status
        .success()
    );
    let e1 = dir.path().join("e1.jsonl");
    assert!(
        pharos(&[
            "export",
            "--format",
            "jsonl",
            "--store",
            a.to_str().unwrap(),
            "--out",
            e1.to_str().unwrap()
        ])
        .status
        .success()
    );
    assert!(
        pharos(&[
            "ingest",
            "-q",
            "--store",
            b.to_str().unwrap(),
            e1.to_str().unwrap()
        ])
        .status
        .success()
    );
    let e2 = dir.path().join("e2.jsonl");
    assert!(
        pharos(&[
            "export",
            "--store",
            b.to_str().unwrap(),
            "--out",
            e2.to_str().unwrap()
        ])
        .status
        .success()
    );
    let t1 = std::fs::read_to_string(&e1).unwrap();
    let t2 = std::fs::read_to_string(&e2).unwrap();
    assert_eq!(t1, t2, "export → import → export is stable");
    let recs: Vec<Value> = t1
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), 2);
    // Time order: 2023-11-14 before 2024-01-01.
    let tg = &recs[0];
    assert_eq!(tg["platform"], "telegram");
    assert_eq!(tg["time"], "2023-11-14T22:13:20.123Z");
    assert_eq!(tg["actor"]["handle"], "Chan");
    assert_eq!(tg["hashtags"][0], "тест");
    assert_eq!(tg["links"][0]["url"], "https://example.org/x");
    assert_eq!(tg["domains"][0], "example.org");
    assert_eq!(tg["lang"], "ru", "detected");
    assert_eq!(tg["provenance"]["line"], 1);
    assert!(
        tg["provenance"]["source"]
            .as_str()
            .unwrap()
            .ends_with("in.jsonl"),
        "original provenance kept"
    );
    assert_eq!(recs[1]["time"], "2024-01-01T08:00:00.000Z");
}
