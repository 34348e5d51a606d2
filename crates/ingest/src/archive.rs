//! Archives: `.tar`, `.tar.gz` / `.tgz` and `.zip` files read as the files
//! they hold (a zipped Telegram Desktop export folder, a tarball of
//! channel dumps), streamed entry by entry: nothing is extracted to disk.
//!
//! Each inner file is read like a file given on the command line (its
//! format detected from its name and first bytes, or the one named with
//! `--format`; an inner `.gz` is decompressed), and is named
//! `archive.tgz!inner/file.json` in provenance and quarantine records.
//!
//! Bounds ([`Limits`]), because archives come from outside:
//! - at most `max_entries` entries are looked at; the rest of the archive is
//!   not read (one quarantine record says so);
//! - an inner file larger than `max_entry_bytes` (by its header, or found
//!   while reading it, since zip headers can lie) is not read further;
//! - at most `max_total_bytes` are read from one archive (zip bombs);
//! - entry paths that are absolute, climb out with `..`, hold NUL or are
//!   longer than `max_path_bytes` are refused and quarantined (nothing is
//!   written anywhere, but such a name is a sign of a hostile archive and
//!   would mislead whoever extracts it);
//! - links, devices and other non-regular entries are quarantined, not
//!   followed; archives inside the archive are quarantined, not opened;
//! - photos, videos, voice notes, stickers and web pages (the media of a
//!   Telegram Desktop export) are skipped without a record: they hold no
//!   posts.

use crate::{Format, IngestError, Item, Options, Rejection, Sink};
use flate2::read::MultiGzDecoder;
use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Component, Path};

/// The archive kinds Pharos reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Tar,
    TarGz,
    Zip,
}

/// The archive kind of `path`, from its name (`.tar`, `.tar.gz`, `.tgz`, `.zip`).
pub fn kind(path: &Path) -> Option<Kind> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".tar") {
        Some(Kind::Tar)
    } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        Some(Kind::TarGz)
    } else if name.ends_with(".zip") {
        Some(Kind::Zip)
    } else {
        None
    }
}

/// How much of an archive is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Entries looked at (default 100,000).
    pub max_entries: u64,
    /// Bytes of one inner file, uncompressed (default 2 GiB).
    pub max_entry_bytes: u64,
    /// Bytes read from the whole archive, uncompressed (default 32 GiB).
    pub max_total_bytes: u64,
    /// Length of an entry's path (default 1,024 bytes).
    pub max_path_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 100_000,
            max_entry_bytes: 2 << 30,
            max_total_bytes: 32 << 30,
            max_path_bytes: 1024,
        }
    }
}

/// Extensions of files that hold no posts (media and web pages of exports).
const SKIPPED: &[&str] = &[
    "jpg", "jpeg", "png", "gif", "webp", "bmp", "heic", "svg", "ico", "mp4", "mov", "webm", "mkv",
    "avi", "ogg", "oga", "opus", "mp3", "m4a", "wav", "tgs", "html", "htm", "css", "js", "pdf",
    "ds_store",
];

/// Archives inside archives are not opened.
fn nested(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [".zip", ".tar", ".tgz", ".tar.gz", ".7z", ".rar"]
        .iter()
        .any(|e| n.ends_with(e))
}

fn skipped(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    let n = base.to_ascii_lowercase();
    let n = n.strip_suffix(".gz").unwrap_or(&n);
    n == ".ds_store"
        || n.rsplit_once('.')
            .is_some_and(|(_, ext)| SKIPPED.contains(&ext))
}

/// Why an entry's path is refused, if it is.
fn unsafe_path(name: &str, max: usize) -> Option<String> {
    if name.len() > max {
        return Some(format!(
            "entry path is {} bytes long (limit {max})",
            name.len()
        ));
    }
    if name.contains('\0') {
        return Some("entry path holds a NUL byte".into());
    }
    if name.starts_with('/') || name.starts_with('\\') || name.get(1..3) == Some(":\\") {
        return Some("entry path is absolute (path traversal)".into());
    }
    let p = Path::new(name);
    if p.components().any(|c| {
        matches!(
            c,
            Component::ParentDir | Component::RootDir | Component::Prefix(_)
        )
    }) || name.split(['/', '\\']).any(|s| s == "..")
    {
        return Some("entry path climbs out with `..` (path traversal)".into());
    }
    None
}

