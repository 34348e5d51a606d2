//! `pharos watch` against a local HTTP server: conditional GET and only new items stored.

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

fn feed(n: usize) -> String {
    let mut items = String::new();
    for i in (1..=n).rev() {
        items.push_str(&format!(
            "<item><title>Item {i}</title><link>https://news.example.org/{i}?utm_source=rss</link>\
             <guid>urn:item:{i}</guid><pubDate>Mon, 0{i} Jan 2024 10:00:00 +0000</pubDate>\
             <description>&lt;p&gt;Story number {i} about the election and energy prices&lt;/p&gt;</description></item>"
        ));
    }
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Example News</title>\
         <link>https://news.example.org/</link><description>x</description>{items}</channel></rss>"
    )
}

/// Serves the feed with an ETag; answers 304 to a matching If-None-Match.
fn serve(body: Arc<Mutex<String>>, not_modified: Arc<AtomicUsize>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut inm = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("if-none-match:") {
                    inm = Some(v.trim().to_string());
                }
            }
            let b = body.lock().unwrap().clone();
            let etag = format!("\"v{}\"", b.len());
            let resp = if inm.as_deref() == Some(etag.as_str()) {
                not_modified.fetch_add(1, Ordering::SeqCst);
                "HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n".to_string()
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nETag: {etag}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
                    b.len()
                )
            };
            let _ = stream.write_all(resp.as_bytes());
        }
    });
    port
}

