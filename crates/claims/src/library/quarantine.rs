//! The library's quarantine: records an import could not use.
//!
//! `DIR/quarantine.jsonl`, one JSON object a line, appended by every import:
//! `{"file", "format", "line"?, "record"?, "reason", "raw", "at"}` (the same
//! shape as the posts quarantine, plus the format).

use super::{ImportFormat, Rejected};
use serde_json::json;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Raw records are cut to this many bytes in the quarantine.
const RAW_MAX: usize = 64 * 1024;

/// Appends rejected records to a JSONL file and counts them by reason.
pub struct LibraryQuarantine {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    count: u64,
    by_reason: BTreeMap<String, u64>,
}

impl LibraryQuarantine {
    /// A quarantine writing to `path` (created at the first rejection).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        LibraryQuarantine {
            path: path.into(),
            out: None,
            count: 0,
            by_reason: BTreeMap::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn put(&mut self, file: &str, format: ImportFormat, r: &Rejected) -> io::Result<()> {
        if self.out.is_none() {
            if let Some(dir) = self.path.parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir)?;
            }
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?;
            self.out = Some(BufWriter::new(f));
        }
        let mut raw = r.raw.as_str();
        if raw.len() > RAW_MAX {
            let mut cut = RAW_MAX;
            while !raw.is_char_boundary(cut) {
                cut -= 1;
            }
            raw = &raw[..cut];
        }
        let mut v = json!({"file": file, "format": format, "reason": r.reason, "raw": raw});
        if let Some(l) = r.line {
            v["line"] = l.into();
        }
        if let Some(n) = r.record {
            v["record"] = n.into();
        }
        v["at"] = pharos_core::EventTime(now_ms()).to_rfc3339().into();
        let out = self.out.as_mut().expect("opened above");
        serde_json::to_writer(&mut *out, &v).map_err(io::Error::other)?;
        out.write_all(b"\n")?;
        self.count += 1;
        *self.by_reason.entry(reason_class(&r.reason)).or_default() += 1;
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        match self.out.as_mut() {
            Some(o) => o.flush(),
            None => Ok(()),
        }
    }

    /// Records written by this value.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Counts by reason class.
    pub fn by_reason(&self) -> &BTreeMap<String, u64> {
        &self.by_reason
    }
}

impl Drop for LibraryQuarantine {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// "missing claim text: ..." → "missing claim text".
pub(crate) fn reason_class(reason: &str) -> String {
    let cut = reason.find(':').unwrap_or(reason.len());
    reason[..cut].trim().to_string()
}
