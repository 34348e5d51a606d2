//! Archives read as the files they hold: tar, tar.gz and zip built here,
//! including hostile ones (path traversal, links, too many entries,
//! oversize entries, archives inside archives, a cut archive).

use pharos_core::Post;
use pharos_ingest::archive::{self, Kind, Limits};
use pharos_ingest::{Format, Item, Options, Rejection, read_path};
use std::io::Write;
use std::path::{Path, PathBuf};

fn opts() -> Options {
    Options {
        detect_language: false,
        ..Options::new()
    }
}

fn collect(path: &Path, limits: Option<&Limits>) -> (Vec<Post>, Vec<Rejection>) {
    let (mut posts, mut rejected) = (Vec::new(), Vec::new());
    let mut sink = |item: Item| {
        match item {
            Item::Post(p) => posts.push(*p),
            Item::Rejected(r) => rejected.push(r),
        }
        std::ops::ControlFlow::Continue(())
    };
    match limits {
        None => read_path(path, &opts(), &mut sink).expect("readable archive"),
        Some(l) => {
            let kind = archive::kind(path).expect("an archive name");
            archive::read(path, kind, &opts(), l, &mut sink).expect("readable archive");
        }
    }
    (posts, rejected)
}

/// A channel dump of `n` messages from channel `c`.
fn dump(c: u64, n: u64) -> Vec<u8> {
    let msgs: Vec<String> = (1..=n)
        .map(|i| {
            format!(
                r#"{{"message_id": {i}, "sender_id": -100{}, "text": "post {i} of {c}", "date": "2024-12-04T09:00:{:02}+00:00", "channel": "Channel {c}"}}"#,
                1_000_000_000 + c,
                i % 60
            )
        })
        .collect();
    format!("[{}]", msgs.join(",")).into_bytes()
}

fn canonical(id: &str) -> Vec<u8> {
    format!(
        "{{\"platform\":\"twitter\",\"id\":\"{id}\",\"actor\":{{\"id\":\"a1\"}},\"time\":\"2025-01-01T00:00:00Z\",\"text\":\"hello {id}\"}}\n"
    )
    .into_bytes()
}

/// A tar (gzipped when the name says so) with these entries; names are
/// written into the header as given, unchecked (as a hostile tool would).
fn write_tar(path: &Path, entries: &[(&str, tar::EntryType, Vec<u8>)]) {
    let file = std::fs::File::create(path).unwrap();
    let out: Box<dyn Write> = if path.to_string_lossy().ends_with("gz") {
        Box::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::fast(),
        ))
    } else {
        Box::new(file)
    };
    let mut b = tar::Builder::new(out);
    for (name, kind, data) in entries {
        let mut h = tar::Header::new_gnu();
        let bytes = name.as_bytes();
        h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
        h.set_entry_type(*kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        if *kind == tar::EntryType::Symlink {
            h.set_link_name("/etc/passwd").unwrap();
        }
        h.set_cksum();
        b.append(&h, &data[..]).unwrap();
    }
    b.into_inner().unwrap().flush().unwrap();
}

fn write_zip(path: &Path, entries: &[(&str, Vec<u8>)]) {
    let file = std::fs::File::create(path).unwrap();
    let mut z = zip::ZipWriter::new(file);
    let o = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        if name.ends_with('/') {
            z.add_directory(*name, o).unwrap();
        } else {
            z.start_file(*name, o).unwrap();
            z.write_all(data).unwrap();
        }
    }
    z.finish().unwrap();
}

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

const FILE: tar::EntryType = tar::EntryType::Regular;

#[test]
fn tar_and_tar_gz_are_read_as_their_files() {
    let d = dir();
    for name in ["x.tar", "x.tar.gz", "x.tgz"] {
        let path = d.path().join(name);
        write_tar(
            &path,
            &[
                ("raw/", tar::EntryType::Directory, Vec::new()),
                ("raw/1_messages.json", FILE, dump(1, 3)),
                ("raw/2_messages.json", FILE, dump(2, 2)),
                ("raw/photo.jpg", FILE, vec![0xff, 0xd8, 0xff]),
                ("tweets.jsonl", FILE, canonical("t1")),
            ],
        );
        let (posts, rejected) = collect(&path, None);
        assert!(rejected.is_empty(), "{name}: {rejected:?}");
        assert_eq!(posts.len(), 6, "{name}");
        assert_eq!(
            posts[0].actor.name.as_deref(),
            Some("Channel 1"),
            "{:?}",
            posts[0]
        );
        assert_eq!(posts[5].id, "t1");
        // Provenance names the inner file.
        assert_eq!(
            posts[0].provenance.source,
            format!("{}!raw/1_messages.json", path.display())
        );
    }
}

