//! Hashing many files: walking a folder for images, hashing them in
//! parallel, and finding the near-duplicate pairs among them.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::{Index, PdqHash, decode, pdq};

/// A hashed image file.
#[derive(Debug, Clone)]
pub struct Hashed {
    pub path: String,
    pub hash: PdqHash,
    pub quality: u8,
    /// The eight rotations and mirrors, when asked for.
    pub dihedral: Option<[PdqHash; 8]>,
}

/// Image files (by extension: jpg, jpeg, png, webp, gif) under `dir`,
/// recursively, sorted by path. Symbolic links to folders are not followed
/// (no cycles); unreadable folders are reported through `on_error` and skipped.
pub fn image_files(dir: &Path, on_error: &mut dyn FnMut(String)) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) => {
                on_error(format!("{}: {e}", d.display()));
                continue;
            }
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                stack.push(path);
            } else if decode::is_image_path(&path) && (kind.is_file() || path.is_file()) {
                out.push(path);
            }
        }
    }
    out.sort_by(|a, b| a.to_string_lossy().cmp(&b.to_string_lossy()));
    out
}

/// Hash files in parallel; each result names its file.
pub fn hash_files(paths: &[PathBuf], dihedral: bool) -> Vec<Result<Hashed, String>> {
    paths
        .par_iter()
        .map(|p| {
            let name = p.display().to_string();
            let rgb = decode::decode_file(p).map_err(|e| format!("{name}: {e}"))?;
            let mut luma = Vec::new();
            pdq::luma_from_rgb(&rgb.pixels, &mut luma);
            drop(rgb.pixels);
            let (rows, cols) = (rgb.height as usize, rgb.width as usize);
            if dihedral {
                let (all, quality) = pdq::hash_luma_dihedral(&mut luma, rows, cols);
                Ok(Hashed {
                    path: name,
                    hash: all[0],
                    quality,
                    dihedral: Some(all),
                })
            } else {
                let p = pdq::hash_luma(&mut luma, rows, cols);
                Ok(Hashed {
                    path: name,
                    hash: p.hash,
                    quality: p.quality,
                    dihedral: None,
                })
            }
        })
        .collect()
}

/// A near-duplicate pair (`a < b` as strings).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Pair {
    pub a: String,
    pub b: String,
    pub distance: u32,
}

/// All pairs within `distance`. With dihedral hashes, a pair's distance is
/// the smallest over the eight rotations and mirrors of the first image.
pub fn pairs(images: &[Hashed], distance: u32) -> Vec<Pair> {
    let index = Index::new(images.iter().map(|h| h.hash).collect());
    let raw: Vec<(u32, u32, u32)> = if images.iter().all(|h| h.dihedral.is_some()) {
        let mut best = std::collections::HashMap::<(u32, u32), u32>::new();
        let mut hits = Vec::new();
        for (i, img) in images.iter().enumerate() {
            for v in img.dihedral.iter().flatten() {
                index.query_into(v, distance, &mut hits);
                for h in &hits {
                    if h.id as usize == i {
                        continue;
                    }
                    let key = (i.min(h.id as usize) as u32, i.max(h.id as usize) as u32);
                    let e = best.entry(key).or_insert(h.distance);
                    *e = (*e).min(h.distance);
                }
            }
        }
        best.into_iter().map(|((a, b), d)| (a, b, d)).collect()
    } else {
        index.pairs(distance)
    };
    let mut out: Vec<Pair> = raw
        .into_iter()
        .map(|(i, j, d)| {
            let (a, b) = (&images[i as usize].path, &images[j as usize].path);
            let (a, b) = if a <= b { (a, b) } else { (b, a) };
            Pair {
                a: a.clone(),
                b: b.clone(),
                distance: d,
            }
        })
        .collect();
    out.sort_by(|x, y| (&x.a, &x.b).cmp(&(&y.a, &y.b)));
    out
}
