//! `pharos coordination --method directed` with several kinds
//! (`--kind co-link:1,co-hashtag:0.5,co-media:2`) on a small hand-made CSV
//! in the layout of CooRTweet's german_elections (one row per post and
//! object, ids instead of URLs, hashtags and perceptual hashes).

use std::path::Path;
use std::process::{Command, Output};

const MAP: &str = "id=post_id,actor_id=account_id,time=timestamp,urls=url_id,\
                   hashtags=hashtag_id,media=phash_id";

/// Window 60 s: a and b share url u1, hashtag h1 and phash m1 (one match of
/// each, both ways); c's h1 is 1000 s later; post p6 of d comes in two rows
/// (url u3, hashtag h2) and e shares both; f and g share a media *URL*,
/// which is not a hash.
const CSV: &str = "account_id,post_id,url_id,hashtag_id,domain_id,phash_id,timestamp
fb_a,p1,u1,h1,d1,m1,1700000000
tw_b,p2,u1,h1,d1,,1700000010
tw_b,p3,,,,m1,1700000020
fb_c,p4,,h1,,,1700001000
fb_d,p6,u3,,,,1700002000
fb_d,p6,,h2,,,1700002000
fb_e,p7,u3,h2,,,1700002030
fb_f,p8,,,,https://x.org/p.jpg,1700003000
fb_g,p9,,,,https://x.org/p.jpg,1700003001
";

fn run(csv: &Path, kind: &str, min: &str, extra: &[&str]) -> Output {
    let dir = csv.parent().unwrap();
    let edges = dir.join("edges.csv");
    let _ = std::fs::remove_file(&edges);
    let mut args = vec![
        "coordination",
        "--input",
        csv.to_str().unwrap(),
        "--format",
        "csv",
        "--map",
        MAP,
        "--method",
        "directed",
        "--kind",
        kind,
        "--time-window",
        "60",
        "--min-edge-weight",
        min,
        "--edges-out",
        edges.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_pharos"))
        .args(&args)
        .output()
        .expect("run pharos")
}

/// The edges CSV written by a successful run.
fn edges(csv: &Path, kind: &str, min: &str) -> String {
    let out = run(csv, kind, min, &[]);
    assert!(
        out.status.success(),
        "--kind {kind} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(csv.parent().unwrap().join("edges.csv")).unwrap()
}

fn input() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("in.csv");
    std::fs::write(&csv, CSV).unwrap();
    (dir, csv)
}

#[test]
fn single_kinds_match_on_ids_and_phash_ids() {
    let (_dir, csv) = input();
    // Link ids are not URLs: co-link matches on the raw value.
    assert_eq!(
        edges(&csv, "co-link", "1"),
        "user_1,user_2,weight\nfb_a,tw_b,1\nfb_d,fb_e,1\nfb_e,fb_d,1\ntw_b,fb_a,1\n"
    );
    assert_eq!(
        edges(&csv, "co-hashtag", "1"),
        "user_1,user_2,weight\nfb_a,tw_b,1\nfb_d,fb_e,1\nfb_e,fb_d,1\ntw_b,fb_a,1\n"
    );
    // phash ids mapped to `media` are keys; a media URL is not a hash.
    assert_eq!(
        edges(&csv, "co-media", "1"),
        "user_1,user_2,weight\nfb_a,tw_b,1\ntw_b,fb_a,1\n"
    );
}

#[test]
fn multimodal_weight_is_the_weighted_sum() {
    let (_dir, csv) = input();
    let kinds = "co-link:1,co-hashtag:0.5,co-media:2";
    // a↔b: 1 + 0.5 + 2 = 3.5; d↔e: 1 + 0.5 = 1.5 (two rows of one post).
    assert_eq!(
        edges(&csv, kinds, "1"),
        "user_1,user_2,weight\nfb_a,tw_b,3.5\nfb_d,fb_e,1.5\nfb_e,fb_d,1.5\ntw_b,fb_a,3.5\n"
    );
    // The minimum applies to the sum, inclusive.
    assert_eq!(
        edges(&csv, kinds, "3.5"),
        "user_1,user_2,weight\nfb_a,tw_b,3.5\ntw_b,fb_a,3.5\n"
    );
    assert_eq!(edges(&csv, kinds, "3.6"), "user_1,user_2,weight\n");
    // Weight defaults to 1; order does not matter.
    assert_eq!(
        edges(&csv, " co-hashtag , co-link ", "2"),
        "user_1,user_2,weight\nfb_a,tw_b,2\nfb_d,fb_e,2\nfb_e,fb_d,2\ntw_b,fb_a,2\n"
    );
    // One kind with a weight goes through the multi-modal sum.
    assert_eq!(
        edges(&csv, "co-media:2", "2"),
        "user_1,user_2,weight\nfb_a,tw_b,2\ntw_b,fb_a,2\n"
    );
}

#[test]
fn bad_kind_lists_are_refused() {
    let (dir, csv) = input();
    for (kind, why) in [
        ("co-link,co-url", "twice"),
        ("co-link:0", "above 0"),
        ("co-link:-1", "above 0"),
        ("co-link:x", "not a number"),
        ("co-link:1,co-nothing", "co-nothing"),
        (",", "empty"),
    ] {
        let out = run(&csv, kind, "1", &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "--kind {kind:?} was accepted");
        assert!(err.contains(why), "--kind {kind:?}: {err}");
    }
    let json = dir.path().join("r.json");
    let out = run(
        &csv,
        "co-link,co-hashtag",
        "1",
        &["--json", json.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("single --kind"));
}
