//! PDQ parity with Meta's reference on real photographs (the second suite:
//! `--features real-data`, run by `.ci/run` after `.ci/media-parity`).
//!
//! `PHAROS_PDQ_SET` names a folder made by `.ci/media-parity`: one folder per
//! photograph (wallpapers from Debian packages) holding `original.jpg` and
//! seven transformed copies, and `reference.tsv`, the PyPI `pdqhash`'s hash
//! of every file (`tests/parity/oracle.py`). The test hashes the same files
//! and checks that ≥ 99 % are within 2 bits of the reference, and that recall
//! at distance 31 (transformed copy vs. its original) is, per
//! transformation, the reference's to within one image.
#![cfg(feature = "real-data")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pharos_media::PdqHash;

fn set_dir() -> PathBuf {
    let dir = std::env::var_os("PHAROS_PDQ_SET")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "PHAROS_PDQ_SET is not set: run `.ci/media-parity` (it builds the photo set from \
             Debian wallpaper packages and hashes it with the PyPI pdqhash) and export \
             PHAROS_PDQ_SET to the folder it prints"
            )
        });
    assert!(
        dir.join("reference.tsv").is_file(),
        "{}: no reference.tsv; run .ci/media-parity",
        dir.display()
    );
    dir
}

#[test]
fn parity_and_recall_against_pdqhash_on_real_photographs() {
    let dir = set_dir();
    let text = std::fs::read_to_string(dir.join("reference.tsv")).unwrap();
    let reference: Vec<(String, PdqHash, u8)> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 3, "reference.tsv: bad line {l:?}");
            (
                f[0].to_string(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
            )
        })
        .collect();
    assert!(
        reference.len() >= 200,
        "only {} images in the set",
        reference.len()
    );
    let paths: Vec<PathBuf> = reference.iter().map(|(f, _, _)| dir.join(f)).collect();
    let ours = pharos_media::scan::hash_files(&paths, false);

    let mut within2 = 0;
    let mut worst = 0;
    let mut quality_off = 0;
    // photo -> transformation -> (ours, reference)
    let mut by_photo: BTreeMap<String, BTreeMap<String, (PdqHash, PdqHash)>> = BTreeMap::new();
    for ((file, want, q), got) in reference.iter().zip(ours) {
        let got = got.unwrap_or_else(|e| panic!("{e}"));
        let d = got.hash.distance(want);
        worst = worst.max(d);
        if d <= 2 {
            within2 += 1;
        }
        if got.quality.abs_diff(*q) > 1 {
            quality_off += 1;
        }
        let p = Path::new(file);
        let photo = p.parent().unwrap().display().to_string();
        let t = p.file_stem().unwrap().to_string_lossy().to_string();
        by_photo
            .entry(photo)
            .or_default()
            .insert(t, (got.hash, *want));
    }
    let n = reference.len();
    let share = within2 as f64 / n as f64;
    eprintln!(
        "parity: {within2}/{n} images ({:.1} %) within 2 bits of pdqhash; largest distance {worst}; \
         quality off by more than 1 on {quality_off}",
        share * 100.0
    );

    let mut recall: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for (photo, ts) in &by_photo {
        let (o_ours, o_ref) = ts
            .get("original")
            .unwrap_or_else(|| panic!("{photo}: no original.jpg"));
        for (t, (ours, refh)) in ts.iter().filter(|(t, _)| *t != "original") {
            let e = recall.entry(t.clone()).or_default();
            e.0 += 1;
            e.1 += usize::from(ours.distance(o_ours) <= 31);
            e.2 += usize::from(refh.distance(o_ref) <= 31);
        }
    }
    eprintln!("recall at distance 31 (transformed vs original), pharos / pdqhash:");
    for (t, (n, a, b)) in &recall {
        eprintln!("  {t:<12} {a:>3}/{n}  {b:>3}/{n}");
    }
    assert!(share >= 0.99, "only {:.1} % within 2 bits", share * 100.0);
    for (t, (_, a, b)) in &recall {
        assert!(a + 1 >= *b, "{t}: recall {a} against the reference's {b}");
    }
}