/// Counts the bytes read from an entry and fails past a limit.
struct Limited<'c, R> {
    inner: R,
    read: &'c Cell<u64>,
    max: u64,
}

impl<R: Read> Read for Limited<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        if self.read.get() > self.max {
            return Err(io::Error::other(format!(
                "entry is larger than the limit of {} bytes (uncompressed); the rest is not read",
                self.max
            )));
        }
        Ok(n)
    }
}

/// The reading state shared by the archive kinds.
struct Reader<'a, 'b> {
    archive: String,
    opts: &'a Options,
    limits: &'a Limits,
    sink: &'a mut Sink<'b>,
    total: u64,
    entries: u64,
    stopped: bool,
}

impl Reader<'_, '_> {
    fn reject(&mut self, inner: Option<&str>, reason: String) {
        let file = match inner {
            Some(i) => format!("{}!{i}", self.archive),
            None => self.archive.clone(),
        };
        if (self.sink)(Item::Rejected(Rejection::new(
            &file, None, None, reason, "",
        )))
        .is_break()
        {
            self.stopped = true;
        }
    }

    /// Looks at one entry; `false` once the archive must not be read further.
    fn entry(
        &mut self,
        name: &str,
        regular: bool,
        dir: bool,
        size: u64,
        body: &mut dyn Read,
    ) -> bool {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            self.reject(
                None,
                format!(
                    "archive has more than {} entries; the rest is not read",
                    self.limits.max_entries
                ),
            );
            return false;
        }
        if let Some(why) = unsafe_path(name, self.limits.max_path_bytes) {
            let shown: String = name.chars().take(200).collect();
            self.reject(Some(&shown), format!("{why}; entry not read"));
            return !self.stopped;
        }
        if dir {
            return true;
        }
        if !regular {
            self.reject(
                Some(name),
                "not a regular file (a link or device); not followed".into(),
            );
            return !self.stopped;
        }
        if skipped(name) {
            tracing::debug!("{}!{name}: media or web page, skipped", self.archive);
            return true;
        }
        if nested(name) {
            self.reject(
                Some(name),
                "an archive inside the archive; extract it and ingest it on its own".into(),
            );
            return !self.stopped;
        }
        if size > self.limits.max_entry_bytes {
            self.reject(
                Some(name),
                format!(
                    "entry is {size} bytes, over the limit of {} bytes; not read",
                    self.limits.max_entry_bytes
                ),
            );
            return !self.stopped;
        }
        let left = self.limits.max_total_bytes.saturating_sub(self.total);
        if size > left {
            self.reject(
                None,
                format!(
                    "archive holds more than {} bytes uncompressed; the rest is not read",
                    self.limits.max_total_bytes
                ),
            );
            return false;
        }
        let source = format!("{}!{name}", self.archive);
        let counted = Cell::new(0u64);
        let max = self.limits.max_entry_bytes.min(left);
        // The limit counts what the format reader gets: the bytes after
        // decompression (a zip entry's, or an inner `.gz`'s).
        let inner: Box<dyn Read + '_> = if name.to_ascii_lowercase().ends_with(".gz") {
            Box::new(MultiGzDecoder::new(body))
        } else {
            Box::new(body)
        };
        let limited = Limited {
            inner,
            read: &counted,
            max,
        };
        let inner_path = Path::new(name);
        let mut reader: Box<dyn BufRead + '_> =
            Box::new(BufReader::with_capacity(1 << 20, limited));
        let opts = self.opts;
        let format = match opts.format {
            Format::Auto => match crate::detect::detect(inner_path, &mut reader) {
                Ok(f) => f,
                Err(why) => {
                    self.reject(
                        Some(name),
                        format!("cannot tell the format ({why}); name it with --format"),
                    );
                    return !self.stopped;
                }
            },
            f => f,
        };
        let mut stopped = false;
        let mut wrapped = |item: Item| {
            let flow = (self.sink)(item);
            stopped |= flow.is_break();
            flow
        };
        let res = crate::read_reader(&mut reader, &source, format, opts, &mut wrapped);
        // Count what the format reader consumed, and drain the rest of the
        // entry so the limit on the whole archive sees it.
        let mut rest = [0u8; 8192];
        if !stopped {
            while let Ok(n) = reader.read(&mut rest) {
                if n == 0 {
                    break;
                }
            }
        }
        drop(reader);
        self.total += counted.get();
        if let Err(e) = res {
            self.reject(Some(name), e.to_string());
        }
        self.stopped |= stopped;
        !self.stopped
    }
}