fn watch(store: &std::path::Path, url: &str, polls: &str) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_pharos"))
        .args([
            "watch",
            "--json",
            "--every",
            "1s",
            "--polls",
            polls,
            "--feed",
            url,
            "--store",
            store.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn polls_conditionally_and_stores_only_new_items() {
    let body = Arc::new(Mutex::new(feed(3)));
    let nm = Arc::new(AtomicUsize::new(0));
    let port = serve(body.clone(), nm.clone());
    let url = format!("http://127.0.0.1:{port}/feed.xml");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");

    let reports = watch(&store, &url, "2");
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["status"], "fetched");
    assert_eq!(reports[0]["stored"], 3);
    assert_eq!(reports[1]["status"], "not-modified");
    assert_eq!(reports[1]["stored"], 0);
    assert_eq!(
        nm.load(Ordering::SeqCst),
        1,
        "second poll sent If-None-Match"
    );

    // The feed gains one entry: a new watch (state kept beside the store) stores exactly it.
    *body.lock().unwrap() = feed(4);
    let reports = watch(&store, &url, "1");
    assert_eq!(reports[0]["items"], 4);
    assert_eq!(reports[0]["new"], 1);
    assert_eq!(reports[0]["stored"], 1);

    let out = Command::new(env!("CARGO_BIN_EXE_pharos"))
        .args(["export", "--store", store.to_str().unwrap()])
        .output()
        .unwrap();
    let posts: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(posts.len(), 4);
    assert_eq!(posts[0]["platform"], "rss");
    assert_eq!(posts[0]["links"][0]["url"], "https://news.example.org/1");
    assert_eq!(posts[0]["time"], "2024-01-01T10:00:00.000Z");
    assert!(
        posts[0]["text"]
            .as_str()
            .unwrap()
            .contains("Story number 1")
    );
    assert!(!posts[0]["text"].as_str().unwrap().contains("<p>"));

    // `pharos ingest URL` reads a feed once.
    let other = dir.path().join("once.db");
    let out = Command::new(env!("CARGO_BIN_EXE_pharos"))
        .args(["ingest", "--json", "--store", other.to_str().unwrap(), &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["stored"], 4);
    assert_eq!(s["files"], 1);
}

/// A feed whose items name their authors: `(guid, author e-mail, link, pubDate)`.
fn authored_feed(items: &[(&str, &str, &str, &str)]) -> String {
    let mut s = String::new();
    for (guid, author, link, date) in items {
        s.push_str(&format!(
            "<item><title>{guid}</title><link>{link}</link><guid>{guid}</guid>\
             <author>{author}</author><pubDate>{date}</pubDate><description>x</description></item>"
        ));
    }
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Shared</title>\
         <link>https://shared.example.org/</link><description>x</description>{s}</channel></rss>"
    )
}

/// `pharos watch --once` over `feeds` with `--coordination-out` (links,
/// 60 s window, 10 min lateness): the JSON lines printed, stderr, and the
/// pairs written.
fn watch_pairs(dir: &std::path::Path, feeds: &[&str]) -> (Vec<Value>, String, String) {
    let pairs_path = dir.join("pairs.jsonl");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pharos"));
    cmd.args(["watch", "--json", "--once"]);
    for f in feeds {
        cmd.args(["--feed", f]);
    }
    let out = cmd
        .arg("--store")
        .arg(dir.join("c.db"))
        .arg("--coordination-out")
        .arg(&pairs_path)
        .args([
            "--time-window",
            "60",
            "--object",
            "link",
            "--lateness",
            "10m",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (lines, stderr, std::fs::read_to_string(&pairs_path).unwrap())
}

#[test]
fn streams_coordination_pairs_of_items_sharing_a_link() {
    // Newest first, as feeds list them: carol shares the link two hours
    // after alice and bob, who share it 30 s apart; dave shares another link.
    let body = Arc::new(Mutex::new(authored_feed(&[
        (
            "urn:c",
            "carol@example.org (Carol)",
            "https://story.example.net/a?utm_source=x",
            "Mon, 01 Jan 2024 12:00:30 +0000",
        ),
        (
            "urn:d",
            "dave@example.org (Dave)",
            "https://other.example.net/b",
            "Mon, 01 Jan 2024 10:00:10 +0000",
        ),
        (
            "urn:b",
            "bob@example.org (Bob)",
            "https://story.example.net/a",
            "Mon, 01 Jan 2024 10:00:30 +0000",
        ),
        (
            "urn:a",
            "alice@example.org (Alice)",
            "https://story.example.net/a",
            "Mon, 01 Jan 2024 10:00:00 +0000",
        ),
    ])));
    let port = serve(body, Arc::new(AtomicUsize::new(0)));
    let url = format!("http://127.0.0.1:{port}/feed.xml");
    let dir = tempfile::tempdir().unwrap();
    let (lines, _, text) = watch_pairs(dir.path(), &[&url]);
    assert_eq!(lines[0]["stored"], 4);
    assert_eq!(lines[0]["late"], 0);
    assert_eq!(lines[1]["coordination"]["pairs"], 1);
    assert_eq!(lines[1]["coordination"]["late"], 0);

    let pairs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(pairs.len(), 1, "{text}");
    let p = &pairs[0];
    assert_eq!(p["object_id"], "https://story.example.net/a");
    assert_eq!(p["content_id"], "urn:a");
    assert_eq!(p["content_id_y"], "urn:b");
    assert_eq!(p["account_id"], "alice@example.org");
    assert_eq!(p["account_id_y"], "bob@example.org");
    assert_eq!(p["time"], "2024-01-01T10:00:00.000Z");
    assert_eq!(p["time_y"], "2024-01-01T10:00:30.000Z");
    assert_eq!(p["time_delta"], 30);
    // One post each: under the default min participation of 2.
    assert_eq!(p["coordinated"], false);
}

#[test]
fn an_item_dated_in_the_future_is_stored_but_does_not_move_the_stream_clock() {
    // Two feeds read in one round. Without the guard, the first feed's item
    // dated 9999 moves the coordination's watermark past everything: bob's
    // share in the second feed comes late and is never paired with alice's.
    let first = Arc::new(Mutex::new(authored_feed(&[
        (
            "urn:z",
            "zed@example.org (Zed)",
            "https://story.example.net/a",
            "Fri, 31 Dec 9999 23:00:00 +0000",
        ),
        (
            "urn:a",
            "alice@example.org (Alice)",
            "https://story.example.net/a",
            "Mon, 01 Jan 2024 10:00:00 +0000",
        ),
    ])));
    let second = Arc::new(Mutex::new(authored_feed(&[(
        "urn:b",
        "bob@example.org (Bob)",
        "https://story.example.net/a",
        "Mon, 01 Jan 2024 10:00:30 +0000",
    )])));
    let urls = [first, second].map(|body| {
        let port = serve(body, Arc::new(AtomicUsize::new(0)));
        format!("http://127.0.0.1:{port}/feed.xml")
    });
    let dir = tempfile::tempdir().unwrap();
    let (lines, stderr, text) = watch_pairs(dir.path(), &[&urls[0], &urls[1]]);
    assert_eq!(lines[0]["stored"], 2, "the future item is stored too");
    assert_eq!(lines[1]["stored"], 1);
    assert_eq!(lines[1]["late"], 0, "{lines:?}");
    assert_eq!(lines[2]["coordination"]["pairs"], 1, "{lines:?}");
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("\"content_id_y\":\"urn:b\""), "{text}");
    assert_eq!(lines[0]["future"], 1, "the poll says what it held back");
    assert_eq!(lines[1]["future"], 0);
    // With --json the count is in the poll's line, not on stderr.
    assert!(!stderr.contains("dated more than"), "{stderr}");
}

/// Answers `/start` with a redirect to `http://localhost:PORT/feed.xml`
/// (another host than the `127.0.0.1` asked for, and an internal one), and
/// `/feed.xml` with a feed of two items.
fn serve_redirect() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let resp = if first.starts_with("GET /start ") {
                format!(
                    "HTTP/1.1 302 Found\r\nLocation: http://localhost:{port}/feed.xml\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
            } else {
                let b = feed(2);
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
                    b.len()
                )
            };
            let _ = stream.write_all(resp.as_bytes());
        }
    });
    port
}

/// Issue 14, finding 9, on the command line: `pharos watch` and `pharos
/// ingest URL` refuse a redirect to an internal host, and follow it when
/// `--redirect-allow HOST` names it.
#[test]
fn redirects_to_internal_hosts_need_redirect_allow() {
    let port = serve_redirect();
    let url = format!("http://127.0.0.1:{port}/start");
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_pharos"))
            .args(args)
            .output()
            .unwrap()
    };
    let store = dir.path().join("w.db");
    let st = store.to_str().unwrap();
    let out = run(&["watch", "--json", "--once", "--feed", &url, "--store", st]);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("refused") && text.contains("localhost"),
        "{text}"
    );
    let out = run(&[
        "watch",
        "--json",
        "--once",
        "--feed",
        &url,
        "--store",
        st,
        "--redirect-allow",
        "localhost",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(report["stored"], 2, "{report}");

    let other = dir.path().join("once.db");
    let ot = other.to_str().unwrap();
    let out = run(&["ingest", "--json", "--store", ot, &url]);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("refused") && text.contains("localhost"),
        "{text}"
    );
    let out = run(&[
        "ingest",
        "--json",
        "--store",
        ot,
        "--redirect-allow",
        "localhost",
        &url,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["stored"], 2);
}
