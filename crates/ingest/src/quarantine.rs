//! Quarantine: rejected records, kept so nothing is lost silently.
//!
//! One JSON object a line: `{"file", "line"?, "record"?, "reason", "raw", "at"}`.
//! The file is append-only; every ingest run adds to it.

use crate::Rejection;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Appends rejections to a JSONL file and counts them by reason.
pub struct Quarantine {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    count: u64,
    by_reason: BTreeMap<String, u64>,
}

impl Quarantine {
    /// A quarantine that writes to `path` (created on the first rejection).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Quarantine {
            path: path.into(),
            out: None,
            count: 0,
            by_reason: BTreeMap::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one rejection.
    pub fn put(&mut self, r: &Rejection) -> io::Result<()> {
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
        let out = self.out.as_mut().expect("opened above");
        let mut v = serde_json::to_value(r).map_err(io::Error::other)?;
        v["at"] = serde_json::Value::String(pharos_core::EventTime(now_ms()).to_rfc3339());
        serde_json::to_writer(&mut *out, &v).map_err(io::Error::other)?;
        out.write_all(b"\n")?;
        self.count += 1;
        *self.by_reason.entry(reason_class(&r.reason)).or_default() += 1;
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        if let Some(o) = self.out.as_mut() {
            o.flush()?;
        }
        Ok(())
    }

    /// Rejections written by this value.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Counts by reason class (the reason up to its first `:` or detail).
    pub fn by_reason(&self) -> &BTreeMap<String, u64> {
        &self.by_reason
    }
}

impl Drop for Quarantine {
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

/// Groups reasons for the summary: "bad JSON: expected value at line 1 column 5"
/// becomes "bad JSON".
pub fn reason_class(reason: &str) -> String {
    let cut = reason.find(':').unwrap_or(reason.len());
    reason[..cut].trim().to_string()
}
