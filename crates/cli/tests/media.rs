//! `pharos media inspect` and `pharos media match` on the media crate's
//! committed fixtures: the fixed JSON fields, a < b, exit codes.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../media/tests/fixtures")
}

fn pharos(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pharos"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn inspect_json_has_the_fixed_fields_and_provenance() {
    let ai = fixtures().join("c2pa/ai_generated.jpg");
    let plain = fixtures().join("pdq/scene1.png");
    let (code, out, err) = pharos(&[
        "media",
        "inspect",
        ai.to_str().unwrap(),
        plain.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["file"], ai.to_str().unwrap());
    assert_eq!(lines[0]["c2pa"]["valid"], true);
    assert_eq!(lines[0]["c2pa"]["ai_generated"], true);
    assert_eq!(lines[0]["c2pa"]["signer"], "Pharos Test Signer");
    assert!(lines[1]["c2pa"].is_null());
    // The reference's hash of scene1.png (fixtures/pdq/expected.tsv).
    assert_eq!(
        lines[1]["pdq"],
        "d2f7b4ad6dadda4a3dc96d492bcd729cc6941ce87949c16a1f00fc17d0160936"
    );
    assert_eq!(lines[1]["quality"], 100);
    assert_eq!(
        (lines[1]["width"].as_u64(), lines[1]["height"].as_u64()),
        (Some(240), Some(160))
    );
}

#[test]
fn inspect_names_an_unreadable_file_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jpg");
    std::fs::write(&bad, b"not a picture").unwrap();
    let good = fixtures().join("c2pa/altered.jpg");
    let (code, out, err) = pharos(&[
        "media",
        "inspect",
        bad.to_str().unwrap(),
        good.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("bad.jpg"), "{err}");
    assert!(
        out.contains("altered.jpg") && out.contains("C2PA BROKEN"),
        "{out}"
    );
}

#[test]
fn match_finds_copies_recursively_with_a_before_b() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixtures().join("pdq/scene1.png");
    std::fs::copy(&src, dir.path().join("z.png")).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::copy(&src, dir.path().join("sub/a.png")).unwrap();
    std::fs::copy(
        fixtures().join("pdq/scene2.png"),
        dir.path().join("other.png"),
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not an image").unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, out, err) = pharos(&["media", "match", d, "--distance", "31", "--json"]);
    assert_eq!(code, 0, "{err}");
    let pairs: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(pairs.len(), 1, "{out}");
    let (a, b) = (
        pairs[0]["a"].as_str().unwrap(),
        pairs[0]["b"].as_str().unwrap(),
    );
    assert!(a < b);
    assert!(a.ends_with("sub/a.png") && b.ends_with("z.png"), "{a} {b}");
    assert_eq!(pairs[0]["distance"], 0);

    // A mirrored copy matches only with --dihedral.
    let img = image_mirror(&src);
    std::fs::write(dir.path().join("mirror.png"), img).unwrap();
    let (_, out, _) = pharos(&["media", "match", d, "--json"]);
    assert!(!out.contains("mirror.png"), "{out}");
    let (_, out, _) = pharos(&["media", "match", d, "--dihedral", "--json"]);
    assert!(out.contains("mirror.png"), "{out}");
}

/// The fixture mirrored left to right, as PNG bytes.
fn image_mirror(src: &Path) -> Vec<u8> {
    let rgb = pharos_media::decode::decode_file(src).unwrap();
    let (w, h) = (rgb.width as usize, rgb.height as usize);
    let mut flipped = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let s = (y * w + x) * 3;
            let d = (y * w + (w - 1 - x)) * 3;
            flipped[d..d + 3].copy_from_slice(&rgb.pixels[s..s + 3]);
        }
    }
    pharos_media::encode_png(&flipped, rgb.width, rgb.height).unwrap()
}