/// Reads every inner file of the archive at `path` (of kind `kind`) into `sink`.
pub fn read(
    path: &Path,
    kind: Kind,
    opts: &Options,
    limits: &Limits,
    sink: &mut Sink<'_>,
) -> Result<(), IngestError> {
    let name = path.display().to_string();
    let open = || {
        std::fs::File::open(path).map_err(|source| IngestError::Open {
            path: name.clone(),
            source,
        })
    };
    let mut r = Reader {
        archive: name.clone(),
        opts,
        limits,
        sink,
        total: 0,
        entries: 0,
        stopped: false,
    };
    match kind {
        Kind::Tar => read_tar(BufReader::new(open()?), &mut r),
        Kind::TarGz => read_tar(MultiGzDecoder::new(BufReader::new(open()?)), &mut r),
        Kind::Zip => read_zip(open()?, &mut r).map_err(|why| IngestError::Archive {
            path: name.clone(),
            why,
        })?,
    }
    Ok(())
}

fn read_tar(input: impl Read, r: &mut Reader<'_, '_>) {
    let mut archive = tar::Archive::new(input);
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => return r.reject(None, format!("not a readable tar archive: {e}")),
    };
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                return r.reject(
                    None,
                    format!("tar archive is corrupt or cut here: {e}; the rest is not read"),
                );
            }
        };
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        let size = entry.header().size().unwrap_or(u64::MAX);
        let (regular, dir) = (
            kind.is_file() || kind == tar::EntryType::Continuous,
            kind.is_dir(),
        );
        if kind.is_pax_global_extensions()
            || kind.is_pax_local_extensions()
            || kind.is_gnu_longname()
        {
            continue;
        }
        if !r.entry(&name, regular, dir, size, &mut entry) {
            return;
        }
    }
}

fn read_zip(file: std::fs::File, r: &mut Reader<'_, '_>) -> Result<(), String> {
    let mut archive = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| format!("not a readable zip archive: {e}"))?;
    for i in 0..archive.len() {
        let listed = archive
            .name_for_index(i)
            .and_then(Result::ok)
            .map_or_else(|| format!("entry {i}"), |n| n.into_owned());
        let mut entry = match archive.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                r.reject(Some(&listed), format!("cannot read this entry: {e}"));
                if r.stopped {
                    return Ok(());
                }
                continue;
            }
        };
        let name = match entry.name() {
            Ok(n) => n.into_owned(),
            Err(e) => {
                r.reject(None, format!("entry {i}: unreadable name: {e}"));
                if r.stopped {
                    return Ok(());
                }
                continue;
            }
        };
        let dir = entry.is_dir();
        let regular = entry.is_file() && !entry.is_symlink();
        let size = entry.size();
        if !r.entry(&name, regular, dir, size, &mut entry) {
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name() {
        assert_eq!(kind(Path::new("a/x.tar")), Some(Kind::Tar));
        assert_eq!(kind(Path::new("X.TGZ")), Some(Kind::TarGz));
        assert_eq!(kind(Path::new("x.tar.gz")), Some(Kind::TarGz));
        assert_eq!(kind(Path::new("export.zip")), Some(Kind::Zip));
        assert_eq!(kind(Path::new("x.jsonl.gz")), None);
    }

    #[test]
    fn unsafe_paths_are_named() {
        assert!(unsafe_path("../etc/passwd", 1024).is_some());
        assert!(unsafe_path("a/../../b", 1024).is_some());
        assert!(unsafe_path("/etc/passwd", 1024).is_some());
        assert!(unsafe_path("C:\\x", 1024).is_some());
        assert!(unsafe_path(&"a".repeat(2000), 1024).is_some());
        assert!(unsafe_path("export/result.json", 1024).is_none());
        assert!(unsafe_path("a..b/c", 1024).is_none());
    }

    #[test]
    fn media_is_skipped() {
        assert!(skipped("ChatExport/photos/photo_1.jpg"));
        assert!(skipped("ChatExport/messages.html"));
        assert!(!skipped("ChatExport/result.json"));
        assert!(nested("inner/x.tar.gz"));
    }
}