#[test]
fn a_zipped_telegram_export_folder_is_read() {
    let d = dir();
    let path = d.path().join("ChatExport.zip");
    let export = br#"{
 "name": "Test Channel",
 "type": "public_channel",
 "id": 1500000001,
 "messages": [
  {"id": 1, "type": "message", "date": "2024-12-01T10:00:00", "date_unixtime": "1733047200",
   "from": "Test Channel", "from_id": "channel1500000001", "text": "First post"},
  {"id": 2, "type": "message", "date": "2024-12-01T11:00:00", "date_unixtime": "1733050800",
   "from": "Test Channel", "from_id": "channel1500000001", "text": "Second post"}
 ]
}"#;
    write_zip(
        &path,
        &[
            ("ChatExport_2024-12-07/", Vec::new()),
            ("ChatExport_2024-12-07/result.json", export.to_vec()),
            ("ChatExport_2024-12-07/photos/photo_1.jpg", vec![1, 2, 3]),
            (
                "ChatExport_2024-12-07/messages.html",
                b"<html></html>".to_vec(),
            ),
        ],
    );
    let (posts, rejected) = collect(&path, None);
    assert!(rejected.is_empty(), "{rejected:?}");
    let texts: Vec<&str> = posts.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, ["First post", "Second post"]);
    assert!(
        posts[0]
            .provenance
            .source
            .ends_with("ChatExport.zip!ChatExport_2024-12-07/result.json")
    );
}

#[test]
fn hostile_paths_links_and_nested_archives_are_quarantined_by_name() {
    let d = dir();
    let path = d.path().join("evil.tar");
    write_tar(
        &path,
        &[
            ("../../evil.jsonl", FILE, canonical("e1")),
            ("/etc/cron.d/x.jsonl", FILE, canonical("e2")),
            ("link.jsonl", tar::EntryType::Symlink, Vec::new()),
            ("inner.zip", FILE, b"PK\x03\x04".to_vec()),
            ("notes.bin", FILE, b"\x00\x01binary".to_vec()),
            ("ok.jsonl", FILE, canonical("ok")),
        ],
    );
    let (posts, rejected) = collect(&path, None);
    let ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["ok"], "only the safe entry is read");
    let got: Vec<(String, &str)> = rejected
        .iter()
        .map(|r| {
            (
                r.file.rsplit('!').next().unwrap().to_string(),
                r.reason.as_str(),
            )
        })
        .collect();
    let base = path.display().to_string();
    assert!(
        rejected
            .iter()
            .all(|r| r.file.starts_with(&format!("{base}!")))
    );
    assert_eq!(got.len(), 5, "{got:?}");
    assert_eq!(got[0].0, "../../evil.jsonl");
    assert!(got[0].1.contains("path traversal"));
    assert_eq!(got[1].0, "/etc/cron.d/x.jsonl");
    assert!(got[1].1.contains("absolute"));
    assert_eq!(got[2].0, "link.jsonl");
    assert!(got[2].1.contains("not a regular file"));
    assert_eq!(got[3].0, "inner.zip");
    assert!(got[3].1.contains("archive inside"));
    assert_eq!(got[4].0, "notes.bin");
    assert!(got[4].1.contains("cannot tell the format"));
    // Nothing was written outside (nor anywhere).
    assert!(!d.path().join("evil.jsonl").exists());

    // Zip with a traversal name.
    let zpath = d.path().join("evil.zip");
    write_zip(
        &zpath,
        &[
            ("../evil.jsonl", canonical("z1")),
            ("fine.jsonl", canonical("z2")),
        ],
    );
    let (posts, rejected) = collect(&zpath, None);
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].id, "z2");
    assert_eq!(rejected.len(), 1);
    assert!(rejected[0].file.ends_with("evil.zip!../evil.jsonl"));
    assert!(rejected[0].reason.contains("path traversal"));
}

#[test]
fn too_many_entries_stop_the_archive_with_a_record() {
    let d = dir();
    let entries: Vec<(String, Vec<u8>)> = (0..10)
        .map(|i| (format!("f{i}.jsonl"), canonical(&format!("p{i}"))))
        .collect();
    let tar_entries: Vec<(&str, tar::EntryType, Vec<u8>)> = entries
        .iter()
        .map(|(n, b)| (n.as_str(), FILE, b.clone()))
        .collect();
    let zip_entries: Vec<(&str, Vec<u8>)> = entries
        .iter()
        .map(|(n, b)| (n.as_str(), b.clone()))
        .collect();
    let limits = Limits {
        max_entries: 4,
        ..Limits::default()
    };
    let tpath = d.path().join("many.tgz");
    write_tar(&tpath, &tar_entries);
    let zpath = d.path().join("many.zip");
    write_zip(&zpath, &zip_entries);
    for path in [tpath, zpath] {
        let (posts, rejected) = collect(&path, Some(&limits));
        assert_eq!(posts.len(), 4, "{}", path.display());
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].file, path.display().to_string());
        assert!(rejected[0].reason.contains("more than 4 entries"));
    }
}

