//! Multi-modal directed networks on CooRTweet's `german_elections`
//! (Facebook and Twitter posts with url, hashtag, domain and perceptual-hash
//! ids): `--kind co-link:1,co-hashtag:0.5,co-media:2` is the weighted sum of
//! the single-kind networks, and links the two platforms.
//!
//! The data directory is `PHAROS_DATA`, or `../shared/data` beside the
//! workspace.
#![cfg(feature = "real-data")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const MAP: &str = "id=post_id,actor_id=account_id,time=timestamp,urls=url_id,\
                   hashtags=hashtag_id,media=phash_id";
const KINDS: &str = "co-link:1,co-hashtag:0.5,co-media:2";

type Edges = BTreeMap<(String, String), f64>;

fn data() -> PathBuf {
    let dir = std::env::var_os("PHAROS_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        });
    let path = dir.join("coortweet/german_elections.csv.gz");
    assert!(path.is_file(), "missing {}", path.display());
    path
}

/// Runs the directed method with `kind` and returns its edges.
fn network(input: &Path, out_dir: &Path, kind: &str, min: &str) -> Edges {
    let edges = out_dir.join(format!("{}-{min}.csv", kind.replace([':', ','], "_")));
    let out = Command::new(env!("CARGO_BIN_EXE_pharos"))
        .args(["coordination", "--input"])
        .arg(input)
        .args(["--format", "csv", "--map", MAP, "--method", "directed"])
        .args([
            "--kind",
            kind,
            "--time-window",
            "60",
            "--min-edge-weight",
            min,
        ])
        .arg("--edges-out")
        .arg(&edges)
        .output()
        .expect("run pharos");
    assert!(
        out.status.success(),
        "--kind {kind}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&edges).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("user_1,user_2,weight"));
    lines
        .map(|l| {
            let mut f = l.split(',');
            let (a, b, w) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
            ((a.to_string(), b.to_string()), w.parse().unwrap())
        })
        .collect()
}

fn cross_platform(e: &Edges) -> Vec<(&str, &str, f64)> {
    e.iter()
        .filter(|((a, b), _)| a[..3] != b[..3])
        .map(|((a, b), &w)| (a.as_str(), b.as_str(), w))
        .collect()
}

#[test]
fn german_elections_multimodal() {
    let input = data();
    let dir = tempfile::tempdir().unwrap();
    let multi = network(&input, dir.path(), KINDS, "2");

    // Each kind alone (every matched pair, minimum 1).
    let link = network(&input, dir.path(), "co-link", "1");
    let tag = network(&input, dir.path(), "co-hashtag", "1");
    let media = network(&input, dir.path(), "co-media", "1");
    assert_eq!((link.len(), tag.len(), media.len()), (5812, 6044, 2578));
    // Cross-platform pairs exist only through links (68) and hashtags (6).
    assert_eq!(cross_platform(&link).len(), 68);
    assert_eq!(cross_platform(&tag).len(), 6);
    assert_eq!(cross_platform(&media).len(), 0);

    // The multi-modal weight is the weighted sum, for every edge, and the
    // minimum applies to the sum.
    let mut want = Edges::new();
    for (layer, w) in [(&link, 1.0), (&tag, 0.5), (&media, 2.0)] {
        for (k, v) in layer {
            *want.entry(k.clone()).or_default() += w * v;
        }
    }
    want.retain(|_, w| *w >= 2.0);
    assert_eq!(multi, want);

    // Stable figures.
    assert_eq!(multi.len(), 4711);
    let users: std::collections::BTreeSet<&String> =
        multi.keys().flat_map(|(a, b)| [a, b]).collect();
    assert_eq!(users.len(), 1415);
    let in_all = multi
        .keys()
        .filter(|k| link.contains_key(*k) && tag.contains_key(*k) && media.contains_key(*k))
        .count();
    assert_eq!(in_all, 86);
    let key = |a: &str, b: &str| (a.to_string(), b.to_string());
    // 5 links + 0.5 × 1 hashtag + 2 × 3 media.
    assert_eq!(
        (
            link[&key("fb_11090", "fb_7548")],
            tag[&key("fb_11090", "fb_7548")]
        ),
        (5.0, 1.0)
    );
    assert_eq!(media[&key("fb_11090", "fb_7548")], 3.0);
    assert_eq!(multi[&key("fb_11090", "fb_7548")], 11.5);
    // Facebook and Twitter accounts are linked: 5 shared hashtags × 0.5.
    assert_eq!(
        cross_platform(&multi),
        vec![("fb_7103", "tw_46144", 2.5), ("tw_46144", "fb_7103", 2.5)]
    );

    // The single kinds at the same minimum, on the command line's own path.
    let link2 = network(&input, dir.path(), "co-link", "2");
    let mut want2 = link.clone();
    want2.retain(|_, w| *w >= 2.0);
    assert_eq!(link2, want2);
    assert_eq!(link2.len(), 2287);
    assert_eq!(network(&input, dir.path(), "co-media", "2").len(), 635);
}