/// A Telegram export whose messages reference photos: two copies of one
/// picture (one re-encoded as PNG from the same pixels), an AI-declared
/// picture, and references that try to leave the export's folder.
fn telegram_export(dir: &Path) -> PathBuf {
    let export = dir.join("export");
    std::fs::create_dir_all(export.join("photos")).unwrap();
    std::fs::copy(
        fixtures().join("pdq/scene1.png"),
        export.join("photos/one.png"),
    )
    .unwrap();
    std::fs::copy(
        fixtures().join("pdq/scene1.png"),
        export.join("photos/one-again.png"),
    )
    .unwrap();
    std::fs::copy(
        fixtures().join("c2pa/ai_generated.jpg"),
        export.join("photos/ai.jpg"),
    )
    .unwrap();
    std::fs::write(export.join("photos/broken.jpg"), b"not a picture").unwrap();
    std::fs::copy(fixtures().join("pdq/scene2.png"), dir.join("secret.png")).unwrap();
    let outside = dir.join("secret.png");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, export.join("photos/link.png")).unwrap();
    let msg = |id: u32, from: &str, photo: &str| {
        serde_json::json!({
            "id": id, "type": "message", "date": "2024-05-01T12:00:00",
            "date_unixtime": (1714564800 + id * 10).to_string(),
            "from": from, "from_id": format!("user{from}"),
            "text": format!("message {id}"), "photo": photo
        })
    };
    let mut messages = vec![
        msg(1, "1", "photos/one.png"),
        msg(2, "2", "photos/one-again.png"),
        msg(3, "3", "photos/ai.jpg"),
        msg(4, "4", "../secret.png"),
        msg(5, "5", outside.to_str().unwrap()),
        msg(6, "6", "photos/broken.jpg"),
        msg(7, "7", "https://cdn.example/x.jpg"),
    ];
    if cfg!(unix) {
        messages.push(msg(8, "8", "photos/link.png"));
    }
    let export_json = serde_json::json!({
        "name": "Media Group", "type": "public_supergroup", "id": 77,
        "messages": messages
    });
    std::fs::write(export.join("result.json"), export_json.to_string()).unwrap();
    export
}