#[test]
fn oversize_entries_are_not_read() {
    let d = dir();
    let big: Vec<u8> = (0..200).flat_map(|i| canonical(&format!("b{i}"))).collect();
    let limits = Limits {
        max_entry_bytes: 1000,
        ..Limits::default()
    };
    let tpath = d.path().join("big.tar");
    write_tar(
        &tpath,
        &[
            ("big.jsonl", FILE, big.clone()),
            ("small.jsonl", FILE, canonical("s")),
        ],
    );
    let zpath = d.path().join("big.zip");
    write_zip(
        &zpath,
        &[("big.jsonl", big.clone()), ("small.jsonl", canonical("s"))],
    );
    for path in [&tpath, &zpath] {
        let (posts, rejected) = collect(path, Some(&limits));
        let ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["s"], "{}", path.display());
        assert_eq!(rejected.len(), 1);
        assert!(rejected[0].file.ends_with("!big.jsonl"));
        assert!(rejected[0].reason.contains("over the limit of 1000 bytes"));
    }
    // The whole archive's budget: the second entry does not fit.
    let limits = Limits {
        max_total_bytes: big.len() as u64 + 10,
        ..Limits::default()
    };
    let (posts, rejected) = collect(&tpath, Some(&limits));
    assert_eq!(posts.len(), 200);
    assert_eq!(rejected.len(), 1);
    assert!(
        rejected[0]
            .reason
            .contains("uncompressed; the rest is not read")
    );
}

#[test]
fn a_gzip_bomb_inside_a_tar_stops_at_the_limit() {
    // An inner .gz whose header size is small but which inflates far past
    // the entry limit.
    let d = dir();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let line = canonical("x");
    for _ in 0..20_000 {
        gz.write_all(&line).unwrap();
    }
    let bomb = gz.finish().unwrap();
    let path = d.path().join("bomb.tar");
    write_tar(&path, &[("posts.jsonl.gz", FILE, bomb)]);
    let limits = Limits {
        max_entry_bytes: 100_000,
        ..Limits::default()
    };
    let (posts, rejected) = collect(&path, Some(&limits));
    // The compressed entry is under the limit; what it inflates to is
    // read as posts until the reader fails, with one record naming it.
    assert!(posts.len() < 20_000);
    assert!(!rejected.is_empty());
    assert!(rejected.iter().all(|r| r.file.ends_with("!posts.jsonl.gz")));
}

#[test]
fn cut_and_garbage_archives_do_not_panic() {
    let d = dir();
    let good = d.path().join("good.tgz");
    write_tar(
        &good,
        &[
            ("a.jsonl", FILE, canonical("a")),
            (
                "b.jsonl",
                FILE,
                (0..500).flat_map(|i| canonical(&format!("b{i}"))).collect(),
            ),
        ],
    );
    let bytes = std::fs::read(&good).unwrap();
    let cut: PathBuf = d.path().join("cut.tgz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (posts, rejected) = collect(&cut, None);
    assert!(posts.len() < 501);
    assert!(!rejected.is_empty());
    let garbage = d.path().join("garbage.zip");
    std::fs::write(&garbage, b"this is not a zip").unwrap();
    let err = read_path(&garbage, &opts(), &mut |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap_err();
    assert!(
        err.to_string().contains("not a readable zip archive"),
        "{err}"
    );
    let garbage = d.path().join("garbage.tar");
    std::fs::write(&garbage, vec![7u8; 3000]).unwrap();
    let (posts, rejected) = collect(&garbage, None);
    assert!(posts.is_empty());
    assert!(!rejected.is_empty());
}

#[test]
fn a_named_format_applies_to_every_inner_file() {
    let d = dir();
    let path = d.path().join("dumps.tar");
    // A dump with an unhelpful name and content sniffing would also find it.
    write_tar(&path, &[("data.txt", FILE, dump(9, 2))]);
    let mut o = opts();
    o.format = Format::TelegramDump;
    let mut n = 0;
    read_path(&path, &o, &mut |item| {
        if let Item::Post(_) = item {
            n += 1;
        }
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(n, 2);
    assert_eq!(archive::kind(&path), Some(Kind::Tar));
}
