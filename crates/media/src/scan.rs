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

/// [`crate::inspect`] of each file, in parallel, in order.
pub fn inspect_files(paths: &[PathBuf]) -> Vec<Result<crate::Inspection, crate::InspectError>> {
    paths.par_iter().map(|p| crate::inspect(p)).collect()
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

/// Why a media reference of a post was not resolved to a file under the
/// scan's root. References come from the data (an adversary may write them),
/// so anything that could leave the root is refused, never followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    #[error("empty reference")]
    Empty,
    /// `http://...`: a remote file (`--fetch` downloads those).
    #[error("remote reference (not a local file)")]
    Remote,
    #[error("refused: an absolute path; media paths must be relative to the root")]
    Absolute,
    #[error("refused: `..` in the path would leave the root")]
    ParentDir,
    #[error("refused: the path contains a NUL or control character")]
    Control,
    #[error("refused: resolves outside the root {root} (a symbolic link?)")]
    Escapes { root: String },
    #[error("no such file under the root")]
    Missing,
    #[error("not a regular file")]
    NotAFile,
    #[error("{0}")]
    Io(String),
}

/// Whether a media reference names a remote resource (`scheme://...`).
pub fn is_remote(reference: &str) -> bool {
    match reference.split_once("://") {
        Some((scheme, _)) => {
            !scheme.is_empty()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        }
        None => false,
    }
}

/// Resolves a post's media reference to a file under `root` (which must be
/// canonical: [`std::fs::canonicalize`]d). Refused: absolute paths (also
/// `C:` and `\\` forms), any `..` component, control characters, and
/// anything whose resolved form (symbolic links followed) is not inside
/// `root`. Backslashes are read as separators (exports written on Windows).
pub fn resolve_under(root: &Path, reference: &str) -> Result<PathBuf, RefError> {
    use std::path::Component;
    let r = reference.trim();
    if r.is_empty() {
        return Err(RefError::Empty);
    }
    if is_remote(r) {
        return Err(RefError::Remote);
    }
    if r.chars().any(char::is_control) {
        return Err(RefError::Control);
    }
    let r = r.replace('\\', "/");
    let bytes = r.as_bytes();
    if r.starts_with('/') || (bytes.len() >= 2 && bytes[1] == b':') {
        return Err(RefError::Absolute);
    }
    let rel = Path::new(&r);
    for c in rel.components() {
        match c {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => return Err(RefError::ParentDir),
            Component::RootDir | Component::Prefix(_) => return Err(RefError::Absolute),
        }
    }
    let joined = root.join(rel);
    let real = match std::fs::canonicalize(&joined) {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(RefError::Missing),
        Err(e) => return Err(RefError::Io(e.to_string())),
    };
    if !real.starts_with(root) {
        return Err(RefError::Escapes {
            root: root.display().to_string(),
        });
    }
    if !real.is_file() {
        return Err(RefError::NotAFile);
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_that_leave_the_root_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("export");
        std::fs::create_dir_all(root.join("photos")).unwrap();
        std::fs::write(root.join("photos/a.jpg"), b"x").unwrap();
        std::fs::write(dir.path().join("secret.jpg"), b"s").unwrap();
        let root = std::fs::canonicalize(&root).unwrap();

        assert_eq!(
            resolve_under(&root, "photos/a.jpg").unwrap(),
            root.join("photos/a.jpg")
        );
        assert_eq!(
            resolve_under(&root, "./photos\\a.jpg").unwrap(),
            root.join("photos/a.jpg")
        );
        assert_eq!(
            resolve_under(&root, "../secret.jpg"),
            Err(RefError::ParentDir)
        );
        assert_eq!(
            resolve_under(&root, "photos/../../secret.jpg"),
            Err(RefError::ParentDir)
        );
        assert_eq!(
            resolve_under(&root, "..\\secret.jpg"),
            Err(RefError::ParentDir)
        );
        let abs = dir.path().join("secret.jpg").display().to_string();
        assert_eq!(resolve_under(&root, &abs), Err(RefError::Absolute));
        assert_eq!(resolve_under(&root, "C:/x.jpg"), Err(RefError::Absolute));
        assert_eq!(
            resolve_under(&root, "photos/a\0.jpg"),
            Err(RefError::Control)
        );
        assert_eq!(
            resolve_under(&root, "https://e.example/a.jpg"),
            Err(RefError::Remote)
        );
        assert_eq!(
            resolve_under(&root, "photos/none.jpg"),
            Err(RefError::Missing)
        );
        assert_eq!(resolve_under(&root, "photos"), Err(RefError::NotAFile));
        assert_eq!(resolve_under(&root, " "), Err(RefError::Empty));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret.jpg"), root.join("link.jpg"))
                .unwrap();
            std::os::unix::fs::symlink(dir.path(), root.join("up")).unwrap();
            assert!(matches!(
                resolve_under(&root, "link.jpg"),
                Err(RefError::Escapes { .. })
            ));
            assert!(matches!(
                resolve_under(&root, "up/secret.jpg"),
                Err(RefError::Escapes { .. })
            ));
            // A link that stays inside the root is followed.
            std::os::unix::fs::symlink(root.join("photos/a.jpg"), root.join("in.jpg")).unwrap();
            assert_eq!(
                resolve_under(&root, "in.jpg").unwrap(),
                root.join("photos/a.jpg")
            );
        }
    }
}