#[test]
fn scan_hashes_referenced_files_under_the_root_and_refuses_escapes() {
    use pharos_store::{MediaHashes, SqliteStore};
    let dir = tempfile::tempdir().unwrap();
    let export = telegram_export(dir.path());
    let store = dir.path().join("s.db");
    let store_s = store.to_str().unwrap();
    let (code, _, err) = pharos(&[
        "ingest",
        "--store",
        store_s,
        "--format",
        "telegram",
        export.join("result.json").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");

    let (code, out, err) = pharos(&[
        "media",
        "scan",
        "--store",
        store_s,
        "--root",
        export.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 1, "refused references make the exit code 1: {err}");
    let sum: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let escapes = if cfg!(unix) { 3 } else { 2 };
    assert_eq!(sum["hashed"], 3, "{sum}");
    assert_eq!(sum["files"], 3, "{sum}");
    assert_eq!(sum["remote"], 1, "{sum}");
    assert_eq!(sum["refused"], escapes, "{sum}");
    assert_eq!(sum["unreadable"], 1, "{sum}");
    assert!(err.contains("\"../secret.png\": refused: `..`"), "{err}");
    assert!(err.contains("refused: an absolute path"), "{err}");
    if cfg!(unix) {
        assert!(
            err.contains("\"photos/link.png\": refused: resolves outside the root"),
            "{err}"
        );
    }
    assert!(err.contains("photos/broken.jpg"), "{err}");

    let s = SqliteStore::open_existing(&store).unwrap();
    let recs = s.media_records().unwrap();
    let by_post = |id: &str| recs.iter().find(|r| r.post_id.ends_with(id)).unwrap();
    assert_eq!(
        recs.len(),
        3,
        "nothing outside the root is stored: {recs:?}"
    );
    assert_eq!(by_post("/1").pdq, by_post("/2").pdq);
    assert_eq!(
        by_post("/1").pdq,
        "d2f7b4ad6dadda4a3dc96d492bcd729cc6941ce87949c16a1f00fc17d0160936"
    );
    let ai: serde_json::Value =
        serde_json::from_str(by_post("/3").c2pa.as_deref().unwrap()).unwrap();
    assert_eq!(
        (ai["valid"].as_bool(), ai["ai_generated"].as_bool()),
        (Some(true), Some(true))
    );
    assert!(by_post("/1").c2pa.is_none());

    // A second scan writes the same rows again, not new ones.
    let (code, _, _) = pharos(&[
        "media",
        "scan",
        "--store",
        store_s,
        "--root",
        export.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert_eq!(s.media_records().unwrap().len(), 3);
}

#[test]
fn assess_finds_accounts_posting_the_same_pictures_once_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    std::fs::create_dir_all(export.join("photos")).unwrap();
    let mut messages = Vec::new();
    let pictures = ["scene1.png", "scene2.png", "scene3.jpg", "scene4.webp"];
    for (k, pic) in pictures.iter().enumerate() {
        for (a, acct) in ["1", "2", "3", "4"].iter().enumerate() {
            // Accounts 1-3 post the same picture within minutes; 4 posts
            // another one at the same times.
            let src = if *acct == "4" {
                "exif_rotated.png"
            } else {
                pic
            };
            let name = format!("photos/{k}_{acct}_{src}");
            std::fs::copy(fixtures().join("pdq").join(src), export.join(&name)).unwrap();
            let id = messages.len() + 1;
            messages.push(serde_json::json!({
                "id": id, "type": "message", "date": "2024-05-01T12:00:00",
                "date_unixtime": (1714564800 + k * 3600 + a * 30).to_string(),
                "from": format!("u{acct}"), "from_id": format!("user{acct}"),
                "text": format!("post number {id} from {acct} about item {k}"),
                "photo": name
            }));
        }
    }
    let export_json = serde_json::json!({
        "name": "G", "type": "public_supergroup", "id": 9, "messages": messages
    });
    std::fs::write(export.join("result.json"), export_json.to_string()).unwrap();
    let store = dir.path().join("s.db");
    let store = store.to_str().unwrap();
    let (code, _, err) = pharos(&[
        "ingest",
        "--store",
        store,
        "--format",
        "telegram",
        export.join("result.json").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let out_dir = dir.path().join("assessment");
    let out_dir = out_dir.to_str().unwrap();
    let networks = || {
        let (code, out, err) = pharos(&["assess", "--store", store, "--out", out_dir, "--json"]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        v["summary"]["networks"].as_u64().unwrap()
    };
    assert_eq!(
        networks(),
        0,
        "no hashes yet: the texts differ, nothing else is shared"
    );
    let (code, _, err) = pharos(&[
        "media",
        "scan",
        "--store",
        store,
        "--root",
        export.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(networks(), 1, "the three accounts sharing pictures");
}

#[test]
fn scan_hashes_profile_pictures_and_assess_flags_their_reuse() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    std::fs::create_dir_all(export.join("avatars")).unwrap();
    // u1 and u2 use copies of one picture, u3 another; u4 a reference
    // that leaves the export (refused, never hashed).
    for (name, src) in [
        ("u1.png", "scene1.png"),
        ("u2.png", "scene1.png"),
        ("u3.png", "scene2.png"),
    ] {
        std::fs::copy(
            fixtures().join("pdq").join(src),
            export.join("avatars").join(name),
        )
        .unwrap();
    }
    let mut lines = String::new();
    for k in 0..5 {
        for (a, acct) in ["u1", "u2", "u3", "u4"].iter().enumerate() {
            let avatar = if *acct == "u4" {
                "../outside.png".to_string()
            } else {
                format!("avatars/{acct}.png")
            };
            let post = serde_json::json!({
                "platform": "telegram", "id": format!("{k}{acct}"),
                "actor": {"id": acct, "avatar": avatar},
                "time": 1_714_564_800_000i64 + k * 3_600_000 + a as i64 * 5_000,
                "text": format!("story {k} as told by {acct}"),
                "links": [pharos_core::Link::new(&format!("https://example.com/story/{k}"))]
            });
            lines.push_str(&post.to_string());
            lines.push('\n');
        }
    }
    let input = dir.path().join("posts.jsonl");
    std::fs::write(&input, lines).unwrap();
    let store = dir.path().join("s.db");
    let store = store.to_str().unwrap();
    let (code, _, err) = pharos(&[
        "ingest",
        "--store",
        store,
        "--format",
        "jsonl",
        input.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = pharos(&[
        "media",
        "scan",
        "--store",
        store,
        "--root",
        export.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 1, "the escaping avatar is refused: {err}");
    let sum: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        sum["hashed"], 3,
        "one record per account and picture: {sum}"
    );
    assert_eq!(sum["refused"], 1, "{sum}");
    assert!(err.contains("\"../outside.png\": refused"), "{err}");

    let out_dir = dir.path().join("assessment");
    let (code, _, err) = pharos(&[
        "assess",
        "--store",
        store,
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let incidents: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("incidents.json")).unwrap()).unwrap();
    let tags: Vec<&serde_json::Value> = incidents
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["techniques"].as_array().unwrap())
        .filter(|t| t["t_id"] == "T0145.001")
        .collect();
    assert_eq!(tags.len(), 1, "{incidents:#}");
    let mut ev: Vec<&str> = tags[0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    ev.sort();
    assert_eq!(ev, ["account:telegram:u1", "account:telegram:u2"]);
}

/// Serves `/a.png` (a fixture image, 20 KB), `/big.png` (past a 30 KB limit) and
/// counts every request.
fn serve_images(asked: std::sync::Arc<std::sync::atomic::AtomicUsize>) -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let png = std::fs::read(fixtures().join("pdq/scene1.png")).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let body: Vec<u8> = if first.starts_with("GET /a.png ") {
                png.clone()
            } else {
                vec![0u8; 50_000]
            };
            let mut resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            resp.extend(body);
            let _ = stream.write_all(&resp);
        }
    });
    port
}

/// Issue 17, item 3: remote media are downloaded only with --fetch, from
/// hosts --fetch-allow names, within the size limit; cached by URL and
/// hashed like the local files (same PDQ as the local copy).
#[test]
fn scan_fetches_remote_images_only_from_allowed_hosts_within_limits() {
    use pharos_store::{MediaHashes, SqliteStore};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let asked = std::sync::Arc::new(AtomicUsize::new(0));
    let port = serve_images(asked.clone());
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    std::fs::create_dir_all(&export).unwrap();
    let msg = |id: u32, photo: String| {
        serde_json::json!({
            "id": id, "type": "message", "date": "2024-05-01T12:00:00",
            "date_unixtime": (1714564800 + id * 10).to_string(),
            "from": "a", "from_id": format!("user{id}"),
            "text": format!("message {id}"), "photo": photo
        })
    };
    let base = format!("http://127.0.0.1:{port}");
    let messages = vec![
        msg(1, format!("{base}/a.png")),
        msg(2, format!("{base}/a.png")),
        msg(3, format!("{base}/big.png")),
        msg(4, format!("http://localhost:{port}/a.png")),
    ];
    let export_json = serde_json::json!({
        "name": "Remote", "type": "public_supergroup", "id": 78, "messages": messages
    });
    std::fs::write(export.join("result.json"), export_json.to_string()).unwrap();
    let store = dir.path().join("s.db");
    let store_s = store.to_str().unwrap();
    let (code, _, err) = pharos(&[
        "ingest",
        "--store",
        store_s,
        "--format",
        "telegram",
        export.join("result.json").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");

    // Without --fetch nothing is asked.
    let (code, out, err) = pharos(&["media", "scan", "--store", store_s, "--json"]);
    assert_eq!(code, 0, "{err}");
    let sum: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (sum["remote"].as_u64(), sum["fetched"].as_u64()),
        (Some(4), Some(0))
    );
    assert_eq!(asked.load(Ordering::SeqCst), 0);

    let cache = dir.path().join("cache");
    let scan = || {
        pharos(&[
            "media",
            "scan",
            "--store",
            store_s,
            "--json",
            "--fetch",
            "--fetch-allow",
            "127.0.0.1",
            "--fetch-max-bytes",
            "30000",
            "--cache",
            cache.to_str().unwrap(),
        ])
    };
    let (code, out, err) = scan();
    assert_eq!(code, 1, "a failed download makes the exit code 1: {err}");
    let sum: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(sum["fetched"], 2, "{sum}");
    assert_eq!(sum["hashed"], 2, "{sum}");
    assert_eq!(sum["files"], 1, "{sum}");
    assert_eq!(sum["fetch_failed"], 1, "{sum}");
    assert_eq!(sum["remote"], 1, "localhost is not listed: {sum}");
    assert!(
        err.contains("big.png") && err.contains("larger than the limit"),
        "{err}"
    );
    // a.png once, big.png once; localhost never.
    assert_eq!(asked.load(Ordering::SeqCst), 2);
    let recs = SqliteStore::open_existing(&store)
        .unwrap()
        .media_records()
        .unwrap();
    assert_eq!(recs.len(), 2);
    assert!(recs.iter().all(|r| r.url == format!("{base}/a.png")));
    assert_eq!(
        recs[0].pdq, "d2f7b4ad6dadda4a3dc96d492bcd729cc6941ce87949c16a1f00fc17d0160936",
        "hashed as the local copy is"
    );
    // Again: a.png comes from the cache.
    let (_, out, _) = scan();
    let sum: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(sum["fetched"], 2, "{sum}");
    assert_eq!(asked.load(Ordering::SeqCst), 3, "only big.png asked again");
}

#[test]
fn coordination_co_image_from_a_store_reads_the_hashes_media_scan_stored() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    std::fs::create_dir_all(export.join("photos")).unwrap();
    let mut messages = Vec::new();
    // Accounts 1 and 2 post copies of the same picture 20 s apart, three
    // times; account 3 posts another picture in between.
    for (k, pic) in ["scene1.png", "scene2.png", "scene3.jpg"]
        .iter()
        .enumerate()
    {
        for (a, (acct, src)) in [("1", *pic), ("2", *pic), ("3", "exif_rotated.png")]
            .iter()
            .enumerate()
        {
            let name = format!("photos/{k}_{acct}_{src}");
            std::fs::copy(fixtures().join("pdq").join(src), export.join(&name)).unwrap();
            let id = messages.len() + 1;
            messages.push(serde_json::json!({
                "id": id, "type": "message", "date": "2024-05-01T12:00:00",
                "date_unixtime": (1714564800 + k * 3600 + a * 20).to_string(),
                "from": format!("u{acct}"), "from_id": format!("user{acct}"),
                "text": format!("post {id}"), "photo": name
            }));
        }
    }
    let export_json = serde_json::json!({
        "name": "G", "type": "public_supergroup", "id": 9, "messages": messages
    });
    std::fs::write(export.join("result.json"), export_json.to_string()).unwrap();
    let store = dir.path().join("s.db");
    let store = store.to_str().unwrap();
    let (code, _, err) = pharos(&[
        "ingest",
        "--store",
        store,
        "--format",
        "telegram",
        export.join("result.json").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let edges_csv = dir.path().join("edges.csv");
    let edges = || {
        let (code, _, err) = pharos(&[
            "coordination",
            "--store",
            store,
            "--method",
            "directed",
            "--kind",
            "co-image",
            "--time-window",
            "60",
            "--min-edge-weight",
            "1",
            "--edges-out",
            edges_csv.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        let mut rows: Vec<String> = std::fs::read_to_string(&edges_csv)
            .unwrap()
            .lines()
            .skip(1)
            .map(str::to_string)
            .collect();
        rows.sort();
        rows
    };
    assert!(edges().is_empty(), "no hashes before the scan");
    let (code, _, err) = pharos(&[
        "media",
        "scan",
        "--store",
        store,
        "--root",
        export.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(edges(), ["user1,user2,3", "user2,user1,3"]);
}
